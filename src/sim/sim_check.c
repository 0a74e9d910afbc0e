/*
 * sim_check.c: the checker (docs/simulation.md "Properties"), apart from
 * the nodes: it reads their ChainDBs and counts what the signing hook
 * saw, and judges each run by the properties ouroboros-consensus's
 * ThreadNet tests check (common prefix, chain growth, the allowed "cannot
 * forge" outcomes), plus durability and resources:
 *  - common prefix: honest chains share every block but their last k;
 *    no honest node rolls back more than k;
 *  - convergence: from the last fault's end plus the settling time on,
 *    they agree so at every slot;
 *  - chain growth: every window of slots clear of faults holds blocks;
 *  - no invalid block adopted: no block an adversary broke is on an
 *    honest chain, and no key signs more than the PBFT threshold's share
 *    of any k consecutive blocks there (counted here, not by the ledger);
 *  - no double sign: a key only one honest node holds signs one block per
 *    slot, whatever crashes and lost disks;
 *  - txs once: each payment an honest node took is on every honest chain;
 *  - durability: a database opens after any crash, to its tip at a crash
 *    the OS survived and to nothing newer after power loss; every node
 *    closes and reopens to the same tip at the end;
 *  - resources: no file handle left open;
 *  - forge reasons: an honest core never has its own block refused, and
 *    refuses a slot for its record only after losing its database, fails
 *    to write its record only when its disk was made to fail.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Honest nodes that are up. */
static bool judged(const sim *s, size_t i) { return s->n[i].honest && s->n[i].up; }

static uint64_t tip_no(const sim *s, size_t i, bool *has) {
  cdl_block_info tip;
  *has = cdl_chaindb_tip(s->n[i].db, &tip);
  return *has ? tip.block_no : 0;
}

/* Whether the honest chains share all but their last k blocks: the
 * shortest reaches k below the longest, and all hold the same block
 * there (the hash chain gives the rest). */
static bool honest_agree(const sim *s, uint64_t *common) {
  uint64_t low = UINT64_MAX, high = 0;
  size_t first = SIZE_MAX;
  for (size_t i = 0; i < s->n_nodes; i++) {
    if (!judged(s, i))
      continue;
    bool has;
    uint64_t t = tip_no(s, i, &has);
    low = t < low ? t : low, high = t > high ? t : high;
    if (first == SIZE_MAX)
      first = i;
  }
  *common = 0;
  if (first == SIZE_MAX)
    return true;
  if (high <= s->sc->k)
    return true;
  uint64_t at = high - s->sc->k;
  if (low < at)
    return false;
  cdl_block_info a, b;
  cdl_error err = {0};
  if (cdl_chaindb_find_block_no(s->n[first].db, at, &a, &err) != CDL_OK)
    return false;
  for (size_t i = first + 1; i < s->n_nodes; i++)
    if (judged(s, i) && (cdl_chaindb_find_block_no(s->n[i].db, at, &b, &err) != CDL_OK ||
                         memcmp(a.hash, b.hash, 32) != 0))
      return false;
  *common = at;
  return true;
}

static uint64_t settle_slots(const sim *s) {
  return s->sc->settle_slots ? s->sc->settle_slots : 4 * s->sc->k;
}

void sim_check_slot(sim *s, uint64_t slot) {
  uint64_t common;
  bool agree = honest_agree(s, &common);
  if (agree && !s->agree)
    s->agree_since_slot = slot;
  s->agree = agree;
  uint64_t due = sim_slot_of(s, s->last_fault_end_us) + settle_slots(s);
  if (!agree && slot >= due)
    sim_violation(s, CDL_SIM_PROP_CONVERGENCE, slot,
                  "honest chains still differ beyond k blocks %llu slots after the last "
                  "fault",
                  (unsigned long long)(slot - sim_slot_of(s, s->last_fault_end_us)));
}

void sim_check_reopen(sim *s, size_t i, const cdl_chaindb_report *rep) {
  (void)rep;
  sim_node *n = &s->n[i];
  if (n->restarts == 0 || !n->crash_had_tip)
    return;
  cdl_block_info tip;
  bool has = cdl_chaindb_tip(n->db, &tip);
  uint64_t slot = sim_slot_of(s, s->now);
  uint64_t now_no = has ? tip.block_no : 0;
  if (n->crash_tip.block_no > now_no)
    n->lost_blocks += n->crash_tip.block_no - now_no;
  if (n->crash_keeps_tip && (!has || memcmp(tip.hash, n->crash_tip.hash, 32) != 0))
    sim_violation(s, CDL_SIM_PROP_DURABILITY, slot,
                  "%s: reopened at block %llu after a process crash at block %llu", n->name,
                  has ? (unsigned long long)tip.block_no : 0ull,
                  (unsigned long long)n->crash_tip.block_no);
  if (has && tip.block_no > n->crash_tip.block_no)
    sim_violation(s, CDL_SIM_PROP_DURABILITY, slot,
                  "%s: reopened at block %llu, newer than its block %llu at the crash", n->name,
                  (unsigned long long)tip.block_no, (unsigned long long)n->crash_tip.block_no);
  if (has && n->crash_damage == CDL_SIM_DAMAGE_WIPE)
    sim_violation(s, CDL_SIM_PROP_DURABILITY, slot, "%s: a wiped database reopened with blocks",
                  n->name);
}

/* ---- Signatures ---- */

static int by_hash(const void *a, const void *b) {
  return memcmp(((const sim_signed *)a)->hash, ((const sim_signed *)b)->hash, 32);
}

static int by_key_slot(const void *a, const void *b) {
  const sim_signed *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  if (x->slot != y->slot)
    return x->slot < y->slot ? -1 : 1;
  return memcmp(x->hash, y->hash, 32);
}

/* How many cores hold key |key|, and whether all of them are honest. */
static size_t holders(const sim *s, uint32_t key, bool *honest) {
  size_t count = 0;
  *honest = true;
  for (size_t i = 0; i < s->n_nodes; i++)
    if (s->n[i].spec->role == CDL_SIM_CORE && s->n[i].key == key)
      count++, *honest &= s->n[i].honest;
  return count;
}

static void check_signatures(sim *s) {
  qsort(s->signed_, s->n_signed, sizeof *s->signed_, by_key_slot);
  for (size_t i = 1; i < s->n_signed; i++) {
    const sim_signed *a = &s->signed_[i - 1], *b = &s->signed_[i];
    if (a->key != b->key || a->slot != b->slot || memcmp(a->hash, b->hash, 32) == 0)
      continue;
    s->rep->equivocations++;
    bool honest;
    if (holders(s, a->key, &honest) == 1 && honest)
      sim_violation(s, CDL_SIM_PROP_NO_DOUBLE_SIGN, a->slot,
                    "%s signed two different blocks for slot %llu", s->n[a->node].name,
                    (unsigned long long)a->slot);
  }
  qsort(s->signed_, s->n_signed, sizeof *s->signed_, by_hash);
}

static const sim_signed *signer_of(const sim *s, const uint8_t hash[32]) {
  sim_signed probe;
  memcpy(probe.hash, hash, 32);
  return bsearch(&probe, s->signed_, s->n_signed, sizeof *s->signed_, by_hash);
}

/* ---- The final chains ---- */

/* What a walk of one final chain finds. */
typedef struct chain_walk {
  uint64_t *slots; /* main blocks' slots, in order */
  size_t n, cap;
} chain_walk;

/* A main block of node |i|'s final chain: not broken on purpose, and its
 * key within the threshold over the last k main blocks (|win| the keys of
 * those blocks, a ring; |counts| per key). */
static void judge_block(sim *s, size_t i, const cdl_block_info *b, uint32_t *win, size_t n_main,
                        uint32_t *counts) {
  const sim_signed *g = signer_of(s, b->hash);
  uint64_t limit = (uint64_t)((double)s->sc->k * s->threshold + 1e-9);
  if (g == NULL) {
    sim_violation(s, CDL_SIM_PROP_NO_INVALID_ADOPTED, b->slot,
                  "%s: block %llu on its chain was signed by no node", s->n[i].name,
                  (unsigned long long)b->block_no);
    return;
  }
  if (g->invalid)
    sim_violation(s, CDL_SIM_PROP_NO_INVALID_ADOPTED, b->slot,
                  "%s adopted block %llu, whose signature %s broke", s->n[i].name,
                  (unsigned long long)b->block_no, s->n[g->node].name);
  size_t at = n_main % s->sc->k;
  if (n_main >= s->sc->k)
    counts[win[at]]--;
  win[at] = g->key;
  if (++counts[g->key] > limit)
    sim_violation(s, CDL_SIM_PROP_NO_INVALID_ADOPTED, b->slot,
                  "%s adopted block %llu: key %u signed %u of the last %llu "
                  "blocks, past the "
                  "threshold's %llu",
                  s->n[i].name, (unsigned long long)b->block_no, g->key, counts[g->key],
                  (unsigned long long)s->sc->k, (unsigned long long)limit);
}

static int walk_chain(sim *s, size_t i, chain_walk *w) {
  cdl_follower *f;
  cdl_error err = {0};
  CDL_TRY(cdl_follower_new_reader(s->n[i].db, &f, &err));
  uint32_t *win = calloc(s->sc->k, sizeof *win), *counts = calloc(s->n_keys + 1, sizeof *counts);
  int rc = win && counts ? CDL_OK : CDL_E_NOMEM;
  for (size_t n_main = 0; rc == CDL_OK;) {
    cdl_follow_kind kind;
    cdl_block_info b;
    cdl_point to;
    rc = cdl_follower_next(f, &kind, &b, &to, NULL, &err);
    if (rc != CDL_OK || kind != CDL_FOLLOW_FORWARD)
      break;
    if (b.is_ebb)
      continue;
    judge_block(s, i, &b, win, n_main++, counts);
    if (w == NULL)
      continue;
    if (w->n == w->cap) {
      w->cap = w->cap ? 2 * w->cap : 256;
      uint64_t *grown = realloc(w->slots, w->cap * sizeof *grown);
      if (grown == NULL)
        rc = CDL_E_NOMEM;
      else
        w->slots = grown;
    }
    if (rc == CDL_OK)
      w->slots[w->n++] = b.slot;
  }
  free(win), free(counts);
  cdl_follower_del(f);
  return rc;
}

/* Whether slots [a, b) are clear of every fault and its recovery (k
 * slots after it). */
static bool clear_of_faults(const sim *s, uint64_t a, uint64_t b) {
  for (size_t i = 0; i < s->sc->n_faults; i++) {
    const cdl_sim_fault *f = &s->sc->fault[i];
    uint64_t end = f->b > f->a ? f->b : f->a + 1;
    if (a < end + s->sc->k && f->a < b)
      return false;
  }
  for (size_t i = 0; i < s->n_nodes; i++)
    if (s->n[i].spec->join_slot > a)
      return false; /* before everyone is in */
  return true;
}

/* Whether the honest leaders of every slot in [a, b) were forbidden to
 * sign: the PBFT threshold can stall honest nodes left on forks of equal
 * length where each one's own key has its share (ThreadNet allows this
 * "cannot forge" outcome too); a stall, not a fault of the node. */
static bool pbft_stalled(const sim *s, uint64_t a, uint64_t b) {
  size_t forbidden = 0;
  for (uint64_t slot = a; slot < b; slot++)
    forbidden += s->forbidden[slot];
  return forbidden > 0 && forbidden >= (b - a) * (s->n_keys - 1) / s->n_keys / 2;
}

static void check_growth(sim *s, const chain_walk *w) {
  uint64_t win = s->sc->growth_window ? s->sc->growth_window : 2 * s->n_keys;
  uint64_t min = s->sc->growth_min ? s->sc->growth_min : 1;
  size_t next = 0;
  for (uint64_t a = 0; a + win <= s->sc->slots; a += win) {
    size_t count = 0;
    while (next < w->n && w->slots[next] < a)
      next++;
    for (size_t j = next; j < w->n && w->slots[j] < a + win; j++)
      count++;
    if (count < min && clear_of_faults(s, a, a + win) && !pbft_stalled(s, a, a + win))
      sim_violation(s, CDL_SIM_PROP_CHAIN_GROWTH, a,
                    "%zu blocks in slots %llu-%llu, fewer than %llu", count, (unsigned long long)a,
                    (unsigned long long)(a + win - 1), (unsigned long long)min);
  }
}

static void check_chains(sim *s) {
  bool first = true;
  for (size_t i = 0; i < s->n_nodes; i++) {
    if (!judged(s, i))
      continue;
    chain_walk w = {0};
    if (walk_chain(s, i, first ? &w : NULL) != CDL_OK)
      sim_fail(s, CDL_E_NOMEM, "%s: its chain could not be walked", s->n[i].name);
    if (first) {
      check_growth(s, &w);
      s->rep->main_blocks = w.n;
    }
    free(w.slots);
    first = false;
  }
}

static void check_txs(sim *s) {
  for (size_t k = 0; k < s->n_txs; k++) {
    if (!s->txs[k].submitted)
      continue;
    bool everywhere = true;
    uint64_t lovelace;
    for (size_t i = 0; i < s->n_nodes; i++)
      if (judged(s, i))
        everywhere &=
            cdl_ledger_utxo_get(cdl_chaindb_ledger(s->n[i].db), s->txs[k].id, 0, &lovelace);
    s->rep->txs_included += everywhere;
    if (!everywhere)
      sim_violation(s, CDL_SIM_PROP_TXS_ONCE, sim_slot_of(s, s->txs[k].at),
                    "payment %zu (submitted to %s) is not on every honest chain", k,
                    s->n[s->txs[k].node].name);
  }
}

/* Whether the scenario made node |i|'s disk fail (full, no descriptors). */
static bool disk_faulted(const sim *s, size_t i) {
  for (size_t k = 0; k < s->sc->n_faults; k++) {
    const cdl_sim_fault *f = &s->sc->fault[k];
    if ((f->kind == CDL_SIM_DISK_FULL || f->kind == CDL_SIM_DESCRIPTORS) && f->node == i)
      return true;
  }
  return false;
}

/* Whether node |i| lost what it had written (its database or record). */
static bool lost_data(const sim *s, size_t i) {
  for (size_t k = 0; k < s->sc->n_faults; k++) {
    const cdl_sim_fault *f = &s->sc->fault[k];
    if (f->kind == CDL_SIM_CRASH && f->node == i && f->damage != CDL_SIM_DAMAGE_NONE)
      return true;
  }
  return false;
}

static void check_forge_reasons(sim *s, size_t i, const cdl_node_stats *st) {
  const sim_node *n = &s->n[i];
  uint64_t slot = sim_slot_of(s, s->now);
  if (!n->honest || n->spec->role != CDL_SIM_CORE)
    return;
  if (st->own_refused > 0)
    sim_violation(s, CDL_SIM_PROP_FORGE_REASONS, slot,
                  "%s: %llu blocks of its own were refused by its ChainDB", n->name,
                  (unsigned long long)st->own_refused);
  if (st->double_sign_refused > 0 && !lost_data(s, i))
    sim_violation(s, CDL_SIM_PROP_FORGE_REASONS, slot,
                  "%s: its record refused %llu slots though it lost nothing", n->name,
                  (unsigned long long)st->double_sign_refused);
  if (st->record_failures > 0 && !disk_faulted(s, i))
    sim_violation(s, CDL_SIM_PROP_FORGE_REASONS, slot,
                  "%s: %llu record writes failed on a sound disk", n->name,
                  (unsigned long long)st->record_failures);
}

static void report_node(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  cdl_sim_node_report *r = &s->rep->node[i];
  cdl_node_stats st;
  sim_node_stats(s, i, &st);
  snprintf(r->name, sizeof r->name, "%.*s", (int)sizeof r->name - 1, n->name);
  r->honest = n->honest;
  if (n->up)
    r->has_tip = cdl_chaindb_tip(n->db, &r->tip);
  r->forged = st.forged, r->ebbs_forged = st.ebbs_forged, r->adopted = st.blocks_adopted;
  r->invalid_received = st.invalid_blocks, r->forge_skipped = st.forge_skipped;
  r->double_sign_refused = st.double_sign_refused, r->record_failures = st.record_failures;
  r->own_refused = st.own_refused, r->rollbacks = st.rollbacks, r->rollback_max = st.rollback_max;
  r->restarts = n->restarts, r->dials = n->dials, r->connections = n->connections;
  r->txs_submitted = n->txs_submitted;
  r->lost_blocks = n->lost_blocks;
  if (n->up) {
    const cdl_peers *ps = cdl_node_peers(n->node);
    for (size_t k = 0; k < ps->n; k++)
      r->suspended += ps->peer[k].violations + ps->peer[k].invalid_blocks > 0;
  }
  sim_disk_stats ds;
  sim_disk_stats_get(n->disk, &ds);
  r->fs_refused = ds.refused_full + ds.refused_descriptors;
  check_forge_reasons(s, i, &st);
  if (n->honest && st.rollback_max > s->sc->k)
    sim_violation(s, CDL_SIM_PROP_COMMON_PREFIX, sim_slot_of(s, s->now),
                  "%s rolled back %llu blocks, more than k", n->name,
                  (unsigned long long)st.rollback_max);
}

/* Every node that is up closes in order and reopens: the same tip. Then
 * no handle may be left open on any disk. */
static void check_close_reopen(sim *s) {
  for (size_t i = 0; i < s->n_nodes; i++) {
    sim_node *n = &s->n[i];
    if (!n->up)
      continue;
    cdl_block_info before, after;
    bool had = cdl_chaindb_tip(n->db, &before);
    cdl_node_del(n->node);
    if (n->forger.record != NULL)
      cdl_sign_record_close(n->forger.record);
    n->node = NULL, n->forger.record = NULL, n->up = false;
    cdl_error err = {0};
    int rc = cdl_chaindb_close(n->db, &err);
    n->db = NULL;
    if (rc == CDL_OK && !n->honest)
      continue;
    if (rc != CDL_OK)
      sim_violation(s, CDL_SIM_PROP_DURABILITY, s->sc->slots, "%s: close failed: %s", n->name,
                    err.message);
    n->restarts = 0; /* a reopen to compare, not a crash */
    sim_node_restart(s, i);
    if (!n->up)
      continue;
    bool has = cdl_chaindb_tip(n->db, &after);
    if (has != had || (has && memcmp(before.hash, after.hash, 32) != 0))
      sim_violation(s, CDL_SIM_PROP_DURABILITY, s->sc->slots,
                    "%s: closed at block %llu, reopened at block %llu", n->name,
                    had ? (unsigned long long)before.block_no : 0ull,
                    has ? (unsigned long long)after.block_no : 0ull);
    cdl_node_del(n->node);
    if (n->forger.record != NULL)
      cdl_sign_record_close(n->forger.record);
    cdl_chaindb_close(n->db, &err);
    n->node = NULL, n->db = NULL, n->forger.record = NULL, n->up = false;
  }
  for (size_t i = 0; i < s->n_nodes; i++)
    if (sim_disk_open_handles(s->n[i].disk) != 0)
      sim_violation(s, CDL_SIM_PROP_RESOURCES, s->sc->slots, "%s: %zu file handles left open",
                    s->n[i].name, sim_disk_open_handles(s->n[i].disk));
}

void sim_check_final(sim *s) {
  check_signatures(s);
  uint64_t common;
  if (!honest_agree(s, &common))
    sim_violation(s, CDL_SIM_PROP_COMMON_PREFIX, s->sc->slots,
                  "at the end, honest chains differ beyond their last k blocks");
  s->rep->common_block_no = common;
  s->rep->convergence_slot = s->agree ? s->agree_since_slot : 0;
  check_chains(s);
  check_txs(s);
  s->rep->n_nodes = s->n_nodes;
  for (size_t i = 0; i < s->n_nodes; i++)
    report_node(s, i);
  check_close_reopen(s);
}
