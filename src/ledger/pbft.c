/*
 * pbft.c: the PBFT signing window (docs/byron.md section 6;
 * ouroboros-consensus Protocol/PBFT/State.hs): the genesis keys that
 * signed the last k main blocks, with a count per key so the threshold
 * check is O(1). EBBs never enter the window.
 */
#include <stdlib.h>

#include "internal.h"

/* The ring starts small and grows as signers enter, up to k: a ledger's
 * memory follows its chain, not k (docs/genesis.md "Bounds"), and every
 * fork of a ledger copies only what is there. */
#define PBFT_FIRST_CAP 256

int pbft_init(pbft_window *w, size_t window, size_t n_genesis) {
  memset(w, 0, sizeof *w);
  w->size = window ? window : 1;
  w->cap = w->size < PBFT_FIRST_CAP ? w->size : PBFT_FIRST_CAP;
  w->signers = malloc(w->cap * sizeof *w->signers);
  w->counts = calloc(n_genesis ? n_genesis : 1, sizeof *w->counts);
  if (w->signers == NULL || w->counts == NULL) {
    pbft_free(w);
    return CDL_E_NOMEM;
  }
  return CDL_OK;
}

/* Until the ring is full its signers are [0, used) in order (pbft_push
 * appends at next == used), so it grows by extending its end. */
int pbft_reserve(pbft_window *w) {
  if (w->used < w->cap || w->used == w->size) return CDL_OK;
  size_t cap = w->cap * 2 < w->size ? w->cap * 2 : w->size;
  uint16_t *grown = realloc(w->signers, cap * sizeof *grown);
  if (grown == NULL) return CDL_E_NOMEM;
  w->signers = grown;
  w->cap = cap;
  return CDL_OK;
}

int pbft_copy(pbft_window *dst, const pbft_window *src, size_t n_genesis) {
  size_t n_counts = n_genesis ? n_genesis : 1;
  *dst = *src;
  dst->signers = malloc(src->cap * sizeof *dst->signers);
  dst->counts = malloc(n_counts * sizeof *dst->counts);
  if (dst->signers == NULL || dst->counts == NULL) {
    pbft_free(dst);
    return CDL_E_NOMEM;
  }
  memcpy(dst->signers, src->signers, src->used * sizeof *dst->signers);
  memcpy(dst->counts, src->counts, n_counts * sizeof *dst->counts);
  return CDL_OK;
}

void pbft_free(pbft_window *w) {
  free(w->signers);
  free(w->counts);
  memset(w, 0, sizeof *w);
}

uint32_t pbft_count_after(const pbft_window *w, uint16_t g) {
  uint32_t count = w->counts[g] + 1;
  /* A full window drops its oldest signer when the new one enters. */
  if (w->used == w->size && w->signers[w->next] == g) count--;
  return count;
}

void pbft_push(pbft_window *w, uint16_t g, uint64_t slot) {
  CDL_ASSERT(w->used == w->size || w->used < w->cap); /* pbft_reserve first */
  if (w->used == w->size)
    w->counts[w->signers[w->next]]--;
  else
    w->used++;
  w->signers[w->next] = g;
  w->counts[g]++;
  w->next = (w->next + 1) % w->size;
  w->last_signed_slot = slot;
  w->has_signed = true;
}
