/*
 * main.c: cardinal-cli, the command-line tool (docs/cli.md). Subcommands
 * are grouped by noun; machine output is JSON on stdout, errors go to
 * stderr, exit codes follow docs/design.md section 6.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cli.h"
#include "cardinal/version.h"

static void print_commands(FILE *out) {
  fputs("Usage: cardinal-cli NOUN VERB [OPTION...]\n"
        "       cardinal-cli NOUN VERB --help   its options, their defaults, an example\n"
        "       cardinal-cli --version | --help\n\nCommands:\n",
        out);
  for (size_t i = 0; i < CLI_N_NOUNS; i++) {
    const cli_noun *n = CLI_NOUNS[i];
    for (size_t j = 0; j < n->n_verbs; j++) {
      char name[64];
      snprintf(name, sizeof name, "%s%s%s", n->name, n->verbs[j].name[0] ? " " : "",
               n->verbs[j].name);
      fprintf(out, "  %-36s  %s\n", name, n->verbs[j].summary);
    }
  }
  fputs("\nCommands to a running node take --socket-path PATH (or CARDANO_NODE_SOCKET_PATH)\n"
        "and --testnet-magic N or --mainnet (else the magic is asked of the node).\n"
        "Exit codes: 0 ok, 1 invalid input (JSON error on stderr), 2 usage, 3 I/O failure.\n",
        out);
}

static void print_verbs(FILE *out, const cli_noun *n) {
  fprintf(out, "Usage: cardinal-cli %s VERB [OPTION...]   (VERB --help for its options)\n\n",
          n->name);
  for (size_t j = 0; j < n->n_verbs; j++)
    fprintf(out, "  %-30s %s\n", n->verbs[j].name, n->verbs[j].summary);
}

static const cli_verb *find_verb(const cli_noun *n, const char *name) {
  for (size_t j = 0; j < n->n_verbs; j++) {
    const cli_verb *v = &n->verbs[j];
    if (strcmp(v->name, name) == 0 || (v->alias != NULL && strcmp(v->alias, name) == 0))
      return v;
  }
  return NULL;
}

/* Runs NOUN [VERB] with argv[0] its full name, for the verb's argp. */
static int run_noun(const cli_noun *n, int argc, char **argv) {
  static char name[96];
  if (n->n_verbs == 1 && n->verbs[0].name[0] == '\0') {
    snprintf(name, sizeof name, "cardinal-cli %s", n->name);
    argv[0] = name;
    return n->verbs[0].run(argc, argv);
  }
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_verbs(argc < 2 ? stderr : stdout, n);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  const cli_verb *v = find_verb(n, argv[1]);
  if (v == NULL) {
    print_verbs(stderr, n);
    return cli_usage("%s: unknown command '%s'", n->name, argv[1]);
  }
  snprintf(name, sizeof name, "cardinal-cli %s %s", n->name, v->name);
  argv[1] = name;
  return v->run(argc - 1, argv + 1);
}

int main(int argc, char **argv) {
  /* A peer or node that closes while we write must cost an error we report
   * (exit 3), not a silent death: with SIGPIPE ignored the write fails
   * with EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("cardinal-cli %s (commit %s)\n", CDL_VERSION, CDL_GIT_COMMIT);
    return EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_commands(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  if (cdl_crypto_init() != CDL_OK) {
    fprintf(stderr, "cardinal-cli: cannot initialise libsodium/OpenSSL\n");
    return EXIT_FAILURE_IO;
  }
  for (size_t i = 0; i < CLI_N_NOUNS; i++) {
    if (strcmp(argv[1], CLI_NOUNS[i]->name) == 0) return run_noun(CLI_NOUNS[i], argc - 1, argv + 1);
  }
  return cli_usage("unknown command '%s'", argv[1]);
}
