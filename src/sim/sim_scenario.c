/*
 * sim_scenario.c: a simulator scenario read from JSON text, and the
 * consistency check every scenario passes before it runs
 * (include/cardinal/sim.h; docs/simulation.md "Scenarios").
 *
 * The text is hostile: every field has a type and bounds, an unknown
 * field is refused, names are bounded, and each refusal is CDL_E_JSON
 * naming the field by its whole path ("faults[2].down_until_slot: ...").
 * Reading starts from cdl_sim_scenario_default. Nodes are referred to by
 * name or by index; names are resolved once every node is read, so a
 * node may name a later one as its peer. The words of the format
 * (sim_scenario_forms.h) are defined here and written by
 * sim_scenario_json.c.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/sim.h"
#include "sim_scenario_forms.h"

/* The bounds of docs/simulation.md "Scenarios". */
#define SLOTS_MAX 10000000u
#define K_MAX 10000u
#define SLOT_MS_MAX 600000u
#define DELAY_US_MAX 60000000u /* one minute */
#define TXS_MAX 1000000u
#define DISK_BYTES_MAX ((uint64_t)1 << 40)
#define DESCRIPTORS_MAX 1024u
#define SKEW_MS_MAX ((int64_t)SLOT_MS_MAX * K_MAX)
#define PATH_CAP 96

/* ---- Refusals that name the field ---------------------------------- */

/* |in| with anything but printable ASCII as '?', cut to fit |cap|:
 * hostile keys and names go into messages. */
static void printable(char *out, size_t cap, const char *in) {
  size_t i = 0;
  for (; in[i] != '\0' && i + 1 < cap; i++) {
    unsigned char c = (unsigned char)in[i];
    out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out[i] = '\0';
}

static void path_key(char out[PATH_CAP], const char *at, const char *key) {
  char shown[48];
  printable(shown, sizeof shown, key);
  if (snprintf(out, PATH_CAP, "%s%s%s", at, at[0] ? "." : "", shown) >= PATH_CAP)
    out[PATH_CAP - 1] = '\0';
}

static void path_index(char out[PATH_CAP], const char *at, size_t i) {
  if (snprintf(out, PATH_CAP, "%s[%zu]", at, i) >= PATH_CAP) out[PATH_CAP - 1] = '\0';
}

/* CDL_E_JSON "<at>.<key>: <why>" (|key| NULL: "<at>: <why>"). */
__attribute__((format(printf, 4, 5))) static int fail(cdl_error *err, const char *at,
                                                      const char *key, const char *fmt, ...) {
  char path[PATH_CAP], why[CDL_ERROR_MESSAGE_MAX];
  if (key != NULL)
    path_key(path, at, key);
  else
    snprintf(path, sizeof path, "%s", at[0] ? at : "the scenario");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return cdl_error_set(err, CDL_E_JSON, 0, "%s: %s", path, why);
}

/* Every key of |o| is one of |allowed| (NULL-ended). Keys come in the
 * order of the text (jansson keeps it), so the first unknown one is
 * named. */
static int only(json_t *o, const char *at, const char *const *allowed, cdl_error *err) {
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    bool known = false;
    for (size_t i = 0; allowed[i] != NULL && !known; i++) known = strcmp(key, allowed[i]) == 0;
    if (!known) return fail(err, at, key, "unknown field");
  }
  return CDL_OK;
}

static int need_object(json_t *v, const char *at, const char *key, cdl_error *err) {
  return json_is_object(v) ? CDL_OK : fail(err, at, key, "not an object");
}

/* ---- Typed fields (absent: left as they are) ------------------------ */

/* An unsigned integer field of a struct, by offset and width. */
typedef struct uint_field {
  const char *key;
  uint64_t min, max;
  size_t offset, size;
} uint_field;
#define UINT_FIELD(key, min, max, type, member) \
  { key, min, max, offsetof(type, member), sizeof(((type *)0)->member) }
_Static_assert(sizeof(size_t) == 4 || sizeof(size_t) == 8, "size_t is 32 or 64 bits");

static int read_uints(json_t *o, const char *at, const uint_field *f, size_t n, void *base,
                      cdl_error *err) {
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_object_get(o, f[i].key);
    if (v == NULL) continue;
    if (!json_is_integer(v)) return fail(err, at, f[i].key, "not an integer");
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < f[i].min || (uint64_t)x > f[i].max)
      return fail(err, at, f[i].key, "%lld is out of range %" PRIu64 "..%" PRIu64, (long long)x,
                  f[i].min, f[i].max);
    uint8_t *p = (uint8_t *)base + f[i].offset;
    uint64_t wide = (uint64_t)x;
    uint32_t narrow = (uint32_t)x;
    if (f[i].size == sizeof narrow)
      memcpy(p, &narrow, sizeof narrow);
    else
      memcpy(p, &wide, sizeof wide);
  }
  return CDL_OK;
}

static int get_int(json_t *o, const char *at, const char *key, int64_t min, int64_t max,
                   int64_t *out, cdl_error *err) {
  json_t *v = json_object_get(o, key);
  if (v == NULL) return CDL_OK;
  if (!json_is_integer(v)) return fail(err, at, key, "not an integer");
  json_int_t x = json_integer_value(v);
  if (x < min || x > max)
    return fail(err, at, key, "%lld is out of range %" PRId64 "..%" PRId64, (long long)x, min, max);
  *out = x;
  return CDL_OK;
}

/* A number in [0, 1], or in (0, 1] unless |zero_ok|. */
static int get_fraction(json_t *o, const char *at, const char *key, bool zero_ok, double *out,
                        cdl_error *err) {
  json_t *v = json_object_get(o, key);
  if (v == NULL) return CDL_OK;
  if (!json_is_number(v)) return fail(err, at, key, "not a number");
  double x = json_number_value(v);
  if (!(x >= 0 && x <= 1) || (!zero_ok && x == 0))
    return fail(err, at, key, "%g is out of range %s, 1]", x, zero_ok ? "[0" : "(0");
  *out = x;
  return CDL_OK;
}

static int get_bool(json_t *o, const char *at, const char *key, bool *out, cdl_error *err) {
  json_t *v = json_object_get(o, key);
  if (v == NULL) return CDL_OK;
  if (!json_is_boolean(v)) return fail(err, at, key, "not true or false");
  *out = json_is_true(v);
  return CDL_OK;
}

/* |v| (the value of |key| in |at|) is one of |names|: its index. */
static int enum_of(json_t *v, const char *at, const char *key, const char *const *names, size_t n,
                   int *out, cdl_error *err) {
  const char *text = json_string_value(v);
  for (size_t i = 0; text != NULL && i < n; i++)
    if (strcmp(text, names[i]) == 0) return *out = (int)i, CDL_OK;
  char list[160] = "";
  for (size_t i = 0, used = 0; i < n && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
  return fail(err, at, key, "not one of %s", list);
}

static int get_enum(json_t *o, const char *at, const char *key, const char *const *names, size_t n,
                    int *out, cdl_error *err) {
  json_t *v = json_object_get(o, key);
  return v == NULL ? CDL_OK : enum_of(v, at, key, names, n, out, err);
}

/* A name of 1..CDL_SIM_NAME_MAX-1 bytes without control characters. */
static int get_name(json_t *o, const char *at, const char *key, char out[CDL_SIM_NAME_MAX],
                    cdl_error *err) {
  json_t *v = json_object_get(o, key);
  if (v == NULL) return CDL_OK;
  if (!json_is_string(v)) return fail(err, at, key, "not a string");
  size_t len = json_string_length(v);
  const char *text = json_string_value(v);
  if (len == 0 || len >= CDL_SIM_NAME_MAX)
    return fail(err, at, key, "%zu bytes long, not 1..%d", len, CDL_SIM_NAME_MAX - 1);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
      return fail(err, at, key, "holds a control character");
  memcpy(out, text, len);
  out[len] = '\0';
  return CDL_OK;
}

/* A node by name (a string) or by index (an integer). */
static int node_ref(const cdl_sim_scenario *s, json_t *v, const char *at, size_t *out,
                    cdl_error *err) {
  if (json_is_integer(v)) {
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x >= s->n_nodes)
      return fail(err, at, NULL, "no node %lld (there are %zu)", (long long)x, s->n_nodes);
    *out = (size_t)x;
    return CDL_OK;
  }
  if (!json_is_string(v)) return fail(err, at, NULL, "not a node name or index");
  const char *name = json_string_value(v);
  for (size_t i = 0; i < s->n_nodes; i++)
    if (strcmp(s->node[i].name, name) == 0) return *out = i, CDL_OK;
  char shown[CDL_SIM_NAME_MAX];
  printable(shown, sizeof shown, name);
  return fail(err, at, NULL, "no node named \"%s\"", shown);
}

/* ---- Nodes ------------------------------------------------------------ */

const char *const sim_role_names[2] = {"core", "relay"};
const char *const sim_adversary_names[5] = {"honest", "equivocator", "over_threshold",
                                            "invalid_forger", "mismatch"};
static const char *const NODE_FIELDS[] = {"name",          "role",         "key",
                                          "adversary",     "invalid_rate", "join_slot",
                                          "clock_skew_ms", "peers",        NULL};
static const uint_field NODE_UINTS[] = {
    UINT_FIELD("join_slot", 0, SLOTS_MAX - 1, cdl_sim_node_spec, join_slot)};

/* One node of the list, its peers aside (parse_peers). */
static int parse_node(json_t *o, const char *at, cdl_sim_node_spec *n, cdl_error *err) {
  CDL_TRY(need_object(o, at, NULL, err));
  CDL_TRY(only(o, at, NODE_FIELDS, err));
  int role = CDL_SIM_CORE, adversary = CDL_SIM_HONEST;
  int64_t key = -1, skew = 0;
  CDL_TRY(get_name(o, at, "name", n->name, err));
  CDL_TRY(get_enum(o, at, "role", sim_role_names, 2, &role, err));
  CDL_TRY(get_int(o, at, "key", -1, CDL_SIM_MAX_NODES - 1, &key, err));
  CDL_TRY(get_enum(o, at, "adversary", sim_adversary_names, 5, &adversary, err));
  CDL_TRY(get_fraction(o, at, "invalid_rate", true, &n->invalid_rate, err));
  CDL_TRY(read_uints(o, at, NODE_UINTS, 1, n, err));
  CDL_TRY(get_int(o, at, "clock_skew_ms", -SKEW_MS_MAX, SKEW_MS_MAX, &skew, err));
  n->role = (cdl_sim_role)role;
  n->adversary = (cdl_sim_adversary)adversary;
  n->key = (int)key;
  n->clock_skew_ms = skew;
  json_t *peers = json_object_get(o, "peers");
  if (peers != NULL &&
      (!json_is_array(peers) || json_array_size(peers) > CDL_SIM_MAX_LINKS_PER_NODE))
    return fail(err, at, "peers", "not a list of at most %d nodes", CDL_SIM_MAX_LINKS_PER_NODE);
  return CDL_OK;
}

/* Unnamed nodes are "core-<i>" or "relay-<i>", counted within their
 * role; then every name is unique. */
static int name_nodes(cdl_sim_scenario *s, cdl_error *err) {
  size_t count[2] = {0, 0};
  for (size_t i = 0; i < s->n_nodes; i++) {
    cdl_sim_node_spec *n = &s->node[i];
    size_t nth = count[n->role]++;
    if (n->name[0] == '\0')
      snprintf(n->name, sizeof n->name, "%s-%zu", sim_role_names[n->role], nth);
  }
  for (size_t i = 0; i < s->n_nodes; i++) {
    for (size_t j = 0; j < i; j++) {
      if (strcmp(s->node[i].name, s->node[j].name) != 0) continue;
      char at[PATH_CAP], shown[CDL_SIM_NAME_MAX];
      path_index(at, "nodes", i);
      printable(shown, sizeof shown, s->node[i].name);
      return fail(err, at, "name", "\"%s\" is also the name of nodes[%zu]", shown, j);
    }
  }
  return CDL_OK;
}

static int parse_peers(json_t *list, cdl_sim_scenario *s, cdl_error *err) {
  for (size_t i = 0; i < s->n_nodes; i++) {
    json_t *peers = json_object_get(json_array_get(list, i), "peers");
    char at[PATH_CAP], node_at[PATH_CAP], peer_at[PATH_CAP];
    path_index(node_at, "nodes", i);
    path_key(at, node_at, "peers");
    for (size_t j = 0; j < json_array_size(peers); j++) {
      path_index(peer_at, at, j);
      CDL_TRY(node_ref(s, json_array_get(peers, j), peer_at, &s->node[i].peers[j], err));
    }
    s->node[i].n_peers = json_array_size(peers);
  }
  return CDL_OK;
}

/* {"cores": N, "relays": M}: cdl_sim_scenario_nodes; a count not given
 * stays as it was. */
typedef struct node_counts {
  uint64_t cores, relays;
} node_counts;

static int parse_node_counts(json_t *o, cdl_sim_scenario *s, cdl_error *err) {
  static const char *const FIELDS[] = {"cores", "relays", NULL};
  static const uint_field COUNTS[] = {
      UINT_FIELD("cores", 0, CDL_SIM_MAX_NODES, node_counts, cores),
      UINT_FIELD("relays", 0, CDL_SIM_MAX_NODES, node_counts, relays)};
  node_counts c = {0, 0};
  for (size_t i = 0; i < s->n_nodes; i++) {
    if (s->node[i].role == CDL_SIM_CORE)
      c.cores++;
    else
      c.relays++;
  }
  CDL_TRY(only(o, "nodes", FIELDS, err));
  CDL_TRY(read_uints(o, "nodes", COUNTS, 2, &c, err));
  if (c.cores + c.relays < 1 || c.cores + c.relays > CDL_SIM_MAX_NODES)
    return fail(err, "nodes", NULL, "%" PRIu64 " nodes in all, not 1..%d", c.cores + c.relays,
                CDL_SIM_MAX_NODES);
  cdl_sim_scenario_nodes(s, (size_t)c.cores, (size_t)c.relays);
  return CDL_OK;
}

static int parse_nodes(json_t *v, cdl_sim_scenario *s, cdl_error *err) {
  if (v == NULL) return CDL_OK;
  if (json_is_object(v)) return parse_node_counts(v, s, err);
  if (!json_is_array(v))
    return fail(err, "nodes", NULL, "not a list of nodes nor {\"cores\": N, \"relays\": M}");
  size_t n = json_array_size(v);
  if (n < 1 || n > CDL_SIM_MAX_NODES)
    return fail(err, "nodes", NULL, "%zu nodes, not 1..%d", n, CDL_SIM_MAX_NODES);
  memset(s->node, 0, sizeof s->node);
  s->n_nodes = n;
  for (size_t i = 0; i < n; i++) {
    char at[PATH_CAP];
    path_index(at, "nodes", i);
    s->node[i].key = -1;
    CDL_TRY(parse_node(json_array_get(v, i), at, &s->node[i], err));
  }
  CDL_TRY(name_nodes(s, err));
  return parse_peers(v, s, err);
}

/* ---- Faults ----------------------------------------------------------- */

const char *const sim_fault_kind_names[7] = {"partition", "crash",       "disconnect", "link_down",
                                             "disk_full", "descriptors", "drop"};
const char *const sim_damage_names[5] = {"none", "power", "bitflip", "truncate", "wipe"};

const sim_fault_form sim_fault_forms[7] = {
    [CDL_SIM_PARTITION] = {{"kind", "from_slot", "to_slot", "groups"}, NULL, true},
    [CDL_SIM_CRASH] = {{"kind", "node", "at_slot", "at_ms", "down_until_slot", "damage",
                        "lose_record", "damage_file"},
                       "node",
                       false},
    [CDL_SIM_DISCONNECT] = {{"kind", "node", "at_slot", "at_ms"}, "node", false},
    [CDL_SIM_LINK_DOWN] = {{"kind", "from", "to", "from_slot", "to_slot"}, "from", true},
    [CDL_SIM_DISK_FULL] = {{"kind", "node", "bytes", "from_slot", "to_slot"}, "node", true},
    [CDL_SIM_DESCRIPTORS] = {{"kind", "node", "count", "from_slot", "to_slot"}, "node", true},
    [CDL_SIM_DROP] = {{"kind", "rate", "from_slot", "to_slot"}, NULL, true},
};

/* Each kind allows only its own fields, so one table serves them all. */
static const uint_field FAULT_UINTS[] = {
    UINT_FIELD("from_slot", 0, SLOTS_MAX, cdl_sim_fault, a),
    UINT_FIELD("at_slot", 0, SLOTS_MAX, cdl_sim_fault, a),
    UINT_FIELD("to_slot", 0, SLOTS_MAX, cdl_sim_fault, b),
    UINT_FIELD("down_until_slot", 0, SLOTS_MAX, cdl_sim_fault, b),
    UINT_FIELD("at_ms", 0, SLOT_MS_MAX - 1, cdl_sim_fault, at_ms),
    UINT_FIELD("bytes", 0, DISK_BYTES_MAX, cdl_sim_fault, bytes),
    UINT_FIELD("count", 0, DESCRIPTORS_MAX, cdl_sim_fault, count)};

static int get_node(json_t *o, const char *at, const char *key, const cdl_sim_scenario *s,
                    size_t *out, cdl_error *err) {
  json_t *v = json_object_get(o, key);
  if (v == NULL) return fail(err, at, key, "missing");
  char path[PATH_CAP];
  path_key(path, at, key);
  return node_ref(s, v, path, out, err);
}

/* "groups": [[nodes...], ...]: group 1, 2 ... in order; the rest 0. */
static int parse_groups(json_t *o, const char *at, const cdl_sim_scenario *s, cdl_sim_fault *f,
                        cdl_error *err) {
  json_t *groups = json_object_get(o, "groups");
  char list_at[PATH_CAP], group_at[PATH_CAP], node_at[PATH_CAP];
  if (groups == NULL) return fail(err, at, "groups", "missing");
  path_key(list_at, at, "groups");
  size_t n = json_array_size(groups);
  if (!json_is_array(groups) || n < 1 || n > CDL_SIM_MAX_GROUPS - 1)
    return fail(err, list_at, NULL, "not a list of 1..%d groups", CDL_SIM_MAX_GROUPS - 1);
  for (size_t g = 0; g < n; g++) {
    json_t *members = json_array_get(groups, g);
    path_index(group_at, list_at, g);
    if (!json_is_array(members) || json_array_size(members) < 1 ||
        json_array_size(members) > s->n_nodes)
      return fail(err, group_at, NULL, "not a list of 1..%zu nodes", s->n_nodes);
    for (size_t m = 0; m < json_array_size(members); m++) {
      size_t node;
      path_index(node_at, group_at, m);
      CDL_TRY(node_ref(s, json_array_get(members, m), node_at, &node, err));
      if (f->group[node] != 0)
        return fail(err, node_at, NULL, "%s is in group %u already", s->node[node].name,
                    f->group[node]);
      f->group[node] = (uint8_t)(g + 1);
    }
  }
  return CDL_OK;
}

static int parse_fault(json_t *o, const char *at, const cdl_sim_scenario *s, cdl_sim_fault *f,
                       cdl_error *err) {
  CDL_TRY(need_object(o, at, NULL, err));
  json_t *kind_v = json_object_get(o, "kind");
  int kind = 0, damage = CDL_SIM_DAMAGE_NONE;
  if (kind_v == NULL) return fail(err, at, "kind", "missing");
  CDL_TRY(enum_of(kind_v, at, "kind", sim_fault_kind_names, 7, &kind, err));
  const sim_fault_form *form = &sim_fault_forms[kind];
  CDL_TRY(only(o, at, form->fields, err));
  memset(f, 0, sizeof *f);
  f->kind = (cdl_sim_fault_kind)kind;
  if (form->window) f->b = s->slots;
  CDL_TRY(read_uints(o, at, FAULT_UINTS, sizeof FAULT_UINTS / sizeof FAULT_UINTS[0], f, err));
  CDL_TRY(get_fraction(o, at, "rate", true, &f->rate, err));
  CDL_TRY(get_enum(o, at, "damage", sim_damage_names, 5, &damage, err));
  f->damage = (cdl_sim_disk_damage)damage;
  CDL_TRY(get_bool(o, at, "lose_record", &f->lose_record, err));
  CDL_TRY(get_name(o, at, "damage_file", f->damage_file, err));
  if (form->node_key != NULL) CDL_TRY(get_node(o, at, form->node_key, s, &f->node, err));
  if (f->kind == CDL_SIM_LINK_DOWN) CDL_TRY(get_node(o, at, "to", s, &f->other, err));
  if (f->kind == CDL_SIM_PARTITION) CDL_TRY(parse_groups(o, at, s, f, err));
  return CDL_OK;
}

static int parse_faults(json_t *v, cdl_sim_scenario *s, cdl_error *err) {
  if (v == NULL) return CDL_OK;
  if (!json_is_array(v)) return fail(err, "faults", NULL, "not a list");
  size_t n = json_array_size(v);
  if (n > CDL_SIM_MAX_FAULTS)
    return fail(err, "faults", NULL, "%zu faults, at most %d", n, CDL_SIM_MAX_FAULTS);
  s->n_faults = n;
  for (size_t i = 0; i < n; i++) {
    char at[PATH_CAP];
    path_index(at, "faults", i);
    CDL_TRY(parse_fault(json_array_get(v, i), at, s, &s->fault[i], err));
  }
  return CDL_OK;
}

/* ---- The scenario ------------------------------------------------------ */

const char *const sim_topology_names[6] = {"mesh", "ring", "line", "star", "random", "relays"};
const char *const sim_broken_names[3] = {"none", "pbft_threshold", "sign_record"};

/* "mesh" ... or {"kind": "random", "degree": D}. */
static int parse_topology(json_t *v, cdl_sim_scenario *s, cdl_error *err) {
  static const char *const FIELDS[] = {"kind", "degree", NULL};
  static const uint_field DEGREE[] = {
      UINT_FIELD("degree", 1, CDL_SIM_MAX_NODES - 1, cdl_sim_scenario, degree)};
  int t = (int)s->topology;
  if (v == NULL) return CDL_OK;
  if (json_is_object(v)) {
    CDL_TRY(only(v, "topology", FIELDS, err));
    if (json_object_get(v, "kind") == NULL) return fail(err, "topology", "kind", "missing");
    CDL_TRY(get_enum(v, "topology", "kind", sim_topology_names, 6, &t, err));
    CDL_TRY(read_uints(v, "topology", DEGREE, 1, s, err));
  } else {
    CDL_TRY(enum_of(v, "", "topology", sim_topology_names, 6, &t, err));
  }
  s->topology = (cdl_sim_topology)t;
  return CDL_OK;
}

static const char *const TOP_FIELDS[] = {
    "name",       "seed",      "k",   "slot_ms", "slots",  "threshold", "genesis_keys", "topology",
    "latency_us", "jitter_us", "txs", "nodes",   "faults", "check",     "broken",       NULL};
static const uint_field TOP_UINTS[] = {
    UINT_FIELD("seed", 0, INT64_MAX, cdl_sim_scenario, seed),
    UINT_FIELD("k", 1, K_MAX, cdl_sim_scenario, k),
    UINT_FIELD("slot_ms", 1, SLOT_MS_MAX, cdl_sim_scenario, slot_ms),
    UINT_FIELD("slots", 1, SLOTS_MAX, cdl_sim_scenario, slots),
    UINT_FIELD("genesis_keys", 0, CDL_SIM_MAX_NODES, cdl_sim_scenario, genesis_keys),
    UINT_FIELD("latency_us", 0, DELAY_US_MAX, cdl_sim_scenario, latency_us),
    UINT_FIELD("jitter_us", 0, DELAY_US_MAX, cdl_sim_scenario, jitter_us),
    UINT_FIELD("txs", 0, TXS_MAX, cdl_sim_scenario, txs)};
static const char *const CHECK_FIELDS[] = {"settle_slots", "growth_window", "growth_min", NULL};
static const uint_field CHECK_UINTS[] = {
    UINT_FIELD("settle_slots", 0, SLOTS_MAX, cdl_sim_scenario, settle_slots),
    UINT_FIELD("growth_window", 0, SLOTS_MAX, cdl_sim_scenario, growth_window),
    UINT_FIELD("growth_min", 0, SLOTS_MAX, cdl_sim_scenario, growth_min)};

static int parse_root(json_t *root, cdl_sim_scenario *s, cdl_error *err) {
  CDL_TRY(need_object(root, "", NULL, err));
  CDL_TRY(only(root, "", TOP_FIELDS, err));
  CDL_TRY(get_name(root, "", "name", s->name, err));
  CDL_TRY(read_uints(root, "", TOP_UINTS, sizeof TOP_UINTS / sizeof TOP_UINTS[0], s, err));
  CDL_TRY(get_fraction(root, "", "threshold", false, &s->threshold, err));
  CDL_TRY(parse_topology(json_object_get(root, "topology"), s, err));
  CDL_TRY(parse_nodes(json_object_get(root, "nodes"), s, err));
  CDL_TRY(parse_faults(json_object_get(root, "faults"), s, err));
  json_t *check = json_object_get(root, "check");
  if (check != NULL) {
    CDL_TRY(need_object(check, "", "check", err));
    CDL_TRY(only(check, "check", CHECK_FIELDS, err));
    CDL_TRY(read_uints(check, "check", CHECK_UINTS, 3, s, err));
  }
  int broken = (int)s->broken;
  CDL_TRY(get_enum(root, "", "broken", sim_broken_names, 3, &broken, err));
  s->broken = (cdl_sim_broken)broken;
  return CDL_OK;
}

int cdl_sim_scenario_parse(const char *json, size_t len, cdl_sim_scenario *s, cdl_error *err) {
  cdl_sim_scenario_default(s);
  if (json == NULL) return fail(err, "", NULL, "no text");
  /* jansson reads past a NUL byte outside strings; JSON has none. */
  const char *nul = memchr(json, '\0', len);
  if (nul != NULL)
    return cdl_error_set(err, CDL_E_JSON, (size_t)(nul - json), "byte %zu: a NUL byte",
                         (size_t)(nul - json));
  json_error_t jerr;
  json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return cdl_error_set(err, CDL_E_JSON, (size_t)jerr.position, "line %d column %d: %s", jerr.line,
                         jerr.column, jerr.text);
  int rc = parse_root(root, s, err);
  json_decref(root);
  return rc != CDL_OK ? rc : cdl_sim_scenario_check(s, err);
}

/* ---- Consistency ------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static int wrong(cdl_error *err, const char *fmt, ...) {
  char why[CDL_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return cdl_error_set(err, CDL_E_USAGE, 0, "%s", why);
}

static bool terminated(const char name[CDL_SIM_NAME_MAX]) {
  return memchr(name, '\0', CDL_SIM_NAME_MAX) != NULL;
}

static int check_numbers(const cdl_sim_scenario *s, cdl_error *err) {
  if (!terminated(s->name)) return wrong(err, "the scenario's name is not terminated");
  if (s->n_nodes < 1 || s->n_nodes > CDL_SIM_MAX_NODES)
    return wrong(err, "%zu nodes, not 1..%d", s->n_nodes, CDL_SIM_MAX_NODES);
  if (s->n_faults > CDL_SIM_MAX_FAULTS)
    return wrong(err, "%zu faults, at most %d", s->n_faults, CDL_SIM_MAX_FAULTS);
  if (s->slots < 1 || s->slots > SLOTS_MAX)
    return wrong(err, "slots %" PRIu64 " not in 1..%u", s->slots, SLOTS_MAX);
  if (s->k < 1 || s->k > K_MAX) return wrong(err, "k %" PRIu64 " not in 1..%u", s->k, K_MAX);
  if (s->slot_ms < 1 || s->slot_ms > SLOT_MS_MAX)
    return wrong(err, "slot_ms %" PRIu32 " not in 1..%u", s->slot_ms, SLOT_MS_MAX);
  if (s->genesis_keys > CDL_SIM_MAX_NODES)
    return wrong(err, "genesis_keys %" PRIu32 " not in 0..%d", s->genesis_keys, CDL_SIM_MAX_NODES);
  if (!(s->threshold >= 0 && s->threshold <= 1))
    return wrong(err, "threshold %g not in (0, 1] (0: automatic)", s->threshold);
  if (s->latency_us > DELAY_US_MAX || s->jitter_us > DELAY_US_MAX)
    return wrong(err, "latency_us and jitter_us are at most %u", DELAY_US_MAX);
  if (s->txs > TXS_MAX) return wrong(err, "txs %zu not in 0..%u", s->txs, TXS_MAX);
  if (s->topology > CDL_SIM_RELAYS) return wrong(err, "unknown topology %d", (int)s->topology);
  if (s->topology == CDL_SIM_RANDOM &&
      (s->degree < 1 || (s->n_nodes > 1 && s->degree >= s->n_nodes)))
    return wrong(err, "a random topology of %zu nodes needs a degree in 1..%zu, not %zu",
                 s->n_nodes, s->n_nodes > 1 ? s->n_nodes - 1 : 1, s->degree);
  if (s->settle_slots > SLOTS_MAX || s->growth_window > SLOTS_MAX || s->growth_min > SLOTS_MAX)
    return wrong(err, "the check's bounds are at most %u", SLOTS_MAX);
  if (s->broken > CDL_SIM_BROKEN_SIGN_RECORD)
    return wrong(err, "unknown broken rule %d", (int)s->broken);
  return CDL_OK;
}

static int check_peers(const cdl_sim_scenario *s, size_t i, cdl_error *err) {
  const cdl_sim_node_spec *n = &s->node[i];
  if (n->n_peers > CDL_SIM_MAX_LINKS_PER_NODE)
    return wrong(err, "nodes[%zu] (%s) has %zu peers, at most %d", i, n->name, n->n_peers,
                 CDL_SIM_MAX_LINKS_PER_NODE);
  for (size_t j = 0; j < n->n_peers; j++) {
    if (n->peers[j] >= s->n_nodes)
      return wrong(err, "nodes[%zu] (%s): peer %zu is no node", i, n->name, n->peers[j]);
    if (n->peers[j] == i) return wrong(err, "nodes[%zu] (%s) peers itself", i, n->name);
    for (size_t m = 0; m < j; m++)
      if (n->peers[m] == n->peers[j])
        return wrong(err, "nodes[%zu] (%s) lists peer %s twice", i, n->name,
                     s->node[n->peers[j]].name);
  }
  return CDL_OK;
}

static int check_node(const cdl_sim_scenario *s, size_t i, cdl_error *err) {
  const cdl_sim_node_spec *n = &s->node[i];
  if (!terminated(n->name)) return wrong(err, "nodes[%zu]: the name is not terminated", i);
  for (size_t j = 0; j < i; j++)
    if (n->name[0] != '\0' && strcmp(n->name, s->node[j].name) == 0)
      return wrong(err, "nodes[%zu] and nodes[%zu] are both named %s", j, i, n->name);
  if (n->role > CDL_SIM_RELAY || n->adversary > CDL_SIM_MISMATCH)
    return wrong(err, "nodes[%zu] (%s): unknown role or adversary", i, n->name);
  if (n->role == CDL_SIM_RELAY && (n->adversary != CDL_SIM_HONEST || n->key != -1))
    return wrong(err, "nodes[%zu] (%s): a relay holds no key and cannot be an adversary", i,
                 n->name);
  if (n->key < -1 || n->key >= CDL_SIM_MAX_NODES)
    return wrong(err, "nodes[%zu] (%s): key %d not in -1..%d", i, n->name, n->key,
                 CDL_SIM_MAX_NODES - 1);
  if (!(n->invalid_rate >= 0 && n->invalid_rate <= 1))
    return wrong(err, "nodes[%zu] (%s): invalid_rate %g not in [0, 1]", i, n->name,
                 n->invalid_rate);
  if (n->join_slot >= s->slots)
    return wrong(err,
                 "nodes[%zu] (%s) joins in slot %" PRIu64 ", after the run's %" PRIu64 " slots", i,
                 n->name, n->join_slot, s->slots);
  int64_t limit = (int64_t)s->slot_ms * (int64_t)s->k;
  if (n->clock_skew_ms <= -limit || n->clock_skew_ms >= limit)
    return wrong(err,
                 "nodes[%zu] (%s): clock skew %" PRId64 " ms is not within slot_ms * k = %" PRId64
                 " ms",
                 i, n->name, n->clock_skew_ms, limit);
  return check_peers(s, i, err);
}

/* A core's key: its own, or its index among cores; at most two nodes a
 * key, within the genesis's keys, and an equivocator's shared. */
static int check_keys(const cdl_sim_scenario *s, cdl_error *err) {
  size_t holders[CDL_SIM_MAX_NODES] = {0}, cores = 0;
  int key_of[CDL_SIM_MAX_NODES];
  for (size_t i = 0; i < s->n_nodes; i++) {
    const cdl_sim_node_spec *n = &s->node[i];
    key_of[i] = -1;
    if (n->role != CDL_SIM_CORE) continue;
    key_of[i] = n->key >= 0 ? n->key : (int)cores;
    cores++;
    if (s->genesis_keys != 0 && (uint32_t)key_of[i] >= s->genesis_keys)
      return wrong(err, "nodes[%zu] (%s) holds key %d, but the genesis has %" PRIu32 " keys", i,
                   n->name, key_of[i], s->genesis_keys);
    if (++holders[key_of[i]] > 2)
      return wrong(err, "key %d is held by more than 2 nodes (nodes[%zu], %s, is the third)",
                   key_of[i], i, n->name);
  }
  if (cores == 0) return wrong(err, "no core node: nobody forges");
  for (size_t i = 0; i < s->n_nodes; i++)
    if (s->node[i].adversary == CDL_SIM_EQUIVOCATOR && holders[key_of[i]] < 2)
      return wrong(err, "nodes[%zu] (%s) is an equivocator, but no other core holds its key %d", i,
                   s->node[i].name, key_of[i]);
  return CDL_OK;
}

static int check_fault(const cdl_sim_scenario *s, size_t i, cdl_error *err) {
  const cdl_sim_fault *f = &s->fault[i];
  if (f->kind > CDL_SIM_DROP) return wrong(err, "faults[%zu]: unknown kind %d", i, (int)f->kind);
  const char *kind = sim_fault_kind_names[f->kind];
  bool windowed = sim_fault_forms[f->kind].window;
  if (sim_fault_forms[f->kind].node_key != NULL && f->node >= s->n_nodes)
    return wrong(err, "faults[%zu] (%s): node %zu is no node", i, kind, f->node);
  if (f->kind == CDL_SIM_LINK_DOWN && (f->other >= s->n_nodes || f->other == f->node))
    return wrong(err, "faults[%zu] (%s): the link's other end %zu is no other node", i, kind,
                 f->other);
  if (f->a >= s->slots)
    return wrong(err,
                 "faults[%zu] (%s) starts in slot %" PRIu64 ", after the run's %" PRIu64 " slots",
                 i, kind, f->a, s->slots);
  if ((windowed || (f->kind == CDL_SIM_CRASH && f->b != 0)) && f->b <= f->a)
    return wrong(err, "faults[%zu] (%s) ends in slot %" PRIu64 ", not after its start %" PRIu64, i,
                 kind, f->b, f->a);
  if (f->at_ms >= s->slot_ms || (f->kind == CDL_SIM_CRASH && f->damage > CDL_SIM_DAMAGE_WIPE))
    return wrong(err,
                 "faults[%zu] (%s): at_ms %" PRIu32 " not within the %" PRIu32
                 " ms slot, or unknown damage",
                 i, kind, f->at_ms, s->slot_ms);
  if (!(f->rate >= 0 && f->rate <= 1))
    return wrong(err, "faults[%zu] (%s): rate %g not in [0, 1]", i, kind, f->rate);
  for (size_t n = 0; f->kind == CDL_SIM_PARTITION && n < s->n_nodes; n++)
    if (f->group[n] >= CDL_SIM_MAX_GROUPS)
      return wrong(err, "faults[%zu] (%s): group %u of %s not below %d", i, kind, f->group[n],
                   s->node[n].name, CDL_SIM_MAX_GROUPS);
  return CDL_OK;
}

int cdl_sim_scenario_check(const cdl_sim_scenario *s, cdl_error *err) {
  CDL_TRY(check_numbers(s, err));
  for (size_t i = 0; i < s->n_nodes; i++) CDL_TRY(check_node(s, i, err));
  CDL_TRY(check_keys(s, err));
  for (size_t i = 0; i < s->n_faults; i++) CDL_TRY(check_fault(s, i, err));
  return CDL_OK;
}
