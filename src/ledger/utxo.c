/*
 * utxo.c: the unspent-output set (docs/byron.md 5.4.1 step 9): each
 * output's key (tx id, index), address bytes and value, with a journal so
 * that a block's changes can be undone.
 *
 * The entries live in one dense array (a removal moves the last entry into
 * the gap), found through an open-addressing index of (hash, position)
 * slots with linear probing and backward-shift deletion: no tombstones, so
 * look-ups stay short however many outputs come and go, and growing or
 * shifting the index never touches the entries. The dense array keeps a
 * snapshot's entries contiguous and the index small (8 bytes a slot), which
 * is what makes opening a large ledger fast (docs/storage.md).
 *
 * The hash is pair-multiply-shift over the first 16 bytes of the tx id and
 * the index (Thorup, "High Speed Hashing for Integers and Strings", 2015),
 * with multipliers drawn at random per table: a universal family, so two
 * distinct keys share a home slot with chance about 1/cap whatever the
 * keys, and a peer grinding tx ids cannot pile them into one probe run
 * without knowing the seed. Tx ids are Blake2b-256 digests, so distinct ids
 * that agree in 16 bytes do not occur; the full key is compared anyway.
 *
 * A fork (utxo_init_fork) is a table of differences over a base table:
 * outputs it adds are its own entries, outputs of the base it spends are
 * dead entries under the same key, and any other key is looked up in the
 * base. The mempool validates against a fork of the tip's UTxO without
 * copying it (the diff idea of UTxO-HD in the Haskell node).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

#define INITIAL_BITS 10
#define MAX_ENTRIES ((size_t)UINT32_MAX - 1) /* a slot's ref is position + 1 */

static uint32_t key_hash(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  uint32_t x[4];
  memcpy(x, tx_id, sizeof x);
  x[3] ^= index;
  uint64_t h = (u->seed[0] + x[1]) * (u->seed[1] + x[0]) +
               (u->seed[2] + x[3]) * (u->seed[3] + x[2]) + u->seed[4];
  return (uint32_t)(h >> 32); /* the high bits are the well-mixed ones */
}

static size_t home_of(const utxo *u, uint32_t hash) { return hash >> (32 - u->bits); }
static size_t next_slot(const utxo *u, size_t i) { return (i + 1) & (u->cap - 1); }

static bool same_key(const utxo_entry *e, const uint8_t tx_id[32], uint32_t index) {
  return e->index == index && memcmp(e->tx_id, tx_id, 32) == 0;
}

static void free_addr(utxo_entry *e) {
  if (!e->addr_in_slab) free(e->addr);
}

int utxo_init(utxo *u) {
  memset(u, 0, sizeof *u);
  u->slots = calloc((size_t)1 << INITIAL_BITS, sizeof *u->slots);
  if (u->slots == NULL) return CDL_E_NOMEM;
  u->bits = INITIAL_BITS;
  u->cap = (size_t)1 << INITIAL_BITS;
  randombytes_buf(u->seed, sizeof u->seed);
  /* A random start: a fork cannot mistake a new table at its old base's
   * address for that base. */
  randombytes_buf(&u->generation, sizeof u->generation);
  return CDL_OK;
}

int utxo_init_fork(utxo *u, const utxo *base) {
  CDL_TRY(utxo_init(u));
  u->base = base;
  u->base_generation = base->generation;
  return CDL_OK;
}

size_t utxo_visible_count(const utxo *u) {
  size_t below = u->base ? utxo_visible_count(u->base) : 0;
  return below + (u->count - u->n_dead) - u->n_dead;
}

uint64_t utxo_visible_lovelace(const utxo *u) {
  uint64_t below = u->base ? utxo_visible_lovelace(u->base) : 0;
  return below + u->lovelace - u->dead_lovelace;
}

void utxo_free(utxo *u) {
  utxo_commit(u);
  for (size_t i = 0; i < u->count; i++) free_addr(&u->entries[i]);
  free(u->entries);
  free(u->slots);
  free(u->slab);
  free(u->journal);
  memset(u, 0, sizeof *u);
}

/* The slot holding the key, or SIZE_MAX. */
static size_t find_slot(const utxo *u, const uint8_t tx_id[32], uint32_t index, uint32_t h) {
  for (size_t i = home_of(u, h);; i = next_slot(u, i)) {
    utxo_slot s = u->slots[i];
    if (s.ref == 0) return SIZE_MAX;
    if (s.hash == h && same_key(&u->entries[s.ref - 1], tx_id, index)) return i;
  }
}

/* The table's own entry for the key (dead or alive), or NULL. */
static utxo_entry *own_entry(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  size_t i = find_slot(u, tx_id, index, key_hash(u, tx_id, index));
  return i == SIZE_MAX ? NULL : &u->entries[u->slots[i].ref - 1];
}

const utxo_entry *utxo_find(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  const utxo_entry *e = own_entry(u, tx_id, index);
  if (e != NULL) return e->dead ? NULL : e;
  if (u->base == NULL) return NULL;
  CDL_ASSERT(u->base->generation == u->base_generation); /* the base changed under us */
  return utxo_find(u->base, tx_id, index);
}

/* The base's entries seen through a fork: those the fork holds no entry
 * of (a dead one is spent, a live one replaced it). */
typedef struct each_below {
  const utxo *over;
  bool (*fn)(void *ctx, const utxo_entry *e);
  void *ctx;
} each_below;

static bool visit_below(void *ctx, const utxo_entry *e) {
  const each_below *b = ctx;
  return own_entry(b->over, e->tx_id, e->index) != NULL || b->fn(b->ctx, e);
}

bool utxo_each(const utxo *u, bool (*fn)(void *ctx, const utxo_entry *e), void *ctx) {
  for (size_t i = 0; i < u->count; i++)
    if (!u->entries[i].dead && !fn(ctx, &u->entries[i])) return false;
  if (u->base == NULL) return true;
  CDL_ASSERT(u->base->generation == u->base_generation); /* the base changed under us */
  each_below below = {u, fn, ctx};
  return utxo_each(u->base, visit_below, &below);
}

static void link_slot(utxo *u, uint32_t hash, uint32_t ref) {
  size_t i = home_of(u, hash);
  while (u->slots[i].ref != 0) i = next_slot(u, i);
  u->slots[i] = (utxo_slot){hash, ref};
}

static int grow_slots(utxo *u) {
  utxo_slot *old = u->slots;
  size_t old_cap = u->cap;
  utxo_slot *fresh = cdl_alloc_large(old_cap * 2 * sizeof *fresh);
  if (fresh == NULL) return CDL_E_NOMEM;
  memset(fresh, 0, old_cap * 2 * sizeof *fresh);
  u->slots = fresh;
  u->cap = old_cap * 2;
  u->bits++;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].ref != 0) link_slot(u, old[i].hash, old[i].ref);
  free(old);
  return CDL_OK;
}

int utxo_reserve(utxo *u, size_t count) {
  if (count > MAX_ENTRIES) return CDL_E_NOMEM;
  while (count > u->cap / 4 * 3) CDL_TRY(grow_slots(u)); /* load factor at most 3/4 */
  if (count <= u->cap_entries) return CDL_OK;
  size_t cap = u->cap_entries ? u->cap_entries : 1024;
  while (cap < count) cap *= 2;
  utxo_entry *e = cdl_alloc_large(cap * sizeof *e);
  if (e == NULL) return CDL_E_NOMEM;
  if (u->count > 0) memcpy(e, u->entries, u->count * sizeof *e);
  free(u->entries);
  u->entries = e;
  u->cap_entries = cap;
  return CDL_OK;
}

/* Appends an entry known absent, room reserved. */
static void place(utxo *u, const utxo_entry *entry, uint32_t hash) {
  u->entries[u->count++] = *entry;
  if (entry->dead) {
    u->n_dead++;
    u->dead_lovelace += entry->lovelace;
  } else {
    u->lovelace += entry->lovelace;
  }
  u->generation++;
  link_slot(u, hash, (uint32_t)u->count);
}

void utxo_load(utxo *u, const utxo_entry *entry) {
  CDL_ASSERT(u->count < u->cap_entries && u->count < u->cap / 4 * 3);
  place(u, entry, key_hash(u, entry->tx_id, entry->index));
}

static int journal(utxo *u, bool added, const utxo_entry *entry) {
  if (u->n_journal == u->cap_journal) {
    size_t cap = u->cap_journal ? u->cap_journal * 2 : 64;
    utxo_undo *j = realloc(u->journal, cap * sizeof *j);
    if (j == NULL) return CDL_E_NOMEM;
    u->journal = j;
    u->cap_journal = cap;
  }
  u->journal[u->n_journal++] = (utxo_undo){added, *entry};
  return CDL_OK;
}

/* Empties slot i and closes the gap (backward shift). */
static void unlink_slot(utxo *u, size_t i) {
  size_t hole = i;
  for (size_t j = next_slot(u, i); u->slots[j].ref != 0; j = next_slot(u, j)) {
    size_t home = home_of(u, u->slots[j].hash);
    /* Move j into the hole unless its home lies cyclically in (hole, j]. */
    bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (stays) continue;
    u->slots[hole] = u->slots[j];
    hole = j;
  }
  u->slots[hole] = (utxo_slot){0, 0};
}

/* Removes the entry of slot i; the last entry moves into its place. */
static void take_slot(utxo *u, size_t i) {
  uint32_t ref = u->slots[i].ref, last = (uint32_t)u->count;
  const utxo_entry *gone = &u->entries[ref - 1];
  if (gone->dead) {
    CDL_ASSERT(u->n_dead > 0 && u->dead_lovelace >= gone->lovelace);
    u->n_dead--;
    u->dead_lovelace -= gone->lovelace;
  } else {
    CDL_ASSERT(u->lovelace >= gone->lovelace); /* the total is the entries' sum */
    u->lovelace -= gone->lovelace;
  }
  u->generation++;
  unlink_slot(u, i);
  u->count--;
  if (ref == last) return;
  const utxo_entry *moved = &u->entries[last - 1];
  size_t j = home_of(u, key_hash(u, moved->tx_id, moved->index));
  while (u->slots[j].ref != last) j = next_slot(u, j);
  u->slots[j].ref = ref;
  u->entries[ref - 1] = *moved;
}

/* Where the root's 28 bytes lie within the address's encoding: at the
 * decoded pointer, or (for an address built rather than decoded) wherever
 * its bytes occur, as they must, the root being part of the payload. */
static uint16_t root_offset(const cdl_byron_address *a) {
  uintptr_t raw = (uintptr_t)a->raw.ptr, root = (uintptr_t)a->root;
  size_t off = 0;
  if (root >= raw && root - raw + 28 <= a->raw.len)
    off = root - raw;
  else
    while (off + 28 <= a->raw.len && memcmp(a->raw.ptr + off, a->root, 28) != 0) off++;
  CDL_ASSERT(off + 28 <= a->raw.len && off <= UINT16_MAX);
  return (uint16_t)off;
}

static int utxo_remove_own(utxo *u, const uint8_t tx_id[32], uint32_t index);

int utxo_insert(utxo *u, const uint8_t tx_id[32], uint32_t index, const cdl_byron_address *addr,
                uint64_t lovelace) {
  uint32_t hash = key_hash(u, tx_id, index);
  if (utxo_find(u, tx_id, index) != NULL) return CDL_E_USAGE;
  if (own_entry(u, tx_id, index) != NULL) CDL_TRY(utxo_remove_own(u, tx_id, index)); /* dead */
  CDL_TRY(utxo_reserve(u, u->count + 1));
  cdl_span raw = addr->raw, attrs = addr->attrs.raw;
  CDL_ASSERT(attrs.ptr >= raw.ptr && attrs.ptr + attrs.len <= raw.ptr + raw.len);
  utxo_entry e = {.index = index,
                  .addr_len = (uint32_t)raw.len,
                  .lovelace = lovelace,
                  .addr_type = addr->type > 254 ? 0xff : (uint8_t)addr->type,
                  .root_off = root_offset(addr),
                  .attrs_off = (uint32_t)(attrs.ptr - raw.ptr),
                  .attrs_len = (uint32_t)attrs.len};
  memcpy(e.tx_id, tx_id, 32);
  e.addr = malloc(raw.len ? raw.len : 1);
  if (e.addr == NULL) return CDL_E_NOMEM;
  memcpy(e.addr, raw.ptr, raw.len);
  if (journal(u, true, &e) != CDL_OK) {
    free(e.addr);
    return CDL_E_NOMEM;
  }
  place(u, &e, hash);
  return CDL_OK;
}

/* Removes the table's own entry for the key, journaled. */
static int utxo_remove_own(utxo *u, const uint8_t tx_id[32], uint32_t index) {
  size_t i = find_slot(u, tx_id, index, key_hash(u, tx_id, index));
  if (i == SIZE_MAX) return CDL_E_USAGE;
  /* The journal now owns the address (freed on commit). */
  CDL_TRY(journal(u, false, &u->entries[u->slots[i].ref - 1]));
  take_slot(u, i);
  return CDL_OK;
}

/* Spends an output of the base: a dead entry under its key. */
static int kill_base_entry(utxo *u, const utxo_entry *below) {
  CDL_TRY(utxo_reserve(u, u->count + 1));
  utxo_entry e = {.index = below->index, .lovelace = below->lovelace, .dead = true};
  memcpy(e.tx_id, below->tx_id, 32);
  CDL_TRY(journal(u, true, &e));
  place(u, &e, key_hash(u, e.tx_id, e.index));
  return CDL_OK;
}

int utxo_remove(utxo *u, const uint8_t tx_id[32], uint32_t index) {
  const utxo_entry *own = own_entry(u, tx_id, index);
  if (own != NULL) return own->dead ? CDL_E_USAGE : utxo_remove_own(u, tx_id, index);
  const utxo_entry *below = utxo_find(u, tx_id, index);
  if (below == NULL) return CDL_E_USAGE;
  return kill_base_entry(u, below);
}

void utxo_commit(utxo *u) {
  for (size_t i = 0; i < u->n_journal; i++)
    if (!u->journal[i].added) free_addr(&u->journal[i].entry);
  u->n_journal = 0;
}

void utxo_rollback(utxo *u) {
  while (u->n_journal > 0) {
    utxo_undo *op = &u->journal[--u->n_journal];
    uint32_t hash = key_hash(u, op->entry.tx_id, op->entry.index);
    if (op->added) {
      size_t i = find_slot(u, op->entry.tx_id, op->entry.index, hash);
      CDL_ASSERT(i != SIZE_MAX); /* added in this block: present */
      free_addr(&u->entries[u->slots[i].ref - 1]);
      take_slot(u, i);
    } else {
      place(u, &op->entry, hash); /* room suffices: it held this entry before */
    }
  }
}
