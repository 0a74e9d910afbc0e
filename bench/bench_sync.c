/*
 * bench_sync.c: mainnet epoch 0 synced over loopback (docs/testing.md
 * "Benchmarks"; issue 7's target: at least 10,000 blocks/s end to end).
 *
 *   baseline  the chunk imported into a ChainDB from memory: validation
 *             (every signature) and storage, no network;
 *   sync      the same blocks fetched from `cardinal-node serve`'s server
 *             (cdl_io_server, on its own thread and loop) by the
 *             node-to-node client (cdl_io_sync), validated and stored:
 *             pipelined (200 requests in flight) and not (1);
 * reporting blocks/s and headers/s end to end, CPU seconds of the client
 * and server threads, and each sync's ratio to the baseline.
 *
 * Usage: bench_sync GENESIS CHUNK
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "cardinal/crypto.h"
#include "cardinal/io.h"

static char base_dir[64];

static void die(const char *what, const cdl_error *err) {
  fprintf(stderr, "bench_sync: %s: %s\n", what, err->message);
  exit(1);
}

static double thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The baseline: `db import` of the chunk; leaves the source database. */
static double import_chunk(const char *dir, const char *genesis, const char *chunk,
                           uint64_t *blocks) {
  cdl_db_dir_options o = {
      .dir = dir, .genesis = genesis, .create = true, .sync_interval = UINT64_MAX};
  cdl_db_genesis dg;
  cdl_chaindb *db;
  cdl_error err = {0};
  if (cdl_db_dir_open(&o, &dg, &db, NULL, &err) != CDL_OK) die("open", &err);
  cdl_chunk_reader *r;
  if (cdl_chunk_reader_open(chunk, &r, &err) != CDL_OK) die(chunk, &err);
  cdl_span spans[256];
  size_t n;
  double t0 = bench_now_s();
  *blocks = 0;
  while (cdl_chunk_reader_next(r, spans, NULL, 256, &n, &err) == CDL_OK && n > 0)
    for (size_t i = 0; i < n; i++) {
      cdl_chaindb_add_result res;
      cdl_rejection rej;
      if (cdl_chaindb_add_block(db, spans[i].ptr, spans[i].len, &res, &rej, &err) != CDL_OK ||
          res.outcome != CDL_ADD_ADOPTED)
        die("import", &err);
      (*blocks)++;
    }
  if (cdl_chaindb_close(db, &err) != CDL_OK) die("close", &err);
  double t = bench_now_s() - t0;
  cdl_chunk_reader_close(r);
  cdl_db_genesis_free(&dg);
  return t;
}

typedef struct server_thread {
  pthread_t th;
  uv_loop_t loop;
  uv_async_t stop;
  cdl_io_server *srv;
  double cpu_s;
} server_thread;

static void on_stop(uv_async_t *a) {
  server_thread *t = a->data;
  cdl_io_server_stop(t->srv);
  uv_close((uv_handle_t *)&t->stop, NULL);
}

static void *serve_main(void *arg) {
  server_thread *t = arg;
  double c0 = thread_cpu_s();
  uv_run(&t->loop, UV_RUN_DEFAULT);
  t->cpu_s = thread_cpu_s() - c0;
  return NULL;
}

static void server_start(server_thread *t, cdl_chaindb *db, const cdl_byron_genesis *g) {
  uv_loop_init(&t->loop);
  cdl_io_server_config cfg = {
      .db = db, .n2n = {false, 7, 15, {g->protocol_magic, false, 0, false}}, .host = "127.0.0.1"};
  cdl_error err = {0};
  if (cdl_io_server_start(&t->loop, &cfg, &t->srv, &err) != CDL_OK) die("serve", &err);
  uv_async_init(&t->loop, &t->stop, on_stop);
  t->stop.data = t;
  pthread_create(&t->th, NULL, serve_main, t);
}

static void server_stop(server_thread *t) {
  uv_async_send(&t->stop);
  pthread_join(t->th, NULL);
  uv_loop_close(&t->loop);
}

typedef struct sync_result {
  double seconds, client_cpu_s, server_cpu_s;
  cdl_n2n_client_stats st;
} sync_result;

static int store(void *ctx, const uint8_t *block, size_t len, cdl_error *err) {
  cdl_chaindb_add_result res;
  cdl_rejection rej;
  int rc = cdl_chaindb_add_block(ctx, block, len, &res, &rej, err);
  if (rc == CDL_OK && res.outcome != CDL_ADD_ADOPTED)
    rc = cdl_error_set(err, CDL_E_REJECTED, 0, "block not adopted: %s", rej.rule);
  return rc;
}

static sync_result sync_once(cdl_chaindb *src, const char *genesis, size_t pipeline) {
  char dir[128];
  snprintf(dir, sizeof dir, "%s/copy-%zu", base_dir, pipeline);
  cdl_db_dir_options o = {
      .dir = dir, .genesis = genesis, .create = true, .sync_interval = UINT64_MAX};
  cdl_db_genesis dg;
  cdl_chaindb *db;
  cdl_error err = {0};
  if (cdl_db_dir_open(&o, &dg, &db, NULL, &err) != CDL_OK) die("open copy", &err);
  server_thread t = {0};
  server_start(&t, src, &dg.g);
  cdl_io_sync_config cfg = {.host = "127.0.0.1",
                            .port = cdl_io_server_port(t.srv),
                            .client = {.hs = {false, 7, 14, {dg.g.protocol_magic, true, 0, false}},
                                       .epoch_slots = 10 * dg.g.k,
                                       .pipeline = pipeline,
                                       .fetch_batch = 256,
                                       .on_block = store,
                                       .ctx = db}};
  sync_result r = {0};
  double t0 = bench_now_s(), c0 = thread_cpu_s();
  if (cdl_io_sync(&cfg, &r.st, &err) != CDL_OK) die("sync", &err);
  if (cdl_chaindb_close(db, &err) != CDL_OK) die("close copy", &err);
  r.seconds = bench_now_s() - t0;
  r.client_cpu_s = thread_cpu_s() - c0;
  server_stop(&t);
  r.server_cpu_s = t.cpu_s;
  cdl_db_genesis_free(&dg);
  return r;
}

static void report(const char *name, const sync_result *r, double baseline_bps) {
  double bps = (double)r->st.blocks / r->seconds;
  printf(
      "  %-22s %8.0f blocks/s %8.0f headers/s  %6.1f MB/s  (%.2f s; CPU client %.2f s, "
      "server %.2f s)  ratio to import %.2f\n",
      name, bps, (double)r->st.headers / r->seconds, (double)r->st.block_bytes / 1e6 / r->seconds,
      r->seconds, r->client_cpu_s, r->server_cpu_s, bps / baseline_bps);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN); /* a side closing mid-write is an error, not a death */
  if (argc != 3) {
    fprintf(stderr, "usage: bench_sync GENESIS CHUNK\n");
    return 2;
  }
  cdl_crypto_init();
  snprintf(base_dir, sizeof base_dir, "/tmp/bench-sync-XXXXXX");
  if (mkdtemp(base_dir) == NULL) return 1;
  char src_dir[128];
  snprintf(src_dir, sizeof src_dir, "%s/src", base_dir);
  uint64_t blocks;
  double import_s = import_chunk(src_dir, argv[1], argv[2], &blocks);
  double import_bps = (double)blocks / import_s;
  cdl_db_dir_options o = {.dir = src_dir};
  cdl_db_genesis dg;
  cdl_chaindb *src;
  cdl_error err = {0};
  if (cdl_db_dir_open(&o, &dg, &src, NULL, &err) != CDL_OK) die("open source", &err);
  printf("sync: mainnet epoch 0 over loopback, %llu blocks, every signature checked\n",
         (unsigned long long)blocks);
  printf("  %-22s %8.0f blocks/s  (%.2f s)\n", "baseline: db import", import_bps, import_s);
  sync_result piped = sync_once(src, argv[1], 200);
  report("sync, pipeline 200", &piped, import_bps);
  sync_result single = sync_once(src, argv[1], 1);
  report("sync, no pipelining", &single, import_bps);
  double bps = (double)piped.st.blocks / piped.seconds;
  printf("  target: >= 10,000 blocks/s end to end (the Haskell node: about 950): %s\n",
         bps >= 10000 ? "met" : "NOT met");
  cdl_chaindb_close(src, &err);
  cdl_db_genesis_free(&dg);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", base_dir);
  return system(cmd) == 0 ? 0 : 1;
}
