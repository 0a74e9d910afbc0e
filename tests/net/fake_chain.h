/*
 * fake_chain.h: a chain in memory behind the engines' chain interface
 * (cdl_n2n_chain, include/cardinal/net.h; docs/network.md "Chain
 * interface"), for testing the server engine without a ChainDB: a list
 * of known blocks (any bytes the caller lends, on any fork) and a
 * selected chain made of some of them, which the test switches at will
 * to make the followers roll back.
 *
 * The fake's linkage is its own: a block's predecessor is the one before
 * it in the selected chain, whatever its bytes say. Followers keep the
 * path they handed out, so after a switch their next step is a roll-back
 * to the newest block of that path the new chain still holds (storage's
 * semantics, storage.h "Followers"); a reader behaves the same.
 */
#ifndef CARDINAL_TEST_FAKE_CHAIN_H
#define CARDINAL_TEST_FAKE_CHAIN_H

#include "cardinal/net.h"

typedef struct fake_block {
  const uint8_t *bytes; /* the caller's, stored form; outlive the chain */
  size_t len;
  cdl_block_info info;
} fake_block;

typedef struct fake_chain {
  fake_block *known; /* every block the chain has, in the order added */
  size_t n_known, cap;
  size_t *sel; /* the selected chain: indices into known, from the first block */
  size_t n_sel;
  size_t immutable; /* how many of the selected chain's first blocks are immutable */
  cdl_buf update_state; /* what encode_update_state appends */
  const cdl_ledger *ledger; /* what the ledger function gives (NULL: none) */
  /* What the server asked of it. */
  size_t followers_live, readers_live; /* created and not yet deleted */
  uint64_t reads;                      /* read_block calls */
} fake_chain;

void fake_chain_init(fake_chain *fc);
void fake_chain_free(fake_chain *fc);
/* A known block (its info read from the bytes, epoch_slots 21600, unless
 * |info| is given); returns its index. */
size_t fake_chain_add(fake_chain *fc, const uint8_t *bytes, size_t len, const cdl_block_info *info);
/* The selected chain becomes known[idx[0]], ..., known[idx[n-1]]. */
void fake_chain_select(fake_chain *fc, const size_t *idx, size_t n);
/* The interface over |fc| (which outlives every server given it). */
void fake_chain_iface(fake_chain *fc, cdl_n2n_chain *out);

#endif
