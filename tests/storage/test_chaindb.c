/*
 * test_chaindb.c: fixed scenarios of the ChainDB and its followers
 * (include/cardinal/storage.h "ChainDB", "Followers"; src/storage/chaindb*.c),
 * each with the outcome worked out by hand; the random sequences against
 * a model of chain selection are in test_chaindb_model.c, the immutable DB
 * API in test_immutable.c.
 *
 * Blocks come from two sources (storage_support.h):
 *  - the real mainnet epoch 0 re-forged with test keys. A fork block
 *    re-forges real block j (its body, slot and number) after any
 *    predecessor and has it signed by another genesis delegate, so it is
 *    valid wherever block j - 1's number sits, and differs from every other
 *    block at j. The ChainDB runs these with k = 3, 5, 8 (the ledger's
 *    epoch is then 10k slots, PBFT threshold 1.0 so any delegate may sign)
 *    and with the genesis' own k = 2160;
 *  - chains X and Y generated with k = 5 from one genesis directory: they
 *    fork right after the genesis EBB, and each epoch starts with an EBB.
 *
 * In-order adds and look-ups, duplicates, a refused block, reopen after a
 * clean close and after a crash, the rollback bound k, EBBs winning ties,
 * followers across fork switches and into the immutable DB, intersections,
 * points matched by slot and hash (EBBs included), memory that follows
 * the chain and not k, and one test per defect found in src/storage,
 * named after what must hold. CDL_TEST_FILTER runs only the tests whose
 * names match (a cmocka
 * pattern).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_support.h"

/* RF, and X and Y (GX, GY). */
static int group_setup(void **state) {
  rf_setup(state);
  return forks_setup(state);
}

static int group_teardown(void **state) {
  rf_teardown(state);
  return forks_teardown(state);
}

/* ---- Helpers --------------------------------------------------------------- */

/* A scenario's ChainDB: its directory, configuration and file system. */
typedef struct scene {
  char dir[64];
  cdl_fs fs;
  cdl_chaindb_config cfg;
} scene;

/* A new ChainDB of the re-forged genesis with |k|, holding the real blocks
 * 0..|n| - 1, each adopted. */
static cdl_chaindb *scene_rf(scene *s, uint64_t k, size_t n) {
  make_dir(s->dir, sizeof s->dir, "chaindb");
  cdl_fs_posix_init(&s->fs, 0);
  s->cfg = rf_config(s->dir, k, &s->fs);
  cdl_chaindb *db = db_open(&s->cfg, NULL);
  for (size_t i = 0; i < n; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  return db;
}

/* A new ChainDB of the genesis of X and Y, its ledger with |k|. */
static cdl_chaindb *scene_gen(scene *s, uint64_t k) {
  make_dir(s->dir, sizeof s->dir, "chaindb");
  cdl_fs_posix_init(&s->fs, 0);
  s->cfg = chaindb_config(s->dir, &FORKS.gen.genesis, &s->fs);
  s->cfg.ledger.k = k;
  return db_open(&s->cfg, NULL);
}

/* Closes |db|: no file is left open; the directory goes. */
static void scene_end(scene *s, cdl_chaindb *db) {
  db_close(db);
  assert_int_equal(s->fs.open_files, 0);
  remove_dir(s->dir);
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

/* A new follower of |db|, given the real blocks 0..|last| (the chain). */
static cdl_follower *follower_at(cdl_chaindb *db, size_t last) {
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  for (size_t i = 0; i <= last; i++) expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[i]);
  return f;
}

/* Whether the next() of |f| rolls back to the block |hash|; what it gave
 * in *kind and *to (for the message when not). */
static bool next_rolls_back_to(cdl_follower *f, const uint8_t hash[32], cdl_follow_kind *kind,
                               cdl_point *to) {
  cdl_block_info info;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_next(f, kind, &info, to, NULL, &err), CDL_OK);
  return *kind == CDL_FOLLOW_BACKWARD && !to->origin && memcmp(to->hash, hash, 32) == 0;
}

/* ---- ChainDB: fixed scenarios ------------------------------------------------------ */

/* In-order adds, duplicates, an invalid block, look-ups, reopen after a
 * clean close and after a crash, another genesis refused. */
static void test_chaindb_basics(void **state) {
  (void)state;
  scene s;
  cdl_chaindb *db = scene_rf(&s, RF.fix.g.k, 0);
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
  assert_int_equal(s.fs.open_files, 0);
  cdl_chaindb_report rep;
  db = db_open(&s.cfg, &rep);
  assert_true(rep.snapshot[0] != '\0');
  assert_tip(db, RF.hashes[60]);
  assert_int_equal(cdl_chaindb_volatile_length(db), 61); /* k = 2160: nothing immutable */
  for (size_t i = 61; i < 71; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  cdl_chaindb_abandon(db); /* a crash: no snapshot of the tip */
  assert_int_equal(s.fs.open_files, 0);
  db = db_open(&s.cfg, &rep);
  assert_tip(db, RF.hashes[70]);
  assert_int_equal(rep.volatile_adopted, 10);
  db_close(db);
  cdl_chaindb_config other = chaindb_config(s.dir, &FORKS.gen.genesis, &s.fs);
  cdl_error e3 = {0};
  assert_int_equal(cdl_chaindb_open(&other, &db, NULL, &e3), CDL_E_USAGE); /* built for another genesis */
  assert_int_equal(s.fs.open_files, 0);
  remove_dir(s.dir);
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
  for (int round = 0; round < 3; round++) {
    scene s;
    cdl_chaindb *db = scene_gen(&s, FORKS_K);
    /* Round 0: X has 3 blocks after the EBB, Y overtakes with 4 (rollback
     * 3). Round 1: X has k blocks after the EBB, which is then the
     * immutable tip; Y overtakes with k + 1 (rollback k). Round 2: X has
     * k + 1, the EBB is buried; Y never wins. */
    size_t x_len = round == 0 ? 3 : round == 1 ? FORKS_K : FORKS_K + 1;
    add_gen(db, GX, 0, x_len + 1, CDL_ADD_ADOPTED);
    assert_int_equal(cdl_chaindb_volatile_length(db), x_len + 1 > FORKS_K ? FORKS_K : x_len + 1);
    if (round < 2) {
      add_gen(db, GY, 1, x_len + 1, CDL_ADD_STORED); /* up to a tie */
      cdl_chaindb_add_result r = add_expect(db, GY->blocks[x_len + 1], CDL_ADD_ADOPTED);
      assert_int_equal(r.rollback, x_len);
      assert_tip(db, GY->info[x_len + 1].hash);
    } else {
      add_expect(db, GY->blocks[1], CDL_ADD_TOO_OLD); /* not above the immutable tip */
      add_gen(db, GY, 2, 3 * FORKS_K, CDL_ADD_STORED);
      assert_tip(db, GX->info[x_len].hash);
      db_close(db);
      db = db_open(&s.cfg, NULL);
      assert_tip(db, GX->info[x_len].hash);
      add_gen(db, GY, 3 * FORKS_K, 3 * FORKS_K + 2, CDL_ADD_STORED);
      add_gen(db, GX, x_len + 1, x_len + 3, CDL_ADD_ADOPTED);
    }
    scene_end(&s, db);
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
  while (!GY->info[ebb].is_ebb) ebb++;
  size_t m = (size_t)GY->info[ebb].block_no;
  assert_int_equal(GY->info[ebb - 1].block_no, m);
  assert_true(m >= 10 && m + 1 <= 60);
  assert_true(GX->info[m].slot < FORKS_EPOCH && !GX->info[m + 1].is_ebb); /* X: main blocks */
  scene s;
  cdl_chaindb *db = scene_gen(&s, 60);
  add_gen(db, GX, 0, m + 1, CDL_ADD_ADOPTED);
  add_gen(db, GY, 1, m + 1, CDL_ADD_STORED); /* ends in a tie */
  cdl_chaindb_add_result r = add_expect(db, GY->blocks[ebb], CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, m);
  assert_tip(db, GY->info[ebb].hash);
  cdl_block_info info;
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_find_block_no(db, m, &info, &err), CDL_OK);
  assert_memory_equal(info.hash, GY->info[m].hash, 32); /* the main block, not the EBB */
  r = add_expect(db, GX->blocks[m + 1], CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, m + 1);
  assert_tip(db, GX->info[m + 1].hash);
  db_close(db);
  db = db_open(&s.cfg, NULL);
  assert_tip(db, GX->info[m + 1].hash);
  scene_end(&s, db);
}

/* A point is a slot and a hash: a stored block's hash under another slot
 * names no block, to a look-up or an intersection, in the immutable part
 * and in the volatile one. An EBB's point has its epoch's first slot,
 * which the epoch's first main block shares when that slot is filled: both
 * points still name their own block. Chain X, k = 5. */
static void test_points_are_slot_and_hash(void **state) {
  (void)state;
  size_t ebb = 1;
  while (ebb + 1 < GX->n && !(GX->info[ebb].is_ebb && GX->info[ebb + 1].slot == GX->info[ebb].slot))
    ebb++;
  assert_true(ebb + 1 < GX->n && ebb + FORKS_K + 2 < GX->n); /* both end up immutable */
  scene s;
  cdl_chaindb *db = scene_gen(&s, FORKS_K);
  add_gen(db, GX, 0, GX->n, CDL_ADD_ADOPTED);
  size_t cases[] = {ebb, ebb + 1, GX->n - 3, GX->n - 1}; /* the last two volatile */
  cdl_buf out;
  cdl_buf_init(&out, 0);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    size_t i = cases[c];
    cdl_point right = point_of(&GX->info[i]), wrong = right, found;
    wrong.slot += 1 + c;
    cdl_block_info info;
    cdl_error err = {0};
    assert_int_equal(cdl_chaindb_read_block(db, &right, &out, &info, &err), CDL_OK);
    assert_memory_equal(info.hash, GX->info[i].hash, 32);
    assert_int_equal(cdl_chaindb_read_block(db, &wrong, &out, &info, &err), CDL_E_NOT_FOUND);
    cdl_follower *f;
    bool any;
    assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
    assert_int_equal(cdl_follower_intersect(f, &wrong, 1, &found, &any, &err), CDL_OK);
    assert_false(any);
    cdl_point both[2] = {wrong, right};
    assert_int_equal(cdl_follower_intersect(f, both, 2, &found, &any, &err), CDL_OK);
    assert_true(any && cdl_point_eq(&found, &right));
    if (i + 1 < GX->n) expect_next(f, CDL_FOLLOW_FORWARD, GX->info[i + 1].hash);
    else expect_next(f, CDL_FOLLOW_AWAIT, NULL);
    cdl_follower_del(f);
  }
  cdl_buf_free(&out);
  scene_end(&s, db);
}

/* A follower on A rolls back to the fork point when B wins, then follows
 * B; intersect finds the first listed point on the selected chain. */
static void test_follower_fork_switch(void **state) {
  (void)state;
  scene s;
  cdl_chaindb *db = scene_rf(&s, 8, 21);
  cdl_follower *f = follower_at(db, 20);
  cdl_error err = {0};
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
  scene_end(&s, db);
}

/* k = 5. A follower at A8 is not asked for a while: B forks at A4, wins,
 * and grows until A4 and the first B blocks are immutable. The newest point
 * the follower shares with the selected chain is still A4 (now in the
 * immutable DB); it must roll back there, not to any other point. */
static void test_follower_rollback_into_immutable(void **state) {
  (void)state;
  scene s;
  cdl_chaindb *db = scene_rf(&s, 5, 9);
  cdl_follower *late = follower_at(db, 8), *prompt = follower_at(db, 8);
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
  cdl_point to;
  bool right = next_rolls_back_to(late, RF.hashes[4], &kind, &to);
  for (size_t i = 0; right && i < 11; i++)
    expect_next(late, CDL_FOLLOW_FORWARD, buf_info(&b[i]).hash);
  cdl_follower_del(late);
  cdl_follower_del(prompt);
  free_blocks(b, 11);
  scene_end(&s, db);
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
  scene s;
  cdl_chaindb *db = scene_rf(&s, 5, 9);
  cdl_follower *late = follower_at(db, 8);
  enum { LEN = 300 };
  cdl_buf *b = calloc(LEN, sizeof *b); /* B5..B304 after A4 */
  assert_non_null(b);
  fork_blocks(RF.hashes[4], 5, 5 + LEN, 2, b);
  add_all(db, b, 4, CDL_ADD_STORED);
  add_all(db, b + 4, LEN - 4, CDL_ADD_ADOPTED);
  cdl_follow_kind kind;
  cdl_point to;
  bool right = next_rolls_back_to(late, RF.hashes[4], &kind, &to);
  cdl_follower_del(late);
  free_blocks(b, LEN);
  free(b);
  scene_end(&s, db);
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
  scene s;
  cdl_chaindb *db = scene_rf(&s, 3, 3);
  cdl_buf b[7], c[3]; /* b1..b4 x5 x6 x7; c4 c5 c6 */
  scenario_chain(RF.hashes[0], 1, 8, 1, 5, b);
  scenario_chain(buf_info(&b[2]).hash, 4, 7, 4, 0, c);
  add_all(db, b + 1, 6, CDL_ADD_STORED);
  add_all(db, c, 3, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[0].data, b[0].len), CDL_ADD_ADOPTED);
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  free_blocks(b, 7);
  cdl_block_info c6 = buf_info(&c[2]);
  free_blocks(c, 3);
  scene_end(&s, db);
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
  scene s;
  cdl_chaindb *db = scene_rf(&s, RF.fix.g.k, 3);
  cdl_buf b[5], c[1]; /* b1 b2 b3 x4 x5; b4 */
  scenario_chain(RF.hashes[0], 1, 6, 1, 4, b);
  scenario_chain(buf_info(&b[2]).hash, 4, 5, 4, 0, c);
  add_all(db, b + 1, 4, CDL_ADD_STORED);
  add_all(db, c, 1, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[0].data, b[0].len), CDL_ADD_ADOPTED);
  cdl_block_info tip, b4 = buf_info(&c[0]);
  assert_true(cdl_chaindb_tip(db, &tip));
  free_blocks(b, 5);
  free_blocks(c, 1);
  scene_end(&s, db);
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
  scene s;
  cdl_chaindb *db = scene_rf(&s, 3, 4);
  cdl_follower *f = follower_at(db, 3);
  for (size_t i = 4; i <= 7; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
  expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[4]); /* immutable by now */
  expect_next(f, CDL_FOLLOW_FORWARD, RF.hashes[5]);
  cdl_buf b[4]; /* B5..B8 after A4 */
  fork_blocks(RF.hashes[4], 5, 9, 2, b);
  add_all(db, b, 3, CDL_ADD_STORED);
  cdl_chaindb_add_result r = add_expect(db, cdl_span_of(b[3].data, b[3].len), CDL_ADD_ADOPTED);
  assert_int_equal(r.rollback, 3);
  cdl_follow_kind kind;
  cdl_point to;
  bool right = next_rolls_back_to(f, RF.hashes[4], &kind, &to);
  cdl_follower_del(f);
  free_blocks(b, 4);
  scene_end(&s, db);
  if (!right)
    fail_msg("the follower got %d to slot %llu; expected a roll-back to A4 (slot %llu)", kind,
             (unsigned long long)to.slot, (unsigned long long)buf_info(&RF.blocks[4]).slot);
}

/* Chain selection must end on the best valid chain. X extends the tip
 * and has two branches stored before it arrives: X-Y-bad-E (the longest,
 * but its third block is refused) and X-C-D. Once `bad` is refused, X-C-D
 * (block 13) beats what is valid of the first branch (X-Y, block 12). */
static void test_selection_after_refused_block(void **state) {
  (void)state;
  scene s;
  cdl_chaindb *db = scene_rf(&s, RF.fix.g.k, 11);
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
  db = db_open(&s.cfg, NULL);
  cdl_block_info tip2;
  assert_true(cdl_chaindb_tip(db, &tip2));
  scene_end(&s, db);
  free_blocks(y, 3);
  free_blocks(c, 2);
  cdl_buf_free(&x);
  if (memcmp(tip.hash, d.hash, 32) != 0)
    fail_msg("tip is block %llu of X-Y, expected block 13 of X-C-D (after a reopen: block "
             "%llu%s)", (unsigned long long)tip.block_no, (unsigned long long)tip2.block_no,
             memcmp(tip2.hash, d.hash, 32) == 0 ? " of X-C-D" : "");
}

/* ---- Memory follows the chain, not k ---------------------------------------------
 * A node keeps a PBFT window of k signers per ledger and a trail of k + 1
 * blocks per follower (a follower per peer); both used to be reserved
 * whole, so that a genesis with a large k made it reserve gigabytes
 * (docs/genesis.md "Bounds"). With k = 1,000,000, the most a genesis may
 * name, a ChainDB holding 300 blocks and a follower that walked them must
 * take no more memory than with k = 10. The heap is glibc's own count
 * (mallinfo2), so the test is skipped under AddressSanitizer, whose
 * allocator it does not see. */

static size_t heap_bytes(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

/* The heap a ChainDB of |k| holding 300 re-forged blocks and a follower
 * that walked them add. */
static size_t heap_of_k(uint64_t k) {
  size_t before = heap_bytes();
  scene s;
  cdl_chaindb *db = scene_rf(&s, k, 300);
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  cdl_follow_kind kind = CDL_FOLLOW_FORWARD;
  size_t walked = 0;
  for (; kind == CDL_FOLLOW_FORWARD; walked++) {
    cdl_block_info info;
    cdl_point to;
    assert_int_equal(cdl_follower_next(f, &kind, &info, &to, NULL, &err), CDL_OK);
  }
  assert_int_equal(walked, 301); /* 300 blocks, then the tip */
  size_t used = heap_bytes() - before;
  cdl_follower_del(f);
  scene_end(&s, db);
  return used;
}

static void test_memory_follows_chain_not_k(void **state) {
  (void)state;
  if (UNDER_ASAN) skip();
  size_t small = heap_of_k(10), large = heap_of_k(CDL_BYRON_MAX_K);
  if (large > small + (256u << 10))
    fail_msg("k = %u takes %zu bytes, k = 10 %zu", CDL_BYRON_MAX_K, large, small);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chaindb_basics),
      cmocka_unit_test(test_chaindb_rollback_bound),
      cmocka_unit_test(test_chaindb_ebb_wins_ties),
      cmocka_unit_test(test_points_are_slot_and_hash),
      cmocka_unit_test(test_follower_fork_switch),
      cmocka_unit_test(test_follower_rollback_into_immutable),
      cmocka_unit_test(test_follower_rollback_after_collection),
      cmocka_unit_test(test_selection_after_refused_block),
      cmocka_unit_test(test_selection_within_k),
      cmocka_unit_test(test_rollback_reported),
      cmocka_unit_test(test_follower_rollback_newest_point),
      cmocka_unit_test(test_memory_follows_chain_not_k),
  };
  filter_tests_from_env();
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
