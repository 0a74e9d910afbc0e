/*
 * json.c: JSON views of Byron blocks, transactions and addresses for the
 * command line (field list in docs/cli.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"

json_t *cdl_json_u64(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char text[24];
  snprintf(text, sizeof text, "%llu", (unsigned long long)v);
  return json_string(text);
}

json_t *cdl_json_hex(const uint8_t *data, size_t len) {
  char stack[257];
  char *text = len <= 128 ? stack : malloc(2 * len + 1);
  if (text == NULL) return NULL;
  cdl_hex_encode(data, len, text);
  json_t *j = json_string(text);
  if (text != stack) free(text);
  return j;
}

static json_t *span_hex(cdl_span s) { return cdl_json_hex(s.ptr, s.len); }

/* Text fields arrive as bytes from peers: invalid UTF-8 is shown as hex. */
static json_t *span_text(cdl_span s) {
  json_t *j = json_stringn((const char *)s.ptr, s.len);
  return j != NULL ? j : json_pack("{s:o}", "hex", span_hex(s));
}

json_t *cdl_byron_address_base58_json(cdl_span raw) {
  char text[2048];
  if (cdl_byron_address_to_base58(raw, text, sizeof text) == 0) return json_null();
  return json_string(text);
}

static json_t *address_type(uint64_t type) {
  static const char *names[] = {"pubkey", "script", "redeem"};
  if (type <= 2) return json_string(names[type]);
  char text[32];
  snprintf(text, sizeof text, "unknown:%llu", (unsigned long long)type);
  return json_string(text);
}

json_t *cdl_byron_address_json(const cdl_byron_address *addr) {
  json_t *attrs = json_object();
  if (addr->has_network_magic)
    json_object_set_new(attrs, "network_magic", json_integer(addr->network_magic));
  if (addr->has_hd_payload) json_object_set_new(attrs, "hd_payload", span_hex(addr->hd_payload));
  json_t *unknown = json_array();
  for (size_t i = 0; i < addr->attrs.count; i++) {
    const cdl_byron_attr *a = &addr->attrs.items[i];
    if (a->key == 1 || a->key == 2) continue;
    json_array_append_new(unknown, json_pack("{s:i,s:o}", "key", a->key, "value",
                                             span_hex(a->value)));
  }
  if (json_array_size(unknown) > 0) json_object_set_new(attrs, "unknown", unknown);
  else json_decref(unknown);
  return json_pack("{s:o,s:o,s:o,s:o,s:o}", "type", address_type(addr->type), "root",
                   cdl_json_hex(addr->root, 28), "attributes", attrs, "bytes",
                   span_hex(addr->raw), "base58", cdl_byron_address_base58_json(addr->raw));
}

static json_t *witness_json(const cdl_byron_witness *w) {
  static const char *names[] = {"pubkey", "script", "redeem"};
  json_t *j = json_pack("{s:s}", "type", names[w->type]);
  if (w->type != CDL_BYRON_WIT_SCRIPT) json_object_set_new(j, "key", cdl_json_hex(w->key, w->key_len));
  return j;
}

json_t *cdl_byron_txaux_json(const cdl_byron_txaux *aux) {
  const cdl_byron_tx *tx = &aux->tx;
  json_t *inputs = json_array(), *outputs = json_array(), *wits = json_array();
  for (size_t i = 0; i < tx->n_inputs; i++)
    json_array_append_new(inputs, json_pack("{s:o,s:I}", "tx_id",
                                            cdl_json_hex(tx->inputs[i].tx_id, 32), "index",
                                            (json_int_t)tx->inputs[i].index));
  for (size_t i = 0; i < tx->n_outputs; i++)
    json_array_append_new(outputs, json_pack("{s:o,s:o}", "address",
                                             cdl_byron_address_base58_json(tx->outputs[i].address.raw),
                                             "lovelace", cdl_json_u64(tx->outputs[i].lovelace)));
  for (size_t i = 0; i < aux->n_witnesses; i++)
    json_array_append_new(wits, witness_json(&aux->witnesses[i]));
  return json_pack("{s:o,s:I,s:I,s:o,s:o,s:o}", "id", cdl_json_hex(tx->id, 32), "size",
                   (json_int_t)tx->raw.len, "aux_size", (json_int_t)aux->raw.len, "inputs",
                   inputs, "outputs", outputs, "witnesses", wits);
}

static json_t *version_json(const cdl_byron_version *v) {
  char text[32];
  snprintf(text, sizeof text, "%u.%u.%u", v->major, v->minor, v->alt);
  return json_string(text);
}

/* An integer too large for JSON numbers here is shown as its bignum bytes. */
static json_t *integer_json(const cdl_byron_integer *n) {
  int64_t v;
  if (cdl_byron_integer_to_i64(n, &v)) return json_integer(v);
  return json_pack("{s:b,s:o}", "negative", n->negative, "bignum",
                   n->is_bignum ? span_hex(n->big) : cdl_json_u64(n->small));
}

static json_t *param_update_json(const cdl_byron_param_update *u) {
  static const char *names[CDL_BYRON_PP_COUNT_SCALAR] = {
      "script_version", "slot_duration_ms", "max_block_size", "max_header_size",
      "max_tx_size", "max_proposal_size", "mpc_thd", "heavy_del_thd",
      "update_vote_thd", "update_proposal_thd", "update_implicit"};
  json_t *j = json_object();
  for (unsigned i = 0; i < CDL_BYRON_PP_COUNT_SCALAR; i++) {
    if (u->scalar[i].present) json_object_set_new(j, names[i], cdl_json_u64(u->scalar[i].value));
  }
  if (u->has_softfork_rule)
    json_object_set_new(j, "softfork_rule",
                        json_pack("{s:o,s:o,s:o}", "init_thd", cdl_json_u64(u->softfork_init),
                                  "min_thd", cdl_json_u64(u->softfork_min), "thd_decrement",
                                  cdl_json_u64(u->softfork_decrement)));
  if (u->has_fee_policy)
    json_object_set_new(j, "tx_fee_policy",
                        json_pack("{s:o,s:o}", "summand_nano", integer_json(&u->fee_summand_nano),
                                  "multiplier_nano", integer_json(&u->fee_multiplier_nano)));
  if (u->unlock_stake_epoch.present)
    json_object_set_new(j, "unlock_stake_epoch", cdl_json_u64(u->unlock_stake_epoch.value));
  return j;
}

json_t *cdl_byron_proposal_json(const cdl_byron_proposal *p) {
  json_t *tags = json_array();
  for (size_t i = 0; i < p->n_metadata; i++) json_array_append_new(tags, span_text(p->metadata[i].system_tag));
  return json_pack("{s:o,s:o,s:{s:o,s:I},s:o,s:o,s:o}", "id", cdl_json_hex(p->id, 32),
                   "block_version", version_json(&p->block_version), "software_version",
                   "name", span_text(p->software_version.app_name), "number",
                   (json_int_t)p->software_version.number, "parameters",
                   param_update_json(&p->params), "system_tags", tags, "issuer",
                   cdl_json_hex(p->issuer, 64));
}

static json_t *ssc_json(const cdl_byron_block *blk) {
  static const char *names[] = {"commitments", "openings", "shares", "certificates"};
  return blk->is_ebb ? json_null() : json_string(names[blk->body.ssc.tag]);
}

static json_t *txs_json(const cdl_byron_block *blk) {
  json_t *txs = json_array();
  for (size_t i = 0; !blk->is_ebb && i < blk->body.n_txs; i++)
    json_array_append_new(txs, cdl_byron_txaux_json(&blk->body.txs[i]));
  return txs;
}

static json_t *slot_json(const cdl_byron_block *blk, uint64_t epoch_slots) {
  uint64_t slot;
  return cdl_byron_block_slot(blk, epoch_slots, &slot) == CDL_OK ? cdl_json_u64(slot) : json_null();
}

json_t *cdl_byron_block_json(const cdl_byron_block *blk, uint64_t epoch_slots,
                             const cdl_byron_block_checks *checks) {
  bool ebb = blk->is_ebb;
  const cdl_byron_header *h = &blk->header;
  json_t *j = json_object();
  json_object_set_new(j, "kind", json_string(ebb ? "ebb" : "main"));
  json_object_set_new(j, "hash", cdl_json_hex(cdl_byron_block_hash(blk), 32));
  json_object_set_new(j, "prev_hash", cdl_json_hex(cdl_byron_block_prev_hash(blk), 32));
  json_object_set_new(j, "protocol_magic",
                      ebb ? json_integer(blk->ebb.protocol_magic) : json_integer(h->protocol_magic));
  json_object_set_new(j, "epoch", cdl_json_u64(ebb ? blk->ebb.epoch : h->epoch));
  json_object_set_new(j, "slot", slot_json(blk, epoch_slots));
  json_object_set_new(j, "slot_in_epoch", cdl_json_u64(ebb ? 0 : h->slot_in_epoch));
  json_object_set_new(j, "block_no", cdl_json_u64(cdl_byron_block_number(blk)));
  json_object_set_new(j, "size", json_integer((json_int_t)blk->raw.len));
  json_object_set_new(j, "issuer", ebb ? json_null() : cdl_json_hex(h->leader_key, 64));
  json_object_set_new(j, "tx_count", json_integer(ebb ? 0 : (json_int_t)blk->body.n_txs));
  json_object_set_new(j, "txs", txs_json(blk));
  json_object_set_new(j, "delegation_certificates", json_integer(ebb ? 0 : (json_int_t)blk->body.n_certs));
  json_object_set_new(j, "update_proposal",
                      !ebb && blk->body.proposal ? cdl_byron_proposal_json(blk->body.proposal)
                                                     : json_null());
  json_object_set_new(j, "update_votes", json_integer(ebb ? 0 : (json_int_t)blk->body.n_votes));
  json_object_set_new(j, "ssc", ssc_json(blk));
  if (!ebb) {
    json_object_set_new(j, "block_version", version_json(&h->block_version));
    json_object_set_new(j, "software_version",
                        json_pack("{s:o,s:I}", "name", span_text(h->software_version.app_name),
                                  "number", (json_int_t)h->software_version.number));
  }
  if (checks != NULL)
    json_object_set_new(j, "checks",
                        json_pack("{s:b,s:o}", "body_proof", checks->body_proof, "signature",
                                  ebb ? json_null() : json_boolean(checks->signature)));
  return j;
}

json_t *cdl_byron_block_summary_json(const cdl_byron_block *blk,
                                     uint64_t epoch_slots, size_t offset,
                                     size_t size) {
  return json_pack("{s:I,s:I,s:s,s:o,s:o,s:o,s:o,s:I}", "offset", (json_int_t)offset, "size",
                   (json_int_t)size, "kind", blk->is_ebb ? "ebb" : "main", "hash",
                   cdl_json_hex(cdl_byron_block_hash(blk), 32), "prev_hash",
                   cdl_json_hex(cdl_byron_block_prev_hash(blk), 32), "slot",
                   slot_json(blk, epoch_slots), "block_no",
                   cdl_json_u64(cdl_byron_block_number(blk)), "tx_count",
                   (json_int_t)(blk->is_ebb ? 0 : blk->body.n_txs));
}
