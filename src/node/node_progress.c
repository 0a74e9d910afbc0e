/*
 * node_progress.c: the sync's story in the log (docs/node.md "Logs"):
 * while the tip is more than a few slots behind the best tip a peer
 * announces, a sync.progress line when that starts and then every 10
 * seconds (blocks per second over the interval, our tip slot against the
 * peer's, the time left at that rate), and sync.caught_up when it ends.
 * Checked at each adopted block and each slot, so in simulated time too.
 */
#include <inttypes.h>

#include "node_internal.h"

/* Slots the tip may trail the best peer's by and still count as
 * following, not syncing: the blocks of the last slots are in flight. */
#define BEHIND_SLOTS 5
#define PROGRESS_EVERY_US (10 * 1000000ull)

/* The highest tip the connections' clients heard announced. */
static bool best_peer_tip(const cdl_node *n, cdl_tip *best) {
  bool found = false;
  for (size_t i = 0; i < n->n_conns; i++) {
    if (n->conns[i]->cli == NULL)
      continue;
    cdl_tip t = cdl_n2n_client_stats_get(n->conns[i]->cli).peer_tip;
    if (t.point.origin)
      continue;
    if (!found || t.block_no > best->block_no)
      *best = t;
    found = true;
  }
  return found;
}

static double seconds(uint64_t us) { return (double)us / 1e6; }

static void log_progress(const cdl_node *n, const cdl_block_info *tip, const cdl_tip *peer) {
  const node_progress *p = &n->progress;
  uint64_t behind = peer->block_no > tip->block_no ? peer->block_no - tip->block_no : 0;
  double span = seconds(n->now_us - p->mark_us);
  double rate = span > 0 ? (double)(tip->block_no - p->mark_block) / span : 0;
  char pace[96] = "the sync begins"; /* the first line: no interval yet */
  if (span > 0 && rate > 0)
    snprintf(pace, sizeof pace, "%.1f blocks/s over %.1f s; time to catch up: %.0f s", rate, span,
             (double)behind / rate);
  else if (span > 0)
    snprintf(pace, sizeof pace, "no block in %.1f s; time to catch up: unknown", span);
  node_log(n, CDL_LOG_INFO, "sync.progress",
           "tip slot %" PRIu64 " (block %" PRIu64 ") against the best peer's slot %" PRIu64
           " (block %" PRIu64 "), %" PRIu64 " blocks behind; %s",
           tip->slot, tip->block_no, peer->point.slot, peer->block_no, behind, pace);
}

void node_progress_check(cdl_node *n) {
  cdl_tip peer;
  if (!best_peer_tip(n, &peer))
    return;
  cdl_block_info tip = {0};
  (void)cdl_chaindb_tip(n->db, &tip); /* an empty database: slot and block 0 */
  /* Block numbers too: a core node that is far behind still forges its
   * own slots on the tip it has (docs/node.md "Logs"), and such a block's
   * slot is near the peer's while its chain is hundreds of blocks short. */
  bool behind = peer.point.slot > tip.slot + BEHIND_SLOTS ||
                peer.block_no > tip.block_no + BEHIND_SLOTS;
  node_progress *p = &n->progress;
  if (!p->syncing) {
    if (!behind)
      return;
    *p = (node_progress){.syncing = true,
                         .since_us = n->now_us,
                         .since_block = tip.block_no,
                         .mark_us = n->now_us,
                         .mark_block = tip.block_no};
    return log_progress(n, &tip, &peer); /* the start: no rate yet */
  }
  if (!behind) {
    double span = seconds(n->now_us - p->since_us);
    uint64_t blocks = tip.block_no - p->since_block;
    char pace[48] = "at once"; /* in simulated time a sync can take no time */
    if (span > 0) snprintf(pace, sizeof pace, "in %.1f s (%.1f blocks/s)", span, blocks / span);
    node_log(n, CDL_LOG_INFO, "sync.caught_up",
             "tip slot %" PRIu64 " (block %" PRIu64 "), the best peer's slot %" PRIu64 ": %" PRIu64
             " blocks %s",
             tip.slot, tip.block_no, peer.point.slot, blocks, pace);
    p->syncing = false;
    return;
  }
  if (n->now_us - p->mark_us < PROGRESS_EVERY_US)
    return;
  log_progress(n, &tip, &peer);
  p->mark_us = n->now_us;
  p->mark_block = tip.block_no;
}
