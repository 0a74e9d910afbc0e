/*
 * commands.c: every cardinal-cli command (docs/cli.md), in the order
 * `cardinal-cli --help` lists them. Each noun's verbs, with their
 * summaries, are kept beside their code (CLI_DB in cmd_db.c...), so the
 * list cannot leave one out.
 */
#include "cli.h"

const cli_noun *const CLI_NOUNS[] = {&CLI_GENESIS,    &CLI_BLOCK, &CLI_CHAIN,   &CLI_DB,
                                     &CLI_SYNC,       &CLI_KEY,   &CLI_ADDRESS, &CLI_DELEGATION,
                                     &CLI_GOVERNANCE, &CLI_TX,    &CLI_SUBMIT,  &CLI_QUERY,
                                     &CLI_DEVNET,     &CLI_LIVE,  &CLI_TXGEN};
const size_t CLI_N_NOUNS = sizeof CLI_NOUNS / sizeof CLI_NOUNS[0];
