/*
 * test_tx.c: Byron transactions (docs/byron.md 1.5): real mainnet txs with
 * stated ids, witness signatures, byte-exact re-encoding, and the
 * decoder's strictness on constructed variants.
 */
#include <string.h>

#include "support.h"

static void decode_aux(const cdl_buf *data, test_ctx *t, cdl_byron_txaux *aux, int expect) {
  int rc = cdl_byron_txaux_decode(data->data, data->len, &t->ctx, aux);
  if (rc != expect) fail_msg("tx decode: got %d (%s), want %d", rc, t->err.message, expect);
}

static void assert_reencodes(const cdl_byron_txaux *aux) {
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_byron_txaux_encode(&b, aux);
  assert_int_equal(b.len, aux->raw.len);
  assert_memory_equal(b.data, aux->raw.ptr, b.len);
  cdl_buf_free(&b);
}

static void test_pallas_byron1_tx(void **state) {
  (void)state;
  cdl_buf data;
  test_ctx t;
  cdl_byron_txaux aux;
  vec_read_hex("txs/byron1.tx.hex", &data);
  test_ctx_init(&t, 0);
  decode_aux(&data, &t, &aux, CDL_OK);
  assert_hash_hex(aux.tx.id, "a06e5a0150e09f8983be2deafab9e04afc60d92e7110999eb672c903343f1e26");
  assert_int_equal(aux.tx.raw.len, 220); /* stated: size of the tx body */
  assert_int_equal(aux.raw.len, 361);
  assert_int_equal(aux.n_witnesses, aux.tx.n_inputs);
  for (size_t i = 0; i < aux.n_witnesses; i++) {
    assert_int_equal(aux.witnesses[i].type, CDL_BYRON_WIT_PUBKEY);
    assert_true(cdl_byron_witness_verify(&aux.witnesses[i], aux.tx.id, CDL_BYRON_MAINNET_MAGIC));
    assert_false(cdl_byron_witness_verify(&aux.witnesses[i], aux.tx.id, 1)); /* wrong network */
  }
  assert_reencodes(&aux);
  cdl_buf_free(&data), test_ctx_free(&t);
}

/* A real AVVM redemption (mainnet epoch 0, slot 6341). */
static void test_pallas_byron2_redemption(void **state) {
  (void)state;
  cdl_buf data;
  test_ctx t;
  cdl_byron_txaux aux;
  vec_read_hex("txs/byron2.tx.hex", &data);
  test_ctx_init(&t, 0);
  decode_aux(&data, &t, &aux, CDL_OK);
  assert_hash_hex(aux.tx.id, "a9e4413a5fb61a7a43c7df006ffcaaf3f2ffc9541f54757023968c5a8f8294fd");
  assert_int_equal(aux.tx.raw.len, 130);
  assert_int_equal(aux.raw.len, 239);
  assert_int_equal(aux.tx.n_inputs, 1);
  assert_hash_hex(aux.tx.inputs[0].tx_id, "31eae73dd9b018a6bc2eb1b229b5497de563a81872d54516251cc8185f932883");
  assert_int_equal(aux.tx.inputs[0].index, 0);
  assert_int_equal(aux.tx.outputs[0].lovelace, 1000000);
  char b58[256];
  cdl_byron_address_to_base58(aux.tx.outputs[0].address.raw, b58, sizeof b58);
  assert_string_equal(b58, "DdzFFzCqrhsjEtvKie4apJ4wHKQdG7eyGYrUBDuPoAiPvenD44RmDPJmaHVdVsTR9QjHjQD"
                           "L1jDU6rS8upHyxspT7VP5PGJHnDZ94nNi");
  assert_int_equal(aux.witnesses[0].type, CDL_BYRON_WIT_REDEEM);
  assert_true(cdl_byron_witness_verify(&aux.witnesses[0], aux.tx.id, CDL_BYRON_MAINNET_MAGIC));
  /* The redeem key's address is the spent genesis output's address. */
  cdl_buf addr;
  uint8_t txid[32];
  cdl_buf_init(&addr, 0);
  assert_int_equal(cdl_byron_address_make_redeem(aux.witnesses[0].key, false, 0, &addr), CDL_OK);
  cdl_blake2b_256(txid, addr.data, addr.len);
  assert_memory_equal(txid, aux.tx.inputs[0].tx_id, 32);
  assert_reencodes(&aux);
  /* A flipped signature byte fails; so does the witness on another tx id. */
  uint8_t sig[64];
  memcpy(sig, aux.witnesses[0].signature, 64);
  sig[10] ^= 0x40;
  cdl_byron_witness w = aux.witnesses[0];
  w.signature = sig;
  assert_false(cdl_byron_witness_verify(&w, aux.tx.id, CDL_BYRON_MAINNET_MAGIC));
  assert_false(cdl_byron_witness_verify(&aux.witnesses[0], txid, CDL_BYRON_MAINNET_MAGIC));
  cdl_buf_free(&addr), cdl_buf_free(&data), test_ctx_free(&t);
}

/* ---- Constructed transactions for the decoder's rules ---- */

typedef struct {
  bool definite_inputs;
  size_t n_inputs;
  uint64_t index;
  uint64_t lovelace;
  unsigned witness_tag;
  bool bare;
} tx_shape;

static const char ADDRESS1[] = "82d818582183581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83"
                               "cb7bdc5ea0001a32dc988e";

static void build_tx(const tx_shape *s, cdl_buf *out) {
  uint8_t addr[64], inner[64], txid[32] = {7};
  size_t alen = hex_to_bytes(ADDRESS1, addr, sizeof addr);
  cdl_buf_init(out, 0);
  if (!s->bare) cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_array(out, 3);
  if (s->definite_inputs) cdl_cbor_enc_array(out, s->n_inputs);
  else cdl_cbor_enc_indef_array(out);
  for (size_t i = 0; i < s->n_inputs; i++) {
    cdl_buf in;
    cdl_buf_init_fixed(&in, inner, sizeof inner);
    cdl_cbor_enc_array(&in, 2);
    cdl_cbor_enc_bytes(&in, txid, 32);
    cdl_cbor_enc_uint(&in, s->index);
    cdl_cbor_enc_array(out, 2);
    cdl_cbor_enc_uint(out, 0);
    cdl_cbor_enc_tag(out, 24);
    cdl_cbor_enc_bytes(out, in.data, in.len);
  }
  if (!s->definite_inputs) cdl_cbor_enc_break(out);
  cdl_cbor_enc_indef_array(out);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_raw(out, cdl_span_of(addr, alen));
  cdl_cbor_enc_uint(out, s->lovelace);
  cdl_cbor_enc_break(out);
  cdl_cbor_enc_map(out, 0);
  if (s->bare) return;
  cdl_cbor_enc_array(out, 1);
  uint8_t key[64] = {1}, sig[64] = {2}, wit[160];
  cdl_buf w;
  cdl_buf_init_fixed(&w, wit, sizeof wit);
  cdl_cbor_enc_array(&w, 2);
  if (s->witness_tag == CDL_BYRON_WIT_SCRIPT) {
    for (int i = 0; i < 2; i++) {
      cdl_cbor_enc_array(&w, 2);
      cdl_cbor_enc_uint(&w, 0);
      cdl_cbor_enc_bytes(&w, key, 8);
    }
  } else {
    cdl_cbor_enc_bytes(&w, key, s->witness_tag == CDL_BYRON_WIT_REDEEM ? 32 : 64);
    cdl_cbor_enc_bytes(&w, sig, 64);
  }
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, s->witness_tag);
  cdl_cbor_enc_tag(out, 24);
  cdl_cbor_enc_bytes(out, w.data, w.len);
}

static void expect_shape(const tx_shape *s, unsigned flags, int expect) {
  cdl_buf data;
  test_ctx t;
  cdl_byron_txaux aux;
  build_tx(s, &data);
  test_ctx_init(&t, flags);
  decode_aux(&data, &t, &aux, expect);
  if (expect == CDL_OK && s->bare) {
    cdl_buf b;
    cdl_buf_init(&b, 0);
    cdl_byron_tx_encode(&b, &aux.tx);
    assert_int_equal(b.len, data.len);
    assert_memory_equal(b.data, data.data, b.len);
    assert_int_equal(aux.n_witnesses, 0);
    cdl_buf_free(&b);
  } else if (expect == CDL_OK) {
    assert_reencodes(&aux);
    assert_int_equal(aux.tx.n_inputs, s->n_inputs);
  } else {
    assert_int_equal(t.err.code, expect);
  }
  cdl_buf_free(&data), test_ctx_free(&t);
}

static void test_decoder_rules(void **state) {
  (void)state;
  const tx_shape ok = {false, 2, 3, 1000, CDL_BYRON_WIT_PUBKEY, false};
  expect_shape(&ok, 0, CDL_OK);
  tx_shape s = ok;
  s.definite_inputs = true; /* Byron lists must be indefinite */
  expect_shape(&s, 0, CDL_E_LIST_FORM);
  s = ok, s.n_inputs = 0;
  expect_shape(&s, 0, CDL_E_RANGE);
  s = ok, s.index = 65536; /* Word16 in cardano-ledger, Word32 in cardano-sl */
  expect_shape(&s, 0, CDL_E_RANGE);
  expect_shape(&s, CDL_BYRON_LEGACY, CDL_OK);
  s = ok, s.lovelace = CDL_BYRON_MAX_LOVELACE + 1;
  expect_shape(&s, 0, CDL_E_RANGE);
  s = ok, s.witness_tag = CDL_BYRON_WIT_SCRIPT;
  expect_shape(&s, 0, CDL_E_TAG);
  expect_shape(&s, CDL_BYRON_LEGACY, CDL_OK);
  s = ok, s.witness_tag = CDL_BYRON_WIT_REDEEM;
  expect_shape(&s, 0, CDL_OK);
  s = ok, s.witness_tag = 3;
  expect_shape(&s, CDL_BYRON_LEGACY, CDL_E_TAG);
  s = ok, s.bare = true; /* a tx without witnesses decodes as such */
  expect_shape(&s, 0, CDL_OK);
}

static void test_truncation_never_crashes(void **state) {
  (void)state;
  cdl_buf data;
  vec_read_hex("txs/byron1.tx.hex", &data);
  for (size_t cut = 0; cut < data.len; cut++) {
    test_ctx t;
    cdl_byron_txaux aux;
    test_ctx_init(&t, 0);
    int rc = cdl_byron_txaux_decode(data.data, cut, &t.ctx, &aux);
    assert_int_not_equal(rc, CDL_OK);
    test_ctx_free(&t);
  }
  cdl_buf_free(&data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pallas_byron1_tx),
      cmocka_unit_test(test_pallas_byron2_redemption),
      cmocka_unit_test(test_decoder_rules),
      cmocka_unit_test(test_truncation_never_crashes),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
