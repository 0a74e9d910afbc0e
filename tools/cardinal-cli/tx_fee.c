/*
 * tx_fee.c: the fee and change of `tx build` (tx_fee.h; docs/cli.md "tx
 * build"; the ledger's fee rule in src/ledger/tx_rules.c and docs/byron.md
 * 4.1: fee >= a + ceil(b x size of the signed tx)).
 *
 * With a change output the size depends on the change, whose CBOR head
 * takes 1, 2, 3, 5 or 9 bytes; within one of those widths the size is
 * fixed, so each width gives its fee outright, and the largest change
 * that fits its width and leaves the fee it needs wins. Only when a
 * change sits just past a width boundary can the fee exceed the minimum,
 * by less than the bytes of the wider head cost.
 */
#include "tx_fee.h"

#include "cardinal/forge.h"

/* Bytes of the head of a CBOR unsigned integer or array of |v|. */
static size_t head_bytes(uint64_t v) {
  return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

size_t tx_witness_bytes(size_t n_inputs) {
  /* One witness as tx sign writes it, measured: a fixed-size signature
   * and key, whatever the key and the tx. */
  static const uint8_t tx[] = {0x80};
  static const uint8_t seed[32];
  cdl_key k;
  cdl_key_derive(&k, seed);
  const cdl_key *keys[1] = {&k};
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_payload_tx_sign(cdl_span_of(tx, sizeof tx), keys, 1, 0, &b);
  size_t one = b.len - 1 - sizeof tx - 1; /* less [ , tx and the array head of 1 */
  cdl_buf_free(&b);
  return head_bytes(n_inputs) + n_inputs * one;
}

static size_t signed_size(const tx_plan *p, size_t body) { return 1 + body + p->witnesses; }

/* The size with a change output of |change| lovelace. */
static size_t size_with_change(const tx_plan *p, uint64_t change) {
  return signed_size(p, p->body_change0 - 1 + head_bytes(change));
}

/* The largest change whose size's minimum fee it leaves; 0 if none. */
static uint64_t best_change(const tx_plan *p, uint64_t rest) {
  static const uint64_t LOW[] = {1, 24, 0x100, 0x10000, 0x100000000ull};
  static const uint64_t HIGH[] = {23, 0xff, 0xffff, 0xffffffffull, UINT64_MAX};
  uint64_t best = 0;
  for (size_t i = 0; i < 5; i++) {
    uint64_t fee = cdl_ledger_min_fee(p->pp, size_with_change(p, LOW[i]));
    if (rest <= fee)
      continue;
    uint64_t change = rest - fee;
    if (change < LOW[i])
      continue; /* a narrower width's */
    if (change > HIGH[i])
      change = HIGH[i];
    if (change > best)
      best = change;
  }
  return best;
}

/* Fee, change and sizes from what is given: EXIT_OK, or the refusal of an
 * unbalanced tx reported and its exit code. */
static int settle(tx_plan *p, uint64_t rest) {
  if (!p->has_change) {
    if (p->has_fee && p->fee_given != rest)
      return cli_fail("tx.unbalanced", EXIT_REJECTED,
                      "inputs less outputs are %llu lovelace but --fee says %llu: add "
                      "--change-address for the rest, or change the outputs",
                      (unsigned long long)rest, (unsigned long long)p->fee_given);
    p->fee = rest, p->change = 0;
  } else if (p->has_fee) {
    if (p->fee_given > rest)
      return cli_fail("tx.value_not_preserved", EXIT_REJECTED,
                      "outputs and the fee %llu exceed the inputs by %llu lovelace",
                      (unsigned long long)p->fee_given, (unsigned long long)(p->fee_given - rest));
    p->fee = p->fee_given, p->change = rest - p->fee_given;
  } else {
    p->change = best_change(p, rest);
    p->fee = rest - p->change; /* no change fits: all of the rest is the fee */
  }
  p->signed_size = p->change ? size_with_change(p, p->change) : signed_size(p, p->body_plain);
  p->min_fee = cdl_ledger_min_fee(p->pp, p->signed_size);
  uint64_t doubled = p->min_fee > UINT64_MAX / 2 ? UINT64_MAX : 2 * p->min_fee;
  uint64_t plus =
      p->min_fee > UINT64_MAX - TX_HIGH_FEE_EXTRA ? UINT64_MAX : p->min_fee + TX_HIGH_FEE_EXTRA;
  p->high_fee = doubled > plus ? doubled : plus;
  return EXIT_OK;
}

int tx_plan_solve(tx_plan *p) {
  uint64_t rest = p->inputs - p->outputs;
  int code = settle(p, rest);
  if (code != EXIT_OK)
    return code;
  if (p->fee < p->min_fee)
    return cli_fail("tx.fee_too_low", EXIT_REJECTED,
                    "the fee would be %llu lovelace but the signed tx of %zu bytes needs at "
                    "least %llu (%llu lovelace are left after the outputs)",
                    (unsigned long long)p->fee, p->signed_size, (unsigned long long)p->min_fee,
                    (unsigned long long)rest);
  if (p->fee > p->high_fee && !p->allow_high_fee)
    return cli_fail("tx.fee_too_high", EXIT_REJECTED,
                    "the fee would be %llu lovelace, above %llu (max(2 x, or 1 ADA more than, "
                    "the minimum %llu)): add --change-address for the rest, or "
                    "--allow-high-fee if that fee is meant",
                    (unsigned long long)p->fee, (unsigned long long)p->high_fee,
                    (unsigned long long)p->min_fee);
  return EXIT_OK;
}
