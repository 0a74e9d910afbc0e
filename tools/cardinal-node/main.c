/*
 * main.c: cardinal-node (docs/node.md): the list of its commands
 * (`cardinal-node --help`), the helpers they share and the dispatch to
 * them: `run` (run.c), the node itself, and `serve` (serve.c), a node
 * without peers or forger over an existing database. Their options and
 * --help are glibc's argp (docs/design.md "Dependencies"), set up here:
 * --help exits 0, --version prints version and commit, a bad option is
 * named, exit 2. Exit codes as cardinal-cli's: 0 ok, 1 bad input,
 * 2 usage, 3 I/O.
 */
#include <argp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "node_main.h"
#include "cardinal/version.h"

/* One command of cardinal-node; |run| gets argv with argv[0] its full
 * name ("cardinal-node run"), for its argp parser. */
typedef struct node_command {
  const char *name, *synopsis, *summary;
  int (*run)(int argc, char **argv);
} node_command;

static const node_command COMMANDS[] = {
    {"run",
     "--config FILE --topology FILE --database-path DIR\n"
     "      --socket-path FILE [OPTION...]",
     "a node: follows its peers, serves, relays transactions, forges", node_run},
    {"serve", "--db DIR [OPTION...]", "a node without peers or forger over a database",
     node_serve}};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_commands(FILE *out) {
  fputs("Usage: cardinal-node COMMAND [OPTION...]\n"
        "       cardinal-node COMMAND --help   its options, their defaults, an example\n"
        "       cardinal-node --version | --help\n\nCommands:\n",
        out);
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-6s %s\n    cardinal-node %s %s\n", COMMANDS[i].name, COMMANDS[i].summary,
            COMMANDS[i].name, COMMANDS[i].synopsis);
  fputs("\nMetrics (run): Prometheus text where config.json's hasPrometheus [\"HOST\", PORT]\n"
        "says, --metrics-port/--metrics-host overriding each part; a config without\n"
        "hasPrometheus and no --metrics-port has no metrics endpoint, and --metrics-port 0\n"
        "turns it off even when the config names one.\n"
        "Logs: JSON lines on stderr (or --log-file). Stops cleanly on SIGINT or SIGTERM.\n"
        "Exit codes: 0 stopped by a signal, 1 bad input (a config, a key, a genesis hash),\n"
        "2 usage, 3 I/O (the disk failed, a port is taken, a file is missing).\n",
        out);
}

/* ---- The argp setup the commands share (docs/node.md "Running a node") -- */

static void print_version(FILE *out, struct argp_state *state) {
  (void)state;
  fprintf(out, "cardinal-node %s (commit %s)\n", CDL_VERSION, CDL_GIT_COMMIT);
}

int node_args_parse(const struct argp *ap, int argc, char **argv, void *input) {
  argp_err_exit_status = EXIT_USAGE; /* a bad option: usage, exit 2, the option named */
  argp_program_version_hook = print_version;
  return argp_parse(ap, argc, argv, 0, NULL, input) == 0 ? EXIT_OK : EXIT_USAGE;
}

unsigned long node_arg_ulong(struct argp_state *state, const char *option, const char *arg,
                             unsigned long min, unsigned long max) {
  char *end = NULL;
  unsigned long v = strtoul(arg, &end, 10);
  if (end == arg || *end != '\0' || arg[0] == '-' || arg[0] == '+' || v < min || v > max)
    argp_error(state, "%s: '%s' is not a whole number from %lu to %lu", option, arg, min, max);
  return v;
}

cdl_log_level node_arg_log_level(struct argp_state *state, const char *arg) {
  cdl_log_level level = CDL_LOG_INFO;
  if (!cdl_log_level_parse(arg, &level))
    argp_error(state, "--log-level: '%s' is not Debug, Info, Notice, Warning, Error or Critical",
               arg);
  return level;
}

/* The connection limits run and serve share, a child parser. */
enum { O_MAX_CONNECTIONS = 0x4c00, O_MAX_LOCAL, O_WRITE_TIMEOUT };

static const struct argp_option LIMIT_OPTIONS[] = {
    {"max-connections", O_MAX_CONNECTIONS, "N", 0,
     "inbound node-to-node connections at most, up to 100000, cut to fit the descriptor limit "
     "(default: 256)", 0},
    {"max-local-connections", O_MAX_LOCAL, "N", 0,
     "node-to-client connections at most, up to 100000, cut likewise (default: 64)", 0},
    {"write-timeout", O_WRITE_TIMEOUT, "SECONDS", 0,
     "close a connection whose writes make no progress this long, 1 to 86400 (default: 30)", 0},
    {0}};

static error_t limit_option(int key, char *arg, struct argp_state *state) {
  node_limits *l = state->input;
  switch (key) {
  case O_MAX_CONNECTIONS:
    l->max_connections = node_arg_ulong(state, "--max-connections", arg, 0, 100000);
    return 0;
  case O_MAX_LOCAL:
    l->max_local = node_arg_ulong(state, "--max-local-connections", arg, 0, 100000);
    return 0;
  case O_WRITE_TIMEOUT:
    l->write_timeout = node_arg_ulong(state, "--write-timeout", arg, 1, 86400);
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

const struct argp NODE_LIMITS_ARGP = {LIMIT_OPTIONS, limit_option, NULL, NULL, NULL, NULL, NULL};

void node_print_ready(uint16_t port, const char *socket_path, long metrics_port,
                      cdl_chaindb *db) {
  cdl_block_info tip;
  char hash[65] = "", metrics[40] = "";
  bool has = cdl_chaindb_tip(db, &tip);
  if (has) cdl_hex_encode(tip.hash, 32, hash);
  if (metrics_port >= 0) snprintf(metrics, sizeof metrics, "\"metrics_port\":%ld,", metrics_port);
  printf("{\"port\":%u,\"socket\":\"%s\",%s\"tip\":{\"slot\":%" PRIu64 ",\"block_no\":%" PRIu64
         ",\"hash\":\"%s\"}}\n",
         port, socket_path ? socket_path : "", metrics, has ? tip.slot : 0, has ? tip.block_no : 0,
         hash);
  fflush(stdout);
}

int node_exit_code(int rc) {
  return rc == CDL_E_IO || rc == CDL_E_NOMEM || rc == CDL_E_LOCKED || rc == CDL_E_MISSING
             ? EXIT_IO
             : EXIT_INVALID;
}

int main(int argc, char **argv) {
  /* A peer gone mid-write costs its connection (EPIPE), never the process. */
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    print_version(stdout, NULL);
    return EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_commands(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  const node_command *cmd = NULL;
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(argv[1], COMMANDS[i].name) == 0) cmd = &COMMANDS[i];
  if (cmd == NULL) {
    fprintf(stderr, "cardinal-node: unknown command '%s'\n(see cardinal-node --help)\n", argv[1]);
    return EXIT_USAGE;
  }
  if (cdl_crypto_init() != CDL_OK) {
    fprintf(stderr, "cardinal-node: cannot initialise libsodium/OpenSSL\n");
    return EXIT_IO;
  }
  static char name[64];
  snprintf(name, sizeof name, "cardinal-node %s", cmd->name);
  argv[1] = name;
  return cmd->run(argc - 1, argv + 1);
}
