/*
 * corrupt_world.c: the storage corruption tests' shared fixture
 * (corrupt_world.h): builds the source chains and their base DBs once per
 * run, and the helpers every case uses to damage a copy and judge it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrupt_world.h"

world GEN, MAIN;
world *W; /* the one the running test damages */

static char gen_dir[64];
static cdl_gen_dir gen;
static gchain gen_chain;
static genesis_fixture mainnet;
static epoch0 epoch;

/* ---- Failures, collected per test ----------------------------------------- */


void kase_fail(kase *k, const char *fmt, ...) {
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


void report(const failures *f, const char *what) {
  printf("%s: %u cases, %u failed\n", what, f->cases, f->n);
  for (unsigned i = 0; i < f->n && i < 10; i++) printf("  %s\n", f->first[i]);
  if (f->n > 0)
    fail_msg("%s: %u of %u cases failed; first: %s", what, f->n, f->cases, f->first[0]);
}

/* Runs |one| for seeds first..last (chunk numbers for some) and reports
 * the failures together as |what|. */
void run_cases(void (*one)(failures *f, uint64_t seed), uint64_t first, uint64_t last,
                      const char *what) {
  failures f = {0};
  for (uint64_t seed = first; seed <= last; seed++) one(&f, seed);
  report(&f, what);
}

/* ---- Small helpers ------------------------------------------------------- */

/* The source index of |b| when it is that block of the source, else -1. */
long index_of(const cdl_block_info *b) { return find_block(W->info, W->n_blocks, b); }

uint32_t chunk_of(size_t i) { return (uint32_t)(W->info[i].slot / W->epoch_slots); }

/* The last chunk of the base DB. */
uint32_t last_chunk(void) { return chunk_of(W->base.imm_count - 1); }

void cut_to(const char *path, uint64_t size) {
  assert_int_equal(truncate(path, (off_t)size), 0);
}

uint8_t nonzero_byte(cdl_gen_rng *r) { return (uint8_t)(1 + cdl_gen_rng_below(r, 255)); }

void kase_begin(kase *k, failures *f, const char *name, uint64_t seed) {
  *k = (kase){.name = name, .seed = seed, .f = f};
  make_dir(k->dir, sizeof k->dir, "corrupt");
  copy_tree(W->base.dir, k->dir);
  f->cases++;
}

void kase_end(kase *k) { remove_tree(k->dir); }

cdl_chaindb_config config_of(const char *dir, bool validate_all) {
  return (cdl_chaindb_config){.dir = dir, .genesis = W->genesis, .ledger = W->ledger,
                              .snapshot_interval = W->snapshot_interval, .sync_interval = 50,
                              .validate_all = validate_all};
}


/* The records of a volatile file ("CDLV" | u32 length | u32 CRC | block). */
size_t parse_volatile(const char *path, vrec *out, size_t max) {
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

cdl_chaindb *open_case(kase *k, bool validate_all, cdl_chaindb_report *rep) {
  cdl_chaindb_config cfg = config_of(k->dir, validate_all);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  if (cdl_chaindb_open(&cfg, &db, rep, &err) != CDL_OK) {
    kase_fail(k, "open failed: %s", err.message);
    return NULL;
  }
  return db;
}

/* The chunks the immutable DB holds: one past the tip's. */
static uint32_t rep_chunks(cdl_immutable *im) {
  cdl_immutable_pos tip;
  return cdl_immutable_tip(im, NULL, &tip) ? tip.chunk + 1 : 0;
}

/* The tip's source index (-1: empty); checks that it and the ledger's tip
 * are one block of the source, that the immutable blocks are intact and
 * that db validate (cdl_immutable_check_all) passes. */
long check_db(kase *k, cdl_chaindb *db) {
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
  /* The open checks the indexes before the last chunk's by their ends
   * only; each is checked whole, and rebuilt if it disagrees with its
   * chunk, when the chunk is first read (docs/storage.md "Opening and
   * recovery"): one block of each gets there, as use would. */
  cdl_immutable *im = cdl_chaindb_immutable(db);
  cdl_block_info first;
  cdl_error err = {0};
  for (uint32_t c = 0; c < rep_chunks(im); c++)
    EXPECT(k, cdl_immutable_info(im, (cdl_immutable_pos){c, 0}, &first, &err) == CDL_OK,
           "chunk %u cannot be read after open: %s", c, err.message);
  cdl_immutable_pos bad;
  int rc = cdl_immutable_check_all(im, &bad, &err);
  EXPECT(k, rc == CDL_OK, "db validate fails after open: %s", err.message);
  char why[300];
  if (!k->bad && !immutable_matches(cdl_chaindb_immutable(db), W->blocks, W->n_blocks, why,
                                    sizeof why))
    kase_fail(k, "after open, %s (damage kept)", why);
  return t;
}

void close_case(kase *k, cdl_chaindb *db) {
  cdl_error err = {0};
  EXPECT(k, cdl_chaindb_close(db, &err) == CDL_OK, "close failed: %s", err.message);
}

/* A second open repairs nothing and has tip |tip| (every block was checked
 * against its index by cdl_immutable_check_all after the first). */
void second_open(kase *k, long tip) {
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
void expect_cut_at(kase *k, cdl_chaindb *db, const cdl_chaindb_report *rep, size_t d,
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

int group_setup(void **state) {
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

int group_teardown(void **state) {
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

void chunk_path(const char *dir, uint32_t no, const char *ext, char *out, size_t cap) {
  snprintf(out, cap, "%s/immutable/%05u.%s", dir, no, ext);
}

long tip_of(cdl_chaindb *db) {
  cdl_block_info t;
  return cdl_chaindb_tip(db, &t) ? index_of(&t) : -1;
}

/* The immutable blocks of chunk |c|: [*lo, *hi). */
void blocks_of_chunk(uint32_t c, size_t *lo, size_t *hi) {
  *lo = 0;
  while (*lo < W->base.imm_count && chunk_of(*lo) < c) (*lo)++;
  *hi = *lo;
  while (*hi < W->base.imm_count && chunk_of(*hi) == c) (*hi)++;
  assert_true(*hi > *lo);
}
