/*
 * metrics.c: the node's metrics in the Prometheus text exposition format
 * (include/cardinal/node.h "Metrics"; docs/node.md "Metrics"). Names are
 * cardano-node's where it has one (its legacy Prometheus names, as
 * operators' dashboards query them: cardano_node_metrics_blockNum_int,
 * _slotNum_int, _epoch_int, _slotInEpoch_int, _density_real,
 * _txsInMempool_int, _mempoolBytes_int, _Forge_forged_int,
 * _connectedPeers_int, _served_block_count_int); the rest are Cardinal's
 * (cardinal_*), the signing record's guard among them (core nodes only).
 *
 * Density is cardano-node's: over the last k blocks of the selected
 * chain, blocks per slot, (tip block - block k back) / (tip slot - its
 * slot).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "node_internal.h"

static void line(cdl_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(cdl_buf *out, const char *fmt, ...) {
  char text[256];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (len > 0) cdl_buf_append(out, text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
}

static void gauge(cdl_buf *out, const char *name, const char *help, uint64_t v) {
  line(out, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRIu64 "\n", name, help, name, name, v);
}

static void counter(cdl_buf *out, const char *name, const char *help, uint64_t v) {
  line(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name, v);
}

static double density(const cdl_node *n, const cdl_block_info *tip) {
  uint64_t k = n->cfg.genesis->k;
  uint64_t back = tip->block_no > k ? tip->block_no - k : 0;
  cdl_block_info old;
  cdl_error scratch = {0}; /* not found is an answer here */
  if (cdl_chaindb_find_block_no(n->db, back, &old, &scratch) != CDL_OK || tip->slot <= old.slot)
    return 0;
  return (double)(tip->block_no - old.block_no) / (double)(tip->slot - old.slot);
}

static void chain_metrics(const cdl_node *n, cdl_buf *out) {
  cdl_block_info tip = {0};
  bool has = cdl_chaindb_tip(n->db, &tip);
  gauge(out, "cardano_node_metrics_blockNum_int", "block number of the tip",
        has ? tip.block_no : 0);
  gauge(out, "cardano_node_metrics_slotNum_int", "slot of the tip", has ? tip.slot : 0);
  gauge(out, "cardano_node_metrics_epoch_int", "epoch of the tip",
        has ? tip.slot / n->epoch_slots : 0);
  gauge(out, "cardano_node_metrics_slotInEpoch_int", "slot of the tip within its epoch",
        has ? tip.slot % n->epoch_slots : 0);
  line(out,
       "# HELP cardano_node_metrics_density_real blocks per slot over the last k blocks\n"
       "# TYPE cardano_node_metrics_density_real gauge\n"
       "cardano_node_metrics_density_real %.6f\n",
       has ? density(n, &tip) : 0.0);
  gauge(out, "cardinal_current_slot", "the slot of the wall clock", n->in_slots ? n->slot : 0);
}

static void peer_metrics(const cdl_peers *ps, cdl_buf *out) {
  uint64_t up = 0, suspended = 0;
  for (size_t i = 0; i < ps->n; i++) {
    up += ps->peer[i].state == CDL_PEER_UP;
    suspended += ps->peer[i].violations + ps->peer[i].invalid_blocks;
  }
  gauge(out, "cardinal_upstream_peers", "upstream peers connected", up);
  counter(out, "cardinal_peer_suspensions_total",
          "upstream peers suspended for a violation or an invalid block", suspended);
}

/* The signing record's guard against signing a slot twice. */
static void forge_guard_metrics(const cdl_node *n, const cdl_node_stats *st, cdl_buf *out) {
  if (!n->has_forger) return;
  counter(out, "cardinal_forge_double_sign_refused_total",
          "leader slots not signed: the signing record says this key signed them or later",
          st->double_sign_refused);
  counter(out, "cardinal_forge_record_failures_total",
          "leader slots not signed: the signing record could not be written", st->record_failures);
  counter(out, "cardinal_forge_refused_total", "our own blocks the ChainDB refused (a bug)",
          st->own_refused);
  uint64_t last = 0;
  cdl_sign_record_last(n->forger.record, n->key_hash, &last);
  gauge(out, "cardinal_forge_last_signed_slot", "the last slot the signing record holds", last);
}

void cdl_node_metrics_text(const cdl_node *n, cdl_buf *out) {
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  chain_metrics(n, out);
  gauge(out, "cardano_node_metrics_txsInMempool_int", "transactions in the mempool",
        st.mempool.count);
  gauge(out, "cardano_node_metrics_mempoolBytes_int", "bytes in the mempool", st.mempool.bytes);
  gauge(out, "cardinal_mempool_capacity_bytes", "the mempool's capacity", st.mempool.capacity);
  counter(out, "cardano_node_metrics_Forge_forged_int", "blocks forged", st.forged);
  counter(out, "cardinal_forged_ebbs_total", "epoch boundary blocks forged", st.ebbs_forged);
  counter(out, "cardinal_forge_skipped_total", "leader slots not forged (threshold, delegation)",
          st.forge_skipped);
  forge_guard_metrics(n, &st, out);
  gauge(out, "cardano_node_metrics_connectedPeers_int", "node-to-node connections, both ways",
        st.conns_in + st.conns_out);
  gauge(out, "cardinal_local_clients", "node-to-client connections", st.conns_local);
  gauge(out, "cardinal_duplex_connections",
        "node-to-node connections carrying both directions (full duplex)", st.conns_duplex);
  peer_metrics(&n->peers, out);
  counter(out, "cardano_node_metrics_served_block_count_int", "blocks served", st.blocks_served);
  counter(out, "cardano_node_metrics_served_header_counter_int", "headers served",
          st.headers_served);
  counter(out, "cardinal_blocks_received_total", "blocks received from upstream peers",
          st.blocks_received);
  counter(out, "cardinal_blocks_adopted_total", "received blocks that changed the chain",
          st.blocks_adopted);
  counter(out, "cardinal_invalid_blocks_total", "received blocks the ledger refused",
          st.invalid_blocks);
  counter(out, "cardano_node_metrics_txsProcessedNum_int", "transactions accepted by the mempool",
          st.mempool.accepted);
  counter(out, "cardinal_txs_received_total", "transactions received from peers and clients",
          st.txs_received);
}
