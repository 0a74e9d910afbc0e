/*
 * reject.c: a node's refusal made readable (docs/cli.md "Talking to a
 * node", "Rejection reasons"): the reason of a local tx-submission
 * MsgRejectTx, in the forms src/net/apply_tx_error.c writes them, becomes
 * {"error": {"rule", "message", "payload", ...}} on stderr:
 *   [[0, [kind, [rule, detail]]]]   Cardinal's own rule and text;
 *   [[0, [0, [1, [0, TxIn]]]]]      a missing input (the Haskell node's
 *                                   UTxOMissingInput): utxo.missing_input;
 *   [[txEra, name], [ledgerEra, name]]  the submission's era is not the
 *                                   node's (ouroboros-consensus's
 *                                   encodeEitherMismatch): node.era_mismatch.
 * Anything else (a Haskell node's own cardano-ledger error structures) is
 * node.rejected with a short description and the reason kept as hex.
 * The reason is hostile bytes: every read is bounded by the cursor, texts
 * are cut and reduced to printable ASCII, the hex is capped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/mempool.h"
#include "cli.h"

#define REASON_HEX_MAX_BYTES 1024 /* reason_cbor keeps at most this much */
#define RULE_MAX 64
#define MESSAGE_MAX 480

/* The mempool payload kinds (ouroboros-consensus Byron GenTx) and the
 * cardano-ledger error type a Haskell node encodes for each. */
static const char *const PAYLOAD_NAMES[] = {"tx", "certificate", "proposal", "vote"};
static const char *const HASKELL_ERROR_TYPES[] = {
    "UTxOValidationError", "Delegation.Scheduling.Error", "Update.Validation.Interface.Error",
    "Update.Validation.Interface.Error"};

typedef struct reason_view {
  char rule[RULE_MAX + 1];
  char message[MESSAGE_MAX + 1];
  int payload; /* index into PAYLOAD_NAMES, or -1 */
  bool has_input, keep_hex;
  uint8_t input_tx_id[32];
  uint64_t input_index;
} reason_view;

/* |s| cut to |cap| bytes, anything but printable ASCII shown as '?'. */
static void printable_copy(cdl_span s, char *out, size_t cap) {
  size_t n = s.len < cap ? s.len : cap;
  for (size_t i = 0; i < n; i++)
    out[i] = s.ptr[i] >= 0x20 && s.ptr[i] < 0x7f ? s.ptr[i] : '?';
  out[n] = '\0';
  if (s.len > cap && cap >= 3)
    memcpy(out + cap - 3, "...", 3);
}

/* A rule name as Cardinal writes them: lowercase words joined by dots. */
static bool is_rule_name(cdl_span s) {
  if (s.len == 0 || s.len > RULE_MAX || memchr(s.ptr, '.', s.len) == NULL)
    return false;
  for (size_t i = 0; i < s.len; i++) {
    uint8_t c = s.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
      return false;
  }
  return true;
}

/* [era, "Name"], as encodeEitherMismatch writes each side. */
static int read_era_name(cdl_cbor_cursor *cur, uint64_t *era, char *name, size_t cap) {
  cdl_span text;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "era"));
  CDL_TRY(cdl_cbor_read_uint(cur, era, "era index"));
  CDL_TRY(cdl_cbor_read_text(cur, &text, "era name"));
  printable_copy(text, name, cap);
  return CDL_OK;
}

static int read_era_mismatch(cdl_cbor_cursor *cur, reason_view *v) {
  uint64_t tx_era, ledger_era;
  char tx_name[24], ledger_name[24];
  CDL_TRY(read_era_name(cur, &tx_era, tx_name, sizeof tx_name - 1));
  CDL_TRY(read_era_name(cur, &ledger_era, ledger_name, sizeof ledger_name - 1));
  snprintf(v->rule, sizeof v->rule, "node.era_mismatch");
  snprintf(v->message, sizeof v->message,
           "the submission is for the %s era (%llu) but the node's ledger is in the %s era (%llu)",
           tx_name, (unsigned long long)tx_era, ledger_name, (unsigned long long)ledger_era);
  return CDL_OK;
}

/* TxIn [0, #6.24(bytes [txid, index])]. */
static int read_txin(cdl_cbor_cursor *cur, reason_view *v) {
  uint64_t tag;
  cdl_span payload;
  const uint8_t *id;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "TxIn"));
  CDL_TRY(cdl_cbor_read_uint(cur, &tag, "TxIn tag"));
  if (tag != 0)
    return cdl_cbor_fail(cur, CDL_E_TAG, "TxIn: unknown tag %llu", (unsigned long long)tag);
  CDL_TRY(cdl_cbor_read_tag24(cur, &payload, "TxIn"));
  cdl_cbor_cursor in;
  cdl_cbor_cursor_sub(&in, cur, payload);
  CDL_TRY(cdl_cbor_expect_array(&in, 2, "TxIn"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(&in, 32, &id, "TxIn id"));
  CDL_TRY(cdl_cbor_read_uint_max(&in, UINT32_MAX, &v->input_index, "TxIn index"));
  CDL_TRY(cdl_cbor_expect_end(&in, "TxIn"));
  memcpy(v->input_tx_id, id, 32);
  v->has_input = true;
  return CDL_OK;
}

/* A payload error a Haskell node writes: [constructor, ...], not decoded
 * further here; the missing input alone is recognised. */
static int read_haskell_error(cdl_cbor_cursor *cur, uint64_t kind, reason_view *v) {
  uint64_t tag = 0, inner = 0;
  size_t n;
  CDL_TRY(cdl_cbor_read_array(cur, &n, "payload error"));
  if (n == 0)
    return cdl_cbor_fail(cur, CDL_E_TYPE, "payload error: an empty list");
  CDL_TRY(cdl_cbor_read_uint(cur, &tag, "error constructor"));
  size_t fields = cur->pos;
  if (kind == 0 && n == 2 && tag == 1) { /* UTxOValidationUTxOError */
    CDL_TRY(cdl_cbor_expect_array(cur, 2, "UTxOError"));
    CDL_TRY(cdl_cbor_read_uint(cur, &inner, "UTxOError constructor"));
    if (inner == 0) { /* UTxOMissingInput */
      CDL_TRY(read_txin(cur, v));
      snprintf(v->rule, sizeof v->rule, "%s", CDL_RULE_MISSING_INPUT);
      snprintf(v->message, sizeof v->message,
               "an input is not in the node's UTxO: spent already, or never created");
      return CDL_OK;
    }
  }
  cur->pos = fields; /* the constructor's fields, passed over unread */
  for (size_t i = 1; i < n; i++)
    CDL_TRY(cdl_cbor_skip(cur, NULL));
  snprintf(v->rule, sizeof v->rule, "node.rejected");
  snprintf(v->message, sizeof v->message,
           "the node refused the %s with its own error encoding (cardano-ledger's %s, "
           "constructor %llu), which cardinal-cli does not decode: see reason_cbor",
           PAYLOAD_NAMES[kind], HASKELL_ERROR_TYPES[kind], (unsigned long long)tag);
  v->keep_hex = true;
  return CDL_OK;
}

/* [kind, error]: Cardinal's [rule, detail] or a Haskell node's structure. */
static int read_byron_error(cdl_cbor_cursor *cur, reason_view *v) {
  uint64_t kind;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "Byron error"));
  CDL_TRY(cdl_cbor_read_uint_max(cur, CDL_MP_VOTE, &kind, "payload kind"));
  v->payload = (int)kind;
  size_t at = cur->pos, n;
  cdl_cbor_head h;
  CDL_TRY(cdl_cbor_read_array(cur, &n, "payload error"));
  if (n == 2 && cdl_cbor_peek(cur, &h) == CDL_OK && h.major == CDL_CBOR_TEXT) {
    cdl_span rule, detail;
    CDL_TRY(cdl_cbor_read_text(cur, &rule, "rule"));
    CDL_TRY(cdl_cbor_read_text(cur, &detail, "detail"));
    printable_copy(detail, v->message, MESSAGE_MAX);
    if (is_rule_name(rule)) {
      printable_copy(rule, v->rule, RULE_MAX);
      return CDL_OK;
    }
    snprintf(v->rule, sizeof v->rule, "node.rejected");
    v->keep_hex = true;
    return CDL_OK;
  }
  cur->pos = at;
  return read_haskell_error(cur, kind, v);
}

static int read_reason(cdl_cbor_cursor *cur, reason_view *v) {
  size_t n;
  uint64_t era;
  CDL_TRY(cdl_cbor_read_array(cur, &n, "rejection reason"));
  if (n == 2)
    return read_era_mismatch(cur, v);
  if (n != 1)
    return cdl_cbor_fail(cur, CDL_E_TYPE, "a reason is a list of 1 or 2, not %zu", n);
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "era error"));
  CDL_TRY(cdl_cbor_read_uint(cur, &era, "era"));
  if (era != 0) {
    snprintf(v->rule, sizeof v->rule, "node.rejected");
    snprintf(v->message, sizeof v->message,
             "the node refused it with an error of era %llu (not Byron): see reason_cbor",
             (unsigned long long)era);
    v->keep_hex = true;
    return cdl_cbor_skip(cur, NULL);
  }
  return read_byron_error(cur, v);
}

static json_t *reason_hex(cdl_span reason) {
  size_t n = reason.len < REASON_HEX_MAX_BYTES ? reason.len : REASON_HEX_MAX_BYTES;
  char hex[2 * REASON_HEX_MAX_BYTES + 1];
  cdl_hex_encode(reason.ptr, n, hex);
  return json_string(hex);
}

static json_t *view_json(const reason_view *v, cdl_span reason) {
  json_t *e = json_pack("{s:s,s:s}", "rule", v->rule, "message", v->message);
  if (e == NULL)
    return NULL;
  if (v->payload >= 0)
    json_object_set_new(e, "payload", json_string(PAYLOAD_NAMES[v->payload]));
  if (v->has_input)
    json_object_set_new(e, "input",
                        json_pack("{s:o,s:I}", "tx_id", cdl_json_hex(v->input_tx_id, 32), "index",
                                  (json_int_t)v->input_index));
  if (v->keep_hex) {
    json_object_set_new(e, "reason_cbor", reason_hex(reason));
    if (reason.len > REASON_HEX_MAX_BYTES)
      json_object_set_new(e, "reason_bytes", json_integer((json_int_t)reason.len));
  }
  return json_pack("{s:o}", "error", e);
}

int cli_report_node_reason(cdl_span reason) {
  reason_view v = {.payload = -1};
  cdl_error err = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, reason.ptr, reason.len, &err);
  int rc = read_reason(&cur, &v);
  if (rc == CDL_OK)
    rc = cdl_cbor_expect_end(&cur, "rejection reason");
  if (rc != CDL_OK) {
    snprintf(v.rule, sizeof v.rule, "node.rejected");
    snprintf(v.message, sizeof v.message, "the node's reason does not decode (%.300s)",
             err.message);
    v.keep_hex = true;
    v.has_input = false;
  }
  json_t *j = view_json(&v, reason);
  char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  fprintf(stderr, "%s\n", text ? text : "{\"error\":{\"rule\":\"node.rejected\"}}");
  free(text);
  json_decref(j);
  return EXIT_REJECTED;
}
