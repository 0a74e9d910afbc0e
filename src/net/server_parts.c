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
 * and queues as much of what is left as the budget has room for. A big
 * block is so read once per budget's worth of it; no connection holds
 * more than the budget between calls. Nothing else is queued on the
 * channel until the message is whole (srv_part_busy).
 */
#include <string.h>

#include "server_internal.h"

/* The message again, into s->msg, from the block read afresh. */
static int encode_again(cdl_n2n_server *s, cdl_error *err) {
  cdl_buf_reset(&s->block);
  TRY_NET(cdl_chaindb_read_block(s->db, &s->part.point, &s->block, NULL, err));
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

/* As much of s->msg after what was sent as the budget has room for. */
static int queue_piece(cdl_n2n_server *s, cdl_error *err) {
  size_t queued = cdl_mux_egress(&s->mux);
  size_t room = queued < CDL_MUX_EGRESS_BUDGET ? CDL_MUX_EGRESS_BUDGET - queued : 0;
  size_t n = s->part.total - s->part.sent;
  if (n > room) n = room;
  if (n > 0 && cdl_mux_queue(&s->mux, s->part.ch, s->msg.data + s->part.sent, n) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "server: egress queue full");
  s->part.sent += n;
  s->part.active = s->part.sent < s->part.total;
  return CDL_OK;
}

int srv_queue_block_msg(cdl_n2n_server *s, int ch, int kind, const cdl_point *at,
                        const cdl_tip *tip, cdl_error *err) {
  if (cdl_cbor_enc_status(&s->msg) != CDL_OK || s->msg.len <= CDL_MUX_EGRESS_BUDGET)
    return srv_queue(s, ch, err);
  s->part = (srv_part){.active = true, .ch = ch, .kind = kind, .point = *at, .total = s->msg.len};
  if (tip != NULL) s->part.tip = *tip;
  return queue_piece(s, err);
}

int srv_part_go(cdl_n2n_server *s, cdl_error *err) {
  if (!s->part.active || !srv_room(s)) return CDL_OK;
  TRY_NET(encode_again(s, err));
  return queue_piece(s, err);
}

bool srv_part_busy(const cdl_n2n_server *s, int ch) { return s->part.active && s->part.ch == ch; }
