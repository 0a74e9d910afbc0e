/*
 * payload.c: one Byron mempool payload (GenTx): decoding `[kind, payload]`
 * (ouroboros-consensus Byron Mempool: 0 tx `[tx, witnesses]`, 1 delegation
 * certificate, 2 update proposal, 3 update vote), its id, and applying it
 * to a ledger as the Byron mempool does (cardano-ledger
 * applyMempoolPayload: the UTxO rules for a tx, scheduling for a
 * certificate, registration for a proposal or a vote).
 */
#include <string.h>

#include "mempool_internal.h"

static int decode_fail(cdl_rejection *rej, const char *what, const cdl_error *err) {
  memset(rej, 0, sizeof *rej);
  rej->rule = CDL_RULE_MEMPOOL_DECODE;
  /* The decoder's message, cut to fit the rejection's detail. */
  snprintf(rej->detail, sizeof rej->detail, "%s: %.*s", what, (int)(sizeof rej->detail / 2),
           err->message[0] ? err->message : "malformed");
  return CDL_E_REJECTED;
}

static int read_body(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, mp_payload *pl) {
  switch (pl->kind) {
    case CDL_MP_TX:
      CDL_TRY(cdl_byron_txaux_read(cur, ctx, &pl->tx));
      memcpy(pl->id, pl->tx.tx.id, 32);
      pl->body = pl->tx.raw;
      return CDL_OK;
    case CDL_MP_DLG:
      CDL_TRY(cdl_byron_dlg_cert_read(cur, &pl->cert));
      pl->body = pl->cert.raw;
      break;
    case CDL_MP_PROPOSAL:
      CDL_TRY(cdl_byron_proposal_read(cur, ctx, &pl->proposal));
      pl->body = pl->proposal.raw;
      break;
    default:
      CDL_TRY(cdl_byron_vote_read(cur, &pl->vote));
      pl->body = pl->vote.raw;
      break;
  }
  cdl_blake2b_256(pl->id, pl->body.ptr, pl->body.len); /* hashDecoded */
  return CDL_OK;
}

int mp_payload_decode(const uint8_t *p, size_t n, cdl_arena *arena, mp_payload *pl,
                      cdl_rejection *rej) {
  cdl_error err = {0};
  memset(pl, 0, sizeof *pl);
  if (n > CDL_MEMPOOL_MAX_PAYLOAD) {
    err.code = CDL_E_LIMIT;
    snprintf(err.message, sizeof err.message, "%zu bytes, above the %u the mempool reads", n,
             CDL_MEMPOOL_MAX_PAYLOAD);
    return decode_fail(rej, "GenTx", &err);
  }
  cdl_byron_ctx ctx = {arena, &err, 0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, p, n, &err);
  uint64_t kind = 0;
  int rc = cdl_cbor_expect_array(&cur, 2, "GenTx");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(&cur, CDL_MP_VOTE, &kind, "GenTx kind");
  pl->kind = (uint8_t)kind;
  if (rc == CDL_OK) rc = read_body(&cur, &ctx, pl);
  if (rc == CDL_OK) rc = cdl_cbor_expect_end(&cur, "GenTx");
  if (rc == CDL_E_NOMEM) return rc;
  if (rc != CDL_OK) return decode_fail(rej, "GenTx", &err);
  return CDL_OK;
}

void mp_payload_trust(mp_payload *pl) {
  switch (pl->kind) {
    case CDL_MP_TX:
      for (size_t i = 0; i < pl->tx.n_witnesses; i++) pl->tx.witnesses[i].memo = 1;
      break;
    case CDL_MP_DLG:
      pl->cert.memo = 1;
      break;
    case CDL_MP_PROPOSAL:
      pl->proposal.memo = 1;
      break;
    default:
      pl->vote.memo = 1;
      break;
  }
}

int mp_payload_apply(cdl_ledger *l, const mp_payload *pl, uint64_t slot, cdl_rejection *rej) {
  switch (pl->kind) {
    case CDL_MP_TX:
      return cdl_ledger_apply_tx(l, &pl->tx, rej);
    case CDL_MP_DLG:
      return cdl_ledger_apply_certificates(l, &pl->cert, 1, slot, rej);
    case CDL_MP_PROPOSAL:
      return cdl_ledger_register_update(l, &pl->proposal, NULL, 0, slot, rej);
    default:
      return cdl_ledger_register_update(l, NULL, &pl->vote, 1, slot, rej);
  }
}

int cdl_mempool_gentx_id(const uint8_t *gentx, size_t len, uint8_t *kind, uint8_t id[32],
                         cdl_rejection *rej) {
  cdl_arena arena;
  cdl_arena_init(&arena, MP_DECODE_ARENA_BYTES);
  mp_payload pl;
  int rc = mp_payload_decode(gentx, len, &arena, &pl, rej);
  if (rc == CDL_OK) {
    *kind = pl.kind;
    memcpy(id, pl.id, 32);
  }
  cdl_arena_free(&arena);
  return rc;
}
