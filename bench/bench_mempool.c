/*
 * bench_mempool.c: the mempool's speed (docs/mempool.md): a chain of
 * 10,000 signed txs, each spending the change of the one before, added
 * to a mempool over a generated network's genesis ledger (signatures
 * checked), then re-validated as after a chain change (signatures
 * trusted). Baseline, measured in the same run: the same txs applied
 * straight to a ledger with cdl_ledger_apply_tx. Prints txs/s and ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "cardinal/crypto.h"
#include "cardinal/mempool.h"

#define N_TXS 10000

typedef struct txs {
  cdl_buf *gentx; /* [0, txaux] each */
  size_t n;
} txs;

/* Poor key 0's genesis output: its id and value. */
static void genesis_coin(const cdl_gen_dir *d, uint8_t id[32], uint64_t *lovelace) {
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  cdl_key_address(&d->secrets.poor[0], d->requires_magic, d->genesis.protocol_magic, &addr);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_error err = {0};
  cdl_byron_utxo_entry *e = NULL;
  size_t n = 0;
  if (cdl_byron_genesis_utxo(&d->genesis, d->requires_magic, &arena, &e, &n, &err) != CDL_OK)
    exit(1);
  for (size_t i = 0; i < n; i++)
    if (e[i].address.len == addr.len && memcmp(e[i].address.ptr, addr.data, addr.len) == 0) {
      memcpy(id, e[i].tx_id, 32);
      *lovelace = e[i].lovelace;
    }
  cdl_arena_free(&arena);
  cdl_buf_free(&addr);
}

static void make_chain(const cdl_gen_dir *d, txs *t) {
  uint32_t magic = d->genesis.protocol_magic;
  cdl_buf from, to;
  cdl_buf_init(&from, 0);
  cdl_buf_init(&to, 0);
  cdl_key_address(&d->secrets.poor[0], d->requires_magic, magic, &from);
  cdl_key_address(&d->secrets.poor[1], d->requires_magic, magic, &to);
  cdl_payload_tx_input in = {.index = 0, .owner = &d->secrets.poor[0]};
  uint64_t value = 0;
  genesis_coin(d, in.tx_id, &value);
  t->n = N_TXS;
  t->gentx = calloc(N_TXS, sizeof *t->gentx);
  for (size_t i = 0; i < N_TXS; i++) {
    value -= 1000000 + 200000; /* one ADA out, 0.2 ADA fee */
    cdl_payload_tx_output outs[2] = {{cdl_span_of(to.data, to.len), 1000000},
                                     {cdl_span_of(from.data, from.len), value}};
    cdl_buf *g = &t->gentx[i];
    cdl_buf_init(g, 0);
    cdl_cbor_enc_array(g, 2);
    cdl_cbor_enc_uint(g, CDL_MP_TX);
    uint8_t id[32];
    cdl_payload_tx_make(&in, 1, outs, 2, magic, g, id);
    memcpy(in.tx_id, id, 32);
    in.index = 1;
  }
  cdl_buf_free(&from);
  cdl_buf_free(&to);
}

static cdl_ledger *genesis_ledger(const cdl_gen_dir *d) {
  cdl_ledger_config cfg = {.protocol_magic = d->genesis.protocol_magic,
                           .requires_magic = d->requires_magic,
                           .k = d->genesis.k};
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_new(&d->genesis, &cfg, &l, &err) != CDL_OK) exit(1);
  return l;
}

/* Seconds to apply every tx straight to a fresh ledger (the baseline). */
static double ledger_run(const cdl_gen_dir *d, const txs *t) {
  cdl_ledger *l = genesis_ledger(d);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_error err = {0};
  cdl_byron_ctx ctx = {&arena, &err, 0};
  double t0 = bench_now_s();
  for (size_t i = 0; i < t->n; i++) {
    cdl_byron_txaux aux;
    cdl_rejection rej;
    cdl_arena_reset(&arena);
    if (cdl_byron_txaux_decode(t->gentx[i].data + 2, t->gentx[i].len - 2, &ctx, &aux) != CDL_OK ||
        cdl_ledger_apply_tx(l, &aux, &rej) != CDL_OK)
      exit(1);
  }
  double s = bench_now_s() - t0;
  cdl_arena_free(&arena);
  cdl_ledger_del(l);
  return s;
}

/* Seconds to add every tx, and to re-validate them all once. */
static void mempool_run(const cdl_gen_dir *d, const txs *t, double *add_s, double *sync_s) {
  cdl_ledger *l = genesis_ledger(d);
  cdl_mempool_config cfg = {0};
  cdl_mempool *mp = NULL;
  if (cdl_mempool_new(&cfg, l, 0, &mp) != CDL_OK) exit(1);
  double t0 = bench_now_s();
  for (size_t i = 0; i < t->n; i++) {
    cdl_rejection rej;
    if (cdl_mempool_add(mp, l, t->gentx[i].data, t->gentx[i].len, 0, NULL, &rej) != CDL_OK) {
      fprintf(stderr, "tx %zu refused: %s %s\n", i, rej.rule, rej.detail);
      exit(1);
    }
  }
  *add_s = bench_now_s() - t0;
  t0 = bench_now_s();
  if (cdl_mempool_sync(mp, l, 1) != CDL_OK) exit(1);
  *sync_s = bench_now_s() - t0;
  cdl_mempool_stats st;
  cdl_mempool_stats_get(mp, &st);
  if (st.count != t->n) exit(1);
  cdl_mempool_del(mp);
  cdl_ledger_del(l);
}

int main(void) {
  if (cdl_crypto_init() != CDL_OK) return 1;
  char dir[] = "/tmp/cdl-bench-mempool-XXXXXX";
  if (mkdtemp(dir) == NULL) return 1;
  cdl_gen_dir d;
  bench_make_network(dir, 2160, &d);
  txs t;
  make_chain(&d, &t);
  double best_ledger = 1e9, best_add = 1e9, best_sync = 1e9;
  for (int r = 0; r < BENCH_RUNS; r++) {
    double ls = ledger_run(&d, &t), as, ss;
    mempool_run(&d, &t, &as, &ss);
    if (ls < best_ledger) best_ledger = ls;
    if (as < best_add) best_add = as;
    if (ss < best_sync) best_sync = ss;
  }
  double verify = bench_verify_rate();
  printf("mempool: %d chained txs (%zu bytes each), best of %d runs, one core\n", N_TXS,
         t.gentx[0].len - 2, BENCH_RUNS);
  printf("  baseline: cdl_ledger_apply_tx      %10.0f txs/s\n", N_TXS / best_ledger);
  printf("  mempool add (signatures checked)   %10.0f txs/s  %.2fx baseline\n", N_TXS / best_add,
         best_ledger / best_add);
  printf("  mempool re-validation (trusted)    %10.0f txs/s  %.2fx baseline\n", N_TXS / best_sync,
         best_ledger / best_sync);
  printf("  raw Ed25519 verify                 %10.0f /s\n", verify);
  for (size_t i = 0; i < t.n; i++) cdl_buf_free(&t.gentx[i]);
  free(t.gentx);
  cdl_gen_dir_free(&d);
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
