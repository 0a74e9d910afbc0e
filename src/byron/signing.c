/*
 * signing.c: the signed messages of docs/byron.md section 3.2 (tag byte,
 * CBOR protocol magic, payload) and the checks built on them: tx
 * witnesses, delegation certificates, proposals, votes (block signatures
 * are in block_check.c).
 */
#include <string.h>

#include "internal.h"

enum {
  TAG_TX = 0x01,
  TAG_REDEEM_TX = 0x02,
  TAG_PROPOSAL = 0x04,
  TAG_VOTE = 0x06,
  TAG_CERTIFICATE = 0x0a,
  TAG_BLOCK_HEAVY = 0x09
};

size_t cdl_byron_magic_cbor(uint32_t magic, uint8_t out[9]) {
  cdl_buf b;
  cdl_buf_init_fixed(&b, out, 9);
  cdl_cbor_enc_uint(&b, magic);
  CDL_ASSERT(!b.failed);
  return b.len;
}

void cdl_byron_msg_prefix(cdl_buf *b, uint8_t tag, uint32_t magic) {
  uint8_t pm[9];
  size_t n = cdl_byron_magic_cbor(magic, pm);
  cdl_buf_reset(b);
  cdl_buf_append_byte(b, tag);
  cdl_buf_append(b, pm, n);
}

void cdl_byron_msg_tx(cdl_buf *b, uint8_t tag, uint32_t magic,
                      const uint8_t tx_id[32]) {
  cdl_byron_msg_prefix(b, tag, magic);
  cdl_cbor_enc_bytes(b, tx_id, 32);
}

void cdl_byron_msg_cert(cdl_buf *b, uint32_t magic, const uint8_t delegate[64],
                        uint64_t epoch) {
  /* The payload is a CBOR byte string holding "00" || delegate || the
   * canonical CBOR of the epoch (re-encoded by the reference too). */
  uint8_t storage[2 + 64 + 9];
  cdl_buf payload;
  cdl_buf_init_fixed(&payload, storage, sizeof storage);
  cdl_buf_append(&payload, "00", 2);
  cdl_buf_append(&payload, delegate, 64);
  cdl_cbor_enc_uint(&payload, epoch);
  CDL_ASSERT(!payload.failed);
  cdl_byron_msg_prefix(b, TAG_CERTIFICATE, magic);
  cdl_cbor_enc_bytes(b, payload.data, payload.len);
}

void cdl_byron_msg_block(cdl_buf *b, const cdl_byron_header *h, uint32_t magic) {
  uint8_t pm[9];
  size_t n = cdl_byron_magic_cbor(magic, pm);
  cdl_buf_reset(b);
  cdl_buf_append(b, "01", 2);
  cdl_buf_append(b, h->leader_key, 64);
  cdl_buf_append_byte(b, TAG_BLOCK_HEAVY);
  cdl_buf_append(b, pm, n);
  cdl_cbor_enc_array(b, 5); /* ToSign = [prev, proof, slot, difficulty, extra] */
  cdl_cbor_enc_raw(b, h->prev_raw);
  cdl_cbor_enc_raw(b, h->proof_raw);
  cdl_cbor_enc_raw(b, h->slot_raw);
  cdl_cbor_enc_raw(b, h->difficulty_raw);
  cdl_cbor_enc_raw(b, h->extra_raw);
}

/* Verifies sig by key (its first 32 bytes) over the message in b. */
static bool verify_buf(const cdl_buf *b, const uint8_t *key,
                       const uint8_t *sig) {
  return !b->failed && cdl_ed25519_verify(key, b->data, b->len, sig);
}

bool cdl_byron_witness_verify(const cdl_byron_witness *w, const uint8_t tx_id[32],
                              uint32_t protocol_magic) {
  uint8_t storage[64];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  if (w->type == CDL_BYRON_WIT_PUBKEY && w->key_len == 64) {
    cdl_byron_msg_tx(&b, TAG_TX, protocol_magic, tx_id);
  } else if (w->type == CDL_BYRON_WIT_REDEEM && w->key_len == 32) {
    cdl_byron_msg_tx(&b, TAG_REDEEM_TX, protocol_magic, tx_id);
  } else {
    return false; /* script witnesses have no signature to check */
  }
  return verify_buf(&b, w->key, w->signature);
}

bool cdl_byron_dlg_cert_verify(const cdl_byron_dlg_cert *cert,
                               uint32_t protocol_magic) {
  uint8_t storage[128];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  cdl_byron_msg_cert(&b, protocol_magic, cert->delegate_pk, cert->epoch);
  return verify_buf(&b, cert->issuer_pk, cert->signature);
}

static void msg_proposal(cdl_buf *b, const cdl_byron_proposal *p, uint32_t magic) {
  cdl_byron_msg_prefix(b, TAG_PROPOSAL, magic);
  cdl_cbor_enc_array(b, 5);
  cdl_cbor_enc_raw(b, p->signed_fields);
}

/* The message on the stack, or on the heap for a large proposal: a failed
 * allocation is CDL_E_NOMEM, never a verdict (it once read as a bad
 * signature, so a valid block was refused when memory ran short). */
int cdl_byron_proposal_check(const cdl_byron_proposal *p, uint32_t magic) {
  uint8_t storage[1024];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  msg_proposal(&b, p, magic);
  if (b.failed) {
    cdl_buf_init(&b, 0);
    msg_proposal(&b, p, magic);
    if (b.failed) {
      cdl_buf_free(&b);
      return CDL_E_NOMEM;
    }
  }
  bool ok = verify_buf(&b, p->issuer, p->signature);
  cdl_buf_free(&b);
  return ok ? CDL_OK : CDL_E_SIGNATURE;
}

bool cdl_byron_proposal_verify(const cdl_byron_proposal *p, uint32_t magic) {
  return cdl_byron_proposal_check(p, magic) == CDL_OK;
}

bool cdl_byron_vote_verify_as(const cdl_byron_vote *v, uint32_t magic, bool decision) {
  uint8_t storage[64];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  cdl_byron_msg_prefix(&b, TAG_VOTE, magic);
  cdl_cbor_enc_array(&b, 2);
  cdl_cbor_enc_raw(&b, v->proposal_id_raw); /* original bytes, as signed */
  cdl_cbor_enc_bool(&b, decision);
  return verify_buf(&b, v->voter, v->signature);
}

bool cdl_byron_vote_verify(const cdl_byron_vote *v, uint32_t magic) {
  /* Only a positive vote can carry a valid signature: the reference
   * verifies (proposal id, True) whatever the decision field says. */
  return cdl_byron_vote_verify_as(v, magic, true);
}
