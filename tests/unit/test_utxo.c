/*
 * test_utxo.c: the UTxO's parts below the ledger's rules
 * (src/ledger/internal.h "UTxO"; docs/performance.md): the address store
 * holding each distinct address once (counted holds, a freed record's id
 * reused, the witness data kept), the own entries in pages (growing past
 * several pages, shrinking back, a rollback after the pages moved), and
 * the frozen part a snapshot gives (found by search, tx ids ground to one
 * prefix included; hidden by dead entries; merged in key order with the
 * own entries for the next snapshot).
 */
#include <stdlib.h>

#include "../../src/ledger/internal.h"
#include "cardinal/gen.h"
#include "chain_support.h"

#define MANY 40000 /* own entries: a little over two pages of 2^14 */

typedef struct addr_fixture {
  test_ctx t;
  cdl_buf bytes[3];
  cdl_byron_address a[3];
} addr_fixture;

/* Three decoded public-key addresses of test keys. */
static void addresses(addr_fixture *f) {
  test_ctx_init(&f->t, 0);
  for (int i = 0; i < 3; i++) {
    test_key k;
    test_key_make(&k, 100 + (uint32_t)i);
    cdl_buf_init(&f->bytes[i], 0);
    test_key_address(&k, &f->bytes[i]);
    assert_int_equal(
        cdl_byron_address_decode(f->bytes[i].data, f->bytes[i].len, &f->t.ctx, &f->a[i]), CDL_OK);
  }
}

static void addresses_free(addr_fixture *f) {
  for (int i = 0; i < 3; i++)
    cdl_buf_free(&f->bytes[i]);
  test_ctx_free(&f->t);
}

static void test_address_store(void **state) {
  (void)state;
  addr_fixture f;
  addresses(&f);
  utxo_addrs s;
  assert_int_equal(utxo_addrs_init(&s), CDL_OK);
  uint32_t a, a2, b, c;
  assert_int_equal(utxo_addrs_hold(&s, &f.a[0], &a), CDL_OK);
  assert_int_equal(utxo_addrs_hold(&s, &f.a[0], &a2), CDL_OK);
  assert_int_equal(utxo_addrs_hold(&s, &f.a[1], &b), CDL_OK);
  assert_int_equal(a, a2); /* one record for one address */
  assert_true(a != b);
  assert_int_equal(s.recs[a].refs, 2);
  assert_int_equal(s.used, 2);
  const utxo_addr *r = &s.recs[b];
  assert_memory_equal(r->bytes, f.bytes[1].data, f.bytes[1].len);
  assert_memory_equal(utxo_root(r), f.a[1].root, 28);
  assert_int_equal(r->type, CDL_BYRON_ADDR_PUBKEY);
  utxo_addrs_release(&s, a);
  assert_int_equal(s.used, 2); /* one hold left */
  utxo_addrs_release(&s, a);
  assert_int_equal(s.used, 1);
  assert_int_equal(utxo_addrs_hold(&s, &f.a[2], &c), CDL_OK);
  assert_int_equal(c, a); /* the freed record's id again */
  assert_memory_equal(s.recs[c].bytes, f.bytes[2].data, f.bytes[2].len);
  uint32_t again;
  assert_int_equal(utxo_addrs_hold(&s, &f.a[0], &again), CDL_OK); /* gone: a new record */
  assert_true(again != c && again != b);
  assert_int_equal(s.used, 3);
  utxo_addrs_free(&s);
  addresses_free(&f);
}

static void tx_id_of(uint32_t i, uint8_t id[32]) {
  cdl_blake2b_256(id, (const uint8_t *)&i, sizeof i);
}

static void test_pages(void **state) {
  (void)state;
  addr_fixture f;
  addresses(&f);
  utxo u;
  assert_int_equal(utxo_init(&u), CDL_OK);
  uint8_t id[32];
  for (uint32_t i = 0; i < MANY; i++) {
    tx_id_of(i, id);
    assert_int_equal(utxo_insert(&u, id, i % 3, &f.a[i % 3], 1000 + i), CDL_OK);
  }
  utxo_commit(&u);
  assert_int_equal(utxo_visible_count(&u), MANY);
  assert_true(u.n_pages >= 3);
  assert_int_equal(u.addrs.used, 3);
  /* A block that removes most of them and is rolled back. */
  for (uint32_t i = 0; i < MANY - 10; i++) {
    tx_id_of(i, id);
    assert_int_equal(utxo_remove(&u, id, i % 3), CDL_OK);
  }
  assert_int_equal(utxo_visible_count(&u), 10);
  utxo_rollback(&u);
  assert_int_equal(utxo_visible_count(&u), MANY);
  for (uint32_t i = 0; i < MANY; i += 97) {
    tx_id_of(i, id);
    const utxo_addr *a;
    const utxo_entry *e = utxo_find(&u, id, i % 3, &a);
    assert_non_null(e);
    assert_int_equal(e->lovelace, 1000 + i);
    assert_memory_equal(a->bytes, f.bytes[i % 3].data, f.bytes[i % 3].len);
  }
  /* The same, committed: the pages and the addresses go. */
  for (uint32_t i = 0; i < MANY; i++) {
    tx_id_of(i, id);
    assert_int_equal(utxo_remove(&u, id, i % 3), CDL_OK);
  }
  utxo_commit(&u);
  assert_int_equal(utxo_visible_count(&u), 0);
  assert_int_equal(utxo_visible_lovelace(&u), 0);
  assert_true(u.n_pages <= 1);
  assert_int_equal(u.addrs.used, 0);
  utxo_free(&u);
  addresses_free(&f);
}

static int key_order(const void *a, const void *b) {
  return utxo_key_cmp((const utxo_entry *)a, (const utxo_entry *)b);
}

/* n frozen entries: half with ids of one ground prefix (the top 32 bits
 * alike), every third index 1; address 0 each. */
static void freeze(utxo *u, const addr_fixture *f, uint32_t n) {
  utxo_entry *e = utxo_frozen_alloc(u, n);
  assert_non_null(e);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    e[i] = (utxo_entry){.index = i % 3 == 0, .addr = 0, .lovelace = 10 + i};
    tx_id_of(i, e[i].tx_id);
    if (i % 2 == 0)
      memset(e[i].tx_id, 0xab, 4);
    sum += e[i].lovelace;
  }
  qsort(e, n, sizeof *e, key_order);
  assert_int_equal(utxo_addrs_reserve(&u->addrs, 1, f->bytes[0].len), CDL_OK);
  utxo_addr meta = {.len = (uint32_t)f->bytes[0].len, .type = CDL_BYRON_ADDR_PUBKEY};
  assert_true(utxo_addrs_add_loaded(&u->addrs, f->bytes[0].data, &meta));
  u->addrs.recs[0].refs = n;
  assert_int_equal(utxo_frozen_seal(u, n, sum), CDL_OK);
}

static void test_frozen(void **state) {
  (void)state;
  addr_fixture f;
  addresses(&f);
  utxo u;
  assert_int_equal(utxo_init(&u), CDL_OK);
  const uint32_t n = 5000;
  freeze(&u, &f, n);
  assert_true(u.start_bits > 0);
  for (uint32_t i = 0; i < n; i++) {
    const utxo_entry *e = &u.frozen[i];
    assert_ptr_equal(utxo_find(&u, e->tx_id, e->index, NULL), e);
    assert_null(utxo_find(&u, e->tx_id, e->index + 2, NULL)); /* no such index */
  }
  /* Spend two frozen outputs, add one: dead entries hide the frozen ones. */
  uint8_t id[32];
  utxo_entry gone0 = u.frozen[0], gone1 = u.frozen[n - 1];
  assert_int_equal(utxo_remove(&u, gone0.tx_id, gone0.index), CDL_OK);
  assert_int_equal(utxo_remove(&u, gone1.tx_id, gone1.index), CDL_OK);
  assert_int_equal(utxo_remove(&u, gone1.tx_id, gone1.index), CDL_E_USAGE);
  tx_id_of(n + 7, id);
  assert_int_equal(utxo_insert(&u, id, 0, &f.a[1], 5), CDL_OK);
  utxo_commit(&u);
  assert_null(utxo_find(&u, gone0.tx_id, gone0.index, NULL));
  assert_int_equal(utxo_visible_count(&u), n - 1);
  const utxo_entry **sorted;
  assert_int_equal(utxo_sorted(&u, &sorted), CDL_OK);
  bool seen_new = false;
  for (size_t i = 0; i < n - 1; i++) {
    assert_true(i == 0 || utxo_key_cmp(sorted[i - 1], sorted[i]) < 0);
    assert_false(utxo_key_cmp(sorted[i], &gone0) == 0 || utxo_key_cmp(sorted[i], &gone1) == 0);
    seen_new |= memcmp(sorted[i]->tx_id, id, 32) == 0;
  }
  assert_true(seen_new);
  free(sorted);
  utxo_free(&u);
  addresses_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_address_store),
      cmocka_unit_test(test_pages),
      cmocka_unit_test(test_frozen),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
