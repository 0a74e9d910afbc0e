/*
 * chain_gen.c: valid Byron chains (`cardinal-cli chain generate`,
 * docs/genesis.md): the genesis delegates forge in round-robin order over
 * slots (slot s belongs to genesis key s mod n, as PBFT core nodes take
 * turns), an EBB opens every epoch, and blocks (all, or a share of them)
 * carry transactions between the directory's keys (one input, a payment or
 * several, and the change), re-delegation certificates and an update that
 * is proposed, voted, endorsed and adopted (docs/byron.md 5.4-5.6, 6).
 *
 * Every block is applied to a ledger as soon as it is forged: the ledger
 * both keeps the state the next block needs and proves each block valid.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"

static const char UPDATE_APP[] = "cardinal";

typedef struct chain_gen {
  const cdl_gen_dir *d;
  const cdl_gen_chain_opts *o;
  cdl_gen_chain_stats *st;
  cdl_rejection *rej;
  cdl_error *err;
  FILE *out;
  cdl_ledger *l;
  gen_wallet wallet;
  gen_keyring ring;
  cdl_gen_rng rng;
  uint64_t epoch_slots;
  forge_body body;
  cdl_buf body_bytes, block, scratch;
  cdl_arena arena;
  /* the update under way */
  bool proposed;
  uint8_t proposal_id[32];
  cdl_byron_version target_pv;
  uint8_t voted[CDL_LEDGER_MAX_GENESIS_KEYS + 1];
  uint64_t last_cert_epoch; /* + 1, 0 = none yet */
} chain_gen;

static const uint8_t *tip_hash(const chain_gen *c, cdl_ledger_tip *tip) {
  cdl_ledger_get_tip(c->l, tip);
  return tip->at_genesis ? c->d->genesis.hash : tip->hash;
}

/* Decodes, applies, and on success writes the block and learns from it. */
static int apply_and_write(chain_gen *c, const cdl_buf *bytes) {
  cdl_arena_reset(&c->arena);
  cdl_byron_ctx ctx = {&c->arena, c->err, 0};
  cdl_byron_block blk;
  CDL_TRY(cdl_byron_block_decode(bytes->data, bytes->len, &ctx, &blk));
  int rc = cdl_ledger_apply_block(c->l, &blk, c->rej);
  if (rc == CDL_E_REJECTED)
    return cdl_error_set(c->err, rc, 0, "the ledger refused generated block %llu: %s (%s)",
                         (unsigned long long)cdl_byron_block_number(&blk), c->rej->rule,
                         c->rej->detail);
  if (rc != CDL_OK) return cdl_error_set(c->err, rc, 0, "out of memory applying a block");
  CDL_TRY(gen_wallet_scan(&c->wallet, &blk));
  CDL_TRY(gen_keyring_scan(&c->ring, c->d, &blk));
  if (fwrite(bytes->data, 1, bytes->len, c->out) != bytes->len)
    return cdl_error_set(c->err, CDL_E_IO, 0, "cannot write the chain");
  c->st->bytes += bytes->len;
  if (blk.is_ebb) {
    c->st->ebbs++;
  } else {
    c->st->blocks++;
    c->st->txs += blk.body.n_txs;
    c->st->certificates += blk.body.n_certs;
    c->st->proposals += blk.body.proposal != NULL;
    c->st->votes += blk.body.n_votes;
  }
  return CDL_OK;
}

static int forge_ebb(chain_gen *c, uint64_t epoch) {
  cdl_ledger_tip tip;
  const uint8_t *prev = tip_hash(c, &tip);
  /* An EBB repeats the number of the main block before it; after another
   * EBB (an epoch without main blocks) the number goes up. */
  uint64_t no = tip.at_genesis ? 0 : tip.is_ebb ? tip.block_no + 1 : tip.block_no;
  cdl_forge_ebb(c->d->genesis.protocol_magic, prev, epoch, no, &c->block);
  return apply_and_write(c, &c->block);
}

#define MAX_OUTPUTS 64 /* of a generated tx: about 3.3 KB, under maxTxSize */

/* What a payment of a transaction with |n_out| outputs takes of |spare|:
 * one payment, up to an eighth; several, each between 1/(2 n_out) and
 * 1/n_out, so that outputs split about evenly and a chain of millions of
 * transactions does not grind its outputs into dust too small to spend. */
static uint64_t payment(chain_gen *c, uint64_t spare, size_t n_out) {
  if (n_out == 2) return 1 + cdl_gen_rng_below(&c->rng, spare / 8 + 1);
  return spare / (2 * n_out) + 1 + cdl_gen_rng_below(&c->rng, spare / (2 * n_out) + 1);
}

/* One wallet output spent: payments to random keys (o->outputs_per_tx - 1
 * of them, one by default), the change back to the owner. */
static int add_tx(chain_gen *c, const cdl_byron_protocol_params *pp) {
  payload_input in;
  uint64_t floor_fee = cdl_ledger_min_fee(pp, 1024);
  if (c->wallet.n_keys == 0 ||
      !gen_wallet_take(&c->wallet, c->l, &c->rng, 4 * floor_fee, NULL, &in))
    return CDL_E_NOT_FOUND;
  size_t n_out = c->o->outputs_per_tx > 2 ? c->o->outputs_per_tx : 2;
  uint64_t spare = in.lovelace - 2 * floor_fee, paid = 0;
  payload_output outs[MAX_OUTPUTS];
  for (size_t k = 0; k + 1 < n_out; k++) {
    size_t to = (size_t)cdl_gen_rng_below(&c->rng, c->wallet.n_keys);
    uint64_t pay = payment(c, spare, n_out);
    outs[k] = (payload_output){gen_wallet_address(&c->wallet, to), pay};
    paid += pay;
  }
  size_t owner = (size_t)(in.owner - c->wallet.keys);
  outs[n_out - 1] = (payload_output){gen_wallet_address(&c->wallet, owner), 0};
  payload_tx_spec s = {
      .in = &in, .n_in = 1, .out = outs, .n_out = n_out, .magic = c->d->genesis.protocol_magic};
  uint64_t fee = floor_fee;
  uint8_t id[32];
  for (int round = 0; round < 4; round++) {
    outs[n_out - 1].lovelace = in.lovelace - paid - fee;
    cdl_buf_reset(&c->scratch);
    payload_tx_encode(&s, &c->scratch, id);
    uint64_t need = cdl_ledger_min_fee(pp, c->scratch.len);
    if (need <= fee) break;
    fee = need; /* the size moved with the amounts: price it again */
  }
  if (c->body.txs.len + c->scratch.len + 4096 > pp->max_block_size) {
    gen_wallet_give_back(&c->wallet, &in);
    return CDL_E_LIMIT;
  }
  return cdl_buf_append(&c->body.txs, c->scratch.data, c->scratch.len);
}

/* Whether this block carries transactions: every block, or a share of
 * them drawn from the seed (no draw at share 1, so that the chains of
 * earlier versions stay the same). */
static bool carries_txs(chain_gen *c) {
  if (c->o->tx_share <= 0 || c->o->tx_share >= 1) return true;
  double draw = (double)(cdl_gen_rng_next(&c->rng) >> 11) / 9007199254740992.0;
  return draw < c->o->tx_share;
}

/* Genesis key e mod n hands its signing right to a fresh key, for the
 * next epoch (each genesis key may delegate once per epoch and the
 * genesis certificates hold epoch 0). It takes effect 2k slots later. */
static void add_delegation(chain_gen *c, uint64_t epoch) {
  if (!c->o->delegation || c->last_cert_epoch == epoch + 1) return;
  size_t g = (size_t)(epoch % c->d->secrets.n_genesis);
  cdl_key fresh;
  cdl_gen_redelegate_key(&c->d->secrets.genesis[g], epoch + 1, &fresh);
  cdl_payload_cert_make(&c->d->secrets.genesis[g], fresh.xpub, epoch + 1,
                        c->d->genesis.protocol_magic, &c->body.certs);
  c->last_cert_epoch = epoch + 1;
}

/* The update: a proposal in the first block, then one vote per genesis
 * key while the proposal is registered; headers announce the proposed
 * version, which is how blocks endorse it. */
static void add_update(chain_gen *c, size_t g, const cdl_key *delegate) {
  if (!c->o->updates) return;
  uint32_t magic = c->d->genesis.protocol_magic;
  if (!c->proposed) {
    cdl_byron_version pv = cdl_ledger_protocol_version(c->l);
    c->target_pv = (cdl_byron_version){pv.major, (uint16_t)(pv.minor + 1), 0};
    const cdl_byron_protocol_params *pp = cdl_ledger_params(c->l);
    uint64_t bigger =
        pp->max_tx_size * 2 < pp->max_block_size ? pp->max_tx_size * 2 : pp->max_tx_size + 1;
    uint32_t app = 0;
    bool known = cdl_ledger_app_version(c->l, UPDATE_APP, &app);
    /* One installer, so that the ledger keeps software metadata. */
    static const uint8_t installer[32] = {0x1e};
    uint8_t empty[32];
    cdl_byron_update_data entry;
    cdl_payload_update_data(&entry, cdl_span_of((const uint8_t *)"linux", 5), installer, empty);
    cdl_byron_proposal p = {.block_version = c->target_pv, .metadata = &entry, .n_metadata = 1};
    p.params.scalar[CDL_BYRON_PP_MAX_TX_SIZE] = (cdl_byron_opt_u64){.present = true, .value = bigger};
    p.software_version = (cdl_byron_software_version){
        cdl_span_of((const uint8_t *)UPDATE_APP, sizeof UPDATE_APP - 1), known ? app + 1 : 1};
    cdl_payload_proposal_sign(delegate, &p, magic, &c->body.proposal, c->proposal_id);
    c->proposed = true;
    return;
  }
  cdl_ledger_update_view v;
  cdl_ledger_update_view_get(c->l, &v);
  if (v.registered == 0 || c->voted[g]) return;
  cdl_payload_vote_make(delegate, c->proposal_id, magic, &c->body.votes);
  c->voted[g] = 1;
}

static cdl_byron_version header_version(const chain_gen *c) {
  cdl_byron_version adopted = cdl_ledger_protocol_version(c->l);
  if (c->proposed && (adopted.major != c->target_pv.major || adopted.minor < c->target_pv.minor))
    return c->target_pv;
  return adopted;
}

static int fill_body(chain_gen *c, uint64_t epoch, size_t g, const cdl_key *delegate) {
  forge_body_reset(&c->body);
  const cdl_byron_protocol_params *pp = cdl_ledger_params(c->l);
  uint32_t txs = carries_txs(c) ? c->o->txs_per_block : 0;
  for (uint32_t t = 0; t < txs; t++) {
    int rc = add_tx(c, pp);
    if (rc == CDL_E_NOT_FOUND || rc == CDL_E_LIMIT) break; /* nothing (more) to spend */
    CDL_TRY(rc);
  }
  add_delegation(c, epoch);
  add_update(c, g, delegate);
  forge_body_encode(&c->body, &c->body_bytes);
  return c->body_bytes.failed ? CDL_E_NOMEM : CDL_OK;
}

/* The block of slot |slot|, if its genesis key may sign (PBFT threshold). */
static int forge_main(chain_gen *c, uint64_t slot) {
  CDL_TRY(cdl_ledger_tick(c->l, slot));
  size_t g = (size_t)(slot % c->d->secrets.n_genesis);
  if (!cdl_ledger_pbft_may_sign(c->l, c->d->genesis.boot_stakeholders[g])) {
    c->st->skipped_slots++;
    return CDL_OK;
  }
  const cdl_key *delegate = gen_keyring_delegate(&c->ring, c->d, c->l, g);
  if (delegate == NULL)
    return cdl_error_set(c->err, CDL_E_NOT_FOUND, 0,
                         "no signing key for the delegate of genesis key %zu", g);
  uint64_t epoch = slot / c->epoch_slots;
  CDL_TRY(fill_body(c, epoch, g, delegate));
  cdl_ledger_tip tip;
  const uint8_t *prev = tip_hash(c, &tip);
  forge_main_spec s = {.network_magic = c->d->genesis.protocol_magic,
                       .header_magic = c->d->genesis.protocol_magic,
                       .prev_hash = prev,
                       .block_no = tip.at_genesis ? 0 : tip.block_no + 1,
                       .epoch = epoch,
                       .slot_in_epoch = slot % c->epoch_slots,
                       .issuer = &c->d->secrets.genesis[g],
                       .delegate = delegate,
                       .cert_epoch = epoch,
                       .block_version = header_version(c)};
  CDL_TRY(
      forge_main_block(&s, cdl_span_of(c->body_bytes.data, c->body_bytes.len), &c->block, c->err));
  return apply_and_write(c, &c->block);
}

static int run(chain_gen *c) {
  for (uint64_t slot = 0; slot < c->o->slots; slot++) {
    if (slot % c->epoch_slots == 0) CDL_TRY(forge_ebb(c, slot / c->epoch_slots));
    double draw = (double)(cdl_gen_rng_next(&c->rng) >> 11) / 9007199254740992.0;
    if (draw >= c->o->fill) {
      c->st->skipped_slots++;
      continue;
    }
    CDL_TRY(forge_main(c, slot));
  }
  return CDL_OK;
}

static int setup(chain_gen *c, const cdl_gen_dir *d, const cdl_gen_chain_opts *o) {
  c->epoch_slots = cdl_byron_epoch_slots(d->genesis.k);
  cdl_gen_rng_seed(&c->rng, o->seed);
  forge_body_init(&c->body);
  cdl_buf_init(&c->body_bytes, 0);
  cdl_buf_init(&c->block, 0);
  cdl_buf_init(&c->scratch, 0);
  cdl_arena_init(&c->arena, 0);
  cdl_ledger_config cfg = {.protocol_magic = d->genesis.protocol_magic,
                           .requires_magic = d->requires_magic,
                           .k = d->genesis.k,
                           .pbft_threshold = o->pbft_threshold,
                           .flags = CDL_LEDGER_NO_SIGNATURES};
  CDL_TRY(cdl_ledger_new(&d->genesis, &cfg, &c->l, c->err));
  if (gen_wallet_init(&c->wallet, d) != CDL_OK || gen_keyring_init(&c->ring, d) != CDL_OK)
    return cdl_error_set(c->err, CDL_E_NOMEM, 0, "out of memory");
  return CDL_OK;
}

static void teardown(chain_gen *c) {
  if (c->l != NULL) {
    cdl_ledger_get_tip(c->l, &c->st->tip);
    c->st->protocol_version = cdl_ledger_protocol_version(c->l);
    c->st->max_tx_size = cdl_ledger_params(c->l)->max_tx_size;
    c->st->update_adopted = c->proposed && c->st->protocol_version.minor == c->target_pv.minor &&
                            c->st->protocol_version.major == c->target_pv.major;
    cdl_ledger_del(c->l);
  }
  gen_wallet_free(&c->wallet);
  gen_keyring_free(&c->ring);
  forge_body_free(&c->body);
  cdl_buf_free(&c->body_bytes);
  cdl_buf_free(&c->block);
  cdl_buf_free(&c->scratch);
  cdl_arena_free(&c->arena);
}

/* The generator hands slots to genesis keys round-robin, so in any window
 * of k blocks one key signs up to ceil(k / n) of them; the ledger lets a
 * key sign at most floor(threshold * k) (docs/byron.md section 6). Below
 * that the chain would stall into a few blocks and skipped slots, so such
 * settings are refused up front, naming the smallest threshold that works. */
static int check_pbft_share(const cdl_gen_dir *d, const cdl_gen_chain_opts *o, cdl_error *err) {
  double t = o->pbft_threshold > 0 ? o->pbft_threshold : 0.22; /* the ledger's default */
  uint64_t k = d->genesis.k, n = d->secrets.n_genesis;
  uint64_t allowed = (uint64_t)floor(t * (double)k), needed = (k + n - 1) / n;
  if (n == 0 || needed <= allowed) return CDL_OK;
  double enough = ceil((double)needed * 100.0 / (double)k) / 100.0;
  while (enough < 1.0 && (uint64_t)floor(enough * (double)k) < needed) enough += 0.01;
  return cdl_error_set(err, CDL_E_USAGE, 0,
                       "PBFT signature threshold %.4g lets a genesis key sign %llu of every %llu "
                       "blocks, but round-robin over %llu genesis keys needs %llu: give "
                       "--pbft-threshold %.2f or more (or a genesis with more keys)",
                       t, (unsigned long long)allowed, (unsigned long long)k,
                       (unsigned long long)n, (unsigned long long)needed, enough);
}

int cdl_gen_chain(const cdl_gen_dir *d, const cdl_gen_chain_opts *o, FILE *out,
                  cdl_gen_chain_stats *stats, cdl_rejection *rej, cdl_error *err) {
  if (o->fill <= 0 || o->fill > 1)
    return cdl_error_set(err, CDL_E_USAGE, 0, "--fill must be in (0, 1]");
  if (o->tx_share < 0 || o->tx_share > 1)
    return cdl_error_set(err, CDL_E_USAGE, 0, "--tx-share must be in (0, 1]");
  if (o->outputs_per_tx == 1 || o->outputs_per_tx > MAX_OUTPUTS)
    return cdl_error_set(err, CDL_E_USAGE, 0, "--outputs-per-tx must be 2 to %d",
                         MAX_OUTPUTS);
  CDL_TRY(check_pbft_share(d, o, err));
  chain_gen c;
  memset(stats, 0, sizeof *stats);
  memset(rej, 0, sizeof *rej);
  c = (chain_gen){.d = d, .o = o, .st = stats, .rej = rej, .err = err, .out = out};
  int rc = setup(&c, d, o);
  if (rc == CDL_OK) rc = run(&c);
  if (rc == CDL_OK && fflush(out) != 0)
    rc = cdl_error_set(err, CDL_E_IO, 0, "cannot write the chain");
  teardown(&c);
  return rc;
}
