/*
 * test_snapshot.c: ledger state snapshots (cardinal/ledger.h "Snapshots",
 * format at the top of src/ledger/snapshot.c): round trips at several
 * points of the real mainnet epoch 0; resuming from a snapshot at block
 * 10,000 to the known epoch-0 tip; a generated three-epoch chain with
 * delegation and update payloads cut after every block, each cut resumed
 * to the same final state; a ledger read from an image (its UTxO the
 * image's frozen entries) forked, advanced and made to roll back a block
 * part way, each as a ledger that never stopped; and images that are
 * truncated, bit-flipped, of another network, or of valid CRC but hostile
 * content, all refused.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardinal/gen.h"
#include "chain_support.h"

#define TIP "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911"
#define HEADER_BYTES 115 /* the layout at the top of src/ledger/snapshot.c */
#define MID 10000

static epoch0 chain;
static genesis_fixture genesis;
static cdl_ledger *full;    /* the whole of epoch 0, never stopped */
/* Snapshots taken on that one pass, after at[i] blocks: genesis, the EBB,
 * the first main block, the first tx block, block 10,000, the end. */
enum { AT_GENESIS, AT_EBB, AT_MAIN, AT_TX, AT_MID, AT_END, N_POINTS };
static size_t at[N_POINTS];
static cdl_buf snaps[N_POINTS];

static char gen_dir[64];
static cdl_gen_dir gen;
static cdl_buf gen_chunk;
static cdl_span *gen_blocks;
static size_t gen_n;
static cdl_buf gen_mid; /* a generated-chain snapshot with payloads pending */

/* ---- Helpers ---- */

static cdl_ledger_config cfg_of(const cdl_byron_genesis *g, double t, unsigned flags) {
  return (cdl_ledger_config){g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic), g->k,
                             t, flags, NULL};
}

static void snap(const cdl_ledger *l, cdl_buf *out) {
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_ledger_snapshot_write(l, out), CDL_OK);
}

static cdl_ledger *load(const cdl_buf *img, const cdl_byron_genesis *g, double t,
                        unsigned flags) {
  cdl_ledger_config cfg = cfg_of(g, t, flags);
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_snapshot_read(img->data, img->len, &cfg, g->hash, &l, &err) != CDL_OK)
    fail_msg("snapshot read: %s", err.message);
  return l;
}

static void assert_same_bytes(const cdl_buf *a, const cdl_buf *b) {
  assert_int_equal(a->len, b->len);
  assert_memory_equal(a->data, b->data, a->len);
}

/* Reads with |cfg| and |hash| and expects |code|, no ledger and a message. */
static void expect_code_with(const uint8_t *data, size_t len, const cdl_ledger_config *cfg,
                             const uint8_t hash[32], int code, const char *what) {
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  int rc = cdl_ledger_snapshot_read(data, len, cfg, hash, &l, &err);
  if (rc != code)
    fail_msg("%s (len %zu): rc %d (%s), expected %d", what, len, rc, err.message, code);
  assert_null(l);
  assert_int_equal(err.code, code);
  assert_true(err.message[0] != '\0');
}

static void expect_code(const uint8_t *data, size_t len, const cdl_byron_genesis *g, int code,
                        const char *what) {
  cdl_ledger_config cfg = cfg_of(g, 0, 0);
  expect_code_with(data, len, &cfg, g->hash, code, what);
}

static uint64_t load_le(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
  return v;
}

static void store_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Makes the length and CRC right again after a test edited the image. */
static void fix_envelope(cdl_buf *img) {
  store_le(img->data + 12, img->len, 8);
  store_le(img->data + img->len - 4, cdl_crc32(img->data, img->len - 4), 4);
}

static void copy_buf(const cdl_buf *src, cdl_buf *dst) {
  cdl_buf_init(dst, 0);
  assert_int_equal(cdl_buf_append(dst, src->data, src->len), CDL_OK);
}

/* The public view of two ledgers agrees (the bytes say the rest). */
static void assert_same_view(const cdl_ledger *a, const cdl_ledger *b,
                             const cdl_byron_genesis *g) {
  cdl_ledger_tip ta, tb;
  cdl_ledger_get_tip(a, &ta);
  cdl_ledger_get_tip(b, &tb);
  assert_int_equal(ta.at_genesis, tb.at_genesis);
  assert_memory_equal(ta.hash, tb.hash, 32);
  assert_int_equal(ta.slot, tb.slot);
  assert_int_equal(ta.block_no, tb.block_no);
  assert_int_equal(ta.is_ebb, tb.is_ebb);
  cdl_ledger_totals xa, xb;
  cdl_ledger_get_totals(a, &xa);
  cdl_ledger_get_totals(b, &xb);
  assert_int_equal(xa.blocks, xb.blocks);
  assert_int_equal(xa.ebbs, xb.ebbs);
  assert_int_equal(xa.txs, xb.txs);
  assert_int_equal(xa.fees_lovelace, xb.fees_lovelace);
  assert_int_equal(xa.utxo_entries, xb.utxo_entries);
  assert_int_equal(xa.utxo_lovelace, xb.utxo_lovelace);
  assert_int_equal(cdl_ledger_epoch(a), cdl_ledger_epoch(b));
  assert_int_equal(cdl_ledger_params(a)->max_tx_size, cdl_ledger_params(b)->max_tx_size);
  assert_int_equal(cdl_ledger_protocol_version(a).minor, cdl_ledger_protocol_version(b).minor);
  for (size_t i = 0; i < g->n_boot_stakeholders; i++) {
    uint8_t da[28], db[28];
    bool ha = cdl_ledger_delegate_of(a, g->boot_stakeholders[i], da);
    assert_int_equal(ha, cdl_ledger_delegate_of(b, g->boot_stakeholders[i], db));
    if (ha) assert_memory_equal(da, db, 28);
    assert_int_equal(cdl_ledger_pbft_may_sign(a, g->boot_stakeholders[i]),
                     cdl_ledger_pbft_may_sign(b, g->boot_stakeholders[i]));
  }
  cdl_ledger_update_view va, vb;
  cdl_ledger_update_view_get(a, &va);
  cdl_ledger_update_view_get(b, &vb);
  assert_memory_equal(&va, &vb, sizeof va);
}

/* ---- Fixtures ---- */

static void snapshot_pass(void) {
  at[AT_GENESIS] = 0;
  at[AT_EBB] = 1;
  at[AT_MAIN] = 2;
  at[AT_TX] = epoch0_next_tx_block(&chain, 0) + 1;
  at[AT_MID] = MID;
  at[AT_END] = chain.n;
  assert_true(at[AT_MAIN] < at[AT_TX] && at[AT_TX] < at[AT_MID]);
  full = ledger_for(&genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  size_t done = 0;
  for (int p = 0; p < N_POINTS; p++) {
    apply_all(full, chain.blocks + done, at[p] - done);
    done = at[p];
    snap(full, &snaps[p]);
  }
}

static void generated_chain(void) {
  cdl_gen_genesis_spec s = {.protocol_magic = 42, .k = 10, .start_time = 1700000000,
                            .genesis_keys = 7, .avvm_entries = 3, .avvm_balance = 1000000000,
                            .poor_addresses = 5, .poor_balance = 1000000000000,
                            .has_seed = true, .seed = 11};
  cdl_gen_default_params(&s.params);
  s.params.slot_duration_ms = 1000;
  snprintf(gen_dir, sizeof gen_dir, "/tmp/cdl-snap-XXXXXX");
  assert_non_null(mkdtemp(gen_dir));
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&s, gen_dir, &err) != CDL_OK) fail_msg("genesis: %s", err.message);
  assert_int_equal(cdl_gen_dir_load(gen_dir, &gen, &err), CDL_OK);
  cdl_gen_chain_opts o = {.slots = 250, .fill = 0.9, .txs_per_block = 2, .delegation = true,
                          .updates = true, .seed = 7};
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  cdl_gen_chain_stats st;
  cdl_rejection rej;
  if (cdl_gen_chain(&gen, &o, f, &st, &rej, &err) != CDL_OK) fail_msg("chain: %s", err.message);
  fclose(f);
  cdl_buf_init(&gen_chunk, 0);
  assert_int_equal(cdl_buf_append(&gen_chunk, mem, len), CDL_OK);
  free(mem);
  assert_int_equal(cdl_gen_split_chunk(gen_chunk.data, gen_chunk.len, &gen_blocks, &gen_n, &err),
                   CDL_OK);
  assert_int_equal(st.ebbs, 3);
  assert_true(st.update_adopted);
}

static int setup(void **state) {
  test_group_setup(state);
  epoch0_load(&chain);
  mainnet_genesis(&genesis);
  snapshot_pass();
  generated_chain();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int p = 0; p < N_POINTS; p++) cdl_buf_free(&snaps[p]);
  cdl_ledger_del(full);
  epoch0_free(&chain);
  cdl_arena_free(&genesis.arena);
  cdl_buf_free(&gen_mid);
  cdl_buf_free(&gen_chunk);
  free(gen_blocks);
  cdl_gen_dir_free(&gen);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", gen_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* ---- Mainnet epoch 0 ---- */

/* Every genesis output and every output of the first tx block: present in
 * both or absent in both, with the same value. */
static void assert_same_utxo(const cdl_ledger *a, const cdl_ledger *b, size_t *genesis_outs,
                             size_t *tx_outs) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_utxo_entry *u;
  size_t n;
  cdl_error err = {0};
  assert_int_equal(cdl_byron_genesis_utxo(&genesis.g, false, &arena, &u, &n, &err), CDL_OK);
  *genesis_outs = *tx_outs = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t va = 0, vb = 0;
    bool ha = cdl_ledger_utxo_get(a, u[i].tx_id, 0, &va);
    assert_int_equal(ha, cdl_ledger_utxo_get(b, u[i].tx_id, 0, &vb));
    assert_int_equal(va, vb);
    if (ha) assert_int_equal(va, u[i].lovelace);
    *genesis_outs += ha;
  }
  cdl_arena_free(&arena);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  cdl_span tx_block = chain.blocks[at[AT_TX] - 1];
  assert_int_equal(cdl_byron_block_decode(tx_block.ptr, tx_block.len, &t.ctx, &blk), CDL_OK);
  for (size_t i = 0; i < blk.body.n_txs; i++) {
    const cdl_byron_tx *tx = &blk.body.txs[i].tx;

    for (uint32_t o = 0; o < tx->n_outputs; o++) {
      uint64_t va = 0, vb = 0;
      bool ha = cdl_ledger_utxo_get(a, tx->id, o, &va);
      assert_int_equal(ha, cdl_ledger_utxo_get(b, tx->id, o, &vb));
      assert_int_equal(va, vb);
      if (ha) assert_int_equal(va, tx->outputs[o].lovelace);
      *tx_outs += ha;
    }
  }
  test_ctx_free(&t);
}

static void test_mainnet_round_trips(void **state) {
  (void)state;
  cdl_ledger *orig = ledger_for(&genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  size_t done = 0;
  for (int p = 0; p < N_POINTS; p++) {
    apply_all(orig, chain.blocks + done, at[p] - done);
    done = at[p];
    cdl_ledger *l = load(&snaps[p], &genesis.g, 0, 0);
    cdl_buf again;
    snap(l, &again);
    assert_same_bytes(&again, &snaps[p]); /* read, write: the same bytes */
    assert_same_view(orig, l, &genesis.g);
    size_t genesis_outs, tx_outs;
    assert_same_utxo(orig, l, &genesis_outs, &tx_outs);
    cdl_ledger_tip tip;
    cdl_ledger_get_tip(l, &tip);
    assert_int_equal(tip.at_genesis, p == AT_GENESIS);
    if (p == AT_GENESIS) assert_memory_equal(tip.hash, genesis.g.hash, 32);
    if (p == AT_EBB) assert_true(tip.is_ebb);
    if (p == AT_END) assert_hash_hex(tip.hash, TIP);
    /* 14,505 genesis outputs at first; the first tx spends one, pays one. */
    if (p <= AT_TX) {
      assert_int_equal(genesis_outs, p < AT_TX ? 14505 : 14504);
      assert_int_equal(tx_outs, p < AT_TX ? 0 : 1);
    }
    cdl_buf_free(&again);
    cdl_ledger_del(l);
  }
  cdl_buf same;
  snap(orig, &same);
  assert_same_bytes(&same, &snaps[AT_END]); /* another ledger, the same bytes */
  cdl_buf_free(&same);
  cdl_ledger_del(orig);
}

/* Resuming at block 10,000 (fast, then with signatures checked) reaches
 * the known tip with the state of the ledger that never stopped. */
static void test_mainnet_continuation(void **state) {
  (void)state;
  cdl_ledger *l = load(&snaps[AT_MID], &genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  apply_all(l, chain.blocks + MID, 1000);
  cdl_ledger_set_flags(l, 0);
  apply_all(l, chain.blocks + MID + 1000, chain.n - MID - 1000);
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(l, &tip);
  assert_hash_hex(tip.hash, TIP);
  assert_int_equal(tip.block_no, 21586);
  cdl_ledger_totals t;
  cdl_ledger_get_totals(l, &t);
  assert_int_equal(t.blocks, 21587);
  assert_int_equal(t.utxo_entries, 14519);
  assert_int_equal(t.fees_lovelace, 3458053);
  assert_same_view(full, l, &genesis.g);
  cdl_buf end;
  snap(l, &end);
  assert_same_bytes(&end, &snaps[AT_END]);
  cdl_buf_free(&end);
  cdl_ledger_del(l);
}

/* Flags and the PBFT threshold come from the caller's configuration. */
static void test_flags_and_threshold(void **state) {
  (void)state;
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  cdl_span real = chain.blocks[MID];
  assert_int_equal(cdl_byron_block_decode(real.ptr, real.len, &t.ctx, &blk), CDL_OK);
  uint8_t *bad = malloc(real.len);
  memcpy(bad, real.ptr, real.len);
  bad[blk.header.signature + 10 - real.ptr] ^= 0x01;
  cdl_span bad_block = cdl_span_of(bad, real.len);
  cdl_ledger *fast = load(&snaps[AT_MID], &genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  cdl_rejection rej = {0};
  assert_int_equal(apply_bytes(fast, bad_block, &rej), CDL_OK); /* not checked */
  cdl_ledger *strict = load(&snaps[AT_MID], &genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  cdl_ledger_set_flags(strict, 0);
  expect_rejected(strict, bad_block, CDL_RULE_PBFT_SIGNATURE);
  /* With a threshold of 0.1 (216 of 2160) every key is over its share. */
  cdl_ledger *low = load(&snaps[AT_MID], &genesis.g, 0.1, 0);
  expect_rejected(low, real, CDL_RULE_PBFT_THRESHOLD);
  cdl_ledger_del(fast), cdl_ledger_del(strict), cdl_ledger_del(low);
  free(bad);
  test_ctx_free(&t);
}

/* ---- A generated chain with every payload kind ---- */

typedef struct seen {
  bool scheduled, proposal_pending, votes_pending, endorsements, candidates;
} seen;

/* What is pending after block |i| has been applied to |l|. */
static void note_pending(const cdl_ledger *l, size_t i, seen *s, size_t *mid) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  assert_int_equal(cdl_byron_block_decode(gen_blocks[i].ptr, gen_blocks[i].len, &t.ctx, &blk), 0);
  cdl_ledger_update_view v;
  cdl_ledger_update_view_get(l, &v);
  if (!blk.is_ebb) {
    s->scheduled |= blk.body.n_certs > 0; /* activates 2k slots later */
    s->proposal_pending |= blk.body.proposal != NULL && v.confirmed < v.registered;
    if (blk.body.n_votes > 0 && v.confirmed < v.registered && !s->votes_pending) {
      s->votes_pending = true;
      *mid = i + 1; /* a proposal with votes, not yet confirmed */
    }
  }
  s->endorsements |= v.endorsements > 0;
  s->candidates |= v.candidates > 0;
  test_ctx_free(&t);
}

/* Cut after every block: the image reads back to the same bytes, and the
 * rest of the chain applied to it gives the uninterrupted final bytes. */
static void test_generated_every_cut(void **state) {
  (void)state;
  const cdl_byron_genesis *g = &gen.genesis;
  cdl_ledger *l = ledger_for(g, 0, CDL_LEDGER_NO_SIGNATURES);
  cdl_buf *cuts = calloc(gen_n + 1, sizeof *cuts);
  snap(l, &cuts[0]);
  seen s = {0};
  size_t mid = 0;
  for (size_t i = 0; i < gen_n; i++) {
    apply_all(l, gen_blocks + i, 1);
    snap(l, &cuts[i + 1]);
    note_pending(l, i, &s, &mid);
  }
  assert_true(s.scheduled && s.proposal_pending && s.votes_pending);
  assert_true(s.endorsements && s.candidates);
  const cdl_buf *final = &cuts[gen_n];
  for (size_t i = 0; i <= gen_n; i++) {
    cdl_ledger *r = load(&cuts[i], g, 0, CDL_LEDGER_NO_SIGNATURES);
    cdl_buf again;
    snap(r, &again);
    assert_same_bytes(&again, &cuts[i]);
    apply_all(r, gen_blocks + i, gen_n - i);
    cdl_buf_reset(&again);
    assert_int_equal(cdl_ledger_snapshot_write(r, &again), CDL_OK);
    assert_same_bytes(&again, final);
    if (i == gen_n) assert_same_view(l, r, g);
    cdl_buf_free(&again);
    cdl_ledger_del(r);
  }
  /* The cut with votes pending, resumed with every signature checked. */
  cdl_ledger *r = load(&cuts[mid], g, 0, 0);
  apply_all(r, gen_blocks + mid, gen_n - mid);
  cdl_buf end;
  snap(r, &end);
  assert_same_bytes(&end, final);
  copy_buf(&cuts[mid], &gen_mid);
  cdl_buf_free(&end);
  cdl_ledger_del(r);
  for (size_t i = 0; i <= gen_n; i++) cdl_buf_free(&cuts[i]);
  free(cuts);
  cdl_ledger_del(l);
}

/* ---- A ledger read from an image: its UTxO is the image's frozen part
 * (src/ledger/utxo_frozen.c), with changes over it ---- */

/* Outputs paying each poor key of the generated network and their sum,
 * found by address. */
typedef struct by_key {
  size_t outputs[8];
  uint64_t lovelace[8];
  size_t key;
} by_key;

static bool count_output(void *ctx, const cdl_ledger_output *o) {
  by_key *b = ctx;
  b->outputs[b->key]++;
  b->lovelace[b->key] += o->lovelace;
  return true;
}

static void assert_same_by_address(const cdl_ledger *a, const cdl_ledger *b) {
  by_key x = {0}, y = {0};
  assert_true(gen.secrets.n_poor <= 8);
  for (size_t k = 0; k < gen.secrets.n_poor; k++) {
    cdl_buf addr;
    cdl_buf_init(&addr, 0);
    cdl_key_address(&gen.secrets.poor[k], gen.requires_magic, gen.genesis.protocol_magic, &addr);
    cdl_span s = cdl_span_of(addr.data, addr.len);
    x.key = y.key = k;
    cdl_ledger_utxo_by_address(a, &s, 1, count_output, &x);
    cdl_ledger_utxo_by_address(b, &s, 1, count_output, &y);
    cdl_buf_free(&addr);
  }
  assert_memory_equal(&x, &y, sizeof x);
  assert_true(x.outputs[0] > 0);
}

/* Forks over it, blocks applied to it and a block it refuses part way:
 * each as a ledger that never stopped, and the image itself untouched. */
static void test_loaded_ledger_changes(void **state) {
  (void)state;
  const cdl_byron_genesis *g = &gen.genesis;
  size_t cut = gen_n / 2;
  cdl_ledger *whole = ledger_for(g, 0, CDL_LEDGER_NO_SIGNATURES);
  apply_all(whole, gen_blocks, cut);
  cdl_buf img, again, end;
  snap(whole, &img);
  cdl_ledger *loaded = load(&img, g, 0, CDL_LEDGER_NO_SIGNATURES);
  assert_same_by_address(whole, loaded);
  cdl_ledger *fork;
  assert_int_equal(cdl_ledger_fork(loaded, &fork), CDL_OK);
  apply_all(fork, gen_blocks + cut, gen_n - cut);
  apply_all(whole, gen_blocks + cut, gen_n - cut);
  assert_true(cdl_ledger_fork_current(fork, loaded));
  assert_same_view(whole, fork, g);
  assert_same_by_address(whole, fork);
  snap(loaded, &again); /* the fork changed nothing below it */
  assert_same_bytes(&again, &img);
  cdl_ledger_del(fork);
  apply_all(loaded, gen_blocks + cut, gen_n - cut);
  assert_same_by_address(whole, loaded);
  snap(whole, &end);
  cdl_buf_reset(&again);
  assert_int_equal(cdl_ledger_snapshot_write(loaded, &again), CDL_OK);
  assert_same_bytes(&again, &end);
  cdl_ledger_del(loaded);
  cdl_ledger_del(whole);
  cdl_buf_free(&img), cdl_buf_free(&again), cdl_buf_free(&end);
}

/* Two transactions of a block spend one output read from the image: the
 * first is applied over the frozen part, the second refused, and the
 * rollback leaves exactly the image's state. */
static void test_loaded_ledger_rollback(void **state) {
  (void)state;
  const cdl_byron_genesis *g = &gen.genesis;
  char *mem = NULL;
  size_t len = 0, n;
  FILE *f = open_memstream(&mem, &len);
  cdl_gen_invalid_result res;
  cdl_error err = {0};
  assert_int_equal(cdl_gen_invalid(&gen, gen_blocks, gen_n, "double-spend-block", 5, 0, f, &res,
                                   &err), CDL_OK);
  fclose(f);
  cdl_span *bad;
  assert_int_equal(cdl_gen_split_chunk((const uint8_t *)mem, len, &bad, &n, &err), CDL_OK);
  assert_true(res.block_index > 0 && res.block_index < n);
  cdl_ledger *before = ledger_for(g, 0, 0);
  apply_all(before, gen_blocks, res.block_index);
  cdl_buf img, again;
  snap(before, &img);
  cdl_ledger *loaded = load(&img, g, 0, 0);
  expect_rejected(loaded, bad[res.block_index], res.expected_rule);
  snap(loaded, &again);
  assert_same_bytes(&again, &img);
  assert_same_by_address(before, loaded);
  apply_all(loaded, gen_blocks + res.block_index, 1); /* the block it replaced */
  apply_all(before, gen_blocks + res.block_index, 1);
  assert_same_view(before, loaded, g);
  cdl_ledger_del(loaded);
  cdl_ledger_del(before);
  cdl_buf_free(&img), cdl_buf_free(&again);
  free(bad);
  free(mem);
}

/* A sink that appends to a buffer and fails at call |fail_at| (0: never). */
typedef struct sink_buf {
  cdl_buf b;
  size_t calls, fail_at;
} sink_buf;

static int sink_append(void *ctx, const uint8_t *bytes, size_t len) {
  sink_buf *s = ctx;
  if (++s->calls == s->fail_at) return CDL_E_IO;
  return cdl_buf_append(&s->b, bytes, len);
}

/* Streamed in pieces, an image is the bytes written whole; a sink that
 * fails stops the write with its failure. */
static void test_streamed(void **state) {
  (void)state;
  for (int p = 0; p < N_POINTS; p++) {
    cdl_ledger *l = load(&snaps[p], &genesis.g, 0, 0);
    sink_buf s = {0};
    cdl_buf_init(&s.b, 0);
    uint64_t len = 0;
    assert_int_equal(cdl_ledger_snapshot_stream(l, sink_append, &s, &len), CDL_OK);
    assert_int_equal(len, snaps[p].len);
    assert_same_bytes(&s.b, &snaps[p]);
    cdl_buf_free(&s.b);
    cdl_ledger_del(l);
  }
  cdl_ledger *l = load(&gen_mid, &gen.genesis, 0, 0); /* a UTxO read from an image: frozen */
  for (size_t fail_at = 1; fail_at <= 2; fail_at++) {
    sink_buf s = {.fail_at = fail_at};
    cdl_buf_init(&s.b, 0);
    uint64_t len;
    assert_int_equal(cdl_ledger_snapshot_stream(l, sink_append, &s, &len), CDL_E_IO);
    assert_int_equal(s.calls, fail_at);
    cdl_buf_free(&s.b);
  }
  cdl_ledger_del(l);
}

/* Appending to a buffer that holds data, and a buffer too small. */
static void test_write_into_buffers(void **state) {
  (void)state;
  cdl_ledger *l = load(&snaps[AT_TX], &genesis.g, 0, 0);
  cdl_buf b;
  cdl_buf_init(&b, 0);
  assert_int_equal(cdl_buf_append(&b, "xyz", 3), CDL_OK);
  assert_int_equal(cdl_ledger_snapshot_write(l, &b), CDL_OK);
  assert_int_equal(b.len, 3 + snaps[AT_TX].len);
  assert_memory_equal(b.data + 3, snaps[AT_TX].data, snaps[AT_TX].len);
  cdl_buf small;
  cdl_buf_init(&small, 1000);
  assert_int_equal(cdl_ledger_snapshot_write(l, &small), CDL_E_LIMIT);
  assert_int_equal(small.len, 0);
  cdl_buf_free(&small);
  cdl_buf_free(&b);
  cdl_ledger_del(l);
}

/* ---- Corrupt images ---- */

/* Every prefix of a small image, and the first and last 200 and a stride
 * of a large one, in exact-size copies (so an over-read shows in ASan). */
static void truncations(const cdl_buf *img, const cdl_byron_genesis *g, size_t stride) {
  for (size_t len = 0; len < img->len; len++) {
    bool pick = len < 200 || len >= img->len - 200 || len % stride == 0;
    if (!pick) continue;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, img->data, len);
    expect_code(copy, len, g, CDL_E_TRUNCATED, "truncated");
    free(copy);
  }
}

static void test_truncated(void **state) {
  (void)state;
  assert_true(gen_mid.len > 0 && gen_mid.len < 20000);
  truncations(&gen_mid, &gen.genesis, 1);
  assert_true(snaps[AT_END].len > 1000000);
  truncations(&snaps[AT_END], &genesis.g, 4999);
}

/* The code a flip at |pos| must give: the magic and version are checked
 * first, then the length, then the CRC. */
static void expect_flip(cdl_buf *img, const cdl_byron_genesis *g, size_t pos, uint8_t mask) {
  img->data[pos] ^= mask;
  if (pos < 12) {
    expect_code(img->data, img->len, g, CDL_E_TAG, "magic or version flipped");
  } else if (pos < 20) {
    cdl_ledger_config cfg = cfg_of(g, 0, 0);
    cdl_ledger *l = NULL;
    cdl_error err = {0};
    int rc = cdl_ledger_snapshot_read(img->data, img->len, &cfg, g->hash, &l, &err);
    assert_true(rc == CDL_E_TRUNCATED || rc == CDL_E_TRAILING);
    assert_null(l);
  } else {
    expect_code(img->data, img->len, g, CDL_E_CHECKSUM, "byte flipped");
  }
  img->data[pos] ^= mask;
}

static void test_flipped(void **state) {
  (void)state;
  for (size_t pos = 0; pos < gen_mid.len; pos++) {
    expect_flip(&gen_mid, &gen.genesis, pos, 0x01);
    expect_flip(&gen_mid, &gen.genesis, pos, 0xff);
  }
  cdl_gen_rng rng;
  cdl_gen_rng_seed(&rng, 2024);
  cdl_buf *img = &snaps[AT_END];
  for (int i = 0; i < 2000; i++) {
    size_t pos = (size_t)cdl_gen_rng_below(&rng, img->len);
    expect_flip(img, &genesis.g, pos, (uint8_t)(1 + cdl_gen_rng_below(&rng, 255)));
  }
  cdl_ledger_del(load(img, &genesis.g, 0, 0)); /* restored: reads again */
}

static void test_other_network(void **state) {
  (void)state;
  const cdl_byron_genesis *g = &genesis.g;
  const cdl_buf *img = &snaps[AT_MID];
  cdl_ledger_config cfg = cfg_of(g, 0, 0);
  uint8_t other[32];
  memcpy(other, g->hash, 32);
  other[31] ^= 0x40;
  expect_code_with(img->data, img->len, &cfg, other, CDL_E_GENESIS, "another genesis hash");
  cfg.protocol_magic++;
  expect_code_with(img->data, img->len, &cfg, g->hash, CDL_E_GENESIS, "another protocol magic");
  cfg = cfg_of(g, 0, 0);
  cfg.requires_magic = !cfg.requires_magic;
  expect_code_with(img->data, img->len, &cfg, g->hash, CDL_E_GENESIS, "another magic policy");
  cfg = cfg_of(g, 0, 0);
  cfg.k++;
  expect_code_with(img->data, img->len, &cfg, g->hash, CDL_E_GENESIS, "another k");
  /* The generated network's image is not mainnet's either. */
  expect_code(gen_mid.data, gen_mid.len, g, CDL_E_GENESIS, "generated image on mainnet");
  expect_code(img->data, img->len, &gen.genesis, CDL_E_GENESIS, "mainnet image on devnet");
}

/* Offsets of the parts of an image, walked as the format says. */
typedef struct layout {
  size_t n_genesis, utxo, n_addr, addr0, addr1, pad, entry0, entry1, dlg, sched, keys, upd,
      props, pbft, used;
} layout;

/* A UTxO address: type, root offset, attributes' offset and length,
 * length (15 bytes), then the bytes; an entry: tx id, index, address,
 * lovelace (48 bytes). */
#define ADDRESS_FIXED 15
#define ADDRESS_ROOT_OFF 1
#define ADDRESS_ATTRS_LEN 7
#define ADDRESS_LEN 11
#define ENTRY_BYTES 48
#define ENTRY_ADDRESS 36
#define ENTRY_LOVELACE 40

static size_t skip_address(const uint8_t *p, size_t off) {
  return off + ADDRESS_FIXED + (size_t)load_le(p + off + ADDRESS_LEN, 4);
}

/* A proposal: id, flags, version, params, name (length and 12 bytes),
 * app version, two slots, the voters (at 201), then its metadata: a count
 * (at 233) and 43-byte entries. An application: name, version, slot and a
 * count (at 25), then its entries. */
#define PROPOSAL_FIXED 237
#define PROPOSAL_VOTERS 201
#define PROPOSAL_META 233
#define APP_FIXED 29
#define APP_META 25
#define INSTALLER 43

static size_t skip_items(const uint8_t *p, size_t off, size_t fixed, size_t meta) {
  uint64_t n = load_le(p + off, 8);
  off += 8;
  for (uint64_t i = 0; i < n; i++) off += fixed + INSTALLER * (size_t)load_le(p + off + meta, 4);
  return off;
}

/* The UTxO part of the walk, which every image has. */
static void walk_utxo(const cdl_buf *img, layout *o) {
  const uint8_t *p = img->data;
  o->n_genesis = load_le(p + HEADER_BYTES, 4);
  o->utxo = HEADER_BYTES + 4 + 28 * o->n_genesis + 48;
  uint64_t n = load_le(p + o->utxo, 8);
  assert_true(n >= 2);
  o->n_addr = load_le(p + o->utxo + 16, 8);
  assert_true(o->n_addr >= 2 && o->n_addr <= n);
  o->addr0 = o->utxo + 32; /* after count, total lovelace, addresses, address bytes */
  o->addr1 = skip_address(p, o->addr0);
  size_t off = o->addr0;
  for (uint64_t i = 0; i < o->n_addr; i++) off = skip_address(p, off);
  o->pad = off;
  off += (8 - off % 8) % 8; /* zero padding: entries start at a multiple of 8 */
  o->entry0 = off;
  o->entry1 = off + ENTRY_BYTES;
  o->dlg = off + n * ENTRY_BYTES;
}

static void walk(const cdl_buf *img, layout *o) {
  const uint8_t *p = img->data;
  walk_utxo(img, o);
  o->sched = o->dlg + 37 * o->n_genesis;
  o->keys = o->sched + 8 + 38 * load_le(p + o->sched, 8);
  o->upd = o->keys + 8 + 10 * load_le(p + o->keys, 8);
  o->props = o->upd + 5 + 130;
  size_t apps = skip_items(p, o->props, PROPOSAL_FIXED, PROPOSAL_META);
  size_t cands = skip_items(p, apps, APP_FIXED, APP_META);
  size_t ends = cands + 8 + 143 * load_le(p + cands, 8);
  o->pbft = ends + 8 + 7 * load_le(p + ends, 8);
  o->used = load_le(p + o->pbft + 8, 8);
  assert_int_equal(load_le(p + o->pbft, 8), 10); /* k */
  assert_int_equal(o->pbft + 16 + 2 * o->used + 9 + 4, img->len);
}

/* Sets an n-byte field at |off| of a copy, fixes length and CRC, and
 * expects |code|. */
static void expect_edit(const cdl_buf *img, const cdl_byron_genesis *g, size_t off, uint64_t v,
                        size_t n, int code, const char *what) {
  cdl_buf copy;
  copy_buf(img, &copy);
  store_le(copy.data + off, v, n);
  fix_envelope(&copy);
  expect_code(copy.data, copy.len, g, code, what);
  cdl_buf_free(&copy);
}

/* Copies n bytes at |src| over |dst| in a copy: a repeated key. */
static void expect_repeat(const cdl_buf *img, const cdl_byron_genesis *g, size_t dst, size_t src,
                          size_t n, const char *what) {
  cdl_buf copy;
  copy_buf(img, &copy);
  memcpy(copy.data + dst, copy.data + src, n);
  fix_envelope(&copy);
  expect_code(copy.data, copy.len, g, CDL_E_RANGE, what);
  cdl_buf_free(&copy);
}

static void test_hostile_content(void **state) {
  (void)state;
  const cdl_byron_genesis *g = &gen.genesis;
  layout o;
  walk(&gen_mid, &o);
  assert_int_equal(o.n_genesis, 7);
  expect_edit(&gen_mid, g, o.utxo, 1ull << 40, 8, CDL_E_RANGE, "utxo count 2^40");
  expect_edit(&gen_mid, g, o.utxo, UINT64_MAX, 8, CDL_E_RANGE, "utxo count 2^64-1");
  expect_edit(&gen_mid, g, o.utxo + 8, 1, 8, CDL_E_RANGE, "utxo total");
  expect_edit(&gen_mid, g, HEADER_BYTES, 0, 4, CDL_E_RANGE, "no genesis keys");
  expect_edit(&gen_mid, g, HEADER_BYTES, 256, 4, CDL_E_RANGE, "256 genesis keys");
  expect_edit(&gen_mid, g, HEADER_BYTES, UINT32_MAX, 4, CDL_E_RANGE, "2^32-1 genesis keys");
  expect_repeat(&gen_mid, g, HEADER_BYTES + 4 + 28, HEADER_BYTES + 4, 28, "genesis key twice");
  expect_edit(&gen_mid, g, 65, 2, 1, CDL_E_RANGE, "tip flag 2");
  expect_edit(&gen_mid, g, 65, 1, 1, CDL_E_RANGE, "a tip at genesis after blocks");
  expect_edit(&gen_mid, g, o.addr0 + ADDRESS_LEN, UINT32_MAX, 4, CDL_E_TRUNCATED,
              "address 4 GB");
  expect_edit(&gen_mid, g, o.entry0 + ENTRY_LOVELACE, CDL_BYRON_MAX_LOVELACE + 1, 8,
              CDL_E_RANGE, "lovelace");
  expect_edit(&gen_mid, g, o.entry1, 0, 8, CDL_E_RANGE, "entries out of order");
  expect_repeat(&gen_mid, g, o.entry1, o.entry0, 36, "the same UTxO key twice");
  /* The witness data must lie within the address's own bytes. */
  uint64_t addr_len = load_le(gen_mid.data + o.addr0 + ADDRESS_LEN, 4);
  expect_edit(&gen_mid, g, o.addr0 + ADDRESS_ROOT_OFF, addr_len - 27, 2, CDL_E_RANGE,
              "root past the address");
  expect_edit(&gen_mid, g, o.addr0 + ADDRESS_ATTRS_LEN, addr_len + 1, 4, CDL_E_RANGE,
              "attributes past the address");
  expect_edit(&gen_mid, g, o.addr0 + ADDRESS_ATTRS_LEN - 4, UINT32_MAX, 4, CDL_E_RANGE,
              "attributes' offset 2^32-1");
  uint64_t addr_total = load_le(gen_mid.data + o.utxo + 24, 8);
  expect_edit(&gen_mid, g, o.utxo + 24, addr_total + 1, 8, CDL_E_RANGE, "address total + 1");
  expect_edit(&gen_mid, g, o.utxo + 24, addr_total - 1, 8, CDL_E_RANGE, "address total - 1");
  expect_edit(&gen_mid, g, o.utxo + 24, UINT64_MAX, 8, CDL_E_RANGE, "address total 2^64-1");
  /* Each distinct address once, listed in the order the entries name them. */
  uint64_t n_entries = load_le(gen_mid.data + o.utxo, 8);
  expect_edit(&gen_mid, g, o.utxo + 16, 1ull << 40, 8, CDL_E_RANGE, "address count 2^40");
  expect_edit(&gen_mid, g, o.utxo + 16, n_entries + 1, 8, CDL_E_RANGE,
              "more addresses than entries");
  expect_edit(&gen_mid, g, o.entry0 + ENTRY_ADDRESS, 1, 4, CDL_E_RANGE,
              "the first entry names the second address");
  expect_edit(&gen_mid, g, o.entry0 + ENTRY_ADDRESS, UINT32_MAX, 4, CDL_E_RANGE,
              "an entry names address 2^32-1");
  assert_int_equal(load_le(gen_mid.data + o.addr1 + ADDRESS_LEN, 4), addr_len);
  expect_repeat(&gen_mid, g, o.addr1, o.addr0, ADDRESS_FIXED + addr_len,
                "the same address listed twice");
  /* The padding before the entries is zero: on whichever image has some. */
  const cdl_buf *padded = o.entry0 > o.pad ? &gen_mid : NULL;
  const cdl_byron_genesis *padded_g = g;
  for (int p = 0; padded == NULL && p < N_POINTS; p++) {
    layout m;
    walk_utxo(&snaps[p], &m);
    if (m.entry0 > m.pad) padded = &snaps[p], padded_g = &genesis.g, o.pad = m.pad;
  }
  assert_non_null(padded);
  expect_edit(padded, padded_g, o.pad, 1, 1, CDL_E_RANGE, "padding not zero");
  expect_edit(&gen_mid, g, o.dlg, 3, 1, CDL_E_RANGE, "delegation flag 3");
  expect_edit(&gen_mid, g, o.sched, 1ull << 40, 8, CDL_E_RANGE, "scheduled count");
  expect_edit(&gen_mid, g, o.keys, 1ull << 62, 8, CDL_E_RANGE, "epoch key count");
  assert_true(load_le(gen_mid.data + o.keys, 8) >= 1);
  expect_edit(&gen_mid, g, o.keys + 8 + 8, 7, 2, CDL_E_RANGE, "epoch key of genesis key 7");
  expect_edit(&gen_mid, g, o.props, 1ull << 40, 8, CDL_E_RANGE, "proposal count");
  assert_true(load_le(gen_mid.data + o.props, 8) >= 1);
  expect_edit(&gen_mid, g, o.props + 8 + 32, 8, 1, CDL_E_RANGE, "proposal flags");
  expect_edit(&gen_mid, g, o.props + 8 + PROPOSAL_VOTERS + 31, 0x80, 1, CDL_E_RANGE,
              "vote by key 255");
  expect_edit(&gen_mid, g, o.props + 8 + 32 + 1 + 5 + 130, 13, 1, CDL_E_RANGE, "a 13-byte name");
  expect_edit(&gen_mid, g, o.props + 8 + 32 + 1 + 5 + 130 + 12, 'x', 1, CDL_E_RANGE,
              "a name not zero-padded");
  expect_edit(&gen_mid, g, o.props + 8 + PROPOSAL_META, UINT32_MAX, 4, CDL_E_RANGE,
              "metadata of 2^32-1 entries");
  expect_edit(&gen_mid, g, o.pbft, 11, 8, CDL_E_RANGE, "window other than k");
  expect_edit(&gen_mid, g, o.pbft + 8, 11, 8, CDL_E_RANGE, "more signers than the window");
  expect_edit(&gen_mid, g, o.pbft + 8, UINT64_MAX, 8, CDL_E_RANGE, "2^64-1 signers");
  expect_edit(&gen_mid, g, o.pbft + 16, 7, 2, CDL_E_RANGE, "signer genesis key 7");
  assert_true(o.used >= 1);
  /* One signer more: the flag and slot after the signers read as an index. */
  expect_edit(&gen_mid, g, o.pbft + 8, o.used + 1, 8, CDL_E_RANGE, "one signer more");
  expect_edit(&gen_mid, g, o.pbft + 16 + 2 * o.used, 0, 1, CDL_E_RANGE, "signers, none signed");
  /* One byte more, or one less, before the CRC. */
  cdl_buf grown;
  copy_buf(&gen_mid, &grown);
  assert_int_equal(cdl_buf_append(&grown, "0000", 4), CDL_OK);
  fix_envelope(&grown);
  expect_code(grown.data, grown.len - 3, g, CDL_E_TRUNCATED, "length says more");
  cdl_buf_reset(&grown);
  assert_int_equal(cdl_buf_append(&grown, gen_mid.data, gen_mid.len), CDL_OK);
  assert_int_equal(cdl_buf_append_byte(&grown, 0), CDL_OK);
  fix_envelope(&grown);
  expect_code(grown.data, grown.len, g, CDL_E_TRAILING, "a byte after the window");
  grown.len -= 2;
  fix_envelope(&grown);
  expect_code(grown.data, grown.len, g, CDL_E_TRUNCATED, "a byte short");
  cdl_buf_free(&grown);
  /* The same hostile count on the real image. */
  size_t utxo = HEADER_BYTES + 4 + 28 * 7 + 48;
  expect_edit(&snaps[AT_END], &genesis.g, utxo, 1ull << 40, 8, CDL_E_RANGE, "mainnet count");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mainnet_round_trips), cmocka_unit_test(test_mainnet_continuation),
      cmocka_unit_test(test_flags_and_threshold), cmocka_unit_test(test_generated_every_cut),
      cmocka_unit_test(test_loaded_ledger_changes), cmocka_unit_test(test_loaded_ledger_rollback),
      cmocka_unit_test(test_streamed),
      cmocka_unit_test(test_write_into_buffers),  cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_flipped),             cmocka_unit_test(test_other_network),
      cmocka_unit_test(test_hostile_content),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
