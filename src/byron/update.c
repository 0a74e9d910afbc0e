/*
 * update.c: update proposals and votes (docs/byron.md section 1.10):
 *   proposal = [blockVersion, bvermod(14 Maybe fields), softwareVersion,
 *               {* systemTag => [h, h, h, h]}, attributes, issuer, signature]
 *   vote     = [voter, proposalId, decision, signature]
 * A Maybe is encoded as [] or [x]. The proposal id is Blake2b-256 of the
 * proposal's original bytes; its signature covers the first five fields.
 */
#include <string.h>

#include "internal.h"

/* Maybe x: a definite list of length 0 or 1. Returns whether x follows. */
static int read_maybe(cdl_cbor_cursor *cur, bool *present, const char *what) {
  size_t n;
  CDL_TRY(cdl_cbor_read_array(cur, &n, what));
  if (n > 1) return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: Maybe list of length %zu", what, n);
  *present = n == 1;
  return CDL_OK;
}

/* Haskell Natural: a uint or a tag-2 bignum. */
static int read_natural(cdl_cbor_cursor *cur, cdl_byron_opt_u64 *f, const char *what) {
  cdl_cbor_head h;
  CDL_TRY(cdl_cbor_peek(cur, &h));
  if (h.major != CDL_CBOR_TAG) return cdl_cbor_read_uint(cur, &f->value, what);
  CDL_TRY(cdl_cbor_read_tag(cur, 2, what));
  CDL_TRY(cdl_cbor_read_bytes(cur, &f->big, what));
  f->is_bignum = true;
  size_t lead = 0;
  while (lead < f->big.len && f->big.ptr[lead] == 0) lead++;
  f->value = 0;
  if (f->big.len - lead > 8) {
    f->value = UINT64_MAX;
    return CDL_OK;
  }
  for (size_t i = lead; i < f->big.len; i++) f->value = f->value << 8 | f->big.ptr[i];
  return CDL_OK;
}

static void encode_natural(cdl_buf *b, const cdl_byron_opt_u64 *f) {
  if (f->is_bignum) {
    cdl_cbor_enc_tag(b, 2);
    cdl_cbor_enc_bytes(b, f->big.ptr, f->big.len);
  } else {
    cdl_cbor_enc_uint(b, f->value);
  }
}

/* Fields 1-5 are Natural, the others Word16/Word64 (docs/byron.md 1.10). */
static bool field_is_natural(unsigned i) {
  return i >= CDL_BYRON_PP_SLOT_DURATION && i <= CDL_BYRON_PP_MAX_PROPOSAL_SIZE;
}

/* A LovelacePortion: a Word64 numerator over 10^15, at most 10^15. */
static int read_portion(cdl_cbor_cursor *cur, uint64_t *out, const char *what) {
  return cdl_cbor_read_uint_max(cur, CDL_BYRON_PORTION_DENOMINATOR, out, what);
}

static int read_fee_policy(cdl_cbor_cursor *cur, cdl_byron_param_update *u) {
  uint8_t tag;
  cdl_span payload;
  CDL_TRY(cdl_cbor_expect_array(cur, 2, "fee policy"));
  CDL_TRY(byron_read_u8(cur, &tag, "fee policy tag"));
  if (tag != 0) return cdl_cbor_fail(cur, CDL_E_TAG, "fee policy: unknown tag %u", tag);
  CDL_TRY(cdl_cbor_read_tag24(cur, &payload, "fee policy"));
  cdl_cbor_cursor inner;
  cdl_cbor_cursor_sub(&inner, cur, payload);
  CDL_TRY(cdl_cbor_expect_array(&inner, 2, "fee policy"));
  size_t at = inner.pos;
  CDL_TRY(byron_integer_read(&inner, &u->fee_summand_nano, "fee summand"));
  if (!byron_fee_summand_ok(&u->fee_summand_nano)) {
    inner.pos = at;
    return cdl_cbor_fail(&inner, CDL_E_RANGE, "fee summand is not a lovelace amount");
  }
  CDL_TRY(byron_integer_read(&inner, &u->fee_multiplier_nano, "fee multiplier"));
  u->has_fee_policy = true;
  return cdl_cbor_expect_end(&inner, "fee policy");
}

static int read_param_scalar(cdl_cbor_cursor *cur, unsigned i, cdl_byron_opt_u64 *f) {
  bool present = false;
  CDL_TRY(read_maybe(cur, &present, "parameter update field"));
  if (!present) return CDL_OK;
  f->present = true;
  if (field_is_natural(i)) return read_natural(cur, f, "parameter update field");
  if (i >= CDL_BYRON_PP_MPC_THD && i <= CDL_BYRON_PP_UPDATE_PROPOSAL_THD)
    return read_portion(cur, &f->value, "parameter update threshold");
  uint64_t max = i == CDL_BYRON_PP_SCRIPT_VERSION ? UINT16_MAX : UINT64_MAX;
  return cdl_cbor_read_uint_max(cur, max, &f->value, "parameter update field");
}

static int read_param_update(cdl_cbor_cursor *cur, cdl_byron_param_update *u) {
  size_t start = cur->pos;
  bool present = false;
  CDL_TRY(cdl_cbor_expect_array(cur, 14, "parameter update"));
  for (unsigned i = 0; i < CDL_BYRON_PP_COUNT_SCALAR; i++)
    CDL_TRY(read_param_scalar(cur, i, &u->scalar[i]));
  CDL_TRY(read_maybe(cur, &present, "softfork rule"));
  if (present) {
    CDL_TRY(cdl_cbor_expect_array(cur, 3, "softfork rule"));
    CDL_TRY(read_portion(cur, &u->softfork_init, "softfork init threshold"));
    CDL_TRY(read_portion(cur, &u->softfork_min, "softfork min threshold"));
    CDL_TRY(read_portion(cur, &u->softfork_decrement, "softfork decrement"));
    u->has_softfork_rule = true;
  }
  CDL_TRY(read_maybe(cur, &present, "fee policy"));
  if (present) CDL_TRY(read_fee_policy(cur, u));
  CDL_TRY(read_maybe(cur, &present, "unlock stake epoch"));
  if (present) {
    u->unlock_stake_epoch.present = true;
    CDL_TRY(cdl_cbor_read_uint(cur, &u->unlock_stake_epoch.value, "unlock stake epoch"));
  }
  u->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

static int read_metadata(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_proposal *p) {
  size_t n;
  CDL_TRY(cdl_cbor_read_map(cur, &n, "proposal metadata"));
  if (n > cdl_cbor_remaining(cur) / 8)
    return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "proposal metadata longer than the input");
  BYRON_ALLOC(ctx, cur, p->metadata, n);
  for (size_t i = 0; i < n; i++) {
    cdl_byron_update_data *d = &p->metadata[i];
    CDL_TRY(cdl_cbor_read_text(cur, &d->system_tag, "system tag"));
    if (i > 0) {
      cdl_span prev = p->metadata[i - 1].system_tag;
      size_t m = prev.len < d->system_tag.len ? prev.len : d->system_tag.len;
      int c = memcmp(prev.ptr, d->system_tag.ptr, m);
      if (c > 0 || (c == 0 && prev.len >= d->system_tag.len))
        return cdl_cbor_fail(cur, CDL_E_MAP_ORDER,
                             "proposal metadata: keys not strictly ascending");
    }
    CDL_TRY(cdl_cbor_expect_array(cur, 4, "update data"));
    for (int k = 0; k < 4; k++)
      CDL_TRY(cdl_cbor_read_bytes(cur, &d->hashes[k], "update data hash"));
    if (d->hashes[1].len != 32)
      return cdl_cbor_fail(cur, CDL_E_RANGE, "installer hash is not 32 bytes");
  }
  p->n_metadata = n;
  return CDL_OK;
}

int cdl_byron_proposal_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, cdl_byron_proposal *p) {
  size_t start = cur->pos, fields_start;
  memset(p, 0, sizeof *p);
  CDL_TRY(cdl_cbor_expect_array(cur, 7, "update proposal"));
  fields_start = cur->pos;
  CDL_TRY(byron_version_read(cur, &p->block_version));
  CDL_TRY(read_param_update(cur, &p->params));
  CDL_TRY(byron_software_version_read(cur, &p->software_version));
  CDL_TRY(read_metadata(cur, ctx, p));
  CDL_TRY(byron_attrs_read(cur, ctx, ATTRS_EMPTY, &p->attrs, "proposal attributes"));
  p->signed_fields = cdl_cbor_span_since(cur, fields_start);
  CDL_TRY(byron_read_xpub(cur, &p->issuer, "proposal issuer"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 64, &p->signature, "proposal signature"));
  p->raw = cdl_cbor_span_since(cur, start);
  cdl_blake2b_256(p->id, p->raw.ptr, p->raw.len);
  return CDL_OK;
}

int cdl_byron_vote_read(cdl_cbor_cursor *cur, cdl_byron_vote *v) {
  size_t start = cur->pos, id_start;
  memset(v, 0, sizeof *v);
  CDL_TRY(cdl_cbor_expect_array(cur, 4, "update vote"));
  CDL_TRY(byron_read_xpub(cur, &v->voter, "vote voter"));
  id_start = cur->pos;
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 32, &v->proposal_id, "vote proposal id"));
  v->proposal_id_raw = cdl_cbor_span_since(cur, id_start);
  CDL_TRY(cdl_cbor_read_bool(cur, &v->decision, "vote decision"));
  CDL_TRY(cdl_cbor_read_bytes_fixed(cur, 64, &v->signature, "vote signature"));
  v->raw = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

/* ---- Encoding ---- */

/* TxFeePolicy: [0, #6.24(bytes [summand, multiplier])]. The inner
 * array is written in place and wrapped (cdl_cbor_enc_wrap_bytes) once
 * the caller has put the two integers: their offset is returned. */
static size_t fee_policy_open(cdl_buf *b) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_tag(b, 24);
  size_t start = b->len;
  cdl_cbor_enc_array(b, 2);
  return start;
}

void cdl_byron_params_encode(cdl_buf *b, const cdl_byron_protocol_params *pp) {
  const uint64_t head[] = {
      pp->script_version,  pp->slot_duration_ms,    pp->max_block_size, pp->max_header_size,
      pp->max_tx_size,     pp->max_proposal_size,   pp->mpc_thd,        pp->heavy_del_thd,
      pp->update_vote_thd, pp->update_proposal_thd, pp->update_implicit};
  cdl_cbor_enc_array(b, 14);
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) cdl_cbor_enc_uint(b, head[i]);
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, pp->softfork_init);
  cdl_cbor_enc_uint(b, pp->softfork_min);
  cdl_cbor_enc_uint(b, pp->softfork_decrement);
  size_t start = fee_policy_open(b);
  cdl_cbor_enc_uint(b, pp->fee_summand_nano);
  cdl_cbor_enc_uint(b, pp->fee_multiplier_nano);
  cdl_cbor_enc_wrap_bytes(b, start);
  cdl_cbor_enc_uint(b, pp->unlock_stake_epoch);
}

static void encode_param_update(cdl_buf *b, const cdl_byron_param_update *u) {
  cdl_cbor_enc_array(b, 14);
  for (unsigned i = 0; i < CDL_BYRON_PP_COUNT_SCALAR; i++) {
    const cdl_byron_opt_u64 *f = &u->scalar[i];
    cdl_cbor_enc_array(b, f->present ? 1 : 0);
    if (f->present) encode_natural(b, f);
  }
  cdl_cbor_enc_array(b, u->has_softfork_rule ? 1 : 0);
  if (u->has_softfork_rule) {
    cdl_cbor_enc_array(b, 3);
    cdl_cbor_enc_uint(b, u->softfork_init);
    cdl_cbor_enc_uint(b, u->softfork_min);
    cdl_cbor_enc_uint(b, u->softfork_decrement);
  }
  cdl_cbor_enc_array(b, u->has_fee_policy ? 1 : 0);
  if (u->has_fee_policy) {
    size_t start = fee_policy_open(b);
    byron_integer_encode(b, &u->fee_summand_nano);
    byron_integer_encode(b, &u->fee_multiplier_nano);
    cdl_cbor_enc_wrap_bytes(b, start);
  }
  cdl_cbor_enc_array(b, u->unlock_stake_epoch.present ? 1 : 0);
  if (u->unlock_stake_epoch.present) cdl_cbor_enc_uint(b, u->unlock_stake_epoch.value);
}

void cdl_byron_proposal_encode(cdl_buf *b, const cdl_byron_proposal *p) {
  cdl_cbor_enc_array(b, 7);
  cdl_byron_version_encode(b, &p->block_version);
  encode_param_update(b, &p->params);
  byron_software_version_encode(b, &p->software_version);
  cdl_cbor_enc_map(b, p->n_metadata);
  for (size_t i = 0; i < p->n_metadata; i++) {
    const cdl_byron_update_data *d = &p->metadata[i];
    cdl_cbor_enc_text(b, d->system_tag.ptr, d->system_tag.len);
    cdl_cbor_enc_array(b, 4);
    for (int k = 0; k < 4; k++) cdl_cbor_enc_bytes(b, d->hashes[k].ptr, d->hashes[k].len);
  }
  cdl_byron_attrs_encode(b, &p->attrs);
  cdl_cbor_enc_bytes(b, p->issuer, 64);
  cdl_cbor_enc_bytes(b, p->signature, 64);
}

void cdl_byron_vote_encode(cdl_buf *b, const cdl_byron_vote *v) {
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_bytes(b, v->voter, 64);
  cdl_cbor_enc_bytes(b, v->proposal_id, 32);
  cdl_cbor_enc_bool(b, v->decision);
  cdl_cbor_enc_bytes(b, v->signature, 64);
}
