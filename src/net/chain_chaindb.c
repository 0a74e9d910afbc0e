/*
 * chain_chaindb.c: the chain interface of the engines (cdl_n2n_chain,
 * net.h; docs/network.md "Chain interface") over a ChainDB, as the node
 * kernel and the tools and tests that serve a real database supply it;
 * and the tip judge, a ChainDB's tip ledger judging transactions. The
 * one file of the engines that calls storage.
 */
#include "cardinal/net.h"

static bool tip(void *ctx, cdl_block_info *t) { return cdl_chaindb_tip(ctx, t); }

static bool immutable_tip(void *ctx, cdl_block_info *t) {
  return cdl_chaindb_immutable_tip(ctx, t);
}

static int read_block(void *ctx, const cdl_point *p, cdl_buf *out, cdl_block_info *info,
                      cdl_error *err) {
  return cdl_chaindb_read_block(ctx, p, out, info, err);
}

static int find_block_no(void *ctx, uint64_t block_no, cdl_block_info *info, cdl_error *err) {
  return cdl_chaindb_find_block_no(ctx, block_no, info, err);
}

static int follower_new(void *ctx, bool reader, void **out, cdl_error *err) {
  cdl_follower *f = NULL;
  int rc = reader ? cdl_follower_new_reader(ctx, &f, err) : cdl_follower_new(ctx, &f, err);
  *out = f;
  return rc;
}

static void follower_del(void *ctx, void *f) {
  (void)ctx;
  cdl_follower_del(f);
}

static int follower_intersect(void *ctx, void *f, const cdl_point *points, size_t n,
                              cdl_point *found, bool *found_any, cdl_error *err) {
  (void)ctx;
  return cdl_follower_intersect(f, points, n, found, found_any, err);
}

static int follower_next(void *ctx, void *f, cdl_follow_kind *kind, cdl_block_info *info,
                         cdl_point *to, cdl_buf *block, cdl_error *err) {
  (void)ctx;
  return cdl_follower_next(f, kind, info, to, block, err);
}

static int encode_update_state(void *ctx, cdl_buf *out, cdl_error *err) {
  return cdl_ledger_encode_update_state(cdl_chaindb_ledger(ctx), out, err);
}

static const cdl_ledger *tip_ledger(void *ctx) { return cdl_chaindb_ledger(ctx); }

void cdl_n2n_chain_of_chaindb(cdl_chaindb *db, cdl_n2n_chain *out) {
  *out = (cdl_n2n_chain){.ctx = db,
                         .tip = tip,
                         .immutable_tip = immutable_tip,
                         .read_block = read_block,
                         .find_block_no = find_block_no,
                         .follower_new = follower_new,
                         .follower_del = follower_del,
                         .follower_intersect = follower_intersect,
                         .follower_next = follower_next,
                         .encode_update_state = encode_update_state,
                         .ledger = tip_ledger};
}

/* ---- The mempool's reads and the tip judge ---- */

static bool txs_next(void *ctx, uint64_t after, cdl_mempool_entry *e) {
  return cdl_mempool_next(ctx, after, e);
}
static bool txs_find(void *ctx, uint8_t kind, const uint8_t id[32], cdl_mempool_entry *e) {
  return cdl_mempool_find(ctx, kind, id, e);
}
static uint64_t txs_changes(void *ctx) { return cdl_mempool_changes(ctx); }
static void txs_stats(void *ctx, cdl_mempool_stats *s) { cdl_mempool_stats_get(ctx, s); }

static bool txs_claim(void *ctx, uint8_t kind, const uint8_t id[32], const void *owner) {
  return cdl_mempool_fetch_claim(ctx, kind, id, owner);
}
static void txs_release(void *ctx, uint8_t kind, const uint8_t id[32], const void *owner) {
  cdl_mempool_fetch_release(ctx, kind, id, owner);
}
static void txs_release_all(void *ctx, const void *owner) {
  cdl_mempool_fetch_release_all(ctx, owner);
}
static uint64_t txs_claims_changes(void *ctx) { return cdl_mempool_fetch_changes(ctx); }

cdl_n2n_txs cdl_n2n_txs_of_mempool(cdl_mempool *mp) {
  if (mp == NULL) return (cdl_n2n_txs){0};
  return (cdl_n2n_txs){.ctx = mp,
                       .next = txs_next,
                       .find = txs_find,
                       .changes = txs_changes,
                       .stats = txs_stats,
                       .claim = txs_claim,
                       .release = txs_release,
                       .release_all = txs_release_all,
                       .claims_changes = txs_claims_changes};
}

static int judge_at_tip(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej) {
  cdl_n2n_tip_judge *j = ctx;
  return cdl_mempool_add(j->mp, cdl_chaindb_ledger(j->db), gentx, len, 0, NULL, rej);
}

cdl_n2n_tx_judge cdl_n2n_tip_judge_of(cdl_n2n_tip_judge *j) {
  return (cdl_n2n_tx_judge){judge_at_tip, j};
}
