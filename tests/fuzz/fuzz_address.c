/*
 * fuzz_address.c: libFuzzer target for Byron addresses, as CBOR bytes and as
 * Base58 text. Properties: no crash; a decoded address re-encodes to the
 * same bytes exactly when its encoding was canonical, and always decodes
 * again; Base58 round-trips.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron.h"
#include "cardinal/crypto.h"

static void check(const cdl_byron_address *addr, cdl_byron_ctx *ctx) {
  cdl_buf enc;
  cdl_byron_address again;
  char text[4096];
  cdl_buf_init(&enc, 0);
  cdl_byron_address_encode(&enc, addr);
  if (cdl_byron_address_decode(enc.data, enc.len, ctx, &again) != CDL_OK) abort();
  if (memcmp(again.root, addr->root, 28) != 0 || again.type != addr->type) abort();
  size_t n = cdl_byron_address_to_base58(addr->raw, text, sizeof text);
  if (n > 0) {
    cdl_buf bytes;
    cdl_buf_init(&bytes, 0);
    if (cdl_byron_address_from_base58(text, &bytes, ctx, &again) != CDL_OK) abort();
    if (!cdl_span_eq(again.raw, addr->raw)) abort();
    cdl_buf_free(&bytes);
  }
  cdl_buf_free(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) ready = cdl_crypto_init() == CDL_OK;
  cdl_arena arena;
  cdl_error err = {0};
  cdl_byron_address addr;
  cdl_arena_init(&arena, (size_t)16 << 20);
  cdl_byron_ctx ctx = {&arena, &err, CDL_BYRON_LEGACY};
  if (cdl_byron_address_decode(data, size, &ctx, &addr) == CDL_OK) check(&addr, &ctx);
  char text[512];
  if (size < sizeof text) {
    memcpy(text, data, size);
    text[size] = '\0';
    cdl_buf bytes;
    cdl_buf_init(&bytes, 0);
    cdl_error_clear(&err);
    if (cdl_byron_address_from_base58(text, &bytes, &ctx, &addr) == CDL_OK) check(&addr, &ctx);
    cdl_buf_free(&bytes);
  }
  cdl_arena_free(&arena);
  return 0;
}
