/*
 * test_chunk.c: all of real mainnet epoch 0 (cardano-node chunk 00000,
 * 21,587 blocks): every block decodes, re-encodes byte for byte, links to
 * its predecessor, passes every body proof and its block signature; the
 * facts that other projects state about this chunk hold.
 */
#include <string.h>

#include <jansson.h>

#include "support.h"

#define GENESIS_HASH "5f20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb"
#define LAST_HASH "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911"

typedef struct {
  size_t blocks, ebbs, txs, reencoded, witnesses;
  uint8_t tip[32];
  uint8_t by_number[21587][32]; /* hash of each main block by block number */
  uint64_t tx_slots[64];
} chunk_scan;

static chunk_scan scan;

/* Statements about individual blocks of this chunk (MANIFEST section 2a). */
static void check_known_block(const cdl_byron_block *blk, size_t offset, size_t size,
                              uint64_t slot) {
  const uint8_t *h = cdl_byron_block_hash(blk);
  if (offset == 648087) assert_hash_hex(h, "f0f7892b5c333cffc4b3c4344de48af4cc63f55e44936196f365a9ef2244134f");
  if (offset == 652756) assert_int_equal(size, 667); /* the slot-7 block */
  if (slot == 21500) assert_hash_hex(h, "67a3718ce1f14dbc20d156d619cb027e0f234f6d3bb570fe79dffb62c4f82ff7");
  if (!blk->is_ebb && blk->header.difficulty == 1000) {
    assert_hash_hex(h, "f84748ae7f413a7f73ddb599fd77e4ed488484c1353c6075a05f30e9c78c9de9");
    assert_int_equal(blk->raw.len, 669);
  }
  if (!blk->is_ebb && blk->header.difficulty == 7134) {
    assert_hash_hex(h, "af3d6e553e7ef8552a40e4e8cdeaa7d8305e7439474c7e6e4e0477d5f9492e2d");
    assert_int_equal(blk->raw.len, 984);
    assert_hash_hex(blk->body.txs[0].tx.id, "c950e0d7d898a392ccf458a75728aa35afd4bd3776f118cbf0e0abb315205bc4");
    assert_int_equal(blk->body.txs[0].tx.raw.len, 212);
    assert_int_equal(blk->body.txs[0].raw.len, 353);
  }
}

static void scan_block(const cdl_byron_block *blk, size_t offset, size_t size,
                       cdl_arena *arena, cdl_byron_cert_cache *cache) {
  cdl_error err = {0};
  uint64_t slot;
  const uint8_t *prev = cdl_byron_block_prev_hash(blk);
  if (scan.blocks == 0) assert_hash_hex(prev, GENESIS_HASH);
  else if (memcmp(prev, scan.tip, 32) != 0) fail_msg("block %zu does not link", scan.blocks);
  if (cdl_byron_block_check_body_proof(blk, CDL_BYRON_PROOFS_ALL, arena, &err) != CDL_OK ||
      cdl_byron_block_check_signature(blk, CDL_BYRON_MAINNET_MAGIC, cache, &err) != CDL_OK)
    fail_msg("block %zu: %s", scan.blocks, err.message);
  assert_int_equal(cdl_byron_block_slot(blk, 21600, &slot), CDL_OK);
  check_known_block(blk, offset, size, slot);
  memcpy(scan.tip, cdl_byron_block_hash(blk), 32);
  if (blk->is_ebb) {
    scan.ebbs++;
  } else {
    uint64_t no = blk->header.difficulty;
    assert_true(no == scan.blocks - scan.ebbs + 1 && no < 21587);
    memcpy(scan.by_number[no], scan.tip, 32);
    for (size_t i = 0; i < blk->body.n_txs && scan.txs < 64; i++) {
      const cdl_byron_txaux *tx = &blk->body.txs[i];
      for (size_t w = 0; w < tx->n_witnesses; w++, scan.witnesses++)
        assert_true(cdl_byron_witness_verify(&tx->witnesses[w], tx->tx.id, CDL_BYRON_MAINNET_MAGIC));
      scan.tx_slots[scan.txs++] = slot;
    }
  }
  scan.blocks++;
}

static void test_epoch0_chunk(void **state) {
  (void)state;
  cdl_buf chunk, enc;
  test_ctx t;
  cdl_cbor_cursor cur;
  cdl_byron_cert_cache cache = {0};
  vec_epoch0_chunk(&chunk);
  test_ctx_init(&t, 0);
  cdl_buf_init(&enc, 0);
  cdl_cbor_cursor_init(&cur, chunk.data, chunk.len, &t.err);
  while (cdl_cbor_remaining(&cur) > 0) {
    cdl_byron_block blk;
    size_t offset = cur.pos;
    cdl_arena_reset(&t.arena);
    if (cdl_byron_block_read(&cur, &t.ctx, &blk) != CDL_OK)
      fail_msg("block %zu at offset %zu: %s", scan.blocks, offset, t.err.message);
    assert_true(blk.wrapped);
    cdl_buf_reset(&enc);
    cdl_byron_block_encode(&enc, &blk, true);
    if (enc.len == blk.wrapped_raw.len && memcmp(enc.data, blk.wrapped_raw.ptr, enc.len) == 0)
      scan.reencoded++;
    scan_block(&blk, offset, cur.pos - offset, &t.arena, &cache);
  }
  assert_int_equal(scan.blocks, 21587);
  assert_int_equal(scan.ebbs, 1);
  assert_int_equal(scan.reencoded, 21587);
  assert_int_equal(scan.txs, 33);
  assert_true(scan.witnesses >= 33); /* every tx witness signature verified */
  assert_hash_hex(scan.tip, LAST_HASH);
  /* The stated slots (in epoch) of the 33 blocks with a transaction. */
  static const uint64_t tx_slots[33] = {3313,  3336,  3351,  3369,  3489,  6315,  6326,  6341,  6359,
                                        7133,  7167,  7170,  7175,  13308, 16163, 16264, 16308, 16335,
                                        16574, 16632, 19405, 19498, 19513, 19520, 19614, 19714, 19735,
                                        19746, 21080, 21249, 21319, 21338, 21544};
  for (size_t i = 0; i < 33; i++) assert_int_equal(scan.tx_slots[i], tx_slots[i]);
  cdl_buf_free(&enc), cdl_buf_free(&chunk), test_ctx_free(&t);
}

/* cardano-node's official checkpoints for block numbers 2000..20000. */
static void test_checkpoints(void **state) {
  (void)state;
  json_error_t jerr;
  json_t *root = json_load_file(vec_path("genesis/mainnet/mainnet-checkpoints.json"), 0, &jerr);
  assert_non_null(root);
  json_t *list = json_object_get(root, "checkpoints");
  size_t i, matched = 0;
  json_t *cp;
  json_array_foreach(list, i, cp) {
    json_int_t no = json_integer_value(json_object_get(cp, "blockNo"));
    if (no <= 0 || no >= 21587) continue;
    assert_hash_hex(scan.by_number[no], json_string_value(json_object_get(cp, "hash")));
    matched++;
  }
  assert_int_equal(matched, 10);
  json_decref(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_epoch0_chunk),
      cmocka_unit_test(test_checkpoints), /* uses the scan of the test above */
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
