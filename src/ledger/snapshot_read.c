/*
 * snapshot_read.c: ledger state snapshots, the reader (the format, which is
 * Cardinal's own, is at the top of snapshot.c; docs/storage.md describes
 * it too). Every byte is untrusted: a file may be torn, rotted or crafted.
 * The envelope (magic, version, length, CRC) is checked before anything
 * else; then every count is bounded by the bytes left before anything is
 * allocated, every genesis index by the number of genesis keys, and the
 * parts are rebuilt with the ledger's own helpers (the window refilled with
 * pbft_push) so that what derives from them is exactly what applying the
 * blocks gave. The UTxO is the bulk of an image and is read without
 * decoding addresses: its stored witness data is bounded within each
 * address, and the CRC, not a re-derivation, is what guards it. Its
 * entries are copied as they are into the UTxO's frozen part, which is
 * searched in place (utxo_frozen.c): no index is built at open.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

typedef struct reader {
  const uint8_t *p;
  size_t pos, end;  /* end: where the CRC begins */
  const char *part; /* for messages: the part being read */
  cdl_error *err;
  int rc;           /* the first failure; later reads do nothing */
  const cdl_ledger_image_owner *owner; /* may the UTxO keep the image (until it takes it) */
} reader;

static int fail(reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(reader *r, int code, const char *fmt, ...) {
  if (r->rc != CDL_OK) return r->rc;
  char msg[CDL_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  r->rc = code;
  return cdl_error_set(r->err, code, r->pos, "snapshot: %s", msg);
}

static const uint8_t *take(reader *r, size_t n) {
  if (r->rc != CDL_OK) return NULL;
  if (n > r->end - r->pos) {
    fail(r, CDL_E_TRUNCATED, "the image ends inside %s", r->part);
    return NULL;
  }
  const uint8_t *at = r->p + r->pos;
  r->pos += n;
  return at;
}

static uint64_t load_le(const uint8_t *at, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = v << 8 | at[i];
  return v;
}

/* Reads of fixed-width integers give 0 once the reader has failed. */
static uint64_t get_le(reader *r, size_t n) {
  const uint8_t *at = take(r, n);
  return at == NULL ? 0 : load_le(at, n);
}

static uint8_t get_u8(reader *r) { return (uint8_t)get_le(r, 1); }
static uint16_t get_u16(reader *r) { return (uint16_t)get_le(r, 2); }
static uint32_t get_u32(reader *r) { return (uint32_t)get_le(r, 4); }
static uint64_t get_u64(reader *r) { return get_le(r, 8); }

static void get_bytes(reader *r, void *out, size_t n) {
  const uint8_t *at = take(r, n);
  if (at != NULL) memcpy(out, at, n);
  else memset(out, 0, n);
}

static bool get_bool(reader *r) {
  uint8_t v = get_u8(r);
  if (v > 1) fail(r, CDL_E_RANGE, "a flag in %s is %u, not 0 or 1", r->part, v);
  return v == 1;
}

/* A count of items of at least |item_bytes| each: no more than the bytes
 * left can hold, so that nothing is allocated for what is not there. */
static size_t get_count(reader *r, size_t item_bytes) {
  uint64_t n = get_u64(r);
  if (r->rc == CDL_OK && n > (r->end - r->pos) / item_bytes)
    fail(r, CDL_E_RANGE, "%s claims %llu items, more than the %zu bytes left can hold", r->part,
         (unsigned long long)n, r->end - r->pos);
  return r->rc == CDL_OK ? (size_t)n : 0;
}

/* A genesis key index; 0 (harmless) once the reader has failed. */
static uint16_t get_index(reader *r, size_t n_genesis) {
  uint16_t g = get_u16(r);
  if (r->rc == CDL_OK && g >= n_genesis)
    fail(r, CDL_E_RANGE, "genesis key index %u in %s, of %zu keys", g, r->part, n_genesis);
  return r->rc == CDL_OK ? g : 0;
}

static cdl_byron_version get_version(reader *r) {
  cdl_byron_version v;
  v.major = get_u16(r);
  v.minor = get_u16(r);
  v.alt = get_u8(r);
  return v;
}

static void get_params(reader *r, cdl_byron_protocol_params *pp) {
  uint64_t *f[SNAPSHOT_PARAM_U64S];
  snapshot_param_fields(pp, f);
  pp->script_version = get_u16(r);
  for (size_t i = 0; i < SNAPSHOT_PARAM_U64S; i++) *f[i] = get_u64(r);
}

/* A length and |width| bytes (an application name, a system tag): ASCII,
 * zero past the length, as the writer puts them (so that reading and
 * writing again gives the same bytes). */
static uint8_t get_padded(reader *r, char *out, size_t width, const char *what) {
  uint8_t len = get_u8(r), raw[SNAPSHOT_APP_NAME_BYTES];
  get_bytes(r, raw, width);
  if (r->rc == CDL_OK && len > width)
    fail(r, CDL_E_RANGE, "%s of %u bytes in %s (at most %zu)", what, len, r->part, width);
  for (size_t i = 0; i < width && r->rc == CDL_OK; i++)
    if (raw[i] >= 0x80 || (i >= len && raw[i] != 0))
      fail(r, CDL_E_RANGE, "%s in %s is not zero-padded ASCII", what, r->part);
  memcpy(out, raw, width);
  return r->rc == CDL_OK ? len : 0;
}

static void get_name(reader *r, upd_name *n) {
  n->len = get_padded(r, n->bytes, SNAPSHOT_APP_NAME_BYTES, "an application name");
}

/* A metadata map: its count bounded by the bytes left, its tags strictly
 * ascending (no duplicates, one order for one map). */
static void get_metadata(reader *r, upd_metadata *m) {
  uint32_t n = get_u32(r);
  *m = (upd_metadata){0};
  if (r->rc != CDL_OK || n == 0) return;
  if (n > (r->end - r->pos) / SNAPSHOT_INSTALLER_BYTES) {
    fail(r, CDL_E_RANGE, "metadata of %u entries in %s, more than the bytes left can hold", n,
         r->part);
    return;
  }
  m->items = calloc(n, sizeof *m->items);
  if (m->items == NULL) {
    fail(r, CDL_E_NOMEM, "out of memory for metadata in %s", r->part);
    return;
  }
  for (; m->count < n && r->rc == CDL_OK; m->count++) {
    upd_installer *e = &m->items[m->count];
    e->tag_len = get_padded(r, e->tag, UPD_SYSTEM_TAG_MAX, "a system tag");
    get_bytes(r, e->hash, 32);
    upd_name prev = {0}, tag = {e->tag_len, {0}};
    memcpy(tag.bytes, e->tag, e->tag_len);
    if (m->count > 0) {
      prev.len = e[-1].tag_len;
      memcpy(prev.bytes, e[-1].tag, prev.len);
    }
    if (r->rc == CDL_OK && m->count > 0 && upd_name_cmp(&prev, &tag) >= 0)
      fail(r, CDL_E_RANGE, "metadata tags in %s are not in ascending order", r->part);
  }
}

/* ---- The envelope and the header ---- */

static int check_envelope(const uint8_t *data, size_t len, cdl_error *err) {
  size_t have = len < 8 ? len : 8;
  if (have > 0 && memcmp(data, SNAPSHOT_MAGIC, have) != 0)
    return cdl_error_set(err, CDL_E_TAG, 0, "not a Cardinal ledger snapshot (no CDLSNAP1 magic)");
  if (len < SNAPSHOT_HEADER_BYTES + 4)
    return cdl_error_set(err, CDL_E_TRUNCATED, len,
                         "snapshot: %zu bytes cannot hold even the header", len);
  uint32_t version = (uint32_t)load_le(data + 8, 4);
  if (version != SNAPSHOT_VERSION)
    return cdl_error_set(err, CDL_E_TAG, 8, "snapshot format version %u; this build reads %u",
                         version, SNAPSHOT_VERSION);
  uint64_t total = load_le(data + SNAPSHOT_LENGTH_OFFSET, 8);
  if (total > len)
    return cdl_error_set(err, CDL_E_TRUNCATED, len,
                         "snapshot: %zu bytes of the %llu its header names", len,
                         (unsigned long long)total);
  if (total < len)
    return cdl_error_set(err, CDL_E_TRAILING, total,
                         "snapshot: %zu bytes where its header names %llu", len,
                         (unsigned long long)total);
  if ((uint32_t)load_le(data + len - 4, 4) != cdl_crc32(data, len - 4))
    return cdl_error_set(err, CDL_E_CHECKSUM, len - 4,
                         "snapshot: CRC32 mismatch (the image is corrupt)");
  return CDL_OK;
}

/* The header must name the caller's network; then its configuration
 * applies (ledger_configure, as for a ledger built from the genesis). */
static int read_header(reader *r, cdl_ledger *l, const cdl_ledger_config *cfg,
                       const uint8_t genesis_hash[32]) {
  r->part = "the header";
  r->pos = SNAPSHOT_LENGTH_OFFSET + 8;
  get_bytes(r, l->genesis_hash, 32);
  uint32_t magic = get_u32(r);
  bool requires_magic = get_bool(r);
  uint64_t k = get_u64(r);
  if (r->rc != CDL_OK) return r->rc;
  if (memcmp(l->genesis_hash, genesis_hash, 32) != 0)
    return fail(r, CDL_E_GENESIS, "the image belongs to another genesis");
  if (magic != cfg->protocol_magic || requires_magic != cfg->requires_magic)
    return fail(r, CDL_E_GENESIS, "protocol magic %u (%s) where the node runs %u (%s)", magic,
                requires_magic ? "RequiresMagic" : "RequiresNoMagic", cfg->protocol_magic,
                cfg->requires_magic ? "RequiresMagic" : "RequiresNoMagic");
  if (k != cfg->k)
    return fail(r, CDL_E_GENESIS, "security parameter k %llu where the node runs %llu",
                (unsigned long long)k, (unsigned long long)cfg->k);
  int rc = ledger_configure(l, cfg, r->err);
  if (rc != CDL_OK) return r->rc = rc;
  cdl_ledger_tip *tip = &l->tip;
  tip->at_genesis = get_bool(r);
  get_bytes(r, tip->hash, 32);
  tip->slot = get_u64(r);
  tip->block_no = get_u64(r);
  tip->is_ebb = get_bool(r);
  bool genesis_tip = memcmp(tip->hash, genesis_hash, 32) == 0 && tip->slot == 0 &&
                     tip->block_no == 0 && !tip->is_ebb;
  if (r->rc == CDL_OK && tip->at_genesis && !genesis_tip)
    return fail(r, CDL_E_RANGE, "a tip at genesis that is not the genesis");
  return r->rc;
}

static int read_chain(reader *r, cdl_ledger *l) {
  r->part = "the genesis keys";
  uint32_t n = get_u32(r);
  if (r->rc == CDL_OK && (n == 0 || n > CDL_LEDGER_MAX_GENESIS_KEYS))
    return fail(r, CDL_E_RANGE, "%u genesis keys (the ledger takes 1 to %d)", n,
                CDL_LEDGER_MAX_GENESIS_KEYS);
  const uint8_t *keys = take(r, 28 * (size_t)n);
  if (keys == NULL) return r->rc;
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (memcmp(keys + 28 * i, keys + 28 * j, 28) == 0)
        return fail(r, CDL_E_RANGE, "genesis keys %zu and %zu are the same", j, i);
  l->genesis_keys = ledger_dup(keys, n, 28);
  if (l->genesis_keys == NULL) return fail(r, CDL_E_NOMEM, "out of memory for the genesis keys");
  l->n_genesis = n;
  r->part = "the chain position";
  l->last_slot = get_u64(r);
  l->epoch = get_u64(r);
  l->totals.blocks = get_u64(r);
  l->totals.ebbs = get_u64(r);
  l->totals.txs = get_u64(r);
  l->totals.fees_lovelace = get_u64(r);
  if (r->rc == CDL_OK && l->last_slot < l->tip.slot)
    return fail(r, CDL_E_RANGE, "last slot %llu is before the tip's slot %llu",
                (unsigned long long)l->last_slot, (unsigned long long)l->tip.slot);
  return r->rc;
}

/* ---- The UTxO ---- */

/* An address's witness data must lie within its own bytes. */
static int check_address(reader *r, const utxo_addr *a, size_t i) {
  if (a->len < 28 || a->root_off > a->len - 28 || a->attrs_off > a->len ||
      a->attrs_len > a->len - a->attrs_off)
    return fail(r, CDL_E_RANGE, "UTxO address %zu's root or attributes lie outside its %u bytes",
                i, a->len);
  return CDL_OK;
}

/* The distinct addresses, into the store as ids 0, 1, ... in list order:
 * each within the byte total the header names, none listed twice. */
static int read_addresses(reader *r, utxo_addrs *s, size_t n, uint64_t bytes) {
  if (utxo_addrs_reserve(s, n, bytes) != CDL_OK)
    return fail(r, CDL_E_NOMEM, "out of memory for the UTxO's addresses");
  uint64_t left = bytes;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *at = take(r, SNAPSHOT_UTXO_ADDRESS_BYTES);
    if (at == NULL) return r->rc;
    utxo_addr a = {.type = at[0],
                   .root_off = (uint16_t)load_le(at + 1, 2),
                   .attrs_off = (uint32_t)load_le(at + 3, 4),
                   .attrs_len = (uint32_t)load_le(at + 7, 4),
                   .len = (uint32_t)load_le(at + 11, 4)};
    const uint8_t *raw = take(r, a.len);
    if (raw == NULL) return r->rc;
    CDL_TRY(check_address(r, &a, i));
    if (a.len > left)
      return fail(r, CDL_E_RANGE, "the UTxO's addresses exceed the byte total its header names");
    left -= a.len;
    if (!utxo_addrs_add_loaded(s, raw, &a))
      return fail(r, CDL_E_RANGE, "UTxO address %zu is listed twice", i);
  }
  if (left != 0)
    return fail(r, CDL_E_RANGE, "the UTxO's addresses fall short of the byte total its header "
                "names");
  return CDL_OK;
}

/* The first 8 bytes of a tx id as a number: ids ordered by it unless equal. */
static uint64_t id_prefix(const uint8_t id[32]) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | id[i];
  return v;
}

/* Entry i checked against the one before it: keys strictly ascend (no
 * duplicates, one order for one set), and addresses are named in list
 * order, the first naming of each being the next in the list (one list
 * for one set). */
static int check_entry(reader *r, utxo *u, const utxo_entry *e, size_t i, size_t *named,
                       uint64_t *sum) {
  if (i > 0) {
    uint64_t a = id_prefix(e[-1].tx_id), b = id_prefix(e->tx_id);
    if (a > b || (a == b && utxo_key_cmp(e - 1, e) >= 0))
      return fail(r, CDL_E_RANGE, "UTxO entry %zu does not follow the one before it in order",
                  i);
  }
  if (e->addr > *named || e->addr >= u->addrs.n_recs)
    return fail(r, CDL_E_RANGE, "UTxO entry %zu names address %u, not one of the %zu before "
                "it or the next", i, e->addr, *named);
  *named += e->addr == *named;
  u->addrs.recs[e->addr].refs++;
  if (e->lovelace > CDL_BYRON_MAX_LOVELACE || e->lovelace > UINT64_MAX - *sum)
    return fail(r, CDL_E_RANGE, "UTxO entry %zu holds %llu lovelace", i,
                (unsigned long long)e->lovelace);
  *sum += e->lovelace;
  return CDL_OK;
}

/* Where the entries lie: in the image itself when the ledger may keep it
 * (an owner was given), the host reads them as they lie (little-endian)
 * and they are aligned as a utxo_entry must be; otherwise in a copy. */
static const utxo_entry *place_entries(reader *r, utxo *u, const uint8_t *at, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (r->owner != NULL && (uintptr_t)at % _Alignof(utxo_entry) == 0) {
    utxo_frozen_borrow(u, (const utxo_entry *)at, r->owner);
    r->owner = NULL; /* the UTxO holds it now */
    return u->frozen;
  }
#endif
  utxo_entry *copy = utxo_frozen_alloc(u, n);
  if (copy == NULL) {
    fail(r, CDL_E_NOMEM, "out of memory for the UTxO");
    return NULL;
  }
  for (size_t i = 0; i < n; i++, at += SNAPSHOT_UTXO_ENTRY_BYTES) {
    memcpy(copy[i].tx_id, at, 32);
    copy[i].index = (uint32_t)load_le(at + 32, 4);
    copy[i].addr = (uint32_t)load_le(at + 36, 4);
    copy[i].lovelace = load_le(at + 40, 8);
  }
  return copy;
}

/* The entries become the UTxO's frozen part as they are (utxo_frozen.c):
 * no index is built. They start at a multiple of 8 from the image's
 * start, after zero padding. */
static int read_entries(reader *r, utxo *u, size_t n, uint64_t lovelace) {
  const uint8_t *pad = take(r, (8 - r->pos % 8) % 8);
  for (size_t i = 0; pad != NULL && pad + i < r->p + r->pos; i++)
    if (pad[i] != 0) return fail(r, CDL_E_RANGE, "the padding before the UTxO entries is not zero");
  const uint8_t *at = take(r, n * SNAPSHOT_UTXO_ENTRY_BYTES); /* n is bounded by the bytes */
  if (at == NULL) return r->rc;
  const utxo_entry *e = place_entries(r, u, at, n);
  if (e == NULL) return r->rc;
  size_t named = 0;
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) CDL_TRY(check_entry(r, u, &e[i], i, &named, &sum));
  if (named != u->addrs.n_recs)
    return fail(r, CDL_E_RANGE, "%zu of the UTxO's %zu addresses are named by no entry",
                u->addrs.n_recs - named, u->addrs.n_recs);
  if (sum != lovelace)
    return fail(r, CDL_E_RANGE, "the UTxO's total is not the sum of its entries");
  if (utxo_frozen_seal(u, n, sum) != CDL_OK)
    return fail(r, CDL_E_NOMEM, "out of memory for the UTxO");
  return CDL_OK;
}

static int read_utxo(reader *r, utxo *u) {
  r->part = "the UTxO";
  if (utxo_init(u) != CDL_OK) return fail(r, CDL_E_NOMEM, "out of memory for the UTxO");
  size_t n = get_count(r, SNAPSHOT_UTXO_ENTRY_BYTES);
  uint64_t lovelace = get_u64(r);
  size_t n_addr = get_count(r, SNAPSHOT_UTXO_ADDRESS_BYTES);
  uint64_t addr_bytes = get_u64(r);
  if (r->rc != CDL_OK) return r->rc;
  if (n > UINT32_MAX - 1 || n_addr > n)
    return fail(r, CDL_E_RANGE, "%zu UTxO entries with %zu addresses", n, n_addr);
  if (addr_bytes > r->end - r->pos)
    return fail(r, CDL_E_RANGE, "the UTxO claims %llu address bytes, more than are left",
                (unsigned long long)addr_bytes);
  /* n, n_addr and addr_bytes are bounded by the bytes left. */
  CDL_TRY(read_addresses(r, &u->addrs, n_addr, addr_bytes));
  return read_entries(r, u, n, lovelace);
}

/* ---- Delegation and update states ---- */

/* calloc for |n| items read next (n already bounded by get_count). */
static void *items(reader *r, size_t n, size_t size, size_t *cap) {
  *cap = 0;
  if (n == 0 || r->rc != CDL_OK) return NULL;
  void *p = calloc(n, size);
  if (p == NULL) fail(r, CDL_E_NOMEM, "out of memory for %s", r->part);
  else *cap = n;
  return p;
}

static int read_dlg(reader *r, dlg_state *d, size_t n_genesis) {
  r->part = "the delegation state";
  if (dlg_init(d, n_genesis) != CDL_OK) return fail(r, CDL_E_NOMEM, "out of memory");
  for (size_t g = 0; g < n_genesis; g++) {
    d->has[g] = get_bool(r);
    get_bytes(r, d->delegate[g], 28);
    d->last_slot[g] = get_u64(r);
  }
  d->sched = items(r, get_count(r, 38), sizeof *d->sched, &d->cap_sched);
  for (; d->n_sched < d->cap_sched && r->rc == CDL_OK; d->n_sched++) {
    dlg_scheduled *e = &d->sched[d->n_sched];
    e->slot = get_u64(r);
    e->delegator = get_index(r, n_genesis);
    get_bytes(r, e->delegate, 28);
  }
  d->keys = items(r, get_count(r, 10), sizeof *d->keys, &d->cap_keys);
  for (; d->n_keys < d->cap_keys && r->rc == CDL_OK; d->n_keys++) {
    d->keys[d->n_keys].epoch = get_u64(r);
    d->keys[d->n_keys].delegator = get_index(r, n_genesis);
  }
  return r->rc;
}

static void read_proposal(reader *r, upd_proposal *p, size_t n_genesis) {
  get_bytes(r, p->id, 32);
  uint8_t flags = get_u8(r);
  if (flags > 7) fail(r, CDL_E_RANGE, "proposal flags 0x%02x", flags);
  p->has_protocol = flags & 1;
  p->has_software = flags & 2;
  p->confirmed = flags & 4;
  p->pv = get_version(r);
  get_params(r, &p->pp);
  get_name(r, &p->app);
  p->app_version = get_u32(r);
  p->reg_slot = get_u64(r);
  p->confirm_slot = get_u64(r);
  get_bytes(r, p->voters, VOTER_BYTES);
  for (size_t g = 0; g < 8 * VOTER_BYTES; g++) {
    if (!(p->voters[g / 8] & (1u << (g % 8)))) continue;
    if (g >= n_genesis) fail(r, CDL_E_RANGE, "a vote by genesis key %zu of %zu", g, n_genesis);
    p->n_voters++;
  }
  get_metadata(r, &p->meta);
}

static int id_order(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Proposal ids are keys (of the local state query's maps): no two alike. */
static int check_unique_ids(reader *r, const upd_state *u) {
  if (u->n_props < 2) return CDL_OK;
  uint8_t (*ids)[32] = malloc(u->n_props * sizeof *ids);
  if (ids == NULL) return fail(r, CDL_E_NOMEM, "out of memory checking proposal ids");
  for (size_t i = 0; i < u->n_props; i++) memcpy(ids[i], u->props[i].id, 32);
  qsort(ids, u->n_props, sizeof *ids, id_order);
  for (size_t i = 1; i < u->n_props && r->rc == CDL_OK; i++)
    if (memcmp(ids[i - 1], ids[i], 32) == 0) fail(r, CDL_E_RANGE, "two proposals have one id");
  free(ids);
  return r->rc;
}

/* Applications in strictly ascending name order, as the ledger keeps them. */
static void read_apps(reader *r, upd_state *u) {
  size_t n = get_count(r, SNAPSHOT_APP_BYTES);
  u->apps = items(r, n, sizeof *u->apps, &u->cap_apps);
  for (; u->n_apps < u->cap_apps && r->rc == CDL_OK; u->n_apps++) {
    upd_app *a = &u->apps[u->n_apps];
    get_name(r, &a->name);
    a->version = get_u32(r);
    a->slot = get_u64(r);
    get_metadata(r, &a->meta);
    if (r->rc == CDL_OK && u->n_apps > 0 && upd_name_cmp(&a[-1].name, &a->name) >= 0)
      fail(r, CDL_E_RANGE, "applications are not in ascending name order");
  }
}

static int read_upd(reader *r, upd_state *u, size_t n_genesis) {
  r->part = "the update state";
  cdl_byron_version pv = get_version(r);
  cdl_byron_protocol_params pp;
  get_params(r, &pp);
  upd_init(u, &pp);
  u->adopted_pv = pv;
  size_t n = get_count(r, SNAPSHOT_PROPOSAL_BYTES);
  u->props = items(r, n, sizeof *u->props, &u->cap_props);
  for (; u->n_props < u->cap_props && r->rc == CDL_OK; u->n_props++)
    read_proposal(r, &u->props[u->n_props], n_genesis);
  if (r->rc == CDL_OK) check_unique_ids(r, u);
  read_apps(r, u);
  n = get_count(r, 8 + 5 + 2 + 8 * SNAPSHOT_PARAM_U64S);
  u->cands = items(r, n, sizeof *u->cands, &u->cap_cands);
  for (; u->n_cands < u->cap_cands && r->rc == CDL_OK; u->n_cands++) {
    u->cands[u->n_cands].slot = get_u64(r);
    u->cands[u->n_cands].pv = get_version(r);
    get_params(r, &u->cands[u->n_cands].pp);
  }
  n = get_count(r, 7);
  u->ends = items(r, n, sizeof *u->ends, &u->cap_ends);
  for (; u->n_ends < u->cap_ends && r->rc == CDL_OK; u->n_ends++) {
    u->ends[u->n_ends].pv = get_version(r);
    u->ends[u->n_ends].genesis = get_index(r, n_genesis);
  }
  return r->rc;
}

/* ---- The PBFT window ---- */

static int read_pbft(reader *r, cdl_ledger *l) {
  r->part = "the PBFT window";
  uint64_t size = get_u64(r), used = get_u64(r);
  if (r->rc == CDL_OK && size != l->cfg.k)
    return fail(r, CDL_E_RANGE, "a window of %llu blocks where k is %llu",
                (unsigned long long)size, (unsigned long long)l->cfg.k);
  if (r->rc == CDL_OK && used > size)
    return fail(r, CDL_E_RANGE, "%llu signers in a window of %llu", (unsigned long long)used,
                (unsigned long long)size);
  if (r->rc != CDL_OK) return r->rc;
  if (pbft_init(&l->pbft, l->cfg.k, l->n_genesis) != CDL_OK)
    return fail(r, CDL_E_NOMEM, "out of memory for the PBFT window");
  for (uint64_t i = 0; i < used && r->rc == CDL_OK; i++) {
    if (pbft_reserve(&l->pbft) != CDL_OK)
      return fail(r, CDL_E_NOMEM, "out of memory for the PBFT window");
    pbft_push(&l->pbft, get_index(r, l->n_genesis), 0); /* oldest first */
  }
  bool has_signed = get_bool(r);
  uint64_t last = get_u64(r);
  if (r->rc == CDL_OK && (has_signed != (used > 0) || (!has_signed && last != 0)))
    return fail(r, CDL_E_RANGE, "the last signed slot does not match the signers");
  l->pbft.has_signed = has_signed;
  l->pbft.last_signed_slot = last;
  return r->rc;
}

static int read_state(reader *r, cdl_ledger *l, const cdl_ledger_config *cfg,
                      const uint8_t genesis_hash[32]) {
  CDL_TRY(read_header(r, l, cfg, genesis_hash));
  CDL_TRY(read_chain(r, l));
  CDL_TRY(read_utxo(r, &l->utxo));
  CDL_TRY(read_dlg(r, &l->dlg, l->n_genesis));
  CDL_TRY(read_upd(r, &l->upd, l->n_genesis));
  CDL_TRY(read_pbft(r, l));
  if (r->pos != r->end)
    return fail(r, CDL_E_TRAILING, "%zu bytes after the PBFT window", r->end - r->pos);
  return CDL_OK;
}

int cdl_ledger_snapshot_tip(const uint8_t *data, size_t len, const uint8_t genesis_hash[32],
                            cdl_ledger_tip *tip, cdl_error *err) {
  CDL_TRY(check_envelope(data, len, err));
  reader r = {.p = data, .pos = SNAPSHOT_LENGTH_OFFSET + 8, .end = len - 4, .part = "the header",
              .err = err};
  const uint8_t *genesis = take(&r, 32);
  take(&r, 4 + 1 + 8); /* protocol magic, magic policy, k */
  tip->at_genesis = get_bool(&r);
  get_bytes(&r, tip->hash, 32);
  tip->slot = get_u64(&r);
  tip->block_no = get_u64(&r);
  tip->is_ebb = get_bool(&r);
  if (r.rc == CDL_OK && memcmp(genesis, genesis_hash, 32) != 0)
    return fail(&r, CDL_E_GENESIS, "the image belongs to another genesis");
  return r.rc;
}

/* The reading both entry points share; |owner| NULL: copy the UTxO. */
static int read_image(const uint8_t *data, size_t len, const cdl_ledger_image_owner *owner,
                      const cdl_ledger_config *cfg, const uint8_t genesis_hash[32],
                      cdl_ledger **out, cdl_error *err) {
  CDL_TRY(check_envelope(data, len, err));
  cdl_ledger *l = calloc(1, sizeof *l);
  if (l == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory for the ledger");
  reader r = {.p = data, .end = len - 4, .err = err, .owner = owner};
  int rc = read_state(&r, l, cfg, genesis_hash);
  if (rc != CDL_OK) {
    l->utxo.frozen_owner = (cdl_ledger_image_owner){0}; /* a failure never releases */
    cdl_ledger_del(l);
    return rc;
  }
  if (owner != NULL && l->utxo.frozen_owner.release == NULL)
    l->utxo.frozen_owner = *owner; /* copied after all: released with the ledger still */
  *out = l;
  return CDL_OK;
}

int cdl_ledger_snapshot_read(const uint8_t *data, size_t len, const cdl_ledger_config *cfg,
                             const uint8_t genesis_hash[32], cdl_ledger **out, cdl_error *err) {
  return read_image(data, len, NULL, cfg, genesis_hash, out, err);
}

int cdl_ledger_snapshot_adopt(const uint8_t *data, size_t len, const cdl_ledger_image_owner *owner,
                              const cdl_ledger_config *cfg, const uint8_t genesis_hash[32],
                              cdl_ledger **out, cdl_error *err) {
  return read_image(data, len, owner, cfg, genesis_hash, out, err);
}
