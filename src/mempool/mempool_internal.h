/*
 * mempool_internal.h: what the mempool's files share (not public API): a
 * decoded payload and the operations on it (payload.c), and the txs being
 * pulled from peers (fetching.c).
 */
#ifndef CARDINAL_MEMPOOL_INTERNAL_H
#define CARDINAL_MEMPOOL_INTERNAL_H

#include <stdio.h>

#include "cardinal/crypto.h"
#include "cardinal/mempool.h"

/* The decoder's memory for one payload. Decoding takes at most about 12
 * times the bytes read: an attribute map gets room for the entries its
 * head claims (up to one per 2 bytes left, 24 bytes each) before they are
 * read; an output takes 152 bytes for at least 41 on the wire, and lists
 * grow by doubling. 32 times the largest payload read (2 MiB, taken only
 * as used) lets any GenTx the mempool reads decode, so that a tx's size is
 * judged by the ledger's rule (utxo.tx_size), never by this bound: 4 times
 * refused 513 outputs as out of memory (test_large_txs_rejected_by_rule). */
#define MP_DECODE_ARENA_BYTES (32u * CDL_MEMPOOL_MAX_PAYLOAD)

/* A decoded GenTx; its pointers lie in the bytes and the arena given. */
typedef struct mp_payload {
  uint8_t kind;
  uint8_t id[32];
  cdl_span body; /* the payload as it sits in a block */
  cdl_byron_txaux tx;
  cdl_byron_dlg_cert cert;
  cdl_byron_proposal proposal;
  cdl_byron_vote vote;
} mp_payload;

/* 0, CDL_E_NOMEM, or CDL_E_REJECTED with CDL_RULE_MEMPOOL_DECODE. */
int mp_payload_decode(const uint8_t *p, size_t n, cdl_arena *arena, mp_payload *pl,
                      cdl_rejection *rej);
/* Marks every signature as verified: for a payload that was accepted
 * before, whose bytes and network have not changed since. */
void mp_payload_trust(mp_payload *pl);
int mp_payload_apply(cdl_ledger *l, const mp_payload *pl, uint64_t slot, cdl_rejection *rej);

/* SipHash-2-4 of (kind, id) under |key|: where an id goes in a table a
 * peer cannot aim at (mempool.c). */
#define MP_ID_KEY_BYTES 16
uint64_t mp_id_hash(const uint8_t key[MP_ID_KEY_BYTES], uint8_t kind, const uint8_t id[32]);

/* The txs being pulled from peers (fetching.c). */
typedef struct mp_fetching mp_fetching;
int mp_fetching_new(mp_fetching **out);
void mp_fetching_del(mp_fetching *f);
mp_fetching *mp_fetching_of(cdl_mempool *mp);

#endif /* CARDINAL_MEMPOOL_INTERNAL_H */
