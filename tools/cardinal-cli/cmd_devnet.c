/*
 * cmd_devnet.c: `cardinal-cli devnet create` (docs/node.md "A local
 * network"): everything a local network of core nodes and relays needs,
 * under one directory:
 *   DIR/genesis/            the genesis and its keys (cardinal-cli genesis create)
 *   DIR/node-I/config.json  cardano-node's format, naming ../genesis/genesis.json
 *   DIR/node-I/topology.json  every other node as a Producer
 *   DIR/node-I/db, node.socket, node.log  made when the node runs
 *   DIR/start.sh            starts every node (each in its own session),
 *                           stops them on Ctrl-C with one SIGTERM each
 *   DIR/devnet.json         what was made: nodes, ports, sockets, genesis hash
 * Core node I signs with genesis key I's delegate (genesis/delegate-keys.I.skey
 * and delegation-cert.I.json). The PBFT threshold is 1/N + 0.2 (at most 1),
 * so the chain goes on with a core node down. The genesis starts a few
 * seconds after creation; a later start just begins at a later slot.
 * Also the devnet noun's verbs (`watch` is in cmd_devnet_watch.c); the
 * options and --help are argp's (options.c).
 */
#include <argp.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cardinal/gen.h"
#include "cli.h"

#define DEVNET_MAX_NODES 32

typedef struct devnet_opts {
  const char *dir;
  uint64_t cores, relays, slot_ms, k, base_port, metrics_base, poor, start_delay, magic;
  double threshold;
} devnet_opts;

/* Option keys: above the character range, so none is a short option. */
enum {
  O_DIR = 0x100,
  O_CORES,
  O_RELAYS,
  O_SLOT_MS,
  O_K,
  O_BASE_PORT,
  O_METRICS_BASE,
  O_POOR,
  O_START_DELAY,
  O_MAGIC,
  O_THRESHOLD
};

static const struct argp_option CREATE_OPTIONS[] = {
    {"dir", O_DIR, "DIR", 0, "the new directory to make it in (required)", 0},
    {"core-nodes", O_CORES, "N", 0, "core nodes, 1 to 7, one genesis key each (default: 3)", 0},
    {"relays", O_RELAYS, "N", 0, "relays, 0 to 25 (default: 1)", 0},
    {"slot-ms", O_SLOT_MS, "MS", 0, "the slot length, 100 to 600000 ms (default: 1000)", 0},
    {"k", O_K, "K", 0, "the security parameter, 1 to 100000 (default: 10)", 0},
    {"base-port", O_BASE_PORT, "P", 0, "node I listens on P + I, 1024 to 65000 (default: 30000)",
     0},
    {"metrics-base-port", O_METRICS_BASE, "P", 0,
     "node I serves metrics on P + I, 1024 to 65000 (default: --base-port + 100)", 0},
    {"poor-addresses", O_POOR, "N", 0,
     "genesis addresses of 1,000,000 ADA each for transaction load, 1 to 100000 (default: 1000)",
     0},
    {"start-delay-s", O_START_DELAY, "S", 0,
     "the genesis starts S seconds after creation, 0 to 86400 (default: 5)", 0},
    {"protocol-magic", O_MAGIC, "M", 0,
     "the network's protocol magic, 0 to 4294967295 (default: 42)", 0},
    {"pbft-threshold", O_THRESHOLD, "T", 0,
     "the PBFT signer threshold, above 0 and at most 1 (default: 1/N + 0.2, at most 1)", 0},
    {0}};

/* The ports of every node must fit: node I on base + I, metrics likewise. */
static void check_ports(struct argp_state *state, devnet_opts *o) {
  if (o->metrics_base == 0) o->metrics_base = o->base_port + 100;
  uint64_t last = o->cores + o->relays - 1;
  if (o->base_port + last > 65535)
    argp_error(state, "--base-port %llu: the ports of %llu nodes must end by 65535",
               (unsigned long long)o->base_port, (unsigned long long)last + 1);
  if (o->metrics_base + last > 65535)
    argp_error(state, "--metrics-base-port %llu: the ports of %llu nodes must end by 65535",
               (unsigned long long)o->metrics_base, (unsigned long long)last + 1);
}

static error_t create_option(int key, char *arg, struct argp_state *state) {
  devnet_opts *o = state->input;
  switch (key) {
  case O_DIR: o->dir = arg; break;
  case O_CORES: o->cores = cli_arg_u64(state, arg, 1, 7); break;
  case O_RELAYS: o->relays = cli_arg_u64(state, arg, 0, DEVNET_MAX_NODES - 7); break;
  case O_SLOT_MS: o->slot_ms = cli_arg_u64(state, arg, 100, 600000); break;
  case O_K: o->k = cli_arg_u64(state, arg, 1, 100000); break;
  case O_BASE_PORT: o->base_port = cli_arg_u64(state, arg, 1024, 65000); break;
  case O_METRICS_BASE: o->metrics_base = cli_arg_u64(state, arg, 1024, 65000); break;
  case O_POOR: o->poor = cli_arg_u64(state, arg, 1, 100000); break;
  case O_START_DELAY: o->start_delay = cli_arg_u64(state, arg, 0, 86400); break;
  case O_MAGIC: o->magic = cli_arg_u64(state, arg, 0, UINT32_MAX); break;
  case O_THRESHOLD: o->threshold = cli_arg_fraction(state, arg); break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (o->dir == NULL) argp_error(state, "--dir DIR is required");
    check_ports(state, o);
    if (o->threshold == 0) o->threshold = 1.0 / (double)o->cores + 0.2;
    if (o->threshold > 1) o->threshold = 1;
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp CREATE = {
    CREATE_OPTIONS, create_option, NULL,
    "Make everything a local network of core nodes and relays needs under a new directory: "
    "the genesis and its keys, each node's config.json and topology.json, start.sh (starts "
    "every node; Ctrl-C stops them) and devnet.json (printed).\v"
    "Example:\n  cardinal-cli devnet create --dir ./devnet --core-nodes 3 --relays 1",
    NULL, NULL, NULL};

static int parse_opts(int argc, char **argv, devnet_opts *o) {
  *o = (devnet_opts){.cores = 3,
                     .relays = 1,
                     .slot_ms = 1000,
                     .k = 10,
                     .base_port = 30000,
                     .metrics_base = 0,
                     .poor = 1000,
                     .start_delay = 5,
                     .magic = 42};
  return cli_args_parse(&CREATE, argc, argv, o);
}

static int write_json(const char *path, json_t *v, cdl_error *err) {
  int rc = json_dump_file(v, path, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(v);
  if (rc != 0) return cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", path);
  return CDL_OK;
}

static int node_files(const devnet_opts *o, const cdl_gen_dir *g, size_t i, cdl_error *err) {
  size_t n = o->cores + o->relays;
  char path[PATH_MAX], hash[65];
  snprintf(path, sizeof path, "%s/node-%zu", o->dir, i);
  if (mkdir(path, 0755) != 0) return cdl_error_set(err, CDL_E_IO, 0, "cannot make %s", path);
  cdl_hex_encode(g->genesis.hash, 32, hash);
  /* The headers announce the genesis's version (cardano-ledger's initial
   * state adopts 0.0.0) and cardano-node's software version: an operator
   * raises the block version to endorse an update (docs/node.md). */
  json_t *cfg = json_pack(
      "{s:s, s:s, s:s, s:s, s:f, s:s, s:I, s:i, s:i, s:i, s:s, s:i}", "Protocol", "RealPBFT",
      "ByronGenesisFile", "../genesis/genesis.json", "ByronGenesisHash", hash,
      "RequiresNetworkMagic", g->requires_magic ? "RequiresMagic" : "RequiresNoMagic",
      "PBftSignatureThreshold", o->threshold, "MinSeverity", "Info", "MempoolTTLSlots",
      (json_int_t)(2 * cdl_byron_epoch_slots(o->k)), "LastKnownBlockVersion-Major", 0,
      "LastKnownBlockVersion-Minor", 0, "LastKnownBlockVersion-Alt", 0, "ApplicationName",
      "cardano-sl", "ApplicationVersion", 1);
  snprintf(path, sizeof path, "%s/node-%zu/config.json", o->dir, i);
  int rc = write_json(path, cfg, err);
  json_t *producers = json_array();
  for (size_t j = 0; j < n; j++)
    if (j != i)
      json_array_append_new(producers, json_pack("{s:s, s:i, s:i}", "addr", "127.0.0.1", "port",
                                                 (json_int_t)(o->base_port + j), "valency", 1));
  snprintf(path, sizeof path, "%s/node-%zu/topology.json", o->dir, i);
  if (rc == CDL_OK)
    rc = write_json(path, json_pack("{s:o}", "Producers", producers), err);
  else
    json_decref(producers);
  return rc;
}

/* cardinal-node beside this cardinal-cli, else the one on PATH. */
static void node_binary(char *out, size_t cap) {
  char self[PATH_MAX - 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  snprintf(out, cap, "cardinal-node");
  if (n <= 0) return;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash == NULL) return;
  *slash = '\0';
  char cand[PATH_MAX];
  snprintf(cand, sizeof cand, "%s/cardinal-node", self);
  if (access(cand, X_OK) == 0) snprintf(out, cap, "%s", cand);
}

/* Each node runs in a session of its own (setsid): a terminal's Ctrl-C
 * reaches start.sh and not the nodes, which get exactly one SIGTERM each
 * from start.sh's trap. From a script (no job control) the background
 * child is no process group leader, so setsid calls setsid(2) and execs
 * the node in that very process: $! is the node's pid. */
static void node_command(FILE *f, const devnet_opts *o, size_t i) {
  fprintf(
      f,
      "  setsid \"$NODE\" run --config node-%zu/config.json --topology node-%zu/topology.json \\\n"
      "    --database-path node-%zu/db --socket-path node-%zu/node.socket \\\n"
      "    --host-addr 127.0.0.1 --port %llu --metrics-port %llu",
      i, i, i, i, (unsigned long long)(o->base_port + i),
      (unsigned long long)(o->metrics_base + i));
  if (i < o->cores)
    fprintf(f,
            " \\\n    --delegation-certificate genesis/delegation-cert.%03zu.json \\\n"
            "    --signing-key genesis/delegate-keys.%03zu.skey",
            i, i);
  fprintf(f,
          " \\\n    > node-%zu/ready.json 2> node-%zu/node.log < /dev/null &\n"
          "  echo $! > node-%zu/pid\n",
          i, i, i);
}

static int start_script(const devnet_opts *o, cdl_error *err) {
  char path[PATH_MAX], node[PATH_MAX];
  snprintf(path, sizeof path, "%s/start.sh", o->dir);
  FILE *f = fopen(path, "w");
  if (f == NULL) return cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", path);
  node_binary(node, sizeof node);
  fprintf(f,
          "#!/bin/sh\n"
          "# start.sh: starts every node of this devnet (made by cardinal-cli devnet\n"
          "# create) in the background, each in its own session (a Ctrl-C reaches\n"
          "# only this script) and logging to node-I/node.log, and stops them all on\n"
          "# Ctrl-C or when this script is terminated: one SIGTERM each, then it\n"
          "# waits for each to write its ledger snapshot and exit (docs/node.md\n"
          "# \"Stopping a node\"). `start.sh I` starts node I alone, its pid in\n"
          "# node-I/pid. CARDINAL_NODE overrides the node binary.\n"
          "cd \"$(dirname \"$0\")\" || exit 1\n"
          "NODE=\"${CARDINAL_NODE:-%s}\"\n"
          "start_node() {\n"
          "  case \"$1\" in\n",
          node);
  for (size_t i = 0; i < o->cores + o->relays; i++) {
    fprintf(f, "  %zu)\n", i);
    node_command(f, o, i);
    fprintf(f, "  ;;\n");
  }
  fprintf(
      f,
      "  esac\n"
      "}\n"
      "# A node that exits while it starts (a port in use, a bad file) is named\n"
      "# with the last line of its log: \"started\" must be true when said.\n"
      "# CARDINAL_START_CHECK_S: how long to give the nodes first (default 1).\n"
      "exited_nodes() {\n"
      "  sleep \"${CARDINAL_START_CHECK_S:-1}\"\n"
      "  gone=\"\"\n"
      "  for n in \"$@\"; do\n"
      "    kill -0 \"$(cat node-$n/pid)\" 2>/dev/null && continue\n"
      "    echo \"devnet: node $n exited: $(tail -n 1 node-$n/node.log)\" >&2\n"
      "    gone=1\n"
      "  done\n"
      "  [ -n \"$gone\" ]\n"
      "}\n"
      "if [ -n \"$1\" ]; then start_node \"$1\"; exited_nodes \"$1\" && exit 1; exit 0; fi\n"
      "pids=\"\"\n"
      "stopping=\"\"\n"
      "for i in $(seq 0 %llu); do start_node \"$i\"; pids=\"$pids $(cat node-$i/pid)\"; done\n"
      "# One SIGTERM to each node, then wait for each: a node stops cleanly\n"
      "# (its ChainDB synced, a ledger snapshot written). Further signals to\n"
      "# this script are ignored from then on, so none reaches a node twice.\n"
      "stop_all() {\n"
      "  [ -z \"$stopping\" ] || return 0\n"
      "  stopping=1\n"
      "  trap '' INT TERM\n"
      "  echo \"devnet: stopping every node (one SIGTERM each)\" >&2\n"
      "  kill -TERM $pids 2>/dev/null\n"
      "  for p in $pids; do wait \"$p\"; echo \"devnet: node pid $p exited with $?\" >&2; done\n"
      "  exit 0\n"
      "}\n"
      "trap stop_all INT TERM\n"
      "if exited_nodes $(seq 0 %llu); then\n"
      "  trap '' INT TERM\n"
      "  kill -TERM $pids 2>/dev/null\n"
      "  wait\n"
      "  echo \"devnet: not started; the other nodes were stopped\" >&2\n"
      "  exit 1\n"
      "fi\n"
      "echo \"devnet: %llu nodes started (pids$pids); Ctrl-C stops them\" >&2\n"
      "wait\n",
      (unsigned long long)(o->cores + o->relays - 1), (unsigned long long)(o->cores + o->relays - 1),
      (unsigned long long)(o->cores + o->relays));
  bool ok = fclose(f) == 0 && chmod(path, 0755) == 0;
  return ok ? CDL_OK : cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", path);
}

static json_t *summary(const devnet_opts *o, const cdl_gen_dir *g) {
  char hash[65];
  cdl_hex_encode(g->genesis.hash, 32, hash);
  json_t *nodes = json_array();
  for (size_t i = 0; i < o->cores + o->relays; i++) {
    char name[32], sock[PATH_MAX + 32];
    snprintf(name, sizeof name, "node-%zu", i);
    snprintf(sock, sizeof sock, "%s/node-%zu/node.socket", o->dir, i);
    json_array_append_new(
        nodes, json_pack("{s:s, s:b, s:i, s:i, s:s}", "name", name, "core", i < o->cores, "port",
                         (json_int_t)(o->base_port + i), "metrics_port",
                         (json_int_t)(o->metrics_base + i), "socket", sock));
  }
  return json_pack("{s:s, s:s, s:i, s:i, s:i, s:f, s:o}", "dir", o->dir, "genesis_hash", hash,
                   "protocol_magic", (json_int_t)g->genesis.protocol_magic, "start_time",
                   (json_int_t)g->genesis.start_time, "slot_ms", (json_int_t)o->slot_ms,
                   "pbft_threshold", o->threshold, "nodes", nodes);
}

static int make_genesis(const devnet_opts *o, cdl_gen_dir *g, cdl_error *err) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/genesis", o->dir);
  cdl_gen_genesis_spec s = {.protocol_magic = (uint32_t)o->magic,
                            .k = o->k,
                            .start_time = (int64_t)time(NULL) + (int64_t)o->start_delay,
                            .genesis_keys = (uint32_t)o->cores,
                            .poor_addresses = (uint32_t)o->poor,
                            .poor_balance = 1000000000000ull};
  cdl_gen_default_params(&s.params);
  s.params.slot_duration_ms = o->slot_ms;
  int rc = cdl_gen_genesis_create(&s, path, err);
  if (rc == CDL_OK) rc = cdl_gen_dir_load(path, g, err);
  return rc;
}

static int devnet_create(int argc, char **argv) {
  devnet_opts o;
  int code = parse_opts(argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_error err = {0};
  struct stat st;
  if (stat(o.dir, &st) == 0) {
    cdl_error_set(&err, CDL_E_USAGE, 0, "%s exists: a devnet is made in a new directory", o.dir);
    return cli_report(&err);
  }
  if (mkdir(o.dir, 0755) != 0) {
    cdl_error_set(&err, CDL_E_IO, 0, "cannot make %s", o.dir);
    return cli_report(&err);
  }
  cdl_gen_dir g;
  int rc = make_genesis(&o, &g, &err);
  if (rc != CDL_OK) return cli_report(&err);
  for (size_t i = 0; rc == CDL_OK && i < o.cores + o.relays; i++) rc = node_files(&o, &g, i, &err);
  if (rc == CDL_OK) rc = start_script(&o, &err);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/devnet.json", o.dir);
  json_t *sum = rc == CDL_OK ? summary(&o, &g) : NULL;
  if (sum != NULL) rc = write_json(path, json_incref(sum), &err);
  cdl_gen_dir_free(&g);
  if (rc != CDL_OK) {
    json_decref(sum);
    return cli_report(&err);
  }
  return cli_print(sum, false);
}

static const cli_verb DEVNET_VERBS[] = {
    {"create", NULL, "a local network's genesis, keys, configs and start.sh", devnet_create},
    {"watch", NULL, "a row per block of a running devnet, every node's tip", devnet_watch}};
const cli_noun CLI_DEVNET = CLI_NOUN("devnet", DEVNET_VERBS);
