/*
 * parse_pool.c: decoding blocks and checking their signatures on worker
 * threads (include/cardinal/storage.h "Parsing blocks on several
 * threads"; docs/node.md "Signature checks on every core").
 *
 * A syncing node spends most of its time in Ed25519: about 50 us a
 * signature against a few microseconds for everything else a block needs.
 * The block-fetch client (src/net/client_protocols.c) hands each block it
 * receives to this pool and gives the blocks to the ChainDB in order once
 * parsed, exactly as cdl_replay does for a file: a worker decodes the
 * block, hashes it (cdl_parsed_block_decode) and verifies every signature
 * it holds (cdl_ledger_precheck_signatures), recording the verdicts in the
 * block's memo fields; the ledger, on the caller's thread, then applies
 * the block in chain order and reads the verdicts. What the ledger decides
 * does not depend on which thread did the checks, or how many there are.
 *
 * The caller's thread is one of the |threads|: waiting for a job nobody
 * has started runs it there, so a pool of N threads starts N - 1 workers,
 * and a pool of 1 runs everything on the caller's thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/storage.h"

enum { JOB_IDLE = 0, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

/* How long a thread that found nothing to do polls before it sleeps: a
 * sleeping thread costs a futex wake-up each time work comes, tens of
 * microseconds on a virtual machine, as long as a verification. */
#define SPIN_ROUNDS 4000

struct cdl_parse_pool {
  cdl_parse_pool_config cfg;
  pthread_t *workers;
  unsigned n_workers;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  cdl_parse_job *head, *tail; /* queued, oldest first */
  atomic_size_t queued;       /* how many: read without the lock while polling */
  unsigned sleeping;          /* workers in pthread_cond_wait: only they need a signal */
  bool stop;
};

static void run_job(const cdl_parse_pool *p, cdl_parse_job *j) {
  cdl_arena_reset(&j->arena);
  int rc = cdl_parsed_block_decode(j->bytes.data, j->bytes.len, j->epoch_slots, &j->arena, &j->pb);
  if (rc == CDL_OK && p->cfg.signatures)
    cdl_ledger_precheck_signatures((cdl_byron_block *)j->pb.blk, p->cfg.protocol_magic,
                                   p->cfg.witnesses);
}

/* Under the lock: |j| out of the queue (the oldest when |j| is NULL). */
static cdl_parse_job *take(cdl_parse_pool *p, cdl_parse_job *j) {
  cdl_parse_job **at = &p->head, *prev = NULL;
  if (j == NULL)
    j = p->head;
  while (*at != j) {
    prev = *at;
    at = &(*at)->next;
  }
  *at = j->next;
  if (p->tail == j)
    p->tail = prev;
  j->next = NULL;
  atomic_fetch_sub(&p->queued, 1);
  atomic_store(&j->state, JOB_RUNNING);
  return j;
}

/* Runs |j|, taken from the queue by this thread, and says it is done. */
static void run_here(cdl_parse_pool *p, cdl_parse_job *j) {
  run_job(p, j);
  pthread_mutex_lock(&p->mu);
  atomic_store(&j->state, JOB_DONE);
  pthread_cond_broadcast(&p->done);
  pthread_mutex_unlock(&p->mu);
}

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Polls |done| until it says so or the spin is over; its last answer. */
static bool spin_until(bool (*done)(const void *), const void *arg) {
  for (unsigned i = 0; i < SPIN_ROUNDS; i++) {
    if (done(arg))
      return true;
    cpu_relax();
  }
  return done(arg);
}

static bool has_work(const void *arg) {
  const cdl_parse_pool *p = arg;
  return atomic_load(&p->queued) > 0;
}

static bool job_done(const void *arg) { return cdl_parse_job_done(arg); }

/* Under the lock: the next queued job, after a poll and then a sleep
 * while there is none; NULL once the pool stops. */
static cdl_parse_job *next_job(cdl_parse_pool *p) {
  if (!p->stop && p->head == NULL) {
    pthread_mutex_unlock(&p->mu);
    spin_until(has_work, p);
    pthread_mutex_lock(&p->mu);
  }
  while (!p->stop && p->head == NULL) {
    p->sleeping++;
    pthread_cond_wait(&p->work, &p->mu);
    p->sleeping--;
  }
  return p->stop ? NULL : take(p, NULL);
}

static void *worker_main(void *arg) {
  cdl_parse_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (cdl_parse_job *j; (j = next_job(p)) != NULL;) {
    pthread_mutex_unlock(&p->mu);
    run_here(p, j);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int cdl_parse_pool_new(const cdl_parse_pool_config *cfg, cdl_parse_pool **out) {
  cdl_parse_pool *p = calloc(1, sizeof *p);
  if (p == NULL)
    return CDL_E_NOMEM;
  p->cfg = *cfg;
  unsigned threads = cfg->threads == 0 ? 1 : cfg->threads > 64 ? 64 : cfg->threads;
  p->workers = calloc(threads, sizeof *p->workers);
  if (p->workers == NULL) {
    free(p);
    return CDL_E_NOMEM;
  }
  atomic_init(&p->queued, 0);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  /* Fewer workers than asked when the system refuses a thread: the
   * caller's thread runs what they do not. */
  while (p->n_workers + 1 < threads &&
         pthread_create(&p->workers[p->n_workers], NULL, worker_main, p) == 0)
    p->n_workers++;
  *out = p;
  return CDL_OK;
}

void cdl_parse_pool_del(cdl_parse_pool *p) {
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  CDL_ASSERT(p->head == NULL); /* every job was waited for */
  p->stop = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->n_workers; i++)
    pthread_join(p->workers[i], NULL);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->mu);
  free(p->workers);
  free(p);
}

unsigned cdl_parse_pool_threads(const cdl_parse_pool *p) { return p->n_workers + 1; }

void cdl_parse_job_init(cdl_parse_job *j) {
  memset(j, 0, sizeof *j);
  cdl_buf_init(&j->bytes, 0);
  cdl_arena_init(&j->arena, 0);
  atomic_init(&j->state, JOB_IDLE);
}

void cdl_parse_job_free(cdl_parse_job *j) {
  CDL_ASSERT(atomic_load(&j->state) != JOB_QUEUED && atomic_load(&j->state) != JOB_RUNNING);
  cdl_buf_free(&j->bytes);
  cdl_arena_free(&j->arena);
}

int cdl_parse_pool_submit(cdl_parse_pool *p, cdl_parse_job *j, const uint8_t *bytes, size_t len,
                          uint64_t epoch_slots) {
  CDL_ASSERT(atomic_load(&j->state) != JOB_QUEUED && atomic_load(&j->state) != JOB_RUNNING);
  cdl_buf_reset(&j->bytes);
  cdl_buf_append(&j->bytes, bytes, len);
  if (j->bytes.failed)
    return CDL_E_NOMEM;
  j->epoch_slots = epoch_slots;
  pthread_mutex_lock(&p->mu);
  atomic_store(&j->state, JOB_QUEUED);
  if (p->tail != NULL)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  atomic_fetch_add(&p->queued, 1);
  if (p->sleeping > 0)
    pthread_cond_signal(&p->work);
  pthread_mutex_unlock(&p->mu);
  return CDL_OK;
}

bool cdl_parse_job_done(const cdl_parse_job *j) { return atomic_load(&j->state) == JOB_DONE; }

/* While a worker parses |j|, this thread parses the jobs queued after it
 * rather than wait idle; with none left it polls a while, then sleeps. */
void cdl_parse_pool_wait(cdl_parse_pool *p, cdl_parse_job *j) {
  while (!cdl_parse_job_done(j)) {
    pthread_mutex_lock(&p->mu);
    cdl_parse_job *mine = NULL;
    if (atomic_load(&j->state) == JOB_QUEUED)
      mine = take(p, j); /* nobody took it: run it here */
    else if (p->head != NULL)
      mine = take(p, NULL); /* |j| is a worker's: help with the next */
    pthread_mutex_unlock(&p->mu);
    if (mine != NULL) {
      run_here(p, mine);
      continue;
    }
    if (spin_until(job_done, j))
      return;
    pthread_mutex_lock(&p->mu);
    while (!cdl_parse_job_done(j))
      pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
}
