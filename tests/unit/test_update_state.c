/*
 * test_update_state.c: the update interface state decoder
 * (include/cardinal/byron.h "The update interface state";
 * src/byron/update_state.c) on the consensus golden of an empty state, on
 * a state with every collection filled exactly as cardano-ledger encodes
 * it (Interface.State ToCBOR and its parts), and on hostile variants of
 * it (tests/unit/update_state_fixture.h), each refused with the rule it
 * breaks. The adopted parameters round-trip cardano-ledger's golden
 * ProtocolParameters.
 */
#include <string.h>

#include "support.h"
#include "update_state_fixture.h"

/* Decodes variant |m| from |b| (kept by the caller: the state points into it). */
static int decode(upd_mutation m, cdl_buf *b, test_ctx *t, cdl_byron_update_state *st) {
  cdl_buf_init(b, 0);
  update_state_fixture(b, m);
  return cdl_byron_update_state_decode(b->data, b->len, &t->ctx, st);
}

static void test_golden_empty_state(void **state) {
  (void)state;
  cdl_buf g;
  vec_read("golden/ouroboros-consensus/byron/QueryVersion3/ByronNodeToClientVersion1/Result", &g);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_update_state st;
  assert_int_equal(cdl_byron_update_state_decode(g.data, g.len, &t.ctx, &st), CDL_OK);
  assert_int_equal(st.epoch, 0);
  assert_int_equal(st.adopted_pv.major, 0);
  assert_int_equal(st.adopted_pp.slot_duration_ms, 7000);
  assert_int_equal(st.adopted_pp.unlock_stake_epoch, UINT64_MAX);
  assert_int_equal(st.n_candidates + st.n_apps + st.n_protocol + st.n_software + st.n_confirmed +
                       st.n_votes + st.n_endorsements + st.n_registered,
                   0);
  /* The same bytes again from what was read. */
  cdl_buf again;
  cdl_buf_init(&again, 0);
  cdl_byron_params_encode(&again, &st.adopted_pp);
  assert_memory_equal(again.data, g.data + 6, again.len); /* after 8b 00 83 00 00 00 */
  cdl_buf_free(&again);
  cdl_buf_free(&g);
  /* cardano-ledger's golden parameters read back and encode the same. */
  vec_read_golden("golden/cardano-ledger-byron/ledger/impl/cbor/update/ProtocolParameters", &g);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, g.data, g.len, &t.err);
  cdl_byron_protocol_params pp;
  assert_int_equal(cdl_byron_params_read(&cur, &pp), CDL_OK);
  assert_int_equal(pp.fee_summand_nano, 999000000000ull);
  assert_int_equal(pp.fee_multiplier_nano, 77000000000ull);
  cdl_buf_init(&again, 0);
  cdl_byron_params_encode(&again, &pp);
  assert_int_equal(again.len, g.len);
  assert_memory_equal(again.data, g.data, g.len);
  cdl_buf_free(&again);
  cdl_buf_free(&g);
  test_ctx_free(&t);
}

static void test_full_state(void **state) {
  (void)state;
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_update_state st;
  cdl_buf b;
  assert_int_equal(decode(UPD_GOOD, &b, &t, &st), CDL_OK);
  assert_int_equal(st.epoch, 3);
  assert_memory_equal(&st.adopted_pp, &UPD_FIXTURE_PP, sizeof UPD_FIXTURE_PP);
  assert_int_equal(st.n_candidates, 1);
  assert_int_equal(st.candidates[0].slot, 120);
  assert_int_equal(st.candidates[0].pv.major, 1);
  assert_int_equal(st.candidates[0].pp.max_tx_size, 16384);
  assert_int_equal(st.n_apps, 1);
  assert_true(st.apps[0].name.len == 10 && memcmp(st.apps[0].name.ptr, "cardano-sl", 10) == 0);
  assert_true(st.apps[0].version == 1 && st.apps[0].slot == 50 && st.apps[0].n_metadata == 1);
  assert_memory_equal(st.apps[0].metadata[0].installer, UPD_INSTALLER, 32);
  assert_int_equal(st.n_protocol, 1);
  assert_memory_equal(st.protocol[0].id, UPD_ID1, 32);
  assert_int_equal(st.protocol[0].pp.max_tx_size, 16384);
  assert_int_equal(st.n_software, 1);
  assert_memory_equal(st.software[0].id, UPD_ID2, 32);
  assert_int_equal(st.software[0].sv.number, 2);
  assert_true(st.n_confirmed == 1 && st.confirmed[0].slot == 77);
  assert_int_equal(st.n_votes, 1);
  assert_int_equal(st.votes[0].n_voters, 3);
  assert_memory_equal(st.votes[0].voters[2], UPD_KH3, 28);
  assert_int_equal(st.n_endorsements, 2);
  assert_memory_equal(st.endorsements[1].key_hash, UPD_KH2, 28);
  assert_true(st.n_registered == 2 && st.registered[1].slot == 61);
  cdl_buf_free(&b);
  test_ctx_free(&t);
}

static void test_hostile_states(void **state) {
  (void)state;
  static const struct {
    upd_mutation m;
    int code;
    const char *words;
  } CASES[] = {
      {UPD_TWELVE_FIELDS, CDL_E_TYPE, "update state"},
      {UPD_VOTES_UNTAGGED, CDL_E_TYPE, "voters"},
      {UPD_SHORT_ID, CDL_E_RANGE, "proposal id"},
      {UPD_FEE_KIND_1, CDL_E_RANGE, "fee policy kind"},
      {UPD_HUGE_MAP, CDL_E_LIMIT, "protocol update proposals: 2000 entries, over 1024"},
      {UPD_TRAILING, CDL_E_TRAILING, "update state"},
      {UPD_LONG_NAME, CDL_E_LIMIT, "application name: 65 bytes"},
  };
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    test_ctx t;
    test_ctx_init(&t, 0);
    cdl_byron_update_state st;
    cdl_buf b;
    int rc = decode(CASES[i].m, &b, &t, &st);
    if (rc != CASES[i].code || strstr(t.err.message, CASES[i].words) == NULL)
      fail_msg("case %zu: got %d (%s)", i, rc, t.err.message);
    cdl_buf_free(&b);
    test_ctx_free(&t);
  }
  /* Every proper prefix is truncated, never read past its end. */
  cdl_buf b;
  cdl_buf_init(&b, 0);
  update_state_fixture(&b, UPD_GOOD);
  for (size_t n = 0; n < b.len; n++) {
    test_ctx t;
    test_ctx_init(&t, 0);
    cdl_byron_update_state st;
    assert_int_equal(cdl_byron_update_state_decode(b.data, n, &t.ctx, &st), CDL_E_TRUNCATED);
    test_ctx_free(&t);
  }
  cdl_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_empty_state),
      cmocka_unit_test(test_full_state),
      cmocka_unit_test(test_hostile_states),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
