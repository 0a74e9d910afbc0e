/*
 * sim_disk_store.c: what the simulator's disk (sim_disk.h) holds: file
 * contents with their durable bytes and their log of unsynced changes
 * (inodes), the names that reach them now and after a crash, and the
 * journal of entry changes that a directory sync makes durable. The model
 * is described in sim_disk_internal.h; the crash that cuts logs and the
 * journal is in sim_disk_crash.c.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_disk_internal.h"

/* ---- Bytes --------------------------------------------------------------- */

/* Files stay far below this; it keeps every length sum inside size_t. */
#define BYTES_MAX ((uint64_t)SIZE_MAX / 4)

/* Room for |need| elements of |size| bytes in a doubling array. */
static int grow(void **array, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return CDL_OK;
  size_t n = *cap ? *cap : 16;
  while (n < need) n *= 2;
  void *p = realloc(*array, n * size);
  if (p == NULL) return CDL_E_NOMEM;
  *array = p;
  *cap = n;
  return CDL_OK;
}

static int bytes_reserve(sim_bytes *b, uint64_t need) {
  if (need > BYTES_MAX) return CDL_E_NOMEM;
  if (need <= b->cap) return CDL_OK;
  size_t cap = b->cap < 64 ? 64 : b->cap;
  while (cap < need) cap *= 2;
  uint8_t *p = realloc(b->data, cap);
  if (p == NULL) return CDL_E_NOMEM;
  b->data = p;
  b->cap = cap;
  return CDL_OK;
}

/* Bytes between the end and |to| read as zeros, as in a sparse file. */
static void zero_gap(sim_bytes *b, uint64_t to) {
  if (to > b->len) memset(b->data + b->len, 0, (size_t)to - b->len);
}

void bytes_apply(sim_bytes *b, const sim_write *w, size_t keep) {
  if (w->data == NULL) {
    CDL_ASSERT(w->offset <= b->cap);
    zero_gap(b, w->offset);
    b->len = (size_t)w->offset;
    return;
  }
  uint64_t end = w->offset + keep;
  CDL_ASSERT(end <= b->cap);
  zero_gap(b, w->offset);
  memcpy(b->data + w->offset, w->data, keep);
  if (end > b->len) b->len = (size_t)end;
}

/* ---- Inodes -------------------------------------------------------------- */

sim_inode *inode_new(sim_disk *d) {
  sim_inode *ino = calloc(1, sizeof *ino);
  if (ino == NULL) return NULL;
  ino->prev = d->last;
  if (d->last != NULL) d->last->next = ino;
  else d->first = ino;
  d->last = ino;
  return ino;
}

void inode_log_clear(sim_inode *ino) {
  for (size_t i = 0; i < ino->log_n; i++) free(ino->log[i].data);
  ino->log_n = 0;
}

void inode_destroy(sim_inode *ino) {
  inode_log_clear(ino);
  free(ino->log);
  free(ino->live.data);
  free(ino->durable.data);
  free(ino);
}

void inode_free_if_unused(sim_disk *d, sim_inode *ino) {
  if (ino == NULL || ino->links > 0 || ino->handles > 0 || ino->anchors > 0) return;
  if (ino->prev != NULL) ino->prev->next = ino->next;
  else d->first = ino->next;
  if (ino->next != NULL) ino->next->prev = ino->prev;
  else d->last = ino->prev;
  inode_destroy(ino);
}

bool inode_is_live(const sim_inode *ino) { return ino->links > 0 || ino->handles > 0; }

/* Everything is reserved and copied before the live bytes change, so a
 * refusal for want of memory leaves the file as it was. The durable bytes
 * get the same room: every state a sync or a crash can make of them is
 * one the live bytes had (or a shorter, torn one), so neither allocates. */
int inode_change(sim_inode *ino, const void *data, size_t len, uint64_t offset) {
  if (data != NULL && len == 0) return CDL_OK; /* pwrite of nothing: no change */
  if (offset > BYTES_MAX || len > BYTES_MAX) return CDL_E_NOMEM;
  sim_write w = {.offset = offset, .data = NULL, .len = len};
  uint64_t end = data == NULL ? offset : offset + len;
  CDL_TRY(bytes_reserve(&ino->live, end));
  CDL_TRY(bytes_reserve(&ino->durable, end));
  CDL_TRY(grow((void **)&ino->log, &ino->log_cap, ino->log_n + 1, sizeof *ino->log));
  if (data != NULL) {
    w.data = malloc(len);
    if (w.data == NULL) return CDL_E_NOMEM;
    memcpy(w.data, data, len);
  }
  bytes_apply(&ino->live, &w, len);
  ino->log[ino->log_n++] = w;
  return CDL_OK;
}

/* The log replayed onto the durable bytes (not a copy of the live ones:
 * an appended file costs what was appended). */
void inode_sync(sim_inode *ino) {
  for (size_t i = 0; i < ino->log_n; i++) bytes_apply(&ino->durable, &ino->log[i], ino->log[i].len);
  inode_log_clear(ino);
}

/* Back to the last sync (the room is there, as for a sync). */
void inode_drop_unsynced(sim_inode *ino) {
  CDL_ASSERT(ino->durable.len <= ino->live.cap);
  if (ino->durable.len > 0) memcpy(ino->live.data, ino->durable.data, ino->durable.len);
  ino->live.len = ino->durable.len;
  inode_log_clear(ino);
}

/* ---- Names ----------------------------------------------------------------- */

bool path_normalise(const char *path, char out[SIM_PATH_MAX]) {
  size_t n = 0;
  const char *p = path;
  while (*p != '\0') {
    while (*p == '/') p++;
    size_t len = strcspn(p, "/");
    if (len == 0) break;
    if (len == 2 && p[0] == '.' && p[1] == '.') return false;
    if (!(len == 1 && p[0] == '.')) {
      if (n + (n > 0) + len >= SIM_PATH_MAX) return false;
      if (n > 0) out[n++] = '/';
      memcpy(out + n, p, len);
      n += len;
    }
    p += len;
  }
  out[n] = '\0';
  return true;
}

sim_entry *name_find(sim_disk *d, const char *path, size_t *at) {
  if (path[0] == '\0') return &d->root;
  size_t lo = 0, hi = d->n_names;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(d->names[mid]->path, path);
    if (c == 0) {
      if (at != NULL) *at = mid;
      return d->names[mid];
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  if (at != NULL) *at = lo;
  return NULL;
}

sim_entry *parent_dir(sim_disk *d, const char *path) {
  char dir[SIM_PATH_MAX];
  const char *slash = strrchr(path, '/');
  size_t len = slash != NULL ? (size_t)(slash - path) : 0;
  memcpy(dir, path, len);
  dir[len] = '\0';
  sim_entry *e = name_find(d, dir, NULL);
  return e != NULL && e->is_dir ? e : NULL;
}

int names_reserve(sim_disk *d, size_t extra) {
  CDL_TRY(grow((void **)&d->names, &d->cap_names, d->n_names + extra, sizeof *d->names));
  return grow((void **)&d->journal, &d->cap_journal, d->n_journal + extra, sizeof *d->journal);
}

sim_entry *name_add(sim_disk *d, const char *path, bool is_dir, size_t at) {
  CDL_ASSERT(d->n_names < d->cap_names);
  sim_entry *e = calloc(1, sizeof *e);
  char *copy = e != NULL ? strdup(path) : NULL;
  if (copy == NULL) {
    free(e);
    return NULL;
  }
  e->path = copy;
  e->is_dir = is_dir;
  memmove(&d->names[at + 1], &d->names[at], (d->n_names - at) * sizeof *d->names);
  d->names[at] = e;
  d->n_names++;
  return e;
}

/* Live names count as links, durable ones as anchors. */
void entry_set(sim_disk *d, sim_entry *e, bool durable, sim_inode *ino) {
  sim_inode **slot = durable ? &e->durable : &e->live;
  sim_inode *old = *slot;
  if (old == ino) return;
  *slot = ino;
  if (ino != NULL) *(durable ? &ino->anchors : &ino->links) += 1;
  if (old != NULL) *(durable ? &old->anchors : &old->links) -= 1;
  inode_free_if_unused(d, old);
}

static void entry_free(sim_entry *e) {
  free(e->path);
  free(e);
}

void entry_free_if_unused(sim_disk *d, sim_entry *e) {
  if (e == NULL || e == &d->root || e->is_dir || e->live || e->durable || e->mentions) return;
  size_t at;
  CDL_ASSERT(name_find(d, e->path, &at) == e);
  memmove(&d->names[at], &d->names[at + 1], (d->n_names - at - 1) * sizeof *d->names);
  d->n_names--;
  entry_free(e);
}

void names_free(sim_disk *d) {
  for (size_t i = 0; i < d->n_names; i++) entry_free(d->names[i]);
  free(d->names);
  d->names = NULL;
  d->n_names = d->cap_names = 0;
}

/* ---- The journal ------------------------------------------------------------ */

static void add_dir(sim_change *c, sim_entry *dir) {
  CDL_ASSERT(dir != NULL);
  if (c->ndirs == 1 && c->dir[0] == dir) return;
  c->dir[c->ndirs++] = dir;
}

void journal_add(sim_disk *d, sim_entry *unset, sim_entry *set, sim_inode *ino) {
  CDL_ASSERT(d->n_journal < d->cap_journal);
  sim_change *c = &d->journal[d->n_journal++];
  *c = (sim_change){.unset = unset, .set = set, .ino = ino};
  if (unset != NULL) unset->mentions++, add_dir(c, parent_dir(d, unset->path));
  if (set != NULL) set->mentions++, add_dir(c, parent_dir(d, set->path));
  if (ino != NULL) ino->anchors++;
}

void change_apply(sim_disk *d, const sim_change *c) {
  if (c->unset != NULL) entry_set(d, c->unset, true, NULL);
  if (c->set != NULL) entry_set(d, c->set, true, c->ino);
}

static void change_release(sim_disk *d, const sim_change *c) {
  if (c->ino != NULL) {
    c->ino->anchors--;
    inode_free_if_unused(d, c->ino);
  }
  if (c->unset != NULL) c->unset->mentions--;
  if (c->set != NULL) c->set->mentions--;
  entry_free_if_unused(d, c->unset);
  entry_free_if_unused(d, c->set);
}

static bool names_shared(const sim_change *a, const sim_change *b) {
  const sim_entry *x[2] = {a->unset, a->set}, *y[2] = {b->unset, b->set};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      if (x[i] != NULL && x[i] == y[j]) return true;
  return false;
}

/* A committed change is folded into the durable names unless an earlier
 * change still in the journal names one of its entries: the last change
 * of a name must stay the last applied, whatever a crash keeps of the
 * earlier ones. */
void journal_commit_dir(sim_disk *d, const sim_entry *dir) {
  for (size_t i = 0; i < d->n_journal; i++) {
    sim_change *c = &d->journal[i];
    if (c->dir[0] == dir || (c->ndirs == 2 && c->dir[1] == dir)) c->committed = true;
  }
  size_t kept = 0;
  for (size_t i = 0; i < d->n_journal; i++) {
    sim_change c = d->journal[i];
    bool blocked = false;
    for (size_t j = 0; j < kept && !blocked; j++) blocked = names_shared(&d->journal[j], &c);
    if (c.committed && !blocked) {
      change_apply(d, &c);
      change_release(d, &c);
    } else {
      d->journal[kept++] = c;
    }
  }
  d->n_journal = kept;
}

void journal_clear(sim_disk *d) {
  size_t n = d->n_journal;
  d->n_journal = 0;
  for (size_t i = 0; i < n; i++) change_release(d, &d->journal[i]);
}
