/*
 * cli.h: shared helpers of cardinal-cli (docs/cli.md): exit codes, input
 * files (binary or hex), JSON output, option parsing.
 */
#ifndef CARDINAL_CLI_H
#define CARDINAL_CLI_H

#include <jansson.h>

#include "cardinal/base.h"
#include "cardinal/ledger.h"

/* Exit codes (docs/design.md section 6). */
enum { EXIT_OK = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_FAILURE_IO = 3 };

#define CLI_MAX_INPUT ((size_t)512 << 20)

/* Maps an error code to an exit code: I/O and memory are 3, usage 2, any
 * rule about the input 1. */
int cli_exit_code(int code);
/* Prints {"error": {"rule", "message", "offset"}} on stderr; returns the
 * exit code for err->code. */
int cli_report(const cdl_error *err);
/* Prints {"error": {"rule", "message"}} on stderr for a rule of the
 * CLI's own (tx.fee_too_low, node.not_cardinal...); returns |exit_code|. */
int cli_fail(const char *rule, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints a usage error on stderr and returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reads a file; when it is hex text (ASCII hex and whitespace only) it is
 * decoded to bytes. */
int cli_read_input(const char *path, cdl_buf *out, cdl_error *err);
/* The same for a file of at most |max_bytes| (as stored: hex takes two
 * bytes or more a byte). */
int cli_read_input_max(const char *path, size_t max_bytes, cdl_buf *out, cdl_error *err);
/* Prints a JSON value on stdout (pretty or one line) and releases it. */
int cli_print(json_t *value, bool one_line);
/* Parses a decimal option value into [min, max]. */
bool cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* Parses TXID#IX: 64 hex digits, '#', a decimal index. */
bool cli_parse_txin(const char *text, uint8_t tx_id[32], uint32_t *index);
/* Parses a decimal number in (0, 1] (a PBFT threshold, a fill share). */
bool cli_parse_fraction(const char *text, double *out);
/* Prints a ledger rejection as {"error": {rule, block_no, slot, hash, ...}}
 * on stderr; |l| is the ledger that refused it (for the block number of a
 * block that did not decode). Returns EXIT_REJECTED. */
int cli_report_rejection(const cdl_rejection *rej, const cdl_ledger *l);
/* SIGINT and SIGTERM then only set a flag that long-running commands
 * (txgen, devnet watch, sync) poll, so they stop and still report; a
 * repeat is ignored and logged under |command|'s name, so it cannot kill
 * the command before it reports (cdl_io_stop_catch). */
void cli_catch_stop_signals(const char *command);
bool cli_stop_requested(void);
/* Monotonic seconds, for the timings commands report. */
double cli_now_seconds(void);
/* The options of a command to a running node (CLI_NODE_ARGP, options.c):
 * --socket-path (else CARDANO_NODE_SOCKET_PATH from the environment, as
 * cardano-cli), --testnet-magic N or --mainnet (else the magic is asked
 * of the node). */
typedef struct cli_node_opts {
  const char *socket;
  uint64_t magic;
  bool has_magic, mainnet;
} cli_node_opts;
/* Submits a Byron GenTx [kind, payload] to the node at |socket| over local
 * tx-submission (the magic asked of the node unless |has_magic|):
 * EXIT_OK when accepted; otherwise the failure or the node's reason is
 * reported on stderr and its exit code returned. */
int cli_submit_gentx(const char *socket, uint64_t magic, bool has_magic, cdl_span gentx);

/* ---- Networks, files and refusals for the governance, key, address and
 * certificate-check commands (args.c, reject.c; their argp pieces: args.h) ---- */
#define CLI_MAINNET_MAGIC 764824073u
/* Refuses to write over |path| (exit 2), as cardano-cli's ensureNewFile;
 * lstat, so a dangling symlink is not followed either. */
int cli_refuse_existing(const char *what, const char *path);
/* Creates |path| (mode 0644) holding |data|; an existing path is refused
 * (exit 2), a failed write is exit 3. */
int cli_write_new_file(const char *what, const char *path, const uint8_t *data, size_t len);
/* Prints {"error": {"rule", "message"}} on stderr; returns EXIT_REJECTED
 * (cli_fail for a rule the input broke). */
#define cli_report_rule(rule, ...) cli_fail(rule, EXIT_REJECTED, __VA_ARGS__)
/* The reason of a node's MsgRejectTx, decoded as far as it can be, on
 * stderr (docs/cli.md "Rejection reasons"); returns EXIT_REJECTED. */
int cli_report_node_reason(cdl_span reason);

/* ---- Commands and their options (main.c, options.c; docs/cli.md
 * "Options and help") ---- */
/* One command, `cardinal-cli NOUN VERB`: |run| gets argv with argv[0] the
 * command's full name ("cardinal-cli db info"), for its argp parser. */
typedef struct cli_verb {
  const char *name;    /* "" when the noun is the command (sync, txgen, live) */
  const char *alias;   /* another name it answers to (cardano-cli's), or NULL */
  const char *summary; /* one line, for the list of commands */
  int (*run)(int argc, char **argv);
} cli_verb;
typedef struct cli_noun {
  const char *name;
  const cli_verb *verbs;
  size_t n_verbs;
} cli_noun;
#define CLI_NOUN(name, verbs) {name, verbs, sizeof verbs / sizeof verbs[0]}
/* Every noun, in the order `cardinal-cli --help` lists them (commands.c). */
extern const cli_noun *const CLI_NOUNS[];
extern const size_t CLI_N_NOUNS;
extern const cli_noun CLI_DB, CLI_LIVE;
extern const cli_noun CLI_TX, CLI_SUBMIT, CLI_QUERY, CLI_DELEGATION, CLI_GOVERNANCE;
extern const cli_noun CLI_SYNC, CLI_DEVNET, CLI_TXGEN;
extern const cli_noun CLI_GENESIS, CLI_BLOCK, CLI_CHAIN, CLI_KEY, CLI_ADDRESS;
/* Their verbs kept in a second file (a cli_verb's run: argv[0] is the
 * command's full name). */
int genesis_create(int argc, char **argv);
int genesis_print_secrets(int argc, char **argv);
int chain_generate(int argc, char **argv);
int chain_generate_invalid(int argc, char **argv);
int key_to_verification(int argc, char **argv);
int key_signing_key_public(int argc, char **argv);
int key_signing_key_address(int argc, char **argv);
int address_build(int argc, char **argv);

struct argp;
struct argp_state;
/* Parses a command's argv with |ap| into |input|: `--help` prints usage,
 * every option with its default and the example (the argp doc after \v),
 * then exits 0; `--version` prints version and commit; a bad or missing
 * option is reported naming it, exit 2. EXIT_OK when parsing went on. */
int cli_args_parse(const struct argp *ap, int argc, char **argv, void *input);
/* For an argp parser: the option's value as a whole number in [min, max],
 * or a usage error naming the option (exit 2). */
uint64_t cli_arg_u64(struct argp_state *state, const char *arg, uint64_t min, uint64_t max);
/* The same for a number in (0, 1] (a PBFT threshold, a fill share). */
double cli_arg_fraction(struct argp_state *state, const char *arg);
/* For an argp parser: `--mainnet` (|arg| NULL) or `--testnet-magic ARG`
 * into *magic; a usage error naming the option when the network was
 * already given or ARG is not a 32-bit number. */
void cli_arg_network(struct argp_state *state, const char *arg, bool *has_magic, uint64_t *magic);
/* The option being parsed as the user wrote it ("--threads"), for errors. */
const char *cli_arg_name(const struct argp_state *state);
/* The child parser of --socket-path, --testnet-magic N and --mainnet,
 * whose input is a cli_node_opts (set state->child_inputs[i] at
 * ARGP_KEY_INIT); at the end it takes the socket from
 * CARDANO_NODE_SOCKET_PATH when not given, and requires one. */
extern const struct argp CLI_NODE_ARGP;

/* Verbs with options of their own; argv[0] is the verb. */
int tx_build(int argc, char **argv);
int tx_sign(int argc, char **argv);
int tx_submit(int argc, char **argv);
int tx_id(int argc, char **argv);
int query_tip(int argc, char **argv);
int query_utxo(int argc, char **argv);
int query_protocol_parameters(int argc, char **argv);
int query_update_state(int argc, char **argv);
int devnet_watch(int argc, char **argv);
int governance_show_proposal(int argc, char **argv);
int governance_show_vote(int argc, char **argv);
/* Reads a proposal (|vote| false, into |p|) or vote file (into |v|): raw
 * CBOR as cardano-cli writes them, or hex; |bytes| keeps the file, which
 * the decoded spans point into. EXIT_OK, or the error reported. */
int governance_read_payload(const char *path, bool vote, cdl_buf *bytes, cdl_arena *arena,
                            cdl_byron_proposal *p, cdl_byron_vote *v);
int delegation_check(int argc, char **argv);

#endif /* CARDINAL_CLI_H */
