/*
 * gen_internal.h: what the generator files share: block forging
 * (forge.c), the owned-output wallet (wallet.c), the keyring of delegate
 * keys (keyring.c) and parameter rendering (params.c).
 */
#ifndef CARDINAL_GEN_INTERNAL_H
#define CARDINAL_GEN_INTERNAL_H

#include <jansson.h>

#include "cardinal/crypto.h"
#include "cardinal/gen.h"

json_t *gen_params_json(const cdl_byron_protocol_params *pp);

/* ---- forge.c: blocks from parts ---- */
typedef struct gen_main_spec {
  uint32_t network_magic; /* signs everything */
  uint32_t header_magic;  /* written in the header (differs only to break it) */
  const uint8_t *prev_hash;
  uint64_t block_no, epoch, slot_in_epoch;
  const cdl_gen_key *issuer;   /* the genesis key (leaderKey, certificate issuer) */
  const cdl_gen_key *delegate; /* signs the block */
  uint64_t cert_epoch;
  /* A core node holds the certificate, not the genesis key: then |issuer|
   * is NULL and these give its key and signature. */
  const uint8_t *issuer_pk, *cert_signature;
  cdl_byron_version block_version;
  size_t extra_proof_len; /* 0: the real 32-byte hash; more pads the header */
} gen_main_spec;

/* Body parts, each the CBOR of one item. */
typedef struct gen_body {
  cdl_buf txs;      /* tx-aux items back to back */
  cdl_buf certs;    /* certificate items */
  cdl_buf proposal; /* one proposal item, or empty */
  cdl_buf votes;    /* vote items */
} gen_body;
void gen_body_init(gen_body *b);
void gen_body_free(gen_body *b);
void gen_body_reset(gen_body *b);
void gen_body_encode(const gen_body *b, cdl_buf *out);

/* A wrapped main block [1, [header, body, [{}]]] with proofs computed from
 * |body| (a whole body's CBOR) and the header signed. */
int gen_forge_main(const gen_main_spec *s, cdl_span body, cdl_buf *out, cdl_error *err);
/* A wrapped EBB for |epoch| following |prev_hash| (empty leader list). */
void gen_forge_ebb(uint32_t magic, const uint8_t prev_hash[32], uint64_t epoch, uint64_t block_no,
                   cdl_buf *out);

/* Payload items. */
void gen_cert_encode(const cdl_gen_key *issuer, const uint8_t delegate_pk[64], uint64_t epoch,
                     uint32_t magic, cdl_buf *out);
/* A proposal for |pv| setting maxTxSize to |max_tx_size|, software
 * (app, number), signed by |issuer|; id receives its hash. */
void gen_proposal_encode(const cdl_gen_key *issuer, cdl_byron_version pv, uint64_t max_tx_size,
                         const char *app, uint32_t app_number, uint32_t magic, cdl_buf *out,
                         uint8_t id[32]);
void gen_vote_encode(const cdl_gen_key *voter, const uint8_t proposal_id[32], uint32_t magic,
                     cdl_buf *out);

/* ---- txs ---- */
typedef struct gen_input {
  uint8_t tx_id[32];
  uint32_t index;
  const cdl_gen_key *owner;
  uint64_t lovelace;
} gen_input;
typedef cdl_gen_tx_output gen_output; /* address and lovelace */
/* A tx-aux spending |in|, paying |out|, with |pad| bytes of an unknown tx
 * attribute (0 for none); witnesses by |witness_keys| (one per entry,
 * defaults to each input's owner when NULL). id receives the tx id. */
typedef struct gen_tx_spec {
  const gen_input *in;
  size_t n_in;
  const gen_output *out;
  size_t n_out;
  size_t pad;
  const cdl_gen_key *const *witness_keys;
  size_t n_witnesses;
  uint32_t magic;
} gen_tx_spec;
void gen_tx_encode(const gen_tx_spec *s, cdl_buf *out, uint8_t id[32]);

/* ---- wallet.c: outputs owned by keys of the genesis directory ---- */
typedef struct gen_wallet {
  gen_input *live;
  size_t n_live, cap_live;
  uint32_t *table;  /* position + 1 in live, 0 = empty slot */
  size_t cap_table; /* a power of two, at least twice n_live */
  gen_input *spent; /* outputs seen spent, for double-spend cases */
  size_t n_spent, cap_spent;
  const cdl_gen_key *keys;
  cdl_buf *addresses; /* address bytes per key */
  size_t n_keys;
} gen_wallet;
int gen_wallet_init(gen_wallet *w, const cdl_gen_dir *d);
void gen_wallet_free(gen_wallet *w);
/* Records the outputs of |blk|'s txs that pay a known key. */
int gen_wallet_scan(gen_wallet *w, const cdl_byron_block *blk);
/* Takes a random output still unspent in |l| with at least |min| lovelace
 * and owned by a key other than |not_owner| (may be NULL); false if none. */
bool gen_wallet_take(gen_wallet *w, const cdl_ledger *l, cdl_gen_rng *rng, uint64_t min,
                     const cdl_gen_key *not_owner, gen_input *out);
/* An output the wallet saw that is no longer in |l|. */
bool gen_wallet_spent(gen_wallet *w, const cdl_ledger *l, gen_input *out);
/* Puts back an output taken but not spent. */
int gen_wallet_give_back(gen_wallet *w, const gen_input *in);
cdl_span gen_wallet_address(const gen_wallet *w, size_t key);

/* ---- keyring.c: who signs for a genesis key now ---- */
typedef struct gen_keyring {
  cdl_gen_key *keys;
  uint8_t (*hashes)[28];
  size_t n, cap;
} gen_keyring;
int gen_keyring_init(gen_keyring *r, const cdl_gen_dir *d);
void gen_keyring_free(gen_keyring *r);
int gen_keyring_add(gen_keyring *r, const cdl_gen_key *k);
const cdl_gen_key *gen_keyring_find(const gen_keyring *r, const uint8_t hash[28]);
/* Learns the re-delegation keys behind the certificates of |blk|. */
int gen_keyring_scan(gen_keyring *r, const cdl_gen_dir *d, const cdl_byron_block *blk);
/* The current delegate key of genesis key |g| in |l|, or NULL. */
const cdl_gen_key *gen_keyring_delegate(const gen_keyring *r, const cdl_gen_dir *d,
                                        const cdl_ledger *l, size_t g);

/* ---- invalid.c / invalid_cases.c ---- */
typedef struct gen_inv {
  const cdl_gen_dir *d;
  cdl_error *err;
  cdl_ledger *l; /* checks signatures: it judges the bad block */
  gen_wallet wallet;
  gen_keyring ring;
  cdl_gen_rng rng;
  uint64_t epoch_slots;
  double pbft_threshold;
  cdl_arena arena; /* the decoded source chain */
  cdl_byron_block *src;
  size_t n_src;
  cdl_buf *out; /* the blocks that replace src[i..] */
  size_t n_out, cap_out;
  size_t applied; /* out blocks a case applied itself */
  cdl_buf scratch, body_bytes;
  gen_body body;
} gen_inv;

typedef struct gen_case_impl {
  cdl_gen_invalid_case info;
  /* Whether block i of the source chain can be replaced by this case. */
  bool (*eligible)(const gen_inv *v, size_t i);
  /* Fills v->out with the block(s) replacing src[i..], the ledger holding
   * the state before src[i]; CDL_E_NOT_FOUND when this place cannot
   * carry the case (no spendable output, say). */
  int (*make)(gen_inv *v, size_t i);
} gen_case_impl;
const gen_case_impl *gen_case_table(size_t *n);

/* Helpers the cases share (invalid.c). */
cdl_buf *gen_inv_push(gen_inv *v);
typedef struct gen_reforge {
  const uint8_t *prev;         /* NULL: the ledger's tip */
  cdl_span body;               /* len 0: the source block's own */
  const cdl_gen_key *delegate; /* NULL: the source block's signer */
  bool move_slot;
  uint64_t epoch, slot_in_epoch;
  uint32_t header_magic; /* 0: the network's */
  size_t extra_proof_len;
} gen_reforge;
int gen_inv_reforge(gen_inv *v, size_t i, const gen_reforge *o, cdl_buf *out);
/* The source block's signer, from the directory and keyring. */
int gen_inv_signer(gen_inv *v, size_t i, const cdl_gen_key **issuer, const cdl_gen_key **delegate);
/* Applies |bytes|: 0 accepted, CDL_E_REJECTED with |rej|, or a failure. */
int gen_inv_apply(gen_inv *v, const cdl_buf *bytes, cdl_rejection *rej);
bool gen_inv_is_main(const gen_inv *v, size_t i);

#endif /* CARDINAL_GEN_INTERNAL_H */
