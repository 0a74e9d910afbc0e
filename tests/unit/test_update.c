/*
 * test_update.c: the update payload's decode-time rules (docs/byron.md
 * 1.10), on variants of the real preprod proposal: thresholds are
 * LovelacePortions (at most 10^15), the fee policy holds CBOR Integers
 * whose summand must round (half to even, wrapped to Word64) to at most
 * 45e15 lovelace, attributes must be empty, text must be UTF-8.
 */
#include <string.h>

#include "support.h"

typedef struct {
  cdl_buf data;
  test_ctx t;
  cdl_byron_block blk;
} preprod_block;

static void load(preprod_block *b) {
  vec_read_hex("blocks/pallas/byron8.block.hex", &b->data);
  test_ctx_init(&b->t, 0);
  assert_int_equal(cdl_byron_block_decode(b->data.data, b->data.len, &b->t.ctx, &b->blk), CDL_OK);
}

static void release(preprod_block *b) {
  cdl_buf_free(&b->data);
  test_ctx_free(&b->t);
}

/* Encodes |p| and decodes it again; returns the decode result. */
static int reencode(const cdl_byron_proposal *p, cdl_byron_proposal *out, test_ctx *t) {
  cdl_buf enc;
  cdl_cbor_cursor cur;
  cdl_buf_init(&enc, 0);
  cdl_byron_proposal_encode(&enc, p);
  assert_int_equal(cdl_cbor_enc_status(&enc), CDL_OK);
  /* The bytes must outlive |out|: keep them in the arena. */
  uint8_t *copy = cdl_arena_alloc(&t->arena, enc.len);
  memcpy(copy, enc.data, enc.len);
  cdl_cbor_cursor_init(&cur, copy, enc.len, &t->err);
  cdl_error_clear(&t->err);
  int rc = cdl_byron_proposal_read(&cur, &t->ctx, out);
  cdl_buf_free(&enc);
  return rc;
}

static cdl_byron_integer small_int(bool negative, uint64_t magnitude) {
  cdl_byron_integer n = {negative, false, magnitude, {NULL, 0}};
  return n;
}

static cdl_byron_integer big_int(bool negative, const char *hex, uint8_t *storage) {
  size_t len = hex_to_bytes(hex, storage, 32);
  cdl_byron_integer n = {negative, true, 0, {storage, len}};
  return n;
}

static int with_summand(preprod_block *b, cdl_byron_integer summand) {
  cdl_byron_proposal p = *b->blk.body.proposal, out;
  p.params.has_fee_policy = true;
  p.params.fee_summand_nano = summand;
  p.params.fee_multiplier_nano = small_int(false, 43946000000ull);
  int rc = reencode(&p, &out, &b->t);
  if (rc == CDL_OK) assert_true(out.params.has_fee_policy);
  return rc;
}

static void test_fee_summand_rule(void **state) {
  (void)state;
  preprod_block b;
  uint8_t big[32];
  load(&b);
  assert_int_equal(with_summand(&b, small_int(false, 155381000000000ull)), CDL_OK);
  /* -0.4 lovelace rounds to 0; -0.6 rounds to -1, which wraps past 45e15 */
  assert_int_equal(with_summand(&b, small_int(true, 400000000 - 1)), CDL_OK);
  assert_int_equal(with_summand(&b, small_int(true, 600000000 - 1)), CDL_E_RANGE);
  /* 45e15 + 0.5 lovelace rounds half to even (down); + 0.6 goes over */
  assert_int_equal(with_summand(&b, big_int(false, "25391ee35a05c54d000000", big)), CDL_OK);
  assert_int_equal(with_summand(&b, big_int(false, "25391ee35a05c56acd6500", big)), CDL_OK);
  assert_int_equal(with_summand(&b, big_int(false, "25391ee35a05c570c34600", big)), CDL_E_RANGE);
  /* 2^64 lovelace wraps to 0 as a Word64: the reference accepts it */
  assert_int_equal(with_summand(&b, big_int(false, "3b9aca000000000000000000", big)), CDL_OK);
  release(&b);
}

static void test_fee_multiplier_any_integer(void **state) {
  (void)state;
  preprod_block b;
  uint8_t big[32];
  load(&b);
  cdl_byron_proposal p = *b.blk.body.proposal, out;
  p.params.has_fee_policy = true;
  p.params.fee_summand_nano = small_int(false, 0);
  p.params.fee_multiplier_nano = big_int(false, "400000000000000000", big); /* 2^70 */
  assert_int_equal(reencode(&p, &out, &b.t), CDL_OK);
  assert_true(out.params.fee_multiplier_nano.is_bignum);
  int64_t v;
  assert_false(cdl_byron_integer_to_i64(&out.params.fee_multiplier_nano, &v));
  p.params.fee_multiplier_nano = small_int(true, 9); /* -10 */
  assert_int_equal(reencode(&p, &out, &b.t), CDL_OK);
  assert_true(cdl_byron_integer_to_i64(&out.params.fee_multiplier_nano, &v) && v == -10);
  release(&b);
}

static void test_thresholds_are_portions(void **state) {
  (void)state;
  preprod_block b;
  load(&b);
  cdl_byron_proposal p = *b.blk.body.proposal, out;
  p.params.scalar[CDL_BYRON_PP_UPDATE_VOTE_THD] =
      (cdl_byron_opt_u64){true, CDL_BYRON_PORTION_DENOMINATOR, false, {NULL, 0}};
  assert_int_equal(reencode(&p, &out, &b.t), CDL_OK);
  assert_true(out.params.scalar[CDL_BYRON_PP_UPDATE_VOTE_THD].value == CDL_BYRON_PORTION_DENOMINATOR);
  p.params.scalar[CDL_BYRON_PP_UPDATE_VOTE_THD].value++;
  assert_int_equal(reencode(&p, &out, &b.t), CDL_E_RANGE);
  p = *b.blk.body.proposal;
  p.params.has_softfork_rule = true;
  p.params.softfork_init = 900000000000000ull;
  p.params.softfork_min = CDL_BYRON_PORTION_DENOMINATOR + 1;
  assert_int_equal(reencode(&p, &out, &b.t), CDL_E_RANGE);
  p.params.softfork_min = 600000000000000ull;
  assert_int_equal(reencode(&p, &out, &b.t), CDL_OK);
  /* Natural fields accept bignums (tag 2). */
  uint8_t big[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0};
  p.params.scalar[CDL_BYRON_PP_MAX_BLOCK_SIZE] = (cdl_byron_opt_u64){true, UINT64_MAX, true, {big, 9}};
  assert_int_equal(reencode(&p, &out, &b.t), CDL_OK);
  assert_true(out.params.scalar[CDL_BYRON_PP_MAX_BLOCK_SIZE].is_bignum);
  release(&b);
}

static void test_attributes_and_text(void **state) {
  (void)state;
  preprod_block b;
  load(&b);
  cdl_byron_proposal p = *b.blk.body.proposal, out;
  cdl_byron_attr extra = {0, {(const uint8_t *)"", 0}};
  p.attrs.items = &extra;
  p.attrs.count = 1;
  assert_int_equal(reencode(&p, &out, &b.t), CDL_E_RANGE); /* dropEmptyAttributes */
  p = *b.blk.body.proposal;
  p.software_version.app_name = cdl_span_of((const uint8_t *)"cardano\xff", 8);
  assert_int_equal(reencode(&p, &out, &b.t), CDL_E_UTF8);
  p.software_version.app_name = cdl_span_of((const uint8_t *)"caf\xc3\xa9", 5);
  assert_int_equal(reencode(&p, &out, &b.t), CDL_OK);
  p.software_version.app_name = cdl_span_of((const uint8_t *)"\xc0\xaf", 2); /* overlong */
  assert_int_equal(reencode(&p, &out, &b.t), CDL_E_UTF8);
  p.software_version.app_name = cdl_span_of((const uint8_t *)"\xed\xa0\x80", 3); /* surrogate */
  assert_int_equal(reencode(&p, &out, &b.t), CDL_E_UTF8);
  release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fee_summand_rule),
      cmocka_unit_test(test_fee_multiplier_any_integer),
      cmocka_unit_test(test_thresholds_are_portions),
      cmocka_unit_test(test_attributes_and_text),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
