/*
 * test_corrupt.c: the storage corruption test (docs/design.md section 8,
 * tier 6; include/cardinal/storage.h "Immutable DB", "Volatile DB",
 * "ChainDB"). Acceptance point: "random byte flips, truncations, deleted or
 * damaged index files and damaged snapshots in copies of a DB: always
 * detected, the DB reopens at the last good block, never a crash (ASan
 * clean)."
 *
 * A base DB is built once from a generated k = 10 chain of six epochs (six
 * chunks with their indexes, volatile files, two snapshots) and closed
 * cleanly. Each case damages a copy and opens it; the source index of the
 * damaged block is computed from the chain itself, not from the DB:
 *  (a) a flipped byte in an immutable block: the immutable DB keeps exactly
 *      the blocks before it (validate_all unless it is the tail block),
 *      reports a problem and cut bytes;
 *  (b) a chunk cut inside a block, junk after a chunk's last block:
 *      exactly the blocks before the damage are kept;
 *  (c) a deleted index, (d) an index with a flipped byte, cut inside an
 *      entry or with a garbage header: rebuilt, nothing else changes;
 *  (e) the newest snapshot (or both) flipped or cut: skipped, the ledger
 *      is the same as after an undamaged open;
 *  (f) a volatile file flipped or cut: the records from the damage on are
 *      dropped and the tip is the last block before the first one lost;
 *  (g) 240 seeded random cases, 200 under AddressSanitizer (any file but
 *      genesis.hash; a byte or bytes flipped, cut, deleted, a range zeroed,
 *      junk appended, the start overwritten): the immutable DB keeps
 *      exactly the blocks before the first damaged byte (a chunk file
 *      deleted: as (h));
 *  (h) missing files (docs/storage.md "Missing files"): a chunk file
 *      deleted (its index left), a chunk and its index deleted (one or
 *      two: a gap; the first: the genesis is not followed), the last
 *      chunks or every file of the immutable DB deleted (the newest
 *      snapshot lies more than k blocks past what is left): the owner's
 *      open and a reader's are refused with storage.missing naming the
 *      file and the truncation that keeps the blocks before it, and no
 *      byte of any file changes; and the owner's open that cuts damage
 *      (chunk 2 cut to one byte), killed before and after each change it
 *      makes, leaves a database the next open takes without a refusal;
 * and in every other case: the open succeeds, the tip and the ledger's tip are
 * one block of the source (exactly the block before the damage when the
 * volatile files do not hold the damaged block), every immutable block is
 * the source's byte for byte, cdl_immutable_check_all passes, the DB
 * closes, and a second open repairs nothing and has the same tip. The
 * first 3,000 blocks of the real mainnet epoch 0 (k = 2160, one chunk) get
 * a few cases of each kind; a damaged genesis.hash is refused; and after a
 * cut that leaves the snapshots unusable the DB keeps the new ones it
 * takes. Failures are collected and reported together with their seeds.
 * (A cut back to a chunk's start followed by a fork's block in the chunk
 * before it: test_immutable.c.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "killer_fs.h"
#include "storage_support.h"

#define GEN_K 10
#define GEN_SLOTS 600 /* six epochs of 100 slots, six chunks */
#define MAINNET_BLOCKS 3000 /* 840 immutable (k = 2160), one chunk */
#if UNDER_ASAN
#define RANDOM_CASES 200 /* each case is about ten times slower */
#else
#define RANDOM_CASES 240
#endif
#define MAX_FILES 256
#define MAX_RECORDS 2048

/* A source chain and the undamaged base DB built from it. */
typedef struct world {
  const char *name;
  const cdl_byron_genesis *genesis;
  cdl_ledger_config ledger;
  uint64_t epoch_slots, snapshot_interval;
  const cdl_span *blocks;
  size_t n_blocks;
  cdl_block_info *info;
  uint64_t *chunk_offset; /* each block's offset in its chunk file */
  bool *in_volatile;      /* the block is in a volatile file of the base */
  struct base {
    char dir[64];
    size_t imm_count; /* blocks in the immutable DB */
    long tip;         /* source index of the tip */
    cdl_ledger_totals totals;
    char snaps[2][160];         /* newest first */
    char files[MAX_FILES][128]; /* relative paths of every file but genesis.hash */
    size_t n_files;
  } base;
} world;

static world GEN, MAIN;
static world *W; /* the one the running test damages */

static char gen_dir[64];
static cdl_gen_dir gen;
static gchain gen_chain;
static genesis_fixture mainnet;
static epoch0 epoch;

/* ---- Failures, collected per test ----------------------------------------- */

typedef struct failures {
  unsigned n, cases;
  char first[10][320];
} failures;

typedef struct kase {
  const char *name;
  uint64_t seed;
  failures *f;
  char dir[64];
  bool bad;
} kase;

static void kase_fail(kase *k, const char *fmt, ...) {
  if (k->bad) return; /* the first failure of a case says most */
  k->bad = true;
  if (k->f->n < 10) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(k->f->first[k->f->n], sizeof k->f->first[0], "%s seed %llu: %s", k->name,
             (unsigned long long)k->seed, msg);
  }
  k->f->n++;
}

#define EXPECT(k, cond, ...)               \
  do {                                     \
    if (!(cond)) kase_fail(k, __VA_ARGS__); \
  } while (0)

static void report(const failures *f, const char *what) {
  printf("%s: %u cases, %u failed\n", what, f->cases, f->n);
  for (unsigned i = 0; i < f->n && i < 10; i++) printf("  %s\n", f->first[i]);
  if (f->n > 0)
    fail_msg("%s: %u of %u cases failed; first: %s", what, f->n, f->cases, f->first[0]);
}

/* Runs |one| for seeds first..last (chunk numbers for some) and reports
 * the failures together as |what|. */
static void run_cases(void (*one)(failures *f, uint64_t seed), uint64_t first, uint64_t last,
                      const char *what) {
  failures f = {0};
  for (uint64_t seed = first; seed <= last; seed++) one(&f, seed);
  report(&f, what);
}

/* ---- Small helpers ------------------------------------------------------- */

/* The source index of |b| when it is that block of the source, else -1. */
static long index_of(const cdl_block_info *b) { return find_block(W->info, W->n_blocks, b); }

static uint32_t chunk_of(size_t i) { return (uint32_t)(W->info[i].slot / W->epoch_slots); }

/* The last chunk of the base DB. */
static uint32_t last_chunk(void) { return chunk_of(W->base.imm_count - 1); }

static void cut_to(const char *path, uint64_t size) {
  assert_int_equal(truncate(path, (off_t)size), 0);
}

static uint8_t nonzero_byte(cdl_gen_rng *r) { return (uint8_t)(1 + cdl_gen_rng_below(r, 255)); }

static void kase_begin(kase *k, failures *f, const char *name, uint64_t seed) {
  *k = (kase){.name = name, .seed = seed, .f = f};
  make_dir(k->dir, sizeof k->dir, "corrupt");
  copy_tree(W->base.dir, k->dir);
  f->cases++;
}

static void kase_end(kase *k) { remove_tree(k->dir); }

static cdl_chaindb_config config_of(const char *dir, bool validate_all) {
  return (cdl_chaindb_config){.dir = dir, .genesis = W->genesis, .ledger = W->ledger,
                              .snapshot_interval = W->snapshot_interval, .sync_interval = 50,
                              .validate_all = validate_all};
}

typedef struct vrec {
  uint64_t offset, end;
  long block; /* source index */
} vrec;

/* The records of a volatile file ("CDLV" | u32 length | u32 CRC | block). */
static size_t parse_volatile(const char *path, vrec *out, size_t max) {
  cdl_buf b;
  read_file(path, &b);
  size_t n = 0;
  for (uint64_t at = 0; at < b.len; n++) {
    assert_true(n < max && b.len - at >= 12 && memcmp(b.data + at, "CDLV", 4) == 0);
    uint32_t len = (uint32_t)b.data[at + 4] | (uint32_t)b.data[at + 5] << 8 |
                   (uint32_t)b.data[at + 6] << 16 | (uint32_t)b.data[at + 7] << 24;
    cdl_block_info bi;
    cdl_error err = {0};
    assert_int_equal(cdl_block_info_read(b.data + at + 12, len, W->epoch_slots, &bi, &err), CDL_OK);
    out[n] = (vrec){at, at + 12 + len, index_of(&bi)};
    assert_true(out[n].block >= 0);
    at = out[n].end;
  }
  cdl_buf_free(&b);
  return n;
}

/* ---- Opening a damaged copy and judging it -------------------------------- */

static cdl_chaindb *open_case(kase *k, bool validate_all, cdl_chaindb_report *rep) {
  cdl_chaindb_config cfg = config_of(k->dir, validate_all);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  if (cdl_chaindb_open(&cfg, &db, rep, &err) != CDL_OK) {
    kase_fail(k, "open failed: %s", err.message);
    return NULL;
  }
  return db;
}

/* The tip's source index (-1: empty); checks that it and the ledger's tip
 * are one block of the source, that the immutable blocks are intact and
 * that db validate (cdl_immutable_check_all) passes. */
static long check_db(kase *k, cdl_chaindb *db) {
  cdl_block_info tip;
  cdl_ledger_tip lt;
  cdl_ledger_get_tip(cdl_chaindb_ledger(db), &lt);
  long t = -1;
  if (cdl_chaindb_tip(db, &tip)) {
    t = index_of(&tip);
    EXPECT(k, t >= 0, "the tip (block %llu, slot %llu) is not a block of the source",
           (unsigned long long)tip.block_no, (unsigned long long)tip.slot);
    EXPECT(k, !lt.at_genesis && memcmp(lt.hash, tip.hash, 32) == 0, "the ledger is not at the tip");
  } else {
    EXPECT(k, lt.at_genesis, "an empty chain with a ledger past the genesis");
  }
  cdl_immutable_pos bad;
  cdl_error err = {0};
  int rc = cdl_immutable_check_all(cdl_chaindb_immutable(db), &bad, &err);
  EXPECT(k, rc == CDL_OK, "db validate fails after open: %s", err.message);
  char why[300];
  if (!k->bad && !immutable_matches(cdl_chaindb_immutable(db), W->blocks, W->n_blocks, why,
                                    sizeof why))
    kase_fail(k, "after open, %s (damage kept)", why);
  return t;
}

static void close_case(kase *k, cdl_chaindb *db) {
  cdl_error err = {0};
  EXPECT(k, cdl_chaindb_close(db, &err) == CDL_OK, "close failed: %s", err.message);
}

/* A second open repairs nothing and has tip |tip| (every block was checked
 * against its index by cdl_immutable_check_all after the first). */
static void second_open(kase *k, long tip) {
  if (k->bad) return;
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(k, false, &rep);
  if (db == NULL) return;
  const cdl_immutable_report *im = &rep.immutable;
  EXPECT(k, im->problem[0] == '\0' && im->truncated_bytes == 0 && im->indexes_rebuilt == 0 &&
                im->removed_chunks == 0,
         "the second open repaired the immutable DB again: %s (%llu bytes cut, %u indexes)",
         im->problem, (unsigned long long)im->truncated_bytes, im->indexes_rebuilt);
  EXPECT(k, rep.volatile_db.damaged_files == 0, "the second open found %zu damaged volatile files",
         rep.volatile_db.damaged_files);
  EXPECT(k, rep.immutable_truncated == 0, "the second open cut %llu blocks the ledger refused",
         (unsigned long long)rep.immutable_truncated);
  cdl_block_info t;
  long now = cdl_chaindb_tip(db, &t) ? index_of(&t) : -1;
  EXPECT(k, now == tip, "the second open has tip %ld, the first had %ld", now, tip);
  cdl_chaindb_abandon(db);
}

/* After damage at source block |d|: the immutable DB kept exactly the
 * blocks before it, and the chain ends before it unless the volatile
 * files still hold it (then chain selection takes it up again: a volatile
 * GC forgets blocks but removes only files holding nothing newer). */
static void expect_cut_at(kase *k, cdl_chaindb *db, const cdl_chaindb_report *rep, size_t d,
                          long tip) {
  EXPECT(k, rep->immutable.blocks == d,
         "the immutable DB kept %llu blocks, the damage is in block %zu",
         (unsigned long long)rep->immutable.blocks, d);
  EXPECT(k, rep->immutable.problem[0] != '\0', "no problem reported");
  (void)db;
  if (W->in_volatile[d])
    EXPECT(k, tip >= (long)d - 1, "tip %ld is before the damage at %zu", tip, d);
  else
    EXPECT(k, tip == (long)d - 1, "tip %ld, expected the block before the damage, %zu", tip,
           d - 1);
}

/* ---- The source chain and the base DB ------------------------------------ */

static void make_gen_world(void) {
  make_dir(gen_dir, sizeof gen_dir, "corrupt-genesis");
  gen_genesis(gen_dir, GEN_K, 4, 12, &gen);
  cdl_gen_chain_opts o = {.slots = GEN_SLOTS, .fill = 0.9, .txs_per_block = 1,
                          .delegation = true, .updates = true, .seed = 4};
  gchain_make(&gen, &o, &gen_chain);
  const cdl_byron_genesis *g = &gen.genesis;
  GEN = (world){.name = "generated k=10", .genesis = g, .blocks = gen_chain.blocks,
                .n_blocks = gen_chain.n, .ledger = ledger_of(g, CDL_LEDGER_NO_SIGNATURES),
                .epoch_slots = 10 * g->k, .snapshot_interval = 40};
}

static void make_mainnet_world(void) {
  mainnet_genesis(&mainnet);
  epoch0_load(&epoch);
  const cdl_byron_genesis *g = &mainnet.g;
  MAIN = (world){.name = "mainnet epoch 0", .genesis = g, .blocks = epoch.blocks,
                 .n_blocks = MAINNET_BLOCKS, .ledger = ledger_of(g, CDL_LEDGER_NO_SIGNATURES),
                 .epoch_slots = 10 * g->k, .snapshot_interval = 500};
}

static void index_chain(void) {
  W->info = calloc(W->n_blocks, sizeof *W->info);
  W->chunk_offset = calloc(W->n_blocks, sizeof *W->chunk_offset);
  assert_true(W->info != NULL && W->chunk_offset != NULL);
  for (size_t i = 0; i < W->n_blocks; i++) {
    cdl_error err = {0};
    if (cdl_block_info_read(W->blocks[i].ptr, W->blocks[i].len, W->epoch_slots, &W->info[i],
                            &err) != CDL_OK)
      fail_msg("%s block %zu: %s", W->name, i, err.message);
    bool same = i > 0 && chunk_of(i) == chunk_of(i - 1);
    W->chunk_offset[i] = same ? W->chunk_offset[i - 1] + W->blocks[i - 1].len : 0;
  }
}

static int list_into(const char *dir, const char *sub) {
  char path[128];
  path_in(dir, sub, path, sizeof path);
  DIR *d = opendir(path);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp") != NULL) continue;
    assert_true(W->base.n_files < MAX_FILES);
    snprintf(W->base.files[W->base.n_files++], sizeof W->base.files[0], "%s/%.110s", sub,
             e->d_name);
    if (strncmp(e->d_name, "snapshot-", 9) != 0) continue;
    /* Names carry the slot in 20 digits: the larger name is the newer. */
    if (strcmp(e->d_name, W->base.snaps[0]) > 0) {
      memcpy(W->base.snaps[1], W->base.snaps[0], sizeof W->base.snaps[0]);
      snprintf(W->base.snaps[0], sizeof W->base.snaps[0], "%.150s", e->d_name);
    } else if (strcmp(e->d_name, W->base.snaps[1]) > 0) {
      snprintf(W->base.snaps[1], sizeof W->base.snaps[1], "%.150s", e->d_name);
    }
  }
  closedir(d);
  return 0;
}

static void build_base(void) {
  make_dir(W->base.dir, sizeof W->base.dir, "corrupt-base");
  cdl_chaindb_config cfg = config_of(W->base.dir, false);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i < W->n_blocks; i++) add_expect(db, W->blocks[i], CDL_ADD_ADOPTED);
  db_close(db);
  list_into(W->base.dir, "immutable");
  list_into(W->base.dir, "volatile");
  list_into(W->base.dir, "ledger");
  W->in_volatile = calloc(W->n_blocks, sizeof *W->in_volatile);
  vrec *recs = calloc(MAX_RECORDS, sizeof *recs);
  assert_true(W->in_volatile != NULL && recs != NULL);
  for (size_t i = 0; i < W->base.n_files; i++) {
    if (strncmp(W->base.files[i], "volatile/", 9) != 0) continue;
    char path[256];
    path_in(W->base.dir, W->base.files[i], path, sizeof path);
    size_t n = parse_volatile(path, recs, MAX_RECORDS);
    for (size_t j = 0; j < n; j++) W->in_volatile[recs[j].block] = true;
  }
  free(recs);
}

/* What an undamaged open gives: the reference for every case. */
static void base_facts(void) {
  failures f = {0};
  kase k;
  kase_begin(&k, &f, "undamaged", 0);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, true, &rep);
  assert_non_null(db);
  W->base.tip = check_db(&k, db);
  W->base.imm_count = cdl_immutable_count(cdl_chaindb_immutable(db));
  cdl_ledger_get_totals(cdl_chaindb_ledger(db), &W->base.totals);
  assert_string_equal(rep.immutable.problem, "");
  assert_string_equal(rep.snapshot, W->base.snaps[0]);
  cdl_chaindb_abandon(db);
  kase_end(&k);
  report(&f, "undamaged base");
  assert_int_equal(W->base.tip, (long)W->n_blocks - 1);
  assert_int_equal(W->base.imm_count, W->n_blocks - W->ledger.k);
  assert_true(W->base.snaps[1][0] != '\0');
}

static void setup_world(world *w) {
  W = w;
  index_chain();
  build_base();
  base_facts();
  printf("%s base: %zu blocks, %zu immutable in %u chunks, %zu files, snapshots %.30s..., "
         "%.30s...\n", W->name, W->n_blocks, W->base.imm_count,
         last_chunk() + 1, W->base.n_files, W->base.snaps[0],
         W->base.snaps[1]);
}

static int group_setup(void **state) {
  test_group_setup(state);
  make_gen_world();
  make_mainnet_world();
  setup_world(&MAIN);
  setup_world(&GEN);
  assert_true(last_chunk() >= 5); /* W is GEN */
  return 0;
}

static void free_world(world *w) {
  remove_tree(w->base.dir);
  free(w->info);
  free(w->chunk_offset);
  free(w->in_volatile);
}

static int group_teardown(void **state) {
  (void)state;
  free_world(&GEN);
  free_world(&MAIN);
  remove_dir(gen_dir);
  gchain_free(&gen_chain);
  cdl_gen_dir_free(&gen);
  epoch0_free(&epoch);
  cdl_arena_free(&mainnet.arena);
  return 0;
}

/* ---- (a), (b): damage in chunk files ---------------------------------------- */

static void chunk_path(const char *dir, uint32_t no, const char *ext, char *out, size_t cap) {
  snprintf(out, cap, "%s/immutable/%05u.%s", dir, no, ext);
}

static long tip_of(cdl_chaindb *db) {
  cdl_block_info t;
  return cdl_chaindb_tip(db, &t) ? index_of(&t) : -1;
}

/* (a) One byte of immutable block |d| flipped; validate_all unless |d| is
 * the tail block, which every open checks. */
static void flip_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  size_t n = W->base.imm_count;
  size_t d = seed % 4 == 0 ? n - 1 : (size_t)cdl_gen_rng_below(&r, n);
  bool tail = d == W->base.imm_count - 1;
  uint64_t in_block = cdl_gen_rng_below(&r, W->blocks[d].len);
  kase k;
  kase_begin(&k, f, "(a) flipped chunk byte", seed);
  char path[256];
  chunk_path(k.dir, chunk_of(d), "chunk", path, sizeof path);
  flip_at(path, W->chunk_offset[d] + in_block, nonzero_byte(&r));
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, !tail, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.immutable.truncated_bytes > 0,
           "byte %llu of the %zu-byte block %zu (chunk %u%s) flipped: nothing cut, "
           "problem \"%s\"", (unsigned long long)in_block, W->blocks[d].len, d, chunk_of(d),
           tail ? ", tail block" : "", rep.immutable.problem);
    expect_cut_at(&k, db, &rep, d, tip_of(db));
    long tip = check_db(&k, db);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* The immutable blocks of chunk |c|: [*lo, *hi). */
static void blocks_of_chunk(uint32_t c, size_t *lo, size_t *hi) {
  *lo = 0;
  while (*lo < W->base.imm_count && chunk_of(*lo) < c) (*lo)++;
  *hi = *lo;
  while (*hi < W->base.imm_count && chunk_of(*hi) == c) (*hi)++;
  assert_true(*hi > *lo);
}

/* (b) A chunk cut inside one of its blocks: the last chunk, or (odd seeds)
 * any chunk, whose successors then go too. */
static void cut_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  uint32_t last = last_chunk();
  uint32_t c = seed % 2 ? (uint32_t)cdl_gen_rng_below(&r, last + 1) : last;
  size_t lo, hi;
  blocks_of_chunk(c, &lo, &hi);
  size_t d = lo + (size_t)cdl_gen_rng_below(&r, hi - lo);
  uint64_t keep = 1 + cdl_gen_rng_below(&r, W->blocks[d].len - 1); /* bytes of block d left */
  kase k;
  kase_begin(&k, f, "(b) chunk cut mid-block", seed);
  char path[256];
  chunk_path(k.dir, c, "chunk", path, sizeof path);
  cut_to(path, W->chunk_offset[d] + keep);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.immutable.truncated_bytes == keep,
           "chunk %u cut %llu bytes into block %zu: %llu bytes cut at open", c,
           (unsigned long long)keep, d, (unsigned long long)rep.immutable.truncated_bytes);
    EXPECT(&k, rep.immutable.removed_chunks == last - c, "%u chunks removed after chunk %u of %u",
           rep.immutable.removed_chunks, c, last);
    expect_cut_at(&k, db, &rep, d, tip_of(db));
    long tip = check_db(&k, db);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* Bytes after the last block of chunk |c| (a torn append, or junk): they
 * are cut and nothing else is lost, whichever chunk it is. */
static void junk_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)seed;
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, c);
  kase k;
  kase_begin(&k, f, "(b) junk after a chunk's last block", c);
  char path[256];
  chunk_path(k.dir, c, "chunk", path, sizeof path);
  cdl_buf b;
  read_file(path, &b);
  uint8_t junk[200];
  size_t n = 1 + (size_t)cdl_gen_rng_below(&r, sizeof junk);
  cdl_gen_rng_bytes(&r, junk, n);
  assert_int_equal(cdl_buf_append(&b, junk, n), CDL_OK);
  write_file(path, b.data, b.len);
  cdl_buf_free(&b);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.immutable.truncated_bytes == n, "%zu junk bytes after chunk %u: %llu cut", n,
           c, (unsigned long long)rep.immutable.truncated_bytes);
    EXPECT(&k, rep.immutable.blocks == W->base.imm_count && rep.immutable.removed_chunks == 0,
           "%zu junk bytes after chunk %u: %llu immutable blocks kept of %zu, %u chunks removed",
           n, c, (unsigned long long)rep.immutable.blocks, W->base.imm_count,
           rep.immutable.removed_chunks);
    long tip = check_db(&k, db);
    EXPECT(&k, tip == W->base.tip, "tip %ld, was %ld", tip, W->base.tip);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* ---- (c), (d): damaged indexes ------------------------------------------------ */

/* Opens a copy whose index of chunk |c| was damaged: rebuilt, nothing else changes. */
static void expect_index_rebuilt(kase *k, uint32_t c) {
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(k, false, &rep);
  if (db == NULL) return;
  EXPECT(k, rep.immutable.indexes_rebuilt == 1, "index of chunk %u: %u indexes rebuilt", c,
         rep.immutable.indexes_rebuilt);
  EXPECT(k, rep.immutable.truncated_bytes == 0 && rep.immutable.blocks == W->base.imm_count,
         "index of chunk %u: %llu bytes cut, %llu blocks kept of %zu", c,
         (unsigned long long)rep.immutable.truncated_bytes,
         (unsigned long long)rep.immutable.blocks, W->base.imm_count);
  long tip = check_db(k, db);
  EXPECT(k, tip == W->base.tip, "index of chunk %u: tip %ld, was %ld", c, tip, W->base.tip);
  close_case(k, db);
  second_open(k, tip);
}

static void index_deleted_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)seed;
  kase k;
  kase_begin(&k, f, "(c) index deleted", c);
  char path[256];
  chunk_path(k.dir, c, "cidx", path, sizeof path);
  assert_int_equal(unlink(path), 0);
  expect_index_rebuilt(&k, c);
  kase_end(&k);
}

#define INDEX_HEADER 16
#define INDEX_ENTRY 112

static void damage_index(const char *path, int kind, cdl_gen_rng *r) {
  uint64_t size = file_size(path), entries = (size - INDEX_HEADER) / INDEX_ENTRY;
  assert_true(entries > 0);
  if (kind == 0) {
    flip_at(path, INDEX_HEADER + cdl_gen_rng_below(r, entries * INDEX_ENTRY), nonzero_byte(r));
  } else if (kind == 1) {
    cut_to(path, INDEX_HEADER + cdl_gen_rng_below(r, entries) * INDEX_ENTRY + 1 +
                     cdl_gen_rng_below(r, INDEX_ENTRY - 1));
  } else {
    cdl_buf b;
    read_file(path, &b);
    for (size_t i = 0; i < INDEX_HEADER; i++) b.data[i] ^= nonzero_byte(r);
    write_file(path, b.data, b.len);
    cdl_buf_free(&b);
  }
}

/* Seeds cycle through: an entry flipped, the file cut inside an entry, a
 * garbage header. */
static void index_damaged_case(failures *f, uint64_t seed) {
  static const char *const names[] = {"(d) index entry flipped", "(d) index cut mid-entry",
                                      "(d) index header garbage"};
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  int kind = (int)(seed % 3);
  uint32_t c = (uint32_t)cdl_gen_rng_below(&r, last_chunk() + 1);
  kase k;
  kase_begin(&k, f, names[kind], seed);
  char path[256];
  chunk_path(k.dir, c, "cidx", path, sizeof path);
  damage_index(path, kind, &r);
  expect_index_rebuilt(&k, c);
  kase_end(&k);
}

/* ---- (e): damaged snapshots ---------------------------------------------------- */

static void damage_snapshot(const char *dir, const char *name, bool cut, cdl_gen_rng *r) {
  char path[320];
  snprintf(path, sizeof path, "%s/ledger/%s", dir, name);
  uint64_t size = file_size(path);
  if (cut) cut_to(path, cdl_gen_rng_below(r, size));
  else flip_at(path, cdl_gen_rng_below(r, size), nonzero_byte(r));
}

static bool same_totals(const cdl_ledger_totals *a, const cdl_ledger_totals *b) {
  return a->blocks == b->blocks && a->ebbs == b->ebbs && a->txs == b->txs &&
         a->fees_lovelace == b->fees_lovelace && a->utxo_entries == b->utxo_entries &&
         a->utxo_lovelace == b->utxo_lovelace;
}

/* Seeds 1-8: the newest snapshot flipped (odd) or cut (even); 9-12: both. */
static void snapshot_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  bool both = seed > 8;
  kase k;
  kase_begin(&k, f, both ? "(e) both snapshots damaged" : "(e) newest snapshot damaged", seed);
  damage_snapshot(k.dir, W->base.snaps[0], seed % 2 == 0, &r);
  if (both) damage_snapshot(k.dir, W->base.snaps[1], seed % 2 == 1, &r);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.snapshots_skipped >= (both ? 2u : 1u), "%zu snapshots skipped",
           rep.snapshots_skipped);
    EXPECT(&k, strcmp(rep.snapshot, W->base.snaps[0]) != 0, "the damaged snapshot was loaded");
    EXPECT(&k, both ? rep.snapshot[0] == '\0' : strcmp(rep.snapshot, W->base.snaps[1]) == 0,
           "loaded \"%s\"", rep.snapshot);
    long tip = check_db(&k, db);
    EXPECT(&k, tip == W->base.tip, "tip %ld, was %ld", tip, W->base.tip);
    cdl_ledger_totals t;
    cdl_ledger_get_totals(cdl_chaindb_ledger(db), &t);
    EXPECT(&k, same_totals(&t, &W->base.totals), "the ledger differs from an undamaged open's");
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* ---- (f): damaged volatile files ------------------------------------------------ */

/* The tip expected when the volatile records from |first| on are lost. */
static long tip_without(const vrec *recs, size_t n, size_t first) {
  long lost = (long)W->n_blocks;
  for (size_t i = first; i < n; i++)
    if (recs[i].block >= (long)W->base.imm_count && recs[i].block < lost) lost = recs[i].block;
  return lost - 1;
}

/* Whether |rel| is the volatile file being appended to (the highest
 * number): the only one a crash can leave with a torn last record. */
static bool newest_volatile(const char *rel) {
  for (size_t i = 0; i < W->base.n_files; i++)
    if (strncmp(W->base.files[i], "volatile/", 9) == 0 && strcmp(W->base.files[i], rel) > 0)
      return false;
  return true;
}

/* A cut in the newest file is what a crash leaves there (torn_bytes, no
 * damage); a cut elsewhere and a flipped byte are damage, except a flip
 * in the length of the newest file's last record, which may make it look
 * cut short, and is then one or the other. */
static void expect_volatile_report(kase *k, const cdl_volatile_stats *st, const char *rel,
                                   uint64_t at, bool cut, bool in_last_length) {
  bool newest = newest_volatile(rel), torn = st->torn_bytes > 0;
  if (newest && cut)
    EXPECT(k, torn && st->damaged_files == 0, "%s cut at %llu: %llu torn bytes, %zu damaged files",
           rel, (unsigned long long)at, (unsigned long long)st->torn_bytes, st->damaged_files);
  else if (newest && in_last_length)
    EXPECT(k, st->damaged_files + (torn ? 1 : 0) == 1, "%s length flipped at %llu: %zu damaged",
           rel, (unsigned long long)at, st->damaged_files);
  else
    EXPECT(k, st->damaged_files == 1 && !torn, "%s damaged at %llu: %zu damaged files, %llu torn",
           rel, (unsigned long long)at, st->damaged_files, (unsigned long long)st->torn_bytes);
}

static void volatile_case(failures *f, uint64_t seed) {
  vrec *recs = calloc(MAX_RECORDS, sizeof *recs);
  assert_non_null(recs);
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  size_t nv = 0, pick;
  for (size_t i = 0; i < W->base.n_files; i++) nv += strncmp(W->base.files[i], "volatile/", 9) == 0;
  assert_true(nv > 0);
  pick = (size_t)cdl_gen_rng_below(&r, nv);
  const char *rel = NULL;
  for (size_t i = 0; rel == NULL; i++)
    if (strncmp(W->base.files[i], "volatile/", 9) == 0 && pick-- == 0) rel = W->base.files[i];
  kase k;
  kase_begin(&k, f, seed % 2 ? "(f) volatile byte flipped" : "(f) volatile file cut", seed);
  char path[256];
  path_in(k.dir, rel, path, sizeof path);
  size_t n = parse_volatile(path, recs, MAX_RECORDS), hit = 0;
  uint64_t at = cdl_gen_rng_below(&r, file_size(path));
  while (recs[hit].end <= at) hit++;
  if (seed % 2) flip_at(path, at, nonzero_byte(&r));
  else cut_to(path, at == recs[hit].offset ? at + 1 : at); /* inside record |hit| */
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    expect_volatile_report(&k, &rep.volatile_db, rel, at, seed % 2 == 0,
                           hit + 1 == n && at >= recs[hit].offset + 4 && at < recs[hit].offset + 8);
    long tip = check_db(&k, db), want = tip_without(recs, n, hit);
    EXPECT(&k, tip == want, "%s damaged in record %zu: tip %ld, expected %ld", rel, hit, tip,
           want);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
  free(recs);
}

static void remedy_for(uint32_t c, char *out, size_t cap);
static void expect_missing(kase *k, const char *what, const char *remedy);

/* ---- (g): random damage ------------------------------------------------------------ */

enum { D_FLIP, D_FLIPS, D_CUT, D_DELETE, D_ZERO, D_APPEND, D_HEADER, D_KINDS };
static const char *const DAMAGE[D_KINDS] = {"one byte flipped", "bytes flipped", "cut",
                                            "deleted", "range zeroed", "garbage appended",
                                            "start overwritten"};

static uint64_t first_diff(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
  size_t n = na < nb ? na : nb;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return i;
  return na == nb ? UINT64_MAX : n;
}

/* Damages |path|. Returns the offset of the first byte that is not what
 * it was (0 when deleted, UINT64_MAX when nothing changed); *in_place says
 * whether bytes were changed in place, which in a chunk only a check of
 * every block can see. */
static uint64_t damage(const char *path, int kind, cdl_gen_rng *r, bool *in_place) {
  *in_place = false;
  if (kind == D_DELETE) return assert_int_equal(unlink(path), 0), 0;
  cdl_buf b, old;
  read_file(path, &b);
  read_file(path, &old);
  size_t n = b.len;
  if (n == 0) kind = D_APPEND;
  if (kind == D_FLIP || kind == D_FLIPS) {
    size_t times = kind == D_FLIP ? 1 : 2 + (size_t)cdl_gen_rng_below(r, 7);
    for (size_t i = 0; i < times; i++) b.data[cdl_gen_rng_below(r, n)] ^= nonzero_byte(r);
  } else if (kind == D_CUT) {
    b.len = (size_t)cdl_gen_rng_below(r, n);
  } else if (kind == D_ZERO) {
    size_t at = (size_t)cdl_gen_rng_below(r, n), len = 1 + (size_t)cdl_gen_rng_below(r, 512);
    memset(b.data + at, 0, len < n - at ? len : n - at);
  } else if (kind == D_APPEND) {
    uint8_t junk[300];
    size_t len = 1 + (size_t)cdl_gen_rng_below(r, sizeof junk);
    cdl_gen_rng_bytes(r, junk, len);
    assert_int_equal(cdl_buf_append(&b, junk, len), CDL_OK);
  } else {
    uint8_t junk[32];
    cdl_gen_rng_bytes(r, junk, sizeof junk);
    memcpy(b.data, junk, n < sizeof junk ? n : sizeof junk);
  }
  *in_place = kind != D_CUT && kind != D_APPEND;
  uint64_t first = first_diff(old.data, old.len, b.data, b.len);
  write_file(path, b.data, b.len);
  cdl_buf_free(&b);
  cdl_buf_free(&old);
  return first;
}

/* The immutable blocks that must survive damage to |rel| from byte |first|
 * on: in a chunk, the blocks that end before it (and, when they are all of
 * the chunk's, every later chunk too); elsewhere, all of them. */
static size_t must_keep(const char *rel, uint64_t first) {
  unsigned no;
  int used = 0;
  if (sscanf(rel, "immutable/%5u.chunk%n", &no, &used) != 1 || rel[used] != '\0')
    return W->base.imm_count;
  size_t lo, hi, keep;
  blocks_of_chunk(no, &lo, &hi);
  for (keep = lo; keep < hi && W->chunk_offset[keep] + W->blocks[keep].len <= first; keep++)
    continue;
  return keep == hi ? W->base.imm_count : keep;
}

static void random_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed * 7919);
  const char *rel = W->base.files[cdl_gen_rng_below(&r, W->base.n_files)];
  int kind = (int)cdl_gen_rng_below(&r, D_KINDS);
  char name[160];
  snprintf(name, sizeof name, "(g) %s: %s", rel, DAMAGE[kind]);
  kase k;
  kase_begin(&k, f, name, seed);
  char path[256];
  path_in(k.dir, rel, path, sizeof path);
  bool in_place;
  uint64_t first = damage(path, kind, &r, &in_place);
  bool validate_all = (in_place && strstr(rel, ".chunk") != NULL) || cdl_gen_rng_below(&r, 4) == 0;
  unsigned no;
  int used = 0;
  if (kind == D_DELETE && sscanf(rel, "immutable/%5u.chunk%n", &no, &used) == 1 &&
      rel[used] == '\0') {
    char what[160], remedy[64];
    snprintf(what, sizeof what, "%s is missing", rel);
    remedy_for(no, remedy, sizeof remedy);
    expect_missing(&k, what, remedy);
    kase_end(&k);
    return;
  }
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, validate_all, &rep);
  if (db != NULL) {
    size_t keep = must_keep(rel, first);
    EXPECT(&k, rep.immutable.blocks == keep,
           "damage from byte %lld: the immutable DB kept %llu blocks, the last good one is %zu",
           first == UINT64_MAX ? -1ll : (long long)first,
           (unsigned long long)rep.immutable.blocks, keep);
    long tip = check_db(&k, db);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* ---- (h): missing files ------------------------------------------------------------ */

/* What a refusal must offer for a chunk missing from chunk |c| on: the
 * truncation that keeps the blocks before it, or nothing when none is. */
static void remedy_for(uint32_t c, char *out, size_t cap) {
  size_t lo, hi;
  blocks_of_chunk(c, &lo, &hi);
  if (lo == 0) snprintf(out, cap, "no block comes before it");
  else snprintf(out, cap, "db truncate --to-slot %llu", (unsigned long long)W->info[lo - 1].slot);
}

/* Copy |k| opened by its owner and by a reader: both refused with
 * storage.missing, the message saying |what| and |remedy|, and not a byte
 * of any file changed (nothing cut, removed or rewritten). */
static void expect_missing(kase *k, const char *what, const char *remedy) {
  cdl_buf before, after;
  tree_fingerprint(k->dir, &before);
  for (int reader = 0; reader < 2; reader++) {
    cdl_chaindb_config cfg = config_of(k->dir, false);
    cfg.read_only = reader;
    cdl_chaindb *db = NULL;
    cdl_error err = {0};
    int rc = cdl_chaindb_open(&cfg, &db, NULL, &err);
    cdl_chaindb_abandon(db);
    EXPECT(k, rc == CDL_E_MISSING, "%s open: %s \"%s\", not storage.missing",
           reader ? "a reader's" : "the owner's", cdl_error_name(rc), err.message);
    EXPECT(k, strstr(err.message, what) != NULL && strstr(err.message, remedy) != NULL,
           "\"%s\" does not say \"%s\" and \"%s\"", err.message, what, remedy);
  }
  tree_fingerprint(k->dir, &after);
  EXPECT(k, before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
         "the refused opens changed files:\n%.*s\nbecame\n%.*s", (int)before.len,
         (const char *)before.data, (int)after.len, (const char *)after.data);
  cdl_buf_free(&before);
  cdl_buf_free(&after);
}

static void remove_files(kase *k, const char *pattern) { shell("cd %s && rm %s", k->dir, pattern); }

/* Chunk |c|'s file deleted, its index left: the index proves it. */
static void chunk_file_missing_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)seed;
  kase k;
  kase_begin(&k, f, "(h) chunk file deleted", c);
  char pattern[64], what[64], remedy[64];
  snprintf(pattern, sizeof pattern, "immutable/%05u.chunk", c);
  remove_files(&k, pattern);
  snprintf(what, sizeof what, "immutable/%05u.chunk is missing", c);
  remedy_for(c, remedy, sizeof remedy);
  expect_missing(&k, what, remedy);
  kase_end(&k);
}

/* Chunk |c| and its index deleted, and (odd seeds, when there is one
 * before the last) chunk c + 1 too: the chunk after the gap does not
 * follow the one before it, or the genesis. */
static void chunk_gap_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)(seed / 2), upto = c + (seed % 2 && c + 2 <= last_chunk() ? 1 : 0);
  kase k;
  kase_begin(&k, f, "(h) chunk and index deleted", seed);
  char pattern[64], what[96], remedy[64];
  snprintf(pattern, sizeof pattern, "immutable/%05u.*", c);
  remove_files(&k, pattern);
  if (upto > c) {
    snprintf(pattern, sizeof pattern, "immutable/%05u.*", upto);
    remove_files(&k, pattern);
    snprintf(what, sizeof what, "chunks %05u-%05u are missing: chunk %05u does not follow", c, upto,
             upto + 1);
  } else {
    snprintf(what, sizeof what, "chunk %05u is missing: chunk %05u does not follow the %s", c,
             c + 1, c ? "chunk before" : "genesis");
  }
  remedy_for(c, remedy, sizeof remedy);
  expect_missing(&k, what, remedy);
  kase_end(&k);
}

/* The last chunks with their indexes, or every file of the immutable DB:
 * the directory shows nothing, the newest snapshot, more than k blocks
 * past what is left, proves them missing. */
static void last_chunks_missing_case(failures *f, uint64_t seed) {
  uint32_t last = last_chunk(), from = last - (uint32_t)seed;
  kase k;
  kase_begin(&k, f, "(h) last chunks and indexes deleted", seed);
  for (uint32_t c = from; c <= last; c++) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "immutable/%05u.*", c);
    remove_files(&k, pattern);
  }
  char what[96], remedy[64];
  snprintf(what, sizeof what, "the snapshot at slot %llu",
           (unsigned long long)strtoull(W->base.snaps[0] + 9, NULL, 10));
  remedy_for(from, remedy, sizeof remedy);
  if (from == 0) snprintf(remedy, sizeof remedy, "which is empty");
  expect_missing(&k, what, remedy);
  kase_end(&k);
}

/* The epoch-0 chunk of the real chain deleted (`rm DIR/immutable/00000.chunk`
 * after `db import`), and then its index too. */
static void mainnet_missing_cases(failures *f) {
  chunk_file_missing_case(f, 0);
  last_chunks_missing_case(f, 0);
}

/* A crash while the owner cuts damage away (chunk 2 cut to one byte:
 * chunks 2 to the last go) never leaves what reads as missing files:
 * chunks are removed the last first, each index before its chunk, and the
 * snapshots past the cut before anything is cut. Killed before and after
 * each change the open makes; the next open takes the database and keeps
 * chunks 0-1 (and what the killed open had taken up again from the
 * volatile DB, which holds every block of this base). */
typedef struct killed_open {
  const char *dir;
  uint64_t at;
  kill_phase phase;
  uint64_t changes; /* sent back by the counting run (at 0) */
} killed_open;

static int open_killed(void *arg) {
  killed_open *a = arg;
  cdl_chaindb_config cfg = config_of(a->dir, false);
  int sink = open("/dev/null", O_WRONLY);
  cfg.fs = killer_fs(a->at, a->phase, a->at, sink, 0);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  int rc = cdl_chaindb_open(&cfg, &db, NULL, &err);
  cdl_chaindb_abandon(db);
  a->changes = killer_changes();
  return rc == CDL_OK ? 0 : 1;
}

static void damage_chunk2(kase *k) {
  char path[256];
  chunk_path(k->dir, 2, "chunk", path, sizeof path);
  cut_to(path, 1);
}

static void killed_cut_case(failures *f, uint64_t at, kill_phase phase) {
  kase k;
  kase_begin(&k, f, phase == KILL_BEFORE ? "(h) killed before change" : "(h) killed after change",
             at);
  damage_chunk2(&k);
  killed_open a = {.dir = k.dir, .at = at, .phase = phase};
  int status = run_child(open_killed, &a, NULL, 0, NULL);
  EXPECT(&k, status == 128 + SIGKILL, "the child was not killed at change %llu (status %d)",
         (unsigned long long)at, status);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    size_t lo, hi;
    blocks_of_chunk(2, &lo, &hi);
    EXPECT(&k, rep.immutable.blocks >= lo, "the immutable DB kept %llu blocks, chunk 2 starts at %zu",
           (unsigned long long)rep.immutable.blocks, lo);
    check_db(&k, db);
    close_case(&k, db);
  }
  kase_end(&k);
}

static void killed_cuts(failures *f) {
  kase k;
  kase_begin(&k, f, "(h) counting the changes of a cut", 0);
  damage_chunk2(&k);
  killed_open a = {.dir = k.dir};
  size_t got = 0;
  EXPECT(&k, run_child(open_killed, &a, &a, sizeof a, &got) == 0 && got == sizeof a,
         "the open that cuts chunk 2 failed");
  kase_end(&k);
  for (uint64_t at = 1; at <= a.changes; at++) {
    killed_cut_case(f, at, KILL_BEFORE);
    killed_cut_case(f, at, KILL_AFTER);
  }
}

/* ---- The tests ----------------------------------------------------------------------- */

/* A test running |one| for seeds |first| to |last| (chunk numbers for some). */
#define CASES_TEST(name, one, first, last, what) \
  static void name(void **state) {               \
    (void)state;                                 \
    run_cases(one, first, last, what);           \
  }

CASES_TEST(test_chunk_flip, flip_case, 1, 40, "(a) flipped byte in a chunk")
CASES_TEST(test_chunk_cut, cut_case, 1, 24, "(b) chunk cut inside a block")
CASES_TEST(test_chunk_tail_junk, junk_case, 0, last_chunk(), "(b) junk after a chunk")
CASES_TEST(test_index_deleted, index_deleted_case, 0, last_chunk(), "(c) deleted index")
CASES_TEST(test_index_damaged, index_damaged_case, 1, 24, "(d) damaged index")
CASES_TEST(test_snapshot_damaged, snapshot_case, 1, 12, "(e) damaged snapshot")
CASES_TEST(test_volatile_damaged, volatile_case, 1, 24, "(f) damaged volatile file")
CASES_TEST(test_random_damage, random_case, 1, RANDOM_CASES, "(g) random damage")
CASES_TEST(test_chunk_file_missing, chunk_file_missing_case, 0, last_chunk(),
           "(h) chunk file deleted")
CASES_TEST(test_chunk_gap, chunk_gap_case, 0, 2 * last_chunk() - 1, "(h) chunks deleted")
CASES_TEST(test_last_chunks_missing, last_chunks_missing_case, 0, last_chunk(),
           "(h) last chunks deleted")

static void test_cut_killed(void **state) {
  (void)state;
  failures f = {0};
  killed_cuts(&f);
  report(&f, "(h) a cut killed at each change");
}

/* After damage cuts the immutable DB (chunk 3 cut to one byte, so it and
 * the chunks after it go; the volatile files lost), the snapshots past the
 * cut cannot be used; the DB
 * must still keep the snapshots it takes as it grows again, so that an
 * open after a crash does not replay from the genesis. The chain regrows
 * to slot 500 only: at the old snapshots' slots they would be usable
 * again. */
static void test_snapshots_after_cut(void **state) {
  (void)state;
  failures f = {0};
  kase k;
  kase_begin(&k, &f, "snapshots after a cut", 0);
  shell("cd %s && truncate -s 1 immutable/00003.chunk && rm volatile/*", k.dir);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  assert_non_null(db);
  long tip = check_db(&k, db);
  size_t lo, hi;
  blocks_of_chunk(2, &lo, &hi);
  EXPECT(&k, tip == (long)hi - 1, "tip %ld after the cut, expected %zu", tip, hi - 1);
  size_t added = 0;
  for (size_t i = (size_t)(tip + 1); i < W->n_blocks && W->info[i].slot <= 500; i++, added++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    cdl_error err = {0};
    assert_int_equal(cdl_chaindb_add_block(db, W->blocks[i].ptr, W->blocks[i].len, &res, &rej,
                                           &err), CDL_OK);
  }
  assert_true(added >= 3 * W->snapshot_interval);
  cdl_chaindb_abandon(db); /* a crash */
  db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.snapshot[0] != '\0',
           "%zu blocks added after the cut, yet no snapshot is left to open from (%zu skipped, "
           "%llu blocks replayed from the genesis)", added, rep.snapshots_skipped,
           (unsigned long long)rep.replayed_blocks);
    check_db(&k, db);
    cdl_chaindb_abandon(db);
  }
  kase_end(&k);
  report(&f, "snapshots after a cut");
}

/* The real chain (one chunk, k = 2160, real transactions): a few cases of
 * each kind. */
static void test_mainnet(void **state) {
  (void)state;
  W = &MAIN;
  failures f = {0};
  for (uint64_t seed = 1; seed <= 4; seed++) flip_case(&f, seed);
  for (uint64_t seed = 1; seed <= 2; seed++) cut_case(&f, seed);
  index_deleted_case(&f, 0);
  for (uint64_t seed = 1; seed <= 3; seed++) index_damaged_case(&f, seed);
  for (uint64_t seed = 1; seed <= 2; seed++) snapshot_case(&f, seed);
  snapshot_case(&f, 9);
  for (uint64_t seed = 1; seed <= 2; seed++) volatile_case(&f, seed);
  for (uint64_t seed = 1; seed <= 8; seed++) random_case(&f, seed);
  mainnet_missing_cases(&f);
  W = &GEN;
  report(&f, "mainnet epoch 0, every kind of damage");
}

/* A damaged genesis.hash is refused, never a crash. */
static void test_genesis_hash_damaged(void **state) {
  (void)state;
  failures f = {0};
  kase k;
  kase_begin(&k, &f, "genesis.hash flipped", 1);
  char path[256];
  path_in(k.dir, "genesis.hash", path, sizeof path);
  flip_at(path, 3, 0x01);
  cdl_chaindb_config cfg = config_of(k.dir, false);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_open(&cfg, &db, NULL, &err), CDL_E_GENESIS);
  assert_null(db);
  kase_end(&k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunk_flip),
      cmocka_unit_test(test_chunk_cut),
      cmocka_unit_test(test_chunk_tail_junk),
      cmocka_unit_test(test_index_deleted),
      cmocka_unit_test(test_index_damaged),
      cmocka_unit_test(test_snapshot_damaged),
      cmocka_unit_test(test_volatile_damaged),
      cmocka_unit_test(test_random_damage),
      cmocka_unit_test(test_chunk_file_missing),
      cmocka_unit_test(test_chunk_gap),
      cmocka_unit_test(test_last_chunks_missing),
      cmocka_unit_test(test_cut_killed),
      cmocka_unit_test(test_snapshots_after_cut),
      cmocka_unit_test(test_mainnet),
      cmocka_unit_test(test_genesis_hash_damaged),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
