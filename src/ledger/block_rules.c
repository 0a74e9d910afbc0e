/*
 * block_rules.c: judging one block (docs/byron.md 5.2-5.4, 5.7 and 6), in
 * the order the reference node runs its checks:
 *   tick (epoch transition, delegation activation) at the block's slot;
 *   envelope (ouroboros-consensus validateEnvelope): block number, slot,
 *     previous hash; then the header's protocol magic;
 *   PBFT (main blocks): signature, signer a current genesis delegate,
 *     the signer's share of the last k blocks;
 *   ledger: header size, block size, body proofs, delegation payload,
 *     transactions, update payload (cardano-ledger validateBlock), or for
 *     an EBB only its size (validateBoundary).
 * Everything runs in one transaction: a rejection restores the state.
 */
#include "internal.h"

#define EBB_MAX_BYTES 2000000 /* fixed in cardano-ledger, not a parameter */

/* The block number and earliest slot the next block may have. */
static int check_envelope(cdl_ledger *l, const cdl_byron_block *blk, uint64_t slot,
                          cdl_rejection *rej) {
  const cdl_ledger_tip *tip = &l->tip;
  uint64_t no = cdl_byron_block_number(blk), want_no, min_slot;
  if (tip->at_genesis) {
    want_no = 0;
    min_slot = 0;
  } else {
    want_no = blk->is_ebb && !tip->is_ebb ? tip->block_no : tip->block_no + 1;
    min_slot = tip->is_ebb && !blk->is_ebb ? tip->slot : tip->slot + 1;
  }
  if (no != want_no)
    return reject(rej, CDL_RULE_BLOCK_NUMBER, "block number %llu where %llu was expected",
                  (unsigned long long)no, (unsigned long long)want_no);
  if (slot < min_slot)
    return reject(rej, CDL_RULE_SLOT_ORDER, "slot %llu where at least %llu was expected",
                  (unsigned long long)slot, (unsigned long long)min_slot);
  /* Only an EBB of epoch 0, or one with the genesis tag, names the
   * genesis (the reference decodes its previous hash as the genesis hash,
   * Block/Header.hs decCBORABoundaryHeader); every other block names a
   * block. */
  bool names_genesis = cdl_byron_block_follows_genesis(blk);
  if (names_genesis != tip->at_genesis ||
      memcmp(cdl_byron_block_prev_hash(blk), tip->hash, 32) != 0)
    return reject(rej, CDL_RULE_PREV_HASH, "the previous hash is not the %s",
                  tip->at_genesis ? "genesis hash" : "tip's hash");
  return CDL_OK;
}

/* PBFT header validation (ouroboros-consensus Protocol/PBFT.hs); returns
 * the signing genesis key's index in |g|. */
static int check_pbft(cdl_ledger *l, const cdl_byron_header *h, uint16_t *g,
                      cdl_rejection *rej) {
  int rc = ledger_header_check(l, h);
  if (rc == CDL_E_NOMEM) return rc;
  if (rc != CDL_OK)
    return reject(rej, CDL_RULE_PBFT_SIGNATURE, "the block signature does not verify");
  uint8_t delegate[28];
  cdl_byron_key_hash(h->cert.delegate_pk, delegate);
  int who = dlg_delegator_of(&l->dlg, delegate);
  if (who < 0)
    return reject(rej, CDL_RULE_PBFT_NOT_DELEGATE,
                  "the signing key is not the delegate of any genesis key");
  *g = (uint16_t)who;
  uint32_t count = pbft_count_after(&l->pbft, *g);
  if (count > l->pbft_threshold)
    return reject(rej, CDL_RULE_PBFT_THRESHOLD,
                  "genesis key %d would sign %u of the last %llu blocks (limit %u)", who, count,
                  (unsigned long long)l->cfg.k, l->pbft_threshold);
  return CDL_OK;
}

static int check_sizes(const cdl_ledger *l, const cdl_byron_block *blk, cdl_rejection *rej) {
  const cdl_byron_protocol_params *pp = &l->upd.adopted_pp;
  if (blk->header.raw.len > pp->max_header_size)
    return reject(rej, CDL_RULE_HEADER_SIZE, "header of %zu bytes exceeds maxHeaderSize %llu",
                  blk->header.raw.len, (unsigned long long)pp->max_header_size);
  if (blk->raw.len > pp->max_block_size)
    return reject(rej, CDL_RULE_BLOCK_SIZE, "block of %zu bytes exceeds maxBlockSize %llu",
                  blk->raw.len, (unsigned long long)pp->max_block_size);
  return CDL_OK;
}

static int check_body(cdl_ledger *l, const cdl_byron_block *blk, uint64_t slot,
                      cdl_rejection *rej) {
  const cdl_byron_body *b = &blk->body;
  cdl_error err = {0};
  bool proofs = !(l->cfg.flags & CDL_LEDGER_NO_BODY_PROOFS);
  if (proofs && cdl_byron_block_check_body_proof(blk, CDL_BYRON_PROOFS_LEDGER, NULL, &err) != CDL_OK)
    return reject(rej, CDL_RULE_BODY_PROOF, "%s", err.message);
  CDL_TRY(dlg_apply_certs(l, b->certs, b->n_certs, slot, 2 * l->cfg.k, rej));
  for (size_t i = 0; i < b->n_txs; i++) CDL_TRY(tx_apply(l, &b->txs[i], rej));
  return upd_apply(l, b->proposal, b->votes, b->n_votes, blk->header.block_version,
                   blk->header.cert.delegate_pk, slot, rej);
}

static int apply_main(cdl_ledger *l, const cdl_byron_block *blk, uint64_t slot,
                      cdl_rejection *rej) {
  CDL_TRY(check_envelope(l, blk, slot, rej));
  if (blk->header.protocol_magic != l->cfg.protocol_magic)
    return reject(rej, CDL_RULE_PROTOCOL_MAGIC, "protocol magic %u in a network of %u",
                  blk->header.protocol_magic, l->cfg.protocol_magic);
  uint16_t g = 0;
  CDL_TRY(check_pbft(l, &blk->header, &g, rej));
  CDL_TRY(check_sizes(l, blk, rej));
  CDL_TRY(pbft_reserve(&l->pbft)); /* before the body changes anything */
  CDL_TRY(check_body(l, blk, slot, rej));
  pbft_push(&l->pbft, g, slot);
  return CDL_OK;
}

static int apply_ebb(cdl_ledger *l, const cdl_byron_block *blk, uint64_t slot,
                     cdl_rejection *rej) {
  CDL_TRY(check_envelope(l, blk, slot, rej));
  if (blk->raw.len > EBB_MAX_BYTES)
    return reject(rej, CDL_RULE_BLOCK_SIZE, "EBB of %zu bytes exceeds %d", blk->raw.len,
                  EBB_MAX_BYTES);
  return CDL_OK;
}

static void set_tip(cdl_ledger *l, const cdl_byron_block *blk, uint64_t slot) {
  l->tip = (cdl_ledger_tip){.at_genesis = false, .slot = slot,
                            .block_no = cdl_byron_block_number(blk), .is_ebb = blk->is_ebb};
  memcpy(l->tip.hash, cdl_byron_block_hash(blk), 32);
  l->last_slot = slot;
  l->totals.blocks++;
  l->totals.ebbs += blk->is_ebb;
}

static void name_block(cdl_rejection *rej, const cdl_byron_block *blk, uint64_t slot) {
  if (rej == NULL) return;
  rej->has_block = true;
  rej->block_no = cdl_byron_block_number(blk);
  rej->slot = slot;
  memcpy(rej->hash, cdl_byron_block_hash(blk), 32);
}

int cdl_ledger_apply_block(cdl_ledger *l, const cdl_byron_block *blk, cdl_rejection *rej) {
  if (rej != NULL) memset(rej, 0, sizeof *rej);
  uint64_t slot;
  if (cdl_byron_block_slot(blk, l->epoch_slots, &slot) != CDL_OK) {
    name_block(rej, blk, UINT64_MAX);
    return reject(rej, CDL_RULE_SLOT_ORDER, "the block's slot is beyond 2^64");
  }
  ledger_begin(l);
  uint64_t held = utxo_visible_lovelace(&l->utxo) + l->totals.fees_lovelace;
  int rc = ledger_tick(l, slot);
  if (rc == CDL_OK) rc = blk->is_ebb ? apply_ebb(l, blk, slot, rej) : apply_main(l, blk, slot, rej);
  if (rc != CDL_OK) {
    ledger_rollback(l);
    CDL_ASSERT(l->utxo.n_journal == 0 && !l->dlg_saved && !l->upd_saved);
    name_block(rej, blk, slot);
    return rc;
  }
  /* Byron has no rewards or deposits: UTxO lovelace plus fees paid is
   * the genesis total, block after block. */
  CDL_ASSERT(utxo_visible_lovelace(&l->utxo) + l->totals.fees_lovelace == held);
  set_tip(l, blk, slot);
  ledger_commit(l);
  return CDL_OK;
}

/* ---- The parts, each in its own transaction ---- */

static int finish(cdl_ledger *l, int rc) {
  if (rc == CDL_OK) ledger_commit(l);
  else ledger_rollback(l);
  return rc;
}

int cdl_ledger_tick(cdl_ledger *l, uint64_t slot) {
  ledger_begin(l);
  int rc = ledger_tick(l, slot);
  if (rc == CDL_OK && slot > l->last_slot) l->last_slot = slot;
  return finish(l, rc);
}

int cdl_ledger_apply_certificates(cdl_ledger *l, const cdl_byron_dlg_cert *certs,
                                  size_t n, uint64_t slot, cdl_rejection *rej) {
  if (rej != NULL) memset(rej, 0, sizeof *rej);
  ledger_begin(l);
  return finish(l, dlg_apply_certs(l, certs, n, slot, 2 * l->cfg.k, rej));
}

int cdl_ledger_apply_tx(cdl_ledger *l, const cdl_byron_txaux *tx, cdl_rejection *rej) {
  if (rej != NULL) memset(rej, 0, sizeof *rej);
  ledger_begin(l);
  return finish(l, tx_apply(l, tx, rej));
}

int cdl_ledger_register_update(cdl_ledger *l, const cdl_byron_proposal *proposal,
                               const cdl_byron_vote *votes, size_t n_votes, uint64_t slot,
                               cdl_rejection *rej) {
  if (rej != NULL) memset(rej, 0, sizeof *rej);
  ledger_begin(l);
  return finish(l, upd_register(l, proposal, votes, n_votes, slot, rej));
}

int cdl_ledger_apply_update(cdl_ledger *l, const cdl_byron_proposal *proposal,
                            const cdl_byron_vote *votes, size_t n_votes,
                            cdl_byron_version block_version,
                            const uint8_t signer_delegate_pk[64], uint64_t slot,
                            cdl_rejection *rej) {
  if (rej != NULL) memset(rej, 0, sizeof *rej);
  ledger_begin(l);
  return finish(l, upd_apply(l, proposal, votes, n_votes, block_version, signer_delegate_pk,
                             slot, rej));
}
