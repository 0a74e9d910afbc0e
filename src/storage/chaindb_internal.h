/*
 * chaindb_internal.h: the ChainDB's state (docs/storage.md, "ChainDB"),
 * shared by chaindb.c, chaindb_select.c, chaindb_follow.c and snapshots.c.
 * Not public API.
 */
#ifndef CARDINAL_STORAGE_CHAINDB_INTERNAL_H
#define CARDINAL_STORAGE_CHAINDB_INTERNAL_H

#include "cardinal/storage.h"

#define CDB_PATH_MAX 4096
#define CDB_DIR_MAX 3900
#define CDB_IMAGES 2          /* ledger images kept in memory */
#define CDB_INVALID_MAX 4096  /* remembered invalid block hashes */
#define CDB_MAX_CANDIDATES 64 /* fork paths weighed per selection */

/* A ledger image's bytes (a snapshot mapped from its file, or in memory),
 * shared by the images kept and the ledgers read from them, which go on
 * reading their UTxO entries there (cdl_ledger_snapshot_adopt): freed
 * with the last holder. */
typedef struct cdb_view {
  cdl_fs_view view;
  unsigned refs;
} cdb_view;

/* A ledger image at a point of the chain. */
typedef struct cdb_image {
  bool used, at_genesis;
  cdl_block_info point;
  cdb_view *view;
  uint64_t tick;
} cdb_image;

struct cdl_chaindb {
  cdl_fs posix_fs, *fs;
  int lock;                 /* the owner's lock (cdl_db_lock); -1: none */
  char dir[CDB_DIR_MAX];
  cdl_chaindb_config cfg;
  uint8_t genesis_hash[32];
  cdl_buf genesis_image;    /* the ledger at genesis */
  cdl_immutable *imm;
  cdl_snapshot_guard guard; /* what a cut of imm removes first */
  cdl_volatile *vol;
  cdl_ledger *ledger;       /* at the tip of the selected chain */
  cdl_witness_cache *own_witnesses; /* cfg.witness_cache's, freed at close */
  /* The selected chain after the immutable tip, oldest first: chain[off]
   * to chain[off + n_chain - 1] (CHAIN(db, i)); off grows as blocks move
   * to the immutable DB and is compacted now and then. */
  cdl_block_info *chain;
  size_t off, n_chain, cap_chain;
  uint64_t generation;      /* bumped on every fork switch (followers) */
  cdb_image images[CDB_IMAGES];
  uint64_t image_tick;
  uint64_t blocks_since_snapshot, since_sync, since_gc;
  uint8_t (*invalid)[32];   /* a ring of refused block hashes */
  size_t n_invalid, next_invalid;
  cdl_arena arena;          /* a stored block decoded to be applied again */
  cdl_arena parse_arena;    /* the block cdl_chaindb_add_block parses */
  /* The block being added, parsed once where it entered (the caller's
   * cdl_parsed_block): applied from here, never re-read. Set only while
   * chain selection runs for it. */
  const cdl_byron_block *pending;
  uint8_t pending_hash[32];
  cdl_buf scratch;
};

#define CHAIN(db, i) ((db)->chain[(db)->off + (i)])

/* Orders points along one chain: an EBB comes after the main block whose
 * number it repeats. */
static inline uint64_t cdb_key(const cdl_block_info *b) {
  return 2 * b->block_no + (b->is_ebb ? 1 : 0);
}

/* chaindb.c */
/* Appends a block to the selected chain (memory only). */
int cdb_chain_push(cdl_chaindb *db, const cdl_block_info *b);
bool cdb_tip(const cdl_chaindb *db, cdl_block_info *tip);
int cdb_read(cdl_chaindb *db, const cdl_block_info *b, cdl_buf *out, cdl_error *err);
/* Applies one stored block to |l|: the pending block as it is when |hash|
 * names it, any other read back and decoded. */
int cdb_apply_block(cdl_chaindb *db, cdl_ledger *l, const uint8_t *hash, cdl_rejection *rej,
                    cdl_error *err);
int cdb_apply(cdl_chaindb *db, cdl_ledger *l, const uint8_t *bytes, size_t len,
              cdl_rejection *rej, cdl_error *err);
/* Moves blocks more than k deep to the immutable DB. */
int cdb_move_immutable(cdl_chaindb *db, cdl_error *err);
bool cdb_is_invalid(const cdl_chaindb *db, const uint8_t hash[32]);
void cdb_mark_invalid(cdl_chaindb *db, const uint8_t hash[32]);
/* Position of |hash| in the selected volatile chain, or -1. */
long cdb_chain_index(const cdl_chaindb *db, const uint8_t hash[32], long hint);
/* Whether a point is on the selected chain (immutable or volatile part). */
bool cdb_on_chain(cdl_chaindb *db, const cdl_block_info *b, long *index);

/* chaindb_select.c */
/* Chain selection from the immutable tip over everything in the volatile
 * DB (at open), or after |added| arrived. */
int cdb_select_all(cdl_chaindb *db, uint64_t *adopted, cdl_error *err);
/* The ledger at a point of the selected chain (NULL: the genesis), rebuilt
 * from the newest image before it and a replay. */
int cdb_ledger_at(cdl_chaindb *db, const cdl_block_info *point, cdl_ledger **out,
                  cdl_error *err);

/* snapshots.c */
/* A ledger from |v|'s image (NULL: the genesis image), holding |v|. */
int cdb_ledger_of(cdl_chaindb *db, cdb_view *v, cdl_ledger **out, cdl_error *err);
int cdb_image_take(cdl_chaindb *db, cdl_error *err);  /* of the tip; also written to disk */
int cdb_snapshot_open(cdl_chaindb *db, cdl_chaindb_report *rep, cdl_error *err);
void cdb_images_free(cdl_chaindb *db);
/* Loads into memory the newest snapshot on disk at or before |target| on
 * the selected chain, if there is one (for a fork older than every image). */
int cdb_disk_image_before(cdl_chaindb *db, const cdl_block_info *target, cdl_error *err);

#endif /* CARDINAL_STORAGE_CHAINDB_INTERNAL_H */
