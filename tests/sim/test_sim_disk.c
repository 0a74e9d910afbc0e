/*
 * test_sim_disk.c: the simulator's disk (src/sim/sim_disk.h): POSIX file
 * semantics (names, inodes that outlive their names, sorted listings,
 * missing files), durability across a power loss (synced bytes and
 * entries kept for every seed; unsynced ones kept whole, torn or lost,
 * always as a prefix of what was written; a rename between directories
 * kept or lost as a whole), the same seed giving the same disk, each
 * fault (capacity, descriptors, lossy close, freeze, damage), owner
 * locks, and the real ChainDB on the disk: clean closes, a crash (power
 * or process) at a seeded change in the middle of its adds, damage to one
 * of its files, a full disk and lossy closes. Every test frees its disks:
 * the sanitizer build checks that nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "sim_support.h"

#define SEEDS 200

/* ---- Fixture ------------------------------------------------------------------ */

/* A disk holding the directory "d" for one test, freed after it. */
static int disk_setup(void **state) {
  cdl_fs *fs;
  *state = disk_with_dir(1, &fs);
  return 0;
}

static int disk_teardown(void **state) {
  sim_disk_free(*state);
  return 0;
}

#define DISK_TEST(f) cmocka_unit_test_setup_teardown(f, disk_setup, disk_teardown)

/* ---- 1. File semantics ------------------------------------------------------------- */

static void test_names_and_bytes(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  int h;
  assert_int_equal(cdl_fs_open(fs, "db/x", CDL_FS_READ, &h, &err), CDL_E_IO);
  assert_string_equal(err.message, "cannot open db/x: No such file or directory");
  cdl_error_clear(&err);
  assert_int_equal(cdl_fs_open(fs, "db/x", CDL_FS_WRITE | CDL_FS_CREATE, &h, &err), CDL_E_IO);
  assert_non_null(strstr(err.message, "No such file or directory")); /* no directory db */
  mkdir_ok(fs, "db");
  mkdir_ok(fs, "db"); /* existing is fine */
  mkdir_ok(fs, "db/sub");
  assert_true(fs->ops->exists(fs, "db") && fs->ops->exists(fs, "db/sub"));
  put_file(fs, "db/b", "bee", false);
  put_file(fs, "db/a", "apple", false);
  put_file(fs, "db/c", "cherry", false);
  put_file(fs, "db/sub/deep", "deep", false);
  listing l;
  assert_string_equal(list_of(fs, "db", &l), "a,b,c,sub");
  assert_string_equal(list_of(fs, "", &l), "d,db");
  assert_int_equal(cdl_fs_open(fs, "db/a", CDL_FS_WRITE, &h, &err), CDL_OK);
  char buf[16] = {0};
  size_t got;
  assert_int_equal(fs->ops->read_at(fs, h, buf, sizeof buf, 1, &got, &err), CDL_OK);
  assert_int_equal(got, 4);
  assert_memory_equal(buf, "pple", 4);
  assert_int_equal(fs->ops->write_at(fs, h, "XY", 2, 7, &err), CDL_OK); /* a gap of zeros */
  uint64_t size;
  assert_int_equal(fs->ops->size(fs, h, &size, &err), CDL_OK);
  assert_int_equal(size, 9);
  assert_int_equal(fs->ops->read_at(fs, h, buf, 9, 0, &got, &err), CDL_OK);
  assert_memory_equal(buf, "apple\0\0XY", 9);
  assert_int_equal(fs->ops->truncate(fs, h, 3, &err), CDL_OK);
  cdl_fs_close(fs, h);
  expect_file(fs, "db/a", "app");
  assert_int_equal(fs->ops->rename(fs, "db/a", "db/b", &err), CDL_OK); /* over b */
  expect_file(fs, "db/b", "app");
  assert_false(fs->ops->exists(fs, "db/a"));
  assert_int_equal(fs->ops->remove(fs, "db/c", &err), CDL_OK);
  assert_int_equal(fs->ops->remove(fs, "db/c", &err), CDL_OK); /* missing is fine */
  assert_string_equal(list_of(fs, "db", &l), "b,sub");
  assert_int_equal(fs->ops->rename(fs, "db/nothing", "db/z", &err), CDL_E_IO);
  assert_int_equal(sim_disk_open_handles(d), 0);
}

/* A handle reaches its file after the name is removed or renamed over. */
static void test_handle_outlives_name(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  put_file(fs, "d/old", "old bytes", false);
  put_file(fs, "d/new", "new bytes", false);
  int h1, h2;
  assert_int_equal(cdl_fs_open(fs, "d/old", CDL_FS_WRITE, &h1, &err), CDL_OK);
  assert_int_equal(cdl_fs_open(fs, "d/new", CDL_FS_READ, &h2, &err), CDL_OK);
  assert_int_equal(fs->ops->rename(fs, "d/new", "d/old", &err), CDL_OK);
  assert_int_equal(fs->ops->remove(fs, "d/old", &err), CDL_OK);
  assert_false(fs->ops->exists(fs, "d/old") || fs->ops->exists(fs, "d/new"));
  append_file(fs, h1, "+more");
  char buf[32] = {0};
  size_t got;
  assert_int_equal(fs->ops->read_at(fs, h1, buf, sizeof buf, 0, &got, &err), CDL_OK);
  assert_string_equal(buf, "old bytes+more");
  memset(buf, 0, sizeof buf);
  assert_int_equal(fs->ops->read_at(fs, h2, buf, sizeof buf, 0, &got, &err), CDL_OK);
  assert_string_equal(buf, "new bytes");
  assert_int_equal(sim_disk_open_handles(d), 2);
  cdl_fs_close(fs, h1);
  cdl_fs_close(fs, h2);
  sim_disk_stats st;
  sim_disk_stats_get(d, &st);
  assert_int_equal(st.files, 0);
  assert_int_equal(st.bytes, 0); /* the inodes went with their last handles */
  assert_int_equal(sim_disk_open_handles(d), 0);
}

/* ---- 2. Durability ------------------------------------------------------------------ */

static void test_synced_survives_power_loss(void **state) {
  (void)state;
  for (uint64_t seed = 0; seed < SEEDS; seed++) {
    cdl_fs *fs;
    sim_disk *d = disk_with_dir(seed, &fs);
    put_file(fs, "d/kept", "synced bytes", true);
    sync_dir_ok(fs, "d");
    put_file(fs, "d/noise", "unsynced", false); /* the crash has choices to make */
    int h;
    cdl_error err = {0};
    assert_int_equal(cdl_fs_open(fs, "d/kept", CDL_FS_WRITE, &h, &err), CDL_OK);
    cdl_fs_close(fs, h);
    sim_disk_freeze(d);
    sim_disk_crash(d, SIM_CRASH_POWER);
    expect_file(fs, "d/kept", "synced bytes");
    sim_disk_free(d);
  }
}

/* Whether |got| is |base| after a prefix of the writes at offsets[i] of
 * texts[i], the last kept one possibly cut after 1..len-1 bytes. */
static bool is_prefix_state(const char *base, const char *const *texts, const size_t *offsets,
                            size_t n, const char *got, size_t got_len) {
  char state[256];
  size_t len = strlen(base);
  memcpy(state, base, len);
  if (got_len == len && memcmp(got, state, len) == 0) return true;
  for (size_t i = 0; i < n; i++) {
    size_t tlen = strlen(texts[i]);
    for (size_t keep = 1; keep <= tlen; keep++) {
      char torn[256];
      memcpy(torn, state, len);
      memcpy(torn + offsets[i], texts[i], keep);
      size_t end = offsets[i] + keep > len ? offsets[i] + keep : len;
      if (got_len == end && memcmp(got, torn, end) == 0) return true;
    }
    memcpy(state + offsets[i], texts[i], tlen);
    if (offsets[i] + tlen > len) len = offsets[i] + tlen;
  }
  return false;
}

enum { ABSENT, EMPTY, TORN, WHOLE, OUTCOMES };

/* A new file written once and never synced, and a synced file written
 * over and after, neither synced again: every power loss leaves each as
 * its durable bytes plus a prefix of its writes. */
static void test_unsynced_cut_as_prefix(void **state) {
  (void)state;
  static const char *const texts[] = {"0123456789", "abc", "WXYZ!"};
  static const size_t offsets[] = {12, 3, 13};
  unsigned seen[OUTCOMES] = {0}, base_only = 0, base_and_more = 0;
  for (uint64_t seed = 0; seed < SEEDS; seed++) {
    cdl_fs *fs;
    sim_disk *d = disk_with_dir(seed, &fs);
    put_file(fs, "d/old", "base-bytes..", true);
    sync_dir_ok(fs, "d");
    put_file(fs, "d/new", "a fresh file", false);
    int h;
    cdl_error err = {0};
    assert_int_equal(cdl_fs_open(fs, "d/old", CDL_FS_WRITE, &h, &err), CDL_OK);
    for (size_t i = 0; i < 3; i++)
      assert_int_equal(fs->ops->write_at(fs, h, texts[i], strlen(texts[i]), offsets[i], &err),
                       CDL_OK);
    cdl_fs_close(fs, h);
    sim_disk_freeze(d);
    sim_disk_crash(d, SIM_CRASH_POWER);
    char got[256];
    assert_int_equal(get_file(fs, "d/old", got, sizeof got), CDL_OK);
    assert_true(is_prefix_state("base-bytes..", texts, offsets, 3, got, strlen(got)));
    if (strcmp(got, "base-bytes..") == 0) base_only++;
    else base_and_more++;
    if (!fs->ops->exists(fs, "d/new")) {
      seen[ABSENT]++;
    } else {
      assert_int_equal(get_file(fs, "d/new", got, sizeof got), CDL_OK);
      assert_memory_equal(got, "a fresh file", strlen(got));
      seen[got[0] == '\0' ? EMPTY : strlen(got) < 12 ? TORN : WHOLE]++;
    }
    sim_disk_free(d);
  }
  for (int o = 0; o < OUTCOMES; o++)
    if (seen[o] == 0) fail_msg("outcome %d never seen in %d seeds", o, SEEDS);
  assert_true(base_only > 0 && base_and_more > 0);
}

/* A process crash keeps every write and entry; they stay unsynced, so a
 * power loss after it may still cut them. */
static void test_process_crash_keeps_everything(void **state) {
  (void)state;
  bool lost_later = false;
  for (uint64_t seed = 0; seed < 20; seed++) {
    cdl_fs *fs;
    sim_disk *d = disk_with_dir(seed, &fs);
    put_file(fs, "d/a", "never synced", false);
    put_file(fs, "d/b", "synced", true);
    sim_disk_freeze(d);
    sim_disk_crash(d, SIM_CRASH_PROCESS);
    expect_file(fs, "d/a", "never synced");
    expect_file(fs, "d/b", "synced");
    sim_disk_crash(d, SIM_CRASH_POWER);
    char got[64];
    lost_later |=
        get_file(fs, "d/a", got, sizeof got) != CDL_OK || strcmp(got, "never synced") != 0;
    sim_disk_free(d);
  }
  assert_true(lost_later);
}

/* A rename from one directory to another is kept or lost whole: the file
 * has exactly one of its names after any power loss; once either
 * directory is synced, the new one. */
static void test_rename_between_directories(void **state) {
  (void)state;
  unsigned at_old = 0, at_new = 0;
  for (uint64_t seed = 0; seed < SEEDS; seed++) {
    sim_disk *d = sim_disk_new(seed);
    cdl_fs *fs = sim_disk_fs(d);
    cdl_error err = {0};
    mkdir_ok(fs, "a");
    mkdir_ok(fs, "b");
    put_file(fs, "a/f", "moving", true);
    sync_dir_ok(fs, "a");
    put_file(fs, "b/other", "x", false); /* pending in b before the rename */
    assert_int_equal(fs->ops->rename(fs, "a/f", "b/f", &err), CDL_OK);
    bool synced = seed % 2 == 1;
    if (synced) sync_dir_ok(fs, seed % 4 == 1 ? "a" : "b");
    sim_disk_crash(d, SIM_CRASH_POWER);
    bool old_name = fs->ops->exists(fs, "a/f"), new_name = fs->ops->exists(fs, "b/f");
    assert_true(old_name != new_name);
    expect_file(fs, new_name ? "b/f" : "a/f", "moving");
    if (synced) assert_true(new_name);
    else at_old += old_name, at_new += new_name;
    sim_disk_free(d);
  }
  assert_true(at_old > 0 && at_new > 0);
}

/* ---- 3. The same seed, the same disk -------------------------------------------------- */

static sim_disk *crashed_disk(uint64_t seed) {
  cdl_fs *fs;
  sim_disk *d = disk_with_dir(seed, &fs);
  mkdir_ok(fs, "e");
  char name[32], text[64];
  for (int i = 0; i < 12; i++) {
    snprintf(name, sizeof name, "%s/f%02d", i % 3 ? "d" : "e", i);
    snprintf(text, sizeof text, "file %d, some bytes to tear", i);
    put_file(fs, name, text, i % 4 == 0);
    if (i == 5) sync_dir_ok(fs, "d");
  }
  cdl_error err = {0};
  assert_int_equal(fs->ops->rename(fs, "d/f01", "e/moved", &err), CDL_OK);
  assert_int_equal(fs->ops->remove(fs, "d/f02", &err), CDL_OK);
  sim_disk_crash(d, SIM_CRASH_POWER);
  return d;
}

static void test_same_seed_same_disk(void **state) {
  (void)state;
  bool differs = false;
  for (uint64_t seed = 0; seed < 20; seed++) {
    sim_disk *a = crashed_disk(seed), *b = crashed_disk(seed), *c = crashed_disk(seed + 1000);
    assert_true(same_tree(a, b));
    differs |= !same_tree(a, c);
    sim_disk_free(a);
    sim_disk_free(b);
    sim_disk_free(c);
  }
  assert_true(differs);
}

/* ---- 4. Faults ------------------------------------------------------------------------- */

static void test_capacity_refuses_and_changes_nothing(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  sim_disk_set_capacity(d, 20);
  put_file(fs, "d/a", "0123456789", false);
  int h;
  assert_int_equal(cdl_fs_open(fs, "d/b", CDL_FS_WRITE | CDL_FS_CREATE, &h, &err), CDL_OK);
  assert_int_equal(fs->ops->write_at(fs, h, "0123456789", 10, 0, &err), CDL_OK); /* 20 in all */
  assert_int_equal(fs->ops->write_at(fs, h, "x", 1, 10, &err), CDL_E_IO);
  assert_non_null(strstr(err.message, "cannot write d/b: No space left on device"));
  cdl_error_clear(&err);
  assert_int_equal(fs->ops->truncate(fs, h, 11, &err), CDL_E_IO);
  assert_non_null(strstr(err.message, "No space left on device"));
  expect_file(fs, "d/b", "0123456789");
  assert_int_equal(fs->ops->write_at(fs, h, "ABCDE", 5, 0, &err), CDL_OK); /* no growth */
  assert_int_equal(fs->ops->truncate(fs, h, 5, &err), CDL_OK);
  assert_int_equal(fs->ops->write_at(fs, h, "vwxyz", 5, 5, &err), CDL_OK);
  cdl_fs_close(fs, h);
  expect_file(fs, "d/b", "ABCDEvwxyz");
  sim_disk_stats st;
  sim_disk_stats_get(d, &st);
  assert_int_equal(st.refused_full, 2);
  assert_int_equal(st.files, 2);
  assert_int_equal(st.bytes, 20);
  sim_disk_set_capacity(d, 0); /* no bound */
  put_file(fs, "d/c", "more than the old capacity", false);
}

static void test_max_open_refuses(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  put_file(fs, "d/a", "a", false);
  sim_disk_set_max_open(d, 2);
  int h[CDL_FS_DEFAULT_MAX_OPEN + 1];
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h[0], &err), CDL_OK);
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h[1], &err), CDL_OK);
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h[2], &err), CDL_E_LIMIT);
  assert_string_equal(err.message, "cannot open d/a: 2 files already open (the bound)");
  assert_int_equal(fs->open_files, 2);
  cdl_fs_close(fs, h[0]);
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h[0], &err), CDL_OK);
  cdl_fs_close(fs, h[0]);
  cdl_fs_close(fs, h[1]);
  sim_disk_set_max_open(d, 0); /* CDL_FS_DEFAULT_MAX_OPEN */
  for (int i = 0; i < CDL_FS_DEFAULT_MAX_OPEN; i++)
    assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h[i], &err), CDL_OK);
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h[64], &err), CDL_E_LIMIT);
  for (int i = 0; i < CDL_FS_DEFAULT_MAX_OPEN; i++) cdl_fs_close(fs, h[i]);
  sim_disk_stats st;
  sim_disk_stats_get(d, &st);
  assert_int_equal(st.refused_descriptors, 2);
  assert_int_equal(sim_disk_open_handles(d), 0);
  assert_int_equal(fs->open_files, 0);
}

static void test_lossy_close_drops_unsynced(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  sim_disk_set_lossy_close(d, true);
  int h;
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_WRITE | CDL_FS_CREATE, &h, &err), CDL_OK);
  append_file(fs, h, "synced");
  assert_int_equal(fs->ops->sync(fs, h, &err), CDL_OK);
  append_file(fs, h, "+lost");
  cdl_fs_close(fs, h);
  expect_file(fs, "d/a", "synced");
  put_file(fs, "d/b", "never synced", false);
  expect_file(fs, "d/b", ""); /* the name stays, its bytes went */
  sim_disk_set_lossy_close(d, false);
  put_file(fs, "d/c", "kept", false);
  expect_file(fs, "d/c", "kept");
}

static void expect_frozen(int rc, cdl_error *err) {
  assert_int_equal(rc, CDL_E_IO);
  assert_non_null(strstr(err->message, "disk frozen (crashed)"));
  cdl_error_clear(err);
}

static int count_name(void *ctx, const char *name) {
  (void)name;
  (*(int *)ctx)++;
  return 0;
}

/* Every operation of a frozen disk fails and changes nothing; closes and
 * unlocks still free. */
static void test_frozen_refuses_everything(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  int h, h2, token, token2, n = 0;
  cdl_error err = {0};
  put_file(fs, "d/a", "synced", true);
  put_file(fs, "d/b", "unsynced", false);
  assert_int_equal(cdl_fs_open(fs, "d/a", CDL_FS_WRITE, &h, &err), CDL_OK);
  assert_int_equal(fs->ops->lock(fs, "d/lock", &token, &err), CDL_OK);
  cdl_buf before, after;
  tree_of(d, &before);
  sim_disk_freeze(d);
  char buf[8];
  size_t got;
  uint64_t size;
  expect_frozen(cdl_fs_open(fs, "d/a", CDL_FS_READ, &h2, &err), &err);
  expect_frozen(cdl_fs_open(fs, "d/new", CDL_FS_WRITE | CDL_FS_CREATE, &h2, &err), &err);
  expect_frozen(fs->ops->read_at(fs, h, buf, sizeof buf, 0, &got, &err), &err);
  expect_frozen(fs->ops->write_at(fs, h, "x", 1, 0, &err), &err);
  expect_frozen(fs->ops->size(fs, h, &size, &err), &err);
  expect_frozen(fs->ops->sync(fs, h, &err), &err);
  expect_frozen(fs->ops->truncate(fs, h, 0, &err), &err);
  expect_frozen(fs->ops->rename(fs, "d/a", "d/c", &err), &err);
  expect_frozen(fs->ops->remove(fs, "d/b", &err), &err);
  expect_frozen(fs->ops->mkdir(fs, "e", &err), &err);
  expect_frozen(fs->ops->sync_dir(fs, "d", &err), &err);
  expect_frozen(fs->ops->list(fs, "d", count_name, &n, &err), &err);
  expect_frozen(fs->ops->lock(fs, "d/other", &token2, &err), &err);
  assert_false(fs->ops->exists(fs, "d/a"));
  assert_int_equal(n, 0);
  sim_disk_stats st;
  sim_disk_stats_get(d, &st);
  assert_int_equal(st.refused_frozen, 14);
  cdl_fs_close(fs, h);
  fs->ops->unlock(fs, token);
  assert_int_equal(sim_disk_open_handles(d), 0);
  sim_disk_crash(d, SIM_CRASH_PROCESS);
  tree_of(d, &after);
  assert_int_equal(before.len, after.len);
  assert_memory_equal(before.data, after.data, before.len);
  cdl_buf_free(&before);
  cdl_buf_free(&after);
}

static unsigned bits_differing(const char *a, const char *b, size_t len) {
  unsigned n = 0;
  for (size_t i = 0; i < len; i++) n += (unsigned)__builtin_popcount((unsigned char)(a[i] ^ b[i]));
  return n;
}

/* Damage hits one non-empty file under the prefix, durably. */
static void test_corrupt_one_file_under_prefix(void **state) {
  (void)state;
  static const char Y[] = "0123456789abcdef", Z[] = "zzzz", X[] = "xxxxxxxx";
  for (uint64_t seed = 0; seed < 20; seed++) {
    sim_disk *d = sim_disk_new(seed);
    cdl_fs *fs = sim_disk_fs(d);
    mkdir_ok(fs, "a");
    mkdir_ok(fs, "b");
    mkdir_ok(fs, "b/sub");
    put_file(fs, "a/x", X, true);
    put_file(fs, "b/y", Y, false);
    put_file(fs, "b/empty", "", true);
    put_file(fs, "b/sub/z", Z, false);
    sync_dir_ok(fs, "a"), sync_dir_ok(fs, "b"), sync_dir_ok(fs, "b/sub");
    char path[64], got[64];
    assert_true(sim_disk_corrupt(d, "b/", SIM_CORRUPT_BITFLIP, path, sizeof path));
    bool y = strcmp(path, "b/y") == 0;
    assert_true(y || strcmp(path, "b/sub/z") == 0);
    expect_file(fs, y ? "b/sub/z" : "b/y", y ? Z : Y); /* the other file is whole */
    expect_file(fs, "a/x", X);
    sim_disk_crash(d, SIM_CRASH_POWER); /* the damage is durable */
    assert_int_equal(get_file(fs, path, got, sizeof got), CDL_OK);
    assert_int_equal(strlen(got), y ? 16 : 4);
    assert_int_equal(bits_differing(got, y ? Y : Z, y ? 16 : 4), 1);
    assert_true(sim_disk_corrupt(d, "a/", SIM_CORRUPT_TRUNCATE, path, sizeof path));
    assert_string_equal(path, "a/x");
    assert_int_equal(get_file(fs, "a/x", got, sizeof got), CDL_OK);
    assert_true(strlen(got) < 8 && strncmp(got, X, strlen(got)) == 0);
    assert_false(sim_disk_corrupt(d, "c/", SIM_CORRUPT_BITFLIP, path, sizeof path));
    assert_string_equal(path, "");
    assert_false(sim_disk_corrupt(d, "b/empty", SIM_CORRUPT_TRUNCATE, path, sizeof path));
    sim_disk_stats st;
    sim_disk_stats_get(d, &st);
    assert_int_equal(st.corruptions, 2);
    sim_disk_free(d);
  }
}

/* One holder per lock path; a crash releases every lock. */
static void test_locks(void **state) {
  sim_disk *d = *state;
  cdl_fs *fs = sim_disk_fs(d);
  cdl_error err = {0};
  int t1, t2;
  mkdir_ok(fs, "db");
  assert_int_equal(fs->ops->lock(fs, "db/lock", &t1, &err), CDL_OK);
  assert_int_equal(fs->ops->lock(fs, "db/lock", &t2, &err), CDL_E_LOCKED);
  assert_non_null(strstr(err.message, "in use by this process"));
  assert_int_equal(fs->ops->lock(fs, "nodir/lock", &t2, &err), CDL_E_IO);
  fs->ops->unlock(fs, t1);
  assert_int_equal(fs->ops->lock(fs, "db/lock", &t1, &err), CDL_OK);
  sim_disk_freeze(d);
  sim_disk_crash(d, SIM_CRASH_PROCESS);
  assert_int_equal(fs->ops->lock(fs, "db/lock", &t2, &err), CDL_OK);
  fs->ops->unlock(fs, t2);
}

/* ---- 5. The real ChainDB on the disk ------------------------------------------------------ */

#define DB_K 3 /* epochs of 30 slots: chunks, snapshots and moves to the immutable DB */
#define DB_DIR "node/db"
#define DB_SEEDS (UNDER_ASAN ? 12 : 50)

static cdl_chaindb_config sim_config(sim_disk *d, uint64_t sync_interval) {
  cdl_fs *fs = sim_disk_fs(d);
  mkdir_ok(fs, "node");
  cdl_chaindb_config c = rf_config(DB_DIR, DB_K, fs);
  c.sync_interval = sync_interval;
  return c;
}

/* The re-forged blocks from..to-1, each adopted. */
static void add_range(cdl_chaindb *db, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) add_expect(db, reforged(&RF, i), CDL_ADD_ADOPTED);
}

/* The tip's index in the re-forged chain, -1 for none; a tip off the
 * chain fails the test. */
static long tip_index(cdl_chaindb *db) {
  cdl_block_info tip;
  if (!cdl_chaindb_tip(db, &tip)) return -1;
  for (size_t i = 0; i < RF_BLOCKS; i++)
    if (memcmp(tip.hash, RF.hashes[i], 32) == 0) return (long)i;
  fail_msg("the tip is no block of the chain");
  return -1;
}

/* Opens what a crash or damage left, which must open: a refusal is a
 * finding, told with the seed and what happened before. */
static cdl_chaindb *reopen(const cdl_chaindb_config *cfg, uint64_t seed, const char *after,
                           bool identity) {
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  int rc = cdl_chaindb_open(cfg, &db, NULL, &err);
  /* Finding: damage to DIR/genesis.hash or DIR/pbft-threshold is refused
   * as a database of another genesis or threshold; storage cannot tell
   * the two apart. Any other refusal fails. */
  if (identity && (rc == CDL_E_GENESIS || rc == CDL_E_USAGE)) return NULL;
  if (rc != CDL_OK)
    fail_msg("seed %llu: the ChainDB does not open after %s: %s (%s)", (unsigned long long)seed,
             after, err.message, cdl_error_name(err.code));
  return db;
}

/* Damages one file of the closed ChainDB: it opens at a block of the
 * chain no higher than |tip| and goes on adopting. */
static void damage_and_reopen(sim_disk *d, const cdl_chaindb_config *cfg, uint64_t seed,
                              long tip) {
  char path[128], after[200];
  sim_corruption kind = seed % 2 ? SIM_CORRUPT_TRUNCATE : SIM_CORRUPT_BITFLIP;
  assert_true(sim_disk_corrupt(d, DB_DIR "/", kind, path, sizeof path));
  snprintf(after, sizeof after, "a %s of %s", kind ? "truncation" : "bit flip", path);
  bool identity = strcmp(path, DB_DIR "/genesis.hash") == 0 ||
                  strcmp(path, DB_DIR "/pbft-threshold") == 0;
  cdl_chaindb *db = reopen(cfg, seed, after, identity);
  if (db == NULL) return;
  long damaged = tip_index(db);
  if (damaged > tip)
    fail_msg("seed %llu: tip %ld after %s, %ld before", (unsigned long long)seed, damaged, after,
             tip);
  add_range(db, (size_t)(damaged + 1), (size_t)(damaged + 6));
  db_close(db);
}

static void test_chaindb_clean_reopen(void **state) {
  (void)state;
  sim_disk *d = sim_disk_new(8);
  cdl_chaindb_config cfg = sim_config(d, 0);
  cdl_chaindb *db = db_open(&cfg, NULL), *second = NULL;
  add_range(db, 0, 120);
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_open(&cfg, &second, NULL, &err), CDL_E_LOCKED);
  db_close(db);
  assert_int_equal(sim_disk_open_handles(d), 0);
  db = db_open(&cfg, NULL);
  assert_int_equal(tip_index(db), 119);
  add_range(db, 120, 130);
  db_close(db);
  db = db_open(&cfg, NULL);
  assert_int_equal(tip_index(db), 129);
  db_close(db);
  assert_int_equal(sim_disk_open_handles(d), 0);
  sim_disk_free(d);
}

/* ---- A crash in the middle of an add ---------------------------------------------
 * The ChainDB's file system: the disk's own operations, with the changes
 * (writes, truncates, syncs, renames, removes, directory syncs) counted
 * and the disk frozen just before the |at|-th, wherever the ChainDB is. */
static struct freezer {
  sim_disk *d;
  uint64_t changes, at;
  const cdl_fs_ops *real;
  cdl_fs_ops ops;
  cdl_fs fs;
} FZ;

static void before_change(void) {
  if (++FZ.changes == FZ.at) sim_disk_freeze(FZ.d);
}
static int fz_write_at(cdl_fs *fs, int h, const void *buf, size_t len, uint64_t off,
                       cdl_error *err) {
  before_change();
  return FZ.real->write_at(fs, h, buf, len, off, err);
}
static int fz_truncate(cdl_fs *fs, int h, uint64_t size, cdl_error *err) {
  before_change();
  return FZ.real->truncate(fs, h, size, err);
}
static int fz_sync(cdl_fs *fs, int h, cdl_error *err) {
  before_change();
  return FZ.real->sync(fs, h, err);
}
static int fz_rename(cdl_fs *fs, const char *from, const char *to, cdl_error *err) {
  before_change();
  return FZ.real->rename(fs, from, to, err);
}
static int fz_remove(cdl_fs *fs, const char *path, cdl_error *err) {
  before_change();
  return FZ.real->remove(fs, path, err);
}
static int fz_sync_dir(cdl_fs *fs, const char *path, cdl_error *err) {
  before_change();
  return FZ.real->sync_dir(fs, path, err);
}

/* |d|'s file system, freezing it at no change until FZ.at is set. */
static cdl_fs *freezing_fs(sim_disk *d) {
  const cdl_fs *real = sim_disk_fs(d);
  FZ = (struct freezer){.d = d, .at = UINT64_MAX, .real = real->ops, .ops = *real->ops};
  FZ.ops.write_at = fz_write_at, FZ.ops.truncate = fz_truncate, FZ.ops.sync = fz_sync;
  FZ.ops.rename = fz_rename, FZ.ops.remove = fz_remove, FZ.ops.sync_dir = fz_sync_dir;
  FZ.fs = (cdl_fs){.ops = &FZ.ops, .impl = real->impl, .max_open = real->max_open};
  return &FZ.fs;
}

/* Adds blocks from..to-1 until the disk (frozen, full) refuses one; the
 * end of those adopted. */
static size_t add_until_refused(cdl_chaindb *db, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    cdl_error err = {0};
    cdl_span b = reforged(&RF, i);
    if (cdl_chaindb_add_block(db, b.ptr, b.len, &res, &rej, &err) != CDL_OK) return i;
    if (res.outcome != CDL_ADD_ADOPTED) fail_msg("block %zu not adopted (%d)", i, res.outcome);
  }
  return to;
}

/* Blocks added after a clean close, the disk frozen at a seeded change
 * (in the middle of an add, or after the last), the ChainDB closed (it
 * frees everything though its writes fail) and the disk crashed: it opens
 * on what is left, at a tip no lower than the clean close's (a power
 * loss) or than the last block it adopted (a process crash: nothing
 * adopted is lost). Then damage to one of its files while it is closed:
 * it opens at a block of the chain no higher than before, and goes on
 * adopting. */
static void test_chaindb_crash_and_damage(void **state) {
  (void)state;
  for (uint64_t seed = 0; seed < DB_SEEDS; seed++) {
    sim_disk *d = sim_disk_new(seed);
    cdl_chaindb_config cfg = sim_config(d, 1 + seed % 40), frozen_cfg = cfg;
    size_t clean = 30 + (seed * 37) % 150, added = clean + 10 + (seed * 53) % 120;
    cdl_chaindb *db = db_open(&cfg, NULL);
    add_range(db, 0, clean);
    db_close(db);
    frozen_cfg.fs = freezing_fs(d);
    db = db_open(&frozen_cfg, NULL);
    assert_int_equal(tip_index(db), (long)clean - 1);
    FZ.at = FZ.changes + 1 + (seed * 7919) % 300;
    size_t adopted = add_until_refused(db, clean, added);
    sim_disk_freeze(d);
    cdl_error err = {0};
    int rc = cdl_chaindb_close(db, &err);
    assert_true(rc == CDL_OK || rc == CDL_E_IO); /* OK: nothing was left to write */
    assert_int_equal(sim_disk_open_handles(d), 0);
    bool power = seed % 3 != 2;
    sim_disk_crash(d, power ? SIM_CRASH_POWER : SIM_CRASH_PROCESS);
    db = reopen(&cfg, seed, power ? "a power loss" : "a process crash", false);
    long tip = tip_index(db), floor = power ? (long)clean - 1 : (long)adopted - 1;
    if (tip < floor || tip >= (long)added)
      fail_msg("seed %llu: tip %ld after a %s, clean close at %zu, adopted to %zu, added to %zu",
               (unsigned long long)seed, tip, power ? "power loss" : "process crash", clean - 1,
               adopted - 1, added - 1);
    db_close(db);
    damage_and_reopen(d, &cfg, seed, tip);
    assert_int_equal(sim_disk_open_handles(d), 0);
    sim_disk_free(d);
  }
}

/* A full disk refuses an add (CDL_E_IO) and the close's writes; with room
 * again the ChainDB opens at the last block adopted or the refused one
 * (stored before the write that failed). A close that loses unsynced
 * writes loses nothing of a ChainDB, which syncs before it closes. */
static void test_chaindb_full_disk_and_lossy_close(void **state) {
  (void)state;
  for (uint64_t seed = 0; seed < 8; seed++) {
    sim_disk *d = sim_disk_new(seed);
    cdl_chaindb_config cfg = sim_config(d, 1 + seed % 40);
    bool lossy = seed % 2 == 1;
    if (lossy) sim_disk_set_lossy_close(d, true);
    else sim_disk_set_capacity(d, 700000 + seed * 300000); /* the first EBB is 650 kB */
    cdl_chaindb *db = db_open(&cfg, NULL);
    size_t adopted = add_until_refused(db, 0, 150);
    assert_true(lossy ? adopted == 150 : adopted < 150);
    cdl_error err = {0};
    int rc = cdl_chaindb_close(db, &err);
    assert_true(rc == CDL_OK || (!lossy && rc == CDL_E_IO));
    sim_disk_set_capacity(d, 0);
    sim_disk_set_lossy_close(d, false);
    db = reopen(&cfg, seed, lossy ? "lossy closes" : "a full disk", false);
    long tip = tip_index(db);
    assert_true(tip == (long)adopted - 1 || tip == (long)adopted);
    db_close(db);
    sim_disk_stats st;
    sim_disk_stats_get(d, &st);
    assert_true(lossy || st.refused_full > 0);
    sim_disk_free(d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      DISK_TEST(test_names_and_bytes),
      DISK_TEST(test_handle_outlives_name),
      cmocka_unit_test(test_synced_survives_power_loss),
      cmocka_unit_test(test_unsynced_cut_as_prefix),
      cmocka_unit_test(test_process_crash_keeps_everything),
      cmocka_unit_test(test_rename_between_directories),
      cmocka_unit_test(test_same_seed_same_disk),
      DISK_TEST(test_capacity_refuses_and_changes_nothing),
      DISK_TEST(test_max_open_refuses),
      DISK_TEST(test_lossy_close_drops_unsynced),
      DISK_TEST(test_frozen_refuses_everything),
      cmocka_unit_test(test_corrupt_one_file_under_prefix),
      DISK_TEST(test_locks),
      cmocka_unit_test(test_chaindb_clean_reopen),
      cmocka_unit_test(test_chaindb_crash_and_damage),
      cmocka_unit_test(test_chaindb_full_disk_and_lossy_close),
  };
  filter_tests_from_env();
  return cmocka_run_group_tests(tests, rf_setup, rf_teardown);
}
