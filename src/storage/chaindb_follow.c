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

/* A block handed out: enough to find it again on the selected chain. */
typedef struct trail_entry {
  uint64_t slot;
  uint8_t hash[32];
} trail_entry;

struct cdl_follower {
  cdl_chaindb *db;
  bool at_origin;
  cdl_block_info pos;
  long hint;                 /* last known index in the volatile chain */
  bool has_ipos;
  cdl_immutable_pos ipos;    /* last known immutable position */
  /* The blocks handed out last, oldest first (a ring of at most k + 1,
   * grown as it fills): where to roll back to when the selected chain
   * leaves the position, even after those blocks were collected from the
   * volatile DB. A follower for ranges keeps none (trail_cap 0). */
  trail_entry *trail;
  size_t trail_cap, trail_alloc, trail_len, trail_start;
};

static int follower_new(cdl_chaindb *db, size_t trail_cap, cdl_follower **out, cdl_error *err) {
  cdl_follower *f = calloc(1, sizeof *f);
  if (f == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  f->db = db;
  f->at_origin = true;
  f->hint = -1;
  f->trail_cap = trail_cap;
  *out = f;
  return CDL_OK;
}

int cdl_follower_new(cdl_chaindb *db, cdl_follower **out, cdl_error *err) {
  return follower_new(db, (size_t)db->cfg.ledger.k + 1, out, err);
}

int cdl_follower_new_reader(cdl_chaindb *db, cdl_follower **out, cdl_error *err) {
  return follower_new(db, 0, out, err);
}

void cdl_follower_del(cdl_follower *f) {
  if (f == NULL) return;
  free(f->trail);
  free(f);
}

/* Room for one more entry: the ring doubles, up to trail_cap, while full
 * (laid out again from its oldest entry). false: it stays as it is, and
 * the oldest entry gives way. */
static bool trail_grow(cdl_follower *f) {
  if (f->trail_alloc == f->trail_cap) return false;
  size_t n = f->trail_alloc ? f->trail_alloc * 2 : 64;
  if (n > f->trail_cap) n = f->trail_cap;
  trail_entry *t = malloc(n * sizeof *t);
  if (t == NULL) return false;
  for (size_t i = 0; i < f->trail_len; i++)
    t[i] = f->trail[(f->trail_start + i) % f->trail_alloc];
  free(f->trail);
  f->trail = t;
  f->trail_alloc = n;
  f->trail_start = 0;
  return true;
}

static void trail_push(cdl_follower *f, const cdl_block_info *b) {
  if (f->trail_len == f->trail_alloc && !trail_grow(f) && f->trail_alloc == 0) return;
  trail_entry *e = &f->trail[(f->trail_start + f->trail_len) % f->trail_alloc];
  e->slot = b->slot;
  memcpy(e->hash, b->hash, 32);
  if (f->trail_len < f->trail_alloc) f->trail_len++;
  else f->trail_start = (f->trail_start + 1) % f->trail_alloc;
}

/* The block of entry |e| if the selected chain still holds it. */
static bool trail_on_chain(cdl_follower *f, const trail_entry *e, cdl_block_info *out) {
  cdl_chaindb *db = f->db;
  long i = cdb_chain_index(db, e->hash, f->hint);
  if (i >= 0 && CHAIN(db, i).slot == e->slot) return *out = CHAIN(db, i), true;
  cdl_immutable_pos pos;
  cdl_error ignored = {0};
  return cdl_immutable_find(db->imm, e->slot, e->hash, &pos, NULL, &ignored) == CDL_OK &&
         cdl_immutable_info(db->imm, pos, out, &ignored) == CDL_OK;
}

/* The newest block of the trail still on the selected chain; the trail is
 * cut after it. */
static bool trail_back(cdl_follower *f, cdl_block_info *out) {
  while (f->trail_len > 0) {
    const trail_entry *e = &f->trail[(f->trail_start + f->trail_len - 1) % f->trail_alloc];
    if (memcmp(e->hash, f->pos.hash, 32) != 0 && trail_on_chain(f, e, out)) return true;
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

/* Moves |probe| to the block |p| names on the selected chain; false in
 * *on_chain when there is none. A point is a slot and a hash: a stored
 * block's hash under another slot names no block, or a peer could have us
 * echo a slot the chain does not have (the Haskell node's points are
 * equal only when both are). *index as locate() gives it. */
static int probe_point(cdl_follower *probe, const cdl_point *p, long *index, bool *on_chain,
                       cdl_error *err) {
  cdl_immutable_pos ipos;
  probe->at_origin = false;
  probe->has_ipos = false;
  probe->pos.slot = p->slot;
  memcpy(probe->pos.hash, p->hash, 32);
  CDL_TRY(locate(probe, index, &ipos, on_chain, err));
  if (!*on_chain) return CDL_OK;
  if (*index >= 0) probe->pos = CHAIN(probe->db, *index);
  else CDL_TRY(cdl_immutable_info(probe->db->imm, ipos, &probe->pos, err));
  *on_chain = probe->pos.slot == p->slot;
  return CDL_OK;
}

int cdl_follower_intersect(cdl_follower *f, const cdl_point *points, size_t n,
                           cdl_point *found, bool *found_any, cdl_error *err) {
  *found_any = false;
  for (size_t i = 0; i < n; i++) {
    cdl_follower probe = *f;
    long index = -1;
    bool on_chain = true;
    if (points[i].origin) {
      probe.at_origin = true;
      probe.has_ipos = false;
    } else {
      CDL_TRY(probe_point(&probe, &points[i], &index, &on_chain, err));
    }
    if (!on_chain) continue;
    *f = probe;
    f->trail_len = 0; /* a new position: the old trail says nothing about it */
    if (index >= 0) trail_push(f, &f->pos);
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
  if (block && ipos) CDL_TRY(cdl_immutable_read(f->db->imm, *ipos, block, NULL, err));
  else if (block) CDL_TRY(cdb_read(f->db, b, block, err));
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
    CDL_TRY(cdl_immutable_info(db->imm, first, info, err));
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
  CDL_TRY(locate(f, &index, &ipos, &on_chain, err));
  if (!on_chain) {
    *kind = CDL_FOLLOW_BACKWARD;
    return roll_back(f, to);
  }
  if (index < 0 && cdl_immutable_next(db->imm, &ipos)) {
    CDL_TRY(cdl_immutable_info(db->imm, ipos, info, err));
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
