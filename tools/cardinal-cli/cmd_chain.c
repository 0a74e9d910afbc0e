/*
 * cmd_chain.c: `cardinal-cli chain validate` (docs/cli.md "chain"):
 * replays chunk files through the Byron ledger from a genesis (docs/byron.md
 * section 5) and prints a summary, or the first rejected block and its
 * rule; and the noun's verbs, with `generate` and `generate-invalid` from
 * cmd_chain_gen.c.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cardinal/byron_json.h"
#include "cardinal/ledger.h"
#include "cardinal/storage.h"
#include "db.h"

#define BATCH_BLOCKS 512
#define MAX_CHUNKS 4096

typedef struct {
  const char *genesis;
  const char *db;
  const char *chunks[MAX_CHUNKS];
  size_t n_chunks;
  uint64_t threads;
  bool no_signatures;
  double pbft_threshold;
} chain_opts;

/* Option keys: above the character range, so none is a short option. */
enum { O_GENESIS = 0x100, O_CHUNK, O_DB, O_THREADS, O_NO_SIGS, O_THRESHOLD };

static error_t chain_option(int key, char *arg, struct argp_state *state) {
  chain_opts *o = state->input;
  switch (key) {
  case O_GENESIS: o->genesis = arg; break;
  case O_CHUNK:
    if (o->n_chunks == MAX_CHUNKS) argp_error(state, "--chunk: more than %d files", MAX_CHUNKS);
    o->chunks[o->n_chunks++] = arg;
    break;
  case O_DB: o->db = arg; break;
  case O_THREADS: o->threads = cli_arg_u64(state, arg, 1, 64); break;
  case O_NO_SIGS: o->no_signatures = true; break;
  case O_THRESHOLD: o->pbft_threshold = cli_arg_fraction(state, arg); break;
  case ARGP_KEY_ARG:
    argp_error(state, "unexpected argument '%s' (chunk files take --chunk)", arg);
    break;
  case ARGP_KEY_END:
    if ((o->db == NULL) == (o->n_chunks == 0))
      argp_error(state, "either --db DIR or at least one --chunk FILE is needed");
    if (o->genesis == NULL && o->db == NULL)
      argp_error(state, "--genesis FILE is required with --chunk");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option VALIDATE_OPTIONS[] = {
    {"genesis", O_GENESIS, "FILE", 0,
     "the Byron genesis (required with --chunk; default with --db: DIR/genesis.json)", 0},
    {"chunk", O_CHUNK, "FILE", 0,
     "a chunk file (plain or zstd), replayed in the order given; repeat for more", 0},
    {"db", O_DB, "DIR", 0, "replay a database's selected chain instead of chunk files", 0},
    {"threads", O_THREADS, "N", 0,
     "decoding and signature threads, 1 to 64; the result is the same for every N (default: 1)",
     0},
    {"no-signatures", O_NO_SIGS, NULL, 0,
     "check no signature, for trusted blocks (default: check them all)", 0},
    {"pbft-threshold", O_THRESHOLD, "T", 0,
     "the PBFT signer threshold, above 0 and at most 1 (default: 0.22, or the one the database "
     "was built with)", 0},
    {0}};
static const struct argp VALIDATE = {
    VALIDATE_OPTIONS, chain_option, NULL,
    "Replay chunk files, or a database's chain, through the Byron ledger from the genesis "
    "(every rule cardano-node applies to blocks) and print a summary, or the first rejected "
    "block and its rule (exit 1).\v"
    "Example:\n  cardinal-cli chain validate --genesis mainnet-byron-genesis.json \\\n"
    "    --chunk 00000.chunk --threads 2",
    NULL, NULL, NULL};

static int parse_opts(int argc, char **argv, chain_opts *o) {
  memset(o, 0, sizeof *o);
  o->threads = 1;
  return cli_args_parse(&VALIDATE, argc, argv, o);
}

/* Loads the genesis and builds the ledger; the genesis text and its parse
 * are released once the ledger holds what it needs. */
static int open_ledger(const chain_opts *o, cdl_ledger **out, cdl_error *err) {
  cdl_buf text;
  cdl_arena arena;
  cdl_byron_genesis g;
  cdl_buf_init(&text, 0);
  cdl_arena_init(&arena, 0);
  char kept[4200];
  snprintf(kept, sizeof kept, "%s/genesis.json", o->db ? o->db : ".");
  int rc = cdl_byron_genesis_load_file(o->genesis ? o->genesis : kept, CLI_MAX_INPUT, &text,
                                       &arena, &g, err);
  if (rc == CDL_OK) {
    cdl_ledger_config cfg = {.protocol_magic = g.protocol_magic,
                             .requires_magic = cdl_byron_requires_magic(g.protocol_magic),
                             .k = g.k,
                             .pbft_threshold = o->pbft_threshold,
                             .flags = o->no_signatures ? CDL_LEDGER_NO_SIGNATURES : 0};
    rc = cdl_ledger_new(&g, &cfg, out, err);
  }
  cdl_arena_free(&arena);
  cdl_buf_free(&text);
  return rc;
}

typedef struct progress {
  bool tty;
  double start, last;
} progress;

static void show_progress(progress *p, const cdl_ledger *l, const char *chunk,
                          const cdl_chunk_reader *r, bool final) {
  double t = cli_now_seconds();
  if (!final && t - p->last < (p->tty ? 0.2 : 10.0)) return;
  p->last = t;
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(l, &tip);
  uint64_t size = cdl_chunk_reader_file_size(r), at = cdl_chunk_reader_file_position(r);
  double frac = size ? (double)at / (double)size : 0;
  if (frac > 1) frac = 1;
  if (p->tty) {
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3.0f%% %s  block %llu  slot %llu", bar, frac * 100, chunk,
            (unsigned long long)tip.block_no, (unsigned long long)tip.slot);
    if (final) fputc('\n', stderr);
  } else {
    fprintf(stderr, "chain validate: %s %.0f%%, block %llu, slot %llu, %.1f s\n", chunk, frac * 100,
            (unsigned long long)tip.block_no, (unsigned long long)tip.slot, t - p->start);
  }
}

static int validate_chunk(cdl_replay *rp, const cdl_ledger *l, const char *path, progress *p,
                          cdl_rejection *rej, cdl_error *err) {
  cdl_chunk_reader *r;
  int rc = cdl_chunk_reader_open(path, &r, err);
  if (rc != CDL_OK) return rc;
  cdl_span spans[BATCH_BLOCKS];
  size_t n, applied;
  while ((rc = cdl_chunk_reader_next(r, spans, NULL, BATCH_BLOCKS, &n, err)) == CDL_OK && n > 0) {
    rc = cdl_replay_batch(rp, spans, n, &applied, rej);
    if (rc == CDL_E_NOMEM) rc = cdl_error_set(err, rc, 0, "out of memory validating blocks");
    if (rc != CDL_OK) break;
    show_progress(p, l, path, r, false);
  }
  if (rc == CDL_OK) show_progress(p, l, path, r, true);
  cdl_chunk_reader_close(r);
  return rc;
}

/* The selected chain of a ChainDB, read through a follower, in batches. */
static int validate_db_blocks(cdl_replay *rp, cdl_chaindb *db, cdl_rejection *rej, cdl_error *err) {
  cdl_follower *f;
  int rc = cdl_follower_new(db, &f, err);
  cdl_buf buf;
  cdl_buf_init(&buf, 0);
  size_t offs[BATCH_BLOCKS];
  cdl_span spans[BATCH_BLOCKS];
  bool more = rc == CDL_OK;
  while (more && rc == CDL_OK) {
    size_t n = 0, applied;
    cdl_buf_reset(&buf);
    while (n < BATCH_BLOCKS) {
      cdl_follow_kind kind;
      cdl_block_info info;
      cdl_point to;
      offs[n] = buf.len;
      rc = cdl_follower_next(f, &kind, &info, &to, &buf, err);
      if (rc != CDL_OK || kind != CDL_FOLLOW_FORWARD) {
        more = false;
        break;
      }
      n++;
    }
    for (size_t i = 0; i < n; i++)
      spans[i] = cdl_span_of(buf.data + offs[i], (i + 1 < n ? offs[i + 1] : buf.len) - offs[i]);
    if (rc == CDL_OK && n > 0) rc = cdl_replay_batch(rp, spans, n, &applied, rej);
    if (rc == CDL_E_NOMEM) rc = cdl_error_set(err, rc, 0, "out of memory validating blocks");
  }
  cdl_buf_free(&buf);
  cdl_follower_del(f);
  return rc;
}

static int validate_db(cdl_replay *rp, const chain_opts *o, cdl_rejection *rej, cdl_error *err) {
  db_opts dbo = {.db = o->db,
                 .genesis = o->genesis,
                 .pbft_threshold = o->pbft_threshold,
                 .no_signatures = true};
  db_genesis dg;
  cdl_chaindb *db = NULL;
  int rc = db_open(&dbo, &dg, DB_READ_ONLY, &db, NULL, err);
  if (rc == CDL_OK) rc = validate_db_blocks(rp, db, rej, err);
  cdl_chaindb_abandon(db);
  db_genesis_free(&dg);
  return rc;
}

static json_t *summary_json(const cdl_ledger *l, const chain_opts *o, double seconds) {
  cdl_ledger_tip tip;
  cdl_ledger_totals t;
  cdl_ledger_get_tip(l, &tip);
  cdl_ledger_get_totals(l, &t);
  json_t *tip_json =
      tip.at_genesis ? json_null()
                     : json_pack("{s:o,s:o,s:o}", "hash", cdl_json_hex(tip.hash, 32), "slot",
                                 cdl_json_u64(tip.slot), "block_no", cdl_json_u64(tip.block_no));
  return json_pack("{s:o,s:o,s:o,s:o,s:{s:o,s:o},s:o,s:f,s:f,s:I,s:b}", "blocks",
                   cdl_json_u64(t.blocks), "ebbs", cdl_json_u64(t.ebbs), "txs", cdl_json_u64(t.txs),
                   "tip", tip_json, "utxo", "entries", cdl_json_u64(t.utxo_entries), "lovelace",
                   cdl_json_u64(t.utxo_lovelace), "fees_lovelace", cdl_json_u64(t.fees_lovelace),
                   "seconds", seconds, "blocks_per_second",
                   seconds > 0 ? (double)t.blocks / seconds : 0.0, "threads",
                   (json_int_t)o->threads, "signatures", !o->no_signatures);
}

static int chain_validate(const chain_opts *given) {
  chain_opts copy = *given; /* a database brings its own PBFT threshold */
  if (given->db != NULL) copy.pbft_threshold = cdl_db_threshold(given->db, given->pbft_threshold);
  const chain_opts *o = &copy;
  cdl_error err = {0};
  cdl_ledger *l = NULL;
  cdl_replay *rp = NULL;
  int rc = open_ledger(o, &l, &err);
  if (rc == CDL_OK && cdl_replay_new(l, (unsigned)o->threads, &rp) != CDL_OK)
    rc = cdl_error_set(&err, CDL_E_NOMEM, 0, "out of memory starting threads");
  if (rc != CDL_OK) {
    cdl_ledger_del(l);
    return cli_report(&err);
  }
  double start = cli_now_seconds();
  progress p = {isatty(STDERR_FILENO), start, start};
  cdl_rejection rej = {0};
  for (size_t i = 0; i < o->n_chunks && rc == CDL_OK; i++)
    rc = validate_chunk(rp, l, o->chunks[i], &p, &rej, &err);
  if (o->db != NULL) rc = validate_db(rp, o, &rej, &err);
  int exit_code;
  if (rc == CDL_E_REJECTED)
    exit_code = cli_report_rejection(&rej, l);
  else if (rc != CDL_OK)
    exit_code = cli_report(&err);
  else
    exit_code = cli_print(summary_json(l, o, cli_now_seconds() - p.start), false);
  cdl_replay_del(rp);
  cdl_ledger_del(l);
  return exit_code;
}

static int run_validate(int argc, char **argv) {
  chain_opts o;
  int rc = parse_opts(argc, argv, &o);
  return rc == EXIT_OK ? chain_validate(&o) : rc;
}

static const cli_verb CHAIN_VERBS[] = {
    {"validate", NULL, "replay chunk files or a database through the ledger", run_validate},
    {"generate", NULL, "forge a valid chain from a genesis directory", chain_generate},
    {"generate-invalid", NULL, "a valid chain, then one block with a known defect",
     chain_generate_invalid}};
const cli_noun CLI_CHAIN = CLI_NOUN("chain", CHAIN_VERBS);
