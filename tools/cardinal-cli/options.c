/*
 * options.c: how every cardinal-cli command reads its options and prints
 * its help (docs/cli.md "Options and help"), on glibc's argp
 * (docs/design.md "Dependencies"): usage, every option with its default
 * and an example under `--help` (exit 0), `--version`, and a bad or
 * missing option reported by name (exit 2). Also the options every
 * command to a running node shares (--socket-path, --testnet-magic N,
 * --mainnet), as a child parser.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cardinal/version.h"

static void print_version(FILE *out, struct argp_state *state) {
  (void)state;
  fprintf(out, "cardinal-cli %s (commit %s)\n", CDL_VERSION, CDL_GIT_COMMIT);
}

int cli_args_parse(const struct argp *ap, int argc, char **argv, void *input) {
  argp_err_exit_status = EXIT_USAGE;
  argp_program_version_hook = print_version;
  /* argp exits itself after --help (0) and after a usage error (2, the
   * option named); anything else it returns is a usage error too. */
  error_t rc = argp_parse(ap, argc, argv, 0, NULL, input);
  return rc == 0 ? EXIT_OK : EXIT_USAGE;
}

uint64_t cli_arg_u64(struct argp_state *state, const char *arg, uint64_t min, uint64_t max) {
  uint64_t v = 0;
  if (!cli_parse_u64(arg, min, max, &v))
    argp_error(state, "%s: '%s' is not a whole number from %llu to %llu", cli_arg_name(state),
               arg, (unsigned long long)min, (unsigned long long)max);
  return v;
}

double cli_arg_fraction(struct argp_state *state, const char *arg) {
  double v = 0;
  if (!cli_parse_fraction(arg, &v))
    argp_error(state, "%s: '%s' is not a number above 0 and at most 1", cli_arg_name(state), arg);
  return v;
}

void cli_arg_network(struct argp_state *state, const char *arg, bool *has_magic, uint64_t *magic) {
  if (*has_magic) /* both, or one twice: ambiguous */
    argp_error(state, "%s: give --testnet-magic N or --mainnet, once", cli_arg_name(state));
  *magic = arg == NULL ? CLI_MAINNET_MAGIC : cli_arg_u64(state, arg, 0, UINT32_MAX);
  *has_magic = true;
}

const char *cli_arg_name(const struct argp_state *state) {
  /* argp has consumed the option and, when it was `--name value`, its
   * value: the option is the last argument before next that starts with
   * "--" (the form an error must quote back). */
  for (int i = state->next - 1; i > 0 && i >= state->next - 2; i--) {
    const char *a = state->argv[i];
    if (strncmp(a, "--", 2) != 0) continue;
    static char name[64];
    size_t n = strcspn(a, "=");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), a);
    return name;
  }
  return "option";
}

/* ---- The options of a command to a running node ------------------------ */

enum { NODE_SOCKET = 0x4e00, NODE_MAGIC, NODE_MAINNET };

static const struct argp_option NODE_OPTIONS[] = {
    {"socket-path", NODE_SOCKET, "PATH", 0,
     "the node's local socket (default: $CARDANO_NODE_SOCKET_PATH)", 0},
    {"testnet-magic", NODE_MAGIC, "N", 0,
     "the network's magic (default: asked of the node)", 0},
    {"mainnet", NODE_MAINNET, NULL, 0, "mainnet (magic 764824073)", 0},
    {0}};

static error_t node_option(int key, char *arg, struct argp_state *state) {
  cli_node_opts *o = state->input;
  switch (key) {
  case NODE_SOCKET:
    o->socket = arg;
    return 0;
  case NODE_MAGIC:
  case NODE_MAINNET:
    cli_arg_network(state, arg, &o->has_magic, &o->magic);
    o->mainnet = key == NODE_MAINNET;
    return 0;
  case ARGP_KEY_END:
    if (o->socket == NULL) o->socket = getenv("CARDANO_NODE_SOCKET_PATH");
    if (o->socket == NULL || o->socket[0] == '\0')
      argp_error(state, "--socket-path PATH (or CARDANO_NODE_SOCKET_PATH) is required");
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

const struct argp CLI_NODE_ARGP = {NODE_OPTIONS, node_option, NULL, NULL, NULL, NULL, NULL};
