/*
 * bench_scale_child.c: the measuring processes of the scale benchmark
 * (bench_scale.h; docs/performance.md), each run by the driver as a fresh
 * process of its own so that its peak RSS is its own:
 *
 *   validate  replays the chain through the ledger as `cardinal-cli chain
 *             validate` does (every rule, every signature), noting at the
 *             end of every epoch the time, the UTxO's size and the RSS, and
 *             the peak RSS when the UTxO first reaches two million entries;
 *   import    (bench_scale_import.c) adds the chain to a fresh ChainDB
 *             as `cardinal-cli db import` does, and at each mark measures
 *             the database and has `restart` open it three times;
 *   restart   opens a database as `cardinal-node run` does at start
 *             (cdl_db_dir_open: the genesis, the settings, the immutable
 *             and volatile DBs, the newest snapshot) and says how long
 *             that took.
 *
 * Each writes its figures to a result file, one line a figure, that the
 * driver reads back (scale_read_validation, scale_read_import).
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_scale.h"
#include "cardinal/crypto.h"
#include "cardinal/storage.h"

#define READ_BATCH 512

extern char **environ;

long scale_status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return 0;
  char line[256];
  long kb = 0;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      kb = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return kb;
}

double scale_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int scale_spawn(const char *const *args) {
  const char *argv[16] = {"/proc/self/exe"};
  size_t n = 1;
  for (; args[n - 1] != NULL && n < 15; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  pid_t pid;
  if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, (char *const *)argv, environ) != 0)
    return -1;
  int status;
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void die(const char *what, const cdl_error *err) {
  fprintf(stderr, "bench_scale: %s: %s\n", what, err->message);
  exit(1);
}

static FILE *open_out(const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    exit(1);
  }
  setvbuf(f, NULL, _IOLBF, 0);
  return f;
}

/* Whether a stored block ([0|1, block]) is an EBB: the tag after the array. */
static bool is_ebb(const cdl_span *s) { return s->len > 1 && s->ptr[1] == 0x00; }

static uint64_t utxo_entries(const cdl_ledger *l) {
  cdl_ledger_totals t;
  cdl_ledger_get_totals(l, &t);
  return t.utxo_entries;
}

/* ---- validate ---- */

typedef struct validation_pass {
  cdl_ledger *ledger;
  cdl_replay *replay;
  FILE *out;
  uint64_t marks[SCALE_MARKS], applied;
  size_t next_mark;
  unsigned epoch;
  double t0, cpu0;
  bool crossed;
} validation_pass;

static void note_epoch(validation_pass *p) {
  fprintf(p->out, "epoch %u %llu %llu %.6f %.6f %ld\n", p->epoch++, (unsigned long long)p->applied,
          (unsigned long long)utxo_entries(p->ledger), bench_now_s() - p->t0,
          scale_cpu_s() - p->cpu0, scale_status_kb("VmRSS"));
  if (p->epoch % 8 == 0)
    fprintf(stderr, "bench_scale: validated %u epochs (%llu blocks)\n", p->epoch,
            (unsigned long long)p->applied);
}

/* The raw verify rate now, outside the timed blocks (the clocks are moved
 * on by the time it took). */
static void note_verify_rate(validation_pass *p) {
  double t = bench_now_s(), c = scale_cpu_s();
  fprintf(p->out, "verify %.1f\n", bench_verify_rate());
  p->t0 += bench_now_s() - t;
  p->cpu0 += scale_cpu_s() - c;
}

/* Applies spans[0..n), which hold no epoch boundary past the first and no
 * mark inside, then notes what the end of them reaches. */
static void validate_span(validation_pass *p, const cdl_span *spans, size_t n) {
  size_t applied;
  cdl_rejection rej = {0};
  if (cdl_replay_batch(p->replay, spans, n, &applied, &rej) != CDL_OK) {
    fprintf(stderr, "bench_scale: validate: block %llu refused: %s %s\n",
            (unsigned long long)(p->applied + applied), rej.rule, rej.detail);
    exit(1);
  }
  p->applied += n;
  uint64_t entries = utxo_entries(p->ledger);
  if (!p->crossed && entries >= SCALE_TARGET_ENTRIES) {
    p->crossed = true;
    fprintf(p->out, "crossed %ld %llu\n", scale_status_kb("VmHWM"), (unsigned long long)p->applied);
  }
  if (p->next_mark < SCALE_MARKS && p->applied == p->marks[p->next_mark]) {
    fprintf(p->out, "mark %zu %llu %llu %.6f %.6f %ld\n", p->next_mark++,
            (unsigned long long)p->applied, (unsigned long long)entries, bench_now_s() - p->t0,
            scale_cpu_s() - p->cpu0, scale_status_kb("VmHWM"));
    note_verify_rate(p);
  }
}

/* One read batch, cut before every EBB (an epoch ends) and after every mark. */
static void validate_batch(validation_pass *p, const cdl_span *spans, size_t n) {
  size_t from = 0;
  while (from < n) {
    size_t to = from + 1;
    uint64_t room = p->next_mark < SCALE_MARKS ? p->marks[p->next_mark] - p->applied : n;
    while (to < n && to - from < room && !is_ebb(&spans[to]))
      to++;
    if (is_ebb(&spans[from]) && p->applied > 0)
      note_epoch(p);
    validate_span(p, spans + from, to - from);
    from = to;
  }
}

static void load_genesis(const char *path, cdl_buf *text, cdl_arena *arena, cdl_byron_genesis *g) {
  cdl_error err = {0};
  cdl_buf_init(text, 0);
  cdl_arena_init(arena, 0);
  if (cdl_byron_genesis_load_file(path, CDL_DB_GENESIS_MAX, text, arena, g, &err) != CDL_OK)
    die(path, &err);
}

/* validate GENESIS CHUNK THREADS OUT MARK1..MARK4 */
int scale_validate_main(int argc, char **argv) {
  if (argc != 5 + SCALE_MARKS)
    return 2;
  cdl_buf text;
  cdl_arena arena;
  cdl_byron_genesis g;
  load_genesis(argv[1], &text, &arena, &g);
  validation_pass p = {.out = open_out(argv[4])};
  for (size_t i = 0; i < SCALE_MARKS; i++)
    p.marks[i] = strtoull(argv[5 + i], NULL, 10);
  cdl_ledger_config cfg = {.protocol_magic = g.protocol_magic,
                           .requires_magic = cdl_byron_requires_magic(g.protocol_magic),
                           .k = g.k};
  cdl_error err = {0};
  cdl_chunk_reader *r;
  if (cdl_ledger_new(&g, &cfg, &p.ledger, &err) != CDL_OK)
    die("ledger", &err);
  if (cdl_replay_new(p.ledger, (unsigned)atoi(argv[3]), &p.replay) != CDL_OK)
    return 1;
  if (cdl_chunk_reader_open(argv[2], &r, &err) != CDL_OK)
    die(argv[2], &err);
  fprintf(p.out, "base %ld\n", scale_status_kb("VmRSS"));
  note_verify_rate(&p);
  cdl_span spans[READ_BATCH];
  size_t n;
  p.t0 = bench_now_s();
  p.cpu0 = scale_cpu_s();
  while (cdl_chunk_reader_next(r, spans, NULL, READ_BATCH, &n, &err) == CDL_OK && n > 0)
    validate_batch(&p, spans, n);
  if (err.code != CDL_OK)
    die(argv[2], &err);
  note_epoch(&p); /* the last one, whole or not */
  fclose(p.out);
  cdl_chunk_reader_close(r);
  cdl_replay_del(p.replay);
  cdl_ledger_del(p.ledger);
  cdl_buf_free(&text);
  cdl_arena_free(&arena);
  return 0;
}

/* ---- restart ---- */

/* restart DB OUT: one open as a node's start does, timed, appended to OUT. */
int scale_restart_main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  cdl_db_dir_options o = {.dir = argv[1]};
  cdl_db_genesis dg;
  cdl_chaindb *db;
  cdl_chaindb_report rep;
  cdl_error err = {0};
  double t = bench_now_s();
  if (cdl_db_dir_open(&o, &dg, &db, &rep, &err) != CDL_OK)
    die("restart", &err);
  t = bench_now_s() - t;
  FILE *f = fopen(argv[2], "a");
  if (f == NULL)
    return 3;
  fprintf(f, "restart %.3f %ld %llu %s\n", t * 1e3, scale_status_kb("VmHWM"),
          (unsigned long long)rep.replayed_blocks, rep.snapshot[0] ? rep.snapshot : "-");
  fclose(f);
  if (cdl_chaindb_close(db, &err) != CDL_OK)
    die("restart close", &err);
  cdl_db_genesis_free(&dg);
  return 0;
}
