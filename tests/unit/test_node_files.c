/*
 * test_node_files.c: config.json and topology.json as cardano-node writes
 * them (include/cardinal/node_files.h, src/node/node_files.c): every key
 * read, the genesis path relative to the config's folder, both topology
 * forms with their valencies, and each kind of bad field refused with the
 * file and field named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardinal/node_files.h"
#include "support.h"

static char dir[64];

static const char *put(const char *name, const char *text) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static int setup(void **state) {
  test_group_setup(state);
  snprintf(dir, sizeof dir, "/tmp/cdl-nodefiles-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* A config.json of |text| is refused, the message holding |words|. */
static void expect_refused(const char *text, const char *words) {
  cdl_node_file_config c;
  cdl_error e = {0};
  assert_int_equal(cdl_node_config_read(put("config.json", text), &c, &e), CDL_E_JSON);
  if (strstr(e.message, words) == NULL) fail_msg("'%s' lacks '%s'", e.message, words);
}

static void test_config(void **state) {
  (void)state;
  const char *p =
      put("config.json",
          "{\"Protocol\": \"RealPBFT\", \"ByronGenesisFile\": \"genesis.json\","
          " \"ByronGenesisHash\": "
          "\"5f20df933584822601f9e3f8c024eb5eb252fe8cefb24d1317dc3d432e940ebb\","
          " \"RequiresNetworkMagic\": \"RequiresMagic\", \"PBftSignatureThreshold\": 0.5,"
          " \"MempoolCapacityBytesOverride\": 90000, \"MempoolTTLSlots\": 30,"
          " \"MinSeverity\": \"Warning\", \"TraceBlockFetchClient\": false,"
          " \"DiffusionMode\": \"InitiatorOnly\", \"hasPrometheus\": [\"127.0.0.2\", 12798]}");
  cdl_node_file_config c;
  cdl_error err = {0};
  if (cdl_node_config_read(p, &c, &err) != CDL_OK) fail_msg("%s", err.message);
  char want[128];
  snprintf(want, sizeof want, "%s/genesis.json", dir);
  assert_string_equal(c.genesis_file, want);
  assert_true(c.has_genesis_hash);
  assert_int_equal(c.genesis_hash[0], 0x5f);
  assert_int_equal(c.genesis_hash[31], 0xbb);
  assert_int_equal(c.requires_magic, 1);
  assert_true(c.pbft_threshold == 0.5);
  assert_int_equal(c.mempool_capacity, 90000);
  assert_int_equal(c.mempool_ttl, 30);
  assert_int_equal(c.min_severity, CDL_LOG_WARN);
  assert_true(c.initiator_only);
  assert_string_equal(c.prometheus_host, "127.0.0.2");
  assert_int_equal(c.prometheus_port, 12798);
  p = put("config.json",
          "{\"ByronGenesisFile\": \"/abs/g.json\", "
          "\"MempoolCapacityBytesOverride\": \"NoOverride\"}");
  assert_int_equal(cdl_node_config_read(p, &c, &err), CDL_OK);
  assert_string_equal(c.genesis_file, "/abs/g.json");
  assert_false(c.has_genesis_hash);
  assert_int_equal(c.requires_magic, -1);
  assert_int_equal(c.mempool_capacity, 0);
  assert_int_equal(c.min_severity, CDL_LOG_INFO);
  assert_false(c.initiator_only); /* InitiatorAndResponder, the default */
  assert_int_equal(c.prometheus_port, 0); /* no hasPrometheus: no endpoint */
  struct {
    const char *text, *words;
  } bad[] = {{"[1]", "not a JSON object"},
             {"{\"Protocol\": \"Cardano\", \"ByronGenesisFile\": \"g\"}", "Protocol"},
             {"{}", "ByronGenesisFile"},
             {"{\"ByronGenesisFile\": \"g\", \"ByronGenesisHash\": \"12\"}", "ByronGenesisHash"},
             {"{\"ByronGenesisFile\": \"g\", \"RequiresNetworkMagic\": 1}", "RequiresNetworkMagic"},
             {"{\"ByronGenesisFile\": \"g\", \"PBftSignatureThreshold\": 1.5}", "PBftSignature"},
             {"{\"ByronGenesisFile\": \"g\", \"MempoolTTLSlots\": -1}", "MempoolTTLSlots"},
             {"{\"ByronGenesisFile\": \"g\", \"MinSeverity\": \"Loud\"}", "MinSeverity"},
             {"{\"ByronGenesisFile\": \"g\", \"DiffusionMode\": \"Both\"}", "DiffusionMode"},
             {"{\"ByronGenesisFile\": \"g\", \"hasPrometheus\": 12798}", "hasPrometheus"},
             {"{\"ByronGenesisFile\": \"g\", \"hasPrometheus\": [\"localhost\", 1]}", "hasPrometheus"},
             {"{\"ByronGenesisFile\": \"g\", \"hasPrometheus\": [\"127.0.0.1\", 0]}", "1..65535"},
             {"{\"ByronGenesisFile\": \"g\", \"hasPrometheus\": [\"127.0.0.1\", 70000]}", "1..65535"},
             {"{\"ByronGenesisFile\": \"g\", \"hasPrometheus\": [\"127.0.0.1\", 1, 2]}", "hasPrometheus"},
             {"{\"ByronGenesisFile\": \"g\", \"ByronGenesisFile\": \"h\"}", "duplicate"},
             {"{\"ByronGenesisFile\": ", "line"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_refused(bad[i].text, bad[i].words);
}

/* cardano-node's update settings: the versions a core node's headers
 * announce. Major and Minor go together (cardano-node needs both; without
 * them Cardinal announces the adopted version), Alt defaults to 0, the
 * software version to cardano-sl 1. */
static void test_versions(void **state) {
  (void)state;
  cdl_node_file_config c;
  cdl_error err = {0};
  const char *p = put("config.json",
                      "{\"ByronGenesisFile\": \"g\", \"LastKnownBlockVersion-Major\": 1,"
                      " \"LastKnownBlockVersion-Minor\": 2, \"LastKnownBlockVersion-Alt\": 3,"
                      " \"ApplicationName\": \"cardinal-sl12\", \"ApplicationVersion\": 7}");
  assert_int_equal(cdl_node_config_read(p, &c, &err), CDL_E_JSON); /* a 13-character name */
  assert_non_null(strstr(err.message, "ApplicationName"));
  p = put("config.json",
          "{\"ByronGenesisFile\": \"g\", \"LastKnownBlockVersion-Major\": 65535,"
          " \"LastKnownBlockVersion-Minor\": 2, \"LastKnownBlockVersion-Alt\": 255,"
          " \"ApplicationName\": \"cardinal-sl1\", \"ApplicationVersion\": 4294967295}");
  if (cdl_node_config_read(p, &c, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_true(c.versions.has_block_version);
  assert_int_equal(c.versions.block_version.major, 65535);
  assert_int_equal(c.versions.block_version.minor, 2);
  assert_int_equal(c.versions.block_version.alt, 255);
  assert_true(c.versions.has_software_version);
  assert_string_equal(c.versions.app_name, "cardinal-sl1");
  assert_int_equal(c.versions.app_version, UINT32_MAX);
  p = put("config.json", "{\"ByronGenesisFile\": \"g\", \"LastKnownBlockVersion-Major\": 1,"
                         " \"LastKnownBlockVersion-Minor\": 0}");
  if (cdl_node_config_read(p, &c, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_true(c.versions.has_block_version);
  assert_int_equal(c.versions.block_version.alt, 0);
  assert_string_equal(c.versions.app_name, "cardano-sl");
  assert_int_equal(c.versions.app_version, 1);
  p = put("config.json", "{\"ByronGenesisFile\": \"g\"}");
  if (cdl_node_config_read(p, &c, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_false(c.versions.has_block_version); /* the adopted version */
  assert_true(c.versions.has_software_version);
  assert_string_equal(c.versions.app_name, "cardano-sl");
  struct {
    const char *fields, *words;
  } bad[] = {
      {"\"LastKnownBlockVersion-Major\": 65536, \"LastKnownBlockVersion-Minor\": 0",
       "LastKnownBlockVersion-Major is not an integer in 0..65535"},
      {"\"LastKnownBlockVersion-Major\": 1, \"LastKnownBlockVersion-Minor\": -1",
       "LastKnownBlockVersion-Minor is not an integer in 0..65535"},
      {"\"LastKnownBlockVersion-Major\": 1, \"LastKnownBlockVersion-Minor\": 1.5",
       "LastKnownBlockVersion-Minor is not an integer"},
      {"\"LastKnownBlockVersion-Major\": 1, \"LastKnownBlockVersion-Minor\": 0,"
       " \"LastKnownBlockVersion-Alt\": 256",
       "LastKnownBlockVersion-Alt is not an integer in 0..255"},
      {"\"LastKnownBlockVersion-Major\": 1", "LastKnownBlockVersion-Minor is missing"},
      {"\"LastKnownBlockVersion-Minor\": 1", "LastKnownBlockVersion-Major is missing"},
      {"\"LastKnownBlockVersion-Alt\": 1", "LastKnownBlockVersion-Alt is given without"},
      {"\"LastKnownBlockVersion-Major\": \"1\", \"LastKnownBlockVersion-Minor\": 0",
       "LastKnownBlockVersion-Major is not an integer"},
      {"\"ApplicationVersion\": 4294967296",
       "ApplicationVersion is not an integer in 0..4294967295"},
      {"\"ApplicationName\": 5", "ApplicationName is not ASCII"},
      {"\"ApplicationName\": \"caf\u00e9\"", "ApplicationName is not ASCII"},
      {"\"ApplicationName\": \"a\\u0000b\"", "\\u0000 is not allowed"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[512];
    snprintf(text, sizeof text, "{\"ByronGenesisFile\": \"g\", %s}", bad[i].fields);
    expect_refused(text, bad[i].words);
  }
}

static void test_topology(void **state) {
  (void)state;
  cdl_peers ps;
  cdl_error err = {0};
  const char *p = put("topology.json",
                      "{\"Producers\": [{\"addr\": \"127.0.0.1\", \"port\": 3001, \"valency\": 1},"
                      " {\"addr\": \"relay.example\", \"port\": 3002, \"valency\": 2}]}");
  if (cdl_node_topology_read(p, &ps, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_int_equal(ps.n, 2);
  assert_int_equal(ps.n_groups, 2);
  assert_string_equal(ps.peer[1].host, "relay.example");
  assert_int_equal(ps.peer[1].port, 3002);
  assert_int_equal(ps.valency[1], 1); /* one address: one connection */
  p = put("topology.json",
          "{\"localRoots\": [{\"accessPoints\": [{\"address\": \"10.0.0.1\", \"port\": 1},"
          " {\"address\": \"10.0.0.2\", \"port\": 2}], \"advertise\": false, \"valency\": 1}],"
          " \"publicRoots\": [{\"accessPoints\": [{\"address\": \"10.0.0.3\", \"port\": 3}],"
          " \"advertise\": false}], \"useLedgerAfterSlot\": -1}");
  if (cdl_node_topology_read(p, &ps, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_int_equal(ps.n, 3);
  assert_int_equal(ps.n_groups, 2);
  assert_int_equal(ps.valency[0], 1);
  assert_int_equal(ps.valency[1], 1);
  assert_int_equal(ps.peer[2].group, 1);
  p = put("topology.json", "{\"localRoots\": [{\"accessPoints\": [], \"hotValency\": 3}]}");
  assert_int_equal(cdl_node_topology_read(p, &ps, &err), CDL_OK);
  assert_int_equal(ps.valency[0], 3);
  struct {
    const char *text, *words;
  } bad[] = {{"{\"Producers\": {}}", "Producers"},
             {"{\"Producers\": [{\"addr\": \"a\", \"port\": 0}]}", "port"},
             {"{\"Producers\": [{\"addr\": \"a\", \"port\": 70000}]}", "port"},
             {"{\"Producers\": [{\"port\": 1}]}", "address"},
             {"{\"Producers\": [{\"addr\": \"a\", \"port\": 1, \"valency\": -1}]}", "valency"},
             {"{\"localRoots\": [{}]}", "accessPoints"},
             {"{\"publicRoots\": 5}", "publicRoots"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    p = put("topology.json", bad[i].text);
    cdl_error e = {0};
    assert_int_equal(cdl_node_topology_read(p, &ps, &e), CDL_E_JSON);
    if (strstr(e.message, bad[i].words) == NULL)
      fail_msg("'%s' lacks '%s'", e.message, bad[i].words);
  }
  /* More peers than the set holds. */
  char big[8192] = "{\"Producers\": [";
  for (int i = 0; i < CDL_PEERS_MAX + 1; i++)
    snprintf(big + strlen(big), sizeof big - strlen(big), "%s{\"addr\": \"h\", \"port\": %d}",
             i ? "," : "", i + 1);
  strcat(big, "]}");
  p = put("topology.json", big);
  cdl_error e = {0};
  assert_int_equal(cdl_node_topology_read(p, &ps, &e), CDL_E_JSON);
  assert_non_null(strstr(e.message, "too many"));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_config),
                                     cmocka_unit_test(test_versions),
                                     cmocka_unit_test(test_topology)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
