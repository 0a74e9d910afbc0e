/*
 * bench_generate.c: how fast `chain generate` forges (issue 5's target:
 * a full epoch of k = 2160, 21,600 slots, in seconds). Makes a genesis of
 * 7 keys and 20 funded keys in a temporary directory, forges one full
 * epoch with 2 transactions per block, then validates that chain with
 * every signature checked in the same run: the baseline the generation
 * rate is compared with (forging signs what validation verifies).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "cardinal/crypto.h"
#include "cardinal/gen.h"

static void die(const char *what, const cdl_error *err) {
  fprintf(stderr, "bench_generate: %s: %s\n", what, err->message);
  exit(1);
}

static double validate(const cdl_gen_dir *d, const char *mem, size_t len) {
  cdl_error err = {0};
  cdl_span *blocks;
  size_t n;
  if (cdl_gen_split_chunk((const uint8_t *)mem, len, &blocks, &n, &err) != CDL_OK)
    die("split", &err);
  cdl_ledger_config cfg = {d->genesis.protocol_magic, d->requires_magic, d->genesis.k, 0, 0, NULL};
  cdl_ledger *l;
  if (cdl_ledger_new(&d->genesis, &cfg, &l, &err) != CDL_OK) die("ledger", &err);
  cdl_replay *r;
  if (cdl_replay_new(l, 1, &r) != CDL_OK) die("replay", &err);
  double t0 = bench_now_s();
  size_t applied;
  cdl_rejection rej;
  if (cdl_replay_batch(r, blocks, n, &applied, &rej) != CDL_OK) {
    fprintf(stderr, "bench_generate: generated block refused: %s\n", rej.rule);
    exit(1);
  }
  double s = bench_now_s() - t0;
  cdl_replay_del(r);
  cdl_ledger_del(l);
  free(blocks);
  return (double)n / s;
}

int main(void) {
  if (cdl_crypto_init() != CDL_OK) return 1;
  char dir[] = "/tmp/cdl-bench-gen-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  char net[64];
  snprintf(net, sizeof net, "%s/net", dir);
  cdl_error err = {0};
  cdl_gen_dir d;
  bench_make_network(net, 2160, &d);
  cdl_gen_chain_opts o = {.slots = 21600,
                          .fill = 1.0,
                          .txs_per_block = 2,
                          .delegation = true,
                          .updates = true,
                          .seed = 1};
  double best = 0, best_verify = 0;
  size_t blocks = 0, bytes = 0;
  for (int run = 0; run < 3; run++) {
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    cdl_gen_chain_stats st;
    cdl_rejection rej;
    double t0 = bench_now_s();
    if (cdl_gen_chain(&d, &o, f, &st, &rej, &err) != CDL_OK) die("generate", &err);
    double s = bench_now_s() - t0;
    fclose(f);
    blocks = st.blocks + st.ebbs;
    bytes = len;
    if (blocks / s > best) best = blocks / s;
    double v = validate(&d, mem, len);
    if (v > best_verify) best_verify = v;
    free(mem);
  }
  printf("generate: one epoch of k=2160: %zu blocks (2 txs each), %.1f MB\n", blocks, bytes / 1e6);
  printf("generate: %.0f blocks/s (%.2f s for the epoch)\n", best, blocks / best);
  printf("validate (baseline, same chain, signatures on, 1 thread): %.0f blocks/s\n", best_verify);
  printf("ratio generate/validate: %.2f\n", best / best_verify);
  cdl_gen_dir_free(&d);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
