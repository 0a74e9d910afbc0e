/*
 * fuzz_genesis.c: libFuzzer target for canonical JSON and the genesis
 * schema. Properties: no crash; rendering is a fixed point (parsing the
 * canonical rendering and rendering again gives the same bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron.h"
#include "cardinal/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) ready = cdl_crypto_init() == CDL_OK;
  cdl_arena arena;
  cdl_error err = {0};
  cdl_cjson *v = NULL, *w = NULL;
  cdl_arena_init(&arena, (size_t)64 << 20);
  if (cdl_cjson_parse(data, size, &arena, &v, &err) == CDL_OK) {
    cdl_buf r1, r2;
    cdl_buf_init(&r1, 0);
    cdl_buf_init(&r2, 0);
    if (cdl_cjson_render(v, &r1) != CDL_OK) abort();
    if (cdl_cjson_parse(r1.data, r1.len, &arena, &w, &err) != CDL_OK) abort();
    if (cdl_cjson_render(w, &r2) != CDL_OK) abort();
    if (r1.len != r2.len || memcmp(r1.data, r2.data, r1.len) != 0) abort();
    cdl_buf_free(&r1);
    cdl_buf_free(&r2);
    cdl_byron_genesis g;
    (void)cdl_byron_genesis_load(data, size, &arena, &g, &err);
  }
  cdl_arena_free(&arena);
  return 0;
}
