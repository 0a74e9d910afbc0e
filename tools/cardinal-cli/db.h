/*
 * db.h: what the `db` commands and `chain validate --db` share
 * (docs/cli.md, "db"): their options, and opening a ChainDB with the
 * genesis kept in the database directory.
 */
#ifndef CARDINAL_CLI_DB_H
#define CARDINAL_CLI_DB_H

#include "cardinal/storage.h"
#include "cli.h"

#define DB_MAX_CHUNKS 4096

typedef struct db_opts {
  const char *db, *genesis, *out;
  const char *chunks[DB_MAX_CHUNKS];
  size_t n_chunks;
  double pbft_threshold;
  bool no_signatures, validate_all;
  bool has_from, has_to, has_to_slot;
  uint64_t from, to, to_slot, threads;
  uint64_t sync_interval;  /* 0: the ChainDB's default */
  /* What sync takes from a node config (cdl_db_dir_options): the hash
   * the genesis must have, the magic policy, and a refusal's words (NULL:
   * the db commands' own). */
  const uint8_t *genesis_hash;
  int requires_magic;
  const cdl_db_advice *advice;
} db_opts;

/* The genesis a database was created with, loaded. */
typedef cdl_db_genesis db_genesis;

void db_genesis_init(db_genesis *dg);
/* Loads --genesis, or DIR/genesis.json when it is not given (after
 * db_genesis_init). */
int db_genesis_load(const db_opts *o, db_genesis *dg, cdl_error *err);
void db_genesis_free(db_genesis *dg);
/* How a command opens a database (docs/storage.md "One owner per
 * database"): a command that only reads never takes the owner's lock and
 * never changes a byte, so it works on a live node's database; one that
 * writes takes the lock, and is refused while another process holds it. */
typedef enum db_mode { DB_READ_ONLY, DB_WRITE, DB_CREATE } db_mode;

/* The library's database-directory options for these command options. */
cdl_db_dir_options db_dir_options(const db_opts *o, db_mode mode);
/* The ledger configuration for the database (threshold as above). */
cdl_ledger_config db_ledger_config(const db_opts *o, const cdl_byron_genesis *g);
/* Opens the ChainDB of --db (creating it, and keeping a copy of the
 * genesis file in it, with DB_CREATE). |dg| is initialised here and must
 * be freed by the caller whatever the result. */
int db_open(const db_opts *o, db_genesis *dg, db_mode mode, cdl_chaindb **db,
            cdl_chaindb_report *rep, cdl_error *err);
json_t *db_block_json(const cdl_block_info *b, uint64_t k);
json_t *db_report_json(const cdl_chaindb_report *rep);

int db_import(const db_opts *o);
int db_info(const db_opts *o);
int db_validate(const db_opts *o);
int db_repair(const db_opts *o);
int db_export(const db_opts *o);
int db_truncate(const db_opts *o);

#endif /* CARDINAL_CLI_DB_H */
