/*
 * node_conn.c: the node kernel's connections (include/cardinal/node.h
 * "Connections"; docs/node.md "Kernel"). Each holds one engine: a
 * node-to-node client for an upstream peer (src/net/client*.c), or a
 * server for an inbound or local one (src/net/server*.c).
 *
 * An upstream client offers the ChainDB's chain for the intersection,
 * asks the kernel before fetching each block (node_fetch.c: no block from
 * two peers at once, only better chains, byte budgets), and gives every
 * block it fetches, parsed once by the client, to the ChainDB as it is
 * (docs/storage.md "One parse per block"): a block the ledger refuses
 * ends that connection (CDL_E_REJECTED, the peer's fault); one that
 * changes the selected chain wakes the whole node. A server gets the
 * node's mempool and slot, so local tx-submission and tx-submission feed
 * the mempool and tx-monitor reads it; when a receive or a poll changes
 * the mempool, every connection is woken (a blocked tx-submission
 * request, an awaiting tx-monitor, a submission waiting for room).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

node_conn *node_conn_find(const cdl_node *n, cdl_node_conn_id id) {
  for (size_t i = 0; i < n->n_conns; i++)
    if (n->conns[i]->id == id) return n->conns[i];
  return NULL;
}

void node_conn_free(node_conn *c) {
  if (c == NULL) return;
  cdl_n2n_server_del(c->srv);
  cdl_n2n_client_del(c->cli);
  free(c);
}

/* A block the client fetched, parsed once there: its hash ends the fetch
 * claim, and the ChainDB takes it as parsed (nothing decodes it again). */
static int on_block(void *ctx, const cdl_parsed_block *block, cdl_error *err) {
  node_conn *c = ctx;
  cdl_node *n = c->node;
  if (block->rc == CDL_OK)
    node_fetch_arrived(n, c, block->info.hash); /* an undecodable one ends the connection below */
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_block_info old_tip;
  bool had_tip = cdl_chaindb_tip(n->db, &old_tip);
  int rc = cdl_chaindb_add_parsed(n->db, block, &res, &rej, err);
  if (rc != CDL_OK) return node_fail(n, rc, err); /* our disk, not the peer */
  n->st.blocks_received++;
  if (c->peer < n->peers.n) n->peers.peer[c->peer].blocks_received++; /* its metrics row */
  if (res.outcome == CDL_ADD_INVALID) {
    n->st.invalid_blocks++;
    n->rejection = rej;
    n->has_rejection = true;
    node_log(n, CDL_LOG_WARN, "block.invalid", "connection %u: block %llu refused: %s",
             (unsigned)c->id, (unsigned long long)rej.block_no, rej.rule ? rej.rule : "?");
    return cdl_error_set(err, CDL_E_REJECTED, 0, "the peer sent an invalid block: %s",
                         rej.rule ? rej.rule : "?");
  }
  if (res.outcome == CDL_ADD_ADOPTED) {
    n->st.blocks_adopted++;
    if (res.rollback > 0) n->st.rollbacks++;
    if (res.rollback > n->st.rollback_max) n->st.rollback_max = res.rollback;
    if (res.rollback > 0 && had_tip) node_readopt_txs(n, &old_tip, res.rollback);
    node_chain_changed(n);
  } else if (res.outcome == CDL_ADD_STORED) {
    n->st.blocks_stored++;
  } else {
    n->st.blocks_known++;
  }
  return CDL_OK;
}

/* |mux|: the inbound connection's, to attach to (NULL: a new outbound one). */
static int open_client(cdl_node *n, node_conn *c, cdl_mux *mux, uint64_t now_us,
                       cdl_error *err) {
  cdl_point known[NODE_KNOWN_POINTS];
  cdl_n2n_client_config cfg = {.hs = n->cfg.n2n,
                               .epoch_slots = n->epoch_slots,
                               .pipeline = n->cfg.pipeline,
                               .fetch_batch = n->cfg.fetch_batch,
                               .known = known,
                               .n_known = cdl_chaindb_known_points(n->db, known, NODE_KNOWN_POINTS),
                               .on_block = on_block,
                               .ctx = c,
                               .txs = cdl_n2n_txs_of_mempool(n->mp),
                               .fetch = &node_fetch_ops,
                               .parse_pool = n->parse_pool,
                               .carry_us = n->cfg.carry_us};
  if (mux != NULL) return cdl_n2n_client_attach(mux, &cfg, now_us, &c->cli, err);
  return cdl_n2n_client_new(&cfg, now_us, &c->cli, err);
}

int node_conn_attach_client(cdl_node *n, node_conn *c, uint64_t now_us, cdl_error *err) {
  return open_client(n, c, cdl_n2n_server_mux(c->srv), now_us, err);
}

/* What every server of the node is given: its mempool and slot. */
static void setup_server(cdl_node *n, node_conn *c) {
  cdl_n2n_server_set_system_start(c->srv, (uint64_t)n->cfg.genesis->start_time);
  cdl_n2n_server_set_slot_ms(c->srv, n->cfg.genesis->params.slot_duration_ms);
  cdl_n2n_server_set_txs(c->srv, cdl_n2n_txs_of_mempool(n->mp),
                         (cdl_n2n_tx_judge){node_judge_tx, n});
}

static int open_server(cdl_node *n, node_conn *c, bool local, uint64_t now_us, cdl_error *err) {
  CDL_TRY(cdl_n2n_server_new(&n->chain, local ? &n->cfg.n2c : &n->cfg.n2n, now_us, &c->srv, err));
  setup_server(n, c);
  return CDL_OK;
}

/* An outbound connection whose handshake agreed on both directions: our
 * responder joins its multiplexer (the peer's requests may already wait
 * in its channels). */
static int attach_server(cdl_node *n, node_conn *c, uint64_t now_us, cdl_error *err) {
  if (c->srv != NULL || !cdl_n2n_client_duplex(c->cli)) return CDL_OK;
  CDL_TRY(cdl_n2n_server_attach(cdl_n2n_client_mux(c->cli), &n->chain, &n->cfg.n2n, 0, now_us,
                                &c->srv, err));
  setup_server(n, c);
  return CDL_OK;
}

/* Bytes to the engine that owns the connection's multiplexer (the one
 * whose handshake it was), then the other side's channels. */
static int engines_recv(cdl_node *n, node_conn *c, const uint8_t *data, size_t len,
                        uint64_t now_us, cdl_error *err) {
  bool outbound = c->kind == CDL_NODE_OUTBOUND;
  if (outbound) {
    CDL_TRY(cdl_n2n_client_recv(c->cli, data, len, now_us, err));
    CDL_TRY(attach_server(n, c, now_us, err));
    return c->srv ? cdl_n2n_server_recv(c->srv, NULL, 0, now_us, err) : CDL_OK;
  }
  CDL_TRY(cdl_n2n_server_recv(c->srv, data, len, now_us, err));
  if (c->peer_pending) CDL_TRY(node_peers_handshake_done(n, c, now_us, err));
  return c->cli ? cdl_n2n_client_recv(c->cli, NULL, 0, now_us, err) : CDL_OK;
}

int cdl_node_conn_open(cdl_node *n, cdl_node_conn_kind kind, uint64_t now_us, cdl_node_conn_id *id,
                       cdl_error *err) {
  return node_conn_open(n, kind, SIZE_MAX, now_us, id, err);
}

int node_conn_open(cdl_node *n, cdl_node_conn_kind kind, size_t peer, uint64_t now_us,
                   cdl_node_conn_id *id, cdl_error *err) {
  n->now_us = now_us;
  if (n->n_conns == NODE_MAX_CONNS)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "node: %d connections already", NODE_MAX_CONNS);
  node_conn *c = calloc(1, sizeof *c);
  if (c == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "node: out of memory");
  *c = (node_conn){.id = ++n->next_id, .kind = kind, .node = n, .dirty = true, .peer = peer};
  int rc = kind == CDL_NODE_OUTBOUND ? open_client(n, c, NULL, now_us, err)
                                     : open_server(n, c, kind == CDL_NODE_LOCAL, now_us, err);
  if (rc != CDL_OK) {
    node_conn_free(c);
    return rc;
  }
  n->conns[n->n_conns++] = c;
  *id = c->id;
  return CDL_OK;
}

/* Records a failure: the connection has ended and the driver closes it. */
static int fail(node_conn *c, int rc, const cdl_error *err) {
  if (!c->ended) node_fetch_conn_gone(c->node, c->id); /* others may fetch its blocks */
  c->ended = true;
  c->rc = rc;
  c->err = *err;
  c->dirty = true;
  return rc;
}

int cdl_node_conn_recv(cdl_node *n, cdl_node_conn_id id, const uint8_t *data, size_t len,
                       uint64_t now_us, cdl_error *err) {
  n->now_us = now_us;
  node_conn *c = node_conn_find(n, id);
  if (c == NULL || c->ended)
    return cdl_error_set(err, CDL_E_USAGE, 0, "node: connection %u is not open", (unsigned)id);
  uint64_t before = cdl_mempool_changes(n->mp);
  cdl_error e = {0};
  /* The blocks of one read reach the OS in one write, before anything of
   * them leaves the node (docs/storage.md "Durability"): what the engines
   * queue meanwhile is only written out after this returns. */
  cdl_chaindb_batch_begin(n->db);
  int rc = engines_recv(n, c, data, len, now_us, &e);
  cdl_error stored = {0};
  if (cdl_chaindb_batch_end(n->db, &stored) != CDL_OK) node_fail(n, stored.code, &stored);
  c->dirty = true;
  if (cdl_mempool_changes(n->mp) != before) node_wake_all(n);
  if (rc != CDL_OK) {
    *err = e;
    return fail(c, rc, &e);
  }
  return CDL_OK;
}

/* The caller makes the connection dirty when it is not draining it. A
 * server may add to the mempool while polled (a submission or a peer's
 * txs that waited for room): the others are woken then, as after a
 * receive. */
static int poll_engine(node_conn *c, uint64_t now_us) {
  cdl_error e = {0};
  uint64_t before = cdl_mempool_changes(c->node->mp);
  int rc = c->cli ? cdl_n2n_client_poll(c->cli, now_us, &e) : CDL_OK;
  if (rc == CDL_OK && c->srv) rc = cdl_n2n_server_poll(c->srv, now_us, &e);
  if (cdl_mempool_changes(c->node->mp) != before) node_wake_all(c->node);
  return rc == CDL_OK ? CDL_OK : fail(c, rc, &e);
}

/* The next SDU of the connection's multiplexer, whichever side made it. */
static bool mux_next_sdu(node_conn *c, uint64_t now_us, cdl_buf *out) {
  if (c->kind == CDL_NODE_OUTBOUND) return cdl_n2n_client_next_sdu(c->cli, now_us, out);
  return cdl_n2n_server_next_sdu(c->srv, now_us, out);
}

void node_conn_wake(cdl_node *n, node_conn *c) {
  c->wake = false;
  poll_engine(c, n->now_us);
}

bool cdl_node_conn_next_sdu(cdl_node *n, cdl_node_conn_id id, uint64_t now_us, cdl_buf *out) {
  n->now_us = now_us;
  node_conn *c = node_conn_find(n, id);
  /* A node whose storage failed says nothing more: what it would say may
   * name blocks its disk does not hold. */
  if (c == NULL || n->failed) return false;
  if (mux_next_sdu(c, now_us, out)) return true;
  /* Egress room made: a server waiting on it goes on. */
  if (c->ended || c->srv == NULL || !cdl_n2n_server_wants_poll(c->srv) ||
      poll_engine(c, now_us) != CDL_OK)
    return false;
  return mux_next_sdu(c, now_us, out);
}

bool cdl_node_conn_result(const cdl_node *n, cdl_node_conn_id id, int *rc, cdl_error *err) {
  node_conn *c = node_conn_find(n, id);
  if (c == NULL) return false;
  if (!c->ended && c->kind != CDL_NODE_OUTBOUND && cdl_n2n_server_finished(c->srv)) {
    *rc = CDL_OK;
    cdl_error_set(err, CDL_OK, 0, "the handshake ended the connection");
    return true;
  }
  if (!c->ended) return false;
  *rc = c->rc;
  *err = c->err;
  return true;
}

void cdl_node_conn_close(cdl_node *n, cdl_node_conn_id id, cdl_peer_end socket_end,
                         uint64_t now_us) {
  n->now_us = now_us;
  for (size_t i = 0; i < n->n_conns; i++)
    if (n->conns[i]->id == id) {
      node_peers_conn_closed(n, n->conns[i], socket_end, now_us);
      if (n->conns[i]->srv) {
        cdl_n2n_server_stats st = cdl_n2n_server_stats_get(n->conns[i]->srv);
        n->closed.blocks_served += st.blocks_served;
        n->closed.headers_served += st.headers_served;
        n->closed.txs_received += st.txs_received;
        n->closed.txs_waited += st.txs_waited;
        n->closed.tx_waits_expired += st.tx_waits_expired;
        n->closed.tx_pulls_saved += st.tx_pulls_saved;
      }
      if (n->conns[i]->cli)
        node_upstream_add(&n->closed_upstream, cdl_n2n_client_stats_get(n->conns[i]->cli));
      node_fetch_conn_gone(n, id);
      node_conn_free(n->conns[i]);
      n->conns[i] = n->conns[--n->n_conns];
      return;
    }
}

void node_upstream_add(cdl_n2n_client_stats *sum, cdl_n2n_client_stats st) {
  sum->headers += st.headers;
  sum->blocks += st.blocks;
  sum->block_bytes += st.block_bytes;
  sum->rollbacks += st.rollbacks;
  sum->ka_rtt_samples += st.ka_rtt_samples;
  sum->tx_ids_offered += st.tx_ids_offered;
  sum->txs_sent += st.txs_sent;
  if (st.ka_rtt_us) sum->ka_rtt_us = st.ka_rtt_us;
  if (st.peer_tip.block_no || st.headers) sum->peer_tip = st.peer_tip;
  sum->intersection = st.intersection;
}

int cdl_node_conn_set_remote(cdl_node *n, cdl_node_conn_id id, const char *host, uint16_t port) {
  node_conn *c = node_conn_find(n, id);
  if (c == NULL || c->kind != CDL_NODE_INBOUND || strlen(host) >= sizeof c->remote_host)
    return CDL_E_USAGE;
  snprintf(c->remote_host, sizeof c->remote_host, "%s", host);
  c->remote_port = port;
  node_peers_inbound(n, c);
  return CDL_OK;
}

bool cdl_node_conn_client_stats(const cdl_node *n, cdl_node_conn_id id, cdl_n2n_client_stats *st) {
  node_conn *c = node_conn_find(n, id);
  if (c == NULL || c->cli == NULL) return false;
  *st = cdl_n2n_client_stats_get(c->cli);
  return true;
}

static uint64_t conn_deadline(const node_conn *c) {
  if (c->ended) return UINT64_MAX;
  uint64_t d = c->cli ? cdl_n2n_client_deadline(c->cli) : UINT64_MAX;
  uint64_t s = c->srv ? cdl_n2n_server_deadline(c->srv) : UINT64_MAX;
  return s < d ? s : d;
}

void node_conns_tick(cdl_node *n, uint64_t now_us) {
  for (size_t i = 0; i < n->n_conns; i++)
    if (conn_deadline(n->conns[i]) <= now_us) {
      poll_engine(n->conns[i], now_us);
      n->conns[i]->dirty = true;
    }
}

uint64_t node_conns_deadline(const cdl_node *n) {
  uint64_t d = UINT64_MAX;
  for (size_t i = 0; i < n->n_conns; i++) {
    uint64_t c = conn_deadline(n->conns[i]);
    if (c < d) d = c;
  }
  return d;
}
