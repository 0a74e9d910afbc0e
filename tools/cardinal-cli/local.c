/*
 * local.c: the node-to-client exchanges of the CLI's node commands
 * (local.h; docs/ouroboros-network.md 4.1 local chain-sync, 4.6
 * local tx-submission, 4.7 local state query). Each reads one whole reply
 * message: SDUs are gathered until the codec no longer reports a
 * truncated message.
 */
#include "local.h"

#include <string.h>

/* Whole messages of one protocol, decoded by |decode| into |msg|. */
typedef int (*decode_fn)(const uint8_t *p, size_t n, void *msg, size_t *used, cdl_error *err);

static int cs_decode(const uint8_t *p, size_t n, void *m, size_t *used, cdl_error *err) {
  return cdl_cs_decode(p, n, m, used, err);
}
static int ltx_decode(const uint8_t *p, size_t n, void *m, size_t *used, cdl_error *err) {
  return cdl_ltx_decode(p, n, m, used, err);
}
static int lsq_decode(const uint8_t *p, size_t n, void *m, size_t *used, cdl_error *err) {
  return cdl_lsq_decode(p, n, m, used, err);
}

static int recv_msg(cdl_io_local *c, uint16_t proto, decode_fn decode, cdl_buf *in, void *msg,
                    cdl_error *err) {
  cdl_buf_reset(in);
  for (;;) {
    int rc = cdl_io_local_recv(c, proto, in, err);
    if (rc != CDL_OK) return rc;
    size_t used = 0;
    cdl_error e = {0};
    rc = decode(in->data, in->len, msg, &used, &e);
    if (rc == CDL_E_TRUNCATED) continue;
    if (rc == CDL_OK && used != in->len)
      return cdl_error_set(err, CDL_E_PROTOCOL, 0, "the node sent more than one message");
    if (rc != CDL_OK) *err = e;
    return rc;
  }
}

int local_submit_send(cdl_io_local *c, cdl_span gentx, cdl_error *err) {
  cdl_buf wrapped, out;
  cdl_buf_init(&wrapped, 0);
  cdl_buf_init(&out, 0);
  cdl_net_enc_gentx(&wrapped, gentx);
  cdl_ltx_msg m = {.kind = CDL_LTX_SUBMIT, .tx = cdl_span_of(wrapped.data, wrapped.len)};
  cdl_ltx_encode(&out, &m);
  int rc = out.failed ? cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory")
                      : cdl_io_local_send(c, CDL_PROTO_LOCAL_TX_SUBMISSION, &out, err);
  cdl_buf_free(&wrapped);
  cdl_buf_free(&out);
  return rc;
}

int local_submit_read(cdl_io_local *c, bool *accepted, cdl_buf *reason, cdl_error *err) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_ltx_msg reply;
  /* The node may hold the answer while its mempool is full. */
  cdl_io_local_set_timeout(c, CDL_LOCAL_SUBMIT_TIMEOUT_MS);
  int rc = recv_msg(c, CDL_PROTO_LOCAL_TX_SUBMISSION, ltx_decode, &in, &reply, err);
  cdl_io_local_set_timeout(c, 0);
  if (rc == CDL_OK && reply.kind != CDL_LTX_ACCEPT && reply.kind != CDL_LTX_REJECT)
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-tx-submission: unexpected %s",
                       cdl_ltx_name(reply.kind));
  if (rc == CDL_OK) {
    *accepted = reply.kind == CDL_LTX_ACCEPT;
    if (!*accepted) cdl_buf_append(reason, reply.reason.ptr, reply.reason.len);
  }
  cdl_buf_free(&in);
  return rc;
}

int local_submit(cdl_io_local *c, cdl_span gentx, bool *accepted, cdl_buf *reason, cdl_error *err) {
  int rc = local_submit_send(c, gentx, err);
  return rc == CDL_OK ? local_submit_read(c, accepted, reason, err) : rc;
}

/* Sends |out| (an encoded request, freed here) on |proto| and reads the
 * reply into |reply| (pointing into |in|). */
static int exchange(cdl_io_local *c, uint16_t proto, cdl_buf *out, decode_fn decode, cdl_buf *in,
                    void *reply, cdl_error *err) {
  int rc = out->failed ? cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory")
                       : cdl_io_local_send(c, proto, out, err);
  cdl_buf_free(out);
  if (rc == CDL_OK) rc = recv_msg(c, proto, decode, in, reply, err);
  return rc;
}

static int cs_call(cdl_io_local *c, const cdl_cs_msg *req, cdl_cs_msg *reply, cdl_buf *in,
                   cdl_error *err) {
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_cs_encode(&out, req);
  return exchange(c, CDL_PROTO_LOCAL_CHAIN_SYNC, &out, cs_decode, in, reply, err);
}

static int find_intersect(cdl_io_local *c, const cdl_point *pts, size_t n, cdl_cs_msg *reply,
                          cdl_buf *in, cdl_error *err) {
  static const cdl_point none;
  cdl_cs_msg req = {.kind = CDL_CS_FIND_INTERSECT, .point_list = pts ? pts : &none, .n_points = n};
  int rc = cs_call(c, &req, reply, in, err);
  if (rc == CDL_OK && reply->kind != CDL_CS_INTERSECT_FOUND &&
      reply->kind != CDL_CS_INTERSECT_NOT_FOUND)
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "chain-sync: unexpected %s",
                       cdl_cs_name(reply->kind));
  return rc;
}

int local_tip(cdl_io_local *c, cdl_tip *tip, cdl_error *err) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_cs_msg reply;
  int rc = find_intersect(c, NULL, 0, &reply, &in, err);
  if (rc == CDL_OK) *tip = reply.tip;
  cdl_buf_free(&in);
  return rc;
}

int local_follow(cdl_io_local *c, const cdl_point *from, cdl_error *err) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_cs_msg reply;
  int rc = find_intersect(c, from, 1, &reply, &in, err);
  if (rc == CDL_OK && reply.kind != CDL_CS_INTERSECT_FOUND)
    rc = cdl_error_set(err, CDL_E_NOT_FOUND, 0, "chain-sync: the node no longer has that point");
  cdl_buf_free(&in);
  return rc;
}

/* A roll forward's content is the block, wrapped for the network. */
static int take_update(const cdl_cs_msg *m, cdl_buf *block, cdl_error *err) {
  if (m->kind != CDL_CS_ROLL_FORWARD) return CDL_OK;
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, m->content.ptr, m->content.len, err);
  cdl_span b;
  if (cdl_net_read_block(&cur, &b) != CDL_OK)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "chain-sync: a roll forward without a block");
  cdl_buf_reset(block);
  cdl_buf_append(block, b.ptr, b.len);
  return CDL_OK;
}

int local_follow_read(cdl_io_local *c, uint8_t *kind, cdl_buf *block, cdl_point *point,
                      cdl_error *err) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_cs_msg m;
  int rc = recv_msg(c, CDL_PROTO_LOCAL_CHAIN_SYNC, cs_decode, &in, &m, err);
  if (rc == CDL_OK && m.kind != CDL_CS_ROLL_FORWARD && m.kind != CDL_CS_ROLL_BACKWARD &&
      m.kind != CDL_CS_AWAIT_REPLY)
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "chain-sync: unexpected %s", cdl_cs_name(m.kind));
  if (rc == CDL_OK) {
    *kind = m.kind;
    *point = m.point;
    rc = take_update(&m, block, err);
  }
  cdl_buf_free(&in);
  return rc;
}

int local_follow_request(cdl_io_local *c, cdl_error *err) {
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_cs_msg req = {.kind = CDL_CS_REQUEST_NEXT};
  cdl_cs_encode(&out, &req);
  int rc = cdl_io_local_send(c, CDL_PROTO_LOCAL_CHAIN_SYNC, &out, err);
  cdl_buf_free(&out);
  return rc;
}

/* One state-query message out, its reply in |reply| (pointing into |in|). */
static int lsq_call(cdl_io_local *c, const cdl_lsq_msg *req, cdl_lsq_msg *reply, cdl_buf *in,
                    cdl_error *err) {
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_lsq_encode(&out, req);
  return exchange(c, CDL_PROTO_LOCAL_STATE_QUERY, &out, lsq_decode, in, reply, err);
}

int local_lsq_acquire(cdl_io_local *c, cdl_error *err) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_lsq_msg reply;
  int rc = lsq_call(c, &(cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP}, &reply, &in, err);
  if (rc == CDL_OK && reply.kind != CDL_LSQ_ACQUIRED)
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-state-query: the tip was not acquired (%s)",
                       cdl_lsq_name(reply.kind));
  cdl_buf_free(&in);
  return rc;
}

int local_lsq_query(cdl_io_local *c, cdl_span query, cdl_buf *result, cdl_error *err) {
  cdl_buf in;
  cdl_buf_init(&in, 0);
  cdl_lsq_msg reply;
  int rc = lsq_call(c, &(cdl_lsq_msg){.kind = CDL_LSQ_QUERY, .query = query}, &reply, &in, err);
  if (rc == CDL_OK && reply.kind != CDL_LSQ_RESULT)
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "local-state-query: unexpected %s",
                       cdl_lsq_name(reply.kind));
  if (rc == CDL_OK) {
    cdl_buf_reset(result);
    if (cdl_buf_append(result, reply.result.ptr, reply.result.len) != CDL_OK)
      rc = cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  }
  cdl_buf_free(&in);
  return rc;
}
