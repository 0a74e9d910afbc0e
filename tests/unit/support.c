/*
 * support.c: see support.h.
 */
#include <stdio.h>
#include <string.h>

#include <zstd.h>

#include "support.h"

const char *vec_path(const char *relative) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", CDL_VECTORS_DIR, relative);
  return path;
}

void vec_read(const char *relative, cdl_buf *out) {
  cdl_error err = {0};
  cdl_buf_init(out, 0);
  if (cdl_file_read_all(vec_path(relative), (size_t)64 << 20, out, &err) != CDL_OK)
    fail_msg("cannot read vector %s: %s", relative, err.message);
}

void vec_read_hex(const char *relative, cdl_buf *out) {
  cdl_buf text;
  cdl_error err = {0};
  vec_read(relative, &text);
  cdl_buf_init(out, 0);
  if (cdl_hex_decode_loose(text.data, text.len, out, &err) != CDL_OK)
    fail_msg("vector %s is not hex: %s", relative, err.message);
  cdl_buf_free(&text);
}

void vec_read_golden(const char *relative, cdl_buf *out) {
  cdl_buf text;
  cdl_buf_init(out, 0);
  vec_read(relative, &text);
  size_t i = 0;
  while (i < text.len) {
    size_t eol = i;
    while (eol < text.len && text.data[eol] != '\n') eol++;
    const uint8_t *colon = memchr(text.data + i, ':', eol - i);
    if (colon != NULL) {
      size_t start = (size_t)(colon - text.data) + 1;
      cdl_error err = {0};
      if (cdl_hex_decode_loose(text.data + start, eol - start, out, &err) != CDL_OK)
        fail_msg("golden %s: bad hex line: %s", relative, err.message);
    }
    i = eol + 1;
  }
  cdl_buf_free(&text);
}

void vec_epoch0_chunk(cdl_buf *out) {
  cdl_buf z;
  vec_read("blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd", &z);
  unsigned long long size = ZSTD_getFrameContentSize(z.data, z.len);
  assert_true(size == 14788562ull);
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_buf_reserve(out, (size_t)size), CDL_OK);
  size_t n = ZSTD_decompress(out->data, (size_t)size, z.data, z.len);
  assert_false(ZSTD_isError(n));
  out->len = n;
  cdl_buf_free(&z);
}

size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  cdl_error err = {0};
  if (cdl_hex_decode(hex, strlen(hex), out, cap, &n, &err) != CDL_OK)
    fail_msg("bad hex in test: %s", err.message);
  return n;
}

void assert_hash_hex(const uint8_t *hash, const char *hex) {
  char got[65];
  cdl_hex_encode(hash, 32, got);
  assert_string_equal(got, hex);
}

void test_ctx_init(test_ctx *t, unsigned flags) {
  cdl_arena_init(&t->arena, 0);
  cdl_error_clear(&t->err);
  t->ctx = (cdl_byron_ctx){&t->arena, &t->err, flags};
}

void test_ctx_free(test_ctx *t) { cdl_arena_free(&t->arena); }

int test_group_setup(void **state) {
  (void)state;
  return cdl_crypto_init();
}
