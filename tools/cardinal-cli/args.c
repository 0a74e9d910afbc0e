/*
 * args.c: option helpers of cardinal-cli's tx, query, delegation,
 * governance, key and address commands (docs/cli.md "tx", "Talking to a
 * node"; args.h): the network as cardano-cli names it (`--testnet-magic N` or
 * `--mainnet`, Cardano.CLI's pNetworkId), the node options as a child
 * parser, one parser for the commands that take at most a file, a genesis
 * and the network, and cardano-cli's refusal to write over an existing
 * file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"

void cli_arg_txin(struct argp_state *state, const char *arg, uint8_t tx_id[32], uint32_t *index) {
  if (!cli_parse_txin(arg, tx_id, index))
    argp_error(state, "%s: '%s' is not TXID#IX (64 hex digits, '#', an index)",
               cli_arg_name(state), arg);
}

const struct argp_child CLI_NODE_CHILDREN[] = {{&CLI_NODE_ARGP, 0, NULL, 0}, {0}};

/* The entry of |key| in |ap|'s own option table, or NULL. */
static const struct argp_option *own_option(const struct argp *ap, int key) {
  for (const struct argp_option *opt = ap->options;
       opt != NULL && (opt->name != NULL || opt->key != 0 || opt->doc != NULL); opt++)
    if (opt->key == key)
      return opt;
  return NULL;
}

error_t cli_command_option(int key, char *arg, struct argp_state *state) {
  cli_command *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    if (o->argp->children != NULL)
      state->child_inputs[0] = &o->node;
    return 0;
  case CLI_O_FILE:
    o->file = arg;
    return 0;
  case CLI_O_GENESIS:
    o->genesis = arg;
    return 0;
  case CLI_O_MAGIC:
  case CLI_O_MAINNET:
    cli_arg_network(state, arg, &o->node.has_magic, &o->node.magic);
    o->node.mainnet = key == CLI_O_MAINNET;
    return 0;
  case ARGP_KEY_ARG:
    if (o->argp->args_doc == NULL || o->file != NULL)
      argp_error(state, "unexpected argument '%s'", arg);
    o->file = arg;
    return 0;
  case ARGP_KEY_END: {
    const struct argp_option *file = own_option(o->argp, CLI_O_FILE);
    if (o->file == NULL && file != NULL)
      argp_error(state, "--%s %s is required", file->name, file->arg);
    if (o->file == NULL && o->argp->args_doc != NULL)
      argp_error(state, "the %s argument is required", o->argp->args_doc);
    return 0;
  }
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

int cli_command_parse(const struct argp *ap, int argc, char **argv, cli_command *o) {
  memset(o, 0, sizeof *o);
  o->argp = ap;
  return cli_args_parse(ap, argc, argv, o);
}

int cli_refuse_existing(const char *what, const char *path) {
  struct stat st;
  if (lstat(path, &st) == 0)
    return cli_usage("%s: %s already exists; not overwriting it", what, path);
  return EXIT_OK;
}

int cli_write_new_file(const char *what, const char *path, const uint8_t *data, size_t len) {
  /* O_EXCL: refused if anything is there, a symlink included, with no
   * window between the check and the write. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return cli_usage("%s: %s already exists; not overwriting it", what, path);
  cdl_error err = {0};
  if (fd < 0) {
    cdl_error_set(&err, CDL_E_IO, 0, "cannot create %s: %s", path, strerror(errno));
    return cli_report(&err);
  }
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    data += n;
    len -= (size_t)n;
  }
  bool ok = len == 0;
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok)
    return EXIT_OK;
  unlink(path); /* no half-written file left for a later command to trust */
  cdl_error_set(&err, CDL_E_IO, 0, "cannot write %s: %s", path, strerror(saved));
  return cli_report(&err);
}
