/*
 * forge_internal.h: blocks and payloads from parts (forge.c, payloads.c;
 * docs/byron.md 1.1-1.5, 1.8-1.10, 2.3, 3.2-3.3). The public forge
 * (cardinal/forge.h) is built on these; so are the chain generators
 * (src/gen), which alone use the knobs that make a block or a payload
 * wrong on purpose (a header magic, a padded proof, other witnesses, an
 * unknown attribute). Only the forge's files and src/gen/gen_internal.h
 * include this file.
 */
#ifndef CARDINAL_FORGE_INTERNAL_H
#define CARDINAL_FORGE_INTERNAL_H

#include "cardinal/crypto.h"
#include "cardinal/forge.h"

/* ---- forge.c: blocks from parts ---- */
typedef struct forge_main_spec {
  uint32_t network_magic; /* signs everything */
  uint32_t header_magic;  /* written in the header (differs only to break it) */
  const uint8_t *prev_hash;
  uint64_t block_no, epoch, slot_in_epoch;
  const cdl_key *issuer;   /* the genesis key (leaderKey, certificate issuer) */
  const cdl_key *delegate; /* signs the block */
  uint64_t cert_epoch;
  /* A core node holds the certificate, not the genesis key: then |issuer|
   * is NULL and these give its key and signature. */
  const uint8_t *issuer_pk, *cert_signature;
  cdl_byron_version block_version;
  const cdl_byron_software_version *software_version; /* NULL: Cardinal's own */
  size_t extra_proof_len; /* 0: the real 32-byte hash; more pads the header */
} forge_main_spec;

/* Body parts, each the CBOR of one item. */
typedef struct forge_body {
  cdl_buf txs;      /* tx-aux items back to back */
  cdl_buf certs;    /* certificate items */
  cdl_buf proposal; /* one proposal item, or empty */
  cdl_buf votes;    /* vote items */
} forge_body;
void forge_body_init(forge_body *b);
void forge_body_free(forge_body *b);
void forge_body_reset(forge_body *b);
void forge_body_encode(const forge_body *b, cdl_buf *out);

/* A wrapped main block [1, [header, body, [{}]]] with proofs computed from
 * |body| (a whole body's CBOR) and the header signed. */
int forge_main_block(const forge_main_spec *s, cdl_span body, cdl_buf *out, cdl_error *err);

/* ---- txs ---- */
typedef struct payload_input {
  uint8_t tx_id[32];
  uint32_t index;
  const cdl_key *owner;
  uint64_t lovelace;
} payload_input;
typedef cdl_payload_tx_output payload_output; /* address and lovelace */
/* A tx-aux spending |in|, paying |out|, with |pad| bytes of an unknown tx
 * attribute (0 for none); witnesses by |witness_keys| (one per entry,
 * defaults to each input's owner when NULL). id receives the tx id. */
typedef struct payload_tx_spec {
  const payload_input *in;
  size_t n_in;
  const payload_output *out;
  size_t n_out;
  size_t pad;
  const cdl_key *const *witness_keys;
  size_t n_witnesses;
  uint32_t magic;
} payload_tx_spec;
void payload_tx_encode(const payload_tx_spec *s, cdl_buf *out, uint8_t id[32]);

#endif /* CARDINAL_FORGE_INTERNAL_H */
