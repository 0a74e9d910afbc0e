/*
 * reforge.c: re-signing real epoch-0 blocks with test keys (see
 * chain_support.h), so tests can change bodies and still present valid
 * headers and signatures.
 */
#include <stdlib.h>
#include <string.h>

#include "chain_support.h"

static const uint32_t MAGIC = CDL_BYRON_MAINNET_MAGIC;

static void *arena_copy(cdl_arena *a, const void *src, size_t len) {
  void *p = cdl_arena_alloc(a, len);
  assert_non_null(p);
  memcpy(p, src, len);
  return p;
}

static void sign_cert(const test_key *issuer, const uint8_t delegate[64], uint64_t epoch,
                      uint8_t sig[64]) {
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_byron_msg_cert(&msg, MAGIC, delegate, epoch);
  test_key_sign(issuer, msg.data, msg.len, sig);
  cdl_buf_free(&msg);
}

/* The test genesis: mainnet's, with the genesis keys, their delegations
 * and one extra non-AVVM balance replaced by test keys. */
static void make_genesis(reforge *rf) {
  cdl_byron_genesis *g = &rf->fix.g;
  uint8_t(*keys)[28] = cdl_arena_calloc(&rf->fix.arena, 7, 28);
  cdl_byron_genesis_delegation *d = cdl_arena_calloc(&rf->fix.arena, 7, sizeof *d);
  assert_non_null(keys), assert_non_null(d);
  for (int i = 0; i < 7; i++) {
    test_key_make(&rf->gen[i], 100 + i);
    test_key_make(&rf->del[i], 200 + i);
    cdl_byron_key_hash(rf->gen[i].xpub, keys[i]);
    memcpy(d[i].issuer_id, keys[i], 28);
    memcpy(d[i].issuer_pk, rf->gen[i].xpub, 64);
    memcpy(d[i].delegate_pk, rf->del[i].xpub, 64);
    sign_cert(&rf->gen[i], rf->del[i].xpub, 0, d[i].signature);
  }
  assert_int_equal(g->n_boot_stakeholders, 7);
  g->boot_stakeholders = keys;
  g->delegations = d;
  g->n_delegations = 7;
  test_key_make(&rf->spender, 300);
  test_key_address(&rf->spender, &rf->spender_addr);
  cdl_byron_genesis_balance *b = cdl_arena_calloc(&rf->fix.arena, g->n_balances + 1, sizeof *b);
  assert_non_null(b);
  memcpy(b, g->balances, g->n_balances * sizeof *b);
  b[g->n_balances].address = cdl_span_of(
      arena_copy(&rf->fix.arena, rf->spender_addr.data, rf->spender_addr.len), rf->spender_addr.len);
  b[g->n_balances].lovelace = REFORGE_SPENDER_LOVELACE;
  g->balances = b;
  g->n_balances++;
  cdl_blake2b_256(rf->spender_utxo, rf->spender_addr.data, rf->spender_addr.len);
}

static int real_genesis_index(const reforge *rf, const uint8_t issuer_pk[64]) {
  uint8_t h[28];
  cdl_byron_key_hash(issuer_pk, h);
  for (size_t i = 0; i < rf->real.g.n_boot_stakeholders; i++)
    if (memcmp(rf->real.g.boot_stakeholders[i], h, 28) == 0) return (int)i;
  fail_msg("block signed by an unknown genesis key");
  return -1;
}

static void wrap(cdl_buf *out, unsigned tag, cdl_span header, cdl_span body, cdl_span extra) {
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, tag);
  cdl_cbor_enc_array(out, 3);
  cdl_cbor_enc_raw(out, header);
  cdl_cbor_enc_raw(out, body);
  cdl_cbor_enc_raw(out, extra);
  assert_int_equal(cdl_cbor_enc_status(out), CDL_OK);
}

/* New proofs for a replacement body. */
static void prove_body(cdl_byron_header *h, cdl_span body_bytes, test_ctx *t) {
  cdl_cbor_cursor cur;
  cdl_byron_body body;
  cdl_cbor_cursor_init(&cur, body_bytes.ptr, body_bytes.len, &t->err);
  assert_int_equal(cdl_byron_body_read(&cur, &t->ctx, &body), CDL_OK);
  uint8_t *root = cdl_arena_alloc(&t->arena, 32), *wits = cdl_arena_alloc(&t->arena, 32);
  uint8_t *dlg = cdl_arena_alloc(&t->arena, 32), *upd = cdl_arena_alloc(&t->arena, 32);
  cdl_byron_tx_merkle_root(body.txs, body.n_txs, root);
  cdl_byron_tx_witnesses_hash(&body, wits);
  cdl_blake2b_256(dlg, body.dlg_payload_raw.ptr, body.dlg_payload_raw.len);
  cdl_blake2b_256(upd, body.upd_payload_raw.ptr, body.upd_payload_raw.len);
  h->proof.tx_count = (uint32_t)body.n_txs;
  h->proof.tx_merkle_root = root;
  h->proof.tx_witnesses_hash = wits;
  h->proof.dlg_hash = dlg;
  h->proof.upd_hash = upd;
}

/* Encodes the header, signs its ToSign with |signer| and patches the
 * signature into the encoding. */
static void sign_header(const cdl_byron_header *h, const test_key *signer, cdl_buf *out,
                        test_ctx *t) {
  cdl_buf_init(out, 0);
  cdl_byron_header_encode(out, h);
  cdl_cbor_cursor cur;
  cdl_byron_header decoded;
  cdl_cbor_cursor_init(&cur, out->data, out->len, &t->err);
  assert_int_equal(cdl_byron_header_read(&cur, &t->ctx, &decoded), CDL_OK);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_byron_msg_block(&msg, &decoded, MAGIC);
  uint8_t sig[64];
  test_key_sign(signer, msg.data, msg.len, sig);
  memcpy(out->data + (decoded.signature - out->data), sig, 64);
  cdl_buf_free(&msg);
}

void reforge_block(const reforge *rf, size_t i, const uint8_t prev[32], cdl_span body_bytes,
                   const test_key *delegate, cdl_buf *out) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  cdl_span real = rf->real_chain.blocks[i];
  assert_int_equal(cdl_byron_block_decode(real.ptr, real.len, &t.ctx, &blk), CDL_OK);
  cdl_buf header;
  if (blk.is_ebb) {
    cdl_byron_ebb_header h = blk.ebb;
    h.prev_hash = prev;
    cdl_buf_init(&header, 0);
    cdl_byron_ebb_header_encode(&header, &h);
    wrap(out, 0, cdl_span_of(header.data, header.len), blk.ebb_body_raw, blk.extra_raw);
  } else {
    cdl_byron_header h = blk.header;
    h.prev_hash = prev;
    const test_key *signer = delegate;
    uint8_t cert_sig[64];
    if (delegate == NULL) {
      int g = real_genesis_index(rf, h.cert.issuer_pk);
      signer = &rf->del[g];
      h.leader_key = h.cert.issuer_pk = rf->gen[g].xpub;
      sign_cert(&rf->gen[g], signer->xpub, h.cert.epoch, cert_sig);
      h.cert.signature = cert_sig;
    }
    h.cert.delegate_pk = signer->xpub;
    if (body_bytes.len > 0) prove_body(&h, body_bytes, &t);
    sign_header(&h, signer, &header, &t);
    wrap(out, 1, cdl_span_of(header.data, header.len),
         body_bytes.len > 0 ? body_bytes : blk.body.raw, blk.extra_raw);
  }
  cdl_buf_free(&header);
  test_ctx_free(&t);
}

void body_with_txs(const reforge *rf, size_t i, const cdl_span *txs, size_t n, cdl_buf *out) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  cdl_span real = rf->real_chain.blocks[i];
  assert_int_equal(cdl_byron_block_decode(real.ptr, real.len, &t.ctx, &blk), CDL_OK);
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 4);
  cdl_cbor_enc_indef_array(out);
  for (size_t k = 0; k < n; k++) cdl_cbor_enc_raw(out, txs[k]);
  cdl_cbor_enc_break(out);
  cdl_cbor_enc_raw(out, blk.body.ssc.raw);
  cdl_cbor_enc_raw(out, blk.body.dlg_payload_raw);
  cdl_cbor_enc_raw(out, blk.body.upd_payload_raw);
  test_ctx_free(&t);
}

void reforge_init(reforge *rf, size_t n_blocks) {
  memset(rf, 0, sizeof *rf);
  mainnet_genesis(&rf->real);
  mainnet_genesis(&rf->fix);
  make_genesis(rf);
  epoch0_load(&rf->real_chain);
  rf->n = n_blocks;
  rf->blocks = calloc(n_blocks, sizeof *rf->blocks);
  rf->hashes = calloc(n_blocks, sizeof *rf->hashes);
  for (size_t i = 0; i < n_blocks; i++) {
    const uint8_t *prev = i == 0 ? rf->fix.g.hash : rf->hashes[i - 1];
    reforge_block(rf, i, prev, cdl_span_of(NULL, 0), NULL, &rf->blocks[i]);
    test_ctx t;
    test_ctx_init(&t, 0);
    cdl_byron_block blk;
    assert_int_equal(cdl_byron_block_decode(rf->blocks[i].data, rf->blocks[i].len, &t.ctx, &blk), 0);
    memcpy(rf->hashes[i], cdl_byron_block_hash(&blk), 32);
    test_ctx_free(&t);
  }
}

void reforge_free(reforge *rf) {
  for (size_t i = 0; i < rf->n; i++) cdl_buf_free(&rf->blocks[i]);
  free(rf->blocks);
  free(rf->hashes);
  cdl_buf_free(&rf->spender_addr);
  epoch0_free(&rf->real_chain);
  cdl_arena_free(&rf->real.arena);
  cdl_arena_free(&rf->fix.arena);
}
