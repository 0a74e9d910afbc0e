/*
 * test_blocks.c: every real Byron block among the vectors (mainnet,
 * legacy testnet, preprod): stated hashes and fields, byte-exact
 * re-encoding, all body proofs (including SSC) and block signatures with
 * the delegation certificate, update proposals and votes.
 */
#include <string.h>

#include <jansson.h>

#include "support.h"

typedef struct {
  const char *file;
  uint32_t magic;     /* network the signatures were made for */
  const char *hash;   /* stated (MANIFEST), or NULL */
  const char *prev;   /* or NULL */
  bool ebb;
  uint64_t abs_slot, block_no;
  size_t txs;
  int ssc_tag;        /* -1 for EBBs */
} block_case;

#define MAINNET CDL_BYRON_MAINNET_MAGIC
#define TESTNET 1097911063u
#define UNKNOWN UINT64_MAX

static const block_case CASES[] = {
    {"blocks/daedalus-turbo/mainnet-block-0.cbor", MAINNET,
     "89d9b5a5b8ddc8d7e5a6795e9774d97faf1efea59b2caf7eaf9f8c5b32059df4",
     "5f20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb", true, 0, 0, 0, -1},
    {"blocks/daedalus-turbo/mainnet-block-1.cbor", MAINNET,
     "f0f7892b5c333cffc4b3c4344de48af4cc63f55e44936196f365a9ef2244134f",
     "89d9b5a5b8ddc8d7e5a6795e9774d97faf1efea59b2caf7eaf9f8c5b32059df4", false, 0, 1, 0, 0},
    {"blocks/daedalus-turbo/mainnet-block-slot-1.bin", MAINNET, NULL,
     "f0f7892b5c333cffc4b3c4344de48af4cc63f55e44936196f365a9ef2244134f", false, 1, 2, 0, 0},
    {"blocks/pallas/byron1.block.hex", MAINNET,
     "5c196e7394ace0449ba5a51c919369699b13896e97432894b4f0354dce8670b6", NULL, false, 4492794,
     4490505, 0, 3},
    {"blocks/pallas/byron2.block.hex", MAINNET,
     "5a4f135aac8083df35161afca982d2cbd6c752421ae292ad09735b982d86ce40", NULL, false, 3241381,
     3239842, 2, 0},
    {"blocks/pallas/byron4.block.hex", MAINNET,
     "de23eaf0d9d3960d11c0c44e45f17980a34c11694aaeab06acb0252639e6635d", NULL, false, 43191,
     43167, 1, 2},
    {"blocks/pallas/byron7.block.hex", TESTNET,
     "224d20a7d2d84c8697acf4e9f61334cb2da7415848b99bc448e756ac712ecfa3", NULL, false,
     13 * 21600 + 21247, 301005, 6, 2},
    {"blocks/pallas/byron8.block.hex", 1,
     "f48fffc65e16c3808720b38110a6d284250360108b6198a44331eb0de8e49817", NULL, false,
     2 * 21600 + 11, 23, 0, 3},
    {"blocks/gouroboros/mainnet-Epoch1Slot21601.hex", MAINNET,
     "84ba3d3e3dac8f574db187074e29605c2512ce65d5022f5e7d07e52620f498b0", NULL, false, 21601,
     21588, 0, 0},
    {"blocks/gouroboros/mainnet-Epoch1Slot21602.hex", MAINNET,
     "719e54f0a72386acc0c0953b54b812bc58876238353cef40b66ee630d1c521da",
     "84ba3d3e3dac8f574db187074e29605c2512ce65d5022f5e7d07e52620f498b0", false, 21602, 21589, 0, 0},
    {"blocks/gouroboros/mainnet-Epoch1Slot21603.hex", MAINNET,
     "1615870f1c9877341e67fe1b8cb1c68a46928ef2f45d849be56e00ff61b72765",
     "719e54f0a72386acc0c0953b54b812bc58876238353cef40b66ee630d1c521da", false, 21603, 21590, 1, 0},
    {"blocks/gouroboros/mainnet-Epoch1Slot30240.hex", MAINNET, NULL, NULL, false, 30240,
     UNKNOWN, 0, 1},
    {"blocks/gouroboros/mainnet-Epoch6Slot129601.hex", MAINNET, NULL, NULL, false, 129601,
     UNKNOWN, 0, 0},
    {"blocks/cml/byron_network_block_parse.block.hex", 1,
     "04eabfa6035ea2b8e414bda10e2c00943d26fc9318577dbfc205ff79c3db8677", NULL, false, 21600 + 2161,
     12, 0, 3},
};

static void read_any(const char *file, cdl_buf *out) {
  size_t n = strlen(file);
  if (n > 4 && strcmp(file + n - 4, ".hex") == 0) vec_read_hex(file, out);
  else vec_read(file, out);
}

/* Decodes, re-encodes and checks one block; returns its arena context. */
static void check_block_bytes(const cdl_buf *data, const block_case *c, test_ctx *t,
                              cdl_byron_block *blk) {
  cdl_buf enc;
  uint64_t slot;
  if (cdl_byron_block_decode(data->data, data->len, &t->ctx, blk) != CDL_OK)
    fail_msg("%s: %s", c->file, t->err.message);
  assert_int_equal(blk->is_ebb, c->ebb);
  if (c->hash) assert_hash_hex(cdl_byron_block_hash(blk), c->hash);
  if (c->prev) assert_hash_hex(cdl_byron_block_prev_hash(blk), c->prev);
  assert_int_equal(cdl_byron_block_slot(blk, 21600, &slot), CDL_OK);
  assert_int_equal(slot, c->abs_slot);
  if (c->block_no != UNKNOWN) assert_int_equal(cdl_byron_block_number(blk), c->block_no);
  if (!c->ebb) assert_int_equal(blk->body.n_txs, c->txs);
  if (c->ssc_tag >= 0) assert_int_equal(blk->body.ssc.tag, c->ssc_tag);
  cdl_buf_init(&enc, 0);
  cdl_byron_block_encode(&enc, blk, blk->wrapped);
  assert_int_equal(enc.len, data->len);
  assert_memory_equal(enc.data, data->data, enc.len);
  cdl_buf_free(&enc);
  cdl_error err = {0};
  if (cdl_byron_block_check_body_proof(blk, CDL_BYRON_PROOFS_ALL, &t->arena, &err) != CDL_OK)
    fail_msg("%s: %s", c->file, err.message);
  if (cdl_byron_block_check_signature(blk, c->magic, NULL, &err) != CDL_OK)
    fail_msg("%s: %s", c->file, err.message);
  if (!c->ebb) { /* signed for one network only */
    assert_int_equal(cdl_byron_block_check_signature(blk, c->magic + 1, NULL, &err), CDL_E_CERTIFICATE);
  }
}

static void test_real_blocks(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    const block_case *c = &CASES[i];
    cdl_buf data;
    test_ctx t;
    cdl_byron_block blk;
    read_any(c->file, &data);
    test_ctx_init(&t, 0);
    check_block_bytes(&data, c, &t, &blk);
    cdl_buf_free(&data), test_ctx_free(&t);
  }
}

static void test_block_contents(void **state) {
  (void)state;
  cdl_buf data;
  test_ctx t;
  cdl_byron_block blk;
  /* EBB 0: 21,600 slot leaders, body proof as stated. */
  vec_read("blocks/daedalus-turbo/mainnet-block-0.cbor", &data);
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_block_decode(data.data, data.len, &t.ctx, &blk), CDL_OK);
  assert_int_equal(blk.n_ebb_leaders, 21600);
  assert_int_equal(blk.ebb.body_proof.len, 32);
  assert_hash_hex(blk.ebb.body_proof.ptr, "54f0972807b68698fcd704e3dae675dc43c8a6656aeaf4891e6e3f23be2de00a");
  cdl_buf_free(&data), test_ctx_free(&t);
  /* byron2: two real txs, the first one the pallas tx a06e5a01... */
  vec_read_hex("blocks/pallas/byron2.block.hex", &data);
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_block_decode(data.data, data.len, &t.ctx, &blk), CDL_OK);
  assert_hash_hex(blk.body.txs[0].tx.id, "a06e5a0150e09f8983be2deafab9e04afc60d92e7110999eb672c903343f1e26");
  assert_hash_hex(blk.body.txs[1].tx.id, "f736d55633782151cd528f9918c3587155cbd59c46b6ca839e5b4860a780f379");
  assert_int_equal(blk.body.txs[0].tx.inputs[0].index, 14);
  assert_int_equal(blk.body.txs[0].tx.inputs[0].tx_id[0], 0xda);
  cdl_buf_free(&data), test_ctx_free(&t);
  /* byron1: the last days of Byron endorse protocol version 2.0.0. */
  vec_read_hex("blocks/pallas/byron1.block.hex", &data);
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_block_decode(data.data, data.len, &t.ctx, &blk), CDL_OK);
  assert_int_equal(blk.header.block_version.major, 2);
  assert_memory_equal(blk.header.software_version.app_name.ptr, "cardano-sl", 10);
  cdl_buf_free(&data), test_ctx_free(&t);
}

/* The pallas header-only vector: the header after byron1.block. */
static void test_header_only(void **state) {
  (void)state;
  cdl_buf data;
  test_ctx t;
  cdl_byron_header h;
  cdl_cbor_cursor cur;
  vec_read_hex("blocks/pallas/byron1.header.hex", &data);
  test_ctx_init(&t, 0);
  cdl_cbor_cursor_init(&cur, data.data, data.len, &t.err);
  assert_int_equal(cdl_byron_header_read(&cur, &t.ctx, &h), CDL_OK);
  assert_int_equal(cdl_cbor_expect_end(&cur, "header"), CDL_OK);
  assert_hash_hex(h.hash, "2548ad5d0d9d33d50ab43151f574474454017a733e307229fa509c4987ca9782");
  assert_hash_hex(h.prev_hash, "5c196e7394ace0449ba5a51c919369699b13896e97432894b4f0354dce8670b6");
  cdl_buf enc;
  cdl_buf_init(&enc, 0);
  cdl_byron_header_encode(&enc, &h);
  assert_int_equal(enc.len, data.len);
  assert_memory_equal(enc.data, data.data, data.len);
  cdl_byron_block blk = {0};
  blk.header = h;
  cdl_error err = {0};
  assert_int_equal(cdl_byron_block_check_signature(&blk, MAINNET, NULL, &err), CDL_OK);
  cdl_buf_free(&enc), cdl_buf_free(&data), test_ctx_free(&t);
}

/* Preprod block 23 carries an update proposal and 7 votes. */
static void test_update_payload(void **state) {
  (void)state;
  cdl_buf data;
  test_ctx t;
  cdl_byron_block blk;
  vec_read_hex("blocks/pallas/byron8.block.hex", &data);
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_block_decode(data.data, data.len, &t.ctx, &blk), CDL_OK);
  const cdl_byron_proposal *p = blk.body.proposal;
  assert_non_null(p);
  assert_hash_hex(p->id, "5474e0cf8e8f6b97b6fb962cc1d144c31707279cb655b6f0f83bda64d396fbeb");
  assert_int_equal(p->block_version.major, 2);
  assert_int_equal(p->n_metadata, 1);
  assert_memory_equal(p->metadata[0].system_tag.ptr, "linux", 5);
  assert_true(cdl_byron_proposal_verify(p, 1));
  assert_false(cdl_byron_proposal_verify(p, MAINNET));
  assert_int_equal(blk.body.n_votes, 7);
  for (size_t i = 0; i < 7; i++) {
    assert_memory_equal(blk.body.votes[i].proposal_id, p->id, 32);
    assert_true(blk.body.votes[i].decision);
    assert_true(cdl_byron_vote_verify(&blk.body.votes[i], 1));
    assert_false(cdl_byron_vote_verify(&blk.body.votes[i], 2));
  }
  cdl_buf_free(&data), test_ctx_free(&t);
}

/* Four pieces of real chunks around the epoch 0/1 boundary. */
static void test_chunk_pieces(void **state) {
  (void)state;
  static const char *pieces[] = {"0-0", "0-1", "1-0", "1-1"};
  static const size_t counts[] = {3, 2, 3, 2};
  for (size_t i = 0; i < 4; i++) {
    char rel[96];
    cdl_buf data;
    test_ctx t;
    cdl_cbor_cursor cur;
    snprintf(rel, sizeof rel, "blocks/daedalus-turbo/chunk-registry-new/%s.chunk", pieces[i]);
    vec_read(rel, &data);
    test_ctx_init(&t, 0);
    cdl_cbor_cursor_init(&cur, data.data, data.len, &t.err);
    size_t n = 0;
    while (cdl_cbor_remaining(&cur) > 0) {
      cdl_byron_block blk;
      assert_int_equal(cdl_byron_block_read(&cur, &t.ctx, &blk), CDL_OK);
      assert_int_equal(cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_ALL, &t.arena, &t.err), CDL_OK);
      assert_int_equal(cdl_byron_block_check_signature(&blk, MAINNET, NULL, &t.err), CDL_OK);
      if (i == 1 && n == 1)
        assert_hash_hex(cdl_byron_block_hash(&blk), "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911");
      if (i == 2 && n == 0) {
        assert_true(blk.is_ebb);
        assert_int_equal(blk.ebb.epoch, 1);
        assert_hash_hex(cdl_byron_block_hash(&blk), "1941d944df546dea699791c318aeb9cc63b94e4cdb133d79856cda35bf7ecbb1");
        assert_hash_hex(blk.ebb.prev_hash, "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911");
      }
      n++;
    }
    assert_int_equal(n, counts[i]);
    cdl_buf_free(&data), test_ctx_free(&t);
  }
}

/* cardano-ledger reads the VSS-certificate set with any tag, and cborg
 * accepts tags 6-20 in their one-byte form (libcbor 0.8 alone does not):
 * the real block with its set tag d9 0102 written as c7 still decodes and
 * passes every check, as it would on cardano-node. (Found by fuzz_block.) */
static void test_short_form_set_tag(void **state) {
  (void)state;
  cdl_buf data, copy;
  test_ctx t;
  cdl_byron_block blk;
  vec_read("blocks/daedalus-turbo/mainnet-block-1.cbor", &data);
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_block_decode(data.data, data.len, &t.ctx, &blk), CDL_OK);
  const cdl_byron_ssc *ssc = &blk.body.ssc;
  size_t at = (size_t)(ssc->primary_raw.ptr + ssc->primary_raw.len - data.data);
  assert_memory_equal(data.data + at, "\xd9\x01\x02", 3);
  cdl_buf_init(&copy, 0);
  cdl_buf_append(&copy, data.data, at);
  cdl_buf_append_byte(&copy, 0xc7);
  cdl_buf_append(&copy, data.data + at + 3, data.len - at - 3);
  cdl_byron_block changed;
  assert_int_equal(cdl_byron_block_decode(copy.data, copy.len, &t.ctx, &changed), CDL_OK);
  assert_int_equal(changed.body.ssc.certs_set_tag, 7);
  assert_memory_equal(cdl_byron_block_hash(&changed), cdl_byron_block_hash(&blk), 32);
  assert_int_equal(cdl_byron_block_check_body_proof(&changed, CDL_BYRON_PROOFS_ALL, &t.arena, &t.err), CDL_OK);
  assert_int_equal(cdl_byron_block_check_signature(&changed, MAINNET, NULL, &t.err), CDL_OK);
  cdl_buf enc;
  cdl_buf_init(&enc, 0);
  cdl_byron_block_encode(&enc, &changed, true);
  assert_int_equal(enc.len, copy.len);
  assert_memory_equal(enc.data, copy.data, copy.len);
  cdl_buf_free(&enc), cdl_buf_free(&copy), cdl_buf_free(&data), test_ctx_free(&t);
}

/* The real preprod chain-sync/block-fetch capture (gerolamo). */
static void test_preprod_capture(void **state) {
  (void)state;
  static const char *hashes[] = {"9ad7ff320c9cf74e0f5ee78d22a85ce42bb0a487d0506bf60cfb5a91ea4497d2",
                                 "1d031daf47281f69cd95ab929c269fd26b1434a56a5bbbd65b7afe85ef96b233",
                                 "9972ffaee13b4afcf1a133434161ce25e8ecaf34b7a76e06b0c642125cf911a9"};
  json_error_t jerr;
  json_t *root = json_load_file(vec_path("network/gerolamo-preprod/byron-preprod.json"), 0, &jerr);
  assert_non_null(root);
  json_t *blocks = json_object_get(root, "blocks");
  assert_int_equal(json_array_size(blocks), 3);
  uint8_t prev[32];
  hex_to_bytes("d4b8de7a11d929a323373cbab6c1a9bdc931beffff11db111cf9d57356ee1937", prev, 32);
  for (size_t i = 0; i < 3; i++) {
    const char *hex = json_string_value(json_array_get(blocks, i));
    assert_non_null(hex);
    cdl_buf data;
    test_ctx t;
    cdl_byron_block blk;
    cdl_buf_init(&data, 0);
    assert_int_equal(cdl_hex_decode_loose((const uint8_t *)hex, strlen(hex), &data, NULL), CDL_OK);
    test_ctx_init(&t, 0);
    assert_int_equal(cdl_byron_block_decode(data.data, data.len, &t.ctx, &blk), CDL_OK);
    assert_hash_hex(cdl_byron_block_hash(&blk), hashes[i]);
    assert_memory_equal(cdl_byron_block_prev_hash(&blk), prev, 32);
    memcpy(prev, cdl_byron_block_hash(&blk), 32);
    assert_int_equal(cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_ALL, &t.arena, &t.err), CDL_OK);
    assert_int_equal(cdl_byron_block_check_signature(&blk, 1, NULL, &t.err), CDL_OK);
    if (i == 2) {
      assert_non_null(blk.body.proposal);
      assert_true(cdl_byron_proposal_verify(blk.body.proposal, 1));
      assert_int_equal(blk.body.n_votes, 7);
      for (size_t v = 0; v < 7; v++) assert_true(cdl_byron_vote_verify(&blk.body.votes[v], 1));
    }
    cdl_buf_free(&data), test_ctx_free(&t);
  }
  json_decref(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_blocks),    cmocka_unit_test(test_block_contents),
      cmocka_unit_test(test_header_only),    cmocka_unit_test(test_update_payload),
      cmocka_unit_test(test_chunk_pieces),   cmocka_unit_test(test_preprod_capture),
      cmocka_unit_test(test_short_form_set_tag),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
