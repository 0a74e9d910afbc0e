/*
 * test_tx_protocols.c: the transaction protocols of the server engine
 * over an empty ChainDB of a generated genesis with a mempool, driven by
 * scripted clients: local tx-submission and local tx-monitor
 * (src/net/server_localtx.c, apply_tx_error.c, localtx_codec.c): accept,
 * each kind of refusal with its reason bytes, the monitor's snapshot,
 * await and sizes, the hard-fork GenTx goldens; node-to-node
 * tx-submission v2 pulling a peer's txs (src/net/server_txsub.c) within
 * the window; and the violations that end the connection. The client
 * engine's offering side: test_tx_offer.c; the fixture: tx_fixture.h.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tx_fixture.h"

enum { CH_HS, CH_LCS, CH_LSQ, CH_LTX, CH_LTM };

/* A node-to-client connection with the mempool, handshake done. */
static void local_start(scripted_client *c) {
  static const cdl_hs_config LOCAL_HS = {true, 9, 23, {MAGIC, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_LOCAL_CHAIN_SYNC,
                                    CDL_PROTO_LOCAL_STATE_QUERY, CDL_PROTO_LOCAL_TX_SUBMISSION,
                                    CDL_PROTO_LOCAL_TX_MONITOR};
  sc_start(c, db, &LOCAL_HS, PROTOS, 5);
  cdl_n2n_server_set_txs(c->srv, cdl_n2n_txs_of_mempool(mp), judge_at_tip());
  cdl_hs_config mine = {true, 16, 19, {MAGIC, false, 0, false}};
  assert_int_equal(sc_handshake(c, &mine).version, 19 | CDL_HS_N2C_BIT);
}


/* [era, gentx] into |out| (reset here). */
static cdl_span wrap_era(cdl_buf *out, uint64_t era, const cdl_buf *gentx) {
  cdl_buf_reset(out);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, era);
  cdl_cbor_enc_raw(out, cdl_span_of(gentx->data, gentx->len));
  return cdl_span_of(out->data, out->len);
}

static cdl_span wrap_gentx(cdl_buf *out, const cdl_buf *gentx) { return wrap_era(out, 0, gentx); }

/* Submits [0, gentx] in era |era|; the reply. */
static cdl_ltx_msg submit(scripted_client *c, uint64_t era, const cdl_buf *gentx) {
  cdl_buf wrapped;
  cdl_buf_init(&wrapped, 0);
  cdl_ltx_encode(&c->msg,
                 &(cdl_ltx_msg){.kind = CDL_LTX_SUBMIT, .tx = wrap_era(&wrapped, era, gentx)});
  cdl_buf_free(&wrapped);
  sc_send(c, CH_LTX);
  assert_int_equal(sc_pump(c), CDL_OK);
  cdl_span in = sc_take(c, CH_LTX);
  cdl_ltx_msg r;
  size_t used;
  cdl_error err = {0};
  if (cdl_ltx_decode(in.ptr, in.len, &r, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  return r;
}

static void expect_reason(const cdl_ltx_msg *r, const char *rule) {
  assert_int_equal(r->kind, CDL_LTX_REJECT);
  char got[64];
  cdl_error err = {0};
  assert_int_equal(cdl_net_read_apply_tx_error(r->reason, got, sizeof got, &err), CDL_OK);
  assert_string_equal(got, rule);
}

static void assert_hex(cdl_span s, const char *hex) {
  char buf[512];
  assert_true(s.len * 2 < sizeof buf);
  cdl_hex_encode(s.ptr, s.len, buf);
  assert_string_equal(buf, hex);
}

static void test_submit(void **state) {
  (void)state;
  scripted_client c;
  local_start(&c);
  cdl_buf g1, g2;
  uint8_t id1[32], id2[32];
  make_gentx(&g1, 0, 1, 5000000, id1);
  make_gentx(&g2, 0, 2, 7000000, id2); /* the same genesis output */
  assert_int_equal(submit(&c, 0, &g1).kind, CDL_LTX_ACCEPT);
  cdl_mempool_entry e;
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id1, &e));
  assert_memory_equal(e.gentx.ptr, g1.data, g1.len);
  cdl_ltx_msg r = submit(&c, 0, &g1);
  expect_reason(&r, CDL_RULE_MEMPOOL_DUPLICATE);
  /* A double spend: [[0, [0, [1, [0, TxIn]]]]], as the Haskell node says
   * UTxOMissingInput; TxIn = [0, #6.24(bytes [txid, 0])]. */
  r = submit(&c, 0, &g2);
  expect_reason(&r, CDL_RULE_MISSING_INPUT);
  char want[256], txid[65];
  cdl_buf a;
  cdl_buf_init(&a, 0);
  cdl_key_address(&gen.secrets.poor[0], gen.requires_magic, MAGIC, &a);
  uint8_t in_id[32];
  cdl_blake2b_256(in_id, a.data, a.len);
  cdl_hex_encode(in_id, 32, txid);
  snprintf(want, sizeof want,
           "818200820082018200"
           "8200d818582482"
           "5820%s"
           "00",
           txid);
  assert_hex(r.reason, want);
  /* A Shelley tx: the era mismatch, as the golden ApplyTxErr_WrongEraByron. */
  r = submit(&c, 1, &g1);
  assert_int_equal(r.kind, CDL_LTX_REJECT);
  assert_hex(r.reason, "828201675368656c6c65798200654279726f6e");
  /* Not a GenTx at all: the ledger never sees it. */
  const uint8_t junk[] = {0x83, 0x00, 0x00, 0x00};
  cdl_buf j;
  cdl_buf_init(&j, 0);
  cdl_buf_append(&j, junk, sizeof junk);
  r = submit(&c, 0, &j);
  expect_reason(&r, CDL_RULE_MEMPOOL_DECODE);
  cdl_mempool_stats st;
  cdl_mempool_stats_get(mp, &st);
  assert_int_equal(st.count, 1);
  /* MsgDone ends the protocol; anything after it is a violation. */
  cdl_ltx_encode(&c.msg, &(cdl_ltx_msg){.kind = CDL_LTX_DONE});
  sc_send(&c, CH_LTX);
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_ltx_encode(&c.msg, &(cdl_ltx_msg){.kind = CDL_LTX_DONE});
  sc_send(&c, CH_LTX);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "after MsgDone");
  cdl_buf_free(&a), cdl_buf_free(&j), cdl_buf_free(&g1), cdl_buf_free(&g2);
}

/* ---- Local tx-monitor ---- */

static cdl_ltm_msg ltm_reply(scripted_client *c) {
  cdl_span in = sc_take(c, CH_LTM);
  cdl_ltm_msg r;
  size_t used;
  cdl_error err = {0};
  if (cdl_ltm_decode(in.ptr, in.len, &r, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  return r;
}

static cdl_ltm_msg ltm(scripted_client *c, cdl_ltm_msg m, bool expect_reply) {
  cdl_ltm_encode(&c->msg, &m);
  sc_send(c, CH_LTM);
  assert_int_equal(sc_pump(c), CDL_OK);
  cdl_ltm_msg r = {.kind = 0xff};
  if (!expect_reply) {
    assert_int_equal(cdl_mux_ingress(&c->mux, CH_LTM).len, 0);
    return r;
  }
  return ltm_reply(c);
}

static cdl_ltm_msg has_tx(scripted_client *c, uint8_t kind, const uint8_t id[32]) {
  cdl_buf gid;
  cdl_buf_init(&gid, 0);
  cdl_net_enc_gentx_id(&gid, kind, id);
  cdl_ltm_msg r =
      ltm(c, (cdl_ltm_msg){.kind = CDL_LTM_HAS_TX, .tx_id = cdl_span_of(gid.data, gid.len)}, true);
  cdl_buf_free(&gid);
  return r;
}

/* The caller's judge decides (the node kernel's: its ledger and slot):
 * the server hands it every submitted GenTx and answers with its verdict;
 * it never asks the mempool itself. */
typedef struct judge_log {
  size_t calls;
  size_t last_len;
} judge_log;

static int judge_refusing(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej) {
  (void)gentx;
  judge_log *j = ctx;
  j->calls++;
  j->last_len = len;
  memset(rej, 0, sizeof *rej);
  rej->rule = CDL_RULE_MEMPOOL_FULL;
  return CDL_E_REJECTED;
}

/* The judge says mempool.full each time: the submission waits unanswered
 * (asked again only when the mempool changes) until CDL_LOCAL_TX_WAIT_MS
 * has passed, when mempool.full is the answer. */
static void test_judge_is_the_callers(void **state) {
  (void)state;
  scripted_client c;
  local_start(&c);
  judge_log log = {0};
  cdl_n2n_server_set_txs(c.srv, cdl_n2n_txs_of_mempool(mp), (cdl_n2n_tx_judge){judge_refusing, &log});
  cdl_buf g;
  uint8_t id[32];
  make_gentx(&g, 0, 1, 5000000, id);
  uint64_t began = c.now;
  cdl_ltx_encode(&c.msg, &(cdl_ltx_msg){.kind = CDL_LTX_SUBMIT, .tx = wrap_gentx(&c.last, &g)});
  sc_send(&c, CH_LTX);
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(cdl_mux_ingress(&c.mux, CH_LTX).len, 0); /* no answer yet */
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.last_len, g.len);
  assert_int_equal(cdl_n2n_server_stats_get(c.srv).txs_waiting, 1);
  assert_int_equal(cdl_n2n_server_deadline(c.srv), began + CDL_LOCAL_TX_WAIT_MS * 1000ull);
  c.now = began + CDL_LOCAL_TX_WAIT_MS * 1000ull - 1; /* the mempool did not change: not asked */
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(cdl_mux_ingress(&c.mux, CH_LTX).len, 0);
  assert_int_equal(log.calls, 1);
  c.now++; /* the limit: asked once more, and its refusal is the answer */
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(log.calls, 2);
  cdl_span in = sc_take(&c, CH_LTX);
  cdl_ltx_msg r;
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_ltx_decode(in.ptr, in.len, &r, &used, &err), CDL_OK);
  expect_reason(&r, CDL_RULE_MEMPOOL_FULL);
  cdl_n2n_server_stats st = cdl_n2n_server_stats_get(c.srv);
  assert_true(st.txs_waiting == 0 && st.txs_waited == 1 && st.tx_waits_expired == 1);
  assert_int_equal(st.txs_received, 1);
  cdl_mempool_entry e;
  assert_false(cdl_mempool_find(mp, CDL_MP_TX, id, &e)); /* the judge kept nothing */
  cdl_buf_free(&g);
  sc_free(&c);
}

static void test_monitor(void **state) {
  (void)state;
  scripted_client c;
  local_start(&c);
  cdl_buf g1, g2;
  uint8_t id1[32], id2[32];
  make_gentx(&g1, 1, 0, 5000000, id1);
  make_gentx(&g2, 2, 0, 6000000, id2);
  assert_int_equal(submit(&c, 0, &g1).kind, CDL_LTX_ACCEPT);
  cdl_ltm_msg r = ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_ACQUIRE}, true);
  assert_int_equal(r.kind, CDL_LTM_ACQUIRED);
  assert_int_equal(r.slot, 0); /* the slot after the tip; origin: 0 */
  r = ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_NEXT_TX}, true);
  assert_true(r.kind == CDL_LTM_REPLY_NEXT_TX && r.has_tx);
  uint64_t era;
  cdl_span inner;
  cdl_error err = {0};
  assert_int_equal(cdl_net_read_gentx(r.tx, &era, &inner, &err), CDL_OK);
  assert_int_equal(era, 0);
  assert_int_equal(inner.len, g1.len);
  assert_memory_equal(inner.ptr, g1.data, g1.len);
  r = ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_NEXT_TX}, true);
  assert_false(r.has_tx);
  assert_true(has_tx(&c, CDL_MP_TX, id1).has);
  assert_false(has_tx(&c, CDL_MP_DLG, id1).has);
  assert_false(has_tx(&c, CDL_MP_TX, id2).has);
  r = ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_GET_SIZES}, true);
  cdl_mempool_stats st;
  cdl_mempool_stats_get(mp, &st);
  assert_int_equal(r.kind, CDL_LTM_REPLY_GET_SIZES);
  assert_int_equal(r.capacity, st.capacity);
  assert_int_equal(r.size, g1.len - 2);
  assert_int_equal(r.count, 1);
  r = ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_GET_MEASURES}, true);
  assert_int_equal(r.count, 1);
  char want[128]; /* {"transaction_bytes": [size, capacity]} */
  assert_true(g1.len - 2 >= 256 && g1.len - 2 < 65536 && st.capacity >= 65536);
  snprintf(want, sizeof want, "a1717472616e73616374696f6e5f62797465738219%04x1a%08x",
           (unsigned)(g1.len - 2), (unsigned)st.capacity);
  assert_hex(r.measures, want);
  /* Await: no answer until the mempool changes; then a new snapshot. */
  ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_ACQUIRE}, false);
  assert_false(cdl_n2n_server_wants_poll(c.srv));
  assert_int_equal(submit(&c, 0, &g2).kind, CDL_LTX_ACCEPT);
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(ltm_reply(&c).kind, CDL_LTM_ACQUIRED);
  assert_true(has_tx(&c, CDL_MP_TX, id2).has);
  assert_true(ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_NEXT_TX}, true).has_tx);
  assert_true(ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_NEXT_TX}, true).has_tx);
  assert_false(ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_NEXT_TX}, true).has_tx);
  ltm(&c, (cdl_ltm_msg){.kind = CDL_LTM_RELEASE}, false);
  /* Idle: only acquire or done. */
  cdl_ltm_encode(&c.msg, &(cdl_ltm_msg){.kind = CDL_LTM_NEXT_TX});
  sc_send(&c, CH_LTM);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "MsgNextTx while idle");
  cdl_buf_free(&g1), cdl_buf_free(&g2);
}

static void test_violations(void **state) {
  (void)state;
  scripted_client c;
  local_start(&c); /* a server's message from the client */
  cdl_ltx_encode(&c.msg, &(cdl_ltx_msg){.kind = CDL_LTX_ACCEPT});
  sc_send(&c, CH_LTX);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "may not send MsgAcceptTx");
  local_start(&c); /* a submission that is not [era, tx] */
  const uint8_t bad[] = {0x82, 0x00, 0x01};
  cdl_ltx_encode(&c.msg, &(cdl_ltx_msg){.kind = CDL_LTX_SUBMIT, .tx = cdl_span_of(bad + 2, 1)});
  sc_send(&c, CH_LTX);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "not a GenTx");
  local_start(&c); /* a tx-monitor query with a malformed id */
  cdl_ltm_encode(&c.msg, &(cdl_ltm_msg){.kind = CDL_LTM_ACQUIRE});
  sc_send(&c, CH_LTM);
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_ltm_encode(&c.msg, &(cdl_ltm_msg){.kind = CDL_LTM_HAS_TX, .tx_id = cdl_span_of(bad, 3)});
  sc_send(&c, CH_LTM);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "not a GenTxId");
  local_start(&c); /* a message past the bound */
  static uint8_t big[12288];
  const uint8_t head[] = {0x82, 0x00, 0x5a, 0x00, 0x10, 0x00, 0x00};
  memcpy(big, head, sizeof head);
  int rc = sc_raw_sdu(&c, CDL_PROTO_LOCAL_TX_SUBMISSION, big, sizeof big);
  memset(big, 0, sizeof head);
  for (int k = 0; k < 8 && rc == CDL_OK; k++)
    rc = sc_raw_sdu(&c, CDL_PROTO_LOCAL_TX_SUBMISSION, big, sizeof big);
  sc_expect_violation(&c, rc, CDL_E_LIMIT, "over");
  /* Without a mempool the protocols are not there. */
  static const cdl_hs_config LOCAL_HS = {true, 9, 23, {MAGIC, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE};
  sc_start(&c, db, &LOCAL_HS, PROTOS, 1);
  cdl_hs_config mine = {true, 16, 19, {MAGIC, false, 0, false}};
  cdl_hs_encode_propose(&c.msg, &mine);
  sc_send(&c, 0);
  assert_int_equal(sc_pump(&c), CDL_OK);
  cdl_ltx_encode(&c.msg, &(cdl_ltx_msg){.kind = CDL_LTX_DONE});
  sc_expect_violation(&c, sc_raw_sdu(&c, CDL_PROTO_LOCAL_TX_SUBMISSION, c.msg.data, c.msg.len),
                      CDL_E_PROTOCOL, "unknown");
}

/* ---- Node-to-node tx-submission: this side pulls ---- */

enum { N2N_HS, N2N_TX };

static void peer_start(scripted_client *c) {
  static const cdl_hs_config HS = {false, 7, 15, {MAGIC, false, 0, false}};
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_TX_SUBMISSION};
  sc_start(c, db, &HS, PROTOS, 2);
  cdl_n2n_server_set_txs(c->srv, cdl_n2n_txs_of_mempool(mp), judge_at_tip());
  cdl_hs_config mine = {false, 7, 14, {MAGIC, false, 0, false}};
  assert_int_equal(sc_handshake(c, &mine).version, 14);
}

/* |c|'s reply: the message the server sent last (it must have sent one). */
static cdl_tx2_msg reply_of(scripted_client *c) {
  assert_int_equal(sc_pump(c), CDL_OK);
  cdl_span in = sc_take(c, N2N_TX);
  cdl_tx2_msg r;
  size_t used;
  cdl_error err = {0};
  if (cdl_tx2_decode(in.ptr, in.len, &r, &used, &err) != CDL_OK) fail_msg("%s", err.message);
  return r;
}

static cdl_tx2_msg tx2(scripted_client *c, const cdl_tx2_msg *m) {
  cdl_tx2_encode(&c->msg, m);
  sc_send(c, N2N_TX);
  return reply_of(c);
}

/* The indefinite list of [[0, [0, id]], size] or of [0, gentx]. */
static cdl_span id_list(cdl_buf *b, uint8_t ids[][32], const size_t *sizes, size_t n) {
  cdl_buf_init(b, 0);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < n; i++) {
    cdl_cbor_enc_array(b, 2);
    cdl_net_enc_gentx_id(b, CDL_MP_TX, ids[i]);
    cdl_cbor_enc_uint(b, sizes[i]);
  }
  cdl_cbor_enc_break(b);
  return cdl_span_of(b->data, b->len);
}

static cdl_span tx_list(cdl_buf *b, const cdl_buf *gentx, size_t n) {
  cdl_buf_init(b, 0);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < n; i++) cdl_net_enc_gentx(b, cdl_span_of(gentx[i].data, gentx[i].len));
  cdl_cbor_enc_break(b);
  return cdl_span_of(b->data, b->len);
}

/* Poor keys 0, 1 and 2 paying key 3: each GenTx, its id and its size
 * on the wire as a peer advertises it. */
static void three_payments(cdl_buf g[3], uint8_t id[3][32], size_t sizes[3]) {
  for (size_t i = 0; i < 3; i++) {
    make_gentx(&g[i], i, 3, 5000000, id[i]);
    sizes[i] = g[i].len + 2;
  }
}

static void test_tx_pull(void **state) {
  (void)state;
  scripted_client c;
  peer_start(&c);
  cdl_buf g[3], ids_b, txs_b;
  uint8_t id[3][32];
  size_t sizes[3];
  three_payments(g, id, sizes);
  cdl_tx2_msg r = tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.blocking && r.ack == 0 && r.req == 6);
  r = tx2(&c,
          &(cdl_tx2_msg){
              .kind = CDL_TX2_REPLY_TX_IDS, .items = id_list(&ids_b, id, sizes, 2), .n_items = 2});
  cdl_buf_free(&ids_b);
  assert_int_equal(r.kind, CDL_TX2_REQUEST_TXS);
  assert_int_equal(r.n_items, 2);
  r = tx2(&c,
          &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TXS, .items = tx_list(&txs_b, g, 2), .n_items = 2});
  cdl_buf_free(&txs_b);
  /* Both are in the mempool; the next request acknowledges them. */
  cdl_mempool_entry e;
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[0], &e));
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[1], &e));
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.blocking && r.ack == 2 && r.req == 6);
  /* An id the mempool has is not fetched again; a new one is. */
  uint8_t again[2][32];
  memcpy(again[0], id[0], 32), memcpy(again[1], id[2], 32);
  size_t again_sizes[2] = {sizes[0], sizes[2]};
  r = tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                             .items = id_list(&ids_b, again, again_sizes, 2),
                             .n_items = 2});
  cdl_buf_free(&ids_b);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && r.n_items == 1);
  /* Silence where the txs are due: 10 s. */
  c.now += 10 * 1000000ull;
  sc_expect_violation(&c, cdl_n2n_server_poll(c.srv, c.now, &c.err), CDL_E_TIMEOUT,
                      "tx-submission");
  /* A tx that was not asked for. */
  peer_start(&c);
  tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  r = tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                             .items = id_list(&ids_b, &id[2], &sizes[2], 1),
                             .n_items = 1});
  cdl_buf_free(&ids_b);
  assert_int_equal(r.kind, CDL_TX2_REQUEST_TXS);
  cdl_tx2_encode(
      &c.msg,
      &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TXS, .items = tx_list(&txs_b, g, 1), .n_items = 1});
  cdl_buf_free(&txs_b);
  sc_send(&c, N2N_TX);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "not asked for");
  /* A tx more than 32 bytes longer than advertised (32 is allowed). */
  size_t shrunk[2] = {sizes[2] - 33, sizes[2] - 32};
  for (size_t k = 0; k < 2; k++) {
    peer_start(&c);
    tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
    r = tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                               .items = id_list(&ids_b, &id[2], &shrunk[k], 1),
                               .n_items = 1});
    cdl_buf_free(&ids_b);
    assert_int_equal(r.kind, CDL_TX2_REQUEST_TXS);
    cdl_tx2_encode(
        &c.msg, &(cdl_tx2_msg){
                    .kind = CDL_TX2_REPLY_TXS, .items = tx_list(&txs_b, &g[2], 1), .n_items = 1});
    cdl_buf_free(&txs_b);
    sc_send(&c, N2N_TX);
    if (k == 1) {
      assert_int_equal(sc_pump(&c), CDL_OK);
      sc_free(&c);
      continue;
    }
    sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "advertised as");
  }
  /* More ids than asked, and an advertised size over 65,540 bytes. */
  uint8_t seven[7][32] = {{1}, {2}, {3}, {4}, {5}, {6}, {7}};
  size_t seven_sizes[7] = {300, 300, 300, 300, 300, 300, 300};
  peer_start(&c);
  tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  cdl_tx2_encode(&c.msg, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                                        .items = id_list(&ids_b, seven, seven_sizes, 7),
                                        .n_items = 7});
  cdl_buf_free(&ids_b);
  sc_send(&c, N2N_TX);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_PROTOCOL, "7 ids where 6 were asked");
  peer_start(&c);
  tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  seven_sizes[0] = 65541;
  cdl_tx2_encode(&c.msg, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                                        .items = id_list(&ids_b, seven, seven_sizes, 1),
                                        .n_items = 1});
  cdl_buf_free(&ids_b);
  sc_send(&c, N2N_TX);
  sc_expect_violation(&c, sc_pump(&c), CDL_E_LIMIT, "65541 bytes");
  for (size_t i = 0; i < 3; i++) cdl_buf_free(&g[i]);
}

/* No message waits on |c|'s tx-submission channel. */
static void assert_quiet(scripted_client *c) {
  assert_int_equal(sc_pump(c), CDL_OK);
  assert_int_equal(cdl_mux_ingress(&c->mux, N2N_TX).len, 0);
}

/* Peers |a| and |b| both started, past MsgInit. */
static void two_peers(scripted_client *a, scripted_client *b) {
  peer_start(a);
  peer_start(b);
  tx2(a, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  tx2(b, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
}

static cdl_tx2_msg offer_ids(scripted_client *c, uint8_t ids[][32], const size_t *sizes, size_t n) {
  cdl_buf b;
  cdl_tx2_msg r =
      tx2(c, &(cdl_tx2_msg){
                 .kind = CDL_TX2_REPLY_TX_IDS, .items = id_list(&b, ids, sizes, n), .n_items = n});
  cdl_buf_free(&b);
  return r;
}

static void send_txs(scripted_client *c, const cdl_buf *g, size_t n) {
  cdl_buf b;
  cdl_tx2_encode(&c->msg,
                 &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TXS, .items = tx_list(&b, g, n), .n_items = n});
  cdl_buf_free(&b);
  sc_send(c, N2N_TX);
}

/* Offers ids the server must not answer now. */
static void offer_ids_quietly(scripted_client *c, uint8_t ids[][32], const size_t *sizes,
                              size_t n) {
  cdl_buf b;
  cdl_tx2_encode(&c->msg, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                                         .items = id_list(&b, ids, sizes, n),
                                         .n_items = n});
  cdl_buf_free(&b);
  sc_send(c, N2N_TX);
  assert_quiet(c);
}

static bool lists_id(const cdl_tx2_msg *r, const uint8_t id[32]) {
  return memmem(r->items.ptr, r->items.len, id, 32) != NULL;
}

/* A tx two peers offer at once is pulled from one; the other waits for
 * that pull and acknowledges the tx unpulled (docs/mempool.md "One pull
 * per tx"). If the puller goes, or is slower than TX_DEFER_US, the other
 * pulls it: nothing is lost to the sharing. */
static void test_tx_pulled_once(void **state) {
  (void)state;
  cdl_buf g[4];
  uint8_t id[4][32];
  size_t sizes[4];
  three_payments(g, id, sizes);
  make_gentx(&g[3], 3, 0, 5000000, id[3]);
  sizes[3] = g[3].len + 2;
  scripted_client a, b;
  two_peers(&a, &b);
  cdl_tx2_msg r = offer_ids(&a, id, sizes, 1);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && r.n_items == 1 && lists_id(&r, id[0]));
  /* b offers the same tx and another: only the other is pulled. */
  r = offer_ids(&b, id, sizes, 2);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && r.n_items == 1);
  assert_true(lists_id(&r, id[1]) && !lists_id(&r, id[0]));
  /* With tx 1 in, b waits for a's pull: it asks nothing, not even ids. */
  send_txs(&b, &g[1], 1);
  assert_quiet(&b);
  assert_false(cdl_n2n_server_wants_poll(b.srv));
  /* a's tx comes: b's wait ends; it acknowledges both, pulling nothing. */
  send_txs(&a, &g[0], 1);
  r = reply_of(&a);
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.blocking && r.ack == 1);
  assert_true(cdl_n2n_server_wants_poll(b.srv));
  r = reply_of(&b);
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.blocking && r.ack == 2);
  assert_int_equal(cdl_n2n_server_stats_get(b.srv).tx_pulls_saved, 1);
  assert_int_equal(cdl_n2n_server_stats_get(b.srv).txs_received, 1);
  assert_int_equal(cdl_mempool_fetching(mp), 0);
  /* The puller goes before its tx came: b pulls it then. */
  r = offer_ids(&a, &id[2], &sizes[2], 1);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && lists_id(&r, id[2]));
  offer_ids_quietly(&b, &id[2], &sizes[2], 1);
  sc_free(&a);
  r = reply_of(&b);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && r.n_items == 1 && lists_id(&r, id[2]));
  send_txs(&b, &g[2], 1);
  r = reply_of(&b);
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.ack == 1);
  cdl_mempool_entry e;
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[2], &e));
  /* A puller slower than TX_DEFER_US: b pulls the tx too, once that is over. */
  peer_start(&a);
  tx2(&a, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  r = offer_ids(&a, &id[3], &sizes[3], 1);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && lists_id(&r, id[3]));
  b.now = a.now;
  offer_ids_quietly(&b, &id[3], &sizes[3], 1);
  assert_int_equal(cdl_n2n_server_deadline(b.srv), b.now + 1000000);
  b.now += 999999;
  assert_quiet(&b);
  b.now += 1;
  r = reply_of(&b);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && lists_id(&r, id[3]));
  send_txs(&b, &g[3], 1);
  r = reply_of(&b);
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.ack == 1);
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[3], &e));
  /* a's copy comes late: it is a duplicate now, and its pull ends. */
  send_txs(&a, &g[3], 1);
  r = reply_of(&a);
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.ack == 1);
  assert_int_equal(cdl_mempool_fetching(mp), 0);
  sc_free(&a);
  sc_free(&b);
  for (size_t i = 0; i < 4; i++) cdl_buf_free(&g[i]);
}

/* A mempool with room for |room| more txs, as the judge and the reads
 * see it: past that the judge says mempool.full; |bumps| counts changes
 * the test makes (room appearing) on top of the mempool's own. */
typedef struct gate {
  size_t room, calls;
  uint64_t bumps;
} gate;

static int gated_judge(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej) {
  gate *g = ctx;
  g->calls++;
  if (g->room == 0) {
    memset(rej, 0, sizeof *rej);
    rej->rule = CDL_RULE_MEMPOOL_FULL;
    return CDL_E_REJECTED;
  }
  cdl_n2n_tx_judge j = judge_at_tip();
  int rc = j.submit(j.ctx, gentx, len, rej);
  g->room -= rc == CDL_OK;
  return rc;
}

static bool gated_next(void *ctx, uint64_t after, cdl_mempool_entry *e) {
  (void)ctx;
  return cdl_mempool_next(mp, after, e);
}
static bool gated_find(void *ctx, uint8_t kind, const uint8_t id[32], cdl_mempool_entry *e) {
  (void)ctx;
  return cdl_mempool_find(mp, kind, id, e);
}
static uint64_t gated_changes(void *ctx) { return cdl_mempool_changes(mp) + ((gate *)ctx)->bumps; }
static void gated_stats(void *ctx, cdl_mempool_stats *st) {
  (void)ctx;
  cdl_mempool_stats_get(mp, st);
}

/* A peer's txs that find the mempool full are kept, not lost: the ones
 * after the first kept one wait behind it, nothing is asked of the peer
 * (their ids stay unacknowledged: its window stays full) until all are
 * in, each try comes only after a change, and then the next request
 * acknowledges them all. */
static void test_tx_held_until_room(void **state) {
  (void)state;
  scripted_client c;
  peer_start(&c);
  gate g = {.room = 1};
  cdl_n2n_txs txs = {
      .ctx = &g, .next = gated_next, .find = gated_find, .changes = gated_changes, .stats = gated_stats};
  cdl_n2n_server_set_txs(c.srv, txs, (cdl_n2n_tx_judge){gated_judge, &g});
  cdl_buf gx[3], ids_b, txs_b;
  uint8_t id[3][32];
  size_t sizes[3];
  three_payments(gx, id, sizes);
  tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  cdl_tx2_msg r = tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                                         .items = id_list(&ids_b, id, sizes, 3),
                                         .n_items = 3});
  cdl_buf_free(&ids_b);
  assert_true(r.kind == CDL_TX2_REQUEST_TXS && r.n_items == 3);
  cdl_tx2_encode(&c.msg, &(cdl_tx2_msg){
                             .kind = CDL_TX2_REPLY_TXS, .items = tx_list(&txs_b, gx, 3), .n_items = 3});
  cdl_buf_free(&txs_b);
  sc_send(&c, N2N_TX);
  assert_int_equal(sc_pump(&c), CDL_OK);
  /* tx 0 in; tx 1 refused for room, kept; tx 2 kept behind it untried. */
  assert_int_equal(g.calls, 2);
  assert_int_equal(cdl_mux_ingress(&c.mux, N2N_TX).len, 0); /* nothing asked */
  cdl_mempool_entry e;
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[0], &e));
  assert_false(cdl_mempool_find(mp, CDL_MP_TX, id[1], &e));
  cdl_n2n_server_stats st = cdl_n2n_server_stats_get(c.srv);
  assert_true(st.txs_waiting == 2 && st.txs_waited == 2 && st.txs_received == 3);
  /* A minute without a change: nothing tried, and no limit in StIdle (the
   * 10 s of shortWait are the peer's replies'). */
  c.now += 60 * 1000000ull;
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(g.calls, 2);
  g.room = 1, g.bumps++; /* room for one: tx 1 goes in, tx 2 still waits */
  assert_true(cdl_n2n_server_wants_poll(c.srv));
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_int_equal(g.calls, 4);
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[1], &e));
  assert_int_equal(cdl_mux_ingress(&c.mux, N2N_TX).len, 0);
  assert_int_equal(cdl_n2n_server_stats_get(c.srv).txs_waiting, 1);
  g.room = 5, g.bumps++; /* room: tx 2 in, and the three are acknowledged */
  assert_int_equal(sc_pump(&c), CDL_OK);
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id[2], &e));
  cdl_span in = sc_take(&c, N2N_TX);
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_tx2_decode(in.ptr, in.len, &r, &used, &err), CDL_OK);
  assert_true(r.kind == CDL_TX2_REQUEST_TX_IDS && r.blocking && r.ack == 3 && r.req == 6);
  st = cdl_n2n_server_stats_get(c.srv);
  assert_true(st.txs_waiting == 0 && st.txs_waited == 2 && st.txs_accepted == 3);
  for (size_t i = 0; i < 3; i++) cdl_buf_free(&gx[i]);
  sc_free(&c);
}

/* Poor key |from|'s payment (make_gentx) with its witness list emptied:
 * [0, [tx, []]]. */
static void unwitnessed_gentx(cdl_buf *out, size_t from, uint8_t id[32]) {
  cdl_buf g;
  make_gentx(&g, from, 3, 5000000, id);
  cdl_cbor_cursor cur;
  cdl_error err = {0};
  cdl_span tx;
  cdl_cbor_cursor_init(&cur, g.data + 3, g.len - 3, &err); /* after 82 00 82 */
  assert_int_equal(cdl_cbor_skip(&cur, &tx), CDL_OK);
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, CDL_MP_TX);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_raw(out, tx);
  cdl_cbor_enc_array(out, 0);
  cdl_buf_free(&g);
}

/* A tx of poor key 0's genesis output paying 513 outputs of 1 lovelace
 * (about 23 KB, over maxTxSize 4,096): refused by the size rule, with the
 * rule's message, and the connection goes on (the decoder once ran out of
 * its memory bound at 513 outputs and the connection was closed). */
static void test_large_tx_rejected(void **state) {
  (void)state;
  scripted_client c;
  local_start(&c);
  cdl_buf to, g;
  cdl_buf_init(&to, 0), cdl_buf_init(&g, 0);
  cdl_key_address(&gen.secrets.poor[1], gen.requires_magic, MAGIC, &to);
  cdl_payload_tx_output outs[513];
  for (size_t i = 0; i < 513; i++)
    outs[i] = (cdl_payload_tx_output){cdl_span_of(to.data, to.len), 1};
  cdl_payload_tx_input in = {.index = 0, .owner = &gen.secrets.poor[0]};
  cdl_buf from;
  cdl_buf_init(&from, 0);
  cdl_key_address(in.owner, gen.requires_magic, MAGIC, &from);
  cdl_blake2b_256(in.tx_id, from.data, from.len); /* a genesis output's id */
  uint8_t id[32];
  cdl_cbor_enc_array(&g, 2);
  cdl_cbor_enc_uint(&g, CDL_MP_TX);
  cdl_payload_tx_make(&in, 1, outs, 513, MAGIC, &g, id);
  assert_true(g.len > 20000 && g.len < CDL_MEMPOOL_MAX_PAYLOAD);
  cdl_ltx_msg r = submit(&c, 0, &g);
  expect_reason(&r, CDL_RULE_TX_SIZE);
  char detail[64];
  snprintf(detail, sizeof detail, "exceeds maxTxSize 4096");
  assert_non_null(memmem(r.reason.ptr, r.reason.len, detail, strlen(detail)));
  cdl_buf small;
  make_gentx(&small, 2, 3, 5000000, id);
  assert_int_equal(submit(&c, 0, &small).kind, CDL_LTX_ACCEPT); /* still connected */
  sc_free(&c);
  cdl_buf_free(&to), cdl_buf_free(&from), cdl_buf_free(&g), cdl_buf_free(&small);
}

/* The mempool's witness policy on both ways in: a local client gets
 * MsgRejectTx naming mempool.witnesses_missing, [[0, [0, [rule, detail]]]];
 * a peer's such tx is pulled, refused and not held against the peer. */
static void test_witness_policy(void **state) {
  (void)state;
  scripted_client c;
  local_start(&c);
  cdl_buf g;
  uint8_t id[32];
  unwitnessed_gentx(&g, 1, id);
  cdl_ltx_msg r = submit(&c, 0, &g);
  expect_reason(&r, CDL_RULE_MEMPOOL_WITNESSES);
  static const char HEAD[] = "\x81\x82\x00\x82\x00\x82\x78\x19mempool.witnesses_missing";
  assert_true(r.reason.len > sizeof HEAD - 1);
  assert_memory_equal(r.reason.ptr, HEAD, sizeof HEAD - 1);
  sc_free(&c);
  peer_start(&c);
  size_t size = g.len + 2;
  cdl_buf ids_b, txs_b;
  tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_INIT});
  cdl_tx2_msg q = tx2(&c, &(cdl_tx2_msg){.kind = CDL_TX2_REPLY_TX_IDS,
                                         .items = id_list(&ids_b, &id, &size, 1),
                                         .n_items = 1});
  cdl_buf_free(&ids_b);
  assert_true(q.kind == CDL_TX2_REQUEST_TXS && q.n_items == 1);
  q = tx2(&c, &(cdl_tx2_msg){
                  .kind = CDL_TX2_REPLY_TXS, .items = tx_list(&txs_b, &g, 1), .n_items = 1});
  cdl_buf_free(&txs_b);
  assert_true(q.kind == CDL_TX2_REQUEST_TX_IDS && q.ack == 1); /* the connection goes on */
  cdl_n2n_server_stats st = cdl_n2n_server_stats_get(c.srv);
  assert_int_equal(st.txs_received, 1);
  assert_int_equal(st.txs_accepted, 0);
  cdl_mempool_entry e;
  assert_false(cdl_mempool_find(mp, CDL_MP_TX, id, &e));
  sc_free(&c);
  cdl_buf_free(&g);
}

/* The consensus goldens: the Byron GenTx decodes as a tx, and its hard-fork
 * form is [0, GenTx]; the GenTxId's hard-fork form is [0, [0, hash]]. */
static void test_goldens(void **state) {
  (void)state;
  cdl_buf byron, cardano;
  vec_read("golden/ouroboros-consensus/byron/ByronNodeToNodeVersion2/GenTx", &byron);
  vec_read("golden/ouroboros-consensus/cardano/CardanoNodeToNodeVersion2/GenTx_Byron", &cardano);
  uint8_t kind = 9, id[32];
  cdl_rejection rej;
  assert_int_equal(cdl_mempool_gentx_id(byron.data, byron.len, &kind, id, &rej), CDL_OK);
  assert_int_equal(kind, CDL_MP_TX);
  cdl_buf mine;
  cdl_buf_init(&mine, 0);
  cdl_net_enc_gentx(&mine, cdl_span_of(byron.data, byron.len));
  assert_int_equal(mine.len, cardano.len);
  assert_memory_equal(mine.data, cardano.data, mine.len);
  cdl_buf_free(&cardano);
  vec_read("golden/ouroboros-consensus/cardano/CardanoNodeToNodeVersion2/GenTxId_Byron", &cardano);
  cdl_net_gentx_id gid;
  cdl_error err = {0};
  assert_int_equal(cdl_net_read_gentx_id(cdl_span_of(cardano.data, cardano.len), &gid, &err),
                   CDL_OK);
  assert_true(gid.era == 0 && gid.kind == 0);
  cdl_buf_reset(&mine);
  cdl_net_enc_gentx_id(&mine, gid.kind, gid.hash);
  assert_memory_equal(mine.data, cardano.data, cardano.len);
  cdl_buf_free(&mine), cdl_buf_free(&byron), cdl_buf_free(&cardano);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_submit, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_judge_is_the_callers, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_monitor, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_violations, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_tx_pull, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_tx_held_until_room, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_tx_pulled_once, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_witness_policy, tx_test_setup, tx_test_teardown),
      cmocka_unit_test_setup_teardown(test_large_tx_rejected, tx_test_setup, tx_test_teardown),
      cmocka_unit_test(test_goldens),
  };
  return cmocka_run_group_tests(tests, tx_group_setup, tx_group_teardown);
}
