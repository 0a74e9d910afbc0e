/*
 * test_ledger_mutations.c: body mutations of the real epoch 0, judged by
 * the ledger rules themselves (docs/byron.md 5.4.1). The chain is
 * re-forged with test keys (chain_support.h), so a changed body gets
 * correct proofs and a valid header signature, and the only defect is
 * the one under test. Each case is rejected at the mutated block with its
 * rule, and the ledger is left as it was. One case is accepted: inputs
 * without witnesses, which the ledger leaves unchecked (cardano-ledger)
 * and only the mempool refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "chain_support.h"

static reforge rf;
static size_t tx1, tx2; /* the first two real blocks with a transaction */
static const size_t EMPTY_BLOCK = 50; /* a block without transactions */

static int setup(void **state) {
  test_group_setup(state);
  epoch0 e;
  epoch0_load(&e);
  tx1 = epoch0_next_tx_block(&e, 1);
  tx2 = epoch0_next_tx_block(&e, tx1 + 1);
  epoch0_free(&e);
  reforge_init(&rf, tx2 + 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  reforge_free(&rf);
  return 0;
}

/* A ledger that has applied the re-forged blocks before |at|. */
static cdl_ledger *ledger_before(size_t at) {
  cdl_ledger *l = ledger_for(&rf.fix.g, 0, 0);
  for (size_t i = 0; i < at; i++) apply_all(l, (cdl_span[]){reforged(&rf, i)}, 1);
  return l;
}

/* Re-forges block |at| with |body| and expects |rule| there. */
static void expect_body_rejected(size_t at, cdl_span body, const char *rule) {
  cdl_ledger *l = ledger_before(at);
  cdl_buf forged;
  reforge_block(&rf, at, rf.hashes[at - 1], body, NULL, &forged);
  expect_rejected(l, cdl_span_of(forged.data, forged.len), rule);
  cdl_buf_free(&forged);
  cdl_ledger_del(l);
}

static void expect_txs_rejected(size_t at, const cdl_span *txs, size_t n, const char *rule) {
  cdl_buf body;
  body_with_txs(&rf, at, txs, n, &body);
  expect_body_rejected(at, cdl_span_of(body.data, body.len), rule);
  cdl_buf_free(&body);
}

/* The re-forged chain itself is valid: the fixture changes nothing but
 * the keys, and its extra genesis output is spendable. */
static void test_reforged_chain_is_valid(void **state) {
  (void)state;
  cdl_ledger *l = ledger_before(rf.n);
  cdl_ledger_totals t;
  cdl_ledger_get_totals(l, &t);
  assert_int_equal(t.txs, 2);
  assert_int_equal(t.utxo_lovelace + t.fees_lovelace,
                   31112484745000000ull + REFORGE_SPENDER_LOVELACE);
  cdl_ledger_del(l);

  l = ledger_before(EMPTY_BLOCK);
  cdl_buf tx, body, forged;
  make_tx(rf.spender_utxo, 0, cdl_span_of(rf.spender_addr.data, rf.spender_addr.len), 1,
          REFORGE_SPENDER_LOVELACE - 1000000, false, &rf.spender, &tx);
  body_with_txs(&rf, EMPTY_BLOCK, (cdl_span[]){{tx.data, tx.len}}, 1, &body);
  reforge_block(&rf, EMPTY_BLOCK, rf.hashes[EMPTY_BLOCK - 1], cdl_span_of(body.data, body.len),
                NULL, &forged);
  apply_all(l, (cdl_span[]){{forged.data, forged.len}}, 1);
  cdl_ledger_get_totals(l, &t);
  assert_int_equal(t.fees_lovelace, 1000000);
  cdl_buf_free(&tx), cdl_buf_free(&body), cdl_buf_free(&forged);
  cdl_ledger_del(l);
}

/* Copies block |at|'s real body and flips one byte at |target|. */
static void body_flipped(size_t at, const uint8_t *(*pick)(const cdl_byron_body *), cdl_buf *out,
                         test_ctx *t) {
  cdl_byron_block blk;
  cdl_span real = rf.real_chain.blocks[at];
  assert_int_equal(cdl_byron_block_decode(real.ptr, real.len, &t->ctx, &blk), CDL_OK);
  cdl_buf_init(out, 0);
  cdl_buf_append(out, blk.body.raw.ptr, blk.body.raw.len);
  out->data[pick(&blk.body) - blk.body.raw.ptr] ^= 0x01;
}

static const uint8_t *witness_signature(const cdl_byron_body *b) {
  return b->txs[0].witnesses[0].signature + 7;
}

static const uint8_t *first_output_amount(const cdl_byron_body *b) {
  const cdl_byron_txout *o = &b->txs[0].tx.outputs[0];
  return o->raw.ptr + o->raw.len - 1; /* the last byte of the lovelace uint */
}

static void test_witness_flipped(void **state) {
  (void)state;
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_buf body;
  body_flipped(tx1, witness_signature, &body, &t);
  expect_body_rejected(tx1, cdl_span_of(body.data, body.len), CDL_RULE_WITNESS_SIGNATURE);
  cdl_buf_free(&body);
  test_ctx_free(&t);
}

/* Changing an amount changes the tx id, which the AVVM witness signed:
 * the witness check (first in the reference's order) catches it. */
static void test_output_amount_changed(void **state) {
  (void)state;
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_buf body;
  body_flipped(tx1, first_output_amount, &body, &t);
  expect_body_rejected(tx1, cdl_span_of(body.data, body.len), CDL_RULE_WITNESS_SIGNATURE);
  cdl_buf_free(&body);
  test_ctx_free(&t);
}

/* The tx of the first tx block again, in the second: its input is gone. */
static void test_double_spend_across_blocks(void **state) {
  (void)state;
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block first, second;
  cdl_span a = rf.real_chain.blocks[tx1], b = rf.real_chain.blocks[tx2];
  assert_int_equal(cdl_byron_block_decode(a.ptr, a.len, &t.ctx, &first), CDL_OK);
  assert_int_equal(cdl_byron_block_decode(b.ptr, b.len, &t.ctx, &second), CDL_OK);
  cdl_span txs[] = {second.body.txs[0].raw, first.body.txs[0].raw};
  expect_txs_rejected(tx2, txs, 2, CDL_RULE_MISSING_INPUT);
  test_ctx_free(&t);
}

static void spender_tx(size_t outputs, uint64_t amount, const test_key *signer, cdl_buf *out) {
  make_tx(rf.spender_utxo, 0, cdl_span_of(rf.spender_addr.data, rf.spender_addr.len), outputs,
          amount, false, signer, out);
}

static void test_double_spend_within_block(void **state) {
  (void)state;
  cdl_buf tx;
  spender_tx(1, REFORGE_SPENDER_LOVELACE - 1000000, &rf.spender, &tx);
  cdl_span txs[] = {{tx.data, tx.len}, {tx.data, tx.len}};
  expect_txs_rejected(EMPTY_BLOCK, txs, 2, CDL_RULE_MISSING_INPUT);
  cdl_buf_free(&tx);
}

static void test_fee_below_minimum(void **state) {
  (void)state;
  cdl_buf tx;
  spender_tx(1, REFORGE_SPENDER_LOVELACE - 155381, &rf.spender, &tx); /* a only, no b*size */
  expect_txs_rejected(EMPTY_BLOCK, (cdl_span[]){{tx.data, tx.len}}, 1, CDL_RULE_FEE_TOO_LOW);
  cdl_buf_free(&tx);
}

static void test_value_not_preserved(void **state) {
  (void)state;
  cdl_buf tx;
  spender_tx(2, REFORGE_SPENDER_LOVELACE / 2 + 1, &rf.spender, &tx);
  expect_txs_rejected(EMPTY_BLOCK, (cdl_span[]){{tx.data, tx.len}}, 1, CDL_RULE_VALUE_NOT_PRESERVED);
  cdl_buf_free(&tx);
}

static void test_tx_over_max_size(void **state) {
  (void)state;
  cdl_buf tx;
  spender_tx(100, 1000000, &rf.spender, &tx);
  assert_true(tx.len > 4096);
  expect_txs_rejected(EMPTY_BLOCK, (cdl_span[]){{tx.data, tx.len}}, 1, CDL_RULE_TX_SIZE);
  cdl_buf_free(&tx);
}

static void test_witness_of_another_key(void **state) {
  (void)state;
  cdl_buf tx;
  spender_tx(1, REFORGE_SPENDER_LOVELACE - 1000000, &rf.gen[0], &tx);
  expect_txs_rejected(EMPTY_BLOCK, (cdl_span[]){{tx.data, tx.len}}, 1, CDL_RULE_WITNESS_ADDRESS);
  cdl_buf_free(&tx);
}

/* An AVVM genesis output still unspent in |l|: not the spender's. */
static void unspent_avvm(const cdl_ledger *l, uint8_t tx_id[32], uint64_t *lovelace) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_utxo_entry *e = NULL;
  size_t n = 0;
  cdl_error err = {0};
  assert_int_equal(cdl_byron_genesis_utxo(&rf.fix.g, false, &arena, &e, &n, &err), CDL_OK);
  size_t i = 0;
  while (i < n && (memcmp(e[i].tx_id, rf.spender_utxo, 32) == 0 ||
                   !cdl_ledger_utxo_get(l, e[i].tx_id, 0, lovelace)))
    i++;
  assert_true(i < n && *lovelace > 2000000);
  memcpy(tx_id, e[i].tx_id, 32);
  cdl_arena_free(&arena);
}

/* Block validity keeps cardano-ledger's rule: witnesses pair with inputs
 * by a truncating zip, and an input without a witness is not checked. A
 * block holding [tx, []] that spends someone else's output, or a tx with
 * two inputs and one witness, is valid on the real chain, and so here;
 * only the mempool refuses such txs (mempool.witnesses_missing,
 * test_mempool). */
static void test_unwitnessed_inputs_valid_in_a_block(void **state) {
  (void)state;
  cdl_span to = cdl_span_of(rf.spender_addr.data, rf.spender_addr.len);
  const test_key *spender = &rf.spender;
  for (int round = 0; round < 2; round++) {
    cdl_ledger *l = ledger_before(EMPTY_BLOCK);
    uint8_t avvm[32];
    uint64_t value, fee = 1000000;
    unspent_avvm(l, avvm, &value);
    tx_input ins[2] = {{rf.spender_utxo, 0}, {avvm, 0}};
    cdl_buf tx, body, forged;
    if (round == 0) /* [tx, []]: the AVVM output alone, nobody's witness */
      make_tx_inputs(&ins[1], 1, to, 1, value - fee, false, NULL, 0, &tx);
    else /* the spender's output and the AVVM one, the spender's witness only */
      make_tx_inputs(ins, 2, to, 1, REFORGE_SPENDER_LOVELACE + value - fee, false, &spender, 1,
                     &tx);
    body_with_txs(&rf, EMPTY_BLOCK, (cdl_span[]){{tx.data, tx.len}}, 1, &body);
    reforge_block(&rf, EMPTY_BLOCK, rf.hashes[EMPTY_BLOCK - 1], cdl_span_of(body.data, body.len),
                  NULL, &forged);
    apply_all(l, (cdl_span[]){{forged.data, forged.len}}, 1);
    uint64_t left;
    assert_false(cdl_ledger_utxo_get(l, avvm, 0, &left)); /* spent */
    cdl_ledger_totals t;
    cdl_ledger_get_totals(l, &t);
    assert_int_equal(t.fees_lovelace, fee);
    cdl_buf_free(&tx), cdl_buf_free(&body), cdl_buf_free(&forged);
    cdl_ledger_del(l);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reforged_chain_is_valid),
      cmocka_unit_test(test_witness_flipped),
      cmocka_unit_test(test_output_amount_changed),
      cmocka_unit_test(test_double_spend_across_blocks),
      cmocka_unit_test(test_double_spend_within_block),
      cmocka_unit_test(test_fee_below_minimum),
      cmocka_unit_test(test_value_not_preserved),
      cmocka_unit_test(test_tx_over_max_size),
      cmocka_unit_test(test_witness_of_another_key),
      cmocka_unit_test(test_unwitnessed_inputs_valid_in_a_block),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
