/*
 * fuzz_net.c: libFuzzer target for the network layer's decoders (include/
 * cardinal/net.h): the first byte picks the SDU stream decoder (the mux,
 * fed in pieces the next bytes choose) or one message codec. Properties:
 * no crash; whatever a codec decodes re-encodes to a message that decodes
 * to the same bytes again; the handshake server answers any proposal with
 * a reply its own client side can read.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/net.h"

static void stable(const uint8_t *enc, size_t len, cdl_buf *again,
                   int (*decode_encode)(const uint8_t *, size_t, cdl_buf *)) {
  if (decode_encode(enc, len, again) != CDL_OK) abort();
  if (again->len != len || memcmp(again->data, enc, len) != 0) abort();
}

#define CODEC(name, msg_t, decode, encode)                    \
  static int name(const uint8_t *p, size_t n, cdl_buf *out) { \
    msg_t m;                                                  \
    size_t used;                                              \
    cdl_error err = {0};                                      \
    int rc = decode(p, n, &m, &used, &err);                   \
    if (rc == CDL_OK) encode(out, &m);                        \
    return rc;                                                \
  }
CODEC(rt_cs, cdl_cs_msg, cdl_cs_decode, cdl_cs_encode)
CODEC(rt_bf, cdl_bf_msg, cdl_bf_decode, cdl_bf_encode)
CODEC(rt_ka, cdl_ka_msg, cdl_ka_decode, cdl_ka_encode)
CODEC(rt_tx, cdl_tx2_msg, cdl_tx2_decode, cdl_tx2_encode)

static void codec(int (*fn)(const uint8_t *, size_t, cdl_buf *), const uint8_t *p, size_t n) {
  cdl_buf once, twice;
  cdl_buf_init(&once, 0);
  cdl_buf_init(&twice, 0);
  if (fn(p, n, &once) == CDL_OK) stable(once.data, once.len, &twice, fn);
  cdl_buf_free(&once);
  cdl_buf_free(&twice);
}

static void handshake(const uint8_t *p, size_t n) {
  cdl_hs_msg m, back;
  size_t used;
  cdl_error err = {0};
  if (cdl_hs_decode(p, n, &m, &used, &err) != CDL_OK || m.kind != CDL_HS_PROPOSE) return;
  cdl_hs_config cfg = {false, 7, 15, {764824073, false, 0, false}};
  cdl_buf reply;
  cdl_buf_init(&reply, 0);
  cdl_hs_result res, cres;
  cdl_hs_respond(&cfg, &m, &reply, &res);
  if (cdl_hs_decode(reply.data, reply.len, &back, &used, &err) != CDL_OK) abort();
  int rc = cdl_hs_check_reply(&cfg, &back, &cres, &err);
  if ((res.outcome == CDL_HS_ACCEPTED) != (rc == CDL_OK && cres.outcome == CDL_HS_ACCEPTED))
    abort();
  cdl_buf_free(&reply);
}

static void mux(const uint8_t *p, size_t n) {
  cdl_mux m;
  cdl_mux_init(&m, 1000);
  cdl_mux_add_channel(&m, CDL_PROTO_HANDSHAKE, false, 5760);
  cdl_mux_add_channel(&m, CDL_PROTO_CHAIN_SYNC, false, 462000);
  cdl_mux_add_channel(&m, CDL_PROTO_KEEP_ALIVE, true, 1408);
  cdl_error err = {0};
  size_t off = 0, step = 1;
  while (off < n) {
    size_t take = n - off < step ? n - off : step;
    if (cdl_mux_recv(&m, p + off, take, off, &err) != CDL_OK) break;
    for (int c = 0; c < 3; c++) cdl_mux_consume(&m, c, cdl_mux_ingress(&m, c).len / 2);
    off += take;
    step = step * 3 + 1;
  }
  cdl_mux_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  switch (data[0] % 6) {
    case 0:
      mux(p, n);
      break;
    case 1:
      handshake(p, n);
      break;
    case 2:
      codec(rt_cs, p, n);
      break;
    case 3:
      codec(rt_bf, p, n);
      break;
    case 4:
      codec(rt_ka, p, n);
      break;
    default:
      codec(rt_tx, p, n);
      break;
  }
  return 0;
}
