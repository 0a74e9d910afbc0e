/*
 * test_cli.c: cardinal-cli end to end (docs/cli.md): runs the real binary on
 * real vectors and checks its JSON output, error JSON and exit codes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_support.h"

static void test_genesis_commands(void **state) {
  (void)state;
  char args[512];
  snprintf(args, sizeof args, "genesis hash --genesis %s", vec_path("genesis/mainnet/mainnet-byron-genesis.json"));
  assert_int_equal(cli(args), 0);
  assert_string_equal(stdout_buf, "5f20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb\n");
  snprintf(args, sizeof args, "genesis utxo --genesis %s", vec_path("genesis/mainnet/mainnet-byron-genesis.json"));
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(j, "entries"), 14505);
  assert_true(num(j, "lovelace") == 31112484745000000ll);
  json_decref(j);
  snprintf(args, sizeof args, "genesis utxo --list --genesis %s", vec_path("genesis/preprod/byron-genesis.json"));
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  json_t *list = json_object_get(j, "utxo");
  assert_int_equal(json_array_size(list), 8);
  json_t *first = json_array_get(list, 0);
  assert_int_equal(strlen(str(first, "tx_id")), 64);
  assert_int_equal(num(first, "index"), 0);
  assert_memory_equal(str(first, "address"), "FHnt4NL7yP", 10);
  json_decref(j);
  assert_int_equal(cli("genesis hash --genesis /nonexistent/genesis.json"), 3);
  assert_string_equal(error_rule(), "io.failure");
  assert_int_equal(cli("genesis hash"), 2);
  assert_int_equal(cli("genesis frobnicate --genesis x"), 2);
}

static void test_block_show(void **state) {
  (void)state;
  char args[512];
  snprintf(args, sizeof args, "block show %s", vec_path("blocks/daedalus-turbo/mainnet-block-0.cbor"));
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_string_equal(str(j, "kind"), "ebb");
  assert_string_equal(str(j, "hash"), "89d9b5a5b8ddc8d7e5a6795e9774d97faf1efea59b2caf7eaf9f8c5b32059df4");
  assert_string_equal(str(j, "prev_hash"), "5f20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb");
  assert_int_equal(num(j, "block_no"), 0);
  assert_true(json_is_null(json_object_get(j, "ssc")));
  json_t *checks = json_object_get(j, "checks");
  assert_true(json_is_true(json_object_get(checks, "body_proof")));
  assert_true(json_is_null(json_object_get(checks, "signature")));
  json_decref(j);

  snprintf(args, sizeof args, "block show %s", vec_path("blocks/pallas/byron2.block.hex"));
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "kind"), "main");
  assert_int_equal(num(j, "slot"), 3241381);
  assert_int_equal(num(j, "slot_in_epoch"), 1381);
  assert_int_equal(num(j, "epoch"), 150);
  assert_int_equal(num(j, "block_no"), 3239842);
  assert_int_equal(num(j, "protocol_magic"), 764824073);
  assert_int_equal(num(j, "tx_count"), 2);
  assert_string_equal(str(j, "ssc"), "commitments");
  json_t *tx = json_array_get(json_object_get(j, "txs"), 0);
  assert_string_equal(str(tx, "id"), "a06e5a0150e09f8983be2deafab9e04afc60d92e7110999eb672c903343f1e26");
  assert_int_equal(num(tx, "size"), 220);
  json_t *in = json_array_get(json_object_get(tx, "inputs"), 0);
  assert_int_equal(num(in, "index"), 14);
  json_t *out = json_array_get(json_object_get(tx, "outputs"), 0);
  assert_true(num(out, "lovelace") > 0);
  assert_memory_equal(str(out, "address"), "DdzFF", 5);
  assert_string_equal(str(json_array_get(json_object_get(tx, "witnesses"), 0), "type"), "pubkey");
  checks = json_object_get(j, "checks");
  assert_true(json_is_true(json_object_get(checks, "body_proof")));
  assert_true(json_is_true(json_object_get(checks, "signature")));
  json_decref(j);
}

static void test_block_show_options_and_errors(void **state) {
  (void)state;
  char args[512];
  /* Preprod: checked with the header's magic by default, or as given. */
  snprintf(args, sizeof args, "block show %s", vec_path("blocks/pallas/byron8.block.hex"));
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  json_t *prop = json_object_get(j, "update_proposal");
  assert_string_equal(str(prop, "id"), "5474e0cf8e8f6b97b6fb962cc1d144c31707279cb655b6f0f83bda64d396fbeb");
  assert_int_equal(num(j, "update_votes"), 7);
  assert_true(json_is_true(json_object_get(json_object_get(j, "checks"), "signature")));
  json_decref(j);
  snprintf(args, sizeof args, "block show --protocol-magic 764824073 %s", vec_path("blocks/pallas/byron8.block.hex"));
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_true(json_is_false(json_object_get(json_object_get(j, "checks"), "signature")));
  json_decref(j);
  /* A bare (unwrapped) block and a different epoch length. */
  snprintf(args, sizeof args, "block show --epoch-slots 4320 %s", vec_path("blocks/gouroboros/mainnet-Epoch1Slot21601.hex"));
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(j, "slot"), 4320 + 1);
  assert_int_equal(num(j, "size"), 3901 / 2);
  json_decref(j);
  /* Invalid input: exit 1 with the rule; bad options: exit 2. */
  char path[] = "/tmp/cdl-cli-block-XXXXXX";
  int fd = mkstemp(path);
  assert_int_equal(write(fd, "\x82\x01\x83", 3), 3);
  close(fd);
  snprintf(args, sizeof args, "block show %s", path);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "cbor.truncated");
  unlink(path);
  assert_int_equal(cli("block show --epoch-slots 0 x"), 2);
  assert_int_equal(cli("block show"), 2);
}

static void test_block_list(void **state) {
  (void)state;
  cdl_buf chunk;
  char path[] = "/tmp/cdl-cli-chunk-XXXXXX", args[512];
  vec_epoch0_chunk(&chunk);
  int fd = mkstemp(path);
  assert_int_equal(write(fd, chunk.data, chunk.len), (ssize_t)chunk.len);
  close(fd);
  snprintf(args, sizeof args, "block list %s", path);
  assert_int_equal(cli(args), 0);
  size_t lines = 0;
  json_int_t next_offset = 0;
  json_t *last = NULL;
  for (char *line = strtok(stdout_buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    json_decref(last);
    last = parse(line);
    assert_int_equal(num(last, "offset"), next_offset);
    next_offset += num(last, "size");
    if (lines == 0) assert_string_equal(str(last, "kind"), "ebb");
    lines++;
  }
  assert_int_equal(lines, 21587);
  assert_int_equal(next_offset, (json_int_t)chunk.len);
  assert_string_equal(str(last, "hash"), "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911");
  assert_int_equal(num(last, "slot"), 21599);
  assert_int_equal(num(last, "block_no"), 21586);
  json_decref(last);
  /* verify: from the genesis hash through every proof and signature. */
  snprintf(args, sizeof args, "block verify --genesis %s %s",
           vec_path("genesis/mainnet/mainnet-byron-genesis.json"), path);
  assert_int_equal(cli(args), 0);
  json_t *v = parse(stdout_buf);
  assert_int_equal(num(v, "blocks"), 21587);
  assert_int_equal(num(v, "ebbs"), 1);
  assert_int_equal(num(v, "txs"), 33);
  assert_string_equal(str(json_object_get(v, "tip"), "hash"),
                      "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911");
  json_decref(v);
  snprintf(args, sizeof args, "block verify --genesis %s %s",
           vec_path("genesis/preprod/byron-genesis.json"), path);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "block.prev_hash");
  unlink(path);
  cdl_buf_free(&chunk);
  /* A piece of a chunk with blocks missing between its blocks. */
  snprintf(args, sizeof args, "block verify %s",
           vec_path("blocks/daedalus-turbo/chunk-registry-new/0-0.chunk"));
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "block.prev_hash");
}

static void test_tx_and_address(void **state) {
  (void)state;
  char args[512];
  snprintf(args, sizeof args, "tx show %s", vec_path("txs/byron2.tx.hex"));
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_string_equal(str(j, "id"), "a9e4413a5fb61a7a43c7df006ffcaaf3f2ffc9541f54757023968c5a8f8294fd");
  assert_int_equal(num(j, "size"), 130);
  assert_string_equal(str(json_array_get(json_object_get(j, "witnesses"), 0), "type"), "redeem");
  json_decref(j);
  assert_int_equal(cli("address show 37btjrVyb4KDXBNC4haBVPCrro8AQPHwvCMp3RFhhSVWwfFmZ6wwzSK6JK1hY6wHNmtrpTf1kdbva8TCneM2YsiXT7mrzT21EacHnPpz5YyUdj64na"), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "type"), "pubkey");
  json_t *attrs = json_object_get(j, "attributes");
  assert_int_equal(num(attrs, "network_magic"), 1097911063);
  assert_non_null(json_object_get(attrs, "hd_payload"));
  assert_int_equal(strlen(str(j, "root")), 56);
  json_decref(j);
  assert_int_equal(cli("address show 5FCjkr138i9wjRVwawmYMd4Vc9KxU7TuQhMyjMGpnykg9yb2qMpUCerDFzXvfAJMFgJTHyD7Sn4ybLXm2M6zeWAaWe7ctjq5QjVL427vGRx"), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "type"), "unknown:7");
  json_decref(j);
  assert_int_equal(cli("address show FHnt4NHDYS3mWHPRvgbJio3nHma3qW76bo7z9oYfDsie9GpqdUT5VFrQrVkhie5"), 1);
  assert_string_equal(error_rule(), "cbor.trailing_bytes");
  assert_int_equal(cli("address show Ae2tdPwUPEZDoUnyXuAgqzhkjNXNJeiZ5nqwprg9sArZmRNjySfJ5uz4Fj0"), 1);
  assert_string_equal(error_rule(), "text.base58");
  assert_int_equal(cli("address show Ae2tdPwUPEZDoUnyXuAgqzhkjNXNJeiZ5nqwprg9sArZmRNjySfJ5uz4Fjc"), 1);
  assert_string_equal(error_rule(), "address.crc");
  assert_int_equal(cli("address show"), 2);
}

#define MAINNET_GENESIS "genesis/mainnet/mainnet-byron-genesis.json"
#define EPOCH0_ZSTD "blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd"

static void test_chain_validate(void **state) {
  (void)state;
  char args[2048], genesis[1024];
  snprintf(genesis, sizeof genesis, "%s", vec_path(MAINNET_GENESIS)); /* static storage */
  snprintf(args, sizeof args, "chain validate --genesis %s --chunk %s --threads 2", genesis,
           vec_path(EPOCH0_ZSTD));
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(j, "blocks"), 21587);
  assert_int_equal(num(j, "ebbs"), 1);
  assert_int_equal(num(j, "txs"), 33);
  assert_string_equal(str(json_object_get(j, "tip"), "hash"),
                      "3bd04916b6bc2ad849d519cfae4ffe3b1a1660c098dbcd3e884073dd54bc8911");
  assert_int_equal(num(json_object_get(j, "utxo"), "lovelace") + num(j, "fees_lovelace"),
                   31112484745000000ll);
  json_decref(j);

  /* A chunk cut inside its last block: exit 1 naming the block's place. */
  cdl_buf chunk;
  vec_epoch0_chunk(&chunk);
  char path[] = "/tmp/cdl-cli-cut-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, chunk.data, chunk.len - 10), (ssize_t)(chunk.len - 10));
  close(fd);
  snprintf(args, sizeof args, "chain validate --genesis %s --chunk %s --no-signatures",
           genesis, path);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "cbor.truncated");
  assert_non_null(strstr(stderr_buf, "\"block_no\":21586"));
  unlink(path);
  cdl_buf_free(&chunk);

  assert_int_equal(cli("chain validate --genesis x --db /tmp --chunk y"), 2);
  assert_int_equal(cli("chain validate --chunk x"), 2);
  assert_int_equal(cli("chain validate --genesis x --chunk y --pbft-threshold 0.2x"), 2);
  assert_int_equal(cli("chain validate --genesis x --chunk y --pbft-threshold 1.5"), 2);
}

/* genesis create -> genesis hash / print-secrets -> chain generate ->
 * chain validate -> chain generate-invalid -> chain validate refuses. */
static void test_generators(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-gen-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char net[128], chunk[160], bad[160], args[1024];
  snprintf(net, sizeof net, "%s/net", dir);
  snprintf(chunk, sizeof chunk, "%s/chain.chunk", dir);
  snprintf(bad, sizeof bad, "%s/bad.chunk", dir);
  snprintf(args, sizeof args,
           "genesis create --out-dir %s --protocol-magic 7 --k 5 --slot-duration-ms 1000 "
           "--start-time 1700000000 --genesis-keys 5 --avvm-entries 2 --avvm-balance 5000000 "
           "--poor-addresses 4 --poor-balance 3000000000000 --seed 11", net);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  char hash[65];
  snprintf(hash, sizeof hash, "%s", str(j, "genesis_hash"));
  assert_int_equal(num(json_object_get(j, "utxo"), "entries"), 6);
  assert_int_equal(num(json_object_get(j, "utxo"), "lovelace"), 2 * 5000000ll + 4 * 3000000000000ll);
  json_decref(j);
  snprintf(args, sizeof args, "genesis hash --genesis %s/genesis.json", net);
  assert_int_equal(cli(args), 0);
  assert_non_null(strstr(stdout_buf, hash));
  snprintf(args, sizeof args, "genesis print-secrets --dir %s", net);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(json_array_size(json_object_get(j, "genesis_keys")), 5);
  assert_int_equal(json_array_size(json_object_get(j, "poor")), 4);
  assert_int_equal(num(json_array_get(json_object_get(j, "poor"), 0), "lovelace"), 3000000000000ll);
  json_decref(j);
  /* Two epochs (50 slots each) with every payload kind, then validated. */
  snprintf(args, sizeof args,
           "chain generate --genesis-dir %s --out %s --slots 120 --txs-per-block 2 "
           "--delegation --updates --seed 4", net, chunk);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_true(json_is_true(json_object_get(j, "update_adopted")));
  json_int_t blocks = num(j, "blocks") + num(j, "ebbs");
  json_decref(j);
  snprintf(args, sizeof args, "chain validate --genesis %s/genesis.json --chunk %s", net, chunk);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(j, "blocks"), blocks);
  json_decref(j);
  /* One defect: refused at exactly the reported block with its rule. */
  snprintf(args, sizeof args,
           "chain generate-invalid --from %s --genesis-dir %s --case wrong-witness --seed 3 "
           "--out %s", chunk, net, bad);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  char expect[64];
  snprintf(expect, sizeof expect, "\"block_no\":%lld", (long long)num(j, "block_no"));
  assert_string_equal(str(j, "expected_rule"), "utxo.witness_address");
  json_decref(j);
  snprintf(args, sizeof args, "chain validate --genesis %s/genesis.json --chunk %s", net, bad);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "utxo.witness_address");
  assert_non_null(strstr(stderr_buf, expect));
  assert_int_equal(cli("chain generate-invalid --list"), 0);
  j = parse(stdout_buf);
  assert_true(json_array_size(j) >= 20);
  json_decref(j);
  assert_int_equal(cli("chain generate-invalid --list --case"), 2);
  /* key migrate: envelope -> raw -> legacy -> envelope keeps the key. */
  char raw[160], legacy[160], back[160];
  snprintf(raw, sizeof raw, "%s/delegate.raw", dir);
  snprintf(legacy, sizeof legacy, "%s/delegate.legacy", dir);
  snprintf(back, sizeof back, "%s/delegate.skey", dir);
  snprintf(args, sizeof args, "key migrate --in %s/delegate-keys.000.skey --out %s", net, raw);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "out_format"), "raw");
  char pk[129];
  snprintf(pk, sizeof pk, "%s", str(j, "public_key"));
  json_decref(j);
  snprintf(args, sizeof args, "key migrate --in %s --out %s --to legacy", raw, legacy);
  assert_int_equal(cli(args), 0);
  assert_int_equal(cli(args), 2); /* --out exists now */
  snprintf(args, sizeof args, "key migrate --in %s --out %s", legacy, back);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "in_format"), "legacy");
  assert_string_equal(str(j, "out_format"), "envelope");
  assert_string_equal(str(j, "public_key"), pk);
  json_decref(j);
  snprintf(args, sizeof args, "rm -rf %s", dir);
  assert_int_equal(system(args), 0);
}

/* The certificate in a `delegation issue-certificate` envelope verifies
 * under |magic|. */
static bool certificate_verifies(const char *path, uint32_t magic, uint64_t *epoch) {
  cdl_buf file, cbor;
  cdl_buf_init(&file, 0);
  cdl_buf_init(&cbor, 0);
  cdl_error err = {0};
  assert_int_equal(cdl_file_read_all(path, 1 << 16, &file, &err), CDL_OK);
  cdl_buf_append(&file, "", 1);
  json_t *j = parse((const char *)file.data);
  assert_string_equal(str(j, "type"), "ByronDelegationCertificate");
  const char *hex = str(j, "cborHex");
  assert_int_equal(cdl_hex_decode_loose((const uint8_t *)hex, strlen(hex), &cbor, &err), CDL_OK);
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, cbor.data, cbor.len, &err);
  cdl_byron_dlg_cert cert;
  assert_int_equal(cdl_byron_dlg_cert_read(&cur, &cert), CDL_OK);
  bool ok = cdl_byron_dlg_cert_verify(&cert, magic);
  *epoch = cert.epoch;
  json_decref(j);
  cdl_buf_free(&file);
  cdl_buf_free(&cbor);
  return ok;
}

/* key keygen, then delegation issue-certificate for it by a genesis key;
 * delegation submit's usage and a node that is not there. */
static void test_key_and_delegation(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-dlg-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char args[1024], key[160], cert[160];
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 3 --seed 2",
           dir);
  assert_int_equal(cli(args), 0);
  /* The issuer's key hash, as key migrate reads it from its file. */
  snprintf(args, sizeof args, "key migrate --in %s/net/genesis-keys.001.skey --out %s/g1.raw", dir,
           dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  char issuer[57];
  const char *hash = str(j, "key_hash");
  snprintf(issuer, sizeof issuer, "%s", hash ? hash : "");
  json_decref(j);
  snprintf(key, sizeof key, "%s/new.skey", dir);
  snprintf(args, sizeof args, "key keygen --secret %s", key);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  char delegate[57], pk[129];
  hash = str(j, "key_hash");
  snprintf(delegate, sizeof delegate, "%s", hash ? hash : "");
  hash = str(j, "public_key");
  snprintf(pk, sizeof pk, "%s", hash ? hash : "");
  json_decref(j);
  assert_int_equal(strlen(delegate), 56);
  assert_int_equal(cli(args), 2); /* never over an existing key */
  snprintf(args, sizeof args, "key migrate --in %s --out %s/new.raw", key, dir);
  assert_int_equal(cli(args), 0); /* a key file as every command reads them */
  j = parse(stdout_buf);
  assert_string_equal(str(j, "public_key"), pk);
  json_decref(j);
  snprintf(cert, sizeof cert, "%s/cert.json", dir);
  snprintf(args, sizeof args,
           "delegation issue-certificate --testnet-magic 7 --epoch 3 --secret "
           "%s/net/genesis-keys.001.skey --delegate-key %s --certificate %s",
           dir, key, cert);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "issuer"), issuer);
  assert_string_equal(str(j, "delegate"), delegate);
  assert_int_equal(num(j, "epoch"), 3);
  assert_int_equal(strlen(str(j, "id")), 64);
  json_decref(j);
  uint64_t epoch = 0;
  assert_true(certificate_verifies(cert, 7, &epoch));
  assert_int_equal(epoch, 3);
  assert_false(certificate_verifies(cert, 8, &epoch)); /* signed for network 7 only */
  snprintf(args, sizeof args,
           "delegation issue-certificate --mainnet --testnet-magic 7 --epoch 3 --secret %s "
           "--delegate-key %s --certificate %s",
           key, key, cert);
  assert_int_equal(cli(args), 2);
  snprintf(args, sizeof args,
           "delegation issue-certificate --mainnet --secret %s --delegate-key %s --certificate %s",
           key, key, cert);
  assert_int_equal(cli(args), 2); /* no --epoch */
  snprintf(args, sizeof args, "delegation submit --certificate %s", cert);
  assert_int_equal(cli(args), 2); /* no --socket-path */
  snprintf(args, sizeof args, "delegation submit --socket-path %s/none.socket --certificate %s",
           dir, cert);
  assert_int_equal(cli(args), 3);
  snprintf(args, sizeof args, "rm -rf %s", dir);
  assert_int_equal(system(args), 0);
}

/* One byte of |path| at |offset| xor 0x5a. */
static void flip_byte(const char *path, long offset) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, offset, SEEK_SET), 0);
  int c = fgetc(f);
  assert_int_equal(fseek(f, offset, SEEK_SET), 0);
  fputc(c ^ 0x5a, f);
  fclose(f);
}

/* db import -> info -> chain validate --db -> export (the same bytes) ->
 * damage -> validate (exit 1) -> repair -> validate -> truncate. */
static void test_db_commands(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-db-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char args[1024], tip[65];
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 5 "
           "--poor-addresses 3 --poor-balance 3000000000000 --seed 3", dir);
  assert_int_equal(cli(args), 0);
  snprintf(args, sizeof args, "chain generate --genesis-dir %s/net --out %s/c.chunk --slots 160 "
           "--txs-per-block 1 --seed 3 --pbft-threshold 0.5", dir, dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  json_int_t blocks = num(j, "blocks") + num(j, "ebbs");
  snprintf(tip, sizeof tip, "%s", str(json_object_get(j, "tip"), "hash"));
  json_decref(j);
  snprintf(args, sizeof args, "db import --db %s/db --genesis %s/net/genesis.json "
           "--pbft-threshold 0.5 %s/c.chunk", dir, dir, dir);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(j, "adopted"), blocks);
  assert_int_equal(num(j, "immutable_blocks"), blocks - 5); /* k = 5 stay volatile */
  assert_string_equal(str(json_object_get(j, "tip"), "hash"), tip);
  json_decref(j);
  /* The database keeps the threshold it was built with; another is refused
   * (the ledger would refuse stored blocks and the open cut them). */
  snprintf(args, sizeof args, "db info --db %s/db --pbft-threshold 0.3", dir);
  assert_int_equal(cli(args), 2);
  snprintf(args, sizeof args, "db info --db %s/db", dir);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(json_object_get(j, "tip"), "hash"), tip);
  assert_int_equal(json_array_size(json_object_get(j, "snapshots")), 2);
  json_decref(j);
  snprintf(args, sizeof args, "chain validate --db %s/db", dir);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(j, "blocks"), blocks);
  json_decref(j);
  snprintf(args, sizeof args, "db export --db %s/db --out %s/x.chunk", dir,
           dir);
  assert_int_equal(cli(args), 0);
  char a[160], b[160];
  snprintf(a, sizeof a, "%s/c.chunk", dir);
  snprintf(b, sizeof b, "%s/x.chunk", dir);
  assert_true(same_file(a, b));
  /* One byte inside the second chunk: refused by validate, cut by repair. */
  snprintf(a, sizeof a, "%s/db/immutable/00001.chunk", dir);
  flip_byte(a, 3000);
  snprintf(args, sizeof args, "db validate --db %s/db", dir);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "storage.damaged");
  snprintf(args, sizeof args, "db repair --db %s/db", dir);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  json_int_t repaired_no = num(json_object_get(j, "tip"), "block_no");
  assert_true(repaired_no < blocks - 1);
  json_decref(j);
  snprintf(args, sizeof args, "db validate --db %s/db", dir);
  assert_int_equal(cli(args), 0);
  snprintf(args, sizeof args, "db truncate --db %s/db --to-slot 30", dir);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_true(num(json_object_get(j, "tip"), "slot") <= 30);
  assert_true(num(json_object_get(j, "tip"), "slot") >= 25);
  json_decref(j);
  snprintf(args, sizeof args, "rm -rf %s", dir);
  assert_int_equal(system(args), 0);
}

/* `cd DIR && cksum` of every file of a database but its lock (whose
 * holder writes its pid), into DIR/NAME. */
static void db_sums(const char *dir, const char *name) {
  shell_ok("cd %s && find db -type f ! -name lock | sort | xargs cksum > %s", dir, name);
}

/* db info, validate and repair of DIR/db are each refused with
 * storage.missing, exit 3, saying |what|; no file of it changes. */
static void expect_db_missing(const char *dir, const char *what) {
  static const char *const verbs[] = {"info", "validate", "repair"};
  char args[512];
  db_sums(dir, "before");
  for (size_t i = 0; i < 3; i++) {
    snprintf(args, sizeof args, "db %s --db %s/db", verbs[i], dir);
    assert_int_equal(cli(args), 3);
    assert_string_equal(error_rule(), "storage.missing");
    if (strstr(stderr_buf, what) == NULL) fail_msg("db %s: %s", verbs[i], stderr_buf);
  }
  db_sums(dir, "after");
  shell_ok("cmp -s %s/before %s/after", dir, dir);
}

/* A chunk file deleted from a database (docs/storage.md "Missing
 * files"): mainnet epoch 0 imported, then `rm DIR/immutable/00000.chunk`,
 * then its index too (the snapshot proves the blocks missing); a devnet
 * database without its second chunk, cut by the truncation the refusal
 * names, validates again. */
static void test_db_missing_chunk(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-missing-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char args[1024], genesis[512];
  snprintf(genesis, sizeof genesis, "%s", vec_path("genesis/mainnet/mainnet-byron-genesis.json"));
  snprintf(args, sizeof args, "db import --db %s/db --genesis %s --no-signatures %s", dir, genesis,
           vec_path("blocks/daedalus-turbo/mainnet-epoch0-chunk-00000.zstd"));
  assert_int_equal(cli(args), 0);
  shell_ok("rm %s/db/immutable/00000.chunk", dir);
  expect_db_missing(dir, "immutable/00000.chunk is missing (its index 00000.cidx is there)");
  shell_ok("rm %s/db/immutable/00000.cidx", dir);
  expect_db_missing(dir, "the snapshot at slot 21599 (block 21586) is over k = 2160 blocks past "
                         "the immutable DB, which is empty");
  shell_ok("rm -rf %s/db", dir);
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 5 --seed 3 && "
           "%s chain generate --genesis-dir %s/net --out %s/c.chunk --slots 160 --seed 3 "
           "--pbft-threshold 0.5 >/dev/null && %s db import --db %s/db --genesis %s/net/genesis.json "
           "--pbft-threshold 0.5 %s/c.chunk",
           dir, CDL_CLI, dir, dir, CDL_CLI, dir, dir, dir);
  assert_int_equal(cli(args), 0);
  shell_ok("rm %s/db/immutable/00001.chunk", dir);
  expect_db_missing(dir, "immutable/00001.chunk is missing");
  const char *hint = strstr(stderr_buf, "db truncate --to-slot ");
  assert_non_null(hint);
  long long slot = atoll(hint + strlen("db truncate --to-slot "));
  assert_true(slot > 0 && slot < 50);
  snprintf(args, sizeof args, "db truncate --db %s/db --to-slot %lld", dir, slot);
  assert_int_equal(cli(args), 0);
  snprintf(args, sizeof args, "db validate --db %s/db", dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(json_object_get(j, "tip"), "slot"), slot);
  json_decref(j);
  shell_ok("rm -rf %s", dir);
}

/* stderr says |what|. */
static void expect_said(const char *what) {
  if (strstr(stderr_buf, what) == NULL) fail_msg("not said: %s\nstderr: %s", what, stderr_buf);
}

/* A genesis that breaks a bound or is not JSON (docs/genesis.md "Bounds"),
 * through the CLI and cardinal-node: refused, the error naming the file (and a syntax error's
 * line and column: line 14534 of the mainnet genesis is `        "k":
 * 2160,`, and a second comma is its 19th character), and no database made;
 * genesis create refuses a zero slot before it writes a file. */
static void test_genesis_errors_name_the_file(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-genesis-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char args[1024], want[256], main_genesis[512];
  snprintf(main_genesis, sizeof main_genesis, "%s",
           vec_path("genesis/mainnet/mainnet-byron-genesis.json"));
  shell_ok("cd %s && sed 's/\"k\": 2160,/\"k\": 2160,,/' %s > bad.json && "
           "sed 's/\"k\": 2160,/\"k\": 1000000000,/' %s > big.json && "
           "sed 's/\"slotDuration\": \"20000\"/\"slotDuration\": \"0\"/' %s > slot0.json && "
           "echo '{\"ByronGenesisFile\": \"big.json\"}' > config.json && "
           "echo '{\"Producers\": []}' > topology.json",
           dir, main_genesis, main_genesis, main_genesis);
  snprintf(args, sizeof args, "genesis hash --genesis %s/bad.json", dir);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "json.invalid");
  snprintf(want, sizeof want, "%s/bad.json: line 14534, column 19: ", dir);
  expect_said(want);
  snprintf(args, sizeof args, "db import --db %s/db --genesis %s/big.json /dev/null", dir, dir);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "genesis.invalid");
  snprintf(want, sizeof want, "%s/big.json: genesis field \\\"protocolConsts.k\\\"", dir);
  expect_said(want); /* quoted in the JSON error */
  snprintf(args, sizeof args, "chain validate --genesis %s/slot0.json --chunk /dev/null", dir);
  assert_int_equal(cli(args), 1);
  snprintf(want, sizeof want,
           "%s/slot0.json: genesis field \\\"blockVersionData.slotDuration\\\"", dir);
  expect_said(want);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd %s && %s run --config config.json --topology topology.json --database-path db "
           "--socket-path node.socket --port 0 2>node.err",
           dir, CDL_NODE);
  int status = system(cmd);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  /* The node logs JSON too: each . stands for the backslash before a quote. */
  shell_ok("grep -q 'big.json: genesis field .\"protocolConsts.k.\"' %s/node.err", dir);
  shell_ok("test ! -e %s/db", dir);
  /* genesis create checks the bounds before it writes anything. */
  shell_ok("echo '{\"slotDuration\": \"0\"}' > %s/params.json", dir);
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/net --protocol-magic 7 --k 5 --genesis-keys 2 "
           "--protocol-params %s/params.json",
           dir, dir);
  assert_int_equal(cli(args), 2);
  expect_said("slotDuration must be 1..86400000 ms");
  shell_ok("test ! -e %s/net/genesis.json", dir);
  shell_ok("rm -rf %s", dir);
}

/* `devnet create --dir DIR/net OPTIONS --poor-addresses 3`, which must
 * succeed (its output in stdout_buf). */
static void devnet_create(const char *dir, const char *options) {
  char args[1024];
  snprintf(args, sizeof args, "devnet create --dir %s/net %s --poor-addresses 3", dir, options);
  assert_int_equal(cli(args), 0);
}

/* devnet create writes a whole local network under one directory; devnet
 * watch reads its devnet.json as untrusted input. (The network running is
 * the system test's: tests/system/devnet_system.sh.) */
static void test_devnet_files(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-devnet-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char args[1024], path[256];
  devnet_create(dir, "--core-nodes 2 --relays 1 --slot-ms 500 --base-port 20000");
  json_t *j = parse(stdout_buf);
  json_t *nodes = json_object_get(j, "nodes");
  assert_int_equal(json_array_size(nodes), 3);
  assert_int_equal(num(json_array_get(nodes, 2), "port"), 20002);
  assert_int_equal(num(json_array_get(nodes, 2), "metrics_port"), 20102);
  assert_true(json_is_false(json_object_get(json_array_get(nodes, 2), "core")));
  assert_int_equal(num(j, "slot_ms"), 500);
  json_decref(j);
  const char *made[] = {"start.sh", "devnet.json", "genesis/genesis.json",
                        "genesis/delegate-keys.001.skey", "node-0/config.json",
                        "node-2/topology.json"};
  for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
    snprintf(path, sizeof path, "%s/net/%s", dir, made[i]);
    assert_int_equal(access(path, R_OK), 0);
  }
  snprintf(path, sizeof path, "%s/net/start.sh", dir);
  assert_int_equal(access(path, X_OK), 0);
  /* The relay's topology names both core nodes. */
  snprintf(path, sizeof path, "%s/net/node-2/topology.json", dir);
  json_error_t je;
  j = json_load_file(path, 0, &je);
  assert_int_equal(json_array_size(json_object_get(j, "Producers")), 2);
  json_decref(j);
  /* The versions the headers announce: the genesis's 0.0.0, cardano-sl 1. */
  snprintf(path, sizeof path, "%s/net/node-0/config.json", dir);
  j = json_load_file(path, 0, &je);
  assert_int_equal(num(j, "LastKnownBlockVersion-Major"), 0);
  assert_int_equal(num(j, "LastKnownBlockVersion-Minor"), 0);
  assert_int_equal(num(j, "LastKnownBlockVersion-Alt"), 0);
  assert_string_equal(json_string_value(json_object_get(j, "ApplicationName")), "cardano-sl");
  assert_int_equal(num(j, "ApplicationVersion"), 1);
  json_decref(j);
  /* Refusals: a node beyond the list, a node name that is a path. */
  snprintf(args, sizeof args, "devnet watch --dir %s/net --follow 3", dir);
  assert_int_equal(cli(args), 2);
  snprintf(args, sizeof args, "sed -i 's/\"node-1\"/\"..\\/x\"/' %s/net/devnet.json", dir);
  assert_int_equal(system(args), 0);
  snprintf(args, sizeof args, "devnet watch --dir %s/net --blocks 1", dir);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "json.invalid");
  assert_non_null(strstr(stderr_buf, "nodes[1].name"));
  snprintf(args, sizeof args, "rm -rf %s", dir);
  assert_int_equal(system(args), 0);
}

/* sync's settings (docs/cli.md "sync"; docs/storage.md "Identity files")
 * without a peer: the database opens before the connection, so port 1
 * (nothing listens) shows whether the settings were accepted (exit 3) or
 * refused (exit 2). A database built with 0.22 is refused by a config
 * saying 0.7 (a two-core devnet's 1/2 + 0.2) with a message naming both
 * values and the ways out, alike by sync (--config, --genesis-dir), db info
 * and cardinal-node run; --pbft-threshold overrides the config. */
static void test_sync_settings(void **state) {
  (void)state;
  char dir[] = "/tmp/cdl-cli-sync-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char args[1024], want[512];
  devnet_create(dir, "--core-nodes 2 --relays 0 --k 5");
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --genesis "
           "%s/net/genesis/genesis.json --pbft-threshold 0.22", dir, dir);
  assert_int_equal(cli(args), 3); /* the database is made, then the connection fails */
  shell_ok("test \"$(cat %s/db/pbft-threshold)\" = 0.220000", dir);
  shell_ok("test \"$(cat %s/db/requires-network-magic)\" = RequiresMagic", dir);
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --config %s/net/node-0/config.json",
           dir, dir);
  assert_int_equal(cli(args), 2);
  assert_string_equal(error_rule(), "usage");
  snprintf(want, sizeof want, "%s/db was built with PBFT threshold 0.22, but the config says 0.7: "
           "sync with --pbft-threshold 0.22, or start a fresh database with --db NEWDIR, or "
           "delete it", dir);
  expect_said(want);
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --genesis-dir %s/net", dir, dir);
  assert_int_equal(cli(args), 2);
  expect_said(want);
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --config %s/net/node-0/config.json "
           "--pbft-threshold 0.22", dir, dir);
  assert_int_equal(cli(args), 3);
  snprintf(args, sizeof args, "db info --db %s/db --pbft-threshold 0.7", dir);
  assert_int_equal(cli(args), 2);
  expect_said("but --pbft-threshold says 0.7: use --pbft-threshold 0.22, or start a fresh "
              "database with --db NEWDIR");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cd %s && %s run --config net/node-0/config.json --topology "
           "net/node-0/topology.json --database-path db --socket-path node.socket --port 0 "
           "2>node.err", dir, CDL_NODE);
  int status = system(cmd);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  shell_ok("grep -q 'db was built with PBFT threshold 0.22, but the config says 0.7: set its "
           "PBftSignatureThreshold to 0.22, or start a fresh database with --database-path "
           "NEWDIR' %s/node.err", dir);
  /* Another magic policy and another genesis are refused alike. */
  shell_ok("cd %s/net/node-0 && sed 's/\"RequiresMagic\"/\"RequiresNoMagic\"/' config.json "
           "> nomagic.json", dir);
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --config "
           "%s/net/node-0/nomagic.json --pbft-threshold 0.22", dir, dir);
  assert_int_equal(cli(args), 2);
  expect_said("was built with RequiresMagic, but the config says RequiresNoMagic");
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --genesis %s",
           dir, vec_path("genesis/mainnet/mainnet-byron-genesis.json"));
  assert_int_equal(cli(args), 2);
  snprintf(want, sizeof want, ", but --genesis says 5f20df93: sync with --genesis %s/db/genesis.json",
           dir);
  expect_said(want);
  snprintf(args, sizeof args, "sync --from 127.0.0.1:1 --db %s/db --config x --genesis-dir y", dir);
  assert_int_equal(cli(args), 2);
  shell_ok("rm -rf %s", dir);
}

/* The genesis, block, chain, key and address commands on argp (docs/cli.md
 * "Options and help"): `--help` exits 0 with the command's usage, its
 * options and an example of itself; a bad, missing or unknown option is a
 * usage error (exit 2) that names it; options other verbs of the noun
 * take are refused. */
static void test_inspection_commands_help_and_option_errors(void **state) {
  (void)state;
  static const char *const COMMANDS[] = {
      "genesis hash",          "genesis utxo",           "genesis create",
      "genesis print-secrets", "block show",             "block list",
      "block verify",          "chain validate",         "chain generate",
      "chain generate-invalid", "key keygen",            "key migrate",
      "key to-verification",   "key signing-key-public", "key signing-key-address",
      "address show",          "address build"};
  char args[128], want[128];
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
    snprintf(args, sizeof args, "%s --help", COMMANDS[i]);
    if (cli(args) != 0) fail_msg("%s: exit not 0", args);
    snprintf(want, sizeof want, "Usage: cardinal-cli %s ", COMMANDS[i]);
    if (strstr(stdout_buf, want) == NULL) fail_msg("%s: no '%s'", args, want);
    snprintf(want, sizeof want, "Example:\n  cardinal-cli %s ", COMMANDS[i]);
    if (strstr(stdout_buf, want) == NULL) fail_msg("%s: no example", args);
  }
  assert_int_equal(cli("chain validate --help"), 0);
  assert_non_null(strstr(stdout_buf, "--threads=N"));
  assert_non_null(strstr(stdout_buf, "(default: 1)"));
  static const struct {
    const char *args, *said;
  } ERRORS[] = {
      {"genesis hash", "genesis hash: --genesis FILE is required"},
      {"genesis utxo --genesis", "option '--genesis' requires an argument"},
      {"genesis create --out-dir /nonexistent/x --protocol-magic 7 --k 0 --genesis-keys 1",
       "--k: '0' is not a whole number from 1 to 1000000"},
      {"genesis create --out-dir /nonexistent/x --k 5 --genesis-keys 1",
       "--protocol-magic N is required"},
      {"genesis print-secrets /tmp", "unexpected argument '/tmp'"},
      {"block show --epoch-slots 0 x", "--epoch-slots: '0' is not a whole number"},
      {"block show x y", "one FILE only, not also 'y'"},
      {"block list --protocol-magic 7 x", "unrecognized option '--protocol-magic'"},
      {"block verify", "block verify: FILE is required"},
      {"chain validate --genesis x --chunk y --threads 65", "--threads: '65' is not a whole"},
      {"chain validate --db x y", "unexpected argument 'y'"},
      {"chain generate --genesis-dir x --out y --fill 0", "--fill: '0' is not a number above 0"},
      {"chain generate --genesis-dir x --out y", "--slots N is required"},
      {"chain generate --genesis-dir x --out y --slots 9 --outputs-per-tx 1",
       "--outputs-per-tx: '1' is not a whole number from 2 to 64"},
      {"chain generate --genesis-dir x --out y --slots 9 --tx-share 0",
       "--tx-share: '0' is not a number above 0"},
      {"chain generate-invalid --from x --genesis-dir y --out z", "--case CASE is required"},
      {"key keygen", "--secret FILE is required"},
      {"key migrate --in x --out y --to pem", "--to: takes envelope, legacy or raw, not 'pem'"},
      {"key to-verification --secret x", "--to FILE is required"},
      {"key signing-key-public --secret x --mainnet", "unrecognized option '--mainnet'"},
      {"key signing-key-address --secret x --testnet-magic 7x",
       "--testnet-magic: '7x' is not a whole number"},
      {"key signing-key-address --secret x --mainnet --testnet-magic 7",
       "give --testnet-magic N or --mainnet, once"},
      {"address show", "address show: ADDRESS is required"},
      {"address build --mainnet", "--verification-key-file FILE is required"}};
  for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++) {
    if (cli(ERRORS[i].args) != 2) fail_msg("%s: exit not 2", ERRORS[i].args);
    expect_said(ERRORS[i].said);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_genesis_commands),   cmocka_unit_test(test_block_show),
      cmocka_unit_test(test_block_show_options_and_errors),
      cmocka_unit_test(test_block_list),         cmocka_unit_test(test_tx_and_address),
      cmocka_unit_test(test_chain_validate),    cmocka_unit_test(test_generators),
      cmocka_unit_test(test_key_and_delegation),
      cmocka_unit_test(test_db_commands),        cmocka_unit_test(test_db_missing_chunk),
      cmocka_unit_test(test_genesis_errors_name_the_file),
      cmocka_unit_test(test_devnet_files),
      cmocka_unit_test(test_sync_settings),
      cmocka_unit_test(test_inspection_commands_help_and_option_errors),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
