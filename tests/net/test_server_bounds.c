/*
 * test_server_bounds.c: the server engine's bounded connections
 * (docs/network.md "Bounded connections"; src/net/server.c, mux.c) over
 * the first 3,000 real mainnet blocks, driven the way the libuv drivers
 * drive it (sc_drive: a bounded round of writes, a poll only when the
 * engine asks):
 *  - pipelined chain-sync with 1,000 requests in flight reaches the tip,
 *    node-to-node (headers) and node-to-client (whole blocks, the 648 KB
 *    epoch-0 EBB first);
 *  - a peer that never reads holds at most twice the egress budget,
 *    whatever it asks: a whole-chain block-fetch from the EBB, pings,
 *    state queries; the requests it piles up instead fill its ingress
 *    limit, a violation that ends it; a block over the budget goes out
 *    in pieces, and arrives whole; two peers fetching it at once share
 *    one copy of it, let go when both are done;
 *  - after a burst (the EBB) the buffers go back: an idle connection
 *    holds a few kilobytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/net.h"
#include "net/server_internal.h"
#include "net_support.h"

#define N_BLOCKS 3000
#define MAINNET NET_MAINNET_MAGIC
#define DEPTH 1000
#define WRITE_BOUND (32u << 10)
#define EBB_BYTES 648000 /* about: the epoch-0 EBB, the largest block here */
/* What a connection may hold queued: the budget, and one message (at
 * most the budget: a bigger one goes in pieces). */
#define HOLD_MAX (2 * CDL_MUX_EGRESS_BUDGET)

static served_chain S;

static int group_setup(void **state) {
  test_group_setup(state);
  served_chain_open(&S, "server_bounds", N_BLOCKS);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  served_chain_close(&S);
  return 0;
}

typedef scripted_client client;

static void n2n_init(client *c) {
  static const cdl_hs_config HS = {false, 7, 15, {MAINNET, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_CHAIN_SYNC,
                                    CDL_PROTO_BLOCK_FETCH, CDL_PROTO_KEEP_ALIVE};
  sc_start(c, S.db, &HS, PROTOS, 4);
  cdl_hs_config mine = {false, 7, 14, {MAINNET, true, 0, false}};
  assert_int_equal(sc_handshake(c, &mine).version, 14);
}

static void local_init(client *c) {
  static const cdl_hs_config HS = {true, 9, 23, {MAINNET, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_LOCAL_CHAIN_SYNC,
                                    CDL_PROTO_LOCAL_STATE_QUERY};
  sc_start(c, S.db, &HS, PROTOS, 3);
  cdl_hs_config mine = {true, 16, 19, {MAINNET, false, 0, false}};
  assert_int_equal(sc_handshake(c, &mine).version, 19 | CDL_HS_N2C_BIT);
}

static cdl_mux *server_mux(client *c) { return c->srv->mux; }

static void request_next(client *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    cdl_cs_encode(&c->msg, &(cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
    sc_send(c, 1);
  }
}

/* Chain-sync with DEPTH requests in flight: the requests go in at once,
 * and the server answers every one of them without being asked again
 * (the client sends nothing more until it has all the replies); then as
 * many again, until MsgAwaitReply. The roll-forwards counted. */
static size_t pipelined_sync(client *c) {
  size_t forwards = 0, outstanding = DEPTH;
  bool at_tip = false;
  request_next(c, DEPTH);
  while (!at_tip) {
    assert_int_equal(sc_drive(c, WRITE_BOUND, true), CDL_OK);
    size_t replies = 0;
    for (;;) {
      cdl_span in = cdl_mux_ingress(&c->mux, 1);
      cdl_cs_msg m;
      size_t used;
      cdl_error err = {0};
      if (in.len == 0 || cdl_cs_decode(in.ptr, in.len, &m, &used, &err) != CDL_OK) break;
      forwards += m.kind == CDL_CS_ROLL_FORWARD;
      at_tip |= m.kind == CDL_CS_AWAIT_REPLY;
      cdl_mux_consume(&c->mux, 1, used);
      replies++;
    }
    if (!at_tip && replies < outstanding)
      fail_msg("stalled: %zu of %zu requests answered (%zu roll-forwards so far)", replies,
               outstanding, forwards);
    request_next(c, at_tip ? 0 : replies);
    outstanding = replies;
  }
  return forwards;
}

static void test_pipelined_node_to_node(void **state) {
  (void)state;
  client c;
  n2n_init(&c);
  assert_int_equal(pipelined_sync(&c), N_BLOCKS);
  sc_free(&c);
}

static void test_pipelined_local(void **state) {
  (void)state;
  client c;
  local_init(&c);
  assert_int_equal(pipelined_sync(&c), N_BLOCKS);
  sc_free(&c);
}

static void assert_bounded(client *c) {
  size_t queued = cdl_mux_egress(server_mux(c));
  if (queued > HOLD_MAX) fail_msg("%zu bytes queued for a peer that does not read", queued);
}

static void test_nonreader_block_fetch(void **state) {
  (void)state;
  client c;
  n2n_init(&c);
  cdl_point from = point_of(&S.info[0]), to = point_of(&S.info[N_BLOCKS - 1]); /* the EBB first */
  cdl_bf_encode(&c.msg, &(cdl_bf_msg){.kind = CDL_BF_REQUEST_RANGE, .from = from, .to = to});
  sc_send(&c, 2);
  /* The writes of the first round never complete; the engine is polled
   * as a timer would, again and again. */
  assert_int_equal(sc_drive(&c, WRITE_BOUND, false), CDL_OK);
  for (int i = 0; i < 100; i++)
    assert_int_equal(cdl_n2n_server_poll(c.srv, c.now, &c.err), CDL_OK);
  assert_bounded(&c);
  assert_false(cdl_n2n_server_wants_poll(c.srv));
  sc_free(&c);
}

/* The EBB through block-fetch, in pieces: byte for byte the stored one. */
static void test_big_block_in_pieces(void **state) {
  (void)state;
  client c;
  n2n_init(&c);
  cdl_point ebb = point_of(&S.info[0]), next = point_of(&S.info[1]);
  cdl_bf_encode(&c.msg, &(cdl_bf_msg){.kind = CDL_BF_REQUEST_RANGE, .from = ebb, .to = next});
  sc_send(&c, 2);
  assert_int_equal(sc_drive(&c, WRITE_BOUND, true), CDL_OK);
  uint8_t kinds[] = {CDL_BF_START_BATCH, CDL_BF_BLOCK, CDL_BF_BLOCK, CDL_BF_BATCH_DONE};
  for (size_t i = 0; i < sizeof kinds; i++) {
    cdl_span in = cdl_mux_ingress(&c.mux, 2);
    cdl_bf_msg m;
    size_t used;
    cdl_error err = {0};
    assert_int_equal(cdl_bf_decode(in.ptr, in.len, &m, &used, &err), CDL_OK);
    assert_int_equal(m.kind, kinds[i]);
    if (m.kind == CDL_BF_BLOCK) { /* [tag, block] inside tag 24, as stored */
      assert_int_equal(m.block.len, S.e.blocks[i - 1].len);
      assert_memory_equal(m.block.ptr, S.e.blocks[i - 1].ptr, m.block.len);
    }
    cdl_mux_consume(&c.mux, 2, used);
  }
  assert_true(S.e.blocks[0].len > EBB_BYTES);
  sc_free(&c);
}

/* The EBB alone, [EBB, EBB], asked by |c|. */
static void ask_ebb(client *c) {
  cdl_point ebb = point_of(&S.info[0]);
  cdl_bf_encode(&c->msg, &(cdl_bf_msg){.kind = CDL_BF_REQUEST_RANGE, .from = ebb, .to = ebb});
  sc_send(c, 2);
}

/* The next block-fetch message |c| got is the EBB, byte for byte. */
static void expect_ebb(client *c) {
  for (;;) {
    cdl_span in = cdl_mux_ingress(&c->mux, 2);
    cdl_bf_msg m;
    size_t used;
    cdl_error err = {0};
    assert_int_equal(cdl_bf_decode(in.ptr, in.len, &m, &used, &err), CDL_OK);
    bool block = m.kind == CDL_BF_BLOCK;
    if (block) assert_memory_equal(m.block.ptr, S.e.blocks[0].ptr, S.e.blocks[0].len);
    cdl_mux_consume(&c->mux, 2, used);
    if (block) return;
  }
}

static void test_big_block_shared(void **state) {
  (void)state;
  client a, b;
  n2n_init(&a);
  n2n_init(&b);
  ask_ebb(&a);
  ask_ebb(&b);
  assert_int_equal(sc_drive(&a, WRITE_BOUND, false), CDL_OK); /* neither reads yet */
  assert_int_equal(sc_drive(&b, WRITE_BOUND, false), CDL_OK);
  assert_true(a.srv->part.active && b.srv->part.active);
  assert_non_null(a.srv->part.shared);
  assert_ptr_equal(a.srv->part.shared, b.srv->part.shared);
  assert_true(a.srv->msg.cap < EBB_BYTES && b.srv->msg.cap < EBB_BYTES); /* one copy */
  assert_int_equal(sc_drive(&a, WRITE_BOUND, true), CDL_OK);
  assert_int_equal(sc_drive(&b, WRITE_BOUND, true), CDL_OK);
  expect_ebb(&a);
  expect_ebb(&b);
  assert_false(a.srv->part.active || b.srv->part.active);
  assert_null(a.srv->part.shared);
  sc_free(&a);
  sc_free(&b);
}

/* |make| encodes one request into c->msg; the peer sends them forever
 * without reading: it is cut off by its ingress limit, having cost at
 * most the budget. */
static void flood_until_cut(client *c, uint16_t proto, void (*make)(client *, int),
                            const char *words) {
  int rc = CDL_OK;
  for (int i = 0; rc == CDL_OK && i < 1000000; i++) {
    make(c, i);
    rc = sc_raw_sdu(c, proto, c->msg.data, c->msg.len);
    cdl_buf_reset(&c->msg);
    if (rc == CDL_OK) rc = cdl_n2n_server_poll(c->srv, c->now, &c->err);
    if (rc == CDL_OK) assert_bounded(c);
  }
  sc_expect_violation(c, rc, CDL_E_LIMIT, words);
}

static void make_ping(client *c, int i) {
  cdl_ka_encode(&c->msg, &(cdl_ka_msg){.kind = CDL_KA_KEEP_ALIVE, .cookie = (uint16_t)i});
}

static void make_acquire_release(client *c, int i) {
  cdl_lsq_encode(&c->msg, &(cdl_lsq_msg){.kind = i % 2 ? CDL_LSQ_RELEASE
                                                        : CDL_LSQ_ACQUIRE_VOLATILE_TIP});
}

static void test_nonreader_pings(void **state) {
  (void)state;
  client c;
  n2n_init(&c);
  flood_until_cut(&c, CDL_PROTO_KEEP_ALIVE, make_ping, "ingress overrun on protocol 8");
}

static void test_nonreader_state_queries(void **state) {
  (void)state;
  client c;
  local_init(&c);
  flood_until_cut(&c, CDL_PROTO_LOCAL_STATE_QUERY, make_acquire_release,
                  "ingress overrun on protocol 7");
}

/* The EBB (648 KB) through local chain-sync, then a few headers: once
 * the replies are read, the connection holds no buffer of that size. */
static void test_buffers_shrink(void **state) {
  (void)state;
  client c;
  local_init(&c);
  request_next(&c, 4);
  assert_int_equal(sc_drive(&c, WRITE_BOUND, true), CDL_OK);
  assert_true(cdl_mux_ingress(&c.mux, 1).len > EBB_BYTES); /* it came through */
  size_t held = cdl_mux_footprint(server_mux(&c)) + c.srv->msg.cap + c.srv->block.cap +
                c.srv->header.cap;
  if (held > (64u << 10)) fail_msg("%zu bytes held after the burst", held);
  sc_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pipelined_node_to_node),  cmocka_unit_test(test_pipelined_local),
      cmocka_unit_test(test_nonreader_block_fetch),   cmocka_unit_test(test_big_block_in_pieces),
      cmocka_unit_test(test_big_block_shared),        cmocka_unit_test(test_nonreader_pings),
      cmocka_unit_test(test_nonreader_state_queries), cmocka_unit_test(test_buffers_shrink),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
