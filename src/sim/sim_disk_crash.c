/*
 * sim_disk_crash.c: what a power loss leaves of the simulator's disk
 * (sim_disk.h, the rules in sim_disk.c's head comment) and the damage
 * done to a file while its node is down. Nothing here allocates (the
 * room every outcome needs was reserved as the writes were made), so
 * neither can fail.
 */
#include <stdio.h>
#include <string.h>

#include "sim_disk_internal.h"

/* ---- Entries ------------------------------------------------------------------- */

static bool change_kept(const sim_change *c) {
  if (c->committed) return true;
  for (size_t k = 0; k < c->ndirs; k++)
    if (c->pos[k] >= c->dir[k]->cut) return false;
  return true;
}

/* Every directory in path order, the root first. */
static sim_entry *next_dir(sim_disk *d, sim_entry *dir, size_t *i) {
  if (dir == NULL) return &d->root;
  while (*i < d->n_names && !d->names[*i]->is_dir) (*i)++;
  return *i < d->n_names ? d->names[(*i)++] : NULL;
}

/* Each directory's place for every pending change, then a seeded cut in
 * each directory's pending list. */
static void choose_cuts(sim_disk *d) {
  size_t i = 0;
  for (sim_entry *dir = NULL; (dir = next_dir(d, dir, &i)) != NULL;) dir->pending = 0;
  for (size_t j = 0; j < d->n_journal; j++) {
    sim_change *c = &d->journal[j];
    for (size_t k = 0; k < c->ndirs && !c->committed; k++) c->pos[k] = c->dir[k]->pending++;
  }
  i = 0;
  for (sim_entry *dir = NULL; (dir = next_dir(d, dir, &i)) != NULL;)
    dir->cut = dir->pending > 0 ? (size_t)sim_rng_below(d, dir->pending + 1) : 0;
}

/* A rename between two directories that one of them loses is lost in the
 * other too, which cuts that one's prefix there: repeated until no cut
 * moves (cuts only shrink, so this ends). */
static void settle_cuts(sim_disk *d) {
  bool moved = true;
  while (moved) {
    moved = false;
    for (size_t j = 0; j < d->n_journal; j++) {
      sim_change *c = &d->journal[j];
      if (c->ndirs < 2 || change_kept(c)) continue;
      for (size_t k = 0; k < 2; k++) {
        if (c->pos[k] < c->dir[k]->cut) {
          c->dir[k]->cut = c->pos[k];
          moved = true;
        }
      }
    }
  }
}

static void names_after_power_loss(sim_disk *d) {
  choose_cuts(d);
  settle_cuts(d);
  for (size_t j = 0; j < d->n_journal; j++)
    if (change_kept(&d->journal[j])) change_apply(d, &d->journal[j]);
  for (size_t i = 0; i < d->n_names; i++) entry_set(d, d->names[i], false, d->names[i]->durable);
  journal_clear(d);
}

/* ---- Contents ------------------------------------------------------------------- */

/* Of the last kept write, the bytes that reached the disk: all of it half
 * of the time, else a seeded 1..len-1. */
static size_t torn_length(sim_disk *d, const sim_write *w) {
  if (w->data == NULL || w->len < 2 || sim_rng_below(d, 2) == 0) return w->len;
  return 1 + (size_t)sim_rng_below(d, w->len - 1);
}

/* The durable bytes plus a seeded prefix of the log become the file (the
 * room is there: see inode_change). */
static void inode_crash_keep(sim_disk *d, sim_inode *ino) {
  if (ino->log_n > 0) {
    size_t keep = (size_t)sim_rng_below(d, ino->log_n + 1);
    size_t last = keep > 0 ? torn_length(d, &ino->log[keep - 1]) : 0;
    for (size_t i = 0; i < keep; i++)
      bytes_apply(&ino->durable, &ino->log[i], i + 1 == keep ? last : ino->log[i].len);
  }
  inode_drop_unsynced(ino);
}

void power_loss(sim_disk *d) {
  names_after_power_loss(d);
  for (sim_inode *ino = d->first, *next; ino != NULL; ino = next) {
    next = ino->next;
    inode_free_if_unused(d, ino); /* no name reaches it any more */
  }
  for (sim_inode *ino = d->first; ino != NULL; ino = ino->next) inode_crash_keep(d, ino);
}

/* ---- Damage ----------------------------------------------------------------------- */

static bool damageable(const sim_entry *e, const char *prefix, size_t plen) {
  return e->live != NULL && e->live->live.len > 0 && strncmp(e->path, prefix, plen) == 0;
}

/* The file's writes reach the disk first (the OS flushes them while the
 * node is down), so that the damage is in what a crash keeps too. */
bool sim_disk_corrupt(sim_disk *d, const char *prefix, sim_corruption kind, char *path,
                      size_t cap) {
  if (path != NULL && cap > 0) path[0] = '\0';
  size_t plen = strlen(prefix), n = 0;
  for (size_t i = 0; i < d->n_names; i++) n += damageable(d->names[i], prefix, plen);
  if (n == 0) return false;
  size_t pick = (size_t)sim_rng_below(d, n), i = 0;
  for (;; i++)
    if (damageable(d->names[i], prefix, plen) && pick-- == 0) break;
  sim_inode *ino = d->names[i]->live;
  inode_sync(ino);
  size_t len = ino->live.len;
  if (kind == SIM_CORRUPT_BITFLIP) {
    size_t at = (size_t)sim_rng_below(d, len);
    uint8_t mask = (uint8_t)(1u << sim_rng_below(d, 8));
    ino->live.data[at] ^= mask;
    ino->durable.data[at] ^= mask;
  } else {
    ino->live.len = ino->durable.len = (size_t)sim_rng_below(d, len);
  }
  if (path != NULL && cap > 0) snprintf(path, cap, "%s", d->names[i]->path);
  d->st.corruptions++;
  return true;
}
