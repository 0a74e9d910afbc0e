/*
 * fs_lock.c: owner locks over POSIX (include/cardinal/storage.h, cdl_fs_ops
 * lock; docs/storage.md "One owner per database"). A database directory
 * has one writer: the process holding DIR/lock with flock(LOCK_EX). The
 * kernel drops the lock when its process dies, so a crash never leaves a
 * stale lock to clear by hand (cardano-node locks its db/lock the same
 * way). The holder writes its pid in the file so that the refusal can name
 * it. One process may take the same lock more than once (`db repair` holds
 * it while it opens the ChainDB, which takes it too): the count lives
 * here, keyed by the file's device and inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_internal.h"

#define HELD_MAX 32

typedef struct held_lock {
  dev_t dev;
  ino_t ino;
  int fd;
  unsigned count;
} held_lock;

static held_lock held[HELD_MAX];
static pthread_mutex_t held_mutex = PTHREAD_MUTEX_INITIALIZER;

static held_lock *find_held(dev_t dev, ino_t ino) {
  for (size_t i = 0; i < HELD_MAX; i++)
    if (held[i].count > 0 && held[i].dev == dev && held[i].ino == ino) return &held[i];
  return NULL;
}

static held_lock *free_slot(void) {
  for (size_t i = 0; i < HELD_MAX; i++)
    if (held[i].count == 0) return &held[i];
  return NULL;
}

/* The pid the holder wrote, or 0 when it has not written it yet. */
static long holder_pid(int fd) {
  char text[24] = {0};
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  long pid = 0;
  if (n > 0 && sscanf(text, "%ld", &pid) != 1) pid = 0;
  return pid;
}

static int refuse(int fd, const char *path, cdl_error *err) {
  long pid = holder_pid(fd);
  close(fd);
  if (pid > 0)
    return cdl_error_set(err, CDL_E_LOCKED, 0,
                         "the database is in use by process %ld (it holds %s); stop it first", pid,
                         path);
  return cdl_error_set(err, CDL_E_LOCKED, 0,
                       "the database is in use by another process (it holds %s)", path);
}

/* Best effort: the text only names the holder in a refusal. */
static void set_text(int fd, const char *text, size_t len) {
  if (ftruncate(fd, 0) != 0 || len == 0) return;
  if (pwrite(fd, text, len, 0) < 0) return;
}

static void write_pid(int fd) {
  char text[24];
  int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
  set_text(fd, text, (size_t)n);
}

static int take(int fd, const char *path, int *token, cdl_error *err) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot stat %s: %s", path, strerror(errno));
  }
  held_lock *h = find_held(st.st_dev, st.st_ino);
  if (h != NULL) { /* ours already */
    close(fd);
    h->count++;
    *token = h->fd;
    return CDL_OK;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return refuse(fd, path, err);
    int e = errno;
    close(fd);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot lock %s: %s", path, strerror(e));
  }
  h = free_slot();
  if (h == NULL) {
    close(fd); /* closing drops the lock just taken */
    return cdl_error_set(err, CDL_E_LIMIT, 0, "more than %d databases open in one process",
                         HELD_MAX);
  }
  *h = (held_lock){.dev = st.st_dev, .ino = st.st_ino, .fd = fd, .count = 1};
  write_pid(fd);
  *token = fd;
  return CDL_OK;
}

int cdl_fs_posix_lock(cdl_fs *fs, const char *path, int *token, cdl_error *err) {
  (void)fs;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE))
    return cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: out of file descriptors (%s)", path,
                         strerror(errno));
  if (fd < 0) return cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: %s", path, strerror(errno));
  pthread_mutex_lock(&held_mutex);
  int rc = take(fd, path, token, err);
  pthread_mutex_unlock(&held_mutex);
  return rc;
}

void cdl_fs_posix_unlock(cdl_fs *fs, int token) {
  (void)fs;
  pthread_mutex_lock(&held_mutex);
  for (size_t i = 0; i < HELD_MAX; i++) {
    held_lock *h = &held[i];
    if (h->count == 0 || h->fd != token || --h->count > 0) continue;
    /* The pid goes first: a lock file names no process that let it go. */
    set_text(h->fd, "", 0);
    close(h->fd);
  }
  pthread_mutex_unlock(&held_mutex);
}

int cdl_db_lock(cdl_fs *fs, const char *dir, int *token, cdl_error *err) {
  *token = -1;
  if (fs->ops->lock == NULL) return CDL_OK;
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/lock", dir) >= sizeof path)
    return cdl_error_set(err, CDL_E_USAGE, 0, "database path too long: %s", dir);
  return fs->ops->lock(fs, path, token, err);
}

void cdl_db_unlock(cdl_fs *fs, int token) {
  if (token >= 0 && fs->ops->unlock != NULL) fs->ops->unlock(fs, token);
}
