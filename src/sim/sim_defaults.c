/*
 * sim_defaults.c: the scenario every other one starts from
 * (include/cardinal/sim.h, docs/simulation.md "Scenarios"): 3 core nodes
 * in a mesh, k 10, 1 s slots, 300 slots, 20 ms + 0..200 ms one way, 20
 * payments, seed 1; and a plain node list of cores, then relays.
 */
#include <stdio.h>
#include <string.h>

#include "cardinal/sim.h"
#include "sim_scenario_forms.h"

void cdl_sim_scenario_default(cdl_sim_scenario *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "default");
  s->genesis_keys = 0; /* the number of distinct core keys */
  s->k = 10;
  s->threshold = 0; /* 1/keys + 1/k, at most 1 */
  s->slot_ms = 1000;
  s->slots = 300;
  s->topology = CDL_SIM_MESH;
  s->degree = SIM_DEFAULT_DEGREE;
  s->latency_us = 20000;
  s->jitter_us = 200000;
  s->txs = 20;
  s->seed = 1;
  cdl_sim_scenario_nodes(s, 3, 0);
}

void cdl_sim_scenario_nodes(cdl_sim_scenario *s, size_t cores, size_t relays) {
  CDL_ASSERT(cores <= CDL_SIM_MAX_NODES && relays <= CDL_SIM_MAX_NODES - cores);
  memset(s->node, 0, sizeof s->node);
  s->n_nodes = cores + relays;
  for (size_t i = 0; i < s->n_nodes; i++) {
    cdl_sim_node_spec *n = &s->node[i];
    bool core = i < cores;
    n->role = core ? CDL_SIM_CORE : CDL_SIM_RELAY;
    n->key = -1;
    n->adversary = CDL_SIM_HONEST;
    snprintf(n->name, sizeof n->name, "%s-%zu", core ? "core" : "relay", core ? i : i - cores);
  }
}
