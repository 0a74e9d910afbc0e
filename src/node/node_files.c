/*
 * node_files.c: config.json and topology.json as cardano-node writes them
 * (include/cardinal/node_files.h; docs/node.md "Configuration").
 *
 * config.json keys read: ByronGenesisFile, ByronGenesisHash,
 * RequiresNetworkMagic, PBftSignatureThreshold, MempoolCapacityBytesOverride
 * (a number or "NoOverride"), MinSeverity, Protocol (RealPBFT or Byron when
 * present), LastKnownBlockVersion-Major/-Minor/-Alt, ApplicationName,
 * ApplicationVersion, hasPrometheus ([host, port]: the metrics endpoint)
 * and Cardinal's MempoolTTLSlots. Other keys (tracing, the
 * Shelley genesis...) are ignored, so a cardano-node file for a Byron
 * network can be used as it is. topology.json: {"Producers": [{"addr",
 * "port", "valency"}]} (each entry a group of one address), or
 * {"localRoots": [{"accessPoints": [{"address", "port"}], "valency" or
 * "hotValency"}], "publicRoots": [{"accessPoints": [...]}]} (each public
 * root a group wanting all of its addresses).
 */
#include "cardinal/node_files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int bad(cdl_error *err, const char *path, const char *field, const char *why) {
  return cdl_error_set(err, CDL_E_JSON, 0, "%s: %s %s", path, field, why);
}

static int load(const char *path, json_t **root, cdl_error *err) {
  json_error_t jerr;
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return cdl_error_set(err, CDL_E_IO, 0, "cannot read %s: not a regular file", path);
  *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  /* A file that is missing or unreadable is the operator's I/O problem
   * (exit 3), not malformed JSON: say which path could not be opened. */
  if (*root == NULL && json_error_code(&jerr) == json_error_cannot_open_file)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: %s", path, strerror(errno));
  if (*root == NULL)
    return cdl_error_set(err, CDL_E_JSON, 0, "%s: line %d: %s", path, jerr.line, jerr.text);
  if (!json_is_object(*root)) {
    json_decref(*root);
    return bad(err, path, "the file", "is not a JSON object");
  }
  return CDL_OK;
}

static int read_genesis_file(const char *path, json_t *v, cdl_node_file_config *c, cdl_error *err) {
  if (!json_is_string(v)) return bad(err, path, "ByronGenesisFile", "is missing or not a string");
  const char *file = json_string_value(v), *slash = strrchr(path, '/');
  int dir_len = file[0] != '/' && slash ? (int)(slash - path + 1) : 0;
  int n = snprintf(c->genesis_file, sizeof c->genesis_file, "%.*s%s", dir_len, path, file);
  if (n < 0 || (size_t)n >= sizeof c->genesis_file)
    return bad(err, path, "ByronGenesisFile", "is too long");
  return CDL_OK;
}

static int read_hash(const char *path, json_t *v, cdl_node_file_config *c, cdl_error *err) {
  if (v == NULL) return CDL_OK;
  const char *h = json_string_value(v);
  size_t got = 0;
  cdl_error scratch = {0};
  if (h == NULL || strlen(h) != 64 ||
      cdl_hex_decode(h, 64, c->genesis_hash, 32, &got, &scratch) != CDL_OK || got != 32)
    return bad(err, path, "ByronGenesisHash", "is not 64 hex digits");
  c->has_genesis_hash = true;
  return CDL_OK;
}

static int read_magic_policy(const char *path, json_t *v, cdl_node_file_config *c, cdl_error *err) {
  c->requires_magic = -1;
  if (v == NULL) return CDL_OK;
  const char *s = json_string_value(v);
  if (s && strcmp(s, "RequiresMagic") == 0) return c->requires_magic = 1, CDL_OK;
  if (s && strcmp(s, "RequiresNoMagic") == 0) return c->requires_magic = 0, CDL_OK;
  return bad(err, path, "RequiresNetworkMagic", "is not RequiresMagic or RequiresNoMagic");
}

static int read_numbers(const char *path, json_t *root, cdl_node_file_config *c, cdl_error *err) {
  json_t *t = json_object_get(root, "PBftSignatureThreshold");
  if (t != NULL) {
    if (!json_is_number(t) || json_number_value(t) <= 0 || json_number_value(t) > 1)
      return bad(err, path, "PBftSignatureThreshold", "is not a number in (0, 1]");
    c->pbft_threshold = json_number_value(t);
  }
  json_t *cap = json_object_get(root, "MempoolCapacityBytesOverride");
  bool no_override = json_is_string(cap) && strcmp(json_string_value(cap), "NoOverride") == 0;
  if (cap != NULL && !no_override) {
    if (!json_is_integer(cap) || json_integer_value(cap) <= 0)
      return bad(err, path, "MempoolCapacityBytesOverride", "is not a positive integer");
    c->mempool_capacity = (uint64_t)json_integer_value(cap);
  }
  json_t *ttl = json_object_get(root, "MempoolTTLSlots");
  if (ttl != NULL) {
    if (!json_is_integer(ttl) || json_integer_value(ttl) < 0)
      return bad(err, path, "MempoolTTLSlots", "is not a non-negative integer");
    c->mempool_ttl = (uint64_t)json_integer_value(ttl);
  }
  return CDL_OK;
}

/* cardano-node's severity names, as `--log-level` takes them
 * (src/base/log.c). */
static int read_severity(const char *path, json_t *v, cdl_node_file_config *c, cdl_error *err) {
  c->min_severity = CDL_LOG_INFO;
  if (v == NULL) return CDL_OK;
  if (json_is_string(v) && cdl_log_level_parse(json_string_value(v), &c->min_severity))
    return CDL_OK;
  return bad(err, path, "MinSeverity",
             "is not a severity (Debug, Info, Notice, Warning, Error, Critical)");
}

/* cardano-node's DiffusionMode: InitiatorOnly (no listener, every
 * handshake initiator-only) or InitiatorAndResponder, the default. */
static int read_diffusion_mode(const char *path, json_t *v, cdl_node_file_config *c,
                               cdl_error *err) {
  if (v == NULL) return CDL_OK;
  const char *s = json_string_value(v);
  if (s && strcmp(s, "InitiatorAndResponder") == 0) return c->initiator_only = false, CDL_OK;
  if (s && strcmp(s, "InitiatorOnly") == 0) return c->initiator_only = true, CDL_OK;
  return bad(err, path, "DiffusionMode", "is not InitiatorOnly or InitiatorAndResponder");
}

/* cardano-node's hasPrometheus, ["127.0.0.1", 12798]: where the metrics
 * endpoint listens. The listener is IPv4 (src/io/metrics_http.c), so the
 * host must be an IPv4 address; port 0 would mean "any port", which no
 * scraper could find, so it is refused. */
static int read_prometheus(const char *path, json_t *v, cdl_node_file_config *c, cdl_error *err) {
  if (v == NULL) return CDL_OK;
  const char *host = json_string_value(json_array_get(v, 0));
  json_t *port = json_array_get(v, 1);
  struct in_addr scratch;
  if (!json_is_array(v) || json_array_size(v) != 2 || host == NULL ||
      strlen(host) >= sizeof c->prometheus_host || inet_pton(AF_INET, host, &scratch) != 1)
    return bad(err, path, "hasPrometheus", "is not [\"IPv4 address\", port]");
  if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)
    return bad(err, path, "hasPrometheus", "has a port that is not an integer in 1..65535");
  snprintf(c->prometheus_host, sizeof c->prometheus_host, "%s", host);
  c->prometheus_port = (uint16_t)json_integer_value(port);
  return CDL_OK;
}

/* An integer field in 0..max; *present says whether it is there. */
static int read_bounded(const char *path, json_t *root, const char *field, uint64_t max,
                        bool *present, uint64_t *out, cdl_error *err) {
  json_t *v = json_object_get(root, field);
  *present = v != NULL;
  if (v == NULL) return CDL_OK;
  if (json_is_integer(v) && json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) <= max) {
    *out = (uint64_t)json_integer_value(v);
    return CDL_OK;
  }
  return cdl_error_set(err, CDL_E_JSON, 0, "%s: %s is not an integer in 0..%llu", path, field,
                       (unsigned long long)max);
}

/* ApplicationName: ASCII of at most 12 (cardano-ledger checkApplicationName;
 * the JSON parser refuses a NUL in it); "cardano-sl" when absent, as
 * cardano-node. */
static int read_app_name(const char *path, json_t *v, cdl_forge_versions *fv, cdl_error *err) {
  const char *name = v == NULL ? "cardano-sl" : json_string_value(v);
  bool ok = name != NULL && strlen(name) <= CDL_FORGE_APP_NAME_MAX;
  for (size_t i = 0; ok && name[i] != '\0'; i++) ok = (unsigned char)name[i] < 0x80;
  if (!ok) return bad(err, path, "ApplicationName", "is not ASCII text of at most 12 characters");
  snprintf(fv->app_name, sizeof fv->app_name, "%s", name);
  return CDL_OK;
}

/* The versions a core node's headers announce. cardano-node requires
 * LastKnownBlockVersion-Major and -Minor; without both, Cardinal announces
 * the adopted version (it endorses nothing). Alt defaults to 0, the
 * software version to cardano-sl 1, as cardano-node's. */
static int read_versions(const char *path, json_t *root, cdl_forge_versions *fv, cdl_error *err) {
  static const char *const KEY[] = {"LastKnownBlockVersion-Major", "LastKnownBlockVersion-Minor",
                                    "LastKnownBlockVersion-Alt", "ApplicationVersion"};
  static const uint64_t MAX[] = {UINT16_MAX, UINT16_MAX, UINT8_MAX, UINT32_MAX};
  bool has[4];
  uint64_t value[4] = {0, 0, 0, 1};
  for (int i = 0; i < 4; i++)
    CDL_TRY(read_bounded(path, root, KEY[i], MAX[i], &has[i], &value[i], err));
  if (has[0] != has[1])
    return bad(err, path, KEY[has[0] ? 1 : 0],
               "is missing (the block version needs -Major and -Minor)");
  if (has[2] && !has[0])
    return bad(err, path, KEY[2], "is given without -Major and -Minor");
  fv->has_block_version = has[0];
  fv->block_version =
      (cdl_byron_version){(uint16_t)value[0], (uint16_t)value[1], (uint8_t)value[2]};
  fv->has_software_version = true;
  fv->app_version = (uint32_t)value[3];
  return read_app_name(path, json_object_get(root, "ApplicationName"), fv, err);
}

static int read_config(const char *path, json_t *root, cdl_node_file_config *c, cdl_error *err) {
  json_t *proto = json_object_get(root, "Protocol");
  const char *p = json_string_value(proto);
  if (proto != NULL && (p == NULL || (strcmp(p, "RealPBFT") != 0 && strcmp(p, "Byron") != 0)))
    return bad(err, path, "Protocol", "is not RealPBFT or Byron (Cardinal runs Byron only)");
  int rc = read_genesis_file(path, json_object_get(root, "ByronGenesisFile"), c, err);
  if (rc == CDL_OK) rc = read_hash(path, json_object_get(root, "ByronGenesisHash"), c, err);
  if (rc == CDL_OK)
    rc = read_magic_policy(path, json_object_get(root, "RequiresNetworkMagic"), c, err);
  if (rc == CDL_OK) rc = read_numbers(path, root, c, err);
  if (rc == CDL_OK) rc = read_severity(path, json_object_get(root, "MinSeverity"), c, err);
  if (rc == CDL_OK)
    rc = read_diffusion_mode(path, json_object_get(root, "DiffusionMode"), c, err);
  if (rc == CDL_OK) rc = read_versions(path, root, &c->versions, err);
  if (rc == CDL_OK) rc = read_prometheus(path, json_object_get(root, "hasPrometheus"), c, err);
  return rc;
}

int cdl_node_config_read(const char *path, cdl_node_file_config *out, cdl_error *err) {
  memset(out, 0, sizeof *out);
  json_t *root;
  int rc = load(path, &root, err);
  if (rc != CDL_OK) return rc;
  rc = read_config(path, root, out, err);
  json_decref(root);
  return rc;
}

void cdl_node_config_db_options(const cdl_node_file_config *c, cdl_db_dir_options *o) {
  o->genesis = c->genesis_file;
  o->genesis_hash = c->has_genesis_hash ? c->genesis_hash : NULL;
  o->pbft_threshold = c->pbft_threshold;
  /* The config's 1, 0 or -1 (absent) into the options' 1, -1 or 0. */
  o->requires_magic = c->requires_magic == 1 ? 1 : c->requires_magic == 0 ? -1 : 0;
}

/* ---- topology.json ---- */

static int read_port(const char *path, json_t *v, uint16_t *port, cdl_error *err) {
  if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
    return bad(err, path, "port", "is not an integer in 1..65535");
  *port = (uint16_t)json_integer_value(v);
  return CDL_OK;
}

static int add_peer(const char *path, cdl_peers *ps, size_t group, json_t *host, json_t *port,
                    cdl_error *err) {
  uint16_t p = 0;
  if (!json_is_string(host) || json_string_length(host) == 0)
    return bad(err, path, "address", "is missing or not a string");
  if (read_port(path, port, &p, err) != CDL_OK) return CDL_E_JSON;
  if (cdl_peers_add(ps, group, json_string_value(host), p) != CDL_OK)
    return bad(err, path, "the peer list", "has too many peers or too long a name");
  return CDL_OK;
}

static int read_valency(const char *path, json_t *entry, size_t dflt, size_t *out, cdl_error *err) {
  json_t *v = json_object_get(entry, "valency");
  if (v == NULL) v = json_object_get(entry, "hotValency");
  *out = dflt;
  if (v == NULL) return CDL_OK;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > CDL_PEERS_MAX)
    return bad(err, path, "valency", "is not an integer in 0..64");
  *out = (size_t)json_integer_value(v);
  return CDL_OK;
}

static int read_producers(const char *path, json_t *list, cdl_peers *ps, cdl_error *err) {
  if (!json_is_array(list)) return bad(err, path, "Producers", "is not a list");
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i);
    size_t valency, group;
    if (!json_is_object(e)) return bad(err, path, "Producers", "holds a non-object");
    if (read_valency(path, e, 1, &valency, err) != CDL_OK) return CDL_E_JSON;
    if (cdl_peers_add_group(ps, valency > 1 ? 1 : valency, &group) != CDL_OK)
      return bad(err, path, "Producers", "has too many entries");
    int rc = add_peer(path, ps, group, json_object_get(e, "addr"), json_object_get(e, "port"), err);
    if (rc != CDL_OK) return rc;
  }
  return CDL_OK;
}

/* localRoots (valency from the entry) or publicRoots (all of them). */
static int read_roots(const char *path, json_t *list, bool local, cdl_peers *ps, cdl_error *err) {
  if (list == NULL) return CDL_OK;
  if (!json_is_array(list))
    return bad(err, path, local ? "localRoots" : "publicRoots", "is not a list");
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i), *aps = json_object_get(e, "accessPoints");
    if (!json_is_array(aps)) return bad(err, path, "accessPoints", "is missing or not a list");
    size_t valency = json_array_size(aps), group;
    if (local && read_valency(path, e, valency, &valency, err) != CDL_OK) return CDL_E_JSON;
    if (cdl_peers_add_group(ps, valency, &group) != CDL_OK)
      return bad(err, path, "the roots", "have too many groups");
    for (size_t k = 0; k < json_array_size(aps); k++) {
      json_t *ap = json_array_get(aps, k);
      int rc = add_peer(path, ps, group, json_object_get(ap, "address"),
                        json_object_get(ap, "port"), err);
      if (rc != CDL_OK) return rc;
    }
  }
  return CDL_OK;
}

int cdl_node_topology_read(const char *path, cdl_peers *ps, cdl_error *err) {
  cdl_peers_init(ps);
  json_t *root;
  int rc = load(path, &root, err);
  if (rc != CDL_OK) return rc;
  json_t *producers = json_object_get(root, "Producers");
  if (producers != NULL) {
    rc = read_producers(path, producers, ps, err);
  } else {
    rc = read_roots(path, json_object_get(root, "localRoots"), true, ps, err);
    if (rc == CDL_OK) rc = read_roots(path, json_object_get(root, "publicRoots"), false, ps, err);
  }
  json_decref(root);
  return rc;
}
