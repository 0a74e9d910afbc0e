/*
 * test_server.c: the node-to-node server (include/cardinal/net.h "Node-to-
 * node server", src/net/server*.c) over a ChainDB of the first 3,000 real
 * mainnet blocks (840 immutable, 2,160 volatile), driven by a scripted
 * client made of our codecs and a client mux:
 *  - what clients rely on: a v14 handshake as the TS library proposes it;
 *    intersect at the origin, then roll back to it, then every header in
 *    order (hashes checked against the real blocks), pipelined; await at
 *    the tip; block-fetch ranges byte for byte, a bad range gets no
 *    blocks; keep-alive echoes;
 *  - the same session split at every byte gives the same replies;
 *  - hostile peers: an oversize message in each client state, messages
 *    without agency, silence past each time limit, a zero-length SDU, an
 *    unknown protocol, a garbage handshake, a flood of SDUs; each is a
 *    violation with its rule;
 *  - node-to-client: local chain-sync, the state queries (the Haskell
 *    node's and Cardinal's own, with their bounds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/net.h"
#include "net_support.h"

#define N_BLOCKS 3000
#define SEC 1000000ull
#define MAINNET NET_MAINNET_MAGIC

static served_chain S;

static int group_setup(void **state) {
  test_group_setup(state);
  served_chain_open(&S, "server", N_BLOCKS);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  served_chain_close(&S);
  return 0;
}

typedef scripted_client client;

static const cdl_hs_config SERVER_HS = {false, 7, 15, {MAINNET, false, 0, false}};

static void client_init(client *c) {
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_CHAIN_SYNC,
                                    CDL_PROTO_BLOCK_FETCH, CDL_PROTO_KEEP_ALIVE,
                                    CDL_PROTO_TX_SUBMISSION};
  sc_start(c, S.db, &SERVER_HS, PROTOS, 5);
}

static void send_cs(client *c, cdl_cs_msg m) {
  cdl_cs_encode(&c->msg, &m);
  sc_send(c, 1);
}

/* The next chain-sync reply (fails the test when none). */
static cdl_cs_msg recv_cs(client *c) {
  cdl_span r = sc_take(c, 1);
  cdl_cs_msg m;
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_cs_decode(r.ptr, r.len, &m, &used, &err), CDL_OK);
  return m;
}

static void handshake(client *c) {
  cdl_hs_config mine = {false, 7, 14, {MAINNET, true, 0, false}};
  cdl_hs_result r = sc_handshake(c, &mine);
  assert_int_equal(r.version, 14);
  assert_true(r.agreed.initiator_only);
  assert_true(cdl_n2n_server_ready(c->srv));
}

static cdl_point point_of_block(size_t i) { return point_of(&S.info[i]); }

/* A roll-forward carries block i's header. */
static void assert_header_of(const cdl_cs_msg *m, size_t i) {
  assert_int_equal(m->kind, CDL_CS_ROLL_FORWARD);
  cdl_net_header h;
  cdl_error err = {0};
  assert_int_equal(cdl_net_read_byron_header(m->content, &h, &err), CDL_OK);
  assert_int_equal(h.size_hint, S.e.blocks[i].len);
  uint8_t buf[4096], hash[32];
  buf[0] = 0x82;
  buf[1] = h.subtag;
  memcpy(buf + 2, h.header.ptr, h.header.len);
  cdl_blake2b_256(hash, buf, h.header.len + 2);
  assert_memory_equal(hash, S.info[i].hash, 32);
  assert_int_equal(m->tip.block_no, S.info[N_BLOCKS - 1].block_no);
}

/* ---- What clients rely on
 * ------------------------------------------------------ */

static void test_chain_sync(void **state) {
  (void)state;
  client c;
  client_init(&c);
  handshake(&c);
  cdl_point origin = {.origin = true};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = &origin, .n_points = 1});
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_cs_msg m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_FOUND);
  assert_true(m.point.origin);
  assert_memory_equal(m.tip.point.hash, S.info[N_BLOCKS - 1].hash, 32);
  /* Pipelined: 200 requests at a time. */
  size_t next = 0;
  bool rolled_back = false;
  while (next < N_BLOCKS) {
    for (int k = 0; k < 200; k++) send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
    assert_int_equal(sc_pump(&c), CDL_OK);
    for (int k = 0; k < 200; k++) {
      m = recv_cs(&c);
      if (!rolled_back) {
        assert_int_equal(m.kind, CDL_CS_ROLL_BACKWARD);
        assert_true(m.point.origin);
        rolled_back = true;
        continue;
      }
      if (next == N_BLOCKS) { /* at the tip: await */
        assert_int_equal(m.kind, CDL_CS_AWAIT_REPLY);
        break;
      }
      assert_header_of(&m, next++);
    }
  }
  sc_free(&c);
}

/* A proposal and the first request in one read: the request waits for
 * the handshake, then is answered (the Haskell node leaves it in the
 * socket until its mux starts), not refused as an unknown protocol. */
static void test_request_with_proposal(void **state) {
  (void)state;
  client c;
  client_init(&c);
  cdl_hs_config mine = {false, 7, 14, {MAINNET, true, 0, false}};
  cdl_hs_encode_propose(&c.msg, &mine);
  sc_send(&c, 0);
  cdl_point origin = {.origin = true};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = &origin, .n_points = 1});
  assert_int_equal(sc_pump(&c), CDL_OK); /* one recv: split 0 */
  assert_true(cdl_n2n_server_ready(c.srv));
  cdl_cs_msg m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_FOUND);
  sc_free(&c);
}

static void test_intersections(void **state) {
  (void)state;
  client c;
  client_init(&c);
  handshake(&c);
  /* No points: not found, with the tip (how tools read the tip). */
  cdl_point none[1];
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = none, .n_points = 0});
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_cs_msg m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_NOT_FOUND);
  assert_int_equal(m.tip.point.slot, S.info[N_BLOCKS - 1].slot);
  /* The first listed point on the chain wins; the next reply rolls back to it.
   */
  cdl_point pts[3] = {{.slot = 5, .hash = {1}}, point_of_block(2500), point_of_block(10)};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = pts, .n_points = 3});
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  assert_int_equal(sc_pump(&c), CDL_OK);
  m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_FOUND);
  assert_memory_equal(m.point.hash, S.info[2500].hash, 32);
  m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_ROLL_BACKWARD);
  assert_memory_equal(m.point.hash, S.info[2500].hash, 32);
  m = recv_cs(&c);
  assert_header_of(&m, 2501);
  /* MsgDone ends chain-sync only: keep-alive still answers. */
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_DONE});
  cdl_ka_msg ka = {.kind = CDL_KA_KEEP_ALIVE, .cookie = 4242};
  cdl_ka_encode(&c.msg, &ka);
  sc_send(&c, 3);
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_span in = cdl_mux_ingress(&c.mux, 3);
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_ka_decode(in.ptr, in.len, &ka, &used, &err), CDL_OK);
  assert_int_equal(ka.kind, CDL_KA_RESPONSE);
  assert_int_equal(ka.cookie, 4242);
  sc_free(&c);
}

/* Requests block-fetch [from, to]; returns the blocks' count, checking
 * each against the real chain from |from|, or -1 for MsgNoBlocks. */
static long fetch(client *c, cdl_point from, cdl_point to, size_t first) {
  cdl_bf_msg req = {.kind = CDL_BF_REQUEST_RANGE, .from = from, .to = to};
  cdl_bf_encode(&c->msg, &req);
  sc_send(c, 2);
  assert_int_equal(sc_pump(c), CDL_OK);
  long got = -1;
  for (;;) {
    cdl_span in = cdl_mux_ingress(&c->mux, 2);
    cdl_bf_msg m;
    size_t used;
    cdl_error err = {0};
    int rc = cdl_bf_decode(in.ptr, in.len, &m, &used, &err);
    if (rc != CDL_OK)
      fail_msg("block-fetch reply %ld: %d %s (%zu bytes)", got, rc, err.message, in.len);
    if (m.kind == CDL_BF_BLOCK) {
      size_t i = first + (size_t)got;
      assert_int_equal(m.block.len, S.e.blocks[i].len);
      assert_memory_equal(m.block.ptr, S.e.blocks[i].ptr, m.block.len);
      got++;
    }
    cdl_mux_consume(&c->mux, 2, used);
    if (m.kind == CDL_BF_START_BATCH) got = 0;
    if (m.kind == CDL_BF_NO_BLOCKS || m.kind == CDL_BF_BATCH_DONE) return got;
  }
}

static void test_block_fetch(void **state) {
  (void)state;
  client c;
  client_init(&c);
  handshake(&c);
  assert_int_equal(fetch(&c, point_of_block(10), point_of_block(2600), 10), 2591);
  assert_int_equal(fetch(&c, point_of_block(7), point_of_block(7), 7), 1);
  assert_int_equal(fetch(&c, point_of_block(2999), point_of_block(2999), 2999), 1);
  assert_int_equal(fetch(&c, point_of_block(20), point_of_block(10), 0), -1); /* reversed */
  cdl_point nowhere = {.slot = 3, .hash = {9}};
  assert_int_equal(fetch(&c, point_of_block(1), nowhere, 0), -1);
  cdl_point origin = {.origin = true};
  assert_int_equal(fetch(&c, origin, point_of_block(3), 0), -1);
  sc_free(&c);
}

/* ---- The same session, split at every byte
 * ------------------------------------ */

/* Handshake, intersect at the origin, 5 requests, a ping and a 3-block
 * range; every reply byte of every protocol, in |out|. */
static void session(size_t split, cdl_buf *out) {
  client c;
  client_init(&c);
  c.split = split;
  handshake(&c);
  cdl_point origin = {.origin = true};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = &origin, .n_points = 1});
  for (int k = 0; k < 5; k++) send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  cdl_ka_msg ka = {.kind = CDL_KA_KEEP_ALIVE, .cookie = 7};
  cdl_ka_encode(&c.msg, &ka);
  sc_send(&c, 3);
  cdl_bf_msg req = {
      .kind = CDL_BF_REQUEST_RANGE, .from = point_of_block(4), .to = point_of_block(6)};
  cdl_bf_encode(&c.msg, &req);
  sc_send(&c, 2);
  assert_int_equal(sc_pump(&c), CDL_OK);
  for (int ch = 1; ch <= 3; ch++) {
    cdl_span in = cdl_mux_ingress(&c.mux, ch);
    cdl_buf_append(out, in.ptr, in.len);
  }
  sc_free(&c);
}

static void test_any_split(void **state) {
  (void)state;
  cdl_buf whole;
  cdl_buf_init(&whole, 0);
  session(0, &whole);
  assert_true(whole.len > 3 * 600);
  size_t splits[] = {1, 2, 3, 5, 7, 8, 9, 13, 64, 1000};
  for (size_t i = 0; i < sizeof splits / sizeof *splits; i++) {
    cdl_buf again;
    cdl_buf_init(&again, 0);
    session(splits[i], &again);
    assert_int_equal(again.len, whole.len);
    assert_memory_equal(again.data, whole.data, whole.len);
    cdl_buf_free(&again);
  }
  cdl_buf_free(&whole);
}

/* ---- Hostile peers
 * ------------------------------------------------------------ */

/* A message that never ends: a byte string of 100,000 declared bytes in
 * an array, sent in full SDUs until the server gives up. */
static int oversize(client *c, uint16_t proto) {
  static uint8_t chunk[12288];
  const uint8_t start[] = {0x82, 0x04, 0x5a, 0x00, 0x01, 0x86, 0xa0};
  memcpy(chunk, start, sizeof start);
  int rc = sc_raw_sdu(c, proto, chunk, sizeof chunk);
  memset(chunk, 0, sizeof start);
  for (int k = 0; k < 10 && rc == CDL_OK; k++) rc = sc_raw_sdu(c, proto, chunk, sizeof chunk);
  return rc;
}

static void test_oversize_messages(void **state) {
  (void)state;
  client c;
  client_init(&c);
  sc_expect_violation(&c, oversize(&c, CDL_PROTO_HANDSHAKE), CDL_E_LIMIT,
                      "ingress overrun on protocol 0");
  static const struct {
    uint16_t proto;
    const char *words;
  } cases[] = {
      {CDL_PROTO_CHAIN_SYNC, "chain-sync: a message over 65535"},
      {CDL_PROTO_BLOCK_FETCH, "block-fetch: a message over 65535"},
      {CDL_PROTO_KEEP_ALIVE, "ingress overrun on protocol 8"}, /* 1,408 bytes first */
      {CDL_PROTO_TX_SUBMISSION, "tx-submission: a message over 65535"},
  };
  for (size_t i = 0; i < 4; i++) {
    client_init(&c);
    handshake(&c);
    sc_expect_violation(&c, oversize(&c, cases[i].proto), CDL_E_LIMIT, cases[i].words);
  }
}

static void test_without_agency(void **state) {
  (void)state;
  static const struct {
    uint16_t proto;
    const char *hex;
    const char *words;
  } cases[] = {
      {CDL_PROTO_CHAIN_SYNC, "8101", "may not send MsgAwaitReply"},
      {CDL_PROTO_CHAIN_SYNC, "830580828000", "may not send MsgIntersectFound"},
      {CDL_PROTO_BLOCK_FETCH, "8102", "may not send MsgStartBatch"},
      {CDL_PROTO_KEEP_ALIVE, "8201182a", "may not send MsgKeepAliveResponse"},
      {CDL_PROTO_TX_SUBMISSION, "8400f50101", "may not send MsgRequestTxIds"},
      {CDL_PROTO_TX_SUBMISSION, "81068104", "while the server has agency"}, /* Init, then Done */
  };
  for (size_t i = 0; i < 6; i++) {
    client c;
    client_init(&c);
    handshake(&c);
    uint8_t b[32];
    size_t n = hex_to_bytes(cases[i].hex, b, sizeof b);
    sc_expect_violation(&c, sc_raw_sdu(&c, cases[i].proto, b, n), CDL_E_PROTOCOL, cases[i].words);
  }
}

static void test_silence(void **state) {
  (void)state;
  client c;
  client_init(&c);
  uint64_t t0 = c.now;
  assert_int_equal(cdl_n2n_server_deadline(c.srv), t0 + 10 * SEC);
  assert_int_equal(cdl_n2n_server_poll(c.srv, t0 + 10 * SEC - 1, &c.err), CDL_OK);
  sc_expect_violation(&c, cdl_n2n_server_poll(c.srv, t0 + 10 * SEC, &c.err), CDL_E_TIMEOUT,
                      "handshake: no message within 10 s");
  /* After the handshake: keep-alive 97 s, chain-sync idle 3,373 s. */
  client_init(&c);
  handshake(&c);
  t0 = c.now;
  assert_int_equal(cdl_n2n_server_deadline(c.srv), t0 + 97 * SEC);
  sc_expect_violation(&c, cdl_n2n_server_poll(c.srv, t0 + 97 * SEC, &c.err), CDL_E_TIMEOUT,
                      "keep-alive: no message within 97 s");
  client_init(&c);
  handshake(&c);
  uint8_t done[] = {0x81, 0x02};
  assert_int_equal(sc_raw_sdu(&c, CDL_PROTO_KEEP_ALIVE, done, 2), CDL_OK); /* keep-alive ends */
  assert_int_equal(cdl_n2n_server_poll(c.srv, t0 + 3372 * SEC, &c.err), CDL_OK);
  sc_expect_violation(&c, cdl_n2n_server_poll(c.srv, t0 + 3373 * SEC, &c.err), CDL_E_TIMEOUT,
                      "chain-sync: no message within 3373 s");
  /* Half an SDU, then nothing for 30 s. */
  client_init(&c);
  handshake(&c);
  uint8_t half[5] = {0};
  assert_int_equal(sc_to_server(&c, half, 5), CDL_OK);
  sc_expect_violation(&c, cdl_n2n_server_poll(c.srv, c.now + 30 * SEC, &c.err), CDL_E_TIMEOUT,
                      "SDU took longer than 30000 ms");
}

static void test_bad_framing(void **state) {
  (void)state;
  client c;
  client_init(&c);
  sc_expect_violation(&c, sc_raw_sdu(&c, CDL_PROTO_HANDSHAKE, NULL, 0), CDL_E_PROTOCOL,
                      "no payload");
  client_init(&c);
  uint8_t req[] = {0x81, 0x00};
  sc_expect_violation(&c, sc_raw_sdu(&c, CDL_PROTO_CHAIN_SYNC, req, 2), CDL_E_PROTOCOL,
                      "unknown mini-protocol 2"); /* before the handshake */
  client_init(&c);
  handshake(&c);
  sc_expect_violation(&c, sc_raw_sdu(&c, 11, req, 2), CDL_E_PROTOCOL, "unknown mini-protocol 11");
  /* Garbage handshakes: not CBOR, a reply instead of a proposal, trailing junk.
   */
  static const char *garbage[] = {"ffffffff", "83010e841a2d964a09f500f4", "8200a0ff"};
  for (size_t i = 0; i < 3; i++) {
    client_init(&c);
    uint8_t b[32];
    size_t n = hex_to_bytes(garbage[i], b, sizeof b);
    int rc = sc_raw_sdu(&c, CDL_PROTO_HANDSHAKE, b, n);
    assert_true(rc != CDL_OK);
    assert_false(cdl_n2n_server_ready(c.srv));
    sc_free(&c);
  }
  /* A refused handshake ends the connection after the reply. */
  client_init(&c);
  cdl_hs_config testnet = {false, 7, 14, {1097911063, true, 0, false}};
  cdl_hs_encode_propose(&c.msg, &testnet);
  sc_send(&c, 0);
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_true(cdl_n2n_server_finished(c.srv));
  sc_expect_violation(&c, sc_raw_sdu(&c, CDL_PROTO_HANDSHAKE, req, 2), CDL_E_PROTOCOL,
                      "after the handshake ended");
}

/* Requests piling up while the server waits at the tip overrun the
 * chain-sync ingress (462,000 bytes). */
static void test_flood(void **state) {
  (void)state;
  client c;
  client_init(&c);
  handshake(&c);
  cdl_point tip = point_of_block(N_BLOCKS - 1);
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = &tip, .n_points = 1});
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(recv_cs(&c).kind, CDL_CS_INTERSECT_FOUND);
  assert_int_equal(recv_cs(&c).kind, CDL_CS_ROLL_BACKWARD);
  assert_int_equal(recv_cs(&c).kind, CDL_CS_AWAIT_REPLY);
  static uint8_t many[12288];
  for (size_t i = 0; i < sizeof many; i += 2) many[i] = 0x81, many[i + 1] = 0x00;
  int rc = CDL_OK;
  int sdus = 0;
  while (rc == CDL_OK && sdus < 100)
    rc = sc_raw_sdu(&c, CDL_PROTO_CHAIN_SYNC, many, sizeof many), sdus++;
  assert_int_equal(sdus, 38); /* 37 x 12,288 = 454,656 fit; the 38th does not */
  sc_expect_violation(&c, rc, CDL_E_LIMIT, "ingress overrun on protocol 2");
}

/* ---- Node-to-client: local chain-sync and local state query ----------- */

#define MAINNET_START 1506203091u /* 2017-09-23T21:44:51Z */

/* A node-to-client client: channels handshake 0, local chain-sync 1,
 * local state query 2. */
static void local_init(client *c) {
  static const cdl_hs_config LOCAL_HS = {true, 9, 23, {MAINNET, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_LOCAL_CHAIN_SYNC,
                                    CDL_PROTO_LOCAL_STATE_QUERY};
  sc_start(c, S.db, &LOCAL_HS, PROTOS, 3);
  cdl_n2n_server_set_system_start(c->srv, MAINNET_START);
  cdl_hs_config mine = {true, 16, 19, {MAINNET, false, 0, false}}; /* what TS proposes */
  assert_int_equal(sc_handshake(c, &mine).version, 19 | CDL_HS_N2C_BIT);
}

/* Sends one state-query message and returns the reply's bytes. */
static cdl_lsq_msg lsq(client *c, cdl_lsq_msg m) {
  cdl_lsq_encode(&c->msg, &m);
  sc_send(c, 2);
  assert_int_equal(sc_pump(c), CDL_OK);
  cdl_span in = sc_take(c, 2);
  cdl_lsq_msg r;
  size_t used;
  cdl_error err = {0};
  if (cdl_lsq_decode(in.ptr, in.len, &r, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  return r;
}

static void expect_result(client *c, const uint8_t *query, size_t qn, const char *result_hex) {
  cdl_lsq_msg r = lsq(c, (cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = cdl_span_of(query, qn)});
  assert_int_equal(r.kind, CDL_LSQ_RESULT);
  char hex[512];
  assert_true(r.result.len * 2 < sizeof hex);
  cdl_hex_encode(r.result.ptr, r.result.len, hex);
  assert_string_equal(hex, result_hex);
}

static void test_local_chain_sync(void **state) {
  (void)state;
  client c;
  local_init(&c);
  cdl_point origin = {.origin = true};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = &origin, .n_points = 1});
  for (int k = 0; k < 4; k++) send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(recv_cs(&c).kind, CDL_CS_INTERSECT_FOUND);
  assert_int_equal(recv_cs(&c).kind, CDL_CS_ROLL_BACKWARD);
  for (size_t i = 0; i < 3; i++) { /* whole blocks: #6.24(bytes stored block) */
    cdl_cs_msg m = recv_cs(&c);
    assert_int_equal(m.kind, CDL_CS_ROLL_FORWARD);
    cdl_cbor_cursor cur;
    cdl_span block;
    cdl_error err = {0};
    cdl_cbor_cursor_init(&cur, m.content.ptr, m.content.len, &err);
    assert_int_equal(cdl_net_read_block(&cur, &block), CDL_OK);
    assert_int_equal(block.len, S.e.blocks[i].len);
    assert_memory_equal(block.ptr, S.e.blocks[i].ptr, block.len);
  }
  /* No time limits on a local client: an hour of silence is fine. */
  c.now += 3600 * SEC;
  assert_int_equal(cdl_n2n_server_poll(c.srv, c.now, &c.err), CDL_OK);
  assert_int_equal(cdl_n2n_server_deadline(c.srv), UINT64_MAX);
  /* Node-to-node protocols do not exist here. */
  cdl_ka_msg ka = {.kind = CDL_KA_KEEP_ALIVE, .cookie = 1};
  cdl_ka_encode(&c.msg, &ka);
  sc_expect_violation(&c, sc_raw_sdu(&c, CDL_PROTO_KEEP_ALIVE, c.msg.data, c.msg.len),
                      CDL_E_PROTOCOL, "unknown");
}

static void test_local_state_query(void **state) {
  (void)state;
  client c;
  local_init(&c);
  static const uint8_t START[] = {0x81, 0x01}, BLOCK_NO[] = {0x81, 0x02}, POINT[] = {0x81, 0x03},
                       ERA[] = {0x82, 0x00, 0x82, 0x02, 0x81, 0x01},
                       BYRON[] = {0x82, 0x00, 0x82, 0x00, 0x82, 0x00, 0x00},
                       UNKNOWN[] = {0x81, 0x04};
  assert_int_equal(lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  /* 2017, day 266, 21:44:51 = 78,291 s in picoseconds. */
  expect_result(&c, START, sizeof START, "831907e119010a1b0116253fec1c3000");
  char want[128];
  snprintf(want, sizeof want, "82011a%08x", (unsigned)S.info[N_BLOCKS - 1].block_no);
  if (S.info[N_BLOCKS - 1].block_no < 65536)
    snprintf(want, sizeof want, "820119%04x", (unsigned)S.info[N_BLOCKS - 1].block_no);
  expect_result(&c, BLOCK_NO, sizeof BLOCK_NO, want);
  char hash[65];
  cdl_hex_encode(S.info[N_BLOCKS - 1].hash, 32, hash);
  snprintf(want, sizeof want, "82190%03x5820%s", (unsigned)S.info[N_BLOCKS - 1].slot, hash);
  expect_result(&c, POINT, sizeof POINT, want);
  expect_result(&c, ERA, sizeof ERA, "00");
  cdl_lsq_msg r =
      lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = cdl_span_of(BYRON, sizeof BYRON)});
  assert_int_equal(r.kind, CDL_LSQ_RESULT);
  /* [state]: 11 fields, epoch 0, version 0.0.0, mainnet's parameters (20 s
   * slots), then the empty collections exactly as the consensus golden. */
  static const uint8_t HEAD[] = {0x81, 0x8b, 0x00, 0x83, 0x00, 0x00,
                                 0x00, 0x8e, 0x00, 0x19, 0x4e, 0x20};
  static const uint8_t TAIL[] = {0x9f, 0xff, 0xa0, 0xa0, 0xa0, 0xa0,
                                 0xa0, 0xd9, 0x01, 0x02, 0x80, 0xa0};
  assert_memory_equal(r.result.ptr, HEAD, sizeof HEAD);
  assert_memory_equal(r.result.ptr + r.result.len - sizeof TAIL, TAIL, sizeof TAIL);
  cdl_buf golden;
  vec_read("golden/ouroboros-consensus/byron/QueryVersion3/ByronNodeToClientVersion1/Result",
           &golden);
  assert_memory_equal(golden.data + golden.len - sizeof TAIL, TAIL, sizeof TAIL);
  cdl_buf_free(&golden);
  /* The parameters' encoding is cardano-ledger's (its golden example). */
  cdl_byron_protocol_params pp = {
      999, 999, 999, 999, 999, 999, 99, 99, 99, 99, 99, 99, 99, 99, 999000000000ull, 77000000000ull,
      99};
  cdl_buf enc;
  cdl_buf_init(&enc, 0);
  cdl_byron_params_encode(&enc, &pp);
  vec_read_golden("golden/cardano-ledger-byron/ledger/impl/cbor/update/ProtocolParameters",
                  &golden);
  assert_int_equal(enc.len, golden.len);
  assert_memory_equal(enc.data, golden.data, enc.len);
  cdl_buf_free(&golden), cdl_buf_free(&enc);
  /* Re-acquire at a point: an older one on the chain is too old, an unknown one is not on the
   * chain (and releases). */
  cdl_point old = point_of_block(10), bogus = old;
  bogus.hash[0] ^= 1;
  r = lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_REACQUIRE, .point = old});
  assert_true(r.kind == CDL_LSQ_FAILURE && r.failure == CDL_LSQ_POINT_TOO_OLD);
  r = lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE, .point = bogus});
  assert_true(r.kind == CDL_LSQ_FAILURE && r.failure == CDL_LSQ_POINT_NOT_ON_CHAIN);
  r = lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_IMMUTABLE_TIP});
  assert_int_equal(r.kind, CDL_LSQ_ACQUIRED);
  snprintf(want, sizeof want, "820119%04x", (unsigned)S.info[N_BLOCKS - 2161].block_no);
  expect_result(&c, BLOCK_NO, sizeof BLOCK_NO, want);
  /* The ledger state of the immutable tip is not kept. */
  cdl_lsq_encode(&c.msg, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = cdl_span_of(BYRON, 7)});
  sc_send(&c, 2);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_NOT_FOUND, "no longer kept");
  local_init(&c);
  assert_int_equal(lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  cdl_lsq_encode(&c.msg, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = cdl_span_of(UNKNOWN, 2)});
  sc_send(&c, 2);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "a query this node does not know");
  local_init(&c); /* a query before acquiring: no agency for it */
  cdl_lsq_encode(&c.msg, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = cdl_span_of(START, 2)});
  sc_send(&c, 2);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "MsgQuery while idle");
}

/* ---- Cardinal's own queries (docs/network.md "Cardinal's own queries") ---- */

/* A local client acquired at the tip, with the genesis slot length given. */
static void cardinal_init(client *c) {
  local_init(c);
  cdl_n2n_server_set_slot_ms(c->srv, 20000);
  assert_int_equal(lsq(c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
}

/* The query in c->msg ends the connection with |code| and |words|. */
static void expect_query_refused(client *c, const cdl_buf *q, int code, const char *words) {
  cdl_lsq_encode(&c->msg, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY,
                                         .query = cdl_span_of(q->data, q->len)});
  sc_send(c, 2);
  sc_expect_violation(c, sc_pump(c), code, words);
}

static cdl_lsq_utxo_answer ask_utxo(client *c, const cdl_buf *q) {
  cdl_lsq_msg r =
      lsq(c, (cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = cdl_span_of(q->data, q->len)});
  assert_int_equal(r.kind, CDL_LSQ_RESULT);
  cdl_lsq_utxo_answer a;
  cdl_error err = {0};
  if (cdl_lsq_utxo_answer_read(r.result, &a, &err) != CDL_OK) fail_msg("%s", err.message);
  return a;
}

typedef struct expected {
  cdl_ledger_output o[8];
  size_t n;
} expected;

static bool expect_output(void *ctx, const cdl_ledger_output *o) {
  expected *e = ctx;
  assert_true(e->n < 8);
  e->o[e->n++] = *o;
  return true;
}

/* Each answered entry is one of the ledger's outputs |want|, all of them. */
static void assert_same_outputs(const cdl_lsq_utxo_answer *a, const expected *want) {
  assert_true(a->complete);
  assert_int_equal(a->n, want->n);
  for (size_t i = 0; i < a->n; i++) {
    const cdl_lsq_utxo_entry *e = &a->entries[i];
    size_t j = 0;
    while (j < want->n && (memcmp(want->o[j].tx_id, e->in.tx_id, 32) != 0 ||
                           want->o[j].index != e->in.index))
      j++;
    assert_true(j < want->n);
    assert_int_equal(e->lovelace, want->o[j].lovelace);
    assert_int_equal(e->address.len, want->o[j].address.len);
    assert_memory_equal(e->address.ptr, want->o[j].address.ptr, e->address.len);
  }
}

static const uint8_t CONSTANTS[] = {0x81, 0x19, 0xcd, 0x03};
/* [21600, 2160, 764824073, false, 20000 ms, 7 genesis keys] */
static const char MAINNET_CONSTANTS[] = "861954601908701a2d964a09f4194e2007";

/* The redeem addresses of the first three genesis AVVM entries, and one
 * of a key nobody paid. */
static void avvm_addresses(cdl_buf addr[4], cdl_span spans[4]) {
  for (size_t i = 0; i < 4; i++) {
    cdl_buf_init(&addr[i], 0);
    uint8_t pk[32];
    memcpy(pk, S.g.g.avvm[i].pk, 32);
    if (i == 3) pk[0] ^= 0xff;
    assert_int_equal(cdl_byron_address_make_redeem(pk, false, 0, &addr[i]), CDL_OK);
    spans[i] = cdl_span_of(addr[i].data, addr[i].len);
  }
}

static void test_cardinal_queries(void **state) {
  (void)state;
  client c;
  cardinal_init(&c);
  expect_result(&c, CONSTANTS, sizeof CONSTANTS, MAINNET_CONSTANTS);
  /* The answer holds exactly the ledger's outputs at the addresses. */
  cdl_buf addr[4], q;
  cdl_span spans[4];
  avvm_addresses(addr, spans);
  expected want = {0};
  cdl_ledger_utxo_by_address(cdl_chaindb_ledger(S.db), spans, 4, expect_output, &want);
  assert_int_equal(want.n, 3);
  cdl_buf_init(&q, 0);
  cdl_lsq_enc_utxo_by_address(&q, spans, 4);
  cdl_lsq_utxo_answer a = ask_utxo(&c, &q);
  assert_same_outputs(&a, &want);
  /* By input: two of those and one that does not exist. */
  cdl_lsq_txin ins[3];
  for (size_t i = 0; i < 2; i++) ins[i] = (cdl_lsq_txin){.index = want.o[i].index};
  memcpy(ins[0].tx_id, want.o[0].tx_id, 32);
  memcpy(ins[1].tx_id, want.o[1].tx_id, 32);
  ins[2] = ins[1];
  ins[2].index = 7;
  cdl_lsq_utxo_answer_free(&a);
  cdl_buf_reset(&q);
  cdl_lsq_enc_utxo_by_input(&q, ins, 3);
  a = ask_utxo(&c, &q);
  want.n = 2;
  assert_same_outputs(&a, &want);
  cdl_lsq_utxo_answer_free(&a);
  sc_free(&c);
  for (size_t i = 0; i < 4; i++) cdl_buf_free(&addr[i]);
  cdl_buf_free(&q);
}

/* Over the bounds, malformed, or not answerable: the connection ends
 * with the reason. */
static void test_cardinal_query_refusals(void **state) {
  (void)state;
  client c;
  cdl_buf addr[4], q;
  cdl_span spans[4], many[CDL_LSQ_UTXO_MAX_ADDRESSES + 1];
  avvm_addresses(addr, spans);
  for (size_t i = 0; i <= CDL_LSQ_UTXO_MAX_ADDRESSES; i++) many[i] = spans[i % 4];
  cdl_buf_init(&q, 0);
  cdl_lsq_enc_utxo_by_address(&q, many, CDL_LSQ_UTXO_MAX_ADDRESSES + 1);
  cardinal_init(&c);
  expect_query_refused(&c, &q, CDL_E_LIMIT, "65 addresses in one query, over 64");
  static uint8_t big[1100];
  big[0] = 0x59, big[1] = 0x04, big[2] = 0x49; /* a byte string of 1097 bytes */
  cdl_span huge = cdl_span_of(big, sizeof big);
  cdl_buf_reset(&q);
  cdl_lsq_enc_utxo_by_address(&q, &huge, 1);
  cardinal_init(&c);
  expect_query_refused(&c, &q, CDL_E_LIMIT, "1100 bytes, over 1024");
  cdl_buf_reset(&q);
  cdl_cbor_enc_array(&q, 1);
  cdl_cbor_enc_uint(&q, CDL_LSQ_Q_UTXO_BY_ADDRESS);
  cardinal_init(&c);
  expect_query_refused(&c, &q, CDL_E_TYPE, "1 fields, expected 2");
  /* No slot length given: the constants are not answered. */
  local_init(&c);
  assert_int_equal(lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  cdl_buf_reset(&q);
  cdl_lsq_enc_chain_constants_query(&q);
  expect_query_refused(&c, &q, CDL_E_PROTOCOL, "no slot length");
  /* At the immutable tip the constants are the same; its UTxO is not kept. */
  local_init(&c);
  cdl_n2n_server_set_slot_ms(c.srv, 20000);
  assert_int_equal(lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_IMMUTABLE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  expect_result(&c, CONSTANTS, sizeof CONSTANTS, MAINNET_CONSTANTS);
  cdl_buf_reset(&q);
  cdl_lsq_enc_utxo_by_address(&q, spans, 1);
  expect_query_refused(&c, &q, CDL_E_NOT_FOUND, "no longer kept");
  /* A chain without a ledger (a node that does not know these queries). */
  static const cdl_hs_config LOCAL_HS = {true, 9, 23, {MAINNET, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_LOCAL_CHAIN_SYNC,
                                    CDL_PROTO_LOCAL_STATE_QUERY};
  cdl_n2n_chain bare = S.chain;
  bare.ledger = NULL;
  sc_start_chain(&c, &bare, &LOCAL_HS, PROTOS, 3);
  cdl_hs_config mine = {true, 16, 19, {MAINNET, false, 0, false}};
  sc_handshake(&c, &mine);
  assert_int_equal(lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  expect_query_refused(&c, &q, CDL_E_PROTOCOL, "a query this node does not know");
  for (size_t i = 0; i < 4; i++) cdl_buf_free(&addr[i]);
  cdl_buf_free(&q);
}

/* A point is (slot, hash): a real block's hash under another slot names no
 * block. The first blocks are the epoch-0 EBB and main block 1, both at
 * slot 0, so EBB points keep the slot of the epoch's first slot. */
static void test_points_need_their_slot(void **state) {
  (void)state;
  assert_true(S.info[0].is_ebb && S.info[0].slot == 0 && S.info[1].slot == 0);
  cdl_point tip = point_of_block(N_BLOCKS - 1), tip_elsewhere = tip;
  tip_elsewhere.slot = 12345;
  cdl_point old = point_of_block(100), old_elsewhere = old; /* in the immutable part */
  old_elsewhere.slot++;
  cdl_point ebb_elsewhere = point_of_block(0);
  ebb_elsewhere.slot = 1;
  client c;
  client_init(&c);
  handshake(&c);
  /* Chain-sync: each wrong slot is skipped, the next listed point wins with its own slot. */
  cdl_point lone[3] = {tip_elsewhere, old_elsewhere, ebb_elsewhere};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = lone, .n_points = 3});
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_cs_msg m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_NOT_FOUND);
  cdl_point pts[3] = {tip_elsewhere, point_of_block(0), tip};
  send_cs(&c, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = pts, .n_points = 3});
  assert_int_equal(sc_pump(&c), CDL_OK);
  m = recv_cs(&c);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_FOUND);
  assert_int_equal(m.point.slot, 0);
  assert_memory_equal(m.point.hash, S.info[0].hash, 32);
  /* Block-fetch: either end under a wrong slot gets no blocks. */
  assert_int_equal(fetch(&c, point_of_block(2990), tip_elsewhere, 0), -1);
  assert_int_equal(fetch(&c, old_elsewhere, point_of_block(200), 0), -1);
  assert_int_equal(fetch(&c, ebb_elsewhere, point_of_block(3), 0), -1);
  assert_int_equal(fetch(&c, point_of_block(0), point_of_block(1), 0), 2);
  sc_free(&c);
  /* Local state query: acquiring the tip's hash under another slot fails as not on the chain,
   * and so does a volatile block's hash under another slot (not "too old"). */
  cdl_point recent_elsewhere = point_of_block(2900);
  recent_elsewhere.slot += 7;
  const cdl_point *off_chain[] = {&tip_elsewhere, &recent_elsewhere, &old_elsewhere};
  for (size_t i = 0; i < 3; i++) {
    local_init(&c);
    cdl_lsq_msg r = lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE, .point = *off_chain[i]});
    assert_int_equal(r.kind, CDL_LSQ_FAILURE);
    assert_int_equal(r.failure, CDL_LSQ_POINT_NOT_ON_CHAIN);
    sc_free(&c);
  }
  local_init(&c);
  assert_int_equal(lsq(&c, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE, .point = tip}).kind,
                   CDL_LSQ_ACQUIRED);
  sc_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain_sync),
      cmocka_unit_test(test_request_with_proposal),
      cmocka_unit_test(test_intersections),
      cmocka_unit_test(test_block_fetch),
      cmocka_unit_test(test_any_split),
      cmocka_unit_test(test_oversize_messages),
      cmocka_unit_test(test_without_agency),
      cmocka_unit_test(test_silence),
      cmocka_unit_test(test_bad_framing),
      cmocka_unit_test(test_flood),
      cmocka_unit_test(test_local_chain_sync),
      cmocka_unit_test(test_local_state_query),
      cmocka_unit_test(test_cardinal_queries),
      cmocka_unit_test(test_cardinal_query_refusals),
      cmocka_unit_test(test_points_need_their_slot),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
