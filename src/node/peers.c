/*
 * peers.c: the upstream peers a node keeps connections to (include/
 * cardinal/node.h "Peers"; docs/node.md "Peers"). Groups come from the
 * topology: a legacy `Producers` entry is a group of one address with its
 * valency; a `localRoots` entry a group of its access points with its
 * valency. The driver dials what cdl_peers_next_dial names and reports
 * each connection's start and end; this file keeps the backoff, the
 * suspensions and the reputation, and never does I/O.
 */
#include <stdio.h>
#include <string.h>

#include "node_internal.h"

#define BACKOFF_FIRST_US (1 * 1000000ull)
#define BACKOFF_MAX_US (60 * 1000000ull)
#define SUSPEND_US (200 * 1000000ull) /* the 2020 node's defaultDelay */
#define COST_FAILURE 10
#define COST_VIOLATION 100
#define COST_INVALID_BLOCK 1000
#define EARN_PER_MINUTE 1

void cdl_peers_init(cdl_peers *ps) { memset(ps, 0, sizeof *ps); }

int cdl_peers_add_group(cdl_peers *ps, size_t valency, size_t *group) {
  if (ps->n_groups == CDL_PEERS_MAX) return CDL_E_LIMIT;
  ps->valency[ps->n_groups] = valency;
  *group = ps->n_groups++;
  return CDL_OK;
}

int cdl_peers_add(cdl_peers *ps, size_t group, const char *host, uint16_t port) {
  if (ps->n == CDL_PEERS_MAX || group >= ps->n_groups) return CDL_E_LIMIT;
  if (strlen(host) >= CDL_PEER_HOST_MAX) return CDL_E_LIMIT;
  cdl_peer *p = &ps->peer[ps->n++];
  memset(p, 0, sizeof *p);
  snprintf(p->host, sizeof p->host, "%s", host);
  p->port = port;
  p->group = group;
  return CDL_OK;
}

static size_t busy_in_group(const cdl_peers *ps, size_t group) {
  size_t k = 0;
  for (size_t i = 0; i < ps->n; i++)
    k += ps->peer[i].group == group && ps->peer[i].state != CDL_PEER_IDLE;
  return k;
}

/* Better: a higher reputation, then a known and shorter round trip. */
static bool better(const cdl_peer *a, const cdl_peer *b) {
  if (a->reputation != b->reputation) return a->reputation > b->reputation;
  if ((a->rtt_us == 0) != (b->rtt_us == 0)) return a->rtt_us != 0;
  return a->rtt_us < b->rtt_us;
}

bool cdl_peers_next_dial(cdl_peers *ps, uint64_t now_us, size_t *out) {
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < ps->n; i++) {
    const cdl_peer *p = &ps->peer[i];
    if (p->state != CDL_PEER_IDLE || p->next_try_us > now_us) continue;
    if (busy_in_group(ps, p->group) >= ps->valency[p->group]) continue;
    if (best == SIZE_MAX || better(p, &ps->peer[best])) best = i;
  }
  if (best == SIZE_MAX) return false;
  *out = best;
  return true;
}

void cdl_peers_dialling(cdl_peers *ps, size_t i, uint64_t now_us) {
  (void)now_us;
  ps->peer[i].state = CDL_PEER_DIALLING;
}

void cdl_peers_up(cdl_peers *ps, size_t i, uint64_t now_us) {
  cdl_peer *p = &ps->peer[i];
  p->state = CDL_PEER_UP;
  p->up_since_us = now_us;
  p->connections++;
  /* Reachable: a drop from here waits the first backoff again, as the
   * P2P governor resets a peer's fail count once its connection is made
   * (docs/node.md "Backoff"). A flapping link is redialled in a second,
   * never shut out for the minute that lets two sides of a split grow
   * forks apart. */
  p->failures = 0;
}

static uint64_t backoff(uint32_t failures) {
  uint64_t d = BACKOFF_FIRST_US;
  for (uint32_t k = 1; k < failures && d < BACKOFF_MAX_US; k++) d *= 2;
  return d < BACKOFF_MAX_US ? d : BACKOFF_MAX_US;
}

void cdl_peers_down(cdl_peers *ps, size_t i, cdl_peer_end why, uint64_t now_us) {
  cdl_peer *p = &ps->peer[i];
  if (p->state == CDL_PEER_UP) {
    p->reputation += (int64_t)((now_us - p->up_since_us) / 60000000ull) * EARN_PER_MINUTE;
  }
  p->state = CDL_PEER_IDLE;
  p->suspended = why == CDL_PEER_END_VIOLATION || why == CDL_PEER_END_INVALID_BLOCK;
  if (p->suspended) {
    bool block = why == CDL_PEER_END_INVALID_BLOCK;
    p->reputation -= block ? COST_INVALID_BLOCK : COST_VIOLATION;
    p->violations += !block;
    p->invalid_blocks += block;
    p->next_try_us = now_us + SUSPEND_US;
    return;
  }
  if (why == CDL_PEER_END_IO) p->reputation -= COST_FAILURE;
  p->failures++;
  p->next_try_us = now_us + backoff(p->failures);
}

void cdl_peers_rtt(cdl_peers *ps, size_t i, uint64_t rtt_us) {
  cdl_peer *p = &ps->peer[i];
  p->rtt_us = p->rtt_us == 0 ? rtt_us : (p->rtt_us * 7 + rtt_us) / 8;
}

uint64_t cdl_peers_deadline(const cdl_peers *ps) {
  uint64_t d = UINT64_MAX;
  for (size_t i = 0; i < ps->n; i++) {
    const cdl_peer *p = &ps->peer[i];
    bool room = busy_in_group(ps, p->group) < ps->valency[p->group];
    if (p->state == CDL_PEER_IDLE && room && p->next_try_us < d) d = p->next_try_us;
  }
  return d;
}

const char *cdl_peer_state_name(const cdl_peer *p, uint64_t now_us) {
  if (p->state == CDL_PEER_UP) return "up";
  if (p->state == CDL_PEER_DIALLING) return "dialling";
  if (p->next_try_us > now_us) return p->suspended ? "suspended" : "backoff";
  return "idle";
}

/* An engine's error is the peer's doing (a violation, a limit, a time
 * limit, bytes that do not decode) unless it is our own socket, disk or
 * memory failing. */
cdl_peer_end cdl_peer_end_of(int rc) {
  if (rc == CDL_OK) return CDL_PEER_END_CLEAN;
  if (rc == CDL_E_REJECTED) return CDL_PEER_END_INVALID_BLOCK;
  if (rc == CDL_E_IO || rc == CDL_E_NOMEM || rc == CDL_E_USAGE || rc == CDL_E_LOCKED ||
      rc == CDL_E_CHECKSUM)
    return CDL_PEER_END_IO;
  return CDL_PEER_END_VIOLATION;
}
