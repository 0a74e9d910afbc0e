/*
 * test_net_codec.c: the mini-protocol message codecs and the handshake
 * negotiation (include/cardinal/net.h) against external vectors: every
 * gouroboros message example decodes and re-encodes byte for byte; the
 * cardano-blueprint handshake samples; the real preprod chain-sync and
 * block-fetch capture (our wrapping of the stored blocks gives exactly
 * the captured messages); the handshake examples of docs/network.md.
 * Every proper prefix of a message is "not all there yet", and hostile
 * variants are refused with the rule they break.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/support.h"
#include "cardinal/crypto.h"
#include "cardinal/wire.h"

/* Decodes one message of |proto| ("chainsync", ...); re-encodes it. */
typedef int (*roundtrip_fn)(const uint8_t *p, size_t n, size_t *used, cdl_buf *again,
                            cdl_error *err);

static int rt_cs(const uint8_t *p, size_t n, size_t *used, cdl_buf *again, cdl_error *err) {
  cdl_cs_msg m;
  int rc = cdl_cs_decode(p, n, &m, used, err);
  if (rc == CDL_OK && again) cdl_cs_encode(again, &m);
  return rc;
}
static int rt_bf(const uint8_t *p, size_t n, size_t *used, cdl_buf *again, cdl_error *err) {
  cdl_bf_msg m;
  int rc = cdl_bf_decode(p, n, &m, used, err);
  if (rc == CDL_OK && again) cdl_bf_encode(again, &m);
  return rc;
}
static int rt_ka(const uint8_t *p, size_t n, size_t *used, cdl_buf *again, cdl_error *err) {
  cdl_ka_msg m;
  int rc = cdl_ka_decode(p, n, &m, used, err);
  if (rc == CDL_OK && again) cdl_ka_encode(again, &m);
  return rc;
}
static int rt_tx(const uint8_t *p, size_t n, size_t *used, cdl_buf *again, cdl_error *err) {
  cdl_tx2_msg m;
  int rc = cdl_tx2_decode(p, n, &m, used, err);
  if (rc == CDL_OK && again) cdl_tx2_encode(again, &m);
  return rc;
}
static int rt_hs(const uint8_t *p, size_t n, size_t *used, cdl_buf *again, cdl_error *err) {
  cdl_hs_msg m;
  int rc = cdl_hs_decode(p, n, &m, used, err);
  if (rc == CDL_OK && again) cdl_hs_encode(again, &m);
  return rc;
}

static roundtrip_fn codec_for(const char *name) {
  if (strncmp(name, "chainsync", 9) == 0) return rt_cs;
  if (strncmp(name, "blockfetch", 10) == 0) return rt_bf;
  if (strncmp(name, "keepalive", 9) == 0) return rt_ka;
  if (strncmp(name, "txsubmission", 12) == 0) return rt_tx;
  if (strncmp(name, "handshake", 9) == 0) return rt_hs;
  return NULL;
}

/* |msg| decodes whole, re-encodes to itself, every proper prefix is
 * "truncated", and trailing bytes are left for the next message. */
static void check_message(roundtrip_fn fn, const uint8_t *msg, size_t len, const char *what) {
  cdl_buf again, twice;
  cdl_buf_init(&again, 0);
  cdl_buf_init(&twice, 0);
  cdl_error err = {0};
  size_t used = 0;
  if (fn(msg, len, &used, &again, &err) != CDL_OK) fail_msg("%s: %s", what, err.message);
  assert_int_equal(used, len);
  assert_int_equal(again.len, len);
  assert_memory_equal(again.data, msg, len);
  for (size_t cut = 0; cut < len; cut++) {
    cdl_error_clear(&err);
    assert_int_equal(fn(msg, cut, &used, NULL, &err), CDL_E_TRUNCATED);
    assert_int_equal(err.code, 0); /* waiting is not an error */
  }
  cdl_buf_append(&twice, msg, len);
  cdl_buf_append(&twice, msg, len);
  assert_int_equal(fn(twice.data, twice.len, &used, NULL, &err), CDL_OK);
  assert_int_equal(used, len);
  cdl_buf_free(&again);
  cdl_buf_free(&twice);
}

static void test_gouroboros_examples(void **state) {
  (void)state;
  DIR *d = opendir(vec_path("network/gouroboros-messages"));
  assert_non_null(d);
  struct dirent *e;
  size_t checked = 0;
  while ((e = readdir(d)) != NULL) {
    if (strstr(e->d_name, ".hex") == NULL) continue;
    roundtrip_fn fn = codec_for(e->d_name);
    assert_non_null(fn);
    char rel[300];
    snprintf(rel, sizeof rel, "network/gouroboros-messages/%s", e->d_name);
    cdl_buf msg;
    cdl_buf_init(&msg, 0);
    vec_read_hex(rel, &msg);
    if (strstr(e->d_name, "RequestRange") != NULL) {
      /* Its points carry 8-byte hashes; every Cardano header hash has 32. */
      size_t used;
      cdl_error err = {0};
      assert_int_equal(fn(msg.data, msg.len, &used, NULL, &err), CDL_E_RANGE);
      assert_non_null(strstr(err.message, "expected 32 bytes"));
    } else {
      check_message(fn, msg.data, msg.len, e->d_name);
    }
    cdl_buf_free(&msg);
    checked++;
  }
  closedir(d);
  assert_int_equal(checked, 26);
}

/* Specific values from the examples. */
static void test_example_values(void **state) {
  (void)state;
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_error err = {0};
  size_t used;
  vec_read_hex("network/gouroboros-messages/chainsync-L339-NewMsgFindIntersect.hex", &b);
  cdl_cs_msg cs;
  assert_int_equal(cdl_cs_decode(b.data, b.len, &cs, &used, &err), CDL_OK);
  assert_int_equal(cs.kind, CDL_CS_FIND_INTERSECT);
  cdl_point pts[4];
  size_t n;
  assert_int_equal(cdl_cs_points(&cs, pts, 4, &n), CDL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(pts[0].slot, 1598399); /* the last legacy-testnet Byron block */
  assert_hash_hex(pts[0].hash, "7e16781b40ebf8b6da18f7b5e8ade855d6738095ef2f1c58c77e88b6e45997a4");
  cdl_buf_free(&b); /* vec_read_hex starts a new buffer */
  vec_read_hex("network/gouroboros-messages/chainsync-L381-NewMsgIntersectNotFound.hex", &b);
  assert_int_equal(cdl_cs_decode(b.data, b.len, &cs, &used, &err), CDL_OK);
  assert_int_equal(cs.tip.point.slot, 0x03520ff4);
  assert_int_equal(cs.tip.block_no, 0x351333);
  cdl_buf_free(&b); /* vec_read_hex starts a new buffer */
  vec_read_hex("network/gouroboros-messages/keepalive-L35-NewMsgKeepAlive.hex", &b);
  cdl_ka_msg ka;
  assert_int_equal(cdl_ka_decode(b.data, b.len, &ka, &used, &err), CDL_OK);
  assert_int_equal(ka.cookie, 12345);
  cdl_buf_free(&b); /* vec_read_hex starts a new buffer */
  vec_read_hex("network/gouroboros-messages/txsubmission-L36-MsgRequestTxIds.hex", &b);
  cdl_tx2_msg tx;
  assert_int_equal(cdl_tx2_decode(b.data, b.len, &tx, &used, &err), CDL_OK);
  assert_true(tx.blocking);
  assert_int_equal(tx.ack, 10);
  assert_int_equal(tx.req, 20);
  cdl_buf_free(&b); /* vec_read_hex starts a new buffer */
  vec_read_hex("network/gouroboros-messages/txsubmission-L72-MsgReplyTxs.hex", &b);
  assert_int_equal(cdl_tx2_decode(b.data, b.len, &tx, &used, &err), CDL_OK);
  assert_int_equal(tx.n_items, 2);
  cdl_buf_free(&b);
}

static void test_sdu_header(void **state) {
  (void)state;
  /* daedalus-turbo network.test.cpp: time 0x0123ABCD, initiator, chain-sync,
   * 12345. */
  cdl_sdu_header h = {0x0123ABCD, CDL_PROTO_CHAIN_SYNC, false, 12345}, back;
  uint8_t out[CDL_SDU_HEADER];
  cdl_sdu_header_encode(&h, out);
  const uint8_t want[] = {0x01, 0x23, 0xAB, 0xCD, 0x00, 0x02, 0x30, 0x39};
  assert_memory_equal(out, want, sizeof want);
  h.from_responder = true;
  h.protocol = 0x7fff;
  cdl_sdu_header_encode(&h, out);
  assert_int_equal(out[4], 0xff);
  assert_int_equal(out[5], 0xff);
  cdl_sdu_header_decode(out, &back);
  assert_true(back.from_responder);
  assert_int_equal(back.protocol, 0x7fff);
  assert_int_equal(back.length, 12345);
  assert_int_equal(back.time_us, 0x0123ABCD);
}

/* ---- Handshake
 * ---------------------------------------------------------------- */

static cdl_hs_config n2n_server(uint32_t magic) {
  cdl_hs_config c = {
      .node_to_client = false, .min_version = 7, .max_version = 15, .data = {.magic = magic}};
  return c;
}

/* Decodes |hex| as a proposal and answers it with |cfg|; the reply bytes
 * must be |want_hex|. */
static cdl_hs_result respond_hex(const cdl_hs_config *cfg, const char *hex, const char *want_hex) {
  uint8_t in[512], want[512];
  size_t n = hex_to_bytes(hex, in, sizeof in),
         wn = want_hex ? hex_to_bytes(want_hex, want, sizeof want) : 0;
  cdl_hs_msg m;
  size_t used;
  cdl_error err = {0};
  if (cdl_hs_decode(in, n, &m, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_int_equal(m.kind, CDL_HS_PROPOSE);
  cdl_buf reply;
  cdl_buf_init(&reply, 0);
  cdl_hs_result res;
  cdl_hs_respond(cfg, &m, &reply, &res);
  if (want_hex) {
    assert_int_equal(reply.len, wn);
    assert_memory_equal(reply.data, want, wn);
  }
  cdl_buf_free(&reply);
  return res;
}

static void test_handshake_negotiation(void **state) {
  (void)state;
  cdl_hs_config mainnet = n2n_server(764824073);
  /* docs/network.md 3.1: V14, mainnet, initiator-only, no sharing, no query. */
  cdl_hs_result r = respond_hex(&mainnet, "8200a10e841a2d964a09f500f4", "83010e841a2d964a09f500f4");
  assert_int_equal(r.outcome, CDL_HS_ACCEPTED);
  assert_int_equal(r.version, 14);
  assert_true(r.agreed.initiator_only);
  /* The highest common version wins: 13 and 14 proposed (blueprint test-3,
   * magic 1). */
  cdl_hs_config preprod = n2n_server(1);
  preprod.data.peer_sharing = 1;
  r = respond_hex(&preprod, "8200a20d8401f501f40e8402f501f4", NULL);
  assert_int_equal(r.outcome, CDL_HS_REFUSED); /* 14 carries magic 2 */
  assert_int_equal(r.version, 14);
  assert_non_null(strstr(r.why, "network magic 2"));
  /* The gouroboros proposal (V7-V10, magic 2) against a 14-15 server: mismatch
   * listing ours. */
  cdl_hs_config modern = n2n_server(2);
  modern.min_version = 14;
  r = respond_hex(&modern, "8200a4078202f4088202f4098202f40a8202f4",
                  "820282008"
                  "20e0f");
  assert_int_equal(r.outcome, CDL_HS_REFUSED);
  /* ... and against 7-15 it picks V10. */
  modern.min_version = 7;
  r = respond_hex(&modern, "8200a4078202f4088202f4098202f40a8202f4", "83010a8202f4");
  assert_int_equal(r.version, 10);
  /* Peer sharing only when both want it; the blueprint's test-2 (magic 0) asks
   * for it. */
  cdl_hs_config zero = n2n_server(0);
  zero.data.peer_sharing = 1;
  r = respond_hex(&zero, "8200a10e8400f401f4", "83010e8400f401f4");
  assert_int_equal(r.agreed.peer_sharing, 1);
  zero.data.peer_sharing = 0;
  r = respond_hex(&zero, "8200a10e8400f401f4", "83010e8400f400f4");
  assert_int_equal(r.agreed.peer_sharing, 0);
  /* A query gets our whole table back. */
  cdl_hs_config small = n2n_server(1);
  small.min_version = 14;
  r = respond_hex(&small, "8200a10e8401f400f5", "8203a20e8401f400f40f8401f400f4");
  assert_int_equal(r.outcome, CDL_HS_QUERIED);
  /* Bad data for the chosen version: refused as a decode error, naming it. */
  r = respond_hex(&small, "8200a10e8301f400", NULL);
  assert_int_equal(r.outcome, CDL_HS_REFUSED);
  assert_non_null(strstr(r.why, "bad version data"));
  /* Unknown versions and their data are skipped. */
  r = respond_hex(&small, "8200a30e8401f400f41864a0190400f6", "83010e8401f400f4");
  assert_int_equal(r.outcome, CDL_HS_ACCEPTED);
}

static void test_handshake_node_to_client(void **state) {
  (void)state;
  cdl_hs_config srv = {
      .node_to_client = true, .min_version = 16, .max_version = 23, .data = {.magic = 764824073}};
  /* N2C 16..19 as the TS library proposes them, [magic, false]. */
  cdl_buf p;
  cdl_buf_init(&p, 0);
  cdl_hs_config cli = srv;
  cli.max_version = 19;
  cdl_hs_encode_propose(&p, &cli);
  cdl_hs_msg m;
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_hs_decode(p.data, p.len, &m, &used, &err), CDL_OK);
  assert_int_equal(m.n_versions, 4);
  assert_int_equal(m.versions[0].number, 0x8010);
  cdl_buf reply;
  cdl_buf_init(&reply, 0);
  cdl_hs_result r;
  cdl_hs_respond(&srv, &m, &reply, &r);
  assert_int_equal(r.outcome, CDL_HS_ACCEPTED);
  assert_int_equal(r.version, 0x8013);
  const uint8_t want[] = {0x83, 0x01, 0x19, 0x80, 0x13, 0x82, 0x1a, 0x2d, 0x96, 0x4a, 0x09, 0xf4};
  assert_int_equal(reply.len, sizeof want);
  assert_memory_equal(reply.data, want, sizeof want);
  /* The client side checks that reply. */
  cdl_hs_msg back;
  assert_int_equal(cdl_hs_decode(reply.data, reply.len, &back, &used, &err), CDL_OK);
  cdl_hs_result cr;
  assert_int_equal(cdl_hs_check_reply(&cli, &back, &cr, &err), CDL_OK);
  assert_int_equal(cr.version, 0x8013);
  /* A node-to-node proposal to a node-to-client server: no common version. */
  cdl_buf_reset(&reply);
  cdl_hs_config n2n = n2n_server(764824073);
  cdl_buf_reset(&p);
  cdl_hs_encode_propose(&p, &n2n);
  assert_int_equal(cdl_hs_decode(p.data, p.len, &m, &used, &err), CDL_OK);
  cdl_hs_respond(&srv, &m, &reply, &r);
  assert_int_equal(r.outcome, CDL_HS_REFUSED);
  assert_int_equal(cdl_hs_decode(reply.data, reply.len, &back, &used, &err), CDL_OK);
  assert_int_equal(cdl_hs_check_reply(&n2n, &back, &cr, &err), CDL_E_REFUSED);
  assert_int_equal(back.reason, CDL_HS_VERSION_MISMATCH);
  assert_int_equal(back.n_versions, 8);
  cdl_buf_free(&p);
  cdl_buf_free(&reply);
}

static void test_blueprint_handshake(void **state) {
  (void)state;
  static const struct {
    const char *file;
    uint8_t kind;
    size_t versions;
  } cases[] = {{"test-0.hex", CDL_HS_PROPOSE, 0},
               {"test-1.hex", CDL_HS_REFUSE, 0},
               {"test-2.hex", CDL_HS_PROPOSE, 1},
               {"test-3.hex", CDL_HS_PROPOSE, 2},
               {"test-4.hex", CDL_HS_ACCEPT, 0}};
  for (size_t i = 0; i < 5; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "network/blueprint-handshake/%s", cases[i].file);
    cdl_buf b;
    cdl_buf_init(&b, 0);
    vec_read_hex(rel, &b);
    cdl_hs_msg m;
    size_t used;
    cdl_error err = {0};
    if (cdl_hs_decode(b.data, b.len, &m, &used, &err) != CDL_OK)
      fail_msg("%s: %s", rel, err.message);
    assert_int_equal(used, b.len);
    assert_int_equal(m.kind, cases[i].kind);
    assert_int_equal(m.n_versions, cases[i].versions);
    if (m.kind == CDL_HS_ACCEPT) {
      cdl_hs_data d;
      assert_int_equal(cdl_hs_decode_data(m.version, m.data, &d, &err), CDL_OK);
      assert_int_equal(d.magic, 1);
      assert_int_equal(d.peer_sharing, 1);
    }
    if (m.kind == CDL_HS_REFUSE) { /* [2, [2, 13, "{"]]: refused */
      assert_int_equal(m.reason, CDL_HS_REFUSED_REASON);
      assert_int_equal(m.text.len, 1);
      assert_int_equal(m.version, 13);
    }
    cdl_buf_free(&b);
  }
}

/* ---- The real preprod capture ----------------------------------------------
 */

static void hex_field(json_t *obj, const char *key, cdl_buf *out) {
  const char *hex = json_string_value(json_object_get(obj, key));
  assert_non_null(hex);
  cdl_buf_reset(out);
  assert_int_equal(cdl_buf_reserve(out, strlen(hex) / 2), CDL_OK);
  out->len = hex_to_bytes(hex, out->data, strlen(hex) / 2);
}

static void hex_item(json_t *arr, size_t i, cdl_buf *out) {
  const char *hex = json_string_value(json_array_get(arr, i));
  assert_non_null(hex);
  cdl_buf_reset(out);
  assert_int_equal(cdl_buf_reserve(out, strlen(hex) / 2), CDL_OK);
  out->len = hex_to_bytes(hex, out->data, strlen(hex) / 2);
}

static void check_capture_block(json_t *root, size_t i) {
  cdl_buf block, rf, mine, msg;
  cdl_buf_init(&block, 0);
  cdl_buf_init(&rf, 0);
  cdl_buf_init(&mine, 0);
  cdl_buf_init(&msg, 0);
  json_t *hdr = json_array_get(json_object_get(root, "headers"), i);
  hex_item(json_object_get(root, "blocks"), i, &block);
  hex_field(hdr, "rollForwardHex", &rf);
  cdl_error err = {0};
  size_t used;
  cdl_cs_msg cs;
  assert_int_equal(cdl_cs_decode(rf.data, rf.len, &cs, &used, &err), CDL_OK);
  assert_int_equal(cs.kind, CDL_CS_ROLL_FORWARD);
  assert_int_equal(cs.tip.point.slot, 132690172);
  assert_int_equal(cs.tip.block_no, 5130466);
  cdl_net_header h;
  assert_int_equal(cdl_net_read_byron_header(cs.content, &h, &err), CDL_OK);
  assert_int_equal(h.subtag, json_integer_value(json_object_get(hdr, "byronType")));
  assert_int_equal(h.size_hint, json_integer_value(json_object_get(hdr, "sizeHint")));
  /* The header hash: Blake2b-256 of [subtag, raw header]. */
  uint8_t wrapped[4096], hash[32];
  wrapped[0] = 0x82;
  wrapped[1] = h.subtag;
  memcpy(wrapped + 2, h.header.ptr, h.header.len);
  cdl_blake2b_256(hash, wrapped, h.header.len + 2);
  assert_hash_hex(hash, json_string_value(json_object_get(hdr, "hash")));
  /* Our wrapping of the stored block is the captured header, and our
   * roll-forward with the captured tip is the captured message. */
  assert_int_equal(cdl_net_enc_byron_header(&mine, block.data, block.len, &err), CDL_OK);
  assert_int_equal(mine.len, cs.content.len);
  assert_memory_equal(mine.data, cs.content.ptr, mine.len);
  cdl_cs_msg out = {
      .kind = CDL_CS_ROLL_FORWARD, .content = cdl_span_of(mine.data, mine.len), .tip = cs.tip};
  cdl_cs_encode(&msg, &out);
  assert_int_equal(msg.len, rf.len);
  assert_memory_equal(msg.data, rf.data, rf.len);
  /* Block-fetch: the captured MsgBlock carries the stored block. */
  hex_item(json_object_get(root, "blockFetchMsgs"), i, &rf);
  cdl_bf_msg bf;
  assert_int_equal(cdl_bf_decode(rf.data, rf.len, &bf, &used, &err), CDL_OK);
  assert_int_equal(bf.kind, CDL_BF_BLOCK);
  assert_int_equal(bf.block.len, block.len);
  assert_memory_equal(bf.block.ptr, block.data, block.len);
  cdl_buf_reset(&msg);
  cdl_bf_msg again = {.kind = CDL_BF_BLOCK, .block = cdl_span_of(block.data, block.len)};
  cdl_bf_encode(&msg, &again);
  assert_int_equal(msg.len, rf.len);
  assert_memory_equal(msg.data, rf.data, rf.len);
  cdl_buf_free(&block);
  cdl_buf_free(&rf);
  cdl_buf_free(&mine);
  cdl_buf_free(&msg);
}

static void test_preprod_capture(void **state) {
  (void)state;
  json_error_t jerr;
  json_t *root = json_load_file(vec_path("network/gerolamo-preprod/byron-preprod.json"), 0, &jerr);
  assert_non_null(root);
  for (size_t i = 0; i < 3; i++) check_capture_block(root, i);
  json_decref(root);
}

/* ---- Hostile messages -------------------------------------------------------
 */

static void expect_refused(roundtrip_fn fn, const char *hex, int code) {
  uint8_t b[256];
  size_t n = hex_to_bytes(hex, b, sizeof b), used;
  cdl_error err = {0};
  int rc = fn(b, n, &used, NULL, &err);
  if (rc != code) fail_msg("%s: got %d (%s), expected %d", hex, rc, err.message, code);
  assert_int_equal(err.code, code == CDL_E_TRUNCATED ? 0 : code); /* waiting is no error */
}

static void test_hostile_messages(void **state) {
  (void)state;
  expect_refused(rt_cs, "820000", CDL_E_TYPE);      /* RequestNext with a field */
  expect_refused(rt_cs, "8108", CDL_E_TAG);         /* no tag 8 */
  expect_refused(rt_cs, "80", CDL_E_TYPE);          /* no tag at all */
  expect_refused(rt_cs, "9f00ff", CDL_E_LIST_FORM); /* indefinite message */
  expect_refused(rt_cs,
                 "8204818201581f"
                 "00000000000000000000000000000000000000000000000000000000000000",
                 CDL_E_RANGE);                           /* 31-byte hash */
  expect_refused(rt_cs, "8204818301020304", CDL_E_TYPE); /* a point of 3 fields */
  expect_refused(rt_bf, "82044401020304", CDL_E_TYPE);   /* a block without its tag 24 */
  expect_refused(rt_ka, "82001a00010000", CDL_E_RANGE);  /* cookie over 16 bits */
  expect_refused(rt_tx, "820180", CDL_E_LIST_FORM);      /* a definite list of ids */
  expect_refused(rt_tx, "8105", CDL_E_TAG);
  expect_refused(rt_hs, "8200a10e", CDL_E_TRUNCATED); /* just not all there */
  expect_refused(rt_hs, "8204a0", CDL_E_TAG);
  expect_refused(rt_hs, "8200a20e000e00", CDL_E_MAP_ORDER); /* version 14 twice */
  expect_refused(rt_cs, "ff", CDL_E_CBOR);
}

/* Cardinal's own query answers (wire.h "Cardinal's own local-state
 * queries"): a UTxO answer stops at its byte bound and says so; hostile
 * answers are refused with the rule they break. */
static void test_cardinal_answers(void **state) {
  (void)state;
  static uint8_t addr[1000];
  addr[0] = 0x59, addr[1] = 0x03, addr[2] = 0xe5; /* a byte string of 997 bytes */
  cdl_buf entries, answer;
  cdl_buf_init(&entries, 0);
  cdl_buf_init(&answer, 0);
  cdl_lsq_txin in = {.index = 0};
  size_t n = 0;
  while (cdl_lsq_utxo_entry_add(&entries, &in, cdl_span_of(addr, sizeof addr), 45000000ull + n))
    n++, in.index++;
  assert_true(n > 1000 && n < 1100); /* about 1,043 bytes an entry under 1 MiB */
  cdl_lsq_enc_utxo_answer(&answer, false, n, cdl_span_of(entries.data, entries.len));
  assert_true(answer.len <= CDL_LSQ_UTXO_ANSWER_MAX);
  assert_true(answer.len + 1043 > CDL_LSQ_UTXO_ANSWER_MAX);
  cdl_lsq_utxo_answer a;
  cdl_error err = {0};
  assert_int_equal(cdl_lsq_utxo_answer_read(cdl_span_of(answer.data, answer.len), &a, &err),
                   CDL_OK);
  assert_false(a.complete);
  assert_int_equal(a.n, n);
  assert_int_equal(a.entries[n - 1].in.index, n - 1);
  assert_int_equal(a.entries[n - 1].lovelace, 45000000ull + n - 1);
  assert_int_equal(a.entries[7].address.len, sizeof addr);
  cdl_lsq_utxo_answer_free(&a);
  static const struct {
    const char *hex;
    int code;
  } BAD[] = {
      {"82f59a0001000000", CDL_E_RANGE},  /* 65,536 entries in 8 bytes */
      {"82f581828258200000000000000000000000000000000000000000000000000000000000000000"
       "0082401b00a0000000000000",
       CDL_E_RANGE},                         /* lovelace over 45e15 */
      {"82f580ff", CDL_E_TRAILING},          /* a byte after it */
      {"83f58000", CDL_E_TYPE},              /* three fields */
      {"861954601908701a2d964a09f4194e2007", CDL_E_TYPE}, /* constants are no UTxO */
  };
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    uint8_t b[128];
    size_t len = hex_to_bytes(BAD[i].hex, b, sizeof b);
    cdl_error e = {0};
    int rc = cdl_lsq_utxo_answer_read(cdl_span_of(b, len), &a, &e);
    if (rc != BAD[i].code) fail_msg("%s: got %d (%s)", BAD[i].hex, rc, e.message);
  }
  /* Constants: mainnet's read back; an epoch that is not 10k slots is refused. */
  uint8_t b[64];
  size_t len = hex_to_bytes("861954601908701a2d964a09f4194e2007", b, sizeof b);
  cdl_lsq_chain_constants c;
  assert_int_equal(cdl_lsq_chain_constants_read(cdl_span_of(b, len), &c, &err), CDL_OK);
  assert_true(c.epoch_slots == 21600 && c.k == 2160 && c.protocol_magic == 764824073);
  assert_true(!c.requires_magic && c.slot_ms == 20000 && c.genesis_keys == 7);
  len = hex_to_bytes("861954611908701a2d964a09f4194e2007", b, sizeof b);
  assert_int_equal(cdl_lsq_chain_constants_read(cdl_span_of(b, len), &c, &err), CDL_E_RANGE);
  cdl_buf_free(&entries);
  cdl_buf_free(&answer);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sdu_header),
      cmocka_unit_test(test_gouroboros_examples),
      cmocka_unit_test(test_example_values),
      cmocka_unit_test(test_blueprint_handshake),
      cmocka_unit_test(test_handshake_negotiation),
      cmocka_unit_test(test_handshake_node_to_client),
      cmocka_unit_test(test_preprod_capture),
      cmocka_unit_test(test_hostile_messages),
      cmocka_unit_test(test_cardinal_answers),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
