/*
 * client.c: one outbound node-to-node connection, the initiator side,
 * without I/O (include/cardinal/net.h "Node-to-node client"; docs/
 * network.md "Syncing"; network spec miniprotocols.tex; the time limits
 * of docs/ouroboros-network.md section 5.1).
 *
 * The handshake proposal goes out at once; once a version is accepted,
 * chain-sync, block-fetch and keep-alive start (client_protocols.c), and
 * with a mempool, tx-submission (client_txsub.c). The
 * server's messages are taken as they come, so each channel's ingress
 * holds at most one partial message and one read's worth of bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

#define HANDSHAKE_LIMIT 5760
#define READ_SLACK 65536 /* bytes one read may add before they are decoded */

int cl_queue(cdl_n2n_client *c, int ch, cdl_error *err) {
  if (cdl_cbor_enc_status(&c->msg) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "client: out of memory encoding a message");
  if (cdl_mux_queue(c->mux, ch, c->msg.data, c->msg.len) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "client: egress queue full");
  return CDL_OK;
}

/* Decoding outcome |rc| for |have| bytes: a message, wait, or a failure
 * (a message over |limit| bytes, whole or not yet, or undecodable). */
int cl_judge(int rc, size_t have, const size_t *used, size_t limit, const char *proto, bool *got,
             cdl_error *err) {
  *got = false;
  if (rc == CDL_E_TRUNCATED && have < limit) return CDL_OK;
  if (rc == CDL_E_TRUNCATED || (rc == CDL_OK && *used > limit))
    return cdl_error_set(err, CDL_E_LIMIT, 0, "%s: a message over %zu bytes", proto, limit);
  *got = rc == CDL_OK;
  return rc;
}

int cl_unexpected(const char *proto, const char *msg, cdl_error *err) {
  return cdl_error_set(err, CDL_E_PROTOCOL, 0, "%s: the server may not send %s now", proto, msg);
}

static int check_config(const cdl_n2n_client_config *cfg, cdl_error *err) {
  if (cfg->pipeline < 1 || cfg->pipeline > CDL_CLIENT_MAX_PIPELINE || cfg->on_block == NULL ||
      cfg->epoch_slots == 0 || cfg->fetch_ranges > CLIENT_MAX_RANGES ||
      cfg->fetch_batch * (cfg->fetch_ranges ? cfg->fetch_ranges : 2) + cfg->pipeline >
          CLIENT_RING / 2)
    return cdl_error_set(err, CDL_E_USAGE, 0, "client: bad configuration");
  return CDL_OK;
}

/* Offering both directions: the responder channels exist before the
 * accept, which the peer's first requests may come with. */
static bool offers_duplex(const cdl_hs_config *hs) {
  return !hs->node_to_client && !hs->data.initiator_only;
}

/* A client without channels or messages yet, on |mux| (NULL: its own). */
static int client_alloc(const cdl_n2n_client_config *cfg, cdl_mux *mux, uint64_t now_us,
                        cdl_n2n_client **out, cdl_error *err) {
  *out = NULL;
  CDL_TRY(check_config(cfg, err));
  cdl_n2n_client *c = calloc(1, sizeof *c);
  hdr_entry *ring = malloc(CLIENT_RING * sizeof *ring);
  cdl_point *known = malloc((cfg->n_known ? cfg->n_known : 1) * sizeof *known);
  if (c == NULL || ring == NULL || known == NULL) {
    free(c), free(ring), free(known);
    return cdl_error_set(err, CDL_E_NOMEM, 0, "client: out of memory");
  }
  c->cfg = *cfg;
  if (c->cfg.fetch_batch == 0) c->cfg.fetch_batch = 256;
  if (c->cfg.fetch_ranges == 0) c->cfg.fetch_ranges = 2;
  if (cfg->n_known) memcpy(known, cfg->known, cfg->n_known * sizeof *known);
  c->known = known;
  c->cfg.known = known;
  c->ring = ring;
  c->started_us = now_us;
  cdl_buf_init(&c->msg, 0);
  cdl_arena_init(&c->arena, 0);
  c->ch_hs = c->ch_cs = c->ch_bf = c->ch_ka = c->ch_tx = c->ch_hs_peer = -1;
  c->mux = mux ? mux : &c->own_mux;
  if (mux == NULL) cdl_mux_init(c->mux, CL_HANDSHAKE_TIMEOUT_US);
  *out = c;
  return CDL_OK;
}

int cdl_n2n_client_new(const cdl_n2n_client_config *cfg, uint64_t now_us, cdl_n2n_client **out,
                       cdl_error *err) {
  CDL_TRY(client_alloc(cfg, NULL, now_us, out, err));
  cdl_n2n_client *c = *out;
  c->ch_hs = cdl_mux_add_channel(c->mux, CDL_PROTO_HANDSHAKE, true, HANDSHAKE_LIMIT);
  int rc = c->ch_hs >= 0 ? CDL_OK : cdl_error_set(err, CDL_E_NOMEM, 0, "client: no channel");
  if (rc == CDL_OK && offers_duplex(&cfg->hs)) {
    rc = cdl_n2n_responder_channels(c->mux, err);
    c->ch_hs_peer = cdl_mux_add_channel(c->mux, CDL_PROTO_HANDSHAKE, false, HANDSHAKE_LIMIT);
    if (rc == CDL_OK && c->ch_hs_peer < 0)
      rc = cdl_error_set(err, CDL_E_NOMEM, 0, "client: no channel");
  }
  if (rc == CDL_OK) {
    cdl_hs_encode_propose(&c->msg, &cfg->hs);
    rc = cl_queue(c, c->ch_hs, err);
  }
  if (rc != CDL_OK) {
    cdl_n2n_client_del(c);
    *out = NULL;
  }
  return rc;
}

void cdl_n2n_client_del(cdl_n2n_client *c) {
  if (c == NULL) return;
  cl_parse_free(c);
  if (c->mux == &c->own_mux) cdl_mux_free(c->mux);
  cdl_buf_free(&c->msg);
  cdl_arena_free(&c->arena);
  free(c->ring);
  free(c->known);
  free(c);
}

/* Tx-submission starts with our MsgInit; then the peer pulls. */
static int open_tx_submission(cdl_n2n_client *c, cdl_error *err) {
  c->ch_tx = cdl_mux_add_channel(c->mux, CDL_PROTO_TX_SUBMISSION, true,
                                 CL_SMALL_LIMIT + READ_SLACK);
  if (c->ch_tx < 0) return cdl_error_set(err, CDL_E_NOMEM, 0, "client: cannot open channels");
  cdl_tx2_msg init = {.kind = CDL_TX2_INIT};
  cdl_buf_reset(&c->msg);
  cdl_tx2_encode(&c->msg, &init);
  return cl_queue(c, c->ch_tx, err);
}

static int open_channels(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  c->ch_cs = cdl_mux_add_channel(c->mux, CDL_PROTO_CHAIN_SYNC, true, 65535 + READ_SLACK);
  c->ch_bf = cdl_mux_add_channel(c->mux, CDL_PROTO_BLOCK_FETCH, true, 2500000 + READ_SLACK);
  c->ch_ka = cdl_mux_add_channel(c->mux, CDL_PROTO_KEEP_ALIVE, true, 65535 + READ_SLACK);
  if (c->ch_cs < 0 || c->ch_bf < 0 || c->ch_ka < 0)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "client: cannot open channels");
  if (c->cfg.txs.next != NULL) CDL_TRY(open_tx_submission(c, err));
  c->mux->sdu_timeout_us = 30 * SEC_US;
  c->ready = true;
  c->cs.state = CL_CS_INTERSECT;
  c->cs.since = now_us;
  c->ka.next_us = now_us; /* the first keep-alive at once: an early round trip */
  cdl_cs_msg m = {
      .kind = CDL_CS_FIND_INTERSECT, .point_list = c->known, .n_points = c->cfg.n_known};
  cdl_point origin = {.origin = true};
  if (c->cfg.n_known == 0) m.point_list = &origin, m.n_points = 1;
  cdl_buf_reset(&c->msg);
  cdl_cs_encode(&c->msg, &m);
  return cl_queue(c, c->ch_cs, err);
}

/* TCP simultaneous open (docs/network.md "Full duplex"): two nodes that
 * dial each other from their listening ports at the same moment get one
 * connection on which both are the initiator, and each receives the
 * other's proposal instead of a reply. Each side then chooses as a server
 * would (the highest common version; initiator-only if either is), which
 * both compute alike, and no reply is sent. */
static int simultaneous_open(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  cdl_span in = cdl_mux_ingress(c->mux, c->ch_hs_peer);
  cdl_hs_msg m;
  size_t used;
  int rc = cdl_hs_decode(in.ptr, in.len, &m, &used, err);
  if (rc == CDL_E_TRUNCATED) return CDL_OK;
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "handshake: undecodable proposal");
  if (m.kind != CDL_HS_PROPOSE || used != in.len)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: the peer's initiator sent %u", m.kind);
  cdl_hs_result res;
  cdl_buf_reset(&c->msg);
  cdl_hs_respond(&c->cfg.hs, &m, &c->msg, &res); /* the reply is not sent: only the choice */
  cdl_mux_consume(c->mux, c->ch_hs_peer, used);
  if (res.outcome != CDL_HS_ACCEPTED)
    return cdl_error_set(err, CDL_E_REFUSED, 0, "handshake (simultaneous open): %s", res.why);
  c->duplex = !res.agreed.initiator_only;
  c->simultaneous = true;
  return open_channels(c, now_us, err);
}

static int handshake(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  if (c->ch_hs_peer >= 0 && cdl_mux_ingress(c->mux, c->ch_hs_peer).len > 0)
    return simultaneous_open(c, now_us, err);
  cdl_span in = cdl_mux_ingress(c->mux, c->ch_hs);
  cdl_hs_msg m;
  size_t used;
  int rc = cdl_hs_decode(in.ptr, in.len, &m, &used, err);
  if (rc == CDL_E_TRUNCATED) return CDL_OK;
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "handshake: undecodable reply");
  if (used != in.len) return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: a second message");
  cdl_hs_result res;
  rc = cdl_hs_check_reply(&c->cfg.hs, &m, &res, err);
  cdl_mux_consume(c->mux, c->ch_hs, used);
  if (rc != CDL_OK) return rc;
  if (res.outcome != CDL_HS_ACCEPTED)
    return cdl_error_set(err, CDL_E_REFUSED, 0, "handshake: %s", res.why);
  c->duplex = offers_duplex(&c->cfg.hs) && !res.agreed.initiator_only;
  return open_channels(c, now_us, err);
}

int cdl_n2n_client_recv(cdl_n2n_client *c, const uint8_t *data, size_t len, uint64_t now_us,
                        cdl_error *err) {
  CDL_TRY(cdl_mux_recv(c->mux, data, len, now_us, err));
  if (!c->ready) {
    CDL_TRY(handshake(c, now_us, err));
    if (!c->ready) return CDL_OK;
  }
  if ((c->ch_hs >= 0 && cdl_mux_ingress(c->mux, c->ch_hs).len > 0) ||
      (c->ch_hs_peer >= 0 && cdl_mux_ingress(c->mux, c->ch_hs_peer).len > 0))
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: a message after the handshake");
  /* Responder channels opened on an offer the peer declined. */
  if (c->ch_hs >= 0 && !c->duplex && !cdl_n2n_responder_idle(c->mux))
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "mux: a request for our responder on an initiator-only connection");
  CDL_TRY(cl_chain_sync(c, now_us, err));
  CDL_TRY(cl_block_fetch(c, now_us, err));
  CDL_TRY(cl_keep_alive(c, now_us, err));
  CDL_TRY(cl_tx_submission(c, err));
  return cl_drive(c, now_us, err);
}

/* The limit of a state where the server has agency. */
static uint64_t wait_end(bool waiting, uint64_t since, uint64_t limit) {
  return waiting ? since + limit : UINT64_MAX;
}

static uint64_t cs_limit(const cdl_n2n_client *c) {
  if (c->cs.state == CL_CS_INTERSECT) return CL_CS_INTERSECT_TIMEOUT_US;
  return c->cs.awaiting ? CL_CS_MUST_REPLY_TIMEOUT_US : CL_CS_CAN_AWAIT_TIMEOUT_US;
}

uint64_t cdl_n2n_client_deadline(const cdl_n2n_client *c) {
  uint64_t d = cdl_mux_deadline(c->mux);
  uint64_t t[4] = {wait_end(!c->ready, c->started_us, CL_HANDSHAKE_TIMEOUT_US), UINT64_MAX,
                   UINT64_MAX, UINT64_MAX};
  if (c->ahead.n > 0 && c->ahead.read_us + c->cfg.carry_us < d)
    d = c->ahead.read_us + c->cfg.carry_us; /* blocks left parsing: handed over then */
  if (c->ready) {
    bool cs_wait = c->cs.state == CL_CS_INTERSECT || c->cs.in_flight > 0;
    t[1] = wait_end(cs_wait, c->cs.since, cs_limit(c));
    t[2] = wait_end(c->bf.n > 0, c->bf.since, CL_BF_TIMEOUT_US);
    t[3] = c->ka.waiting ? c->ka.sent_us + CL_KA_TIMEOUT_US : c->ka.next_us;
  }
  for (int i = 0; i < 4; i++)
    if (t[i] < d) d = t[i];
  return d;
}

static int late(uint64_t end, uint64_t now_us, const char *what, cdl_error *err) {
  if (now_us < end) return CDL_OK;
  return cdl_error_set(err, CDL_E_TIMEOUT, 0, "%s: the server did not answer in time", what);
}

int cdl_n2n_client_poll(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  CDL_TRY(cdl_mux_check_time(c->mux, now_us, err));
  if (!c->ready) return late(c->started_us + CL_HANDSHAKE_TIMEOUT_US, now_us, "handshake", err);
  bool cs_wait = c->cs.state == CL_CS_INTERSECT || c->cs.in_flight > 0;
  CDL_TRY(late(wait_end(cs_wait, c->cs.since, cs_limit(c)), now_us, "chain-sync", err));
  CDL_TRY(late(wait_end(c->bf.n > 0, c->bf.since, CL_BF_TIMEOUT_US), now_us, "block-fetch", err));
  CDL_TRY(
      late(wait_end(c->ka.waiting, c->ka.sent_us, CL_KA_TIMEOUT_US), now_us, "keep-alive", err));
  if (c->ahead.n > 0 && now_us >= c->ahead.read_us + c->cfg.carry_us) {
    int rc = cl_parse_flush(c, err); /* no read came for them: now */
    c->failed |= rc != CDL_OK;
    CDL_TRY(rc);
  }
  return cl_drive(c, now_us, err);
}

bool cdl_n2n_client_next_sdu(cdl_n2n_client *c, uint64_t now_us, cdl_buf *out) {
  return cdl_mux_next_sdu(c->mux, now_us, out);
}

int cdl_n2n_client_attach(cdl_mux *mux, const cdl_n2n_client_config *cfg, uint64_t now_us,
                          cdl_n2n_client **out, cdl_error *err) {
  if (cfg->hs.node_to_client)
    return cdl_error_set(err, CDL_E_USAGE, 0, "client: only node-to-node is duplex");
  CDL_TRY(client_alloc(cfg, mux, now_us, out, err));
  (*out)->duplex = true;
  int rc = open_channels(*out, now_us, err);
  if (rc != CDL_OK) {
    cdl_n2n_client_del(*out);
    *out = NULL;
  }
  return rc;
}

bool cdl_n2n_client_duplex(const cdl_n2n_client *c) { return c->ready && c->duplex; }
bool cdl_n2n_client_simultaneous(const cdl_n2n_client *c) { return c->simultaneous; }
bool cdl_n2n_client_ready(const cdl_n2n_client *c) { return c->ready; }
cdl_mux *cdl_n2n_client_mux(cdl_n2n_client *c) { return c->mux; }

void cdl_n2n_client_finish(cdl_n2n_client *c) { c->finishing = true; }
bool cdl_n2n_client_finished(const cdl_n2n_client *c) { return c->done == CL_DONE_ALL; }

bool cdl_n2n_client_synced(const cdl_n2n_client *c) {
  return c->ready && !c->failed && c->cs.awaiting && c->head == c->tail && c->bf.n == 0 &&
         c->ahead.n == 0;
}

cdl_n2n_client_stats cdl_n2n_client_stats_get(const cdl_n2n_client *c) { return c->st; }
