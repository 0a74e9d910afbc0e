/*
 * test_node_txwait.c: submissions wait for mempool room instead of being
 * refused (docs/network.md "Local tx-submission", "Serving"; docs/
 * mempool.md "Capacity"), through whole node kernels (include/cardinal/
 * node.h) in simulated time, their bytes carried by the test:
 *  - a core node whose mempool holds two payments and a local client
 *    submitting five: the third gets no answer until the block of slot 7
 *    takes the first two (the kernel wakes the connection when the
 *    mempool is re-validated), then it and the others are accepted, and
 *    all five end in blocks;
 *  - on a relay (no blocks, the mempool stays full) the waiting
 *    submission is answered mempool.full once CDL_LOCAL_TX_WAIT_MS has
 *    passed, not before; meanwhile another client's double spend and a
 *    tx larger than the whole capacity are refused at once;
 *  - a relay offering five payments over node-to-node tx-submission to
 *    that core node: the ones its full mempool has no room for wait in
 *    the inbound side and all five end in its blocks, none lost;
 *  - the metrics show the waiting (cardinal_txs_waiting,
 *    cardinal_txs_waited_total, cardinal_local_tx_wait_expired_total).
 */
#include <stdio.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "cardinal/node.h"
#include "node_metric.h"

#define START_US (1700000000ull * 1000000) /* gen_genesis's start time */
#define SLOT_US 1000000ull
#define MAGIC 42
#define WAIT_US (CDL_LOCAL_TX_WAIT_MS * 1000ull)

/* ---- Nodes ---- */

/* A genesis of 7 keys (k = 5) with 8 funded keys; genesis key 0's slots
 * are 0, 7, 14, ... */
typedef struct net {
  char gen_dir[64];
  cdl_gen_dir g;
  cdl_fs record_fs;
} net;

/* A kernel over its own ChainDB: a core node signing as genesis key 0
 * (threshold 1: it may sign every block) or a relay. */
typedef struct knode {
  char db_dir[64];
  cdl_chaindb *db;
  cdl_node *n;
  cdl_node_forger f;
} knode;

static void net_open(net *t) {
  make_dir(t->gen_dir, sizeof t->gen_dir, "txwait-gen");
  gen_genesis(t->gen_dir, 5, 8, 1, &t->g);
  cdl_fs_posix_init(&t->record_fs, 0);
}

static void net_close(net *t) {
  cdl_gen_dir_free(&t->g);
  remove_dir(t->gen_dir);
}

static void knode_open(knode *k, net *t, bool core, size_t capacity) {
  memset(k, 0, sizeof *k);
  make_dir(k->db_dir, sizeof k->db_dir, core ? "txwait-core" : "txwait-relay");
  cdl_chaindb_config dc = chaindb_config(k->db_dir, &t->g.genesis, NULL);
  dc.ledger.requires_magic = t->g.requires_magic;
  dc.ledger.pbft_threshold = 1.0;
  k->db = db_open(&dc, NULL);
  cdl_error err = {0};
  if (core) {
    char path[128];
    snprintf(path, sizeof path, "%s/signed-%s", t->gen_dir, k->db_dir + 5);
    if (cdl_sign_record_open(&t->record_fs, path, &k->f.record, &err) != CDL_OK)
      fail_msg("%s", err.message);
    k->f.delegate = t->g.secrets.delegates[0];
    k->f.cert = t->g.secrets.certs[0];
  }
  cdl_node_config nc = {.db = k->db,
                        .genesis = &t->g.genesis,
                        .n2n = cdl_hs_node_to_node(MAGIC, false),
                        .n2c = cdl_hs_node_to_client(MAGIC),
                        .mempool = {.capacity_bytes = capacity},
                        .forger = core ? &k->f : NULL};
  if (cdl_node_new(&nc, START_US, &k->n, &err) != CDL_OK)
    fail_msg("node: %s", err.message);
}

static void knode_close(knode *k) {
  cdl_node_del(k->n);
  db_close(k->db);
  if (k->f.record != NULL)
    cdl_sign_record_close(k->f.record);
  remove_dir(k->db_dir);
}

static void tick(knode *k, uint64_t now) {
  cdl_error err = {0};
  if (cdl_node_tick(k->n, now, &err) != CDL_OK)
    fail_msg("tick: %s", err.message);
}

/* Every woken connection polled, none ended. */
static void drain_dirty(knode *k) {
  cdl_node_conn_id id;
  while (cdl_node_next_dirty(k->n, &id)) {
    int rc;
    cdl_error err = {0};
    if (cdl_node_conn_result(k->n, id, &rc, &err))
      fail_msg("connection %u ended: %d %s", (unsigned)id, rc, err.message);
  }
}

static cdl_node_stats stats(const knode *k) {
  cdl_node_stats st;
  cdl_node_stats_get(k->n, &st);
  return st;
}

/* The payment's first output (to its payee) is unspent on |k|'s chain: the tx is in a block. */
static bool on_chain(const knode *k, const uint8_t id[32]) {
  uint64_t lovelace;
  return cdl_ledger_utxo_get(cdl_chaindb_ledger(k->db), id, 0, &lovelace);
}

/* ---- A local client ---- */

enum { LC_HS, LC_LTX };

typedef struct lclient {
  knode *k;
  cdl_node_conn_id id;
  cdl_mux mux;
  cdl_buf wire, msg, reply;
} lclient;

/* The client's queued messages to the node, then whatever the node has. */
static void lc_flush(lclient *c, uint64_t now) {
  cdl_error err = {0};
  cdl_buf_reset(&c->wire);
  while (cdl_mux_next_sdu(&c->mux, 0, &c->wire)) {
  }
  if (c->wire.len > 0 &&
      cdl_node_conn_recv(c->k->n, c->id, c->wire.data, c->wire.len, now, &err) != CDL_OK)
    fail_msg("recv: %s", err.message);
  drain_dirty(c->k);
  cdl_buf_reset(&c->wire);
  while (cdl_node_conn_next_sdu(c->k->n, c->id, now, &c->wire)) {
  }
  assert_int_equal(cdl_mux_recv(&c->mux, c->wire.data, c->wire.len, 0, &err), CDL_OK);
}

/* The next whole message on |ch| into c->reply; false when none came. */
static bool lc_take(lclient *c, int ch) {
  cdl_span in = cdl_mux_ingress(&c->mux, ch);
  if (in.len == 0)
    return false;
  cdl_error err = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, in.ptr, in.len, &err);
  cdl_span item;
  if (cdl_cbor_skip(&cur, &item) != CDL_OK)
    return false;
  cdl_buf_reset(&c->reply);
  assert_int_equal(cdl_buf_append(&c->reply, item.ptr, item.len), CDL_OK);
  cdl_mux_consume(&c->mux, ch, item.len);
  return true;
}

static void lc_open(lclient *c, knode *k, uint64_t now) {
  memset(c, 0, sizeof *c);
  c->k = k;
  cdl_error err = {0};
  assert_int_equal(cdl_node_conn_open(k->n, CDL_NODE_LOCAL, now, &c->id, &err), CDL_OK);
  cdl_mux_init(&c->mux, 0);
  assert_int_equal(cdl_mux_add_channel(&c->mux, CDL_PROTO_HANDSHAKE, true, 1 << 20), LC_HS);
  assert_int_equal(cdl_mux_add_channel(&c->mux, CDL_PROTO_LOCAL_TX_SUBMISSION, true, 1 << 20),
                   LC_LTX);
  cdl_buf_init(&c->wire, 0), cdl_buf_init(&c->msg, 0), cdl_buf_init(&c->reply, 0);
  cdl_hs_config mine = {true, 16, 19, {MAGIC, false, 0, false}};
  cdl_hs_encode_propose(&c->msg, &mine);
  assert_int_equal(cdl_mux_queue(&c->mux, LC_HS, c->msg.data, c->msg.len), CDL_OK);
  lc_flush(c, now);
  assert_true(lc_take(c, LC_HS));
  cdl_hs_msg m;
  size_t used;
  cdl_hs_result r;
  assert_int_equal(cdl_hs_decode(c->reply.data, c->reply.len, &m, &used, &err), CDL_OK);
  assert_int_equal(cdl_hs_check_reply(&mine, &m, &r, &err), CDL_OK);
}

static void lc_close(lclient *c, uint64_t now) {
  cdl_node_conn_close(c->k->n, c->id, CDL_PEER_END_CLEAN, now);
  cdl_mux_free(&c->mux);
  cdl_buf_free(&c->wire), cdl_buf_free(&c->msg), cdl_buf_free(&c->reply);
}

/* Sends MsgSubmitTx [0, gentx]. */
static void lc_submit(lclient *c, const cdl_buf *gentx, uint64_t now) {
  cdl_buf wrapped;
  cdl_buf_init(&wrapped, 0);
  cdl_net_enc_gentx(&wrapped, cdl_span_of(gentx->data, gentx->len));
  cdl_buf_reset(&c->msg);
  cdl_ltx_encode(&c->msg, &(cdl_ltx_msg){.kind = CDL_LTX_SUBMIT,
                                         .tx = cdl_span_of(wrapped.data, wrapped.len)});
  cdl_buf_free(&wrapped);
  assert_int_equal(cdl_mux_queue(&c->mux, LC_LTX, c->msg.data, c->msg.len), CDL_OK);
  lc_flush(c, now);
}

/* The answer that came, by rule: "accepted", a rule name, or NULL (none yet). */
static const char *lc_answer(lclient *c) {
  static char rule[64];
  if (!lc_take(c, LC_LTX))
    return NULL;
  cdl_ltx_msg r;
  size_t used;
  cdl_error err = {0};
  assert_int_equal(cdl_ltx_decode(c->reply.data, c->reply.len, &r, &used, &err), CDL_OK);
  if (r.kind == CDL_LTX_ACCEPT)
    return "accepted";
  assert_int_equal(r.kind, CDL_LTX_REJECT);
  assert_int_equal(cdl_net_read_apply_tx_error(r.reason, rule, sizeof rule, &err), CDL_OK);
  return rule;
}

/* The answer that came is |want| ("accepted" or a rule), or none came (NULL). */
static void expect_answer(lclient *c, const char *want) {
  const char *got = lc_answer(c);
  if (want == NULL && got != NULL)
    fail_msg("answer %s, expected none yet", got);
  if (want != NULL && (got == NULL || strcmp(got, want) != 0))
    fail_msg("answer %s, expected %s", got, want);
}

/* Submits each of |n| payments and expects its answer (want[i]: see expect_answer). */
static void submit_expecting(lclient *c, const cdl_buf *p, const char *const *want, size_t n,
                             uint64_t now) {
  for (size_t i = 0; i < n; i++) {
    lc_submit(c, &p[i], now);
    expect_answer(c, want[i]);
  }
}

/* ---- Payments ---- */

/* Poor key |from|'s payment of 5 ADA to poor key 7. */
static void payment(net *t, size_t from, cdl_buf *out, uint8_t id[32]) {
  cdl_buf_init(out, 0);
  gen_payment(&t->g, from, 7, 5000000, out, id);
}

/* Poor key |from| paying its whole genesis output in 513 outputs of 1
 * lovelace (about 23 KB). */
static void huge_payment(net *t, size_t from, cdl_buf *out) {
  cdl_buf to, back;
  cdl_buf_init(&to, 0), cdl_buf_init(&back, 0), cdl_buf_init(out, 0);
  cdl_key_address(&t->g.secrets.poor[7], t->g.requires_magic, MAGIC, &to);
  cdl_key_address(&t->g.secrets.poor[from], t->g.requires_magic, MAGIC, &back);
  static cdl_payload_tx_output outs[513];
  for (size_t i = 0; i < 513; i++)
    outs[i] = (cdl_payload_tx_output){cdl_span_of(to.data, to.len), 1};
  cdl_payload_tx_input in = {.index = 0, .owner = &t->g.secrets.poor[from]};
  cdl_blake2b_256(in.tx_id, back.data, back.len); /* a genesis output's id */
  uint8_t id[32];
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, CDL_MP_TX);
  cdl_payload_tx_make(&in, 1, outs, 513, MAGIC, out, id);
  assert_false(out->failed);
  cdl_buf_free(&to), cdl_buf_free(&back);
}

/* Room for two payments and not three: the bytes of two in a block. */
static size_t two_payments(net *t) {
  cdl_buf g;
  uint8_t id[32];
  payment(t, 0, &g, id);
  size_t two = 2 * (g.len - 2) + 10;
  cdl_buf_free(&g);
  return two;
}

/* ---- Local tx-submission ---- */

static void test_local_waits_for_room(void **state) {
  (void)state;
  net t;
  net_open(&t);
  knode k;
  knode_open(&k, &t, true, two_payments(&t));
  uint64_t now = START_US + SLOT_US / 2;
  tick(&k, now); /* slot 0: the EBB and an empty block */
  lclient c;
  lc_open(&c, &k, now);
  cdl_buf p[5];
  uint8_t id[5][32];
  for (size_t i = 0; i < 5; i++)
    payment(&t, i, &p[i], id[i]);
  static const char *const FIRST[] = {"accepted", "accepted", NULL}; /* no room: the third waits */
  submit_expecting(&c, p, FIRST, 3, now);
  assert_int_equal(stats(&k).txs_waiting, 1);
  assert_true(node_metric_is(k.n, "cardinal_txs_waiting", 1));
  for (uint64_t slot = 1; slot < 7; slot++) { /* slots of other keys: no block, no room */
    now = START_US + slot * SLOT_US + SLOT_US / 2;
    tick(&k, now);
    lc_flush(&c, now);
    assert_null(lc_answer(&c));
  }
  now = START_US + 7 * SLOT_US + SLOT_US / 2;
  tick(&k, now); /* the block of slot 7 takes payments 0 and 1: room */
  lc_flush(&c, now);
  expect_answer(&c, "accepted");
  assert_true(on_chain(&k, id[0]) && on_chain(&k, id[1]) && !on_chain(&k, id[2]));
  lc_submit(&c, &p[3], now);
  expect_answer(&c, "accepted");
  lc_submit(&c, &p[4], now); /* full again: waits for the block of slot 14 */
  assert_null(lc_answer(&c));
  now = START_US + 14 * SLOT_US + SLOT_US / 2;
  tick(&k, now);
  lc_flush(&c, now);
  expect_answer(&c, "accepted");
  now = START_US + 21 * SLOT_US + SLOT_US / 2;
  tick(&k, now);
  lc_flush(&c, now);
  for (size_t i = 0; i < 5; i++)
    assert_true(on_chain(&k, id[i]));
  cdl_node_stats st = stats(&k);
  assert_int_equal(st.mempool.accepted, 5);
  assert_true(st.txs_waiting == 0 && st.txs_waited == 2 && st.tx_waits_expired == 0);
  assert_true(node_metric_is(k.n, "cardinal_txs_waited_total", 2));
  assert_true(node_metric_is(k.n, "cardinal_local_tx_wait_expired_total", 0));
  lc_close(&c, now);
  assert_true(node_metric_is(k.n, "cardinal_txs_waited_total", 2)); /* kept when it closes */
  for (size_t i = 0; i < 5; i++)
    cdl_buf_free(&p[i]);
  knode_close(&k);
  net_close(&t);
}

static void test_local_wait_limit(void **state) {
  (void)state;
  net t;
  net_open(&t);
  knode k;
  knode_open(&k, &t, false, two_payments(&t)); /* a relay: no block ever makes room */
  uint64_t now = START_US + SLOT_US / 2;
  tick(&k, now);
  lclient c, other;
  lc_open(&c, &k, now);
  lc_open(&other, &k, now);
  cdl_buf p[3], spend_again, huge;
  uint8_t id[3][32], again_id[32];
  for (size_t i = 0; i < 3; i++)
    payment(&t, i, &p[i], id[i]);
  uint64_t began = now;
  static const char *const FIRST[] = {"accepted", "accepted", NULL};
  submit_expecting(&c, p, FIRST, 3, now);
  /* Meanwhile, on another connection, refusals for other rules come at
   * once: payment 0's input spent again, and a tx larger than the
   * whole mempool. */
  cdl_buf_init(&spend_again, 0);
  gen_payment(&t.g, 0, 6, 7000000, &spend_again, again_id);
  lc_submit(&other, &spend_again, now);
  expect_answer(&other, CDL_RULE_MISSING_INPUT);
  huge_payment(&t, 5, &huge);
  lc_submit(&other, &huge, now);
  expect_answer(&other, CDL_RULE_MEMPOOL_TOO_LARGE);
  /* Slot by slot up to the limit: no answer; at the limit, mempool.full. */
  for (now = START_US + SLOT_US; now < began + WAIT_US; now += SLOT_US) {
    tick(&k, now);
    lc_flush(&c, now);
    assert_null(lc_answer(&c));
  }
  now = began + WAIT_US - 1;
  tick(&k, now);
  lc_flush(&c, now);
  assert_null(lc_answer(&c));
  now = began + WAIT_US;
  tick(&k, now);
  lc_flush(&c, now);
  expect_answer(&c, CDL_RULE_MEMPOOL_FULL);
  cdl_node_stats st = stats(&k);
  assert_true(st.txs_waiting == 0 && st.txs_waited == 1 && st.tx_waits_expired == 1);
  assert_int_equal(st.mempool.count, 2);
  assert_true(node_metric_is(k.n, "cardinal_local_tx_wait_expired_total", 1));
  /* The connection goes on: the next submission waits again. */
  lc_submit(&c, &p[2], now);
  assert_null(lc_answer(&c));
  assert_int_equal(stats(&k).txs_waiting, 1);
  lc_close(&c, now); /* closing while waiting frees it */
  assert_int_equal(stats(&k).txs_waiting, 0);
  lc_close(&other, now);
  for (size_t i = 0; i < 3; i++)
    cdl_buf_free(&p[i]);
  cdl_buf_free(&spend_again), cdl_buf_free(&huge);
  knode_close(&k);
  net_close(&t);
}

/* ---- Node-to-node tx-submission ---- */

/* Bytes waiting on |from|'s connection |f| to |to|'s |t|; how many moved. */
static size_t carry(knode *from, cdl_node_conn_id f, knode *to, cdl_node_conn_id t, uint64_t now) {
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  while (cdl_node_conn_next_sdu(from->n, f, now, &wire)) {
  }
  size_t n = wire.len;
  cdl_error err = {0};
  if (n > 0 && cdl_node_conn_recv(to->n, t, wire.data, n, now, &err) != CDL_OK)
    fail_msg("recv: %s", err.message);
  cdl_buf_free(&wire);
  return n;
}

/* Both ways until nothing moves. */
static void shuttle(knode *a, cdl_node_conn_id ia, knode *b, cdl_node_conn_id ib, uint64_t now) {
  for (int round = 0; round < 100000; round++) {
    drain_dirty(a);
    drain_dirty(b);
    if (carry(a, ia, b, ib, now) + carry(b, ib, a, ia, now) == 0)
      return;
  }
  fail_msg("the link never went quiet");
}

static void test_peer_txs_wait_for_room(void **state) {
  (void)state;
  net t;
  net_open(&t);
  knode relay, core;
  knode_open(&relay, &t, false, 0);
  knode_open(&core, &t, true, two_payments(&t));
  uint64_t now = START_US + SLOT_US / 2;
  tick(&relay, now);
  tick(&core, now);
  cdl_node_conn_id out, in;
  cdl_error err = {0};
  assert_int_equal(cdl_node_conn_open(relay.n, CDL_NODE_OUTBOUND, now, &out, &err), CDL_OK);
  assert_int_equal(cdl_node_conn_open(core.n, CDL_NODE_INBOUND, now, &in, &err), CDL_OK);
  shuttle(&relay, out, &core, in, now);
  cdl_buf p[5];
  uint8_t id[5][32];
  cdl_rejection rej;
  for (size_t i = 0; i < 5; i++) {
    payment(&t, i, &p[i], id[i]);
    assert_int_equal(cdl_node_submit(relay.n, p[i].data, p[i].len, &rej), CDL_OK);
  }
  shuttle(&relay, out, &core, in, now);
  /* The core pulled all five: two fit its mempool, three wait. */
  cdl_node_stats st = stats(&core);
  assert_int_equal(st.txs_received, 5);
  assert_int_equal(st.mempool.count, 2);
  assert_int_equal(st.txs_waiting, 3);
  assert_true(node_metric_is(core.n, "cardinal_txs_waiting", 3));
  for (uint64_t slot = 1; slot <= 28; slot++) {
    now = START_US + slot * SLOT_US + SLOT_US / 2;
    tick(&relay, now);
    tick(&core, now);
    shuttle(&relay, out, &core, in, now);
  }
  for (size_t i = 0; i < 5; i++)
    assert_true(on_chain(&core, id[i]) && on_chain(&relay, id[i]));
  st = stats(&core);
  assert_true(st.txs_waiting == 0 && st.txs_waited == 3 && st.mempool.accepted == 5);
  assert_int_equal(st.mempool.count, 0);
  assert_int_equal(stats(&relay).mempool.count, 0);
  printf("5 payments in the core's blocks; 3 of them waited for room in its inbound side\n");
  for (size_t i = 0; i < 5; i++)
    cdl_buf_free(&p[i]);
  knode_close(&relay);
  knode_close(&core);
  net_close(&t);
}

int main(void) {
  filter_tests_from_env();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_local_waits_for_room),
      cmocka_unit_test(test_local_wait_limit),
      cmocka_unit_test(test_peer_txs_wait_for_room),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL); /* cdl_crypto_init there */
}
