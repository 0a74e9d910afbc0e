/*
 * cmd_query_update.c: `query protocol-parameters` and `query
 * update-state` (docs/cli.md "query"): the Byron update interface state a
 * node answers to GetUpdateInterfaceState (decoded by
 * cdl_byron_update_state_decode; cardano-ledger
 * Cardano.Chain.Update.Validation.Interface), in readable JSON, with
 * the next adoption worked out from it as the ledger would (docs/byron.md
 * 5.6.3, 5.6.4; src/ledger/update_epoch.c): a proposal is confirmed by
 * floor(minThd x genesis keys) votes, endorsable 2k slots later, a
 * candidate once as many delegates endorse its version, and adopted at
 * the first epoch boundary 4k slots or more after that.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "node_query.h"

#define PORTION 1e15 /* thresholds are kept in 10^-15 */
#define NANO 1e9     /* fee policy coefficients, in 10^-9 lovelace */

json_t *cli_version_json(cdl_byron_version v) {
  char text[24];
  snprintf(text, sizeof text, "%u.%u.%u", v.major, v.minor, v.alt);
  return json_string(text);
}

json_t *cli_params_json(const cdl_byron_protocol_params *pp) {
  return json_pack(
      "{s:i, s:o, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:f, s:o, s:{s:f, s:f, s:f}, "
      "s:{s:o, s:f, s:o, s:o}, s:o}",
      "scriptVersion", (int)pp->script_version, "slotDuration", cdl_json_u64(pp->slot_duration_ms),
      "maxBlockSize", cdl_json_u64(pp->max_block_size), "maxHeaderSize",
      cdl_json_u64(pp->max_header_size), "maxTxSize", cdl_json_u64(pp->max_tx_size),
      "maxProposalSize", cdl_json_u64(pp->max_proposal_size), "mpcThd", pp->mpc_thd / PORTION,
      "heavyDelThd", pp->heavy_del_thd / PORTION, "updateVoteThd", pp->update_vote_thd / PORTION,
      "updateProposalThd", pp->update_proposal_thd / PORTION, "updateImplicit",
      cdl_json_u64(pp->update_implicit), "softforkRule", "initThd", pp->softfork_init / PORTION,
      "minThd", pp->softfork_min / PORTION, "thdDecrement", pp->softfork_decrement / PORTION,
      "txFeePolicy", "summand", cdl_json_u64(cdl_ledger_min_fee(pp, 0)), "multiplier",
      pp->fee_multiplier_nano / NANO, "summand_nano", cdl_json_u64(pp->fee_summand_nano),
      "multiplier_nano", cdl_json_u64(pp->fee_multiplier_nano), "unlockStakeEpoch",
      cdl_json_u64(pp->unlock_stake_epoch));
}

/* The parameters of |pp| that differ from |adopted|. */
static json_t *changes_json(const cdl_byron_protocol_params *adopted,
                            const cdl_byron_protocol_params *pp) {
  json_t *was = cli_params_json(adopted), *now = cli_params_json(pp), *diff = json_object();
  const char *key;
  json_t *value;
  json_object_foreach(now, key, value) {
    if (!json_equal(value, json_object_get(was, key)))
      json_object_set(diff, key, value);
  }
  json_decref(was);
  json_decref(now);
  return diff;
}

static json_t *text_json(cdl_span t) { return json_stringn((const char *)t.ptr, t.len); }

static json_t *metadata_json(const cdl_byron_upd_metadata *m, size_t n) {
  json_t *o = json_object();
  for (size_t i = 0; i < n; i++) {
    char tag[CDL_BYRON_UPD_MAX_NAME + 1];
    snprintf(tag, sizeof tag, "%.*s", (int)m[i].system_tag.len, (const char *)m[i].system_tag.ptr);
    json_object_set_new(o, tag, cdl_json_hex(m[i].installer, 32));
  }
  return o;
}

/* {id hex: slot} */
static json_t *slots_json(const cdl_byron_upd_slot *s, size_t n) {
  json_t *o = json_object();
  for (size_t i = 0; i < n; i++) {
    char id[65];
    cdl_hex_encode(s[i].id, 32, id);
    json_object_set_new(o, id, cdl_json_u64(s[i].slot));
  }
  return o;
}

static json_t *votes_json(const cdl_byron_upd_votes *v, size_t n) {
  json_t *o = json_object();
  for (size_t i = 0; i < n; i++) {
    char id[65];
    cdl_hex_encode(v[i].id, 32, id);
    json_t *voters = json_array();
    for (size_t j = 0; j < v[i].n_voters; j++)
      json_array_append_new(voters, cdl_json_hex(v[i].voters[j], 28));
    json_object_set_new(o, id, voters);
  }
  return o;
}

static json_t *proposals_json(const cdl_byron_update_state *st) {
  json_t *a = json_array();
  for (size_t i = 0; i < st->n_protocol; i++) {
    const cdl_byron_upd_protocol *p = &st->protocol[i];
    json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}", "id", cdl_json_hex(p->id, 32),
                                       "protocol_version", cli_version_json(p->pv), "parameters",
                                       cli_params_json(&p->pp), "changes",
                                       changes_json(&st->adopted_pp, &p->pp)));
  }
  return a;
}

static json_t *software_json(const cdl_byron_update_state *st) {
  json_t *a = json_array();
  for (size_t i = 0; i < st->n_software; i++) {
    const cdl_byron_upd_software *s = &st->software[i];
    json_array_append_new(a, json_pack("{s:o, s:o, s:I, s:o}", "id", cdl_json_hex(s->id, 32),
                                       "application", text_json(s->sv.app_name), "version",
                                       (json_int_t)s->sv.number, "metadata",
                                       metadata_json(s->metadata, s->n_metadata)));
  }
  return a;
}

static json_t *apps_json(const cdl_byron_update_state *st) {
  json_t *a = json_array();
  for (size_t i = 0; i < st->n_apps; i++) {
    const cdl_byron_upd_app *p = &st->apps[i];
    json_array_append_new(a,
                          json_pack("{s:o, s:I, s:o, s:o}", "name", text_json(p->name), "version",
                                    (json_int_t)p->version, "slot", cdl_json_u64(p->slot),
                                    "metadata", metadata_json(p->metadata, p->n_metadata)));
  }
  return a;
}

static json_t *candidates_json(const cdl_byron_update_state *st) {
  json_t *a = json_array();
  for (size_t i = 0; i < st->n_candidates; i++) {
    const cdl_byron_upd_candidate *c = &st->candidates[i];
    json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}", "slot", cdl_json_u64(c->slot),
                                       "protocol_version", cli_version_json(c->pv), "parameters",
                                       cli_params_json(&c->pp), "changes",
                                       changes_json(&st->adopted_pp, &c->pp)));
  }
  return a;
}

static json_t *endorsements_json(const cdl_byron_update_state *st) {
  json_t *a = json_array();
  for (size_t i = 0; i < st->n_endorsements; i++)
    json_array_append_new(a, json_pack("{s:o, s:o}", "protocol_version",
                                       cli_version_json(st->endorsements[i].pv), "key_hash",
                                       cdl_json_hex(st->endorsements[i].key_hash, 28)));
  return a;
}

/* ---- The next adoption ---- */

static bool same_version(cdl_byron_version a, cdl_byron_version b) {
  return a.major == b.major && a.minor == b.minor && a.alt == b.alt;
}

static bool version_below(cdl_byron_version a, cdl_byron_version b) {
  if (a.major != b.major)
    return a.major < b.major;
  if (a.minor != b.minor)
    return a.minor < b.minor;
  return a.alt < b.alt;
}

static size_t endorsements_of(const cdl_byron_update_state *st, cdl_byron_version pv) {
  size_t n = 0;
  for (size_t i = 0; i < st->n_endorsements; i++)
    n += same_version(st->endorsements[i].pv, pv);
  return n;
}

static const cdl_byron_upd_slot *find_slot(const cdl_byron_upd_slot *s, size_t n,
                                           const uint8_t id[32]) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(s[i].id, id, 32) == 0)
      return &s[i];
  return NULL;
}

static size_t votes_for(const cdl_byron_update_state *st, const uint8_t id[32]) {
  for (size_t i = 0; i < st->n_votes; i++)
    if (memcmp(st->votes[i].id, id, 32) == 0)
      return st->votes[i].n_voters;
  return 0;
}

/* The registered proposal for |pv|, if any. */
static const cdl_byron_upd_protocol *proposal_of(const cdl_byron_update_state *st,
                                                 cdl_byron_version pv) {
  for (size_t i = 0; i < st->n_protocol; i++)
    if (same_version(st->protocol[i].pv, pv))
      return &st->protocol[i];
  return NULL;
}

/* The first epoch whose first slot is 4k slots or more after |slot|, and
 * after the current one (adoption happens as an epoch begins). */
static json_t *adoption_epoch(const cdl_byron_update_state *st, const cdl_lsq_chain_constants *c,
                              uint64_t slot) {
  if (c == NULL)
    return json_null();
  uint64_t epoch = (slot + 4 * c->k + c->epoch_slots - 1) / c->epoch_slots;
  return cdl_json_u64(epoch > st->epoch ? epoch : st->epoch + 1);
}

/* A proposal still being voted on or endorsed: a confirmed one first, the
 * highest version among equals. */
static const cdl_byron_upd_protocol *pending_proposal(const cdl_byron_update_state *st) {
  const cdl_byron_upd_protocol *best = NULL;
  bool best_confirmed = false;
  for (size_t i = 0; i < st->n_protocol; i++) {
    const cdl_byron_upd_protocol *p = &st->protocol[i];
    bool confirmed = find_slot(st->confirmed, st->n_confirmed, p->id) != NULL;
    if (best == NULL || (confirmed && !best_confirmed) ||
        (confirmed == best_confirmed && version_below(best->pv, p->pv)))
      best = p, best_confirmed = confirmed;
  }
  return best;
}

/* |needed| is borrowed. */
static json_t *pending_json(const cdl_byron_update_state *st, const cdl_lsq_chain_constants *c,
                            json_t *needed) {
  const cdl_byron_upd_protocol *p = pending_proposal(st);
  if (p == NULL)
    return json_null();
  const cdl_byron_upd_slot *confirmed = find_slot(st->confirmed, st->n_confirmed, p->id);
  json_t *from = confirmed && c ? cdl_json_u64(confirmed->slot + 2 * c->k) : json_null();
  return json_pack(
      "{s:o, s:o, s:s, s:I, s:O, s:o, s:I, s:O, s:o, s:o, s:o}", "protocol_version",
      cli_version_json(p->pv), "proposal_id", cdl_json_hex(p->id, 32), "state",
      confirmed ? "confirmed" : "voting", "votes", (json_int_t)votes_for(st, p->id), "votes_needed",
      needed, "confirmed_slot", confirmed ? cdl_json_u64(confirmed->slot) : json_null(),
      "endorsements", (json_int_t)endorsements_of(st, p->pv), "needed", needed,
      "endorsable_from_slot", from, "epoch", json_null(), "earliest_epoch",
      confirmed ? adoption_epoch(st, c, confirmed->slot + 2 * (c ? c->k : 0)) : json_null());
}

/* The candidate to be adopted next (the highest version), or the proposal
 * on its way to becoming one; null when nothing is pending. */
static json_t *next_adoption_json(const cdl_byron_update_state *st,
                                  const cdl_lsq_chain_constants *c) {
  unsigned __int128 thd =
      (unsigned __int128)st->adopted_pp.softfork_min * (c ? c->genesis_keys : 0);
  json_t *needed = c ? cdl_json_u64((uint64_t)(thd / 1000000000000000ull)) : json_null();
  const cdl_byron_upd_candidate *cand = NULL;
  for (size_t i = 0; i < st->n_candidates; i++)
    if (cand == NULL || version_below(cand->pv, st->candidates[i].pv))
      cand = &st->candidates[i];
  json_t *out;
  if (cand == NULL) {
    out = pending_json(st, c, needed);
  } else {
    const cdl_byron_upd_protocol *p = proposal_of(st, cand->pv);
    json_t *epoch = adoption_epoch(st, c, cand->slot);
    json_t *first = json_is_integer(epoch)
                        ? cdl_json_u64((uint64_t)json_integer_value(epoch) * c->epoch_slots)
                        : json_null();
    out = json_pack("{s:o, s:o, s:s, s:o, s:I, s:O, s:o, s:o}", "protocol_version",
                    cli_version_json(cand->pv), "proposal_id",
                    p ? cdl_json_hex(p->id, 32) : json_null(), "state", "candidate",
                    "candidate_slot", cdl_json_u64(cand->slot), "endorsements",
                    (json_int_t)endorsements_of(st, cand->pv), "needed", needed, "epoch", epoch,
                    "first_slot", first);
  }
  json_decref(needed);
  return out;
}

static json_t *update_state_json(const cdl_byron_update_state *st,
                                 const cdl_lsq_chain_constants *known) {
  return json_pack(
      "{s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "epoch",
      cdl_json_u64(st->epoch), "adopted", "protocol_version", cli_version_json(st->adopted_pv),
      "parameters", cli_params_json(&st->adopted_pp), "candidates", candidates_json(st),
      "application_versions", apps_json(st), "protocol_proposals", proposals_json(st),
      "software_proposals", software_json(st), "confirmed_proposals",
      slots_json(st->confirmed, st->n_confirmed), "votes", votes_json(st->votes, st->n_votes),
      "endorsements", endorsements_json(st), "registration_slots",
      slots_json(st->registered, st->n_registered), "next_adoption", next_adoption_json(st, known));
}

static json_t *parameters_json(const cdl_byron_update_state *st,
                               const cdl_lsq_chain_constants *known) {
  (void)known;
  return json_pack("{s:o, s:o, s:o}", "epoch", cdl_json_u64(st->epoch), "protocol_version",
                   cli_version_json(st->adopted_pv), "parameters",
                   cli_params_json(&st->adopted_pp));
}

typedef json_t *(*state_view)(const cdl_byron_update_state *st,
                              const cdl_lsq_chain_constants *known);

/* A query command over the node's update state: its options, the state
 * (and with |constants| the chain's constants, which only add thresholds
 * and epochs: a node that does not know Cardinal's queries still shows
 * its state, |known| then NULL), printed as |view| makes it. */
static int show_update_state(const struct argp *ap, int argc, char **argv, bool constants,
                             state_view view) {
  cli_command o;
  int code = cli_command_parse(ap, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  cdl_arena arena;
  cdl_arena_init(&arena, 64u << 20);
  cdl_buf raw;
  cdl_buf_init(&raw, 0);
  cdl_byron_update_state st;
  cdl_lsq_chain_constants c = {0};
  cdl_error err = {0};
  cli_session s;
  int rc = cli_session_open(&o.node, &s, &err);
  if (rc == CDL_OK)
    rc = cli_session_update_state(&s, &arena, &raw, &st, &err);
  int crc = rc == CDL_OK && constants ? cli_session_constants(&s, &c, &err) : rc;
  if (crc == CLI_E_NOT_CARDINAL)
    crc = CDL_OK, c.k = 0;
  cli_session_close(&s);
  if (rc != CDL_OK || crc != CDL_OK)
    code = cli_report_node(&err);
  else
    code = cli_print(view(&st, c.k ? &c : NULL), false);
  cdl_buf_free(&raw);
  cdl_arena_free(&arena);
  return code;
}

static const struct argp UPDATE_STATE = {
    NULL, cli_command_option, NULL,
    "The node's whole update state (proposals, votes, endorsements, candidates, application "
    "versions) and the next adoption worked out from it as the ledger would.\v"
    "Example:\n  cardinal-cli query update-state --socket-path net/node-3/node.socket",
    CLI_NODE_CHILDREN, NULL, NULL};
static const struct argp PARAMETERS = {
    NULL, cli_command_option, NULL,
    "The adopted protocol version and the 17 protocol parameters, by cardano-ledger's names.\v"
    "Example:\n  cardinal-cli query protocol-parameters --socket-path net/node-3/node.socket",
    CLI_NODE_CHILDREN, NULL, NULL};

int query_update_state(int argc, char **argv) {
  return show_update_state(&UPDATE_STATE, argc, argv, true, update_state_json);
}

int query_protocol_parameters(int argc, char **argv) {
  return show_update_state(&PARAMETERS, argc, argv, false, parameters_json);
}
