/*
 * mempool.c: the mempool's entries, their index and their validation
 * against a fork of the tip ledger (include/cardinal/mempool.h,
 * docs/mempool.md; the behaviour of ouroboros-consensus's Mempool: entries
 * applied in order on the ticked tip, re-validated on every chain change).
 *
 * Entries sit in an array in ticket order; an open-addressing table keyed
 * by SipHash of (kind, id) with a random key finds them by id, so a peer
 * cannot choose ids that collide. Removals happen only in sync, which
 * compacts the array and rebuilds the table.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mempool_internal.h"

typedef struct mp_item {
  uint64_t ticket, slot;
  uint8_t kind;
  uint8_t id[32];
  size_t size;
  uint8_t *bytes; /* the GenTx */
  size_t len;
} mp_item;

struct cdl_mempool {
  cdl_mempool_config cfg;
  mp_item *items;
  size_t n, cap;
  size_t bytes;
  uint32_t *table;  /* item position + 1; 0: empty */
  size_t table_cap; /* a power of two, at least twice n */
  uint8_t key[MP_ID_KEY_BYTES];
  cdl_ledger *fork; /* the tip with every entry applied */
  bool stale;       /* emptied by a failed sync (|fork| still holds what was
                       applied), or empty with no fork (NULL): made again
                       before an add */
  uint64_t max_block; /* the tip's maxBlockSize while there is no fork */
  uint64_t slot;    /* the slot entries are validated for */
  cdl_arena arena;  /* scratch for decoding one payload */
  cdl_mempool_stats stats;
  mp_fetching *fetching; /* txs being pulled from peers (fetching.c) */
};

mp_fetching *mp_fetching_of(cdl_mempool *mp) { return mp->fetching; }

/* ---- The index ---- */

_Static_assert(MP_ID_KEY_BYTES == crypto_shorthash_KEYBYTES, "SipHash-2-4 takes a 16-byte key");

uint64_t mp_id_hash(const uint8_t key[MP_ID_KEY_BYTES], uint8_t kind, const uint8_t id[32]) {
  uint8_t msg[33], h[crypto_shorthash_BYTES];
  msg[0] = kind;
  memcpy(msg + 1, id, 32);
  crypto_shorthash(h, msg, sizeof msg, key);
  uint64_t v;
  memcpy(&v, h, sizeof v);
  return v;
}

static size_t slot_of(const cdl_mempool *mp, uint8_t kind, const uint8_t id[32]) {
  return (size_t)mp_id_hash(mp->key, kind, id) & (mp->table_cap - 1);
}

static size_t find_pos(const cdl_mempool *mp, uint8_t kind, const uint8_t id[32]) {
  if (mp->table_cap == 0) return SIZE_MAX;
  for (size_t i = slot_of(mp, kind, id);; i = (i + 1) & (mp->table_cap - 1)) {
    uint32_t ref = mp->table[i];
    if (ref == 0) return SIZE_MAX;
    const mp_item *it = &mp->items[ref - 1];
    if (it->kind == kind && memcmp(it->id, id, 32) == 0) return ref - 1;
  }
}

static void link_pos(cdl_mempool *mp, size_t pos) {
  /* At most half full: every probe meets an empty slot. */
  CDL_ASSERT(pos < mp->n && 2 * mp->n <= mp->table_cap);
  const mp_item *it = &mp->items[pos];
  size_t i = slot_of(mp, it->kind, it->id);
  while (mp->table[i] != 0) i = (i + 1) & (mp->table_cap - 1);
  mp->table[i] = (uint32_t)(pos + 1);
}

/* The table size for |n| entries (room to double before the next rebuild). */
static size_t table_cap_for(size_t n) {
  size_t cap = 64;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

static int rebuild_table(cdl_mempool *mp, size_t n) {
  size_t cap = table_cap_for(n);
  uint32_t *t = calloc(cap, sizeof *t);
  if (t == NULL) return CDL_E_NOMEM;
  free(mp->table);
  mp->table = t;
  mp->table_cap = cap;
  for (size_t i = 0; i < mp->n; i++) link_pos(mp, i);
  return CDL_OK;
}

/* ---- Life cycle ---- */

static uint64_t validation_slot(const cdl_ledger *tip, uint64_t slot) {
  cdl_ledger_tip t;
  cdl_ledger_get_tip(tip, &t);
  /* The next block comes after the tip, whatever the caller's clock says. */
  if (!t.at_genesis && slot <= t.slot) slot = t.slot + 1;
  return slot;
}

static int new_fork(const cdl_ledger *tip, uint64_t slot, cdl_ledger **out) {
  CDL_TRY(cdl_ledger_fork(tip, out));
  int rc = cdl_ledger_tick(*out, slot);
  if (rc != CDL_OK) {
    cdl_ledger_del(*out);
    *out = NULL;
  }
  return rc;
}

/* Twice what a block holds: maxBlockSize less the bytes of a block that
 * are not payload (ouroboros-consensus byronBlockEncodingOverhead). */
#define BLOCK_OVERHEAD 1686

static size_t mp_capacity(const cdl_mempool *mp) {
  if (mp->cfg.capacity_bytes) return mp->cfg.capacity_bytes;
  uint64_t max = mp->fork ? cdl_ledger_params(mp->fork)->max_block_size : mp->max_block;
  return max > BLOCK_OVERHEAD ? (size_t)(2 * (max - BLOCK_OVERHEAD)) : 0;
}

int cdl_mempool_new(const cdl_mempool_config *cfg, const cdl_ledger *tip, uint64_t slot,
                    cdl_mempool **out) {
  cdl_mempool *mp = calloc(1, sizeof *mp);
  if (mp == NULL) return CDL_E_NOMEM;
  mp->cfg = *cfg;
  crypto_shorthash_keygen(mp->key);
  cdl_arena_init(&mp->arena, MP_DECODE_ARENA_BYTES);
  mp->slot = validation_slot(tip, slot);
  int rc = new_fork(tip, mp->slot, &mp->fork);
  if (rc == CDL_OK) rc = rebuild_table(mp, 0);
  if (rc == CDL_OK) rc = mp_fetching_new(&mp->fetching);
  if (rc != CDL_OK) {
    cdl_mempool_del(mp);
    return rc;
  }
  *out = mp;
  return CDL_OK;
}

static void clear_items(cdl_mempool *mp) {
  for (size_t i = 0; i < mp->n; i++) free(mp->items[i].bytes);
  mp->n = 0;
  mp->bytes = 0;
}

void cdl_mempool_del(cdl_mempool *mp) {
  if (mp == NULL) return;
  clear_items(mp);
  free(mp->items);
  free(mp->table);
  cdl_ledger_del(mp->fork);
  cdl_arena_free(&mp->arena);
  mp_fetching_del(mp->fetching);
  free(mp);
}

/* ---- Re-validation ---- */

static bool expired(const cdl_mempool *mp, const mp_item *it, uint64_t slot) {
  return mp->cfg.ttl_slots > 0 && slot >= it->slot && slot - it->slot >= mp->cfg.ttl_slots;
}

/* Re-applies item |it| to |fork|: 0 keep, CDL_E_REJECTED drop. */
static int reapply(cdl_mempool *mp, cdl_ledger *fork, const mp_item *it, uint64_t slot) {
  cdl_arena_reset(&mp->arena);
  mp_payload pl;
  cdl_rejection rej;
  CDL_TRY(mp_payload_decode(it->bytes, it->len, &mp->arena, &pl, &rej));
  mp_payload_trust(&pl); /* verified when it was added */
  return mp_payload_apply(fork, &pl, slot, &rej);
}

/* Out of memory while re-validating: whatever was not re-applied may be
 * invalid on the new tip, where a forger would take it, so every entry
 * goes (counted in removed_emptied, so readers see the change); the
 * index is cleared in place (it would find entries no longer there) and
 * the fork, which still holds what was applied to it, is made again
 * before the next add (|stale|). Nothing here allocates. */
static void empty_out(cdl_mempool *mp) {
  mp->stats.removed_emptied += mp->n;
  clear_items(mp);
  memset(mp->table, 0, mp->table_cap * sizeof *mp->table);
  mp->stale = true;
}

/* An empty mempool keeps no fork: a syncing node's tip moves with every
 * block, and a fork made for each would go unused; the next add makes one
 * (|stale|). */
static void drop_fork(cdl_mempool *mp, const cdl_ledger *tip, uint64_t slot) {
  CDL_ASSERT(mp->n == 0 && mp->bytes == 0);
  mp->max_block = cdl_ledger_params(tip)->max_block_size;
  cdl_ledger_del(mp->fork);
  mp->fork = NULL;
  mp->stale = true;
  mp->slot = validation_slot(tip, slot);
}

static int resync(cdl_mempool *mp, const cdl_ledger *tip, uint64_t slot);

int cdl_mempool_sync(cdl_mempool *mp, const cdl_ledger *tip, uint64_t slot) {
  if (mp->n == 0) {
    drop_fork(mp, tip, slot);
    return CDL_OK;
  }
  return resync(mp, tip, slot);
}

/* A new fork of |tip| with every entry re-applied in order. */
static int resync(cdl_mempool *mp, const cdl_ledger *tip, uint64_t slot) {
  uint64_t vslot = validation_slot(tip, slot);
  cdl_ledger *fork = NULL;
  int rc = new_fork(tip, vslot, &fork);
  size_t kept = 0, bytes = 0, i = 0;
  for (; rc == CDL_OK && i < mp->n; i++) {
    mp_item it = mp->items[i];
    int verdict = expired(mp, &it, slot) ? CDL_E_TIMEOUT : reapply(mp, fork, &it, vslot);
    if (verdict == CDL_E_NOMEM) {
      rc = verdict;
      break; /* item i is still in place, and every one after it */
    }
    if (verdict != CDL_OK) {
      free(it.bytes);
      mp->stats.removed_expired += verdict == CDL_E_TIMEOUT;
      mp->stats.removed_invalid += verdict == CDL_E_REJECTED;
      continue;
    }
    mp->items[kept++] = it;
    bytes += it.size;
  }
  /* The index for the kept entries, made before anything is committed. */
  uint32_t *table = NULL;
  size_t table_cap = table_cap_for(kept);
  if (rc == CDL_OK && (table = calloc(table_cap, sizeof *table)) == NULL) rc = CDL_E_NOMEM;
  if (rc != CDL_OK) {
    for (size_t j = i; j < mp->n; j++) mp->items[kept++] = mp->items[j];
    mp->n = kept;
    empty_out(mp);
    cdl_ledger_del(fork);
    return rc;
  }
  CDL_ASSERT(kept <= mp->n && bytes <= mp->bytes); /* re-validation only drops */
  mp->n = kept;
  mp->bytes = bytes;
  cdl_ledger_del(mp->fork);
  mp->fork = fork;
  mp->stale = false;
  mp->slot = vslot;
  free(mp->table);
  mp->table = table;
  mp->table_cap = table_cap;
  for (size_t j = 0; j < mp->n; j++) link_pos(mp, j);
  return CDL_OK;
}

/* ---- Adding ---- */

static int mp_reject(cdl_mempool *mp, cdl_rejection *rej, const char *rule, const char *detail,
                     const uint8_t id[32]) {
  memset(rej, 0, sizeof *rej);
  rej->rule = rule;
  rej->has_tx = true;
  memcpy(rej->tx_id, id, 32);
  snprintf(rej->detail, sizeof rej->detail, "%s", detail);
  mp->stats.rejected++;
  return CDL_E_REJECTED;
}

/* The node's own policy beyond the ledger's rules (docs/mempool.md "Policy
 * and block validity"). The ledger pairs witnesses with inputs by position
 * and checks nothing for an input left without one (cardano-ledger's
 * truncating zip), so a tx with fewer witnesses than inputs may spend
 * outputs nobody signed for. A block holding one stays valid; this node
 * only refuses to take one in, and so never relays or forges it. */
static int check_policy(cdl_mempool *mp, const mp_payload *pl, cdl_rejection *rej) {
  const cdl_byron_txaux *aux = &pl->tx;
  if (pl->kind != CDL_MP_TX || aux->n_witnesses >= aux->tx.n_inputs) return CDL_OK;
  char why[120];
  snprintf(why, sizeof why, "witnesses for %zu of %zu inputs: input %zu is unsigned",
           aux->n_witnesses, aux->tx.n_inputs, aux->n_witnesses);
  mp_reject(mp, rej, CDL_RULE_MEMPOOL_WITNESSES, why, pl->id);
  const cdl_byron_txin *in = &aux->tx.inputs[aux->n_witnesses];
  rej->has_input = true;
  memcpy(rej->input_tx_id, in->tx_id, 32);
  rej->input_index = in->index;
  return CDL_E_REJECTED;
}

/* Room for one more entry and a copy of its bytes, taken before the
 * payload is applied to the fork: once applied, keeping it cannot fail, so
 * the fork never holds a payload the mempool lost. */
static int make_room(cdl_mempool *mp, const uint8_t *gentx, size_t len, uint8_t **copy) {
  if (mp->n == mp->cap) {
    size_t cap = mp->cap ? mp->cap * 2 : 64;
    mp_item *items = realloc(mp->items, cap * sizeof *items);
    if (items == NULL) return CDL_E_NOMEM;
    mp->items = items;
    mp->cap = cap;
  }
  if (2 * (mp->n + 1) > mp->table_cap) CDL_TRY(rebuild_table(mp, mp->n + 1));
  *copy = malloc(len);
  if (*copy == NULL) return CDL_E_NOMEM;
  memcpy(*copy, gentx, len);
  return CDL_OK;
}

static void keep(cdl_mempool *mp, uint8_t *copy, size_t len, const mp_payload *pl, uint64_t slot,
                 cdl_mempool_entry *entry) {
  mp_item it = {.ticket = ++mp->stats.last_ticket,
                .slot = slot,
                .kind = pl->kind,
                .size = pl->body.len,
                .bytes = copy,
                .len = len};
  memcpy(it.id, pl->id, 32);
  CDL_ASSERT(mp->n < mp->cap && it.size <= len); /* make_room's room; a body within its GenTx */
  /* Tickets grow along the array: cdl_mempool_next searches it by them. */
  CDL_ASSERT(mp->n == 0 || mp->items[mp->n - 1].ticket < it.ticket);
  mp->items[mp->n++] = it;
  mp->bytes += it.size;
  link_pos(mp, mp->n - 1);
  mp->stats.accepted++;
  if (entry != NULL) cdl_mempool_at(mp, mp->n - 1, entry);
}

/* Applies |pl| to |fork|, the ledger's refusal counted and naming the
 * payload. */
static int apply_counted(cdl_mempool *mp, cdl_ledger *fork, const mp_payload *pl,
                         cdl_rejection *rej) {
  int rc = mp_payload_apply(fork, pl, mp->slot, rej);
  if (rc == CDL_E_REJECTED) {
    mp->stats.rejected++;
    if (!rej->has_tx) {
      rej->has_tx = true;
      memcpy(rej->tx_id, pl->id, 32);
    }
  }
  return rc;
}

/* No room for |pl| now. A payload larger than the whole capacity never
 * fits. Any other is judged as if there were room, on a scratch fork of
 * the mempool's (dropped after): what a full mempool refuses as
 * mempool.full is what it would take, so a submitter that waits for room
 * (docs/network.md "Local tx-submission") waits only for that, and a
 * payload refused for another rule is told so at once. That costs a fork
 * (its delegation, update and PBFT state) and a validation, only while
 * the mempool is full; the payload is validated again when it is added. */
static int refuse_full(cdl_mempool *mp, const mp_payload *pl, cdl_rejection *rej) {
  char why[120];
  size_t capacity = mp_capacity(mp);
  if (pl->body.len > capacity) {
    snprintf(why, sizeof why, "%zu bytes: more than the whole capacity of %zu", pl->body.len,
             capacity);
    return mp_reject(mp, rej, CDL_RULE_MEMPOOL_TOO_LARGE, why, pl->id);
  }
  cdl_ledger *scratch = NULL;
  CDL_TRY(cdl_ledger_fork(mp->fork, &scratch));
  int rc = apply_counted(mp, scratch, pl, rej);
  cdl_ledger_del(scratch);
  if (rc != CDL_OK) return rc;
  snprintf(why, sizeof why, "%zu bytes do not fit: %zu of %zu in use", pl->body.len, mp->bytes,
           capacity);
  return mp_reject(mp, rej, CDL_RULE_MEMPOOL_FULL, why, pl->id);
}

int cdl_mempool_add(cdl_mempool *mp, const cdl_ledger *tip, const uint8_t *gentx, size_t len,
                    uint64_t slot, cdl_mempool_entry *entry, cdl_rejection *rej) {
  if (mp->stale || !cdl_ledger_fork_current(mp->fork, tip)) CDL_TRY(resync(mp, tip, slot));
  if (slot > mp->slot) { /* time moved on: validate for the later slot */
    CDL_TRY(cdl_ledger_tick(mp->fork, slot));
    mp->slot = slot;
  }
  cdl_arena_reset(&mp->arena);
  mp_payload pl;
  int rc = mp_payload_decode(gentx, len, &mp->arena, &pl, rej);
  if (rc == CDL_E_REJECTED) mp->stats.rejected++;
  if (rc != CDL_OK) return rc;
  CDL_TRY(check_policy(mp, &pl, rej));
  if (find_pos(mp, pl.kind, pl.id) != SIZE_MAX)
    return mp_reject(mp, rej, CDL_RULE_MEMPOOL_DUPLICATE, "already in the mempool", pl.id);
  if (mp->bytes + pl.body.len > mp_capacity(mp)) return refuse_full(mp, &pl, rej);
  uint8_t *copy = NULL;
  CDL_TRY(make_room(mp, gentx, len, &copy));
  rc = apply_counted(mp, mp->fork, &pl, rej);
  if (rc != CDL_OK) free(copy);
  if (rc != CDL_OK) return rc;
  keep(mp, copy, len, &pl, slot, entry);
  CDL_ASSERT(mp->bytes <= mp_capacity(mp)); /* checked above, before the fork changed */
  return CDL_OK;
}

/* ---- Reading ---- */

void cdl_mempool_stats_get(const cdl_mempool *mp, cdl_mempool_stats *s) {
  *s = mp->stats;
  s->count = mp->n;
  s->bytes = mp->bytes;
  s->capacity = mp_capacity(mp);
  s->tip_slot = mp->slot;
}

uint64_t cdl_mempool_changes(const cdl_mempool *mp) {
  return mp->stats.last_ticket + mp->stats.removed_invalid + mp->stats.removed_expired +
         mp->stats.removed_emptied;
}

bool cdl_mempool_at(const cdl_mempool *mp, size_t i, cdl_mempool_entry *e) {
  if (i >= mp->n) return false;
  const mp_item *it = &mp->items[i];
  *e = (cdl_mempool_entry){.ticket = it->ticket,
                           .kind = it->kind,
                           .size = it->size,
                           .slot = it->slot,
                           .gentx = cdl_span_of(it->bytes, it->len)};
  memcpy(e->id, it->id, 32);
  return true;
}

bool cdl_mempool_next(const cdl_mempool *mp, uint64_t after, cdl_mempool_entry *e) {
  size_t lo = 0, hi = mp->n; /* tickets increase along the array */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (mp->items[mid].ticket <= after)
      lo = mid + 1;
    else
      hi = mid;
  }
  return cdl_mempool_at(mp, lo, e);
}

bool cdl_mempool_find(const cdl_mempool *mp, uint8_t kind, const uint8_t id[32],
                      cdl_mempool_entry *e) {
  size_t pos = find_pos(mp, kind, id);
  return pos != SIZE_MAX && cdl_mempool_at(mp, pos, e);
}
