/*
 * cardinal/mempool.h: the mempool (docs/mempool.md): the Byron payloads
 * waiting for a block: transactions, delegation certificates, update
 * proposals and update votes (ouroboros-consensus Byron "mempool payload";
 * docs/byron.md 5.4 to 5.6).
 *
 * Entries are kept in arrival order, each with a ticket (increasing, never
 * reused), its id, its size in bytes and the slot it arrived in. Every
 * entry has been applied, in order, to a fork of the tip's ledger (see
 * cdl_ledger_fork), so the whole mempool is always valid on the tip: a
 * payload that conflicts with one already in (a double spend, a second
 * vote) is refused. After every chain change cdl_mempool_sync re-applies
 * the entries to a fork of the new tip and drops those now invalid (the
 * ones the new blocks included among them) or older than the TTL.
 *
 * A payload is held as a Byron GenTx, `[kind, payload]` (the hard-fork
 * wrapping `[0, ...]` belongs to the network codecs). Sizes count the
 * payload as it would sit in a block (without the `[kind, ...]` wrapping).
 * Nothing here does I/O or reads a clock: the caller says the slot.
 */
#ifndef CARDINAL_MEMPOOL_H
#define CARDINAL_MEMPOOL_H

#include "cardinal/ledger.h"

enum { CDL_MP_TX = 0, CDL_MP_DLG = 1, CDL_MP_PROPOSAL = 2, CDL_MP_VOTE = 3 };

/* Rules of the mempool itself (the ledger's are in ledger.h). */
#define CDL_RULE_MEMPOOL_DECODE "mempool.decode"       /* not a Byron GenTx */
#define CDL_RULE_MEMPOOL_DUPLICATE "mempool.duplicate" /* this id is already in */
/* Does not fit the room left now, and is valid otherwise (judged as if
 * there were room): a submitter may wait for room (docs/mempool.md
 * "Capacity"). */
#define CDL_RULE_MEMPOOL_FULL "mempool.full"
/* Larger than the whole capacity: it can never fit, waiting is useless. */
#define CDL_RULE_MEMPOOL_TOO_LARGE "mempool.too_large"
/* Policy, not validity: a tx with fewer witnesses than inputs (valid in a
 * block, docs/mempool.md "Policy and block validity"). */
#define CDL_RULE_MEMPOOL_WITNESSES "mempool.witnesses_missing"

/* The largest GenTx the mempool reads: the ledger's own limits (maxTxSize,
 * maxProposalSize) are far below; this only bounds the decoder's work. */
#define CDL_MEMPOOL_MAX_PAYLOAD (64u * 1024u)

typedef struct cdl_mempool_config {
  size_t capacity_bytes; /* 0: twice a block's room for payloads (maxBlockSize less
                            1,686 bytes, as ouroboros-consensus), following the tip */
  uint64_t ttl_slots;    /* an entry older than this many slots expires; 0: never */
} cdl_mempool_config;

typedef struct cdl_mempool_entry {
  uint64_t ticket;
  uint8_t kind;   /* CDL_MP_* */
  uint8_t id[32]; /* tx id, certificate, proposal or vote hash */
  size_t size;    /* the payload's bytes in a block */
  uint64_t slot;  /* the slot it arrived in */
  cdl_span gentx; /* [kind, payload], owned by the mempool */
} cdl_mempool_entry;

typedef struct cdl_mempool_stats {
  size_t count, bytes, capacity;
  uint64_t last_ticket; /* 0: nothing was ever added */
  uint64_t accepted, rejected, removed_invalid, removed_expired;
  uint64_t removed_emptied; /* dropped when a re-validation ran out of memory */
  uint64_t tip_slot; /* the slot the entries were last validated for */
} cdl_mempool_stats;

typedef struct cdl_mempool cdl_mempool;

/* An empty mempool over |tip| (the current tip ledger). 0 or CDL_E_NOMEM. */
int cdl_mempool_new(const cdl_mempool_config *cfg, const cdl_ledger *tip, uint64_t slot,
                    cdl_mempool **out);
void cdl_mempool_del(cdl_mempool *mp);

/* Decodes and validates one GenTx for |slot| against |tip| and what the
 * mempool holds, and keeps it. 0: accepted (its entry in |entry| when not
 * NULL); CDL_E_REJECTED with |rej| naming the rule (a mempool rule above
 * or a ledger rule); CDL_E_NOMEM. |tip| is the ledger the mempool was last
 * given; if it has changed since, the entries are re-validated first. */
int cdl_mempool_add(cdl_mempool *mp, const cdl_ledger *tip, const uint8_t *gentx, size_t len,
                    uint64_t slot, cdl_mempool_entry *entry, cdl_rejection *rej);

/* Re-validates every entry against |tip| at |slot|, in order, dropping the
 * invalid and the expired. Call after every chain change and as slots
 * pass (for expiry). 0 or CDL_E_NOMEM: the mempool is then empty (no
 * entry left that may be invalid on |tip|) and re-validates itself at the
 * next add. */
int cdl_mempool_sync(cdl_mempool *mp, const cdl_ledger *tip, uint64_t slot);

void cdl_mempool_stats_get(const cdl_mempool *mp, cdl_mempool_stats *s);
/* Grows with every entry added, dropped or expired: a reader that saw
 * another value knows the mempool changed (tx-monitor's await). */
uint64_t cdl_mempool_changes(const cdl_mempool *mp);
/* The entry at position |i| in arrival order (i < count). */
bool cdl_mempool_at(const cdl_mempool *mp, size_t i, cdl_mempool_entry *e);
/* The first entry with a ticket above |after|. */
bool cdl_mempool_next(const cdl_mempool *mp, uint64_t after, cdl_mempool_entry *e);
/* The entry with this kind and id. */
bool cdl_mempool_find(const cdl_mempool *mp, uint8_t kind, const uint8_t id[32],
                      cdl_mempool_entry *e);

/* ---- Fetching (fetching.c; docs/mempool.md "One pull per tx") ----
 * The txs whose bodies tx-submission inbound sides are pulling from peers
 * now, each with the side pulling it (|owner|), so that a tx advertised by
 * several peers at once is pulled from one of them. */

/* True when |owner| may pull this tx: nobody else is pulling it (it is
 * now |owner|'s until released), |owner| already is, or too many are
 * being pulled to record one more. False: another is pulling it. */
bool cdl_mempool_fetch_claim(cdl_mempool *mp, uint8_t kind, const uint8_t id[32],
                             const void *owner);
/* The pull of this tx by |owner| is over: the tx was handed to the
 * mempool, or did not come. */
void cdl_mempool_fetch_release(cdl_mempool *mp, uint8_t kind, const uint8_t id[32],
                               const void *owner);
/* Every pull of |owner|: its connection is gone. */
void cdl_mempool_fetch_release_all(cdl_mempool *mp, const void *owner);
/* Grows with every release: a side waiting for another's pull to end. */
uint64_t cdl_mempool_fetch_changes(const cdl_mempool *mp);
/* How many pulls are recorded. */
size_t cdl_mempool_fetching(const cdl_mempool *mp);

/* The kind and id of a GenTx, without validating it. 0, or
 * CDL_E_REJECTED with CDL_RULE_MEMPOOL_DECODE. */
int cdl_mempool_gentx_id(const uint8_t *gentx, size_t len, uint8_t *kind, uint8_t id[32],
                         cdl_rejection *rej);

#endif /* CARDINAL_MEMPOOL_H */
