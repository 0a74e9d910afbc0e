/*
 * cardinal/sim.h: the deterministic network simulator (docs/simulation.md):
 * core nodes, relays and adversaries, each the real node kernel
 * (cardinal/node.h) over a ChainDB on its own simulated disk
 * (src/sim/sim_disk.h), in one process, on a simulated clock and a
 * simulated network, with faults in the network, the nodes, the disks and
 * the leaders, all drawn from one seed. A checker separate from the nodes
 * (src/sim/sim_check.c) judges every run by properties in the manner of
 * ouroboros-consensus's ThreadNet tests: common prefix, chain growth, no
 * invalid block adopted, no key signing twice, transactions, durability,
 * resources, and why a core node did not forge.
 *
 * The same scenario and seed give the same run and the same report, byte
 * for byte: nothing reads a real clock, an address or the environment.
 */
#ifndef CARDINAL_SIM_H
#define CARDINAL_SIM_H

#include "cardinal/node.h"

#define CDL_SIM_MAX_NODES 128
#define CDL_SIM_MAX_FAULTS 64
#define CDL_SIM_MAX_GROUPS 8
#define CDL_SIM_MAX_LINKS_PER_NODE 16 /* explicit "peers" of one node */
#define CDL_SIM_NAME_MAX 64

/* ---- Scenario -------------------------------------------------------- */

typedef enum cdl_sim_role {
  CDL_SIM_CORE = 0, /* holds a genesis key's delegate and forges its slots */
  CDL_SIM_RELAY     /* no keys: follows, serves, relays */
} cdl_sim_role;

typedef enum cdl_sim_adversary {
  CDL_SIM_HONEST = 0,
  /* A core whose key another node holds too, placed to show each of its
   * blocks to different peers: two blocks for one slot. */
  CDL_SIM_EQUIVOCATOR,
  /* A core whose own ledger allows every slot (PBFT threshold 1): it
   * forges past the threshold, and honest nodes refuse those blocks. */
  CDL_SIM_OVER_THRESHOLD,
  /* A core that forges, in a share of its slots (|invalid_rate|), a block
   * whose block signature is broken (its own ledger checks no signature):
   * it produces invalid blocks, a few or many. */
  CDL_SIM_INVALID_FORGER,
  /* A core whose blocks, in a share of its slots (|invalid_rate|), do not
   * match their headers: a transaction's witness altered after signing
   * (its own ledger takes such bodies), so the header's body proof fails
   * at its peers. It gets a payment of its own before each of its slots,
   * so every block has a body to alter. */
  CDL_SIM_MISMATCH
} cdl_sim_adversary;

typedef struct cdl_sim_node_spec {
  char name[CDL_SIM_NAME_MAX]; /* "" : "core-<i>" or "relay-<i>" */
  cdl_sim_role role;
  int key;                     /* a core's genesis key index; -1: its index among cores */
  cdl_sim_adversary adversary;
  double invalid_rate;         /* CDL_SIM_INVALID_FORGER: share of its slots; 0: all */
  uint64_t join_slot;          /* starts (empty) in this slot; 0: from the start */
  int64_t clock_skew_ms;       /* its clock is ahead (+) or behind (-) by this */
  /* Explicit upstream peers (node indexes); with n_peers 0 the topology
   * decides. */
  size_t peers[CDL_SIM_MAX_LINKS_PER_NODE];
  size_t n_peers;
} cdl_sim_node_spec;

typedef enum cdl_sim_topology {
  CDL_SIM_MESH = 0, /* every node dials every other */
  CDL_SIM_RING,     /* node i dials i+1 (mod n) */
  CDL_SIM_LINE,     /* node i dials i+1 */
  CDL_SIM_STAR,     /* every node dials node 0 */
  CDL_SIM_RANDOM,   /* each node dials |degree| others (seeded), the graph connected */
  CDL_SIM_RELAYS    /* cores dial the relays only, relays dial cores and each other */
} cdl_sim_topology;

typedef enum cdl_sim_fault_kind {
  CDL_SIM_PARTITION = 0, /* group[] per node, from slot a to slot b: links across are cut */
  CDL_SIM_CRASH,         /* node, at slot a (+ at_ms): down until slot b (0: at once) */
  CDL_SIM_DISCONNECT,    /* node's connections all end at slot a; it dials again after */
  CDL_SIM_LINK_DOWN,     /* the link node -> other drops messages one way, slot a to b */
  CDL_SIM_DISK_FULL,     /* node's disk holds at most |bytes| more, slot a to b */
  CDL_SIM_DESCRIPTORS,   /* node's disk allows |count| handles, slot a to b */
  CDL_SIM_DROP           /* every connection ends with probability |rate| per slot, a to b */
} cdl_sim_fault_kind;

/* What a crash does to the node's disk while it is down. */
typedef enum cdl_sim_disk_damage {
  CDL_SIM_DAMAGE_NONE = 0, /* the process died; every write survives */
  CDL_SIM_DAMAGE_POWER,    /* unsynced writes lost or torn (seeded) */
  CDL_SIM_DAMAGE_BITFLIP,  /* the process died, then one bit of one database file flipped */
  CDL_SIM_DAMAGE_TRUNCATE, /* the process died, then one database file truncated */
  CDL_SIM_DAMAGE_WIPE      /* power lost, then the database directory (restored from nothing) */
} cdl_sim_disk_damage;

typedef struct cdl_sim_fault {
  cdl_sim_fault_kind kind;
  uint64_t a, b;    /* slots: from a to b (b exclusive) */
  uint32_t at_ms;   /* within slot a */
  size_t node, other;
  uint8_t group[CDL_SIM_MAX_NODES]; /* PARTITION: each node's group */
  cdl_sim_disk_damage damage;       /* CRASH */
  bool lose_record;                 /* CRASH: the signing record is lost too */
  /* CRASH with bitflip or truncate: the damaged file is one of the
   * database's whose path starts so ("immutable/", "volatile/"); "": any. */
  char damage_file[CDL_SIM_NAME_MAX];
  uint64_t bytes;                   /* DISK_FULL */
  size_t count;                     /* DESCRIPTORS */
  double rate;                      /* DROP */
} cdl_sim_fault;

/* A rule switched off in the honest nodes, to show that the checker
 * catches a node that lacks it (docs/simulation.md "Can the checker
 * fail?"). Never for a real node: only the simulator has it. */
typedef enum cdl_sim_broken {
  CDL_SIM_BROKEN_NONE = 0,
  CDL_SIM_BROKEN_PBFT_THRESHOLD, /* honest ledgers take any share of blocks from one key */
  CDL_SIM_BROKEN_SIGN_RECORD     /* honest cores' signing records start empty after a crash */
} cdl_sim_broken;

typedef struct cdl_sim_scenario {
  char name[CDL_SIM_NAME_MAX];
  cdl_sim_node_spec node[CDL_SIM_MAX_NODES];
  size_t n_nodes;
  uint32_t genesis_keys; /* 0: the number of distinct core keys */
  uint64_t k;
  double threshold; /* PBFT signature threshold; 0: 1/keys + 1/k, at most 1 */
  uint32_t slot_ms;
  uint64_t slots;
  cdl_sim_topology topology;
  size_t degree; /* CDL_SIM_RANDOM */
  /* Network: one-way delay latency + uniform jitter, per message. */
  uint64_t latency_us, jitter_us;
  size_t txs; /* payments submitted to honest nodes (seeded), over the first 80% */
  cdl_sim_fault fault[CDL_SIM_MAX_FAULTS];
  size_t n_faults;
  /* Checker bounds: after the last fault ends, honest chains agree up to
   * k within |settle_slots| (0: 4k slots); outside faults, every window of
   * |growth_window| slots (0: 2 rounds of the keys) holds at least
   * |growth_min| blocks (0: 1) on the final chain. */
  uint64_t settle_slots, growth_window, growth_min;
  cdl_sim_broken broken;
  uint64_t seed;
} cdl_sim_scenario;

/* Defaults a scenario starts from: 3 cores in a mesh, k 10, 1 s slots,
 * 300 slots, 20 ms + 0..200 ms, 20 payments. */
void cdl_sim_scenario_default(cdl_sim_scenario *s);
/* |n| cores, then |relays| relays. */
void cdl_sim_scenario_nodes(cdl_sim_scenario *s, size_t cores, size_t relays);
/* Reads a scenario from JSON text (docs/simulation.md "Scenarios"),
 * starting from the defaults: CDL_E_JSON naming the field on a bad one. */
int cdl_sim_scenario_parse(const char *json, size_t len, cdl_sim_scenario *s, cdl_error *err);
/* Appends |s| (one that passes cdl_sim_scenario_check) as the JSON text
 * cdl_sim_scenario_parse reads back into the same scenario: every field,
 * the node list explicit (unnamed nodes under their default names), nodes
 * referred to by name, each fault with its kind's fields only (a
 * partition's groups numbered afresh: the same links cut); indented by
 * 2, keys in the documentation's order, a scenario file a person can keep
 * and edit (cardinal-sim --print-scenario). Not written: a threshold of 0
 * (automatic) and an empty name, which the reader takes by their absence
 * (the name then reads as "default"). Out of memory: out->failed. */
void cdl_sim_scenario_json(const cdl_sim_scenario *s, cdl_buf *out);
/* Checks a scenario's consistency (indexes in range, slots ordered, a core
 * per key at most twice ...): CDL_E_USAGE naming what is wrong. */
int cdl_sim_scenario_check(const cdl_sim_scenario *s, cdl_error *err);
/* A random mix of every fault on a small network, from |seed| (the sweep). */
void cdl_sim_scenario_random(uint64_t seed, cdl_sim_scenario *s);

/* ---- Report ---------------------------------------------------------- */

typedef enum cdl_sim_property {
  CDL_SIM_PROP_COMMON_PREFIX = 0,
  CDL_SIM_PROP_CONVERGENCE,
  CDL_SIM_PROP_CHAIN_GROWTH,
  CDL_SIM_PROP_NO_INVALID_ADOPTED,
  CDL_SIM_PROP_NO_DOUBLE_SIGN,
  CDL_SIM_PROP_TXS_ONCE,
  CDL_SIM_PROP_DURABILITY,
  CDL_SIM_PROP_RESOURCES,
  CDL_SIM_PROP_FORGE_REASONS,
  CDL_SIM_PROP_COUNT
} cdl_sim_property;

const char *cdl_sim_property_name(cdl_sim_property p);

typedef struct cdl_sim_verdict {
  bool held;
  uint64_t slot;    /* the first violation's slot */
  char why[200];    /* and what it was */
} cdl_sim_verdict;

typedef struct cdl_sim_node_report {
  char name[CDL_SIM_NAME_MAX];
  bool honest;
  cdl_block_info tip;
  bool has_tip;
  uint64_t forged, ebbs_forged, adopted, invalid_received;
  uint64_t forge_skipped, double_sign_refused, record_failures, own_refused;
  uint64_t rollbacks, rollback_max;
  uint64_t restarts, dials, connections, suspended; /* peers it suspended */
  uint64_t txs_submitted;
  uint64_t fs_refused; /* disk operations refused by faults */
  uint64_t lost_blocks; /* blocks its chain had before crashes and not after reopening */
} cdl_sim_node_report;

typedef struct cdl_sim_report {
  char scenario[CDL_SIM_NAME_MAX];
  uint64_t seed, slots, events, deliveries, bytes;
  uint8_t digest[32]; /* every delivery: time, link, direction, bytes */
  cdl_sim_node_report node[CDL_SIM_MAX_NODES];
  size_t n_nodes;
  uint64_t common_block_no; /* the newest block all honest chains share */
  uint64_t main_blocks;     /* main blocks on the first honest node's chain */
  uint64_t equivocations;   /* slots with two different blocks by one key */
  uint64_t invalid_forged;  /* invalid blocks adversaries made */
  size_t txs_submitted, txs_included;
  uint64_t convergence_slot; /* when honest chains last came to agree up to k */
  cdl_sim_verdict property[CDL_SIM_PROP_COUNT];
  bool ok; /* every property held */
} cdl_sim_report;

/* ---- Running --------------------------------------------------------- */

typedef struct cdl_sim_options {
  FILE *trace;           /* a timeline a person can read; NULL: none */
  const cdl_logger *log; /* the kernels' logs; NULL: none */
} cdl_sim_options;

/* Runs |s| and judges it into |rep|. 0 when the run completed (whatever
 * the verdicts: rep->ok); an error when it could not run (memory, a
 * scenario that fails cdl_sim_scenario_check). */
int cdl_sim_run(const cdl_sim_scenario *s, const cdl_sim_options *o, cdl_sim_report *rep,
                cdl_error *err);

/* The report as one JSON object, sorted keys, appended to |out|. */
void cdl_sim_report_json(const cdl_sim_report *rep, cdl_buf *out);

#endif /* CARDINAL_SIM_H */
