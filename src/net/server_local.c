/*
 * server_local.c: the local state query of a node-to-client connection
 * (server_internal.h; CDDL local-state-query.cddl;
 * docs/ouroboros-network.md 4.7; docs/network.md "Local state query").
 *
 * A client acquires the volatile tip, the immutable tip or a point; only
 * the tip's ledger is kept, so a point is acquired only when it is the
 * tip (an older point on the chain fails as "too old"). Queries are read
 * as the byte forms clients send; any other query ends the connection,
 * as a query the real node cannot decode does:
 *   [1]                 GetSystemStart    [year, day of year, picoseconds]
 *   [2]                 GetChainBlockNo   [0] origin | [1, n]
 *   [3]                 GetChainPoint     point
 *   [0, [2, [1]]]       GetCurrentEra     0 (Byron)
 *   [0, [0, [0, 0]]]    Byron GetUpdateInterfaceState, when the tip is
 *                       still the acquired point: [state]
 *   [0xCD01..0xCD03, ...]  Cardinal's own queries (server_local_cardinal.c)
 */
#include <string.h>
#include <time.h>

#include "server_internal.h"

#define SMALL_LIMIT 65535
#define PICO_PER_SEC 1000000000000ull

static const uint8_t Q_SYSTEM_START[] = {0x81, 0x01};
static const uint8_t Q_BLOCK_NO[] = {0x81, 0x02};
static const uint8_t Q_POINT[] = {0x81, 0x03};
static const uint8_t Q_CURRENT_ERA[] = {0x82, 0x00, 0x82, 0x02, 0x81, 0x01};
static const uint8_t Q_BYRON_STATE[] = {0x82, 0x00, 0x82, 0x00, 0x82, 0x00, 0x00};

static bool is_query(cdl_span q, const uint8_t *form, size_t n) {
  return q.len == n && memcmp(q.ptr, form, n) == 0;
}

static int lsq_send(cdl_n2n_server *s, const cdl_lsq_msg *m, cdl_error *err) {
  cdl_buf_reset(&s->msg);
  cdl_lsq_encode(&s->msg, m);
  return srv_queue(s, s->ch_lsq, err);
}

/* UTCTime as cardano-binary writes it: [year, day of year (1-based),
 * picoseconds of the day]. */
static void enc_system_start(cdl_buf *b, uint64_t unix_seconds) {
  time_t t = (time_t)unix_seconds;
  struct tm tm;
  gmtime_r(&t, &tm);
  uint64_t secs = (uint64_t)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, (uint64_t)tm.tm_year + 1900);
  cdl_cbor_enc_uint(b, (uint64_t)tm.tm_yday + 1);
  cdl_cbor_enc_uint(b, secs * PICO_PER_SEC);
}

int srv_lsq_at_tip(cdl_n2n_server *s, cdl_error *err) {
  cdl_tip tip;
  srv_tip(s, &tip);
  if (!cdl_point_eq(&tip.point, &s->lsq.point))
    return cdl_error_set(err, CDL_E_NOT_FOUND, 0,
                         "local-state-query: the ledger state of the acquired point is no "
                         "longer kept (the tip moved)");
  return CDL_OK;
}

static int answer(cdl_n2n_server *s, cdl_span q, cdl_buf *r, cdl_error *err) {
  if (is_query(q, Q_SYSTEM_START, sizeof Q_SYSTEM_START)) {
    enc_system_start(r, s->system_start_unix);
  } else if (is_query(q, Q_BLOCK_NO, sizeof Q_BLOCK_NO)) {
    cdl_cbor_enc_array(r, s->lsq.point.origin ? 1 : 2);
    cdl_cbor_enc_uint(r, s->lsq.point.origin ? 0 : 1);
    if (!s->lsq.point.origin) cdl_cbor_enc_uint(r, s->lsq.block_no);
  } else if (is_query(q, Q_POINT, sizeof Q_POINT)) {
    cdl_net_enc_point(r, &s->lsq.point);
  } else if (is_query(q, Q_CURRENT_ERA, sizeof Q_CURRENT_ERA)) {
    cdl_cbor_enc_uint(r, 0);
  } else if (is_query(q, Q_BYRON_STATE, sizeof Q_BYRON_STATE)) {
    CDL_TRY(srv_lsq_at_tip(s, err));
    cdl_cbor_enc_array(r, 1); /* QueryIfCurrent: the era matched */
    CDL_TRY(s->chain.encode_update_state(s->chain.ctx, r, err));
  } else if (cdl_lsq_is_cardinal_query(q)) {
    return srv_lsq_cardinal(s, q, r, err);
  } else {
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "local-state-query: a query this node does not know");
  }
  return CDL_OK;
}

/* Acquires what |m| names; false in *ok with a failure reason otherwise. */
static int acquire(cdl_n2n_server *s, const cdl_lsq_msg *m, bool *ok, uint8_t *why,
                   cdl_error *err) {
  cdl_tip tip;
  srv_tip(s, &tip);
  *ok = true;
  bool immutable =
      m->kind == CDL_LSQ_ACQUIRE_IMMUTABLE_TIP || m->kind == CDL_LSQ_REACQUIRE_IMMUTABLE_TIP;
  bool specific = m->kind == CDL_LSQ_ACQUIRE || m->kind == CDL_LSQ_REACQUIRE;
  cdl_block_info b;
  if (immutable) {
    s->lsq.point = (cdl_point){.origin = true};
    s->lsq.block_no = 0;
    if (s->chain.immutable_tip(s->chain.ctx, &b)) {
      s->lsq.point = (cdl_point){.slot = b.slot};
      memcpy(s->lsq.point.hash, b.hash, 32);
      s->lsq.block_no = b.block_no;
    }
    return CDL_OK;
  }
  bool at_tip = !specific || cdl_point_eq(&m->point, &tip.point);
  if (at_tip) {
    s->lsq.point = tip.point;
    s->lsq.block_no = tip.block_no;
    return CDL_OK;
  }
  *ok = false;
  *why = CDL_LSQ_POINT_NOT_ON_CHAIN;
  if (m->point.origin) return *why = CDL_LSQ_POINT_TOO_OLD, CDL_OK;
  cdl_buf_reset(&s->block);
  cdl_error look = {0}; /* "not found" is an answer here, not a failure */
  int rc = s->chain.read_block(s->chain.ctx, &m->point, &s->block, &b, &look);
  if (rc == CDL_E_NOT_FOUND) return CDL_OK;
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "local-state-query: %s", look.message);
  cdl_block_info on;
  if (s->chain.find_block_no(s->chain.ctx, b.block_no, &on, &look) == CDL_OK &&
      memcmp(on.hash, b.hash, 32) == 0)
    *why = CDL_LSQ_POINT_TOO_OLD; /* on the chain, but its state is not kept */
  return CDL_OK;
}

static int lsq_handle(cdl_n2n_server *s, const cdl_lsq_msg *m, cdl_error *err) {
  bool idle = s->lsq.state == LSQ_IDLE;
  cdl_lsq_msg reply = {0};
  switch (m->kind) {
    case CDL_LSQ_ACQUIRE:
    case CDL_LSQ_ACQUIRE_VOLATILE_TIP:
    case CDL_LSQ_ACQUIRE_IMMUTABLE_TIP:
    case CDL_LSQ_REACQUIRE:
    case CDL_LSQ_REACQUIRE_VOLATILE_TIP:
    case CDL_LSQ_REACQUIRE_IMMUTABLE_TIP: {
      bool re = m->kind == CDL_LSQ_REACQUIRE || m->kind == CDL_LSQ_REACQUIRE_VOLATILE_TIP ||
                m->kind == CDL_LSQ_REACQUIRE_IMMUTABLE_TIP;
      if (re == idle) break; /* acquire only when idle, re-acquire only when acquired */
      bool ok;
      CDL_TRY(acquire(s, m, &ok, &reply.failure, err));
      reply.kind = ok ? CDL_LSQ_ACQUIRED : CDL_LSQ_FAILURE;
      s->lsq.state = ok ? LSQ_ACQUIRED : LSQ_IDLE; /* a failed re-acquire releases */
      return lsq_send(s, &reply, err);
    }
    case CDL_LSQ_QUERY: {
      if (idle) break;
      cdl_buf r;
      cdl_buf_init(&r, 0);
      int rc = answer(s, m->query, &r, err);
      reply.kind = CDL_LSQ_RESULT;
      reply.result = cdl_span_of(r.data, r.len);
      if (rc == CDL_OK) rc = cdl_cbor_enc_status(&r);
      if (rc == CDL_OK) rc = lsq_send(s, &reply, err);
      cdl_buf_free(&r);
      return rc;
    }
    case CDL_LSQ_RELEASE:
      if (idle) break;
      s->lsq.state = LSQ_IDLE;
      return CDL_OK;
    case CDL_LSQ_DONE:
      if (!idle) break;
      s->lsq.state = LSQ_DONE;
      return CDL_OK;
    default:
      break;
  }
  return cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-state-query: the client may not send %s %s",
                       cdl_lsq_name(m->kind), idle ? "while idle" : "while acquired");
}

int srv_local_state_query(cdl_n2n_server *s, cdl_error *err) {
  while (s->lsq.state != LSQ_DONE && srv_room(s)) {
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_lsq);
    if (in.len == 0) return CDL_OK;
    cdl_lsq_msg m;
    size_t used;
    int rc = cdl_lsq_decode(in.ptr, in.len < SMALL_LIMIT ? in.len : SMALL_LIMIT, &m, &used, err);
    if (rc == CDL_E_TRUNCATED && in.len < SMALL_LIMIT) return CDL_OK;
    if (rc == CDL_E_TRUNCATED)
      return cdl_error_set(err, CDL_E_LIMIT, 0, "local-state-query: a message over %u bytes",
                           (unsigned)SMALL_LIMIT);
    CDL_TRY(rc);
    rc = lsq_handle(s, &m, err); /* |m| points into the ingress */
    cdl_mux_consume(s->mux, s->ch_lsq, used);
    CDL_TRY(rc);
  }
  if (s->lsq.state == LSQ_DONE && cdl_mux_ingress(s->mux, s->ch_lsq).len > 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-state-query: a message after MsgDone");
  return CDL_OK;
}
