/*
 * update_epoch.c: the update state's lifetime (docs/byron.md 5.6.3,
 * 5.6.4; cardano-ledger Cardano.Chain.Update.Validation.{Endorsement,
 * Interface}, Interface/ProtocolVersionBump.hs): endorsements that make a
 * confirmed proposal a candidate, pruning of expired proposals, and the
 * adoption of a stable candidate when an epoch begins.
 */
#include <stdlib.h>

#include "internal.h"

void upd_init(upd_state *u, const cdl_byron_protocol_params *pp) {
  memset(u, 0, sizeof *u);
  u->adopted_pp = *pp;
}

static void free_props_meta(upd_state *u) {
  for (size_t i = 0; i < u->n_props; i++) upd_meta_free(&u->props[i].meta);
}

void upd_free(upd_state *u) {
  free_props_meta(u);
  for (size_t i = 0; i < u->n_apps; i++) upd_meta_free(&u->apps[i].meta);
  free(u->props);
  free(u->apps);
  free(u->cands);
  free(u->ends);
  memset(u, 0, sizeof *u);
}

/* The metadata of dst's proposals and applications, copied from src's:
 * dst's arrays were copied bytewise, so their metadata still points at
 * src's until each is replaced by its own copy. */
static int copy_metadata(upd_state *dst, const upd_state *src) {
  for (size_t i = 0; i < dst->n_props; i++) dst->props[i].meta = (upd_metadata){0};
  for (size_t i = 0; i < dst->n_apps; i++) dst->apps[i].meta = (upd_metadata){0};
  int rc = CDL_OK;
  for (size_t i = 0; i < src->n_props && rc == CDL_OK; i++)
    rc = upd_meta_copy(&dst->props[i].meta, &src->props[i].meta);
  for (size_t i = 0; i < src->n_apps && rc == CDL_OK; i++)
    rc = upd_meta_copy(&dst->apps[i].meta, &src->apps[i].meta);
  return rc;
}

int upd_copy(upd_state *dst, const upd_state *src) {
  *dst = *src;
  dst->props = ledger_dup(src->props, src->n_props, sizeof *src->props);
  dst->apps = ledger_dup(src->apps, src->n_apps, sizeof *src->apps);
  dst->cands = ledger_dup(src->cands, src->n_cands, sizeof *src->cands);
  dst->ends = ledger_dup(src->ends, src->n_ends, sizeof *src->ends);
  dst->cap_props = src->n_props;
  dst->cap_apps = src->n_apps;
  dst->cap_cands = src->n_cands;
  dst->cap_ends = src->n_ends;
  if (!dst->props || !dst->apps || !dst->cands || !dst->ends) {
    dst->n_props = dst->n_apps = 0; /* nothing of src's to free */
    upd_free(dst);
    return CDL_E_NOMEM;
  }
  if (copy_metadata(dst, src) != CDL_OK) {
    upd_free(dst);
    return CDL_E_NOMEM;
  }
  return CDL_OK;
}

uint32_t upd_threshold(const cdl_ledger *l) {
  /* Exact: floor(minThd / 1e15 * n). */
  unsigned __int128 num = (unsigned __int128)l->upd.adopted_pp.softfork_min * l->n_genesis;
  return (uint32_t)(num / CDL_BYRON_PORTION_DENOMINATOR);
}

static bool endorsed(const upd_state *u, cdl_byron_version pv, uint16_t g) {
  for (size_t i = 0; i < u->n_ends; i++)
    if (u->ends[i].genesis == g && ver_eq(u->ends[i].pv, pv)) return true;
  return false;
}

static size_t endorsement_count(const upd_state *u, cdl_byron_version pv) {
  size_t n = 0;
  for (size_t i = 0; i < u->n_ends; i++) n += ver_eq(u->ends[i].pv, pv);
  return n;
}

static int push_candidate(upd_state *u, const upd_proposal *r, uint64_t slot) {
  if (u->n_cands > 0 && !ver_less(u->cands[u->n_cands - 1].pv, r->pv)) return CDL_OK;
  upd_candidate *c = ledger_push((void **)&u->cands, &u->n_cands, &u->cap_cands, sizeof *c);
  if (c == NULL) return CDL_E_NOMEM;
  *c = (upd_candidate){slot, r->pv, r->pp};
  return CDL_OK;
}

int upd_endorse(cdl_ledger *l, cdl_byron_version pv, const uint8_t signer[64],
                uint64_t slot, cdl_rejection *rej) {
  upd_state *u = &l->upd;
  const upd_proposal *match = NULL;
  for (size_t i = 0; i < u->n_props; i++) {
    if (!u->props[i].has_protocol || !ver_eq(u->props[i].pv, pv)) continue;
    if (match != NULL)
      return reject(rej, CDL_RULE_UPD_ENDORSEMENT, "two registered proposals for version %u.%u.%u",
                    pv.major, pv.minor, pv.alt);
    match = &u->props[i];
  }
  /* Only a proposal confirmed 2k slots ago can be endorsed. */
  if (match == NULL || !match->confirmed || match->confirm_slot + 2 * l->cfg.k > slot)
    return CDL_OK;
  uint8_t hash[28];
  cdl_byron_key_hash(signer, hash);
  int g = dlg_delegator_of(&l->dlg, hash);
  if (g >= 0 && !endorsed(u, pv, (uint16_t)g)) {
    upd_endorsement *e = ledger_push((void **)&u->ends, &u->n_ends, &u->cap_ends, sizeof *e);
    if (e == NULL) return CDL_E_NOMEM;
    *e = (upd_endorsement){pv, (uint16_t)g};
  }
  if (endorsement_count(u, pv) >= upd_threshold(l)) return push_candidate(u, match, slot);
  return CDL_OK;
}

static bool pv_registered(const upd_state *u, cdl_byron_version pv) {
  for (size_t i = 0; i < u->n_props; i++)
    if (u->props[i].has_protocol && ver_eq(u->props[i].pv, pv)) return true;
  return false;
}

void upd_prune(upd_state *u, uint64_t slot) {
  uint64_t ttl = u->adopted_pp.update_implicit;
  size_t kept = 0;
  for (size_t i = 0; i < u->n_props; i++) {
    const upd_proposal *r = &u->props[i];
    bool live = r->reg_slot > UINT64_MAX - ttl || slot <= r->reg_slot + ttl;
    if (live || r->confirmed) u->props[kept++] = *r;
    else upd_meta_free(&u->props[i].meta);
  }
  u->n_props = kept;
  kept = 0;
  for (size_t i = 0; i < u->n_ends; i++)
    if (pv_registered(u, u->ends[i].pv)) u->ends[kept++] = u->ends[i];
  u->n_ends = kept;
}

void upd_register_epoch(upd_state *u, uint64_t first_slot, uint64_t k) {
  /* The newest candidate that has been stable for 4k slots. */
  const upd_candidate *stable = NULL;
  for (size_t i = u->n_cands; i-- > 0 && stable == NULL;)
    if (u->cands[i].slot + 4 * k <= first_slot) stable = &u->cands[i];
  if (stable == NULL || ver_eq(stable->pv, u->adopted_pv)) return;
  u->adopted_pv = stable->pv;
  u->adopted_pp = stable->pp;
  free_props_meta(u);
  u->n_cands = u->n_props = u->n_ends = 0;
}
