/*
 * test_sign_record.c: the signing record (include/cardinal/node.h
 * "Signing record"; docs/node.md "The signing record"), the file that
 * keeps a core node from signing a slot twice:
 *  - it is created empty, advances per key, only upwards (a slot at or
 *    below the key's last is refused and nothing is written), and reads
 *    back as written; at most 16 keys;
 *  - the file has the documented layout (two 4,096-byte copies, magic,
 *    version, entries, sequence, CRC32), parsed here independently;
 *  - a torn write of either copy, at every length, leaves the record as
 *    it was before or after the advance, never older, never unreadable;
 *  - a process killed at every file operation of a create and five
 *    advances (writes torn at a seeded byte): the record reopens, never
 *    below the last advance that returned, never above the one attempted;
 *  - a damaged file (garbage, empty, short, long, both copies broken, a
 *    hostile entry count or duplicate keys under a good CRC) is refused
 *    with signing_record.damaged, never taken as empty;
 *  - a record that cannot be created names its path.
 */
#include <stdio.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "cardinal/crypto.h"
#include "cardinal/node.h"

#define COPY 4096
#define FILE_BYTES (2 * COPY)

static char dir[64], path[128];
static cdl_fs posix;

/* POSIX without the fsyncs: these tests kill processes, they do not cut
 * power (the page cache survives), and thousands of fsyncs would make
 * them slow on a busy disk. The calls are still made and counted. */
static cdl_fs_ops no_sync_ops;
static int no_sync(cdl_fs *fs, int h, cdl_error *err) {
  return (void)fs, (void)h, (void)err, CDL_OK;
}
static int no_sync_dir(cdl_fs *fs, const char *p, cdl_error *err) {
  return (void)fs, (void)p, (void)err, CDL_OK;
}

static int setup(void **state) {
  (void)state;
  make_dir(dir, sizeof dir, "sign-record");
  snprintf(path, sizeof path, "%s/delegate.skey.signed", dir);
  cdl_fs_posix_init(&posix, 0);
  no_sync_ops = *posix.ops;
  no_sync_ops.sync = no_sync;
  no_sync_ops.sync_dir = no_sync_dir;
  posix.ops = &no_sync_ops;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  remove_dir(dir);
  return 0;
}

static void key(uint8_t out[28], uint8_t tag) { memset(out, tag, 28); }

static cdl_sign_record *open_ok(cdl_fs *fs) {
  cdl_sign_record *r = NULL;
  cdl_error err = {0};
  if (cdl_sign_record_open(fs, path, &r, &err) != CDL_OK) fail_msg("open: %s", err.message);
  return r;
}

static void advance_ok(cdl_sign_record *r, uint8_t tag, uint64_t slot) {
  uint8_t k[28];
  key(k, tag);
  cdl_error err = {0};
  if (cdl_sign_record_advance(r, k, slot, &err) != CDL_OK) fail_msg("advance: %s", err.message);
}

/* The last slot of key |tag| on a fresh open of the file; UINT64_MAX: none. */
static uint64_t last_on_disk(uint8_t tag) {
  cdl_sign_record *r = open_ok(&posix);
  uint8_t k[28];
  key(k, tag);
  uint64_t slot = UINT64_MAX;
  cdl_sign_record_last(r, k, &slot);
  cdl_sign_record_close(r);
  return slot;
}

static void fresh(void) { remove(path); }

/* ---- The documented layout, read independently -------------------------- */

static uint64_t le(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Copy |c| of the file, if valid per docs/node.md: its sequence. */
static bool doc_copy(const cdl_buf *f, int c, uint64_t *sequence, uint64_t *entries) {
  const uint8_t *p = f->data + c * COPY;
  if (memcmp(p, "CDLSIGNR", 8) != 0 || le(p + 8, 4) != 1) return false;
  if (le(p + COPY - 4, 4) != cdl_crc32(p, COPY - 4)) return false;
  *entries = le(p + 12, 4);
  *sequence = le(p + 16, 8);
  return true;
}

/* Rewrites copy |c|'s CRC after a change made on purpose. */
static void reseal(uint8_t *copy) {
  uint32_t crc = cdl_crc32(copy, COPY - 4);
  for (int i = 0; i < 4; i++) copy[COPY - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static void test_create_advance_reopen(void **state) {
  (void)state;
  fresh();
  cdl_sign_record *r = open_ok(&posix);
  assert_string_equal(cdl_sign_record_path(r), path);
  uint8_t a[28], b[28];
  key(a, 0xaa), key(b, 0xbb);
  uint64_t slot;
  assert_false(cdl_sign_record_last(r, a, &slot));
  assert_int_equal(file_size(path), FILE_BYTES);
  advance_ok(r, 0xaa, 5);
  advance_ok(r, 0xbb, 10);
  /* Only upwards: the same slot or an earlier one is refused, unwritten. */
  cdl_buf before, after;
  read_file(path, &before);
  cdl_error err = {0};
  assert_int_equal(cdl_sign_record_advance(r, a, 5, &err), CDL_E_USAGE);
  assert_non_null(strstr(err.message, "signing_record.not_above"));
  cdl_error_clear(&err);
  assert_int_equal(cdl_sign_record_advance(r, a, 4, &err), CDL_E_USAGE);
  read_file(path, &after);
  assert_memory_equal(before.data, after.data, FILE_BYTES);
  cdl_buf_free(&before), cdl_buf_free(&after);
  advance_ok(r, 0xaa, 6);
  assert_true(cdl_sign_record_last(r, a, &slot) && slot == 6);
  cdl_sign_record_close(r);
  assert_int_equal(last_on_disk(0xaa), 6);
  assert_int_equal(last_on_disk(0xbb), 10);
  /* The layout: the newest copy holds two entries, sequence 1 + 3. */
  cdl_buf f;
  read_file(path, &f);
  uint64_t seq[2] = {0}, n[2] = {0};
  assert_true(doc_copy(&f, 0, &seq[0], &n[0]) && doc_copy(&f, 1, &seq[1], &n[1]));
  int newest = seq[1] > seq[0];
  assert_int_equal(seq[newest], 4);
  assert_int_equal(seq[!newest], 3);
  assert_int_equal(n[newest], 2);
  const uint8_t *e = f.data + newest * COPY + 24;
  assert_memory_equal(e, a, 28);
  assert_int_equal(le(e + 28, 8), 6);
  cdl_buf_free(&f);
}

static void test_sixteen_keys(void **state) {
  (void)state;
  fresh();
  cdl_sign_record *r = open_ok(&posix);
  for (uint8_t t = 1; t <= CDL_SIGN_RECORD_MAX_KEYS; t++) advance_ok(r, t, t);
  uint8_t k[28];
  key(k, 0x77);
  cdl_error err = {0};
  assert_int_equal(cdl_sign_record_advance(r, k, 100, &err), CDL_E_LIMIT);
  advance_ok(r, 3, 50); /* a key already in still advances */
  cdl_sign_record_close(r);
  assert_int_equal(last_on_disk(16), 16);
  assert_int_equal(last_on_disk(3), 50);
}

/* ---- Faults ---------------------------------------------------------------
 * A file system over POSIX that dies at its |countdown|-th change: a
 * write then reaches the file only up to a prefix, and from then on every
 * operation fails, as nothing more happens in a killed process. */
static struct {
  cdl_fs fs;
  uint64_t countdown;
  bool dead;
  size_t torn_len; /* bytes of the fatal write that land; SIZE_MAX: a seeded draw */
  cdl_gen_rng rng;
} F;

/* 0: the operation happens; 1: it is the fatal one; 2: the process is gone. */
static int fate(void) {
  if (F.dead) return 2;
  if (F.countdown-- > 0) return 0;
  F.dead = true;
  return 1;
}

static int f_open(cdl_fs *fs, const char *p, unsigned flags, int *h, cdl_error *err) {
  (void)fs;
  int f = (flags & (CDL_FS_CREATE | CDL_FS_TRUNC)) ? fate() : F.dead ? 2 : 0;
  if (f != 0) return cdl_error_set(err, CDL_E_IO, 0, "killed");
  return posix.ops->open(&posix, p, flags, h, err);
}
static void f_close(cdl_fs *fs, int h) { (void)fs, posix.ops->close(&posix, h); }
static int f_read_at(cdl_fs *fs, int h, void *b, size_t n, uint64_t off, size_t *got,
                     cdl_error *err) {
  (void)fs;
  if (F.dead) return cdl_error_set(err, CDL_E_IO, 0, "killed");
  return posix.ops->read_at(&posix, h, b, n, off, got, err);
}
static int f_write_at(cdl_fs *fs, int h, const void *b, size_t n, uint64_t off, cdl_error *err) {
  (void)fs;
  int f = fate();
  if (f == 0) return posix.ops->write_at(&posix, h, b, n, off, err);
  if (f == 1) { /* a prefix lands */
    size_t torn = F.torn_len != SIZE_MAX ? F.torn_len : (size_t)cdl_gen_rng_below(&F.rng, n + 1);
    posix.ops->write_at(&posix, h, b, torn < n ? torn : n, off, err);
  }
  return cdl_error_set(err, CDL_E_IO, 0, "killed mid-write");
}
static int f_size(cdl_fs *fs, int h, uint64_t *size, cdl_error *err) {
  (void)fs;
  if (F.dead) return cdl_error_set(err, CDL_E_IO, 0, "killed");
  return posix.ops->size(&posix, h, size, err);
}
/* Other changes die before or after they happen, at random. */
#define DIE_AROUND(call)                                   \
  do {                                                     \
    (void)fs;                                              \
    int f = fate();                                        \
    if (f == 0) return (call);                             \
    if (f == 1 && cdl_gen_rng_below(&F.rng, 2)) (void)(call); \
    return cdl_error_set(err, CDL_E_IO, 0, "killed");      \
  } while (0)
static int f_sync(cdl_fs *fs, int h, cdl_error *err) {
  DIE_AROUND(posix.ops->sync(&posix, h, err));
}
static int f_truncate(cdl_fs *fs, int h, uint64_t size, cdl_error *err) {
  DIE_AROUND(posix.ops->truncate(&posix, h, size, err));
}
static int f_rename(cdl_fs *fs, const char *a, const char *b, cdl_error *err) {
  DIE_AROUND(posix.ops->rename(&posix, a, b, err));
}
static int f_remove(cdl_fs *fs, const char *p, cdl_error *err) {
  DIE_AROUND(posix.ops->remove(&posix, p, err));
}
static int f_mkdir(cdl_fs *fs, const char *p, cdl_error *err) {
  DIE_AROUND(posix.ops->mkdir(&posix, p, err));
}
static int f_sync_dir(cdl_fs *fs, const char *p, cdl_error *err) {
  DIE_AROUND(posix.ops->sync_dir(&posix, p, err));
}
static int f_list(cdl_fs *fs, const char *d, int (*fn)(void *, const char *), void *ctx,
                  cdl_error *err) {
  (void)fs;
  return posix.ops->list(&posix, d, fn, ctx, err);
}
static bool f_exists(cdl_fs *fs, const char *p) {
  (void)fs;
  return posix.ops->exists(&posix, p);
}
static const cdl_fs_ops FAULT_OPS = {f_open,     f_close,    f_read_at, f_write_at, f_size,
                                     f_sync,     f_truncate, f_rename,  f_remove,   f_mkdir,
                                     f_sync_dir, f_list,     f_exists,  NULL,       NULL,
                                     NULL,       NULL}; /* no mapping, no locks */

/* Arms the file system: the |countdown|-th change kills (UINT64_MAX: never). */
static cdl_fs *fault_fs(uint64_t countdown, size_t torn_len, uint64_t seed) {
  F.fs = (cdl_fs){.ops = &FAULT_OPS};
  F.countdown = countdown;
  F.dead = false;
  F.torn_len = torn_len;
  cdl_gen_rng_seed(&F.rng, seed);
  return &F.fs;
}

/* A torn write of the copy being replaced, at every length: the record
 * reopens at the slot before or, once the whole copy landed, the new one. */
static void test_torn_write_every_length(void **state) {
  (void)state;
  unsigned old_seen = 0, new_seen = 0;
  for (int which = 0; which < 2; which++) {
    for (size_t torn = 0; torn <= COPY; torn++) {
      fresh();
      cdl_sign_record *r = open_ok(&posix);
      advance_ok(r, 1, 7); /* copy B now holds 7 (A, sequence 1, was newest) */
      if (which == 1) advance_ok(r, 1, 8); /* copy A holds 8: the next write tears B */
      uint64_t before = which == 1 ? 8 : 7;
      cdl_sign_record_close(r);
      r = open_ok(fault_fs(0, torn, torn));
      uint8_t k[28];
      key(k, 1);
      cdl_error err = {0};
      assert_int_equal(cdl_sign_record_advance(r, k, 20, &err), CDL_E_IO);
      assert_non_null(strstr(err.message, path));
      uint64_t slot;
      assert_true(cdl_sign_record_last(r, k, &slot) && slot == before); /* not signed */
      cdl_sign_record_close(r);
      uint64_t got = last_on_disk(1);
      if (got != before && !(got == 20 && torn == COPY))
        fail_msg("copy %c torn at %zu bytes: reopened at slot %llu", which ? 'B' : 'A', torn,
                 (unsigned long long)got);
      ++*(got == before ? &old_seen : &new_seen);
    }
  }
  printf("torn writes: %u reopened at the slot before, %u at the new one (whole copy)\n",
         old_seen, new_seen);
  assert_int_equal(new_seen, 2);
}

/* The process killed at each file change of a create and five advances
 * (slots 10, 20 ... 50), each kill with its own torn length. */
static void test_killed_at_every_operation(void **state) {
  (void)state;
  unsigned kills = 0;
  for (uint64_t at = 0;; at++) {
    fresh();
    cdl_fs *fs = fault_fs(at, SIZE_MAX, at + 1);
    cdl_sign_record *r = NULL;
    cdl_error err = {0};
    uint64_t acknowledged = 0, attempted = 0;
    if (cdl_sign_record_open(fs, path, &r, &err) == CDL_OK) {
      uint8_t k[28];
      key(k, 9);
      for (uint64_t slot = 10; slot <= 50 && !F.dead; slot += 10) {
        attempted = slot;
        cdl_error e = {0};
        if (cdl_sign_record_advance(r, k, slot, &e) == CDL_OK) acknowledged = slot;
      }
      cdl_sign_record_close(r);
    }
    if (!F.dead) break; /* every operation has had its kill */
    kills++;
    /* After the kill: the record opens (a missing one is made anew: its
     * creation never finished, so nothing was signed with it). */
    uint64_t got = last_on_disk(9);
    uint64_t seen = got == UINT64_MAX ? 0 : got;
    if (seen < acknowledged || seen > attempted)
      fail_msg("killed at change %llu: reopened at %llu, acknowledged %llu, attempted %llu",
               (unsigned long long)at, (unsigned long long)seen,
               (unsigned long long)acknowledged, (unsigned long long)attempted);
  }
  printf("%u kills, one at each file change of a create and five advances\n", kills);
  assert_true(kills >= 10); /* create: write, sync, rename, dir sync; 5 x (write, sync) */
}

/* ---- Damage ---------------------------------------------------------------- */

static void expect_damaged(const char *what) {
  cdl_sign_record *r = NULL;
  cdl_error err = {0};
  int rc = cdl_sign_record_open(&posix, path, &r, &err);
  if (rc != CDL_E_CHECKSUM) fail_msg("%s: open gave %d (%s)", what, rc, err.message);
  assert_null(r);
  assert_non_null(strstr(err.message, "signing_record.damaged"));
  assert_non_null(strstr(err.message, path));
}

/* A record whose copy A (sequence 3) holds slot 30 and copy B
 * (sequence 2) slot 20. */
static void written_record(cdl_buf *f) {
  fresh();
  cdl_sign_record *r = open_ok(&posix);
  advance_ok(r, 1, 20); /* B, sequence 2 */
  advance_ok(r, 1, 30); /* A, sequence 3 */
  cdl_sign_record_close(r);
  read_file(path, f);
}

static void test_one_damaged_copy_uses_the_other(void **state) {
  (void)state;
  cdl_buf f;
  written_record(&f);
  flip_at(path, 100, 0x01); /* A, the newest: the older copy is the record */
  assert_int_equal(last_on_disk(1), 20);
  write_file(path, f.data, f.len);
  flip_at(path, COPY + 30, 0x80); /* B only: A stands */
  assert_int_equal(last_on_disk(1), 30);
  cdl_buf_free(&f);
}

static void test_damaged_files_refused(void **state) {
  (void)state;
  cdl_buf f;
  written_record(&f);
  flip_at(path, 5, 0x10);
  flip_at(path, COPY + 5, 0x10);
  expect_damaged("both copies flipped");
  write_file(path, "", 0);
  expect_damaged("empty");
  write_file(path, f.data, COPY);
  expect_damaged("one copy long");
  cdl_buf big;
  cdl_buf_init(&big, 0);
  cdl_buf_append(&big, f.data, f.len);
  cdl_buf_append(&big, f.data, 1);
  write_file(path, big.data, big.len);
  expect_damaged("a byte too long");
  memset(big.data, 0x5a, FILE_BYTES);
  write_file(path, big.data, FILE_BYTES);
  expect_damaged("garbage");
  /* Hostile contents under good CRCs: 17 entries; two entries of one key;
   * version 2. Each in both copies. */
  for (int c = 0; c < 3; c++) {
    memcpy(big.data, f.data, FILE_BYTES);
    for (int copy = 0; copy < 2; copy++) {
      uint8_t *p = big.data + copy * COPY;
      if (c == 0) p[12] = CDL_SIGN_RECORD_MAX_KEYS + 1;
      if (c == 1) p[12] = 2, memcpy(p + 24 + 36, p + 24, 36);
      if (c == 2) p[8] = 2;
      reseal(p);
    }
    write_file(path, big.data, FILE_BYTES);
    expect_damaged(c == 0 ? "17 entries" : c == 1 ? "a key twice" : "version 2");
  }
  cdl_buf_free(&big);
  cdl_buf_free(&f);
}

static void test_uncreatable_names_its_path(void **state) {
  (void)state;
  char missing[160];
  snprintf(missing, sizeof missing, "%s/no-such-dir/record", dir);
  cdl_sign_record *r = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_sign_record_open(&posix, missing, &r, &err), CDL_E_IO);
  assert_null(r);
  assert_non_null(strstr(err.message, "signing_record.unwritable"));
  assert_non_null(strstr(err.message, missing));
}

int main(void) {
  filter_tests_from_env();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_advance_reopen),
      cmocka_unit_test(test_sixteen_keys),
      cmocka_unit_test(test_torn_write_every_length),
      cmocka_unit_test(test_killed_at_every_operation),
      cmocka_unit_test(test_one_damaged_copy_uses_the_other),
      cmocka_unit_test(test_damaged_files_refused),
      cmocka_unit_test(test_uncreatable_names_its_path)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
