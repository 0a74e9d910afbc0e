/*
 * fuzz_snapshot.c: libFuzzer target for ledger snapshot images
 * (src/ledger/snapshot_read.c, docs/storage.md). The input is an image's
 * body; the harness adds the magic, version, length and CRC so that the
 * fuzzer explores the state decoder rather than the checksum, and takes
 * the genesis hash, magic and k the decoder must match from the body.
 * Properties: no crash or leak; an image that loads writes back to the
 * same bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cardinal/crypto.h"
#include "cardinal/ledger.h"

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) ready = cdl_crypto_init() == CDL_OK;
  if (size < 45 || size > ((size_t)1 << 24)) return 0;
  size_t len = 20 + size + 4;
  uint8_t *img = malloc(len);
  if (img == NULL) return 0;
  memcpy(img, "CDLSNAP1\x04\x00\x00\x00", 12); /* the version this build writes */
  put64(img + 12, len);
  memcpy(img + 20, data, size);
  uint32_t crc = (uint32_t)crc32(0L, img, (uInt)(len - 4));
  for (int i = 0; i < 4; i++) img[len - 4 + i] = (uint8_t)(crc >> (8 * i));
  /* Header after the length: genesis hash, magic u32, requires_magic u8, k u64. */
  cdl_ledger_config cfg = {.protocol_magic = (uint32_t)get64(img + 52) & 0xffffffffu,
                           .requires_magic = img[56] == 1, .k = get64(img + 57)};
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_snapshot_read(img, len, &cfg, img + 20, &l, &err) == CDL_OK) {
    cdl_buf again;
    cdl_buf_init(&again, 0);
    if (cdl_ledger_snapshot_write(l, &again) != CDL_OK) abort();
    if (again.len != len || memcmp(again.data, img, len) != 0) abort();
    cdl_buf_free(&again);
    cdl_ledger_del(l);
  }
  free(img);
  return 0;
}
