/*
 * node_query.c: the local-state queries cardinal-cli asks a node
 * (node_query.h; docs/cli.md "Talking to a node"; docs/network.md "Local
 * state query" and "Cardinal's own queries"). A node's answers are
 * hostile input: each is decoded with the codecs' bounds and checked
 * against what was asked before a command shows it or builds on it.
 */
#include "node_query.h"

#include <stdlib.h>
#include <string.h>

#include "local.h"

static const uint8_t Q_SYSTEM_START[] = {0x81, 0x01};
static const uint8_t Q_UPDATE_STATE[] = {0x82, 0x00, 0x82, 0x00, 0x82, 0x00, 0x00};
/* A Cardinal node closes the connection when its tip moved between the
 * acquire and the query (it keeps the tip's ledger only); a few tries on
 * new connections get past a busy chain, a Haskell node closes every time. */
#define ASK_ATTEMPTS 3

int cli_session_open(const cli_node_opts *o, cli_session *s, cdl_error *err) {
  s->opts = o;
  s->c = NULL;
  int rc = cdl_io_local_open(o->socket, (uint32_t)o->magic, o->has_magic, &s->c, err);
  if (rc == CDL_OK)
    rc = local_lsq_acquire(s->c, err);
  if (rc != CDL_OK)
    cli_session_close(s);
  return rc;
}

void cli_session_close(cli_session *s) {
  cdl_io_local_close(s->c);
  s->c = NULL;
}

int cli_session_ask(cli_session *s, cdl_span query, const char *name, bool cardinal,
                    cdl_buf *result, cdl_error *err) {
  for (int attempt = 0; attempt < ASK_ATTEMPTS; attempt++) {
    if (s->c == NULL)
      CDL_TRY(cli_session_open(s->opts, s, err));
    cdl_error e = {0};
    int rc = local_lsq_query(s->c, query, result, &e);
    if (rc == CDL_OK)
      return CDL_OK;
    bool closed = cdl_io_local_closed(s->c);
    cli_session_close(s);
    if (!closed) {
      *err = e;
      return rc;
    }
  }
  if (cardinal)
    return cdl_error_set(err, CLI_E_NOT_CARDINAL, 0,
                         "the node did not answer %s: it is not a Cardinal node (%s is "
                         "Cardinal's own query, which other nodes cannot decode)",
                         name, name);
  return cdl_error_set(err, CDL_E_IO, 0, "the node closed the connection instead of answering %s",
                       name);
}

/* A decoding failure of |name|'s answer, saying whose answer it was. */
static int bad_answer(cdl_error *err, const char *name) {
  cdl_error e = *err;
  return cdl_error_set(err, e.code, e.offset, "the node's answer to %s: %s", name, e.message);
}

int cli_session_constants(cli_session *s, cdl_lsq_chain_constants *c, cdl_error *err) {
  static const char NAME[] = "Cardinal.GetChainConstants";
  cdl_buf q, r;
  cdl_buf_init(&q, 0);
  cdl_buf_init(&r, 0);
  cdl_lsq_enc_chain_constants_query(&q);
  int rc = cli_session_ask(s, cdl_span_of(q.data, q.len), NAME, true, &r, err);
  if (rc == CDL_OK && cdl_lsq_chain_constants_read(cdl_span_of(r.data, r.len), c, err) != CDL_OK)
    rc = bad_answer(err, NAME);
  cdl_buf_free(&q);
  cdl_buf_free(&r);
  return rc;
}

static bool is_asked_address(const cdl_lsq_utxo_entry *e, const cdl_span *addrs, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (addrs[i].len == e->address.len && memcmp(addrs[i].ptr, e->address.ptr, e->address.len) == 0)
      return true;
  return false;
}

static bool is_asked_input(const cdl_lsq_utxo_entry *e, const cdl_lsq_txin *ins, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (ins[i].index == e->in.index && memcmp(ins[i].tx_id, e->in.tx_id, 32) == 0)
      return true;
  return false;
}

/* One UTxO query: its answer read and checked to hold only what it asked. */
static int ask_utxo(cli_session *s, const cdl_span *addrs, size_t n_addrs, const cdl_lsq_txin *ins,
                    size_t n_ins, cdl_buf *raw, cdl_lsq_utxo_answer *a, cdl_error *err) {
  const char *name = addrs ? "Cardinal.GetUTxOByAddress" : "Cardinal.GetUTxOByTxIn";
  cdl_buf q;
  cdl_buf_init(&q, 0);
  if (addrs)
    cdl_lsq_enc_utxo_by_address(&q, addrs, n_addrs);
  else
    cdl_lsq_enc_utxo_by_input(&q, ins, n_ins);
  int rc = cli_session_ask(s, cdl_span_of(q.data, q.len), name, true, raw, err);
  cdl_buf_free(&q);
  if (rc == CDL_OK && cdl_lsq_utxo_answer_read(cdl_span_of(raw->data, raw->len), a, err) != CDL_OK)
    return bad_answer(err, name);
  for (size_t i = 0; rc == CDL_OK && i < a->n; i++) {
    bool asked = addrs ? is_asked_address(&a->entries[i], addrs, n_addrs)
                       : is_asked_input(&a->entries[i], ins, n_ins);
    if (!asked)
      rc = cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "the node's answer to %s: an output at %s not asked for", name,
                         addrs ? "an address" : "an input");
  }
  return rc;
}

static int by_input(const void *x, const void *y) {
  const cdl_lsq_utxo_entry *a = x, *b = y;
  int c = memcmp(a->in.tx_id, b->in.tx_id, 32);
  return c != 0 ? c : (a->in.index > b->in.index) - (a->in.index < b->in.index);
}

/* |a| and |b| merged into |out|, sorted by input; an output in both once
 * (a node that gives one input two different outputs is refused). */
static int merge(cdl_lsq_utxo_answer *a, cdl_lsq_utxo_answer *b, cdl_lsq_utxo_answer *out,
                 cdl_error *err) {
  *out = (cdl_lsq_utxo_answer){.complete = a->complete && b->complete};
  out->entries = calloc(a->n + b->n + 1, sizeof *out->entries);
  if (out->entries == NULL)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  if (a->n)
    memcpy(out->entries, a->entries, a->n * sizeof *a->entries);
  if (b->n)
    memcpy(out->entries + a->n, b->entries, b->n * sizeof *b->entries);
  size_t n = a->n + b->n;
  qsort(out->entries, n, sizeof *out->entries, by_input);
  for (size_t i = 0; i < n; i++) {
    const cdl_lsq_utxo_entry *e = &out->entries[i],
                             *prev = out->n ? &out->entries[out->n - 1] : NULL;
    if (prev && by_input(prev, e) == 0) {
      if (prev->lovelace != e->lovelace || prev->address.len != e->address.len ||
          memcmp(prev->address.ptr, e->address.ptr, e->address.len) != 0)
        return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                             "the node gave one input two different outputs");
      continue;
    }
    out->entries[out->n++] = *e;
  }
  return CDL_OK;
}

int cli_session_utxo(cli_session *s, const cdl_span *addrs, size_t n_addrs, const cdl_lsq_txin *ins,
                     size_t n_ins, cdl_buf *raw, cdl_lsq_utxo_answer *a, cdl_error *err) {
  cdl_lsq_utxo_answer by_addr = {.complete = true}, by_in = {.complete = true};
  int rc = CDL_OK;
  if (n_addrs > 0)
    rc = ask_utxo(s, addrs, n_addrs, NULL, 0, &raw[0], &by_addr, err);
  if (rc == CDL_OK && n_ins > 0)
    rc = ask_utxo(s, NULL, 0, ins, n_ins, &raw[1], &by_in, err);
  if (rc == CDL_OK)
    rc = merge(&by_addr, &by_in, a, err);
  cdl_lsq_utxo_answer_free(&by_addr);
  cdl_lsq_utxo_answer_free(&by_in);
  return rc;
}

int cli_session_update_state(cli_session *s, cdl_arena *arena, cdl_buf *raw,
                             cdl_byron_update_state *st, cdl_error *err) {
  static const char NAME[] = "GetUpdateInterfaceState";
  CDL_TRY(cli_session_ask(s, cdl_span_of(Q_UPDATE_STATE, sizeof Q_UPDATE_STATE), NAME, false, raw,
                          err));
  /* QueryIfCurrent: [state] when the era matched, [era, era] when not. */
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, raw->data, raw->len, err);
  size_t n;
  if (cdl_cbor_read_array(&cur, &n, "era match") != CDL_OK)
    return bad_answer(err, NAME);
  if (n != 1)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "the node's answer to %s: not in the Byron era",
                         NAME);
  cdl_byron_ctx ctx = {arena, err, 0};
  if (cdl_byron_update_state_decode(raw->data + cur.pos, raw->len - cur.pos, &ctx, st) != CDL_OK)
    return bad_answer(err, NAME);
  return CDL_OK;
}

/* Days from 1970-01-01 to January 1st of |year| (proleptic Gregorian). */
static int64_t days_to_year(int64_t year) {
  int64_t y = year - 1;
  return 365 * (year - 1970) + (y / 4 - y / 100 + y / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
}

int cli_session_system_start(cli_session *s, int64_t *unix_seconds, cdl_error *err) {
  static const char NAME[] = "GetSystemStart";
  cdl_buf r;
  cdl_buf_init(&r, 0);
  int rc =
      cli_session_ask(s, cdl_span_of(Q_SYSTEM_START, sizeof Q_SYSTEM_START), NAME, false, &r, err);
  uint64_t year = 0, day = 0, pico = 0;
  if (rc == CDL_OK) { /* UTCTime: [year, day of year (1-based), picoseconds of the day] */
    cdl_cbor_cursor cur;
    cdl_cbor_cursor_init(&cur, r.data, r.len, err);
    rc = cdl_cbor_expect_array(&cur, 3, "system start");
    if (rc == CDL_OK)
      rc = cdl_cbor_read_uint_max(&cur, 9999, &year, "year");
    if (rc == CDL_OK)
      rc = cdl_cbor_read_uint_max(&cur, 366, &day, "day of year");
    if (rc == CDL_OK)
      rc = cdl_cbor_read_uint_max(&cur, 86401000000000000ull, &pico, "picoseconds");
    if (rc == CDL_OK)
      rc = cdl_cbor_expect_end(&cur, "system start");
    if (rc == CDL_OK && (year < 1970 || day < 1))
      rc = cdl_error_set(err, CDL_E_RANGE, 0, "year %llu, day %llu", (unsigned long long)year,
                         (unsigned long long)day);
    if (rc != CDL_OK)
      rc = bad_answer(err, NAME);
  }
  if (rc == CDL_OK)
    *unix_seconds = (days_to_year((int64_t)year) + (int64_t)day - 1) * 86400 +
                    (int64_t)(pico / 1000000000000ull);
  cdl_buf_free(&r);
  return rc;
}

int cli_query_update_state(const cli_node_opts *o, cdl_arena *arena, cdl_buf *raw,
                           cdl_byron_update_state *st, cdl_error *err) {
  cli_session s;
  int rc = cli_session_open(o, &s, err);
  if (rc == CDL_OK)
    rc = cli_session_update_state(&s, arena, raw, st, err);
  cli_session_close(&s);
  return rc;
}

int cli_query_protocol_params(const cli_node_opts *o, cdl_byron_version *pv,
                              cdl_byron_protocol_params *pp, cdl_error *err) {
  cdl_arena arena;
  cdl_arena_init(&arena, 16u << 20);
  cdl_buf raw;
  cdl_buf_init(&raw, 0);
  cdl_byron_update_state st;
  int rc = cli_query_update_state(o, &arena, &raw, &st, err);
  if (rc == CDL_OK)
    *pv = st.adopted_pv, *pp = st.adopted_pp;
  cdl_buf_free(&raw);
  cdl_arena_free(&arena);
  return rc;
}

int cli_query_constants(const cli_node_opts *o, cdl_lsq_chain_constants *c, cdl_error *err) {
  cli_session s;
  int rc = cli_session_open(o, &s, err);
  if (rc == CDL_OK)
    rc = cli_session_constants(&s, c, err);
  cli_session_close(&s);
  return rc;
}

int cli_report_node(const cdl_error *err) {
  if (err->code == CLI_E_NOT_CARDINAL)
    return cli_fail(CLI_RULE_NOT_CARDINAL, EXIT_REJECTED, "%s", err->message);
  return cli_report(err);
}
