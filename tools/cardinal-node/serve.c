/*
 * serve.c: `cardinal-node serve` (docs/node.md "Serving"; docs/network.md
 * "Serving"): a node kernel without upstream peers or a forger over an
 * existing database, driven by the one libuv driver (src/io/node_run.c)
 * until SIGINT or SIGTERM (a repeat is ignored: docs/node.md "Stopping a
 * node"). It serves chain-sync, block-fetch, keep-alive and tx-submission
 * over TCP and the node-to-client protocols over a Unix socket, with a
 * mempool that local tx-submission fills (validated against the tip).
 *
 * Once listening it prints one JSON line on stdout, {"port", "socket",
 * "tip"}, so scripts can use --port 0 and learn the port. Logs are JSON
 * lines on stderr.
 */
#include <getopt.h>
#include <stdio.h>

#include "cardinal/io.h"
#include "node_main.h"

typedef struct serve_opts {
  const char *db, *host, *socket_path;
  unsigned long port, max_connections, max_local, write_timeout, mempool_capacity, mempool_ttl;
  bool has_port;
  cdl_log_level level;
} serve_opts;

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
      return node_usage("bad or unknown option");
  }
  if (optind < argc) return node_usage("unexpected argument");
  if (o->db == NULL) return node_usage("--db DIR is required");
  return EXIT_OK;
}

typedef struct ready_ctx {
  const serve_opts *o;
  cdl_chaindb *db;
} ready_ctx;

static void print_ready(void *ctx, uint16_t port) {
  ready_ctx *r = ctx;
  node_print_ready(port, r->o->socket_path, -1, r->db);
}

/* A relay's kernel with nobody to follow: it serves what the database
 * holds and what local clients submit. */
static int serve_node(const serve_opts *o, cdl_chaindb *db, const cdl_byron_genesis *g,
                      const cdl_logger *lg, cdl_error *err) {
  cdl_node_config nc = {
      .db = db,
      .genesis = g,
      .n2n = cdl_hs_node_to_node(g->protocol_magic, false),
      .n2c = cdl_hs_node_to_client(g->protocol_magic),
      .mempool = {.capacity_bytes = o->mempool_capacity, .ttl_slots = o->mempool_ttl},
      .log = lg};
  cdl_node *node = NULL;
  int rc = cdl_node_new(&nc, cdl_io_wall_us(), &node, err);
  if (rc != CDL_OK) return rc;
  ready_ctx ready = {.o = o, .db = db};
  cdl_io_node_config io = {.node = node,
                           .db = db,
                           .host = o->host,
                           .port = (uint16_t)o->port,
                           .socket_path = o->socket_path,
                           .max_connections = o->max_connections,
                           .max_local_connections = o->max_local,
                           .write_timeout_ms = (uint64_t)o->write_timeout * 1000,
                           .log = lg,
                           .on_ready = print_ready,
                           .ctx = &ready};
  rc = cdl_io_node_run(&io, err);
  cdl_node_del(node);
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
  if (rc == CDL_OK) rc = serve_node(&o, db, &dg.g, &lg, &err);
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

