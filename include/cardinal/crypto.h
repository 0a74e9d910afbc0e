/*
 * cardinal/crypto.h: the primitives Byron needs (docs/byron.md sections 2-3):
 * Blake2b-224/256, SHA3-256, SHA-512, CRC32, Base58, Base64, Ed25519 verify
 * and sign, and Ed25519-BIP32 extended-key signing. Built on libsodium,
 * OpenSSL (SHA3 only) and zlib (CRC32).
 */
#ifndef CARDINAL_CRYPTO_H
#define CARDINAL_CRYPTO_H

#include "cardinal/base.h"

#define CDL_HASH32 32
#define CDL_HASH28 28

/* Must be called once before anything else here; returns 0 or CDL_E_IO. */
int cdl_crypto_init(void);

/* ---- Hashes ---- */
void cdl_blake2b_256(uint8_t out[32], const uint8_t *in, size_t len);
void cdl_blake2b_224(uint8_t out[28], const uint8_t *in, size_t len);

/* Incremental Blake2b-256 for hashes over concatenations. */
typedef struct cdl_blake2b {
  _Alignas(64) uint8_t opaque[384]; /* crypto_generichash_state */
} cdl_blake2b;
void cdl_blake2b_256_init(cdl_blake2b *h);
void cdl_blake2b_update(cdl_blake2b *h, const uint8_t *in, size_t len);
void cdl_blake2b_256_final(cdl_blake2b *h, uint8_t out[32]);

void cdl_sha3_256(uint8_t out[32], const uint8_t *in, size_t len);
void cdl_sha512(uint8_t out[64], const uint8_t *in, size_t len);
/* Blake2b-224(SHA3-256(in)): the Byron address/stakeholder hash. */
void cdl_address_hash(uint8_t out[28], const uint8_t *in, size_t len);

uint32_t cdl_crc32(const uint8_t *in, size_t len);
/* The CRC32 of the bytes |crc| covers followed by |in|: cdl_crc32 of a
 * whole is that of its pieces in turn, from 0 (what a file written in
 * pieces is checked with). */
uint32_t cdl_crc32_update(uint32_t crc, const uint8_t *in, size_t len);

/* ---- Text encodings ---- */

/* Base58 (Bitcoin alphabet). Returns the text length, or 0 if out_cap
 * (including the NUL) is too small. */
size_t cdl_base58_encode(const uint8_t *in, size_t len, char *out,
                         size_t out_cap);
int cdl_base58_decode(const char *text, size_t text_len, uint8_t *out,
                      size_t out_cap, size_t *out_len, cdl_error *err);

/* Base64, standard (+/) or URL-safe (-_) alphabet, padding optional. */
int cdl_base64_decode(const char *text, size_t text_len, uint8_t *out,
                      size_t out_cap, size_t *out_len, cdl_error *err);
/* Base64, standard alphabet, padded, NUL-terminated. Returns the text
 * length, or 0 if |out_cap| (including the NUL) is too small. */
size_t cdl_base64_encode(const uint8_t *in, size_t len, char *out, size_t out_cap);

/* ---- Ed25519 ------------------------------------------------------------
 * Verification accepts exactly what the Byron reference (cardano-crypto /
 * cryptonite ed25519-donna) accepts; see src/crypto/ed25519.c. */
bool cdl_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
                        const uint8_t sig[64]);

/* RFC 8032 keys from a 32-byte seed (redeem/AVVM keys). */
void cdl_ed25519_seed_public(const uint8_t seed[32], uint8_t pk[32]);
void cdl_ed25519_seed_sign(const uint8_t seed[32], const uint8_t *msg,
                           size_t len, uint8_t sig[64]);

/* Ed25519-BIP32 extended secret keys: kL (32) || kR (32). The public key
 * is kL*B with no hashing or clamping; signing uses kR as the nonce key.
 * Byron's XPrv is kL || kR || A || chainCode; pass its first 64 bytes. */
void cdl_ed25519_xprv_public(const uint8_t xprv[64], uint8_t pk[32]);
void cdl_ed25519_xprv_sign(const uint8_t xprv[64], const uint8_t pk[32],
                           const uint8_t *msg, size_t len, uint8_t sig[64]);

#endif /* CARDINAL_CRYPTO_H */
