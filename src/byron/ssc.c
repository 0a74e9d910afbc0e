/*
 * ssc.c: the shared-seed-computation payload of main blocks (docs/byron.md
 * section 1.4) and its proof.
 *   ssc = [0, commitments, certs] / [1, openings, certs]
 *       / [2, shares, certs]      / [3, certs]
 * Strictness follows cardano-ledger's Cardano.Chain.Ssc droppers: sets are
 * any tag plus a definite list, lists are indefinite, maps definite (key
 * order unchecked), records definite with exact sizes.
 *
 * Proof (cardano-sl Pos.Chain.Ssc.Proof.mkSscProof): the first hash is over
 * the primary item's bytes; the certificates hash is over a CBOR map from
 * stakeholder id (address hash of the signing key) to certificate, sorted
 * by id, because cardano-sl hashed the underlying HashMap, not the set.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* n items of a definite container, in an array that grows as they decode. */
static int read_items(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, byron_item_reader read,
                      size_t item_size, size_t n, void **items, size_t *count) {
  byron_vec v = {NULL, 0, 0, item_size};
  for (size_t i = 0; i < n; i++) {
    void *item = byron_vec_push(ctx->arena, &v);
    if (item == NULL) return cdl_cbor_fail(cur, CDL_E_NOMEM, "decoder memory bound reached");
    CDL_TRY(read(cur, ctx, item));
  }
  *items = v.items;
  *count = v.count;
  return CDL_OK;
}

/* A set as the reference's dropSet reads it: any tag, a definite list. */
static int read_set(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, byron_item_reader read,
                    size_t item_size, uint64_t *tag, void **items, size_t *count,
                    const char *what) {
  cdl_cbor_head h;
  size_t n;
  CDL_TRY(cdl_cbor_next(cur, &h));
  if (h.major != CDL_CBOR_TAG)
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected a tagged set", what);
  *tag = h.value;
  CDL_TRY(cdl_cbor_read_array(cur, &n, what));
  return read_items(cur, ctx, read, item_size, n, items, count);
}

/* A definite map (dropMap: key order unchecked); |read| reads one entry. */
static int read_map(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, byron_item_reader read,
                    size_t item_size, void **items, size_t *count, const char *what) {
  size_t n;
  CDL_TRY(cdl_cbor_read_map(cur, &n, what));
  return read_items(cur, ctx, read, item_size, n, items, count);
}

static int read_vss_cert(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_vss_cert *c = item;
  size_t start = cur->pos;
  (void)ctx;
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "VSS certificate"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->vss_key, "VSS key"));
  CDL_TRY(cdl_cbor_read_uint(cur, &c->expiry_epoch, "VSS expiry epoch"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->signature, "VSS signature"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->signing_key, "VSS signing key"));
  c->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

/* key bytes -> indefinite list of bytes */
static int read_keyed_shares(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_keyed_shares *k = item;
  CDL_TRY(cdl_cbor_read_bytes(cur, &k->key, "shares key"));
  return byron_bytes_list_read(cur, ctx, &k->shares, "shares");
}

static int read_commitment(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_ssc_commitment *c = item;
  size_t start = cur->pos;
  CDL_TRY(cdl_cbor_expect_array(cur, 3, "signed commitment"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->public_key, "commitment key"));
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "commitment"));
  CDL_TRY(read_map(cur, ctx, read_keyed_shares, sizeof *c->shares, (void **)&c->shares,
                   &c->n_shares, "commitment shares"));
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "secret proof"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->proof_extra_gen, "secret proof"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->proof_proof, "secret proof"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->proof_parallel, "secret proof"));
  CDL_TRY(byron_bytes_list_read(cur, ctx, &c->proof_commitments, "secret proof commitments"));
  CDL_TRY(cdl_cbor_read_bytes(cur, &c->signature, "commitment signature"));
  c->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

static int read_opening(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_ssc_opening *o = item;
  (void)ctx;
  CDL_TRY(cdl_cbor_read_bytes(cur, &o->stakeholder, "opening key"));
  return cdl_cbor_read_bytes(cur, &o->secret, "opening");
}

static int read_shares_entry(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item) {
  cdl_byron_ssc_shares *s = item;
  CDL_TRY(cdl_cbor_read_bytes(cur, &s->stakeholder, "shares key"));
  return read_map(cur, ctx, read_keyed_shares, sizeof *s->inner, (void **)&s->inner,
                  &s->n_inner, "inner shares");
}

static int read_primary(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_ssc *ssc) {
  switch (ssc->tag) {
    case CDL_BYRON_SSC_COMMITMENTS:
      return read_set(cur, ctx, read_commitment, sizeof *ssc->commitments,
                      &ssc->commitments_set_tag, (void **)&ssc->commitments,
                      &ssc->n_commitments, "commitments");
    case CDL_BYRON_SSC_OPENINGS:
      return read_map(cur, ctx, read_opening, sizeof *ssc->openings,
                      (void **)&ssc->openings, &ssc->n_openings, "openings");
    case CDL_BYRON_SSC_SHARES:
      return read_map(cur, ctx, read_shares_entry, sizeof *ssc->shares,
                      (void **)&ssc->shares, &ssc->n_shares, "shares");
    default:
      return CDL_OK;
  }
}

int cdl_byron_ssc_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                       cdl_byron_ssc *ssc) {
  size_t start = cur->pos, n, primary;
  uint8_t tag;
  memset(ssc, 0, sizeof *ssc);
  CDL_TRY(cdl_cbor_read_array(cur, &n, "SSC payload"));
  CDL_TRY(byron_read_u8(cur, &tag, "SSC payload tag"));
  if (tag > CDL_BYRON_SSC_CERTIFICATES)
    return cdl_cbor_fail(cur, CDL_E_TAG, "SSC payload: unknown tag %u", tag);
  if (n != (tag == CDL_BYRON_SSC_CERTIFICATES ? 2u : 3u))
    return cdl_cbor_fail(cur, CDL_E_TYPE, "SSC payload %u: wrong length %zu", tag, n);
  ssc->tag = tag;
  primary = cur->pos;
  CDL_TRY(read_primary(cur, ctx, ssc));
  ssc->primary_raw = cdl_cbor_span_since(cur, primary);
  CDL_TRY(read_set(cur, ctx, read_vss_cert, sizeof *ssc->certs, &ssc->certs_set_tag,
                   (void **)&ssc->certs, &ssc->n_certs, "VSS certificates"));
  ssc->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

/* ---- Encoding ---- */

static void encode_bytes(cdl_buf *b, cdl_span s) { cdl_cbor_enc_bytes(b, s.ptr, s.len); }

static void encode_keyed_shares(cdl_buf *b, const cdl_byron_keyed_shares *k, size_t n) {
  cdl_cbor_enc_map(b, n);
  for (size_t i = 0; i < n; i++) {
    encode_bytes(b, k[i].key);
    byron_bytes_list_encode(b, &k[i].shares);
  }
}

static void encode_commitment(cdl_buf *b, const cdl_byron_ssc_commitment *c) {
  cdl_cbor_enc_array(b, 3);
  encode_bytes(b, c->public_key);
  cdl_cbor_enc_array(b, 2);
  encode_keyed_shares(b, c->shares, c->n_shares);
  cdl_cbor_enc_array(b, 4);
  encode_bytes(b, c->proof_extra_gen);
  encode_bytes(b, c->proof_proof);
  encode_bytes(b, c->proof_parallel);
  byron_bytes_list_encode(b, &c->proof_commitments);
  encode_bytes(b, c->signature);
}

static void encode_primary(cdl_buf *b, const cdl_byron_ssc *ssc) {
  if (ssc->tag == CDL_BYRON_SSC_COMMITMENTS) {
    cdl_cbor_enc_tag(b, ssc->commitments_set_tag);
    cdl_cbor_enc_array(b, ssc->n_commitments);
    for (size_t i = 0; i < ssc->n_commitments; i++) encode_commitment(b, &ssc->commitments[i]);
  } else if (ssc->tag == CDL_BYRON_SSC_OPENINGS) {
    cdl_cbor_enc_map(b, ssc->n_openings);
    for (size_t i = 0; i < ssc->n_openings; i++) {
      encode_bytes(b, ssc->openings[i].stakeholder);
      encode_bytes(b, ssc->openings[i].secret);
    }
  } else if (ssc->tag == CDL_BYRON_SSC_SHARES) {
    cdl_cbor_enc_map(b, ssc->n_shares);
    for (size_t i = 0; i < ssc->n_shares; i++) {
      const cdl_byron_ssc_shares *s = &ssc->shares[i];
      encode_bytes(b, s->stakeholder);
      encode_keyed_shares(b, s->inner, s->n_inner);
    }
  }
}

void cdl_byron_ssc_encode(cdl_buf *b, const cdl_byron_ssc *ssc) {
  cdl_cbor_enc_array(b, ssc->tag == CDL_BYRON_SSC_CERTIFICATES ? 2 : 3);
  cdl_cbor_enc_uint(b, ssc->tag);
  encode_primary(b, ssc);
  cdl_cbor_enc_tag(b, ssc->certs_set_tag);
  cdl_cbor_enc_array(b, ssc->n_certs);
  for (size_t i = 0; i < ssc->n_certs; i++) {
    const cdl_byron_vss_cert *c = &ssc->certs[i];
    cdl_cbor_enc_array(b, 4);
    encode_bytes(b, c->vss_key);
    cdl_cbor_enc_uint(b, c->expiry_epoch);
    encode_bytes(b, c->signature);
    encode_bytes(b, c->signing_key);
  }
}

/* ---- Proof ---- */

typedef struct {
  uint8_t id[28];
  const cdl_byron_vss_cert *cert;
} keyed_cert;

static int compare_keyed(const void *a, const void *b) {
  return memcmp(((const keyed_cert *)a)->id, ((const keyed_cert *)b)->id, 28);
}

int cdl_byron_ssc_proof(const cdl_byron_ssc *ssc, cdl_arena *arena,
                        uint8_t h1[32], uint8_t certs_hash[32]) {
  if (ssc->tag != CDL_BYRON_SSC_CERTIFICATES)
    byron_hash(ssc->primary_raw.ptr, ssc->primary_raw.len, h1);
  if (ssc->n_certs == 0) {
    static const uint8_t empty_map = 0xa0;
    byron_hash(&empty_map, 1, certs_hash);
    return CDL_OK;
  }
  keyed_cert *keyed = cdl_arena_calloc(arena, ssc->n_certs, sizeof *keyed);
  if (keyed == NULL && ssc->n_certs > 0) return CDL_E_NOMEM; /* the caller reports it */
  for (size_t i = 0; i < ssc->n_certs; i++) {
    uint8_t storage[80];
    cdl_buf enc;
    cdl_buf_init_fixed(&enc, storage, sizeof storage);
    encode_bytes(&enc, ssc->certs[i].signing_key);
    if (enc.failed) return CDL_E_RANGE; /* not a real key: no such id */
    cdl_address_hash(keyed[i].id, enc.data, enc.len);
    keyed[i].cert = &ssc->certs[i];
  }
  if (ssc->n_certs > 1) qsort(keyed, ssc->n_certs, sizeof *keyed, compare_keyed);
  uint8_t head[9];
  cdl_buf hb;
  cdl_buf_init_fixed(&hb, head, sizeof head);
  cdl_cbor_enc_map(&hb, ssc->n_certs);
  cdl_blake2b h;
  cdl_blake2b_256_init(&h);
  cdl_blake2b_update(&h, hb.data, hb.len);
  for (size_t i = 0; i < ssc->n_certs; i++) {
    static const uint8_t key_head[2] = {0x58, 0x1c};
    cdl_blake2b_update(&h, key_head, 2);
    cdl_blake2b_update(&h, keyed[i].id, 28);
    cdl_blake2b_update(&h, keyed[i].cert->raw.ptr, keyed[i].cert->raw.len);
  }
  cdl_blake2b_256_final(&h, certs_hash);
  return CDL_OK;
}
