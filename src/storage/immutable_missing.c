/*
 * immutable_missing.c: immutable DB files that are gone (docs/storage.md,
 * "Missing files"). Damage is cut back and the node carries on; a chunk
 * file that is simply not there is different: cutting the database before
 * it would drop every later block in silence, and the file may only have
 * been moved. So the open refuses (CDL_E_MISSING, storage.missing) and
 * changes nothing, on what the layout proves:
 *  - an index file whose chunk file is gone: a chunk is made before its
 *    index and its index is removed before it, so no crash leaves that;
 *  - a gap in the chunk numbers that the chunk after it does not bridge
 *    (its first block names another predecessor than the last block before
 *    the gap, or than the genesis): an epoch without blocks has no chunk,
 *    but then the next chunk follows on;
 *  - a ledger snapshot more than k blocks past the immutable tip: the
 *    ChainDB syncs the immutable DB before it writes a snapshot, and its
 *    selected chain never runs more than k blocks past the immutable tip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "immutable_internal.h"

#define MISSING_HINT_MAX 80

/* What the operator can do: the refusal says it (docs/storage.md). */
static void remedy(const imm_entry *before, char *out) {
  if (before == NULL || before->is_root)
    snprintf(out, MISSING_HINT_MAX, "restore it; no block comes before it");
  else
    snprintf(out, MISSING_HINT_MAX, "restore it, or keep the blocks before it: db truncate --to-slot %llu",
             (unsigned long long)before->slot);
}

/* Seen without the file a second time: a reader of a live database lists
 * the directory while its owner makes a chunk (the chunk, then its index)
 * or removes one (the index, then the chunk), so one listing may show an
 * index whose chunk it missed. */
static bool chunk_gone(cdl_immutable *im, uint32_t no) {
  char chunk[IMM_PATH_MAX], index[IMM_PATH_MAX];
  imm_chunk_path(im, no, "chunk", chunk);
  imm_chunk_path(im, no, "cidx", index);
  cdl_fs *fs = im->fs;
  return fs->ops->exists(fs, index) && !fs->ops->exists(fs, chunk) && fs->ops->exists(fs, index);
}

/* The last block before chunk |no| among the listed chunks (their indexes
 * may not be read yet: this only names a slot for the remedy). */
static bool last_before(cdl_immutable *im, const uint32_t *chunks, size_t n, uint32_t no,
                        imm_entry *out) {
  for (size_t i = n; i-- > 0;) {
    if (chunks[i] >= no) continue;
    imm_entry *entries;
    size_t count;
    bool clean;
    cdl_error ignored = {0};
    if (imm_index_load(im, chunks[i], NULL, &entries, &count, &clean, &ignored) != CDL_OK) continue;
    bool found = count > 0;
    if (found) *out = entries[count - 1];
    free(entries);
    if (found) return true;
  }
  return false;
}

int imm_check_indexes_alone(cdl_immutable *im, const uint32_t *chunks, size_t n_chunks,
                            const uint32_t *indexes, size_t n_indexes, cdl_error *err) {
  for (size_t i = 0, j = 0; i < n_indexes; i++) {
    while (j < n_chunks && chunks[j] < indexes[i]) j++;
    if (j < n_chunks && chunks[j] == indexes[i]) continue;
    if (!chunk_gone(im, indexes[i])) continue;
    imm_entry before;
    char hint[MISSING_HINT_MAX];
    remedy(last_before(im, chunks, n_chunks, indexes[i], &before) ? &before : NULL, hint);
    return cdl_error_set(err, CDL_E_MISSING, 0,
                         "immutable/%05u.chunk is missing (its index %05u.cidx is there); %s",
                         indexes[i], indexes[i], hint);
  }
  return CDL_OK;
}

/* The predecessor that chunk |no|'s first block names: from its index when
 * that holds an entry, else from the chunk. *found false when neither
 * gives a block: then the chunk is damaged, which recovery reports. */
static int first_prev_hash(cdl_immutable *im, uint32_t no, uint8_t out[32], bool *found,
                           cdl_error *err) {
  imm_entry *entries;
  size_t count;
  bool clean;
  CDL_TRY(imm_index_load(im, no, NULL, &entries, &count, &clean, err));
  *found = count > 0;
  if (*found) memcpy(out, entries[0].prev_hash, 32);
  free(entries);
  if (*found) return CDL_OK;
  imm_scan scan;
  CDL_TRY(imm_scan_chunk(im, no, 0, NULL, &scan, err));
  *found = scan.count > 0;
  if (*found) memcpy(out, scan.entries[0].prev_hash, 32);
  free(scan.entries);
  return CDL_OK;
}

int imm_check_gap(cdl_immutable *im, uint32_t no, uint32_t expected, const imm_entry *prev,
                  cdl_error *err) {
  if (no == expected || prev == NULL) return CDL_OK;
  uint8_t named[32];
  bool found;
  CDL_TRY(first_prev_hash(im, no, named, &found, err));
  if (!found || memcmp(named, prev->hash, 32) == 0) return CDL_OK; /* an epoch without blocks */
  char hint[MISSING_HINT_MAX], which[32];
  remedy(prev, hint);
  if (no - expected > 1)
    snprintf(which, sizeof which, "chunks %05u-%05u are", expected, no - 1);
  else
    snprintf(which, sizeof which, "chunk %05u is", expected);
  return cdl_error_set(err, CDL_E_MISSING, 0, "immutable %s missing: chunk %05u does not follow %s; %s",
                       which, no, prev->is_root ? "the genesis" : "the chunk before", hint);
}

bool cdl_snapshot_past(uint64_t block_no, const cdl_block_info *tip, uint64_t k) {
  uint64_t base = tip != NULL ? tip->block_no : 0;
  return block_no > base && block_no - base > k;
}

static bool past_tip(const cdl_immutable *im, uint64_t block_no, uint64_t k) {
  cdl_block_info tip;
  return cdl_snapshot_past(block_no, cdl_immutable_tip(im, &tip, NULL) ? &tip : NULL, k);
}

int imm_before_cut(cdl_immutable *im, const imm_entry *keep, cdl_error *err) {
  if (im->cfg.read_only || im->cfg.before_cut == NULL) return CDL_OK;
  cdl_block_info info;
  bool any = keep != NULL && !keep->is_root;
  if (any) imm_entry_to_info(keep, &info);
  return im->cfg.before_cut(im->cfg.before_cut_ctx, any ? &info : NULL, err);
}

/* A reader's view of a live database may be older than the snapshot it
 * then lists: it judges again on a fresh view before it refuses. */
static int fresh_view_past_tip(cdl_immutable *im, uint64_t block_no, uint64_t k, bool *past,
                               cdl_error *err) {
  cdl_immutable_config cfg = im->cfg;
  cfg.validate_all = false;
  cdl_immutable *fresh;
  CDL_TRY(cdl_immutable_open(im->fs, im->dir, &cfg, &fresh, NULL, err));
  *past = past_tip(fresh, block_no, k);
  cdl_immutable_close(fresh);
  return CDL_OK;
}

int cdl_immutable_check_snapshot(cdl_immutable *im, uint64_t slot, uint64_t block_no, uint64_t k,
                                 cdl_error *err) {
  bool past = past_tip(im, block_no, k);
  if (past && im->cfg.read_only) CDL_TRY(fresh_view_past_tip(im, block_no, k, &past, err));
  if (!past) return CDL_OK;
  cdl_block_info tip;
  char where[MISSING_HINT_MAX];
  if (cdl_immutable_tip(im, &tip, NULL))
    snprintf(where, sizeof where, "tip (block %llu); restore them, or db truncate --to-slot %llu",
             (unsigned long long)tip.block_no, (unsigned long long)tip.slot);
  else
    snprintf(where, sizeof where, "DB, which is empty; restore them");
  return cdl_error_set(err, CDL_E_MISSING, 0,
                       "immutable blocks are missing: the snapshot at slot %llu (block %llu) is "
                       "over k = %llu blocks past the immutable %s",
                       (unsigned long long)slot, (unsigned long long)block_no,
                       (unsigned long long)k, where);
}
