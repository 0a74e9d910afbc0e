/*
 * handshake_negotiate.c: choosing a version, for both sides (include/
 * cardinal/net.h "Handshake"; network spec "Handshake: client and server
 * implementation"; ouroboros-network Handshake/Server.hs, and the
 * acceptable-version rules of NodeToNode/Version.hs, NodeToClient/Version.hs).
 *
 * Server: the highest version both sides have; its data must decode
 * (else refuse with a decode error) and the network magics must agree
 * (else refuse). The agreed data: initiator-only if either side is, peer
 * sharing only if both want it, query if either asks. A query is answered
 * with our whole table, and the connection then ends.
 */
#include <stdio.h>
#include <string.h>

#include "cardinal/wire.h"

static bool ours(const cdl_hs_config *cfg, uint32_t v) {
  uint32_t bit = cfg->node_to_client ? CDL_HS_N2C_BIT : 0;
  if ((v & CDL_HS_N2C_BIT) != bit) return false;
  uint32_t n = v & ~(uint32_t)CDL_HS_N2C_BIT;
  return n >= cfg->min_version && n <= cfg->max_version;
}

static cdl_hs_data agree(const cdl_hs_data *local, const cdl_hs_data *remote) {
  cdl_hs_data d = *local;
  d.initiator_only = local->initiator_only || remote->initiator_only;
  d.peer_sharing = local->peer_sharing && remote->peer_sharing ? local->peer_sharing : 0;
  d.query = local->query || remote->query;
  return d;
}

static void encode_refuse_text(cdl_buf *b, uint8_t reason, uint32_t v, const char *text) {
  cdl_hs_msg m = {.kind = CDL_HS_REFUSE,
                  .reason = reason,
                  .version = v,
                  .text = cdl_span_of((const uint8_t *)text, strlen(text))};
  cdl_hs_encode(b, &m);
}

static void encode_mismatch(cdl_buf *b, const cdl_hs_config *cfg) {
  uint32_t bit = cfg->node_to_client ? CDL_HS_N2C_BIT : 0;
  cdl_hs_msg m = {.kind = CDL_HS_REFUSE, .reason = CDL_HS_VERSION_MISMATCH};
  for (uint32_t n = cfg->min_version; n <= cfg->max_version && m.n_versions < CDL_HS_MAX_VERSIONS;
       n++)
    m.versions[m.n_versions++].number = n | bit;
  cdl_hs_encode(b, &m);
}

static void encode_accept(cdl_buf *b, uint32_t v, const cdl_hs_data *d) {
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, CDL_HS_ACCEPT);
  cdl_cbor_enc_uint(b, v);
  cdl_hs_encode_data(b, v, d);
}

static void encode_query_reply(cdl_buf *b, const cdl_hs_config *cfg) {
  cdl_buf table;
  cdl_buf_init(&table, 0);
  cdl_hs_encode_propose(&table, cfg); /* [0, table]: the same table */
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, CDL_HS_QUERY_REPLY);
  cdl_cbor_enc_raw(b, cdl_span_of(table.data + 2, table.len - 2));
  cdl_buf_free(&table);
}

void cdl_hs_respond(const cdl_hs_config *cfg, const cdl_hs_msg *propose, cdl_buf *reply,
                    cdl_hs_result *res) {
  memset(res, 0, sizeof *res);
  const cdl_hs_version *best = NULL;
  for (size_t i = 0; i < propose->n_versions; i++)
    if (ours(cfg, propose->versions[i].number) &&
        (best == NULL || propose->versions[i].number > best->number))
      best = &propose->versions[i];
  if (best == NULL) {
    res->outcome = CDL_HS_REFUSED;
    snprintf(res->why, sizeof res->why, "no common version (%zu proposed)",
             propose->n_versions + propose->n_unknown);
    encode_mismatch(reply, cfg);
    return;
  }
  res->version = best->number;
  cdl_hs_data remote;
  cdl_error err = {0};
  if (cdl_hs_decode_data(best->number, best->data, &remote, &err) != CDL_OK) {
    res->outcome = CDL_HS_REFUSED;
    snprintf(res->why, sizeof res->why, "version %u: bad version data: %.100s",
             (unsigned)best->number, err.message);
    encode_refuse_text(reply, CDL_HS_DECODE_ERROR, best->number, res->why);
    return;
  }
  /* A query is answered whatever magic it carries: the reply tells the
   * client our table, magic included, so it can propose the right one. */
  if (remote.query) {
    res->agreed = agree(&cfg->data, &remote);
    res->outcome = CDL_HS_QUERIED;
    encode_query_reply(reply, cfg);
    return;
  }
  if (remote.magic != cfg->data.magic) {
    res->outcome = CDL_HS_REFUSED;
    snprintf(res->why, sizeof res->why, "network magic %u, ours is %u", (unsigned)remote.magic,
             (unsigned)cfg->data.magic);
    encode_refuse_text(reply, CDL_HS_REFUSED_REASON, best->number, res->why);
    return;
  }
  res->agreed = agree(&cfg->data, &remote);
  if (res->agreed.query) { /* we never ask ourselves, but agree() says either */
    res->outcome = CDL_HS_QUERIED;
    encode_query_reply(reply, cfg);
    return;
  }
  res->outcome = CDL_HS_ACCEPTED;
  encode_accept(reply, best->number, &res->agreed);
}

int cdl_hs_check_reply(const cdl_hs_config *cfg, const cdl_hs_msg *reply, cdl_hs_result *res,
                       cdl_error *err) {
  memset(res, 0, sizeof *res);
  if (reply->kind == CDL_HS_QUERY_REPLY) {
    res->outcome = CDL_HS_QUERIED;
    return CDL_OK;
  }
  if (reply->kind == CDL_HS_REFUSE) {
    res->outcome = CDL_HS_REFUSED;
    res->version = reply->version;
    return cdl_error_set(err, CDL_E_REFUSED, 0, "handshake refused (reason %u): %.*s",
                         reply->reason, (int)reply->text.len, (const char *)reply->text.ptr);
  }
  if (reply->kind != CDL_HS_ACCEPT)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: the server proposed versions");
  if (!ours(cfg, reply->version))
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: accepted version %u, never proposed",
                         (unsigned)reply->version);
  int rc = cdl_hs_decode_data(reply->version, reply->data, &res->agreed, err);
  if (rc != CDL_OK) return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: bad accepted data");
  if (res->agreed.magic != cfg->data.magic)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "handshake: accepted with network magic %u",
                         (unsigned)res->agreed.magic);
  res->outcome = CDL_HS_ACCEPTED;
  res->version = reply->version;
  return CDL_OK;
}
