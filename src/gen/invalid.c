/*
 * invalid.c: invalid chains with one known defect (`cardinal-cli chain
 * generate-invalid`, docs/genesis.md). The source chain is replayed
 * through a ledger that checks every signature; from a place the seed
 * picks, each case (invalid_cases.c) forges the block(s) that break its
 * rule, and the ledger must refuse the last of them with exactly that rule
 * before anything is written: the reported block and rule are checked
 * facts, not intentions.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"

const cdl_gen_invalid_case *cdl_gen_invalid_cases(size_t *n) {
  static cdl_gen_invalid_case cases[64];
  const gen_case_impl *impl = gen_case_table(n);
  CDL_ASSERT(*n <= 64);
  for (size_t i = 0; i < *n; i++) cases[i] = impl[i].info;
  return cases;
}

int cdl_gen_split_chunk(const uint8_t *data, size_t len, cdl_span **blocks, size_t *n,
                        cdl_error *err) {
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, data, len, err);
  size_t cap = 0;
  *blocks = NULL;
  *n = 0;
  while (cdl_cbor_remaining(&cur) > 0) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 1024;
      cdl_span *grown = realloc(*blocks, cap * sizeof *grown);
      if (grown == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
      *blocks = grown;
    }
    CDL_TRY(cdl_cbor_skip(&cur, &(*blocks)[*n]));
    (*n)++;
  }
  return CDL_OK;
}

bool gen_inv_is_main(const gen_inv *v, size_t i) { return i < v->n_src && !v->src[i].is_ebb; }

cdl_buf *gen_inv_push(gen_inv *v) {
  if (v->n_out == v->cap_out) {
    size_t cap = v->cap_out ? v->cap_out * 2 : 8;
    cdl_buf *grown = realloc(v->out, cap * sizeof *grown);
    if (grown == NULL) return NULL;
    v->out = grown;
    v->cap_out = cap;
  }
  cdl_buf *b = &v->out[v->n_out++];
  cdl_buf_init(b, 0);
  return b;
}

static void clear_out(gen_inv *v) {
  for (size_t i = 0; i < v->n_out; i++) cdl_buf_free(&v->out[i]);
  v->n_out = 0;
  v->applied = 0;
}

int gen_inv_signer(gen_inv *v, size_t i, const cdl_key **issuer, const cdl_key **delegate) {
  const cdl_byron_header *h = &v->src[i].header;
  *issuer = NULL;
  for (size_t g = 0; g < v->d->secrets.n_genesis; g++)
    if (memcmp(v->d->secrets.genesis[g].xpub, h->leader_key, 64) == 0)
      *issuer = &v->d->secrets.genesis[g];
  uint8_t hash[28];
  cdl_byron_key_hash(h->cert.delegate_pk, hash);
  *delegate = gen_keyring_find(&v->ring, hash);
  if (*issuer == NULL || *delegate == NULL)
    return cdl_error_set(v->err, CDL_E_NOT_FOUND, 0,
                         "block %zu is signed by keys the genesis directory does not hold", i);
  return CDL_OK;
}

int gen_inv_reforge(gen_inv *v, size_t i, const gen_reforge *o, cdl_buf *out) {
  const cdl_byron_header *h = &v->src[i].header;
  const cdl_key *issuer, *delegate;
  CDL_TRY(gen_inv_signer(v, i, &issuer, &delegate));
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(v->l, &tip);
  uint32_t magic = v->d->genesis.protocol_magic;
  forge_main_spec s = {.network_magic = magic,
                       .header_magic = o->header_magic ? o->header_magic : magic,
                       .prev_hash = o->prev          ? o->prev
                                    : tip.at_genesis ? v->d->genesis.hash
                                                     : tip.hash,
                       .block_no = h->difficulty,
                       .epoch = o->move_slot ? o->epoch : h->epoch,
                       .slot_in_epoch = o->move_slot ? o->slot_in_epoch : h->slot_in_epoch,
                       .issuer = issuer,
                       .delegate = o->delegate ? o->delegate : delegate,
                       .cert_epoch = h->cert.epoch,
                       .block_version = h->block_version,
                       .extra_proof_len = o->extra_proof_len};
  cdl_span body = o->body.len > 0 ? o->body : v->src[i].body.raw;
  return forge_main_block(&s, body, out, v->err);
}

int gen_inv_apply(gen_inv *v, const cdl_buf *bytes, cdl_rejection *rej) {
  cdl_arena scratch;
  cdl_arena_init(&scratch, 0);
  cdl_byron_ctx ctx = {&scratch, v->err, 0};
  cdl_byron_block blk;
  int rc = cdl_byron_block_decode(bytes->data, bytes->len, &ctx, &blk);
  if (rc == CDL_OK)
    rc = cdl_ledger_apply_block(v->l, &blk, rej);
  else
    rc = cdl_error_set(v->err, rc, 0, "a forged block does not decode: %s", v->err->message);
  cdl_arena_free(&scratch);
  return rc;
}

static int decode_source(gen_inv *v, const cdl_span *blocks, size_t n) {
  v->src = cdl_arena_calloc(&v->arena, n + 1, sizeof *v->src);
  if (v->src == NULL) return cdl_error_set(v->err, CDL_E_NOMEM, 0, "out of memory");
  cdl_byron_ctx ctx = {&v->arena, v->err, 0};
  for (size_t i = 0; i < n; i++) {
    int rc = cdl_byron_block_decode(blocks[i].ptr, blocks[i].len, &ctx, &v->src[i]);
    if (rc != CDL_OK)
      return cdl_error_set(v->err, rc, 0, "source block %zu does not decode: %s", i,
                           v->err->message);
  }
  v->n_src = n;
  return CDL_OK;
}

/* The source block joins the state: the ledger, the wallet, the keyring. */
static int advance(gen_inv *v, size_t i) {
  cdl_rejection rej;
  int rc = cdl_ledger_apply_block(v->l, &v->src[i], &rej);
  if (rc == CDL_E_REJECTED)
    return cdl_error_set(v->err, rc, 0, "the source chain is invalid at block %zu: %s (%s)", i,
                         rej.rule, rej.detail);
  if (rc != CDL_OK) return cdl_error_set(v->err, rc, 0, "out of memory");
  CDL_TRY(gen_wallet_scan(&v->wallet, &v->src[i]));
  return gen_keyring_scan(&v->ring, v->d, &v->src[i]);
}

/* Runs a case at place i and checks its last block is refused with the
 * case's rule (the blocks before it, if any, were applied by the case). */
static int attempt(gen_inv *v, const gen_case_impl *c, size_t i, cdl_gen_invalid_result *res) {
  clear_out(v);
  CDL_TRY(c->make(v, i));
  CDL_ASSERT(v->n_out > 0 && v->applied + 1 == v->n_out);
  const cdl_buf *last = &v->out[v->n_out - 1];
  cdl_rejection rej;
  int rc = gen_inv_apply(v, last, &rej);
  if (rc == CDL_OK)
    return cdl_error_set(v->err, CDL_E_USAGE, 0, "case %s: the ledger accepted the bad block",
                         c->info.name);
  if (rc != CDL_E_REJECTED) return rc;
  if (strcmp(rej.rule, c->info.expected_rule) != 0) return CDL_E_NOT_FOUND;
  cdl_arena scratch;
  cdl_arena_init(&scratch, 0);
  cdl_byron_ctx ctx = {&scratch, v->err, 0};
  cdl_byron_block blk;
  rc = cdl_byron_block_decode(last->data, last->len, &ctx, &blk);
  if (rc == CDL_OK) {
    *res = (cdl_gen_invalid_result){.case_name = c->info.name,
                                    .expected_rule = c->info.expected_rule,
                                    .block_no = cdl_byron_block_number(&blk),
                                    .block_index = i + v->n_out - 1};
    cdl_byron_block_slot(&blk, v->epoch_slots, &res->slot);
    memcpy(res->hash, cdl_byron_block_hash(&blk), 32);
  }
  cdl_arena_free(&scratch);
  return rc;
}

static int search(gen_inv *v, const gen_case_impl *c, uint64_t seed, cdl_gen_invalid_result *res,
                  size_t *place) {
  cdl_gen_rng_seed(&v->rng, seed);
  size_t start = (size_t)cdl_gen_rng_below(&v->rng, v->n_src);
  for (size_t i = 0; i < v->n_src; i++) {
    if (i >= start && c->eligible(v, i)) {
      int rc = attempt(v, c, i, res);
      if (rc == CDL_OK) {
        *place = i;
        return CDL_OK;
      }
      if (rc != CDL_E_NOT_FOUND) return rc;
      if (v->applied > 0) break; /* the case moved the ledger: no retry */
    }
    CDL_TRY(advance(v, i));
  }
  return cdl_error_set(v->err, CDL_E_NOT_FOUND, 0,
                       "the chain has no place for case %s from the seed's starting block %zu",
                       c->info.name, start);
}

static int write_result(const gen_inv *v, const cdl_span *blocks, size_t place, FILE *out,
                        cdl_error *err) {
  for (size_t i = 0; i < place; i++)
    if (fwrite(blocks[i].ptr, 1, blocks[i].len, out) != blocks[i].len)
      return cdl_error_set(err, CDL_E_IO, 0, "cannot write the chain");
  for (size_t i = 0; i < v->n_out; i++)
    if (fwrite(v->out[i].data, 1, v->out[i].len, out) != v->out[i].len)
      return cdl_error_set(err, CDL_E_IO, 0, "cannot write the chain");
  return fflush(out) == 0 ? CDL_OK : cdl_error_set(err, CDL_E_IO, 0, "cannot write the chain");
}

static int setup(gen_inv *v, const cdl_gen_dir *d, double pbft_threshold, cdl_error *err) {
  *v = (gen_inv){
      .d = d, .err = err, .epoch_slots = cdl_byron_epoch_slots(d->genesis.k), .pbft_threshold = pbft_threshold};
  cdl_arena_init(&v->arena, 0);
  cdl_buf_init(&v->scratch, 0);
  cdl_buf_init(&v->body_bytes, 0);
  forge_body_init(&v->body);
  cdl_ledger_config cfg = {.protocol_magic = d->genesis.protocol_magic,
                           .requires_magic = d->requires_magic,
                           .k = d->genesis.k,
                           .pbft_threshold = pbft_threshold};
  CDL_TRY(cdl_ledger_new(&d->genesis, &cfg, &v->l, err));
  if (gen_wallet_init(&v->wallet, d) != CDL_OK || gen_keyring_init(&v->ring, d) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  return CDL_OK;
}

static void teardown(gen_inv *v) {
  clear_out(v);
  free(v->out);
  if (v->l) cdl_ledger_del(v->l);
  gen_wallet_free(&v->wallet);
  gen_keyring_free(&v->ring);
  forge_body_free(&v->body);
  cdl_buf_free(&v->scratch);
  cdl_buf_free(&v->body_bytes);
  cdl_arena_free(&v->arena);
}

int cdl_gen_invalid(const cdl_gen_dir *d, const cdl_span *blocks, size_t n_blocks,
                    const char *case_name, uint64_t seed, double pbft_threshold, FILE *out,
                    cdl_gen_invalid_result *res, cdl_error *err) {
  size_t n_cases;
  const gen_case_impl *table = gen_case_table(&n_cases), *c = NULL;
  for (size_t i = 0; i < n_cases; i++)
    if (strcmp(table[i].info.name, case_name) == 0) c = &table[i];
  if (c == NULL)
    return cdl_error_set(err, CDL_E_USAGE, 0, "unknown case '%s' (see --list)", case_name);
  if (n_blocks == 0) return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "the source chain is empty");
  gen_inv v;
  int rc = setup(&v, d, pbft_threshold, err);
  size_t place = 0;
  if (rc == CDL_OK) rc = decode_source(&v, blocks, n_blocks);
  if (rc == CDL_OK) rc = search(&v, c, seed, res, &place);
  if (rc == CDL_OK) rc = write_result(&v, blocks, place, out, err);
  teardown(&v);
  return rc;
}
