/*
 * test_keyfile.c: Byron key and certificate files (src/forge/keyfile.c):
 * cardano-cli's text envelope, the legacy cardano-sl UserSecret and the
 * bare CBOR XPrv round-trip byte-exactly, cardano-cli's own files parse
 * and re-encode to the same bytes, and every malformed input is refused
 * with its own error code (never a crash: truncations and byte flips of
 * every position are tried).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cardinal/forge.h"
#include "support.h"

/* ---- cardano-cli's own files -------------------------------------------
 * From github.com/IntersectMBO/cardano-cli at commit
 * dd0fc0f0969873d5857393f2b5e7587b8e120690:
 *   cardano-cli/test/cardano-cli-golden/files/input/byron/keys/byron.skey
 *   (`cardano-cli byron key keygen`: the CBOR XPrv),
 *   .../input/byron/keys/legacy.skey (a legacy UserSecret), and
 *   cardano-cli/test/cardano-cli-test/files/input/byron/payment.skey
 *   (a text envelope, kept with its layout byte for byte). */
static const char CLI_RAW_HEX[] =
    "5880b8a1c572d20e7deaec7fa7c828522cd8bd5baf7a877cd08f35bd69452b638e414ba9e42be8502688b64c"
    "7498d93a862deaec7a8c0e462b764a1781f80671d42bab7cd0430dffb525d5daabefcf90b18dbfed54122e4b"
    "05d89811510143a3a3cffc4eb51a8f78f7211f64bdb9b926d1660aca96e13a6bd990310843e52ac1938e";
static const char CLI_LEGACY_HEX[] =
    "84814e76737320646570726563617465648158807899f892b5611d86c4de9093488da750224e2d87d4a749d8"
    "e88f7afafd9d6f5f73063e9583f55f8ce8ab046fa7c167c474ff185cbafa019ae5aa0811952fefd02caa5b4e"
    "7ee35b129486f4d153d2712c918c706a89bfe553af01b3a22d2d96af8aa43fe2ac29aadcaf83b09d42fd1ea1"
    "8c6227f843222a939387bf548ed0e86b9fff80";
static const char CLI_ENVELOPE[] =
    "{\n"
    "    \"type\": \"PaymentSigningKeyByron_ed25519_bip32\",\n"
    "    \"description\": \"\",\n"
    "    \"cborHex\": \"588070806d8da0a77c8a1cd139bddf3d52c361c4c9d554433ca04491d8f69ef6ef4856a0"
    "61841d5ca8e0aab6aac6eed0e004a65adc21f1df36836fb8d02a60784eee294e3192b8ecdd9b8d3a74c18217"
    "1accaffa4e059b31be6a781aab34d0c912e26cec5da9274e8b6a970f740a30d571d66d2b28a57c7266294b66"
    "3d72e4c7fc0f\"\n"
    "}\n";

#define LEGACY_LEN 151 /* 3 + 14 + 3 + 128 + 3 */
#define RAW_LEN 130

/* ---- Fixture: a temporary directory ------------------------------------ */

static char g_dir[64];

typedef struct {
  char s[512];
} path_t;

static path_t tmp_path(const char *name) {
  path_t p;
  snprintf(p.s, sizeof p.s, "%s/%s", g_dir, name);
  return p;
}

static int setup(void **state) {
  test_group_setup(state);
  snprintf(g_dir, sizeof g_dir, "/tmp/cdl-keyfile-XXXXXX");
  return mkdtemp(g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  DIR *d = opendir(g_dir);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      unlink(tmp_path(e->d_name).s);
  }
  if (d != NULL) closedir(d);
  return rmdir(g_dir);
}

/* ---- Helpers ------------------------------------------------------------ */

static void test_key(cdl_key *k, uint8_t first) {
  uint8_t entropy[32];
  for (int i = 0; i < 32; i++) entropy[i] = (uint8_t)(first + i);
  cdl_key_derive(k, entropy);
}

static void assert_same_key(const cdl_key *a, const cdl_key *b) {
  assert_memory_equal(a->xprv, b->xprv, 64);
  assert_memory_equal(a->xpub, b->xpub, 64);
}

static void write_bytes(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static void read_bytes(const char *path, cdl_buf *out) {
  cdl_error err = {0};
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_file_read_all(path, 1 << 20, out, &err), CDL_OK);
}

static void assert_mode(const char *path, unsigned mode) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, mode);
}

/* The legacy UserSecret written out by hand, not with the encoder. */
static void legacy_expected(const cdl_key *k, uint8_t out[LEGACY_LEN]) {
  size_t n = 0;
  out[n++] = 0x84; /* array(4) */
  out[n++] = 0x81; /* array(1) */
  out[n++] = 0x4e; /* bytes(14) */
  memcpy(out + n, "vss deprecated", 14);
  n += 14;
  out[n++] = 0x81;
  out[n++] = 0x58; /* bytes, one-byte length */
  out[n++] = 0x80; /* 128 */
  memcpy(out + n, k->xprv, 64);
  memcpy(out + n + 64, k->xpub, 64);
  n += 128;
  out[n++] = 0x9f; /* [_ */
  out[n++] = 0xff; /* ] */
  out[n++] = 0x80; /* [] */
  assert_int_equal(n, LEGACY_LEN);
}

static void raw_expected(const cdl_key *k, uint8_t out[RAW_LEN]) {
  out[0] = 0x58;
  out[1] = 0x80;
  memcpy(out + 2, k->xprv, 64);
  memcpy(out + 66, k->xpub, 64);
}

static int parse(const void *data, size_t len, cdl_key *k, cdl_keyfile_format *f) {
  cdl_error err = {0};
  int rc = cdl_keyfile_parse_signing(data, len, k, f, &err);
  /* A failure always says what broke, with the same code. */
  if (rc != CDL_OK) {
    assert_int_equal(err.code, rc);
    assert_true(err.message[0] != '\0');
  }
  return rc;
}

static void assert_rejected(const void *data, size_t len, int code) {
  cdl_key k;
  assert_int_equal(parse(data, len, &k, NULL), code);
}

/* An envelope around |cbor_hex| with |type|. */
static void envelope(char *out, size_t cap, const char *type, const char *cbor_hex) {
  snprintf(out, cap, "{\"type\": \"%s\", \"description\": \"\", \"cborHex\": \"%s\"}", type,
           cbor_hex);
}

/* ---- Round trips -------------------------------------------------------- */

static void test_envelope_round_trip(void **state) {
  (void)state;
  cdl_key k, back;
  cdl_error err = {0};
  cdl_keyfile_format f = CDL_KEYFILE_RAW;
  test_key(&k, 1);
  path_t p = tmp_path("payment.skey");
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_ENVELOPE, NULL, &err), CDL_OK);
  assert_mode(p.s, 0600);
  assert_int_equal(cdl_keyfile_read_signing(p.s, &back, &f, &err), CDL_OK);
  assert_int_equal(f, CDL_KEYFILE_ENVELOPE);
  assert_same_key(&k, &back);

  /* cardano-cli's layout exactly: four-space indent, type, description,
   * cborHex, a newline at the end. */
  uint8_t raw[RAW_LEN];
  char hex[2 * RAW_LEN + 1], want[512];
  raw_expected(&k, raw);
  cdl_hex_encode(raw, RAW_LEN, hex);
  snprintf(want, sizeof want,
           "{\n    \"type\": \"PaymentSigningKeyByron_ed25519_bip32\",\n"
           "    \"description\": \"Payment Signing Key\",\n    \"cborHex\": \"%s\"\n}\n",
           hex);
  cdl_buf text;
  read_bytes(p.s, &text);
  assert_int_equal(text.len, strlen(want));
  assert_memory_equal(text.data, want, text.len);

  json_error_t jerr;
  json_t *j = json_loadb((const char *)text.data, text.len, 0, &jerr);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "type")),
                      "PaymentSigningKeyByron_ed25519_bip32");
  assert_memory_equal(json_string_value(json_object_get(j, "cborHex")), "5880", 4);
  json_decref(j);
  cdl_buf_free(&text);

  /* A caller's description is kept. */
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_ENVELOPE, "Delegate Signing Key",
                                             &err), CDL_OK);
  read_bytes(p.s, &text);
  assert_non_null(strstr((const char *)text.data, "\"description\": \"Delegate Signing Key\""));
  cdl_buf_free(&text);
}

static void test_legacy_round_trip(void **state) {
  (void)state;
  cdl_key k, back;
  cdl_error err = {0};
  cdl_keyfile_format f = CDL_KEYFILE_ENVELOPE;
  test_key(&k, 2);
  path_t p = tmp_path("legacy.skey");
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_LEGACY, NULL, &err), CDL_OK);
  assert_mode(p.s, 0600);
  cdl_buf bytes;
  uint8_t want[LEGACY_LEN];
  read_bytes(p.s, &bytes);
  legacy_expected(&k, want);
  assert_int_equal(bytes.len, LEGACY_LEN);
  assert_memory_equal(bytes.data, "\x84\x81\x4e", 3);
  assert_memory_equal(bytes.data, want, LEGACY_LEN);
  cdl_buf_free(&bytes);
  assert_int_equal(cdl_keyfile_read_signing(p.s, &back, &f, &err), CDL_OK);
  assert_int_equal(f, CDL_KEYFILE_LEGACY);
  assert_same_key(&k, &back);
}

static void test_raw_round_trip(void **state) {
  (void)state;
  cdl_key k, back;
  cdl_error err = {0};
  cdl_keyfile_format f = CDL_KEYFILE_ENVELOPE;
  test_key(&k, 3);
  path_t p = tmp_path("raw.skey");
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_RAW, NULL, &err), CDL_OK);
  assert_mode(p.s, 0600);
  cdl_buf bytes;
  uint8_t want[RAW_LEN];
  read_bytes(p.s, &bytes);
  raw_expected(&k, want);
  assert_int_equal(bytes.len, RAW_LEN);
  assert_memory_equal(bytes.data, want, RAW_LEN);
  cdl_buf_free(&bytes);
  assert_int_equal(cdl_keyfile_read_signing(p.s, &back, &f, &err), CDL_OK);
  assert_int_equal(f, CDL_KEYFILE_RAW);
  assert_same_key(&k, &back);
}

/* Replacing a readable file with a secret narrows its mode. */
static void test_secret_mode_tightened(void **state) {
  (void)state;
  cdl_key k;
  cdl_error err = {0};
  test_key(&k, 4);
  path_t p = tmp_path("old.skey");
  write_bytes(p.s, "old", 3);
  assert_int_equal(chmod(p.s, 0644), 0);
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_RAW, NULL, &err), CDL_OK);
  assert_mode(p.s, 0600);
  uint8_t seed[32] = {7};
  path_t r = tmp_path("old-redeem.skey");
  write_bytes(r.s, "old", 3);
  assert_int_equal(chmod(r.s, 0644), 0);
  assert_int_equal(cdl_keyfile_write_redeem(r.s, seed, &err), CDL_OK);
  assert_mode(r.s, 0600);
}

/* ---- cardano-cli's files ------------------------------------------------ */

static void test_cardano_cli_files(void **state) {
  (void)state;
  uint8_t raw[RAW_LEN], legacy[LEGACY_LEN], mine[LEGACY_LEN];
  cdl_key k;
  cdl_keyfile_format f;
  cdl_error err = {0};
  assert_int_equal(hex_to_bytes(CLI_RAW_HEX, raw, sizeof raw), RAW_LEN);
  assert_int_equal(hex_to_bytes(CLI_LEGACY_HEX, legacy, sizeof legacy), LEGACY_LEN);

  assert_int_equal(parse(raw, RAW_LEN, &k, &f), CDL_OK);
  assert_int_equal(f, CDL_KEYFILE_RAW);
  assert_memory_equal(k.xprv, raw + 2, 64);

  /* Parsed and written again, the legacy file comes out byte for byte. */
  assert_int_equal(parse(legacy, LEGACY_LEN, &k, &f), CDL_OK);
  assert_int_equal(f, CDL_KEYFILE_LEGACY);
  legacy_expected(&k, mine);
  assert_memory_equal(mine, legacy, LEGACY_LEN);
  path_t p = tmp_path("cli-legacy.skey");
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_LEGACY, NULL, &err), CDL_OK);
  cdl_buf bytes;
  read_bytes(p.s, &bytes);
  assert_int_equal(bytes.len, LEGACY_LEN);
  assert_memory_equal(bytes.data, legacy, LEGACY_LEN);
  cdl_buf_free(&bytes);

  /* The envelope, and our rendering of it with the same description. */
  assert_int_equal(parse(CLI_ENVELOPE, strlen(CLI_ENVELOPE), &k, &f), CDL_OK);
  assert_int_equal(f, CDL_KEYFILE_ENVELOPE);
  p = tmp_path("cli-payment.skey");
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_ENVELOPE, "", &err), CDL_OK);
  read_bytes(p.s, &bytes);
  assert_int_equal(bytes.len, strlen(CLI_ENVELOPE));
  assert_memory_equal(bytes.data, CLI_ENVELOPE, bytes.len);
  cdl_buf_free(&bytes);
}

/* The other envelope types that hold a Byron signing key. */
static void test_other_envelope_types(void **state) {
  (void)state;
  cdl_key k, back;
  uint8_t raw[RAW_LEN], legacy[LEGACY_LEN];
  char raw_hex[2 * RAW_LEN + 1], legacy_hex[2 * LEGACY_LEN + 1], text[1024];
  cdl_keyfile_format f;
  test_key(&k, 5);
  raw_expected(&k, raw);
  legacy_expected(&k, legacy);
  cdl_hex_encode(raw, RAW_LEN, raw_hex);
  cdl_hex_encode(legacy, LEGACY_LEN, legacy_hex);
  static const char *const XPRV_TYPES[] = {
      "PaymentSigningKeyByron_ed25519_bip32", "PaymentSigningKeyByronLegacy_ed25519_bip32",
      "GenesisExtendedSigningKey_ed25519_bip32", "GenesisDelegateExtendedSigningKey_ed25519_bip32"};
  for (size_t i = 0; i < 4; i++) {
    envelope(text, sizeof text, XPRV_TYPES[i], raw_hex);
    memset(&back, 0, sizeof back);
    assert_int_equal(parse(text, strlen(text), &back, &f), CDL_OK);
    assert_int_equal(f, CDL_KEYFILE_ENVELOPE);
    assert_same_key(&k, &back);
  }
  /* The legacy type may hold the UserSecret itself; no other type may. */
  envelope(text, sizeof text, "PaymentSigningKeyByronLegacy_ed25519_bip32", legacy_hex);
  assert_int_equal(parse(text, strlen(text), &back, &f), CDL_OK);
  assert_same_key(&k, &back);
  envelope(text, sizeof text, "PaymentSigningKeyByron_ed25519_bip32", legacy_hex);
  assert_rejected(text, strlen(text), CDL_E_TYPE);
  /* Upper-case hex, other members and other whitespace are fine. */
  for (char *c = raw_hex; *c; c++)
    if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 'a' + 'A');
  snprintf(text, sizeof text,
           "\r\n\t {\"cborHex\":\"%s\",\"extra\":[1],\"description\":\"x\","
           "\"type\":\"PaymentSigningKeyByron_ed25519_bip32\"}  ",
           raw_hex);
  assert_int_equal(parse(text, strlen(text), &back, &f), CDL_OK);
  assert_same_key(&k, &back);
}

/* ---- Rejections --------------------------------------------------------- */

/* Each defect in the binary forms, with the code that names it. */
static void test_binary_rejections(void **state) {
  (void)state;
  cdl_key k;
  uint8_t good[LEGACY_LEN + 8], b[LEGACY_LEN + 8], raw[RAW_LEN + 1];
  test_key(&k, 6);
  legacy_expected(&k, good);
  raw_expected(&k, raw);

  /* A public key that is not the secret's (A is at 20 + 64). */
  memcpy(b, good, LEGACY_LEN);
  b[20 + 64] ^= 0x01;
  assert_rejected(b, LEGACY_LEN, CDL_E_SIGNATURE);
  raw[2 + 64 + 5] ^= 0x80;
  assert_rejected(raw, RAW_LEN, CDL_E_SIGNATURE);
  raw[2 + 64 + 5] ^= 0x80;
  /* The chain code is not checked: it only matters for derivation. */
  memcpy(b, good, LEGACY_LEN);
  b[20 + 127] ^= 0x01;
  assert_int_equal(parse(b, LEGACY_LEN, &k, NULL), CDL_OK);

  assert_rejected(good, 100, CDL_E_TRUNCATED);
  assert_rejected(good, LEGACY_LEN - 1, CDL_E_TRUNCATED);
  assert_rejected(raw, RAW_LEN - 1, CDL_E_TRUNCATED);

  memcpy(b, good, LEGACY_LEN);
  b[0] = 0x83; /* an array of 3 (the wallet dropped) */
  assert_rejected(b, LEGACY_LEN - 1, CDL_E_TYPE);
  b[0] = 0x85;
  assert_rejected(b, LEGACY_LEN, CDL_E_TYPE);

  /* A 127-byte key, alone and in a UserSecret. */
  raw[1] = 0x7f;
  assert_rejected(raw, RAW_LEN - 1, CDL_E_RANGE);
  raw[1] = 0x80;
  memcpy(b, good, 19);
  b[19] = 0x7f;
  memcpy(b + 20, good + 20, 127);
  memcpy(b + 147, good + 148, 3);
  assert_rejected(b, LEGACY_LEN - 1, CDL_E_RANGE);

  memcpy(b, good, LEGACY_LEN);
  b[LEGACY_LEN] = 0x00;
  assert_rejected(b, LEGACY_LEN + 1, CDL_E_TRAILING);
  raw[RAW_LEN] = 0xf6;
  assert_rejected(raw, RAW_LEN + 1, CDL_E_TRAILING);

  /* Neither a UserSecret nor a byte string. */
  assert_rejected("\x00", 1, CDL_E_TYPE);
  assert_rejected("\xa1\x01\x02", 3, CDL_E_TYPE);
}

/* The finer points of decodeLegacyDelegateKey. */
static void test_legacy_grammar(void **state) {
  (void)state;
  cdl_key k, back;
  uint8_t good[LEGACY_LEN], b[LEGACY_LEN + 8];
  test_key(&k, 7);
  legacy_expected(&k, good);
  const size_t tail = LEGACY_LEN - 3; /* offset of 9f ff 80 */

  /* Any vss bytes; any number of nulls in the keys list. */
  b[0] = 0x84;
  b[1] = 0x81;
  b[2] = 0x40; /* empty byte string */
  memcpy(b + 3, good + 17, tail - 17);
  size_t n = 3 + tail - 17;
  memcpy(b + n, "\x9f\xf6\xf6\xff\x80", 5);
  assert_int_equal(parse(b, n + 5, &back, NULL), CDL_OK);
  assert_same_key(&k, &back);
  /* ... but nothing else in it. */
  memcpy(b + n, "\x9f\xf6\x00\xff\x80", 5);
  assert_rejected(b, n + 5, CDL_E_TYPE);
  /* The keys list must be indefinite, the wallet empty. */
  memcpy(b, good, LEGACY_LEN);
  memcpy(b + tail, "\x80\x80", 2);
  assert_rejected(b, tail + 2, CDL_E_LIST_FORM);
  memcpy(b + tail, "\x9f\xff\x81\xf6", 4);
  assert_rejected(b, tail + 4, CDL_E_TYPE);
  memcpy(b + tail, "\x9f\xff\x9f\xff", 4);
  assert_rejected(b, tail + 4, CDL_E_LIST_FORM);
  memcpy(b + tail, "\x9f\xff", 2);
  assert_rejected(b, tail + 2, CDL_E_TRUNCATED);
  /* Array lengths are read canonically (enforceSize), and the key with
   * decodeBytesCanonical. */
  b[0] = 0x98;
  b[1] = 0x04;
  memcpy(b + 2, good + 1, LEGACY_LEN - 1);
  assert_rejected(b, LEGACY_LEN + 1, CDL_E_NONCANONICAL);
  memcpy(b, good, 18);
  memcpy(b + 18, "\x59\x00\x80", 3);
  memcpy(b + 21, good + 20, LEGACY_LEN - 20);
  assert_rejected(b, LEGACY_LEN + 1, CDL_E_NONCANONICAL);
  /* An indefinite outer array or vss byte string is not the format. */
  memcpy(b, good, LEGACY_LEN);
  b[0] = 0x9f;
  assert_rejected(b, LEGACY_LEN, CDL_E_LIST_FORM);
}

static void test_envelope_rejections(void **state) {
  (void)state;
  cdl_key k;
  uint8_t raw[RAW_LEN];
  char hex[2 * RAW_LEN + 8], text[1024];
  test_key(&k, 8);
  raw_expected(&k, raw);
  cdl_hex_encode(raw, RAW_LEN, hex);

  envelope(text, sizeof text, "PaymentVerificationKeyByron_ed25519_bip32", hex);
  assert_rejected(text, strlen(text), CDL_E_USAGE);
  cdl_error err = {0};
  assert_int_equal(cdl_keyfile_parse_signing((const uint8_t *)text, strlen(text), &k, NULL, &err),
                   CDL_E_USAGE);
  assert_non_null(strstr(err.message, "unsupported key type 'PaymentVerificationKeyByron"));

  char bad[2 * RAW_LEN + 8];
  memcpy(bad, hex, sizeof hex);
  bad[10] = 'g';
  envelope(text, sizeof text, "PaymentSigningKeyByron_ed25519_bip32", bad);
  assert_rejected(text, strlen(text), CDL_E_HEX);
  bad[10] = hex[10];
  bad[2 * RAW_LEN - 1] = '\0'; /* odd length */
  envelope(text, sizeof text, "PaymentSigningKeyByron_ed25519_bip32", bad);
  assert_rejected(text, strlen(text), CDL_E_HEX);

  memcpy(bad, hex, 2 * RAW_LEN);
  memcpy(bad + 2 * RAW_LEN, "00", 3);
  envelope(text, sizeof text, "PaymentSigningKeyByron_ed25519_bip32", bad);
  assert_rejected(text, strlen(text), CDL_E_TRAILING);
  envelope(text, sizeof text, "PaymentSigningKeyByron_ed25519_bip32", "");
  assert_rejected(text, strlen(text), CDL_E_TRUNCATED);
  memcpy(bad, hex, sizeof hex);
  bad[2 * (2 + 64)] = hex[2 * (2 + 64)] == '0' ? '1' : '0'; /* a digit of A */
  envelope(text, sizeof text, "PaymentSigningKeyByron_ed25519_bip32", bad);
  assert_rejected(text, strlen(text), CDL_E_SIGNATURE);

  static const char *const NOT_ENVELOPES[] = {
      "[1, 2]", "\"text\"", "42", "null", "{", "{\"type\": 1}", "   ",
      "{\"type\": \"PaymentSigningKeyByron_ed25519_bip32\", \"description\": \"\"}",
      "{\"type\": \"PaymentSigningKeyByron_ed25519_bip32\", \"cborHex\": \"\"}",
      "{\"type\": \"PaymentSigningKeyByron_ed25519_bip32\", \"description\": \"\", \"cborHex\": 5}",
      "{\"type\": \"a\", \"type\": \"b\", \"description\": \"\", \"cborHex\": \"\"}",
      "{\"type\": \"PaymentSigningKeyByron_ed25519_bip32\"} trailing"};
  for (size_t i = 0; i < sizeof NOT_ENVELOPES / sizeof NOT_ENVELOPES[0]; i++)
    assert_rejected(NOT_ENVELOPES[i], strlen(NOT_ENVELOPES[i]), CDL_E_JSON);

  /* A hostile type name is shown tamed and bounded. */
  char long_type[300];
  memset(long_type, 'A', sizeof long_type - 1);
  long_type[sizeof long_type - 1] = '\0';
  long_type[3] = '\x01';
  snprintf(text, sizeof text,
           "{\"type\": \"%.3s\\u0001%s\", \"description\": \"\", \"cborHex\": \"\"}", long_type,
           long_type + 4);
  cdl_error_clear(&err);
  assert_int_equal(cdl_keyfile_parse_signing((const uint8_t *)text, strlen(text), &k, NULL, &err),
                   CDL_E_USAGE);
  assert_non_null(strstr(err.message, "'AAA?AAA"));
  assert_non_null(strstr(err.message, "...'"));
}

static void test_empty_and_oversized(void **state) {
  (void)state;
  cdl_key k;
  cdl_error err = {0};
  path_t p = tmp_path("empty.skey");
  write_bytes(p.s, "", 0);
  assert_int_equal(cdl_keyfile_read_signing(p.s, &k, NULL, &err), CDL_E_TRUNCATED);
  assert_non_null(strstr(err.message, p.s));
  assert_rejected("", 0, CDL_E_TRUNCATED);

  uint8_t *big = calloc(1, CDL_KEYFILE_MAX_BYTES + 1);
  assert_non_null(big);
  big[0] = '{';
  assert_rejected(big, CDL_KEYFILE_MAX_BYTES + 1, CDL_E_LIMIT);
  path_t q = tmp_path("big.skey");
  write_bytes(q.s, big, CDL_KEYFILE_MAX_BYTES + 1);
  cdl_error_clear(&err);
  assert_int_equal(cdl_keyfile_read_signing(q.s, &k, NULL, &err), CDL_E_LIMIT);
  free(big);

  cdl_error_clear(&err);
  assert_int_equal(cdl_keyfile_read_signing(tmp_path("missing.skey").s, &k, NULL, &err), CDL_E_IO);
  cdl_error_clear(&err);
  test_key(&k, 9);
  assert_int_equal(cdl_keyfile_write_signing(tmp_path("no/such/dir.skey").s, &k,
                                             CDL_KEYFILE_ENVELOPE, NULL, &err), CDL_E_IO);
  assert_non_null(strstr(err.message, "no/such/dir.skey"));
  cdl_error_clear(&err);
  assert_int_equal(cdl_keyfile_write_signing(tmp_path("utf8.skey").s, &k, CDL_KEYFILE_ENVELOPE,
                                             "\xff bad", &err), CDL_E_USAGE);
}

/* Every prefix fails, and no single-byte change crashes or yields another
 * signing key: kL and A must still match (kR, the chain code and the vss
 * bytes are not checked, as in cardano-cli). */
static void test_mutations_never_crash(void **state) {
  (void)state;
  cdl_key k, back;
  uint8_t good[LEGACY_LEN], b[LEGACY_LEN];
  test_key(&k, 10);
  legacy_expected(&k, good);
  for (size_t len = 0; len < LEGACY_LEN; len++)
    assert_int_not_equal(parse(good, len, &back, NULL), CDL_OK);
  size_t cli_len = strlen(CLI_ENVELOPE);
  for (size_t len = 0; len + 1 < cli_len; len++)
    assert_int_not_equal(parse(CLI_ENVELOPE, len, &back, NULL), CDL_OK);
  static const uint8_t FLIPS[] = {0x01, 0x80, 0xff};
  for (size_t i = 0; i < LEGACY_LEN; i++) {
    for (size_t j = 0; j < sizeof FLIPS; j++) {
      memcpy(b, good, LEGACY_LEN);
      b[i] ^= FLIPS[j];
      if (parse(b, LEGACY_LEN, &back, NULL) != CDL_OK) continue;
      assert_memory_equal(back.xprv, k.xprv, 32);
      assert_memory_equal(back.xpub, k.xpub, 32);
    }
  }
}

/* ---- Verification keys ---------------------------------------------------
 * cardano-cli's `byron key to-verification` writes the Base64 text of
 * the 64-byte key and nothing else; envelopes of the four Byron
 * verification key types and any signing key file read too. */

static void test_verification_keys(void **state) {
  (void)state;
  cdl_key k;
  cdl_error err = {0};
  uint8_t xpub[64];
  test_key(&k, 11);
  path_t b64 = tmp_path("b64.vk"), env = tmp_path("env.vk");
  unlink(b64.s);
  unlink(env.s);
  assert_int_equal(cdl_keyfile_write_verification(b64.s, k.xpub, CDL_KEYFILE_VKEY_BASE64, &err),
                   CDL_OK);
  assert_int_equal(cdl_keyfile_write_verification(env.s, k.xpub, CDL_KEYFILE_VKEY_ENVELOPE, &err),
                   CDL_OK);
  cdl_buf text;
  cdl_buf_init(&text, 0);
  assert_int_equal(cdl_file_read_all(b64.s, 4096, &text, &err), CDL_OK);
  assert_int_equal(text.len, 88); /* 64 bytes in Base64, padded, no newline */
  cdl_buf_free(&text);
  const char *paths[] = {b64.s, env.s};
  for (int i = 0; i < 2; i++) {
    memset(xpub, 0, sizeof xpub);
    assert_int_equal(cdl_keyfile_read_verification(paths[i], xpub, &err), CDL_OK);
    assert_memory_equal(xpub, k.xpub, 64);
  }
  uint8_t raw[200];
  size_t n = hex_to_bytes(CLI_RAW_HEX, raw, sizeof raw); /* a signing key: its public half */
  assert_int_equal(cdl_keyfile_parse_verification(raw, n, xpub, &err), CDL_OK);
  assert_memory_equal(xpub, raw + 2 + 64, 64);
  static const struct {
    const char *text;
    int code;
  } BAD[] = {{"", CDL_E_TRUNCATED},
             {"q3zQQw3/tSXV2qvvz5Cxjb/tVBIuSwXYmBFRAUOjo88=", CDL_E_RANGE}, /* 32 bytes */
             {"not base64 at all!", CDL_E_BASE64},
             {"{\"type\": \"PaymentVerificationKeyByron_ed25519_bip32\", \"description\": "
              "\"\", \"cborHex\": \"5820" "0000000000000000000000000000000000000000000000000000000000000000\"}",
              CDL_E_RANGE},
             {"{\"type\": \"StakeVerificationKeyShelley_ed25519\", \"description\": \"\", "
              "\"cborHex\": \"58200000\"}",
              CDL_E_USAGE},
             {"{\"type\": 5}", CDL_E_JSON}};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    cdl_error_clear(&err);
    int rc = cdl_keyfile_parse_verification((const uint8_t *)BAD[i].text, strlen(BAD[i].text),
                                            xpub, &err);
    if (rc != BAD[i].code) fail_msg("case %zu: %d (%s), not %d", i, rc, err.message, BAD[i].code);
    assert_true(err.message[0] != '\0');
  }
}

/* ---- Redeem keys and certificates --------------------------------------- */

static void test_redeem_round_trip(void **state) {
  (void)state;
  uint8_t seed[32], back[32];
  cdl_error err = {0};
  for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(0xa0 + i);
  path_t p = tmp_path("avvm.skey");
  assert_int_equal(cdl_keyfile_write_redeem(p.s, seed, &err), CDL_OK);
  assert_mode(p.s, 0600);
  assert_int_equal(cdl_keyfile_read_redeem(p.s, back, &err), CDL_OK);
  assert_memory_equal(seed, back, 32);
  char hex[65], want[256];
  cdl_hex_encode(seed, 32, hex);
  snprintf(want, sizeof want,
           "{\n    \"type\": \"RedeemSigningKeyByron_ed25519\",\n"
           "    \"description\": \"AVVM Redeem Signing Key\",\n    \"cborHex\": \"5820%s\"\n}\n",
           hex);
  cdl_buf text;
  read_bytes(p.s, &text);
  assert_int_equal(text.len, strlen(want));
  assert_memory_equal(text.data, want, text.len);
  cdl_buf_free(&text);

  /* Wrong type, wrong length, trailing bytes. */
  char body[256];
  cdl_key k;
  test_key(&k, 11);
  assert_int_equal(cdl_keyfile_write_signing(p.s, &k, CDL_KEYFILE_ENVELOPE, NULL, &err), CDL_OK);
  assert_int_equal(cdl_keyfile_read_redeem(p.s, back, &err), CDL_E_USAGE);
  static const struct {
    const char *hex;
    int code;
  } BAD[] = {{"581f00000000000000000000000000000000000000000000000000000000000000", CDL_E_RANGE},
             {"5820", CDL_E_TRUNCATED},
             {"01", CDL_E_TYPE}};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    envelope(body, sizeof body, "RedeemSigningKeyByron_ed25519", BAD[i].hex);
    write_bytes(p.s, body, strlen(body));
    cdl_error_clear(&err);
    assert_int_equal(cdl_keyfile_read_redeem(p.s, back, &err), BAD[i].code);
  }
  snprintf(body, sizeof body,
           "{\"type\": \"RedeemSigningKeyByron_ed25519\", \"description\": \"\", "
           "\"cborHex\": \"5820%s00\"}",
           hex);
  write_bytes(p.s, body, strlen(body));
  cdl_error_clear(&err);
  assert_int_equal(cdl_keyfile_read_redeem(p.s, back, &err), CDL_E_TRAILING);
}

static void test_cert_round_trip(void **state) {
  (void)state;
  const uint32_t magic = 1097911063;
  cdl_key issuer, delegate;
  cdl_byron_genesis_delegation d = {0}, back;
  cdl_error err = {0};
  test_key(&issuer, 12);
  test_key(&delegate, 13);
  memcpy(d.issuer_pk, issuer.xpub, 64);
  memcpy(d.delegate_pk, delegate.xpub, 64);
  d.omega = 0;
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_byron_msg_cert(&msg, magic, d.delegate_pk, d.omega);
  cdl_key_sign(&issuer, msg.data, msg.len, d.signature);
  cdl_buf_free(&msg);

  path_t p = tmp_path("cert.json");
  assert_int_equal(cdl_keyfile_write_cert(p.s, &d, &err), CDL_OK);
  memset(&back, 0xee, sizeof back);
  assert_int_equal(cdl_keyfile_read_cert(p.s, &back, &err), CDL_OK);
  uint8_t id[28];
  cdl_key_hash(&issuer, id);
  assert_memory_equal(back.issuer_id, id, 28);
  assert_memory_equal(back.issuer_pk, d.issuer_pk, 64);
  assert_memory_equal(back.delegate_pk, d.delegate_pk, 64);
  assert_memory_equal(back.signature, d.signature, 64);
  assert_true(back.omega == d.omega);
  cdl_byron_dlg_cert c = {.epoch = back.omega, .issuer_pk = back.issuer_pk,
                          .delegate_pk = back.delegate_pk, .signature = back.signature};
  assert_true(cdl_byron_dlg_cert_verify(&c, magic));

  /* The body is the certificate's CBOR: [omega, issuer, delegate, sig]. */
  json_error_t jerr;
  json_t *j = json_load_file(p.s, 0, &jerr);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "type")), "ByronDelegationCertificate");
  assert_string_equal(json_string_value(json_object_get(j, "description")),
                      "Byron heavyweight delegation certificate");
  const char *hex = json_string_value(json_object_get(j, "cborHex"));
  assert_int_equal(strlen(hex), 2 * (2 + 3 * 66));
  assert_memory_equal(hex, "84005840", 8);
  json_decref(j);

  /* A signing key is not a certificate, and a bad body is named. */
  assert_int_equal(cdl_keyfile_write_signing(p.s, &issuer, CDL_KEYFILE_ENVELOPE, NULL, &err),
                   CDL_OK);
  assert_int_equal(cdl_keyfile_read_cert(p.s, &back, &err), CDL_E_USAGE);
  char body[128];
  envelope(body, sizeof body, "ByronDelegationCertificate", "8300");
  write_bytes(p.s, body, strlen(body));
  cdl_error_clear(&err);
  assert_int_equal(cdl_keyfile_read_cert(p.s, &back, &err), CDL_E_TYPE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_envelope_round_trip),   cmocka_unit_test(test_legacy_round_trip),
      cmocka_unit_test(test_raw_round_trip),        cmocka_unit_test(test_secret_mode_tightened),
      cmocka_unit_test(test_cardano_cli_files),     cmocka_unit_test(test_other_envelope_types),
      cmocka_unit_test(test_binary_rejections),     cmocka_unit_test(test_legacy_grammar),
      cmocka_unit_test(test_envelope_rejections),   cmocka_unit_test(test_empty_and_oversized),
      cmocka_unit_test(test_mutations_never_crash), cmocka_unit_test(test_redeem_round_trip),
      cmocka_unit_test(test_cert_round_trip),       cmocka_unit_test(test_verification_keys),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
