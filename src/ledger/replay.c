/*
 * replay.c: validating a stream of blocks with several threads
 * (cdl_replay, declared in cardinal/ledger.h).
 *
 * Each batch runs in two phases. In the parallel phase every thread takes
 * blocks from a shared counter, decodes them, hashes them and verifies
 * all their signatures (the costly, stateless part), recording verdicts in
 * the blocks' memo fields. In the sequential phase the calling thread
 * applies the blocks in order to the ledger, which reads those verdicts.
 * The ledger sees the same blocks in the same order whatever the thread
 * count, so the result is identical; only the time differs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

typedef struct slot_result {
  cdl_byron_block block;
  cdl_error err;
  int rc;
} slot_result;

struct cdl_replay {
  cdl_ledger *ledger;
  uint32_t magic;
  cdl_witness_cache *cache;
  bool signatures;
  unsigned n_threads;
  pthread_t *threads;
  cdl_arena *arenas;          /* one per thread, reset per batch */
  unsigned n_arenas;
  slot_result *results;
  size_t cap;
  /* the current batch */
  const cdl_span *spans;
  size_t n;
  atomic_size_t next;
  pthread_mutex_t mu;
  pthread_cond_t start, done;
  uint64_t generation;
  unsigned running;
  bool stop;
};

static void decode_one(cdl_replay *r, size_t i, cdl_arena *arena) {
  slot_result *res = &r->results[i];
  cdl_error_clear(&res->err);
  cdl_byron_ctx ctx = {arena, &res->err, 0};
  res->rc = cdl_byron_block_decode(r->spans[i].ptr, r->spans[i].len, &ctx, &res->block);
  if (res->rc == CDL_OK && r->signatures) cdl_ledger_precheck_signatures(&res->block, r->magic, r->cache);
}

static void work(cdl_replay *r, unsigned self) {
  for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < r->n;) decode_one(r, i, &r->arenas[self]);
}

typedef struct worker_arg {
  cdl_replay *r;
  unsigned self;
} worker_arg;

static void *worker_main(void *p) {
  worker_arg *a = p;
  cdl_replay *r = a->r;
  uint64_t seen = 0;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->stop && r->generation == seen) pthread_cond_wait(&r->start, &r->mu);
    if (r->stop) break;
    seen = r->generation;
    pthread_mutex_unlock(&r->mu);
    work(r, a->self);
    pthread_mutex_lock(&r->mu);
    if (--r->running == 0) pthread_cond_signal(&r->done);
  }
  pthread_mutex_unlock(&r->mu);
  free(a);
  return NULL;
}

/* Starts the workers; when memory or the OS refuses one, the replay runs
 * with the threads already started (the result does not depend on it). */
static void start_workers(cdl_replay *r) {
  for (unsigned t = 1; t < r->n_threads; t++) {
    worker_arg *a = malloc(sizeof *a);
    if (a != NULL) *a = (worker_arg){r, t};
    if (a == NULL || pthread_create(&r->threads[t], NULL, worker_main, a) != 0) {
      free(a);
      r->n_threads = t; /* only threads 1..t-1 exist to be joined */
      return;
    }
  }
}

int cdl_replay_new(cdl_ledger *l, unsigned threads, cdl_replay **out) {
  cdl_replay *r = calloc(1, sizeof *r);
  if (r == NULL) return CDL_E_NOMEM;
  r->ledger = l;
  r->magic = l->cfg.protocol_magic;
  r->cache = l->cfg.witness_cache;
  r->signatures = ledger_checks_signatures(l);
  r->n_threads = threads == 0 ? 1 : threads > 64 ? 64 : threads;
  r->threads = calloc(r->n_threads, sizeof *r->threads);
  r->arenas = calloc(r->n_threads, sizeof *r->arenas);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->start, NULL);
  pthread_cond_init(&r->done, NULL);
  if (r->threads == NULL || r->arenas == NULL) {
    cdl_replay_del(r);
    return CDL_E_NOMEM;
  }
  r->n_arenas = r->n_threads;
  for (unsigned t = 0; t < r->n_arenas; t++) cdl_arena_init(&r->arenas[t], 0);
  start_workers(r);
  *out = r;
  return CDL_OK;
}

void cdl_replay_del(cdl_replay *r) {
  if (r == NULL) return;
  pthread_mutex_lock(&r->mu);
  r->stop = true;
  pthread_cond_broadcast(&r->start);
  pthread_mutex_unlock(&r->mu);
  for (unsigned t = 1; r->threads && t < r->n_threads; t++) pthread_join(r->threads[t], NULL);
  for (unsigned t = 0; r->arenas && t < r->n_arenas; t++) cdl_arena_free(&r->arenas[t]);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->start);
  pthread_cond_destroy(&r->done);
  free(r->threads);
  free(r->arenas);
  free(r->results);
  free(r);
}

/* The parallel phase: every thread decodes and prechecks until done. */
static void run_parallel(cdl_replay *r) {
  atomic_store(&r->next, 0);
  pthread_mutex_lock(&r->mu);
  r->running = r->n_threads - 1;
  r->generation++;
  pthread_cond_broadcast(&r->start);
  pthread_mutex_unlock(&r->mu);
  work(r, 0);
  pthread_mutex_lock(&r->mu);
  while (r->running > 0) pthread_cond_wait(&r->done, &r->mu);
  pthread_mutex_unlock(&r->mu);
}

static void decode_rejection(cdl_rejection *rej, const cdl_error *err) {
  memset(rej, 0, sizeof *rej);
  rej->rule = cdl_error_name(err->code);
  int n = snprintf(rej->detail, sizeof rej->detail, "at byte %zu of the block: ", err->offset);
  size_t room = sizeof rej->detail - (size_t)n - 1, len = strlen(err->message);
  memcpy(rej->detail + n, err->message, len < room ? len : room);
  rej->detail[(size_t)n + (len < room ? len : room)] = '\0';
}

int cdl_replay_batch(cdl_replay *r, const cdl_span *blocks, size_t n, size_t *applied,
                     cdl_rejection *rej) {
  *applied = 0;
  if (n > r->cap) {
    slot_result *p = realloc(r->results, n * sizeof *p);
    if (p == NULL) return CDL_E_NOMEM;
    r->results = p;
    r->cap = n;
  }
  r->spans = blocks;
  r->n = n;
  run_parallel(r);
  int rc = CDL_OK;
  for (size_t i = 0; i < n && rc == CDL_OK; i++) {
    slot_result *res = &r->results[i];
    if (res->rc == CDL_E_NOMEM) rc = CDL_E_NOMEM;
    else if (res->rc != CDL_OK) {
      decode_rejection(rej, &res->err);
      rc = CDL_E_REJECTED;
    } else {
      rc = cdl_ledger_apply_block(r->ledger, &res->block, rej);
    }
    if (rc == CDL_OK) (*applied)++;
  }
  for (unsigned t = 0; t < r->n_threads; t++) cdl_arena_reset(&r->arenas[t]);
  return rc;
}
