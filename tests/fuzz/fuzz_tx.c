/*
 * fuzz_tx.c: libFuzzer target for the transaction decoder, in the strict
 * (ledger) and legacy (cardano-sl) grammars. Properties: no crash; witness
 * checks run on whatever decodes; re-encoding is stable.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron.h"
#include "cardinal/crypto.h"

static void run(const uint8_t *data, size_t size, unsigned flags) {
  cdl_arena arena;
  cdl_error err = {0};
  cdl_byron_txaux aux, again;
  cdl_arena_init(&arena, (size_t)16 << 20);
  cdl_byron_ctx ctx = {&arena, &err, flags};
  if (cdl_byron_txaux_decode(data, size, &ctx, &aux) == CDL_OK && aux.witnesses_raw.len > 0) {
    for (size_t i = 0; i < aux.n_witnesses; i++)
      (void)cdl_byron_witness_verify(&aux.witnesses[i], aux.tx.id, CDL_BYRON_MAINNET_MAGIC);
    cdl_buf enc1, enc2;
    cdl_buf_init(&enc1, 0);
    cdl_buf_init(&enc2, 0);
    cdl_byron_txaux_encode(&enc1, &aux);
    if (cdl_byron_txaux_decode(enc1.data, enc1.len, &ctx, &again) != CDL_OK) abort();
    cdl_byron_txaux_encode(&enc2, &again);
    if (enc1.len != enc2.len || memcmp(enc1.data, enc2.data, enc1.len) != 0) abort();
    cdl_buf_free(&enc1);
    cdl_buf_free(&enc2);
  }
  cdl_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) ready = cdl_crypto_init() == CDL_OK;
  run(data, size, 0);
  run(data, size, CDL_BYRON_LEGACY);
  return 0;
}
