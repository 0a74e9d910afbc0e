/*
 * chaindb_follow.c: followers of the selected chain (docs/storage.md,
 * "Followers"), what a chain-sync server walks: from an intersection,
 * roll forward block by block over the immutable DB and then the volatile
 * part of the selected chain; when a fork switch has taken the follower's
 * position off the selected chain, roll backward to the newest point the
 * two chains share.
 */
#include <stdlib.h>
#include <string.h>

#include "chaindb_internal.h"

struct cdl_follower {
  cdl_chaindb *db;
  bool at_origin;
  cdl_block_info pos;
  long hint;                 /* last known index in the volatile chain */
  bool has_ipos;
  cdl_immutable_pos ipos;    /* last known immutable position */
  /* The blocks handed out last, oldest first (a ring of up to k + 1,
   * grown as blocks are handed out): where to roll back to when the
   * selected chain leaves the position, even after those blocks were
   * collected from the volatile DB. */
  cdl_block_info *trail;
  size_t trail_cap, trail_len, trail_start;
};

int cdl_follower_new(cdl_chaindb *db, cdl_follower **out, cdl_error *err) {
  cdl_follower *f = calloc(1, sizeof *f);
  if (f == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  f->db = db;
  f->at_origin = true;
  f->hint = -1;
  *out = f;
  return CDL_OK;
}

void cdl_follower_del(cdl_follower *f) {
  if (f == NULL) return;
  free(f->trail);
  free(f);
}

/* Room for one more block in the trail. It grows with the blocks handed
 * out, up to k + 1, so that a follower's memory follows what it walked and
 * not k (docs/genesis.md "Bounds"): a follower per peer. */
static int trail_reserve(cdl_follower *f, cdl_error *err) {
  size_t max = (size_t)f->db->cfg.ledger.k + 1;
  if (f->trail_len < f->trail_cap || f->trail_cap == max) return CDL_OK;
  size_t cap = f->trail_cap ? 2 * f->trail_cap : 64;
  if (cap > max) cap = max;
  cdl_block_info *grown = malloc(cap * sizeof *grown);
  if (grown == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory for a follower");
  for (size_t i = 0; i < f->trail_len; i++)
    grown[i] = f->trail[(f->trail_start + i) % f->trail_cap];
  free(f->trail);
  f->trail = grown;
  f->trail_cap = cap;
  f->trail_start = 0;
  return CDL_OK;
}

/* After trail_reserve. */
static void trail_push(cdl_follower *f, const cdl_block_info *b) {
  size_t at = (f->trail_start + f->trail_len) % f->trail_cap;
  f->trail[at] = *b;
  if (f->trail_len < f->trail_cap) f->trail_len++;
  else f->trail_start = (f->trail_start + 1) % f->trail_cap;
}

/* The newest block of the trail still on the selected chain; the trail is
 * cut after it. */
static bool trail_back(cdl_follower *f, cdl_block_info *out) {
  while (f->trail_len > 0) {
    const cdl_block_info *b = &f->trail[(f->trail_start + f->trail_len - 1) % f->trail_cap];
    long index;
    if (memcmp(b->hash, f->pos.hash, 32) != 0 && cdb_on_chain(f->db, b, &index)) {
      *out = *b;
      return true;
    }
    f->trail_len--;
  }
  return false;
}

/* Where the follower's position is on the selected chain: *index >= 0 in
 * the volatile part, or an immutable position. false when it is not on it. */
static int locate(cdl_follower *f, long *index, cdl_immutable_pos *ipos, bool *found,
                  cdl_error *err) {
  cdl_chaindb *db = f->db;
  cdl_block_info b;
  /* The last immutable position first: walking the immutable part must
   * not scan the volatile chain at every step. A failure to look (no file
   * handle, damage) is an error, never "not on the chain". */
  *index = -1;
  *found = true;
  if (f->has_ipos) {
    cdl_error local = {0};
    int rc = cdl_immutable_info(db->imm, f->ipos, &b, &local);
    if (rc != CDL_OK && rc != CDL_E_NOT_FOUND) return cdl_error_set(err, rc, 0, "%s", local.message);
    if (rc == CDL_OK && memcmp(b.hash, f->pos.hash, 32) == 0) return *ipos = f->ipos, CDL_OK;
  }
  *index = cdb_chain_index(db, f->pos.hash, f->hint);
  if (*index >= 0) return f->hint = *index, CDL_OK;
  cdl_error local = {0};
  int rc = cdl_immutable_find(db->imm, f->pos.slot, f->pos.hash, ipos, NULL, &local);
  if (rc == CDL_E_NOT_FOUND) return *found = false, CDL_OK;
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "%s", local.message);
  f->ipos = *ipos;
  f->has_ipos = true;
  return CDL_OK;
}

static void set_point(cdl_point *p, const cdl_block_info *b) {
  p->origin = b == NULL;
  p->slot = b ? b->slot : 0;
  if (b) memcpy(p->hash, b->hash, 32);
  else memset(p->hash, 0, 32);
}

int cdl_follower_intersect(cdl_follower *f, const cdl_point *points, size_t n,
                           cdl_point *found, bool *found_any, cdl_error *err) {
  *found_any = false;
  for (size_t i = 0; i < n; i++) {
    cdl_follower probe = *f;
    probe.at_origin = points[i].origin;
    probe.has_ipos = false;
    probe.pos.slot = points[i].slot;
    memcpy(probe.pos.hash, points[i].hash, 32);
    long index;
    cdl_immutable_pos ipos;
    bool on_chain = true;
    if (!points[i].origin) TRY_CDB(locate(&probe, &index, &ipos, &on_chain, err));
    if (!on_chain) continue;
    if (!points[i].origin && index >= 0) probe.pos = CHAIN(f->db, index);
    else if (!points[i].origin) cdl_immutable_info(f->db->imm, ipos, &probe.pos, err);
    *f = probe;
    f->trail_len = 0; /* a new position: the old trail says nothing about it */
    if (!points[i].origin && index >= 0) {
      TRY_CDB(trail_reserve(f, err));
      trail_push(f, &f->pos);
    }
    *found = points[i];
    *found_any = true;
    return CDL_OK;
  }
  return CDL_OK;
}

/* Rolls back to the newest ancestor of the position on the selected chain:
 * walking back through stored blocks (blocks moved to the immutable DB stay
 * in the volatile DB until collected) to one on the volatile chain or in
 * the immutable DB. */
static int roll_back(cdl_follower *f, cdl_point *to) {
  cdl_chaindb *db = f->db;
  cdl_block_info cur = f->pos, anchor;
  if (trail_back(f, &cur)) {
    f->pos = cur;
    f->has_ipos = false;
    set_point(to, &f->pos);
    return CDL_OK;
  }
  cur = f->pos;
  bool has_anchor = cdl_immutable_tip(db->imm, &anchor, NULL);
  cdl_immutable_pos ipos;
  cdl_error ignored = {0};
  for (size_t steps = 0; steps < 4 * db->cfg.ledger.k + 16; steps++) {
    if (memcmp(cur.prev_hash, db->genesis_hash, 32) == 0) {
      f->at_origin = true;
      set_point(to, NULL);
      return CDL_OK;
    }
    long i = cdb_chain_index(db, cur.prev_hash, -1);
    if (i >= 0) {
      f->pos = CHAIN(db, i);
      set_point(to, &f->pos);
      return CDL_OK;
    }
    if (!cdl_volatile_info(db->vol, cur.prev_hash, &cur)) break;
    if (cdl_immutable_find(db->imm, cur.slot, cur.hash, &ipos, NULL, &ignored) == CDL_OK) {
      f->pos = cur;
      f->ipos = ipos;
      f->has_ipos = true;
      set_point(to, &f->pos);
      return CDL_OK;
    }
  }
  /* Nothing stored links back: the immutable tip is an ancestor of every
   * selected block. */
  f->at_origin = !has_anchor;
  if (has_anchor) f->pos = anchor;
  set_point(to, has_anchor ? &f->pos : NULL);
  return CDL_OK;
}

/* Reports |b| as the next block; |ipos| is its immutable position, or
 * NULL for a volatile block. */
static int forward(cdl_follower *f, const cdl_block_info *b, const cdl_immutable_pos *ipos,
                   cdl_follow_kind *kind, cdl_block_info *info, cdl_buf *block,
                   cdl_error *err) {
  if (block && ipos) TRY_CDB(cdl_immutable_read(f->db->imm, *ipos, block, NULL, err));
  else if (block) TRY_CDB(cdb_read(f->db, b, block, err));
  TRY_CDB(trail_reserve(f, err));
  trail_push(f, b);
  f->pos = *b;
  f->at_origin = false;
  *info = *b;
  *kind = CDL_FOLLOW_FORWARD;
  return CDL_OK;
}

/* The first block of the selected chain, for a follower at the origin. */
static int from_origin(cdl_follower *f, cdl_follow_kind *kind, cdl_block_info *info,
                       cdl_buf *block, cdl_error *err) {
  cdl_chaindb *db = f->db;
  if (cdl_immutable_count(db->imm) > 0) {
    cdl_immutable_pos first = {0, 0};
    TRY_CDB(cdl_immutable_info(db->imm, first, info, err));
    f->ipos = first;
    f->has_ipos = true;
    return forward(f, info, &first, kind, info, block, err);
  }
  if (db->n_chain == 0) return CDL_OK; /* an empty chain: await */
  f->hint = 0;
  cdl_block_info b = CHAIN(db, 0);
  return forward(f, &b, NULL, kind, info, block, err);
}

int cdl_follower_next(cdl_follower *f, cdl_follow_kind *kind, cdl_block_info *info,
                      cdl_point *to, cdl_buf *block, cdl_error *err) {
  cdl_chaindb *db = f->db;
  *kind = CDL_FOLLOW_AWAIT;
  if (f->at_origin) return from_origin(f, kind, info, block, err);
  long index;
  cdl_immutable_pos ipos;
  bool on_chain;
  TRY_CDB(locate(f, &index, &ipos, &on_chain, err));
  if (!on_chain) {
    *kind = CDL_FOLLOW_BACKWARD;
    return roll_back(f, to);
  }
  if (index < 0 && cdl_immutable_next(db->imm, &ipos)) {
    TRY_CDB(cdl_immutable_info(db->imm, ipos, info, err));
    f->ipos = ipos;
    f->has_ipos = true;
    return forward(f, info, &ipos, kind, info, block, err);
  }
  size_t next = (size_t)(index + 1);
  if (next >= db->n_chain) return CDL_OK; /* at the tip */
  f->hint = (long)next;
  cdl_block_info b = CHAIN(db, next);
  return forward(f, &b, NULL, kind, info, block, err);
}

size_t cdl_chaindb_known_points(cdl_chaindb *db, cdl_point *out, size_t max) {
  cdl_block_info tip, b;
  size_t n = 0;
  if (max == 0 || !cdl_chaindb_tip(db, &tip)) return 0;
  for (uint64_t back = 0; n < max; back = back ? back * 2 : 1) {
    if (back > tip.block_no) back = tip.block_no;
    cdl_error err = {0}; /* a number not found is skipped */
    if (cdl_chaindb_find_block_no(db, tip.block_no - back, &b, &err) == CDL_OK) {
      out[n] = (cdl_point){.slot = b.slot};
      memcpy(out[n++].hash, b.hash, 32);
    }
    if (back == tip.block_no) break;
  }
  return n;
}
