/*
 * sim_disk_ops.c: the file interface (include/cardinal/storage.h "File
 * interface") over the simulator's disk (sim_disk.h): open, read, write,
 * sync, truncate, rename, remove, mkdir, sync_dir, list, exists and owner
 * locks, with POSIX's answers and messages (src/storage/fs.c), so that
 * storage treats a missing file here as it treats one on a real disk.
 *
 * Every change goes to the live view at once and is logged for a crash to
 * cut (sim_disk_store.c). A refused operation changes nothing: whatever
 * can fail (memory, room, the handle bound) is checked or reserved first.
 * There is no mapping (map is NULL: whole files are read), and a lock is
 * held in memory only: no lock file is made, and a crash drops it as the
 * kernel drops a dead process's flock. A disk serves one simulated
 * process, which never takes a lock twice: a second lock of a held path
 * is refused (CDL_E_LOCKED), where fs_lock.c would count it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sim_disk_internal.h"

/* A file may not grow past this (EFBIG): offsets add up without overflow. */
#define FILE_MAX ((uint64_t)1 << 40)

static const char NO_ENTRY[] = "No such file or directory";
static const char BAD_HANDLE[] = "Bad file descriptor";

static int io_fail(cdl_error *err, const char *what, const char *path, const char *why) {
  return cdl_error_set(err, CDL_E_IO, 0, "%s %s: %s", what, path, why);
}

static int frozen(sim_disk *d, cdl_error *err, const char *what, const char *path) {
  d->st.refused_frozen++;
  return io_fail(err, what, path, "disk frozen (crashed)");
}

static int no_memory(cdl_error *err, const char *what, const char *path) {
  return cdl_error_set(err, CDL_E_NOMEM, 0, "%s %s: out of memory (simulated disk)", what, path);
}

/* The frozen check comes first: a frozen disk refuses even a bad path. */
static int enter(sim_disk *d, const char *what, const char *path, char out[SIM_PATH_MAX],
                 cdl_error *err) {
  if (d->frozen) return frozen(d, err, what, path);
  if (!path_normalise(path, out))
    return io_fail(err, what, path, "path not supported (\"..\", or too long)");
  return CDL_OK;
}

/* A handle's slot, or NULL (with the error set) when the disk is frozen or
 * the handle is not open. */
static sim_handle *handle_enter(sim_disk *d, int handle, const char *what, cdl_error *err) {
  sim_handle *h = handle >= 0 && (size_t)handle < d->n_handles ? &d->handles[handle] : NULL;
  if (h != NULL && h->ino == NULL) h = NULL;
  if (d->frozen) frozen(d, err, what, h != NULL ? h->path : "file");
  else if (h == NULL) io_fail(err, what, "file", BAD_HANDLE);
  return d->frozen ? NULL : h;
}

/* ---- Handles ---------------------------------------------------------------- */

/* A free slot, made when there is none. */
static int handle_slot(sim_disk *d, size_t *slot) {
  for (*slot = 0; *slot < d->n_handles; (*slot)++)
    if (d->handles[*slot].ino == NULL) return CDL_OK;
  if (d->n_handles >= INT_MAX) return CDL_E_LIMIT;
  sim_handle *h = realloc(d->handles, (d->n_handles + 1) * sizeof *h);
  if (h == NULL) return CDL_E_NOMEM;
  d->handles = h;
  h[d->n_handles++] = (sim_handle){0};
  return CDL_OK;
}

static void handle_release(sim_disk *d, sim_handle *h) {
  sim_inode *ino = h->ino;
  free(h->path);
  *h = (sim_handle){0};
  ino->handles--;
  d->open_handles--;
  inode_free_if_unused(d, ino);
}

void handles_close_all(sim_disk *d) {
  for (size_t i = 0; i < d->n_handles; i++)
    if (d->handles[i].ino != NULL) handle_release(d, &d->handles[i]);
  d->fs.open_files = 0;
}

/* ---- Open and close ----------------------------------------------------------- */

/* The inode |path| (entry |e|, or none at |at|) names, made when missing:
 * on failure nothing is left behind. */
static int create_file(sim_disk *d, const char *path, sim_entry *e, size_t at, sim_inode **out,
                       cdl_error *err) {
  if (parent_dir(d, path) == NULL) return io_fail(err, "cannot open", path, NO_ENTRY);
  if (names_reserve(d, 1) != CDL_OK) return no_memory(err, "cannot open", path);
  sim_inode *ino = inode_new(d);
  if (ino != NULL && e == NULL) e = name_add(d, path, false, at);
  if (e == NULL) inode_free_if_unused(d, ino);
  if (ino == NULL || e == NULL) return no_memory(err, "cannot open", path);
  entry_set(d, e, false, ino);
  journal_add(d, NULL, e, ino);
  *out = ino;
  return CDL_OK;
}

/* The wrapper's bound (cdl_fs_open) is lifted in sim_disk_new so that the
 * refusal happens here, where it is counted: same code, same message. */
static int sd_open(cdl_fs *fs, const char *path, unsigned flags, int *handle, cdl_error *err) {
  sim_disk *d = fs->impl;
  char p[SIM_PATH_MAX];
  CDL_TRY(enter(d, "cannot open", path, p, err));
  size_t bound = d->max_open ? d->max_open : CDL_FS_DEFAULT_MAX_OPEN;
  if (d->open_handles >= bound) {
    d->st.refused_descriptors++;
    return cdl_error_set(err, CDL_E_LIMIT, 0,
                         "cannot open %s: %zu files already open (the bound)", path,
                         d->open_handles);
  }
  size_t at, slot;
  sim_entry *e = name_find(d, p, &at);
  if (e != NULL && e->is_dir) return io_fail(err, "cannot open", path, "Is a directory");
  bool missing = e == NULL || e->live == NULL;
  if (missing && !(flags & CDL_FS_CREATE)) return io_fail(err, "cannot open", path, NO_ENTRY);
  char *copy = strdup(path);
  if (copy == NULL || handle_slot(d, &slot) != CDL_OK) {
    free(copy);
    return no_memory(err, "cannot open", path);
  }
  sim_inode *ino = missing ? NULL : e->live;
  int rc = CDL_OK;
  if (missing) rc = create_file(d, p, e, at, &ino, err);
  else if ((flags & CDL_FS_TRUNC) && inode_change(ino, NULL, 0, 0) != CDL_OK)
    rc = no_memory(err, "cannot truncate", path);
  if (rc != CDL_OK) {
    free(copy);
    return rc;
  }
  d->handles[slot] = (sim_handle){.ino = ino, .path = copy, .writable = flags & CDL_FS_WRITE};
  ino->handles++;
  d->open_handles++;
  *handle = (int)slot;
  return CDL_OK;
}

/* A close frees its handle even on a frozen disk (what a dead process's
 * descriptors become); only a live disk loses writes on close. */
static void sd_close(cdl_fs *fs, int handle) {
  sim_disk *d = fs->impl;
  if (handle < 0 || (size_t)handle >= d->n_handles || d->handles[handle].ino == NULL) return;
  sim_handle *h = &d->handles[handle];
  if (d->lossy_close && !d->frozen) inode_drop_unsynced(h->ino);
  handle_release(d, h);
}

/* ---- Reads and changes through a handle ------------------------------------------ */

static int sd_read_at(cdl_fs *fs, int handle, void *buf, size_t len, uint64_t offset,
                      size_t *got, cdl_error *err) {
  *got = 0;
  sim_handle *h = handle_enter(fs->impl, handle, "cannot read", err);
  if (h == NULL) return CDL_E_IO;
  const sim_bytes *b = &h->ino->live;
  if (offset >= b->len) return CDL_OK;
  *got = b->len - (size_t)offset < len ? b->len - (size_t)offset : len;
  memcpy(buf, b->data + offset, *got);
  return CDL_OK;
}

/* A change that leaves the file |end| bytes long: writable, within the
 * file size bound and the disk's capacity. */
static int may_grow(sim_disk *d, const sim_handle *h, uint64_t end, const char *what,
                    cdl_error *err) {
  if (!h->writable) return io_fail(err, what, h->path, BAD_HANDLE);
  if (end > FILE_MAX) return io_fail(err, what, h->path, "File too large");
  uint64_t now = h->ino->live.len;
  if (d->capacity == 0 || end <= now) return CDL_OK;
  uint64_t used = live_bytes(d);
  if (used + (end - now) <= d->capacity) return CDL_OK;
  d->st.refused_full++;
  return cdl_error_set(err, CDL_E_IO, 0, "%s %s: No space left on device (%llu of %llu bytes used)",
                       what, h->path, (unsigned long long)used,
                       (unsigned long long)d->capacity);
}

static int sd_write_at(cdl_fs *fs, int handle, const void *buf, size_t len, uint64_t offset,
                       cdl_error *err) {
  sim_disk *d = fs->impl;
  sim_handle *h = handle_enter(d, handle, "cannot write", err);
  if (h == NULL) return CDL_E_IO;
  uint64_t end = offset > FILE_MAX || len > FILE_MAX ? UINT64_MAX : offset + len;
  if (end < h->ino->live.len) end = h->ino->live.len;
  CDL_TRY(may_grow(d, h, len == 0 ? 0 : end, "cannot write", err));
  if (inode_change(h->ino, buf, len, offset) != CDL_OK)
    return no_memory(err, "cannot write", h->path);
  d->st.writes++;
  return CDL_OK;
}

static int sd_size(cdl_fs *fs, int handle, uint64_t *size, cdl_error *err) {
  sim_handle *h = handle_enter(fs->impl, handle, "cannot stat", err);
  if (h == NULL) return CDL_E_IO;
  *size = h->ino->live.len;
  return CDL_OK;
}

static int sd_sync(cdl_fs *fs, int handle, cdl_error *err) {
  sim_disk *d = fs->impl;
  sim_handle *h = handle_enter(d, handle, "cannot sync", err);
  if (h == NULL) return CDL_E_IO;
  inode_sync(h->ino);
  d->st.syncs++;
  return CDL_OK;
}

static int sd_truncate(cdl_fs *fs, int handle, uint64_t size, cdl_error *err) {
  sim_disk *d = fs->impl;
  sim_handle *h = handle_enter(d, handle, "cannot truncate", err);
  if (h == NULL) return CDL_E_IO;
  CDL_TRY(may_grow(d, h, size, "cannot truncate", err));
  if (inode_change(h->ino, NULL, 0, size) != CDL_OK)
    return no_memory(err, "cannot truncate", h->path);
  return CDL_OK;
}

/* ---- Names ------------------------------------------------------------------------- */

/* The file entry of |p|, NULL when no file has that name now. */
static sim_entry *live_file(sim_disk *d, const char *p, size_t *at) {
  sim_entry *e = name_find(d, p, at);
  return e != NULL && (e->is_dir || e->live != NULL) ? e : NULL;
}

/* The file |path| names (NULL: none), after enter's checks; a directory
 * is refused: the model renames and removes files only. */
static int enter_file(sim_disk *d, const char *what, const char *path, sim_entry **out,
                      cdl_error *err) {
  char p[SIM_PATH_MAX];
  CDL_TRY(enter(d, what, path, p, err));
  *out = live_file(d, p, NULL);
  if (*out != NULL && (*out)->is_dir) return io_fail(err, what, path, "Is a directory");
  return CDL_OK;
}

static int sd_rename(cdl_fs *fs, const char *from, const char *to, cdl_error *err) {
  sim_disk *d = fs->impl;
  char t[SIM_PATH_MAX];
  sim_entry *src;
  size_t at;
  CDL_TRY(enter_file(d, "cannot rename", from, &src, err));
  CDL_TRY(enter(d, "cannot rename to", to, t, err));
  if (src == NULL) return io_fail(err, "cannot rename", from, NO_ENTRY);
  sim_entry *dst = live_file(d, t, &at);
  if (src == dst) return CDL_OK;
  if (parent_dir(d, t) == NULL) return io_fail(err, "cannot rename to", to, NO_ENTRY);
  if (dst != NULL && dst->is_dir) return io_fail(err, "cannot rename to", to, "Is a directory");
  if (dst == NULL) dst = name_find(d, t, &at); /* a name a crash could bring back */
  if (names_reserve(d, 1) != CDL_OK || (dst == NULL && (dst = name_add(d, t, false, at)) == NULL))
    return no_memory(err, "cannot rename", from);
  sim_inode *ino = src->live;
  entry_set(d, dst, false, ino); /* first: |ino| keeps a name throughout */
  entry_set(d, src, false, NULL);
  journal_add(d, src, dst, ino);
  return CDL_OK;
}

static int sd_remove(cdl_fs *fs, const char *path, cdl_error *err) {
  sim_disk *d = fs->impl;
  sim_entry *e;
  CDL_TRY(enter_file(d, "cannot remove", path, &e, err));
  if (e == NULL) return CDL_OK; /* missing is fine */
  if (names_reserve(d, 1) != CDL_OK) return no_memory(err, "cannot remove", path);
  journal_add(d, e, NULL, NULL);
  entry_set(d, e, false, NULL);
  return CDL_OK;
}

/* A directory is durable at once (see sim_disk.c): the storage makes its
 * directories once, and a crash that lost one would orphan its files. */
static int sd_mkdir(cdl_fs *fs, const char *path, cdl_error *err) {
  sim_disk *d = fs->impl;
  char p[SIM_PATH_MAX];
  CDL_TRY(enter(d, "cannot create directory", path, p, err));
  size_t at;
  sim_entry *e = name_find(d, p, &at);
  if (e != NULL && e->is_dir) return CDL_OK;
  /* A file, or a name a crash could bring back: one entry is not both. */
  if (e != NULL) return io_fail(err, "cannot create directory", path, "File exists");
  if (parent_dir(d, p) == NULL) return io_fail(err, "cannot create directory", path, NO_ENTRY);
  if (names_reserve(d, 1) != CDL_OK || name_add(d, p, true, at) == NULL)
    return no_memory(err, "cannot create directory", path);
  return CDL_OK;
}

/* The directory |path| names, or the error (after enter's). */
static int enter_dir(sim_disk *d, const char *what, const char *path, sim_entry **out,
                     cdl_error *err) {
  char p[SIM_PATH_MAX];
  CDL_TRY(enter(d, what, path, p, err));
  *out = live_file(d, p, NULL);
  if (*out == NULL) return io_fail(err, what, path, NO_ENTRY);
  if (!(*out)->is_dir) return io_fail(err, what, path, "Not a directory");
  return CDL_OK;
}

static int sd_sync_dir(cdl_fs *fs, const char *path, cdl_error *err) {
  sim_disk *d = fs->impl;
  sim_entry *dir;
  CDL_TRY(enter_dir(d, "cannot sync directory", path, &dir, err));
  journal_commit_dir(d, dir);
  d->st.dir_syncs++;
  return CDL_OK;
}

/* The live entries directly in |dir|, in path order, copied out before |fn|
 * runs (it may change the directory it walks). */
static int sd_list(cdl_fs *fs, const char *dir, int (*fn)(void *ctx, const char *name),
                   void *ctx, cdl_error *err) {
  sim_disk *d = fs->impl;
  char prefix[SIM_PATH_MAX + 1];
  sim_entry *e;
  CDL_TRY(enter_dir(d, "cannot list", dir, &e, err));
  snprintf(prefix, sizeof prefix, e->path[0] ? "%s/" : "%s", e->path);
  size_t plen = strlen(prefix), first = 0, n = 0;
  if (plen > 0) name_find(d, prefix, &first);
  char **names = calloc(d->n_names - first + 1, sizeof *names);
  if (names == NULL) return no_memory(err, "cannot list", dir);
  for (size_t i = first; i < d->n_names && strncmp(d->names[i]->path, prefix, plen) == 0; i++) {
    const sim_entry *c = d->names[i];
    if (strchr(c->path + plen, '/') == NULL && (c->is_dir || c->live != NULL))
      names[n++] = c->path + plen;
  }
  int rc = CDL_OK;
  char *copies = NULL;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(names[i]) + 1;
  if (n > 0 && (copies = malloc(total)) == NULL) rc = no_memory(err, "cannot list", dir);
  for (size_t i = 0, off = 0; rc == CDL_OK && i < n; i++) {
    size_t len = strlen(names[i]) + 1;
    names[i] = memcpy(copies + off, names[i], len);
    off += len;
  }
  for (size_t i = 0; rc == CDL_OK && i < n; i++) rc = fn(ctx, names[i]);
  free(copies);
  free(names);
  return rc;
}

static bool sd_exists(cdl_fs *fs, const char *path) {
  sim_disk *d = fs->impl;
  char p[SIM_PATH_MAX];
  if (enter(d, "cannot stat", path, p, NULL) != CDL_OK) return false;
  return live_file(d, p, NULL) != NULL;
}

/* ---- Owner locks ----------------------------------------------------------------------- */

static int sd_lock(cdl_fs *fs, const char *path, int *token, cdl_error *err) {
  sim_disk *d = fs->impl;
  char p[SIM_PATH_MAX];
  CDL_TRY(enter(d, "cannot lock", path, p, err));
  if (parent_dir(d, p) == NULL) return io_fail(err, "cannot open", path, NO_ENTRY);
  size_t slot = d->n_locks;
  for (size_t i = d->n_locks; i-- > 0;) {
    if (d->locks[i] == NULL) slot = i;
    else if (strcmp(d->locks[i], p) == 0)
      return cdl_error_set(err, CDL_E_LOCKED, 0,
                           "the database is in use by this process (it holds %s)", path);
  }
  if (slot == d->n_locks && d->n_locks >= INT_MAX) return no_memory(err, "cannot lock", path);
  char *copy = strdup(p);
  char **locks = copy && slot == d->n_locks ? realloc(d->locks, (slot + 1) * sizeof *locks)
                                            : d->locks;
  if (copy == NULL || locks == NULL) {
    free(copy);
    return no_memory(err, "cannot lock", path);
  }
  d->locks = locks;
  if (slot == d->n_locks) d->n_locks++;
  d->locks[slot] = copy;
  *token = (int)slot;
  return CDL_OK;
}

/* An unlock releases even on a frozen disk, as a close does. */
static void sd_unlock(cdl_fs *fs, int token) {
  sim_disk *d = fs->impl;
  if (token < 0 || (size_t)token >= d->n_locks) return;
  free(d->locks[token]);
  d->locks[token] = NULL;
}

void locks_release_all(sim_disk *d) {
  for (size_t i = 0; i < d->n_locks; i++) {
    free(d->locks[i]);
    d->locks[i] = NULL;
  }
}

const cdl_fs_ops SIM_DISK_OPS = {
    sd_open,   sd_close, sd_read_at, sd_write_at, sd_size, sd_sync,    sd_truncate,
    sd_rename, sd_remove, sd_mkdir,  sd_sync_dir, sd_list, sd_exists,
    NULL,      NULL, /* no mapping: whole files are read */
    sd_lock,   sd_unlock};
