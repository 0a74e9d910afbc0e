/*
 * cmd_block.c: `cardinal-cli block show|list` (docs/cli.md): one block
 * with its proofs and signature checked, or every block of a chunk file.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cli.h"

#define DEFAULT_EPOCH_SLOTS 21600

typedef struct {
  const char *file;
  uint64_t epoch_slots;
  bool has_magic;
  uint64_t magic;
} block_opts;

static int parse_opts(int argc, char **argv, block_opts *o) {
  static const struct option LONG[] = {{"epoch-slots", required_argument, 0, 'e'},
                                       {"protocol-magic", required_argument, 0, 'm'},
                                       {0, 0, 0, 0}};
  int c;
  *o = (block_opts){NULL, DEFAULT_EPOCH_SLOTS, false, 0};
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'e' && cli_parse_u64(optarg, 1, UINT32_MAX, &o->epoch_slots)) continue;
    if (c == 'm' && cli_parse_u64(optarg, 0, UINT32_MAX, &o->magic)) {
      o->has_magic = true;
      continue;
    }
    return cli_usage("block: bad or unknown option '%s'", argv[optind - 1]);
  }
  if (optind + 1 != argc) return cli_usage("block: expected exactly one FILE");
  o->file = argv[optind];
  return EXIT_OK;
}

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
      exit_code = cli_print(cdl_byron_block_summary_json(&blk, o->epoch_slots, offset,
                                                         cur.pos - offset), true);
  }
  if (rc != CDL_OK) exit_code = cli_report(&err);
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return exit_code;
}

int cmd_block(int argc, char **argv) {
  if (argc < 2) return cli_usage("block: expected 'show' or 'list'");
  block_opts o;
  const char *verb = argv[1];
  int rc = parse_opts(argc - 1, argv + 1, &o);
  if (rc != EXIT_OK) return rc;
  if (strcmp(verb, "show") == 0) return block_show(&o);
  if (strcmp(verb, "list") == 0) return block_list(&o);
  return cli_usage("block: unknown verb '%s'", verb);
}
