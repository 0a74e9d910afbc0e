/*
 * cmd_db_check.c: `cardinal-cli db validate | repair | export | truncate`
 * (docs/cli.md, "db"; docs/storage.md). validate changes nothing and exits
 * 1 naming the first bad block or index entry; repair cuts the database
 * back to its last good block and rebuilds indexes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "db.h"

#define BATCH_BLOCKS 256

static void immutable_dir(const db_opts *o, char *out, size_t size) {
  snprintf(out, size, "%s/immutable", o->db);
}

/* Replays the immutable DB through a fresh ledger with every rule and
 * signature; on a refusal |bad| is the refused block's position. */
static int replay_immutable(cdl_immutable *im, cdl_ledger *l, unsigned threads,
                            cdl_immutable_pos *bad, cdl_rejection *rej, cdl_error *err) {
  cdl_replay *rp;
  if (cdl_replay_new(l, threads, &rp) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory starting threads");
  cdl_buf buf;
  cdl_buf_init(&buf, 0);
  cdl_span spans[BATCH_BLOCKS];
  size_t offs[BATCH_BLOCKS];
  cdl_immutable_pos pos = {0, 0}, first = pos;
  bool more = cdl_immutable_count(im) > 0;
  int rc = CDL_OK;
  while (more && rc == CDL_OK) {
    size_t n = 0;
    cdl_buf_reset(&buf);
    first = pos;
    for (; more && n < BATCH_BLOCKS && rc == CDL_OK; more = cdl_immutable_next(im, &pos)) {
      offs[n++] = buf.len;
      rc = cdl_immutable_read(im, pos, &buf, NULL, err);
    }
    for (size_t i = 0; i < n; i++)
      spans[i] = cdl_span_of(buf.data + offs[i], (i + 1 < n ? offs[i + 1] : buf.len) - offs[i]);
    size_t applied = 0;
    if (rc == CDL_OK) rc = cdl_replay_batch(rp, spans, n, &applied, rej);
    if (rc == CDL_E_NOMEM) rc = cdl_error_set(err, rc, 0, "out of memory validating blocks");
    *bad = first;
    for (size_t i = 0; i < applied; i++) cdl_immutable_next(im, bad);
  }
  cdl_buf_free(&buf);
  cdl_replay_del(rp);
  return rc;
}

static int collect_name(void *ctx, const char *name) {
  if (strncmp(name, "snapshot-", 9) == 0 && strstr(name, ".lsnap") != NULL)
    json_array_append_new((json_t *)ctx, json_string(name));
  return CDL_OK;
}

/* One snapshot file, with whether it loads (a damaged one would be
 * skipped); one that loads must not lie more than k blocks past the
 * immutable tip (docs/storage.md "Missing files"). */
static json_t *snapshot_json(const char *path, json_t *name, const cdl_ledger_config *cfg,
                             const db_genesis *dg, cdl_immutable *im, cdl_error *missing) {
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_buf bytes;
  cdl_buf_init(&bytes, 0);
  cdl_error err = {0};
  cdl_ledger *l = NULL;
  int rc = cdl_fs_read_file(&fs, path, (size_t)4 << 30, &bytes, &err);
  if (rc == CDL_OK) rc = cdl_ledger_snapshot_read(bytes.data, bytes.len, cfg, dg->g.hash, &l, &err);
  cdl_ledger_tip tip;
  if (rc == CDL_OK) cdl_ledger_get_tip(l, &tip);
  if (rc == CDL_OK && !tip.at_genesis)
    cdl_immutable_check_snapshot(im, tip.slot, tip.block_no, dg->g.k, missing);
  cdl_ledger_del(l);
  cdl_buf_free(&bytes);
  return json_pack("{s:O,s:b,s:s?}", "name", name, "ok", rc == CDL_OK, "error",
                   rc == CDL_OK ? NULL : err.message);
}

/* Each snapshot file (sets |missing| for the first that proves immutable
 * blocks lost). */
static json_t *snapshots_json(const db_opts *o, const db_genesis *dg, cdl_immutable *im,
                              cdl_error *missing) {
  json_t *names = json_array(), *list = json_array();
  char dir[4200], path[4400];
  snprintf(dir, sizeof dir, "%s/ledger", o->db);
  cdl_ledger_config cfg = db_ledger_config(o, &dg->g);
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  fs.ops->list(&fs, dir, collect_name, names, NULL);
  size_t i;
  json_t *name;
  json_array_foreach(names, i, name) {
    snprintf(path, sizeof path, "%s/%s", dir, json_string_value(name));
    json_array_append_new(list, snapshot_json(path, name, &cfg, dg, im, missing));
  }
  json_decref(names);
  return list;
}

/* A writer's open (|guard| non-NULL) removes, before it cuts anything,
 * the snapshots the cut would leave more than k blocks past the immutable
 * tip (docs/storage.md "Missing files"). */
static int open_immutable(const db_opts *o, const db_genesis *dg, cdl_snapshot_guard *guard,
                          cdl_fs *fs, cdl_immutable **im, cdl_immutable_report *rep,
                          cdl_error *err) {
  char dir[4200];
  immutable_dir(o, dir, sizeof dir);
  cdl_fs_posix_init(fs, 0);
  cdl_immutable_config cfg = {.epoch_slots = cdl_byron_epoch_slots(dg->g.k),
                              .validate_all = true,
                              .read_only = guard == NULL,
                              .check_genesis = true,
                              .before_cut = guard ? cdl_snapshots_drop_past : NULL,
                              .before_cut_ctx = guard};
  memcpy(cfg.genesis_hash, dg->g.hash, 32);
  if (guard != NULL) {
    *guard = (cdl_snapshot_guard){.fs = fs, .dir = o->db, .k = dg->g.k};
    memcpy(guard->genesis_hash, dg->g.hash, 32);
  }
  return cdl_immutable_open(fs, dir, &cfg, im, rep, err);
}

static int report_damage(const cdl_immutable_report *rep) {
  cdl_error err = {0};
  cdl_error_set(&err, CDL_E_CHECKSUM, 0, "%s", rep->problem);
  return cli_report(&err);
}

/* Prints |out|, or the error when |rc| failed (then |out| is dropped). */
static int finish(int rc, json_t *out, const cdl_error *err) {
  if (rc == CDL_OK) return cli_print(out, false);
  json_decref(out);
  return cli_report(err);
}

/* ---- db validate --------------------------------------------------------- */

/* What db validate prints on success. */
static json_t *validate_json(cdl_immutable *im, const cdl_immutable_report *rep,
                             const db_genesis *dg, json_t *snapshots, double start) {
  cdl_block_info tip;
  bool has = cdl_immutable_tip(im, &tip, NULL);
  return json_pack("{s:I,s:I,s:o,s:o,s:f}", "blocks", (json_int_t)cdl_immutable_count(im),
                   "chunks", (json_int_t)rep->chunks, "tip",
                   has ? db_block_json(&tip, dg->g.k) : json_null(), "snapshots", snapshots,
                   "seconds", cli_now_seconds() - start);
}

int db_validate(const db_opts *o) {
  db_genesis dg;
  db_genesis_init(&dg);
  cdl_error err = {0};
  cdl_fs fs;
  cdl_immutable *im = NULL;
  cdl_immutable_report rep;
  cdl_ledger *l = NULL;
  json_t *snapshots = NULL;
  double start = cli_now_seconds();
  int rc = db_genesis_load(o, &dg, &err);
  if (rc == CDL_OK) rc = open_immutable(o, &dg, NULL, &fs, &im, &rep, &err);
  int exit_code = EXIT_OK;
  if (rc == CDL_OK && rep.problem[0] != '\0') exit_code = report_damage(&rep);
  /* Before the long replay: a snapshot may prove blocks missing. */
  if (rc == CDL_OK && exit_code == EXIT_OK) snapshots = snapshots_json(o, &dg, im, &err);
  if (err.code != CDL_OK) rc = err.code;
  cdl_immutable_pos bad;
  if (rc == CDL_OK && exit_code == EXIT_OK) rc = cdl_immutable_check_all(im, &bad, &err);
  cdl_ledger_config cfg = db_ledger_config(o, &dg.g);
  if (rc == CDL_OK && exit_code == EXIT_OK) rc = cdl_ledger_new(&dg.g, &cfg, &l, &err);
  cdl_rejection rej;
  if (rc == CDL_OK && exit_code == EXIT_OK)
    rc = replay_immutable(im, l, (unsigned)o->threads, &bad, &rej, &err);
  if (rc == CDL_E_REJECTED)
    exit_code = cli_report_rejection(&rej, l);
  else if (rc != CDL_OK)
    exit_code = cli_report(&err);
  if (exit_code == EXIT_OK)
    exit_code = cli_print(validate_json(im, &rep, &dg, snapshots, start), false);
  else
    json_decref(snapshots);
  cdl_ledger_del(l);
  cdl_immutable_close(im);
  db_genesis_free(&dg);
  return exit_code;
}

/* ---- db repair ------------------------------------------------------------ */

/* Cuts the immutable DB before the first block the ledger refuses. */
static int repair_immutable(const db_opts *o, const db_genesis *dg, json_t *out, cdl_error *err) {
  cdl_fs fs;
  cdl_snapshot_guard guard;
  cdl_immutable *im;
  cdl_immutable_report rep;
  CDL_TRY(open_immutable(o, dg, &guard, &fs, &im, &rep, err));
  cdl_ledger_config cfg = db_ledger_config(o, &dg->g);
  cdl_ledger *l = NULL;
  cdl_immutable_pos bad;
  cdl_rejection rej = {0};
  int rc = cdl_ledger_new(&dg->g, &cfg, &l, err);
  if (rc == CDL_OK) rc = replay_immutable(im, l, (unsigned)o->threads, &bad, &rej, err);
  uint64_t before = cdl_immutable_count(im);
  if (rc == CDL_E_REJECTED) rc = cdl_immutable_truncate_before(im, bad, err);
  json_object_set_new(
      out, "structure",
      json_pack("{s:I,s:I,s:I,s:s}", "indexes_rebuilt", (json_int_t)rep.indexes_rebuilt,
                "truncated_bytes", (json_int_t)rep.truncated_bytes, "removed_chunks",
                (json_int_t)rep.removed_chunks, "problem", rep.problem));
  json_object_set_new(
      out, "refused_by_ledger",
      rej.rule ? json_pack("{s:s,s:s,s:I}", "rule", rej.rule, "detail", rej.detail,
                           "blocks_removed", (json_int_t)(before - cdl_immutable_count(im)))
               : json_null());
  cdl_ledger_del(l);
  cdl_immutable_close(im);
  return rc;
}

/* The owner's lock for the whole of a command that changes the files
 * outside a ChainDB (the ChainDB it opens later shares it). */
static int lock_db(const db_opts *o, cdl_fs *fs, int *token, cdl_error *err) {
  cdl_fs_posix_init(fs, 0);
  *token = -1;
  if (!fs->ops->exists(fs, o->db)) return cdl_error_set(err, CDL_E_IO, 0, "no database at %s", o->db);
  return cdl_db_lock(fs, o->db, token, err);
}

int db_repair(const db_opts *o) {
  db_genesis dg;
  db_genesis_init(&dg);
  cdl_error err = {0};
  json_t *out = json_object();
  cdl_fs lock_fs;
  int lock;
  int rc = lock_db(o, &lock_fs, &lock, &err);
  if (rc == CDL_OK) rc = db_genesis_load(o, &dg, &err);
  if (rc == CDL_OK) rc = repair_immutable(o, &dg, out, &err);
  db_genesis_free(&dg);
  cdl_chaindb *db = NULL;
  cdl_chaindb_report rep;
  if (rc == CDL_OK) rc = db_open(o, &dg, DB_WRITE, &db, &rep, &err);
  if (rc == CDL_OK) {
    cdl_block_info tip;
    bool has = cdl_chaindb_tip(db, &tip);
    json_object_set_new(out, "opened", db_report_json(&rep));
    json_object_set_new(out, "tip", has ? db_block_json(&tip, dg.g.k) : json_null());
    rc = cdl_chaindb_close(db, &err);
    db = NULL;
  }
  cdl_chaindb_abandon(db);
  db_genesis_free(&dg);
  cdl_db_unlock(&lock_fs, lock);
  return finish(rc, out, &err);
}

/* ---- db export ------------------------------------------------------------ */

static int export_blocks(cdl_chaindb *db, const db_opts *o, uint64_t k, FILE *f, json_t *out,
                         cdl_error *err) {
  cdl_follower *fl;
  CDL_TRY(cdl_follower_new(db, &fl, err));
  cdl_buf block;
  cdl_buf_init(&block, 0);
  uint64_t from = o->has_from ? o->from : 0, to = o->has_to ? o->to : UINT64_MAX;
  uint64_t n = 0, bytes = 0;
  int rc = CDL_OK;
  for (;;) {
    cdl_follow_kind kind;
    cdl_block_info info;
    cdl_point point;
    cdl_buf_reset(&block);
    rc = cdl_follower_next(fl, &kind, &info, &point, &block, err);
    if (rc != CDL_OK || kind != CDL_FOLLOW_FORWARD || info.slot > to) break;
    if (info.slot < from) continue;
    if (fwrite(block.data, 1, block.len, f) != block.len) {
      rc = cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", o->out);
      break;
    }
    if (n == 0) json_object_set_new(out, "first", db_block_json(&info, k));
    json_object_set_new(out, "last", db_block_json(&info, k));
    n++;
    bytes += block.len;
  }
  json_object_set_new(out, "blocks", json_integer((json_int_t)n));
  json_object_set_new(out, "bytes", json_integer((json_int_t)bytes));
  cdl_buf_free(&block);
  cdl_follower_del(fl);
  return rc;
}

int db_export(const db_opts *o) {
  if (o->out == NULL) return cli_usage("db export: --out FILE is required");
  db_genesis dg;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  json_t *out = json_object();
  FILE *f = NULL;
  int rc = db_open(o, &dg, DB_READ_ONLY, &db, NULL, &err);
  if (rc == CDL_OK && (f = fopen(o->out, "wb")) == NULL)
    rc = cdl_error_set(&err, CDL_E_IO, 0, "cannot create %s", o->out);
  if (rc == CDL_OK) rc = export_blocks(db, o, dg.g.k, f, out, &err);
  if (f != NULL && fclose(f) != 0 && rc == CDL_OK)
    rc = cdl_error_set(&err, CDL_E_IO, 0, "cannot write %s", o->out);
  cdl_chaindb_abandon(db);
  db_genesis_free(&dg);
  return finish(rc, out, &err);
}

/* ---- db truncate ------------------------------------------------------------ */

/* Removes a snapshot taken after the slot (ctx: the ledger dir and slot). */
static int remove_later_snapshot(void *ctx, const char *name) {
  const char **dir = ctx;
  unsigned long long slot = 0;
  if (strncmp(name, "snapshot-", 9) != 0 || sscanf(name, "snapshot-%20llu", &slot) != 1 ||
      slot <= strtoull(dir[1], NULL, 10))
    return CDL_OK;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir[0], name);
  remove(path);
  return CDL_OK;
}

/* Later snapshots removed first (a snapshot past the immutable DB would
 * say its blocks are missing), then the chunks of later epochs without an
 * open (one of them may be missing), the immutable DB cut after the slot,
 * and the volatile DB's later blocks dropped (its other blocks kept). */
static int cut_stores(const db_opts *o, const db_genesis *dg, cdl_error *err) {
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  char dir[4200], slot[32];
  snprintf(slot, sizeof slot, "%llu", (unsigned long long)o->to_slot);
  snprintf(dir, sizeof dir, "%s/ledger", o->db);
  const char *ctx[2] = {dir, slot};
  fs.ops->list(&fs, dir, remove_later_snapshot, ctx, NULL);
  if (fs.ops->exists(&fs, dir)) CDL_TRY(fs.ops->sync_dir(&fs, dir, err));
  immutable_dir(o, dir, sizeof dir);
  CDL_TRY(
      cdl_immutable_drop_epochs_after(&fs, dir, cdl_byron_epoch_slots(dg->g.k), o->to_slot, err));
  cdl_snapshot_guard guard;
  cdl_immutable *im;
  CDL_TRY(open_immutable(o, dg, &guard, &fs, &im, NULL, err));
  int rc = cdl_immutable_truncate_slot(im, o->to_slot, err);
  cdl_immutable_close(im);
  snprintf(dir, sizeof dir, "%s/volatile", o->db);
  cdl_volatile_config vc = {.epoch_slots = cdl_byron_epoch_slots(dg->g.k)};
  cdl_volatile *v = NULL;
  if (rc == CDL_OK) rc = cdl_volatile_open(&fs, dir, &vc, &v, err);
  if (rc == CDL_OK) rc = cdl_volatile_drop_after(v, o->to_slot, err);
  cdl_volatile_close(v);
  return rc;
}

int db_truncate(const db_opts *o) {
  if (!o->has_to_slot) return cli_usage("db truncate: --to-slot N is required");
  db_genesis dg;
  db_genesis_init(&dg);
  cdl_error err = {0};
  cdl_fs lock_fs;
  int lock;
  int rc = lock_db(o, &lock_fs, &lock, &err);
  if (rc == CDL_OK) rc = db_genesis_load(o, &dg, &err);
  if (rc == CDL_OK) rc = cut_stores(o, &dg, &err);
  db_genesis_free(&dg);
  cdl_chaindb *db = NULL;
  json_t *out = NULL;
  if (rc == CDL_OK) rc = db_open(o, &dg, DB_WRITE, &db, NULL, &err);
  cdl_block_info tip;
  if (rc == CDL_OK)
    out = json_pack("{s:o}", "tip",
                    cdl_chaindb_tip(db, &tip) ? db_block_json(&tip, dg.g.k) : json_null());
  if (db != NULL && cdl_chaindb_close(db, rc == CDL_OK ? &err : NULL) != CDL_OK && rc == CDL_OK)
    rc = CDL_E_IO;
  db_genesis_free(&dg);
  cdl_db_unlock(&lock_fs, lock);
  return finish(rc, out, &err);
}
