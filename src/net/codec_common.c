/*
 * codec_common.c: what every mini-protocol codec shares (include/cardinal/
 * net.h "Points and tips"; ouroboros-network Block.hs encodePoint and
 * encodeTip; the era wrapping of consensus's hard-fork combinator for
 * Byron, docs/network.md "Era wrapping").
 *
 * Messages are CBOR arrays whose first element is a tag. A message is
 * framed by skipping one whole CBOR item (bounded depth); only then is it
 * decoded, inside exactly its own bytes.
 */
#include <string.h>

#include "cardinal/wire.h"

int cdl_net_open_message(const uint8_t *p, size_t n, cdl_cbor_cursor *cur, size_t *used,
                         uint64_t *tag, size_t *fields, cdl_error *err) {
  /* A message still arriving is not an error: keep the caller's record
   * clean until the bytes are known to be bad. */
  cdl_error local = {0};
  cdl_cbor_cursor whole;
  cdl_cbor_cursor_init(&whole, p, n, &local);
  cdl_span item;
  int rc = cdl_cbor_skip(&whole, &item);
  if (rc == CDL_E_TRUNCATED) return rc;
  if (rc != CDL_OK) return cdl_error_set(err, rc, local.offset, "%s", local.message);
  *used = item.len;
  cdl_cbor_cursor_init(cur, p, item.len, err);
  rc = cdl_cbor_read_array(cur, fields, "message");
  if (rc == CDL_OK && *fields == 0)
    rc = cdl_cbor_fail(cur, CDL_E_TYPE, "message: an empty array has no tag");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(cur, tag, "message tag");
  /* A truncation inside a complete item is malformed, not "wait". */
  return rc == CDL_E_TRUNCATED ? CDL_E_CBOR : rc;
}

int cdl_net_read_point(cdl_cbor_cursor *cur, cdl_point *p) {
  size_t n;
  int rc = cdl_cbor_read_array(cur, &n, "point");
  if (rc != CDL_OK) return rc;
  memset(p, 0, sizeof *p);
  if (n == 0) {
    p->origin = true;
    return CDL_OK;
  }
  if (n != 2) return cdl_cbor_fail(cur, CDL_E_TYPE, "point: %zu fields, expected 0 or 2", n);
  const uint8_t *hash;
  if ((rc = cdl_cbor_read_uint(cur, &p->slot, "point slot")) != CDL_OK) return rc;
  if ((rc = cdl_cbor_read_bytes_fixed(cur, 32, &hash, "point hash")) != CDL_OK) return rc;
  memcpy(p->hash, hash, 32);
  return CDL_OK;
}

int cdl_net_read_tip(cdl_cbor_cursor *cur, cdl_tip *t) {
  int rc = cdl_cbor_expect_array(cur, 2, "tip");
  if (rc == CDL_OK) rc = cdl_net_read_point(cur, &t->point);
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(cur, &t->block_no, "tip block number");
  return rc;
}

void cdl_net_enc_point(cdl_buf *b, const cdl_point *p) {
  if (p->origin) {
    cdl_cbor_enc_array(b, 0);
    return;
  }
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, p->slot);
  cdl_cbor_enc_bytes(b, p->hash, 32);
}

void cdl_net_enc_tip(cdl_buf *b, const cdl_tip *t) {
  cdl_cbor_enc_array(b, 2);
  cdl_net_enc_point(b, &t->point);
  cdl_cbor_enc_uint(b, t->block_no);
}

int cdl_net_open_kind(const uint8_t *p, size_t n, const cdl_net_shape *shape, cdl_cbor_cursor *cur,
                      size_t *used, uint8_t *kind, cdl_error *err) {
  uint64_t tag;
  size_t fields;
  int rc = cdl_net_open_message(p, n, cur, used, &tag, &fields, err);
  if (rc != CDL_OK) return rc;
  if (tag >= shape->n_kinds || shape->fields[tag] == 0)
    return cdl_cbor_fail(cur, CDL_E_TAG, "%s: unknown message tag %llu", shape->protocol,
                         (unsigned long long)tag);
  *kind = (uint8_t)tag;
  if (fields != shape->fields[tag])
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s %s: %zu fields, expected %u", shape->protocol,
                         shape->names[tag], fields, shape->fields[tag]);
  return CDL_OK;
}

int cdl_net_close_message(cdl_cbor_cursor *cur, int rc, const char *what) {
  if (rc == CDL_OK) rc = cdl_cbor_expect_end(cur, what);
  /* A truncation inside a complete item is malformed, not "wait". */
  return rc == CDL_E_TRUNCATED ? CDL_E_CBOR : rc;
}

void cdl_net_enc_head(cdl_buf *b, const cdl_net_shape *shape, uint8_t kind) {
  cdl_cbor_enc_array(b, shape->fields[kind]);
  cdl_cbor_enc_uint(b, kind);
}

const char *cdl_net_kind_name(const cdl_net_shape *shape, unsigned kind) {
  return kind < shape->n_kinds && shape->fields[kind] ? shape->names[kind] : "unknown";
}

/* ---- Byron inside the hard-fork combinator ------------------------------ */

int cdl_net_byron_block_parts(const uint8_t *block, size_t len, uint8_t *subtag, cdl_span *header,
                              cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, block, len, err);
  uint64_t tag;
  int rc = cdl_cbor_expect_array(&cur, 2, "stored block");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(&cur, &tag, "stored block tag");
  if (rc == CDL_OK && tag > 1)
    rc = cdl_cbor_fail(&cur, CDL_E_TAG, "stored block: tag %llu is not Byron",
                       (unsigned long long)tag);
  if (rc == CDL_OK) rc = cdl_cbor_expect_array(&cur, 3, "block");
  if (rc == CDL_OK) rc = cdl_cbor_skip(&cur, header);
  if (rc == CDL_OK) *subtag = (uint8_t)tag;
  return rc;
}

int cdl_net_enc_byron_header(cdl_buf *b, const uint8_t *block, size_t len, cdl_error *err) {
  uint8_t subtag;
  cdl_span header;
  int rc = cdl_net_byron_block_parts(block, len, &subtag, &header, err);
  if (rc != CDL_OK) return rc;
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0); /* era: Byron */
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, subtag);
  cdl_cbor_enc_uint(b, len); /* size hint: the stored [tag, block] */
  cdl_cbor_enc_tag(b, 24);
  cdl_cbor_enc_bytes(b, header.ptr, header.len);
  /* A failed append is no header: the server once sent what it had. */
  if (b->failed) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory wrapping a header");
  return CDL_OK;
}

int cdl_net_read_byron_header(cdl_span content, cdl_net_header *h, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, content.ptr, content.len, err);
  uint64_t era, subtag, hint;
  int rc = cdl_cbor_expect_array(&cur, 2, "header");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(&cur, &era, "header era");
  if (rc == CDL_OK && era != 0)
    rc = cdl_cbor_fail(&cur, CDL_E_TAG, "header: era %llu, only Byron (0) is known",
                       (unsigned long long)era);
  if (rc == CDL_OK) rc = cdl_cbor_expect_array(&cur, 2, "Byron header");
  if (rc == CDL_OK) rc = cdl_cbor_expect_array(&cur, 2, "Byron header kind");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(&cur, &subtag, "Byron header kind");
  if (rc == CDL_OK && subtag > 1)
    rc = cdl_cbor_fail(&cur, CDL_E_TAG, "Byron header kind %llu", (unsigned long long)subtag);
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(&cur, UINT32_MAX, &hint, "size hint");
  if (rc == CDL_OK) rc = cdl_cbor_read_tag24(&cur, &h->header, "Byron header bytes");
  if (rc == CDL_OK) rc = cdl_cbor_expect_end(&cur, "header");
  if (rc != CDL_OK) return rc;
  h->subtag = (uint8_t)subtag;
  h->size_hint = (uint32_t)hint;
  return CDL_OK;
}

void cdl_net_enc_block(cdl_buf *b, const uint8_t *block, size_t len) {
  cdl_cbor_enc_tag(b, 24);
  cdl_cbor_enc_bytes(b, block, len);
}

int cdl_net_read_block(cdl_cbor_cursor *cur, cdl_span *block) {
  return cdl_cbor_read_tag24(cur, block, "block");
}
