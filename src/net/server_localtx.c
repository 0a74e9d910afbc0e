/*
 * server_localtx.c: the transaction protocols of a node-to-client
 * connection (server_internal.h; docs/ouroboros-network.md 4.6
 * and 4.8; docs/network.md "Local tx-submission", "Local tx-monitor").
 *
 * Local tx-submission: each MsgSubmitTx goes to the caller's judge (the
 * kernel's: its mempool against its tip at its slot); the answer is
 * MsgAcceptTx or MsgRejectTx with the reason (apply_tx_error.c). A tx of
 * another era than Byron is refused with the era mismatch. A tx refused
 * only because the mempool is full (mempool.full: valid otherwise) is not
 * answered yet, as the Haskell node's mempool makes it wait: its message
 * stays at the head of the channel (nothing behind it is read, and the
 * client may send nothing before the answer) and goes to the judge again
 * each time the mempool changes, until it is taken or refused for
 * another rule, or CDL_LOCAL_TX_WAIT_MS passed: then mempool.full is the
 * answer. Nothing is held but the bytes already in the ingress.
 *
 * Local tx-monitor: MsgAcquire takes a snapshot (the newest ticket and
 * the slot the mempool validates for); MsgNextTx walks the entries up to
 * that ticket that are still in the mempool; MsgHasTx and the sizes read
 * the mempool as it is, all through the caller's reads (cdl_n2n_txs). MsgAwaitAcquire (MsgAcquire while acquired) waits
 * until the mempool changes.
 */
#include <string.h>

#include "server_internal.h"

/* The largest message a client may send: a GenTx the mempool reads, with
 * its wrapping. Beyond it the connection ends (the real node has no
 * limit; this one has a bound on what it buffers). */
#define LOCAL_TX_LIMIT (CDL_MEMPOOL_MAX_PAYLOAD + 64)

/* ---- Local tx-submission ---- */

static int ltx_send(cdl_n2n_server *s, const cdl_ltx_msg *m, cdl_error *err) {
  cdl_buf_reset(&s->msg);
  cdl_ltx_encode(&s->msg, m);
  return srv_queue(s, s->ch_ltx, err);
}

/* A submission refused only for want of room: whether it waits on (it
 * begins to wait now, or its limit has not passed), and when it may be
 * worth trying again (the mempool changed). */
static bool wait_for_room(cdl_n2n_server *s, uint64_t now_us) {
  if (!s->ltx.waiting) {
    s->ltx.waiting = true;
    s->ltx.wait_since = now_us;
    s->ltx.waited++;
  } else if (now_us >= s->ltx.wait_since + LOCAL_TX_WAIT_US) {
    s->ltx.waiting = false;
    s->ltx.expired++;
    return false;
  }
  s->ltx.wait_version = s->txs.changes(s->txs.ctx);
  return true;
}

/* The judge's verdict on |wrapped|, queued as the answer; or *held: it
 * waits for room and nothing is answered yet. */
static int submit(cdl_n2n_server *s, cdl_span wrapped, uint64_t now_us, bool *held,
                  cdl_error *err) {
  uint64_t era = 0;
  cdl_span gentx;
  cdl_error bad = {0};
  if (cdl_net_read_gentx(wrapped, &era, &gentx, &bad) != CDL_OK)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "local-tx-submission: a tx that is not a GenTx: %s", bad.message);
  cdl_buf reason;
  cdl_buf_init(&reason, 0);
  cdl_ltx_msg reply = {.kind = CDL_LTX_ACCEPT};
  int rc = CDL_OK;
  if (era != 0) {
    reply.kind = CDL_LTX_REJECT;
    cdl_net_enc_era_mismatch(&reason, era);
  } else {
    cdl_rejection rej;
    rc = s->judge.submit(s->judge.ctx, gentx.ptr, gentx.len, &rej);
    if (rc == CDL_E_REJECTED && srv_mempool_full(&rej) && wait_for_room(s, now_us)) {
      *held = true;
      return CDL_OK;
    }
    if (rc == CDL_E_REJECTED) {
      rc = CDL_OK;
      reply.kind = CDL_LTX_REJECT;
      cdl_net_enc_apply_tx_error(&reason, &rej);
    }
  }
  s->ltx.waiting = false;
  reply.reason = cdl_span_of(reason.data, reason.len);
  if (rc == CDL_OK) rc = cdl_cbor_enc_status(&reason);
  if (rc == CDL_OK)
    rc = ltx_send(s, &reply, err);
  else if (err->code == 0)
    cdl_error_set(err, rc, 0, "local-tx-submission: out of memory");
  cdl_buf_free(&reason);
  s->ltx.submitted++;
  s->ltx.accepted += reply.kind == CDL_LTX_ACCEPT;
  return rc;
}

bool srv_local_tx_waiting(const cdl_n2n_server *s) {
  return s->ltx.waiting && s->txs.changes(s->txs.ctx) != s->ltx.wait_version;
}

uint64_t srv_local_tx_deadline(const cdl_n2n_server *s) {
  return s->ltx.waiting ? s->ltx.wait_since + LOCAL_TX_WAIT_US : UINT64_MAX;
}

int srv_local_tx_submission(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  while (s->ltx.state != LTX_DONE && srv_room(s)) {
    /* A waiting submission is tried again only when that may change its verdict. */
    if (s->ltx.waiting && !srv_local_tx_waiting(s) && now_us < srv_local_tx_deadline(s))
      return CDL_OK;
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_ltx);
    if (in.len == 0) return CDL_OK;
    cdl_ltx_msg m;
    size_t used;
    int rc =
        cdl_ltx_decode(in.ptr, in.len < LOCAL_TX_LIMIT ? in.len : LOCAL_TX_LIMIT, &m, &used, err);
    if (rc == CDL_E_TRUNCATED && in.len < LOCAL_TX_LIMIT) return CDL_OK;
    if (rc == CDL_E_TRUNCATED)
      return cdl_error_set(err, CDL_E_LIMIT, 0, "local-tx-submission: a message over %u bytes",
                           (unsigned)LOCAL_TX_LIMIT);
    CDL_TRY(rc);
    bool held = false;
    if (m.kind == CDL_LTX_DONE)
      s->ltx.state = LTX_DONE;
    else if (m.kind == CDL_LTX_SUBMIT)
      rc = submit(s, m.tx, now_us, &held, err);
    else
      rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-tx-submission: the client may not send %s",
                         cdl_ltx_name(m.kind));
    if (held) return CDL_OK; /* the message stays where it is until answered */
    cdl_mux_consume(s->mux, s->ch_ltx, used);
    CDL_TRY(rc);
  }
  if (s->ltx.state == LTX_DONE && cdl_mux_ingress(s->mux, s->ch_ltx).len > 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-tx-submission: a message after MsgDone");
  return CDL_OK;
}

/* ---- Local tx-monitor ---- */

static int ltm_send(cdl_n2n_server *s, const cdl_ltm_msg *m, cdl_error *err) {
  cdl_buf_reset(&s->msg);
  cdl_ltm_encode(&s->msg, m);
  return srv_queue(s, s->ch_ltm, err);
}

static int ltm_acquired(cdl_n2n_server *s, cdl_error *err) {
  cdl_mempool_stats st;
  s->txs.stats(s->txs.ctx, &st);
  s->ltm.state = LTM_ACQUIRED;
  s->ltm.snapshot_ticket = st.last_ticket;
  s->ltm.cursor = 0;
  s->ltm.version = s->txs.changes(s->txs.ctx);
  cdl_ltm_msg reply = {.kind = CDL_LTM_ACQUIRED, .slot = st.tip_slot};
  return ltm_send(s, &reply, err);
}

static int ltm_next_tx(cdl_n2n_server *s, cdl_error *err) {
  cdl_mempool_entry e;
  cdl_ltm_msg reply = {.kind = CDL_LTM_REPLY_NEXT_TX};
  cdl_buf tx;
  cdl_buf_init(&tx, 0);
  if (s->txs.next(s->txs.ctx, s->ltm.cursor, &e) && e.ticket <= s->ltm.snapshot_ticket) {
    s->ltm.cursor = e.ticket;
    cdl_net_enc_gentx(&tx, e.gentx);
    reply.has_tx = true;
    reply.tx = cdl_span_of(tx.data, tx.len);
  } else {
    s->ltm.cursor = s->ltm.snapshot_ticket; /* the snapshot is exhausted */
  }
  int rc = cdl_cbor_enc_status(&tx);
  rc = rc == CDL_OK ? ltm_send(s, &reply, err)
                    : cdl_error_set(err, rc, 0, "local-tx-monitor: out of memory");
  cdl_buf_free(&tx);
  return rc;
}

static int ltm_has_tx(cdl_n2n_server *s, cdl_span raw_id, cdl_error *err) {
  cdl_net_gentx_id id;
  cdl_error bad = {0};
  if (cdl_net_read_gentx_id(raw_id, &id, &bad) != CDL_OK)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "local-tx-monitor: a tx id that is not a GenTxId: %s", bad.message);
  cdl_mempool_entry e;
  cdl_ltm_msg reply = {.kind = CDL_LTM_REPLY_HAS_TX};
  reply.has = id.era == 0 && s->txs.find(s->txs.ctx, id.kind, id.hash, &e) &&
              e.ticket <= s->ltm.snapshot_ticket;
  return ltm_send(s, &reply, err);
}

static uint32_t clamp32(size_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static int ltm_sizes(cdl_n2n_server *s, bool measures, cdl_error *err) {
  cdl_mempool_stats st;
  s->txs.stats(s->txs.ctx, &st);
  cdl_ltm_msg reply = {.kind = CDL_LTM_REPLY_GET_SIZES,
                       .capacity = clamp32(st.capacity),
                       .size = clamp32(st.bytes),
                       .count = clamp32(st.count)};
  uint8_t map[64];
  cdl_buf b;
  cdl_buf_init_fixed(&b, map, sizeof map);
  if (measures) { /* {"transaction_bytes": [size, capacity]} */
    reply.kind = CDL_LTM_REPLY_GET_MEASURES;
    cdl_cbor_enc_map(&b, 1);
    cdl_cbor_enc_text(&b, (const uint8_t *)"transaction_bytes", 17);
    cdl_cbor_enc_array(&b, 2);
    cdl_cbor_enc_uint(&b, st.bytes);
    cdl_cbor_enc_uint(&b, st.capacity);
    CDL_ASSERT(!b.failed);
    reply.measures = cdl_span_of(b.data, b.len);
  }
  return ltm_send(s, &reply, err);
}

static int ltm_handle(cdl_n2n_server *s, const cdl_ltm_msg *m, cdl_error *err) {
  bool idle = s->ltm.state == LTM_IDLE, acquired = s->ltm.state == LTM_ACQUIRED;
  switch (m->kind) {
    case CDL_LTM_ACQUIRE:
      if (idle) return ltm_acquired(s, err);
      if (!acquired) break;
      s->ltm.state = LTM_AWAITING; /* MsgAwaitAcquire: answered once the mempool changes */
      return srv_local_tx_monitor_wake(s, err);
    case CDL_LTM_RELEASE:
      if (!acquired) break;
      s->ltm.state = LTM_IDLE;
      return CDL_OK;
    case CDL_LTM_DONE:
      if (!idle) break;
      s->ltm.state = LTM_DONE;
      return CDL_OK;
    case CDL_LTM_NEXT_TX:
      if (acquired) return ltm_next_tx(s, err);
      break;
    case CDL_LTM_HAS_TX:
      if (acquired) return ltm_has_tx(s, m->tx_id, err);
      break;
    case CDL_LTM_GET_SIZES:
    case CDL_LTM_GET_MEASURES:
      if (acquired) return ltm_sizes(s, m->kind == CDL_LTM_GET_MEASURES, err);
      break;
    default:
      break;
  }
  return cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-tx-monitor: the client may not send %s %s",
                       cdl_ltm_name(m->kind),
                       idle       ? "while idle"
                       : acquired ? "while acquired"
                                  : "while waiting");
}

int srv_local_tx_monitor(cdl_n2n_server *s, cdl_error *err) {
  while (s->ltm.state != LTM_DONE && s->ltm.state != LTM_AWAITING && srv_room(s)) {
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_ltm);
    if (in.len == 0) return CDL_OK;
    cdl_ltm_msg m;
    size_t used;
    int rc =
        cdl_ltm_decode(in.ptr, in.len < LOCAL_TX_LIMIT ? in.len : LOCAL_TX_LIMIT, &m, &used, err);
    if (rc == CDL_E_TRUNCATED && in.len < LOCAL_TX_LIMIT) return CDL_OK;
    if (rc == CDL_E_TRUNCATED)
      return cdl_error_set(err, CDL_E_LIMIT, 0, "local-tx-monitor: a message over %u bytes",
                           (unsigned)LOCAL_TX_LIMIT);
    CDL_TRY(rc);
    rc = ltm_handle(s, &m, err);
    cdl_mux_consume(s->mux, s->ch_ltm, used);
    CDL_TRY(rc);
  }
  if (s->ltm.state == LTM_DONE && cdl_mux_ingress(s->mux, s->ch_ltm).len > 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-tx-monitor: a message after MsgDone");
  return CDL_OK;
}

bool srv_local_tx_monitor_waiting(const cdl_n2n_server *s) {
  return s->ltm.state == LTM_AWAITING && s->txs.changes(s->txs.ctx) != s->ltm.version;
}

int srv_local_tx_monitor_wake(cdl_n2n_server *s, cdl_error *err) {
  if (!srv_local_tx_monitor_waiting(s)) return CDL_OK;
  CDL_TRY(ltm_acquired(s, err));
  return srv_local_tx_monitor(s, err); /* requests that came behind the await */
}
