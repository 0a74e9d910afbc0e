/*
 * tx.c: Byron transactions (docs/byron.md section 1.5):
 *   txaux = [tx, [* witness]]            ; witness list definite (Vector)
 *   tx    = [9f +txin ff, 9f +txout ff, attributes]
 *   txin  = [0, 24(bytes .cbor [txid, index])]
 *   txout = [address, lovelace]
 *   witness = [0|2, 24(bytes .cbor [key, sig])]  (1 = script, legacy only)
 * The tx id is Blake2b-256 of the tx's original bytes.
 */
#include <string.h>

#include "internal.h"

static int read_txin(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                     cdl_byron_txin *in) {
  size_t start = cur->pos;
  uint8_t tag;
  cdl_span payload;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "tx input"));
  CDL_TRY(byron_read_u8(cur, &tag, "tx input tag"));
  if (tag != 0)
    return cdl_cbor_fail(cur, CDL_E_TAG, "tx input: unknown tag %u", tag);
  CDL_TRY(cdl_cbor_read_tag24(cur, &payload, "tx input"));
  in->raw = cdl_cbor_span_since(cur, start);

  cdl_cbor_cursor inner;
  cdl_cbor_cursor_sub(&inner, cur, payload);
  uint64_t index, max = ctx->flags & CDL_BYRON_LEGACY ? UINT32_MAX : UINT16_MAX;
  CDL_TRY(cdl_cbor_expect_array(&inner, 2, "tx input"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(&inner, 32, &in->tx_id, "tx input id"));
  CDL_TRY(cdl_cbor_read_uint_max(&inner, max, &index, "tx input index"));
  in->index = (uint32_t)index;
  return cdl_cbor_expect_end(&inner, "tx input");
}

static int read_txout(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                      cdl_byron_txout *out) {
  size_t start = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "tx output"));
  CDL_TRY(cdl_byron_address_read(cur, ctx, &out->address));
  CDL_TRY(
      cdl_cbor_read_uint_max(cur, CDL_BYRON_MAX_LOVELACE, &out->lovelace, "tx output lovelace"));
  out->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

static int read_txin_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *p) {
  return read_txin(cur, ctx, p);
}
static int read_txout_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *p) {
  return read_txout(cur, ctx, p);
}

int cdl_byron_tx_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                      cdl_byron_tx *tx) {
  size_t start = cur->pos;
  memset(tx, 0, sizeof *tx);
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "tx"));
  CDL_TRY(byron_read_list(cur, ctx, read_txin_item, sizeof *tx->inputs, true, (void **)&tx->inputs,
                          &tx->n_inputs, NULL, "tx inputs"));
  CDL_TRY(byron_read_list(cur, ctx, read_txout_item, sizeof *tx->outputs, true,
                          (void **)&tx->outputs, &tx->n_outputs, NULL, "tx outputs"));
  CDL_TRY(byron_attrs_read(cur, ctx, ATTRS_ORDERED, &tx->attrs, "tx attributes"));
  tx->raw = cdl_cbor_span_since(cur, start);
  cdl_blake2b_256(tx->id, tx->raw.ptr, tx->raw.len);
  return CDL_OK;
}

static int read_script(cdl_cbor_cursor *cur, cdl_byron_script *s) {
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "script"));
  CDL_TRY(byron_read_u16(cur, &s->version, "script version"));
  return cdl_cbor_read_bytes(cur, &s->script, "script");
}

static int read_witness_payload(cdl_cbor_cursor *cur, cdl_byron_witness *w) {
  if (w->type == CDL_BYRON_WIT_SCRIPT) {
    CDL_TRY(cdl_cbor_expect_array(cur, 2, "script witness"));
    CDL_TRY(read_script(cur, &w->validator));
    return read_script(cur, &w->redeemer);
  }
  w->key_len = w->type == CDL_BYRON_WIT_PUBKEY ? 64 : 32;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "witness"));
  if (w->type == CDL_BYRON_WIT_PUBKEY)
    CDL_TRY(byron_read_xpub(cur, &w->key, "witness key"));
  else
    CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &w->key, "redeem witness key"));
  return cdl_cbor_read_bytes_fixed(cur, 64, &w->signature, "witness signature");
}

static int read_witness(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                        cdl_byron_witness *w) {
  size_t start = cur->pos;
  uint8_t tag;
  cdl_span payload;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "witness"));
  CDL_TRY(byron_read_u8(cur, &tag, "witness tag"));
  bool script_ok = ctx->flags & CDL_BYRON_LEGACY;
  if (tag != CDL_BYRON_WIT_PUBKEY && tag != CDL_BYRON_WIT_REDEEM &&
      !(tag == CDL_BYRON_WIT_SCRIPT && script_ok))
    return cdl_cbor_fail(cur, CDL_E_TAG, "witness: unsupported tag %u", tag);
  w->type = tag;
  CDL_TRY(cdl_cbor_read_tag24(cur, &payload, "witness"));
  w->raw = cdl_cbor_span_since(cur, start);
  cdl_cbor_cursor inner;
  cdl_cbor_cursor_sub(&inner, cur, payload);
  CDL_TRY(read_witness_payload(&inner, w));
  return cdl_cbor_expect_end(&inner, "witness");
}

int cdl_byron_txaux_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                         cdl_byron_txaux *aux) {
  size_t start = cur->pos, n, wstart;
  memset(aux, 0, sizeof *aux);
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "tx aux"));
  CDL_TRY(cdl_byron_tx_read(cur, ctx, &aux->tx));
  wstart = cur->pos;
  CDL_TRY(cdl_cbor_read_array(cur, &n, "tx witnesses"));
  byron_vec v = {NULL, 0, 0, sizeof(cdl_byron_witness)};
  for (size_t i = 0; i < n; i++) {
    cdl_byron_witness *w = byron_vec_push(ctx->arena, &v);
    if (w == NULL) return cdl_cbor_fail(cur, CDL_E_NOMEM, "decoder memory bound reached");
    CDL_TRY(read_witness(cur, ctx, w));
  }
  aux->witnesses = (cdl_byron_witness *)v.items;
  aux->n_witnesses = v.count;
  aux->witnesses_raw = cdl_cbor_span_since(cur, wstart);
  aux->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

int cdl_byron_txaux_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                           cdl_byron_txaux *aux) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data, len, ctx->err);
  cdl_cbor_head h;
  CDL_TRY(cdl_cbor_peek(&cur, &h));
  if (h.major == CDL_CBOR_ARRAY && !h.indefinite && h.value == 3) {
    memset(aux, 0, sizeof *aux); /* a bare tx, without witnesses */
    CDL_TRY(cdl_byron_tx_read(&cur, ctx, &aux->tx));
    aux->raw = aux->tx.raw;
  } else {
    CDL_TRY(cdl_byron_txaux_read(&cur, ctx, aux));
  }
  return cdl_cbor_expect_end(&cur, "transaction");
}

/* ---- Encoding ---- */

void cdl_byron_txin_encode(cdl_buf *b, const cdl_byron_txin *in) {
  uint8_t storage[48];
  cdl_buf inner;
  cdl_buf_init_fixed(&inner, storage, sizeof storage);
  cdl_cbor_enc_array(&inner, 2);
  cdl_cbor_enc_bytes(&inner, in->tx_id, 32);
  cdl_cbor_enc_uint(&inner, in->index);
  CDL_ASSERT(!inner.failed);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_tag(b, 24);
  cdl_cbor_enc_bytes(b, inner.data, inner.len);
}

void cdl_byron_tx_encode(cdl_buf *b, const cdl_byron_tx *tx) {
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < tx->n_inputs; i++) cdl_byron_txin_encode(b, &tx->inputs[i]);
  cdl_cbor_enc_break(b);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < tx->n_outputs; i++) {
    cdl_cbor_enc_array(b, 2);
    cdl_byron_address_encode(b, &tx->outputs[i].address);
    cdl_cbor_enc_uint(b, tx->outputs[i].lovelace);
  }
  cdl_cbor_enc_break(b);
  cdl_byron_attrs_encode(b, &tx->attrs);
}

static void encode_witness_payload(cdl_buf *b, const cdl_byron_witness *w) {
  cdl_cbor_enc_array(b, 2);
  if (w->type == CDL_BYRON_WIT_SCRIPT) {
    const cdl_byron_script *s[2] = {&w->validator, &w->redeemer};
    for (int i = 0; i < 2; i++) {
      cdl_cbor_enc_array(b, 2);
      cdl_cbor_enc_uint(b, s[i]->version);
      cdl_cbor_enc_bytes(b, s[i]->script.ptr, s[i]->script.len);
    }
    return;
  }
  cdl_cbor_enc_bytes(b, w->key, w->key_len);
  cdl_cbor_enc_bytes(b, w->signature, 64);
}

void cdl_byron_txaux_encode(cdl_buf *b, const cdl_byron_txaux *aux) {
  cdl_cbor_enc_array(b, 2);
  cdl_byron_tx_encode(b, &aux->tx);
  cdl_cbor_enc_array(b, aux->n_witnesses);
  for (size_t i = 0; i < aux->n_witnesses; i++) {
    cdl_cbor_enc_array(b, 2);
    cdl_cbor_enc_uint(b, aux->witnesses[i].type);
    cdl_cbor_enc_tag(b, 24);
    size_t start = b->len;
    encode_witness_payload(b, &aux->witnesses[i]);
    cdl_cbor_enc_wrap_bytes(b, start);
  }
}
