/*
 * encoder.c: CBOR encoding into a bounded cdl_buf, using libcbor's head
 * encoders (RFC 8949 section 3). Heads are always in their shortest form,
 * which is how the reference encoders write every Byron item.
 */
#include <cbor.h>
#include <string.h>

#include "cardinal/cbor.h"

#define HEAD_MAX 9

typedef size_t (*head_encoder)(uint64_t, unsigned char *, size_t);

static void put_head(cdl_buf *b, head_encoder enc, uint64_t v) {
  unsigned char head[HEAD_MAX];
  size_t n = enc(v, head, sizeof head);
  CDL_ASSERT(n > 0);
  cdl_buf_append(b, head, n);
}

static size_t enc_uint(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_uint(v, o, n);
}
static size_t enc_negint(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_negint(v, o, n);
}
static size_t enc_bytes(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_bytestring_start((size_t)v, o, n);
}
static size_t enc_text(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_string_start((size_t)v, o, n);
}
static size_t enc_array(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_array_start((size_t)v, o, n);
}
static size_t enc_map(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_map_start((size_t)v, o, n);
}
static size_t enc_tag(uint64_t v, unsigned char *o, size_t n) {
  return cbor_encode_tag(v, o, n);
}

void cdl_cbor_enc_uint(cdl_buf *b, uint64_t v) { put_head(b, enc_uint, v); }

void cdl_cbor_enc_negint(cdl_buf *b, uint64_t arg) { put_head(b, enc_negint, arg); }

void cdl_cbor_enc_int(cdl_buf *b, int64_t v) {
  if (v >= 0)
    put_head(b, enc_uint, (uint64_t)v);
  else
    put_head(b, enc_negint, (uint64_t)(-1 - v));
}

void cdl_cbor_enc_bytes(cdl_buf *b, const uint8_t *data, size_t len) {
  put_head(b, enc_bytes, len);
  cdl_buf_append(b, data, len);
}

void cdl_cbor_enc_text(cdl_buf *b, const uint8_t *data, size_t len) {
  put_head(b, enc_text, len);
  cdl_buf_append(b, data, len);
}

void cdl_cbor_enc_array(cdl_buf *b, size_t n) { put_head(b, enc_array, n); }
void cdl_cbor_enc_map(cdl_buf *b, size_t n) { put_head(b, enc_map, n); }
void cdl_cbor_enc_tag(cdl_buf *b, uint64_t tag) { put_head(b, enc_tag, tag); }

void cdl_cbor_enc_indef_array(cdl_buf *b) {
  unsigned char head[1];
  CDL_ASSERT(cbor_encode_indef_array_start(head, sizeof head) == 1);
  cdl_buf_append(b, head, 1);
}

void cdl_cbor_enc_break(cdl_buf *b) {
  unsigned char head[1];
  CDL_ASSERT(cbor_encode_break(head, sizeof head) == 1);
  cdl_buf_append(b, head, 1);
}

void cdl_cbor_enc_bool(cdl_buf *b, bool v) {
  unsigned char head[1];
  CDL_ASSERT(cbor_encode_bool(v, head, sizeof head) == 1);
  cdl_buf_append(b, head, 1);
}
void cdl_cbor_enc_raw(cdl_buf *b, cdl_span raw) {
  cdl_buf_append(b, raw.ptr, raw.len);
}

size_t cdl_cbor_enc_wrap_bytes(cdl_buf *b, size_t start) {
  if (b->failed) return start;
  CDL_ASSERT(start <= b->len);
  size_t len = b->len - start;
  unsigned char head[HEAD_MAX];
  size_t n = enc_bytes(len, head, sizeof head);
  CDL_ASSERT(n > 0);
  if (cdl_buf_reserve(b, n) != CDL_OK) {
    b->failed = true; /* sticky, as an append's */
    return start;
  }
  memmove(b->data + start + n, b->data + start, len);
  memcpy(b->data + start, head, n);
  b->len += n;
  return start + n;
}

int cdl_cbor_enc_status(const cdl_buf *b) {
  return b->failed ? CDL_E_NOMEM : CDL_OK;
}
