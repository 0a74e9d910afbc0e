/*
 * node_fetch.c: block-fetch decisions across the node's upstream
 * connections (docs/node.md "Block-fetch decisions"; the decider of
 * cardinal/net.h cdl_n2n_fetch_ops). Each client asks, block by block in
 * its peer's chain order, whether to request the next announced block:
 *  - HAVE when it is on our selected chain already;
 *  - LATER when another connection has it in flight (no block is asked of
 *    two peers at once; when that fetch ends either way the clients are
 *    woken and ask again), when the peer's chain is not longer than ours
 *    (only a better chain is worth its bytes: Byron's longest chain
 *    rule), or when a byte budget is spent: NODE_FETCH_PEER_BYTES in
 *    flight per connection and NODE_FETCH_TOTAL_BYTES in all (one block
 *    at a time is always allowed);
 *  - NOW otherwise, and the block is claimed until it arrives, the peer
 *    says it has none, or the connection ends.
 * Sizes are the peer's size hints, each counted as at least
 * NODE_FETCH_MIN_CHARGE so that a peer announcing tiny sizes still meets
 * the budgets.
 */
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

static bool claimed(const cdl_node *n, const uint8_t hash[32]) {
  for (size_t i = 0; i < n->n_claims; i++)
    if (memcmp(n->claims[i].hash, hash, 32) == 0) return true;
  return false;
}

static uint64_t conn_bytes(const cdl_node *n, cdl_node_conn_id id) {
  uint64_t b = 0;
  for (size_t i = 0; i < n->n_claims; i++)
    if (n->claims[i].conn == id) b += n->claims[i].bytes;
  return b;
}

static bool on_our_chain(cdl_node *n, const cdl_point *p, uint64_t block_no) {
  cdl_block_info tip, at;
  cdl_error scratch = {0};
  return cdl_chaindb_tip(n->db, &tip) && block_no <= tip.block_no &&
         cdl_chaindb_find_block_no(n->db, block_no, &at, &scratch) == CDL_OK &&
         at.slot == p->slot && memcmp(at.hash, p->hash, 32) == 0;
}

/* Byron's chain order: more blocks is better. */
static bool better_than_ours(const cdl_node *n, const cdl_tip *peer) {
  cdl_block_info tip;
  if (peer->point.origin) return false;
  return !cdl_chaindb_tip(n->db, &tip) || peer->block_no > tip.block_no;
}

/* Out of memory, the block goes unclaimed: at worst a second peer is
 * asked for it too, which is better than never asking. */
/* Without room to record it, the block is fetched all the same: a claim
 * only keeps other peers from fetching it too and counts its bytes in the
 * budgets, and a block that arrives twice is stored once. */
static void claim(cdl_node *n, node_conn *c, const uint8_t hash[32], uint64_t bytes) {
  if (n->n_claims == n->cap_claims) {
    size_t cap = n->cap_claims ? 2 * n->cap_claims : 64;
    node_claim *grown = realloc(n->claims, cap * sizeof *grown);
    if (grown == NULL) return;
    n->claims = grown;
    n->cap_claims = cap;
  }
  node_claim *k = &n->claims[n->n_claims++];
  memcpy(k->hash, hash, 32);
  k->conn = c->id;
  k->bytes = bytes;
  n->fetch_bytes += bytes;
  /* The total budget holds, but for the one block always allowed. */
  CDL_ASSERT(n->fetch_bytes <= NODE_FETCH_TOTAL_BYTES || n->fetch_bytes == bytes);
}

static cdl_fetch_verdict decide(void *ctx, const cdl_point *block, uint64_t block_no,
                                uint32_t size_hint, const cdl_tip *peer_tip) {
  node_conn *c = ctx;
  cdl_node *n = c->node;
  if (on_our_chain(n, block, block_no)) return CDL_FETCH_HAVE;
  if (claimed(n, block->hash) || !better_than_ours(n, peer_tip)) return CDL_FETCH_LATER;
  uint64_t bytes = size_hint < NODE_FETCH_MIN_CHARGE ? NODE_FETCH_MIN_CHARGE : size_hint;
  uint64_t mine = conn_bytes(n, c->id);
  if (mine > 0 && mine + bytes > NODE_FETCH_PEER_BYTES) return CDL_FETCH_LATER;
  if (n->fetch_bytes > 0 && n->fetch_bytes + bytes > NODE_FETCH_TOTAL_BYTES) return CDL_FETCH_LATER;
  claim(n, c, block->hash, bytes);
  return CDL_FETCH_NOW;
}

/* Ends claims: of |id| on |hash|, or every claim of |id| when |hash| is
 * NULL. Connections waiting on them are woken. */
static void release(cdl_node *n, cdl_node_conn_id id, const uint8_t *hash) {
  bool any = false;
  for (size_t i = 0; i < n->n_claims;) {
    node_claim *k = &n->claims[i];
    if (k->conn != id || (hash != NULL && memcmp(k->hash, hash, 32) != 0)) {
      i++;
      continue;
    }
    CDL_ASSERT(n->fetch_bytes >= k->bytes); /* the bytes in flight are the claims' */
    n->fetch_bytes -= k->bytes;
    *k = n->claims[--n->n_claims];
    any = true;
  }
  CDL_ASSERT(n->n_claims > 0 || n->fetch_bytes == 0);
  if (any) node_wake_all(n);
}

static void dropped(void *ctx, const uint8_t hash[32]) {
  node_conn *c = ctx;
  release(c->node, c->id, hash);
}

const cdl_n2n_fetch_ops node_fetch_ops = {.decide = decide, .dropped = dropped};

void node_fetch_arrived(cdl_node *n, node_conn *c, const uint8_t hash[32]) {
  release(n, c->id, hash);
}

void node_fetch_conn_gone(cdl_node *n, cdl_node_conn_id id) { release(n, id, NULL); }
