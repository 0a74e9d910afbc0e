/*
 * wallet.c: the unspent outputs that keys of the genesis directory own,
 * followed block by block (docs/byron.md 1.5, 4.2 genesis UTxO), so that
 * generators can spend real outputs with correct witnesses and fees. A
 * small linear-probing index by (tx id, index) keeps each block's update
 * proportional to its transactions.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"

#define SPENT_KEPT 64 /* recently spent outputs remembered for double spends */

static uint64_t input_hash(const uint8_t id[32], uint32_t index) {
  uint64_t h;
  memcpy(&h, id, 8); /* tx ids are Blake2b output: uniform already */
  return h ^ ((uint64_t)index * 0x9e3779b97f4a7c15ull);
}

static size_t probe_start(const gen_wallet *w, const uint8_t id[32], uint32_t index) {
  return (size_t)(input_hash(id, index) & (w->cap_table - 1));
}

/* The table slot holding (id, index), or the empty slot where it would go. */
static size_t table_find(const gen_wallet *w, const uint8_t id[32], uint32_t index) {
  size_t s = probe_start(w, id, index);
  while (w->table[s] != 0) {
    const payload_input *e = &w->live[w->table[s] - 1];
    if (e->index == index && memcmp(e->tx_id, id, 32) == 0) return s;
    s = (s + 1) & (w->cap_table - 1);
  }
  return s;
}

static int table_rebuild(gen_wallet *w, size_t cap) {
  uint32_t *t = calloc(cap, sizeof *t);
  if (t == NULL) return CDL_E_NOMEM;
  free(w->table);
  w->table = t;
  w->cap_table = cap;
  for (size_t i = 0; i < w->n_live; i++)
    w->table[table_find(w, w->live[i].tx_id, w->live[i].index)] = (uint32_t)i + 1;
  return CDL_OK;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void table_delete(gen_wallet *w, size_t s) {
  size_t mask = w->cap_table - 1, hole = s;
  for (size_t j = (s + 1) & mask; w->table[j] != 0; j = (j + 1) & mask) {
    const payload_input *e = &w->live[w->table[j] - 1];
    size_t home = probe_start(w, e->tx_id, e->index);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      w->table[hole] = w->table[j];
      hole = j;
    }
  }
  w->table[hole] = 0;
}

static int add_live(gen_wallet *w, const payload_input *in) {
  if (w->n_live + 1 > w->cap_table / 2)
    CDL_TRY(table_rebuild(w, w->cap_table ? w->cap_table * 2 : 64));
  if (w->n_live == w->cap_live) {
    size_t cap = w->cap_live ? w->cap_live * 2 : 64;
    payload_input *grown = realloc(w->live, cap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    w->live = grown;
    w->cap_live = cap;
  }
  size_t s = table_find(w, in->tx_id, in->index);
  if (w->table[s] != 0) return CDL_OK; /* already known */
  w->live[w->n_live++] = *in;
  w->table[s] = (uint32_t)w->n_live;
  return CDL_OK;
}

/* Removes live entry |pos| (its table slot is |s|), keeping the array dense. */
static void remove_live(gen_wallet *w, size_t pos, size_t s) {
  table_delete(w, s);
  size_t last = w->n_live - 1;
  if (pos != last) {
    w->live[pos] = w->live[last];
    w->table[table_find(w, w->live[pos].tx_id, w->live[pos].index)] = (uint32_t)pos + 1;
  }
  w->n_live--;
}

static void remember_spent(gen_wallet *w, const payload_input *in) {
  w->spent[w->n_spent++ % SPENT_KEPT] = *in;
}

cdl_span gen_wallet_address(const gen_wallet *w, size_t key) {
  return cdl_span_of(w->addresses[key].data, w->addresses[key].len);
}

static int span_order(cdl_span a, cdl_span b) {
  int c = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);
  return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

typedef struct keyed_address {
  cdl_span address;
  size_t key;
} keyed_address;

static int key_order(const void *a, const void *b) {
  return span_order(((const keyed_address *)a)->address, ((const keyed_address *)b)->address);
}

/* w->by_address: the keys sorted by their address bytes. */
static int sort_keys(gen_wallet *w) {
  keyed_address *v = calloc(w->n_keys + 1, sizeof *v);
  if (v == NULL) return CDL_E_NOMEM;
  for (size_t k = 0; k < w->n_keys; k++) v[k] = (keyed_address){gen_wallet_address(w, k), k};
  qsort(v, w->n_keys, sizeof *v, key_order);
  for (size_t k = 0; k < w->n_keys; k++) w->by_address[k] = v[k].key;
  free(v);
  return CDL_OK;
}

int gen_wallet_init(gen_wallet *w, const cdl_gen_dir *d) {
  memset(w, 0, sizeof *w);
  w->keys = d->secrets.poor;
  w->n_keys = d->secrets.n_poor;
  w->addresses = calloc(w->n_keys + 1, sizeof *w->addresses);
  w->by_address = calloc(w->n_keys + 1, sizeof *w->by_address);
  w->spent = calloc(SPENT_KEPT, sizeof *w->spent);
  if (w->addresses == NULL || w->by_address == NULL || w->spent == NULL) return CDL_E_NOMEM;
  const cdl_byron_genesis *g = &d->genesis;
  for (size_t k = 0; k < w->n_keys; k++) {
    cdl_buf_init(&w->addresses[k], 0);
    cdl_key_address(&w->keys[k], d->requires_magic, g->protocol_magic, &w->addresses[k]);
    for (size_t j = 0; j < g->n_balances; j++) {
      if (!cdl_span_eq(g->balances[j].address, gen_wallet_address(w, k))) continue;
      payload_input in = {.index = 0, .owner = &w->keys[k], .lovelace = g->balances[j].lovelace};
      cdl_blake2b_256(in.tx_id, g->balances[j].address.ptr, g->balances[j].address.len);
      CDL_TRY(add_live(w, &in));
    }
  }
  return sort_keys(w);
}

void gen_wallet_free(gen_wallet *w) {
  for (size_t k = 0; w->addresses && k < w->n_keys; k++) cdl_buf_free(&w->addresses[k]);
  free(w->addresses);
  free(w->by_address);
  free(w->live);
  free(w->spent);
  free(w->table);
  memset(w, 0, sizeof *w);
}

/* The key whose address this is (a search of the sorted keys: a chain
 * paying among thousands of keys looks each output's owner up). */
static const cdl_key *owner_of(const gen_wallet *w, cdl_span address) {
  size_t lo = 0, hi = w->n_keys;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2, k = w->by_address[mid];
    int c = span_order(gen_wallet_address(w, k), address);
    if (c == 0) return &w->keys[k];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

int gen_wallet_scan(gen_wallet *w, const cdl_byron_block *blk) {
  if (blk->is_ebb) return CDL_OK;
  for (size_t t = 0; t < blk->body.n_txs; t++) {
    const cdl_byron_tx *tx = &blk->body.txs[t].tx;
    for (size_t i = 0; i < tx->n_inputs && w->n_live > 0; i++) {
      size_t s = table_find(w, tx->inputs[i].tx_id, tx->inputs[i].index);
      if (w->table[s] == 0) continue;
      size_t pos = w->table[s] - 1;
      remember_spent(w, &w->live[pos]);
      remove_live(w, pos, s);
    }
    for (size_t o = 0; o < tx->n_outputs; o++) {
      const cdl_key *owner = owner_of(w, tx->outputs[o].address.raw);
      if (owner == NULL) continue;
      payload_input in = {
          .index = (uint32_t)o, .owner = owner, .lovelace = tx->outputs[o].lovelace};
      memcpy(in.tx_id, tx->id, 32);
      CDL_TRY(add_live(w, &in));
    }
  }
  return CDL_OK;
}

static bool usable(const payload_input *e, const cdl_ledger *l, uint64_t min,
                   const cdl_key *not_owner) {
  uint64_t lovelace;
  return e->lovelace >= min && e->owner != not_owner &&
         cdl_ledger_utxo_get(l, e->tx_id, e->index, &lovelace);
}

bool gen_wallet_take(gen_wallet *w, const cdl_ledger *l, cdl_gen_rng *rng, uint64_t min,
                     const cdl_key *not_owner, payload_input *out) {
  if (w->n_live == 0) return false;
  size_t start = (size_t)cdl_gen_rng_below(rng, w->n_live);
  for (size_t j = 0; j < w->n_live; j++) {
    size_t pos = (start + j) % w->n_live;
    if (!usable(&w->live[pos], l, min, not_owner)) continue;
    *out = w->live[pos];
    remove_live(w, pos, table_find(w, out->tx_id, out->index));
    return true;
  }
  return false;
}

bool gen_wallet_spent(gen_wallet *w, const cdl_ledger *l, payload_input *out) {
  size_t kept = w->n_spent < SPENT_KEPT ? w->n_spent : SPENT_KEPT;
  for (size_t i = 0; i < kept; i++) {
    uint64_t lovelace;
    if (cdl_ledger_utxo_get(l, w->spent[i].tx_id, w->spent[i].index, &lovelace)) continue;
    *out = w->spent[i];
    return true;
  }
  return false;
}

int gen_wallet_give_back(gen_wallet *w, const payload_input *in) { return add_live(w, in); }
