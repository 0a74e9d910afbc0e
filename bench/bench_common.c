/*
 * bench_common.c: see bench_common.h.
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardinal/crypto.h"

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { VERIFY_BATCH = 4000 };

/* VERIFY_BATCH verifications of one signature over a 600-byte message. */
static void *verify_batch(void *unused) {
  (void)unused;
  uint8_t seed[32] = {7}, pk[32], sig[64], msg[600];
  memset(msg, 0x5a, sizeof msg);
  cdl_ed25519_seed_public(seed, pk);
  cdl_ed25519_seed_sign(seed, msg, sizeof msg, sig);
  for (int i = 0; i < VERIFY_BATCH; i++) {
    if (!cdl_ed25519_verify(pk, msg, sizeof msg, sig)) abort();
  }
  return NULL;
}

/* Verifications per second of |threads| threads each running one batch. */
static double verify_rate_once(unsigned threads) {
  pthread_t th[8];
  double t = bench_now_s();
  for (unsigned i = 1; i < threads; i++) {
    if (pthread_create(&th[i], NULL, verify_batch, NULL) != 0) abort();
  }
  verify_batch(NULL);
  for (unsigned i = 1; i < threads; i++) pthread_join(th[i], NULL);
  return (double)threads * VERIFY_BATCH / (bench_now_s() - t);
}

double bench_verify_rate(void) {
  double best = 0;
  for (int r = 0; r < BENCH_RUNS; r++) {
    double rate = verify_rate_once(1);
    if (rate > best) best = rate;
  }
  return best;
}

void bench_verify_scaling(unsigned threads, double *one, double *many) {
  if (threads < 1 || threads > 8) abort();
  for (int r = 0; r < BENCH_RUNS; r++) {
    double a = verify_rate_once(1), b = verify_rate_once(threads);
    if (a > *one) *one = a;
    if (b > *many) *many = b;
  }
}
