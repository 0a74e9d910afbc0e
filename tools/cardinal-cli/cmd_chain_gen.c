/*
 * cmd_chain_gen.c: `cardinal-cli chain generate` and `chain
 * generate-invalid` (docs/cli.md, docs/genesis.md): valid chains forged
 * from a genesis directory, and invalid ones with one known defect.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardinal/byron_json.h"
#include "cardinal/gen.h"
#include "cli.h"

static int parse_generate(int argc, char **argv, const char **dir, const char **out,
                          cdl_gen_chain_opts *o) {
  static const struct option LONG[] = {{"genesis-dir", required_argument, 0, 'g'},
                                       {"out", required_argument, 0, 'o'},
                                       {"slots", required_argument, 0, 's'},
                                       {"fill", required_argument, 0, 'f'},
                                       {"txs-per-block", required_argument, 0, 't'},
                                       {"delegation", no_argument, 0, 'd'},
                                       {"updates", no_argument, 0, 'u'},
                                       {"seed", required_argument, 0, 'S'},
                                       {"pbft-threshold", required_argument, 0, 'p'},
                                       {0, 0, 0, 0}};
  *o = (cdl_gen_chain_opts){.fill = 1.0, .txs_per_block = 1};
  uint64_t v;
  optind = 1;
  int at = 0;
  for (int c; (c = getopt_long(argc, argv, "", LONG, &at)) != -1;) {
    bool ok = true;
    if (c == 'g')
      *dir = optarg;
    else if (c == 'o')
      *out = optarg;
    else if (c == 's')
      ok = cli_parse_u64(optarg, 1, UINT32_MAX, &o->slots);
    else if (c == 'f')
      ok = cli_parse_fraction(optarg, &o->fill);
    else if (c == 't')
      ok = cli_parse_u64(optarg, 0, 10000, &v), o->txs_per_block = (uint32_t)v;
    else if (c == 'd')
      o->delegation = true;
    else if (c == 'u')
      o->updates = true;
    else if (c == 'S')
      ok = cli_parse_u64(optarg, 0, UINT64_MAX, &o->seed);
    else if (c == 'p')
      ok = cli_parse_fraction(optarg, &o->pbft_threshold);
    else
      return cli_usage("chain generate: unknown option");
    if (!ok) return cli_usage("chain generate: bad value '%s' for --%s", optarg, LONG[at].name);
  }
  if (optind != argc || !*dir || !*out || o->slots == 0)
    return cli_usage("chain generate: --genesis-dir, --out and --slots are required");
  return EXIT_OK;
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
  const char *dir = NULL, *out_path = NULL;
  cdl_gen_chain_opts o;
  int rc = parse_generate(argc, argv, &dir, &out_path, &o);
  if (rc != EXIT_OK) return rc;
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

typedef struct {
  const char *from, *dir, *name, *out;
  uint64_t seed;
  double pbft_threshold;
  bool list;
} invalid_opts;

static int parse_invalid(int argc, char **argv, invalid_opts *o) {
  static const struct option LONG[] = {
      {"from", required_argument, 0, 'f'}, {"genesis-dir", required_argument, 0, 'g'},
      {"case", required_argument, 0, 'c'}, {"seed", required_argument, 0, 's'},
      {"out", required_argument, 0, 'o'},  {"pbft-threshold", required_argument, 0, 'p'},
      {"list", no_argument, 0, 'l'},       {0, 0, 0, 0}};
  *o = (invalid_opts){0};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", LONG, NULL)) != -1;) {
    bool ok = true;
    if (c == 'f')
      o->from = optarg;
    else if (c == 'g')
      o->dir = optarg;
    else if (c == 'c')
      o->name = optarg;
    else if (c == 'o')
      o->out = optarg;
    else if (c == 'l')
      o->list = true;
    else if (c == 's')
      ok = cli_parse_u64(optarg, 0, UINT64_MAX, &o->seed);
    else if (c == 'p')
      ok = cli_parse_fraction(optarg, &o->pbft_threshold);
    else
      return cli_usage("chain generate-invalid: unknown option");
    if (!ok) return cli_usage("chain generate-invalid: bad value '%s'", optarg);
  }
  if (optind != argc || (!o->list && (!o->from || !o->dir || !o->name || !o->out)))
    return cli_usage(
        "chain generate-invalid: --from, --genesis-dir, --case, --seed and --out "
        "are required (or --list)");
  return EXIT_OK;
}

static int run_invalid(const invalid_opts *o, const cdl_gen_dir *d, const cdl_buf *chunk,
                       cdl_gen_invalid_result *res, cdl_error *err) {
  cdl_span *blocks = NULL;
  size_t n = 0;
  int rc = cdl_gen_split_chunk(chunk->data, chunk->len, &blocks, &n, err);
  FILE *out = rc == CDL_OK ? fopen(o->out, "wb") : NULL;
  if (rc == CDL_OK && out == NULL) rc = cdl_error_set(err, CDL_E_IO, 0, "cannot create %s", o->out);
  if (out != NULL) {
    rc = cdl_gen_invalid(d, blocks, n, o->name, o->seed, o->pbft_threshold, out, res, err);
    if (fclose(out) != 0 && rc == CDL_OK)
      rc = cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", o->out);
    if (rc != CDL_OK) remove(o->out);
  }
  free(blocks);
  return rc;
}

int chain_generate_invalid(int argc, char **argv) {
  invalid_opts o;
  int rc = parse_invalid(argc, argv, &o);
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
                cdl_json_hex(res.hash, 32), "seed", (json_int_t)o.seed),
      true);
}
