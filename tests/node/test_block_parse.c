/*
 * test_block_parse.c: one parse per block on the way from the wire to the
 * ChainDB (docs/storage.md "One parse per block"; include/cardinal/
 * storage.h cdl_parsed_block; issue 23, item 6).
 *
 * The count is real, not a hook in the code under test: this binary is
 * linked with -Wl,--wrap for the two entry points of the Byron block
 * decoder (cdl_byron_block_decode and cdl_byron_block_read), so every
 * whole-block decode in the process, whoever makes it (client, kernel,
 * ChainDB, ledger replay, server), goes through the counter below (the
 * decoder's call from one entry to the other inside block.c is not
 * wrapped, so a decode counts once).
 *  - A node kernel syncing the first 300 mainnet blocks from our server
 *    engine over an outbound connection (client -> kernel -> ChainDB ->
 *    ledger) decodes each block exactly once: 300 decodes for 300 blocks
 *    adopted (before, the kernel's cdl_block_info_read and the ChainDB
 *    each decoded every block: 600, besides the client's shallow read of
 *    its header, which this counter does not see);
 *  - cdl_chaindb_add_block (the entry for bytes: import, tests) decodes
 *    each block once too.
 */
#include <string.h>

#include "../net/net_support.h"
#include "cardinal/node.h"

#define N_BLOCKS 300
#define NOW_US (1700000000ull * 1000000)

/* ---- The counter ---------------------------------------------------------- */

static size_t decodes;

int __real_cdl_byron_block_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                                  cdl_byron_block *blk);
int __real_cdl_byron_block_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_block *blk);
int __wrap_cdl_byron_block_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                                  cdl_byron_block *blk);
int __wrap_cdl_byron_block_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_block *blk);

int __wrap_cdl_byron_block_decode(const uint8_t *data, size_t len, cdl_byron_ctx *ctx,
                                  cdl_byron_block *blk) {
  decodes++;
  return __real_cdl_byron_block_decode(data, len, ctx, blk);
}

int __wrap_cdl_byron_block_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_block *blk) {
  decodes++;
  return __real_cdl_byron_block_read(cur, ctx, blk);
}

/* ---- The source and a fresh ChainDB --------------------------------------- */

static served_chain S;

static int group_setup(void **state) {
  test_group_setup(state);
  served_chain_open(&S, "parse-src", N_BLOCKS);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  served_chain_close(&S);
  return 0;
}

static cdl_chaindb *fresh_db(char *dir, size_t cap) {
  make_dir(dir, cap, "parse-dst");
  cdl_chaindb_config cfg = chaindb_config(dir, &S.g.g, NULL);
  cfg.ledger.flags |= CDL_LEDGER_NO_SIGNATURES;
  return db_open(&cfg, NULL);
}

static void assert_tip_is_last(cdl_chaindb *db) {
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  assert_same_info(&tip, &S.info[N_BLOCKS - 1]);
}

/* ---- Through the node kernel ---------------------------------------------- */

/* Moves bytes between the kernel's outbound connection |id| and |srv|
 * until neither has anything to say. */
static void exchange(cdl_node *n, cdl_node_conn_id id, cdl_n2n_server *srv) {
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  cdl_error err = {0};
  for (int round = 0; round < 100000; round++) {
    cdl_buf_reset(&wire);
    while (cdl_node_conn_next_sdu(n, id, NOW_US, &wire)) {
    }
    assert_int_equal(cdl_n2n_server_recv(srv, wire.data, wire.len, NOW_US, &err), CDL_OK);
    assert_int_equal(cdl_n2n_server_poll(srv, NOW_US, &err), CDL_OK);
    size_t sent = wire.len;
    cdl_buf_reset(&wire);
    while (cdl_n2n_server_next_sdu(srv, NOW_US, &wire)) {
    }
    if (sent == 0 && wire.len == 0 && !cdl_n2n_server_wants_poll(srv)) break;
    if (cdl_node_conn_recv(n, id, wire.data, wire.len, NOW_US, &err) != CDL_OK)
      fail_msg("kernel: %s", err.message);
  }
  cdl_buf_free(&wire);
}

static void test_kernel_sync_decodes_once(void **state) {
  (void)state;
  char dir[256];
  cdl_chaindb *db = fresh_db(dir, sizeof dir);
  cdl_node_config nc = {.db = db,
                        .genesis = &S.g.g,
                        .n2n = cdl_hs_node_to_node(NET_MAINNET_MAGIC, false),
                        .n2c = cdl_hs_node_to_client(NET_MAINNET_MAGIC)};
  cdl_hs_config serve = cdl_hs_node_to_node(NET_MAINNET_MAGIC, false);
  cdl_node *n;
  cdl_n2n_server *srv;
  cdl_node_conn_id id;
  cdl_error err = {0};
  assert_int_equal(cdl_node_new(&nc, NOW_US, &n, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&S.chain, &serve, NOW_US, &srv, &err), CDL_OK);
  assert_int_equal(cdl_node_conn_open(n, CDL_NODE_OUTBOUND, NOW_US, &id, &err), CDL_OK);
  decodes = 0;
  exchange(n, id, srv);
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.blocks_received, N_BLOCKS);
  assert_int_equal(st.blocks_adopted, N_BLOCKS);
  assert_tip_is_last(db);
  /* One decode a block, from the wire to the ledger. */
  assert_int_equal(decodes, N_BLOCKS);
  cdl_n2n_server_del(srv);
  cdl_node_del(n);
  db_close(db);
  remove_dir(dir);
}

/* ---- The ChainDB's entry for bytes ---------------------------------------- */

static void test_add_block_decodes_once(void **state) {
  (void)state;
  char dir[256];
  cdl_chaindb *db = fresh_db(dir, sizeof dir);
  decodes = 0;
  for (size_t i = 0; i < N_BLOCKS; i++) add_expect(db, S.e.blocks[i], CDL_ADD_ADOPTED);
  assert_int_equal(decodes, N_BLOCKS);
  assert_tip_is_last(db);
  db_close(db);
  remove_dir(dir);
}

int main(void) {
  filter_tests_from_env();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kernel_sync_decodes_once),
      cmocka_unit_test(test_add_block_decodes_once),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
