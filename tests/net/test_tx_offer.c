/*
 * test_tx_offer.c: node-to-node tx-submission from the client engine's
 * side (src/net/client_txsub.c): offering its transactions to a scripted
 * peer, within the window and its rules; relaying them to our server
 * engine, which pulls them into its mempool; offering from a fake list
 * (the engines read transactions only through cdl_n2n_txs); and the
 * violations that end the connection. Fixture: tx_fixture.h.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tx_fixture.h"

/* ---- Node-to-node tx-submission: the client engine offers ---- */

/* A client engine offering |offer| to a scripted peer: a responder mux on
 * our side of every node-to-node protocol the client opens. */
typedef struct offer_peer {
  cdl_n2n_client *c;
  cdl_mux mux;
  cdl_buf msg, wire;
  cdl_error err;
  uint64_t now;
} offer_peer;

enum { OP_HS, OP_CS, OP_BF, OP_KA, OP_TX };

static int no_block(void *ctx, const cdl_parsed_block *block, cdl_error *err) {
  (void)ctx, (void)block;
  return cdl_error_set(err, CDL_E_USAGE, 0, "no block was asked for");
}

static cdl_n2n_client_config offer_config(cdl_mempool *offer) {
  return (cdl_n2n_client_config){.hs = {false, 7, 14, {MAGIC, false, 0, false}},
                                 .epoch_slots = 100,
                                 .pipeline = 1,
                                 .on_block = no_block,
                                 .txs = cdl_n2n_txs_of_mempool(offer)};
}

/* One message from the peer (the responder) into the client. */
static int op_send(offer_peer *p, uint16_t proto) {
  int rc = CDL_OK;
  for (size_t off = 0; off < p->msg.len && rc == CDL_OK;) {
    size_t n = p->msg.len - off < CDL_SDU_MAX_SEND ? p->msg.len - off : CDL_SDU_MAX_SEND;
    uint8_t head[CDL_SDU_HEADER];
    cdl_sdu_header_encode(&(cdl_sdu_header){0, proto, true, (uint16_t)n}, head);
    rc = cdl_n2n_client_recv(p->c, head, sizeof head, p->now, &p->err);
    if (rc == CDL_OK) rc = cdl_n2n_client_recv(p->c, p->msg.data + off, n, p->now, &p->err);
    off += n;
  }
  cdl_buf_reset(&p->msg);
  return rc;
}

/* Whatever the client queued, into the peer's mux. */
static void op_drain(offer_peer *p) {
  cdl_buf_reset(&p->wire);
  while (cdl_n2n_client_next_sdu(p->c, p->now, &p->wire)) {
  }
  cdl_error err = {0};
  assert_int_equal(cdl_mux_recv(&p->mux, p->wire.data, p->wire.len, 0, &err), CDL_OK);
}

/* The client's next tx-submission message; kind 0xff when none came. */
static cdl_tx2_msg op_reply(offer_peer *p) {
  op_drain(p);
  cdl_span in = cdl_mux_ingress(&p->mux, OP_TX);
  cdl_tx2_msg r = {.kind = 0xff};
  size_t used;
  cdl_error err = {0};
  if (in.len == 0) return r;
  if (cdl_tx2_decode(in.ptr, in.len, &r, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  cdl_buf_reset(&p->wire); /* a copy: consuming may move the ingress */
  assert_int_equal(cdl_buf_append(&p->wire, r.items.ptr, r.items.len), CDL_OK);
  r.items = cdl_span_of(p->wire.data, p->wire.len);
  cdl_mux_consume(&p->mux, OP_TX, used);
  return r;
}

/* Handshake accepted at version 14; the client's MsgInit read. */
static void op_start(offer_peer *p, cdl_mempool *offer) {
  memset(p, 0, sizeof *p);
  cdl_buf_init(&p->msg, 0);
  cdl_buf_init(&p->wire, 0);
  cdl_mux_init(&p->mux, 0);
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_CHAIN_SYNC,
                                    CDL_PROTO_BLOCK_FETCH, CDL_PROTO_KEEP_ALIVE,
                                    CDL_PROTO_TX_SUBMISSION};
  for (size_t i = 0; i < 5; i++) cdl_mux_add_channel(&p->mux, PROTOS[i], false, 1 << 24);
  cdl_n2n_client_config cfg = offer_config(offer);
  assert_int_equal(cdl_n2n_client_new(&cfg, 0, &p->c, &p->err), CDL_OK);
  uint8_t data[16];
  cdl_buf d;
  cdl_buf_init_fixed(&d, data, sizeof data);
  cdl_hs_encode_data(&d, 14, &(cdl_hs_data){MAGIC, false, 0, false});
  cdl_hs_encode(
      &p->msg,
      &(cdl_hs_msg){.kind = CDL_HS_ACCEPT, .version = 14, .data = cdl_span_of(d.data, d.len)});
  assert_int_equal(op_send(p, CDL_PROTO_HANDSHAKE), CDL_OK);
  assert_int_equal(op_reply(p).kind, CDL_TX2_INIT);
}

static void op_end(offer_peer *p, int rc, int code, const char *words) {
  if (rc != code) fail_msg("got %d (%s), expected %d (%s)", rc, p->err.message, code, words);
  if (strstr(p->err.message, words) == NULL) fail_msg("'%s' lacks '%s'", p->err.message, words);
  cdl_n2n_client_del(p->c);
  cdl_mux_free(&p->mux);
  cdl_buf_free(&p->msg), cdl_buf_free(&p->wire);
}

static int op_ask_ids(offer_peer *p, bool blocking, uint16_t ack, uint16_t req) {
  cdl_tx2_encode(
      &p->msg,
      &(cdl_tx2_msg){.kind = CDL_TX2_REQUEST_TX_IDS, .blocking = blocking, .ack = ack, .req = req});
  return op_send(p, CDL_PROTO_TX_SUBMISSION);
}

static int op_ask_txs(offer_peer *p, uint8_t ids[][32], size_t n) {
  cdl_buf list;
  cdl_buf_init(&list, 0);
  cdl_cbor_enc_indef_array(&list);
  for (size_t i = 0; i < n; i++) cdl_net_enc_gentx_id(&list, CDL_MP_TX, ids[i]);
  cdl_cbor_enc_break(&list);
  cdl_tx2_encode(&p->msg, &(cdl_tx2_msg){.kind = CDL_TX2_REQUEST_TXS,
                                         .items = cdl_span_of(list.data, list.len),
                                         .n_items = n});
  cdl_buf_free(&list);
  return op_send(p, CDL_PROTO_TX_SUBMISSION);
}

/* The |i|th [id, size] of a reply: its hash and size. */
static void offered_id(const cdl_tx2_msg *r, size_t i, uint8_t hash[32], uint64_t *size) {
  cdl_error err = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, r->items.ptr, r->items.len, &err);
  assert_int_equal(cdl_cbor_read_indef_array(&cur, "ids"), CDL_OK);
  cdl_span raw;
  for (size_t k = 0; k <= i; k++) {
    assert_int_equal(cdl_cbor_expect_array(&cur, 2, "pair"), CDL_OK);
    assert_int_equal(cdl_cbor_skip(&cur, &raw), CDL_OK);
    assert_int_equal(cdl_cbor_read_uint(&cur, size, "size"), CDL_OK);
  }
  cdl_net_gentx_id id;
  assert_int_equal(cdl_net_read_gentx_id(raw, &id, &err), CDL_OK);
  assert_true(id.era == 0 && id.kind == CDL_MP_TX);
  memcpy(hash, id.hash, 32);
}

/* |n| txs, from poor keys 0.., into a mempool of its own (TTL |ttl|). */
static cdl_mempool *offer_pool(cdl_buf *g, uint8_t id[][32], size_t n, uint64_t ttl) {
  cdl_mempool *offer;
  cdl_mempool_config cfg = {.ttl_slots = ttl};
  assert_int_equal(cdl_mempool_new(&cfg, cdl_chaindb_ledger(db), 0, &offer), CDL_OK);
  for (size_t i = 0; i < n; i++) {
    make_gentx(&g[i], i, 3, 4000000, id[i]);
    cdl_rejection rej;
    assert_int_equal(
        cdl_mempool_add(offer, cdl_chaindb_ledger(db), g[i].data, g[i].len, 0, NULL, &rej), CDL_OK);
  }
  return offer;
}

/* The rules as the peer meets them: ids oldest first with their wire
 * sizes, within the window; bodies of offered ids; a blocking request
 * waits for the mempool. */
static void test_tx_offer(void **state) {
  (void)state;
  cdl_buf g[3];
  uint8_t id[3][32], hash[32];
  uint64_t size;
  cdl_mempool *offer = offer_pool(g, id, 2, 0);
  offer_peer p;
  op_start(&p, offer);
  assert_int_equal(op_ask_ids(&p, true, 0, 1), CDL_OK);
  cdl_tx2_msg r = op_reply(&p);
  assert_true(r.kind == CDL_TX2_REPLY_TX_IDS && r.n_items == 1);
  offered_id(&r, 0, hash, &size);
  assert_memory_equal(hash, id[0], 32);
  assert_int_equal(size, g[0].len + 2); /* the hard-fork GenTx on the wire */
  assert_int_equal(op_ask_ids(&p, false, 0, 5), CDL_OK);
  r = op_reply(&p);
  assert_true(r.kind == CDL_TX2_REPLY_TX_IDS && r.n_items == 1); /* all there is */
  offered_id(&r, 0, hash, &size);
  assert_memory_equal(hash, id[1], 32);
  assert_int_equal(op_ask_txs(&p, &id[1], 1), CDL_OK);
  r = op_reply(&p);
  assert_true(r.kind == CDL_TX2_REPLY_TXS && r.n_items == 1);
  cdl_buf want;
  cdl_buf_init(&want, 0);
  cdl_cbor_enc_indef_array(&want);
  cdl_net_enc_gentx(&want, cdl_span_of(g[1].data, g[1].len));
  cdl_cbor_enc_break(&want);
  assert_int_equal(r.items.len, want.len);
  assert_memory_equal(r.items.ptr, want.data, want.len);
  cdl_buf_free(&want);
  /* Both acknowledged, nothing new: the blocking request waits. */
  assert_int_equal(op_ask_ids(&p, true, 2, 3), CDL_OK);
  assert_int_equal(op_reply(&p).kind, 0xff);
  assert_int_equal(cdl_n2n_client_poll(p.c, p.now, &p.err), CDL_OK);
  assert_int_equal(op_reply(&p).kind, 0xff);
  make_gentx(&g[2], 2, 3, 4000000, id[2]);
  cdl_rejection rej;
  assert_int_equal(
      cdl_mempool_add(offer, cdl_chaindb_ledger(db), g[2].data, g[2].len, 0, NULL, &rej), CDL_OK);
  assert_int_equal(cdl_n2n_client_poll(p.c, p.now, &p.err), CDL_OK);
  r = op_reply(&p);
  assert_true(r.kind == CDL_TX2_REPLY_TX_IDS && r.n_items == 1);
  offered_id(&r, 0, hash, &size);
  assert_memory_equal(hash, id[2], 32);
  cdl_n2n_client_stats st = cdl_n2n_client_stats_get(p.c);
  assert_true(st.tx_ids_offered == 3 && st.txs_sent == 1);
  /* Asked while the client has agency (blocked again). */
  assert_int_equal(op_ask_ids(&p, true, 1, 1), CDL_OK);
  op_end(&p, op_ask_ids(&p, true, 0, 1), CDL_E_PROTOCOL, "while the client has agency");
  for (size_t i = 0; i < 3; i++) cdl_buf_free(&g[i]);
  cdl_mempool_del(offer);
}

/* Each rule the Haskell outbound enforces, and ours on bodies. */
static void test_tx_offer_violations(void **state) {
  (void)state;
  cdl_buf g[2];
  uint8_t id[2][32];
  cdl_mempool *offer = offer_pool(g, id, 2, 5);
  offer_peer p;
  op_start(&p, offer);
  op_end(&p, op_ask_ids(&p, true, 1, 1), CDL_E_PROTOCOL, "more ids acknowledged than offered");
  op_start(&p, offer);
  op_end(&p, op_ask_ids(&p, true, 0, 11), CDL_E_PROTOCOL, "past 10 unacknowledged");
  op_start(&p, offer);
  op_end(&p, op_ask_ids(&p, true, 0, 0), CDL_E_PROTOCOL, "a request for nothing");
  op_start(&p, offer);
  op_end(&p, op_ask_ids(&p, false, 0, 1), CDL_E_PROTOCOL, "with nothing unacknowledged");
  op_start(&p, offer);
  assert_int_equal(op_ask_ids(&p, true, 0, 1), CDL_OK);
  op_end(&p, op_ask_ids(&p, true, 0, 1), CDL_E_PROTOCOL, "with ids unacknowledged");
  op_start(&p, offer); /* a body never offered */
  assert_int_equal(op_ask_ids(&p, true, 0, 1), CDL_OK);
  op_end(&p, op_ask_txs(&p, &id[1], 1), CDL_E_PROTOCOL, "not offered");
  op_start(&p, offer); /* one id offered, its body asked for twice in one request */
  assert_int_equal(op_ask_ids(&p, true, 0, 1), CDL_OK);
  uint8_t twice[2][32];
  memcpy(twice[0], id[0], 32), memcpy(twice[1], id[0], 32);
  op_end(&p, op_ask_txs(&p, twice, 2), CDL_E_PROTOCOL, "more bodies asked for");
  op_start(&p, offer); /* a message only the client sends */
  cdl_tx2_encode(&p.msg, &(cdl_tx2_msg){.kind = CDL_TX2_DONE});
  op_end(&p, op_send(&p, CDL_PROTO_TX_SUBMISSION), CDL_E_PROTOCOL, "may not send MsgDone");
  op_start(&p, offer); /* over 65,535 bytes in the peer's state */
  static uint8_t many[1800][32];
  op_end(&p, op_ask_txs(&p, many, 1800), CDL_E_LIMIT, "over 65535 bytes");
  /* A tx that expired after it was offered is left out of the reply. */
  op_start(&p, offer);
  assert_int_equal(op_ask_ids(&p, true, 0, 2), CDL_OK);
  assert_int_equal(op_reply(&p).n_items, 2);
  assert_int_equal(cdl_mempool_sync(offer, cdl_chaindb_ledger(db), 100), CDL_OK);
  assert_int_equal(op_ask_txs(&p, id, 2), CDL_OK);
  cdl_tx2_msg r = op_reply(&p);
  assert_true(r.kind == CDL_TX2_REPLY_TXS && r.n_items == 0);
  cdl_tx2_encode(&p.msg, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS, .items = r.items});
  op_end(&p, op_send(&p, CDL_PROTO_TX_SUBMISSION), CDL_E_PROTOCOL, "may not send MsgReplyTxIds");
  for (size_t i = 0; i < 2; i++) cdl_buf_free(&g[i]);
  cdl_mempool_del(offer);
}

/* Moves bytes between client |c| and server |srv| until both are quiet;
 * the first failure of either (in |err|). */
static int relay_pump(cdl_n2n_client *c, cdl_n2n_server *srv, uint64_t now, cdl_error *err) {
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  int rc = CDL_OK;
  for (int round = 0; round < 10000 && rc == CDL_OK; round++) {
    cdl_buf_reset(&wire);
    while (cdl_n2n_client_next_sdu(c, now, &wire)) {
    }
    size_t up = wire.len;
    rc = cdl_n2n_server_recv(srv, wire.data, wire.len, now, err);
    if (rc == CDL_OK) rc = cdl_n2n_server_poll(srv, now, err);
    cdl_buf_reset(&wire);
    while (rc == CDL_OK && cdl_n2n_server_next_sdu(srv, now, &wire)) {
    }
    size_t down = wire.len;
    if (rc == CDL_OK && down > 0) rc = cdl_n2n_client_recv(c, wire.data, wire.len, now, err);
    if (rc == CDL_OK) rc = cdl_n2n_client_poll(c, now, err);
    if (up == 0 && down == 0 && !cdl_n2n_server_wants_poll(srv)) break;
  }
  cdl_buf_free(&wire);
  return rc;
}

/* Our client relays its mempool to our server's: every tx the server
 * lacks arrives, none it has is sent, and a later one follows. */
/* A client offering per |cfg| and a node-to-node server over the test's
 * ChainDB and mempool, taking txs with |judge|. */
static void relay_open(const cdl_n2n_client_config *cfg, cdl_n2n_tx_judge judge,
                       cdl_n2n_client **c, cdl_n2n_server **srv) {
  static const cdl_hs_config SERVER = {false, 7, 15, {MAGIC, false, 0, false}};
  static cdl_n2n_chain chain;
  cdl_error err = {0};
  cdl_n2n_chain_of_chaindb(db, &chain);
  assert_int_equal(cdl_n2n_client_new(cfg, 0, c, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&chain, &SERVER, 0, srv, &err), CDL_OK);
  cdl_n2n_server_set_txs(*srv, cdl_n2n_txs_of_mempool(mp), judge);
}

static void test_tx_relay(void **state) {
  (void)state;
  cdl_buf g[3];
  uint8_t id[3][32];
  cdl_mempool *offer = offer_pool(g, id, 2, 0);
  cdl_rejection rej;
  assert_int_equal(cdl_mempool_add(mp, cdl_chaindb_ledger(db), g[0].data, g[0].len, 0, NULL, &rej),
                   CDL_OK);
  cdl_n2n_client_config cfg = offer_config(offer);
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  relay_open(&cfg, judge_at_tip(), &c, &srv);
  if (relay_pump(c, srv, 1, &err) != CDL_OK) fail_msg("%s", err.message);
  cdl_mempool_entry e;
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[1], &e));
  assert_memory_equal(e.gentx.ptr, g[1].data, g[1].len);
  cdl_n2n_client_stats st = cdl_n2n_client_stats_get(c);
  assert_true(st.tx_ids_offered == 2 && st.txs_sent == 1); /* the server had the first */
  make_gentx(&g[2], 2, 3, 4000000, id[2]);
  assert_int_equal(
      cdl_mempool_add(offer, cdl_chaindb_ledger(db), g[2].data, g[2].len, 0, NULL, &rej), CDL_OK);
  if (relay_pump(c, srv, 2, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[2], &e));
  st = cdl_n2n_client_stats_get(c);
  assert_true(st.tx_ids_offered == 3 && st.txs_sent == 2);
  cdl_mempool_stats ms;
  cdl_mempool_stats_get(mp, &ms);
  assert_int_equal(ms.count, 3);
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
  for (size_t i = 0; i < 3; i++) cdl_buf_free(&g[i]);
  cdl_mempool_del(offer);
}

/* The engines read waiting transactions only through the caller's
 * cdl_n2n_txs: a client offering from a fake list of one entry (no
 * mempool behind it) has it pulled by a server whose judge logs it. */
typedef struct fake_txs {
  cdl_mempool_entry e;
  size_t next_calls;
} fake_txs;

static bool fake_next(void *ctx, uint64_t after, cdl_mempool_entry *e) {
  fake_txs *f = ctx;
  f->next_calls++;
  if (after >= f->e.ticket) return false;
  *e = f->e;
  return true;
}
static bool fake_find(void *ctx, uint8_t kind, const uint8_t id[32], cdl_mempool_entry *e) {
  fake_txs *f = ctx;
  if (kind != f->e.kind || memcmp(id, f->e.id, 32) != 0) return false;
  *e = f->e;
  return true;
}
static uint64_t fake_changes(void *ctx) { return ((fake_txs *)ctx)->e.ticket; }
static void fake_stats(void *ctx, cdl_mempool_stats *s) {
  memset(s, 0, sizeof *s);
  s->count = 1;
  s->bytes = ((fake_txs *)ctx)->e.size;
}

static int judge_logging(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej) {
  (void)rej;
  cdl_buf *got = ctx;
  return cdl_buf_append(got, gentx, len);
}

static void test_offer_from_fake_txs(void **state) {
  (void)state;
  cdl_buf g, got;
  cdl_buf_init(&got, 0);
  uint8_t id[32];
  make_gentx(&g, 1, 3, 6000000, id);
  fake_txs f = {.e = {.ticket = 7, .kind = CDL_MP_TX, .size = g.len,
                      .gentx = cdl_span_of(g.data, g.len)}};
  memcpy(f.e.id, id, 32);
  cdl_n2n_client_config cfg = offer_config(NULL);
  cfg.txs = (cdl_n2n_txs){
      .ctx = &f, .next = fake_next, .find = fake_find, .changes = fake_changes, .stats = fake_stats};
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  relay_open(&cfg, (cdl_n2n_tx_judge){judge_logging, &got}, &c, &srv);
  if (relay_pump(c, srv, 1, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_int_equal(got.len, g.len); /* the one tx, pulled and judged */
  assert_memory_equal(got.data, g.data, g.len);
  assert_true(f.next_calls >= 1);
  cdl_mempool_entry e;
  assert_false(cdl_mempool_find(mp, CDL_MP_TX, id, &e)); /* the judge kept it, not the mempool */
  cdl_n2n_client_stats st = cdl_n2n_client_stats_get(c);
  assert_true(st.tx_ids_offered == 1 && st.txs_sent == 1);
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
  cdl_buf_free(&g);
  cdl_buf_free(&got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tx_offer, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_tx_offer_violations, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_tx_relay, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_offer_from_fake_txs, tx_test_setup, tx_test_teardown),
  };
  return cmocka_run_group_tests(tests, tx_group_setup, tx_group_teardown);
}
