/*
 * server.c: one inbound node-to-node connection, the responder side of
 * every mini-protocol, without I/O (include/cardinal/net.h "Node-to-node
 * server"; docs/network.md "Serving"; network spec miniprotocols.tex and
 * the per-state limits of ouroboros-network's codecs,
 * docs/ouroboros-network.md section 5.1).
 *
 * Only the handshake channel exists until a version is accepted, so any
 * other protocol's data before that is an unknown protocol. Then:
 *   chain-sync   a follower of the chain (cdl_n2n_chain); the first reply after a new
 *                start or an intersection is a roll-backward to it;
 *   block-fetch  inclusive ranges of the selected chain, streamed while
 *                the channel's egress stays under a bound;
 *   keep-alive   the cookie echoed;
 *   tx-submission MsgInit, then, with a mempool, pulling the peer's txs
 *                into it (server_txsub.c; a tx the full mempool has no
 *                room for waits there); without one, idle.
 * A message is read only in a state where the client has agency; there
 * its byte limit and time limit apply. Anything else is a violation that
 * ends the connection: the caller closes it on any error returned.
 */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

#define HANDSHAKE_LIMIT 5760
#define SEC SEC_US
/* Scratch buffers left larger than this are freed after each call: a
 * connection between calls holds little more than its queues. */
#define KEEP_BYTES ((size_t)16 << 10)

static int open_channels(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);

static bool has_ingress(const cdl_n2n_server *s, int ch) {
  return ch >= 0 && cdl_mux_ingress(s->mux, ch).len > 0;
}

bool srv_room(const cdl_n2n_server *s) { return cdl_mux_egress_room(s->mux); }

void srv_tip(cdl_n2n_server *s, cdl_tip *t) {
  cdl_block_info b;
  memset(t, 0, sizeof *t);
  t->point.origin = true;
  if (!s->chain.tip(s->chain.ctx, &b)) return;
  t->point.origin = false;
  t->point.slot = b.slot;
  memcpy(t->point.hash, b.hash, 32);
  t->block_no = b.block_no;
}

int srv_queue(cdl_n2n_server *s, int ch, cdl_error *err) {
  if (cdl_cbor_enc_status(&s->msg) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "server: out of memory encoding a message");
  if (cdl_mux_queue(s->mux, ch, s->msg.data, s->msg.len) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "server: egress queue full");
  return CDL_OK;
}

int cdl_n2n_server_new(const cdl_n2n_chain *chain, const cdl_hs_config *hs, uint64_t now_us,
                       cdl_n2n_server **out, cdl_error *err) {
  cdl_n2n_server *s = calloc(1, sizeof *s);
  if (s == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "server: out of memory");
  s->chain = *chain;
  s->hs = *hs;
  s->started_us = now_us;
  s->mux = &s->own_mux;
  cdl_mux_init(s->mux, HANDSHAKE_TIMEOUT_US); /* 10 s per SDU during the handshake */
  s->ch_hs = cdl_mux_add_channel(s->mux, CDL_PROTO_HANDSHAKE, false, HANDSHAKE_LIMIT);
  s->ch_cs = s->ch_bf = s->ch_ka = s->ch_tx = s->ch_lsq = s->ch_ltx = s->ch_ltm = -1;
  s->ltx.state = LTX_DONE;
  s->ltm.state = LTM_DONE;
  s->local = hs->node_to_client;
  cdl_buf_init(&s->msg, 0);
  cdl_buf_init(&s->block, 0);
  cdl_buf_init(&s->header, 0);
  cdl_buf_init(&s->tx.held_bytes, 0);
  *out = s;
  return CDL_OK;
}

int cdl_n2n_server_attach(cdl_mux *mux, const cdl_n2n_chain *chain, const cdl_hs_config *hs,
                          uint32_t version, uint64_t now_us, cdl_n2n_server **out,
                          cdl_error *err) {
  *out = NULL;
  if (hs->node_to_client)
    return cdl_error_set(err, CDL_E_USAGE, 0, "server: only node-to-node is duplex");
  cdl_n2n_server *s;
  CDL_TRY(cdl_n2n_server_new(chain, hs, now_us, &s, err));
  cdl_mux_free(&s->own_mux);
  s->mux = mux;
  s->ch_hs = -1; /* the connection's handshake was its initiator's */
  s->handshake_done = s->ready = true;
  s->awaiting_peer = true;
  s->version = version;
  int rc = open_channels(s, now_us, err);
  if (rc != CDL_OK) {
    cdl_n2n_server_del(s);
    return rc;
  }
  *out = s;
  return CDL_OK;
}

bool cdl_n2n_server_duplex(const cdl_n2n_server *s) {
  return s->ready && !s->local && !s->hs_result.agreed.initiator_only;
}

cdl_mux *cdl_n2n_server_mux(cdl_n2n_server *s) { return s->mux; }

void cdl_n2n_server_del(cdl_n2n_server *s) {
  if (s == NULL) return;
  srv_part_release(s);
  if (s->txs.release_all != NULL) s->txs.release_all(s->txs.ctx, s); /* its pulls end */
  s->chain.follower_del(s->chain.ctx, s->cs.f);
  s->chain.follower_del(s->chain.ctx, s->bf.f);
  if (s->mux == &s->own_mux) cdl_mux_free(s->mux);
  cdl_buf_free(&s->msg);
  cdl_buf_free(&s->block);
  cdl_buf_free(&s->header);
  cdl_buf_free(&s->tx.held_bytes);
  free(s);
}

bool cdl_n2n_server_finished(const cdl_n2n_server *s) { return s->finished; }
bool cdl_n2n_server_ready(const cdl_n2n_server *s) { return s->ready; }
uint32_t cdl_n2n_server_version(const cdl_n2n_server *s) { return s->version; }

cdl_n2n_server_stats cdl_n2n_server_stats_get(const cdl_n2n_server *s) {
  return (cdl_n2n_server_stats){.blocks_served = s->blocks_served,
                                .headers_served = s->headers_served,
                                .txs_received = s->tx.received + s->ltx.submitted,
                                .txs_accepted = s->tx.accepted + s->ltx.accepted,
                                .txs_waiting = (s->tx.n_held - s->tx.next_held) + s->ltx.waiting,
                                .txs_waited = s->tx.waited + s->ltx.waited,
                                .tx_waits_expired = s->ltx.expired,
                                .tx_pulls_saved = s->tx.pulls_saved};
}

/* ---- Handshake
 * ---------------------------------------------------------------- */

/* The node-to-node responder channels with their ingress bounds
 * (docs/network.md "Serving"): opened once a version is agreed, or
 * beforehand on an outbound connection that offers both directions, so
 * that the peer's first requests, which may come with its accept, find
 * them. */
static const struct {
  uint16_t protocol;
  size_t limit;
} N2N_RESPONDER[] = {{CDL_PROTO_CHAIN_SYNC, 462000},
                     {CDL_PROTO_BLOCK_FETCH, 1000000},
                     {CDL_PROTO_KEEP_ALIVE, 1408},
                     {CDL_PROTO_TX_SUBMISSION, 721424}};

int cdl_n2n_responder_channels(cdl_mux *mux, cdl_error *err) {
  for (size_t i = 0; i < sizeof N2N_RESPONDER / sizeof *N2N_RESPONDER; i++) {
    if (cdl_mux_find(mux, N2N_RESPONDER[i].protocol, false) >= 0) continue;
    if (cdl_mux_add_channel(mux, N2N_RESPONDER[i].protocol, false, N2N_RESPONDER[i].limit) < 0)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "server: cannot open channels");
  }
  return CDL_OK;
}

bool cdl_n2n_responder_idle(const cdl_mux *mux) {
  for (size_t i = 0; i < sizeof N2N_RESPONDER / sizeof *N2N_RESPONDER; i++) {
    int c = cdl_mux_find(mux, N2N_RESPONDER[i].protocol, false);
    if (c >= 0 && cdl_mux_ingress(mux, c).len > 0) return false;
  }
  return true;
}

/* The channels of the agreed connection, with their ingress bounds
 * (docs/network.md "Serving"). */
/* Node-to-client: no time limits (the real node has none) and the same
 * byte bound on what a client may queue. */
static int open_local_channels(cdl_n2n_server *s, cdl_error *err) {
  s->ch_cs = cdl_mux_add_channel(s->mux, CDL_PROTO_LOCAL_CHAIN_SYNC, false, 462000);
  s->ch_lsq = cdl_mux_add_channel(s->mux, CDL_PROTO_LOCAL_STATE_QUERY, false, 462000);
  if (s->ch_cs < 0 || s->ch_lsq < 0)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "server: cannot open channels");
  if (s->txs.next != NULL) {
    s->ch_ltx = cdl_mux_add_channel(s->mux, CDL_PROTO_LOCAL_TX_SUBMISSION, false, 462000);
    s->ch_ltm = cdl_mux_add_channel(s->mux, CDL_PROTO_LOCAL_TX_MONITOR, false, 462000);
    if (s->ch_ltx < 0 || s->ch_ltm < 0)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "server: cannot open channels");
    s->ltx.state = LTX_IDLE;
    s->ltm.state = LTM_IDLE;
  }
  s->ka.state = KA_DONE;
  s->tx.state = TX_DONE;
  s->bf.state = BF_DONE;
  return CDL_OK;
}

static int open_channels(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  s->mux->sdu_timeout_us = 30 * SEC;
  s->cs.state = CS_IDLE;
  s->cs.since = s->ka.since = now_us;
  s->cs.rollback_pending = true; /* a new reader starts with "back to the origin" */
  s->cs.rollback_to.origin = true;
  if (s->local) {
    CDL_TRY(open_local_channels(s, err));
    return s->chain.follower_new(s->chain.ctx, false, &s->cs.f, err);
  }
  CDL_TRY(cdl_n2n_responder_channels(s->mux, err));
  s->ch_cs = cdl_mux_find(s->mux, CDL_PROTO_CHAIN_SYNC, false);
  s->ch_bf = cdl_mux_find(s->mux, CDL_PROTO_BLOCK_FETCH, false);
  s->ch_ka = cdl_mux_find(s->mux, CDL_PROTO_KEEP_ALIVE, false);
  s->ch_tx = cdl_mux_find(s->mux, CDL_PROTO_TX_SUBMISSION, false);
  s->bf.state = BF_IDLE;
  CDL_TRY(s->chain.follower_new(s->chain.ctx, false, &s->cs.f, err));
  return s->chain.follower_new(s->chain.ctx, true, &s->bf.f, err);
}

static int handshake(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  cdl_span in = cdl_mux_ingress(s->mux, s->ch_hs);
  cdl_hs_msg m;
  size_t used;
  int rc = cdl_hs_decode(in.ptr, in.len, &m, &used, err);
  if (rc == CDL_E_TRUNCATED) return CDL_OK; /* the mux bounds it at 5,760 bytes */
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "handshake: undecodable proposal");
  cdl_mux_consume(s->mux, s->ch_hs, used);
  if (m.kind != CDL_HS_PROPOSE)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: the client sent message %u", m.kind);
  cdl_buf_reset(&s->msg);
  cdl_hs_respond(&s->hs, &m, &s->msg, &s->hs_result);
  CDL_TRY(srv_queue(s, s->ch_hs, err));
  s->handshake_done = true;
  if (s->hs_result.outcome != CDL_HS_ACCEPTED) {
    s->finished = true; /* refused or queried: the reply, then the end */
    return CDL_OK;
  }
  s->version = s->hs_result.version;
  s->ready = true;
  return open_channels(s, now_us, err);
}

/* The first request of an attached server's peer starts its clocks. */
static void peer_started(cdl_n2n_server *s, uint64_t now_us) {
  if (!s->awaiting_peer || cdl_n2n_responder_idle(s->mux)) return;
  s->awaiting_peer = false;
  s->cs.since = s->ka.since = now_us;
}

/* ---- Driving
 * ------------------------------------------------------------------ */

/* The node-to-client protocols besides chain-sync. */
static int srv_local(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  CDL_TRY(srv_local_state_query(s, err));
  if (s->txs.next == NULL) return CDL_OK;
  CDL_TRY(srv_local_tx_submission(s, now_us, err));
  return srv_local_tx_monitor(s, err);
}

/* Every request waiting in the ingress that the egress has room for; the
 * rest wait there, under their channels' ingress limits, until a write
 * makes room and the driver polls (cdl_n2n_server_wants_poll). */
static int take_requests(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  CDL_TRY(srv_chain_sync(s, now_us, err));
  if (s->local) return srv_local(s, now_us, err);
  CDL_TRY(srv_block_fetch(s, err));
  CDL_TRY(srv_keep_alive(s, now_us, err));
  return srv_tx_submission(s, now_us, err);
}

/* A burst (the 648 KB epoch-0 EBB, a big query answer) does not keep its
 * memory: scratch buffers go back once used, except a range's first
 * block, read ahead and not yet sent. */
static void release_scratch(cdl_n2n_server *s) {
  if (s->msg.cap > KEEP_BYTES) cdl_buf_free(&s->msg);
  if (s->header.cap > KEEP_BYTES) cdl_buf_free(&s->header);
  bool held = s->bf.state == BF_STREAMING && s->bf.first_pending;
  if (!held && s->block.cap > KEEP_BYTES) cdl_buf_free(&s->block);
}

int cdl_n2n_server_recv(cdl_n2n_server *s, const uint8_t *data, size_t len, uint64_t now_us,
                        cdl_error *err) {
  if (s->finished) return cdl_error_set(err, CDL_E_PROTOCOL, 0, "data after the handshake ended");
  if (!s->handshake_done) {
    /* SDU by SDU until the handshake is over: a peer's first requests may
     * come in the same read as its proposal, and are read once the agreed
     * protocols exist (the Haskell node leaves them in the socket until
     * its mux starts); unknown before, they would end the connection. */
    while (len > 0 && !s->handshake_done) {
      size_t n = cdl_mux_sdu_rest(s->mux, data, len);
      CDL_TRY(cdl_mux_recv(s->mux, data, n, now_us, err));
      data += n;
      len -= n;
      CDL_TRY(handshake(s, now_us, err));
    }
    CDL_TRY(cdl_mux_recv(s->mux, data, len, now_us, err));
    if (!s->ready) {
      if (s->handshake_done && has_ingress(s, s->ch_hs))
        return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: a second message");
      return CDL_OK;
    }
  } else {
    CDL_TRY(cdl_mux_recv(s->mux, data, len, now_us, err));
  }
  if (has_ingress(s, s->ch_hs))
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: a message after the handshake");
  peer_started(s, now_us);
  int rc = take_requests(s, now_us, err);
  release_scratch(s);
  return rc;
}

void cdl_n2n_server_set_system_start(cdl_n2n_server *s, uint64_t unix_seconds) {
  s->system_start_unix = unix_seconds;
}

void cdl_n2n_server_set_slot_ms(cdl_n2n_server *s, uint64_t slot_ms) { s->slot_ms = slot_ms; }

void cdl_n2n_server_set_txs(cdl_n2n_server *s, cdl_n2n_txs txs, cdl_n2n_tx_judge judge) {
  s->txs = txs;
  s->judge = judge;
}

/* The time limit of a state where the client has agency. */
static int check_wait(uint64_t since, uint64_t limit_us, uint64_t now_us, const char *what,
                      cdl_error *err) {
  if (limit_us == 0 || now_us < since + limit_us) return CDL_OK;
  return cdl_error_set(err, CDL_E_TIMEOUT, 0, "%s: no message within %llu s", what,
                       (unsigned long long)(limit_us / SEC));
}

int cdl_n2n_server_poll(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  CDL_TRY(cdl_mux_check_time(s->mux, now_us, err));
  if (!s->handshake_done) {
    uint64_t limit = s->hs.node_to_client ? 0 : HANDSHAKE_TIMEOUT_US;
    return check_wait(s->started_us, limit, now_us, "handshake", err);
  }
  if (!s->ready || s->awaiting_peer) return CDL_OK;
  if (s->cs.state == CS_IDLE && !s->local)
    CDL_TRY(check_wait(s->cs.since, CS_IDLE_TIMEOUT_US, now_us, "chain-sync", err));
  if (s->ka.state == KA_CLIENT)
    CDL_TRY(check_wait(s->ka.since, KA_CLIENT_TIMEOUT_US, now_us, "keep-alive", err));
  if (srv_tx_submission_deadline(s) != UINT64_MAX)
    CDL_TRY(check_wait(s->tx.since, TX_REPLY_TIMEOUT_US, now_us, "tx-submission", err));
  CDL_TRY(srv_part_go(s, err));
  CDL_TRY(srv_chain_sync_wake(s, now_us, err));
  CDL_TRY(srv_block_fetch_stream(s, err));
  if (s->local && s->txs.next) CDL_TRY(srv_local_tx_monitor_wake(s, err));
  if (!s->local && s->txs.next) CDL_TRY(srv_tx_submission_wake(s, now_us, err));
  /* Requests that waited while we had agency or no room. */
  int rc = take_requests(s, now_us, err);
  release_scratch(s);
  return rc;
}

bool cdl_n2n_server_next_sdu(cdl_n2n_server *s, uint64_t now_us, cdl_buf *out) {
  return cdl_mux_next_sdu(s->mux, now_us, out);
}

uint64_t cdl_n2n_server_deadline(const cdl_n2n_server *s) {
  uint64_t d = cdl_mux_deadline(s->mux);
  uint64_t hs = s->started_us + HANDSHAKE_TIMEOUT_US;
  if (!s->handshake_done && !s->hs.node_to_client && hs < d) d = hs;
  if (s->awaiting_peer) return d;
  if (s->ready && !s->local && s->cs.state == CS_IDLE && s->cs.since + CS_IDLE_TIMEOUT_US < d)
    d = s->cs.since + CS_IDLE_TIMEOUT_US;
  if (s->ready && s->ka.state == KA_CLIENT && s->ka.since + KA_CLIENT_TIMEOUT_US < d)
    d = s->ka.since + KA_CLIENT_TIMEOUT_US;
  if (s->ready && srv_tx_submission_deadline(s) < d) d = srv_tx_submission_deadline(s);
  if (s->ready && srv_tx_submission_defer_deadline(s) < d) d = srv_tx_submission_defer_deadline(s);
  if (s->ready && s->local && srv_local_tx_deadline(s) < d) d = srv_local_tx_deadline(s);
  return d;
}


/* Polling can produce something now: the egress has room and a stream
 * goes on, a reply is due, or requests wait that were held back while
 * there was none (a write just made some). */
bool cdl_n2n_server_wants_poll(const cdl_n2n_server *s) {
  if (!s->ready || !srv_room(s)) return false;
  if (s->part.active || s->cs.state == CS_MUST_REPLY || s->bf.state == BF_STREAMING) return true;
  if (s->txs.next != NULL && (srv_local_tx_monitor_waiting(s) || srv_local_tx_waiting(s) ||
                              srv_tx_submission_waiting(s)))
    return true;
  return has_ingress(s, s->ch_cs) || has_ingress(s, s->ch_bf) || has_ingress(s, s->ch_ka) ||
         has_ingress(s, s->ch_lsq) || has_ingress(s, s->ch_ltx) || has_ingress(s, s->ch_ltm);
}
