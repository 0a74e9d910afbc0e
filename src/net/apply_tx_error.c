/*
 * apply_tx_error.c: the reason in a local tx-submission MsgRejectTx
 * (include/cardinal/net.h; docs/network.md "Local tx-submission").
 *
 * The hard-fork wrapping is ouroboros-consensus's encodeEitherMismatch:
 * [[0, eraError]] for a Byron tx the ledger refused (golden
 * ApplyTxErr_Byron = 81 82 00 ...), and [[txEra, "Name"], [0, "Byron"]]
 * for a tx of another era (golden ApplyTxErr_WrongEraByron). The Byron
 * error is cardano-ledger's ApplyMempoolPayloadErr, [payloadKind, error]:
 *   0 tx          UTxOValidationError
 *   1 certificate Delegation.Validation.Scheduling.Error
 *   2 proposal    Update.Validation.Interface.Error
 *   3 vote        Update.Validation.Interface.Error
 * A missing input, the refusal a double spend or an already included tx
 * gets, is written exactly as the Haskell node writes it:
 * [0, [1, [0, TxIn]]] (UTxOValidationUTxOError (UTxOMissingInput txin)),
 * TxIn = [0, #6.24(bytes [txid, index])]. Every other refusal carries
 * Cardinal's rule name and detail as [kind, [rule, detail]] in place of the
 * ledger's structure (whose arguments our rejections do not all keep);
 * Haskell decoders read it as an undecodable reason.
 */
#include <stdio.h>
#include <string.h>

#include "cardinal/net.h"

static const char *const ERA_NAMES[] = {"Byron",  "Shelley", "Allegra", "Mary",
                                        "Alonzo", "Babbage", "Conway"};

static void enc_text(cdl_buf *b, const char *s) {
  cdl_cbor_enc_text(b, (const uint8_t *)s, strlen(s));
}

static void enc_era(cdl_buf *b, uint64_t era) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, era);
  enc_text(b, era < sizeof ERA_NAMES / sizeof *ERA_NAMES ? ERA_NAMES[era] : "Unknown");
}

void cdl_net_enc_era_mismatch(cdl_buf *b, uint64_t tx_era) {
  cdl_cbor_enc_array(b, 2);
  enc_era(b, tx_era);
  enc_era(b, 0);
}

static bool starts(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The payload kind a rule belongs to (mempool rules: as for a tx). */
static unsigned payload_kind(const char *rule) {
  if (starts(rule, "delegation.")) return 1;
  if (starts(rule, "update.vote") || starts(rule, "update.voter") ||
      strcmp(rule, CDL_RULE_UPD_VOTE_REPEAT) == 0)
    return 3;
  if (starts(rule, "update.")) return 2;
  return 0;
}

void cdl_net_enc_apply_tx_error(cdl_buf *b, const cdl_rejection *rej) {
  const char *rule = rej->rule ? rej->rule : "unknown";
  cdl_cbor_enc_array(b, 1); /* the era matched */
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0); /* Byron */
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, payload_kind(rule));
  if (strcmp(rule, CDL_RULE_MISSING_INPUT) == 0 && rej->has_input) {
    cdl_cbor_enc_array(b, 2);
    cdl_cbor_enc_uint(b, 1); /* UTxOValidationUTxOError */
    cdl_cbor_enc_array(b, 2);
    cdl_cbor_enc_uint(b, 0); /* UTxOMissingInput */
    cdl_byron_txin in = {.tx_id = rej->input_tx_id, .index = rej->input_index};
    cdl_byron_txin_encode(b, &in);
    return;
  }
  cdl_cbor_enc_array(b, 2);
  enc_text(b, rule);
  enc_text(b, rej->detail);
}

int cdl_net_read_apply_tx_error(cdl_span reason, char *rule, size_t rule_cap, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, reason.ptr, reason.len, err);
  uint64_t era, kind, tag;
  size_t n;
  int rc = cdl_cbor_read_array(&cur, &n, "apply-tx error");
  if (rc == CDL_OK && n != 1) { /* an era mismatch */
    snprintf(rule, rule_cap, "era_mismatch");
    return CDL_OK;
  }
  if (rc == CDL_OK) rc = cdl_cbor_expect_array(&cur, 2, "era error");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(&cur, &era, "era");
  if (rc == CDL_OK) rc = cdl_cbor_expect_array(&cur, 2, "Byron error");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(&cur, &kind, "payload kind");
  if (rc == CDL_OK) rc = cdl_cbor_expect_array(&cur, 2, "payload error");
  if (rc != CDL_OK) return rc;
  cdl_cbor_head h;
  rc = cdl_cbor_peek(&cur, &h);
  if (rc == CDL_OK && h.major == CDL_CBOR_TEXT) {
    cdl_span text;
    rc = cdl_cbor_read_text(&cur, &text, "rule");
    if (rc == CDL_OK) snprintf(rule, rule_cap, "%.*s", (int)text.len, (const char *)text.ptr);
    return rc;
  }
  if (rc == CDL_OK) rc = cdl_cbor_read_uint(&cur, &tag, "error tag");
  if (rc == CDL_OK)
    snprintf(rule, rule_cap, "%s", kind == 0 && tag == 1 ? CDL_RULE_MISSING_INPUT : "ledger");
  return rc;
}
