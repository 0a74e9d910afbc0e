/*
 * cmd_query.c: the CLI's commands to a running node over its local socket
 * (docs/cli.md "Talking to a node"):
 *   query tip --socket-path S [--genesis FILE]
 *       {"slot", "hash", "block_no", "epoch"}: the node's tip, from local
 *       chain-sync. The epoch needs the genesis's k (an epoch is 10k
 *       slots); without --genesis it is null, as the node does not answer
 *       the era-history query (GetInterpreter) yet.
 *   tx submit --socket-path S FILE   (also `submit tx`)
 *       a signed tx (a TxAux, binary or hex) through local tx-submission:
 *       {"accepted": true, "txid"} or exit 1 with the node's reason.
 * The network magic is asked of the node (a handshake query) unless
 * --testnet-magic gives it. `delegation submit` (cmd_delegation.c) goes
 * through the same cli_submit_gentx.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/storage.h"
#include "cli.h"
#include "local.h"

int cli_node_opts_parse(const char *what, int argc, char **argv, cli_node_opts *o,
                        cli_node_file file) {
  static const struct option LONG[] = {{"socket-path", required_argument, 0, 's'},
                                       {"genesis", required_argument, 0, 'g'},
                                       {"testnet-magic", required_argument, 0, 'm'},
                                       {"certificate", required_argument, 0, 'c'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 's')
      o->socket = optarg;
    else if (c == 'g')
      o->genesis = optarg;
    else if (c == 'm' && cli_parse_u64(optarg, 0, UINT32_MAX, &o->magic))
      o->has_magic = true;
    else if (c == 'c' && file == CLI_NODE_CERTIFICATE)
      o->file = optarg;
    else
      return cli_usage("%s: bad or unknown option '%s'", what, argv[optind - 1]);
  }
  if (file == CLI_NODE_TX_FILE && optind == argc - 1) o->file = argv[optind++];
  if (optind < argc) return cli_usage("%s: unexpected argument '%s'", what, argv[optind]);
  if (o->socket == NULL) return cli_usage("%s: --socket-path S is required", what);
  if (file != CLI_NODE_NO_FILE && o->file == NULL)
    return cli_usage("%s: %s is required", what,
                     file == CLI_NODE_TX_FILE ? "the tx FILE" : "--certificate FILE");
  return EXIT_OK;
}

static int query_tip(int argc, char **argv) {
  cli_node_opts o;
  int code = cli_node_opts_parse("query tip", argc, argv, &o, CLI_NODE_NO_FILE);
  if (code != EXIT_OK) return code;
  cdl_error err = {0};
  cdl_db_genesis dg;
  cdl_db_genesis_init(&dg);
  cdl_db_dir_options go = {.dir = ".", .genesis = o.genesis};
  int rc = o.genesis ? cdl_db_genesis_load(&go, &dg, &err) : CDL_OK;
  cdl_io_local *c = NULL;
  if (rc == CDL_OK) rc = cdl_io_local_open(o.socket, (uint32_t)o.magic, o.has_magic, &c, &err);
  cdl_tip tip;
  if (rc == CDL_OK) rc = local_tip(c, &tip, &err);
  cdl_io_local_close(c);
  if (rc != CDL_OK) {
    cdl_db_genesis_free(&dg);
    return cli_report(&err);
  }
  char hash[65] = "";
  if (!tip.point.origin) cdl_hex_encode(tip.point.hash, 32, hash);
  json_t *epoch = o.genesis && dg.g.k > 0
                      ? json_integer((json_int_t)(tip.point.slot / cdl_byron_epoch_slots(dg.g.k)))
                      : json_null();
  cdl_db_genesis_free(&dg);
  return cli_print(json_pack("{s:I, s:s, s:I, s:o}", "slot", (json_int_t)tip.point.slot, "hash",
                             hash, "block_no", (json_int_t)tip.block_no, "epoch", epoch),
                   false);
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
  if (argc < 2 || strcmp(argv[1], "tip") != 0)
    return cli_usage("expected: query tip --socket-path S [--genesis FILE]");
  return query_tip(argc - 1, argv + 1);
}

int cmd_submit(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "tx") != 0)
    return cli_usage("expected: submit tx --socket-path S FILE");
  return tx_submit(argc - 1, argv + 1);
}
