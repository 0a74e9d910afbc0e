/*
 * test_cli_operator.c: what an operator meets first (issue 26; docs/cli.md,
 * docs/node.md): --version and --help on cardinal-cli, cardinal-node and
 * cardinal-sim, the top-level usage naming every command, a missing or
 * unreadable config as an I/O error (exit 3) naming the path, genesis
 * print-secrets numbered by file, chain generate refusing a PBFT threshold
 * its round-robin signers cannot meet, and start.sh reporting a node that
 * exits while it starts; the options of sync, devnet, txgen, cardinal-node
 * and cardinal-sim, each in its --help with its default and an example,
 * and a bad one refused by name.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_support.h"

static void expect_said(const char *what) {
  if (strstr(stderr_buf, what) == NULL)
    fail_msg("not said: %s\nstderr: %s", what, stderr_buf);
}

/* "NAME X.Y.Z (commit C)", exit 0, for each binary, C the commit of the
 * source tree now (read at build time, not when CMake was configured), or
 * "unknown" outside a git tree. */
static void expect_version(const char *program, const char *name) {
  char commit[64] = "unknown";
  if (run_program("git", "-C " CDL_VECTORS_DIR " rev-parse --short HEAD 2>/dev/null") == 0)
    snprintf(commit, sizeof commit, "%.*s", (int)strcspn(stdout_buf, "\n"), stdout_buf);
  assert_int_equal(run_program(program, "--version"), 0);
  char want[160];
  snprintf(want, sizeof want, "%s %s (commit %s)\n", name, CDL_VERSION, commit);
  if (strcmp(stdout_buf, want) != 0) fail_msg("version: %s, not %s", stdout_buf, want);
}

/* The commands `cardinal-cli --help` lists, one per line after
 * "Commands:" ("  NAME  summary"), into |names| (at most |max|). */
static size_t listed_commands(char names[][48], size_t max) {
  assert_int_equal(cli("--help"), 0);
  const char *p = strstr(stdout_buf, "Commands:\n");
  assert_non_null(p);
  size_t n = 0;
  for (p = strchr(p, '\n') + 1; strncmp(p, "  ", 2) == 0 && n < max; p = strchr(p, '\n') + 1) {
    const char *end = strstr(p + 2, "  ");
    assert_non_null(end);
    snprintf(names[n++], 48, "%.*s", (int)(end - p - 2), p + 2);
  }
  return n;
}

/* `NAME --help`: exit 0, usage naming the command, the --help option
 * itself and an example of it; `NAME --no-such-option`: exit 2, the
 * option named. */
static void expect_command_help(const char *name) {
  char args[128], want[128];
  snprintf(args, sizeof args, "%.47s --help", name);
  if (cli(args) != 0) fail_msg("%s: exit not 0\n%s", args, stderr_buf);
  snprintf(want, sizeof want, "Usage: cardinal-cli %.47s", name);
  if (strncmp(stdout_buf, want, strlen(want)) != 0) fail_msg("%s:\n%s", args, stdout_buf);
  const char *example = strstr(stdout_buf, "\nExample");
  if (strstr(stdout_buf, "--help") == NULL || example == NULL ||
      strstr(example, "cardinal-cli ") == NULL)
    fail_msg("%s: no --help or no example\n%s", args, stdout_buf);
  snprintf(args, sizeof args, "%.47s --no-such-option", name);
  if (cli(args) != 2) fail_msg("%s: exit not 2", args);
  snprintf(want, sizeof want, "cardinal-cli %.47s: unrecognized option '--no-such-option'", name);
  if (strstr(stderr_buf, want) == NULL) fail_msg("%s:\n%s", args, stderr_buf);
}

static void test_version_and_help(void **state) {
  (void)state;
  expect_version(CDL_CLI, "cardinal-cli");
  expect_version(CDL_NODE, "cardinal-node");
  expect_version(CDL_SIM, "cardinal-sim");
  assert_int_equal(run_program(CDL_NODE, "--help"), 0);
  assert_non_null(strstr(stdout_buf, "cardinal-node run --config FILE"));
  assert_non_null(strstr(stdout_buf, "cardinal-node --version"));
  assert_int_equal(run_program(CDL_NODE, ""), 2); /* no command: usage on stderr */
  /* The list is made from the dispatch tables; these are the commands
   * docs/cli.md documents, so none may drop out of it. */
  static const char *const DOCUMENTED[] = {
      "genesis hash", "genesis utxo", "genesis create", "genesis print-secrets", "block show",
      "block list", "block verify", "chain validate", "chain generate", "chain generate-invalid",
      "db import", "db info", "db validate", "db repair", "db export", "db truncate", "sync",
      "key keygen", "key migrate", "key to-verification", "key signing-key-public",
      "key signing-key-address", "delegation issue-certificate", "delegation submit",
      "delegation check-certificate", "governance create-update-proposal",
      "governance create-proposal-vote", "governance submit-update-proposal",
      "governance submit-proposal-vote", "governance show-proposal", "governance show-vote",
      "tx show", "tx build", "tx sign", "tx id", "tx submit", "submit tx", "query tip",
      "query utxo", "query protocol-parameters", "query update-state", "devnet create",
      "devnet watch", "live", "txgen", "address show", "address build"};
  static char names[96][48];
  size_t n = listed_commands(names, 96);
  for (size_t i = 0; i < sizeof DOCUMENTED / sizeof DOCUMENTED[0]; i++) {
    size_t j = 0;
    while (j < n && strcmp(names[j], DOCUMENTED[i]) != 0) j++;
    if (j == n) fail_msg("--help omits '%s'", DOCUMENTED[i]);
  }
  for (size_t i = 0; i < n; i++) expect_command_help(names[i]);
  assert_int_equal(cli("no-such-noun"), 2);
  assert_int_equal(cli("db no-such-verb"), 2);
  assert_non_null(strstr(stderr_buf, "db: unknown command 'no-such-verb'"));
  assert_int_equal(cli("db --help"), 0);
  assert_non_null(strstr(stdout_buf, "Usage: cardinal-cli db VERB"));
}

/* `cardinal-node run` on DIR/CONFIG and DIR/TOPOLOGY; its exit code. */
static int node_run(const char *dir, const char *config, const char *topology) {
  char args[1024];
  snprintf(args, sizeof args,
           "run --config %s/%s --topology %s/%s --database-path %s/db --socket-path %s/s "
           "--port 0",
           dir, config, dir, topology, dir, dir);
  return run_program(CDL_NODE, args);
}

/* A config, genesis or parameters file that is missing, or a directory,
 * is an I/O failure naming the path (exit 3), never json.invalid. */
static void test_missing_files_are_io_errors(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-missing-XXXXXX", args[1024], want[256];
  assert_non_null(mkdtemp(dir));
  assert_int_equal(node_run(dir, "none.json", "t.json"), 3);
  snprintf(want, sizeof want, "cannot open %s/none.json: No such file or directory", dir);
  expect_said(want);
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --config %s", dir, dir);
  assert_int_equal(cli(args), 3);
  assert_string_equal(error_rule(), "io.failure");
  snprintf(want, sizeof want, "cannot read %s: not a regular file", dir);
  expect_said(want);
  /* The config is there, the genesis it names is not; then no topology. */
  shell_ok("echo '{\"ByronGenesisFile\": \"gone.json\"}' > %s/config.json && "
           "echo '{\"Producers\": []}' > %s/topology.json",
           dir, dir);
  assert_int_equal(node_run(dir, "config.json", "topology.json"), 3);
  expect_said("gone.json");
  assert_int_equal(node_run(dir, "config.json", "none.json"), 3);
  snprintf(args, sizeof args, "genesis hash --genesis %s/none.json", dir);
  assert_int_equal(cli(args), 3);
  assert_string_equal(error_rule(), "io.failure");
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 2 "
           "--protocol-params %s/none.json",
           dir, dir);
  assert_int_equal(cli(args), 3);
  snprintf(want, sizeof want, "cannot open %s/none.json", dir);
  expect_said(want);
  snprintf(args, sizeof args, "genesis print-secrets --dir %s/none", dir);
  assert_int_equal(cli(args), 3);
  shell_ok("rm -rf %s", dir);
}

/* A new temporary DIR (a "/tmp/...-XXXXXX" template) holding DIR/net: a
 * genesis of k = 10 with KEYS genesis keys from SEED. */
static void make_genesis(char *dir, unsigned keys, unsigned seed) {
  char args[1024];
  assert_non_null(mkdtemp(dir));
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/net --protocol-magic 7 --k 10 --genesis-keys %u --seed %u",
           dir, keys, seed);
  assert_int_equal(cli(args), 0);
}

/* print-secrets numbers genesis keys by file: entry I is
 * genesis-keys.00I.skey (its public key as key signing-key-public reads
 * it), and genesis_index is its place in the genesis, each place once. */
static void test_print_secrets_by_file(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-secrets-XXXXXX", args[1024];
  make_genesis(dir, 4, 5);
  snprintf(args, sizeof args, "genesis print-secrets --dir %s/net", dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  json_t *keys = json_object_get(j, "genesis_keys");
  assert_int_equal(json_array_size(keys), 4);
  bool seen[4] = {false}, reordered = false;
  for (size_t i = 0; i < 4; i++) {
    json_t *k = json_array_get(keys, i);
    assert_int_equal(num(k, "index"), (json_int_t)i);
    json_int_t at = num(k, "genesis_index");
    assert_true(at >= 0 && at < 4 && !seen[at]);
    seen[at] = true;
    reordered |= at != (json_int_t)i;
    char key_hash[57];
    snprintf(key_hash, sizeof key_hash, "%s", str(k, "key_hash"));
    snprintf(args, sizeof args, "key signing-key-public --secret %s/net/genesis-keys.%03zu.skey",
             dir, i);
    assert_int_equal(cli(args), 0);
    if (strstr(stdout_buf, key_hash) == NULL)
      fail_msg("entry %zu is not genesis-keys.%03zu: %s", i, i, stdout_buf);
  }
  /* With this seed key-hash order differs from file order: the test can fail. */
  assert_true(reordered);
  json_decref(j);
  shell_ok("rm -rf %s", dir);
}

/* 3 genesis keys round-robin need 4 of every k = 10 blocks each; the
 * default threshold allows 2: refused (exit 2), naming the way out, and
 * no chunk file left; with that threshold every slot has its block. */
static void test_chain_generate_refuses_a_stalling_threshold(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-stall-XXXXXX", args[1024];
  make_genesis(dir, 3, 2);
  snprintf(args, sizeof args, "chain generate --genesis-dir %s/net --out %s/c.chunk --slots 300",
           dir, dir);
  assert_int_equal(cli(args), 2);
  expect_said("round-robin over 3 genesis keys needs 4");
  expect_said("give --pbft-threshold 0.40 or more");
  shell_ok("test ! -e %s/c.chunk", dir);
  snprintf(args, sizeof args,
           "chain generate --genesis-dir %s/net --out %s/c.chunk --slots 300 --txs-per-block 0 "
           "--pbft-threshold 0.4",
           dir, dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(j, "blocks"), 300);
  json_decref(j);
  shell_ok("rm -rf %s", dir);
}

/* Holds a listening socket on a free port P in 31700..32599, above every
 * system test's band (tests/system/ports.sh), such that P - 1 is free too
 * (its metrics ports, P + 100, stay below 32768); returns the socket. */
static int hold_port(uint16_t *port) {
  for (unsigned i = 0; i < 900; i++) {
    uint16_t p = (uint16_t)(31700 + ((unsigned)getpid() + i) % 900);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int below = socket(AF_INET, SOCK_STREAM, 0), fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = a;
    b.sin_port = htons((uint16_t)(p - 1));
    bool ok = bind(below, (struct sockaddr *)&b, sizeof b) == 0 &&
              bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0;
    close(below);
    if (ok) {
      *port = p;
      return fd;
    }
    close(fd);
  }
  fail_msg("no free port pair in 31700..32599");
  return -1;
}

/* A node that cannot listen exits as it starts: start.sh names it with the
 * last line of its log, stops the others and exits 1, never "started". */
static void test_start_sh_reports_an_exited_node(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-start-XXXXXX", args[1024];
  assert_non_null(mkdtemp(dir));
  uint16_t port = 0;
  int held = hold_port(&port);
  snprintf(args, sizeof args,
           "devnet create --dir %s/net --core-nodes 1 --relays 1 --base-port %u --k 5", dir,
           (unsigned)(port - 1));
  assert_int_equal(cli(args), 0);
  snprintf(args, sizeof args, "%s/net/start.sh", dir);
  setenv("CARDINAL_NODE", CDL_NODE, 1);
  int rc = run_program(args, "");
  close(held);
  /* node 0 must have been stopped: its pid gone. Then, whatever start.sh
   * did, no node outlives the test (each ended by its pid). */
  snprintf(args, sizeof args, "kill -0 $(cat %s/net/node-0/pid) 2>/dev/null", dir);
  bool node0_alive = system(args) == 0;
  shell_ok("for f in %s/net/node-*/pid; do kill -9 $(cat $f) 2>/dev/null; done; true", dir);
  assert_int_equal(rc, 1);
  expect_said("devnet: node 1 exited: ");
  expect_said("address already in use");
  assert_null(strstr(stderr_buf, "nodes started"));
  assert_false(node0_alive);
  shell_ok("rm -rf %s", dir);
}

/* `--help` of a command: exit 0, its usage line, a default, an example,
 * and every option in |options| (a NULL-ended list). */
static void expect_help(const char *program, const char *command, const char *usage,
                        const char *const *options) {
  char args[256];
  snprintf(args, sizeof args, "%s --help", command);
  assert_int_equal(run_program(program, args), 0);
  if (strncmp(stdout_buf, usage, strlen(usage)) != 0) fail_msg("usage: %.200s", stdout_buf);
  assert_non_null(strstr(stdout_buf, "(default: "));
  assert_non_null(strstr(stdout_buf, "\nExample"));
  for (size_t i = 0; options[i] != NULL; i++) {
    char want[64];
    snprintf(want, sizeof want, "  --%s", options[i]);
    if (strstr(stdout_buf, want) == NULL) fail_msg("%s --help omits --%s", command, options[i]);
  }
}

/* A usage error: exit 2, |said| (the option named) on stderr. */
static void expect_usage_error(const char *program, const char *args, const char *said) {
  assert_int_equal(run_program(program, args), 2);
  expect_said(said);
}

/* Runs the example `--help` printed (in stdout_buf), its continuation
 * lines joined, in |dir| with |program| for its first word; its exit code. */
static int run_example(const char *program, const char *dir) {
  const char *start = strstr(stdout_buf, "Example:\n  ");
  assert_non_null(start);
  start += strlen("Example:\n  ");
  char example[1024] = "", *out = example;
  for (const char *p = start; *p && !(p[0] == '\n' && p[-1] != '\\'); p++) {
    if (p[0] == '\\' && p[1] == '\n') p++;
    else if (out < example + sizeof example - 1) *out++ = *p;
  }
  *out = '\0';
  const char *rest = strchr(example, ' ');
  assert_non_null(rest);
  char cd[512];
  snprintf(cd, sizeof cd, "cd %s && %s", dir, program);
  return run_program(cd, rest + 1);
}

/* Every option of sync, devnet create and watch, txgen, cardinal-node run
 * and serve and cardinal-sim in its --help with a default and an example
 * (the runnable ones run), and a bad value refused naming its option. */
static void test_options_and_help(void **state) {
  (void)state;
  static const char *const SYNC[] = {"from", "db", "config", "genesis-dir", "genesis",
                                     "pbft-threshold", "pipeline", "batch", "follow",
                                     "no-signatures", "log-level", NULL};
  static const char *const CREATE[] = {"dir", "core-nodes", "relays", "slot-ms", "k",
                                       "base-port", "metrics-base-port", "poor-addresses",
                                       "start-delay-s", "protocol-magic", "pbft-threshold", NULL};
  static const char *const WATCH[] = {"dir", "follow", "blocks", "json", NULL};
  static const char *const TXGEN[] = {"socket-path", "genesis-dir", "tps", "duration-s",
                                      "first-key", "keys", "wait-s", "testnet-magic",
                                      "mainnet", NULL};
  static const char *const RUN[] = {"config", "topology", "database-path", "socket-path",
                                    "host-addr", "port", "delegation-certificate",
                                    "signing-key", "signing-record", "metrics-port",
                                    "metrics-host", "log-level", "log-file", "max-connections",
                                    "max-local-connections", "write-timeout", NULL};
  static const char *const SERVE[] = {"db", "host", "port", "socket-path", "max-connections",
                                      "max-local-connections", "write-timeout",
                                      "mempool-capacity", "mempool-ttl", "log-level", NULL};
  static const char *const SIM[] = {"scenario", "random", "seed", "seeds", "trace", "report",
                                    "quiet", "log", "print-scenario", "cores", "relays",
                                    "slots", "k", "topology", "txs", "broken", NULL};
  expect_help(CDL_CLI, "sync", "Usage: cardinal-cli sync [OPTION", SYNC);
  expect_help(CDL_CLI, "devnet watch", "Usage: cardinal-cli devnet watch [OPTION", WATCH);
  expect_help(CDL_CLI, "txgen", "Usage: cardinal-cli txgen [OPTION", TXGEN);
  expect_help(CDL_NODE, "run", "Usage: cardinal-node run [OPTION", RUN);
  expect_help(CDL_NODE, "serve", "Usage: cardinal-node serve [OPTION", SERVE);
  expect_help(CDL_SIM, "", "Usage: cardinal-sim [OPTION", SIM);
  assert_int_equal(run_example(CDL_SIM, "/tmp"), 0);
  assert_non_null(strstr(stdout_buf, "\"ok\":true"));
  char dir[] = "/tmp/cdl-cli-help-XXXXXX";
  assert_non_null(mkdtemp(dir));
  expect_help(CDL_CLI, "devnet create", "Usage: cardinal-cli devnet create [OPTION", CREATE);
  assert_int_equal(run_example(CDL_CLI, dir), 0);
  json_t *made = parse(stdout_buf); /* the default devnet: 3 core nodes, a relay on 30003 */
  assert_int_equal(num(json_array_get(json_object_get(made, "nodes"), 3), "port"), 30003);
  json_decref(made);
  shell_ok("rm -rf %s", dir);
  /* The node's list of commands, and where its metrics go. */
  assert_int_equal(run_program(CDL_NODE, "--help"), 0);
  assert_non_null(strstr(stdout_buf, "cardinal-node serve --db DIR"));
  assert_non_null(strstr(stdout_buf, "hasPrometheus"));
  assert_non_null(strstr(stdout_buf, "--metrics-port 0\nturns it off"));
  assert_int_equal(run_program(CDL_NODE, "frobnicate"), 2);
  expect_said("unknown command 'frobnicate'");
  /* Each refusal names the option. */
  expect_usage_error(CDL_CLI, "sync --from h:1 --db d --pipeline 0",
                     "--pipeline: '0' is not a whole number from 1 to 1000");
  expect_usage_error(CDL_CLI, "sync --from nohost --db d", "--from: 'nohost' is not HOST:PORT");
  expect_usage_error(CDL_CLI, "sync --from h:1", "--db DIR is required");
  expect_usage_error(CDL_CLI, "sync --from h:1 --db d --log-level Loud", "--log-level: 'Loud'");
  expect_usage_error(CDL_CLI, "devnet create --dir d --core-nodes 8", "--core-nodes: '8'");
  expect_usage_error(CDL_CLI, "devnet watch --dir d --follow 32", "--follow: '32'");
  expect_usage_error(CDL_CLI, "devnet watch", "--dir DIR is required");
  expect_usage_error(CDL_CLI, "txgen --socket-path s --genesis-dir g --tps 0", "--tps: '0'");
  expect_usage_error(CDL_CLI, "txgen --socket-path s", "--genesis-dir DIR is required");
  expect_usage_error(CDL_CLI, "txgen --genesis-dir g --bogus", "unrecognized option '--bogus'");
  expect_usage_error(CDL_NODE, "run --port 70000", "--port: '70000' is not a whole number");
  expect_usage_error(CDL_NODE, "run --config c", "--topology FILE is required");
  expect_usage_error(CDL_NODE, "run --config c --topology t --database-path d --socket-path s "
                     "--signing-key k", "needs both --delegation-certificate and --signing-key");
  expect_usage_error(CDL_NODE, "serve --db d --write-timeout 0", "--write-timeout: '0'");
  expect_usage_error(CDL_NODE, "serve --db d extra", "unexpected argument 'extra'");
  expect_usage_error(CDL_SIM, "--seeds 0", "--seeds: '0' is not a whole number");
  expect_usage_error(CDL_SIM, "--topology cube", "--topology: bad value 'cube'");
  expect_usage_error(CDL_SIM, "--random --scenario s", "exclude each other");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version_and_help),
      cmocka_unit_test(test_missing_files_are_io_errors),
      cmocka_unit_test(test_print_secrets_by_file),
      cmocka_unit_test(test_chain_generate_refuses_a_stalling_threshold),
      cmocka_unit_test(test_start_sh_reports_an_exited_node),
      cmocka_unit_test(test_options_and_help),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
