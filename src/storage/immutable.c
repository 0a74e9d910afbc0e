/*
 * immutable.c: the immutable DB's operations (docs/storage.md, "Immutable
 * DB"): appends to the tip chunk, look-ups by point, block number and
 * slot over chunk indexes loaded on demand (a bounded LRU set), reads of
 * whole blocks or headers with their CRC checked, truncation and the full
 * check behind `db validate`. Opening and recovery are in immutable_open.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "immutable_internal.h"

bool cdl_immutable_tip(const cdl_immutable *im, cdl_block_info *tip, cdl_immutable_pos *pos) {
  if (im->n_chunks == 0) return false;
  const imm_chunk *c = &im->chunks[im->n_chunks - 1];
  if (tip) imm_entry_to_info(&c->last, tip);
  if (pos) *pos = (cdl_immutable_pos){(uint32_t)(im->n_chunks - 1), c->count - 1};
  return true;
}

uint64_t cdl_immutable_count(const cdl_immutable *im) { return im->blocks; }
uint64_t cdl_immutable_bytes(const cdl_immutable *im) { return im->bytes; }
uint64_t cdl_immutable_bytes_written(const cdl_immutable *im) {
  return im->bytes - im->pend_chunk.len;
}

/* ---- The entry cache ---------------------------------------------------- */

void imm_evict_one(cdl_immutable *im) {
  size_t loaded = 0, victim = SIZE_MAX;
  for (size_t i = 0; i + 1 < im->n_chunks; i++) {
    if (im->chunks[i].entries == NULL) continue;
    loaded++;
    if (victim == SIZE_MAX || im->chunks[i].used_tick < im->chunks[victim].used_tick) victim = i;
  }
  if (loaded >= im->cfg.cached_chunks && victim != SIZE_MAX) {
    free(im->chunks[victim].entries);
    im->chunks[victim].entries = NULL;
  }
}

/* The entries of chunk |ci| (an index into im->chunks), loading its index;
 * an index that disagrees with its chunk (the open checks only the ends of
 * the indexes before the last chunk's) is rebuilt from the chunk (a
 * reader leaves the file alone), and a chunk that changed since open is an
 * error. */
int imm_chunk_entries(cdl_immutable *im, size_t ci, const imm_entry **out, cdl_error *err) {
  imm_chunk *c = &im->chunks[ci];
  c->used_tick = ++im->tick;
  if (c->entries != NULL) return *out = c->entries, CDL_OK;
  imm_evict_one(im);
  imm_entry root = {.is_root = true};
  memcpy(root.hash, im->cfg.genesis_hash, 32);
  const imm_entry *prev = ci                      ? &im->chunks[ci - 1].last
                          : im->cfg.check_genesis ? &root
                                                  : NULL;
  imm_entry *entries;
  size_t count;
  bool clean;
  CDL_TRY(imm_index_load(im, c->no, prev, &entries, &count, &clean, err));
  if (!clean || count != c->count) {
    free(entries);
    imm_scan scan;
    CDL_TRY(imm_scan_chunk(im, c->no, 0, prev, &scan, err));
    entries = scan.entries;
    count = scan.count;
    if (!im->cfg.read_only && count == c->count && scan.valid_bytes == c->size)
      CDL_TRY(imm_index_write(im, c->no, entries, count, err));
  }
  if (count != c->count || memcmp(entries[count - 1].hash, c->last.hash, 32) != 0) {
    free(entries);
    return cdl_error_set(err, CDL_E_CHECKSUM, 0,
                         "chunk %05u changed on disk since the DB was opened", c->no);
  }
  c->entries = entries;
  *out = entries;
  return CDL_OK;
}

static int entry_at(cdl_immutable *im, cdl_immutable_pos pos, const imm_entry **e, cdl_error *err) {
  if (pos.chunk >= im->n_chunks || pos.index >= im->chunks[pos.chunk].count)
    return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "no block at chunk %u index %u", pos.chunk,
                         pos.index);
  const imm_entry *entries;
  CDL_TRY(imm_chunk_entries(im, pos.chunk, &entries, err));
  *e = &entries[pos.index];
  return CDL_OK;
}

int cdl_immutable_info(cdl_immutable *im, cdl_immutable_pos pos, cdl_block_info *info,
                       cdl_error *err) {
  const imm_entry *e = NULL;
  CDL_TRY(entry_at(im, pos, &e, err));
  imm_entry_to_info(e, info);
  return CDL_OK;
}

bool cdl_immutable_next(cdl_immutable *im, cdl_immutable_pos *pos) {
  if (pos->chunk >= im->n_chunks) return false;
  if (pos->index + 1 < im->chunks[pos->chunk].count) return pos->index++, true;
  if (pos->chunk + 1 >= im->n_chunks) return false;
  *pos = (cdl_immutable_pos){pos->chunk + 1, 0};
  return true;
}

/* ---- Look-ups ------------------------------------------------------------ */

/* The first chunk whose last block has key >= |want| (by slot or block number). */
static size_t first_chunk_reaching(const cdl_immutable *im, uint64_t want, bool by_block_no) {
  size_t lo = 0, hi = im->n_chunks;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const imm_entry *l = &im->chunks[mid].last;
    if ((by_block_no ? l->block_no : l->slot) < want)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static size_t first_entry_reaching(const imm_entry *e, size_t n, uint64_t want, bool by_block_no) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((by_block_no ? e[mid].block_no : e[mid].slot) < want)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int find_first(cdl_immutable *im, uint64_t want, bool by_block_no, cdl_immutable_pos *pos,
                      const imm_entry **found, cdl_error *err) {
  size_t ci = first_chunk_reaching(im, want, by_block_no);
  if (ci == im->n_chunks)
    return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "no block at or after %s %llu",
                         by_block_no ? "block number" : "slot", (unsigned long long)want);
  const imm_entry *entries;
  CDL_TRY(imm_chunk_entries(im, ci, &entries, err));
  size_t i = first_entry_reaching(entries, im->chunks[ci].count, want, by_block_no);
  *pos = (cdl_immutable_pos){(uint32_t)ci, (uint32_t)i};
  *found = &entries[i];
  return CDL_OK;
}

int cdl_immutable_find_slot(cdl_immutable *im, uint64_t slot, cdl_immutable_pos *pos,
                            cdl_block_info *info, cdl_error *err) {
  const imm_entry *e = NULL;
  CDL_TRY(find_first(im, slot, false, pos, &e, err));
  if (info) imm_entry_to_info(e, info);
  return CDL_OK;
}

int cdl_immutable_find_block_no(cdl_immutable *im, uint64_t block_no, cdl_immutable_pos *pos,
                                cdl_block_info *info, cdl_error *err) {
  const imm_entry *e = NULL;
  CDL_TRY(find_first(im, block_no, true, pos, &e, err));
  if (e->block_no != block_no)
    return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "no block number %llu",
                         (unsigned long long)block_no);
  if (info) imm_entry_to_info(e, info);
  return CDL_OK;
}

int cdl_immutable_find(cdl_immutable *im, uint64_t slot, const uint8_t hash[32],
                       cdl_immutable_pos *pos, cdl_block_info *info, cdl_error *err) {
  const imm_entry *e = NULL;
  cdl_immutable_pos p;
  int rc = find_first(im, slot, false, &p, &e, err);
  /* An EBB and the first block of its epoch share a slot: at most two. */
  for (int tries = 0; rc == CDL_OK && tries < 2 && e->slot == slot; tries++) {
    if (memcmp(e->hash, hash, 32) == 0) {
      *pos = p;
      if (info) imm_entry_to_info(e, info);
      return CDL_OK;
    }
    if (!cdl_immutable_next(im, &p)) break;
    rc = entry_at(im, p, &e, err);
  }
  if (rc != CDL_OK && rc != CDL_E_NOT_FOUND) return rc;
  return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "no block at slot %llu with that hash",
                       (unsigned long long)slot);
}

/* ---- Reads -------------------------------------------------------------- */

static int read_handle(cdl_immutable *im, uint32_t no, int *h, cdl_error *err) {
  if (im->chunk_handle >= 0 && im->handle_chunk == no) return *h = im->chunk_handle, CDL_OK;
  if (im->read_handle >= 0 && im->read_chunk == no) return *h = im->read_handle, CDL_OK;
  if (im->read_handle >= 0) cdl_fs_close(im->fs, im->read_handle);
  im->read_handle = -1;
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "chunk", path);
  CDL_TRY(cdl_fs_open(im->fs, path, CDL_FS_READ, &im->read_handle, err));
  im->read_chunk = no;
  *h = im->read_handle;
  return CDL_OK;
}

static int read_span(cdl_immutable *im, cdl_immutable_pos pos, bool header_only, cdl_buf *out,
                     cdl_block_info *info, cdl_error *err) {
  const imm_entry *e = NULL;
  CDL_TRY(entry_at(im, pos, &e, err));
  imm_entry entry = *e; /* the cache may move while we read */
  uint32_t no = im->chunks[pos.chunk].no;
  /* A header-only read reads and checks the header alone (its own CRC). */
  uint32_t len = header_only ? entry.header_size : entry.size,
           want = header_only ? entry.header_crc : entry.crc;
  uint64_t at = entry.offset + (header_only ? entry.header_offset : 0);
  if (cdl_buf_reserve(out, len) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for a %u-byte block", len);
  uint8_t *dst = out->data + out->len;
  if (pos.chunk + 1 == im->n_chunks && entry.offset >= im->flushed_size) {
    memcpy(dst, im->pend_chunk.data + (at - im->flushed_size), len); /* not written yet */
  } else {
    int h;
    CDL_TRY(read_handle(im, no, &h, err));
    CDL_TRY(cdl_fs_read_exact(im->fs, h, dst, len, at, err));
  }
  if (cdl_crc32(dst, len) != want)
    return cdl_error_set(err, CDL_E_CHECKSUM, (size_t)at,
                         "chunk %05u: block at offset %llu fails its CRC", no,
                         (unsigned long long)entry.offset);
  out->len += len;
  if (info) imm_entry_to_info(&entry, info);
  return CDL_OK;
}

int cdl_immutable_read(cdl_immutable *im, cdl_immutable_pos pos, cdl_buf *out, cdl_block_info *info,
                       cdl_error *err) {
  return read_span(im, pos, false, out, info, err);
}

int cdl_immutable_read_header(cdl_immutable *im, cdl_immutable_pos pos, cdl_buf *out,
                              cdl_block_info *info, cdl_error *err) {
  return read_span(im, pos, true, out, info, err);
}
