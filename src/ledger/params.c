/*
 * params.c: protocol parameters under an update proposal's changes
 * (docs/byron.md 4.1 and 5.6.1; cardano-ledger
 * Cardano.Chain.Update.ProtocolParametersUpdate `apply`): each field the
 * proposal carries replaces the adopted one.
 */
#include "internal.h"

#define NANO 1000000000ull

static uint64_t integer_value(const cdl_byron_integer *n) {
  /* A fee-policy multiplier: a negative or oversized one saturates (no
   * real chain carries one). */
  if (n->negative) return 0;
  return n->is_bignum ? UINT64_MAX : n->small;
}

void params_apply(cdl_byron_protocol_params *pp, const cdl_byron_param_update *u) {
  uint64_t *scalar[CDL_BYRON_PP_COUNT_SCALAR] = {
      NULL, &pp->slot_duration_ms, &pp->max_block_size, &pp->max_header_size,
      &pp->max_tx_size, &pp->max_proposal_size, &pp->mpc_thd, &pp->heavy_del_thd,
      &pp->update_vote_thd, &pp->update_proposal_thd, &pp->update_implicit};
  for (int i = 0; i < CDL_BYRON_PP_COUNT_SCALAR; i++) {
    if (!u->scalar[i].present) continue;
    if (i == CDL_BYRON_PP_SCRIPT_VERSION) pp->script_version = (uint16_t)u->scalar[i].value;
    else *scalar[i] = u->scalar[i].value;
  }
  if (u->has_softfork_rule) {
    pp->softfork_init = u->softfork_init;
    pp->softfork_min = u->softfork_min;
    pp->softfork_decrement = u->softfork_decrement;
  }
  if (u->has_fee_policy) {
    /* The reference keeps the summand as a Lovelace (Common/TxSizeLinear.hs):
     * rounded, in whole lovelace; over 18,446,744,073 of them (no real
     * chain's) the x1e9 form saturates. */
    uint64_t lovelace = 0;
    cdl_byron_fee_summand_lovelace(&u->fee_summand_nano, &lovelace); /* bounded by the decoder */
    pp->fee_summand_nano = lovelace > UINT64_MAX / NANO ? UINT64_MAX : lovelace * NANO;
    pp->fee_multiplier_nano = integer_value(&u->fee_multiplier_nano);
  }
  if (u->unlock_stake_epoch.present) pp->unlock_stake_epoch = u->unlock_stake_epoch.value;
}

bool params_equal(const cdl_byron_protocol_params *a, const cdl_byron_protocol_params *b) {
  return a->script_version == b->script_version && a->slot_duration_ms == b->slot_duration_ms &&
         a->max_block_size == b->max_block_size && a->max_header_size == b->max_header_size &&
         a->max_tx_size == b->max_tx_size && a->max_proposal_size == b->max_proposal_size &&
         a->mpc_thd == b->mpc_thd && a->heavy_del_thd == b->heavy_del_thd &&
         a->update_vote_thd == b->update_vote_thd &&
         a->update_proposal_thd == b->update_proposal_thd &&
         a->update_implicit == b->update_implicit && a->softfork_init == b->softfork_init &&
         a->softfork_min == b->softfork_min && a->softfork_decrement == b->softfork_decrement &&
         a->fee_summand_nano == b->fee_summand_nano &&
         a->fee_multiplier_nano == b->fee_multiplier_nano &&
         a->unlock_stake_epoch == b->unlock_stake_epoch;
}
