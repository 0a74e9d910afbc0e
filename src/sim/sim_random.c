/*
 * sim_random.c: the sweep's scenarios (docs/simulation.md "The sweep"):
 * from one seed, a small network (3 to 5 cores, up to 2 relays, one of
 * six topologies, its delays) with a random mix of every kind of fault
 * and at most one adversary, all faults over by the time the run leaves
 * room for the honest nodes to converge and grow, so that any property
 * that fails is a finding, not the scenario's doing. Each scenario is one
 * a scenario file can say (cardinal-sim --print-scenario writes it), so
 * that a failing seed becomes a case of its own.
 */
#include <stdio.h>
#include <string.h>

#include "cardinal/gen.h"
#include "cardinal/sim.h"
#include "sim_scenario_forms.h"

static uint64_t pick(cdl_gen_rng *r, uint64_t lo, uint64_t hi) {
  return lo + cdl_gen_rng_below(r, hi - lo + 1);
}

/* Whether a node down cuts the network in two (a line, a star's centre,
 * a relay in front of cores): being down long then is a partition. */
static bool has_cut_vertex(const cdl_sim_scenario *s) {
  return s->topology == CDL_SIM_LINE || s->topology == CDL_SIM_STAR ||
         s->topology == CDL_SIM_RELAYS;
}

/* A window [a, b) of slots inside the faults' part of the run. */
static void window(cdl_gen_rng *r, uint64_t last, uint64_t *a, uint64_t *b) {
  *a = pick(r, 2, last - 4);
  *b = *a + pick(r, 1, last - *a < 40 ? last - *a : 40);
}

static void random_fault(cdl_gen_rng *r, const cdl_sim_scenario *s, uint64_t last,
                         cdl_sim_fault *f) {
  memset(f, 0, sizeof *f);
  f->kind = (cdl_sim_fault_kind)cdl_gen_rng_below(r, CDL_SIM_DROP + 1);
  f->node = (size_t)cdl_gen_rng_below(r, s->n_nodes);
  f->other = (f->node + 1 + (size_t)cdl_gen_rng_below(r, s->n_nodes - 1)) % s->n_nodes;
  window(r, last, &f->a, &f->b);
  f->at_ms = (uint32_t)cdl_gen_rng_below(r, s->slot_ms);
  /* A cut longer than about k/2 slots (redials back off for as long
   * again) lets both sides grow forks past k, which PBFT cannot join:
   * not a finding. */
  uint64_t cut = s->k / 2 > 1 ? s->k / 2 : 1;
  bool cuts = f->kind == CDL_SIM_PARTITION || f->kind == CDL_SIM_LINK_DOWN ||
              (has_cut_vertex(s) && f->kind != CDL_SIM_DROP);
  if (cuts && f->b - f->a > cut)
    f->b = f->a + cut;
  switch (f->kind) {
  case CDL_SIM_PARTITION:
    for (size_t i = 0; i < s->n_nodes; i++)
      f->group[i] = (uint8_t)cdl_gen_rng_below(r, 2);
    /* None in group 1 cuts nothing, as all in group 1 does, which a file
     * can say (it has no empty group). */
    if (memchr(f->group, 1, s->n_nodes) == NULL)
      memset(f->group, 1, s->n_nodes);
    break;
  case CDL_SIM_CRASH:
    f->damage = (cdl_sim_disk_damage)cdl_gen_rng_below(r, CDL_SIM_DAMAGE_WIPE + 1);
    if (cdl_gen_rng_below(r, 3) == 0)
      f->b = 0; /* restarted at once */
    break;
  case CDL_SIM_DISK_FULL:
    f->bytes = pick(r, 0, 64 * 1024);
    break;
  case CDL_SIM_DESCRIPTORS:
    f->count = (size_t)pick(r, 1, 8);
    break;
  case CDL_SIM_DROP:
    f->rate = (double)pick(r, 1, 20) / 100;
    break;
  default:
    break;
  }
  /* Only the fields of its kind (sim_fault_forms), as a file has them: a
   * window starts at the start of its first slot, a disconnect has no end.
   * Drawn all the same, so that each seed draws what it always drew. */
  const sim_fault_form *form = &sim_fault_forms[f->kind];
  if (form->window)
    f->at_ms = 0;
  else if (f->kind == CDL_SIM_DISCONNECT)
    f->b = 0;
  if (form->node_key == NULL)
    f->node = 0;
  if (f->kind != CDL_SIM_LINK_DOWN)
    f->other = 0;
}

/* At most one adversary, as an extra core: over the threshold or forging
 * invalid blocks with its own key, or equivocating with core 0's key. */
static void random_adversary(cdl_gen_rng *r, cdl_sim_scenario *s, size_t cores) {
  uint64_t kind = cdl_gen_rng_below(r, 5);
  if (kind >= 3)
    return;
  cdl_sim_node_spec *a = &s->node[s->n_nodes++];
  memset(a, 0, sizeof *a);
  a->role = CDL_SIM_CORE;
  snprintf(a->name, sizeof a->name, "adversary");
  a->adversary = kind == 0   ? CDL_SIM_EQUIVOCATOR
                 : kind == 1 ? CDL_SIM_OVER_THRESHOLD
                             : CDL_SIM_INVALID_FORGER;
  a->key = kind == 0 ? 0 : (int)cores;
  a->invalid_rate = (double)pick(r, 10, 100) / 100;
}

void cdl_sim_scenario_random(uint64_t seed, cdl_sim_scenario *s) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed ^ 0x5eed5eed5eedull);
  cdl_sim_scenario_default(s);
  snprintf(s->name, sizeof s->name, "random");
  s->seed = seed;
  size_t cores = (size_t)pick(&r, 3, 5), relays = (size_t)pick(&r, 0, 2);
  cdl_sim_scenario_nodes(s, cores, relays);
  s->k = pick(&r, 5, 10);
  s->slots = pick(&r, 120, 240);
  s->topology = (cdl_sim_topology)cdl_gen_rng_below(&r, CDL_SIM_RELAYS + 1);
  if (s->topology == CDL_SIM_RELAYS && relays == 0)
    s->topology = CDL_SIM_MESH;
  /* A block crosses a hop in three messages (header, request, block):
   * delays kept so that it crosses the longest line within a few slots,
   * well inside k (the delays scenario goes further, on a mesh). */
  s->latency_us = pick(&r, 1, 50) * 1000;
  s->jitter_us = pick(&r, 0, 200) * 1000;
  s->txs = (size_t)pick(&r, 0, 20);
  random_adversary(&r, s, cores);
  /* The degree where it counts (elsewhere the default, as a file leaves
   * it), below the node count. */
  size_t degree = (size_t)pick(&r, 2, 3);
  if (s->topology == CDL_SIM_RANDOM)
    s->degree = degree < s->n_nodes ? degree : s->n_nodes - 1;
  s->genesis_keys = (uint32_t)(cores + (s->n_nodes > cores + relays &&
                                        s->node[s->n_nodes - 1].key == (int)cores));
  /* A threshold with mainnet's margin over the fair share (0.22 for 7
   * keys: 1.5 times), counting one key as lost (an adversary's, or a
   * node's down): tighter, honest nodes left on equal forks can each be
   * past it on their own and all stall (a property of PBFT, not a bug). */
  s->threshold = 1.5 / (s->genesis_keys - 1) + 1.0 / (double)s->k;
  if (s->threshold > 1)
    s->threshold = 1;
  uint64_t last = s->slots - 4 * s->k - 2 * s->genesis_keys - 10;
  /* Delays near a slot make many short forks: liveness is asked over
   * windows of 4k slots (a stall, not a slow start). */
  s->growth_window = 4 * s->k;
  s->n_faults = (size_t)pick(&r, 1, 4);
  for (size_t i = 0; i < s->n_faults; i++)
    random_fault(&r, s, last, &s->fault[i]);
  uint64_t join_max = has_cut_vertex(s) ? (s->k / 2 > 1 ? s->k / 2 : 1) : last;
  /* One draw per statement: the order of two draws in one expression is
   * the compiler's (gcc and clang differ), and the run must not be. */
  if (cdl_gen_rng_below(&r, 4) == 0) {
    size_t who = (size_t)cdl_gen_rng_below(&r, cores);
    s->node[who].join_slot = pick(&r, 1, join_max);
  }
  if (cdl_gen_rng_below(&r, 4) == 0) {
    size_t who = (size_t)cdl_gen_rng_below(&r, s->n_nodes);
    s->node[who].clock_skew_ms = (int64_t)pick(&r, 0, s->slot_ms / 2) - (int64_t)s->slot_ms / 4;
  }
}
