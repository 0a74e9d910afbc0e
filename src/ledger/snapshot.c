/*
 * snapshot.c: ledger state snapshots, the writer (snapshot_read.c reads
 * them back). A snapshot is a self-contained binary image of a cdl_ledger
 * between blocks, so that a ChainDB can write the ledger to disk every N
 * blocks and on shutdown and resume from the newest valid image instead of
 * replaying the chain from genesis. The format is Cardinal's own, not the
 * reference node's (docs/storage.md describes it for operators):
 *
 *   header   "CDLSNAP1", version u32 (3), total length u64 (the whole
 *            image, CRC included), genesis hash [32], protocol magic u32,
 *            requires_magic u8, k u64, tip: at_genesis u8, hash [32],
 *            slot u64, block_no u64, is_ebb u8             (115 bytes)
 *   genesis  n u32 (1..255), n key hashes [28]
 *   chain    last_slot u64, epoch u64, totals: blocks, ebbs, txs, fees u64
 *   utxo     count u64, lovelace u64, address bytes in all u64, then
 *            count entries in ascending (tx id, index) order: tx_id [32],
 *            index u32, lovelace u64, addr_type u8, root_off u16,
 *            attrs_off u32, attrs_len u32, addr_len u32, the address bytes
 *   dlg      per genesis key: has u8, delegate [28], last_slot u64;
 *            n u64 scheduled: slot u64, delegator u16, delegate [28];
 *            n u64 epoch keys: epoch u64, delegator u16
 *   update   adopted version, adopted params;
 *            n u64 proposals: id [32], flags u8 (1 protocol part, 2 software
 *              part, 4 confirmed), version, params, app name, app_version
 *              u32, reg_slot u64, confirm_slot u64, voters bitmap [32],
 *              metadata;
 *            n u64 apps (in name order): name, version u32, slot u64,
 *              metadata;
 *            n u64 candidates: slot u64, version, params;
 *            n u64 endorsements: version, genesis u16
 *   pbft     window u64 (= k), used u64, the used signers' genesis indices
 *            u16 oldest first, has_signed u8, last_signed_slot u64
 *   trailer  CRC32 (IEEE, as zlib's) u32 of every byte before it
 *
 * A version is major u16, minor u16, alt u8; params are script_version u16
 * then 16 u64 (snapshot_param_fields); an application name is its length
 * u8 (0..12) and 12 bytes, zero past the length; metadata is n u32, then n
 * entries in ascending tag order: tag length u8 (0..10), tag [10] zero
 * past the length, installer hash [32]. Version 2 (no metadata, names
 * NUL-terminated) is refused: the ChainDB then replays from an older
 * image or the genesis. Integers are little-endian and fixed
 * width. Arrays other than the UTxO keep the ledger's own order (it decides
 * outcomes: activation, candidates); the UTxO, a hash table seeded at
 * random, is sorted. So one state always gives the same bytes. What derives
 * from the rest (per-key PBFT counts, vote counts, UTxO witness data) is
 * not stored but recomputed on reading; the UTxO's witness data (address
 * type, where the root and attributes lie) is stored, so that reading
 * needs no address decoding (the reader bounds it within the address).
 */
#include <stdlib.h>

#include "internal.h"

static void put_le(cdl_buf *b, uint64_t v, size_t n) {
  uint8_t x[8];
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(v >> (8 * i));
  cdl_buf_append(b, x, n);
}

static void put_u8(cdl_buf *b, uint8_t v) { put_le(b, v, 1); }
static void put_u16(cdl_buf *b, uint16_t v) { put_le(b, v, 2); }
static void put_u32(cdl_buf *b, uint32_t v) { put_le(b, v, 4); }
static void put_u64(cdl_buf *b, uint64_t v) { put_le(b, v, 8); }
static void put_bytes(cdl_buf *b, const void *p, size_t n) { cdl_buf_append(b, p, n); }

static void put_version(cdl_buf *b, cdl_byron_version v) {
  put_u16(b, v.major);
  put_u16(b, v.minor);
  put_u8(b, v.alt);
}

static void put_params(cdl_buf *b, const cdl_byron_protocol_params *pp) {
  cdl_byron_protocol_params copy = *pp;
  uint64_t *f[SNAPSHOT_PARAM_U64S];
  snapshot_param_fields(&copy, f);
  put_u16(b, copy.script_version);
  for (size_t i = 0; i < SNAPSHOT_PARAM_U64S; i++) put_u64(b, *f[i]);
}

/* Bytes zero-padded to a fixed width, after their length. */
static void put_padded(cdl_buf *b, const char *bytes, uint8_t len, size_t width) {
  uint8_t out[SNAPSHOT_APP_NAME_BYTES] = {0};
  memcpy(out, bytes, len);
  put_u8(b, len);
  put_bytes(b, out, width);
}

static void put_metadata(cdl_buf *b, const upd_metadata *m) {
  put_u32(b, (uint32_t)m->count);
  for (size_t i = 0; i < m->count; i++) {
    put_padded(b, m->items[i].tag, m->items[i].tag_len, UPD_SYSTEM_TAG_MAX);
    put_bytes(b, m->items[i].hash, 32);
  }
}

static void put_header(cdl_buf *b, const cdl_ledger *l) {
  put_bytes(b, SNAPSHOT_MAGIC, 8);
  put_u32(b, SNAPSHOT_VERSION);
  put_u64(b, 0); /* the total length, filled in at the end */
  put_bytes(b, l->genesis_hash, 32);
  put_u32(b, l->cfg.protocol_magic);
  put_u8(b, l->cfg.requires_magic);
  put_u64(b, l->cfg.k);
  put_u8(b, l->tip.at_genesis);
  put_bytes(b, l->tip.hash, 32);
  put_u64(b, l->tip.slot);
  put_u64(b, l->tip.block_no);
  put_u8(b, l->tip.is_ebb);
}

static void put_chain(cdl_buf *b, const cdl_ledger *l) {
  put_u32(b, (uint32_t)l->n_genesis);
  put_bytes(b, l->genesis_keys, 28 * l->n_genesis);
  put_u64(b, l->last_slot);
  put_u64(b, l->epoch);
  put_u64(b, l->totals.blocks);
  put_u64(b, l->totals.ebbs);
  put_u64(b, l->totals.txs);
  put_u64(b, l->totals.fees_lovelace);
}

static int entry_order(const void *a, const void *b) {
  const utxo_entry *x = *(const utxo_entry *const *)a, *y = *(const utxo_entry *const *)b;
  int c = memcmp(x->tx_id, y->tx_id, 32);
  if (c != 0) return c;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* The entries in ascending (tx id, index) order; NULL when out of memory. */
static const utxo_entry **sorted_entries(const utxo *u) {
  const utxo_entry **sorted = malloc((u->count ? u->count : 1) * sizeof *sorted);
  if (sorted == NULL) return NULL;
  for (size_t i = 0; i < u->count; i++) sorted[i] = &u->entries[i];
  qsort(sorted, u->count, sizeof *sorted, entry_order);
  return sorted;
}

static size_t address_bytes(const utxo *u) {
  size_t n = 0;
  for (size_t i = 0; i < u->count; i++) n += u->entries[i].addr_len;
  return n;
}

static void put_utxo(cdl_buf *b, const utxo *u, const utxo_entry **sorted) {
  put_u64(b, u->count);
  put_u64(b, u->lovelace);
  put_u64(b, address_bytes(u));
  for (size_t i = 0; i < u->count; i++) {
    const utxo_entry *e = sorted[i];
    put_bytes(b, e->tx_id, 32);
    put_u32(b, e->index);
    put_u64(b, e->lovelace);
    put_u8(b, e->addr_type);
    put_u16(b, e->root_off);
    put_u32(b, e->attrs_off);
    put_u32(b, e->attrs_len);
    put_u32(b, e->addr_len);
    put_bytes(b, e->addr, e->addr_len);
  }
}

static void put_dlg(cdl_buf *b, const dlg_state *d) {
  for (size_t g = 0; g < d->n; g++) {
    put_u8(b, d->has[g]);
    put_bytes(b, d->delegate[g], 28);
    put_u64(b, d->last_slot[g]);
  }
  put_u64(b, d->n_sched);
  for (size_t i = 0; i < d->n_sched; i++) {
    put_u64(b, d->sched[i].slot);
    put_u16(b, d->sched[i].delegator);
    put_bytes(b, d->sched[i].delegate, 28);
  }
  put_u64(b, d->n_keys);
  for (size_t i = 0; i < d->n_keys; i++) {
    put_u64(b, d->keys[i].epoch);
    put_u16(b, d->keys[i].delegator);
  }
}

static void put_proposal(cdl_buf *b, const upd_proposal *r) {
  put_bytes(b, r->id, 32);
  put_u8(b, (uint8_t)(r->has_protocol | r->has_software << 1 | r->confirmed << 2));
  put_version(b, r->pv);
  put_params(b, &r->pp);
  put_padded(b, r->app.bytes, r->app.len, SNAPSHOT_APP_NAME_BYTES);
  put_u32(b, r->app_version);
  put_u64(b, r->reg_slot);
  put_u64(b, r->confirm_slot);
  put_bytes(b, r->voters, VOTER_BYTES);
  put_metadata(b, &r->meta);
}

static void put_upd(cdl_buf *b, const upd_state *u) {
  put_version(b, u->adopted_pv);
  put_params(b, &u->adopted_pp);
  put_u64(b, u->n_props);
  for (size_t i = 0; i < u->n_props; i++) put_proposal(b, &u->props[i]);
  put_u64(b, u->n_apps);
  for (size_t i = 0; i < u->n_apps; i++) {
    const upd_app *a = &u->apps[i];
    put_padded(b, a->name.bytes, a->name.len, SNAPSHOT_APP_NAME_BYTES);
    put_u32(b, a->version);
    put_u64(b, a->slot);
    put_metadata(b, &a->meta);
  }
  put_u64(b, u->n_cands);
  for (size_t i = 0; i < u->n_cands; i++) {
    put_u64(b, u->cands[i].slot);
    put_version(b, u->cands[i].pv);
    put_params(b, &u->cands[i].pp);
  }
  put_u64(b, u->n_ends);
  for (size_t i = 0; i < u->n_ends; i++) {
    put_version(b, u->ends[i].pv);
    put_u16(b, u->ends[i].genesis);
  }
}

static void put_pbft(cdl_buf *b, const pbft_window *w) {
  put_u64(b, w->size);
  put_u64(b, w->used);
  /* Oldest first: a full ring's oldest entry is the next to be replaced. */
  size_t first = w->used == w->size ? w->next : 0;
  for (size_t i = 0; i < w->used; i++) put_u16(b, w->signers[(first + i) % w->size]);
  put_u8(b, w->has_signed);
  put_u64(b, w->last_signed_slot);
}

/* The image's exact size, so that the buffer is reserved once. */
static size_t image_size(const cdl_ledger *l) {
  const size_t version = 5, params = 2 + 8 * SNAPSHOT_PARAM_U64S;
  const upd_state *u = &l->upd;
  size_t n = SNAPSHOT_HEADER_BYTES + 4 + 28 * l->n_genesis + 6 * 8;
  n += 24 + SNAPSHOT_UTXO_ENTRY_BYTES * l->utxo.count + address_bytes(&l->utxo);
  n += 37 * l->dlg.n + 8 + 38 * l->dlg.n_sched + 8 + 10 * l->dlg.n_keys;
  n += version + params + 4 * 8;
  n += u->n_props * SNAPSHOT_PROPOSAL_BYTES + u->n_apps * SNAPSHOT_APP_BYTES;
  for (size_t i = 0; i < u->n_props; i++) n += SNAPSHOT_INSTALLER_BYTES * u->props[i].meta.count;
  for (size_t i = 0; i < u->n_apps; i++) n += SNAPSHOT_INSTALLER_BYTES * u->apps[i].meta.count;
  n += u->n_cands * (8 + version + params) + u->n_ends * (version + 2);
  return n + 16 + 2 * l->pbft.used + 9 + 4;
}

int cdl_ledger_snapshot_write(const cdl_ledger *l, cdl_buf *out) {
  if (l->utxo.base != NULL) return CDL_E_USAGE; /* a fork holds only differences */
  /* Between blocks: no journal or saved copy of a block in progress. */
  CDL_ASSERT(l->utxo.n_journal == 0 && !l->dlg_saved && !l->upd_saved);
  size_t start = out->len, size = image_size(l);
  CDL_TRY(cdl_buf_reserve(out, size)); /* the appends below cannot fail */
  const utxo_entry **sorted = sorted_entries(&l->utxo);
  if (sorted == NULL) return CDL_E_NOMEM;
  put_header(out, l);
  put_chain(out, l);
  put_utxo(out, &l->utxo, sorted);
  free(sorted);
  put_dlg(out, &l->dlg);
  put_upd(out, &l->upd);
  put_pbft(out, &l->pbft);
  CDL_ASSERT(!out->failed && out->len - start == size - 4);
  for (size_t i = 0; i < 8; i++)
    out->data[start + SNAPSHOT_LENGTH_OFFSET + i] = (uint8_t)((uint64_t)size >> (8 * i));
  put_u32(out, cdl_crc32(out->data + start, size - 4));
  return CDL_OK;
}

void cdl_ledger_set_flags(cdl_ledger *l, unsigned flags) { l->cfg.flags = flags; }
