/*
 * main.c: cardinal-node (docs/node.md): its usage, the helpers its
 * commands share, and the dispatch to them: `run` (run.c), the node
 * itself, and `serve` (serve.c), a node without peers or forger over an
 * existing database. Exit codes as cardinal-cli's: 0 ok, 1 bad input,
 * 2 usage, 3 I/O.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "node_main.h"

static const char USAGE[] =
    "usage: cardinal-node run --config FILE --topology FILE --database-path DIR\n"
    "                         --socket-path FILE [--host-addr ADDR] [--port P]\n"
    "                         [--delegation-certificate FILE --signing-key FILE\n"
    "                          [--signing-record FILE]]\n"
    "                         [--metrics-port P] [--metrics-host ADDR] [--log-level L]\n"
    "                         [--log-file PATH] [--max-connections N] [--max-local-connections N]\n"
    "                         [--write-timeout SECONDS]\n"
    "\n"
    "  Runs a node: follows and judges the chain of the peers in the topology,\n"
    "  serves node-to-node on ADDR:P (default 0.0.0.0, port 3001) and\n"
    "  node-to-client on the socket, relays transactions and, with a\n"
    "  delegation certificate and its delegate's signing key, forges blocks in\n"
    "  its PBFT slots. Prometheus metrics on P (127.0.0.1). Stops on SIGINT or\n"
    "  SIGTERM, writing a ledger snapshot. Logs: JSON lines on stderr, or appended\n"
    "  to --log-file PATH, reopened on SIGHUP (logrotate); L is Debug, Info,\n"
    "  Notice, Warning, Error or Critical.\n"
    "  A core node records each slot it signs, fsynced before the block leaves,\n"
    "  in its signing record (default: the signing key's path + \".signed\"; keep\n"
    "  it outside the database directory) and never signs a slot at or below\n"
    "  the record's again, whatever its database says after a crash or a restore.\n"
    "\n"
    "usage: cardinal-node serve --db DIR [--host ADDR] [--port P] [--socket-path S]\n"
    "                           [--max-connections N] [--max-local-connections N]\n"
    "                           [--write-timeout SECONDS] [--mempool-capacity BYTES]\n"
    "                           [--mempool-ttl SLOTS] [--log-level debug|info|warn|error]\n"
    "\n"
    "  Serves the chain of DIR (made by `cardinal-cli db import` or `sync`):\n"
    "  node-to-node on ADDR:P (default 127.0.0.1, port 3001; 0 picks a free port),\n"
    "  node-to-client on the Unix socket S, with a mempool that local\n"
    "  tx-submission fills (validated against the tip) and local tx-monitor\n"
    "  and tx-submission read. Stops on SIGINT or SIGTERM.\n"
    "  At most N node-to-node connections (default 256) and N local ones\n"
    "  (default 64), both cut to fit the descriptor limit; a connection whose\n"
    "  writes make no progress for --write-timeout seconds (default 30) is\n"
    "  closed: its peer stopped reading.\n"
    "\n"
    "usage: cardinal-node --version | --help\n";

int node_usage(const char *why) {
  fprintf(stderr, "cardinal-node: %s\n%s", why, USAGE);
  return EXIT_USAGE;
}

bool node_parse_ulong(const char *s, unsigned long max, unsigned long *out) {
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || s[0] == '-' || v > max) return false;
  *out = v;
  return true;
}

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
    printf("cardinal-node %s (commit %s)\n", CDL_VERSION, CDL_GIT_COMMIT);
    return EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  if (cdl_crypto_init() != CDL_OK) {
    fprintf(stderr, "cardinal-node: cannot initialise libsodium/OpenSSL\n");
    return EXIT_IO;
  }
  if (strcmp(argv[1], "serve") == 0) return node_serve(argc - 1, argv + 1);
  if (strcmp(argv[1], "run") == 0) return node_run(argc - 1, argv + 1);
  return node_usage("unknown command");
}
