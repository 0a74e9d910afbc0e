/*
 * cmd_address.c: `cardinal-cli address show ADDRESS` (docs/cli.md
 * "address"): the structure of a Base58 Byron address (docs/byron.md 1.6).
 * A bad address (Base58, CRC, trailing bytes, structure) exits 1 with the
 * rule broken. `address build` (a verification key's address) is in
 * cmd_key_address.c.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cli.h"

static error_t show_option(int key, char *arg, struct argp_state *state) {
  const char **address = state->input;
  switch (key) {
  case ARGP_KEY_ARG:
    if (*address != NULL) argp_error(state, "one ADDRESS only, not also '%s'", arg);
    *address = arg;
    break;
  case ARGP_KEY_END:
    if (*address == NULL) argp_error(state, "ADDRESS is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp SHOW = {
    NULL, show_option, "ADDRESS",
    "A Base58 Byron address's structure: type, root, attributes (network magic, HD payload), "
    "its CBOR; legacy forms are shown too. A bad address exits 1 naming the rule.\v"
    "Example:\n  cardinal-cli address show \\\n"
    "    Ae2tdPwUPEYxhr8HfNYrgz3YPCJ8mpSVjSg5YedwcaNC51taA6R8e9bjb74",
    NULL, NULL, NULL};

static int address_show(int argc, char **argv) {
  const char *text = NULL;
  int rc = cli_args_parse(&SHOW, argc, argv, &text);
  if (rc != EXIT_OK) return rc;
  cdl_buf bytes;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_address addr;
  cdl_buf_init(&bytes, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, CDL_BYRON_LEGACY};
  rc = cdl_byron_address_from_base58(text, &bytes, &ctx, &addr);
  int exit_code = rc != CDL_OK ? cli_report(&err) : cli_print(cdl_byron_address_json(&addr), false);
  cdl_arena_free(&arena);
  cdl_buf_free(&bytes);
  return exit_code;
}

static const cli_verb ADDRESS_VERBS[] = {
    {"show", NULL, "a Base58 Byron address's structure", address_show},
    {"build", NULL, "a verification key's bootstrap address", address_build}};
const cli_noun CLI_ADDRESS = CLI_NOUN("address", ADDRESS_VERBS);
