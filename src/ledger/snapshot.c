/*
 * snapshot.c: ledger state snapshots, the writer (snapshot_read.c reads
 * them back). A snapshot is a self-contained binary image of a cdl_ledger
 * between blocks, so that a ChainDB can write the ledger to disk every N
 * blocks and on shutdown and resume from the newest valid image instead of
 * replaying the chain from genesis. The format is Cardinal's own, not the
 * reference node's (docs/storage.md describes it for operators):
 *
 *   header   "CDLSNAP1", version u32 (4), total length u64 (the whole
 *            image, CRC included), genesis hash [32], protocol magic u32,
 *            requires_magic u8, k u64, tip: at_genesis u8, hash [32],
 *            slot u64, block_no u64, is_ebb u8             (115 bytes)
 *   genesis  n u32 (1..255), n key hashes [28]
 *   chain    last_slot u64, epoch u64, totals: blocks, ebbs, txs, fees u64
 *   utxo     count u64, lovelace u64, n_addresses u64, address bytes in
 *            all u64; n_addresses distinct addresses in the order the
 *            entries first name them: addr_type u8, root_off u16,
 *            attrs_off u32, attrs_len u32, addr_len u32, the address bytes
 *            (15 + addr_len bytes); zero bytes to the next multiple of 8
 *            from the image's start; then count entries in ascending
 *            (tx id, index) order: tx_id [32], index u32, address u32 (its
 *            place in the list), lovelace u64 (48 bytes, a utxo_entry as
 *            it lies in memory on a little-endian host: a mapped image's
 *            entries are read in place)
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
 * past the length, installer hash [32]. Older versions (2: no metadata,
 * names NUL-terminated; 3: the address repeated in every entry) are
 * refused: the ChainDB then replays from an older image or the genesis.
 * Integers are little-endian and fixed width. Arrays other than the UTxO
 * keep the ledger's own order (it decides outcomes: activation,
 * candidates); the UTxO, a hash table seeded at random, is sorted, and its
 * addresses listed in the order the sorted entries first name them. So one
 * state always gives the same bytes. What derives
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

static void put_header(cdl_buf *b, const cdl_ledger *l, size_t size) {
  put_bytes(b, SNAPSHOT_MAGIC, 8);
  put_u32(b, SNAPSHOT_VERSION);
  put_u64(b, size); /* the whole image's, known before a byte is written */
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

/* The UTxO as an image lists it: the visible entries in ascending key
 * order, and the distinct addresses in the order the entries first name
 * them (so one UTxO gives one list, whatever the store's ids). */
typedef struct utxo_plan {
  const utxo_entry **sorted;
  size_t n;
  uint32_t *place;  /* by store id: its place in the list; UINT32_MAX: none yet */
  uint32_t *order;  /* store ids in list order */
  size_t n_addr;
  uint64_t addr_bytes;
} utxo_plan;

static void plan_free(utxo_plan *p) {
  free(p->sorted);
  free(p->place);
  free(p->order);
}

static int plan_utxo(const utxo *u, utxo_plan *p) {
  memset(p, 0, sizeof *p);
  const utxo_addrs *s = &u->addrs;
  p->n = utxo_visible_count(u);
  p->place = malloc((s->n_recs ? s->n_recs : 1) * sizeof *p->place);
  p->order = malloc((s->used ? s->used : 1) * sizeof *p->order);
  if (p->place == NULL || p->order == NULL || utxo_sorted(u, &p->sorted) != CDL_OK) {
    plan_free(p);
    return CDL_E_NOMEM;
  }
  memset(p->place, 0xff, s->n_recs * sizeof *p->place);
  for (size_t i = 0; i < p->n; i++) {
    uint32_t id = p->sorted[i]->addr;
    if (p->place[id] != UINT32_MAX) continue;
    CDL_ASSERT(p->n_addr < s->used); /* an entry's address is held */
    p->place[id] = (uint32_t)p->n_addr;
    p->order[p->n_addr++] = id;
    p->addr_bytes += s->recs[id].len;
  }
  return CDL_OK;
}

static void store_le(uint8_t *at, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) at[i] = (uint8_t)(v >> (8 * i));
}

/* Where an image goes: all of it into one buffer (cdl_ledger_snapshot_write),
 * or a piece at a time through a buffer of about FLUSH_BYTES handed to a
 * sink as it fills (cdl_ledger_snapshot_stream), its CRC kept as it goes. */
#define FLUSH_BYTES ((size_t)1 << 20)
#define FLUSH_EVERY 4096 /* UTxO items between looks at the buffer */

typedef struct image_out {
  cdl_buf *b;
  size_t start;     /* the image's first byte in b (0 when streaming) */
  uint64_t flushed; /* bytes handed to the sink so far */
  cdl_ledger_image_sink sink; /* NULL: the whole image stays in b */
  void *ctx;
  uint32_t crc;     /* of the flushed bytes */
  int rc;
} image_out;

/* The image's bytes so far. */
static uint64_t out_pos(const image_out *o) { return o->flushed + (o->b->len - o->start); }

/* Hands the buffer to the sink when it is full (or |now|). */
static void flush(image_out *o, bool now) {
  if (o->sink == NULL || o->rc != CDL_OK || (!now && o->b->len < FLUSH_BYTES)) return;
  if (o->b->failed) {
    o->rc = CDL_E_NOMEM;
    return;
  }
  o->crc = cdl_crc32_update(o->crc, o->b->data, o->b->len);
  o->rc = o->sink(o->ctx, o->b->data, o->b->len);
  o->flushed += o->b->len;
  cdl_buf_reset(o->b);
}

/* Every FLUSH_EVERY items: false once the sink has failed (the rest of
 * the image is not worth building). */
static bool keep_going(image_out *o, size_t i) {
  if (i % FLUSH_EVERY == 0) flush(o, false);
  return o->rc == CDL_OK;
}

/* Zero bytes before the UTxO entries, which start at a multiple of 8 from
 * the image's start, so that a mapped image's entries can be read in
 * place (snapshot_read.c). */
static size_t entries_padding(uint64_t offset) { return (size_t)((8 - offset % 8) % 8); }

static void put_utxo(image_out *o, const utxo *u, const utxo_plan *p) {
  cdl_buf *b = o->b;
  put_u64(b, p->n);
  put_u64(b, utxo_visible_lovelace(u));
  put_u64(b, p->n_addr);
  put_u64(b, p->addr_bytes);
  for (size_t i = 0; i < p->n_addr; i++) {
    const utxo_addr *a = &u->addrs.recs[p->order[i]];
    uint8_t fixed[SNAPSHOT_UTXO_ADDRESS_BYTES];
    fixed[0] = a->type;
    store_le(fixed + 1, a->root_off, 2);
    store_le(fixed + 3, a->attrs_off, 4);
    store_le(fixed + 7, a->attrs_len, 4);
    store_le(fixed + 11, a->len, 4);
    put_bytes(b, fixed, sizeof fixed);
    put_bytes(b, a->bytes, a->len);
    if (!keep_going(o, i)) return;
  }
  static const uint8_t zeros[8];
  put_bytes(b, zeros, entries_padding(out_pos(o)));
  for (size_t i = 0; i < p->n; i++) {
    if (!keep_going(o, i)) return;
    const utxo_entry *e = p->sorted[i];
    uint8_t entry[SNAPSHOT_UTXO_ENTRY_BYTES];
    memcpy(entry, e->tx_id, 32);
    store_le(entry + 32, e->index, 4);
    store_le(entry + 36, p->place[e->addr], 4);
    store_le(entry + 40, e->lovelace, 8);
    put_bytes(b, entry, sizeof entry);
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
static size_t image_size(const cdl_ledger *l, const utxo_plan *p) {
  const size_t version = 5, params = 2 + 8 * SNAPSHOT_PARAM_U64S;
  const upd_state *u = &l->upd;
  size_t n = SNAPSHOT_HEADER_BYTES + 4 + 28 * l->n_genesis + 6 * 8;
  n += 32 + SNAPSHOT_UTXO_ADDRESS_BYTES * p->n_addr + p->addr_bytes;
  n += entries_padding(n) + SNAPSHOT_UTXO_ENTRY_BYTES * p->n;
  n += 37 * l->dlg.n + 8 + 38 * l->dlg.n_sched + 8 + 10 * l->dlg.n_keys;
  n += version + params + 4 * 8;
  n += u->n_props * SNAPSHOT_PROPOSAL_BYTES + u->n_apps * SNAPSHOT_APP_BYTES;
  for (size_t i = 0; i < u->n_props; i++) n += SNAPSHOT_INSTALLER_BYTES * u->props[i].meta.count;
  for (size_t i = 0; i < u->n_apps; i++) n += SNAPSHOT_INSTALLER_BYTES * u->apps[i].meta.count;
  n += u->n_cands * (8 + version + params) + u->n_ends * (version + 2);
  return n + 16 + 2 * l->pbft.used + 9 + 4;
}

/* The image into |o|: whole, or streamed; |*len| its length. */
static int write_image(const cdl_ledger *l, image_out *o, uint64_t *len) {
  if (l->utxo.base != NULL) return CDL_E_USAGE; /* a fork holds only differences */
  /* Between blocks: no journal or saved copy of a block in progress. */
  CDL_ASSERT(l->utxo.n_journal == 0 && !l->dlg_saved && !l->upd_saved);
  utxo_plan plan;
  CDL_TRY(plan_utxo(&l->utxo, &plan));
  size_t size = image_size(l, &plan);
  /* Whole: the appends below cannot fail. Streamed: they may grow the
   * buffer past a piece for one large item, which can. */
  int rc = cdl_buf_reserve(o->b, o->sink ? FLUSH_BYTES + 65536 : size);
  if (rc != CDL_OK) {
    plan_free(&plan);
    return rc;
  }
  put_header(o->b, l, size);
  put_chain(o->b, l);
  put_utxo(o, &l->utxo, &plan);
  plan_free(&plan);
  flush(o, false);
  if (o->rc != CDL_OK) return o->rc;
  put_dlg(o->b, &l->dlg);
  put_upd(o->b, &l->upd);
  put_pbft(o->b, &l->pbft);
  if (o->sink == NULL) {
    CDL_ASSERT(!o->b->failed && o->b->len - o->start == size - 4);
    put_u32(o->b, cdl_crc32(o->b->data + o->start, size - 4));
  } else {
    flush(o, true);
    if (o->rc != CDL_OK) return o->rc;
    CDL_ASSERT(o->flushed == size - 4);
    put_u32(o->b, o->crc);
    o->rc = o->b->failed ? CDL_E_NOMEM : o->sink(o->ctx, o->b->data, o->b->len);
  }
  *len = size;
  return o->rc;
}

int cdl_ledger_snapshot_write(const cdl_ledger *l, cdl_buf *out) {
  image_out o = {.b = out, .start = out->len};
  uint64_t len;
  return write_image(l, &o, &len);
}

int cdl_ledger_snapshot_stream(const cdl_ledger *l, cdl_ledger_image_sink sink, void *ctx,
                               uint64_t *len) {
  cdl_buf piece;
  cdl_buf_init(&piece, 0);
  image_out o = {.b = &piece, .sink = sink, .ctx = ctx};
  int rc = write_image(l, &o, len);
  cdl_buf_free(&piece);
  return rc;
}

void cdl_ledger_set_flags(cdl_ledger *l, unsigned flags) { l->cfg.flags = flags; }
