/*
 * chaindb.c: the ChainDB (docs/storage.md, "ChainDB"): opening the three
 * stores under one directory, the selected chain's bookkeeping, reads by
 * point and block number, moving blocks that are k deep into the immutable
 * DB, syncing and closing. Chain selection is in chaindb_select.c,
 * followers in chaindb_follow.c, snapshots in snapshots.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaindb_internal.h"

#define GC_EVERY 256 /* blocks moved to the immutable DB between volatile GCs */

/* ---- The selected chain -------------------------------------------------- */

int cdb_chain_push(cdl_chaindb *db, const cdl_block_info *b) {
  /* The selected chain is a chain, in chain order. */
  CDL_ASSERT(db->n_chain == 0 ||
             (memcmp(b->prev_hash, CHAIN(db, db->n_chain - 1).hash, 32) == 0 &&
              cdb_key(b) > cdb_key(&CHAIN(db, db->n_chain - 1))));
  if (db->off > 0 && db->off >= db->n_chain && db->off + db->n_chain == db->cap_chain) {
    memmove(db->chain, db->chain + db->off, db->n_chain * sizeof *db->chain);
    db->off = 0;
  }
  if (db->off + db->n_chain == db->cap_chain) {
    size_t ncap = db->cap_chain ? 2 * db->cap_chain : 256;
    cdl_block_info *grown = realloc(db->chain, ncap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    db->chain = grown;
    db->cap_chain = ncap;
  }
  db->chain[db->off + db->n_chain++] = *b;
  return CDL_OK;
}

bool cdb_tip(const cdl_chaindb *db, cdl_block_info *tip) {
  if (db->n_chain > 0) return *tip = CHAIN(db, db->n_chain - 1), true;
  return cdl_immutable_tip(db->imm, tip, NULL);
}

long cdb_chain_index(const cdl_chaindb *db, const uint8_t hash[32], long hint) {
  if (hint >= 0 && (size_t)hint < db->n_chain && memcmp(CHAIN(db, hint).hash, hash, 32) == 0)
    return hint;
  for (size_t i = db->n_chain; i-- > 0;)
    if (memcmp(CHAIN(db, i).hash, hash, 32) == 0) return (long)i;
  return -1;
}

bool cdb_on_chain(cdl_chaindb *db, const cdl_block_info *b, long *index) {
  long i = cdb_chain_index(db, b->hash, -1);
  if (index) *index = i;
  if (i >= 0) return true;
  cdl_immutable_pos pos;
  cdl_error ignored = {0};
  return cdl_immutable_find(db->imm, b->slot, b->hash, &pos, NULL, &ignored) == CDL_OK;
}

bool cdb_is_invalid(const cdl_chaindb *db, const uint8_t hash[32]) {
  for (size_t i = 0; i < db->n_invalid; i++)
    if (memcmp(db->invalid[i], hash, 32) == 0) return true;
  return false;
}

void cdb_mark_invalid(cdl_chaindb *db, const uint8_t hash[32]) {
  if (cdb_is_invalid(db, hash)) return;
  memcpy(db->invalid[db->next_invalid], hash, 32);
  db->next_invalid = (db->next_invalid + 1) % CDB_INVALID_MAX;
  if (db->n_invalid < CDB_INVALID_MAX) db->n_invalid++;
}

/* ---- Blocks ------------------------------------------------------------ */

int cdb_read(cdl_chaindb *db, const cdl_block_info *b, cdl_buf *out, cdl_error *err) {
  if (cdl_volatile_info(db->vol, b->hash, NULL)) return cdl_volatile_read(db->vol, b->hash, out, err);
  cdl_immutable_pos pos;
  CDL_TRY(cdl_immutable_find(db->imm, b->slot, b->hash, &pos, NULL, err));
  return cdl_immutable_read(db->imm, pos, out, NULL, err);
}

static void reject_decode(cdl_rejection *rej, const cdl_error *e) {
  memset(rej, 0, sizeof *rej);
  rej->rule = cdl_error_name(e->code);
  snprintf(rej->detail, sizeof rej->detail, "at byte %zu of the block: %.150s", e->offset,
           e->message);
}

int cdb_apply(cdl_chaindb *db, cdl_ledger *l, const uint8_t *bytes, size_t len,
              cdl_rejection *rej, cdl_error *err) {
  cdl_arena_reset(&db->arena); /* never the pending block's */
  cdl_error derr = {0};
  cdl_byron_ctx ctx = {.arena = &db->arena, .err = &derr, .flags = 0};
  cdl_byron_block blk;
  if (cdl_byron_block_decode(bytes, len, &ctx, &blk) != CDL_OK) {
    if (derr.code == CDL_E_NOMEM) return cdl_error_set(err, CDL_E_NOMEM, 0, "%s", derr.message);
    reject_decode(rej, &derr);
    return CDL_E_REJECTED;
  }
  int rc = cdl_ledger_apply_block(l, &blk, rej);
  if (rc == CDL_E_NOMEM) return cdl_error_set(err, rc, 0, "out of memory applying a block");
  return rc;
}

int cdb_apply_block(cdl_chaindb *db, cdl_ledger *l, const uint8_t *hash, cdl_rejection *rej,
                    cdl_error *err) {
  if (db->pending != NULL && memcmp(hash, db->pending_hash, 32) == 0) {
    int rc = cdl_ledger_apply_block(l, db->pending, rej);
    if (rc == CDL_E_NOMEM) return cdl_error_set(err, rc, 0, "out of memory applying a block");
    return rc;
  }
  cdl_buf_reset(&db->scratch);
  CDL_TRY(cdl_volatile_read(db->vol, hash, &db->scratch, err));
  return cdb_apply(db, l, db->scratch.data, db->scratch.len, rej, err);
}

void cdl_chaindb_batch_begin(cdl_chaindb *db) {
  if (!db->cfg.read_only) cdl_volatile_batch_begin(db->vol);
}

int cdl_chaindb_batch_end(cdl_chaindb *db, cdl_error *err) {
  return db->cfg.read_only ? CDL_OK : cdl_volatile_batch_end(db->vol, err);
}

int cdl_chaindb_sync(cdl_chaindb *db, cdl_error *err) {
  if (db->cfg.read_only) return CDL_OK; /* nothing was written */
  db->since_sync = 0;
  CDL_TRY(cdl_immutable_sync(db->imm, err));
  return cdl_volatile_sync(db->vol, err);
}

int cdb_move_immutable(cdl_chaindb *db, cdl_error *err) {
  uint64_t k = db->cfg.ledger.k;
  size_t moved = 0;
  while (db->n_chain > k) {
    const cdl_block_info *b = &CHAIN(db, 0);
    cdl_buf_reset(&db->scratch);
    CDL_TRY(cdl_volatile_read(db->vol, b->hash, &db->scratch, err));
    CDL_TRY(cdl_immutable_append(db->imm, db->scratch.data, db->scratch.len, b, err));
    db->off++;
    db->n_chain--;
    moved++;
  }
  db->since_gc += moved;
  cdl_block_info tip;
  if (db->since_gc >= GC_EVERY && cdl_immutable_tip(db->imm, &tip, NULL)) {
    db->since_gc = 0;
    /* Blocks leave the volatile DB only once the immutable DB's files
     * hold them: its appends are written behind, and a crash in between
     * would take them from both. */
    CDL_TRY(cdl_immutable_flush(db->imm, err));
    return cdl_volatile_gc(db->vol, tip.slot, err);
  }
  return CDL_OK;
}

/* ---- Accessors ----------------------------------------------------------- */

bool cdl_chaindb_tip(const cdl_chaindb *db, cdl_block_info *tip) { return cdb_tip(db, tip); }
bool cdl_chaindb_immutable_tip(const cdl_chaindb *db, cdl_block_info *tip) {
  return cdl_immutable_tip(db->imm, tip, NULL);
}
const cdl_ledger *cdl_chaindb_ledger(const cdl_chaindb *db) { return db->ledger; }
cdl_witness_cache *cdl_chaindb_witness_cache(const cdl_chaindb *db) {
  return db->cfg.ledger.witness_cache;
}
cdl_immutable *cdl_chaindb_immutable(cdl_chaindb *db) { return db->imm; }
cdl_volatile *cdl_chaindb_volatile(cdl_chaindb *db) { return db->vol; }
size_t cdl_chaindb_volatile_length(const cdl_chaindb *db) { return db->n_chain; }

int cdl_chaindb_read_block(cdl_chaindb *db, const cdl_point *p, cdl_buf *out,
                           cdl_block_info *info, cdl_error *err) {
  if (p->origin) return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "the origin is not a block");
  cdl_block_info b;
  if (cdl_volatile_info(db->vol, p->hash, &b)) {
    /* Both must match: the hash under another slot is no block. The
     * immutable look-up below is by both already. */
    if (b.slot != p->slot)
      return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "no block at slot %llu with that hash",
                           (unsigned long long)p->slot);
    if (info) *info = b;
    return cdl_volatile_read(db->vol, p->hash, out, err);
  }
  cdl_immutable_pos pos;
  CDL_TRY(cdl_immutable_find(db->imm, p->slot, p->hash, &pos, NULL, err));
  return cdl_immutable_read(db->imm, pos, out, info, err);
}

int cdl_chaindb_find_block_no(cdl_chaindb *db, uint64_t block_no, cdl_block_info *info,
                              cdl_error *err) {
  cdl_immutable_pos pos;
  cdl_error local = {0};
  int rc = cdl_immutable_find_block_no(db->imm, block_no, &pos, info, &local);
  if (rc != CDL_E_NOT_FOUND) return rc == CDL_OK ? rc : cdl_error_set(err, rc, 0, "%s", local.message);
  for (size_t i = 0; i < db->n_chain; i++)
    if (CHAIN(db, i).block_no == block_no) return *info = CHAIN(db, i), CDL_OK;
  return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "no block number %llu on the selected chain",
                       (unsigned long long)block_no);
}
