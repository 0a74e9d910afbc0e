/*
 * node_query.h: the local-state queries cardinal-cli asks a running node
 * (docs/cli.md "Talking to a node"; docs/network.md "Local state query"
 * and "Cardinal's own queries"), for its own query commands and for any
 * other command that needs the node's view: tx build (the inputs' values,
 * the fee policy), governance (the update state). Every answer is read as
 * hostile input: decoded with bounds, checked against what was asked.
 */
#ifndef CARDINAL_CLI_NODE_QUERY_H
#define CARDINAL_CLI_NODE_QUERY_H

#include "cardinal/io.h"
#include "cli.h"

/* The node closed the connection on one of Cardinal's own queries each
 * time it was asked: it is not a Cardinal node (a Haskell node cannot
 * decode them). Reported by cli_report_node as the rule
 * CLI_RULE_NOT_CARDINAL, exit 1. */
#define CLI_E_NOT_CARDINAL (-300)
#define CLI_RULE_NOT_CARDINAL "node.not_cardinal"

/* One connection with the node's tip acquired for state queries. */
typedef struct cli_session {
  const cli_node_opts *opts;
  cdl_io_local *c;
} cli_session;

int cli_session_open(const cli_node_opts *o, cli_session *s, cdl_error *err);
void cli_session_close(cli_session *s);
/* The raw result of |query|, named |name| in errors. A node that closes
 * the connection instead of answering is asked again on a new one, three
 * times in all (a Cardinal node closes when the tip moved between
 * acquiring and asking); if it closes each time: CLI_E_NOT_CARDINAL for a
 * |cardinal| query, else CDL_E_IO saying it did not answer. */
int cli_session_ask(cli_session *s, cdl_span query, const char *name, bool cardinal,
                    cdl_buf *result, cdl_error *err);

/* The chain's constants (Cardinal's own query). */
int cli_session_constants(cli_session *s, cdl_lsq_chain_constants *c, cdl_error *err);
/* The UTxO at |addrs| (each an address's CBOR item) and of |ins|, both
 * within the query bounds; each answer checked to hold only what was
 * asked. The two answers (their bytes in raw[0] and raw[1]) are merged
 * into |a|, sorted by input (an output found both ways once);
 * a->complete is false when the node cut either. */
int cli_session_utxo(cli_session *s, const cdl_span *addrs, size_t n_addrs, const cdl_lsq_txin *ins,
                     size_t n_ins, cdl_buf *raw, cdl_lsq_utxo_answer *a, cdl_error *err);
/* GetUpdateInterfaceState, decoded: memory in |arena|, the bytes it
 * points into kept in |raw|. */
int cli_session_update_state(cli_session *s, cdl_arena *arena, cdl_buf *raw,
                             cdl_byron_update_state *st, cdl_error *err);
/* GetSystemStart, as Unix seconds. */
int cli_session_system_start(cli_session *s, int64_t *unix_seconds, cdl_error *err);

/* One-shot forms for other commands: a session opened, asked, closed. */
int cli_query_update_state(const cli_node_opts *o, cdl_arena *arena, cdl_buf *raw,
                           cdl_byron_update_state *st, cdl_error *err);
int cli_query_protocol_params(const cli_node_opts *o, cdl_byron_version *pv,
                              cdl_byron_protocol_params *pp, cdl_error *err);
int cli_query_constants(const cli_node_opts *o, cdl_lsq_chain_constants *c, cdl_error *err);

/* ---- Readable forms (cmd_query_update.c) ---- */
/* "major.minor.alt" */
json_t *cli_version_json(cdl_byron_version v);
/* The 17 Byron parameters by their cardano-ledger names: thresholds as
 * fractions, slot length in ms, the fee policy as lovelace (summand,
 * multiplier per byte) and as the nano units the chain keeps. */
json_t *cli_params_json(const cdl_byron_protocol_params *pp);

/* Reports a failure of the above on stderr: CLI_E_NOT_CARDINAL as
 * node.not_cardinal (exit 1), anything else as cli_report does. */
int cli_report_node(const cdl_error *err);

#endif
