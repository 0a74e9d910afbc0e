/*
 * test_node_kernel.c: the node kernel's own failures (include/cardinal/
 * node.h "State"; docs/node.md "Kernel"). A core node whose disk starts
 * failing while it stores the block it forged latches the failure: the
 * tick reports CDL_E_IO, cdl_node_failed says so from then on, nothing
 * more is forged, and the ChainDB reopened on a healthy disk still holds
 * every block forged before.
 */
#include <stdio.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "cardinal/node.h"

#define START_US (1700000000ull * 1000000)
#define SLOT_US 1000000ull

/* A POSIX file system whose writes all fail once armed. */
static const cdl_fs_ops *posix_ops;
static cdl_fs_ops failing_ops;
static bool writes_fail;

static int failing_write_at(cdl_fs *fs, int handle, const void *buf, size_t len, uint64_t offset,
                            cdl_error *err) {
  if (writes_fail) return cdl_error_set(err, CDL_E_IO, 0, "injected write failure");
  return posix_ops->write_at(fs, handle, buf, len, offset, err);
}

static void failing_fs_init(cdl_fs *fs) {
  cdl_fs_posix_init(fs, 0);
  posix_ops = fs->ops;
  failing_ops = *posix_ops;
  failing_ops.write_at = failing_write_at;
  fs->ops = &failing_ops;
  writes_fail = false;
}

static cdl_node *core_node(cdl_chaindb *db, const cdl_gen_dir *g, cdl_node_forger *f) {
  f->delegate = g->secrets.delegates[0];
  f->cert = g->secrets.certs[0];
  cdl_node_config nc = {.db = db,
                        .genesis = &g->genesis,
                        .n2n = {false, 7, 14, {42, false, 0, false}},
                        .n2c = {true, 16, 19, {42, false, 0, false}},
                        .forger = f};
  cdl_node *n = NULL;
  cdl_error err = {0};
  if (cdl_node_new(&nc, START_US, &n, &err) != CDL_OK) fail_msg("node: %s", err.message);
  return n;
}

static void test_storage_failure_is_fatal(void **state) {
  (void)state;
  char gen_dir[64], db_dir[64];
  make_dir(gen_dir, sizeof gen_dir, "kernel-gen");
  make_dir(db_dir, sizeof db_dir, "kernel-db");
  cdl_gen_dir g;
  gen_genesis(gen_dir, 5, 2, 1, &g);
  cdl_fs fs;
  failing_fs_init(&fs);
  cdl_chaindb_config dc = chaindb_config(db_dir, &g.genesis, &fs);
  dc.ledger.requires_magic = g.requires_magic;
  dc.ledger.pbft_threshold = 1.0; /* the one signer may sign every block */
  cdl_chaindb *db = db_open(&dc, NULL);
  cdl_node_forger f;
  cdl_node *n = core_node(db, &g, &f);
  cdl_error err = {0};

  /* Slot 0 is genesis key 0's: the epoch boundary block, then block 0. */
  assert_int_equal(cdl_node_tick(n, START_US + SLOT_US / 2, &err), CDL_OK);
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, 1);
  assert_int_equal(st.ebbs_forged, 1);
  assert_false(cdl_node_failed(n, NULL));

  /* The disk now fails. The volatile DB writes behind, so the failure
   * shows when a block is copied to the immutable DB (k = 5 blocks on). */
  writes_fail = true;
  uint64_t slot = 0;
  int rc = CDL_OK;
  while (rc == CDL_OK && slot < 7 * 40) {
    slot += 7; /* genesis key 0's slots */
    rc = cdl_node_tick(n, START_US + slot * SLOT_US, &err);
  }
  assert_int_equal(rc, CDL_E_IO);
  cdl_error why = {0};
  assert_true(cdl_node_failed(n, &why));
  assert_int_equal(why.code, CDL_E_IO);
  assert_non_null(strstr(why.message, "injected write failure"));
  cdl_node_stats_get(n, &st);
  uint64_t forged = st.forged;
  printf("the failure showed in slot %llu, after %llu blocks forged\n", (unsigned long long)slot,
         (unsigned long long)forged);
  /* Latched: a later tick in key 0's slot reports it and forges nothing. */
  writes_fail = false;
  cdl_error again = {0};
  assert_int_equal(cdl_node_tick(n, START_US + (slot + 7) * SLOT_US, &again), CDL_E_IO);
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, forged);
  cdl_node_del(n);
  cdl_error close_err = {0};
  cdl_chaindb_close(db, &close_err); /* may report the failed write again */

  /* What was stored before the failure is there after a reopen. */
  cdl_chaindb_config healthy = chaindb_config(db_dir, &g.genesis, NULL);
  healthy.ledger.requires_magic = g.requires_magic;
  healthy.ledger.pbft_threshold = 1.0;
  db = db_open(&healthy, NULL);
  cdl_block_info tip;
  bool has_tip = cdl_chaindb_tip(db, &tip);
  printf("reopened: tip block %llu\n", has_tip ? (unsigned long long)tip.block_no : 0ull);
  /* Nothing forged before the failure is lost: the EBB is block 0, the
   * forged blocks 1..forged. */
  assert_true(has_tip);
  assert_true(tip.block_no >= forged);
  db_close(db);
  cdl_gen_dir_free(&g);
  remove_dir(db_dir);
  remove_dir(gen_dir);
}

int main(void) {
  filter_tests_from_env();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_storage_failure_is_fatal)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
