/*
 * args.h: the argp pieces cardinal-cli's tx, submit, query, delegation
 * and governance commands share (docs/cli.md "tx", "Talking to a node";
 * args.c): the node options as a child parser, the
 * network options of the commands that sign or check without a node, and
 * one parser for the commands whose options are at most a file, a genesis
 * and the network.
 */
#ifndef CARDINAL_CLI_ARGS_H
#define CARDINAL_CLI_ARGS_H

#include <argp.h>

#include "cli.h"

/* {CLI_NODE_ARGP} as the children of a command's argp: --socket-path,
 * --testnet-magic N and --mainnet appear in its help and fill the
 * cli_node_opts its parser hands them at ARGP_KEY_INIT. */
extern const struct argp_child CLI_NODE_CHILDREN[];

/* Keys of the shared options: above the character range (no short form)
 * and apart from the 0x100... keys each command numbers its own from. */
enum { CLI_O_FILE = 0x4f00, CLI_O_GENESIS, CLI_O_MAGIC, CLI_O_MAINNET };

/* --testnet-magic N and --mainnet for a command that needs no node; |when|
 * says whether they are required or what their absence means. */
/* clang-format off */
#define CLI_NETWORK_OPTIONS(when)                                                    \
  {"testnet-magic", CLI_O_MAGIC, "N", 0, "the network's protocol magic " when, 0}, \
  {"mainnet", CLI_O_MAINNET, NULL, 0, "mainnet: protocol magic 764824073", 0}
/* clang-format on */

/* For an argp parser: TXID#IX (64 hex digits, '#', a decimal index), or
 * a usage error naming the option. */
void cli_arg_txin(struct argp_state *state, const char *arg, uint8_t tx_id[32], uint32_t *index);

/* A command whose options are at most one file, a genesis and the network
 * (tx show, tx id, tx submit, the queries, delegation submit, governance
 * submit-* and show-*). The file is the option of key CLI_O_FILE in the
 * command's table (--certificate, --filepath...) or, when the argp has an
 * args_doc, its one argument; either way required. With CLI_NODE_CHILDREN
 * the node options fill |node|; with CLI_NETWORK_OPTIONS only its magic. */
typedef struct cli_command {
  cli_node_opts node;
  const char *file, *genesis;
  const struct argp *argp; /* the command's own, set by cli_command_parse */
} cli_command;
error_t cli_command_option(int key, char *arg, struct argp_state *state);
/* Parses argv with |ap| (whose parser is cli_command_option) into |o|. */
int cli_command_parse(const struct argp *ap, int argc, char **argv, cli_command *o);

#endif /* CARDINAL_CLI_ARGS_H */
