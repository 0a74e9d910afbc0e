/*
 * localstate_cardinal.c: Cardinal's own local-state queries and their
 * answers (include/cardinal/wire.h "Cardinal's own local-state queries";
 * docs/network.md "Cardinal's own queries"): the UTxO at addresses, the
 * UTxO of inputs, and the chain's constants, which a wallet and the CLI
 * need and the Haskell node's Byron queries do not give.
 *
 * Both directions are read as hostile: every count, size and value is
 * bounded before anything is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/wire.h"

/* The smallest UTxO entry: [[bytes32, 0], [item, 0]]. */
#define MIN_ENTRY_BYTES 40
/* The answer's envelope: [bool, array head]. */
#define ANSWER_HEAD_ROOM 16

bool cdl_lsq_is_cardinal_query(cdl_span q) {
  cdl_error err = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, q.ptr, q.len, &err);
  size_t n;
  uint64_t tag;
  return cdl_cbor_read_array(&cur, &n, "query") == CDL_OK && n >= 1 &&
         cdl_cbor_read_uint(&cur, &tag, "query tag") == CDL_OK &&
         tag >= CDL_LSQ_Q_UTXO_BY_ADDRESS && tag <= CDL_LSQ_Q_CHAIN_CONSTANTS;
}

static int read_txin(cdl_cbor_cursor *cur, cdl_lsq_txin *in) {
  const uint8_t *id;
  uint64_t ix;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "tx input"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &id, "tx input id"));
  CDL_TRY(cdl_cbor_read_uint_max(cur, UINT32_MAX, &ix, "tx input index"));
  memcpy(in->tx_id, id, 32);
  in->index = (uint32_t)ix;
  return CDL_OK;
}

static int read_address(cdl_cbor_cursor *cur, cdl_span *a) {
  size_t at = cdl_cbor_offset(cur);
  CDL_TRY(cdl_cbor_skip(cur, a));
  if (a->len > CDL_LSQ_ADDRESS_MAX_BYTES)
    return cdl_cbor_fail(cur, CDL_E_LIMIT, "address at offset %zu: %zu bytes, over %d", at, a->len,
                         CDL_LSQ_ADDRESS_MAX_BYTES);
  return CDL_OK;
}

static int read_list(cdl_cbor_cursor *cur, cdl_lsq_cardinal_query *q) {
  bool by_address = q->tag == CDL_LSQ_Q_UTXO_BY_ADDRESS;
  size_t max = by_address ? CDL_LSQ_UTXO_MAX_ADDRESSES : CDL_LSQ_UTXO_MAX_INPUTS;
  CDL_TRY(cdl_cbor_read_array(cur, &q->n, by_address ? "addresses" : "tx inputs"));
  if (q->n > max)
    return cdl_cbor_fail(cur, CDL_E_LIMIT, "%zu %s in one query, over %zu", q->n,
                         by_address ? "addresses" : "tx inputs", max);
  for (size_t i = 0; i < q->n; i++)
    CDL_TRY(by_address ? read_address(cur, &q->addresses[i]) : read_txin(cur, &q->inputs[i]));
  return CDL_OK;
}

int cdl_lsq_cardinal_query_read(cdl_span q, cdl_lsq_cardinal_query *out, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, q.ptr, q.len, err);
  size_t n;
  out->n = 0;
  CDL_TRY(cdl_cbor_read_array(&cur, &n, "query"));
  CDL_TRY(cdl_cbor_read_uint(&cur, &out->tag, "query tag"));
  bool constants = out->tag == CDL_LSQ_Q_CHAIN_CONSTANTS;
  if (out->tag < CDL_LSQ_Q_UTXO_BY_ADDRESS || out->tag > CDL_LSQ_Q_CHAIN_CONSTANTS)
    return cdl_cbor_fail(&cur, CDL_E_TAG, "not one of Cardinal's queries: tag %llu",
                         (unsigned long long)out->tag);
  if (n != (constants ? 1u : 2u))
    return cdl_cbor_fail(&cur, CDL_E_TYPE, "query 0x%llX: %zu fields, expected %u",
                         (unsigned long long)out->tag, n, constants ? 1u : 2u);
  if (!constants)
    CDL_TRY(read_list(&cur, out));
  return cdl_cbor_expect_end(&cur, "query");
}

void cdl_lsq_enc_utxo_by_address(cdl_buf *b, const cdl_span *addrs, size_t n) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, CDL_LSQ_Q_UTXO_BY_ADDRESS);
  cdl_cbor_enc_array(b, n);
  for (size_t i = 0; i < n; i++)
    cdl_cbor_enc_raw(b, addrs[i]);
}

static void enc_txin(cdl_buf *b, const cdl_lsq_txin *in) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_bytes(b, in->tx_id, 32);
  cdl_cbor_enc_uint(b, in->index);
}

void cdl_lsq_enc_utxo_by_input(cdl_buf *b, const cdl_lsq_txin *ins, size_t n) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, CDL_LSQ_Q_UTXO_BY_INPUT);
  cdl_cbor_enc_array(b, n);
  for (size_t i = 0; i < n; i++)
    enc_txin(b, &ins[i]);
}

void cdl_lsq_enc_chain_constants_query(cdl_buf *b) {
  cdl_cbor_enc_array(b, 1);
  cdl_cbor_enc_uint(b, CDL_LSQ_Q_CHAIN_CONSTANTS);
}

bool cdl_lsq_utxo_entry_add(cdl_buf *entries, const cdl_lsq_txin *in, cdl_span address,
                            uint64_t lovelace) {
  size_t before = entries->len;
  cdl_cbor_enc_array(entries, 2);
  enc_txin(entries, in);
  cdl_cbor_enc_array(entries, 2);
  cdl_cbor_enc_raw(entries, address);
  cdl_cbor_enc_uint(entries, lovelace);
  if (entries->len + ANSWER_HEAD_ROOM <= CDL_LSQ_UTXO_ANSWER_MAX)
    return true;
  entries->len = before;
  return false;
}

void cdl_lsq_enc_utxo_answer(cdl_buf *b, bool complete, size_t n, cdl_span entries) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_bool(b, complete);
  cdl_cbor_enc_array(b, n);
  cdl_cbor_enc_raw(b, entries);
}

static int read_entry(cdl_cbor_cursor *cur, cdl_lsq_utxo_entry *e) {
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "utxo entry"));
  CDL_TRY(read_txin(cur, &e->in));
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "tx output"));
  CDL_TRY(read_address(cur, &e->address));
  return cdl_cbor_read_uint_max(cur, CDL_BYRON_MAX_LOVELACE, &e->lovelace, "lovelace");
}

int cdl_lsq_utxo_answer_read(cdl_span r, cdl_lsq_utxo_answer *a, cdl_error *err) {
  memset(a, 0, sizeof *a);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, r.ptr, r.len, err);
  CDL_TRY(cdl_cbor_expect_array(&cur, 2, "utxo answer"));
  CDL_TRY(cdl_cbor_read_bool(&cur, &a->complete, "complete"));
  size_t n;
  CDL_TRY(cdl_cbor_read_array(&cur, &n, "utxo entries"));
  if (n > r.len / MIN_ENTRY_BYTES)
    return cdl_cbor_fail(&cur, CDL_E_RANGE, "%zu entries cannot fit in %zu bytes", n, r.len);
  a->entries = calloc(n ? n : 1, sizeof *a->entries);
  if (a->entries == NULL)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  int rc = CDL_OK;
  for (a->n = 0; a->n < n && rc == CDL_OK; a->n++)
    rc = read_entry(&cur, &a->entries[a->n]);
  if (rc == CDL_OK)
    rc = cdl_cbor_expect_end(&cur, "utxo answer");
  if (rc != CDL_OK)
    cdl_lsq_utxo_answer_free(a);
  return rc;
}

void cdl_lsq_utxo_answer_free(cdl_lsq_utxo_answer *a) {
  free(a->entries);
  memset(a, 0, sizeof *a);
}

void cdl_lsq_enc_chain_constants(cdl_buf *b, const cdl_lsq_chain_constants *c) {
  cdl_cbor_enc_array(b, 6);
  cdl_cbor_enc_uint(b, c->epoch_slots);
  cdl_cbor_enc_uint(b, c->k);
  cdl_cbor_enc_uint(b, c->protocol_magic);
  cdl_cbor_enc_bool(b, c->requires_magic);
  cdl_cbor_enc_uint(b, c->slot_ms);
  cdl_cbor_enc_uint(b, c->genesis_keys);
}

int cdl_lsq_chain_constants_read(cdl_span r, cdl_lsq_chain_constants *c, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, r.ptr, r.len, err);
  uint64_t magic, keys;
  CDL_TRY(cdl_cbor_expect_array(&cur, 6, "chain constants"));
  CDL_TRY(cdl_cbor_read_uint(&cur, &c->epoch_slots, "epoch slots"));
  CDL_TRY(cdl_cbor_read_uint_max(&cur, CDL_BYRON_MAX_K, &c->k, "k"));
  CDL_TRY(cdl_cbor_read_uint_max(&cur, UINT32_MAX, &magic, "protocol magic"));
  CDL_TRY(cdl_cbor_read_bool(&cur, &c->requires_magic, "requires magic"));
  CDL_TRY(cdl_cbor_read_uint_max(&cur, CDL_BYRON_MAX_SLOT_MS, &c->slot_ms, "slot length"));
  CDL_TRY(cdl_cbor_read_uint_max(&cur, 255, &keys, "genesis keys"));
  CDL_TRY(cdl_cbor_expect_end(&cur, "chain constants"));
  c->protocol_magic = (uint32_t)magic;
  c->genesis_keys = (uint32_t)keys;
  if (c->k == 0 || c->slot_ms == 0 || keys == 0 || c->epoch_slots != 10 * c->k)
    return cdl_error_set(err, CDL_E_RANGE, 0,
                         "chain constants: k %llu, %llu slots an epoch, %llu ms slots, %llu "
                         "genesis keys (k, slots and keys must be positive, an epoch 10k slots)",
                         (unsigned long long)c->k, (unsigned long long)c->epoch_slots,
                         (unsigned long long)c->slot_ms, (unsigned long long)keys);
  return CDL_OK;
}
