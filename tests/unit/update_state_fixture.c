/*
 * update_state_fixture.c: see update_state_fixture.h.
 */
#include "update_state_fixture.h"

#include <string.h>

#include "support.h"

const cdl_byron_protocol_params UPD_FIXTURE_PP = {0,
                                                  7000,
                                                  2000000,
                                                  2000000,
                                                  8192,
                                                  700,
                                                  20000000000000ull,
                                                  5000000000000ull,
                                                  1000000000000ull,
                                                  100000000000000ull,
                                                  10000,
                                                  900000000000000ull,
                                                  600000000000000ull,
                                                  50000000000000ull,
                                                  155381000000000ull,
                                                  43946000000ull,
                                                  UINT64_MAX};

const uint8_t UPD_ID1[32] = {1}, UPD_ID2[32] = {2}, UPD_KH1[28] = {0x11}, UPD_KH2[28] = {0x22},
              UPD_KH3[28] = {0x33}, UPD_INSTALLER[32] = {0x44};

static void text(cdl_buf *b, const char *s) { cdl_cbor_enc_text(b, (const uint8_t *)s, strlen(s)); }

/* UPD_INSTALLER as an InstallerHash: [H(00), installer, H(00), H(00)]. */
static void installer_hash(cdl_buf *b) {
  static const uint8_t zero = 0;
  uint8_t empty[32];
  cdl_blake2b_256(empty, &zero, 1);
  cdl_cbor_enc_array(b, 4);
  cdl_cbor_enc_bytes(b, empty, 32), cdl_cbor_enc_bytes(b, UPD_INSTALLER, 32);
  cdl_cbor_enc_bytes(b, empty, 32), cdl_cbor_enc_bytes(b, empty, 32);
}

static void version(cdl_buf *b, uint16_t major) {
  cdl_byron_version v = {major, 0, 0};
  cdl_byron_version_encode(b, &v);
}

static void params(cdl_buf *b, const cdl_byron_protocol_params *pp, upd_mutation m) {
  size_t start = b->len;
  cdl_byron_params_encode(b, pp);
  if (m != UPD_FEE_KIND_1)
    return;
  /* The fee policy [0, #6.24(...)] follows the 3-element softfork rule. */
  for (size_t i = start; i + 2 < b->len; i++)
    if (b->data[i] == 0x82 && b->data[i + 1] == 0x00 && b->data[i + 2] == 0xd8) {
      b->data[i + 1] = 0x01;
      return;
    }
  fail_msg("no fee policy found");
}

static void key_hash_set(cdl_buf *b, upd_mutation m) {
  if (m != UPD_VOTES_UNTAGGED)
    cdl_cbor_enc_tag(b, 258);
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_bytes(b, UPD_KH1, 28);
  cdl_cbor_enc_bytes(b, UPD_KH2, 28);
  cdl_cbor_enc_bytes(b, UPD_KH3, 28);
}

void update_state_fixture(cdl_buf *b, upd_mutation m) {
  cdl_byron_protocol_params pp2 = UPD_FIXTURE_PP;
  pp2.max_tx_size = 16384;
  cdl_cbor_enc_array(b, m == UPD_TWELVE_FIELDS ? 12 : 11);
  cdl_cbor_enc_uint(b, 3);
  version(b, 0);
  params(b, &UPD_FIXTURE_PP, m);
  cdl_cbor_enc_indef_array(b); /* candidates */
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, 120);
  version(b, 1);
  params(b, &pp2, UPD_GOOD);
  cdl_cbor_enc_break(b);
  cdl_cbor_enc_map(b, 1); /* application versions */
  text(b, m == UPD_LONG_NAME ? "an-application-name-longer-than-sixty-four-bytes-is-refused-here!"
                             : "cardano-sl");
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, 1);
  cdl_cbor_enc_uint(b, 50);
  cdl_cbor_enc_map(b, 1);
  text(b, "linux");
  installer_hash(b);
  cdl_cbor_enc_map(b, m == UPD_HUGE_MAP ? 2000 : 1); /* protocol proposals */
  cdl_cbor_enc_bytes(b, UPD_ID1, m == UPD_SHORT_ID ? 31 : 32);
  cdl_cbor_enc_array(b, 2);
  version(b, 1);
  params(b, &pp2, UPD_GOOD);
  cdl_cbor_enc_map(b, 1); /* software proposals */
  cdl_cbor_enc_bytes(b, UPD_ID2, 32);
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_array(b, 2);
  text(b, "cardinal");
  cdl_cbor_enc_uint(b, 2);
  cdl_cbor_enc_map(b, 0);
  cdl_cbor_enc_map(b, 1); /* confirmed */
  cdl_cbor_enc_bytes(b, UPD_ID1, 32);
  cdl_cbor_enc_uint(b, 77);
  cdl_cbor_enc_map(b, 1); /* votes */
  cdl_cbor_enc_bytes(b, UPD_ID1, 32);
  key_hash_set(b, m);
  cdl_cbor_enc_tag(b, 258); /* endorsements */
  cdl_cbor_enc_array(b, 2);
  const uint8_t *endorsers[] = {UPD_KH1, UPD_KH2};
  for (size_t i = 0; i < 2; i++) {
    cdl_cbor_enc_array(b, 2);
    version(b, 1);
    cdl_cbor_enc_bytes(b, endorsers[i], 28);
  }
  cdl_cbor_enc_map(b, 2); /* registration slots */
  cdl_cbor_enc_bytes(b, UPD_ID1, 32);
  cdl_cbor_enc_uint(b, 60);
  cdl_cbor_enc_bytes(b, UPD_ID2, 32);
  cdl_cbor_enc_uint(b, 61);
  if (m == UPD_TWELVE_FIELDS || m == UPD_TRAILING)
    cdl_cbor_enc_uint(b, 0);
  assert_int_equal(cdl_cbor_enc_status(b), CDL_OK);
}
