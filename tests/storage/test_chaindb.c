/*
 * test_chaindb.c: the ChainDB and its followers (include/cardinal/storage.h
 * "ChainDB", "Followers"; src/storage/chaindb*.c) against a simple
 * in-memory model of chain selection, and unit tests of the immutable DB
 * API ("Immutable DB"; src/storage/immutable*.c). Acceptance point
 * (docs/testing.md, storage tier): "Model-based test: random sequences of
 * adding blocks (with forks and rollbacks), closing, reopening and
 * querying, compared with a simple in-memory model of the chain."
 *
 * Blocks come from two sources:
 *  - the real mainnet epoch 0 re-forged with test keys (chain_support.h).
 *    A fork block re-forges real block j (its body, slot and number)
 *    after any predecessor and has it signed by another genesis delegate,
 *    so it is valid wherever block j - 1's number sits, and differs from
 *    every other block at j. The ChainDB runs these with k = 3, 5, 8 (the
 *    ledger's epoch is then 10k slots, PBFT threshold 1.0 so any delegate
 *    may sign) and with the genesis' own k = 2160;
 *  - chains generated with k = 5 from one genesis directory (cdl_gen):
 *    two seeds fork right after the genesis EBB, and each epoch starts
 *    with an EBB, which the immutable DB tests need.
 *
 * The model (section "The model") keeps every block added and computes the
 * chain the ChainDB must select: the best (key = 2 * block number + EBB)
 * chain of valid stored blocks reachable from the immutable tip, switched
 * to only when strictly better than the current one (so the current chain
 * wins ties), never rolling back past the immutable tip (so at most k
 * blocks), blocks at or below the immutable tip refused as too old. Which
 * of several equally good new chains the ChainDB takes is its choice; the
 * model follows it. After a crash (cdl_chaindb_abandon) any of the best
 * chains may come back; after a clean close the same tip must.
 *
 * Each seed picks k (3, 5, 8 or 2160) and a snapshot interval, then runs
 * 300 random operations: add the next block of one of three branches
 * (forks start anywhere up to k + 2 deep, or after any block made so far),
 * add a block before its parent (the parent comes later), add a block
 * again, add a block with a corrupted signature (CDL_ADD_INVALID when it
 * is tried), close and reopen, crash (cdl_chaindb_abandon) and reopen,
 * advance a follower (roll-backs must go to the newest point its chain
 * shares with the selected one), replay a new follower from the origin,
 * look blocks up by number and by point, and intersect a follower with a
 * list of points. After each: tip, immutable tip, volatile length and the
 * ledger's tip against the model. CDL_MODEL_SEEDS sets the number of
 * seeds (default 52, 6 under ASan), CDL_MODEL_SEED runs one seed,
 * CDL_MODEL_TRACE=1 prints every add; a failing seed is printed with the
 * operations that led to it. CDL_TEST_FILTER runs only the tests whose
 * names match (a cmocka pattern).
 *
 * Also here: the immutable DB API (append, find, find_block_no, find_slot,
 * read, read_header, info, next, truncate_slot, truncate_before, reopen,
 * refused appends), fixed ChainDB scenarios (in-order adds and look-ups,
 * the rollback bound with generated chains, EBBs winning ties, followers
 * across fork switches, intersections), and one test per defect found in
 * src/storage, named after what must hold.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cardinal/gen.h"
#include "cardinal/storage.h"
#include "../unit/chain_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define N_RF 400            /* re-forged real blocks (slots 0..398) */
#define EPOCH0_SLOTS 21600  /* block info of re-forged blocks: all in epoch 0 */
#define GEN_K 5
#define GEN_EPOCH (10 * GEN_K)
#define MODEL_STEPS 300
#define MODEL_SEEDS (UNDER_ASAN ? 6 : 52)
#define MAX_BLOCKS (3 * MODEL_STEPS + 64)

static reforge RF;

/* A generated chain: its bytes, blocks and their info. */
typedef struct gchain {
  cdl_buf data;
  cdl_span *blocks;
  cdl_block_info *info;
  size_t n;
} gchain;

static char GEN_DIR[64];
static cdl_gen_dir GEN;
static gchain GX, GY; /* other seeds and fills: the same EBB, then a fork */

/* ---- Helpers --------------------------------------------------------------- */

static void make_dir(char *out, size_t cap, const char *what) {
  snprintf(out, cap, "/tmp/cdl-%s-XXXXXX", what);
  assert_non_null(mkdtemp(out));
}

static void remove_dir(const char *dir) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static cdl_block_info info_of(const uint8_t *bytes, size_t len, uint64_t epoch_slots) {
  cdl_block_info info;
  cdl_error err = {0};
  if (cdl_block_info_read(bytes, len, epoch_slots, &info, &err) != CDL_OK)
    fail_msg("block info: %s", err.message);
  return info;
}

static void copy_bytes(cdl_buf *out, const uint8_t *data, size_t len) {
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_buf_append(out, data, len), CDL_OK);
}

/* Real block j after |prev|, signed by genesis delegate |signer|. */
static void forge_alt(size_t j, const uint8_t prev[32], unsigned signer, cdl_buf *out) {
  reforge_block(&RF, j, prev, cdl_span_of(NULL, 0), &RF.del[signer % 7], out);
}

/* One byte of the block signature flipped: decodes, the ledger refuses it. */
static void flip_signature(cdl_buf *block) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  assert_int_equal(cdl_byron_block_decode(block->data, block->len, &t.ctx, &blk), CDL_OK);
  assert_false(blk.is_ebb);
  block->data[(size_t)(blk.header.signature - block->data) + 9] ^= 0x20;
  test_ctx_free(&t);
}

static void generate(uint64_t seed, double fill, gchain *c) {
  cdl_gen_chain_opts o = {.slots = 8 * GEN_EPOCH, .fill = fill, .txs_per_block = 1, .seed = seed};
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_non_null(f);
  cdl_gen_chain_stats st;
  cdl_rejection rej;
  cdl_error err = {0};
  int rc = cdl_gen_chain(&GEN, &o, f, &st, &rej, &err);
  fclose(f);
  if (rc != CDL_OK) fail_msg("generate: %s", err.message);
  copy_bytes(&c->data, (const uint8_t *)mem, len);
  free(mem);
  assert_int_equal(cdl_gen_split_chunk(c->data.data, c->data.len, &c->blocks, &c->n, &err),
                   CDL_OK);
  c->info = calloc(c->n, sizeof *c->info);
  assert_non_null(c->info);
  for (size_t i = 0; i < c->n; i++)
    c->info[i] = info_of(c->blocks[i].ptr, c->blocks[i].len, GEN_EPOCH);
}

static void gen_fixture(void) {
  cdl_gen_genesis_spec s = {.protocol_magic = 42, .k = GEN_K, .start_time = 1700000000,
                            .genesis_keys = 7, .poor_addresses = 3,
                            .poor_balance = 1000000000000ull, .has_seed = true, .seed = 9};
  cdl_gen_default_params(&s.params);
  s.params.slot_duration_ms = 1000;
  make_dir(GEN_DIR, sizeof GEN_DIR, "chaindb-gen");
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&s, GEN_DIR, &err) != CDL_OK) fail_msg("genesis: %s", err.message);
  if (cdl_gen_dir_load(GEN_DIR, &GEN, &err) != CDL_OK) fail_msg("genesis: %s", err.message);
  generate(1, 0.8, &GX);
  generate(2, 0.6, &GY);
  assert_true(cdl_span_eq(GX.blocks[0], GY.blocks[0]));   /* the genesis EBB */
  assert_false(cdl_span_eq(GX.blocks[1], GY.blocks[1])); /* the fork */
}

static void gchain_free(gchain *c) {
  cdl_buf_free(&c->data);
  free(c->blocks);
  free(c->info);
}

static int group_setup(void **state) {
  test_group_setup(state);
  reforge_init(&RF, N_RF);
  gen_fixture();
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  gchain_free(&GX);
  gchain_free(&GY);
  cdl_gen_dir_free(&GEN);
  remove_dir(GEN_DIR);
  reforge_free(&RF);
  return 0;
}

static void assert_same_info(const cdl_block_info *a, const cdl_block_info *b) {
  assert_memory_equal(a->hash, b->hash, 32);
  assert_memory_equal(a->prev_hash, b->prev_hash, 32);
  assert_int_equal(a->slot, b->slot);
  assert_int_equal(a->block_no, b->block_no);
  assert_int_equal(a->is_ebb, b->is_ebb);
  assert_int_equal(a->size, b->size);
  assert_int_equal(a->header_offset, b->header_offset);
  assert_int_equal(a->header_size, b->header_size);
}

/* ---- Immutable DB ------------------------------------------------------------ */

static cdl_immutable *imm_open(cdl_fs *fs, const char *dir, cdl_immutable_report *rep) {
  cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH};
  cdl_immutable *im = NULL;
  cdl_error err = {0};
  if (cdl_immutable_open(fs, dir, &cfg, &im, rep, &err) != CDL_OK)
    fail_msg("immutable open: %s", err.message);
  return im;
}

static void imm_append(cdl_immutable *im, const gchain *c, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    cdl_error err = {0};
    if (cdl_immutable_append(im, c->blocks[i].ptr, c->blocks[i].len, &c->info[i], &err) != 0)
      fail_msg("append %zu: %s", i, err.message);
  }
}

/* Block i of |c| is found by point and read back whole and as its header. */
static cdl_immutable_pos imm_check_block(cdl_immutable *im, const gchain *c, size_t i) {
  cdl_immutable_pos pos;
  cdl_block_info info;
  cdl_error err = {0};
  if (cdl_immutable_find(im, c->info[i].slot, c->info[i].hash, &pos, &info, &err) != CDL_OK)
    fail_msg("find block %zu: %s", i, err.message);
  assert_same_info(&info, &c->info[i]);
  assert_int_equal(pos.chunk, c->info[i].slot / GEN_EPOCH); /* every epoch has blocks */
  cdl_buf out;
  cdl_buf_init(&out, 0);
  assert_int_equal(cdl_immutable_read(im, pos, &out, &info, &err), CDL_OK);
  assert_true(cdl_span_eq(cdl_span_of(out.data, out.len), c->blocks[i]));
  assert_same_info(&info, &c->info[i]);
  cdl_buf_reset(&out);
  assert_int_equal(cdl_immutable_read_header(im, pos, &out, NULL, &err), CDL_OK);
  assert_int_equal(out.len, c->info[i].header_size);
  assert_memory_equal(out.data, c->blocks[i].ptr + c->info[i].header_offset, out.len);
  cdl_buf_free(&out);
  assert_int_equal(cdl_immutable_info(im, pos, &info, &err), CDL_OK);
  assert_same_info(&info, &c->info[i]);
  return pos;
}

/* By block number: the first block with it (the main block before the EBB
 * that repeats its number); by slot: the first block at or after it. */
static void imm_check_lookups(cdl_immutable *im, const gchain *c, size_t n) {
  cdl_immutable_pos pos;
  cdl_block_info info;
  for (uint64_t no = 0; no <= c->info[n - 1].block_no + 1; no++) {
    size_t want = 0;
    while (want < n && c->info[want].block_no != no) want++;
    cdl_error err = {0};
    int rc = cdl_immutable_find_block_no(im, no, &pos, &info, &err);
    if (want == n) {
      assert_int_equal(rc, CDL_E_NOT_FOUND);
      continue;
    }
    assert_int_equal(rc, CDL_OK);
    assert_same_info(&info, &c->info[want]);
  }
  for (uint64_t slot = 0; slot <= c->info[n - 1].slot + 1; slot++) {
    size_t want = 0;
    while (want < n && c->info[want].slot < slot) want++;
    cdl_error err = {0};
    int rc = cdl_immutable_find_slot(im, slot, &pos, &info, &err);
    if (want == n) {
      assert_int_equal(rc, CDL_E_NOT_FOUND);
      continue;
    }
    assert_int_equal(rc, CDL_OK);
    assert_same_info(&info, &c->info[want]);
  }
}

/* The DB holds exactly c[0..n): count, tip, every block, next() walks them. */
static void imm_check_all(cdl_immutable *im, const gchain *c, size_t n) {
  assert_int_equal(cdl_immutable_count(im), n);
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++) bytes += c->blocks[i].len;
  assert_int_equal(cdl_immutable_bytes(im), bytes);
  cdl_block_info tip;
  cdl_immutable_pos tip_pos, pos = {0, 0};
  assert_int_equal(cdl_immutable_tip(im, &tip, &tip_pos), n > 0);
  if (n == 0) return;
  assert_same_info(&tip, &c->info[n - 1]);
  for (size_t i = 0; i < n; i++) {
    cdl_immutable_pos at = imm_check_block(im, c, i);
    assert_int_equal(at.chunk, pos.chunk);
    assert_int_equal(at.index, pos.index);
    assert_int_equal(cdl_immutable_next(im, &pos), i + 1 < n);
  }
  assert_int_equal(pos.chunk, tip_pos.chunk);
  assert_int_equal(pos.index, tip_pos.index);
  imm_check_lookups(im, c, n);
  cdl_immutable_pos bad;
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_check_all(im, &bad, &err), CDL_OK);
}

static void imm_expect_refused(cdl_immutable *im, cdl_span b, const cdl_block_info *info,
                               int code) {
  uint64_t before = cdl_immutable_count(im);
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_append(im, b.ptr, b.len, info, &err), code);
  assert_int_equal(err.code, code);
  assert_int_equal(cdl_immutable_count(im), before);
}

static void test_immutable_empty_and_misses(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "imm");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable *im = imm_open(&fs, dir, NULL);
  cdl_immutable_pos pos = {0, 0};
  cdl_block_info info;
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_error err = {0};
  assert_false(cdl_immutable_tip(im, &info, &pos));
  assert_int_equal(cdl_immutable_find_slot(im, 0, &pos, &info, &err), CDL_E_NOT_FOUND);
  assert_int_equal(cdl_immutable_find_block_no(im, 0, &pos, &info, &err), CDL_E_NOT_FOUND);
  assert_int_equal(cdl_immutable_read(im, (cdl_immutable_pos){0, 0}, &out, NULL, &err),
                   CDL_E_NOT_FOUND);
  assert_false(cdl_immutable_next(im, &pos));
  imm_append(im, &GX, 0, 60);
  uint8_t wrong[32];
  memcpy(wrong, GX.info[10].hash, 32);
  wrong[0] ^= 1;
  cdl_error e2 = {0};
  assert_int_equal(cdl_immutable_find(im, GX.info[10].slot, wrong, &pos, NULL, &e2),
                   CDL_E_NOT_FOUND);
  cdl_error e3 = {0};
  assert_int_equal(cdl_immutable_find(im, GX.info[10].slot + 1, GX.info[10].hash, &pos, NULL,
                                      &e3),
                   CDL_E_NOT_FOUND);
  cdl_error e4 = {0};
  assert_int_equal(cdl_immutable_read(im, (cdl_immutable_pos){0, 5000}, &out, NULL, &e4),
                   CDL_E_NOT_FOUND);
  cdl_buf_free(&out);
  cdl_immutable_close(im);
  assert_int_equal(fs.open_files, 0);
  remove_dir(dir);
}

/* Appends, every look-up, reopen keeping everything, refused appends. */
static void test_immutable_append_find_read(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "imm");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable *im = imm_open(&fs, dir, NULL);
  imm_append(im, &GX, 0, GX.n);
  assert_true(GX.info[GX.n - 1].slot / GEN_EPOCH >= 6); /* several chunks */
  imm_check_all(im, &GX, GX.n);
  /* Blocks that do not follow the tip: refused, nothing written. */
  imm_expect_refused(im, GX.blocks[5], &GX.info[5], CDL_E_PREV_HASH);
  imm_expect_refused(im, GX.blocks[GX.n - 1], &GX.info[GX.n - 1], CDL_E_PREV_HASH);
  imm_expect_refused(im, GY.blocks[GY.n - 1], &GY.info[GY.n - 1], CDL_E_PREV_HASH);
  cdl_block_info lying = GX.info[3];
  lying.size++;
  imm_expect_refused(im, GX.blocks[3], &lying, CDL_E_USAGE);
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_sync(im, &err), CDL_OK);
  cdl_immutable_close(im);
  assert_int_equal(fs.open_files, 0);
  for (int round = 0; round < 2; round++) {
    cdl_immutable_report rep;
    im = imm_open(&fs, dir, &rep);
    assert_int_equal(rep.blocks, GX.n);
    assert_int_equal(rep.chunks, GX.info[GX.n - 1].slot / GEN_EPOCH + 1);
    assert_int_equal(rep.indexes_rebuilt, 0);
    assert_int_equal(rep.truncated_bytes, 0);
    assert_int_equal(rep.removed_chunks, 0);
    assert_string_equal(rep.problem, "");
    imm_check_all(im, &GX, GX.n);
    /* A fork of the genesis EBB cannot follow either. */
    imm_expect_refused(im, GY.blocks[1], &GY.info[1], CDL_E_PREV_HASH);
    cdl_immutable_close(im);
    assert_int_equal(fs.open_files, 0);
  }
  remove_dir(dir);
}

/* The number of blocks of |c| with slot <= |slot|. */
static size_t blocks_to_slot(const gchain *c, uint64_t slot) {
  size_t n = 0;
  while (n < c->n && c->info[n].slot <= slot) n++;
  return n;
}

/* truncate_slot and truncate_before keep exactly the prefix; appending the
 * rest again restores the chain; a reopen sees the same. */
static void test_immutable_truncate(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "imm");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable *im = imm_open(&fs, dir, NULL);
  imm_append(im, &GX, 0, GX.n);
  uint64_t last = GX.info[GX.n - 1].slot;
  uint64_t slots[] = {last + 5, last, GX.info[100].slot, GX.info[100].slot - 1, 3 * GEN_EPOCH,
                      3 * GEN_EPOCH - 1, 2 * GEN_EPOCH + 17, GX.info[1].slot, 0, UINT64_MAX};
  for (size_t s = 0; s < sizeof slots / sizeof *slots; s++) {
    cdl_error err = {0};
    assert_int_equal(cdl_immutable_truncate_slot(im, slots[s], &err), CDL_OK);
    size_t keep = blocks_to_slot(&GX, slots[s]);
    imm_check_all(im, &GX, keep);
    if (s % 2 == 0) {
      cdl_immutable_close(im);
      im = imm_open(&fs, dir, NULL);
      imm_check_all(im, &GX, keep);
    }
    imm_append(im, &GX, keep, GX.n);
    imm_check_all(im, &GX, GX.n);
  }
  /* truncate_before: the start of a chunk, the middle of one, everything. */
  cdl_immutable_pos at[] = {{4, 0}, {2, 7}, {0, 1}, {0, 0}, {40, 0}};
  for (size_t s = 0; s < sizeof at / sizeof *at; s++) {
    size_t first = 0; /* the chunk's first block */
    while (first < GX.n && GX.info[first].slot / GEN_EPOCH < at[s].chunk) first++;
    size_t keep = first;
    while (keep < GX.n && GX.info[keep].slot / GEN_EPOCH == at[s].chunk &&
           keep - first < at[s].index)
      keep++;
    cdl_error err = {0};
    assert_int_equal(cdl_immutable_truncate_before(im, at[s], &err), CDL_OK);
    imm_check_all(im, &GX, keep);
    imm_append(im, &GX, keep, GX.n);
    imm_check_all(im, &GX, GX.n);
  }
  cdl_immutable_close(im);
  assert_int_equal(fs.open_files, 0);
  remove_dir(dir);
}

/* ---- Immutable DB: truncating at a chunk boundary, then appending -------------
 * After truncate_slot removes whole chunks, the new tip chunk must take
 * appends again: a block of another fork may follow its last block inside
 * the same chunk (a `db truncate` followed by a sync from a peer). Run in
 * a child process because a failure here may corrupt the heap. */

/* Main block |src| of |c| re-encoded to follow |prev| at |slot| (not
 * signed again: the immutable DB checks links, not signatures). */
static void moved_block(const gchain *c, size_t src, const cdl_block_info *prev, uint64_t slot,
                        cdl_buf *out, cdl_block_info *info) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  assert_int_equal(
      cdl_byron_block_decode(c->blocks[src].ptr, c->blocks[src].len, &t.ctx, &blk), CDL_OK);
  assert_false(blk.is_ebb);
  blk.header.prev_hash = prev->hash;
  blk.header.epoch = slot / GEN_EPOCH;
  blk.header.slot_in_epoch = slot % GEN_EPOCH;
  blk.header.difficulty = prev->block_no + 1;
  cdl_buf_init(out, 0);
  cdl_byron_block_encode(out, &blk, true);
  test_ctx_free(&t);
  *info = info_of(out->data, out->len, GEN_EPOCH);
}

typedef struct boundary_case {
  char dir[64];
  size_t n;             /* the DB holds GX[0..n) */
  size_t last;          /* GX[0..last] stay */
  cdl_buf extra;        /* then this block, in the same chunk */
  cdl_block_info extra_info;
  bool load_first;      /* look the chunk up before truncating */
} boundary_case;

#define CHILD_CHECK(cond, ...)                  \
  do {                                          \
    if (!(cond)) {                              \
      fprintf(stderr, "  [child] " __VA_ARGS__); \
      fprintf(stderr, "\n");                    \
      return 1;                                 \
    }                                           \
  } while (0)

/* Block |b| (with |info|) is found by point and reads back intact. */
static int child_find_read(cdl_immutable *im, cdl_span b, const cdl_block_info *info) {
  cdl_immutable_pos pos;
  cdl_block_info got;
  cdl_error err = {0};
  int rc = cdl_immutable_find(im, info->slot, info->hash, &pos, &got, &err);
  CHILD_CHECK(rc == CDL_OK, "block %llu (slot %llu) not found: %s",
              (unsigned long long)info->block_no, (unsigned long long)info->slot, err.message);
  cdl_buf out;
  cdl_buf_init(&out, 0);
  rc = cdl_immutable_read(im, pos, &out, NULL, &err);
  bool same = rc == CDL_OK && cdl_span_eq(cdl_span_of(out.data, out.len), b);
  cdl_buf_free(&out);
  CHILD_CHECK(same, "block %llu reads back wrong: rc %d %s", (unsigned long long)info->block_no,
              rc, err.message);
  return 0;
}

static int child_holds(cdl_immutable *im, const boundary_case *bc) {
  for (size_t i = 0; i <= bc->last; i++)
    if (child_find_read(im, GX.blocks[i], &GX.info[i]) != 0) return 1;
  if (child_find_read(im, cdl_span_of(bc->extra.data, bc->extra.len), &bc->extra_info) != 0)
    return 1;
  CHILD_CHECK(cdl_immutable_count(im) == bc->last + 2, "count %llu, expected %zu",
              (unsigned long long)cdl_immutable_count(im), bc->last + 2);
  cdl_immutable_pos bad;
  cdl_error err = {0};
  CHILD_CHECK(cdl_immutable_check_all(im, &bad, &err) == CDL_OK, "check_all: %s", err.message);
  return 0;
}

static int boundary_child(const void *arg) {
  const boundary_case *bc = arg;
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH};
  cdl_immutable *im = NULL;
  cdl_error err = {0};
  CHILD_CHECK(cdl_immutable_open(&fs, bc->dir, &cfg, &im, NULL, &err) == CDL_OK, "open: %s",
              err.message);
  const cdl_block_info *last = &GX.info[bc->last];
  if (bc->load_first && child_find_read(im, GX.blocks[bc->last], last) != 0) return 1;
  CHILD_CHECK(cdl_immutable_truncate_slot(im, last->slot, &err) == CDL_OK, "truncate: %s",
              err.message);
  cdl_block_info tip;
  CHILD_CHECK(cdl_immutable_tip(im, &tip, NULL) && memcmp(tip.hash, last->hash, 32) == 0,
              "truncate_slot kept the wrong tip");
  int rc = cdl_immutable_append(im, bc->extra.data, bc->extra.len, &bc->extra_info, &err);
  CHILD_CHECK(rc == CDL_OK, "append after the truncation: %s", err.message);
  if (child_holds(im, bc) != 0) return 1;
  cdl_immutable_close(im);
  CHILD_CHECK(cdl_immutable_open(&fs, bc->dir, &cfg, &im, NULL, &err) == CDL_OK, "reopen: %s",
              err.message);
  if (child_holds(im, bc) != 0) return 1;
  cdl_immutable_close(im);
  CHILD_CHECK(fs.open_files == 0, "%zu handles left open", fs.open_files);
  return 0;
}

/* Runs |fn| in a child process: its exit status, 128 + the signal if it died. */
static int run_child(int (*fn)(const void *arg), const void *arg) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int rc = fn(arg);
    fflush(stderr);
    _exit(rc);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* The number of blocks of GX before chunk |c|. */
static size_t before_chunk(uint64_t c) { return c ? blocks_to_slot(&GX, c * GEN_EPOCH - 1) : 0; }

/* A chunk c whose last block leaves a free slot before chunk c + 1 (which
 * starts with an EBB and a main block), and a later full chunk t holding
 * more blocks than c: the DB is made of the chunks up to t. */
static void pick_boundary_chunk(boundary_case *bc, size_t *src) {
  uint64_t full = GX.info[GX.n - 1].slot / GEN_EPOCH; /* chunks before it are complete */
  for (uint64_t c = 1; c + 2 < full; c++) {
    size_t end = before_chunk(c + 1), count = end - before_chunk(c);
    if (GX.info[end - 1].slot % GEN_EPOCH == GEN_EPOCH - 1) continue;
    if (!GX.info[end].is_ebb || GX.info[end + 1].is_ebb) continue;
    for (uint64_t t = c + 2; t < full; t++) {
      if (before_chunk(t + 1) - before_chunk(t) <= count) continue;
      bc->last = end - 1;
      bc->n = before_chunk(t + 1);
      *src = end + 1;
      return;
    }
  }
  fail_msg("no chunk with a free slot at its end");
}

static void test_immutable_append_after_boundary_truncation(void **state) {
  (void)state;
  size_t src = 0;
  boundary_case bc = {0};
  pick_boundary_chunk(&bc, &src);
  moved_block(&GX, src, &GX.info[bc.last], GX.info[bc.last].slot + 1, &bc.extra, &bc.extra_info);
  int failed = 0;
  for (int variant = 0; variant < 2; variant++) {
    make_dir(bc.dir, sizeof bc.dir, "imm");
    cdl_fs fs;
    cdl_fs_posix_init(&fs, 0);
    cdl_immutable *im = imm_open(&fs, bc.dir, NULL);
    imm_append(im, &GX, 0, bc.n);
    cdl_immutable_close(im); /* the reopen in the child drops the old chunks' entries */
    bc.load_first = variant == 1;
    int rc = run_child(boundary_child, &bc);
    if (rc != 0) {
      fprintf(stderr, "  truncate_slot(%llu) at a chunk boundary, then an append into the "
                      "chunk before (%s): child status %d\n",
              (unsigned long long)GX.info[bc.last].slot,
              bc.load_first ? "its index loaded first" : "after a reopen", rc);
      failed++;
    }
    remove_dir(bc.dir);
  }
  cdl_buf_free(&bc.extra);
  assert_int_equal(failed, 0);
}

/* ---- Immutable DB: an empty directory ------------------------------------------------
 * A new database starts from a directory without chunk files. Run in a
 * child: sanitizer builds abort on undefined behaviour. */

static int empty_dir_child(const void *arg) {
  const char *dir = arg;
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH};
  cdl_immutable *im = NULL;
  cdl_error err = {0};
  CHILD_CHECK(cdl_immutable_open(&fs, dir, &cfg, &im, NULL, &err) == CDL_OK, "open: %s",
              err.message);
  CHILD_CHECK(cdl_immutable_count(im) == 0, "blocks in an empty directory");
  cdl_immutable_close(im);
  return 0;
}

static void test_immutable_open_empty_dir(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "imm");
  int rc = run_child(empty_dir_child, dir);
  remove_dir(dir);
  if (rc != 0) fail_msg("opening an empty directory: child status %d", rc);
}

/* ---- ChainDB helpers ------------------------------------------------------------ */

static cdl_chaindb_config rf_config(const char *dir, uint64_t k, cdl_fs *fs) {
  const cdl_byron_genesis *g = &RF.fix.g;
  cdl_chaindb_config c = {.dir = dir, .genesis = g, .fs = fs};
  /* With another k than the genesis' any delegate may sign (threshold 1). */
  c.ledger = (cdl_ledger_config){g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic), k,
                                 k == g->k ? 0 : 1.0, 0};
  return c;
}

static cdl_chaindb_config gen_config(const char *dir, cdl_fs *fs) {
  const cdl_byron_genesis *g = &GEN.genesis;
  cdl_chaindb_config c = {.dir = dir, .genesis = g, .fs = fs};
  c.ledger = (cdl_ledger_config){g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic),
                                 g->k, 0, 0};
  return c;
}

static cdl_chaindb *db_open(const cdl_chaindb_config *cfg, cdl_chaindb_report *rep) {
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  if (cdl_chaindb_open(cfg, &db, rep, &err) != CDL_OK) fail_msg("chaindb open: %s", err.message);
  return db;
}

static void db_close(cdl_chaindb *db) {
  cdl_error err = {0};
  if (cdl_chaindb_close(db, &err) != CDL_OK) fail_msg("chaindb close: %s", err.message);
}

static cdl_chaindb_add_result add_expect(cdl_chaindb *db, cdl_span b, cdl_chaindb_outcome want) {
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  if (cdl_chaindb_add_block(db, b.ptr, b.len, &res, &rej, &err) != CDL_OK)
    fail_msg("add: %s", err.message);
  if (res.outcome != want)
    fail_msg("add: outcome %d, expected %d (%s)", res.outcome, want, rej.rule ? rej.rule : "");
  return res;
}

static void add_all(cdl_chaindb *db, const cdl_buf *blocks, size_t n, cdl_chaindb_outcome want) {
  for (size_t i = 0; i < n; i++) add_expect(db, cdl_span_of(blocks[i].data, blocks[i].len), want);
}

/* The selected chain and the ledger both end at |hash|. */
static void assert_tip(cdl_chaindb *db, const uint8_t hash[32]) {
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  assert_memory_equal(tip.hash, hash, 32);
  cdl_ledger_tip lt;
  cdl_ledger_get_tip(cdl_chaindb_ledger(db), &lt);
  assert_false(lt.at_genesis);
  assert_memory_equal(lt.hash, hash, 32);
}

static cdl_point point_of(const cdl_block_info *b) {
  cdl_point p = {.origin = false, .slot = b->slot};
  memcpy(p.hash, b->hash, 32);
  return p;
}

/* A fork: real blocks from..to-1 after |prev|, signed by the delegate after
 * the real block's own, so no block equals a real one. */
static void fork_blocks(const uint8_t prev[32], size_t from, size_t to, unsigned shift,
                        cdl_buf *out) {
  uint8_t at[32];
  memcpy(at, prev, 32);
  for (size_t j = from; j < to; j++) {
    cdl_buf *b = &out[j - from];
    forge_alt(j, at, (unsigned)j + shift, b);
    cdl_block_info info = info_of(b->data, b->len, EPOCH0_SLOTS);
    if (memcmp(info.hash, RF.hashes[j], 32) == 0) {
      cdl_buf_free(b);
      forge_alt(j, at, (unsigned)j + shift + 1, b);
      info = info_of(b->data, b->len, EPOCH0_SLOTS);
    }
    memcpy(at, info.hash, 32);
  }
}

static void free_blocks(cdl_buf *b, size_t n) {
  for (size_t i = 0; i < n; i++) cdl_buf_free(&b[i]);
}

static cdl_block_info buf_info(const cdl_buf *b) { return info_of(b->data, b->len, EPOCH0_SLOTS); }

/* next() must give |kind| (and the block or point |hash|). */
static void expect_next(cdl_follower *f, cdl_follow_kind kind, const uint8_t *hash) {
  cdl_follow_kind got;
  cdl_block_info info;
  cdl_point to;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_next(f, &got, &info, &to, NULL, &err), CDL_OK);
  if (got != kind) fail_msg("follower: %d, expected %d", got, kind);
  if (kind == CDL_FOLLOW_FORWARD) assert_memory_equal(info.hash, hash, 32);
  if (kind == CDL_FOLLOW_BACKWARD && hash == NULL) assert_true(to.origin);
  if (kind == CDL_FOLLOW_BACKWARD && hash != NULL) {
    assert_false(to.origin);
    if (memcmp(to.hash, hash, 32) != 0) {
      char want[65], was[65];
      cdl_hex_encode(hash, 32, want);
      cdl_hex_encode(to.hash, 32, was);
      fail_msg("follower rolled back to %.16s... (slot %llu), expected %.16s...", was,
               (unsigned long long)to.slot, want);
    }
  }
}

/* ---- ChainDB: fixed scenarios ------------------------------------------------------ */

/* In-order adds, duplicates, an invalid block, look-ups, reopen after a
 * clean close and after a crash, another genesis refused. */
static void test_chaindb_basics(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, RF.fix.g.k, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  cdl_block_info tip;
  assert_false(cdl_chaindb_tip(db, &tip));
  for (size_t i = 0; i < 60; i++) {
    cdl_chaindb_add_result r = add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
    assert_int_equal(r.rollback, 0);
    assert_tip(db, RF.hashes[i]);
  }
  add_expect(db, reforged(&RF, 30), CDL_ADD_DUPLICATE);
  cdl_buf bad;
  copy_bytes(&bad, RF.blocks[60].data, RF.blocks[60].len);
  flip_signature(&bad);
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_add_block(db, bad.data, bad.len, &res, &rej, &err), CDL_OK);
  assert_int_equal(res.outcome, CDL_ADD_INVALID);
  assert_string_equal(rej.rule, CDL_RULE_PBFT_SIGNATURE);
  add_expect(db, cdl_span_of(bad.data, bad.len), CDL_ADD_INVALID); /* remembered */
  assert_tip(db, RF.hashes[59]);
  add_expect(db, reforged(&RF, 60), CDL_ADD_ADOPTED);
  for (uint64_t no = 0; no <= 61; no++) {
    cdl_block_info info;
    cdl_error e = {0};
    int rc = cdl_chaindb_find_block_no(db, no, &info, &e);
    assert_int_equal(rc, no <= 60 ? CDL_OK : CDL_E_NOT_FOUND);
    if (no <= 60) assert_memory_equal(info.hash, RF.hashes[no], 32);
  }
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_block_info b42 = buf_info(&RF.blocks[42]);
  cdl_point p = point_of(&b42);
  assert_int_equal(cdl_chaindb_read_block(db, &p, &out, NULL, &err), CDL_OK);
  assert_true(cdl_span_eq(cdl_span_of(out.data, out.len), reforged(&RF, 42)));
  cdl_point origin = {.origin = true};
  cdl_error e2 = {0};
  assert_int_equal(cdl_chaindb_read_block(db, &origin, &out, NULL, &e2), CDL_E_NOT_FOUND);
  cdl_buf_free(&out);
  cdl_buf_free(&bad);
  db_close(db);
  assert_int_equal(fs.open_files, 0);
  cdl_chaindb_report rep;
  db = db_open(&cfg, &rep);
  assert_true(rep.snapshot[0] != '\0');
  assert_tip(db, RF.hashes[60]);
  assert_int_equal(cdl_chaindb_volatile_length(db), 61); /* k = 2160: nothing immutable */
  for (size_t i = 61; i < 71; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_chaindb_abandon(db); /* a crash: no snapshot of the tip */
  assert_int_equal(fs.open_files, 0);
  db = db_open(&cfg, &rep);
  assert_tip(db, RF.hashes[70]);
  assert_int_equal(rep.volatile_adopted, 10);
  db_close(db);
  cdl_chaindb_config other = gen_config(dir, &fs);
  cdl_error e3 = {0};
  assert_int_equal(cdl_chaindb_open(&other, &db, NULL, &e3), CDL_E_GENESIS);
  assert_int_equal(fs.open_files, 0);
  remove_dir(dir);
}

static void add_gen(cdl_chaindb *db, const gchain *c, size_t from, size_t to,
                    cdl_chaindb_outcome want) {
  for (size_t i = from; i < to; i++) add_expect(db, c->blocks[i], want);
}

/* Generated chains X and Y share the genesis EBB, k = 5. A switch may roll
 * back k blocks, not more: once the EBB is no longer the immutable tip, Y
 * is refused however long it grows, also across a reopen. */
static void test_chaindb_rollback_bound(void **state) {
  (void)state;
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  for (int round = 0; round < 3; round++) {
    char dir[64];
    make_dir(dir, sizeof dir, "chaindb");
    cdl_chaindb_config cfg = gen_config(dir, &fs);
    cdl_chaindb *db = db_open(&cfg, NULL);
    /* Round 0: X has 3 blocks after the EBB, Y overtakes with 4 (rollback
     * 3). Round 1: X has k blocks after the EBB, which is then the
     * immutable tip; Y overtakes with k + 1 (rollback k). Round 2: X has
     * k + 1, the EBB is buried; Y never wins. */
    size_t x_len = round == 0 ? 3 : round == 1 ? GEN_K : GEN_K + 1;
    add_gen(db, &GX, 0, x_len + 1, CDL_ADD_ADOPTED);
    assert_int_equal(cdl_chaindb_volatile_length(db), x_len + 1 > GEN_K ? GEN_K : x_len + 1);
    if (round < 2) {
      add_gen(db, &GY, 1, x_len + 1, CDL_ADD_STORED); /* up to a tie */
      cdl_chaindb_add_result r = add_expect(db, GY.blocks[x_len + 1], CDL_ADD_ADOPTED);
      assert_int_equal(r.rollback, x_len);
      assert_tip(db, GY.info[x_len + 1].hash);
    } else {
      add_expect(db, GY.blocks[1], CDL_ADD_TOO_OLD); /* not above the immutable tip */
      add_gen(db, &GY, 2, 3 * GEN_K, CDL_ADD_STORED);
      assert_tip(db, GX.info[x_len].hash);
      db_close(db);
      db = db_open(&cfg, NULL);
      assert_tip(db, GX.info[x_len].hash);
      add_gen(db, &GY, 3 * GEN_K, 3 * GEN_K + 2, CDL_ADD_STORED);
      add_gen(db, &GX, x_len + 1, x_len + 3, CDL_ADD_ADOPTED);
    }
    db_close(db);
    assert_int_equal(fs.open_files, 0);
    remove_dir(dir);
  }
}

/* Ties on the block number go to the chain ending in an EBB. Generated
 * chains X and Y fork after the genesis EBB; Y's first epoch holds m main
 * blocks. With X at main block m, Y's epoch-1 EBB (number m, after main
 * block m) wins; X's main block m + 1 wins back. The ledger runs with
 * k = 60 (the blocks' epochs stay consistent: 600-slot epochs of which the
 * first 50 are used) so that both switches are within k. */
static void test_chaindb_ebb_wins_ties(void **state) {
  (void)state;
  size_t ebb = 1;
  while (!GY.info[ebb].is_ebb) ebb++;
  size_t m = (size_t)GY.info[ebb].block_no;
  assert_int_equal(GY.info[ebb - 1].block_no, m);
  assert_true(m >= 10 && m + 1 <= 60);
  assert_true(GX.info[m].slot < GEN_EPOCH && !GX.info[m + 1].is_ebb); /* X: main blocks */
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = gen_config(dir, &fs);
  cfg.ledger.k = 60;
  cdl_chaindb *db = db_open(&cfg, NULL);
  add_gen(db, &GX, 0, m + 1, CDL_ADD_ADOPTED);
  add_gen(db, &GY, 1, m + 1, CDL_ADD_STORED); /* ends in a tie */
  cdl_chaindb_add_result r = add_expect(db, GY.blocks[ebb], CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, m);
  assert_tip(db, GY.info[ebb].hash);
  cdl_block_info info;
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_find_block_no(db, m, &info, &err), CDL_OK);
  assert_memory_equal(info.hash, GY.info[m].hash, 32); /* the main block, not the EBB */
  r = add_expect(db, GX.blocks[m + 1], CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, m + 1);
  assert_tip(db, GX.info[m + 1].hash);
  db_close(db);
  db = db_open(&cfg, NULL);
  assert_tip(db, GX.info[m + 1].hash);
  db_close(db);
  assert_int_equal(fs.open_files, 0);
  remove_dir(dir);
}

/* A follower on A rolls back to the fork point when B wins, then follows
 * B; intersect finds the first listed point on the selected chain. */
static void test_follower_fork_switch(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, 8, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 20; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  for (size_t i = 0; i <= 20; i++) expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[i]);
  expect_next(f, CDL_FOLLOW_AWAIT, NULL);
  cdl_buf b[7]; /* B16..B22 after A15 */
  fork_blocks(RF.hashes[15], 16, 23, 3, b);
  add_all(db, b, 5, CDL_ADD_STORED); /* B16..B20: at most a tie */
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[5].data, b[5].len), CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, 5);
  expect_next(f, CDL_FOLLOW_BACKWARD, RF.hashes[15]);
  for (size_t i = 0; i < 6; i++) expect_next(f, CDL_FOLLOW_FORWARD, buf_info(&b[i]).hash);
  expect_next(f, CDL_FOLLOW_AWAIT, NULL);
  /* Intersections. */
  cdl_block_info a20 = buf_info(&RF.blocks[20]), a10 = buf_info(&RF.blocks[10]);
  cdl_block_info b18 = buf_info(&b[2]);
  cdl_point pts[3] = {point_of(&a20), point_of(&b18), point_of(&a10)}, found;
  bool any;
  cdl_follower *g;
  assert_int_equal(cdl_follower_new(db, &g, &err), CDL_OK);
  assert_int_equal(cdl_follower_intersect(g, pts, 3, &found, &any, &err), CDL_OK);
  assert_true(any);
  assert_memory_equal(found.hash, b18.hash, 32);
  expect_next(g, CDL_FOLLOW_FORWARD, buf_info(&b[3]).hash);
  pts[0].hash[0] ^= 1; /* nowhere */
  assert_int_equal(cdl_follower_intersect(g, pts, 1, &found, &any, &err), CDL_OK);
  assert_false(any);
  expect_next(g, CDL_FOLLOW_FORWARD, buf_info(&b[4]).hash); /* where it was */
  pts[0] = (cdl_point){.origin = true};
  assert_int_equal(cdl_follower_intersect(g, pts, 1, &found, &any, &err), CDL_OK);
  assert_true(any && found.origin);
  expect_next(g, CDL_FOLLOW_FORWARD, RF.hashes[0]);
  cdl_follower_del(g);
  /* And back to A. */
  add_expect(db, reforged(&RF, 21), CDL_ADD_STORED);
  r = add_expect(db, reforged(&RF, 22), CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, 6);
  expect_next(f, CDL_FOLLOW_BACKWARD, RF.hashes[15]);
  for (size_t i = 16; i <= 22; i++) expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[i]);
  expect_next(f, CDL_FOLLOW_AWAIT, NULL);
  cdl_follower_del(f);
  free_blocks(b, 7);
  db_close(db);
  remove_dir(dir);
}

/* k = 5. A follower at A8 is not asked for a while: B forks at A4, wins,
 * and grows until A4 and the first B blocks are immutable. The newest point
 * the follower shares with the selected chain is still A4 (now in the
 * immutable DB); it must roll back there, not to any other point. */
static void test_follower_rollback_into_immutable(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, 5, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 8; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_follower *late, *prompt;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &late, &err), CDL_OK);
  assert_int_equal(cdl_follower_new(db, &prompt, &err), CDL_OK);
  for (size_t i = 0; i <= 8; i++) {
    expect_next(late, CDL_FOLLOW_FORWARD, RF.hashes[i]);
    expect_next(prompt, CDL_FOLLOW_FORWARD, RF.hashes[i]);
  }
  cdl_buf b[11]; /* B5..B15 after A4 */
  fork_blocks(RF.hashes[4], 5, 16, 2, b);
  add_all(db, b, 4, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[4].data, b[4].len), CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, 4);
  expect_next(prompt, CDL_FOLLOW_BACKWARD, RF.hashes[4]); /* asked at once: right */
  add_all(db, b + 5, 6, CDL_ADD_ADOPTED);
  cdl_block_info imm;
  assert_true(cdl_chaindb_immutable_tip(db, &imm));
  assert_memory_equal(imm.hash, buf_info(&b[5]).hash, 32); /* B10: A4 is buried */
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point to;
  assert_int_equal(cdl_follower_next(late, &kind, &info, &to, NULL, &err), CDL_OK);
  bool right = kind == CDL_FOLLOW_BACKWARD && !to.origin &&
               memcmp(to.hash, RF.hashes[4], 32) == 0;
  for (size_t i = 0; right && i < 11; i++)
    expect_next(late, CDL_FOLLOW_FORWARD, buf_info(&b[i]).hash);
  cdl_follower_del(late);
  cdl_follower_del(prompt);
  free_blocks(b, 11);
  db_close(db);
  remove_dir(dir);
  if (!right)
    fail_msg("the late follower got %d to slot %llu%s; expected a roll-back to block 4 (slot "
             "%llu), the newest point its chain shares with the selected one",
             kind, (unsigned long long)to.slot,
             kind == CDL_FOLLOW_BACKWARD && to.slot == imm.slot ? " (the immutable tip)" : "",
             (unsigned long long)buf_info(&RF.blocks[4]).slot);
}

/* The same with a follower that lags by more than 256 blocks: by then the
 * volatile DB has collected the blocks of the abandoned fork (it does so
 * every 256 blocks moved to the immutable DB). The newest shared point is
 * still A4, which the follower's chain holds; any other point is one the
 * follower's client never had. */
static void test_follower_rollback_after_collection(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, 5, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 8; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_follower *late;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &late, &err), CDL_OK);
  for (size_t i = 0; i <= 8; i++) expect_next(late, CDL_FOLLOW_FORWARD, RF.hashes[i]);
  enum { LEN = 300 };
  cdl_buf *b = calloc(LEN, sizeof *b); /* B5..B304 after A4 */
  assert_non_null(b);
  fork_blocks(RF.hashes[4], 5, 5 + LEN, 2, b);
  add_all(db, b, 4, CDL_ADD_STORED);
  add_all(db, b + 4, LEN - 4, CDL_ADD_ADOPTED);
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point to;
  assert_int_equal(cdl_follower_next(late, &kind, &info, &to, NULL, &err), CDL_OK);
  bool right = kind == CDL_FOLLOW_BACKWARD && !to.origin &&
               memcmp(to.hash, RF.hashes[4], 32) == 0;
  cdl_follower_del(late);
  db_close(db);
  free_blocks(b, LEN);
  free(b);
  remove_dir(dir);
  if (!right)
    fail_msg("the late follower got %d to slot %llu; expected a roll-back to block 4 (slot "
             "%llu)", kind, (unsigned long long)to.slot,
             (unsigned long long)buf_info(&RF.blocks[4]).slot);
}

/* A chain for a fixed scenario: real blocks |from|..|to|-1 after |prev|,
 * the block at |bad| (0: none) with a corrupted signature and the blocks
 * after it linked to that one. */
static void scenario_chain(const uint8_t prev[32], size_t from, size_t to, unsigned shift,
                           size_t bad, cdl_buf *out) {
  size_t n = bad ? bad - from : to - from;
  fork_blocks(prev, from, from + n, shift, out);
  if (!bad) return;
  fork_blocks(n ? buf_info(&out[n - 1]).hash : prev, bad, bad + 1, shift, &out[n]);
  flip_signature(&out[n]);
  if (bad + 1 < to) fork_blocks(buf_info(&out[n]).hash, bad + 1, to, shift, &out[n + 1]);
}

/* k = 3, chain E-a1-a2 (real). Stored before b1 arrives: b2..b4 after
 * it, then x5 (refused), x6, x7; and c4..c6 after b3. When b1 arrives, the
 * best valid chain is E-b1-b2-b3-c4-c5-c6 (block 6; a roll-back of 2). */
static void test_selection_within_k(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, 3, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 2; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_buf b[7], c[3]; /* b1..b4 x5 x6 x7; c4 c5 c6 */
  scenario_chain(RF.hashes[0], 1, 8, 1, 5, b);
  scenario_chain(buf_info(&b[2]).hash, 4, 7, 4, 0, c);
  add_all(db, b + 1, 6, CDL_ADD_STORED);
  add_all(db, c, 3, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[0].data, b[0].len), CDL_ADD_ADOPTED);
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  db_close(db);
  free_blocks(b, 7);
  cdl_block_info c6 = buf_info(&c[2]);
  free_blocks(c, 3);
  remove_dir(dir);
  if (memcmp(tip.hash, c6.hash, 32) != 0 || r.rollback != 2)
    fail_msg("tip block %llu (%s), rollback %llu; expected block 6 of E-b1-b2-b3-c4-c5-c6, "
             "rollback 2", (unsigned long long)tip.block_no,
             memcmp(tip.hash, c6.hash, 32) == 0 ? "the best" : "not the best",
             (unsigned long long)r.rollback);
}

/* The roll-back an add reports is what the selected chain lost: E-a1-a2
 * becomes E-b1-b2-b3-b4 (a1 and a2 rolled back), even when a first
 * candidate E-b1-b2-b3-x4-x5 is cut at the refused x4 on the way. */
static void test_rollback_reported(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, RF.fix.g.k, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 2; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_buf b[5], c[1]; /* b1 b2 b3 x4 x5; b4 */
  scenario_chain(RF.hashes[0], 1, 6, 1, 4, b);
  scenario_chain(buf_info(&b[2]).hash, 4, 5, 4, 0, c);
  add_all(db, b + 1, 4, CDL_ADD_STORED);
  add_all(db, c, 1, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[0].data, b[0].len), CDL_ADD_ADOPTED);
  cdl_block_info tip, b4 = buf_info(&c[0]);
  assert_true(cdl_chaindb_tip(db, &tip));
  db_close(db);
  free_blocks(b, 5);
  free_blocks(c, 1);
  remove_dir(dir);
  assert_memory_equal(tip.hash, b4.hash, 32);
  if (r.rollback != 2)
    fail_msg("the add reports a roll-back of %llu blocks; the chain lost 2 (a1, a2)",
             (unsigned long long)r.rollback);
}

/* k = 3. A follower got A1..A3 from the volatile part, then A4 from the
 * immutable part, then A5. B forks at A4 and wins: the newest point the
 * follower shares with the selected chain is A4. */
static void test_follower_rollback_newest_point(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, 3, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 3; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  for (size_t i = 0; i <= 3; i++) expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[i]);
  for (size_t i = 4; i <= 7; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[4]); /* immutable by now */
  expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[5]);
  cdl_buf b[4]; /* B5..B8 after A4 */
  fork_blocks(RF.hashes[4], 5, 9, 2, b);
  add_all(db, b, 3, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[3].data, b[3].len), CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, 3);
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point to;
  assert_int_equal(cdl_follower_next(f, &kind, &info, &to, NULL, &err), CDL_OK);
  cdl_follower_del(f);
  free_blocks(b, 4);
  db_close(db);
  remove_dir(dir);
  if (kind != CDL_FOLLOW_BACKWARD || to.origin || memcmp(to.hash, RF.hashes[4], 32) != 0)
    fail_msg("the follower got %d to slot %llu; expected a roll-back to A4 (slot %llu)", kind,
             (unsigned long long)to.slot, (unsigned long long)buf_info(&RF.blocks[4]).slot);
}

/* Chain selection must end on the best valid chain. X extends the tip
 * and has two branches stored before it arrives: X-Y-bad-E (the longest,
 * but its third block is refused) and X-C-D. Once `bad` is refused, X-C-D
 * (block 13) beats what is valid of the first branch (X-Y, block 12). */
static void test_selection_after_refused_block(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "chaindb");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb_config cfg = rf_config(dir, RF.fix.g.k, &fs);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i <= 10; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_buf x, y[3], c[2];
  fork_blocks(RF.hashes[10], 11, 12, 1, &x);
  fork_blocks(buf_info(&x).hash, 12, 15, 1, y); /* Y, bad, E */
  flip_signature(&y[1]);
  cdl_buf e;
  forge_alt(14, buf_info(&y[1]).hash, 3, &e); /* E follows the refused block */
  cdl_buf_free(&y[2]);
  y[2] = e;
  fork_blocks(buf_info(&x).hash, 12, 14, 4, c);
  add_all(db, y, 3, CDL_ADD_STORED);
  add_all(db, c, 2, CDL_ADD_STORED);
  add_expect(db, cdl_span_of(x.data, x.len), CDL_ADD_ADOPTED);
  cdl_block_info tip, d = buf_info(&c[1]);
  assert_true(cdl_chaindb_tip(db, &tip));
  db_close(db);
  /* A reopen runs chain selection again, from the snapshot at the tip. */
  db = db_open(&cfg, NULL);
  cdl_block_info tip2;
  assert_true(cdl_chaindb_tip(db, &tip2));
  db_close(db);
  free_blocks(y, 3);
  free_blocks(c, 2);
  cdl_buf_free(&x);
  remove_dir(dir);
  if (memcmp(tip.hash, d.hash, 32) != 0)
    fail_msg("tip is block %llu of X-Y, expected block 13 of X-C-D (after a reopen: block "
             "%llu%s)", (unsigned long long)tip.block_no, (unsigned long long)tip2.block_no,
             memcmp(tip2.hash, d.hash, 32) == 0 ? " of X-C-D" : "");
}

/* ---- The model -------------------------------------------------------------------
 * Every block the run has made, with its parent, whether the ledger refuses
 * it (a corrupted signature) and whether the ChainDB holds it; the selected
 * chain as the model sees it; how much of it is immutable. */

typedef struct mblock {
  cdl_buf bytes;
  cdl_block_info info;
  int parent;      /* model index; -1: the genesis */
  int j;           /* the real block it re-forges */
  bool bad;        /* the ledger refuses it */
  bool stored;     /* added and not refused as too old */
  bool refused;    /* refused at its add (the ChainDB remembers that) */
  bool pending;    /* made, to be added later (out of order) */
} mblock;

typedef struct branch {
  int head;        /* its last block; -1: not started */
  int shift;       /* signer offset; -1: the real chain */
} branch;

typedef struct run {
  jmp_buf fail;
  uint64_t seed;
  size_t step;
  char op[96];
  char history[12][200];
  size_t noted;          /* 1 + the step the history last noted */
  cdl_gen_rng rng;
  char dir[64];
  cdl_fs fs;
  cdl_chaindb_config cfg;
  cdl_chaindb *db;
  mblock b[MAX_BLOCKS];
  size_t n;
  int chain[MAX_BLOCKS], view[MAX_BLOCKS];
  size_t len, imm, n_view;
  uint64_t k;
  branch br[3];
  cdl_follower *fol;  /* follows along; |view| is what it has been told */
  size_t adds, switches, reopens, backwards, outcomes[5];
  bool soft_failed, resync;
} run;

static run *R;     /* the run in progress (large: on the heap) */
static bool TRACE; /* CDL_MODEL_TRACE: print every add */

static void print_failure(const run *r, int line, const char *msg, const char *after) {
  fprintf(stderr, "model: seed %llu (k %llu) step %zu, %s (line %d): %s\n",
          (unsigned long long)r->seed, (unsigned long long)r->k, r->step, r->op, line, msg);
  for (size_t i = r->step > 11 ? r->step - 11 : 0; i < r->step; i++)
    fprintf(stderr, "    step %zu: %s\n", i, r->history[i % 12]);
  fprintf(stderr, "    (rerun: CDL_MODEL_SEED=%llu, CDL_MODEL_TRACE=1 prints every add%s)\n",
          (unsigned long long)r->seed, after);
}

static void model_fail(run *r, int line, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  print_failure(r, line, msg, "");
  longjmp(r->fail, 1);
}

#define MCHECK(cond, ...)                                        \
  do {                                                           \
    if (!(cond)) model_fail(R, __LINE__, "" __VA_ARGS__);        \
  } while (0)

/* A follower that rolled back to a wrong point fails the seed, but the run
 * goes on with a new follower: the rest of the sequence still counts. */
static void model_soft_fail(int line, const char *fmt, ...) {
  if (!R->soft_failed) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_failure(R, line, msg, "; this seed goes on");
  }
  R->soft_failed = true;
  R->resync = true;
}

static uint64_t below(uint64_t n) { return cdl_gen_rng_below(&R->rng, n); }

static uint64_t key_of(const cdl_block_info *b) { return 2 * b->block_no + (b->is_ebb ? 1 : 0); }

/* Chains compare by their tip's key; 0 is the empty chain. */
static uint64_t score(int i) { return i < 0 ? 0 : key_of(&R->b[i].info) + 1; }

static int tip_index(void) { return R->len ? R->chain[R->len - 1] : -1; }
static int root_index(void) { return R->imm ? R->chain[R->imm - 1] : -1; }

static int find_hash(const uint8_t hash[32]) {
  for (size_t i = 0; i < R->n; i++)
    if (memcmp(R->b[i].info.hash, hash, 32) == 0) return (int)i;
  return -1;
}

static long chain_pos(int i) {
  for (size_t p = 0; p < R->len; p++)
    if (R->chain[p] == i) return (long)p;
  return -1;
}

/* Takes |bytes| over as block |parent| + 1; an already known block is
 * returned as it is. */
static int model_block(cdl_buf *bytes, int parent, int j, bool bad) {
  cdl_block_info info = info_of(bytes->data, bytes->len, EPOCH0_SLOTS);
  int known = find_hash(info.hash);
  if (known >= 0) {
    cdl_buf_free(bytes);
    return known;
  }
  MCHECK(R->n < MAX_BLOCKS, "out of model blocks");
  mblock *x = &R->b[R->n];
  *x = (mblock){.bytes = *bytes, .info = info, .parent = parent, .j = j, .bad = bad};
  return (int)R->n++;
}

/* Which blocks a chain from the immutable tip may use: held, valid, and
 * linked to it through such blocks. The best of them is what must be
 * selected. Parents are always made before their children. */
static uint64_t model_best(bool *reach) {
  int root = root_index();
  uint64_t best = score(tip_index());
  bool buried[MAX_BLOCKS] = {false};
  for (size_t p = 0; p < R->imm; p++) buried[R->chain[p]] = true;
  for (size_t i = 0; i < R->n; i++) {
    const mblock *x = &R->b[i];
    reach[i] = x->stored && !x->bad && !buried[i] &&
               (x->parent == root || (x->parent >= 0 && reach[x->parent]));
    if (!reach[i]) continue;
    if (score((int)i) > best) best = score((int)i);
  }
  return best;
}

/* The model's chain becomes the one ending at |t|; returns the rollback. */
static size_t model_adopt(int t) {
  int path[MAX_BLOCKS];
  size_t n = 0;
  for (int i = t; i >= 0; i = R->b[i].parent) path[n++] = i;
  size_t common = 0;
  while (common < n && common < R->len && R->chain[common] == path[n - 1 - common]) common++;
  MCHECK(common >= R->imm, "the new chain leaves the immutable prefix");
  size_t rollback = R->len - common;
  for (size_t p = 0; p < n; p++) R->chain[p] = path[n - 1 - p];
  R->len = n;
  if (R->len > R->imm + R->k) R->imm = R->len - R->k;
  return rollback;
}

/* The first 12 hex digits of a hash, in one of two static buffers. */
static const char *hash_text(const uint8_t *hash) {
  static char hex[2][65];
  static int which;
  which ^= 1;
  cdl_hex_encode(hash, 32, hex[which]);
  hex[which][12] = '\0';
  return hex[which];
}

/* The ChainDB's tip, immutable tip, volatile length and ledger agree with
 * the model. */
static void check_state(void) {
  cdl_block_info tip, imm;
  bool has = cdl_chaindb_tip(R->db, &tip);
  MCHECK(has == (R->len > 0), "the ChainDB has %s tip", has ? "a" : "no");
  if (has) {
    const cdl_block_info *want = &R->b[tip_index()].info;
    MCHECK(memcmp(tip.hash, want->hash, 32) == 0, "tip %s (block %llu), model %s (block %llu)",
           hash_text(tip.hash), (unsigned long long)tip.block_no, hash_text(want->hash),
           (unsigned long long)want->block_no);
    cdl_ledger_tip lt;
    cdl_ledger_get_tip(cdl_chaindb_ledger(R->db), &lt);
    MCHECK(!lt.at_genesis && memcmp(lt.hash, want->hash, 32) == 0, "the ledger is elsewhere");
  }
  has = cdl_chaindb_immutable_tip(R->db, &imm);
  MCHECK(has == (R->imm > 0), "immutable tip present: %d, model %zu blocks", has, R->imm);
  if (has)
    MCHECK(memcmp(imm.hash, R->b[root_index()].info.hash, 32) == 0,
           "immutable tip block %llu, model block %llu", (unsigned long long)imm.block_no,
           (unsigned long long)R->b[root_index()].info.block_no);
  MCHECK(cdl_chaindb_volatile_length(R->db) == R->len - R->imm, "volatile length %zu, model %zu",
         cdl_chaindb_volatile_length(R->db), R->len - R->imm);
}

/* The outcome of an add that leaves the chain as it was (check_state
 * then compares the tips). */
static void expect_outcome(const cdl_chaindb_add_result *res, cdl_chaindb_outcome want,
                           bool or_duplicate) {
  MCHECK(res->outcome == want || (or_duplicate && res->outcome == CDL_ADD_DUPLICATE),
         "outcome %d, expected %d", res->outcome, want);
}

/* Adds model block |i| and checks the outcome against the model. */
static void model_add(int i) {
  mblock *x = &R->b[i];
  int old_tip = tip_index(), root = root_index();
  bool too_old = R->imm > 0 && key_of(&x->info) <= key_of(&R->b[root].info);
  bool was_stored = x->stored;
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  int rc = cdl_chaindb_add_block(R->db, x->bytes.data, x->bytes.len, &res, &rej, &err);
  MCHECK(rc == CDL_OK, "add: %s", err.message);
  x->pending = false;
  R->adds++;
  if (res.outcome <= CDL_ADD_TOO_OLD) R->outcomes[res.outcome]++;
  if (TRACE)
    printf("    %zu: %s -> outcome %d, rollback %llu, tip key %llu, chain %zu (%zu immutable)\n",
           R->step, R->op, res.outcome, (unsigned long long)res.rollback,
           (unsigned long long)score(tip_index()), R->len, R->imm);
  if (too_old || was_stored) {
    if (too_old) expect_outcome(&res, CDL_ADD_TOO_OLD, false);
    else if (x->bad) expect_outcome(&res, CDL_ADD_INVALID, !x->refused);
    else expect_outcome(&res, CDL_ADD_DUPLICATE, false);
    return;
  }
  x->stored = true;
  bool reach[MAX_BLOCKS];
  uint64_t best = model_best(reach);
  if (best == score(old_tip)) {
    bool linked = x->parent == root || (x->parent >= 0 && reach[x->parent]);
    bool tried = x->bad && linked && score(i) > score(old_tip);
    expect_outcome(&res, tried ? CDL_ADD_INVALID : CDL_ADD_STORED, false);
    if (tried)
      MCHECK(rej.rule && strcmp(rej.rule, CDL_RULE_PBFT_SIGNATURE) == 0, "rule %s",
             rej.rule ? rej.rule : "(none)");
    x->refused = tried;
    return;
  }
  MCHECK(res.outcome == CDL_ADD_ADOPTED, "outcome %d: a better chain (key %llu) is not adopted",
         res.outcome, (unsigned long long)best - 1);
  cdl_block_info tip;
  MCHECK(cdl_chaindb_tip(R->db, &tip), "no tip");
  int t = find_hash(tip.hash);
  MCHECK(t >= 0 && reach[t] && score(t) == best, "the new tip (block %llu) is not a best one",
         (unsigned long long)tip.block_no);
  size_t rollback = model_adopt(t);
  MCHECK(res.rollback == rollback && rollback <= R->k, "rollback %llu, model %zu",
         (unsigned long long)res.rollback, rollback);
  R->switches += rollback > 0;
}

/* ---- The model: making blocks ----------------------------------------------------- */

/* The next block of branch |x|, made (not added); -1 when it has none. */
static int branch_next(branch *x) {
  int parent = x->head;
  int j = parent < 0 ? 0 : R->b[parent].j + 1;
  if (j >= N_RF || (parent < 0 && x->shift >= 0)) return -1;
  cdl_buf bytes;
  if (x->shift < 0) copy_bytes(&bytes, RF.blocks[j].data, RF.blocks[j].len);
  else forge_alt((size_t)j, R->b[parent].info.hash, (unsigned)(j + x->shift), &bytes);
  x->head = model_block(&bytes, parent, j, false);
  return x->head;
}

/* Starts |x| afresh: a new block after a block of the selected chain at
 * most k + 2 deep (deeper than k is refused), or now and then after any
 * block made so far. Returns the new block, -1 when none was made. */
static int new_fork(branch *x) {
  if (R->len == 0) return -1;
  int parent;
  if (below(4) > 0) {
    size_t deepest = (R->k < 12 ? R->k : 12) + 2;
    if (deepest > R->len - 1) deepest = R->len - 1;
    parent = R->chain[R->len - 1 - below(deepest + 1)];
  } else {
    parent = (int)below(R->n);
  }
  int j = R->b[parent].j + 1;
  if (R->b[parent].bad || j >= N_RF) return -1;
  unsigned start = (unsigned)below(7);
  for (unsigned t = 0; t < 7; t++) {
    unsigned signer = (start + t) % 7;
    cdl_buf bytes;
    forge_alt((size_t)j, R->b[parent].info.hash, signer, &bytes);
    size_t before = R->n;
    int i = model_block(&bytes, parent, j, false);
    if (R->n == before) continue; /* that block exists: another signer */
    x->head = i;
    x->shift = (int)((signer + 7 - (unsigned)j % 7) % 7);
    return i;
  }
  return -1;
}

/* A branch to grow; more often one that is not selected, so that forks
 * catch up and overtake. */
static branch *some_branch(void) {
  branch *x = &R->br[below(3)];
  for (int tries = 0; tries < 2 && x->head >= 0 && x->head == tip_index(); tries++)
    x = &R->br[below(3)];
  return x;
}

/* Names the operation under way; the history keeps the last ones. */
static void note_op(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(R->op, sizeof R->op, fmt, ap);
  va_end(ap);
  char *h = R->history[R->step % 12];
  if (R->noted != R->step + 1) h[0] = '\0';
  R->noted = R->step + 1;
  size_t used = strlen(h);
  snprintf(h + used, sizeof R->history[0] - used, "%s%s", used ? "; then " : "", R->op);
}

static void note_block(const char *what, int i) {
  const mblock *x = &R->b[i];
  note_op("%s block %d (real %d, number %llu, after %d%s)", what, i, x->j,
          (unsigned long long)x->info.block_no, x->parent, x->bad ? ", bad" : "");
}

/* ---- The model: operations ------------------------------------------------------------ */

static void op_add_next(void) {
  branch *x = some_branch();
  /* A branch well ahead of the selected chain is one it can no longer
   * reach (forked below the immutable tip): start it again now and then. */
  bool restart = x->head >= 0 && score(x->head) > score(tip_index()) + 8 && below(2);
  int i = restart ? -1 : branch_next(x);
  if (i < 0) i = new_fork(x);
  if (i < 0) {
    note_op("add: nothing to add");
    return;
  }
  note_block("add next", i);
  model_add(i);
}

static void op_new_fork(void) {
  int i = new_fork(&R->br[1 + below(2)]);
  if (i < 0) {
    note_op("fork: none made");
    return;
  }
  note_block("add fork", i);
  model_add(i);
}

/* The next two blocks of a branch: the second now, the first later. */
static void op_out_of_order(void) {
  branch *x = some_branch();
  int first = branch_next(x);
  if (first < 0) {
    note_op("out of order: nothing to add");
    return;
  }
  int second = branch_next(x);
  if (second < 0 || R->b[first].stored) {
    note_block("add next", first);
    model_add(first);
    return;
  }
  R->b[first].pending = true;
  note_block("add before its parent", second);
  model_add(second);
}

static void op_flush(void) {
  size_t n = 0;
  for (size_t i = 0; i < R->n; i++) n += R->b[i].pending;
  if (n == 0) return;
  size_t pick = below(n);
  for (size_t i = 0; i < R->n; i++) {
    if (!R->b[i].pending || pick-- > 0) continue;
    note_block("add late", (int)i);
    model_add((int)i);
    return;
  }
}

static void op_duplicate(void) {
  if (R->n == 0) return;
  int i = (int)below(R->n);
  note_block("add again", i);
  model_add(i);
}

/* The next block of a branch with a flipped signature byte. */
static void op_corrupt(void) {
  branch *x = some_branch();
  int parent = x->head >= 0 ? x->head : tip_index();
  if (parent < 0 || R->b[parent].j + 1 >= N_RF) {
    note_op("corrupt: no block");
    return;
  }
  int j = R->b[parent].j + 1;
  cdl_buf bytes;
  if (x->shift < 0 && x->head >= 0) copy_bytes(&bytes, RF.blocks[j].data, RF.blocks[j].len);
  else forge_alt((size_t)j, R->b[parent].info.hash, (unsigned)j + 5, &bytes);
  flip_signature(&bytes);
  int i = model_block(&bytes, parent, j, true);
  note_block("add corrupted", i);
  model_add(i);
}

static void open_db(cdl_chaindb_report *rep) {
  cdl_error err = {0};
  int rc = cdl_chaindb_open(&R->cfg, &R->db, rep, &err);
  MCHECK(rc == CDL_OK, "open: %s", err.message);
  rc = cdl_follower_new(R->db, &R->fol, &err);
  MCHECK(rc == CDL_OK, "follower: %s", err.message);
  R->n_view = 0;
}

static void shut_db(bool clean) {
  cdl_follower_del(R->fol);
  R->fol = NULL;
  if (clean) {
    cdl_error err = {0};
    int rc = cdl_chaindb_close(R->db, &err);
    R->db = NULL;
    MCHECK(rc == CDL_OK, "close: %s", err.message);
  } else {
    cdl_chaindb_abandon(R->db);
    R->db = NULL;
  }
  MCHECK(R->fs.open_files == 0, "%zu files open after closing", R->fs.open_files);
}

/* Close (or crash) and open again. After a clean close the same tip comes
 * back; after a crash one of the best chains (chain selection starts over
 * from the newest snapshot, and ties may go either way). */
static void op_reopen(bool clean) {
  note_op(clean ? "close and reopen" : "crash and reopen");
  int old_tip = tip_index();
  shut_db(clean);
  cdl_chaindb_report rep;
  open_db(&rep);
  R->reopens++;
  MCHECK(!clean || old_tip < 0 || rep.snapshot[0] != '\0', "no snapshot after a clean close");
  for (size_t i = 0; i < R->n; i++) R->b[i].refused = false; /* forgotten */
  bool reach[MAX_BLOCKS];
  uint64_t best = model_best(reach);
  cdl_block_info tip;
  if (!cdl_chaindb_tip(R->db, &tip)) {
    MCHECK(R->len == 0, "no tip after the reopen");
    return;
  }
  int t = find_hash(tip.hash);
  MCHECK(t >= 0, "unknown tip after the reopen");
  MCHECK(!clean || t == old_tip, "after a clean close the tip is block %llu, was %llu",
         (unsigned long long)tip.block_no,
         (unsigned long long)(old_tip >= 0 ? R->b[old_tip].info.block_no : 0));
  MCHECK(score(t) == best && (reach[t] || t == root_index()),
         "after a crash the tip (block %llu) is not a best chain (key %llu)",
         (unsigned long long)tip.block_no, (unsigned long long)best - 1);
  model_adopt(t);
}

/* One next() of |f|, whose caller has been told |view|, checked against the
 * model: back to the newest shared point when the view left the chain,
 * else the next block of the chain, else wait. */
static cdl_follow_kind follow_one(cdl_follower *f, int *view, size_t *n_view, bool read) {
  size_t common = 0;
  while (common < *n_view && common < R->len && view[common] == R->chain[common]) common++;
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point to;
  cdl_buf block;
  cdl_buf_init(&block, 0);
  cdl_error err = {0};
  int rc = cdl_follower_next(f, &kind, &info, &to, read ? &block : NULL, &err);
  MCHECK(rc == CDL_OK, "follower next: %s", err.message);
  if (common < *n_view) {
    const uint8_t *want = common ? R->b[view[common - 1]].info.hash : NULL;
    MCHECK(kind == CDL_FOLLOW_BACKWARD, "follower: %d, expected a roll-back", kind);
    if (want ? to.origin || memcmp(to.hash, want, 32) != 0 : !to.origin) {
      /* Where the point is: on the follower's chain, older than the
       * newest shared point (valid for a client, but not what the header
       * promises), or not on it at all (a client cannot roll back there). */
      size_t at = 0;
      while (!to.origin && at < *n_view && memcmp(R->b[view[at]].info.hash, to.hash, 32) != 0)
        at++;
      bool at_imm = R->imm && !to.origin && memcmp(to.hash, R->b[root_index()].info.hash, 32) == 0;
      model_soft_fail(__LINE__,
                      "rolled back to %s (slot %llu%s; %s), the newest shared point is %s (%s)",
                      to.origin ? "the origin" : hash_text(to.hash), (unsigned long long)to.slot,
                      at_imm ? ", the immutable tip" : "",
                      to.origin || at < *n_view ? "an older point of the follower's chain"
                                                : "NOT on the follower's chain",
                      want ? hash_text(want) : "the origin",
                      common <= R->imm ? "immutable" : "volatile");
    }
    *n_view = common;
    R->backwards++;
  } else if (*n_view < R->len) {
    const mblock *want = &R->b[R->chain[*n_view]];
    MCHECK(kind == CDL_FOLLOW_FORWARD && memcmp(info.hash, want->info.hash, 32) == 0,
           "follower: %d, expected block %llu forward", kind,
           (unsigned long long)want->info.block_no);
    MCHECK(!read || (block.len == want->bytes.len &&
                     memcmp(block.data, want->bytes.data, block.len) == 0),
           "follower: the block's bytes differ");
    view[*n_view] = R->chain[*n_view];
    (*n_view)++;
  } else {
    MCHECK(kind == CDL_FOLLOW_AWAIT, "follower: %d at the tip", kind);
  }
  cdl_buf_free(&block);
  return kind;
}

static void op_follow(void) {
  note_op("follow");
  size_t steps = 1 + below(2 * (R->k < 20 ? R->k : 20) + 4);
  for (size_t s = 0; s < steps && !R->resync; s++)
    if (follow_one(R->fol, R->view, &R->n_view, below(4) == 0) == CDL_FOLLOW_AWAIT) break;
  if (R->resync) { /* after a wrong roll-back: a new follower */
    cdl_follower_del(R->fol);
    cdl_error err = {0};
    MCHECK(cdl_follower_new(R->db, &R->fol, &err) == CDL_OK, "follower: %s", err.message);
    R->n_view = 0;
    R->resync = false;
  }
}

/* A new follower from the origin replays exactly the model's chain. */
static void op_replay(void) {
  note_op("replay from the origin");
  cdl_follower *f;
  cdl_error err = {0};
  MCHECK(cdl_follower_new(R->db, &f, &err) == CDL_OK, "follower: %s", err.message);
  int view[MAX_BLOCKS];
  size_t n_view = 0;
  while (follow_one(f, view, &n_view, true) != CDL_FOLLOW_AWAIT) {}
  MCHECK(n_view == R->len, "replayed %zu blocks of %zu", n_view, R->len);
  cdl_follower_del(f);
}

/* Look-ups by block number and by point. */
static void op_queries(void) {
  note_op("queries");
  uint64_t top = R->len ? R->b[tip_index()].info.block_no : 0;
  for (int q = 0; q < 3; q++) {
    uint64_t no = below(top + 3);
    long want = 0;
    while ((size_t)want < R->len && R->b[R->chain[want]].info.block_no != no) want++;
    cdl_block_info info;
    cdl_error err = {0};
    int rc = cdl_chaindb_find_block_no(R->db, no, &info, &err);
    if ((size_t)want == R->len) {
      MCHECK(rc == CDL_E_NOT_FOUND, "block number %llu: rc %d", (unsigned long long)no, rc);
      continue;
    }
    MCHECK(rc == CDL_OK && memcmp(info.hash, R->b[R->chain[want]].info.hash, 32) == 0,
           "block number %llu: rc %d, %s", (unsigned long long)no, rc, err.message);
  }
  uint64_t imm_slot = R->imm ? R->b[root_index()].info.slot : 0;
  for (int q = 0; q < 3 && R->n > 0; q++) {
    const mblock *x = &R->b[below(R->n)];
    cdl_point p = point_of(&x->info);
    cdl_buf out;
    cdl_buf_init(&out, 0);
    cdl_block_info info;
    cdl_error err = {0};
    int rc = cdl_chaindb_read_block(R->db, &p, &out, &info, &err);
    bool held = chain_pos((int)(x - R->b)) >= 0 || (x->stored && x->info.slot >= imm_slot);
    bool maybe = x->stored && !held; /* may have been collected */
    MCHECK(rc == CDL_OK || (rc == CDL_E_NOT_FOUND && !held),
           "read block %llu: rc %d %s", (unsigned long long)x->info.block_no, rc, err.message);
    MCHECK(rc != CDL_OK || held || maybe, "read block %llu: found, never stored",
           (unsigned long long)x->info.block_no);
    MCHECK(rc != CDL_OK || (out.len == x->bytes.len &&
                            memcmp(out.data, x->bytes.data, out.len) == 0 &&
                            memcmp(info.hash, x->info.hash, 32) == 0),
           "read block %llu: other bytes", (unsigned long long)x->info.block_no);
    cdl_buf_free(&out);
  }
}

/* A list of points (the origin, unknown points, blocks on and off the
 * chain): the follower moves to the first one on the selected chain and
 * goes on from there. */
static void op_intersect(void) {
  note_op("intersect");
  cdl_point pts[6];
  int idx[6];
  size_t n = 1 + below(6);
  long want = -3; /* index into pts of the expected point; -3 none */
  for (size_t p = 0; p < n; p++) {
    uint64_t r = below(10);
    idx[p] = r == 0 || R->n == 0 ? -1 : r == 1 ? -2 : (int)below(R->n);
    if (idx[p] == -1) pts[p] = (cdl_point){.origin = true};
    else if (idx[p] == -2) {
      pts[p] = (cdl_point){.origin = false, .slot = below(N_RF)};
      cdl_gen_rng_bytes(&R->rng, pts[p].hash, 32);
    } else pts[p] = point_of(&R->b[idx[p]].info);
    if (want == -3 && (idx[p] == -1 || (idx[p] >= 0 && chain_pos(idx[p]) >= 0))) want = (long)p;
  }
  cdl_follower *f;
  cdl_point found;
  bool any;
  cdl_error err = {0};
  MCHECK(cdl_follower_new(R->db, &f, &err) == CDL_OK, "follower: %s", err.message);
  MCHECK(cdl_follower_intersect(f, pts, n, &found, &any, &err) == CDL_OK, "intersect: %s",
         err.message);
  MCHECK(any == (want != -3), "intersect found %d, expected %d", any, want != -3);
  if (any) {
    MCHECK(found.origin == pts[want].origin &&
               (found.origin || memcmp(found.hash, pts[want].hash, 32) == 0),
           "intersect found another point than #%ld", want);
    int view[MAX_BLOCKS];
    size_t n_view = idx[want] < 0 ? 0 : (size_t)chain_pos(idx[want]) + 1;
    memcpy(view, R->chain, n_view * sizeof *view);
    follow_one(f, view, &n_view, true);
  }
  cdl_follower_del(f);
}

/* ---- The model: runs ------------------------------------------------------------------ */

/* One random operation (weights per mille), then the state is checked. */
static void model_step(void) {
  uint64_t r = below(1000);
  if (r < 470) op_add_next();
  else if (r < 520) op_new_fork();
  else if (r < 600) op_out_of_order();
  else if (r < 640) op_duplicate();
  else if (r < 690) op_corrupt();
  else if (r < 695) op_reopen(true);
  else if (r < 700) op_reopen(false);
  else if (r < 850) op_follow();
  else if (r < 910) op_queries();
  else if (r < 970) op_intersect();
  else op_replay();
  check_state();
  if (below(4) == 0) {
    op_flush();
    check_state();
  }
}

static void model_cleanup(void) {
  if (R->fol) cdl_follower_del(R->fol);
  if (R->db) cdl_chaindb_abandon(R->db);
  R->fol = NULL;
  R->db = NULL;
  for (size_t i = 0; i < R->n; i++) cdl_buf_free(&R->b[i].bytes);
  remove_dir(R->dir);
}

typedef struct model_totals {
  size_t seeds, failed, adds, switches, reopens, backwards, max_len, max_imm, outcomes[5];
  uint64_t first_failed;
} model_totals;

/* One seed: k, the snapshot interval and every operation follow from it. */
static void model_seed(uint64_t seed, model_totals *t) {
  static const uint64_t ks[] = {3, 5, 8, 2160};
  memset(R, 0, sizeof *R);
  R->seed = seed;
  cdl_gen_rng_seed(&R->rng, seed);
  R->k = ks[seed % 4];
  make_dir(R->dir, sizeof R->dir, "chaindb-model");
  cdl_fs_posix_init(&R->fs, 0);
  R->cfg = rf_config(R->dir, R->k, &R->fs);
  R->cfg.snapshot_interval = seed % 3 ? 2 + seed % 5 : 0;
  R->br[0] = (branch){-1, -1};
  R->br[1] = R->br[2] = (branch){-1, 0};
  t->seeds++;
  if (setjmp(R->fail) != 0) {
    model_cleanup();
    if (t->failed++ == 0) t->first_failed = seed;
    return;
  }
  open_db(NULL);
  for (R->step = 0; R->step < MODEL_STEPS; R->step++) model_step();
  for (size_t i = 0; i < R->n; i++)
    if (R->b[i].pending) model_add((int)i);
  check_state();
  op_replay();
  op_reopen(true);
  op_replay();
  shut_db(true);
  if (R->soft_failed && t->failed++ == 0) t->first_failed = seed;
  t->adds += R->adds, t->switches += R->switches, t->reopens += R->reopens;
  t->backwards += R->backwards;
  for (int o = 0; o < 5; o++) t->outcomes[o] += R->outcomes[o];
  if (R->len > t->max_len) t->max_len = R->len;
  if (R->imm > t->max_imm) t->max_imm = R->imm;
  model_cleanup();
}

static void test_model(void **state) {
  (void)state;
  R = calloc(1, sizeof *R);
  assert_non_null(R);
  const char *one = getenv("CDL_MODEL_SEED"), *many = getenv("CDL_MODEL_SEEDS");
  TRACE = getenv("CDL_MODEL_TRACE") != NULL;
  uint64_t first = one ? strtoull(one, NULL, 10) : 1;
  uint64_t n = one ? 1 : many ? strtoull(many, NULL, 10) : MODEL_SEEDS;
  model_totals t = {0};
  for (uint64_t s = first; s < first + n; s++) model_seed(s, &t);
  printf("  model: %zu seeds x %d steps, %zu adds (adopted %zu, stored %zu, duplicate %zu, "
         "invalid %zu, too old %zu), %zu fork switches, %zu reopens, %zu roll-backs seen by "
         "followers, final chains up to %zu blocks (%zu immutable)\n",
         t.seeds, MODEL_STEPS, t.adds, t.outcomes[0], t.outcomes[1], t.outcomes[2],
         t.outcomes[3], t.outcomes[4], t.switches, t.reopens, t.backwards, t.max_len, t.max_imm);
  free(R);
  R = NULL;
  if (t.failed)
    fail_msg("%zu of %zu seeds disagree with the model (first: seed %llu)", t.failed, t.seeds,
             (unsigned long long)t.first_failed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_immutable_open_empty_dir),
      cmocka_unit_test(test_immutable_empty_and_misses),
      cmocka_unit_test(test_immutable_append_find_read),
      cmocka_unit_test(test_immutable_truncate),
      cmocka_unit_test(test_chaindb_basics),
      cmocka_unit_test(test_chaindb_rollback_bound),
      cmocka_unit_test(test_chaindb_ebb_wins_ties),
      cmocka_unit_test(test_follower_fork_switch),
      cmocka_unit_test(test_model),
      cmocka_unit_test(test_follower_rollback_into_immutable),
      cmocka_unit_test(test_follower_rollback_after_collection),
      cmocka_unit_test(test_selection_after_refused_block),
      cmocka_unit_test(test_selection_within_k),
      cmocka_unit_test(test_rollback_reported),
      cmocka_unit_test(test_follower_rollback_newest_point),
      cmocka_unit_test(test_immutable_append_after_boundary_truncation),
  };
  const char *only = getenv("CDL_TEST_FILTER"); /* e.g. "test_model" or "*follower*" */
  if (only != NULL) cmocka_set_test_filter(only);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
