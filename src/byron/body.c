/*
 * body.c: main-block bodies (docs/byron.md section 1.4):
 *   body = [9f *txaux ff, ssc, 9f *dlgcert ff, [proposal?, 9f *vote ff]]
 * where proposal? is a Maybe ([] or [proposal]).
 */
#include <string.h>

#include "internal.h"

static int read_txaux_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  return cdl_byron_txaux_read(cur, ctx, item);
}

static int read_cert_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  return cdl_byron_dlg_cert_read(cur, item);
}

static int read_vote_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  return cdl_byron_vote_read(cur, item);
}

static int read_upd_payload(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                            cdl_byron_body *body) {
  size_t start = cur->pos, n;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "update payload"));
  CDL_TRY(cdl_cbor_read_array(cur, &n, "update proposal"));
  if (n > 1) return cdl_cbor_fail(cur, CDL_E_TYPE, "update proposal: Maybe list of length %zu", n);
  if (n == 1) {
    BYRON_ALLOC(ctx, cur, body->proposal, 1);
    CDL_TRY(cdl_byron_proposal_read(cur, ctx, body->proposal));
  }
  CDL_TRY(byron_read_list(cur, ctx, read_vote_item, sizeof *body->votes, false,
                          (void **)&body->votes, &body->n_votes, NULL, "update votes"));
  body->upd_payload_raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

int cdl_byron_body_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                        cdl_byron_body *body) {
  size_t start = cur->pos;
  memset(body, 0, sizeof *body);
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "body"));
  CDL_TRY(byron_read_list(cur, ctx, read_txaux_item, sizeof *body->txs, false, (void **)&body->txs,
                          &body->n_txs, &body->tx_payload_raw, "tx payload"));
  CDL_TRY(cdl_byron_ssc_read(cur, ctx, &body->ssc));
  CDL_TRY(byron_read_list(cur, ctx, read_cert_item, sizeof *body->certs, false,
                          (void **)&body->certs, &body->n_certs, &body->dlg_payload_raw,
                          "delegation payload"));
  CDL_TRY(read_upd_payload(cur, ctx, body));
  body->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

void cdl_byron_body_encode(cdl_buf *b, const cdl_byron_body *body) {
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < body->n_txs; i++) cdl_byron_txaux_encode(b, &body->txs[i]);
  cdl_cbor_enc_break(b);
  cdl_byron_ssc_encode(b, &body->ssc);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < body->n_certs; i++) cdl_byron_dlg_cert_encode(b, &body->certs[i]);
  cdl_cbor_enc_break(b);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_array(b, body->proposal ? 1 : 0);
  if (body->proposal) cdl_byron_proposal_encode(b, body->proposal);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < body->n_votes; i++) cdl_byron_vote_encode(b, &body->votes[i]);
  cdl_cbor_enc_break(b);
}
