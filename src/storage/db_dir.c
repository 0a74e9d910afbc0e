/*
 * db_dir.c: a database directory, the ChainDB with the genesis it was
 * created with beside it (include/cardinal/storage.h "A database
 * directory"; docs/storage.md "Layout"). Shared by the CLI's db and sync
 * commands and by cardinal-node.
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

int cdl_db_genesis_load(const cdl_db_dir_options *o, cdl_db_genesis *dg, cdl_error *err) {
  char path[PATH_BYTES];
  const char *file = o->genesis;
  if (file == NULL) {
    snprintf(path, sizeof path, "%s/genesis.json", o->dir);
    file = path;
  }
  return cdl_byron_genesis_load_file(file, CDL_DB_GENESIS_MAX, &dg->text, &dg->arena, &dg->g, err);
}

double cdl_db_threshold(const char *dir, double given) {
  if (given > 0) return given;
  char path[PATH_BYTES], text[32] = {0};
  snprintf(path, sizeof path, "%s/pbft-threshold", dir);
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = '\0';
  char *end = NULL;
  double t = strtod(text, &end);
  /* A damaged file falls back to the default rather than to nonsense. */
  if (n == 0 || end == text || *end != '\0' || !(t > 0 && t <= 1)) return 0;
  return t;
}

cdl_ledger_config cdl_db_ledger_config(const cdl_db_dir_options *o, const cdl_byron_genesis *g) {
  bool magic =
      o->requires_magic != 0 ? o->requires_magic > 0 : cdl_byron_requires_magic(g->protocol_magic);
  return (cdl_ledger_config){.protocol_magic = g->protocol_magic,
                             .requires_magic = magic,
                             .k = g->k,
                             .pbft_threshold = cdl_db_threshold(o->dir, o->pbft_threshold),
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
                            .sync_interval = o->sync_interval};
  rc = cdl_chaindb_open(&cfg, db, rep, err);
  if (rc == CDL_OK && o->create) rc = keep_genesis_copy(o, dg, err);
  return rc;
}
