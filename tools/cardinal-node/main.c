/*
 * main.c: cardinal-node (docs/node.md). Two commands: `run` (run.c), the
 * node itself, and `serve`, here: a
 * read-only node over an existing database that serves chain-sync,
 * block-fetch, keep-alive and tx-submission over TCP and the
 * node-to-client protocols over a Unix socket (docs/network.md
 * "Serving"), until SIGINT or SIGTERM (a repeat is ignored: docs/node.md
 * "Stopping a node").
 *
 * Once listening it prints one JSON line on stdout, {"port", "socket",
 * "tip"}, so scripts can use --port 0 and learn the port. Logs are JSON
 * lines on stderr. Exit codes as cardinal-cli's: 0 ok, 2 usage, 3 I/O.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/io.h"
#include "node_main.h"

static const char USAGE[] =
    "usage: cardinal-node run --config FILE --topology FILE --database-path DIR\n"
    "                         --socket-path FILE [--host-addr ADDR] [--port P]\n"
    "                         [--delegation-certificate FILE --signing-key FILE\n"
    "                          [--signing-record FILE]]\n"
    "                         [--metrics-port P] [--metrics-host ADDR] [--log-level L]\n"
    "                         [--max-connections N] [--max-local-connections N]\n"
    "                         [--write-timeout SECONDS]\n"
    "\n"
    "  Runs a node: follows and judges the chain of the peers in the topology,\n"
    "  serves node-to-node on ADDR:P (default 0.0.0.0, port 3001) and\n"
    "  node-to-client on the socket, relays transactions and, with a\n"
    "  delegation certificate and its delegate's signing key, forges blocks in\n"
    "  its PBFT slots. Prometheus metrics on P (127.0.0.1). Stops on SIGINT or\n"
    "  SIGTERM, writing a ledger snapshot.\n"
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
    "  closed: its peer stopped reading.\n";

typedef struct serve_opts {
  const char *db, *host, *socket_path;
  unsigned long port, max_connections, max_local, write_timeout, mempool_capacity, mempool_ttl;
  bool has_port;
  cdl_log_level level;
} serve_opts;

static int usage(const char *why) {
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

static int parse_opts(int argc, char **argv, serve_opts *o) {
  static const struct option LONG[] = {{"db", required_argument, 0, 'd'},
                                       {"host", required_argument, 0, 'h'},
                                       {"port", required_argument, 0, 'p'},
                                       {"socket-path", required_argument, 0, 's'},
                                       {"max-connections", required_argument, 0, 'm'},
                                       {"max-local-connections", required_argument, 0, 'L'},
                                       {"write-timeout", required_argument, 0, 'w'},
                                       {"log-level", required_argument, 0, 'l'},
                                       {"mempool-capacity", required_argument, 0, 'c'},
                                       {"mempool-ttl", required_argument, 0, 't'},
                                       {0, 0, 0, 0}};
  *o = (serve_opts){.host = "127.0.0.1", .port = 3001, .level = CDL_LOG_INFO};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'd')
      o->db = optarg;
    else if (c == 'h')
      o->host = optarg;
    else if (c == 'p' && node_parse_ulong(optarg, 65535, &o->port))
      o->has_port = true;
    else if (c == 's')
      o->socket_path = optarg;
    else if (c == 'm' && node_parse_ulong(optarg, 100000, &o->max_connections))
      continue;
    else if (c == 'L' && node_parse_ulong(optarg, 100000, &o->max_local))
      continue;
    else if (c == 'w' && node_parse_ulong(optarg, 86400, &o->write_timeout) && o->write_timeout)
      continue;
    else if (c == 'l' && cdl_log_level_parse(optarg, &o->level))
      continue;
    else if (c == 'c' && node_parse_ulong(optarg, 1ul << 32, &o->mempool_capacity))
      continue;
    else if (c == 't' && node_parse_ulong(optarg, 1ul << 32, &o->mempool_ttl))
      continue;
    else
      return usage("bad or unknown option");
  }
  if (optind < argc) return usage("unexpected argument");
  if (o->db == NULL) return usage("--db DIR is required");
  return EXIT_OK;
}

typedef struct serve_run {
  cdl_io_server *server;
  cdl_io_stop_watch stop;
  const cdl_logger *log;
} serve_run;

static void on_stop_signal(void *ctx, int signum) {
  serve_run *r = ctx;
  cdl_log(r->log, CDL_LOG_INFO, "node", "stopping",
          "signal %d: closing connections, then the ChainDB; a repeated signal is ignored, "
          "SIGKILL forces a stop",
          signum);
  cdl_io_server_stop(r->server);
}

static void print_ready(const cdl_io_server *s, const serve_opts *o, cdl_chaindb *db) {
  cdl_block_info tip;
  char hash[65] = "";
  bool has = cdl_chaindb_tip(db, &tip);
  if (has) cdl_hex_encode(tip.hash, 32, hash);
  printf("{\"port\":%u,\"socket\":\"%s\",\"tip\":{\"slot\":%" PRIu64 ",\"block_no\":%" PRIu64
         ",\"hash\":\"%s\"}}\n",
         cdl_io_server_port(s), o->socket_path ? o->socket_path : "", has ? tip.slot : 0,
         has ? tip.block_no : 0, hash);
  fflush(stdout);
}

int node_exit_code(int rc) {
  return rc == CDL_E_IO || rc == CDL_E_NOMEM || rc == CDL_E_LOCKED || rc == CDL_E_MISSING
             ? EXIT_IO
             : EXIT_INVALID;
}

cdl_hs_config node_hs_config(bool node_to_client, uint32_t magic) {
  if (node_to_client) return (cdl_hs_config){true, 9, 23, {magic, false, 0, false}};
  return (cdl_hs_config){false, 7, 15, {magic, false, 0, false}};
}

static int serve_loop(const serve_opts *o, cdl_chaindb *db, const cdl_byron_genesis *g,
                      const cdl_logger *lg, cdl_error *err) {
  uint32_t magic = g->protocol_magic;
  cdl_mempool_config mcfg = {.capacity_bytes = o->mempool_capacity, .ttl_slots = o->mempool_ttl};
  cdl_mempool *mp = NULL;
  if (cdl_mempool_new(&mcfg, cdl_chaindb_ledger(db), 0, &mp) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory for the mempool");
  uv_loop_t loop;
  uv_loop_init(&loop);
  cdl_io_server_config cfg = {.db = db,
                              .n2n = node_hs_config(false, magic),
                              .n2c = node_hs_config(true, magic),
                              .host = o->host,
                              .port = (uint16_t)o->port,
                              .socket_path = o->socket_path,
                              .max_connections = o->max_connections,
                              .max_local_connections = o->max_local,
                              .write_timeout_ms = (uint64_t)o->write_timeout * 1000,
                              .system_start = g->start_time,
                              .mempool = mp,
                              .log = lg};
  serve_run r = {.log = lg};
  int rc = cdl_io_stop_watch_start(&loop, &r.stop, on_stop_signal, &r, err);
  if (rc == CDL_OK) rc = cdl_io_server_start(&loop, &cfg, &r.server, err);
  if (rc == CDL_OK)
    print_ready(r.server, o, db);
  else
    cdl_io_stop_watch_close(&r.stop);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  cdl_mempool_del(mp);
  return rc;
}

int node_serve(int argc, char **argv) {
  serve_opts o;
  int code = parse_opts(argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_io_stop_catch("node"); /* from here on: a signal during the open is not lost */
  cdl_logger lg = {.out = stderr, .min = o.level};
  cdl_db_dir_options dopt = {.dir = o.db};
  cdl_db_genesis dg;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  int rc = cdl_db_dir_open(&dopt, &dg, &db, NULL, &err);
  if (rc == CDL_OK) rc = serve_loop(&o, db, &dg.g, &lg, &err);
  cdl_error close_err = {0};
  if (db != NULL && cdl_chaindb_close(db, &close_err) != CDL_OK && rc == CDL_OK) {
    rc = close_err.code;
    err = close_err;
  }
  cdl_db_genesis_free(&dg);
  if (rc == CDL_OK) {
    cdl_log(&lg, CDL_LOG_INFO, "node", "stopped", "the ChainDB is closed");
    return EXIT_OK;
  }
  cdl_log(&lg, CDL_LOG_ERROR, "node", cdl_error_name(rc), "%s", err.message);
  return node_exit_code(rc);
}

int main(int argc, char **argv) {
  /* A peer gone mid-write costs its connection (EPIPE), never the process. */
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  if (cdl_crypto_init() != CDL_OK) {
    fprintf(stderr, "cardinal-node: cannot initialise libsodium/OpenSSL\n");
    return EXIT_IO;
  }
  if (strcmp(argv[1], "serve") == 0) return node_serve(argc - 1, argv + 1);
  if (strcmp(argv[1], "run") == 0) return node_run(argc - 1, argv + 1);
  return usage("unknown command");
}
