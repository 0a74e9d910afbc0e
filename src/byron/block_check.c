/*
 * block_check.c: body proofs (docs/byron.md section 2.3) and the block
 * signature with its delegation certificate (sections 3.3-3.4).
 */
#include <string.h>

#include "internal.h"

static const uint8_t LEAF_PREFIX = 0x00, NODE_PREFIX = 0x01;

static void merkle_node(const uint8_t left[32], const uint8_t right[32],
                        uint8_t out[32]) {
  cdl_blake2b h;
  cdl_blake2b_256_init(&h);
  cdl_blake2b_update(&h, &NODE_PREFIX, 1);
  cdl_blake2b_update(&h, left, 32);
  cdl_blake2b_update(&h, right, 32);
  cdl_blake2b_256_final(&h, out);
}

/* The Byron Merkle tree splits n leaves at the largest power of two below
 * n. Leaves are pushed left to right and equal-height neighbours merged,
 * like a binary counter; the stack then holds the perfect subtrees of the
 * split, which fold right to left into the root. O(log n) memory. */
void cdl_byron_tx_merkle_root(const cdl_byron_txaux *txs, size_t n,
                              uint8_t out[32]) {
  uint8_t stack[65][32];
  unsigned height[65], depth = 0;
  if (n == 0) {
    byron_hash(NULL, 0, out);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    cdl_blake2b h;
    cdl_blake2b_256_init(&h);
    cdl_blake2b_update(&h, &LEAF_PREFIX, 1);
    cdl_blake2b_update(&h, txs[i].tx.raw.ptr, txs[i].tx.raw.len);
    cdl_blake2b_256_final(&h, stack[depth]);
    height[depth++] = 0;
    while (depth >= 2 && height[depth - 1] == height[depth - 2]) {
      merkle_node(stack[depth - 2], stack[depth - 1], stack[depth - 2]);
      height[depth - 2]++;
      depth--;
    }
  }
  while (depth >= 2) {
    merkle_node(stack[depth - 2], stack[depth - 1], stack[depth - 2]);
    depth--;
  }
  memcpy(out, stack[0], 32);
}

/* H(9f || witness list_1 || ... || witness list_n || ff) */
void cdl_byron_tx_witnesses_hash(const cdl_byron_body *body, uint8_t out[32]) {
  static const uint8_t open = 0x9f, close = 0xff, empty[2] = {0x9f, 0xff};
  if (body->n_txs == 0) {
    byron_hash(empty, 2, out);
    return;
  }
  cdl_blake2b h;
  cdl_blake2b_256_init(&h);
  cdl_blake2b_update(&h, &open, 1);
  for (size_t i = 0; i < body->n_txs; i++)
    cdl_blake2b_update(&h, body->txs[i].witnesses_raw.ptr, body->txs[i].witnesses_raw.len);
  cdl_blake2b_update(&h, &close, 1);
  cdl_blake2b_256_final(&h, out);
}

static int proof_mismatch(cdl_error *err, const char *which) {
  return cdl_error_set(err, CDL_E_BODY_PROOF, 0,
                       "%s in the header does not match the body", which);
}

static bool hash_is(cdl_span s, const uint8_t h[32]) {
  return s.len == 32 && memcmp(s.ptr, h, 32) == 0;
}

static int check_ssc(const cdl_byron_block *blk, cdl_arena *scratch,
                     cdl_error *err) {
  const cdl_byron_body_proof *p = &blk->header.proof;
  const cdl_byron_ssc *ssc = &blk->body.ssc;
  uint8_t h1[32], certs[32];
  if (p->ssc_tag != ssc->tag) return proof_mismatch(err, "SSC proof variant");
  int rc = cdl_byron_ssc_proof(ssc, scratch, h1, certs);
  if (rc == CDL_E_NOMEM)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory computing the SSC proof");
  if (rc != CDL_OK) return proof_mismatch(err, "SSC proof");
  if (ssc->tag != CDL_BYRON_SSC_CERTIFICATES && !hash_is(p->ssc_hash1, h1))
    return proof_mismatch(err, "SSC payload hash");
  if (!hash_is(p->ssc_certs_hash, certs)) return proof_mismatch(err, "SSC certificates hash");
  return CDL_OK;
}

static int check_main(const cdl_byron_block *blk, int which, cdl_arena *scratch,
                      cdl_error *err) {
  const cdl_byron_body_proof *p = &blk->header.proof;
  const cdl_byron_body *body = &blk->body;
  uint8_t h[32];
  if (p->tx_count != body->n_txs) return proof_mismatch(err, "tx count");
  cdl_byron_tx_merkle_root(body->txs, body->n_txs, h);
  if (memcmp(h, p->tx_merkle_root, 32) != 0) return proof_mismatch(err, "tx Merkle root");
  cdl_byron_tx_witnesses_hash(body, h);
  if (memcmp(h, p->tx_witnesses_hash, 32) != 0) return proof_mismatch(err, "tx witnesses hash");
  if (which == CDL_BYRON_PROOFS_ALL) CDL_TRY(check_ssc(blk, scratch, err));
  byron_hash(body->dlg_payload_raw.ptr, body->dlg_payload_raw.len, h);
  if (memcmp(h, p->dlg_hash, 32) != 0) return proof_mismatch(err, "delegation proof");
  byron_hash(body->upd_payload_raw.ptr, body->upd_payload_raw.len, h);
  if (memcmp(h, p->upd_hash, 32) != 0) return proof_mismatch(err, "update proof");
  if (which == CDL_BYRON_PROOFS_ALL) {
    byron_hash(blk->extra_raw.ptr, blk->extra_raw.len, h);
    if (!hash_is(blk->header.extra_proof, h)) return proof_mismatch(err, "extra body proof");
  }
  return CDL_OK;
}

int cdl_byron_block_check_body_proof(const cdl_byron_block *blk, int which,
                                     cdl_arena *scratch, cdl_error *err) {
  if (!blk->is_ebb) return check_main(blk, which, scratch, err);
  if (which != CDL_BYRON_PROOFS_ALL) return CDL_OK; /* ignored by the ledger */
  uint8_t h[32];
  cdl_blake2b_256(h, blk->ebb_body_raw.ptr, blk->ebb_body_raw.len);
  if (!hash_is(blk->ebb.body_proof, h)) return proof_mismatch(err, "EBB body proof");
  return CDL_OK;
}

/* ---- Block signature ---- */

static bool cache_lookup(cdl_byron_cert_cache *cache, const uint8_t digest[32]) {
  for (unsigned i = 0; i < cache->used; i++) {
    if (memcmp(cache->digest[i], digest, 32) == 0) return true;
  }
  return false;
}

static void cache_insert(cdl_byron_cert_cache *cache, const uint8_t digest[32]) {
  memcpy(cache->digest[cache->next], digest, 32);
  cache->next = (cache->next + 1) % CDL_BYRON_CERT_CACHE;
  if (cache->used < CDL_BYRON_CERT_CACHE) cache->used++;
}

static bool cert_valid(const cdl_byron_dlg_cert *cert, uint32_t magic,
                       cdl_byron_cert_cache *cache) {
  if (cache == NULL) return cdl_byron_dlg_cert_verify(cert, magic);
  uint8_t digest[32], pm[9];
  size_t n = cdl_byron_magic_cbor(magic, pm);
  cdl_blake2b h;
  cdl_blake2b_256_init(&h);
  cdl_blake2b_update(&h, pm, n);
  cdl_blake2b_update(&h, cert->raw.ptr, cert->raw.len);
  cdl_blake2b_256_final(&h, digest);
  if (cache_lookup(cache, digest)) return true;
  if (!cdl_byron_dlg_cert_verify(cert, magic)) return false;
  cache_insert(cache, digest);
  return true;
}

/* A failed allocation is CDL_E_NOMEM, never a verdict: read as a bad
 * signature it would refuse a valid block. */
int cdl_byron_header_signature_check(const cdl_byron_header *h, uint32_t protocol_magic) {
  uint8_t storage[1024];
  cdl_buf msg;
  cdl_buf_init_fixed(&msg, storage, sizeof storage);
  cdl_byron_msg_block(&msg, h, protocol_magic);
  if (msg.failed) { /* a header with large fields: build it on the heap */
    cdl_buf_init(&msg, 0);
    cdl_byron_msg_block(&msg, h, protocol_magic);
    if (msg.failed) {
      cdl_buf_free(&msg);
      return CDL_E_NOMEM;
    }
  }
  bool ok = cdl_ed25519_verify(h->cert.delegate_pk, msg.data, msg.len, h->signature);
  cdl_buf_free(&msg);
  return ok ? CDL_OK : CDL_E_SIGNATURE;
}

bool cdl_byron_header_signature_valid(const cdl_byron_header *h,
                                      uint32_t protocol_magic) {
  return cdl_byron_header_signature_check(h, protocol_magic) == CDL_OK;
}

int cdl_byron_block_check_signature(const cdl_byron_block *blk,
                                    uint32_t protocol_magic,
                                    cdl_byron_cert_cache *cache,
                                    cdl_error *err) {
  if (blk->is_ebb) return CDL_OK;
  const cdl_byron_header *h = &blk->header;
  if (memcmp(h->cert.issuer_pk, h->leader_key, 64) != 0)
    return cdl_error_set(err, CDL_E_CERTIFICATE, 0,
                         "the certificate's issuer is not the header's leader key");
  if (!cert_valid(&h->cert, protocol_magic, cache))
    return cdl_error_set(err, CDL_E_CERTIFICATE, 0,
                         "the delegation certificate's signature does not verify");
  int rc = cdl_byron_header_signature_check(h, protocol_magic);
  if (rc == CDL_E_NOMEM)
    return cdl_error_set(err, rc, 0, "out of memory checking the block signature");
  if (rc != CDL_OK)
    return cdl_error_set(err, CDL_E_SIGNATURE, 0,
                         "the block signature does not verify with the delegate key");
  return CDL_OK;
}
