/*
 * query_utxo.c: read-only look-ups of the UTxO by address and by input,
 * and the chain's constants, for the local state query's own answers
 * (include/cardinal/ledger.h "UTxO look-ups and constants";
 * docs/network.md "Cardinal's own queries").
 *
 * The UTxO is indexed by input only (utxo.c): an index by address would
 * cost memory and a write on every block for the sake of a wallet's
 * occasional question, so a query by address walks every entry. Lengths
 * are compared first, so most entries cost one integer compare per
 * address asked for.
 */
#include "internal.h"

typedef struct address_walk {
  const cdl_span *addrs;
  size_t n;
  cdl_ledger_output_fn visit;
  void *ctx;
} address_walk;

static void output_of(const utxo_entry *e, const utxo_addr *a, cdl_ledger_output *o) {
  memcpy(o->tx_id, e->tx_id, 32);
  o->index = e->index;
  o->address = cdl_span_of(a->bytes, a->len);
  o->lovelace = e->lovelace;
}

static bool match_address(void *ctx, const utxo_entry *e, const utxo_addr *a) {
  const address_walk *w = ctx;
  for (size_t i = 0; i < w->n; i++) {
    if (w->addrs[i].len != a->len || memcmp(w->addrs[i].ptr, a->bytes, a->len) != 0)
      continue;
    cdl_ledger_output o;
    output_of(e, a, &o);
    return w->visit(w->ctx, &o);
  }
  return true;
}

void cdl_ledger_utxo_by_address(const cdl_ledger *l, const cdl_span *addrs, size_t n,
                                cdl_ledger_output_fn visit, void *ctx) {
  if (n == 0)
    return;
  address_walk w = {addrs, n, visit, ctx};
  utxo_each(&l->utxo, match_address, &w);
}

bool cdl_ledger_utxo_lookup(const cdl_ledger *l, const uint8_t tx_id[32], uint32_t index,
                            cdl_ledger_output *out) {
  const utxo_addr *a;
  const utxo_entry *e = utxo_find(&l->utxo, tx_id, index, &a);
  if (e == NULL)
    return false;
  output_of(e, a, out);
  return true;
}

void cdl_ledger_get_constants(const cdl_ledger *l, cdl_ledger_constants *c) {
  *c = (cdl_ledger_constants){.protocol_magic = l->cfg.protocol_magic,
                              .requires_magic = l->cfg.requires_magic,
                              .k = l->cfg.k,
                              .epoch_slots = l->epoch_slots,
                              .genesis_keys = l->n_genesis};
}
