/*
 * keepalive_codec.c: keep-alive messages, protocol 8, the codec of
 * node-to-node V7 and later (include/cardinal/net.h "Keep-alive"; CDDL
 * keep-alive.cddl; ouroboros-network KeepAlive/Codec.hs codecKeepAlive_v2).
 */
#include <string.h>

#include "cardinal/wire.h"

static const uint8_t FIELDS[] = {2, 2, 1};
static const char *const NAMES[] = {"MsgKeepAlive", "MsgKeepAliveResponse", "MsgDone"};
static const cdl_net_shape SHAPE = {"keep-alive", NAMES, FIELDS, 3};

const char *cdl_ka_name(unsigned kind) { return cdl_net_kind_name(&SHAPE, kind); }

int cdl_ka_decode(const uint8_t *p, size_t n, cdl_ka_msg *m, size_t *used, cdl_error *err) {
  cdl_cbor_cursor cur;
  memset(m, 0, sizeof *m);
  int rc = cdl_net_open_kind(p, n, &SHAPE, &cur, used, &m->kind, err);
  if (rc != CDL_OK) return rc;
  uint64_t cookie = 0;
  if (m->kind != CDL_KA_DONE) rc = cdl_cbor_read_uint_max(&cur, UINT16_MAX, &cookie, "cookie");
  m->cookie = (uint16_t)cookie;
  return cdl_net_close_message(&cur, rc, cdl_ka_name(m->kind));
}

void cdl_ka_encode(cdl_buf *b, const cdl_ka_msg *m) {
  cdl_net_enc_head(b, &SHAPE, m->kind);
  if (m->kind != CDL_KA_DONE) cdl_cbor_enc_uint(b, m->cookie);
}
