/*
 * utxo.c: the unspent-output set (docs/byron.md 5.4.1 step 9): a hash
 * table keyed by (tx id, index) holding each output's address bytes and
 * value, with a journal so a block's changes can be undone.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so look-ups stay short however many outputs come and go).
 * Keys are hashed with keyed SipHash (libsodium crypto_shorthash): tx ids
 * come from peers, and a keyed hash keeps a crafted set of ids from
 * piling into one probe run.
 */
#include <sodium.h>
#include <stdlib.h>

#include "internal.h"

#define INITIAL_CAP 1024

static size_t slot_of(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  uint8_t key[36], out[8];
  memcpy(key, tx_id, 32);
  memcpy(key + 32, &index, 4);
  crypto_shorthash(out, key, sizeof key, u->hash_key);
  uint64_t h;
  memcpy(&h, out, 8);
  return (size_t)h & (u->cap - 1);
}

static bool same_key(const utxo_entry *e, const uint8_t tx_id[32], uint32_t index) {
  return e->index == index && memcmp(e->tx_id, tx_id, 32) == 0;
}

int utxo_init(utxo *u) {
  memset(u, 0, sizeof *u);
  u->slots = calloc(INITIAL_CAP, sizeof *u->slots);
  if (u->slots == NULL) return CDL_E_NOMEM;
  u->cap = INITIAL_CAP;
  randombytes_buf(u->hash_key, sizeof u->hash_key);
  return CDL_OK;
}

void utxo_free(utxo *u) {
  utxo_commit(u);
  for (size_t i = 0; i < u->cap; i++) free(u->slots[i].addr);
  free(u->slots);
  free(u->journal);
  memset(u, 0, sizeof *u);
}

const utxo_entry *utxo_find(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  for (size_t i = slot_of(u, tx_id, index);; i = (i + 1) & (u->cap - 1)) {
    const utxo_entry *e = &u->slots[i];
    if (e->addr == NULL) return NULL;
    if (same_key(e, tx_id, index)) return e;
  }
}

/* Places an entry (known absent) without journaling. */
static void place(utxo *u, const utxo_entry *entry) {
  size_t i = slot_of(u, entry->tx_id, entry->index);
  while (u->slots[i].addr != NULL) i = (i + 1) & (u->cap - 1);
  u->slots[i] = *entry;
  u->count++;
  u->lovelace += entry->lovelace;
}

static int grow(utxo *u) {
  size_t old_cap = u->cap;
  utxo_entry *old = u->slots;
  utxo_entry *fresh = calloc(old_cap * 2, sizeof *fresh);
  if (fresh == NULL) return CDL_E_NOMEM;
  u->slots = fresh;
  u->cap = old_cap * 2;
  u->count = 0;
  u->lovelace = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].addr != NULL) place(u, &old[i]);
  free(old);
  return CDL_OK;
}

static int journal(utxo *u, bool added, const utxo_entry *entry) {
  if (u->n_journal == u->cap_journal) {
    size_t cap = u->cap_journal ? u->cap_journal * 2 : 64;
    utxo_undo *j = realloc(u->journal, cap * sizeof *j);
    if (j == NULL) return CDL_E_NOMEM;
    u->journal = j;
    u->cap_journal = cap;
  }
  u->journal[u->n_journal++] = (utxo_undo){added, *entry};
  return CDL_OK;
}

/* Removes the entry in slot i and closes the gap (backward shift). */
static void take_slot(utxo *u, size_t i) {
  u->count--;
  u->lovelace -= u->slots[i].lovelace;
  size_t hole = i;
  for (size_t j = (i + 1) & (u->cap - 1); u->slots[j].addr != NULL;
       j = (j + 1) & (u->cap - 1)) {
    size_t home = slot_of(u, u->slots[j].tx_id, u->slots[j].index);
    /* Move j into the hole unless its home lies cyclically in (hole, j]. */
    bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (stays) continue;
    u->slots[hole] = u->slots[j];
    hole = j;
  }
  memset(&u->slots[hole], 0, sizeof u->slots[hole]);
}

int utxo_reserve(utxo *u, size_t count) {
  while (count * 4 > u->cap * 3) TRY(grow(u));
  return CDL_OK;
}

int utxo_insert(utxo *u, const uint8_t tx_id[32], uint32_t index,
                const cdl_byron_address *addr, uint64_t lovelace) {
  if (utxo_find(u, tx_id, index) != NULL) return CDL_E_USAGE;
  if ((u->count + 1) * 4 > u->cap * 3) TRY(grow(u));
  cdl_span raw = addr->raw, attrs = addr->attrs.raw;
  CDL_ASSERT(attrs.ptr >= raw.ptr && attrs.ptr + attrs.len <= raw.ptr + raw.len);
  utxo_entry e = {.index = index, .addr_len = (uint32_t)raw.len, .lovelace = lovelace,
                  .addr_type = (uint8_t)addr->type,
                  .attrs_off = (uint32_t)(attrs.ptr - raw.ptr),
                  .attrs_len = (uint32_t)attrs.len};
  memcpy(e.tx_id, tx_id, 32);
  memcpy(e.root, addr->root, 28);
  e.addr = malloc(raw.len ? raw.len : 1);
  if (e.addr == NULL) return CDL_E_NOMEM;
  memcpy(e.addr, raw.ptr, raw.len);
  if (journal(u, true, &e) != CDL_OK) {
    free(e.addr);
    return CDL_E_NOMEM;
  }
  place(u, &e);
  return CDL_OK;
}

int utxo_remove(utxo *u, const uint8_t tx_id[32], uint32_t index) {
  for (size_t i = slot_of(u, tx_id, index);; i = (i + 1) & (u->cap - 1)) {
    utxo_entry *e = &u->slots[i];
    if (e->addr == NULL) return CDL_E_USAGE;
    if (!same_key(e, tx_id, index)) continue;
    TRY(journal(u, false, e)); /* the journal now owns the address copy */
    take_slot(u, i);
    return CDL_OK;
  }
}

void utxo_commit(utxo *u) {
  for (size_t i = 0; i < u->n_journal; i++)
    if (!u->journal[i].added) free(u->journal[i].entry.addr);
  u->n_journal = 0;
}

void utxo_rollback(utxo *u) {
  while (u->n_journal > 0) {
    utxo_undo *op = &u->journal[--u->n_journal];
    if (op->added) {
      for (size_t i = slot_of(u, op->entry.tx_id, op->entry.index);;
           i = (i + 1) & (u->cap - 1)) {
        CDL_ASSERT(u->slots[i].addr != NULL); /* added in this block: present */
        if (!same_key(&u->slots[i], op->entry.tx_id, op->entry.index)) continue;
        free(u->slots[i].addr);
        take_slot(u, i);
        break;
      }
    } else {
      place(u, &op->entry); /* capacity suffices: it held this entry before */
    }
  }
}
