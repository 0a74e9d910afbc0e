/*
 * test_sim_scenario.c: the simulator's scenario files and report
 * (include/cardinal/sim.h, src/sim/sim_scenario.c, sim_report.c,
 * sim_defaults.c; docs/simulation.md "Scenarios", "The report"): the
 * defaults; a full scenario read into exactly the fields it names (nodes
 * by name and by index, default names counted within their role,
 * partition groups numbered in order, every fault's fields mapped); the
 * node-count shorthand; each kind of bad input refused with CDL_E_JSON
 * (unknown field, wrong type, out of range, too many, a long or duplicate
 * name, an unknown node, a bad enum string, broken or truncated JSON at
 * every length) or, when inconsistent, CDL_E_USAGE from the check (a node
 * that peers itself, fault slots out of order, keys), each with a message
 * naming the field; a scenario written as JSON (cdl_sim_scenario_json)
 * read back into the same scenario, field by field, for every scenario
 * file in scenarios/ and the sweep's scenarios of seeds 1..300, in the
 * documented order and indentation, and what a file cannot say (an empty
 * group, a node without a name) written as what means the same; and a
 * filled report as exactly the JSON text docs/simulation.md describes,
 * the same bytes on every call.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/support.h"
#include "cardinal/sim.h"

static cdl_sim_scenario s;

/* Scenario text written with ' for " (none of these texts needs a '). */
static int parse(const char *text, cdl_error *err) {
  size_t len = strlen(text);
  char *json = malloc(len + 1);
  assert_non_null(json);
  for (size_t i = 0; i <= len; i++) json[i] = text[i] == '\'' ? '"' : text[i];
  int rc = cdl_sim_scenario_parse(json, len, &s, err);
  free(json);
  return rc;
}

static void accepted(const char *text) {
  cdl_error err = {0};
  if (parse(text, &err) != CDL_OK) fail_msg("%s: %s", text, err.message);
}

/* Refused with |code| and exactly |message|. */
static void refused(const char *text, int code, const char *message) {
  cdl_error err = {0};
  int rc = parse(text, &err);
  if (rc != code || strcmp(err.message, message) != 0)
    fail_msg("%s\n  got %d \"%s\"\n  want %d \"%s\"", text, rc, err.message, code, message);
}

typedef struct refusal {
  const char *text;
  int code;
  const char *message;
} refusal;
#define REFUSE_ALL(table)                                            \
  for (size_t i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++) \
  refused((table)[i_].text, (table)[i_].code, (table)[i_].message)

static void test_defaults(void **state) {
  (void)state;
  cdl_sim_scenario_default(&s);
  assert_string_equal(s.name, "default");
  assert_int_equal(s.n_nodes, 3);
  for (size_t i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "core-%zu", i);
    assert_string_equal(s.node[i].name, name);
    assert_int_equal(s.node[i].role, CDL_SIM_CORE);
    assert_int_equal(s.node[i].key, -1);
    assert_int_equal(s.node[i].adversary, CDL_SIM_HONEST);
    assert_int_equal(s.node[i].n_peers, 0);
  }
  assert_int_equal(s.topology, CDL_SIM_MESH);
  assert_int_equal(s.genesis_keys, 0);
  assert_int_equal(s.k, 10);
  assert_true(s.threshold == 0);
  assert_int_equal(s.slot_ms, 1000);
  assert_int_equal(s.slots, 300);
  assert_int_equal(s.latency_us, 20000);
  assert_int_equal(s.jitter_us, 200000);
  assert_int_equal(s.txs, 20);
  assert_int_equal(s.seed, 1);
  assert_int_equal(s.degree, 2);
  assert_int_equal(s.n_faults, 0);
  assert_int_equal(s.broken, CDL_SIM_BROKEN_NONE);
  assert_int_equal(s.settle_slots + s.growth_window + s.growth_min, 0);
  cdl_error err = {0};
  assert_int_equal(cdl_sim_scenario_check(&s, &err), CDL_OK);
  /* Nothing given at all: the defaults. */
  accepted("{}");
  assert_string_equal(s.name, "default");
  assert_int_equal(s.n_nodes, 3);

  cdl_sim_scenario_nodes(&s, 2, 3);
  assert_int_equal(s.n_nodes, 5);
  static const char *const NAMES[] = {"core-0", "core-1", "relay-0", "relay-1", "relay-2"};
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(s.node[i].name, NAMES[i]);
    assert_int_equal(s.node[i].role, i < 2 ? CDL_SIM_CORE : CDL_SIM_RELAY);
    assert_int_equal(s.node[i].key, -1);
  }
}

static const char FULL[] =
    "{'name': 'partition', 'seed': 7, 'k': 5, 'slot_ms': 500, 'slots': 400,"
    " 'threshold': 0.5, 'genesis_keys': 3, 'topology': {'kind': 'random', 'degree': 2},"
    " 'latency_us': 1000, 'jitter_us': 2000, 'txs': 9,"
    " 'nodes': ["
    "   {'name': 'a', 'key': 0},"
    "   {'role': 'core', 'key': 0, 'adversary': 'equivocator', 'peers': ['a', 3]},"
    "   {'name': 'bad', 'key': 2, 'adversary': 'invalid_forger', 'invalid_rate': 0.25,"
    "    'join_slot': 50, 'clock_skew_ms': -300},"
    "   {'role': 'relay', 'peers': ['bad', 0]},"
    "   {'role': 'relay', 'name': 'r1'},"
    "   {'role': 'relay', 'adversary': 'honest'}],"
    " 'faults': ["
    "   {'kind': 'partition', 'from_slot': 50, 'to_slot': 100, 'groups': [['a', 'core-1'], [2]]},"
    "   {'kind': 'crash', 'node': 'core-1', 'at_slot': 60, 'at_ms': 250, 'down_until_slot': 70,"
    "    'damage': 'bitflip', 'lose_record': true},"
    "   {'kind': 'disconnect', 'node': 0, 'at_slot': 80},"
    "   {'kind': 'link_down', 'from': 'a', 'to': 'relay-0', 'from_slot': 10, 'to_slot': 20},"
    "   {'kind': 'disk_full', 'node': 'bad', 'bytes': 4096, 'from_slot': 30},"
    "   {'kind': 'descriptors', 'node': 'r1', 'count': 3, 'from_slot': 30, 'to_slot': 60},"
    "   {'kind': 'drop', 'rate': 0.05, 'from_slot': 10, 'to_slot': 200},"
    "   {'kind': 'crash', 'node': 1, 'at_slot': 90}],"
    " 'check': {'settle_slots': 40, 'growth_window': 6, 'growth_min': 2},"
    " 'broken': 'sign_record'}";

static void test_full_scenario(void **state) {
  (void)state;
  accepted(FULL);
  assert_string_equal(s.name, "partition");
  assert_int_equal(s.seed, 7);
  assert_int_equal(s.k, 5);
  assert_int_equal(s.slot_ms, 500);
  assert_int_equal(s.slots, 400);
  assert_true(s.threshold == 0.5);
  assert_int_equal(s.genesis_keys, 3);
  assert_int_equal(s.topology, CDL_SIM_RANDOM);
  assert_int_equal(s.degree, 2);
  assert_int_equal(s.latency_us, 1000);
  assert_int_equal(s.jitter_us, 2000);
  assert_int_equal(s.txs, 9);
  assert_int_equal(s.settle_slots, 40);
  assert_int_equal(s.growth_window, 6);
  assert_int_equal(s.growth_min, 2);
  assert_int_equal(s.broken, CDL_SIM_BROKEN_SIGN_RECORD);

  /* Unnamed nodes are counted within their role: the relay named r1 is
   * relay 1, so the next is relay-2. */
  assert_int_equal(s.n_nodes, 6);
  static const char *const NAMES[] = {"a", "core-1", "bad", "relay-0", "r1", "relay-2"};
  static const int KEYS[] = {0, 0, 2, -1, -1, -1};
  for (size_t i = 0; i < 6; i++) {
    assert_string_equal(s.node[i].name, NAMES[i]);
    assert_int_equal(s.node[i].role, i < 3 ? CDL_SIM_CORE : CDL_SIM_RELAY);
    assert_int_equal(s.node[i].key, KEYS[i]);
  }
  assert_int_equal(s.node[0].adversary, CDL_SIM_HONEST);
  assert_int_equal(s.node[1].adversary, CDL_SIM_EQUIVOCATOR);
  assert_int_equal(s.node[2].adversary, CDL_SIM_INVALID_FORGER);
  assert_true(s.node[2].invalid_rate == 0.25);
  assert_int_equal(s.node[2].join_slot, 50);
  assert_int_equal(s.node[2].clock_skew_ms, -300);
  assert_int_equal(s.node[0].join_slot + s.node[0].clock_skew_ms, 0);
  assert_int_equal(s.node[1].n_peers, 2); /* "a" by name, 3 by index */
  assert_int_equal(s.node[1].peers[0], 0);
  assert_int_equal(s.node[1].peers[1], 3);
  assert_int_equal(s.node[3].n_peers, 2);
  assert_int_equal(s.node[3].peers[0], 2);
  assert_int_equal(s.node[3].peers[1], 0);
  assert_int_equal(s.node[0].n_peers + s.node[4].n_peers + s.node[5].n_peers, 0);

  assert_int_equal(s.n_faults, 8);
  const cdl_sim_fault *f = s.fault;
  assert_int_equal(f[0].kind, CDL_SIM_PARTITION);
  assert_int_equal(f[0].a, 50);
  assert_int_equal(f[0].b, 100);
  static const uint8_t GROUPS[] = {1, 1, 2, 0, 0, 0};
  assert_memory_equal(f[0].group, GROUPS, sizeof GROUPS);
  assert_int_equal(f[1].kind, CDL_SIM_CRASH);
  assert_int_equal(f[1].node, 1);
  assert_int_equal(f[1].a, 60);
  assert_int_equal(f[1].at_ms, 250);
  assert_int_equal(f[1].b, 70);
  assert_int_equal(f[1].damage, CDL_SIM_DAMAGE_BITFLIP);
  assert_true(f[1].lose_record);
  assert_int_equal(f[2].kind, CDL_SIM_DISCONNECT);
  assert_int_equal(f[2].node, 0);
  assert_int_equal(f[2].a, 80);
  assert_int_equal(f[3].kind, CDL_SIM_LINK_DOWN);
  assert_int_equal(f[3].node, 0);
  assert_int_equal(f[3].other, 3);
  assert_int_equal(f[3].a, 10);
  assert_int_equal(f[3].b, 20);
  assert_int_equal(f[4].kind, CDL_SIM_DISK_FULL);
  assert_int_equal(f[4].node, 2);
  assert_int_equal(f[4].bytes, 4096);
  assert_int_equal(f[4].a, 30);
  assert_int_equal(f[4].b, 400); /* no to_slot: to the end of the run */
  assert_int_equal(f[5].kind, CDL_SIM_DESCRIPTORS);
  assert_int_equal(f[5].node, 4);
  assert_int_equal(f[5].count, 3);
  assert_int_equal(f[5].b, 60);
  assert_int_equal(f[6].kind, CDL_SIM_DROP);
  assert_true(f[6].rate == 0.05);
  assert_int_equal(f[6].a, 10);
  assert_int_equal(f[6].b, 200);
  assert_int_equal(f[7].kind, CDL_SIM_CRASH); /* restarted at once */
  assert_int_equal(f[7].node, 1);
  assert_int_equal(f[7].a, 90);
  assert_int_equal(f[7].b, 0);
  assert_int_equal(f[7].damage, CDL_SIM_DAMAGE_NONE);
  assert_false(f[7].lose_record);

  /* Every topology by name; "random" keeps the default degree. */
  static const char *const TOPOLOGIES[] = {"mesh", "ring", "line", "star", "random", "relays"};
  for (int t = 0; t < 6; t++) {
    char text[64];
    snprintf(text, sizeof text, "{'topology': '%s'}", TOPOLOGIES[t]);
    accepted(text);
    assert_int_equal(s.topology, t);
    assert_int_equal(s.degree, 2);
  }
}

static void test_shorthand_nodes(void **state) {
  (void)state;
  accepted("{'nodes': {'cores': 2, 'relays': 2}, 'topology': 'relays'}");
  assert_int_equal(s.n_nodes, 4);
  assert_int_equal(s.topology, CDL_SIM_RELAYS);
  static const char *const NAMES[] = {"core-0", "core-1", "relay-0", "relay-1"};
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(s.node[i].name, NAMES[i]);
    assert_int_equal(s.node[i].role, i < 2 ? CDL_SIM_CORE : CDL_SIM_RELAY);
    assert_int_equal(s.node[i].key, -1);
  }
  /* A count not given stays: the default 3 cores, and a relay. */
  accepted("{'nodes': {'relays': 1}, 'faults': [{'kind': 'crash', 'node': 'relay-0'}]}");
  assert_int_equal(s.n_nodes, 4);
  assert_string_equal(s.node[3].name, "relay-0");
  assert_int_equal(s.fault[0].node, 3);
  accepted("{'nodes': {'cores': 128}}");
  assert_int_equal(s.n_nodes, 128);
  assert_string_equal(s.node[127].name, "core-127");
}

static void test_unknown_fields(void **state) {
  (void)state;
  refused(
      "{'faults': [{'kind': 'drop'}, {'kind': 'drop'},"
      " {'kind': 'crash', 'node': 0, 'at_slot': 5, 'down_util_slot': 9}]}",
      CDL_E_JSON, "faults[2].down_util_slot: unknown field");
  static const refusal UNKNOWN_FIELDS[] = {
      {"{'k': 3, 'slotz': 3, 'zz': 1}", CDL_E_JSON, "slotz: unknown field"},
      {"{'nodes': [{'name': 'x'}, {'nmae': 'y'}]}", CDL_E_JSON, "nodes[1].nmae: unknown field"},
      {"{'check': {'settle': 1}}", CDL_E_JSON, "check.settle: unknown field"},
      {"{'topology': {'kind': 'ring', 'deg': 2}}", CDL_E_JSON, "topology.deg: unknown field"},
      {"{'nodes': {'cores': 1, 'core': 2}}", CDL_E_JSON, "nodes.core: unknown field"},
      /* Another kind's field is no field of this one. */
      {"{'faults': [{'kind': 'drop', 'node': 0}]}", CDL_E_JSON, "faults[0].node: unknown field"},
      {"{'faults': [{'kind': 'disconnect', 'node': 0, 'to_slot': 9}]}", CDL_E_JSON,
       "faults[0].to_slot: unknown field"},
      /* A hostile key is shown printable and cut. */
      {"{'a\\u0001b': 1}", CDL_E_JSON, "a?b: unknown field"},
  };
  REFUSE_ALL(UNKNOWN_FIELDS);
}

static void test_wrong_types(void **state) {
  (void)state;
  static const refusal WRONG_TYPES[] = {
      {"{'k': '10'}", CDL_E_JSON, "k: not an integer"},
      {"{'k': 10.0}", CDL_E_JSON, "k: not an integer"},
      {"{'name': 5}", CDL_E_JSON, "name: not a string"},
      {"{'threshold': 'half'}", CDL_E_JSON, "threshold: not a number"},
      {"{'nodes': 'x'}", CDL_E_JSON,
       "nodes: not a list of nodes nor {\"cores\": N, \"relays\": M}"},
      {"{'nodes': [3]}", CDL_E_JSON, "nodes[0]: not an object"},
      {"{'nodes': [{'peers': 'a'}]}", CDL_E_JSON, "nodes[0].peers: not a list of at most 16 nodes"},
      {"{'nodes': [{'peers': [true]}]}", CDL_E_JSON, "nodes[0].peers[0]: not a node name or index"},
      {"{'faults': {}}", CDL_E_JSON, "faults: not a list"},
      {"{'faults': [3]}", CDL_E_JSON, "faults[0]: not an object"},
      {"{'faults': [{'kind': 'crash', 'node': 0, 'lose_record': 1}]}", CDL_E_JSON,
       "faults[0].lose_record: not true or false"},
      {"{'faults': [{'kind': 7}]}", CDL_E_JSON,
       "faults[0].kind: not one of partition, crash, disconnect, link_down, disk_full, "
       "descriptors, drop"},
      {"{'faults': [{'kind': 'partition', 'groups': [['core-0'], 'core-1']}]}", CDL_E_JSON,
       "faults[0].groups[1]: not a list of 1..3 nodes"},
      {"{'check': []}", CDL_E_JSON, "check: not an object"},
      {"{'topology': 3}", CDL_E_JSON,
       "topology: not one of mesh, ring, line, star, random, relays"},
      {"[]", CDL_E_JSON, "the scenario: not an object"},
  };
  REFUSE_ALL(WRONG_TYPES);
}

static void test_out_of_range(void **state) {
  (void)state;
  static const refusal OUT_OF_RANGE[] = {
      {"{'slots': 0}", CDL_E_JSON, "slots: 0 is out of range 1..10000000"},
      {"{'slots': 10000001}", CDL_E_JSON, "slots: 10000001 is out of range 1..10000000"},
      {"{'k': 10001}", CDL_E_JSON, "k: 10001 is out of range 1..10000"},
      {"{'slot_ms': 0}", CDL_E_JSON, "slot_ms: 0 is out of range 1..600000"},
      {"{'latency_us': 60000001}", CDL_E_JSON, "latency_us: 60000001 is out of range 0..60000000"},
      {"{'seed': -1}", CDL_E_JSON, "seed: -1 is out of range 0..9223372036854775807"},
      {"{'genesis_keys': 129}", CDL_E_JSON, "genesis_keys: 129 is out of range 0..128"},
      {"{'threshold': 0}", CDL_E_JSON, "threshold: 0 is out of range (0, 1]"},
      {"{'threshold': 1.5}", CDL_E_JSON, "threshold: 1.5 is out of range (0, 1]"},
      {"{'topology': {'kind': 'random', 'degree': 0}}", CDL_E_JSON,
       "topology.degree: 0 is out of range 1..127"},
      {"{'faults': [{'kind': 'drop', 'rate': 1.5}]}", CDL_E_JSON,
       "faults[0].rate: 1.5 is out of range [0, 1]"},
      {"{'faults': [{'kind': 'drop', 'rate': -0.1}]}", CDL_E_JSON,
       "faults[0].rate: -0.1 is out of range [0, 1]"},
      {"{'nodes': [{'key': -2}]}", CDL_E_JSON, "nodes[0].key: -2 is out of range -1..127"},
      {"{'nodes': [{'clock_skew_ms': -6000000001}]}", CDL_E_JSON,
       "nodes[0].clock_skew_ms: -6000000001 is out of range -6000000000..6000000000"},
      {"{'nodes': {'cores': 0, 'relays': 0}}", CDL_E_JSON, "nodes: 0 nodes in all, not 1..128"},
      {"{'nodes': {'cores': 100, 'relays': 100}}", CDL_E_JSON,
       "nodes: 200 nodes in all, not 1..128"},
      {"{'nodes': {'cores': 129}}", CDL_E_JSON, "nodes.cores: 129 is out of range 0..128"},
      {"{'check': {'growth_min': 10000001}}", CDL_E_JSON,
       "check.growth_min: 10000001 is out of range 0..10000000"},
  };
  REFUSE_ALL(OUT_OF_RANGE);
  /* Numbers past what JSON reading holds: refused by the reader. */
  cdl_error err = {0};
  assert_int_equal(parse("{'slots': 99999999999999999999}", &err), CDL_E_JSON);
  assert_non_null(strstr(err.message, "too big integer"));
  cdl_error_clear(&err);
  assert_int_equal(parse("{'threshold': 1e400}", &err), CDL_E_JSON);
  assert_non_null(strstr(err.message, "real number overflow"));
}

static void test_too_many(void **state) {
  (void)state;
  char text[8192];
  size_t used = (size_t)snprintf(text, sizeof text, "{'faults': [");
  for (int i = 0; i < CDL_SIM_MAX_FAULTS + 1; i++)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s{'kind': 'drop'}", i ? ", " : "");
  snprintf(text + used, sizeof text - used, "]}");
  refused(text, CDL_E_JSON, "faults: 65 faults, at most 64");
  text[used - strlen(", {'kind': 'drop'}")] = '\0';
  strcat(text, "]}");
  accepted(text);
  assert_int_equal(s.n_faults, CDL_SIM_MAX_FAULTS);

  used = (size_t)snprintf(text, sizeof text, "{'nodes': [");
  for (int i = 0; i < CDL_SIM_MAX_NODES + 1; i++)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s{}", i ? ", " : "");
  snprintf(text + used, sizeof text - used, "]}");
  refused(text, CDL_E_JSON, "nodes: 129 nodes, not 1..128");
  static const refusal TOO_MANY[] = {
      {"{'nodes': []}", CDL_E_JSON, "nodes: 0 nodes, not 1..128"},
      {"{'nodes': [{'peers': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]}]}",
       CDL_E_JSON, "nodes[0].peers: not a list of at most 16 nodes"},
      {"{'nodes': {'cores': 9}, 'faults': [{'kind': 'partition', 'groups': "
       "[[0], [1], [2], [3], [4], [5], [6], [7]]}]}",
       CDL_E_JSON, "faults[0].groups: not a list of 1..7 groups"},
      {"{'faults': [{'kind': 'partition', 'groups': []}]}", CDL_E_JSON,
       "faults[0].groups: not a list of 1..7 groups"},
      {"{'faults': [{'kind': 'partition', 'groups': [[]]}]}", CDL_E_JSON,
       "faults[0].groups[0]: not a list of 1..3 nodes"},
  };
  REFUSE_ALL(TOO_MANY);
}

static void test_names(void **state) {
  (void)state;
  char text[256], name[80];
  memset(name, 'x', 64);
  name[64] = '\0';
  snprintf(text, sizeof text, "{'nodes': [{'name': '%s'}]}", name);
  refused(text, CDL_E_JSON, "nodes[0].name: 64 bytes long, not 1..63");
  snprintf(text, sizeof text, "{'name': '%s'}", name);
  refused(text, CDL_E_JSON, "name: 64 bytes long, not 1..63");
  name[63] = '\0';
  snprintf(text, sizeof text, "{'name': '%s', 'nodes': [{'name': '%s'}]}", name, name);
  accepted(text);
  assert_string_equal(s.name, name);
  assert_string_equal(s.node[0].name, name);
  static const refusal NAMES[] = {
      {"{'name': ''}", CDL_E_JSON, "name: 0 bytes long, not 1..63"},
      {"{'nodes': [{'name': 'a\\tb'}]}", CDL_E_JSON, "nodes[0].name: holds a control character"},
      /* Duplicates, given or by default. */
      {"{'nodes': [{'name': 'a'}, {'name': 'a'}]}", CDL_E_JSON,
       "nodes[1].name: \"a\" is also the name of nodes[0]"},
      {"{'nodes': [{'name': 'core-1'}, {}]}", CDL_E_JSON,
       "nodes[1].name: \"core-1\" is also the name of nodes[0]"},
  };
  REFUSE_ALL(NAMES);
}

static void test_node_references(void **state) {
  (void)state;
  static const refusal NODE_REFERENCES[] = {
      {"{'nodes': [{'peers': ['zz']}, {}]}", CDL_E_JSON, "nodes[0].peers[0]: no node named \"zz\""},
      {"{'nodes': [{'peers': [2]}, {}]}", CDL_E_JSON, "nodes[0].peers[0]: no node 2 (there are 2)"},
      {"{'faults': [{'kind': 'crash', 'node': 5}]}", CDL_E_JSON,
       "faults[0].node: no node 5 (there are 3)"},
      {"{'faults': [{'kind': 'crash', 'node': -1}]}", CDL_E_JSON,
       "faults[0].node: no node -1 (there are 3)"},
      {"{'faults': [{'kind': 'disk_full', 'node': 'core-3'}]}", CDL_E_JSON,
       "faults[0].node: no node named \"core-3\""},
      {"{'faults': [{'kind': 'link_down', 'from': 0, 'to': 'x\\ny'}]}", CDL_E_JSON,
       "faults[0].to: no node named \"x?y\""},
      {"{'faults': [{'kind': 'link_down', 'from': 0}]}", CDL_E_JSON, "faults[0].to: missing"},
      {"{'faults': [{'kind': 'crash'}]}", CDL_E_JSON, "faults[0].node: missing"},
      {"{'faults': [{'node': 0}]}", CDL_E_JSON, "faults[0].kind: missing"},
      {"{'faults': [{'kind': 'partition'}]}", CDL_E_JSON, "faults[0].groups: missing"},
      {"{'topology': {'degree': 2}}", CDL_E_JSON, "topology.kind: missing"},
      {"{'faults': [{'kind': 'partition', 'groups': [['core-0'], [1, 0]]}]}", CDL_E_JSON,
       "faults[0].groups[1][1]: core-0 is in group 1 already"},
      {"{'faults': [{'kind': 'partition', 'groups': [['core-0', 'nobody']]}]}", CDL_E_JSON,
       "faults[0].groups[0][1]: no node named \"nobody\""},
      /* A node is its own peer, or a link its own other end: the check. */
      {"{'nodes': [{'peers': [0]}, {}]}", CDL_E_USAGE, "nodes[0] (core-0) peers itself"},
      {"{'nodes': [{'name': 'a', 'peers': ['b', 'a']}, {'name': 'b'}]}", CDL_E_USAGE,
       "nodes[0] (a) peers itself"},
      {"{'nodes': [{'peers': [1, 'core-1']}, {}]}", CDL_E_USAGE,
       "nodes[0] (core-0) lists peer core-1 twice"},
      {"{'faults': [{'kind': 'link_down', 'from': 1, 'to': 'core-1'}]}", CDL_E_USAGE,
       "faults[0] (link_down): the link's other end 1 is no other node"},
  };
  REFUSE_ALL(NODE_REFERENCES);
}

static void test_fault_slots(void **state) {
  (void)state;
  static const refusal FAULT_SLOTS[] = {
      {"{'faults': [{'kind': 'drop', 'from_slot': 20, 'to_slot': 10}]}", CDL_E_USAGE,
       "faults[0] (drop) ends in slot 10, not after its start 20"},
      {"{'faults': [{'kind': 'partition', 'from_slot': 20, 'to_slot': 20, 'groups': [[0]]}]}",
       CDL_E_USAGE, "faults[0] (partition) ends in slot 20, not after its start 20"},
      {"{'faults': [{'kind': 'crash', 'node': 0, 'at_slot': 20, 'down_until_slot': 20}]}",
       CDL_E_USAGE, "faults[0] (crash) ends in slot 20, not after its start 20"},
      {"{'slots': 100, 'faults': [{'kind': 'disconnect', 'node': 0, 'at_slot': 100}]}", CDL_E_USAGE,
       "faults[0] (disconnect) starts in slot 100, after the run's 100 slots"},
      {"{'slots': 100, 'faults': [{'kind': 'drop', 'from_slot': 100}]}", CDL_E_USAGE,
       "faults[0] (drop) starts in slot 100, after the run's 100 slots"},
      {"{'faults': [{'kind': 'crash', 'node': 0, 'at_ms': 1000}]}", CDL_E_USAGE,
       "faults[0] (crash): at_ms 1000 not within the 1000 ms slot, or unknown damage"},
  };
  REFUSE_ALL(FAULT_SLOTS);
  /* A crash with no down_until_slot restarts at once. */
  accepted("{'faults': [{'kind': 'crash', 'node': 0, 'at_slot': 20, 'at_ms': 999}]}");
  assert_int_equal(s.fault[0].b, 0);
}

static void test_bad_enums(void **state) {
  (void)state;
  static const refusal BAD_ENUMS[] = {
      {"{'topology': 'tree'}", CDL_E_JSON,
       "topology: not one of mesh, ring, line, star, random, relays"},
      {"{'topology': {'kind': 'tree'}}", CDL_E_JSON,
       "topology.kind: not one of mesh, ring, line, star, random, relays"},
      {"{'nodes': [{'role': 'boss'}]}", CDL_E_JSON, "nodes[0].role: not one of core, relay"},
      {"{'nodes': [{'adversary': 'evil'}]}", CDL_E_JSON,
       "nodes[0].adversary: not one of honest, equivocator, over_threshold, invalid_forger, "
       "mismatch"},
      {"{'faults': [{'kind': 'flood'}]}", CDL_E_JSON,
       "faults[0].kind: not one of partition, crash, disconnect, link_down, disk_full, "
       "descriptors, drop"},
      {"{'faults': [{'kind': 'crash', 'node': 0, 'damage': 'fire'}]}", CDL_E_JSON,
       "faults[0].damage: not one of none, power, bitflip, truncate, wipe"},
      {"{'broken': 'all'}", CDL_E_JSON, "broken: not one of none, pbft_threshold, sign_record"},
  };
  REFUSE_ALL(BAD_ENUMS);
}

static void test_bad_json(void **state) {
  (void)state;
  static const char *const BAD[] = {"",          "{",
                                    "{'k': 1,}", "{'k': 1}{",
                                    "{'k' 1}",   "{'k': 1, 'k': 2}",
                                    "nul",       "{'name': 'a\\u0000b'}"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    cdl_error err = {0};
    if (parse(BAD[i], &err) != CDL_E_JSON || err.message[0] == '\0')
      fail_msg("accepted %s (%s)", BAD[i], err.message);
  }
  cdl_error err = {0};
  assert_int_equal(parse("{'k': 1, 'k': 2}", &err), CDL_E_JSON);
  assert_non_null(strstr(err.message, "duplicate object key"));
  /* A NUL byte inside the text, invalid UTF-8, deep nesting. */
  static const char NUL[] = "{\"k\": 1\0}";
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_parse(NUL, sizeof NUL - 1, &s, &err), CDL_E_JSON);
  assert_string_equal(err.message, "byte 7: a NUL byte");
  static const char LATIN1[] = "{\"name\": \"\xe9t\xe9\"}";
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_parse(LATIN1, sizeof LATIN1 - 1, &s, &err), CDL_E_JSON);
  size_t depth = 100000;
  char *deep = malloc(2 * depth);
  assert_non_null(deep);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_parse(deep, 2 * depth, &s, &err), CDL_E_JSON);
  free(deep);
  assert_int_equal(cdl_sim_scenario_parse(NULL, 0, &s, &err), CDL_E_JSON);

  /* The full scenario cut at every length: refused, never read past. */
  size_t len = strlen(FULL);
  char *json = malloc(len);
  assert_non_null(json);
  for (size_t i = 0; i < len; i++) json[i] = FULL[i] == '\'' ? '"' : FULL[i];
  for (size_t cut = 0; cut < len; cut++) {
    char *piece = malloc(cut + 1); /* exactly |cut| bytes visible to a checker */
    assert_non_null(piece);
    memcpy(piece, json, cut);
    cdl_error_clear(&err);
    assert_int_equal(cdl_sim_scenario_parse(piece, cut, &s, &err), CDL_E_JSON);
    free(piece);
  }
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_parse(json, len, &s, &err), CDL_OK);
  free(json);
}

static void test_check(void **state) {
  (void)state;
  static const refusal CHECK[] = {
      {"{'genesis_keys': 2}", CDL_E_USAGE,
       "nodes[2] (core-2) holds key 2, but the genesis has 2 keys"},
      {"{'genesis_keys': 3, 'nodes': [{'key': 3}]}", CDL_E_USAGE,
       "nodes[0] (core-0) holds key 3, but the genesis has 3 keys"},
      {"{'nodes': [{'key': 0}, {'key': 0}, {'key': 0}]}", CDL_E_USAGE,
       "key 0 is held by more than 2 nodes (nodes[2], core-2, is the third)"},
      {"{'nodes': [{'adversary': 'equivocator'}, {}]}", CDL_E_USAGE,
       "nodes[0] (core-0) is an equivocator, but no other core holds its key 0"},
      {"{'nodes': [{'role': 'relay'}]}", CDL_E_USAGE, "no core node: nobody forges"},
      {"{'nodes': [{}, {'role': 'relay', 'adversary': 'over_threshold'}]}", CDL_E_USAGE,
       "nodes[1] (relay-0): a relay holds no key and cannot be an adversary"},
      {"{'nodes': [{}, {'role': 'relay', 'key': 0}]}", CDL_E_USAGE,
       "nodes[1] (relay-0): a relay holds no key and cannot be an adversary"},
      {"{'slots': 100, 'nodes': [{'join_slot': 100}]}", CDL_E_USAGE,
       "nodes[0] (core-0) joins in slot 100, after the run's 100 slots"},
      {"{'k': 2, 'slot_ms': 100, 'nodes': [{'clock_skew_ms': -200}]}", CDL_E_USAGE,
       "nodes[0] (core-0): clock skew -200 ms is not within slot_ms * k = 200 ms"},
      {"{'topology': {'kind': 'random', 'degree': 3}}", CDL_E_USAGE,
       "a random topology of 3 nodes needs a degree in 1..2, not 3"},
  };
  REFUSE_ALL(CHECK);
  accepted("{'nodes': [{'adversary': 'equivocator'}, {'key': 0}]}");
  accepted("{'k': 2, 'slot_ms': 100, 'nodes': [{'clock_skew_ms': 199}]}");

  /* Scenarios built in code, not read: the same check. */
  cdl_error err = {0};
  cdl_sim_scenario_default(&s);
  memset(s.node[1].name, 'x', sizeof s.node[1].name);
  assert_int_equal(cdl_sim_scenario_check(&s, &err), CDL_E_USAGE);
  assert_string_equal(err.message, "nodes[1]: the name is not terminated");
  cdl_sim_scenario_default(&s);
  s.node[0].peers[0] = 3;
  s.node[0].n_peers = 1;
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_check(&s, &err), CDL_E_USAGE);
  assert_string_equal(err.message, "nodes[0] (core-0): peer 3 is no node");
  cdl_sim_scenario_default(&s);
  s.n_faults = 1;
  s.fault[0] = (cdl_sim_fault){.kind = CDL_SIM_DISK_FULL, .node = 3, .a = 1, .b = 2};
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_check(&s, &err), CDL_E_USAGE);
  assert_string_equal(err.message, "faults[0] (disk_full): node 3 is no node");
  s.fault[0] = (cdl_sim_fault){.kind = CDL_SIM_PARTITION, .a = 1, .b = 2};
  s.fault[0].group[2] = CDL_SIM_MAX_GROUPS;
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_check(&s, &err), CDL_E_USAGE);
  assert_string_equal(err.message, "faults[0] (partition): group 8 of core-2 not below 8");
  cdl_sim_scenario_default(&s);
  s.n_nodes = 0;
  cdl_error_clear(&err);
  assert_int_equal(cdl_sim_scenario_check(&s, &err), CDL_E_USAGE);
  assert_string_equal(err.message, "0 nodes, not 1..128");
}

/* ---- Written back as JSON -------------------------------------------- */

static cdl_sim_scenario back, want;

/* A field of a struct, compared as bytes: doubles bit for bit. */
typedef struct field {
  const char *name;
  size_t offset, size;
} field;
#define FIELD(type, member) {#member, offsetof(type, member), sizeof(((type *)0)->member)}
#define N_FIELDS(table) (sizeof(table) / sizeof((table)[0]))
static const field SCENARIO_FIELDS[] = {
    FIELD(cdl_sim_scenario, seed),          FIELD(cdl_sim_scenario, k),
    FIELD(cdl_sim_scenario, slot_ms),       FIELD(cdl_sim_scenario, slots),
    FIELD(cdl_sim_scenario, threshold),     FIELD(cdl_sim_scenario, genesis_keys),
    FIELD(cdl_sim_scenario, topology),      FIELD(cdl_sim_scenario, degree),
    FIELD(cdl_sim_scenario, latency_us),    FIELD(cdl_sim_scenario, jitter_us),
    FIELD(cdl_sim_scenario, txs),           FIELD(cdl_sim_scenario, n_nodes),
    FIELD(cdl_sim_scenario, n_faults),      FIELD(cdl_sim_scenario, settle_slots),
    FIELD(cdl_sim_scenario, growth_window), FIELD(cdl_sim_scenario, growth_min),
    FIELD(cdl_sim_scenario, broken)};
static const field NODE_FIELDS[] = {
    FIELD(cdl_sim_node_spec, role),      FIELD(cdl_sim_node_spec, key),
    FIELD(cdl_sim_node_spec, adversary), FIELD(cdl_sim_node_spec, invalid_rate),
    FIELD(cdl_sim_node_spec, join_slot), FIELD(cdl_sim_node_spec, clock_skew_ms),
    FIELD(cdl_sim_node_spec, n_peers),   FIELD(cdl_sim_node_spec, peers)};
static const field FAULT_FIELDS[] = {
    FIELD(cdl_sim_fault, kind),   FIELD(cdl_sim_fault, a),      FIELD(cdl_sim_fault, b),
    FIELD(cdl_sim_fault, at_ms),  FIELD(cdl_sim_fault, node),   FIELD(cdl_sim_fault, other),
    FIELD(cdl_sim_fault, group),  FIELD(cdl_sim_fault, damage), FIELD(cdl_sim_fault, lose_record),
    FIELD(cdl_sim_fault, bytes),  FIELD(cdl_sim_fault, count),  FIELD(cdl_sim_fault, rate)};

static void assert_fields(const void *a, const void *b, const field *f, size_t n, const char *what,
                          const char *at) {
  for (size_t i = 0; i < n; i++)
    if (memcmp((const uint8_t *)a + f[i].offset, (const uint8_t *)b + f[i].offset, f[i].size) != 0)
      fail_msg("%s: %s%s differs after the round trip", what, at, f[i].name);
}

/* Field by field; names as strings: the bytes after a name's NUL are
 * what an earlier, longer name left there. */
static void assert_same(const cdl_sim_scenario *a, const cdl_sim_scenario *b, const char *what) {
  char at[32];
  if (strcmp(a->name, b->name) != 0) fail_msg("%s: name %s, read back %s", what, a->name, b->name);
  assert_fields(a, b, SCENARIO_FIELDS, N_FIELDS(SCENARIO_FIELDS), what, "");
  for (size_t i = 0; i < a->n_nodes; i++) {
    snprintf(at, sizeof at, "nodes[%zu].", i);
    if (strcmp(a->node[i].name, b->node[i].name) != 0)
      fail_msg("%s: %sname %s, read back %s", what, at, a->node[i].name, b->node[i].name);
    assert_fields(&a->node[i], &b->node[i], NODE_FIELDS, N_FIELDS(NODE_FIELDS), what, at);
  }
  for (size_t i = 0; i < a->n_faults; i++) {
    snprintf(at, sizeof at, "faults[%zu].", i);
    assert_fields(&a->fault[i], &b->fault[i], FAULT_FIELDS, N_FIELDS(FAULT_FIELDS), what, at);
  }
}

/* |sc| as JSON, read back into |back|: the same scenario, which written
 * again gives the same text. */
static void round_trip(const cdl_sim_scenario *sc, const char *what) {
  cdl_buf json, again;
  cdl_buf_init(&json, 0);
  cdl_buf_init(&again, 0);
  cdl_sim_scenario_json(sc, &json);
  assert_false(json.failed);
  cdl_error err = {0};
  if (cdl_sim_scenario_parse((const char *)json.data, json.len, &back, &err) != CDL_OK)
    fail_msg("%s: %s\n%.*s", what, err.message, (int)json.len, (const char *)json.data);
  assert_same(sc, &back, what);
  cdl_sim_scenario_json(&back, &again);
  if (again.len != json.len || memcmp(again.data, json.data, json.len) != 0)
    fail_msg("%s: written again differently", what);
  cdl_buf_free(&json);
  cdl_buf_free(&again);
}

static void test_json_random(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    char what[32];
    snprintf(what, sizeof what, "random seed %llu", (unsigned long long)seed);
    cdl_sim_scenario_random(seed, &s);
    round_trip(&s, what);
  }
}

static void test_json_files(void **state) {
  (void)state;
  DIR *dir = opendir(CDL_SCENARIOS_DIR);
  assert_non_null(dir);
  size_t files = 0;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CDL_SCENARIOS_DIR, e->d_name);
    cdl_buf text;
    cdl_buf_init(&text, 0);
    cdl_error err = {0};
    assert_int_equal(cdl_file_read_all(path, 1 << 20, &text, &err), CDL_OK);
    if (cdl_sim_scenario_parse((const char *)text.data, text.len, &s, &err) != CDL_OK)
      fail_msg("%s: %s", path, err.message);
    cdl_buf_free(&text);
    round_trip(&s, e->d_name);
    files++;
  }
  closedir(dir);
  assert_true(files >= 12);
}

/* The text itself: keys in the documented order, indented by 2, a double
 * as short as reads back, a threshold of 0 (automatic) not written. */
static void test_json_text(void **state) {
  (void)state;
  static const char WANT[] =
      "{\n  \"name\": \"default\",\n  \"seed\": 1,\n  \"k\": 10,\n  \"slot_ms\": 1000,\n"
      "  \"slots\": 300,\n  \"genesis_keys\": 0,\n  \"topology\": \"mesh\",\n"
      "  \"latency_us\": 20000,\n  \"jitter_us\": 200000,\n  \"txs\": 20,\n  \"nodes\": [\n"
      "    {\n      \"name\": \"core-0\",\n      \"role\": \"core\",\n      \"key\": -1,\n"
      "      \"adversary\": \"honest\",\n      \"invalid_rate\": 0.0,\n      \"join_slot\": 0,\n"
      "      \"clock_skew_ms\": 0,\n      \"peers\": []\n    }\n  ],\n  \"faults\": [\n"
      "    {\n      \"kind\": \"drop\",\n      \"rate\": 0.05,\n      \"from_slot\": 10,\n"
      "      \"to_slot\": 200\n    }\n  ],\n  \"check\": {\n    \"settle_slots\": 0,\n"
      "    \"growth_window\": 0,\n    \"growth_min\": 0\n  },\n  \"broken\": \"none\"\n}";
  cdl_sim_scenario_default(&s);
  cdl_sim_scenario_nodes(&s, 1, 0);
  s.n_faults = 1;
  s.fault[0] = (cdl_sim_fault){.kind = CDL_SIM_DROP, .rate = 0.05, .a = 10, .b = 200};
  cdl_buf json;
  cdl_buf_init(&json, 0);
  cdl_sim_scenario_json(&s, &json);
  assert_false(json.failed);
  if (json.len != strlen(WANT) || memcmp(json.data, WANT, json.len) != 0)
    fail_msg("got\n%.*s", (int)json.len, (const char *)json.data);
  cdl_buf_free(&json);
}

/* What a file cannot say, written as what means the same: nodes without a
 * name under the names the reader and the engine give them, groups
 * numbered afresh (the same links cut), a partition of every node in
 * group 0 as one group of all, no name as "default"; a degree outside a
 * random topology and a threshold kept. */
static void test_json_equivalents(void **state) {
  (void)state;
  cdl_sim_scenario_default(&s);
  cdl_sim_scenario_nodes(&s, 2, 2);
  s.name[0] = s.node[1].name[0] = s.node[3].name[0] = '\0';
  s.node[0].peers[0] = 3;
  s.node[0].n_peers = 1;
  s.topology = CDL_SIM_RING;
  s.degree = 3;
  s.threshold = 1.0 / 3;
  s.n_faults = 2;
  s.fault[0] = (cdl_sim_fault){.kind = CDL_SIM_PARTITION, .a = 1, .b = 2};
  s.fault[0].group[1] = s.fault[0].group[2] = 5;
  s.fault[0].group[3] = 2;
  s.fault[1] = (cdl_sim_fault){.kind = CDL_SIM_PARTITION, .a = 3, .b = 4};
  want = s;
  snprintf(want.name, sizeof want.name, "default");
  snprintf(want.node[1].name, sizeof want.node[1].name, "core-1");
  snprintf(want.node[3].name, sizeof want.node[3].name, "relay-1");
  memcpy(want.fault[0].group, (uint8_t[]){0, 2, 2, 1}, 4);
  memset(want.fault[1].group, 1, 4);
  cdl_buf json;
  cdl_buf_init(&json, 0);
  cdl_sim_scenario_json(&s, &json);
  cdl_error err = {0};
  assert_int_equal(cdl_sim_scenario_parse((const char *)json.data, json.len, &back, &err), CDL_OK);
  cdl_buf_free(&json);
  assert_same(&want, &back, "equivalents");
  round_trip(&want, "equivalents read back");
}

/* ---- The report --------------------------------------------------------- */

static void fill_node(cdl_sim_node_report *n, const char *name, uint64_t base) {
  snprintf(n->name, sizeof n->name, "%s", name);
  uint64_t *counters[] = {
      &n->forged,        &n->ebbs_forged,         &n->adopted,         &n->invalid_received,
      &n->forge_skipped, &n->double_sign_refused, &n->record_failures, &n->own_refused,
      &n->rollbacks,     &n->rollback_max,        &n->restarts,        &n->dials,
      &n->connections,   &n->suspended,           &n->txs_submitted,   &n->fs_refused,
      &n->lost_blocks};
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) *counters[i] = base + i + 1;
}

/* Written from docs/simulation.md "The report": keys sorted, compact. */
static const char EXPECTED_REPORT[] =
    "{\"bytes\":1099511627776,\"common_block_no\":88,\"convergence_slot\":250,"
    "\"deliveries\":4567,"
    "\"digest\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
    "\"equivocations\":2,\"events\":123456,\"invalid_forged\":3,\"main_blocks\":95,"
    "\"nodes\":["
    "{\"adopted\":3,\"connections\":13,\"dials\":12,\"double_sign_refused\":6,\"ebbs_forged\":2,"
    "\"forge_skipped\":5,\"forged\":1,\"fs_refused\":16,\"honest\":true,\"invalid_received\":4,"
    "\"lost_blocks\":17,\"name\":\"core-0\",\"own_refused\":8,\"record_failures\":7,\"restarts\":11,"
    "\"rollback_max\":10,\"rollbacks\":9,\"suspended\":14,"
    "\"tip\":{\"block_no\":95,"
    "\"hash\":\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"slot\":298},"
    "\"txs_submitted\":15},"
    "{\"adopted\":103,\"connections\":113,\"dials\":112,\"double_sign_refused\":106,"
    "\"ebbs_forged\":102,\"forge_skipped\":105,\"forged\":101,\"fs_refused\":116,"
    "\"honest\":false,\"invalid_received\":104,\"lost_blocks\":117,\"name\":\"relay-0\",\"own_refused\":108,"
    "\"record_failures\":107,\"restarts\":111,\"rollback_max\":110,\"rollbacks\":109,"
    "\"suspended\":114,\"tip\":null,\"txs_submitted\":115}],"
    "\"ok\":false,"
    "\"properties\":{\"chain_growth\":{\"held\":true},\"common_prefix\":{\"held\":true},"
    "\"convergence\":{\"held\":false,\"slot\":212,"
    "\"why\":\"core-0 and \\\"relay-0\\\" differ by 11 blocks\"},"
    "\"durability\":{\"held\":true},\"forge_reasons\":{\"held\":true},"
    "\"no_double_sign\":{\"held\":false,\"slot\":0,\"why\":\"\"},"
    "\"no_invalid_adopted\":{\"held\":true},\"resources\":{\"held\":true},"
    "\"txs_once\":{\"held\":true}},"
    "\"scenario\":\"partition\",\"seed\":7,\"slots\":300,"
    "\"txs\":{\"included\":19,\"submitted\":20}}";

static void test_report_json(void **state) {
  (void)state;
  static cdl_sim_report rep;
  memset(&rep, 0, sizeof rep);
  snprintf(rep.scenario, sizeof rep.scenario, "partition");
  rep.seed = 7;
  rep.slots = 300;
  rep.events = 123456;
  rep.deliveries = 4567;
  rep.bytes = (uint64_t)1 << 40;
  for (int i = 0; i < 32; i++) rep.digest[i] = (uint8_t)i;
  rep.n_nodes = 2;
  fill_node(&rep.node[0], "core-0", 0);
  rep.node[0].honest = true;
  rep.node[0].has_tip = true;
  rep.node[0].tip.block_no = 95;
  rep.node[0].tip.slot = 298;
  memset(rep.node[0].tip.hash, 0xee, 32);
  fill_node(&rep.node[1], "relay-0", 100);
  rep.node[1].tip.slot = 5; /* no tip: not shown */
  rep.common_block_no = 88;
  rep.main_blocks = 95;
  rep.equivocations = 2;
  rep.invalid_forged = 3;
  rep.txs_submitted = 20;
  rep.txs_included = 19;
  rep.convergence_slot = 250;
  for (int p = 0; p < CDL_SIM_PROP_COUNT; p++) rep.property[p].held = true;
  rep.property[CDL_SIM_PROP_CONVERGENCE] = (cdl_sim_verdict){.held = false, .slot = 212};
  snprintf(rep.property[CDL_SIM_PROP_CONVERGENCE].why, sizeof rep.property[0].why,
           "core-0 and \"relay-0\" differ by 11 blocks");
  rep.property[CDL_SIM_PROP_NO_DOUBLE_SIGN] = (cdl_sim_verdict){.held = false};
  rep.ok = false;

  cdl_buf a, b;
  cdl_buf_init(&a, 0);
  cdl_buf_init(&b, 0);
  assert_int_equal(cdl_buf_append(&a, "x", 1), CDL_OK); /* appended after what is there */
  cdl_sim_report_json(&rep, &a);
  cdl_sim_report_json(&rep, &b);
  assert_false(a.failed || b.failed);
  assert_int_equal(a.len, 1 + strlen(EXPECTED_REPORT));
  assert_memory_equal(a.data + 1, EXPECTED_REPORT, a.len - 1);
  assert_int_equal(b.len, a.len - 1);
  assert_memory_equal(b.data, a.data + 1, b.len);
  cdl_buf_free(&a);
  cdl_buf_free(&b);

  static const char *const NAMES[] = {"common_prefix",      "convergence",    "chain_growth",
                                      "no_invalid_adopted", "no_double_sign", "txs_once",
                                      "durability",         "resources",      "forge_reasons"};
  for (int p = 0; p < CDL_SIM_PROP_COUNT; p++)
    assert_string_equal(cdl_sim_property_name((cdl_sim_property)p), NAMES[p]);
  assert_string_equal(cdl_sim_property_name(CDL_SIM_PROP_COUNT), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),        cmocka_unit_test(test_full_scenario),
      cmocka_unit_test(test_shorthand_nodes), cmocka_unit_test(test_unknown_fields),
      cmocka_unit_test(test_wrong_types),     cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_too_many),        cmocka_unit_test(test_names),
      cmocka_unit_test(test_node_references), cmocka_unit_test(test_fault_slots),
      cmocka_unit_test(test_bad_enums),       cmocka_unit_test(test_bad_json),
      cmocka_unit_test(test_check),           cmocka_unit_test(test_json_random),
      cmocka_unit_test(test_json_files),      cmocka_unit_test(test_json_text),
      cmocka_unit_test(test_json_equivalents), cmocka_unit_test(test_report_json)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
