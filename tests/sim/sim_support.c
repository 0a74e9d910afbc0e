/*
 * sim_support.c: helpers of the tests on the simulator's disk; see
 * sim_support.h.
 */
#include "sim_support.h"

#include <stdio.h>
#include <string.h>

/* Creates or replaces |path| with |data|; synced when asked. */
void put_file(cdl_fs *fs, const char *path, const char *data, bool sync) {
  int h;
  cdl_error err = {0};
  if (cdl_fs_open(fs, path, CDL_FS_WRITE | CDL_FS_CREATE | CDL_FS_TRUNC, &h, &err) != CDL_OK)
    fail_msg("open %s: %s", path, err.message);
  assert_int_equal(fs->ops->write_at(fs, h, data, strlen(data), 0, &err), CDL_OK);
  if (sync) assert_int_equal(fs->ops->sync(fs, h, &err), CDL_OK);
  cdl_fs_close(fs, h);
}

/* Appends |data| through an open handle. */
void append_file(cdl_fs *fs, int h, const char *data) {
  uint64_t size;
  cdl_error err = {0};
  assert_int_equal(fs->ops->size(fs, h, &size, &err), CDL_OK);
  assert_int_equal(fs->ops->write_at(fs, h, data, strlen(data), size, &err), CDL_OK);
}

/* The whole of |path| as a string in |out| (at most cap - 1 bytes), or
 * the read's code. */
int get_file(cdl_fs *fs, const char *path, char *out, size_t cap) {
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_error err = {0};
  int rc = cdl_fs_read_file(fs, path, cap - 1, &b, &err);
  if (rc == CDL_OK && b.len > 0) memcpy(out, b.data, b.len);
  if (rc == CDL_OK) out[b.len] = '\0';
  cdl_buf_free(&b);
  return rc;
}

void expect_file(cdl_fs *fs, const char *path, const char *want) {
  char got[256];
  assert_int_equal(get_file(fs, path, got, sizeof got), CDL_OK);
  assert_string_equal(got, want);
}

void mkdir_ok(cdl_fs *fs, const char *path) {
  cdl_error err = {0};
  assert_int_equal(fs->ops->mkdir(fs, path, &err), CDL_OK);
}

void sync_dir_ok(cdl_fs *fs, const char *path) {
  cdl_error err = {0};
  assert_int_equal(fs->ops->sync_dir(fs, path, &err), CDL_OK);
}

/* A new disk of |seed| holding the directory "d"; its files in *fs. */
sim_disk *disk_with_dir(uint64_t seed, cdl_fs **fs) {
  sim_disk *d = sim_disk_new(seed);
  assert_non_null(d);
  *fs = sim_disk_fs(d);
  mkdir_ok(*fs, "d");
  return d;
}



static int add_name(void *ctx, const char *name) {
  listing *l = ctx;
  size_t n = strlen(l->text);
  snprintf(l->text + n, sizeof l->text - n, "%s%s", n ? "," : "", name);
  return 0;
}

const char *list_of(cdl_fs *fs, const char *dir, listing *l) {
  cdl_error err = {0};
  l->text[0] = '\0';
  if (fs->ops->list(fs, dir, add_name, l, &err) != CDL_OK)
    fail_msg("list %s: %s", dir, err.message);
  return l->text;
}

/* Every file of the disk under |dir|, path, length and bytes, in order:
 * two disks with equal prints hold the same files byte for byte. */
static void print_tree(cdl_fs *fs, const char *dir, cdl_buf *out) {
  listing l;
  list_of(fs, dir, &l);
  for (char *name = l.text, *next; *name != '\0'; name = next) {
    char *comma = strchr(name, ',');
    next = comma != NULL ? comma + 1 : name + strlen(name);
    if (comma != NULL) *comma = '\0';
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", dir, dir[0] ? "/" : "", name) >= sizeof path)
      fail_msg("path too long under %s", dir);
    cdl_buf bytes;
    cdl_buf_init(&bytes, 0);
    cdl_error err = {0};
    int rc = cdl_fs_read_file(fs, path, 1 << 20, &bytes, &err);
    char head[1100];
    snprintf(head, sizeof head, "%s %zu\n", path, bytes.len);
    cdl_buf_append(out, head, strlen(head));
    if (rc == CDL_OK) cdl_buf_append(out, bytes.data, bytes.len);
    else print_tree(fs, path, out); /* a directory */
    cdl_buf_free(&bytes);
  }
}

void tree_of(sim_disk *d, cdl_buf *out) {
  cdl_buf_init(out, 0);
  print_tree(sim_disk_fs(d), "", out);
}

bool same_tree(sim_disk *a, sim_disk *b) {
  cdl_buf x, y;
  tree_of(a, &x);
  tree_of(b, &y);
  bool same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
  cdl_buf_free(&x);
  cdl_buf_free(&y);
  return same;
}

