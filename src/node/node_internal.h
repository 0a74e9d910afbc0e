/*
 * node_internal.h: the node kernel's state (include/cardinal/node.h):
 * node.c holds the clock, the chain-change bookkeeping and the dirty
 * queue; node_conn.c the connections and their engines; node_fetch.c
 * the block-fetch decisions across them; node_forge.c block production
 * (with sign_record.c, the signing record it keeps).
 */
#ifndef CARDINAL_NODE_INTERNAL_H
#define CARDINAL_NODE_INTERNAL_H

#include "cardinal/node.h"
#include "cardinal/storage.h"

#define NODE_MAX_CONNS 1024
#define NODE_KNOWN_POINTS 32 /* intersection candidates an upstream client offers */
#define NODE_DEFAULT_PIPELINE 50
#define NODE_BLOCK_OVERHEAD 1686 /* byronBlockEncodingOverhead: a block's bytes beyond payloads */
/* Block-fetch budgets (node_fetch.c): two of mainnet's largest blocks per
 * peer, eight in all; one block at a time always goes. */
#define NODE_FETCH_PEER_BYTES (4ull << 20)
#define NODE_FETCH_TOTAL_BYTES (16ull << 20)
#define NODE_FETCH_MIN_CHARGE 2048 /* bytes counted for a block whatever its size hint */

/* A block asked of one connection (node_fetch.c). */
typedef struct node_claim {
  uint8_t hash[32];
  cdl_node_conn_id conn;
  uint64_t bytes;
} node_claim;

typedef struct node_conn {
  cdl_node_conn_id id;
  cdl_node_conn_kind kind;
  cdl_node *node;
  cdl_n2n_server *srv; /* inbound and local */
  cdl_n2n_client *cli; /* outbound */
  size_t peer;         /* its upstream peer in the kernel's peer set; SIZE_MAX: none */
  bool peer_pending;   /* inbound from that peer's address, its handshake not done */
  char remote_host[CDL_PEER_HOST_MAX]; /* inbound: the peer's address (""): unknown */
  uint16_t remote_port;
  uint64_t rtt_samples; /* keep-alive samples already given to the peer set */
  bool dirty;          /* may have something to write, or has ended */
  bool wake;           /* poll before writing: the chain or mempool moved */
  bool ended;          /* failed, or finished (a refused handshake) */
  int rc;
  cdl_error err;
} node_conn;

/* The sync's progress as logged (node_progress.c). */
typedef struct node_progress {
  bool syncing;                     /* the tip is behind the best peer's */
  uint64_t since_us, since_block;   /* when the sync began, and the tip then */
  uint64_t mark_us, mark_block;     /* the last progress line */
} node_progress;

struct cdl_node {
  cdl_node_config cfg;
  cdl_parse_pool *parse_pool; /* NULL: blocks parsed on the caller's thread */
  cdl_node_forger forger;
  bool has_forger;
  size_t forger_key; /* its genesis key's index in the round robin */
  uint8_t key_hash[28]; /* its delegate key's hash, its name in the signing record */
  cdl_byron_software_version app_version; /* its headers', over forger.versions.app_name */
  cdl_chaindb *db;
  cdl_n2n_chain chain; /* |db| as every server reads it (docs/network.md "Chain interface") */
  cdl_mempool *mp;
  uint64_t epoch_slots, slot_us, start_us;
  uint64_t now_us; /* the time of the last call */
  bool in_slots;   /* a slot has begun */
  uint64_t slot;   /* the last slot ticked */
  node_conn **conns;
  size_t n_conns;
  cdl_node_conn_id next_id;
  cdl_node_stats st;
  cdl_n2n_server_stats closed; /* the servers of connections since closed */
  cdl_n2n_client_stats closed_upstream; /* the clients of connections since closed */
  bool has_rejection;
  cdl_rejection rejection; /* the last block a peer sent that was refused */
  bool failed;                 /* storage or memory failed: the node must stop */
  cdl_error fatal;             /* why */
  cdl_buf block;               /* forging scratch */
  cdl_span *payloads;          /* forging scratch: the mempool's GenTx items */
  size_t cap_payloads;
  cdl_peers peers;    /* the upstream peers to keep connected (node_peers.c) */
  node_claim *claims; /* blocks in flight, each asked of one connection */
  size_t n_claims, cap_claims;
  uint64_t fetch_bytes; /* their bytes */
  node_progress progress;
};

/* Logs the sync's progress when it is due (node_progress.c); at each
 * adopted block and each slot. */
void node_progress_check(cdl_node *n);
/* The chain changed: the mempool is re-validated and every connection
 * woken (servers announce, clients offer). */
void node_chain_changed(cdl_node *n);
/* After a fork switch that rolled back |rollback| blocks from |old_tip|:
 * their transactions offered to the mempool again (node_rollback.c). */
void node_readopt_txs(cdl_node *n, const cdl_block_info *old_tip, uint64_t rollback);
/* Latches a failure of our own (storage, memory): the node must stop and
 * the driver learns it from cdl_node_failed. Returns |rc|. */
int node_fail(cdl_node *n, int rc, const cdl_error *err);
/* The mempool changed: every connection woken. */
void node_wake_all(cdl_node *n);
/* The current slot's work for a core node: maybe an EBB, then a block. */
int node_forge(cdl_node *n, uint64_t slot, cdl_error *err);
/* Polls the connections whose time limit has come. */
void node_conns_tick(cdl_node *n, uint64_t now_us);
uint64_t node_conns_deadline(const cdl_node *n);
node_conn *node_conn_find(const cdl_node *n, cdl_node_conn_id id);
/* Polls a woken connection's engine; a failure ends the connection. */
void node_conn_wake(cdl_node *n, node_conn *c);
void node_conn_free(node_conn *c);
/* The decider every upstream client consults (node_fetch.c). */
extern const cdl_n2n_fetch_ops node_fetch_ops;
/* A claimed block came in on |c|; a connection is gone with its claims. */
void node_fetch_arrived(cdl_node *n, node_conn *c, const uint8_t hash[32]);
void node_fetch_conn_gone(cdl_node *n, cdl_node_conn_id id);
/* Opens a connection of |kind| for upstream peer |peer| (SIZE_MAX: none). */
int node_conn_open(cdl_node *n, cdl_node_conn_kind kind, size_t peer, uint64_t now_us,
                   cdl_node_conn_id *id, cdl_error *err);
/* A new inbound connection from |host|:|port|: when that is an upstream
 * peer's address, the connection is reserved for it (node_peers.c). */
void node_peers_inbound(cdl_node *n, node_conn *c);
/* An inbound connection reserved for a peer finished its handshake: it
 * becomes that peer's upstream connection when both directions were
 * agreed, else the peer is dialled as usual. */
int node_peers_handshake_done(cdl_node *n, node_conn *c, uint64_t now_us, cdl_error *err);
/* The initiator side on an inbound connection agreed duplex (node_conn.c). */
int node_conn_attach_client(cdl_node *n, node_conn *c, uint64_t now_us, cdl_error *err);
/* A connection closes: what its end costs its upstream peer (node_peers.c). */
void node_peers_conn_closed(cdl_node *n, node_conn *c, cdl_peer_end socket_end,
                            uint64_t now_us);
/* The keep-alive round trips of the upstream clients, to the peer set. */
void node_peers_tick(cdl_node *n);
/* How the kernel judges a transaction from a peer, a client or this
 * process (cdl_n2n_tx_judge): its tip's ledger at its current slot. */
int node_judge_tx(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej);
/* Adds one upstream client's counts to |sum| (cdl_node_stats.upstream). */
void node_upstream_add(cdl_n2n_client_stats *sum, cdl_n2n_client_stats st);
void node_log(const cdl_node *n, cdl_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
