/*
 * keys.c: Byron signing keys (include/cardinal/forge.h; docs/byron.md 3.1
 * keys and signing, 1.6 addresses and stakeholder ids): Ed25519-BIP32
 * extended keys made from entropy the way cardano-crypto makes them from
 * a seed, or taken from cardano-cli's 128-byte XPrv, their signatures,
 * stakeholder ids and addresses. A core node signs with them; the
 * generators (src/gen) make their networks' keys here.
 */
#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/forge.h"

void cdl_key_derive(cdl_key *k, const uint8_t entropy[32]) {
  uint8_t h[64];
  cdl_sha512(h, entropy, 32);
  /* cardano-crypto's clamping of kL: a multiple of 8 below 2^254 with bit
   * 254 set, and the third-highest bit clear (BIP32-Ed25519 section V.A). */
  h[0] &= 0xf8;
  h[31] &= 0x1f;
  h[31] |= 0x40;
  memcpy(k->xprv, h, 64);
  cdl_ed25519_xprv_public(k->xprv, k->xpub);
  /* The chain code only matters for HD derivation, which Byron genesis
   * keys never use; take it from the entropy so the key is reproducible. */
  uint8_t tagged[33];
  tagged[0] = 0x01;
  memcpy(tagged + 1, entropy, 32);
  cdl_blake2b_256(k->xpub + 32, tagged, sizeof tagged);
}

int cdl_key_from_xprv128(cdl_key *k, const uint8_t xprv128[128], cdl_error *err) {
  uint8_t a[32];
  cdl_ed25519_xprv_public(xprv128, a);
  if (memcmp(a, xprv128 + 64, 32) != 0)
    return cdl_error_set(err, CDL_E_SIGNATURE, 64,
                         "the extended key's public part is not derived from its secret part");
  memcpy(k->xprv, xprv128, 64);
  memcpy(k->xpub, xprv128 + 64, 64);
  return CDL_OK;
}

void cdl_key_sign(const cdl_key *k, const uint8_t *msg, size_t len, uint8_t sig[64]) {
  cdl_ed25519_xprv_sign(k->xprv, k->xpub, msg, len, sig);
}

void cdl_key_hash(const cdl_key *k, uint8_t out[28]) { cdl_byron_key_hash(k->xpub, out); }

void cdl_key_address(const cdl_key *k, bool with_magic, uint32_t magic, cdl_buf *out) {
  /* attributes: {} or {2: bytes(CBOR(magic))} (docs/byron.md 1.6) */
  uint8_t attr_storage[16], payload_storage[128];
  cdl_buf attrs, payload;
  cdl_buf_init_fixed(&attrs, attr_storage, sizeof attr_storage);
  cdl_cbor_enc_map(&attrs, with_magic ? 1 : 0);
  if (with_magic) {
    uint8_t pm[9];
    size_t n = cdl_byron_magic_cbor(magic, pm);
    cdl_cbor_enc_uint(&attrs, 2);
    cdl_cbor_enc_bytes(&attrs, pm, n);
  }
  uint8_t root[28];
  cdl_byron_address_root(CDL_BYRON_ADDR_PUBKEY, k->xpub, 64, cdl_span_of(attrs.data, attrs.len),
                         root);
  cdl_buf_init_fixed(&payload, payload_storage, sizeof payload_storage);
  cdl_cbor_enc_array(&payload, 3);
  cdl_cbor_enc_bytes(&payload, root, 28);
  cdl_cbor_enc_raw(&payload, cdl_span_of(attrs.data, attrs.len));
  cdl_cbor_enc_uint(&payload, CDL_BYRON_ADDR_PUBKEY);
  CDL_ASSERT(!attrs.failed && !payload.failed);
  cdl_buf_reset(out);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_tag(out, 24);
  cdl_cbor_enc_bytes(out, payload.data, payload.len);
  cdl_cbor_enc_uint(out, cdl_crc32(payload.data, payload.len));
}
