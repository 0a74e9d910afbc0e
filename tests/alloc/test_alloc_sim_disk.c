/*
 * test_alloc_sim_disk.c: allocation-failure sweeps over the simulator's
 * disk (src/sim/sim_disk.h; docs/testing.md "Allocation failures", the
 * countdown allocator is tests/support/fail_alloc.h). Each operation of
 * its file interface runs once per allocation it makes, with that
 * allocation failing (once, then from then on), on a disk holding synced
 * and unsynced bytes, a name not yet synced and a rename pending: it must
 * return CDL_E_NOMEM, leak nothing and leave the disk as it was, the same
 * files byte for byte now and after a power loss of the same seed (so the
 * same logs and journal). A complete run leaves what an unarmed run
 * leaves. A sync, a directory sync, a crash and damage make none.
 */
#include <stdio.h>
#include <string.h>

#include "../sim/sim_support.h"
#include "../support/fail_alloc.h"

typedef enum op_kind {
  OP_CREATE, OP_OPEN_TRUNC, OP_WRITE, OP_TRUNCATE, OP_SYNC, OP_RENAME, OP_RENAME_OVER,
  OP_REMOVE, OP_MKDIR, OP_LIST, OP_LOCK, OP_SYNC_DIR, OP_CRASH, OP_CORRUPT, OP_KINDS
} op_kind;

static const char *const OP_NAMES[OP_KINDS] = {
    "open to create", "open to truncate", "write", "truncate", "sync", "rename", "rename over",
    "remove", "mkdir", "list", "lock", "sync_dir", "crash", "corrupt"};

typedef struct disk_op {
  op_kind kind;
  sim_disk *d;
  int h; /* d/a, open for writing */
} disk_op;

/* The same disk every time: d/a synced with unsynced bytes after, d/b
 * never synced, d/sub/c renamed to d/c (neither directory synced since). */
static sim_disk *busy_disk(int *h) {
  cdl_fs *fs;
  sim_disk *d = disk_with_dir(42, &fs);
  cdl_error err = {0};
  mkdir_ok(fs, "d/sub");
  put_file(fs, "d/a", "synced bytes", true);
  sync_dir_ok(fs, "d");
  put_file(fs, "d/b", "never synced", false);
  put_file(fs, "d/sub/c", "moved", false);
  assert_int_equal(fs->ops->rename(fs, "d/sub/c", "d/c", &err), CDL_OK);
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_WRITE, h, &err), CDL_OK);
  append_file(fs, *h, ", then unsynced ones");
  return d;
}

static int ignore_name(void *ctx, const char *name) {
  (void)ctx, (void)name;
  return 0;
}

/* Opens |path| with |flags| and closes it again. */
static int open_close(cdl_fs *fs, const char *path, unsigned flags, cdl_error *err) {
  int h;
  int rc = cdl_fs_open(fs, path, flags, &h, err);
  if (rc == CDL_OK) cdl_fs_close(fs, h);
  return rc;
}

static int lock_unlock(cdl_fs *fs, const char *path, cdl_error *err) {
  int token;
  int rc = fs->ops->lock(fs, path, &token, err);
  if (rc == CDL_OK) fs->ops->unlock(fs, token);
  return rc;
}

/* Operation |kind| on |d|, with d/a open as |h|. */
static int apply(op_kind kind, sim_disk *d, int h) {
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  char path[64];
  switch (kind) {
    case OP_CREATE: return open_close(fs, "d/new", CDL_FS_WRITE | CDL_FS_CREATE, &err);
    case OP_OPEN_TRUNC: return open_close(fs, "d/b", CDL_FS_WRITE | CDL_FS_TRUNC, &err);
    case OP_WRITE: return fs->ops->write_at(fs, h, "grown", 5, 200, &err);
    case OP_TRUNCATE: return fs->ops->truncate(fs, h, 3, &err);
    case OP_SYNC: return fs->ops->sync(fs, h, &err);
    case OP_RENAME: return fs->ops->rename(fs, "d/b", "d/sub/b", &err);
    case OP_RENAME_OVER: return fs->ops->rename(fs, "d/b", "d/a", &err);
    case OP_REMOVE: return fs->ops->remove(fs, "d/c", &err);
    case OP_MKDIR: return fs->ops->mkdir(fs, "d/new", &err);
    case OP_LIST: return fs->ops->list(fs, "d", ignore_name, NULL, &err);
    case OP_LOCK: return lock_unlock(fs, "d/lock", &err);
    case OP_SYNC_DIR: return fs->ops->sync_dir(fs, "d", &err);
    case OP_CRASH: sim_disk_crash(d, SIM_CRASH_POWER); return CDL_OK;
    default: return sim_disk_corrupt(d, "d/", SIM_CORRUPT_BITFLIP, path, sizeof path) ? CDL_OK : -1;
  }
}

static void op_setup(void *ctx) {
  disk_op *op = ctx;
  op->d = busy_disk(&op->h);
}

static int op_run(void *ctx) {
  disk_op *op = ctx;
  return apply(op->kind, op->d, op->h);
}

/* The disk is the one an unarmed run leaves (or, failed, the one before
 * the operation): now and after a power loss of both. */
static void op_check(void *ctx, int rc, bool failed) {
  (void)rc;
  disk_op *op = ctx;
  int h;
  sim_disk *want = busy_disk(&h);
  if (!failed) assert_int_equal(apply(op->kind, want, h), CDL_OK);
  assert_true(same_tree(op->d, want));
  sim_disk_crash(op->d, SIM_CRASH_POWER);
  sim_disk_crash(want, SIM_CRASH_POWER);
  assert_true(same_tree(op->d, want));
  sim_disk_free(want);
}

static void op_teardown(void *ctx) {
  disk_op *op = ctx;
  sim_disk_free(op->d);
}

static void test_every_operation(void **state) {
  (void)state;
  for (op_kind k = 0; k < OP_KINDS; k++) {
    disk_op op = {.kind = k};
    fail_sweep s = {.name = OP_NAMES[k], .ctx = &op, .setup = op_setup, .run = op_run,
                    .check = op_check, .teardown = op_teardown, .fail_code = CDL_E_NOMEM};
    uint64_t points = fail_sweep_run(&s);
    bool none = k == OP_SYNC || k == OP_SYNC_DIR || k == OP_CRASH || k == OP_CORRUPT;
    if (none && points > 0)
      fail_msg("%s: %llu allocations where none may fail", OP_NAMES[k],
               (unsigned long long)points);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_operation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
