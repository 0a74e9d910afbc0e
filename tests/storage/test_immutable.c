/*
 * test_immutable.c: the immutable DB API (include/cardinal/storage.h
 * "Immutable DB"; src/storage/immutable*.c) on two chains generated with
 * k = 5 from one genesis directory (storage_support.h, gen_forks): each
 * epoch starts with an EBB and is one chunk, and the second chain forks
 * right after the genesis EBB.
 *
 * Append, find by point, find_block_no, find_slot, read, read_header,
 * info, next, truncate_slot, truncate_before, reopen (the indexes before the
 * last chunk's judged by their ends, an entry between them when the chunk
 * is first read), refused appends
 * (a block that does not follow the tip, info that does not match), an
 * empty directory, epochs without blocks (a gap in the chunk numbers that
 * the next chunk bridges opens; one it does not, or a chunk file gone
 * from beside its index, is refused as missing), and one test per defect found in src/storage, named
 * after what must hold: an append into the chunk before a truncation at a
 * chunk boundary, and a fork's block after a cut back to a chunk's start
 * (two small chains of a k = 10 genesis). Tests of a defect that may
 * corrupt the heap run in a child process. CDL_TEST_FILTER runs only the
 * tests whose names match (a cmocka pattern).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/storage/immutable_internal.h"
#include "storage_support.h"

#define GEN_EPOCH FORKS_EPOCH /* slots of an epoch, and of a chunk */

/* ---- Helpers ------------------------------------------------------------------- */

static cdl_immutable *imm_open(cdl_fs *fs, const char *dir, cdl_immutable_report *rep) {
  cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH};
  cdl_immutable *im = NULL;
  cdl_error err = {0};
  if (cdl_immutable_open(fs, dir, &cfg, &im, rep, &err) != CDL_OK)
    fail_msg("immutable open: %s", err.message);
  return im;
}

/* A test's database: a fresh directory and a file system counting handles. */
typedef struct imm_db {
  char dir[64];
  cdl_fs fs;
} imm_db;

/* Opens a new, empty immutable DB for |d|. */
static cdl_immutable *imm_begin(imm_db *d) {
  make_dir(d->dir, sizeof d->dir, "imm");
  cdl_fs_posix_init(&d->fs, 0);
  return imm_open(&d->fs, d->dir, NULL);
}

/* Closes |im|: no handle is left open; the directory goes. */
static void imm_end(imm_db *d, cdl_immutable *im) {
  cdl_immutable_close(im);
  assert_int_equal(d->fs.open_files, 0);
  remove_dir(d->dir);
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

/* A look-up gave |rc| and |info|: block |want| of |c|, not found when
 * |want| is |n|. */
static void expect_found(int rc, const cdl_block_info *info, const gchain *c, size_t want,
                         size_t n) {
  if (want == n) {
    assert_int_equal(rc, CDL_E_NOT_FOUND);
    return;
  }
  assert_int_equal(rc, CDL_OK);
  assert_same_info(info, &c->info[want]);
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
    expect_found(rc, &info, c, want, n);
  }
  for (uint64_t slot = 0; slot <= c->info[n - 1].slot + 1; slot++) {
    size_t want = 0;
    while (want < n && c->info[want].slot < slot) want++;
    cdl_error err = {0};
    int rc = cdl_immutable_find_slot(im, slot, &pos, &info, &err);
    expect_found(rc, &info, c, want, n);
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
  imm_db d;
  cdl_immutable *im = imm_begin(&d);
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
  imm_append(im, GX, 0, 60);
  uint8_t wrong[32];
  memcpy(wrong, GX->info[10].hash, 32);
  wrong[0] ^= 1;
  cdl_error e2 = {0};
  assert_int_equal(cdl_immutable_find(im, GX->info[10].slot, wrong, &pos, NULL, &e2),
                   CDL_E_NOT_FOUND);
  cdl_error e3 = {0};
  assert_int_equal(cdl_immutable_find(im, GX->info[10].slot + 1, GX->info[10].hash, &pos, NULL,
                                      &e3),
                   CDL_E_NOT_FOUND);
  cdl_error e4 = {0};
  assert_int_equal(cdl_immutable_read(im, (cdl_immutable_pos){0, 5000}, &out, NULL, &e4),
                   CDL_E_NOT_FOUND);
  cdl_buf_free(&out);
  imm_end(&d, im);
}

/* Appends, every look-up, reopen keeping everything, refused appends. */
static void test_immutable_append_find_read(void **state) {
  (void)state;
  imm_db d;
  cdl_immutable *im = imm_begin(&d);
  imm_append(im, GX, 0, GX->n);
  assert_true(GX->info[GX->n - 1].slot / GEN_EPOCH >= 6); /* several chunks */
  imm_check_all(im, GX, GX->n);
  /* Blocks that do not follow the tip: refused, nothing written. */
  imm_expect_refused(im, GX->blocks[5], &GX->info[5], CDL_E_PREV_HASH);
  imm_expect_refused(im, GX->blocks[GX->n - 1], &GX->info[GX->n - 1], CDL_E_PREV_HASH);
  imm_expect_refused(im, GY->blocks[GY->n - 1], &GY->info[GY->n - 1], CDL_E_PREV_HASH);
  cdl_block_info lying = GX->info[3];
  lying.size++;
  imm_expect_refused(im, GX->blocks[3], &lying, CDL_E_USAGE);
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_sync(im, &err), CDL_OK);
  cdl_immutable_close(im);
  assert_int_equal(d.fs.open_files, 0);
  for (int round = 0; round < 2; round++) {
    cdl_immutable_report rep;
    im = imm_open(&d.fs, d.dir, &rep);
    assert_int_equal(rep.blocks, GX->n);
    assert_int_equal(rep.chunks, GX->info[GX->n - 1].slot / GEN_EPOCH + 1);
    assert_int_equal(rep.indexes_rebuilt, 0);
    assert_int_equal(rep.truncated_bytes, 0);
    assert_int_equal(rep.removed_chunks, 0);
    assert_string_equal(rep.problem, "");
    imm_check_all(im, GX, GX->n);
    /* A fork of the genesis EBB cannot follow either. */
    imm_expect_refused(im, GY->blocks[1], &GY->info[1], CDL_E_PREV_HASH);
    cdl_immutable_close(im);
    assert_int_equal(d.fs.open_files, 0);
  }
  remove_dir(d.dir);
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
  imm_db d;
  cdl_immutable *im = imm_begin(&d);
  imm_append(im, GX, 0, GX->n);
  uint64_t last = GX->info[GX->n - 1].slot;
  uint64_t slots[] = {last + 5, last, GX->info[100].slot, GX->info[100].slot - 1, 3 * GEN_EPOCH,
                      3 * GEN_EPOCH - 1, 2 * GEN_EPOCH + 17, GX->info[1].slot, 0, UINT64_MAX};
  for (size_t s = 0; s < sizeof slots / sizeof *slots; s++) {
    cdl_error err = {0};
    assert_int_equal(cdl_immutable_truncate_slot(im, slots[s], &err), CDL_OK);
    size_t keep = blocks_to_slot(GX, slots[s]);
    imm_check_all(im, GX, keep);
    if (s % 2 == 0) {
      cdl_immutable_close(im);
      im = imm_open(&d.fs, d.dir, NULL);
      imm_check_all(im, GX, keep);
    }
    imm_append(im, GX, keep, GX->n);
    imm_check_all(im, GX, GX->n);
  }
  /* truncate_before: the start of a chunk, the middle of one, everything. */
  cdl_immutable_pos at[] = {{4, 0}, {2, 7}, {0, 1}, {0, 0}, {40, 0}};
  for (size_t s = 0; s < sizeof at / sizeof *at; s++) {
    size_t first = 0; /* the chunk's first block */
    while (first < GX->n && GX->info[first].slot / GEN_EPOCH < at[s].chunk) first++;
    size_t keep = first;
    while (keep < GX->n && GX->info[keep].slot / GEN_EPOCH == at[s].chunk &&
           keep - first < at[s].index)
      keep++;
    cdl_error err = {0};
    assert_int_equal(cdl_immutable_truncate_before(im, at[s], &err), CDL_OK);
    imm_check_all(im, GX, keep);
    imm_append(im, GX, keep, GX->n);
    imm_check_all(im, GX, GX->n);
  }
  imm_end(&d, im);
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
    if (child_find_read(im, GX->blocks[i], &GX->info[i]) != 0) return 1;
  if (child_find_read(im, cdl_span_of(bc->extra.data, bc->extra.len), &bc->extra_info) != 0)
    return 1;
  CHILD_CHECK(cdl_immutable_count(im) == bc->last + 2, "count %llu, expected %zu",
              (unsigned long long)cdl_immutable_count(im), bc->last + 2);
  cdl_immutable_pos bad;
  cdl_error err = {0};
  CHILD_CHECK(cdl_immutable_check_all(im, &bad, &err) == CDL_OK, "check_all: %s", err.message);
  return 0;
}

/* In a child: opens the immutable DB at |dir| on |fs| (|what|: "open" or
 * "reopen", for the message when that fails). */
static int child_open(const char *dir, cdl_fs *fs, cdl_immutable **im, const char *what) {
  cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH};
  cdl_error err = {0};
  *im = NULL;
  CHILD_CHECK(cdl_immutable_open(fs, dir, &cfg, im, NULL, &err) == CDL_OK, "%s: %s", what,
              err.message);
  return 0;
}

static int boundary_child(void *arg) {
  const boundary_case *bc = arg;
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable *im;
  if (child_open(bc->dir, &fs, &im, "open") != 0) return 1;
  cdl_error err = {0};
  const cdl_block_info *last = &GX->info[bc->last];
  if (bc->load_first && child_find_read(im, GX->blocks[bc->last], last) != 0) return 1;
  CHILD_CHECK(cdl_immutable_truncate_slot(im, last->slot, &err) == CDL_OK, "truncate: %s",
              err.message);
  cdl_block_info tip;
  CHILD_CHECK(cdl_immutable_tip(im, &tip, NULL) && memcmp(tip.hash, last->hash, 32) == 0,
              "truncate_slot kept the wrong tip");
  int rc = cdl_immutable_append(im, bc->extra.data, bc->extra.len, &bc->extra_info, &err);
  CHILD_CHECK(rc == CDL_OK, "append after the truncation: %s", err.message);
  if (child_holds(im, bc) != 0) return 1;
  cdl_immutable_close(im);
  if (child_open(bc->dir, &fs, &im, "reopen") != 0) return 1;
  if (child_holds(im, bc) != 0) return 1;
  cdl_immutable_close(im);
  CHILD_CHECK(fs.open_files == 0, "%zu handles left open", fs.open_files);
  return 0;
}

/* The number of blocks of GX before chunk |c|. */
static size_t before_chunk(uint64_t c) { return c ? blocks_to_slot(GX, c * GEN_EPOCH - 1) : 0; }

/* A chunk c whose last block leaves a free slot before chunk c + 1 (which
 * starts with an EBB and a main block), and a later full chunk t holding
 * more blocks than c: the DB is made of the chunks up to t. */
static void pick_boundary_chunk(boundary_case *bc, size_t *src) {
  uint64_t full = GX->info[GX->n - 1].slot / GEN_EPOCH; /* chunks before it are complete */
  for (uint64_t c = 1; c + 2 < full; c++) {
    size_t end = before_chunk(c + 1), count = end - before_chunk(c);
    if (GX->info[end - 1].slot % GEN_EPOCH == GEN_EPOCH - 1) continue;
    if (!GX->info[end].is_ebb || GX->info[end + 1].is_ebb) continue;
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
  moved_block(GX, src, &GX->info[bc.last], GX->info[bc.last].slot + 1, &bc.extra, &bc.extra_info);
  int failed = 0;
  for (int variant = 0; variant < 2; variant++) {
    make_dir(bc.dir, sizeof bc.dir, "imm");
    cdl_fs fs;
    cdl_fs_posix_init(&fs, 0);
    cdl_immutable *im = imm_open(&fs, bc.dir, NULL);
    imm_append(im, GX, 0, bc.n);
    cdl_immutable_close(im); /* the reopen in the child drops the old chunks' entries */
    bc.load_first = variant == 1;
    int rc = run_child(boundary_child, &bc, NULL, 0, NULL);
    if (rc != 0) {
      fprintf(stderr, "  truncate_slot(%llu) at a chunk boundary, then an append into the "
                      "chunk before (%s): child status %d\n",
              (unsigned long long)GX->info[bc.last].slot,
              bc.load_first ? "its index loaded first" : "after a reopen", rc);
      failed++;
    }
    remove_dir(bc.dir);
  }
  cdl_buf_free(&bc.extra);
  assert_int_equal(failed, 0);
}

/* ---- Cutting back to a chunk's start, then a fork ---------------------------------
 * What `db repair` and a ChainDB open do when the ledger refuses an
 * immutable block that starts a chunk: cdl_immutable_truncate_before drops
 * the chunk; blocks of a fork may then go to the chunk before it. With two
 * chains of one genesis (k = 10; the same EBB, then different blocks) and
 * chunks of two slots (epoch_slots 2: every block here is in epoch 0, whose
 * slots read the same either way), chain A fills chunks 0 (only the EBB)
 * to n, the DB is reopened, and after the cut back to the EBB the first
 * block of chain B (slot 0 or 1) joins chunk 0. */

/* How many blocks of |a| to store: through the first two-block chunk
 * after a chunk 0 that holds only the EBB; 0 when |a| has no such shape. */
static size_t fork_prefix(const gchain *a) {
  if (a->n < 4 || a->info[1].slot < 2) return 0;
  for (size_t i = 2; i < a->n; i++)
    if (a->info[i].slot / 2 == a->info[i - 1].slot / 2) return i + 1;
  return 0;
}

/* Block 1 of |b| is a main block in chunk 0 (slot 0 or 1). */
static bool forks_in_chunk0(const gchain *b) {
  return b->n >= 2 && b->info[1].slot < 2 && !b->info[1].is_ebb;
}

/* The first 60-slot chain of |g| with |fill| (seeds 1-199) that |fits|. */
static void shaped_chain(const cdl_gen_dir *g, double fill, bool (*fits)(const gchain *),
                         gchain *c) {
  cdl_gen_chain_opts o = {.slots = 60, .fill = fill};
  for (o.seed = 1; o.seed < 200; o.seed++) {
    cdl_error err = {0};
    if (gchain_try(g, &o, c, &err) == CDL_OK && fits(c)) return;
    gchain_free(c);
  }
  fail_msg("no chain of that shape");
}

static bool has_fork_prefix(const gchain *a) { return fork_prefix(a) > 0; }

static void cut_then_fork(const gchain *a, size_t na, const gchain *b, bool touch) {
  char dir[64];
  make_dir(dir, sizeof dir, "imm-fork");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable_config cfg = {.epoch_slots = 2};
  cdl_immutable *im;
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_open(&fs, dir, &cfg, &im, NULL, &err), CDL_OK);
  imm_append(im, a, 0, na);
  cdl_immutable_close(im);
  assert_int_equal(cdl_immutable_open(&fs, dir, &cfg, &im, NULL, &err), CDL_OK);
  cdl_block_info bi;
  if (touch) assert_int_equal(cdl_immutable_info(im, (cdl_immutable_pos){0, 0}, &bi, &err), 0);
  assert_int_equal(cdl_immutable_truncate_before(im, (cdl_immutable_pos){1, 0}, &err), CDL_OK);
  assert_int_equal(cdl_immutable_count(im), 1);
  imm_append(im, b, 1, 2);
  char bad[200] = "";
  for (uint32_t i = 0; i < 2 && bad[0] == '\0'; i++) {
    cdl_buf out;
    cdl_buf_init(&out, 0);
    int rc = cdl_immutable_read(im, (cdl_immutable_pos){0, i}, &out, &bi, &err);
    const cdl_span *want = i == 0 ? &a->blocks[0] : &b->blocks[1];
    if (rc != CDL_OK || out.len != want->len || memcmp(out.data, want->ptr, out.len) != 0)
      snprintf(bad, sizeof bad, "block %u of chunk 0 reads back wrong: %.120s", i,
               rc ? err.message : "other bytes");
    cdl_buf_free(&out);
  }
  cdl_immutable_close(im);
  remove_dir(dir);
  if (bad[0] != '\0')
    fail_msg("after the cut back to chunk 0 (%s before) and a fork's block: %s",
             touch ? "read" : "not read", bad);
}

static void test_cut_then_fork(void **state) {
  (void)state;
  char gdir[64];
  make_dir(gdir, sizeof gdir, "imm-genesis");
  cdl_gen_dir g;
  gen_genesis(gdir, 10, 4, 12, &g);
  gchain a, b;
  shaped_chain(&g, 0.5, has_fork_prefix, &a);
  shaped_chain(&g, 1.0, forks_in_chunk0, &b);
  assert_memory_equal(a.info[0].hash, b.info[0].hash, 32); /* one EBB */
  cut_then_fork(&a, fork_prefix(&a), &b, false);
  cut_then_fork(&a, fork_prefix(&a), &b, true);
  gchain_free(&a);
  gchain_free(&b);
  cdl_gen_dir_free(&g);
  remove_dir(gdir);
}

/* ---- Immutable DB: an empty directory ------------------------------------------------
 * A new database starts from a directory without chunk files. Run in a
 * child: sanitizer builds abort on undefined behaviour. */

static int empty_dir_child(void *arg) {
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable *im;
  if (child_open(arg, &fs, &im, "open") != 0) return 1;
  CHILD_CHECK(cdl_immutable_count(im) == 0, "blocks in an empty directory");
  cdl_immutable_close(im);
  return 0;
}

static void test_immutable_open_empty_dir(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "imm");
  int rc = run_child(empty_dir_child, dir, NULL, 0, NULL);
  remove_dir(dir);
  if (rc != 0) fail_msg("opening an empty directory: child status %d", rc);
}

/* ---- Immutable DB: epochs without blocks -----------------------------------------
 * An epoch without blocks has no chunk file, so a gap in the chunk numbers
 * is no sign of a missing file when the chunk after it follows on
 * (docs/storage.md "Missing files"). Chunks of one slot each (epoch_slots
 * 1) make every empty slot of X such an epoch. */

static cdl_immutable_config one_slot_chunks(void) {
  cdl_immutable_config cfg = {.epoch_slots = 1, .check_genesis = true};
  memcpy(cfg.genesis_hash, FORKS.gen.genesis.hash, 32);
  return cfg;
}

/* The files of the chunk holding X's block |i|, |ext| "*" for both. */
static void remove_chunk_of(const char *dir, size_t i, const char *ext) {
  shell("rm %s/%05llu.%s", dir, (unsigned long long)GX->info[i].slot, ext);
}

static int open_code(const char *dir, cdl_error *err) {
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_immutable_config cfg = one_slot_chunks();
  cdl_immutable *im = NULL;
  int rc = cdl_immutable_open(&fs, dir, &cfg, &im, NULL, err);
  cdl_immutable_close(im);
  return rc;
}

static void test_epochs_without_blocks(void **state) {
  (void)state;
  enum { N = 40 };
  size_t gaps = 0;
  for (size_t i = 1; i < N; i++) gaps += GX->info[i].slot > GX->info[i - 1].slot + 1;
  assert_true(gaps > 0);
  imm_db d;
  make_dir(d.dir, sizeof d.dir, "imm");
  cdl_fs_posix_init(&d.fs, 0);
  cdl_immutable_config cfg = one_slot_chunks();
  cdl_immutable *im = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_open(&d.fs, d.dir, &cfg, &im, NULL, &err), CDL_OK);
  imm_append(im, GX, 0, N);
  cdl_immutable_close(im);
  cdl_immutable_report rep;
  assert_int_equal(cdl_immutable_open(&d.fs, d.dir, &cfg, &im, &rep, &err), CDL_OK);
  assert_int_equal(cdl_immutable_count(im), N);
  assert_string_equal(rep.problem, "");
  assert_int_equal(rep.removed_chunks + rep.truncated_bytes + rep.indexes_rebuilt, 0);
  cdl_immutable_close(im);
  /* The same layout with a chunk gone: its index left, or both files. */
  remove_chunk_of(d.dir, N - 5, "chunk");
  assert_int_equal(open_code(d.dir, &err), CDL_E_MISSING);
  assert_non_null(strstr(err.message, ".chunk is missing (its index"));
  cdl_error_clear(&err);
  remove_chunk_of(d.dir, N - 5, "cidx");
  remove_chunk_of(d.dir, 20, "*");
  assert_int_equal(open_code(d.dir, &err), CDL_E_MISSING);
  assert_non_null(strstr(err.message, "does not follow the chunk before"));
  remove_dir(d.dir);
}

/* The open reads the ends of the indexes before the last chunk's, not
 * every entry: an entry damaged between the ends of chunk 1's index is
 * not seen by the open, and is found (the index rebuilt from the chunk,
 * every look-up right) when the chunk is first read; an open with
 * validate_all finds it at once. Damage at an end is found by the open. */
static void test_open_reads_index_ends(void **state) {
  (void)state;
  imm_db d;
  cdl_immutable *im = imm_begin(&d);
  imm_append(im, GX, 0, GX->n);
  cdl_immutable_close(im);
  char path[256];
  snprintf(path, sizeof path, "%s/00001.cidx", d.dir);
  cdl_buf pristine;
  read_file(path, &pristine);
  size_t entries = (pristine.len - 16) / 112;
  assert_true(entries >= 3);
  for (int pass = 0; pass < 3; pass++) {
    /* 0: an entry between the ends; 1: the same with validate_all; 2: the last entry. */
    write_file(path, pristine.data, pristine.len);
    flip_at(path, 16 + (pass == 2 ? entries - 1 : entries / 2) * 112 + 45, 0x10);
    cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH, .validate_all = pass == 1};
    cdl_immutable_report rep;
    cdl_error err = {0};
    assert_int_equal(cdl_immutable_open(&d.fs, d.dir, &cfg, &im, &rep, &err), CDL_OK);
    assert_int_equal(rep.indexes_rebuilt, pass == 0 ? 0 : 1);
    assert_int_equal(rep.blocks, GX->n);
    imm_check_all(im, GX, GX->n); /* reads chunk 1: its index is rebuilt (pass 0) */
    cdl_immutable_close(im);
    cdl_buf now;
    read_file(path, &now);
    assert_int_equal(now.len, pristine.len);
    assert_memory_equal(now.data, pristine.data, now.len);
    cdl_buf_free(&now);
  }
  cdl_buf_free(&pristine);
  assert_int_equal(d.fs.open_files, 0);
  remove_dir(d.dir);
}

/* Appending chunk after chunk keeps at most cached_chunks chunks' entries
 * in memory beside the tip's (each left tip joins the cache), and every
 * block is still found and read. */
static void test_appends_keep_cache_bounded(void **state) {
  (void)state;
  imm_db d;
  make_dir(d.dir, sizeof d.dir, "imm");
  cdl_fs_posix_init(&d.fs, 0);
  cdl_immutable_config cfg = {.epoch_slots = GEN_EPOCH, .cached_chunks = 2};
  cdl_immutable *im = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_immutable_open(&d.fs, d.dir, &cfg, &im, NULL, &err), CDL_OK);
  imm_append(im, GX, 0, GX->n);
  assert_true(im->n_chunks >= 5);
  size_t loaded = 0;
  for (size_t i = 0; i + 1 < im->n_chunks; i++) loaded += im->chunks[i].entries != NULL;
  assert_true(loaded <= 2);
  imm_check_all(im, GX, GX->n);
  imm_end(&d, im);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_appends_keep_cache_bounded),
      cmocka_unit_test(test_open_reads_index_ends),
      cmocka_unit_test(test_immutable_open_empty_dir),
      cmocka_unit_test(test_immutable_empty_and_misses),
      cmocka_unit_test(test_immutable_append_find_read),
      cmocka_unit_test(test_immutable_truncate),
      cmocka_unit_test(test_immutable_append_after_boundary_truncation),
      cmocka_unit_test(test_cut_then_fork),
      cmocka_unit_test(test_epochs_without_blocks),
  };
  filter_tests_from_env();
  return cmocka_run_group_tests(tests, forks_setup, forks_teardown); /* GX and GY */
}
