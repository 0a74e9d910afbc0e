/*
 * bench_validate.c: full validation of the real mainnet epoch 0 from the
 * mainnet genesis (docs/byron.md section 5; issue: ledger), streamed from
 * the zstd chunk as `cardinal-cli chain validate` does:
 *   threads 1 / 2   every rule, every signature (block, witnesses)
 *   no-signatures   trusted re-application
 * against the raw Ed25519 verify rate measured in the same run, plus the
 * process's peak RSS. Figures are best of BENCH_RUNS.
 * Usage: bench_validate GENESIS.json CHUNK[.zstd]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench_common.h"
#include "cardinal/crypto.h"
#include "cardinal/ledger.h"
#include "cardinal/storage.h"

static cdl_byron_genesis genesis;
static cdl_arena genesis_arena;

static int load_genesis(const char *path) {
  cdl_buf text;
  cdl_error err = {0};
  cdl_buf_init(&text, 0);
  cdl_arena_init(&genesis_arena, 0);
  int rc = cdl_file_read_all(path, (size_t)64 << 20, &text, &err);
  if (rc == CDL_OK) rc = cdl_byron_genesis_load(text.data, text.len, &genesis_arena, &genesis, &err);
  cdl_buf_free(&text);
  if (rc != CDL_OK) fprintf(stderr, "bench: genesis: %s\n", err.message);
  return rc;
}

/* One validation; returns the seconds spent on blocks, or -1. */
static double run(const char *chunk, unsigned threads, unsigned flags, uint64_t *blocks) {
  cdl_ledger_config cfg = {genesis.protocol_magic, cdl_byron_requires_magic(genesis.protocol_magic),
                           genesis.k, 0, flags, NULL};
  cdl_ledger *l;
  cdl_replay *rp;
  cdl_chunk_reader *r;
  cdl_error err = {0};
  if (cdl_ledger_new(&genesis, &cfg, &l, &err) != CDL_OK ||
      cdl_chunk_reader_open(chunk, &r, &err) != CDL_OK || cdl_replay_new(l, threads, &rp) != CDL_OK) {
    fprintf(stderr, "bench: %s\n", err.message);
    return -1;
  }
  cdl_span spans[512];
  size_t n, applied;
  cdl_rejection rej = {0};
  int rc = CDL_OK;
  double t = bench_now_s();
  while (rc == CDL_OK && cdl_chunk_reader_next(r, spans, NULL, 512, &n, &err) == CDL_OK && n > 0)
    rc = cdl_replay_batch(rp, spans, n, &applied, &rej);
  t = bench_now_s() - t;
  cdl_ledger_totals totals;
  cdl_ledger_get_totals(l, &totals);
  *blocks = totals.blocks;
  if (rc != CDL_OK) fprintf(stderr, "bench: rejected: %s %s\n", rej.rule, rej.detail);
  cdl_replay_del(rp);
  cdl_chunk_reader_close(r);
  cdl_ledger_del(l);
  return rc == CDL_OK ? t : -1;
}

static double best_rate(const char *chunk, unsigned threads, unsigned flags) {
  double best = 0;
  for (int i = 0; i < BENCH_RUNS; i++) {
    uint64_t blocks = 0;
    double t = run(chunk, threads, flags, &blocks);
    if (t < 0) return -1;
    if (blocks / t > best) best = blocks / t;
  }
  return best;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_validate GENESIS.json CHUNK[.zstd]\n");
    return 2;
  }
  if (cdl_crypto_init() != CDL_OK || load_genesis(argv[1]) != CDL_OK) return 3;
  double one = best_rate(argv[2], 1, 0), two = best_rate(argv[2], 2, 0);
  double trusted = best_rate(argv[2], 1, CDL_LEDGER_NO_SIGNATURES);
  if (one < 0 || two < 0 || trusted < 0) return 1;
  double verify = bench_verify_rate();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("validate epoch 0 (21,587 blocks, 33 txs, every rule and signature)\n");
  printf("  1 thread:        %8.0f blocks/s\n", one);
  printf("  2 threads:       %8.0f blocks/s  (%.2fx one thread)\n", two, two / one);
  printf("  no signatures:   %8.0f blocks/s\n", trusted);
  printf("ed25519 verify:    %8.0f verifications/s (one core, same run)\n", verify);
  printf("ratio 1-thread blocks/s to verify rate: %.2f\n", one / verify);
  printf("peak RSS:          %8.1f MB (whole benchmark process)\n", ru.ru_maxrss / 1024.0);
  printf("targets: >= 15,000 blocks/s on one core: %s; peak RSS < 64 MB: %s\n",
         one >= 15000 ? "met" : "NOT met", ru.ru_maxrss < 64 * 1024 ? "met" : "NOT met");
  cdl_arena_free(&genesis_arena);
  return 0;
}
