/*
 * node_main.h: what the commands of cardinal-node share (docs/node.md):
 * exit codes, number options and the handshake versions offered.
 */
#ifndef CARDINAL_NODE_MAIN_H
#define CARDINAL_NODE_MAIN_H

#include <stdbool.h>

#include "cardinal/net.h"

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

/* A decimal in [0, max]. */
bool node_parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* Node-to-node 7..15: what current tools propose (15 takes the v14
 * data); node-to-client 9..23: every version whose data we decode. */
cdl_hs_config node_hs_config(bool node_to_client, uint32_t magic);
/* Exit code for an error code: 3 for I/O and memory, else 1. */
int node_exit_code(int rc);

int node_serve(int argc, char **argv);
int node_run(int argc, char **argv);

#endif
