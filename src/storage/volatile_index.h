/*
 * volatile_index.h: the Volatile DB's in-memory index (volatile_index.c),
 * private to src/storage. Entries live in one array bounded by max_blocks;
 * two open-addressing tables (linear probing, load at most 1/2, backward
 * shift on delete) find an entry by its hash and the first of the blocks
 * that follow a given hash. Blocks sharing a predecessor form a circular
 * list in arrival order, so listing and removing a successor are O(1) per
 * block whatever the fork width.
 */
#ifndef CARDINAL_STORAGE_VOLATILE_INDEX_H
#define CARDINAL_STORAGE_VOLATILE_INDEX_H

#include "cardinal/storage.h"

#define CDL_VOLATILE_NONE UINT32_MAX
/* Entry indices and table slots are 32-bit. */
#define CDL_VOLATILE_MAX_BLOCKS ((size_t)1 << 30)

typedef struct cdl_volatile_entry {
  cdl_block_info info;
  uint64_t offset;             /* of the record in its file */
  uint32_t file;               /* file number */
  uint32_t hkey, hprev;        /* keyed hashes of info.hash and info.prev_hash */
  uint32_t sib_prev, sib_next; /* same-predecessor ring; sib_next links free entries */
  bool live;
} cdl_volatile_entry;

typedef struct cdl_volatile_index {
  cdl_volatile_entry *e;
  uint32_t cap, used;        /* entries allocated; high-water mark of e[] */
  uint32_t count, free_head; /* live entries; first free entry below used */
  uint32_t *by_hash, *by_prev; /* entry index + 1, 0 = empty */
  size_t mask;               /* table size - 1 */
  size_t max;                /* bound on count */
  uint8_t key[16];           /* random SipHash key: hostile hashes cannot pile up */
} cdl_volatile_index;

void cdl_volatile_index_init(cdl_volatile_index *x, size_t max);
void cdl_volatile_index_free(cdl_volatile_index *x);
/* The entry holding |hash|, or CDL_VOLATILE_NONE. */
uint32_t cdl_volatile_index_find(const cdl_volatile_index *x, const uint8_t hash[32]);
/* Makes room for one more entry: CDL_E_LIMIT at the bound, CDL_E_NOMEM. */
int cdl_volatile_index_reserve(cdl_volatile_index *x);
/* Adds a block not yet held; cdl_volatile_index_reserve must have
 * succeeded since the last add. Returns its entry. */
uint32_t cdl_volatile_index_add(cdl_volatile_index *x, const cdl_block_info *info,
                                uint32_t file, uint64_t offset);
void cdl_volatile_index_remove(cdl_volatile_index *x, uint32_t i);
size_t cdl_volatile_index_successors(const cdl_volatile_index *x, const uint8_t prev[32],
                                     uint8_t (*out)[32], size_t max);

#endif /* CARDINAL_STORAGE_VOLATILE_INDEX_H */
