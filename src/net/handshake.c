/*
 * handshake.c: the handshake, protocol 0: its messages, version data, and
 * the server's negotiation (include/cardinal/net.h "Handshake"; CDDL
 * handshake-node-to-node-v14.cddl, handshake-node-to-client.cddl;
 * ouroboros-network Handshake/Codec.hs and Server.hs, NodeToNode/Version.hs
 * acceptableVersion, NodeToClient/Version.hs).
 *
 * A version table is a map from version number to that version's data.
 * As in the Haskell codec, the data stays raw until a version is chosen,
 * so a version we do not know, or bad data for one we do not pick, never
 * fails a handshake. Only versions we could ever speak are kept (a hostile
 * table cannot make us store much); the rest are counted.
 */
#include <string.h>

#include "cardinal/wire.h"

cdl_hs_config cdl_hs_node_to_node(uint32_t magic, bool initiator_only) {
  return (cdl_hs_config){.node_to_client = false,
                         .min_version = CDL_N2N_VERSION_MIN,
                         .max_version = CDL_N2N_VERSION_MAX,
                         .data = {.magic = magic, .initiator_only = initiator_only}};
}

cdl_hs_config cdl_hs_node_to_client(uint32_t magic) {
  return (cdl_hs_config){.node_to_client = true,
                         .min_version = CDL_N2C_VERSION_MIN,
                         .max_version = CDL_N2C_VERSION_MAX,
                         .data = {.magic = magic}};
}

static bool n2c_number(uint32_t v) { return (v & CDL_HS_N2C_BIT) != 0; }

bool cdl_hs_known(uint32_t v) {
  uint32_t n = v & ~(uint32_t)CDL_HS_N2C_BIT;
  return n2c_number(v) ? n >= 9 && n <= 23 : n >= 7 && n <= 16;
}

/* Fields of a version's data: a bare magic is 0. */
static size_t data_fields(uint32_t v) {
  uint32_t n = v & ~(uint32_t)CDL_HS_N2C_BIT;
  if (n2c_number(v)) return n >= 15 ? 2 : 0;
  return n <= 10 ? 2 : n <= 15 ? 4 : 5;
}

int cdl_hs_decode_data(uint32_t v, cdl_span raw, cdl_hs_data *d, cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, raw.ptr, raw.len, err);
  memset(d, 0, sizeof *d);
  size_t fields = data_fields(v);
  uint64_t magic = 0, sharing = 0;
  int rc = fields ? cdl_cbor_expect_array(&cur, fields, "version data") : CDL_OK;
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(&cur, UINT32_MAX, &magic, "network magic");
  bool n2c = n2c_number(v);
  if (rc == CDL_OK && fields >= 2)
    rc = cdl_cbor_read_bool(&cur, n2c ? &d->query : &d->initiator_only,
                            n2c ? "query" : "initiator only");
  uint32_t n = v & ~(uint32_t)CDL_HS_N2C_BIT;
  if (rc == CDL_OK && fields >= 4)
    rc = cdl_cbor_read_uint_max(&cur, n <= 12 ? 2 : 1, &sharing, "peer sharing");
  if (rc == CDL_OK && fields >= 4) rc = cdl_cbor_read_bool(&cur, &d->query, "query");
  bool peras;
  if (rc == CDL_OK && fields >= 5) rc = cdl_cbor_read_bool(&cur, &peras, "peras support");
  if (rc == CDL_OK) rc = cdl_cbor_expect_end(&cur, "version data");
  d->magic = (uint32_t)magic;
  d->peer_sharing = (uint8_t)sharing;
  return rc;
}

void cdl_hs_encode_data(cdl_buf *b, uint32_t v, const cdl_hs_data *d) {
  size_t fields = data_fields(v);
  if (fields) cdl_cbor_enc_array(b, fields);
  cdl_cbor_enc_uint(b, d->magic);
  if (fields == 0) return;
  if (n2c_number(v)) {
    cdl_cbor_enc_bool(b, d->query);
    return;
  }
  cdl_cbor_enc_bool(b, d->initiator_only);
  if (fields < 4) return;
  cdl_cbor_enc_uint(b, d->peer_sharing);
  cdl_cbor_enc_bool(b, d->query);
  if (fields == 5) cdl_cbor_enc_bool(b, false); /* no Peras */
}

/* ---- Messages ---------------------------------------------------------------
 */

static int keep_version(cdl_cbor_cursor *cur, cdl_hs_msg *m, uint32_t v, cdl_span data) {
  if (!cdl_hs_known(v)) {
    m->n_unknown++;
    return CDL_OK;
  }
  for (size_t i = 0; i < m->n_versions; i++)
    if (m->versions[i].number == v)
      return cdl_cbor_fail(cur, CDL_E_MAP_ORDER, "handshake: version %u twice", (unsigned)v);
  m->versions[m->n_versions++] = (cdl_hs_version){v, data};
  return CDL_OK;
}

static int read_table(cdl_cbor_cursor *cur, cdl_hs_msg *m) {
  size_t n;
  int rc = cdl_cbor_read_map(cur, &n, "version table");
  for (size_t i = 0; i < n && rc == CDL_OK; i++) {
    uint64_t v;
    cdl_span data;
    rc = cdl_cbor_read_uint(cur, &v, "version number");
    if (rc == CDL_OK) rc = cdl_cbor_skip(cur, &data);
    if (rc == CDL_OK && v <= UINT32_MAX)
      rc = keep_version(cur, m, (uint32_t)v, data);
    else if (rc == CDL_OK)
      m->n_unknown++;
  }
  return rc;
}

static int read_refuse(cdl_cbor_cursor *cur, cdl_hs_msg *m) {
  size_t fields, n;
  uint64_t reason, v = 0;
  int rc = cdl_cbor_read_array(cur, &fields, "refuse reason");
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(cur, 2, &reason, "refuse reason");
  if (rc != CDL_OK) return rc;
  m->reason = (uint8_t)reason;
  if (fields != (reason == 0 ? 2u : 3u))
    return cdl_cbor_fail(cur, CDL_E_TYPE, "refuse reason %u: %zu fields", m->reason, fields);
  if (reason != 0) {
    rc = cdl_cbor_read_uint_max(cur, UINT32_MAX, &v, "refused version");
    if (rc == CDL_OK) rc = cdl_cbor_read_text(cur, &m->text, "refuse text");
    m->version = (uint32_t)v;
    return rc;
  }
  rc = cdl_cbor_read_array(cur, &n, "versions");
  for (size_t i = 0; i < n && rc == CDL_OK; i++) {
    rc = cdl_cbor_read_uint_max(cur, UINT32_MAX, &v, "version number");
    if (rc == CDL_OK) rc = keep_version(cur, m, (uint32_t)v, cdl_span_of(NULL, 0));
  }
  return rc;
}

static const uint8_t FIELDS[] = {2, 3, 2, 2};
static const char *const NAMES[] = {"MsgProposeVersions", "MsgAcceptVersion", "MsgRefuse",
                                    "MsgQueryReply"};
static const cdl_net_shape SHAPE = {"handshake", NAMES, FIELDS, 4};

int cdl_hs_decode(const uint8_t *p, size_t n, cdl_hs_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  uint64_t v;
  switch (m->kind) {
    case CDL_HS_PROPOSE:
    case CDL_HS_QUERY_REPLY:
      rc = read_table(&cur, m);
      break;
    case CDL_HS_ACCEPT:
      rc = cdl_cbor_read_uint_max(&cur, UINT32_MAX, &v, "accepted version");
      m->version = (uint32_t)v;
      if (rc == CDL_OK) rc = cdl_cbor_skip(&cur, &m->data);
      break;
    default:
      rc = read_refuse(&cur, m);
      break;
  }
  return cdl_net_close_message(&cur, rc, NAMES[m->kind]);
}

/* Our table: every version of ours from the highest down (map keys must
 * ascend on the wire, so they are written from the lowest). */
static void encode_table(cdl_buf *b, const cdl_hs_config *cfg) {
  uint32_t bit = cfg->node_to_client ? CDL_HS_N2C_BIT : 0;
  cdl_cbor_enc_map(b, cfg->max_version - cfg->min_version + 1);
  for (uint32_t n = cfg->min_version; n <= cfg->max_version; n++) {
    cdl_cbor_enc_uint(b, n | bit);
    cdl_hs_encode_data(b, n | bit, &cfg->data);
  }
}

void cdl_hs_encode(cdl_buf *b, const cdl_hs_msg *m) {
  cdl_net_enc_head(b, &SHAPE, m->kind);
  bool table = m->kind == CDL_HS_PROPOSE || m->kind == CDL_HS_QUERY_REPLY;
  if (table) cdl_cbor_enc_map(b, m->n_versions);
  for (size_t i = 0; table && i < m->n_versions; i++) {
    cdl_cbor_enc_uint(b, m->versions[i].number);
    cdl_cbor_enc_raw(b, m->versions[i].data);
  }
  if (m->kind == CDL_HS_ACCEPT) {
    cdl_cbor_enc_uint(b, m->version);
    cdl_cbor_enc_raw(b, m->data);
  }
  if (m->kind != CDL_HS_REFUSE) return;
  cdl_cbor_enc_array(b, m->reason == CDL_HS_VERSION_MISMATCH ? 2 : 3);
  cdl_cbor_enc_uint(b, m->reason);
  if (m->reason == CDL_HS_VERSION_MISMATCH) {
    cdl_cbor_enc_array(b, m->n_versions);
    for (size_t i = 0; i < m->n_versions; i++) cdl_cbor_enc_uint(b, m->versions[i].number);
    return;
  }
  cdl_cbor_enc_uint(b, m->version);
  cdl_cbor_enc_text(b, m->text.ptr, m->text.len);
}

void cdl_hs_encode_propose(cdl_buf *b, const cdl_hs_config *cfg) {
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, CDL_HS_PROPOSE);
  encode_table(b, cfg);
}
