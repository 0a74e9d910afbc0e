/*
 * sim_disk.c: the simulator's disk (sim_disk.h): a cdl_fs held in memory
 * with POSIX file semantics, the durability of ext4 in data=ordered mode
 * at its weakest, and the faults of a real disk, all decided by one seed.
 * This file holds the disk itself, its faults and its statistics; the
 * contents, names and journal are in sim_disk_store.c, the file interface
 * in sim_disk_ops.c, crashes and damage in sim_disk_crash.c.
 *
 * Files are inodes that names point to: a file open under a name that is
 * then removed or renamed over keeps working until it is closed, and its
 * bytes go when nothing reaches them any more.
 *
 * What is durable:
 *  - a file's bytes at its last sync; since then its writes and truncates
 *    are logged in order, and a power loss keeps a seeded prefix of them,
 *    the last kept write whole or torn at a seeded byte;
 *  - a directory's entries at its last sync_dir; since then its creates,
 *    renames and removes are logged in order (one journal for the disk),
 *    and a power loss keeps a seeded prefix of each directory's;
 *  - a directory itself at once: mkdir is not lost (storage makes its
 *    directories once, and a lost one would orphan its files; the model
 *    has no rmdir nor rename of a directory).
 * A rename from one directory to another is one change pending in both,
 * as a journal commits both halves together: a sync_dir of either makes it
 * durable in both, and a power loss keeps it only where each directory's
 * kept prefix reaches it; one that loses it cuts the other's prefix there
 * too, so that every directory still keeps a prefix of its changes and the
 * file is never left with two names or none.
 *
 * A process crash keeps every write and every entry change, still pending
 * (a later power loss may cut them). Either crash closes every handle and
 * releases every lock.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_disk_internal.h"

static char ROOT_PATH[] = "";

/* splitmix64: small, fast and good enough to pick cuts; one stream per
 * disk, so a run replays exactly. */
static uint64_t rng_next(sim_disk *d) {
  uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t sim_rng_below(sim_disk *d, uint64_t n) { return n == 0 ? 0 : rng_next(d) % n; }

uint64_t live_bytes(const sim_disk *d) {
  uint64_t sum = 0;
  for (const sim_inode *ino = d->first; ino != NULL; ino = ino->next)
    if (inode_is_live(ino)) sum += ino->live.len;
  return sum;
}

sim_disk *sim_disk_new(uint64_t seed) {
  sim_disk *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->rng = seed;
  d->root = (sim_entry){.path = ROOT_PATH, .is_dir = true};
  /* cdl_fs_open's own bound is lifted: sd_open applies max_open, and
   * counts what it refuses. */
  d->fs = (cdl_fs){.ops = &SIM_DISK_OPS, .impl = d, .max_open = SIZE_MAX};
  return d;
}

void sim_disk_free(sim_disk *d) {
  if (d == NULL) return;
  for (size_t i = 0; i < d->n_handles; i++) free(d->handles[i].path);
  free(d->handles);
  locks_release_all(d);
  free(d->locks);
  free(d->journal);
  names_free(d);
  for (sim_inode *ino = d->first, *next; ino != NULL; ino = next) {
    next = ino->next;
    inode_destroy(ino);
  }
  free(d);
}

cdl_fs *sim_disk_fs(sim_disk *d) { return &d->fs; }

void sim_disk_set_capacity(sim_disk *d, uint64_t bytes) { d->capacity = bytes; }
void sim_disk_set_max_open(sim_disk *d, size_t n) { d->max_open = n; }
void sim_disk_set_lossy_close(sim_disk *d, bool on) { d->lossy_close = on; }

void sim_disk_freeze(sim_disk *d) { d->frozen = true; }

void sim_disk_crash(sim_disk *d, sim_crash_mode mode) {
  handles_close_all(d); /* not closes: nothing is lost to a lossy close */
  locks_release_all(d);
  if (mode == SIM_CRASH_POWER) power_loss(d);
  d->st.crashes++;
  d->frozen = false;
}

size_t sim_disk_open_handles(const sim_disk *d) { return d->open_handles; }

void sim_disk_stats_get(const sim_disk *d, sim_disk_stats *st) {
  *st = d->st;
  st->files = 0;
  for (size_t i = 0; i < d->n_names; i++)
    if (d->names[i]->live != NULL) st->files++;
  st->bytes = live_bytes(d);
}
