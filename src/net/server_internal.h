/*
 * server_internal.h: the state of one node-to-node responder connection
 * (server.c drives it, server_protocols.c holds its mini-protocols).
 */
#ifndef CARDINAL_NET_SERVER_INTERNAL_H
#define CARDINAL_NET_SERVER_INTERNAL_H

#include <string.h>

#include "cardinal/net.h"

#define SEC_US 1000000ull
/* Time limits of the states where the client has agency (
 * docs/ouroboros-network.md 5.1). */
#define HANDSHAKE_TIMEOUT_US (10 * SEC_US)
#define CS_IDLE_TIMEOUT_US (3373 * SEC_US)
#define KA_CLIENT_TIMEOUT_US (97 * SEC_US)

/* States; "client" states are where we read, with their limits. */
enum { CS_IDLE = 1, CS_MUST_REPLY, CS_DONE };
enum { BF_IDLE = 1, BF_STREAMING, BF_DONE };
enum { KA_CLIENT = 0, KA_DONE };
enum { TX_INIT = 0, TX_IDLE, TX_IDS_BLOCKING, TX_IDS_NONBLOCKING, TX_TXS, TX_DONE };
/* HELD: received, waiting for mempool room (not acknowledged yet). */
enum { TXID_NEW = 0, TXID_REQUESTED, TXID_HELD, TXID_DONE };
#define SRV_MAX_UNACKED 10                /* maxUnacknowledgedTxIds */
#define TX_REPLY_TIMEOUT_US (10 * SEC_US) /* non-blocking ids, txs: shortWait */
/* How long a tx another connection is pulling is left to it before this
 * one pulls it too (server_txsub.c): one Byron slot. */
#define TX_DEFER_US (1 * SEC_US)
#define LOCAL_TX_WAIT_US (CDL_LOCAL_TX_WAIT_MS * 1000ull)

/* A tx id the peer announced and we have not acknowledged yet. */
typedef struct srv_txid {
  uint8_t kind, state;
  bool deferred; /* left once to another connection's pull */
  uint8_t hash[32];
  uint32_t size;
} srv_txid;

/* A peer's tx that waits for mempool room: its id's place in the window,
 * its GenTx's place in the held bytes. */
typedef struct srv_held {
  uint8_t id;
  uint32_t off, len;
} srv_held;

/* A judge's refusal only for want of room now (a wait may end it). */
static inline bool srv_mempool_full(const cdl_rejection *rej) {
  return rej->rule != NULL && strcmp(rej->rule, CDL_RULE_MEMPOOL_FULL) == 0;
}
enum { LSQ_IDLE = 0, LSQ_ACQUIRED, LSQ_DONE };
enum { LTX_IDLE = 0, LTX_DONE };
enum { LTM_IDLE = 0, LTM_ACQUIRED, LTM_AWAITING, LTM_DONE };

/* A message with a block larger than the egress budget, queued in pieces
 * (server_parts.c). */
enum { SRV_PART_BLOCK = 1, SRV_PART_ROLL_FORWARD };
typedef struct srv_shared_msg srv_shared_msg;
typedef struct srv_part {
  bool active;
  int ch, kind;
  cdl_point point; /* the block's */
  cdl_tip tip;     /* a roll-forward's, as first sent */
  size_t total, sent;
  srv_shared_msg *shared; /* the bytes, kept once for every connection; NULL: read again */
} srv_part;

struct cdl_n2n_server {
  cdl_n2n_chain chain; /* the caller's (docs/network.md "Chain interface") */
  cdl_hs_config hs;
  cdl_hs_result hs_result;
  cdl_mux *mux;   /* own_mux, or the connection's when attached to one */
  cdl_mux own_mux;
  /* Attached (full duplex): the peer's initiator starts when it likes, so
   * the time limits on its first requests run from its first message. */
  bool awaiting_peer;
  bool handshake_done, ready, finished;
  bool local; /* node-to-client: local chain-sync (whole blocks), state query */
  uint64_t system_start_unix;
  uint64_t slot_ms; /* the genesis slot length; 0: not given */
  cdl_n2n_txs txs;        /* .next NULL: no transaction protocols */
  cdl_n2n_tx_judge judge; /* the caller's: which ledger and slot judge a tx */
  uint32_t version;
  uint64_t started_us;
  uint64_t blocks_served, headers_served;
  int ch_hs, ch_cs, ch_bf, ch_ka, ch_tx, ch_lsq, ch_ltx, ch_ltm;
  struct {
    int state;
    void *f; /* the chain's follower */
    bool rollback_pending;
    cdl_point rollback_to;
    uint64_t since; /* when Idle began */
  } cs;
  struct {
    int state;
    void *f; /* the chain's reader */
    cdl_point to;
    bool first_pending; /* the range's first block is not sent yet */
    bool last_sent;     /* the batch's last block is queued (or begun) */
    cdl_point from;
  } bf;
  struct {
    int state;
    uint64_t since;
  } ka;
  struct {
    int state;
    uint64_t since;                /* when a reply became due */
    srv_txid ids[SRV_MAX_UNACKED]; /* unacknowledged, oldest first */
    size_t n_ids;
    uint16_t asked;   /* ids in the last request */
    size_t requested; /* txs in the last request */
    uint64_t received, accepted;
    /* Txs of the last reply that wait for mempool room, in the order they
     * came; nothing is asked of the peer while one does (server_txsub.c). */
    srv_held held[SRV_MAX_UNACKED];
    size_t n_held, next_held; /* next_held: the first not yet added */
    cdl_buf held_bytes;       /* their GenTxs, back to back */
    uint64_t held_version;    /* the mempool's change count at the last try */
    uint64_t waited;          /* txs that had to wait, in all */
    /* Ids left unpulled because another connection is pulling them: this
     * side waits for those pulls to end, at most TX_DEFER_US. */
    bool deferring;
    uint64_t defer_since;   /* when the wait began */
    uint64_t defer_version; /* txs.claims_changes when it last looked */
    uint64_t pulls_saved;   /* ids left to another pull whose tx came that way */
  } tx;
  struct {
    int state;
    cdl_point point; /* acquired: the state's tip */
    uint64_t block_no;
  } lsq;
  struct {
    int state;
    uint64_t submitted, accepted;
    /* A submission that waits for mempool room (server_localtx.c): it stays
     * at the head of the channel's ingress until answered. */
    bool waiting;
    uint64_t wait_since;   /* when it began to wait */
    uint64_t wait_version; /* the mempool's change count at the last try */
    uint64_t waited, expired; /* submissions that waited; refused after the limit */
  } ltx;
  struct {
    int state;
    uint64_t snapshot_ticket; /* the newest ticket when acquired */
    uint64_t cursor;          /* the last ticket MsgNextTx gave */
    uint64_t version;         /* the mempool's change count when acquired */
  } ltm;
  srv_part part;
  cdl_buf msg;    /* a message being encoded */
  cdl_buf block;  /* a block being sent */
  cdl_buf header; /* a wrapped header being sent */
};

void srv_tip(cdl_n2n_server *s, cdl_tip *t);
int srv_queue(cdl_n2n_server *s, int ch, cdl_error *err);
/* Whether the connection's egress has room for another message: no
 * request is taken, and no block produced, while it has none (docs/
 * network.md "Bounded connections"). */
bool srv_room(const cdl_n2n_server *s);
/* Queues the message in s->msg, which carries the block at |at| (|tip|:
 * a roll-forward's, else NULL): whole if it fits the budget, else its
 * first piece, the rest as room comes (srv_part_go). */
int srv_queue_block_msg(cdl_n2n_server *s, int ch, int kind, const cdl_point *at,
                        const cdl_tip *tip, cdl_error *err);
/* The next pieces of a message in pieces, while the egress has room. */
int srv_part_go(cdl_n2n_server *s, cdl_error *err);
/* Lets go of the shared copy of a message in pieces (at its end, or when
 * the connection goes). */
void srv_part_release(cdl_n2n_server *s);
/* Whether channel |ch| is in the middle of a message in pieces: nothing
 * else may be queued on it. */
bool srv_part_busy(const cdl_n2n_server *s, int ch);
int srv_chain_sync(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
int srv_chain_sync_wake(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
int srv_block_fetch(cdl_n2n_server *s, cdl_error *err);
int srv_block_fetch_stream(cdl_n2n_server *s, cdl_error *err);
int srv_keep_alive(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
int srv_tx_submission(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
/* When the peer's reply is due at the latest; UINT64_MAX: none. */
uint64_t srv_tx_submission_deadline(const cdl_n2n_server *s);
/* When ids left to another connection's pull are pulled here anyway. */
uint64_t srv_tx_submission_defer_deadline(const cdl_n2n_server *s);
/* Txs wait for mempool room and the mempool changed since the last try. */
bool srv_tx_submission_waiting(const cdl_n2n_server *s);
/* Tries them again, in order; once none waits, the exchange goes on. */
int srv_tx_submission_wake(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
int srv_local_state_query(cdl_n2n_server *s, cdl_error *err);
/* Fails unless the tip is still the acquired point: only the tip's
 * ledger state is kept. */
int srv_lsq_at_tip(cdl_n2n_server *s, cdl_error *err);
/* Cardinal's own queries (server_local_cardinal.c): the answer to |q|,
 * one of them (cdl_lsq_is_cardinal_query), appended to |r|. */
int srv_lsq_cardinal(cdl_n2n_server *s, cdl_span q, cdl_buf *r, cdl_error *err);
int srv_local_tx_submission(cdl_n2n_server *s, uint64_t now_us, cdl_error *err);
/* A submission waits for mempool room and the mempool changed since the
 * last try; and when its wait ends at the latest (UINT64_MAX: none). */
bool srv_local_tx_waiting(const cdl_n2n_server *s);
uint64_t srv_local_tx_deadline(const cdl_n2n_server *s);
int srv_local_tx_monitor(cdl_n2n_server *s, cdl_error *err);
/* An await-acquire waits and the mempool has changed since. */
bool srv_local_tx_monitor_waiting(const cdl_n2n_server *s);
int srv_local_tx_monitor_wake(cdl_n2n_server *s, cdl_error *err);

#endif
