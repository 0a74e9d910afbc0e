/*
 * delegation.c: heavyweight delegation (docs/byron.md 5.5; cardano-ledger
 * Cardano.Chain.Delegation.Validation.{Scheduling,Activation,Interface}).
 *
 * A certificate in a block at slot s is scheduled for s + 2k; the tick at
 * or after that slot activates it, keeping the delegation map a
 * bijection between genesis keys and delegate keys.
 */
#include <stdlib.h>

#include "internal.h"

int dlg_init(dlg_state *d, size_t n) {
  memset(d, 0, sizeof *d);
  d->n = n;
  d->delegate = calloc(n ? n : 1, sizeof *d->delegate);
  d->has = calloc(n ? n : 1, sizeof *d->has);
  d->last_slot = calloc(n ? n : 1, sizeof *d->last_slot);
  if (!d->delegate || !d->has || !d->last_slot) {
    dlg_free(d);
    return CDL_E_NOMEM;
  }
  return CDL_OK;
}

void dlg_free(dlg_state *d) {
  free(d->delegate);
  free(d->has);
  free(d->last_slot);
  free(d->sched);
  free(d->keys);
  memset(d, 0, sizeof *d);
}

int dlg_copy(dlg_state *dst, const dlg_state *src) {
  CDL_TRY(dlg_init(dst, src->n));
  size_t n = src->n;
  memcpy(dst->delegate, src->delegate, n * sizeof *src->delegate);
  memcpy(dst->has, src->has, n * sizeof *src->has);
  memcpy(dst->last_slot, src->last_slot, n * sizeof *src->last_slot);
  dst->sched = ledger_dup(src->sched, src->n_sched, sizeof *src->sched);
  dst->keys = ledger_dup(src->keys, src->n_keys, sizeof *src->keys);
  if (dst->sched == NULL || dst->keys == NULL) {
    dlg_free(dst);
    return CDL_E_NOMEM;
  }
  dst->n_sched = dst->cap_sched = src->n_sched;
  dst->n_keys = dst->cap_keys = src->n_keys;
  return CDL_OK;
}

int dlg_delegator_of(const dlg_state *d, const uint8_t delegate[28]) {
  for (size_t i = 0; i < d->n; i++)
    if (d->has[i] && memcmp(d->delegate[i], delegate, 28) == 0) return (int)i;
  return -1;
}

/* Activation of one scheduled entry (Activation.hs): skipped when the
 * delegate already serves any genesis key (itself included), or when the
 * delegator's last activation is not older than this one (slot 0, the
 * genesis certificates, always passes). */
static void activate(dlg_state *d, const dlg_scheduled *s) {
  if (dlg_delegator_of(d, s->delegate) >= 0) return;
  if (!(d->last_slot[s->delegator] < s->slot || s->slot == 0)) return;
  memcpy(d->delegate[s->delegator], s->delegate, 28);
  d->has[s->delegator] = true;
  d->last_slot[s->delegator] = s->slot;
}

void dlg_tick(dlg_state *d, uint64_t slot, uint64_t epoch) {
  size_t kept = 0;
  for (size_t i = 0; i < d->n_sched; i++) {
    if (d->sched[i].slot <= slot) activate(d, &d->sched[i]);
    if (d->sched[i].slot >= slot + 1) d->sched[kept++] = d->sched[i];
  }
  d->n_sched = kept;
  kept = 0;
  for (size_t i = 0; i < d->n_keys; i++)
    if (d->keys[i].epoch >= epoch) d->keys[kept++] = d->keys[i];
  d->n_keys = kept;
}

static bool epoch_key_used(const dlg_state *d, uint64_t epoch, uint16_t g) {
  for (size_t i = 0; i < d->n_keys; i++)
    if (d->keys[i].epoch == epoch && d->keys[i].delegator == g) return true;
  return false;
}

static bool slot_used(const dlg_state *d, uint64_t slot, uint16_t g) {
  for (size_t i = 0; i < d->n_sched; i++)
    if (d->sched[i].slot == slot && d->sched[i].delegator == g) return true;
  return false;
}

/* Scheduling.hs: the checks for one certificate, then its schedule entry. */
static int schedule(cdl_ledger *l, const cdl_byron_dlg_cert *c, size_t i, uint64_t slot,
                    uint64_t delay, cdl_rejection *rej) {
  uint64_t epoch = slot / l->epoch_slots;
  uint8_t issuer[28];
  cdl_byron_key_hash(c->issuer_pk, issuer);
  int g = ledger_genesis_index(l, issuer);
  if (g < 0)
    return reject(rej, CDL_RULE_DLG_NON_GENESIS, "certificate %zu's issuer is not a genesis key", i);
  if (c->epoch < epoch || c->epoch > epoch + 1)
    return reject(rej, CDL_RULE_DLG_WRONG_EPOCH, "certificate %zu is for epoch %llu in epoch %llu",
                  i, (unsigned long long)c->epoch, (unsigned long long)epoch);
  if (epoch_key_used(&l->dlg, c->epoch, (uint16_t)g))
    return reject(rej, CDL_RULE_DLG_EPOCH_REPEAT,
                  "certificate %zu: its issuer already delegated for epoch %llu", i,
                  (unsigned long long)c->epoch);
  dlg_scheduled s = {.slot = slot > UINT64_MAX - delay ? UINT64_MAX : slot + delay,
                     .delegator = (uint16_t)g};
  if (slot_used(&l->dlg, s.slot, (uint16_t)g))
    return reject(rej, CDL_RULE_DLG_SLOT_REPEAT,
                  "certificate %zu: its issuer already has a delegation scheduled for that slot", i);
  if (!ledger_cert_ok(l, c))
    return reject(rej, CDL_RULE_DLG_SIGNATURE, "certificate %zu's signature does not verify", i);
  cdl_byron_key_hash(c->delegate_pk, s.delegate);
  dlg_state *d = &l->dlg;
  dlg_scheduled *slot_entry = ledger_push((void **)&d->sched, &d->n_sched, &d->cap_sched,
                                          sizeof *slot_entry);
  if (slot_entry == NULL) return CDL_E_NOMEM;
  *slot_entry = s;
  dlg_epoch_key *key = ledger_push((void **)&d->keys, &d->n_keys, &d->cap_keys, sizeof *key);
  if (key == NULL) return CDL_E_NOMEM;
  *key = (dlg_epoch_key){c->epoch, (uint16_t)g};
  return CDL_OK;
}

int dlg_apply_certs(cdl_ledger *l, const cdl_byron_dlg_cert *certs, size_t n,
                    uint64_t slot, uint64_t delay, cdl_rejection *rej) {
  if (n == 0) return CDL_OK;
  CDL_TRY(ledger_save_dlg(l));
  for (size_t i = 0; i < n; i++) CDL_TRY(schedule(l, &certs[i], i, slot, delay, rej));
  dlg_tick(&l->dlg, slot, slot / l->epoch_slots);
  return CDL_OK;
}
