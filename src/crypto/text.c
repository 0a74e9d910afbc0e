/*
 * text.c: Base58 (Bitcoin alphabet; Byron addresses, docs/byron.md 1.6) and
 * Base64 (genesis keys and AVVM keys, section 4.1; cardano-cli's Byron
 * verification key files; by libsodium).
 */
#include <string.h>

#include <sodium.h>

#include "cardinal/crypto.h"

static const char B58_ALPHABET[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Base58 is quadratic; addresses are about 100 bytes, so bound the work. */
#define B58_MAX_BYTES 1024

size_t cdl_base58_encode(const uint8_t *in, size_t len, char *out,
                         size_t out_cap) {
  if (len > B58_MAX_BYTES) return 0;
  size_t zeros = 0;
  while (zeros < len && in[zeros] == 0) zeros++;
  uint8_t digits[B58_MAX_BYTES * 138 / 100 + 2]; /* log(256)/log(58) */
  size_t ndigits = 0;
  for (size_t i = zeros; i < len; i++) {
    unsigned carry = in[i];
    for (size_t j = 0; j < ndigits; j++) {
      carry += (unsigned)digits[j] << 8;
      digits[j] = (uint8_t)(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits[ndigits++] = (uint8_t)(carry % 58);
      carry /= 58;
    }
  }
  size_t total = zeros + ndigits;
  if (total + 1 > out_cap) return 0;
  memset(out, '1', zeros);
  for (size_t j = 0; j < ndigits; j++)
    out[zeros + j] = B58_ALPHABET[digits[ndigits - 1 - j]];
  out[total] = '\0';
  return total;
}

static int b58_value(unsigned char c) {
  const char *p = c ? strchr(B58_ALPHABET, c) : NULL;
  return p ? (int)(p - B58_ALPHABET) : -1;
}

int cdl_base58_decode(const char *text, size_t text_len, uint8_t *out,
                      size_t out_cap, size_t *out_len, cdl_error *err) {
  if (text_len == 0)
    return cdl_error_set(err, CDL_E_BASE58, 0, "empty Base58 text");
  if (text_len > B58_MAX_BYTES * 2)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "Base58 text too long");
  size_t zeros = 0;
  while (zeros < text_len && text[zeros] == '1') zeros++;
  uint8_t bytes[B58_MAX_BYTES * 2];
  size_t nbytes = 0;
  for (size_t i = zeros; i < text_len; i++) {
    int v = b58_value((unsigned char)text[i]);
    if (v < 0)
      return cdl_error_set(err, CDL_E_BASE58, i,
                           "character %zu is not in the Base58 alphabet", i);
    unsigned carry = (unsigned)v;
    for (size_t j = 0; j < nbytes; j++) {
      carry += (unsigned)bytes[j] * 58;
      bytes[j] = (uint8_t)(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes[nbytes++] = (uint8_t)(carry & 0xff);
      carry >>= 8;
    }
  }
  if (zeros + nbytes > out_cap)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "Base58 value too long");
  memset(out, 0, zeros);
  for (size_t j = 0; j < nbytes; j++) out[zeros + j] = bytes[nbytes - 1 - j];
  *out_len = zeros + nbytes;
  return CDL_OK;
}

int cdl_base64_decode(const char *text, size_t text_len, uint8_t *out,
                      size_t out_cap, size_t *out_len, cdl_error *err) {
  bool url = memchr(text, '-', text_len) || memchr(text, '_', text_len);
  bool padded = text_len > 0 && text[text_len - 1] == '=';
  int variant = url ? (padded ? sodium_base64_VARIANT_URLSAFE
                              : sodium_base64_VARIANT_URLSAFE_NO_PADDING)
                    : (padded ? sodium_base64_VARIANT_ORIGINAL
                              : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  const char *end = NULL;
  size_t n = 0;
  if (sodium_base642bin(out, out_cap, text, text_len, NULL, &n, &end, variant) != 0 ||
      end != text + text_len)
    return cdl_error_set(err, CDL_E_BASE64, 0, "bad Base64 text");
  *out_len = n;
  return CDL_OK;
}

size_t cdl_base64_encode(const uint8_t *in, size_t len, char *out, size_t out_cap) {
  if (len > (SIZE_MAX - 1) / 4 * 3 - 3 ||
      out_cap < sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL))
    return 0;
  sodium_bin2base64(out, out_cap, in, len, sodium_base64_VARIANT_ORIGINAL);
  return strlen(out);
}
