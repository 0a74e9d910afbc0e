/*
 * server_protocols.c: the responder side of chain-sync, block-fetch,
 * and keep-alive on one connection (tx-submission: server_txsub.c) (server_internal.h;
 * network spec miniprotocols.tex; docs/ouroboros-network.md
 * sections 4.1-4.4 for what clients rely on, 5.1 for the limits).
 */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

#define SMALL_LIMIT 65535 /* every message a client sends */
#define MAX_POINTS 2048   /* more than 65,535 bytes can hold */

/* After decoding the ingress (|have| bytes, at most |limit| shown to the
 * decoder) with outcome |rc|: *got when a message is there. */
static int judge(int rc, size_t have, const char *proto, bool *got, cdl_error *err) {
  *got = rc == CDL_OK;
  if (rc == CDL_OK) return CDL_OK;
  if (rc != CDL_E_TRUNCATED) return rc;
  if (have >= SMALL_LIMIT)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "%s: a message over %u bytes", proto,
                         (unsigned)SMALL_LIMIT);
  return CDL_OK; /* wait for the rest */
}

static size_t shown(size_t have) { return have < SMALL_LIMIT ? have : SMALL_LIMIT; }

static int no_agency(const char *proto, const char *msg, cdl_error *err) {
  return cdl_error_set(err, CDL_E_PROTOCOL, 0, "%s: the client may not send %s here", proto, msg);
}

/* ---- Chain-sync
 * ---------------------------------------------------------------- */

static int cs_send(cdl_n2n_server *s, const cdl_cs_msg *m, cdl_error *err) {
  cdl_buf_reset(&s->msg);
  cdl_cs_encode(&s->msg, m);
  return srv_queue(s, s->ch_cs, err);
}

/* The follower's next step as a message; false in *sent when at the tip. */
static int cs_step(cdl_n2n_server *s, bool *sent, cdl_error *err) {
  cdl_cs_msg m = {0};
  srv_tip(s, &m.tip);
  *sent = true;
  if (s->cs.rollback_pending) {
    s->cs.rollback_pending = false;
    m.kind = CDL_CS_ROLL_BACKWARD;
    m.point = s->cs.rollback_to;
    return cs_send(s, &m, err);
  }
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_buf_reset(&s->block);
  CDL_TRY(s->chain.follower_next(s->chain.ctx, s->cs.f, &kind, &info, &m.point, &s->block, err));
  if (kind == CDL_FOLLOW_AWAIT) return *sent = false, CDL_OK;
  if (kind == CDL_FOLLOW_BACKWARD) {
    m.kind = CDL_CS_ROLL_BACKWARD;
    return cs_send(s, &m, err);
  }
  cdl_buf_reset(&s->header);
  m.kind = CDL_CS_ROLL_FORWARD;
  if (!s->local) {
    CDL_TRY(cdl_net_enc_byron_header(&s->header, s->block.data, s->block.len, err));
    s->headers_served++;
    m.content = cdl_span_of(s->header.data, s->header.len);
    return cs_send(s, &m, err);
  }
  /* Node-to-client: the whole block, in pieces if it is big. */
  cdl_net_enc_block(&s->header, s->block.data, s->block.len);
  if (s->header.failed) /* else a truncated block would go out as the message */
    return cdl_error_set(err, CDL_E_NOMEM, 0, "local chain-sync: out of memory");
  s->blocks_served++;
  m.content = cdl_span_of(s->header.data, s->header.len);
  cdl_buf_reset(&s->msg);
  cdl_cs_encode(&s->msg, &m);
  cdl_point at = {.slot = info.slot};
  memcpy(at.hash, info.hash, 32);
  return srv_queue_block_msg(s, s->ch_cs, SRV_PART_ROLL_FORWARD, &at, &m.tip, err);
}

static int cs_intersect(cdl_n2n_server *s, const cdl_cs_msg *req, cdl_error *err) {
  size_t n = req->n_points < MAX_POINTS ? req->n_points : MAX_POINTS;
  cdl_point *pts = malloc((n ? n : 1) * sizeof *pts);
  if (pts == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "chain-sync: out of memory");
  bool found = false;
  cdl_cs_msg m = {0};
  int rc = cdl_cs_points(req, pts, n, &n);
  if (rc == CDL_OK)
    rc = s->chain.follower_intersect(s->chain.ctx, s->cs.f, pts, n, &m.point, &found, err);
  free(pts);
  if (rc != CDL_OK) return rc;
  srv_tip(s, &m.tip);
  m.kind = found ? CDL_CS_INTERSECT_FOUND : CDL_CS_INTERSECT_NOT_FOUND;
  if (found) { /* the next reply rolls back to it (what clients expect) */
    s->cs.rollback_pending = true;
    s->cs.rollback_to = m.point;
  }
  return cs_send(s, &m, err);
}

static int cs_handle(cdl_n2n_server *s, const cdl_cs_msg *m, uint64_t now_us, cdl_error *err) {
  s->cs.since = now_us;
  switch (m->kind) {
    case CDL_CS_REQUEST_NEXT: {
      bool sent;
      CDL_TRY(cs_step(s, &sent, err));
      if (sent) return CDL_OK;
      cdl_cs_msg wait = {.kind = CDL_CS_AWAIT_REPLY};
      s->cs.state = CS_MUST_REPLY;
      return cs_send(s, &wait, err);
    }
    case CDL_CS_FIND_INTERSECT:
      return cs_intersect(s, m, err);
    case CDL_CS_DONE:
      s->cs.state = CS_DONE;
      return CDL_OK;
    default:
      return no_agency("chain-sync", cdl_cs_name(m->kind), err);
  }
}

int srv_chain_sync(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  while (s->cs.state == CS_IDLE && srv_room(s) && !srv_part_busy(s, s->ch_cs)) {
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_cs);
    if (in.len == 0) return CDL_OK;
    cdl_cs_msg m;
    size_t used;
    bool got;
    CDL_TRY(judge(cdl_cs_decode(in.ptr, shown(in.len), &m, &used, err), in.len, "chain-sync", &got,
                  err));
    if (!got) return CDL_OK;
    int rc = cs_handle(s, &m, now_us, err); /* |m| points into the ingress */
    cdl_mux_consume(s->mux, s->ch_cs, used);
    CDL_TRY(rc);
  }
  if (s->cs.state == CS_DONE && cdl_mux_ingress(s->mux, s->ch_cs).len > 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "chain-sync: a message after MsgDone");
  return CDL_OK;
}

int srv_chain_sync_wake(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  if (s->cs.state != CS_MUST_REPLY || srv_part_busy(s, s->ch_cs)) return CDL_OK;
  bool sent;
  CDL_TRY(cs_step(s, &sent, err));
  if (sent) {
    s->cs.state = CS_IDLE;
    s->cs.since = now_us;
  }
  return CDL_OK;
}

/* ---- Block-fetch
 * ------------------------------------------------------------- */

static int bf_send(cdl_n2n_server *s, uint8_t kind, cdl_span block, cdl_error *err) {
  cdl_bf_msg m = {.kind = kind, .block = block};
  cdl_buf_reset(&s->msg);
  cdl_bf_encode(&s->msg, &m);
  return srv_queue(s, s->ch_bf, err);
}

/* MsgBlock with the block at |at| (in s->block), in pieces if it is big. */
static int bf_send_block(cdl_n2n_server *s, const cdl_point *at, cdl_error *err) {
  s->blocks_served++;
  cdl_buf_reset(&s->msg);
  cdl_bf_encode(&s->msg, &(cdl_bf_msg){.kind = CDL_BF_BLOCK,
                                       .block = cdl_span_of(s->block.data, s->block.len)});
  return srv_queue_block_msg(s, s->ch_bf, SRV_PART_BLOCK, at, NULL, err);
}

/* Whether [from, to] is a segment of the selected chain; leaves the
 * follower at |from| and |from|'s block in s->block. */
static int bf_range_ok(cdl_n2n_server *s, const cdl_point *from, const cdl_point *to, bool *ok,
                       cdl_error *err) {
  *ok = false;
  if (from->origin || to->origin || from->slot > to->slot) return CDL_OK;
  cdl_point at;
  bool found;
  cdl_block_info a, b;
  CDL_TRY(s->chain.follower_intersect(s->chain.ctx, s->bf.f, to, 1, &at, &found, err));
  if (!found) return CDL_OK;
  cdl_buf_reset(&s->block);
  CDL_TRY(s->chain.read_block(s->chain.ctx, to, &s->block, &b, err));
  CDL_TRY(s->chain.follower_intersect(s->chain.ctx, s->bf.f, from, 1, &at, &found, err));
  if (!found) return CDL_OK;
  cdl_buf_reset(&s->block);
  CDL_TRY(s->chain.read_block(s->chain.ctx, from, &s->block, &a, err));
  *ok = a.block_no <= b.block_no;
  return CDL_OK;
}

static int bf_handle(cdl_n2n_server *s, const cdl_bf_msg *m, cdl_error *err) {
  if (m->kind == CDL_BF_CLIENT_DONE) {
    s->bf.state = BF_DONE;
    return CDL_OK;
  }
  if (m->kind != CDL_BF_REQUEST_RANGE) return no_agency("block-fetch", cdl_bf_name(m->kind), err);
  bool ok;
  CDL_TRY(bf_range_ok(s, &m->from, &m->to, &ok, err));
  if (!ok) return bf_send(s, CDL_BF_NO_BLOCKS, cdl_span_of(NULL, 0), err);
  s->bf.from = m->from;
  s->bf.to = m->to;
  s->bf.first_pending = true;
  s->bf.last_sent = false;
  s->bf.state = BF_STREAMING;
  return bf_send(s, CDL_BF_START_BATCH, cdl_span_of(NULL, 0), err);
}

int srv_block_fetch(cdl_n2n_server *s, cdl_error *err) {
  while (s->bf.state == BF_IDLE && srv_room(s)) {
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_bf);
    if (in.len == 0) return CDL_OK;
    cdl_bf_msg m;
    size_t used;
    bool got;
    CDL_TRY(judge(cdl_bf_decode(in.ptr, shown(in.len), &m, &used, err), in.len, "block-fetch", &got,
                  err));
    if (!got) return CDL_OK;
    int rc = bf_handle(s, &m, err);
    cdl_mux_consume(s->mux, s->ch_bf, used);
    CDL_TRY(rc);
    CDL_TRY(srv_block_fetch_stream(s, err));
  }
  if (s->bf.state == BF_DONE && cdl_mux_ingress(s->mux, s->ch_bf).len > 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "block-fetch: a message after MsgClientDone");
  return CDL_OK;
}

/* One more block of the batch; *end when the batch is over. */
static int bf_next_block(cdl_n2n_server *s, bool *end, cdl_error *err) {
  if (s->bf.first_pending) { /* read by bf_range_ok */
    s->bf.first_pending = false;
    *end = memcmp(s->bf.from.hash, s->bf.to.hash, 32) == 0;
    return bf_send_block(s, &s->bf.from, err);
  }
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point back;
  cdl_buf_reset(&s->block);
  CDL_TRY(s->chain.follower_next(s->chain.ctx, s->bf.f, &kind, &info, &back, &s->block, err));
  /* The chain changed under the batch: end it with what was sent. */
  if (kind != CDL_FOLLOW_FORWARD || info.slot > s->bf.to.slot) return *end = true, CDL_OK;
  *end = memcmp(info.hash, s->bf.to.hash, 32) == 0;
  cdl_point at = {.slot = info.slot};
  memcpy(at.hash, info.hash, 32);
  return bf_send_block(s, &at, err);
}

/* MsgBatchDone follows the last block once all of it is queued. */
int srv_block_fetch_stream(cdl_n2n_server *s, cdl_error *err) {
  while (s->bf.state == BF_STREAMING && srv_room(s) && !srv_part_busy(s, s->ch_bf)) {
    if (s->bf.last_sent) {
      s->bf.state = BF_IDLE;
      return bf_send(s, CDL_BF_BATCH_DONE, cdl_span_of(NULL, 0), err);
    }
    CDL_TRY(bf_next_block(s, &s->bf.last_sent, err));
  }
  return CDL_OK;
}

/* ---- Keep-alive and tx-submission
 * --------------------------------------------- */

int srv_keep_alive(cdl_n2n_server *s, uint64_t now_us, cdl_error *err) {
  while (s->ka.state == KA_CLIENT && srv_room(s)) {
    cdl_span in = cdl_mux_ingress(s->mux, s->ch_ka);
    if (in.len == 0) return CDL_OK;
    cdl_ka_msg m;
    size_t used;
    bool got;
    CDL_TRY(judge(cdl_ka_decode(in.ptr, shown(in.len), &m, &used, err), in.len, "keep-alive", &got,
                  err));
    if (!got) return CDL_OK;
    cdl_mux_consume(s->mux, s->ch_ka, used);
    s->ka.since = now_us;
    if (m.kind == CDL_KA_DONE) {
      s->ka.state = KA_DONE;
      continue;
    }
    if (m.kind != CDL_KA_KEEP_ALIVE) return no_agency("keep-alive", cdl_ka_name(m.kind), err);
    cdl_ka_msg reply = {.kind = CDL_KA_RESPONSE, .cookie = m.cookie};
    cdl_buf_reset(&s->msg);
    cdl_ka_encode(&s->msg, &reply);
    CDL_TRY(srv_queue(s, s->ch_ka, err));
  }
  if (s->ka.state == KA_DONE && cdl_mux_ingress(s->mux, s->ch_ka).len > 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "keep-alive: a message after MsgDone");
  return CDL_OK;
}
