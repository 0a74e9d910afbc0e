/*
 * test_gen.c: the genesis tool and the chain generators (include/
 * cardinal/gen.h, docs/genesis.md). A generated genesis must load, hash
 * and hold exactly the UTxO asked for; generated chains of three epochs
 * with every payload kind must pass a ledger that checks every signature;
 * every invalid case, for several seeds, must be refused at exactly the
 * reported block with exactly its rule, by a ledger of its own.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cardinal/gen.h"
#include "cardinal/storage.h"
#include "chain_support.h"

#define AVVM_BALANCE 1000000000ull    /* 1,000 ada */
#define POOR_BALANCE 1000000000000ull /* 1,000,000 ada */

static char dir_a[64], dir_b[64];
static cdl_buf chain; /* a generated chain shared by the invalid-case tests */

static void make_dir(char *out, size_t cap) {
  snprintf(out, cap, "/tmp/cdl-gen-XXXXXX");
  assert_non_null(mkdtemp(out));
}

static void spec_for(cdl_gen_genesis_spec *s, uint64_t seed) {
  memset(s, 0, sizeof *s);
  cdl_gen_default_params(&s->params);
  s->params.max_block_size = 65536; /* small limits keep the size cases small */
  s->params.max_header_size = 2000;
  s->params.slot_duration_ms = 1000;
  s->protocol_magic = 42; /* a RequiresMagic network */
  s->k = 10;
  s->start_time = 1700000000;
  s->genesis_keys = 7;
  s->avvm_entries = 3;
  s->avvm_balance = AVVM_BALANCE;
  s->poor_addresses = 5;
  s->poor_balance = POOR_BALANCE;
  s->has_seed = true;
  s->seed = seed;
}

static void read_text(const char *dir, const char *name, cdl_buf *out) {
  char path[256];
  cdl_error err = {0};
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_file_read_all(path, 1 << 24, out, &err), CDL_OK);
}

static int group_setup(void **state) {
  test_group_setup(state);
  cdl_gen_genesis_spec s;
  spec_for(&s, 1);
  make_dir(dir_a, sizeof dir_a);
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&s, dir_a, &err) != CDL_OK) return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  cdl_buf_free(&chain);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir_a, dir_b[0] ? dir_b : "");
  return system(cmd) == 0 ? 0 : -1;
}

static void test_genesis_create(void **state) {
  (void)state;
  cdl_gen_dir d;
  cdl_error err = {0};
  assert_int_equal(cdl_gen_dir_load(dir_a, &d, &err), CDL_OK);
  /* The hash a node computes from the file is the one the loader kept. */
  cdl_buf text;
  read_text(dir_a, "genesis.json", &text);
  uint8_t hash[32];
  assert_int_equal(cdl_byron_genesis_hash(text.data, text.len, hash, &err), CDL_OK);
  assert_memory_equal(hash, d.genesis.hash, 32);
  assert_int_equal(d.genesis.protocol_magic, 42);
  assert_int_equal(d.genesis.k, 10);
  assert_int_equal(d.genesis.params.max_block_size, 65536);
  assert_int_equal(d.genesis.params.slot_duration_ms, 1000);
  assert_true(d.requires_magic);
  assert_int_equal(d.secrets.n_genesis, 7);
  assert_int_equal(d.secrets.n_poor, 5);
  assert_int_equal(d.secrets.n_avvm, 3);
  /* The UTxO is as requested: 3 AVVM and 5 non-AVVM outputs. */
  cdl_byron_utxo_entry *u;
  size_t n;
  assert_int_equal(cdl_byron_genesis_utxo(&d.genesis, true, &d.arena, &u, &n, &err), CDL_OK);
  assert_int_equal(n, 8);
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += u[i].lovelace;
  assert_int_equal(total, 3 * AVVM_BALANCE + 5 * POOR_BALANCE);
  /* The same seed makes the same network, byte for byte. */
  cdl_gen_genesis_spec s;
  spec_for(&s, 1);
  make_dir(dir_b, sizeof dir_b);
  assert_int_equal(cdl_gen_genesis_create(&s, dir_b, &err), CDL_OK);
  cdl_buf again;
  read_text(dir_b, "genesis.json", &again);
  assert_int_equal(again.len, text.len);
  assert_memory_equal(again.data, text.data, text.len);
  /* A directory already holding a genesis is refused. */
  assert_int_equal(cdl_gen_genesis_create(&s, dir_b, &err), CDL_E_USAGE);
  cdl_buf_free(&again);
  cdl_buf_free(&text);
  cdl_gen_dir_free(&d);
}

static void test_genesis_dir_rejects_foreign_keys(void **state) {
  (void)state;
  /* A poor key of another network in the directory is an error. */
  char cmd[256];
  cdl_gen_genesis_spec s;
  spec_for(&s, 2);
  char other[64];
  make_dir(other, sizeof other);
  cdl_error err = {0};
  assert_int_equal(cdl_gen_genesis_create(&s, other, &err), CDL_OK);
  snprintf(cmd, sizeof cmd, "cp %s/poor-keys.000.skey %s/poor-keys.000.skey", other, dir_b);
  assert_int_equal(system(cmd), 0);
  cdl_gen_dir d;
  assert_int_equal(cdl_gen_dir_load(dir_b, &d, &err), CDL_E_GENESIS);
  assert_non_null(strstr(err.message, "poor-keys.000"));
  /* A genesis with no genesis keys: no chain can be signed from it. */
  char path[128];
  snprintf(path, sizeof path, "%s/genesis.json", other);
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  assert_non_null(root);
  json_object_set_new(root, "bootStakeholders", json_object());
  json_object_set_new(root, "heavyDelegation", json_object());
  assert_int_equal(json_dump_file(root, path, JSON_SORT_KEYS), 0);
  json_decref(root);
  cdl_error_clear(&err);
  assert_int_equal(cdl_gen_dir_load(other, &d, &err), CDL_E_GENESIS);
  assert_non_null(strstr(err.message, "no genesis keys"));
  snprintf(cmd, sizeof cmd, "rm -rf %s", other);
  assert_int_equal(system(cmd), 0);
}

static void generate(const cdl_gen_dir *d, const cdl_gen_chain_opts *o, cdl_buf *out,
                     cdl_gen_chain_stats *st) {
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_non_null(f);
  cdl_rejection rej;
  cdl_error err = {0};
  int rc = cdl_gen_chain(d, o, f, st, &rej, &err);
  fclose(f);
  if (rc != CDL_OK) fail_msg("generate: %s", err.message);
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_buf_append(out, mem, len), CDL_OK);
  free(mem);
}

static void split(const cdl_buf *c, cdl_span **blocks, size_t *n) {
  cdl_error err = {0};
  assert_int_equal(cdl_gen_split_chunk(c->data, c->len, blocks, n, &err), CDL_OK);
}

static const cdl_gen_chain_opts FULL = {
    .slots = 250, .fill = 0.9, .txs_per_block = 2, .delegation = true, .updates = true, .seed = 7};

/* Three epochs of k = 10 (100 slots each) with every payload kind. */
static void test_chain_generate_valid(void **state) {
  (void)state;
  cdl_gen_dir d;
  cdl_error err = {0};
  assert_int_equal(cdl_gen_dir_load(dir_a, &d, &err), CDL_OK);
  cdl_gen_chain_stats st;
  generate(&d, &FULL, &chain, &st);
  assert_int_equal(st.ebbs, 3);
  assert_true(st.blocks > 150);
  assert_true(st.txs >= st.blocks); /* two per block while outputs last */
  assert_int_equal(st.certificates, 3);
  assert_int_equal(st.proposals, 1);
  assert_true(st.votes >= 4);
  assert_true(st.update_adopted);
  /* A ledger of its own, checking every signature, accepts every block. */
  cdl_span *blocks;
  size_t n;
  split(&chain, &blocks, &n);
  assert_int_equal(n, st.blocks + st.ebbs);
  cdl_ledger *l = ledger_for(&d.genesis, 0, 0);
  apply_all(l, blocks, n);
  /* The update was adopted at epoch 1: version 0.1.0, maxTxSize doubled. */
  cdl_byron_version pv = cdl_ledger_protocol_version(l);
  assert_int_equal(pv.major, 0);
  assert_int_equal(pv.minor, 1);
  assert_int_equal(cdl_ledger_params(l)->max_tx_size, 2 * 4096);
  uint32_t app = 0;
  assert_true(cdl_ledger_app_version(l, "cardinal", &app));
  assert_int_equal(app, 1);
  /* Genesis key 0 re-delegated in epoch 0 and the new key signs now. */
  cdl_key fresh;
  uint8_t want[28], got[28];
  cdl_gen_redelegate_key(&d.secrets.genesis[0], 1, &fresh);
  cdl_key_hash(&fresh, want);
  assert_true(cdl_ledger_delegate_of(l, d.genesis.boot_stakeholders[0], got));
  assert_memory_equal(got, want, 28);
  /* No lovelace created or lost. */
  cdl_ledger_totals t;
  cdl_ledger_get_totals(l, &t);
  assert_int_equal(t.utxo_lovelace + t.fees_lovelace, 3 * AVVM_BALANCE + 5 * POOR_BALANCE);
  assert_int_equal(t.txs, st.txs);
  /* The same seed gives the same chain. */
  cdl_buf again;
  generate(&d, &FULL, &again, &st);
  assert_int_equal(again.len, chain.len);
  assert_memory_equal(again.data, chain.data, chain.len);
  cdl_buf_free(&again);
  cdl_ledger_del(l);
  free(blocks);
  cdl_gen_dir_free(&d);
}

/* A share of the blocks with transactions of one input and several
 * outputs: the UTxO grows by outputs - 1 a transaction, every block passes
 * a ledger checking every signature, and the defaults (share 1, two
 * outputs) give the chain they always gave. */
static void test_chain_generate_share_and_outputs(void **state) {
  (void)state;
  cdl_gen_dir d;
  cdl_error err = {0};
  assert_int_equal(cdl_gen_dir_load(dir_a, &d, &err), CDL_OK);
  cdl_gen_chain_opts o = {.slots = 250, .fill = 1.0, .txs_per_block = 1, .tx_share = 0.5,
                          .outputs_per_tx = 4, .seed = 3};
  cdl_gen_chain_stats st;
  cdl_buf c;
  generate(&d, &o, &c, &st);
  assert_true(st.txs > st.blocks * 3 / 10 && st.txs < st.blocks * 7 / 10);
  cdl_span *blocks;
  size_t n;
  split(&c, &blocks, &n);
  test_ctx t;
  test_ctx_init(&t, 0);
  size_t with_txs = 0;
  for (size_t i = 0; i < n; i++) {
    cdl_byron_block blk;
    assert_int_equal(cdl_byron_block_decode(blocks[i].ptr, blocks[i].len, &t.ctx, &blk), 0);
    if (blk.is_ebb) continue;
    assert_true(blk.body.n_txs <= 1);
    with_txs += blk.body.n_txs;
    for (size_t k = 0; k < blk.body.n_txs; k++) {
      assert_int_equal(blk.body.txs[k].tx.n_inputs, 1);
      assert_int_equal(blk.body.txs[k].tx.n_outputs, 4);
    }
  }
  test_ctx_free(&t);
  assert_int_equal(with_txs, st.txs);
  cdl_ledger *l = ledger_for(&d.genesis, 0, 0);
  apply_all(l, blocks, n);
  cdl_ledger_totals tot;
  cdl_ledger_get_totals(l, &tot);
  assert_int_equal(tot.utxo_entries, 3 + 5 + 3 * st.txs); /* genesis, then 4 out for 1 in */
  assert_int_equal(tot.utxo_lovelace + tot.fees_lovelace, 3 * AVVM_BALANCE + 5 * POOR_BALANCE);
  cdl_ledger_del(l);
  free(blocks);
  cdl_buf_free(&c);
  /* Share 1 and two outputs are the defaults: the same bytes. */
  cdl_gen_chain_opts plain = FULL, spelled = FULL;
  spelled.tx_share = 1.0;
  spelled.outputs_per_tx = 2;
  cdl_buf a, b;
  generate(&d, &plain, &a, &st);
  generate(&d, &spelled, &b, &st);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  cdl_buf_free(&a);
  cdl_buf_free(&b);
  /* Settings out of range are refused before a block is made. */
  cdl_gen_chain_opts bad[] = {o, o, o};
  bad[0].tx_share = 1.5;
  bad[1].outputs_per_tx = 1;
  bad[2].outputs_per_tx = 65;
  for (size_t i = 0; i < 3; i++) {
    cdl_rejection rej;
    cdl_error_clear(&err);
    FILE *f = tmpfile();
    assert_int_equal(cdl_gen_chain(&d, &bad[i], f, &st, &rej, &err), CDL_E_USAGE);
    assert_int_equal(ftell(f), 0);
    fclose(f);
  }
  cdl_gen_dir_free(&d);
}

/* Three genesis keys cannot carry a 0.22 threshold: the generator skips
 * slots whose key would exceed it, as a core node would not forge. */
/* A new genesis directory (spec_for(k), |keys| genesis keys or the
 * default when 0), loaded. */
static void fresh_network(uint64_t k, uint32_t keys, char *dir, size_t cap, cdl_gen_dir *d) {
  cdl_gen_genesis_spec s;
  spec_for(&s, k);
  if (keys) s.genesis_keys = keys;
  make_dir(dir, cap);
  cdl_error err = {0};
  assert_int_equal(cdl_gen_genesis_create(&s, dir, &err), CDL_OK);
  assert_int_equal(cdl_gen_dir_load(dir, d, &err), CDL_OK);
}

static void drop_network(const char *dir, cdl_gen_dir *d) {
  cdl_gen_dir_free(d);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_chain_generate_respects_threshold(void **state) {
  (void)state;
  char dir[64];
  cdl_gen_dir d;
  fresh_network(3, 3, dir, sizeof dir, &d);
  /* Round-robin over 3 keys needs 4 of every k = 10 blocks per key; the
   * default threshold (0.22) allows 2: refused before a block is written,
   * naming the threshold that works, instead of a stalled chain. */
  cdl_gen_chain_opts o = {.slots = 120, .fill = 1.0, .txs_per_block = 0, .seed = 1};
  cdl_gen_chain_stats st;
  cdl_rejection rej;
  cdl_error err = {0};
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_int_equal(cdl_gen_chain(&d, &o, f, &st, &rej, &err), CDL_E_USAGE);
  fclose(f);
  assert_int_equal(len, 0);
  free(mem);
  assert_non_null(strstr(err.message, "give --pbft-threshold 0.40 or more"));
  /* 0.39 allows 3 of 10: still refused; 0.4 and 0.5 give every slot its block. */
  o.pbft_threshold = 0.39;
  f = open_memstream(&mem, &len);
  assert_int_equal(cdl_gen_chain(&d, &o, f, &st, &rej, &err), CDL_E_USAGE);
  fclose(f);
  free(mem);
  cdl_buf c;
  static const double ENOUGH[] = {0.4, 0.5};
  for (size_t i = 0; i < 2; i++) {
    o.pbft_threshold = ENOUGH[i];
    generate(&d, &o, &c, &st);
    assert_int_equal(st.skipped_slots, 0);
    assert_int_equal(st.blocks, 120);
    cdl_span *blocks;
    size_t n;
    split(&c, &blocks, &n);
    cdl_ledger *l = ledger_for(&d.genesis, ENOUGH[i], 0);
    apply_all(l, blocks, n);
    cdl_ledger_del(l);
    free(blocks);
    cdl_buf_free(&c);
  }
  drop_network(dir, &d);
}

/* An epoch in which no main block is forged: the next EBB follows the
 * previous EBB and takes the next block number (the ledger's rule). */
static void test_chain_generate_empty_epoch(void **state) {
  (void)state;
  char dir[64];
  cdl_gen_dir d;
  fresh_network(10, 0, dir, sizeof dir, &d);
  cdl_error err = {0};
  size_t ebb_after_ebb = 0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    cdl_gen_chain_opts o = {.slots = 300, .fill = 0.02, .txs_per_block = 0, .seed = seed};
    cdl_gen_chain_stats st;
    cdl_buf c;
    generate(&d, &o, &c, &st);
    cdl_span *blocks;
    size_t n;
    split(&c, &blocks, &n);
    cdl_ledger *l = ledger_for(&d.genesis, 0, 0);
    apply_all(l, blocks, n);
    bool prev_ebb = false;
    for (size_t i = 0; i < n; i++) {
      cdl_block_info info;
      assert_int_equal(cdl_block_info_read(blocks[i].ptr, blocks[i].len, 100, &info, &err), CDL_OK);
      ebb_after_ebb += prev_ebb && info.is_ebb;
      prev_ebb = info.is_ebb;
    }
    cdl_ledger_del(l);
    free(blocks);
    cdl_buf_free(&c);
  }
  assert_true(ebb_after_ebb > 0);
  drop_network(dir, &d);
}

/* Every case, three seeds: the output's last block is refused with the
 * case's rule by an independent ledger, every block before it accepted,
 * and the result names that block. */
static void check_case(const cdl_gen_dir *d, const cdl_span *src, size_t n_src,
                       const cdl_gen_invalid_case *c, uint64_t seed) {
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  cdl_gen_invalid_result res;
  cdl_error err = {0};
  int rc = cdl_gen_invalid(d, src, n_src, c->name, seed, 0, f, &res, &err);
  fclose(f);
  if (rc != CDL_OK)
    fail_msg("case %s seed %llu: %s", c->name, (unsigned long long)seed, err.message);
  assert_string_equal(res.expected_rule, c->expected_rule);
  cdl_span *blocks;
  size_t n;
  assert_int_equal(cdl_gen_split_chunk((const uint8_t *)mem, len, &blocks, &n, &err), CDL_OK);
  assert_int_equal(n, res.block_index + 1);
  cdl_ledger *l = ledger_for(&d->genesis, 0, 0);
  apply_all(l, blocks, n - 1);
  cdl_rejection rej;
  assert_int_equal(apply_bytes(l, blocks[n - 1], &rej), CDL_E_REJECTED);
  if (strcmp(rej.rule, c->expected_rule) != 0)
    fail_msg("case %s seed %llu: refused with %s (%s)", c->name, (unsigned long long)seed, rej.rule,
             rej.detail);
  assert_int_equal(rej.block_no, res.block_no);
  assert_int_equal(rej.slot, res.slot);
  assert_memory_equal(rej.hash, res.hash, 32);
  cdl_ledger_del(l);
  free(blocks);
  free(mem);
}

static void test_invalid_cases(void **state) {
  (void)state;
  assert_true(chain.len > 0); /* made by test_chain_generate_valid */
  cdl_gen_dir d;
  cdl_error err = {0};
  assert_int_equal(cdl_gen_dir_load(dir_a, &d, &err), CDL_OK);
  cdl_span *src;
  size_t n_src, n_cases;
  split(&chain, &src, &n_src);
  const cdl_gen_invalid_case *cases = cdl_gen_invalid_cases(&n_cases);
  assert_true(n_cases >= 20);
  for (size_t c = 0; c < n_cases; c++)
    for (uint64_t seed = 1; seed <= 3; seed++) check_case(&d, src, n_src, &cases[c], seed);
  /* Different seeds pick different places. */
  cdl_gen_invalid_result r1, r2;
  FILE *f = fopen("/dev/null", "wb");
  assert_int_equal(cdl_gen_invalid(&d, src, n_src, "fee-too-low", 1, 0, f, &r1, &err), CDL_OK);
  assert_int_equal(cdl_gen_invalid(&d, src, n_src, "fee-too-low", 2, 0, f, &r2, &err), CDL_OK);
  assert_true(r1.block_no != r2.block_no);
  assert_int_equal(cdl_gen_invalid(&d, src, n_src, "no-such-case", 1, 0, f, &r1, &err),
                   CDL_E_USAGE);
  fclose(f);
  free(src);
  cdl_gen_dir_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_genesis_create),
      cmocka_unit_test(test_genesis_dir_rejects_foreign_keys),
      cmocka_unit_test(test_chain_generate_valid),
      cmocka_unit_test(test_chain_generate_share_and_outputs),
      cmocka_unit_test(test_chain_generate_respects_threshold),
      cmocka_unit_test(test_chain_generate_empty_epoch),
      cmocka_unit_test(test_invalid_cases),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
