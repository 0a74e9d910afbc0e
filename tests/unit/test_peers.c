/*
 * test_peers.c: the upstream peer set (include/cardinal/node.h "Peers",
 * src/node/peers.c): the backoff after failures (1 s doubling to 60 s,
 * reset by a connection that comes up), the 200 s suspension of a peer that
 * broke the protocol or sent an invalid block, valency per group, and the
 * order of preference (reputation, then round trip), and the state
 * names the metrics give.
 */
#include "cardinal/node.h"
#include "support.h"

#define S 1000000ull

static void test_backoff(void **state) {
  (void)state;
  cdl_peers ps;
  cdl_peers_init(&ps);
  size_t g, i;
  assert_int_equal(cdl_peers_add_group(&ps, 1, &g), CDL_OK);
  assert_int_equal(cdl_peers_add(&ps, g, "127.0.0.1", 3001), CDL_OK);
  uint64_t now = 100 * S, want[] = {1, 2, 4, 8, 16, 32, 60, 60};
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    assert_true(cdl_peers_next_dial(&ps, now, &i));
    cdl_peers_dialling(&ps, i, now);
    assert_false(cdl_peers_next_dial(&ps, now, &i)); /* valency 1: one at a time */
    cdl_peers_down(&ps, i, CDL_PEER_END_IO, now);
    assert_int_equal(cdl_peers_deadline(&ps), now + want[k] * S);
    assert_false(cdl_peers_next_dial(&ps, now + want[k] * S - 1, &i));
    now += want[k] * S;
  }
  /* A connection that came up resets the count, however short it was:
   * its drop waits 1 s, the next failed dial 2 s. */
  assert_true(cdl_peers_next_dial(&ps, now, &i));
  cdl_peers_up(&ps, i, now);
  cdl_peers_down(&ps, i, CDL_PEER_END_IO, now + S / 2);
  now += S / 2;
  assert_int_equal(cdl_peers_deadline(&ps), now + 1 * S);
  now += S;
  assert_true(cdl_peers_next_dial(&ps, now, &i));
  cdl_peers_dialling(&ps, i, now);
  cdl_peers_down(&ps, i, CDL_PEER_END_IO, now);
  assert_int_equal(cdl_peers_deadline(&ps), now + 2 * S);
}

static void test_suspension(void **state) {
  (void)state;
  cdl_peers ps;
  cdl_peers_init(&ps);
  size_t g, i;
  cdl_peers_add_group(&ps, 2, &g);
  cdl_peers_add(&ps, g, "a", 1);
  cdl_peers_add(&ps, g, "b", 2);
  assert_true(cdl_peers_next_dial(&ps, 0, &i));
  cdl_peers_up(&ps, i, 0);
  cdl_peers_down(&ps, i, cdl_peer_end_of(CDL_E_REJECTED), 5 * S);
  assert_int_equal(ps.peer[i].invalid_blocks, 1);
  assert_true(ps.peer[i].reputation < 0);
  size_t j;
  assert_true(cdl_peers_next_dial(&ps, 5 * S, &j)); /* the other one */
  assert_int_not_equal(i, j);
  cdl_peers_up(&ps, j, 5 * S);
  assert_int_equal(cdl_peers_deadline(&ps), 205 * S);
  assert_false(cdl_peers_next_dial(&ps, 205 * S - 1, &i));
  assert_true(cdl_peers_next_dial(&ps, 205 * S, &i));
  cdl_peers_down(&ps, j, cdl_peer_end_of(CDL_E_TIMEOUT), 10 * S);
  assert_int_equal(ps.peer[j].violations, 1);
  assert_int_equal(cdl_peer_end_of(CDL_E_IO), CDL_PEER_END_IO);
  assert_int_equal(cdl_peer_end_of(CDL_OK), CDL_PEER_END_CLEAN);
  /* Bytes that do not decode are the peer's fault, as a violation is. */
  assert_int_equal(cdl_peer_end_of(CDL_E_CBOR), CDL_PEER_END_VIOLATION);
  assert_int_equal(cdl_peer_end_of(CDL_E_TYPE), CDL_PEER_END_VIOLATION);
  assert_int_equal(cdl_peer_end_of(CDL_E_NOMEM), CDL_PEER_END_IO);
}

static void test_preference(void **state) {
  (void)state;
  cdl_peers ps;
  cdl_peers_init(&ps);
  size_t g1, g2, i;
  cdl_peers_add_group(&ps, 1, &g1);
  cdl_peers_add_group(&ps, 1, &g2);
  cdl_peers_add(&ps, g1, "slow", 1);
  cdl_peers_add(&ps, g1, "fast", 2);
  cdl_peers_add(&ps, g2, "other", 3);
  cdl_peers_rtt(&ps, 0, 80000);
  cdl_peers_rtt(&ps, 1, 8000);
  assert_true(cdl_peers_next_dial(&ps, 0, &i));
  assert_string_equal(ps.peer[i].host, "fast");
  cdl_peers_dialling(&ps, i, 0);
  assert_true(cdl_peers_next_dial(&ps, 0, &i)); /* group 1 is full: group 2's */
  assert_string_equal(ps.peer[i].host, "other");
  cdl_peers_dialling(&ps, i, 0);
  assert_false(cdl_peers_next_dial(&ps, 0, &i));
  cdl_peers_down(&ps, 1, CDL_PEER_END_VIOLATION, 0); /* fast misbehaves: slow next */
  assert_true(cdl_peers_next_dial(&ps, 0, &i));
  assert_string_equal(ps.peer[i].host, "slow");
  cdl_peers_rtt(&ps, 0, 160000); /* smoothed: 7/8 old + 1/8 new */
  assert_int_equal(ps.peer[0].rtt_us, 90000);
}

/* The states the metrics name (docs/node.md "Metrics"). */
static void test_state_names(void **state) {
  (void)state;
  cdl_peers ps;
  cdl_peers_init(&ps);
  size_t g, i;
  cdl_peers_add_group(&ps, 1, &g);
  cdl_peers_add(&ps, g, "a", 1);
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 0), "idle");
  assert_true(cdl_peers_next_dial(&ps, 0, &i));
  cdl_peers_dialling(&ps, i, 0);
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 0), "dialling");
  cdl_peers_up(&ps, i, 0);
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 0), "up");
  cdl_peers_down(&ps, i, CDL_PEER_END_IO, 10 * S);
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 10 * S), "backoff");
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 11 * S), "idle"); /* 1 s later */
  cdl_peers_up(&ps, i, 11 * S);
  cdl_peers_down(&ps, i, CDL_PEER_END_VIOLATION, 12 * S);
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 12 * S), "suspended");
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 212 * S), "idle");
  cdl_peers_up(&ps, i, 212 * S);
  cdl_peers_down(&ps, i, CDL_PEER_END_IO, 213 * S); /* a later plain failure: no longer suspended */
  assert_string_equal(cdl_peer_state_name(&ps.peer[0], 213 * S), "backoff");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_backoff),
                                     cmocka_unit_test(test_suspension),
                                     cmocka_unit_test(test_preference),
                                     cmocka_unit_test(test_state_names)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
