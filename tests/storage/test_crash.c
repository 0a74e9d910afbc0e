/*
 * test_crash.c: the storage crash test (docs/design.md section 8, tier 6;
 * include/cardinal/storage.h "ChainDB"). Acceptance point: "a child
 * process imports and appends while the parent SIGKILLs it at random
 * moments, at least 200 times with recorded seeds; every time the DB
 * opens, db validate passes, the tip is a prefix of what was written, and
 * no block that had reached the immutable DB and been synced is lost."
 *
 * One directory per data source lives across the iterations. For each
 * seed a forked child opens the ChainDB there (recovering what the last
 * kill left), adds the source's blocks from its tip on, and calls
 * cdl_chaindb_sync after one block in sixteen, then sends the parent the
 * immutable tip through a pipe (as 2 * block number + is_ebb + 1, which
 * unlike the block number alone is unique along a chain). The seed picks
 * the kill: one in six while the child opens (the parent's timer), two in
 * six at one of the child's first 800 file changes (its file system,
 * passed in cdl_chaindb_config.fs, raises SIGKILL there, tearing a write
 * at a random byte), the rest 0-30 ms into the import (the parent's
 * timer). The parent then opens the DB itself: validate_all every 20th
 * seed, and on a copy for odd seeds so that the next child recovers the
 * torn files itself. It checks that the open succeeds, that the tip and
 * the ledger's tip are one block of the source, that the immutable DB
 * still holds the last block reported synced (since the directory last
 * started empty), that cdl_immutable_check_all passes (what `db validate`
 * runs) and that every immutable block is the source's, byte for byte. A
 * child that reaches the end closes cleanly; the directory then starts
 * over empty, so that kills keep landing mid-import.
 *
 * Sources: a generated k = 10 chain of 15 epochs (blocks become immutable
 * 10 blocks later, so chunk changes, volatile GC and snapshots happen in
 * every run; 220 seeds, 1-220) and the first 4,500 blocks of the real
 * mainnet epoch 0 (k = 2160; 40 seeds, 1001-1040). Under AddressSanitizer
 * 200 and 20. Signatures are skipped (CDL_LEDGER_NO_SIGNATURES); the
 * blocks are valid. CDL_CRASH_ITERATIONS overrides the generated chain's
 * count. A failure names the source and the seed; the kill's timing is
 * not reproducible, but the file-operation kills are, given the same
 * preceding seeds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash_phases.h"
#include "killer_fs.h"
#include "storage_support.h"

#define GEN_K 10
#define GEN_SLOTS 1500 /* 15 epochs of 100 slots */
#define MAINNET_BLOCKS 4500
#if UNDER_ASAN /* about ten times slower: fewer seeds, still over 200 kills */
#define GEN_ITERATIONS 200
#define MAINNET_ITERATIONS 20
#else
#define GEN_ITERATIONS 220    /* seeds 1..220 */
#define MAINNET_ITERATIONS 40 /* seeds 1001..1040 */
#endif
#define KILL_WINDOW_US 30000 /* kills land 0-30 ms after the child opened */
#define IO_KILL_RANGE 800    /* or at one of the child's first 800 file changes */
#define MSG_OPENED UINT64_MAX
#define MSG_DONE (UINT64_MAX - 1)
#define MSG_IO_KILL (UINT64_MAX - 2) /* the child kills itself at a file operation */

enum { EXIT_OPEN = 10, EXIT_NOT_SOURCE, EXIT_ADD, EXIT_SYNC, EXIT_CLOSE, EXIT_PIPE };

/* A chain to import: its blocks and what storage knows of each. */
typedef struct source {
  const char *name;
  const cdl_byron_genesis *genesis;
  cdl_ledger_config ledger;
  const cdl_span *blocks;
  cdl_block_info *info;
  size_t n;
  uint64_t sync_interval, snapshot_interval;
} source;

static genesis_fixture mainnet;
static epoch0 epoch;
static char gen_dir[64];
static cdl_gen_dir gen;
static gchain gen_chain;
static source gen_src, main_src;

/* ---- Helpers ------------------------------------------------------------- */

static cdl_chaindb_config config_of(const source *s, const char *dir, bool validate_all) {
  return (cdl_chaindb_config){.dir = dir, .genesis = s->genesis, .ledger = s->ledger,
                              .snapshot_interval = s->snapshot_interval,
                              .sync_interval = s->sync_interval, .validate_all = validate_all};
}

static void fill_info(source *s) {
  s->info = calloc(s->n, sizeof *s->info);
  assert_non_null(s->info);
  for (size_t i = 0; i < s->n; i++) {
    cdl_error err = {0};
    if (cdl_block_info_read(s->blocks[i].ptr, s->blocks[i].len, 10 * s->ledger.k, &s->info[i],
                            &err) != CDL_OK)
      fail_msg("%s block %zu: %s", s->name, i, err.message);
    if (i > 0) assert_true(chain_key(&s->info[i]) > chain_key(&s->info[i - 1]));
  }
}

/* ---- Sources ------------------------------------------------------------- */

static void make_gen_chain(void) {
  make_dir(gen_dir, sizeof gen_dir, "crash-genesis");
  gen_genesis(gen_dir, GEN_K, 4, 11, &gen); /* 100 slots an epoch */
  cdl_gen_chain_opts o = {.slots = GEN_SLOTS, .fill = 0.9, .txs_per_block = 1,
                          .delegation = true, .updates = true, .seed = 3};
  gchain_make(&gen, &o, &gen_chain);
  gen_src = (source){.name = "generated k=10", .genesis = &gen.genesis,
                     .blocks = gen_chain.blocks, .n = gen_chain.n,
                     .ledger = ledger_of(&gen.genesis, CDL_LEDGER_NO_SIGNATURES),
                     .sync_interval = 20, .snapshot_interval = 25};
  fill_info(&gen_src);
}

static int group_setup(void **state) {
  test_group_setup(state);
  make_gen_chain();
  mainnet_genesis(&mainnet);
  epoch0_load(&epoch);
  const cdl_byron_genesis *g = &mainnet.g;
  main_src = (source){.name = "mainnet epoch 0", .genesis = g, .blocks = epoch.blocks,
                      .n = MAINNET_BLOCKS, .ledger = ledger_of(g, CDL_LEDGER_NO_SIGNATURES),
                      .sync_interval = 50, .snapshot_interval = 500};
  fill_info(&main_src);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  free(gen_src.info);
  free(main_src.info);
  gchain_free(&gen_chain);
  cdl_gen_dir_free(&gen);
  epoch0_free(&epoch);
  cdl_arena_free(&mainnet.arena);
  remove_dir(gen_dir);
  return 0;
}

/* ---- The child ----------------------------------------------------------- */

static _Noreturn void die(int code, uint64_t seed, const char *what, const char *detail) {
  fprintf(stderr, "crash child (seed %llu): %s: %s\n", (unsigned long long)seed, what, detail);
  _exit(code);
}

static void send_msg(int fd, uint64_t v, uint64_t seed) {
  if (write(fd, &v, sizeof v) != (ssize_t)sizeof v) die(EXIT_PIPE, seed, "pipe", strerror(errno));
}

/* The immutable tip as a message: its key + 1, 0 when empty. */
static uint64_t immutable_mark(const cdl_chaindb *db) {
  cdl_block_info t;
  return cdl_chaindb_immutable_tip(db, &t) ? chain_key(&t) + 1 : 0;
}

static _Noreturn void child_main(const source *s, const char *dir, uint64_t seed, int fd,
                                 uint64_t io_countdown) {
  cdl_chaindb_config cfg = config_of(s, dir, false);
  cfg.fs = killer_fs(io_countdown == UINT64_MAX ? 0 : io_countdown + 1, KILL_RANDOM, seed, fd,
                     MSG_IO_KILL);
  cdl_chaindb *db;
  cdl_error err = {0};
  if (cdl_chaindb_open(&cfg, &db, NULL, &err) != CDL_OK) die(EXIT_OPEN, seed, "open", err.message);
  send_msg(fd, MSG_OPENED, seed);
  cdl_block_info tip;
  long next = 0;
  if (cdl_chaindb_tip(db, &tip) && (next = find_block(s->info, s->n, &tip) + 1) == 0)
    die(EXIT_NOT_SOURCE, seed, "open", "the tip is not a block of the source");
  cdl_gen_rng rng;
  cdl_gen_rng_seed(&rng, seed ^ 0x5eedc41dull);
  for (size_t i = (size_t)next; i < s->n; i++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    if (cdl_chaindb_add_block(db, s->blocks[i].ptr, s->blocks[i].len, &res, &rej, &err) !=
        CDL_OK)
      die(EXIT_ADD, seed, "add", err.message);
    if (res.outcome != CDL_ADD_ADOPTED) die(EXIT_ADD, seed, "add", rej.rule ? rej.rule : "?");
    if (cdl_gen_rng_below(&rng, 16) != 0) continue;
    if (cdl_chaindb_sync(db, &err) != CDL_OK) die(EXIT_SYNC, seed, "sync", err.message);
    send_msg(fd, immutable_mark(db), seed);
  }
  if (cdl_chaindb_close(db, &err) != CDL_OK) die(EXIT_CLOSE, seed, "close", err.message);
  send_msg(fd, MSG_DONE, seed);
  _exit(0);
}

/* ---- The parent ---------------------------------------------------------- */

typedef struct run {
  const source *s;
  char dir[64];
  uint64_t synced;    /* highest immutable mark reported synced since the last reset */
  double open_ms;     /* how long a child's open takes, on average */
  /* What happened, for the summary. */
  unsigned kills_in_open, kills_in_import, kills_io, completed, repaired, validate_all_opens;
  size_t max_tip;
} run;

typedef struct watch {
  bool opened, done, eof, io_kill;
  uint64_t synced, opened_ns;
} watch;

/* Reads the child's messages until |deadline| (or, with |until_open|, the
 * open message), or the end of the pipe. */
static void read_until(int fd, uint64_t deadline, bool until_open, watch *w) {
  while (!w->eof && !(until_open && w->opened)) {
    uint64_t t = now_ns();
    if (t >= deadline) return;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec left = {(time_t)((deadline - t) / 1000000000u),
                            (long)((deadline - t) % 1000000000u)};
    int r = ppoll(&p, 1, &left, NULL);
    if (r < 0 && errno == EINTR) continue;
    assert_true(r >= 0);
    if (r == 0) return;
    uint64_t v;
    ssize_t got = read(fd, &v, sizeof v);
    if (got == 0) w->eof = true;
    else if (got != (ssize_t)sizeof v) fail_msg("short read from the child: %zd", got);
    else if (v == MSG_OPENED) w->opened = true, w->opened_ns = now_ns();
    else if (v == MSG_DONE) w->done = true;
    else if (v == MSG_IO_KILL) w->io_kill = true;
    else if (v > w->synced) w->synced = v;
  }
}

/* Runs one child and kills it at the seeded moment: one seed in six
 * while it opens, two in six at a file operation (the child kills itself,
 * the timer being a backstop), the rest 0-30 ms into the import. True when
 * it finished the source first. */
static bool run_and_kill(run *r, uint64_t seed) {
  cdl_gen_rng rng;
  cdl_gen_rng_seed(&rng, seed);
  uint64_t mode = cdl_gen_rng_below(&rng, 6);
  uint64_t countdown = mode == 1 || mode == 2 ? cdl_gen_rng_below(&rng, IO_KILL_RANGE) : UINT64_MAX;
  uint64_t open_delay_us = cdl_gen_rng_below(&rng, (uint64_t)(r->open_ms * 1200) + 1);
  uint64_t import_delay_us = cdl_gen_rng_below(&rng, KILL_WINDOW_US);
  if (countdown != UINT64_MAX) import_delay_us = 10000000; /* a backstop only */
  int p[2];
  assert_int_equal(pipe(p), 0);
  uint64_t start = now_ns();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    child_main(r->s, r->dir, seed, p[1], countdown);
  }
  close(p[1]);
  watch w = {0};
  if (mode == 0) {
    read_until(p[0], start + 1000 * open_delay_us, false, &w);
  } else {
    read_until(p[0], start + 60000000000ull, true, &w);
    read_until(p[0], now_ns() + 1000 * import_delay_us, false, &w);
  }
  kill(pid, SIGKILL);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  read_until(p[0], UINT64_MAX, false, &w);
  close(p[0]);
  if (w.opened && mode != 0) r->open_ms = 0.8 * r->open_ms + 0.2 * (w.opened_ns - start) / 1e6;
  bool finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!finished && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
    fail_msg("%s, seed %llu: the child failed (exit status %d; see its message above)",
             r->s->name, (unsigned long long)seed, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  if (finished) assert_true(w.done);
  if (w.synced > r->synced) r->synced = w.synced;
  if (!finished) ++*(w.io_kill ? &r->kills_io : w.opened ? &r->kills_in_import : &r->kills_in_open);
  return finished;
}

/* ---- Checks after a kill --------------------------------------------------- */

/* Fails naming the source, the seed and the directory (left for a look). */
#define FAIL(r, seed, ...)                                                              \
  fail_msg("%s, seed %llu: %s (DB in %s)", (r)->s->name, (unsigned long long)(seed),    \
           (snprintf(msg_, sizeof msg_, __VA_ARGS__), msg_), (r)->dir)
static char msg_[512];

/* The tip (and the ledger's) is a block of the source; returns its index or -1. */
static long check_tip(run *r, uint64_t seed, cdl_chaindb *db) {
  cdl_block_info tip;
  cdl_ledger_tip lt;
  cdl_ledger_get_tip(cdl_chaindb_ledger(db), &lt);
  if (!cdl_chaindb_tip(db, &tip)) {
    if (!lt.at_genesis) FAIL(r, seed, "an empty chain with a ledger past the genesis");
    return -1;
  }
  long t = find_block(r->s->info, r->s->n, &tip);
  if (t < 0)
    FAIL(r, seed, "the tip (block %llu, slot %llu) is not a block that was written",
         (unsigned long long)tip.block_no, (unsigned long long)tip.slot);
  if (lt.at_genesis || memcmp(lt.hash, tip.hash, 32) != 0)
    FAIL(r, seed, "the ledger is not at the tip (block %llu)", (unsigned long long)tip.block_no);
  return t;
}

/* The last block reported synced is still in the immutable DB. */
static void check_synced(run *r, uint64_t seed, cdl_chaindb *db) {
  if (r->synced == 0) return;
  long si = find_key(r->s->info, r->s->n, r->synced - 1);
  if (si < 0) FAIL(r, seed, "the child reported an immutable tip not in the source");
  cdl_immutable_pos pos;
  cdl_error err = {0};
  const cdl_block_info *b = &r->s->info[si];
  if (immutable_mark(db) < r->synced ||
      cdl_immutable_find(cdl_chaindb_immutable(db), b->slot, b->hash, &pos, NULL, &err) != CDL_OK)
    FAIL(r, seed, "block %zu was synced to the immutable DB and is lost (immutable tip mark %llu)",
         (size_t)si, (unsigned long long)immutable_mark(db));
}

static void verify(run *r, const char *dir, uint64_t seed, bool validate_all, bool finished) {
  cdl_chaindb_config cfg = config_of(r->s, dir, validate_all);
  cdl_chaindb *db = NULL;
  cdl_chaindb_report rep;
  cdl_error err = {0};
  if (cdl_chaindb_open(&cfg, &db, &rep, &err) != CDL_OK)
    FAIL(r, seed, "open after the kill failed: %s", err.message);
  r->validate_all_opens += validate_all;
  if (rep.immutable.truncated_bytes || rep.immutable.indexes_rebuilt ||
      rep.volatile_db.damaged_files)
    r->repaired++;
  long t = check_tip(r, seed, db);
  if (finished && t + 1 != (long)r->s->n) FAIL(r, seed, "a clean close lost blocks: tip %ld", t);
  if ((size_t)(t + 1) > r->max_tip) r->max_tip = (size_t)(t + 1);
  check_synced(r, seed, db);
  cdl_immutable_pos bad;
  if (cdl_immutable_check_all(cdl_chaindb_immutable(db), &bad, &err) != CDL_OK)
    FAIL(r, seed, "db validate: %s (chunk %u, block %u)", err.message, bad.chunk, bad.index);
  char why[300]; /* every immutable block is the source's, byte for byte */
  if (!immutable_matches(cdl_chaindb_immutable(db), r->s->blocks, r->s->n, why, sizeof why))
    FAIL(r, seed, "%s", why);
  cdl_chaindb_abandon(db); /* what the next child finds is what this open left */
}

/* One seed: a child killed (or finishing), then the checks. */
static void crash_once(run *r, uint64_t seed) {
  bool finished = run_and_kill(r, seed);
  bool validate_all = seed % 20 == 0;
  if (seed % 2 == 1 && !finished) {
    char copy[80];
    snprintf(copy, sizeof copy, "%s.copy", r->dir);
    shell("cp -a %s %s", r->dir, copy);
    verify(r, copy, seed, validate_all, false);
    remove_dir(copy);
  } else {
    verify(r, r->dir, seed, validate_all, finished);
  }
  if (finished) { /* start over so that kills keep landing mid-import */
    r->completed++;
    r->synced = 0;
    shell("rm -rf %s/*", r->dir);
  }
}

static void crash_run(const source *s, uint64_t first_seed, unsigned iterations) {
  run r = {.s = s, .open_ms = 5};
  make_dir(r.dir, sizeof r.dir, "crash");
  uint64_t start = now_ns();
  for (unsigned i = 0; i < iterations; i++) crash_once(&r, first_seed + i);
  remove_dir(r.dir);
  printf("%s: %u kills (%u during open, %u at a file operation), %u imports finished, "
         "%u opens repaired damage, %u with validate_all; furthest tip %zu of %zu blocks; "
         "%.1f s\n", s->name, r.kills_in_open + r.kills_in_import + r.kills_io, r.kills_in_open,
         r.kills_io, r.completed, r.repaired, r.validate_all_opens, r.max_tip, s->n,
         (now_ns() - start) / 1e9);
  assert_true(r.kills_in_import > 0 && r.kills_io > 0);
}

static void test_crash_generated(void **state) {
  (void)state;
  const char *env = getenv("CDL_CRASH_ITERATIONS");
  unsigned n = env ? (unsigned)strtoul(env, NULL, 10) : GEN_ITERATIONS;
  crash_run(&gen_src, 1, n);
}

static void test_crash_mainnet(void **state) {
  (void)state;
  crash_run(&main_src, 1001, MAINNET_ITERATIONS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crash_generated),
      cmocka_unit_test(test_crash_mainnet),
      cmocka_unit_test(test_crash_phases),
  };
  filter_tests_from_env();
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
