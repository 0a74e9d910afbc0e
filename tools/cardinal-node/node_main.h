/*
 * node_main.h: what the commands of cardinal-node share (docs/node.md):
 * exit codes, usage and number options.
 */
#ifndef CARDINAL_NODE_MAIN_H
#define CARDINAL_NODE_MAIN_H

#include <stdbool.h>

#include "cardinal/storage.h"

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

/* Prints why and the usage on stderr; returns EXIT_USAGE. */
int node_usage(const char *why);
/* A decimal in [0, max]. */
bool node_parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* The line a node prints on stdout once listening, so scripts can use
 * --port 0: {"port", "socket", ["metrics_port" when >= 0,] "tip"}. */
void node_print_ready(uint16_t port, const char *socket_path, long metrics_port,
                      cdl_chaindb *db);
/* Exit code for an error code: 3 for I/O and memory, else 1. */
int node_exit_code(int rc);

int node_serve(int argc, char **argv);
int node_run(int argc, char **argv);

#endif
