/*
 * test_cli_governance.c: cardinal-cli's governance, key, address and
 * certificate-check commands end to end (docs/cli.md "governance", "key",
 * "delegation", "address", "Rejection reasons"): the real binary against
 * cardano-cli's own golden files (tests/vectors/cardano-cli/byron), its
 * local refusals, and a real `cardinal-node serve` refusing what its
 * ledger refuses (src/ledger/update.c), the reason readable.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cardinal/forge.h"
#include "cli_support.h"

#define GOLDEN CDL_VECTORS_DIR "/cardano-cli/byron"
/* The flags of cardano-cli's golden proposal (Test/Golden/Byron/UpdateProposal.hs). */
#define GOLDEN_PROPOSAL_FLAGS                                                                      \
  "--protocol-version-major 1 --protocol-version-minor 0 --protocol-version-alt 0 "                \
  "--application-name cardano-sl --software-version-num 1 --system-tag linux --installer-hash 0"

/* The member |key| of |j|; fails the test when it is missing. */
static json_t *member(json_t *j, const char *key) {
  json_t *v = json_object_get(j, key);
  if (v == NULL)
    fail_msg("no member %s in %.300s", key, stdout_buf);
  return v;
}

/* show-vote on cardano-cli's votes: the yes vote holds on mainnet only,
 * the no vote is signed as (id, False); no network, no check. */
static void check_golden_votes_shown(void) {
  char args[512];
  json_t *j;
  const struct {
    const char *args, *signed_as;
    bool valid;
  } VOTES[] = {{"vote-yes --mainnet", "yes", true},
               {"vote-no --mainnet", "no", false},
               {"vote-yes --testnet-magic 42", NULL, false}};
  for (size_t i = 0; i < sizeof VOTES / sizeof VOTES[0]; i++) {
    snprintf(args, sizeof args, "governance show-vote %s/%s", GOLDEN, VOTES[i].args);
    assert_int_equal(cli(args), 0);
    j = parse(stdout_buf);
    assert_string_equal(str(j, "proposal_id"),
                        "cb05500ef3ae36df70464416e5808acaa083065f8a28e1c69f60f8143ce8bacb");
    json_t *sig = member(j, "signature");
    assert_int_equal(json_is_true(member(sig, "valid")), VOTES[i].valid);
    if (VOTES[i].signed_as)
      assert_string_equal(str(sig, "signed_decision"), VOTES[i].signed_as);
    else
      assert_true(json_is_null(member(sig, "signed_decision")));
    json_decref(j);
  }
  assert_int_equal(cli("governance show-vote " GOLDEN "/vote-yes"), 0); /* no network: no check */
  j = parse(stdout_buf);
  assert_true(json_is_null(member(j, "signature")));
  json_decref(j);
}

/* A proposal made with cardano-cli's flags and key is cardano-cli's file
 * byte for byte (Ed25519 signatures are deterministic), and so are the
 * yes and no votes for it. show-* check the signatures per network: a
 * vote signed for mainnet fails under magic 42, and the no vote is signed
 * as (id, False), which the ledger never accepts. */
static void test_cardano_cli_goldens(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-gov-golden-XXXXXX", args[2048], path[256];
  assert_non_null(mkdtemp(dir));
  snprintf(args, sizeof args,
           "governance create-update-proposal --mainnet --signing-key %s/byron.skey %s "
           "--filepath %s/proposal",
           GOLDEN, GOLDEN_PROPOSAL_FLAGS, dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_string_equal(str(j, "id"),
                      "cb05500ef3ae36df70464416e5808acaa083065f8a28e1c69f60f8143ce8bacb");
  json_decref(j);
  snprintf(path, sizeof path, "%s/proposal", dir);
  assert_true(same_file(path, GOLDEN "/update-proposal"));
  assert_int_equal(cli(args), 2); /* never over an existing file */
  const char *decisions[] = {"yes", "no"};
  for (int i = 0; i < 2; i++) {
    snprintf(args, sizeof args,
             "governance create-proposal-vote --mainnet --signing-key %s/byron.skey "
             "--proposal-filepath %s/update-proposal --vote-%s --output-filepath %s/vote-%s",
             GOLDEN, GOLDEN, decisions[i], dir, decisions[i]);
    assert_int_equal(cli(args), 0);
    j = parse(stdout_buf);
    assert_string_equal(str(j, "decision"), decisions[i]);
    assert_int_equal(json_object_get(j, "note") != NULL, i == 1); /* the no vote is explained */
    json_decref(j);
    char golden[256];
    snprintf(path, sizeof path, "%s/vote-%s", dir, decisions[i]);
    snprintf(golden, sizeof golden, "%s/vote-%s", GOLDEN, decisions[i]);
    assert_true(same_file(path, golden));
  }
  assert_int_equal(cli("governance show-proposal " GOLDEN "/update-proposal --mainnet"), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "block_version"), "1.0.0");
  assert_string_equal(str(member(j, "issuer"), "key_hash"),
                      "8489bcf345279fdf787f981c2c6e149281c9bdc72df3fc28e5c514b2");
  json_t *installer = json_array_get(member(j, "installers"), 0);
  assert_string_equal(str(installer, "system_tag"), "linux");
  /* cardano-cli hashes the text given: Blake2b-256("0"). */
  assert_string_equal(str(installer, "installer_hash"),
                      "0fd923ca5e7218c4ba3c3801c26a617ecdbfdaebb9c76ce2eca166e7855efbb8");
  assert_true(json_is_true(member(member(j, "signature"), "valid")));
  json_decref(j);
  assert_int_equal(cli("governance show-proposal " GOLDEN "/update-proposal --testnet-magic 42"),
                   0);
  j = parse(stdout_buf);
  assert_true(json_is_false(member(member(j, "signature"), "valid")));
  json_decref(j);
  check_golden_votes_shown();
  shell_ok("rm -rf %s", dir);
}

/* create-update-proposal with |extra| flags and the golden ones; the
 * exit code, and the proposal shown when made. */
static int propose(const char *dir, const char *extra, json_t **shown) {
  char args[2048];
  shell_ok("rm -f %s/p", dir);
  snprintf(args, sizeof args,
           "governance create-update-proposal --testnet-magic 42 --signing-key "
           "%s/byron.skey " GOLDEN_PROPOSAL_FLAGS " --filepath %s/p %s",
           GOLDEN, dir, extra);
  int rc = cli(args);
  if (rc != 0 || shown == NULL)
    return rc;
  snprintf(args, sizeof args, "governance show-proposal %s/p --testnet-magic 42", dir);
  assert_int_equal(cli(args), 0);
  *shown = parse(stdout_buf);
  assert_true(json_is_true(member(member(*shown, "signature"), "valid")));
  return rc;
}

/* What needs no node is refused before anything is written, each with
 * its rule (the ledger's names where they are the ledger's rules). */
static void test_proposal_refused_locally(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-gov-local-XXXXXX", path[256];
  assert_non_null(mkdtemp(dir));
  const struct {
    const char *extra, *rule;
  } REFUSED[] = {
      {"--application-name cardano-sl-13", "update.application_name"}, /* 13 bytes */
      {"--application-name caf\xc3\xa9", "update.application_name"},   /* not ASCII */
      {"--system-tag linux-amd64", "update.system_tag"},               /* 11 bytes */
      {"--update-vote-thd 1.5", "update.threshold_range"},
      {"--max-mpc-thd -0.1", "update.threshold_range"},
      {"--script-version 65536", "update.parameter_range"},
      {"--protocol-version-alt 256", "update.parameter_range"},
      {"--tx-fee-a-constant 45000000000000001 --tx-fee-b-constant 0.5", "update.parameter_range"},
      {"--max-block-size 4096 --max-tx-size 4096", "update.max_tx_size_too_large"}};
  for (size_t i = 0; i < sizeof REFUSED / sizeof REFUSED[0]; i++) {
    if (propose(dir, REFUSED[i].extra, NULL) != 1)
      fail_msg("not refused: %s", REFUSED[i].extra);
    assert_string_equal(error_rule(), REFUSED[i].rule);
    snprintf(path, sizeof path, "%s/p", dir);
    assert_int_equal(access(path, F_OK), -1);
  }
  const char *usage[] = {"--max-tx-size many", "--softfork-init-thd 0.5", "--tx-fee-a-constant 1",
                         "--testnet-magic 7",  "--update-vote-thd nan",   "--vote-yes"};
  for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++)
    if (propose(dir, usage[i], NULL) != 2)
      fail_msg("not a usage error: %s", usage[i]);
  shell_ok("rm -rf %s", dir);
}

/* Parameters as cardano-cli writes them: a threshold is the ceiling of
 * the DOUBLE's exact value × 10^15, the fee multiplier the floor of it ×
 * 10^9 (0.3 is 0.29999999999999998889..., 0.9 is 0.90000000000000002220...), the summand a × 10^9,
 * a bignum past 64 bits. */
static void test_proposal_parameters(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-gov-params-XXXXXX";
  assert_non_null(mkdtemp(dir));
  json_t *j = NULL;
  assert_int_equal(propose(dir,
                           "--update-vote-thd 0.3 --heavy-del-thd 1e-20 --max-tx-size 8192 "
                           "--max-block-size 65536 --time-to-live 1000 --script-version 2 "
                           "--softfork-init-thd 0.9 --softfork-min-thd 0.6 --softfork-thd-dec 0.05 "
                           "--tx-fee-a-constant 155381 --tx-fee-b-constant 0.3 "
                           "--unlock-stake-epoch 18446744073709551615",
                           &j),
                   0);
  json_t *p = member(j, "parameters");
  assert_int_equal(num(p, "update_vote_thd"), 300000000000000);
  assert_int_equal(num(p, "heavy_del_thd"), 1);
  assert_int_equal(num(p, "max_tx_size"), 8192);
  assert_int_equal(num(p, "max_block_size"), 65536);
  assert_int_equal(num(p, "update_implicit"), 1000);
  assert_int_equal(num(p, "script_version"), 2);
  assert_int_equal(num(member(p, "softfork_rule"), "init_thd"), 900000000000001); /* 0.9 is above */
  assert_int_equal(num(member(p, "softfork_rule"), "thd_decrement"), 50000000000001);
  assert_int_equal(num(member(p, "tx_fee_policy"), "summand_nano"), 155381000000000);
  assert_int_equal(num(member(p, "tx_fee_policy"), "multiplier_nano"), 299999999);
  assert_string_equal(str(p, "unlock_stake_epoch"), "18446744073709551615");
  assert_null(json_object_get(p, "slot_duration_ms")); /* only what was given */
  json_decref(j);
  assert_int_equal(propose(dir, "--tx-fee-a-constant 45000000000000000 --tx-fee-b-constant 1", &j),
                   0);
  json_t *summand = member(member(member(j, "parameters"), "tx_fee_policy"), "summand_nano");
  assert_string_equal(str(summand, "bignum"), "25391ee35a05c54d000000"); /* 4.5 × 10^25 */
  json_decref(j);
  shell_ok("rm -rf %s", dir);
}

/* Damaged, truncated, oversized and mistaken files: exit 1 with the
 * decoder's rule, or 2 for a key file of another type. */
static void test_malformed_files(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-gov-bad-XXXXXX", args[1024];
  assert_non_null(mkdtemp(dir));
  shell_ok("head -c 200 %s/update-proposal > %s/short && cp %s/vote-yes %s/long && "
           "printf '\\000' >> %s/long && head -c 300000 /dev/zero > %s/big && "
           "head -c 100000 /dev/zero > %s/mid",
           GOLDEN, dir, GOLDEN, dir, dir, dir, dir);
  const struct {
    const char *args, *rule;
  } BAD[] = {{"show-proposal %s/short", "cbor.truncated"},
             {"show-vote %s/long", "cbor.trailing_bytes"},
             {"show-vote " GOLDEN "/update-proposal%.0s", "decode.type"},
             {"show-proposal " GOLDEN "/vote-yes%.0s", "decode.type"},
             {"show-proposal %s/big", "input.size_limit"}, /* larger than any payload's hex */
             {"show-vote %s/mid", "input.size_limit"},     /* larger than a node takes */
             {"create-proposal-vote --mainnet --signing-key " GOLDEN "/byron.skey "
              "--proposal-filepath %s/short --vote-yes --output-filepath /dev/null/never",
              "cbor.truncated"}};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    char verb[512];
    snprintf(verb, sizeof verb, BAD[i].args, dir);
    snprintf(args, sizeof args, "governance %s", verb);
    if (cli(args) != 1)
      fail_msg("not refused: %s: %s", args, stderr_buf);
    assert_string_equal(error_rule(), BAD[i].rule);
  }
  /* A certificate envelope is no signing key (the type names what it is). */
  shell_ok("%s genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 1 "
           "--seed 3 > /dev/null",
           CDL_CLI, dir);
  snprintf(args, sizeof args,
           "governance create-proposal-vote --mainnet --signing-key %s/net/delegation-cert.000.json"
           " --proposal-filepath " GOLDEN "/update-proposal --vote-yes --output-filepath %s/v",
           dir, dir);
  assert_int_equal(cli(args), 2);
  assert_non_null(strstr(stderr_buf, "unsupported key type 'ByronDelegationCertificate'"));
  shell_ok("rm -rf %s", dir);
}

/* The public half and the address of cardano-cli's golden key, through
 * every form of key file: the same key hash and address each time. */
static void test_keys_and_addresses(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-gov-keys-XXXXXX", args[1024], address[128];
  assert_non_null(mkdtemp(dir));
  assert_int_equal(cli("key signing-key-public --byron-formats --secret " GOLDEN "/byron.skey"), 0);
  json_t *j = parse(stdout_buf);
  assert_string_equal(str(j, "key_hash"),
                      "8489bcf345279fdf787f981c2c6e149281c9bdc72df3fc28e5c514b2");
  char b64[100];
  snprintf(b64, sizeof b64, "%s", str(j, "public_key_base64"));
  json_decref(j);
  snprintf(args, sizeof args, "key to-verification --secret %s/byron.skey --to %s/b64.vk", GOLDEN,
           dir);
  assert_int_equal(cli(args), 0);
  assert_int_equal(cli(args), 2);                            /* never over an existing file */
  shell_ok("printf '%%s' '%s' | cmp - %s/b64.vk", b64, dir); /* the text alone, no newline */
  snprintf(args, sizeof args,
           "key to-verification --secret %s/byron.skey --to %s/env.vk --text-envelope", GOLDEN,
           dir);
  assert_int_equal(cli(args), 0);
  shell_ok("grep -q '\"type\": \"PaymentVerificationKeyByron_ed25519_bip32\"' %s/env.vk", dir);
  assert_int_equal(cli("key signing-key-address --mainnet --secret " GOLDEN "/byron.skey"), 0);
  j = parse(stdout_buf);
  snprintf(address, sizeof address, "%s", str(j, "address"));
  assert_true(json_is_null(member(j, "network_magic")));
  json_decref(j);
  const char *vkeys[] = {"b64.vk", "env.vk"};
  for (int i = 0; i < 2; i++) {
    snprintf(args, sizeof args, "address build --verification-key-file %s/%s --mainnet", dir,
             vkeys[i]);
    assert_int_equal(cli(args), 0);
    j = parse(stdout_buf);
    assert_string_equal(str(j, "address"), address);
    json_decref(j);
  }
  /* --testnet-magic: the magic attribute, as cardano-cli writes it. */
  snprintf(args, sizeof args, "address build --verification-key-file %s/b64.vk --testnet-magic 42",
           dir);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(j, "network_magic"), 42);
  snprintf(args, sizeof args, "address show %s", str(j, "address"));
  json_decref(j);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(member(j, "attributes"), "network_magic"), 42);
  json_decref(j);
  /* A legacy cardano-sl key: its own address. */
  assert_int_equal(
      cli("key signing-key-address --testnet-magic 42 --secret " GOLDEN "/legacy.skey"), 0);
  j = parse(stdout_buf);
  assert_string_not_equal(str(j, "address"), address);
  json_decref(j);
  /* A bad checksum: the last Base58 digit changed. */
  size_t n = strlen(address);
  address[n - 1] = address[n - 1] == '2' ? '3' : '2';
  snprintf(args, sizeof args, "address show %s", address);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "address.crc");
  /* Verification keys that are not: 32 bytes, a certificate envelope. */
  shell_ok("printf 'q3zQQw3/tSXV2qvvz5Cxjb/tVBIuSwXYmBFRAUOjo88=' > %s/short.vk", dir);
  snprintf(args, sizeof args, "address build --verification-key-file %s/short.vk --mainnet", dir);
  assert_int_equal(cli(args), 1);
  assert_non_null(strstr(stderr_buf, "holds 64 bytes, this one 32"));
  assert_int_equal(cli("address build --verification-key-file " GOLDEN "/byron.skey"), 2);
  shell_ok("rm -rf %s", dir);
}

/* `delegation check-certificate` with the printf-formatted |fmt|: exit
 * |want|, and |rule| when not NULL. */
static void expect_certificate_check(int want, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_certificate_check(int want, const char *rule, const char *fmt, ...) {
  char tail[1024], args[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tail, sizeof tail, fmt, ap);
  va_end(ap);
  snprintf(args, sizeof args, "delegation check-certificate %s", tail);
  int rc = cli(args);
  if (rc != want)
    fail_msg("%s: exit %d, not %d: %s", args, rc, want, stderr_buf);
  if (rule)
    assert_string_equal(error_rule(), rule);
}

/* Each failure of a certificate check is its own rule. */
static void test_check_certificate(void **state) {
  (void)state;
  char d[] = "/tmp/cdl-gov-cert-XXXXXX";
  assert_non_null(mkdtemp(d));
  shell_ok("%s genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 2 "
           "--seed 4 > /dev/null && %s key keygen --secret %s/other.skey > /dev/null && "
           "%s delegation issue-certificate --testnet-magic 7 --epoch 0 --secret %s/other.skey "
           "--delegate-key %s/net/delegate-keys.000.skey --certificate %s/rogue.json > /dev/null",
           CDL_CLI, d, CDL_CLI, d, CDL_CLI, d, d, d);
  expect_certificate_check(
      0, NULL,
      "--testnet-magic 7 --certificate %s/net/delegation-cert.001.json --genesis "
      "%s/net/genesis.json --issuer-key %s/net/genesis-keys.001.skey --delegate-key "
      "%s/net/delegate-keys.001.skey",
      d, d, d, d);
  json_t *j = parse(stdout_buf);
  assert_true(json_is_true(member(j, "valid")));
  assert_true(json_is_integer(member(j, "genesis_key_index")));
  assert_int_equal(num(j, "protocol_magic"), 7);
  json_decref(j);
  /* The genesis alone gives the network. */
  expect_certificate_check(
      0, NULL, "--certificate %s/net/delegation-cert.001.json --genesis %s/net/genesis.json", d, d);
  expect_certificate_check(1, "delegation.signature",
                           "--testnet-magic 8 --certificate %s/net/delegation-cert.001.json", d);
  expect_certificate_check(1, "delegation.signature",
                           "--mainnet --certificate %s/net/delegation-cert.001.json", d);
  expect_certificate_check(0, NULL, "--testnet-magic 7 --certificate %s/rogue.json",
                           d); /* signed, by anyone */
  expect_certificate_check(
      1, "delegation.non_genesis_delegator",
      "--testnet-magic 7 --certificate %s/rogue.json --genesis %s/net/genesis.json", d, d);
  expect_certificate_check(
      1, "delegation.issuer_mismatch",
      "--testnet-magic 7 --certificate %s/net/delegation-cert.000.json --issuer-key "
      "%s/net/genesis-keys.001.skey",
      d, d);
  expect_certificate_check(
      1, "delegation.delegate_mismatch",
      "--testnet-magic 7 --certificate %s/net/delegation-cert.000.json --delegate-key "
      "%s/other.skey",
      d, d);
  expect_certificate_check(2, NULL, "--testnet-magic 7 --certificate %s/net/genesis-keys.000.skey",
                           d);
  expect_certificate_check(2, NULL, "--certificate %s/net/delegation-cert.000.json",
                           d); /* no network */
  char args[512];
  snprintf(args, sizeof args,
           "delegation check-delegation --testnet-magic 7 --certificate "
           "%s/net/delegation-cert.000.json",
           d);
  assert_int_equal(cli(args), 0); /* cardano-cli's old name */
  shell_ok("rm -rf %s", d);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A node serving an empty chain of a fresh network (magic 7, 3 genesis
 * keys) on a Unix socket; its pid, or fails the test. The TCP port is
 * below 32768; the next is tried when one is taken. */
static pid_t start_node(const char *dir) {
  shell_ok("%s genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 3 "
           "--seed 5 > /dev/null && %s db import --db %s/db --genesis %s/net/genesis.json "
           "/dev/null > /dev/null",
           CDL_CLI, dir, CDL_CLI, dir, dir);
  for (int attempt = 0; attempt < 5; attempt++) {
    int port = 20000 + (int)((getpid() * 7 + attempt * 101) % 12000);
    shell_ok("%s serve --db %s/db --host 127.0.0.1 --port %d --socket-path %s/node.socket "
             "> %s/ready.json 2> %s/node.log & echo $! > %s/pid",
             CDL_NODE, dir, port, dir, dir, dir, dir);
    char path[256];
    snprintf(path, sizeof path, "%s/pid", dir);
    FILE *f = fopen(path, "r");
    int pid = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    cli_child_started(pid);
    snprintf(path, sizeof path, "%s/ready.json", dir);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; i++) {
      struct stat st;
      if (stat(path, &st) == 0 && st.st_size > 0)
        return pid;
      sleep_ms(100);
    }
    kill(pid, SIGTERM);
  }
  fail_msg("cardinal-node serve did not start");
  return -1;
}

static void stop_node(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
    sleep_ms(100);
  if (kill(pid, 0) == 0) {
    kill(pid, SIGKILL);
    fail_msg("cardinal-node serve did not stop on SIGTERM");
  }
  cli_child_ended(pid);
}

/* Submits with the printf-formatted |fmt|: exit |want|; on a refusal the
 * readable error has |rule| and the payload kind |payload|. */
static void expect_submit(int want, const char *rule, const char *payload, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect_submit(int want, const char *rule, const char *payload, const char *fmt, ...) {
  char args[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  int rc = cli(args);
  if (rc != want)
    fail_msg("%s: exit %d, not %d: %s", args, rc, want, stderr_buf);
  if (rule == NULL)
    return;
  assert_string_equal(error_rule(), rule);
  json_t *root = parse(stderr_buf), *e = member(root, "error");
  assert_true(strlen(str(e, "message")) > 0);
  if (payload)
    assert_string_equal(str(e, "payload"), payload);
  assert_null(json_object_get(e, "reason_cbor")); /* decoded, so no hex */
  json_decref(root);
}

/* A proposal or vote from |key| into DIR/|out|; the id printed. */
static void make(const char *dir, const char *what, const char *key, const char *out, char id[65]) {
  char args[1500];
  if (strcmp(what, "proposal") == 0)
    snprintf(args, sizeof args,
             "governance create-update-proposal --testnet-magic 7 --signing-key %s "
             "--protocol-version-major 0 --protocol-version-minor 1 --protocol-version-alt 0 "
             "--application-name cardinal --software-version-num 1 --system-tag linux "
             "--installer-hash x --max-tx-size 8192 --filepath %s/%s",
             key, dir, out);
  else
    snprintf(args, sizeof args,
             "governance create-proposal-vote --signing-key %s %s --output-filepath %s/%s", key,
             what, dir, out);
  if (cli(args) != 0)
    fail_msg("%s: %s", args, stderr_buf);
  json_t *j = parse(stdout_buf);
  snprintf(id, 65, "%s", str(j, "id"));
  json_decref(j);
}

/* DIR/tx: an unsigned tx spending input 3 of a tx that never was, paying
 * 1 ADA to cardano-cli's golden key. Made with the library, as `tx build`
 * refuses an input its node does not hold: the node must see this one. */
static void write_missing_input_tx(const char *dir) {
  shell_ok("%s key signing-key-address --testnet-magic 7 --secret %s/byron.skey | "
           "sed -n 's/.*\"address\": \"\\([^\"]*\\)\".*/\\1/p' > %s/addr",
           CDL_CLI, GOLDEN, dir);
  char path[512], b58[256] = "";
  snprintf(path, sizeof path, "%s/addr", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(b58, sizeof b58, f));
  fclose(f);
  b58[strcspn(b58, "\n")] = '\0';
  cdl_buf addr, tx;
  cdl_buf_init(&addr, 0);
  cdl_buf_init(&tx, 0);
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_address parsed;
  assert_int_equal(cdl_byron_address_from_base58(b58, &addr, &ctx, &parsed), CDL_OK);
  cdl_payload_tx_input in = {.index = 3};
  cdl_payload_tx_output out = {cdl_span_of(addr.data, addr.len), 1000000};
  uint8_t id[32];
  cdl_payload_tx_body(&in, 1, &out, 1, &tx, id);
  snprintf(path, sizeof path, "%s/tx", dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(tx.data, 1, tx.len, f), tx.len);
  fclose(f);
  cdl_arena_free(&arena);
  cdl_buf_free(&addr);
  cdl_buf_free(&tx);
}

/* The node's ledger judges: who proposes and votes, for what, signed for
 * which network; each refusal comes back as the ledger's rule. */
static void test_submit_to_node(void **state) {
  (void)state;
  char d[] = "/tmp/cdl-gov-node-XXXXXX", id[65], good[65], vote_opts[512];
  assert_non_null(mkdtemp(d));
  pid_t node = start_node(d);
  const char *S = "--socket-path";
  make(d, "proposal", GOLDEN "/byron.skey", "rogue.prop", id);
  expect_submit(1, "update.proposer_not_delegate", "proposal",
                "governance submit-update-proposal %s %s/node.socket --filepath %s/rogue.prop", S,
                d, d);
  char key[256];
  snprintf(key, sizeof key, "%s/net/delegate-keys.000.skey", d);
  make(d, "proposal", key, "good.prop", good);
  expect_submit(0, NULL, NULL,
                "governance submit-update-proposal %s %s/node.socket --testnet-magic 7 "
                "--filepath %s/good.prop",
                S, d, d);
  json_t *j = parse(stdout_buf);
  assert_string_equal(str(j, "id"), good); /* the id create-update-proposal printed */
  json_decref(j);
  const struct {
    const char *key, *proposal, *flags, *rule;
  } VOTES[] = {
      {"%s/net/delegate-keys.001.skey", "rogue.prop", "--testnet-magic 7 --vote-yes",
       "update.vote_for_unknown_proposal"},
      {GOLDEN "/byron.skey%.0s", "good.prop", "--testnet-magic 7 --vote-yes",
       "update.voter_not_delegate"},
      {"%s/net/delegate-keys.002.skey", "good.prop", "--testnet-magic 7 --vote-no",
       "update.vote_signature"},
      {"%s/net/delegate-keys.002.skey", "good.prop", "--testnet-magic 8 --vote-yes",
       "update.vote_signature"}, /* signed for another network */
      {"%s/net/delegate-keys.001.skey", "good.prop", "--testnet-magic 7 --vote-yes", NULL}};
  for (size_t i = 0; i < sizeof VOTES / sizeof VOTES[0]; i++) {
    char out[32];
    snprintf(key, sizeof key, VOTES[i].key, d);
    snprintf(out, sizeof out, "v%zu", i);
    snprintf(vote_opts, sizeof vote_opts, "--proposal-filepath %s/%s %s", d, VOTES[i].proposal,
             VOTES[i].flags);
    make(d, vote_opts, key, out, id);
    expect_submit(VOTES[i].rule ? 1 : 0, VOTES[i].rule, "vote",
                  "governance submit-proposal-vote %s %s/node.socket --filepath %s/%s", S, d, d,
                  out);
  }
  j = parse(stdout_buf);
  assert_string_equal(str(j, "id"), id);
  assert_string_equal(str(j, "proposal_id"), good);
  json_decref(j);
  expect_submit(1, "mempool.duplicate", NULL,
                "governance submit-proposal-vote %s %s/node.socket --filepath %s/v4", S, d, d);
  /* A tx spending an input that never was: the Haskell node's own
   * encoding of a missing input, decoded, the input named. */
  write_missing_input_tx(d);
  shell_ok("%s tx sign --tx-file %s/tx --signing-key %s/byron.skey --testnet-magic 7 --out-file "
           "%s/tx.signed > /dev/null",
           CDL_CLI, d, GOLDEN, d);
  expect_submit(1, "utxo.missing_input", "tx", "tx submit %s %s/node.socket %s/tx.signed", S, d, d);
  j = parse(stderr_buf);
  json_t *input = member(member(j, "error"), "input");
  assert_int_equal(num(input, "index"), 3);
  assert_string_equal(str(input, "tx_id"),
                      "0000000000000000000000000000000000000000000000000000000000000000");
  json_decref(j);
  /* The wrong network is refused at the handshake. */
  expect_submit(1, "net.handshake_refused", NULL,
                "governance submit-proposal-vote %s %s/node.socket --mainnet --filepath %s/v4", S,
                d, d);
  stop_node(node);
  shell_ok("rm -rf %s", d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cardano_cli_goldens), cmocka_unit_test(test_proposal_refused_locally),
      cmocka_unit_test(test_proposal_parameters), cmocka_unit_test(test_malformed_files),
      cmocka_unit_test(test_keys_and_addresses),  cmocka_unit_test(test_check_certificate),
      cmocka_unit_test(test_submit_to_node)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
