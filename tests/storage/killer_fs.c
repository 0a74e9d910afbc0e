/*
 * killer_fs.c: the killing file system of the crash tests (killer_fs.h).
 */
#include "killer_fs.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cardinal/gen.h"

static struct killer {
  cdl_fs inner, outer;
  uint64_t at, changes;
  kill_phase phase;
  cdl_gen_rng rng;
  int fd;
  uint64_t msg;
  char kinds[KILLER_MAX_CHANGES + 1];
} K;

/* Counts a change; true when it is the one to die at (after telling the
 * parent, so that it knows the kill was ours). */
static bool dies_here(change_kind kind) {
  K.changes++;
  if (K.changes <= KILLER_MAX_CHANGES) K.kinds[K.changes - 1] = (char)kind;
  if (K.changes != K.at) return false;
  if (write(K.fd, &K.msg, sizeof K.msg) != (ssize_t)sizeof K.msg) _exit(99);
  return true;
}

static bool after(void) {
  return K.phase == KILL_AFTER || (K.phase == KILL_RANDOM && cdl_gen_rng_below(&K.rng, 2));
}

static int k_open(cdl_fs *fs, const char *path, unsigned flags, int *h, cdl_error *err) {
  (void)fs;
  bool change = flags & (CDL_FS_CREATE | CDL_FS_TRUNC);
  if (!change || !dies_here(CHANGE_OTHER)) return K.inner.ops->open(&K.inner, path, flags, h, err);
  if (after()) (void)K.inner.ops->open(&K.inner, path, flags, h, err);
  raise(SIGKILL);
  return CDL_E_IO;
}
static void k_close(cdl_fs *fs, int h) { (void)fs, K.inner.ops->close(&K.inner, h); }
static int k_read_at(cdl_fs *fs, int h, void *buf, size_t len, uint64_t off, size_t *got,
                     cdl_error *err) {
  (void)fs;
  return K.inner.ops->read_at(&K.inner, h, buf, len, off, got, err);
}

/* How much of a write of |len| bytes a kill lets through. */
static size_t torn_length(size_t len) {
  switch (K.phase) {
    case KILL_BEFORE: return 0;
    case KILL_AFTER: return len;
    case KILL_TORN: return len < 2 ? 0 : 1 + (size_t)cdl_gen_rng_below(&K.rng, len - 1);
    default: return (size_t)cdl_gen_rng_below(&K.rng, len + 1);
  }
}

static int k_write_at(cdl_fs *fs, int h, const void *buf, size_t len, uint64_t off,
                      cdl_error *err) {
  (void)fs;
  if (!dies_here(CHANGE_WRITE)) return K.inner.ops->write_at(&K.inner, h, buf, len, off, err);
  size_t part = torn_length(len);
  if (part > 0) (void)K.inner.ops->write_at(&K.inner, h, buf, part, off, err);
  raise(SIGKILL);
  return CDL_E_IO;
}
static int k_size(cdl_fs *fs, int h, uint64_t *size, cdl_error *err) {
  (void)fs;
  return K.inner.ops->size(&K.inner, h, size, err);
}
/* Other changes: killed before or after the operation. */
#define KILL_AROUND(call)                   \
  do {                                      \
    (void)fs;                               \
    if (!dies_here(CHANGE_OTHER)) return (call); \
    if (after()) (void)(call);              \
    raise(SIGKILL);                         \
    return CDL_E_IO;                        \
  } while (0)
static int k_sync(cdl_fs *fs, int h, cdl_error *err) {
  KILL_AROUND(K.inner.ops->sync(&K.inner, h, err));
}
static int k_truncate(cdl_fs *fs, int h, uint64_t size, cdl_error *err) {
  KILL_AROUND(K.inner.ops->truncate(&K.inner, h, size, err));
}
static int k_rename(cdl_fs *fs, const char *from, const char *to, cdl_error *err) {
  KILL_AROUND(K.inner.ops->rename(&K.inner, from, to, err));
}
static int k_remove(cdl_fs *fs, const char *path, cdl_error *err) {
  KILL_AROUND(K.inner.ops->remove(&K.inner, path, err));
}
static int k_mkdir(cdl_fs *fs, const char *path, cdl_error *err) {
  KILL_AROUND(K.inner.ops->mkdir(&K.inner, path, err));
}
static int k_sync_dir(cdl_fs *fs, const char *path, cdl_error *err) {
  KILL_AROUND(K.inner.ops->sync_dir(&K.inner, path, err));
}
static int k_list(cdl_fs *fs, const char *dir, int (*fn)(void *ctx, const char *name), void *ctx,
                  cdl_error *err) {
  (void)fs;
  return K.inner.ops->list(&K.inner, dir, fn, ctx, err);
}
static bool k_exists(cdl_fs *fs, const char *path) {
  (void)fs;
  return K.inner.ops->exists(&K.inner, path);
}
/* The owner's lock is the real one: a killed child's lock dies with it. */
static int k_lock(cdl_fs *fs, const char *path, int *token, cdl_error *err) {
  (void)fs;
  return K.inner.ops->lock(&K.inner, path, token, err);
}
static void k_unlock(cdl_fs *fs, int token) {
  (void)fs;
  K.inner.ops->unlock(&K.inner, token);
}

static const cdl_fs_ops KILLER_OPS = {k_open,  k_close,  k_read_at, k_write_at, k_size,
                                      k_sync,  k_truncate, k_rename, k_remove,  k_mkdir,
                                      k_sync_dir, k_list, k_exists,
                                      NULL,    NULL, /* no mapping: every read is seen */
                                      k_lock,  k_unlock};

cdl_fs *killer_fs(uint64_t at, kill_phase phase, uint64_t seed, int fd, uint64_t kill_msg) {
  cdl_fs_posix_init(&K.inner, 0);
  K.outer = (cdl_fs){.ops = &KILLER_OPS};
  K.at = at;
  K.changes = 0;
  K.phase = phase;
  K.fd = fd;
  K.msg = kill_msg;
  memset(K.kinds, 0, sizeof K.kinds);
  cdl_gen_rng_seed(&K.rng, seed ^ 0x70f2ull);
  return &K.outer;
}

uint64_t killer_changes(void) { return K.changes; }
const char *killer_kinds(void) { return K.kinds; }
