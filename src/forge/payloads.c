/*
 * payloads.c: the signed items a block carries (include/cardinal/forge.h;
 * docs/byron.md 1.5 transactions, 1.9 delegation certificates, 1.10
 * update proposals and votes; signed messages in 3.2): what a wallet, a
 * delegator or a proposer submits, and what the generators put in the
 * blocks they forge.
 */
#include <stdlib.h>
#include <string.h>

#include "forge_internal.h"

enum { TAG_TX = 0x01, TAG_PROPOSAL = 0x04, TAG_VOTE = 0x06 };

static void encode_tx(const payload_tx_spec *s, cdl_buf *tx) {
  cdl_cbor_enc_array(tx, 3);
  cdl_cbor_enc_indef_array(tx);
  for (size_t i = 0; i < s->n_in; i++) {
    cdl_byron_txin in = {.tx_id = s->in[i].tx_id, .index = s->in[i].index};
    cdl_byron_txin_encode(tx, &in);
  }
  cdl_cbor_enc_break(tx);
  cdl_cbor_enc_indef_array(tx);
  for (size_t i = 0; i < s->n_out; i++) {
    cdl_cbor_enc_array(tx, 2);
    cdl_cbor_enc_raw(tx, s->out[i].address);
    cdl_cbor_enc_uint(tx, s->out[i].lovelace);
  }
  cdl_cbor_enc_break(tx);
  cdl_cbor_enc_map(tx, s->pad > 0 ? 1 : 0);
  if (s->pad > 0) {
    /* An attribute the ledger does not know (key 7): it counts towards the
     * tx size, and the ledger refuses it only after the size check. */
    cdl_cbor_enc_uint(tx, 7);
    cdl_buf filler;
    cdl_buf_init(&filler, 0);
    if (cdl_buf_reserve(&filler, s->pad) == CDL_OK) {
      memset(filler.data, 0x5a, s->pad);
      cdl_cbor_enc_bytes(tx, filler.data, s->pad);
    } else {
      tx->failed = true;
    }
    cdl_buf_free(&filler);
  }
}

static void encode_witness(const cdl_key *k, const uint8_t id[32], uint32_t magic, cdl_buf *out) {
  uint8_t msg_storage[64], wit_storage[160], sig[64];
  cdl_buf msg, wit;
  cdl_buf_init_fixed(&msg, msg_storage, sizeof msg_storage);
  cdl_byron_msg_prefix(&msg, TAG_TX, magic);
  cdl_cbor_enc_bytes(&msg, id, 32);
  cdl_key_sign(k, msg.data, msg.len, sig);
  cdl_buf_init_fixed(&wit, wit_storage, sizeof wit_storage);
  cdl_cbor_enc_array(&wit, 2);
  cdl_cbor_enc_bytes(&wit, k->xpub, 64);
  cdl_cbor_enc_bytes(&wit, sig, 64);
  CDL_ASSERT(!msg.failed && !wit.failed);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, 0);
  cdl_cbor_enc_tag(out, 24);
  cdl_cbor_enc_bytes(out, wit.data, wit.len);
}

void payload_tx_encode(const payload_tx_spec *s, cdl_buf *out, uint8_t id[32]) {
  cdl_buf tx;
  cdl_buf_init(&tx, 0);
  encode_tx(s, &tx);
  cdl_blake2b_256(id, tx.data, tx.len);
  size_t n_wit = s->witness_keys ? s->n_witnesses : s->n_in;
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_raw(out, cdl_span_of(tx.data, tx.len));
  cdl_cbor_enc_array(out, n_wit);
  for (size_t i = 0; i < n_wit; i++)
    encode_witness(s->witness_keys ? s->witness_keys[i] : s->in[i].owner, id, s->magic, out);
  cdl_buf_free(&tx);
}

void cdl_payload_delegation_make(const cdl_key *issuer, const uint8_t delegate_pk[64],
                                 uint64_t epoch, uint32_t magic, cdl_byron_genesis_delegation *d) {
  uint8_t storage[128];
  cdl_buf msg;
  cdl_buf_init_fixed(&msg, storage, sizeof storage);
  cdl_byron_msg_cert(&msg, magic, delegate_pk, epoch);
  CDL_ASSERT(!msg.failed);
  cdl_key_sign(issuer, msg.data, msg.len, d->signature);
  cdl_key_hash(issuer, d->issuer_id);
  memcpy(d->issuer_pk, issuer->xpub, 64);
  memcpy(d->delegate_pk, delegate_pk, 64);
  d->omega = epoch;
}

void cdl_payload_delegation_encode(const cdl_byron_genesis_delegation *d, cdl_buf *out) {
  cdl_byron_dlg_cert c = {.epoch = d->omega,
                          .issuer_pk = d->issuer_pk,
                          .delegate_pk = d->delegate_pk,
                          .signature = d->signature};
  cdl_byron_dlg_cert_encode(out, &c);
}

void cdl_payload_cert_make(const cdl_key *issuer, const uint8_t delegate_pk[64], uint64_t epoch,
                           uint32_t magic, cdl_buf *out) {
  cdl_byron_genesis_delegation d;
  cdl_payload_delegation_make(issuer, delegate_pk, epoch, magic, &d);
  cdl_payload_delegation_encode(&d, out);
}

/* Signs a proposal encoded with a zero signature: the signature covers
 * its first five fields (3.2) and sits in its last 64 bytes. */
static void sign_proposal(const cdl_key *issuer, uint32_t magic, cdl_buf *enc, size_t start) {
  cdl_arena arena;
  cdl_error err = {0};
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_cbor_cursor cur;
  cdl_byron_proposal back;
  cdl_cbor_cursor_init(&cur, enc->data + start, enc->len - start, &err);
  int rc = cdl_byron_proposal_read(&cur, &ctx, &back);
  CDL_ASSERT(rc == CDL_OK);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_byron_msg_prefix(&msg, TAG_PROPOSAL, magic);
  cdl_cbor_enc_array(&msg, 5);
  cdl_cbor_enc_raw(&msg, back.signed_fields);
  uint8_t sig[64];
  cdl_key_sign(issuer, msg.data, msg.len, sig);
  memcpy(enc->data + enc->len - 64, sig, 64);
  cdl_buf_free(&msg);
  cdl_arena_free(&arena);
}

void cdl_payload_proposal_sign(const cdl_key *issuer, cdl_byron_proposal *p, uint32_t magic,
                               cdl_buf *out, uint8_t id[32]) {
  static const uint8_t zero_sig[64];
  p->issuer = issuer->xpub;
  p->signature = zero_sig;
  size_t start = out->len;
  cdl_byron_proposal_encode(out, p);
  if (out->failed) return;
  sign_proposal(issuer, magic, out, start);
  cdl_blake2b_256(id, out->data + start, out->len - start);
}

void cdl_payload_proposal_make(const cdl_key *issuer, cdl_byron_version pv, uint64_t max_tx_size,
                               const char *app, uint32_t app_number, uint32_t magic, cdl_buf *out,
                               uint8_t id[32]) {
  cdl_byron_proposal p;
  memset(&p, 0, sizeof p);
  p.block_version = pv;
  p.params.scalar[CDL_BYRON_PP_MAX_TX_SIZE] =
      (cdl_byron_opt_u64){.present = true, .value = max_tx_size};
  p.software_version =
      (cdl_byron_software_version){cdl_span_of((const uint8_t *)app, strlen(app)), app_number};
  cdl_payload_proposal_sign(issuer, &p, magic, out, id);
  CDL_ASSERT(!out->failed);
}

void cdl_payload_update_data(cdl_byron_update_data *d, cdl_span system_tag,
                             const uint8_t installer_hash[32], uint8_t empty_hash[32]) {
  static const uint8_t nul = 0;
  cdl_blake2b_256(empty_hash, &nul, 1); /* cardano-ledger's hashRaw "\NUL" */
  d->system_tag = system_tag;
  for (int k = 0; k < 4; k++) d->hashes[k] = cdl_span_of(empty_hash, 32);
  d->hashes[1] = cdl_span_of(installer_hash, 32);
}

void cdl_payload_vote_sign(const cdl_key *voter, const uint8_t proposal_id[32], bool decision,
                           uint32_t magic, cdl_buf *out) {
  uint8_t storage[96], sig[64];
  cdl_buf msg;
  cdl_buf_init_fixed(&msg, storage, sizeof storage);
  cdl_byron_msg_prefix(&msg, TAG_VOTE, magic);
  cdl_cbor_enc_array(&msg, 2);
  cdl_cbor_enc_bytes(&msg, proposal_id, 32);
  cdl_cbor_enc_bool(&msg, decision);
  CDL_ASSERT(!msg.failed);
  cdl_key_sign(voter, msg.data, msg.len, sig);
  cdl_byron_vote v = {
      .voter = voter->xpub, .proposal_id = proposal_id, .decision = true, .signature = sig};
  cdl_byron_vote_encode(out, &v);
}

void cdl_payload_vote_make(const cdl_key *voter, const uint8_t proposal_id[32], uint32_t magic,
                           cdl_buf *out) {
  cdl_payload_vote_sign(voter, proposal_id, true, magic, out);
}

/* ---- The public tx builders (include/cardinal/forge.h) ---- */

void cdl_payload_tx_make(const cdl_payload_tx_input *in, size_t n_in,
                         const cdl_payload_tx_output *out, size_t n_out, uint32_t magic,
                         cdl_buf *txaux, uint8_t id[32]) {
  payload_input stack[16], *ins = n_in <= 16 ? stack : calloc(n_in, sizeof *ins);
  if (ins == NULL) {
    txaux->failed = true;
    return;
  }
  for (size_t i = 0; i < n_in; i++) {
    ins[i] = (payload_input){.index = in[i].index, .owner = in[i].owner};
    memcpy(ins[i].tx_id, in[i].tx_id, 32);
  }
  payload_tx_spec spec = {.in = ins, .n_in = n_in, .out = out, .n_out = n_out, .magic = magic};
  payload_tx_encode(&spec, txaux, id);
  if (ins != stack) free(ins);
}

void cdl_payload_tx_body(const cdl_payload_tx_input *in, size_t n_in,
                         const cdl_payload_tx_output *out, size_t n_out, cdl_buf *tx,
                         uint8_t id[32]) {
  payload_input stack[16], *ins = n_in <= 16 ? stack : calloc(n_in, sizeof *ins);
  if (ins == NULL) {
    tx->failed = true;
    return;
  }
  for (size_t i = 0; i < n_in; i++) {
    ins[i] = (payload_input){.index = in[i].index};
    memcpy(ins[i].tx_id, in[i].tx_id, 32);
  }
  payload_tx_spec spec = {.in = ins, .n_in = n_in, .out = out, .n_out = n_out};
  size_t start = tx->len;
  encode_tx(&spec, tx);
  if (!tx->failed) cdl_blake2b_256(id, tx->data + start, tx->len - start);
  if (ins != stack) free(ins);
}

void cdl_payload_tx_sign(cdl_span tx, const cdl_key *const *keys, size_t n, uint32_t magic,
                         cdl_buf *txaux) {
  uint8_t id[32];
  cdl_blake2b_256(id, tx.ptr, tx.len);
  cdl_cbor_enc_array(txaux, 2);
  cdl_cbor_enc_raw(txaux, tx);
  cdl_cbor_enc_array(txaux, n);
  for (size_t i = 0; i < n; i++) encode_witness(keys[i], id, magic, txaux);
}
