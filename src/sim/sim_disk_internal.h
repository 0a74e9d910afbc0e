/*
 * sim_disk_internal.h: the parts of the simulator's disk (sim_disk.h)
 * shared by its files: the state (sim_disk.c), file contents, names and
 * the journal of entry changes (sim_disk_store.c), the file interface over
 * them (sim_disk_ops.c) and what a crash or damage leaves
 * (sim_disk_crash.c). Not public API.
 *
 * The model: a file's bytes live in an inode (live bytes, the durable
 * bytes of its last sync and the log of changes since); a name (entry)
 * points to an inode now (|live|) and after a crash (|durable|); the
 * journal holds, in order, the entry changes not yet folded into the
 * durable names. Every allocation happens in an operation that can fail:
 * syncs, folding, crashes, lossy closes and damage allocate nothing.
 */
#ifndef CARDINAL_SIM_DISK_INTERNAL_H
#define CARDINAL_SIM_DISK_INTERNAL_H

#include "sim_disk.h"

#define SIM_PATH_MAX 4096

typedef struct sim_bytes {
  uint8_t *data;
  size_t len, cap; /* cap never shrinks: see inode_change */
} sim_bytes;

/* One change to a file's bytes since its last sync. */
typedef struct sim_write {
  uint64_t offset; /* a truncate: the new size */
  uint8_t *data;   /* NULL: a truncate */
  size_t len;
} sim_write;

typedef struct sim_inode {
  sim_bytes live, durable;
  sim_write *log; /* since the last sync, in order */
  size_t log_n, log_cap;
  size_t links;   /* live names */
  size_t handles; /* open handles */
  size_t anchors; /* durable names and journal changes naming it */
  struct sim_inode *prev, *next; /* every inode, oldest first (crash order) */
} sim_inode;

typedef struct sim_entry {
  char *path;
  bool is_dir;
  sim_inode *live, *durable; /* files: what the name reaches now, after a crash */
  size_t mentions;           /* journal changes naming it */
  size_t pending, cut;       /* directories, during a crash */
} sim_entry;

/* One entry change: |unset| loses its inode, |set| gets |ino| (a create
 * sets, a remove unsets, a rename does both). It is pending in the
 * directories of its names (one or two) until one of them is synced. */
typedef struct sim_change {
  sim_entry *unset, *set;
  sim_inode *ino;
  sim_entry *dir[2];
  size_t pos[2]; /* its place among each directory's pending changes (crash) */
  size_t ndirs;
  bool committed;
} sim_change;

typedef struct sim_handle {
  sim_inode *ino; /* NULL: a free slot */
  char *path;     /* as opened, for messages */
  bool writable;
} sim_handle;

struct sim_disk {
  cdl_fs fs;
  uint64_t rng;
  sim_entry root;      /* "": always there, never in |names| */
  sim_entry **names;   /* sorted by path */
  size_t n_names, cap_names;
  sim_change *journal; /* oldest first */
  size_t n_journal, cap_journal;
  sim_inode *first, *last;
  sim_handle *handles;
  size_t n_handles, open_handles;
  char **locks; /* held lock paths; NULL: a free slot (the token is the index) */
  size_t n_locks;
  uint64_t capacity;
  size_t max_open;
  bool lossy_close, frozen;
  sim_disk_stats st;
};

/* sim_disk.c */
uint64_t sim_rng_below(sim_disk *d, uint64_t n); /* 0..n-1; 0 when n is 0 */
/* Bytes of the files the live view reaches (names and open handles). */
uint64_t live_bytes(const sim_disk *d);

/* sim_disk_store.c: bytes */
/* Applies |w| (its first |keep| bytes when a write); the room is there. */
void bytes_apply(sim_bytes *b, const sim_write *w, size_t keep);

/* sim_disk_store.c: inodes */
sim_inode *inode_new(sim_disk *d);
void inode_destroy(sim_inode *ino); /* inode_free_if_unused, or the disk's end */
void inode_free_if_unused(sim_disk *d, sim_inode *ino);
/* A write or truncate (|data| NULL) through the live bytes and the log. */
int inode_change(sim_inode *ino, const void *data, size_t len, uint64_t offset);
void inode_sync(sim_inode *ino);
void inode_log_clear(sim_inode *ino);
void inode_drop_unsynced(sim_inode *ino);
bool inode_is_live(const sim_inode *ino);

/* sim_disk_store.c: names */
/* Copies |path| normalised (no leading, trailing or double slashes, no "."
 * components; "" is the root) into |out|; false when it has ".." or does
 * not fit. */
bool path_normalise(const char *path, char out[SIM_PATH_MAX]);
/* The entry of a normalised path (the root for ""), NULL when none; *at
 * (may be NULL) gets its place in |names| or where it would go. */
sim_entry *name_find(sim_disk *d, const char *path, size_t *at);
/* The directory |path| would be in, NULL when it is not there. */
sim_entry *parent_dir(sim_disk *d, const char *path);
/* Room for |extra| more names and journal changes. */
int names_reserve(sim_disk *d, size_t extra);
/* A new entry at |at| (names_reserve first). */
sim_entry *name_add(sim_disk *d, const char *path, bool is_dir, size_t at);
/* Points |e|'s live or durable name at |ino| (may be NULL). */
void entry_set(sim_disk *d, sim_entry *e, bool durable, sim_inode *ino);
/* Drops |e| when nothing reaches it any more. */
void entry_free_if_unused(sim_disk *d, sim_entry *e);
void names_free(sim_disk *d);

/* sim_disk_store.c: the journal */
/* Logs a change (names_reserve first). */
void journal_add(sim_disk *d, sim_entry *unset, sim_entry *set, sim_inode *ino);
/* The change's effect on the durable names. */
void change_apply(sim_disk *d, const sim_change *c);
/* Commits the changes pending in |dir| and folds what it can. */
void journal_commit_dir(sim_disk *d, const sim_entry *dir);
/* Forgets every change (after a crash has applied what survives). */
void journal_clear(sim_disk *d);

/* sim_disk_crash.c */
void power_loss(sim_disk *d);

/* sim_disk_ops.c */
extern const cdl_fs_ops SIM_DISK_OPS;
void handles_close_all(sim_disk *d);
void locks_release_all(sim_disk *d);

#endif
