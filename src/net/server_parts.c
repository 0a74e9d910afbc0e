/*
 * server_parts.c: a message carrying a block larger than the egress
 * budget, queued in pieces as the egress makes room (server_internal.h;
 * docs/network.md "Bounded connections").
 *
 * Queued whole, the 648 KB epoch-0 EBB (or a block at Byron's 2 MB limit)
 * would cost every peer that asks for it and does not read that much,
 * held until its write timeout. Instead the block is not kept between
 * pieces: each round reads it again by its point (its checksum checked
 * each time), encodes the same message again (a block-fetch MsgBlock, or
 * a local chain-sync roll-forward with the tip it was first sent with),
 * and queues as much of what is left as the budget has room for. No
 * connection holds more than the budget between calls. Nothing else is
 * queued on the channel until the message is whole (srv_part_busy).
 *
 * Many peers asking for the same big block (all of them for the EBB)
 * would make each piece of each cost a read of the whole block: a few
 * such messages are instead kept once, encoded, for every connection of
 * the thread sending them, and freed when the last is done. Past
 * SHARED_MAX different ones, a connection reads its block again per
 * piece: memory stays bounded either way.
 */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

#define SHARED_MAX 4 /* at most 4 x 2 MB kept */

/* A big message being sent, and how many connections send it. */
struct srv_shared_msg {
  int kind;
  cdl_point point;
  cdl_tip tip;
  uint8_t *bytes;
  size_t len;
  int refs;
};

/* One table per thread: a server's connections all run on its loop's. */
static _Thread_local srv_shared_msg *shared[SHARED_MAX];

static bool same_point(const cdl_point *a, const cdl_point *b) {
  return a->origin == b->origin && a->slot == b->slot && memcmp(a->hash, b->hash, 32) == 0;
}

static bool same_message(const srv_shared_msg *m, const srv_part *p) {
  bool tip = p->kind != SRV_PART_ROLL_FORWARD ||
             (same_point(&m->tip.point, &p->tip.point) && m->tip.block_no == p->tip.block_no);
  return m->kind == p->kind && m->len == p->total && same_point(&m->point, &p->point) && tip;
}

/* The shared copy of the message in s->msg: one already kept, or a new
 * one that takes s->msg's bytes; NULL when the table is full. */
static srv_shared_msg *share(cdl_n2n_server *s) {
  int free_slot = -1;
  for (int i = 0; i < SHARED_MAX; i++) {
    if (shared[i] != NULL && same_message(shared[i], &s->part)) return shared[i]->refs++, shared[i];
    if (shared[i] == NULL && free_slot < 0) free_slot = i;
  }
  srv_shared_msg *m = free_slot < 0 ? NULL : malloc(sizeof *m);
  if (m == NULL) return NULL;
  *m = (srv_shared_msg){.kind = s->part.kind, .point = s->part.point, .tip = s->part.tip,
                        .bytes = s->msg.data, .len = s->msg.len, .refs = 1};
  size_t max = s->msg.max_bytes;
  cdl_buf_init(&s->msg, max); /* the bytes moved, not copied */
  shared[free_slot] = m;
  return m;
}

void srv_part_release(cdl_n2n_server *s) {
  srv_shared_msg *m = s->part.shared;
  s->part.shared = NULL;
  if (m == NULL || --m->refs > 0) return;
  for (int i = 0; i < SHARED_MAX; i++)
    if (shared[i] == m) shared[i] = NULL;
  free(m->bytes);
  free(m);
}

/* The message again, into s->msg, from the block read afresh. */
static int encode_again(cdl_n2n_server *s, cdl_error *err) {
  cdl_buf_reset(&s->block);
  CDL_TRY(s->chain.read_block(s->chain.ctx, &s->part.point, &s->block, NULL, err));
  cdl_span block = cdl_span_of(s->block.data, s->block.len);
  cdl_buf_reset(&s->msg);
  if (s->part.kind == SRV_PART_BLOCK) {
    cdl_bf_encode(&s->msg, &(cdl_bf_msg){.kind = CDL_BF_BLOCK, .block = block});
  } else {
    cdl_buf_reset(&s->header);
    cdl_net_enc_block(&s->header, block.ptr, block.len);
    cdl_cs_encode(&s->msg, &(cdl_cs_msg){.kind = CDL_CS_ROLL_FORWARD,
                                         .content = cdl_span_of(s->header.data, s->header.len),
                                         .tip = s->part.tip});
  }
  if (cdl_cbor_enc_status(&s->msg) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "server: out of memory encoding a block");
  if (s->msg.len != s->part.total) /* a point names one block: never, unless the disk lies */
    return cdl_error_set(err, CDL_E_IO, 0, "server: the block being sent changed size");
  return CDL_OK;
}

/* As much of the message after what was sent as the budget has room
 * for, from the shared copy or s->msg. */
static int queue_piece(cdl_n2n_server *s, cdl_error *err) {
  size_t queued = cdl_mux_egress(s->mux);
  size_t room = queued < CDL_MUX_EGRESS_BUDGET ? CDL_MUX_EGRESS_BUDGET - queued : 0;
  size_t n = s->part.total - s->part.sent;
  if (n > room) n = room;
  const uint8_t *bytes = s->part.shared ? s->part.shared->bytes : s->msg.data;
  if (n > 0 && cdl_mux_queue(s->mux, s->part.ch, bytes + s->part.sent, n) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "server: egress queue full");
  s->part.sent += n;
  s->part.active = s->part.sent < s->part.total;
  if (!s->part.active) srv_part_release(s);
  return CDL_OK;
}

int srv_queue_block_msg(cdl_n2n_server *s, int ch, int kind, const cdl_point *at,
                        const cdl_tip *tip, cdl_error *err) {
  if (cdl_cbor_enc_status(&s->msg) != CDL_OK || s->msg.len <= CDL_MUX_EGRESS_BUDGET)
    return srv_queue(s, ch, err);
  s->part = (srv_part){.active = true, .ch = ch, .kind = kind, .point = *at, .total = s->msg.len};
  if (tip != NULL) s->part.tip = *tip;
  s->part.shared = share(s);
  return queue_piece(s, err);
}

int srv_part_go(cdl_n2n_server *s, cdl_error *err) {
  if (!s->part.active || !srv_room(s)) return CDL_OK;
  if (s->part.shared == NULL) CDL_TRY(encode_again(s, err));
  return queue_piece(s, err);
}

bool srv_part_busy(const cdl_n2n_server *s, int ch) { return s->part.active && s->part.ch == ch; }
