/*
 * rng.c: the generators' seeded PRNG, xoshiro256** seeded through
 * splitmix64 (Blackman and Vigna). Same seed, same chain: generated test
 * data is reproducible from the seed printed with it.
 */
#include <sodium.h>

#include "cardinal/gen.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void cdl_gen_rng_seed(cdl_gen_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

void cdl_gen_rng_seed_random(cdl_gen_rng *r) {
  uint64_t seed;
  randombytes_buf(&seed, sizeof seed);
  cdl_gen_rng_seed(r, seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cdl_gen_rng_next(cdl_gen_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t cdl_gen_rng_below(cdl_gen_rng *r, uint64_t n) {
  CDL_ASSERT(n > 0);
  /* Rejection sampling keeps the draw uniform. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = cdl_gen_rng_next(r);
  while (x >= limit);
  return x % n;
}

void cdl_gen_rng_bytes(cdl_gen_rng *r, uint8_t *out, size_t len) {
  for (size_t i = 0; i < len; i += 8) {
    uint64_t x = cdl_gen_rng_next(r);
    for (size_t j = 0; j < 8 && i + j < len; j++) out[i + j] = (uint8_t)(x >> (8 * j));
  }
}
