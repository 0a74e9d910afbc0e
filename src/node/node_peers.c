/*
 * node_peers.c: peer selection inside the kernel (include/cardinal/node.h
 * "Peer selection"; docs/node.md "Peers"). The peer set (peers.c) keeps
 * the backoff, suspensions and reputation; here the kernel turns its
 * connections' lives into the peer set's events: a dial named, a dial
 * that connected or failed, a connection's end judged by what the kernel
 * saw on it, and the keep-alive round trips its clients measure. Because
 * it lives in the kernel, the deterministic simulator (tests/node) runs
 * the same peer selection as the node, in simulated time.
 */
#include <string.h>

#include "node_internal.h"

static bool adopt_inbound(cdl_node *n, size_t peer, uint64_t now_us);

bool cdl_node_next_dial(cdl_node *n, uint64_t now_us, size_t *peer, const cdl_peer **addr) {
  n->now_us = now_us;
  while (!n->failed && cdl_peers_next_dial(&n->peers, now_us, peer)) {
    cdl_peers_dialling(&n->peers, *peer, now_us);
    if (adopt_inbound(n, *peer, now_us)) continue; /* it came to us meanwhile */
    *addr = &n->peers.peer[*peer];
    return true;
  }
  return false;
}

int cdl_node_dialled(cdl_node *n, size_t peer, uint64_t now_us, cdl_node_conn_id *id,
                     cdl_error *err) {
  if (peer >= n->peers.n || n->peers.peer[peer].state != CDL_PEER_DIALLING)
    return cdl_error_set(err, CDL_E_USAGE, 0, "node: peer %zu is not being dialled", peer);
  int rc = node_conn_open(n, CDL_NODE_OUTBOUND, peer, now_us, id, err);
  if (rc != CDL_OK) {
    cdl_peers_down(&n->peers, peer, CDL_PEER_END_IO, now_us);
    return rc;
  }
  cdl_peers_up(&n->peers, peer, now_us);
  node_log(n, CDL_LOG_DEBUG, "peer.up", "%s:%u, connection %u", n->peers.peer[peer].host,
           n->peers.peer[peer].port, (unsigned)*id);
  return CDL_OK;
}

void cdl_node_dial_failed(cdl_node *n, size_t peer, uint64_t now_us) {
  n->now_us = now_us;
  if (peer >= n->peers.n || n->peers.peer[peer].state != CDL_PEER_DIALLING) return;
  /* Two nodes that dial each other at once: the second connection's
   * addresses are the first one's, so its dial fails; the first one,
   * inbound here, is the peer's. */
  if (adopt_inbound(n, peer, now_us)) return;
  cdl_peers_down(&n->peers, peer, CDL_PEER_END_IO, now_us);
}

const cdl_peers *cdl_node_peers(const cdl_node *n) { return &n->peers; }

/* What ended the connection: the kernel's own verdict when it ended it
 * (a violation, an invalid block; none of the peer's doing when our disk
 * failed), else what the driver saw of the socket. */
static cdl_peer_end verdict(const cdl_node *n, const node_conn *c, cdl_peer_end socket_end) {
  if (!c->ended) return socket_end;
  if (n->failed) return CDL_PEER_END_CLEAN;
  return cdl_peer_end_of(c->rc);
}

/* Full duplex (docs/node.md "Full duplex"): a connection that came in
 * from the address of an upstream peer we are not connected to is that
 * peer; it is reserved for it (as if being dialled) until its handshake
 * says whether both directions were agreed. Two nodes that list each
 * other then share the connection the first one dialled. */
void node_peers_inbound(cdl_node *n, node_conn *c) {
  if (n->cfg.n2n.data.initiator_only || c->cli != NULL) return;
  for (size_t i = 0; i < n->peers.n; i++) {
    cdl_peer *p = &n->peers.peer[i];
    if (p->state != CDL_PEER_IDLE || p->port != c->remote_port || strcmp(p->host, c->remote_host))
      continue;
    p->state = CDL_PEER_DIALLING;
    c->peer = i;
    c->peer_pending = true;
    return;
  }
}

/* An inbound connection from |peer|'s address that is nobody's yet,
 * taken for |peer| (being dialled): at once when its handshake is done,
 * else when it is. False when there is none (or it cannot be taken). */
static bool adopt_inbound(cdl_node *n, size_t peer, uint64_t now_us) {
  const cdl_peer *p = &n->peers.peer[peer];
  if (n->cfg.n2n.data.initiator_only) return false;
  for (size_t i = 0; i < n->n_conns; i++) {
    node_conn *c = n->conns[i];
    if (c->kind != CDL_NODE_INBOUND || c->cli || c->ended || c->peer != SIZE_MAX ||
        c->remote_port != p->port || strcmp(c->remote_host, p->host) != 0)
      continue;
    c->peer = peer;
    c->peer_pending = true;
    cdl_error err = {0};
    int rc = node_peers_handshake_done(n, c, now_us, &err);
    if (rc == CDL_OK && c->peer == peer) return true; /* still reserved, or taken */
    n->peers.peer[peer].state = CDL_PEER_DIALLING;    /* not for us: dial after all */
    return false;
  }
  return false;
}

/* The reservation ends without a connection: the peer is free to dial,
 * and nothing is held against it. */
static void unreserve(cdl_node *n, node_conn *c) {
  n->peers.peer[c->peer].state = CDL_PEER_IDLE;
  c->peer = SIZE_MAX;
  c->peer_pending = false;
}

int node_peers_handshake_done(cdl_node *n, node_conn *c, uint64_t now_us, cdl_error *err) {
  bool refused = cdl_n2n_server_finished(c->srv);
  if (!refused && !cdl_n2n_server_ready(c->srv)) return CDL_OK;
  if (refused || !cdl_n2n_server_duplex(c->srv)) {
    unreserve(n, c);
    return CDL_OK;
  }
  size_t peer = c->peer;
  int rc = node_conn_attach_client(n, c, now_us, err);
  if (rc != CDL_OK) {
    unreserve(n, c);
    return rc;
  }
  c->peer_pending = false;
  cdl_peers_up(&n->peers, peer, now_us);
  node_log(n, CDL_LOG_INFO, "peer.duplex", "%s:%u: its connection to us carries ours too",
           n->peers.peer[peer].host, n->peers.peer[peer].port);
  return CDL_OK;
}

void node_peers_conn_closed(cdl_node *n, node_conn *c, cdl_peer_end socket_end,
                            uint64_t now_us) {
  if (c->peer == SIZE_MAX) return;
  if (c->peer_pending) return unreserve(n, c);
  cdl_peer_end why = verdict(n, c, socket_end);
  cdl_peers_down(&n->peers, c->peer, why, now_us);
  const cdl_peer *p = &n->peers.peer[c->peer];
  node_log(n, why == CDL_PEER_END_CLEAN || why == CDL_PEER_END_IO ? CDL_LOG_INFO : CDL_LOG_WARN,
           why == CDL_PEER_END_VIOLATION || why == CDL_PEER_END_INVALID_BLOCK ? "peer.suspended"
                                                                              : "peer.down",
           "%s:%u: may be dialled again in %llu ms", p->host, p->port,
           (unsigned long long)((p->next_try_us - now_us) / 1000));
}

void node_peers_tick(cdl_node *n) {
  for (size_t i = 0; i < n->n_conns; i++) {
    node_conn *c = n->conns[i];
    if (c->peer == SIZE_MAX || c->cli == NULL || c->ended) continue;
    cdl_n2n_client_stats st = cdl_n2n_client_stats_get(c->cli);
    if (st.ka_rtt_samples == c->rtt_samples || st.ka_rtt_us == 0) continue;
    c->rtt_samples = st.ka_rtt_samples;
    cdl_peers_rtt(&n->peers, c->peer, st.ka_rtt_us);
  }
}
