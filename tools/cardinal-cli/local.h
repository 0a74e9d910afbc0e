/*
 * local.h: the node-to-client exchanges the CLI's node commands use
 * (docs/cli.md "Talking to a node"): local tx-submission, local
 * chain-sync for the tip and for following new blocks, and the local
 * state query. Over the blocking local client of src/io (cardinal/io.h
 * "Local client").
 */
#ifndef CARDINAL_CLI_LOCAL_H
#define CARDINAL_CLI_LOCAL_H

#include "cardinal/io.h"

/* Submits a Byron GenTx [kind, payload]; *accepted, else |reason| gets
 * the node's MsgRejectTx reason bytes. The answer may take up to
 * CDL_LOCAL_TX_WAIT_MS while the node's mempool is full. */
int local_submit(cdl_io_local *c, cdl_span gentx, bool *accepted, cdl_buf *reason, cdl_error *err);
/* The same in two steps, for a caller that does other work meanwhile:
 * MsgSubmitTx sent, then its answer read (once the socket is readable). */
int local_submit_send(cdl_io_local *c, cdl_span gentx, cdl_error *err);
int local_submit_read(cdl_io_local *c, bool *accepted, cdl_buf *reason, cdl_error *err);
/* The node's tip, from local chain-sync (MsgFindIntersect with no points). */
int local_tip(cdl_io_local *c, cdl_tip *tip, cdl_error *err);
/* Starts following at |from|: chain-sync intersects there. */
int local_follow(cdl_io_local *c, const cdl_point *from, cdl_error *err);
/* Asks for the next update (MsgRequestNext). */
int local_follow_request(cdl_io_local *c, cdl_error *err);
/* Reads one reply: roll forward (|block| then holds the stored block's
 * bytes, |point| where it rolled back to otherwise), roll backward, or
 * await (the update then comes with the next read). */
int local_follow_read(cdl_io_local *c, uint8_t *kind, cdl_buf *block, cdl_point *point,
                      cdl_error *err);
/* Acquires the node's volatile tip for state queries. */
int local_lsq_acquire(cdl_io_local *c, cdl_error *err);
/* One query (its raw CBOR) at the acquired state: |result| gets the
 * MsgResult's raw result. */
int local_lsq_query(cdl_io_local *c, cdl_span query, cdl_buf *result, cdl_error *err);

#endif
