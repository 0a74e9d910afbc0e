/*
 * test_genesis.c: Byron genesis files (docs/byron.md section 4): each real
 * network's genesis hash equals its node config's ByronGenesisHash, the
 * genesis UTxO matches the stated facts, the schema is enforced, and the
 * canonical JSON rules of the reference hold; Cardinal's own bounds on k
 * and the slot length (docs/genesis.md "Bounds"), and errors of a genesis
 * file naming the file (and a syntax error's line and column).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "support.h"

typedef struct {
  const char *genesis, *config;
} network_files;

static const network_files NETWORKS[] = {
    {"genesis/mainnet/mainnet-byron-genesis.json", "genesis/mainnet/mainnet-config.json"},
    {"genesis/preprod/byron-genesis.json", "genesis/preprod/config.json"},
    {"genesis/preview/byron-genesis.json", "genesis/preview/config.json"},
    {"genesis/preview/pallas-preview-byron-genesis.json", "genesis/preview/config.json"},
    {"genesis/sanchonet/byron-genesis.json", "genesis/sanchonet/config.json"},
    {"genesis/legacy-testnet/testnet-byron-genesis.json", "genesis/legacy-testnet/testnet-config.json"},
};

static void test_hash_matches_node_config(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof NETWORKS / sizeof NETWORKS[0]; i++) {
    json_error_t jerr;
    json_t *config = json_load_file(vec_path(NETWORKS[i].config), 0, &jerr);
    assert_non_null(config);
    const char *want = json_string_value(json_object_get(config, "ByronGenesisHash"));
    assert_non_null(want);
    cdl_buf text;
    uint8_t hash[32];
    cdl_error err = {0};
    vec_read(NETWORKS[i].genesis, &text);
    assert_int_equal(cdl_byron_genesis_hash(text.data, text.len, hash, &err), CDL_OK);
    assert_hash_hex(hash, want);
    /* The hash is of the canonical rendering, not of the file's bytes. */
    uint8_t raw[32];
    cdl_blake2b_256(raw, text.data, text.len);
    assert_memory_not_equal(raw, hash, 32);
    cdl_buf_free(&text);
    json_decref(config);
  }
}

static void load(const char *file, cdl_arena *arena, cdl_byron_genesis *g) {
  cdl_buf text;
  cdl_error err = {0};
  vec_read(file, &text);
  if (cdl_byron_genesis_load(text.data, text.len, arena, g, &err) != CDL_OK)
    fail_msg("%s: %s", file, err.message);
  cdl_buf_free(&text); /* the genesis owns nothing in the text */
}

static const cdl_byron_utxo_entry *find_utxo(const cdl_byron_utxo_entry *u, size_t n,
                                             const char *txid_hex) {
  uint8_t id[32];
  hex_to_bytes(txid_hex, id, 32);
  for (size_t i = 0; i < n; i++) {
    if (memcmp(u[i].tx_id, id, 32) == 0) return &u[i];
  }
  fail_msg("no genesis UTxO %s", txid_hex);
  return NULL;
}

static void assert_base58(cdl_span raw, const char *want) {
  char text[256];
  assert_true(cdl_byron_address_to_base58(raw, text, sizeof text) > 0);
  assert_string_equal(text, want);
}

static void test_mainnet_genesis(void **state) {
  (void)state;
  cdl_arena arena;
  cdl_byron_genesis g;
  cdl_byron_utxo_entry *u;
  size_t n = 0;
  cdl_error err = {0};
  cdl_arena_init(&arena, 0);
  load("genesis/mainnet/mainnet-byron-genesis.json", &arena, &g);
  assert_int_equal(g.protocol_magic, 764824073u);
  assert_int_equal(g.k, 2160);
  assert_int_equal(g.start_time, 1506203091);
  assert_int_equal(g.n_boot_stakeholders, 7);
  assert_int_equal(g.n_delegations, 7);
  assert_int_equal(g.params.max_tx_size, 4096);
  assert_int_equal(g.params.slot_duration_ms, 20000);
  assert_int_equal(g.params.fee_summand_nano, 155381000000000ull);
  assert_int_equal(g.params.fee_multiplier_nano, 43946000000ull);
  assert_int_equal(g.params.softfork_min, 600000000000000ull);
  assert_true(g.params.unlock_stake_epoch == UINT64_MAX);
  assert_false(cdl_byron_requires_magic(g.protocol_magic));
  assert_int_equal(cdl_byron_genesis_utxo(&g, false, &arena, &u, &n, &err), CDL_OK);
  assert_int_equal(n, 14505);
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += u[i].lovelace;
  assert_true(total == 31112484745000000ull);
  const cdl_byron_utxo_entry *e = find_utxo(u, n, "0ae3da29711600e94a33fb7441d2e76876a9a1e98b5ebdefbf2e3bc535617616");
  assert_true(e->lovelace == 2463071701000000ull);
  assert_base58(e->address, "Ae2tdPwUPEZKQuZh2UndEoTKEakMYHGNjJVYmNZgJk2qqgHouxDsA5oT83n");
  e = find_utxo(u, n, "927edb96f3386ab91b5f5d85d84cb4253c65b1c2f65fa7df25f81fab1d62987a");
  assert_true(e->lovelace == 538861000000ull);
  assert_base58(e->address, "Ae2tdPwUPEZ9vtyppa1FdJzvqJZkEcXgdHxVYAzTWcPaoNycVq5rc36LC1S");
  e = find_utxo(u, n, "31eae73dd9b018a6bc2eb1b229b5497de563a81872d54516251cc8185f932883");
  assert_true(e->lovelace == 1000000);
  cdl_arena_free(&arena);
}

static void test_testnet_genesis_utxo(void **state) {
  (void)state;
  cdl_arena arena;
  cdl_byron_genesis g;
  cdl_byron_utxo_entry *u;
  size_t n = 0;
  cdl_arena_init(&arena, 0);
  load("genesis/preview/pallas-preview-byron-genesis.json", &arena, &g);
  assert_true(cdl_byron_requires_magic(g.protocol_magic));
  assert_int_equal(cdl_byron_genesis_utxo(&g, true, &arena, &u, &n, NULL), CDL_OK);
  assert_int_equal(n, 8);
  const cdl_byron_utxo_entry *e = find_utxo(u, n, "4843cf2e582b2f9ce37600e5ab4cc678991f988f8780fed05407f9537f7712bd");
  assert_true(e->lovelace == 30000000000000000ull);
  assert_base58(e->address, "FHnt4NL7yPXvDWHa8bVs73UEUdJd64VxWXSFNqetECtYfTd9TtJguJ14Lu3feth");
  /* The legacy testnet has AVVM entries: redeem addresses with its magic. */
  load("genesis/legacy-testnet/testnet-byron-genesis.json", &arena, &g);
  assert_int_equal(g.n_avvm, 100);
  assert_int_equal(cdl_byron_genesis_utxo(&g, true, &arena, &u, &n, NULL), CDL_OK);
  assert_int_equal(n, 207);
  size_t with_magic = 0;
  for (size_t i = 0; i < n; i++) {
    test_ctx t;
    cdl_byron_address addr;
    test_ctx_init(&t, 0);
    assert_int_equal(cdl_byron_address_decode(u[i].address.ptr, u[i].address.len, &t.ctx, &addr), CDL_OK);
    with_magic += addr.has_network_magic && addr.network_magic == 1097911063u;
    test_ctx_free(&t);
  }
  assert_int_equal(with_magic, 207);
  cdl_arena_free(&arena);
}

/* The preprod genesis with one substring replaced, into |out|. */
static void mutated(const char *from, const char *to, cdl_buf *out) {
  cdl_buf text;
  vec_read("genesis/preprod/byron-genesis.json", &text);
  cdl_buf_init(out, 0);
  const uint8_t *at = (const uint8_t *)strstr((const char *)text.data, from);
  assert_non_null(at);
  cdl_buf_append(out, text.data, (size_t)(at - text.data));
  cdl_buf_append(out, to, strlen(to));
  size_t rest = (size_t)(at - text.data) + strlen(from);
  cdl_buf_append(out, text.data + rest, text.len - rest);
  cdl_buf_free(&text);
}

static int load_mutated(const char *from, const char *to, cdl_error *err) {
  cdl_buf out;
  cdl_arena arena;
  cdl_byron_genesis g;
  mutated(from, to, &out);
  cdl_arena_init(&arena, 0);
  cdl_error_clear(err);
  int rc = cdl_byron_genesis_load(out.data, out.len, &arena, &g, err);
  cdl_arena_free(&arena), cdl_buf_free(&out);
  return rc;
}

/* The same mutation as a file at |path|, loaded from there. */
static int load_mutated_file(const char *from, const char *to, const char *path, cdl_error *err) {
  cdl_buf out, text;
  cdl_arena arena;
  cdl_byron_genesis g;
  mutated(from, to, &out);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
  assert_int_equal(fclose(f), 0);
  cdl_buf_init(&text, 0);
  cdl_arena_init(&arena, 0);
  cdl_error_clear(err);
  int rc = cdl_byron_genesis_load_file(path, 1 << 24, &text, &arena, &g, err);
  cdl_arena_free(&arena), cdl_buf_free(&out), cdl_buf_free(&text);
  return rc;
}

/* |err| is |code| and its message says |what|. */
static void expect_error(int rc, const cdl_error *err, int code, const char *what) {
  assert_int_equal(rc, code);
  if (strstr(err->message, what) == NULL) fail_msg("\"%s\" does not say \"%s\"", err->message, what);
}

static void test_schema_rules(void **state) {
  (void)state;
  cdl_error err;
  assert_int_equal(load_mutated("\"omega\": 0", "\"omega\": 0", &err), CDL_OK);
  assert_int_equal(load_mutated("633fc347", "733fc347", &err), CDL_E_GENESIS); /* cert signature */
  assert_non_null(strstr(err.message, "certificate signature"));
  assert_int_equal(load_mutated("\"05d1c10e4bf3cdd4de54712531c53be75a1609b25f396ffbbe5becf1\":\n        {",
                                "\"15d1c10e4bf3cdd4de54712531c53be75a1609b25f396ffbbe5becf1\":\n        {", &err),
                   CDL_E_GENESIS); /* delegation key is not the issuer's hash */
  assert_int_equal(load_mutated("\"maxTxSize\": \"4096\"", "\"maxTxSize\": \"40x6\"", &err), CDL_E_GENESIS);
  assert_int_equal(load_mutated("\"k\": 2160", "\"q\": 2160", &err), CDL_E_GENESIS);
  assert_int_equal(load_mutated("\"k\": 2160", "\"k\": 21.60", &err), CDL_E_JSON);
}

/* docs/genesis.md "Bounds": k at most 1,000,000 (a node keeps up to k
 * blocks; k = 10^9 made it reserve gigabytes), a slot from 1 ms to a day;
 * each refusal names the field by its whole path. */
static void test_bounds(void **state) {
  (void)state;
  cdl_error err;
  const char *k = "\"k\": 2160";
  assert_int_equal(load_mutated(k, "\"k\": 1000000", &err), CDL_OK);
  expect_error(load_mutated(k, "\"k\": 1000001", &err), &err, CDL_E_GENESIS,
               "genesis field \"protocolConsts.k\": larger than 1000000");
  expect_error(load_mutated(k, "\"k\": 1000000000", &err), &err, CDL_E_GENESIS,
               "\"protocolConsts.k\"");
  const char *slot = "\"slotDuration\": \"20000\"";
  assert_int_equal(load_mutated(slot, "\"slotDuration\": \"86400000\"", &err), CDL_OK);
  assert_int_equal(load_mutated(slot, "\"slotDuration\": 1", &err), CDL_OK);
  expect_error(load_mutated(slot, "\"slotDuration\": \"0\"", &err), &err, CDL_E_GENESIS,
               "genesis field \"blockVersionData.slotDuration\": not between 1 and 86400000");
  expect_error(load_mutated(slot, "\"slotDuration\": 86400001", &err), &err, CDL_E_GENESIS,
               "\"blockVersionData.slotDuration\"");
  expect_error(load_mutated("\"maxTxSize\": \"4096\"", "\"maxTxSize\": \"40x6\"", &err), &err,
               CDL_E_GENESIS, "\"blockVersionData.maxTxSize\"");
  expect_error(load_mutated("\"minThd\"", "\"minThx\"", &err), &err, CDL_E_GENESIS,
               "\"blockVersionData.softforkRule.minThd\": missing");
}

/* A genesis read from a file names the file in every error, and a syntax
 * error's line and column: line 115 of the preprod genesis is
 * `, "protocolConsts": { "k": 2160 , "protocolMagic": 1 }`, and a second
 * comma after the first is its 34th character. */
static void test_file_errors(void **state) {
  (void)state;
  char path[] = "/tmp/cdl-genesis-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  cdl_error err;
  const char *k = "\"k\": 2160 ,";
  int rc = load_mutated_file(k, "\"k\": 2160 ,,", path, &err);
  char want[128];
  snprintf(want, sizeof want, "%s: line 115, column 34: ", path);
  expect_error(rc, &err, CDL_E_JSON, want);
  uint8_t hash[32];
  cdl_error_clear(&err);
  expect_error(cdl_byron_genesis_hash_file(path, 1 << 24, hash, &err), &err, CDL_E_JSON, want);
  snprintf(want, sizeof want, "%s: genesis field \"protocolConsts.k\"", path);
  expect_error(load_mutated_file(k, "\"k\": 1000000000 ,", path, &err), &err, CDL_E_GENESIS,
               want);
  snprintf(want, sizeof want, "%s: genesis field \"blockVersionData.slotDuration\"", path);
  expect_error(load_mutated_file("\"slotDuration\": \"20000\"", "\"slotDuration\": 0", path, &err),
               &err, CDL_E_GENESIS, want);
  assert_int_equal(load_mutated_file(k, k, path, &err), CDL_OK);
  unlink(path);
  cdl_error_clear(&err);
  expect_error(cdl_byron_genesis_hash_file(path, 1 << 24, hash, &err), &err, CDL_E_IO, path);
}

static void render(const char *json, char *out, size_t cap, int expect) {
  cdl_arena arena;
  cdl_cjson *v = NULL;
  cdl_buf b;
  cdl_error err = {0};
  cdl_arena_init(&arena, 0);
  cdl_buf_init(&b, 0);
  int rc = cdl_cjson_parse((const uint8_t *)json, strlen(json), &arena, &v, &err);
  if (rc != expect) fail_msg("%s: got %d (%s)", json, rc, err.message);
  if (rc == CDL_OK) {
    assert_int_equal(cdl_cjson_render(v, &b), CDL_OK);
    assert_true(b.len < cap);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
  }
  cdl_buf_free(&b), cdl_arena_free(&arena);
}

static void test_canonical_json_rules(void **state) {
  (void)state;
  char out[256];
  render("{ \"b\" : [1, -2, \"x\\\"y\\\\\"], \"a\": null,\r\n \"a\": true, \"\xc3\xa9\": false }", out,
         sizeof out, CDL_OK);
  assert_string_equal(out, "{\"a\":null,\"a\":true,\"b\":[1,-2,\"x\\\"y\\\\\"],\"\xc3\xa9\":false}");
  render("\xa0{\"k\":\v999999999999999}\f", out, sizeof out, CDL_OK); /* 0xA0, VT and FF are whitespace */
  assert_string_equal(out, "{\"k\":999999999999999}");
  render("{} trailing bytes are ignored, as by the reference", out, sizeof out, CDL_OK);
  assert_string_equal(out, "{}");
  render("\"raw\x01\ncontrol bytes\"", out, sizeof out, CDL_OK);
  assert_string_equal(out, "\"raw\x01\ncontrol bytes\"");
  static const char *bad[] = {"\"\\n\"", "[1.5]", "[0123]", "[-0]", "[1000000000000000]",
                              "\"open", "{\"a\" 1}", "[1,]", "[tru]", "", "{\"a\":1,}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) render(bad[i], out, sizeof out, CDL_E_JSON);
  char deep[200];
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  deep[199] = '\0';
  render(deep, out, sizeof out, CDL_E_JSON); /* deeper than 64 */
}

/* cardano-sl's canonical-JSON goldens are our rendering plus whitespace. */
static void test_cardano_sl_canonical_goldens(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "genesis/cardano-sl-canonical-json-golden/GenesisData%d_Legacy_HasNetworkMagic", i);
    cdl_buf text, stripped, rendered;
    cdl_arena arena;
    cdl_cjson *v = NULL;
    vec_read(rel, &text);
    cdl_buf_init(&stripped, 0);
    bool in_string = false;
    for (size_t k = 0; k < text.len; k++) {
      uint8_t c = text.data[k];
      if (c == '"' && (k == 0 || text.data[k - 1] != '\\')) in_string = !in_string;
      if (in_string || (c != ' ' && c != '\n')) cdl_buf_append_byte(&stripped, c);
    }
    cdl_arena_init(&arena, 0);
    cdl_buf_init(&rendered, 0);
    assert_int_equal(cdl_cjson_parse(text.data, text.len, &arena, &v, NULL), CDL_OK);
    assert_int_equal(cdl_cjson_render(v, &rendered), CDL_OK);
    assert_int_equal(rendered.len, stripped.len);
    assert_memory_equal(rendered.data, stripped.data, stripped.len);
    cdl_buf_free(&text), cdl_buf_free(&stripped), cdl_buf_free(&rendered), cdl_arena_free(&arena);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_matches_node_config), cmocka_unit_test(test_mainnet_genesis),
      cmocka_unit_test(test_testnet_genesis_utxo),     cmocka_unit_test(test_schema_rules),
      cmocka_unit_test(test_canonical_json_rules),     cmocka_unit_test(test_cardano_sl_canonical_goldens),
      cmocka_unit_test(test_bounds),                   cmocka_unit_test(test_file_errors),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
