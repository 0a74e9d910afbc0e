/*
 * bench_storage.c: the ChainDB (docs/storage.md) against baselines measured
 * in the same run, one thread throughout:
 *   import    the real mainnet epoch 0 (decompressed into memory first)
 *             added to a fresh ChainDB as `cardinal-cli db import` does (in
 *             batches of 256, each written in one write as it ends; no
 *             fsync until the close, which is timed),
 *             every signature checked, against validation alone (decode +
 *             cdl_ledger_apply_block) of the same blocks; best of 3 each;
 *   durability  the same with signatures off, so that storage is what is
 *             timed: in batches of 256 (db import) or a write per block
 *             (sync, a node), fsync at close, every 1,000 blocks (a node)
 *             or after every block, against validation alone without
 *             signatures;
 *   open      a generated chain of 10 epochs of k = 2160: cdl_chaindb_open
 *             from the snapshot a clean close wrote (best of 5), against
 *             an open that replays the immutable DB from the genesis;
 *   look-ups  seeded random blocks by point (cdl_chaindb_read_block), by
 *             block number (cdl_immutable_find_block_no) and their headers
 *             (cdl_immutable_read_header): 100,000 with the chunk-index
 *             cache warm; fewer across every chunk (more chunks than the
 *             cache holds) and cold (a cache of one index, so nearly every
 *             look-up loads one), as each miss costs milliseconds; a
 *             follower from the origin over the whole chain against a
 *             plain sequential read of the immutable DB;
 *   the process's peak RSS, as it stands after each part.
 * Usage: bench_storage GENESIS.json CHUNK[.zstd]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_common.h"
#include "cardinal/crypto.h"
#include "cardinal/gen.h"
#include "cardinal/storage.h"

#define IMPORT_RUNS 3
#define OPEN_RUNS 5
#define REPLAY_RUNS 2
#define LOOKUPS 100000
#define ACROSS_LOOKUPS 5000 /* about one in nine loads a chunk index */
#define COLD_LOOKUPS 500    /* nearly each loads a chunk index */
#define GEN_K 2160
#define GEN_EPOCHS 10
#define BATCH 512
#define SEED 20240601
#define IMPORT_BATCH 256 /* blocks db import reads, and writes, together */
#define DURABLE_EACH_BLOCKS 2000 /* an fsync per block is slow: fewer blocks */

static char base_dir[64];

static void die(const char *what, const cdl_error *err) {
  fprintf(stderr, "bench_storage: %s: %s\n", what, err->message);
  exit(1);
}

static void die_rejected(const char *what, const cdl_rejection *rej) {
  fprintf(stderr, "bench_storage: %s: block refused: %s %s\n", what, rej->rule ? rej->rule : "?",
          rej->detail);
  exit(1);
}

static void path_in(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", base_dir, name);
}

static cdl_ledger_config ledger_config(const cdl_byron_genesis *g, unsigned flags) {
  return (cdl_ledger_config){.protocol_magic = g->protocol_magic,
                             .requires_magic = cdl_byron_requires_magic(g->protocol_magic),
                             .k = g->k,
                             .flags = flags};
}

/* ---- 1. Import of the mainnet epoch 0 against validation alone ---------- */

typedef struct chain_mem {
  cdl_buf bytes;   /* the decompressed chunk */
  cdl_span *spans; /* its blocks, into bytes */
  size_t n;
} chain_mem;

static void load_genesis(const char *path, cdl_arena *arena, cdl_byron_genesis *g) {
  cdl_buf text;
  cdl_error err = {0};
  cdl_buf_init(&text, 0);
  cdl_arena_init(arena, 0);
  if (cdl_file_read_all(path, (size_t)64 << 20, &text, &err) != CDL_OK ||
      cdl_byron_genesis_load(text.data, text.len, arena, g, &err) != CDL_OK)
    die(path, &err);
  cdl_buf_free(&text);
}

/* Decompresses the whole chunk into memory so that neither side pays zstd. */
static void load_chunk(const char *path, chain_mem *c) {
  cdl_chunk_reader *r;
  cdl_error err = {0};
  if (cdl_chunk_reader_open(path, &r, &err) != CDL_OK) die(path, &err);
  cdl_buf_init(&c->bytes, 0);
  cdl_span spans[BATCH];
  size_t n;
  while (cdl_chunk_reader_next(r, spans, NULL, BATCH, &n, &err) == CDL_OK && n > 0)
    for (size_t i = 0; i < n; i++)
      if (cdl_buf_append(&c->bytes, spans[i].ptr, spans[i].len) != CDL_OK) abort();
  if (err.code != CDL_OK) die(path, &err);
  cdl_chunk_reader_close(r);
  if (cdl_gen_split_chunk(c->bytes.data, c->bytes.len, &c->spans, &c->n, &err) != CDL_OK)
    die("split", &err);
}

/* Decode + apply of the first |n| blocks on a fresh ledger; seconds. */
static double validate_once(const cdl_byron_genesis *g, const chain_mem *c, unsigned flags,
                            size_t n) {
  cdl_ledger_config cfg = ledger_config(g, flags);
  cdl_ledger *l;
  cdl_error err = {0};
  if (cdl_ledger_new(g, &cfg, &l, &err) != CDL_OK) die("ledger", &err);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  double t = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    cdl_arena_reset(&arena);
    cdl_byron_ctx ctx = {.arena = &arena, .err = &err, .flags = 0};
    cdl_byron_block blk;
    cdl_rejection rej;
    if (cdl_byron_block_decode(c->spans[i].ptr, c->spans[i].len, &ctx, &blk) != CDL_OK)
      die("decode", &err);
    if (cdl_ledger_apply_block(l, &blk, &rej) != CDL_OK) die_rejected("validate", &rej);
  }
  t = bench_now_s() - t;
  cdl_arena_free(&arena);
  cdl_ledger_del(l);
  return t;
}

static void add_one(cdl_chaindb *db, const cdl_span *s) {
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  if (cdl_chaindb_add_block(db, s->ptr, s->len, &res, &rej, &err) != CDL_OK) die("add", &err);
  if (res.outcome == CDL_ADD_INVALID) die_rejected("import", &rej);
  if (res.outcome != CDL_ADD_ADOPTED) {
    fprintf(stderr, "bench_storage: import: a block was not adopted (outcome %d)\n", res.outcome);
    exit(1);
  }
}

/* How an import is run: ledger flags, blocks between fsyncs, blocks. */
typedef struct import_mode {
  unsigned flags;
  uint64_t sync_interval;
  size_t n;
  size_t batch; /* blocks written together (db import: 256; a node or sync: 1) */
} import_mode;

/* A fresh ChainDB, the first |m->n| blocks added, closed; seconds from
 * the first add to the end of the close (the open of an empty directory
 * is not timed, as the ledger's creation is not in validate_once). */
static double import_once(const cdl_byron_genesis *g, const chain_mem *c, const char *name,
                          const import_mode *m) {
  char dir[128];
  path_in(dir, sizeof dir, name);
  cdl_chaindb_config cfg = {.dir = dir, .genesis = g, .ledger = ledger_config(g, m->flags),
                            .sync_interval = m->sync_interval};
  cdl_chaindb *db;
  cdl_error err = {0};
  if (cdl_chaindb_open(&cfg, &db, NULL, &err) != CDL_OK) die("open", &err);
  double t = bench_now_s();
  for (size_t i = 0; i < m->n; i += m->batch) {
    cdl_chaindb_batch_begin(db);
    for (size_t j = i; j < i + m->batch && j < m->n; j++) add_one(db, &c->spans[j]);
    if (cdl_chaindb_batch_end(db, &err) != CDL_OK) die("batch", &err);
  }
  if (cdl_chaindb_close(db, &err) != CDL_OK) die("close", &err);
  return bench_now_s() - t;
}

static double import_best(const cdl_byron_genesis *g, const chain_mem *c, const char *what,
                          const import_mode *m, int runs) {
  double best = 1e30;
  for (int run = 0; run < runs; run++) {
    char name[64];
    snprintf(name, sizeof name, "%s-%d", what, run);
    double t = import_once(g, c, name, m);
    if (t < best) best = t;
  }
  return best;
}

/* The cost of durability (docs/storage.md "Durability"): storage in the
 * foreground (signatures off), each block written through to the OS, under
 * each fsync policy, against validation alone of the same blocks. */
static void bench_durability(const cdl_byron_genesis *g, const chain_mem *c) {
  double validate = 1e30;
  for (int run = 0; run < IMPORT_RUNS; run++) {
    double v = validate_once(g, c, CDL_LEDGER_NO_SIGNATURES, c->n);
    if (v < validate) validate = v;
  }
  const unsigned nosig = CDL_LEDGER_NO_SIGNATURES;
  import_mode batched = {nosig, UINT64_MAX, c->n, IMPORT_BATCH};
  import_mode single = {nosig, UINT64_MAX, c->n, 1};
  import_mode node = {nosig, 1000, c->n, 1};
  import_mode each = {nosig, 1, DURABLE_EACH_BLOCKS, 1};
  double t_batched = import_best(g, c, "batched", &batched, IMPORT_RUNS);
  double t_single = import_best(g, c, "single", &single, IMPORT_RUNS);
  double t_node = import_best(g, c, "node", &node, IMPORT_RUNS);
  double t_each = import_best(g, c, "each", &each, 1);
  double vr = c->n / validate;
  printf("durability: the same blocks, signatures off (storage in the foreground), best of %d\n",
         IMPORT_RUNS);
  printf("  validation alone (decode + apply):               %8.0f blocks/s\n", vr);
  printf("  256 blocks a write, fsync at close (db import):  %8.0f blocks/s  ratio %.2f\n",
         c->n / t_batched, c->n / t_batched / vr);
  printf("  a write per block, fsync at close (sync):        %8.0f blocks/s  ratio %.2f\n",
         c->n / t_single, c->n / t_single / vr);
  printf("  a write per block, fsync every 1,000 (a node):   %8.0f blocks/s  ratio %.2f\n",
         c->n / t_node, c->n / t_node / vr);
  printf("  fsync after every block (first %d; not done):  %8.0f blocks/s  ratio %.3f\n",
         DURABLE_EACH_BLOCKS, DURABLE_EACH_BLOCKS / t_each, DURABLE_EACH_BLOCKS / t_each / vr);
  printf("  per block: a write of its own costs %.1f us, an fsync every 1,000 blocks %.1f us, "
         "an fsync each %.0f us\n", (t_single - t_batched) / c->n * 1e6,
         (t_node - t_single) / c->n * 1e6, t_each / DURABLE_EACH_BLOCKS * 1e6);
}

static void bench_import(const char *genesis_path, const char *chunk_path) {
  cdl_arena arena;
  cdl_byron_genesis g;
  chain_mem c;
  load_genesis(genesis_path, &arena, &g);
  load_chunk(chunk_path, &c);
  double validate = 1e30, import = 1e30;
  import_mode full = {0, UINT64_MAX, c.n, IMPORT_BATCH};
  for (int run = 0; run < IMPORT_RUNS; run++) {
    char name[32];
    snprintf(name, sizeof name, "import-%d", run);
    double v = validate_once(&g, &c, 0, c.n), i = import_once(&g, &c, name, &full);
    if (v < validate) validate = v;
    if (i < import) import = i;
  }
  double mb = c.bytes.len / 1e6, vr = c.n / validate, ir = c.n / import;
  printf("import: mainnet epoch 0, %zu blocks, %.1f MB decompressed, every signature, "
         "1 thread (best of %d)\n", c.n, mb, IMPORT_RUNS);
  printf("  validation alone (decode + apply): %8.0f blocks/s  %6.1f MB/s  (%.2f s)\n", vr,
         mb / validate, validate);
  printf("  ChainDB import (add + close):      %8.0f blocks/s  %6.1f MB/s  (%.2f s)\n", ir,
         mb / import, import);
  printf("  ratio import/validation: %.2f (blocks/s); import takes %.2fx the time\n", ir / vr,
         import / validate);
  printf("  target: import within 10%% of validation alone: %s\n",
         import <= 1.10 * validate ? "met" : "NOT met");
  bench_durability(&g, &c);
  free(c.spans);
  cdl_buf_free(&c.bytes);
  cdl_arena_free(&arena);
}

/* ---- 2. A generated chain of GEN_EPOCHS epochs, its import and open ---- */

static void make_network(cdl_gen_dir *d) {
  char net[128];
  path_in(net, sizeof net, "net");
  bench_make_network(net, GEN_K, d);
}

static double generate_chain(const cdl_gen_dir *d, const char *path, cdl_gen_chain_stats *st) {
  cdl_gen_chain_opts o = {.slots = (uint64_t)GEN_EPOCHS * 10 * GEN_K,
                          .fill = 1.0,
                          .txs_per_block = 2,
                          .delegation = true,
                          .updates = true,
                          .seed = 1};
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    perror(path);
    exit(1);
  }
  cdl_rejection rej;
  cdl_error err = {0};
  double t = bench_now_s();
  if (cdl_gen_chain(d, &o, f, st, &rej, &err) != CDL_OK) die("generate", &err);
  if (fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  return bench_now_s() - t;
}

/* Streams the generated chunk into the ChainDB at |cfg| and closes it. */
static double import_file(const cdl_chaindb_config *cfg, const char *path) {
  cdl_chaindb *db;
  cdl_chunk_reader *r;
  cdl_error err = {0};
  double t = bench_now_s();
  if (cdl_chaindb_open(cfg, &db, NULL, &err) != CDL_OK) die("open", &err);
  if (cdl_chunk_reader_open(path, &r, &err) != CDL_OK) die(path, &err);
  cdl_span spans[BATCH];
  size_t n;
  while (cdl_chunk_reader_next(r, spans, NULL, BATCH, &n, &err) == CDL_OK && n > 0)
    for (size_t i = 0; i < n; i++) add_one(db, &spans[i]);
  if (err.code != CDL_OK) die(path, &err);
  cdl_chunk_reader_close(r);
  if (cdl_chaindb_close(db, &err) != CDL_OK) die("close", &err);
  return bench_now_s() - t;
}

static double open_timed(const cdl_chaindb_config *cfg, cdl_chaindb **db, cdl_chaindb_report *rep) {
  cdl_error err = {0};
  double t = bench_now_s();
  if (cdl_chaindb_open(cfg, db, rep, &err) != CDL_OK) die("open", &err);
  return bench_now_s() - t;
}

/* Best of OPEN_RUNS opens from the snapshot, each closed again. */
static double best_open(const cdl_chaindb_config *cfg, cdl_chaindb_report *rep) {
  double best = 1e30;
  cdl_error err = {0};
  for (int run = 0; run < OPEN_RUNS; run++) {
    cdl_chaindb *db;
    double t = open_timed(cfg, &db, rep);
    if (t < best) best = t;
    if (rep->snapshot[0] == '\0') {
      fprintf(stderr, "bench_storage: open did not use the shutdown snapshot\n");
      exit(1);
    }
    if (cdl_chaindb_close(db, &err) != CDL_OK) die("close", &err);
  }
  return best;
}

/* Opens with the snapshots removed (a replay from the genesis); all but
 * the last are abandoned so that no snapshot is written and every run
 * replays; the last stays open in *db. */
static double best_replay_open(const cdl_chaindb_config *cfg, cdl_chaindb **db,
                               cdl_chaindb_report *rep) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -f %s/ledger/snapshot-*.lsnap", cfg->dir);
  double best = 1e30;
  for (int run = 0; run < REPLAY_RUNS; run++) {
    if (system(cmd) != 0) exit(1);
    double t = open_timed(cfg, db, rep);
    if (t < best) best = t;
    if (run + 1 < REPLAY_RUNS) cdl_chaindb_abandon(*db);
  }
  return best;
}

/* ---- 3. Look-ups ---------------------------------------------------------- */

typedef struct lookup_set {
  size_t n;
  cdl_immutable_pos *pos;
  cdl_point *points;
} lookup_set;

typedef struct lookup_times {
  double by_block_no, header, by_point; /* mean microseconds per look-up */
} lookup_times;

static void draw_block_nos(uint64_t *out, size_t n, uint64_t lo, uint64_t hi, uint64_t seed) {
  cdl_gen_rng rng;
  cdl_gen_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++) out[i] = lo + cdl_gen_rng_below(&rng, hi - lo);
}

/* cdl_immutable_find_block_no for each, filling |set|; mean microseconds. */
static double time_find(cdl_immutable *im, const uint64_t *nos, lookup_set *set) {
  cdl_error err = {0};
  double t = bench_now_s();
  for (size_t i = 0; i < set->n; i++) {
    cdl_block_info info;
    if (cdl_immutable_find_block_no(im, nos[i], &set->pos[i], &info, &err) != CDL_OK)
      die("find_block_no", &err);
    set->points[i] = (cdl_point){.origin = false, .slot = info.slot};
    memcpy(set->points[i].hash, info.hash, 32);
  }
  return (bench_now_s() - t) * 1e6 / set->n;
}

static double time_headers(cdl_immutable *im, const lookup_set *set, cdl_buf *buf) {
  cdl_error err = {0};
  double t = bench_now_s();
  for (size_t i = 0; i < set->n; i++) {
    cdl_buf_reset(buf);
    if (cdl_immutable_read_header(im, set->pos[i], buf, NULL, &err) != CDL_OK)
      die("read_header", &err);
  }
  return (bench_now_s() - t) * 1e6 / set->n;
}

static double time_points(cdl_chaindb *db, const lookup_set *set, cdl_buf *buf) {
  cdl_error err = {0};
  double t = bench_now_s();
  for (size_t i = 0; i < set->n; i++) {
    cdl_buf_reset(buf);
    if (cdl_chaindb_read_block(db, &set->points[i], buf, NULL, &err) != CDL_OK)
      die("read_block", &err);
  }
  return (bench_now_s() - t) * 1e6 / set->n;
}

/* The three look-ups over |n| random block numbers in [lo, hi); |db| may
 * be NULL (no read by point: an immutable DB opened on its own). */
static lookup_times run_lookups(cdl_chaindb *db, cdl_immutable *im, size_t n, uint64_t lo,
                                uint64_t hi, uint64_t seed) {
  uint64_t *nos = malloc(n * sizeof *nos);
  lookup_set set = {n, malloc(n * sizeof *set.pos), malloc(n * sizeof *set.points)};
  if (nos == NULL || set.pos == NULL || set.points == NULL) abort();
  draw_block_nos(nos, n, lo, hi, seed);
  cdl_buf buf;
  cdl_buf_init(&buf, 0);
  lookup_times t = {0};
  t.by_block_no = time_find(im, nos, &set);
  t.header = time_headers(im, &set, &buf);
  if (db != NULL) t.by_point = time_points(db, &set, &buf);
  cdl_buf_free(&buf);
  free(nos);
  free(set.pos);
  free(set.points);
  return t;
}

static uint64_t block_no_at_slot(cdl_immutable *im, uint64_t slot) {
  cdl_immutable_pos pos;
  cdl_block_info info;
  cdl_error err = {0};
  if (cdl_immutable_find_slot(im, slot, &pos, &info, &err) != CDL_OK) die("find_slot", &err);
  return info.block_no;
}

static void print_lookups(const char *what, size_t n, lookup_times t) {
  printf("  %-32s %6zu %12.2f %12.2f", what, n, t.by_block_no, t.header);
  if (t.by_point > 0) printf(" %14.2f\n", t.by_point);
  else printf(" %14s\n", "-");
}

/* The immutable DB on its own with a cache of one chunk index: a look-up
 * outside the last chunk used (and the tip chunk) loads an index. */
static lookup_times cold_lookups(const char *db_dir, uint64_t hi) {
  char dir[160];
  snprintf(dir, sizeof dir, "%s/immutable", db_dir);
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable_config ic = {.epoch_slots = 10 * GEN_K, .read_only = true, .cached_chunks = 1};
  cdl_immutable *im;
  cdl_error err = {0};
  if (cdl_immutable_open(&fs, dir, &ic, &im, NULL, &err) != CDL_OK) die("immutable open", &err);
  lookup_times t = run_lookups(NULL, im, COLD_LOOKUPS, 0, hi, SEED + 3);
  cdl_immutable_close(im);
  return t;
}

/* Warm: blocks of epochs 1-8 (as many chunk indexes as the default cache
 * holds), after a pass that loads them. Across: every immutable block,
 * more chunks than the cache holds. Cold: see cold_lookups. */
static void bench_lookups(cdl_chaindb *db, const char *db_dir) {
  cdl_immutable *im = cdl_chaindb_immutable(db);
  cdl_block_info tip;
  if (!cdl_immutable_tip(im, &tip, NULL)) abort();
  uint64_t epoch_slots = 10 * GEN_K;
  uint64_t lo = block_no_at_slot(im, epoch_slots) + 1, hi = block_no_at_slot(im, 9 * epoch_slots);
  run_lookups(db, im, 2000, lo, hi, SEED);
  lookup_times warm = run_lookups(db, im, LOOKUPS, lo, hi, SEED + 1);
  lookup_times across = run_lookups(db, im, ACROSS_LOOKUPS, 0, tip.block_no + 1, SEED + 2);
  lookup_times cold = cold_lookups(db_dir, tip.block_no + 1);
  printf("look-ups of seeded random immutable blocks, mean us per look-up:\n");
  printf("  %-32s %6s %12s %12s %14s\n", "chunk-index cache", "count", "by block no", "header",
         "block by point");
  print_lookups("warm (epochs 1-8, all cached)", LOOKUPS, warm);
  print_lookups("across all chunks (8 cached)", ACROSS_LOOKUPS, across);
  print_lookups("cold (1 cached)", COLD_LOOKUPS, cold);
  printf("  ratio cold/warm by block no: %.0fx\n", cold.by_block_no / warm.by_block_no);
}

/* The baseline for the follower: every immutable block read in order. */
static double read_sequential(cdl_immutable *im, uint64_t *blocks) {
  cdl_buf buf;
  cdl_buf_init(&buf, 0);
  cdl_error err = {0};
  cdl_immutable_pos pos = {0, 0};
  *blocks = 0;
  double t = bench_now_s();
  for (bool more = cdl_immutable_count(im) > 0; more; more = cdl_immutable_next(im, &pos)) {
    cdl_buf_reset(&buf);
    if (cdl_immutable_read(im, pos, &buf, NULL, &err) != CDL_OK) die("read", &err);
    ++*blocks;
  }
  t = bench_now_s() - t;
  cdl_buf_free(&buf);
  return t;
}

/* A follower from the origin to the tip, every block's bytes read. */
static double follow_all(cdl_chaindb *db, uint64_t *blocks) {
  cdl_follower *f;
  cdl_error err = {0};
  if (cdl_follower_new(db, &f, &err) != CDL_OK) die("follower", &err);
  cdl_buf buf;
  cdl_buf_init(&buf, 0);
  *blocks = 0;
  double t = bench_now_s();
  for (;;) {
    cdl_follow_kind kind;
    cdl_block_info info;
    cdl_point to;
    cdl_buf_reset(&buf);
    if (cdl_follower_next(f, &kind, &info, &to, &buf, &err) != CDL_OK) die("follow", &err);
    if (kind == CDL_FOLLOW_AWAIT) break;
    if (kind != CDL_FOLLOW_FORWARD) {
      fprintf(stderr, "bench_storage: the follower rolled back on a quiet chain\n");
      exit(1);
    }
    ++*blocks;
  }
  t = bench_now_s() - t;
  cdl_buf_free(&buf);
  cdl_follower_del(f);
  return t;
}

static void bench_follow(cdl_chaindb *db) {
  uint64_t seq_blocks, fol_blocks;
  double seq = read_sequential(cdl_chaindb_immutable(db), &seq_blocks);
  double fol = follow_all(db, &fol_blocks);
  double fol_rate = fol_blocks / fol, seq_rate = seq_blocks / seq;
  printf("follower from the origin to the tip: %llu blocks, %.0f blocks/s (%.2f s)\n",
         (unsigned long long)fol_blocks, fol_rate, fol);
  printf("  baseline, sequential read of the immutable DB: %llu blocks, %.0f blocks/s\n",
         (unsigned long long)seq_blocks, seq_rate);
  printf("  ratio follower/sequential read: %.2f\n", fol_rate / seq_rate);
}

/* ---- Peak RSS as it stands after each part ---- */

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

static double rss_import, rss_generated, rss_opened;

/* ---- 2 and 3 on the generated chain ---- */

/* The generated network and chain, imported into DIR/db and closed. */
static void make_generated_db(cdl_gen_dir *d, cdl_chaindb_config *cfg, char *db_dir) {
  char chunk[128];
  path_in(chunk, sizeof chunk, "gen.chunk");
  path_in(db_dir, 128, "db");
  make_network(d);
  cdl_gen_chain_stats st;
  double gen = generate_chain(d, chunk, &st);
  *cfg = (cdl_chaindb_config){.dir = db_dir, .genesis = &d->genesis,
                              .ledger = ledger_config(&d->genesis, CDL_LEDGER_NO_SIGNATURES),
                              .sync_interval = UINT64_MAX};
  cfg->ledger.requires_magic = d->requires_magic;
  double import = import_file(cfg, chunk);
  remove(chunk);
  cfg->ledger.flags = 0; /* the opens below check signatures as a node does */
  cfg->sync_interval = 0;
  printf("generated: %d epochs of k=%d, %llu blocks + %llu EBBs, %llu txs, %.1f MB, "
         "in %.1f s\n", GEN_EPOCHS, GEN_K, (unsigned long long)st.blocks,
         (unsigned long long)st.ebbs, (unsigned long long)st.txs, st.bytes / 1e6, gen);
  printf("  imported, signatures off (forged and validated in this run): %.1f s, "
         "%.0f blocks/s\n", import, (st.blocks + st.ebbs) / import);
}

static int newest_snapshot(void *ctx, const char *name) {
  char *best = ctx;
  if (strncmp(name, "snapshot-", 9) == 0 && strcmp(name, best) > 0)
    snprintf(best, 128, "%s", name);
  return CDL_OK;
}

/* Each part of an open alone: the immutable DB (every chunk index read),
 * the volatile DB, the newest ledger snapshot read and parsed. */
static void open_parts(const cdl_chaindb_config *cfg) {
  char dir[160], name[128] = "", path[300];
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_error err = {0};
  double t0 = bench_now_s();
  cdl_immutable_config ic = {.epoch_slots = 10 * GEN_K, .read_only = true};
  cdl_immutable *im;
  snprintf(dir, sizeof dir, "%s/immutable", cfg->dir);
  if (cdl_immutable_open(&fs, dir, &ic, &im, NULL, &err) != CDL_OK) die("immutable", &err);
  double t1 = bench_now_s();
  cdl_volatile_config vc = {.epoch_slots = 10 * GEN_K};
  cdl_volatile *v;
  snprintf(dir, sizeof dir, "%s/volatile", cfg->dir);
  if (cdl_volatile_open(&fs, dir, &vc, &v, &err) != CDL_OK) die("volatile", &err);
  double t2 = bench_now_s();
  snprintf(dir, sizeof dir, "%s/ledger", cfg->dir);
  if (fs.ops->list(&fs, dir, newest_snapshot, name, &err) != CDL_OK) die("list", &err);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cdl_fs_view bytes; /* as the open reads it: mapped */
  cdl_ledger *l = NULL;
  if (cdl_fs_view_file(&fs, path, (size_t)4 << 30, &bytes, &err) != CDL_OK ||
      cdl_ledger_snapshot_read(bytes.data, bytes.len, &cfg->ledger, cfg->genesis->hash, &l,
                               &err) != CDL_OK)
    die(path, &err);
  double t3 = bench_now_s();
  printf("  parts alone: immutable DB %.1f ms, volatile DB %.1f ms, one snapshot (%.1f MB) "
         "read + parsed %.1f ms\n", (t1 - t0) * 1e3, (t2 - t1) * 1e3, bytes.len / 1e6,
         (t3 - t2) * 1e3);
  cdl_ledger_del(l);
  cdl_fs_view_free(&bytes);
  cdl_volatile_close(v);
  cdl_immutable_close(im);
}

static void bench_generated(void) {
  cdl_gen_dir d;
  cdl_chaindb_config cfg;
  char db_dir[128];
  make_generated_db(&d, &cfg, db_dir);
  rss_generated = peak_rss_mb();
  cdl_chaindb_report rep;
  double open = best_open(&cfg, &rep);
  rss_opened = peak_rss_mb();
  printf("open from the shutdown snapshot: %.1f ms (best of %d; %llu immutable blocks in %u "
         "chunks, %zu blocks in the volatile DB)\n", open * 1e3, OPEN_RUNS,
         (unsigned long long)rep.immutable.blocks, rep.immutable.chunks, rep.volatile_db.blocks);
  open_parts(&cfg);
  cdl_chaindb *db;
  double replay = best_replay_open(&cfg, &db, &rep);
  printf("  baseline, open replaying from the genesis (snapshots removed): %.1f ms "
         "(best of %d, %llu blocks replayed)\n", replay * 1e3, REPLAY_RUNS,
         (unsigned long long)rep.replayed_blocks);
  printf("  ratio snapshot open/replay open: %.3f\n", open / replay);
  printf("  target: open under 100 ms: %s\n", open < 0.100 ? "met" : "NOT met");
  bench_lookups(db, db_dir);
  bench_follow(db);
  cdl_chaindb_abandon(db);
  cdl_gen_dir_free(&d);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_storage GENESIS.json CHUNK[.zstd]\n");
    return 2;
  }
  if (cdl_crypto_init() != CDL_OK) return 3;
  snprintf(base_dir, sizeof base_dir, "/tmp/cdl-bench-storage-XXXXXX");
  if (mkdtemp(base_dir) == NULL) return 3;
  double t = bench_now_s();
  bench_import(argv[1], argv[2]);
  rss_import = peak_rss_mb();
  bench_generated();
  printf("peak RSS: %.1f MB (whole process; %.1f MB after the epoch-0 import, %.1f MB after "
         "generating and importing 10 epochs, %.1f MB after the opens)\n", peak_rss_mb(),
         rss_import, rss_generated, rss_opened);
  printf("benchmark wall time: %.1f s\n", bench_now_s() - t);
  if (getenv("CDL_BENCH_KEEP") != NULL) { /* for profiling an open by hand */
    printf("kept: %s\n", base_dir);
    return 0;
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", base_dir);
  return system(cmd) == 0 ? 0 : 1;
}
