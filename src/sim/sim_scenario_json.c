/*
 * sim_scenario_json.c: a scenario written as the JSON text that
 * cdl_sim_scenario_parse (sim_scenario.c) reads back into the same
 * scenario (include/cardinal/sim.h; docs/simulation.md "Scenarios"),
 * indented, its keys in the order the documentation lists them, so that a
 * person can keep it as a scenario file: a failing sweep seed becomes a
 * named case.
 *
 * Every field is written, the explicit node list included, except what
 * the reader takes only by its absence: a threshold of 0 (automatic) and
 * an empty name (the reader's "default"). A node without a name is
 * written with the name the reader and the engine give it ("core-<i>",
 * "relay-<i>", counted within its role), nodes are referred to by name,
 * and a fault holds only the fields of its kind (sim_fault_forms). The
 * scenario is one that passes cdl_sim_scenario_check.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/sim.h"
#include "sim_scenario_forms.h"

/* Out of memory (or text that is not UTF-8) anywhere: *ok false. */
static void put(json_t *o, const char *key, json_t *v, bool *ok) {
  if (json_object_set_new(o, key, v) != 0) *ok = false;
}

static void push(json_t *a, json_t *v, bool *ok) {
  if (json_array_append_new(a, v) != 0) *ok = false;
}

static json_t *uint_json(uint64_t v) { return json_integer((json_int_t)v); }

static json_t *text_json(const char name[CDL_SIM_NAME_MAX]) {
  const char *end = memchr(name, '\0', CDL_SIM_NAME_MAX);
  return json_stringn(name, end ? (size_t)(end - name) : CDL_SIM_NAME_MAX);
}

/* Node |i|'s name, its own or its default. */
static json_t *node_name(const cdl_sim_scenario *s, size_t i) {
  const cdl_sim_node_spec *n = &s->node[i];
  if (n->name[0] != '\0') return text_json(n->name);
  size_t nth = 0;
  for (size_t j = 0; j < i; j++) nth += s->node[j].role == n->role;
  char name[CDL_SIM_NAME_MAX];
  snprintf(name, sizeof name, "%s-%zu", sim_role_names[n->role], nth);
  return json_string(name);
}

static json_t *topology_json(const cdl_sim_scenario *s, bool *ok) {
  json_t *kind = json_string(sim_topology_names[s->topology]);
  if (s->topology != CDL_SIM_RANDOM && s->degree == SIM_DEFAULT_DEGREE) return kind;
  json_t *t = json_object();
  put(t, "kind", kind, ok);
  put(t, "degree", uint_json(s->degree), ok);
  return t;
}

static json_t *node_json(const cdl_sim_scenario *s, size_t i, bool *ok) {
  const cdl_sim_node_spec *n = &s->node[i];
  json_t *o = json_object(), *peers = json_array();
  put(o, "name", node_name(s, i), ok);
  put(o, "role", json_string(sim_role_names[n->role]), ok);
  put(o, "key", json_integer(n->key), ok);
  put(o, "adversary", json_string(sim_adversary_names[n->adversary]), ok);
  put(o, "invalid_rate", json_real(n->invalid_rate), ok);
  put(o, "join_slot", uint_json(n->join_slot), ok);
  put(o, "clock_skew_ms", json_integer(n->clock_skew_ms), ok);
  for (size_t j = 0; j < n->n_peers; j++) push(peers, node_name(s, n->peers[j]), ok);
  put(o, "peers", peers, ok);
  return o;
}

/* Groups 1, 2 ... as lists of names, empty ones left out (nodes in no
 * list are group 0); links are cut between nodes whose groups differ, so
 * numbering the groups afresh cuts the same links. A partition with every
 * node in group 0 cuts nothing, as one group of every node does: the
 * reader takes no empty list. */
static json_t *groups_json(const cdl_sim_scenario *s, const cdl_sim_fault *f, bool *ok) {
  json_t *groups = json_array();
  for (unsigned g = 1; g < CDL_SIM_MAX_GROUPS; g++) {
    json_t *members = json_array();
    for (size_t n = 0; n < s->n_nodes; n++)
      if (f->group[n] == g) push(members, node_name(s, n), ok);
    if (json_array_size(members) > 0)
      push(groups, members, ok);
    else
      json_decref(members);
  }
  if (json_array_size(groups) == 0) {
    json_t *all = json_array();
    for (size_t n = 0; n < s->n_nodes; n++) push(all, node_name(s, n), ok);
    push(groups, all, ok);
  }
  return groups;
}

/* The value of the field |key| of |f| (one of its form's fields). */
static json_t *fault_field(const cdl_sim_scenario *s, const cdl_sim_fault *f, const char *key,
                           bool *ok) {
  if (strcmp(key, "kind") == 0) return json_string(sim_fault_kind_names[f->kind]);
  if (strcmp(key, "from_slot") == 0 || strcmp(key, "at_slot") == 0) return uint_json(f->a);
  if (strcmp(key, "to_slot") == 0 || strcmp(key, "down_until_slot") == 0) return uint_json(f->b);
  if (strcmp(key, "at_ms") == 0) return uint_json(f->at_ms);
  if (strcmp(key, "node") == 0 || strcmp(key, "from") == 0) return node_name(s, f->node);
  if (strcmp(key, "to") == 0) return node_name(s, f->other);
  if (strcmp(key, "damage") == 0) return json_string(sim_damage_names[f->damage]);
  if (strcmp(key, "lose_record") == 0) return json_boolean(f->lose_record);
  if (strcmp(key, "damage_file") == 0) return text_json(f->damage_file);
  if (strcmp(key, "bytes") == 0) return uint_json(f->bytes);
  if (strcmp(key, "count") == 0) return uint_json(f->count);
  if (strcmp(key, "rate") == 0) return json_real(f->rate);
  if (strcmp(key, "groups") == 0) return groups_json(s, f, ok);
  return NULL; /* a field this writer does not know: refused below */
}

static json_t *fault_json(const cdl_sim_scenario *s, const cdl_sim_fault *f, bool *ok) {
  json_t *o = json_object();
  for (const char *const *key = sim_fault_forms[f->kind].fields; *key != NULL; key++)
    if (strcmp(*key, "damage_file") != 0 || f->damage_file[0] != '\0') /* "": any, left out */
      put(o, *key, fault_field(s, f, *key, ok), ok);
  return o;
}

static json_t *scenario_json(const cdl_sim_scenario *s, bool *ok) {
  json_t *j = json_object(), *nodes = json_array(), *faults = json_array(), *check = json_object();
  if (s->name[0] != '\0') put(j, "name", text_json(s->name), ok);
  put(j, "seed", uint_json(s->seed), ok);
  put(j, "k", uint_json(s->k), ok);
  put(j, "slot_ms", uint_json(s->slot_ms), ok);
  put(j, "slots", uint_json(s->slots), ok);
  if (s->threshold != 0) put(j, "threshold", json_real(s->threshold), ok);
  put(j, "genesis_keys", uint_json(s->genesis_keys), ok);
  put(j, "topology", topology_json(s, ok), ok);
  put(j, "latency_us", uint_json(s->latency_us), ok);
  put(j, "jitter_us", uint_json(s->jitter_us), ok);
  put(j, "txs", uint_json(s->txs), ok);
  for (size_t i = 0; i < s->n_nodes; i++) push(nodes, node_json(s, i, ok), ok);
  put(j, "nodes", nodes, ok);
  for (size_t i = 0; i < s->n_faults; i++) push(faults, fault_json(s, &s->fault[i], ok), ok);
  put(j, "faults", faults, ok);
  put(check, "settle_slots", uint_json(s->settle_slots), ok);
  put(check, "growth_window", uint_json(s->growth_window), ok);
  put(check, "growth_min", uint_json(s->growth_min), ok);
  put(j, "check", check, ok);
  put(j, "broken", json_string(sim_broken_names[s->broken]), ok);
  return j;
}

/* The fewest significant digits that read back as |x|: 17 always do. */
static int digits_for(double x) {
  char text[40];
  for (int p = 1; p < 17; p++) {
    snprintf(text, sizeof text, "%.*g", p, x);
    if (strtod(text, NULL) == x) return p;
  }
  return 17;
}

/* The digits every double of |s| (threshold, invalid_rate, rate) needs to
 * read back as itself: 0.05 rather than 0.050000000000000003 unless
 * another double needs 17. */
static int real_digits(const cdl_sim_scenario *s) {
  int p = digits_for(s->threshold);
  for (size_t i = 0; i < s->n_nodes; i++) {
    int q = digits_for(s->node[i].invalid_rate);
    p = q > p ? q : p;
  }
  for (size_t i = 0; i < s->n_faults; i++) {
    int q = digits_for(s->fault[i].rate);
    p = q > p ? q : p;
  }
  return p;
}

void cdl_sim_scenario_json(const cdl_sim_scenario *s, cdl_buf *out) {
  bool ok = true;
  json_t *j = scenario_json(s, &ok);
  size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(real_digits(s));
  char *dump = ok ? json_dumps(j, flags) : NULL;
  json_decref(j);
  if (dump == NULL || cdl_buf_append(out, dump, strlen(dump)) != CDL_OK) out->failed = true;
  free(dump);
}
