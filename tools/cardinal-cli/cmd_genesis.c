/*
 * cmd_genesis.c: `cardinal-cli genesis` (docs/cli.md "genesis"): `hash`,
 * the Byron genesis hash (docs/byron.md 2.4), and `utxo`, the genesis
 * UTxO (4.2); the noun's verbs, with `create` and `print-secrets` from
 * cmd_genesis_create.c.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cli.h"

typedef struct {
  const char *genesis;
  bool list;
  int magic_policy; /* -1 default by network, 0 no magic, 1 magic */
} genesis_opts;

/* Option keys: above the character range, so none is a short option. */
enum { O_GENESIS = 0x100, O_LIST, O_REQUIRES_MAGIC, O_NO_MAGIC };

static error_t genesis_option(int key, char *arg, struct argp_state *state) {
  genesis_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT: *o = (genesis_opts){NULL, false, -1}; break;
  case O_GENESIS: o->genesis = arg; break;
  case O_LIST: o->list = true; break;
  case O_REQUIRES_MAGIC: o->magic_policy = 1; break; /* the last of the two wins */
  case O_NO_MAGIC: o->magic_policy = 0; break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (o->genesis == NULL) argp_error(state, "--genesis FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

#define OPT_GENESIS {"genesis", O_GENESIS, "FILE", 0, "the Byron genesis JSON file (required)", 0}

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

static const struct argp_option HASH_OPTIONS[] = {OPT_GENESIS, {0}};
static const struct argp HASH = {
    HASH_OPTIONS, genesis_option, NULL,
    "The Byron genesis hash: Blake2b-256 of the file's canonical JSON, as cardano-node computes "
    "it (a node config's ByronGenesisHash); one line of 64 hex digits.\v"
    "Example:\n  cardinal-cli genesis hash --genesis mainnet-byron-genesis.json",
    NULL, NULL, NULL};
static const struct argp_option UTXO_OPTIONS[] = {
    OPT_GENESIS,
    {"list", O_LIST, NULL, 0, "list every entry (default: the count and total only)", 0},
    {"requires-magic", O_REQUIRES_MAGIC, NULL, 0,
     "give redeem addresses the network-magic attribute (default: every network but mainnet "
     "and staging)", 0},
    {"no-magic", O_NO_MAGIC, NULL, 0, "give redeem addresses no network-magic attribute", 0},
    {0}};
static const struct argp UTXO = {
    UTXO_OPTIONS, genesis_option, NULL,
    "Check the whole genesis and print its UTxO: one output per avvmDistr and nonAvvmBalances "
    "entry, at tx id Blake2b-256(address), index 0.\v"
    "Example:\n  cardinal-cli genesis utxo --genesis byron-genesis.json --list",
    NULL, NULL, NULL};

static int run_hash(int argc, char **argv) {
  genesis_opts o;
  int rc = cli_args_parse(&HASH, argc, argv, &o);
  return rc == EXIT_OK ? genesis_hash(&o) : rc;
}

static int run_utxo(int argc, char **argv) {
  genesis_opts o;
  int rc = cli_args_parse(&UTXO, argc, argv, &o);
  return rc == EXIT_OK ? genesis_utxo(&o) : rc;
}

static const cli_verb GENESIS_VERBS[] = {
    {"hash", NULL, "the Byron genesis hash", run_hash},
    {"utxo", NULL, "check a genesis and count (or list) its UTxO", run_utxo},
    {"create", NULL, "a new network's genesis.json and keys", genesis_create},
    {"print-secrets", NULL, "a genesis directory's keys, addresses and balances",
     genesis_print_secrets}};
const cli_noun CLI_GENESIS = CLI_NOUN("genesis", GENESIS_VERBS);
