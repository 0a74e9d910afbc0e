/*
 * test_server_fake.c: the node-to-node server engine (src/net/server*.c)
 * against a fake chain (fake_chain.h) through the chain interface
 * (cdl_n2n_chain, docs/network.md "Chain interface"), no ChainDB: the
 * first 20 real mainnet blocks, and a fork of five blocks after block 9
 * (copies of blocks 10-14 with a signature byte flipped, so other
 * hashes), driven by the scripted client (net_support.h):
 *  - chain-sync from the origin to the tip, every header the selected
 *    chain's in order, then await; a block added while it waits is sent
 *    at the next poll; the server holds one follower and one reader and
 *    gives both back when deleted;
 *  - an intersection: the first listed point on the selected chain wins
 *    (a known block on the other fork does not), the next reply rolls
 *    back to it; only fork points: not found;
 *  - a fork switch while the client is idle on the old fork, and one
 *    while it awaits at the tip, each announced as MsgRollBackward to
 *    block 9 with the new tip (nothing sent unasked), then the new
 *    chain's headers;
 *  - block-fetch of a range byte for byte, and MsgNoBlocks for a range
 *    on the other fork, reversed, or naming an unknown block;
 *  - node-to-client, the state query's view: the tip's point and the
 *    chain's update state, a point too old (on the chain) and one not on
 *    it (a fork block), the immutable tip's point.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "fake_chain.h"
#include "net_support.h"

#define N_MAIN 20
#define FORK_AT 10 /* the fork's first block replaces block 10 */
#define N_FORK 5

static epoch0 E;
static cdl_buf FORK[N_FORK]; /* blocks 10..14, signatures flipped */

static int group_setup(void **state) {
  test_group_setup(state);
  epoch0_load(&E);
  assert_true(E.n >= N_MAIN);
  for (size_t i = 0; i < N_FORK; i++) {
    copy_bytes(&FORK[i], E.blocks[FORK_AT + i].ptr, E.blocks[FORK_AT + i].len);
    flip_signature(&FORK[i]);
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < N_FORK; i++) cdl_buf_free(&FORK[i]);
  epoch0_free(&E);
  return 0;
}

/* The known blocks: main i at index i, fork j at N_MAIN + j (its
 * predecessor the one before it on the fork, block 9 for the first). */
typedef struct world {
  fake_chain fc;
  cdl_n2n_chain chain;
  scripted_client c;
} world;

#define F(j) (N_MAIN + (j))

static void select_main(world *w, size_t n) {
  size_t idx[N_MAIN];
  for (size_t i = 0; i < n; i++) idx[i] = i;
  fake_chain_select(&w->fc, idx, n);
}

/* Blocks 0..9, then the fork's five. */
static void select_fork(world *w) {
  size_t idx[FORK_AT + N_FORK];
  for (size_t i = 0; i < FORK_AT; i++) idx[i] = i;
  for (size_t j = 0; j < N_FORK; j++) idx[FORK_AT + j] = F(j);
  fake_chain_select(&w->fc, idx, FORK_AT + N_FORK);
}

/* A node-to-node server (channels: handshake 0, chain-sync 1,
 * block-fetch 2), or with |local| a node-to-client one (handshake 0,
 * local chain-sync 1, local state query 2), past the handshake. */
static void world_start_as(world *w, size_t n_main, bool local) {
  fake_chain_init(&w->fc);
  for (size_t i = 0; i < N_MAIN; i++) fake_chain_add(&w->fc, E.blocks[i].ptr, E.blocks[i].len, NULL);
  for (size_t j = 0; j < N_FORK; j++) {
    cdl_block_info info = info_of(FORK[j].data, FORK[j].len, 21600);
    const cdl_block_info *prev = &w->fc.known[j ? F(j - 1) : FORK_AT - 1].info;
    memcpy(info.prev_hash, prev->hash, 32);
    assert_int_equal(fake_chain_add(&w->fc, FORK[j].data, FORK[j].len, &info), F(j));
    assert_memory_not_equal(info.hash, w->fc.known[FORK_AT + j].info.hash, 32);
  }
  w->fc.immutable = 5;
  select_main(w, n_main);
  fake_chain_iface(&w->fc, &w->chain);
  static const cdl_hs_config SERVER_HS = {false, 7, 15, {NET_MAINNET_MAGIC, false, 0, false}};
  static const cdl_hs_config LOCAL_HS = {true, 9, 23, {NET_MAINNET_MAGIC, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_CHAIN_SYNC,
                                    CDL_PROTO_BLOCK_FETCH};
  static const uint16_t LOCAL[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_LOCAL_CHAIN_SYNC,
                                   CDL_PROTO_LOCAL_STATE_QUERY};
  sc_start_chain(&w->c, &w->chain, local ? &LOCAL_HS : &SERVER_HS, local ? LOCAL : PROTOS, 3);
  cdl_hs_config mine = {false, 7, 14, {NET_MAINNET_MAGIC, true, 0, false}};
  cdl_hs_config mine_local = {true, 16, 19, {NET_MAINNET_MAGIC, false, 0, false}};
  assert_int_equal(sc_handshake(&w->c, local ? &mine_local : &mine).version,
                   local ? 19 | CDL_HS_N2C_BIT : 14);
  /* Chain-sync's follower and (node-to-node) block-fetch's reader. */
  assert_int_equal(w->fc.followers_live, 1);
  assert_int_equal(w->fc.readers_live, local ? 0 : 1);
}

static void world_start(world *w, size_t n_main) { world_start_as(w, n_main, false); }

static void world_end(world *w) {
  sc_free(&w->c);
  assert_int_equal(w->fc.followers_live, 0);
  assert_int_equal(w->fc.readers_live, 0);
  fake_chain_free(&w->fc);
}

static const cdl_block_info *known(const world *w, size_t i) { return &w->fc.known[i].info; }

static void send_cs(world *w, cdl_cs_msg m) {
  cdl_cs_encode(&w->c.msg, &m);
  sc_send(&w->c, 1);
}

static cdl_cs_msg recv_cs(world *w) {
  cdl_span r = sc_take(&w->c, 1);
  cdl_cs_msg m;
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_cs_decode(r.ptr, r.len, &m, &used, &err), CDL_OK);
  return m;
}

/* The reply's tip is known block |tip|. */
static void assert_tip(const world *w, const cdl_cs_msg *m, size_t tip) {
  assert_false(m->tip.point.origin);
  assert_int_equal(m->tip.point.slot, known(w, tip)->slot);
  assert_memory_equal(m->tip.point.hash, known(w, tip)->hash, 32);
  assert_int_equal(m->tip.block_no, known(w, tip)->block_no);
}

/* A roll-forward with known block |i|'s header (hashed here), and tip |tip|. */
static void assert_forward(const world *w, const cdl_cs_msg *m, size_t i, size_t tip) {
  assert_int_equal(m->kind, CDL_CS_ROLL_FORWARD);
  cdl_net_header h;
  cdl_error err = {0};
  assert_int_equal(cdl_net_read_byron_header(m->content, &h, &err), CDL_OK);
  assert_int_equal(h.size_hint, w->fc.known[i].len);
  uint8_t buf[4096], hash[32];
  assert_true(h.header.len + 2 <= sizeof buf);
  buf[0] = 0x82;
  buf[1] = h.subtag;
  memcpy(buf + 2, h.header.ptr, h.header.len);
  cdl_blake2b_256(hash, buf, h.header.len + 2);
  assert_memory_equal(hash, known(w, i)->hash, 32);
  assert_tip(w, m, tip);
}

/* A roll-backward to known block |to| with tip |tip|. */
static void assert_backward(const world *w, const cdl_cs_msg *m, size_t to, size_t tip) {
  assert_int_equal(m->kind, CDL_CS_ROLL_BACKWARD);
  assert_false(m->point.origin);
  assert_int_equal(m->point.slot, known(w, to)->slot);
  assert_memory_equal(m->point.hash, known(w, to)->hash, 32);
  assert_tip(w, m, tip);
}

/* |n| requests, pumped. */
static void request_next(world *w, size_t n) {
  for (size_t k = 0; k < n; k++) send_cs(w, (cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  assert_int_equal(sc_pump(&w->c), CDL_OK);
}

/* From a new start: the roll-back to the origin, then main 0..n-1, then
 * AwaitReply (the server now owes a reply). */
static void sync_main(world *w, size_t n) {
  request_next(w, n + 2);
  cdl_cs_msg m = recv_cs(w);
  assert_int_equal(m.kind, CDL_CS_ROLL_BACKWARD);
  assert_true(m.point.origin);
  assert_tip(w, &m, n - 1);
  for (size_t i = 0; i < n; i++) {
    m = recv_cs(w);
    assert_forward(w, &m, i, n - 1);
  }
  m = recv_cs(w);
  assert_int_equal(m.kind, CDL_CS_AWAIT_REPLY);
  assert_int_equal(cdl_mux_ingress(&w->c.mux, 1).len, 0);
}

static void test_sync_origin_to_tip(void **state) {
  (void)state;
  world w;
  world_start(&w, N_MAIN - 1);
  sync_main(&w, N_MAIN - 1);
  assert_int_equal(cdl_n2n_server_stats_get(w.c.srv).headers_served, N_MAIN - 1);
  /* Nothing new: nothing sent. */
  assert_int_equal(sc_pump(&w.c), CDL_OK);
  assert_int_equal(cdl_mux_ingress(&w.c.mux, 1).len, 0);
  /* The chain grows by block 19: the owed reply carries it. */
  select_main(&w, N_MAIN);
  assert_int_equal(sc_pump(&w.c), CDL_OK);
  cdl_cs_msg m = recv_cs(&w);
  assert_forward(&w, &m, N_MAIN - 1, N_MAIN - 1);
  request_next(&w, 1);
  assert_int_equal(recv_cs(&w).kind, CDL_CS_AWAIT_REPLY);
  world_end(&w);
}

static void test_intersection(void **state) {
  (void)state;
  world w;
  world_start(&w, N_MAIN);
  /* Unknown, then a known block on the other fork, then main 7: main 7. */
  cdl_point pts[3] = {{.slot = 5, .hash = {1}}, point_of(known(&w, F(2))), point_of(known(&w, 7))};
  send_cs(&w, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = pts, .n_points = 3});
  request_next(&w, 2);
  cdl_cs_msg m = recv_cs(&w);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_FOUND);
  assert_memory_equal(m.point.hash, known(&w, 7)->hash, 32);
  assert_tip(&w, &m, N_MAIN - 1);
  m = recv_cs(&w);
  assert_backward(&w, &m, 7, N_MAIN - 1);
  m = recv_cs(&w);
  assert_forward(&w, &m, 8, N_MAIN - 1);
  /* Only points off the selected chain: not found, the tip said. */
  cdl_point fork_only[2] = {point_of(known(&w, F(0))), point_of(known(&w, F(4)))};
  send_cs(&w, (cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = fork_only, .n_points = 2});
  request_next(&w, 1);
  m = recv_cs(&w);
  assert_int_equal(m.kind, CDL_CS_INTERSECT_NOT_FOUND);
  assert_tip(&w, &m, N_MAIN - 1);
  /* The position did not move: block 9 follows block 8. */
  m = recv_cs(&w);
  assert_forward(&w, &m, 9, N_MAIN - 1);
  world_end(&w);
}

static void test_rollback_on_fork_switch(void **state) {
  (void)state;
  world w;
  world_start(&w, N_MAIN);
  /* Idle at block 11 (nothing owed) when the chain switches to the fork:
   * the next request rolls back to block 9, the fork's tip announced. */
  request_next(&w, 13);
  cdl_cs_msg m = recv_cs(&w);
  assert_int_equal(m.kind, CDL_CS_ROLL_BACKWARD);
  assert_true(m.point.origin);
  for (size_t i = 0; i < 12; i++) {
    m = recv_cs(&w);
    assert_forward(&w, &m, i, N_MAIN - 1);
  }
  assert_int_equal(cdl_mux_ingress(&w.c.mux, 1).len, 0);
  select_fork(&w);
  assert_int_equal(sc_pump(&w.c), CDL_OK);
  assert_int_equal(cdl_mux_ingress(&w.c.mux, 1).len, 0); /* nothing unasked */
  request_next(&w, 1);
  m = recv_cs(&w);
  assert_backward(&w, &m, FORK_AT - 1, F(N_FORK - 1));
  request_next(&w, N_FORK + 1);
  for (size_t j = 0; j < N_FORK; j++) {
    m = recv_cs(&w);
    assert_forward(&w, &m, F(j), F(N_FORK - 1));
  }
  assert_int_equal(recv_cs(&w).kind, CDL_CS_AWAIT_REPLY);
  /* Back to the main chain while the client awaits: the owed reply is
   * the roll-back to block 9, the main tip announced; then block 10. */
  select_main(&w, N_MAIN);
  assert_int_equal(sc_pump(&w.c), CDL_OK);
  m = recv_cs(&w);
  assert_backward(&w, &m, FORK_AT - 1, N_MAIN - 1);
  assert_int_equal(cdl_mux_ingress(&w.c.mux, 1).len, 0);
  request_next(&w, 1);
  m = recv_cs(&w);
  assert_forward(&w, &m, FORK_AT, N_MAIN - 1);
  world_end(&w);
}

/* Requests [from, to]; the count of blocks sent, the i-th checked byte
 * for byte against known[expect[i]], or -1 for MsgNoBlocks. */
static long fetch(world *w, cdl_point from, cdl_point to, const size_t *expect) {
  cdl_bf_encode(&w->c.msg, &(cdl_bf_msg){.kind = CDL_BF_REQUEST_RANGE, .from = from, .to = to});
  sc_send(&w->c, 2);
  assert_int_equal(sc_pump(&w->c), CDL_OK);
  long got = -1;
  for (;;) {
    cdl_span in = cdl_mux_ingress(&w->c.mux, 2);
    cdl_bf_msg m;
    size_t used;
    cdl_error err = {0};
    if (cdl_bf_decode(in.ptr, in.len, &m, &used, &err) != CDL_OK)
      fail_msg("block-fetch reply %ld: %s", got, err.message);
    if (m.kind == CDL_BF_BLOCK) {
      const fake_block *b = &w->fc.known[expect[got]];
      assert_int_equal(m.block.len, b->len);
      assert_memory_equal(m.block.ptr, b->bytes, b->len);
      got++;
    }
    cdl_mux_consume(&w->c.mux, 2, used);
    if (m.kind == CDL_BF_START_BATCH) got = 0;
    if (m.kind == CDL_BF_NO_BLOCKS || m.kind == CDL_BF_BATCH_DONE) return got;
  }
}

static void test_block_fetch(void **state) {
  (void)state;
  world w;
  world_start(&w, N_MAIN);
  cdl_point p[N_MAIN], f[N_FORK];
  for (size_t i = 0; i < N_MAIN; i++) p[i] = point_of(known(&w, i));
  for (size_t j = 0; j < N_FORK; j++) f[j] = point_of(known(&w, F(j)));
  static const size_t MAIN_2_7[] = {2, 3, 4, 5, 6, 7};
  assert_int_equal(fetch(&w, p[2], p[7], MAIN_2_7), 6);
  assert_int_equal(fetch(&w, p[7], p[7], MAIN_2_7 + 5), 1);
  /* Not on the selected chain: the other fork, reversed, unknown, the origin. */
  assert_int_equal(fetch(&w, f[0], f[2], NULL), -1);
  assert_int_equal(fetch(&w, p[9], f[1], NULL), -1);
  assert_int_equal(fetch(&w, p[7], p[2], NULL), -1);
  assert_int_equal(fetch(&w, p[1], (cdl_point){.slot = 3, .hash = {9}}, NULL), -1);
  assert_int_equal(fetch(&w, (cdl_point){.origin = true}, p[3], NULL), -1);
  /* After the switch the fork is the chain, and main 12-13 are not. */
  select_fork(&w);
  const size_t fork_path[] = {8, 9, F(0), F(1), F(2)};
  assert_int_equal(fetch(&w, p[8], f[2], fork_path), 5);
  assert_int_equal(fetch(&w, p[12], p[13], NULL), -1);
  assert_int_equal(cdl_n2n_server_stats_get(w.c.srv).blocks_served, 12);
  world_end(&w);
}

/* ---- Node-to-client: the state query's view of the chain ---- */

static cdl_lsq_msg lsq(world *w, cdl_lsq_msg m) {
  cdl_lsq_encode(&w->c.msg, &m);
  sc_send(&w->c, 2);
  assert_int_equal(sc_pump(&w->c), CDL_OK);
  cdl_span in = sc_take(&w->c, 2);
  cdl_lsq_msg r;
  size_t used;
  cdl_error err = {0};
  if (cdl_lsq_decode(in.ptr, in.len, &r, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  return r;
}

static const uint8_t Q_POINT[] = {0x81, 0x03};
static const uint8_t Q_BYRON[] = {0x82, 0x00, 0x82, 0x00, 0x82, 0x00, 0x00};

/* The acquired state's point is known block |i|. */
static void assert_acquired_point(world *w, size_t i) {
  cdl_lsq_msg r = lsq(w, (cdl_lsq_msg){.kind = CDL_LSQ_QUERY,
                                       .query = cdl_span_of(Q_POINT, sizeof Q_POINT)});
  assert_int_equal(r.kind, CDL_LSQ_RESULT);
  cdl_buf want;
  cdl_buf_init(&want, 0);
  cdl_point p = point_of(known(w, i));
  cdl_net_enc_point(&want, &p);
  assert_int_equal(r.result.len, want.len);
  assert_memory_equal(r.result.ptr, want.data, want.len);
  cdl_buf_free(&want);
}

static void test_local_state_query(void **state) {
  (void)state;
  world w;
  world_start_as(&w, N_MAIN, true);
  static const uint8_t UPDATE_STATE[] = {0x82, 0x01, 0x02}; /* the fake's, canned */
  cdl_buf_append(&w.fc.update_state, UPDATE_STATE, sizeof UPDATE_STATE);
  /* At the tip: the point is block 19, the update state the chain's. */
  assert_int_equal(lsq(&w, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  assert_acquired_point(&w, N_MAIN - 1);
  cdl_lsq_msg r = lsq(&w, (cdl_lsq_msg){.kind = CDL_LSQ_QUERY,
                                        .query = cdl_span_of(Q_BYRON, sizeof Q_BYRON)});
  assert_int_equal(r.kind, CDL_LSQ_RESULT);
  static const uint8_t WANT[] = {0x81, 0x82, 0x01, 0x02}; /* [state]: the era matched */
  assert_int_equal(r.result.len, sizeof WANT);
  assert_memory_equal(r.result.ptr, WANT, sizeof WANT);
  /* Block 10 is on the chain (its number finds it): too old. The fork's
   * second block is known but its number finds block 11: not on the
   * chain (and the failed acquire releases). */
  r = lsq(&w, (cdl_lsq_msg){.kind = CDL_LSQ_REACQUIRE, .point = point_of(known(&w, 10))});
  assert_int_equal(r.kind, CDL_LSQ_FAILURE);
  assert_int_equal(r.failure, CDL_LSQ_POINT_TOO_OLD);
  assert_int_equal(known(&w, F(1))->block_no, known(&w, 11)->block_no);
  r = lsq(&w, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE, .point = point_of(known(&w, F(1)))});
  assert_int_equal(r.kind, CDL_LSQ_FAILURE);
  assert_int_equal(r.failure, CDL_LSQ_POINT_NOT_ON_CHAIN);
  /* The immutable tip is the chain's fifth block. */
  assert_int_equal(lsq(&w, (cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_IMMUTABLE_TIP}).kind,
                   CDL_LSQ_ACQUIRED);
  assert_acquired_point(&w, 4);
  /* Its ledger state is not kept: the update state is asked for at the tip only. */
  cdl_lsq_encode(&w.c.msg, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY,
                                          .query = cdl_span_of(Q_BYRON, sizeof Q_BYRON)});
  sc_send(&w.c, 2);
  sc_expect_violation(&w.c, sc_pump(&w.c), CDL_E_NOT_FOUND, "no longer kept");
  assert_int_equal(w.fc.followers_live, 0);
  fake_chain_free(&w.fc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_origin_to_tip),
      cmocka_unit_test(test_intersection),
      cmocka_unit_test(test_rollback_on_fork_switch),
      cmocka_unit_test(test_block_fetch),
      cmocka_unit_test(test_local_state_query),
  };
  filter_tests_from_env();
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
