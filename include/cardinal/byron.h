/*
 * cardinal/byron.h: Byron codecs, hashes and signature checks
 * (docs/byron.md sections 1-4; CDDL in tests/vectors/cddl/byron.cddl).
 *
 * Decoding is as strict as cardano-ledger's Byron decoder: lists that
 * Haskell encodes as lists must be indefinite, records and vectors
 * definite, typed maps definite with strictly ascending keys. Every decoded
 * item keeps its original bytes (cdl_span into the caller's buffer) and all
 * hashes and signatures are computed over those bytes.
 *
 * Lifetimes: decoded objects point into the input buffer and into the
 * arena passed in the context. Both must outlive the object.
 */
#ifndef CARDINAL_BYRON_H
#define CARDINAL_BYRON_H

#include "cardinal/base.h"
#include "cardinal/cbor.h"

#define CDL_BYRON_MAINNET_MAGIC 764824073u
#define CDL_BYRON_MAX_LOVELACE 45000000000000000ull /* maxLovelaceVal */
#define CDL_BYRON_XPUB 64   /* Ed25519 public key || chain code */
#define CDL_BYRON_SIG 64

/* Decoding context. */
enum {
  /* Accept the cardano-sl forms that today's ledger decoder rejects
   * (script witnesses, address types other than 0 and 2, 32-bit input
   * indices). For inspection tools only; blocks always decode strictly. */
  CDL_BYRON_LEGACY = 1u << 0
};

typedef struct cdl_byron_ctx {
  cdl_arena *arena;
  cdl_error *err;
  unsigned flags;
} cdl_byron_ctx;

/* ---- Attributes: definite map u8 -> bytes, strictly ascending keys ---- */
typedef struct cdl_byron_attr {
  uint8_t key;
  cdl_span value; /* the byte string's payload */
} cdl_byron_attr;

typedef struct cdl_byron_attrs {
  cdl_span raw;
  cdl_byron_attr *items;
  size_t count;
} cdl_byron_attrs;

/* ---- Addresses (section 1.6) ---- */
enum {
  CDL_BYRON_ADDR_PUBKEY = 0,
  CDL_BYRON_ADDR_SCRIPT = 1,
  CDL_BYRON_ADDR_REDEEM = 2
};

typedef struct cdl_byron_address {
  cdl_span raw;            /* [24(bytes payload), crc] */
  cdl_span payload;        /* [root, attributes, type] */
  const uint8_t *root;     /* 28 bytes */
  cdl_byron_attrs attrs;
  uint64_t type;
  bool has_network_magic;
  uint32_t network_magic;  /* attribute 2 */
  bool has_hd_payload;
  cdl_span hd_payload;     /* attribute 1, the inner byte string */
  size_t unknown_attr_bytes;
  uint32_t crc;
} cdl_byron_address;

/* Decodes one address item at the cursor. Strictly (the default) only
 * types 0 and 2, with canonical type and attribute encodings; with
 * CDL_BYRON_LEGACY any type, as cardano-sl had them. */
int cdl_byron_address_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                           cdl_byron_address *addr);
/* Decodes exactly one address from bytes (no trailing data). */
int cdl_byron_address_decode(const uint8_t *data, size_t len,
                             cdl_byron_ctx *ctx, cdl_byron_address *addr);
/* Decodes a Base58 address; out_bytes must hold the decoded CBOR and
 * stay alive as long as addr. */
int cdl_byron_address_from_base58(const char *text, cdl_buf *out_bytes,
                                  cdl_byron_ctx *ctx, cdl_byron_address *addr);
/* Base58 text of the address bytes; returns length or 0 if out too small. */
size_t cdl_byron_address_to_base58(cdl_span raw, char *out, size_t out_cap);
void cdl_byron_address_encode(cdl_buf *b, const cdl_byron_address *addr);
/* root = H224(SHA3(CBOR [type, [type, bytes(key)], attrs])). 0, or
 * CDL_E_NOMEM for attributes too long for the stack (over about 80
 * bytes) when the heap has no room for them either. */
int cdl_byron_address_root(uint64_t type, const uint8_t *key, size_t key_len,
                           cdl_span attrs_raw, uint8_t root[28]);
/* Builds the redeem (AVVM) address of a 32-byte key; with_magic adds
 * attribute 2 as RequiresMagic networks do. */
int cdl_byron_address_make_redeem(const uint8_t pk[32], bool with_magic,
                                  uint32_t magic, cdl_buf *out);
/* Blake2b-224(SHA3-256(58 40 || xpub)): a stakeholder id / key hash. */
void cdl_byron_key_hash(const uint8_t xpub[64], uint8_t out[28]);

/* ---- Transactions (section 1.5) ---- */
typedef struct cdl_byron_txin {
  cdl_span raw;
  const uint8_t *tx_id; /* 32 bytes */
  uint32_t index;
} cdl_byron_txin;

typedef struct cdl_byron_txout {
  cdl_span raw;
  cdl_byron_address address;
  uint64_t lovelace;
} cdl_byron_txout;

typedef struct cdl_byron_tx {
  cdl_span raw;
  uint8_t id[32]; /* Blake2b-256 of raw */
  cdl_byron_txin *inputs;
  size_t n_inputs;
  cdl_byron_txout *outputs;
  size_t n_outputs;
  cdl_byron_attrs attrs;
} cdl_byron_tx;

enum {
  CDL_BYRON_WIT_PUBKEY = 0,
  CDL_BYRON_WIT_SCRIPT = 1,
  CDL_BYRON_WIT_REDEEM = 2
};

typedef struct cdl_byron_script {
  uint16_t version;
  cdl_span script;
} cdl_byron_script;

typedef struct cdl_byron_witness {
  cdl_span raw;
  unsigned type;
  const uint8_t *key;     /* 64-byte XPub (pubkey) or 32-byte key (redeem) */
  size_t key_len;
  const uint8_t *signature;
  cdl_byron_script validator, redeemer; /* script witnesses */
  int8_t memo;            /* signature verdict cache: 0 unknown, 1 valid,
                             -1 invalid (cdl_ledger_precheck_signatures) */
} cdl_byron_witness;

typedef struct cdl_byron_txaux {
  cdl_span raw;
  cdl_byron_tx tx;
  cdl_span witnesses_raw;
  cdl_byron_witness *witnesses;
  size_t n_witnesses;
} cdl_byron_txaux;

int cdl_byron_tx_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                      cdl_byron_tx *tx);
int cdl_byron_txaux_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                         cdl_byron_txaux *aux);
/* A whole buffer holding a TxAux [tx, witnesses] or a bare Tx. */
int cdl_byron_txaux_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                           cdl_byron_txaux *aux);
/* [0, #6.24(bytes [txid, index])], as in a tx and in ledger errors. */
void cdl_byron_txin_encode(cdl_buf *b, const cdl_byron_txin *in);
void cdl_byron_tx_encode(cdl_buf *b, const cdl_byron_tx *tx);
void cdl_byron_txaux_encode(cdl_buf *b, const cdl_byron_txaux *aux);
/* Checks one witness's signature over the tx id with the magic (SignTx or
 * SignRedeemTx). Address binding needs the UTxO and is the ledger's job. */
bool cdl_byron_witness_verify(const cdl_byron_witness *w, const uint8_t tx_id[32],
                              uint32_t protocol_magic);

/* ---- Delegation certificates (section 1.9) ---- */
typedef struct cdl_byron_dlg_cert {
  cdl_span raw;
  uint64_t epoch;
  const uint8_t *issuer_pk;   /* 64 */
  const uint8_t *delegate_pk; /* 64 */
  const uint8_t *signature;   /* 64 */
  int8_t memo;            /* signature verdict cache: 0 unknown, 1 valid,
                             -1 invalid (cdl_ledger_precheck_signatures) */
} cdl_byron_dlg_cert;

int cdl_byron_dlg_cert_read(cdl_cbor_cursor *cur, cdl_byron_dlg_cert *cert);
void cdl_byron_dlg_cert_encode(cdl_buf *b, const cdl_byron_dlg_cert *cert);
/* The issuer's signature over "00" || delegatePk || CBOR(epoch) (3.2). */
bool cdl_byron_dlg_cert_verify(const cdl_byron_dlg_cert *cert,
                               uint32_t protocol_magic);

/* ---- Update payload (section 1.10) ---- */
typedef struct cdl_byron_version {
  uint16_t major, minor;
  uint8_t alt;
} cdl_byron_version;

typedef struct cdl_byron_software_version {
  cdl_span app_name; /* UTF-8 text */
  uint32_t number;
} cdl_byron_software_version;

/* One optional field of a protocol-parameter update. Natural-typed
 * fields may arrive as CBOR bignums (tag 2); those too large for 64 bits
 * keep their magnitude bytes in |big| and saturate |value|. */
typedef struct cdl_byron_opt_u64 {
  bool present;
  uint64_t value;
  bool is_bignum;
  cdl_span big;
} cdl_byron_opt_u64;

enum {
  CDL_BYRON_PP_SCRIPT_VERSION, CDL_BYRON_PP_SLOT_DURATION,
  CDL_BYRON_PP_MAX_BLOCK_SIZE, CDL_BYRON_PP_MAX_HEADER_SIZE,
  CDL_BYRON_PP_MAX_TX_SIZE, CDL_BYRON_PP_MAX_PROPOSAL_SIZE,
  CDL_BYRON_PP_MPC_THD, CDL_BYRON_PP_HEAVY_DEL_THD,
  CDL_BYRON_PP_UPDATE_VOTE_THD, CDL_BYRON_PP_UPDATE_PROPOSAL_THD,
  CDL_BYRON_PP_UPDATE_IMPLICIT, CDL_BYRON_PP_COUNT_SCALAR
};

/* A CBOR Integer as Haskell's decodeInteger reads it: a uint, a negative
 * int, or a bignum (tag 2 positive, tag 3 negative). */
typedef struct cdl_byron_integer {
  bool negative;  /* the value is -1 - magnitude */
  bool is_bignum;
  uint64_t small; /* the magnitude when not a bignum */
  cdl_span big;   /* the bignum's big-endian magnitude bytes */
} cdl_byron_integer;

/* The value as int64, when it fits. */
bool cdl_byron_integer_to_i64(const cdl_byron_integer *n, int64_t *out);
/* A fee policy's summand (nano-lovelace) in lovelace as the reference
 * decodes it from a proposal: round(n / 10^9) half to even, wrapped to
 * Word64; false when that is above 45e15 (the decoder refuses it). A
 * genesis summand is truncated instead (cdl_byron_genesis_load). */
bool cdl_byron_fee_summand_lovelace(const cdl_byron_integer *summand_nano, uint64_t *lovelace);

/* LovelacePortion values (thresholds) are numerators over this. */
#define CDL_BYRON_PORTION_DENOMINATOR 1000000000000000ull

typedef struct cdl_byron_param_update {
  cdl_span raw;
  cdl_byron_opt_u64 scalar[CDL_BYRON_PP_COUNT_SCALAR];
  bool has_softfork_rule;
  uint64_t softfork_init, softfork_min, softfork_decrement;
  bool has_fee_policy;
  cdl_byron_integer fee_summand_nano, fee_multiplier_nano; /* TxSizeLinear, x1e9 */
  cdl_byron_opt_u64 unlock_stake_epoch;
} cdl_byron_param_update;

typedef struct cdl_byron_update_data {
  cdl_span system_tag; /* text key */
  cdl_span hashes[4];  /* [appDiff, pkg, updater, metadata]; the ledger
                          keeps only the second (the installer hash) */
} cdl_byron_update_data;

typedef struct cdl_byron_proposal {
  cdl_span raw;
  uint8_t id[32];            /* Blake2b-256 of raw */
  cdl_span signed_fields;    /* the bytes of the first five fields */
  cdl_byron_version block_version;
  cdl_byron_param_update params;
  cdl_byron_software_version software_version;
  cdl_byron_update_data *metadata;
  size_t n_metadata;
  cdl_byron_attrs attrs;
  const uint8_t *issuer;     /* 64 */
  const uint8_t *signature;  /* 64 */
  int8_t memo;            /* signature verdict cache: 0 unknown, 1 valid,
                             -1 invalid (cdl_ledger_precheck_signatures) */
} cdl_byron_proposal;

typedef struct cdl_byron_vote {
  cdl_span raw;
  const uint8_t *voter;       /* 64 */
  const uint8_t *proposal_id; /* 32 */
  cdl_span proposal_id_raw;   /* the field's bytes, covered by the signature */
  bool decision;
  const uint8_t *signature;   /* 64 */
  int8_t memo;            /* signature verdict cache: 0 unknown, 1 valid,
                             -1 invalid (cdl_ledger_precheck_signatures) */
} cdl_byron_vote;

int cdl_byron_proposal_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                            cdl_byron_proposal *p);
int cdl_byron_vote_read(cdl_cbor_cursor *cur, cdl_byron_vote *v);
void cdl_byron_proposal_encode(cdl_buf *b, const cdl_byron_proposal *p);
void cdl_byron_vote_encode(cdl_buf *b, const cdl_byron_vote *v);
/* The proposal's signature: true when it verifies (false also when out of
 * memory); _check says which: CDL_OK, CDL_E_SIGNATURE, or CDL_E_NOMEM
 * (no verdict: the message of a proposal over 1 KB goes on the heap). */
bool cdl_byron_proposal_verify(const cdl_byron_proposal *p, uint32_t magic);
int cdl_byron_proposal_check(const cdl_byron_proposal *p, uint32_t magic);
bool cdl_byron_vote_verify(const cdl_byron_vote *v, uint32_t magic);
/* Whether the signature covers (proposal id, |decision|): a vote signed
 * as a no (cardano-cli's --vote-no) verifies only with false, and so
 * never on the ledger. */
bool cdl_byron_vote_verify_as(const cdl_byron_vote *v, uint32_t magic, bool decision);

/* ---- SSC payload (section 1.4), all four variants ---- */
enum {
  CDL_BYRON_SSC_COMMITMENTS = 0,
  CDL_BYRON_SSC_OPENINGS = 1,
  CDL_BYRON_SSC_SHARES = 2,
  CDL_BYRON_SSC_CERTIFICATES = 3
};

typedef struct cdl_byron_bytes_list { /* an indefinite list of byte strings */
  cdl_span *items;
  size_t count;
} cdl_byron_bytes_list;

typedef struct cdl_byron_keyed_shares { /* one entry of a map key -> [bytes] */
  cdl_span key;
  cdl_byron_bytes_list shares;
} cdl_byron_keyed_shares;

typedef struct cdl_byron_ssc_commitment { /* a signed commitment */
  cdl_span raw;
  cdl_span public_key;
  cdl_byron_keyed_shares *shares; /* VSS key -> encrypted shares */
  size_t n_shares;
  cdl_span proof_extra_gen, proof_proof, proof_parallel;
  cdl_byron_bytes_list proof_commitments;
  cdl_span signature;
} cdl_byron_ssc_commitment;

typedef struct cdl_byron_ssc_opening {
  cdl_span stakeholder, secret;
} cdl_byron_ssc_opening;

typedef struct cdl_byron_ssc_shares {
  cdl_span stakeholder;
  cdl_byron_keyed_shares *inner; /* stakeholder -> decrypted shares */
  size_t n_inner;
} cdl_byron_ssc_shares;

typedef struct cdl_byron_vss_cert {
  cdl_span raw;
  cdl_span vss_key;
  uint64_t expiry_epoch;
  cdl_span signature;
  cdl_span signing_key;
} cdl_byron_vss_cert;

typedef struct cdl_byron_ssc {
  cdl_span raw;
  unsigned tag;
  cdl_span primary_raw;      /* commitments / openings / shares item */
  uint64_t commitments_set_tag, certs_set_tag;
  cdl_byron_ssc_commitment *commitments;
  size_t n_commitments;
  cdl_byron_ssc_opening *openings;
  size_t n_openings;
  cdl_byron_ssc_shares *shares;
  size_t n_shares;
  cdl_byron_vss_cert *certs;
  size_t n_certs;
} cdl_byron_ssc;

int cdl_byron_ssc_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                       cdl_byron_ssc *ssc);
void cdl_byron_ssc_encode(cdl_buf *b, const cdl_byron_ssc *ssc);

/* ---- Headers, bodies, blocks (sections 1.1-1.4, 1.8) ---- */
typedef struct cdl_byron_body_proof {
  cdl_span raw;
  uint32_t tx_count;
  const uint8_t *tx_merkle_root;   /* 32 */
  const uint8_t *tx_witnesses_hash;
  unsigned ssc_tag;
  cdl_span ssc_hash1;              /* commitments/openings/shares; empty for 3 */
  cdl_span ssc_certs_hash;         /* any length on the wire (dropBytes) */
  const uint8_t *dlg_hash;
  const uint8_t *upd_hash;
} cdl_byron_body_proof;

typedef struct cdl_byron_header {
  cdl_span raw;
  uint32_t protocol_magic;
  const uint8_t *prev_hash;
  cdl_byron_body_proof proof;
  uint64_t epoch, slot_in_epoch;
  const uint8_t *leader_key;       /* 64: the genesis (issuer) key */
  uint64_t difficulty;             /* = block number */
  cdl_byron_dlg_cert cert;         /* heavyweight delegation (tag 2) */
  const uint8_t *signature;        /* by cert.delegate_pk */
  cdl_byron_version block_version;
  cdl_byron_software_version software_version;
  cdl_byron_attrs attrs;           /* must be empty */
  cdl_span extra_proof;            /* any length on the wire (dropBytes) */
  /* sub-spans covered by the block signature (section 3.3) */
  cdl_span prev_raw, proof_raw, slot_raw, difficulty_raw, extra_raw;
  uint8_t hash[32];
  int8_t memo;                     /* block-signature verdict cache, as above */
} cdl_byron_header;

typedef struct cdl_byron_ebb_header {
  cdl_span raw;
  int32_t protocol_magic;          /* decoded as Int32 by the reference */
  const uint8_t *prev_hash;
  cdl_span body_proof;             /* any length on the wire (dropBytes) */
  uint64_t epoch;
  uint64_t difficulty;
  cdl_byron_attrs attrs;           /* keys strictly ascending, byte-string values */
  /* The attribute {255: h'47656e65736973'} ("Genesis" as bytes), which
   * cardano-ledger reads as "prevBlock is the genesis hash" in any epoch
   * (a chain begun past epoch 0); epoch 0's always is. */
  bool genesis_tag;
  uint8_t hash[32];
} cdl_byron_ebb_header;

typedef struct cdl_byron_body {
  cdl_span raw;
  cdl_span tx_payload_raw;
  cdl_byron_txaux *txs;
  size_t n_txs;
  cdl_byron_ssc ssc;
  cdl_span dlg_payload_raw;
  cdl_byron_dlg_cert *certs;
  size_t n_certs;
  cdl_span upd_payload_raw;
  cdl_byron_proposal *proposal; /* NULL when absent */
  cdl_byron_vote *votes;
  size_t n_votes;
} cdl_byron_body;

typedef struct cdl_byron_block {
  bool is_ebb;
  bool wrapped;        /* came as [0|1, block] */
  cdl_span raw;        /* the 3-array, without the wrapper */
  cdl_span wrapped_raw;
  /* main blocks */
  cdl_byron_header header;
  cdl_byron_body body;
  cdl_byron_attrs extra_attrs;
  /* EBBs */
  cdl_byron_ebb_header ebb;
  cdl_span ebb_body_raw;
  cdl_span *ebb_leaders;       /* slot leaders' stakeholder ids */
  size_t n_ebb_leaders;
  cdl_span extra_raw;  /* [attributes] of either kind */
} cdl_byron_block;

int cdl_byron_header_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                          cdl_byron_header *h);
int cdl_byron_ebb_header_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                              cdl_byron_ebb_header *h);
int cdl_byron_body_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                        cdl_byron_body *body);
/* One block at the cursor, wrapped or bare. */
int cdl_byron_block_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                         cdl_byron_block *blk);
/* Exactly one block in the buffer. */
int cdl_byron_block_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                           cdl_byron_block *blk);
/* Re-encodes from the decoded fields; wrapped adds [0|1, ...]. */
void cdl_byron_header_encode(cdl_buf *b, const cdl_byron_header *h);
void cdl_byron_ebb_header_encode(cdl_buf *b, const cdl_byron_ebb_header *h);
void cdl_byron_body_encode(cdl_buf *b, const cdl_byron_body *body);
void cdl_byron_block_encode(cdl_buf *b, const cdl_byron_block *blk,
                            bool wrapped);
void cdl_byron_attrs_encode(cdl_buf *b, const cdl_byron_attrs *attrs);

/* Block hash: Blake2b-256(82 0x ++ header bytes), x = 0 EBB / 1 main. */
const uint8_t *cdl_byron_block_hash(const cdl_byron_block *blk);
/* The same from a header's bytes and its tag, without decoding them. */
void cdl_byron_header_hash(uint8_t tag, cdl_span header_raw, uint8_t out[32]);
const uint8_t *cdl_byron_block_prev_hash(const cdl_byron_block *blk);
/* Whether the block's previous hash names the genesis rather than a
 * block: an EBB of epoch 0 or one with the genesis tag (cardano-ledger
 * decodes its prevBlock as Left GenesisHash). */
bool cdl_byron_block_follows_genesis(const cdl_byron_block *blk);
uint64_t cdl_byron_block_number(const cdl_byron_block *blk);
/* Absolute slot; fails with CDL_E_RANGE if it overflows. */
int cdl_byron_block_slot(const cdl_byron_block *blk, uint64_t epoch_slots,
                         uint64_t *slot);

/* ---- Points ------------------------------------------------------------
 * A point on a chain: the origin, or a block's slot and hash. The
 * network's messages carry them (docs/network.md "Messages"), the ChainDB
 * finds blocks by them; they live here, below both. */
typedef struct cdl_point {
  bool origin;
  uint64_t slot;
  uint8_t hash[32];
} cdl_point;

/* Whether two points name the same block: both the origin, or the same
 * slot and hash (a hash under another slot is another point). */
bool cdl_point_eq(const cdl_point *a, const cdl_point *b);

/* ---- Proofs and checks (sections 2.3, 3.3) ---- */
/* Merkle root over the txs' original bytes. */
void cdl_byron_tx_merkle_root(const cdl_byron_txaux *txs, size_t n,
                              uint8_t out[32]);
/* H(9f || each tx's witness list || ff): the tx proof's witnesses hash. */
void cdl_byron_tx_witnesses_hash(const cdl_byron_body *body, uint8_t out[32]);
int cdl_byron_ssc_proof(const cdl_byron_ssc *ssc, cdl_arena *arena,
                        uint8_t h1[32], uint8_t certs_hash[32]);
/* Which proofs to check: the ledger (cardano-ledger) checks the tx,
 * delegation and update proofs of main blocks only; cardano-sl also
 * checked the SSC proof and EBB body hashes. */
enum { CDL_BYRON_PROOFS_LEDGER = 0, CDL_BYRON_PROOFS_ALL = 1 };
/* CDL_E_BODY_PROOF names the first proof that differs. */
int cdl_byron_block_check_body_proof(const cdl_byron_block *blk, int which,
                                     cdl_arena *scratch, cdl_error *err);

/* Caches delegation certificates already verified: every block of an
 * epoch carries one of the same few certificates. */
#define CDL_BYRON_CERT_CACHE 16
typedef struct cdl_byron_cert_cache {
  uint8_t digest[CDL_BYRON_CERT_CACHE][32]; /* H(magic || cert bytes) */
  unsigned used, next;
} cdl_byron_cert_cache;

/* The block signature of a main block: the delegate's signature over the
 * header's ToSign, the embedded certificate's own signature, and that the
 * certificate's issuer is the header's leader key. cache may be NULL.
 * EBBs carry no signature and pass. */
/* Only the block signature: the delegate key (from the embedded
 * certificate) over the header's ToSign, under the given magic. This is
 * all cardano-node checks (docs/byron.md 3.4). False also when out of
 * memory; _check says which: CDL_OK, CDL_E_SIGNATURE, or CDL_E_NOMEM (no
 * verdict: the message of a header over about 1 KB goes on the heap). */
int cdl_byron_header_signature_check(const cdl_byron_header *h, uint32_t protocol_magic);
bool cdl_byron_header_signature_valid(const cdl_byron_header *h,
                                      uint32_t protocol_magic);
int cdl_byron_block_check_signature(const cdl_byron_block *blk,
                                    uint32_t protocol_magic,
                                    cdl_byron_cert_cache *cache,
                                    cdl_error *err);

/* ---- Signing messages (section 3.2) ---- */
/* Protocol magic as CBOR uint (max 5 bytes); returns its length. */
size_t cdl_byron_magic_cbor(uint32_t magic, uint8_t out[9]);
/* Resets b to tag || CBOR(magic), the start of every signed message. */
void cdl_byron_msg_prefix(cdl_buf *b, uint8_t tag, uint32_t magic);
/* Builds tag-prefixed messages into b (reset first). */
void cdl_byron_msg_tx(cdl_buf *b, uint8_t tag, uint32_t magic,
                      const uint8_t tx_id[32]);
void cdl_byron_msg_block(cdl_buf *b, const cdl_byron_header *h, uint32_t magic);
void cdl_byron_msg_cert(cdl_buf *b, uint32_t magic, const uint8_t delegate[64],
                        uint64_t epoch);

/* ---- Canonical JSON (section 2.4) ------------------------------------- */
enum {
  CDL_CJSON_NULL, CDL_CJSON_FALSE, CDL_CJSON_TRUE, CDL_CJSON_INT,
  CDL_CJSON_STRING, CDL_CJSON_ARRAY, CDL_CJSON_OBJECT
};

typedef struct cdl_cjson cdl_cjson;
struct cdl_cjson {
  uint8_t type;
  int64_t integer;
  cdl_span string;    /* decoded bytes (escapes removed) */
  size_t count;       /* array elements or object members */
  cdl_cjson **items;  /* elements, or member values sorted by key */
  cdl_span *keys;     /* object keys, sorted by bytes (stable) */
};

/* Parses with the canonical-json package's rules; nodes live in arena. */
int cdl_cjson_parse(const uint8_t *text, size_t len, cdl_arena *arena,
                    cdl_cjson **out, cdl_error *err);
/* Appends the canonical rendering (no whitespace, sorted keys). */
int cdl_cjson_render(const cdl_cjson *v, cdl_buf *out);
/* First member with this key, or NULL. */
const cdl_cjson *cdl_cjson_get(const cdl_cjson *obj, const char *key);

/* ---- Genesis (section 4) ---------------------------------------------- */
typedef struct cdl_byron_protocol_params {
  uint16_t script_version;
  uint64_t slot_duration_ms, max_block_size, max_header_size, max_tx_size,
      max_proposal_size;
  uint64_t mpc_thd, heavy_del_thd, update_vote_thd, update_proposal_thd; /* /1e15 */
  uint64_t update_implicit; /* slots */
  uint64_t softfork_init, softfork_min, softfork_decrement; /* /1e15 */
  /* x1e9; the summand a whole number of lovelace (x1e9), as the
   * reference keeps a Lovelace: the genesis's truncated, a proposal's
   * rounded (cdl_byron_fee_summand_lovelace) where they enter. */
  uint64_t fee_summand_nano, fee_multiplier_nano;
  uint64_t unlock_stake_epoch;
} cdl_byron_protocol_params;

/* ProtocolVersion [major, minor, alt]. */
void cdl_byron_version_encode(cdl_buf *b, const cdl_byron_version *v);
/* ProtocolParameters as cardano-ledger encodes them: a 14-element array
 * (the update-interface state's adopted parameters). */
void cdl_byron_params_encode(cdl_buf *b, const cdl_byron_protocol_params *pp);

typedef struct cdl_byron_genesis_delegation {
  uint8_t issuer_id[28];
  uint8_t issuer_pk[64], delegate_pk[64], signature[64];
  uint64_t omega; /* the certificate's epoch */
} cdl_byron_genesis_delegation;

typedef struct cdl_byron_genesis_avvm {
  uint8_t pk[32];
  uint64_t lovelace;
} cdl_byron_genesis_avvm;

typedef struct cdl_byron_genesis_balance {
  cdl_span address; /* CBOR bytes, owned by the arena */
  uint64_t lovelace;
} cdl_byron_genesis_balance;

typedef struct cdl_byron_genesis {
  uint8_t hash[32];
  uint32_t protocol_magic;
  uint64_t k;
  int64_t start_time; /* POSIX seconds */
  uint8_t (*boot_stakeholders)[28];
  size_t n_boot_stakeholders;
  cdl_byron_genesis_delegation *delegations;
  size_t n_delegations;
  cdl_byron_genesis_avvm *avvm;
  size_t n_avvm;
  cdl_byron_genesis_balance *balances;
  size_t n_balances;
  cdl_byron_protocol_params params;
} cdl_byron_genesis;

/* Bounds a genesis must keep (docs/genesis.md "Bounds"): the security
 * parameter k (mainnet, preprod and the legacy testnet use 2160, preview
 * and sanchonet 432), and the slot length (mainnet's is 20 s). */
#define CDL_BYRON_MAX_K 1000000u

/* Slots in an epoch: 10k, k the security parameter (the Byron chain spec;
 * mainnet: 21,600). The one place the rule is written. */
static inline uint64_t cdl_byron_epoch_slots(uint64_t k) { return 10 * k; }
#define CDL_BYRON_MAX_SLOT_MS 86400000u /* a day */

/* The genesis hash alone: Blake2b-256 of the canonical rendering. */
int cdl_byron_genesis_hash(const uint8_t *text, size_t len, uint8_t out[32],
                           cdl_error *err);
/* Parses, hashes and checks a genesis file: the schema (with the bounds
 * above), each delegation key against its issuer, each certificate's
 * signature. */
int cdl_byron_genesis_load(const uint8_t *text, size_t len, cdl_arena *arena,
                           cdl_byron_genesis *g, cdl_error *err);
/* The same from the file |path| (at most |max_bytes|, its text kept in
 * |text|, which the caller initialised and frees): every error names the
 * file, and a JSON syntax error its line and column too. */
int cdl_byron_genesis_load_file(const char *path, size_t max_bytes, cdl_buf *text,
                                cdl_arena *arena, cdl_byron_genesis *g, cdl_error *err);
/* cdl_byron_genesis_hash of the file |path|, its errors named the same way. */
int cdl_byron_genesis_hash_file(const char *path, size_t max_bytes, uint8_t out[32],
                                cdl_error *err);

/* Default address-magic policy for a protocol magic: mainnet and staging
 * are RequiresNoMagic, every other network RequiresMagic. */
bool cdl_byron_requires_magic(uint32_t protocol_magic);

typedef struct cdl_byron_utxo_entry {
  uint8_t tx_id[32]; /* Blake2b-256 of the address bytes; index is 0 */
  cdl_span address;
  uint64_t lovelace;
} cdl_byron_utxo_entry;

/* The genesis UTxO: one output per AVVM entry (a redeem address) and per
 * non-AVVM balance. A duplicate address is an error. */
int cdl_byron_genesis_utxo(const cdl_byron_genesis *g, bool requires_magic,
                           cdl_arena *arena, cdl_byron_utxo_entry **out,
                           size_t *n, cdl_error *err);

/* ---- The update interface state (update_state.c) -------------------------
 * The Byron local-state query GetUpdateInterfaceState's answer, as
 * cardano-ledger encodes it (Cardano.Chain.Update.Validation.Interface
 * State ToCBOR, and each component's): an 11-element array of the epoch,
 * the adopted version and parameters, the candidates (a list), the
 * application versions, registered protocol and software proposals,
 * confirmed proposals, votes (maps), endorsements (a tag-258 set) and
 * registration slots (a map). Read from hostile bytes: every collection
 * is bounded, every type checked; hashes point into the input. */
#define CDL_BYRON_UPD_MAX_ITEMS 1024 /* per collection */
#define CDL_BYRON_UPD_MAX_METADATA 64 /* system tags per metadata map */
#define CDL_BYRON_UPD_MAX_NAME 64     /* bytes of an application name or system tag */

typedef struct cdl_byron_upd_metadata {
  cdl_span system_tag;        /* UTF-8 */
  const uint8_t *installer;   /* 32 bytes */
} cdl_byron_upd_metadata;
typedef struct cdl_byron_upd_candidate {
  uint64_t slot;
  cdl_byron_version pv;
  cdl_byron_protocol_params pp;
} cdl_byron_upd_candidate;
typedef struct cdl_byron_upd_app {
  cdl_span name;
  uint32_t version;
  uint64_t slot;
  cdl_byron_upd_metadata *metadata;
  size_t n_metadata;
} cdl_byron_upd_app;
typedef struct cdl_byron_upd_protocol {
  const uint8_t *id; /* 32 bytes: the proposal's UpId */
  cdl_byron_version pv;
  cdl_byron_protocol_params pp;
} cdl_byron_upd_protocol;
typedef struct cdl_byron_upd_software {
  const uint8_t *id;
  cdl_byron_software_version sv;
  cdl_byron_upd_metadata *metadata;
  size_t n_metadata;
} cdl_byron_upd_software;
typedef struct cdl_byron_upd_slot { /* confirmed at / registered at */
  const uint8_t *id;
  uint64_t slot;
} cdl_byron_upd_slot;
typedef struct cdl_byron_upd_votes {
  const uint8_t *id;
  const uint8_t **voters; /* key hashes, 28 bytes each */
  size_t n_voters;
} cdl_byron_upd_votes;
typedef struct cdl_byron_upd_endorsement {
  cdl_byron_version pv;
  const uint8_t *key_hash; /* 28 bytes */
} cdl_byron_upd_endorsement;

typedef struct cdl_byron_update_state {
  uint64_t epoch;
  cdl_byron_version adopted_pv;
  cdl_byron_protocol_params adopted_pp;
  cdl_byron_upd_candidate *candidates;
  size_t n_candidates;
  cdl_byron_upd_app *apps;
  size_t n_apps;
  cdl_byron_upd_protocol *protocol;
  size_t n_protocol;
  cdl_byron_upd_software *software;
  size_t n_software;
  cdl_byron_upd_slot *confirmed;
  size_t n_confirmed;
  cdl_byron_upd_votes *votes;
  size_t n_votes;
  cdl_byron_upd_endorsement *endorsements;
  size_t n_endorsements;
  cdl_byron_upd_slot *registered;
  size_t n_registered;
} cdl_byron_update_state;

/* Decodes exactly one state (no trailing bytes); memory from ctx->arena. */
int cdl_byron_update_state_decode(const uint8_t *p, size_t n, cdl_byron_ctx *ctx,
                                  cdl_byron_update_state *st);
/* ProtocolParameters as cdl_byron_params_encode writes them. */
int cdl_byron_params_read(cdl_cbor_cursor *cur, cdl_byron_protocol_params *pp);

#endif /* CARDINAL_BYRON_H */
