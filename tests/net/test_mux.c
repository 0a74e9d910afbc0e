/*
 * test_mux.c: the multiplexer (include/cardinal/net.h "Multiplexer",
 * src/net/mux.c): messages of several protocols cross a pair of muxes
 * whatever the stream's splits; SDUs are at most 12,288 bytes and the
 * channels take turns; every violation the Haskell mux treats as fatal
 * (zero-length SDU, unknown protocol, a direction not running, ingress
 * overrun) is refused with its rule, and the SDU timeout runs only inside
 * an SDU.
 */
#include <stdlib.h>
#include <string.h>

#include "../unit/support.h"
#include "cardinal/wire.h"

#define SEC 1000000ull

/* A client mux (initiator of chain-sync and keep-alive) and a server mux. */
static void pair(cdl_mux *client, cdl_mux *server) {
  cdl_mux_init(client, 30 * SEC);
  cdl_mux_init(server, 30 * SEC);
  assert_int_equal(cdl_mux_add_channel(client, CDL_PROTO_CHAIN_SYNC, true, 1 << 20), 0);
  assert_int_equal(cdl_mux_add_channel(client, CDL_PROTO_KEEP_ALIVE, true, 1408), 1);
  assert_int_equal(cdl_mux_add_channel(server, CDL_PROTO_CHAIN_SYNC, false, 1 << 20), 0);
  assert_int_equal(cdl_mux_add_channel(server, CDL_PROTO_KEEP_ALIVE, false, 1408), 1);
}

/* Everything |from| has queued, as one byte stream of SDUs. */
static void drain(cdl_mux *from, cdl_buf *wire) {
  while (cdl_mux_next_sdu(from, 7, wire)) {
  }
}

static void fill(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + seed);
}

static void test_round_trip_any_split(void **state) {
  (void)state;
  static uint8_t big[40000], small[5] = {0x82, 0x00, 0x19, 0x30, 0x39};
  fill(big, sizeof big, 1);
  size_t splits[] = {1, 2, 3, 7, 8, 9, 100, 12295, 12296, 65536};
  for (size_t s = 0; s < sizeof splits / sizeof *splits; s++) {
    cdl_mux c, sv;
    pair(&c, &sv);
    assert_int_equal(cdl_mux_queue(&c, 0, big, sizeof big), CDL_OK);
    assert_int_equal(cdl_mux_queue(&c, 1, small, sizeof small), CDL_OK);
    cdl_buf wire;
    cdl_buf_init(&wire, 0);
    drain(&c, &wire);
    assert_int_equal(c.sdus_out, 5); /* 4 chain-sync SDUs (3 x 12288 + 3136), 1 keep-alive */
    cdl_error err = {0};
    for (size_t off = 0; off < wire.len; off += splits[s]) {
      size_t n = wire.len - off < splits[s] ? wire.len - off : splits[s];
      assert_int_equal(cdl_mux_recv(&sv, wire.data + off, n, 0, &err), CDL_OK);
    }
    cdl_span cs = cdl_mux_ingress(&sv, 0), ka = cdl_mux_ingress(&sv, 1);
    assert_int_equal(cs.len, sizeof big);
    assert_memory_equal(cs.ptr, big, sizeof big);
    assert_int_equal(ka.len, sizeof small);
    assert_memory_equal(ka.ptr, small, sizeof small);
    cdl_mux_consume(&sv, 0, 1000);
    assert_int_equal(cdl_mux_ingress(&sv, 0).len, sizeof big - 1000);
    assert_memory_equal(cdl_mux_ingress(&sv, 0).ptr, big + 1000, 100);
    cdl_buf_free(&wire);
    cdl_mux_free(&c);
    cdl_mux_free(&sv);
  }
}

/* Headers: M clear from the initiator, set from the responder; a long
 * message does not hold back another channel for more than one SDU. */
static void test_sdu_shape_and_fairness(void **state) {
  (void)state;
  static uint8_t big[30000];
  cdl_mux c, sv;
  pair(&c, &sv);
  assert_int_equal(cdl_mux_queue(&sv, 0, big, sizeof big), CDL_OK);
  uint8_t ping[3] = {0x81, 0x00, 0x00};
  assert_int_equal(cdl_mux_queue(&sv, 1, ping, 3), CDL_OK);
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  assert_true(cdl_mux_next_sdu(&sv, 0x1234, &wire));
  cdl_sdu_header h;
  cdl_sdu_header_decode(wire.data, &h);
  assert_int_equal(h.protocol, CDL_PROTO_CHAIN_SYNC);
  assert_true(h.from_responder);
  assert_int_equal(h.length, CDL_SDU_MAX_SEND);
  assert_int_equal(h.time_us, 0x1234);
  cdl_buf_reset(&wire);
  assert_true(cdl_mux_next_sdu(&sv, 0, &wire)); /* keep-alive's turn */
  cdl_sdu_header_decode(wire.data, &h);
  assert_int_equal(h.protocol, CDL_PROTO_KEEP_ALIVE);
  assert_int_equal(h.length, 3);
  cdl_buf_reset(&wire);
  assert_true(cdl_mux_next_sdu(&sv, 0, &wire));
  assert_true(cdl_mux_next_sdu(&sv, 0, &wire));
  assert_false(cdl_mux_next_sdu(&sv, 0, &wire));
  assert_int_equal(cdl_mux_pending(&sv, 0), 0);
  /* A message over the egress bound is refused whole; what was queued stays. */
  assert_int_equal(cdl_mux_queue(&sv, 1, ping, 3), CDL_OK);
  assert_int_equal(cdl_mux_queue(&sv, 1, big, (size_t)65 << 20), CDL_E_LIMIT);
  assert_int_equal(cdl_mux_pending(&sv, 1), 3);
  assert_int_equal(cdl_mux_queue(&sv, 1, ping, 3), CDL_OK);
  assert_int_equal(cdl_mux_pending(&sv, 1), 6);
  cdl_buf_free(&wire);
  cdl_mux_free(&c);
  cdl_mux_free(&sv);
}

static int feed_hex(cdl_mux *m, const char *hex, cdl_error *err) {
  uint8_t b[64];
  size_t n = hex_to_bytes(hex, b, sizeof b);
  return cdl_mux_recv(m, b, n, 0, err);
}

static void test_violations(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    int code;
    const char *words;
  } cases[] = {
      {"0000000000020000", CDL_E_PROTOCOL, "no payload"},
      {"00000000000b000181", CDL_E_PROTOCOL, "unknown mini-protocol 11"},
      /* Chain-sync sent with M = 1 to a server, which only responds. */
      {"00000000800200028100", CDL_E_PROTOCOL, "does not run"},
  };
  for (size_t i = 0; i < 3; i++) {
    cdl_mux c, sv;
    pair(&c, &sv);
    cdl_error err = {0};
    assert_int_equal(feed_hex(&sv, cases[i].hex, &err), cases[i].code);
    assert_non_null(strstr(err.message, cases[i].words));
    cdl_mux_free(&c);
    cdl_mux_free(&sv);
  }
}

/* Keep-alive's ingress holds 1,408 bytes: one more is an overrun, and a
 * consumer that keeps up is never refused. The largest SDU is taken. */
static void test_ingress_bound(void **state) {
  (void)state;
  cdl_mux c, sv;
  pair(&c, &sv);
  static uint8_t payload[65535];
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  cdl_sdu_header h = {0, CDL_PROTO_KEEP_ALIVE, false, 1408};
  uint8_t head[8];
  cdl_sdu_header_encode(&h, head);
  cdl_error err = {0};
  for (int k = 0; k < 50; k++) { /* consumed as it comes: never over */
    assert_int_equal(cdl_mux_recv(&sv, head, 8, 0, &err), CDL_OK);
    assert_int_equal(cdl_mux_recv(&sv, payload, 1408, 0, &err), CDL_OK);
    cdl_mux_consume(&sv, 1, 1408);
  }
  assert_int_equal(cdl_mux_recv(&sv, head, 8, 0, &err), CDL_OK);
  assert_int_equal(cdl_mux_recv(&sv, payload, 1408, 0, &err), CDL_OK);
  h.length = 1;
  cdl_sdu_header_encode(&h, head);
  assert_int_equal(cdl_mux_recv(&sv, head, 8, 0, &err), CDL_E_LIMIT);
  assert_non_null(strstr(err.message, "ingress overrun on protocol 8"));
  cdl_mux_free(&sv);
  /* 65,535 bytes in one SDU on a channel with room. */
  cdl_mux_init(&sv, 0);
  assert_int_equal(cdl_mux_add_channel(&sv, CDL_PROTO_BLOCK_FETCH, true, 1 << 20), 0);
  cdl_sdu_header big = {0, CDL_PROTO_BLOCK_FETCH, true, 65535};
  cdl_sdu_header_encode(&big, head);
  cdl_error_clear(&err);
  assert_int_equal(cdl_mux_recv(&sv, head, 8, 0, &err), CDL_OK);
  assert_int_equal(cdl_mux_recv(&sv, payload, sizeof payload, 0, &err), CDL_OK);
  assert_int_equal(cdl_mux_ingress(&sv, 0).len, 65535);
  cdl_mux_free(&sv);
  cdl_mux_free(&c);
  cdl_buf_free(&wire);
}

static void test_sdu_timeout(void **state) {
  (void)state;
  cdl_mux c, sv;
  pair(&c, &sv);
  cdl_error err = {0};
  assert_int_equal(cdl_mux_deadline(&sv), UINT64_MAX); /* nothing started */
  uint8_t part[5] = {0, 0, 0, 0, 0};
  assert_int_equal(cdl_mux_recv(&sv, part, 5, 100 * SEC, &err), CDL_OK);
  assert_int_equal(cdl_mux_deadline(&sv), 130 * SEC);
  assert_int_equal(cdl_mux_check_time(&sv, 129 * SEC, &err), CDL_OK);
  assert_int_equal(cdl_mux_check_time(&sv, 130 * SEC, &err), CDL_E_TIMEOUT);
  /* The rest of the SDU arrives in time: no deadline between SDUs. */
  cdl_mux_free(&sv);
  pair(&c, &sv);
  const uint8_t sdu[10] = {0, 0, 0, 0, 0, 8, 0, 2, 0x81, 0x02};
  assert_int_equal(cdl_mux_recv(&sv, sdu, 4, 100 * SEC, &err), CDL_OK);
  assert_int_equal(cdl_mux_recv(&sv, sdu + 4, 6, 120 * SEC, &err), CDL_OK);
  assert_int_equal(cdl_mux_deadline(&sv), UINT64_MAX);
  assert_int_equal(cdl_mux_check_time(&sv, 1000 * SEC, &err), CDL_OK);
  cdl_mux_free(&c);
  cdl_mux_free(&sv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_any_split), cmocka_unit_test(test_sdu_shape_and_fairness),
      cmocka_unit_test(test_violations),           cmocka_unit_test(test_ingress_bound),
      cmocka_unit_test(test_sdu_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
