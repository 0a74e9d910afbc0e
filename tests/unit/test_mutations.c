/*
 * test_mutations.c: damaged copies of real mainnet blocks are rejected with
 * the right error and never crash: flipped bytes in signatures, bodies and
 * headers, truncation at every length, trailing garbage, and definite lists
 * where Byron requires indefinite ones. Run under ASan+UBSan by make test.
 */
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* Decode, every body proof, then the signature: the first rule broken. */
static int judge(const uint8_t *data, size_t len, cdl_error *err) {
  cdl_arena arena;
  cdl_byron_block blk;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, err, 0};
  cdl_error_clear(err);
  int rc = cdl_byron_block_decode(data, len, &ctx, &blk);
  if (rc == CDL_OK) rc = cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_ALL, &arena, err);
  if (rc == CDL_OK) rc = cdl_byron_block_check_signature(&blk, CDL_BYRON_MAINNET_MAGIC, NULL, err);
  if (rc == CDL_OK && !blk.is_ebb && blk.header.protocol_magic != CDL_BYRON_MAINNET_MAGIC)
    rc = cdl_error_set(err, CDL_E_RANGE, 0, "protocol magic is not mainnet's");
  cdl_arena_free(&arena);
  return rc;
}

typedef struct {
  cdl_buf data;
  test_ctx t;
  cdl_byron_block blk;
} real_block;

static void load_block(const char *hex_file, real_block *r) {
  vec_read_hex(hex_file, &r->data);
  test_ctx_init(&r->t, 0);
  assert_int_equal(cdl_byron_block_decode(r->data.data, r->data.len, &r->t.ctx, &r->blk), CDL_OK);
}

static void free_block(real_block *r) {
  cdl_buf_free(&r->data);
  test_ctx_free(&r->t);
}

static size_t offset_of(const real_block *r, const uint8_t *p) {
  return (size_t)(p - r->data.data);
}

/* Flips one bit at |offset| in a copy and expects |code|. */
static void expect_flip(const real_block *r, size_t offset, int code) {
  uint8_t *copy = malloc(r->data.len);
  cdl_error err;
  memcpy(copy, r->data.data, r->data.len);
  copy[offset] ^= 0x04;
  int rc = judge(copy, r->data.len, &err);
  if (rc != code) fail_msg("flip at %zu: got %s (%s), want %s", offset, cdl_error_name(rc),
                           err.message, cdl_error_name(code));
  free(copy);
}

static void test_flipped_signature_body_header(void **state) {
  (void)state;
  real_block r;
  cdl_error err;
  load_block("blocks/pallas/byron2.block.hex", &r);
  assert_int_equal(judge(r.data.data, r.data.len, &err), CDL_OK);
  const cdl_byron_header *h = &r.blk.header;
  const cdl_byron_txaux *tx = &r.blk.body.txs[1];
  expect_flip(&r, offset_of(&r, h->signature) + 5, CDL_E_SIGNATURE);
  expect_flip(&r, offset_of(&r, h->cert.signature) + 9, CDL_E_CERTIFICATE);
  expect_flip(&r, offset_of(&r, h->cert.delegate_pk) + 1, CDL_E_CERTIFICATE);
  expect_flip(&r, offset_of(&r, h->leader_key) + 3, CDL_E_CERTIFICATE);
  expect_flip(&r, offset_of(&r, h->prev_hash) + 7, CDL_E_SIGNATURE);
  expect_flip(&r, offset_of(&r, h->slot_raw.ptr) + 2, CDL_E_SIGNATURE);
  expect_flip(&r, offset_of(&r, h->extra_proof.ptr), CDL_E_BODY_PROOF);
  expect_flip(&r, offset_of(&r, h->proof.tx_merkle_root) + 31, CDL_E_BODY_PROOF);
  expect_flip(&r, offset_of(&r, tx->tx.inputs[0].tx_id) + 4, CDL_E_BODY_PROOF);
  expect_flip(&r, offset_of(&r, tx->witnesses[0].signature) + 60, CDL_E_BODY_PROOF);
  /* The output amount: the last byte of the uint before the output ends. */
  expect_flip(&r, offset_of(&r, tx->tx.outputs[0].raw.ptr) + tx->tx.outputs[0].raw.len - 1,
              CDL_E_BODY_PROOF);
  free_block(&r);
}

static void test_flipped_ssc(void **state) {
  (void)state;
  real_block r;
  load_block("blocks/gouroboros/mainnet-Epoch6Slot129601.hex", &r);
  const cdl_byron_ssc *ssc = &r.blk.body.ssc;
  expect_flip(&r, offset_of(&r, ssc->commitments[0].signature.ptr) + 10, CDL_E_BODY_PROOF);
  expect_flip(&r, offset_of(&r, ssc->certs[3].signature.ptr) + 10, CDL_E_BODY_PROOF);
  expect_flip(&r, offset_of(&r, ssc->certs[6].vss_key.ptr) + 20, CDL_E_BODY_PROOF);
  free_block(&r);
}

/* Every single-bit flip anywhere in a real main block is rejected. The one
 * exception is the number of the VSS-certificate set's tag: the reference
 * decoder accepts any tag there and the proof hashes the certificates as a
 * map, so that byte is not bound by anything (nor is it in cardano-node). */
static void test_every_flip_rejected(void **state) {
  (void)state;
  real_block r;
  load_block("blocks/gouroboros/mainnet-Epoch1Slot21601.hex", &r);
  const cdl_byron_ssc *ssc = &r.blk.body.ssc;
  size_t certs_tag = offset_of(&r, ssc->primary_raw.ptr) + ssc->primary_raw.len;
  uint8_t *copy = malloc(r.data.len);
  size_t rejected = 0, total = 0;
  for (size_t i = 0; i < r.data.len; i++) {
    for (unsigned bit = 0; bit < 8; bit += 3) {
      if (i >= certs_tag + 1 && i < certs_tag + 3) continue;
      cdl_error err;
      memcpy(copy, r.data.data, r.data.len);
      copy[i] ^= (uint8_t)(1u << bit);
      total++;
      if (judge(copy, r.data.len, &err) != CDL_OK) rejected++;
      else fail_msg("flip of bit %u at offset %zu was accepted", bit, i);
    }
  }
  assert_int_equal(rejected, total);
  assert_true(total > 3000);
  free(copy);
  free_block(&r);
}

static void test_truncation_everywhere(void **state) {
  (void)state;
  static const char *files[] = {"blocks/pallas/byron2.block.hex", "blocks/pallas/byron8.block.hex",
                                "blocks/gouroboros/mainnet-Epoch1Slot21602.hex"};
  for (size_t f = 0; f < 3; f++) {
    cdl_buf data;
    vec_read_hex(files[f], &data);
    for (size_t cut = 0; cut < data.len; cut++) {
      cdl_error err;
      int rc = judge(data.data, cut, &err);
      if (rc != CDL_E_TRUNCATED) fail_msg("%s cut at %zu: %s", files[f], cut, cdl_error_name(rc));
    }
    cdl_buf_free(&data);
  }
}

static void test_trailing_garbage(void **state) {
  (void)state;
  cdl_buf data;
  cdl_error err;
  vec_read_hex("blocks/pallas/byron4.block.hex", &data);
  cdl_buf_append_byte(&data, 0x00);
  assert_int_equal(judge(data.data, data.len, &err), CDL_E_TRAILING);
  assert_int_equal(err.offset, data.len - 1);
  cdl_buf_free(&data);
}

/* Replaces the indefinite list at |list| (9f ... ff, |items| items) with a
 * definite one: the decoder must refuse it. */
static void expect_definite_rejected(const real_block *r, cdl_span list, size_t items) {
  cdl_buf copy;
  cdl_error err;
  size_t at = offset_of(r, list.ptr);
  assert_int_equal(list.ptr[0], 0x9f);
  assert_int_equal(list.ptr[list.len - 1], 0xff);
  assert_true(items < 24);
  cdl_buf_init(&copy, 0);
  cdl_buf_append(&copy, r->data.data, at);
  cdl_buf_append_byte(&copy, (uint8_t)(0x80 | items));
  cdl_buf_append(&copy, list.ptr + 1, list.len - 2);
  cdl_buf_append(&copy, list.ptr + list.len, r->data.len - at - list.len);
  assert_int_equal(judge(copy.data, copy.len, &err), CDL_E_LIST_FORM);
  assert_int_equal(err.offset, at);
  cdl_buf_free(&copy);
}

static void test_definite_lists_rejected(void **state) {
  (void)state;
  real_block r;
  load_block("blocks/pallas/byron2.block.hex", &r);
  const cdl_byron_body *b = &r.blk.body;
  expect_definite_rejected(&r, b->tx_payload_raw, b->n_txs);
  expect_definite_rejected(&r, b->dlg_payload_raw, 0);
  const cdl_byron_tx *tx = &b->txs[0].tx;
  cdl_span inputs = {tx->inputs[0].raw.ptr - 1, 0};
  inputs.len = (size_t)(tx->inputs[tx->n_inputs - 1].raw.ptr + tx->inputs[tx->n_inputs - 1].raw.len -
                        inputs.ptr) + 1;
  expect_definite_rejected(&r, inputs, tx->n_inputs);
  /* The votes list of the update payload [[], 9f ff]. */
  cdl_span votes = {b->upd_payload_raw.ptr + 2, 2};
  expect_definite_rejected(&r, votes, 0);
  free_block(&r);
}

/* Replaces |len| bytes at |at| of a copy of |r| with |with|. */
static int judge_spliced(const real_block *r, size_t at, size_t len, const char *with_hex,
                         cdl_error *err) {
  uint8_t with[16];
  size_t n = hex_to_bytes(with_hex, with, sizeof with);
  cdl_buf copy;
  cdl_buf_init(&copy, 0);
  cdl_buf_append(&copy, r->data.data, at);
  cdl_buf_append(&copy, with, n);
  cdl_buf_append(&copy, r->data.data + at + len, r->data.len - at - len);
  int rc = judge(copy.data, copy.len, err);
  cdl_buf_free(&copy);
  return rc;
}

/* The reference decoder's exact strictness on real blocks: a main block's
 * extra attributes must be empty (else its bytes could change under the
 * same hash), keys must be in their shortest encoding; an EBB's extra
 * attributes are dropped unchecked. */
static void test_reference_strictness(void **state) {
  (void)state;
  real_block r, e;
  cdl_error err;
  load_block("blocks/pallas/byron1.block.hex", &r);
  size_t extra = offset_of(&r, r.blk.extra_raw.ptr);
  assert_int_equal(judge_spliced(&r, extra, 2, "81a1004100", &err), CDL_E_RANGE);
  assert_int_equal(judge_spliced(&r, extra, 2, "81a0", &err), CDL_OK);
  size_t key = offset_of(&r, r.blk.header.leader_key) - 2;
  assert_int_equal(judge_spliced(&r, key, 2, "590040", &err), CDL_E_NONCANONICAL);
  size_t attrs = offset_of(&r, r.blk.header.attrs.raw.ptr);
  assert_int_equal(judge_spliced(&r, attrs, 1, "a1004100", &err), CDL_E_RANGE);
  free_block(&r);
  vec_read("blocks/daedalus-turbo/mainnet-block-0.cbor", &e.data);
  test_ctx_init(&e.t, 0);
  assert_int_equal(cdl_byron_block_decode(e.data.data, e.data.len, &e.t.ctx, &e.blk), CDL_OK);
  extra = offset_of(&e, e.blk.extra_raw.ptr);
  assert_int_equal(judge_spliced(&e, extra, 2, "81a201400140", &err), CDL_OK);
  free_block(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flipped_signature_body_header),
      cmocka_unit_test(test_flipped_ssc),
      cmocka_unit_test(test_every_flip_rejected),
      cmocka_unit_test(test_truncation_everywhere),
      cmocka_unit_test(test_trailing_garbage),
      cmocka_unit_test(test_definite_lists_rejected),
      cmocka_unit_test(test_reference_strictness),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
