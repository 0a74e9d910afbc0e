/*
 * node_forge.c: block production of a core node (include/cardinal/node.h;
 * docs/node.md "Forging"; docs/byron.md 6 PBFT).
 *
 * Slot s belongs to genesis key s mod n, n the number of genesis keys in
 * the genesis's order, as the PBFT round robin of ouroboros-consensus
 * (CoreNodeId). In its slots a core node forges on its tip when, by the
 * tip's ledger ticked to the slot (as the ChainDB will judge the block:
 * a delegation taking effect at that slot, an epoch transition adopting
 * parameters or a protocol version):
 *  - its certificate's delegate is the ledger's delegate of its genesis
 *    key (a re-delegation makes the old key useless), and
 *  - the genesis key may sign without passing the PBFT threshold (at most
 *    that share of the last k blocks);
 * and when its signing record (sign_record.c) says the key has not
 * signed this slot or a later one. The record is advanced, on disk,
 * before the block is signed, so no slot is ever signed twice, whatever
 * the ChainDB lost. A tip in an earlier epoch first gets the new epoch's
 * boundary block (an empty chain past epoch 0 gets epoch 0's first, the
 * only block that may follow the genesis): unsigned (it needs no record),
 * so every core node forging it from the same tip makes the same block. The header
 * announces the forger's configured versions (cdl_node_forger.versions): a
 * configured protocol version is endorsed by every block, which is how an
 * upgraded node endorses a confirmed proposal; without one, the adopted
 * version, which endorses nothing new. The body takes the
 * mempool's payloads oldest first, as many as fit in the block size limit
 * less the block's own bytes (1,686, as ouroboros-consensus), one update
 * proposal at most. A block of our own that the ChainDB refuses is a
 * bug: logged and counted, never fatal.
 */
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

/* The number and hash (hex) of the block in n->block, for the log. */
static void describe(const cdl_node *n, uint64_t *block_no, char hash[65]) {
  cdl_block_info info = {0};
  cdl_error scratch = {0};
  if (cdl_block_info_read(n->block.data, n->block.len, n->epoch_slots, &info, &scratch) != CDL_OK)
    memset(&info, 0, sizeof info);
  *block_no = info.block_no;
  cdl_hex_encode(info.hash, 32, hash);
}

static int add_own(cdl_node *n, const char *what, bool *adopted, cdl_error *err) {
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  CDL_TRY(cdl_chaindb_add_block(n->db, n->block.data, n->block.len, &res, &rej, err));
  *adopted = res.outcome == CDL_ADD_ADOPTED;
  if (res.outcome == CDL_ADD_INVALID) {
    uint64_t no;
    char hash[65];
    describe(n, &no, hash);
    n->st.own_refused++;
    node_log(n, CDL_LOG_ERROR, "forge.refused", "our own %s %s was refused: %s", what, hash,
             rej.rule ? rej.rule : "?");
  }
  if (*adopted) node_chain_changed(n);
  return CDL_OK;
}

static const uint8_t *prev_hash(const cdl_node *n, const cdl_ledger_tip *tip) {
  return tip->at_genesis ? n->cfg.genesis->hash : tip->hash;
}

static int forge_ebb(cdl_node *n, const cdl_ledger_tip *tip, uint64_t epoch, cdl_error *err) {
  /* An EBB repeats the number of the block before it (the first is 0). */
  uint64_t no = tip->at_genesis ? 0 : tip->is_ebb ? tip->block_no + 1 : tip->block_no;
  cdl_buf_reset(&n->block);
  cdl_forge_ebb(n->cfg.genesis->protocol_magic, prev_hash(n, tip), epoch, no, &n->block);
  if (n->block.failed) return cdl_error_set(err, CDL_E_NOMEM, 0, "forge: out of memory");
  bool adopted;
  CDL_TRY(add_own(n, "boundary block", &adopted, err));
  if (adopted) {
    n->st.ebbs_forged++;
    node_log(n, CDL_LOG_INFO, "forge.ebb", "epoch %llu boundary block", (unsigned long long)epoch);
  }
  return CDL_OK;
}

/* The mempool's payloads, oldest first, within |room| bytes. */
static int pick_payloads(cdl_node *n, size_t room, size_t *count) {
  cdl_mempool_stats ms;
  cdl_mempool_stats_get(n->mp, &ms);
  if (ms.count > n->cap_payloads) {
    cdl_span *p = realloc(n->payloads, ms.count * sizeof *p);
    if (p == NULL) return CDL_E_NOMEM;
    n->payloads = p;
    n->cap_payloads = ms.count;
  }
  size_t used = 0, k = 0;
  bool proposal = false;
  cdl_mempool_entry e;
  for (size_t i = 0; i < ms.count && cdl_mempool_at(n->mp, i, &e); i++) {
    if (used + e.size > room) break;
    if (e.kind == CDL_MP_PROPOSAL && proposal) continue;
    proposal |= e.kind == CDL_MP_PROPOSAL;
    used += e.size;
    n->payloads[k++] = e.gentx;
  }
  *count = k;
  return CDL_OK;
}

/* Whether this node's key may sign slot |slot| by |l|, the tip's ledger
 * ticked to that slot; why not in the log. */
static bool may_sign(cdl_node *n, const cdl_ledger *l, uint64_t slot) {
  uint8_t delegate[28];
  const uint8_t *issuer = n->forger.cert.issuer_id;
  if (!cdl_ledger_delegate_of(l, issuer, delegate) || memcmp(delegate, n->key_hash, 28) != 0) {
    node_log(n, CDL_LOG_WARN, "forge.not_delegate",
             "slot %llu: our key is not the delegate of our genesis key", (unsigned long long)slot);
    return false;
  }
  if (!cdl_ledger_pbft_may_sign(l, issuer)) {
    node_log(n, CDL_LOG_INFO, "forge.threshold", "slot %llu: the PBFT threshold forbids a block",
             (unsigned long long)slot);
    return false;
  }
  return true;
}

/* Whether the signing record allows |slot|: above the last slot this key
 * signed, whatever the chain says (after a crash, a restored or truncated
 * database, the chain may have lost blocks we signed). */
static bool record_allows(cdl_node *n, uint64_t slot) {
  uint64_t last;
  if (!cdl_sign_record_last(n->forger.record, n->key_hash, &last) || slot > last) return true;
  n->st.double_sign_refused++;
  node_log(n, CDL_LOG_WARN, "forge.already_signed",
           "slot %llu: not signed: the signing record %s says this key signed slot %llu",
           (unsigned long long)slot, cdl_sign_record_path(n->forger.record),
           (unsigned long long)last);
  return false;
}

/* Records |slot| as signed, durably, before anything is signed. A
 * failure costs this slot only and is not fatal to the node: the record
 * in memory stays at the last slot known to be on disk (so nothing is
 * ever allowed twice), the next attempt rewrites a whole copy and fsyncs
 * it (it never counts on pages an earlier failed fsync may have dropped),
 * and meanwhile the node still follows, serves and relays the chain. */
static bool record_advance(cdl_node *n, uint64_t slot) {
  cdl_error e = {0};
  if (cdl_sign_record_advance(n->forger.record, n->key_hash, slot, &e) == CDL_OK) return true;
  n->st.record_failures++;
  node_log(n, CDL_LOG_ERROR, "forge.record_failed", "slot %llu: not signed: %s",
           (unsigned long long)slot, e.message);
  return false;
}

/* A fork of the tip's ledger ticked to |slot|: delegations activated,
 * the epoch transition (parameters and protocol version adopted) done,
 * as the ChainDB will judge our block. */
static int ticked_ledger(cdl_node *n, uint64_t slot, cdl_ledger **out, cdl_error *err) {
  if (cdl_ledger_fork(cdl_chaindb_ledger(n->db), out) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "forge: out of memory");
  if (cdl_ledger_tick(*out, slot) == CDL_OK) return CDL_OK;
  cdl_ledger_del(*out);
  *out = NULL;
  return cdl_error_set(err, CDL_E_NOMEM, 0, "forge: out of memory");
}

/* The main block for |slot|, judged against |l| (ticked_ledger), signed
 * into n->block with *n_payloads of the mempool's payloads; *signed_
 * false when it may not be. The order: the key may sign, the record
 * allows the slot, the record is advanced (on disk), then the signature. */
static int sign_block(cdl_node *n, const cdl_ledger *l, uint64_t slot, bool *signed_,
                      size_t *n_payloads, cdl_error *err) {
  *signed_ = false;
  if (!may_sign(n, l, slot)) {
    n->st.forge_skipped++;
    return CDL_OK;
  }
  if (!record_allows(n, slot)) return CDL_OK;
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(l, &tip);
  const cdl_forge_versions *v = &n->forger.versions;
  const cdl_byron_protocol_params *pp = cdl_ledger_params(l);
  size_t room =
      pp->max_block_size > NODE_BLOCK_OVERHEAD ? pp->max_block_size - NODE_BLOCK_OVERHEAD : 0;
  if (pick_payloads(n, room, n_payloads) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "forge: out of memory");
  cdl_forge_spec s = {.magic = n->cfg.genesis->protocol_magic,
                      .prev_hash = prev_hash(n, &tip),
                      .block_no = tip.at_genesis ? 0 : tip.block_no + 1,
                      .epoch = slot / n->epoch_slots,
                      .slot_in_epoch = slot % n->epoch_slots,
                      .cert = &n->forger.cert,
                      .delegate = &n->forger.delegate,
                      .block_version = v->has_block_version ? v->block_version
                                                            : cdl_ledger_protocol_version(l),
                      .software_version = v->has_software_version ? &n->app_version : NULL};
  if (!record_advance(n, slot)) return CDL_OK;
  cdl_buf_reset(&n->block);
  CDL_TRY(cdl_forge_block(&s, n->payloads, *n_payloads, &n->block, err));
  *signed_ = true;
  if (n->cfg.on_signed != NULL)
    n->cfg.on_signed(n->cfg.hook_ctx, n->block.data, n->block.len, slot);
  return CDL_OK;
}

static int forge_main(cdl_node *n, uint64_t slot, cdl_error *err) {
  cdl_ledger *ticked;
  CDL_TRY(ticked_ledger(n, slot, &ticked, err));
  bool signed_ = false;
  size_t n_payloads = 0;
  int rc = sign_block(n, ticked, slot, &signed_, &n_payloads, err);
  cdl_ledger_del(ticked); /* a fork must go before its base (the ChainDB's) changes */
  if (rc != CDL_OK || !signed_) return rc;
  /* Said before the block is stored: a process killed while storing it
   * leaves the block on disk, to be served after the restart, and it must
   * not be a block the log never named (the Haskell node traces the
   * forged block before its adoption too). */
  uint64_t no;
  char hash[65];
  describe(n, &no, hash);
  node_log(n, CDL_LOG_INFO, "forge.block", "slot %llu block %llu hash %s: %zu payloads, %zu bytes",
           (unsigned long long)slot, (unsigned long long)no, hash, n_payloads, n->block.len);
  bool adopted;
  CDL_TRY(add_own(n, "block", &adopted, err));
  n->st.forged += adopted;
  return CDL_OK;
}

int node_forge(cdl_node *n, uint64_t slot, cdl_error *err) {
  if (slot % n->cfg.genesis->n_boot_stakeholders != n->forger_key) return CDL_OK;
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(cdl_chaindb_ledger(n->db), &tip);
  bool taken = !tip.at_genesis && tip.slot >= slot && !(tip.is_ebb && tip.slot == slot);
  if (taken) return CDL_OK; /* this slot has its block */
  uint64_t epoch = slot / n->epoch_slots;
  if (tip.at_genesis && epoch > 0) { /* only epoch 0's boundary block follows the genesis */
    CDL_TRY(forge_ebb(n, &tip, 0, err));
    cdl_ledger_get_tip(cdl_chaindb_ledger(n->db), &tip);
  }
  if (tip.at_genesis || tip.slot / n->epoch_slots < epoch) CDL_TRY(forge_ebb(n, &tip, epoch, err));
  return forge_main(n, slot, err);
}
