/*
 * test_cbor.c: the CBOR cursor and encoder (src/cbor): exact spans, 64-bit
 * integers, definite and indefinite items, tags, bounds and malformed input.
 */
#include <string.h>

#include "cardinal/cbor.h"
#include "support.h"

static void cursor_on(cdl_cbor_cursor *cur, const uint8_t *data, size_t len,
                      cdl_error *err) {
  cdl_error_clear(err);
  cdl_cbor_cursor_init(cur, data, len, err);
}

static void test_integers_64bit(void **state) {
  (void)state;
  static const uint8_t max_u64[] = {0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t min_i64[] = {0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t below_i64[] = {0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t non_minimal[] = {0x18, 0x05};
  cdl_cbor_cursor cur;
  cdl_error err;
  uint64_t u;
  int64_t i;
  cursor_on(&cur, max_u64, sizeof max_u64, &err);
  assert_int_equal(cdl_cbor_read_uint(&cur, &u, "x"), CDL_OK);
  assert_true(u == UINT64_MAX);
  assert_int_equal(cdl_cbor_expect_end(&cur, "x"), CDL_OK);
  cursor_on(&cur, min_i64, sizeof min_i64, &err);
  assert_int_equal(cdl_cbor_read_int64(&cur, &i, "x"), CDL_OK);
  assert_true(i == INT64_MIN);
  cursor_on(&cur, below_i64, sizeof below_i64, &err);
  assert_int_equal(cdl_cbor_read_int64(&cur, &i, "x"), CDL_E_RANGE);
  /* Non-minimal heads decode, as in the reference (cborg) decoder. */
  cursor_on(&cur, non_minimal, sizeof non_minimal, &err);
  assert_int_equal(cdl_cbor_read_uint(&cur, &u, "x"), CDL_OK);
  assert_int_equal(u, 5);
  cursor_on(&cur, max_u64, sizeof max_u64, &err);
  assert_int_equal(cdl_cbor_read_uint_max(&cur, UINT32_MAX, &u, "x"), CDL_E_RANGE);
  assert_int_equal(cur.pos, 0); /* a failed read does not move the cursor */
}

static void test_strings(void **state) {
  (void)state;
  static const uint8_t bytes[] = {0x43, 1, 2, 3};
  static const uint8_t text[] = {0x62, 'h', 'i'};
  static const uint8_t indef_bytes[] = {0x5f, 0x41, 0x01, 0x42, 0x02, 0x03, 0xff};
  static const uint8_t bad_chunk[] = {0x5f, 0x61, 'a', 0xff};
  cdl_cbor_cursor cur;
  cdl_error err;
  cdl_span s;
  cursor_on(&cur, bytes, sizeof bytes, &err);
  assert_int_equal(cdl_cbor_read_bytes(&cur, &s, "b"), CDL_OK);
  assert_int_equal(s.len, 3);
  assert_ptr_equal(s.ptr, bytes + 1);
  cursor_on(&cur, text, sizeof text, &err);
  assert_int_equal(cdl_cbor_read_text(&cur, &s, "t"), CDL_OK);
  assert_memory_equal(s.ptr, "hi", 2);
  /* Indefinite byte strings are skipped whole but not read as bytes. */
  cursor_on(&cur, indef_bytes, sizeof indef_bytes, &err);
  assert_int_equal(cdl_cbor_read_bytes(&cur, &s, "b"), CDL_E_TYPE);
  assert_int_equal(cdl_cbor_skip(&cur, &s), CDL_OK);
  assert_int_equal(s.len, sizeof indef_bytes);
  cursor_on(&cur, bad_chunk, sizeof bad_chunk, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_CBOR);
}

static void test_arrays_and_maps(void **state) {
  (void)state;
  static const uint8_t def[] = {0x83, 0x01, 0x02, 0x03};
  static const uint8_t indef[] = {0x9f, 0x01, 0x82, 0x02, 0x03, 0xff};
  static const uint8_t map[] = {0xa2, 0x01, 0x02, 0x03, 0x9f, 0xff};
  static const uint8_t indef_map[] = {0xbf, 0x01, 0x02, 0xff};
  static const uint8_t odd_map[] = {0xbf, 0x01, 0xff};
  cdl_cbor_cursor cur;
  cdl_error err;
  cdl_span s;
  size_t n;
  cursor_on(&cur, def, sizeof def, &err);
  assert_int_equal(cdl_cbor_read_indef_array(&cur, "a"), CDL_E_LIST_FORM);
  assert_int_equal(cdl_cbor_read_array(&cur, &n, "a"), CDL_OK);
  assert_int_equal(n, 3);
  cursor_on(&cur, indef, sizeof indef, &err);
  assert_int_equal(cdl_cbor_read_array(&cur, &n, "a"), CDL_E_LIST_FORM);
  assert_int_equal(cdl_cbor_skip(&cur, &s), CDL_OK);
  assert_int_equal(s.len, sizeof indef);
  cursor_on(&cur, map, sizeof map, &err);
  assert_int_equal(cdl_cbor_skip(&cur, &s), CDL_OK);
  assert_int_equal(s.len, sizeof map);
  cursor_on(&cur, map, sizeof map, &err);
  assert_int_equal(cdl_cbor_read_map(&cur, &n, "m"), CDL_OK);
  assert_int_equal(n, 2);
  cursor_on(&cur, indef_map, sizeof indef_map, &err);
  assert_int_equal(cdl_cbor_read_map(&cur, &n, "m"), CDL_E_LIST_FORM);
  assert_int_equal(cdl_cbor_skip(&cur, &s), CDL_OK);
  cursor_on(&cur, odd_map, sizeof odd_map, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_CBOR);
}

static void test_tag24_and_offsets(void **state) {
  (void)state;
  static const uint8_t data[] = {0x82, 0x00, 0xd8, 0x18, 0x43, 0x82, 0x01, 0x41};
  cdl_cbor_cursor cur, inner;
  cdl_error err;
  cdl_span payload;
  uint64_t v;
  cursor_on(&cur, data, sizeof data, &err);
  assert_int_equal(cdl_cbor_expect_array(&cur, 2, "p"), CDL_OK);
  assert_int_equal(cdl_cbor_read_uint(&cur, &v, "p"), CDL_OK);
  assert_int_equal(cdl_cbor_read_tag24(&cur, &payload, "p"), CDL_OK);
  assert_int_equal(payload.len, 3);
  cdl_cbor_cursor_sub(&inner, &cur, payload);
  assert_int_equal(cdl_cbor_expect_array(&inner, 2, "inner"), CDL_OK);
  assert_int_equal(cdl_cbor_read_uint(&inner, &v, "inner"), CDL_OK);
  /* 0x41 is a one-byte string whose byte is missing: the error offset is
   * reported within the outer input. */
  cdl_span s;
  assert_int_equal(cdl_cbor_read_bytes(&inner, &s, "inner"), CDL_E_TRUNCATED);
  assert_int_equal(err.offset, 7);
}

/* Every well-formed head decodes; every malformed one is refused (RFC 8949
 * section 3: additional information 28-30, indefinite ints and tags, and
 * 0xf8 with a value below 32). Covers heads libcbor 0.8 alone refuses. */
static void test_all_heads(void **state) {
  (void)state;
  for (unsigned b = 0; b < 256; b++) {
    uint8_t buf[10] = {(uint8_t)b, 0x20, 0, 0, 0, 0, 0, 0, 0, 0};
    unsigned major = b >> 5, ai = b & 31;
    bool malformed = (ai >= 28 && ai <= 30) || (ai == 31 && (major <= 1 || major == 6));
    cdl_cbor_cursor cur;
    cdl_cbor_head h;
    cdl_error err;
    cursor_on(&cur, buf, sizeof buf, &err);
    int rc = cdl_cbor_peek(&cur, &h);
    /* Long strings run past the buffer: truncated, but well-formed. */
    if (malformed != (rc == CDL_E_CBOR)) fail_msg("head 0x%02x: rc %d", b, rc);
    if (rc == CDL_OK && b != 0xff) assert_int_equal(h.major, major);
  }
  static const uint8_t short_tag[] = {0xc7, 0x80}, simple_low[] = {0xf8, 0x10};
  cdl_cbor_cursor cur;
  cdl_error err;
  cdl_span s;
  cursor_on(&cur, short_tag, sizeof short_tag, &err);
  assert_int_equal(cdl_cbor_skip(&cur, &s), CDL_OK);
  assert_int_equal(s.len, 2);
  cursor_on(&cur, simple_low, sizeof simple_low, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_CBOR);
}

static void test_depth_bound(void **state) {
  (void)state;
  uint8_t nested[300];
  cdl_cbor_cursor cur;
  cdl_error err;
  memset(nested, 0x81, sizeof nested);
  nested[sizeof nested - 1] = 0x00;
  cursor_on(&cur, nested, sizeof nested, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_DEPTH);
  /* 64 levels are fine. */
  cursor_on(&cur, nested + sizeof nested - 65, 65, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_OK);
}

static void test_malformed(void **state) {
  (void)state;
  static const uint8_t truncated_bytes[] = {0x58, 0x20, 1, 2, 3};
  static const uint8_t no_break[] = {0x9f, 0x01};
  static const uint8_t reserved[] = {0x1c};
  static const uint8_t lone_break[] = {0xff};
  static const uint8_t huge_array[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t huge_bytes[] = {0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t trailing[] = {0x01, 0x02};
  cdl_cbor_cursor cur;
  cdl_error err;
  uint64_t v;
  cursor_on(&cur, truncated_bytes, sizeof truncated_bytes, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_TRUNCATED);
  assert_string_equal(cdl_error_name(err.code), "cbor.truncated");
  cursor_on(&cur, no_break, sizeof no_break, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_TRUNCATED);
  cursor_on(&cur, reserved, sizeof reserved, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_CBOR);
  cursor_on(&cur, lone_break, sizeof lone_break, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_CBOR);
  cursor_on(&cur, huge_array, sizeof huge_array, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_TRUNCATED);
  cursor_on(&cur, huge_bytes, sizeof huge_bytes, &err);
  assert_int_equal(cdl_cbor_skip(&cur, NULL), CDL_E_TRUNCATED);
  /* A definite array claiming 2^64-1 items is not an indefinite one. */
  cursor_on(&cur, huge_array, sizeof huge_array, &err);
  assert_int_equal(cdl_cbor_read_indef_array(&cur, "x"), CDL_E_LIST_FORM);
  cursor_on(&cur, trailing, sizeof trailing, &err);
  assert_int_equal(cdl_cbor_read_uint(&cur, &v, "x"), CDL_OK);
  assert_int_equal(cdl_cbor_expect_end(&cur, "x"), CDL_E_TRAILING);
  assert_string_equal(cdl_error_name(err.code), "cbor.trailing_bytes");
}

static void expect_encoding(void (*enc)(cdl_buf *, uint64_t), uint64_t v,
                            const char *hex) {
  cdl_buf b;
  uint8_t want[16];
  size_t n = hex_to_bytes(hex, want, sizeof want);
  cdl_buf_init(&b, 0);
  enc(&b, v);
  assert_int_equal(cdl_cbor_enc_status(&b), CDL_OK);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, want, n);
  cdl_buf_free(&b);
}

static void enc_uint(cdl_buf *b, uint64_t v) { cdl_cbor_enc_uint(b, v); }
static void enc_neg(cdl_buf *b, uint64_t v) { cdl_cbor_enc_int(b, -(int64_t)v); }
static void enc_array(cdl_buf *b, uint64_t v) { cdl_cbor_enc_array(b, (size_t)v); }
static void enc_tag(cdl_buf *b, uint64_t v) { cdl_cbor_enc_tag(b, v); }

static void test_encoder_shortest_heads(void **state) {
  (void)state;
  expect_encoding(enc_uint, 23, "17");
  expect_encoding(enc_uint, 24, "1818");
  expect_encoding(enc_uint, 255, "18ff");
  expect_encoding(enc_uint, 256, "190100");
  expect_encoding(enc_uint, 65536, "1a00010000");
  expect_encoding(enc_uint, 764824073, "1a2d964a09");
  expect_encoding(enc_uint, 4294967296ull, "1b0000000100000000");
  expect_encoding(enc_uint, UINT64_MAX, "1bffffffffffffffff");
  expect_encoding(enc_neg, 1, "20");
  expect_encoding(enc_neg, 500, "3901f3");
  expect_encoding(enc_array, 5, "85");
  expect_encoding(enc_array, 30, "981e");
  expect_encoding(enc_tag, 24, "d818");
  expect_encoding(enc_tag, 258, "d90102");
}

static void test_encoder_round_trip(void **state) {
  (void)state;
  cdl_buf b;
  cdl_cbor_cursor cur;
  cdl_error err;
  cdl_buf_init(&b, 0);
  cdl_cbor_enc_array(&b, 3);
  cdl_cbor_enc_indef_array(&b);
  cdl_cbor_enc_bytes(&b, (const uint8_t *)"abc", 3);
  cdl_cbor_enc_break(&b);
  cdl_cbor_enc_map(&b, 1);
  cdl_cbor_enc_text(&b, (const uint8_t *)"k", 1);
  cdl_cbor_enc_bool(&b, true);
  cdl_cbor_enc_int(&b, INT64_MIN);
  assert_int_equal(cdl_cbor_enc_status(&b), CDL_OK);
  uint8_t want[32];
  size_t n = hex_to_bytes("839f43616263ffa1616bf53b7fffffffffffffff", want, sizeof want);
  assert_int_equal(b.len, n);
  assert_memory_equal(b.data, want, n);
  cursor_on(&cur, b.data, b.len, &err);
  cdl_span s;
  assert_int_equal(cdl_cbor_skip(&cur, &s), CDL_OK);
  assert_int_equal(s.len, b.len);
  cdl_buf_free(&b);
}

static void test_encoder_bound(void **state) {
  (void)state;
  uint8_t storage[4];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  cdl_cbor_enc_bytes(&b, (const uint8_t *)"too long", 8);
  assert_int_equal(cdl_cbor_enc_status(&b), CDL_E_NOMEM);
  cdl_cbor_enc_uint(&b, 1); /* sticky: later appends do nothing */
  assert_true(b.len <= sizeof storage);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_integers_64bit),      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_arrays_and_maps),     cmocka_unit_test(test_tag24_and_offsets),
      cmocka_unit_test(test_all_heads),
      cmocka_unit_test(test_depth_bound),         cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_encoder_shortest_heads),
      cmocka_unit_test(test_encoder_round_trip),  cmocka_unit_test(test_encoder_bound),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
