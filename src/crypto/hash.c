/*
 * hash.c: Blake2b-224/256 and SHA-512 (libsodium), SHA3-256 (OpenSSL) and
 * CRC32 (zlib): the hashes of docs/byron.md section 2 and the address
 * hash of section 1.6.
 */
#include <assert.h>

#include <openssl/evp.h>
#include <sodium.h>
#include <isa-l/crc.h>

#include "cardinal/crypto.h"

static_assert(sizeof(cdl_blake2b) >= sizeof(crypto_generichash_state),
              "cdl_blake2b too small for libsodium's state");

static EVP_MD *sha3_256_md; /* fetched once: implicit fetches are slow */

int cdl_crypto_init(void) {
  if (sodium_init() < 0) return CDL_E_IO;
  if (sha3_256_md == NULL) sha3_256_md = EVP_MD_fetch(NULL, "SHA3-256", NULL);
  return sha3_256_md != NULL ? CDL_OK : CDL_E_IO;
}

void cdl_blake2b_256(uint8_t out[32], const uint8_t *in, size_t len) {
  crypto_generichash(out, 32, in, len, NULL, 0);
}

void cdl_blake2b_224(uint8_t out[28], const uint8_t *in, size_t len) {
  crypto_generichash(out, 28, in, len, NULL, 0);
}

void cdl_blake2b_256_init(cdl_blake2b *h) {
  crypto_generichash_init((crypto_generichash_state *)h->opaque, NULL, 0, 32);
}

void cdl_blake2b_update(cdl_blake2b *h, const uint8_t *in, size_t len) {
  crypto_generichash_update((crypto_generichash_state *)h->opaque, in, len);
}

void cdl_blake2b_256_final(cdl_blake2b *h, uint8_t out[32]) {
  crypto_generichash_final((crypto_generichash_state *)h->opaque, out, 32);
}

void cdl_sha3_256(uint8_t out[32], const uint8_t *in, size_t len) {
  CDL_ASSERT(sha3_256_md != NULL); /* cdl_crypto_init was called */
  unsigned int n = 0;
  CDL_ASSERT(EVP_Digest(in, len, out, &n, sha3_256_md, NULL) == 1 && n == 32);
}

void cdl_sha512(uint8_t out[64], const uint8_t *in, size_t len) {
  crypto_hash_sha512(out, in, len);
}

void cdl_address_hash(uint8_t out[28], const uint8_t *in, size_t len) {
  uint8_t sha3[32];
  cdl_sha3_256(sha3, in, len);
  cdl_blake2b_224(out, sha3, sizeof sha3);
}

/* ISA-L's folding CRC: the same CRC-32 as zlib's (IEEE 802.3, reflected),
 * about 4x faster on large buffers and 12x on the 108-byte entries of a
 * chunk index, which every open checks (docs/design.md section 5). */
uint32_t cdl_crc32(const uint8_t *in, size_t len) {
  return crc32_gzip_refl(0, in, (uint64_t)len);
}

uint32_t cdl_crc32_update(uint32_t crc, const uint8_t *in, size_t len) {
  return crc32_gzip_refl(crc, in, (uint64_t)len);
}
