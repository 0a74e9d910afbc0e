/*
 * cardinal/ledger.h: the Byron ledger and chain validation
 * (docs/byron.md sections 4.2, 5 and 6).
 *
 * A cdl_ledger holds the state the reference node keeps for judging the
 * next block: the UTxO, delegation (genesis key -> delegate, scheduled
 * certificates), the update mechanism (adopted and candidate protocol
 * versions, proposals, votes, endorsements, software versions), the chain
 * tip and the PBFT window of recent signers. Blocks are applied one at a
 * time; a block is either applied whole or rejected with the state left
 * exactly as it was. A rejection is a value naming a stable rule.
 *
 * The rules are those cardano-ledger and ouroboros-consensus apply when
 * judging blocks (the lenient column of docs/byron.md 5.4.1); the stricter
 * rules for producing blocks belong to the producer and the mempool.
 */
#ifndef CARDINAL_LEDGER_H
#define CARDINAL_LEDGER_H

#include "cardinal/byron.h"

/* ---- Rejections ---------------------------------------------------------
 * Rule names are stable: tests, logs and `chain validate` use them. */
#define CDL_RULE_PREV_HASH "chain.prev_hash"
#define CDL_RULE_BLOCK_NUMBER "chain.block_number"
#define CDL_RULE_SLOT_ORDER "chain.slot_order"
#define CDL_RULE_PROTOCOL_MAGIC "chain.protocol_magic"
#define CDL_RULE_HEADER_SIZE "chain.header_size"
#define CDL_RULE_BLOCK_SIZE "chain.block_size"
#define CDL_RULE_BODY_PROOF "block.body_proof"
#define CDL_RULE_PBFT_SIGNATURE "pbft.signature"
#define CDL_RULE_PBFT_NOT_DELEGATE "pbft.not_delegate"
#define CDL_RULE_PBFT_THRESHOLD "pbft.threshold"
#define CDL_RULE_MISSING_INPUT "utxo.missing_input"
#define CDL_RULE_WITNESS_SIGNATURE "utxo.witness_signature"
#define CDL_RULE_WITNESS_ADDRESS "utxo.witness_address"
#define CDL_RULE_TX_SIZE "utxo.tx_size"
#define CDL_RULE_FEE_TOO_LOW "utxo.fee_too_low"
#define CDL_RULE_VALUE_NOT_PRESERVED "utxo.value_not_preserved"
#define CDL_RULE_LOVELACE_OVERFLOW "utxo.lovelace_overflow"
#define CDL_RULE_ATTRIBUTES_SIZE "utxo.attributes_size"
#define CDL_RULE_OUTPUT_NETWORK "utxo.output_network"
#define CDL_RULE_OUTPUT_EXISTS "utxo.output_exists"
#define CDL_RULE_DLG_NON_GENESIS "delegation.non_genesis_delegator"
#define CDL_RULE_DLG_WRONG_EPOCH "delegation.wrong_epoch"
#define CDL_RULE_DLG_EPOCH_REPEAT "delegation.multiple_per_epoch"
#define CDL_RULE_DLG_SLOT_REPEAT "delegation.multiple_per_slot"
#define CDL_RULE_DLG_SIGNATURE "delegation.signature"
#define CDL_RULE_UPD_PROPOSER "update.proposer_not_delegate"
#define CDL_RULE_UPD_PROPOSAL_SIGNATURE "update.proposal_signature"
#define CDL_RULE_UPD_NULL "update.null_proposal"
#define CDL_RULE_UPD_DUPLICATE_VERSION "update.duplicate_protocol_version"
#define CDL_RULE_UPD_VERSION_CANNOT_FOLLOW "update.protocol_version_cannot_follow"
#define CDL_RULE_UPD_PROPOSAL_SIZE "update.proposal_too_large"
#define CDL_RULE_UPD_BLOCK_SIZE "update.max_block_size_too_large"
#define CDL_RULE_UPD_TX_SIZE "update.max_tx_size_too_large"
#define CDL_RULE_UPD_SCRIPT_VERSION "update.script_version"
#define CDL_RULE_UPD_APP_NAME "update.application_name"
#define CDL_RULE_UPD_SYSTEM_TAG "update.system_tag"
#define CDL_RULE_UPD_DUPLICATE_SOFTWARE "update.duplicate_software_proposal"
#define CDL_RULE_UPD_SOFTWARE_CANNOT_FOLLOW "update.software_version_cannot_follow"
#define CDL_RULE_UPD_VOTE_UNKNOWN "update.vote_for_unknown_proposal"
#define CDL_RULE_UPD_VOTER "update.voter_not_delegate"
#define CDL_RULE_UPD_VOTE_REPEAT "update.duplicate_vote"
#define CDL_RULE_UPD_VOTE_SIGNATURE "update.vote_signature"
#define CDL_RULE_UPD_ENDORSEMENT "update.multiple_proposals_for_version"

typedef struct cdl_rejection {
  const char *rule;           /* one of CDL_RULE_*, or a decode error's name */
  bool has_block;             /* block_no, slot and hash are known */
  uint64_t block_no, slot;
  uint8_t hash[32];
  bool has_tx;
  uint8_t tx_id[32];
  bool has_input;
  uint8_t input_tx_id[32];
  uint32_t input_index;
  char detail[200];
} cdl_rejection;

/* ---- Configuration ---------------------------------------------------- */
enum {
  /* Re-apply trusted blocks: skip every signature check (block, witness,
   * certificate, proposal, vote). All other rules still hold. */
  CDL_LEDGER_NO_SIGNATURES = 1u << 0,
  /* Take a body its header's proofs do not match. Never a node's: only
   * the simulator's adversary that serves such blocks (docs/simulation.md
   * "Adversaries") stores them with it. */
  CDL_LEDGER_NO_BODY_PROOFS = 1u << 1
};

#define CDL_LEDGER_MAX_GENESIS_KEYS 255 /* the reference counts them in a Word8 */

typedef struct cdl_witness_cache cdl_witness_cache;

typedef struct cdl_ledger_config {
  uint32_t protocol_magic;
  bool requires_magic;          /* addresses carry the network magic */
  uint64_t k;
  double pbft_threshold;        /* PBftSignatureThreshold; 0 = 0.22 */
  unsigned flags;
  /* NULL, or witnesses already verified (below): consulted before each
   * witness check and told of each that passes. Shared with every fork;
   * not owned: it must outlive the ledger. */
  cdl_witness_cache *witness_cache;
} cdl_ledger_config;

/* ---- The ledger ------------------------------------------------------- */
typedef struct cdl_ledger cdl_ledger;

/* The state at genesis (4.2). The genesis must come from
 * cdl_byron_genesis_load, which has already checked its certificates.
 * Fails with CDL_E_GENESIS on a genesis this ledger cannot hold (more than
 * CDL_LEDGER_MAX_GENESIS_KEYS keys, a duplicate UTxO address). */
int cdl_ledger_new(const cdl_byron_genesis *g, const cdl_ledger_config *cfg,
                   cdl_ledger **out, cdl_error *err);
void cdl_ledger_del(cdl_ledger *l);

/* A fork: a ledger that starts equal to |base| and takes blocks, txs and
 * payloads of its own without touching |base| (what the mempool and a
 * block producer validate against). Its UTxO holds only its differences
 * and reads through to |base|'s, so it costs the delegation, update and
 * PBFT state plus what it changes. |base| must not change, or be deleted,
 * while the fork is used (checked: a fork whose base moved stops the
 * process on its next UTxO look-up), and a fork has no snapshot
 * (CDL_E_USAGE). 0 or CDL_E_NOMEM. */
int cdl_ledger_fork(const cdl_ledger *base, cdl_ledger **out);
/* Whether |fork| was made from |base| as it is now. */
bool cdl_ledger_fork_current(const cdl_ledger *fork, const cdl_ledger *base);

/* Applies one decoded block (EBB or main). 0 on success; otherwise
 * CDL_E_REJECTED with |rej| filled and the state unchanged, or
 * CDL_E_NOMEM. The block's signature memos (cdl_byron_block_verify_all)
 * are used when set. */
#define CDL_E_REJECTED (-40)
int cdl_ledger_apply_block(cdl_ledger *l, const cdl_byron_block *blk,
                           cdl_rejection *rej);

/* ---- Inspection ---- */
typedef struct cdl_ledger_tip {
  bool at_genesis;
  uint8_t hash[32];
  uint64_t slot, block_no;
  bool is_ebb;
} cdl_ledger_tip;

typedef struct cdl_ledger_totals {
  uint64_t blocks, ebbs, txs;
  uint64_t fees_lovelace;
  uint64_t utxo_entries, utxo_lovelace;
} cdl_ledger_totals;

void cdl_ledger_get_tip(const cdl_ledger *l, cdl_ledger_tip *tip);
void cdl_ledger_get_totals(const cdl_ledger *l, cdl_ledger_totals *t);
uint64_t cdl_ledger_epoch(const cdl_ledger *l);
const cdl_byron_protocol_params *cdl_ledger_params(const cdl_ledger *l);
cdl_byron_version cdl_ledger_protocol_version(const cdl_ledger *l);
/* The delegate key hash of a genesis key, if it has one. */
bool cdl_ledger_delegate_of(const cdl_ledger *l, const uint8_t genesis_key[28],
                            uint8_t delegate[28]);
/* The lovelace of an unspent output, if present. */
bool cdl_ledger_utxo_get(const cdl_ledger *l, const uint8_t tx_id[32],
                         uint32_t index, uint64_t *lovelace);
/* The version an application has reached through the update mechanism. */
bool cdl_ledger_app_version(const cdl_ledger *l, const char *app_name,
                            uint32_t *version);
/* The minimum fee of a tx of |size| bytes: a + ceil(b * size). */
uint64_t cdl_ledger_min_fee(const cdl_byron_protocol_params *pp, size_t size);
/* Whether genesis key |genesis_key| may sign the next block without
 * exceeding the PBFT signature threshold (what a core node checks before
 * it forges). */
bool cdl_ledger_pbft_may_sign(const cdl_ledger *l, const uint8_t genesis_key[28]);
/* Update-mechanism bookkeeping, for tests and `db info`. */
typedef struct cdl_ledger_update_view {
  size_t registered, confirmed, candidates, endorsements;
} cdl_ledger_update_view;
void cdl_ledger_update_view_get(const cdl_ledger *l, cdl_ledger_update_view *v);

/* ---- Queries (query.c) ----
 * The update interface state, the Byron local-state query's answer: the
 * 11-element array of cardano-ledger's Update.Validation.Interface.State,
 * byte for byte (docs/network.md "Local state query" gives the layout).
 * 0, or CDL_E_NOMEM, or the buffer's CDL_E_LIMIT. */
int cdl_ledger_encode_update_state(const cdl_ledger *l, cdl_buf *b, cdl_error *err);

/* ---- UTxO look-ups and constants (query_utxo.c) ----
 * Read-only views for the local state query's own answers (docs/network.md
 * "Cardinal's own queries"). An output's address is its CBOR item as a tx
 * output carries it, borrowed from the ledger: valid until the ledger
 * next changes. */
typedef struct cdl_ledger_output {
  uint8_t tx_id[32];
  uint32_t index;
  cdl_span address;
  uint64_t lovelace;
} cdl_ledger_output;
/* Returns false to stop the walk. */
typedef bool (*cdl_ledger_output_fn)(void *ctx, const cdl_ledger_output *o);
/* Every unspent output whose address bytes equal one of |addrs|, in no
 * particular order, until |visit| returns false. The UTxO has no index by
 * address: this is one pass over all of it, O(entries x n) length
 * compares (a byte compare only where the lengths agree), so callers
 * bound n. A fork sees its base's outputs less those it spent. */
void cdl_ledger_utxo_by_address(const cdl_ledger *l, const cdl_span *addrs, size_t n,
                                cdl_ledger_output_fn visit, void *ctx);
/* The unspent output an input names, if present (a hash look-up). */
bool cdl_ledger_utxo_lookup(const cdl_ledger *l, const uint8_t tx_id[32], uint32_t index,
                            cdl_ledger_output *out);
typedef struct cdl_ledger_constants {
  uint32_t protocol_magic;
  bool requires_magic; /* addresses carry the network magic */
  uint64_t k, epoch_slots;
  size_t genesis_keys;
} cdl_ledger_constants;
void cdl_ledger_get_constants(const cdl_ledger *l, cdl_ledger_constants *c);

/* ---- The parts of a block, for tests of the rules on constructed
 * payloads. Each runs inside its own transaction: on a rejection the
 * state is unchanged. |slot| is the block's slot. ---- */
int cdl_ledger_tick(cdl_ledger *l, uint64_t slot);
int cdl_ledger_apply_certificates(cdl_ledger *l, const cdl_byron_dlg_cert *certs,
                                  size_t n, uint64_t slot, cdl_rejection *rej);
int cdl_ledger_apply_tx(cdl_ledger *l, const cdl_byron_txaux *tx, cdl_rejection *rej);
/* Proposal (may be NULL), votes, and the endorsement of |block_version| by
 * the block's signer (the delegate key). */
int cdl_ledger_apply_update(cdl_ledger *l, const cdl_byron_proposal *proposal,
                            const cdl_byron_vote *votes, size_t n_votes,
                            cdl_byron_version block_version,
                            const uint8_t signer_delegate_pk[64], uint64_t slot,
                            cdl_rejection *rej);

/* A proposal (may be NULL) and votes registered as the mempool does
 * (Byron applyMempoolPayload): no endorsement, adoption or pruning. */
int cdl_ledger_register_update(cdl_ledger *l, const cdl_byron_proposal *proposal,
                               const cdl_byron_vote *votes, size_t n_votes, uint64_t slot,
                               cdl_rejection *rej);

/* ---- Snapshots ------------------------------------------------------------
 * A snapshot is a self-contained binary image of the whole ledger state
 * between blocks, so that a ChainDB can write the ledger to disk and later
 * resume from it instead of replaying from genesis. The format is
 * Cardinal's own (src/ledger/snapshot.c, docs/storage.md): a header naming
 * the genesis, network and tip, the state, and a trailing CRC32. The same
 * state always gives the same bytes. */

/* Appends the image of |l| to |out|. Not between the parts of a block
 * (there is none in progress when no cdl_ledger_* call is running). 0, or
 * CDL_E_NOMEM, or CDL_E_LIMIT past the buffer's bound, with nothing appended;
 * CDL_E_USAGE for a fork. */
int cdl_ledger_snapshot_write(const cdl_ledger *l, cdl_buf *out);

/* Where cdl_ledger_snapshot_stream hands the image, a piece at a time and
 * in order; a non-zero return stops the write and is returned. */
typedef int (*cdl_ledger_image_sink)(void *ctx, const uint8_t *bytes, size_t len);
/* The image cdl_ledger_snapshot_write makes, handed to |sink| in pieces of
 * about a megabyte rather than built whole in memory (the image of a
 * large UTxO is a hundred megabytes and more); *len gets its length.
 * 0, CDL_E_NOMEM, the sink's failure, or CDL_E_USAGE for a fork. */
int cdl_ledger_snapshot_stream(const cdl_ledger *l, cdl_ledger_image_sink sink, void *ctx,
                               uint64_t *len);
/* Builds a new ledger from an image (borrowed for the call). The bytes are
 * untrusted: a corrupt or hostile image is refused with |err| filled and
 * nothing allocated: CDL_E_TAG (not a snapshot, unknown version),
 * CDL_E_TRUNCATED, CDL_E_TRAILING, CDL_E_CHECKSUM, CDL_E_RANGE (a field out of
 * its range or inconsistent), CDL_E_GENESIS (another genesis, protocol
 * magic, address-magic policy or k than |cfg| and |genesis_hash|), or
 * CDL_E_NOMEM. The flags and PBFT threshold come from |cfg|, not the image. */
int cdl_ledger_snapshot_read(const uint8_t *data, size_t len, const cdl_ledger_config *cfg,
                             const uint8_t genesis_hash[32], cdl_ledger **out, cdl_error *err);

/* What keeps an image's bytes: a ledger read with cdl_ledger_snapshot_adopt
 * may go on reading them (its UTxO's frozen entries, used in place) and
 * calls release(ctx) once when it is deleted. */
typedef struct cdl_ledger_image_owner {
  void (*release)(void *ctx);
  void *ctx;
} cdl_ledger_image_owner;
/* cdl_ledger_snapshot_read, but the image's UTxO entries are used where
 * they lie rather than copied (on little-endian hosts, the image 8-byte
 * aligned, as a mapped file is: docs/performance.md "Restart"): opening a
 * large ledger then costs no fresh memory for them. On success the ledger
 * holds the bytes until it is deleted, when it calls |owner|'s release
 * (whether or not it used them); on failure it never does. */
int cdl_ledger_snapshot_adopt(const uint8_t *data, size_t len, const cdl_ledger_image_owner *owner,
                              const cdl_ledger_config *cfg, const uint8_t genesis_hash[32],
                              cdl_ledger **out, cdl_error *err);
/* The tip an image names, after the checks of its envelope (length, CRC)
 * and its genesis that cdl_ledger_snapshot_read makes first; the state is
 * not read. */
int cdl_ledger_snapshot_tip(const uint8_t *data, size_t len, const uint8_t genesis_hash[32],
                            cdl_ledger_tip *tip, cdl_error *err);

/* Replaces the configuration flags (CDL_LEDGER_NO_SIGNATURES), e.g. to
 * replay already-validated blocks fast and then check signatures again. */
void cdl_ledger_set_flags(cdl_ledger *l, unsigned flags);
unsigned cdl_ledger_flags(const cdl_ledger *l);

/* ---- Parallel signature checks ----------------------------------------
 * Verifies every signature of a block (block, witnesses, certificates,
 * proposal, votes) and records the verdicts in the block's memo fields so
 * that cdl_ledger_apply_block does not verify them again. Pure: blocks may
 * be checked on any thread, in any order, with the same final result. */
void cdl_ledger_precheck_signatures(cdl_byron_block *blk, uint32_t protocol_magic,
                                    cdl_witness_cache *cache);

/* ---- Verified witnesses (witness_cache.c; docs/mempool.md "Verified
 * witnesses") ----
 * A bounded set of tx witnesses whose signature verified, so a tx checked
 * when it entered the mempool is not verified again in the block that
 * holds it. An entry is a keyed BLAKE2b digest of the magic, the witness
 * (type, key, signature) and the tx id: a changed tx or witness never
 * hits. Safe to use from several threads. */
#define CDL_WITNESS_CACHE_DEFAULT 65536 /* entries: 2 MiB, 5 full mempools */
typedef struct cdl_witness_cache_stats {
  uint64_t hits, misses, stored, evicted;
  size_t capacity;
} cdl_witness_cache_stats;
/* Room for at least |entries| (rounded up to a power of two). 0 or CDL_E_NOMEM. */
int cdl_witness_cache_new(size_t entries, cdl_witness_cache **out);
void cdl_witness_cache_del(cdl_witness_cache *c);
bool cdl_witness_cache_has(cdl_witness_cache *c, const cdl_byron_witness *w,
                           const uint8_t tx_id[32], uint32_t protocol_magic);
/* Records a witness that verified (callers store nothing else). */
void cdl_witness_cache_put(cdl_witness_cache *c, const cdl_byron_witness *w,
                           const uint8_t tx_id[32], uint32_t protocol_magic);
/* cdl_byron_witness_verify through |c| (which may be NULL): a hit is
 * true at once; a verification that passes is stored. */
bool cdl_witness_verify_cached(cdl_witness_cache *c, const cdl_byron_witness *w,
                               const uint8_t tx_id[32], uint32_t protocol_magic);
void cdl_witness_cache_stats_get(cdl_witness_cache *c, cdl_witness_cache_stats *st);

/* ---- Replaying a block stream with several threads (replay.c) ----
 * Decoding, hashing and signature checks run on |threads| threads (the
 * caller's included); blocks are applied in order on the caller's thread,
 * so the outcome does not depend on the thread count. */
typedef struct cdl_replay cdl_replay;
int cdl_replay_new(cdl_ledger *l, unsigned threads, cdl_replay **out);
void cdl_replay_del(cdl_replay *r);
/* Decodes and applies blocks[0..n) in order and stops at the first that
 * fails: CDL_E_REJECTED with |rej| filled (a block that does not decode is
 * rejected with the decoder's rule and has_block false), or CDL_E_NOMEM.
 * *applied counts the blocks applied. */
int cdl_replay_batch(cdl_replay *r, const cdl_span *blocks, size_t n, size_t *applied,
                     cdl_rejection *rej);

#endif /* CARDINAL_LEDGER_H */
