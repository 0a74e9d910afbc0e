/*
 * test_node_sim.c: three core nodes' kernels (include/cardinal/node.h) in
 * the deterministic simulator (node_sim.h) for 1,000 one-second slots
 * with 20 payments submitted to random nodes:
 *  - they converge: every chain holds the same blocks up to k blocks
 *    from the shortest tip;
 *  - the round robin fills the slots: each node forges its share, and at
 *    least 90% of the slots have a block;
 *  - every payment is on every chain, and each block is fetched from one
 *    peer only;
 *  - the same seed gives the same run, byte for byte (the digest of every
 *    delivery); another seed gives another.
 * And a relay whose first upstream is a hostile peer serving a block with
 * a broken signature, for 300 slots: the relay refuses the block, ends
 * that connection (and no other), and follows the honest chain with
 * every payment, the same run for the same seed.
 * And a core node restarted on an empty ChainDB in a slot it signed: its
 * signing record refuses that slot, and it catches up and forges on; its
 * peers, whose connections closed, dial it again a second later.
 * The connections are full duplex: each pair of cores shares the one
 * its first dialler made. An initiator-only relay syncs and relays the
 * payments submitted to it over one-way connections.
 * And peer selection, which the kernels run themselves in simulated time:
 * an address that never answers is dialled again after 1, 2, 4, ... 60 s;
 * the hostile peer that sent an invalid block is suspended for 200 s, then
 * dialled again once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/storage_support.h"
#include "node_sim.h"

#define SLOTS 1000
#define K 10
#define START_US (1700000000ull * 1000000) /* node_sim.c's genesis start */
#define S 1000000ull

/* The times node |node| dialled |to|, in order; how many. */
static size_t dials_of(const sim_result *r, size_t node, uint16_t to, uint64_t *at, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_dials && n < max; i++)
    if (r->dials[i].node == node && r->dials[i].to == to) at[n++] = r->dials[i].at_us;
  return n;
}

static sim_config config(uint64_t seed) {
  return (sim_config){.nodes = 3,
                      .seed = seed,
                      .slots = SLOTS,
                      .k = K,
                      .threshold = 0.5,
                      .txs = 20,
                      .latency_us = 20000,
                      .jitter_us = 200000};
}

static void check_run(const sim_result *r) {
  uint64_t low = UINT64_MAX;
  for (size_t i = 0; i < 3; i++) {
    printf(
        "node %zu: tip block %llu slot %llu, forged %llu (+%llu EBBs), skipped %llu, "
        "adopted %llu of %llu received\n",
        i, (unsigned long long)r->tip[i].block_no, (unsigned long long)r->tip[i].slot,
        (unsigned long long)r->stats[i].forged, (unsigned long long)r->stats[i].ebbs_forged,
        (unsigned long long)r->stats[i].forge_skipped,
        (unsigned long long)r->stats[i].blocks_adopted,
        (unsigned long long)r->stats[i].blocks_received);
    if (r->tip[i].block_no < low) low = r->tip[i].block_no;
    assert_true(r->stats[i].forged >= SLOTS / 3 * 9 / 10);
    assert_int_equal(r->stats[i].invalid_blocks, 0);
    /* Each block is fetched from one peer (node_fetch.c): a few EBBs and
     * forks aside, every block received is adopted. Without the
     * decisions each came once per peer, about 2,000 for 670. */
    assert_true(r->stats[i].blocks_received <= r->stats[i].blocks_adopted + SLOTS / 50);
    /* Full duplex: each core's two peers are on connections that carry
     * both directions. */
    assert_int_equal(r->stats[i].conns_duplex, 2);
  }
  /* Every core lists the others; the first to dial made the one
   * connection of each pair, which the other took as its own too. */
  assert_int_equal(r->links, 3);
  printf(
      "common prefix to block %llu; %llu main blocks in %d slots; %zu of %zu txs on every "
      "chain; %llu deliveries, %llu bytes\n",
      (unsigned long long)r->common_block_no, (unsigned long long)r->main_blocks, SLOTS,
      r->txs_included, r->txs_submitted, (unsigned long long)r->deliveries,
      (unsigned long long)r->bytes);
  assert_true(low - r->common_block_no <= K);
  assert_true(r->main_blocks >= SLOTS * 9 / 10);
  assert_int_equal(r->txs_submitted, 20);
  assert_int_equal(r->txs_included, 20);
  /* Each tx was verified as it entered a mempool; the forger of the block
   * holding it found its witness there and did not verify it again, and
   * so did every node whose mempool had it before the block came. */
  uint64_t hits = 0;
  for (size_t i = 0; i < 3; i++) {
    assert_true(r->witnesses[i].misses >= 1);
    hits += r->witnesses[i].hits;
  }
  assert_true(hits >= r->txs_included);
}

static void test_converge_and_repeat(void **state) {
  (void)state;
  sim_result a, b, c;
  sim_config cfg = config(7);
  sim_run(&cfg, &a);
  check_run(&a);
  cfg.threads = 3; /* blocks parsed and checked on worker threads: the same run */
  sim_run(&cfg, &b);
  cfg.threads = 0;
  assert_memory_equal(a.digest, b.digest, 32);
  assert_int_equal(a.deliveries, b.deliveries);
  for (size_t i = 0; i < 3; i++) assert_memory_equal(a.tip[i].hash, b.tip[i].hash, 32);
  cfg = config(8);
  sim_run(&cfg, &c);
  check_run(&c);
  assert_memory_not_equal(a.digest, c.digest, 32);
}

static void test_relay_refuses_evil_peer(void **state) {
  (void)state;
  sim_config cfg = config(11);
  cfg.slots = 300;
  cfg.txs = 10;
  cfg.relay_and_evil_peer = true;
  sim_result r, again;
  sim_run(&cfg, &r);
  const size_t relay = 3;
  printf("relay: tip block %llu; ended the hostile link (%d): %s; %llu invalid of %llu received\n",
         (unsigned long long)r.tip[relay].block_no, r.evil_link_rc, r.evil_link_why,
         (unsigned long long)r.stats[relay].invalid_blocks,
         (unsigned long long)r.stats[relay].blocks_received);
  assert_true(r.evil_link_ended);
  assert_int_equal(r.evil_link_rc, CDL_E_REJECTED);
  assert_int_equal(r.stats[relay].invalid_blocks, 1);
  /* Three cores announce every block; the relay fetches each once. */
  assert_true(r.stats[relay].blocks_received <= r.stats[relay].blocks_adopted + 10);
  for (size_t i = 0; i < 3; i++) assert_int_equal(r.stats[i].invalid_blocks, 0);
  /* The relay's chain is the honest one: within k of every core. */
  uint64_t low = UINT64_MAX;
  for (size_t i = 0; i <= relay; i++) low = r.tip[i].block_no < low ? r.tip[i].block_no : low;
  assert_true(low - r.common_block_no <= K);
  /* The cores never saw the bad block, so a prefix shared with them past
   * its block number holds an honest block there. */
  assert_true(r.common_block_no >= r.evil_block_no);
  assert_true(r.tip[relay].block_no + 2 >= r.tip[0].block_no);
  assert_true(r.main_blocks >= 300 * 9 / 10);
  assert_int_equal(r.txs_included, 10); /* on the relay's chain too */
  sim_run(&cfg, &again);
  assert_memory_equal(r.digest, again.digest, 32);
  assert_memory_equal(r.tip[relay].hash, again.tip[relay].hash, 32);
}

/* Runs |cfg| with the kernels' log lines (INFO and up) kept; they are
 * returned, for the caller to free. */
static char *run_logged(sim_config *cfg, sim_result *r) {
  char *logs = NULL;
  size_t logs_len = 0;
  FILE *mem = open_memstream(&logs, &logs_len);
  assert_non_null(mem);
  cdl_logger lg = {.out = mem, .min = CDL_LOG_INFO};
  cfg->log = &lg;
  sim_run(cfg, r);
  fclose(mem);
  cfg->log = NULL;
  return logs;
}

/* Core node 1 restarted on an empty ChainDB three quarters into slot 151,
 * one of its own, which it signed: its first tick finds slot 151 again,
 * which its signing record refuses (the chain it has is empty); it then
 * syncs the chain back from its peers and forges its later slots. */
static void test_restart_on_empty_chaindb(void **state) {
  (void)state;
  sim_config cfg = config(13);
  cfg.slots = 300;
  cfg.txs = 10;
  cfg.restart_node = 1;
  cfg.restart_slot = 151; /* 151 mod 3 = 1 */
  sim_result r;
  char *logs = run_logged(&cfg, &r);
  /* Its sync is logged (docs/node.md "Logs"): the start, 150 blocks
   * behind, and the end; the other cores never fell behind. */
  assert_non_null(strstr(logs, "\"component\":\"sim-1\",\"event\":\"sync.progress\""));
  assert_non_null(strstr(logs, "\"component\":\"sim-1\",\"event\":\"sync.caught_up\""));
  assert_null(strstr(logs, "\"component\":\"sim-0\",\"event\":\"sync."));
  assert_null(strstr(logs, "\"component\":\"sim-2\",\"event\":\"sync."));
  free(logs);
  const cdl_node_stats *st = &r.stats[1];
  printf("node 1 restarted with its record at slot %llu: refused %llu slots, then forged %llu; "
         "tips %llu %llu %llu, common prefix to block %llu\n",
         (unsigned long long)r.restart_record_slot, (unsigned long long)st->double_sign_refused,
         (unsigned long long)st->forged, (unsigned long long)r.tip[0].block_no,
         (unsigned long long)r.tip[1].block_no, (unsigned long long)r.tip[2].block_no,
         (unsigned long long)r.common_block_no);
  assert_true(r.restarted);
  assert_int_equal(r.restart_record_slot, 151);
  assert_int_equal(st->double_sign_refused, 1);
  /* Its later slots, 154 to 298: 49, most forged once it caught up, and
   * nothing at or before 151. */
  assert_true(st->forged >= 49 * 8 / 10 && st->forged <= 49);
  for (size_t i = 0; i < 3; i++) assert_int_equal(r.stats[i].invalid_blocks, 0);
  uint64_t low = UINT64_MAX;
  for (size_t i = 0; i < 3; i++) low = r.tip[i].block_no < low ? r.tip[i].block_no : low;
  assert_true(low - r.common_block_no <= K);
  assert_true(r.tip[1].block_no + 2 >= r.tip[0].block_no);
  assert_int_equal(r.txs_included, 10);
  /* Cores 0 and 2 saw their connections to node 1 close in order; the
   * restarted node dialled them at once, and each took that connection
   * as its own too (before its backoff of one second was over): it never
   * dialled node 1 again, and the three pairs kept one connection each. */
  uint64_t restart_us = START_US + 151 * S + 750000, at[8];
  for (size_t i = 0; i < 3; i += 2) {
    assert_int_equal(dials_of(&r, 1, (uint16_t)i, at, 8), i == 0 ? 1 : 2);
    assert_int_equal(at[i == 0 ? 0 : 1], restart_us);
    size_t again = dials_of(&r, i, 1, at, 8);
    assert_true(again == 0 || at[again - 1] < restart_us);
    assert_int_equal(r.stats[i].conns_duplex, 2);
  }
  assert_int_equal(r.stats[1].conns_duplex, 2);
}

/* A relay whose handshakes are initiator-only (one behind a firewall):
 * it syncs from the cores and relays the payments submitted to it, over
 * connections that carry one direction only. */
static void test_initiator_only_relay(void **state) {
  (void)state;
  sim_config cfg = config(19);
  cfg.slots = 300;
  cfg.txs = 20;
  cfg.initiator_only_relay = true;
  sim_result r;
  sim_run(&cfg, &r);
  const size_t relay = 3;
  printf("initiator-only relay: tip block %llu, %llu adopted; %zu of %zu payments on every chain\n",
         (unsigned long long)r.tip[relay].block_no,
         (unsigned long long)r.stats[relay].blocks_adopted, r.txs_included, r.txs_submitted);
  assert_int_equal(r.stats[relay].conns_out, 3);
  assert_int_equal(r.stats[relay].conns_duplex, 0);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(r.stats[i].conns_duplex, 2); /* the cores among themselves */
    assert_int_equal(r.stats[i].conns_in + r.stats[i].conns_out, 3);
  }
  assert_int_equal(r.links, 3 + 3);
  uint64_t low = UINT64_MAX;
  for (size_t i = 0; i <= relay; i++) low = r.tip[i].block_no < low ? r.tip[i].block_no : low;
  assert_true(low - r.common_block_no <= K);
  assert_true(r.tip[relay].block_no + 2 >= r.tip[0].block_no);
  /* Some payments went to the relay; all are on every chain. */
  assert_int_equal(r.txs_included, 20);
  assert_true(r.stats[relay].mempool.accepted > 0);
}

/* A core whose topology lists an address nobody answers, and a relay
 * whose first peer serves an invalid block: the kernels' peer selection
 * backs off the one and suspends the other, in simulated time, while the
 * honest nodes converge. */
static void test_peer_selection(void **state) {
  (void)state;
  sim_config cfg = config(17);
  cfg.slots = 400;
  cfg.txs = 10;
  cfg.relay_and_evil_peer = true;
  cfg.dead_peer = true;
  sim_result r;
  sim_run(&cfg, &r);
  uint64_t at[64];
  size_t n = dials_of(&r, 0, SIM_DEAD_PORT, at, 64);
  printf("core 0 dialled the dead address %zu times; the relay ended the hostile link at %+.3f s\n",
         n, ((double)r.evil_link_ended_us - (double)START_US) / 1e6);
  /* Backoff: 1 s, then twice as long after each failure, at most 60 s. */
  const uint64_t gap_s[] = {1, 2, 4, 8, 16, 32, 60, 60, 60, 60};
  assert_true(n >= 10);
  for (size_t i = 0; i + 1 < n && i < 10; i++) assert_int_equal(at[i + 1] - at[i], gap_s[i] * S);
  const cdl_peer *dead = &r.peers[0][2]; /* after cores 1 and 2 */
  assert_int_equal(dead->port, SIM_DEAD_PORT);
  assert_int_equal(dead->state, CDL_PEER_IDLE);
  assert_true(dead->reputation < 0);
  /* Suspension: the relay dialled the hostile peer at the start and once
   * more, exactly 200 s after it sent its invalid block; not in between. */
  const size_t relay = 3, evil = 4;
  assert_true(r.evil_link_ended);
  assert_int_equal(r.evil_link_rc, CDL_E_REJECTED);
  n = dials_of(&r, relay, (uint16_t)evil, at, 64);
  assert_int_equal(n, 2);
  assert_int_equal(at[1], r.evil_link_ended_us + 200 * S);
  const cdl_peer *bad = &r.peers[relay][0];
  assert_int_equal(bad->port, evil);
  assert_int_equal(bad->invalid_blocks, 1);
  assert_true(bad->reputation <= -1000);
  assert_int_equal(r.stats[relay].invalid_blocks, 1); /* its chain is not asked for again */
  uint64_t low = UINT64_MAX;
  for (size_t i = 0; i <= relay; i++) low = r.tip[i].block_no < low ? r.tip[i].block_no : low;
  assert_true(low - r.common_block_no <= K);
  assert_int_equal(r.txs_included, 10);
}

/* A sync that lasts longer than the progress interval (docs/node.md
 * "Logs"): core node 1 restarted on an empty ChainDB at slot 1201 of a
 * network whose links carry 30,000 bytes/s catches up over about a minute
 * of simulated time. After the opening sync.progress line it logs one
 * every 10 s with its rate over the interval and the time left at that
 * rate, then sync.caught_up; its own blocks, forged on the short chain it
 * has meanwhile, do not end the sync early. */
static void test_slow_sync_logs_its_rate(void **state) {
  (void)state;
  sim_config cfg = config(17);
  cfg.slots = 1400;
  cfg.txs = 0;
  cfg.bytes_per_s = 30000;
  cfg.restart_node = 1;
  cfg.restart_slot = 1201; /* 1201 mod 3 = 1 */
  sim_result r;
  char *logs = run_logged(&cfg, &r);
  size_t begins = 0, rates = 0, ends = 0;
  for (char *line = strtok(logs, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if (strstr(line, "\"component\":\"sim-1\",\"event\":\"sync.") == NULL) continue;
    printf("%s\n", strstr(line, "\"event\""));
    if (strstr(line, "sync.caught_up") != NULL) {
      ends++;
      assert_non_null(strstr(line, " blocks/s)"));
    } else if (strstr(line, "the sync begins") != NULL) {
      begins++;
    } else if (strstr(line, " blocks/s over 10.0 s; time to catch up: ") != NULL) {
      rates++;
      assert_int_equal(ends, 0); /* one sync, not several cut short */
    }
  }
  free(logs);
  assert_int_equal(begins, 1);
  assert_true(rates >= 3);
  assert_int_equal(ends, 1);
  assert_true(r.tip[1].block_no + 2 >= r.tip[0].block_no); /* it did catch up */
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_converge_and_repeat),
                                     cmocka_unit_test(test_relay_refuses_evil_peer),
                                     cmocka_unit_test(test_restart_on_empty_chaindb),
                                     cmocka_unit_test(test_peer_selection),
                                     cmocka_unit_test(test_initiator_only_relay),
                                     cmocka_unit_test(test_slow_sync_logs_its_rate)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
