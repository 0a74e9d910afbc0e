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
 * lines on stderr. Options and --help on argp (main.c).
 */
#include <argp.h>
#include <stdio.h>

#include "cardinal/io.h"
#include "node_main.h"

typedef struct serve_opts {
  const char *db, *host, *socket_path;
  unsigned long port, mempool_capacity, mempool_ttl;
  node_limits limits;
  cdl_log_level level;
} serve_opts;

/* Option keys: above the character range, so none is a short option. */
enum { O_DB = 0x100, O_HOST, O_PORT, O_SOCKET, O_LOG_LEVEL, O_MEMPOOL_CAPACITY, O_MEMPOOL_TTL };

static const struct argp_option SERVE_OPTIONS[] = {
    {"db", O_DB, "DIR", 0, "the database (made by cardinal-cli db import or sync) (required)", 0},
    {"host", O_HOST, "ADDR", 0, "the node-to-node listening address (default: 127.0.0.1)", 0},
    {"port", O_PORT, "P", 0, "the node-to-node port, 0 to 65535; 0 picks a free one, printed "
     "once ready (default: 3001)", 0},
    {"socket-path", O_SOCKET, "S", 0, "the node-to-client Unix socket (default: none, no local "
     "clients)", 0},
    {"mempool-capacity", O_MEMPOOL_CAPACITY, "BYTES", 0, "the mempool's size, up to 4294967296 "
     "(default: twice a block's room for transactions)", 0},
    {"mempool-ttl", O_MEMPOOL_TTL, "SLOTS", 0, "a transaction older than this many slots leaves "
     "the mempool, up to 4294967296 (default: never)", 0},
    {"log-level", O_LOG_LEVEL, "L", 0, "Debug, Info, Notice, Warning, Error or Critical, in any "
     "case (default: Info)", 0},
    {0}};

static error_t serve_option(int key, char *arg, struct argp_state *state) {
  serve_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &o->limits;
    return 0;
  case O_DB:
    o->db = arg;
    return 0;
  case O_HOST:
    o->host = arg;
    return 0;
  case O_PORT:
    o->port = node_arg_ulong(state, "--port", arg, 0, 65535);
    return 0;
  case O_SOCKET:
    o->socket_path = arg;
    return 0;
  case O_MEMPOOL_CAPACITY:
    o->mempool_capacity = node_arg_ulong(state, "--mempool-capacity", arg, 0, 1ul << 32);
    return 0;
  case O_MEMPOOL_TTL:
    o->mempool_ttl = node_arg_ulong(state, "--mempool-ttl", arg, 0, 1ul << 32);
    return 0;
  case O_LOG_LEVEL:
    o->level = node_arg_log_level(state, arg);
    return 0;
  case ARGP_KEY_ARG:
    argp_error(state, "unexpected argument '%s'", arg);
    return 0;
  case ARGP_KEY_END:
    if (o->db == NULL) argp_error(state, "--db DIR is required");
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static const struct argp_child SERVE_CHILDREN[] = {{&NODE_LIMITS_ARGP, 0, NULL, 0}, {0}};
static const struct argp SERVE = {
    SERVE_OPTIONS, serve_option, NULL,
    "Serve the chain of a database: node-to-node (chain-sync, block-fetch, keep-alive, "
    "tx-submission) on ADDR:P and node-to-client on the socket, with a mempool that local "
    "tx-submission fills. It follows nobody and forges nothing. Once listening it prints "
    "{\"port\", \"socket\", \"tip\"} on stdout; stops on SIGINT or SIGTERM.\v"
    "Example:\n  cardinal-node serve --db ./db --port 3001 --socket-path ./node.socket",
    SERVE_CHILDREN, NULL, NULL};

static int parse_opts(int argc, char **argv, serve_opts *o) {
  *o = (serve_opts){.host = "127.0.0.1", .port = 3001, .level = CDL_LOG_INFO};
  return node_args_parse(&SERVE, argc, argv, o);
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
                           .max_connections = o->limits.max_connections,
                           .max_local_connections = o->limits.max_local,
                           .write_timeout_ms = (uint64_t)o->limits.write_timeout * 1000,
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

