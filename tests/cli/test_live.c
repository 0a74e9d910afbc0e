/*
 * test_live.c: the parse and the screen of `cardinal-cli live`
 * (tools/cardinal-cli/live_metrics.c, live_screen.c; docs/cli.md "live"):
 * a Cardinal node's page gives one row per peer (its series joined on the
 * `peer` label), resources with CPU use, descriptors against the limit
 * and disk; a cardano-node's page (none of those series, its CPU in
 * centiseconds) shows what it can; hostile label sets are skipped or
 * cleaned, and the peer rows stay bounded; the header names the version
 * and commit from cardinal_build_info.
 */
#include <stdio.h>
#include <string.h>

#include "../unit/support.h"
#include "live.h"

#define WIDTH 200

static live_snapshot snap;
static char lines[100][LIVE_LINE_MAX];
static size_t n_lines;

static void parse(const char *page) {
  memset(&snap, 0, sizeof snap);
  live_parse(page, strlen(page), &snap);
}

static void render(void) {
  n_lines = live_render(&snap, "127.0.0.1:1", NULL, 0, lines, 100, WIDTH);
}

/* The screen's line that starts with |prefix|, or NULL. */
static const char *line_of(const char *prefix) {
  for (size_t i = 0; i < n_lines; i++)
    if (strncmp(lines[i], prefix, strlen(prefix)) == 0)
      return lines[i];
  return NULL;
}

static void assert_line(const char *prefix, const char *want) {
  const char *l = line_of(prefix);
  assert_non_null(l);
  if (strcmp(l, want) != 0)
    fail_msg("got   '%s'\nwanted '%s'", l, want);
}

static void test_peer_rows(void **state) {
  (void)state;
  parse("# TYPE cardinal_peer_state gauge\n"
        "cardinal_peer_state{peer=\"127.0.0.1:3001\",direction=\"outbound\",state=\"up\"} 1\n"
        "cardinal_peer_state{peer=\"[::1]:3002\",direction=\"none\",state=\"backoff\"} 1\n"
        "cardinal_peer_blocks_received_total{peer=\"127.0.0.1:3001\"} 1234\n"
        "cardinal_peer_blocks_received_total{peer=\"[::1]:3002\"} 0\n"
        "cardinal_peer_rtt_seconds{peer=\"127.0.0.1:3001\"} 0.000412\n"
        "cardinal_peer_rtt_seconds{peer=\"[::1]:3002\"} 2.5\n");
  assert_int_equal(snap.n_peers, 2);
  assert_int_equal(snap.ignored_lines, 0);
  render();
  assert_line("peer ", "peer                           direction  state     round trip   blocks");
  assert_line("127.0.0.1:3001",
              "127.0.0.1:3001                 outbound   up            0.4 ms     1234");
  assert_line("[::1]:3002",
              "[::1]:3002                     none       backoff       2.50 s        0");
}

static void test_resources(void **state) {
  (void)state;
  parse("cardano_node_metrics_Mem_resident_int 15728640\n"
        "process_cpu_seconds_total 12.5\n"
        "process_open_fds 31\n"
        "process_max_fds 1024\n"
        "cardinal_chaindb_immutable_bytes 1048576\n"
        "cardinal_chaindb_volatile_bytes 524288\n");
  render();
  assert_line("resources",
              "resources rss 15.0 MiB  cpu - (12.5 s)  descriptors 31 of 1024  disk 1.5 MiB");
  snap.has_cpu_percent = true;
  snap.cpu_percent = 37.25;
  render();
  assert_line("resources",
              "resources rss 15.0 MiB  cpu 37.2% (12.5 s)  descriptors 31 of 1024  disk 1.5 MiB");
}

/* cardano-node: no per-peer series, CPU in centiseconds, no descriptors
 * or disk: what it has shows, the rest is "-". */
static void test_cardano_node(void **state) {
  (void)state;
  parse("cardano_node_metrics_blockNum_int 10000\n"
        "cardano_node_metrics_connectedPeers_int 5\n"
        "cardano_node_metrics_Stat_cputicks_int 4250\n"
        "cardano_node_metrics_Mem_resident_int 2147483648\n");
  double cpu = 0;
  assert_true(live_cpu_seconds(&snap, &cpu));
  assert_true(cpu > 42.49 && cpu < 42.51);
  render();
  assert_line("resources", "resources rss 2.0 GiB  cpu - (42.5 s)  descriptors -  disk -");
  assert_line("peer ", "peer      - (the node exports no per-peer series)");
  assert_non_null(strstr(line_of("peers "), "connected 5 "));
}

/* Label sets are hostile: quotes, braces and escape bytes inside a value;
 * a set left open, a bad escape, a key without a value are skipped; the
 * value shows its printable ASCII only. */
static void test_hostile_labels(void **state) {
  (void)state;
  parse("cardinal_peer_state{peer=\"a}\\\"b\\\\c\x1b[2J\",direction=\"outbound\",state=\"up\",} 1\n"
        "cardinal_peer_state{peer=\"open,direction=\"inbound\",state=\"up\"} 1\n"
        "cardinal_peer_state{peer=\"bad\\q\",state=\"up\"} 1\n"
        "cardinal_peer_state{peer} 1\n"
        "cardinal_peer_state{peer=\"x\" 1\n"
        "cardinal_peer_blocks_received_total{peer=\"a}\\\"b\\\\c\x1b[2J\"} 5 1700000000000\n");
  assert_int_equal(snap.n_peers, 1);
  assert_int_equal(snap.ignored_lines, 4);
  assert_string_equal(snap.peer[0].name, "a}\"b\\c[2J");
  assert_string_equal(snap.peer[0].direction, "outbound");
  assert_true(snap.peer[0].has_blocks && snap.peer[0].blocks == 5);
  assert_false(snap.peer[0].has_rtt);
  render();
  for (size_t i = 0; i < n_lines; i++)
    for (const char *c = lines[i]; *c; c++)
      assert_true(*c >= 0x20 && *c <= 0x7e);
}

/* More peers than the bound: LIVE_PEERS_MAX rows, the rest counted. */
static void test_peer_bound(void **state) {
  (void)state;
  static char page[64 * 1024];
  size_t len = 0;
  for (int i = 0; i < LIVE_PEERS_MAX + 10; i++)
    len +=
        (size_t)snprintf(page + len, sizeof page - len,
                         "cardinal_peer_state{peer=\"10.0.0.%d:1\",direction=\"outbound\","
                         "state=\"up\"} 1\ncardinal_peer_rtt_seconds{peer=\"10.0.0.%d:1\"} 0.1\n",
                         i, i);
  parse(page);
  assert_int_equal(snap.n_peers, LIVE_PEERS_MAX);
  assert_int_equal(snap.peer_series_dropped, 20);
  render();
  assert_non_null(line_of("10.0.0.63:1"));
  assert_null(line_of("10.0.0.64:1"));
  assert_non_null(strstr(lines[n_lines - 2], "20 more per-peer series not shown (over 64 peers)"));
}

/* The header: the version and commit from cardinal_build_info, the role
 * from the forge metrics, the uptime from the start time. */
static void test_header(void **state) {
  (void)state;
  parse("cardinal_build_info{version=\"0.1.0\",commit=\"abc1234\"} 1\n"
        "cardano_node_metrics_Forge_forged_int 0\n"
        "cardano_node_metrics_nodeStartTime_int 1000\n");
  n_lines = live_render(&snap, "127.0.0.1:1", NULL, 1000 + 86400 + 3723, lines, 100, WIDTH);
  assert_line("cardinal-cli live",
              "cardinal-cli live  127.0.0.1:1  version 0.1.0 (abc1234)  role relay  "
              "uptime 1d 01:02:03");
  parse("other_build_info{version=\"9.9\"} 1\n");
  render();
  assert_non_null(strstr(line_of("cardinal-cli live"), "version 9.9  role -  uptime -"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_peer_rows), cmocka_unit_test(test_resources),
      cmocka_unit_test(test_cardano_node), cmocka_unit_test(test_hostile_labels),
      cmocka_unit_test(test_peer_bound), cmocka_unit_test(test_header)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
