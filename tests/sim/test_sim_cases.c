/*
 * test_sim_cases.c: the seed's consensus cases (docs/simulation.md "The
 * cases"), each a scenario file shipped in scenarios/, run by the
 * simulator (include/cardinal/sim.h): every property holds, and each case
 * shows what is particular to it:
 *  - late-join: the node that joins at slot 120 catches up (the checker's
 *    convergence bound) and forges;
 *  - disconnect-rejoin: the nodes cut off dial again and rejoin;
 *  - partition: the minority forks, and rolls back to the majority's
 *    chain after healing, within k;
 *  - delays: delays of up to 1.8 s on 1 s slots make forks, resolved;
 *  - topologies: ring, line, star, random, relays in front, mesh: every
 *    payment on every chain;
 *  - corrupt-restart: a truncated, a bit-flipped and a power-lost
 *    database each reopen and rejoin;
 *  - equivocation: one key's two blocks per slot never split honest nodes;
 *  - invalid-blocks, header-body-mismatch, over-threshold: the blocks are
 *    refused and their forger suspended;
 *  - two-leaders: both blocks seen, one chain everywhere;
 *  - no-leader: the missing key's slots stay empty, the chain grows;
 *  - every regress-*.json, a run that once failed, holds.
 * And: the same seed gives the same report byte for byte (another seed
 * another run); with a rule switched off in the honest nodes the checker
 * fails the run (it can fail).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/support.h"
#include "cardinal/crypto.h"
#include "cardinal/sim.h"

static void load(const char *name, cdl_sim_scenario *sc) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.json", CDL_SCENARIOS_DIR, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text, f);
  fclose(f);
  cdl_error err = {0};
  if (cdl_sim_scenario_parse(text, len, sc, &err) != CDL_OK) fail_msg("%s: %s", path, err.message);
}

static void run(const cdl_sim_scenario *sc, cdl_sim_report *rep) {
  cdl_error err = {0};
  if (cdl_sim_run(sc, NULL, rep, &err) != CDL_OK) fail_msg("%s: %s", sc->name, err.message);
}

/* Fails with the first violated property. */
static void assert_ok(const cdl_sim_report *rep) {
  for (int p = 0; p < CDL_SIM_PROP_COUNT; p++)
    if (!rep->property[p].held)
      fail_msg("%s seed %llu: %s failed at slot %llu: %s", rep->scenario,
               (unsigned long long)rep->seed, cdl_sim_property_name((cdl_sim_property)p),
               (unsigned long long)rep->property[p].slot, rep->property[p].why);
  assert_true(rep->ok);
}

static const cdl_sim_node_report *node(const cdl_sim_report *rep, const char *name) {
  for (size_t i = 0; i < rep->n_nodes; i++)
    if (strcmp(rep->node[i].name, name) == 0) return &rep->node[i];
  fail_msg("no node %s", name);
  return NULL;
}

static void print(const cdl_sim_report *rep) {
  uint64_t rollbacks = 0, invalid = 0;
  for (size_t i = 0; i < rep->n_nodes; i++)
    rollbacks += rep->node[i].rollbacks, invalid += rep->node[i].invalid_received;
  printf("%s: %llu main blocks, common to block %llu, %zu/%zu payments, %llu rollbacks, "
         "%llu equivocations, %llu invalid made, %llu refused\n",
         rep->scenario, (unsigned long long)rep->main_blocks,
         (unsigned long long)rep->common_block_no, rep->txs_included, rep->txs_submitted,
         (unsigned long long)rollbacks, (unsigned long long)rep->equivocations,
         (unsigned long long)rep->invalid_forged, (unsigned long long)invalid);
}

static cdl_sim_report rep; /* large: not on the stack */

static void case_run(const char *name, cdl_sim_scenario *sc) {
  load(name, sc);
  run(sc, &rep);
  print(&rep);
  assert_ok(&rep);
  assert_int_equal(rep.txs_included, rep.txs_submitted);
  assert_true(rep.txs_submitted > 0);
}

static void test_late_join(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("late-join", &sc);
  const cdl_sim_node_report *late = node(&rep, "core-2");
  assert_true(late->adopted > 60); /* the chain made before it joined */
  assert_true(late->forged > 20);
  assert_true(rep.convergence_slot <= 120 + 30);
}

static void test_disconnect_rejoin(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("disconnect-rejoin", &sc);
  /* Six pairs connect at the start; the partition and the two
   * disconnections end three connections each, all made again. */
  uint64_t connections = 0;
  for (size_t i = 0; i < rep.n_nodes; i++) connections += rep.node[i].connections;
  assert_true(connections >= 6 + 9);
  assert_true(node(&rep, "core-3")->dials > node(&rep, "core-3")->connections); /* cut off */
}

static void test_partition(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("partition", &sc);
  for (const char **n = (const char *[]){"core-3", "core-4", NULL}; *n; n++) {
    assert_true(node(&rep, *n)->rollback_max >= 2); /* its fork, given up */
    assert_true(node(&rep, *n)->rollback_max <= sc.k);
  }
}

static void test_delays(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("delays", &sc);
  uint64_t rollbacks = 0;
  for (size_t i = 0; i < rep.n_nodes; i++) rollbacks += rep.node[i].rollbacks;
  assert_true(rollbacks > 0);
}

static void test_topologies(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  static const cdl_sim_topology all[] = {CDL_SIM_RING,   CDL_SIM_LINE,   CDL_SIM_STAR,
                                         CDL_SIM_RANDOM, CDL_SIM_RELAYS, CDL_SIM_MESH};
  for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
    load("topologies", &sc);
    sc.topology = all[t];
    run(&sc, &rep);
    print(&rep);
    assert_ok(&rep);
    assert_int_equal(rep.txs_included, rep.txs_submitted);
    assert_true(rep.main_blocks > sc.slots * 8 / 10);
  }
}

static void test_corrupt_restart(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("corrupt-restart", &sc);
  uint64_t lost = 0;
  for (const char **n = (const char *[]){"core-1", "core-2", "core-3", NULL}; *n; n++) {
    printf("%s lost %llu blocks\n", *n, (unsigned long long)node(&rep, *n)->lost_blocks);
    lost += node(&rep, *n)->lost_blocks;
    assert_int_equal(node(&rep, *n)->restarts, 1);
    assert_true(node(&rep, *n)->has_tip);
    assert_true(node(&rep, *n)->tip.block_no + sc.k >= node(&rep, "core-0")->tip.block_no);
  }
  /* The truncated volatile file and the power lost (every write since the
   * last sync) each left a shorter chain, which the node then synced. */
  assert_true(node(&rep, "core-1")->lost_blocks > 0);
  assert_true(node(&rep, "core-3")->lost_blocks > 0);
  assert_true(lost >= node(&rep, "core-1")->lost_blocks + node(&rep, "core-3")->lost_blocks);
}

static void test_equivocation(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("equivocation", &sc);
  assert_true(rep.equivocations > 0);
}

static void test_invalid_blocks(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("invalid-blocks", &sc);
  assert_true(rep.invalid_forged >= 2);
  uint64_t refused = 0, suspended = 0;
  for (size_t i = 0; i < 4; i++)
    refused += rep.node[i].invalid_received, suspended += rep.node[i].suspended;
  assert_true(refused > 0);
  assert_true(suspended > 0);
}

static void test_header_body_mismatch(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("header-body-mismatch", &sc);
  assert_true(rep.invalid_forged > 0);
  uint64_t refused = 0;
  for (size_t i = 0; i < rep.n_nodes; i++)
    if (rep.node[i].honest) refused += rep.node[i].invalid_received;
  assert_true(refused > 0);
}

static void test_over_threshold(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("over-threshold", &sc);
  assert_true(node(&rep, "core-0")->invalid_received > 0);
}

static void test_two_leaders(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("two-leaders", &sc);
  assert_true(rep.equivocations > 0);
  assert_true(node(&rep, "core-2")->forged + node(&rep, "core-2-twin")->forged > 0);
}

static void test_no_leader(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  case_run("no-leader", &sc);
  /* Key 3 has no node: at most three slots in four have a block. */
  assert_true(rep.main_blocks <= sc.slots * 3 / 4 + 1);
  assert_true(rep.main_blocks >= sc.slots * 3 / 4 * 8 / 10);
}

/* Every scenarios/regress-*.json: a run that once failed, kept by name
 * (docs/simulation.md "Regressions"): every property holds. */
static void test_regressions(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  DIR *d = opendir(CDL_SCENARIOS_DIR);
  assert_non_null(d);
  size_t runs = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, "regress-", 8) != 0 || len < 6 || strcmp(e->d_name + len - 5, ".json"))
      continue;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
    load(name, &sc);
    run(&sc, &rep);
    print(&rep);
    assert_ok(&rep);
    runs++;
  }
  closedir(d);
  assert_true(runs >= 4);
}

/* The same seed, the same report byte for byte; another seed, another. */
static void test_same_seed_same_report(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  cdl_buf a, b;
  cdl_buf_init(&a, 0);
  cdl_buf_init(&b, 0);
  load("partition", &sc);
  run(&sc, &rep);
  cdl_sim_report_json(&rep, &a);
  run(&sc, &rep);
  cdl_sim_report_json(&rep, &b);
  assert_int_equal(a.len, b.len);
  assert_memory_equal(a.data, b.data, a.len);
  uint8_t digest[32];
  memcpy(digest, rep.digest, 32);
  sc.seed++;
  run(&sc, &rep);
  assert_true(memcmp(digest, rep.digest, 32) != 0);
  cdl_buf_free(&a);
  cdl_buf_free(&b);
}

/* Honest ledgers without the PBFT threshold take the greedy core's
 * blocks: the checker, counting signatures itself, fails the run. */
static void test_checker_catches_no_threshold(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  load("over-threshold", &sc);
  sc.broken = CDL_SIM_BROKEN_PBFT_THRESHOLD;
  run(&sc, &rep);
  assert_false(rep.ok);
  assert_false(rep.property[CDL_SIM_PROP_NO_INVALID_ADOPTED].held);
  printf("broken threshold caught: %s\n", rep.property[CDL_SIM_PROP_NO_INVALID_ADOPTED].why);
}

/* A core whose signing record is lost with its database signs its slot
 * again: the checker sees the key's two blocks. With the record kept, the
 * same crash is harmless. */
static void test_checker_catches_lost_record(void **state) {
  (void)state;
  static cdl_sim_scenario sc;
  load("corrupt-restart", &sc);
  sc.n_faults = 1;
  sc.fault[0] = (cdl_sim_fault){.kind = CDL_SIM_CRASH, .node = 1, .a = 101, .at_ms = 600,
                                .damage = CDL_SIM_DAMAGE_WIPE}; /* slot 101: core-1's */
  run(&sc, &rep);
  assert_ok(&rep);
  assert_true(node(&rep, "core-1")->double_sign_refused > 0);
  sc.broken = CDL_SIM_BROKEN_SIGN_RECORD;
  run(&sc, &rep);
  assert_false(rep.property[CDL_SIM_PROP_NO_DOUBLE_SIGN].held);
  printf("lost record caught: %s\n", rep.property[CDL_SIM_PROP_NO_DOUBLE_SIGN].why);
}

int main(void) {
  if (cdl_crypto_init() != CDL_OK) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_late_join),
      cmocka_unit_test(test_disconnect_rejoin),
      cmocka_unit_test(test_partition),
      cmocka_unit_test(test_delays),
      cmocka_unit_test(test_topologies),
      cmocka_unit_test(test_corrupt_restart),
      cmocka_unit_test(test_equivocation),
      cmocka_unit_test(test_invalid_blocks),
      cmocka_unit_test(test_header_body_mismatch),
      cmocka_unit_test(test_over_threshold),
      cmocka_unit_test(test_two_leaders),
      cmocka_unit_test(test_no_leader),
      cmocka_unit_test(test_regressions),
      cmocka_unit_test(test_same_seed_same_report),
      cmocka_unit_test(test_checker_catches_no_threshold),
      cmocka_unit_test(test_checker_catches_lost_record),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
