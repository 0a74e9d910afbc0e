/*
 * tx_rules.c: the UTxO rules for one transaction (docs/byron.md 5.4.1;
 * cardano-ledger Cardano.Chain.UTxO.Validation): inputs resolve, each
 * witness signs the tx and owns the address it is paired with, size and
 * fee limits, attribute and network checks, then the UTxO update.
 *
 * As in cardano-ledger, witnesses pair with inputs by position and any
 * surplus on either side is ignored; duplicate inputs count once.
 */
#include <stdlib.h>

#include "internal.h"

#define MAX_UNKNOWN_ATTR_BYTES 128

/* Resolved inputs of the tx being checked: distinct entries only. */
typedef struct resolved {
  const utxo_addr **addrs; /* the address each input spends, in tx order */
  uint64_t value;             /* over distinct inputs */
  bool all_redeem;
} resolved;

static bool earlier_duplicate(const cdl_byron_tx *tx, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (tx->inputs[j].index == tx->inputs[i].index &&
        memcmp(tx->inputs[j].tx_id, tx->inputs[i].tx_id, 32) == 0)
      return true;
  return false;
}

static int resolve_inputs(cdl_ledger *l, const cdl_byron_tx *tx, resolved *r,
                          cdl_rejection *rej) {
  r->value = 0;
  r->all_redeem = true;
  for (size_t i = 0; i < tx->n_inputs; i++) {
    const cdl_byron_txin *in = &tx->inputs[i];
    const utxo_entry *e = utxo_find(&l->utxo, in->tx_id, in->index, &r->addrs[i]);
    if (e == NULL) {
      reject_input(rej, in->tx_id, in->index);
      return reject(rej, CDL_RULE_MISSING_INPUT, "input %zu is not in the UTxO", i);
    }
    r->all_redeem &= r->addrs[i]->type == CDL_BYRON_ADDR_REDEEM;
    if (earlier_duplicate(tx, i)) continue;
    r->value += e->lovelace;
    if (r->value > CDL_BYRON_MAX_LOVELACE)
      return reject(rej, CDL_RULE_LOVELACE_OVERFLOW, "the inputs sum above 45e15 lovelace");
  }
  return CDL_OK;
}

/* The witness key must hash to the spent address's root, with the type
 * its witness kind implies (5.4.1 step 2). CDL_E_NOMEM when the root of
 * an address with long attributes could not be computed. */
static int witness_owns(const cdl_byron_witness *w, const utxo_addr *a, bool *owns) {
  uint64_t type;
  *owns = false;
  if (w->type == CDL_BYRON_WIT_PUBKEY) type = CDL_BYRON_ADDR_PUBKEY;
  else if (w->type == CDL_BYRON_WIT_REDEEM) type = CDL_BYRON_ADDR_REDEEM;
  else return CDL_OK; /* script witnesses: not in the ledger's grammar */
  if (a->type != type) return CDL_OK;
  uint8_t root[28];
  CDL_TRY(cdl_byron_address_root(type, w->key, w->key_len,
                                 cdl_span_of(a->bytes + a->attrs_off, a->attrs_len), root));
  *owns = memcmp(root, utxo_root(a), 28) == 0;
  return CDL_OK;
}

static int check_witnesses(cdl_ledger *l, const cdl_byron_txaux *aux, const resolved *r,
                           cdl_rejection *rej) {
  size_t n = aux->tx.n_inputs < aux->n_witnesses ? aux->tx.n_inputs : aux->n_witnesses;
  for (size_t i = 0; i < n; i++) {
    const cdl_byron_witness *w = &aux->witnesses[i];
    const cdl_byron_txin *in = &aux->tx.inputs[i];
    bool owns;
    CDL_TRY(witness_owns(w, r->addrs[i], &owns));
    if (!owns) {
      reject_input(rej, in->tx_id, in->index);
      return reject(rej, CDL_RULE_WITNESS_ADDRESS,
                    "witness %zu's key does not own the address of input %zu", i, i);
    }
    if (!ledger_witness_ok(l, w, aux->tx.id)) {
      reject_input(rej, in->tx_id, in->index);
      return reject(rej, CDL_RULE_WITNESS_SIGNATURE,
                    "witness %zu's signature over the tx id does not verify", i);
    }
  }
  return CDL_OK;
}

/* a + ceil(b * size), a and b from the fee policy (docs/byron.md 4.1). */
uint64_t cdl_ledger_min_fee(const cdl_byron_protocol_params *pp, size_t size) {
  const uint64_t nano = 1000000000u;
  unsigned __int128 b = (unsigned __int128)pp->fee_multiplier_nano * size;
  /* Whole lovelace: the genesis truncates, a proposal rounds, as each
   * enters the parameters (cdl_byron_protocol_params). */
  uint64_t a = pp->fee_summand_nano / nano;
  unsigned __int128 var = (b + nano - 1) / nano;
  unsigned __int128 total = a + var;
  return total > UINT64_MAX ? UINT64_MAX : (uint64_t)total;
}

static int check_value(cdl_ledger *l, const cdl_byron_txaux *aux, const resolved *r,
                       uint64_t *fee, cdl_rejection *rej) {
  const cdl_byron_tx *tx = &aux->tx;
  uint64_t out = 0;
  for (size_t i = 0; i < tx->n_outputs; i++) {
    out += tx->outputs[i].lovelace; /* each at most 45e15: no wrap */
    if (out > CDL_BYRON_MAX_LOVELACE)
      return reject(rej, CDL_RULE_LOVELACE_OVERFLOW, "the outputs sum above 45e15 lovelace");
  }
  if (out > r->value)
    return reject(rej, CDL_RULE_VALUE_NOT_PRESERVED,
                  "outputs %llu exceed inputs %llu lovelace", (unsigned long long)out,
                  (unsigned long long)r->value);
  *fee = r->value - out;
  uint64_t need = r->all_redeem ? 0 : cdl_ledger_min_fee(&l->upd.adopted_pp, aux->raw.len);
  if (*fee < need)
    return reject(rej, CDL_RULE_FEE_TOO_LOW, "fee %llu is below the minimum %llu lovelace",
                  (unsigned long long)*fee, (unsigned long long)need);
  return CDL_OK;
}

static size_t unknown_attr_bytes(const cdl_byron_attrs *a) {
  size_t n = 0;
  for (size_t i = 0; i < a->count; i++) n += a->items[i].value.len;
  return n;
}

static int check_outputs(cdl_ledger *l, const cdl_byron_tx *tx, cdl_rejection *rej) {
  if (unknown_attr_bytes(&tx->attrs) >= MAX_UNKNOWN_ATTR_BYTES)
    return reject(rej, CDL_RULE_ATTRIBUTES_SIZE, "the tx attributes hold %zu unknown bytes",
                  unknown_attr_bytes(&tx->attrs));
  for (size_t i = 0; i < tx->n_outputs; i++) {
    const cdl_byron_address *a = &tx->outputs[i].address;
    if (a->unknown_attr_bytes >= MAX_UNKNOWN_ATTR_BYTES)
      return reject(rej, CDL_RULE_ATTRIBUTES_SIZE,
                    "output %zu's address holds %zu unknown attribute bytes", i,
                    a->unknown_attr_bytes);
    bool ok = l->cfg.requires_magic
                  ? a->has_network_magic && a->network_magic == l->cfg.protocol_magic
                  : !a->has_network_magic;
    if (!ok)
      return reject(rej, CDL_RULE_OUTPUT_NETWORK,
                    "output %zu's address is not for this network", i);
  }
  return CDL_OK;
}

/* The id under which the outputs are stored. The reference hashes the tx
 * re-serialized from its decoded fields (serializeCborHash), while
 * witnesses sign the hash of the bytes received; the two differ only for
 * a tx whose encoding is not canonical (a wide integer head, say). */
static int output_tx_id(const cdl_byron_tx *tx, uint8_t id[32]) {
  uint8_t storage[4096];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  cdl_byron_tx_encode(&b, tx);
  if (b.failed) {
    cdl_buf_init(&b, 0);
    cdl_byron_tx_encode(&b, tx);
    if (b.failed) {
      cdl_buf_free(&b);
      return CDL_E_NOMEM;
    }
  }
  if (b.len == tx->raw.len && memcmp(b.data, tx->raw.ptr, b.len) == 0) memcpy(id, tx->id, 32);
  else cdl_blake2b_256(id, b.data, b.len);
  cdl_buf_free(&b);
  return CDL_OK;
}

static int update_utxo(cdl_ledger *l, const cdl_byron_tx *tx, cdl_rejection *rej) {
  uint8_t id[32];
  CDL_TRY(output_tx_id(tx, id));
  for (size_t i = 0; i < tx->n_inputs; i++) {
    if (earlier_duplicate(tx, i)) continue;
    CDL_TRY(utxo_remove(&l->utxo, tx->inputs[i].tx_id, tx->inputs[i].index));
  }
  for (size_t i = 0; i < tx->n_outputs; i++) {
    if (utxo_find(&l->utxo, id, (uint32_t)i, NULL) != NULL)
      return reject(rej, CDL_RULE_OUTPUT_EXISTS, "output %zu of this tx id is already unspent", i);
    CDL_TRY(
        utxo_insert(&l->utxo, id, (uint32_t)i, &tx->outputs[i].address, tx->outputs[i].lovelace));
  }
  return CDL_OK;
}

static int apply_checked(cdl_ledger *l, const cdl_byron_txaux *aux, resolved *r,
                         cdl_rejection *rej) {
  CDL_TRY(resolve_inputs(l, &aux->tx, r, rej));
  CDL_TRY(check_witnesses(l, aux, r, rej));
  if (aux->raw.len > l->upd.adopted_pp.max_tx_size)
    return reject(rej, CDL_RULE_TX_SIZE, "tx of %zu bytes exceeds maxTxSize %llu",
                  aux->raw.len, (unsigned long long)l->upd.adopted_pp.max_tx_size);
  uint64_t fee = 0;
  CDL_TRY(check_value(l, aux, r, &fee, rej));
  CDL_TRY(check_outputs(l, &aux->tx, rej));
  uint64_t before = utxo_visible_lovelace(&l->utxo);
  CDL_TRY(update_utxo(l, &aux->tx, rej));
  /* Lovelace is conserved: what left the UTxO is the fee. */
  CDL_ASSERT(utxo_visible_lovelace(&l->utxo) + fee == before);
  l->totals.fees_lovelace += fee;
  l->totals.txs++;
  return CDL_OK;
}

int tx_apply(cdl_ledger *l, const cdl_byron_txaux *aux, cdl_rejection *rej) {
  const utxo_addr *stack[16];
  resolved r = {.addrs = stack};
  if (aux->tx.n_inputs > 16) {
    r.addrs = calloc(aux->tx.n_inputs, sizeof *r.addrs);
    if (r.addrs == NULL) return CDL_E_NOMEM;
  }
  int rc = apply_checked(l, aux, &r, rej);
  if (rc == CDL_E_REJECTED) reject_tx(rej, aux->tx.id);
  if (r.addrs != stack) free(r.addrs);
  return rc;
}
