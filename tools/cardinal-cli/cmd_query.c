/*
 * cmd_query.c: the options every command to a running node takes, and
 * the commands that submit (docs/cli.md "Talking to a node"):
 *   tx submit --socket-path S FILE   (also `submit tx`)
 *       a signed tx (a TxAux, binary or hex) through local tx-submission:
 *       {"accepted": true, "txid"} or exit 1 with the node's reason.
 * The socket is --socket-path or CARDANO_NODE_SOCKET_PATH; the network
 * magic is --testnet-magic N or --mainnet, else asked of the node (a
 * handshake query). `delegation submit` (cmd_delegation.c) goes through
 * the same cli_submit_gentx. The queries are in cmd_query_state.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/storage.h"
#include "cli.h"
#include "local.h"

#define MAINNET_MAGIC 764824073u

int cli_node_opt(int c, const char *arg, cli_node_opts *o) {
  if (c == 's') {
    o->socket = arg;
  } else if (c == 'm') {
    if (o->mainnet || !cli_parse_u64(arg, 0, UINT32_MAX, &o->magic)) return -1;
    o->has_magic = true;
  } else if (c == 'M') {
    if (o->has_magic && !o->mainnet) return -1; /* --mainnet and --testnet-magic */
    o->mainnet = o->has_magic = true;
    o->magic = MAINNET_MAGIC;
  } else {
    return 0;
  }
  return 1;
}

int cli_node_opts_finish(const char *what, cli_node_opts *o) {
  if (o->socket == NULL) o->socket = getenv("CARDANO_NODE_SOCKET_PATH");
  if (o->socket == NULL || o->socket[0] == '\0')
    return cli_usage("%s: --socket-path S (or CARDANO_NODE_SOCKET_PATH) is required", what);
  return EXIT_OK;
}

int cli_node_opts_parse(const char *what, int argc, char **argv, cli_node_opts *o,
                        cli_node_file file) {
  static const struct option LONG[] = {CLI_NODE_LONG_OPTIONS,
                                       {"genesis", required_argument, 0, 'g'},
                                       {"certificate", required_argument, 0, 'c'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    int taken = cli_node_opt(c, optarg, o);
    if (taken == 1) continue;
    if (taken == 0 && c == 'g')
      o->genesis = optarg;
    else if (taken == 0 && c == 'c' && file == CLI_NODE_CERTIFICATE)
      o->file = optarg;
    else
      return cli_usage("%s: bad or unknown option '%s'", what, argv[optind - 1]);
  }
  if (file == CLI_NODE_TX_FILE && optind == argc - 1) o->file = argv[optind++];
  if (optind < argc) return cli_usage("%s: unexpected argument '%s'", what, argv[optind]);
  if (file != CLI_NODE_NO_FILE && o->file == NULL)
    return cli_usage("%s: %s is required", what,
                     file == CLI_NODE_TX_FILE ? "the tx FILE" : "--certificate FILE");
  return cli_node_opts_finish(what, o);
}

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

int tx_submit(int argc, char **argv) {
  cli_node_opts o;
  int code = cli_node_opts_parse("tx submit", argc, argv, &o, CLI_NODE_TX_FILE);
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
  code = cli_submit_gentx(o.socket, o.magic, o.has_magic, cdl_span_of(gentx.data, gentx.len));
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

int cmd_query(int argc, char **argv) {
  static const struct {
    const char *verb;
    int (*run)(int, char **);
  } VERBS[] = {{"tip", query_tip},
               {"utxo", query_utxo},
               {"protocol-parameters", query_protocol_parameters},
               {"update-state", query_update_state}};
  for (size_t i = 0; argc >= 2 && i < sizeof VERBS / sizeof VERBS[0]; i++)
    if (strcmp(argv[1], VERBS[i].verb) == 0) return VERBS[i].run(argc - 1, argv + 1);
  return cli_usage("expected: query tip | utxo | protocol-parameters | update-state");
}

int cmd_submit(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "tx") != 0)
    return cli_usage("expected: submit tx --socket-path S FILE");
  return tx_submit(argc - 1, argv + 1);
}
