/*
 * block_info.c: what storage needs to know about a block (hash, previous
 * hash, slot, block number, EBB or not, where its header lies), read from
 * the bytes as they are stored in chunk files: [0, EBB] or [1, main block]
 * (docs/byron.md sections 3.1 and 3.4); and a block parsed once with it,
 * to pass along from where it enters (docs/storage.md "One parse per
 * block").
 */
#include <string.h>

#include "cardinal/byron.h"
#include "cardinal/storage.h"

int cdl_block_info_of(const cdl_byron_block *blk, const uint8_t *bytes, size_t len,
                      uint64_t epoch_slots, cdl_block_info *info, cdl_error *err) {
  if (!blk->wrapped)
    return cdl_error_set(err, CDL_E_TYPE, 0, "stored block: not wrapped as [0|1, block]");
  if (len > CDL_CHUNK_MAX_BLOCK)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "stored block: %zu bytes", len);
  int rc = cdl_byron_block_slot(blk, epoch_slots, &info->slot);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "stored block: slot out of range");
  cdl_span header = blk->is_ebb ? blk->ebb.raw : blk->header.raw;
  memcpy(info->hash, cdl_byron_block_hash(blk), 32);
  memcpy(info->prev_hash, cdl_byron_block_prev_hash(blk), 32);
  info->block_no = cdl_byron_block_number(blk);
  info->is_ebb = blk->is_ebb;
  info->size = (uint32_t)len;
  info->header_offset = (uint32_t)(header.ptr - bytes);
  info->header_size = (uint32_t)header.len;
  return CDL_OK;
}

int cdl_block_info_read(const uint8_t *bytes, size_t len, uint64_t epoch_slots,
                        cdl_block_info *info, cdl_error *err) {
  cdl_arena arena;
  cdl_arena_init(&arena, (size_t)64 << 20);
  cdl_byron_ctx ctx = {.arena = &arena, .err = err, .flags = 0};
  cdl_byron_block blk;
  int rc = cdl_byron_block_decode(bytes, len, &ctx, &blk);
  if (rc == CDL_OK) rc = cdl_block_info_of(&blk, bytes, len, epoch_slots, info, err);
  cdl_arena_free(&arena);
  return rc;
}

int cdl_parsed_block_decode(const uint8_t *bytes, size_t len, uint64_t epoch_slots,
                            cdl_arena *arena, cdl_parsed_block *pb) {
  *pb = (cdl_parsed_block){.bytes = bytes, .len = len, .epoch_slots = epoch_slots};
  cdl_byron_ctx ctx = {.arena = arena, .err = &pb->why, .flags = 0};
  cdl_byron_block *blk = cdl_arena_alloc(arena, sizeof *blk);
  int rc = blk ? CDL_OK : cdl_error_set(&pb->why, CDL_E_NOMEM, 0, "out of memory");
  if (rc == CDL_OK) rc = cdl_byron_block_decode(bytes, len, &ctx, blk);
  if (rc == CDL_OK) rc = cdl_block_info_of(blk, bytes, len, epoch_slots, &pb->info, &pb->why);
  if (rc == CDL_OK) pb->blk = blk;
  else memset(&pb->info, 0, sizeof pb->info);
  return pb->rc = rc;
}
