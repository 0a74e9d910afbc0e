/*
 * chaindb_select.c: chain selection (docs/storage.md, "Chain selection";
 * ouroboros-consensus ChainSel for PBFT). A new block is joined to the
 * selected chain through its predecessors in the volatile DB; every
 * maximal path of stored successors after it is a candidate. Candidates
 * are weighed best first (block number, then ending in an EBB): one that
 * extends the tip is applied to the tip's ledger block by block; one that
 * forks at most k blocks back is applied to the ledger rebuilt at the fork
 * point and adopted only if its valid prefix beats the current chain. A
 * block the ledger refuses is remembered as invalid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaindb_internal.h"

typedef struct node {
  cdl_block_info info;
  long parent;
} node;

typedef struct tree {
  node *nodes;
  size_t n, cap;
} tree;

static int tree_push(tree *t, const cdl_block_info *b, long parent) {
  if (t->n == t->cap) {
    size_t ncap = t->cap ? 2 * t->cap : 64;
    node *grown = realloc(t->nodes, ncap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    t->nodes = grown;
    t->cap = ncap;
  }
  t->nodes[t->n++] = (node){*b, parent};
  return CDL_OK;
}

/* Every stored, not-invalid descendant of |start| (breadth first). */
static int grow_tree(cdl_chaindb *db, const cdl_block_info *start, tree *t) {
  CDL_TRY(tree_push(t, start, -1));
  uint8_t next[16][32];
  for (size_t i = 0; i < t->n; i++) {
    size_t n = cdl_volatile_successors(db->vol, t->nodes[i].info.hash, next, 16);
    for (size_t j = 0; j < n && j < 16; j++) {
      cdl_block_info b;
      if (cdb_is_invalid(db, next[j]) || !cdl_volatile_info(db->vol, next[j], &b)) continue;
      CDL_TRY(tree_push(t, &b, (long)i));
    }
  }
  return CDL_OK;
}

/* ---- Joining a block to the selected chain ------------------------------ */

typedef struct join {
  long fork;               /* chain index the new blocks follow; -1: the immutable tip */
  cdl_block_info *back;    /* stored ancestors of the block after the fork, oldest first */
  size_t n_back;
  bool invalid_ancestor;
} join;

static const uint8_t *root_hash(const cdl_chaindb *db, cdl_block_info *anchor) {
  return cdl_immutable_tip(db->imm, anchor, NULL) ? anchor->hash : db->genesis_hash;
}

/* Walks back from |b| through the volatile DB to the selected chain.
 * *joined false when an ancestor is missing or lies deeper than the
 * chain; CDL_E_NOMEM apart (once read as "not connected": the block was
 * stored and reported so, but never selected). */
static int join_chain(cdl_chaindb *db, const cdl_block_info *b, join *j, bool *joined) {
  cdl_block_info anchor, cur = *b;
  const uint8_t *root = root_hash(db, &anchor);
  size_t cap = 0, limit = db->n_chain + 4 * db->cfg.ledger.k + 16;
  memset(j, 0, sizeof *j);
  *joined = true;
  for (;;) {
    if (memcmp(cur.prev_hash, root, 32) == 0) return j->fork = -1, CDL_OK;
    long i = cdb_chain_index(db, cur.prev_hash, -1);
    if (i >= 0) return j->fork = i, CDL_OK;
    if (j->n_back >= limit || !cdl_volatile_info(db->vol, cur.prev_hash, &cur))
      return *joined = false, CDL_OK;
    if (cdb_is_invalid(db, cur.hash)) j->invalid_ancestor = true;
    if (j->n_back == cap) {
      cap = cap ? 2 * cap : 16;
      cdl_block_info *grown = realloc(j->back, cap * sizeof *grown);
      if (grown == NULL) return CDL_E_NOMEM;
      j->back = grown;
    }
    j->back[j->n_back++] = cur;
  }
}

/* ---- The ledger at a fork point ------------------------------------------ */

static const cdb_image *best_image(cdl_chaindb *db, const cdl_block_info *target) {
  const cdb_image *best = NULL;
  for (size_t i = 0; i < CDB_IMAGES; i++) {
    const cdb_image *im = &db->images[i];
    if (!im->used || (target && cdb_key(&im->point) > cdb_key(target)) ||
        (best && cdb_key(&im->point) <= cdb_key(&best->point)))
      continue;
    if (target == NULL || !cdb_on_chain(db, &im->point, NULL)) continue;
    best = im;
  }
  return best;
}

static int apply_stored(cdl_chaindb *db, cdl_ledger *l, const cdl_block_info *b, cdl_error *err) {
  cdl_rejection rej;
  cdl_buf_reset(&db->scratch);
  CDL_TRY(cdb_read(db, b, &db->scratch, err));
  int rc = cdb_apply(db, l, db->scratch.data, db->scratch.len, &rej, err);
  if (rc == CDL_E_REJECTED)
    return cdl_error_set(err, CDL_E_CHECKSUM, 0, "a stored block no longer applies: %s", rej.rule);
  return rc;
}

/* Applies the selected chain's blocks after |from| (NULL: the origin) up
 * to and including |to| (NULL: the genesis, nothing to do). */
static int replay_between(cdl_chaindb *db, cdl_ledger *l, const cdl_block_info *from,
                          const cdl_block_info *to, cdl_error *err) {
  if (to == NULL || (from && memcmp(from->hash, to->hash, 32) == 0)) return CDL_OK;
  long from_index = from ? cdb_chain_index(db, from->hash, -1) : -1;
  if (from_index < 0 && cdl_immutable_count(db->imm) > 0) {
    cdl_immutable_pos pos = {0, 0};
    bool more = true;
    if (from) {
      CDL_TRY(cdl_immutable_find(db->imm, from->slot, from->hash, &pos, NULL, err));
      more = cdl_immutable_next(db->imm, &pos);
    }
    for (; more; more = cdl_immutable_next(db->imm, &pos)) {
      cdl_block_info b;
      CDL_TRY(cdl_immutable_info(db->imm, pos, &b, err));
      CDL_TRY(apply_stored(db, l, &b, err));
      if (memcmp(b.hash, to->hash, 32) == 0) return CDL_OK;
    }
  }
  for (size_t i = (size_t)(from_index + 1); i < db->n_chain; i++) {
    CDL_TRY(apply_stored(db, l, &CHAIN(db, i), err));
    if (memcmp(CHAIN(db, i).hash, to->hash, 32) == 0) return CDL_OK;
  }
  return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "fork point not on the selected chain");
}

int cdb_ledger_at(cdl_chaindb *db, const cdl_block_info *point, cdl_ledger **out,
                  cdl_error *err) {
  const cdb_image *im = best_image(db, point);
  if (im == NULL && point != NULL) {
    CDL_TRY(cdb_disk_image_before(db, point, err));
    im = best_image(db, point);
  }
  CDL_TRY(cdb_ledger_of(db, im ? im->view : NULL, out, err));
  cdl_ledger_set_flags(*out, db->cfg.ledger.flags | CDL_LEDGER_NO_SIGNATURES);
  int rc = replay_between(db, *out, im ? &im->point : NULL, point, err);
  cdl_ledger_set_flags(*out, db->cfg.ledger.flags);
  if (rc != CDL_OK) {
    cdl_ledger_del(*out);
    *out = NULL;
  }
  return rc;
}

/* ---- Weighing candidates --------------------------------------------------- */

typedef struct selection {
  const uint8_t *new_hash;  /* the block that triggered it */
  cdl_rejection *rej;       /* filled if that block is refused */
  bool new_invalid;
  bool refused;             /* the candidate being tried hit a refused block */
  size_t start_n;           /* the selected chain's length when it began */
  uint64_t adopted, rollback;
} selection;

static uint64_t tip_key(const cdl_chaindb *db) {
  cdl_block_info tip;
  return cdb_tip(db, &tip) ? cdb_key(&tip) : 0;
}

/* Applies |b| to |l|; a refusal marks the block invalid (and reports it
 * when it is the new block). 1 when applied, 0 when refused. */
static int apply_candidate_block(cdl_chaindb *db, cdl_ledger *l, const cdl_block_info *b,
                                 selection *sel, cdl_error *err) {
  cdl_rejection rej;
  int rc = cdb_apply_block(db, l, b->hash, &rej, err);
  if (rc == CDL_OK) return 1;
  if (rc != CDL_E_REJECTED) return rc;
  cdb_mark_invalid(db, b->hash);
  sel->refused = true;
  if (sel->new_hash && memcmp(sel->new_hash, b->hash, 32) == 0) {
    sel->new_invalid = true;
    if (sel->rej) *sel->rej = rej;
  }
  return 0;
}

/* A candidate that extends the tip: every block applied is an improvement. */
static int extend_tip(cdl_chaindb *db, const cdl_block_info *cand, size_t n, selection *sel,
                      cdl_error *err) {
  for (size_t i = 0; i < n; i++) {
    int r = apply_candidate_block(db, db->ledger, &cand[i], sel, err);
    if (r < 0) return r;
    if (r == 0) break;
    CDL_ASSERT(cdb_key(&cand[i]) > tip_key(db)); /* extending is improving */
    if (cdb_chain_push(db, &cand[i]) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
    sel->adopted++;
    db->blocks_since_snapshot++;
  }
  return CDL_OK;
}

/* A candidate that forks |depth| blocks back from the tip. */
static int switch_fork(cdl_chaindb *db, long fork, const cdl_block_info *cand, size_t n,
                       selection *sel, cdl_error *err) {
  /* The bound is on what the chain as it stood before this selection
   * loses: blocks adopted earlier in the same selection are not k deep. */
  uint64_t depth = sel->start_n - 1 - (uint64_t)fork;
  if (fork < -1 || (size_t)(fork + 1) > sel->start_n || depth > db->cfg.ledger.k)
    return CDL_OK; /* beyond the rollback bound */
  cdl_ledger *l;
  cdl_block_info anchor;
  const cdl_block_info *at = fork >= 0 ? &CHAIN(db, fork)
                             : cdl_immutable_tip(db->imm, &anchor, NULL) ? &anchor : NULL;
  CDL_TRY(cdb_ledger_at(db, at, &l, err));
  size_t applied = 0;
  for (; applied < n; applied++) {
    int r = apply_candidate_block(db, l, &cand[applied], sel, err);
    if (r < 0) return cdl_ledger_del(l), r;
    if (r == 0) break;
  }
  if (applied == 0 || cdb_key(&cand[applied - 1]) <= tip_key(db)) {
    cdl_ledger_del(l);
    return CDL_OK;
  }
  uint64_t old_key = tip_key(db);
  cdl_ledger_del(db->ledger);
  db->ledger = l;
  db->n_chain = (size_t)(fork + 1);
  for (size_t i = 0; i < applied; i++)
    if (cdb_chain_push(db, &cand[i]) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  /* The switch lands where it said, on a better chain, within k. */
  CDL_ASSERT(tip_key(db) == cdb_key(&cand[applied - 1]) && tip_key(db) > old_key &&
             depth <= db->cfg.ledger.k);
  db->generation++;
  db->blocks_since_snapshot += applied;
  sel->adopted += applied;
  /* Counted against the chain before this selection: a second switch in
   * the same selection forks at the same point. */
  if (depth > sel->rollback) sel->rollback = depth;
  return CDL_OK;
}

static int by_key_desc(const void *a, const void *b) {
  uint64_t x = cdb_key(&((const node *)a)->info), y = cdb_key(&((const node *)b)->info);
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The candidate ending at leaf |leaf|: the join's blocks, then the path. */
static int build_candidate(const join *j, const tree *t, size_t leaf, cdl_block_info **out,
                           size_t *n) {
  size_t len = 0;
  for (long i = (long)leaf; i >= 0; i = t->nodes[i].parent) len++;
  cdl_block_info *c = malloc((j->n_back + len) * sizeof *c);
  if (c == NULL) return CDL_E_NOMEM;
  for (size_t i = 0; i < j->n_back; i++) c[i] = j->back[j->n_back - 1 - i];
  size_t at = j->n_back + len;
  for (long i = (long)leaf; i >= 0; i = t->nodes[i].parent) c[--at] = t->nodes[i].info;
  *out = c;
  *n = j->n_back + len;
  return CDL_OK;
}

/* Leaves of the tree (nodes no other node names as parent), best first,
 * into leaves[0..*n). CDL_E_NOMEM (once "no leaves": the new block was
 * stored, reported so, and not selected). */
static int tree_leaves(const tree *t, node *leaves, size_t max, long *index, size_t *count) {
  bool *has_child = calloc(t->n ? t->n : 1, sizeof *has_child);
  if (has_child == NULL) return CDL_E_NOMEM;
  for (size_t i = 0; i < t->n; i++)
    if (t->nodes[i].parent >= 0) has_child[t->nodes[i].parent] = true;
  size_t n = 0;
  for (size_t i = 0; i < t->n && n < max; i++) {
    if (has_child[i]) continue;
    leaves[n] = t->nodes[i];
    leaves[n].parent = (long)i; /* reused: the leaf's own index */
    n++;
  }
  free(has_child);
  qsort(leaves, n, sizeof *leaves, by_key_desc);
  for (size_t i = 0; i < n; i++) index[i] = leaves[i].parent;
  *count = n;
  return CDL_OK;
}

static int try_leaves(cdl_chaindb *db, const join *j, const tree *t, selection *sel,
                      cdl_error *err) {
  node leaves[CDB_MAX_CANDIDATES];
  long index[CDB_MAX_CANDIDATES];
  size_t n = 0;
  if (tree_leaves(t, leaves, CDB_MAX_CANDIDATES, index, &n) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  cdl_block_info tip0;
  bool had = cdb_tip(db, &tip0);
  for (size_t i = 0; i < n && cdb_key(&leaves[i].info) > tip_key(db); i++) {
    cdl_block_info *cand;
    size_t len;
    if (build_candidate(j, t, (size_t)index[i], &cand, &len) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
    /* The chain up to the fork point never changes here (only what
     * follows it does), so j->fork stays valid for every candidate. */
    sel->refused = false;
    int rc = j->fork == (long)db->n_chain - 1 ? extend_tip(db, cand, len, sel, err)
                                                : switch_fork(db, j->fork, cand, len, sel, err);
    free(cand);
    if (rc != CDL_OK) return rc;
    cdl_block_info tip;
    bool changed = cdb_tip(db, &tip) && (!had || memcmp(tip.hash, tip0.hash, 32) != 0);
    if (changed && !sel->refused) break; /* the best candidate, whole */
  }
  return CDL_OK;
}

/* Chain selection for the candidates through |b|. */
static int select_from(cdl_chaindb *db, const cdl_block_info *b, selection *sel,
                       cdl_error *err) {
  join j;
  bool joined;
  int jrc = join_chain(db, b, &j, &joined);
  if (jrc != CDL_OK || !joined) {
    free(j.back);
    if (jrc != CDL_OK) return cdl_error_set(err, jrc, 0, "out of memory");
    return CDL_OK; /* not connected (yet), or below the immutable tip */
  }
  if (j.invalid_ancestor) {
    cdb_mark_invalid(db, b->hash);
    if (sel->new_hash && memcmp(sel->new_hash, b->hash, 32) == 0) {
      sel->new_invalid = true;
      if (sel->rej) {
        memset(sel->rej, 0, sizeof *sel->rej);
        sel->rej->rule = "chain.invalid_predecessor";
        snprintf(sel->rej->detail, sizeof sel->rej->detail, "an ancestor was refused before");
      }
    }
    free(j.back);
    return CDL_OK;
  }
  tree t = {0};
  int rc = grow_tree(db, b, &t);
  if (rc != CDL_OK) rc = cdl_error_set(err, rc, 0, "out of memory");
  else rc = try_leaves(db, &j, &t, sel, err);
  free(t.nodes);
  free(j.back);
  return rc;
}

/* Follows the tip's stored successors for as long as they improve it. */
static int extend_more(cdl_chaindb *db, selection *sel, cdl_error *err) {
  for (int round = 0; round < 1 << 20; round++) {
    cdl_block_info tip, anchor;
    const uint8_t *at = cdb_tip(db, &tip) ? tip.hash : root_hash(db, &anchor);
    uint8_t next[16][32];
    size_t n = cdl_volatile_successors(db->vol, at, next, 16);
    uint64_t before = tip_key(db);
    for (size_t i = 0; i < n && i < 16 && tip_key(db) == before; i++) {
      cdl_block_info b;
      if (cdb_is_invalid(db, next[i]) || !cdl_volatile_info(db->vol, next[i], &b)) continue;
      CDL_TRY(select_from(db, &b, sel, err));
    }
    if (tip_key(db) == before) return CDL_OK;
  }
  return CDL_OK;
}

/* Every stored fork off the selected chain (used at open). */
int cdb_select_all(cdl_chaindb *db, uint64_t *adopted, cdl_error *err) {
  selection sel = {.start_n = db->n_chain};
  CDL_TRY(extend_more(db, &sel, err));
  for (size_t i = 0; i < db->n_chain; i++) {
    const uint8_t *at = i == 0 ? NULL : CHAIN(db, i - 1).hash;
    cdl_block_info anchor;
    if (at == NULL) at = root_hash(db, &anchor);
    uint8_t next[16][32];
    size_t n = cdl_volatile_successors(db->vol, at, next, 16);
    uint64_t gen = db->generation;
    for (size_t s = 0; s < n && s < 16; s++) {
      cdl_block_info b;
      if (memcmp(next[s], CHAIN(db, i).hash, 32) == 0 || cdb_is_invalid(db, next[s]) ||
          !cdl_volatile_info(db->vol, next[s], &b))
        continue;
      CDL_TRY(select_from(db, &b, &sel, err));
      if (db->generation != gen) break;
    }
    if (db->generation != gen) {
      CDL_TRY(extend_more(db, &sel, err));
      i = (size_t)-1; /* the chain changed: look again from the start */
    }
  }
  *adopted = sel.adopted;
  return CDL_OK;
}

/* A block that is no block (|why|, the decoder's verdict) is refused
 * under the decoder's rule; running out of memory is ours, a failure. */
static int refuse_undecoded(const cdl_error *why, cdl_chaindb_add_result *res, cdl_rejection *rej,
                            cdl_error *err) {
  if (why->code == CDL_E_NOMEM) return cdl_error_set(err, CDL_E_NOMEM, 0, "%s", why->message);
  memset(rej, 0, sizeof *rej);
  rej->rule = cdl_error_name(why->code);
  snprintf(rej->detail, sizeof rej->detail, "%.190s", why->message);
  res->outcome = CDL_ADD_INVALID;
  return CDL_OK;
}

/* The parsed block's info under this ChainDB's epoch length: as parsed,
 * or the slot counted again from the decoded block (no decode). */
static int info_here(const cdl_chaindb *db, const cdl_parsed_block *pb, cdl_block_info *b,
                     cdl_error *why) {
  uint64_t epoch_slots = cdl_byron_epoch_slots(db->cfg.ledger.k);
  if (pb->rc != CDL_OK) return *why = pb->why, pb->rc;
  if (pb->epoch_slots == epoch_slots) return *b = pb->info, CDL_OK;
  return cdl_block_info_of(pb->blk, pb->bytes, pb->len, epoch_slots, b, why);
}

/* Chain selection through the new block |b|, stored already, applied from
 * its decoding |blk| where a candidate reaches it. */
static int select_new(cdl_chaindb *db, const cdl_block_info *b, const cdl_byron_block *blk,
                      cdl_chaindb_add_result *res, cdl_rejection *rej, cdl_error *err) {
  uint64_t gen = db->generation, before = tip_key(db);
  selection sel = {.new_hash = b->hash, .rej = rej, .start_n = db->n_chain};
  db->pending = blk;
  memcpy(db->pending_hash, b->hash, 32);
  int rc = select_from(db, b, &sel, err);
  if (rc == CDL_OK && !sel.new_invalid) rc = extend_more(db, &sel, err);
  db->pending = NULL; /* it lives in the caller's arena */
  if (rc != CDL_OK) return rc;
  res->rollback = sel.rollback;
  res->outcome = sel.new_invalid                                      ? CDL_ADD_INVALID
                 : (tip_key(db) != before || db->generation != gen) ? CDL_ADD_ADOPTED
                                                                      : CDL_ADD_STORED;
  return CDL_OK;
}

int cdl_chaindb_add_parsed(cdl_chaindb *db, const cdl_parsed_block *pb,
                           cdl_chaindb_add_result *res, cdl_rejection *rej, cdl_error *err) {
  memset(res, 0, sizeof *res);
  if (db->cfg.read_only)
    return cdl_error_set(err, CDL_E_USAGE, 0, "chaindb: opened read-only, no block can be added");
  cdl_block_info b, imm;
  cdl_error why = {0};
  if (info_here(db, pb, &b, &why) != CDL_OK) return refuse_undecoded(&why, res, rej, err);
  if (cdl_immutable_tip(db->imm, &imm, NULL) && cdb_key(&b) <= cdb_key(&imm))
    return res->outcome = CDL_ADD_TOO_OLD, CDL_OK;
  if (cdb_is_invalid(db, b.hash)) {
    memset(rej, 0, sizeof *rej);
    rej->rule = "chain.known_invalid";
    return res->outcome = CDL_ADD_INVALID, CDL_OK;
  }
  if (cdl_volatile_info(db->vol, b.hash, NULL)) return res->outcome = CDL_ADD_DUPLICATE, CDL_OK;
  /* in the OS's hands from here */
  CDL_TRY(cdl_volatile_put(db->vol, pb->bytes, pb->len, &b, err));
  if (++db->since_sync >= db->cfg.sync_interval) CDL_TRY(cdl_chaindb_sync(db, err));
  uint64_t before = tip_key(db);
  CDL_TRY(select_new(db, &b, pb->blk, res, rej, err));
  CDL_TRY(cdb_move_immutable(db, err));
  /* Selection only moves the tip to a better chain, and at most k blocks
   * stay past the immutable tip (what an open relies on). */
  CDL_ASSERT(tip_key(db) >= before && db->n_chain <= db->cfg.ledger.k);
  if (db->blocks_since_snapshot >= db->cfg.snapshot_interval) CDL_TRY(cdb_image_take(db, err));
  return CDL_OK;
}

int cdl_chaindb_add_block(cdl_chaindb *db, const uint8_t *bytes, size_t len,
                          cdl_chaindb_add_result *res, cdl_rejection *rej, cdl_error *err) {
  cdl_parsed_block pb;
  cdl_arena_reset(&db->parse_arena);
  cdl_parsed_block_decode(bytes, len, cdl_byron_epoch_slots(db->cfg.ledger.k), &db->parse_arena,
                          &pb);
  return cdl_chaindb_add_parsed(db, &pb, res, rej, err);
}

int cdl_chaindb_snapshot_now(cdl_chaindb *db, cdl_error *err) {
  if (db->cfg.read_only)
    return cdl_error_set(err, CDL_E_USAGE, 0, "chaindb: opened read-only, no snapshot is written");
  return cdb_image_take(db, err);
}
