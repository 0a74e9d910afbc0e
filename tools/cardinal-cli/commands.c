/*
 * commands.c: every cardinal-cli command (docs/cli.md), in the order
 * `cardinal-cli --help` lists them. Each noun's verbs, with their
 * summaries, are kept beside their code (CLI_DB in cmd_db.c...), so the
 * list cannot leave one out.
 */
#include "cli.h"

#define LEGACY(noun, fn) {noun, NULL, 0, fn}
static const cli_noun GENESIS = LEGACY("genesis", cmd_genesis);
static const cli_noun BLOCK = LEGACY("block", cmd_block);
static const cli_noun CHAIN = LEGACY("chain", cmd_chain);
static const cli_noun SYNC = LEGACY("sync", cmd_sync);
static const cli_noun KEY = LEGACY("key", cmd_key);
static const cli_noun ADDRESS = LEGACY("address", cmd_address);
static const cli_noun DELEGATION = LEGACY("delegation", cmd_delegation);
static const cli_noun GOVERNANCE = LEGACY("governance", cmd_governance);
static const cli_noun TX = LEGACY("tx", cmd_tx);
static const cli_noun SUBMIT = LEGACY("submit", cmd_submit);
static const cli_noun QUERY = LEGACY("query", cmd_query);
static const cli_noun DEVNET = LEGACY("devnet", cmd_devnet);
static const cli_noun TXGEN = LEGACY("txgen", cmd_txgen);

const cli_noun *const CLI_NOUNS[] = {&GENESIS, &BLOCK, &CHAIN,      &CLI_DB,     &SYNC,
                                     &KEY,     &ADDRESS, &DELEGATION, &GOVERNANCE, &TX,
                                     &SUBMIT,  &QUERY, &DEVNET,     &CLI_LIVE,   &TXGEN};
const size_t CLI_N_NOUNS = sizeof CLI_NOUNS / sizeof CLI_NOUNS[0];
