/*
 * main.c: cardinal-sim, the deterministic network simulator's command
 * (docs/simulation.md "Running cardinal-sim"): runs a scenario (a file,
 * the defaults or a random one) with flag overrides, once or over a
 * range of seeds, prints the report (or a sweep's summary) as one JSON
 * line and, for each failure, the one command that replays it; or prints
 * the scenario it would run, as a scenario file (--print-scenario).
 *
 * Its options and --help (every option, its default, an example) and
 * --version are glibc's argp (docs/design.md "Dependencies").
 *
 * Exit codes: 0 every property held, 1 a property failed, 2 usage (a bad
 * flag or a bad scenario), 3 a run could not be made (a file unreadable,
 * the simulator failed).
 */
#include <argp.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/sim.h"
#include "cardinal/version.h"

enum { EXIT_HELD = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

#define SCENARIO_MAX_BYTES ((size_t)1 << 20)
#define SEEDS_MAX 1000000u

/* The overrides, in the order the replay command gives them. */
enum { O_CORES, O_RELAYS, O_SLOTS, O_K, O_TOPOLOGY, O_TXS, O_BROKEN, O_COUNT };
static const char *const OVERRIDE_FLAGS[O_COUNT] = {"cores",    "relays", "slots", "k",
                                                    "topology", "txs",    "broken"};
static const char *const TOPOLOGIES[] = {"mesh", "ring", "line", "star", "random", "relays"};
static const char *const BROKEN[] = {"none", "pbft_threshold", "sign_record"};

typedef struct sim_opts {
  const char *scenario, *trace, *report;
  bool random, quiet, has_seed, print_scenario;
  bool has_log;
  cdl_log_level log_level;
  uint64_t seed, seeds;       /* seeds 0: one run */
  const char *given[O_COUNT]; /* each override's text as given; NULL: not given */
  uint64_t cores, relays, slots, k, txs, degree;
  int topology, broken;
} sim_opts;

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "cardinal-sim: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see cardinal-sim --help)\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* A decimal in [min, max]: digits only. */
static bool parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (text[0] == '\0' || strlen(text) > 20) return false;
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (v < min || v > max) return false;
  *out = v;
  return true;
}

static bool parse_name(const char *text, const char *const *names, size_t n, int *out) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(text, names[i]) == 0) return *out = (int)i, true;
  return false;
}

/* mesh ... random or random:DEGREE. */
static bool parse_topology(const char *text, sim_opts *o) {
  o->degree = 0;
  if (strncmp(text, "random:", 7) == 0) {
    o->topology = CDL_SIM_RANDOM;
    return parse_u64(text + 7, 1, CDL_SIM_MAX_NODES - 1, &o->degree);
  }
  return parse_name(text, TOPOLOGIES, 6, &o->topology);
}

/* An override's value, kept as given for the replay command. */
static bool parse_override(int which, const char *text, sim_opts *o) {
  bool ok = false;
  switch (which) {
    case O_CORES: ok = parse_u64(text, 0, CDL_SIM_MAX_NODES, &o->cores); break;
    case O_RELAYS: ok = parse_u64(text, 0, CDL_SIM_MAX_NODES, &o->relays); break;
    case O_SLOTS: ok = parse_u64(text, 1, INT64_MAX, &o->slots); break;
    case O_K: ok = parse_u64(text, 1, INT64_MAX, &o->k); break;
    case O_TXS: ok = parse_u64(text, 0, INT64_MAX, &o->txs); break;
    case O_TOPOLOGY: ok = parse_topology(text, o); break;
    case O_BROKEN: ok = parse_name(text, BROKEN, 3, &o->broken); break;
  }
  if (ok) o->given[which] = text;
  return ok;
}

/* ---- Options (argp: --help with every option, --version) --------------- */

/* Option keys: above the character range, so none is a short option;
 * the overrides from OVERRIDE in OVERRIDE_FLAGS' order. */
enum { SCENARIO = 256, RANDOM, SEED, SEEDS, TRACE, REPORT, QUIET, LOG, PRINT, OVERRIDE };

_Static_assert(CDL_SIM_MAX_NODES == 128, "--cores and --relays say 0 to 128");
static const struct argp_option OPTIONS[] = {
    {"scenario", SCENARIO, "FILE", 0, "the scenario, JSON, at most 1 MiB (default: 3 core nodes "
     "in a mesh, k 10, 300 one-second slots, 20 payments, seed 1)", 0},
    {"random", RANDOM, NULL, 0, "a random scenario drawn from the seed (every kind of fault on "
     "a small network) instead of a file", 0},
    {"seed", SEED, "S", 0, "the seed, 0 to 2^63-1 (default: the scenario's, 1 for --random)", 0},
    {"seeds", SEEDS, "N", 0, "run seeds S .. S+N-1, 1 to 1000000, and print a summary "
     "{\"failed\", \"properties_failed\", \"runs\"} instead of a report (default: one run)", 0},
    {"trace", TRACE, "FILE|-", 0, "a readable timeline of the run(s) to FILE, or stderr with - "
     "(default: none)", 0},
    {"report", REPORT, "FILE", 0, "the report (or summary) to FILE (default: stdout)", 0},
    {"quiet", QUIET, NULL, 0, "nothing on stdout; failures still on stderr", 0},
    {"log", LOG, "LEVEL", 0, "the nodes' own logs (JSON lines) to stderr from LEVEL on: Debug, "
     "Info, Notice, Warning, Error or Critical (default: none)", 0},
    {"print-scenario", PRINT, NULL, 0, "print the scenario that would run (the overrides and "
     "the seed applied) as a scenario file, and exit 0 without running it; not with --seeds", 0},
    {NULL, 'h', NULL, OPTION_HIDDEN, NULL, 0}, /* -h, as before argp */
    {NULL, 0, NULL, 0, "Overrides, applied to the scenario before --seed:", 1},
    {"cores", OVERRIDE + O_CORES, "N", 0, "replace the nodes by N plain core nodes, 0 to 128 (the "
     "relays' count stays; the scenario's own node list is lost) (default: the scenario's)", 1},
    {"relays", OVERRIDE + O_RELAYS, "N", 0, "likewise N relays, 0 to 128 (default: the "
     "scenario's)", 1},
    {"slots", OVERRIDE + O_SLOTS, "N", 0, "the run's length in slots (default: the scenario's)",
     1},
    {"k", OVERRIDE + O_K, "K", 0, "the security parameter (default: the scenario's)", 1},
    {"topology", OVERRIDE + O_TOPOLOGY, "T", 0, "mesh, ring, line, star, relays, random or "
     "random:DEGREE (default: the scenario's)", 1},
    {"txs", OVERRIDE + O_TXS, "N", 0, "payments submitted (default: the scenario's)", 1},
    {"broken", OVERRIDE + O_BROKEN, "RULE", 0, "none, pbft_threshold or sign_record: a rule "
     "switched off in the honest nodes, to see the checker catch it (default: the scenario's)",
     1},
    {0}};

static error_t sim_option(int key, char *arg, struct argp_state *state) {
  sim_opts *o = state->input;
  switch (key) {
    case SCENARIO: o->scenario = arg; break;
    case RANDOM: o->random = true; break;
    case TRACE: o->trace = arg; break;
    case REPORT: o->report = arg; break;
    case QUIET: o->quiet = true; break;
    case PRINT: o->print_scenario = true; break;
    case 'h': argp_state_help(state, stdout, ARGP_HELP_STD_HELP); break;
    case LOG:
      if (!cdl_log_level_parse(arg, &o->log_level))
        argp_error(state, "--log: '%s' is not Debug, Info, Notice, Warning, Error or Critical",
                   arg);
      o->has_log = true;
      break;
    case SEED:
      if (!parse_u64(arg, 0, INT64_MAX, &o->seed))
        argp_error(state, "--seed: '%s' is not a whole number from 0 to 2^63-1", arg);
      o->has_seed = true;
      break;
    case SEEDS:
      if (!parse_u64(arg, 1, SEEDS_MAX, &o->seeds))
        argp_error(state, "--seeds: '%s' is not a whole number from 1 to %u", arg, SEEDS_MAX);
      break;
    case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
    case ARGP_KEY_END:
      if (o->random && o->scenario) argp_error(state, "--scenario and --random exclude each other");
      if (o->print_scenario && o->seeds)
        argp_error(state, "--print-scenario prints one scenario: not with --seeds");
      break;
    default:
      if (key < OVERRIDE || key >= OVERRIDE + O_COUNT) return ARGP_ERR_UNKNOWN;
      if (!parse_override(key - OVERRIDE, arg, o))
        argp_error(state, "--%s: bad value '%s'", OVERRIDE_FLAGS[key - OVERRIDE], arg);
  }
  return 0;
}

static const struct argp ARGP = {
    OPTIONS, sim_option, NULL,
    "Run core nodes and relays, each the real node kernel over its own simulated disk, on a "
    "simulated clock and network with the scenario's faults, and judge the run by its "
    "properties (docs/simulation.md). The same scenario and seed give the same run and "
    "report, byte for byte: one JSON line on stdout.\v"
    "A failed property is printed on stderr with its slot and why, and a line\n"
    "`replay: cardinal-sim ...` that runs exactly that run again. A failing sweep\n"
    "seed becomes a case of its own:\n"
    "  cardinal-sim --random --seed S --print-scenario > scenarios/regress-S.json\n\n"
    "Example:\n"
    "  cardinal-sim --random --seed 7 --slots 200\n\n"
    "Exit codes: 0 every property held, 1 a property failed, 2 usage (a bad option\n"
    "or scenario), 3 a run could not be made.",
    NULL, NULL, NULL};

static void print_version(FILE *out, struct argp_state *state) {
  (void)state;
  fprintf(out, "cardinal-sim %s (commit %s)\n", CDL_VERSION, CDL_GIT_COMMIT);
}

/* The options into |o|: --help and --version exit 0 here, a bad option
 * exits 2 naming it. */
static int parse_opts(int argc, char **argv, sim_opts *o) {
  memset(o, 0, sizeof *o);
  argv[0] = (char *)"cardinal-sim"; /* how argp's messages name it, wherever it was run from */
  argp_err_exit_status = EXIT_USAGE;
  argp_program_version_hook = print_version;
  return argp_parse(&ARGP, argc, argv, 0, NULL, o) == 0 ? EXIT_HELD : EXIT_USAGE;
}

/* ---- The scenario of a run ---------------------------------------------- */

/* Prints {"error": {"rule", "message", "offset"}} on stderr, as
 * cardinal-cli does, the message after |where| when given. */
static void report_error(const char *where, const cdl_error *err) {
  char message[CDL_ERROR_MESSAGE_MAX + 256];
  snprintf(message, sizeof message, "%s%s%s", where ? where : "", where ? ": " : "",
           err->message[0] ? err->message : "unexplained failure");
  json_t *j = json_pack("{s:{s:s,s:s,s:I}}", "error", "rule", cdl_error_name(err->code), "message",
                        message, "offset", (json_int_t)err->offset);
  char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  fprintf(stderr, "%s\n", text ? text : message);
  free(text);
  json_decref(j);
}

static int exit_for(int code) {
  return code == CDL_E_IO || code == CDL_E_NOMEM ? EXIT_IO : EXIT_USAGE;
}

static int read_scenario(const char *path, cdl_sim_scenario *s) {
  cdl_buf text;
  cdl_error err = {0};
  cdl_buf_init(&text, 0);
  int rc = cdl_file_read_all(path, SCENARIO_MAX_BYTES, &text, &err);
  bool read = rc == CDL_OK; /* the reader's messages name the file */
  if (read) rc = cdl_sim_scenario_parse((const char *)text.data, text.len, s, &err);
  cdl_buf_free(&text);
  if (rc == CDL_OK) return EXIT_HELD;
  report_error(read ? path : NULL, &err);
  return exit_for(rc);
}

/* The flags over |s|, then the seed; the result checked. */
static int apply_overrides(const sim_opts *o, uint64_t seed, cdl_sim_scenario *s) {
  if (o->given[O_CORES] || o->given[O_RELAYS]) {
    uint64_t cores = 0, relays = 0;
    for (size_t i = 0; i < s->n_nodes; i++) {
      if (s->node[i].role == CDL_SIM_CORE)
        cores++;
      else
        relays++;
    }
    if (o->given[O_CORES]) cores = o->cores;
    if (o->given[O_RELAYS]) relays = o->relays;
    if (cores + relays > CDL_SIM_MAX_NODES)
      return usage("--cores and --relays: more than %d nodes", CDL_SIM_MAX_NODES);
    cdl_sim_scenario_nodes(s, (size_t)cores, (size_t)relays);
  }
  if (o->given[O_SLOTS]) s->slots = o->slots;
  if (o->given[O_K]) s->k = o->k;
  if (o->given[O_TXS]) s->txs = (size_t)o->txs;
  if (o->given[O_BROKEN]) s->broken = (cdl_sim_broken)o->broken;
  if (o->given[O_TOPOLOGY]) s->topology = (cdl_sim_topology)o->topology;
  if (o->given[O_TOPOLOGY] && o->degree) s->degree = (size_t)o->degree;
  s->seed = seed;
  cdl_error err = {0};
  if (cdl_sim_scenario_check(s, &err) == CDL_OK) return EXIT_HELD;
  report_error(o->scenario ? o->scenario
               : o->random ? "the random scenario"
                           : "the scenario",
               &err);
  return EXIT_USAGE;
}

/* ---- Runs ----------------------------------------------------------------- */

/* |text| as one shell word. */
static void put_word(const char *text) {
  bool plain = text[0] != '\0';
  for (const char *p = text; *p && plain; p++)
    plain = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,+@%", *p);
  if (plain) {
    fputs(text, stderr);
    return;
  }
  fputc('\'', stderr);
  for (const char *p = text; *p; p++) {
    if (*p == '\'')
      fputs("'\\''", stderr);
    else
      fputc(*p, stderr);
  }
  fputc('\'', stderr);
}

/* The one command that makes this run again. */
static void print_replay(const sim_opts *o, uint64_t seed) {
  fputs("replay: cardinal-sim", stderr);
  if (o->random) fputs(" --random", stderr);
  if (o->scenario) {
    fputs(" --scenario ", stderr);
    put_word(o->scenario);
  }
  for (int i = 0; i < O_COUNT; i++) {
    if (o->given[i] == NULL) continue;
    fprintf(stderr, " --%s ", OVERRIDE_FLAGS[i]);
    put_word(o->given[i]);
  }
  fprintf(stderr, " --seed %" PRIu64 "\n", seed);
}

static void print_failures(const cdl_sim_report *rep, const char *prefix, bool first_only) {
  for (int p = 0; p < CDL_SIM_PROP_COUNT; p++) {
    const cdl_sim_verdict *v = &rep->property[p];
    if (v->held) continue;
    fprintf(stderr, "%s%s failed at slot %" PRIu64 "%s%.*s\n", prefix,
            cdl_sim_property_name((cdl_sim_property)p), v->slot, v->why[0] ? ": " : "",
            (int)sizeof v->why, v->why);
    if (first_only) return;
  }
}

/* Writes |line| and a newline to |f|, then closes it (stdout: flushes):
 * EXIT_IO, naming |what| on stderr, when it cannot. */
static int write_line(FILE *f, const char *what, const char *line, size_t len) {
  bool ok = fwrite(line, 1, len, f) == len && fputc('\n', f) != EOF;
  ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
  if (!ok) fprintf(stderr, "cardinal-sim: cannot write the %s\n", what);
  return ok ? EXIT_HELD : EXIT_IO;
}

/* Writes |line| and a newline to --report FILE or stdout (not with
 * --quiet): EXIT_IO when it cannot. */
static int emit(const sim_opts *o, const char *line, size_t len) {
  if (o->quiet && o->report == NULL) return EXIT_HELD;
  FILE *f = o->report ? fopen(o->report, "w") : stdout;
  if (f == NULL) {
    perror(o->report);
    return EXIT_IO;
  }
  return write_line(f, o->report ? o->report : "output", line, len);
}

/* --print-scenario: |s| as a scenario file, on stdout. */
static int print_scenario(const cdl_sim_scenario *s) {
  cdl_buf json;
  cdl_buf_init(&json, 0);
  cdl_sim_scenario_json(s, &json);
  int rc = json.failed ? EXIT_IO
                        : write_line(stdout, "scenario", (const char *)json.data, json.len);
  if (json.failed) fprintf(stderr, "cardinal-sim: cannot write the scenario: out of memory\n");
  cdl_buf_free(&json);
  return rc;
}

/* The nodes' logs (--log); off when out is NULL. */
static cdl_logger nodes_log;

static int run(const cdl_sim_scenario *s, FILE *trace, cdl_sim_report *rep) {
  cdl_sim_options options = {.trace = trace, .log = nodes_log.out ? &nodes_log : NULL};
  cdl_error err = {0};
  int rc = cdl_sim_run(s, &options, rep, &err);
  if (rc == CDL_OK) return EXIT_HELD;
  char where[64];
  snprintf(where, sizeof where, "seed %" PRIu64, s->seed);
  report_error(where, &err);
  return EXIT_IO;
}

static cdl_sim_scenario base, scenario;
static cdl_sim_report report;

static int run_once(const sim_opts *o, FILE *trace) {
  int rc = run(&scenario, trace, &report);
  if (rc != EXIT_HELD) return rc;
  cdl_buf json;
  cdl_buf_init(&json, 0);
  cdl_sim_report_json(&report, &json);
  rc = json.failed ? EXIT_IO : emit(o, (const char *)json.data, json.len);
  cdl_buf_free(&json);
  if (rc != EXIT_HELD) return rc;
  if (report.ok) return EXIT_HELD;
  print_failures(&report, "", false);
  print_replay(o, scenario.seed);
  return EXIT_FAILED;
}

static int sweep(const sim_opts *o, uint64_t first, FILE *trace) {
  json_t *failed = json_array(), *counts = json_object();
  int rc = failed && counts ? EXIT_HELD : EXIT_IO;
  for (uint64_t seed = first; rc == EXIT_HELD && seed - first < o->seeds; seed++) {
    if (o->random) cdl_sim_scenario_random(seed, &base);
    scenario = base;
    rc = apply_overrides(o, seed, &scenario);
    if (rc == EXIT_HELD) rc = run(&scenario, trace, &report);
    if (rc != EXIT_HELD || report.ok) continue;
    json_array_append_new(failed, json_integer((json_int_t)seed));
    for (int p = 0; p < CDL_SIM_PROP_COUNT; p++) {
      const char *name = cdl_sim_property_name((cdl_sim_property)p);
      json_int_t before = json_integer_value(json_object_get(counts, name));
      if (!report.property[p].held) json_object_set_new(counts, name, json_integer(before + 1));
    }
    char prefix[40];
    snprintf(prefix, sizeof prefix, "seed %" PRIu64 ": ", seed);
    print_failures(&report, prefix, true);
    print_replay(o, seed);
  }
  if (rc == EXIT_HELD) {
    json_t *summary = json_pack("{s:I,s:O,s:O}", "runs", (json_int_t)o->seeds, "failed", failed,
                                "properties_failed", counts);
    char *text = summary ? json_dumps(summary, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    rc = text ? emit(o, text, strlen(text)) : EXIT_IO;
    if (rc == EXIT_HELD && json_array_size(failed) > 0) rc = EXIT_FAILED;
    free(text);
    json_decref(summary);
  }
  json_decref(failed);
  json_decref(counts);
  return rc;
}

static int simulate(const sim_opts *o, FILE *trace) {
  int rc = EXIT_HELD;
  if (o->scenario)
    rc = read_scenario(o->scenario, &base);
  else
    cdl_sim_scenario_default(&base);
  if (rc != EXIT_HELD) return rc;
  uint64_t seed = o->has_seed ? o->seed : o->random ? 1 : base.seed;
  if (o->seeds > 0) {
    if (seed > INT64_MAX - (o->seeds - 1)) return usage("--seed plus --seeds goes past 2^63-1");
    return sweep(o, seed, trace);
  }
  if (o->random) cdl_sim_scenario_random(seed, &base);
  scenario = base;
  rc = apply_overrides(o, seed, &scenario);
  if (rc != EXIT_HELD) return rc;
  return o->print_scenario ? print_scenario(&scenario) : run_once(o, trace);
}

int main(int argc, char **argv) {
  /* A reader of stdout or of the trace that goes away costs a write
   * error we report (exit 3), not a silent death. */
  signal(SIGPIPE, SIG_IGN);
  sim_opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc != EXIT_HELD) return rc;
  if (cdl_crypto_init() != CDL_OK) {
    fprintf(stderr, "cardinal-sim: cannot initialise libsodium/OpenSSL\n");
    return EXIT_IO;
  }
  FILE *trace = NULL;
  if (o.trace != NULL) trace = strcmp(o.trace, "-") == 0 ? stderr : fopen(o.trace, "w");
  if (o.trace != NULL && trace == NULL) {
    perror(o.trace);
    return EXIT_IO;
  }
  if (o.has_log) nodes_log = (cdl_logger){.out = stderr, .min = o.log_level};
  rc = simulate(&o, trace);
  if (trace != NULL && trace != stderr && fclose(trace) != 0 && rc == EXIT_HELD) {
    fprintf(stderr, "cardinal-sim: cannot write the trace %s\n", o.trace);
    rc = EXIT_IO;
  }
  return rc;
}
