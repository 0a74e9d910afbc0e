/*
 * cmd_db.c: `cardinal-cli db` (docs/cli.md, "db"; docs/storage.md): the
 * options and opening shared by every verb, `db import` (validate chunk
 * files and store them) and `db info`. The other verbs are in
 * cmd_db_check.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "db.h"

#define BATCH_BLOCKS 256

int db_parse_opts(int argc, char **argv, db_opts *o) {
  static const struct option LONG[] = {
      {"db", required_argument, 0, 'd'},      {"genesis", required_argument, 0, 'g'},
      {"out", required_argument, 0, 'o'},     {"from", required_argument, 0, 'f'},
      {"to", required_argument, 0, 't'},      {"to-slot", required_argument, 0, 's'},
      {"threads", required_argument, 0, 'j'}, {"no-signatures", no_argument, 0, 'n'},
      {"validate-all", no_argument, 0, 'v'},  {"pbft-threshold", required_argument, 0, 'p'},
      {"chunk", required_argument, 0, 'c'},   {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  o->threads = 1;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'd')
      o->db = optarg;
    else if (c == 'g')
      o->genesis = optarg;
    else if (c == 'o')
      o->out = optarg;
    else if (c == 'f' && cli_parse_u64(optarg, 0, UINT64_MAX, &o->from))
      o->has_from = true;
    else if (c == 't' && cli_parse_u64(optarg, 0, UINT64_MAX, &o->to))
      o->has_to = true;
    else if (c == 's' && cli_parse_u64(optarg, 0, UINT64_MAX, &o->to_slot))
      o->has_to_slot = true;
    else if (c == 'j' && cli_parse_u64(optarg, 1, 64, &o->threads))
      continue;
    else if (c == 'n')
      o->no_signatures = true;
    else if (c == 'v')
      o->validate_all = true;
    else if (c == 'p' && cli_parse_fraction(optarg, &o->pbft_threshold))
      continue;
    else if (c == 'c' && o->n_chunks < DB_MAX_CHUNKS)
      o->chunks[o->n_chunks++] = optarg;
    else
      return cli_usage("db: bad or unknown option '%s'", argv[optind - 1]);
  }
  for (; optind < argc && o->n_chunks < DB_MAX_CHUNKS; optind++)
    o->chunks[o->n_chunks++] = argv[optind];
  if (optind < argc) return cli_usage("db: more than %d chunk files", DB_MAX_CHUNKS);
  if (o->db == NULL) return cli_usage("db: --db DIR is required");
  return EXIT_OK;
}

/* How the db commands name their settings when refusing a database built
 * with others (docs/storage.md "Identity files"): they give only a
 * genesis and a threshold, each by its option. */
static const cdl_db_advice DB_ADVICE = {.genesis = {"--genesis", "use --genesis"},
                                        .threshold = {"--pbft-threshold", "use --pbft-threshold"},
                                        .db_option = "--db"};

cdl_db_dir_options db_dir_options(const db_opts *o, db_mode mode) {
  return (cdl_db_dir_options){.dir = o->db,
                              .genesis = o->genesis,
                              .genesis_hash = o->genesis_hash,
                              .pbft_threshold = o->pbft_threshold,
                              .requires_magic = o->requires_magic,
                              .advice = o->advice ? o->advice : &DB_ADVICE,
                              .no_signatures = o->no_signatures,
                              .validate_all = o->validate_all,
                              .create = mode == DB_CREATE,
                              .read_only = mode == DB_READ_ONLY,
                              .sync_interval = o->sync_interval};
}

void db_genesis_init(db_genesis *dg) { cdl_db_genesis_init(dg); }
void db_genesis_free(db_genesis *dg) { cdl_db_genesis_free(dg); }

int db_genesis_load(const db_opts *o, db_genesis *dg, cdl_error *err) {
  cdl_db_dir_options d = db_dir_options(o, DB_READ_ONLY);
  return cdl_db_genesis_load(&d, dg, err);
}

cdl_ledger_config db_ledger_config(const db_opts *o, const cdl_byron_genesis *g) {
  cdl_db_dir_options d = db_dir_options(o, DB_READ_ONLY);
  return cdl_db_ledger_config(&d, g);
}

int db_open(const db_opts *o, db_genesis *dg, db_mode mode, cdl_chaindb **db,
            cdl_chaindb_report *rep, cdl_error *err) {
  cdl_db_dir_options d = db_dir_options(o, mode);
  return cdl_db_dir_open(&d, dg, db, rep, err);
}

json_t *db_block_json(const cdl_block_info *b, uint64_t k) {
  return json_pack("{s:o,s:o,s:o,s:o,s:b}", "slot", cdl_json_u64(b->slot), "hash",
                   cdl_json_hex(b->hash, 32), "block_no", cdl_json_u64(b->block_no), "epoch",
                   cdl_json_u64(b->slot / cdl_byron_epoch_slots(k)), "ebb", b->is_ebb);
}

/* What the open found: damage (problem, truncated_bytes, removed_chunks,
 * damaged_files, dropped_bytes) apart from the residue a crash leaves
 * (torn_bytes, empty_chunks; docs/storage.md "Crash residue"). */
json_t *db_report_json(const cdl_chaindb_report *rep) {
  const cdl_immutable_report *im = &rep->immutable;
  const cdl_volatile_stats *v = &rep->volatile_db;
  json_t *imm = json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:I}", "chunks", (json_int_t)im->chunks,
                          "blocks", (json_int_t)im->blocks, "indexes_rebuilt",
                          (json_int_t)im->indexes_rebuilt, "truncated_bytes",
                          (json_int_t)im->truncated_bytes, "removed_chunks",
                          (json_int_t)im->removed_chunks, "problem", im->problem, "torn_bytes",
                          (json_int_t)im->torn_bytes, "empty_chunks", (json_int_t)im->empty_chunks);
  json_t *vol = json_pack("{s:I,s:I,s:I}", "damaged_files", (json_int_t)v->damaged_files,
                          "dropped_bytes", (json_int_t)v->dropped_bytes, "torn_bytes",
                          (json_int_t)v->torn_bytes);
  return json_pack("{s:o,s:o,s:s?,s:I,s:I,s:I,s:I}", "immutable", imm, "volatile", vol,
                   "snapshot", rep->snapshot[0] ? rep->snapshot : NULL, "snapshots_skipped",
                   (json_int_t)rep->snapshots_skipped, "replayed_blocks",
                   (json_int_t)rep->replayed_blocks, "immutable_truncated",
                   (json_int_t)rep->immutable_truncated, "volatile_adopted",
                   (json_int_t)rep->volatile_adopted);
}

/* ---- db import ---------------------------------------------------------- */

typedef struct import_counts {
  uint64_t adopted, stored, duplicate, too_old, bytes;
} import_counts;

static int import_chunk(cdl_chaindb *db, const char *path, import_counts *n, cdl_rejection *rej,
                        cdl_error *err) {
  cdl_chunk_reader *r;
  int rc = cdl_chunk_reader_open(path, &r, err);
  if (rc != CDL_OK) return rc;
  cdl_span spans[BATCH_BLOCKS];
  size_t got;
  while (rc == CDL_OK &&
         (rc = cdl_chunk_reader_next(r, spans, NULL, BATCH_BLOCKS, &got, err)) == CDL_OK && got) {
    /* Blocks read together reach the OS in one write (docs/storage.md
     * "Durability"). */
    cdl_chaindb_batch_begin(db);
    for (size_t i = 0; i < got && rc == CDL_OK; i++) {
      cdl_chaindb_add_result res;
      rc = cdl_chaindb_add_block(db, spans[i].ptr, spans[i].len, &res, rej, err);
      if (rc != CDL_OK) break;
      n->bytes += spans[i].len;
      if (res.outcome == CDL_ADD_INVALID)
        rc = CDL_E_REJECTED;
      else if (res.outcome == CDL_ADD_ADOPTED)
        n->adopted++;
      else if (res.outcome == CDL_ADD_STORED)
        n->stored++;
      else if (res.outcome == CDL_ADD_DUPLICATE)
        n->duplicate++;
      else
        n->too_old++;
    }
    cdl_error end_err = {0};
    int ended = cdl_chaindb_batch_end(db, &end_err);
    if (ended != CDL_OK) rc = cdl_error_set(err, ended, 0, "%s", end_err.message);
  }
  cdl_chunk_reader_close(r);
  return rc;
}

static json_t *import_json(cdl_chaindb *db, const import_counts *n, uint64_t k, double seconds) {
  cdl_block_info tip, imm;
  bool has_tip = cdl_chaindb_tip(db, &tip), has_imm = cdl_chaindb_immutable_tip(db, &imm);
  return json_pack(
      "{s:I,s:I,s:I,s:I,s:o,s:o,s:I,s:I,s:f,s:f,s:f}", "adopted", (json_int_t)n->adopted, "stored",
      (json_int_t)n->stored, "duplicate", (json_int_t)n->duplicate, "too_old",
      (json_int_t)n->too_old, "tip", has_tip ? db_block_json(&tip, k) : json_null(),
      "immutable_tip", has_imm ? db_block_json(&imm, k) : json_null(), "immutable_blocks",
      (json_int_t)cdl_immutable_count(cdl_chaindb_immutable(db)), "volatile_blocks",
      (json_int_t)cdl_chaindb_volatile_length(db), "seconds", seconds, "blocks_per_second",
      seconds > 0 ? (double)(n->adopted + n->stored) / seconds : 0.0, "mb_per_second",
      seconds > 0 ? (double)n->bytes / 1e6 / seconds : 0.0);
}

int db_import(const db_opts *opts) {
  if (opts->n_chunks == 0) return cli_usage("db import: at least one chunk file is needed");
  /* An import interrupted is simply run again: one fsync at the end. */
  db_opts o_sync = *opts;
  o_sync.sync_interval = UINT64_MAX;
  const db_opts *o = &o_sync;
  db_genesis dg;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  int rc = db_open(o, &dg, DB_CREATE, &db, NULL, &err);
  import_counts n = {0};
  cdl_rejection rej = {0};
  double start = cli_now_seconds();
  for (size_t i = 0; i < o->n_chunks && rc == CDL_OK; i++)
    rc = import_chunk(db, o->chunks[i], &n, &rej, &err);
  double seconds = cli_now_seconds() - start;
  int exit_code = EXIT_OK;
  if (rc == CDL_E_REJECTED)
    exit_code = cli_report_rejection(&rej, cdl_chaindb_ledger(db));
  else if (rc != CDL_OK)
    exit_code = cli_report(&err);
  json_t *out = db && rc != CDL_E_IO ? import_json(db, &n, dg.g.k, seconds) : NULL;
  if (db && cdl_chaindb_close(db, &err) != CDL_OK && exit_code == EXIT_OK)
    exit_code = cli_report(&err);
  if (out && exit_code == EXIT_OK)
    exit_code = cli_print(out, false);
  else
    json_decref(out);
  db_genesis_free(&dg);
  return exit_code;
}

/* ---- db info ------------------------------------------------------------ */

static int list_snapshot(void *ctx, const char *name) {
  if (strncmp(name, "snapshot-", 9) == 0 && strstr(name, ".lsnap") != NULL)
    json_array_append_new((json_t *)ctx, json_string(name));
  return CDL_OK;
}

int db_info(const db_opts *o) {
  db_genesis dg;
  cdl_chaindb *db = NULL;
  cdl_chaindb_report rep;
  cdl_error err = {0};
  int rc = db_open(o, &dg, DB_READ_ONLY, &db, &rep, &err);
  if (rc != CDL_OK) {
    cdl_chaindb_abandon(db);
    db_genesis_free(&dg);
    return cli_report(&err);
  }
  cdl_block_info tip, imm;
  bool has_tip = cdl_chaindb_tip(db, &tip), has_imm = cdl_chaindb_immutable_tip(db, &imm);
  cdl_volatile_stats vs;
  cdl_volatile_stats_get(cdl_chaindb_volatile(db), &vs);
  json_t *snaps = json_array();
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/ledger", o->db);
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  fs.ops->list(&fs, dir, list_snapshot, snaps, NULL);
  cdl_immutable *im = cdl_chaindb_immutable(db);
  json_t *out =
      json_pack("{s:o,s:{s:o,s:I,s:I},s:{s:I,s:I,s:I,s:I},s:o,s:o}", "tip",
                has_tip ? db_block_json(&tip, dg.g.k) : json_null(), "immutable", "tip",
                has_imm ? db_block_json(&imm, dg.g.k) : json_null(), "blocks",
                (json_int_t)cdl_immutable_count(im), "bytes", (json_int_t)cdl_immutable_bytes(im),
                "volatile", "blocks", (json_int_t)vs.blocks, "files", (json_int_t)vs.files, "bytes",
                (json_int_t)vs.bytes, "selected", (json_int_t)cdl_chaindb_volatile_length(db),
                "snapshots", snaps, "opened", db_report_json(&rep));
  cdl_chaindb_abandon(db); /* read only: no shutdown snapshot */
  db_genesis_free(&dg);
  return cli_print(out, false);
}

int cmd_db(int argc, char **argv) {
  static const struct {
    const char *verb;
    int (*run)(const db_opts *);
  } VERBS[] = {{"import", db_import}, {"info", db_info},     {"validate", db_validate},
               {"repair", db_repair}, {"export", db_export}, {"truncate", db_truncate}};
  if (argc < 2) return cli_usage("db: expected import, info, validate, repair, export or truncate");
  for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++) {
    if (strcmp(argv[1], VERBS[i].verb) != 0) continue;
    db_opts o;
    int rc = db_parse_opts(argc - 1, argv + 1, &o);
    return rc == EXIT_OK ? VERBS[i].run(&o) : rc;
  }
  return cli_usage("db: unknown verb '%s'", argv[1]);
}
