/*
 * tx_fee.h: the fee and change of `tx build` (docs/cli.md "tx build"):
 * the minimum fee a + b x size (cdl_ledger_min_fee, docs/byron.md 4.1) of
 * the tx as `tx sign` will write it, one witness per input, found exactly
 * although the change amount's own encoding changes the size; and the
 * checks that keep a wallet from paying too little or far too much.
 */
#ifndef CARDINAL_CLI_TX_FEE_H
#define CARDINAL_CLI_TX_FEE_H

#include "cli.h"

/* A fee above max(2 x the minimum, the minimum + 1 ADA) needs
 * --allow-high-fee. */
#define TX_HIGH_FEE_EXTRA 1000000u

typedef struct tx_plan {
  /* Given. */
  const cdl_byron_protocol_params *pp;
  uint64_t inputs, outputs; /* lovelace in and out, outputs <= inputs */
  bool has_change;          /* a change address: the rest beyond the fee goes there */
  bool has_fee, allow_high_fee;
  uint64_t fee_given;
  size_t body_plain;   /* bytes of the unsigned tx without a change output */
  size_t body_change0; /* with a change output of 0 lovelace */
  size_t witnesses;    /* bytes the witnesses add when signed (tx_witness_bytes) */
  /* Found. */
  uint64_t fee, change, min_fee, high_fee;
  size_t signed_size;
} tx_plan;

/* What the witnesses of |n_inputs| inputs add to a tx when `tx sign`
 * writes them: [tx, [witness...]] less the tx. */
size_t tx_witness_bytes(size_t n_inputs);
/* Works out fee, change and sizes; EXIT_OK, or the refusal reported on
 * stderr (tx.fee_too_low, tx.fee_too_high, tx.unbalanced,
 * tx.value_not_preserved) and its exit code. */
int tx_plan_solve(tx_plan *p);

#endif
