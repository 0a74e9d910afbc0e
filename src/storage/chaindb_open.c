/*
 * chaindb_open.c: opening and closing a ChainDB (docs/storage.md, "Opening
 * and recovery"): the check of its settings (db_identity.c), the
 * immutable and volatile DBs (each repairing its own damage), the newest
 * usable ledger snapshot, a replay of the immutable blocks after it, and
 * chain selection over the volatile DB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaindb_internal.h"

static int path_in(const cdl_chaindb *db, const char *name, char *out, cdl_error *err) {
  if ((size_t)snprintf(out, CDB_PATH_MAX, "%s/%s", db->dir, name) >= CDB_PATH_MAX)
    return cdl_error_set(err, CDL_E_USAGE, 0, "database path too long");
  return CDL_OK;
}

/* The settings the database was built with (DIR/genesis.hash,
 * pbft-threshold, requires-network-magic) against this open's: the one
 * check every entry point goes through (db_identity.c). */
static int check_settings(cdl_chaindb *db, cdl_chaindb_report *rep, cdl_error *err) {
  const cdl_ledger_config *l = &db->cfg.ledger;
  cdl_db_identity want = {.pbft_threshold = l->pbft_threshold > 0 ? l->pbft_threshold : 0.22,
                          .requires_magic = l->requires_magic};
  memcpy(want.genesis_hash, db->genesis_hash, 32);
  return cdl_db_identity_check(db->fs, db->dir, &want, db->cfg.advice, db->cfg.read_only,
                               &rep->identity_rewritten, err);
}

static int open_stores(cdl_chaindb *db, cdl_chaindb_report *rep, cdl_error *err) {
  char path[CDB_PATH_MAX];
  uint64_t epoch_slots = cdl_byron_epoch_slots(db->cfg.ledger.k);
  CDL_TRY(path_in(db, "immutable", path, err));
  db->guard = (cdl_snapshot_guard){.fs = db->fs, .dir = db->dir, .k = db->cfg.ledger.k};
  memcpy(db->guard.genesis_hash, db->genesis_hash, 32);
  cdl_immutable_config ic = {.epoch_slots = epoch_slots, .validate_all = db->cfg.validate_all,
                             .read_only = db->cfg.read_only, .check_genesis = true,
                             .before_cut = cdl_snapshots_drop_past, .before_cut_ctx = &db->guard};
  memcpy(ic.genesis_hash, db->genesis_hash, 32);
  CDL_TRY(cdl_immutable_open(db->fs, path, &ic, &db->imm, &rep->immutable, err));
  CDL_TRY(path_in(db, "volatile", path, err));
  cdl_volatile_config vc = {.epoch_slots = epoch_slots, .cache_read_handle = true,
                            .recent_bytes = CDL_VOLATILE_RECENT_BYTES,
                            .read_only = db->cfg.read_only};
  CDL_TRY(cdl_volatile_open(db->fs, path, &vc, &db->vol, err));
  cdl_volatile_stats_get(db->vol, &rep->volatile_db);
  return CDL_OK;
}

static int genesis_ledger(cdl_chaindb *db, cdl_error *err) {
  cdl_ledger *l;
  CDL_TRY(cdl_ledger_new(db->cfg.genesis, &db->cfg.ledger, &l, err));
  cdl_buf_init(&db->genesis_image, 0);
  int rc = cdl_ledger_snapshot_write(l, &db->genesis_image);
  cdl_ledger_del(l);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "cannot image the genesis ledger");
  return CDL_OK;
}

/* The owner makes the directory and locks it before anything is written;
 * a reader only needs it to be there. */
static int take_directory(cdl_chaindb *db, cdl_error *err) {
  if (db->cfg.read_only)
    return db->fs->ops->exists(db->fs, db->dir)
               ? CDL_OK
               : cdl_error_set(err, CDL_E_IO, 0, "no database at %s", db->dir);
  CDL_TRY(db->fs->ops->mkdir(db->fs, db->dir, err));
  return cdl_db_lock(db->fs, db->dir, &db->lock, err);
}

static void apply_defaults(cdl_chaindb_config *c) {
  if (c->snapshot_interval == 0) c->snapshot_interval = cdl_byron_epoch_slots(c->ledger.k); /* an epoch */
  if (c->snapshots_kept == 0) c->snapshots_kept = 2;
  if (c->sync_interval == 0) c->sync_interval = 1000;
}

int cdl_chaindb_open(const cdl_chaindb_config *cfg, cdl_chaindb **out, cdl_chaindb_report *rep,
                     cdl_error *err) {
  cdl_chaindb_report ignored;
  if (rep == NULL) rep = &ignored;
  memset(rep, 0, sizeof *rep);
  if (cfg->dir == NULL || strlen(cfg->dir) >= CDB_DIR_MAX || cfg->genesis == NULL ||
      cfg->ledger.k == 0)
    return cdl_error_set(err, CDL_E_USAGE, 0, "chaindb: a directory, a genesis and k are needed");
  cdl_chaindb *db = calloc(1, sizeof *db);
  if (db == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  db->lock = -1;
  db->cfg = *cfg;
  apply_defaults(&db->cfg);
  snprintf(db->dir, sizeof db->dir, "%s", cfg->dir);
  db->cfg.dir = db->dir;
  db->cfg.genesis = NULL; /* not kept past open */
  cdl_fs_posix_init(&db->posix_fs, cfg->max_open_files);
  db->fs = cfg->fs ? cfg->fs : &db->posix_fs;
  memcpy(db->genesis_hash, cfg->genesis->hash, 32);
  cdl_arena_init(&db->arena, 0);
  cdl_arena_init(&db->parse_arena, 0);
  cdl_buf_init(&db->scratch, 0);
  db->invalid = calloc(CDB_INVALID_MAX, 32);
  int rc = db->invalid ? CDL_OK : cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  if (rc == CDL_OK && cfg->witness_cache > 0 && cfg->ledger.witness_cache == NULL) {
    if (cdl_witness_cache_new(cfg->witness_cache, &db->own_witnesses) != CDL_OK)
      rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
    db->cfg.ledger.witness_cache = db->own_witnesses;
  }
  db->cfg.genesis = cfg->genesis;
  if (rc == CDL_OK) rc = genesis_ledger(db, err);
  db->cfg.genesis = NULL;
  if (rc == CDL_OK) rc = take_directory(db, err);
  if (rc == CDL_OK) rc = check_settings(db, rep, err);
  db->cfg.advice = NULL; /* not kept past open */
  if (rc == CDL_OK) rc = open_stores(db, rep, err);
  if (rc == CDL_OK) rc = cdb_snapshot_open(db, rep, err);
  if (rc == CDL_OK) rc = cdb_select_all(db, &rep->volatile_adopted, err);
  if (rc == CDL_OK && !db->cfg.read_only) rc = cdb_move_immutable(db, err);
  if (rc != CDL_OK) {
    cdl_chaindb_abandon(db);
    return rc;
  }
  *out = db;
  return CDL_OK;
}

void cdl_chaindb_abandon(cdl_chaindb *db) {
  if (db == NULL) return;
  cdl_immutable_close(db->imm);
  cdl_volatile_close(db->vol);
  cdl_ledger_del(db->ledger);
  cdl_witness_cache_del(db->own_witnesses);
  cdb_images_free(db);
  cdl_buf_free(&db->genesis_image);
  cdl_buf_free(&db->scratch);
  cdl_arena_free(&db->arena);
  cdl_arena_free(&db->parse_arena);
  free(db->chain);
  free(db->invalid);
  cdl_db_unlock(db->fs, db->lock); /* last: the files are closed */
  free(db);
}

int cdl_chaindb_close(cdl_chaindb *db, cdl_error *err) {
  if (db == NULL) return CDL_OK;
  if (db->cfg.read_only) {
    cdl_chaindb_abandon(db);
    return CDL_OK;
  }
  int rc = cdl_chaindb_sync(db, err);
  if (rc == CDL_OK) rc = cdl_volatile_sync(db->vol, err);
  if (rc == CDL_OK && db->blocks_since_snapshot > 0) rc = cdb_image_take(db, err);
  cdl_chaindb_abandon(db);
  return rc;
}
