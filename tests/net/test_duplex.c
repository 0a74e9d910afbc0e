/*
 * test_duplex.c: full-duplex node-to-node connections (include/cardinal/
 * net.h "Full duplex"; docs/network.md "Full duplex"), two engines per
 * side on one multiplexer, in memory over a ChainDB of real mainnet
 * blocks:
 *  - side A dials: its client offers both directions, the server of side
 *    B agrees, A attaches a server to its client's multiplexer and B a
 *    client to its server's; over the one connection A fetches every
 *    block from B and B every block from A;
 *  - then B's initiator finishes (cdl_n2n_client_finish: MsgDone on
 *    chain-sync once its request in flight is answered, block-fetch and
 *    keep-alive) and goes away: A's responder ends those protocols, no
 *    time limit of them fires any more, and A's own
 *    direction goes on: every block added to B's chain reaches A, and
 *    keep-alive keeps its round trips, for longer than every limit of
 *    the ended side;
 *  - a client that offers both directions to an initiator-only server is
 *    not duplex, and a request for its responder is then a violation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/net.h"
#include "net_support.h"

#define N_BLOCKS 600
#define SEC 1000000ull
#define MAINNET NET_MAINNET_MAGIC

static served_chain S;

static int group_setup(void **state) {
  test_group_setup(state);
  served_chain_open(&S, "duplex", N_BLOCKS);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  served_chain_close(&S);
  return 0;
}

/* What a client hands over: the next real block each time. */
typedef struct sink {
  size_t next;
} sink;

static int on_block(void *ctx, const cdl_parsed_block *b, cdl_error *err) {
  (void)err;
  sink *s = ctx;
  assert_true(s->next < S.e.n);
  assert_int_equal(b->len, S.e.blocks[s->next].len);
  assert_memory_equal(b->bytes, S.e.blocks[s->next].ptr, b->len);
  s->next++;
  return CDL_OK;
}

static cdl_n2n_client_config client_config(sink *s) {
  return (cdl_n2n_client_config){.hs = cdl_hs_node_to_node(MAINNET, false),
                                 .epoch_slots = 21600,
                                 .pipeline = 20,
                                 .fetch_batch = 100,
                                 .on_block = on_block,
                                 .ctx = s};
}

/* One connection: A dialled B. */
typedef struct pair {
  cdl_n2n_client *a_cli; /* owns A's multiplexer */
  cdl_n2n_server *a_srv; /* attached once duplex */
  cdl_n2n_server *b_srv; /* owns B's multiplexer */
  cdl_n2n_client *b_cli; /* attached once duplex */
  bool b_ended; /* B's initiator is gone (not attached again) */
  sink a_sink, b_sink;
  cdl_buf wire;
  uint64_t now;
} pair;

/* A's side, as the node kernel runs an outbound connection. */
static void a_recv(pair *p, const uint8_t *data, size_t len) {
  cdl_error err = {0};
  if (cdl_n2n_client_recv(p->a_cli, data, len, p->now, &err) != CDL_OK)
    fail_msg("A's client: %s", err.message);
  if (p->a_srv == NULL && cdl_n2n_client_duplex(p->a_cli))
    assert_int_equal(cdl_n2n_server_attach(cdl_n2n_client_mux(p->a_cli), &S.chain,
                                           &(cdl_hs_config){.data = {.magic = MAINNET}}, 14,
                                           p->now, &p->a_srv, &err),
                     CDL_OK);
  if (p->a_srv && cdl_n2n_server_recv(p->a_srv, NULL, 0, p->now, &err) != CDL_OK)
    fail_msg("A's server: %s", err.message);
}

/* B's side, as the kernel runs an inbound connection that its peer
 * selection took for an upstream peer. */
static void b_recv(pair *p, const uint8_t *data, size_t len) {
  cdl_error err = {0};
  if (cdl_n2n_server_recv(p->b_srv, data, len, p->now, &err) != CDL_OK)
    fail_msg("B's server: %s", err.message);
  if (p->b_cli == NULL && !p->b_ended && cdl_n2n_server_duplex(p->b_srv)) {
    cdl_n2n_client_config cfg = client_config(&p->b_sink);
    if (cdl_n2n_client_attach(cdl_n2n_server_mux(p->b_srv), &cfg, p->now, &p->b_cli, &err) !=
        CDL_OK)
      fail_msg("B's client: %s", err.message);
  }
  if (p->b_cli && cdl_n2n_client_recv(p->b_cli, NULL, 0, p->now, &err) != CDL_OK)
    fail_msg("B's client: %s", err.message);
}

static void poll_all(pair *p) {
  cdl_error err = {0};
  if (cdl_n2n_client_poll(p->a_cli, p->now, &err) != CDL_OK) fail_msg("A: %s", err.message);
  if (p->a_srv && cdl_n2n_server_poll(p->a_srv, p->now, &err) != CDL_OK)
    fail_msg("A's server: %s", err.message);
  if (cdl_n2n_server_poll(p->b_srv, p->now, &err) != CDL_OK) fail_msg("B: %s", err.message);
  if (p->b_cli && cdl_n2n_client_poll(p->b_cli, p->now, &err) != CDL_OK)
    fail_msg("B's client: %s", err.message);
}

/* One round trip of everything waiting each way; false when quiet. */
static bool pump_once(pair *p) {
  poll_all(p);
  cdl_buf_reset(&p->wire);
  while (cdl_n2n_client_next_sdu(p->a_cli, p->now, &p->wire)) {
  }
  size_t sent = p->wire.len;
  b_recv(p, p->wire.data, p->wire.len);
  cdl_buf_reset(&p->wire);
  while (cdl_n2n_server_next_sdu(p->b_srv, p->now, &p->wire)) {
  }
  sent += p->wire.len;
  a_recv(p, p->wire.data, p->wire.len);
  return sent > 0;
}

/* Until two rounds in a row move nothing (a server waiting on room or on
 * the chain is polled in each). */
static void pump(pair *p) {
  int quiet = 0;
  for (int round = 0; round < 100000 && quiet < 2; round++) quiet = pump_once(p) ? 0 : quiet + 1;
}

static void pair_open(pair *p) {
  memset(p, 0, sizeof *p);
  cdl_buf_init(&p->wire, 0);
  p->now = 5;
  cdl_error err = {0};
  cdl_n2n_client_config cfg = client_config(&p->a_sink);
  cdl_hs_config b_hs = cdl_hs_node_to_node(MAINNET, false);
  assert_int_equal(cdl_n2n_client_new(&cfg, p->now, &p->a_cli, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&S.chain, &b_hs, p->now, &p->b_srv, &err), CDL_OK);
}

static void pair_close(pair *p) {
  cdl_n2n_server_del(p->a_srv); /* attached ones first: the owners free the muxes */
  cdl_n2n_client_del(p->b_cli);
  cdl_n2n_client_del(p->a_cli);
  cdl_n2n_server_del(p->b_srv);
  cdl_buf_free(&p->wire);
}

static void add_block(size_t i) {
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  assert_int_equal(
      cdl_chaindb_add_block(S.db, S.e.blocks[i].ptr, S.e.blocks[i].len, &res, &rej, &err), CDL_OK);
  assert_int_equal(res.outcome, CDL_ADD_ADOPTED);
}

static void test_both_directions_then_one(void **state) {
  (void)state;
  pair p;
  pair_open(&p);
  pump(&p);
  /* One connection, both directions: each side fetched the whole chain
   * from the other. */
  assert_true(cdl_n2n_client_duplex(p.a_cli));
  assert_true(cdl_n2n_server_duplex(p.b_srv));
  assert_non_null(p.a_srv);
  assert_non_null(p.b_cli);
  assert_true(cdl_n2n_client_synced(p.a_cli));
  assert_true(cdl_n2n_client_synced(p.b_cli));
  assert_int_equal(p.a_sink.next, N_BLOCKS);
  assert_int_equal(p.b_sink.next, N_BLOCKS);
  assert_int_equal(cdl_n2n_server_stats_get(p.a_srv).blocks_served, N_BLOCKS);
  assert_int_equal(cdl_n2n_server_stats_get(p.b_srv).blocks_served, N_BLOCKS);

  /* B's direction ends: its initiator finishes once each chain-sync
   * request it pipelined (20) was answered, one per new block; A's goes
   * on. */
  cdl_n2n_client_finish(p.b_cli);
  pump(&p);
  size_t added = 0;
  while (!cdl_n2n_client_finished(p.b_cli) && added < 40) {
    add_block(N_BLOCKS + added++);
    pump(&p);
  }
  assert_true(cdl_n2n_client_finished(p.b_cli));
  assert_true(added >= 1 && added <= 20);
  assert_int_equal(p.b_sink.next, N_BLOCKS); /* it asked for no block meanwhile */
  cdl_n2n_client_del(p.b_cli);
  p.b_cli = NULL;
  p.b_ended = true;
  uint64_t samples = cdl_n2n_client_stats_get(p.a_cli).ka_rtt_samples;
  /* An hour and a half in 5 s steps, past chain-sync's 3,373 s and
   * keep-alive's 97 s limits on the ended side, with a block added to
   * B's chain every 100 s (B's server must answer A's waiting request
   * within its limit, as a chain growing every slot does). */
  size_t finished_at = added;
  for (int i = 1; i <= 1100; i++) {
    p.now += 5 * SEC;
    if (i % 20 == 0) add_block(N_BLOCKS + added++);
    pump(&p);
  }
  assert_int_equal(added, finished_at + 55);
  assert_int_equal(p.a_sink.next, N_BLOCKS + added);
  assert_true(cdl_n2n_client_synced(p.a_cli));
  assert_true(cdl_n2n_client_stats_get(p.a_cli).ka_rtt_samples >= samples + 500);
  assert_int_equal(cdl_n2n_server_deadline(p.a_srv), UINT64_MAX);
  pair_close(&p);
}

/* An initiator-only server declines: the client is not duplex, and a
 * request for its responder is a violation. */
static void test_declined(void **state) {
  (void)state;
  sink s = {0};
  cdl_n2n_client_config cfg = client_config(&s);
  cdl_hs_config b_hs = cdl_hs_node_to_node(MAINNET, true);
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_client_new(&cfg, 0, &c, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&S.chain, &b_hs, 0, &srv, &err), CDL_OK);
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  while (cdl_n2n_client_next_sdu(c, 0, &wire)) {
  }
  assert_int_equal(cdl_n2n_server_recv(srv, wire.data, wire.len, 0, &err), CDL_OK);
  assert_false(cdl_n2n_server_duplex(srv));
  cdl_buf_reset(&wire);
  while (cdl_n2n_server_next_sdu(srv, 0, &wire)) {
  }
  assert_int_equal(cdl_n2n_client_recv(c, wire.data, wire.len, 0, &err), CDL_OK);
  assert_true(cdl_n2n_client_ready(c));
  assert_false(cdl_n2n_client_duplex(c));
  /* The server's side of the mux sends a chain-sync request as an
   * initiator would (M = 0): for our responder, which is not running. */
  cdl_mux peer;
  cdl_mux_init(&peer, 0);
  int ch = cdl_mux_add_channel(&peer, CDL_PROTO_CHAIN_SYNC, true, 1 << 16);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_cs_encode(&msg, &(cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  assert_int_equal(cdl_mux_queue(&peer, ch, msg.data, msg.len), CDL_OK);
  cdl_buf_reset(&wire);
  while (cdl_mux_next_sdu(&peer, 0, &wire)) {
  }
  assert_int_equal(cdl_n2n_client_recv(c, wire.data, wire.len, 0, &err), CDL_E_PROTOCOL);
  assert_non_null(strstr(err.message, "initiator-only"));
  cdl_mux_free(&peer);
  cdl_buf_free(&msg);
  cdl_buf_free(&wire);
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
}

/* Both sides dialled at once from their listening ports: one TCP
 * connection on which both are the initiator (a simultaneous open). Each
 * takes the other's proposal as the choice, both agree on version and
 * duplex, and each then serves the other on the same connection. */
static void test_simultaneous_open(void **state) {
  (void)state;
  sink a_sink = {0}, b_sink = {0};
  cdl_n2n_client_config a_cfg = client_config(&a_sink), b_cfg = client_config(&b_sink);
  b_cfg.hs.max_version = 14; /* the ranges differ: both choose 14 */
  cdl_n2n_client *a, *b;
  cdl_n2n_server *a_srv = NULL, *b_srv = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_client_new(&a_cfg, 5, &a, &err), CDL_OK);
  assert_int_equal(cdl_n2n_client_new(&b_cfg, 5, &b, &err), CDL_OK);
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  cdl_hs_config hs = cdl_hs_node_to_node(MAINNET, false);
  for (int round = 0, quiet = 0; round < 100000 && quiet < 2; round++) {
    size_t moved = 0;
    for (int side = 0; side < 2; side++) {
      cdl_n2n_client *from = side ? b : a, *to = side ? a : b;
      cdl_n2n_server **to_srv = side ? &a_srv : &b_srv;
      cdl_buf_reset(&wire);
      while (cdl_n2n_client_next_sdu(from, 5, &wire)) {
      }
      moved += wire.len;
      if (cdl_n2n_client_recv(to, wire.data, wire.len, 5, &err) != CDL_OK)
        fail_msg("side %d: %s", !side, err.message);
      if (*to_srv == NULL && cdl_n2n_client_duplex(to))
        assert_int_equal(cdl_n2n_server_attach(cdl_n2n_client_mux(to), &S.chain, &hs, 14, 5,
                                               to_srv, &err),
                         CDL_OK);
      if (*to_srv && cdl_n2n_server_recv(*to_srv, NULL, 0, 5, &err) != CDL_OK)
        fail_msg("side %d's server: %s", !side, err.message);
      if (*to_srv && cdl_n2n_server_poll(*to_srv, 5, &err) != CDL_OK)
        fail_msg("side %d's server: %s", !side, err.message);
    }
    quiet = moved ? 0 : quiet + 1;
  }
  assert_true(cdl_n2n_client_simultaneous(a) && cdl_n2n_client_simultaneous(b));
  assert_true(cdl_n2n_client_duplex(a) && cdl_n2n_client_duplex(b));
  assert_true(cdl_n2n_client_synced(a) && cdl_n2n_client_synced(b));
  assert_true(a_sink.next >= N_BLOCKS && b_sink.next >= N_BLOCKS);
  assert_int_equal(a_sink.next, b_sink.next);
  cdl_buf_free(&wire);
  cdl_n2n_server_del(a_srv);
  cdl_n2n_server_del(b_srv);
  cdl_n2n_client_del(a);
  cdl_n2n_client_del(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_both_directions_then_one),
                                     cmocka_unit_test(test_declined),
                                     cmocka_unit_test(test_simultaneous_open)};
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
