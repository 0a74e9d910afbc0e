/*
 * fetching.c: the txs whose bodies are being pulled from peers right now
 * (include/cardinal/mempool.h "Fetching"; docs/mempool.md "One pull per
 * tx"), so that a tx several peers advertise at once is pulled from one of
 * them, as ouroboros-network's shared inbound tx state (TxSubmission
 * Inbound V2) does.
 *
 * A fixed open-addressing table (linear probing, deletion by backward
 * shift) keyed by SipHash of (kind, id) under a random key: a peer
 * chooses the ids it advertises, not where they land. When the table is
 * full a claim is granted without being recorded: the tx may then be
 * pulled twice, which costs bytes and never loses it.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mempool_internal.h"

/* Slots: a peer has at most 10 ids unacknowledged, so this covers a few
 * hundred peers pulling at once at a load of three quarters. */
#define FETCH_SLOTS 4096u
#define FETCH_MAX_USED (FETCH_SLOTS / 4 * 3)

typedef struct fetch_slot {
  const void *owner; /* NULL: empty */
  uint8_t kind;
  uint8_t id[32];
} fetch_slot;

struct mp_fetching {
  fetch_slot slots[FETCH_SLOTS];
  size_t used;
  uint64_t changes;
  uint8_t key[MP_ID_KEY_BYTES];
};

int mp_fetching_new(mp_fetching **out) {
  mp_fetching *f = calloc(1, sizeof *f);
  if (f == NULL)
    return CDL_E_NOMEM;
  crypto_shorthash_keygen(f->key);
  *out = f;
  return CDL_OK;
}

void mp_fetching_del(mp_fetching *f) { free(f); }

static size_t home(const mp_fetching *f, uint8_t kind, const uint8_t id[32]) {
  return (size_t)(mp_id_hash(f->key, kind, id) % FETCH_SLOTS);
}

static size_t next(size_t i) { return (i + 1) % FETCH_SLOTS; }

/* The slot holding (kind, id), or the empty slot where it would go. */
static size_t lookup(const mp_fetching *f, uint8_t kind, const uint8_t id[32]) {
  size_t i = home(f, kind, id);
  while (f->slots[i].owner != NULL &&
         !(f->slots[i].kind == kind && memcmp(f->slots[i].id, id, 32) == 0))
    i = next(i);
  return i;
}

/* Empties slot |i| and moves later slots of the same run back, so that
 * every entry stays reachable from its home slot. */
static void remove_at(mp_fetching *f, size_t i) {
  f->slots[i].owner = NULL;
  f->used--;
  f->changes++;
  for (size_t j = next(i); f->slots[j].owner != NULL; j = next(j)) {
    size_t h = home(f, f->slots[j].kind, f->slots[j].id);
    /* Movable when its home is not in (i, j], cyclically. */
    bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays)
      continue;
    f->slots[i] = f->slots[j];
    f->slots[j].owner = NULL;
    i = j;
  }
}

bool cdl_mempool_fetch_claim(cdl_mempool *mp, uint8_t kind, const uint8_t id[32],
                             const void *owner) {
  mp_fetching *f = mp_fetching_of(mp);
  size_t i = lookup(f, kind, id);
  if (f->slots[i].owner != NULL)
    return f->slots[i].owner == owner;
  if (f->used >= FETCH_MAX_USED)
    return true; /* unrecorded: maybe pulled twice */
  f->slots[i] = (fetch_slot){.owner = owner, .kind = kind};
  memcpy(f->slots[i].id, id, 32);
  f->used++;
  return true;
}

void cdl_mempool_fetch_release(cdl_mempool *mp, uint8_t kind, const uint8_t id[32],
                               const void *owner) {
  mp_fetching *f = mp_fetching_of(mp);
  size_t i = lookup(f, kind, id);
  if (f->slots[i].owner == owner)
    remove_at(f, i);
}

void cdl_mempool_fetch_release_all(cdl_mempool *mp, const void *owner) {
  mp_fetching *f = mp_fetching_of(mp);
  if (f->used == 0)
    return;
  /* A backward shift may move an entry of |owner| into the slot just
   * looked at: look at it again. */
  for (size_t i = 0; i < FETCH_SLOTS;) {
    if (f->slots[i].owner == owner)
      remove_at(f, i);
    else
      i++;
  }
}

uint64_t cdl_mempool_fetch_changes(const cdl_mempool *mp) {
  return mp_fetching_of((cdl_mempool *)mp)->changes;
}

size_t cdl_mempool_fetching(const cdl_mempool *mp) {
  return mp_fetching_of((cdl_mempool *)mp)->used;
}
