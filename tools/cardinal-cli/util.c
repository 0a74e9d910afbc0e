/*
 * util.c: cardinal-cli's shared helpers (see cli.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardinal/byron_json.h"
#include "cardinal/io.h"
#include "cli.h"

int cli_exit_code(int code) {
  switch (code) {
    case CDL_OK:
      return EXIT_OK;
    case CDL_E_IO:
    case CDL_E_NOMEM:
    case CDL_E_LOCKED:
    case CDL_E_MISSING:
      return EXIT_FAILURE_IO;
    case CDL_E_USAGE:
      return EXIT_USAGE;
    default:
      return EXIT_REJECTED;
  }
}

int cli_report(const cdl_error *err) {
  /* A failure that reached here without a recorded cause is a bug in the
   * library, but must still not exit 0. */
  int code = err->code != CDL_OK ? err->code : CDL_E_IO;
  json_t *j = json_pack("{s:{s:s,s:s,s:I}}", "error", "rule", cdl_error_name(code), "message",
                        err->message[0] ? err->message : "unexplained failure", "offset",
                        (json_int_t)err->offset);
  char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  fprintf(stderr, "%s\n", text ? text : err->message);
  free(text);
  json_decref(j);
  return cli_exit_code(code);
}

int cli_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "cardinal-cli: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see cardinal-cli --help)\n");
  va_end(ap);
  return EXIT_USAGE;
}

int cli_read_input(const char *path, cdl_buf *out, cdl_error *err) {
  return cli_read_input_max(path, CLI_MAX_INPUT, out, err);
}

int cli_read_input_max(const char *path, size_t max_bytes, cdl_buf *out, cdl_error *err) {
  cdl_buf raw;
  cdl_buf_init(&raw, 0);
  int rc = cdl_file_read_all(path, max_bytes, &raw, err);
  if (rc == CDL_OK && cdl_hex_is_text(raw.data, raw.len)) {
    rc = cdl_hex_decode_loose(raw.data, raw.len, out, err);
  } else if (rc == CDL_OK) {
    cdl_buf_free(out);
    *out = raw;
    return CDL_OK;
  }
  cdl_buf_free(&raw);
  return rc;
}

int cli_print(json_t *value, bool one_line) {
  if (value == NULL) {
    fprintf(stderr, "cardinal-cli: out of memory building the output\n");
    return EXIT_FAILURE_IO;
  }
  /* 15 significant digits: a decimal such as a threshold of 0.6 prints as
   * itself, not as the nearest double's 17 digits. */
  size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
                 (one_line ? JSON_COMPACT : JSON_INDENT(2));
  int rc = json_dumpf(value, stdout, flags);
  json_decref(value);
  fputc('\n', stdout);
  return rc == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAILURE_IO;
}

bool cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  if (text == NULL || *text < '0' || *text > '9') return false;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return false;
  *out = v;
  return true;
}

bool cli_parse_fraction(const char *text, double *out) {
  char *end = NULL;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0 && v <= 1)) return false;
  *out = v;
  return true;
}

double cli_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_report_rejection(const cdl_rejection *rej, const cdl_ledger *l) {
  json_t *e = json_object();
  json_object_set_new(e, "rule", json_string(rej->rule));
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(l, &tip);
  /* A block that does not decode has no number of its own: name the
   * position it would have taken. */
  uint64_t no = rej->has_block ? rej->block_no : tip.at_genesis ? 0 : tip.block_no + 1;
  json_object_set_new(e, "block_no", cdl_json_u64(no));
  json_object_set_new(e, "slot", rej->has_block ? cdl_json_u64(rej->slot) : json_null());
  json_object_set_new(e, "hash", rej->has_block ? cdl_json_hex(rej->hash, 32) : json_null());
  if (rej->has_tx) json_object_set_new(e, "tx_id", cdl_json_hex(rej->tx_id, 32));
  if (rej->has_input)
    json_object_set_new(e, "input",
                        json_pack("{s:o,s:I}", "tx_id", cdl_json_hex(rej->input_tx_id, 32), "index",
                                  (json_int_t)rej->input_index));
  json_object_set_new(e, "detail", json_string(rej->detail));
  json_t *j = json_pack("{s:o}", "error", e);
  char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  fprintf(stderr, "%s\n", text ? text : rej->rule);
  free(text);
  json_decref(j);
  return EXIT_REJECTED;
}

void cli_catch_stop_signals(const char *command) { cdl_io_stop_catch(command); }

bool cli_stop_requested(void) { return cdl_io_stop_signal() != 0; }

int cli_fail(const char *rule, int exit_code, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  json_t *j = json_pack("{s:{s:s,s:s}}", "error", "rule", rule, "message", message);
  char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  fprintf(stderr, "%s\n", text ? text : message);
  free(text);
  json_decref(j);
  return exit_code;
}

bool cli_parse_txin(const char *text, uint8_t tx_id[32], uint32_t *index) {
  const char *hash = strchr(text, '#');
  uint64_t ix;
  size_t got = 0;
  if (hash == NULL || hash - text != 64 ||
      cdl_hex_decode(text, 64, tx_id, 32, &got, NULL) != CDL_OK || got != 32 ||
      !cli_parse_u64(hash + 1, 0, UINT32_MAX, &ix))
    return false;
  *index = (uint32_t)ix;
  return true;
}
