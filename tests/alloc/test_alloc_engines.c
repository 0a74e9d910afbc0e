/*
 * test_alloc_engines.c: allocation-failure sweeps over the network engines
 * (docs/testing.md "Allocation failures"; the countdown allocator is
 * tests/support/fail_alloc.h). Each session runs once per allocation it
 * makes, with that allocation failing (once, then from then on): the
 * engine must return CDL_E_NOMEM, leak nothing once deleted, and the
 * complete run must give the bytes an unarmed run gives.
 *  - the multiplexer: messages of three protocols, one over several SDUs,
 *    queued on one mux and received by another in pieces;
 *  - the handshake, both sides: proposal, reply, the client's check;
 *  - a node-to-node session recorded between our client engine (syncing
 *    a generated chain of k = 5 from the origin, pipelined, block-fetch,
 *    keep-alive, offering its mempool's tx over tx-submission) and our
 *    server engine (over a ChainDB of that chain, immutable and volatile
 *    parts, pulling the tx into its own mempool); then each side replayed
 *    alone from the other's recorded bytes, under the sweep;
 *  - a node-to-client session against the server engine: local
 *    tx-submission (a tx accepted, one refused), tx-monitor, the state
 *    query, local chain-sync of whole blocks.
 * The ChainDB is shared by the runs (the engines only read it); each run
 * makes its own engine and mempools.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "../support/fail_alloc.h"
#include "cardinal/net.h"
#include "cardinal/node.h"

#define NOW 1000000ull
#define K 5

static char gen_dir[64], db_dir[64];
static cdl_gen_dir G;
static gchain CHAIN;
static cdl_chaindb *DB;
static cdl_n2n_chain SERVED; /* DB through the engines' chain interface */
static cdl_buf PAY, PAY2; /* GenTx payments from poor keys 0 and 1 */

/* Output of the engines under the sweep: fixed storage, so that taking
 * their bytes allocates nothing. */
static uint8_t sink_storage[16 << 20];

static void sink_init(cdl_buf *sink) { cdl_buf_init_fixed(sink, sink_storage, sizeof sink_storage); }

static void assert_same_bytes(const cdl_buf *got, const cdl_buf *want, const char *what) {
  assert_false(got->failed);
  if (got->len != want->len || memcmp(got->data, want->data, got->len) != 0)
    fail_msg("%s: %zu bytes, not the %zu of an unarmed run", what, got->len, want->len);
}

/* ---- The multiplexer ---- */

typedef struct mux_op {
  cdl_mux a, b;
  cdl_buf wire;
  uint8_t msgs[3][20000];
  size_t lens[3];
} mux_op;

static void mux_setup(void *ctx) {
  mux_op *op = ctx;
  cdl_mux_init(&op->a, 0);
  cdl_mux_init(&op->b, 0);
  sink_init(&op->wire);
}

/* Three messages a -> b: chain-sync (20,000 bytes: two SDUs), block-fetch,
 * keep-alive; b's ingress read back into |got|. */
static int mux_run(void *ctx) {
  mux_op *op = ctx;
  static const uint16_t PROTOS[3] = {CDL_PROTO_CHAIN_SYNC, CDL_PROTO_BLOCK_FETCH,
                                     CDL_PROTO_KEEP_ALIVE};
  for (int i = 0; i < 3; i++) {
    assert_true(cdl_mux_add_channel(&op->a, PROTOS[i], true, 100000) == i);
    assert_true(cdl_mux_add_channel(&op->b, PROTOS[i], false, 100000) == i);
  }
  for (int i = 0; i < 3; i++) CDL_TRY(cdl_mux_queue(&op->a, i, op->msgs[i], op->lens[i]));
  while (cdl_mux_next_sdu(&op->a, NOW, &op->wire)) {
  }
  assert_false(op->wire.failed);
  cdl_error err = {0};
  for (size_t off = 0; off < op->wire.len; off += 1000) {
    size_t n = op->wire.len - off < 1000 ? op->wire.len - off : 1000;
    CDL_TRY(cdl_mux_recv(&op->b, op->wire.data + off, n, NOW, &err));
  }
  for (int i = 0; i < 3; i++) {
    cdl_span in = cdl_mux_ingress(&op->b, i);
    assert_int_equal(in.len, op->lens[i]);
    assert_memory_equal(in.ptr, op->msgs[i], in.len);
    cdl_mux_consume(&op->b, i, in.len);
  }
  return CDL_OK;
}

static void mux_teardown(void *ctx) {
  mux_op *op = ctx;
  cdl_mux_free(&op->a);
  cdl_mux_free(&op->b);
}

static void test_mux(void **state) {
  (void)state;
  static mux_op op;
  op.lens[0] = 20000, op.lens[1] = 3000, op.lens[2] = 4;
  for (int i = 0; i < 3; i++)
    for (size_t j = 0; j < op.lens[i]; j++) op.msgs[i][j] = (uint8_t)(j * 7 + (size_t)i);
  fail_sweep s = {.name = "mux", .ctx = &op, .setup = mux_setup, .run = mux_run,
                  .teardown = mux_teardown, .fail_code = CDL_E_NOMEM};
  fail_sweep_run(&s);
}

/* ---- The handshake ---- */

static const cdl_hs_config N2N_SERVER = {false, 7, 15, {42, false, 0, false}};
static const cdl_hs_config N2N_CLIENT = {false, 7, 14, {42, true, 0, false}};

typedef struct hs_op {
  cdl_buf propose, reply;
} hs_op;

static void hs_setup(void *ctx) {
  hs_op *op = ctx;
  cdl_buf_init(&op->propose, 0);
  cdl_buf_init(&op->reply, 0);
}

static int hs_run(void *ctx) {
  hs_op *op = ctx;
  cdl_hs_encode_propose(&op->propose, &N2N_CLIENT);
  CDL_TRY(cdl_cbor_enc_status(&op->propose));
  cdl_hs_msg m, r;
  size_t used;
  cdl_error err = {0};
  CDL_TRY(cdl_hs_decode(op->propose.data, op->propose.len, &m, &used, &err));
  cdl_hs_result res;
  cdl_hs_respond(&N2N_SERVER, &m, &op->reply, &res);
  CDL_TRY(cdl_cbor_enc_status(&op->reply));
  CDL_TRY(cdl_hs_decode(op->reply.data, op->reply.len, &r, &used, &err));
  CDL_TRY(cdl_hs_check_reply(&N2N_CLIENT, &r, &res, &err));
  assert_int_equal(res.version, 14);
  return CDL_OK;
}

static void hs_teardown(void *ctx) {
  hs_op *op = ctx;
  cdl_buf_free(&op->propose);
  cdl_buf_free(&op->reply);
}

static void test_handshake(void **state) {
  (void)state;
  hs_op op;
  fail_sweep s = {.name = "handshake", .ctx = &op, .setup = hs_setup, .run = hs_run,
                  .teardown = hs_teardown, .fail_code = CDL_E_NOMEM};
  fail_sweep_run(&s);
}

/* ---- A recorded node-to-node session ---- */

/* Chunks of bytes, in the order one side gave them to the other. */
typedef struct chunks {
  cdl_buf *c;
  size_t n;
} chunks;

static cdl_buf *chunk_add(chunks *ch) {
  ch->c = realloc(ch->c, (ch->n + 1) * sizeof *ch->c);
  assert_non_null(ch->c);
  cdl_buf_init(&ch->c[ch->n], 0);
  return &ch->c[ch->n++];
}

static void chunks_free(chunks *ch) {
  for (size_t i = 0; i < ch->n; i++) cdl_buf_free(&ch->c[i]);
  free(ch->c);
  *ch = (chunks){0};
}

static void chunks_join(const chunks *ch, cdl_buf *out) {
  cdl_buf_init(out, 0);
  for (size_t i = 0; i < ch->n; i++) cdl_buf_append(out, ch->c[i].data, ch->c[i].len);
}

/* The hashes of the blocks a client engine handed over, in fixed storage. */
typedef struct got_blocks {
  uint8_t hash[4096][32];
  size_t n;
} got_blocks;

static int on_block(void *ctx, const cdl_parsed_block *b, cdl_error *err) {
  (void)err;
  got_blocks *g = ctx;
  assert_true(g->n < 4096);
  cdl_blake2b_256(g->hash[g->n++], b->bytes, b->len); /* of the stored form: enough to compare */
  return CDL_OK;
}

static cdl_n2n_client_config client_config(got_blocks *g, cdl_mempool *offer) {
  return (cdl_n2n_client_config){.hs = N2N_CLIENT,
                                 .epoch_slots = 10 * K,
                                 .pipeline = 10,
                                 .fetch_batch = 16,
                                 .on_block = on_block,
                                 .ctx = g,
                                 .txs = cdl_n2n_txs_of_mempool(offer)};
}

static cdl_mempool *mempool_holding(const cdl_buf *gentx) {
  cdl_mempool_config mc = {0};
  cdl_mempool *mp = NULL;
  if (cdl_mempool_new(&mc, cdl_chaindb_ledger(DB), 0, &mp) != CDL_OK) return NULL;
  cdl_rejection rej;
  if (gentx != NULL &&
      cdl_mempool_add(mp, cdl_chaindb_ledger(DB), gentx->data, gentx->len, 0, NULL, &rej) !=
          CDL_OK) {
    cdl_mempool_del(mp);
    return NULL;
  }
  return mp;
}

/* The session between our two engines, unarmed: what each side sent, in
 * rounds (the client's bytes, then the server's answer). */
static chunks UP, DOWN;
static got_blocks REF_BLOCKS;

static void record_session(void) {
  cdl_mempool *offer = mempool_holding(&PAY), *pool = mempool_holding(NULL);
  assert_non_null(offer);
  assert_non_null(pool);
  cdl_n2n_client_config cfg = client_config(&REF_BLOCKS, offer);
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_client_new(&cfg, NOW, &c, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&SERVED, &N2N_SERVER, NOW, &srv, &err), CDL_OK);
  static cdl_n2n_tip_judge tip;
  tip = (cdl_n2n_tip_judge){DB, pool};
  cdl_n2n_server_set_txs(srv, cdl_n2n_txs_of_mempool(pool), cdl_n2n_tip_judge_of(&tip));
  for (int round = 0; round < 10000; round++) {
    cdl_buf *up = chunk_add(&UP), *down = chunk_add(&DOWN);
    while (cdl_n2n_client_next_sdu(c, NOW, up)) {
    }
    if (up->len) assert_int_equal(cdl_n2n_server_recv(srv, up->data, up->len, NOW, &err), CDL_OK);
    assert_int_equal(cdl_n2n_server_poll(srv, NOW, &err), CDL_OK);
    while (cdl_n2n_server_next_sdu(srv, NOW, down)) {
    }
    if (down->len)
      assert_int_equal(cdl_n2n_client_recv(c, down->data, down->len, NOW, &err), CDL_OK);
    assert_int_equal(cdl_n2n_client_poll(c, NOW, &err), CDL_OK);
    /* Quiet both ways. (The server may still "want a poll": pipelined
     * requests wait in its ingress while it awaits a new tip.) */
    if (up->len == 0 && down->len == 0) break;
  }
  assert_true(cdl_n2n_client_synced(c));
  assert_int_equal(REF_BLOCKS.n, CHAIN.n);
  cdl_mempool_stats st;
  cdl_mempool_stats_get(pool, &st);
  assert_int_equal(st.count, 1); /* the client's tx reached the server's mempool */
  printf("recorded: %zu rounds, %zu blocks\n", UP.n, REF_BLOCKS.n);
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
  cdl_mempool_del(offer);
  cdl_mempool_del(pool);
}

/* The server replayed: the client's recorded bytes in, its own out. */
typedef struct server_op {
  const chunks *in;
  cdl_buf out, want;
  cdl_mempool *pool;
  cdl_n2n_server *srv;
  const cdl_hs_config *hs;
  bool with_pool;
} server_op;

static void server_setup(void *ctx) {
  server_op *op = ctx;
  sink_init(&op->out);
  op->pool = op->with_pool ? mempool_holding(NULL) : NULL;
  op->srv = NULL;
}

static int server_run(void *ctx) {
  server_op *op = ctx;
  cdl_error err = {0};
  CDL_TRY(cdl_n2n_server_new(&SERVED, op->hs, NOW, &op->srv, &err));
  static cdl_n2n_tip_judge tip;
  tip = (cdl_n2n_tip_judge){DB, op->pool};
  cdl_n2n_server_set_txs(op->srv, cdl_n2n_txs_of_mempool(op->pool), cdl_n2n_tip_judge_of(&tip));
  for (size_t r = 0; r < op->in->n; r++) {
    const cdl_buf *up = &op->in->c[r];
    if (up->len) CDL_TRY(cdl_n2n_server_recv(op->srv, up->data, up->len, NOW, &err));
    CDL_TRY(cdl_n2n_server_poll(op->srv, NOW, &err));
    while (cdl_n2n_server_next_sdu(op->srv, NOW, &op->out)) {
    }
    assert_false(op->out.failed);
  }
  return CDL_OK;
}

static void server_check(void *ctx, int rc, bool failed) {
  server_op *op = ctx;
  if (!failed && rc == CDL_OK) assert_same_bytes(&op->out, &op->want, "server");
}

static void server_teardown(void *ctx) {
  server_op *op = ctx;
  cdl_n2n_server_del(op->srv);
  cdl_mempool_del(op->pool);
}

static void test_server_session(void **state) {
  (void)state;
  server_op op = {.in = &UP, .hs = &N2N_SERVER, .with_pool = true};
  chunks_join(&DOWN, &op.want);
  /* An unarmed run first: the ChainDB's caches fill once, not in a sweep. */
  server_setup(&op);
  assert_int_equal(server_run(&op), CDL_OK);
  server_check(&op, CDL_OK, false);
  server_teardown(&op);
  /* Recovery is allowed: a chain-sync follower's trail of the blocks it
   * handed out (src/storage/chaindb_follow.c) is best effort; without
   * room it keeps fewer, and a roll-back walks the stored chain instead. */
  fail_sweep s = {.name = "node-to-node server", .ctx = &op, .setup = server_setup,
                  .run = server_run, .check = server_check, .teardown = server_teardown,
                  .fail_code = CDL_E_NOMEM, .recover_ok = true};
  fail_sweep_run(&s);
  cdl_buf_free(&op.want);
}

/* The client replayed: the server's recorded bytes in, its own out. */
typedef struct client_op {
  cdl_buf out, want;
  cdl_mempool *offer;
  cdl_n2n_client *c;
  got_blocks got;
} client_op;

static void client_setup(void *ctx) {
  client_op *op = ctx;
  sink_init(&op->out);
  op->offer = mempool_holding(&PAY);
  op->c = NULL;
  op->got.n = 0;
}

static int client_run(void *ctx) {
  client_op *op = ctx;
  cdl_error err = {0};
  cdl_n2n_client_config cfg = client_config(&op->got, op->offer);
  CDL_TRY(cdl_n2n_client_new(&cfg, NOW, &op->c, &err));
  for (size_t r = 0; r < DOWN.n; r++) {
    while (cdl_n2n_client_next_sdu(op->c, NOW, &op->out)) {
    }
    assert_false(op->out.failed);
    const cdl_buf *down = &DOWN.c[r];
    if (down->len) CDL_TRY(cdl_n2n_client_recv(op->c, down->data, down->len, NOW, &err));
    CDL_TRY(cdl_n2n_client_poll(op->c, NOW, &err));
  }
  return CDL_OK;
}

static void client_check(void *ctx, int rc, bool failed) {
  client_op *op = ctx;
  if (failed || rc != CDL_OK) return;
  assert_same_bytes(&op->out, &op->want, "client");
  assert_int_equal(op->got.n, REF_BLOCKS.n);
  assert_memory_equal(op->got.hash, REF_BLOCKS.hash, 32 * REF_BLOCKS.n);
  assert_true(cdl_n2n_client_synced(op->c));
}

static void client_teardown(void *ctx) {
  client_op *op = ctx;
  cdl_n2n_client_del(op->c);
  cdl_mempool_del(op->offer);
}

static void test_client_session(void **state) {
  (void)state;
  static client_op op;
  chunks_join(&UP, &op.want);
  fail_sweep s = {.name = "node-to-node client", .ctx = &op, .setup = client_setup,
                  .run = client_run, .check = client_check, .teardown = client_teardown,
                  .fail_code = CDL_E_NOMEM};
  fail_sweep_run(&s);
  cdl_buf_free(&op.want);
}

/* ---- A node-to-client session ---- */

enum { CH_HS, CH_LCS, CH_LSQ, CH_LTX, CH_LTM };

/* The client's messages as SDUs: the handshake in chunk 0, the rest in 1. */
static void local_script(chunks *out) {
  static const uint16_t PROTOS[] = {CDL_PROTO_HANDSHAKE, CDL_PROTO_LOCAL_CHAIN_SYNC,
                                    CDL_PROTO_LOCAL_STATE_QUERY, CDL_PROTO_LOCAL_TX_SUBMISSION,
                                    CDL_PROTO_LOCAL_TX_MONITOR};
  cdl_mux m;
  cdl_mux_init(&m, 0);
  for (int i = 0; i < 5; i++) assert_int_equal(cdl_mux_add_channel(&m, PROTOS[i], true, 1 << 20), i);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
#define SEND(ch)                                                             \
  do {                                                                       \
    assert_int_equal(cdl_mux_queue(&m, ch, msg.data, msg.len), CDL_OK); \
    cdl_buf_reset(&msg);                                                     \
  } while (0)
  cdl_hs_config mine = {true, 16, 19, {42, false, 0, false}};
  cdl_hs_encode_propose(&msg, &mine);
  SEND(CH_HS);
  cdl_buf *hs = chunk_add(out);
  while (cdl_mux_next_sdu(&m, NOW, hs)) {
  }
  /* Local tx-submission: a payment, accepted; the same again, refused. */
  for (int i = 0; i < 2; i++) {
    cdl_buf wrapped;
    cdl_buf_init(&wrapped, 0);
    cdl_net_enc_gentx(&wrapped, cdl_span_of(PAY2.data, PAY2.len));
    cdl_ltx_encode(&msg, &(cdl_ltx_msg){.kind = CDL_LTX_SUBMIT,
                                        .tx = cdl_span_of(wrapped.data, wrapped.len)});
    cdl_buf_free(&wrapped);
    SEND(CH_LTX);
  }
  /* Tx-monitor: acquire, the txs, has-tx, sizes, measures, release. */
  cdl_buf gid;
  cdl_buf_init(&gid, 0);
  cdl_net_enc_gentx_id(&gid, CDL_MP_TX, (const uint8_t[32]){1});
  const cdl_ltm_msg LTM[] = {{.kind = CDL_LTM_ACQUIRE},
                             {.kind = CDL_LTM_NEXT_TX},
                             {.kind = CDL_LTM_NEXT_TX},
                             {.kind = CDL_LTM_HAS_TX, .tx_id = cdl_span_of(gid.data, gid.len)},
                             {.kind = CDL_LTM_GET_SIZES},
                             {.kind = CDL_LTM_GET_MEASURES},
                             {.kind = CDL_LTM_RELEASE}};
  for (size_t i = 0; i < sizeof LTM / sizeof *LTM; i++) {
    cdl_ltm_encode(&msg, &LTM[i]);
    SEND(CH_LTM);
  }
  cdl_buf_free(&gid);
  /* State query: acquire the tip, the chain's block number and point,
   * release. */
  static const uint8_t QUERIES[][8] = {
      {0x81, 0x01},                                     /* GetSystemStart */
      {0x81, 0x02},                                     /* GetChainBlockNo */
      {0x81, 0x03},                                     /* GetChainPoint */
      {0x82, 0x00, 0x82, 0x02, 0x81, 0x01},             /* the current era */
      {0x82, 0x00, 0x82, 0x00, 0x82, 0x00, 0x00}};      /* Byron's update state */
  static const size_t QUERY_LEN[] = {2, 2, 2, 6, 7};
  cdl_lsq_encode(&msg, &(cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP});
  SEND(CH_LSQ);
  for (int i = 0; i < 5; i++) {
    cdl_lsq_encode(&msg, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY,
                                        .query = cdl_span_of(QUERIES[i], QUERY_LEN[i])});
    SEND(CH_LSQ);
  }
  cdl_lsq_encode(&msg, &(cdl_lsq_msg){.kind = CDL_LSQ_RELEASE});
  SEND(CH_LSQ);
  /* Local chain-sync: from the origin, whole blocks. */
  cdl_point origin = {.origin = true};
  cdl_cs_encode(&msg, &(cdl_cs_msg){.kind = CDL_CS_FIND_INTERSECT, .point_list = &origin,
                                    .n_points = 1});
  SEND(CH_LCS);
  for (int i = 0; i < 12; i++) {
    cdl_cs_encode(&msg, &(cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
    SEND(CH_LCS);
  }
#undef SEND
  cdl_buf *rest = chunk_add(out);
  while (cdl_mux_next_sdu(&m, NOW, rest)) {
  }
  cdl_buf_free(&msg);
  cdl_mux_free(&m);
}

static void test_local_session(void **state) {
  (void)state;
  static const cdl_hs_config LOCAL_HS = {true, 9, 23, {42, false, 0, false}};
  chunks script = {0};
  local_script(&script);
  server_op op = {.in = &script, .hs = &LOCAL_HS, .with_pool = true};
  server_setup(&op);
  assert_int_equal(server_run(&op), CDL_OK);
  cdl_buf_init(&op.want, 0);
  cdl_buf_append(&op.want, op.out.data, op.out.len);
  cdl_mempool_stats st;
  cdl_mempool_stats_get(op.pool, &st);
  assert_int_equal(st.count, 1);
  assert_int_equal(st.rejected, 1);
  server_teardown(&op);
  fail_sweep s = {.name = "node-to-client server", .ctx = &op, .setup = server_setup,
                  .run = server_run, .check = server_check, .teardown = server_teardown,
                  .fail_code = CDL_E_NOMEM, .recover_ok = true}; /* the trail, as above */
  fail_sweep_run(&s);
  cdl_buf_free(&op.want);
  chunks_free(&script);
}


/* ---- The node kernel ---- */

/* A relay kernel over a fresh ChainDB following our server engine (over
 * the whole chain) as its one upstream peer: recorded unarmed, then the
 * kernel replayed from the server's bytes under the sweep. A run that
 * fails must say so: cdl_node_conn_recv's error, the connection's result
 * or the node's latched failure (its ChainDB could not store a block). */
typedef struct node_op {
  char dir[64];
  cdl_chaindb *db;
  cdl_node *node;
  cdl_node_conn_id id;
  cdl_buf out, want;
} node_op;

static chunks NODE_DOWN;

/* The kernel's ChainDB skips fsync: each run makes a database of its own,
 * and durability is test_crash's subject, not this one's. */
static cdl_fs nosync_fs;
static cdl_fs_ops nosync_ops;
static int no_sync(cdl_fs *fs, int handle, cdl_error *err) {
  (void)fs, (void)handle, (void)err;
  return CDL_OK;
}
static int no_sync_dir(cdl_fs *fs, const char *path, cdl_error *err) {
  (void)fs, (void)path, (void)err;
  return CDL_OK;
}

static cdl_chaindb_config node_db_config(const char *dir) {
  if (nosync_fs.ops == NULL) {
    cdl_fs_posix_init(&nosync_fs, 0);
    nosync_ops = *nosync_fs.ops;
    nosync_ops.sync = no_sync;
    nosync_ops.sync_dir = no_sync_dir;
    nosync_fs.ops = &nosync_ops;
  }
  cdl_chaindb_config cfg = chaindb_config(dir, &G.genesis, &nosync_fs);
  cfg.ledger.requires_magic = G.requires_magic;
  return cfg;
}

static void node_setup(void *ctx) {
  node_op *op = ctx;
  /* In memory where the machine has it: 1,400 databases made and gone. */
  snprintf(op->dir, sizeof op->dir, "/dev/shm/cdl-alloc-node-XXXXXX");
  if (mkdtemp(op->dir) == NULL) make_dir(op->dir, sizeof op->dir, "alloc-node");
  cdl_chaindb_config cfg = node_db_config(op->dir);
  cfg.ledger.requires_magic = G.requires_magic;
  op->db = db_open(&cfg, NULL);
  op->node = NULL;
  sink_init(&op->out);
}

static int node_start(node_op *op) {
  cdl_node_config nc = {.db = op->db, .genesis = &G.genesis, .n2n = N2N_CLIENT,
                        .n2c = {true, 16, 19, {42, false, 0, false}}, .pipeline = 10};
  cdl_error err = {0};
  CDL_TRY(cdl_node_new(&nc, NOW, &op->node, &err));
  return cdl_node_conn_open(op->node, CDL_NODE_OUTBOUND, NOW, &op->id, &err);
}

/* What the kernel has to say, into |out|; a connection's end or the
 * node's failure as the result. */
static int node_drain(node_op *op, cdl_buf *out) {
  cdl_node_conn_id id;
  while (cdl_node_next_dirty(op->node, &id)) {
    int rc;
    cdl_error err = {0};
    if (cdl_node_conn_result(op->node, id, &rc, &err)) return rc != CDL_OK ? rc : CDL_E_USAGE;
    while (cdl_node_conn_next_sdu(op->node, id, NOW, out)) {
    }
  }
  cdl_error why = {0};
  return cdl_node_failed(op->node, &why) ? why.code : CDL_OK;
}

static int node_step(node_op *op, const cdl_buf *down) {
  cdl_error err = {0};
  if (down->len) CDL_TRY(cdl_node_conn_recv(op->node, op->id, down->data, down->len, NOW, &err));
  CDL_TRY(cdl_node_tick(op->node, NOW, &err));
  return CDL_OK;
}

static int node_run(void *ctx) {
  node_op *op = ctx;
  CDL_TRY(node_start(op));
  for (size_t r = 0; r < NODE_DOWN.n; r++) {
    CDL_TRY(node_drain(op, &op->out));
    assert_false(op->out.failed);
    CDL_TRY(node_step(op, &NODE_DOWN.c[r]));
  }
  return node_drain(op, &op->out);
}

/* After a failure the ChainDB, closed and opened again, holds a prefix of
 * the chain; after a complete run, all of it, and the kernel said what
 * it said unarmed. */
static void node_check(void *ctx, int rc, bool failed) {
  node_op *op = ctx;
  cdl_block_info tip;
  if (!failed && rc == CDL_OK) {
    assert_same_bytes(&op->out, &op->want, "node kernel");
    assert_true(cdl_chaindb_tip(op->db, &tip));
    assert_memory_equal(tip.hash, CHAIN.info[CHAIN.n - 1].hash, 32);
    return;
  }
  cdl_node_del(op->node);
  op->node = NULL;
  db_close(op->db);
  cdl_chaindb_config cfg = node_db_config(op->dir);
  op->db = db_open(&cfg, NULL);
  if (cdl_chaindb_tip(op->db, &tip)) assert_true(find_block(CHAIN.info, CHAIN.n, &tip) >= 0);
}

static void node_teardown(void *ctx) {
  node_op *op = ctx;
  cdl_node_del(op->node);
  db_close(op->db);
  remove_tree(op->dir); /* in-process: rm -rf would fork once a run */
}

static void test_node_kernel(void **state) {
  (void)state;
  static node_op op;
  /* The recording: the kernel against our server engine. */
  node_setup(&op);
  cdl_buf_init(&op.want, 0);
  assert_int_equal(node_start(&op), CDL_OK);
  cdl_n2n_server *srv;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_server_new(&SERVED, &N2N_SERVER, NOW, &srv, &err), CDL_OK);
  for (int round = 0; round < 10000; round++) {
    cdl_buf up;
    cdl_buf_init(&up, 0);
    assert_int_equal(node_drain(&op, &up), CDL_OK);
    cdl_buf_append(&op.want, up.data, up.len);
    if (up.len) assert_int_equal(cdl_n2n_server_recv(srv, up.data, up.len, NOW, &err), CDL_OK);
    assert_int_equal(cdl_n2n_server_poll(srv, NOW, &err), CDL_OK);
    cdl_buf *down = chunk_add(&NODE_DOWN);
    while (cdl_n2n_server_next_sdu(srv, NOW, down)) {
    }
    assert_int_equal(node_step(&op, down), CDL_OK);
    bool quiet = up.len == 0 && down->len == 0;
    cdl_buf_free(&up);
    if (quiet) break;
  }
  cdl_n2n_server_del(srv);
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(op.db, &tip));
  assert_memory_equal(tip.hash, CHAIN.info[CHAIN.n - 1].hash, 32);
  node_teardown(&op);
  /* Recovery is allowed where the kernel survives a failed allocation by
   * design, each seen in the sweep's traces: the mempool's re-validation
   * after each adopted block, which empties the mempool when it runs out
   * of memory (docs/mempool.md; empty here); the volatile DB's ring of
   * recent blocks (a read cache); a block-fetch claim (node_fetch.c: the
   * block is fetched unclaimed). */
  fail_sweep s = {.name = "node kernel (a relay syncing from one peer)", .ctx = &op,
                  .setup = node_setup, .run = node_run, .check = node_check,
                  .teardown = node_teardown, .fail_code = CDL_E_NOMEM, .recover_ok = true,
                  .once_only = UNDER_ASAN}; /* the plain build sweeps both modes */
  fail_sweep_run(&s);
  cdl_buf_free(&op.want);
  chunks_free(&NODE_DOWN);
}

/* ---- Fixtures ---- */

static int group_setup(void **state) {
  test_group_setup(state);
  make_dir(gen_dir, sizeof gen_dir, "alloc-engines-gen");
  make_dir(db_dir, sizeof db_dir, "alloc-engines-db");
  gen_genesis(gen_dir, K, 5, 4, &G);
  cdl_gen_chain_opts o = {.slots = 120, .fill = 0.5, .seed = 3};
  gchain_make(&G, &o, &CHAIN);
  cdl_chaindb_config cfg = chaindb_config(db_dir, &G.genesis, NULL);
  cfg.ledger.requires_magic = G.requires_magic;
  DB = db_open(&cfg, NULL);
  cdl_n2n_chain_of_chaindb(DB, &SERVED);
  for (size_t i = 0; i < CHAIN.n; i++) add_expect(DB, CHAIN.blocks[i], CDL_ADD_ADOPTED);
  uint8_t id[32];
  gen_payment(&G, 0, 2, 5000000, &PAY, id);
  gen_payment(&G, 1, 3, 6000000, &PAY2, id);
  record_session();
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  chunks_free(&UP);
  chunks_free(&DOWN);
  cdl_buf_free(&PAY);
  cdl_buf_free(&PAY2);
  db_close(DB);
  gchain_free(&CHAIN);
  cdl_gen_dir_free(&G);
  remove_dir(db_dir);
  remove_dir(gen_dir);
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mux),
      cmocka_unit_test(test_handshake),
      cmocka_unit_test(test_server_session),
      cmocka_unit_test(test_client_session),
      cmocka_unit_test(test_local_session),
      cmocka_unit_test(test_node_kernel),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
