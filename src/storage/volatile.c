/*
 * volatile.c: the Volatile DB (include/cardinal/storage.h "Volatile DB",
 * after ouroboros-consensus's VolatileDB): blocks that may still be rolled
 * back, appended to files `blocks-NNNNNNNNNN.dat` as records
 *   "CDLV" | u32 LE length | u32 LE CRC32 of the bytes | the block bytes,
 * indexed in memory (volatile_index.c). Every byte read back is treated as
 * hostile: open parses each file with bounded reads and cuts it at the
 * first bad record; a read checks its record again.
 *
 * Handles: between calls at most one is held, for the file being appended
 * to. Reads and the scan at open take one more and give it back.
 *
 * Writes go through (docs/storage.md "Durability"): each put hands its
 * record to the OS in one write before it returns, so what a node adopts,
 * announces or serves survives the node's own crash. Within a batch
 * (cdl_volatile_batch_begin/end) the records of blocks that arrived
 * together are gathered and written in one write when the batch ends,
 * before the caller says anything of them. A crash in the middle of a
 * write leaves the newest file's last record torn: crash residue, cut back
 * silently at the next open. Surviving power loss takes cdl_volatile_sync.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "volatile_index.h"
#include "volatile_recent.h"

#define RECORD_HEADER 12
#define SCAN_WINDOW ((size_t)1 << 20)
#define PATH_CAP 4096
#define NAME_LEN 21 /* "blocks-" + 10 digits + ".dat" */

static const uint8_t MAGIC[4] = {'C', 'D', 'L', 'V'};

typedef struct vfile {
  uint32_t number;
  uint32_t records;   /* valid records, duplicates included */
  size_t live;        /* records the index points to */
  uint64_t max_slot;  /* over all records */
  uint64_t size;      /* bytes of valid records */
} vfile;

struct cdl_volatile {
  cdl_fs *fs;
  char *dir;
  uint64_t epoch_slots;
  uint32_t blocks_per_file;
  cdl_volatile_index idx;
  vfile *files;       /* ascending numbers; the last one is written when wh >= 0 */
  size_t n_files, cap_files;
  int wh;             /* write handle, -1 when none */
  bool cache_reads;   /* keep rh open between reads */
  int rh;             /* cached read handle, -1 when none */
  uint32_t rh_file;   /* the file rh reads */
  cdl_buf record;     /* the record being written (header and block) */
  bool read_only;
  bool unsynced;      /* written since the last sync */
  unsigned batch;     /* batches open: puts gather in |pend| */
  cdl_buf pend;       /* gathered records, for the end of the last file */
  uint64_t pend_off;  /* where they go in it */
  vrecent recent;     /* the blocks written last, in memory */
  uint64_t next_number; /* for the next new file; past UINT32_MAX: none left */
  bool dir_dirty;     /* a file was created since the last sync */
  size_t damaged_files;
  uint64_t dropped_bytes, torn_bytes;
};

/* A bounded window over one file being scanned. */
typedef struct scan {
  int h;
  uint64_t size;
  uint8_t *buf;
  size_t cap, len;
  uint64_t start;
} scan;

static void file_path(const cdl_volatile *v, uint32_t number, char path[PATH_CAP]) {
  snprintf(path, PATH_CAP, "%s/blocks-%010u.dat", v->dir, (unsigned)number);
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t x) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(x >> (8 * i));
}

static vfile *find_file(cdl_volatile *v, uint32_t number) {
  size_t lo = 0, hi = v->n_files;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v->files[mid].number == number) return &v->files[mid];
    if (v->files[mid].number < number) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

static int reserve_file(cdl_volatile *v, cdl_error *err) {
  if (v->n_files < v->cap_files) return CDL_OK;
  size_t cap = v->cap_files ? 2 * v->cap_files : 16;
  vfile *f = realloc(v->files, cap * sizeof *f);
  if (f == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: out of memory");
  v->files = f;
  v->cap_files = cap;
  return CDL_OK;
}

/* Writes the gathered records to the end of the last file. When that
 * fails the file is cut back to where they began (if it can be) and they
 * stay gathered: the caller has a storage failure to stop on. */
static int flush_pending(cdl_volatile *v, cdl_error *err) {
  if (v->pend.len == 0) return CDL_OK;
  const cdl_fs_ops *ops = v->fs->ops;
  int rc = ops->write_at(v->fs, v->wh, v->pend.data, v->pend.len, v->pend_off, err);
  if (rc != CDL_OK) {
    ops->truncate(v->fs, v->wh, v->pend_off, NULL);
    return rc;
  }
  v->unsynced = true;
  cdl_buf_reset(&v->pend);
  return CDL_OK;
}

static void close_writer(cdl_volatile *v) {
  if (v->wh < 0) return;
  cdl_fs_close(v->fs, v->wh);
  v->wh = -1;
}

static void close_reader(cdl_volatile *v) {
  if (v->rh < 0) return;
  cdl_fs_close(v->fs, v->rh);
  v->rh = -1;
}

/* ---- Open: parse every file ----------------------------------------------- */

typedef struct name_list {
  uint32_t *numbers;
  size_t n, cap, max;
  bool too_many, nomem;
} name_list;

static bool parse_name(const char *name, uint32_t *number) {
  if (strlen(name) != NAME_LEN || memcmp(name, "blocks-", 7) != 0 ||
      memcmp(name + 17, ".dat", 4) != 0)
    return false;
  uint64_t n = 0;
  for (int i = 7; i < 17; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    n = n * 10 + (uint64_t)(name[i] - '0');
  }
  if (n > UINT32_MAX) return false;
  *number = (uint32_t)n;
  return true;
}

static int collect_name(void *ctx, const char *name) {
  name_list *l = ctx;
  uint32_t number;
  if (!parse_name(name, &number)) return 0;
  if (l->n == l->max) {
    l->too_many = true;
    return 1;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    if (cap > l->max) cap = l->max;
    uint32_t *p = realloc(l->numbers, cap * sizeof *p);
    if (p == NULL) {
      l->nomem = true;
      return 1;
    }
    l->numbers = p;
    l->cap = cap;
  }
  l->numbers[l->n++] = number;
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static int list_files(cdl_volatile *v, name_list *l, cdl_error *err) {
  /* Every file kept holds a block, so more files than blocks is damage
   * beyond repair here (and a bound on memory). */
  l->max = v->idx.max;
  int rc = v->fs->ops->list(v->fs, v->dir, collect_name, l, err);
  if (l->nomem) return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: out of memory");
  if (l->too_many)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "%s holds more than %zu block files", v->dir,
                         l->max);
  if (rc != CDL_OK) return rc;
  if (l->n > 1) qsort(l->numbers, l->n, sizeof *l->numbers, cmp_u32);
  return CDL_OK;
}

/* Points *p at bytes [off, off + n) of the file; the caller has checked
 * that they lie within its size. */
static int window(cdl_volatile *v, scan *s, uint64_t off, size_t n, const uint8_t **p,
                  cdl_error *err) {
  if (off >= s->start && off + n <= s->start + s->len) {
    *p = s->buf + (off - s->start);
    return CDL_OK;
  }
  size_t want = n > SCAN_WINDOW ? n : SCAN_WINDOW;
  if (want > s->size - off) want = (size_t)(s->size - off);
  if (want > s->cap) {
    uint8_t *b = realloc(s->buf, want);
    if (b == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: out of memory");
    s->buf = b;
    s->cap = want;
  }
  s->len = 0;
  int rc = cdl_fs_read_exact(v->fs, s->h, s->buf, want, off, err);
  if (rc != CDL_OK) return rc;
  s->start = off;
  s->len = want;
  *p = s->buf;
  return CDL_OK;
}

/* What the record at the end of a file's good prefix is. */
typedef enum { REC_GOOD, REC_TORN, REC_BAD } rec_state;

/* Whether a whole record with a good CRC starts anywhere at or after
 * |from|. A torn write is the last thing in its file: a record that claims
 * to run past the end but has a good one after it was damaged instead
 * (its length field). Rare, so a plain byte-by-byte search. */
static int good_record_after(cdl_volatile *v, scan *s, uint64_t from, bool *found,
                             cdl_error *err) {
  *found = false;
  for (uint64_t at = from; at + RECORD_HEADER <= s->size; at++) {
    const uint8_t *p;
    int rc = window(v, s, at, RECORD_HEADER, &p, err);
    if (rc != CDL_OK) return rc;
    if (memcmp(p, MAGIC, 4) != 0) continue;
    uint32_t len = le32(p + 4), crc = le32(p + 8);
    if (len == 0 || len > CDL_CHUNK_MAX_BLOCK || s->size - at - RECORD_HEADER < len) continue;
    if ((rc = window(v, s, at + RECORD_HEADER, len, &p, err)) != CDL_OK) return rc;
    if (cdl_crc32(p, len) == crc) return *found = true, CDL_OK;
  }
  return CDL_OK;
}

/* Checks the record at |off|: REC_TORN when the file ends inside it (a
 * write cut short), REC_BAD when it is there and wrong. A good record is
 * indexed and counted in |f|. */
static int scan_record(cdl_volatile *v, scan *s, vfile *f, rec_state *state, cdl_error *err) {
  uint64_t off = f->size;
  const uint8_t *p = NULL;
  *state = REC_TORN;
  if (s->size - off < RECORD_HEADER) return CDL_OK;
  int rc = window(v, s, off, RECORD_HEADER, &p, err);
  if (rc != CDL_OK) return rc;
  uint32_t len = le32(p + 4), crc = le32(p + 8);
  *state = REC_BAD;
  if (memcmp(p, MAGIC, 4) != 0 || len == 0 || len > CDL_CHUNK_MAX_BLOCK) return CDL_OK;
  if (s->size - off - RECORD_HEADER < len) {
    bool followed;
    rc = good_record_after(v, s, off + 1, &followed, err);
    if (rc == CDL_OK && !followed) *state = REC_TORN;
    return rc;
  }
  if ((rc = window(v, s, off + RECORD_HEADER, len, &p, err)) != CDL_OK) return rc;
  cdl_block_info info;
  cdl_error ignored = {0};
  if (cdl_crc32(p, len) != crc ||
      cdl_block_info_read(p, len, v->epoch_slots, &info, &ignored) != CDL_OK ||
      info.size != len)
    return CDL_OK;
  if (cdl_volatile_index_find(&v->idx, info.hash) == CDL_VOLATILE_NONE) {
    rc = cdl_volatile_index_reserve(&v->idx);
    if (rc == CDL_E_LIMIT)
      return cdl_error_set(err, rc, 0, "%s holds more than %zu blocks", v->dir, v->idx.max);
    if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "volatile DB: out of memory");
    cdl_volatile_index_add(&v->idx, &info, f->number, off);
    f->live++;
  } /* else the same block in an earlier file: keep the first */
  if (f->records == 0 || info.slot > f->max_slot) f->max_slot = info.slot;
  f->records++;
  f->size = off + RECORD_HEADER + len;
  *state = REC_GOOD;
  return CDL_OK;
}

/* Cuts a file back to its valid prefix, or removes it when nothing is
 * left. A reader leaves it as it is. */
static int cut_file(cdl_volatile *v, const char *path, uint64_t keep, cdl_error *err) {
  if (v->read_only) return CDL_OK;
  if (keep == 0) return v->fs->ops->remove(v->fs, path, err);
  int h;
  int rc = cdl_fs_open(v->fs, path, CDL_FS_WRITE, &h, err);
  if (rc != CDL_OK) return rc;
  rc = v->fs->ops->truncate(v->fs, h, keep, err);
  if (rc == CDL_OK) rc = v->fs->ops->sync(v->fs, h, err);
  cdl_fs_close(v->fs, h);
  return rc;
}

/* Counts what a cut drops: only the newest file is written to, so only
 * its last record can be torn by a crash; anything else is damage. */
static void count_cut(cdl_volatile *v, bool newest, rec_state state, uint64_t dropped) {
  if (newest && state == REC_TORN) {
    v->torn_bytes += dropped;
    return;
  }
  v->damaged_files++;
  v->dropped_bytes += dropped;
}

/* Parses file |number| up to its first bad record. */
static int parse_file(cdl_volatile *v, scan *s, vfile *f, rec_state *state, cdl_error *err) {
  int rc = v->fs->ops->size(v->fs, s->h, &s->size, err);
  *state = REC_GOOD;
  while (rc == CDL_OK && *state == REC_GOOD && f->size < s->size)
    rc = scan_record(v, s, f, state, err);
  return rc;
}

static int load_file(cdl_volatile *v, uint32_t number, bool newest, scan *s, cdl_error *err) {
  char path[PATH_CAP];
  file_path(v, number, path);
  cdl_error e = {0}; /* the inner cause, reported with the file's name */
  int rc = reserve_file(v, &e);
  if (rc == CDL_OK) rc = cdl_fs_open(v->fs, path, CDL_FS_READ, &s->h, &e);
  /* A reader of a live database: the owner removed it since the listing. */
  if (rc == CDL_E_IO && v->read_only && !v->fs->ops->exists(v->fs, path)) return CDL_OK;
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "volatile DB: %s: %s", path, e.message);
  s->start = s->len = 0;
  vfile f = {.number = number};
  rec_state state;
  rc = parse_file(v, s, &f, &state, &e);
  cdl_fs_close(v->fs, s->h);
  if (rc == CDL_OK && f.size < s->size) {
    count_cut(v, newest, state, s->size - f.size);
    rc = cut_file(v, path, f.size, &e);
  } else if (rc == CDL_OK && s->size == 0) {
    rc = cut_file(v, path, 0, &e); /* made, never written: residue too */
  }
  if (f.records > 0) v->files[v->n_files++] = f;
  if (rc != CDL_OK)
    return cdl_error_set(err, rc, e.offset, "volatile DB: %s: %s", path, e.message);
  return CDL_OK;
}

static int load_all(cdl_volatile *v, cdl_error *err) {
  name_list l = {0};
  scan s = {.h = -1};
  int rc = list_files(v, &l, err);
  for (size_t i = 0; rc == CDL_OK && i < l.n; i++)
    rc = load_file(v, l.numbers[i], i + 1 == l.n, &s, err);
  if (rc == CDL_OK && l.n > 0) v->next_number = (uint64_t)l.numbers[l.n - 1] + 1;
  free(l.numbers);
  free(s.buf);
  return rc;
}

int cdl_volatile_open(cdl_fs *fs, const char *dir, const cdl_volatile_config *cfg,
                      cdl_volatile **out, cdl_error *err) {
  *out = NULL;
  size_t max = cfg->max_blocks ? cfg->max_blocks : 100000;
  if (cfg->epoch_slots == 0 || max > CDL_VOLATILE_MAX_BLOCKS)
    return cdl_error_set(err, CDL_E_USAGE, 0, "volatile DB: bad configuration");
  if (strlen(dir) + NAME_LEN + 2 > PATH_CAP)
    return cdl_error_set(err, CDL_E_USAGE, 0, "volatile DB: directory path too long");
  cdl_volatile *v = calloc(1, sizeof *v);
  if (v == NULL || (v->dir = malloc(strlen(dir) + 1)) == NULL) {
    free(v);
    return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: out of memory");
  }
  strcpy(v->dir, dir);
  v->fs = fs;
  v->wh = -1;
  v->rh = -1;
  v->cache_reads = cfg->cache_read_handle;
  v->read_only = cfg->read_only;
  cdl_buf_init(&v->record, 0);
  cdl_buf_init(&v->pend, 0);
  vrecent_init(&v->recent, cfg->recent_bytes);
  v->epoch_slots = cfg->epoch_slots;
  v->blocks_per_file = cfg->blocks_per_file ? cfg->blocks_per_file : 1000;
  cdl_volatile_index_init(&v->idx, max);
  int rc = CDL_OK;
  if (!v->read_only) rc = fs->ops->mkdir(fs, dir, err);
  if (rc == CDL_OK && (!v->read_only || fs->ops->exists(fs, dir))) rc = load_all(v, err);
  if (rc != CDL_OK) {
    cdl_volatile_close(v);
    return rc;
  }
  *out = v;
  return CDL_OK;
}

void cdl_volatile_close(cdl_volatile *v) {
  if (v == NULL) return;
  (void)flush_pending(v, NULL); /* best effort: a caller that must know ends its batch */
  close_writer(v);
  close_reader(v);
  cdl_buf_free(&v->record);
  cdl_buf_free(&v->pend);
  vrecent_free(&v->recent);
  cdl_volatile_index_free(&v->idx);
  free(v->files);
  free(v->dir);
  free(v);
}

/* ---- Writing ------------------------------------------------------------------ */

/* Makes the file to append to ready: the current one while it has room,
 * else a fresh one numbered after every file seen. */
static int writer_ready(cdl_volatile *v, cdl_error *err) {
  if (v->wh >= 0 && v->files[v->n_files - 1].records < v->blocks_per_file) return CDL_OK;
  /* A full file is made durable as it is left: a sync only reaches the
   * file being written. */
  int synced = cdl_volatile_sync(v, err);
  if (synced != CDL_OK) return synced;
  close_writer(v);
  if (v->next_number > UINT32_MAX)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "volatile DB: no file numbers left in %s",
                         v->dir);
  int rc = reserve_file(v, err);
  if (rc != CDL_OK) return rc;
  char path[PATH_CAP];
  file_path(v, (uint32_t)v->next_number, path);
  rc = cdl_fs_open(v->fs, path, CDL_FS_WRITE | CDL_FS_CREATE | CDL_FS_TRUNC, &v->wh, err);
  if (rc != CDL_OK) {
    v->wh = -1;
    return rc;
  }
  v->files[v->n_files++] = (vfile){.number = (uint32_t)v->next_number};
  v->next_number++;
  v->dir_dirty = true;
  return CDL_OK;
}

/* The record of |bytes| appended to |into| ("CDLV", length, CRC, bytes). */
static int encode_record(cdl_buf *into, const uint8_t *bytes, size_t len, cdl_error *err) {
  size_t need = RECORD_HEADER + len;
  if (cdl_buf_reserve(into, need) != CDL_OK) /* what it held stays good */
    return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: out of memory");
  uint8_t *head = into->data + into->len;
  memcpy(head, MAGIC, 4);
  put_le32(head + 4, (uint32_t)len);
  put_le32(head + 8, cdl_crc32(bytes, len));
  memcpy(head + RECORD_HEADER, bytes, len);
  into->len += need;
  return CDL_OK;
}

/* Writes the record of |bytes| at |off| of the file being written, in one
 * write, or (in a batch) gathers it. When the write fails nothing is kept:
 * the file is cut back to |off| if it can be, and whatever stays is a torn
 * record the next open cuts. */
static int write_record(cdl_volatile *v, uint64_t off, const uint8_t *bytes, size_t len,
                        cdl_error *err) {
  if (v->batch > 0) {
    if (v->pend.len == 0) v->pend_off = off;
    return encode_record(&v->pend, bytes, len, err);
  }
  cdl_buf_reset(&v->record);
  int rc = encode_record(&v->record, bytes, len, err);
  if (rc != CDL_OK) return rc;
  const cdl_fs_ops *ops = v->fs->ops;
  rc = ops->write_at(v->fs, v->wh, v->record.data, v->record.len, off, err);
  if (rc != CDL_OK) ops->truncate(v->fs, v->wh, off, NULL);
  if (rc == CDL_OK) v->unsynced = true;
  return rc;
}

void cdl_volatile_batch_begin(cdl_volatile *v) { v->batch++; }

int cdl_volatile_batch_end(cdl_volatile *v, cdl_error *err) {
  CDL_ASSERT(v->batch > 0);
  if (--v->batch > 0) return CDL_OK;
  return flush_pending(v, err);
}

static int refuse_read_only(const cdl_volatile *v, const char *what, cdl_error *err) {
  return cdl_error_set(err, CDL_E_USAGE, 0, "volatile DB %s: opened read-only, no %s", v->dir,
                       what);
}

int cdl_volatile_put(cdl_volatile *v, const uint8_t *bytes, size_t len,
                     const cdl_block_info *info, cdl_error *err) {
  if (v->read_only) return refuse_read_only(v, "put", err);
  if (len == 0 || len > CDL_CHUNK_MAX_BLOCK || len != info->size)
    return cdl_error_set(err, CDL_E_USAGE, 0, "volatile put: %zu bytes, info says %u", len,
                         (unsigned)info->size);
  if (cdl_volatile_index_find(&v->idx, info->hash) != CDL_VOLATILE_NONE) return CDL_OK;
  int rc = cdl_volatile_index_reserve(&v->idx);
  if (rc == CDL_E_LIMIT)
    return cdl_error_set(err, rc, 0, "volatile DB holds %zu blocks (the bound)", v->idx.max);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "volatile DB: out of memory");
  if ((rc = writer_ready(v, err)) != CDL_OK) return rc;
  vfile *f = &v->files[v->n_files - 1];
  if ((rc = write_record(v, f->size, bytes, len, err)) != CDL_OK) return rc;
  vrecent_put(&v->recent, info->hash, bytes, len);
  cdl_volatile_index_add(&v->idx, info, f->number, f->size);
  if (f->records == 0 || info->slot > f->max_slot) f->max_slot = info->slot;
  f->records++;
  f->live++;
  f->size += RECORD_HEADER + len;
  return CDL_OK;
}

int cdl_volatile_sync(cdl_volatile *v, cdl_error *err) {
  if (v->wh < 0) return CDL_OK;
  int rc = flush_pending(v, err);
  if (rc != CDL_OK || !v->unsynced) return rc;
  rc = v->fs->ops->sync(v->fs, v->wh, err);
  if (rc == CDL_OK) v->unsynced = false;
  if (rc == CDL_OK && v->dir_dirty) rc = v->fs->ops->sync_dir(v->fs, v->dir, err);
  if (rc == CDL_OK) v->dir_dirty = false;
  return rc;
}

/* ---- Reading ------------------------------------------------------------------ */

bool cdl_volatile_info(const cdl_volatile *v, const uint8_t hash[32], cdl_block_info *info) {
  uint32_t i = cdl_volatile_index_find(&v->idx, hash);
  if (i == CDL_VOLATILE_NONE) return false;
  if (info != NULL) *info = v->idx.e[i].info;
  return true;
}

static int read_record(cdl_volatile *v, int h, const cdl_volatile_entry *e, uint8_t *dst,
                       const char *path, cdl_error *err) {
  /* One read for header and body; |dst| has room for both (the caller
   * reserves RECORD_HEADER more), the body is moved down after the check. */
  uint8_t head[RECORD_HEADER];
  uint32_t len = e->info.size;
  int rc = cdl_fs_read_exact(v->fs, h, dst, RECORD_HEADER + (size_t)len, e->offset, err);
  if (rc == CDL_OK) {
    memcpy(head, dst, RECORD_HEADER);
    memmove(dst, dst + RECORD_HEADER, len);
  }
  if (rc == CDL_E_TRUNCATED)
    return cdl_error_set(err, CDL_E_CHECKSUM, (size_t)e->offset,
                         "%s: the record at %llu was cut short on disk", path,
                         (unsigned long long)e->offset);
  if (rc != CDL_OK) return rc;
  if (memcmp(head, MAGIC, 4) != 0 || le32(head + 4) != len || le32(head + 8) != cdl_crc32(dst, len))
    return cdl_error_set(err, CDL_E_CHECKSUM, (size_t)e->offset,
                         "%s: the record at %llu changed on disk (magic, length or CRC)", path,
                         (unsigned long long)e->offset);
  return CDL_OK;
}

/* The body of |e| while its record is still gathered in a batch, or NULL. */
static const uint8_t *pending_record(const cdl_volatile *v, const cdl_volatile_entry *e) {
  if (v->pend.len == 0 || e->file != v->files[v->n_files - 1].number || e->offset < v->pend_off)
    return NULL;
  return v->pend.data + (e->offset - v->pend_off) + RECORD_HEADER;
}

/* A handle on file |number|: opened for this read, or (with cache_reads)
 * the writer's or the cached reader's. */
static int read_handle(cdl_volatile *v, uint32_t number, const char *path, int *h,
                       cdl_error *err) {
  if (!v->cache_reads) return cdl_fs_open(v->fs, path, CDL_FS_READ, h, err);
  if (v->wh >= 0 && v->files[v->n_files - 1].number == number) return *h = v->wh, CDL_OK;
  if (v->rh >= 0 && v->rh_file == number) return *h = v->rh, CDL_OK;
  close_reader(v);
  int rc = cdl_fs_open(v->fs, path, CDL_FS_READ, &v->rh, err);
  if (rc != CDL_OK) return v->rh = -1, rc;
  v->rh_file = number;
  *h = v->rh;
  return CDL_OK;
}

int cdl_volatile_read(cdl_volatile *v, const uint8_t hash[32], cdl_buf *out, cdl_error *err) {
  uint32_t i = cdl_volatile_index_find(&v->idx, hash);
  if (i == CDL_VOLATILE_NONE)
    return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "volatile DB: no such block");
  const cdl_volatile_entry *e = &v->idx.e[i];
  if (cdl_buf_reserve(out, (size_t)e->info.size + RECORD_HEADER) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: no room for a %u-byte block",
                         (unsigned)e->info.size);
  size_t len;
  const uint8_t *kept = vrecent_get(&v->recent, hash, &len);
  if (kept != NULL && len == e->info.size) { /* written by this process: as it was put */
    memcpy(out->data + out->len, kept, len);
    out->len += len;
    return CDL_OK;
  }
  const uint8_t *gathered = pending_record(v, e);
  if (gathered != NULL) { /* in this batch, not written yet */
    memcpy(out->data + out->len, gathered, e->info.size);
    out->len += e->info.size;
    return CDL_OK;
  }
  char path[PATH_CAP];
  file_path(v, e->file, path);
  int h;
  int rc = read_handle(v, e->file, path, &h, err);
  if (rc != CDL_OK) return rc;
  rc = read_record(v, h, e, out->data + out->len, path, err);
  if (!v->cache_reads) cdl_fs_close(v->fs, h);
  if (rc == CDL_OK) out->len += e->info.size;
  return rc;
}

size_t cdl_volatile_successors(const cdl_volatile *v, const uint8_t prev_hash[32],
                               uint8_t (*out)[32], size_t max) {
  return cdl_volatile_index_successors(&v->idx, prev_hash, out, max);
}

/* ---- Garbage collection ------------------------------------------------------- */

int cdl_volatile_gc(cdl_volatile *v, uint64_t slot, cdl_error *err) {
  if (v->read_only) return refuse_read_only(v, "garbage collection", err);
  int flushed = flush_pending(v, err); /* a file it removes may be the one gathered for */
  if (flushed != CDL_OK) return flushed;
  cdl_volatile_index *x = &v->idx;
  for (uint32_t i = 0; i < x->used; i++) {
    if (!x->e[i].live || x->e[i].info.slot >= slot) continue;
    vfile *f = find_file(v, x->e[i].file);
    if (f != NULL) f->live--;
    cdl_volatile_index_remove(x, i);
  }
  int rc = CDL_OK;
  size_t kept = 0;
  for (size_t k = 0; k < v->n_files; k++) {
    vfile *f = &v->files[k];
    bool current = v->wh >= 0 && k == v->n_files - 1;
    bool old = f->records == 0 ? !current : f->max_slot < slot;
    if (old) {
      char path[PATH_CAP];
      file_path(v, f->number, path);
      if (current) close_writer(v);
      if (v->rh >= 0 && v->rh_file == f->number) close_reader(v);
      int r = v->fs->ops->remove(v->fs, path, err);
      if (r == CDL_OK) continue;
      if (rc == CDL_OK) rc = r; /* keep it listed; the next gc tries again */
    }
    v->files[kept++] = *f;
  }
  v->n_files = kept;
  return rc;
}

void cdl_volatile_stats_get(const cdl_volatile *v, cdl_volatile_stats *s) {
  memset(s, 0, sizeof *s);
  s->blocks = v->idx.count;
  s->files = v->n_files;
  for (size_t k = 0; k < v->n_files; k++) s->bytes += v->files[k].size;
  s->damaged_files = v->damaged_files;
  s->dropped_bytes = v->dropped_bytes;
  s->torn_bytes = v->torn_bytes;
}

/* ---- Dropping the blocks after a slot (db truncate) ---------------------- */

/* Stores the blocks of file |number| with slot <= |slot| again (in the
 * file being written) and forgets the whole file's entries. */
static int restore_kept(cdl_volatile *v, uint32_t number, uint64_t slot, cdl_buf *bytes,
                        cdl_error *err) {
  cdl_volatile_index *x = &v->idx;
  for (uint32_t i = 0; i < x->used; i++) {
    if (!x->e[i].live || x->e[i].file != number) continue;
    cdl_block_info info = x->e[i].info;
    bool keep = info.slot <= slot;
    cdl_buf_reset(bytes);
    int rc = keep ? cdl_volatile_read(v, info.hash, bytes, err) : CDL_OK;
    if (rc != CDL_OK) return rc;
    vfile *f = find_file(v, number);
    if (f != NULL) f->live--;
    cdl_volatile_index_remove(x, i);
    if (keep && (rc = cdl_volatile_put(v, bytes->data, bytes->len, &info, err)) != CDL_OK)
      return rc;
  }
  return CDL_OK;
}

static void forget_file(cdl_volatile *v, uint32_t number) {
  size_t kept = 0;
  for (size_t k = 0; k < v->n_files; k++)
    if (v->files[k].number != number) v->files[kept++] = v->files[k];
  v->n_files = kept;
}

int cdl_volatile_drop_after(cdl_volatile *v, uint64_t slot, cdl_error *err) {
  if (v->read_only) return refuse_read_only(v, "drop", err);
  int rc = flush_pending(v, err);
  if (rc != CDL_OK) return rc;
  close_writer(v); /* kept blocks go to a fresh file, never one being rewritten */
  uint32_t *affected = malloc((v->n_files ? v->n_files : 1) * sizeof *affected);
  if (affected == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "volatile DB: out of memory");
  size_t n = 0;
  for (size_t k = 0; k < v->n_files; k++)
    if (v->files[k].max_slot > slot) affected[n++] = v->files[k].number;
  cdl_buf bytes;
  cdl_buf_init(&bytes, 0);
  for (size_t a = 0; a < n && rc == CDL_OK; a++) {
    rc = restore_kept(v, affected[a], slot, &bytes, err);
    /* The copies are durable before the old file goes: a crash leaves
     * both, never neither. */
    if (rc == CDL_OK) rc = cdl_volatile_sync(v, err);
    char path[PATH_CAP];
    file_path(v, affected[a], path);
    if (v->rh >= 0 && v->rh_file == affected[a]) close_reader(v);
    if (rc == CDL_OK) rc = v->fs->ops->remove(v->fs, path, err);
    if (rc == CDL_OK) forget_file(v, affected[a]);
  }
  cdl_buf_free(&bytes);
  free(affected);
  return rc;
}
