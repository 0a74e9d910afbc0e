/*
 * client_internal.h: the state of one node-to-node initiator connection
 * (client.c drives it and runs the handshake; client_protocols.c holds
 * chain-sync, block-fetch and keep-alive; client_parse.c parses the
 * blocks fetched; client_txsub.c offers the mempool's txs over
 * tx-submission).
 */
#ifndef CARDINAL_NET_CLIENT_INTERNAL_H
#define CARDINAL_NET_CLIENT_INTERNAL_H

#include "cardinal/net.h"
#include "server_internal.h" /* TRY_NET, SEC_US */

/* Headers announced and not yet fetched, and those being fetched. */
#define CLIENT_RING 8192
#define CLIENT_RETRY 64 /* blocks of refused ranges waiting to be asked again */
#define CLIENT_MAX_RANGES 8
/* Time limits where the server has agency (
 * docs/ouroboros-network.md 5.1). MustReply: the top of the real node's range
 * for untrusted peers. */
#define CL_HANDSHAKE_TIMEOUT_US (10 * SEC_US)
#define CL_CS_INTERSECT_TIMEOUT_US (10 * SEC_US)
#define CL_CS_CAN_AWAIT_TIMEOUT_US (10 * SEC_US)
#define CL_CS_MUST_REPLY_TIMEOUT_US (911 * SEC_US)
#define CL_BF_TIMEOUT_US (60 * SEC_US)
#define CL_KA_TIMEOUT_US (60 * SEC_US)
#define CL_KA_INTERVAL_US (10 * SEC_US)

#define CL_SMALL_LIMIT 65535 /* smallByteLimit: a state's bound for short messages */
#define CL_TX_MAX_UNACKED 10 /* maxUnacknowledgedTxIds, the same on both sides */

enum { CL_CS_INTERSECT = 1, CL_CS_RUNNING };
enum { CL_DONE_CS = 1, CL_DONE_BF = 2, CL_DONE_KA = 4, CL_DONE_ALL = 7 };
/* Tx-submission, outbound: the peer's turn, or a blocking request for ids
 * that waits until the mempool has a tx not offered yet. */
enum { CL_TX_IDLE = 0, CL_TX_BLOCKED };

typedef struct cl_offer {
  uint8_t kind;
  uint8_t hash[32];
} cl_offer;

typedef struct hdr_entry {
  uint64_t slot, block_no;
  uint32_t size_hint;
  uint8_t hash[32];
} hdr_entry;

/* Blocks parsed ahead on the pool (client_parse.c): at most so many, of
 * at most so many bytes; a job keeps its buffers for the next block
 * unless its block was larger than CL_AHEAD_KEEP. */
#define CL_AHEAD_JOBS 64
#define CL_AHEAD_BYTES (4u << 20)
#define CL_AHEAD_KEEP (64u << 10)
typedef struct cl_ahead {
  cdl_parse_job job;
  uint8_t want[32]; /* the block asked for */
  uint64_t want_no;
} cl_ahead;

struct cdl_n2n_client {
  cdl_n2n_client_config cfg;
  cdl_point *known;
  cdl_mux *mux;   /* own_mux, or the connection's when attached to one */
  cdl_mux own_mux;
  int ch_hs, ch_cs, ch_bf, ch_ka, ch_tx;
  int ch_hs_peer; /* offering duplex: the peer's own proposal (simultaneous open) */
  bool ready;
  bool duplex; /* the handshake agreed on both directions (ours or attached) */
  bool simultaneous; /* the handshake was a simultaneous open */
  bool finishing; /* cdl_n2n_client_finish: no new requests; each protocol's end once idle */
  bool failed;    /* block-fetch ended the connection (a block refused, a violation) */
  uint8_t done;   /* CL_DONE_* bits: the MsgDone sent */
  uint64_t started_us;
  struct {
    int state;
    size_t in_flight; /* requests not yet answered by a roll */
    bool awaiting;    /* the oldest of them got MsgAwaitReply */
    uint64_t since;   /* the wait for the next message began */
    bool has_last;
    uint8_t last_hash[32]; /* the header the next one must extend */
  } cs;
  /* Ring positions, counted from the start: [head, req) requested,
   * [req, tail) announced, not requested. */
  hdr_entry *ring;
  uint64_t head, req, tail;
  struct {
    size_t left[CLIENT_MAX_RANGES]; /* blocks still due per range, oldest first */
    /* A range asked again for one block a refused range held (its
     * header here, not at the ring's head): client_protocols.c. */
    bool again[CLIENT_MAX_RANGES];
    hdr_entry again_hdr[CLIENT_MAX_RANGES];
    size_t n;
    bool streaming;
    uint64_t since;
  } bf;
  /* Announced blocks of a range the server answered with NoBlocks (it
   * switched chains meanwhile), to ask again one by one: those still on
   * its chain come, the others are refused again and forgotten. */
  hdr_entry retry[CLIENT_RETRY];
  size_t n_retry;
  struct {
    bool waiting;
    uint16_t cookie;
    uint64_t sent_us, next_us;
  } ka;
  struct {
    int state;
    uint16_t want;                       /* a blocked request's number of ids */
    uint64_t last_ticket;                /* the newest mempool entry offered */
    cl_offer unacked[CL_TX_MAX_UNACKED]; /* offered, not acknowledged, oldest first */
    size_t n_unacked;
  } tx;
  struct {
    cl_ahead *jobs; /* CL_AHEAD_JOBS, made at the first block; a ring */
    size_t first, n, bytes;
    uint64_t read_us; /* when the read that left some in it came */
  } ahead;
  cdl_n2n_client_stats st;
  cdl_buf msg;
  cdl_arena arena;
};

int cl_queue(cdl_n2n_client *c, int ch, cdl_error *err);
/* Decoding outcome |rc| for |have| bytes (|used| by a decoded message):
 * a message (|got|), wait, or a failure (over |limit| or undecodable). */
int cl_judge(int rc, size_t have, const size_t *used, size_t limit, const char *proto, bool *got,
             cdl_error *err);
/* The violation of a message the server may not send in this state. */
int cl_unexpected(const char *proto, const char *msg, cdl_error *err);
int cl_chain_sync(cdl_n2n_client *c, uint64_t now_us, cdl_error *err);
int cl_block_fetch(cdl_n2n_client *c, uint64_t now_us, cdl_error *err);
int cl_keep_alive(cdl_n2n_client *c, uint64_t now_us, cdl_error *err);
/* A block-fetch MsgBlock asked for as |want| (client_parse.c): handed over
 * now, or parsed ahead on the pool. */
int cl_block_received(cdl_n2n_client *c, cdl_span block, const hdr_entry *want, cdl_error *err);
/* Hands over every block parsed ahead, in order; on a failure the rest
 * are dropped. */
int cl_parse_flush(cdl_n2n_client *c, cdl_error *err);
/* Waits for every block parsed ahead and drops them. */
void cl_parse_drop(cdl_n2n_client *c);
void cl_parse_free(cdl_n2n_client *c);
int cl_tx_submission(cdl_n2n_client *c, cdl_error *err);
/* Answers a blocked request for ids once the mempool has new entries. */
int cl_tx_offer(cdl_n2n_client *c, cdl_error *err);
/* Sends what the state allows: requests, ranges, a keep-alive. */
int cl_drive(cdl_n2n_client *c, uint64_t now_us, cdl_error *err);

#endif
