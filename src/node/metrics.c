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
#include <string.h>

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

/* A line whose labels may be long (a peer's address up to 255 bytes,
 * escaped): its own buffer, and a line that does not fit is left out
 * rather than cut. */
static void rawline(cdl_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rawline(cdl_buf *out, const char *fmt, ...) {
  char text[2 * CDL_PEER_HOST_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (len > 0 && (size_t)len < sizeof text) cdl_buf_append(out, text, (size_t)len);
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

/* ---- One series per topology peer ----
 * At most CDL_PEERS_MAX peers (the topology's bound), so at most that many
 * series of each family. The label is the topology's address as written:
 * an operator's file, escaped as the text format says (\\ \" \n), any
 * other byte outside printable ASCII shown as '?'. */

static const char *peer_label(const cdl_peer *p, char *out, size_t len) {
  char host[2 * CDL_PEER_HOST_MAX];
  size_t j = 0;
  for (const char *c = p->host; *c != '\0' && j + 2 < sizeof host; c++) {
    if (*c == '\\' || *c == '"') host[j++] = '\\', host[j++] = *c;
    else if (*c == '\n') host[j++] = '\\', host[j++] = 'n';
    else host[j++] = *c >= 0x20 && *c <= 0x7e ? *c : '?';
  }
  host[j] = '\0';
  bool v6 = strchr(p->host, ':') != NULL;
  snprintf(out, len, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)p->port);
  return out;
}

/* The same address twice in a topology would make two series with one
 * label set, which the format forbids: the first one stands for both. */
static bool listed_before(const cdl_peers *ps, size_t i) {
  for (size_t k = 0; k < i; k++)
    if (ps->peer[k].port == ps->peer[i].port && strcmp(ps->peer[k].host, ps->peer[i].host) == 0)
      return true;
  return false;
}

/* Which way each upstream peer's connection goes: we dialled it
 * ("outbound"), or its dial carries ours too ("inbound", full duplex). */
static void peer_directions(const cdl_node *n, const char *dir[CDL_PEERS_MAX]) {
  for (size_t i = 0; i < n->peers.n; i++) dir[i] = "none";
  for (size_t k = 0; k < n->n_conns; k++) {
    const node_conn *c = n->conns[k];
    if (c->peer >= n->peers.n || c->peer_pending || c->cli == NULL) continue;
    dir[c->peer] = c->kind == CDL_NODE_OUTBOUND ? "outbound" : "inbound";
  }
}

static void family(cdl_buf *out, const char *name, const char *type, const char *help) {
  line(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void peer_rows(const cdl_node *n, cdl_buf *out) {
  const cdl_peers *ps = &n->peers;
  const char *dir[CDL_PEERS_MAX];
  char label[2 * CDL_PEER_HOST_MAX + 16];
  peer_directions(n, dir);
  family(out, "cardinal_peer_state", "gauge",
         "1 for each topology peer, labelled with its connection's direction and its state");
  for (size_t i = 0; i < ps->n; i++)
    if (!listed_before(ps, i))
      rawline(out, "cardinal_peer_state{peer=\"%s\",direction=\"%s\",state=\"%s\"} 1\n",
              peer_label(&ps->peer[i], label, sizeof label), dir[i],
              cdl_peer_state_name(&ps->peer[i], n->now_us));
  family(out, "cardinal_peer_blocks_received_total", "counter",
         "blocks received from the peer over all its connections");
  for (size_t i = 0; i < ps->n; i++)
    if (!listed_before(ps, i))
      rawline(out, "cardinal_peer_blocks_received_total{peer=\"%s\"} %" PRIu64 "\n",
              peer_label(&ps->peer[i], label, sizeof label), ps->peer[i].blocks_received);
  family(out, "cardinal_peer_rtt_seconds", "gauge",
         "the peer's keep-alive round trip, smoothed (peers measured at least once)");
  for (size_t i = 0; i < ps->n; i++)
    if (!listed_before(ps, i) && ps->peer[i].rtt_us > 0)
      rawline(out, "cardinal_peer_rtt_seconds{peer=\"%s\"} %.6f\n",
              peer_label(&ps->peer[i], label, sizeof label), (double)ps->peer[i].rtt_us / 1e6);
}

/* The ChainDB's bytes on disk, as it keeps count (no I/O here): what its
 * files hold, as `db info` reads them; the immutable appends still written
 * behind in memory are not on disk yet. */
static void storage_metrics(const cdl_node *n, cdl_buf *out) {
  cdl_volatile_stats vs;
  cdl_volatile_stats_get(cdl_chaindb_volatile(n->db), &vs);
  gauge(out, "cardinal_chaindb_immutable_bytes", "bytes of the immutable database's chunk files",
        cdl_immutable_bytes_written(cdl_chaindb_immutable(n->db)));
  gauge(out, "cardinal_chaindb_volatile_bytes", "bytes of the volatile database's block files",
        vs.bytes);
}

/* What validation did not have to do again, and on how many threads it
 * runs (docs/node.md "Signature checks on every core"). */
static void validation_metrics(const cdl_node *n, cdl_buf *out) {
  gauge(out, "cardinal_parse_threads", "threads that decode fetched blocks and check signatures",
        n->parse_pool ? cdl_parse_pool_threads(n->parse_pool) : 1);
  cdl_witness_cache *wc = cdl_chaindb_witness_cache(n->db);
  if (wc == NULL) return;
  cdl_witness_cache_stats ws;
  cdl_witness_cache_stats_get(wc, &ws);
  counter(out, "cardinal_witness_cache_hits_total",
          "tx witnesses found verified already (the mempool's), not verified again", ws.hits);
  counter(out, "cardinal_witness_cache_misses_total", "tx witnesses verified", ws.misses);
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
  peer_rows(n, out);
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
  gauge(out, "cardinal_txs_waiting",
        "transactions from peers and clients waiting for room in the full mempool", st.txs_waiting);
  counter(out, "cardinal_txs_waited_total",
          "transactions from peers and clients that had to wait for mempool room", st.txs_waited);
  counter(out, "cardinal_tx_pulls_saved_total",
          "transactions offered by several peers at once and pulled from one",
          st.tx_pulls_saved);
  counter(out, "cardinal_local_tx_wait_expired_total",
          "local submissions refused as mempool.full after waiting the limit",
          st.tx_waits_expired);
  storage_metrics(n, out);
  validation_metrics(n, out);
}
