/*
 * cmd_tx.c: the `cardinal-cli tx` verbs (docs/cli.md "tx") and `tx show
 * FILE`; `tx build`, `tx sign` and `tx id` are in cmd_tx_build.c, `tx
 * submit` in cmd_query.c.
 * Transactions are decoded with the cardano-sl grammar (CDL_BYRON_LEGACY)
 * so that legacy forms such as script witnesses can be inspected; blocks
 * never are.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"

static const struct argp SHOW = {
    NULL, cli_command_option, "FILE",
    "A transaction, signed (a TxAux [tx, witnesses]) or not, binary or hex: its id, size, "
    "inputs, outputs and witnesses, decoded with the cardano-sl grammar so that legacy forms "
    "(script witnesses) can be inspected.\v"
    "Example:\n  cardinal-cli tx show pay.signed",
    NULL, NULL, NULL};

static int tx_show(int argc, char **argv) {
  cli_command o;
  int code = cli_command_parse(&SHOW, argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_buf data;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_txaux aux;
  cdl_buf_init(&data, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, CDL_BYRON_LEGACY};
  int rc = cli_read_input(o.file, &data, &err);
  if (rc == CDL_OK) rc = cdl_byron_txaux_decode(data.data, data.len, &ctx, &aux);
  int exit_code = rc != CDL_OK ? cli_report(&err) : cli_print(cdl_byron_txaux_json(&aux), false);
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return exit_code;
}

static const cli_verb TX_VERBS[] = {
    {"show", NULL, "a transaction, readable", tx_show},
    {"build", NULL, "an unsigned tx, its fee from the node's policy", tx_build},
    {"sign", NULL, "a tx signed with one key per input", tx_sign},
    {"id", NULL, "the id of a tx or a signed tx", tx_id},
    {"submit", NULL, "send a signed tx to a node", tx_submit}};
const cli_noun CLI_TX = CLI_NOUN("tx", TX_VERBS);
