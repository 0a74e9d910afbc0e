/*
 * header.c: main-block and EBB headers (docs/byron.md sections 1.2, 1.3,
 * 1.8) and the block hash of section 2.1.
 *   header    = [magic, prevBlock, bodyProof, consensusData, extraData]
 *   ebbheader = [magic, prevBlock, bodyProof, [epoch, [difficulty]], [attrs]]
 * An EBB's attributes may hold {255: h'Genesis'} (bytes "Genesis"): then
 * prevBlock is the genesis hash whatever the epoch (genesis_tag).
 * Only the heavyweight block signature [2, [cert, sig]] decodes, as in
 * cardano-ledger; the sub-spans that the signature covers are kept.
 */
#include <string.h>

#include "internal.h"

static int read_ssc_proof(cdl_cbor_cursor *cur, cdl_byron_body_proof *p) {
  size_t n;
  uint8_t tag;
  CDL_TRY(cdl_cbor_read_array(cur, &n, "SSC proof"));
  CDL_TRY(byron_read_u8(cur, &tag, "SSC proof tag"));
  if (tag > CDL_BYRON_SSC_CERTIFICATES)
    return cdl_cbor_fail(cur, CDL_E_TAG, "SSC proof: unknown tag %u", tag);
  if (n != (tag == CDL_BYRON_SSC_CERTIFICATES ? 2u : 3u))
    return cdl_cbor_fail(cur, CDL_E_TYPE, "SSC proof %u: wrong length %zu", tag, n);
  p->ssc_tag = tag;
  if (tag != CDL_BYRON_SSC_CERTIFICATES)
    CDL_TRY(cdl_cbor_read_bytes(cur, &p->ssc_hash1, "SSC proof hash"));
  return cdl_cbor_read_bytes(cur, &p->ssc_certs_hash, "SSC certificates hash");
}

static int read_body_proof(cdl_cbor_cursor *cur, cdl_byron_body_proof *p) {
  size_t start = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "body proof"));
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "tx proof"));
  CDL_TRY(byron_read_u32(cur, &p->tx_count, "tx proof count"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &p->tx_merkle_root, "tx Merkle root"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &p->tx_witnesses_hash, "tx witnesses hash"));
  CDL_TRY(read_ssc_proof(cur, p));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &p->dlg_hash, "delegation proof"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &p->upd_hash, "update proof"));
  p->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

static int read_block_signature(cdl_cbor_cursor *cur, cdl_byron_header *h) {
  uint8_t tag;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "block signature"));
  CDL_TRY(byron_read_u8(cur, &tag, "block signature tag"));
  if (tag != 2)
    return cdl_cbor_fail(cur, CDL_E_TAG,
                         "block signature: tag %u (only heavyweight delegation, 2, is valid)", tag);
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "block signature"));
  CDL_TRY(cdl_byron_dlg_cert_read(cur, &h->cert));
  return cdl_cbor_read_bytes_fixed(cur, 64, &h->signature, "block signature");
}

static int read_consensus(cdl_cbor_cursor *cur, cdl_byron_header *h) {
  size_t at;
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "consensus data"));
  at = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "slot id"));
  CDL_TRY(cdl_cbor_read_uint(cur, &h->epoch, "epoch"));
  CDL_TRY(cdl_cbor_read_uint(cur, &h->slot_in_epoch, "slot in epoch"));
  h->slot_raw = cdl_cbor_span_since(cur, at);
  CDL_TRY(byron_read_xpub(cur, &h->leader_key, "leader key"));
  at = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 1, "difficulty"));
  CDL_TRY(cdl_cbor_read_uint(cur, &h->difficulty, "difficulty"));
  h->difficulty_raw = cdl_cbor_span_since(cur, at);
  return read_block_signature(cur, h);
}

static int read_extra(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                      cdl_byron_header *h) {
  size_t start = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "header extra data"));
  CDL_TRY(byron_version_read(cur, &h->block_version));
  CDL_TRY(byron_software_version_read(cur, &h->software_version));
  CDL_TRY(byron_attrs_read(cur, ctx, ATTRS_EMPTY, &h->attrs, "header attributes"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &h->extra_proof, "extra body proof"));
  h->extra_raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

int cdl_byron_header_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                          cdl_byron_header *h) {
  size_t start = cur->pos, at;
  memset(h, 0, sizeof *h);
  CDL_TRY(cdl_cbor_expect_array(cur, 5, "header"));
  CDL_TRY(byron_read_u32(cur, &h->protocol_magic, "protocol magic"));
  at = cur->pos;
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &h->prev_hash, "previous hash"));
  h->prev_raw = cdl_cbor_span_since(cur, at);
  at = cur->pos;
  CDL_TRY(read_body_proof(cur, &h->proof));
  h->proof_raw = cdl_cbor_span_since(cur, at);
  CDL_TRY(read_consensus(cur, h));
  CDL_TRY(read_extra(cur, ctx, h));
  h->raw = cdl_cbor_span_since(cur, start);
  byron_header_hash(1, h->raw, h->hash);
  return CDL_OK;
}

int cdl_byron_ebb_header_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                              cdl_byron_ebb_header *h) {
  size_t start = cur->pos;
  int64_t magic;
  memset(h, 0, sizeof *h);
  CDL_TRY(cdl_cbor_expect_array(cur, 5, "EBB header"));
  CDL_TRY(cdl_cbor_read_int64(cur, &magic, "EBB protocol magic"));
  if (magic < INT32_MIN || magic > INT32_MAX)
    return cdl_cbor_fail(cur, CDL_E_RANGE, "EBB protocol magic does not fit Int32");
  h->protocol_magic = (int32_t)magic;
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &h->prev_hash, "EBB previous hash"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &h->body_proof, "EBB body proof"));
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "EBB consensus data"));
  CDL_TRY(cdl_cbor_read_uint(cur, &h->epoch, "EBB epoch"));
  CDL_TRY(cdl_cbor_expect_array(cur, 1, "EBB difficulty"));
  CDL_TRY(cdl_cbor_read_uint(cur, &h->difficulty, "EBB difficulty"));
  CDL_TRY(cdl_cbor_expect_array(cur, 1, "EBB extra data"));
  /* A typed map Word8 -> bytes, as every attributes map the reference
   * decodes (Boundary.hs dropBoundaryExtraHeaderDataRetainGenesisTag):
   * keys strictly ascending, values byte strings. */
  CDL_TRY(byron_attrs_read(cur, ctx, ATTRS_ORDERED, &h->attrs, "EBB attributes"));
  for (size_t i = 0; i < h->attrs.count; i++) {
    const cdl_byron_attr *a = &h->attrs.items[i];
    h->genesis_tag |= a->key == 255 && a->value.len == 7 && memcmp(a->value.ptr, "Genesis", 7) == 0;
  }
  h->raw = cdl_cbor_span_since(cur, start);
  byron_header_hash(0, h->raw, h->hash);
  return CDL_OK;
}

/* ---- Encoding ---- */

static void encode_body_proof(cdl_buf *b, const cdl_byron_body_proof *p) {
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, p->tx_count);
  cdl_cbor_enc_bytes(b, p->tx_merkle_root, 32);
  cdl_cbor_enc_bytes(b, p->tx_witnesses_hash, 32);
  bool certs_only = p->ssc_tag == CDL_BYRON_SSC_CERTIFICATES;
  cdl_cbor_enc_array(b, certs_only ? 2 : 3);
  cdl_cbor_enc_uint(b, p->ssc_tag);
  if (!certs_only) cdl_cbor_enc_bytes(b, p->ssc_hash1.ptr, p->ssc_hash1.len);
  cdl_cbor_enc_bytes(b, p->ssc_certs_hash.ptr, p->ssc_certs_hash.len);
  cdl_cbor_enc_bytes(b, p->dlg_hash, 32);
  cdl_cbor_enc_bytes(b, p->upd_hash, 32);
}

void cdl_byron_header_encode(cdl_buf *b, const cdl_byron_header *h) {
  cdl_cbor_enc_array(b, 5);
  cdl_cbor_enc_uint(b, h->protocol_magic);
  cdl_cbor_enc_bytes(b, h->prev_hash, 32);
  encode_body_proof(b, &h->proof);
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, h->epoch);
  cdl_cbor_enc_uint(b, h->slot_in_epoch);
  cdl_cbor_enc_bytes(b, h->leader_key, 64);
  cdl_cbor_enc_array(b, 1);
  cdl_cbor_enc_uint(b, h->difficulty);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 2);
  cdl_cbor_enc_array(b, 2);
  cdl_byron_dlg_cert_encode(b, &h->cert);
  cdl_cbor_enc_bytes(b, h->signature, 64);
  cdl_cbor_enc_array(b, 4);
  cdl_byron_version_encode(b, &h->block_version);
  byron_software_version_encode(b, &h->software_version);
  cdl_byron_attrs_encode(b, &h->attrs);
  cdl_cbor_enc_bytes(b, h->extra_proof.ptr, h->extra_proof.len);
}

void cdl_byron_ebb_header_encode(cdl_buf *b, const cdl_byron_ebb_header *h) {
  cdl_cbor_enc_array(b, 5);
  cdl_cbor_enc_int(b, h->protocol_magic);
  cdl_cbor_enc_bytes(b, h->prev_hash, 32);
  cdl_cbor_enc_bytes(b, h->body_proof.ptr, h->body_proof.len);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, h->epoch);
  cdl_cbor_enc_array(b, 1);
  cdl_cbor_enc_uint(b, h->difficulty);
  cdl_cbor_enc_array(b, 1);
  cdl_byron_attrs_encode(b, &h->attrs);
}
