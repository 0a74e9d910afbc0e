/*
 * cmd_address.c: `cardinal-cli address show ADDRESS` (docs/cli.md): the
 * structure of a Base58 Byron address (docs/byron.md 1.6). A bad address
 * (Base58, CRC, trailing bytes, structure) exits 1 with the rule broken.
 * `address build` (a verification key's address) is in cmd_key_address.c.
 */
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cli.h"

int cmd_address(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "build") == 0) return address_build(argc - 1, argv + 1);
  if (argc != 3 || strcmp(argv[1], "show") != 0)
    return cli_usage("expected: address show ADDRESS | address build --verification-key-file F "
                     "(--testnet-magic N | --mainnet)");
  cdl_buf bytes;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_address addr;
  cdl_buf_init(&bytes, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, CDL_BYRON_LEGACY};
  int rc = cdl_byron_address_from_base58(argv[2], &bytes, &ctx, &addr);
  int exit_code = rc != CDL_OK ? cli_report(&err) : cli_print(cdl_byron_address_json(&addr), false);
  cdl_arena_free(&arena);
  cdl_buf_free(&bytes);
  return exit_code;
}
