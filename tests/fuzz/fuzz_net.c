/*
 * fuzz_net.c: libFuzzer target for the network layer's decoders (include/
 * cardinal/net.h): the first byte picks the SDU stream decoder (the mux,
 * fed in pieces the next bytes choose) or one message codec. Properties:
 * no crash; whatever a codec decodes re-encodes to a message that decodes
 * to the same bytes again; the handshake server answers any proposal with
 * a reply its own client side can read. The client engine takes any
 * stream after an accepted handshake without crashing, with a mempool of
 * three txs to offer over tx-submission. Submitted txs
 * (GenTx, GenTxId, the mempool's payload decoder, reject reasons) are read
 * without crashing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "cardinal/gen.h"
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
CODEC(rt_lsq, cdl_lsq_msg, cdl_lsq_decode, cdl_lsq_encode)
CODEC(rt_ltx, cdl_ltx_msg, cdl_ltx_decode, cdl_ltx_encode)
CODEC(rt_ltm, cdl_ltm_msg, cdl_ltm_decode, cdl_ltm_encode)

/* A submitted tx's way in: the hard-fork GenTx, the mempool's payload
 * decoder, a GenTxId, a reject reason. */
static void gentx(const uint8_t *p, size_t n) {
  cdl_error err = {0};
  uint64_t era;
  cdl_span inner;
  uint8_t kind, id[32];
  cdl_rejection rej;
  if (cdl_net_read_gentx(cdl_span_of(p, n), &era, &inner, &err) == CDL_OK)
    (void)cdl_mempool_gentx_id(inner.ptr, inner.len, &kind, id, &rej);
  (void)cdl_mempool_gentx_id(p, n, &kind, id, &rej);
  cdl_net_gentx_id gid;
  cdl_error err2 = {0};
  if (cdl_net_read_gentx_id(cdl_span_of(p, n), &gid, &err2) == CDL_OK && gid.kind > 3) abort();
  char rule[64];
  cdl_error err3 = {0};
  (void)cdl_net_read_apply_tx_error(cdl_span_of(p, n), rule, sizeof rule, &err3);
}

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

static int take_block(void *ctx, const cdl_parsed_block *block, cdl_error *err) {
  (void)ctx, (void)block, (void)err;
  return CDL_OK;
}

/* A chain of three txs from the one genesis output of a generated key,
 * the GenTx [0, txaux] of each into |mp|. */
static void fill(cdl_mempool *mp, const cdl_ledger *l, const cdl_key *key, cdl_span addr) {
  cdl_payload_tx_input in = {.index = 0, .owner = key};
  cdl_blake2b_256(in.tx_id, addr.ptr, addr.len); /* a genesis output's id */
  uint64_t left = 1000000000000;
  for (int i = 0; i < 3; i++) {
    left -= 2000000;
    cdl_payload_tx_output outs[2] = {{addr, 1000000}, {addr, left}};
    cdl_buf g;
    cdl_buf_init(&g, 0);
    cdl_cbor_enc_array(&g, 2);
    cdl_cbor_enc_uint(&g, 0);
    cdl_payload_tx_make(&in, 1, outs, 2, 42, &g, in.tx_id);
    in.index = 1;
    cdl_rejection rej;
    if (cdl_mempool_add(mp, l, g.data, g.len, 0, NULL, &rej) != CDL_OK) abort();
    cdl_buf_free(&g);
  }
}

/* Made once and kept: the mempool the fuzzed client offers from. */
static cdl_mempool *offer_pool(void) {
  static cdl_mempool *mp;
  static cdl_ledger *ledger;
  static cdl_byron_genesis g;
  static cdl_byron_genesis_balance bal;
  static uint8_t stakeholder[1][28];
  static cdl_buf addr;
  if (mp != NULL) return mp;
  if (cdl_crypto_init() != CDL_OK) abort();
  cdl_key key;
  const uint8_t entropy[32] = {7};
  cdl_key_derive(&key, entropy);
  cdl_buf_init(&addr, 0);
  cdl_key_address(&key, true, 42, &addr);
  bal = (cdl_byron_genesis_balance){cdl_span_of(addr.data, addr.len), 1000000000000};
  g.protocol_magic = 42, g.k = 10, g.balances = &bal, g.n_balances = 1;
  cdl_key_hash(&key, stakeholder[0]);
  g.boot_stakeholders = stakeholder, g.n_boot_stakeholders = 1;
  cdl_gen_default_params(&g.params);
  cdl_ledger_config lc = {.protocol_magic = 42, .requires_magic = true, .k = 10};
  cdl_error err = {0};
  cdl_mempool_config mc = {0};
  if (cdl_ledger_new(&g, &lc, &ledger, &err) != CDL_OK) {
    fprintf(stderr, "%s\n", err.message);
    abort();
  }
  if (cdl_mempool_new(&mc, ledger, 0, &mp) != CDL_OK) abort();
  fill(mp, ledger, &key, cdl_span_of(addr.data, addr.len));
  return mp;
}

/* The client engine after an accepted handshake, fed the input as the
 * server's byte stream in growing pieces. */
static void client(const uint8_t *p, size_t n) {
  cdl_n2n_client_config cfg = {.hs = {false, 7, 14, {764824073, true, 0, false}},
                               .epoch_slots = 21600,
                               .pipeline = 5,
                               .fetch_batch = 3,
                               .on_block = take_block,
                               .txs = cdl_n2n_txs_of_mempool(offer_pool())};
  cdl_n2n_client *c;
  cdl_error err = {0};
  if (cdl_n2n_client_new(&cfg, 0, &c, &err) != CDL_OK) abort();
  static const uint8_t ACCEPT[] = {0,    0,    0,    0,    0x80, 0,    0,    12,   0x83, 0x01,
                                   0x0e, 0x84, 0x1a, 0x2d, 0x96, 0x4a, 0x09, 0xf5, 0x00, 0xf4};
  if (cdl_n2n_client_recv(c, ACCEPT, sizeof ACCEPT, 0, &err) != CDL_OK) abort();
  size_t off = 0, step = 1;
  cdl_buf out;
  cdl_buf_init(&out, 0);
  while (off < n) {
    size_t take = n - off < step ? n - off : step;
    if (cdl_n2n_client_recv(c, p + off, take, off, &err) != CDL_OK) break;
    while (cdl_n2n_client_next_sdu(c, off, &out)) cdl_buf_reset(&out);
    off += take;
    step = step * 2 + 1;
  }
  cdl_buf_free(&out);
  cdl_n2n_client_del(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  switch (data[0] % 11) {
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
    case 5:
      codec(rt_tx, p, n);
      break;
    case 6:
      codec(rt_lsq, p, n);
      break;
    case 8:
      codec(rt_ltx, p, n);
      break;
    case 9:
      codec(rt_ltm, p, n);
      break;
    case 10:
      gentx(p, n);
      break;
    default:
      client(p, n);
      break;
  }
  return 0;
}
