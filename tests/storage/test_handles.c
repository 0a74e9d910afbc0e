/*
 * test_handles.c: file handles of the ChainDB (include/cardinal/storage.h
 * "File interface"; src/storage/fs.c and every store's use of it).
 * Acceptance point (docs/testing.md, storage tier): "File handles: with a
 * low RLIMIT_NOFILE the DB fails cleanly; over 10,000 open/close cycles
 * the open descriptor count does not grow."
 *
 *  (a) a cdl_fs bounded to 1..8 open files: opening, adding, reading,
 *      following and closing each work or fail with CDL_E_LIMIT, nothing is
 *      left open, and the database is intact afterwards;
 *  (b) RLIMIT_NOFILE at the descriptors already open plus 0..6, in a
 *      forked child: every failure is CDL_E_IO naming file descriptors, the
 *      child never crashes (exit status checked), the database is intact;
 *  (c) 10,000 cdl_chaindb_open/close cycles (some with reads and a
 *      follower) and 10,000 immutable DB open/close cycles: the entries of
 *      /proc/self/fd are the same before and after, and the cdl_fs count is
 *      0 after every close;
 *  (d) an open that fails for want of a descriptor, injected at each
 *      descriptor the open takes in turn, changes nothing on disk;
 *  (e) a follower whose position is in the immutable DB does not report a
 *      roll-back when a look-up there fails for want of a handle.
 *
 * The database: a generated k = 5 chain of 12 epochs (one chunk each, more
 * than the 8 chunk indexes the immutable DB caches), all but its last 30
 * blocks added, cleanly closed; its volatile DB holds only the last 10 of
 * them, like that of a node that has collected older files. Each case
 * works on a copy. CDL_TEST_FILTER runs only the tests whose names match.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage_support.h"

#define GEN_K 5
#define GEN_EPOCH (10 * GEN_K)
#define EPOCHS 12
#define HELD_BACK 30       /* blocks of the chain not in the template */
#define RECENT 10          /* the blocks before them: all the volatile DB holds */
#define CYCLES 10000

static char WORK[64];      /* everything of this test lives under it */
static char TEMPLATE[128]; /* the database every case copies */
static cdl_gen_dir GEN;
static gchain CHAIN;
static const cdl_span *BLOCKS;      /* CHAIN's blocks, */
static const cdl_block_info *INFO; /* their infos */
static size_t N;                    /* and how many */

/* ---- Helpers ------------------------------------------------------------------ */

static cdl_chaindb_config config_for(const char *dir, cdl_fs *fs) {
  return chaindb_config(dir, &GEN.genesis, fs);
}

/* The database at |dir|, opened on |fs|. */
static cdl_chaindb *open_at(const char *dir, cdl_fs *fs) {
  cdl_chaindb_config cfg = config_for(dir, fs);
  return db_open(&cfg, NULL);
}

/* A fresh copy of the template at WORK/|name|. */
static const char *copy_template(const char *name) {
  static char dir[160];
  snprintf(dir, sizeof dir, "%s/%s", WORK, name);
  shell("rm -rf '%s' && cp -a '%s' '%s'", dir, TEMPLATE, dir);
  return dir;
}

static double seconds(void) { return (double)now_ns() / 1e9; }

/* Reads block |i| by its point; *same (if asked) is false only when
 * something else than block |i| was read. */
static int read_block(cdl_chaindb *db, size_t i, bool *same, cdl_error *err) {
  cdl_point p = point_of(&INFO[i]);
  cdl_buf out;
  cdl_buf_init(&out, 0);
  int rc = cdl_chaindb_read_block(db, &p, &out, NULL, err);
  if (same != NULL) *same = rc != CDL_OK || cdl_span_eq(cdl_span_of(out.data, out.len), BLOCKS[i]);
  cdl_buf_free(&out);
  return rc;
}

/* The database at |dir| opens, its immutable part checks out and its tip is
 * a block of the chain at least as high as the template's. */
static void assert_intact(const char *dir) {
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb *db = open_at(dir, &fs);
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  assert_true(tip.block_no >= INFO[N - HELD_BACK - 1].block_no);
  size_t i = 0;
  while (i < N && memcmp(INFO[i].hash, tip.hash, 32) != 0) i++;
  assert_true(i < N);
  cdl_immutable_pos bad;
  cdl_error err = {0};
  if (cdl_immutable_check_all(cdl_chaindb_immutable(db), &bad, &err) != CDL_OK)
    fail_msg("immutable DB damaged: %s", err.message);
  db_close(db);
  assert_int_equal(fs.open_files, 0);
}

/* ---- Fixture ------------------------------------------------------------------- */

static void generate_chain(void) {
  char gdir[128];
  snprintf(gdir, sizeof gdir, "%s/genesis", WORK);
  gen_genesis(gdir, GEN_K, 3, 4, &GEN);
  cdl_gen_chain_opts o = {.slots = EPOCHS * GEN_EPOCH, .fill = 0.8, .seed = 3};
  gchain_make(&GEN, &o, &CHAIN);
  BLOCKS = CHAIN.blocks;
  INFO = CHAIN.info;
  N = CHAIN.n;
}

static void add_range(cdl_chaindb *db, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) add_expect(db, BLOCKS[i], CDL_ADD_ADOPTED);
}

static int group_setup(void **state) {
  test_group_setup(state);
  make_dir(WORK, sizeof WORK, "handles");
  generate_chain();
  snprintf(TEMPLATE, sizeof TEMPLATE, "%s/template", WORK);
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb *db = open_at(TEMPLATE, &fs);
  add_range(db, 0, N - HELD_BACK - RECENT);
  db_close(db);
  /* The volatile DB of a node that has run a while holds only recent
   * blocks (older files are collected): start it again with a few. */
  shell("rm -f '%s'/volatile/*", TEMPLATE);
  db = open_at(TEMPLATE, &fs);
  add_range(db, N - HELD_BACK - RECENT - GEN_K, N - HELD_BACK); /* k were in the volatile DB */
  db_close(db);
  assert_true(INFO[N - 1].slot / GEN_EPOCH + 1 >= EPOCHS - 1); /* the chunks are there */
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  remove_dir(WORK);
  gchain_free(&CHAIN);
  cdl_gen_dir_free(&GEN);
  return 0;
}

/* ---- (a) A bounded cdl_fs ----------------------------------------------------------- */

static bool ok_or(int rc, const cdl_error *err, int code) {
  if (rc == CDL_OK) return true;
  if (rc != code || err->code != code) {
    print_error("rc %d (%s), expected %d\n", rc, err->message, code);
    return false;
  }
  return true;
}

/* Every operation of a session; each may fail with |code| only. Returns
 * how many failed. */
static size_t session(cdl_chaindb *db, int code) {
  size_t failed = 0;
  for (size_t i = N - HELD_BACK; i < N; i++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    cdl_error err = {0};
    int rc = cdl_chaindb_add_block(db, BLOCKS[i].ptr, BLOCKS[i].len, &res, &rej, &err);
    assert_true(ok_or(rc, &err, code));
    failed += rc != CDL_OK;
  }
  for (size_t i = 0; i < N; i += 7) {
    bool same;
    cdl_error err = {0};
    int rc = read_block(db, i, &same, &err);
    if (rc != CDL_E_NOT_FOUND) assert_true(ok_or(rc, &err, code)); /* a held-back block */
    assert_true(same);
    failed += rc != CDL_OK && rc != CDL_E_NOT_FOUND;
  }
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  for (size_t step = 0; step < 2 * N; step++) {
    cdl_follow_kind kind;
    cdl_block_info info;
    cdl_point to;
    cdl_buf out;
    cdl_buf_init(&out, 0);
    cdl_error e = {0};
    int rc = cdl_follower_next(f, &kind, &info, &to, &out, &e);
    cdl_buf_free(&out);
    assert_true(ok_or(rc, &e, code));
    failed += rc != CDL_OK;
    if (rc != CDL_OK || kind == CDL_FOLLOW_AWAIT) break;
    assert_int_equal(kind, CDL_FOLLOW_FORWARD);
  }
  cdl_follower_del(f);
  return failed;
}

static void test_bounded_fs(void **state) {
  (void)state;
  for (size_t max = 1; max <= 8; max++) {
    const char *dir = copy_template("bounded");
    cdl_fs fs;
    cdl_fs_posix_init(&fs, max);
    cdl_chaindb_config cfg = config_for(dir, &fs);
    cdl_chaindb *db = NULL;
    cdl_error err = {0};
    int rc = cdl_chaindb_open(&cfg, &db, NULL, &err);
    assert_true(ok_or(rc, &err, CDL_E_LIMIT));
    size_t failed = 0;
    if (rc == CDL_OK) {
      failed = session(db, CDL_E_LIMIT);
      cdl_error e = {0};
      rc = cdl_chaindb_close(db, &e);
      assert_true(ok_or(rc, &e, CDL_E_LIMIT));
    }
    assert_int_equal(fs.open_files, 0);
    printf("  max_open %zu: open %s, %zu operations refused\n", max,
           rc == CDL_OK || failed ? "worked" : "refused", failed);
    assert_intact(dir);
  }
}

/* ---- (b) RLIMIT_NOFILE in a child ------------------------------------------------------ */

enum { CHILD_OK = 0, CHILD_WRONG_ERROR = 10, CHILD_BAD_DATA, CHILD_LIMIT };

typedef struct child_log {
  size_t refused;     /* operations that failed for want of a descriptor */
  bool opened;
} child_log;

/* A failure must be CDL_E_IO saying why. */
static int fd_failure(int rc, const cdl_error *err, const char *what, child_log *log) {
  if (rc == CDL_OK) return CHILD_OK;
  log->refused++;
  if (rc == CDL_E_IO && err->code == CDL_E_IO && strstr(err->message, "file descriptors"))
    return CHILD_OK;
  fprintf(stderr, "  [child] %s: rc %d: %s\n", what, rc, err->message);
  return CHILD_WRONG_ERROR;
}

static int child_adds(cdl_chaindb *db, child_log *log) {
  for (size_t i = N - HELD_BACK; i < N; i++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    cdl_error err = {0};
    int rc = cdl_chaindb_add_block(db, BLOCKS[i].ptr, BLOCKS[i].len, &res, &rej, &err);
    if (fd_failure(rc, &err, "add", log) != CHILD_OK) return CHILD_WRONG_ERROR;
    if (rc == CDL_OK && res.outcome == CDL_ADD_INVALID) {
      fprintf(stderr, "  [child] block %zu refused: %s\n", i, rej.rule);
      return CHILD_BAD_DATA;
    }
  }
  return CHILD_OK;
}

static int child_reads(cdl_chaindb *db, child_log *log) {
  for (size_t i = 0; i < N; i += 5) {
    bool same;
    cdl_error err = {0};
    int rc = read_block(db, i, &same, &err);
    if (!same) return CHILD_BAD_DATA;
    if (rc != CDL_E_NOT_FOUND && fd_failure(rc, &err, "read", log) != CHILD_OK)
      return CHILD_WRONG_ERROR;
  }
  cdl_follower *f;
  cdl_error err = {0};
  if (cdl_follower_new(db, &f, &err) != CDL_OK) return CHILD_WRONG_ERROR;
  int result = CHILD_OK;
  for (size_t step = 0; step < 2 * N && result == CHILD_OK; step++) {
    cdl_follow_kind kind;
    cdl_block_info info;
    cdl_point to;
    cdl_error e = {0};
    int rc = cdl_follower_next(f, &kind, &info, &to, NULL, &e);
    result = fd_failure(rc, &e, "follower", log);
    if (rc != CDL_OK || kind == CDL_FOLLOW_AWAIT) break;
    if (kind != CDL_FOLLOW_FORWARD) result = CHILD_BAD_DATA;
  }
  cdl_follower_del(f);
  return result;
}

/* The RLIMIT_NOFILE under which exactly |spare| more descriptors can be
 * opened: the limit bounds descriptor numbers, and those open may have gaps
 * (a test harness may hold, say, 10 and 251). */
static rlim_t limit_for(size_t spare) {
  bool used[1024] = {false};
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long fd = strtol(e->d_name, NULL, 10);
    if (e->d_name[0] != '.' && fd >= 0 && fd < 1024 && fd != dirfd(d)) used[fd] = true;
  }
  closedir(d);
  size_t free_below = 0;
  for (rlim_t limit = 0; limit < 1024; limit++) {
    if (free_below == spare) return limit;
    free_below += !used[limit];
  }
  return 0;
}

typedef struct rlimit_case {
  const char *dir;
  size_t spare;
  child_log log; /* what the child did, sent back to the parent */
} rlimit_case;

/* In the child: opens, adds, reads, follows and closes with |spare|
 * descriptors to spare. */
static int rlimit_child(void *arg) {
  rlimit_case *c = arg;
  child_log *log = &c->log;
  struct rlimit old, low;
  if (getrlimit(RLIMIT_NOFILE, &old) != 0) return CHILD_LIMIT;
  low = old;
  low.rlim_cur = limit_for(c->spare);
  if (setrlimit(RLIMIT_NOFILE, &low) != 0) return CHILD_LIMIT;
  cdl_chaindb_config cfg = config_for(c->dir, NULL); /* the DB's own file system */
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  int rc = cdl_chaindb_open(&cfg, &db, NULL, &err);
  int result = fd_failure(rc, &err, "open", log);
  log->opened = rc == CDL_OK;
  if (rc == CDL_OK) {
    if (result == CHILD_OK) result = child_adds(db, log);
    if (result == CHILD_OK) result = child_reads(db, log);
    cdl_error e = {0};
    rc = cdl_chaindb_close(db, &e);
    if (result == CHILD_OK) result = fd_failure(rc, &e, "close", log);
  }
  setrlimit(RLIMIT_NOFILE, &old); /* LeakSanitizer needs descriptors at exit */
  return result;
}

static void test_rlimit(void **state) {
  (void)state;
  for (size_t spare = 0; spare <= 6; spare++) {
    rlimit_case c = {.dir = copy_template("rlimit"), .spare = spare};
    size_t got = 0;
    int rc = run_child(rlimit_child, &c, &c.log, sizeof c.log, &got);
    if (rc != 0)
      fail_msg("%zu spare descriptors: the child %s %d", spare,
               rc > 128 ? "died of signal" : "exited with", rc > 128 ? rc - 128 : rc);
    assert_int_equal(got, sizeof c.log);
    printf("  %zu spare descriptors: open %s, %zu operations refused\n", spare,
           c.log.opened ? "worked" : "refused", c.log.refused);
    assert_intact(c.dir);
  }
}

/* ---- (c) 10,000 open/close cycles -------------------------------------------------------- */

/* Every 500th cycle also reads blocks of several chunks and follows. */
static void cycle_activity(cdl_chaindb *db) {
  for (size_t i = 0; i < N - HELD_BACK; i += N / 10) {
    cdl_error err = {0};
    assert_int_equal(read_block(db, i, NULL, &err), CDL_OK);
  }
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  for (int step = 0; step < 60; step++) {
    cdl_follow_kind kind;
    cdl_block_info info;
    cdl_point to;
    assert_int_equal(cdl_follower_next(f, &kind, &info, &to, NULL, &err), CDL_OK);
  }
  cdl_follower_del(f);
}

static void test_open_close_cycles(void **state) {
  (void)state;
  const char *dir = copy_template("cycles");
  char imm_dir[200];
  snprintf(imm_dir, sizeof imm_dir, "%s/immutable", dir);
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  size_t before = open_fds();
  double t0 = seconds();
  for (int i = 0; i < CYCLES; i++) {
    cdl_chaindb *db = open_at(dir, &fs);
    if (i % 500 == 0) cycle_activity(db);
    db_close(db);
    if (fs.open_files != 0) fail_msg("cycle %d: %zu files left open", i, fs.open_files);
  }
  double t1 = seconds();
  assert_int_equal(open_fds(), before);
  cdl_immutable_config ic = {.epoch_slots = GEN_EPOCH};
  for (int i = 0; i < CYCLES; i++) {
    cdl_immutable *im = NULL;
    cdl_error err = {0};
    assert_int_equal(cdl_immutable_open(&fs, imm_dir, &ic, &im, NULL, &err), CDL_OK);
    if (i % 500 == 0) {
      cdl_immutable_pos pos;
      assert_int_equal(cdl_immutable_find_block_no(im, INFO[3].block_no, &pos, NULL, &err), 0);
    }
    cdl_immutable_close(im);
    if (fs.open_files != 0) fail_msg("immutable cycle %d: %zu files left open", i, fs.open_files);
  }
  assert_int_equal(open_fds(), before);
  printf("  %d ChainDB open/close cycles in %.1f s, %d immutable DB cycles in %.1f s; "
         "%zu descriptors open before and after\n",
         CYCLES, t1 - t0, CYCLES, seconds() - t1, before);
  assert_intact(dir);
}

/* ---- (d) An open that runs out of descriptors changes nothing ----------------------------
 * A cdl_fs that fails the n-th call taking a descriptor (open, listing a
 * directory, syncing one) the way the real one reports EMFILE. */

static struct {
  size_t calls, fail_at;
  char path[256];
} FAULT;
static cdl_fs_ops FAULTY_OPS;
static const cdl_fs_ops *REAL_OPS;

static bool inject(const char *path, cdl_error *err, int *rc) {
  if (++FAULT.calls != FAULT.fail_at) return false;
  snprintf(FAULT.path, sizeof FAULT.path, "%s", path);
  *rc = cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: out of file descriptors (injected)",
                      path);
  return true;
}

static int faulty_open(cdl_fs *fs, const char *path, unsigned flags, int *h, cdl_error *err) {
  int rc;
  return inject(path, err, &rc) ? rc : REAL_OPS->open(fs, path, flags, h, err);
}

static int faulty_list(cdl_fs *fs, const char *dir, int (*fn)(void *ctx, const char *name),
                       void *ctx, cdl_error *err) {
  int rc;
  return inject(dir, err, &rc) ? rc : REAL_OPS->list(fs, dir, fn, ctx, err);
}

static int faulty_sync_dir(cdl_fs *fs, const char *path, cdl_error *err) {
  int rc;
  return inject(path, err, &rc) ? rc : REAL_OPS->sync_dir(fs, path, err);
}

static void faulty_init(cdl_fs *fs, size_t fail_at) {
  cdl_fs_posix_init(fs, 0);
  REAL_OPS = fs->ops;
  FAULTY_OPS = *REAL_OPS;
  FAULTY_OPS.open = faulty_open;
  FAULTY_OPS.list = faulty_list;
  FAULTY_OPS.sync_dir = faulty_sync_dir;
  fs->ops = &FAULTY_OPS;
  memset(&FAULT, 0, sizeof FAULT);
  FAULT.fail_at = fail_at;
}

/* Every file under |dir| with its checksum, into WORK/|name|. */
static void listing(const char *dir, const char *name) {
  shell("cd '%s' && find . -type f | LC_ALL=C sort | xargs -r cksum > '%s/%s'", dir, WORK, name);
}

/* Whether WORK/before and WORK/after agree; if not, the first differences
 * go to stderr. */
static bool same_listing(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "cmp -s '%s/before' '%s/after'", WORK, WORK);
  if (system(cmd) == 0) return true;
  shell("diff '%s/before' '%s/after' | grep '^[<>]' | awk '{print \"      \" $1, $4}' | "
        "head -3 >&2",
        WORK, WORK);
  return false;
}

static const char *fresh_copy(bool snapshots) {
  const char *dir = copy_template("faults");
  if (!snapshots) shell("rm -f '%s'/ledger/*.lsnap", dir);
  return dir;
}

/* Fails each descriptor of an open in turn; returns how many runs changed
 * the database. */
static size_t fault_sweep(bool snapshots) {
  const char *dir = fresh_copy(snapshots);
  listing(dir, "before");
  cdl_fs fs;
  faulty_init(&fs, 0);
  cdl_chaindb_config cfg = config_for(dir, &fs);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_open(&cfg, &db, NULL, &err), CDL_OK);
  cdl_chaindb_abandon(db);
  size_t total = FAULT.calls, changed = 0;
  for (size_t n = 1; n <= total; n++) {
    dir = fresh_copy(snapshots);
    faulty_init(&fs, n);
    cfg = config_for(dir, &fs);
    cdl_error e = {0};
    int rc = cdl_chaindb_open(&cfg, &db, NULL, &e);
    if (rc == CDL_OK) cdl_chaindb_abandon(db);
    else if (rc != CDL_E_IO || strstr(e.message, "file descriptors") == NULL)
      fail_msg("descriptor %zu failed: rc %d: %s", n, rc, e.message);
    assert_int_equal(fs.open_files, 0);
    listing(dir, "after");
    if (!same_listing()) {
      print_error("    descriptor %zu of %zu failed (%s): the open %s and the database "
                  "changed (above, the first files: < gone or changed, > new)\n",
                  n, total, strrchr(FAULT.path, '/') + 1, rc == CDL_OK ? "went on" : "failed");
      changed++;
    }
  }
  printf("  %s: %zu descriptors taken by an open, each failed once: %zu runs changed the "
         "database\n", snapshots ? "with ledger snapshots" : "without snapshots", total, changed);
  return changed;
}

static void test_fault_during_open(void **state) {
  (void)state;
  size_t changed = fault_sweep(true);
  changed += fault_sweep(false);
  assert_int_equal(changed, 0);
}

/* ---- (e) Followers and failed look-ups ------------------------------------------------------ */

static void test_follower_lookup_failure(void **state) {
  (void)state;
  const char *dir = copy_template("follower");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_chaindb *db = open_at(dir, &fs);
  cdl_follower *f;
  cdl_error err = {0};
  assert_int_equal(cdl_follower_new(db, &f, &err), CDL_OK);
  cdl_point at = point_of(&INFO[3]), found;
  bool any;
  assert_int_equal(cdl_follower_intersect(f, &at, 1, &found, &any, &err), CDL_OK);
  assert_true(any);
  /* Reads in ten other chunks push chunk 0's index out of the cache. */
  for (uint64_t c = 1; c <= 10; c++) {
    size_t i = 0;
    while (INFO[i].slot / GEN_EPOCH < c) i++;
    assert_int_equal(read_block(db, i, NULL, &err), CDL_OK);
  }
  assert_true(fs.open_files > 0);
  fs.max_open = fs.open_files; /* no descriptor to spare from here */
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point to;
  cdl_error e = {0};
  int rc = cdl_follower_next(f, &kind, &info, &to, NULL, &e);
  bool spurious = rc == CDL_OK && kind == CDL_FOLLOW_BACKWARD;
  fs.max_open = 0;
  cdl_error e2 = {0};
  int rc2 = rc == CDL_OK ? CDL_OK : cdl_follower_next(f, &kind, &info, &to, NULL, &e2);
  cdl_follower_del(f);
  assert_int_equal(cdl_chaindb_close(db, &err), CDL_OK);
  assert_int_equal(fs.open_files, 0);
  if (spurious)
    fail_msg("a look-up that failed for want of a handle made the follower at block %llu "
             "(slot %llu) roll back to slot %llu",
             (unsigned long long)INFO[3].block_no, (unsigned long long)INFO[3].slot,
             (unsigned long long)to.slot);
  assert_true(rc == CDL_OK || rc == CDL_E_LIMIT);
  assert_int_equal(rc2, CDL_OK);
  assert_int_equal(kind, CDL_FOLLOW_FORWARD);
  assert_memory_equal(info.hash, INFO[4].hash, 32);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bounded_fs),
      cmocka_unit_test(test_rlimit),
      cmocka_unit_test(test_open_close_cycles),
      cmocka_unit_test(test_fault_during_open),
      cmocka_unit_test(test_follower_lookup_failure),
  };
  filter_tests_from_env();
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
