/*
 * blockfetch_codec.c: block-fetch messages, protocol 3 (include/cardinal/
 * net.h "Block-fetch"; CDDL block-fetch.cddl; ouroboros-network
 * BlockFetch/Codec.hs). A block travels as #6.24(bstr [tag, block]).
 */
#include <string.h>

#include "cardinal/wire.h"

static const uint8_t FIELDS[] = {3, 1, 1, 1, 2, 1};
static const char *const NAMES[] = {"MsgRequestRange", "MsgClientDone", "MsgStartBatch",
                                    "MsgNoBlocks",     "MsgBlock",      "MsgBatchDone"};
static const cdl_net_shape SHAPE = {"block-fetch", NAMES, FIELDS, 6};

const char *cdl_bf_name(unsigned kind) { return cdl_net_kind_name(&SHAPE, kind); }

int cdl_bf_decode(const uint8_t *p, size_t n, cdl_bf_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  if (m->kind == CDL_BF_REQUEST_RANGE) {
    rc = cdl_net_read_point(&cur, &m->from);
    if (rc == CDL_OK) rc = cdl_net_read_point(&cur, &m->to);
  } else if (m->kind == CDL_BF_BLOCK) {
    rc = cdl_net_read_block(&cur, &m->block);
  }
  return cdl_net_close_message(&cur, rc, cdl_bf_name(m->kind));
}

void cdl_bf_encode(cdl_buf *b, const cdl_bf_msg *m) {
  cdl_net_enc_head(b, &SHAPE, m->kind);
  if (m->kind == CDL_BF_REQUEST_RANGE) {
    cdl_net_enc_point(b, &m->from);
    cdl_net_enc_point(b, &m->to);
  } else if (m->kind == CDL_BF_BLOCK) {
    cdl_net_enc_block(b, m->block.ptr, m->block.len);
  }
}
