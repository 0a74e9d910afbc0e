/*
 * client_protocols.c: the initiator side of chain-sync (pipelined),
 * block-fetch and keep-alive on one connection (client_internal.h;
 * network spec miniprotocols.tex; docs/network.md "Syncing").
 *
 * Headers from chain-sync go into a ring in chain order, each checked to
 * extend the one before it. Block-fetch asks for the oldest announced
 * headers in ranges; each block that comes is parsed once here (docs/
 * storage.md "One parse per block"), must hash to the header expected
 * next, then goes to the caller parsed. A roll-backward drops announced
 * headers that were not requested yet; blocks already requested still
 * arrive and go to the caller, whose chain selection sorts forks out.
 */
#include <string.h>

#include "client_internal.h"

#define BLOCK_LIMIT 2500000

static hdr_entry *at(cdl_n2n_client *c, uint64_t pos) { return &c->ring[pos % CLIENT_RING]; }

/* ---- Chain-sync ------------------------------------------------------------ */

/* Slot, number and hash of a wrapped Byron header; its previous hash.
 * The hash is the decoder's, of [tag, header]: so the header must be the
 * whole of the bytes it came in. */
static int read_header(cdl_n2n_client *c, cdl_span content, hdr_entry *e, uint8_t prev[32],
                       cdl_error *err) {
  cdl_net_header h;
  CDL_TRY(cdl_net_read_byron_header(content, &h, err));
  cdl_arena_reset(&c->arena);
  cdl_byron_ctx ctx = {.arena = &c->arena, .err = err};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, h.header.ptr, h.header.len, err);
  if (h.subtag == 0) {
    cdl_byron_ebb_header eh;
    CDL_TRY(cdl_byron_ebb_header_read(&cur, &ctx, &eh));
    e->slot = eh.epoch * c->cfg.epoch_slots;
    e->block_no = eh.difficulty;
    memcpy(prev, eh.prev_hash, 32);
    memcpy(e->hash, eh.hash, 32);
  } else {
    cdl_byron_header mh;
    CDL_TRY(cdl_byron_header_read(&cur, &ctx, &mh));
    if (mh.slot_in_epoch >= c->cfg.epoch_slots)
      return cdl_error_set(err, CDL_E_RANGE, 0, "chain-sync: slot %llu past the epoch",
                           (unsigned long long)mh.slot_in_epoch);
    e->slot = mh.epoch * c->cfg.epoch_slots + mh.slot_in_epoch;
    e->block_no = mh.difficulty;
    memcpy(prev, mh.prev_hash, 32);
    memcpy(e->hash, mh.hash, 32);
  }
  e->size_hint = h.size_hint;
  return cdl_cbor_expect_end(&cur, "Byron header");
}

static int roll_forward(cdl_n2n_client *c, const cdl_cs_msg *m, cdl_error *err) {
  hdr_entry e;
  uint8_t prev[32];
  int rc = read_header(c, m->content, &e, prev, err);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "chain-sync: bad header: %s", err->message);
  if (c->cs.has_last && memcmp(prev, c->cs.last_hash, 32) != 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "chain-sync: header %llu does not extend the previous one",
                         (unsigned long long)e.block_no);
  *at(c, c->tail++) = e;
  c->cs.has_last = true;
  memcpy(c->cs.last_hash, e.hash, 32);
  c->st.headers++;
  return CDL_OK;
}

/* Announced headers after |p| that were not requested yet are dropped. A
 * point is a slot and a hash: an announced header's hash under another
 * slot is a point the server made up. */
static int roll_backward(cdl_n2n_client *c, const cdl_point *p, cdl_error *err) {
  uint64_t keep = c->req;
  for (uint64_t pos = c->tail; pos > c->req && !p->origin; pos--) {
    const hdr_entry *e = at(c, pos - 1);
    if (memcmp(e->hash, p->hash, 32) != 0) continue;
    if (e->slot != p->slot)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                           "chain-sync: a roll-back to header %llu's hash at slot %llu, not %llu",
                           (unsigned long long)e->block_no, (unsigned long long)p->slot,
                           (unsigned long long)e->slot);
    keep = pos;
    break;
  }
  bool moved =
      keep != c->tail || !c->cs.has_last || p->origin || memcmp(c->cs.last_hash, p->hash, 32) != 0;
  if (moved && c->st.headers > 0) c->st.rollbacks++;
  c->tail = keep;
  c->cs.has_last = !p->origin;
  if (!p->origin) memcpy(c->cs.last_hash, p->hash, 32);
  return CDL_OK;
}

/* Whether |p| is one of the points offered for the intersection, slot and
 * hash: the server must answer with one of them (the Haskell client fails
 * any other as InvalidIntersection). */
static bool offered(const cdl_n2n_client *c, const cdl_point *p) {
  if (c->cfg.n_known == 0) return p->origin;
  for (size_t i = 0; i < c->cfg.n_known; i++)
    if (cdl_point_eq(&c->known[i], p)) return true;
  return false;
}

static int cs_message(cdl_n2n_client *c, const cdl_cs_msg *m, cdl_error *err) {
  const char *name = cdl_cs_name(m->kind);
  bool intersecting = c->cs.state == CL_CS_INTERSECT;
  if (m->kind == CDL_CS_INTERSECT_FOUND || m->kind == CDL_CS_INTERSECT_NOT_FOUND) {
    if (!intersecting) return cl_unexpected("chain-sync", name, err);
    c->cs.state = CL_CS_RUNNING;
    c->st.peer_tip = m->tip;
    c->st.intersection.origin = true;
    if (m->kind == CDL_CS_INTERSECT_FOUND && !offered(c, &m->point))
      return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                           "chain-sync: the intersection found is not a point offered");
    if (m->kind == CDL_CS_INTERSECT_FOUND) c->st.intersection = m->point;
    /* the server's read pointer is there now */
    return roll_backward(c, &c->st.intersection, err);
  }
  bool roll = m->kind == CDL_CS_ROLL_FORWARD || m->kind == CDL_CS_ROLL_BACKWARD;
  if (intersecting || c->cs.in_flight == 0 || !(roll || m->kind == CDL_CS_AWAIT_REPLY) ||
      (m->kind == CDL_CS_AWAIT_REPLY && c->cs.awaiting))
    return cl_unexpected("chain-sync", name, err);
  if (m->kind == CDL_CS_AWAIT_REPLY) {
    c->cs.awaiting = true;
    return CDL_OK;
  }
  c->cs.in_flight--;
  c->cs.awaiting = false;
  c->st.peer_tip = m->tip;
  if (m->kind == CDL_CS_ROLL_BACKWARD) return roll_backward(c, &m->point, err);
  return roll_forward(c, m, err);
}

int cl_chain_sync(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  for (;;) {
    cdl_span in = cdl_mux_ingress(c->mux, c->ch_cs);
    cdl_cs_msg m;
    size_t used;
    bool got;
    CDL_TRY(cl_judge(cdl_cs_decode(in.ptr, in.len, &m, &used, err), in.len, &used, CL_SMALL_LIMIT,
                     "chain-sync", &got, err));
    if (!got) return CDL_OK;
    CDL_TRY(cs_message(c, &m, err));
    cdl_mux_consume(c->mux, c->ch_cs, used);
    c->cs.since = now_us;
  }
}

/* ---- Block-fetch ----------------------------------------------------------- */

/* A block of the range being streamed: the one at the ring's head (or the
 * one block a range asked again for), handed over once parsed
 * (client_parse.c). */
static int bf_block(cdl_n2n_client *c, cdl_span block, cdl_error *err) {
  if (!c->bf.streaming || c->bf.left[0] == 0) return cl_unexpected("block-fetch", "MsgBlock", err);
  const hdr_entry *want = c->bf.again[0] ? &c->bf.again_hdr[0] : at(c, c->head);
  CDL_TRY(cl_block_received(c, block, want, err));
  if (!c->bf.again[0]) c->head++;
  c->bf.left[0]--;
  c->st.blocks++;
  c->st.block_bytes += block.len;
  return CDL_OK;
}

static void pop_range(cdl_n2n_client *c) {
  memmove(c->bf.left, c->bf.left + 1, (c->bf.n - 1) * sizeof c->bf.left[0]);
  memmove(c->bf.again, c->bf.again + 1, (c->bf.n - 1) * sizeof c->bf.again[0]);
  memmove(c->bf.again_hdr, c->bf.again_hdr + 1, (c->bf.n - 1) * sizeof c->bf.again_hdr[0]);
  c->bf.n--;
  c->bf.streaming = false;
}

/* NoBlocks: the server left the chain the range was on (it switched
 * forks after we asked). The range's blocks are forgotten at the ring's
 * head, but those of a range of several are kept to be asked again one
 * by one: its first blocks may well be on the server's new chain too (a
 * fork shares its start), and chain-sync will not announce them again. */
static void bf_refused(cdl_n2n_client *c) {
  if (c->bf.again[0]) {
    if (c->cfg.fetch) c->cfg.fetch->dropped(c->cfg.ctx, c->bf.again_hdr[0].hash);
  } else {
    size_t n = c->bf.left[0];
    for (size_t i = 0; i < n; i++) {
      const hdr_entry *e = at(c, c->head + i);
      if (c->cfg.fetch) c->cfg.fetch->dropped(c->cfg.ctx, e->hash);
      if (n > 1 && c->n_retry < CLIENT_RETRY) c->retry[c->n_retry++] = *e;
    }
    c->head += n;
  }
  pop_range(c);
}

static int bf_message(cdl_n2n_client *c, const cdl_bf_msg *m, cdl_error *err) {
  const char *name = cdl_bf_name(m->kind);
  if (c->bf.n == 0) return cl_unexpected("block-fetch", name, err);
  switch (m->kind) {
    case CDL_BF_START_BATCH:
      if (c->bf.streaming) return cl_unexpected("block-fetch", name, err);
      c->bf.streaming = true;
      return CDL_OK;
    case CDL_BF_NO_BLOCKS:
      if (c->bf.streaming) return cl_unexpected("block-fetch", name, err);
      bf_refused(c);
      return CDL_OK;
    case CDL_BF_BLOCK:
      return bf_block(c, m->block, err);
    case CDL_BF_BATCH_DONE:
      if (!c->bf.streaming || c->bf.left[0] != 0)
        return cdl_error_set(err, CDL_E_PROTOCOL, 0, "block-fetch: a batch ended %zu blocks early",
                             c->bf.left[0]);
      pop_range(c);
      return CDL_OK;
    default:
      return cl_unexpected("block-fetch", name, err);
  }
}

static int bf_read(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  for (;;) {
    cdl_span in = cdl_mux_ingress(c->mux, c->ch_bf);
    cdl_bf_msg m;
    size_t used;
    bool got;
    CDL_TRY(cl_judge(cdl_bf_decode(in.ptr, in.len, &m, &used, err), in.len, &used, BLOCK_LIMIT,
                     "block-fetch", &got, err));
    if (!got) return CDL_OK;
    CDL_TRY(bf_message(c, &m, err)); /* a block is copied or handed over before it is consumed */
    cdl_mux_consume(c->mux, c->ch_bf, used);
    c->bf.since = now_us;
  }
}

/* Every message waiting on the channel; the blocks among them are handed
 * over, in order, before this returns, or with carry_us while more blocks
 * are on the way (a range in flight), at the next read or once carry_us
 * has passed (cdl_n2n_client_poll). */
int cl_block_fetch(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  /* Blocks an earlier read left to the workers go first: they came first. */
  int rc = cl_parse_flush(c, err);
  if (rc == CDL_OK) rc = bf_read(c, now_us, err);
  if (rc != CDL_OK)
    cl_parse_drop(c);
  else if (c->cfg.carry_us == 0 || c->bf.n == 0)
    rc = cl_parse_flush(c, err); /* no carry, or no more blocks on the way */
  else if (c->ahead.n > 0)
    c->ahead.read_us = now_us; /* parsed while the next read comes */
  /* A pass may read a range to its end before a block of it is refused:
   * the client must not then look synced with its peer. */
  c->failed |= rc != CDL_OK;
  return rc;
}

/* ---- Keep-alive ------------------------------------------------------------ */

int cl_keep_alive(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  for (;;) {
    cdl_span in = cdl_mux_ingress(c->mux, c->ch_ka);
    cdl_ka_msg m;
    size_t used;
    bool got;
    CDL_TRY(cl_judge(cdl_ka_decode(in.ptr, in.len, &m, &used, err), in.len, &used, CL_SMALL_LIMIT,
                     "keep-alive", &got, err));
    if (!got) return CDL_OK;
    if (!c->ka.waiting || m.kind != CDL_KA_RESPONSE)
      return cl_unexpected("keep-alive", cdl_ka_name(m.kind), err);
    if (m.cookie != c->ka.cookie)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0, "keep-alive: cookie %u, sent %u", m.cookie,
                           c->ka.cookie);
    cdl_mux_consume(c->mux, c->ch_ka, used);
    c->ka.waiting = false;
    c->st.ka_rtt_us = now_us - c->ka.sent_us;
    c->st.ka_rtt_samples++;
    c->ka.next_us = now_us + CL_KA_INTERVAL_US;
  }
}

/* ---- Sending --------------------------------------------------------------- */

static int request_next(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  cdl_cs_msg m = {.kind = CDL_CS_REQUEST_NEXT};
  cdl_buf_reset(&c->msg);
  cdl_cs_encode(&c->msg, &m);
  CDL_TRY(cl_queue(c, c->ch_cs, err));
  if (c->cs.in_flight++ == 0) c->cs.since = now_us;
  return CDL_OK;
}

/* Asks for [a, b]: |n| blocks at the ring's next positions, or the one
 * block |again| of a refused range. */
static int send_range(cdl_n2n_client *c, const hdr_entry *a, const hdr_entry *b, size_t n,
                      const hdr_entry *again, uint64_t now_us, cdl_error *err) {
  cdl_bf_msg m = {.kind = CDL_BF_REQUEST_RANGE};
  m.from.slot = a->slot;
  memcpy(m.from.hash, a->hash, 32);
  m.to.slot = b->slot;
  memcpy(m.to.hash, b->hash, 32);
  cdl_buf_reset(&c->msg);
  cdl_bf_encode(&c->msg, &m);
  CDL_TRY(cl_queue(c, c->ch_bf, err));
  if (c->bf.n == 0) c->bf.since = now_us;
  c->bf.again[c->bf.n] = again != NULL;
  if (again != NULL) c->bf.again_hdr[c->bf.n] = *again;
  c->bf.left[c->bf.n++] = n;
  return CDL_OK;
}

static int request_range(cdl_n2n_client *c, size_t n, uint64_t now_us, cdl_error *err) {
  CDL_TRY(send_range(c, at(c, c->req), at(c, c->req + n - 1), n, NULL, now_us, err));
  c->req += n;
  return CDL_OK;
}

/* The blocks of refused ranges, asked again one by one as the decider
 * says (one already held is forgotten, one to wait for stays). */
static int request_again(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  while (c->n_retry > 0 && c->bf.n < c->cfg.fetch_ranges) {
    hdr_entry e = c->retry[0];
    cdl_point p = {.slot = e.slot};
    memcpy(p.hash, e.hash, 32);
    cdl_fetch_verdict v = c->cfg.fetch ? c->cfg.fetch->decide(c->cfg.ctx, &p, e.block_no,
                                                              e.size_hint, &c->st.peer_tip)
                                       : CDL_FETCH_NOW;
    if (v == CDL_FETCH_LATER) return CDL_OK;
    memmove(c->retry, c->retry + 1, (c->n_retry - 1) * sizeof c->retry[0]);
    c->n_retry--;
    if (v == CDL_FETCH_NOW) CDL_TRY(send_range(c, &e, &e, 1, &e, now_us, err));
  }
  return CDL_OK;
}

/* With shared decisions: how many of the next |max| announced blocks to
 * request now. Leading blocks already stored are skipped while nothing
 * is in flight (then head == req). */
static size_t decided_range(cdl_n2n_client *c, size_t max) {
  size_t n = 0;
  while (n < max && c->req + n < c->tail) {
    const hdr_entry *e = at(c, c->req + n);
    cdl_point p = {.slot = e->slot};
    memcpy(p.hash, e->hash, 32);
    cdl_fetch_verdict v =
        c->cfg.fetch->decide(c->cfg.ctx, &p, e->block_no, e->size_hint, &c->st.peer_tip);
    if (v == CDL_FETCH_NOW) {
      n++;
    } else if (v == CDL_FETCH_HAVE && n == 0 && c->bf.n == 0) {
      c->req++;
      c->head++;
    } else {
      break;
    }
  }
  return n;
}

/* A protocol's end message, once. */
static int send_done(cdl_n2n_client *c, uint8_t bit, int ch, cdl_error *err) {
  cdl_buf_reset(&c->msg);
  if (bit == CL_DONE_CS) cdl_cs_encode(&c->msg, &(cdl_cs_msg){.kind = CDL_CS_DONE});
  if (bit == CL_DONE_BF) cdl_bf_encode(&c->msg, &(cdl_bf_msg){.kind = CDL_BF_CLIENT_DONE});
  if (bit == CL_DONE_KA) cdl_ka_encode(&c->msg, &(cdl_ka_msg){.kind = CDL_KA_DONE});
  c->done |= bit;
  return cl_queue(c, ch, err);
}

/* Finishing: each protocol ends where the client has agency again, once
 * what it asked was answered (chain-sync may wait for the peer's next
 * block). Tx-submission goes on: there the peer has agency. */
static int finish(cdl_n2n_client *c, cdl_error *err) {
  if (!(c->done & CL_DONE_CS) && c->cs.state == CL_CS_RUNNING && c->cs.in_flight == 0)
    CDL_TRY(send_done(c, CL_DONE_CS, c->ch_cs, err));
  if (!(c->done & CL_DONE_BF) && c->bf.n == 0) CDL_TRY(send_done(c, CL_DONE_BF, c->ch_bf, err));
  if (!(c->done & CL_DONE_KA) && !c->ka.waiting) {
    c->ka.next_us = UINT64_MAX; /* no deadline of its own any more */
    CDL_TRY(send_done(c, CL_DONE_KA, c->ch_ka, err));
  }
  return CDL_OK;
}

int cl_drive(cdl_n2n_client *c, uint64_t now_us, cdl_error *err) {
  if (!c->ready) return CDL_OK;
  if (c->finishing) return finish(c, err);
  size_t room = CLIENT_RING / 2; /* headers held or asked for */
  while (c->cs.state == CL_CS_RUNNING && c->cs.in_flight < c->cfg.pipeline &&
         (c->tail - c->head) + c->cs.in_flight < room)
    CDL_TRY(request_next(c, now_us, err));
  CDL_TRY(request_again(c, now_us, err));
  size_t batch = c->cfg.fetch_batch;
  while (c->bf.n < c->cfg.fetch_ranges && c->tail > c->req) {
    size_t pending = (size_t)(c->tail - c->req);
    /* A short range only when no more headers are coming soon. */
    bool idle = c->cs.awaiting || c->cs.in_flight == 0;
    if (pending < batch && !idle) break;
    size_t n = pending < batch ? pending : batch;
    if (c->cfg.fetch) n = decided_range(c, n);
    if (n == 0) break;
    CDL_TRY(request_range(c, n, now_us, err));
  }
  if (!c->ka.waiting && now_us >= c->ka.next_us) {
    cdl_ka_msg m = {.kind = CDL_KA_KEEP_ALIVE, .cookie = ++c->ka.cookie};
    cdl_buf_reset(&c->msg);
    cdl_ka_encode(&c->msg, &m);
    CDL_TRY(cl_queue(c, c->ch_ka, err));
    c->ka.waiting = true;
    c->ka.sent_us = now_us;
  }
  return cl_tx_offer(c, err);
}
