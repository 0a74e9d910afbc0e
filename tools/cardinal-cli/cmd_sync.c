/*
 * cmd_sync.c: `cardinal-cli sync --from HOST:PORT --db DIR [--genesis FILE]`
 * (docs/cli.md "sync"; docs/network.md "Syncing"): follows a peer's chain
 * over node-to-node chain-sync and block-fetch, validating each block
 * through the ChainDB and storing it, until synced with the peer (or
 * SIGINT/SIGTERM; with --follow, until the connection ends). It is a node
 * kernel with one upstream peer, initiator only, on the node's driver.
 * An invalid block ends the sync with the rejection (exit 1).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/io.h"
#include "db.h"

typedef struct sync_opts {
  db_opts db;
  char host[256];
  uint64_t port, pipeline, batch;
  bool follow;
  cdl_log_level level;
} sync_opts;

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

static int parse_opts(int argc, char **argv, sync_opts *o) {
  static const struct option LONG[] = {{"from", required_argument, 0, 'f'},
                                       {"db", required_argument, 0, 'd'},
                                       {"genesis", required_argument, 0, 'g'},
                                       {"pipeline", required_argument, 0, 'p'},
                                       {"batch", required_argument, 0, 'b'},
                                       {"no-signatures", no_argument, 0, 'n'},
                                       {"follow", no_argument, 0, 'F'},
                                       {"log-level", required_argument, 0, 'l'},
                                       {"pbft-threshold", required_argument, 0, 't'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  o->pipeline = 200;
  o->batch = 256;
  o->level = CDL_LOG_WARN;
  optind = 1;
  opterr = 0;
  bool has_from = false;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'f' && parse_from(optarg, o))
      has_from = true;
    else if (c == 'd')
      o->db.db = optarg;
    else if (c == 'g')
      o->db.genesis = optarg;
    else if (c == 'p' && cli_parse_u64(optarg, 1, CDL_CLIENT_MAX_PIPELINE, &o->pipeline))
      continue;
    else if (c == 'b' && cli_parse_u64(optarg, 1, 1000, &o->batch))
      continue;
    else if (c == 'n')
      o->db.no_signatures = true;
    else if (c == 'F')
      o->follow = true;
    else if (c == 'l' && cdl_log_level_parse(optarg, &o->level))
      continue;
    else if (c == 't' && cli_parse_fraction(optarg, &o->db.pbft_threshold))
      continue;
    else
      return cli_usage("sync: bad or unknown option '%s'", argv[optind - 1]);
  }
  if (optind < argc) return cli_usage("sync: unexpected argument '%s'", argv[optind]);
  if (!has_from || o->db.db == NULL) return cli_usage("sync: --from HOST:PORT and --db DIR");
  return EXIT_OK;
}

static json_t *tip_json(cdl_chaindb *db, uint64_t k) {
  cdl_block_info tip;
  return cdl_chaindb_tip(db, &tip) ? db_block_json(&tip, k) : json_null();
}

static json_t *sync_json(const cdl_node_stats *ns, cdl_chaindb *db, uint64_t k,
                         const sync_opts *o, double seconds) {
  const cdl_n2n_client_stats *st = &ns->upstream;
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,s:f,s:f,s:f,s:I,s:I}", "headers",
                   (json_int_t)st->headers, "blocks", (json_int_t)st->blocks, "adopted",
                   (json_int_t)ns->blocks_adopted, "stored", (json_int_t)ns->blocks_stored,
                   "duplicate", (json_int_t)ns->blocks_known, "rollbacks",
                   (json_int_t)st->rollbacks, "block_bytes", (json_int_t)st->block_bytes, "tip",
                   tip_json(db, k), "seconds", seconds, "blocks_per_second",
                   seconds > 0 ? (double)st->blocks / seconds : 0.0, "headers_per_second",
                   seconds > 0 ? (double)st->headers / seconds : 0.0, "keepalive_rtt_ms",
                   (double)st->ka_rtt_us / 1000.0, "pipeline", (json_int_t)o->pipeline, "batch",
                   (json_int_t)o->batch);
}

int cmd_sync(int argc, char **argv) {
  sync_opts o;
  CDL_TRY(parse_opts(argc, argv, &o));
  /* SIGINT/SIGTERM end the sync cleanly: the database is closed (synced)
   * and the counts are printed; a repeat cannot cut that short. */
  cli_catch_stop_signals("sync");
  o.db.sync_interval = UINT64_MAX; /* like an import: an interrupted sync is run again */
  db_genesis dg;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  cdl_node_stats ns = {0};
  cdl_rejection rej = {0};
  double start = cli_now_seconds();
  int rc = db_open(&o.db, &dg, DB_CREATE, &db, NULL, &err);
  if (rc == CDL_OK) {
    cdl_logger lg = {.out = stderr, .min = o.level};
    cdl_io_sync_config cfg = {.db = db,
                              .genesis = &dg.g,
                              .host = o.host,
                              .port = (uint16_t)o.port,
                              .pipeline = o.pipeline,
                              .fetch_batch = o.batch,
                              .follow = o.follow,
                              .log = &lg};
    rc = cdl_io_sync(&cfg, &ns, &rej, &err);
  }
  double seconds = cli_now_seconds() - start;
  json_t *out = db ? sync_json(&ns, db, dg.g.k, &o, seconds) : NULL;
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
