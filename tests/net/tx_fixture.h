/*
 * tx_fixture.h: the fixture of the transaction-protocol tests
 * (test_tx_protocols.c: the server's side and the local protocols;
 * test_tx_offer.c: the client engine offering): an empty ChainDB of a
 * generated genesis (magic 42, k = 10, three genesis keys, four poor
 * keys), a fresh mempool for each test, and the judge a server without a
 * node kernel uses.
 */
#ifndef CDL_TESTS_TX_FIXTURE_H
#define CDL_TESTS_TX_FIXTURE_H

#include "cardinal/gen.h"
#include "net_support.h"

enum { MAGIC = 42 }; /* the genesis's protocol magic */
extern cdl_gen_dir gen;
extern cdl_chaindb *db;
extern cdl_mempool *mp; /* fresh for each test (tx_test_setup) */

int tx_group_setup(void **state);
int tx_group_teardown(void **state);
int tx_test_setup(void **state);
int tx_test_teardown(void **state);
/* The servers' judge: the mempool over the ChainDB's tip. */
cdl_n2n_tx_judge judge_at_tip(void);
/* The Byron GenTx [0, txaux] paying poor key |to| from poor key |from|'s
 * genesis output, |lovelace| to |to| (the rest less a fee back). */
void make_gentx(cdl_buf *out, size_t from, size_t to, uint64_t lovelace, uint8_t id[32]);

#endif /* CDL_TESTS_TX_FIXTURE_H */
