/*
 * immutable_write.c: changes to the immutable DB (docs/storage.md):
 * appending after the tip (written behind, in batches: the chunk bytes
 * first, then their index entries, so that a crash leaves at worst blocks
 * the index does not know yet, which open re-indexes), syncing, truncating
 * to a slot, and the full check behind `db validate`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "immutable_internal.h"

static void close_tip_handles(cdl_immutable *im) {
  if (im->chunk_handle >= 0) cdl_fs_close(im->fs, im->chunk_handle);
  if (im->index_handle >= 0) cdl_fs_close(im->fs, im->index_handle);
  im->chunk_handle = im->index_handle = -1;
}

/* Opens (creating when |fresh|) chunk |no| and its index for appends. */
static int open_tip_handles(cdl_immutable *im, uint32_t no, bool fresh, cdl_error *err) {
  if (im->chunk_handle >= 0 && im->handle_chunk == no) return CDL_OK;
  close_tip_handles(im);
  if (im->read_handle >= 0 && im->read_chunk == no) {
    cdl_fs_close(im->fs, im->read_handle);
    im->read_handle = -1;
  }
  char path[IMM_PATH_MAX];
  unsigned flags = CDL_FS_WRITE | (fresh ? CDL_FS_CREATE | CDL_FS_TRUNC : 0);
  imm_chunk_path(im, no, "chunk", path);
  CDL_TRY(cdl_fs_open(im->fs, path, flags, &im->chunk_handle, err));
  imm_chunk_path(im, no, "cidx", path);
  int rc = cdl_fs_open(im->fs, path, flags | CDL_FS_CREATE, &im->index_handle, err);
  im->unsynced |= fresh; /* new directory entries */
  if (rc == CDL_OK && fresh) {
    uint8_t header[IMM_INDEX_HEADER];
    imm_index_header(no, header);
    rc = im->fs->ops->write_at(im->fs, im->index_handle, header, sizeof header, 0, err);
  }
  if (rc != CDL_OK) close_tip_handles(im);
  else im->handle_chunk = no;
  return rc;
}

static int grow_tip(cdl_immutable *im, imm_chunk *c) {
  if (c->count < im->cap_tip && c->entries != NULL) return CDL_OK;
  size_t ncap = im->cap_tip < 1024 ? 1024 : 2 * im->cap_tip;
  imm_entry *grown = realloc(c->entries, ncap * sizeof *grown);
  if (grown == NULL) return CDL_E_NOMEM;
  c->entries = grown;
  im->cap_tip = ncap;
  return CDL_OK;
}

int cdl_immutable_flush(cdl_immutable *im, cdl_error *err) {
  if (im->pend_chunk.len == 0) return CDL_OK;
  const imm_chunk *c = &im->chunks[im->n_chunks - 1];
  CDL_ASSERT(im->chunk_handle >= 0 && im->handle_chunk == c->no);
  const cdl_fs_ops *ops = im->fs->ops;
  CDL_TRY(ops->write_at(im->fs, im->chunk_handle, im->pend_chunk.data, im->pend_chunk.len,
                        im->flushed_size, err));
  CDL_TRY(ops->write_at(im->fs, im->index_handle, im->pend_index.data, im->pend_index.len,
                        IMM_INDEX_HEADER + (uint64_t)im->flushed_count * IMM_ENTRY_SIZE, err));
  im->flushed_count = c->count;
  im->flushed_size = c->size;
  im->unsynced = true;
  cdl_buf_reset(&im->pend_chunk);
  cdl_buf_reset(&im->pend_index);
  return CDL_OK;
}

/* Makes room for a block of chunk |no| at the end: a new chunk when the
 * block starts one. The tip chunk's entries stay in memory. */
static int tip_chunk_for(cdl_immutable *im, uint32_t no, imm_chunk **out, cdl_error *err) {
  imm_chunk *tip = im->n_chunks ? &im->chunks[im->n_chunks - 1] : NULL;
  if (tip != NULL && tip->no == no) {  /* its entries are never evicted */
    *out = tip;
    return open_tip_handles(im, no, false, err);
  }
  /* What is pending belongs to the old tip, which is made durable as it
   * is left: a sync reaches only the tip chunk's files. */
  CDL_TRY(cdl_immutable_sync(im, err));
  if (im->n_chunks == im->cap_chunks) {
    size_t ncap = im->cap_chunks ? 2 * im->cap_chunks : 64;
    imm_chunk *grown = realloc(im->chunks, ncap * sizeof *grown);
    if (grown == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
    im->chunks = grown;
    im->cap_chunks = ncap;
  }
  CDL_TRY(open_tip_handles(im, no, true, err));
  imm_chunk *c = &im->chunks[im->n_chunks];
  *c = (imm_chunk){.no = no};
  im->flushed_count = 0;
  im->flushed_size = 0;
  im->cap_tip = 0;
  if (grow_tip(im, c) != CDL_OK) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  im->n_chunks++;  /* count 0 until the first append lands */
  /* The old tip's entries join the cache of loaded chunks, bounded as any
   * (a sync made them its index's): kept, an import of the Byron era held
   * every block's entry, half a gigabyte (docs/performance.md). */
  imm_evict_one(im);
  *out = c;
  return CDL_OK;
}

static void entry_of(const cdl_block_info *info, const uint8_t *bytes, uint64_t offset,
                     imm_entry *e) {
  *e = (imm_entry){.slot = info->slot, .block_no = info->block_no, .offset = offset,
                   .size = info->size, .header_size = info->header_size,
                   .crc = cdl_crc32(bytes, info->size),
                   .header_crc = cdl_crc32(bytes + info->header_offset,
                                                 info->header_size),
                   .header_offset = (uint16_t)info->header_offset, .is_ebb = info->is_ebb};
  memcpy(e->hash, info->hash, 32);
  memcpy(e->prev_hash, info->prev_hash, 32);
}

static void drop_empty_tip(cdl_immutable *im) {
  imm_chunk *c = &im->chunks[im->n_chunks - 1];
  if (c->count > 0) return;
  free(c->entries);
  im->n_chunks--;
  close_tip_handles(im);
}

int cdl_immutable_append(cdl_immutable *im, const uint8_t *bytes, size_t len,
                         const cdl_block_info *info, cdl_error *err) {
  if (im->cfg.read_only)
    return cdl_error_set(err, CDL_E_USAGE, 0, "immutable append: opened read-only");
  if (len != info->size || len == 0 || len > CDL_CHUNK_MAX_BLOCK || info->header_offset > 0xffff ||
      (uint64_t)info->header_offset + info->header_size > len)
    return cdl_error_set(err, CDL_E_USAGE, 0, "immutable append: block size disagrees with info");
  imm_entry e;
  entry_of(info, bytes, 0, &e);
  const char *why = "";
  imm_entry root = {.is_root = true};
  memcpy(root.hash, im->cfg.genesis_hash, 32);
  const imm_entry *prev = im->n_chunks           ? &im->chunks[im->n_chunks - 1].last
                          : im->cfg.check_genesis ? &root
                                                  : NULL;
  if (!imm_entry_follows(prev, &e, &why))
    return cdl_error_set(err, CDL_E_PREV_HASH, 0, "immutable append: %s", why);
  uint64_t no64 = info->slot / im->cfg.epoch_slots;
  if (no64 > IMM_MAX_CHUNK_NO)
    return cdl_error_set(err, CDL_E_RANGE, 0, "immutable append: slot beyond the last chunk");
  /* Room first, so that a failure changes nothing. */
  if (im->pend_chunk.len + len > IMM_WRITE_BEHIND) CDL_TRY(cdl_immutable_flush(im, err));
  imm_chunk *c = NULL;
  CDL_TRY(tip_chunk_for(im, (uint32_t)no64, &c, err));
  e.offset = c->size;
  uint8_t raw[IMM_ENTRY_SIZE];
  imm_entry_encode(&e, raw);
  int rc = grow_tip(im, c) == CDL_OK &&
                   cdl_buf_reserve(&im->pend_chunk, len) == CDL_OK &&
                   cdl_buf_reserve(&im->pend_index, sizeof raw) == CDL_OK
               ? CDL_OK
               : cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  if (rc != CDL_OK) {
    drop_empty_tip(im);
    return rc;
  }
  cdl_buf_append(&im->pend_chunk, bytes, len); /* reserved: cannot fail */
  cdl_buf_append(&im->pend_index, raw, sizeof raw);
  c->entries[c->count++] = e;
  if (c->count == 1) c->first = e;
  c->last = e;
  c->size += len;
  c->used_tick = ++im->tick;
  im->blocks++;
  im->bytes += len;
  return CDL_OK;
}

int cdl_immutable_sync(cdl_immutable *im, cdl_error *err) {
  if (im->chunk_handle < 0) return CDL_OK;
  CDL_TRY(cdl_immutable_flush(im, err));
  if (!im->unsynced) return CDL_OK;
  CDL_TRY(im->fs->ops->sync(im->fs, im->chunk_handle, err));
  CDL_TRY(im->fs->ops->sync(im->fs, im->index_handle, err));
  CDL_TRY(im->fs->ops->sync_dir(im->fs, im->dir, err));
  im->unsynced = false;
  return CDL_OK;
}

/* ---- Truncation ------------------------------------------------------- */

/* Read-only, only the view is cut: the files stay as they are. */
static int cut_files(cdl_immutable *im, imm_chunk *c, uint32_t keep, cdl_error *err) {
  uint64_t size = keep < c->count ? c->entries[keep].offset : c->size;
  if (!im->cfg.read_only) {
    CDL_TRY(open_tip_handles(im, c->no, false, err));
    im->unsynced = true;
    CDL_TRY(im->fs->ops->truncate(im->fs, im->chunk_handle, size, err));
    CDL_TRY(im->fs->ops->truncate(im->fs, im->index_handle,
                                  IMM_INDEX_HEADER + (uint64_t)keep * IMM_ENTRY_SIZE, err));
  }
  im->blocks -= c->count - keep;
  im->bytes -= c->size - size;
  c->count = keep;
  c->size = size;
  c->last = c->entries[keep - 1];
  im->cap_tip = keep;
  return im->cfg.read_only ? CDL_OK : cdl_immutable_sync(im, err);
}

static int remove_last_chunk(cdl_immutable *im, cdl_error *err) {
  imm_chunk *c = &im->chunks[im->n_chunks - 1];
  close_tip_handles(im);
  if (im->read_handle >= 0) cdl_fs_close(im->fs, im->read_handle);
  im->read_handle = -1;
  char path[IMM_PATH_MAX];
  if (!im->cfg.read_only) {
    imm_chunk_path(im, c->no, "cidx", path);
    CDL_TRY(im->fs->ops->remove(im->fs, path, err));
    imm_chunk_path(im, c->no, "chunk", path);
    CDL_TRY(im->fs->ops->remove(im->fs, path, err));
  }
  im->blocks -= c->count;
  im->bytes -= c->size;
  free(c->entries);
  im->n_chunks--;
  return CDL_OK;
}

/* The new tip chunk's entries must be in memory: appends extend them. */
static int load_tip(cdl_immutable *im, cdl_error *err) {
  if (im->n_chunks == 0) return CDL_OK;
  imm_chunk *c = &im->chunks[im->n_chunks - 1];
  if (c->entries != NULL && im->cap_tip >= c->count) return CDL_OK;
  const imm_entry *entries;
  CDL_TRY(imm_chunk_entries(im, im->n_chunks - 1, &entries, err));
  im->cap_tip = c->count;
  return CDL_OK;
}

void imm_mark_flushed(cdl_immutable *im) {
  const imm_chunk *tip = im->n_chunks ? &im->chunks[im->n_chunks - 1] : NULL;
  im->flushed_count = tip ? tip->count : 0;
  im->flushed_size = tip ? tip->size : 0;
}

static int truncate_flushed(cdl_immutable *im, cdl_immutable_pos pos, cdl_error *err);

int cdl_immutable_truncate_before(cdl_immutable *im, cdl_immutable_pos pos, cdl_error *err) {
  if (pos.chunk >= im->n_chunks) return CDL_OK;
  CDL_TRY(cdl_immutable_flush(im, err)); /* then the files are the whole truth */
  int rc = truncate_flushed(im, pos, err);
  imm_mark_flushed(im);
  return rc;
}

/* The block that ends the immutable DB once it is cut before |pos|
 * (NULL: none), for imm_before_cut. */
static int kept_before(cdl_immutable *im, cdl_immutable_pos pos, const imm_entry **out,
                       cdl_error *err) {
  const imm_chunk *c = &im->chunks[pos.chunk];
  *out = pos.chunk ? &im->chunks[pos.chunk - 1].last : NULL;
  if (pos.index >= c->count) *out = &c->last;
  if (pos.index == 0 || pos.index >= c->count) return CDL_OK;
  const imm_entry *entries;
  CDL_TRY(imm_chunk_entries(im, pos.chunk, &entries, err));
  *out = &entries[pos.index - 1];
  return CDL_OK;
}

static int truncate_flushed(cdl_immutable *im, cdl_immutable_pos pos, cdl_error *err) {
  bool removed = im->n_chunks > pos.chunk + 1;
  const imm_entry *keep;
  if (removed || pos.index < im->chunks[pos.chunk].count) {
    CDL_TRY(kept_before(im, pos, &keep, err));
    CDL_TRY(imm_before_cut(im, keep, err));
  }
  while (im->n_chunks > pos.chunk + 1) CDL_TRY(remove_last_chunk(im, err));
  imm_chunk *c = &im->chunks[im->n_chunks - 1];
  if (removed) im->cap_tip = 0; /* the tip changed: its capacity is unknown */
  if (pos.index >= c->count) return load_tip(im, err);
  if (pos.index == 0) {
    CDL_TRY(remove_last_chunk(im, err));
    im->cap_tip = 0;
    CDL_TRY(load_tip(im, err));
    return im->cfg.read_only ? CDL_OK : im->fs->ops->sync_dir(im->fs, im->dir, err);
  }
  const imm_entry *entries;
  CDL_TRY(imm_chunk_entries(im, im->n_chunks - 1, &entries, err));
  return cut_files(im, c, pos.index, err);
}

int cdl_immutable_truncate_slot(cdl_immutable *im, uint64_t slot, cdl_error *err) {
  cdl_immutable_pos pos;
  cdl_error local = {0};
  if (slot == UINT64_MAX) return CDL_OK;
  int rc = cdl_immutable_find_slot(im, slot + 1, &pos, NULL, &local);
  if (rc == CDL_E_NOT_FOUND) return CDL_OK; /* nothing after the slot */
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "%s", local.message);
  return cdl_immutable_truncate_before(im, pos, err);
}

/* ---- The full check ------------------------------------------------------ */

/* Whether chunk |ci|'s scan and index agree with each other and with the
 * view. A reader of a live database (read-only) sees the owner append to
 * the last chunk as it looks: blocks written after the open, a block being
 * written, entries not written yet. Those are not damage. */
static bool chunk_agrees(const cdl_immutable *im, size_t ci, const imm_scan *scan,
                         const imm_entry *indexed, size_t n_indexed, bool clean, size_t *i) {
  const imm_chunk *c = &im->chunks[ci];
  size_t overlap = scan->count < n_indexed ? scan->count : n_indexed;
  *i = 0;
  while (*i < overlap && imm_entry_equal(&scan->entries[*i], &indexed[*i])) ++*i;
  if (*i < overlap) return false;
  if (ci + 1 == im->n_chunks && im->cfg.read_only)
    return (scan->problem[0] == '\0' || scan->torn) && scan->count >= c->count;
  return clean && scan->problem[0] == '\0' && scan->count == c->count && n_indexed == c->count;
}

int cdl_immutable_check_all(cdl_immutable *im, cdl_immutable_pos *bad, cdl_error *err) {
  CDL_TRY(cdl_immutable_flush(im, err));
  for (size_t ci = 0; ci < im->n_chunks; ci++) {
    imm_chunk *c = &im->chunks[ci];
    imm_entry root = {.is_root = true};
    memcpy(root.hash, im->cfg.genesis_hash, 32);
    const imm_entry *prev = ci                      ? &im->chunks[ci - 1].last
                            : im->cfg.check_genesis ? &root
                                                    : NULL;
    imm_scan scan;
    CDL_TRY(imm_scan_chunk(im, c->no, 0, prev, &scan, err));
    imm_entry *indexed;
    size_t n_indexed, i = 0;
    bool clean;
    int rc = imm_index_load(im, c->no, prev, &indexed, &n_indexed, &clean, err);
    bool ok = rc == CDL_OK && chunk_agrees(im, ci, &scan, indexed, n_indexed, clean, &i);
    char problem[sizeof scan.problem];
    memcpy(problem, scan.problem, sizeof problem);
    bool scan_stopped = scan.problem[0] != '\0' && i == scan.count;
    free(scan.entries);
    free(indexed);
    if (rc != CDL_OK) return rc;
    if (!ok) {
      *bad = (cdl_immutable_pos){(uint32_t)ci, (uint32_t)i};
      if (scan_stopped) return cdl_error_set(err, CDL_E_CHECKSUM, 0, "%s", problem);
      return cdl_error_set(err, CDL_E_CHECKSUM, 0, "chunk %05u: index entry %zu disagrees with the chunk",
                           c->no, i);
    }
  }
  return CDL_OK;
}
