/*
 * ledger.c: the ledger's life cycle (docs/byron.md 4.2 and 5.2): the
 * state at genesis, the chain tick, per-block transactions (a rejected
 * block leaves no trace), inspection, and the signature checks that honour
 * precomputed verdicts and CDL_LEDGER_NO_SIGNATURES.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

void *ledger_dup(const void *src, size_t count, size_t size) {
  void *p = malloc(count ? count * size : 1);
  if (p != NULL && count) memcpy(p, src, count * size);
  return p;
}

void *ledger_push(void **items, size_t *n, size_t *cap, size_t size) {
  if (*n == *cap) {
    size_t next = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, next * size);
    if (p == NULL) return NULL;
    *items = p;
    *cap = next;
  }
  void *item = (uint8_t *)*items + (*n)++ * size;
  memset(item, 0, size);
  return item;
}

int reject(cdl_rejection *rej, const char *rule, const char *fmt, ...) {
  if (rej != NULL && rej->rule == NULL) {
    rej->rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rej->detail, sizeof rej->detail, fmt, ap);
    va_end(ap);
  }
  return CDL_E_REJECTED;
}

void reject_tx(cdl_rejection *rej, const uint8_t tx_id[32]) {
  if (rej == NULL || rej->has_tx) return;
  rej->has_tx = true;
  memcpy(rej->tx_id, tx_id, 32);
}

void reject_input(cdl_rejection *rej, const uint8_t tx_id[32], uint32_t index) {
  if (rej == NULL || rej->has_input) return;
  rej->has_input = true;
  memcpy(rej->input_tx_id, tx_id, 32);
  rej->input_index = index;
}

int ledger_genesis_index(const cdl_ledger *l, const uint8_t hash[28]) {
  for (size_t i = 0; i < l->n_genesis; i++)
    if (memcmp(l->genesis_keys[i], hash, 28) == 0) return (int)i;
  return -1;
}

/* ---- Genesis (4.2) ---- */

static int genesis_delegation(cdl_ledger *l, const cdl_byron_genesis *g, cdl_error *err) {
  for (size_t i = 0; i < l->n_genesis; i++) { /* the identity map */
    memcpy(l->dlg.delegate[i], l->genesis_keys[i], 28);
    l->dlg.has[i] = true;
  }
  cdl_byron_dlg_cert *certs = calloc(g->n_delegations ? g->n_delegations : 1, sizeof *certs);
  if (certs == NULL) return CDL_E_NOMEM;
  for (size_t i = 0; i < g->n_delegations; i++) {
    const cdl_byron_genesis_delegation *d = &g->delegations[i];
    certs[i] = (cdl_byron_dlg_cert){.epoch = d->omega,
                                    .issuer_pk = d->issuer_pk,
                                    .delegate_pk = d->delegate_pk,
                                    .signature = d->signature,
                                    .memo = 1 /* checked by cdl_byron_genesis_load */};
  }
  cdl_rejection rej = {0};
  int rc = dlg_apply_certs(l, certs, g->n_delegations, 0, 0, &rej);
  free(certs);
  if (rc == CDL_E_REJECTED)
    return cdl_error_set(err, CDL_E_GENESIS, 0, "genesis delegation: %s: %s", rej.rule, rej.detail);
  return rc;
}

static int genesis_utxo(cdl_ledger *l, const cdl_byron_genesis *g, cdl_error *err) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_utxo_entry *entries = NULL;
  size_t n = 0;
  int rc = cdl_byron_genesis_utxo(g, l->cfg.requires_magic, &arena, &entries, &n, err);
  cdl_byron_ctx ctx = {&arena, err, 0};
  for (size_t i = 0; rc == CDL_OK && i < n; i++) {
    cdl_byron_address addr;
    rc = cdl_byron_address_decode(entries[i].address.ptr, entries[i].address.len, &ctx, &addr);
    if (rc == CDL_OK) rc = utxo_insert(&l->utxo, entries[i].tx_id, 0, &addr, entries[i].lovelace);
    if (rc == CDL_E_USAGE) rc = cdl_error_set(err, CDL_E_GENESIS, 0, "duplicate genesis output");
  }
  utxo_commit(&l->utxo);
  cdl_arena_free(&arena);
  return rc;
}

int ledger_configure(cdl_ledger *l, const cdl_ledger_config *cfg, cdl_error *err) {
  if (cfg->k == 0 || cfg->k > CDL_BYRON_MAX_K)
    return cdl_error_set(err, CDL_E_GENESIS, 0,
                         "security parameter k %llu out of range (1 to %u, docs/genesis.md)",
                         (unsigned long long)cfg->k, CDL_BYRON_MAX_K);
  l->cfg = *cfg;
  l->epoch_slots = cdl_byron_epoch_slots(cfg->k);
  double t = cfg->pbft_threshold > 0 ? cfg->pbft_threshold : 0.22;
  l->pbft_threshold = (uint32_t)floor(t * (double)cfg->k);
  return CDL_OK;
}

static int ledger_init(cdl_ledger *l, const cdl_byron_genesis *g, const cdl_ledger_config *cfg,
                       cdl_error *err) {
  if (g->n_boot_stakeholders == 0 || g->n_boot_stakeholders > CDL_LEDGER_MAX_GENESIS_KEYS)
    return cdl_error_set(err, CDL_E_GENESIS, 0, "the ledger takes 1 to %d genesis keys, not %zu",
                         CDL_LEDGER_MAX_GENESIS_KEYS, g->n_boot_stakeholders);
  CDL_TRY(ledger_configure(l, cfg, err));
  l->n_genesis = g->n_boot_stakeholders;
  l->genesis_keys = ledger_dup(g->boot_stakeholders, l->n_genesis, 28);
  if (l->genesis_keys == NULL) return CDL_E_NOMEM;
  memcpy(l->genesis_hash, g->hash, 32);
  l->tip.at_genesis = true;
  memcpy(l->tip.hash, g->hash, 32);
  CDL_TRY(utxo_init(&l->utxo));
  CDL_TRY(dlg_init(&l->dlg, l->n_genesis));
  upd_init(&l->upd, &g->params);
  CDL_TRY(pbft_init(&l->pbft, l->cfg.k, l->n_genesis));
  CDL_TRY(genesis_delegation(l, g, err));
  ledger_commit(l);
  return genesis_utxo(l, g, err);
}

int cdl_ledger_new(const cdl_byron_genesis *g, const cdl_ledger_config *cfg, cdl_ledger **out,
                   cdl_error *err) {
  cdl_ledger *l = calloc(1, sizeof *l);
  if (l == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory for the ledger");
  int rc = ledger_init(l, g, cfg, err);
  if (rc != CDL_OK) {
    if (rc == CDL_E_NOMEM) cdl_error_set(err, rc, 0, "out of memory building the ledger");
    cdl_ledger_del(l);
    return rc;
  }
  *out = l;
  return CDL_OK;
}

/* ---- Forks ---- */

static int fork_init(cdl_ledger *f, const cdl_ledger *base) {
  f->cfg = base->cfg;
  f->epoch_slots = base->epoch_slots;
  f->pbft_threshold = base->pbft_threshold;
  memcpy(f->genesis_hash, base->genesis_hash, 32);
  f->n_genesis = base->n_genesis;
  f->genesis_keys = ledger_dup(base->genesis_keys, base->n_genesis, 28);
  if (f->genesis_keys == NULL) return CDL_E_NOMEM;
  f->tip = base->tip;
  f->last_slot = base->last_slot;
  f->epoch = base->epoch;
  f->totals = base->totals;
  CDL_TRY(utxo_init_fork(&f->utxo, &base->utxo));
  CDL_TRY(dlg_copy(&f->dlg, &base->dlg));
  CDL_TRY(upd_copy(&f->upd, &base->upd));
  return pbft_copy(&f->pbft, &base->pbft, base->n_genesis);
}

int cdl_ledger_fork(const cdl_ledger *base, cdl_ledger **out) {
  CDL_ASSERT(base->utxo.n_journal == 0 && !base->dlg_saved && !base->upd_saved);
  cdl_ledger *f = calloc(1, sizeof *f);
  if (f == NULL) return CDL_E_NOMEM;
  int rc = fork_init(f, base);
  if (rc != CDL_OK) {
    cdl_ledger_del(f);
    return rc;
  }
  *out = f;
  return CDL_OK;
}

bool cdl_ledger_fork_current(const cdl_ledger *fork, const cdl_ledger *base) {
  return fork->utxo.base == &base->utxo && base->utxo.generation == fork->utxo.base_generation;
}

void cdl_ledger_del(cdl_ledger *l) {
  if (l == NULL) return;
  ledger_commit(l);
  utxo_free(&l->utxo);
  dlg_free(&l->dlg);
  upd_free(&l->upd);
  pbft_free(&l->pbft);
  free(l->genesis_keys);
  free(l);
}

/* ---- Per-block transactions ---- */

int ledger_save_dlg(cdl_ledger *l) {
  if (l->dlg_saved) return CDL_OK;
  CDL_TRY(dlg_copy(&l->dlg_backup, &l->dlg));
  l->dlg_saved = true;
  return CDL_OK;
}

int ledger_save_upd(cdl_ledger *l) {
  if (l->upd_saved) return CDL_OK;
  CDL_TRY(upd_copy(&l->upd_backup, &l->upd));
  l->upd_saved = true;
  return CDL_OK;
}

void ledger_begin(cdl_ledger *l) {
  l->saved_last_slot = l->last_slot;
  l->saved_totals = l->totals;
}

void ledger_commit(cdl_ledger *l) {
  utxo_commit(&l->utxo);
  if (l->dlg_saved) dlg_free(&l->dlg_backup);
  if (l->upd_saved) upd_free(&l->upd_backup);
  l->dlg_saved = l->upd_saved = false;
}

void ledger_rollback(cdl_ledger *l) {
  utxo_rollback(&l->utxo);
  if (l->dlg_saved) {
    dlg_free(&l->dlg);
    l->dlg = l->dlg_backup;
  }
  if (l->upd_saved) {
    upd_free(&l->upd);
    l->upd = l->upd_backup;
  }
  l->dlg_saved = l->upd_saved = false;
  l->last_slot = l->saved_last_slot;
  l->totals = l->saved_totals;
}

/* Whether a delegation tick at |slot| would change anything. */
static bool dlg_tick_due(const dlg_state *d, uint64_t slot, uint64_t epoch) {
  for (size_t i = 0; i < d->n_sched; i++)
    if (d->sched[i].slot <= slot) return true;
  for (size_t i = 0; i < d->n_keys; i++)
    if (d->keys[i].epoch < epoch) return true;
  return false;
}

int ledger_tick(cdl_ledger *l, uint64_t slot) {
  uint64_t epoch = slot / l->epoch_slots;
  if (epoch > l->last_slot / l->epoch_slots && l->upd.n_cands > 0) {
    CDL_TRY(ledger_save_upd(l));
    upd_register_epoch(&l->upd, epoch * l->epoch_slots, l->cfg.k);
  }
  if (dlg_tick_due(&l->dlg, slot, epoch)) {
    CDL_TRY(ledger_save_dlg(l));
    dlg_tick(&l->dlg, slot, epoch);
  }
  return CDL_OK;
}

/* ---- Signature checks ---- */

bool ledger_checks_signatures(const cdl_ledger *l) {
  return !(l->cfg.flags & CDL_LEDGER_NO_SIGNATURES);
}

bool ledger_witness_ok(const cdl_ledger *l, const cdl_byron_witness *w, const uint8_t tx_id[32]) {
  if (!ledger_checks_signatures(l)) return true;
  if (w->memo != 0) return w->memo > 0;
  return cdl_witness_verify_cached(l->cfg.witness_cache, w, tx_id, l->cfg.protocol_magic);
}

bool ledger_cert_ok(const cdl_ledger *l, const cdl_byron_dlg_cert *c) {
  if (!ledger_checks_signatures(l)) return true;
  if (c->memo != 0) return c->memo > 0;
  return cdl_byron_dlg_cert_verify(c, l->cfg.protocol_magic);
}

int ledger_proposal_check(const cdl_ledger *l, const cdl_byron_proposal *p) {
  if (!ledger_checks_signatures(l)) return CDL_OK;
  if (p->memo != 0) return p->memo > 0 ? CDL_OK : CDL_E_SIGNATURE;
  return cdl_byron_proposal_check(p, l->cfg.protocol_magic);
}

bool ledger_vote_ok(const cdl_ledger *l, const cdl_byron_vote *v) {
  if (!ledger_checks_signatures(l)) return true;
  if (v->memo != 0) return v->memo > 0;
  return cdl_byron_vote_verify(v, l->cfg.protocol_magic);
}

int ledger_header_check(const cdl_ledger *l, const cdl_byron_header *h) {
  if (!ledger_checks_signatures(l)) return CDL_OK;
  if (h->memo != 0) return h->memo > 0 ? CDL_OK : CDL_E_SIGNATURE;
  return cdl_byron_header_signature_check(h, l->cfg.protocol_magic);
}
