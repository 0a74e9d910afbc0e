/*
 * hex.c: hex text to bytes and back. Vector files and the command line
 * carry CBOR as hex, in either case, sometimes with line breaks.
 */
#include <string.h>

#include "cardinal/base.h"

static const char HEX_DIGITS[] = "0123456789abcdef";

void cdl_hex_encode(const uint8_t *in, size_t len, char *out) {
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = HEX_DIGITS[in[i] >> 4];
    out[2 * i + 1] = HEX_DIGITS[in[i] & 15];
  }
  out[2 * len] = '\0';
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int cdl_hex_decode(const char *text, size_t text_len, uint8_t *out,
                   size_t out_cap, size_t *out_len, cdl_error *err) {
  if (text_len % 2 != 0)
    return cdl_error_set(err, CDL_E_HEX, text_len, "odd number of hex digits");
  if (text_len / 2 > out_cap)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "hex text too long");
  for (size_t i = 0; i < text_len; i += 2) {
    int hi = hex_value((unsigned char)text[i]);
    int lo = hex_value((unsigned char)text[i + 1]);
    if (hi < 0 || lo < 0)
      return cdl_error_set(err, CDL_E_HEX, i, "not a hex digit at %zu", i);
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  if (out_len) *out_len = text_len / 2;
  return CDL_OK;
}

bool cdl_hex_is_text(const uint8_t *data, size_t len) {
  size_t digits = 0;
  for (size_t i = 0; i < len; i++) {
    if (is_space(data[i])) continue;
    if (hex_value(data[i]) < 0) return false;
    digits++;
  }
  return digits > 0 && digits % 2 == 0;
}

int cdl_hex_decode_loose(const uint8_t *text, size_t len, cdl_buf *out,
                         cdl_error *err) {
  int rc = cdl_buf_reserve(out, len / 2 + 1);
  if (rc != CDL_OK) return cdl_error_set(err, rc, 0, "hex buffer");
  int hi = -1;
  for (size_t i = 0; i < len; i++) {
    if (is_space(text[i])) continue;
    int v = hex_value(text[i]);
    if (v < 0) return cdl_error_set(err, CDL_E_HEX, i, "not a hex digit at %zu", i);
    if (hi < 0) {
      hi = v;
    } else {
      out->data[out->len++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  if (hi >= 0) return cdl_error_set(err, CDL_E_HEX, len, "odd number of hex digits");
  return CDL_OK;
}
