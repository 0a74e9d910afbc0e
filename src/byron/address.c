/*
 * address.c: Byron addresses (docs/byron.md section 1.6):
 *   address = [24(bytes .cbor [root, attributes, type]), crc32]
 * the CRC over the tag-24 payload, attribute 1 (HD payload) and 2 (network
 * magic), the root hash, Base58 text, and redeem-address construction.
 */
#include <string.h>

#include "internal.h"

#define ADDRESS_MAX_BYTES 4096 /* far above any real address */

/* Attribute values are themselves CBOR: 1 holds a byte string, 2 a uint32,
 * each in its shortest form (decodeBytesCanonical, decodeWord32Canonical). */
static int read_known_attrs(cdl_cbor_cursor *outer, cdl_byron_ctx *ctx,
                            cdl_byron_address *addr) {
  bool strict = !(ctx->flags & CDL_BYRON_LEGACY);
  for (size_t i = 0; i < addr->attrs.count; i++) {
    const cdl_byron_attr *a = &addr->attrs.items[i];
    cdl_cbor_cursor cur;
    uint64_t magic;
    cdl_cbor_cursor_sub(&cur, outer, a->value);
    if (a->key == 1) {
      CDL_TRY(strict ? cdl_cbor_read_bytes_canonical(&cur, &addr->hd_payload, "address HD payload")
                     : cdl_cbor_read_bytes(&cur, &addr->hd_payload, "address HD payload"));
      CDL_TRY(cdl_cbor_expect_end(&cur, "address HD payload"));
      addr->has_hd_payload = true;
    } else if (a->key == 2) {
      CDL_TRY(strict
                  ? cdl_cbor_read_uint_canonical(&cur, UINT32_MAX, &magic, "address network magic")
                  : cdl_cbor_read_uint_max(&cur, UINT32_MAX, &magic, "address network magic"));
      CDL_TRY(cdl_cbor_expect_end(&cur, "address network magic"));
      addr->network_magic = (uint32_t)magic;
      addr->has_network_magic = true;
    } else {
      addr->unknown_attr_bytes += a->value.len;
    }
  }
  return CDL_OK;
}

/* The ledger decoder reads the type with decodeWord8Canonical and knows
 * only 0 (public key) and 2 (redeem); cardano-sl also had 1 (script) and
 * kept unknown types, which CDL_BYRON_LEGACY shows. */
static int read_type(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, uint64_t *type) {
  if (ctx->flags & CDL_BYRON_LEGACY) return cdl_cbor_read_uint_max(cur, UINT8_MAX, type, "address type");
  size_t at = cur->pos;
  CDL_TRY(cdl_cbor_read_uint_canonical(cur, UINT8_MAX, type, "address type"));
  if (*type != CDL_BYRON_ADDR_PUBKEY && *type != CDL_BYRON_ADDR_REDEEM) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_TAG, "address type %llu is not accepted by the ledger",
                         (unsigned long long)*type);
  }
  return CDL_OK;
}

static int read_payload(cdl_cbor_cursor *outer, cdl_byron_ctx *ctx,
                        cdl_byron_address *addr) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_sub(&cur, outer, addr->payload);
  CDL_TRY(cdl_cbor_expect_array(&cur, 3, "address payload"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(&cur, 28, &addr->root, "address root"));
  CDL_TRY(byron_attrs_read(&cur, ctx, ATTRS_ORDERED, &addr->attrs, "address attributes"));
  CDL_TRY(read_known_attrs(&cur, ctx, addr));
  CDL_TRY(read_type(&cur, ctx, &addr->type));
  return cdl_cbor_expect_end(&cur, "address payload");
}

int cdl_byron_address_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                           cdl_byron_address *addr) {
  memset(addr, 0, sizeof *addr);
  size_t start = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "address"));
  CDL_TRY(cdl_cbor_read_tag24(cur, &addr->payload, "address payload"));
  CDL_TRY(byron_read_u32(cur, &addr->crc, "address CRC"));
  addr->raw = cdl_cbor_span_since(cur, start);
  uint32_t crc = cdl_crc32(addr->payload.ptr, addr->payload.len);
  if (crc != addr->crc)
    return cdl_error_set(ctx->err, CDL_E_CRC, cdl_cbor_offset(cur),
                         "address CRC32 is %08x, the payload's is %08x",
                         addr->crc, crc);
  return read_payload(cur, ctx, addr);
}

int cdl_byron_address_decode(const uint8_t *data, size_t len,
                             cdl_byron_ctx *ctx, cdl_byron_address *addr) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data, len, ctx->err);
  CDL_TRY(cdl_byron_address_read(&cur, ctx, addr));
  return cdl_cbor_expect_end(&cur, "address");
}

int cdl_byron_address_from_base58(const char *text, cdl_buf *out_bytes,
                                  cdl_byron_ctx *ctx, cdl_byron_address *addr) {
  size_t text_len = strlen(text), n = 0;
  if (cdl_buf_reserve(out_bytes, ADDRESS_MAX_BYTES) != CDL_OK)
    return cdl_error_set(ctx->err, CDL_E_NOMEM, 0, "out of memory decoding an address");
  uint8_t *dst = out_bytes->data + out_bytes->len;
  CDL_TRY(cdl_base58_decode(text, text_len, dst, ADDRESS_MAX_BYTES, &n, ctx->err));
  out_bytes->len += n;
  return cdl_byron_address_decode(dst, n, ctx, addr);
}

size_t cdl_byron_address_to_base58(cdl_span raw, char *out, size_t out_cap) {
  return cdl_base58_encode(raw.ptr, raw.len, out, out_cap);
}

/* The payload is written in place and wrapped after: no buffer of its
 * own, whose allocation could fail apart from |b|'s (and every output of
 * every tx the ledger applies is encoded here, for its tx id). */
void cdl_byron_address_encode(cdl_buf *b, const cdl_byron_address *addr) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_tag(b, 24);
  size_t start = b->len;
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_bytes(b, addr->root, 28);
  cdl_byron_attrs_encode(b, &addr->attrs);
  cdl_cbor_enc_uint(b, addr->type);
  start = cdl_cbor_enc_wrap_bytes(b, start);
  if (b->failed) return;
  cdl_cbor_enc_uint(b, cdl_crc32(b->data + start, b->len - start));
}

int cdl_byron_address_root(uint64_t type, const uint8_t *key, size_t key_len,
                           cdl_span attrs_raw, uint8_t root[28]) {
  uint8_t buf[160];
  cdl_buf b;
  cdl_buf_init_fixed(&b, buf, sizeof buf);
  cdl_cbor_enc_array(&b, 3);
  cdl_cbor_enc_uint(&b, type);
  cdl_cbor_enc_array(&b, 2);
  cdl_cbor_enc_uint(&b, type);
  cdl_cbor_enc_bytes(&b, key, key_len);
  /* Large attribute maps do not fit the stack buffer: hash via the heap. */
  if (b.len + attrs_raw.len > sizeof buf) {
    cdl_buf heap;
    cdl_buf_init(&heap, 0);
    cdl_buf_append(&heap, buf, b.len);
    cdl_cbor_enc_raw(&heap, attrs_raw);
    /* Out of memory is a failure to report, not a broken invariant (this
     * asserted once: a spent output with long attributes stopped the
     * node when memory ran short). */
    if (heap.failed) {
      cdl_buf_free(&heap);
      return CDL_E_NOMEM;
    }
    cdl_address_hash(root, heap.data, heap.len);
    cdl_buf_free(&heap);
    return CDL_OK;
  }
  cdl_cbor_enc_raw(&b, attrs_raw);
  CDL_ASSERT(!b.failed);
  cdl_address_hash(root, b.data, b.len);
  return CDL_OK;
}

int cdl_byron_address_make_redeem(const uint8_t pk[32], bool with_magic,
                                  uint32_t magic, cdl_buf *out) {
  uint8_t attrs_buf[16], magic_buf[8];
  cdl_buf attrs, mb;
  cdl_buf_init_fixed(&attrs, attrs_buf, sizeof attrs_buf);
  cdl_buf_init_fixed(&mb, magic_buf, sizeof magic_buf);
  cdl_cbor_enc_map(&attrs, with_magic ? 1 : 0);
  if (with_magic) {
    cdl_cbor_enc_uint(&mb, magic);
    cdl_cbor_enc_uint(&attrs, 2);
    cdl_cbor_enc_bytes(&attrs, mb.data, mb.len);
  }
  CDL_ASSERT(!attrs.failed && !mb.failed);
  cdl_byron_attr item = {2, cdl_span_of(mb.data, mb.len)};
  cdl_byron_address addr = {0};
  uint8_t root[28];
  CDL_TRY(cdl_byron_address_root(CDL_BYRON_ADDR_REDEEM, pk, 32,
                                 cdl_span_of(attrs.data, attrs.len), root));
  addr.root = root;
  addr.type = CDL_BYRON_ADDR_REDEEM;
  addr.attrs.items = &item;
  addr.attrs.count = with_magic ? 1 : 0;
  cdl_byron_address_encode(out, &addr);
  return cdl_cbor_enc_status(out);
}

void cdl_byron_key_hash(const uint8_t xpub[64], uint8_t out[28]) {
  uint8_t enc[66] = {0x58, 0x40};
  memcpy(enc + 2, xpub, 64);
  cdl_address_hash(out, enc, sizeof enc);
}
