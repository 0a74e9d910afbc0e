/*
 * server_txsub.c: the responder (inbound) side of tx-submission v2,
 * protocol 4 (server_internal.h; docs/ouroboros-network.md 4.3;
 * ouroboros-network TxSubmission/Inbound/V2). The peer owns the txs; this
 * side pulls them into the mempool.
 *
 * After MsgInit, with a mempool: ask for tx ids (blocking when nothing is
 * left unacknowledged, else non-blocking), at most 10 unacknowledged and
 * at most 6 per request (the Haskell inbound's maxUnacknowledgedTxIds and
 * maxNumTxIdsToRequest); ask for the bodies of the ids the mempool lacks,
 * at most 6 x 65,540 bytes in flight (txsSizeInflightPerPeer); give each
 * tx to the mempool (a tx it refuses is not the peer's violation); then
 * acknowledge them in the next request. Without a mempool this side asks
 * for nothing, as before.
 *
 * A tx the mempool refuses only because it is full (mempool.full) is not
 * lost: it is kept, with every tx after it in that reply, and they are
 * given to the mempool again, in order, each time it changes, as the
 * Haskell inbound side blocks in the mempool's addTxs. While any waits
 * this side asks for nothing: their ids stay unacknowledged, so the
 * peer's window stays full (back-pressure), and the peer may wait as long
 * as it likes in this state (StIdle: no time limit). What is kept is one
 * reply's txs, at most the bytes asked for (6 x 65,540), freed once all
 * are in or when the connection goes. The peer's violations, each ending the
 * connection: more ids than asked, an advertised size over 65,540, a tx
 * that was not asked for, more txs than asked, a tx that is not a GenTx,
 * a tx whose length is more than 32 bytes off the size advertised for it,
 * a message out of turn or over its byte limit, silence past 10 s where a
 * reply is due (non-blocking ids, txs).
 */
#include <string.h>

#include "server_internal.h"

#define INIT_LIMIT 65535
#define REPLY_LIMIT 721424 /* the channel's bound; the Haskell node allows 2.5 MB */
#define MAX_TX_BYTES 65540
#define MAX_INFLIGHT_BYTES (6 * MAX_TX_BYTES)
#define MAX_PER_REQUEST 6
/* How far a tx's length may be from the size advertised with its id
 * (ouroboros-network const_MAX_TX_SIZE_DISCREPANCY). */
#define MAX_SIZE_DISCREPANCY 32

static int tx_send(cdl_n2n_server *s, const cdl_tx2_msg *m, cdl_error *err) {
  cdl_buf_reset(&s->msg);
  cdl_tx2_encode(&s->msg, m);
  return srv_queue(s, s->ch_tx, err);
}

/* Leading ids that are settled (in the mempool, received or left out). */
static size_t settled_prefix(const cdl_n2n_server *s) {
  size_t n = 0;
  while (n < s->tx.n_ids && s->tx.ids[n].state == TXID_DONE) n++;
  return n;
}

/* |t| settled: a pull of it that this side held ends. */
static void settle(cdl_n2n_server *s, srv_txid *t) {
  bool pulled = t->state == TXID_REQUESTED || t->state == TXID_HELD;
  if (pulled && s->txs.release != NULL) s->txs.release(s->txs.ctx, t->kind, t->hash, s);
  t->state = TXID_DONE;
}

/* Whether this side pulls |t| now: another connection pulling it is left
 * to it (TX_DEFER_US at most: |force| once that is over). */
static bool may_pull(cdl_n2n_server *s, const srv_txid *t, bool force) {
  return force || s->txs.claim == NULL || s->txs.claim(s->txs.ctx, t->kind, t->hash, s);
}

static int request_bodies(cdl_n2n_server *s, uint64_t now_us, bool force, bool *sent,
                          bool *deferred, cdl_error *err) {
  cdl_buf list;
  cdl_buf_init(&list, 0);
  cdl_cbor_enc_indef_array(&list);
  size_t bytes = 0, n = 0;
  for (size_t i = 0; i < s->tx.n_ids; i++) {
    srv_txid *t = &s->tx.ids[i];
    cdl_mempool_entry e;
    if (t->state != TXID_NEW) continue;
    if (s->txs.find(s->txs.ctx, t->kind, t->hash, &e)) { /* have it: nothing to fetch */
      s->tx.pulls_saved += t->deferred;
      t->state = TXID_DONE;
      continue;
    }
    if (bytes + t->size > MAX_INFLIGHT_BYTES) break;
    if (!may_pull(s, t, force)) {
      *deferred = t->deferred = true;
      continue;
    }
    bytes += t->size;
    t->state = TXID_REQUESTED;
    n++;
    cdl_net_enc_gentx_id(&list, t->kind, t->hash);
  }
  cdl_cbor_enc_break(&list);
  int rc = cdl_cbor_enc_status(&list);
  if (rc != CDL_OK) {
    cdl_buf_free(&list);
    return cdl_error_set(err, rc, 0, "tx-submission: out of memory");
  }
  *sent = n > 0;
  if (*sent) {
    cdl_tx2_msg m = {.kind = CDL_TX2_REQUEST_TXS, .items = cdl_span_of(list.data, list.len)};
    rc = tx_send(s, &m, err);
    s->tx.state = TX_TXS;
    s->tx.since = now_us;
    s->tx.requested = n;
  }
  cdl_buf_free(&list);
  return rc;
}

static int request_ids(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  size_t ack = settled_prefix(s), left = s->tx.n_ids - ack;
  memmove(s->tx.ids, s->tx.ids + ack, left * sizeof *s->tx.ids);
  s->tx.n_ids = left;
  size_t room = SRV_MAX_UNACKED - left;
  uint16_t req = (uint16_t)(room < MAX_PER_REQUEST ? room : MAX_PER_REQUEST);
  bool blocking = left == 0;
  if (req == 0) return CDL_OK; /* bodies still due: they come first */
  cdl_tx2_msg m = {
      .kind = CDL_TX2_REQUEST_TX_IDS, .blocking = blocking, .ack = (uint16_t)ack, .req = req};
  s->tx.state = blocking ? TX_IDS_BLOCKING : TX_IDS_NONBLOCKING;
  s->tx.since = now_us;
  s->tx.asked = req;
  return tx_send(s, &m, err);
}

static bool txs_held(const cdl_n2n_server *s) { return s->tx.next_held < s->tx.n_held; }

static uint64_t claims_version(const cdl_n2n_server *s) {
  return s->txs.claims_changes != NULL ? s->txs.claims_changes(s->txs.ctx) : 0;
}

static bool defer_over(const cdl_n2n_server *s, uint64_t now_us) {
  return s->tx.deferring && now_us - s->tx.defer_since >= TX_DEFER_US;
}

/* Our turn (Idle): bodies first, then more ids; nothing while txs wait for
 * room, nor while ids wait for another connection's pull of them to end
 * (their txs then come into the mempool, or the pull failed and this side
 * pulls them; acknowledging them unpulled could lose them). */
static int tx_act(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  if (s->txs.next == NULL || txs_held(s)) return CDL_OK; /* pull nothing: stay idle */
  bool sent = false, deferred = false;
  CDL_TRY(request_bodies(s, now_us, defer_over(s, now_us), &sent, &deferred, err));
  if (deferred && !s->tx.deferring) s->tx.defer_since = now_us;
  s->tx.deferring = deferred;
  if (sent) return CDL_OK;
  if (deferred) {
    s->tx.defer_version = claims_version(s);
    return CDL_OK;
  }
  return request_ids(s, now_us, err);
}

static int take_ids(cdl_n2n_server *s, const cdl_tx2_msg *m, cdl_error *err) {
  if (m->n_items > s->tx.asked)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: %zu ids where %u were asked",
                         m->n_items, s->tx.asked);
  if (m->n_items == 0 && s->tx.state == TX_IDS_BLOCKING)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: an empty blocking reply");
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, m->items.ptr, m->items.len, err);
  CDL_TRY(cdl_cbor_read_indef_array(&cur, "tx ids"));
  for (size_t i = 0; i < m->n_items; i++) {
    cdl_span raw;
    uint64_t size;
    cdl_net_gentx_id id;
    CDL_TRY(cdl_cbor_expect_array(&cur, 2, "tx id and size"));
    CDL_TRY(cdl_cbor_skip(&cur, &raw));
    CDL_TRY(cdl_cbor_read_uint(&cur, &size, "tx size"));
    cdl_error bad = {0};
    if (cdl_net_read_gentx_id(raw, &id, &bad) != CDL_OK || id.era != 0)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: a tx id that is not Byron's");
    if (size > MAX_TX_BYTES)
      return cdl_error_set(err, CDL_E_LIMIT, 0, "tx-submission: a tx of %llu bytes advertised",
                           (unsigned long long)size);
    srv_txid *t = &s->tx.ids[s->tx.n_ids++];
    *t = (srv_txid){.kind = id.kind, .size = (uint32_t)size, .state = TXID_NEW};
    memcpy(t->hash, id.hash, 32);
  }
  return CDL_OK;
}

/* The requested id this tx answers, or NULL. */
static srv_txid *requested(cdl_n2n_server *s, uint8_t kind, const uint8_t hash[32]) {
  for (size_t i = 0; i < s->tx.n_ids; i++) {
    srv_txid *t = &s->tx.ids[i];
    if (t->state == TXID_REQUESTED && t->kind == kind && memcmp(t->hash, hash, 32) == 0) return t;
  }
  return NULL;
}

/* Keeps |t|'s tx until the mempool has room for it. */
static int hold(cdl_n2n_server *s, srv_txid *t, cdl_span gentx, cdl_error *err) {
  /* One reply's txs at most, each asked for once. */
  CDL_ASSERT(s->tx.n_held < SRV_MAX_UNACKED);
  CDL_ASSERT(s->tx.held_bytes.len + gentx.len <= MAX_INFLIGHT_BYTES + MAX_SIZE_DISCREPANCY * SRV_MAX_UNACKED);
  srv_held *h = &s->tx.held[s->tx.n_held];
  *h = (srv_held){.id = (uint8_t)(t - s->tx.ids),
                  .off = (uint32_t)s->tx.held_bytes.len,
                  .len = (uint32_t)gentx.len};
  if (cdl_buf_append(&s->tx.held_bytes, gentx.ptr, gentx.len) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "tx-submission: out of memory");
  s->tx.n_held++;
  s->tx.waited++;
  t->state = TXID_HELD;
  s->tx.deferring = false; /* looked at again once the held txs are in */
  s->tx.held_version = s->txs.changes(s->txs.ctx);
  return CDL_OK;
}

/* |t|'s tx to the mempool: taken, refused, or kept for later when it only
 * lacks room (and so is every tx after one kept: they go in order). */
static int to_mempool(cdl_n2n_server *s, srv_txid *t, cdl_span gentx, cdl_error *err) {
  if (s->tx.n_held > 0) return hold(s, t, gentx, err);
  cdl_rejection rej;
  int rc = s->judge.submit(s->judge.ctx, gentx.ptr, gentx.len, &rej);
  if (rc == CDL_E_NOMEM) return cdl_error_set(err, rc, 0, "tx-submission: out of memory");
  if (rc == CDL_E_REJECTED && srv_mempool_full(&rej)) return hold(s, t, gentx, err);
  settle(s, t);
  s->tx.accepted += rc == CDL_OK;
  return CDL_OK;
}

/* The kept txs, in order, while the mempool takes them (or refuses them
 * for another rule); they are settled, to be acknowledged. */
static int add_held(cdl_n2n_server *s, cdl_error *err) {
  while (txs_held(s)) {
    const srv_held *h = &s->tx.held[s->tx.next_held];
    cdl_rejection rej;
    int rc = s->judge.submit(s->judge.ctx, s->tx.held_bytes.data + h->off, h->len, &rej);
    if (rc == CDL_E_NOMEM) return cdl_error_set(err, rc, 0, "tx-submission: out of memory");
    if (rc == CDL_E_REJECTED && srv_mempool_full(&rej)) {
      s->tx.held_version = s->txs.changes(s->txs.ctx);
      return CDL_OK;
    }
    settle(s, &s->tx.ids[h->id]);
    s->tx.accepted += rc == CDL_OK;
    s->tx.next_held++;
  }
  s->tx.n_held = s->tx.next_held = 0;
  cdl_buf_free(&s->tx.held_bytes);
  return CDL_OK;
}

bool srv_tx_submission_waiting(const cdl_n2n_server *s) {
  if (s->tx.state != TX_IDLE) return false;
  if (txs_held(s)) return s->txs.changes(s->txs.ctx) != s->tx.held_version;
  return s->tx.deferring && claims_version(s) != s->tx.defer_version;
}

int srv_tx_submission_wake(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  bool due = s->tx.state == TX_IDLE && defer_over(s, now_us);
  if (!srv_tx_submission_waiting(s) && !due) return CDL_OK;
  if (txs_held(s)) CDL_TRY(add_held(s, err));
  return tx_act(s, now_us, err);
}

static int take_txs(cdl_n2n_server *s, const cdl_tx2_msg *m, cdl_error *err) {
  if (m->n_items > s->tx.requested)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: %zu txs where %zu were asked",
                         m->n_items, s->tx.requested);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, m->items.ptr, m->items.len, err);
  CDL_TRY(cdl_cbor_read_indef_array(&cur, "txs"));
  for (size_t i = 0; i < m->n_items; i++) {
    cdl_span raw, gentx;
    uint64_t era = 0;
    uint8_t kind, hash[32];
    cdl_rejection rej;
    CDL_TRY(cdl_cbor_skip(&cur, &raw));
    cdl_error bad = {0};
    srv_txid *t = NULL;
    int id_rc = CDL_E_TAG;
    if (cdl_net_read_gentx(raw, &era, &gentx, &bad) == CDL_OK && era == 0)
      id_rc = cdl_mempool_gentx_id(gentx.ptr, gentx.len, &kind, hash, &rej);
    /* Our memory, not the peer's fault: not a violation to blame it for. */
    if (id_rc == CDL_E_NOMEM) return cdl_error_set(err, id_rc, 0, "tx-submission: out of memory");
    if (id_rc == CDL_OK) t = requested(s, kind, hash);
    if (t == NULL)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: a tx that was not asked for");
    if (raw.len > t->size + MAX_SIZE_DISCREPANCY || t->size > raw.len + MAX_SIZE_DISCREPANCY)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                           "tx-submission: a tx of %zu bytes advertised as %u", raw.len, t->size);
    s->tx.received++;
    CDL_TRY(to_mempool(s, t, gentx, err));
  }
  for (size_t i = 0; i < s->tx.n_ids; i++) /* the ones left out are settled too */
    if (s->tx.ids[i].state == TXID_REQUESTED) settle(s, &s->tx.ids[i]);
  return CDL_OK;
}

static int tx_handle(cdl_n2n_server *s, const cdl_tx2_msg *m, uint64_t now_us, cdl_error *err) {
  int st = s->tx.state;
  bool ids = st == TX_IDS_BLOCKING || st == TX_IDS_NONBLOCKING;
  if (st == TX_INIT && m->kind == CDL_TX2_INIT) {
    s->tx.state = TX_IDLE;
    return tx_act(s, now_us, err);
  }
  if (ids && m->kind == CDL_TX2_REPLY_TX_IDS) {
    CDL_TRY(take_ids(s, m, err));
    s->tx.state = TX_IDLE;
    return tx_act(s, now_us, err);
  }
  if (st == TX_TXS && m->kind == CDL_TX2_REPLY_TXS) {
    CDL_TRY(take_txs(s, m, err));
    s->tx.state = TX_IDLE;
    return tx_act(s, now_us, err);
  }
  if (st == TX_IDS_BLOCKING && m->kind == CDL_TX2_DONE) {
    s->tx.state = TX_DONE;
    return CDL_OK;
  }
  return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: the client may not send %s here",
                       cdl_tx2_name(m->kind));
}

int srv_tx_submission(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  for (;;) {
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_tx);
    if (in.len == 0) return CDL_OK;
    if (s->tx.state == TX_IDLE || s->tx.state == TX_DONE)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                           "tx-submission: a message while the server has agency");
    size_t limit = s->tx.state == TX_INIT ? INIT_LIMIT : REPLY_LIMIT;
    cdl_tx2_msg m;
    size_t used;
    int rc = cdl_tx2_decode(in.ptr, in.len < limit ? in.len : limit, &m, &used, err);
    if (rc == CDL_E_TRUNCATED && in.len < limit) return CDL_OK;
    if (rc == CDL_E_TRUNCATED)
      return cdl_error_set(err, CDL_E_LIMIT, 0, "tx-submission: a message over %zu bytes", limit);
    CDL_TRY(rc);
    rc = tx_handle(s, &m, now_us, err); /* |m| points into the ingress */
    cdl_mux_consume(s->mux, s->ch_tx, used);
    CDL_TRY(rc);
  }
}

uint64_t srv_tx_submission_deadline(const cdl_n2n_server *s) {
  bool due = s->tx.state == TX_IDS_NONBLOCKING || s->tx.state == TX_TXS;
  return due ? s->tx.since + TX_REPLY_TIMEOUT_US : UINT64_MAX;
}

uint64_t srv_tx_submission_defer_deadline(const cdl_n2n_server *s) {
  bool waits = s->tx.state == TX_IDLE && s->tx.deferring;
  return waits ? s->tx.defer_since + TX_DEFER_US : UINT64_MAX;
}
