/*
 * test_ledger_rules.c: delegation and update-mechanism rules on
 * constructed, signed payloads (docs/byron.md 5.5 and 5.6), over the test
 * genesis of chain_support.h (mainnet's, with seven test genesis keys;
 * k = 2160, so certificates activate 4320 slots later and the adoption
 * threshold is floor(0.6 * 7) = 4).
 */
#include <stdlib.h>
#include <string.h>

#include "chain_support.h"

static reforge rf;
static const uint32_t MAGIC = CDL_BYRON_MAINNET_MAGIC;
static const cdl_byron_version V000 = {0, 0, 0}, V010 = {0, 1, 0};

static int setup(void **state) {
  test_group_setup(state);
  reforge_init(&rf, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  reforge_free(&rf);
  return 0;
}

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

typedef struct proposal_spec {
  cdl_byron_version pv;
  int param;         /* CDL_BYRON_PP_* to change, or -1 */
  uint64_t value;
  const char *app;
  uint32_t app_version;
  size_t metadata_bytes; /* a metadata entry of this size, to test limits */
  const test_key *issuer;
} proposal_spec;

static void encode_fields(cdl_buf *b, const proposal_spec *s) {
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, s->pv.major), cdl_cbor_enc_uint(b, s->pv.minor);
  cdl_cbor_enc_uint(b, s->pv.alt);
  cdl_cbor_enc_array(b, 14);
  for (int i = 0; i < 14; i++) {
    cdl_cbor_enc_array(b, i == s->param ? 1 : 0);
    if (i == s->param) cdl_cbor_enc_uint(b, s->value);
  }
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_text(b, (const uint8_t *)s->app, strlen(s->app));
  cdl_cbor_enc_uint(b, s->app_version);
  cdl_cbor_enc_map(b, s->metadata_bytes ? 1 : 0);
  if (s->metadata_bytes) {
    static uint8_t filler[1024];
    cdl_cbor_enc_text(b, (const uint8_t *)"linux", 5);
    cdl_cbor_enc_array(b, 4);
    cdl_cbor_enc_bytes(b, filler, s->metadata_bytes);
    cdl_cbor_enc_bytes(b, filler, 32);
    cdl_cbor_enc_bytes(b, filler, 0), cdl_cbor_enc_bytes(b, filler, 0);
  }
  cdl_cbor_enc_map(b, 0);
}

/* Builds, signs and decodes a proposal; |bytes| keeps it alive. */
static void make_proposal(const proposal_spec *s, cdl_buf *bytes, test_ctx *t,
                          cdl_byron_proposal *p) {
  cdl_buf fields, msg;
  cdl_buf_init(&fields, 0), cdl_buf_init(&msg, 0);
  encode_fields(&fields, s);
  uint8_t pm[9], sig[64];
  size_t n = cdl_byron_magic_cbor(MAGIC, pm);
  cdl_buf_append_byte(&msg, 0x04);
  cdl_buf_append(&msg, pm, n);
  cdl_buf_append_byte(&msg, 0x85);
  cdl_buf_append(&msg, fields.data, fields.len);
  test_key_sign(s->issuer, msg.data, msg.len, sig);
  cdl_buf_init(bytes, 0);
  cdl_cbor_enc_array(bytes, 7);
  cdl_buf_append(bytes, fields.data, fields.len);
  cdl_cbor_enc_bytes(bytes, s->issuer->xpub, 64);
  cdl_cbor_enc_bytes(bytes, sig, 64);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, bytes->data, bytes->len, &t->err);
  assert_int_equal(cdl_byron_proposal_read(&cur, &t->ctx, p), CDL_OK);
  cdl_buf_free(&fields), cdl_buf_free(&msg);
}

typedef struct owned_vote {
  uint8_t id[32], id_raw[34], sig[64];
  cdl_byron_vote v;
} owned_vote;

static void make_vote(owned_vote *o, const test_key *voter, const uint8_t id[32]) {
  uint8_t pm[9];
  size_t n = cdl_byron_magic_cbor(MAGIC, pm);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_buf_append_byte(&msg, 0x06);
  cdl_buf_append(&msg, pm, n);
  cdl_buf_append_byte(&msg, 0x82);
  cdl_cbor_enc_bytes(&msg, id, 32);
  cdl_buf_append_byte(&msg, 0xf5);
  test_key_sign(voter, msg.data, msg.len, o->sig);
  cdl_buf_free(&msg);
  memcpy(o->id, id, 32);
  o->id_raw[0] = 0x58, o->id_raw[1] = 0x20;
  memcpy(o->id_raw + 2, id, 32);
  o->v = (cdl_byron_vote){.voter = voter->xpub, .proposal_id = o->id,
                          .proposal_id_raw = cdl_span_of(o->id_raw, 34), .decision = true,
                          .signature = o->sig};
}

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
  proposal_spec s = {V010, CDL_BYRON_PP_MAX_TX_SIZE, 8192, "cardano-sl", 1, 0, &stranger};
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
  proposal_spec same = {V000, -1, 0, "x", 0, 0, &rf.del[2]};
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
  proposal_spec s = {V010, CDL_BYRON_PP_MAX_TX_SIZE, 8192, "cardano-sl", 1, 0, &rf.del[0]};
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delegation_rules),
      cmocka_unit_test(test_proposal_registration_rules),
      cmocka_unit_test(test_proposal_adopted),
      cmocka_unit_test(test_outputs_keyed_by_reserialized_id),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
