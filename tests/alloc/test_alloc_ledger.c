/*
 * test_alloc_ledger.c: allocation-failure sweeps over the ledger and the
 * mempool (docs/testing.md "Allocation failures"; the countdown allocator
 * is tests/support/fail_alloc.h). Each operation runs once per allocation
 * it makes, with that allocation failing (once, then from then on): it
 * must return CDL_E_NOMEM, leak nothing, and leave the state exactly as
 * it was; the complete run must give what an unarmed run gives.
 *  - a ledger built from a genesis (generated, and mainnet's);
 *  - every block of a generated chain (k = 10, 250 slots: payments,
 *    re-delegations, an update proposal, votes, endorsements, adoption,
 *    three epoch boundaries) applied to the ledger before it, and the
 *    first mainnet blocks holding transactions applied to the real
 *    ledger: the state after a failed apply is compared with the state
 *    before by their snapshot images (byte for byte: every part of the
 *    state is in the image), and after a successful one with an unarmed
 *    apply's;
 *  - ledger forks, ticks, snapshot writing and reading, the update
 *    state's encoding (the local state query's answer);
 *  - the mempool: each payload of the next block added to a mempool over
 *    the tip (a failed add changes nothing: the same add then succeeds
 *    with the same entry), and the re-validation after the tip moves (a
 *    failed one leaves the mempool empty and usable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "../support/fail_alloc.h"
#include "cardinal/mempool.h"

/* ---- Fixtures ---- */

static char gen_dir[64];
static cdl_gen_dir G;
static gchain CHAIN;
static cdl_arena decoded_arena; /* the chain's blocks, decoded once */
static cdl_byron_block *DECODED;

static cdl_ledger_config gen_config(void) {
  cdl_ledger_config cfg = ledger_of(&G.genesis, 0);
  cfg.requires_magic = G.requires_magic;
  return cfg;
}

/* The ledger of the generated genesis, at the genesis. */
static cdl_ledger *gen_ledger(const cdl_ledger_config *cfg) {
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_new(&G.genesis, cfg, &l, &err) != CDL_OK) fail_msg("ledger: %s", err.message);
  return l;
}

static int group_setup(void **state) {
  test_group_setup(state);
  make_dir(gen_dir, sizeof gen_dir, "alloc-ledger");
  gen_genesis(gen_dir, 10, 5, 3, &G);
  cdl_gen_chain_opts o = {.slots = 250, .fill = 0.9, .txs_per_block = 2, .delegation = true,
                          .updates = true, .seed = 7};
  gchain_make(&G, &o, &CHAIN);
  cdl_arena_init(&decoded_arena, 0);
  DECODED = calloc(CHAIN.n, sizeof *DECODED);
  cdl_error err = {0};
  cdl_byron_ctx ctx = {&decoded_arena, &err, 0};
  for (size_t i = 0; i < CHAIN.n; i++)
    assert_int_equal(cdl_byron_block_decode(CHAIN.blocks[i].ptr, CHAIN.blocks[i].len, &ctx,
                                            &DECODED[i]),
                     CDL_OK);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  free(DECODED);
  cdl_arena_free(&decoded_arena);
  gchain_free(&CHAIN);
  cdl_gen_dir_free(&G);
  remove_dir(gen_dir);
  return 0;
}

/* The image of a ledger: every part of its state, byte for byte. */
static void image_of(const cdl_ledger *l, cdl_buf *out) {
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_ledger_snapshot_write(l, out), CDL_OK);
}

static cdl_ledger *ledger_from(const cdl_buf *image, const cdl_ledger_config *cfg,
                               const uint8_t genesis_hash[32]) {
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_snapshot_read(image->data, image->len, cfg, genesis_hash, &l, &err) != CDL_OK)
    fail_msg("snapshot read: %s", err.message);
  return l;
}

static void assert_same_bytes(const cdl_buf *a, const cdl_buf *b, const char *what) {
  if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
    fail_msg("%s: the state differs (%zu bytes against %zu)", what, a->len, b->len);
}

/* ---- Building a ledger ---- */

typedef struct new_op {
  const cdl_byron_genesis *g;
  cdl_ledger_config cfg;
  cdl_ledger *l;
  cdl_buf want; /* the image of an unarmed build */
} new_op;

static int new_run(void *ctx) {
  new_op *op = ctx;
  cdl_error err = {0};
  op->l = NULL;
  int rc = cdl_ledger_new(op->g, &op->cfg, &op->l, &err);
  if (rc != CDL_OK) assert_null(op->l);
  return rc;
}

static void new_check(void *ctx, int rc, bool failed) {
  new_op *op = ctx;
  if (failed || rc != CDL_OK) return;
  cdl_buf got;
  image_of(op->l, &got);
  assert_same_bytes(&got, &op->want, "ledger from genesis");
  cdl_buf_free(&got);
}

static void new_teardown(void *ctx) {
  new_op *op = ctx;
  cdl_ledger_del(op->l);
  op->l = NULL;
}

static void sweep_new(const char *name, const cdl_byron_genesis *g, cdl_ledger_config cfg,
                      uint64_t stride) {
  new_op op = {.g = g, .cfg = cfg};
  assert_int_equal(new_run(&op), CDL_OK);
  image_of(op.l, &op.want);
  new_teardown(&op);
  fail_sweep s = {.name = name, .ctx = &op, .run = new_run, .check = new_check,
                  .teardown = new_teardown, .fail_code = CDL_E_NOMEM, .stride = stride,
                  .once_only = stride > 1};
  fail_sweep_run(&s);
  cdl_buf_free(&op.want);
}

static void test_ledger_new(void **state) {
  (void)state;
  sweep_new("ledger of a generated genesis", &G.genesis, gen_config(), 1);
  /* Mainnet's 14,505 outputs, two allocations each: every 2,003rd. */
  genesis_fixture mainnet;
  mainnet_genesis(&mainnet);
  cdl_ledger_config cfg = ledger_of(&mainnet.g, 0);
  sweep_new("ledger of the mainnet genesis", &mainnet.g, cfg, 2003);
  cdl_arena_free(&mainnet.arena);
}

/* ---- Applying blocks ---- */

typedef struct apply_op {
  const char *name;
  const cdl_buf *before, *after; /* images */
  cdl_ledger_config cfg;
  const uint8_t *genesis_hash;
  const cdl_byron_block *blk;
  cdl_ledger *l;
} apply_op;

static void apply_setup(void *ctx) {
  apply_op *op = ctx;
  op->l = ledger_from(op->before, &op->cfg, op->genesis_hash);
}

static int apply_run(void *ctx) {
  apply_op *op = ctx;
  cdl_rejection rej;
  return cdl_ledger_apply_block(op->l, op->blk, &rej);
}

static void apply_check(void *ctx, int rc, bool failed) {
  apply_op *op = ctx;
  cdl_buf got;
  image_of(op->l, &got);
  assert_same_bytes(&got, failed || rc != CDL_OK ? op->before : op->after, op->name);
  cdl_buf_free(&got);
  /* The ledger goes on: after a failed apply, the same block applies. */
  if (failed) {
    cdl_rejection rej;
    assert_int_equal(cdl_ledger_apply_block(op->l, op->blk, &rej), CDL_OK);
    image_of(op->l, &got);
    assert_same_bytes(&got, op->after, op->name);
    cdl_buf_free(&got);
  }
}

static void apply_teardown(void *ctx) {
  apply_op *op = ctx;
  cdl_ledger_del(op->l);
  op->l = NULL;
}

/* Sweeps the apply of |blk| to |l| (which then holds it); the points. */
static uint64_t sweep_apply(const char *name, cdl_ledger *l, const cdl_ledger_config *cfg,
                            const uint8_t genesis_hash[32], const cdl_byron_block *blk) {
  cdl_buf before, after;
  image_of(l, &before);
  cdl_rejection rej;
  if (cdl_ledger_apply_block(l, blk, &rej) != CDL_OK) fail_msg("%s: %s", name, rej.detail);
  image_of(l, &after);
  apply_op op = {.name = name, .before = &before, .after = &after, .cfg = *cfg,
                 .genesis_hash = genesis_hash, .blk = blk};
  fail_sweep s = {.name = name, .ctx = &op, .setup = apply_setup, .run = apply_run,
                  .check = apply_check, .teardown = apply_teardown, .fail_code = CDL_E_NOMEM};
  uint64_t points = fail_sweep_run(&s);
  cdl_buf_free(&before);
  cdl_buf_free(&after);
  return points;
}

static void test_apply_generated_chain(void **state) {
  (void)state;
  cdl_ledger_config cfg = gen_config();
  cdl_ledger *l = gen_ledger(&cfg);
  uint64_t points = 0;
  for (size_t i = 0; i < CHAIN.n; i++) {
    char name[128];
    const cdl_byron_block *b = &DECODED[i];
    snprintf(name, sizeof name, "generated block %zu (%s, %zu txs, %zu certs, %zu votes%s)", i,
             b->is_ebb ? "EBB" : "main", b->body.n_txs, b->body.n_certs, b->body.n_votes,
             b->body.proposal ? ", a proposal" : "");
    points += sweep_apply(name, l, &cfg, G.genesis.hash, b);
  }
  printf("generated chain: %zu blocks, %llu allocation points in all\n", CHAIN.n,
         (unsigned long long)points);
  cdl_ledger_del(l);
}

static void test_apply_mainnet(void **state) {
  (void)state;
  epoch0 e;
  epoch0_load(&e);
  genesis_fixture mainnet;
  mainnet_genesis(&mainnet);
  cdl_ledger_config cfg = ledger_of(&mainnet.g, 0);
  cdl_ledger *l = ledger_for(&mainnet.g, 0, 0);
  /* The EBB, then up to the first two blocks holding transactions. */
  size_t first = epoch0_next_tx_block(&e, 0), second = epoch0_next_tx_block(&e, first + 1);
  size_t targets[] = {0, first, second};
  size_t done = 0;
  for (size_t t = 0; t < 3; t++) {
    apply_all(l, e.blocks + done, targets[t] - done);
    test_ctx c;
    test_ctx_init(&c, 0);
    cdl_byron_block blk;
    cdl_span raw = e.blocks[targets[t]];
    assert_int_equal(cdl_byron_block_decode(raw.ptr, raw.len, &c.ctx, &blk), CDL_OK);
    char name[64];
    snprintf(name, sizeof name, "mainnet block %zu (%zu txs)", targets[t],
             blk.is_ebb ? 0 : blk.body.n_txs);
    sweep_apply(name, l, &cfg, mainnet.g.hash, &blk);
    test_ctx_free(&c);
    done = targets[t] + 1;
  }
  cdl_ledger_del(l);
  cdl_arena_free(&mainnet.arena);
  epoch0_free(&e);
}

/* ---- Forks, ticks, snapshots ---- */

typedef struct ledger_op {
  cdl_ledger *base;   /* the ledger the operation reads or changes */
  cdl_buf before;     /* its image */
  cdl_ledger *made;   /* what the operation made (a fork, a ledger read) */
  cdl_buf image;      /* snapshot_write's output, or the update state's encoding */
  cdl_buf want;       /* the update state's encoding, unarmed */
  int which;          /* FORK, TICK, WRITE, READ, QUERY */
  uint64_t slot;
  cdl_ledger_config cfg;
} ledger_op;

enum { OP_FORK, OP_TICK, OP_WRITE, OP_READ, OP_QUERY };

static int ledger_run(void *ctx) {
  ledger_op *op = ctx;
  switch (op->which) {
    case OP_FORK: {
      int rc = cdl_ledger_fork(op->base, &op->made);
      if (rc == CDL_OK) rc = cdl_ledger_tick(op->made, op->slot);
      return rc;
    }
    case OP_TICK:
      return cdl_ledger_tick(op->base, op->slot);
    case OP_WRITE:
      return cdl_ledger_snapshot_write(op->base, &op->image);
    case OP_QUERY: {
      cdl_error err = {0};
      return cdl_ledger_encode_update_state(op->base, &op->image, &err);
    }
    default: {
      cdl_error err = {0};
      return cdl_ledger_snapshot_read(op->before.data, op->before.len, &op->cfg, G.genesis.hash,
                                      &op->made, &err);
    }
  }
}

static void ledger_setup(void *ctx) {
  ledger_op *op = ctx;
  op->made = NULL;
  cdl_buf_init(&op->image, 0);
  if (op->which == OP_TICK) op->base = ledger_from(&op->before, &op->cfg, G.genesis.hash);
}

static void ledger_check(void *ctx, int rc, bool failed) {
  ledger_op *op = ctx;
  cdl_buf got;
  image_of(op->base, &got);
  if (op->which != OP_TICK || failed || rc != CDL_OK)
    assert_same_bytes(&got, &op->before, "the ledger under the operation");
  cdl_buf_free(&got);
  if (failed && op->which == OP_WRITE) assert_int_equal(op->image.len, 0); /* nothing appended */
  if (failed && op->which == OP_FORK && op->made != NULL) {
    /* The fork was made and its tick failed: it is as it was made. */
    cdl_ledger_tip a, b;
    cdl_ledger_get_tip(op->made, &a);
    cdl_ledger_get_tip(op->base, &b);
    assert_memory_equal(&a, &b, sizeof a);
  }
  if (!failed && op->which == OP_READ) {
    image_of(op->made, &got);
    assert_same_bytes(&got, &op->before, "a ledger read from its image");
    cdl_buf_free(&got);
  }
  if (!failed && op->which == OP_WRITE) assert_same_bytes(&op->image, &op->before, "the image");
  if (!failed && op->which == OP_QUERY)
    assert_same_bytes(&op->image, &op->want, "the update state's encoding");
}

static void ledger_teardown(void *ctx) {
  ledger_op *op = ctx;
  cdl_ledger_del(op->made);
  op->made = NULL;
  cdl_buf_free(&op->image);
  if (op->which == OP_TICK) {
    cdl_ledger_del(op->base);
    op->base = NULL;
  }
}

static void test_forks_ticks_snapshots(void **state) {
  (void)state;
  cdl_ledger_config cfg = gen_config();
  cdl_ledger *l = gen_ledger(&cfg);
  /* Up to just before the second epoch boundary, where a tick to the next
   * epoch has proposals, candidates and scheduled delegations to handle. */
  size_t i = 0, ebbs = 0;
  for (; i < CHAIN.n && !(DECODED[i].is_ebb && ++ebbs == 2); i++) {
    cdl_rejection rej;
    assert_int_equal(cdl_ledger_apply_block(l, &DECODED[i], &rej), CDL_OK);
  }
  uint64_t next_epoch_slot = (uint64_t)DECODED[i].ebb.epoch * 10 * G.genesis.k;
  static const char *const NAMES[] = {"ledger fork and tick", "ledger tick to a new epoch",
                                      "ledger snapshot write", "ledger snapshot read",
                                      "ledger update state encoding"};
  cdl_buf want;
  cdl_error err = {0};
  cdl_buf_init(&want, 0);
  assert_int_equal(cdl_ledger_encode_update_state(l, &want, &err), CDL_OK);
  assert_true(want.len > 500); /* proposals, votes, endorsements, a candidate */
  for (int which = OP_FORK; which <= OP_QUERY; which++) {
    ledger_op op = {.base = l, .which = which, .slot = next_epoch_slot + 3, .cfg = cfg,
                    .want = want};
    image_of(l, &op.before);
    fail_sweep s = {.name = NAMES[which], .ctx = &op, .setup = ledger_setup, .run = ledger_run,
                    .check = ledger_check, .teardown = ledger_teardown,
                    .fail_code = CDL_E_NOMEM};
    fail_sweep_run(&s);
    cdl_buf_free(&op.before);
  }
  cdl_buf_free(&want);
  cdl_ledger_del(l);
}

/* ---- The mempool ---- */

/* Block |b|'s payloads as GenTx items [kind, payload]. */
typedef struct payloads {
  cdl_buf items[64];
  size_t n;
} payloads;

static void gentx(payloads *p, uint8_t kind, cdl_span body) {
  assert_true(p->n < 64);
  cdl_buf *g = &p->items[p->n++];
  cdl_buf_init(g, 0);
  cdl_cbor_enc_array(g, 2);
  cdl_cbor_enc_uint(g, kind);
  cdl_cbor_enc_raw(g, body);
}

static void payloads_of(const cdl_byron_block *b, payloads *p) {
  p->n = 0;
  if (b->is_ebb) return;
  for (size_t i = 0; i < b->body.n_txs; i++) gentx(p, CDL_MP_TX, b->body.txs[i].raw);
  for (size_t i = 0; i < b->body.n_certs; i++) gentx(p, CDL_MP_DLG, b->body.certs[i].raw);
  if (b->body.proposal) gentx(p, CDL_MP_PROPOSAL, b->body.proposal->raw);
  for (size_t i = 0; i < b->body.n_votes; i++) gentx(p, CDL_MP_VOTE, b->body.votes[i].raw);
}

static void payloads_free(payloads *p) {
  for (size_t i = 0; i < p->n; i++) cdl_buf_free(&p->items[i]);
  p->n = 0;
}

static uint64_t block_slot(const cdl_byron_block *b) {
  uint64_t slot = 0;
  assert_int_equal(cdl_byron_block_slot(b, 10 * G.genesis.k, &slot), CDL_OK);
  return slot;
}

/* What a mempool shows: its statistics and every entry. */
static void mempool_state(const cdl_mempool *mp, cdl_buf *out) {
  cdl_buf_init(out, 0);
  cdl_mempool_stats st;
  cdl_mempool_stats_get(mp, &st);
  cdl_buf_append(out, &st, sizeof st);
  cdl_mempool_entry e;
  for (size_t i = 0; cdl_mempool_at(mp, i, &e); i++) {
    cdl_buf_append(out, &e.ticket, sizeof e.ticket);
    cdl_buf_append(out, &e.kind, 1);
    cdl_buf_append(out, e.id, 32);
    cdl_buf_append(out, &e.size, sizeof e.size);
    cdl_buf_append(out, &e.slot, sizeof e.slot);
    cdl_buf_append(out, e.gentx.ptr, e.gentx.len);
  }
}

typedef struct mempool_op {
  const char *name;
  const cdl_ledger *tip, *next_tip; /* next_tip: the sync's */
  const payloads *first;            /* added before the operation */
  size_t n_first;
  const cdl_buf *item;              /* the add's */
  uint64_t slot;
  cdl_mempool *mp;
  cdl_buf before, want;             /* the state before; after an unarmed run */
} mempool_op;

static cdl_mempool *mempool_with(const cdl_ledger *tip, const payloads *p, size_t n,
                                 uint64_t slot) {
  cdl_mempool_config mc = {0};
  cdl_mempool *mp = NULL;
  assert_int_equal(cdl_mempool_new(&mc, tip, slot, &mp), CDL_OK);
  for (size_t i = 0; i < n; i++) {
    cdl_rejection rej;
    int rc = cdl_mempool_add(mp, tip, p->items[i].data, p->items[i].len, slot, NULL, &rej);
    if (rc != CDL_OK) fail_msg("mempool add %zu: %s %s", i, rej.rule, rej.detail);
  }
  return mp;
}

static void mp_setup(void *ctx) {
  mempool_op *op = ctx;
  op->mp = mempool_with(op->tip, op->first, op->n_first, op->slot);
}

static int mp_add_run(void *ctx) {
  mempool_op *op = ctx;
  cdl_rejection rej;
  return cdl_mempool_add(op->mp, op->tip, op->item->data, op->item->len, op->slot, NULL, &rej);
}

static int mp_sync_run(void *ctx) {
  mempool_op *op = ctx;
  return cdl_mempool_sync(op->mp, op->next_tip, op->slot);
}

static void mp_add_check(void *ctx, int rc, bool failed) {
  mempool_op *op = ctx;
  cdl_buf got;
  mempool_state(op->mp, &got);
  assert_same_bytes(&got, failed || rc != CDL_OK ? &op->before : &op->want, op->name);
  cdl_buf_free(&got);
  if (failed) { /* nothing of the failed add stayed: it goes in now, the same */
    assert_int_equal(mp_add_run(op), CDL_OK);
    mempool_state(op->mp, &got);
    assert_same_bytes(&got, &op->want, op->name);
    cdl_buf_free(&got);
  }
}

/* A failed re-validation leaves the mempool empty (no entry may be
 * invalid on the new tip, where a forger would take it), and usable:
 * every payload goes in again and the mempool holds what an unarmed
 * re-validation kept, with new tickets. */
static void mp_sync_check(void *ctx, int rc, bool failed) {
  mempool_op *op = ctx;
  cdl_mempool_stats st;
  cdl_mempool_stats_get(op->mp, &st);
  if (!failed && rc == CDL_OK) {
    cdl_buf got;
    mempool_state(op->mp, &got);
    assert_same_bytes(&got, &op->want, op->name);
    cdl_buf_free(&got);
    return;
  }
  assert_int_equal(st.count, 0);
  assert_int_equal(st.bytes, 0);
  cdl_mempool *fresh = mempool_with(op->next_tip, NULL, 0, op->slot);
  for (size_t i = 0; i < op->n_first; i++) {
    cdl_rejection r1, r2;
    const cdl_buf *g = &op->first->items[i];
    int a = cdl_mempool_add(op->mp, op->next_tip, g->data, g->len, op->slot, NULL, &r1);
    int b = cdl_mempool_add(fresh, op->next_tip, g->data, g->len, op->slot, NULL, &r2);
    assert_int_equal(a, b);
    if (a == CDL_E_REJECTED) assert_string_equal(r1.rule, r2.rule);
  }
  cdl_mempool_del(fresh);
}

static void mp_teardown(void *ctx) {
  mempool_op *op = ctx;
  cdl_mempool_del(op->mp);
  op->mp = NULL;
}

/* Sweeps adding each payload of |p| to a mempool over |tip| holding the
 * ones before it. */
static uint64_t sweep_adds(const cdl_ledger *tip, const payloads *p, uint64_t slot, size_t blk) {
  uint64_t points = 0;
  for (size_t j = 0; j < p->n; j++) {
    char name[80];
    snprintf(name, sizeof name, "mempool add, payload %zu of block %zu", j, blk);
    mempool_op op = {.name = name, .tip = tip, .first = p, .n_first = j, .item = &p->items[j],
                     .slot = slot};
    mp_setup(&op);
    mempool_state(op.mp, &op.before);
    assert_int_equal(mp_add_run(&op), CDL_OK);
    mempool_state(op.mp, &op.want);
    mp_teardown(&op);
    fail_sweep s = {.name = name, .ctx = &op, .setup = mp_setup, .run = mp_add_run,
                    .check = mp_add_check, .teardown = mp_teardown, .fail_code = CDL_E_NOMEM};
    points += fail_sweep_run(&s);
    cdl_buf_free(&op.before);
    cdl_buf_free(&op.want);
  }
  return points;
}

/* Sweeps the re-validation of a mempool over |tip| holding |p| (block
 * |blk|'s payloads, then those of the block after it) once |next| (which
 * holds block |blk|) is the tip: the first are dropped, the others
 * re-applied. */
static uint64_t sweep_sync(const cdl_ledger *tip, const cdl_ledger *next, const payloads *p,
                           uint64_t slot, size_t blk) {
  char name[80];
  snprintf(name, sizeof name, "mempool re-validation after block %zu", blk);
  mempool_op op = {.name = name, .tip = tip, .next_tip = next, .first = p, .n_first = p->n,
                   .slot = slot};
  mp_setup(&op);
  assert_int_equal(mp_sync_run(&op), CDL_OK);
  mempool_state(op.mp, &op.want);
  mp_teardown(&op);
  fail_sweep s = {.name = name, .ctx = &op, .setup = mp_setup, .run = mp_sync_run,
                  .check = mp_sync_check, .teardown = mp_teardown, .fail_code = CDL_E_NOMEM};
  uint64_t points = fail_sweep_run(&s);
  cdl_buf_free(&op.want);
  return points;
}

static void test_mempool(void **state) {
  (void)state;
  cdl_ledger_config cfg = gen_config();
  cdl_ledger *l = gen_ledger(&cfg), *prev = NULL;
  uint64_t adds = 0, syncs = 0;
  size_t kinds_seen[4] = {0};
  for (size_t i = 0; i < CHAIN.n; i++) {
    const cdl_byron_block *b = &DECODED[i];
    payloads p;
    payloads_of(b, &p);
    /* Blocks of every payload kind, and every 25th block with txs. */
    bool wanted = b->body.n_certs || b->body.proposal || b->body.n_votes ||
                  (p.n > 0 && i % 25 == 0);
    uint64_t slot = b->is_ebb ? 0 : block_slot(b);
    if (wanted) adds += sweep_adds(l, &p, slot, i);
    cdl_buf image;
    image_of(l, &image);
    cdl_ledger_del(prev);
    prev = ledger_from(&image, &cfg, G.genesis.hash);
    cdl_buf_free(&image);
    cdl_rejection rej;
    assert_int_equal(cdl_ledger_apply_block(l, b, &rej), CDL_OK);
    if (wanted && i + 1 < CHAIN.n && !DECODED[i + 1].is_ebb) {
      payloads both = p, next;
      payloads_of(&DECODED[i + 1], &next);
      for (size_t j = 0; j < next.n; j++) {
        assert_true(both.n < 64);
        both.items[both.n++] = next.items[j];
      }
      syncs += sweep_sync(prev, l, &both, block_slot(&DECODED[i + 1]), i);
      payloads_free(&next);
    }
    if (wanted) {
      kinds_seen[CDL_MP_TX] += b->body.n_txs;
      kinds_seen[CDL_MP_DLG] += b->body.n_certs;
      kinds_seen[CDL_MP_PROPOSAL] += b->body.proposal != NULL;
      kinds_seen[CDL_MP_VOTE] += b->body.n_votes;
    }
    payloads_free(&p);
  }
  printf("mempool: %zu txs, %zu certificates, %zu proposals, %zu votes; %llu add points, %llu "
         "re-validation points\n",
         kinds_seen[0], kinds_seen[1], kinds_seen[2], kinds_seen[3], (unsigned long long)adds,
         (unsigned long long)syncs);
  for (int k = 0; k < 4; k++) assert_true(kinds_seen[k] > 0);
  cdl_ledger_del(prev);
  cdl_ledger_del(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ledger_new),
      cmocka_unit_test(test_apply_generated_chain),
      cmocka_unit_test(test_apply_mainnet),
      cmocka_unit_test(test_forks_ticks_snapshots),
      cmocka_unit_test(test_mempool),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
