/*
 * bench_common.c: see bench_common.h.
 */
#include "bench_common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardinal/crypto.h"

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_verify_rate(void) {
  uint8_t seed[32] = {7}, pk[32], sig[64], msg[600];
  memset(msg, 0x5a, sizeof msg);
  cdl_ed25519_seed_public(seed, pk);
  cdl_ed25519_seed_sign(seed, msg, sizeof msg, sig);
  double best = 0;
  for (int r = 0; r < BENCH_RUNS; r++) {
    const int n = 4000;
    double t = bench_now_s();
    for (int i = 0; i < n; i++) {
      if (!cdl_ed25519_verify(pk, msg, sizeof msg, sig)) abort();
    }
    double rate = n / (bench_now_s() - t);
    if (rate > best) best = rate;
  }
  return best;
}
