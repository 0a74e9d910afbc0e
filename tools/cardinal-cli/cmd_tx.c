/*
 * cmd_tx.c: `cardinal-cli tx show FILE` (docs/cli.md); `tx build`, `tx
 * sign` and `tx id` are in cmd_tx_build.c, `tx submit` in cmd_query.c.
 * Transactions are decoded with the cardano-sl grammar (CDL_BYRON_LEGACY)
 * so that legacy forms such as script witnesses can be inspected; blocks
 * never are.
 */
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cli.h"

static int tx_show(const char *file) {
  cdl_buf data;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_txaux aux;
  cdl_buf_init(&data, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, CDL_BYRON_LEGACY};
  int rc = cli_read_input(file, &data, &err);
  if (rc == CDL_OK) rc = cdl_byron_txaux_decode(data.data, data.len, &ctx, &aux);
  int exit_code = rc != CDL_OK ? cli_report(&err) : cli_print(cdl_byron_txaux_json(&aux), false);
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return exit_code;
}

int cmd_tx(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "build") == 0) return tx_build(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "sign") == 0) return tx_sign(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "submit") == 0) return tx_submit(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "id") == 0) return tx_id(argc - 1, argv + 1);
  if (argc != 3 || strcmp(argv[1], "show") != 0)
    return cli_usage("expected: tx show FILE | tx build | tx sign | tx id | tx submit");
  return tx_show(argv[2]);
}
