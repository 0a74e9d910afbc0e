/*
 * txsubmission_codec.c: tx-submission v2 messages, protocol 4 (include/
 * cardinal/net.h "Tx-submission"; CDDL tx-submission2.cddl; ouroboros-
 * network TxSubmission2/Codec.hs). Its three lists must be indefinite, as
 * the Haskell decoder insists; ids and txs are kept as raw items.
 */
#include <string.h>

#include "cardinal/wire.h"

static const uint8_t FIELDS[] = {4, 2, 2, 2, 1, 0, 1};
static const char *const NAMES[] = {
    "MsgRequestTxIds", "MsgReplyTxIds", "MsgRequestTxs", "MsgReplyTxs", "MsgDone", "", "MsgInit"};
static const cdl_net_shape SHAPE = {"tx-submission", NAMES, FIELDS, 7};

const char *cdl_tx2_name(unsigned kind) { return cdl_net_kind_name(&SHAPE, kind); }

/* An indefinite list of items; each a [txid, size] pair when |pairs|. */
static int read_list(cdl_cbor_cursor *cur, bool pairs, cdl_tx2_msg *m) {
  size_t start = cur->pos;
  int rc = cdl_cbor_read_indef_array(cur, "tx-submission list");
  while (rc == CDL_OK && !cdl_cbor_at_break(cur)) {
    cdl_span item;
    uint64_t size;
    if (pairs) {
      rc = cdl_cbor_expect_array(cur, 2, "tx id and size");
      if (rc == CDL_OK) rc = cdl_cbor_skip(cur, &item);
      if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(cur, UINT32_MAX, &size, "tx size");
    } else {
      rc = cdl_cbor_skip(cur, &item);
    }
    m->n_items++;
  }
  if (rc == CDL_OK) rc = cdl_cbor_read_break(cur, "tx-submission list");
  m->items = cdl_span_of(cur->buf + start, cur->pos - start);
  return rc;
}

static int read_request_ids(cdl_cbor_cursor *cur, cdl_tx2_msg *m) {
  uint64_t ack = 0, req = 0;
  int rc = cdl_cbor_read_bool(cur, &m->blocking, "blocking");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(cur, UINT16_MAX, &ack, "ack");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(cur, UINT16_MAX, &req, "req");
  m->ack = (uint16_t)ack;
  m->req = (uint16_t)req;
  return rc;
}

int cdl_tx2_decode(const uint8_t *p, size_t n, cdl_tx2_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  if (m->kind == CDL_TX2_REQUEST_TX_IDS)
    rc = read_request_ids(&cur, m);
  else if (m->kind == CDL_TX2_REPLY_TX_IDS)
    rc = read_list(&cur, true, m);
  else if (m->kind == CDL_TX2_REQUEST_TXS || m->kind == CDL_TX2_REPLY_TXS)
    rc = read_list(&cur, false, m);
  return cdl_net_close_message(&cur, rc, cdl_tx2_name(m->kind));
}

void cdl_tx2_encode(cdl_buf *b, const cdl_tx2_msg *m) {
  cdl_net_enc_head(b, &SHAPE, m->kind);
  if (m->kind == CDL_TX2_REQUEST_TX_IDS) {
    cdl_cbor_enc_bool(b, m->blocking);
    cdl_cbor_enc_uint(b, m->ack);
    cdl_cbor_enc_uint(b, m->req);
  } else if (m->kind >= CDL_TX2_REPLY_TX_IDS && m->kind <= CDL_TX2_REPLY_TXS) {
    cdl_cbor_enc_raw(b, m->items); /* the whole indefinite list */
  }
}
