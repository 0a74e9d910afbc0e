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

static void enc_version(cdl_buf *b, cdl_byron_version v) {
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, v.major);
  cdl_cbor_enc_uint(b, v.minor);
  cdl_cbor_enc_uint(b, v.alt);
}

/* TxFeePolicy: [0, #6.24(bytes [summand, multiplier])], both x1e9. */
static void enc_fee_policy(cdl_buf *b, const cdl_byron_protocol_params *pp) {
  uint8_t inner[32];
  cdl_buf in;
  cdl_buf_init_fixed(&in, inner, sizeof inner);
  cdl_cbor_enc_array(&in, 2);
  cdl_cbor_enc_uint(&in, pp->fee_summand_nano);
  cdl_cbor_enc_uint(&in, pp->fee_multiplier_nano);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_tag(b, 24);
  cdl_cbor_enc_bytes(b, in.data, in.len);
}

void cdl_ledger_encode_params(cdl_buf *b, const cdl_byron_protocol_params *pp) {
  cdl_cbor_enc_array(b, 14);
  cdl_cbor_enc_uint(b, pp->script_version);
  cdl_cbor_enc_uint(b, pp->slot_duration_ms);
  cdl_cbor_enc_uint(b, pp->max_block_size);
  cdl_cbor_enc_uint(b, pp->max_header_size);
  cdl_cbor_enc_uint(b, pp->max_tx_size);
  cdl_cbor_enc_uint(b, pp->max_proposal_size);
  cdl_cbor_enc_uint(b, pp->mpc_thd);
  cdl_cbor_enc_uint(b, pp->heavy_del_thd);
  cdl_cbor_enc_uint(b, pp->update_vote_thd);
  cdl_cbor_enc_uint(b, pp->update_proposal_thd);
  cdl_cbor_enc_uint(b, pp->update_implicit);
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, pp->softfork_init);
  cdl_cbor_enc_uint(b, pp->softfork_min);
  cdl_cbor_enc_uint(b, pp->softfork_decrement);
  enc_fee_policy(b, pp);
  cdl_cbor_enc_uint(b, pp->unlock_stake_epoch);
}

int cdl_ledger_encode_update_state(const cdl_ledger *l, cdl_buf *b, cdl_error *err) {
  const upd_state *u = &l->upd;
  if (u->n_props || u->n_apps || u->n_cands || u->n_ends)
    return cdl_error_set(err, CDL_E_LIMIT, 0,
                         "update state: %zu proposals, %zu applications, %zu candidates and %zu "
                         "endorsements are not encodable yet",
                         u->n_props, u->n_apps, u->n_cands, u->n_ends);
  cdl_cbor_enc_array(b, 11);
  cdl_cbor_enc_uint(b, cdl_ledger_epoch(l));
  enc_version(b, u->adopted_pv);
  cdl_ledger_encode_params(b, &u->adopted_pp);
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
