/*
 * cmd_devnet_watch.c: `cardinal-cli devnet watch` (docs/cli.md "devnet";
 * docs/node.md "A local network"), the live view of a local network:
 *   devnet watch --dir DIR [--follow I] [--blocks N] [--json]
 * It follows node I (default: the last node, a relay when there is one)
 * with local chain-sync and prints one row per block it adopts: the slot,
 * block number, which core node forged it, its transactions and the
 * running total, then every node's tip (block number and hash prefix, or
 * "down"), each asked over local chain-sync. A roll-back is printed as
 * one. Nodes may stop and start meanwhile; their connections are made
 * again. It runs until SIGINT/SIGTERM, or N rows with --blocks.
 * The nodes and sockets come from DIR/devnet.json (devnet create), read as
 * untrusted input; slots and forgers from DIR/genesis/genesis.json.
 * Its options and --help are argp's (options.c).
 */
#include <argp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cardinal/storage.h"
#include "cli.h"
#include "local.h"

#define WATCH_MAX_NODES 32
#define WATCH_NAME_MAX 32

typedef struct watch_opts {
  const char *dir;
  uint64_t follow, blocks;
  bool has_follow, json;
} watch_opts;

typedef struct watch_node {
  char name[WATCH_NAME_MAX];
  char socket[PATH_MAX];
  cdl_io_local *c; /* for its tip; NULL until connected */
} watch_node;

typedef struct watch {
  watch_opts o;
  watch_node nodes[WATCH_MAX_NODES];
  size_t n_nodes;
  cdl_db_genesis dg;
  cdl_io_local *follow; /* NULL: not connected */
  bool intersected;     /* the roll-back to the start point was seen */
  uint64_t rows, total_txs;
} watch;

/* Option keys: above the character range, so none is a short option. */
enum { O_DIR = 0x100, O_FOLLOW, O_BLOCKS, O_JSON };

static const struct argp_option WATCH_OPTIONS[] = {
    {"dir", O_DIR, "DIR", 0, "the devnet's directory, as devnet create made it (required)", 0},
    {"follow", O_FOLLOW, "I", 0, "the node whose chain is followed, 0 to 31 (default: the last "
     "node, a relay when there is one)", 0},
    {"blocks", O_BLOCKS, "N", 0, "stop after N rows, 1 to 4294967295 (default: until "
     "SIGINT/SIGTERM)", 0},
    {"json", O_JSON, NULL, 0, "each row as one JSON line (default: a table)", 0},
    {0}};

static error_t watch_option(int key, char *arg, struct argp_state *state) {
  watch_opts *o = state->input;
  switch (key) {
  case O_DIR: o->dir = arg; break;
  case O_FOLLOW:
    o->follow = cli_arg_u64(state, arg, 0, WATCH_MAX_NODES - 1);
    o->has_follow = true;
    break;
  case O_BLOCKS: o->blocks = cli_arg_u64(state, arg, 1, UINT32_MAX); break;
  case O_JSON: o->json = true; break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (o->dir == NULL) argp_error(state, "--dir DIR is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp WATCH = {
    WATCH_OPTIONS, watch_option, NULL,
    "The live view of a running devnet: a row per block that node I adopts (slot, block number, "
    "the core node that forged it, its transactions and the running total), then every node's "
    "tip or \"down\". Nodes may stop and start meanwhile.\v"
    "Example:\n  cardinal-cli devnet watch --dir ./devnet --blocks 10",
    NULL, NULL, NULL};

static int parse_opts(int argc, char **argv, watch_opts *o) {
  *o = (watch_opts){0};
  return cli_args_parse(&WATCH, argc, argv, o);
}

/* A node name from devnet.json becomes part of a path: letters, digits
 * and '-' only. */
static bool plain_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= WATCH_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
      return false;
  return true;
}

static int load_nodes(watch *w, cdl_error *err) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/devnet.json", w->o.dir);
  json_error_t je;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  json_t *nodes = root ? json_object_get(root, "nodes") : NULL;
  int rc = CDL_OK;
  if (root == NULL)
    rc = cdl_error_set(err, CDL_E_JSON, 0, "%s: line %d: %s", path, je.line, je.text);
  else if (!json_is_array(nodes) || json_array_size(nodes) == 0 ||
           json_array_size(nodes) > WATCH_MAX_NODES)
    rc = cdl_error_set(err, CDL_E_JSON, 0, "%s: no \"nodes\" array of 1..%d nodes", path,
                       WATCH_MAX_NODES);
  for (size_t i = 0; rc == CDL_OK && i < json_array_size(nodes); i++) {
    const char *name = json_string_value(json_object_get(json_array_get(nodes, i), "name"));
    if (name == NULL || !plain_name(name)) {
      rc = cdl_error_set(err, CDL_E_JSON, 0, "%s: nodes[%zu].name is not a plain name", path, i);
      break;
    }
    watch_node *nd = &w->nodes[w->n_nodes++];
    snprintf(nd->name, sizeof nd->name, "%s", name);
    if ((size_t)snprintf(nd->socket, sizeof nd->socket, "%s/%s/node.socket", w->o.dir, name) >=
        sizeof nd->socket)
      rc = cdl_error_set(err, CDL_E_USAGE, 0, "devnet watch: the path of %s is too long", name);
  }
  json_decref(root);
  if (rc == CDL_OK && !w->o.has_follow) w->o.follow = w->n_nodes - 1;
  if (rc == CDL_OK && w->o.follow >= w->n_nodes)
    rc = cdl_error_set(err, CDL_E_USAGE, 0, "devnet watch: --follow %llu: there are %zu nodes",
                       (unsigned long long)w->o.follow, w->n_nodes);
  if (rc != CDL_OK) return rc;
  snprintf(path, sizeof path, "%s/genesis/genesis.json", w->o.dir);
  cdl_db_dir_options go = {.dir = w->o.dir, .genesis = path};
  return cdl_db_genesis_load(&go, &w->dg, err);
}

/* Which genesis key issued a main block (the PBFT schedule's order), or -1. */
static int forger_of(const watch *w, const cdl_byron_header *h) {
  uint8_t id[28];
  cdl_byron_key_hash(h->leader_key, id);
  for (size_t i = 0; i < w->dg.g.n_boot_stakeholders; i++)
    if (memcmp(w->dg.g.boot_stakeholders[i], id, 28) == 0) return (int)i;
  return -1;
}

/* Node I's tip, connecting when needed; false when it does not answer. */
static bool node_tip(watch *w, size_t i, cdl_tip *tip) {
  watch_node *nd = &w->nodes[i];
  cdl_error err = {0};
  int rc = CDL_OK;
  if (nd->c == NULL) rc = cdl_io_local_open(nd->socket, 0, false, &nd->c, &err);
  if (rc == CDL_OK) rc = local_tip(nd->c, tip, &err);
  if (rc != CDL_OK) {
    cdl_io_local_close(nd->c);
    nd->c = NULL;
  }
  return rc == CDL_OK;
}

static json_t *tips_json(watch *w) {
  json_t *tips = json_array();
  for (size_t i = 0; i < w->n_nodes; i++) {
    cdl_tip t;
    char hash[65] = "";
    if (!node_tip(w, i, &t)) {
      json_array_append_new(tips, json_pack("{s:s, s:n}", "node", w->nodes[i].name, "tip"));
      continue;
    }
    if (!t.point.origin) cdl_hex_encode(t.point.hash, 32, hash);
    json_array_append_new(tips, json_pack("{s:s, s:{s:I, s:I, s:s}}", "node", w->nodes[i].name,
                                          "tip", "slot", (json_int_t)t.point.slot, "block_no",
                                          (json_int_t)t.block_no, "hash", hash));
  }
  return tips;
}

static void print_header(const watch *w) {
  if (w->o.json) return;
  printf("%7s %6s %-7s %4s %6s |", "slot", "block", "forger", "txs", "total");
  for (size_t i = 0; i < w->n_nodes; i++) printf(" %-14s", w->nodes[i].name);
  printf("\n");
}

static void print_text_row(const json_t *row) {
  json_t *forger = json_object_get(row, "forger");
  char who[16] = "ebb";
  if (json_is_integer(forger)) snprintf(who, sizeof who, "core-%lld", json_integer_value(forger));
  if (json_is_false(json_object_get(row, "ebb")) && !json_is_integer(forger))
    snprintf(who, sizeof who, "?");
  printf("%7lld %6lld %-7s %4lld %6lld |", json_integer_value(json_object_get(row, "slot")),
         json_integer_value(json_object_get(row, "block_no")), who,
         json_integer_value(json_object_get(row, "txs")),
         json_integer_value(json_object_get(row, "total_txs")));
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(row, "tips"), i, t) {
    json_t *tip = json_object_get(t, "tip");
    const char *h = json_string_value(json_object_get(tip, "hash"));
    if (!json_is_object(tip))
      printf(" %-14s", "down");
    else
      printf(" %6lld %.6s ", json_integer_value(json_object_get(tip, "block_no")), h ? h : "");
  }
  printf("\n");
}

static void emit(watch *w, json_t *row) {
  if (w->o.json)
    cli_print(json_incref(row), true);
  else
    print_text_row(row);
  json_decref(row);
  fflush(stdout);
  w->rows++;
}

static void show_block(watch *w, const cdl_buf *bytes) {
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_block b;
  if (cdl_byron_block_decode(bytes->data, bytes->len, &ctx, &b) != CDL_OK) {
    fprintf(stderr, "devnet watch: a block that does not decode: %s\n", err.message);
    cdl_arena_free(&arena);
    return;
  }
  uint64_t epoch_slots = cdl_byron_epoch_slots(w->dg.g.k);
  uint64_t slot =
      b.is_ebb ? b.ebb.epoch * epoch_slots : b.header.epoch * epoch_slots + b.header.slot_in_epoch;
  size_t txs = b.is_ebb ? 0 : b.body.n_txs;
  int forger = b.is_ebb ? -1 : forger_of(w, &b.header);
  char hash[65];
  cdl_hex_encode(cdl_byron_block_hash(&b), 32, hash);
  w->total_txs += txs;
  json_t *row =
      json_pack("{s:I, s:I, s:s, s:b, s:I, s:I}", "slot", (json_int_t)slot, "block_no",
                (json_int_t)(b.is_ebb ? b.ebb.difficulty : b.header.difficulty), "hash", hash,
                "ebb", b.is_ebb, "txs", (json_int_t)txs, "total_txs", (json_int_t)w->total_txs);
  json_object_set_new(row, "forger", forger >= 0 ? json_integer(forger) : json_null());
  json_object_set_new(row, "tips", tips_json(w));
  cdl_arena_free(&arena);
  emit(w, row);
}

static void show_rollback(watch *w, const cdl_point *to) {
  if (!w->intersected) { /* chain-sync's first reply: back to where we started */
    w->intersected = true;
    return;
  }
  if (w->o.json) {
    cli_print(json_pack("{s:I}", "rollback_to_slot", (json_int_t)to->slot), true);
  } else {
    printf("  -- rolled back to slot %llu\n", (unsigned long long)to->slot);
  }
  fflush(stdout);
}

static void drop_follow(watch *w, const cdl_error *err) {
  fprintf(stderr, "devnet watch: %s: %s; connecting again\n", w->nodes[w->o.follow].name,
          err->message);
  cdl_io_local_close(w->follow);
  w->follow = NULL;
}

/* Connects to the followed node and asks for what comes after its tip. */
static bool start_follow(watch *w) {
  cdl_error err = {0};
  cdl_tip tip;
  int rc = cdl_io_local_open(w->nodes[w->o.follow].socket, 0, false, &w->follow, &err);
  if (rc == CDL_OK) rc = local_tip(w->follow, &tip, &err);
  if (rc == CDL_OK) rc = local_follow(w->follow, &tip.point, &err);
  if (rc == CDL_OK) rc = local_follow_request(w->follow, &err);
  w->intersected = false;
  if (rc != CDL_OK) {
    cdl_io_local_close(w->follow);
    w->follow = NULL;
  }
  return rc == CDL_OK;
}

/* One chain-sync reply, then the next request unless the node said await. */
static void follow_step(watch *w) {
  cdl_error err = {0};
  uint8_t kind;
  cdl_point to;
  cdl_buf block;
  cdl_buf_init(&block, 0);
  int rc = local_follow_read(w->follow, &kind, &block, &to, &err);
  if (rc == CDL_OK && kind == CDL_CS_ROLL_FORWARD) show_block(w, &block);
  if (rc == CDL_OK && kind == CDL_CS_ROLL_BACKWARD) show_rollback(w, &to);
  if (rc == CDL_OK && kind != CDL_CS_AWAIT_REPLY) rc = local_follow_request(w->follow, &err);
  cdl_buf_free(&block);
  if (rc != CDL_OK) drop_follow(w, &err);
}

static void run(watch *w) {
  print_header(w);
  bool said_waiting = false;
  while (!cli_stop_requested() && (w->o.blocks == 0 || w->rows < w->o.blocks)) {
    if (w->follow == NULL && !start_follow(w)) {
      if (!said_waiting)
        fprintf(stderr, "devnet watch: waiting for %s (%s)\n", w->nodes[w->o.follow].name,
                w->nodes[w->o.follow].socket);
      said_waiting = true;
      sleep(1);
      continue;
    }
    said_waiting = false;
    struct pollfd pf = {.fd = cdl_io_local_fd(w->follow), .events = POLLIN};
    if (poll(&pf, 1, 1000) > 0) follow_step(w);
  }
}

int devnet_watch(int argc, char **argv) {
  watch w = {0};
  int code = parse_opts(argc, argv, &w.o);
  if (code != EXIT_OK) return code;
  cdl_db_genesis_init(&w.dg);
  cdl_error err = {0};
  int rc = load_nodes(&w, &err);
  if (rc == CDL_OK) {
    cli_catch_stop_signals("watch");
    signal(SIGPIPE, SIG_IGN);
    run(&w);
  }
  cdl_io_local_close(w.follow);
  for (size_t i = 0; i < w.n_nodes; i++) cdl_io_local_close(w.nodes[i].c);
  cdl_db_genesis_free(&w.dg);
  return rc == CDL_OK ? EXIT_OK : cli_report(&err);
}
