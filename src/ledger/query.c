/*
 * query.c: the ledger's answer to the Byron local-state query
 * GetUpdateInterfaceState (include/cardinal/ledger.h "Queries";
 * docs/network.md "Local state query"), byte for byte as cardano-ledger's
 * Cardano.Chain.Update.Validation.Interface.State ToCBOR writes it:
 *
 *   [epoch, adoptedVersion, adoptedParameters,
 *    candidates        indefinite list, newest first, of [slot, version, params],
 *    appVersions       {name => [version, slot, metadata]},
 *    protocolProposals {upId => [version, params]},
 *    softwareProposals {upId => [[name, version], metadata]},
 *    confirmed         {upId => slot},
 *    votes             {upId => 258([keyHash...])},
 *    endorsements      258([[version, keyHash]...]),
 *    registrationSlots {upId => slot}]
 *
 * Maps are definite with keys in ascending order, sets tag 258 over a
 * definite array in ascending order (cardano-binary's Map and Set, and
 * cardano-ledger-binary's at the Byron version); the list is indefinite.
 * metadata = {systemTag => InstallerHash}, an InstallerHash written as
 * [H(00), hash, H(00), H(00)] (Update/InstallerHash.hs: the reference
 * keeps only the installer hash and writes Blake2b-256 of one zero byte
 * for the other three). The key hashes of voters and endorsers are the
 * genesis (delegator) keys', which the ledger holds by index. The golden
 * of the empty state is ouroboros-consensus byron/QueryVersion3/
 * ByronNodeToClientVersion1/Result.
 */
#include <stdlib.h>

#include "internal.h"

/* ---- Orders ---- */

static int by_id(const void *a, const void *b) {
  return memcmp((*(const upd_proposal *const *)a)->id, (*(const upd_proposal *const *)b)->id, 32);
}

static int by_key_hash(const void *a, const void *b) { return memcmp(a, b, 28); }

/* An endorsement as the reference orders its set: version, then key. */
typedef struct endorsement_key {
  cdl_byron_version pv;
  uint8_t key[28];
} endorsement_key;

static int by_endorsement(const void *a, const void *b) {
  const endorsement_key *x = a, *y = b;
  if (!ver_eq(x->pv, y->pv)) return ver_less(x->pv, y->pv) ? -1 : 1;
  return memcmp(x->key, y->key, 28);
}

/* ---- Parts ---- */

static void enc_name(cdl_buf *b, const upd_name *n) {
  cdl_cbor_enc_text(b, (const uint8_t *)n->bytes, n->len);
}

static void enc_metadata(cdl_buf *b, const upd_metadata *m, const uint8_t empty[32]) {
  cdl_cbor_enc_map(b, m->count);
  for (size_t i = 0; i < m->count; i++) {
    cdl_cbor_enc_text(b, (const uint8_t *)m->items[i].tag, m->items[i].tag_len);
    cdl_cbor_enc_array(b, 4);
    cdl_cbor_enc_bytes(b, empty, 32);
    cdl_cbor_enc_bytes(b, m->items[i].hash, 32);
    cdl_cbor_enc_bytes(b, empty, 32);
    cdl_cbor_enc_bytes(b, empty, 32);
  }
}

static void enc_candidates(cdl_buf *b, const upd_state *u) {
  cdl_cbor_enc_indef_array(b);
  for (size_t i = u->n_cands; i-- > 0;) { /* the ledger keeps them oldest first */
    cdl_cbor_enc_array(b, 3);
    cdl_cbor_enc_uint(b, u->cands[i].slot);
    cdl_byron_version_encode(b, &u->cands[i].pv);
    cdl_byron_params_encode(b, &u->cands[i].pp);
  }
  cdl_cbor_enc_break(b);
}

static void enc_apps(cdl_buf *b, const upd_state *u, const uint8_t empty[32]) {
  cdl_cbor_enc_map(b, u->n_apps); /* kept in name order */
  for (size_t i = 0; i < u->n_apps; i++) {
    enc_name(b, &u->apps[i].name);
    cdl_cbor_enc_array(b, 3);
    cdl_cbor_enc_uint(b, u->apps[i].version);
    cdl_cbor_enc_uint(b, u->apps[i].slot);
    enc_metadata(b, &u->apps[i].meta, empty);
  }
}

/* A proposal's voters as the set of their genesis keys' hashes. */
static void enc_voters(cdl_buf *b, const cdl_ledger *l, const upd_proposal *p) {
  uint8_t keys[CDL_LEDGER_MAX_GENESIS_KEYS][28];
  size_t n = 0;
  for (size_t g = 0; g < l->n_genesis; g++)
    if (p->voters[g / 8] & (1u << (g % 8))) memcpy(keys[n++], l->genesis_keys[g], 28);
  qsort(keys, n, 28, by_key_hash);
  cdl_cbor_enc_tag(b, 258);
  cdl_cbor_enc_array(b, n);
  for (size_t i = 0; i < n; i++) cdl_cbor_enc_bytes(b, keys[i], 28);
}

/* The five maps keyed by proposal id: what each holds of a proposal. */
enum { BY_ID_PROTOCOL, BY_ID_SOFTWARE, BY_ID_CONFIRMED, BY_ID_VOTES, BY_ID_REGISTERED };

static bool in_map(const upd_proposal *p, int map) {
  switch (map) {
    case BY_ID_PROTOCOL: return p->has_protocol;
    case BY_ID_SOFTWARE: return p->has_software;
    case BY_ID_CONFIRMED: return p->confirmed;
    case BY_ID_VOTES: return p->n_voters > 0; /* only a voted proposal has a set */
    default: return true;
  }
}

static void enc_value(cdl_buf *b, const cdl_ledger *l, const upd_proposal *p, int map,
                      const uint8_t empty[32]) {
  switch (map) {
    case BY_ID_PROTOCOL:
      cdl_cbor_enc_array(b, 2);
      cdl_byron_version_encode(b, &p->pv);
      cdl_byron_params_encode(b, &p->pp);
      break;
    case BY_ID_SOFTWARE:
      cdl_cbor_enc_array(b, 2);
      cdl_cbor_enc_array(b, 2); /* SoftwareVersion [name, number] */
      enc_name(b, &p->app);
      cdl_cbor_enc_uint(b, p->app_version);
      enc_metadata(b, &p->meta, empty);
      break;
    case BY_ID_CONFIRMED: cdl_cbor_enc_uint(b, p->confirm_slot); break;
    case BY_ID_VOTES: enc_voters(b, l, p); break;
    default: cdl_cbor_enc_uint(b, p->reg_slot);
  }
}

/* One of the maps over the proposals, which are in id order. */
static void enc_by_id(cdl_buf *b, const cdl_ledger *l, const upd_proposal *const *p, size_t n,
                      int map, const uint8_t empty[32]) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++) count += in_map(p[i], map);
  cdl_cbor_enc_map(b, count);
  for (size_t i = 0; i < n; i++) {
    if (!in_map(p[i], map)) continue;
    cdl_cbor_enc_bytes(b, p[i]->id, 32);
    enc_value(b, l, p[i], map, empty);
  }
}

static int enc_endorsements(cdl_buf *b, const cdl_ledger *l) {
  const upd_state *u = &l->upd;
  endorsement_key *e = malloc((u->n_ends ? u->n_ends : 1) * sizeof *e);
  if (e == NULL) return CDL_E_NOMEM;
  for (size_t i = 0; i < u->n_ends; i++) {
    e[i].pv = u->ends[i].pv;
    memcpy(e[i].key, l->genesis_keys[u->ends[i].genesis], 28);
  }
  qsort(e, u->n_ends, sizeof *e, by_endorsement);
  cdl_cbor_enc_tag(b, 258);
  cdl_cbor_enc_array(b, u->n_ends);
  for (size_t i = 0; i < u->n_ends; i++) {
    cdl_cbor_enc_array(b, 2);
    cdl_byron_version_encode(b, &e[i].pv);
    cdl_cbor_enc_bytes(b, e[i].key, 28);
  }
  free(e);
  return CDL_OK;
}

int cdl_ledger_encode_update_state(const cdl_ledger *l, cdl_buf *b, cdl_error *err) {
  const upd_state *u = &l->upd;
  const upd_proposal **sorted = malloc((u->n_props ? u->n_props : 1) * sizeof *sorted);
  if (sorted == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "update state: out of memory");
  for (size_t i = 0; i < u->n_props; i++) sorted[i] = &u->props[i];
  qsort(sorted, u->n_props, sizeof *sorted, by_id);
  static const uint8_t zero = 0;
  uint8_t empty[32];
  cdl_blake2b_256(empty, &zero, 1);
  cdl_cbor_enc_array(b, 11);
  cdl_cbor_enc_uint(b, cdl_ledger_epoch(l));
  cdl_byron_version_encode(b, &u->adopted_pv);
  cdl_byron_params_encode(b, &u->adopted_pp);
  enc_candidates(b, u);
  enc_apps(b, u, empty);
  for (int map = BY_ID_PROTOCOL; map <= BY_ID_VOTES; map++)
    enc_by_id(b, l, sorted, u->n_props, map, empty);
  int rc = enc_endorsements(b, l);
  if (rc == CDL_OK) enc_by_id(b, l, sorted, u->n_props, BY_ID_REGISTERED, empty);
  free(sorted);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "update state: out of memory");
  rc = cdl_cbor_enc_status(b);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "update state: the buffer cannot hold it");
  return CDL_OK;
}
