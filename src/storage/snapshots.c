/*
 * snapshots.c: ledger snapshots of a ChainDB (docs/storage.md, "Ledger
 * snapshots"). A snapshot is the ledger image of cdl_ledger_snapshot_write
 * (its own CRC inside) in DIR/ledger/snapshot-<slot>-<hash>.lsnap, written
 * atomically every snapshot_interval blocks and on a clean close; the
 * newest few are kept on disk and in memory. On open the newest snapshot
 * whose block is in the immutable DB, or on a complete path of volatile
 * blocks after it, is loaded; a corrupt one is removed and the next tried.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaindb_internal.h"

#define SNAPSHOT_MAX_BYTES ((size_t)4 << 30)
#define MAX_SNAPSHOTS 256

static void ledger_dir(const cdl_chaindb *db, char *out) {
  snprintf(out, CDB_PATH_MAX, "%s/ledger", db->dir);
}

typedef struct snap_name {
  uint64_t slot;
  uint8_t hash[32];
  char name[104];
} snap_name;

typedef struct snap_list {
  snap_name items[MAX_SNAPSHOTS];
  size_t n;
  cdl_chaindb *db;  /* whose leftovers to clear (NULL: a reader, clear nothing) */
} snap_list;

/* A snapshot a crash interrupted (cdl_fs_write_file_atomic's temporary
 * file) is crash residue: the owner removes it. */
static void remove_leftover(snap_list *l, const char *name) {
  size_t n = strlen(name);
  if (l->db == NULL || n < 10 || strcmp(name + n - 10, ".lsnap.tmp") != 0) return;
  char dir[CDB_PATH_MAX], path[CDB_PATH_MAX + 256];
  ledger_dir(l->db, dir);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cdl_error ignored = {0};
  l->db->fs->ops->remove(l->db->fs, path, &ignored);
}

static int collect(void *ctx, const char *name) {
  snap_list *l = ctx;
  unsigned long long slot;
  char hex[65];
  int used = 0;
  if (strlen(name) > 100 || sscanf(name, "snapshot-%20llu-%64[0-9a-f].lsnap%n", &slot, hex, &used) != 2 ||
      name[used] != '\0' || strlen(hex) != 64 || l->n == MAX_SNAPSHOTS) {
    remove_leftover(l, name);
    return CDL_OK;
  }
  snap_name *s = &l->items[l->n];
  size_t got;
  if (cdl_hex_decode(hex, 64, s->hash, 32, &got, NULL) != CDL_OK) return CDL_OK;
  s->slot = slot;
  snprintf(s->name, sizeof s->name, "%s", name);
  l->n++;
  return CDL_OK;
}

static int newest_first(const void *a, const void *b) {
  uint64_t x = ((const snap_name *)a)->slot, y = ((const snap_name *)b)->slot;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The tip a snapshot file names, from its header; false when the file or
 * its header cannot be read (then it proves nothing). */
static bool header_tip(cdl_fs *fs, const char *path, const uint8_t genesis_hash[32],
                       cdl_ledger_tip *tip) {
  cdl_fs_view view;
  cdl_error ignored = {0};
  if (cdl_fs_view_file(fs, path, SNAPSHOT_MAX_BYTES, &view, &ignored) != CDL_OK) return false;
  int rc = cdl_ledger_snapshot_tip(view.data, view.len, genesis_hash, tip, &ignored);
  cdl_fs_view_free(&view);
  return rc == CDL_OK && !tip->at_genesis;
}

static int list_snapshots(cdl_chaindb *db, snap_list *l, cdl_error *err) {
  char dir[CDB_PATH_MAX];
  ledger_dir(db, dir);
  l->n = 0;
  l->db = db->cfg.read_only ? NULL : db;
  if (db->cfg.read_only && !db->fs->ops->exists(db->fs, dir)) return CDL_OK; /* none yet */
  if (!db->cfg.read_only) CDL_TRY(db->fs->ops->mkdir(db->fs, dir, err));
  CDL_TRY(db->fs->ops->list(db->fs, dir, collect, l, err));
  qsort(l->items, l->n, sizeof *l->items, newest_first);
  return CDL_OK;
}

/* Before a cut of the immutable DB (docs/storage.md "Missing files"). */
int cdl_snapshots_drop_past(void *guard, const cdl_block_info *keep, cdl_error *err) {
  const cdl_snapshot_guard *g = guard;
  char dir[CDB_PATH_MAX], path[CDB_PATH_MAX + 256];
  if ((size_t)snprintf(dir, sizeof dir, "%s/ledger", g->dir) >= sizeof dir)
    return cdl_error_set(err, CDL_E_USAGE, 0, "database path too long");
  if (!g->fs->ops->exists(g->fs, dir)) return CDL_OK;
  snap_list *l = malloc(sizeof *l);
  if (l == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  *l = (snap_list){.n = 0};
  int rc = g->fs->ops->list(g->fs, dir, collect, l, err);
  bool removed = false;
  for (size_t i = 0; rc == CDL_OK && i < l->n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, l->items[i].name);
    cdl_ledger_tip tip;
    if (!header_tip(g->fs, path, g->genesis_hash, &tip) ||
        !cdl_snapshot_past(tip.block_no, keep, g->k))
      continue;
    rc = g->fs->ops->remove(g->fs, path, err);
    removed = true;
  }
  if (rc == CDL_OK && removed) rc = g->fs->ops->sync_dir(g->fs, dir, err);
  free(l);
  return rc;
}

/* ---- In-memory images ----------------------------------------------- */

/* |v| (taken over) as a shared view with one holder; NULL when out of
 * memory (then |v| is freed). */
static cdb_view *view_share(cdl_fs_view *v) {
  cdb_view *s = malloc(sizeof *s);
  if (s == NULL) {
    cdl_fs_view_free(v);
    return NULL;
  }
  *s = (cdb_view){.view = *v, .refs = 1};
  memset(v, 0, sizeof *v);
  return s;
}

static void view_release(void *ctx) {
  cdb_view *s = ctx;
  if (s == NULL || --s->refs > 0) return;
  cdl_fs_view_free(&s->view);
  free(s);
}

/* The ledger of an image, holding the image's bytes for as long as it
 * lives; the genesis image (NULL) is copied from, being small. */
int cdb_ledger_of(cdl_chaindb *db, cdb_view *v, cdl_ledger **out, cdl_error *err) {
  if (v == NULL)
    return cdl_ledger_snapshot_read(db->genesis_image.data, db->genesis_image.len,
                                    &db->cfg.ledger, db->genesis_hash, out, err);
  cdl_ledger_image_owner owner = {view_release, v};
  v->refs++;
  int rc = cdl_ledger_snapshot_adopt(v->view.data, v->view.len, &owner, &db->cfg.ledger,
                                     db->genesis_hash, out, err);
  if (rc != CDL_OK) v->refs--;
  return rc;
}

void cdb_images_free(cdl_chaindb *db) {
  for (size_t i = 0; i < CDB_IMAGES; i++) {
    view_release(db->images[i].view);
    db->images[i] = (cdb_image){0};
  }
}

/* Keeps |view| (its holder passed over) as the image at |point|,
 * replacing the oldest. */
static void image_keep(cdl_chaindb *db, const cdl_block_info *point, cdb_view *view) {
  cdb_image *slot = &db->images[0];
  for (size_t i = 0; i < CDB_IMAGES; i++) {
    if (!db->images[i].used) { slot = &db->images[i]; break; }
    if (db->images[i].tick < slot->tick) slot = &db->images[i];
  }
  view_release(slot->view);
  *slot = (cdb_image){.used = true, .point = *point, .view = view, .tick = ++db->image_tick};
}

static void prune(cdl_chaindb *db) {
  snap_list l;
  cdl_error ignored = {0};
  if (list_snapshots(db, &l, &ignored) != CDL_OK) return;
  char path[CDB_PATH_MAX + 256], dir[CDB_PATH_MAX];
  ledger_dir(db, dir);
  for (size_t i = db->cfg.snapshots_kept; i < l.n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, l.items[i].name);
    db->fs->ops->remove(db->fs, path, &ignored);
  }
}

/* The tip's image streamed into the snapshot file being written: never
 * the whole image in memory at once (hundreds of megabytes for a large
 * UTxO, docs/performance.md). */
typedef struct image_stream {
  const cdl_ledger *ledger;
  uint64_t len;
} image_stream;

static int append_piece(void *ctx, const uint8_t *bytes, size_t len) {
  return cdl_fs_append(ctx, bytes, len);
}

static int stream_image(void *ctx, cdl_fs_appender *a) {
  image_stream *st = ctx;
  int rc = cdl_ledger_snapshot_stream(st->ledger, append_piece, a, &st->len);
  if (rc == CDL_E_NOMEM) return cdl_error_set(a->err, rc, 0, "cannot image the ledger");
  return rc;
}

int cdb_image_take(cdl_chaindb *db, cdl_error *err) {
  cdl_block_info tip;
  db->blocks_since_snapshot = 0;
  if (!cdb_tip(db, &tip)) return CDL_OK; /* the genesis image is always there */
  /* The selected chain runs at most k blocks past the immutable tip, and
   * an open refuses a snapshot further past it as proof of lost chunks.
   * An add that ran out of memory moving blocks to the immutable DB
   * leaves more behind it: they move first, or no snapshot is written
   * (a close after that failure once wrote one, and the database no
   * longer opened). */
  CDL_TRY(cdb_move_immutable(db, err));
  CDL_ASSERT(db->n_chain <= db->cfg.ledger.k);
  /* The blocks before the snapshot are durable before it is: a snapshot
   * past the immutable DB's synced blocks would, after a power loss, look
   * like chunk files lost (docs/storage.md "Missing files"). */
  CDL_TRY(cdl_chaindb_sync(db, err));
  char dir[CDB_PATH_MAX], hex[65], path[CDB_PATH_MAX + 256];
  ledger_dir(db, dir);
  cdl_hex_encode(tip.hash, 32, hex);
  snprintf(path, sizeof path, "%s/snapshot-%020" PRIu64 "-%s.lsnap", dir, tip.slot, hex);
  image_stream st = {.ledger = db->ledger};
  int rc = db->fs->ops->mkdir(db->fs, dir, err);
  if (rc == CDL_OK) rc = cdl_fs_write_file_atomic_by(db->fs, dir, path, stream_image, &st, err);
  if (rc != CDL_OK) return rc;
  prune(db);
  /* Kept mapped from the file just written (or read back where the file
   * system cannot map): page cache the kernel can reclaim, resident only
   * if a fork point reads it, rather than the process's own memory. */
  cdl_fs_view view;
  cdl_error ignored = {0};
  if (cdl_fs_view_file(db->fs, path, SNAPSHOT_MAX_BYTES, &view, &ignored) != CDL_OK) return rc;
  if (view.len != st.len) {
    cdl_fs_view_free(&view);
    return rc;
  }
  cdb_view *shared = view_share(&view);
  if (shared != NULL) image_keep(db, &tip, shared); /* else a fork point reads it from disk */
  return rc;
}

/* ---- Open ------------------------------------------------------------- */

/* The ledger of |v| (NULL: the genesis), which must be at |want_hash|
 * (NULL: anywhere). */
static int load_image(cdl_chaindb *db, cdb_view *v, const uint8_t *want_hash, cdl_ledger **out,
                      cdl_error *err) {
  CDL_TRY(cdb_ledger_of(db, v, out, err));
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(*out, &tip);
  if (want_hash != NULL && (tip.at_genesis || memcmp(tip.hash, want_hash, 32) != 0)) {
    cdl_ledger_del(*out);
    *out = NULL;
    return cdl_error_set(err, CDL_E_CHECKSUM, 0, "snapshot holds another tip than its name");
  }
  return CDL_OK;
}

/* The volatile blocks from the immutable tip to |hash|, oldest first. */
static bool volatile_path(cdl_chaindb *db, const uint8_t hash[32], cdl_block_info **path,
                          size_t *n) {
  cdl_block_info anchor;
  const uint8_t *root = cdl_immutable_tip(db->imm, &anchor, NULL) ? anchor.hash : db->genesis_hash;
  size_t cap = 0;
  *path = NULL;
  *n = 0;
  cdl_block_info b;
  const uint8_t *at = hash;
  while (cdl_volatile_info(db->vol, at, &b)) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      cdl_block_info *grown = realloc(*path, cap * sizeof *grown);
      if (grown == NULL) break;
      *path = grown;
    }
    (*path)[(*n)++] = b;
    if (memcmp(b.prev_hash, root, 32) == 0) {
      for (size_t i = 0; i < *n / 2; i++) {
        cdl_block_info t = (*path)[i];
        (*path)[i] = (*path)[*n - 1 - i];
        (*path)[*n - 1 - i] = t;
      }
      return true;
    }
    cdl_volatile_stats st;
    cdl_volatile_stats_get(db->vol, &st);
    if (*n > st.blocks) break;
    at = (*path)[*n - 1].prev_hash;
  }
  free(*path);
  *path = NULL;
  return false;
}

/* Applies the immutable blocks after |from| (NULL: all) without signature
 * checks: they were validated when they were added. A block the ledger
 * refuses (a DB built under other rules, or damage a CRC cannot see) and
 * everything after it is cut off. */
static int replay_immutable(cdl_chaindb *db, const cdl_block_info *from, cdl_chaindb_report *rep,
                            cdl_error *err) {
  cdl_immutable_pos pos = {0, 0};
  bool more = cdl_immutable_count(db->imm) > 0;
  if (from != NULL) {
    CDL_TRY(cdl_immutable_find(db->imm, from->slot, from->hash, &pos, NULL, err));
    more = cdl_immutable_next(db->imm, &pos);
  }
  cdl_ledger_set_flags(db->ledger, db->cfg.ledger.flags | CDL_LEDGER_NO_SIGNATURES);
  int rc = CDL_OK;
  cdl_block_info bad;
  for (; more && rc == CDL_OK; more = cdl_immutable_next(db->imm, &pos)) {
    cdl_rejection rej;
    cdl_error rerr = {0};
    cdl_buf_reset(&db->scratch);
    rc = cdl_immutable_read(db->imm, pos, &db->scratch, &bad, &rerr);
    if (rc == CDL_OK) rc = cdb_apply(db, db->ledger, db->scratch.data, db->scratch.len, &rej, err);
    if (rc == CDL_OK) rep->replayed_blocks++;
    /* Only damage or a refusal cuts; a failure to read (no descriptor,
     * I/O, memory) fails the open and leaves the files alone. */
    if (rc != CDL_OK && rc != CDL_E_REJECTED && rc != CDL_E_CHECKSUM) {
      if (rerr.code != 0) cdl_error_set(err, rc, 0, "%s", rerr.message);
      break;
    }
    if (rc != CDL_OK) {  /* cut here */
      uint64_t before = cdl_immutable_count(db->imm);
      rc = cdl_immutable_truncate_before(db->imm, pos, err);
      rep->immutable_truncated = before - cdl_immutable_count(db->imm);
      break;
    }
  }
  cdl_ledger_set_flags(db->ledger, db->cfg.ledger.flags);
  return rc;
}

/* A failure to read (no memory, no descriptor, I/O) says nothing about the
 * snapshot: it is not skipped or removed, the caller fails instead. */
static bool is_failure(int rc) {
  return rc == CDL_E_NOMEM || rc == CDL_E_IO || rc == CDL_E_LIMIT;
}

/* On success *view holds the snapshot's bytes (one holder, passed to the
 * caller; the ledger holds them too), to be kept as an image. */
static int read_snapshot(cdl_chaindb *db, const snap_name *s, cdb_view **view, cdl_ledger **l,
                         cdl_error *err) {
  char path[CDB_PATH_MAX + 256], dir[CDB_PATH_MAX];
  ledger_dir(db, dir);
  snprintf(path, sizeof path, "%s/%s", dir, s->name);
  cdl_fs_view bytes;
  *view = NULL;
  int rc = cdl_fs_view_file(db->fs, path, SNAPSHOT_MAX_BYTES, &bytes, err);
  /* Gone since it was listed: the live owner of the database pruned it
   * while a reader looked. It is skipped, as if it had never been there. */
  if (rc == CDL_E_IO && !db->fs->ops->exists(db->fs, path))
    rc = cdl_error_set(err, CDL_E_NOT_FOUND, 0, "%s is gone", path);
  if (rc == CDL_OK && (*view = view_share(&bytes)) == NULL)
    rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  if (rc == CDL_OK) rc = load_image(db, *view, s->hash, l, err);
  if (rc != CDL_OK) {
    view_release(*view);
    *view = NULL;
  }
  if (rc != CDL_OK && !is_failure(rc) && !db->cfg.read_only) {
    cdl_error ignored = {0};
    db->fs->ops->remove(db->fs, path, &ignored); /* corrupt: never tried again */
  }
  return rc;
}

typedef struct base_choice {
  bool found, in_immutable;
  cdl_block_info point;
  cdl_block_info *path;  /* volatile blocks up to the point */
  size_t n_path;
} base_choice;

/* Where snapshot |s| lies: the immutable DB or a complete volatile path. */
static bool locate(cdl_chaindb *db, const snap_name *s, base_choice *c) {
  cdl_immutable_pos pos;
  cdl_error ignored = {0};
  if (cdl_immutable_find(db->imm, s->slot, s->hash, &pos, &c->point, &ignored) == CDL_OK)
    return c->in_immutable = true;
  if (!volatile_path(db, s->hash, &c->path, &c->n_path)) return false;
  c->point = c->path[c->n_path - 1];
  c->in_immutable = false;
  return true;
}

/* The block a snapshot names: where the stores place it, else from the
 * snapshot's own header (false when that cannot be read). */
static bool snapshot_block(cdl_chaindb *db, const snap_name *s, const base_choice *placed,
                           cdl_block_info *out) {
  if (placed != NULL) return *out = placed->point, true;
  char path[CDB_PATH_MAX + 256], dir[CDB_PATH_MAX];
  ledger_dir(db, dir);
  snprintf(path, sizeof path, "%s/%s", dir, s->name);
  cdl_ledger_tip tip;
  if (!header_tip(db->fs, path, db->genesis_hash, &tip)) return false;
  *out = (cdl_block_info){.slot = tip.slot, .block_no = tip.block_no};
  return true;
}

/* A snapshot more than k blocks past the immutable tip proves immutable
 * blocks lost, even when the volatile DB still holds copies of them
 * (docs/storage.md "Missing files"); unless this open cut the immutable DB
 * as damage, which explains it. |placed|: where the stores place it, or
 * NULL. */
static int judge_snapshot(cdl_chaindb *db, const snap_name *s, const base_choice *placed,
                          const cdl_chaindb_report *rep, cdl_error *err) {
  const cdl_immutable_report *im = &rep->immutable;
  if (im->problem[0] != '\0' || im->truncated_bytes > 0 || im->removed_chunks > 0) return CDL_OK;
  if (placed != NULL && placed->in_immutable) return CDL_OK;
  cdl_block_info b;
  if (!snapshot_block(db, s, placed, &b)) return CDL_OK;
  return cdl_immutable_check_snapshot(db->imm, b.slot, b.block_no, db->cfg.ledger.k, err);
}

static int choose_base(cdl_chaindb *db, const snap_list *l, base_choice *c,
                       cdl_chaindb_report *rep, cdl_error *err) {
  int rc = CDL_OK;
  for (size_t i = 0; i < l->n && rc == CDL_OK; i++) {
    base_choice here = {0};
    bool placed = locate(db, &l->items[i], &here);
    int judged = judge_snapshot(db, &l->items[i], placed ? &here : NULL, rep, err);
    if (judged != CDL_OK) {
      free(here.path);
      return judged;
    }
    if (!placed) {
      /* Its block is gone (the DB was cut back): it can never be used, and
       * left there it would outrank every new snapshot when pruning. */
      char path[CDB_PATH_MAX + 256], dir[CDB_PATH_MAX];
      cdl_error ignored = {0};
      ledger_dir(db, dir);
      snprintf(path, sizeof path, "%s/%s", dir, l->items[i].name);
      if (!db->cfg.read_only) db->fs->ops->remove(db->fs, path, &ignored);
      rep->snapshots_skipped++;
      continue;
    }
    cdl_ledger *ledger = NULL;
    cdl_error local = {0};
    cdb_view *view;
    int lrc = read_snapshot(db, &l->items[i], &view, &ledger, &local);
    if (is_failure(lrc)) rc = cdl_error_set(err, lrc, 0, "%s", local.message);
    if (lrc != CDL_OK) {
      free(here.path);
      rep->snapshots_skipped += !is_failure(lrc);
      continue;
    }
    image_keep(db, &here.point, view);
    *c = here;
    c->found = true;
    db->ledger = ledger;
    snprintf(rep->snapshot, sizeof rep->snapshot, "%s", l->items[i].name);
    break; /* older snapshots are read only if a fork needs them */
  }
  return rc;
}

int cdb_snapshot_open(cdl_chaindb *db, cdl_chaindb_report *rep, cdl_error *err) {
  snap_list *l = malloc(sizeof *l);
  if (l == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  base_choice c = {0};
  int rc = list_snapshots(db, l, err);
  if (rc == CDL_OK) rc = choose_base(db, l, &c, rep, err);
  free(l);
  if (rc == CDL_OK && !c.found)
    rc = load_image(db, NULL, NULL, &db->ledger, err);
  if (rc == CDL_OK && (!c.found || c.in_immutable))
    rc = replay_immutable(db, c.found ? &c.point : NULL, rep, err);
  for (size_t i = 0; rc == CDL_OK && !c.in_immutable && i < c.n_path; i++)
    if (cdb_chain_push(db, &c.path[i]) != CDL_OK)
      rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  free(c.path);
  return rc;
}

/* ---- Older snapshots, for a fork point before every image in memory ---- */

int cdb_disk_image_before(cdl_chaindb *db, const cdl_block_info *target, cdl_error *err) {
  snap_list *l = malloc(sizeof *l);
  if (l == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  int rc = list_snapshots(db, l, err);
  for (size_t i = 0; rc == CDL_OK && i < l->n; i++) {
    cdl_block_info point;
    cdl_immutable_pos pos;
    cdl_error ignored = {0};
    long index;
    if (l->items[i].slot > target->slot) continue;
    bool on_chain = cdl_immutable_find(db->imm, l->items[i].slot, l->items[i].hash, &pos, &point,
                                       &ignored) == CDL_OK;
    if (!on_chain && (index = cdb_chain_index(db, l->items[i].hash, -1)) >= 0) {
      point = CHAIN(db, index);
      on_chain = true;
    }
    if (!on_chain || cdb_key(&point) > cdb_key(target)) continue;
    cdl_ledger *ledger = NULL;
    cdb_view *view;
    int lrc = read_snapshot(db, &l->items[i], &view, &ledger, &ignored);
    if (is_failure(lrc)) rc = cdl_error_set(err, lrc, 0, "%s", ignored.message);
    if (lrc != CDL_OK) continue;
    cdl_ledger_del(ledger);
    image_keep(db, &point, view);
    break;
  }
  free(l);
  return rc;
}
