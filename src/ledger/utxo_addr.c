/*
 * utxo_addr.c: the UTxO's address store (docs/byron.md 5.4.1 steps 2 and
 * 9; docs/storage.md "Ledger snapshots"): every distinct address the UTxO
 * pays to is held once, with a count of the entries (and journal records)
 * holding it, however many outputs name it. Outputs to one address are
 * common (a wallet's change, an exchange's deposits), and an address is
 * 43 to about 100 bytes where an entry is 48, so a copy per output would
 * cost more than the entry itself (docs/performance.md).
 *
 * Records are found by their bytes through an open-addressing index of
 * (hash, id + 1) slots with linear probing and backward-shift deletion,
 * as the UTxO's own index (utxo.c). The hash is SipHash-2-4 under a key
 * drawn at random per store: a peer choosing addresses cannot pile them
 * into one probe run without knowing the key.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

#define INITIAL_BITS 6

static uint32_t bytes_hash(const utxo_addrs *s, const uint8_t *bytes, size_t len) {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, bytes, len, s->key);
  uint32_t h;
  memcpy(&h, out, sizeof h);
  return h;
}

static size_t home_of(const utxo_addrs *s, uint32_t hash) {
  return (size_t)(((uint64_t)hash * s->cap) >> 32); /* the high bits: the well-mixed ones */
}

static size_t next_slot(const utxo_addrs *s, size_t i) { return (i + 1) & (s->cap - 1); }

int utxo_addrs_init(utxo_addrs *s) {
  memset(s, 0, sizeof *s);
  s->slots = calloc((size_t)1 << INITIAL_BITS, sizeof *s->slots);
  if (s->slots == NULL)
    return CDL_E_NOMEM;
  s->bits = INITIAL_BITS;
  s->cap = (size_t)1 << INITIAL_BITS;
  crypto_shorthash_keygen(s->key);
  return CDL_OK;
}

void utxo_addrs_free(utxo_addrs *s) {
  for (size_t i = 0; i < s->n_recs; i++)
    if (s->recs[i].refs > 0 && !s->recs[i].in_slab)
      free(s->recs[i].bytes);
  free(s->recs);
  free(s->free_ids);
  free(s->slots);
  free(s->slab);
  memset(s, 0, sizeof *s);
}

static bool same_bytes(const utxo_addr *r, const uint8_t *bytes, size_t len) {
  return r->len == len && memcmp(r->bytes, bytes, len) == 0;
}

/* The slot holding these bytes, or the free slot that ends their probe run. */
static size_t find_slot(const utxo_addrs *s, const uint8_t *bytes, size_t len, uint32_t h) {
  for (size_t i = home_of(s, h);; i = next_slot(s, i)) {
    utxo_slot slot = s->slots[i];
    if (slot.ref == 0 || (slot.hash == h && same_bytes(&s->recs[slot.ref - 1], bytes, len)))
      return i;
  }
}

static void link_slot(utxo_addrs *s, uint32_t hash, uint32_t ref) {
  size_t i = home_of(s, hash);
  while (s->slots[i].ref != 0)
    i = next_slot(s, i);
  s->slots[i] = (utxo_slot){hash, ref};
}

/* Room in the index for |count| records at a load of at most 3/4. */
static int index_room(utxo_addrs *s, size_t count) {
  if (count <= s->cap / 4 * 3)
    return CDL_OK;
  size_t cap = s->cap;
  unsigned bits = s->bits;
  while (count > cap / 4 * 3)
    cap *= 2, bits++;
  utxo_slot *fresh = calloc(cap, sizeof *fresh), *old = s->slots;
  if (fresh == NULL)
    return CDL_E_NOMEM;
  size_t old_cap = s->cap;
  s->slots = fresh;
  s->cap = cap;
  s->bits = bits;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].ref != 0)
      link_slot(s, old[i].hash, old[i].ref);
  free(old);
  return CDL_OK;
}

/* Empties slot i and closes the gap (backward shift), as utxo.c does. */
static void unlink_slot(utxo_addrs *s, size_t i) {
  size_t hole = i;
  for (size_t j = next_slot(s, i); s->slots[j].ref != 0; j = next_slot(s, j)) {
    size_t home = home_of(s, s->slots[j].hash);
    bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (stays)
      continue;
    s->slots[hole] = s->slots[j];
    hole = j;
  }
  s->slots[hole] = (utxo_slot){0, 0};
}

/* Room for |cap| records, and as many free ids, so that releasing a
 * record never needs memory. */
static int grow_records(utxo_addrs *s, size_t cap) {
  uint32_t *ids = realloc(s->free_ids, cap * sizeof *ids);
  if (ids == NULL)
    return CDL_E_NOMEM;
  s->free_ids = ids;
  s->cap_free = cap;
  utxo_addr *grown = realloc(s->recs, cap * sizeof *grown);
  if (grown == NULL)
    return CDL_E_NOMEM;
  s->recs = grown;
  s->cap_recs = cap;
  return CDL_OK;
}

/* A free record id: a freed one, or a new one at the end. */
static int take_id(utxo_addrs *s, uint32_t *id) {
  if (s->n_free > 0) {
    *id = s->free_ids[--s->n_free];
    return CDL_OK;
  }
  if (s->n_recs >= UTXO_DEAD - 1)
    return CDL_E_NOMEM; /* ids stay below UTXO_DEAD */
  if (s->n_recs == s->cap_recs)
    CDL_TRY(grow_records(s, s->cap_recs ? s->cap_recs * 2 : 64));
  *id = (uint32_t)s->n_recs++;
  return CDL_OK;
}

/* Where the root's 28 bytes lie within the address's encoding: at the
 * decoded pointer, or (for an address built rather than decoded) wherever
 * its bytes occur, as they must, the root being part of the payload. */
static uint16_t root_offset(const cdl_byron_address *a) {
  uintptr_t raw = (uintptr_t)a->raw.ptr, root = (uintptr_t)a->root;
  size_t off = 0;
  if (root >= raw && root - raw + 28 <= a->raw.len)
    off = root - raw;
  else
    while (off + 28 <= a->raw.len && memcmp(a->raw.ptr + off, a->root, 28) != 0)
      off++;
  CDL_ASSERT(off + 28 <= a->raw.len && off <= UINT16_MAX);
  return (uint16_t)off;
}

/* A new record of |a|'s bytes in slot i of the index. */
static int add_record(utxo_addrs *s, const cdl_byron_address *a, uint32_t h, uint32_t *id) {
  cdl_span raw = a->raw, attrs = a->attrs.raw;
  CDL_ASSERT(attrs.ptr >= raw.ptr && attrs.ptr + attrs.len <= raw.ptr + raw.len);
  CDL_ASSERT(raw.len <= UINT32_MAX);
  uint8_t *bytes = malloc(raw.len ? raw.len : 1);
  if (bytes == NULL || index_room(s, s->used + 1) != CDL_OK || take_id(s, id) != CDL_OK) {
    free(bytes);
    return CDL_E_NOMEM;
  }
  memcpy(bytes, raw.ptr, raw.len);
  s->recs[*id] = (utxo_addr){.bytes = bytes,
                             .len = (uint32_t)raw.len,
                             .refs = 1,
                             .attrs_off = (uint32_t)(attrs.ptr - raw.ptr),
                             .attrs_len = (uint32_t)attrs.len,
                             .root_off = root_offset(a),
                             .type = a->type > 254 ? 0xff : (uint8_t)a->type};
  s->used++;
  link_slot(s, h, *id + 1);
  return CDL_OK;
}

int utxo_addrs_hold(utxo_addrs *s, const cdl_byron_address *a, uint32_t *id) {
  uint32_t h = bytes_hash(s, a->raw.ptr, a->raw.len);
  size_t i = find_slot(s, a->raw.ptr, a->raw.len, h);
  if (s->slots[i].ref == 0)
    return add_record(s, a, h, id);
  *id = s->slots[i].ref - 1;
  s->recs[*id].refs++;
  return CDL_OK;
}

void utxo_addrs_release(utxo_addrs *s, uint32_t id) {
  utxo_addr *r = &s->recs[id];
  CDL_ASSERT(id < s->n_recs && r->refs > 0);
  if (--r->refs > 0)
    return;
  uint32_t h = bytes_hash(s, r->bytes, r->len);
  size_t i = find_slot(s, r->bytes, r->len, h);
  CDL_ASSERT(s->slots[i].ref == id + 1);
  unlink_slot(s, i);
  if (!r->in_slab)
    free(r->bytes);
  r->bytes = NULL;
  s->used--;
  CDL_ASSERT(s->n_free < s->cap_free); /* grow_records made room */
  s->free_ids[s->n_free++] = id;
}

int utxo_addrs_reserve(utxo_addrs *s, size_t n, size_t bytes) {
  CDL_ASSERT(s->n_recs == 0 && s->slab == NULL);
  if (n >= UTXO_DEAD - 1)
    return CDL_E_NOMEM;
  if (n > 0) {
    CDL_TRY(grow_records(s, n));
    s->slab = malloc(bytes ? bytes : 1);
    if (s->slab == NULL)
      return CDL_E_NOMEM;
  }
  return index_room(s, n);
}

bool utxo_addrs_add_loaded(utxo_addrs *s, const uint8_t *bytes, const utxo_addr *meta) {
  CDL_ASSERT(s->n_recs < s->cap_recs);
  uint8_t *at =
      s->n_recs == 0 ? s->slab : s->recs[s->n_recs - 1].bytes + s->recs[s->n_recs - 1].len;
  uint32_t h = bytes_hash(s, bytes, meta->len);
  size_t i = find_slot(s, bytes, meta->len, h);
  if (s->slots[i].ref != 0)
    return false;
  memcpy(at, bytes, meta->len);
  utxo_addr *r = &s->recs[s->n_recs++];
  *r = *meta;
  r->bytes = at;
  r->refs = 0;
  r->in_slab = true;
  s->slots[i] = (utxo_slot){h, (uint32_t)s->n_recs};
  s->used++;
  return true;
}
