/*
 * tx_fixture.c: what the transaction-protocol tests share (tx_fixture.h):
 * an empty ChainDB of a generated genesis, a fresh mempool per test, the
 * servers' judge over that ChainDB's tip, and payments between the
 * genesis's four poor keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tx_fixture.h"

static char gen_dir[64], db_dir[256];
cdl_gen_dir gen;
cdl_chaindb *db;
cdl_mempool *mp;

int tx_group_setup(void **state) {
  test_group_setup(state);
  cdl_gen_genesis_spec s = {.protocol_magic = MAGIC,
                            .k = 10,
                            .start_time = 1700000000,
                            .genesis_keys = 3,
                            .poor_addresses = 4,
                            .poor_balance = 1000000000000,
                            .has_seed = true,
                            .seed = 9};
  cdl_gen_default_params(&s.params);
  snprintf(gen_dir, sizeof gen_dir, "/tmp/cdl-localtx-XXXXXX");
  assert_non_null(mkdtemp(gen_dir));
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&s, gen_dir, &err) != CDL_OK) fail_msg("genesis: %s", err.message);
  if (cdl_gen_dir_load(gen_dir, &gen, &err) != CDL_OK) fail_msg("load: %s", err.message);
  make_dir(db_dir, sizeof db_dir, "localtx");
  cdl_chaindb_config cfg = chaindb_config(db_dir, &gen.genesis, NULL);
  cfg.ledger.requires_magic = gen.requires_magic;
  db = db_open(&cfg, NULL);
  return 0;
}

int tx_group_teardown(void **state) {
  (void)state;
  db_close(db);
  remove_dir(db_dir);
  cdl_gen_dir_free(&gen);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", gen_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* The servers' judge: the mempool over the ChainDB's tip (what a server
 * without a node kernel uses), unless a test sets its own. */
static cdl_n2n_tip_judge TIP;
cdl_n2n_tx_judge judge_at_tip(void) {
  TIP = (cdl_n2n_tip_judge){db, mp};
  return cdl_n2n_tip_judge_of(&TIP);
}

int tx_test_setup(void **state) {
  (void)state;
  cdl_mempool_config cfg = {0};
  assert_int_equal(cdl_mempool_new(&cfg, cdl_chaindb_ledger(db), 0, &mp), CDL_OK);
  return 0;
}

int tx_test_teardown(void **state) {
  (void)state;
  cdl_mempool_del(mp);
  return 0;
}


/* The Byron GenTx [0, txaux] paying poor key |to| from poor key |from|'s
 * genesis output, |lovelace| to |to| (the rest less a fee back). */
void make_gentx(cdl_buf *out, size_t from, size_t to, uint64_t lovelace, uint8_t id[32]) {
  gen_payment(&gen, from, to, lovelace, out, id);
}
