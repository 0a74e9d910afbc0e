/*
 * inspect.c: read-only views of the ledger state (tip, totals, protocol
 * parameters, delegation, UTxO, update bookkeeping) and the signature
 * precheck that may run on any thread before a block is applied.
 */
#include "internal.h"

void cdl_ledger_get_tip(const cdl_ledger *l, cdl_ledger_tip *tip) { *tip = l->tip; }

void cdl_ledger_get_totals(const cdl_ledger *l, cdl_ledger_totals *t) {
  *t = l->totals;
  t->utxo_entries = utxo_visible_count(&l->utxo);
  t->utxo_lovelace = utxo_visible_lovelace(&l->utxo);
}

unsigned cdl_ledger_flags(const cdl_ledger *l) { return l->cfg.flags; }

uint64_t cdl_ledger_epoch(const cdl_ledger *l) { return l->last_slot / l->epoch_slots; }

const cdl_byron_protocol_params *cdl_ledger_params(const cdl_ledger *l) {
  return &l->upd.adopted_pp;
}

cdl_byron_version cdl_ledger_protocol_version(const cdl_ledger *l) { return l->upd.adopted_pv; }

bool cdl_ledger_delegate_of(const cdl_ledger *l, const uint8_t genesis_key[28],
                            uint8_t delegate[28]) {
  int g = ledger_genesis_index(l, genesis_key);
  if (g < 0 || !l->dlg.has[g]) return false;
  memcpy(delegate, l->dlg.delegate[g], 28);
  return true;
}

bool cdl_ledger_pbft_may_sign(const cdl_ledger *l, const uint8_t genesis_key[28]) {
  int g = ledger_genesis_index(l, genesis_key);
  return g >= 0 && pbft_count_after(&l->pbft, (uint16_t)g) <= l->pbft_threshold;
}

bool cdl_ledger_utxo_get(const cdl_ledger *l, const uint8_t tx_id[32], uint32_t index,
                         uint64_t *lovelace) {
  const utxo_entry *e = utxo_find(&l->utxo, tx_id, index, NULL);
  if (e == NULL) return false;
  *lovelace = e->lovelace;
  return true;
}

bool cdl_ledger_app_version(const cdl_ledger *l, const char *app_name, uint32_t *version) {
  const upd_app *app =
      upd_find_app(&l->upd, cdl_span_of((const uint8_t *)app_name, strlen(app_name)));
  if (app == NULL) return false;
  *version = app->version;
  return true;
}

void cdl_ledger_update_view_get(const cdl_ledger *l, cdl_ledger_update_view *v) {
  *v = (cdl_ledger_update_view){.registered = l->upd.n_props, .candidates = l->upd.n_cands,
                                .endorsements = l->upd.n_ends};
  for (size_t i = 0; i < l->upd.n_props; i++) v->confirmed += l->upd.props[i].confirmed;
}

static int8_t verdict(bool ok) { return ok ? 1 : -1; }
/* Out of memory is no verdict: the memo stays unknown and the ledger
 * checks the signature itself when it applies the block. */
static int8_t checked(int rc) { return rc == CDL_OK ? 1 : rc == CDL_E_NOMEM ? 0 : -1; }

void cdl_ledger_precheck_signatures(cdl_byron_block *blk, uint32_t magic, cdl_witness_cache *cache) {
  if (blk->is_ebb) return;
  blk->header.memo = checked(cdl_byron_header_signature_check(&blk->header, magic));
  cdl_byron_body *b = &blk->body;
  for (size_t t = 0; t < b->n_txs; t++) {
    cdl_byron_txaux *tx = &b->txs[t];
    for (size_t w = 0; w < tx->n_witnesses; w++)
      tx->witnesses[w].memo =
          verdict(cdl_witness_verify_cached(cache, &tx->witnesses[w], tx->tx.id, magic));
  }
  for (size_t i = 0; i < b->n_certs; i++)
    b->certs[i].memo = verdict(cdl_byron_dlg_cert_verify(&b->certs[i], magic));
  if (b->proposal != NULL) b->proposal->memo = checked(cdl_byron_proposal_check(b->proposal, magic));
  for (size_t i = 0; i < b->n_votes; i++)
    b->votes[i].memo = verdict(cdl_byron_vote_verify(&b->votes[i], magic));
}
