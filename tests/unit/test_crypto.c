/*
 * test_crypto.c: src/crypto against published vectors: hashes, CRC32,
 * Base58/Base64, cardano-crypto's Ed25519 and Ed25519-BIP32 goldens, and
 * the Byron reference's verdicts on Ed25519 edge cases.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "support.h"

static void assert_hex(const uint8_t *data, size_t len, const char *hex) {
  char got[257];
  assert_true(len <= 128);
  cdl_hex_encode(data, len, got);
  assert_string_equal(got, hex);
}

static void test_hashes(void **state) {
  (void)state;
  uint8_t h[64];
  cdl_blake2b_256(h, NULL, 0);
  assert_hex(h, 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  cdl_blake2b_224(h, NULL, 0);
  assert_hex(h, 28, "836cc68931c2e4e3e838602eca1902591d216837bafddfe6f0c8cb07");
  cdl_sha3_256(h, (const uint8_t *)"abc", 3);
  assert_hex(h, 32, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  cdl_sha512(h, (const uint8_t *)"abc", 3);
  assert_hex(h, 64, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  cdl_blake2b inc;
  cdl_blake2b_256_init(&inc);
  cdl_blake2b_update(&inc, (const uint8_t *)"a", 1);
  cdl_blake2b_update(&inc, (const uint8_t *)"bc", 2);
  cdl_blake2b_256_final(&inc, h);
  assert_hex(h, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  assert_int_equal(cdl_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

/* cdl_crc32 (ISA-L) against zlib's, the reference: every length from 0 to
 * 300 at every alignment 0..7, and a buffer of some megabytes, whole and
 * in pieces (cdl_crc32_update). */
static void test_crc32_matches_zlib(void **state) {
  (void)state;
  size_t big = (size_t)5 << 20;
  uint8_t *b = malloc(big);
  assert_non_null(b);
  uint32_t x = 0x9e3779b9u;
  for (size_t i = 0; i < big; i++) {
    x = x * 1664525u + 1013904223u;
    b[i] = (uint8_t)(x >> 24);
  }
  for (size_t align = 0; align < 8; align++)
    for (size_t len = 0; len <= 300; len++)
      assert_int_equal(cdl_crc32(b + align, len), (uint32_t)crc32(0L, b + align, (uInt)len));
  assert_int_equal(cdl_crc32(b, big), (uint32_t)crc32(0L, b, (uInt)big));
  /* In pieces of every size up to 300, then the rest: the same CRC. */
  for (size_t piece = 1; piece <= 300; piece += 7) {
    uint32_t crc = 0;
    size_t at = 0;
    for (; at + piece <= 100000; at += piece) crc = cdl_crc32_update(crc, b + at, piece);
    crc = cdl_crc32_update(crc, b + at, big - at);
    assert_int_equal(crc, (uint32_t)crc32(0L, b, (uInt)big));
  }
  free(b);
}

static void test_base58(void **state) {
  (void)state;
  uint8_t addr[64], back[64];
  char text[128];
  size_t n = hex_to_bytes("82d818582183581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83"
                          "cb7bdc5ea0001a32dc988e", addr, sizeof addr), m = 0;
  assert_true(cdl_base58_encode(addr, n, text, sizeof text) > 0);
  assert_string_equal(text, "Ae2tdPwUPEZDoUnyXuAgqzhkjNXNJeiZ5nqwprg9sArZmRNjySfJ5uz4FjB");
  assert_int_equal(cdl_base58_decode(text, strlen(text), back, sizeof back, &m, NULL), CDL_OK);
  assert_int_equal(m, n);
  assert_memory_equal(back, addr, n);
  static const uint8_t zeros[] = {0, 0, 1};
  assert_int_equal(cdl_base58_encode(zeros, 3, text, sizeof text), 3);
  assert_string_equal(text, "112");
  assert_int_equal(cdl_base58_encode(addr, n, text, 10), 0); /* too small */
  cdl_error err = {0};
  assert_int_equal(cdl_base58_decode("Ae2tdO", 6, back, sizeof back, &m, &err), CDL_E_BASE58);
  assert_int_equal(err.offset, 5);
  assert_int_equal(cdl_base58_decode("", 0, back, sizeof back, &m, NULL), CDL_E_BASE58);
}

static void test_base64(void **state) {
  (void)state;
  uint8_t out[64];
  size_t n = 0;
  /* An AVVM key from the mainnet genesis (URL-safe alphabet, padded). */
  const char *avvm = "URVk8FxX6Ik9z-Cub09oOxMkp6FwNq27kJUXbjJnfsQ=";
  assert_int_equal(cdl_base64_decode(avvm, strlen(avvm), out, sizeof out, &n, NULL), CDL_OK);
  assert_int_equal(n, 32);
  assert_int_equal(out[0], 0x51);
  assert_int_equal(cdl_base64_decode("aGk", 3, out, sizeof out, &n, NULL), CDL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(cdl_base64_decode("a$k=", 4, out, sizeof out, &n, NULL), CDL_E_BASE64);
}

/* Calls |fn| with each "TestVector" block of a cardano-crypto golden file,
 * as key/value pairs (values unquoted). */
typedef void (*vector_fn)(char keys[][32], char values[][512], int count);

static int run_golden_file(const char *relative, vector_fn fn) {
  cdl_buf text;
  char keys[16][32], values[16][512], line[1024];
  int count = 0, vectors = 0;
  vec_read(relative, &text);
  FILE *f = fmemopen(text.data, text.len, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "TestVector", 10) == 0) {
      if (count > 0) fn(keys, values, count), vectors++;
      count = 0;
    } else if (count < 16 && (sscanf(line, "%31s = \"%511[^\"]\"", keys[count], values[count]) == 2 ||
                              sscanf(line, "%31s = %511s", keys[count], values[count]) == 2)) {
      count++;
    }
  }
  if (count > 0) fn(keys, values, count), vectors++;
  fclose(f);
  cdl_buf_free(&text);
  return vectors;
}

static const char *field(char keys[][32], char values[][512], int count, const char *key) {
  for (int i = 0; i < count; i++) {
    if (strcmp(keys[i], key) == 0) return values[i];
  }
  fail_msg("vector lacks %s", key);
  return NULL;
}

static void check_signature_vector(char keys[][32], char values[][512], int count) {
  uint8_t data[256], sig[64], xpub[64];
  size_t n = hex_to_bytes(field(keys, values, count, "data"), data, sizeof data);
  hex_to_bytes(field(keys, values, count, "signature"), sig, sizeof sig);
  hex_to_bytes(field(keys, values, count, "xpub"), xpub, sizeof xpub);
  bool valid = strcmp(field(keys, values, count, "valid"), "true") == 0;
  assert_int_equal(cdl_ed25519_verify(xpub, data, n, sig), valid);
  data[n - 1] ^= 1;
  assert_false(cdl_ed25519_verify(xpub, data, n, sig));
}

static void test_cardano_crypto_signatures(void **state) {
  (void)state;
  int n = run_golden_file("crypto/cardano-crypto/cardano/crypto/signature-ed25519",
                          check_signature_vector);
  assert_int_equal(n, 9);
}

/* xPriv = kL || kR || A || chainCode; the Byron signing key format. */
static void check_wallet_vector(char keys[][32], char values[][512], int count) {
  uint8_t xprv[128], xpub[64], pk[32], sig[64], want[64];
  const char *msg = field(keys, values, count, "data_to_sign");
  assert_int_equal(hex_to_bytes(field(keys, values, count, "xPriv"), xprv, sizeof xprv), 128);
  hex_to_bytes(field(keys, values, count, "xPub"), xpub, sizeof xpub);
  hex_to_bytes(field(keys, values, count, "signature"), want, sizeof want);
  cdl_ed25519_xprv_public(xprv, pk);
  assert_memory_equal(pk, xpub, 32);
  cdl_ed25519_xprv_sign(xprv, pk, (const uint8_t *)msg, strlen(msg), sig);
  assert_memory_equal(sig, want, 64);
  assert_true(cdl_ed25519_verify(pk, (const uint8_t *)msg, strlen(msg), sig));
}

static void test_bip32_extended_keys(void **state) {
  (void)state;
  static const char *files[] = {"BIP39-128", "BIP39-160", "BIP39-192", "BIP39-224", "BIP39-256"};
  char path[128];
  int total = 0;
  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "crypto/cardano-crypto/cardano/crypto/wallet/%s", files[i]);
    total += run_golden_file(path, check_wallet_vector);
  }
  assert_int_equal(total, 51);
}

static void test_rfc8032_seed_signing(void **state) {
  (void)state;
  uint8_t seed[32], pk[32], sig[64];
  hex_to_bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
  cdl_ed25519_seed_public(seed, pk);
  assert_hex(pk, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  cdl_ed25519_seed_sign(seed, NULL, 0, sig);
  assert_hex(sig, 64, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590"
                      "a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  assert_true(cdl_ed25519_verify(pk, NULL, 0, sig));
}

/* Every edge case is judged exactly as the reference judged it, and the
 * cases where libsodium alone would be wrong are really exercised. */
static void test_reference_edge_cases(void **state) {
  (void)state;
  cdl_buf text;
  char name[64], verdict[8], pk_hex[80], sig_hex[140], msg_hex[200], line[600];
  int rows = 0, libsodium_differs = 0;
  vec_read("crypto/ed25519-reference-edges.txt", &text);
  FILE *f = fmemopen(text.data, text.len, "r");
  while (fgets(line, sizeof line, f) != NULL) {
    if (line[0] == '#') continue;
    assert_int_equal(sscanf(line, "%63s %7s %79s %139s %199s", name, verdict, pk_hex, sig_hex,
                            msg_hex), 5);
    uint8_t pk[32], sig[64], msg[100];
    hex_to_bytes(pk_hex, pk, 32);
    hex_to_bytes(sig_hex, sig, 64);
    size_t n = hex_to_bytes(msg_hex, msg, sizeof msg);
    bool accept = strcmp(verdict, "ACCEPT") == 0;
    if (cdl_ed25519_verify(pk, msg, n, sig) != accept) fail_msg("edge case %s: expected %s", name, verdict);
    if (accept && crypto_sign_verify_detached(sig, msg, n, pk) != 0) libsodium_differs++;
    rows++;
  }
  fclose(f);
  cdl_buf_free(&text);
  assert_int_equal(rows, 20);
  assert_int_equal(libsodium_differs, 13);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hashes),
      cmocka_unit_test(test_crc32_matches_zlib),
      cmocka_unit_test(test_base58),
      cmocka_unit_test(test_base64),
      cmocka_unit_test(test_cardano_crypto_signatures),
      cmocka_unit_test(test_bip32_extended_keys),
      cmocka_unit_test(test_rfc8032_seed_signing),
      cmocka_unit_test(test_reference_edge_cases),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
