/*
 * cmd_query.c: the commands that submit to a running node, and the list
 * of the query commands (docs/cli.md "Talking to a node"):
 *   tx submit [node options] FILE   (also `submit tx`)
 *       a signed tx (a TxAux, binary or hex) through local tx-submission:
 *       {"accepted": true, "txid"} or exit 1 with the node's reason.
 * The node options (CLI_NODE_ARGP, options.c): the socket is
 * --socket-path or CARDANO_NODE_SOCKET_PATH; the network magic is
 * --testnet-magic N or --mainnet, else asked of the node (a handshake
 * query). `delegation submit` (cmd_delegation.c) and `governance submit-*`
 * go through the same cli_submit_gentx. The queries are in
 * cmd_query_state.c and cmd_query_update.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cardinal/storage.h"
#include "local.h"

static int report_reason(const cdl_buf *reason) {
  return cli_report_node_reason(cdl_span_of(reason->data, reason->len)); /* reject.c */
}

int cli_submit_gentx(const char *socket, uint64_t magic, bool has_magic, cdl_span gentx) {
  cdl_error err = {0};
  cdl_buf reason;
  cdl_buf_init(&reason, 0);
  cdl_io_local *c = NULL;
  int rc = cdl_io_local_open(socket, (uint32_t)magic, has_magic, &c, &err);
  bool accepted = false;
  if (rc == CDL_OK) rc = local_submit(c, gentx, &accepted, &reason, &err);
  cdl_io_local_close(c);
  int code = rc != CDL_OK ? cli_report(&err) : accepted ? EXIT_OK : report_reason(&reason);
  cdl_buf_free(&reason);
  return code;
}

static const struct argp SUBMIT = {
    NULL, cli_command_option, "FILE",
    "Send a signed tx (a TxAux, binary or hex, as `tx sign` writes it) to a node over local "
    "tx-submission: {\"accepted\": true, \"txid\"}, or exit 1 with the node's reason.\v"
    "Example:\n  cardinal-cli tx submit --socket-path net/node-3/node.socket pay.signed",
    CLI_NODE_CHILDREN, NULL, NULL};

int tx_submit(int argc, char **argv) {
  cli_command o;
  int code = cli_command_parse(&SUBMIT, argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_error err = {0};
  cdl_buf txaux, gentx;
  cdl_buf_init(&txaux, 0);
  cdl_buf_init(&gentx, 0);
  int rc = cli_read_input(o.file, &txaux, &err);
  if (rc != CDL_OK) {
    cdl_buf_free(&txaux);
    return cli_report(&err);
  }
  cdl_cbor_enc_array(&gentx, 2); /* GenTx [0, txaux]: a transaction */
  cdl_cbor_enc_uint(&gentx, CDL_MP_TX);
  cdl_buf_append(&gentx, txaux.data, txaux.len);
  code = cli_submit_gentx(o.node.socket, o.node.magic, o.node.has_magic,
                          cdl_span_of(gentx.data, gentx.len));
  if (code == EXIT_OK) {
    cdl_arena arena;
    cdl_arena_init(&arena, 0);
    cdl_byron_ctx ctx = {&arena, &err, 0};
    cdl_byron_txaux aux;
    char id[65] = "";
    if (cdl_byron_txaux_decode(txaux.data, txaux.len, &ctx, &aux) == CDL_OK)
      cdl_hex_encode(aux.tx.id, 32, id);
    cdl_arena_free(&arena);
    code = cli_print(json_pack("{s:b, s:s}", "accepted", true, "txid", id), false);
  }
  cdl_buf_free(&txaux);
  cdl_buf_free(&gentx);
  return code;
}

static const cli_verb QUERY_VERBS[] = {
    {"tip", NULL, "the node's tip, epoch and sync progress", query_tip},
    {"utxo", NULL, "outputs and balance at addresses or of inputs", query_utxo},
    {"protocol-parameters", NULL, "the adopted protocol version and parameters",
     query_protocol_parameters},
    {"update-state", NULL, "proposals, votes, endorsements, the next adoption",
     query_update_state}};
const cli_noun CLI_QUERY = CLI_NOUN("query", QUERY_VERBS);

static const cli_verb SUBMIT_VERBS[] = {
    {"tx", NULL, "send a signed tx to a node (as tx submit)", tx_submit}};
const cli_noun CLI_SUBMIT = CLI_NOUN("submit", SUBMIT_VERBS);
