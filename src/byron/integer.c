/*
 * integer.c: CBOR Integers (docs/byron.md 1.10: the fee policy of an update
 * proposal holds two of them, in nano-lovelace) and the exact rule the
 * reference applies to the fee summand when it decodes one:
 *   a = mkLovelace (round (n / 10^9) :: Word64)
 * i.e. round half to even, wrap to 64 bits, then require a <= 45e15.
 */
#include "internal.h"

#define NANO 1000000000ull

int byron_integer_read(cdl_cbor_cursor *cur, cdl_byron_integer *n, const char *what) {
  cdl_cbor_head h;
  *n = (cdl_byron_integer){0};
  CDL_TRY(cdl_cbor_peek(cur, &h));
  if (h.major == CDL_CBOR_UINT || h.major == CDL_CBOR_NEGINT) {
    n->negative = h.major == CDL_CBOR_NEGINT;
    n->small = h.value;
    cur->pos += h.size;
    return CDL_OK;
  }
  if (h.major != CDL_CBOR_TAG || (h.value != 2 && h.value != 3))
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected an integer", what);
  cur->pos += h.size;
  n->negative = h.value == 3;
  n->is_bignum = true;
  return cdl_cbor_read_bytes(cur, &n->big, what);
}

void byron_integer_encode(cdl_buf *b, const cdl_byron_integer *n) {
  if (n->is_bignum) {
    cdl_cbor_enc_tag(b, n->negative ? 3 : 2);
    cdl_cbor_enc_bytes(b, n->big.ptr, n->big.len);
  } else if (n->negative) {
    cdl_cbor_enc_negint(b, n->small);
  } else {
    cdl_cbor_enc_uint(b, n->small);
  }
}

/* The magnitude divided by 10^9: quotient modulo 2^64 and remainder. */
static void divide_nano(const cdl_byron_integer *n, uint64_t *q, uint64_t *r) {
  *q = 0;
  *r = 0;
  if (!n->is_bignum) {
    *q = n->small / NANO;
    *r = n->small % NANO;
    return;
  }
  for (size_t i = 0; i < n->big.len; i++) {
    uint64_t acc = *r * 256 + n->big.ptr[i]; /* < 2^38: no overflow */
    *q = *q * 256 + acc / NANO;             /* wraps modulo 2^64, as Word64 */
    *r = acc % NANO;
  }
}

bool cdl_byron_fee_summand_lovelace(const cdl_byron_integer *n, uint64_t *lovelace) {
  uint64_t q, r;
  divide_nano(n, &q, &r);
  if (n->negative) { /* value = -(magnitude + 1) */
    if (++r == NANO) {
      r = 0;
      q++;
    }
  }
  /* Round half to even (Haskell's round); symmetric for negatives. */
  if (2 * r > NANO || (2 * r == NANO && (q & 1))) q++;
  *lovelace = n->negative ? (uint64_t)0 - q : q; /* wrap as Word64 */
  return *lovelace <= CDL_BYRON_MAX_LOVELACE;
}

bool byron_fee_summand_ok(const cdl_byron_integer *n) {
  uint64_t lovelace;
  return cdl_byron_fee_summand_lovelace(n, &lovelace);
}

bool cdl_byron_integer_to_i64(const cdl_byron_integer *n, int64_t *out) {
  if (n->is_bignum) {
    size_t lead = 0;
    while (lead < n->big.len && n->big.ptr[lead] == 0) lead++;
    if (n->big.len - lead > 8) return false;
    uint64_t m = 0;
    for (size_t i = lead; i < n->big.len; i++) m = m << 8 | n->big.ptr[i];
    if (m > (uint64_t)INT64_MAX) return false;
    *out = n->negative ? -1 - (int64_t)m : (int64_t)m;
    return true;
  }
  if (n->small > (uint64_t)INT64_MAX) return false;
  *out = n->negative ? -1 - (int64_t)n->small : (int64_t)n->small;
  return true;
}
