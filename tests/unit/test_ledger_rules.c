/*
 * test_ledger_rules.c: delegation and update-mechanism rules on
 * constructed, signed payloads (docs/byron.md 5.5 and 5.6), over the test
 * genesis of chain_support.h (mainnet's, with seven test genesis keys;
 * k = 2160, so certificates activate 4320 slots later and the adoption
 * threshold is floor(0.6 * 7) = 4).
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "update_support.h"

static const uint32_t MAGIC = CDL_BYRON_MAINNET_MAGIC;
static const cdl_byron_version V000 = {0, 0, 0}, V010 = {0, 1, 0};

/* ---- Delegation ---- */

typedef struct owned_cert {
  uint8_t sig[64];
  cdl_byron_dlg_cert c;
} owned_cert;

static void make_cert(owned_cert *o, const test_key *issuer, const test_key *delegate,
                      uint64_t epoch) {
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_byron_msg_cert(&msg, MAGIC, delegate->xpub, epoch);
  test_key_sign(issuer, msg.data, msg.len, o->sig);
  cdl_buf_free(&msg);
  o->c = (cdl_byron_dlg_cert){.epoch = epoch, .issuer_pk = issuer->xpub,
                              .delegate_pk = delegate->xpub, .signature = o->sig};
}

static void expect_rule(int rc, const cdl_rejection *rej, const char *rule) {
  assert_int_equal(rc, CDL_E_REJECTED);
  assert_string_equal(rej->rule, rule);
}

static bool delegate_is(const cdl_ledger *l, int g, const test_key *k) {
  uint8_t gk[28], want[28], got[28];
  cdl_byron_key_hash(rf.gen[g].xpub, gk);
  cdl_byron_key_hash(k->xpub, want);
  return cdl_ledger_delegate_of(l, gk, got) && memcmp(got, want, 28) == 0;
}

static void test_delegation_rules(void **state) {
  (void)state;
  cdl_ledger *l = ledger_for(&rf.fix.g, 0, 0);
  test_key fresh, stranger;
  test_key_make(&fresh, 400);
  test_key_make(&stranger, 401);
  owned_cert c;
  cdl_rejection rej;
  assert_true(delegate_is(l, 0, &rf.del[0])); /* the genesis certificates */
  make_cert(&c, &stranger, &fresh, 1);
  expect_rule(cdl_ledger_apply_certificates(l, &c.c, 1, 100, &rej), &rej, CDL_RULE_DLG_NON_GENESIS);
  make_cert(&c, &rf.gen[0], &fresh, 5);
  expect_rule(cdl_ledger_apply_certificates(l, &c.c, 1, 100, &rej), &rej, CDL_RULE_DLG_WRONG_EPOCH);
  make_cert(&c, &rf.gen[0], &fresh, 0); /* epoch 0 was used by the genesis */
  expect_rule(cdl_ledger_apply_certificates(l, &c.c, 1, 100, &rej), &rej, CDL_RULE_DLG_EPOCH_REPEAT);
  make_cert(&c, &rf.gen[0], &fresh, 1);
  c.sig[3] ^= 1;
  expect_rule(cdl_ledger_apply_certificates(l, &c.c, 1, 100, &rej), &rej, CDL_RULE_DLG_SIGNATURE);
  make_cert(&c, &rf.gen[0], &fresh, 1);
  assert_int_equal(cdl_ledger_apply_certificates(l, &c.c, 1, 100, &rej), CDL_OK);
  expect_rule(cdl_ledger_apply_certificates(l, &c.c, 1, 101, &rej), &rej, CDL_RULE_DLG_EPOCH_REPEAT);
  /* Activation 2k = 4320 slots after the certificate's block. */
  assert_int_equal(cdl_ledger_tick(l, 4419), CDL_OK);
  assert_true(delegate_is(l, 0, &rf.del[0]));
  assert_int_equal(cdl_ledger_tick(l, 4420), CDL_OK);
  assert_true(delegate_is(l, 0, &fresh));
  /* Two certificates of one delegator in one block land in one slot. */
  owned_cert two[2];
  make_cert(&two[0], &rf.gen[1], &stranger, 1);
  make_cert(&two[1], &rf.gen[1], &stranger, 2);
  cdl_byron_dlg_cert pair[2] = {two[0].c, two[1].c};
  assert_int_equal(cdl_ledger_tick(l, 21700), CDL_OK);
  expect_rule(cdl_ledger_apply_certificates(l, pair, 2, 21700, &rej), &rej, CDL_RULE_DLG_SLOT_REPEAT);
  /* A delegate already serving a key is not given a second one. */
  make_cert(&c, &rf.gen[2], &fresh, 1);
  assert_int_equal(cdl_ledger_apply_certificates(l, &c.c, 1, 21700, &rej), CDL_OK);
  assert_int_equal(cdl_ledger_tick(l, 21700 + 4320), CDL_OK);
  assert_true(delegate_is(l, 2, &rf.del[2]));
  cdl_ledger_del(l);
}

/* ---- Update proposals and votes ---- */

static int propose(cdl_ledger *l, const proposal_spec *s, uint64_t slot, cdl_rejection *rej,
                   uint8_t id[32]) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_buf bytes;
  cdl_byron_proposal p;
  make_proposal(s, &bytes, &t, &p);
  if (id) memcpy(id, p.id, 32);
  int rc = cdl_ledger_apply_update(l, &p, NULL, 0, V000, rf.del[0].xpub, slot, rej);
  cdl_buf_free(&bytes);
  test_ctx_free(&t);
  return rc;
}

static int vote(cdl_ledger *l, const test_key *voter, const uint8_t id[32], uint64_t slot,
                cdl_rejection *rej) {
  owned_vote v;
  make_vote(&v, voter, id);
  return cdl_ledger_apply_update(l, NULL, &v.v, 1, V000, rf.del[0].xpub, slot, rej);
}

static int endorse(cdl_ledger *l, int g, uint64_t slot) {
  cdl_rejection rej;
  return cdl_ledger_apply_update(l, NULL, NULL, 0, V010, rf.del[g].xpub, slot, &rej);
}

static void test_proposal_registration_rules(void **state) {
  (void)state;
  test_key stranger;
  test_key_make(&stranger, 402);
  cdl_ledger *l = ledger_for(&rf.fix.g, 0, 0);
  cdl_rejection rej;
  proposal_spec s = {.pv = V010, .param = CDL_BYRON_PP_MAX_TX_SIZE, .value = 8192,
                     .app = "cardano-sl", .app_version = 1, .issuer = &stranger};
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_PROPOSER);
  s.issuer = &rf.del[1];
  s.pv = (cdl_byron_version){0, 3, 0};
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_VERSION_CANNOT_FOLLOW);
  s.pv = V010, s.param = CDL_BYRON_PP_MAX_BLOCK_SIZE, s.value = 4000001;
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_BLOCK_SIZE);
  s.param = CDL_BYRON_PP_MAX_TX_SIZE, s.value = 2000000;
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_TX_SIZE);
  s.value = 8192, s.metadata_bytes = 600;
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_PROPOSAL_SIZE);
  s.metadata_bytes = 0, s.app_version = 5;
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_SOFTWARE_CANNOT_FOLLOW);
  s.app_version = 1, s.app = "a-very-long-application";
  expect_rule(propose(l, &s, 10, &rej, NULL), &rej, CDL_RULE_UPD_APP_NAME);
  s.app = "cardano-sl";
  assert_int_equal(propose(l, &s, 10, &rej, NULL), CDL_OK);
  s.param = CDL_BYRON_PP_MAX_HEADER_SIZE, s.value = 1000, s.app = "other";
  expect_rule(propose(l, &s, 11, &rej, NULL), &rej, CDL_RULE_UPD_DUPLICATE_VERSION);
  proposal_spec same = {.pv = V000, .param = -1, .app = "x", .issuer = &rf.del[2]};
  assert_int_equal(propose(l, &same, 12, &rej, NULL), CDL_OK); /* a new application */
  cdl_ledger_update_view v;
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.registered, 2);
  /* Unconfirmed proposals expire updateImplicit (10000) slots later. */
  assert_int_equal(endorse(l, 0, 10011), CDL_OK);
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.registered, 1);
  assert_int_equal(endorse(l, 0, 10013), CDL_OK);
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.registered, 0);
  cdl_ledger_del(l);
}

/* The whole life of a proposal: registration, votes up to the threshold,
 * endorsements after 2k slots, adoption at the next epoch once stable for
 * 4k slots, and the new maxTxSize taking effect. */
static void test_proposal_adopted(void **state) {
  (void)state;
  test_key stranger;
  test_key_make(&stranger, 403);
  cdl_ledger *l = ledger_for(&rf.fix.g, 0, 0);
  cdl_rejection rej;
  uint8_t id[32], unknown[32] = {1};
  proposal_spec s = {.pv = V010, .param = CDL_BYRON_PP_MAX_TX_SIZE, .value = 8192,
                     .app = "cardano-sl", .app_version = 1, .issuer = &rf.del[0]};
  assert_int_equal(propose(l, &s, 10, &rej, id), CDL_OK);
  for (int g = 0; g < 3; g++) {
    int rc = vote(l, &rf.del[g], id, 20, &rej);
    if (rc != CDL_OK) fail_msg("vote %d: %s %s", g, rej.rule, rej.detail);
  }
  expect_rule(vote(l, &rf.del[1], id, 21, &rej), &rej, CDL_RULE_UPD_VOTE_REPEAT);
  expect_rule(vote(l, &stranger, id, 21, &rej), &rej, CDL_RULE_UPD_VOTER);
  expect_rule(vote(l, &rf.del[4], unknown, 21, &rej), &rej, CDL_RULE_UPD_VOTE_UNKNOWN);
  cdl_ledger_update_view v;
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.confirmed, 0);
  assert_int_equal(vote(l, &rf.del[3], id, 30, &rej), CDL_OK); /* the 4th: confirmed */
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.confirmed, 1);
  uint32_t app_version = 0;
  assert_true(cdl_ledger_app_version(l, "cardano-sl", &app_version));
  assert_int_equal(app_version, 1);
  for (int g = 0; g < 4; g++) assert_int_equal(endorse(l, g, 40 + g), CDL_OK); /* too early */
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.endorsements, 0);
  for (int g = 0; g < 4; g++) assert_int_equal(endorse(l, g, 4400 + g), CDL_OK);
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.endorsements, 4);
  assert_int_equal(v.candidates, 1);
  /* The tx the new limit admits: 100 outputs, over 4096 bytes. */
  cdl_buf tx;
  make_tx(rf.spender_utxo, 0, cdl_span_of(rf.spender_addr.data, rf.spender_addr.len), 100,
          (REFORGE_SPENDER_LOVELACE - 1000000) / 100, false, &rf.spender, &tx);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux aux;
  assert_int_equal(cdl_byron_txaux_decode(tx.data, tx.len, &t.ctx, &aux), CDL_OK);
  expect_rule(cdl_ledger_apply_tx(l, &aux, &rej), &rej, CDL_RULE_TX_SIZE);
  assert_int_equal(cdl_ledger_tick(l, 21599), CDL_OK);
  assert_int_equal(cdl_ledger_protocol_version(l).minor, 0);
  assert_int_equal(cdl_ledger_tick(l, 21600), CDL_OK);
  assert_int_equal(cdl_ledger_protocol_version(l).minor, 1);
  assert_int_equal(cdl_ledger_params(l)->max_tx_size, 8192);
  cdl_ledger_update_view_get(l, &v);
  assert_int_equal(v.registered, 0);
  assert_int_equal(cdl_ledger_apply_tx(l, &aux, &rej), CDL_OK);
  test_ctx_free(&t);
  cdl_buf_free(&tx);
  cdl_ledger_del(l);
}

/* Outputs are keyed by the hash of the tx re-serialized from its fields,
 * as the reference does, even when the received bytes (which the witness
 * signs) use a wider integer head. */
static void test_outputs_keyed_by_reserialized_id(void **state) {
  (void)state;
  cdl_ledger *l = ledger_for(&rf.fix.g, 0, 0);
  cdl_buf wide, canonical;
  cdl_span to = cdl_span_of(rf.spender_addr.data, rf.spender_addr.len);
  uint64_t amount = 4000000000u; /* canonically a 5-byte head; wide, 9 bytes */
  make_tx(rf.spender_utxo, 0, to, 1, amount, true, &rf.spender, &wide);
  make_tx(rf.spender_utxo, 0, to, 1, amount, false, &rf.spender, &canonical);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux a, b;
  assert_int_equal(cdl_byron_txaux_decode(wide.data, wide.len, &t.ctx, &a), CDL_OK);
  assert_int_equal(cdl_byron_txaux_decode(canonical.data, canonical.len, &t.ctx, &b), CDL_OK);
  assert_memory_not_equal(a.tx.id, b.tx.id, 32);
  cdl_rejection rej;
  assert_int_equal(cdl_ledger_apply_tx(l, &a, &rej), CDL_OK);
  uint64_t value = 0;
  assert_false(cdl_ledger_utxo_get(l, a.tx.id, 0, &value));
  assert_true(cdl_ledger_utxo_get(l, b.tx.id, 0, &value));
  assert_int_equal(value, amount);
  test_ctx_free(&t);
  cdl_buf_free(&wide), cdl_buf_free(&canonical);
  cdl_ledger_del(l);
}

/* A genesis fee summand is in nano-lovelace and the reference truncates
 * it to whole lovelace (Common/TxFeePolicy.hs FromJSON: `div` 10^9),
 * where a proposal's summand is rounded: 155381.500000001 is 155381. */
static void load_with_summand(const char *summand, cdl_arena *arena, cdl_byron_genesis *g) {
  cdl_buf text, edited;
  vec_read("genesis/mainnet/mainnet-byron-genesis.json", &text);
  const char *at = memmem(text.data, text.len, "\"155381000000000\"", 17);
  assert_non_null(at);
  size_t before = (size_t)(at - (const char *)text.data);
  cdl_buf_init(&edited, 0);
  cdl_buf_append(&edited, text.data, before + 1);
  cdl_buf_append(&edited, summand, strlen(summand));
  cdl_buf_append(&edited, at + 16, text.len - before - 16);
  cdl_error err = {0};
  if (cdl_byron_genesis_load(edited.data, edited.len, arena, g, &err) != CDL_OK)
    fail_msg("genesis: %s", err.message);
  cdl_buf_free(&text), cdl_buf_free(&edited);
}

static void test_genesis_fee_summand_truncated(void **state) {
  (void)state;
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_genesis edited;
  load_with_summand("1600000000", &arena, &edited);
  assert_int_equal(edited.params.fee_summand_nano, 1000000000); /* 1.6: 1, not 2 */
  load_with_summand("155381500000001", &arena, &edited);
  assert_int_equal(edited.params.fee_summand_nano, 155381000000000ull);
  /* The test network with that fee policy: a tx paying exactly
   * 155381 + ceil(43.946 * size) is accepted, one lovelace less is not. */
  cdl_byron_genesis g = rf.fix.g;
  g.params = edited.params;
  cdl_ledger *l = ledger_for(&g, 0, 0);
  cdl_span to = cdl_span_of(rf.spender_addr.data, rf.spender_addr.len);
  cdl_buf tx;
  make_tx(rf.spender_utxo, 0, to, 1, REFORGE_SPENDER_LOVELACE / 2, false, &rf.spender, &tx);
  uint64_t fee = cdl_ledger_min_fee(cdl_ledger_params(l), tx.len);
  assert_int_equal(fee, 155381 + (43946ull * tx.len + 999) / 1000);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux aux;
  cdl_rejection rej;
  size_t size = tx.len;
  for (int less = 1; less >= 0; less--) { /* one lovelace short, then exact */
    cdl_buf_free(&tx);
    make_tx(rf.spender_utxo, 0, to, 1, REFORGE_SPENDER_LOVELACE - fee + (uint64_t)less, false,
            &rf.spender, &tx);
    assert_int_equal(tx.len, size);
    assert_int_equal(cdl_byron_txaux_decode(tx.data, tx.len, &t.ctx, &aux), CDL_OK);
    if (less) expect_rule(cdl_ledger_apply_tx(l, &aux, &rej), &rej, CDL_RULE_FEE_TOO_LOW);
    else assert_int_equal(cdl_ledger_apply_tx(l, &aux, &rej), CDL_OK);
  }
  test_ctx_free(&t);
  cdl_buf_free(&tx);
  cdl_ledger_del(l);
  cdl_arena_free(&arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delegation_rules),
      cmocka_unit_test(test_proposal_registration_rules),
      cmocka_unit_test(test_proposal_adopted),
      cmocka_unit_test(test_outputs_keyed_by_reserialized_id),
      cmocka_unit_test(test_genesis_fee_summand_truncated),
  };
  return cmocka_run_group_tests(tests, rf_group_setup, rf_group_teardown);
}
