/*
 * sim_internal.h: the simulator's state (include/cardinal/sim.h;
 * docs/simulation.md "How a run works"). sim.c holds the event loop and
 * the trace; sim_net.c the links, messages, dials, partitions and link
 * faults; sim_node.c the genesis, the nodes (open, crash, restart) and
 * the adversaries' hooks; sim_check.c the checker; sim_random.c the
 * sweep's random scenarios.
 */
#ifndef CARDINAL_SIM_INTERNAL_H
#define CARDINAL_SIM_INTERNAL_H

#include <stdio.h>

#include "cardinal/crypto.h"
#include "cardinal/gen.h"
#include "cardinal/sim.h"
#include "cardinal/storage.h"
#include "sim_disk.h"

#define SIM_START_S 1700000000ull /* the genesis start: a fixed date, not the clock */
#define SIM_MAGIC 42
#define SIM_MAX_EVENTS 200000000ull /* a run that does not settle fails */
#define SIM_DB_DIR "db"
/* Verified witnesses per node (cdl_chaindb_config.witness_cache): a
 * scenario's load is small, and many nodes share one process. */
#define SIM_WITNESS_CACHE 4096
#define SIM_RECORD_PATH "signed"
#define SIM_MAX_SIGNED 65536 /* signatures the checker remembers */

typedef struct sim_link {
  size_t from, to; /* |from| dialled |to| */
  cdl_node_conn_id out_id, in_id;
  uint64_t last_at[2]; /* the last arrival each way: 0 from -> to, 1 back */
  bool closed;
} sim_link;

typedef struct sim_msg {
  uint64_t at, seq;
  size_t link;
  int dir;
  cdl_buf bytes;
} sim_msg;

/* One signature an observed node made (the on_signed hook). */
typedef struct sim_signed {
  size_t node;
  uint32_t key;
  uint64_t slot;
  uint8_t hash[32];
  bool invalid; /* an adversary broke it on purpose */
} sim_signed;

typedef struct sim_node {
  const cdl_sim_node_spec *spec;
  struct sim *sim;
  size_t index;
  char name[CDL_SIM_NAME_MAX + 16];
  bool honest;
  uint32_t key; /* cores: the genesis key */
  sim_disk *disk;
  cdl_peers topology;
  cdl_chaindb *db;
  cdl_node *node;
  cdl_node_forger forger;
  bool up;
  uint64_t deadline; /* the kernel's, in simulated time, while not stale */
  bool deadline_stale;
  bool disk_limited; /* a disk fault is in force */
  uint64_t up_at_us; /* a down node comes up then; UINT64_MAX: not scheduled */
  size_t pay_rank;   /* among the nodes paying themselves (sim_node.c); SIZE_MAX: not one */
  uint64_t restarts, dials, connections;
  uint64_t txs_submitted;
  uint64_t lost_blocks; /* the reopened chain short of the one at the crash */
  cdl_block_info crash_tip; /* its tip when it last crashed */
  bool crash_had_tip;
  cdl_sim_disk_damage crash_damage;
  char damaged[256];      /* the file the last crash damaged ("": none) */
  bool crash_keeps_tip;   /* a process crash with every write done: the same tip after */
  cdl_node_stats carried; /* the stats of its kernels before the last restart */
  cdl_gen_rng rng;        /* its own draws (invalid blocks) */
} sim_node;

typedef struct sim_tx {
  uint64_t at;
  size_t node;     /* its wallet's node */
  size_t taken_by; /* the node that took it (another when that one was down) */
  cdl_buf gentx;
  uint8_t id[32];
  bool submitted;
} sim_tx;

/* A timed action of the scenario (faults begin and end, nodes join). */
typedef enum sim_action_kind {
  SIM_ACT_JOIN = 0,
  SIM_ACT_CRASH,
  SIM_ACT_RESTART,
  SIM_ACT_DISCONNECT,
  SIM_ACT_PARTITION,
  SIM_ACT_HEAL,
  SIM_ACT_DISK_LIMITS,
  SIM_ACT_DROP_TICK,
  SIM_ACT_SLOT_CHECK
} sim_action_kind;

typedef struct sim_action {
  uint64_t at, seq;
  sim_action_kind kind;
  size_t node;
  const cdl_sim_fault *fault;
} sim_action;

typedef struct sim {
  const cdl_sim_scenario *sc;
  const cdl_sim_options *opt;
  cdl_sim_report *rep;
  char gen_dir[64];
  cdl_gen_dir gen;
  bool has_gen;
  uint32_t n_keys;
  double threshold;
  uint64_t slot_us;
  sim_node *n;
  size_t n_nodes;
  size_t n_paying; /* nodes paying themselves before their slots */
  sim_link *links;
  size_t n_links, cap_links;
  sim_msg *heap; /* by (at, seq) */
  size_t n_heap, cap_heap;
  sim_action *acts; /* by (at, seq) */
  size_t n_acts, cap_acts;
  const cdl_sim_fault *partition; /* in force now; NULL: none */
  sim_tx *txs;
  size_t n_txs, next_tx;
  uint8_t *forbidden; /* per slot: its honest leader was forbidden to sign (sim_node_tick) */
  sim_signed *signed_;
  size_t n_signed;
  cdl_gen_rng rng;
  uint64_t now, seq, end;
  cdl_blake2b digest;
  cdl_error fatal; /* the run cannot go on (memory, genesis) */
  bool failed;
  /* What the checker watches as the run goes (sim_check.c). */
  uint64_t last_fault_end_us;
  uint64_t agree_since_slot; /* honest chains agree up to k since then */
  bool agree;
} sim;

/* sim_heap.c: a binary heap of |n| elements of |size| bytes at |base|,
 * earliest first by |before|: up after appending element n - 1, down
 * after moving the last element to the top. */
void sim_heap_up(void *base, size_t n, size_t size, bool (*before)(const void *, const void *));
void sim_heap_down(void *base, size_t n, size_t size, bool (*before)(const void *, const void *));

/* sim.c */
void sim_trace(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_fail(sim *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t sim_slot_of(const sim *s, uint64_t at_us);
uint64_t sim_slot_start(const sim *s, uint64_t slot);
void sim_violation(sim *s, cdl_sim_property p, uint64_t slot, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sim_schedule(sim *s, uint64_t at, sim_action_kind kind, size_t node, const cdl_sim_fault *f);

/* sim_net.c */
void sim_net_drain(sim *s, size_t i);
bool sim_net_next_msg(const sim *s, uint64_t *at);
void sim_net_deliver_next(sim *s);
void sim_net_end_links_of(sim *s, size_t i, cdl_peer_end why);
void sim_net_partition(sim *s, const cdl_sim_fault *f);
void sim_net_drop_tick(sim *s, const cdl_sim_fault *f);
bool sim_net_cut(const sim *s, size_t a, size_t b);
void sim_net_free(sim *s);

/* sim_node.c */
int sim_nodes_create(sim *s);
int sim_node_open(sim *s, size_t i);
void sim_node_crash(sim *s, size_t i, const cdl_sim_fault *f);
void sim_node_restart(sim *s, size_t i);
uint64_t sim_node_now(const sim *s, size_t i); /* its clock */
uint64_t sim_node_deadline(sim *s, size_t i);  /* in simulated time */
/* Node |i| was called: its deadline is asked of its kernel again. */
void sim_node_touch(sim *s, size_t i);
void sim_node_tick(sim *s, size_t i);
void sim_node_close_all(sim *s);
void sim_node_stats(const sim *s, size_t i, cdl_node_stats *st);
void sim_node_set_disk_limits(sim *s, size_t i, const cdl_sim_fault *f, bool on);

/* sim_check.c */
void sim_check_slot(sim *s, uint64_t slot);
void sim_check_reopen(sim *s, size_t i, const cdl_chaindb_report *rep);
void sim_check_final(sim *s);

#endif
