/*
 * cardinal/gen.h: making Byron networks and chains on demand
 * (docs/genesis.md for operators, docs/byron.md sections 1-6 for formats):
 *
 *   keys      Ed25519-BIP32 signing keys, derived from a seed or random;
 *   key files cardano-cli text envelopes and the legacy cardano-sl
 *             UserSecret CBOR (keyfile.c);
 *   genesis   a new network's genesis.json and every secret behind it,
 *             written to and read back from a directory;
 *   chains    valid chains forged by the genesis delegates (chain_gen.c)
 *             and invalid ones with one known defect (invalid.c).
 *
 * Everything generated is judged by the ledger (cardinal/ledger.h) as it
 * is made: a generator bug is an error here, never a bad chain on disk.
 */
#ifndef CARDINAL_GEN_H
#define CARDINAL_GEN_H

#include <stdio.h>

#include "cardinal/byron.h"
#include "cardinal/ledger.h"

/* ---- Keys ---------------------------------------------------------------
 * An Ed25519-BIP32 key as Byron uses it: xprv = kL || kR (kL clamped),
 * xpub = A || chain code. cardano-cli's 128-byte XPrv is xprv || xpub. */
typedef struct cdl_gen_key {
  uint8_t xprv[64];
  uint8_t xpub[64];
} cdl_gen_key;

/* A key from 32 bytes of entropy (the same entropy, the same key). */
void cdl_gen_key_derive(cdl_gen_key *k, const uint8_t entropy[32]);
/* From cardano-cli's 128-byte XPrv; fails if A is not kL*B. */
int cdl_gen_key_from_xprv128(cdl_gen_key *k, const uint8_t xprv128[128], cdl_error *err);
void cdl_gen_key_sign(const cdl_gen_key *k, const uint8_t *msg, size_t len, uint8_t sig[64]);
/* Blake2b-224(SHA3-256(...)) of the public key: stakeholder id. */
void cdl_gen_key_hash(const cdl_gen_key *k, uint8_t out[28]);
/* The key's public-key address (type 0), with the network-magic
 * attribute when |with_magic|. */
void cdl_gen_key_address(const cdl_gen_key *k, bool with_magic, uint32_t magic, cdl_buf *out);

/* ---- Signed payloads (payloads.c) --------------------------------------
 * What a wallet, a delegator or an update proposer submits. Each appends
 * the payload's CBOR (as it sits in a block) to |out|. */
typedef struct cdl_gen_tx_input {
  uint8_t tx_id[32];
  uint32_t index;
  const cdl_gen_key *owner; /* signs the witness */
} cdl_gen_tx_input;
typedef struct cdl_gen_tx_output {
  cdl_span address;
  uint64_t lovelace;
} cdl_gen_tx_output;
/* A TxAux [tx, witnesses], one witness per input; |id| gets the tx id. */
void cdl_gen_tx_make(const cdl_gen_tx_input *in, size_t n_in, const cdl_gen_tx_output *out,
                     size_t n_out, uint32_t magic, cdl_buf *txaux, uint8_t id[32]);
/* The same in two steps, as a wallet does: the unsigned Tx [inputs,
 * outputs, attributes] (|id| its hash), then the TxAux with one witness
 * by each of |keys| (in input order). */
void cdl_gen_tx_body(const cdl_gen_tx_input *in, size_t n_in, const cdl_gen_tx_output *out,
                     size_t n_out, cdl_buf *tx, uint8_t id[32]);
void cdl_gen_tx_sign(cdl_span tx, const cdl_gen_key *const *keys, size_t n, uint32_t magic,
                     cdl_buf *txaux);
/* A certificate by |issuer| delegating to |delegate_pk| from |epoch|. */
void cdl_gen_cert_make(const cdl_gen_key *issuer, const uint8_t delegate_pk[64], uint64_t epoch,
                       uint32_t magic, cdl_buf *out);
/* The same certificate as a structure (what key files and a core node
 * hold): signed by |issuer| for the network |magic|. */
void cdl_gen_delegation_make(const cdl_gen_key *issuer, const uint8_t delegate_pk[64],
                             uint64_t epoch, uint32_t magic, cdl_byron_genesis_delegation *d);
/* A certificate structure's CBOR, as it sits in a block. */
void cdl_gen_delegation_encode(const cdl_byron_genesis_delegation *d, cdl_buf *out);
/* A proposal for protocol version |pv| setting maxTxSize, with software
 * version (app, number); |id| gets its hash. */
void cdl_gen_proposal_make(const cdl_gen_key *issuer, cdl_byron_version pv, uint64_t max_tx_size,
                           const char *app, uint32_t app_number, uint32_t magic, cdl_buf *out,
                           uint8_t id[32]);
/* A vote for proposal |proposal_id|. */
void cdl_gen_vote_make(const cdl_gen_key *voter, const uint8_t proposal_id[32], uint32_t magic,
                       cdl_buf *out);

/* ---- Key and certificate files (keyfile.c) -------------------------------
 * Signing keys are written as cardano-cli text envelopes
 *   {"type": "PaymentSigningKeyByron_ed25519_bip32", "description": ...,
 *    "cborHex": "5880" || xprv || xpub}
 * and read from an envelope, from the bare CBOR byte string "5880..."
 * (what cardano-node's Byron --signing-key and non-legacy `cardano-cli
 * byron` keys are), or from the legacy cardano-sl UserSecret CBOR
 * (`cardano-cli byron --byron-legacy-formats`). AVVM (redeem) secrets and delegation
 * certificates have no cardano-cli envelope type; we use
 * "RedeemSigningKeyByron_ed25519" (cborHex "5820" || seed) and
 * "ByronDelegationCertificate" (cborHex the certificate's CBOR). */
typedef enum cdl_keyfile_format {
  CDL_KEYFILE_ENVELOPE,
  CDL_KEYFILE_LEGACY,
  CDL_KEYFILE_RAW
} cdl_keyfile_format;

#define CDL_KEYFILE_MAX_BYTES 65536 /* any key file is far smaller */

int cdl_keyfile_write_signing(const char *path, const cdl_gen_key *k, cdl_keyfile_format format,
                              const char *description, cdl_error *err);
/* Reads any of the three formats; |format| (may be NULL) says which. */
int cdl_keyfile_read_signing(const char *path, cdl_gen_key *k, cdl_keyfile_format *format,
                             cdl_error *err);
/* The same from bytes already in memory. */
int cdl_keyfile_parse_signing(const uint8_t *data, size_t len, cdl_gen_key *k,
                              cdl_keyfile_format *format, cdl_error *err);
int cdl_keyfile_write_redeem(const char *path, const uint8_t seed[32], cdl_error *err);
int cdl_keyfile_read_redeem(const char *path, uint8_t seed[32], cdl_error *err);
int cdl_keyfile_write_cert(const char *path, const cdl_byron_genesis_delegation *d,
                           cdl_error *err);
/* Reads a certificate envelope; issuer_id is filled from issuer_pk. The
 * signature is not checked here (the genesis load does that). */
int cdl_keyfile_read_cert(const char *path, cdl_byron_genesis_delegation *d, cdl_error *err);

/* ---- Seeded randomness for generators ---- */
typedef struct cdl_gen_rng {
  uint64_t s[4];
} cdl_gen_rng;
void cdl_gen_rng_seed(cdl_gen_rng *r, uint64_t seed);
/* Seeds from the system's entropy (libsodium). */
void cdl_gen_rng_seed_random(cdl_gen_rng *r);
uint64_t cdl_gen_rng_next(cdl_gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t cdl_gen_rng_below(cdl_gen_rng *r, uint64_t n);
void cdl_gen_rng_bytes(cdl_gen_rng *r, uint8_t *out, size_t len);

/* ---- Genesis creation (genesis.c) ---- */
typedef struct cdl_gen_genesis_spec {
  uint32_t protocol_magic;
  uint64_t k;
  int64_t start_time;
  uint32_t genesis_keys;  /* 1..CDL_LEDGER_MAX_GENESIS_KEYS */
  uint32_t avvm_entries, poor_addresses;
  uint64_t avvm_balance, poor_balance; /* lovelace each */
  cdl_byron_protocol_params params;    /* slot_duration_ms included */
  bool has_seed;
  uint64_t seed;
} cdl_gen_genesis_spec;

/* Mainnet's initial protocol parameters (docs/byron.md 4.1). */
void cdl_gen_default_params(cdl_byron_protocol_params *pp);
/* Overrides |pp| with the members present in a blockVersionData-shaped
 * JSON file (numbers or decimal strings, as in genesis files). */
int cdl_gen_params_read(const char *path, cdl_byron_protocol_params *pp, cdl_error *err);

/* A genesis directory's secrets. Index i of delegates signs for genesis
 * key i; certs[i] is that delegation. */
typedef struct cdl_gen_secrets {
  cdl_gen_key *genesis, *delegates, *poor;
  cdl_byron_genesis_delegation *certs;
  uint8_t (*avvm)[32];
  size_t n_genesis, n_poor, n_avvm;
} cdl_gen_secrets;
void cdl_gen_secrets_free(cdl_gen_secrets *s);

/* Makes the secrets and writes DIR/genesis.json and the key files (file
 * names in docs/genesis.md). DIR is created if missing and must not
 * already hold a genesis.json. */
int cdl_gen_genesis_create(const cdl_gen_genesis_spec *spec, const char *dir, cdl_error *err);

/* A genesis directory read back: genesis.json (loaded, hash checked by
 * the loader) and every key file beside it, matched against it. */
typedef struct cdl_gen_dir {
  cdl_arena arena;
  cdl_buf genesis_text;
  cdl_byron_genesis genesis;
  bool requires_magic;
  cdl_gen_secrets secrets;
} cdl_gen_dir;
int cdl_gen_dir_load(const char *dir, cdl_gen_dir *d, cdl_error *err);
void cdl_gen_dir_free(cdl_gen_dir *d);

/* ---- Valid chains (chain_gen.c) ---- */
typedef struct cdl_gen_chain_opts {
  uint64_t slots;        /* slots to cover, from slot 0 */
  double fill;           /* share of slots with a block, (0, 1] */
  uint32_t txs_per_block;
  bool delegation;       /* a re-delegation certificate each epoch */
  bool updates;          /* a proposal, votes, endorsements, adoption */
  uint64_t seed;
  double pbft_threshold; /* 0 = 0.22 */
} cdl_gen_chain_opts;

typedef struct cdl_gen_chain_stats {
  uint64_t blocks, ebbs, txs, certificates, proposals, votes;
  uint64_t skipped_slots; /* empty by --fill or by the PBFT threshold */
  uint64_t bytes;
  cdl_ledger_tip tip;
  bool update_adopted;
  cdl_byron_version protocol_version;
  uint64_t max_tx_size;  /* after the run, to show an adopted change */
} cdl_gen_chain_stats;

/* Forges the chain and writes wrapped blocks back to back (a chunk file)
 * to |out|. Fails with CDL_E_REJECTED and |rej| if the ledger refuses a
 * generated block (a bug, or options the network cannot carry: too few
 * genesis keys for the PBFT threshold). */
int cdl_gen_chain(const cdl_gen_dir *d, const cdl_gen_chain_opts *o, FILE *out,
                  cdl_gen_chain_stats *stats, cdl_rejection *rej, cdl_error *err);

/* Re-delegation keys: derived from the issuing genesis key and the
 * certificate's epoch, so any holder of the genesis directory can sign
 * for them again (chain generate-invalid does). */
void cdl_gen_redelegate_key(const cdl_gen_key *genesis_key, uint64_t epoch, cdl_gen_key *out);

/* ---- Forging (forge.c): what a core node signs ----
 * A main block signed by |delegate| under the heavyweight delegation
 * |cert| (issued and signed by the genesis key; its omega goes in the
 * header), with the Byron GenTx items [kind, payload] of |gentx| (what the
 * mempool holds) sorted into the body in order: at most one proposal.
 * |out| gets the stored form [1, block]. */
typedef struct cdl_gen_forge_spec {
  uint32_t magic;
  const uint8_t *prev_hash; /* the tip's hash, or the genesis hash */
  uint64_t block_no, epoch, slot_in_epoch;
  const cdl_byron_genesis_delegation *cert;
  const cdl_gen_key *delegate;
  cdl_byron_version block_version;
} cdl_gen_forge_spec;
int cdl_gen_forge_block(const cdl_gen_forge_spec *s, const cdl_span *gentx, size_t n,
                        cdl_buf *out, cdl_error *err);
/* The epoch boundary block [0, ebb] of |epoch| after |prev_hash|: no
 * signature, so every node forging it from the same tip makes the same. */
void cdl_gen_forge_ebb(uint32_t magic, const uint8_t prev_hash[32], uint64_t epoch,
                       uint64_t block_no, cdl_buf *out);

/* ---- Invalid chains (invalid.c) ---- */
typedef struct cdl_gen_invalid_case {
  const char *name;
  const char *expected_rule;
  const char *description;
} cdl_gen_invalid_case;
/* The cases, in a stable order; *n gets their number. */
const cdl_gen_invalid_case *cdl_gen_invalid_cases(size_t *n);

typedef struct cdl_gen_invalid_result {
  const char *case_name, *expected_rule;
  uint64_t block_no, slot;
  size_t block_index;    /* position of the bad block in the output */
  uint8_t hash[32];
} cdl_gen_invalid_result;

/* Reads the valid chain |blocks| (wrapped blocks), picks with |seed| a
 * place where |case_name| applies, and writes the valid prefix followed by
 * the defective block(s) to |out|. Before writing, the result is checked
 * with the ledger: the bad block must be refused with the case's rule.
 * Fails with CDL_E_NOT_FOUND if the chain has no place for this case. */
int cdl_gen_invalid(const cdl_gen_dir *d, const cdl_span *blocks, size_t n_blocks,
                    const char *case_name, uint64_t seed, double pbft_threshold, FILE *out,
                    cdl_gen_invalid_result *res, cdl_error *err);

/* Splits a chunk file's bytes into its wrapped blocks; *blocks (free it)
 * points into |data|. A trailing partial item is an error. */
int cdl_gen_split_chunk(const uint8_t *data, size_t len, cdl_span **blocks, size_t *n,
                        cdl_error *err);

#endif /* CARDINAL_GEN_H */
