/*
 * bench_common.h: what every benchmark shares: a monotonic clock and the
 * raw Ed25519 verify rate, the baseline measured in the same run.
 */
#ifndef CARDINAL_BENCH_COMMON_H
#define CARDINAL_BENCH_COMMON_H

#define BENCH_RUNS 5

double bench_now_s(void);
/* Best-of-BENCH_RUNS verifications per second of one signature over a
 * 600-byte message (a block header's size), one core. */
double bench_verify_rate(void);

#endif
