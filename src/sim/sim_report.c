/*
 * sim_report.c: a simulator run's report as one JSON object
 * (include/cardinal/sim.h; docs/simulation.md "The report"). Keys sorted,
 * compact, no floating point and nothing from outside the report, so that
 * the same report gives the same bytes: runs are compared by it.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/sim.h"

static const char *const PROPERTY_NAMES[CDL_SIM_PROP_COUNT] = {
    [CDL_SIM_PROP_COMMON_PREFIX] = "common_prefix",
    [CDL_SIM_PROP_CONVERGENCE] = "convergence",
    [CDL_SIM_PROP_CHAIN_GROWTH] = "chain_growth",
    [CDL_SIM_PROP_NO_INVALID_ADOPTED] = "no_invalid_adopted",
    [CDL_SIM_PROP_NO_DOUBLE_SIGN] = "no_double_sign",
    [CDL_SIM_PROP_TXS_ONCE] = "txs_once",
    [CDL_SIM_PROP_DURABILITY] = "durability",
    [CDL_SIM_PROP_RESOURCES] = "resources",
    [CDL_SIM_PROP_FORGE_REASONS] = "forge_reasons"};

const char *cdl_sim_property_name(cdl_sim_property p) {
  return (unsigned)p < CDL_SIM_PROP_COUNT ? PROPERTY_NAMES[p] : "unknown";
}

/* Text of at most |cap| bytes; bytes that do not make UTF-8 (a message
 * cut inside a character) become '?' rather than losing the field. */
static json_t *text(const char *s, size_t cap) {
  const char *end = memchr(s, '\0', cap);
  size_t len = end ? (size_t)(end - s) : cap;
  json_t *j = json_stringn(s, len);
  if (j != NULL) return j;
  char copy[256];
  if (len >= sizeof copy) len = sizeof copy - 1;
  for (size_t i = 0; i < len; i++) copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
  return json_stringn(copy, len);
}

static json_t *tip_json(const cdl_sim_node_report *n) {
  if (!n->has_tip) return json_null();
  return json_pack("{s:o,s:o,s:o}", "block_no", cdl_json_u64(n->tip.block_no), "slot",
                   cdl_json_u64(n->tip.slot), "hash", cdl_json_hex(n->tip.hash, 32));
}

#define COUNTER(member) \
  { #member, offsetof(cdl_sim_node_report, member) }
static const struct {
  const char *name;
  size_t offset;
} NODE_COUNTERS[] = {
    COUNTER(forged),           COUNTER(ebbs_forged),   COUNTER(adopted),
    COUNTER(invalid_received), COUNTER(forge_skipped), COUNTER(double_sign_refused),
    COUNTER(record_failures),  COUNTER(own_refused),   COUNTER(rollbacks),
    COUNTER(rollback_max),     COUNTER(restarts),      COUNTER(dials),
    COUNTER(connections),      COUNTER(suspended),     COUNTER(txs_submitted),
    COUNTER(fs_refused),       COUNTER(lost_blocks)};

static json_t *node_json(const cdl_sim_node_report *n) {
  json_t *j = json_pack("{s:o,s:b,s:o}", "name", text(n->name, sizeof n->name), "honest", n->honest,
                        "tip", tip_json(n));
  for (size_t i = 0; j != NULL && i < sizeof NODE_COUNTERS / sizeof NODE_COUNTERS[0]; i++) {
    uint64_t v;
    memcpy(&v, (const uint8_t *)n + NODE_COUNTERS[i].offset, sizeof v);
    json_object_set_new(j, NODE_COUNTERS[i].name, cdl_json_u64(v));
  }
  return j;
}

static json_t *properties_json(const cdl_sim_report *rep) {
  json_t *j = json_object();
  for (int p = 0; j != NULL && p < CDL_SIM_PROP_COUNT; p++) {
    const cdl_sim_verdict *v = &rep->property[p];
    json_t *verdict = v->held ? json_pack("{s:b}", "held", 1)
                              : json_pack("{s:b,s:o,s:o}", "held", 0, "slot", cdl_json_u64(v->slot),
                                          "why", text(v->why, sizeof v->why));
    json_object_set_new(j, PROPERTY_NAMES[p], verdict);
  }
  return j;
}

static json_t *report_json(const cdl_sim_report *rep) {
  size_t n = rep->n_nodes < CDL_SIM_MAX_NODES ? rep->n_nodes : CDL_SIM_MAX_NODES;
  json_t *nodes = json_array();
  for (size_t i = 0; nodes != NULL && i < n; i++)
    json_array_append_new(nodes, node_json(&rep->node[i]));
  json_t *j = json_pack(
      "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "scenario", text(rep->scenario, sizeof rep->scenario),
      "seed", cdl_json_u64(rep->seed), "slots", cdl_json_u64(rep->slots), "events",
      cdl_json_u64(rep->events), "deliveries", cdl_json_u64(rep->deliveries), "bytes",
      cdl_json_u64(rep->bytes), "digest", cdl_json_hex(rep->digest, 32), "ok", rep->ok);
  if (j == NULL) {
    json_decref(nodes);
    return NULL;
  }
  json_object_set_new(j, "common_block_no", cdl_json_u64(rep->common_block_no));
  json_object_set_new(j, "main_blocks", cdl_json_u64(rep->main_blocks));
  json_object_set_new(j, "equivocations", cdl_json_u64(rep->equivocations));
  json_object_set_new(j, "invalid_forged", cdl_json_u64(rep->invalid_forged));
  json_object_set_new(j, "txs",
                      json_pack("{s:o,s:o}", "submitted", cdl_json_u64(rep->txs_submitted),
                                "included", cdl_json_u64(rep->txs_included)));
  json_object_set_new(j, "convergence_slot", cdl_json_u64(rep->convergence_slot));
  json_object_set_new(j, "nodes", nodes);
  json_object_set_new(j, "properties", properties_json(rep));
  return j;
}

void cdl_sim_report_json(const cdl_sim_report *rep, cdl_buf *out) {
  json_t *j = report_json(rep);
  char *dump = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
  json_decref(j);
  /* Out of memory: nothing appended, and the buffer says it failed. */
  if (dump == NULL || cdl_buf_append(out, dump, strlen(dump)) != CDL_OK) out->failed = true;
  free(dump);
}
