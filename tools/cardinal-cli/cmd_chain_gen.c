/*
 * cmd_chain_gen.c: `cardinal-cli chain generate` and `chain
 * generate-invalid` (docs/cli.md, docs/genesis.md): valid chains forged
 * from a genesis directory, and invalid ones with one known defect.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardinal/byron_json.h"
#include "cardinal/gen.h"
#include "cli.h"

/* The options of both verbs: generate-invalid takes the seed and the
 * threshold from |chain| too. */
typedef struct {
  const struct argp *verb; /* GENERATE or INVALID */
  const char *dir, *out, *from, *name;
  cdl_gen_chain_opts chain;
  bool list;
} gen_opts;

/* Option keys: above the character range, so none is a short option. */
enum {
  O_DIR = 0x100,
  O_OUT,
  O_SLOTS,
  O_FILL,
  O_TXS,
  O_TX_SHARE,
  O_OUTPUTS,
  O_DELEGATION,
  O_UPDATES,
  O_SEED,
  O_THRESHOLD,
  O_FROM,
  O_CASE,
  O_LIST
};

static const struct argp GENERATE, INVALID;

/* What each verb cannot do without. */
static void require_options(struct argp_state *state, const gen_opts *o) {
  if (o->verb == &GENERATE) {
    if (!o->dir) argp_error(state, "--genesis-dir DIR is required");
    if (!o->out) argp_error(state, "--out FILE is required");
    if (!o->chain.slots) argp_error(state, "--slots N is required");
  } else if (!o->list) {
    if (!o->from) argp_error(state, "--from FILE is required (or --list)");
    if (!o->dir) argp_error(state, "--genesis-dir DIR is required (or --list)");
    if (!o->name) argp_error(state, "--case CASE is required (or --list)");
    if (!o->out) argp_error(state, "--out FILE is required (or --list)");
  }
}

static error_t gen_option(int key, char *arg, struct argp_state *state) {
  gen_opts *o = state->input;
  cdl_gen_chain_opts *c = &o->chain;
  switch (key) {
  case O_DIR: o->dir = arg; break;
  case O_OUT: o->out = arg; break;
  case O_FROM: o->from = arg; break;
  case O_CASE: o->name = arg; break;
  case O_LIST: o->list = true; break;
  case O_SLOTS: c->slots = cli_arg_u64(state, arg, 1, UINT32_MAX); break;
  case O_FILL: c->fill = cli_arg_fraction(state, arg); break;
  case O_TXS: c->txs_per_block = (uint32_t)cli_arg_u64(state, arg, 0, 10000); break;
  case O_TX_SHARE: c->tx_share = cli_arg_fraction(state, arg); break;
  case O_OUTPUTS: c->outputs_per_tx = (uint32_t)cli_arg_u64(state, arg, 2, 64); break;
  case O_DELEGATION: c->delegation = true; break;
  case O_UPDATES: c->updates = true; break;
  case O_SEED: c->seed = cli_arg_u64(state, arg, 0, UINT64_MAX); break;
  case O_THRESHOLD: c->pbft_threshold = cli_arg_fraction(state, arg); break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END: require_options(state, o); break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

#define OPT_DIR {"genesis-dir", O_DIR, "DIR", 0, "a directory `genesis create` wrote (required)", 0}
#define OPT_THRESHOLD                                                                           \
  {"pbft-threshold", O_THRESHOLD, "T", 0,                                                       \
   "the PBFT signer threshold the chain must keep, above 0 and at most 1 (default: 0.22)", 0}

static const struct argp_option GENERATE_OPTIONS[] = {
    OPT_DIR,
    {"out", O_OUT, "FILE", 0, "the chunk file to write (required; removed on a failure)", 0},
    {"slots", O_SLOTS, "N", 0, "how many slots to cover from slot 0, 1 to 2^32-1 (required)", 0},
    {"fill", O_FILL, "F", 0, "the share of slots with a block, above 0 and at most 1 (default: 1)",
     0},
    {"txs-per-block", O_TXS, "T", 0, "transactions per block, 0 to 10000 (default: 1)", 0},
    {"tx-share", O_TX_SHARE, "F", 0,
     "the share of blocks that carry transactions, drawn per block from the seed, above 0 and "
     "at most 1 (default: 1)", 0},
    {"outputs-per-tx", O_OUTPUTS, "N", 0,
     "outputs of each transaction: N - 1 payments to random keys and the change, 2 to 64 "
     "(default: 2); each spends one input, so the UTxO grows by N - 1 a transaction", 0},
    {"delegation", O_DELEGATION, NULL, 0, "a re-delegation certificate each epoch (default: none)",
     0},
    {"updates", O_UPDATES, NULL, 0,
     "an update proposal, its votes, endorsements and adoption (default: none)", 0},
    {"seed", O_SEED, "S", 0, "the seed of every choice; the same seed, the same chain (default: 0)",
     0},
    OPT_THRESHOLD,
    {0}};
static const struct argp GENERATE = {
    GENERATE_OPTIONS, gen_option, NULL,
    "Forge a valid chain from slot 0 with a genesis directory's delegates (round-robin, an EBB "
    "per epoch), each block judged by the ledger as it is made. Settings that cannot give the "
    "chain asked for are refused before a block is made (exit 2).\v"
    "Example:\n  cardinal-cli chain generate --genesis-dir net --out chain.chunk \\\n"
    "    --slots 300 --delegation --updates",
    NULL, NULL, NULL};

static const struct argp_option INVALID_OPTIONS[] = {
    {"from", O_FROM, "FILE", 0, "the valid chunk file to start from (required)", 0},
    OPT_DIR,
    {"case", O_CASE, "CASE", 0, "the defect, one of --list (required)", 0},
    {"out", O_OUT, "FILE", 0, "the chunk file to write (required)", 0},
    {"seed", O_SEED, "S", 0, "chooses where the defect goes (default: 0)", 0},
    OPT_THRESHOLD,
    {"list", O_LIST, NULL, 0, "print every case, its expected rule and description, and stop", 0},
    {0}};
static const struct argp INVALID = {
    INVALID_OPTIONS, gen_option, NULL,
    "Write a valid chain up to a place the seed chooses, then one block with a known defect "
    "that the ledger must refuse with the case's rule (checked before the file is written).\v"
    "Example:\n  cardinal-cli chain generate-invalid --from chain.chunk --genesis-dir net \\\n"
    "    --case fee-too-low --seed 1 --out bad.chunk",
    NULL, NULL, NULL};

static int parse_gen(const struct argp *ap, int argc, char **argv, gen_opts *o) {
  *o = (gen_opts){.verb = ap, .chain = {.fill = 1.0, .txs_per_block = 1}};
  return cli_args_parse(ap, argc, argv, o);
}

static json_t *stats_json(const cdl_gen_chain_stats *s, double seconds, uint64_t seed) {
  char pv[32];
  snprintf(pv, sizeof pv, "%u.%u.%u", s->protocol_version.major, s->protocol_version.minor,
           s->protocol_version.alt);
  return json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:o, s:o, s:o}, s:s, s:b, s:o, s:o, s:f, "
      "s:f}",
      "blocks", (json_int_t)s->blocks, "ebbs", (json_int_t)s->ebbs, "txs", (json_int_t)s->txs,
      "certificates", (json_int_t)s->certificates, "proposals", (json_int_t)s->proposals, "votes",
      (json_int_t)s->votes, "skipped_slots", (json_int_t)s->skipped_slots, "bytes",
      (json_int_t)s->bytes, "tip", "hash", cdl_json_hex(s->tip.hash, 32), "block_no",
      cdl_json_u64(s->tip.block_no), "slot", cdl_json_u64(s->tip.slot), "protocol_version", pv,
      "update_adopted", s->update_adopted, "max_tx_size", cdl_json_u64(s->max_tx_size), "seed",
      cdl_json_u64(seed), "seconds", seconds, "blocks_per_second",
      seconds > 0 ? (double)(s->blocks + s->ebbs) / seconds : 0.0);
}

/* The ledger refused a generated block: name its rule. */
static int report_refusal(const cdl_rejection *rej, const cdl_error *err) {
  json_t *j = json_pack("{s:{s:s, s:s}}", "error", "rule", rej->rule, "message", err->message);
  char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  fprintf(stderr, "%s\n", text ? text : err->message);
  free(text);
  json_decref(j);
  return EXIT_REJECTED;
}

int chain_generate(int argc, char **argv) {
  gen_opts g;
  int rc = parse_gen(&GENERATE, argc, argv, &g);
  if (rc != EXIT_OK) return rc;
  const char *dir = g.dir, *out_path = g.out;
  const cdl_gen_chain_opts o = g.chain;
  cdl_error err = {0};
  cdl_gen_dir d;
  if (cdl_gen_dir_load(dir, &d, &err) != CDL_OK) return cli_report(&err);
  FILE *out = fopen(out_path, "wb");
  if (out == NULL) {
    cdl_gen_dir_free(&d);
    cdl_error_set(&err, CDL_E_IO, 0, "cannot create %s", out_path);
    return cli_report(&err);
  }
  cdl_gen_chain_stats stats;
  cdl_rejection rej;
  double start = cli_now_seconds();
  rc = cdl_gen_chain(&d, &o, out, &stats, &rej, &err);
  double seconds = cli_now_seconds() - start;
  if (fclose(out) != 0 && rc == CDL_OK)
    rc = cdl_error_set(&err, CDL_E_IO, 0, "cannot write %s", out_path);
  cdl_gen_dir_free(&d);
  if (rc != CDL_OK) {
    remove(out_path); /* never leave a chain that is not what was asked */
    return rc == CDL_E_REJECTED ? report_refusal(&rej, &err) : cli_report(&err);
  }
  return cli_print(stats_json(&stats, seconds, o.seed), false);
}

static int list_cases(void) {
  size_t n;
  const cdl_gen_invalid_case *cases = cdl_gen_invalid_cases(&n);
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(list,
                          json_pack("{s:s, s:s, s:s}", "case", cases[i].name, "expected_rule",
                                    cases[i].expected_rule, "description", cases[i].description));
  return cli_print(list, false);
}

static int run_invalid(const gen_opts *o, const cdl_gen_dir *d, const cdl_buf *chunk,
                       cdl_gen_invalid_result *res, cdl_error *err) {
  cdl_span *blocks = NULL;
  size_t n = 0;
  int rc = cdl_gen_split_chunk(chunk->data, chunk->len, &blocks, &n, err);
  FILE *out = rc == CDL_OK ? fopen(o->out, "wb") : NULL;
  if (rc == CDL_OK && out == NULL) rc = cdl_error_set(err, CDL_E_IO, 0, "cannot create %s", o->out);
  if (out != NULL) {
    rc = cdl_gen_invalid(d, blocks, n, o->name, o->chain.seed, o->chain.pbft_threshold, out, res,
                         err);
    if (fclose(out) != 0 && rc == CDL_OK)
      rc = cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", o->out);
    if (rc != CDL_OK) remove(o->out);
  }
  free(blocks);
  return rc;
}

int chain_generate_invalid(int argc, char **argv) {
  gen_opts o;
  int rc = parse_gen(&INVALID, argc, argv, &o);
  if (rc != EXIT_OK) return rc;
  if (o.list) return list_cases();
  cdl_error err = {0};
  cdl_gen_dir d;
  if (cdl_gen_dir_load(o.dir, &d, &err) != CDL_OK) return cli_report(&err);
  cdl_buf chunk;
  cdl_buf_init(&chunk, CLI_MAX_INPUT);
  cdl_gen_invalid_result res;
  rc = cdl_file_read_all(o.from, CLI_MAX_INPUT, &chunk, &err);
  if (rc == CDL_OK) rc = run_invalid(&o, &d, &chunk, &res, &err);
  cdl_buf_free(&chunk);
  cdl_gen_dir_free(&d);
  if (rc != CDL_OK) return cli_report(&err);
  return cli_print(
      json_pack("{s:s, s:I, s:I, s:s, s:I, s:o, s:I}", "case", res.case_name, "block_no",
                (json_int_t)res.block_no, "slot", (json_int_t)res.slot, "expected_rule",
                res.expected_rule, "block_index", (json_int_t)res.block_index, "hash",
                cdl_json_hex(res.hash, 32), "seed", (json_int_t)o.chain.seed),
      true);
}
