/*
 * forge.c: Byron blocks built from parts (include/cardinal/forge.h;
 * docs/byron.md 1.1-1.4 formats, 1.8 EBBs, 2.3 proofs, 3.2-3.3
 * signatures). A main block's proofs are computed from the body exactly
 * as the validator recomputes them, the header is signed by the delegate
 * over its ToSign under the network magic, and the embedded heavyweight
 * certificate is signed by the genesis key (or, for a core node, taken as
 * its certificate file gives it). cdl_forge_block is what a core node
 * forges with: its mempool's payloads in a body.
 */
#include <string.h>

#include "forge_internal.h"

/* Today's SSC payload and its proof: CertificatesPayload with an empty
 * set, as cardano-ledger encodes it (tag 258 over an empty array). */
static const uint8_t SSC_PAYLOAD[] = {0x82, 0x03, 0xd9, 0x01, 0x02, 0x80};
static const uint8_t EXTRA_BODY[] = {0x81, 0xa0}; /* [attributes {}] */

void forge_body_init(forge_body *b) {
  cdl_buf_init(&b->txs, 0);
  cdl_buf_init(&b->certs, 0);
  cdl_buf_init(&b->proposal, 0);
  cdl_buf_init(&b->votes, 0);
}

void forge_body_free(forge_body *b) {
  cdl_buf_free(&b->txs);
  cdl_buf_free(&b->certs);
  cdl_buf_free(&b->proposal);
  cdl_buf_free(&b->votes);
}

void forge_body_reset(forge_body *b) {
  cdl_buf_reset(&b->txs);
  cdl_buf_reset(&b->certs);
  cdl_buf_reset(&b->proposal);
  cdl_buf_reset(&b->votes);
}

static cdl_span span_of(const cdl_buf *b) { return cdl_span_of(b->data, b->len); }

void forge_body_encode(const forge_body *b, cdl_buf *out) {
  cdl_buf_reset(out);
  cdl_cbor_enc_array(out, 4);
  cdl_cbor_enc_indef_array(out);
  cdl_cbor_enc_raw(out, span_of(&b->txs));
  cdl_cbor_enc_break(out);
  cdl_cbor_enc_raw(out, cdl_span_of(SSC_PAYLOAD, sizeof SSC_PAYLOAD));
  cdl_cbor_enc_indef_array(out);
  cdl_cbor_enc_raw(out, span_of(&b->certs));
  cdl_cbor_enc_break(out);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_array(out, b->proposal.len > 0 ? 1 : 0);
  cdl_cbor_enc_raw(out, span_of(&b->proposal));
  cdl_cbor_enc_indef_array(out);
  cdl_cbor_enc_raw(out, span_of(&b->votes));
  cdl_cbor_enc_break(out);
}

typedef struct proofs {
  uint8_t root[32], wits[32], dlg[32], upd[32], ssc_h1[32], ssc_certs[32];
  uint32_t n_txs;
  unsigned ssc_tag;
} proofs;

static int prove(cdl_span body_bytes, proofs *p, cdl_error *err) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, err, 0};
  cdl_cbor_cursor cur;
  cdl_byron_body body;
  cdl_cbor_cursor_init(&cur, body_bytes.ptr, body_bytes.len, err);
  int rc = cdl_byron_body_read(&cur, &ctx, &body);
  if (rc == CDL_OK) {
    cdl_byron_tx_merkle_root(body.txs, body.n_txs, p->root);
    cdl_byron_tx_witnesses_hash(&body, p->wits);
    cdl_blake2b_256(p->dlg, body.dlg_payload_raw.ptr, body.dlg_payload_raw.len);
    cdl_blake2b_256(p->upd, body.upd_payload_raw.ptr, body.upd_payload_raw.len);
    p->n_txs = (uint32_t)body.n_txs;
    p->ssc_tag = body.ssc.tag;
    rc = cdl_byron_ssc_proof(&body.ssc, &arena, p->ssc_h1, p->ssc_certs);
  }
  cdl_arena_free(&arena);
  return rc;
}

static void sign_cert(const cdl_key *issuer, const uint8_t delegate[64], uint64_t epoch,
                      uint32_t magic, uint8_t sig[64]) {
  uint8_t storage[128];
  cdl_buf msg;
  cdl_buf_init_fixed(&msg, storage, sizeof storage);
  cdl_byron_msg_cert(&msg, magic, delegate, epoch);
  CDL_ASSERT(!msg.failed);
  cdl_key_sign(issuer, msg.data, msg.len, sig);
}

static void fill_header(const forge_main_spec *s, const proofs *p, const uint8_t *extra_proof,
                        const uint8_t cert_sig[64], cdl_byron_header *h) {
  static const uint8_t zero_sig[64];
  memset(h, 0, sizeof *h);
  h->protocol_magic = s->header_magic;
  h->prev_hash = s->prev_hash;
  h->proof = (cdl_byron_body_proof){.tx_count = p->n_txs,
                                    .tx_merkle_root = p->root,
                                    .tx_witnesses_hash = p->wits,
                                    .ssc_tag = p->ssc_tag,
                                    .ssc_hash1 = cdl_span_of(p->ssc_h1, 32),
                                    .ssc_certs_hash = cdl_span_of(p->ssc_certs, 32),
                                    .dlg_hash = p->dlg,
                                    .upd_hash = p->upd};
  h->epoch = s->epoch;
  h->slot_in_epoch = s->slot_in_epoch;
  const uint8_t *issuer_pk = s->issuer ? s->issuer->xpub : s->issuer_pk;
  h->leader_key = issuer_pk;
  h->difficulty = s->block_no;
  h->cert = (cdl_byron_dlg_cert){.epoch = s->cert_epoch,
                                 .issuer_pk = issuer_pk,
                                 .delegate_pk = s->delegate->xpub,
                                 .signature = cert_sig};
  h->signature = zero_sig;
  h->block_version = s->block_version;
  static const cdl_byron_software_version own = {
      {(const uint8_t *)CDL_FORGE_APP_NAME, sizeof CDL_FORGE_APP_NAME - 1}, CDL_FORGE_APP_VERSION};
  h->software_version = s->software_version ? *s->software_version : own;
  h->extra_proof = cdl_span_of(extra_proof, s->extra_proof_len ? s->extra_proof_len : 32);
}

/* Encodes the header, then signs its ToSign and patches the signature in. */
static int sign_header(const forge_main_spec *s, const cdl_byron_header *h, cdl_buf *out,
                       cdl_error *err) {
  cdl_byron_header_encode(out, h);
  if (out->failed) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory forging a header");
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, err, 0};
  cdl_cbor_cursor cur;
  cdl_byron_header back;
  cdl_cbor_cursor_init(&cur, out->data, out->len, err);
  int rc = cdl_byron_header_read(&cur, &ctx, &back);
  if (rc == CDL_OK) {
    cdl_buf msg;
    cdl_buf_init(&msg, 0);
    cdl_byron_msg_block(&msg, &back, s->network_magic);
    uint8_t sig[64];
    cdl_key_sign(s->delegate, msg.data, msg.len, sig);
    memcpy(out->data + (back.signature - out->data), sig, 64);
    cdl_buf_free(&msg);
  }
  cdl_arena_free(&arena);
  return rc;
}

static void wrap(unsigned tag, cdl_span header, cdl_span body, cdl_buf *out) {
  cdl_buf_reset(out);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, tag);
  cdl_cbor_enc_array(out, 3);
  cdl_cbor_enc_raw(out, header);
  cdl_cbor_enc_raw(out, body);
  cdl_cbor_enc_raw(out, cdl_span_of(EXTRA_BODY, sizeof EXTRA_BODY));
}

int forge_main_block(const forge_main_spec *s, cdl_span body, cdl_buf *out, cdl_error *err) {
  proofs p;
  CDL_TRY(prove(body, &p, err));
  uint8_t cert_sig[64], extra_hash[32];
  if (s->issuer != NULL)
    sign_cert(s->issuer, s->delegate->xpub, s->cert_epoch, s->network_magic, cert_sig);
  else
    memcpy(cert_sig, s->cert_signature, 64);
  cdl_buf padded;
  cdl_buf_init(&padded, 0);
  const uint8_t *extra_proof = extra_hash;
  if (s->extra_proof_len > 0) {
    /* An oversized extra-data proof: the decoder drops its bytes, so only
     * the header size limit can refuse it. */
    if (cdl_buf_reserve(&padded, s->extra_proof_len) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory padding a header");
    memset(padded.data, 0xee, s->extra_proof_len);
    extra_proof = padded.data;
  } else {
    cdl_blake2b_256(extra_hash, EXTRA_BODY, sizeof EXTRA_BODY);
  }
  cdl_byron_header h;
  fill_header(s, &p, extra_proof, cert_sig, &h);
  cdl_buf header;
  cdl_buf_init(&header, 0);
  int rc = sign_header(s, &h, &header, err);
  if (rc == CDL_OK) wrap(1, span_of(&header), body, out);
  if (rc == CDL_OK && out->failed) rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  cdl_buf_free(&header);
  cdl_buf_free(&padded);
  return rc;
}

void cdl_forge_ebb(uint32_t magic, const uint8_t prev_hash[32], uint64_t epoch, uint64_t block_no,
                   cdl_buf *out) {
  static const uint8_t EMPTY_LEADERS[] = {0x9f, 0xff};
  uint8_t body_hash[32];
  cdl_blake2b_256(body_hash, EMPTY_LEADERS, sizeof EMPTY_LEADERS);
  cdl_byron_ebb_header h = {.protocol_magic = (int32_t)magic,
                            .prev_hash = prev_hash,
                            .body_proof = cdl_span_of(body_hash, 32),
                            .epoch = epoch,
                            .difficulty = block_no};
  cdl_buf header;
  cdl_buf_init(&header, 0);
  cdl_byron_ebb_header_encode(&header, &h);
  wrap(0, span_of(&header), cdl_span_of(EMPTY_LEADERS, sizeof EMPTY_LEADERS), out);
  cdl_buf_free(&header);
}

/* Sorts one GenTx [kind, payload] into the body part of its kind. */
static int add_payload(forge_body *b, cdl_span gentx, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, gentx.ptr, gentx.len, err);
  uint64_t kind;
  cdl_span payload;
  CDL_TRY(cdl_cbor_expect_array(&cur, 2, "GenTx"));
  CDL_TRY(cdl_cbor_read_uint_max(&cur, 3, &kind, "GenTx kind"));
  CDL_TRY(cdl_cbor_skip(&cur, &payload));
  CDL_TRY(cdl_cbor_expect_end(&cur, "GenTx"));
  cdl_buf *parts[4] = {&b->txs, &b->certs, &b->proposal, &b->votes};
  if (kind == 2 && b->proposal.len > 0)
    return cdl_error_set(err, CDL_E_USAGE, 0, "a block holds one update proposal");
  cdl_cbor_enc_raw(parts[kind], payload);
  return CDL_OK;
}

int cdl_forge_block(const cdl_forge_spec *s, const cdl_span *gentx, size_t n, cdl_buf *out,
                    cdl_error *err) {
  forge_body body;
  forge_body_init(&body);
  cdl_buf body_bytes;
  cdl_buf_init(&body_bytes, 0);
  int rc = CDL_OK;
  for (size_t i = 0; i < n && rc == CDL_OK; i++) rc = add_payload(&body, gentx[i], err);
  if (rc == CDL_OK) forge_body_encode(&body, &body_bytes);
  if (rc == CDL_OK && body_bytes.failed) rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  forge_main_spec m = {.network_magic = s->magic,
                       .header_magic = s->magic,
                       .prev_hash = s->prev_hash,
                       .block_no = s->block_no,
                       .epoch = s->epoch,
                       .slot_in_epoch = s->slot_in_epoch,
                       .delegate = s->delegate,
                       .cert_epoch = s->cert->omega,
                       .issuer_pk = s->cert->issuer_pk,
                       .cert_signature = s->cert->signature,
                       .block_version = s->block_version,
                       .software_version = s->software_version};
  if (rc == CDL_OK) rc = forge_main_block(&m, span_of(&body_bytes), out, err);
  forge_body_free(&body);
  cdl_buf_free(&body_bytes);
  return rc;
}
