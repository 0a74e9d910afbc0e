/*
 * run.c: `cardinal-node run` (docs/node.md "Running a node"): reads
 * config.json and topology.json in cardano-node's formats, checks the
 * Byron genesis against the config's hash, opens (or creates) the
 * database (refused when built with other settings), loads the forging
 * keys of a core node and opens its signing
 * record (--signing-record, by default the key's path + ".signed": kept
 * outside the database, so that a restored backup cannot roll it back;
 * docs/node.md "The signing record"), and drives the node
 * kernel (src/node) with the libuv driver (src/io/node_run.c) until
 * SIGINT or SIGTERM; then closes the ChainDB, which writes a ledger
 * snapshot so the next start does not replay.
 *
 * Once listening it prints one JSON line on stdout, {"port", "socket",
 * "metrics_port", "tip"}, so scripts can use --port 0. Logs are JSON lines
 * on stderr, or appended to --log-file, reopened on SIGHUP; the first,
 * node.start, says what runs on what (docs/node.md "Logs"). Exit codes: 0 stopped by a signal, 1 bad input (a config, a
 * key, a genesis hash), 2 usage, 3 I/O (the disk failed, a port is taken). Options and --help on
 * argp (main.c).
 */
#define _DEFAULT_SOURCE /* realpath */
#include <argp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/io.h"
#include "cardinal/node_files.h"
#include "node_main.h"
#include "cardinal/version.h"

typedef struct run_opts {
  const char *config, *topology, *db, *socket_path, *host, *cert, *key, *metrics_host;
  const char *record; /* --signing-record; NULL: the key's path + ".signed" */
  const char *log_file; /* --log-file; NULL: stderr */
  unsigned long port, metrics_port, threads;
  node_limits limits;
  bool has_level, has_metrics_port;
  cdl_log_level level;
} run_opts;

/* Option keys: above the character range, so none is a short option. */
enum {
  O_CONFIG = 0x100,
  O_TOPOLOGY,
  O_DB,
  O_SOCKET,
  O_HOST,
  O_PORT,
  O_CERT,
  O_KEY,
  O_RECORD,
  O_METRICS_PORT,
  O_METRICS_HOST,
  O_LOG_LEVEL,
  O_LOG_FILE,
  O_THREADS
};

static const struct argp_option RUN_OPTIONS[] = {
    {"config", O_CONFIG, "FILE", 0, "cardano-node's config.json (required)", 0},
    {"topology", O_TOPOLOGY, "FILE", 0,
     "cardano-node's topology.json, the peers to follow (required)", 0},
    {"database-path", O_DB, "DIR", 0, "the database, created on the first run (required)", 0},
    {"socket-path", O_SOCKET, "FILE", 0, "the node-to-client Unix socket (required)", 0},
    {"host-addr", O_HOST, "ADDR", 0, "the node-to-node listening address (default: 0.0.0.0)", 0},
    {"port", O_PORT, "P", 0, "the node-to-node port, 0 to 65535; 0 picks a free one, printed "
     "once ready (default: 3001)", 0},
    {"delegation-certificate", O_CERT, "FILE", 0, "a core node's delegation certificate, with "
     "--signing-key (default: none, a relay)", 0},
    {"signing-key", O_KEY, "FILE", 0, "the certificate's delegate signing key, with "
     "--delegation-certificate (default: none, a relay)", 0},
    {"signing-record", O_RECORD, "FILE", 0, "a core node's record of the slots it signed, "
     "outside the database directory (default: the signing key's path + \".signed\")", 0},
    {"metrics-port", O_METRICS_PORT, "P", 0, "the Prometheus metrics port, 0 to 65535; 0 turns "
     "the endpoint off (default: config.json's hasPrometheus port, else none)", 0},
    {"metrics-host", O_METRICS_HOST, "ADDR", 0, "the metrics endpoint's IPv4 address (default: "
     "config.json's hasPrometheus host, else 127.0.0.1)", 0},
    {"log-level", O_LOG_LEVEL, "L", 0, "Debug, Info, Notice, Warning, Error or Critical, in any "
     "case (default: config.json's MinSeverity, else Info)", 0},
    {"log-file", O_LOG_FILE, "PATH", 0, "append the logs to PATH, reopened on SIGHUP for "
     "logrotate (default: stderr)", 0},
    {"threads", O_THREADS, "N", 0, "threads that decode blocks fetched from peers and check "
     "their signatures, this one included, 1 to 64 (default: the processors it may run on, at "
     "most 64)", 0},
    {0}};

/* The options given together or not at all, once all are read. */
static void check_roles(struct argp_state *state, const run_opts *o) {
  if (!o->config) argp_error(state, "--config FILE is required");
  if (!o->topology) argp_error(state, "--topology FILE is required");
  if (!o->db) argp_error(state, "--database-path DIR is required");
  if (!o->socket_path) argp_error(state, "--socket-path FILE is required");
  if ((o->cert == NULL) != (o->key == NULL))
    argp_error(state, "a core node needs both --delegation-certificate and --signing-key");
  if (o->record && !o->key)
    argp_error(state, "--signing-record is for a core node (--signing-key)");
}

static error_t run_option(int key, char *arg, struct argp_state *state) {
  run_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT: state->child_inputs[0] = &o->limits; break;
  case O_CONFIG: o->config = arg; break;
  case O_TOPOLOGY: o->topology = arg; break;
  case O_DB: o->db = arg; break;
  case O_SOCKET: o->socket_path = arg; break;
  case O_HOST: o->host = arg; break;
  case O_PORT: o->port = node_arg_ulong(state, "--port", arg, 0, 65535); break;
  case O_CERT: o->cert = arg; break;
  case O_KEY: o->key = arg; break;
  case O_RECORD: o->record = arg; break;
  case O_METRICS_PORT:
    o->metrics_port = node_arg_ulong(state, "--metrics-port", arg, 0, 65535);
    o->has_metrics_port = true;
    break;
  case O_METRICS_HOST: o->metrics_host = arg; break;
  case O_LOG_LEVEL:
    o->level = node_arg_log_level(state, arg);
    o->has_level = true;
    break;
  case O_LOG_FILE: o->log_file = arg; break;
  case O_THREADS: o->threads = node_arg_ulong(state, "--threads", arg, 1, 64); break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END: check_roles(state, o); break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_child RUN_CHILDREN[] = {{&NODE_LIMITS_ARGP, 0, NULL, 0}, {0}};
static const struct argp RUN = {
    RUN_OPTIONS, run_option, NULL,
    "Run a node: follow and judge the chain of the peers in the topology, serve node-to-node "
    "on ADDR:P and node-to-client on the socket, relay transactions and, with a delegation "
    "certificate and its delegate's signing key, forge blocks in its PBFT slots. Once "
    "listening it prints {\"port\", \"socket\", \"metrics_port\", \"tip\"} on stdout; logs are "
    "JSON lines. SIGINT or SIGTERM stop it cleanly, writing a ledger snapshot (exit 0). A core "
    "node records each slot it signs, fsynced before the block leaves, and never signs a slot "
    "at or below its record's again, whatever its database says after a crash or a restore.\v"
    "Example (core node 0 of a devnet, run in its directory):\n"
    "  cardinal-node run --config node-0/config.json \\\n"
    "    --topology node-0/topology.json --database-path node-0/db \\\n"
    "    --socket-path node-0/node.socket --port 30000 \\\n"
    "    --delegation-certificate genesis/delegation-cert.000.json \\\n"
    "    --signing-key genesis/delegate-keys.000.skey\n"
    "Exit codes: 0 stopped by a signal, 1 bad input (a config, a key, a genesis hash), 2 usage, "
    "3 I/O (the disk failed, a port is taken, a file is missing).",
    RUN_CHILDREN, NULL, NULL};

static int parse_opts(int argc, char **argv, run_opts *o) {
  *o = (run_opts){.host = "0.0.0.0", .port = 3001};
  return node_args_parse(&RUN, argc, argv, o);
}

static int load_forger(const run_opts *o, cdl_node_forger *f, cdl_error *err) {
  int rc = cdl_keyfile_read_signing(o->key, &f->delegate, NULL, err);
  if (rc == CDL_OK) rc = cdl_keyfile_read_cert(o->cert, &f->cert, err);
  if (rc == CDL_OK && memcmp(f->cert.delegate_pk, f->delegate.xpub, 64) != 0)
    rc = cdl_error_set(err, CDL_E_CERTIFICATE, 0,
                       "forger.key_mismatch: %s is not the delegate key of %s", o->key, o->cert);
  return rc;
}

typedef struct run_state {
  const run_opts *o;
  cdl_node_file_config fc;
  cdl_peers peers;
  cdl_db_genesis dg;
  cdl_chaindb *db;
  cdl_chaindb_report report; /* what the database held at open */
  long genesis_key;          /* a core node's place in the genesis delegations; -1 */
  cdl_node_forger forger;
  cdl_fs record_fs; /* the signing record's file system */
  cdl_logger log;
  uint16_t metrics_port; /* --metrics-port, else hasPrometheus's; 0: none */
} run_state;

/* node.start: what runs, on what, from what (docs/node.md "Logs"). */
static void log_start(const run_state *s, uint16_t port) {
  const run_opts *o = s->o;
  const cdl_chaindb_report *r = &s->report;
  cdl_block_info tip = {0};
  char hash[65] = "none", role[40] = "relay";
  if (cdl_chaindb_tip(s->db, &tip)) cdl_hex_encode(tip.hash, 32, hash);
  if (o->cert) snprintf(role, sizeof role, "core (genesis key %ld)", s->genesis_key);
  cdl_log(&s->log, CDL_LOG_INFO, "node", "node.start",
          "version %s, commit %s; config %s; role %s; listening %s:%u%s, socket %s; database %s: "
          "tip slot %" PRIu64 " block %" PRIu64 " hash %s, immutable %" PRIu64
          " blocks, volatile %zu blocks, snapshot %s, replayed %" PRIu64 " blocks; repairs: "
          "immutable truncated %" PRIu64 " bytes and %" PRIu64 " blocks, %u chunks removed, "
          "volatile %zu files damaged%s%s",
          CDL_VERSION, CDL_GIT_COMMIT, o->config, role, s->fc.initiator_only ? "-" : o->host,
          port, s->fc.initiator_only ? " (initiator only)" : "", o->socket_path, o->db, tip.slot,
          tip.block_no, hash, r->immutable.blocks, r->volatile_db.blocks,
          r->snapshot[0] ? r->snapshot : "none (from genesis)", r->replayed_blocks,
          r->immutable.truncated_bytes, r->immutable_truncated, r->immutable.removed_chunks,
          r->volatile_db.damaged_files, r->immutable.problem[0] ? "; damage: " : "",
          r->immutable.problem);
}

static void print_ready(void *ctx, uint16_t port) {
  const run_state *s = ctx;
  log_start(s, port);
  node_print_ready(port, s->o->socket_path, (long)s->metrics_port, s->db);
}

/* The core node's genesis key: its certificate's issuer among the
 * genesis delegations, counted from 0; -1 when it is not one of them. */
static long genesis_key_index(const cdl_byron_genesis *g, const cdl_node_forger *f) {
  for (size_t i = 0; i < g->n_delegations; i++)
    if (memcmp(g->delegations[i].issuer_pk, f->cert.issuer_pk, 64) == 0) return (long)i;
  return -1;
}

/* The signing record's path: --signing-record, else the signing key's
 * path with ".signed" appended. */
static int record_path(const run_opts *o, char *out, size_t cap, cdl_error *err) {
  int n = o->record ? snprintf(out, cap, "%s", o->record) : snprintf(out, cap, "%s.signed", o->key);
  if (n < 0 || (size_t)n >= cap)
    return cdl_error_set(err, CDL_E_USAGE, 0, "the signing record's path is too long");
  return CDL_OK;
}

/* A record inside the database directory would go back with the database
 * when a backup of it is restored, and allow its slots again. */
static int check_outside_db(const char *path, const char *db_dir, cdl_error *err) {
  char db[PATH_MAX], parent[PATH_MAX], dir[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash == NULL) snprintf(parent, sizeof parent, ".");
  else if (slash == parent) parent[1] = '\0';
  else *slash = '\0';
  if (realpath(db_dir, db) == NULL || realpath(parent, dir) == NULL) return CDL_OK;
  size_t n = strlen(db);
  if (strncmp(dir, db, n) != 0 || (dir[n] != '\0' && dir[n] != '/')) return CDL_OK;
  return cdl_error_set(err, CDL_E_USAGE, 0,
                       "signing_record.inside_database: %s is inside the database directory %s, "
                       "which a restored backup would roll back; pass --signing-record FILE "
                       "outside it",
                       path, db_dir);
}

/* Opens (or creates) the signing record: a core node does not start
 * without one it can write (docs/node.md "The signing record"). */
static int open_record(run_state *s, cdl_error *err) {
  char path[PATH_MAX];
  int rc = record_path(s->o, path, sizeof path, err);
  if (rc == CDL_OK) rc = check_outside_db(path, s->o->db, err);
  if (rc != CDL_OK) return rc;
  cdl_fs_posix_init(&s->record_fs, 0);
  cdl_error inner = {0};
  rc = cdl_sign_record_open(&s->record_fs, path, &s->forger.record, &inner);
  if (rc == CDL_OK || rc == CDL_E_CHECKSUM) { /* damage is explained in full already */
    *err = inner;
    return rc;
  }
  /* The advice first: the message is bounded, the path repeats in it. */
  return cdl_error_set(err, rc, 0,
                       "a core node needs a signing record it can write (pass --signing-record "
                       "FILE, outside the database directory): %s",
                       inner.message);
}

static int run_node(run_state *s, cdl_error *err) {
  const run_opts *o = s->o;
  uint32_t magic = s->dg.g.protocol_magic;
  cdl_node_config nc = {
      .db = s->db,
      .genesis = &s->dg.g,
      .n2n = cdl_hs_node_to_node(magic, s->fc.initiator_only),
      .n2c = cdl_hs_node_to_client(magic),
      .mempool = {.capacity_bytes = s->fc.mempool_capacity, .ttl_slots = s->fc.mempool_ttl},
      .forger = o->cert ? &s->forger : NULL,
      .peers = &s->peers,
      .threads = o->threads ? (unsigned)o->threads : cdl_io_default_threads(),
      .carry_us = CDL_IO_CARRY_US,
      .log = &s->log};
  cdl_node *node = NULL;
  int rc = cdl_node_new(&nc, cdl_io_wall_us(), &node, err);
  if (rc != CDL_OK) return rc;
  /* The command line wins over config.json's hasPrometheus, part by part
   * (docs/node.md "Metrics"); --metrics-port 0 turns the endpoint off. */
  s->metrics_port = o->has_metrics_port ? (uint16_t)o->metrics_port : s->fc.prometheus_port;
  const char *metrics_host = o->metrics_host ? o->metrics_host
                             : s->fc.prometheus_host[0] ? s->fc.prometheus_host
                                                        : NULL;
  cdl_io_node_config rc_cfg = {.node = node,
                               .db = s->db,
                               /* InitiatorOnly: nobody connects to it (a relay
                                * behind a firewall), as in cardano-node */
                               .host = s->fc.initiator_only ? NULL : o->host,
                               .port = (uint16_t)o->port,
                               .socket_path = o->socket_path,
                               .metrics_host = metrics_host,
                               .metrics_port = s->metrics_port,
                               .build_version = CDL_VERSION,
                               .build_commit = CDL_GIT_COMMIT,
                               .max_connections = o->limits.max_connections,
                               .max_local_connections = o->limits.max_local,
                               .write_timeout_ms = (uint64_t)o->limits.write_timeout * 1000,
                               .log = &s->log,
                               .on_ready = print_ready,
                               .ctx = s};
  rc = cdl_io_node_run(&rc_cfg, err);
  cdl_node_del(node);
  return rc;
}

/* How the node names its settings when a database built with others is
 * refused: they all come from config.json. */
static const cdl_db_advice NODE_ADVICE = {
    .genesis = {"the config", "point its ByronGenesisFile at"},
    .threshold = {"the config", "set its PBftSignatureThreshold to"},
    .magic = {"the config", "set its RequiresNetworkMagic to"},
    .db_option = "--database-path"};

static int prepare(run_state *s, cdl_error *err) {
  const run_opts *o = s->o;
  int rc = cdl_node_config_read(o->config, &s->fc, err);
  if (rc == CDL_OK) rc = cdl_node_topology_read(o->topology, &s->peers, err);
  if (rc != CDL_OK) return rc;
  s->log.min = o->has_level ? o->level : s->fc.min_severity;
  cdl_db_dir_options dopt = {.dir = o->db,
                             .create = true,
                             .advice = &NODE_ADVICE,
                             .witness_cache = CDL_WITNESS_CACHE_DEFAULT};
  cdl_node_config_db_options(&s->fc, &dopt);
  /* The genesis (against the config's ByronGenesisHash) before the keys. */
  rc = cdl_db_genesis_load(&dopt, &s->dg, err);
  cdl_db_genesis_free(&s->dg);
  if (rc == CDL_OK && o->cert) rc = load_forger(o, &s->forger, err);
  s->forger.versions = s->fc.versions; /* what its headers announce (config.json) */
  /* The database's own settings are checked as it opens, as for every
   * entry point (docs/storage.md "Identity files"). */
  if (rc == CDL_OK) rc = cdl_db_dir_open(&dopt, &s->dg, &s->db, &s->report, err);
  if (rc == CDL_OK && o->cert) s->genesis_key = genesis_key_index(&s->dg.g, &s->forger);
  if (rc == CDL_OK && o->cert) rc = open_record(s, err);
  return rc;
}

int node_run(int argc, char **argv) {
  run_opts o;
  int code = parse_opts(argc, argv, &o);
  if (code != EXIT_OK) return code;
  /* From here on a stop signal is latched, not fatal: one that comes while
   * the ChainDB opens stops the node once it runs, and repeats are ignored
   * until the ChainDB is closed (docs/node.md "Stopping a node"). */
  cdl_io_stop_catch("node");
  cdl_log_catch_hangup(); /* logrotate's signal reopens the log, never stops the node */
  run_state s = {.o = &o, .genesis_key = -1, .log = {.out = stderr, .min = CDL_LOG_INFO}};
  cdl_db_genesis_init(&s.dg);
  cdl_error err = {0};
  int rc = o.log_file ? cdl_log_open_file(&s.log, o.log_file, &err) : CDL_OK;
  if (rc != CDL_OK) { /* nowhere to log but stderr */
    cdl_log(&s.log, CDL_LOG_ERROR, "node", cdl_error_name(rc), "%s", err.message);
    return EXIT_IO;
  }
  rc = prepare(&s, &err);
  if (rc == CDL_OK) rc = run_node(&s, &err);
  cdl_error close_err = {0};
  if (s.db != NULL && cdl_chaindb_close(s.db, &close_err) != CDL_OK && rc == CDL_OK) {
    rc = close_err.code;
    err = close_err;
  }
  cdl_db_genesis_free(&s.dg);
  cdl_sign_record_close(s.forger.record);
  if (rc == CDL_OK) {
    cdl_log(&s.log, CDL_LOG_INFO, "node", "stopped", "the ledger snapshot is written");
    return EXIT_OK;
  }
  cdl_log(&s.log, CDL_LOG_ERROR, "node", cdl_error_name(rc), "%s", err.message);
  return node_exit_code(rc);
}
