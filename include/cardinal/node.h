/*
 * cardinal/node.h: the node kernel (docs/node.md): one node's chain,
 * mempool, block production and connections, without I/O. The libuv
 * driver (cardinal-node run) and the deterministic simulator
 * (tests/node) drive the same kernel.
 *
 * The kernel owns a ChainDB handle it is given, a mempool over its tip and
 * one protocol engine per connection: a node-to-node client for each
 * upstream peer (chain-sync pipelined, block-fetch, keep-alive, and
 * tx-submission offering the mempool) and a server for each inbound
 * connection (node-to-node or node-to-client, as its handshake says).
 * Blocks from any upstream peer go to the ChainDB, whose chain selection
 * decides; a peer whose block is invalid is disconnected (its connection
 * fails with CDL_E_REJECTED). A core node (one with a forger) forges a
 * block in each slot the PBFT round robin gives its genesis key: slot s
 * belongs to genesis key s mod n, in the genesis's order; the block
 * follows the tip, is judged against the tip's ledger ticked to slot s
 * (delegate, threshold, block size, protocol version), carries the
 * mempool's payloads within the block size limit, and is preceded by the
 * epoch boundary block when the tip is in an earlier epoch. Before it
 * signs, the node advances its signing record on disk, and it never signs
 * a slot at or below the record's, whatever its chain says.
 *
 * Time is the wall clock in microseconds since the Unix epoch, given by
 * the driver with every call: slots start at the genesis start time and
 * last its slotDuration.
 *
 * Driving it: open a connection per socket (cdl_node_conn_open), give it
 * the bytes read (cdl_node_conn_recv), call cdl_node_tick at
 * cdl_node_deadline, and after every call take the connections that may
 * have something to say (cdl_node_next_dirty): write what
 * cdl_node_conn_next_sdu gives, and close those that failed or finished
 * (cdl_node_conn_result).
 */
#ifndef CARDINAL_NODE_H
#define CARDINAL_NODE_H

#include "cardinal/forge.h"
#include "cardinal/log.h"
#include "cardinal/mempool.h"
#include "cardinal/net.h"

/* ---- Signing record (sign_record.c) -------------------------------------
 * Per delegate key (its 28-byte key hash), the last slot it signed, kept
 * durably outside the database so that a core node never signs a slot
 * twice, whatever its ChainDB says after a crash, a restore from a backup
 * or a truncation (docs/node.md "The signing record"; Ethereum validator
 * clients keep a slashing-protection record for the same reason). The
 * file is two fixed-size copies, each with a magic, a format version, a
 * sequence number, the entries and a CRC32: an advance rewrites the older
 * copy and fsyncs it, an open takes the valid copy with the higher
 * sequence, so a crash at any point, a torn write included, leaves the
 * record as it was before or after the advance. Every file operation
 * goes through |fs|. */
#define CDL_SIGN_RECORD_MAX_KEYS 16
typedef struct cdl_sign_record cdl_sign_record;

/* Opens the record at |path| (|fs| outlives it), creating it empty and
 * durably when the file is missing. A file that exists but holds no
 * valid copy is refused (CDL_E_CHECKSUM, "signing_record.damaged"): taken
 * as empty it would allow every slot again. A failure to create, open or
 * read it is CDL_E_IO ("signing_record.unwritable"), naming the path.
 * Where |fs| has locks the open holds PATH.lock: a record another process
 * has open is CDL_E_LOCKED ("signing_record.in_use"). */
int cdl_sign_record_open(cdl_fs *fs, const char *path, cdl_sign_record **out, cdl_error *err);
void cdl_sign_record_close(cdl_sign_record *r);
const char *cdl_sign_record_path(const cdl_sign_record *r);
/* The last slot the key with |key_hash| signed; false when it signed none. */
bool cdl_sign_record_last(const cdl_sign_record *r, const uint8_t key_hash[28], uint64_t *slot);
/* Records that the key signs |slot|: written and fsynced before it
 * returns, so call it before the signed block leaves the process. |slot|
 * must be above the key's last one (CDL_E_USAGE otherwise, nothing
 * written); at most CDL_SIGN_RECORD_MAX_KEYS keys (CDL_E_LIMIT). On a
 * failure the record stays as it was (in memory and on disk, where the
 * new slot may or may not have reached the older copy). */
int cdl_sign_record_advance(cdl_sign_record *r, const uint8_t key_hash[28], uint64_t slot,
                            cdl_error *err);

/* ---- Peers (peers.c) ---------------------------------------------------
 * The upstream peers a node keeps connections to: groups of addresses
 * from the topology, each with a valency (how many of the group to keep
 * connected), and for each address when it may be dialled next and a
 * reputation. A failed dial or a dropped connection waits 1 s, then
 * twice as long after each failure in a row, up to 60 s. A peer that broke
 * the protocol or sent an invalid block is suspended for 200 s, as the
 * 2020 node's error policy suspends a peer that is "buggy or evil".
 * Reputation: connected time earns, failures and violations cost; among
 * the peers free to dial, the best reputation, then the shortest
 * keep-alive round trip (an estimate of ΔQ) goes first. No I/O. */

#define CDL_PEERS_MAX 64
#define CDL_PEER_HOST_MAX 256

typedef enum cdl_peer_state { CDL_PEER_IDLE = 0, CDL_PEER_DIALLING, CDL_PEER_UP } cdl_peer_state;
typedef enum cdl_peer_end {
  CDL_PEER_END_CLEAN = 0,    /* closed in order (our stop, their restart) */
  CDL_PEER_END_IO,           /* the dial failed or the socket broke */
  CDL_PEER_END_VIOLATION,    /* a protocol violation, limit or time limit */
  CDL_PEER_END_INVALID_BLOCK /* a block the ledger refused */
} cdl_peer_end;

typedef struct cdl_peer {
  char host[CDL_PEER_HOST_MAX];
  uint16_t port;
  size_t group;
  cdl_peer_state state;
  uint32_t failures;    /* in a row, since the last good connection */
  uint64_t next_try_us; /* may be dialled from then on */
  int64_t reputation;
  uint64_t rtt_us; /* smoothed keep-alive round trip; 0: none yet */
  uint64_t up_since_us;
  uint64_t violations, invalid_blocks, connections;
  uint64_t blocks_received; /* over all its connections, any outcome (the kernel counts) */
  bool suspended;           /* its last connection ended in a violation or an invalid block */
} cdl_peer;

typedef struct cdl_peers {
  cdl_peer peer[CDL_PEERS_MAX];
  size_t n;
  size_t valency[CDL_PEERS_MAX]; /* per group */
  size_t n_groups;
} cdl_peers;

void cdl_peers_init(cdl_peers *ps);
/* A new group wanting |valency| of its peers connected; its number. */
int cdl_peers_add_group(cdl_peers *ps, size_t valency, size_t *group);
int cdl_peers_add(cdl_peers *ps, size_t group, const char *host, uint16_t port);
/* A peer to dial now (its group below its valency), best first. */
bool cdl_peers_next_dial(cdl_peers *ps, uint64_t now_us, size_t *i);
void cdl_peers_dialling(cdl_peers *ps, size_t i, uint64_t now_us);
void cdl_peers_up(cdl_peers *ps, size_t i, uint64_t now_us);
void cdl_peers_down(cdl_peers *ps, size_t i, cdl_peer_end why, uint64_t now_us);
void cdl_peers_rtt(cdl_peers *ps, size_t i, uint64_t rtt_us);
/* When a peer of a group below its valency may next be dialled (after
 * the driver dialled every one it could now); UINT64_MAX: none. */
uint64_t cdl_peers_deadline(const cdl_peers *ps);
/* How a connection's end counts against its peer. */
cdl_peer_end cdl_peer_end_of(int rc);
/* The peer's state as the metrics name it (docs/node.md "Metrics"): "up",
 * "dialling", "suspended" (waiting out a suspension), "backoff" (waiting
 * after a failure) or "idle" (free to dial; its group is full). */
const char *cdl_peer_state_name(const cdl_peer *p, uint64_t now_us);

/* What a core node signs with: its delegate key, the heavyweight
 * certificate a genesis key issued to it, the signing record it checks
 * and advances before each signature (required; the caller's, it outlives
 * the node), and the versions its headers announce (all zero: the adopted
 * protocol version and Cardinal's own software version; docs/node.md
 * "Forging"). */
typedef struct cdl_node_forger {
  cdl_key delegate;
  cdl_byron_genesis_delegation cert;
  cdl_sign_record *record;
  cdl_forge_versions versions;
} cdl_node_forger;

typedef struct cdl_node_config {
  cdl_chaindb *db;                  /* the caller's; outlives the node */
  const cdl_byron_genesis *genesis; /* start time, k, genesis keys, slot length */
  cdl_hs_config n2n, n2c;           /* versions and data, for both directions */
  cdl_mempool_config mempool;
  const cdl_node_forger *forger; /* NULL: a relay (copied at creation) */
  const cdl_peers *peers;        /* upstream peers to keep connected (copied); NULL: none */
  size_t pipeline;               /* chain-sync requests in flight per upstream; 0: 50 */
  size_t fetch_batch;            /* blocks per block-fetch range; 0: the client's 256 */
  /* Threads that parse and check fetched blocks, this one included
   * (cdl_parse_pool; docs/node.md "Signature checks on every core");
   * 0 or 1: all on the caller's thread, no thread started. */
  unsigned threads;
  /* With threads: how long a read's parsed blocks may wait for the next
   * read (cdl_n2n_client_config.carry_us); the I/O driver's
   * CDL_IO_CARRY_US; 0 (the simulator's): handed over within the read. */
  uint64_t carry_us;
  const cdl_logger *log;         /* NULL: silent */
  const char *name;              /* in log lines; NULL: "node" */
  /* Called with every main block this node signs, before it is stored or
   * sent (the simulator's checker counts signatures per key and slot
   * with it; its adversaries alter the block here); NULL: none. */
  void (*on_signed)(void *ctx, uint8_t *block, size_t len, uint64_t slot);
  void *hook_ctx;
} cdl_node_config;

typedef struct cdl_node_stats {
  uint64_t slot;                  /* the current slot (0 before the start) */
  uint64_t forged, forge_skipped; /* blocks forged; leader slots not forged (threshold, key) */
  uint64_t ebbs_forged;
  uint64_t double_sign_refused; /* leader slots at or below the signing record's */
  uint64_t record_failures;     /* leader slots not signed: the record could not be written */
  uint64_t own_refused;         /* our own blocks the ChainDB refused (a bug) */
  uint64_t blocks_adopted;  /* from peers, that changed the selected chain */
  uint64_t blocks_stored;   /* from peers, kept but not selected (a fork) */
  uint64_t blocks_known;    /* from peers, already held or older than the immutable tip */
  uint64_t blocks_received; /* from peers, any outcome */
  uint64_t invalid_blocks;  /* from peers, refused by the ledger */
  uint64_t chain_changes;
  uint64_t rollbacks, rollback_max; /* fork switches a peer's block caused; the deepest */
  uint64_t blocks_served, headers_served; /* to downstream peers and clients */
  uint64_t txs_received;                  /* by tx-submission and local tx-submission */
  /* Back-pressure (cdl_n2n_server_stats): txs waiting for mempool room
   * now, that waited in all, local submissions refused after the wait. */
  uint64_t txs_waiting, txs_waited, tx_waits_expired;
  uint64_t tx_pulls_saved; /* txs pulled once where several peers offered them */
  size_t conns_in, conns_out, conns_local;
  size_t conns_duplex; /* node-to-node connections running both our sides */
  /* The upstream clients' counts summed over every outbound connection,
   * open or closed (the round trip: the latest), and how many open ones
   * are synced with their peer (cdl_n2n_client_synced). */
  cdl_n2n_client_stats upstream;
  size_t upstream_synced;
  cdl_mempool_stats mempool;
} cdl_node_stats;

typedef struct cdl_node cdl_node;

int cdl_node_new(const cdl_node_config *cfg, uint64_t now_us, cdl_node **out, cdl_error *err);
/* Closes every connection's engine (not the ChainDB). */
void cdl_node_del(cdl_node *n);

/* Forging, mempool expiry and the connections' time limits. Connections
 * that fail here are reported by cdl_node_next_dirty. An error returned
 * here is the node's own and is latched (cdl_node_failed). */
int cdl_node_tick(cdl_node *n, uint64_t now_us, cdl_error *err);
/* When cdl_node_tick must run next: the next slot or a connection's limit. */
uint64_t cdl_node_deadline(const cdl_node *n);

/* ---- Connections ---- */
typedef uint32_t cdl_node_conn_id;
typedef enum cdl_node_conn_kind {
  CDL_NODE_OUTBOUND = 0, /* we dialled an upstream peer */
  CDL_NODE_INBOUND,      /* a peer dialled us over TCP */
  CDL_NODE_LOCAL         /* a client on the local socket */
} cdl_node_conn_kind;

/* A new connection's engine; an outbound one sends its handshake at once. */
int cdl_node_conn_open(cdl_node *n, cdl_node_conn_kind kind, uint64_t now_us, cdl_node_conn_id *id,
                       cdl_error *err);
/* Bytes from the socket. A failure (a violation, an invalid block) is
 * also kept for cdl_node_conn_result; the driver then closes. */
int cdl_node_conn_recv(cdl_node *n, cdl_node_conn_id id, const uint8_t *data, size_t len,
                       uint64_t now_us, cdl_error *err);
/* The next SDU to write, appended to |out|; false when there is none now. */
bool cdl_node_conn_next_sdu(cdl_node *n, cdl_node_conn_id id, uint64_t now_us, cdl_buf *out);
/* A connection that has ended by itself: its failure (0 if it finished
 * cleanly, as a refused handshake does) and why; false while it runs. */
bool cdl_node_conn_result(const cdl_node *n, cdl_node_conn_id id, int *rc, cdl_error *err);
/* Frees the connection (the socket is gone or is being closed).
 * |socket_end| is how the socket ended as the driver saw it (the peer
 * closed, a socket error, writes that timed out); for an upstream peer's
 * connection the kernel counts that against the peer unless the
 * connection had ended in the kernel, whose verdict (a violation, an
 * invalid block; none when our own disk failed) then counts instead. */
void cdl_node_conn_close(cdl_node *n, cdl_node_conn_id id, cdl_peer_end socket_end,
                         uint64_t now_us);
/* A connection that may have something to write or has ended; false when
 * none is left. Each is given once per change. */
bool cdl_node_next_dirty(cdl_node *n, cdl_node_conn_id *id);
/* The outbound connection's client statistics (keep-alive round trip). */
bool cdl_node_conn_client_stats(const cdl_node *n, cdl_node_conn_id id, cdl_n2n_client_stats *st);

/* ---- Peer selection (node_peers.c; docs/node.md "Peers") ----
 * The kernel keeps the upstream peers of cdl_node_config.peers connected
 * as their groups' valencies say: it names the peer to dial next (the
 * best reputation, then the shortest round trip, among those whose
 * backoff or suspension is over), the driver dials it and says how that
 * went, and when a connection closes the kernel decides what its end
 * costs the peer. The keep-alive round trips of its clients feed the
 * reputation at every tick. cdl_node_deadline includes the time the next
 * peer may be dialled, so a driver that calls cdl_node_next_dial after
 * every call dials each peer when it is due; the simulator does the same
 * in simulated time. */

/* Full duplex (docs/node.md "Full duplex"): the driver gives each
 * inbound connection the address it came from. When that is an upstream
 * peer's address (as it is when the peer dials from its listening
 * address) and we are not connected to that peer, the connection is
 * reserved for it, and once its handshake agreed on both directions our
 * initiator runs on it too: two nodes that list each other share one
 * connection. CDL_E_USAGE for an unknown or non-inbound connection. */
int cdl_node_conn_set_remote(cdl_node *n, cdl_node_conn_id id, const char *host, uint16_t port);
/* A peer to dial now, marked as being dialled: its index and address. */
bool cdl_node_next_dial(cdl_node *n, uint64_t now_us, size_t *peer, const cdl_peer **addr);
/* The dial of |peer| connected: its connection, as cdl_node_conn_open
 * CDL_NODE_OUTBOUND (the handshake is sent at once). */
int cdl_node_dialled(cdl_node *n, size_t peer, uint64_t now_us, cdl_node_conn_id *id,
                     cdl_error *err);
/* The dial of |peer| failed (no address, refused, unreachable): backoff. */
void cdl_node_dial_failed(cdl_node *n, size_t peer, uint64_t now_us);
const cdl_peers *cdl_node_peers(const cdl_node *n);

/* ---- State ---- */
/* A failure of the node's own (the ChainDB could not store or read a
 * block, memory ran out while forging): the node must stop, as the 2020
 * node shuts down on a storage error (its restart recovers the ChainDB).
 * True once latched, with why in |err|. A peer whose block was being
 * stored when it happened is not to blame: its connection ends with the
 * same error, which the driver must not count against it. */
bool cdl_node_failed(const cdl_node *n, cdl_error *err);
/* A Byron GenTx [kind, payload] from this process (a wallet, the
 * simulator) into the mempool for the current slot, to be relayed and
 * forged from there. 0, CDL_E_REJECTED with |rej|, or CDL_E_NOMEM. */
int cdl_node_submit(cdl_node *n, const uint8_t *gentx, size_t len, cdl_rejection *rej);
cdl_mempool *cdl_node_mempool(cdl_node *n);
/* Why the last block a peer sent was refused; false when none was. */
bool cdl_node_last_rejection(const cdl_node *n, cdl_rejection *rej);
void cdl_node_stats_get(const cdl_node *n, cdl_node_stats *st);
/* The slot at |now_us|; false before the genesis start. */
bool cdl_node_slot_at(const cdl_node *n, uint64_t now_us, uint64_t *slot);


/* ---- Metrics (metrics.c) ----
 * The node's state in the Prometheus text format, under cardano-node's
 * metric names where it has one (cardano_node_metrics_blockNum_int, ...):
 * tip block, slot and epoch, chain density over the last k blocks,
 * mempool txs and bytes, blocks forged, connected peers and the upstream
 * peers' states, blocks served and received, one series per topology
 * peer (state and direction, blocks received, round trip; at most
 * CDL_PEERS_MAX) and the ChainDB's bytes on disk. Appends to |out|. */
void cdl_node_metrics_text(const cdl_node *n, cdl_buf *out);

#endif /* CARDINAL_NODE_H */
