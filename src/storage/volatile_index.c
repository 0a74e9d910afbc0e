/*
 * volatile_index.c: the Volatile DB's in-memory index (volatile_index.h,
 * include/cardinal/storage.h "Volatile DB"). Block hashes come from disk
 * and from peers, so the tables hash them with SipHash under a key drawn
 * at start: nobody can grind blocks into one probe run. The key changes
 * only where entries sit in the tables, never what any function returns.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "volatile_index.h"

#define FIRST_CAP 1024u

static uint32_t keyed_hash(const cdl_volatile_index *x, const uint8_t h[32]) {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, h, 32, x->key);
  return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
         (uint32_t)out[3] << 24;
}

static uint32_t entry_hash(const cdl_volatile_entry *e, bool by_prev) {
  return by_prev ? e->hprev : e->hkey;
}

static const uint8_t *entry_key(const cdl_volatile_entry *e, bool by_prev) {
  return by_prev ? e->info.prev_hash : e->info.hash;
}

/* The slot holding |k| in one table, or the empty slot where it would go. */
static size_t probe(const cdl_volatile_index *x, bool by_prev, const uint8_t k[32],
                    uint32_t h) {
  const uint32_t *t = by_prev ? x->by_prev : x->by_hash;
  size_t i = h & x->mask;
  while (t[i] != 0) {
    const cdl_volatile_entry *e = &x->e[t[i] - 1];
    if (entry_hash(e, by_prev) == h && memcmp(entry_key(e, by_prev), k, 32) == 0) return i;
    i = (i + 1) & x->mask;
  }
  return i;
}

/* Empties slot |i| and moves later members of its probe run back, so that
 * lookups never need tombstones. */
static void table_delete(cdl_volatile_index *x, bool by_prev, size_t i) {
  uint32_t *t = by_prev ? x->by_prev : x->by_hash;
  size_t j = i;
  for (;;) {
    j = (j + 1) & x->mask;
    if (t[j] == 0) break;
    size_t home = entry_hash(&x->e[t[j] - 1], by_prev) & x->mask;
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      t[i] = t[j];
      i = j;
    }
  }
  t[i] = 0;
}

void cdl_volatile_index_init(cdl_volatile_index *x, size_t max) {
  memset(x, 0, sizeof *x);
  x->max = max;
  x->free_head = CDL_VOLATILE_NONE;
  if (sodium_init() < 0) return; /* the key stays zero: slower worst case, same results */
  randombytes_buf(x->key, sizeof x->key);
}

void cdl_volatile_index_free(cdl_volatile_index *x) {
  free(x->e);
  free(x->by_hash);
  free(x->by_prev);
  memset(x, 0, sizeof *x);
}

static void rehash(const uint32_t *from, size_t from_size, uint32_t *to, size_t to_mask,
                   const cdl_volatile_entry *e, bool by_prev) {
  for (size_t s = 0; s < from_size; s++) {
    if (from[s] == 0) continue;
    size_t i = entry_hash(&e[from[s] - 1], by_prev) & to_mask;
    while (to[i] != 0) i = (i + 1) & to_mask;
    to[i] = from[s];
  }
}

static int grow(cdl_volatile_index *x) {
  size_t want = x->cap ? (size_t)x->cap * 2 : FIRST_CAP;
  if (want > x->max) want = x->max;
  size_t size = 1;
  while (size < 2 * want) size <<= 1;
  cdl_volatile_entry *e = realloc(x->e, want * sizeof *e);
  if (e == NULL) return CDL_E_NOMEM;
  x->e = e; /* cap stays until the tables exist too */
  uint32_t *h = calloc(size, sizeof *h), *p = calloc(size, sizeof *p);
  if (h == NULL || p == NULL) {
    free(h);
    free(p);
    return CDL_E_NOMEM;
  }
  if (x->by_hash != NULL) {
    rehash(x->by_hash, x->mask + 1, h, size - 1, e, false);
    rehash(x->by_prev, x->mask + 1, p, size - 1, e, true);
  }
  free(x->by_hash);
  free(x->by_prev);
  x->by_hash = h;
  x->by_prev = p;
  x->mask = size - 1;
  x->cap = (uint32_t)want;
  return CDL_OK;
}

int cdl_volatile_index_reserve(cdl_volatile_index *x) {
  if (x->count >= x->max) return CDL_E_LIMIT;
  if (x->free_head != CDL_VOLATILE_NONE || x->used < x->cap) return CDL_OK;
  return grow(x);
}

uint32_t cdl_volatile_index_find(const cdl_volatile_index *x, const uint8_t hash[32]) {
  if (x->by_hash == NULL) return CDL_VOLATILE_NONE;
  size_t p = probe(x, false, hash, keyed_hash(x, hash));
  return x->by_hash[p] ? x->by_hash[p] - 1 : CDL_VOLATILE_NONE;
}

uint32_t cdl_volatile_index_add(cdl_volatile_index *x, const cdl_block_info *info,
                                uint32_t file, uint64_t offset) {
  uint32_t i;
  if (x->free_head != CDL_VOLATILE_NONE) {
    i = x->free_head;
    x->free_head = x->e[i].sib_next;
  } else {
    CDL_ASSERT(x->used < x->cap);
    i = x->used++;
  }
  cdl_volatile_entry *e = &x->e[i];
  e->info = *info;
  e->file = file;
  e->offset = offset;
  e->hkey = keyed_hash(x, info->hash);
  e->hprev = keyed_hash(x, info->prev_hash);
  e->live = true;
  size_t p = probe(x, false, info->hash, e->hkey);
  CDL_ASSERT(x->by_hash[p] == 0);
  x->by_hash[p] = i + 1;
  size_t q = probe(x, true, info->prev_hash, e->hprev);
  if (x->by_prev[q] == 0) {
    x->by_prev[q] = i + 1;
    e->sib_prev = e->sib_next = i;
  } else { /* append to the ring: arrival order */
    uint32_t head = x->by_prev[q] - 1, tail = x->e[head].sib_prev;
    x->e[tail].sib_next = i;
    e->sib_prev = tail;
    e->sib_next = head;
    x->e[head].sib_prev = i;
  }
  x->count++;
  return i;
}

void cdl_volatile_index_remove(cdl_volatile_index *x, uint32_t i) {
  cdl_volatile_entry *e = &x->e[i];
  CDL_ASSERT(i < x->used && e->live);
  size_t p = probe(x, false, e->info.hash, e->hkey);
  CDL_ASSERT(x->by_hash[p] == i + 1);
  table_delete(x, false, p);
  size_t q = probe(x, true, e->info.prev_hash, e->hprev);
  CDL_ASSERT(x->by_prev[q] != 0);
  if (e->sib_next == i) {
    table_delete(x, true, q);
  } else {
    x->e[e->sib_prev].sib_next = e->sib_next;
    x->e[e->sib_next].sib_prev = e->sib_prev;
    if (x->by_prev[q] == i + 1) x->by_prev[q] = e->sib_next + 1;
  }
  e->live = false;
  e->sib_next = x->free_head;
  x->free_head = i;
  x->count--;
}

size_t cdl_volatile_index_successors(const cdl_volatile_index *x, const uint8_t prev[32],
                                     uint8_t (*out)[32], size_t max) {
  if (x->by_prev == NULL) return 0;
  size_t q = probe(x, true, prev, keyed_hash(x, prev));
  if (x->by_prev[q] == 0) return 0;
  uint32_t head = x->by_prev[q] - 1, i = head;
  size_t n = 0;
  do {
    if (n < max) memcpy(out[n], x->e[i].info.hash, 32);
    n++;
    i = x->e[i].sib_next;
  } while (i != head);
  return n;
}
