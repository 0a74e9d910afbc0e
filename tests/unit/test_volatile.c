/*
 * test_volatile.c: the Volatile DB (include/cardinal/storage.h "Volatile
 * DB", src/storage/volatile.c) on real mainnet epoch-0 blocks and on
 * generated forks: round trips through close and reopen, successors on a
 * fork, garbage collection by slot, every kind of damage on disk (cut
 * back at open, CRC at read), the block and handle bounds, and no handle
 * or descriptor leak over thousands of calls.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../storage/storage_support.h"
#include "storage/volatile_recent.h"

#define EPOCH_SLOTS 21600
#define N_INFO 10000 /* blocks of epoch 0 whose info the fixture holds */

static epoch0 E;
static cdl_block_info *INFO;

static int group_setup(void **state) {
  test_group_setup(state);
  epoch0_load(&E);
  INFO = calloc(N_INFO, sizeof *INFO);
  if (INFO == NULL) return -1;
  for (size_t i = 0; i < N_INFO; i++) {
    cdl_error err = {0};
    if (cdl_block_info_read(E.blocks[i].ptr, E.blocks[i].len, EPOCH_SLOTS, &INFO[i], &err) !=
        CDL_OK)
      return -1;
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  free(INFO);
  epoch0_free(&E);
  return 0;
}

/* ---- Helpers ---------------------------------------------------------------- */

static const char *file_path(const char *dir, uint32_t number) {
  static char path[256];
  snprintf(path, sizeof path, "%s/blocks-%010u.dat", dir, (unsigned)number);
  return path;
}

static cdl_volatile *vopen_with(cdl_fs *fs, const char *dir, uint32_t per_file, size_t max,
                                uint64_t epoch_slots) {
  cdl_volatile_config cfg = {epoch_slots, per_file, max, false, 0, false};
  cdl_volatile *v = NULL;
  cdl_error err = {0};
  int rc = cdl_volatile_open(fs, dir, &cfg, &v, &err);
  if (rc != CDL_OK) fail_msg("volatile open: %s", err.message);
  return v;
}

static cdl_volatile *vopen(cdl_fs *fs, const char *dir, uint32_t per_file) {
  return vopen_with(fs, dir, per_file, 0, EPOCH_SLOTS);
}

static void put_block(cdl_volatile *v, size_t i) {
  cdl_error err = {0};
  int rc = cdl_volatile_put(v, E.blocks[i].ptr, E.blocks[i].len, &INFO[i], &err);
  if (rc != CDL_OK) fail_msg("put %zu: %s", i, err.message);
}

static void put_range(cdl_volatile *v, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) put_block(v, i);
}

/* Syncs what the store wrote. */
static int vsync(cdl_volatile *v) {
  cdl_error err = {0};
  return cdl_volatile_sync(v, &err);
}

static bool held(const cdl_volatile *v, size_t i) {
  return cdl_volatile_info(v, INFO[i].hash, NULL);
}

/* Block i is held, its info is right and its bytes read back intact. */
static void assert_block(cdl_volatile *v, size_t i) {
  cdl_block_info info;
  assert_true(cdl_volatile_info(v, INFO[i].hash, &info));
  assert_same_info(&info, &INFO[i]);
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_error err = {0};
  assert_int_equal(cdl_volatile_read(v, INFO[i].hash, &out, &err), CDL_OK);
  assert_int_equal(out.len, E.blocks[i].len);
  assert_memory_equal(out.data, E.blocks[i].ptr, out.len);
  cdl_buf_free(&out);
}

/* Blocks [from, to) are held, with the right infos and bytes. */
static void assert_blocks(cdl_volatile *v, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) assert_block(v, i);
}

/* Offset of record |k| in a file whose first record is block |first|. */
static uint64_t record_offset(size_t first, size_t k) {
  uint64_t off = 0;
  for (size_t i = first; i < first + k; i++) off += 12 + E.blocks[i].len;
  return off;
}

static cdl_volatile_stats stats(const cdl_volatile *v) {
  cdl_volatile_stats s;
  cdl_volatile_stats_get(v, &s);
  return s;
}

#define ANY UINT64_MAX /* a count assert_counts does not check */

/* The store holds |blocks| blocks in |files| files and found |damaged|
 * damaged files at its open (ANY: not checked). */
static void assert_counts(const cdl_volatile *v, uint64_t blocks, uint64_t files,
                          uint64_t damaged) {
  cdl_volatile_stats s = stats(v);
  assert_int_equal(s.blocks, blocks);
  if (files != ANY) assert_int_equal(s.files, files);
  if (damaged != ANY) assert_int_equal(s.damaged_files, damaged);
}

/* Flips one bit (0x40) of the byte at |offset| of a file. */
static void flip_byte(const char *path, uint64_t offset) { flip_at(path, offset, 0x40); }

/* A test's store: its directory and a file system counting handles. */
typedef struct store {
  char dir[64];
  cdl_fs fs;
} store;

/* A fresh directory and the POSIX file system for |s|. */
static void store_init(store *s) {
  make_dir(s->dir, sizeof s->dir, "volatile");
  cdl_fs_posix_init(&s->fs, 0);
}

/* Closes |v| and opens the store again (files of 100 records). */
static cdl_volatile *store_reopen(store *s, cdl_volatile *v) {
  cdl_volatile_close(v);
  return vopen(&s->fs, s->dir, 100);
}

/* Closes |v| and removes the store's directory. */
static void store_end(store *s, cdl_volatile *v) {
  cdl_volatile_close(v);
  remove_dir(s->dir);
}

/* A new store in files of |per_file| records, holding blocks [0, n); open. */
static cdl_volatile *store_fill(store *s, uint32_t per_file, size_t n) {
  store_init(s);
  cdl_volatile *v = vopen(&s->fs, s->dir, per_file);
  put_range(v, 0, n);
  assert_int_equal(vsync(v), CDL_OK); /* on disk, for the tests that damage it */
  return v;
}

/* A file system over POSIX that records the largest read and can fail a
 * write part way (half the bytes reach the disk). */
typedef struct fault_state {
  size_t max_read;
  int fail_write_in; /* fail the n-th write from now; 0 = never */
  size_t writes;     /* writes made */
} fault_state;

static const cdl_fs_ops *posix_ops;
static cdl_fs_ops fault_ops;

static int fault_read_at(cdl_fs *fs, int handle, void *buf, size_t len, uint64_t offset,
                         size_t *got, cdl_error *err) {
  fault_state *st = fs->impl;
  if (len > st->max_read) st->max_read = len;
  return posix_ops->read_at(fs, handle, buf, len, offset, got, err);
}

static int fault_write_at(cdl_fs *fs, int handle, const void *buf, size_t len, uint64_t offset,
                          cdl_error *err) {
  fault_state *st = fs->impl;
  st->writes++;
  if (st->fail_write_in > 0 && --st->fail_write_in == 0) {
    posix_ops->write_at(fs, handle, buf, len / 2, offset, err);
    return cdl_error_set(err, CDL_E_IO, 0, "injected write failure");
  }
  return posix_ops->write_at(fs, handle, buf, len, offset, err);
}

static void fault_fs_init(cdl_fs *fs, fault_state *st) {
  cdl_fs_posix_init(fs, 0);
  posix_ops = fs->ops;
  fault_ops = *posix_ops;
  fault_ops.read_at = fault_read_at;
  fault_ops.write_at = fault_write_at;
  memset(st, 0, sizeof *st);
  fs->ops = &fault_ops;
  fs->impl = st;
}

/* ---- Round trip ---------------------------------------------------------- */

static void test_round_trip(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 2500);
  put_block(v, 7); /* already held: nothing happens */
  assert_counts(v, 2500, 25, ANY);
  assert_int_equal(stats(v).bytes, record_offset(0, 2500));
  assert_int_equal(disk_size(file_path(d.dir, 25)), -1);
  cdl_volatile_close(v);
  assert_int_equal(d.fs.open_files, 0);

  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 2500, 25, 0);
  assert_int_equal(stats(v).bytes, record_offset(0, 2500));
  assert_int_equal(stats(v).dropped_bytes, 0);
  for (size_t i = 0; i < 2500; i++) {
    assert_block(v, i);
    uint8_t succ[4][32];
    assert_int_equal(cdl_volatile_successors(v, INFO[i].prev_hash, succ, 4), 1);
    assert_memory_equal(succ[0], INFO[i].hash, 32);
  }
  assert_int_equal(cdl_volatile_successors(v, INFO[2499].hash, NULL, 0), 0);
  /* Unknown blocks. */
  uint8_t nobody[32] = {1};
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_error err = {0};
  assert_false(cdl_volatile_info(v, nobody, NULL));
  assert_int_equal(cdl_volatile_read(v, nobody, &out, &err), CDL_E_NOT_FOUND);
  assert_int_equal(out.len, 0);
  cdl_buf_free(&out);
  /* A bad argument is refused, nothing written. */
  cdl_error_clear(&err);
  assert_int_equal(cdl_volatile_put(v, E.blocks[2500].ptr, E.blocks[2500].len - 1,
                                    &INFO[2500], &err), CDL_E_USAGE);
  assert_int_equal(d.fs.open_files, 0);
  /* New writes go to a fresh file after the highest. */
  put_block(v, 2500);
  assert_int_equal(d.fs.open_files, 1);
  assert_int_equal(vsync(v), CDL_OK); /* writes go behind until a sync */
  assert_int_equal(disk_size(file_path(d.dir, 25)), (long long)(12 + E.blocks[2500].len));
  assert_int_equal(cdl_volatile_sync(v, &err), CDL_OK);
  assert_block(v, 2500);
  cdl_volatile_close(v);
  assert_int_equal(d.fs.open_files, 0);
  remove_dir(d.dir);
}

/* ---- Forks ------------------------------------------------------------------ */

/* Stores block |i| of a generated chain. */
static void put_gen(cdl_volatile *v, const gchain *c, size_t i) {
  cdl_error err = {0};
  assert_int_equal(cdl_volatile_put(v, c->blocks[i].ptr, c->blocks[i].len, &c->info[i], &err),
                   CDL_OK);
}

/* Two chains of one genesis: the same EBB, then different first blocks. */
static void test_forks(void **state) {
  (void)state;
  char gdir[64];
  make_dir(gdir, sizeof gdir, "volatile");
  cdl_gen_dir g;
  gen_genesis(gdir, 10, 3, 5, &g); /* 100 slots an epoch */
  gchain a, b;
  cdl_gen_chain_opts o = {.slots = 12, .fill = 1.0, .txs_per_block = 1, .seed = 1};
  gchain_make(&g, &o, &a);
  o.fill = 0.3, o.seed = 3;
  gchain_make(&g, &o, &b); /* its first block comes later */
  size_t na = a.n, nb = b.n;
  assert_true(na >= 3 && nb >= 3);
  assert_true(cdl_span_eq(a.blocks[0], b.blocks[0]));   /* the EBB */
  assert_false(cdl_span_eq(a.blocks[1], b.blocks[1])); /* the fork */
  store d;
  store_init(&d);
  cdl_volatile *v = vopen_with(&d.fs, d.dir, 4, 0, 100);
  for (size_t i = 0; i < na; i++) put_gen(v, &a, i);
  for (size_t i = 0; i < nb; i++) put_gen(v, &b, i);
  const cdl_block_info *ia = a.info, *ib = b.info, ebb = a.info[0];
  assert_true(ebb.is_ebb);
  for (int round = 0; round < 2; round++) {
    assert_counts(v, na + nb - 1, ANY, ANY);
    uint8_t succ[4][32];
    assert_int_equal(cdl_volatile_successors(v, ebb.hash, succ, 4), 2);
    assert_memory_equal(succ[0], ia[1].hash, 32); /* in arrival order */
    assert_memory_equal(succ[1], ib[1].hash, 32);
    assert_int_equal(cdl_volatile_successors(v, ebb.hash, succ, 1), 2); /* count beyond max */
    assert_int_equal(cdl_volatile_successors(v, g.genesis.hash, succ, 4), 1);
    assert_memory_equal(succ[0], ebb.hash, 32);
    for (size_t i = 1; i + 1 < na; i++) {
      assert_int_equal(cdl_volatile_successors(v, ia[i].hash, succ, 4), 1);
      assert_memory_equal(succ[0], ia[i + 1].hash, 32);
    }
    cdl_volatile_close(v);
    v = vopen_with(&d.fs, d.dir, 4, 0, 100);
  }
  /* Collection forgets one side of the fork (the first to arrive) and
   * keeps the other. */
  assert_true(ia[1].slot < ib[1].slot);
  cdl_error err = {0};
  uint8_t succ[4][32];
  assert_int_equal(cdl_volatile_gc(v, ia[1].slot + 1, &err), CDL_OK);
  assert_false(cdl_volatile_info(v, ebb.hash, NULL));
  assert_false(cdl_volatile_info(v, ia[1].hash, NULL));
  assert_int_equal(cdl_volatile_successors(v, ebb.hash, succ, 4), 1);
  assert_memory_equal(succ[0], ib[1].hash, 32);
  assert_int_equal(cdl_volatile_gc(v, ib[1].slot + 1, &err), CDL_OK);
  assert_int_equal(cdl_volatile_successors(v, ebb.hash, succ, 4), 0);
  assert_true(cdl_volatile_info(v, ia[na - 1].hash, NULL));
  cdl_volatile_close(v);
  assert_int_equal(d.fs.open_files, 0);
  gchain_free(&a);
  gchain_free(&b);
  cdl_gen_dir_free(&g);
  remove_dir(gdir);
  remove_dir(d.dir);
}

/* ---- Garbage collection ------------------------------------------------------ */

static void assert_held_iff_slot_at_least(const cdl_volatile *v, size_t n, uint64_t slot) {
  for (size_t i = 0; i < n; i++)
    if (held(v, i) != (INFO[i].slot >= slot)) fail_msg("block %zu held: %d", i, held(v, i));
}

static uint64_t max_slot_of_file(size_t k) {
  uint64_t m = 0;
  for (size_t i = 100 * k; i < 100 * k + 100; i++) m = INFO[i].slot > m ? INFO[i].slot : m;
  return m;
}

static void test_gc(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 2500);
  cdl_error err = {0};
  /* At a file boundary: files 0-9 go, and reopening gives the same set. */
  uint64_t cut = INFO[1000].slot;
  assert_true(max_slot_of_file(9) < cut && INFO[1001].slot > cut);
  assert_int_equal(cdl_volatile_gc(v, cut, &err), CDL_OK);
  assert_held_iff_slot_at_least(v, 2500, cut);
  for (uint32_t k = 0; k < 25; k++)
    assert_int_equal(disk_size(file_path(d.dir, k)) >= 0, k >= 10);
  assert_counts(v, 1500, 15, ANY);
  assert_int_equal(stats(v).bytes, record_offset(1000, 1500));
  v = store_reopen(&d, v);
  assert_held_iff_slot_at_least(v, 2500, cut);
  assert_counts(v, 1500, 15, ANY);

  /* Inside a file: its blocks below the slot are forgotten, the file
   * stays (collection removes whole files) and they come back on open
   * until a later collection. */
  cut = INFO[1050].slot;
  assert_int_equal(cdl_volatile_gc(v, cut, &err), CDL_OK);
  assert_held_iff_slot_at_least(v, 2500, cut);
  assert_true(disk_size(file_path(d.dir, 10)) > 0);
  assert_counts(v, 1450, 15, ANY);
  v = store_reopen(&d, v);
  assert_held_iff_slot_at_least(v, 2500, INFO[1000].slot);
  assert_int_equal(cdl_volatile_gc(v, cut, &err), CDL_OK);
  assert_held_iff_slot_at_least(v, 2500, cut);

  /* Past everything, the file being written included. */
  put_block(v, 2500);
  assert_int_equal(d.fs.open_files, 1);
  assert_int_equal(cdl_volatile_gc(v, INFO[2500].slot + 1, &err), CDL_OK);
  assert_int_equal(d.fs.open_files, 0);
  assert_counts(v, 0, 0, ANY);
  assert_int_equal(disk_size(file_path(d.dir, 25)), -1);
  assert_int_equal(disk_size(file_path(d.dir, 24)), -1);
  put_block(v, 2501); /* a new file, numbered after every earlier one */
  assert_int_equal(vsync(v), CDL_OK); /* writes go behind until a sync */
  assert_int_equal(disk_size(file_path(d.dir, 26)), (long long)(12 + E.blocks[2501].len));
  cdl_volatile_close(v);
  assert_int_equal(d.fs.open_files, 0);
  remove_dir(d.dir);
}

/* ---- Damage ------------------------------------------------------------------ */

/* db truncate's drop: every block after the slot gone from disk, every
 * block up to it kept with its bytes, files without later blocks untouched. */
static void test_drop_after(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 500);
  cdl_error err = {0};
  uint64_t cut = INFO[250].slot; /* inside file 2 */
  long long file1 = disk_size(file_path(d.dir, 1));
  assert_int_equal(cdl_volatile_drop_after(v, cut, &err), CDL_OK);
  for (size_t i = 0; i < 500; i++) assert_int_equal(held(v, i), INFO[i].slot <= cut);
  assert_blocks(v, 0, 251);
  assert_int_equal(disk_size(file_path(d.dir, 1)), file1);
  for (uint32_t k = 2; k < 5; k++) assert_int_equal(disk_size(file_path(d.dir, k)), -1);
  v = store_reopen(&d, v);
  for (size_t i = 0; i < 500; i++) assert_int_equal(held(v, i), INFO[i].slot <= cut);
  assert_blocks(v, 0, 251);
  assert_counts(v, 251, 3, 0); /* files 0, 1 and the one holding 200-250 again */
  store_end(&d, v);
}

/* A crash in the middle of a put tears the newest file's last record:
 * crash residue, cut silently (torn_bytes), not damage. */
static void test_torn_tail(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 250);
  cdl_volatile_close(v);
  /* Cut file 2, the newest, in the middle of its record 30 (block 230). */
  uint64_t keep = record_offset(200, 30), torn = keep + 12 + E.blocks[230].len / 2;
  assert_int_equal(truncate(file_path(d.dir, 2), (off_t)torn), 0);
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 230, 3, 0);
  assert_int_equal(stats(v).torn_bytes, torn - keep);
  assert_int_equal(stats(v).dropped_bytes, 0);
  assert_int_equal(disk_size(file_path(d.dir, 2)), (long long)keep);
  for (size_t i = 0; i < 250; i++) assert_int_equal(held(v, i), i < 230);
  assert_block(v, 229);
  cdl_volatile_close(v);
  /* A cut in a record header is residue too, then the file is clean again. */
  uint64_t header_cut = keep - E.blocks[229].len - 6;
  assert_int_equal(truncate(file_path(d.dir, 2), (off_t)header_cut), 0);
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 229, ANY, 0);
  assert_int_equal(stats(v).torn_bytes, header_cut - record_offset(200, 29));
  assert_int_equal(disk_size(file_path(d.dir, 2)), (long long)record_offset(200, 29));
  v = store_reopen(&d, v);
  assert_counts(v, 229, ANY, 0);
  assert_int_equal(stats(v).torn_bytes, 0);
  store_end(&d, v);
}

/* Only the newest file is written to: a torn record in an older one is
 * damage, whatever it looks like. */
static void test_torn_older_file(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 250);
  cdl_volatile_close(v);
  uint64_t keep = record_offset(100, 99), torn = keep + 12 + E.blocks[199].len / 2;
  assert_int_equal(truncate(file_path(d.dir, 1), (off_t)torn), 0);
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 249, 3, 1);
  assert_int_equal(stats(v).dropped_bytes, torn - keep);
  assert_int_equal(stats(v).torn_bytes, 0);
  store_end(&d, v);
}

static void test_flipped_byte_in_middle_file(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 300);
  cdl_volatile_close(v);
  long long size1 = disk_size(file_path(d.dir, 1));
  uint64_t bad = record_offset(100, 40); /* block 140 */
  flip_byte(file_path(d.dir, 1), bad + 12 + 20);
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 240, 3, 1);
  assert_int_equal(stats(v).dropped_bytes, (uint64_t)size1 - bad);
  assert_int_equal(disk_size(file_path(d.dir, 1)), (long long)bad);
  for (size_t i = 0; i < 300; i++) assert_int_equal(held(v, i), i < 140 || i >= 200);
  assert_block(v, 139);
  assert_block(v, 200);
  assert_block(v, 299);
  cdl_volatile_close(v);
  /* A bad magic, a bad length and a bad stored CRC cut the same way. */
  flip_byte(file_path(d.dir, 2), record_offset(200, 10) + 1);
  flip_byte(file_path(d.dir, 0), record_offset(0, 90) + 7); /* length's high byte */
  flip_byte(file_path(d.dir, 1), record_offset(100, 20) + 9);
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 90 + 20 + 10, ANY, 3);
  assert_int_equal(disk_size(file_path(d.dir, 1)), (long long)record_offset(100, 20));
  store_end(&d, v);
}

static void test_garbage_files(void **state) {
  (void)state;
  char path[256];
  store d;
  cdl_volatile *v = store_fill(&d, 100, 10);
  cdl_volatile_close(v);
  uint8_t junk[1000];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 7 + 3);
  write_file(file_path(d.dir, 99), junk, sizeof junk);
  /* A record claiming 2^31 bytes, and one claiming more than a block may. */
  uint8_t huge[16] = {'C', 'D', 'L', 'V', 0, 0, 0, 0x80, 0, 0, 0, 0, 1, 2, 3, 4};
  write_file(file_path(d.dir, 50), huge, sizeof huge);
  uint8_t big[12] = {'C', 'D', 'L', 'V', 0, 0, 0x41, 0};
  write_file(file_path(d.dir, 51), big, sizeof big);
  write_file(file_path(d.dir, 52), "", 0); /* created, never written: not damage */
  const char *ignored[] = {"blocks-1.dat", "notes.txt", "blocks-0000000001.dat.tmp",
                           "blocks-9999999999.dat", "blocks-00000000x1.dat"};
  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/%s", d.dir, ignored[i]);
    write_file(path, junk, 100);
  }
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 10, 1, 3);
  assert_int_equal(stats(v).dropped_bytes, sizeof junk + sizeof huge + sizeof big);
  for (uint32_t k = 50; k <= 52; k++) assert_int_equal(disk_size(file_path(d.dir, k)), -1);
  assert_int_equal(disk_size(file_path(d.dir, 99)), -1);
  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/%s", d.dir, ignored[i]);
    assert_int_equal(disk_size(path), 100);
  }
  put_block(v, 10); /* numbered after the garbage file */
  assert_int_equal(vsync(v), CDL_OK); /* writes go behind until a sync */
  assert_int_equal(disk_size(file_path(d.dir, 100)), (long long)(12 + E.blocks[10].len));
  cdl_volatile_close(v);
  /* A file that cannot be read is an error, not damage. */
  assert_int_equal(mkdir(file_path(d.dir, 120), 0755), 0);
  cdl_volatile_config cfg = {EPOCH_SLOTS, 100, 0, false, 0, false};
  cdl_error err = {0};
  assert_int_equal(cdl_volatile_open(&d.fs, d.dir, &cfg, &v, &err), CDL_E_IO);
  assert_null(v);
  assert_non_null(strstr(err.message, "blocks-0000000120.dat"));
  assert_int_equal(d.fs.open_files, 0);
  remove_dir(d.dir);
}

/* A record claiming more than a block may hold is damage before any of it
 * is read, even when the file is long enough to hold the claim. */
static void test_oversized_record(void **state) {
  (void)state;
  store d;
  store_init(&d);
  size_t claim = CDL_CHUNK_MAX_BLOCK + 1, size = 12 + claim;
  uint8_t *data = calloc(1, size);
  assert_non_null(data);
  memcpy(data, "CDLV", 4);
  for (int i = 0; i < 4; i++) data[4 + i] = (uint8_t)(claim >> (8 * i));
  write_file(file_path(d.dir, 3), data, size);
  free(data);
  fault_state st;
  fault_fs_init(&d.fs, &st);
  cdl_volatile *v = vopen(&d.fs, d.dir, 100);
  assert_true(st.max_read <= ((size_t)1 << 20));
  assert_counts(v, 0, ANY, 1);
  assert_int_equal(stats(v).dropped_bytes, size);
  assert_int_equal(disk_size(file_path(d.dir, 3)), -1);
  store_end(&d, v);
}

/* Puts are written through: a put whose write fails is refused, changes
 * nothing and leaves no partial record; the next put writes at the same
 * place. */
static void test_write_failure(void **state) {
  (void)state;
  store d;
  store_init(&d);
  fault_state st;
  fault_fs_init(&d.fs, &st);
  cdl_volatile *v = vopen(&d.fs, d.dir, 1000);
  put_range(v, 0, 5);
  assert_int_equal(disk_size(file_path(d.dir, 0)), (long long)record_offset(0, 5));
  st.fail_write_in = 1;
  cdl_error err = {0};
  assert_int_equal(cdl_volatile_put(v, E.blocks[5].ptr, E.blocks[5].len, &INFO[5], &err),
                   CDL_E_IO);
  assert_false(held(v, 5));
  assert_int_equal(disk_size(file_path(d.dir, 0)), (long long)record_offset(0, 5));
  assert_int_equal(d.fs.open_files, 1);
  assert_blocks(v, 0, 5);
  put_range(v, 5, 8); /* the same place, now written */
  assert_int_equal(disk_size(file_path(d.dir, 0)), (long long)record_offset(0, 8));
  v = store_reopen(&d, v);
  assert_counts(v, 8, 1, 0);
  assert_blocks(v, 0, 8);
  store_end(&d, v);
}

/* A batch: its blocks are read back before it ends, reach the file in one
 * write when it ends; an end whose write fails leaves the file as it was
 * before the batch, and the store goes on. */
static void test_batch(void **state) {
  (void)state;
  store d;
  store_init(&d);
  fault_state st;
  fault_fs_init(&d.fs, &st);
  cdl_volatile *v = vopen(&d.fs, d.dir, 1000);
  put_range(v, 0, 3);
  size_t writes = st.writes;
  cdl_volatile_batch_begin(v);
  put_range(v, 3, 40);
  assert_blocks(v, 0, 40);
  assert_int_equal(st.writes, writes);
  assert_int_equal(disk_size(file_path(d.dir, 0)), (long long)record_offset(0, 3));
  cdl_error err = {0};
  assert_int_equal(cdl_volatile_batch_end(v, &err), CDL_OK);
  assert_int_equal(st.writes, writes + 1);
  assert_int_equal(disk_size(file_path(d.dir, 0)), (long long)record_offset(0, 40));
  cdl_volatile_batch_begin(v);
  put_range(v, 40, 50);
  st.fail_write_in = 1;
  assert_int_equal(cdl_volatile_batch_end(v, &err), CDL_E_IO);
  assert_int_equal(disk_size(file_path(d.dir, 0)), (long long)record_offset(0, 40));
  cdl_error_clear(&err);
  assert_int_equal(cdl_volatile_sync(v, &err), CDL_OK); /* written now, where they belong */
  v = store_reopen(&d, v);
  assert_counts(v, 50, 1, 0);
  assert_blocks(v, 0, 50);
  store_end(&d, v);
}

/* The same block in two files (a copy, or a crash between writes): the
 * first file's record is the one used. */
static void test_duplicates(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 10);
  cdl_volatile_close(v);
  shell("cp %s/blocks-0000000000.dat %s/blocks-0000000007.dat", d.dir, d.dir);
  v = vopen(&d.fs, d.dir, 100);
  assert_counts(v, 10, 2, 0);
  uint8_t succ[4][32];
  assert_int_equal(cdl_volatile_successors(v, INFO[3].prev_hash, succ, 4), 1);
  assert_int_equal(truncate(file_path(d.dir, 7), 0), 0); /* only file 0 is read */
  assert_blocks(v, 0, 10);
  store_end(&d, v);
}

static void test_changed_under_us(void **state) {
  (void)state;
  store d;
  cdl_volatile *v = store_fill(&d, 100, 150);
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_error err = {0};
  flip_byte(file_path(d.dir, 0), record_offset(0, 5) + 12 + 3); /* block 5's bytes */
  assert_int_equal(cdl_volatile_read(v, INFO[5].hash, &out, &err), CDL_E_CHECKSUM);
  assert_non_null(strstr(err.message, "blocks-0000000000.dat"));
  assert_int_equal(out.len, 0);
  flip_byte(file_path(d.dir, 1), record_offset(100, 20)); /* block 120's magic */
  cdl_error_clear(&err);
  assert_int_equal(cdl_volatile_read(v, INFO[120].hash, &out, &err), CDL_E_CHECKSUM);
  assert_non_null(strstr(err.message, "blocks-0000000001.dat"));
  assert_int_equal(truncate(file_path(d.dir, 1), (off_t)record_offset(100, 30)), 0);
  cdl_error_clear(&err);
  assert_int_equal(cdl_volatile_read(v, INFO[140].hash, &out, &err), CDL_E_CHECKSUM);
  assert_int_equal(out.len, 0);
  assert_int_equal(d.fs.open_files, 1);
  assert_block(v, 4); /* the rest reads as before */
  assert_block(v, 129);
  cdl_buf_free(&out);
  store_end(&d, v);
}

/* ---- Bounds --------------------------------------------------------------------- */

static void test_max_blocks(void **state) {
  (void)state;
  store d;
  store_init(&d);
  cdl_volatile *v = vopen_with(&d.fs, d.dir, 16, 50, EPOCH_SLOTS);
  put_range(v, 0, 50);
  cdl_error err = {0};
  assert_int_equal(cdl_volatile_put(v, E.blocks[50].ptr, E.blocks[50].len, &INFO[50], &err),
                   CDL_E_LIMIT);
  put_block(v, 49); /* held already: still fine */
  cdl_error_clear(&err);
  assert_int_equal(cdl_volatile_gc(v, INFO[10].slot, &err), CDL_OK);
  put_range(v, 50, 60); /* room again */
  assert_counts(v, 50, ANY, ANY);
  cdl_volatile_close(v);
  /* Reopening with a lower bound than the disk holds is refused cleanly. */
  cdl_volatile_config cfg = {EPOCH_SLOTS, 16, 20, false, 0, false};
  cdl_error_clear(&err);
  assert_int_equal(cdl_volatile_open(&d.fs, d.dir, &cfg, &v, &err), CDL_E_LIMIT);
  assert_null(v);
  assert_int_equal(d.fs.open_files, 0);
  cfg.epoch_slots = 0;
  assert_int_equal(cdl_volatile_open(&d.fs, d.dir, &cfg, &v, &err), CDL_E_USAGE);
  remove_dir(d.dir);
}

static void test_handle_bound(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "volatile");
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_error err = {0};
  /* One handle: writing holds it, so a read is refused, cleanly. */
  cdl_fs one;
  cdl_fs_posix_init(&one, 1);
  size_t fds = open_fds();
  cdl_volatile *v = vopen(&one, dir, 2);
  put_range(v, 0, 5); /* three files: the handle moves from file to file */
  assert_int_equal(one.open_files, 1);
  assert_int_equal(cdl_volatile_read(v, INFO[0].hash, &out, &err), CDL_E_LIMIT);
  assert_int_equal(out.len, 0);
  assert_int_equal(one.open_files, 1);
  cdl_volatile_close(v);
  assert_int_equal(one.open_files, 0);
  assert_int_equal(open_fds(), fds);
  /* Reopened with one handle: the scan needs only one at a time. */
  v = vopen(&one, dir, 2);
  assert_int_equal(one.open_files, 0);
  assert_block(v, 3);
  assert_int_equal(one.open_files, 0);
  cdl_volatile_close(v);
  /* Two handles: put and read alternate freely. */
  cdl_fs two;
  cdl_fs_posix_init(&two, 2);
  v = vopen(&two, dir, 2);
  for (size_t i = 5; i < 25; i++) {
    put_block(v, i);
    assert_int_equal(two.open_files, 1);
    assert_block(v, i);
    assert_block(v, i / 2);
    assert_int_equal(two.open_files, 1);
  }
  cdl_volatile_close(v);
  assert_int_equal(two.open_files, 0);
  assert_int_equal(open_fds(), fds);
  cdl_buf_free(&out);
  remove_dir(dir);
}

static void test_no_leaks(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "volatile");
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  size_t fds = open_fds();
  cdl_volatile *v = vopen(&fs, dir, 1000);
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_error err = {0};
  for (size_t i = 0; i < N_INFO; i++) {
    put_block(v, i);
    cdl_buf_reset(&out);
    if (cdl_volatile_read(v, INFO[i].hash, &out, &err) != CDL_OK || out.len != E.blocks[i].len)
      fail_msg("read %zu: %s", i, err.message);
    if (fs.open_files != 1) fail_msg("%zu handles after cycle %zu", fs.open_files, i);
  }
  assert_int_equal(open_fds(), fds + 1);
  cdl_volatile_close(v);
  assert_int_equal(fs.open_files, 0);
  assert_int_equal(open_fds(), fds);
  /* Open and close cycles over a small store with a damaged file. */
  char small[64];
  make_dir(small, sizeof small, "volatile");
  v = vopen(&fs, small, 1);
  put_range(v, 100, 103); /* small blocks: epoch 0's EBB lists 21,600 slot leaders */
  cdl_volatile_close(v);
  write_file(file_path(small, 7), "CDLV\1\0\0\0", 8);
  for (int i = 0; i < 10000; i++) {
    v = vopen(&fs, small, 1);
    if (fs.open_files != 0) fail_msg("%zu handles after open %d", fs.open_files, i);
    cdl_volatile_close(v);
  }
  assert_int_equal(open_fds(), fds);
  cdl_buf_free(&out);
  remove_dir(dir);
  remove_dir(small);
}

/* The ring of recent blocks: 3,000 blocks of random sizes through 1,000
 * bytes. After each put the newest is remembered, and whatever the ring
 * still gives for the last 40 (asked oldest first, as moves ask) has the
 * bytes that were put: no block ever overwrites one still remembered. */
static void test_recent_ring(void **state) {
  (void)state;
  enum { PUTS = 3000, LOOK = 40, CAP = 1000, MAX = 400 };
  static uint8_t blocks[PUTS][MAX];
  static size_t sizes[PUTS];
  vrecent r;
  vrecent_init(&r, CAP);
  cdl_gen_rng rng;
  cdl_gen_rng_seed(&rng, 77);
  size_t remembered = 0;
  for (size_t i = 0; i < PUTS; i++) {
    sizes[i] = 1 + (size_t)cdl_gen_rng_below(&rng, MAX);
    for (size_t b = 0; b < sizes[i]; b++) blocks[i][b] = (uint8_t)cdl_gen_rng_below(&rng, 256);
    uint8_t hash[32] = {0};
    memcpy(hash, &i, sizeof i);
    vrecent_put(&r, hash, blocks[i], sizes[i]);
    for (size_t j = i >= LOOK ? i - LOOK : 0; j <= i; j++) {
      memcpy(hash, &j, sizeof j);
      size_t len;
      const uint8_t *got = vrecent_get(&r, hash, &len);
      if (j == i) assert_non_null(got);
      if (got == NULL) continue;
      remembered++;
      assert_int_equal(len, sizes[j]);
      assert_memory_equal(got, blocks[j], len);
    }
  }
  assert_true(remembered > PUTS * 3); /* about 5 of 400-byte-average blocks fit */
  uint8_t absent[32];
  memset(absent, 0xee, sizeof absent);
  size_t len;
  assert_null(vrecent_get(&r, absent, &len));
  vrecent_put(&r, absent, blocks[0], CAP + 1); /* larger than the ring: not kept */
  assert_null(vrecent_get(&r, absent, &len));
  vrecent_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_forks),
      cmocka_unit_test(test_gc),
      cmocka_unit_test(test_torn_tail),
      cmocka_unit_test(test_torn_older_file),
      cmocka_unit_test(test_flipped_byte_in_middle_file),
      cmocka_unit_test(test_garbage_files),
      cmocka_unit_test(test_oversized_record),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_write_failure),
      cmocka_unit_test(test_batch),
      cmocka_unit_test(test_changed_under_us),
      cmocka_unit_test(test_drop_after),
      cmocka_unit_test(test_max_blocks),
      cmocka_unit_test(test_handle_bound),
      cmocka_unit_test(test_no_leaks),
      cmocka_unit_test(test_recent_ring),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
