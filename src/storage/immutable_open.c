/*
 * immutable_open.c: opening the immutable DB (docs/storage.md, "Opening
 * and recovery"). The last chunk's index is read whole and checked against
 * the chunk, and its tail block re-read and its CRC checked; the chunks
 * before it are judged by their index's ends (quick_chunk) and their
 * entries checked when first read (every chunk is re-parsed with
 * validate_all). Damage is repaired, never fatal:
 * a torn or corrupt block and everything after it are cut off, indexes
 * that disagree with their chunk are rebuilt from it. A chunk file that is
 * missing is not damage: the open is refused before anything changes
 * (immutable_missing.c; docs/storage.md "Missing files").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "immutable_internal.h"

typedef struct name_list {
  uint32_t *nos;
  size_t n, cap;
} name_list;

/* The chunk files and the index files of the directory. */
typedef struct dir_names {
  name_list chunks, indexes;
  bool failed;
} dir_names;

/* Chunk files are NNNNN.chunk (five or more digits, as cardano-node). */
static bool parse_chunk_name(const char *name, const char *ext, uint32_t *no) {
  size_t digits = strspn(name, "0123456789");
  if (digits < 5 || digits > 8 || name[digits] != '.' || strcmp(name + digits + 1, ext) != 0)
    return false;
  *no = (uint32_t)strtoul(name, NULL, 10);
  return true;
}

static int push_name(name_list *l, uint32_t no) {
  if (l->n == l->cap) {
    size_t ncap = l->cap ? 2 * l->cap : 64;
    uint32_t *grown = realloc(l->nos, ncap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    l->nos = grown;
    l->cap = ncap;
  }
  l->nos[l->n++] = no;
  return CDL_OK;
}

static int collect_name(void *ctx, const char *name) {
  dir_names *d = ctx;
  uint32_t no;
  name_list *l = parse_chunk_name(name, "chunk", &no)  ? &d->chunks
                 : parse_chunk_name(name, "cidx", &no) ? &d->indexes
                                                       : NULL;
  if (l != NULL && push_name(l, no) != CDL_OK) return d->failed = true, CDL_E_NOMEM;
  return CDL_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void sort_names(name_list *l) {
  if (l->n > 1) qsort(l->nos, l->n, sizeof *l->nos, cmp_u32);
}

/* The index goes first: an index without its chunk is never what a crash
 * leaves, so it proves a chunk file missing (immutable_missing.c). */
static int remove_chunk_files(cdl_immutable *im, uint32_t no, cdl_error *err) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "cidx", path);
  int rc = im->fs->ops->remove(im->fs, path, err);
  imm_chunk_path(im, no, "chunk", path);
  if (rc == CDL_OK) rc = im->fs->ops->remove(im->fs, path, err);
  return rc;
}

static int file_size(cdl_immutable *im, uint32_t no, uint64_t *size, cdl_error *err) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "chunk", path);
  int h;
  int rc = cdl_fs_open(im->fs, path, CDL_FS_READ, &h, err);
  if (rc != CDL_OK) return rc;
  rc = im->fs->ops->size(im->fs, h, size, err);
  cdl_fs_close(im->fs, h);
  return rc;
}

static int cut_chunk(cdl_immutable *im, uint32_t no, uint64_t size, cdl_error *err) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "chunk", path);
  int h;
  int rc = cdl_fs_open(im->fs, path, CDL_FS_WRITE, &h, err);
  if (rc != CDL_OK) return rc;
  rc = im->fs->ops->truncate(im->fs, h, size, err);
  if (rc == CDL_OK) rc = im->fs->ops->sync(im->fs, h, err);
  cdl_fs_close(im->fs, h);
  return rc;
}

/* Whether the last indexed block is whole and matches its CRC; a failure
 * to look (no descriptor, I/O) is an error, not damage. */
static int tail_ok(cdl_immutable *im, uint32_t no, const imm_entry *last, bool *ok,
                   cdl_error *err) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "chunk", path);
  int h;
  *ok = false;
  CDL_TRY(cdl_fs_open(im->fs, path, CDL_FS_READ, &h, err));
  uint8_t *buf = malloc(last->size);
  int rc = buf ? CDL_OK : cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  cdl_error local = {0};
  if (rc == CDL_OK) rc = cdl_fs_read_exact(im->fs, h, buf, last->size, last->offset, &local);
  if (rc == CDL_E_TRUNCATED) rc = CDL_OK; /* damage: *ok stays false */
  else if (rc == CDL_OK) *ok = cdl_crc32(buf, last->size) == last->crc;
  else if (rc != CDL_E_NOMEM) rc = cdl_error_set(err, rc, 0, "%s", local.message);
  free(buf);
  cdl_fs_close(im->fs, h);
  return rc;
}

static int add_chunk(cdl_immutable *im, const imm_chunk *chunk) {
  if (im->n_chunks == im->cap_chunks) {
    size_t ncap = im->cap_chunks ? 2 * im->cap_chunks : 64;
    imm_chunk *grown = realloc(im->chunks, ncap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    im->chunks = grown;
    im->cap_chunks = ncap;
  }
  imm_chunk *c = &im->chunks[im->n_chunks++];
  *c = *chunk;
  c->used_tick = ++im->tick;
  c->size = c->last.offset + c->last.size;
  im->blocks += c->count;
  im->bytes += c->size;
  return CDL_OK;
}

static int push_chunk(cdl_immutable *im, uint32_t no, imm_entry *entries, size_t count) {
  imm_chunk c = {.no = no, .count = (uint32_t)count, .first = entries[0],
                 .last = entries[count - 1], .entries = entries};
  return add_chunk(im, &c);
}

/* ---- Chunks before the last, judged without reading every entry ---- */

/* Entry |i| of the index open as |h|; false when it cannot be read or is
 * not a well-formed entry (its own CRC included). */
static bool entry_at(cdl_immutable *im, int h, size_t i, imm_entry *e) {
  uint8_t raw[IMM_ENTRY_SIZE];
  cdl_error ignored = {0};
  return cdl_fs_read_exact(im->fs, h, raw, sizeof raw, IMM_INDEX_HEADER + i * IMM_ENTRY_SIZE,
                           &ignored) == CDL_OK &&
         imm_entry_decode(raw, e);
}

/* The header, size, first and last entries of chunk |no|'s index: *n
 * entries when they are what a whole index has; false otherwise. */
static bool index_ends(cdl_immutable *im, uint32_t no, imm_entry *first, imm_entry *last,
                       size_t *n) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "cidx", path);
  int h;
  cdl_error ignored = {0};
  if (cdl_fs_open(im->fs, path, CDL_FS_READ, &h, &ignored) != CDL_OK) return false;
  uint64_t size = 0;
  uint8_t header[IMM_INDEX_HEADER], want[IMM_INDEX_HEADER];
  imm_index_header(no, want);
  bool ok = im->fs->ops->size(im->fs, h, &size, &ignored) == CDL_OK &&
            size >= IMM_INDEX_HEADER + IMM_ENTRY_SIZE &&
            (size - IMM_INDEX_HEADER) % IMM_ENTRY_SIZE == 0 &&
            cdl_fs_read_exact(im->fs, h, header, sizeof header, 0, &ignored) == CDL_OK &&
            memcmp(header, want, sizeof want) == 0;
  *n = ok ? (size_t)((size - IMM_INDEX_HEADER) / IMM_ENTRY_SIZE) : 0;
  ok = ok && entry_at(im, h, 0, first) && entry_at(im, h, *n - 1, last);
  cdl_fs_close(im->fs, h);
  return ok;
}

/* A chunk before the last, judged by its index's ends: the header and the
 * file's size, the first entry following |prev| at offset 0, the last one
 * ending where the chunk file does, both in this chunk's epoch, and as
 * many entries as block numbers between them (an epoch's EBB comes first
 * and repeats the number before it). Every entry is checked when the
 * chunk is first read (imm_chunk_entries), which rebuilds an index that
 * disagrees with its chunk then; `--validate-all` checks them all now.
 * This is cardano-node's default too (ValidateMostRecentChunk): an open
 * costs per chunk, not per block (docs/performance.md "Restart"). false:
 * the whole chunk is looked at now (recover_chunk). */
static bool quick_chunk(cdl_immutable *im, uint32_t no, const imm_entry *prev, imm_chunk *out) {
  imm_entry first, last;
  size_t n;
  if (!index_ends(im, no, &first, &last, &n)) return false;
  const char *why;
  uint64_t bytes = 0, epoch_slots = im->cfg.epoch_slots;
  cdl_error ignored = {0};
  bool ok = first.offset == 0 && first.slot / epoch_slots == no && last.slot / epoch_slots == no &&
            imm_entry_follows(prev, &first, &why) && last.slot >= first.slot &&
            last.block_no >= first.block_no && last.block_no - first.block_no + 1 == n &&
            (n == 1 ? imm_entry_equal(&first, &last) : last.offset > 0) &&
            file_size(im, no, &bytes, &ignored) == CDL_OK && bytes == last.offset + last.size;
  if (ok) *out = (imm_chunk){.no = no, .count = (uint32_t)n, .first = first, .last = last};
  return ok;
}

/* One chunk being brought into agreement with its index. |last|: the
 * chunk appends go to, the only one a crash can leave unfinished. */
typedef struct recovery {
  imm_entry *entries;
  size_t count;
  bool last;
  uint64_t indexed_bytes; /* what the index said the chunk held */
  bool residue; /* nothing in it but what an interrupted append left */
} recovery;

/* The end of the last chunk cut short by a crash (its last block written
 * in part) is residue; anywhere else a block that does not parse is
 * damage. A block written in part always lies past what the index knew,
 * since entries are written after their blocks: bytes the index vouched
 * for and that are gone or changed are damage. Either way the good prefix
 * is kept. */
static bool note_cut(const recovery *r, const imm_scan *scan, uint64_t size,
                     cdl_immutable_report *rep) {
  uint64_t cut = size - scan->valid_bytes;
  if (r->last && scan->torn && scan->valid_bytes >= r->indexed_bytes) {
    rep->torn_bytes += cut;
    return true;
  }
  if (rep->problem[0] == '\0') snprintf(rep->problem, sizeof rep->problem, "%s", scan->problem);
  /* A chunk with nothing valid is removed, not truncated (removed_chunks). */
  if (scan->valid_bytes > 0) rep->truncated_bytes += cut;
  return false;
}

/* Re-parses the chunk (from |from|, after the |keep| good entries). */
static int rescan(cdl_immutable *im, uint32_t no, const imm_entry *prev, recovery *r,
                  size_t keep, uint64_t size, cdl_immutable_report *rep, cdl_error *err) {
  imm_scan scan;
  uint64_t from = keep ? r->entries[keep - 1].offset + r->entries[keep - 1].size : 0;
  int rc = imm_scan_chunk(im, no, from, keep ? &r->entries[keep - 1] : prev, &scan, err);
  if (rc != CDL_OK) return rc;
  if (scan.valid_bytes < size) {
    bool torn = note_cut(r, &scan, size, rep);
    r->residue = torn && keep + scan.count == 0;
    const imm_entry *kept = scan.count ? &scan.entries[scan.count - 1]
                            : keep     ? &r->entries[keep - 1]
                                       : prev;
    rc = imm_before_cut(im, kept, err);
    if (rc == CDL_OK && !im->cfg.read_only) rc = cut_chunk(im, no, scan.valid_bytes, err);
  }
  imm_entry *all = realloc(r->entries, (keep + scan.count + 1) * sizeof *all);
  if (all == NULL) rc = cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for chunk %05u", no);
  else {
    if (scan.count) memcpy(all + keep, scan.entries, scan.count * sizeof *all);
    r->entries = all;
    r->count = keep + scan.count;
  }
  free(scan.entries);
  return rc;
}

static bool same_entries(const imm_entry *a, const imm_entry *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!imm_entry_equal(&a[i], &b[i])) return false;
  return true;
}

/* A block that differs from its index entry (each entry carries its own
 * CRC, so the entry is what was written) was damaged where neither its
 * structure nor its proofs show it: cut there. */
static int cut_at_crc_mismatch(cdl_immutable *im, uint32_t no, const imm_entry *prev,
                               const imm_entry *old, size_t n_old, recovery *r,
                               cdl_immutable_report *rep, cdl_error *err) {
  for (size_t i = 0; i < n_old && i < r->count; i++) {
    const imm_entry *b = &r->entries[i];
    if (imm_entry_equal(&old[i], b)) continue;
    /* Earlier than wherever the parse stopped: this is the first damage. */
    snprintf(rep->problem, sizeof rep->problem,
             "chunk %05u: block %zu at offset %llu differs from its index entry", no, i,
             (unsigned long long)b->offset);
    uint64_t size = r->entries[r->count - 1].offset + r->entries[r->count - 1].size;
    rep->truncated_bytes += size - b->offset;
    r->count = i;
    CDL_TRY(imm_before_cut(im, i ? &r->entries[i - 1] : prev, err));
    return im->cfg.read_only ? CDL_OK : cut_chunk(im, no, b->offset, err);
  }
  return CDL_OK;
}

/* Brings one chunk and its index into agreement. An index is derived
 * data, rebuilt whenever it disagrees with its chunk; for the last chunk
 * an index behind its chunk (blocks are written before their entries), cut
 * short, or past a chunk a crash cut is the ordinary state after a crash. */
static int recover_chunk(cdl_immutable *im, uint32_t no, const imm_entry *prev, recovery *r,
                         cdl_immutable_report *rep, cdl_error *err) {
  bool clean, last = r->last;
  uint64_t size;
  CDL_TRY(imm_index_load(im, no, prev, &r->entries, &r->count, &clean, err));
  CDL_TRY(file_size(im, no, &size, err));
  if (size == 0 && last) { /* made, never written (whatever its index says) */
    free(r->entries);
    r->entries = NULL;
    r->count = 0;
    r->residue = true;
    return CDL_OK;
  }
  size_t indexed = r->count;
  uint64_t covered = indexed ? r->entries[indexed - 1].offset + r->entries[indexed - 1].size : 0;
  r->indexed_bytes = covered;
  bool tail_good = true;
  if (last && indexed && covered <= size)
    CDL_TRY(tail_ok(im, no, &r->entries[indexed - 1], &tail_good, err));
  bool whole = im->cfg.validate_all || !clean || covered > size || !tail_good;
  imm_entry *old = NULL;
  if (whole && indexed) {
    old = r->entries; /* kept to tell whether the index changes */
    r->entries = NULL;
    r->count = 0;
  }
  int rc = CDL_OK;
  if (whole || covered < size) rc = rescan(im, no, prev, r, whole ? 0 : indexed, size, rep, err);
  if (rc == CDL_OK && old != NULL) rc = cut_at_crc_mismatch(im, no, prev, old, indexed, r, rep, err);
  bool changed = whole ? !(clean && r->count == indexed && same_entries(old, r->entries, indexed))
                       : r->count != indexed;
  free(old);
  if (rc == CDL_OK && changed && r->count > 0) {
    if (!im->cfg.read_only) rc = imm_index_write(im, no, r->entries, r->count, err);
    if (im->cfg.read_only && !last && rep->problem[0] == '\0')
      snprintf(rep->problem, sizeof rep->problem, "chunk %05u: index disagrees with the chunk", no);
    rep->indexes_rebuilt++;
  }
  return rc;
}

/* A last chunk holding nothing but residue goes, and nothing is wrong. */
static int drop_residue_chunk(cdl_immutable *im, uint32_t no, cdl_immutable_report *rep,
                              cdl_error *err) {
  rep->empty_chunks++;
  return im->cfg.read_only ? CDL_OK : remove_chunk_files(im, no, err);
}

/* Only the tip chunk's entries stay in memory; freeing the others as soon
 * as the next chunk is in lets the allocator reuse their memory rather than
 * fault in fresh pages for every chunk. */
static void drop_before_tip(cdl_immutable *im) {
  if (im->n_chunks < 2) return;
  free(im->chunks[im->n_chunks - 2].entries);
  im->chunks[im->n_chunks - 2].entries = NULL;
}

/* Chunk names[from] and every later one no longer follow the chain: they
 * are removed, the last first, so that a crash part way leaves a prefix of
 * the chunks and never a gap (read-only: left out). */
static int remove_from(cdl_immutable *im, const name_list *names, size_t from,
                       const imm_entry *prev, cdl_immutable_report *rep, cdl_error *err) {
  if (rep->problem[0] == '\0')
    snprintf(rep->problem, sizeof rep->problem, "chunk %05u does not follow the chain",
             names->nos[from]);
  rep->removed_chunks += (uint32_t)(names->n - from);
  CDL_TRY(imm_before_cut(im, prev, err));
  for (size_t i = names->n; i-- > from && !im->cfg.read_only;)
    CDL_TRY(remove_chunk_files(im, names->nos[i], err));
  return CDL_OK;
}

/* Whether anything so far was cut as damage: a chunk after a damaged one
 * cannot follow it, gap or no gap. */
static bool damage_seen(const cdl_immutable_report *rep) {
  return rep->problem[0] != '\0' || rep->truncated_bytes > 0;
}

/* Chunks are taken in order while each links to the one before (its first
 * block follows the previous chunk's last, the first chunk's follows the
 * genesis): a chunk cut short leaves every later chunk without a link, and
 * they are removed. A chunk that does not follow across a gap in the
 * numbers proves the chunks of the gap missing: the open refuses. */
static int load_chunks(cdl_immutable *im, const name_list *names, cdl_immutable_report *rep,
                       cdl_error *err) {
  imm_entry root = {.is_root = true};
  memcpy(root.hash, im->cfg.genesis_hash, 32);
  const imm_entry *prev = im->cfg.check_genesis ? &root : NULL;
  for (size_t i = 0; i < names->n; i++) {
    uint32_t no = names->nos[i];
    uint32_t expected = im->n_chunks ? im->chunks[im->n_chunks - 1].no + 1 : 0;
    recovery r = {.last = i + 1 == names->n};
    int rc = CDL_OK;
    if (!damage_seen(rep)) rc = imm_check_gap(im, no, expected, prev, err);
    imm_chunk quick;
    if (rc == CDL_OK && !r.last && !im->cfg.validate_all && no <= IMM_MAX_CHUNK_NO &&
        quick_chunk(im, no, prev, &quick)) {
      if (add_chunk(im, &quick) != CDL_OK)
        return cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for chunk %05u", no);
      prev = &im->chunks[im->n_chunks - 1].last;
      continue;
    }
    if (rc == CDL_OK && no <= IMM_MAX_CHUNK_NO) rc = recover_chunk(im, no, prev, &r, rep, err);
    if (rc == CDL_OK && r.count == 0 && r.residue) {
      rc = drop_residue_chunk(im, no, rep, err);
    } else if (rc == CDL_OK && r.count == 0) {
      free(r.entries);
      return remove_from(im, names, i, prev, rep, err); /* nothing after this can link */
    } else if (rc == CDL_OK && push_chunk(im, no, r.entries, r.count) != CDL_OK) {
      rc = cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for chunk %05u", no);
    } else if (rc == CDL_OK) {
      r.entries = NULL; /* the chunk owns them */
      drop_before_tip(im);
    }
    free(r.entries);
    if (rc != CDL_OK) return rc;
    if (im->n_chunks) prev = &im->chunks[im->n_chunks - 1].last;
  }
  return CDL_OK;
}

static void drop_cached_entries(cdl_immutable *im) {
  /* Keep only the tip chunk's entries in memory after open. */
  for (size_t i = 0; i + 1 < im->n_chunks; i++) {
    free(im->chunks[i].entries);
    im->chunks[i].entries = NULL;
  }
  if (im->n_chunks) im->cap_tip = im->chunks[im->n_chunks - 1].count;
}

int cdl_immutable_open(cdl_fs *fs, const char *dir, const cdl_immutable_config *cfg,
                       cdl_immutable **out, cdl_immutable_report *rep, cdl_error *err) {
  cdl_immutable_report ignored;
  if (rep == NULL) rep = &ignored;
  memset(rep, 0, sizeof *rep);
  if (cfg->epoch_slots == 0 || strlen(dir) >= IMM_DIR_MAX)
    return cdl_error_set(err, CDL_E_USAGE, 0, "immutable: epoch_slots 0 or path too long");
  cdl_immutable *im = calloc(1, sizeof *im);
  if (im == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  im->fs = fs;
  im->cfg = *cfg;
  if (im->cfg.cached_chunks == 0) im->cfg.cached_chunks = 8;
  im->chunk_handle = im->index_handle = im->read_handle = -1;
  cdl_buf_init(&im->pend_chunk, 0);
  cdl_buf_init(&im->pend_index, 0);
  snprintf(im->dir, sizeof im->dir, "%s", dir);
  dir_names names = {0};
  int rc = cfg->read_only ? CDL_OK : fs->ops->mkdir(fs, dir, err);
  bool none = cfg->read_only && !fs->ops->exists(fs, dir); /* a reader: nothing yet */
  if (rc == CDL_OK && !none) rc = fs->ops->list(fs, dir, collect_name, &names, err);
  if (rc != CDL_OK && names.failed) rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  sort_names(&names.chunks);
  sort_names(&names.indexes);
  if (rc == CDL_OK)
    rc = imm_check_indexes_alone(im, names.chunks.nos, names.chunks.n, names.indexes.nos,
                                 names.indexes.n, err);
  if (rc == CDL_OK) rc = load_chunks(im, &names.chunks, rep, err);
  free(names.chunks.nos);
  free(names.indexes.nos);
  if (rc != CDL_OK) {
    cdl_immutable_close(im);
    return rc;
  }
  drop_cached_entries(im);
  imm_mark_flushed(im);
  rep->chunks = (uint32_t)im->n_chunks;
  rep->blocks = im->blocks;
  *out = im;
  return CDL_OK;
}

int cdl_immutable_drop_epochs_after(cdl_fs *fs, const char *dir, uint64_t epoch_slots,
                                    uint64_t slot, cdl_error *err) {
  if (epoch_slots == 0 || strlen(dir) >= IMM_DIR_MAX)
    return cdl_error_set(err, CDL_E_USAGE, 0, "immutable: epoch_slots 0 or path too long");
  if (!fs->ops->exists(fs, dir)) return CDL_OK;
  dir_names names = {0};
  int rc = fs->ops->list(fs, dir, collect_name, &names, err);
  if (rc != CDL_OK && names.failed) rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  sort_names(&names.chunks);
  sort_names(&names.indexes);
  uint64_t keep = slot / epoch_slots;
  char path[IMM_PATH_MAX];
  /* Every index first: none may outlive its chunk. */
  for (size_t i = names.indexes.n; rc == CDL_OK && i-- > 0 && names.indexes.nos[i] > keep;) {
    snprintf(path, sizeof path, "%s/%05u.cidx", dir, names.indexes.nos[i]);
    rc = fs->ops->remove(fs, path, err);
  }
  for (size_t i = names.chunks.n; rc == CDL_OK && i-- > 0 && names.chunks.nos[i] > keep;) {
    snprintf(path, sizeof path, "%s/%05u.chunk", dir, names.chunks.nos[i]);
    rc = fs->ops->remove(fs, path, err);
  }
  if (rc == CDL_OK) rc = fs->ops->sync_dir(fs, dir, err);
  free(names.chunks.nos);
  free(names.indexes.nos);
  return rc;
}

void cdl_immutable_close(cdl_immutable *im) {
  if (im == NULL) return;
  cdl_error ignored = {0};
  (void)cdl_immutable_flush(im, &ignored); /* best effort: a caller that must know syncs first */
  cdl_buf_free(&im->pend_chunk);
  cdl_buf_free(&im->pend_index);
  if (im->chunk_handle >= 0) cdl_fs_close(im->fs, im->chunk_handle);
  if (im->index_handle >= 0) cdl_fs_close(im->fs, im->index_handle);
  if (im->read_handle >= 0) cdl_fs_close(im->fs, im->read_handle);
  for (size_t i = 0; i < im->n_chunks; i++) free(im->chunks[i].entries);
  free(im->chunks);
  free(im);
}
