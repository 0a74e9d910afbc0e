/*
 * client_txsub.c: the initiator (outbound) side of tx-submission v2,
 * protocol 4 (client_internal.h; docs/ouroboros-network.md 4.3;
 * ouroboros-network TxSubmission/Outbound.hs). This side owns the txs: it
 * offers the mempool's entries, oldest ticket first, to the peer, which
 * pulls the ones it lacks.
 *
 * After MsgInit the peer has agency and may wait as long as it likes. It
 * asks for ids, acknowledging the oldest ones offered, and for bodies of
 * ids offered and not yet acknowledged. The rules the Haskell outbound
 * enforces, each ending the connection here as there: acknowledging more
 * than are unacknowledged; a request that would leave more than 10
 * unacknowledged; a request for nothing; a blocking request while some are
 * still unacknowledged, or a non-blocking one while none are; a body asked
 * for that was not offered (or was acknowledged). One more of ours: asking
 * for more bodies than are unacknowledged, which would make us send the
 * same tx many times over.
 *
 * A blocking request is answered once the mempool has an entry past the
 * last one offered (cl_tx_offer, run on every receive and poll). A tx that
 * left the mempool since it was offered is left out of the reply, as the
 * Haskell node does. The size offered with an id is its length on the
 * wire, the hard-fork GenTx (ouroboros-consensus txWireSize).
 */
#include <string.h>

#include "cardinal/mempool.h"
#include "client_internal.h"

#define HFC_WRAP_BYTES 2 /* [0, gentx]: the list header and era 0 */

static int tx_violation(const char *what, cdl_error *err) {
  return cdl_error_set(err, CDL_E_PROTOCOL, 0, "tx-submission: %s", what);
}

/* Sends MsgReplyTxIds with up to |want| entries past the last offered. */
static int reply_ids(cdl_n2n_client *c, uint16_t want, cdl_error *err) {
  cdl_buf list;
  cdl_buf_init(&list, 0);
  cdl_cbor_enc_indef_array(&list);
  cdl_mempool_entry e;
  for (uint16_t i = 0; i < want && c->cfg.txs.next(c->cfg.txs.ctx, c->tx.last_ticket, &e); i++) {
    cdl_cbor_enc_array(&list, 2);
    cdl_net_enc_gentx_id(&list, e.kind, e.id);
    cdl_cbor_enc_uint(&list, e.gentx.len + HFC_WRAP_BYTES);
    cl_offer *o = &c->tx.unacked[c->tx.n_unacked++];
    o->kind = e.kind;
    memcpy(o->hash, e.id, 32);
    c->tx.last_ticket = e.ticket;
    c->st.tx_ids_offered++;
  }
  cdl_cbor_enc_break(&list);
  int rc = cdl_cbor_enc_status(&list);
  if (rc == CDL_OK) {
    cdl_tx2_msg m = {.kind = CDL_TX2_REPLY_TX_IDS, .items = cdl_span_of(list.data, list.len)};
    cdl_buf_reset(&c->msg);
    cdl_tx2_encode(&c->msg, &m);
    rc = cl_queue(c, c->ch_tx, err);
  } else {
    rc = cdl_error_set(err, rc, 0, "tx-submission: out of memory");
  }
  cdl_buf_free(&list);
  c->tx.state = CL_TX_IDLE;
  return rc;
}

static bool has_new(const cdl_n2n_client *c) {
  cdl_mempool_entry e;
  return c->cfg.txs.next(c->cfg.txs.ctx, c->tx.last_ticket, &e);
}

static int request_ids(cdl_n2n_client *c, const cdl_tx2_msg *m, cdl_error *err) {
  size_t n = c->tx.n_unacked;
  if (m->ack > n) return tx_violation("more ids acknowledged than offered", err);
  if (n - m->ack + m->req > CL_TX_MAX_UNACKED)
    return tx_violation("a request past 10 unacknowledged ids", err);
  if (m->req == 0 && (m->blocking || m->ack == 0))
    return tx_violation("a request for nothing", err);
  memmove(c->tx.unacked, c->tx.unacked + m->ack, (n - m->ack) * sizeof *c->tx.unacked);
  c->tx.n_unacked = n - m->ack;
  if (m->blocking && c->tx.n_unacked > 0)
    return tx_violation("a blocking request with ids unacknowledged", err);
  if (!m->blocking && c->tx.n_unacked == 0)
    return tx_violation("a non-blocking request with nothing unacknowledged", err);
  if (m->blocking && !has_new(c)) { /* wait for the mempool */
    c->tx.state = CL_TX_BLOCKED;
    c->tx.want = m->req;
    return CDL_OK;
  }
  return reply_ids(c, m->req, err);
}

static bool offered(const cdl_n2n_client *c, const cdl_net_gentx_id *id) {
  for (size_t i = 0; i < c->tx.n_unacked; i++)
    if (c->tx.unacked[i].kind == id->kind && memcmp(c->tx.unacked[i].hash, id->hash, 32) == 0)
      return true;
  return false;
}

/* Appends to |list| the body of each requested id that is still held. */
static int collect_txs(cdl_n2n_client *c, const cdl_tx2_msg *m, cdl_buf *list, cdl_error *err) {
  if (m->n_items > c->tx.n_unacked)
    return tx_violation("more bodies asked for than ids unacknowledged", err);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, m->items.ptr, m->items.len, err);
  CDL_TRY(cdl_cbor_read_indef_array(&cur, "tx ids"));
  for (size_t i = 0; i < m->n_items; i++) {
    cdl_span raw;
    cdl_net_gentx_id id;
    cdl_mempool_entry e;
    CDL_TRY(cdl_cbor_skip(&cur, &raw));
    cdl_error bad = {0};
    if (cdl_net_read_gentx_id(raw, &id, &bad) != CDL_OK || id.era != 0 || !offered(c, &id))
      return tx_violation("a body asked for that was not offered", err);
    if (!c->cfg.txs.find(c->cfg.txs.ctx, id.kind, id.hash, &e)) continue; /* gone: left out */
    cdl_net_enc_gentx(list, e.gentx);
    c->st.txs_sent++;
  }
  return CDL_OK;
}

static int request_txs(cdl_n2n_client *c, const cdl_tx2_msg *m, cdl_error *err) {
  cdl_buf list;
  cdl_buf_init(&list, 0);
  cdl_cbor_enc_indef_array(&list);
  int rc = collect_txs(c, m, &list, err);
  cdl_cbor_enc_break(&list);
  if (rc == CDL_OK && cdl_cbor_enc_status(&list) != CDL_OK)
    rc = cdl_error_set(err, CDL_E_NOMEM, 0, "tx-submission: out of memory");
  if (rc == CDL_OK) {
    cdl_tx2_msg r = {.kind = CDL_TX2_REPLY_TXS, .items = cdl_span_of(list.data, list.len)};
    cdl_buf_reset(&c->msg);
    cdl_tx2_encode(&c->msg, &r);
    rc = cl_queue(c, c->ch_tx, err);
  }
  cdl_buf_free(&list);
  return rc;
}

int cl_tx_submission(cdl_n2n_client *c, cdl_error *err) {
  if (c->ch_tx < 0) return CDL_OK;
  for (;;) {
    cdl_span in = cdl_mux_ingress(c->mux, c->ch_tx);
    if (in.len == 0) return CDL_OK;
    if (c->tx.state != CL_TX_IDLE)
      return tx_violation("a message while the client has agency", err);
    cdl_tx2_msg m;
    size_t used;
    bool got;
    CDL_TRY(cl_judge(cdl_tx2_decode(in.ptr, in.len, &m, &used, err), in.len, &used, CL_SMALL_LIMIT,
                     "tx-submission", &got, err));
    if (!got) return CDL_OK;
    int rc;
    if (m.kind == CDL_TX2_REQUEST_TX_IDS)
      rc = request_ids(c, &m, err);
    else if (m.kind == CDL_TX2_REQUEST_TXS)
      rc = request_txs(c, &m, err); /* |m| points into the ingress */
    else
      rc = cl_unexpected("tx-submission", cdl_tx2_name(m.kind), err);
    cdl_mux_consume(c->mux, c->ch_tx, used);
    CDL_TRY(rc);
  }
}

int cl_tx_offer(cdl_n2n_client *c, cdl_error *err) {
  if (c->ch_tx < 0 || c->tx.state != CL_TX_BLOCKED || !has_new(c)) return CDL_OK;
  return reply_ids(c, c->tx.want, err);
}
