/*
 * common.c: small Byron building blocks used across the codecs:
 * attributes (docs/byron.md 1.7), versions (1.2), fixed-width integers,
 * byte-string lists and list counting.
 */
#include <string.h>

#include "internal.h"

int byron_read_xpub(cdl_cbor_cursor *cur, const uint8_t **key, const char *what) {
  size_t at = cur->pos;
  cdl_span s;
  CDL_TRY(cdl_cbor_read_bytes_canonical(cur, &s, what));
  if (s.len != 64) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_RANGE, "%s: expected 64 bytes, found %zu", what, s.len);
  }
  *key = s.ptr;
  return CDL_OK;
}

int byron_read_u32(cdl_cbor_cursor *cur, uint32_t *out, const char *what) {
  uint64_t v;
  CDL_TRY(cdl_cbor_read_uint_max(cur, UINT32_MAX, &v, what));
  *out = (uint32_t)v;
  return CDL_OK;
}

int byron_read_u16(cdl_cbor_cursor *cur, uint16_t *out, const char *what) {
  uint64_t v;
  CDL_TRY(cdl_cbor_read_uint_max(cur, UINT16_MAX, &v, what));
  *out = (uint16_t)v;
  return CDL_OK;
}

int byron_read_u8(cdl_cbor_cursor *cur, uint8_t *out, const char *what) {
  uint64_t v;
  CDL_TRY(cdl_cbor_read_uint_max(cur, UINT8_MAX, &v, what));
  *out = (uint8_t)v;
  return CDL_OK;
}

void *byron_vec_push(cdl_arena *arena, byron_vec *v) {
  if (v->count == v->cap) {
    size_t cap = v->cap ? 2 * v->cap : 4;
    uint8_t *grown = cdl_arena_calloc(arena, cap, v->item_size);
    if (grown == NULL) return NULL;
    if (v->count) memcpy(grown, v->items, v->count * v->item_size);
    v->items = grown;
    v->cap = cap;
  }
  return v->items + v->count++ * v->item_size;
}

int byron_attrs_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, attrs_form form,
                     cdl_byron_attrs *attrs, const char *what) {
  size_t start = cur->pos, n;
  CDL_TRY(cdl_cbor_read_map(cur, &n, what));
  if (form == ATTRS_EMPTY && n != 0) {
    cur->pos = start;
    return cdl_cbor_fail(cur, CDL_E_RANGE, "%s: must be empty", what);
  }
  /* Each entry takes at least two bytes: bound n before allocating. */
  if (n > cdl_cbor_remaining(cur) / 2)
    return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "%s: map longer than the input", what);
  BYRON_ALLOC(ctx, cur, attrs->items, n);
  for (size_t i = 0; i < n; i++) {
    uint8_t key;
    CDL_TRY(byron_read_u8(cur, &key, what));
    if (form == ATTRS_ORDERED && i > 0 && key <= attrs->items[i - 1].key)
      return cdl_cbor_fail(cur, CDL_E_MAP_ORDER, "%s: keys not strictly ascending", what);
    attrs->items[i].key = key;
    CDL_TRY(cdl_cbor_read_bytes(cur, &attrs->items[i].value, what));
  }
  attrs->count = n;
  attrs->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

void cdl_byron_attrs_encode(cdl_buf *b, const cdl_byron_attrs *attrs) {
  cdl_cbor_enc_map(b, attrs->count);
  for (size_t i = 0; i < attrs->count; i++) {
    cdl_cbor_enc_uint(b, attrs->items[i].key);
    cdl_cbor_enc_bytes(b, attrs->items[i].value.ptr, attrs->items[i].value.len);
  }
}

int byron_read_list(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, byron_item_reader read,
                    size_t item_size, bool nonempty, void **items, size_t *count,
                    cdl_span *raw, const char *what) {
  size_t start = cur->pos;
  byron_vec v = {NULL, 0, 0, item_size};
  CDL_TRY(cdl_cbor_read_indef_array(cur, what));
  while (!cdl_cbor_at_break(cur)) {
    void *item = byron_vec_push(ctx->arena, &v);
    if (item == NULL) return cdl_cbor_fail(cur, CDL_E_NOMEM, "decoder memory bound reached");
    CDL_TRY(read(cur, ctx, item));
  }
  CDL_TRY(cdl_cbor_read_break(cur, what));
  if (nonempty && v.count == 0) {
    cur->pos = start;
    return cdl_cbor_fail(cur, CDL_E_RANGE, "%s: empty list", what);
  }
  *items = v.items;
  *count = v.count;
  if (raw != NULL) *raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

int byron_read_bytes_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  return cdl_cbor_read_bytes(cur, item, "list item");
}

int byron_bytes_list_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                          cdl_byron_bytes_list *list, const char *what) {
  return byron_read_list(cur, ctx, byron_read_bytes_item, sizeof(cdl_span), false,
                         (void **)&list->items, &list->count, NULL, what);
}

void byron_bytes_list_encode(cdl_buf *b, const cdl_byron_bytes_list *list) {
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < list->count; i++)
    cdl_cbor_enc_bytes(b, list->items[i].ptr, list->items[i].len);
  cdl_cbor_enc_break(b);
}

int byron_version_read(cdl_cbor_cursor *cur, cdl_byron_version *v) {
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "protocol version"));
  CDL_TRY(byron_read_u16(cur, &v->major, "protocol version major"));
  CDL_TRY(byron_read_u16(cur, &v->minor, "protocol version minor"));
  return byron_read_u8(cur, &v->alt, "protocol version alt");
}

void cdl_byron_version_encode(cdl_buf *b, const cdl_byron_version *v) {
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, v->major);
  cdl_cbor_enc_uint(b, v->minor);
  cdl_cbor_enc_uint(b, v->alt);
}

int byron_software_version_read(cdl_cbor_cursor *cur,
                                cdl_byron_software_version *sv) {
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "software version"));
  CDL_TRY(cdl_cbor_read_text(cur, &sv->app_name, "application name"));
  return byron_read_u32(cur, &sv->number, "software version number");
}

void byron_software_version_encode(cdl_buf *b,
                                   const cdl_byron_software_version *sv) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_text(b, sv->app_name.ptr, sv->app_name.len);
  cdl_cbor_enc_uint(b, sv->number);
}

void byron_header_hash(uint8_t tag, cdl_span header_raw, uint8_t out[32]) {
  uint8_t prefix[2] = {0x82, tag};
  cdl_blake2b h;
  cdl_blake2b_256_init(&h);
  cdl_blake2b_update(&h, prefix, 2);
  cdl_blake2b_update(&h, header_raw.ptr, header_raw.len);
  cdl_blake2b_256_final(&h, out);
}

void cdl_byron_header_hash(uint8_t tag, cdl_span header_raw, uint8_t out[32]) {
  byron_header_hash(tag, header_raw, out);
}

/* Blake2b-256 of the small encodings that nearly every block hashes: empty
 * payloads and proofs (docs/byron.md section 7, "hashes of empty or fixed
 * structures"). tests/unit/test_byron_hash.c checks each against libsodium. */
typedef struct {
  uint8_t len;
  uint8_t enc[4];
  uint8_t hash[32];
} known_hash;

static const known_hash KNOWN_HASHES[] = {
    {0, {0}, {0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e,
              0xb0, 0x60, 0x99, 0xda, 0xa1, 0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f,
              0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd, 0xf1, 0x2f, 0xe3, 0xa8}},
    {2, {0x9f, 0xff}, {0xaf, 0xc0, 0xda, 0x64, 0x18, 0x3b, 0xf2, 0x66, 0x4f, 0x3d,
                       0x4e, 0xec, 0x72, 0x38, 0xd5, 0x24, 0xba, 0x60, 0x7f, 0xae,
                       0xea, 0xb2, 0x4f, 0xc1, 0x00, 0xeb, 0x86, 0x1d, 0xba, 0x69,
                       0x97, 0x1b}},
    {4, {0x82, 0x80, 0x9f, 0xff}, {0x4e, 0x66, 0x28, 0x0c, 0xd9, 0x4d, 0x59, 0x10,
                                   0x72, 0x34, 0x9b, 0xec, 0x0a, 0x30, 0x90, 0xa5,
                                   0x3a, 0xa9, 0x45, 0x56, 0x2e, 0xfb, 0x6d, 0x08,
                                   0xd5, 0x6e, 0x53, 0x65, 0x4b, 0x0e, 0x40, 0x98}},
    {4, {0xd9, 0x01, 0x02, 0x80}, {0x25, 0x77, 0x7a, 0xca, 0x9e, 0x4a, 0x73, 0xd4,
                                   0x8f, 0xc7, 0x3b, 0x4f, 0x96, 0x1d, 0x34, 0x5b,
                                   0x06, 0xd4, 0xa6, 0xf3, 0x49, 0xcb, 0x79, 0x16,
                                   0x57, 0x0d, 0x35, 0x53, 0x7d, 0x53, 0x47, 0x9f}},
    {1, {0xa0}, {0xd3, 0x6a, 0x26, 0x19, 0xa6, 0x72, 0x49, 0x46, 0x04, 0xe1, 0x1b,
                 0xb4, 0x47, 0xcb, 0xcf, 0x52, 0x31, 0xe9, 0xf2, 0xba, 0x25, 0xc2,
                 0x16, 0x91, 0x77, 0xed, 0xc9, 0x41, 0xbd, 0x50, 0xad, 0x6c}},
    {2, {0x81, 0xa0}, {0x4b, 0xa9, 0x2a, 0xa3, 0x20, 0xc6, 0x0a, 0xcc, 0x9a, 0xd7,
                       0xb9, 0xa6, 0x4f, 0x2e, 0xda, 0x55, 0xc4, 0xd2, 0xec, 0x28,
                       0xe6, 0x04, 0xfa, 0xf1, 0x86, 0x70, 0x8b, 0x4f, 0x0c, 0x4e,
                       0x8e, 0xdf}},
};

void byron_hash(const uint8_t *data, size_t len, uint8_t out[32]) {
  if (len <= 4) {
    for (size_t i = 0; i < sizeof KNOWN_HASHES / sizeof KNOWN_HASHES[0]; i++) {
      const known_hash *k = &KNOWN_HASHES[i];
      if (k->len == len && (len == 0 || memcmp(k->enc, data, len) == 0)) {
        memcpy(out, k->hash, 32);
        return;
      }
    }
  }
  cdl_blake2b_256(out, data, len);
}

bool cdl_point_eq(const cdl_point *a, const cdl_point *b) {
  if (a->origin || b->origin) return a->origin == b->origin;
  return a->slot == b->slot && memcmp(a->hash, b->hash, 32) == 0;
}
