/*
 * db_dir.c: a database directory, the ChainDB with the genesis it was
 * created with beside it (include/cardinal/storage.h "A database
 * directory"; docs/storage.md "Layout"): a setting not given is the one
 * the directory records (docs/storage.md "Identity files"). Shared by the
 * CLI's db and sync commands and by cardinal-node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cardinal/storage.h"

#define PATH_BYTES 4200

void cdl_db_genesis_init(cdl_db_genesis *dg) {
  memset(dg, 0, sizeof *dg);
  cdl_buf_init(&dg->text, 0);
  cdl_arena_init(&dg->arena, 0);
}

void cdl_db_genesis_free(cdl_db_genesis *dg) {
  cdl_arena_free(&dg->arena);
  cdl_buf_free(&dg->text);
}

/* The genesis is the one the config names by hash (genesis_hash). */
static int check_genesis_hash(const char *file, const cdl_byron_genesis *g, const uint8_t *want,
                              cdl_error *err) {
  if (want == NULL || memcmp(want, g->hash, 32) == 0) return CDL_OK;
  char got_hex[65], want_hex[65];
  cdl_hex_encode(g->hash, 32, got_hex);
  cdl_hex_encode(want, 32, want_hex);
  /* Hashes by their first digits: the message is bounded (CDL_ERROR_MESSAGE_MAX). */
  return cdl_error_set(err, CDL_E_GENESIS, 0,
                       "genesis.hash_mismatch: %s hashes to %.16s..., the config says %.16s...",
                       file, got_hex, want_hex);
}

int cdl_db_genesis_load(const cdl_db_dir_options *o, cdl_db_genesis *dg, cdl_error *err) {
  char path[PATH_BYTES];
  const char *file = o->genesis;
  if (file == NULL) {
    snprintf(path, sizeof path, "%s/genesis.json", o->dir);
    file = path;
  }
  CDL_TRY(cdl_byron_genesis_load_file(file, CDL_DB_GENESIS_MAX, &dg->text, &dg->arena, &dg->g,
                                      err));
  return check_genesis_hash(file, &dg->g, o->genesis_hash, err);
}

/* What DIR records; nothing when it cannot be read (the open then meets
 * the failure itself). */
static cdl_db_identity recorded_settings(const char *dir) {
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_db_identity id;
  cdl_error ignored = {0};
  if (cdl_db_identity_read(&fs, dir, &id, &ignored) != CDL_OK) memset(&id, 0, sizeof id);
  return id;
}

double cdl_db_threshold(const char *dir, double given) {
  if (given > 0) return given;
  cdl_db_identity id = recorded_settings(dir);
  return id.has_threshold ? id.pbft_threshold : 0;
}

cdl_ledger_config cdl_db_ledger_config(const cdl_db_dir_options *o, const cdl_byron_genesis *g) {
  cdl_db_identity id = recorded_settings(o->dir);
  bool magic = o->requires_magic != 0 ? o->requires_magic > 0
               : id.has_magic         ? id.requires_magic
                                      : cdl_byron_requires_magic(g->protocol_magic);
  double threshold = o->pbft_threshold > 0 ? o->pbft_threshold
                     : id.has_threshold    ? id.pbft_threshold
                                           : 0;
  return (cdl_ledger_config){.protocol_magic = g->protocol_magic,
                             .requires_magic = magic,
                             .k = g->k,
                             .pbft_threshold = threshold,
                             .flags = o->no_signatures ? CDL_LEDGER_NO_SIGNATURES : 0};
}

/* Keeps the genesis next to the data so later commands need only DIR. */
static int keep_genesis_copy(const cdl_db_dir_options *o, const cdl_db_genesis *dg,
                             cdl_error *err) {
  char path[PATH_BYTES];
  snprintf(path, sizeof path, "%s/genesis.json", o->dir);
  struct stat st;
  if (stat(path, &st) == 0) return CDL_OK;
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  return cdl_fs_write_file_atomic(&fs, o->dir, path, dg->text.data, dg->text.len, err);
}

int cdl_db_dir_open(const cdl_db_dir_options *o, cdl_db_genesis *dg, cdl_chaindb **db,
                    cdl_chaindb_report *rep, cdl_error *err) {
  cdl_db_genesis_init(dg);
  *db = NULL;
  struct stat st;
  if (!o->create && stat(o->dir, &st) != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "no database at %s", o->dir);
  int rc = cdl_db_genesis_load(o, dg, err);
  if (rc != CDL_OK) return rc;
  cdl_chaindb_config cfg = {.dir = o->dir,
                            .genesis = &dg->g,
                            .ledger = cdl_db_ledger_config(o, &dg->g),
                            .validate_all = o->validate_all,
                            .read_only = o->read_only && !o->create,
                            .sync_interval = o->sync_interval,
                            .witness_cache = o->witness_cache,
                            .advice = o->advice};
  rc = cdl_chaindb_open(&cfg, db, rep, err);
  if (rc == CDL_OK && o->create) rc = keep_genesis_copy(o, dg, err);
  return rc;
}
