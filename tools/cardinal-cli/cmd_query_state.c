/*
 * cmd_query_state.c: `query tip` and `query utxo` (docs/cli.md "query"),
 * computed from what a node answers over its local socket (node_query.h),
 * no genesis file needed:
 *   query tip [--genesis FILE] [node options]
 *       cardano-cli's fields (block, epoch, era, hash, slot, slotInEpoch,
 *       slotsToEpochEnd, syncProgress) and block_no: the tip from local
 *       chain-sync, the epoch length and slot length from Cardinal's
 *       chain-constants query, the system start from GetSystemStart. A
 *       --genesis is a cross-check (and stands in for the constants on a
 *       node that does not answer Cardinal's queries).
 *   query utxo (--address ADDR)... (--tx-in TXID#IX)... [node options]
 *       the outputs at the addresses and of the inputs (Cardinal's UTxO
 *       queries) and the balance, in all and per address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "cardinal/storage.h"
#include "local.h"
#include "node_query.h"

/* cardano-cli's syncProgress: the tip's time over the time now, both in
 * whole seconds since the system start plus one, the tip moved 600 s
 * closer (a node that far behind counts as synced), as "%.2f". */
static json_t *sync_progress(uint64_t tip_slot, uint64_t slot_ms, int64_t start, int64_t now) {
  unsigned __int128 tip_ms = (unsigned __int128)tip_slot * slot_ms;
  double tip = (double)(tip_ms / 1000) + 1;
  double nowish = (double)(now > start ? now - start : 0) + 1;
  double ahead = tip + 600 < nowish ? tip + 600 : nowish;
  char text[32];
  snprintf(text, sizeof text, "%.2f", ahead / nowish * 100.0);
  return json_string(text);
}

/* The node's constants against the genesis file's: a file of another
 * network is refused rather than silently mixed in. */
static int cross_check(const cdl_byron_genesis *g, const cdl_lsq_chain_constants *c,
                       int64_t start) {
  if (g->k == c->k && g->protocol_magic == c->protocol_magic &&
      g->params.slot_duration_ms == c->slot_ms && g->start_time == start)
    return EXIT_OK;
  return cli_fail("query.genesis_mismatch", EXIT_REJECTED,
                  "the genesis file says k %llu, magic %u, %llu ms slots, start %lld; the node "
                  "runs k %llu, magic %u, %llu ms slots, start %lld",
                  (unsigned long long)g->k, g->protocol_magic,
                  (unsigned long long)g->params.slot_duration_ms, (long long)g->start_time,
                  (unsigned long long)c->k, c->protocol_magic, (unsigned long long)c->slot_ms,
                  (long long)start);
}

/* What the node answers: its tip, system start and constants (the
 * genesis's when it does not know Cardinal's query and one is given). */
static int ask_tip(const cli_command *o, const cdl_db_genesis *dg, cdl_tip *tip, int64_t *start,
                   cdl_lsq_chain_constants *c, cdl_error *err) {
  cli_session s;
  int rc = cli_session_open(&o->node, &s, err);
  if (rc == CDL_OK)
    rc = local_tip(s.c, tip, err);
  if (rc == CDL_OK)
    rc = cli_session_system_start(&s, start, err);
  if (rc == CDL_OK)
    rc = cli_session_constants(&s, c, err);
  cli_session_close(&s);
  if (rc == CLI_E_NOT_CARDINAL && o->genesis) {
    *c = (cdl_lsq_chain_constants){.k = dg->g.k,
                                   .epoch_slots = cdl_byron_epoch_slots(dg->g.k),
                                   .slot_ms = dg->g.params.slot_duration_ms,
                                   .protocol_magic = dg->g.protocol_magic};
    return CDL_OK;
  }
  return rc;
}

static const struct argp_option TIP_OPTIONS[] = {
    {"genesis", CLI_O_GENESIS, "FILE", 0,
     "a genesis to cross-check the node's constants with, and to stand in for them on a node "
     "that does not answer Cardinal's queries (default: none)", 0},
    {0}};
static const struct argp TIP = {
    TIP_OPTIONS, cli_command_option, NULL,
    "The node's tip with cardano-cli's fields (block, epoch, era, hash, slot, slotInEpoch, "
    "slotsToEpochEnd, syncProgress) and block_no, from what the node answers.\v"
    "Example:\n  cardinal-cli query tip --socket-path net/node-3/node.socket",
    CLI_NODE_CHILDREN, NULL, NULL};

int query_tip(int argc, char **argv) {
  cli_command o;
  int code = cli_command_parse(&TIP, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  cdl_error err = {0};
  cdl_db_genesis dg;
  cdl_db_genesis_init(&dg);
  cdl_db_dir_options go = {.dir = ".", .genesis = o.genesis};
  int rc = o.genesis ? cdl_db_genesis_load(&go, &dg, &err) : CDL_OK;
  cdl_tip tip;
  int64_t start = 0;
  cdl_lsq_chain_constants c;
  if (rc == CDL_OK)
    rc = ask_tip(&o, &dg, &tip, &start, &c, &err);
  if (rc != CDL_OK) {
    cdl_db_genesis_free(&dg);
    return cli_report_node(&err);
  }
  code = o.genesis ? cross_check(&dg.g, &c, start) : EXIT_OK;
  cdl_db_genesis_free(&dg);
  if (code != EXIT_OK)
    return code;
  char hash[65] = "";
  if (!tip.point.origin)
    cdl_hex_encode(tip.point.hash, 32, hash);
  uint64_t slot = tip.point.origin ? 0 : tip.point.slot, in_epoch = slot % c.epoch_slots;
  json_t *j = json_pack("{s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:o}", "block",
                        cdl_json_u64(tip.block_no), "block_no", cdl_json_u64(tip.block_no), "epoch",
                        cdl_json_u64(slot / c.epoch_slots), "era", "Byron", "hash", hash, "slot",
                        cdl_json_u64(slot), "slotInEpoch", cdl_json_u64(in_epoch),
                        "slotsToEpochEnd", cdl_json_u64(c.epoch_slots - in_epoch), "syncProgress",
                        sync_progress(slot, c.slot_ms, start, (int64_t)time(NULL)));
  return cli_print(j, false);
}

/* ---- query utxo ---- */

typedef struct utxo_opts {
  cli_node_opts node;
  const char *addr_text[CDL_LSQ_UTXO_MAX_ADDRESSES];
  cdl_buf addr[CDL_LSQ_UTXO_MAX_ADDRESSES];
  cdl_span addrs[CDL_LSQ_UTXO_MAX_ADDRESSES];
  size_t n_addrs;
  cdl_lsq_txin ins[CDL_LSQ_UTXO_MAX_INPUTS];
  size_t n_ins;
} utxo_opts;

/* The addresses given, Base58 decoded and checked (CRC, form); a bad one
 * is reported here (exit 1). */
static int take_addresses(utxo_opts *o) {
  for (size_t i = 0; i < o->n_addrs; i++) {
    cdl_error err = {0};
    cdl_arena arena;
    cdl_arena_init(&arena, 0);
    cdl_byron_ctx ctx = {&arena, &err, 0};
    cdl_byron_address a;
    cdl_buf_init(&o->addr[i], 0);
    int rc = cdl_byron_address_from_base58(o->addr_text[i], &o->addr[i], &ctx, &a);
    cdl_arena_free(&arena);
    o->addrs[i] = cdl_span_of(o->addr[i].data, o->addr[i].len);
    if (rc != CDL_OK)
      return cli_report(&err);
  }
  return EXIT_OK;
}

enum { O_ADDRESS = 0x100, O_TX_IN };

static error_t utxo_option(int key, char *arg, struct argp_state *state) {
  utxo_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &o->node;
    return 0;
  case O_ADDRESS:
    if (o->n_addrs == CDL_LSQ_UTXO_MAX_ADDRESSES)
      argp_error(state, "--address: at most %d addresses", CDL_LSQ_UTXO_MAX_ADDRESSES);
    o->addr_text[o->n_addrs++] = arg;
    return 0;
  case O_TX_IN:
    if (o->n_ins == CDL_LSQ_UTXO_MAX_INPUTS)
      argp_error(state, "--tx-in: at most %d inputs", CDL_LSQ_UTXO_MAX_INPUTS);
    cli_arg_txin(state, arg, o->ins[o->n_ins].tx_id, &o->ins[o->n_ins].index);
    o->n_ins++;
    return 0;
  case ARGP_KEY_END:
    if (o->n_addrs + o->n_ins == 0)
      argp_error(state, "--address ADDR or --tx-in TXID#IX is required (each may repeat)");
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static const struct argp_option UTXO_OPTIONS[] = {
    {"address", O_ADDRESS, "ADDR", 0,
     "a Base58 address whose outputs to list; repeat for more, at most 64 (default: none)", 0},
    {"tx-in", O_TX_IN, "TXID#IX", 0,
     "an output to look up by its input; repeat for more, at most 1024 (default: none)", 0},
    {0}};
static const struct argp UTXO = {
    UTXO_OPTIONS, utxo_option, NULL,
    "The unspent outputs at the addresses and of the inputs (at least one of either), and the "
    "balance, in all and per address (Cardinal's UTxO queries).\v"
    "Example:\n"
    "  payer=$(cardinal-cli key signing-key-address --testnet-magic 42 \\\n"
    "    --secret net/genesis/poor-keys.000.skey | jq -r .address)\n"
    "  cardinal-cli query utxo --socket-path net/node-3/node.socket \\\n"
    "    --address \"$payer\"",
    CLI_NODE_CHILDREN, NULL, NULL};

/* Adds |e|'s lovelace to its address's balance (a new member at the end). */
static void add_balance(json_t *per_address, const cdl_lsq_utxo_entry *e) {
  json_t *name = cdl_byron_address_base58_json(e->address);
  const char *key = json_string_value(name);
  if (key != NULL) {
    json_t *was = json_object_get(per_address, key);
    uint64_t sum = (was ? (uint64_t)json_integer_value(was) : 0) + e->lovelace;
    json_object_set_new(per_address, key, cdl_json_u64(sum));
  }
  json_decref(name);
}

static json_t *utxo_json(const utxo_opts *o, const cdl_lsq_utxo_answer *a, cdl_error *err) {
  json_t *outputs = json_array(), *per_address = json_object();
  for (size_t i = 0; i < o->n_addrs; i++) { /* every address asked for, in order */
    json_t *name = cdl_byron_address_base58_json(o->addrs[i]);
    if (json_string_value(name))
      json_object_set_new(per_address, json_string_value(name), json_integer(0));
    json_decref(name);
  }
  uint64_t total = 0;
  for (size_t i = 0; i < a->n; i++) {
    const cdl_lsq_utxo_entry *e = &a->entries[i];
    total += e->lovelace; /* each at most 45e15, checked below before it could wrap */
    if (total > CDL_BYRON_MAX_LOVELACE) {
      json_decref(outputs), json_decref(per_address);
      cdl_error_set(err, CDL_E_PROTOCOL, 0, "the node's outputs sum above all lovelace (45e15)");
      return NULL;
    }
    json_array_append_new(outputs,
                          json_pack("{s:o, s:I, s:o, s:o}", "tx_id", cdl_json_hex(e->in.tx_id, 32),
                                    "index", (json_int_t)e->in.index, "address",
                                    cdl_byron_address_base58_json(e->address), "lovelace",
                                    cdl_json_u64(e->lovelace)));
    add_balance(per_address, e);
  }
  return json_pack("{s:b, s:o, s:{s:o, s:I, s:o}}", "complete", a->complete, "utxo", outputs,
                   "balance", "lovelace", cdl_json_u64(total), "outputs", (json_int_t)a->n,
                   "addresses", per_address);
}

int query_utxo(int argc, char **argv) {
  utxo_opts *o = calloc(1, sizeof *o);
  if (o == NULL)
    return EXIT_FAILURE_IO;
  int code = cli_args_parse(&UTXO, argc, argv, o);
  if (code == EXIT_OK)
    code = take_addresses(o);
  if (code == EXIT_OK) {
    cdl_error err = {0};
    cdl_buf raw[2];
    cdl_buf_init(&raw[0], 0), cdl_buf_init(&raw[1], 0);
    cdl_lsq_utxo_answer a = {0};
    cli_session s;
    int rc = cli_session_open(&o->node, &s, &err);
    if (rc == CDL_OK)
      rc = cli_session_utxo(&s, o->addrs, o->n_addrs, o->ins, o->n_ins, raw, &a, &err);
    cli_session_close(&s);
    json_t *j = rc == CDL_OK ? utxo_json(o, &a, &err) : NULL;
    code = j ? cli_print(j, false) : cli_report_node(&err);
    cdl_lsq_utxo_answer_free(&a);
    cdl_buf_free(&raw[0]), cdl_buf_free(&raw[1]);
  }
  for (size_t i = 0; i < o->n_addrs; i++) /* calloc'd: one not yet decoded frees nothing */
    cdl_buf_free(&o->addr[i]);
  free(o);
  return code;
}
