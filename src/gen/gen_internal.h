/*
 * gen_internal.h: what the generator files share: the owned-output
 * wallet (wallet.c), the keyring of delegate keys (keyring.c), parameter
 * rendering (params.c) and the invalid-chain cases (invalid.c,
 * invalid_cases.c); blocks and payloads from parts come from the forge
 * (src/forge/forge_internal.h).
 */
#ifndef CARDINAL_GEN_INTERNAL_H
#define CARDINAL_GEN_INTERNAL_H

#include <jansson.h>

#include "cardinal/crypto.h"
#include "cardinal/gen.h"
#include "../forge/forge_internal.h"

json_t *gen_params_json(const cdl_byron_protocol_params *pp);

/* ---- wallet.c: outputs owned by keys of the genesis directory ---- */
typedef struct gen_wallet {
  payload_input *live;
  size_t n_live, cap_live;
  uint32_t *table;  /* position + 1 in live, 0 = empty slot */
  size_t cap_table; /* a power of two, at least twice n_live */
  payload_input *spent; /* outputs seen spent, for double-spend cases */
  size_t n_spent, cap_spent;
  const cdl_key *keys;
  cdl_buf *addresses; /* address bytes per key */
  size_t *by_address; /* key indices in address order, to find an owner */
  size_t n_keys;
} gen_wallet;
int gen_wallet_init(gen_wallet *w, const cdl_gen_dir *d);
void gen_wallet_free(gen_wallet *w);
/* Records the outputs of |blk|'s txs that pay a known key. */
int gen_wallet_scan(gen_wallet *w, const cdl_byron_block *blk);
/* Takes a random output still unspent in |l| with at least |min| lovelace
 * and owned by a key other than |not_owner| (may be NULL); false if none. */
bool gen_wallet_take(gen_wallet *w, const cdl_ledger *l, cdl_gen_rng *rng, uint64_t min,
                     const cdl_key *not_owner, payload_input *out);
/* An output the wallet saw that is no longer in |l|. */
bool gen_wallet_spent(gen_wallet *w, const cdl_ledger *l, payload_input *out);
/* Puts back an output taken but not spent. */
int gen_wallet_give_back(gen_wallet *w, const payload_input *in);
cdl_span gen_wallet_address(const gen_wallet *w, size_t key);

/* ---- keyring.c: who signs for a genesis key now ---- */
typedef struct gen_keyring {
  cdl_key *keys;
  uint8_t (*hashes)[28];
  size_t n, cap;
} gen_keyring;
int gen_keyring_init(gen_keyring *r, const cdl_gen_dir *d);
void gen_keyring_free(gen_keyring *r);
int gen_keyring_add(gen_keyring *r, const cdl_key *k);
const cdl_key *gen_keyring_find(const gen_keyring *r, const uint8_t hash[28]);
/* Learns the re-delegation keys behind the certificates of |blk|. */
int gen_keyring_scan(gen_keyring *r, const cdl_gen_dir *d, const cdl_byron_block *blk);
/* The current delegate key of genesis key |g| in |l|, or NULL. */
const cdl_key *gen_keyring_delegate(const gen_keyring *r, const cdl_gen_dir *d, const cdl_ledger *l,
                                    size_t g);

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
  forge_body body;
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
  const cdl_key *delegate;     /* NULL: the source block's signer */
  bool move_slot;
  uint64_t epoch, slot_in_epoch;
  uint32_t header_magic; /* 0: the network's */
  size_t extra_proof_len;
} gen_reforge;
int gen_inv_reforge(gen_inv *v, size_t i, const gen_reforge *o, cdl_buf *out);
/* The source block's signer, from the directory and keyring. */
int gen_inv_signer(gen_inv *v, size_t i, const cdl_key **issuer, const cdl_key **delegate);
/* Applies |bytes|: 0 accepted, CDL_E_REJECTED with |rej|, or a failure. */
int gen_inv_apply(gen_inv *v, const cdl_buf *bytes, cdl_rejection *rej);
bool gen_inv_is_main(const gen_inv *v, size_t i);

#endif /* CARDINAL_GEN_INTERNAL_H */
