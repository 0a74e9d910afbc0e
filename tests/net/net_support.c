/*
 * net_support.c: see net_support.h.
 */
#include "net_support.h"

#include <stdlib.h>
#include <string.h>

void served_chain_open(served_chain *c, const char *what, size_t n) {
  epoch0_load(&c->e);
  mainnet_genesis(&c->g);
  make_dir(c->dir, sizeof c->dir, what);
  cdl_chaindb_config cfg = chaindb_config(c->dir, &c->g.g, NULL);
  cfg.ledger.flags |= CDL_LEDGER_NO_SIGNATURES;
  c->db = db_open(&cfg, NULL);
  cdl_n2n_chain_of_chaindb(c->db, &c->chain);
  c->n = n;
  c->info = calloc(n, sizeof *c->info);
  assert_non_null(c->info);
  for (size_t i = 0; i < n; i++) {
    c->info[i] = info_of(c->e.blocks[i].ptr, c->e.blocks[i].len, 21600);
    add_expect(c->db, c->e.blocks[i], CDL_ADD_ADOPTED);
  }
}

void served_chain_close(served_chain *c) {
  db_close(c->db);
  remove_dir(c->dir);
  epoch0_free(&c->e);
  cdl_arena_free(&c->g.arena);
  free(c->info);
}

/* ---- The scripted client ---- */

void sc_start(scripted_client *c, cdl_chaindb *db, const cdl_hs_config *hs, const uint16_t *protos,
              size_t n) {
  cdl_n2n_chain chain;
  cdl_n2n_chain_of_chaindb(db, &chain);
  sc_start_chain(c, &chain, hs, protos, n);
}

void sc_start_chain(scripted_client *c, const cdl_n2n_chain *chain, const cdl_hs_config *hs,
                    const uint16_t *protos, size_t n) {
  memset(c, 0, sizeof *c);
  cdl_mux_init(&c->mux, 0);
  for (size_t i = 0; i < n; i++) cdl_mux_add_channel(&c->mux, protos[i], true, 1 << 26);
  cdl_buf_init(&c->wire, 0);
  cdl_buf_init(&c->msg, 0);
  cdl_buf_init(&c->last, 0);
  c->now = 1000 * 1000000ull;
  cdl_error err = {0};
  assert_int_equal(cdl_n2n_server_new(chain, hs, c->now, &c->srv, &err), CDL_OK);
}

void sc_free(scripted_client *c) {
  cdl_n2n_server_del(c->srv);
  cdl_mux_free(&c->mux);
  cdl_buf_free(&c->wire);
  cdl_buf_free(&c->msg);
  cdl_buf_free(&c->last);
}

int sc_to_server(scripted_client *c, const uint8_t *p, size_t n) {
  for (size_t off = 0; off < n && c->rc == CDL_OK;) {
    size_t take = c->split && n - off > c->split ? c->split : n - off;
    c->rc = cdl_n2n_server_recv(c->srv, p + off, take, c->now, &c->err);
    off += take;
  }
  return c->rc;
}

int sc_pump(scripted_client *c) {
  for (int round = 0; round < 100000 && c->rc == CDL_OK; round++) {
    cdl_buf_reset(&c->wire);
    while (cdl_mux_next_sdu(&c->mux, 0, &c->wire)) {
    }
    if (c->wire.len > 0 && sc_to_server(c, c->wire.data, c->wire.len) != CDL_OK) break;
    if ((c->rc = cdl_n2n_server_poll(c->srv, c->now, &c->err)) != CDL_OK) break;
    cdl_buf_reset(&c->wire);
    while (cdl_n2n_server_next_sdu(c->srv, 0, &c->wire)) {
    }
    if (c->wire.len == 0 && !cdl_n2n_server_wants_poll(c->srv)) break;
    cdl_error err = {0};
    assert_int_equal(cdl_mux_recv(&c->mux, c->wire.data, c->wire.len, 0, &err), CDL_OK);
  }
  return c->rc;
}

/* The SDUs a round of writes takes: up to |bound| bytes. */
static void take_sdus(scripted_client *c, size_t bound) {
  cdl_buf_reset(&c->wire);
  while (c->wire.len < bound && cdl_n2n_server_next_sdu(c->srv, 0, &c->wire)) {
  }
}

int sc_drive(scripted_client *c, size_t write_bound, bool client_reads) {
  cdl_buf_reset(&c->wire);
  while (cdl_mux_next_sdu(&c->mux, 0, &c->wire)) {
  }
  if (c->wire.len > 0 && sc_to_server(c, c->wire.data, c->wire.len) != CDL_OK) return c->rc;
  if (!client_reads) return c->rc; /* no write ever completes: nothing leaves */
  for (int round = 0; round < 1000000 && c->rc == CDL_OK; round++) {
    take_sdus(c, write_bound);
    if (c->wire.len == 0) { /* every write completed: the driver wakes the engine */
      if (!cdl_n2n_server_wants_poll(c->srv)) break;
      c->rc = cdl_n2n_server_poll(c->srv, c->now, &c->err);
      continue;
    }
    cdl_error err = {0};
    assert_int_equal(cdl_mux_recv(&c->mux, c->wire.data, c->wire.len, 0, &err), CDL_OK);
    if (cdl_n2n_server_wants_poll(c->srv)) c->rc = cdl_n2n_server_poll(c->srv, c->now, &c->err);
  }
  return c->rc;
}

void sc_send(scripted_client *c, int ch) {
  assert_int_equal(cdl_mux_queue(&c->mux, ch, c->msg.data, c->msg.len), CDL_OK);
  cdl_buf_reset(&c->msg);
}

int sc_raw_sdu(scripted_client *c, uint16_t proto, const uint8_t *payload, size_t n) {
  uint8_t head[CDL_SDU_HEADER];
  cdl_sdu_header h = {0, proto, false, (uint16_t)n};
  cdl_sdu_header_encode(&h, head);
  if (sc_to_server(c, head, sizeof head) != CDL_OK) return c->rc;
  return n ? sc_to_server(c, payload, n) : c->rc;
}

void sc_expect_violation(scripted_client *c, int rc, int code, const char *words) {
  if (rc != code) fail_msg("got %d (%s), expected %d", rc, c->err.message, code);
  if (strstr(c->err.message, words) == NULL) fail_msg("'%s' lacks '%s'", c->err.message, words);
  sc_free(c);
}

cdl_span sc_take(scripted_client *c, int ch) {
  cdl_span in = cdl_mux_ingress(&c->mux, ch);
  cdl_error err = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, in.ptr, in.len, &err);
  cdl_span item;
  if (cdl_cbor_skip(&cur, &item) != CDL_OK) fail_msg("no whole reply on channel %d", ch);
  /* Consuming may move the ingress: keep the reply's own copy. */
  cdl_buf_reset(&c->last);
  assert_int_equal(cdl_buf_append(&c->last, item.ptr, item.len), CDL_OK);
  cdl_mux_consume(&c->mux, ch, item.len);
  return cdl_span_of(c->last.data, c->last.len);
}

cdl_hs_result sc_handshake(scripted_client *c, const cdl_hs_config *mine) {
  cdl_hs_encode_propose(&c->msg, mine);
  sc_send(c, 0);
  assert_int_equal(sc_pump(c), CDL_OK);
  cdl_span in = sc_take(c, 0);
  cdl_hs_msg m;
  size_t used;
  cdl_hs_result r;
  cdl_error err = {0};
  assert_int_equal(cdl_hs_decode(in.ptr, in.len, &m, &used, &err), CDL_OK);
  assert_int_equal(cdl_hs_check_reply(mine, &m, &r, &err), CDL_OK);
  return r;
}
