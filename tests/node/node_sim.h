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
#define SIM_MAX_PEERS (SIM_MAX_NODES + 1)
#define SIM_MAX_DIALS 512
#define SIM_DEAD_PORT 999 /* the address of dead_peer: no node answers it */

/* A dial a kernel's peer selection asked for (cdl_node_next_dial). */
typedef struct sim_dial {
  uint64_t at_us;
  size_t node;
  uint16_t to; /* the node dialled (its port), or SIM_DEAD_PORT */
  bool connected;
} sim_dial;

typedef struct sim_config {
  /* Core nodes, one per genesis key. Each one's topology lists every
   * other core (a group of one, valency 1); its kernel's peer selection
   * dials them (so each pair has two connections) and dials again after
   * a connection ends, with backoff or suspension, in simulated time. */
  size_t nodes;
  uint64_t seed;         /* latencies, which node gets each tx */
  uint64_t slots;        /* the run lasts this many slots */
  uint64_t k;            /* security parameter (epochs of 10k slots) */
  double threshold;      /* PBFT signature threshold */
  size_t txs;            /* payments submitted, spread over the first 80% of the run */
  uint64_t latency_us;   /* the least one-way delay */
  uint64_t jitter_us;    /* plus up to this much, drawn per message */
  uint64_t bytes_per_s;  /* each direction of a link carries this much (0: no limit) */
  /* Adds a relay (node |nodes|, no keys) that dials every core node, and
   * a hostile peer (node |nodes| + 1) that only the relay dials: its
   * ChainDB, filled without signature checks, holds a chain whose second
   * main block carries a broken block signature. */
  bool relay_and_evil_peer;
  /* Adds instead a relay (node |nodes|) that dials every core with an
   * initiator-only handshake: those connections run one direction. With
   * either relay, payments go to the relay too. */
  bool initiator_only_relay;
  /* With restart_slot > 0, core node |restart_node| is restarted three
   * quarters into that slot (one of its own, which it has signed): its
   * kernel and ChainDB closed, the ChainDB's directory replaced by an
   * empty one (a database lost, or restored from an empty backup), its
   * signing record reopened from its file, its connections ended and
   * dialled again. */
  uint64_t restart_slot;
  size_t restart_node;
  /* Adds to core node 0's topology an address no node answers: every
   * dial of it fails at once. */
  bool dead_peer;
  /* Threads each node parses and checks fetched blocks on
   * (cdl_node_config.threads); the run is the same for every value. */
  unsigned threads;
  const cdl_logger *log; /* NULL: quiet */
} sim_config;

typedef struct sim_result {
  uint8_t digest[32]; /* every delivery: time, link, direction, bytes */
  uint64_t deliveries, bytes;
  size_t links; /* connections made, both ends counted once */
  cdl_block_info tip[SIM_MAX_NODES];
  cdl_node_stats stats[SIM_MAX_NODES];
  cdl_witness_cache_stats witnesses[SIM_MAX_NODES]; /* each node's verified-witness cache */
  uint64_t common_block_no;           /* the newest block number all chains share */
  uint64_t main_blocks;               /* main blocks on node 0's chain */
  size_t txs_submitted, txs_included; /* included: on every node's chain */
  /* With relay_and_evil_peer (tip and stats of the relay at index nodes): */
  bool evil_link_ended;    /* the relay ended its connection to the hostile peer */
  int evil_link_rc;        /* with this code */
  uint64_t evil_link_ended_us; /* at this time */
  char evil_link_why[160]; /* and this message */
  uint8_t evil_hash[32];   /* the bad block */
  uint64_t evil_block_no;
  /* With a restart (stats of that node are its new kernel's): */
  bool restarted;
  uint64_t restart_record_slot; /* what its signing record held when it restarted */
  /* Peer selection: every dial made (the first SIM_MAX_DIALS), and each
   * node's peer set at the end (in its topology's order). */
  sim_dial dials[SIM_MAX_DIALS];
  size_t n_dials;
  cdl_peer peers[SIM_MAX_NODES][SIM_MAX_PEERS];
  size_t n_peers[SIM_MAX_NODES];
} sim_result;

/* Runs a simulation (in temporary directories, removed after) and fails
 * the test on any error: a refused submission, a connection that ends
 * (other than the relay's to the hostile peer, and those of a restarted
 * node). The honest nodes (cores
 * and relay) are the ones whose common prefix and txs are counted. */
void sim_run(const sim_config *cfg, sim_result *res);

#endif
