/*
 * test_client.c: the node-to-node client (include/cardinal/net.h "Node-to-
 * node client", src/net/client*.c):
 *  - against our server engine in memory, over a ChainDB of the first
 *    2,000 real mainnet blocks: every block arrives once, in order, byte
 *    for byte, pipelined or not, with the stream cut into pieces of any
 *    size, each handed over parsed (info and decoding of those bytes); a
 *    known point makes it start after that point; keep-alive measures a
 *    round trip;
 *  - against a scripted lying server: a header that does not extend the
 *    one before, a header with bytes after it, a block other than the one
 *    announced, the announced block with a byte after it (handed over
 *    with the decoder's verdict), a message the server may not send, a batch that ends early, a refused handshake and
 *    silence past each time limit; points that are not what the client
 *    offered or announced (a right hash under a wrong slot); each is a
 *    violation with its rule.
 * Every test runs twice: blocks parsed as they are read, then parsed
 * ahead on a pool of 3 threads (cdl_parse_pool, every signature checked
 * there): the client must hand over the same blocks, in the same order,
 * and end on the same violations. The syncs run a third time with the
 * blocks of a read carried to the next read (carry_us): at the next read
 * or, with none coming, at the deadline it sets, they arrive all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/net.h"
#include "net_support.h"

#define N_BLOCKS 2000
#define SEC 1000000ull
#define MAINNET NET_MAINNET_MAGIC

static served_chain S;
static cdl_parse_pool *POOL; /* the second and third runs' */
static uint64_t CARRY;       /* the third run's carry_us */

static int group_setup(void **state) {
  test_group_setup(state);
  served_chain_open(&S, "client", N_BLOCKS);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  served_chain_close(&S);
  return 0;
}

/* What the client hands over: each block must be the next real one,
 * parsed (its info that of the real block, its decoding of those bytes).
 * One that did not decode is recorded and refused. */
typedef struct sink {
  size_t next, fail_at;
  int undecoded_rc;
} sink;

static int on_block(void *ctx, const cdl_parsed_block *block, cdl_error *err) {
  sink *s = ctx;
  if (block->rc != CDL_OK) {
    assert_null(block->blk);
    s->undecoded_rc = block->rc;
    return cdl_error_set(err, CDL_E_REJECTED, 0, "undecodable block refused");
  }
  if (s->next == s->fail_at) return cdl_error_set(err, CDL_E_REJECTED, 0, "block refused");
  assert_true(s->next < N_BLOCKS);
  assert_int_equal(block->len, S.e.blocks[s->next].len);
  assert_memory_equal(block->bytes, S.e.blocks[s->next].ptr, block->len);
  assert_int_equal(block->epoch_slots, 21600);
  assert_same_info(&block->info, &S.info[s->next]);
  assert_non_null(block->blk);
  assert_ptr_equal(block->blk->wrapped_raw.ptr, block->bytes);
  assert_int_equal(block->blk->wrapped_raw.len, block->len);
  /* On the pool the block signature was verified before it came here. */
  if (!block->blk->is_ebb) assert_int_equal(block->blk->header.memo, POOL != NULL ? 1 : 0);
  s->next++;
  return CDL_OK;
}

static cdl_n2n_client_config config(sink *s, size_t pipeline) {
  return (cdl_n2n_client_config){.hs = {false, 7, 14, {MAINNET, true, 0, false}},
                                 .epoch_slots = 21600,
                                 .pipeline = pipeline,
                                 .fetch_batch = 100,
                                 .on_block = on_block,
                                 .ctx = s,
                                 .parse_pool = POOL,
                                 .carry_us = CARRY};
}

/* Moves bytes both ways in pieces of |split| (0: whole) until both are
 * quiet or the client is synced; the client's result. */
static int run(cdl_n2n_client *c, cdl_n2n_server *srv, size_t split, uint64_t now, cdl_error *err) {
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  int rc = CDL_OK;
  bool waited = false;
  for (int round = 0; round < 1000000 && rc == CDL_OK && !cdl_n2n_client_synced(c); round++) {
    cdl_buf_reset(&wire);
    while (cdl_n2n_client_next_sdu(c, now, &wire)) {
    }
    cdl_error serr = {0};
    assert_int_equal(cdl_n2n_server_recv(srv, wire.data, wire.len, now, &serr), CDL_OK);
    assert_int_equal(cdl_n2n_server_poll(srv, now, &serr), CDL_OK);
    size_t sent = wire.len;
    cdl_buf_reset(&wire);
    while (cdl_n2n_server_next_sdu(srv, now, &wire)) {
    }
    bool quiet = sent == 0 && wire.len == 0;
    if (quiet && (CARRY == 0 || waited) && !cdl_n2n_server_wants_poll(srv)) break;
    if (quiet && CARRY > 0 && !waited) {
      /* Nothing moves: blocks a read left to the workers come at the
       * client's deadline, carry_us after that read, and not before. */
      assert_int_equal(cdl_n2n_client_deadline(c), now + CARRY);
      assert_int_equal(cdl_n2n_client_poll(c, now + CARRY - 1, err), CDL_OK);
      assert_false(cdl_n2n_client_synced(c));
      now += CARRY;
      waited = true;
      rc = cdl_n2n_client_poll(c, now, err);
      continue;
    }
    waited = false;
    for (size_t off = 0; off < wire.len && rc == CDL_OK;) {
      size_t take = split && wire.len - off > split ? split : wire.len - off;
      rc = cdl_n2n_client_recv(c, wire.data + off, take, now, err);
      off += take;
    }
  }
  cdl_buf_free(&wire);
  return rc;
}

static void sync_all(size_t pipeline, size_t split) {
  sink s = {.fail_at = SIZE_MAX};
  cdl_n2n_client_config cfg = config(&s, pipeline);
  static const cdl_hs_config SERVER = {false, 7, 15, {MAINNET, false, 0, false}};
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_client_new(&cfg, 0, &c, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&S.chain, &SERVER, 0, &srv, &err), CDL_OK);
  if (run(c, srv, split, 5, &err) != CDL_OK) fail_msg("%s", err.message);
  assert_true(cdl_n2n_client_synced(c));
  assert_int_equal(s.next, N_BLOCKS);
  cdl_n2n_client_stats st = cdl_n2n_client_stats_get(c);
  assert_int_equal(st.headers, N_BLOCKS);
  assert_int_equal(st.blocks, N_BLOCKS);
  assert_int_equal(st.rollbacks, 0);
  assert_int_equal(st.peer_tip.block_no, S.info[N_BLOCKS - 1].block_no);
  assert_true(st.ka_rtt_samples >= 1);
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
}

static void test_sync_pipelined(void **state) {
  (void)state;
  sync_all(50, 0);
}

static void test_sync_unpipelined(void **state) {
  (void)state;
  sync_all(1, 0);
}

static void test_sync_any_split(void **state) {
  (void)state;
  size_t splits[] = {1, 7, 8, 9, 4096, 12296};
  for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) sync_all(20, splits[i]);
}

static void test_known_point(void **state) {
  (void)state;
  sink s = {.next = 1501, .fail_at = SIZE_MAX};
  cdl_n2n_client_config cfg = config(&s, 10);
  cdl_point known[2] = {{.slot = 999999}, point_of(&S.info[1500])}; /* the first is unknown */
  cfg.known = known;
  cfg.n_known = 2;
  static const cdl_hs_config SERVER = {false, 7, 15, {MAINNET, false, 0, false}};
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_client_new(&cfg, 0, &c, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&S.chain, &SERVER, 0, &srv, &err), CDL_OK);
  assert_int_equal(run(c, srv, 0, 5, &err), CDL_OK);
  assert_int_equal(s.next, N_BLOCKS);
  cdl_n2n_client_stats st = cdl_n2n_client_stats_get(c);
  assert_int_equal(st.headers, N_BLOCKS - 1501);
  assert_memory_equal(st.intersection.hash, S.info[1500].hash, 32);
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
}

static void test_block_refused(void **state) {
  (void)state;
  sink s = {.fail_at = 10};
  cdl_n2n_client_config cfg = config(&s, 10);
  static const cdl_hs_config SERVER = {false, 7, 15, {MAINNET, false, 0, false}};
  cdl_n2n_client *c;
  cdl_n2n_server *srv;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_client_new(&cfg, 0, &c, &err), CDL_OK);
  assert_int_equal(cdl_n2n_server_new(&S.chain, &SERVER, 0, &srv, &err), CDL_OK);
  assert_int_equal(run(c, srv, 0, 5, &err), CDL_E_REJECTED);
  assert_string_equal(err.message, "block refused");
  assert_int_equal(s.next, 10);
  assert_false(cdl_n2n_client_synced(c)); /* even with the rest of the range read */
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
}

/* ---- A lying server ------------------------------------------------------ */

typedef struct liar {
  cdl_n2n_client *c;
  sink s;
  cdl_buf msg;
  cdl_error err;
  uint64_t now;
} liar;

/* One message from the server's side (M = 1) into the client, in SDUs of
 * at most 12,288 bytes (the EBB is 648,087). */
static int feed(liar *l, uint16_t proto) {
  int rc = CDL_OK;
  for (size_t off = 0; off < l->msg.len && rc == CDL_OK;) {
    size_t n = l->msg.len - off < CDL_SDU_MAX_SEND ? l->msg.len - off : CDL_SDU_MAX_SEND;
    uint8_t head[CDL_SDU_HEADER];
    cdl_sdu_header h = {0, proto, true, (uint16_t)n};
    cdl_sdu_header_encode(&h, head);
    rc = cdl_n2n_client_recv(l->c, head, sizeof head, l->now, &l->err);
    if (rc == CDL_OK) rc = cdl_n2n_client_recv(l->c, l->msg.data + off, n, l->now, &l->err);
    off += n;
  }
  cdl_buf_reset(&l->msg);
  return rc;
}

/* A client offering |known| (none: the origin) for the intersection. */
static void liar_start_known(liar *l, size_t pipeline, bool accept, const cdl_point *known,
                             size_t n_known) {
  memset(l, 0, sizeof *l);
  l->s.fail_at = SIZE_MAX;
  cdl_buf_init(&l->msg, 0);
  cdl_n2n_client_config cfg = config(&l->s, pipeline);
  cfg.fetch_batch = 2;
  cfg.known = known;
  cfg.n_known = n_known;
  assert_int_equal(cdl_n2n_client_new(&cfg, 0, &l->c, &l->err), CDL_OK);
  if (!accept) return;
  uint8_t data[16];
  cdl_buf d;
  cdl_buf_init_fixed(&d, data, sizeof data);
  cdl_hs_encode_data(&d, 14, &(cdl_hs_data){MAINNET, true, 0, false});
  cdl_hs_msg m = {.kind = CDL_HS_ACCEPT, .version = 14, .data = cdl_span_of(d.data, d.len)};
  cdl_hs_encode(&l->msg, &m);
  assert_int_equal(feed(l, CDL_PROTO_HANDSHAKE), CDL_OK);
}

static void liar_start(liar *l, size_t pipeline, bool accept) {
  liar_start_known(l, pipeline, accept, NULL, 0);
}

static void liar_end(liar *l, int rc, int code, const char *words) {
  if (rc != code) fail_msg("got %d (%s), expected %d", rc, l->err.message, code);
  if (strstr(l->err.message, words) == NULL) fail_msg("'%s' lacks '%s'", l->err.message, words);
  cdl_n2n_client_del(l->c);
  cdl_buf_free(&l->msg);
}

static int cs(liar *l, cdl_cs_msg m) {
  m.tip = (cdl_tip){point_of(&S.info[N_BLOCKS - 1]), S.info[N_BLOCKS - 1].block_no};
  cdl_cs_encode(&l->msg, &m);
  return feed(l, CDL_PROTO_CHAIN_SYNC);
}

static int forward(liar *l, size_t i) {
  cdl_buf h;
  cdl_buf_init(&h, 0);
  cdl_error err = {0};
  assert_int_equal(cdl_net_enc_byron_header(&h, S.e.blocks[i].ptr, S.e.blocks[i].len, &err),
                   CDL_OK);
  int rc = cs(l, (cdl_cs_msg){.kind = CDL_CS_ROLL_FORWARD, .content = cdl_span_of(h.data, h.len)});
  cdl_buf_free(&h);
  return rc;
}

/* Header |i| with a byte after it inside its tag-24 bytes. */
static int forward_padded(liar *l, size_t i) {
  uint8_t subtag;
  cdl_span header;
  cdl_error err = {0};
  assert_int_equal(
      cdl_net_byron_block_parts(S.e.blocks[i].ptr, S.e.blocks[i].len, &subtag, &header, &err),
      CDL_OK);
  cdl_buf padded, h;
  cdl_buf_init(&padded, 0);
  cdl_buf_init(&h, 0);
  cdl_buf_append(&padded, header.ptr, header.len);
  cdl_buf_append(&padded, (const uint8_t *)"", 1);
  cdl_cbor_enc_array(&h, 2);
  cdl_cbor_enc_uint(&h, 0);
  cdl_cbor_enc_array(&h, 2);
  cdl_cbor_enc_array(&h, 2);
  cdl_cbor_enc_uint(&h, subtag);
  cdl_cbor_enc_uint(&h, S.e.blocks[i].len);
  cdl_cbor_enc_tag(&h, 24);
  cdl_cbor_enc_bytes(&h, padded.data, padded.len);
  int rc = cs(l, (cdl_cs_msg){.kind = CDL_CS_ROLL_FORWARD, .content = cdl_span_of(h.data, h.len)});
  cdl_buf_free(&padded);
  cdl_buf_free(&h);
  return rc;
}

static int bf_span(liar *l, uint8_t kind, cdl_span block) {
  cdl_bf_msg m = {.kind = kind, .block = block};
  cdl_bf_encode(&l->msg, &m);
  return feed(l, CDL_PROTO_BLOCK_FETCH);
}

static int bf(liar *l, uint8_t kind, size_t block) {
  return bf_span(l, kind, kind == CDL_BF_BLOCK ? S.e.blocks[block] : cdl_span_of(NULL, 0));
}

/* Intersection at the origin, the roll back to it, header 0. */
static void announce_first(liar *l) {
  assert_int_equal(cs(l, (cdl_cs_msg){.kind = CDL_CS_INTERSECT_FOUND, .point = {.origin = true}}),
                   CDL_OK);
  assert_int_equal(cs(l, (cdl_cs_msg){.kind = CDL_CS_ROLL_BACKWARD, .point = {.origin = true}}),
                   CDL_OK);
  assert_int_equal(forward(l, 0), CDL_OK);
}

/* Then header 1 and "await": the client asks for the range [0, 1]. */
static void announce_two(liar *l) {
  announce_first(l);
  assert_int_equal(forward(l, 1), CDL_OK);
  assert_int_equal(cs(l, (cdl_cs_msg){.kind = CDL_CS_AWAIT_REPLY}), CDL_OK);
}

/* A fresh liar that announced headers 0 and 1 and sent block 0 of the
 * range the client asked for. */
static void liar_after_block_0(liar *l) {
  liar_start(l, 4, true);
  announce_two(l);
  assert_int_equal(bf(l, CDL_BF_START_BATCH, 0), CDL_OK);
  assert_int_equal(bf(l, CDL_BF_BLOCK, 0), CDL_OK);
}

/* Carried (the third run): block 0 of the range [0, 1] waits for the next
 * read, then, none coming, for the deadline carry_us after its read, and
 * comes then, not a microsecond before; the read that ends the range
 * hands its block over at once. */
static void test_carried_until_deadline(void **state) {
  (void)state;
  liar l;
  liar_after_block_0(&l);
  assert_int_equal(l.s.next, 0);
  assert_int_equal(cdl_n2n_client_deadline(l.c), l.now + CARRY);
  assert_int_equal(cdl_n2n_client_poll(l.c, l.now + CARRY - 1, &l.err), CDL_OK);
  assert_int_equal(l.s.next, 0);
  l.now += CARRY;
  assert_int_equal(cdl_n2n_client_poll(l.c, l.now, &l.err), CDL_OK);
  assert_int_equal(l.s.next, 1);
  assert_int_equal(bf(&l, CDL_BF_BLOCK, 1), CDL_OK);
  assert_int_equal(l.s.next, 1); /* carried: the batch is not over */
  assert_int_equal(bf(&l, CDL_BF_BATCH_DONE, 0), CDL_OK);
  assert_int_equal(l.s.next, 2); /* at the next read, the range's end */
  cdl_n2n_client_del(l.c);
  cdl_buf_free(&l.msg);
}

static void test_lying_server(void **state) {
  (void)state;
  liar l;
  liar_start(&l, 4, true);
  announce_first(&l);
  liar_end(&l, forward(&l, 2), CDL_E_PROTOCOL, "does not extend the previous one");

  liar_start(&l, 4, true);
  announce_two(&l);
  assert_int_equal(bf(&l, CDL_BF_START_BATCH, 0), CDL_OK);
  liar_end(&l, bf(&l, CDL_BF_BLOCK, 1), CDL_E_PROTOCOL, "is not the one asked for");

  liar_after_block_0(&l);
  liar_end(&l, bf(&l, CDL_BF_BATCH_DONE, 0), CDL_E_PROTOCOL, "a batch ended 1 blocks early");

  /* The header the decoder hashes must be all there is: nothing after it. */
  liar_start(&l, 4, true);
  announce_first(&l);
  liar_end(&l, forward_padded(&l, 1), CDL_E_TRAILING, "after the end of Byron header");

  /* A block whose header is the one announced but that does not decode
   * (a byte after it) goes to the caller with the decoder's verdict. */
  liar_after_block_0(&l);
  cdl_buf padded;
  cdl_buf_init(&padded, 0);
  cdl_buf_append(&padded, S.e.blocks[1].ptr, S.e.blocks[1].len);
  cdl_buf_append(&padded, (const uint8_t *)"", 1);
  int rc = bf_span(&l, CDL_BF_BLOCK, cdl_span_of(padded.data, padded.len));
  cdl_buf_free(&padded);
  assert_int_equal(l.s.undecoded_rc, CDL_E_TRAILING);
  liar_end(&l, rc, CDL_E_REJECTED, "undecodable block refused");

  liar_start(&l, 4, true); /* nothing asked for yet */
  liar_end(&l, bf(&l, CDL_BF_BLOCK, 0), CDL_E_PROTOCOL, "may not send MsgBlock");

  liar_start(&l, 4, true); /* a second await for the same request */
  announce_two(&l);
  liar_end(&l, cs(&l, (cdl_cs_msg){.kind = CDL_CS_AWAIT_REPLY}), CDL_E_PROTOCOL,
           "may not send MsgAwaitReply");

  liar_start(&l, 4, false);
  cdl_hs_msg refuse = {.kind = CDL_HS_REFUSE, .reason = CDL_HS_VERSION_MISMATCH, .n_versions = 1};
  refuse.versions[0].number = 6;
  cdl_hs_encode(&l.msg, &refuse);
  liar_end(&l, feed(&l, CDL_PROTO_HANDSHAKE), CDL_E_REFUSED, "handshake");
}

/* A point is a slot and a hash: an intersection other than a point offered
 * (among them an offered hash under another slot) and a roll-back to an
 * announced header's hash under another slot are lies. */
static void test_lying_points(void **state) {
  (void)state;
  liar l;
  cdl_point at5 = point_of(&S.info[5]), at5_elsewhere = at5, at0_elsewhere = point_of(&S.info[0]);
  at5_elsewhere.slot = 12345;
  at0_elsewhere.slot = 7;
  liar_start(&l, 4, true); /* offers the origin */
  liar_end(&l, cs(&l, (cdl_cs_msg){.kind = CDL_CS_INTERSECT_FOUND, .point = at5}), CDL_E_PROTOCOL,
           "not a point offered");

  liar_start_known(&l, 4, true, &at5, 1);
  liar_end(&l, cs(&l, (cdl_cs_msg){.kind = CDL_CS_INTERSECT_FOUND, .point = at5_elsewhere}),
           CDL_E_PROTOCOL, "not a point offered");

  liar_start_known(&l, 4, true, &at5, 1); /* the point itself is fine */
  assert_int_equal(cs(&l, (cdl_cs_msg){.kind = CDL_CS_INTERSECT_FOUND, .point = at5}), CDL_OK);
  assert_memory_equal(cdl_n2n_client_stats_get(l.c).intersection.hash, S.info[5].hash, 32);
  liar_end(&l, CDL_OK, CDL_OK, "");

  liar_start(&l, 4, true);
  announce_first(&l);
  liar_end(&l, cs(&l, (cdl_cs_msg){.kind = CDL_CS_ROLL_BACKWARD, .point = at0_elsewhere}),
           CDL_E_PROTOCOL, "hash at slot 7, not 0");
}

static void test_silent_server(void **state) {
  (void)state;
  liar l;
  liar_start(&l, 4, false);
  assert_int_equal(cdl_n2n_client_deadline(l.c), 10 * SEC);
  assert_int_equal(cdl_n2n_client_poll(l.c, 10 * SEC - 1, &l.err), CDL_OK);
  liar_end(&l, cdl_n2n_client_poll(l.c, 10 * SEC, &l.err), CDL_E_TIMEOUT, "handshake");

  liar_start(&l, 4, true); /* the intersection is due within 10 s */
  liar_end(&l, cdl_n2n_client_poll(l.c, 10 * SEC, &l.err), CDL_E_TIMEOUT, "chain-sync");

  liar_start(&l, 4, true); /* a range is due within 60 s; keep-alive answered */
  announce_two(&l);
  cdl_ka_msg ka = {.kind = CDL_KA_RESPONSE, .cookie = 1};
  cdl_ka_encode(&l.msg, &ka);
  assert_int_equal(feed(&l, CDL_PROTO_KEEP_ALIVE), CDL_OK);
  assert_int_equal(cdl_n2n_client_poll(l.c, 60 * SEC - 1, &l.err), CDL_OK);
  liar_end(&l, cdl_n2n_client_poll(l.c, 60 * SEC, &l.err), CDL_E_TIMEOUT, "block-fetch");

  liar_start(&l, 4, true); /* the keep-alive response is due within 60 s */
  assert_int_equal(cs(&l, (cdl_cs_msg){.kind = CDL_CS_INTERSECT_FOUND, .point = {.origin = true}}),
                   CDL_OK);
  assert_int_equal(cs(&l, (cdl_cs_msg){.kind = CDL_CS_ROLL_BACKWARD, .point = {.origin = true}}),
                   CDL_OK);
  assert_int_equal(cs(&l, (cdl_cs_msg){.kind = CDL_CS_AWAIT_REPLY}), CDL_OK);
  liar_end(&l, cdl_n2n_client_poll(l.c, 60 * SEC, &l.err), CDL_E_TIMEOUT, "keep-alive");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_pipelined), cmocka_unit_test(test_sync_unpipelined),
      cmocka_unit_test(test_sync_any_split), cmocka_unit_test(test_known_point),
      cmocka_unit_test(test_block_refused),  cmocka_unit_test(test_lying_server),
      cmocka_unit_test(test_lying_points),  cmocka_unit_test(test_silent_server),
  };
  int failed = cmocka_run_group_tests_name("parsed inline", tests, group_setup, group_teardown);
  cdl_parse_pool_config pc = {.threads = 3, .protocol_magic = MAINNET, .signatures = true};
  if (cdl_parse_pool_new(&pc, &POOL) != CDL_OK || cdl_parse_pool_threads(POOL) != 3) return 1;
  failed += cmocka_run_group_tests_name("parsed on a pool", tests, group_setup, group_teardown);
  const struct CMUnitTest syncs[] = {
      cmocka_unit_test(test_sync_pipelined), cmocka_unit_test(test_sync_unpipelined),
      cmocka_unit_test(test_sync_any_split), cmocka_unit_test(test_known_point),
      cmocka_unit_test(test_block_refused), cmocka_unit_test(test_carried_until_deadline),
  };
  CARRY = 1000;
  failed += cmocka_run_group_tests_name("carried across reads", syncs, group_setup, group_teardown);
  cdl_parse_pool_del(POOL);
  return failed;
}
