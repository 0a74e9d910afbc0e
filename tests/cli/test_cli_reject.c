/*
 * test_cli_reject.c: cardinal-cli's reading of a node's MsgRejectTx
 * reason (tools/cardinal-cli/reject.c; docs/cli.md "Rejection reasons"),
 * on every form a node writes (src/net/apply_tx_error.c, and a Haskell
 * node's) and on hostile bytes: each gives one error JSON line, bounded,
 * printable, the undecoded ones keeping their hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../unit/support.h"
#include "cardinal/net.h"
#include "cli.h"

/* The error object cli_report_node_reason prints for |reason|. */
static json_t *report(const uint8_t *reason, size_t len) {
  char path[] = "/tmp/cdl-reject-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  int code = cli_report_node_reason(cdl_span_of(reason, len));
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  assert_int_equal(code, EXIT_REJECTED);
  char text[16384];
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  close(fd);
  unlink(path);
  assert_true(n > 0 && text[n - 1] == '\n');
  text[n] = '\0';
  assert_null(memchr(text, '\n', (size_t)n - 1)); /* one line */
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL)
    fail_msg("not JSON: %s", text);
  json_t *e = json_incref(json_object_get(j, "error"));
  json_decref(j);
  assert_non_null(e);
  return e;
}

static const char *field(json_t *e, const char *key) {
  const char *s = json_string_value(json_object_get(e, key));
  if (s == NULL)
    fail_msg("no %s", key);
  return s;
}

static void enc_text(cdl_buf *b, const char *s) {
  cdl_cbor_enc_text(b, (const uint8_t *)s, strlen(s));
}

/* [[0, [kind, [rule, detail]]]] */
static void cardinal_reason(cdl_buf *b, unsigned kind, const char *rule, const char *detail) {
  cdl_cbor_enc_array(b, 1);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, kind);
  cdl_cbor_enc_array(b, 2);
  enc_text(b, rule);
  enc_text(b, detail);
}

/* What the node writes (src/net/apply_tx_error.c) reads back as written. */
static void test_node_forms(void **state) {
  (void)state;
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_rejection rej = {.rule = CDL_RULE_UPD_VOTER};
  snprintf(rej.detail, sizeof rej.detail, "vote 0's voter is not a genesis delegate");
  cdl_net_enc_apply_tx_error(&b, &rej);
  json_t *e = report(b.data, b.len);
  assert_string_equal(field(e, "rule"), "update.voter_not_delegate");
  assert_string_equal(field(e, "message"), "vote 0's voter is not a genesis delegate");
  assert_string_equal(field(e, "payload"), "vote");
  assert_null(json_object_get(e, "reason_cbor"));
  json_decref(e);
  uint8_t id[32];
  memset(id, 0xab, sizeof id);
  rej = (cdl_rejection){.rule = CDL_RULE_MISSING_INPUT, .has_input = true, .input_index = 7};
  memcpy(rej.input_tx_id, id, 32);
  cdl_buf_reset(&b);
  cdl_net_enc_apply_tx_error(&b, &rej);
  e = report(b.data, b.len);
  assert_string_equal(field(e, "rule"), "utxo.missing_input");
  assert_string_equal(field(e, "payload"), "tx");
  json_t *in = json_object_get(e, "input");
  assert_int_equal(json_integer_value(json_object_get(in, "index")), 7);
  assert_string_equal(field(in, "tx_id"),
                      "abababababababababababababababababababababababababababababababab");
  json_decref(e);
  cdl_buf_reset(&b);
  cdl_net_enc_era_mismatch(&b, 1);
  e = report(b.data, b.len);
  assert_string_equal(field(e, "rule"), "node.era_mismatch");
  assert_non_null(strstr(field(e, "message"), "Shelley era (1)"));
  assert_non_null(strstr(field(e, "message"), "Byron era (0)"));
  json_decref(e);
  cdl_buf_free(&b);
}

/* A Haskell node's own structures: named, not decoded, hex kept. */
static void test_haskell_forms(void **state) {
  (void)state;
  /* [[0, [2, [1, [...]]]]]: an Update.Validation.Interface.Error. */
  static const uint8_t UPDATE[] = {0x81, 0x82, 0x00, 0x82, 0x02, 0x82, 0x01, 0x80};
  json_t *e = report(UPDATE, sizeof UPDATE);
  assert_string_equal(field(e, "rule"), "node.rejected");
  assert_string_equal(field(e, "payload"), "proposal");
  assert_non_null(strstr(field(e, "message"), "Update.Validation.Interface.Error, constructor 1"));
  assert_string_equal(field(e, "reason_cbor"), "818200820282018"
                                               "0");
  json_decref(e);
  /* An error of another era. */
  static const uint8_t SHELLEY[] = {0x81, 0x82, 0x01, 0x82, 0x00, 0x80};
  e = report(SHELLEY, sizeof SHELLEY);
  assert_string_equal(field(e, "rule"), "node.rejected");
  assert_non_null(strstr(field(e, "message"), "era 1"));
  json_decref(e);
}

/* Hostile reasons: cut, unprintable, not a rule, truncated, huge. */
static void test_hostile_reasons(void **state) {
  (void)state;
  cdl_buf b;
  cdl_buf_init(&b, 0);
  char detail[5000];
  memset(detail, 'x', sizeof detail - 1);
  detail[sizeof detail - 1] = '\0';
  detail[10] = '\n';
  detail[11] = '\x1b';
  cardinal_reason(&b, 0, "utxo.fee_too_small", detail);
  json_t *e = report(b.data, b.len);
  assert_string_equal(field(e, "rule"), "utxo.fee_too_small");
  const char *m = field(e, "message");
  assert_true(strlen(m) <= 480);
  assert_int_equal(m[10], '?');
  assert_int_equal(m[11], '?');
  json_decref(e);
  cdl_buf_reset(&b);
  cardinal_reason(&b, 3, "Not A Rule\"}", "d");
  e = report(b.data, b.len);
  assert_string_equal(field(e, "rule"), "node.rejected");
  assert_non_null(json_object_get(e, "reason_cbor"));
  json_decref(e);
  /* Truncated: every prefix of a good reason is refused cleanly. */
  cdl_buf_reset(&b);
  cardinal_reason(&b, 2, "update.null_proposal", "nothing changes");
  for (size_t n = 0; n < b.len; n++) {
    e = report(b.data, n);
    assert_string_equal(field(e, "rule"), "node.rejected");
    json_decref(e);
  }
  /* 100 KB of nonsense: the hex kept is capped, the size said. */
  uint8_t *big = calloc(100000, 1);
  assert_non_null(big);
  big[0] = 0x81;
  e = report(big, 100000);
  assert_string_equal(field(e, "rule"), "node.rejected");
  assert_int_equal(strlen(field(e, "reason_cbor")), 2048);
  assert_int_equal(json_integer_value(json_object_get(e, "reason_bytes")), 100000);
  json_decref(e);
  free(big);
  /* Deep nesting does not recurse without bound. */
  uint8_t deep[4096];
  memset(deep, 0x81, sizeof deep);
  e = report(deep, sizeof deep);
  assert_string_equal(field(e, "rule"), "node.rejected");
  json_decref(e);
  cdl_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_node_forms),
                                     cmocka_unit_test(test_haskell_forms),
                                     cmocka_unit_test(test_hostile_reasons)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
