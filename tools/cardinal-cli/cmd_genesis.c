/*
 * cmd_genesis.c: `cardinal-cli genesis hash|utxo` (docs/cli.md): the
 * Byron genesis hash (docs/byron.md 2.4) and genesis UTxO (4.2).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cli.h"

typedef struct {
  const char *genesis;
  bool list;
  int magic_policy; /* -1 default by network, 0 no magic, 1 magic */
} genesis_opts;

static int parse_opts(int argc, char **argv, genesis_opts *o) {
  static const struct option LONG[] = {{"genesis", required_argument, 0, 'g'},
                                       {"list", no_argument, 0, 'l'},
                                       {"requires-magic", no_argument, 0, 'm'},
                                       {"no-magic", no_argument, 0, 'n'},
                                       {0, 0, 0, 0}};
  int c;
  *o = (genesis_opts){NULL, false, -1};
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'g')
      o->genesis = optarg;
    else if (c == 'l')
      o->list = true;
    else if (c == 'm')
      o->magic_policy = 1;
    else if (c == 'n')
      o->magic_policy = 0;
    else
      return cli_usage("genesis: unknown or incomplete option '%s'", argv[optind - 1]);
  }
  if (o->genesis == NULL) return cli_usage("genesis: --genesis FILE is required");
  if (optind != argc) return cli_usage("genesis: unexpected argument '%s'", argv[optind]);
  return EXIT_OK;
}

static int genesis_hash(const genesis_opts *o) {
  cdl_error err = {0};
  uint8_t hash[32];
  char hex[65];
  if (cdl_byron_genesis_hash_file(o->genesis, CLI_MAX_INPUT, hash, &err) != CDL_OK)
    return cli_report(&err);
  cdl_hex_encode(hash, 32, hex);
  printf("%s\n", hex);
  return EXIT_OK;
}

static json_t *utxo_list(const cdl_byron_utxo_entry *u, size_t n) {
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        list, json_pack("{s:o,s:i,s:o,s:o}", "tx_id", cdl_json_hex(u[i].tx_id, 32), "index", 0,
                        "address", cdl_byron_address_base58_json(u[i].address), "lovelace",
                        cdl_json_u64(u[i].lovelace)));
  return list;
}

static int genesis_utxo(const genesis_opts *o) {
  cdl_buf text;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_genesis g = {0};
  cdl_byron_utxo_entry *u = NULL;
  size_t n = 0;
  cdl_buf_init(&text, 0);
  cdl_arena_init(&arena, 0);
  int rc = cdl_byron_genesis_load_file(o->genesis, CLI_MAX_INPUT, &text, &arena, &g, &err);
  bool magic =
      o->magic_policy >= 0 ? o->magic_policy == 1 : cdl_byron_requires_magic(g.protocol_magic);
  if (rc == CDL_OK) rc = cdl_byron_genesis_utxo(&g, magic, &arena, &u, &n, &err);
  uint64_t total = 0;
  for (size_t i = 0; rc == CDL_OK && i < n; i++) {
    if (u[i].lovelace > UINT64_MAX - total)
      rc = cdl_error_set(&err, CDL_E_GENESIS, 0, "genesis UTxO total exceeds 2^64-1 lovelace");
    else
      total += u[i].lovelace;
  }
  int exit_code = rc != CDL_OK ? cli_report(&err) : EXIT_OK;
  if (rc == CDL_OK) {
    json_t *j = json_pack("{s:I,s:o}", "entries", (json_int_t)n, "lovelace", cdl_json_u64(total));
    if (o->list) json_object_set_new(j, "utxo", utxo_list(u, n));
    exit_code = cli_print(j, false);
  }
  cdl_buf_free(&text);
  cdl_arena_free(&arena);
  return exit_code;
}

int cmd_genesis(int argc, char **argv) {
  if (argc < 2) return cli_usage("genesis: expected 'hash', 'utxo', 'create' or 'print-secrets'");
  if (strcmp(argv[1], "create") == 0) return genesis_create(argc - 1, argv + 1);
  if (strcmp(argv[1], "print-secrets") == 0) return genesis_print_secrets(argc - 1, argv + 1);
  genesis_opts o;
  const char *verb = argv[1];
  int rc = parse_opts(argc - 1, argv + 1, &o);
  if (rc != EXIT_OK) return rc;
  if (strcmp(verb, "hash") == 0) return genesis_hash(&o);
  if (strcmp(verb, "utxo") == 0) return genesis_utxo(&o);
  return cli_usage("genesis: unknown verb '%s'", verb);
}
