/*
 * chain_support.c: see chain_support.h.
 */
#include "chain_support.h"

#include <stdlib.h>
#include <string.h>

#define MAINNET_GENESIS "genesis/mainnet/mainnet-byron-genesis.json"

void epoch0_load(epoch0 *e) {
  vec_epoch0_chunk(&e->chunk);
  e->blocks = calloc(21587, sizeof *e->blocks);
  e->n = 0;
  cdl_error err = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, e->chunk.data, e->chunk.len, &err);
  while (cdl_cbor_remaining(&cur) > 0) {
    assert_true(e->n < 21587);
    assert_int_equal(cdl_cbor_skip(&cur, &e->blocks[e->n]), CDL_OK);
    e->n++;
  }
  assert_int_equal(e->n, 21587);
}

void epoch0_free(epoch0 *e) {
  cdl_buf_free(&e->chunk);
  free(e->blocks);
}

size_t epoch0_next_tx_block(const epoch0 *e, size_t from) {
  for (size_t i = from; i < e->n; i++) {
    test_ctx t;
    test_ctx_init(&t, 0);
    cdl_byron_block blk;
    assert_int_equal(cdl_byron_block_decode(e->blocks[i].ptr, e->blocks[i].len, &t.ctx, &blk), 0);
    bool has = !blk.is_ebb && blk.body.n_txs > 0;
    test_ctx_free(&t);
    if (has) return i;
  }
  fail_msg("no tx block after %zu", from);
  return 0;
}

void mainnet_genesis(genesis_fixture *f) {
  cdl_buf text;
  cdl_error err = {0};
  vec_read(MAINNET_GENESIS, &text);
  cdl_arena_init(&f->arena, 0);
  if (cdl_byron_genesis_load(text.data, text.len, &f->arena, &f->g, &err) != CDL_OK)
    fail_msg("mainnet genesis: %s", err.message);
  cdl_buf_free(&text);
}

cdl_ledger *ledger_for(const cdl_byron_genesis *g, double pbft_threshold, unsigned flags) {
  cdl_ledger_config cfg = {g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic), g->k,
                           pbft_threshold, flags, NULL};
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_new(g, &cfg, &l, &err) != CDL_OK) fail_msg("ledger: %s", err.message);
  return l;
}

int apply_bytes(cdl_ledger *l, cdl_span block, cdl_rejection *rej) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  int rc = cdl_byron_block_decode(block.ptr, block.len, &t.ctx, &blk);
  if (rc == CDL_OK) rc = cdl_ledger_apply_block(l, &blk, rej);
  else if (rej) rej->rule = cdl_error_name(rc);
  test_ctx_free(&t);
  return rc;
}

void apply_all(cdl_ledger *l, const cdl_span *blocks, size_t n) {
  for (size_t i = 0; i < n; i++) {
    cdl_rejection rej = {0};
    if (apply_bytes(l, blocks[i], &rej) != CDL_OK)
      fail_msg("block %zu rejected: %s: %s", i, rej.rule, rej.detail);
  }
}

void expect_rejected(cdl_ledger *l, cdl_span block, const char *rule) {
  cdl_ledger_tip before, after;
  cdl_ledger_get_tip(l, &before);
  cdl_rejection rej = {0};
  int rc = apply_bytes(l, block, &rej);
  if (rc != CDL_E_REJECTED || strcmp(rej.rule, rule) != 0)
    fail_msg("expected %s, got rc %d rule %s (%s)", rule, rc, rej.rule ? rej.rule : "-", rej.detail);
  /* The rejection names this block, and the state is untouched. */
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  assert_int_equal(cdl_byron_block_decode(block.ptr, block.len, &t.ctx, &blk), CDL_OK);
  assert_true(rej.has_block);
  assert_int_equal(rej.block_no, cdl_byron_block_number(&blk));
  assert_memory_equal(rej.hash, cdl_byron_block_hash(&blk), 32);
  test_ctx_free(&t);
  cdl_ledger_get_tip(l, &after);
  assert_memory_equal(&before, &after, sizeof before);
}

/* ---- Keys ---- */

void test_key_make(test_key *k, uint32_t seed) {
  uint8_t in[8] = "cdlkey", h[64];
  memcpy(in + 4, &seed, 4);
  cdl_sha512(h, in, sizeof in);
  h[0] &= 0xf8; /* cardano-crypto's clamping of kL */
  h[31] &= 0x1f;
  h[31] |= 0x40;
  memcpy(k->xprv, h, 64);
  cdl_ed25519_xprv_public(k->xprv, k->xpub);
  cdl_blake2b_256(k->xpub + 32, h, 64); /* any chain code */
}

void test_key_sign(const test_key *k, const uint8_t *msg, size_t len, uint8_t sig[64]) {
  cdl_ed25519_xprv_sign(k->xprv, k->xpub, msg, len, sig);
}

void test_key_address(const test_key *k, cdl_buf *out) {
  static const uint8_t empty_attrs = 0xa0;
  uint8_t root[28];
  cdl_byron_address_root(0, k->xpub, 64, cdl_span_of(&empty_attrs, 1), root);
  cdl_buf payload;
  cdl_buf_init(&payload, 0);
  cdl_cbor_enc_array(&payload, 3);
  cdl_cbor_enc_bytes(&payload, root, 28);
  cdl_cbor_enc_map(&payload, 0);
  cdl_cbor_enc_uint(&payload, 0);
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_tag(out, 24);
  cdl_cbor_enc_bytes(out, payload.data, payload.len);
  cdl_cbor_enc_uint(out, cdl_crc32(payload.data, payload.len));
  cdl_buf_free(&payload);
}

static void put_amount(cdl_buf *b, uint64_t amount, bool wide) {
  if (!wide) {
    cdl_cbor_enc_uint(b, amount);
    return;
  }
  cdl_buf_append_byte(b, 0x1b);
  for (int shift = 56; shift >= 0; shift -= 8) cdl_buf_append_byte(b, (uint8_t)(amount >> shift));
}

static void put_input(cdl_buf *tx, const tx_input *input) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_cbor_enc_array(&in, 2);
  cdl_cbor_enc_bytes(&in, input->tx_id, 32);
  cdl_cbor_enc_uint(&in, input->index);
  cdl_cbor_enc_array(tx, 2);
  cdl_cbor_enc_uint(tx, 0);
  cdl_cbor_enc_tag(tx, 24);
  cdl_cbor_enc_bytes(tx, in.data, in.len);
  cdl_buf_free(&in);
}

/* A VK witness by |signer| over the tx id |id| under mainnet's magic. */
static void put_witness(cdl_buf *out, const test_key *signer, const uint8_t id[32]) {
  uint8_t sig[64];
  cdl_buf msg, wit;
  cdl_buf_init(&msg, 0), cdl_buf_init(&wit, 0);
  cdl_byron_msg_tx(&msg, 0x01, CDL_BYRON_MAINNET_MAGIC, id);
  test_key_sign(signer, msg.data, msg.len, sig);
  cdl_cbor_enc_array(&wit, 2);
  cdl_cbor_enc_bytes(&wit, signer->xpub, 64);
  cdl_cbor_enc_bytes(&wit, sig, 64);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, 0);
  cdl_cbor_enc_tag(out, 24);
  cdl_cbor_enc_bytes(out, wit.data, wit.len);
  cdl_buf_free(&msg), cdl_buf_free(&wit);
}

void make_tx_inputs(const tx_input *ins, size_t n_in, cdl_span to, size_t outputs,
                    uint64_t amount, bool wide_amounts, const test_key *const *signers,
                    size_t n_signers, cdl_buf *out) {
  cdl_buf tx;
  cdl_buf_init(&tx, 0);
  cdl_cbor_enc_array(&tx, 3);
  cdl_cbor_enc_indef_array(&tx);
  for (size_t i = 0; i < n_in; i++) put_input(&tx, &ins[i]);
  cdl_cbor_enc_break(&tx);
  cdl_cbor_enc_indef_array(&tx);
  for (size_t i = 0; i < outputs; i++) {
    cdl_cbor_enc_array(&tx, 2);
    cdl_cbor_enc_raw(&tx, to);
    put_amount(&tx, amount, wide_amounts);
  }
  cdl_cbor_enc_break(&tx);
  cdl_cbor_enc_map(&tx, 0);
  uint8_t id[32];
  cdl_blake2b_256(id, tx.data, tx.len);
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_raw(out, cdl_span_of(tx.data, tx.len));
  cdl_cbor_enc_array(out, n_signers);
  for (size_t i = 0; i < n_signers; i++) put_witness(out, signers[i], id);
  cdl_buf_free(&tx);
}

void make_tx(const uint8_t in_id[32], uint32_t in_index, cdl_span to, size_t outputs,
             uint64_t amount, bool wide_amounts, const test_key *signer, cdl_buf *out) {
  tx_input in = {in_id, in_index};
  make_tx_inputs(&in, 1, to, outputs, amount, wide_amounts, &signer, 1, out);
}
