/*
 * pbft.c: the PBFT signing window (docs/byron.md section 6;
 * ouroboros-consensus Protocol/PBFT/State.hs): the genesis keys that
 * signed the last k main blocks, with a count per key so the threshold
 * check is O(1). EBBs never enter the window.
 */
#include <stdlib.h>

#include "internal.h"

int pbft_init(pbft_window *w, size_t window, size_t n_genesis) {
  memset(w, 0, sizeof *w);
  w->size = window ? window : 1;
  w->signers = calloc(w->size, sizeof *w->signers);
  w->counts = calloc(n_genesis ? n_genesis : 1, sizeof *w->counts);
  if (w->signers == NULL || w->counts == NULL) {
    pbft_free(w);
    return CDL_E_NOMEM;
  }
  return CDL_OK;
}

int pbft_copy(pbft_window *dst, const pbft_window *src, size_t n_genesis) {
  TRY(pbft_init(dst, src->size, n_genesis));
  uint16_t *signers = dst->signers;
  uint32_t *counts = dst->counts;
  *dst = *src;
  dst->signers = signers;
  dst->counts = counts;
  memcpy(signers, src->signers, src->size * sizeof *signers);
  memcpy(counts, src->counts, (n_genesis ? n_genesis : 1) * sizeof *counts);
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
