/*
 * cardinal/log.h: structured logs (docs/design.md section 4, "Logging").
 * One JSON object per line: {"at", "level", "component", "event", "msg"},
 * written whole with one fwrite so lines from several sources never mix.
 */
#ifndef CARDINAL_LOG_H
#define CARDINAL_LOG_H

#include <stdio.h>

#include "cardinal/base.h"

typedef enum cdl_log_level {
  CDL_LOG_DEBUG = 0,
  CDL_LOG_INFO = 1,
  CDL_LOG_WARN = 2,
  CDL_LOG_ERROR = 3
} cdl_log_level;

typedef struct cdl_logger {
  FILE *out;         /* NULL: logging off */
  cdl_log_level min; /* lines below this level are dropped */
} cdl_logger;

const char *cdl_log_level_name(cdl_log_level level);
/* Parses "debug", "info", "warn" or "error". */
bool cdl_log_level_parse(const char *text, cdl_log_level *out);
/* |event| is a stable dotted name ("conn.closed"); the message is
 * free text, escaped here. */
void cdl_log(const cdl_logger *lg, cdl_log_level level, const char *component, const char *event,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* CARDINAL_LOG_H */
