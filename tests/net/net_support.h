/*
 * net_support.h: what the network engine tests share: a ChainDB holding
 * the first blocks of real mainnet epoch 0, for the engines to serve.
 */
#ifndef CARDINAL_TEST_NET_SUPPORT_H
#define CARDINAL_TEST_NET_SUPPORT_H

#include "../storage/storage_support.h"

#define NET_MAINNET_MAGIC 764824073u

typedef struct served_chain {
  epoch0 e;
  genesis_fixture g;
  char dir[256];
  cdl_chaindb *db;
  cdl_block_info *info; /* of each block served */
  size_t n;
} served_chain;

/* The first |n| blocks, each adopted (signatures unchecked: the ledger is
 * not under test there), in a fresh directory named after |what|. */
void served_chain_open(served_chain *c, const char *what, size_t n);
void served_chain_close(served_chain *c);

#endif
