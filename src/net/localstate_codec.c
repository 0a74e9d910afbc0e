/*
 * localstate_codec.c: local-state-query messages, node-to-client protocol
 * 7 (include/cardinal/net.h "Local state query"; CDDL
 * local-state-query.cddl; ouroboros-network LocalStateQuery/Codec.hs).
 * Queries and results are kept as raw items: what they mean depends on
 * the query, which the server reads.
 */
#include <string.h>

#include "cardinal/wire.h"

static const uint8_t FIELDS[] = {2, 1, 2, 2, 2, 1, 2, 1, 1, 1, 1, 1};
static const char *const NAMES[] = {"MsgAcquire",
                                    "MsgAcquired",
                                    "MsgFailure",
                                    "MsgQuery",
                                    "MsgResult",
                                    "MsgRelease",
                                    "MsgReAcquire",
                                    "MsgDone",
                                    "MsgAcquireVolatileTip",
                                    "MsgReAcquireVolatileTip",
                                    "MsgAcquireImmutableTip",
                                    "MsgReAcquireImmutableTip"};
static const cdl_net_shape SHAPE = {"local-state-query", NAMES, FIELDS, 12};

const char *cdl_lsq_name(unsigned kind) { return cdl_net_kind_name(&SHAPE, kind); }

static int read_body(cdl_cbor_cursor *cur, cdl_lsq_msg *m) {
  uint64_t v = 0;
  int rc;
  switch (m->kind) {
    case CDL_LSQ_ACQUIRE:
    case CDL_LSQ_REACQUIRE:
      return cdl_net_read_point(cur, &m->point);
    case CDL_LSQ_FAILURE:
      rc = cdl_cbor_read_uint_max(cur, 1, &v, "acquire failure");
      m->failure = (uint8_t)v;
      return rc;
    case CDL_LSQ_QUERY:
      return cdl_cbor_skip(cur, &m->query);
    case CDL_LSQ_RESULT:
      return cdl_cbor_skip(cur, &m->result);
    default:
      return CDL_OK;
  }
}

int cdl_lsq_decode(const uint8_t *p, size_t n, cdl_lsq_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  return cdl_net_close_message(&cur, read_body(&cur, m), cdl_lsq_name(m->kind));
}

void cdl_lsq_encode(cdl_buf *b, const cdl_lsq_msg *m) {
  cdl_net_enc_head(b, &SHAPE, m->kind);
  switch (m->kind) {
    case CDL_LSQ_ACQUIRE:
    case CDL_LSQ_REACQUIRE:
      cdl_net_enc_point(b, &m->point);
      break;
    case CDL_LSQ_FAILURE:
      cdl_cbor_enc_uint(b, m->failure);
      break;
    case CDL_LSQ_QUERY:
      cdl_cbor_enc_raw(b, m->query);
      break;
    case CDL_LSQ_RESULT:
      cdl_cbor_enc_raw(b, m->result);
      break;
    default:
      break;
  }
}
