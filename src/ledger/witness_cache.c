/*
 * witness_cache.c: the verified-witness cache (include/cardinal/ledger.h
 * "Verified witnesses"; docs/mempool.md "Verified witnesses").
 *
 * A transaction is verified when it enters the mempool and again when the
 * block holding it is validated; the second check is the same Ed25519
 * verification of the same key and signature over the same tx id (docs/
 * byron.md 3.2: a witness signs tag || magic || tx id). The cache remembers
 * the witnesses that verified, so the second check is a look-up.
 *
 * Soundness: an entry is a keyed BLAKE2b-256 digest of everything the
 * verdict depends on (protocol magic, witness type, key, signature, tx
 * id). A changed transaction has another id and a changed witness other
 * bytes, so neither can meet a stored digest short of a BLAKE2b collision;
 * only successful verifications are stored, so a hit means "this exact
 * check passed before". The digest key is random per cache, so a peer
 * cannot choose witnesses that crowd one bucket to evict others'.
 *
 * Layout: a power-of-two number of 4-way buckets; a full bucket replaces
 * its entries in turn. One mutex guards the table: the block-fetch workers
 * (src/net/client_verify.c) look up from their threads, and a look-up is a
 * few hundred nanoseconds against an Ed25519 verification's 50 us.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define WAYS 4

typedef struct bucket {
  uint8_t digest[WAYS][32];
  uint8_t used;   /* entries filled, from the front */
  uint8_t victim; /* the entry a full bucket replaces next */
} bucket;

struct cdl_witness_cache {
  pthread_mutex_t mu;
  bucket *buckets;
  size_t mask; /* buckets - 1 */
  uint8_t key[crypto_generichash_KEYBYTES];
  cdl_witness_cache_stats st;
};

int cdl_witness_cache_new(size_t entries, cdl_witness_cache **out) {
  size_t n = 1;
  while (n * WAYS < entries)
    n *= 2;
  cdl_witness_cache *c = calloc(1, sizeof *c);
  if (c == NULL)
    return CDL_E_NOMEM;
  c->buckets = calloc(n, sizeof *c->buckets);
  if (c->buckets == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c->buckets);
    free(c);
    return CDL_E_NOMEM;
  }
  c->mask = n - 1;
  c->st.capacity = n * WAYS;
  randombytes_buf(c->key, sizeof c->key);
  *out = c;
  return CDL_OK;
}

void cdl_witness_cache_del(cdl_witness_cache *c) {
  if (c == NULL)
    return;
  pthread_mutex_destroy(&c->mu);
  free(c->buckets);
  free(c);
}

static void digest_of(const cdl_witness_cache *c, const cdl_byron_witness *w,
                      const uint8_t tx_id[32], uint32_t magic, uint8_t out[32]) {
  uint8_t head[6] = {(uint8_t)magic,         (uint8_t)(magic >> 8), (uint8_t)(magic >> 16),
                     (uint8_t)(magic >> 24), (uint8_t)w->type,      (uint8_t)w->key_len};
  crypto_generichash_state h;
  crypto_generichash_init(&h, c->key, sizeof c->key, 32);
  crypto_generichash_update(&h, head, sizeof head);
  crypto_generichash_update(&h, w->key, w->key_len);
  crypto_generichash_update(&h, w->signature, 64);
  crypto_generichash_update(&h, tx_id, 32);
  crypto_generichash_final(&h, out, 32);
}

static bucket *bucket_of(const cdl_witness_cache *c, const uint8_t digest[32]) {
  uint64_t v;
  memcpy(&v, digest, sizeof v);
  return &c->buckets[v & c->mask];
}

static bool in_bucket(const bucket *b, const uint8_t digest[32]) {
  for (unsigned i = 0; i < b->used; i++)
    if (sodium_memcmp(b->digest[i], digest, 32) == 0)
      return true;
  return false;
}

/* Only key and signature witnesses have a check to remember. */
static bool cacheable(const cdl_byron_witness *w) {
  return (w->type == CDL_BYRON_WIT_PUBKEY && w->key_len == 64) ||
         (w->type == CDL_BYRON_WIT_REDEEM && w->key_len == 32);
}

static bool lookup(cdl_witness_cache *c, const uint8_t d[32]) {
  pthread_mutex_lock(&c->mu);
  bool hit = in_bucket(bucket_of(c, d), d);
  if (hit)
    c->st.hits++;
  else
    c->st.misses++;
  pthread_mutex_unlock(&c->mu);
  return hit;
}

static void store(cdl_witness_cache *c, const uint8_t d[32]) {
  pthread_mutex_lock(&c->mu);
  bucket *b = bucket_of(c, d);
  if (!in_bucket(b, d)) {
    unsigned at = b->used;
    if (at < WAYS) {
      b->used++;
    } else { /* full: the oldest of the four goes */
      at = b->victim;
      b->victim = (uint8_t)((at + 1) % WAYS);
      c->st.evicted++;
    }
    memcpy(b->digest[at], d, 32);
    c->st.stored++;
  }
  pthread_mutex_unlock(&c->mu);
}

bool cdl_witness_cache_has(cdl_witness_cache *c, const cdl_byron_witness *w,
                           const uint8_t tx_id[32], uint32_t magic) {
  if (!cacheable(w)) return false;
  uint8_t d[32];
  digest_of(c, w, tx_id, magic, d);
  return lookup(c, d);
}

void cdl_witness_cache_put(cdl_witness_cache *c, const cdl_byron_witness *w,
                           const uint8_t tx_id[32], uint32_t magic) {
  if (!cacheable(w)) return;
  uint8_t d[32];
  digest_of(c, w, tx_id, magic, d);
  store(c, d);
}

bool cdl_witness_verify_cached(cdl_witness_cache *c, const cdl_byron_witness *w,
                               const uint8_t tx_id[32], uint32_t magic) {
  if (c == NULL || !cacheable(w)) return cdl_byron_witness_verify(w, tx_id, magic);
  uint8_t d[32];
  digest_of(c, w, tx_id, magic, d); /* once, for the look-up and the store */
  if (lookup(c, d)) return true;
  bool ok = cdl_byron_witness_verify(w, tx_id, magic);
  if (ok) store(c, d);
  return ok;
}

void cdl_witness_cache_stats_get(cdl_witness_cache *c, cdl_witness_cache_stats *st) {
  pthread_mutex_lock(&c->mu);
  *st = c->st;
  pthread_mutex_unlock(&c->mu);
}
