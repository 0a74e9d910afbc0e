/*
 * chainsync_codec.c: chain-sync messages, node-to-node (protocol 2) and
 * node-to-client (5) alike (include/cardinal/net.h "Chain-sync"; CDDL
 * chain-sync.cddl; ouroboros-network ChainSync/Codec.hs). The content of a
 * roll-forward (a wrapped header, or a wrapped block for node-to-client)
 * is kept as its raw item; the engines read it.
 */
#include <string.h>

#include "cardinal/wire.h"

static const uint8_t FIELDS[] = {1, 1, 3, 3, 2, 3, 2, 1};
static const char *const NAMES[] = {"MsgRequestNext",       "MsgAwaitReply",    "MsgRollForward",
                                    "MsgRollBackward",      "MsgFindIntersect", "MsgIntersectFound",
                                    "MsgIntersectNotFound", "MsgDone"};
static const cdl_net_shape SHAPE = {"chain-sync", NAMES, FIELDS, 8};

const char *cdl_cs_name(unsigned kind) { return cdl_net_kind_name(&SHAPE, kind); }

/* Checks every point of a find-intersect list and counts them. */
static int read_points(cdl_cbor_cursor *cur, cdl_cs_msg *m) {
  size_t start = cur->pos, n = 0;
  bool indefinite;
  int rc = cdl_cbor_read_array_any(cur, &n, &indefinite, "points");
  if (rc != CDL_OK) return rc;
  cdl_point p;
  m->n_points = 0;
  while (indefinite ? !cdl_cbor_at_break(cur) : m->n_points < n) {
    if ((rc = cdl_net_read_point(cur, &p)) != CDL_OK) return rc;
    m->n_points++;
  }
  if (indefinite && (rc = cdl_cbor_read_break(cur, "points")) != CDL_OK) return rc;
  m->points = cdl_span_of(cur->buf + start, cur->pos - start);
  return CDL_OK;
}

static int read_body(cdl_cbor_cursor *cur, cdl_cs_msg *m) {
  switch (m->kind) {
    case CDL_CS_ROLL_FORWARD: {
      int rc = cdl_cbor_skip(cur, &m->content);
      return rc != CDL_OK ? rc : cdl_net_read_tip(cur, &m->tip);
    }
    case CDL_CS_ROLL_BACKWARD:
    case CDL_CS_INTERSECT_FOUND: {
      int rc = cdl_net_read_point(cur, &m->point);
      return rc != CDL_OK ? rc : cdl_net_read_tip(cur, &m->tip);
    }
    case CDL_CS_FIND_INTERSECT:
      return read_points(cur, m);
    case CDL_CS_INTERSECT_NOT_FOUND:
      return cdl_net_read_tip(cur, &m->tip);
    default:
      return CDL_OK;
  }
}

int cdl_cs_decode(const uint8_t *p, size_t n, cdl_cs_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  return cdl_net_close_message(&cur, read_body(&cur, m), cdl_cs_name(m->kind));
}

int cdl_cs_points(const cdl_cs_msg *m, cdl_point *out, size_t max, size_t *n) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, m->points.ptr, m->points.len, NULL);
  size_t len;
  bool indefinite;
  *n = 0;
  if (cdl_cbor_read_array_any(&cur, &len, &indefinite, "points") != CDL_OK) return CDL_E_CBOR;
  while (*n < max && *n < m->n_points)
    if (cdl_net_read_point(&cur, &out[(*n)++]) != CDL_OK) return CDL_E_CBOR;
  return CDL_OK;
}

void cdl_cs_encode(cdl_buf *b, const cdl_cs_msg *m) {
  cdl_net_enc_head(b, &SHAPE, m->kind);
  switch (m->kind) {
    case CDL_CS_ROLL_FORWARD:
      cdl_cbor_enc_raw(b, m->content);
      cdl_net_enc_tip(b, &m->tip);
      break;
    case CDL_CS_ROLL_BACKWARD:
    case CDL_CS_INTERSECT_FOUND:
      cdl_net_enc_point(b, &m->point);
      cdl_net_enc_tip(b, &m->tip);
      break;
    case CDL_CS_INTERSECT_NOT_FOUND:
      cdl_net_enc_tip(b, &m->tip);
      break;
    case CDL_CS_FIND_INTERSECT:
      if (m->point_list == NULL) {
        cdl_cbor_enc_raw(b, m->points);
        break;
      }
      /* As the Haskell encoder: [] when empty, else indefinite. */
      if (m->n_points == 0)
        cdl_cbor_enc_array(b, 0);
      else
        cdl_cbor_enc_indef_array(b);
      for (size_t i = 0; i < m->n_points; i++) cdl_net_enc_point(b, &m->point_list[i]);
      if (m->n_points > 0) cdl_cbor_enc_break(b);
      break;
    default:
      break;
  }
}
