/*
 * update.c: registering update proposals and votes (docs/byron.md 5.6.1,
 * 5.6.2; cardano-ledger Cardano.Chain.Update.Validation.{Registration,
 * Voting}). Endorsements, pruning and adoption are in update_epoch.c.
 */
#include <stdlib.h>

#include "internal.h"

/* pvCanFollow: newer, and either the next minor or the next major at 0. */
static bool pv_can_follow(cdl_byron_version next, cdl_byron_version adopted) {
  if (!ver_less(adopted, next)) return false;
  if (next.major == adopted.major) return next.minor == adopted.minor + 1;
  if (next.major == adopted.major + 1) return next.minor == 0;
  return false;
}

upd_proposal *upd_find(upd_state *u, const uint8_t id[32]) {
  for (size_t i = 0; i < u->n_props; i++)
    if (memcmp(u->props[i].id, id, 32) == 0) return &u->props[i];
  return NULL;
}

static bool is_ascii(cdl_span s) {
  for (size_t i = 0; i < s.len; i++)
    if (s.ptr[i] >= 0x80) return false;
  return true;
}

/* Text length in characters (the decoder has checked the UTF-8). */
static size_t char_count(cdl_span s) {
  size_t n = 0;
  for (size_t i = 0; i < s.len; i++) n += (s.ptr[i] & 0xc0) != 0x80;
  return n;
}

/* canUpdate: limits on the new parameters (checked only when the
 * protocol part changes). */
static int check_params(const cdl_ledger *l, const cdl_byron_proposal *p,
                        const cdl_byron_protocol_params *next, cdl_rejection *rej) {
  const cdl_byron_protocol_params *cur = &l->upd.adopted_pp;
  if (p->raw.len > cur->max_proposal_size)
    return reject(rej, CDL_RULE_UPD_PROPOSAL_SIZE, "proposal of %zu bytes exceeds %llu",
                  p->raw.len, (unsigned long long)cur->max_proposal_size);
  if (cur->max_block_size > UINT64_MAX / 2 ? false : next->max_block_size > 2 * cur->max_block_size)
    return reject(rej, CDL_RULE_UPD_BLOCK_SIZE, "maxBlockSize %llu is over twice %llu",
                  (unsigned long long)next->max_block_size, (unsigned long long)cur->max_block_size);
  if (next->max_tx_size >= next->max_block_size)
    return reject(rej, CDL_RULE_UPD_TX_SIZE, "maxTxSize %llu is not below maxBlockSize %llu",
                  (unsigned long long)next->max_tx_size, (unsigned long long)next->max_block_size);
  uint16_t step = (uint16_t)(next->script_version - cur->script_version);
  if (step > 1)
    return reject(rej, CDL_RULE_UPD_SCRIPT_VERSION, "script version %u cannot follow %u",
                  next->script_version, cur->script_version);
  return CDL_OK;
}

static int check_protocol_part(const cdl_ledger *l, const cdl_byron_proposal *p,
                               const cdl_byron_protocol_params *next, cdl_rejection *rej) {
  for (size_t i = 0; i < l->upd.n_props; i++)
    if (l->upd.props[i].has_protocol && ver_eq(l->upd.props[i].pv, p->block_version))
      return reject(rej, CDL_RULE_UPD_DUPLICATE_VERSION,
                    "a proposal for protocol version %u.%u.%u is already registered",
                    p->block_version.major, p->block_version.minor, p->block_version.alt);
  cdl_byron_version cur = l->upd.adopted_pv;
  if (!pv_can_follow(p->block_version, cur))
    return reject(rej, CDL_RULE_UPD_VERSION_CANNOT_FOLLOW,
                  "protocol version %u.%u.%u cannot follow %u.%u.%u", p->block_version.major,
                  p->block_version.minor, p->block_version.alt, cur.major, cur.minor, cur.alt);
  return check_params(l, p, next, rej);
}

static int check_software_part(const cdl_ledger *l, const cdl_byron_proposal *p,
                               cdl_rejection *rej) {
  for (size_t i = 0; i < p->n_metadata; i++) {
    cdl_span tag = p->metadata[i].system_tag;
    if (char_count(tag) > 10 || !is_ascii(tag))
      return reject(rej, CDL_RULE_UPD_SYSTEM_TAG, "system tag %zu is not ASCII of at most 10", i);
  }
  cdl_span name = p->software_version.app_name;
  for (size_t i = 0; i < l->upd.n_props; i++) {
    const upd_proposal *r = &l->upd.props[i];
    if (r->has_software && upd_name_is(&r->app, name))
      return reject(rej, CDL_RULE_UPD_DUPLICATE_SOFTWARE,
                    "a software proposal for this application is already registered");
  }
  if (char_count(name) > 12 || !is_ascii(name))
    return reject(rej, CDL_RULE_UPD_APP_NAME, "application name is not ASCII of at most 12");
  const upd_app *app = upd_find_app(&l->upd, name);
  uint32_t v = p->software_version.number;
  bool follows = app ? app->version != UINT32_MAX && v == app->version + 1 : v <= 1;
  if (!follows)
    return reject(rej, CDL_RULE_UPD_SOFTWARE_CANNOT_FOLLOW, "software version %u cannot follow %s",
                  v, app ? "the current one" : "a new application (0 or 1)");
  return CDL_OK;
}

static bool software_changed(const cdl_ledger *l, const cdl_byron_proposal *p) {
  const upd_app *app = upd_find_app(&l->upd, p->software_version.app_name);
  return app == NULL || app->version != p->software_version.number;
}

static int register_proposal(cdl_ledger *l, const cdl_byron_proposal *p, uint64_t slot,
                             cdl_rejection *rej) {
  uint8_t issuer[28];
  cdl_byron_key_hash(p->issuer, issuer);
  if (dlg_delegator_of(&l->dlg, issuer) < 0)
    return reject(rej, CDL_RULE_UPD_PROPOSER, "the proposal's issuer is not a genesis delegate");
  int rc = ledger_proposal_check(l, p);
  if (rc == CDL_E_NOMEM) return rc;
  if (rc != CDL_OK)
    return reject(rej, CDL_RULE_UPD_PROPOSAL_SIGNATURE, "the proposal's signature does not verify");
  cdl_byron_protocol_params next = l->upd.adopted_pp;
  params_apply(&next, &p->params);
  bool pv_changed = !ver_eq(p->block_version, l->upd.adopted_pv) ||
                    !params_equal(&next, &l->upd.adopted_pp);
  bool sv_changed = software_changed(l, p);
  bool exempt = l->cfg.protocol_magic == 633343913u && (slot == 969188 || slot == 1915231);
  if (!pv_changed && !sv_changed && !exempt)
    return reject(rej, CDL_RULE_UPD_NULL, "the proposal changes neither protocol nor software");
  if (pv_changed) CDL_TRY(check_protocol_part(l, p, &next, rej));
  if (sv_changed) CDL_TRY(check_software_part(l, p, rej));
  upd_proposal *r = upd_find(&l->upd, p->id);
  if (r == NULL) {
    r = ledger_push((void **)&l->upd.props, &l->upd.n_props, &l->upd.cap_props, sizeof *r);
    if (r == NULL) return CDL_E_NOMEM;
    memcpy(r->id, p->id, 32);
  }
  if (pv_changed) {
    r->has_protocol = true;
    r->pv = p->block_version;
    r->pp = next;
  }
  if (sv_changed) {
    /* The name is ASCII of at most 12 (check_software_part). */
    cdl_span name = p->software_version.app_name;
    upd_meta_free(&r->meta);
    CDL_TRY(upd_meta_of(&r->meta, p));
    r->has_software = true;
    r->app.len = (uint8_t)name.len;
    memcpy(r->app.bytes, name.ptr, name.len);
    r->app_version = p->software_version.number;
  }
  r->reg_slot = slot;
  return CDL_OK;
}

static int register_vote(cdl_ledger *l, const cdl_byron_vote *v, size_t i, uint64_t slot,
                         cdl_rejection *rej) {
  upd_proposal *r = upd_find(&l->upd, v->proposal_id);
  if (r == NULL)
    return reject(rej, CDL_RULE_UPD_VOTE_UNKNOWN, "vote %zu is for an unregistered proposal", i);
  uint8_t voter[28];
  cdl_byron_key_hash(v->voter, voter);
  int g = dlg_delegator_of(&l->dlg, voter);
  if (g < 0) return reject(rej, CDL_RULE_UPD_VOTER, "vote %zu's voter is not a genesis delegate", i);
  if (r->voters[g / 8] & (1u << (g % 8)))
    return reject(rej, CDL_RULE_UPD_VOTE_REPEAT, "vote %zu: that genesis key already voted", i);
  if (!ledger_vote_ok(l, v))
    return reject(rej, CDL_RULE_UPD_VOTE_SIGNATURE, "vote %zu's signature does not verify", i);
  r->voters[g / 8] |= (uint8_t)(1u << (g % 8));
  r->n_voters++;
  if (r->n_voters >= upd_threshold(l) && !r->confirmed) {
    r->confirmed = true;
    r->confirm_slot = slot;
  }
  return CDL_OK;
}

/* Confirmed software proposals become the applications' versions, with
 * their metadata (registerVotes). */
static int adopt_software(cdl_ledger *l, uint64_t slot) {
  for (size_t i = 0; i < l->upd.n_props; i++) {
    upd_proposal *r = &l->upd.props[i];
    if (!r->has_software || !r->confirmed) continue;
    CDL_TRY(upd_set_app(&l->upd, &r->app, r->app_version, slot, &r->meta));
    r->has_software = false;
  }
  return CDL_OK;
}

int upd_register(cdl_ledger *l, const cdl_byron_proposal *p, const cdl_byron_vote *votes,
                 size_t n_votes, uint64_t slot, cdl_rejection *rej) {
  if (p != NULL || n_votes > 0) CDL_TRY(ledger_save_upd(l));
  if (p != NULL) CDL_TRY(register_proposal(l, p, slot, rej));
  for (size_t i = 0; i < n_votes; i++) CDL_TRY(register_vote(l, &votes[i], i, slot, rej));
  return CDL_OK;
}

int upd_apply(cdl_ledger *l, const cdl_byron_proposal *p, const cdl_byron_vote *votes,
              size_t n_votes, cdl_byron_version block_version, const uint8_t signer[64],
              uint64_t slot, cdl_rejection *rej) {
  /* Most blocks change nothing here; copy the state only when they may. */
  if (p != NULL || n_votes > 0 || l->upd.n_props > 0 || l->upd.n_ends > 0)
    CDL_TRY(ledger_save_upd(l));
  if (p != NULL) CDL_TRY(register_proposal(l, p, slot, rej));
  for (size_t i = 0; i < n_votes; i++) CDL_TRY(register_vote(l, &votes[i], i, slot, rej));
  CDL_TRY(adopt_software(l, slot));
  CDL_TRY(upd_endorse(l, block_version, signer, slot, rej));
  upd_prune(&l->upd, slot);
  return CDL_OK;
}
