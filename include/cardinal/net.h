/*
 * cardinal/net.h: the Ouroboros network protocol engines, sans I/O
 * (docs/design.md section 3; docs/network.md): one connection's
 * node-to-node server (every responder, and the node-to-client
 * protocols), its node-to-node client (the initiator: chain-sync,
 * block-fetch, keep-alive, tx-submission), and the bridge from the
 * ledger's refusals to MsgRejectTx. They speak through the wire layer
 * (wire.h), reach the chain through the narrow interface the caller
 * supplies (cdl_n2n_chain; cdl_n2n_chain_of_chaindb serves a ChainDB),
 * and read the mempool. Nothing here touches a socket or a clock: bytes
 * and the time come in as arguments.
 */
#ifndef CARDINAL_NET_H
#define CARDINAL_NET_H

#include "cardinal/mempool.h"
#include "cardinal/storage.h"
#include "cardinal/wire.h"

/* ---- Refusals on the wire (apply_tx_error.c) ---- */
/* The MsgRejectTx reason for a refusal (apply_tx_error.c), and for a tx of
 * another era than Byron. */
void cdl_net_enc_apply_tx_error(cdl_buf *b, const cdl_rejection *rej);
void cdl_net_enc_era_mismatch(cdl_buf *b, uint64_t tx_era);
/* The rule a reason names: Cardinal's rule name, CDL_RULE_MISSING_INPUT,
 * "era_mismatch", or "ledger" for another Haskell-shaped error. */
int cdl_net_read_apply_tx_error(cdl_span reason, char *rule, size_t rule_cap, cdl_error *err);

/* ---- The chain the server serves (docs/network.md "Chain interface") ------
 * What the server engine needs of chain data, and nothing more: the
 * kernel supplies it (over its ChainDB, cdl_n2n_chain_of_chaindb), a test
 * a fake chain in memory. Points, block summaries (cdl_block_info) and
 * follower steps (cdl_follow_kind) are storage's types; blocks are in
 * their stored form (wrapped [0|1, block]). */
typedef struct cdl_n2n_chain {
  void *ctx; /* passed to each call; outlives every server given it */
  /* The selected chain's tip, and its immutable tip (k blocks back at
   * most); false when that chain is empty. */
  bool (*tip)(void *ctx, cdl_block_info *tip);
  bool (*immutable_tip)(void *ctx, cdl_block_info *tip);
  /* Any block the chain knows by |p| (on the selected chain or on a
   * fork), its bytes appended to |out| and its summary in |info| (either
   * may be NULL); CDL_E_NOT_FOUND when unknown. */
  int (*read_block)(void *ctx, const cdl_point *p, cdl_buf *out, cdl_block_info *info,
                    cdl_error *err);
  /* The block with this number on the selected chain; CDL_E_NOT_FOUND
   * past the tip. */
  int (*find_block_no)(void *ctx, uint64_t block_no, cdl_block_info *info, cdl_error *err);
  /* Followers, with the semantics of storage's (storage.h "Followers"):
   * one starts at the origin; |reader| (block-fetch) asks for one that
   * reads ranges and keeps no record of what it handed out. */
  int (*follower_new)(void *ctx, bool reader, void **out, cdl_error *err);
  void (*follower_del)(void *ctx, void *f); /* f may be NULL */
  /* Moves to the first of |points| on the selected chain (*found_any
   * false, position unchanged, when none is). */
  int (*follower_intersect)(void *ctx, void *f, const cdl_point *points, size_t n,
                            cdl_point *found, bool *found_any, cdl_error *err);
  /* FORWARD: the next block of the selected chain (|info|; its bytes
   * appended to |block| unless NULL). BACKWARD: the selected chain no
   * longer holds the position (a fork switch): |to| is the newest point
   * both share, where the follower now stands. AWAIT: at the tip. */
  int (*follower_next)(void *ctx, void *f, cdl_follow_kind *kind, cdl_block_info *info,
                       cdl_point *to, cdl_buf *block, cdl_error *err);
  /* The local state query's one ledger view: the Byron update state at
   * the tip (GetUpdateInterfaceState's answer, cdl_ledger_encode_update_state),
   * appended to |out|. */
  int (*encode_update_state)(void *ctx, cdl_buf *out, cdl_error *err);
  /* The tip's ledger, for Cardinal's own queries (the UTxO, the chain's
   * constants; docs/network.md "Cardinal's own queries"); NULL (or no
   * function) when the chain has none: those queries then end the
   * connection, as on a node that does not know them. */
  const cdl_ledger *(*ledger)(void *ctx);
} cdl_n2n_chain;
/* The interface over a ChainDB (chain_chaindb.c), which outlives every
 * server given it. */
void cdl_n2n_chain_of_chaindb(cdl_chaindb *db, cdl_n2n_chain *out);

/* ---- Node-to-node server: one inbound connection (server.c) ---------------
 * The responder side of the handshake, chain-sync (headers of the
 * |chain|'s selected chain), block-fetch (ranges of it), keep-alive and
 * tx-submission (MsgInit, then idle), with the real node's per-state byte
 * and time limits. Feed it bytes with _recv, call _poll when its deadline
 * passes or the chain may have changed (_wants_poll), and write out what
 * _next_sdu gives. Any error is a violation or a failure: close the
 * connection and delete the server. */

typedef struct cdl_n2n_server cdl_n2n_server;

/* |chain| is copied (its ctx must outlive the server). */
int cdl_n2n_server_new(const cdl_n2n_chain *chain, const cdl_hs_config *hs, uint64_t now_us,
                       cdl_n2n_server **out, cdl_error *err);
/* Full duplex (docs/network.md "Full duplex"): a server for the
 * responder side of a node-to-node connection whose handshake was our
 * initiator's (an outbound connection that agreed on both directions),
 * on that connection's multiplexer |mux| (which outlives it), with the
 * agreed |version|. It starts ready. */
int cdl_n2n_server_attach(cdl_mux *mux, const cdl_n2n_chain *chain, const cdl_hs_config *hs,
                          uint32_t version, uint64_t now_us, cdl_n2n_server **out,
                          cdl_error *err);
/* A node-to-node connection whose handshake agreed on both directions
 * (InitiatorAndResponder: neither side initiator-only). */
bool cdl_n2n_server_duplex(const cdl_n2n_server *s);
cdl_mux *cdl_n2n_server_mux(cdl_n2n_server *s);
/* The node-to-node responder channels (chain-sync, block-fetch,
 * keep-alive, tx-submission) with their ingress bounds, added to |mux|
 * where missing; and whether none of them holds a byte. */
int cdl_n2n_responder_channels(cdl_mux *mux, cdl_error *err);
bool cdl_n2n_responder_idle(const cdl_mux *mux);
void cdl_n2n_server_del(cdl_n2n_server *s);
int cdl_n2n_server_recv(cdl_n2n_server *s, const uint8_t *data, size_t len, uint64_t now_us,
                        cdl_error *err);
int cdl_n2n_server_poll(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
bool cdl_n2n_server_next_sdu(cdl_n2n_server *s, uint64_t now_us, cdl_buf *out);
/* When _poll must run at the latest (a time limit); UINT64_MAX: none. */
uint64_t cdl_n2n_server_deadline(const cdl_n2n_server *s);
/* Work waits on the chain or on egress room (poll after writing). */
bool cdl_n2n_server_wants_poll(const cdl_n2n_server *s);
/* The handshake accepted a version (its wire number). */
bool cdl_n2n_server_ready(const cdl_n2n_server *s);
uint32_t cdl_n2n_server_version(const cdl_n2n_server *s);
/* Refused or queried: close once the reply is written. */
bool cdl_n2n_server_finished(const cdl_n2n_server *s);
/* The genesis start time, for the state query GetSystemStart. */
void cdl_n2n_server_set_system_start(cdl_n2n_server *s, uint64_t unix_seconds);
/* The genesis slot length, for Cardinal's chain-constants query (0, the
 * default: that query ends the connection, as an unknown one does). */
void cdl_n2n_server_set_slot_ms(cdl_n2n_server *s, uint64_t slot_ms);
/* How long a local submission refused only because the mempool is full
 * (CDL_RULE_MEMPOOL_FULL) waits for room before that refusal is its
 * answer: Cardinal's own limit (docs/network.md "Local tx-submission").
 * The Haskell node waits without a limit (its local tx-submission runs
 * without time limits, and its mempool's addTx blocks until there is
 * room); a client's read timeout must be longer than this. */
#define CDL_LOCAL_TX_WAIT_MS 60000
/* How a transaction that a peer (tx-submission) or a client (local
 * tx-submission) hands over is judged and kept: the caller decides which
 * ledger and which slot judge it (the node kernel: its tip's ledger at
 * its current slot, docs/node.md "Kernel"). Returns 0 (kept),
 * CDL_E_REJECTED with |rej| filled, or CDL_E_NOMEM. */
typedef struct cdl_n2n_tx_judge {
  int (*submit)(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej);
  void *ctx;
} cdl_n2n_tx_judge;
/* What the engines read of the transactions waiting (the mempool's
 * entries, in ticket order): tx-submission offers them, tx-monitor
 * lists them, both ask whether one is held. The kernel's reads its
 * mempool; a test may give any other. */
typedef struct cdl_n2n_txs {
  void *ctx; /* NULL with |next| NULL: no transaction protocols */
  bool (*next)(void *ctx, uint64_t after, cdl_mempool_entry *e); /* first ticket above */
  bool (*find)(void *ctx, uint8_t kind, const uint8_t id[32], cdl_mempool_entry *e);
  uint64_t (*changes)(void *ctx); /* grows with every change (tx-monitor's await) */
  void (*stats)(void *ctx, cdl_mempool_stats *s);
  /* Pulls shared by the node's inbound sides, so that a tx advertised by
   * several peers is pulled from one (cdl_mempool_fetch_*; NULL claim:
   * each side pulls every tx it lacks). */
  bool (*claim)(void *ctx, uint8_t kind, const uint8_t id[32], const void *owner);
  void (*release)(void *ctx, uint8_t kind, const uint8_t id[32], const void *owner);
  void (*release_all)(void *ctx, const void *owner);
  uint64_t (*claims_changes)(void *ctx);
} cdl_n2n_txs;
/* The reads over |mp| (NULL: none). */
cdl_n2n_txs cdl_n2n_txs_of_mempool(cdl_mempool *mp);

/* A judge for a server without a node kernel (tests, tools): |mp| over
 * |db|'s tip ledger, at the slot after the tip. It outlives the server
 * (chain_chaindb.c). */
typedef struct cdl_n2n_tip_judge {
  cdl_chaindb *db;
  cdl_mempool *mp;
} cdl_n2n_tip_judge;
cdl_n2n_tx_judge cdl_n2n_tip_judge_of(cdl_n2n_tip_judge *j);
/* The transactions that local tx-monitor and tx-submission read, and
 * the judge that takes new ones (txs.next NULL, the default: those
 * protocols are not run). Before the handshake. */
void cdl_n2n_server_set_txs(cdl_n2n_server *s, cdl_n2n_txs txs, cdl_n2n_tx_judge judge);

/* What a server has done, for the node's metrics. */
typedef struct cdl_n2n_server_stats {
  uint64_t blocks_served;  /* block-fetch and local chain-sync blocks sent */
  uint64_t headers_served; /* node-to-node chain-sync headers sent */
  uint64_t txs_received, txs_accepted; /* tx-submission and local tx-submission */
  /* Back-pressure (docs/network.md "Local tx-submission", "Serving"):
   * txs that wait for mempool room now (a local submission, a peer's txs
   * not yet added), that had to wait in all, and local submissions
   * refused as mempool.full after waiting CDL_LOCAL_TX_WAIT_MS. */
  uint64_t txs_waiting, txs_waited, tx_waits_expired;
  /* Tx ids this side left to another connection already pulling them,
   * whose txs then came that way (docs/mempool.md "One pull per tx"). */
  uint64_t tx_pulls_saved;
} cdl_n2n_server_stats;
cdl_n2n_server_stats cdl_n2n_server_stats_get(const cdl_n2n_server *s);

/* ---- Node-to-node client: one outbound connection (client.c) -------------
 * The initiator side: handshake, chain-sync of headers with up to
 * |pipeline| requests in flight, block-fetch of the announced headers in
 * ranges of |fetch_batch| blocks (up to |fetch_ranges| in flight), and
 * keep-alive every 10 s with the round trip measured; with a |mempool|,
 * tx-submission v2 offering its entries to the peer (call _poll after the
 * mempool changes: a blocked request for ids is answered then). Each
 * header must extend the one before it; each block must be the one its
 * header announced. Blocks go to |on_block| in chain order; an error from it (an
 * invalid block) ends the connection like a violation. Driven like the
 * server: _recv, _poll at the deadline, _next_sdu. */

#define CDL_CLIENT_MAX_PIPELINE 1000

/* A fetched block, parsed once by the client (docs/storage.md "One parse
 * per block"): decoded with the configured epoch_slots, its header hashed
 * by the decoder and that hash checked against the announced header's. One
 * whose header hashes to the announced one but that does not decode comes
 * with block->rc set (the ChainDB refuses it under the decoder's rule).
 * Valid for the call only (the decoding lives in the client's arena);
 * cdl_chaindb_add_parsed takes it as it is. */
typedef int (*cdl_n2n_block_fn)(void *ctx, const cdl_parsed_block *block, cdl_error *err);

/* Block-fetch decisions shared by several connections (the node kernel's,
 * docs/node.md "Block-fetch decisions"). Before an announced block is
 * requested the client asks |decide|, in chain order:
 *   NOW   request it; the decider counts it in flight for this connection
 *         until on_block gets it or |dropped| says it will not come;
 *   HAVE  it is stored already: skipped (once nothing is in flight, so
 *         blocks still arrive in chain order);
 *   LATER not now (in flight elsewhere, the peer's chain is not better,
 *         a byte budget is spent): asked again at the next poll. */
typedef enum cdl_fetch_verdict { CDL_FETCH_NOW = 0, CDL_FETCH_HAVE, CDL_FETCH_LATER } cdl_fetch_verdict;
typedef struct cdl_n2n_fetch_ops {
  cdl_fetch_verdict (*decide)(void *ctx, const cdl_point *block, uint64_t block_no,
                              uint32_t size_hint, const cdl_tip *peer_tip);
  void (*dropped)(void *ctx, const uint8_t hash[32]); /* the peer answered MsgNoBlocks */
} cdl_n2n_fetch_ops;

typedef struct cdl_n2n_client_config {
  cdl_hs_config hs;
  uint64_t epoch_slots;  /* 10 k */
  size_t pipeline;       /* chain-sync requests in flight; 1: no pipelining */
  size_t fetch_batch;    /* blocks per range; 0: 256 */
  size_t fetch_ranges;   /* ranges in flight; 0: 2 */
  const cdl_point *known; /* intersection candidates, best first; none: origin */
  size_t n_known;
  cdl_n2n_block_fn on_block;
  void *ctx;
  cdl_n2n_txs txs;       /* offered over tx-submission; .next NULL: not run */
  const cdl_n2n_fetch_ops *fetch; /* with |ctx|; NULL: every announced block, in order */
  /* NULL, or the pool that parses and checks fetched blocks on several
   * threads before on_block gets them (docs/node.md "Signature checks on
   * every core"); the caller's, outliving the client. */
  cdl_parse_pool *parse_pool;
  /* With a pool: how long the blocks of one read may wait for the next
   * read before they are handed over (docs/node.md "Signature checks on
   * every core"), so that the workers parse them while this thread reads;
   * 0: every block before the read returns, which a simulation needs
   * (its runs must not depend on how fast the threads are). */
  uint64_t carry_us;
} cdl_n2n_client_config;

typedef struct cdl_n2n_client_stats {
  uint64_t headers, blocks, block_bytes, rollbacks;
  uint64_t ka_rtt_us;      /* the last keep-alive round trip; 0: none yet */
  uint64_t ka_rtt_samples;
  uint64_t tx_ids_offered, txs_sent; /* tx-submission, outbound */
  cdl_tip peer_tip;        /* as the peer last said */
  cdl_point intersection;  /* where chain-sync started */
} cdl_n2n_client_stats;

typedef struct cdl_n2n_client cdl_n2n_client;

int cdl_n2n_client_new(const cdl_n2n_client_config *cfg, uint64_t now_us, cdl_n2n_client **out,
                       cdl_error *err);
void cdl_n2n_client_del(cdl_n2n_client *c);
int cdl_n2n_client_recv(cdl_n2n_client *c, const uint8_t *data, size_t len, uint64_t now_us,
                        cdl_error *err);
int cdl_n2n_client_poll(cdl_n2n_client *c, uint64_t now_us, cdl_error *err);
bool cdl_n2n_client_next_sdu(cdl_n2n_client *c, uint64_t now_us, cdl_buf *out);
uint64_t cdl_n2n_client_deadline(const cdl_n2n_client *c);
/* Full duplex (docs/network.md "Full duplex"). A client whose proposal
 * is not initiator-only offers both directions: the responder channels
 * are opened at once, and it is duplex once the peer accepted without
 * initiator-only; then the caller attaches a server
 * (cdl_n2n_server_attach) to its multiplexer. Otherwise a request for
 * our responder is a violation. cdl_n2n_client_attach makes the
 * initiator side of a connection whose handshake was our responder's
 * (an inbound connection that agreed on both directions), on its
 * multiplexer |mux| (which outlives it): it starts at once, with the
 * intersection. */
int cdl_n2n_client_attach(cdl_mux *mux, const cdl_n2n_client_config *cfg, uint64_t now_us,
                          cdl_n2n_client **out, cdl_error *err);
bool cdl_n2n_client_duplex(const cdl_n2n_client *c);
/* The connection was a TCP simultaneous open: both sides dialled and
 * each took the other's proposal as the choice (no reply is sent). */
bool cdl_n2n_client_simultaneous(const cdl_n2n_client *c);
bool cdl_n2n_client_ready(const cdl_n2n_client *c);
cdl_mux *cdl_n2n_client_mux(cdl_n2n_client *c);
/* Ends this client's mini-protocols while the connection goes on (the
 * other direction of a duplex connection, or tx-submission): it asks
 * nothing new, and sends chain-sync's MsgDone, block-fetch's
 * MsgClientDone and keep-alive's MsgDone as soon as each is idle (a
 * chain-sync request in flight is answered first, at the peer's next
 * block). Finished once all three are sent. */
void cdl_n2n_client_finish(cdl_n2n_client *c);
bool cdl_n2n_client_finished(const cdl_n2n_client *c);
/* At the peer's tip: it said "await", and every announced block is in. */
bool cdl_n2n_client_synced(const cdl_n2n_client *c);
cdl_n2n_client_stats cdl_n2n_client_stats_get(const cdl_n2n_client *c);

#endif /* CARDINAL_NET_H */
