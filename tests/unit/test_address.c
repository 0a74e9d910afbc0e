/*
 * test_address.c: Byron addresses (docs/byron.md 1.6) against cardano-sl and
 * cardano-ledger goldens, daedalus-turbo key/address pairs, Base58 strings
 * stated valid or invalid by pallas and cardano-addresses, and the AVVM
 * redeem-address derivation of the mainnet genesis.
 */
#include <stdio.h>
#include <string.h>

#include "support.h"

static void decode_base58(const char *text, test_ctx *t, cdl_buf *bytes,
                          cdl_byron_address *addr, int expect) {
  cdl_buf_init(bytes, 0);
  int rc = cdl_byron_address_from_base58(text, bytes, &t->ctx, addr);
  if (rc != expect) fail_msg("%s: got %d (%s), want %d", text, rc, t->err.message, expect);
}

static void assert_reencodes(const cdl_byron_address *addr) {
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_byron_address_encode(&b, addr);
  assert_int_equal(b.len, addr->raw.len);
  assert_memory_equal(b.data, addr->raw.ptr, b.len);
  cdl_buf_free(&b);
}

/* cardano-sl's five example addresses: binary golden, Base58 golden. The
 * script (1) and unknown-type (7) ones decode only in the legacy grammar:
 * today's ledger decoder knows types 0 and 2. */
static void test_cardano_sl_goldens(void **state) {
  (void)state;
  static const uint64_t types[5] = {0, 0, 2, 1, 7};
  for (int i = 0; i < 5; i++) {
    char rel[96], json[512];
    cdl_buf bin, text, b58;
    test_ctx t;
    cdl_byron_address addr;
    test_ctx_init(&t, 0);
    snprintf(rel, sizeof rel, "crypto/cardano-sl-address-golden/bi/Address%d", i);
    vec_read_golden(rel, &bin);
    assert_int_equal(cdl_byron_address_decode(bin.data, bin.len, &t.ctx, &addr),
                     types[i] == 0 || types[i] == 2 ? CDL_OK : CDL_E_TAG);
    cdl_buf_free(&bin), test_ctx_free(&t);
    test_ctx_init(&t, CDL_BYRON_LEGACY);
    snprintf(rel, sizeof rel, "crypto/cardano-sl-address-golden/bi/Address%d", i);
    vec_read_golden(rel, &bin);
    snprintf(rel, sizeof rel, "crypto/cardano-sl-address-golden/json/Address%d", i);
    vec_read(rel, &text);
    assert_int_equal(sscanf((const char *)text.data, "\"%511[^\"]\"", json), 1);
    assert_int_equal(cdl_byron_address_decode(bin.data, bin.len, &t.ctx, &addr), CDL_OK);
    assert_int_equal(addr.type, types[i]);
    char back[512];
    assert_true(cdl_byron_address_to_base58(addr.raw, back, sizeof back) > 0);
    assert_string_equal(back, json);
    assert_reencodes(&addr);
    decode_base58(json, &t, &b58, &addr, CDL_OK);
    assert_int_equal(addr.raw.len, bin.len);
    cdl_buf_free(&bin), cdl_buf_free(&text), cdl_buf_free(&b58), test_ctx_free(&t);
  }
}

static void test_cardano_ledger_goldens(void **state) {
  (void)state;
  static const char *names[] = {"Address", "Address0", "Address1", "Address2", "Address3",
                                "Address4"};
  for (size_t i = 0; i < 6; i++) {
    char rel[128];
    cdl_buf bin;
    test_ctx t;
    cdl_byron_address addr;
    test_ctx_init(&t, 0);
    snprintf(rel, sizeof rel, "golden/cardano-ledger-byron/ledger/impl/cbor/common/%s", names[i]);
    vec_read_golden(rel, &bin);
    if (cdl_byron_address_decode(bin.data, bin.len, &t.ctx, &addr) != CDL_OK)
      fail_msg("%s: %s", names[i], t.err.message);
    assert_reencodes(&addr);
    cdl_buf_free(&bin), test_ctx_free(&t);
  }
}

/* Wraps an address payload [root, attrs, type] into a full address. */
static void wrap_payload(const cdl_buf *payload, cdl_buf *out) {
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_tag(out, 24);
  cdl_cbor_enc_bytes(out, payload->data, payload->len);
  cdl_cbor_enc_uint(out, cdl_crc32(payload->data, payload->len));
}

/* daedalus-turbo: each key hashes to its address's root. */
static void check_key_matches(const char *addr_file, const uint8_t *key, size_t key_len) {
  cdl_buf raw, full;
  test_ctx t;
  cdl_byron_address addr;
  uint8_t root[28];
  test_ctx_init(&t, 0);
  vec_read_hex(addr_file, &raw);
  if (raw.data[0] == 0x83) wrap_payload(&raw, &full);
  else full = raw, cdl_buf_init(&raw, 0);
  assert_int_equal(cdl_byron_address_decode(full.data, full.len, &t.ctx, &addr), CDL_OK);
  cdl_byron_address_root(addr.type, key, key_len, addr.attrs.raw, root);
  assert_memory_equal(root, addr.root, 28);
  root[0] ^= 1; /* and a different key does not */
  uint8_t other[64];
  memcpy(other, key, key_len);
  other[5] ^= 1;
  cdl_byron_address_root(addr.type, other, key_len, addr.attrs.raw, root);
  assert_memory_not_equal(root, addr.root, 28);
  cdl_buf_free(&raw), cdl_buf_free(&full), test_ctx_free(&t);
}

static void test_key_binds_address(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++) {
    char a[96], k[96];
    cdl_buf key;
    snprintf(a, sizeof a, "crypto/daedalus-turbo-byron-addr/vk-%d.addr.hex", i);
    snprintf(k, sizeof k, "crypto/daedalus-turbo-byron-addr/vk-%d.vk.hex", i);
    vec_read_hex(k, &key);
    assert_int_equal(key.len, i == 0 ? 32 : 64); /* vk-0 is a redeem key */
    check_key_matches(a, key.data, key.len);
    cdl_buf_free(&key);
  }
  for (int i = 0; i < 2; i++) {
    char a[96], w[96];
    cdl_buf wit;
    snprintf(a, sizeof a, "crypto/daedalus-turbo-byron-addr/wit-%d.addr.hex", i);
    snprintf(w, sizeof w, "crypto/daedalus-turbo-byron-addr/wit-%d.wit.hex", i);
    vec_read_hex(w, &wit); /* [xpub, signature] */
    assert_int_equal(wit.data[0], 0x82);
    check_key_matches(a, wit.data + 3, 64);
    cdl_buf_free(&wit);
  }
}

static void test_base58_stated(void **state) {
  (void)state;
  static const char *valid[] = {
      "37btjrVyb4KDXBNC4haBVPCrro8AQPHwvCMp3RFhhSVWwfFmZ6wwzSK6JK1hY6wHNmtrpTf1kdbva8TCneM2"
      "YsiXT7mrzT21EacHnPpz5YyUdj64na",
      "DdzFFzCqrht7PQiAhzrn6rNNoADJieTWBt8KeK9BZdUsGyX9ooYD9NpMCTGjQoUKcHN47g8JMXhvKogsGpQH"
      "tiQ65fZwiypjrC6d3a4Q",
      "Ae2tdPwUPEZLs4HtbuNey7tK4hTKrwNwYtGqp7bDfCy2WdR3P6735W5Yfpe",
      "Ae2tdPwUPEYz6ExfbWubiXPB6daUuhJxikMEb4eXRp5oKZBKZwrbJ2k7EZe",
      "DdzFFzCqrht5csm2GKhnVrjzKpVHHQFNXUDhAFDyLWVY5w8ZsJRP2uhwZq2CEAVzDZXYXa4GvggqYEegQsdK"
      "AKikFfrrCoHheLH2Jskr"};
  static const char *trailing[] = {
      "FHnt4NHDYS3mWHPRvgbJio3nHma3qW76bo7z9oYfDsie9GpqdUT5VFrQrVkhie5",
      "KjgoiXEdBrKbPJXtVLzpChsXvvj5FDS3jnjBLuPPRSQcTpbNEme4QBbvQCopCDNKVunvXRibDdSgk9pzKpX9"
      "Vz8QnyhCsoCBpDujrYqXaRpD"};
  for (size_t i = 0; i < 5; i++) {
    test_ctx t;
    cdl_buf b;
    cdl_byron_address addr;
    test_ctx_init(&t, 0);
    decode_base58(valid[i], &t, &b, &addr, CDL_OK);
    assert_int_equal(addr.type, CDL_BYRON_ADDR_PUBKEY);
    if (i == 0) {
      assert_true(addr.has_network_magic && addr.network_magic == 1097911063u);
      assert_true(addr.has_hd_payload);
    }
    assert_int_equal(addr.has_hd_payload, i != 2 && i != 3);
    cdl_buf_free(&b), test_ctx_free(&t);
  }
  for (size_t i = 0; i < 2; i++) {
    test_ctx t;
    cdl_buf b;
    cdl_byron_address addr;
    test_ctx_init(&t, 0);
    decode_base58(trailing[i], &t, &b, &addr, CDL_E_TRAILING);
    cdl_buf_free(&b), test_ctx_free(&t);
  }
}

/* Mainnet genesis AVVM entry -> redeem address -> genesis UTxO tx id. */
static void test_avvm_redeem_address(void **state) {
  (void)state;
  uint8_t pk[32], txid[32];
  size_t n = 0;
  const char *key = "URVk8FxX6Ik9z-Cub09oOxMkp6FwNq27kJUXbjJnfsQ=";
  cdl_buf addr;
  char text[128], hex[256];
  assert_int_equal(cdl_base64_decode(key, strlen(key), pk, sizeof pk, &n, NULL), CDL_OK);
  cdl_buf_init(&addr, 0);
  assert_int_equal(cdl_byron_address_make_redeem(pk, false, 0, &addr), CDL_OK);
  cdl_hex_encode(addr.data, addr.len, hex);
  assert_string_equal(hex, "82d818582183581ce28ece52ea87795c210be5b6632515755e9602209e0db6dae9f39907a0021a1ccdfb4d");
  cdl_base58_encode(addr.data, addr.len, text, sizeof text);
  assert_string_equal(text, "Ae2tdPwUPEZKQuZh2UndEoTKEakMYHGNjJVYmNZgJk2qqgHouxDsA5oT83n");
  cdl_blake2b_256(txid, addr.data, addr.len);
  assert_hash_hex(txid, "0ae3da29711600e94a33fb7441d2e76876a9a1e98b5ebdefbf2e3bc535617616");
  /* On a RequiresMagic network the same key gets attribute 2. */
  cdl_buf_reset(&addr);
  assert_int_equal(cdl_byron_address_make_redeem(pk, true, 1097911063u, &addr), CDL_OK);
  test_ctx t;
  cdl_byron_address parsed;
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_address_decode(addr.data, addr.len, &t.ctx, &parsed), CDL_OK);
  assert_true(parsed.has_network_magic && parsed.network_magic == 1097911063u);
  cdl_buf_free(&addr), test_ctx_free(&t);
}

static void test_stakeholder_id(void **state) {
  (void)state;
  /* Mainnet genesis: heavyDelegation key = hash of its issuerPk. */
  const char *issuer = "UHMxYf2vtsjLb64OJb35VVEFs2eO+wjxd1uekN5PXHe8yM7/+NkBHLJ4so/dyG2bqwmWVtd6eFbHYZEIy/ZXUg==";
  uint8_t xpub[64], id[28];
  size_t n = 0;
  char hex[57];
  assert_int_equal(cdl_base64_decode(issuer, strlen(issuer), xpub, sizeof xpub, &n, NULL), CDL_OK);
  assert_int_equal(n, 64);
  cdl_byron_key_hash(xpub, id);
  cdl_hex_encode(id, 28, hex);
  assert_string_equal(hex, "1deb82908402c7ee3efeb16f369d97fba316ee621d09b32b8969e54b");
}

static void expect_address_error(const uint8_t *data, size_t len, int code) {
  test_ctx t;
  cdl_byron_address addr;
  test_ctx_init(&t, 0);
  assert_int_equal(cdl_byron_address_decode(data, len, &t.ctx, &addr), code);
  assert_int_equal(t.err.code, code);
  test_ctx_free(&t);
}

static void test_rejections(void **state) {
  (void)state;
  uint8_t a[64];
  size_t n = hex_to_bytes("82d818582183581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83"
                          "cb7bdc5ea0001a32dc988e", a, sizeof a);
  a[n - 1] ^= 1; /* CRC */
  expect_address_error(a, n, CDL_E_CRC);
  a[n - 1] ^= 1;
  a[10] ^= 1; /* payload byte: CRC no longer matches */
  expect_address_error(a, n, CDL_E_CRC);
  a[10] ^= 1;
  for (size_t cut = 0; cut < n; cut++) expect_address_error(a, cut, CDL_E_TRUNCATED);
  uint8_t longer[65];
  memcpy(longer, a, n);
  longer[n] = 0;
  expect_address_error(longer, n + 1, CDL_E_TRAILING);
  /* Attribute keys out of order: {2: .., 1: ..} */
  uint8_t payload[64], full[96];
  size_t p = hex_to_bytes("83581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83cb7bdc5e"
                          "a202420101014141" "00", payload, sizeof payload);
  cdl_buf tmp = {payload, p, p, p, false, true}, wrapped;
  wrap_payload(&tmp, &wrapped);
  memcpy(full, wrapped.data, wrapped.len);
  expect_address_error(full, wrapped.len, CDL_E_MAP_ORDER);
  cdl_buf_free(&wrapped);
  /* The ledger reads the type, attribute 1 and attribute 2 in their
   * shortest encodings: type 0 as 18 00, magic 1 as 1a 00000001, the HD
   * payload with a two-byte length head. */
  static const char *noncanonical[] = {
      "83581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83cb7bdc5ea01800",
      "83581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83cb7bdc5ea102451a0000000100",
      "83581caa5372095aaa680d19d4ca496983a145709c3be18b0d4c83cb7bdc5ea101445801010000"};
  for (int i = 0; i < 3; i++) {
    p = hex_to_bytes(noncanonical[i], payload, sizeof payload);
    cdl_buf raw = {payload, p, p, p, false, true};
    wrap_payload(&raw, &wrapped);
    expect_address_error(wrapped.data, wrapped.len, CDL_E_NONCANONICAL);
    cdl_buf_free(&wrapped);
  }
  test_ctx t;
  cdl_buf b;
  cdl_byron_address addr;
  test_ctx_init(&t, 0);
  decode_base58("Ae2tdPwUPEZDoUnyXuAgqzhkjNXNJeiZ5nqwprg9sArZmRNjySfJ5uz4Fj0", &t, &b, &addr,
                CDL_E_BASE58);
  cdl_buf_free(&b), test_ctx_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cardano_sl_goldens),   cmocka_unit_test(test_cardano_ledger_goldens),
      cmocka_unit_test(test_key_binds_address),    cmocka_unit_test(test_base58_stated),
      cmocka_unit_test(test_avvm_redeem_address),  cmocka_unit_test(test_stakeholder_id),
      cmocka_unit_test(test_rejections),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
