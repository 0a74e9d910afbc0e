/*
 * block.c: whole Byron blocks (docs/byron.md sections 1.1 and 1.8):
 *   block = [0, ebb] / [1, mainblock]   (the Cardano wrapping, as stored in
 *                                         chunk files and sent by peers)
 *   mainblock = [header, body, [attributes]]
 *   ebb       = [ebbheader, 9f *stakeholderId ff, [attributes]]
 * Bare (unwrapped) blocks are recognised by the header's third field: a
 * byte string (the EBB body hash) or an array (a main block's proofs).
 */
#include <string.h>

#include "internal.h"

static int read_extra(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                      cdl_byron_block *blk) {
  size_t start = cur->pos;
  /* A main block's extra attributes must be empty; an EBB's are dropped
   * unchecked (dropEmptyAttributes and dropAttributes in the reference). */
  CDL_TRY(cdl_cbor_expect_array(cur, 1, "block extra data"));
  CDL_TRY(byron_attrs_read(cur, ctx, blk->is_ebb ? ATTRS_UNORDERED : ATTRS_EMPTY, &blk->extra_attrs,
                           "block extra attributes"));
  blk->extra_raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

static int read_unwrapped(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                          cdl_byron_block *blk) {
  size_t start = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "block"));
  if (blk->is_ebb) {
    CDL_TRY(cdl_byron_ebb_header_read(cur, ctx, &blk->ebb));
    CDL_TRY(byron_read_list(cur, ctx, byron_read_bytes_item, sizeof(cdl_span), false,
                            (void **)&blk->ebb_leaders, &blk->n_ebb_leaders, &blk->ebb_body_raw,
                            "EBB body"));
  } else {
    CDL_TRY(cdl_byron_header_read(cur, ctx, &blk->header));
    CDL_TRY(cdl_byron_body_read(cur, ctx, &blk->body));
  }
  CDL_TRY(read_extra(cur, ctx, blk));
  blk->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

/* For a bare block: is the header's third field a byte string? */
static int sniff_ebb(cdl_cbor_cursor *cur, bool *is_ebb) {
  size_t saved = cur->pos, n;
  cdl_cbor_head h;
  int rc = cdl_cbor_expect_array(cur, 3, "block");
  if (rc == CDL_OK) rc = cdl_cbor_read_array(cur, &n, "header");
  if (rc == CDL_OK && n != 5) rc = cdl_cbor_fail(cur, CDL_E_TYPE, "header: expected 5 fields");
  if (rc == CDL_OK) rc = cdl_cbor_skip(cur, NULL);
  if (rc == CDL_OK) rc = cdl_cbor_skip(cur, NULL);
  if (rc == CDL_OK) rc = cdl_cbor_peek(cur, &h);
  cur->pos = saved;
  if (rc == CDL_OK) *is_ebb = h.major == CDL_CBOR_BYTES;
  return rc;
}

int cdl_byron_block_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                         cdl_byron_block *blk) {
  size_t start = cur->pos;
  cdl_cbor_head h;
  memset(blk, 0, sizeof *blk);
  CDL_TRY(cdl_cbor_peek(cur, &h));
  if (h.major != CDL_CBOR_ARRAY || h.indefinite || (h.value != 2 && h.value != 3))
    return cdl_cbor_fail(cur, CDL_E_TYPE, "block: expected [era, block] or [header, body, extra]");
  if (h.value == 3) {
    CDL_TRY(sniff_ebb(cur, &blk->is_ebb));
    return read_unwrapped(cur, ctx, blk);
  }
  uint8_t era;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "wrapped block"));
  CDL_TRY(byron_read_u8(cur, &era, "block era tag"));
  if (era > 1)
    return cdl_cbor_fail(cur, CDL_E_TAG, "block: era tag %u is not Byron (0 EBB, 1 main)", era);
  blk->is_ebb = era == 0;
  blk->wrapped = true;
  CDL_TRY(read_unwrapped(cur, ctx, blk));
  blk->wrapped_raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

int cdl_byron_block_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                           cdl_byron_block *blk) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data, len, ctx->err);
  CDL_TRY(cdl_byron_block_read(&cur, ctx, blk));
  return cdl_cbor_expect_end(&cur, "block");
}

void cdl_byron_block_encode(cdl_buf *b, const cdl_byron_block *blk,
                            bool wrapped) {
  if (wrapped) {
    cdl_cbor_enc_array(b, 2);
    cdl_cbor_enc_uint(b, blk->is_ebb ? 0 : 1);
  }
  cdl_cbor_enc_array(b, 3);
  if (blk->is_ebb) {
    cdl_byron_ebb_header_encode(b, &blk->ebb);
    cdl_cbor_enc_indef_array(b);
    for (size_t i = 0; i < blk->n_ebb_leaders; i++)
      cdl_cbor_enc_bytes(b, blk->ebb_leaders[i].ptr, blk->ebb_leaders[i].len);
    cdl_cbor_enc_break(b);
  } else {
    cdl_byron_header_encode(b, &blk->header);
    cdl_byron_body_encode(b, &blk->body);
  }
  cdl_cbor_enc_array(b, 1);
  cdl_byron_attrs_encode(b, &blk->extra_attrs);
}

const uint8_t *cdl_byron_block_hash(const cdl_byron_block *blk) {
  return blk->is_ebb ? blk->ebb.hash : blk->header.hash;
}

const uint8_t *cdl_byron_block_prev_hash(const cdl_byron_block *blk) {
  return blk->is_ebb ? blk->ebb.prev_hash : blk->header.prev_hash;
}

bool cdl_byron_block_follows_genesis(const cdl_byron_block *blk) {
  return blk->is_ebb && (blk->ebb.epoch == 0 || blk->ebb.genesis_tag);
}

uint64_t cdl_byron_block_number(const cdl_byron_block *blk) {
  return blk->is_ebb ? blk->ebb.difficulty : blk->header.difficulty;
}

int cdl_byron_block_slot(const cdl_byron_block *blk, uint64_t epoch_slots,
                         uint64_t *slot) {
  uint64_t epoch = blk->is_ebb ? blk->ebb.epoch : blk->header.epoch;
  uint64_t in_epoch = blk->is_ebb ? 0 : blk->header.slot_in_epoch;
  if (epoch_slots != 0 && epoch > (UINT64_MAX - in_epoch) / epoch_slots)
    return CDL_E_RANGE;
  *slot = epoch * epoch_slots + in_epoch;
  return CDL_OK;
}
