/*
 * cmd_query_state.c: `query tip` and `query utxo` (docs/cli.md "query"),
 * computed from what a node answers over its local socket (node_query.h),
 * no genesis file needed:
 *   query tip [--genesis FILE]
 *       cardano-cli's fields (block, epoch, era, hash, slot, slotInEpoch,
 *       slotsToEpochEnd, syncProgress) and block_no: the tip from local
 *       chain-sync, the epoch length and slot length from Cardinal's
 *       chain-constants query, the system start from GetSystemStart. A
 *       --genesis is a cross-check (and stands in for the constants on a
 *       node that does not answer Cardinal's queries).
 *   query utxo (--address ADDR)... (--tx-in TXID#IX)...
 *       the outputs at the addresses and of the inputs (Cardinal's UTxO
 *       queries) and the balance, in all and per address.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static int ask_tip(const cli_node_opts *o, const cdl_db_genesis *dg, cdl_tip *tip, int64_t *start,
                   cdl_lsq_chain_constants *c, cdl_error *err) {
  cli_session s;
  int rc = cli_session_open(o, &s, err);
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

int query_tip(int argc, char **argv) {
  cli_node_opts o;
  int code = cli_node_opts_parse("query tip", argc, argv, &o, CLI_NODE_NO_FILE);
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
  cdl_buf addr[CDL_LSQ_UTXO_MAX_ADDRESSES];
  cdl_span addrs[CDL_LSQ_UTXO_MAX_ADDRESSES];
  size_t n_addrs;
  cdl_lsq_txin ins[CDL_LSQ_UTXO_MAX_INPUTS];
  size_t n_ins;
} utxo_opts;

/* An address option: its Base58 decoded and checked (CRC, form); a bad
 * one is reported here (exit 1). */
static int take_address(utxo_opts *o, const char *text) {
  if (o->n_addrs == CDL_LSQ_UTXO_MAX_ADDRESSES)
    return cli_usage("query utxo: at most %d addresses", CDL_LSQ_UTXO_MAX_ADDRESSES);
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_address a;
  cdl_buf *b = &o->addr[o->n_addrs];
  cdl_buf_init(b, 0);
  int rc = cdl_byron_address_from_base58(text, b, &ctx, &a);
  cdl_arena_free(&arena);
  if (rc != CDL_OK) {
    cdl_buf_free(b);
    return cli_report(&err);
  }
  o->addrs[o->n_addrs++] = cdl_span_of(b->data, b->len);
  return EXIT_OK;
}

static int parse_utxo(int argc, char **argv, utxo_opts *o) {
  static const struct option LONG[] = {CLI_NODE_LONG_OPTIONS,
                                       {"address", required_argument, 0, 'a'},
                                       {"tx-in", required_argument, 0, 'i'},
                                       {0, 0, 0, 0}};
  optind = 1;
  opterr = 0;
  int c, code = EXIT_OK;
  while (code == EXIT_OK && (c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    int taken = cli_node_opt(c, optarg, &o->node);
    if (taken == 1)
      continue;
    if (taken == 0 && c == 'a')
      code = take_address(o, optarg);
    else if (taken == 0 && c == 'i' && o->n_ins < CDL_LSQ_UTXO_MAX_INPUTS &&
             cli_parse_txin(optarg, o->ins[o->n_ins].tx_id, &o->ins[o->n_ins].index))
      o->n_ins++;
    else
      code = cli_usage("query utxo: bad or unknown option '%s' (TXID#IX; at most %d tx-ins)",
                       argv[optind - 1], CDL_LSQ_UTXO_MAX_INPUTS);
  }
  if (code == EXIT_OK && (optind < argc || o->n_addrs + o->n_ins == 0))
    code = cli_usage("query utxo: --address ADDR or --tx-in TXID#IX (each may repeat)");
  return code == EXIT_OK ? cli_node_opts_finish("query utxo", &o->node) : code;
}

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
  int code = parse_utxo(argc, argv, o);
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
  for (size_t i = 0; i < o->n_addrs; i++)
    cdl_buf_free(&o->addr[i]);
  free(o);
  return code;
}
