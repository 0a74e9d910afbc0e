/*
 * cmd_db.c: `cardinal-cli db` (docs/cli.md, "db"; docs/storage.md): the
 * options and opening shared by every verb, `db import` (validate chunk
 * files and store them) and `db info`. The other verbs are in
 * cmd_db_check.c.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "db.h"

#define BATCH_BLOCKS 256

/* Option keys: above the character range, so none is a short option. */
enum { O_DB = 0x100, O_GENESIS, O_OUT, O_FROM, O_TO, O_TO_SLOT, O_THREADS, O_NO_SIGS, O_ALL, O_THRESHOLD, O_CHUNK };

#define OPT_DB {"db", O_DB, "DIR", 0, "the database directory (required)", 0}
#define OPT_GENESIS \
  {"genesis", O_GENESIS, "FILE", 0, "the genesis (default: DIR/genesis.json)", 0}
/* The identity check (docs/storage.md "Identity files") compares it with
 * the threshold the database was built with. */
#define OPT_THRESHOLD                                                                \
  {"pbft-threshold", O_THRESHOLD, "T", 0,                                           \
   "the PBFT signer threshold, above 0 and at most 1 (default: the one the database was " \
   "built with, else 0.22)", 0}
#define OPT_THREADS {"threads", O_THREADS, "N", 0, "validation threads, 1 to 64 (default: 1)", 0}

static error_t db_option(int key, char *arg, struct argp_state *state) {
  db_opts *o = state->input;
  switch (key) {
  case O_DB: o->db = arg; break;
  case O_GENESIS: o->genesis = arg; break;
  case O_OUT: o->out = arg; break;
  case O_FROM: o->from = cli_arg_u64(state, arg, 0, UINT64_MAX), o->has_from = true; break;
  case O_TO: o->to = cli_arg_u64(state, arg, 0, UINT64_MAX), o->has_to = true; break;
  case O_TO_SLOT: o->to_slot = cli_arg_u64(state, arg, 0, UINT64_MAX), o->has_to_slot = true; break;
  case O_THREADS: o->threads = cli_arg_u64(state, arg, 1, 64); break;
  case O_NO_SIGS: o->no_signatures = true; break;
  case O_ALL: o->validate_all = true; break;
  case O_THRESHOLD: o->pbft_threshold = cli_arg_fraction(state, arg); break;
  case O_CHUNK:
  case ARGP_KEY_ARG:
    if (o->n_chunks == DB_MAX_CHUNKS) argp_error(state, "more than %d chunk files", DB_MAX_CHUNKS);
    o->chunks[o->n_chunks++] = arg;
    break;
  case ARGP_KEY_END:
    if (o->db == NULL) argp_error(state, "--db DIR is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

/* Parses a db verb's options (|ap| lists the ones it takes) into |o|. */
static int db_parse(const struct argp *ap, int argc, char **argv, db_opts *o) {
  memset(o, 0, sizeof *o);
  o->threads = 1;
  return cli_args_parse(ap, argc, argv, o);
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

static const struct argp_option IMPORT_OPTIONS[] = {
    OPT_DB, OPT_GENESIS, OPT_THRESHOLD,
    {"chunk", O_CHUNK, "FILE", 0, "a chunk file to import (or give them as arguments)", 0},
    {"no-signatures", O_NO_SIGS, NULL, 0, "do not check witnesses and block signatures", 0},
    {"validate-all", O_ALL, NULL, 0, "validate every block again, even one already stored", 0},
    {0}};
static const struct argp IMPORT = {
    IMPORT_OPTIONS, db_option, "CHUNK...",
    "Validate chunk files through the Byron ledger and store them in a database (created, "
    "with a copy of the genesis, when new).\v"
    "Example:\n  cardinal-cli db import --db ./db --genesis mainnet-genesis.json 00000.chunk",
    NULL, NULL, NULL};
static const struct argp_option DIR_ONLY_OPTIONS[] = {OPT_DB, OPT_GENESIS, OPT_THRESHOLD, {0}};
static const struct argp INFO = {
    DIR_ONLY_OPTIONS, db_option, NULL,
    "A database's tip, block counts, sizes and ledger snapshots; read only, so it works on a "
    "running node's database.\vExample:\n  cardinal-cli db info --db ./db", NULL, NULL, NULL};
static const struct argp_option VALIDATE_OPTIONS[] = {OPT_DB, OPT_GENESIS, OPT_THRESHOLD, OPT_THREADS, {0}};
static const struct argp VALIDATE = {
    VALIDATE_OPTIONS, db_option, NULL,
    "Check every block and index entry of a database, replaying the chain through the ledger; "
    "read only.\vExample:\n  cardinal-cli db validate --db ./db --threads 2",
    NULL, NULL, NULL};
static const struct argp REPAIR = {
    VALIDATE_OPTIONS, db_option, NULL,
    "Cut a database back to its last good block and rebuild its indexes (takes the owner's "
    "lock: the node must be stopped).\vExample:\n  cardinal-cli db repair --db ./db",
    NULL, NULL, NULL};
static const struct argp_option EXPORT_OPTIONS[] = {
    OPT_DB, OPT_GENESIS, OPT_THRESHOLD,
    {"from", O_FROM, "SLOT", 0, "the first slot (default: 0)", 0},
    {"to", O_TO, "SLOT", 0, "the last slot (default: the tip)", 0},
    {"out", O_OUT, "FILE", 0, "the chunk file to write (required)", 0},
    {0}};
static const struct argp EXPORT = {
    EXPORT_OPTIONS, db_option, NULL,
    "Write the selected chain's blocks in a slot range to one chunk file.\v"
    "Example:\n  cardinal-cli db export --db ./db --from 0 --to 21599 --out epoch0.chunk",
    NULL, NULL, NULL};
static const struct argp_option TRUNCATE_OPTIONS[] = {
    OPT_DB, OPT_GENESIS, OPT_THRESHOLD, {"to-slot", O_TO_SLOT, "N", 0, "the last slot kept (required)", 0}, {0}};
static const struct argp TRUNCATE = {
    TRUNCATE_OPTIONS, db_option, NULL,
    "Drop every block after a slot, and the snapshots past it (takes the owner's lock).\v"
    "Example:\n  cardinal-cli db truncate --db ./db --to-slot 4320",
    NULL, NULL, NULL};

#define DB_VERB(parser, fn)                                        \
  static int run_##fn(int argc, char **argv) {                           \
    db_opts o;                                                           \
    int rc = db_parse(&parser, argc, argv, &o);                          \
    return rc == EXIT_OK ? fn(&o) : rc;                                  \
  }
DB_VERB(IMPORT, db_import)
DB_VERB(INFO, db_info)
DB_VERB(VALIDATE, db_validate)
DB_VERB(REPAIR, db_repair)
DB_VERB(EXPORT, db_export)
DB_VERB(TRUNCATE, db_truncate)

static const cli_verb DB_VERBS[] = {
    {"import", NULL, "validate chunk files and store them", run_db_import},
    {"info", NULL, "tip, block counts, sizes, snapshots", run_db_info},
    {"validate", NULL, "check every block and index entry", run_db_validate},
    {"repair", NULL, "cut back to the last good block, rebuild indexes", run_db_repair},
    {"export", NULL, "a slot range of the chain as a chunk file", run_db_export},
    {"truncate", NULL, "drop every block after a slot", run_db_truncate}};
const cli_noun CLI_DB = CLI_NOUN("db", DB_VERBS);
