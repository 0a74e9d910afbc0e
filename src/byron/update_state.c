/*
 * update_state.c: the update interface state as the Byron local-state
 * query GetUpdateInterfaceState answers it (include/cardinal/byron.h "The
 * update interface state"; cardano-ledger
 * Cardano.Chain.Update.Validation.Interface State ToCBOR and, for each
 * part, Registration's ApplicationVersion, ProtocolUpdateProposal and
 * SoftwareUpdateProposal, Endorsement's CandidateProtocolUpdate and
 * Endorsement; cardano-binary's Map (a definite map), Set (tag 258 over a
 * definite array) and list (indefinite array)). Also the adopted
 * ProtocolParameters (cdl_byron_params_encode's 14-element array).
 *
 * The bytes come from a node over a socket: each collection is bounded
 * (CDL_BYRON_UPD_MAX_ITEMS) and grows with the items actually read, never
 * with a count the input claims.
 */
#include <string.h>

#include "internal.h"

typedef int (*entry_reader)(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item);

static int check_count(cdl_cbor_cursor *cur, size_t n, size_t max, const char *what) {
  if (n > max)
    return cdl_cbor_fail(cur, CDL_E_LIMIT, "%s: %zu entries, over %zu", what, n, max);
  return CDL_OK;
}

/* |n| items read by |read| into a new arena array. */
static int read_items(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, size_t n, entry_reader read,
                      size_t item_size, void **items, size_t *count) {
  byron_vec v = {.item_size = item_size};
  for (size_t i = 0; i < n; i++) {
    void *item = byron_vec_push(ctx->arena, &v);
    if (item == NULL)
      return cdl_cbor_fail(cur, CDL_E_NOMEM, "decoder memory bound reached");
    CDL_TRY(read(cur, ctx, item));
  }
  *items = v.items;
  *count = v.count;
  return CDL_OK;
}

static int read_map(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, entry_reader read, size_t item_size,
                    size_t max, void **items, size_t *count, const char *what) {
  size_t n;
  CDL_TRY(cdl_cbor_read_map(cur, &n, what));
  CDL_TRY(check_count(cur, n, max, what));
  return read_items(cur, ctx, n, read, item_size, items, count);
}

/* A Set: tag 258 over a definite array. */
static int read_set(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, entry_reader read, size_t item_size,
                    void **items, size_t *count, const char *what) {
  size_t n;
  CDL_TRY(cdl_cbor_read_tag(cur, 258, what));
  CDL_TRY(cdl_cbor_read_array(cur, &n, what));
  CDL_TRY(check_count(cur, n, CDL_BYRON_UPD_MAX_ITEMS, what));
  return read_items(cur, ctx, n, read, item_size, items, count);
}

static int read_text_name(cdl_cbor_cursor *cur, cdl_span *out, const char *what) {
  CDL_TRY(cdl_cbor_read_text(cur, out, what));
  if (out->len > CDL_BYRON_UPD_MAX_NAME)
    return cdl_cbor_fail(cur, CDL_E_LIMIT, "%s: %zu bytes, over %d", what, out->len,
                         CDL_BYRON_UPD_MAX_NAME);
  return CDL_OK;
}

static int read_up_id(cdl_cbor_cursor *cur, const uint8_t **id) {
  return cdl_cbor_read_bytes_fixed(cur, 32, id, "proposal id");
}

/* A system tag and its InstallerHash, which the reference writes as
 * [H(00), installer, H(00), H(00)] and reads keeping only the second
 * (Update/InstallerHash.hs: enforceSize 4, dropBytes around decCBOR). */
static int read_metadata_entry(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  cdl_byron_upd_metadata *m = item;
  cdl_span dropped;
  CDL_TRY(read_text_name(cur, &m->system_tag, "system tag"));
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "installer hash"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &dropped, "installer hash"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &m->installer, "installer hash"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &dropped, "installer hash"));
  return cdl_cbor_read_bytes(cur, &dropped, "installer hash");
}

static int read_metadata(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_upd_metadata **m,
                         size_t *n) {
  return read_map(cur, ctx, read_metadata_entry, sizeof **m, CDL_BYRON_UPD_MAX_METADATA, (void **)m,
                  n, "metadata");
}

int cdl_byron_params_read(cdl_cbor_cursor *cur, cdl_byron_protocol_params *pp) {
  uint64_t *head[] = {&pp->slot_duration_ms, &pp->max_block_size,    &pp->max_header_size,
                      &pp->max_tx_size,      &pp->max_proposal_size, &pp->mpc_thd,
                      &pp->heavy_del_thd,    &pp->update_vote_thd,   &pp->update_proposal_thd,
                      &pp->update_implicit};
  uint64_t fee_kind;
  cdl_span fee;
  CDL_TRY(cdl_cbor_expect_array(cur, 14, "protocol parameters"));
  CDL_TRY(byron_read_u16(cur, &pp->script_version, "script version"));
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
    CDL_TRY(cdl_cbor_read_uint(cur, head[i], "protocol parameter"));
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "softfork rule"));
  CDL_TRY(cdl_cbor_read_uint(cur, &pp->softfork_init, "softfork init"));
  CDL_TRY(cdl_cbor_read_uint(cur, &pp->softfork_min, "softfork min"));
  CDL_TRY(cdl_cbor_read_uint(cur, &pp->softfork_decrement, "softfork decrement"));
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "fee policy"));
  CDL_TRY(cdl_cbor_read_uint_max(cur, 0, &fee_kind, "fee policy kind (0: size-linear)"));
  CDL_TRY(cdl_cbor_read_tag24(cur, &fee, "fee policy"));
  cdl_cbor_cursor in;
  cdl_cbor_cursor_sub(&in, cur, fee);
  CDL_TRY(cdl_cbor_expect_array(&in, 2, "size-linear fee"));
  CDL_TRY(cdl_cbor_read_uint(&in, &pp->fee_summand_nano, "fee summand"));
  CDL_TRY(cdl_cbor_read_uint(&in, &pp->fee_multiplier_nano, "fee multiplier"));
  CDL_TRY(cdl_cbor_expect_end(&in, "size-linear fee"));
  return cdl_cbor_read_uint(cur, &pp->unlock_stake_epoch, "unlock stake epoch");
}

static int read_candidate(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  cdl_byron_upd_candidate *c = item;
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "candidate protocol update"));
  CDL_TRY(cdl_cbor_read_uint(cur, &c->slot, "candidate slot"));
  CDL_TRY(byron_version_read(cur, &c->pv));
  return cdl_byron_params_read(cur, &c->pp);
}

/* A Haskell list: indefinite as cardano-binary writes it, or definite. */
static int read_candidates(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_update_state *st) {
  size_t n = 0;
  bool indefinite;
  CDL_TRY(cdl_cbor_read_array_any(cur, &n, &indefinite, "candidate protocol updates"));
  if (!indefinite)
    return read_items(cur, ctx, n, read_candidate, sizeof *st->candidates, (void **)&st->candidates,
                      &st->n_candidates);
  byron_vec v = {.item_size = sizeof *st->candidates};
  while (!cdl_cbor_at_break(cur)) {
    CDL_TRY(check_count(cur, v.count + 1, CDL_BYRON_UPD_MAX_ITEMS, "candidate protocol updates"));
    void *item = byron_vec_push(ctx->arena, &v);
    if (item == NULL)
      return cdl_cbor_fail(cur, CDL_E_NOMEM, "decoder memory bound reached");
    CDL_TRY(read_candidate(cur, ctx, item));
  }
  st->candidates = (cdl_byron_upd_candidate *)v.items;
  st->n_candidates = v.count;
  return cdl_cbor_read_break(cur, "candidate protocol updates");
}

static int read_app(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_upd_app *a = item;
  CDL_TRY(read_text_name(cur, &a->name, "application name"));
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "application version"));
  CDL_TRY(byron_read_u32(cur, &a->version, "application version number"));
  CDL_TRY(cdl_cbor_read_uint(cur, &a->slot, "application version slot"));
  return read_metadata(cur, ctx, &a->metadata, &a->n_metadata);
}

static int read_protocol(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  cdl_byron_upd_protocol *p = item;
  CDL_TRY(read_up_id(cur, &p->id));
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "protocol update proposal"));
  CDL_TRY(byron_version_read(cur, &p->pv));
  return cdl_byron_params_read(cur, &p->pp);
}

static int read_software(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_upd_software *s = item;
  CDL_TRY(read_up_id(cur, &s->id));
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "software update proposal"));
  CDL_TRY(byron_software_version_read(cur, &s->sv));
  if (s->sv.app_name.len > CDL_BYRON_UPD_MAX_NAME)
    return cdl_cbor_fail(cur, CDL_E_LIMIT, "application name: %zu bytes", s->sv.app_name.len);
  return read_metadata(cur, ctx, &s->metadata, &s->n_metadata);
}

static int read_slot(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  cdl_byron_upd_slot *s = item;
  CDL_TRY(read_up_id(cur, &s->id));
  return cdl_cbor_read_uint(cur, &s->slot, "slot");
}

static int read_key_hash(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  return cdl_cbor_read_bytes_fixed(cur, 28, (const uint8_t **)item, "key hash");
}

static int read_votes(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_upd_votes *v = item;
  CDL_TRY(read_up_id(cur, &v->id));
  return read_set(cur, ctx, read_key_hash, sizeof *v->voters, (void **)&v->voters, &v->n_voters,
                  "voters");
}

static int read_endorsement(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  (void)ctx;
  cdl_byron_upd_endorsement *e = item;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "endorsement"));
  CDL_TRY(byron_version_read(cur, &e->pv));
  return cdl_cbor_read_bytes_fixed(cur, 28, &e->key_hash, "endorsement key hash");
}

static int read_collections(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_update_state *st) {
  const size_t max = CDL_BYRON_UPD_MAX_ITEMS;
  CDL_TRY(read_candidates(cur, ctx, st));
  CDL_TRY(read_map(cur, ctx, read_app, sizeof *st->apps, max, (void **)&st->apps, &st->n_apps,
                   "application versions"));
  CDL_TRY(read_map(cur, ctx, read_protocol, sizeof *st->protocol, max, (void **)&st->protocol,
                   &st->n_protocol, "protocol update proposals"));
  CDL_TRY(read_map(cur, ctx, read_software, sizeof *st->software, max, (void **)&st->software,
                   &st->n_software, "software update proposals"));
  CDL_TRY(read_map(cur, ctx, read_slot, sizeof *st->confirmed, max, (void **)&st->confirmed,
                   &st->n_confirmed, "confirmed proposals"));
  CDL_TRY(read_map(cur, ctx, read_votes, sizeof *st->votes, max, (void **)&st->votes, &st->n_votes,
                   "proposal votes"));
  CDL_TRY(read_set(cur, ctx, read_endorsement, sizeof *st->endorsements, (void **)&st->endorsements,
                   &st->n_endorsements, "endorsements"));
  return read_map(cur, ctx, read_slot, sizeof *st->registered, max, (void **)&st->registered,
                  &st->n_registered, "proposal registration slots");
}

int cdl_byron_update_state_decode(const uint8_t *p, size_t n, cdl_byron_ctx *ctx,
                                  cdl_byron_update_state *st) {
  memset(st, 0, sizeof *st);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, p, n, ctx->err);
  CDL_TRY(cdl_cbor_expect_array(&cur, 11, "update state"));
  CDL_TRY(cdl_cbor_read_uint(&cur, &st->epoch, "epoch"));
  CDL_TRY(byron_version_read(&cur, &st->adopted_pv));
  CDL_TRY(cdl_byron_params_read(&cur, &st->adopted_pp));
  CDL_TRY(read_collections(&cur, ctx, st));
  return cdl_cbor_expect_end(&cur, "update state");
}
