/*
 * error.c: error records, stable rule names and the always-on assertion
 * (docs/design.md section 4: rejections, failures and bugs kept apart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/base.h"

int cdl_error_set(cdl_error *err, int code, size_t offset, const char *fmt,
                  ...) {
  if (err == NULL || err->code != 0) return code;
  err->code = code;
  err->offset = offset;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

void cdl_error_clear(cdl_error *err) {
  if (err == NULL) return;
  err->code = 0;
  err->offset = 0;
  err->message[0] = '\0';
}

const char *cdl_error_name(int code) {
  switch (code) {
    case CDL_OK: return "ok";
    case CDL_E_NOMEM: return "resource.memory";
    case CDL_E_IO: return "io.failure";
    case CDL_E_USAGE: return "usage";
    case CDL_E_LIMIT: return "input.size_limit";
    case CDL_E_NOT_FOUND: return "not_found";
    case CDL_E_CHECKSUM: return "storage.damaged";
    case CDL_E_LOCKED: return "storage.locked";
    case CDL_E_MISSING: return "storage.missing";
    case CDL_E_CBOR: return "cbor.malformed";
    case CDL_E_TRUNCATED: return "cbor.truncated";
    case CDL_E_TRAILING: return "cbor.trailing_bytes";
    case CDL_E_DEPTH: return "cbor.depth";
    case CDL_E_TYPE: return "decode.type";
    case CDL_E_LIST_FORM: return "decode.list_form";
    case CDL_E_MAP_ORDER: return "decode.map_order";
    case CDL_E_RANGE: return "decode.range";
    case CDL_E_TAG: return "decode.unknown_tag";
    case CDL_E_NONCANONICAL: return "decode.non_canonical";
    case CDL_E_UTF8: return "decode.utf8";
    case CDL_E_HEX: return "text.hex";
    case CDL_E_BASE58: return "text.base58";
    case CDL_E_BASE64: return "text.base64";
    case CDL_E_CRC: return "address.crc";
    case CDL_E_JSON: return "json.invalid";
    case CDL_E_GENESIS: return "genesis.invalid";
    case CDL_E_BODY_PROOF: return "block.body_proof";
    case CDL_E_SIGNATURE: return "block.signature";
    case CDL_E_CERTIFICATE: return "block.delegation_certificate";
    case CDL_E_PREV_HASH: return "block.prev_hash";
    case CDL_E_PROTOCOL: return "net.protocol_violation";
    case CDL_E_TIMEOUT: return "net.timeout";
    case CDL_E_REFUSED: return "net.handshake_refused";
    default: return "unknown";
  }
}

void cdl_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "cardinal: assertion failed: %s (%s:%d)\n", expr, file,
          line);
  abort();
}
