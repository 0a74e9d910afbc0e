/*
 * test_mempool.c: ledger forks and the mempool (include/cardinal/mempool.h,
 * docs/mempool.md) over a generated genesis (3 genesis keys, 5 funded
 * "poor" keys, k = 10, protocol magic 42): acceptance, each refusal with
 * its rule (the witness policy among them, against the ledger's verdict),
 * chained and conflicting txs, capacity, re-validation after the tip
 * changes, TTL expiry, the three other payload kinds, the
 * verified-witness cache shared by the mempool and block validation, and
 * the record of txs being pulled from peers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardinal/forge.h"
#include "cardinal/gen.h"
#include "cardinal/mempool.h"
#include "support.h"

static const uint32_t MAGIC = 42;
static char gen_dir[64];
static cdl_gen_dir gen;

typedef struct coin { /* an unspent output a test key owns */
  uint8_t tx_id[32];
  uint32_t index;
  const cdl_key *owner;
  uint64_t lovelace;
} coin;

/* The genesis output of poor key |i|. */
static coin poor_coin(size_t i) {
  coin c = {.index = 0, .owner = &gen.secrets.poor[i]};
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  cdl_key_address(c.owner, gen.requires_magic, MAGIC, &addr);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_error err = {0};
  cdl_byron_utxo_entry *e = NULL;
  size_t n = 0;
  assert_int_equal(cdl_byron_genesis_utxo(&gen.genesis, gen.requires_magic, &arena, &e, &n, &err),
                   CDL_OK);
  bool found = false;
  for (size_t j = 0; j < n && !found; j++) {
    if (e[j].address.len != addr.len || memcmp(e[j].address.ptr, addr.data, addr.len) != 0)
      continue;
    memcpy(c.tx_id, e[j].tx_id, 32);
    c.lovelace = e[j].lovelace;
    found = true;
  }
  assert_true(found);
  cdl_arena_free(&arena);
  cdl_buf_free(&addr);
  return c;
}

/* A GenTx [0, txaux] spending |in| and paying |pay| to poor key |to|, the
 * rest minus |fee| back to the owner; *change receives output 1. */
static void make_tx(cdl_buf *gentx, const coin *in, size_t to, uint64_t pay, uint64_t fee,
                    coin *change, uint8_t id[32]) {
  cdl_buf a_to, a_back;
  cdl_buf_init(&a_to, 0);
  cdl_buf_init(&a_back, 0);
  cdl_key_address(&gen.secrets.poor[to], gen.requires_magic, MAGIC, &a_to);
  cdl_key_address(in->owner, gen.requires_magic, MAGIC, &a_back);
  cdl_payload_tx_input txin = {.index = in->index, .owner = in->owner};
  memcpy(txin.tx_id, in->tx_id, 32);
  cdl_payload_tx_output outs[2] = {
      {cdl_span_of(a_to.data, a_to.len), pay},
      {cdl_span_of(a_back.data, a_back.len), in->lovelace - pay - fee}};
  cdl_buf_init(gentx, 0);
  cdl_cbor_enc_array(gentx, 2);
  cdl_cbor_enc_uint(gentx, CDL_MP_TX);
  cdl_payload_tx_make(&txin, 1, outs, 2, MAGIC, gentx, id);
  assert_false(gentx->failed);
  if (change != NULL) {
    *change = (coin){.index = 1, .owner = in->owner, .lovelace = outs[1].lovelace};
    memcpy(change->tx_id, id, 32);
  }
  cdl_buf_free(&a_to);
  cdl_buf_free(&a_back);
}

static const uint64_t FEE = 1000000; /* above the minimum for these sizes */

static cdl_ledger *new_ledger(void) {
  cdl_ledger_config cfg = {
      .protocol_magic = MAGIC, .requires_magic = gen.requires_magic, .k = gen.genesis.k};
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  if (cdl_ledger_new(&gen.genesis, &cfg, &l, &err) != CDL_OK) fail_msg("%s", err.message);
  return l;
}

static cdl_mempool *new_mempool(const cdl_ledger *l, size_t capacity, uint64_t ttl) {
  cdl_mempool_config cfg = {.capacity_bytes = capacity, .ttl_slots = ttl};
  cdl_mempool *mp = NULL;
  assert_int_equal(cdl_mempool_new(&cfg, l, 1, &mp), CDL_OK);
  return mp;
}

/* Adds GenTx |g| at |slot| (no entry wanted). */
static int add(cdl_mempool *mp, const cdl_ledger *l, const cdl_buf *g, uint64_t slot,
               cdl_rejection *rej) {
  return cdl_mempool_add(mp, l, g->data, g->len, slot, NULL, rej);
}

/* Each test's ledger (at genesis) and mempool over it. */
static cdl_ledger *L;
static cdl_mempool *MP;

static int test_setup(void **state) {
  (void)state;
  L = new_ledger();
  MP = new_mempool(L, 0, 0);
  return 0;
}

static int test_teardown(void **state) {
  (void)state;
  cdl_mempool_del(MP);
  cdl_ledger_del(L);
  return 0;
}

/* The test's mempool again with another capacity and TTL. */
static cdl_mempool *reopen(size_t capacity, uint64_t ttl) {
  cdl_mempool_del(MP);
  return MP = new_mempool(L, capacity, ttl);
}

static void expect_rule(int rc, const cdl_rejection *rej, const char *rule) {
  assert_int_equal(rc, CDL_E_REJECTED);
  assert_string_equal(rej->rule, rule);
}

static size_t count_of(const cdl_mempool *mp) {
  cdl_mempool_stats s;
  cdl_mempool_stats_get(mp, &s);
  return s.count;
}

/* ---- Forks ---- */

static void test_fork_isolation(void **state) {
  (void)state;
  cdl_ledger *base = new_ledger(), *fork = NULL;
  assert_int_equal(cdl_ledger_fork(base, &fork), CDL_OK);
  coin c = poor_coin(0);
  cdl_buf g;
  uint8_t id[32];
  make_tx(&g, &c, 1, 5000000, FEE, NULL, id);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux aux;
  assert_int_equal(cdl_byron_txaux_decode(g.data + 2, g.len - 2, &t.ctx, &aux), CDL_OK);
  cdl_rejection rej;
  assert_int_equal(cdl_ledger_apply_tx(fork, &aux, &rej), CDL_OK);
  uint64_t v = 0;
  assert_false(cdl_ledger_utxo_get(fork, c.tx_id, 0, &v)); /* spent in the fork */
  assert_true(cdl_ledger_utxo_get(base, c.tx_id, 0, &v));  /* not in the base */
  assert_int_equal(v, c.lovelace);
  assert_true(cdl_ledger_utxo_get(fork, id, 0, &v));
  assert_int_equal(v, 5000000);
  assert_false(cdl_ledger_utxo_get(base, id, 0, &v));
  cdl_ledger_totals tb, tf;
  cdl_ledger_get_totals(base, &tb);
  cdl_ledger_get_totals(fork, &tf);
  assert_int_equal(tf.utxo_entries, tb.utxo_entries + 1); /* one spent, two made */
  assert_int_equal(tf.utxo_lovelace, tb.utxo_lovelace - FEE);
  /* The same tx again is refused and leaves the fork as it was. */
  expect_rule(cdl_ledger_apply_tx(fork, &aux, &rej), &rej, CDL_RULE_MISSING_INPUT);
  cdl_ledger_get_totals(fork, &tf);
  assert_int_equal(tf.utxo_entries, tb.utxo_entries + 1);
  cdl_buf snap;
  cdl_buf_init(&snap, 0);
  assert_int_equal(cdl_ledger_snapshot_write(fork, &snap), CDL_E_USAGE);
  assert_true(cdl_ledger_fork_current(fork, base));
  /* Once the base takes the tx itself, the fork no longer matches it. */
  assert_int_equal(cdl_ledger_apply_tx(base, &aux, &rej), CDL_OK);
  assert_false(cdl_ledger_fork_current(fork, base));
  cdl_buf_free(&snap);
  test_ctx_free(&t);
  cdl_buf_free(&g);
  cdl_ledger_del(fork);
  cdl_ledger_del(base);
}

/* ---- Transactions ---- */

static void test_accept_and_read(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = MP;
  coin c = poor_coin(0);
  cdl_buf g;
  uint8_t id[32];
  make_tx(&g, &c, 1, 5000000, FEE, NULL, id);
  cdl_mempool_entry e;
  cdl_rejection rej;
  assert_int_equal(cdl_mempool_add(mp, l, g.data, g.len, 3, &e, &rej), CDL_OK);
  assert_int_equal(e.ticket, 1);
  assert_int_equal(e.kind, CDL_MP_TX);
  assert_memory_equal(e.id, id, 32);
  assert_int_equal(e.size, g.len - 2); /* the TxAux, without [0, ...] */
  assert_int_equal(e.slot, 3);
  cdl_mempool_stats s;
  cdl_mempool_stats_get(mp, &s);
  assert_int_equal(s.count, 1);
  assert_int_equal(s.bytes, g.len - 2);
  assert_int_equal(s.capacity, 2 * (cdl_ledger_params(l)->max_block_size - 1686));
  cdl_mempool_entry f;
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id, &f));
  assert_memory_equal(f.gentx.ptr, g.data, g.len);
  assert_false(cdl_mempool_find(mp, CDL_MP_DLG, id, &f)); /* kinds are apart */
  assert_true(cdl_mempool_next(mp, 0, &f));
  assert_int_equal(f.ticket, 1);
  assert_false(cdl_mempool_next(mp, 1, &f));
  uint8_t kind, gid[32];
  assert_int_equal(cdl_mempool_gentx_id(g.data, g.len, &kind, gid, &rej), CDL_OK);
  assert_memory_equal(gid, id, 32);
  cdl_buf_free(&g);
}

static void test_conflicts_and_chains(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = MP;
  coin c = poor_coin(0), change;
  cdl_buf g1, g2, g3;
  uint8_t id1[32], id2[32], id3[32];
  make_tx(&g1, &c, 1, 5000000, FEE, &change, id1);
  make_tx(&g2, &c, 2, 7000000, FEE, NULL, id2);      /* the same input */
  make_tx(&g3, &change, 2, 3000000, FEE, NULL, id3); /* spends tx 1's change */
  cdl_rejection rej;
  assert_int_equal(add(mp, l, &g1, 1, &rej), CDL_OK);
  expect_rule(add(mp, l, &g1, 1, &rej), &rej, CDL_RULE_MEMPOOL_DUPLICATE);
  expect_rule(add(mp, l, &g2, 1, &rej), &rej, CDL_RULE_MISSING_INPUT);
  assert_true(rej.has_tx);
  assert_memory_equal(rej.tx_id, id2, 32);
  assert_int_equal(add(mp, l, &g3, 1, &rej), CDL_OK);
  cdl_mempool_stats s;
  cdl_mempool_stats_get(mp, &s);
  assert_int_equal(s.count, 2);
  assert_int_equal(s.accepted, 2);
  assert_int_equal(s.rejected, 2);
  assert_int_equal(s.bytes, g1.len - 2 + g3.len - 2);
  cdl_buf_free(&g1);
  cdl_buf_free(&g2);
  cdl_buf_free(&g3);
}

static void test_ledger_rules_apply(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = MP;
  coin c = poor_coin(1);
  cdl_buf g;
  uint8_t id[32];
  cdl_rejection rej;
  make_tx(&g, &c, 2, 5000000, 1, NULL, id); /* a fee of 1 lovelace */
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_FEE_TOO_LOW);
  cdl_buf_free(&g);
  make_tx(&g, &c, 2, 5000000, FEE, NULL, id);
  g.data[g.len - 5] ^= 1; /* inside the witness signature */
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_WITNESS_SIGNATURE);
  assert_int_equal(count_of(mp), 0);
  cdl_buf_free(&g);
}

/* A GenTx of a tx spending |coins| (all to poor key 4, less FEE), witnessed
 * by the owners of the first |n_witnesses| of them, in input order. */
static void tx_of_coins(const coin *coins, size_t n_coins, size_t n_witnesses, cdl_buf *gentx) {
  cdl_payload_tx_input ins[2];
  const cdl_key *keys[2];
  uint64_t total = 0;
  assert_true(n_coins <= 2 && n_witnesses <= n_coins);
  for (size_t i = 0; i < n_coins; i++) {
    ins[i] = (cdl_payload_tx_input){.index = coins[i].index, .owner = coins[i].owner};
    memcpy(ins[i].tx_id, coins[i].tx_id, 32);
    keys[i] = coins[i].owner;
    total += coins[i].lovelace;
  }
  cdl_buf to, body;
  cdl_buf_init(&to, 0);
  cdl_buf_init(&body, 0);
  cdl_key_address(&gen.secrets.poor[4], gen.requires_magic, MAGIC, &to);
  cdl_payload_tx_output out = {cdl_span_of(to.data, to.len), total - FEE};
  uint8_t id[32];
  cdl_payload_tx_body(ins, n_coins, &out, 1, &body, id);
  cdl_buf_init(gentx, 0);
  cdl_cbor_enc_array(gentx, 2);
  cdl_cbor_enc_uint(gentx, CDL_MP_TX);
  cdl_payload_tx_sign(cdl_span_of(body.data, body.len), keys, n_witnesses, MAGIC, gentx);
  assert_false(gentx->failed);
  cdl_buf_free(&to);
  cdl_buf_free(&body);
}

/* The ledger's verdict on GenTx |g| alone, on a fork of |l|. */
static int ledger_verdict(const cdl_ledger *l, const cdl_buf *g, cdl_rejection *rej) {
  cdl_ledger *fork = NULL;
  assert_int_equal(cdl_ledger_fork(l, &fork), CDL_OK);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux aux;
  assert_int_equal(cdl_byron_txaux_decode(g->data + 2, g->len - 2, &t.ctx, &aux), CDL_OK);
  int rc = cdl_ledger_apply_tx(fork, &aux, rej);
  test_ctx_free(&t);
  cdl_ledger_del(fork);
  return rc;
}

/* Policy, not validity: the ledger takes a tx whose inputs outnumber its
 * witnesses (the unpaired inputs go unchecked, as in cardano-ledger), the
 * mempool refuses it with its own rule, naming the first unsigned input.
 * [tx, []] spending another key's output, and two inputs of two owners
 * with only the first one's witness. */
static void test_witnesses_missing(void **state) {
  (void)state;
  coin mine = poor_coin(0), theirs = poor_coin(1);
  coin both[2] = {mine, theirs};
  cdl_buf none, one, two;
  tx_of_coins(&theirs, 1, 0, &none);
  tx_of_coins(both, 2, 1, &one);
  tx_of_coins(both, 2, 2, &two);
  cdl_rejection rej;
  assert_int_equal(ledger_verdict(L, &none, &rej), CDL_OK);
  assert_int_equal(ledger_verdict(L, &one, &rej), CDL_OK);
  expect_rule(add(MP, L, &none, 1, &rej), &rej, CDL_RULE_MEMPOOL_WITNESSES);
  assert_true(rej.has_input && rej.input_index == theirs.index);
  assert_memory_equal(rej.input_tx_id, theirs.tx_id, 32);
  assert_string_equal(rej.detail, "witnesses for 0 of 1 inputs: input 0 is unsigned");
  expect_rule(add(MP, L, &one, 1, &rej), &rej, CDL_RULE_MEMPOOL_WITNESSES);
  assert_memory_equal(rej.input_tx_id, theirs.tx_id, 32);
  assert_string_equal(rej.detail, "witnesses for 1 of 2 inputs: input 1 is unsigned");
  assert_int_equal(count_of(MP), 0);
  assert_int_equal(add(MP, L, &two, 1, &rej), CDL_OK); /* each input signed by its owner */
  cdl_buf_free(&none);
  cdl_buf_free(&one);
  cdl_buf_free(&two);
}

static void test_decode_refusals(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = MP;
  coin c = poor_coin(0);
  cdl_buf g;
  uint8_t id[32];
  make_tx(&g, &c, 1, 5000000, FEE, NULL, id);
  cdl_rejection rej;
  const uint8_t garbage[] = {0xff, 0x00};
  expect_rule(cdl_mempool_add(mp, l, garbage, sizeof garbage, 1, NULL, &rej), &rej,
              CDL_RULE_MEMPOOL_DECODE);
  expect_rule(cdl_mempool_add(mp, l, g.data, g.len - 1, 1, NULL, &rej), &rej,
              CDL_RULE_MEMPOOL_DECODE); /* truncated */
  assert_int_equal(cdl_buf_append(&g, (const uint8_t *)"\x00", 1), CDL_OK);
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_MEMPOOL_DECODE); /* trailing byte */
  g.len--;
  g.data[1] = 4; /* no such kind */
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_MEMPOOL_DECODE);
  g.data[1] = CDL_MP_DLG; /* a tx under the certificate kind */
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_MEMPOOL_DECODE);
  assert_int_equal(count_of(mp), 0);
  cdl_buf_free(&g);
}

/* A GenTx of poor key 0's coin paying |n| outputs of 1 lovelace to poor
 * key 2's address without the network magic (the shortest address the
 * decoder reads), witnessed. */
static void many_outputs(size_t n, cdl_buf *gentx) {
  coin c = poor_coin(0);
  cdl_buf to;
  cdl_buf_init(&to, 0);
  cdl_key_address(&gen.secrets.poor[2], false, MAGIC, &to);
  cdl_payload_tx_output *outs = calloc(n, sizeof *outs);
  assert_non_null(outs);
  for (size_t i = 0; i < n; i++) outs[i] = (cdl_payload_tx_output){cdl_span_of(to.data, to.len), 1};
  cdl_payload_tx_input in = {.index = c.index, .owner = c.owner};
  memcpy(in.tx_id, c.tx_id, 32);
  uint8_t id[32];
  cdl_buf_init(gentx, 0);
  cdl_cbor_enc_array(gentx, 2);
  cdl_cbor_enc_uint(gentx, CDL_MP_TX);
  cdl_payload_tx_make(&in, 1, outs, n, MAGIC, gentx, id);
  assert_false(gentx->failed);
  free(outs);
  cdl_buf_free(&to);
}

/* The most outputs that fit the largest GenTx the mempool reads. */
static size_t most_outputs(void) {
  cdl_buf one, two;
  many_outputs(1, &one);
  many_outputs(2, &two);
  size_t per = two.len - one.len, n = 1 + (CDL_MEMPOOL_MAX_PAYLOAD - one.len) / per;
  cdl_buf_free(&one);
  cdl_buf_free(&two);
  return n - 2; /* the list's and the tx's heads grow by a byte or two on the way */
}

/* A tx's size is the ledger's rule (utxo.tx_size, maxTxSize 4,096 here),
 * never the decoder's memory: 513 outputs (once an out-of-memory close)
 * and as many outputs as fit the 64 KB the mempool reads are refused as
 * too large; 64 KB of inputs decode too (refused for their witnesses);
 * tx attributes claiming 30,000 entries are malformed, not a memory
 * failure. */
static void test_large_txs_rejected_by_rule(void **state) {
  (void)state;
  cdl_rejection rej;
  size_t counts[] = {512, 513, 1000, most_outputs()};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    cdl_buf g;
    many_outputs(counts[i], &g);
    assert_true(g.len <= CDL_MEMPOOL_MAX_PAYLOAD);
    expect_rule(add(MP, L, &g, 1, &rej), &rej, CDL_RULE_TX_SIZE);
    char want[80];
    snprintf(want, sizeof want, "tx of %zu bytes exceeds maxTxSize 4096", g.len - 2);
    assert_string_equal(rej.detail, want);
    cdl_buf_free(&g);
  }
  /* Inputs: the tx body alone (no witnesses), as many as fit. */
  coin c = poor_coin(1);
  size_t n_in = (CDL_MEMPOOL_MAX_PAYLOAD - 200) / 44; /* 44 bytes each from index 256 on */
  cdl_payload_tx_input *ins = calloc(n_in, sizeof *ins);
  assert_non_null(ins);
  for (size_t i = 0; i < n_in; i++) {
    ins[i] = (cdl_payload_tx_input){.index = (uint32_t)i, .owner = c.owner};
    memcpy(ins[i].tx_id, c.tx_id, 32);
  }
  cdl_buf to, body, g;
  cdl_buf_init(&to, 0), cdl_buf_init(&body, 0), cdl_buf_init(&g, 0);
  cdl_key_address(&gen.secrets.poor[2], false, MAGIC, &to);
  cdl_payload_tx_output out = {cdl_span_of(to.data, to.len), 1};
  uint8_t id[32];
  cdl_payload_tx_body(ins, n_in, &out, 1, &body, id);
  cdl_cbor_enc_array(&g, 2);
  cdl_cbor_enc_uint(&g, CDL_MP_TX);
  cdl_payload_tx_sign(cdl_span_of(body.data, body.len), NULL, 0, MAGIC, &g);
  assert_true(g.len <= CDL_MEMPOOL_MAX_PAYLOAD && g.len > CDL_MEMPOOL_MAX_PAYLOAD - 1000);
  expect_rule(add(MP, L, &g, 1, &rej), &rej, CDL_RULE_MEMPOOL_WITNESSES);
  /* Attributes claiming 30,000 entries: [0, [[inputs, outputs, {30000 x 0: h''}], []]]. */
  cdl_buf_reset(&g);
  cdl_buf_reset(&body);
  cdl_payload_tx_body(ins, 1, &out, 1, &body, id);
  cdl_cbor_enc_array(&g, 2);
  cdl_cbor_enc_uint(&g, CDL_MP_TX);
  cdl_cbor_enc_array(&g, 2);
  cdl_buf_append(&g, body.data, body.len - 1); /* a one-input tx without its empty map */
  cdl_cbor_enc_map(&g, 30000);
  for (size_t i = 0; i < 30000; i++) cdl_buf_append(&g, (const uint8_t *)"\x00\x40", 2);
  cdl_cbor_enc_array(&g, 0);
  assert_true(g.len <= CDL_MEMPOOL_MAX_PAYLOAD);
  expect_rule(add(MP, L, &g, 1, &rej), &rej, CDL_RULE_MEMPOOL_DECODE);
  assert_int_equal(count_of(MP), 0);
  free(ins);
  cdl_buf_free(&to), cdl_buf_free(&body), cdl_buf_free(&g);
}

static void test_capacity(void **state) {
  (void)state;
  cdl_ledger *l = L;
  coin c0 = poor_coin(0), c1 = poor_coin(1), c2 = poor_coin(2);
  cdl_buf g0, g1, g2;
  uint8_t id[32];
  make_tx(&g0, &c0, 3, 5000000, FEE, NULL, id);
  make_tx(&g1, &c1, 3, 5000000, FEE, NULL, id);
  make_tx(&g2, &c2, 3, 5000000, FEE, NULL, id);
  size_t two = (g0.len - 2) + (g1.len - 2);
  cdl_mempool *mp = reopen(two + 10, 0);
  cdl_rejection rej;
  assert_int_equal(add(mp, l, &g0, 1, &rej), CDL_OK);
  assert_int_equal(add(mp, l, &g1, 1, &rej), CDL_OK);
  expect_rule(add(mp, l, &g2, 1, &rej), &rej, CDL_RULE_MEMPOOL_FULL);
  /* Full, a tx is still judged by the other rules first: a submitter told
   * mempool.full may wait for room, one refused otherwise learns why at
   * once. A double spend of tx 0's input: */
  cdl_buf dup0, other2;
  make_tx(&dup0, &c0, 4, 6000000, FEE, NULL, id);
  expect_rule(add(mp, l, &dup0, 1, &rej), &rej, CDL_RULE_MISSING_INPUT);
  /* That judgement left the mempool's ledger as it was: another tx
   * spending tx 2's input is full too, not a double spend. */
  make_tx(&other2, &c2, 4, 6000000, FEE, NULL, id);
  expect_rule(add(mp, l, &other2, 1, &rej), &rej, CDL_RULE_MEMPOOL_FULL);
  cdl_mempool_stats s;
  cdl_mempool_stats_get(mp, &s);
  assert_int_equal(s.count, 2);
  assert_int_equal(s.bytes, two);
  assert_int_equal(s.capacity, two + 10);
  assert_int_equal(s.rejected, 3);
  /* A tx larger than the whole capacity can never fit: told so, even empty. */
  mp = reopen(g0.len - 3, 0);
  expect_rule(add(mp, l, &g0, 1, &rej), &rej, CDL_RULE_MEMPOOL_TOO_LARGE);
  mp = reopen(g0.len - 2, 0); /* exactly its size: it fits */
  assert_int_equal(add(mp, l, &g0, 1, &rej), CDL_OK);
  cdl_buf_free(&g0);
  cdl_buf_free(&g1);
  cdl_buf_free(&g2);
  cdl_buf_free(&dup0);
  cdl_buf_free(&other2);
}

/* The tip takes tx 1 (as a block would): tx 1 leaves the mempool, the tx
 * spending its change stays, and a tx conflicting with nothing stays. */
static void test_revalidation(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = MP;
  coin c = poor_coin(0), change, other = poor_coin(4);
  cdl_buf g1, g2, g3;
  uint8_t id1[32], id2[32], id3[32];
  make_tx(&g1, &c, 1, 5000000, FEE, &change, id1);
  make_tx(&g2, &change, 2, 3000000, FEE, NULL, id2);
  make_tx(&g3, &other, 2, 3000000, FEE, NULL, id3);
  cdl_rejection rej;
  assert_int_equal(add(mp, l, &g1, 1, &rej), CDL_OK);
  assert_int_equal(add(mp, l, &g2, 1, &rej), CDL_OK);
  assert_int_equal(add(mp, l, &g3, 1, &rej), CDL_OK);
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_txaux aux;
  assert_int_equal(cdl_byron_txaux_decode(g1.data + 2, g1.len - 2, &t.ctx, &aux), CDL_OK);
  assert_int_equal(cdl_ledger_apply_tx(l, &aux, &rej), CDL_OK);
  assert_int_equal(cdl_mempool_sync(mp, l, 2), CDL_OK);
  cdl_mempool_stats s;
  cdl_mempool_stats_get(mp, &s);
  assert_int_equal(s.count, 2);
  assert_int_equal(s.removed_invalid, 1);
  assert_int_equal(s.bytes, g2.len - 2 + g3.len - 2);
  cdl_mempool_entry e;
  assert_false(cdl_mempool_find(mp, CDL_MP_TX, id1, &e));
  assert_true(cdl_mempool_find(mp, CDL_MP_TX, id2, &e));
  assert_int_equal(e.ticket, 2); /* tickets survive */
  assert_true(cdl_mempool_next(mp, 0, &e));
  assert_int_equal(e.ticket, 2);
  assert_true(cdl_mempool_next(mp, 2, &e));
  assert_int_equal(e.ticket, 3);
  /* The tip moves again without a sync: add notices and re-validates. */
  assert_int_equal(cdl_byron_txaux_decode(g3.data + 2, g3.len - 2, &t.ctx, &aux), CDL_OK);
  assert_int_equal(cdl_ledger_apply_tx(l, &aux, &rej), CDL_OK);
  expect_rule(add(mp, l, &g3, 2, &rej), &rej, CDL_RULE_MISSING_INPUT);
  assert_int_equal(count_of(mp), 1);
  test_ctx_free(&t);
  cdl_buf_free(&g1);
  cdl_buf_free(&g2);
  cdl_buf_free(&g3);
}

static void test_expiry(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = reopen(0, 5);
  coin a = poor_coin(0), b = poor_coin(1);
  cdl_buf ga, gb;
  uint8_t id[32];
  make_tx(&ga, &a, 2, 5000000, FEE, NULL, id);
  make_tx(&gb, &b, 2, 5000000, FEE, NULL, id);
  cdl_rejection rej;
  assert_int_equal(add(mp, l, &ga, 10, &rej), CDL_OK);
  assert_int_equal(add(mp, l, &gb, 12, &rej), CDL_OK);
  assert_int_equal(cdl_mempool_sync(mp, l, 14), CDL_OK);
  assert_int_equal(count_of(mp), 2);
  assert_int_equal(cdl_mempool_sync(mp, l, 15), CDL_OK); /* a is 5 slots old */
  cdl_mempool_stats s;
  cdl_mempool_stats_get(mp, &s);
  assert_int_equal(s.count, 1);
  assert_int_equal(s.removed_expired, 1);
  assert_int_equal(cdl_mempool_sync(mp, l, 17), CDL_OK);
  assert_int_equal(count_of(mp), 0);
  /* Its input is free again: a is accepted anew. */
  assert_int_equal(add(mp, l, &ga, 17, &rej), CDL_OK);
  cdl_buf_free(&ga);
  cdl_buf_free(&gb);
}

/* ---- The other payload kinds ---- */

static void wrap(cdl_buf *g, uint8_t kind) {
  cdl_buf_init(g, 0);
  cdl_cbor_enc_array(g, 2);
  cdl_cbor_enc_uint(g, kind);
}

static void test_other_kinds(void **state) {
  (void)state;
  cdl_ledger *l = L;
  cdl_mempool *mp = MP;
  cdl_rejection rej;
  cdl_buf g;
  /* A delegation certificate: genesis key 0 hands over to poor key 0 from
   * epoch 1 (its genesis certificate already covers epoch 0). */
  wrap(&g, CDL_MP_DLG);
  cdl_payload_cert_make(&gen.secrets.genesis[0], gen.secrets.poor[0].xpub, 1, MAGIC, &g);
  cdl_mempool_entry e;
  assert_int_equal(cdl_mempool_add(mp, l, g.data, g.len, 1, &e, &rej), CDL_OK);
  uint8_t want[32];
  cdl_blake2b_256(want, g.data + 2, g.len - 2);
  assert_memory_equal(e.id, want, 32);
  cdl_buf_free(&g);
  wrap(&g, CDL_MP_DLG); /* a second one from the same issuer for epoch 1 */
  cdl_payload_cert_make(&gen.secrets.genesis[0], gen.secrets.poor[1].xpub, 1, MAGIC, &g);
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_DLG_EPOCH_REPEAT);
  cdl_buf_free(&g);
  /* A vote for a proposal nobody made. */
  uint8_t pid[32] = {7};
  wrap(&g, CDL_MP_VOTE);
  cdl_payload_vote_make(&gen.secrets.delegates[1], pid, MAGIC, &g);
  expect_rule(add(mp, l, &g, 1, &rej), &rej, CDL_RULE_UPD_VOTE_UNKNOWN);
  cdl_buf_free(&g);
  /* A proposal, then a vote for it: valid only with the proposal in. */
  wrap(&g, CDL_MP_PROPOSAL);
  cdl_payload_proposal_make(&gen.secrets.delegates[1], (cdl_byron_version){0, 1, 0}, 8192,
                            "cardinal", 1, MAGIC, &g, pid);
  assert_int_equal(cdl_mempool_add(mp, l, g.data, g.len, 1, &e, &rej), CDL_OK);
  assert_int_equal(e.kind, CDL_MP_PROPOSAL);
  assert_memory_equal(e.id, pid, 32);
  cdl_buf_free(&g);
  wrap(&g, CDL_MP_VOTE);
  cdl_payload_vote_make(&gen.secrets.delegates[2], pid, MAGIC, &g);
  assert_int_equal(cdl_mempool_add(mp, l, g.data, g.len, 1, &e, &rej), CDL_OK);
  assert_int_equal(e.kind, CDL_MP_VOTE);
  cdl_buf_free(&g);
  /* Re-validated on an unchanged tip, all three stay. */
  assert_int_equal(cdl_mempool_sync(mp, l, 2), CDL_OK);
  assert_int_equal(count_of(mp), 3);
}

static int setup(void **state) {
  test_group_setup(state);
  cdl_gen_genesis_spec s = {.protocol_magic = MAGIC,
                            .k = 10,
                            .start_time = 1700000000,
                            .genesis_keys = 3,
                            .poor_addresses = 5,
                            .poor_balance = 1000000000000,
                            .has_seed = true,
                            .seed = 5};
  cdl_gen_default_params(&s.params);
  snprintf(gen_dir, sizeof gen_dir, "/tmp/cdl-mempool-XXXXXX");
  assert_non_null(mkdtemp(gen_dir));
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&s, gen_dir, &err) != CDL_OK) fail_msg("genesis: %s", err.message);
  if (cdl_gen_dir_load(gen_dir, &gen, &err) != CDL_OK) fail_msg("load: %s", err.message);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cdl_gen_dir_free(&gen);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", gen_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* ---- The verified-witness cache (docs/mempool.md "Verified witnesses") ---- */

/* Applies epoch 0's boundary block to |l|; *hash receives its hash. */
static void apply_ebb(cdl_ledger *l, test_ctx *t, uint8_t hash[32]) {
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_forge_ebb(MAGIC, gen.genesis.hash, 0, 0, &b);
  cdl_byron_block ebb;
  cdl_rejection rej;
  assert_int_equal(cdl_byron_block_decode(b.data, b.len, &t->ctx, &ebb), CDL_OK);
  assert_int_equal(cdl_ledger_apply_block(l, &ebb, &rej), CDL_OK);
  memcpy(hash, cdl_byron_block_hash(&ebb), 32);
  cdl_buf_free(&b);
}

/* Block 1 of slot 1 after |prev| holding |gentx|, decoded into |t|. */
static void forge_with(const uint8_t prev[32], const cdl_buf *gentx, test_ctx *t, cdl_buf *block,
                       cdl_byron_block *blk) {
  cdl_forge_spec f = {.magic = MAGIC,
                      .prev_hash = prev,
                      .block_no = 1,
                      .epoch = 0,
                      .slot_in_epoch = 1,
                      .cert = &gen.secrets.certs[1],
                      .delegate = &gen.secrets.delegates[1]};
  cdl_span one = cdl_span_of(gentx->data, gentx->len);
  cdl_error err = {0};
  cdl_buf_init(block, 0);
  if (cdl_forge_block(&f, &one, 1, block, &err) != CDL_OK) fail_msg("forge: %s", err.message);
  assert_int_equal(cdl_byron_block_decode(block->data, block->len, &t->ctx, blk), CDL_OK);
}

/* A tx verified as it entered the mempool is not verified again in the
 * block that holds it; the same tx with one witness byte changed (same tx
 * id: witnesses are not hashed into it) misses and is refused. */
static void test_witness_cache(void **state) {
  (void)state;
  cdl_witness_cache *wc;
  assert_int_equal(cdl_witness_cache_new(64, &wc), CDL_OK);
  cdl_ledger_config cfg = {.protocol_magic = MAGIC,
                           .requires_magic = gen.requires_magic,
                           .k = gen.genesis.k,
                           .witness_cache = wc};
  cdl_ledger *l = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_ledger_new(&gen.genesis, &cfg, &l, &err), CDL_OK);
  cdl_mempool *mp = new_mempool(l, 0, 0);
  coin c = poor_coin(0);
  cdl_buf g, bad;
  uint8_t id[32];
  make_tx(&g, &c, 1, 5000000, FEE, NULL, id);
  cdl_rejection rej;
  assert_int_equal(add(mp, l, &g, 1, &rej), CDL_OK);
  cdl_witness_cache_stats st;
  cdl_witness_cache_stats_get(wc, &st);
  assert_int_equal(st.stored, 1);
  assert_int_equal(st.hits, 0);

  cdl_buf_init(&bad, 0);
  cdl_buf_append(&bad, g.data, g.len);
  bad.data[bad.len - 1] ^= 0x01; /* the last byte of the only signature */
  test_ctx t;
  test_ctx_init(&t, 0);
  uint8_t ebb[32];
  apply_ebb(l, &t, ebb);
  cdl_buf block;
  cdl_byron_block blk;
  forge_with(ebb, &bad, &t, &block, &blk);
  assert_memory_equal(blk.body.txs[0].tx.id, id, 32);
  expect_rule(cdl_ledger_apply_block(l, &blk, &rej), &rej, CDL_RULE_WITNESS_SIGNATURE);
  cdl_witness_cache_stats_get(wc, &st);
  assert_int_equal(st.hits, 0);
  assert_int_equal(st.stored, 1);
  cdl_buf_free(&block);

  forge_with(ebb, &g, &t, &block, &blk);
  assert_int_equal(cdl_ledger_apply_block(l, &blk, &rej), CDL_OK);
  cdl_witness_cache_stats_get(wc, &st);
  assert_int_equal(st.hits, 1); /* no second verification */
  assert_int_equal(st.stored, 1);

  /* The precheck of a block-fetch worker reads the same cache. */
  assert_true(cdl_witness_cache_has(wc, &blk.body.txs[0].witnesses[0], id, MAGIC));
  assert_false(cdl_witness_cache_has(wc, &blk.body.txs[0].witnesses[0], id, MAGIC + 1));
  cdl_buf_free(&block);
  test_ctx_free(&t);
  cdl_buf_free(&bad);
  cdl_buf_free(&g);
  cdl_mempool_del(mp);
  cdl_ledger_del(l);
  cdl_witness_cache_del(wc);
}

/* A full bucket replaces its oldest entries; nothing but what was put hits. */
static void test_witness_cache_bounded(void **state) {
  (void)state;
  cdl_witness_cache *wc;
  assert_int_equal(cdl_witness_cache_new(8, &wc), CDL_OK);
  uint8_t key[64] = {1}, sig[64] = {2}, tx[32] = {3};
  cdl_byron_witness w = {.type = CDL_BYRON_WIT_PUBKEY, .key = key, .key_len = 64, .signature = sig};
  for (unsigned i = 0; i < 100; i++) {
    tx[0] = (uint8_t)i;
    cdl_witness_cache_put(wc, &w, tx, MAGIC);
  }
  cdl_witness_cache_stats st;
  cdl_witness_cache_stats_get(wc, &st);
  assert_int_equal(st.capacity, 8);
  assert_int_equal(st.stored, 100);
  assert_int_equal(st.evicted, 92);
  size_t kept = 0;
  for (unsigned i = 0; i < 100; i++) {
    tx[0] = (uint8_t)i;
    kept += cdl_witness_cache_has(wc, &w, tx, MAGIC);
  }
  assert_int_equal(kept, 8);
  tx[0] = 99;
  sig[5] ^= 1;
  assert_false(cdl_witness_cache_has(wc, &w, tx, MAGIC));
  cdl_witness_cache_del(wc);
}

/* ---- Pulls in flight (fetching.c) ---- */

/* Owners take, hold and give up pulls one id at a time. */
static void test_fetch_claims(void **state) {
  (void)state;
  int o1 = 0, o2 = 0; /* only their addresses matter */
  uint8_t id[32] = {1};
  assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &o1));
  assert_false(cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &o2));
  assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &o1)); /* already o1's */
  assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_DLG, id, &o2)); /* another kind */
  cdl_mempool_fetch_release(MP, CDL_MP_TX, id, &o2); /* not o2's: no effect */
  assert_false(cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &o2));
  uint64_t before = cdl_mempool_fetch_changes(MP);
  cdl_mempool_fetch_release(MP, CDL_MP_TX, id, &o1);
  assert_true(cdl_mempool_fetch_changes(MP) > before);
  assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &o2));
  cdl_mempool_fetch_release_all(MP, &o2);
  assert_int_equal(cdl_mempool_fetching(MP), 0);
}

/* Random claims and releases of three owners against a model: the table
 * (open addressing, deletion by backward shift) never loses or invents a
 * pull; past its bound a claim is granted unrecorded. */
static void test_fetch_claims_model(void **state) {
  (void)state;
  enum { IDS = 2000, STEPS = 60000 };
  int owners[3] = {0};
  static int8_t model[IDS]; /* owner index, or -1 */
  memset(model, -1, sizeof model);
  size_t held = 0;
  uint64_t rnd = 88172645463325252ull;
  for (int step = 0; step < STEPS; step++) {
    rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
    size_t i = (size_t)(rnd % IDS);
    int who = (int)((rnd >> 20) % 3), op = (int)((rnd >> 30) % 100);
    uint8_t id[32] = {0};
    memcpy(id, &i, sizeof i);
    if (op < 60) {
      bool granted = cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &owners[who]);
      assert_int_equal(granted, model[i] < 0 || model[i] == who);
      if (model[i] < 0) model[i] = (int8_t)who, held++;
    } else if (op < 99) {
      cdl_mempool_fetch_release(MP, CDL_MP_TX, id, &owners[who]);
      if (model[i] == who) model[i] = -1, held--;
    } else {
      cdl_mempool_fetch_release_all(MP, &owners[who]);
      for (size_t j = 0; j < IDS; j++)
        if (model[j] == who) model[j] = -1, held--;
    }
    assert_int_equal(cdl_mempool_fetching(MP), held);
  }
  for (int who = 0; who < 3; who++) cdl_mempool_fetch_release_all(MP, &owners[who]);
  assert_int_equal(cdl_mempool_fetching(MP), 0);
  /* Full: 3,072 recorded, then claims are granted to anyone, unrecorded. */
  size_t n = 0;
  for (size_t i = 0; n == cdl_mempool_fetching(MP); i++, n++) {
    uint8_t id[32] = {9};
    memcpy(id + 1, &i, sizeof i);
    assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_TX, id, &owners[0]));
  }
  assert_int_equal(n - 1, 3072);
  uint8_t extra[32] = {7};
  assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_TX, extra, &owners[1]));
  assert_true(cdl_mempool_fetch_claim(MP, CDL_MP_TX, extra, &owners[2]));
  cdl_mempool_fetch_release_all(MP, &owners[0]);
  assert_int_equal(cdl_mempool_fetching(MP), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fork_isolation, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_accept_and_read, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_conflicts_and_chains, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_ledger_rules_apply, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_witnesses_missing, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_decode_refusals, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_large_txs_rejected_by_rule, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_capacity, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_revalidation, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_expiry, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_other_kinds, test_setup, test_teardown),
      cmocka_unit_test(test_witness_cache),
      cmocka_unit_test(test_witness_cache_bounded),
      cmocka_unit_test_setup_teardown(test_fetch_claims, test_setup, test_teardown),
      cmocka_unit_test_setup_teardown(test_fetch_claims_model, test_setup, test_teardown),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
