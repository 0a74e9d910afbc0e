/*
 * test_ledger_query.c: the ledger's read-only UTxO look-ups by address and
 * by input, and its constants (include/cardinal/ledger.h "UTxO look-ups
 * and constants"; what the local state query's own answers read,
 * docs/network.md "Cardinal's own queries"), over the re-forged mainnet
 * genesis of chain_support.h, whose spender owns one output.
 */
#include <string.h>

#include "chain_support.h"

static reforge rf; /* made by the first test that asks */
static bool rf_made;

static cdl_ledger *genesis_ledger(void) {
  if (!rf_made)
    reforge_init(&rf, 0), rf_made = true;
  return ledger_for(&rf.fix.g, 0, 0);
}

static int teardown(void **state) {
  (void)state;
  if (rf_made)
    reforge_free(&rf);
  return 0;
}

/* What a walk saw: how many outputs, their sum, the last one; it stops
 * after |stop_after| when that is not 0. */
typedef struct seen {
  size_t n, stop_after;
  uint64_t lovelace;
  cdl_ledger_output last;
} seen;

static bool note(void *ctx, const cdl_ledger_output *o) {
  seen *s = ctx;
  s->n++;
  s->lovelace += o->lovelace;
  s->last = *o;
  return s->stop_after == 0 || s->n < s->stop_after;
}

static seen walk(const cdl_ledger *l, const cdl_span *addrs, size_t n, size_t stop_after) {
  seen s = {.stop_after = stop_after};
  cdl_ledger_utxo_by_address(l, addrs, n, note, &s);
  return s;
}

/* Applies a tx spending (in, 0) of the spender to |outputs| outputs of
 * |amount| at |to|; *id gets its id. */
static void pay(cdl_ledger *l, const uint8_t in[32], cdl_span to, size_t outputs, uint64_t amount,
                uint8_t id[32]) {
  cdl_buf bytes;
  make_tx(in, 0, to, outputs, amount, false, &rf.spender, &bytes);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux aux;
  assert_int_equal(cdl_byron_txaux_decode(bytes.data, bytes.len, &t.ctx, &aux), CDL_OK);
  cdl_rejection rej;
  if (cdl_ledger_apply_tx(l, &aux, &rej) != CDL_OK)
    fail_msg("%s: %s", rej.rule, rej.detail);
  memcpy(id, aux.tx.id, 32);
  test_ctx_free(&t);
  cdl_buf_free(&bytes);
}

static void test_by_address_and_input(void **state) {
  (void)state;
  cdl_ledger *l = genesis_ledger();
  cdl_span spender = cdl_span_of(rf.spender_addr.data, rf.spender_addr.len);
  test_key other;
  test_key_make(&other, 991);
  cdl_buf other_buf;
  test_key_address(&other, &other_buf);
  cdl_span both[2] = {cdl_span_of(other_buf.data, other_buf.len), spender};
  /* At genesis: the spender's one output, found by its address and by its input. */
  seen s = walk(l, &spender, 1, 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.lovelace, REFORGE_SPENDER_LOVELACE);
  assert_memory_equal(s.last.tx_id, rf.spender_utxo, 32);
  assert_int_equal(s.last.index, 0);
  assert_int_equal(s.last.address.len, spender.len);
  assert_memory_equal(s.last.address.ptr, spender.ptr, spender.len);
  assert_int_equal(walk(l, both, 1, 0).n, 0); /* an address nobody paid */
  assert_int_equal(walk(l, both, 0, 0).n, 0); /* no address asked for */
  cdl_ledger_output o;
  assert_true(cdl_ledger_utxo_lookup(l, rf.spender_utxo, 0, &o));
  assert_int_equal(o.lovelace, REFORGE_SPENDER_LOVELACE);
  assert_memory_equal(o.address.ptr, spender.ptr, spender.len);
  assert_false(cdl_ledger_utxo_lookup(l, rf.spender_utxo, 1, &o));
  /* Three outputs of 1 ADA back to the spender: the genesis one is spent. */
  uint8_t tx1[32];
  pay(l, rf.spender_utxo, spender, 3, 1000000, tx1);
  s = walk(l, both, 2, 0);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.lovelace, 3000000);
  assert_memory_equal(s.last.tx_id, tx1, 32);
  assert_false(cdl_ledger_utxo_lookup(l, rf.spender_utxo, 0, &o));
  assert_true(cdl_ledger_utxo_lookup(l, tx1, 2, &o));
  assert_int_equal(o.lovelace, 1000000);
  assert_int_equal(walk(l, both, 2, 2).n, 2); /* the visitor stops the walk */
  /* A fork spends output 0 to the other key: it sees two of the spender's
   * and one of the other's; its base still sees all three. */
  cdl_ledger *fork = NULL;
  assert_int_equal(cdl_ledger_fork(l, &fork), CDL_OK);
  uint8_t tx2[32];
  pay(fork, tx1, both[0], 1, 800000, tx2);
  s = walk(fork, &spender, 1, 0);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.lovelace, 2000000);
  s = walk(fork, both, 1, 0);
  assert_int_equal(s.n, 1);
  assert_memory_equal(s.last.tx_id, tx2, 32);
  assert_false(cdl_ledger_utxo_lookup(fork, tx1, 0, &o));
  assert_true(cdl_ledger_utxo_lookup(fork, tx1, 1, &o)); /* read through to the base */
  assert_int_equal(walk(fork, both, 2, 0).n, 3);
  assert_int_equal(walk(l, &spender, 1, 0).n, 3);
  cdl_ledger_del(fork);
  cdl_buf_free(&other_buf);
  cdl_ledger_del(l);
}

static void test_constants(void **state) {
  (void)state;
  cdl_ledger *l = genesis_ledger();
  cdl_ledger_constants c;
  cdl_ledger_get_constants(l, &c);
  assert_int_equal(c.protocol_magic, CDL_BYRON_MAINNET_MAGIC);
  assert_false(c.requires_magic);
  assert_int_equal(c.k, 2160);
  assert_int_equal(c.epoch_slots, 21600);
  assert_int_equal(c.genesis_keys, 7);
  cdl_ledger_del(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_by_address_and_input),
      cmocka_unit_test(test_constants),
  };
  return cmocka_run_group_tests(tests, test_group_setup, teardown);
}
