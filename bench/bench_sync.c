/*
 * bench_sync.c: mainnet epoch 0 synced over loopback (docs/testing.md
 * "Benchmarks"; issue 7's target: at least 10,000 blocks/s end to end).
 *
 *   baseline  the chunk imported into a ChainDB from memory: validation
 *             (every signature) and storage, no network;
 *   sync      the same blocks fetched from `cardinal-node serve`'s
 *             kernel (on its own thread and loop) by `cardinal-cli
 *             sync`'s (cdl_io_sync, on the same driver), validated and
 *             stored:
 *             pipelined (200 requests in flight) with blocks parsed
 *             and checked on 1 thread and on 2 (cdl_parse_pool), the
 *             best of SYNC_ROUNDS alternating runs each, and not
 *             pipelined (1);
 * reporting blocks/s and headers/s end to end, CPU seconds of the client
 * and server threads, and each sync's ratio to the baseline; and, as the
 * ceiling of the 2-thread ratio, what two threads verifying signatures and
 * nothing else get against one on this machine in the same rounds.
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

/* Alternating rounds of the pipelined 1- and 2-thread syncs. */
#define SYNC_ROUNDS 5

static char base_dir[64];

static void die(const char *what, const cdl_error *err) {
  fprintf(stderr, "bench_sync: %s: %s\n", what, err->message);
  exit(1);
}

static double process_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
  cdl_node *node;
  cdl_io_node *io;
  double cpu_s;
} server_thread;

static void on_stop(uv_async_t *a) {
  server_thread *t = a->data;
  cdl_io_node_stop(t->io);
  uv_close((uv_handle_t *)&t->stop, NULL);
}

static void *serve_main(void *arg) {
  server_thread *t = arg;
  double c0 = thread_cpu_s();
  uv_run(&t->loop, UV_RUN_DEFAULT);
  t->cpu_s = thread_cpu_s() - c0;
  return NULL;
}

/* `cardinal-node serve`: a kernel without peers or forger over |db|. */
static void server_start(server_thread *t, cdl_chaindb *db, const cdl_byron_genesis *g) {
  uv_loop_init(&t->loop);
  cdl_node_config nc = {.db = db,
                        .genesis = g,
                        .n2n = cdl_hs_node_to_node(g->protocol_magic, false),
                        .n2c = cdl_hs_node_to_client(g->protocol_magic)};
  cdl_error err = {0};
  if (cdl_node_new(&nc, cdl_io_wall_us(), &t->node, &err) != CDL_OK) die("serve", &err);
  cdl_io_node_config cfg = {.node = t->node, .db = db, .host = "127.0.0.1"};
  if (cdl_io_node_start(&t->loop, &cfg, &t->io, &err) != CDL_OK) die("serve", &err);
  uv_async_init(&t->loop, &t->stop, on_stop);
  t->stop.data = t;
  pthread_create(&t->th, NULL, serve_main, t);
}

static void server_stop(server_thread *t) {
  uv_async_send(&t->stop);
  pthread_join(t->th, NULL);
  uv_loop_close(&t->loop);
  cdl_error err = {0};
  if (cdl_io_node_finish(t->io, &err) != CDL_OK) die("serve", &err);
  cdl_node_del(t->node);
}

typedef struct sync_result {
  double seconds, client_cpu_s, server_cpu_s, process_cpu_s;
  cdl_n2n_client_stats st;
} sync_result;

/* `cardinal-cli sync`: every block must be adopted. */
static sync_result sync_once(cdl_chaindb *src, const char *genesis, size_t pipeline,
                             unsigned threads) {
  static unsigned runs; /* each sync starts from an empty database */
  char dir[128];
  snprintf(dir, sizeof dir, "%s/copy-%zu-%u-%u", base_dir, pipeline, threads, runs++);
  cdl_db_dir_options o = {
      .dir = dir, .genesis = genesis, .create = true, .sync_interval = UINT64_MAX};
  cdl_db_genesis dg;
  cdl_chaindb *db;
  cdl_error err = {0};
  if (cdl_db_dir_open(&o, &dg, &db, NULL, &err) != CDL_OK) die("open copy", &err);
  server_thread t = {0};
  server_start(&t, src, &dg.g);
  cdl_io_sync_config cfg = {.db = db,
                            .genesis = &dg.g,
                            .host = "127.0.0.1",
                            .port = cdl_io_node_port(t.io),
                            .pipeline = pipeline,
                            .fetch_batch = 256,
                            .threads = threads};
  sync_result r = {0};
  cdl_node_stats ns;
  double t0 = bench_now_s(), c0 = thread_cpu_s(), p0 = process_cpu_s();
  if (cdl_io_sync(&cfg, &ns, NULL, &err) != CDL_OK) die("sync", &err);
  if (ns.blocks_adopted != ns.upstream.blocks) {
    fprintf(stderr, "bench_sync: %llu blocks fetched, %llu adopted\n",
            (unsigned long long)ns.upstream.blocks, (unsigned long long)ns.blocks_adopted);
    exit(1);
  }
  if (cdl_chaindb_close(db, &err) != CDL_OK) die("close copy", &err);
  r.seconds = bench_now_s() - t0;
  r.client_cpu_s = thread_cpu_s() - c0;
  r.process_cpu_s = process_cpu_s() - p0;
  r.st = ns.upstream;
  server_stop(&t);
  r.server_cpu_s = t.cpu_s;
  cdl_db_genesis_free(&dg);
  return r;
}

static void report(const char *name, const sync_result *r, double baseline_bps) {
  double bps = (double)r->st.blocks / r->seconds;
  printf(
      "  %-22s %8.0f blocks/s %8.0f headers/s  %6.1f MB/s  (%.2f s; CPU client %.2f s, "
      "server %.2f s, all %.2f s)  ratio to import %.2f\n",
      name, bps, (double)r->st.headers / r->seconds, (double)r->st.block_bytes / 1e6 / r->seconds,
      r->seconds, r->client_cpu_s, r->server_cpu_s, r->process_cpu_s, bps / baseline_bps);
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
  /* The machine's speed drifts from second to second (a shared virtual
   * machine): the 1- and 2-thread runs alternate and the best of each
   * is compared, so a slow moment does not decide the ratio. */
  sync_result piped = {0}, two = {0};
  double verify1 = 0, verify2 = 0;
  for (int round = 0; round < SYNC_ROUNDS; round++) {
    sync_result r1 = sync_once(src, argv[1], 200, 1);
    sync_result r2 = sync_once(src, argv[1], 200, 2);
    double v1 = 0, v2 = 0;
    bench_verify_scaling(2, &v1, &v2);
    printf("  round %d: 1 thread %.2f s, 2 threads %.2f s (%.2fx); the machine: %.2fx\n",
           round + 1, r1.seconds, r2.seconds, r1.seconds / r2.seconds, v2 / v1);
    verify1 = v1 > verify1 ? v1 : verify1;
    verify2 = v2 > verify2 ? v2 : verify2;
    if (round == 0 || r1.seconds < piped.seconds) piped = r1;
    if (round == 0 || r2.seconds < two.seconds) two = r2;
  }
  report("sync, pipeline 200", &piped, import_bps);
  report("  the same, 2 threads", &two, import_bps);
  sync_result single = sync_once(src, argv[1], 1, 1);
  report("sync, no pipelining", &single, import_bps);
  double bps = (double)piped.st.blocks / piped.seconds;
  double bps2 = (double)two.st.blocks / two.seconds;
  printf("  target: >= 10,000 blocks/s end to end (the Haskell node: about 950): %s\n",
         bps >= 10000 ? "met" : "NOT met");
  printf("  2 threads: %.2fx the 1-thread rate (target: >= 1.7x): %s\n", bps2 / bps,
         bps2 >= 1.7 * bps ? "met" : "NOT met");
  /* Two threads verifying and nothing else is as parallel as this
   * machine gets; below 1.7 it is shared and the target cannot be met. */
  printf("  the machine's own 2-thread scaling (Ed25519, best of each): %.2fx\n",
         verify2 / verify1);
  cdl_chaindb_close(src, &err);
  cdl_db_genesis_free(&dg);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", base_dir);
  return system(cmd) == 0 ? 0 : 1;
}
