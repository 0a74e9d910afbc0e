/*
 * node_metric.h: what the node kernel tests share to read the kernel's
 * metrics (include/cardinal/node.h "Metrics"; docs/node.md "Metrics").
 */
#ifndef CARDINAL_TEST_NODE_METRIC_H
#define CARDINAL_TEST_NODE_METRIC_H

#include <stdio.h>
#include <string.h>

#include "cardinal/node.h"

/* Whether |n|'s metrics text holds the line "name want". */
static inline bool node_metric_is(const cdl_node *n, const char *name, uint64_t want) {
  cdl_buf text;
  cdl_buf_init(&text, 0);
  cdl_node_metrics_text(n, &text);
  cdl_buf_append(&text, "", 1);
  char line[160];
  snprintf(line, sizeof line, "\n%s %llu\n", name, (unsigned long long)want);
  bool found = !text.failed && strstr((const char *)text.data, line) != NULL;
  cdl_buf_free(&text);
  return found;
}

#endif
