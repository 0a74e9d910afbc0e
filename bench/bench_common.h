/*
 * bench_common.h: what every benchmark shares: a monotonic clock and the
 * raw Ed25519 verify rate, the baseline measured in the same run, and a
 * generated network.
 */
#ifndef CARDINAL_BENCH_COMMON_H
#define CARDINAL_BENCH_COMMON_H

#include "cardinal/gen.h"

#define BENCH_RUNS 5

double bench_now_s(void);
/* Best-of-BENCH_RUNS verifications per second of one signature over a
 * 600-byte message (a block header's size), one core. */
double bench_verify_rate(void);
/* Verifications per second of one thread and of |threads| threads (at
 * most 8) verifying at once, BENCH_RUNS alternating runs each, raising
 * |one| and |many| to the best seen: their ratio is the parallelism the
 * machine gives, the ceiling of any multi-threaded figure. */
void bench_verify_scaling(unsigned threads, double *one, double *many);
/* A generated network in |dir| (7 genesis keys, 20 funded keys, seed 1,
 * mainnet's magic and parameters) with security parameter |k|, loaded;
 * exits on failure (bench_network.c). */
void bench_make_network(const char *dir, uint64_t k, cdl_gen_dir *d);

#endif
