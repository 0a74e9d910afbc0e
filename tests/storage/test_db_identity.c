/*
 * test_db_identity.c: the identity files of a database directory
 * (src/storage/db_identity.c, src/storage/db_dir.c; docs/storage.md
 * "Identity files"): written when missing, written again when damaged, and
 * a database built with another genesis, threshold or magic policy refused
 * with a message naming both values and the ways out, in the caller's
 * words; the settings a database directory opens with when none are given.
 */
#include <stdio.h>
#include <string.h>

#include "storage_support.h"

#define MAINNET_HASH "5f20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb"

/* The real file system, as the CLI and the node open databases. */
static cdl_fs posix;

static void write_text(const char *dir, const char *name, const char *text) {
  char path[160];
  path_in(dir, name, path, sizeof path);
  write_file(path, text, strlen(text));
}

/* The file's whole text ("" when it is missing). */
static const char *read_text(const char *dir, const char *name) {
  static char text[512];
  char path[160];
  path_in(dir, name, path, sizeof path);
  text[0] = '\0';
  if (disk_size(path) < 0)
    return text;
  cdl_buf bytes;
  read_file(path, &bytes);
  snprintf(text, sizeof text, "%.*s", (int)bytes.len, (const char *)bytes.data);
  cdl_buf_free(&bytes);
  return text;
}

static cdl_db_identity identity(double threshold, bool magic) {
  cdl_db_identity id = {.pbft_threshold = threshold, .requires_magic = magic};
  hex_to_bytes(MAINNET_HASH, id.genesis_hash, 32);
  return id;
}

static int check(const char *dir, const cdl_db_identity *want, const cdl_db_advice *a,
                 bool read_only, uint32_t *rewritten, cdl_error *err) {
  return cdl_db_identity_check(&posix, dir, want, a, read_only, rewritten, err);
}

static const cdl_db_advice SYNC_WORDS = {
    .genesis = {"--genesis", "sync with --genesis"},
    .threshold = {"the config", "sync with --pbft-threshold"},
    .magic = {"the config", "sync with a config whose RequiresNetworkMagic is"},
    .db_option = "--db"};

static void assert_contains(const char *text, const char *part) {
  if (strstr(text, part) == NULL)
    fail_msg("\"%s\" not in \"%s\"", part, text);
}

/* A new directory gets all three files, exactly as documented; the same
 * settings open again; a read-only check writes nothing. */
static void test_written_when_missing(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "identity");
  cdl_db_identity want = identity(0.5, true);
  uint32_t rewritten = 0;
  cdl_error err = {0};
  assert_int_equal(check(dir, &want, NULL, true, &rewritten, &err), CDL_OK);
  assert_string_equal(read_text(dir, "pbft-threshold"), "");
  assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_OK);
  assert_string_equal(read_text(dir, "genesis.hash"), MAINNET_HASH);
  assert_string_equal(read_text(dir, "pbft-threshold"), "0.500000");
  assert_string_equal(read_text(dir, "requires-network-magic"), "RequiresMagic");
  assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_OK);
  assert_int_equal(rewritten, 0);
  cdl_db_identity got;
  assert_int_equal(cdl_db_identity_read(&posix, dir, &got, &err), CDL_OK);
  assert_true(got.has_genesis && got.has_threshold && got.has_magic);
  assert_hash_hex(got.genesis_hash, MAINNET_HASH);
  assert_true(got.pbft_threshold == 0.5);
  assert_true(got.requires_magic);
  remove_dir(dir);
}

/* Another threshold, magic policy or genesis: CDL_E_USAGE, naming the
 * recorded value, the one asked for, and the ways out in the caller's
 * words; nothing is changed. */
static void test_other_settings_refused(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "identity");
  cdl_db_identity built = identity(0.22, true), want = built;
  uint32_t rewritten = 0;
  cdl_error err = {0};
  assert_int_equal(check(dir, &built, NULL, false, &rewritten, &err), CDL_OK);
  want.pbft_threshold = 0.5;
  assert_int_equal(check(dir, &want, &SYNC_WORDS, false, &rewritten, &err), CDL_E_USAGE);
  char expected[256];
  snprintf(expected, sizeof expected,
           "%s was built with PBFT threshold 0.22, but the config says 0.5: sync with "
           "--pbft-threshold 0.22, or start a fresh database with --db NEWDIR, or delete it",
           dir);
  assert_string_equal(err.message, expected);
  assert_string_equal(read_text(dir, "pbft-threshold"), "0.220000");
  want = built;
  want.requires_magic = false;
  cdl_error_clear(&err);
  assert_int_equal(check(dir, &want, &SYNC_WORDS, false, &rewritten, &err), CDL_E_USAGE);
  assert_contains(err.message, "built with RequiresMagic, but the config says RequiresNoMagic: "
                               "sync with a config whose RequiresNetworkMagic is RequiresMagic");
  want = built;
  want.genesis_hash[0] ^= 0xff;
  cdl_error_clear(&err);
  /* Without words of the caller's, generic ones; the genesis by its first
   * digits (the copy is not there to point at). */
  assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_E_USAGE);
  assert_contains(err.message, "built with genesis 5f20df93, but the caller says a020df93: open "
                               "it with genesis 5f20df93, or start a fresh database elsewhere");
  assert_string_equal(read_text(dir, "genesis.hash"), MAINNET_HASH);
  assert_int_equal(rewritten, 0);
  remove_dir(dir);
}

/* A file not of the shape written is damage, written again and counted,
 * never a refusal: truncated, a byte changed, a file too big to be ours,
 * a threshold out of (0, 1]. */
static void test_damaged_written_again(void **state) {
  (void)state;
  static const struct {
    const char *name, *text;
  } DAMAGE[] = {
      {"requires-network-magic", "RequiresMagi"},
      {"requires-network-magic", "RequiresNoMagic\n"},
      {"pbft-threshold", "0.2200"},
      {"pbft-threshold", "2.220000"},
      {"pbft-threshold", "0,220000"},
      {"genesis.hash", "5F20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb"}};
  cdl_db_identity want = identity(0.22, false);
  char big[300];
  memset(big, '0', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  for (size_t i = 0; i <= sizeof DAMAGE / sizeof DAMAGE[0]; i++) {
    char dir[64];
    make_dir(dir, sizeof dir, "identity");
    uint32_t rewritten = 0;
    cdl_error err = {0};
    assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_OK);
    bool last = i == sizeof DAMAGE / sizeof DAMAGE[0];
    const char *name = last ? "pbft-threshold" : DAMAGE[i].name;
    char before[512];
    snprintf(before, sizeof before, "%s", read_text(dir, name));
    write_text(dir, name, last ? big : DAMAGE[i].text);
    assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_OK);
    assert_int_equal(rewritten, 1);
    assert_string_equal(read_text(dir, name), before);
    remove_dir(dir);
  }
}

/* A threshold edited by hand ("0.7\n"): not of the shape written, but
 * read as the number it is (not the default 0.22), and written again in
 * shape by the check with that number. */
static void test_threshold_edited_by_hand(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "identity");
  write_text(dir, "pbft-threshold", "0.7\n");
  cdl_db_identity got;
  cdl_error err = {0};
  assert_int_equal(cdl_db_identity_read(&posix, dir, &got, &err), CDL_OK);
  assert_true(got.has_threshold && got.pbft_threshold == 0.7);
  assert_true(cdl_db_threshold(dir, 0) == 0.7);
  write_text(dir, "pbft-threshold", "7\n");
  assert_true(cdl_db_threshold(dir, 0) == 0); /* out of (0, 1]: the default */
  write_text(dir, "pbft-threshold", "0.7\n");
  cdl_db_identity want = identity(0.7, true);
  uint32_t rewritten = 0;
  assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_OK);
  assert_int_equal(rewritten, 1);
  assert_string_equal(read_text(dir, "pbft-threshold"), "0.700000");
  remove_dir(dir);
}

/* A directory whose genesis.hash is gone still knows its genesis by the
 * copy kept beside it: another is refused (pointing at the copy), the
 * same writes genesis.hash again. */
static void test_genesis_known_by_copy(void **state) {
  (void)state;
  char dir[64];
  make_dir(dir, sizeof dir, "identity");
  cdl_buf text;
  cdl_buf_init(&text, 0);
  vec_read("genesis/mainnet/mainnet-byron-genesis.json", &text);
  char path[160];
  path_in(dir, "genesis.json", path, sizeof path);
  write_file(path, text.data, text.len);
  cdl_buf_free(&text);
  cdl_db_identity want = identity(0.22, false), other = want;
  other.genesis_hash[31] ^= 1;
  uint32_t rewritten = 0;
  cdl_error err = {0};
  cdl_db_identity got;
  assert_int_equal(cdl_db_identity_read(&posix, dir, &got, &err), CDL_OK);
  assert_true(got.has_genesis && !got.has_threshold && !got.has_magic);
  assert_hash_hex(got.genesis_hash, MAINNET_HASH);
  assert_int_equal(check(dir, &other, &SYNC_WORDS, false, &rewritten, &err), CDL_E_USAGE);
  char expected[256];
  snprintf(expected, sizeof expected, "--genesis says 5f20df93: sync with --genesis %s", path);
  assert_contains(err.message, expected);
  assert_string_equal(read_text(dir, "genesis.hash"), "");
  assert_int_equal(check(dir, &want, NULL, false, &rewritten, &err), CDL_OK);
  assert_string_equal(read_text(dir, "genesis.hash"), MAINNET_HASH);
  remove_dir(dir);
}

/* A database directory through cdl_db_dir_open: created with a threshold
 * and magic policy; opened without settings it takes the recorded ones;
 * another threshold is refused in the caller's words; a genesis that does
 * not hash to the config's hash is refused before anything is opened. */
static void test_db_dir_settings(void **state) {
  (void)state;
  char top[64], dir[96];
  make_dir(top, sizeof top, "identity");
  path_in(top, "db", dir, sizeof dir);
  cdl_db_dir_options o = {.dir = dir,
                          .genesis = vec_path("genesis/mainnet/mainnet-byron-genesis.json"),
                          .pbft_threshold = 0.5,
                          .requires_magic = 1,
                          .create = true};
  cdl_db_genesis dg;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_db_dir_open(&o, &dg, &db, NULL, &err), CDL_OK);
  assert_int_equal(cdl_chaindb_close(db, &err), CDL_OK);
  cdl_db_dir_options plain = {.dir = dir};
  cdl_ledger_config lc = cdl_db_ledger_config(&plain, &dg.g);
  cdl_db_genesis_free(&dg);
  assert_true(lc.pbft_threshold == 0.5);
  assert_true(lc.requires_magic); /* recorded, though mainnet's magic says otherwise */
  assert_true(cdl_db_threshold(dir, 0) == 0.5 && cdl_db_threshold(dir, 0.3) == 0.3);
  assert_int_equal(cdl_db_dir_open(&plain, &dg, &db, NULL, &err), CDL_OK);
  assert_int_equal(cdl_chaindb_close(db, &err), CDL_OK);
  cdl_db_genesis_free(&dg);
  o.pbft_threshold = 0.3;
  o.advice = &SYNC_WORDS;
  assert_int_equal(cdl_db_dir_open(&o, &dg, &db, NULL, &err), CDL_E_USAGE);
  assert_null(db);
  cdl_db_genesis_free(&dg);
  assert_contains(err.message, "built with PBFT threshold 0.5, but the config says 0.3");
  uint8_t hash[32] = {0};
  o.pbft_threshold = 0.5;
  o.genesis_hash = hash;
  cdl_error_clear(&err);
  assert_int_equal(cdl_db_dir_open(&o, &dg, &db, NULL, &err), CDL_E_GENESIS);
  cdl_db_genesis_free(&dg);
  assert_contains(err.message, "genesis.hash_mismatch");
  remove_dir(top);
}

int main(void) {
  assert_int_equal(cdl_crypto_init(), CDL_OK);
  cdl_fs_posix_init(&posix, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_written_when_missing),  cmocka_unit_test(test_other_settings_refused),
      cmocka_unit_test(test_damaged_written_again), cmocka_unit_test(test_threshold_edited_by_hand),
      cmocka_unit_test(test_genesis_known_by_copy), cmocka_unit_test(test_db_dir_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
