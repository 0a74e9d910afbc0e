/*
 * cardinal/forge.h: what a core node signs with and what it signs
 * (docs/byron.md 3.1 keys, 1.6 addresses, 1.5 transactions, 1.9
 * delegation certificates, 1.10 update payloads, 1.1-1.4 and 1.8 blocks,
 * 2.3 proofs, 3.2-3.3 signed messages; key files in docs/genesis.md 3):
 *
 *   keys      Ed25519-BIP32 signing keys, their stakeholder ids and
 *             addresses (src/forge/keys.c);
 *   payloads  signed transactions, delegation certificates, update
 *             proposals and votes, as they sit in a block (payloads.c);
 *   key files cardano-cli text envelopes, the bare XPrv CBOR and the
 *             legacy cardano-sl UserSecret; certificate files (keyfile.c);
 *   forging   a main block from a mempool's payloads under a heavyweight
 *             certificate, and an epoch boundary block (forge.c).
 *
 * The node (cardinal/node.h) links this and none of the generators; the
 * generators (cardinal/gen.h) build their networks and chains on it.
 */
#ifndef CARDINAL_FORGE_H
#define CARDINAL_FORGE_H

#include "cardinal/byron.h"

/* ---- Keys ---------------------------------------------------------------
 * An Ed25519-BIP32 key as Byron uses it: xprv = kL || kR (kL clamped),
 * xpub = A || chain code. cardano-cli's 128-byte XPrv is xprv || xpub. */
typedef struct cdl_key {
  uint8_t xprv[64];
  uint8_t xpub[64];
} cdl_key;

/* A key from 32 bytes of entropy (the same entropy, the same key). */
void cdl_key_derive(cdl_key *k, const uint8_t entropy[32]);
/* From cardano-cli's 128-byte XPrv; fails if A is not kL*B. */
int cdl_key_from_xprv128(cdl_key *k, const uint8_t xprv128[128], cdl_error *err);
void cdl_key_sign(const cdl_key *k, const uint8_t *msg, size_t len, uint8_t sig[64]);
/* Blake2b-224(SHA3-256(...)) of the public key: stakeholder id. */
void cdl_key_hash(const cdl_key *k, uint8_t out[28]);
/* The key's public-key address (type 0), with the network-magic
 * attribute when |with_magic|. */
void cdl_key_address(const cdl_key *k, bool with_magic, uint32_t magic, cdl_buf *out);

/* ---- Signed payloads (payloads.c) --------------------------------------
 * What a wallet, a delegator or an update proposer submits. Each appends
 * the payload's CBOR (as it sits in a block) to |out|. */
typedef struct cdl_payload_tx_input {
  uint8_t tx_id[32];
  uint32_t index;
  const cdl_key *owner; /* signs the witness */
} cdl_payload_tx_input;
typedef struct cdl_payload_tx_output {
  cdl_span address;
  uint64_t lovelace;
} cdl_payload_tx_output;
/* A TxAux [tx, witnesses], one witness per input; |id| gets the tx id. */
void cdl_payload_tx_make(const cdl_payload_tx_input *in, size_t n_in,
                         const cdl_payload_tx_output *out, size_t n_out, uint32_t magic,
                         cdl_buf *txaux, uint8_t id[32]);
/* The same in two steps, as a wallet does: the unsigned Tx [inputs,
 * outputs, attributes] (|id| its hash), then the TxAux with one witness
 * by each of |keys| (in input order). */
void cdl_payload_tx_body(const cdl_payload_tx_input *in, size_t n_in,
                         const cdl_payload_tx_output *out, size_t n_out, cdl_buf *tx,
                         uint8_t id[32]);
void cdl_payload_tx_sign(cdl_span tx, const cdl_key *const *keys, size_t n, uint32_t magic,
                         cdl_buf *txaux);
/* A certificate by |issuer| delegating to |delegate_pk| from |epoch|. */
void cdl_payload_cert_make(const cdl_key *issuer, const uint8_t delegate_pk[64], uint64_t epoch,
                           uint32_t magic, cdl_buf *out);
/* The same certificate as a structure (what key files and a core node
 * hold): signed by |issuer| for the network |magic|. */
void cdl_payload_delegation_make(const cdl_key *issuer, const uint8_t delegate_pk[64],
                                 uint64_t epoch, uint32_t magic, cdl_byron_genesis_delegation *d);
/* A certificate structure's CBOR, as it sits in a block. */
void cdl_payload_delegation_encode(const cdl_byron_genesis_delegation *d, cdl_buf *out);
/* A proposal for protocol version |pv| setting maxTxSize, with software
 * version (app, number); |id| gets its hash. */
void cdl_payload_proposal_make(const cdl_key *issuer, cdl_byron_version pv, uint64_t max_tx_size,
                               const char *app, uint32_t app_number, uint32_t magic, cdl_buf *out,
                               uint8_t id[32]);
/* A vote for proposal |proposal_id|. */
void cdl_payload_vote_make(const cdl_key *voter, const uint8_t proposal_id[32], uint32_t magic,
                           cdl_buf *out);
/* Any proposal: |p| gives the first five fields (block version,
 * parameter update, software version, metadata, attributes); |issuer|
 * signs them for |magic| and becomes the issuer. Appends the proposal's
 * CBOR to |out|; |id| gets its hash. */
void cdl_payload_proposal_sign(const cdl_key *issuer, cdl_byron_proposal *p, uint32_t magic,
                               cdl_buf *out, uint8_t id[32]);
/* One entry of a proposal's metadata as cardano-ledger's InstallerHash
 * encodes it: [H("\0"), installer, H("\0"), H("\0")], H Blake2b-256; the
 * empty hash is written to |empty_hash|, which |d| points into. */
void cdl_payload_update_data(cdl_byron_update_data *d, cdl_span system_tag,
                             const uint8_t installer_hash[32], uint8_t empty_hash[32]);
/* A vote signed over (proposal id, |decision|), as cardano-ledger's
 * mkVote makes it; the vote's decision field is always true, since the
 * ledger encodes and verifies it as true (docs/byron.md 1.10): a vote
 * signed with |decision| false verifies nowhere. */
void cdl_payload_vote_sign(const cdl_key *voter, const uint8_t proposal_id[32], bool decision,
                           uint32_t magic, cdl_buf *out);

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

int cdl_keyfile_write_signing(const char *path, const cdl_key *k, cdl_keyfile_format format,
                              const char *description, cdl_error *err);
/* Reads any of the three formats; |format| (may be NULL) says which. */
int cdl_keyfile_read_signing(const char *path, cdl_key *k, cdl_keyfile_format *format,
                             cdl_error *err);
/* The same from bytes already in memory. */
int cdl_keyfile_parse_signing(const uint8_t *data, size_t len, cdl_key *k,
                              cdl_keyfile_format *format, cdl_error *err);
int cdl_keyfile_write_redeem(const char *path, const uint8_t seed[32], cdl_error *err);
int cdl_keyfile_read_redeem(const char *path, uint8_t seed[32], cdl_error *err);
int cdl_keyfile_write_cert(const char *path, const cdl_byron_genesis_delegation *d,
                           cdl_error *err);
/* Reads a certificate envelope; issuer_id is filled from issuer_pk. The
 * signature is not checked here (the genesis load does that). */
int cdl_keyfile_read_cert(const char *path, cdl_byron_genesis_delegation *d, cdl_error *err);
/* Verification keys (the 64-byte public key A || chain code): written
 * as `cardano-cli byron key to-verification` does (Base64 text, no
 * newline) or as the envelope {"type":
 * "PaymentVerificationKeyByron_ed25519_bip32", "cborHex": "5840" || key};
 * read from either (any Byron verification key envelope type), or from
 * any signing key file, whose public half is taken. */
typedef enum cdl_keyfile_vkey_format {
  CDL_KEYFILE_VKEY_BASE64,
  CDL_KEYFILE_VKEY_ENVELOPE
} cdl_keyfile_vkey_format;
int cdl_keyfile_write_verification(const char *path, const uint8_t xpub[64],
                                   cdl_keyfile_vkey_format format, cdl_error *err);
int cdl_keyfile_parse_verification(const uint8_t *data, size_t len, uint8_t xpub[64],
                                   cdl_error *err);
int cdl_keyfile_read_verification(const char *path, uint8_t xpub[64], cdl_error *err);

/* ---- The versions a block producer announces ---------------------------
 * Every header carries a protocol version and a software version. The
 * protocol version is what the block endorses (docs/byron.md 5.6.3): a
 * confirmed proposal for that version gains the endorsement of the block's
 * genesis key, and enough of them make it a candidate for adoption.
 * cardano-node takes both from its configuration (LastKnownBlockVersion-
 * Major/-Minor/-Alt, ApplicationName, ApplicationVersion). */
#define CDL_FORGE_APP_NAME "cardinal" /* the software version without a configured one */
#define CDL_FORGE_APP_VERSION 1
#define CDL_FORGE_APP_NAME_MAX 12 /* ApplicationName: ASCII of at most 12 */

typedef struct cdl_forge_versions {
  bool has_block_version;      /* false: the adopted version, which endorses nothing new */
  cdl_byron_version block_version;
  bool has_software_version;   /* false: CDL_FORGE_APP_NAME CDL_FORGE_APP_VERSION */
  char app_name[CDL_FORGE_APP_NAME_MAX + 1]; /* ASCII, no NUL inside */
  uint32_t app_version;
} cdl_forge_versions;

/* ---- Forging (forge.c): what a core node signs ----
 * A main block signed by |delegate| under the heavyweight delegation
 * |cert| (issued and signed by the genesis key; its omega goes in the
 * header), with the Byron GenTx items [kind, payload] of |gentx| (what the
 * mempool holds) sorted into the body in order: at most one proposal.
 * |out| gets the stored form [1, block]. */
typedef struct cdl_forge_spec {
  uint32_t magic;
  const uint8_t *prev_hash; /* the tip's hash, or the genesis hash */
  uint64_t block_no, epoch, slot_in_epoch;
  const cdl_byron_genesis_delegation *cert;
  const cdl_key *delegate;
  cdl_byron_version block_version;
  /* The header's software version; NULL: Cardinal's own (CDL_FORGE_APP_NAME,
   * CDL_FORGE_APP_VERSION). */
  const cdl_byron_software_version *software_version;
} cdl_forge_spec;
int cdl_forge_block(const cdl_forge_spec *s, const cdl_span *gentx, size_t n, cdl_buf *out,
                    cdl_error *err);
/* The epoch boundary block [0, ebb] of |epoch| after |prev_hash|: no
 * signature, so every node forging it from the same tip makes the same. */
void cdl_forge_ebb(uint32_t magic, const uint8_t prev_hash[32], uint64_t epoch, uint64_t block_no,
                   cdl_buf *out);

#endif /* CARDINAL_FORGE_H */
