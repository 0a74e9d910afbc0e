/*
 * utxo.c: the unspent-output set (docs/byron.md 5.4.1 step 9): each
 * output's key (tx id, index), address and value, with a journal so that
 * a block's changes can be undone.
 *
 * An entry is 48 bytes: the key, the lovelace and the id of its address in
 * the table's address store (utxo_addr.c), which holds each distinct
 * address once. The entries a table owns live in one dense array (a
 * removal moves the last entry into the gap), kept in pages of 2^14
 * entries so that growing never copies it (a copy would hold the old and
 * the new array at once: the peak a large UTxO must not pay), and are
 * found through an open-addressing index of (hash, position) slots with
 * linear probing and backward-shift deletion: no tombstones, so look-ups
 * stay short however many outputs come and go, and growing or shifting
 * the index never touches the entries (docs/performance.md gives the
 * bytes per entry this comes to).
 *
 * The hash is pair-multiply-shift over the first 16 bytes of the tx id and
 * the index (Thorup, "High Speed Hashing for Integers and Strings", 2015),
 * with multipliers drawn at random per table: a universal family, so two
 * distinct keys share a home slot with chance about 1/cap whatever the
 * keys, and a peer grinding tx ids cannot pile them into one probe run
 * without knowing the seed. Tx ids are Blake2b-256 digests, so distinct ids
 * that agree in 16 bytes do not occur; the full key is compared anyway.
 *
 * Below the own entries a table may have a frozen part (utxo_frozen.c):
 * the sorted entries of the snapshot it was read from, searched in place,
 * so that opening a large ledger costs a copy rather than an index build.
 * A fork (utxo_init_fork) is a table of differences over a base table.
 * Either way the outputs below that the table spends are dead entries
 * under the same key, and any other key is looked up below. The mempool
 * validates against a fork of the tip's UTxO without copying it (the diff
 * idea of UTxO-HD in the Haskell node).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

#define INITIAL_BITS 10
#define MAX_ENTRIES ((size_t)UINT32_MAX - 1) /* a slot's ref is position + 1 */
#define PAGE_ENTRIES ((size_t)1 << UTXO_PAGE_BITS)

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

/* Gives up an entry's hold on its address (a dead entry has none). */
static void release_entry(utxo *u, const utxo_entry *e) {
  if (!utxo_dead(e)) utxo_addrs_release(&u->addrs, e->addr);
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
  return utxo_addrs_init(&u->addrs);
}

int utxo_init_fork(utxo *u, const utxo *base) {
  CDL_TRY(utxo_init(u));
  u->base = base;
  u->base_generation = base->generation;
  return CDL_OK;
}

size_t utxo_visible_count(const utxo *u) {
  size_t below = (u->base ? utxo_visible_count(u->base) : 0) + u->n_frozen;
  return below + (u->count - u->n_dead) - u->n_dead;
}

uint64_t utxo_visible_lovelace(const utxo *u) {
  uint64_t below = (u->base ? utxo_visible_lovelace(u->base) : 0) + u->frozen_lovelace;
  return below + u->lovelace - u->dead_lovelace;
}

void utxo_free(utxo *u) {
  utxo_commit(u);
  for (size_t i = 0; i < u->n_pages; i++) free(u->pages[i]);
  free(u->pages);
  free(u->frozen_copy);
  if (u->frozen_owner.release != NULL) u->frozen_owner.release(u->frozen_owner.ctx);
  free(u->starts);
  free(u->slots);
  free(u->journal);
  utxo_addrs_free(&u->addrs);
  memset(u, 0, sizeof *u);
}

/* The slot holding the key, or SIZE_MAX. */
static size_t find_slot(const utxo *u, const uint8_t tx_id[32], uint32_t index, uint32_t h) {
  for (size_t i = home_of(u, h);; i = next_slot(u, i)) {
    utxo_slot s = u->slots[i];
    if (s.ref == 0) return SIZE_MAX;
    if (s.hash == h && same_key(utxo_at(u, s.ref - 1), tx_id, index)) return i;
  }
}

/* The table's own entry for the key (dead or alive), or NULL. */
static utxo_entry *own_entry(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  size_t i = find_slot(u, tx_id, index, key_hash(u, tx_id, index));
  return i == SIZE_MAX ? NULL : utxo_at(u, u->slots[i].ref - 1);
}

/* The entry of the key in this table, own or frozen (dead or alive). */
static const utxo_entry *this_entry(const utxo *u, const uint8_t tx_id[32], uint32_t index) {
  const utxo_entry *e = own_entry(u, tx_id, index);
  if (e == NULL && u->n_frozen > 0) e = utxo_frozen_find(u, tx_id, index);
  return e;
}

const utxo_entry *utxo_find(const utxo *u, const uint8_t tx_id[32], uint32_t index,
                            const utxo_addr **addr) {
  const utxo_entry *e = this_entry(u, tx_id, index);
  if (e != NULL) {
    if (utxo_dead(e)) return NULL;
    if (addr != NULL) *addr = &u->addrs.recs[e->addr];
    return e;
  }
  if (u->base == NULL) return NULL;
  CDL_ASSERT(u->base->generation == u->base_generation); /* the base changed under us */
  return utxo_find(u->base, tx_id, index, addr);
}

/* The entries below a table seen through it: those it holds no own entry
 * of (a dead one is spent, a live one replaced it). */
typedef struct each_below {
  const utxo *over;
  utxo_visit_fn fn;
  void *ctx;
} each_below;

static bool visit_below(void *ctx, const utxo_entry *e, const utxo_addr *a) {
  const each_below *b = ctx;
  return own_entry(b->over, e->tx_id, e->index) != NULL || b->fn(b->ctx, e, a);
}

bool utxo_each(const utxo *u, utxo_visit_fn fn, void *ctx) {
  for (size_t i = 0; i < u->count; i++) {
    const utxo_entry *e = utxo_at(u, i);
    if (!utxo_dead(e) && !fn(ctx, e, &u->addrs.recs[e->addr])) return false;
  }
  each_below below = {u, fn, ctx};
  for (size_t i = 0; i < u->n_frozen; i++)
    if (!visit_below(&below, &u->frozen[i], &u->addrs.recs[u->frozen[i].addr])) return false;
  if (u->base == NULL) return true;
  CDL_ASSERT(u->base->generation == u->base_generation); /* the base changed under us */
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

/* Pages for |count| entries; pages are only freed by utxo_commit, so a
 * rollback always finds room for what it puts back. */
static int pages_room(utxo *u, size_t count) {
  size_t need = (count + PAGE_ENTRIES - 1) >> UTXO_PAGE_BITS;
  if (need > u->cap_pages) {
    size_t cap = u->cap_pages ? u->cap_pages * 2 : 16;
    while (cap < need) cap *= 2;
    utxo_entry **grown = realloc(u->pages, cap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    u->pages = grown;
    u->cap_pages = cap;
  }
  while (u->n_pages < need) {
    utxo_entry *page = malloc(PAGE_ENTRIES * sizeof *page);
    if (page == NULL) return CDL_E_NOMEM;
    u->pages[u->n_pages++] = page;
  }
  return CDL_OK;
}

/* Frees the pages past the one in use and a spare, so that entries coming
 * and going at a page boundary do not allocate every time. */
static void pages_trim(utxo *u) {
  size_t keep = ((u->count + PAGE_ENTRIES - 1) >> UTXO_PAGE_BITS) + 1;
  while (u->n_pages > keep) free(u->pages[--u->n_pages]);
}

/* Room for |count| own entries in all (no growth while they arrive). */
static int utxo_reserve(utxo *u, size_t count) {
  if (count > MAX_ENTRIES) return CDL_E_NOMEM;
  while (count > u->cap / 4 * 3) CDL_TRY(grow_slots(u)); /* load factor at most 3/4 */
  return pages_room(u, count);
}

/* Appends an entry known absent, room reserved. */
static void place(utxo *u, const utxo_entry *entry, uint32_t hash) {
  *utxo_at(u, u->count++) = *entry;
  if (utxo_dead(entry)) {
    u->n_dead++;
    u->dead_lovelace += entry->lovelace;
  } else {
    u->lovelace += entry->lovelace;
  }
  u->generation++;
  link_slot(u, hash, (uint32_t)u->count);
}

static int journal_room(utxo *u) {
  if (u->n_journal < u->cap_journal) return CDL_OK;
  size_t cap = u->cap_journal ? u->cap_journal * 2 : 64;
  utxo_undo *j = realloc(u->journal, cap * sizeof *j);
  if (j == NULL) return CDL_E_NOMEM;
  u->journal = j;
  u->cap_journal = cap;
  return CDL_OK;
}

/* Records a change, room made by journal_room. */
static void journal(utxo *u, bool added, const utxo_entry *entry) {
  CDL_ASSERT(u->n_journal < u->cap_journal);
  u->journal[u->n_journal++] = (utxo_undo){added, *entry};
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
  const utxo_entry *gone = utxo_at(u, ref - 1);
  if (utxo_dead(gone)) {
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
  const utxo_entry *moved = utxo_at(u, last - 1);
  size_t j = home_of(u, key_hash(u, moved->tx_id, moved->index));
  while (u->slots[j].ref != last) j = next_slot(u, j);
  u->slots[j].ref = ref;
  *utxo_at(u, ref - 1) = *moved;
}

static int utxo_remove_own(utxo *u, const uint8_t tx_id[32], uint32_t index);

int utxo_insert(utxo *u, const uint8_t tx_id[32], uint32_t index, const cdl_byron_address *addr,
                uint64_t lovelace) {
  uint32_t hash = key_hash(u, tx_id, index);
  if (utxo_find(u, tx_id, index, NULL) != NULL) return CDL_E_USAGE;
  if (own_entry(u, tx_id, index) != NULL) CDL_TRY(utxo_remove_own(u, tx_id, index)); /* dead */
  CDL_TRY(utxo_reserve(u, u->count + 1));
  CDL_TRY(journal_room(u));
  utxo_entry e = {.index = index, .lovelace = lovelace};
  memcpy(e.tx_id, tx_id, 32);
  CDL_TRY(utxo_addrs_hold(&u->addrs, addr, &e.addr));
  journal(u, true, &e);
  place(u, &e, hash);
  return CDL_OK;
}

/* Removes the table's own entry for the key, journaled. */
static int utxo_remove_own(utxo *u, const uint8_t tx_id[32], uint32_t index) {
  size_t i = find_slot(u, tx_id, index, key_hash(u, tx_id, index));
  if (i == SIZE_MAX) return CDL_E_USAGE;
  CDL_TRY(journal_room(u));
  /* The journal now holds the address (released on commit). */
  journal(u, false, utxo_at(u, u->slots[i].ref - 1));
  take_slot(u, i);
  return CDL_OK;
}

/* Spends an output below the table (frozen or the base's): a dead entry
 * under its key. */
static int kill_below(utxo *u, const utxo_entry *below) {
  utxo_entry e = {.index = below->index, .lovelace = below->lovelace, .addr = UTXO_DEAD};
  memcpy(e.tx_id, below->tx_id, 32);
  CDL_TRY(utxo_reserve(u, u->count + 1));
  CDL_TRY(journal_room(u));
  journal(u, true, &e);
  place(u, &e, key_hash(u, e.tx_id, e.index));
  return CDL_OK;
}

int utxo_remove(utxo *u, const uint8_t tx_id[32], uint32_t index) {
  const utxo_entry *own = own_entry(u, tx_id, index);
  if (own != NULL) return utxo_dead(own) ? CDL_E_USAGE : utxo_remove_own(u, tx_id, index);
  const utxo_entry *below = u->n_frozen > 0 ? utxo_frozen_find(u, tx_id, index) : NULL;
  if (below == NULL && u->base != NULL) below = utxo_find(u->base, tx_id, index, NULL);
  if (below == NULL) return CDL_E_USAGE;
  return kill_below(u, below);
}

void utxo_commit(utxo *u) {
  for (size_t i = 0; i < u->n_journal; i++)
    if (!u->journal[i].added) release_entry(u, &u->journal[i].entry);
  u->n_journal = 0;
  pages_trim(u);
}

void utxo_rollback(utxo *u) {
  while (u->n_journal > 0) {
    utxo_undo *op = &u->journal[--u->n_journal];
    uint32_t hash = key_hash(u, op->entry.tx_id, op->entry.index);
    if (op->added) {
      size_t i = find_slot(u, op->entry.tx_id, op->entry.index, hash);
      CDL_ASSERT(i != SIZE_MAX); /* added in this block: present */
      release_entry(u, utxo_at(u, u->slots[i].ref - 1));
      take_slot(u, i);
    } else {
      place(u, &op->entry, hash); /* room suffices: it held this entry before */
    }
  }
}
