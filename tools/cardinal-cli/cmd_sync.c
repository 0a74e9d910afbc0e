/*
 * cmd_sync.c: `cardinal-cli sync --from HOST:PORT --db DIR [--config FILE |
 * --genesis-dir DIR] [--genesis FILE] [--pbft-threshold T]` (docs/cli.md
 * "sync"; docs/network.md "Syncing"): follows a peer's chain over
 * node-to-node chain-sync and block-fetch, validating each block through
 * the ChainDB and storing it, until synced with the peer (or SIGINT/SIGTERM;
 * with --follow, until the connection ends). It is a node kernel with one
 * upstream peer, initiator only, on the node's driver. An invalid block
 * ends the sync with the rejection (exit 1). The network's settings come
 * from a node config as cardinal-node reads it (docs/node.md
 * "Configuration"), --genesis and --pbft-threshold overriding it; a
 * database built with other settings is refused (exit 2,
 * docs/storage.md "Identity files"). Its options and --help are argp's
 * (options.c).
 */
#include <argp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cardinal/byron_json.h"
#include "cardinal/io.h"
#include "cardinal/node_files.h"
#include "db.h"

typedef struct sync_opts {
  db_opts db;
  const char *config, *genesis_dir;
  char host[256];
  uint64_t port, pipeline, batch, threads;
  bool follow, has_from;
  cdl_log_level level;
} sync_opts;

/* The network's settings as sync found them: the node config (--config,
 * or the one --genesis-dir stands for), the genesis --genesis-dir names
 * when it holds no config, and the words a refusal names them by. */
typedef struct sync_settings {
  cdl_node_file_config fc;
  char config[PATH_MAX], genesis[PATH_MAX];
  cdl_db_advice advice;
} sync_settings;

static bool parse_from(const char *text, sync_opts *o) {
  const char *colon = strrchr(text, ':');
  if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof o->host) return false;
  size_t n = (size_t)(colon - text);
  const char *h = text;
  if (text[0] == '[' && colon[-1] == ']') h++, n -= 2; /* [v6]:port */
  memcpy(o->host, h, n);
  o->host[n] = '\0';
  return cli_parse_u64(colon + 1, 1, 65535, &o->port);
}

/* Option keys: above the character range, so none is a short option. */
enum {
  O_FROM = 0x100,
  O_DB,
  O_CONFIG,
  O_GENESIS_DIR,
  O_GENESIS,
  O_THRESHOLD,
  O_PIPELINE,
  O_BATCH,
  O_FOLLOW,
  O_NO_SIGS,
  O_LOG_LEVEL,
  O_THREADS
};

static const struct argp_option SYNC_OPTIONS[] = {
    {"from", O_FROM, "HOST:PORT", 0, "the peer to follow, [ADDRESS]:PORT for IPv6 (required)", 0},
    {"db", O_DB, "DIR", 0, "the database, created with the genesis kept in it on the first run "
     "(required)", 0},
    {"config", O_CONFIG, "FILE", 0, "a node config (cardinal-node run's config.json) for the "
     "genesis, PBFT threshold and magic policy (default: none)", 0},
    {"genesis-dir", O_GENESIS_DIR, "DIR", 0, "a node's, devnet's or genesis folder standing for "
     "its config, else its genesis.json (default: none; not with --config)", 0},
    {"genesis", O_GENESIS, "FILE", 0, "the genesis, over the config's (default: the config's, "
     "else DIR/genesis.json of the database)", 0},
    {"pbft-threshold", O_THRESHOLD, "T", 0, "the PBFT signer threshold, above 0 and at most 1, "
     "over the config's (default: the config's, else the database's, else 0.22)", 0},
    {"pipeline", O_PIPELINE, "N", 0, "chain-sync requests in flight, 1 to 1000; 1: no "
     "pipelining (default: 200)", 0},
    {"batch", O_BATCH, "N", 0, "blocks per block-fetch range, 1 to 1000 (default: 256)", 0},
    {"follow", O_FOLLOW, NULL, 0, "keep following once synced, until the connection ends or "
     "SIGINT/SIGTERM (default: stop when synced)", 0},
    {"no-signatures", O_NO_SIGS, NULL, 0, "do not check witnesses and block signatures", 0},
    {"threads", O_THREADS, "N", 0, "threads that decode blocks and check their signatures, this "
     "one included, 1 to 64; the result is the same for every N (default: the processors it "
     "may run on, at most 64)", 0},
    {"log-level", O_LOG_LEVEL, "L", 0, "Debug, Info, Notice, Warning, Error or Critical, in any "
     "case (default: Warning)", 0},
    {0}};

static error_t sync_option(int key, char *arg, struct argp_state *state) {
  sync_opts *o = state->input;
  switch (key) {
  case O_FROM:
    if (!parse_from(arg, o))
      argp_error(state, "--from: '%s' is not HOST:PORT (port 1 to 65535)", arg);
    o->has_from = true;
    break;
  case O_DB: o->db.db = arg; break;
  case O_CONFIG: o->config = arg; break;
  case O_GENESIS_DIR: o->genesis_dir = arg; break;
  case O_GENESIS: o->db.genesis = arg; break;
  case O_THRESHOLD: o->db.pbft_threshold = cli_arg_fraction(state, arg); break;
  case O_PIPELINE: o->pipeline = cli_arg_u64(state, arg, 1, CDL_CLIENT_MAX_PIPELINE); break;
  case O_BATCH: o->batch = cli_arg_u64(state, arg, 1, 1000); break;
  case O_FOLLOW: o->follow = true; break;
  case O_NO_SIGS: o->db.no_signatures = true; break;
  case O_THREADS: o->threads = cli_arg_u64(state, arg, 1, 64); break;
  case O_LOG_LEVEL:
    if (!cdl_log_level_parse(arg, &o->level))
      argp_error(state, "--log-level: '%s' is not Debug, Info, Notice, Warning, Error or Critical",
                 arg);
    break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (!o->has_from) argp_error(state, "--from HOST:PORT is required");
    if (o->db.db == NULL) argp_error(state, "--db DIR is required");
    if (o->config && o->genesis_dir) argp_error(state, "--config or --genesis-dir, not both");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp SYNC = {
    SYNC_OPTIONS, sync_option, NULL,
    "Follow a peer's chain over node-to-node chain-sync and block-fetch, validating each block "
    "and storing it in a database, until synced with the peer (with --follow, until the "
    "connection ends); prints the counts as JSON. The network's settings come from --genesis "
    "and --pbft-threshold, then a node config, then what the database records.\v"
    "Example (a devnet's relay):\n"
    "  cardinal-cli sync --from 127.0.0.1:30003 --db ./db --genesis-dir ./devnet",
    NULL, NULL, NULL};

static int parse_opts(int argc, char **argv, sync_opts *o) {
  memset(o, 0, sizeof *o);
  o->pipeline = 200;
  o->batch = 256;
  o->threads = cdl_io_default_threads();
  o->level = CDL_LOG_WARN;
  return cli_args_parse(&SYNC, argc, argv, o);
}

static bool same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Whether |path| is a node config that names DIR/genesis.json. */
static bool config_of_genesis(const char *path, const char *dir) {
  cdl_node_file_config fc;
  char genesis[PATH_MAX];
  if (access(path, F_OK) != 0 || cdl_node_config_read(path, &fc, NULL) != CDL_OK) return false;
  snprintf(genesis, sizeof genesis, "%s/genesis.json", dir);
  return same_file(fc.genesis_file, genesis);
}

/* The config --genesis-dir DIR stands for: DIR/config.json (a node's
 * folder), DIR/node-0/config.json (a folder `devnet create` made: every
 * node's config names the same network), or DIR/../node-0/config.json
 * when that names DIR/genesis.json (a devnet's genesis/). None for a bare
 * genesis folder (`genesis create`): its genesis.json alone. */
static bool find_config(const char *dir, char out[PATH_MAX]) {
  static const char *const PLACES[] = {"config.json", "node-0/config.json"};
  for (size_t i = 0; i < sizeof PLACES / sizeof PLACES[0]; i++) {
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, PLACES[i]) < PATH_MAX &&
        access(out, F_OK) == 0)
      return true;
  }
  return (size_t)snprintf(out, PATH_MAX, "%s/../node-0/config.json", dir) < PATH_MAX &&
         config_of_genesis(out, dir);
}

/* Where each setting came from, for a refusal: an option given wins over
 * the config (docs/cli.md "sync"). */
static void name_settings(const sync_opts *o, bool has_config, sync_settings *s) {
  const char *genesis_from = o->db.genesis  ? "--genesis"
                             : has_config   ? "the config"
                             : o->genesis_dir ? "--genesis-dir"
                                              : "its genesis.json";
  const char *threshold_from = o->db.pbft_threshold > 0 ? "--pbft-threshold" : "the config";
  s->advice = (cdl_db_advice){
      .genesis = {genesis_from, "sync with --genesis"},
      .threshold = {threshold_from, "sync with --pbft-threshold"},
      .magic = {"the config", "sync with a config whose RequiresNetworkMagic is"},
      .db_option = "--db"};
}

/* The settings to open the database with: the config's (--config, or the
 * one --genesis-dir stands for) with --genesis and --pbft-threshold over
 * them, and the database's own for what none of them gives. */
static int read_settings(sync_opts *o, sync_settings *s, cdl_error *err) {
  const char *config = o->config;
  if (o->genesis_dir && find_config(o->genesis_dir, s->config)) config = s->config;
  name_settings(o, config != NULL, s);
  o->db.advice = &s->advice;
  if (config == NULL && o->genesis_dir && o->db.genesis == NULL) {
    if ((size_t)snprintf(s->genesis, sizeof s->genesis, "%s/genesis.json", o->genesis_dir) >=
        sizeof s->genesis)
      return cdl_error_set(err, CDL_E_USAGE, 0, "sync: --genesis-dir is too long");
    o->db.genesis = s->genesis;
  }
  if (config == NULL) return CDL_OK;
  CDL_TRY(cdl_node_config_read(config, &s->fc, err));
  cdl_db_dir_options given = {0};
  cdl_node_config_db_options(&s->fc, &given);
  if (o->db.genesis == NULL) { /* --genesis overrides the config's file and its hash */
    o->db.genesis = given.genesis;
    o->db.genesis_hash = given.genesis_hash;
  }
  if (o->db.pbft_threshold <= 0) o->db.pbft_threshold = given.pbft_threshold;
  o->db.requires_magic = given.requires_magic;
  return CDL_OK;
}

static json_t *tip_json(cdl_chaindb *db, uint64_t k) {
  cdl_block_info tip;
  return cdl_chaindb_tip(db, &tip) ? db_block_json(&tip, k) : json_null();
}

/* The settings the database was opened with (given or recorded). */
static json_t *network_json(const sync_opts *o, const cdl_byron_genesis *g) {
  cdl_ledger_config lc = db_ledger_config(&o->db, g);
  return json_pack("{s:o,s:I,s:f,s:b}", "genesis_hash", cdl_json_hex(g->hash, 32),
                   "protocol_magic", (json_int_t)g->protocol_magic, "pbft_threshold",
                   lc.pbft_threshold > 0 ? lc.pbft_threshold : 0.22, "requires_magic",
                   lc.requires_magic);
}

static json_t *sync_json(const cdl_node_stats *ns, cdl_chaindb *db, const cdl_byron_genesis *g,
                         const sync_opts *o, double seconds) {
  const cdl_n2n_client_stats *st = &ns->upstream;
  uint64_t k = g->k;
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:o}", "headers",
                   (json_int_t)st->headers, "blocks", (json_int_t)st->blocks, "adopted",
                   (json_int_t)ns->blocks_adopted, "stored", (json_int_t)ns->blocks_stored,
                   "duplicate", (json_int_t)ns->blocks_known, "rollbacks",
                   (json_int_t)st->rollbacks, "block_bytes", (json_int_t)st->block_bytes, "tip",
                   tip_json(db, k), "seconds", seconds, "blocks_per_second",
                   seconds > 0 ? (double)st->blocks / seconds : 0.0, "headers_per_second",
                   seconds > 0 ? (double)st->headers / seconds : 0.0, "keepalive_rtt_ms",
                   (double)st->ka_rtt_us / 1000.0, "pipeline", (json_int_t)o->pipeline, "threads",
                   (json_int_t)o->threads, "batch",
                   (json_int_t)o->batch, "network", network_json(o, g));
}

static int run_sync(int argc, char **argv) {
  sync_opts o;
  CDL_TRY(parse_opts(argc, argv, &o));
  /* SIGINT/SIGTERM end the sync cleanly: the database is closed (synced)
   * and the counts are printed; a repeat cannot cut that short. */
  cli_catch_stop_signals("sync");
  o.db.sync_interval = UINT64_MAX; /* like an import: an interrupted sync is run again */
  db_genesis dg;
  db_genesis_init(&dg);
  sync_settings settings;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  cdl_node_stats ns = {0};
  cdl_rejection rej = {0};
  double start = cli_now_seconds();
  int rc = read_settings(&o, &settings, &err);
  if (rc == CDL_OK) rc = db_open(&o.db, &dg, DB_CREATE, &db, NULL, &err);
  if (rc == CDL_OK) {
    cdl_logger lg = {.out = stderr, .min = o.level};
    cdl_io_sync_config cfg = {.db = db,
                              .genesis = &dg.g,
                              .host = o.host,
                              .port = (uint16_t)o.port,
                              .pipeline = o.pipeline,
                              .fetch_batch = o.batch,
                              .threads = (unsigned)o.threads,
                              .follow = o.follow,
                              .log = &lg};
    rc = cdl_io_sync(&cfg, &ns, &rej, &err);
  }
  double seconds = cli_now_seconds() - start;
  json_t *out = db ? sync_json(&ns, db, &dg.g, &o, seconds) : NULL;
  int code = EXIT_OK;
  if (rc == CDL_E_REJECTED && rej.rule != NULL)
    code = cli_report_rejection(&rej, cdl_chaindb_ledger(db));
  else if (rc != CDL_OK)
    code = cli_report(&err);
  cdl_error close_err = {0};
  if (db && cdl_chaindb_close(db, &close_err) != CDL_OK && code == EXIT_OK)
    code = cli_report(&close_err);
  if (out) cli_print(out, false);
  db_genesis_free(&dg);
  return code;
}

static const cli_verb SYNC_VERBS[] = {
    {"", NULL, "follow a peer's chain into a database", run_sync}};
const cli_noun CLI_SYNC = CLI_NOUN("sync", SYNC_VERBS);
