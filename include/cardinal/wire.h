/*
 * cardinal/wire.h: the wire layer of the Ouroboros network protocol, sans
 * I/O (docs/design.md section 3; wire details in docs/network.md, after
 * the ouroboros-network specification and code): the multiplexer (SDU
 * framing, per-protocol ingress with byte bounds, fair egress), the
 * handshake and the message codecs of every mini-protocol. It depends on
 * cbor and byron only (points are byron's); the protocol engines that
 * reach the chain and the mempool are in net.h. Nothing here touches a
 * socket or a clock: bytes and the time come in as arguments.
 *
 * Every decoder reads exactly one message from the front of a byte range
 * and says how many bytes it took; CDL_E_TRUNCATED means "not all there
 * yet", any other error is a protocol violation by the peer.
 */
#ifndef CARDINAL_WIRE_H
#define CARDINAL_WIRE_H

#include "cardinal/base.h"
#include "cardinal/cbor.h"
#include "cardinal/byron.h"

/* ---- Mini-protocol numbers (ouroboros-network NodeToNode/NodeToClient) -- */

enum {
  CDL_PROTO_HANDSHAKE = 0,
  CDL_PROTO_CHAIN_SYNC = 2,
  CDL_PROTO_BLOCK_FETCH = 3,
  CDL_PROTO_TX_SUBMISSION = 4,
  CDL_PROTO_LOCAL_CHAIN_SYNC = 5,
  CDL_PROTO_LOCAL_TX_SUBMISSION = 6,
  CDL_PROTO_LOCAL_STATE_QUERY = 7,
  CDL_PROTO_KEEP_ALIVE = 8,
  CDL_PROTO_LOCAL_TX_MONITOR = 9
};

/* ---- SDU (segment) header: 8 bytes, big-endian --------------------------
 *   u32 transmission time (µs, low 32 bits) | u1 M | u15 protocol | u16 n
 * M = 0: sent by the protocol's initiator; M = 1: by its responder. */

#define CDL_SDU_HEADER 8
#define CDL_SDU_MAX_SEND 12288 /* what the Haskell socket bearer sends */

typedef struct cdl_sdu_header {
  uint32_t time_us;
  uint16_t protocol;   /* 0..32767 */
  bool from_responder; /* M */
  uint16_t length;     /* payload bytes; 0 is refused on receipt */
} cdl_sdu_header;

void cdl_sdu_header_encode(const cdl_sdu_header *h, uint8_t out[CDL_SDU_HEADER]);
void cdl_sdu_header_decode(const uint8_t in[CDL_SDU_HEADER], cdl_sdu_header *h);

/* ---- Multiplexer ---------------------------------------------------------
 * One per connection. Channels are (protocol, our role): an SDU with M = 0
 * comes from the peer's initiator and goes to our responder channel of
 * that protocol, M = 1 to our initiator channel. Payload bytes collect in
 * the channel's ingress buffer, bounded by its limit; the engines take
 * whole messages from there. Egress: each channel queues message bytes;
 * cdl_mux_next_sdu cuts them into SDUs of at most CDL_SDU_MAX_SEND bytes,
 * one SDU per ready channel in turn (round-robin). */

#define CDL_MUX_MAX_CHANNELS 16
/* The egress budget of a connection (docs/network.md "Bounded
 * connections"): an engine produces a reply, a block or a request only
 * while the bytes queued on all its channels are under it, so a peer that
 * reads slowly slows its own stream, and one that does not read stops it.
 * What a connection queues is then at most the budget plus one message. */
#define CDL_MUX_EGRESS_BUDGET ((size_t)32 << 10)
/* The largest message queued at once: a block-fetch MsgBlock of a block
 * at Byron's 2,000,000-byte limit with its envelope, and room to spare. */
#define CDL_MUX_MESSAGE_MAX ((size_t)2 << 20)

typedef struct cdl_mux_channel {
  uint16_t protocol;
  bool initiator;       /* our side of this protocol */
  size_t ingress_limit; /* bytes the peer may have queued here */
  cdl_buf in;           /* received, not yet consumed */
  size_t in_head;       /* consumed bytes at the front of |in| */
  cdl_buf out;          /* queued to send */
  size_t out_head;      /* sent bytes at the front of |out| */
  uint64_t bytes_in, bytes_out;
} cdl_mux_channel;

typedef struct cdl_mux {
  cdl_mux_channel ch[CDL_MUX_MAX_CHANNELS];
  size_t n_ch;
  size_t next_out; /* round-robin position */
  uint8_t head[CDL_SDU_HEADER];
  size_t head_len;         /* header bytes of the SDU being received */
  cdl_sdu_header cur;      /* the SDU being received, once head_len == 8 */
  size_t cur_left;         /* its payload bytes still to come */
  int cur_ch;              /* its channel */
  uint64_t sdu_started_us; /* when its first byte came */
  uint64_t sdu_timeout_us; /* 0: none */
  uint64_t sdus_in, sdus_out;
} cdl_mux;

void cdl_mux_init(cdl_mux *m, uint64_t sdu_timeout_us);
void cdl_mux_free(cdl_mux *m);
/* Adds a channel; its index, or CDL_E_LIMIT / CDL_E_USAGE. */
int cdl_mux_add_channel(cdl_mux *m, uint16_t protocol, bool initiator, size_t ingress_limit);
int cdl_mux_find(const cdl_mux *m, uint16_t protocol, bool initiator);

/* Takes any split of the byte stream. Fails (a violation that ends the
 * connection) on a zero-length SDU, an unknown protocol or direction, or
 * an ingress overrun; on failure the mux must not be fed again. */
int cdl_mux_recv(cdl_mux *m, const uint8_t *data, size_t len, uint64_t now_us, cdl_error *err);
/* How many bytes of |data| (the next bytes received) finish the SDU being
 * received, header and payload; all |len| when it does not end in them. */
size_t cdl_mux_sdu_rest(const cdl_mux *m, const uint8_t *data, size_t len);
/* CDL_E_TIMEOUT when an SDU started arriving longer ago than the SDU
 * timeout and is still incomplete. */
int cdl_mux_check_time(const cdl_mux *m, uint64_t now_us, cdl_error *err);
/* When cdl_mux_check_time must next run; UINT64_MAX when never. */
uint64_t cdl_mux_deadline(const cdl_mux *m);

/* The unconsumed ingress of channel |c|, and dropping |n| bytes of it. */
cdl_span cdl_mux_ingress(const cdl_mux *m, int c);
void cdl_mux_consume(cdl_mux *m, int c, size_t n);

/* Queues a whole message on channel |c|. CDL_E_LIMIT, with nothing
 * queued, when the connection's egress would pass the budget plus
 * CDL_MUX_MESSAGE_MAX: an engine that checked cdl_mux_egress_room first
 * never meets it. */
int cdl_mux_queue(cdl_mux *m, int c, const uint8_t *msg, size_t len);
/* Bytes queued on channel |c| and not yet cut into SDUs. */
size_t cdl_mux_pending(const cdl_mux *m, int c);
/* Bytes queued on all channels and not yet cut into SDUs. */
size_t cdl_mux_egress(const cdl_mux *m);
/* Whether the engine may produce another message: the egress is under
 * CDL_MUX_EGRESS_BUDGET. */
bool cdl_mux_egress_room(const cdl_mux *m);
/* Bytes the mux holds in its buffers (allocated, both ways): what the
 * connection costs in memory beyond its engine. */
size_t cdl_mux_footprint(const cdl_mux *m);
/* Appends the next SDU (header + payload) to |out|; false when nothing is
 * queued, or when |out| refused the bytes (out->failed). */
bool cdl_mux_next_sdu(cdl_mux *m, uint64_t now_us, cdl_buf *out);

/* ---- Points and tips -----------------------------------------------------
 * Point: [] (origin) or [slot, hash32]. Tip: [point, blockNo]. */

typedef struct cdl_tip {
  cdl_point point;
  uint64_t block_no;
} cdl_tip;

int cdl_net_read_point(cdl_cbor_cursor *cur, cdl_point *p);
int cdl_net_read_tip(cdl_cbor_cursor *cur, cdl_tip *t);
void cdl_net_enc_point(cdl_buf *b, const cdl_point *p);
void cdl_net_enc_tip(cdl_buf *b, const cdl_tip *t);

/* Reads one whole message from the front of [p, p+n): on success a cursor
 * over exactly its bytes and its first (tag) element, the array length
 * in *fields. CDL_E_TRUNCATED when it is not all there. */
int cdl_net_open_message(const uint8_t *p, size_t n, cdl_cbor_cursor *cur, size_t *used,
                         uint64_t *tag, size_t *fields, cdl_error *err);

/* What a protocol's messages look like: for each tag, its name and the
 * length of its array (0: no such tag). */
typedef struct cdl_net_shape {
  const char *protocol;
  const char *const *names;
  const uint8_t *fields;
  size_t n_kinds;
} cdl_net_shape;

/* cdl_net_open_message, then the tag and array length checked against
 * |shape|: CDL_E_TAG for an unknown tag, CDL_E_TYPE for a wrong length. */
int cdl_net_open_kind(const uint8_t *p, size_t n, const cdl_net_shape *shape, cdl_cbor_cursor *cur,
                      size_t *used, uint8_t *kind, cdl_error *err);
/* After reading the fields (|rc| their outcome): nothing may follow. */
int cdl_net_close_message(cdl_cbor_cursor *cur, int rc, const char *what);
void cdl_net_enc_head(cdl_buf *b, const cdl_net_shape *shape, uint8_t kind);
const char *cdl_net_kind_name(const cdl_net_shape *shape, unsigned kind);

/* ---- Byron inside the hard-fork combinator (era index 0) -----------------
 * A stored block is [tag, block] (tag 0 EBB, 1 main): cardano-node's disk
 * form. On the wire a block is #6.24(bstr stored block); a node-to-node
 * header is [0, [[tag, size hint], #6.24(bstr raw header)]]. */

typedef struct cdl_net_header {
  uint8_t subtag;     /* 0 EBB, 1 main block */
  uint32_t size_hint; /* the stored block's size, as the sender says */
  cdl_span header;    /* the raw header array */
} cdl_net_header;

/* The tag and raw header of a stored block. */
int cdl_net_byron_block_parts(const uint8_t *block, size_t len, uint8_t *subtag, cdl_span *header,
                              cdl_error *err);
/* The wrapped header of a stored block. */
int cdl_net_enc_byron_header(cdl_buf *b, const uint8_t *block, size_t len, cdl_error *err);
int cdl_net_read_byron_header(cdl_span content, cdl_net_header *h, cdl_error *err);
void cdl_net_enc_block(cdl_buf *b, const uint8_t *block, size_t len);
int cdl_net_read_block(cdl_cbor_cursor *cur, cdl_span *block);

/* ---- Chain-sync (node-to-node 2, node-to-client 5) ----------------------- */

enum {
  CDL_CS_REQUEST_NEXT = 0,
  CDL_CS_AWAIT_REPLY = 1,
  CDL_CS_ROLL_FORWARD = 2,
  CDL_CS_ROLL_BACKWARD = 3,
  CDL_CS_FIND_INTERSECT = 4,
  CDL_CS_INTERSECT_FOUND = 5,
  CDL_CS_INTERSECT_NOT_FOUND = 6,
  CDL_CS_DONE = 7
};

typedef struct cdl_cs_msg {
  uint8_t kind;
  cdl_span content; /* roll-forward: the wrapped header or block, raw */
  cdl_point point;  /* roll-backward, intersect-found */
  cdl_tip tip;      /* roll-forward/backward, intersect found/not found */
  cdl_span points;  /* find-intersect: the raw list (decoded) */
  size_t n_points;
  const cdl_point *point_list; /* find-intersect to encode, or NULL: |points| */
} cdl_cs_msg;

const char *cdl_cs_name(unsigned kind);
int cdl_cs_decode(const uint8_t *p, size_t n, cdl_cs_msg *m, size_t *used, cdl_error *err);
void cdl_cs_encode(cdl_buf *b, const cdl_cs_msg *m);
/* The first |max| points of a decoded find-intersect, in order. */
int cdl_cs_points(const cdl_cs_msg *m, cdl_point *out, size_t max, size_t *n);

/* ---- Block-fetch (3) ------------------------------------------------------
 */

enum {
  CDL_BF_REQUEST_RANGE = 0,
  CDL_BF_CLIENT_DONE = 1,
  CDL_BF_START_BATCH = 2,
  CDL_BF_NO_BLOCKS = 3,
  CDL_BF_BLOCK = 4,
  CDL_BF_BATCH_DONE = 5
};

typedef struct cdl_bf_msg {
  uint8_t kind;
  cdl_point from, to; /* request-range, both ends included */
  cdl_span block;     /* block: the stored [tag, block] inside tag 24 */
} cdl_bf_msg;

const char *cdl_bf_name(unsigned kind);
int cdl_bf_decode(const uint8_t *p, size_t n, cdl_bf_msg *m, size_t *used, cdl_error *err);
void cdl_bf_encode(cdl_buf *b, const cdl_bf_msg *m);

/* ---- Keep-alive (8) --------------------------------------------------------
 */

enum { CDL_KA_KEEP_ALIVE = 0, CDL_KA_RESPONSE = 1, CDL_KA_DONE = 2 };

typedef struct cdl_ka_msg {
  uint8_t kind;
  uint16_t cookie;
} cdl_ka_msg;

const char *cdl_ka_name(unsigned kind);
int cdl_ka_decode(const uint8_t *p, size_t n, cdl_ka_msg *m, size_t *used, cdl_error *err);
void cdl_ka_encode(cdl_buf *b, const cdl_ka_msg *m);

/* ---- Tx-submission v2 (4) --------------------------------------------------
 */

enum {
  CDL_TX2_REQUEST_TX_IDS = 0,
  CDL_TX2_REPLY_TX_IDS = 1,
  CDL_TX2_REQUEST_TXS = 2,
  CDL_TX2_REPLY_TXS = 3,
  CDL_TX2_DONE = 4,
  CDL_TX2_INIT = 6
};

typedef struct cdl_tx2_msg {
  uint8_t kind;
  bool blocking;     /* request-tx-ids */
  uint16_t ack, req; /* request-tx-ids */
  cdl_span items;    /* the raw indefinite list of ids, [id, size] pairs or txs */
  size_t n_items;
} cdl_tx2_msg;

const char *cdl_tx2_name(unsigned kind);
int cdl_tx2_decode(const uint8_t *p, size_t n, cdl_tx2_msg *m, size_t *used, cdl_error *err);
void cdl_tx2_encode(cdl_buf *b, const cdl_tx2_msg *m);

/* ---- Local state query (node-to-client 7) --------------------------------
 * A query and its result are raw items; the queries the server answers
 * are in docs/network.md "Local state query". */

enum {
  CDL_LSQ_ACQUIRE = 0,
  CDL_LSQ_ACQUIRED = 1,
  CDL_LSQ_FAILURE = 2,
  CDL_LSQ_QUERY = 3,
  CDL_LSQ_RESULT = 4,
  CDL_LSQ_RELEASE = 5,
  CDL_LSQ_REACQUIRE = 6,
  CDL_LSQ_DONE = 7,
  CDL_LSQ_ACQUIRE_VOLATILE_TIP = 8,
  CDL_LSQ_REACQUIRE_VOLATILE_TIP = 9,
  CDL_LSQ_ACQUIRE_IMMUTABLE_TIP = 10,
  CDL_LSQ_REACQUIRE_IMMUTABLE_TIP = 11
};
/* MsgFailure reasons. */
enum { CDL_LSQ_POINT_TOO_OLD = 0, CDL_LSQ_POINT_NOT_ON_CHAIN = 1 };

typedef struct cdl_lsq_msg {
  uint8_t kind;
  cdl_point point;  /* acquire, re-acquire */
  uint8_t failure;  /* failure */
  cdl_span query;   /* query: raw */
  cdl_span result;  /* result: raw */
} cdl_lsq_msg;

const char *cdl_lsq_name(unsigned kind);
int cdl_lsq_decode(const uint8_t *p, size_t n, cdl_lsq_msg *m, size_t *used, cdl_error *err);
void cdl_lsq_encode(cdl_buf *b, const cdl_lsq_msg *m);

/* ---- Cardinal's own local-state queries (localstate_cardinal.c) ----------
 * docs/network.md "Cardinal's own queries": top-level queries [tag, ...]
 * with tags far from the Haskell node's (0..4), which a Haskell node
 * cannot decode (it closes the connection). Results are not wrapped:
 *   [0xCD01, [* address]]      UTxO at addresses (each the address's CBOR
 *                              item as a tx output holds it)
 *       -> [complete, [* [[txid, index], [address, lovelace]]]]
 *   [0xCD02, [* [txid, index]]] UTxO of inputs  -> the same form
 *   [0xCD03]                   chain constants
 *       -> [epochSlots, k, protocolMagic, requiresMagic, slotMs, genesisKeys]
 * A UTxO answer stops before it would pass CDL_LSQ_UTXO_ANSWER_MAX bytes,
 * with complete = false. */
#define CDL_LSQ_Q_UTXO_BY_ADDRESS 0xCD01u
#define CDL_LSQ_Q_UTXO_BY_INPUT 0xCD02u
#define CDL_LSQ_Q_CHAIN_CONSTANTS 0xCD03u
#define CDL_LSQ_UTXO_MAX_ADDRESSES 64
#define CDL_LSQ_UTXO_MAX_INPUTS 1024
#define CDL_LSQ_ADDRESS_MAX_BYTES 1024
/* Half the largest message a connection queues (CDL_MUX_MESSAGE_MAX) and
 * a quarter of what the CLI reads (CDL_LOCAL_MAX_REPLY). */
#define CDL_LSQ_UTXO_ANSWER_MAX ((size_t)1 << 20)

typedef struct cdl_lsq_txin {
  uint8_t tx_id[32];
  uint32_t index;
} cdl_lsq_txin;

/* A Cardinal query as the server reads it; addresses point into the
 * query's bytes. */
typedef struct cdl_lsq_cardinal_query {
  uint64_t tag;
  size_t n; /* addresses or inputs */
  cdl_span addresses[CDL_LSQ_UTXO_MAX_ADDRESSES];
  cdl_lsq_txin inputs[CDL_LSQ_UTXO_MAX_INPUTS];
} cdl_lsq_cardinal_query;

/* Whether |q| is [tag, ...] with one of Cardinal's tags (it may still be
 * malformed). */
bool cdl_lsq_is_cardinal_query(cdl_span q);
/* Reads one, checking its form and bounds: CDL_E_LIMIT past the counts
 * or the address size, the decoder's codes otherwise. */
int cdl_lsq_cardinal_query_read(cdl_span q, cdl_lsq_cardinal_query *out, cdl_error *err);
void cdl_lsq_enc_utxo_by_address(cdl_buf *b, const cdl_span *addrs, size_t n);
void cdl_lsq_enc_utxo_by_input(cdl_buf *b, const cdl_lsq_txin *ins, size_t n);
void cdl_lsq_enc_chain_constants_query(cdl_buf *b);

/* A UTxO answer is built by appending entries to |entries| while the whole
 * answer stays within CDL_LSQ_UTXO_ANSWER_MAX: false (nothing appended)
 * when this entry would pass it. Then _enc_utxo_answer writes it. */
bool cdl_lsq_utxo_entry_add(cdl_buf *entries, const cdl_lsq_txin *in, cdl_span address,
                            uint64_t lovelace);
void cdl_lsq_enc_utxo_answer(cdl_buf *b, bool complete, size_t n, cdl_span entries);

typedef struct cdl_lsq_utxo_entry {
  cdl_lsq_txin in;
  cdl_span address; /* into the answer's bytes */
  uint64_t lovelace;
} cdl_lsq_utxo_entry;
typedef struct cdl_lsq_utxo_answer {
  bool complete;
  size_t n;
  cdl_lsq_utxo_entry *entries; /* malloc'd: cdl_lsq_utxo_answer_free */
} cdl_lsq_utxo_answer;
/* Reads an answer (hostile bytes: types, sizes and values checked; each
 * address a well-formed item of at most CDL_LSQ_ADDRESS_MAX_BYTES). */
int cdl_lsq_utxo_answer_read(cdl_span r, cdl_lsq_utxo_answer *a, cdl_error *err);
void cdl_lsq_utxo_answer_free(cdl_lsq_utxo_answer *a);

typedef struct cdl_lsq_chain_constants {
  uint64_t epoch_slots, k, slot_ms;
  uint32_t protocol_magic;
  bool requires_magic;
  uint32_t genesis_keys;
} cdl_lsq_chain_constants;
void cdl_lsq_enc_chain_constants(cdl_buf *b, const cdl_lsq_chain_constants *c);
/* Reads one; every value checked against the bounds a Byron genesis
 * allows (k, slot length, genesis keys), epochSlots = 10k. */
int cdl_lsq_chain_constants_read(cdl_span r, cdl_lsq_chain_constants *c, cdl_error *err);

/* ---- Local tx-submission (node-to-client 6) ------------------------------
 * The tx is the hard-fork GenTx, the reason the hard-fork apply-tx error
 * (docs/network.md "Local tx-submission"); both raw items here. */

enum { CDL_LTX_SUBMIT = 0, CDL_LTX_ACCEPT = 1, CDL_LTX_REJECT = 2, CDL_LTX_DONE = 3 };

typedef struct cdl_ltx_msg {
  uint8_t kind;
  cdl_span tx;     /* submit */
  cdl_span reason; /* reject */
} cdl_ltx_msg;

const char *cdl_ltx_name(unsigned kind);
int cdl_ltx_decode(const uint8_t *p, size_t n, cdl_ltx_msg *m, size_t *used, cdl_error *err);
void cdl_ltx_encode(cdl_buf *b, const cdl_ltx_msg *m);


/* ---- Local tx-monitor (node-to-client 9) -------------------------------- */

enum {
  CDL_LTM_DONE = 0,
  CDL_LTM_ACQUIRE = 1, /* also MsgAwaitAcquire, when acquired */
  CDL_LTM_ACQUIRED = 2,
  CDL_LTM_RELEASE = 3,
  CDL_LTM_NEXT_TX = 5,
  CDL_LTM_REPLY_NEXT_TX = 6,
  CDL_LTM_HAS_TX = 7,
  CDL_LTM_REPLY_HAS_TX = 8,
  CDL_LTM_GET_SIZES = 9,
  CDL_LTM_REPLY_GET_SIZES = 10,
  CDL_LTM_GET_MEASURES = 11,
  CDL_LTM_REPLY_GET_MEASURES = 12
};

typedef struct cdl_ltm_msg {
  uint8_t kind;
  uint64_t slot;                  /* acquired */
  bool has_tx;                    /* reply-next-tx: [6, tx] rather than [6] */
  cdl_span tx;                    /* reply-next-tx: the GenTx, raw */
  cdl_span tx_id;                 /* has-tx: the GenTxId, raw */
  bool has;                       /* reply-has-tx */
  uint32_t capacity, size, count; /* reply-get-sizes; count also in measures */
  cdl_span measures;              /* reply-get-measures: the raw map */
} cdl_ltm_msg;

const char *cdl_ltm_name(unsigned kind);
int cdl_ltm_decode(const uint8_t *p, size_t n, cdl_ltm_msg *m, size_t *used, cdl_error *err);
void cdl_ltm_encode(cdl_buf *b, const cdl_ltm_msg *m);

/* ---- GenTx and GenTxId in the hard-fork wrapping ---------------------------
 * GenTx = [era, eraTx], Byron's eraTx being [kind, payload]; GenTxId =
 * [era, eraId], Byron's eraId being [kind, hash] and later eras' a bare
 * hash. */
int cdl_net_read_gentx(cdl_span wrapped, uint64_t *era, cdl_span *gentx, cdl_error *err);
void cdl_net_enc_gentx(cdl_buf *b, cdl_span gentx); /* era 0 */

typedef struct cdl_net_gentx_id {
  uint64_t era;
  uint8_t kind; /* Byron only */
  uint8_t hash[32];
} cdl_net_gentx_id;
int cdl_net_read_gentx_id(cdl_span wrapped, cdl_net_gentx_id *id, cdl_error *err);
void cdl_net_enc_gentx_id(cdl_buf *b, uint8_t kind, const uint8_t hash[32]); /* era 0 */

/* ---- Handshake (0) --------------------------------------------------------
 * Node-to-node versions 7..16 and node-to-client 9..23 are understood
 * (their data decodes); the wire number of a node-to-client version has
 * bit 15 set. */

#define CDL_HS_N2C_BIT 0x8000u
#define CDL_HS_MAX_VERSIONS 32

enum { CDL_HS_PROPOSE = 0, CDL_HS_ACCEPT = 1, CDL_HS_REFUSE = 2, CDL_HS_QUERY_REPLY = 3 };
/* Refuse reasons. */
enum { CDL_HS_VERSION_MISMATCH = 0, CDL_HS_DECODE_ERROR = 1, CDL_HS_REFUSED_REASON = 2 };

typedef struct cdl_hs_data {
  uint32_t magic;
  bool initiator_only;  /* node-to-node */
  uint8_t peer_sharing; /* node-to-node 11+: 0 none */
  bool query;
} cdl_hs_data;

typedef struct cdl_hs_version {
  uint32_t number; /* as on the wire */
  cdl_span data;   /* raw, decoded only once chosen */
} cdl_hs_version;

typedef struct cdl_hs_msg {
  uint8_t kind;
  cdl_hs_version versions[CDL_HS_MAX_VERSIONS]; /* propose, query reply, mismatch */
  size_t n_versions;
  size_t n_unknown; /* versions not understood, skipped */
  uint32_t version; /* accept; refuse with a decode error or refused */
  cdl_span data;    /* accept */
  uint8_t reason;   /* refuse */
  cdl_span text;    /* refuse */
} cdl_hs_msg;

/* One side's versions and data. */
typedef struct cdl_hs_config {
  bool node_to_client;
  uint32_t min_version, max_version; /* without bit 15 */
  cdl_hs_data data;
} cdl_hs_config;

/* The versions Cardinal proposes and accepts, on every side that runs the
 * node's engines (the node, `serve`, `sync`, the simulator):
 * node-to-node 7..15, node-to-client 9..23 (docs/network.md "Handshake").
 * The CLI's blocking local client proposes fewer (CDL_LOCAL_*_VERSION in
 * io.h): only those whose queries it speaks. */
#define CDL_N2N_VERSION_MIN 7
#define CDL_N2N_VERSION_MAX 15
#define CDL_N2C_VERSION_MIN 9
#define CDL_N2C_VERSION_MAX 23
/* A node-to-node side for |magic|; |initiator_only|: it runs only the
 * initiator's mini-protocols (a sync, a relay behind a firewall). */
cdl_hs_config cdl_hs_node_to_node(uint32_t magic, bool initiator_only);
cdl_hs_config cdl_hs_node_to_client(uint32_t magic);

enum { CDL_HS_ACCEPTED = 1, CDL_HS_REFUSED = 2, CDL_HS_QUERIED = 3 };

typedef struct cdl_hs_result {
  int outcome;
  uint32_t version;   /* wire number */
  cdl_hs_data agreed; /* accepted: the negotiated data */
  char why[160];      /* refused: why, for the log */
} cdl_hs_result;

bool cdl_hs_known(uint32_t version);
int cdl_hs_decode(const uint8_t *p, size_t n, cdl_hs_msg *m, size_t *used, cdl_error *err);
int cdl_hs_decode_data(uint32_t version, cdl_span raw, cdl_hs_data *d, cdl_error *err);
void cdl_hs_encode_data(cdl_buf *b, uint32_t version, const cdl_hs_data *d);
/* Any handshake message from its fields (tables and data as held: raw). */
void cdl_hs_encode(cdl_buf *b, const cdl_hs_msg *m);
void cdl_hs_encode_propose(cdl_buf *b, const cdl_hs_config *cfg);
/* Server: the reply to |propose| into |reply|, and what it means. */
void cdl_hs_respond(const cdl_hs_config *cfg, const cdl_hs_msg *propose, cdl_buf *reply,
                    cdl_hs_result *res);
/* Client: the server's reply. CDL_E_REFUSED when refused. */
int cdl_hs_check_reply(const cdl_hs_config *cfg, const cdl_hs_msg *reply, cdl_hs_result *res,
                       cdl_error *err);

#endif /* CARDINAL_WIRE_H */
