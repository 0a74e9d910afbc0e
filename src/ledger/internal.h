/*
 * internal.h: the Byron ledger's state and the helpers its rule files
 * share (not public API). The state follows docs/byron.md 5.5, 5.6 and
 * 5.8; each part has a journal so that a rejected block leaves no trace.
 */
#ifndef CARDINAL_LEDGER_INTERNAL_H
#define CARDINAL_LEDGER_INTERNAL_H

#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/ledger.h"

static inline bool ver_eq(cdl_byron_version a, cdl_byron_version b) {
  return a.major == b.major && a.minor == b.minor && a.alt == b.alt;
}

static inline bool ver_less(cdl_byron_version a, cdl_byron_version b) {
  if (a.major != b.major) return a.major < b.major;
  if (a.minor != b.minor) return a.minor < b.minor;
  return a.alt < b.alt;
}

/* A heap copy of count items (never NULL for count 0 unless out of memory). */
void *ledger_dup(const void *src, size_t count, size_t size);
/* Appends one zeroed item to a growable array; NULL when out of memory. */
void *ledger_push(void **items, size_t *n, size_t *cap, size_t size);

/* ---- UTxO (utxo.c, utxo_addr.c, utxo_frozen.c) ----
 * Outputs live in three places, looked up in this order: the table's own
 * entries (a dense paged array under an open-addressing index), its frozen
 * part (a sorted array read from a snapshot, searched, never changed), and
 * for a fork the base table it reads through to. Addresses are held once
 * per distinct address in the table's address store. */

/* A slot of an index: a 32-bit hash and the item's position + 1 (0: free).
 * Probing compares hashes before touching an item, and an index grows and
 * shifts without looking at the items at all. */
typedef struct utxo_slot {
  uint32_t hash;
  uint32_t ref;
} utxo_slot;

/* A distinct address of the UTxO, held once however many outputs pay to
 * it, with what witness checks need, kept so that spending never decodes:
 * the type, and where the root and the attributes lie within the bytes. */
typedef struct utxo_addr {
  uint8_t *bytes; /* its own allocation, or in the store's slab */
  uint32_t len;
  uint32_t refs; /* entries and journal records holding it; 0: a free record */
  uint32_t attrs_off, attrs_len;
  uint16_t root_off;
  uint8_t type; /* 0xff for a type above 254 (legacy decoding only) */
  bool in_slab;
} utxo_addr;

static inline const uint8_t *utxo_root(const utxo_addr *a) { return a->bytes + a->root_off; }

/* The address store (utxo_addr.c): records by id, an index by the bytes
 * under a keyed hash (SipHash), and the ids of freed records for reuse. */
typedef struct utxo_addrs {
  utxo_addr *recs;
  size_t n_recs, cap_recs;
  uint32_t *free_ids;
  size_t n_free, cap_free;
  utxo_slot *slots;
  size_t cap; /* a power of two, 2^bits */
  unsigned bits;
  size_t used; /* records with refs > 0 */
  uint8_t key[16];
  uint8_t *slab; /* the bytes of records read from a snapshot */
} utxo_addrs;

int utxo_addrs_init(utxo_addrs *s);
void utxo_addrs_free(utxo_addrs *s);
/* The id of |a|'s bytes (added when new) with one more holder. */
int utxo_addrs_hold(utxo_addrs *s, const cdl_byron_address *a, uint32_t *id);
void utxo_addrs_release(utxo_addrs *s, uint32_t id);
/* Snapshot loading: room for |n| records of |bytes| in all, then each
 * record added with no holder yet (|bytes| copied into the slab, the rest
 * from |meta|; ids 0, 1, ... in order); false when the same bytes came
 * before. */
int utxo_addrs_reserve(utxo_addrs *s, size_t n, size_t bytes);
bool utxo_addrs_add_loaded(utxo_addrs *s, const uint8_t *bytes, const utxo_addr *meta);

#define UTXO_DEAD UINT32_MAX /* an entry's addr: dead (see utxo.base) */
#define UTXO_PAGE_BITS 14    /* entries per page of the dense array: 2^14 */

/* One output: 48 bytes, its address an id in the owning table's store. */
typedef struct utxo_entry {
  uint8_t tx_id[32];
  uint32_t index;
  uint32_t addr; /* UTXO_DEAD: in a fork, the base's entry with this key is spent */
  uint64_t lovelace;
} utxo_entry;

static inline bool utxo_dead(const utxo_entry *e) { return e->addr == UTXO_DEAD; }

/* One change made while a block is applied, undone in reverse order. */
typedef struct utxo_undo {
  bool added;      /* undo by deleting the key; otherwise re-insert entry */
  utxo_entry entry;
} utxo_undo;

typedef struct utxo {
  /* Own entries: dense, count in use, in pages of 2^UTXO_PAGE_BITS that
   * are added and freed as count moves (growing never copies). */
  utxo_entry **pages;
  size_t n_pages, cap_pages, count;
  /* The frozen part: entries in ascending (tx id, index) order, where
   * |starts| gives for each value of the tx id's top |start_bits| bits the
   * first entry holding it (2^start_bits + 1 of them). Own dead entries
   * hide its spent outputs. */
  const utxo_entry *frozen;
  size_t n_frozen;
  uint64_t frozen_lovelace;
  uint32_t *starts;
  unsigned start_bits;
  utxo_entry *frozen_copy;            /* the frozen entries when copied */
  cdl_ledger_image_owner frozen_owner; /* else what keeps the image they lie in */
  /* A fork reads through to |base| for keys it holds no entry of; its
   * dead entries hide spent base outputs. The base must not change while
   * the fork lives: its generation counts every change, and a fork that
   * sees another than the one it was made at stops (CDL_ASSERT). */
  const struct utxo *base;
  uint64_t base_generation, generation;
  size_t n_dead;
  uint64_t dead_lovelace;
  utxo_slot *slots;
  size_t cap;          /* a power of two, 2^bits */
  unsigned bits;
  uint64_t lovelace;   /* of the own live entries */
  uint64_t seed[5];    /* the hash's random multipliers and addend */
  utxo_addrs addrs;
  utxo_undo *journal;
  size_t n_journal, cap_journal;
} utxo;

int utxo_init(utxo *u);
/* An empty table over |base| (see utxo.base). */
int utxo_init_fork(utxo *u, const utxo *base);
void utxo_free(utxo *u);
/* The entries and lovelace visible through a fork (or a table). */
size_t utxo_visible_count(const utxo *u);
uint64_t utxo_visible_lovelace(const utxo *u);
/* The visible entry of the key, or NULL; *addr (when not NULL) gets its
 * address. Both stay valid until the table (or its base) next changes. */
const utxo_entry *utxo_find(const utxo *u, const uint8_t tx_id[32], uint32_t index,
                            const utxo_addr **addr);
/* Calls |fn| on every visible entry (a fork's own live entries, then
 * those of its frozen part and base it neither spent nor replaced), in no
 * particular order, until |fn| returns false; false when it stopped early. */
typedef bool (*utxo_visit_fn)(void *ctx, const utxo_entry *e, const utxo_addr *a);
bool utxo_each(const utxo *u, utxo_visit_fn fn, void *ctx);
/* Insert holds the address in the store; fails on a present key or memory. */
int utxo_insert(utxo *u, const uint8_t tx_id[32], uint32_t index,
                const cdl_byron_address *addr, uint64_t lovelace);
int utxo_remove(utxo *u, const uint8_t tx_id[32], uint32_t index);
void utxo_commit(utxo *u);   /* forget the journal */
void utxo_rollback(utxo *u); /* undo everything since the last commit */
/* The own entry at dense position |pos| (0-based). */
static inline utxo_entry *utxo_at(const utxo *u, size_t pos) {
  return &u->pages[pos >> UTXO_PAGE_BITS][pos & (((size_t)1 << UTXO_PAGE_BITS) - 1)];
}

/* ---- The frozen part and the ordered walk (utxo_frozen.c) ---- */
/* Room for |n| frozen entries, filled by the caller in ascending key order
 * (the snapshot reader), then utxo_frozen_seal. The table must be empty. */
utxo_entry *utxo_frozen_alloc(utxo *u, size_t n);
/* Or the entries where they lie, in an image |owner| keeps (released when
 * the table is freed, whatever happens before). */
void utxo_frozen_borrow(utxo *u, const utxo_entry *entries, const cdl_ledger_image_owner *owner);
/* Makes the first |n| of them the frozen part (the start table built);
 * |lovelace| is their sum. CDL_E_NOMEM or 0. */
int utxo_frozen_seal(utxo *u, size_t n, uint64_t lovelace);
/* The frozen entry of the key, or NULL. */
const utxo_entry *utxo_frozen_find(const utxo *u, const uint8_t tx_id[32], uint32_t index);
/* Orders two keys as snapshots list them: tx id bytes, then index. */
int utxo_key_cmp(const utxo_entry *a, const utxo_entry *b);
/* The visible entries of a table without a base in ascending key order
 * (own live entries merged with the frozen ones they do not hide): *out
 * (free it) gets utxo_visible_count pointers. CDL_E_NOMEM or 0. */
int utxo_sorted(const utxo *u, const utxo_entry ***out);

/* ---- Delegation (5.5) ---- */
typedef struct dlg_scheduled {
  uint64_t slot;
  uint16_t delegator;   /* genesis key index */
  uint8_t delegate[28];
} dlg_scheduled;

typedef struct dlg_epoch_key {
  uint64_t epoch;
  uint16_t delegator;
} dlg_epoch_key;

typedef struct dlg_state {
  size_t n;                   /* genesis keys */
  uint8_t (*delegate)[28];    /* per genesis key: its delegate, if has[i] */
  bool *has;
  uint64_t *last_slot;        /* delegationSlots (0 when never set) */
  dlg_scheduled *sched;
  size_t n_sched, cap_sched;
  dlg_epoch_key *keys;
  size_t n_keys, cap_keys;
} dlg_state;

int dlg_init(dlg_state *d, size_t n);
void dlg_free(dlg_state *d);
int dlg_copy(dlg_state *dst, const dlg_state *src);
/* Genesis key index whose current delegate has this hash, or -1. */
int dlg_delegator_of(const dlg_state *d, const uint8_t delegate[28]);
/* Activates scheduled delegations due at |slot| and prunes (5.2 step 2). */
void dlg_tick(dlg_state *d, uint64_t slot, uint64_t epoch);

/* ---- Update mechanism (5.6) ---- */
#define VOTER_BYTES ((CDL_LEDGER_MAX_GENESIS_KEYS + 7) / 8)
#define UPD_APP_NAME_MAX 12  /* ApplicationName: ASCII of at most 12 (checkApplicationName) */
#define UPD_SYSTEM_TAG_MAX 10 /* SystemTag: ASCII of at most 10 (checkSystemTag) */

/* An application name as the proposal spelled it: any ASCII byte, NUL
 * included, so it is kept with its length. */
typedef struct upd_name {
  uint8_t len;
  char bytes[UPD_APP_NAME_MAX];
} upd_name;

/* One entry of a software update's metadata (cardano-ledger
 * Registration.Metadata): a system tag and the installer hash, the only
 * one of the proposal's four hashes the reference keeps. */
typedef struct upd_installer {
  uint8_t tag_len;
  char tag[UPD_SYSTEM_TAG_MAX];
  uint8_t hash[32];
} upd_installer;

/* The metadata map, tags strictly ascending; the items are the holder's
 * own heap copy (a proposal's count is bounded by its block's size). */
typedef struct upd_metadata {
  upd_installer *items;
  size_t count;
} upd_metadata;

typedef struct upd_proposal {
  uint8_t id[32];
  bool has_protocol;          /* registered protocol part */
  cdl_byron_version pv;
  cdl_byron_protocol_params pp;
  bool has_software;          /* registered software part */
  upd_name app;
  uint32_t app_version;
  upd_metadata meta;          /* the software part's metadata */
  uint64_t reg_slot;
  bool confirmed;
  uint64_t confirm_slot;
  uint8_t voters[VOTER_BYTES]; /* genesis key indices that voted */
  size_t n_voters;
} upd_proposal;

/* An application's adopted version; the array is kept in name order
 * (upd_name_cmp), the order the reference's Map has. */
typedef struct upd_app {
  upd_name name;
  uint32_t version;
  uint64_t slot;
  upd_metadata meta;
} upd_app;

typedef struct upd_candidate {
  uint64_t slot;
  cdl_byron_version pv;
  cdl_byron_protocol_params pp;
} upd_candidate;

typedef struct upd_endorsement {
  cdl_byron_version pv;
  uint16_t genesis;
} upd_endorsement;

typedef struct upd_state {
  cdl_byron_version adopted_pv;
  cdl_byron_protocol_params adopted_pp;
  upd_proposal *props;
  size_t n_props, cap_props;
  upd_app *apps;
  size_t n_apps, cap_apps;
  upd_candidate *cands;       /* oldest first */
  size_t n_cands, cap_cands;
  upd_endorsement *ends;
  size_t n_ends, cap_ends;
} upd_state;

/* Names and metadata (update_state.c). Names order as the reference's
 * Text does for ASCII: bytewise, a prefix first. */
int upd_name_cmp(const upd_name *a, const upd_name *b);
bool upd_name_is(const upd_name *n, cdl_span s);
void upd_meta_free(upd_metadata *m);
/* A deep copy (dst is overwritten); CDL_E_NOMEM leaves dst empty. */
int upd_meta_copy(upd_metadata *dst, const upd_metadata *src);
/* The proposal's metadata, whose tags the registration rules checked. */
int upd_meta_of(upd_metadata *dst, const cdl_byron_proposal *p);

void upd_init(upd_state *u, const cdl_byron_protocol_params *pp);
void upd_free(upd_state *u);
int upd_copy(upd_state *dst, const upd_state *src);
/* registerEpoch (5.6.4), run when the tick crosses into a new epoch. */
void upd_register_epoch(upd_state *u, uint64_t first_slot, uint64_t k);
upd_proposal *upd_find(upd_state *u, const uint8_t id[32]);
const upd_app *upd_find_app(const upd_state *u, cdl_span name);
/* Sets an application's version, slot and metadata (*meta is taken over
 * and left empty; on CDL_E_NOMEM it is left with the caller). */
int upd_set_app(upd_state *u, const upd_name *name, uint32_t version, uint64_t slot,
                upd_metadata *meta);
/* floor(minThd * genesis keys): votes to confirm, endorsements to adopt. */
uint32_t upd_threshold(const cdl_ledger *l);
/* Endorsement of the block's version by its signer (5.6.3). */
int upd_endorse(cdl_ledger *l, cdl_byron_version pv, const uint8_t signer[64],
                uint64_t slot, cdl_rejection *rej);
/* Drops proposals past their TTL that are not confirmed (end of 5.6.3). */
void upd_prune(upd_state *u, uint64_t slot);
bool params_equal(const cdl_byron_protocol_params *a, const cdl_byron_protocol_params *b);

/* ---- PBFT window (section 6) ---- */
typedef struct pbft_window {
  uint16_t *signers;    /* ring of the last |size| signers' genesis indices */
  size_t size, used, next;
  size_t cap;           /* of signers: grows with used, up to size */
  uint32_t *counts;     /* per genesis key, within the ring */
  uint64_t last_signed_slot;
  bool has_signed;
} pbft_window;

int pbft_init(pbft_window *w, size_t window, size_t n_genesis);
void pbft_free(pbft_window *w);
int pbft_copy(pbft_window *dst, const pbft_window *src, size_t n_genesis);
/* Room for pbft_push's next signer (CDL_E_NOMEM, nothing changed). */
int pbft_reserve(pbft_window *w);
/* How many of the window's blocks genesis key g would have signed after
 * appending one more by g. */
uint32_t pbft_count_after(const pbft_window *w, uint16_t g);
void pbft_push(pbft_window *w, uint16_t g, uint64_t slot);

/* ---- The ledger ---- */
struct cdl_ledger {
  cdl_ledger_config cfg;
  uint64_t epoch_slots;       /* 10k */
  uint32_t pbft_threshold;    /* floor(t * k) */
  uint8_t genesis_hash[32];
  uint8_t (*genesis_keys)[28];
  size_t n_genesis;

  cdl_ledger_tip tip;
  uint64_t last_slot;         /* the ledger's lastSlot (5.2) */
  uint64_t epoch;
  utxo utxo;
  dlg_state dlg;
  upd_state upd;
  pbft_window pbft;
  cdl_ledger_totals totals;

  /* Journals for the block being applied. */
  bool dlg_saved, upd_saved;
  dlg_state dlg_backup;
  upd_state upd_backup;
  uint64_t saved_last_slot;
  cdl_ledger_totals saved_totals;
};

/* Sets l->cfg and what derives from it (epoch length, PBFT threshold);
 * CDL_E_GENESIS for a k the ledger cannot hold. */
int ledger_configure(cdl_ledger *l, const cdl_ledger_config *cfg, cdl_error *err);
int ledger_genesis_index(const cdl_ledger *l, const uint8_t hash[28]);
/* Take a copy of the part before its first change in this block. */
int ledger_save_dlg(cdl_ledger *l);
int ledger_save_upd(cdl_ledger *l);
void ledger_begin(cdl_ledger *l);
void ledger_commit(cdl_ledger *l);
void ledger_rollback(cdl_ledger *l);
/* The chain tick of 5.2: epoch transition, then delegation activation. */
int ledger_tick(cdl_ledger *l, uint64_t slot);
bool ledger_checks_signatures(const cdl_ledger *l);

/* Rejection helpers: fill |rej| (may be NULL) and return CDL_E_REJECTED. */
int reject(cdl_rejection *rej, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void reject_tx(cdl_rejection *rej, const uint8_t tx_id[32]);
void reject_input(cdl_rejection *rej, const uint8_t tx_id[32], uint32_t index);

/* Signature checks honouring the memo and CDL_LEDGER_NO_SIGNATURES. The
 * proposal's and the header's may need the heap for their message:
 * CDL_OK, CDL_E_SIGNATURE (invalid) or CDL_E_NOMEM (no verdict). */
bool ledger_witness_ok(const cdl_ledger *l, const cdl_byron_witness *w,
                       const uint8_t tx_id[32]);
bool ledger_cert_ok(const cdl_ledger *l, const cdl_byron_dlg_cert *c);
int ledger_proposal_check(const cdl_ledger *l, const cdl_byron_proposal *p);
bool ledger_vote_ok(const cdl_ledger *l, const cdl_byron_vote *v);
int ledger_header_check(const cdl_ledger *l, const cdl_byron_header *h);

/* Rules applied within the current transaction (no commit/rollback). */
/* Schedules certificates for slot + delay (2k; 0 for the genesis ones). */
int dlg_apply_certs(cdl_ledger *l, const cdl_byron_dlg_cert *certs, size_t n,
                    uint64_t slot, uint64_t delay, cdl_rejection *rej);
int tx_apply(cdl_ledger *l, const cdl_byron_txaux *aux, cdl_rejection *rej);
int upd_apply(cdl_ledger *l, const cdl_byron_proposal *p, const cdl_byron_vote *votes,
              size_t n_votes, cdl_byron_version block_version,
              const uint8_t signer[64], uint64_t slot, cdl_rejection *rej);

/* Registers a proposal and votes only: the mempool's view of an update
 * payload (no endorsement, adoption or pruning, which belong to blocks). */
int upd_register(cdl_ledger *l, const cdl_byron_proposal *p, const cdl_byron_vote *votes,
                 size_t n_votes, uint64_t slot, cdl_rejection *rej);

/* Protocol parameters after applying an update's present fields. */
void params_apply(cdl_byron_protocol_params *pp, const cdl_byron_param_update *u);

/* ---- Snapshots (snapshot.c writes, snapshot_read.c reads) ---- */
#define SNAPSHOT_MAGIC "CDLSNAP1"
#define SNAPSHOT_VERSION 4u
#define SNAPSHOT_LENGTH_OFFSET 12 /* the u64 total length, after magic and version */
#define SNAPSHOT_HEADER_BYTES 115
#define SNAPSHOT_APP_NAME_BYTES 12 /* after the length, zero-padded */
/* The fixed parts of a proposal and an application, and one metadata
 * entry (the layout at the top of snapshot.c). */
#define SNAPSHOT_PROPOSAL_BYTES (32 + 1 + 5 + 130 + 1 + 12 + 4 + 8 + 8 + VOTER_BYTES + 4)
#define SNAPSHOT_APP_BYTES (1 + 12 + 4 + 8 + 4)
#define SNAPSHOT_INSTALLER_BYTES (1 + UPD_SYSTEM_TAG_MAX + 32)
#define SNAPSHOT_PARAM_U64S 16
#define SNAPSHOT_UTXO_ENTRY_BYTES 48   /* tx id, index, address, lovelace: a utxo_entry */
#define SNAPSHOT_UTXO_ADDRESS_BYTES 15 /* before the address bytes */

/* The u64 protocol parameters in snapshot order (script_version, a u16,
 * comes first on its own). */
static inline void snapshot_param_fields(cdl_byron_protocol_params *pp,
                                         uint64_t *f[SNAPSHOT_PARAM_U64S]) {
  uint64_t *all[SNAPSHOT_PARAM_U64S] = {
      &pp->slot_duration_ms, &pp->max_block_size, &pp->max_header_size, &pp->max_tx_size,
      &pp->max_proposal_size, &pp->mpc_thd, &pp->heavy_del_thd, &pp->update_vote_thd,
      &pp->update_proposal_thd, &pp->update_implicit, &pp->softfork_init, &pp->softfork_min,
      &pp->softfork_decrement, &pp->fee_summand_nano, &pp->fee_multiplier_nano,
      &pp->unlock_stake_epoch};
  memcpy(f, all, sizeof all);
}

#endif /* CARDINAL_LEDGER_INTERNAL_H */
