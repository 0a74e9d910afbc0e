/*
 * chain_support.h: fixtures for the ledger and chain tests: the real
 * mainnet epoch 0 split into blocks, ledgers built from the mainnet
 * genesis, deterministic test keys, and a re-forger that re-signs real
 * blocks with test keys so that mutated bodies carry valid headers.
 *
 * Re-forging keeps every real transaction (AVVM witnesses sign only the
 * tx id under the network magic) but replaces the seven genesis keys and
 * their delegates with keys the tests hold, so a test can change a body,
 * recompute its proofs and sign the header again: the ledger then judges
 * the change itself, not the broken signature.
 */
#ifndef CARDINAL_TEST_CHAIN_SUPPORT_H
#define CARDINAL_TEST_CHAIN_SUPPORT_H

#include "cardinal/ledger.h"
#include "support.h"

/* The real epoch-0 chunk and its blocks (spans into chunk). */
typedef struct epoch0 {
  cdl_buf chunk;
  cdl_span *blocks;
  size_t n;
} epoch0;
void epoch0_load(epoch0 *e);
void epoch0_free(epoch0 *e);
/* Index of the first block holding a transaction at or after |from|. */
size_t epoch0_next_tx_block(const epoch0 *e, size_t from);

/* The mainnet genesis, loaded (its arena and text kept alive). */
typedef struct genesis_fixture {
  cdl_arena arena;
  cdl_byron_genesis g;
} genesis_fixture;
void mainnet_genesis(genesis_fixture *f);

cdl_ledger *ledger_for(const cdl_byron_genesis *g, double pbft_threshold, unsigned flags);
/* Decodes and applies one block; returns the ledger's result. */
int apply_bytes(cdl_ledger *l, cdl_span block, cdl_rejection *rej);
/* Applies blocks[0..n) and fails the test on any rejection. */
void apply_all(cdl_ledger *l, const cdl_span *blocks, size_t n);
/* Asserts that |block| is rejected with |rule| and the block's number. */
void expect_rejected(cdl_ledger *l, cdl_span block, const char *rule);

/* A deterministic Ed25519-BIP32 key: xprv (kL || kR) and xpub (A || cc). */
typedef struct test_key {
  uint8_t xprv[64];
  uint8_t xpub[64];
} test_key;
void test_key_make(test_key *k, uint32_t seed);
void test_key_sign(const test_key *k, const uint8_t *msg, size_t len, uint8_t sig[64]);
/* The key's public-key address (type 0, no attributes). */
void test_key_address(const test_key *k, cdl_buf *out);

/* Re-forged epoch 0 (see the top of this file). */
#define REFORGE_SPENDER_LOVELACE 1000000000000ull
typedef struct reforge {
  genesis_fixture real;      /* the mainnet genesis, for the key mapping */
  genesis_fixture fix;       /* the same with test keys and one extra balance */
  test_key gen[7], del[7];
  test_key spender;          /* owns REFORGE_SPENDER_LOVELACE at genesis */
  cdl_buf spender_addr;
  uint8_t spender_utxo[32];  /* its genesis output is (spender_utxo, 0) */
  epoch0 real_chain;
  cdl_buf *blocks;           /* re-forged wrapped blocks */
  uint8_t (*hashes)[32];
  size_t n;
} reforge;
void reforge_init(reforge *rf, size_t n_blocks);
void reforge_free(reforge *rf);
static inline cdl_span reforged(const reforge *rf, size_t i) {
  return cdl_span_of(rf->blocks[i].data, rf->blocks[i].len);
}

/* Re-forges real block |i| to follow |prev|: with body_bytes (a whole
 * body, may be NULL for the real one) and, when |delegate| is given, signed
 * by that key instead of the mapped test delegate. */
void reforge_block(const reforge *rf, size_t i, const uint8_t prev[32], cdl_span body_bytes,
                   const test_key *delegate, cdl_buf *out);
/* A body: the given tx-aux encodings, then the SSC, delegation and update
 * payloads of real block |i|. */
void body_with_txs(const reforge *rf, size_t i, const cdl_span *txs, size_t n, cdl_buf *out);

/* A tx spending (in_id, in_index) from |owner|'s address, paying |outputs|
 * of |amount| each to |to|, witnessed by |signer| (usually the owner).
 * With |wide_amounts| each amount takes the 9-byte integer head (valid
 * CBOR, not canonical). */
void make_tx(const uint8_t in_id[32], uint32_t in_index, cdl_span to, size_t outputs,
             uint64_t amount, bool wide_amounts, const test_key *signer, cdl_buf *out);
/* The same with several inputs and |n_signers| witnesses, the i-th by
 * signers[i] (none at all, or fewer than inputs, are allowed). */
typedef struct tx_input {
  const uint8_t *tx_id; /* 32 bytes */
  uint32_t index;
} tx_input;
void make_tx_inputs(const tx_input *ins, size_t n_in, cdl_span to, size_t outputs,
                    uint64_t amount, bool wide_amounts, const test_key *const *signers,
                    size_t n_signers, cdl_buf *out);

#endif /* CARDINAL_TEST_CHAIN_SUPPORT_H */
