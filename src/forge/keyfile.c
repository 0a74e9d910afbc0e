/*
 * keyfile.c: Byron key and certificate files (include/cardinal/forge.h,
 * docs/genesis.md). Formats followed:
 *   - cardano-api's text envelope (Cardano.Api.SerialiseTextEnvelope):
 *     {"type", "description", "cborHex"} as aeson-pretty writes it, four
 *     spaces of indent, those keys in that order, a newline at the end;
 *   - cardano-crypto's 128-byte XPrv as a CBOR byte string (toCBORXPrv /
 *     fromCBORXPrv in Cardano.Crypto.Signing): kL || kR || A || chain code.
 *     This "raw" form is what `cardano-cli byron key keygen` writes and
 *     what cardano-node's Byron --signing-key reads (readLeaderCredentials
 *     in Cardano.Node.Protocol.Byron);
 *   - the cardano-sl UserSecret of `cardano-cli byron ... --byron-legacy-
 *     formats` (encodeLegacyDelegateKey / decodeLegacyDelegateKey in
 *     Cardano.CLI.Byron.Legacy);
 *   - the Byron delegation certificate's CBOR (docs/byron.md 1.9);
 *   - Byron verification keys: the Base64 text of the 64-byte key that
 *     `cardano-cli byron key to-verification` writes (formatFull-
 *     VerificationKey in Cardano.Crypto.Signing, no newline), or a text
 *     envelope whose cborHex is the key as a CBOR byte string.
 * Every byte read here may be hostile: all lengths come from the cursor,
 * which bounds-checks them, and nothing recurses on the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "forge_internal.h"

#define XPRV128_BYTES 128
#define ENVELOPE_CBOR_MAX 256 /* the largest body we write: a certificate, 208 bytes */

static const char TYPE_SIGNING[] = "PaymentSigningKeyByron_ed25519_bip32";
static const char TYPE_REDEEM[] = "RedeemSigningKeyByron_ed25519";
static const char TYPE_CERT[] = "ByronDelegationCertificate";
static const char TYPE_VERIFICATION[] = "PaymentVerificationKeyByron_ed25519_bip32";

/* The envelope types that hold a Byron verification key (cardano-api's
 * HasTextEnvelope instances), all with the same body. */
static const char *const VERIFICATION_TYPES[] = {
    TYPE_VERIFICATION, "PaymentVerificationKeyByronLegacy_ed25519_bip32",
    "GenesisExtendedVerificationKey_ed25519_bip32",
    "GenesisDelegateExtendedVerificationKey_ed25519_bip32"};

/* The envelope types that hold a Byron signing key. For the legacy one,
 * cardano-api's cborHex is the XPrv byte string (its SerialiseAsCBOR goes
 * through Byron.SigningKey's ToCBOR) while its raw-bytes decoder reads a
 * UserSecret; both bodies are accepted there, and only there. */
static const char *const SIGNING_TYPES[] = {
    TYPE_SIGNING, "PaymentSigningKeyByronLegacy_ed25519_bip32",
    "GenesisExtendedSigningKey_ed25519_bip32", "GenesisDelegateExtendedSigningKey_ed25519_bip32"};
enum { SIGNING_TYPE_LEGACY = 1 };

/* Secrets must not linger in freed memory; a volatile store keeps the
 * compiler from dropping the clearing as a dead write. */
static void wipe(void *p, size_t n) {
  volatile uint8_t *v = p;
  while (n--) *v++ = 0;
}

/* ---- Writing ------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Creates or replaces |path| with |data|. For secrets, open() alone is not
 * enough: it keeps the mode of a file that already exists, so the mode is
 * set again before the first byte goes out. */
static int write_file(const char *path, const uint8_t *data, size_t len, bool secret,
                      cdl_error *err) {
  mode_t mode = secret ? 0600 : 0644;
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return cdl_error_set(err, CDL_E_IO, 0, "cannot create %s: %s", path, strerror(errno));
  if (secret && fchmod(fd, mode) != 0) {
    int e = errno;
    close(fd);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot restrict %s to mode 0600: %s", path,
                         strerror(e));
  }
  if (write_all(fd, data, len) != 0) {
    int e = errno;
    close(fd);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot write %s: %s", path, strerror(e));
  }
  if (close(fd) != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot write %s: %s", path, strerror(errno));
  return CDL_OK;
}

/* {"type", "description", "cborHex"} in cardano-cli's layout. */
static int write_envelope(const char *path, const char *type, const char *description,
                          const cdl_buf *cbor, bool secret, cdl_error *err) {
  char hex[2 * ENVELOPE_CBOR_MAX + 1];
  CDL_ASSERT(!cbor->failed && cbor->len <= ENVELOPE_CBOR_MAX);
  cdl_hex_encode(cbor->data, cbor->len, hex);
  /* json_pack refuses a description that is not UTF-8. */
  json_t *j = json_pack("{s:s,s:s,s:s}", "type", type, "description", description, "cborHex", hex);
  wipe(hex, sizeof hex);
  if (j == NULL)
    return cdl_error_set(err, CDL_E_USAGE, 0, "%s: description is not valid UTF-8", path);
  char *text = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
  json_decref(j);
  if (text == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory writing %s", path);
  size_t len = strlen(text);
  char *line = malloc(len + 2);
  int rc =
      line == NULL ? cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory writing %s", path) : CDL_OK;
  if (rc == CDL_OK) {
    memcpy(line, text, len);
    line[len] = '\n';
    rc = write_file(path, (const uint8_t *)line, len + 1, secret, err);
    wipe(line, len + 1);
    free(line);
  }
  wipe(text, len);
  free(text);
  return rc;
}

/* The CBOR byte string of cardano-cli's 128-byte XPrv. */
static void encode_xprv(cdl_buf *b, const cdl_key *k) {
  uint8_t x[XPRV128_BYTES];
  memcpy(x, k->xprv, 64);
  memcpy(x + 64, k->xpub, 64);
  cdl_cbor_enc_bytes(b, x, sizeof x);
  wipe(x, sizeof x);
}

/* encodeLegacyDelegateKey: [["vss deprecated"], [xprv], [_ ], []]. */
static void encode_user_secret(cdl_buf *b, const cdl_key *k) {
  static const char VSS[] = "vss deprecated";
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_array(b, 1);
  cdl_cbor_enc_bytes(b, (const uint8_t *)VSS, sizeof VSS - 1);
  cdl_cbor_enc_array(b, 1);
  encode_xprv(b, k);
  cdl_cbor_enc_indef_array(b);
  cdl_cbor_enc_break(b);
  cdl_cbor_enc_array(b, 0);
}

int cdl_keyfile_write_signing(const char *path, const cdl_key *k, cdl_keyfile_format format,
                              const char *description, cdl_error *err) {
  uint8_t storage[ENVELOPE_CBOR_MAX];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  int rc;
  switch (format) {
    case CDL_KEYFILE_ENVELOPE:
      encode_xprv(&b, k);
      rc = write_envelope(path, TYPE_SIGNING, description ? description : "Payment Signing Key", &b,
                          true, err);
      break;
    case CDL_KEYFILE_LEGACY:
      encode_user_secret(&b, k);
      CDL_ASSERT(!b.failed);
      rc = write_file(path, b.data, b.len, true, err);
      break;
    case CDL_KEYFILE_RAW:
      encode_xprv(&b, k);
      CDL_ASSERT(!b.failed);
      rc = write_file(path, b.data, b.len, true, err);
      break;
    default:
      rc = cdl_error_set(err, CDL_E_USAGE, 0, "unknown key file format %d", (int)format);
  }
  wipe(storage, sizeof storage);
  return rc;
}

int cdl_keyfile_write_redeem(const char *path, const uint8_t seed[32], cdl_error *err) {
  uint8_t storage[40];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  cdl_cbor_enc_bytes(&b, seed, 32);
  int rc = write_envelope(path, TYPE_REDEEM, "AVVM Redeem Signing Key", &b, true, err);
  wipe(storage, sizeof storage);
  return rc;
}

int cdl_keyfile_write_cert(const char *path, const cdl_byron_genesis_delegation *d,
                           cdl_error *err) {
  uint8_t storage[ENVELOPE_CBOR_MAX];
  cdl_buf b;
  cdl_buf_init_fixed(&b, storage, sizeof storage);
  cdl_payload_delegation_encode(d, &b);
  return write_envelope(path, TYPE_CERT, "Byron heavyweight delegation certificate", &b, false,
                        err);
}

/* ---- Reading: CBOR bodies ----------------------------------------------- */

/* A definite array of exactly |n| items whose head is in its shortest
 * form: cardano-sl's enforceSize reads it with decodeListLenCanonical. */
static int expect_array_canonical(cdl_cbor_cursor *cur, size_t n, const char *what) {
  size_t at = cur->pos;
  cdl_cbor_head h;
  CDL_TRY(cdl_cbor_peek(cur, &h));
  CDL_TRY(cdl_cbor_expect_array(cur, n, what));
  if (cdl_cbor_head_is_shortest(&h)) return CDL_OK;
  cur->pos = at;
  return cdl_cbor_fail(cur, CDL_E_NONCANONICAL, "%s: array length not in its shortest form", what);
}

/* A canonical byte string of exactly |len| bytes (decodeBytesCanonical,
 * then cardano-crypto's length check). */
static int read_key_bytes(cdl_cbor_cursor *cur, size_t len, cdl_span *out, const char *what) {
  size_t at = cur->pos;
  CDL_TRY(cdl_cbor_read_bytes_canonical(cur, out, what));
  if (out->len == len) return CDL_OK;
  cur->pos = at;
  return cdl_cbor_fail(cur, CDL_E_RANGE, "%s: expected a byte string of %zu bytes, found %zu", what,
                       len, out->len);
}

/* The 128-byte XPrv, whose public half must belong to its secret half. */
static int read_xprv(cdl_cbor_cursor *cur, cdl_key *k, const char *what) {
  cdl_span s;
  CDL_TRY(read_key_bytes(cur, XPRV128_BYTES, &s, what));
  cdl_error inner = {0};
  if (cdl_key_from_xprv128(k, s.ptr, &inner) == CDL_OK) return CDL_OK;
  /* Point at A inside the input rather than inside the 128 bytes. */
  return cdl_error_set(cur->err, inner.code, cdl_cbor_offset(cur) - 64, "%s: %s", what,
                       inner.message);
}

static int read_null(cdl_cbor_cursor *cur, const char *what) {
  cdl_cbor_head h;
  CDL_TRY(cdl_cbor_peek(cur, &h));
  if (h.major != CDL_CBOR_SIMPLE || h.value != CDL_CBOR_NULL)
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected null", what);
  cur->pos += h.size;
  return CDL_OK;
}

/* decodeLegacyDelegateKey: a definite array of 4 holding [vss bytes] (any
 * content: the VSS key is deprecated), [xprv], an indefinite list of
 * nulls, and an empty array. */
static int read_user_secret(cdl_cbor_cursor *cur, cdl_key *k) {
  cdl_span vss;
  CDL_TRY(expect_array_canonical(cur, 4, "UserSecret"));
  CDL_TRY(expect_array_canonical(cur, 1, "UserSecret vss"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &vss, "UserSecret vss"));
  CDL_TRY(expect_array_canonical(cur, 1, "UserSecret primary key"));
  CDL_TRY(read_xprv(cur, k, "UserSecret primary key"));
  CDL_TRY(cdl_cbor_read_indef_array(cur, "UserSecret keys"));
  while (!cdl_cbor_at_break(cur)) CDL_TRY(read_null(cur, "UserSecret keys"));
  CDL_TRY(cdl_cbor_read_break(cur, "UserSecret keys"));
  return expect_array_canonical(cur, 0, "UserSecret wallet");
}

/* A signing key's CBOR: the XPrv byte string, or (when |allow_legacy|) a
 * UserSecret. The first item's major type decides, so a damaged file of
 * either kind gets the error of its own decoder. */
static int decode_signing_cbor(const uint8_t *data, size_t len, bool allow_legacy, cdl_key *k,
                               cdl_keyfile_format *found, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_head h;
  cdl_cbor_cursor_init(&cur, data, len, err);
  CDL_TRY(cdl_cbor_peek(&cur, &h));
  if (h.major == CDL_CBOR_ARRAY && allow_legacy) {
    CDL_TRY(read_user_secret(&cur, k));
    *found = CDL_KEYFILE_LEGACY;
  } else if (h.major == CDL_CBOR_BYTES) {
    CDL_TRY(read_xprv(&cur, k, "signing key"));
    *found = CDL_KEYFILE_RAW;
  } else {
    return cdl_cbor_fail(&cur, CDL_E_TYPE, "not a Byron signing key: expected %s",
                         allow_legacy ? "a text envelope, a UserSecret array or a "
                                        "128-byte CBOR byte string"
                                      : "a 128-byte CBOR byte string");
  }
  return cdl_cbor_expect_end(&cur, "the signing key");
}

/* ---- Reading: text envelopes -------------------------------------------- */

static bool is_json_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Envelopes are JSON text; the binary forms start with 0x84 or 0x58, which
 * are not. Text that is not an object is sent to the JSON parser too, so
 * that it is reported as bad JSON rather than as odd CBOR. */
static bool looks_like_text(const uint8_t *data, size_t len) {
  size_t i = 0;
  while (i < len && is_json_space(data[i])) i++;
  if (i < len && data[i] == '{') return true;
  for (i = 0; i < len; i++)
    if (!is_json_space(data[i]) && (data[i] < 0x20 || data[i] > 0x7e)) return false;
  return true;
}

/* |text| for an error message: printable ASCII only, bounded. */
static void printable(const char *text, char *out, size_t cap) {
  size_t i = 0;
  for (; text[i] != '\0' && i + 4 < cap; i++)
    out[i] = text[i] >= 0x20 && text[i] <= 0x7e ? text[i] : '?';
  if (text[i] != '\0') {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
}

static const char *string_member(const json_t *root, const char *name, cdl_error *err) {
  const json_t *v = json_object_get(root, name);
  if (json_is_string(v)) return json_string_value(v);
  cdl_error_set(err, CDL_E_JSON, 0, "text envelope: \"%s\" is %s", name,
                v == NULL ? "missing" : "not a string");
  return NULL;
}

/* The members of a parsed envelope: |type| one of |types| (index in
 * *which), cborHex decoded into |cbor|. */
static int envelope_members(const json_t *root, const char *const *types, size_t n_types,
                            const char *noun, size_t *which, cdl_buf *cbor, cdl_error *err) {
  if (!json_is_object(root))
    return cdl_error_set(err, CDL_E_JSON, 0, "text envelope: not a JSON object");
  /* aeson's TextEnvelope parser requires all three members as strings
   * and ignores any others. */
  const char *type = string_member(root, "type", err);
  if (type == NULL || string_member(root, "description", err) == NULL ||
      string_member(root, "cborHex", err) == NULL)
    return CDL_E_JSON;
  const json_t *hex = json_object_get(root, "cborHex");
  for (*which = 0; *which < n_types && strcmp(type, types[*which]) != 0; (*which)++) {
  }
  if (*which == n_types) {
    char shown[64];
    printable(type, shown, sizeof shown);
    return cdl_error_set(err, CDL_E_USAGE, 0, "unsupported %s type '%s'", noun, shown);
  }
  size_t n = json_string_length(hex);
  if (cdl_buf_reserve(cbor, n / 2 + 1) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory decoding cborHex");
  int rc = cdl_hex_decode(json_string_value(hex), n, cbor->data, cbor->cap, &cbor->len, err);
  if (rc != CDL_OK) cbor->len = 0;
  return rc;
}

static int envelope_load(const uint8_t *data, size_t len, const char *const *types, size_t n_types,
                         const char *noun, size_t *which, cdl_buf *cbor, cdl_error *err) {
  json_error_t jerr;
  json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return cdl_error_set(err, CDL_E_JSON, (size_t)jerr.position, "text envelope: %s (line %d)",
                         jerr.text, jerr.line);
  int rc = envelope_members(root, types, n_types, noun, which, cbor, err);
  json_decref(root);
  return rc;
}

/* Re-records |inner| with |prefix| in front: the path of the file, so the
 * caller knows which of many key files is bad, or "cborHex", so a CBOR
 * offset is not taken for an offset into the JSON text. */
static int with_prefix(const char *prefix, const cdl_error *inner, cdl_error *err) {
  return cdl_error_set(err, inner->code, inner->offset, "%s: %s", prefix, inner->message);
}

static int read_small_file(const char *path, cdl_buf *out, cdl_error *err) {
  cdl_buf_init(out, CDL_KEYFILE_MAX_BYTES);
  return cdl_file_read_all(path, CDL_KEYFILE_MAX_BYTES, out, err);
}

static void free_secret_buf(cdl_buf *b) {
  if (b->data != NULL) wipe(b->data, b->cap);
  cdl_buf_free(b);
}

/* ---- Reading: the public functions -------------------------------------- */

int cdl_keyfile_parse_signing(const uint8_t *data, size_t len, cdl_key *k,
                              cdl_keyfile_format *format, cdl_error *err) {
  if (len == 0) return cdl_error_set(err, CDL_E_TRUNCATED, 0, "empty key file");
  if (len > CDL_KEYFILE_MAX_BYTES)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "key file larger than %d bytes",
                         CDL_KEYFILE_MAX_BYTES);
  cdl_keyfile_format found;
  int rc;
  if (!looks_like_text(data, len)) {
    rc = decode_signing_cbor(data, len, true, k, &found, err);
  } else {
    cdl_buf cbor;
    size_t which = 0;
    cdl_buf_init(&cbor, CDL_KEYFILE_MAX_BYTES);
    rc = envelope_load(data, len, SIGNING_TYPES, sizeof SIGNING_TYPES / sizeof SIGNING_TYPES[0],
                       "key", &which, &cbor, err);
    cdl_error inner = {0};
    if (rc == CDL_OK && (rc = decode_signing_cbor(cbor.data, cbor.len, which == SIGNING_TYPE_LEGACY,
                                                  k, &found, &inner)) != CDL_OK)
      with_prefix("cborHex", &inner, err);
    free_secret_buf(&cbor);
    found = CDL_KEYFILE_ENVELOPE;
  }
  if (rc == CDL_OK && format != NULL) *format = found;
  return rc;
}

int cdl_keyfile_read_signing(const char *path, cdl_key *k, cdl_keyfile_format *format,
                             cdl_error *err) {
  cdl_buf b;
  cdl_error inner = {0};
  int rc = read_small_file(path, &b, err);
  if (rc == CDL_OK) {
    rc = cdl_keyfile_parse_signing(b.data, b.len, k, format, &inner);
    if (rc != CDL_OK) with_prefix(path, &inner, err);
  }
  free_secret_buf(&b);
  return rc;
}

/* Decodes an envelope's CBOR body with |decode|, requiring it to end there. */
static int decode_body(const cdl_buf *cbor, const char *noun,
                       int (*decode)(cdl_cbor_cursor *cur, void *out), void *out, cdl_error *err) {
  cdl_error inner = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, cbor->data, cbor->len, &inner);
  int rc = decode(&cur, out);
  if (rc == CDL_OK) rc = cdl_cbor_expect_end(&cur, noun);
  if (rc != CDL_OK) with_prefix("cborHex", &inner, err);
  return rc;
}

/* Loads |path| as an envelope of type |type| and decodes its body. */
static int read_envelope_file(const char *path, const char *type, const char *noun,
                              int (*decode)(cdl_cbor_cursor *cur, void *out), void *out,
                              cdl_error *err) {
  cdl_buf file, cbor;
  cdl_error inner = {0};
  size_t which;
  cdl_buf_init(&cbor, CDL_KEYFILE_MAX_BYTES);
  int rc = read_small_file(path, &file, err);
  if (rc == CDL_OK) {
    rc = envelope_load(file.data, file.len, &type, 1, noun, &which, &cbor, &inner);
    if (rc == CDL_OK) rc = decode_body(&cbor, noun, decode, out, &inner);
    if (rc != CDL_OK) with_prefix(path, &inner, err);
  }
  free_secret_buf(&cbor);
  free_secret_buf(&file);
  return rc;
}

static int decode_redeem(cdl_cbor_cursor *cur, void *out) {
  cdl_span s;
  CDL_TRY(read_key_bytes(cur, 32, &s, "redeem key"));
  memcpy(out, s.ptr, 32);
  return CDL_OK;
}

int cdl_keyfile_read_redeem(const char *path, uint8_t seed[32], cdl_error *err) {
  return read_envelope_file(path, TYPE_REDEEM, "redeem key", decode_redeem, seed, err);
}

static int decode_cert(cdl_cbor_cursor *cur, void *out) {
  cdl_byron_genesis_delegation *d = out;
  cdl_byron_dlg_cert c;
  CDL_TRY(cdl_byron_dlg_cert_read(cur, &c));
  d->omega = c.epoch;
  memcpy(d->issuer_pk, c.issuer_pk, 64);
  memcpy(d->delegate_pk, c.delegate_pk, 64);
  memcpy(d->signature, c.signature, 64);
  cdl_byron_key_hash(d->issuer_pk, d->issuer_id);
  return CDL_OK;
}

int cdl_keyfile_read_cert(const char *path, cdl_byron_genesis_delegation *d, cdl_error *err) {
  return read_envelope_file(path, TYPE_CERT, "certificate", decode_cert, d, err);
}

/* ---- Verification keys ---------------------------------------------------- */

int cdl_keyfile_write_verification(const char *path, const uint8_t xpub[64],
                                   cdl_keyfile_vkey_format format, cdl_error *err) {
  if (format == CDL_KEYFILE_VKEY_ENVELOPE) {
    uint8_t storage[80];
    cdl_buf b;
    cdl_buf_init_fixed(&b, storage, sizeof storage);
    cdl_cbor_enc_bytes(&b, xpub, 64);
    return write_envelope(path, TYPE_VERIFICATION, "Payment Verification Key", &b, false, err);
  }
  char text[100];
  size_t n = cdl_base64_encode(xpub, 64, text, sizeof text);
  CDL_ASSERT(n > 0);
  return write_file(path, (const uint8_t *)text, n, false, err);
}

static int decode_verification(cdl_cbor_cursor *cur, void *out) {
  cdl_span s;
  CDL_TRY(read_key_bytes(cur, 64, &s, "verification key"));
  memcpy(out, s.ptr, 64);
  return CDL_OK;
}

/* Base64 text, surrounding whitespace allowed, of exactly 64 bytes. */
static int parse_base64_key(const uint8_t *data, size_t len, uint8_t xpub[64], cdl_error *err) {
  while (len > 0 && is_json_space(data[0])) data++, len--;
  while (len > 0 && is_json_space(data[len - 1])) len--;
  uint8_t key[64 + 3];
  size_t n = 0;
  CDL_TRY(cdl_base64_decode((const char *)data, len, key, sizeof key, &n, err));
  if (n != 64)
    return cdl_error_set(err, CDL_E_RANGE, 0,
                         "a Base64 verification key holds 64 bytes, this one %zu", n);
  memcpy(xpub, key, 64);
  return CDL_OK;
}

/* An envelope of a verification key type, else of a signing key type. */
static int parse_verification_envelope(const uint8_t *data, size_t len, uint8_t xpub[64],
                                       cdl_error *err) {
  cdl_buf cbor;
  size_t which;
  cdl_buf_init(&cbor, 0);
  cdl_error inner = {0};
  int rc = envelope_load(data, len, VERIFICATION_TYPES,
                         sizeof VERIFICATION_TYPES / sizeof VERIFICATION_TYPES[0], "key", &which,
                         &cbor, &inner);
  if (rc == CDL_OK) rc = decode_body(&cbor, "verification key", decode_verification, xpub, err);
  cdl_buf_free(&cbor);
  if (rc != CDL_E_USAGE || inner.code != CDL_E_USAGE) {
    if (rc != CDL_OK && inner.code != CDL_OK) *err = inner;
    return rc;
  }
  cdl_key k;
  rc = cdl_keyfile_parse_signing(data, len, &k, NULL, err);
  if (rc == CDL_OK) memcpy(xpub, k.xpub, 64);
  wipe(&k, sizeof k);
  return rc;
}

int cdl_keyfile_parse_verification(const uint8_t *data, size_t len, uint8_t xpub[64],
                                   cdl_error *err) {
  if (len == 0) return cdl_error_set(err, CDL_E_TRUNCATED, 0, "empty key file");
  if (len > CDL_KEYFILE_MAX_BYTES)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "key file larger than %d bytes",
                         CDL_KEYFILE_MAX_BYTES);
  size_t i = 0;
  while (i < len && is_json_space(data[i])) i++;
  if (i < len && data[i] == '{') return parse_verification_envelope(data, len, xpub, err);
  if (looks_like_text(data, len)) return parse_base64_key(data, len, xpub, err);
  cdl_key k; /* a binary signing key: its public half */
  int rc = cdl_keyfile_parse_signing(data, len, &k, NULL, err);
  if (rc == CDL_OK) memcpy(xpub, k.xpub, 64);
  wipe(&k, sizeof k);
  return rc;
}

int cdl_keyfile_read_verification(const char *path, uint8_t xpub[64], cdl_error *err) {
  cdl_buf b;
  cdl_error inner = {0};
  int rc = read_small_file(path, &b, err);
  if (rc == CDL_OK && (rc = cdl_keyfile_parse_verification(b.data, b.len, xpub, &inner)) != CDL_OK)
    with_prefix(path, &inner, err);
  free_secret_buf(&b);
  return rc;
}
