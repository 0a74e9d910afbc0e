/*
 * test_ledger_chain.c: the real mainnet epoch 0 through the ledger
 * (docs/byron.md sections 5-7): a full replay from the mainnet genesis,
 * cardano-node's checkpoints, identical results with threads and without
 * signature checks, and mutations of the real chain that need no keys.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/storage.h"
#include "chain_support.h"

#define GENESIS_LOVELACE 31112484745000000ull
#define TIP "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911"

static epoch0 chain;
static genesis_fixture genesis;

static int setup(void **state) {
  test_group_setup(state);
  epoch0_load(&chain);
  mainnet_genesis(&genesis);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  epoch0_free(&chain);
  cdl_arena_free(&genesis.arena);
  return 0;
}

/* Replays blocks[0..n) through cdl_replay in batches of 1000. */
static int replay(cdl_ledger *l, unsigned threads, const cdl_span *blocks, size_t n,
                  size_t *applied, cdl_rejection *rej) {
  cdl_replay *r;
  assert_int_equal(cdl_replay_new(l, threads, &r), CDL_OK);
  int rc = CDL_OK;
  *applied = 0;
  for (size_t at = 0; at < n && rc == CDL_OK; at += 1000) {
    size_t done, count = n - at < 1000 ? n - at : 1000;
    rc = cdl_replay_batch(r, blocks + at, count, &done, rej);
    *applied += done;
  }
  cdl_replay_del(r);
  return rc;
}

static void assert_epoch0_result(const cdl_ledger *l) {
  cdl_ledger_tip tip;
  cdl_ledger_totals t;
  cdl_ledger_get_tip(l, &tip);
  cdl_ledger_get_totals(l, &t);
  assert_hash_hex(tip.hash, TIP);
  assert_int_equal(tip.block_no, 21586);
  assert_int_equal(tip.slot, 21599);
  assert_int_equal(t.blocks, 21587);
  assert_int_equal(t.ebbs, 1);
  assert_int_equal(t.txs, 33);
  assert_int_equal(t.utxo_entries, 14519);
  assert_int_equal(t.utxo_lovelace + t.fees_lovelace, GENESIS_LOVELACE);
  assert_int_equal(t.fees_lovelace, 3458053);
}

static void test_epoch0_replays(void **state) {
  (void)state;
  unsigned modes[][2] = {{1, 0}, {2, 0}, {3, 0}, {2, CDL_LEDGER_NO_SIGNATURES}};
  for (size_t m = 0; m < 4; m++) {
    cdl_ledger *l = ledger_for(&genesis.g, 0, modes[m][1]);
    size_t applied;
    cdl_rejection rej = {0};
    assert_int_equal(replay(l, modes[m][0], chain.blocks, chain.n, &applied, &rej), CDL_OK);
    assert_int_equal(applied, 21587);
    assert_epoch0_result(l);
    cdl_ledger_del(l);
  }
}

/* Every checkpoint cardano-node ships for block numbers 2000-20000. */
static void test_checkpoints(void **state) {
  (void)state;
  json_error_t jerr;
  json_t *root = json_load_file(vec_path("genesis/mainnet/mainnet-checkpoints.json"), 0, &jerr);
  assert_non_null(root);
  json_t *list = json_object_get(root, "checkpoints");
  cdl_ledger *l = ledger_for(&genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  size_t checked = 0, next = 0;
  for (size_t i = 0; i < chain.n; i++) {
    apply_all(l, &chain.blocks[i], 1);
    cdl_ledger_tip tip;
    cdl_ledger_get_tip(l, &tip);
    for (; next < json_array_size(list); next++) {
      json_t *c = json_array_get(list, next);
      json_int_t no = json_integer_value(json_object_get(c, "blockNo"));
      if ((uint64_t)no > tip.block_no) break;
      if ((uint64_t)no == tip.block_no && !tip.is_ebb) {
        assert_hash_hex(tip.hash, json_string_value(json_object_get(c, "hash")));
        checked++;
      }
    }
  }
  assert_int_equal(checked, 10); /* 2000, 4000, ..., 20000 */
  cdl_ledger_del(l);
  json_decref(root);
}

/* A copy of the chain's spans with block |i| replaced. */
static cdl_span *with_block(size_t i, cdl_span replacement) {
  cdl_span *copy = malloc(chain.n * sizeof *copy);
  memcpy(copy, chain.blocks, chain.n * sizeof *copy);
  copy[i] = replacement;
  return copy;
}

/* Applies blocks[0..at) and expects block |at| of |blocks| rejected. */
static void expect_at(const cdl_span *blocks, size_t at, const char *rule, double threshold) {
  cdl_ledger *l = ledger_for(&genesis.g, threshold, 0);
  apply_all(l, blocks, at);
  expect_rejected(l, blocks[at], rule);
  cdl_ledger_del(l);
}

/* Block |i| with one bit flipped at the byte |pick| names, expected to be
 * rejected there with |rule|. */
static void expect_flip_rejected(size_t i, const uint8_t *(*pick)(const cdl_byron_block *),
                                 uint8_t bit, const char *rule) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  cdl_span real = chain.blocks[i];
  assert_int_equal(cdl_byron_block_decode(real.ptr, real.len, &t.ctx, &blk), 0);
  uint8_t *copy = malloc(real.len);
  memcpy(copy, real.ptr, real.len);
  copy[pick(&blk) - real.ptr] ^= bit;
  cdl_span *blocks = with_block(i, cdl_span_of(copy, real.len));
  expect_at(blocks, i, rule, 0);
  free(blocks), free(copy);
  test_ctx_free(&t);
}

static const uint8_t *signature_byte(const cdl_byron_block *b) { return b->header.signature + 10; }
static const uint8_t *ebb_prev_byte(const cdl_byron_block *b) { return b->ebb.prev_hash; }

static void test_signature_flipped(void **state) {
  (void)state;
  expect_flip_rejected(1234, signature_byte, 0x01, CDL_RULE_PBFT_SIGNATURE);
}

static void test_removed_swapped_repeated(void **state) {
  (void)state;
  size_t i = 500;
  cdl_span *blocks = with_block(i, chain.blocks[i + 1]); /* block i removed */
  expect_at(blocks, i, CDL_RULE_BLOCK_NUMBER, 0);
  blocks[i + 1] = chain.blocks[i];                       /* i and i+1 swapped */
  expect_at(blocks, i, CDL_RULE_BLOCK_NUMBER, 0);
  blocks[i] = chain.blocks[i - 1];                       /* i-1 repeated */
  expect_at(blocks, i, CDL_RULE_BLOCK_NUMBER, 0);
  free(blocks);
}

static void test_ebb_wrong_prev_hash(void **state) {
  (void)state;
  expect_flip_rejected(0, ebb_prev_byte, 0x80, CDL_RULE_PREV_HASH);
}

/* ---- The genesis tag of an EBB ----
 * cardano-ledger decodes an EBB's attributes as a map Word8 -> bytes with
 * ascending keys, and reads {255: h'Genesis'} as "prevBlock is the genesis
 * hash" in any epoch (Block/Boundary.hs, Block/Header.hs); such an EBB may
 * then be the first block of a chain that begins past epoch 0. */

/* [0, [header, 9f ff, [{}]]], the header [magic, prev, proof, [epoch,
 * [difficulty]], [attrs]] with |attrs| the map's encoded bytes. */
static void make_ebb(uint64_t epoch, const uint8_t prev[32], uint64_t difficulty,
                     const char *attrs_hex, cdl_buf *out, cdl_span *header) {
  uint8_t attrs[64], proof[32] = {0};
  size_t n = hex_to_bytes(attrs_hex, attrs, sizeof attrs);
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2), cdl_cbor_enc_uint(out, 0), cdl_cbor_enc_array(out, 3);
  size_t start = out->len;
  cdl_cbor_enc_array(out, 5);
  cdl_cbor_enc_int(out, genesis.g.protocol_magic);
  cdl_cbor_enc_bytes(out, prev, 32), cdl_cbor_enc_bytes(out, proof, 32);
  cdl_cbor_enc_array(out, 2), cdl_cbor_enc_uint(out, epoch);
  cdl_cbor_enc_array(out, 1), cdl_cbor_enc_uint(out, difficulty);
  cdl_cbor_enc_array(out, 1), cdl_buf_append(out, attrs, n);
  size_t end = out->len;
  cdl_buf_append(out, "\x9f\xff\x81\xa0", 4);
  *header = cdl_span_of(out->data + start, end - start);
}

#define GENESIS_TAG "a118ff4747656e65736973"          /* {255: h'Genesis'} */
#define GENESIS_TAG_TEXT "a118ff6747656e65736973"     /* {255: "Genesis"}, text */
#define TAG_AFTER_KEY_1 "a2014018ff4747656e65736973"  /* {1: h'', 255: h'Genesis'} */
#define TAG_BEFORE_KEY_1 "a218ff4747656e657369730140" /* keys out of order */
#define LOWER_CASE "a118ff4767656e65736973"           /* {255: h'genesis'} */

static int decode_ebb(const cdl_buf *bytes, test_ctx *t, cdl_byron_block *blk) {
  test_ctx_init(t, 0);
  return cdl_byron_block_decode(bytes->data, bytes->len, &t->ctx, blk);
}

static void test_ebb_genesis_tag(void **state) {
  (void)state;
  const uint64_t epoch_slots = cdl_byron_epoch_slots(genesis.g.k);
  cdl_buf ebb, again;
  cdl_span header;
  test_ctx t;
  cdl_byron_block blk;
  make_ebb(3, genesis.g.hash, 0, GENESIS_TAG, &ebb, &header);
  assert_int_equal(decode_ebb(&ebb, &t, &blk), CDL_OK);
  assert_true(blk.is_ebb && blk.ebb.genesis_tag && cdl_byron_block_follows_genesis(&blk));
  /* Re-encoded, the same bytes; hashed over them, as 82 00 || header. */
  cdl_buf_init(&again, 0);
  cdl_byron_block_encode(&again, &blk, true);
  assert_int_equal(again.len, ebb.len);
  assert_memory_equal(again.data, ebb.data, ebb.len);
  uint8_t want[32], *prefixed = malloc(header.len + 2);
  prefixed[0] = 0x82, prefixed[1] = 0x00;
  memcpy(prefixed + 2, header.ptr, header.len);
  cdl_blake2b_256(want, prefixed, header.len + 2);
  assert_memory_equal(cdl_byron_block_hash(&blk), want, 32);
  /* The first block of the chain, in epoch 3. */
  cdl_ledger *l = ledger_for(&genesis.g, 0, 0);
  cdl_rejection rej;
  assert_int_equal(cdl_ledger_apply_block(l, &blk, &rej), CDL_OK);
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(l, &tip);
  assert_memory_equal(tip.hash, want, 32);
  assert_int_equal(tip.slot, 3 * epoch_slots);
  assert_int_equal(cdl_ledger_epoch(l), 3);
  /* After a block, the tag names the genesis where the tip is expected. */
  cdl_buf later;
  make_ebb(4, genesis.g.hash, 1, GENESIS_TAG, &later, &header);
  expect_rejected(l, cdl_span_of(later.data, later.len), CDL_RULE_PREV_HASH);
  cdl_ledger_del(l);
  test_ctx_free(&t), cdl_buf_free(&again), cdl_buf_free(&later), free(prefixed);
  /* Other attributes beside the tag are kept; without it (or spelt in
   * lower case) an EBB past epoch 0 names a block, not the genesis. */
  cdl_buf_free(&ebb);
  make_ebb(3, genesis.g.hash, 0, TAG_AFTER_KEY_1, &ebb, &header);
  assert_int_equal(decode_ebb(&ebb, &t, &blk), CDL_OK);
  assert_true(blk.ebb.genesis_tag && blk.ebb.attrs.count == 2);
  test_ctx_free(&t), cdl_buf_free(&ebb);
  const char *untagged[] = {"a0", LOWER_CASE};
  for (size_t i = 0; i < 2; i++) {
    make_ebb(3, genesis.g.hash, 0, untagged[i], &ebb, &header);
    assert_int_equal(decode_ebb(&ebb, &t, &blk), CDL_OK);
    assert_false(cdl_byron_block_follows_genesis(&blk));
    l = ledger_for(&genesis.g, 0, 0);
    expect_rejected(l, cdl_span_of(ebb.data, ebb.len), CDL_RULE_PREV_HASH);
    cdl_ledger_del(l);
    test_ctx_free(&t), cdl_buf_free(&ebb);
  }
  /* What the reference cannot decode: a text value, keys out of order. */
  make_ebb(3, genesis.g.hash, 0, GENESIS_TAG_TEXT, &ebb, &header);
  assert_int_equal(decode_ebb(&ebb, &t, &blk), CDL_E_TYPE);
  test_ctx_free(&t), cdl_buf_free(&ebb);
  make_ebb(3, genesis.g.hash, 0, TAG_BEFORE_KEY_1, &ebb, &header);
  assert_int_equal(decode_ebb(&ebb, &t, &blk), CDL_E_MAP_ORDER);
  test_ctx_free(&t), cdl_buf_free(&ebb);
}

/* Re-signing a real block with a key no genesis key delegated to. */
static void test_signer_not_delegate(void **state) {
  (void)state;
  reforge rf;
  reforge_init(&rf, 0);
  test_key stranger;
  test_key_make(&stranger, 999);
  size_t i = 777;
  cdl_buf forged;
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block prev;
  assert_int_equal(cdl_byron_block_decode(chain.blocks[i - 1].ptr, chain.blocks[i - 1].len, &t.ctx, &prev), 0);
  reforge_block(&rf, i, cdl_byron_block_hash(&prev), cdl_span_of(NULL, 0), &stranger, &forged);
  cdl_span *blocks = with_block(i, cdl_span_of(forged.data, forged.len));
  expect_at(blocks, i, CDL_RULE_PBFT_NOT_DELEGATE, 0);
  free(blocks);
  cdl_buf_free(&forged);
  test_ctx_free(&t);
  reforge_free(&rf);
}

static uint16_t genesis_index_of(const uint8_t key[64]) {
  uint8_t h[28];
  cdl_byron_key_hash(key, h);
  for (uint16_t g = 0; g < genesis.g.n_boot_stakeholders; g++)
    if (memcmp(genesis.g.boot_stakeholders[g], h, 28) == 0) return g;
  fail_msg("leader is not a genesis key");
  return 0;
}

/* With a threshold of 0.1 (216 of 2160), the first block whose genesis
 * key exceeds its share is rejected; computed here independently. */
static void test_pbft_threshold(void **state) {
  (void)state;
  uint16_t *signer = calloc(chain.n, sizeof *signer);
  size_t expected = 0;
  for (size_t i = 0; i < chain.n && expected == 0; i++) {
    test_ctx t;
    test_ctx_init(&t, 0);
    cdl_byron_block blk;
    assert_int_equal(cdl_byron_block_decode(chain.blocks[i].ptr, chain.blocks[i].len, &t.ctx, &blk), 0);
    signer[i] = blk.is_ebb ? 0xffff : genesis_index_of(blk.header.leader_key);
    if (!blk.is_ebb) {
      size_t count = 0, seen = 0;
      for (size_t j = i + 1; j-- > 0 && seen < 2160;) {
        if (signer[j] == 0xffff) continue;
        seen++;
        count += signer[j] == signer[i];
      }
      if (count > 216) expected = i;
    }
    test_ctx_free(&t);
  }
  assert_true(expected > 216);
  expect_at(chain.blocks, expected, CDL_RULE_PBFT_THRESHOLD, 0.1);
  free(signer);
}

static void test_truncated_chunk(void **state) {
  (void)state;
  char path[] = "/tmp/cardinal-truncated-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  assert_int_equal(fwrite(chain.chunk.data, 1, chain.chunk.len - 100, f), chain.chunk.len - 100);
  fclose(f);
  cdl_chunk_reader *r;
  cdl_error err = {0};
  assert_int_equal(cdl_chunk_reader_open(path, &r, &err), CDL_OK);
  cdl_ledger *l = ledger_for(&genesis.g, 0, CDL_LEDGER_NO_SIGNATURES);
  cdl_replay *rp;
  assert_int_equal(cdl_replay_new(l, 2, &rp), CDL_OK);
  cdl_span spans[512];
  size_t n, applied, total = 0;
  cdl_rejection rej = {0};
  int rc = CDL_OK;
  while (rc == CDL_OK && cdl_chunk_reader_next(r, spans, NULL, 512, &n, &err) == CDL_OK && n > 0) {
    rc = cdl_replay_batch(rp, spans, n, &applied, &rej);
    total += applied;
  }
  assert_int_equal(rc, CDL_E_REJECTED);
  assert_string_equal(rej.rule, "cbor.truncated");
  assert_false(rej.has_block);
  assert_int_equal(total, 21586); /* every block before the cut one */
  cdl_replay_del(rp);
  cdl_ledger_del(l);
  cdl_chunk_reader_close(r);
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_epoch0_replays),     cmocka_unit_test(test_checkpoints),
      cmocka_unit_test(test_signature_flipped),  cmocka_unit_test(test_removed_swapped_repeated),
      cmocka_unit_test(test_ebb_wrong_prev_hash), cmocka_unit_test(test_signer_not_delegate),
      cmocka_unit_test(test_pbft_threshold),     cmocka_unit_test(test_truncated_chunk),
      cmocka_unit_test(test_ebb_genesis_tag),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
