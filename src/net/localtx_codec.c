/*
 * localtx_codec.c: the node-to-client transaction protocols (include/
 * cardinal/net.h "Local tx-submission" and "Local tx-monitor"): local
 * tx-submission, protocol 6 (CDDL local-tx-submission.cddl), local
 * tx-monitor, protocol 9 (CDDL local-tx-monitor.cddl; ouroboros-network
 * LocalTxMonitor/Codec.hs), and the hard-fork wrapping of Byron GenTx and
 * GenTxId (ouroboros-consensus golden GenTx_Byron, GenTxId_Byron;
 * docs/ouroboros-network.md 3.6).
 */
#include <string.h>

#include "cardinal/wire.h"

/* ---- Local tx-submission ---- */

static const uint8_t LTX_FIELDS[] = {2, 1, 2, 1};
static const char *const LTX_NAMES[] = {"MsgSubmitTx", "MsgAcceptTx", "MsgRejectTx", "MsgDone"};
static const cdl_net_shape LTX_SHAPE = {"local-tx-submission", LTX_NAMES, LTX_FIELDS, 4};

const char *cdl_ltx_name(unsigned kind) { return cdl_net_kind_name(&LTX_SHAPE, kind); }

int cdl_ltx_decode(const uint8_t *p, size_t n, cdl_ltx_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &LTX_SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  if (m->kind == CDL_LTX_SUBMIT) rc = cdl_cbor_skip(&cur, &m->tx);
  if (m->kind == CDL_LTX_REJECT) rc = cdl_cbor_skip(&cur, &m->reason);
  return cdl_net_close_message(&cur, rc, cdl_ltx_name(m->kind));
}

void cdl_ltx_encode(cdl_buf *b, const cdl_ltx_msg *m) {
  cdl_net_enc_head(b, &LTX_SHAPE, m->kind);
  if (m->kind == CDL_LTX_SUBMIT) cdl_cbor_enc_raw(b, m->tx);
  if (m->kind == CDL_LTX_REJECT) cdl_cbor_enc_raw(b, m->reason);
}

/* ---- Local tx-monitor ----
 * MsgReplyNextTx has one field or two, so the arity is checked here
 * rather than by a shape. */

static const uint8_t LTM_FIELDS[] = {1, 1, 2, 1, 0, 1, 2, 2, 2, 1, 2, 1, 3};
static const char *const LTM_NAMES[] = {
    "MsgDone",          "MsgAcquire",     "MsgAcquired",        "MsgRelease",    "",
    "MsgNextTx",        "MsgReplyNextTx", "MsgHasTx",           "MsgReplyHasTx", "MsgGetSizes",
    "MsgReplyGetSizes", "MsgGetMeasures", "MsgReplyGetMeasures"};
static const cdl_net_shape LTM_SHAPE = {"local-tx-monitor", LTM_NAMES, LTM_FIELDS, 13};

const char *cdl_ltm_name(unsigned kind) { return cdl_net_kind_name(&LTM_SHAPE, kind); }

static int read_u32(cdl_cbor_cursor *cur, uint32_t *out, const char *what) {
  uint64_t v = 0;
  int rc = cdl_cbor_read_uint_max(cur, UINT32_MAX, &v, what);
  *out = (uint32_t)v;
  return rc;
}

static int read_sizes(cdl_cbor_cursor *cur, cdl_ltm_msg *m) {
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "mempool sizes"));
  CDL_TRY(read_u32(cur, &m->capacity, "capacity"));
  CDL_TRY(read_u32(cur, &m->size, "size"));
  return read_u32(cur, &m->count, "transactions");
}

static int read_ltm_body(cdl_cbor_cursor *cur, size_t fields, cdl_ltm_msg *m) {
  switch (m->kind) {
    case CDL_LTM_ACQUIRED:
      return cdl_cbor_read_uint(cur, &m->slot, "slot");
    case CDL_LTM_REPLY_NEXT_TX:
      m->has_tx = fields == 2;
      return m->has_tx ? cdl_cbor_skip(cur, &m->tx) : CDL_OK;
    case CDL_LTM_HAS_TX:
      return cdl_cbor_skip(cur, &m->tx_id);
    case CDL_LTM_REPLY_HAS_TX:
      return cdl_cbor_read_bool(cur, &m->has, "has tx");
    case CDL_LTM_REPLY_GET_SIZES:
      return read_sizes(cur, m);
    case CDL_LTM_REPLY_GET_MEASURES:
      CDL_TRY(read_u32(cur, &m->count, "transactions"));
      return cdl_cbor_skip(cur, &m->measures);
    default:
      return CDL_OK;
  }
}

int cdl_ltm_decode(const uint8_t *p, size_t n, cdl_ltm_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  uint64_t tag;
  size_t fields;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_message(p, n, &cur, used, &tag, &fields, err);
  if (rc != CDL_OK) return rc;
  if (tag >= LTM_SHAPE.n_kinds || LTM_FIELDS[tag] == 0)
    return cdl_cbor_fail(&cur, CDL_E_TAG, "local-tx-monitor: unknown message tag %llu",
                         (unsigned long long)tag);
  m->kind = (uint8_t)tag;
  bool ok = fields == LTM_FIELDS[tag] || (tag == CDL_LTM_REPLY_NEXT_TX && fields == 1);
  if (!ok)
    return cdl_cbor_fail(&cur, CDL_E_TYPE, "local-tx-monitor %s: %zu fields", LTM_NAMES[tag],
                         fields);
  return cdl_net_close_message(&cur, read_ltm_body(&cur, fields, m), LTM_NAMES[tag]);
}

void cdl_ltm_encode(cdl_buf *b, const cdl_ltm_msg *m) {
  bool short_reply = m->kind == CDL_LTM_REPLY_NEXT_TX && !m->has_tx;
  cdl_cbor_enc_array(b, short_reply ? 1 : LTM_FIELDS[m->kind]);
  cdl_cbor_enc_uint(b, m->kind);
  switch (m->kind) {
    case CDL_LTM_ACQUIRED:
      cdl_cbor_enc_uint(b, m->slot);
      break;
    case CDL_LTM_REPLY_NEXT_TX:
      if (m->has_tx) cdl_cbor_enc_raw(b, m->tx);
      break;
    case CDL_LTM_HAS_TX:
      cdl_cbor_enc_raw(b, m->tx_id);
      break;
    case CDL_LTM_REPLY_HAS_TX:
      cdl_cbor_enc_bool(b, m->has);
      break;
    case CDL_LTM_REPLY_GET_SIZES:
      cdl_cbor_enc_array(b, 3);
      cdl_cbor_enc_uint(b, m->capacity);
      cdl_cbor_enc_uint(b, m->size);
      cdl_cbor_enc_uint(b, m->count);
      break;
    case CDL_LTM_REPLY_GET_MEASURES:
      cdl_cbor_enc_uint(b, m->count);
      cdl_cbor_enc_raw(b, m->measures);
      break;
    default:
      break;
  }
}

/* ---- GenTx and GenTxId in the hard-fork wrapping ---- */

int cdl_net_read_gentx(cdl_span wrapped, uint64_t *era, cdl_span *gentx, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, wrapped.ptr, wrapped.len, err);
  CDL_TRY(cdl_cbor_expect_array(&cur, 2, "GenTx"));
  CDL_TRY(cdl_cbor_read_uint(&cur, era, "GenTx era"));
  CDL_TRY(cdl_cbor_skip(&cur, gentx));
  return cdl_cbor_expect_end(&cur, "GenTx");
}

void cdl_net_enc_gentx(cdl_buf *b, cdl_span gentx) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_raw(b, gentx);
}

int cdl_net_read_gentx_id(cdl_span wrapped, cdl_net_gentx_id *id, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, wrapped.ptr, wrapped.len, err);
  memset(id, 0, sizeof *id);
  const uint8_t *hash;
  uint64_t kind = 0;
  CDL_TRY(cdl_cbor_expect_array(&cur, 2, "GenTxId"));
  CDL_TRY(cdl_cbor_read_uint(&cur, &id->era, "GenTxId era"));
  if (id->era == 0) { /* Byron: [kind, hash] */
    CDL_TRY(cdl_cbor_expect_array(&cur, 2, "Byron tx id"));
    CDL_TRY(cdl_cbor_read_uint_max(&cur, 3, &kind, "Byron tx id kind"));
  }
  CDL_TRY(cdl_cbor_read_bytes_fixed(&cur, 32, &hash, "tx id hash"));
  id->kind = (uint8_t)kind;
  memcpy(id->hash, hash, 32);
  return cdl_cbor_expect_end(&cur, "GenTxId");
}

void cdl_net_enc_gentx_id(cdl_buf *b, uint8_t kind, const uint8_t hash[32]) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, kind);
  cdl_cbor_enc_bytes(b, hash, 32);
}
