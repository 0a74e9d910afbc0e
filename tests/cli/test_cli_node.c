/*
 * test_cli_node.c: cardinal-cli against running nodes (docs/cli.md
 * "query", "tx build", "tx id"): a one-node devnet (`devnet create`, its
 * core node started with `start.sh 0`, 200 ms slots, k = 5) for the
 * queries and a payment made with the CLI alone (balance, build with the
 * minimum fee and change, sign, id, submit, balance again), and the bad
 * inputs of tx build, each refused with its rule; and two fake nodes
 * served from this process's children (the server engine over a fake
 * chain, tests/net/fake_chain.h): one that, like a Haskell node, closes
 * the connection on Cardinal's own queries, and one with a ledger whose
 * update state is tests/unit/update_state_fixture.h's, for the readable
 * update state and its next adoption. Then every tx, submit, query,
 * delegation and governance verb's --help, and its usage errors naming
 * the option. Every process started here is ended by its pid.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../net/fake_chain.h"
#include "../unit/update_state_fixture.h"
#include "cardinal/io.h"
#include "cli_support.h"

#define POOR_LOVELACE 1000000000000ll
#define EPOCH_SLOTS 50 /* k = 5 */

static struct {
  char dir[64], sock[128], genesis[128], haskell_sock[128], fake_sock[128];
  char addr[4][128]; /* the devnet's poor addresses */
  pid_t node, haskell, fake;
} D;

static void sleep_ms(long ms) {
  nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL);
}

/* ---- Fake nodes: the server engine over a fake chain, on a Unix socket ---- */

/* One connection until the client or the server ends it (a server error,
 * such as a query it does not know, closes it as a Haskell node does). */
static void fake_serve(int fd, const cdl_n2n_chain *chain, uint32_t magic, uint64_t slot_ms) {
  cdl_hs_config hs = cdl_hs_node_to_client(magic);
  cdl_n2n_server *srv = NULL;
  cdl_error err = {0};
  uint64_t now = 1;
  if (cdl_n2n_server_new(chain, &hs, now, &srv, &err) != CDL_OK)
    return;
  cdl_n2n_server_set_slot_ms(srv, slot_ms);
  cdl_buf out;
  cdl_buf_init(&out, 0);
  for (bool open = true; open;) {
    cdl_buf_reset(&out);
    while (cdl_n2n_server_next_sdu(srv, now, &out)) {
    }
    if (out.len > 0 && write(fd, out.data, out.len) != (ssize_t)out.len)
      break;
    if (cdl_n2n_server_finished(srv))
      break;
    uint8_t in[65536];
    ssize_t got = read(fd, in, sizeof in);
    now += 1000;
    open = got > 0 && cdl_n2n_server_recv(srv, in, (size_t)got, now, &err) == CDL_OK &&
           cdl_n2n_server_poll(srv, now, &err) == CDL_OK;
  }
  cdl_buf_free(&out);
  cdl_n2n_server_del(srv);
}

/* A child serving the fixture's update state at |path|; with |genesis|, a
 * ledger of it behind Cardinal's queries, else none. */
static pid_t fake_node_start(const char *path, const char *genesis) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid > 0) {
    for (int i = 0; i < 300 && access(path, F_OK) != 0; i++)
      sleep_ms(10);
    return pid;
  }
  fake_chain fc;
  fake_chain_init(&fc);
  update_state_fixture(&fc.update_state, UPD_GOOD);
  uint32_t magic = 7;
  uint64_t slot_ms = 0;
  if (genesis) {
    cdl_db_genesis dg;
    cdl_db_genesis_init(&dg);
    cdl_db_dir_options o = {.dir = ".", .genesis = genesis};
    cdl_error err = {0};
    cdl_ledger *l = NULL;
    cdl_ledger_config cfg;
    if (cdl_db_genesis_load(&o, &dg, &err) != CDL_OK)
      _exit(1);
    cfg = cdl_db_ledger_config(&o, &dg.g);
    if (cdl_ledger_new(&dg.g, &cfg, &l, &err) != CDL_OK)
      _exit(1);
    fc.ledger = l;
    magic = dg.g.protocol_magic;
    slot_ms = dg.g.params.slot_duration_ms;
  }
  cdl_n2n_chain chain;
  fake_chain_iface(&fc, &chain);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  int ls = socket(AF_UNIX, SOCK_STREAM, 0);
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 4) != 0)
    _exit(1);
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0)
      _exit(1);
    fake_serve(fd, &chain, magic, slot_ms);
    close(fd);
  }
}

static void stop(pid_t pid) {
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  int status;
  waitpid(pid, &status, 0);
}

/* The node start.sh started (not our child): SIGTERM, then wait until it
 * has gone (its snapshot written), SIGKILL after 20 s. */
static void stop_node(pid_t pid) {
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
    sleep_ms(100);
  if (kill(pid, 0) == 0)
    kill(pid, SIGKILL);
  for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
    sleep_ms(100);
}

/* ---- The devnet ---- */

static void read_poor_addresses(void) {
  char args[256];
  snprintf(args, sizeof args, "genesis print-secrets --dir %s/net/genesis", D.dir);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf), *poor = json_object_get(j, "poor");
  assert_int_equal(json_array_size(poor), 4);
  for (size_t i = 0; i < 4; i++)
    snprintf(D.addr[i], sizeof D.addr[i], "%s", str(json_array_get(poor, i), "address"));
  json_decref(j);
}

static int group_setup(void **state) {
  test_group_setup(state);
  snprintf(D.dir, sizeof D.dir, "/tmp/cdl-cli-node-XXXXXX");
  assert_non_null(mkdtemp(D.dir));
  int base = 20000 + (int)(getpid() % 10000); /* loopback, below 32768 */
  char args[512];
  snprintf(args, sizeof args,
           "devnet create --dir %s/net --core-nodes 1 --relays 0 --slot-ms 200 --k 5 "
           "--base-port %d --metrics-base-port %d --poor-addresses 4 --start-delay-s 1",
           D.dir, base, base + 1);
  assert_int_equal(cli(args), 0);
  snprintf(D.sock, sizeof D.sock, "%s/net/node-0/node.socket", D.dir);
  snprintf(D.genesis, sizeof D.genesis, "%s/net/genesis/genesis.json", D.dir);
  read_poor_addresses();
  shell_ok("CARDINAL_NODE=%s %s/net/start.sh 0", CDL_NODE, D.dir);
  char pid_path[160];
  snprintf(pid_path, sizeof pid_path, "%s/net/node-0/pid", D.dir);
  FILE *f = fopen(pid_path, "r");
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%d", &D.node), 1);
  fclose(f);
  /* Up once it has forged a block or two. */
  snprintf(args, sizeof args, "query tip --socket-path %s", D.sock);
  bool up = false;
  for (int i = 0; i < 300 && !up; i++) {
    if (cli(args) == 0) {
      json_t *j = parse(stdout_buf);
      up = num(j, "block") >= 2;
      json_decref(j);
    }
    if (!up)
      sleep_ms(100);
  }
  assert_true(up);
  snprintf(args, sizeof args,
           "genesis create --out-dir %s/g5 --protocol-magic 7 --k 5 --genesis-keys 5 --seed 5",
           D.dir);
  assert_int_equal(cli(args), 0);
  snprintf(D.haskell_sock, sizeof D.haskell_sock, "%s/haskell.socket", D.dir);
  snprintf(D.fake_sock, sizeof D.fake_sock, "%s/fake.socket", D.dir);
  char g5[128];
  snprintf(g5, sizeof g5, "%s/g5/genesis.json", D.dir);
  D.haskell = fake_node_start(D.haskell_sock, NULL);
  D.fake = fake_node_start(D.fake_sock, g5);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  stop_node(D.node);
  stop(D.haskell);
  stop(D.fake);
  shell_ok("rm -rf %s", D.dir);
  return 0;
}

/* The devnet socket's command: "VERB ARGS --socket-path S". */
static int node_cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int node_cli(const char *fmt, ...) {
  static char args[60000];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof args - 200);
  snprintf(args + n, sizeof args - (size_t)n, " --socket-path %s", D.sock);
  return cli(args);
}

/* The lovelace at |addr| and one of its inputs (TXID#IX) in |in|. */
static json_int_t balance_of(const char *addr, char *in, size_t in_cap) {
  assert_int_equal(node_cli("query utxo --address %s", addr), 0);
  json_t *j = parse(stdout_buf);
  assert_true(json_is_true(json_object_get(j, "complete")));
  json_t *bal = json_object_get(j, "balance");
  json_int_t lovelace = num(json_object_get(bal, "addresses"), addr);
  assert_int_equal(num(bal, "lovelace"), lovelace);
  json_t *first = json_array_get(json_object_get(j, "utxo"), 0);
  if (in && first)
    snprintf(in, in_cap, "%s#%d", str(first, "tx_id"), (int)num(first, "index"));
  json_decref(j);
  return lovelace;
}

/* The minimum fee of a signed tx of |size| bytes on the devnet:
 * 155381 + ceil(43.946 x size). */
static json_int_t min_fee(json_int_t size) {
  return 155381 + (43946000000ll * size + 999999999) / 1000000000;
}

/* Signs |tx| with poor key |key| into |signed_tx|, which must be |size| bytes. */
static void sign_as(int key, const char *tx, const char *signed_tx, json_int_t size) {
  char args[512];
  snprintf(args, sizeof args,
           "tx sign --tx-file %s --signing-key %s/net/genesis/poor-keys.%03d.skey "
           "--testnet-magic 42 --out-file %s",
           tx, D.dir, key, signed_tx);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(j, "bytes"), size); /* the size the fee was for */
  json_decref(j);
}

/* ---- Tests ---- */

static void test_tip_and_parameters(void **state) {
  (void)state;
  assert_int_equal(node_cli("query tip"), 0);
  json_t *j = parse(stdout_buf);
  json_int_t slot = num(j, "slot");
  assert_string_equal(str(j, "era"), "Byron");
  assert_int_equal(num(j, "epoch"), slot / EPOCH_SLOTS);
  assert_int_equal(num(j, "slotInEpoch"), slot % EPOCH_SLOTS);
  assert_int_equal(num(j, "slotsToEpochEnd"), EPOCH_SLOTS - slot % EPOCH_SLOTS);
  assert_int_equal(num(j, "block"), num(j, "block_no"));
  assert_int_equal(strlen(str(j, "hash")), 64);
  assert_string_equal(str(j, "syncProgress"), "100.00"); /* a live node is at the present */
  json_decref(j);
  /* The socket from the environment, as cardano-cli; a genesis to check against. */
  setenv("CARDANO_NODE_SOCKET_PATH", D.sock, 1);
  char args[256];
  snprintf(args, sizeof args, "query tip --genesis %s", D.genesis);
  assert_int_equal(cli(args), 0);
  snprintf(args, sizeof args, "query tip --genesis %s/g5/genesis.json", D.dir);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "query.genesis_mismatch");
  unsetenv("CARDANO_NODE_SOCKET_PATH");
  assert_int_equal(cli("query tip"), 2); /* no socket at all */
  assert_int_equal(node_cli("query protocol-parameters"), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "protocol_version"), "0.0.0");
  json_t *pp = json_object_get(j, "parameters"), *fee = json_object_get(pp, "txFeePolicy");
  assert_int_equal(num(pp, "maxTxSize"), 4096);
  assert_int_equal(num(pp, "slotDuration"), 200);
  assert_int_equal(num(fee, "summand"), 155381);
  assert_int_equal(num(fee, "multiplier_nano"), 43946000000);
  json_decref(j);
  assert_int_equal(node_cli("query update-state"), 0);
  j = parse(stdout_buf);
  assert_true(json_is_null(json_object_get(j, "next_adoption")));
  assert_int_equal(json_array_size(json_object_get(j, "candidates")), 0);
  assert_string_equal(str(json_object_get(j, "adopted"), "protocol_version"), "0.0.0");
  json_decref(j);
}

/* A payment with the CLI alone: the fee is the minimum for the signed
 * size, a + ceil(b x size), the change returns to the payer. */
static void test_payment(void **state) {
  (void)state;
  char in[80], args[512], tx[160], signed_tx[160], txid[65];
  assert_int_equal(balance_of(D.addr[0], in, sizeof in), POOR_LOVELACE);
  assert_int_equal(balance_of(D.addr[1], NULL, 0), POOR_LOVELACE);
  snprintf(tx, sizeof tx, "%s/pay.tx", D.dir);
  snprintf(signed_tx, sizeof signed_tx, "%s/pay.signed", D.dir);
  assert_int_equal(node_cli("tx build --tx-in %s --tx-out %s+5000000 --change-address %s "
                            "--out-file %s",
                            in, D.addr[1], D.addr[0], tx),
                   0);
  json_t *j = parse(stdout_buf);
  json_int_t fee = num(j, "fee"), size = num(j, "signed_size");
  assert_int_equal(fee, num(j, "min_fee"));
  assert_int_equal(fee, min_fee(size));
  assert_int_equal(num(j, "change"), POOR_LOVELACE - 5000000 - fee);
  snprintf(txid, sizeof txid, "%s", str(j, "txid"));
  json_decref(j);
  sign_as(0, tx, signed_tx, size);
  snprintf(args, sizeof args, "tx id --tx-file %s", signed_tx);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_string_equal(str(j, "txid"), txid);
  assert_true(json_is_true(json_object_get(j, "signed")));
  json_decref(j);
  assert_int_equal(node_cli("tx submit %s", signed_tx), 0);
  /* In a block within a few slots: the balances move by the payment and the fee. */
  json_int_t paid = 0;
  for (int i = 0; i < 100 && paid != POOR_LOVELACE + 5000000; i++) {
    sleep_ms(100);
    paid = balance_of(D.addr[1], NULL, 0);
  }
  assert_int_equal(paid, POOR_LOVELACE + 5000000);
  assert_int_equal(balance_of(D.addr[0], NULL, 0), POOR_LOVELACE - 5000000 - fee);
}

static void expect_build_refused(const char *rule, const char *words, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_build_refused(const char *rule, const char *words, const char *fmt, ...) {
  char opts[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(opts, sizeof opts, fmt, ap);
  va_end(ap);
  int code = node_cli("tx build %s --out-file %s/bad.tx", opts, D.dir);
  if (code != 1 || strcmp(error_rule(), rule) != 0 || strstr(stderr_buf, words) == NULL)
    fail_msg("tx build %s: exit %d, %s", opts, code, stderr_buf);
}

static void test_build_refusals(void **state) {
  (void)state;
  char in[80], missing[80], bad_crc[128];
  balance_of(D.addr[3], in, sizeof in);
  snprintf(missing, sizeof missing, "%.64s#7", in);
  snprintf(bad_crc, sizeof bad_crc, "%s", D.addr[1]);
  bad_crc[strlen(bad_crc) - 1] = bad_crc[strlen(bad_crc) - 1] == 'A' ? 'B' : 'A';
  const char *to = D.addr[1], *back = D.addr[3];
  expect_build_refused("tx.fee_too_low", "needs at least",
                       "--tx-in %s --tx-out %s+5000000 --change-address %s --fee 1000", in, to,
                       back);
  expect_build_refused("address.crc", "CRC32", "--tx-in %s --tx-out %s+5000000", in, bad_crc);
  expect_build_refused("address.crc", "CRC32", "--tx-in %s --tx-out %s+5000000 --change-address %s",
                       in, to, bad_crc);
  expect_build_refused("tx.missing_input", missing, "--tx-in %s --tx-out %s+5000000", missing, to);
  expect_build_refused("tx.value_not_preserved", "exceed the inputs",
                       "--tx-in %s --tx-out %s+2000000000000 --change-address %s", in, to, back);
  expect_build_refused("tx.fee_too_high", "--allow-high-fee", "--tx-in %s --tx-out %s+5000000", in,
                       to);
  expect_build_refused("tx.unbalanced", "--fee says 200000",
                       "--tx-in %s --tx-out %s+5000000 --fee 200000", in, to);
  /* A mainnet address (no network magic) on a testnet. */
  expect_build_refused("tx.output_network", "not an address of this network",
                       "--tx-in %s --tx-out "
                       "Ae2tdPwUPEZFRbyhz3cpfC2CumGzNkFBN2L42rcUc2yjQpEkxDbkPodpMAi+5000000 "
                       "--change-address %s",
                       in, back);
  /* The network's magic is the node's: another is refused at the handshake. */
  expect_build_refused("net.handshake_refused", "network magic 43",
                       "--tx-in %s --tx-out %s+5000000 --change-address %s --testnet-magic 43", in,
                       to, back);
  /* All of the rest as the fee, when meant. */
  assert_int_equal(node_cli("tx build --tx-in %s --tx-out %s+5000000 --allow-high-fee --out-file "
                            "%s/high.tx",
                            in, to, D.dir),
                   0);
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(j, "fee"), POOR_LOVELACE - 5000000);
  assert_int_equal(num(j, "change"), 0);
  json_decref(j);
  assert_int_equal(node_cli("query utxo --address %s", bad_crc), 1);
  assert_string_equal(error_rule(), "address.crc");
  assert_int_equal(node_cli("query utxo"), 2);
  assert_int_equal(
      node_cli("tx build --tx-in %s --tx-in %s --tx-out %s+1 --out-file x", in, in, to),
      2); /* an input twice */
  char args[256];
  snprintf(args, sizeof args, "tx id --tx-file %s", D.genesis); /* not a tx */
  assert_int_equal(cli(args), 1);
}

/* 100 outputs make a tx above maxTxSize 4096: built (it may be meant for
 * after an update), and refused by the node. */
static void test_large_tx(void **state) {
  (void)state;
  char in[80], tx[160], signed_tx[160];
  balance_of(D.addr[2], in, sizeof in);
  static char outs[40000];
  size_t n = 0;
  for (int i = 0; i < 100; i++)
    n += (size_t)snprintf(outs + n, sizeof outs - n, " --tx-out %s+1000000", D.addr[3]);
  snprintf(tx, sizeof tx, "%s/big.tx", D.dir);
  snprintf(signed_tx, sizeof signed_tx, "%s/big.signed", D.dir);
  assert_int_equal(
      node_cli("tx build --tx-in %s%s --change-address %s --out-file %s", in, outs, D.addr[2], tx),
      0);
  json_t *j = parse(stdout_buf);
  json_int_t size = num(j, "signed_size");
  assert_true(size > 4096);
  assert_int_equal(num(j, "max_tx_size"), 4096);
  assert_int_equal(num(j, "fee"), min_fee(size));
  json_decref(j);
  sign_as(2, tx, signed_tx, size);
  assert_int_equal(node_cli("tx submit %s", signed_tx), 1);
  assert_string_equal(error_rule(), "utxo.tx_size");
}

/* A node that closes on Cardinal's queries is named as not a Cardinal
 * node; the Haskell node's own update-state query still works on it. */
static void test_not_a_cardinal_node(void **state) {
  (void)state;
  char args[512];
  snprintf(args, sizeof args, "query utxo --address %s --socket-path %s --testnet-magic 7",
           D.addr[0], D.haskell_sock);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "node.not_cardinal");
  assert_non_null(strstr(stderr_buf, "it is not a Cardinal node"));
  snprintf(args, sizeof args,
           "tx build --tx-in %064d#0 --tx-out %s+1 --out-file %s/x.tx --socket-path %s "
           "--testnet-magic 7",
           0, D.addr[0], D.dir, D.haskell_sock);
  assert_int_equal(cli(args), 1);
  assert_string_equal(error_rule(), "node.not_cardinal");
  snprintf(args, sizeof args, "query update-state --socket-path %s --testnet-magic 7",
           D.haskell_sock);
  assert_int_equal(cli(args), 0);
  json_t *j = parse(stdout_buf), *next = json_object_get(j, "next_adoption");
  assert_string_equal(str(next, "state"), "candidate");
  assert_true(json_is_null(json_object_get(next, "needed"))); /* no genesis keys known */
  assert_true(json_is_null(json_object_get(next, "epoch")));
  json_decref(j);
}

static void test_update_state_readable(void **state) {
  (void)state;
  char args[256], id1[65], kh1[57];
  cdl_hex_encode(UPD_ID1, 32, id1);
  cdl_hex_encode(UPD_KH1, 28, kh1);
  snprintf(args, sizeof args, "query update-state --socket-path %s", D.fake_sock);
  assert_int_equal(cli(args), 0); /* the magic asked of the node */
  json_t *j = parse(stdout_buf);
  assert_int_equal(num(j, "epoch"), 3);
  json_t *cand = json_array_get(json_object_get(j, "candidates"), 0);
  assert_string_equal(str(cand, "protocol_version"), "1.0.0");
  assert_int_equal(num(cand, "slot"), 120);
  json_t *changes = json_object_get(cand, "changes");
  assert_int_equal(json_object_size(changes), 1);
  assert_int_equal(num(changes, "maxTxSize"), 16384);
  json_t *app = json_array_get(json_object_get(j, "application_versions"), 0);
  assert_string_equal(str(app, "name"), "cardano-sl");
  assert_int_equal(num(app, "slot"), 50);
  json_t *prop = json_array_get(json_object_get(j, "protocol_proposals"), 0);
  assert_string_equal(str(prop, "id"), id1);
  assert_string_equal(
      str(json_array_get(json_object_get(j, "software_proposals"), 0), "application"), "cardinal");
  assert_int_equal(num(json_object_get(j, "confirmed_proposals"), id1), 77);
  json_t *voters = json_object_get(json_object_get(j, "votes"), id1);
  assert_int_equal(json_array_size(voters), 3);
  assert_string_equal(json_string_value(json_array_get(voters, 0)), kh1);
  assert_int_equal(json_array_size(json_object_get(j, "endorsements")), 2);
  assert_int_equal(num(json_object_get(j, "registration_slots"), id1), 60);
  /* 2 of floor(0.6 x 5) = 3 endorsements; a candidate since slot 120 is
   * stable 4k = 20 slots later, after epoch 3 began: adopted as epoch 4
   * begins, at slot 200. */
  json_t *next = json_object_get(j, "next_adoption");
  assert_string_equal(str(next, "state"), "candidate");
  assert_string_equal(str(next, "protocol_version"), "1.0.0");
  assert_string_equal(str(next, "proposal_id"), id1);
  assert_int_equal(num(next, "endorsements"), 2);
  assert_int_equal(num(next, "needed"), 3);
  assert_int_equal(num(next, "epoch"), 4);
  assert_int_equal(num(next, "first_slot"), 200);
  json_decref(j);
  snprintf(args, sizeof args, "query protocol-parameters --socket-path %s", D.fake_sock);
  assert_int_equal(cli(args), 0);
  j = parse(stdout_buf);
  assert_int_equal(num(json_object_get(j, "parameters"), "slotDuration"), 7000);
  json_decref(j);
}

/* Every tx, submit, query, delegation and governance verb answers --help
 * (exit 0) with its usage line, its options (the node's too where it
 * talks to one) and an example; a bad, repeated or missing option is a
 * usage error (exit 2) that names it (docs/cli.md "tx", "Talking to a
 * node"). */
static void test_help_and_usage_errors(void **state) {
  (void)state;
  static const struct {
    const char *verb, *usage, *option;
  } HELP[] = {
      {"tx show", "tx show [OPTION...] FILE", "--version"},
      {"tx build", "tx build [OPTION...]", "--tx-out=ADDR+LOVELACE"},
      {"tx sign", "tx sign [OPTION...]", "--signing-key=FILE"},
      {"tx id", "tx id [OPTION...]", "--tx-file=FILE"},
      {"tx submit", "tx submit [OPTION...] FILE", "--socket-path=PATH"},
      {"submit tx", "submit tx [OPTION...] FILE", "--testnet-magic=N"},
      {"query tip", "query tip [OPTION...]", "--genesis=FILE"},
      {"query utxo", "query utxo [OPTION...]", "--address=ADDR"},
      {"query protocol-parameters", "query protocol-parameters [OPTION...]", "--socket-path"},
      {"query update-state", "query update-state [OPTION...]", "--mainnet"},
      {"delegation issue-certificate", "delegation issue-certificate [OPTION...]", "--epoch=E"},
      {"delegation issue-delegation-certificate", "delegation issue-certificate", "--secret"},
      {"delegation submit", "delegation submit [OPTION...]", "--certificate=FILE"},
      {"delegation check-certificate", "delegation check-certificate", "--issuer-key=FILE"},
      {"delegation check-delegation", "delegation check-certificate", "--genesis=FILE"},
      {"governance create-update-proposal", "governance create-update-proposal",
       "--unlock-stake-epoch=EPOCH"},
      {"governance create-proposal-vote", "governance create-proposal-vote", "--vote-no"},
      {"governance submit-update-proposal", "governance submit-update-proposal",
       "--filepath=FILE"},
      {"governance submit-proposal-vote", "governance submit-proposal-vote", "--socket-path"},
      {"governance show-proposal", "governance show-proposal [OPTION...] FILE", "--mainnet"},
      {"governance show-vote", "governance show-vote [OPTION...] FILE", "--testnet-magic=N"}};
  char args[512], want[160];
  for (size_t i = 0; i < sizeof HELP / sizeof HELP[0]; i++) {
    snprintf(args, sizeof args, "%s --help", HELP[i].verb);
    snprintf(want, sizeof want, "Usage: cardinal-cli %s", HELP[i].usage);
    if (cli(args) != 0 || strncmp(stdout_buf, want, strlen(want)) != 0 ||
        strstr(stdout_buf, HELP[i].option) == NULL ||
        strstr(stdout_buf, "\nExample:\n  ") == NULL ||
        strstr(strstr(stdout_buf, "\nExample:\n  "), "cardinal-cli ") == NULL)
      fail_msg("%s: %s", args, stdout_buf);
  }
  const char *in = "0000000000000000000000000000000000000000000000000000000000000000#0";
  static const struct {
    const char *args, *words;
  } BAD[] = {
      {"tx build --socket-path s --tx-in zz --tx-out a+1 --out-file f",
       "--tx-in: 'zz' is not TXID#IX"},
      {"tx build --socket-path s --tx-in %s --tx-out abc --out-file f",
       "--tx-out: 'abc' is not ADDR+LOVELACE"},
      {"tx build --socket-path s --tx-in %s --tx-out a+0 --out-file f", "--tx-out: '0'"},
      {"tx build --socket-path s --tx-in %s --tx-out a+1 --out-file f --fee lots", "--fee: 'lots'"},
      {"tx build --socket-path s --tx-in %s --tx-out a+1", "--out-file FILE is required"},
      {"tx build --socket-path s --tx-in %s --tx-out a+1 --out-file f --bogus", "'--bogus'"},
      {"tx build --tx-in %s --tx-out a+1 --out-file f", "--socket-path PATH"},
      {"tx sign --tx-file t --signing-key k --out-file o", "--testnet-magic N is required"},
      {"tx sign --tx-file t --signing-key k --out-file o --testnet-magic 4294967296",
       "--testnet-magic: '4294967296'"},
      {"tx id", "--tx-file FILE is required"},
      {"tx show a b", "unexpected argument 'b'"},
      {"tx submit --socket-path s", "the FILE argument is required"},
      {"submit tx --socket-path s --certificate c f", "'--certificate'"},
      {"query utxo --socket-path s", "--address ADDR or --tx-in TXID#IX is required"},
      {"query tip --socket-path s --testnet-magic x", "--testnet-magic: 'x'"},
      {"query update-state --genesis g", "'--genesis'"}, /* query tip's alone */
      {"query update-state", "--socket-path PATH (or CARDANO_NODE_SOCKET_PATH) is required"},
      {"delegation issue-certificate --testnet-magic 7 --mainnet", "--mainnet: give"},
      {"delegation issue-certificate --testnet-magic 7 --epoch -1", "--epoch: '-1'"},
      {"delegation submit --socket-path s", "--certificate FILE is required"},
      {"delegation check-certificate --certificate c",
       "--testnet-magic N, --mainnet or --genesis FILE is required"},
      {"governance create-update-proposal --max-tx-size many",
       "--max-tx-size: 'many' is not a decimal number"},
      {"governance create-update-proposal --testnet-magic 7 --signing-key k",
       "--protocol-version-major N is required"},
      {"governance create-proposal-vote --vote-yes --vote-no", "--vote-no: give"},
      {"governance submit-proposal-vote --socket-path s", "--filepath FILE is required"},
      {"governance show-vote v --testnet-magic 7 --testnet-magic 8", "--testnet-magic: give"}};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    snprintf(args, sizeof args, BAD[i].args, in);
    if (cli(args) != 2 || strstr(stderr_buf, BAD[i].words) == NULL)
      fail_msg("%s: not a usage error naming '%s': %s", args, BAD[i].words, stderr_buf);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tip_and_parameters),  cmocka_unit_test(test_payment),
      cmocka_unit_test(test_build_refusals),      cmocka_unit_test(test_large_tx),
      cmocka_unit_test(test_not_a_cardinal_node), cmocka_unit_test(test_update_state_readable),
      cmocka_unit_test(test_help_and_usage_errors),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
