/*
 * delegation.c: heavyweight delegation certificates (docs/byron.md 1.9):
 *   cert = [epoch, issuerPk bytes(64), delegatePk bytes(64), signature bytes(64)]
 * used in delegation payloads, in every main block's signature, and in the
 * genesis file.
 */
#include <string.h>

#include "internal.h"

int cdl_byron_dlg_cert_read(cdl_cbor_cursor *cur, cdl_byron_dlg_cert *cert) {
  size_t start = cur->pos;
  memset(cert, 0, sizeof *cert);
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "delegation certificate"));
  CDL_TRY(cdl_cbor_read_uint(cur, &cert->epoch, "certificate epoch"));
  CDL_TRY(byron_read_xpub(cur, &cert->issuer_pk, "certificate issuer key"));
  CDL_TRY(byron_read_xpub(cur, &cert->delegate_pk, "certificate delegate key"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 64, &cert->signature, "certificate signature"));
  cert->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

void cdl_byron_dlg_cert_encode(cdl_buf *b, const cdl_byron_dlg_cert *cert) {
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_uint(b, cert->epoch);
  cdl_cbor_enc_bytes(b, cert->issuer_pk, 64);
  cdl_cbor_enc_bytes(b, cert->delegate_pk, 64);
  cdl_cbor_enc_bytes(b, cert->signature, 64);
}
