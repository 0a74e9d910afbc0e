/*
 * cmd_block.c: `cardinal-cli block show|list|verify` (docs/cli.md
 * "block"): one block with its proofs and signature checked, every block
 * of a chunk file, or a chunk file's links, proofs and signatures.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cardinal/byron_json.h"
#include "cli.h"

#define DEFAULT_EPOCH_SLOTS 21600

typedef struct {
  const char *file;
  const char *genesis; /* verify: the first block must follow this genesis */
  uint64_t epoch_slots;
  bool has_magic;
  uint64_t magic;
} block_opts;

/* Option keys: above the character range, so none is a short option. */
enum { O_EPOCH_SLOTS = 0x100, O_MAGIC, O_GENESIS };

static error_t block_option(int key, char *arg, struct argp_state *state) {
  block_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT: *o = (block_opts){NULL, NULL, DEFAULT_EPOCH_SLOTS, false, 0}; break;
  case O_EPOCH_SLOTS: o->epoch_slots = cli_arg_u64(state, arg, 1, UINT32_MAX); break;
  case O_MAGIC: o->magic = cli_arg_u64(state, arg, 0, UINT32_MAX), o->has_magic = true; break;
  case O_GENESIS: o->genesis = arg; break;
  case ARGP_KEY_ARG:
    if (o->file != NULL) argp_error(state, "one FILE only, not also '%s'", arg);
    o->file = arg;
    break;
  case ARGP_KEY_END:
    if (o->file == NULL) argp_error(state, "FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

#define OPT_EPOCH_SLOTS                                                                         \
  {"epoch-slots", O_EPOCH_SLOTS, "N", 0,                                                        \
   "slots per epoch (10 k of the network's genesis), for absolute slots (default: 21600, "   \
   "mainnet's)", 0}
#define OPT_MAGIC                                                                               \
  {"protocol-magic", O_MAGIC, "N", 0,                                                           \
   "the magic signatures are checked with (default: the block header's own)", 0}

static int block_show(const block_opts *o) {
  cdl_buf data;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_block blk;
  cdl_buf_init(&data, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  int rc = cli_read_input(o->file, &data, &err);
  if (rc == CDL_OK) rc = cdl_byron_block_decode(data.data, data.len, &ctx, &blk);
  int exit_code;
  if (rc != CDL_OK) {
    exit_code = cli_report(&err);
  } else {
    /* Signatures are checked with --protocol-magic, or the header's own. */
    uint32_t magic = o->has_magic ? (uint32_t)o->magic
                     : blk.is_ebb ? (uint32_t)blk.ebb.protocol_magic
                                  : blk.header.protocol_magic;
    cdl_error check_err = {0};
    cdl_byron_block_checks checks = {
        cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_ALL, &arena, &check_err) == CDL_OK,
        cdl_byron_block_check_signature(&blk, magic, NULL, &check_err) == CDL_OK};
    exit_code = cli_print(cdl_byron_block_json(&blk, o->epoch_slots, &checks), false);
  }
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return exit_code;
}

static int block_list(const block_opts *o) {
  cdl_buf data;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_buf_init(&data, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  int rc = cli_read_input(o->file, &data, &err), exit_code = EXIT_OK;
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data.data, data.len, &err);
  while (rc == CDL_OK && cdl_cbor_remaining(&cur) > 0 && exit_code == EXIT_OK) {
    cdl_byron_block blk;
    size_t offset = cur.pos;
    cdl_arena_reset(&arena);
    rc = cdl_byron_block_read(&cur, &ctx, &blk);
    if (rc == CDL_OK)
      exit_code = cli_print(
          cdl_byron_block_summary_json(&blk, o->epoch_slots, offset, cur.pos - offset), true);
  }
  if (rc != CDL_OK) exit_code = cli_report(&err);
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return exit_code;
}

/* ---- block verify: a whole chunk file ---- */

typedef struct {
  size_t blocks, ebbs, txs;
  uint8_t tip[32];
  bool have_tip;
  uint64_t tip_slot, tip_block_no;
} verify_totals;

/* Loads the genesis hash that the first block must point to, if asked. */
static int expected_first_prev(const block_opts *o, verify_totals *v, cdl_error *err) {
  if (o->genesis == NULL) return CDL_OK;
  int rc = cdl_byron_genesis_hash_file(o->genesis, CLI_MAX_INPUT, v->tip, err);
  v->have_tip = rc == CDL_OK;
  return rc;
}

/* One block: the link to the previous one, body proofs, signature. */
static int verify_one(const cdl_byron_block *blk, const block_opts *o, verify_totals *v,
                      cdl_arena *arena, cdl_byron_cert_cache *cache, cdl_error *err) {
  if (v->have_tip && memcmp(cdl_byron_block_prev_hash(blk), v->tip, 32) != 0)
    return cdl_error_set(err, CDL_E_PREV_HASH, 0,
                         "previous hash does not link to the block before");
  uint32_t magic = o->has_magic  ? (uint32_t)o->magic
                   : blk->is_ebb ? (uint32_t)blk->ebb.protocol_magic
                                 : blk->header.protocol_magic;
  int rc = cdl_byron_block_check_body_proof(blk, CDL_BYRON_PROOFS_ALL, arena, err);
  if (rc == CDL_OK) rc = cdl_byron_block_check_signature(blk, magic, cache, err);
  if (rc != CDL_OK) return rc;
  memcpy(v->tip, cdl_byron_block_hash(blk), 32);
  v->have_tip = true;
  v->blocks++;
  v->ebbs += blk->is_ebb;
  v->txs += blk->is_ebb ? 0 : blk->body.n_txs;
  v->tip_block_no = cdl_byron_block_number(blk);
  if (cdl_byron_block_slot(blk, o->epoch_slots, &v->tip_slot) != CDL_OK) v->tip_slot = UINT64_MAX;
  return CDL_OK;
}

static json_t *verify_summary(const verify_totals *v, size_t bytes, double seconds) {
  return json_pack("{s:I,s:I,s:I,s:I,s:{s:o,s:o,s:o},s:I,s:f,s:f,s:f}", "blocks",
                   (json_int_t)v->blocks, "ebbs", (json_int_t)v->ebbs, "main_blocks",
                   (json_int_t)(v->blocks - v->ebbs), "txs", (json_int_t)v->txs, "tip", "hash",
                   v->blocks ? cdl_json_hex(v->tip, 32) : json_null(), "slot",
                   cdl_json_u64(v->tip_slot), "block_no", cdl_json_u64(v->tip_block_no), "bytes",
                   (json_int_t)bytes, "seconds", seconds, "blocks_per_second",
                   seconds > 0 ? v->blocks / seconds : 0.0, "mb_per_second",
                   seconds > 0 ? bytes / seconds / 1e6 : 0.0);
}

/* Prefixes the error with the failing block's index and file offset. */
static void name_block(cdl_error *err, size_t index, size_t offset) {
  char msg[CDL_ERROR_MESSAGE_MAX];
  int n = snprintf(msg, sizeof msg, "block %zu at offset %zu: ", index, offset);
  size_t len = strlen(err->message), room = sizeof msg - (size_t)n - 1;
  if (len > room) len = room;
  memcpy(msg + n, err->message, len);
  msg[(size_t)n + len] = '\0';
  memcpy(err->message, msg, (size_t)n + len + 1);
  if (err->offset < offset) err->offset = offset; /* checks report no offset */
}

static int block_verify(const block_opts *o) {
  cdl_buf data;
  cdl_error err = {0};
  cdl_arena arena;
  cdl_byron_cert_cache cache = {0};
  verify_totals v = {0};
  cdl_buf_init(&data, 0);
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  int rc = cli_read_input(o->file, &data, &err);
  if (rc == CDL_OK) rc = expected_first_prev(o, &v, &err);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data.data, data.len, &err);
  double start = cli_now_seconds();
  size_t offset = 0;
  while (rc == CDL_OK && cdl_cbor_remaining(&cur) > 0) {
    cdl_byron_block blk;
    offset = cur.pos;
    cdl_arena_reset(&arena);
    rc = cdl_byron_block_read(&cur, &ctx, &blk);
    if (rc == CDL_OK) rc = verify_one(&blk, o, &v, &arena, &cache, &err);
  }
  int exit_code;
  if (rc != CDL_OK) {
    name_block(&err, v.blocks, offset);
    exit_code = cli_report(&err);
  } else {
    exit_code = cli_print(verify_summary(&v, data.len, cli_now_seconds() - start), false);
  }
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return exit_code;
}

static const struct argp_option SHOW_OPTIONS[] = {OPT_EPOCH_SLOTS, OPT_MAGIC, {0}};
static const struct argp SHOW = {
    SHOW_OPTIONS, block_option, "FILE",
    "One block (bare or wrapped, binary or hex) as JSON: header, transactions, payloads, and "
    "whether its body proofs and signature check.\v"
    "Example:\n  cardinal-cli block show block.cbor --epoch-slots 21600",
    NULL, NULL, NULL};
static const struct argp_option LIST_OPTIONS[] = {OPT_EPOCH_SLOTS, {0}};
static const struct argp LIST = {
    LIST_OPTIONS, block_option, "FILE",
    "Every block of a chunk file (wrapped blocks back to back), one JSON line each: offset, "
    "size, kind, hash, previous hash, slot, block number, transaction count.\v"
    "Example:\n  cardinal-cli block list 00000.chunk",
    NULL, NULL, NULL};
static const struct argp_option VERIFY_OPTIONS[] = {
    {"genesis", O_GENESIS, "FILE", 0,
     "the genesis the first block must follow (default: the first block is not linked)", 0},
    OPT_MAGIC, OPT_EPOCH_SLOTS, {0}};
static const struct argp VERIFY = {
    VERIFY_OPTIONS, block_option, "FILE",
    "Every block of a chunk file decoded, linked to the one before, its body proofs and "
    "signature checked (the ledger rules come with `chain validate`).\v"
    "Example:\n  cardinal-cli block verify 00000.chunk --genesis mainnet-byron-genesis.json",
    NULL, NULL, NULL};

#define BLOCK_VERB(parser, fn)                                                                  \
  static int run_##fn(int argc, char **argv) {                                                  \
    block_opts o;                                                                               \
    int rc = cli_args_parse(&parser, argc, argv, &o);                                           \
    return rc == EXIT_OK ? fn(&o) : rc;                                                         \
  }
BLOCK_VERB(SHOW, block_show)
BLOCK_VERB(LIST, block_list)
BLOCK_VERB(VERIFY, block_verify)

static const cli_verb BLOCK_VERBS[] = {
    {"show", NULL, "one block, its proofs and signature checked", run_block_show},
    {"list", NULL, "every block of a chunk file, a line each", run_block_list},
    {"verify", NULL, "a chunk file's links, proofs and signatures", run_block_verify}};
const cli_noun CLI_BLOCK = CLI_NOUN("block", BLOCK_VERBS);
