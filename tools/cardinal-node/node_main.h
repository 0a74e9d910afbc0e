/*
 * node_main.h: what the commands of cardinal-node share (docs/node.md):
 * exit codes, option parsing (argp) and the line printed once ready.
 */
#ifndef CARDINAL_NODE_MAIN_H
#define CARDINAL_NODE_MAIN_H

#include <stdbool.h>

#include "cardinal/log.h"
#include "cardinal/storage.h"

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

struct argp;
struct argp_state;
/* Parses a command's argv (argv[0] "cardinal-node CMD") with |ap| into
 * |input|: --help prints usage, every option with its default and the
 * example, exit 0; --version prints version and commit, exit 0; a bad or
 * missing option is named on stderr, exit 2 (EXIT_USAGE). EXIT_OK when
 * parsing went on. */
int node_args_parse(const struct argp *ap, int argc, char **argv, void *input);
/* For an argp parser: |arg| as a decimal in [min, max], or a usage error
 * naming |option| (exit 2). */
unsigned long node_arg_ulong(struct argp_state *state, const char *option, const char *arg,
                             unsigned long min, unsigned long max);
/* --log-level's value (cardano-node's severities, any case), or a usage
 * error naming it. */
cdl_log_level node_arg_log_level(struct argp_state *state, const char *arg);
/* --max-connections, --max-local-connections and --write-timeout (each 0
 * when not given: the driver's default), a child parser whose input is a
 * node_limits (set state->child_inputs[i] at ARGP_KEY_INIT). */
typedef struct node_limits {
  unsigned long max_connections, max_local, write_timeout;
} node_limits;
extern const struct argp NODE_LIMITS_ARGP;
/* The line a node prints on stdout once listening, so scripts can use
 * --port 0: {"port", "socket", ["metrics_port" when >= 0,] "tip"}. */
void node_print_ready(uint16_t port, const char *socket_path, long metrics_port,
                      cdl_chaindb *db);
/* Exit code for an error code: 3 for I/O and memory, else 1. */
int node_exit_code(int rc);

int node_serve(int argc, char **argv);
int node_run(int argc, char **argv);

#endif
