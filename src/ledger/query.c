/*
 * query.c: the ledger's answer to the Byron local-state query
 * GetUpdateInterfaceState (include/cardinal/ledger.h "Queries";
 * cardano-ledger Byron Cardano.Chain.Update.Validation.Interface.State and
 * its ToCBOR; golden ouroboros-consensus byron/QueryVersion3/
 * ByronNodeToClientVersion1/Result).
 *
 * The state is an 11-element array: epoch, adopted protocol version,
 * adopted parameters, then the update mechanism's collections. This
 * ledger does not keep what some of those collections hold on the wire
 * (application metadata, voters' and endorsers' keys), so the state is
 * encoded only while every collection is empty, as on a chain that has
 * seen no update proposal; otherwise CDL_E_LIMIT says so.
 */
#include "internal.h"

int cdl_ledger_encode_update_state(const cdl_ledger *l, cdl_buf *b, cdl_error *err) {
  const upd_state *u = &l->upd;
  if (u->n_props || u->n_apps || u->n_cands || u->n_ends)
    return cdl_error_set(err, CDL_E_LIMIT, 0,
                         "update state: %zu proposals, %zu applications, %zu candidates and %zu "
                         "endorsements are not encodable yet",
                         u->n_props, u->n_apps, u->n_cands, u->n_ends);
  cdl_cbor_enc_array(b, 11);
  cdl_cbor_enc_uint(b, cdl_ledger_epoch(l));
  cdl_byron_version_encode(b, &u->adopted_pv);
  cdl_byron_params_encode(b, &u->adopted_pp);
  cdl_cbor_enc_indef_array(b); /* candidate protocol updates: a list */
  cdl_cbor_enc_break(b);
  for (int i = 0; i < 5; i++) /* application versions, protocol and software proposals,
                                 confirmed proposals, votes: maps */
    cdl_cbor_enc_map(b, 0);
  cdl_cbor_enc_tag(b, 258); /* endorsements: a set */
  cdl_cbor_enc_array(b, 0);
  cdl_cbor_enc_map(b, 0); /* proposal registration slots */
  return cdl_cbor_enc_status(b);
}
