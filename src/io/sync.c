/*
 * sync.c: syncing from one peer (include/cardinal/io.h "Syncing from one
 * peer"; docs/network.md "Syncing"): not a driver of its own but a node
 * kernel configuration on the one driver (node_run.c) — one upstream
 * peer, initiator only, no listener, no forger — that stops once the
 * kernel's client is synced with the peer, or when the connection (or
 * its dial) ends, which is the sync's failure rather than a reason to
 * dial again.
 */
#include <string.h>

#include "cardinal/io.h"

/* What the run learns: how the connection to the peer ended, if it did. */
typedef struct sync_run {
  const cdl_io_sync_config *cfg;
  bool ended;
  int rc;
  cdl_error err;
} sync_run;

static void on_upstream_end(void *ctx, size_t peer, int rc, const char *why) {
  (void)peer;
  sync_run *s = ctx;
  if (s->ended) return;
  s->ended = true;
  s->rc = rc == CDL_OK ? CDL_E_IO : rc;
  /* A write into a closed connection fails with EPIPE or a reset: said as
   * what it is, like a read of the end. */
  if (rc == CDL_OK || strstr(why, "broken pipe") || strstr(why, "reset by peer"))
    cdl_error_set(&s->err, CDL_E_IO, 0, "the peer closed the connection (%s)", why);
  else if (rc == CDL_E_IO)
    cdl_error_set(&s->err, CDL_E_IO, 0, "%s:%u: %s", s->cfg->host, s->cfg->port, why);
  else
    cdl_error_set(&s->err, rc, 0, "%s", why);
}

/* Synced with the peer (unless following it), or the peer is gone. */
static bool sync_done(void *ctx, cdl_node *node, int *rc, cdl_error *err) {
  sync_run *s = ctx;
  if (s->ended) {
    *rc = s->rc;
    *err = s->err;
    return true;
  }
  cdl_node_stats st;
  cdl_node_stats_get(node, &st);
  if (s->cfg->follow || st.upstream_synced == 0) return false;
  *rc = CDL_OK;
  return true;
}

static int run(const cdl_io_sync_config *cfg, cdl_node *node, cdl_error *err) {
  sync_run s = {.cfg = cfg};
  cdl_io_node_config io = {.node = node,
                           .db = cfg->db,
                           .log = cfg->log,
                           .done = sync_done,
                           .upstream_ended = on_upstream_end,
                           .ctx = &s};
  return cdl_io_node_run(&io, err);
}

int cdl_io_sync(const cdl_io_sync_config *cfg, cdl_node_stats *stats, cdl_rejection *rej,
                cdl_error *err) {
  cdl_peers peers;
  size_t group;
  cdl_peers_init(&peers);
  CDL_TRY(cdl_peers_add_group(&peers, 1, &group));
  if (cdl_peers_add(&peers, group, cfg->host, cfg->port) != CDL_OK)
    return cdl_error_set(err, CDL_E_USAGE, 0, "sync: bad peer address %s", cfg->host);
  uint32_t magic = cfg->genesis->protocol_magic;
  cdl_node_config nc = {.db = cfg->db,
                        .genesis = cfg->genesis,
                        .n2n = cdl_hs_node_to_node(magic, true),
                        .n2c = cdl_hs_node_to_client(magic),
                        .pipeline = cfg->pipeline,
                        .threads = cfg->threads,
                        .carry_us = CDL_IO_CARRY_US,
                        .fetch_batch = cfg->fetch_batch,
                        .peers = &peers,
                        .log = cfg->log,
                        .name = "sync"};
  cdl_node *node = NULL;
  CDL_TRY(cdl_node_new(&nc, cdl_io_wall_us(), &node, err));
  int rc = run(cfg, node, err);
  if (stats) cdl_node_stats_get(node, stats);
  if (rej && !(rc == CDL_E_REJECTED && cdl_node_last_rejection(node, rej))) rej->rule = NULL;
  cdl_node_del(node);
  return rc;
}
