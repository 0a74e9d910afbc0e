/*
 * ed25519.c: Ed25519 verification with the Byron reference's acceptance
 * rule, RFC 8032 signing from a seed, and Ed25519-BIP32 extended-key
 * signing (docs/byron.md section 3.1).
 *
 * Byron verifies with ed25519-donna (cryptonite/crypton `sign_open`, used by
 * cardano-crypto and cardano-ledger's Byron crypto). Its only checks are
 * "top three bits of S are zero" and "A decodes to a curve point"; then it
 * tests the cofactorless equation R == S*B - h*A by comparing the canonical
 * encoding of the computed R with the signature's R bytes. libsodium 1.0.18
 * additionally rejects S >= L, small-order R, small-order A and a
 * non-canonical A. So:
 *   - libsodium accepts  =>  the reference accepts (fast path);
 *   - libsodium rejects and none of those four conditions is present =>
 *     the equation failed, the reference rejects too;
 *   - otherwise we evaluate the donna rule exactly with libsodium's group
 *     operations (verify_exact). That path is slower (~0.3 ms) and only
 *     reachable with deliberately odd encodings.
 * tests/vectors/crypto/ed25519-reference-edges.txt holds verdicts obtained
 * by running the reference C code on each such case.
 */
#include <string.h>

#include <sodium.h>

#include "cardinal/crypto.h"

/* k*T8 for an order-8 point T8, k = 0..7 (T[0] is the identity). Their
 * y-coordinates are exactly the small-order ones. */
static const uint8_t TORSION[8][32] = {
    {0x01},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {[31] = 0x80},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x85},
    {0},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa},
};
#define IDENTITY TORSION[0]

/* The group order L, little-endian. */
static const uint8_t ORDER_L[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};

static bool scalar_below_order(const uint8_t s[32]) {
  for (int i = 31; i >= 0; i--) {
    if (s[i] != ORDER_L[i]) return s[i] < ORDER_L[i];
  }
  return false;
}

/* y (sign bit masked) >= p = 2^255 - 19. */
static bool y_non_canonical(const uint8_t enc[32]) {
  if ((enc[31] & 0x7f) != 0x7f || enc[0] < 0xed) return false;
  for (int i = 1; i < 31; i++) {
    if (enc[i] != 0xff) return false;
  }
  return true;
}

static bool y_small_order(const uint8_t enc[32]) {
  for (int k = 0; k < 8; k++) {
    if (memcmp(enc, TORSION[k], 31) == 0 &&
        (enc[31] & 0x7f) == (TORSION[k][31] & 0x7f))
      return true;
  }
  return false;
}

/* True when libsodium's extra checks, not the equation, may be what made
 * it reject: only then can the reference's verdict differ. */
static bool needs_exact_rule(const uint8_t pk[32], const uint8_t sig[64]) {
  return !scalar_below_order(sig + 32) || y_small_order(sig) ||
         y_small_order(pk) || y_non_canonical(pk);
}

/* out = h*A for a canonical curve point A of any order: A = P + k*T8 with
 * P in the prime-order subgroup, so h*A = h*P + ((h mod 8)*k mod 8)*T8. */
static bool scalar_mult_any_order(uint8_t out[32], const uint8_t h[32],
                                  const uint8_t a[32]) {
  for (unsigned k = 0; k < 8; k++) {
    uint8_t p[32], hp[32];
    if (k == 0)
      memcpy(p, a, 32);
    else if (crypto_core_ed25519_sub(p, a, TORSION[k]) != 0)
      return false;
    if (memcmp(p, IDENTITY, 32) == 0) {
      memcpy(hp, IDENTITY, 32);
    } else if (crypto_core_ed25519_is_valid_point(p)) {
      /* -1 here can only mean the product is the identity (h = 0 mod L). */
      if (crypto_scalarmult_ed25519_noclamp(hp, h, p) != 0) memcpy(hp, IDENTITY, 32);
    } else {
      continue;
    }
    unsigned m = ((h[0] & 7u) * k) & 7u;
    return crypto_core_ed25519_add(out, hp, TORSION[m]) == 0;
  }
  return false;
}

/* The reference rule, evaluated exactly (see the file comment). */
static bool verify_exact(const uint8_t pk[32], const uint8_t *msg, size_t len,
                         const uint8_t sig[64]) {
  if (sig[63] & 0xe0) return false;
  uint8_t a[32];
  /* Adding the identity decodes A the way donna does (y taken mod p, any
   * sign for x = 0) and fails only when A is not on the curve. */
  if (crypto_core_ed25519_add(a, pk, IDENTITY) != 0) return false;

  uint8_t wide[64], h[32], s[32];
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, sig, 32);
  crypto_hash_sha512_update(&st, pk, 32); /* the raw bytes, as donna hashes */
  crypto_hash_sha512_update(&st, msg, len);
  crypto_hash_sha512_final(&st, wide);
  crypto_core_ed25519_scalar_reduce(h, wide);
  memset(wide, 0, sizeof wide);
  memcpy(wide, sig + 32, 32);
  crypto_core_ed25519_scalar_reduce(s, wide);

  uint8_t ha[32], sb[32], r[32];
  if (!scalar_mult_any_order(ha, h, a)) return false;
  if (crypto_scalarmult_ed25519_base_noclamp(sb, s) != 0) memcpy(sb, IDENTITY, 32);
  if (crypto_core_ed25519_sub(r, sb, ha) != 0) return false;
  return memcmp(r, sig, 32) == 0;
}

bool cdl_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
                        const uint8_t sig[64]) {
  if (crypto_sign_verify_detached(sig, msg, len, pk) == 0) return true;
  if (!needs_exact_rule(pk, sig)) return false;
  return verify_exact(pk, msg, len, sig);
}

void cdl_ed25519_seed_public(const uint8_t seed[32], uint8_t pk[32]) {
  uint8_t sk[64];
  crypto_sign_seed_keypair(pk, sk, seed);
  sodium_memzero(sk, sizeof sk);
}

void cdl_ed25519_seed_sign(const uint8_t seed[32], const uint8_t *msg,
                           size_t len, uint8_t sig[64]) {
  uint8_t pk[32], sk[64];
  crypto_sign_seed_keypair(pk, sk, seed);
  crypto_sign_detached(sig, NULL, msg, len, sk);
  sodium_memzero(sk, sizeof sk);
}

/* kL reduced mod L: kL*B is the same point, and libsodium's scalar
 * functions expect reduced scalars. */
static void reduce32(uint8_t out[32], const uint8_t in[32]) {
  uint8_t wide[64] = {0};
  memcpy(wide, in, 32);
  crypto_core_ed25519_scalar_reduce(out, wide);
  sodium_memzero(wide, sizeof wide);
}

static void base_mult(uint8_t out[32], const uint8_t scalar[32]) {
  if (crypto_scalarmult_ed25519_base_noclamp(out, scalar) != 0)
    memcpy(out, IDENTITY, 32); /* zero scalar */
}

void cdl_ed25519_xprv_public(const uint8_t xprv[64], uint8_t pk[32]) {
  uint8_t kl[32];
  reduce32(kl, xprv);
  base_mult(pk, kl);
  sodium_memzero(kl, sizeof kl);
}

void cdl_ed25519_xprv_sign(const uint8_t xprv[64], const uint8_t pk[32],
                           const uint8_t *msg, size_t len, uint8_t sig[64]) {
  uint8_t wide[64], r[32], h[32], kl[32], hk[32];
  crypto_hash_sha512_state st;
  /* r = SHA-512(kR || M) mod L; R = r*B */
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, xprv + 32, 32);
  crypto_hash_sha512_update(&st, msg, len);
  crypto_hash_sha512_final(&st, wide);
  crypto_core_ed25519_scalar_reduce(r, wide);
  base_mult(sig, r);
  /* h = SHA-512(R || A || M) mod L; S = r + h*kL mod L */
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, sig, 32);
  crypto_hash_sha512_update(&st, pk, 32);
  crypto_hash_sha512_update(&st, msg, len);
  crypto_hash_sha512_final(&st, wide);
  crypto_core_ed25519_scalar_reduce(h, wide);
  reduce32(kl, xprv);
  crypto_core_ed25519_scalar_mul(hk, h, kl);
  crypto_core_ed25519_scalar_add(sig + 32, hk, r);
  sodium_memzero(r, sizeof r);
  sodium_memzero(kl, sizeof kl);
  sodium_memzero(hk, sizeof hk);
  sodium_memzero(wide, sizeof wide);
}
