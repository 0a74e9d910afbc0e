/*
 * invalid_cases.c: one defect per case, each named after the ledger rule
 * that must refuse it (docs/design.md section 7 lists the rules; the
 * order of checks is in src/ledger/block_rules.c and tx_rules.c). A case
 * replaces source block i, whose place, number and signer it keeps unless
 * breaking one of those is the point.
 */
#include <string.h>

#include "gen_internal.h"

/* ---- shared pieces ---- */

static int push_reforged(gen_inv *v, size_t i, const gen_reforge *o) {
  cdl_buf *b = gen_inv_push(v);
  if (b == NULL) return CDL_E_NOMEM;
  return gen_inv_reforge(v, i, o, b);
}

/* Block i again with v->body as its body. */
static int push_with_body(gen_inv *v, size_t i) {
  forge_body_encode(&v->body, &v->body_bytes);
  gen_reforge o = {.body = cdl_span_of(v->body_bytes.data, v->body_bytes.len)};
  return push_reforged(v, i, &o);
}

static void fresh_key(gen_inv *v, cdl_key *k) {
  uint8_t e[32];
  cdl_gen_rng_bytes(&v->rng, e, 32);
  cdl_key_derive(k, e);
}

static bool take(gen_inv *v, const cdl_key *not_owner, payload_input *in) {
  uint64_t min = 4 * cdl_ledger_min_fee(cdl_ledger_params(v->l), 1024);
  return gen_wallet_take(&v->wallet, v->l, &v->rng, min, not_owner, in);
}

static cdl_span owner_address(const gen_inv *v, const payload_input *in) {
  return gen_wallet_address(&v->wallet, (size_t)(in->owner - v->wallet.keys));
}

/* A tx spending |in| back to its owner, paying |fee| (negative: creating
 * value), with |pad| filler bytes; witnessed as |wit| says (NULL: owner). */
static void add_tx(gen_inv *v, const payload_input *in, size_t n_in, int64_t fee, size_t pad,
                   const cdl_key *const *wit, size_t n_wit) {
  uint64_t total = 0;
  for (size_t k = 0; k < n_in; k++) total += in[k].lovelace;
  payload_output out = {owner_address(v, &in[0]), (uint64_t)((int64_t)total - fee)};
  payload_tx_spec s = {.in = in,
                       .n_in = n_in,
                       .out = &out,
                       .n_out = 1,
                       .pad = pad,
                       .witness_keys = wit,
                       .n_witnesses = n_wit,
                       .magic = v->d->genesis.protocol_magic};
  uint8_t id[32];
  payload_tx_encode(&s, &v->body.txs, id);
}

/* The fee that makes a one-input, one-output tx valid. */
static int64_t fair_fee(const gen_inv *v) {
  return (int64_t)cdl_ledger_min_fee(cdl_ledger_params(v->l), 400);
}

static bool main_block(const gen_inv *v, size_t i) { return gen_inv_is_main(v, i); }
static bool after_main(const gen_inv *v, size_t i) {
  return i >= 1 && gen_inv_is_main(v, i - 1) && gen_inv_is_main(v, i);
}

/* ---- header and chain cases ---- */

static int bad_block_signature(gen_inv *v, size_t i) {
  gen_reforge o = {0};
  CDL_TRY(push_reforged(v, i, &o));
  cdl_buf *b = &v->out[v->n_out - 1];
  /* The signature is the last item of the header's consensus data; find
   * it by decoding rather than guessing an offset. */
  cdl_arena a;
  cdl_arena_init(&a, 0);
  cdl_byron_ctx ctx = {&a, v->err, 0};
  cdl_byron_block blk;
  int rc = cdl_byron_block_decode(b->data, b->len, &ctx, &blk);
  if (rc == CDL_OK) b->data[blk.header.signature - b->data + 7] ^= 0x01;
  cdl_arena_free(&a);
  return rc;
}

static bool has_other_body(const gen_inv *v, size_t i) {
  if (!gen_inv_is_main(v, i)) return false;
  for (size_t j = 0; j < v->n_src; j++)
    if (gen_inv_is_main(v, j) && !cdl_span_eq(v->src[j].body.raw, v->src[i].body.raw)) return true;
  return false;
}

static int header_body_mismatch(gen_inv *v, size_t i) {
  size_t start = (size_t)cdl_gen_rng_below(&v->rng, v->n_src), j = 0;
  for (size_t k = 0; k < v->n_src; k++) {
    j = (start + k) % v->n_src;
    if (gen_inv_is_main(v, j) && !cdl_span_eq(v->src[j].body.raw, v->src[i].body.raw)) break;
  }
  cdl_buf *b = gen_inv_push(v);
  if (b == NULL) return CDL_E_NOMEM;
  /* Block i's own header (signature intact), block j's body. */
  static const uint8_t extra[] = {0x81, 0xa0};
  cdl_cbor_enc_array(b, 2);
  cdl_cbor_enc_uint(b, 1);
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_raw(b, v->src[i].header.raw);
  cdl_cbor_enc_raw(b, v->src[j].body.raw);
  cdl_cbor_enc_raw(b, cdl_span_of(extra, sizeof extra));
  return cdl_cbor_enc_status(b);
}

static int wrong_prev_hash(gen_inv *v, size_t i) {
  uint8_t prev[32];
  cdl_gen_rng_bytes(&v->rng, prev, 32);
  gen_reforge o = {.prev = prev};
  return push_reforged(v, i, &o);
}

static int slot_not_increasing(gen_inv *v, size_t i) {
  const cdl_byron_header *before = &v->src[i - 1].header;
  gen_reforge o = {
      .move_slot = true, .epoch = before->epoch, .slot_in_epoch = before->slot_in_epoch};
  return push_reforged(v, i, &o);
}

static int signer_not_delegate(gen_inv *v, size_t i) {
  cdl_key stranger;
  fresh_key(v, &stranger);
  gen_reforge o = {.delegate = &stranger};
  return push_reforged(v, i, &o);
}

static int wrong_protocol_magic(gen_inv *v, size_t i) {
  gen_reforge o = {.header_magic = v->d->genesis.protocol_magic ^ 0x1u};
  return push_reforged(v, i, &o);
}

static int ebb_wrong_slot(gen_inv *v, size_t i) {
  cdl_ledger_tip tip;
  cdl_ledger_get_tip(v->l, &tip);
  cdl_buf *b = gen_inv_push(v);
  if (b == NULL) return CDL_E_NOMEM;
  /* The EBB of the epoch under way, after blocks of that epoch. */
  cdl_forge_ebb(v->d->genesis.protocol_magic, tip.hash, v->src[i - 1].header.epoch, tip.block_no,
                b);
  return cdl_cbor_enc_status(b);
}

static int header_too_large(gen_inv *v, size_t i) {
  gen_reforge o = {.extra_proof_len = (size_t)cdl_ledger_params(v->l)->max_header_size + 1};
  return push_reforged(v, i, &o);
}

static int block_too_large(gen_inv *v, size_t i) {
  /* Size is judged before the transactions: a tx from nowhere will do. */
  payload_input nowhere = {.index = 0, .owner = &v->d->secrets.delegates[0], .lovelace = 1};
  cdl_gen_rng_bytes(&v->rng, nowhere.tx_id, 32);
  forge_body_reset(&v->body);
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  cdl_key_address(nowhere.owner, v->d->requires_magic, v->d->genesis.protocol_magic, &addr);
  payload_output out = {cdl_span_of(addr.data, addr.len), 1};
  payload_tx_spec s = {.in = &nowhere,
                       .n_in = 1,
                       .out = &out,
                       .n_out = 1,
                       .pad = (size_t)cdl_ledger_params(v->l)->max_block_size,
                       .magic = v->d->genesis.protocol_magic};
  uint8_t id[32];
  payload_tx_encode(&s, &v->body.txs, id);
  cdl_buf_free(&addr);
  return push_with_body(v, i);
}

/* Block i and those after it re-signed by block i's signer until the
 * PBFT window refuses one; the accepted ones go on the ledger here. */
static int pbft_threshold(gen_inv *v, size_t i) {
  const cdl_key *issuer, *delegate;
  CDL_TRY(gen_inv_signer(v, i, &issuer, &delegate));
  uint64_t limit = v->d->genesis.k + 2;
  for (size_t j = i; j < v->n_src && j < i + limit; j++) {
    cdl_buf *b = gen_inv_push(v);
    if (b == NULL) return CDL_E_NOMEM;
    cdl_ledger_tip tip;
    cdl_ledger_get_tip(v->l, &tip);
    if (v->src[j].is_ebb) {
      cdl_forge_ebb(v->d->genesis.protocol_magic, tip.hash, v->src[j].ebb.epoch, tip.block_no, b);
    } else {
      forge_main_spec s = {.network_magic = v->d->genesis.protocol_magic,
                           .header_magic = v->d->genesis.protocol_magic,
                           .prev_hash = tip.hash,
                           .block_no = tip.block_no + 1,
                           .epoch = v->src[j].header.epoch,
                           .slot_in_epoch = v->src[j].header.slot_in_epoch,
                           .issuer = issuer,
                           .delegate = delegate,
                           .cert_epoch = v->src[j].header.cert.epoch,
                           .block_version = v->src[j].header.block_version};
      CDL_TRY(forge_main_block(&s, v->src[j].body.raw, b, v->err));
    }
    cdl_rejection rej;
    int rc = gen_inv_apply(v, b, &rej);
    if (rc == CDL_E_REJECTED)
      return strcmp(rej.rule, CDL_RULE_PBFT_THRESHOLD) == 0 ? CDL_OK : CDL_E_NOT_FOUND;
    CDL_TRY(rc);
    v->applied++;
  }
  return CDL_E_NOT_FOUND; /* the chain ended before the window filled */
}

/* ---- transaction cases: block i's body replaced by crafted txs ---- */

static int tx_too_large(gen_inv *v, size_t i) {
  payload_input in;
  if (!take(v, NULL, &in)) return CDL_E_NOT_FOUND;
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, fair_fee(v), (size_t)cdl_ledger_params(v->l)->max_tx_size + 1, NULL, 0);
  return push_with_body(v, i);
}

static int double_spend_block(gen_inv *v, size_t i) {
  payload_input in;
  if (!take(v, NULL, &in)) return CDL_E_NOT_FOUND;
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, fair_fee(v), 0, NULL, 0);
  add_tx(v, &in, 1, fair_fee(v) + 1, 0, NULL, 0); /* another tx, the same input */
  return push_with_body(v, i);
}

static int double_spend_chain(gen_inv *v, size_t i) {
  payload_input in;
  if (!gen_wallet_spent(&v->wallet, v->l, &in)) return CDL_E_NOT_FOUND;
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, fair_fee(v), 0, NULL, 0);
  return push_with_body(v, i);
}

/* Two inputs of different owners and only the second one's witness: the
 * ledger pairs witnesses with inputs by position, so the first input
 * meets a key that does not own it. (With no witness at all, the
 * reference and Cardinal accept the tx: see docs/genesis.md.) */
static int missing_witness(gen_inv *v, size_t i) {
  payload_input in[2];
  if (!take(v, NULL, &in[0])) return CDL_E_NOT_FOUND;
  if (!take(v, in[0].owner, &in[1])) return CDL_E_NOT_FOUND;
  const cdl_key *wit[1] = {in[1].owner};
  forge_body_reset(&v->body);
  add_tx(v, in, 2, 2 * fair_fee(v), 0, wit, 1);
  return push_with_body(v, i);
}

static int wrong_witness(gen_inv *v, size_t i) {
  payload_input in;
  if (!take(v, NULL, &in)) return CDL_E_NOT_FOUND;
  cdl_key stranger;
  fresh_key(v, &stranger);
  const cdl_key *wit[1] = {&stranger};
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, fair_fee(v), 0, wit, 1);
  return push_with_body(v, i);
}

static int bad_witness_signature(gen_inv *v, size_t i) {
  payload_input in;
  if (!take(v, NULL, &in)) return CDL_E_NOT_FOUND;
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, fair_fee(v), 0, NULL, 0);
  v->body.txs.data[v->body.txs.len - 3] ^= 0x01; /* inside the witness's signature */
  return push_with_body(v, i);
}

static int fee_too_low(gen_inv *v, size_t i) {
  payload_input in;
  if (!take(v, NULL, &in)) return CDL_E_NOT_FOUND;
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, 1, 0, NULL, 0);
  return push_with_body(v, i);
}

static int value_not_preserved(gen_inv *v, size_t i) {
  payload_input in;
  if (!take(v, NULL, &in)) return CDL_E_NOT_FOUND;
  forge_body_reset(&v->body);
  add_tx(v, &in, 1, -1, 0, NULL, 0);
  return push_with_body(v, i);
}

/* ---- delegation and update payloads ---- */

static int bad_delegation_certificate(gen_inv *v, size_t i) {
  /* A genesis key that has not delegated for the next epoch yet; the
   * ledger's check order puts the signature after the epoch checks, and
   * a wrong pick is caught by the rule check and retried elsewhere. */
  size_t n = v->d->secrets.n_genesis;
  size_t g = (size_t)cdl_gen_rng_below(&v->rng, n);
  cdl_key fresh;
  fresh_key(v, &fresh);
  forge_body_reset(&v->body);
  cdl_payload_cert_make(&v->d->secrets.genesis[g], fresh.xpub, v->src[i].header.epoch + 1,
                        v->d->genesis.protocol_magic, &v->body.certs);
  v->body.certs.data[v->body.certs.len - 1] ^= 0x01; /* the signature's last byte */
  return push_with_body(v, i);
}

static int unauthorized_proposal(gen_inv *v, size_t i) {
  cdl_key stranger;
  fresh_key(v, &stranger);
  cdl_byron_version pv = cdl_ledger_protocol_version(v->l);
  pv.minor++;
  uint8_t id[32];
  forge_body_reset(&v->body);
  cdl_payload_proposal_make(&stranger, pv, cdl_ledger_params(v->l)->max_tx_size + 1, "cardinal", 1,
                            v->d->genesis.protocol_magic, &v->body.proposal, id);
  return push_with_body(v, i);
}

/* ---- the table ---- */

#define CASE(name, rule, text, elig, fn) \
  { {name, rule, text}, elig, fn }
static const gen_case_impl CASES[] = {
    CASE("bad-block-signature", CDL_RULE_PBFT_SIGNATURE,
         "a header whose delegate signature does not verify", main_block, bad_block_signature),
    CASE("header-body-mismatch", CDL_RULE_BODY_PROOF, "a block's header with another block's body",
         has_other_body, header_body_mismatch),
    CASE("wrong-prev-hash", CDL_RULE_PREV_HASH,
         "a block naming a previous hash that is not the tip", main_block, wrong_prev_hash),
    CASE("slot-not-increasing", CDL_RULE_SLOT_ORDER, "a block in the slot of the block before it",
         after_main, slot_not_increasing),
    CASE("signer-not-delegate", CDL_RULE_PBFT_NOT_DELEGATE,
         "a block signed by a key no genesis key delegates to", main_block, signer_not_delegate),
    CASE("pbft-threshold", CDL_RULE_PBFT_THRESHOLD,
         "one genesis key signing blocks until it exceeds its share of the last k", main_block,
         pbft_threshold),
    CASE("block-too-large", CDL_RULE_BLOCK_SIZE, "a block over maxBlockSize", main_block,
         block_too_large),
    CASE("header-too-large", CDL_RULE_HEADER_SIZE, "a header over maxHeaderSize", main_block,
         header_too_large),
    CASE("tx-too-large", CDL_RULE_TX_SIZE, "a transaction over maxTxSize", main_block,
         tx_too_large),
    CASE("double-spend-block", CDL_RULE_MISSING_INPUT,
         "two transactions of a block spending one output", main_block, double_spend_block),
    CASE("double-spend-chain", CDL_RULE_MISSING_INPUT,
         "a transaction spending an output an earlier block spent", main_block, double_spend_chain),
    CASE("missing-witness", CDL_RULE_WITNESS_ADDRESS,
         "a transaction lacking the witness of its first input", main_block, missing_witness),
    CASE("wrong-witness", CDL_RULE_WITNESS_ADDRESS,
         "a transaction witnessed by a key that does not own its input", main_block, wrong_witness),
    CASE("bad-witness-signature", CDL_RULE_WITNESS_SIGNATURE,
         "a witness by the right key with a signature that does not verify", main_block,
         bad_witness_signature),
    CASE("fee-too-low", CDL_RULE_FEE_TOO_LOW, "a transaction paying 1 lovelace of fee", main_block,
         fee_too_low),
    CASE("value-not-preserved", CDL_RULE_VALUE_NOT_PRESERVED,
         "a transaction paying out more than it spends", main_block, value_not_preserved),
    CASE("bad-delegation-certificate", CDL_RULE_DLG_SIGNATURE,
         "a delegation certificate whose signature does not verify", main_block,
         bad_delegation_certificate),
    CASE("unauthorized-proposal", CDL_RULE_UPD_PROPOSER,
         "an update proposal from a key that is no genesis delegate", main_block,
         unauthorized_proposal),
    CASE("ebb-wrong-slot", CDL_RULE_SLOT_ORDER, "an epoch boundary block inside its epoch",
         after_main, ebb_wrong_slot),
    CASE("wrong-protocol-magic", CDL_RULE_PROTOCOL_MAGIC,
         "a header carrying another network's magic", main_block, wrong_protocol_magic),
};
#undef CASE

const gen_case_impl *gen_case_table(size_t *n) {
  *n = sizeof CASES / sizeof CASES[0];
  return CASES;
}
