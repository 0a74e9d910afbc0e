/*
 * node_sim.h: the deterministic network simulator (docs/testing.md
 * "Simulation"): several node kernels (include/cardinal/node.h) in one
 * process, a simulated clock and a simulated network whose latencies come
 * from a seed. The same configuration always gives the same run, byte for
 * byte: every delivery goes into a digest the tests compare.
 */
#ifndef CARDINAL_TEST_NODE_SIM_H
#define CARDINAL_TEST_NODE_SIM_H

#include "cardinal/node.h"

#define SIM_MAX_NODES 8

typedef struct sim_config {
  size_t nodes;          /* core nodes, one per genesis key, all connected to all */
  uint64_t seed;         /* latencies, which node gets each tx */
  uint64_t slots;        /* the run lasts this many slots */
  uint64_t k;            /* security parameter (epochs of 10k slots) */
  double threshold;      /* PBFT signature threshold */
  size_t txs;            /* payments submitted, spread over the first 80% of the run */
  uint64_t latency_us;   /* the least one-way delay */
  uint64_t jitter_us;    /* plus up to this much, drawn per message */
  const cdl_logger *log; /* NULL: quiet */
} sim_config;

typedef struct sim_result {
  uint8_t digest[32]; /* every delivery: time, link, direction, bytes */
  uint64_t deliveries, bytes;
  cdl_block_info tip[SIM_MAX_NODES];
  cdl_node_stats stats[SIM_MAX_NODES];
  uint64_t common_block_no;           /* the newest block number all chains share */
  uint64_t main_blocks;               /* main blocks on node 0's chain */
  size_t txs_submitted, txs_included; /* included: on every node's chain */
} sim_result;

/* Runs a simulation (in temporary directories, removed after) and fails
 * the test on any error: a connection that ends, a refused submission. */
void sim_run(const sim_config *cfg, sim_result *res);

#endif
