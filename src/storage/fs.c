/*
 * fs.c: the file interface of docs/design.md section 3 over POSIX, and the
 * wrappers that bound and count open handles. Every storage file goes
 * through here so that a simulated file system can take its place and so
 * that running out of descriptors is an error the caller handles.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_internal.h"

static int fail_errno(cdl_error *err, const char *what, const char *path) {
  int e = errno;
  if (e == EMFILE || e == ENFILE)
    return cdl_error_set(err, CDL_E_IO, 0, "%s %s: out of file descriptors (%s)", what, path,
                         strerror(e));
  return cdl_error_set(err, CDL_E_IO, 0, "%s %s: %s", what, path, strerror(e));
}

static int px_open(cdl_fs *fs, const char *path, unsigned flags, int *handle,
                   cdl_error *err) {
  (void)fs;
  int oflags = O_CLOEXEC | ((flags & CDL_FS_WRITE) ? O_RDWR : O_RDONLY);
  if (flags & CDL_FS_CREATE) oflags |= O_CREAT;
  if (flags & CDL_FS_TRUNC) oflags |= O_TRUNC;
  int fd = open(path, oflags, 0644);
  if (fd < 0) return fail_errno(err, "cannot open", path);
  *handle = fd;
  return CDL_OK;
}

static void px_close(cdl_fs *fs, int handle) {
  (void)fs;
  close(handle);
}

static int px_read_at(cdl_fs *fs, int handle, void *buf, size_t len, uint64_t offset,
                      size_t *got, cdl_error *err) {
  (void)fs;
  *got = 0;
  while (*got < len) {
    ssize_t n = pread(handle, (uint8_t *)buf + *got, len - *got, (off_t)(offset + *got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(err, "cannot read", "file");
    if (n == 0) break;
    *got += (size_t)n;
  }
  return CDL_OK;
}

static int px_write_at(cdl_fs *fs, int handle, const void *buf, size_t len, uint64_t offset,
                       cdl_error *err) {
  (void)fs;
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(handle, (const uint8_t *)buf + done, len - done, (off_t)(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(err, "cannot write", "file");
    done += (size_t)n;
  }
  return CDL_OK;
}

static int px_size(cdl_fs *fs, int handle, uint64_t *size, cdl_error *err) {
  (void)fs;
  struct stat st;
  if (fstat(handle, &st) != 0) return fail_errno(err, "cannot stat", "file");
  *size = (uint64_t)st.st_size;
  return CDL_OK;
}

static int px_sync(cdl_fs *fs, int handle, cdl_error *err) {
  (void)fs;
  if (fsync(handle) != 0) return fail_errno(err, "cannot sync", "file");
  return CDL_OK;
}

static int px_truncate(cdl_fs *fs, int handle, uint64_t size, cdl_error *err) {
  (void)fs;
  if (ftruncate(handle, (off_t)size) != 0) return fail_errno(err, "cannot truncate", "file");
  return CDL_OK;
}

static int px_rename(cdl_fs *fs, const char *from, const char *to, cdl_error *err) {
  (void)fs;
  if (rename(from, to) != 0) return fail_errno(err, "cannot rename", from);
  return CDL_OK;
}

static int px_remove(cdl_fs *fs, const char *path, cdl_error *err) {
  (void)fs;
  if (unlink(path) != 0 && errno != ENOENT) return fail_errno(err, "cannot remove", path);
  return CDL_OK;
}

static int px_mkdir(cdl_fs *fs, const char *path, cdl_error *err) {
  (void)fs;
  if (mkdir(path, 0755) != 0 && errno != EEXIST)
    return fail_errno(err, "cannot create directory", path);
  return CDL_OK;
}

static int px_sync_dir(cdl_fs *fs, const char *path, cdl_error *err) {
  (void)fs;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(err, "cannot open directory", path);
  int rc = fsync(fd) == 0 ? CDL_OK : fail_errno(err, "cannot sync directory", path);
  close(fd);
  return rc;
}

static int px_list(cdl_fs *fs, const char *dir, int (*fn)(void *ctx, const char *name),
                   void *ctx, cdl_error *err) {
  (void)fs;
  DIR *d = opendir(dir);
  if (d == NULL) return fail_errno(err, "cannot list", dir);
  int rc = CDL_OK;
  struct dirent *e;
  while (rc == CDL_OK && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    rc = fn(ctx, e->d_name);
  }
  closedir(d);
  return rc;
}

static bool px_exists(cdl_fs *fs, const char *path) {
  (void)fs;
  struct stat st;
  return stat(path, &st) == 0;
}

/* Pages are mapped as they are first read (the kernel maps the cached
 * pages around each fault with it), not all at once (MAP_POPULATE): a
 * snapshot kept mapped for a fork point that never comes costs no
 * resident memory, and a whole read of a 100 MB snapshot faulted in this
 * way was measured faster than populated (docs/performance.md "Restart"). */
static int px_map(cdl_fs *fs, int handle, size_t len, const void **addr, cdl_error *err) {
  (void)fs;
  void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, handle, 0);
  if (p == MAP_FAILED) return fail_errno(err, "cannot map", "file");
  *addr = p;
  return CDL_OK;
}

static void px_unmap(cdl_fs *fs, const void *addr, size_t len) {
  (void)fs;
  munmap((void *)addr, len);
}

static const cdl_fs_ops POSIX_OPS = {
    px_open,   px_close,  px_read_at, px_write_at, px_size,  px_sync,
    px_truncate, px_rename, px_remove, px_mkdir,  px_sync_dir, px_list,
    px_exists, px_map,    px_unmap,   cdl_fs_posix_lock, cdl_fs_posix_unlock};

void cdl_fs_posix_init(cdl_fs *fs, size_t max_open) {
  memset(fs, 0, sizeof *fs);
  fs->ops = &POSIX_OPS;
  fs->max_open = max_open;
}

int cdl_fs_open(cdl_fs *fs, const char *path, unsigned flags, int *handle, cdl_error *err) {
  size_t max = fs->max_open ? fs->max_open : CDL_FS_DEFAULT_MAX_OPEN;
  if (fs->open_files >= max)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "cannot open %s: %zu files already open (the bound)",
                         path, fs->open_files);
  int rc = fs->ops->open(fs, path, flags, handle, err);
  if (rc == CDL_OK) fs->open_files++;
  return rc;
}

void cdl_fs_close(cdl_fs *fs, int handle) {
  CDL_ASSERT(fs->open_files > 0);
  fs->ops->close(fs, handle);
  fs->open_files--;
}

int cdl_fs_read_exact(cdl_fs *fs, int handle, void *buf, size_t len, uint64_t offset,
                      cdl_error *err) {
  size_t got;
  int rc = fs->ops->read_at(fs, handle, buf, len, offset, &got, err);
  if (rc == CDL_OK && got != len)
    rc = cdl_error_set(err, CDL_E_TRUNCATED, (size_t)(offset + got),
                       "file ends %zu bytes into a %zu-byte read at %llu", got, len,
                       (unsigned long long)offset);
  return rc;
}

/* Opens |path| for reading and gives its size, at most |max_bytes|. On
 * failure the handle is closed again. */
static int open_sized(cdl_fs *fs, const char *path, size_t max_bytes, int *h, uint64_t *size,
                      cdl_error *err) {
  int rc = cdl_fs_open(fs, path, CDL_FS_READ, h, err);
  if (rc != CDL_OK) return rc;
  *size = 0;
  rc = fs->ops->size(fs, *h, size, err);
  if (rc == CDL_OK && *size > max_bytes)
    rc = cdl_error_set(err, CDL_E_LIMIT, 0, "%s is larger than %zu bytes", path, max_bytes);
  if (rc != CDL_OK) cdl_fs_close(fs, *h);
  return rc;
}

int cdl_fs_read_file(cdl_fs *fs, const char *path, size_t max_bytes, cdl_buf *out,
                     cdl_error *err) {
  int h;
  uint64_t size;
  int rc = open_sized(fs, path, max_bytes, &h, &size, err);
  if (rc != CDL_OK) return rc;
  if (cdl_buf_reserve(out, (size_t)size) != CDL_OK)
    rc = cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for %s (%llu bytes)", path,
                       (unsigned long long)size);
  /* An empty file (one a crash left just created) reads as nothing. */
  if (rc == CDL_OK && size > 0)
    rc = cdl_fs_read_exact(fs, h, out->data + out->len, (size_t)size, 0, err);
  if (rc == CDL_OK) out->len += (size_t)size;
  cdl_fs_close(fs, h);
  return rc;
}

static int map_whole(cdl_fs *fs, const char *path, size_t max_bytes, cdl_fs_view *out,
                     cdl_error *err) {
  int h;
  uint64_t size;
  int rc = open_sized(fs, path, max_bytes, &h, &size, err);
  if (rc != CDL_OK) return rc;
  const void *addr = NULL;
  /* An empty file (one a crash left just created) views as nothing. */
  if (size > 0) rc = fs->ops->map(fs, h, (size_t)size, &addr, err);
  cdl_fs_close(fs, h);
  if (rc != CDL_OK) return rc;
  out->data = addr;
  out->len = (size_t)size;
  out->mapped_by = size > 0 ? fs : NULL;
  return CDL_OK;
}

int cdl_fs_view_file(cdl_fs *fs, const char *path, size_t max_bytes, cdl_fs_view *out,
                     cdl_error *err) {
  memset(out, 0, sizeof *out);
  cdl_buf_init(&out->buf, max_bytes);
  if (fs->ops->map != NULL) return map_whole(fs, path, max_bytes, out, err);
  int rc = cdl_fs_read_file(fs, path, max_bytes, &out->buf, err);
  if (rc != CDL_OK) return rc;
  out->data = out->buf.data;
  out->len = out->buf.len;
  return CDL_OK;
}

void cdl_fs_view_of_buf(cdl_fs_view *out, cdl_buf *bytes) {
  memset(out, 0, sizeof *out);
  out->buf = *bytes;
  out->data = out->buf.data;
  out->len = out->buf.len;
  cdl_buf_init(bytes, 0);
}

void cdl_fs_view_free(cdl_fs_view *v) {
  if (v->mapped_by != NULL) v->mapped_by->ops->unmap(v->mapped_by, v->data, v->len);
  cdl_buf_free(&v->buf);
  memset(v, 0, sizeof *v);
}

int cdl_fs_append(cdl_fs_appender *a, const void *data, size_t len) {
  CDL_TRY(a->fs->ops->write_at(a->fs, a->handle, data, len, a->offset, a->err));
  a->offset += len;
  return CDL_OK;
}

int cdl_fs_write_file_atomic_by(cdl_fs *fs, const char *dir, const char *path,
                                int (*produce)(void *ctx, cdl_fs_appender *a), void *ctx,
                                cdl_error *err) {
  char tmp[4096];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
    return cdl_error_set(err, CDL_E_USAGE, 0, "path too long: %s", path);
  cdl_fs_appender a = {.fs = fs, .err = err};
  int rc = cdl_fs_open(fs, tmp, CDL_FS_WRITE | CDL_FS_CREATE | CDL_FS_TRUNC, &a.handle, err);
  if (rc != CDL_OK) return rc;
  rc = produce(ctx, &a);
  if (rc == CDL_OK) rc = fs->ops->sync(fs, a.handle, err);
  cdl_fs_close(fs, a.handle);
  if (rc == CDL_OK) rc = fs->ops->rename(fs, tmp, path, err);
  if (rc == CDL_OK) rc = fs->ops->sync_dir(fs, dir, err);
  if (rc != CDL_OK) fs->ops->remove(fs, tmp, NULL);
  return rc;
}

typedef struct whole_file {
  const void *data;
  size_t len;
} whole_file;

static int append_whole(void *ctx, cdl_fs_appender *a) {
  const whole_file *w = ctx;
  return cdl_fs_append(a, w->data, w->len);
}

int cdl_fs_write_file_atomic(cdl_fs *fs, const char *dir, const char *path, const void *data,
                             size_t len, cdl_error *err) {
  whole_file w = {data, len};
  return cdl_fs_write_file_atomic_by(fs, dir, path, append_whole, &w, err);
}
