/*
 * volatile_recent.h: the volatile DB's memory of the blocks it wrote last
 * (docs/storage.md, "Volatile DB"): a ring of their bytes, bounded by
 * bytes, so that moving a block k deep to the immutable DB, which happens
 * once per block added, reads it from memory instead of from its file.
 * Not public API.
 */
#ifndef CARDINAL_STORAGE_VOLATILE_RECENT_H
#define CARDINAL_STORAGE_VOLATILE_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vrecent_item {
  uint8_t hash[32];
  size_t off;        /* in the ring */
  uint32_t len;
} vrecent_item;

typedef struct vrecent {
  uint8_t *ring;
  size_t cap, head;  /* bytes; the next block goes at head (or at 0) */
  vrecent_item *items; /* a FIFO, oldest at first */
  size_t cap_items, first, count;
  uint64_t first_seq;  /* how many blocks were forgotten: the oldest's number */
  uint64_t next_seq;   /* where the next look-up starts: after the last found */
} vrecent;

#define VRECENT_PROBES 64 /* items a look-up compares before giving up */

/* |cap| bytes (0: remembers nothing). */
void vrecent_init(vrecent *r, size_t cap);
void vrecent_free(vrecent *r);
/* Remembers a block, forgetting the oldest as room requires; a block
 * larger than the ring, or no memory, is simply not remembered. */
void vrecent_put(vrecent *r, const uint8_t hash[32], const uint8_t *bytes, size_t len);
/* The block's bytes if remembered and among the VRECENT_PROBES blocks
 * put after the one found last, else NULL. Blocks are read back in about
 * the order they were put (each as it becomes k deep), so a look-up is a
 * compare or two, and a miss costs little more than that. */
const uint8_t *vrecent_get(vrecent *r, const uint8_t hash[32], size_t *len);

#endif /* CARDINAL_STORAGE_VOLATILE_RECENT_H */
