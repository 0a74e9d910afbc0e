/*
 * node_rollback.c: transactions of blocks a fork switch gave up go back to
 * the mempool (docs/node.md "Mempool after a fork switch").
 *
 * A block that leaves the selected chain takes its transactions with it;
 * the mempool, re-validated against the new tip, no longer holds them
 * (they were removed when the block was adopted). Without this, a payment
 * a client saw in a block is lost for good when a short fork is abandoned
 * (the simulator's partition and delay cases showed it). So after a
 * switch that rolled back r blocks, the kernel reads those r blocks back
 * from the volatile DB (a rollback is at most k blocks, all still there),
 * and offers their transactions to the mempool again, oldest first; those
 * the new chain already holds or made invalid are refused there, as any
 * submission. Delegation certificates, update proposals and votes in those
 * blocks are not offered again (their authors resubmit them).
 */
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

/* Offers the transactions of one rolled-back block (stored form). */
static size_t offer_block_txs(cdl_node *n, const cdl_buf *block, cdl_buf *gentx) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_error err = {0};
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_block blk;
  size_t back = 0;
  if (cdl_byron_block_decode(block->data, block->len, &ctx, &blk) == CDL_OK && !blk.is_ebb) {
    for (size_t i = 0; i < blk.body.n_txs; i++) {
      cdl_buf_reset(gentx);
      cdl_cbor_enc_array(gentx, 2);
      cdl_cbor_enc_uint(gentx, 0);
      cdl_cbor_enc_raw(gentx, blk.body.txs[i].raw);
      cdl_rejection rej = {0};
      uint64_t slot = n->in_slots ? n->slot : 0;
      back += !gentx->failed && cdl_mempool_add(n->mp, cdl_chaindb_ledger(n->db), gentx->data,
                                                gentx->len, slot, NULL, &rej) == CDL_OK;
    }
  }
  cdl_arena_free(&arena);
  return back;
}

void node_readopt_txs(cdl_node *n, const cdl_block_info *old_tip, uint64_t rollback) {
  cdl_point *points = calloc(rollback, sizeof *points);
  if (points == NULL) return; /* the transactions stay lost, as before */
  cdl_volatile *vol = cdl_chaindb_volatile(n->db);
  cdl_block_info b = *old_tip;
  size_t count = 0;
  while (count < rollback) {
    points[count].slot = b.slot;
    memcpy(points[count++].hash, b.hash, 32);
    if (!cdl_volatile_info(vol, b.prev_hash, &b)) break;
  }
  cdl_buf block, gentx;
  cdl_buf_init(&block, 0);
  cdl_buf_init(&gentx, 0);
  size_t back = 0;
  for (size_t i = count; i-- > 0;) {
    cdl_error err = {0};
    cdl_buf_reset(&block);
    if (cdl_chaindb_read_block(n->db, &points[i], &block, NULL, &err) == CDL_OK)
      back += offer_block_txs(n, &block, &gentx);
  }
  if (back > 0)
    node_log(n, CDL_LOG_INFO, "mempool.readopted",
             "%zu transactions of %zu blocks rolled back are in the mempool again", back, count);
  cdl_buf_free(&block);
  cdl_buf_free(&gentx);
  free(points);
}
