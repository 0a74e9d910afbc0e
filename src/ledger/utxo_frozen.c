/*
 * utxo_frozen.c: the UTxO's frozen part and its ordered walk
 * (docs/storage.md "Ledger snapshots", docs/performance.md "Restart").
 *
 * A ledger read from a snapshot keeps the snapshot's entries as they come,
 * in ascending (tx id, index) order, in one array searched in place: no
 * index is built (an index of millions of entries is millions of cache
 * misses), and where the image is mapped the array is the image itself,
 * so that opening touches no fresh memory for them (fresh memory costs
 * more than the rest of an open on a virtual machine: docs/design.md 7c). A
 * search narrows to the entries sharing the tx id's top bits through a
 * table of starts, then bisects: tx ids are Blake2b-256 digests, so each
 * range holds a few dozen entries; ids ground to share a prefix only
 * lengthen their own range, whose search stays logarithmic.
 *
 * The ordered walk (utxo_sorted) is what a snapshot is written from: the
 * own entries sorted (bucketed by their top 16 bits, then each bucket
 * sorted), merged with the frozen ones they do not hide.
 */
#include <stddef.h>
#include <stdlib.h>

#include "internal.h"

#define BUCKET_BITS 16
#define SMALL_SORT 4096 /* fewer entries than this: sorted in one go */

int utxo_key_cmp(const utxo_entry *a, const utxo_entry *b) {
  int c = memcmp(a->tx_id, b->tx_id, 32);
  if (c != 0)
    return c;
  return a->index < b->index ? -1 : a->index > b->index;
}

static uint32_t top_bits(const uint8_t tx_id[32], unsigned bits) {
  if (bits == 0)
    return 0;
  uint32_t v =
      (uint32_t)tx_id[0] << 24 | (uint32_t)tx_id[1] << 16 | (uint32_t)tx_id[2] << 8 | tx_id[3];
  return v >> (32 - bits);
}

/* A snapshot's entry is a utxo_entry as it lies in memory on a
 * little-endian host: 32 + 4 + 4 + 8 bytes, no padding. */
_Static_assert(sizeof(utxo_entry) == SNAPSHOT_UTXO_ENTRY_BYTES &&
                   offsetof(utxo_entry, index) == 32 && offsetof(utxo_entry, addr) == 36 &&
                   offsetof(utxo_entry, lovelace) == 40,
               "utxo_entry is not the snapshot's entry layout");

utxo_entry *utxo_frozen_alloc(utxo *u, size_t n) {
  CDL_ASSERT(u->count == 0 && u->n_frozen == 0 && u->frozen == NULL);
  u->frozen_copy = cdl_alloc_large((n ? n : 1) * sizeof *u->frozen_copy);
  u->frozen = u->frozen_copy;
  return u->frozen_copy;
}

void utxo_frozen_borrow(utxo *u, const utxo_entry *entries, const cdl_ledger_image_owner *owner) {
  CDL_ASSERT(u->count == 0 && u->n_frozen == 0 && u->frozen == NULL);
  u->frozen = entries;
  u->frozen_owner = *owner;
}

int utxo_frozen_seal(utxo *u, size_t n, uint64_t lovelace) {
  unsigned bits = 0;
  while (bits < BUCKET_BITS && ((size_t)1 << (bits + 3)) <= n)
    bits++; /* about 8+ a range */
  size_t ranges = (size_t)1 << bits;
  u->starts = malloc((ranges + 1) * sizeof *u->starts);
  if (u->starts == NULL)
    return CDL_E_NOMEM;
  size_t i = 0;
  for (size_t p = 0; p < ranges; p++) {
    while (i < n && top_bits(u->frozen[i].tx_id, bits) < p)
      i++;
    u->starts[p] = (uint32_t)i;
  }
  u->starts[ranges] = (uint32_t)n;
  u->start_bits = bits;
  u->n_frozen = n;
  u->frozen_lovelace = lovelace;
  u->generation++;
  return CDL_OK;
}

const utxo_entry *utxo_frozen_find(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  uint32_t p = top_bits(tx_id, u->start_bits);
  size_t lo = u->starts[p], hi = u->starts[p + 1];
  utxo_entry key;
  memcpy(key.tx_id, tx_id, 32);
  key.index = index;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = utxo_key_cmp(&u->frozen[mid], &key);
    if (c == 0)
      return &u->frozen[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static int ptr_cmp(const void *a, const void *b) {
  return utxo_key_cmp(*(const utxo_entry *const *)a, *(const utxo_entry *const *)b);
}

/* The own entries (dead ones too) in key order: scattered into buckets by
 * their top bits in two passes over the pages, then each bucket sorted. */
static int sort_own(const utxo *u, const utxo_entry **out) {
  size_t n = u->count;
  if (n < SMALL_SORT) {
    for (size_t i = 0; i < n; i++)
      out[i] = utxo_at(u, i);
    qsort(out, n, sizeof *out, ptr_cmp);
    return CDL_OK;
  }
  size_t *at = calloc(((size_t)1 << BUCKET_BITS) + 1, sizeof *at);
  if (at == NULL)
    return CDL_E_NOMEM;
  for (size_t i = 0; i < n; i++)
    at[top_bits(utxo_at(u, i)->tx_id, BUCKET_BITS) + 1]++;
  for (size_t b = 1; b <= ((size_t)1 << BUCKET_BITS); b++)
    at[b] += at[b - 1];
  for (size_t i = 0; i < n; i++) {
    const utxo_entry *e = utxo_at(u, i);
    out[at[top_bits(e->tx_id, BUCKET_BITS)]++] = e;
  }
  /* at[b] is now the end of bucket b, the start of bucket b + 1. */
  for (size_t b = 0, start = 0; b < ((size_t)1 << BUCKET_BITS); start = at[b++])
    if (at[b] - start > 1)
      qsort(out + start, at[b] - start, sizeof *out, ptr_cmp);
  free(at);
  return CDL_OK;
}

/* Own entries |own| (sorted) merged with the frozen ones into |out|: on
 * equal keys the own entry wins (a dead one hides the frozen entry). */
static size_t merge(const utxo *u, const utxo_entry **own, const utxo_entry **out) {
  size_t i = 0, j = 0, n = 0;
  while (i < u->n_frozen || j < u->count) {
    int c = j == u->count ? -1 : i == u->n_frozen ? 1 : utxo_key_cmp(&u->frozen[i], own[j]);
    if (c < 0) {
      out[n++] = &u->frozen[i++];
      continue;
    }
    if (!utxo_dead(own[j]))
      out[n++] = own[j];
    j++;
    i += c == 0;
  }
  return n;
}

int utxo_sorted(const utxo *u, const utxo_entry ***out) {
  CDL_ASSERT(u->base == NULL);
  size_t visible = utxo_visible_count(u);
  const utxo_entry **own = malloc((u->count ? u->count : 1) * sizeof *own);
  if (own == NULL || sort_own(u, own) != CDL_OK) {
    free(own);
    return CDL_E_NOMEM;
  }
  if (u->n_frozen == 0 && u->n_dead == 0) {
    *out = own; /* the own entries are all there is */
    return CDL_OK;
  }
  const utxo_entry **all = malloc((visible ? visible : 1) * sizeof *all);
  if (all == NULL) {
    free(own);
    return CDL_E_NOMEM;
  }
  size_t n = merge(u, own, all);
  CDL_ASSERT(n == visible);
  free(own);
  *out = all;
  return CDL_OK;
}
