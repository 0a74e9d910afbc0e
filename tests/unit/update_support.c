/*
 * update_support.c: signed update proposals and votes for the ledger
 * tests (update_support.h; docs/byron.md 1.10 and 3.2).
 */
#include "update_support.h"

#include <string.h>

static const uint32_t MAGIC = CDL_BYRON_MAINNET_MAGIC;

reforge rf;

int rf_group_setup(void **state) {
  test_group_setup(state);
  reforge_init(&rf, 0);
  return 0;
}

int rf_group_teardown(void **state) {
  (void)state;
  reforge_free(&rf);
  return 0;
}

static void encode_fee_policy(cdl_buf *b, const proposal_spec *s) {
  cdl_buf inner;
  cdl_buf_init(&inner, 0);
  cdl_cbor_enc_array(&inner, 2);
  cdl_cbor_enc_uint(&inner, s->fee_summand_nano);
  cdl_cbor_enc_uint(&inner, s->fee_multiplier_nano);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 0);
  cdl_cbor_enc_tag(b, 24);
  cdl_cbor_enc_bytes(b, inner.data, inner.len);
  cdl_buf_free(&inner);
}

static void encode_params(cdl_buf *b, const proposal_spec *s) {
  cdl_cbor_enc_array(b, 14);
  for (int i = 0; i < 14; i++) {
    bool fee = i == 12 && s->fee_policy;
    cdl_cbor_enc_array(b, i == s->param || fee ? 1 : 0);
    if (i == s->param)
      cdl_cbor_enc_uint(b, s->value);
    if (fee)
      encode_fee_policy(b, s);
  }
}

static void encode_metadata_entry(cdl_buf *b, const char *tag, const uint8_t *first,
                                  size_t first_len, const uint8_t installer[32]) {
  cdl_cbor_enc_text(b, (const uint8_t *)tag, strlen(tag));
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_bytes(b, first, first_len);
  cdl_cbor_enc_bytes(b, installer, 32);
  cdl_cbor_enc_bytes(b, first, 0), cdl_cbor_enc_bytes(b, first, 0);
}

static void encode_fields(cdl_buf *b, const proposal_spec *s) {
  static uint8_t filler[1024];
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, s->pv.major), cdl_cbor_enc_uint(b, s->pv.minor);
  cdl_cbor_enc_uint(b, s->pv.alt);
  encode_params(b, s);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_text(b, (const uint8_t *)s->app, strlen(s->app));
  cdl_cbor_enc_uint(b, s->app_version);
  cdl_cbor_enc_map(b, (s->metadata_bytes ? 1 : 0) + s->n_metadata);
  if (s->metadata_bytes)
    encode_metadata_entry(b, "linux", filler, s->metadata_bytes, filler);
  for (size_t i = 0; i < s->n_metadata; i++)
    encode_metadata_entry(b, s->metadata[i].tag, filler, 0, s->metadata[i].installer);
  cdl_cbor_enc_map(b, 0);
}

void make_proposal(const proposal_spec *s, cdl_buf *bytes, test_ctx *t, cdl_byron_proposal *p) {
  cdl_buf fields, msg;
  cdl_buf_init(&fields, 0), cdl_buf_init(&msg, 0);
  encode_fields(&fields, s);
  uint8_t pm[9], sig[64];
  size_t n = cdl_byron_magic_cbor(MAGIC, pm);
  cdl_buf_append_byte(&msg, 0x04);
  cdl_buf_append(&msg, pm, n);
  cdl_buf_append_byte(&msg, 0x85);
  cdl_buf_append(&msg, fields.data, fields.len);
  test_key_sign(s->issuer, msg.data, msg.len, sig);
  cdl_buf_init(bytes, 0);
  cdl_cbor_enc_array(bytes, 7);
  cdl_buf_append(bytes, fields.data, fields.len);
  cdl_cbor_enc_bytes(bytes, s->issuer->xpub, 64);
  cdl_cbor_enc_bytes(bytes, sig, 64);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, bytes->data, bytes->len, &t->err);
  assert_int_equal(cdl_byron_proposal_read(&cur, &t->ctx, p), CDL_OK);
  cdl_buf_free(&fields), cdl_buf_free(&msg);
}

void make_vote(owned_vote *o, const test_key *voter, const uint8_t id[32]) {
  uint8_t pm[9];
  size_t n = cdl_byron_magic_cbor(MAGIC, pm);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  cdl_buf_append_byte(&msg, 0x06);
  cdl_buf_append(&msg, pm, n);
  cdl_buf_append_byte(&msg, 0x82);
  cdl_cbor_enc_bytes(&msg, id, 32);
  cdl_buf_append_byte(&msg, 0xf5);
  test_key_sign(voter, msg.data, msg.len, o->sig);
  cdl_buf_free(&msg);
  memcpy(o->id, id, 32);
  o->id_raw[0] = 0x58, o->id_raw[1] = 0x20;
  memcpy(o->id_raw + 2, id, 32);
  o->v = (cdl_byron_vote){.voter = voter->xpub,
                          .proposal_id = o->id,
                          .proposal_id_raw = cdl_span_of(o->id_raw, 34),
                          .decision = true,
                          .signature = o->sig};
}
