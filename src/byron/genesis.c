/*
 * genesis.c: the Byron genesis file (docs/byron.md section 4): its hash
 * (Blake2b-256 of the canonical JSON rendering, 2.4), its schema (4.1) and
 * the genesis UTxO (4.2, 2.5). The schema reader follows cardano-ledger's
 * Cardano.Chain.Genesis.Data: numbers may be JSON integers or decimal
 * strings; keys are Base64, ids and signatures hex, addresses Base58.
 * Beyond the reference, k and the slot length are bounded (docs/genesis.md
 * "Bounds"), and a genesis read from a file names the file in its errors.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "internal.h"

static int schema_error(cdl_error *err, const char *field, const char *problem) {
  return cdl_error_set(err, CDL_E_GENESIS, 0, "genesis field \"%s\": %s", field, problem);
}

static int out_of_memory(cdl_error *err, const char *what) {
  return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory reading %s", what);
}

static const cdl_cjson *get_typed(const cdl_cjson *obj, const char *key,
                                  uint8_t type) {
  const cdl_cjson *v = cdl_cjson_get(obj, key);
  return v != NULL && v->type == type ? v : NULL;
}

/* A non-negative integer given as a JSON number or a decimal string. */
static int read_u64(const cdl_cjson *v, const char *field, uint64_t *out,
                    cdl_error *err) {
  if (v == NULL) return schema_error(err, field, "missing");
  if (v->type == CDL_CJSON_INT) {
    if (v->integer < 0) return schema_error(err, field, "negative");
    *out = (uint64_t)v->integer;
    return CDL_OK;
  }
  if (v->type != CDL_CJSON_STRING || v->string.len == 0 || v->string.len > 20)
    return schema_error(err, field, "not an integer or a decimal string");
  uint64_t x = 0;
  for (size_t i = 0; i < v->string.len; i++) {
    uint8_t c = v->string.ptr[i];
    if (c < '0' || c > '9') return schema_error(err, field, "not a decimal string");
    if (x > (UINT64_MAX - (c - '0')) / 10) return schema_error(err, field, "larger than 2^64-1");
    x = x * 10 + (c - '0');
  }
  *out = x;
  return CDL_OK;
}

static int read_u64_max(const cdl_cjson *v, const char *field, uint64_t max,
                        uint64_t *out, cdl_error *err) {
  CDL_TRY(read_u64(v, field, out, err));
  return *out <= max ? CDL_OK : schema_error(err, field, "out of range");
}

/* Hex text of exactly n bytes. */
static int read_hex(cdl_span s, const char *field, uint8_t *out, size_t n,
                    cdl_error *err) {
  size_t got = 0;
  cdl_error local = {0};
  if (s.len != 2 * n ||
      cdl_hex_decode((const char *)s.ptr, s.len, out, n, &got, &local) != CDL_OK)
    return schema_error(err, field, "not hex of the right length");
  return CDL_OK;
}

static int read_b64(cdl_span s, const char *field, uint8_t *out, size_t n,
                    cdl_error *err) {
  uint8_t tmp[96];
  size_t got = 0;
  cdl_error local = {0};
  if (s.len > 128 || cdl_base64_decode((const char *)s.ptr, s.len, tmp, sizeof tmp,
                                       &got, &local) != CDL_OK || got != n)
    return schema_error(err, field, "not Base64 of the right length");
  memcpy(out, tmp, n);
  return CDL_OK;
}

static int read_protocol_consts(const cdl_cjson *root, cdl_byron_genesis *g,
                                cdl_error *err) {
  const cdl_cjson *pc = get_typed(root, "protocolConsts", CDL_CJSON_OBJECT);
  uint64_t magic = 0, start = 0;
  if (pc == NULL) return schema_error(err, "protocolConsts", "missing object");
  CDL_TRY(read_u64(cdl_cjson_get(pc, "k"), "protocolConsts.k", &g->k, err));
  if (g->k == 0) return schema_error(err, "protocolConsts.k", "must be positive");
  /* A node keeps up to k blocks and rolls back as far: bounded so that no
   * genesis can make it reserve or walk absurd amounts (docs/genesis.md). */
  if (g->k > CDL_BYRON_MAX_K)
    return schema_error(err, "protocolConsts.k", "larger than 1000000, the most Cardinal takes");
  CDL_TRY(read_u64_max(cdl_cjson_get(pc, "protocolMagic"), "protocolConsts.protocolMagic",
                       UINT32_MAX, &magic, err));
  g->protocol_magic = (uint32_t)magic;
  CDL_TRY(read_u64_max(cdl_cjson_get(root, "startTime"), "startTime", INT64_MAX, &start, err));
  g->start_time = (int64_t)start;
  return CDL_OK;
}

static int read_params(const cdl_cjson *root, cdl_byron_protocol_params *p,
                       cdl_error *err) {
  const cdl_cjson *bv = get_typed(root, "blockVersionData", CDL_CJSON_OBJECT);
  if (bv == NULL) return schema_error(err, "blockVersionData", "missing object");
  const cdl_cjson *sf = get_typed(bv, "softforkRule", CDL_CJSON_OBJECT);
  const cdl_cjson *fee = get_typed(bv, "txFeePolicy", CDL_CJSON_OBJECT);
  if (sf == NULL) return schema_error(err, "blockVersionData.softforkRule", "missing object");
  if (fee == NULL) return schema_error(err, "blockVersionData.txFeePolicy", "missing object");
  uint64_t script;
  CDL_TRY(read_u64_max(cdl_cjson_get(bv, "scriptVersion"), "blockVersionData.scriptVersion",
                       UINT16_MAX, &script, err));
  p->script_version = (uint16_t)script;
#define BV "blockVersionData."
  const struct {
    const cdl_cjson *obj;
    const char *key, *name;
    uint64_t *out;
  } fields[] = {
      {bv, "slotDuration", BV "slotDuration", &p->slot_duration_ms},
      {bv, "maxBlockSize", BV "maxBlockSize", &p->max_block_size},
      {bv, "maxHeaderSize", BV "maxHeaderSize", &p->max_header_size},
      {bv, "maxTxSize", BV "maxTxSize", &p->max_tx_size},
      {bv, "maxProposalSize", BV "maxProposalSize", &p->max_proposal_size},
      {bv, "mpcThd", BV "mpcThd", &p->mpc_thd},
      {bv, "heavyDelThd", BV "heavyDelThd", &p->heavy_del_thd},
      {bv, "updateVoteThd", BV "updateVoteThd", &p->update_vote_thd},
      {bv, "updateProposalThd", BV "updateProposalThd", &p->update_proposal_thd},
      {bv, "updateImplicit", BV "updateImplicit", &p->update_implicit},
      {bv, "unlockStakeEpoch", BV "unlockStakeEpoch", &p->unlock_stake_epoch},
      {sf, "initThd", BV "softforkRule.initThd", &p->softfork_init},
      {sf, "minThd", BV "softforkRule.minThd", &p->softfork_min},
      {sf, "thdDecrement", BV "softforkRule.thdDecrement", &p->softfork_decrement},
      {fee, "summand", BV "txFeePolicy.summand", &p->fee_summand_nano},
      {fee, "multiplier", BV "txFeePolicy.multiplier", &p->fee_multiplier_nano},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    CDL_TRY(
        read_u64(cdl_cjson_get(fields[i].obj, fields[i].key), fields[i].name, fields[i].out, err));
  /* The reference keeps the summand in whole lovelace: `div` 10^9, i.e.
   * truncated (Common/TxFeePolicy.hs FromJSON); a proposal's rounds. */
  p->fee_summand_nano -= p->fee_summand_nano % 1000000000u;
  /* Slots are the node's clock: a slot of no time, or one past a day,
   * is no network (and would divide by zero or overflow in microseconds). */
  if (p->slot_duration_ms == 0 || p->slot_duration_ms > CDL_BYRON_MAX_SLOT_MS)
    return schema_error(err, BV "slotDuration", "not between 1 and 86400000 (ms)");
#undef BV
  return CDL_OK;
}

static int read_boot_stakeholders(const cdl_cjson *root, cdl_arena *arena,
                                  cdl_byron_genesis *g, cdl_error *err) {
  const cdl_cjson *bs = get_typed(root, "bootStakeholders", CDL_CJSON_OBJECT);
  if (bs == NULL) return schema_error(err, "bootStakeholders", "missing object");
  g->boot_stakeholders = cdl_arena_calloc(arena, bs->count, 28);
  if (g->boot_stakeholders == NULL && bs->count) return out_of_memory(err, "bootStakeholders");
  for (size_t i = 0; i < bs->count; i++) {
    uint64_t weight;
    CDL_TRY(read_hex(bs->keys[i], "bootStakeholders", g->boot_stakeholders[i], 28, err));
    CDL_TRY(read_u64_max(bs->items[i], "bootStakeholders weight", UINT16_MAX, &weight, err));
    if (i > 0 && memcmp(g->boot_stakeholders[i - 1], g->boot_stakeholders[i], 28) == 0)
      return schema_error(err, "bootStakeholders", "duplicate stakeholder");
  }
  g->n_boot_stakeholders = bs->count;
  return CDL_OK;
}

static int read_delegation(const cdl_cjson *entry, cdl_span key, uint32_t magic,
                           cdl_byron_genesis_delegation *d, cdl_error *err) {
  const cdl_cjson *issuer = get_typed(entry, "issuerPk", CDL_CJSON_STRING);
  const cdl_cjson *delegate = get_typed(entry, "delegatePk", CDL_CJSON_STRING);
  const cdl_cjson *cert = get_typed(entry, "cert", CDL_CJSON_STRING);
  if (issuer == NULL || delegate == NULL || cert == NULL)
    return schema_error(err, "heavyDelegation", "entry lacks issuerPk, delegatePk or cert");
  CDL_TRY(read_hex(key, "heavyDelegation key", d->issuer_id, 28, err));
  CDL_TRY(read_b64(issuer->string, "heavyDelegation.issuerPk", d->issuer_pk, 64, err));
  CDL_TRY(read_b64(delegate->string, "heavyDelegation.delegatePk", d->delegate_pk, 64, err));
  CDL_TRY(read_hex(cert->string, "heavyDelegation.cert", d->signature, 64, err));
  CDL_TRY(read_u64(cdl_cjson_get(entry, "omega"), "heavyDelegation.omega", &d->omega, err));
  uint8_t id[28];
  cdl_byron_key_hash(d->issuer_pk, id);
  if (memcmp(id, d->issuer_id, 28) != 0)
    return schema_error(err, "heavyDelegation", "key is not the hash of issuerPk");
  cdl_byron_dlg_cert c = {.epoch = d->omega, .issuer_pk = d->issuer_pk,
                          .delegate_pk = d->delegate_pk, .signature = d->signature};
  if (!cdl_byron_dlg_cert_verify(&c, magic))
    return schema_error(err, "heavyDelegation", "certificate signature does not verify");
  return CDL_OK;
}

static int read_delegations(const cdl_cjson *root, cdl_arena *arena,
                            cdl_byron_genesis *g, cdl_error *err) {
  const cdl_cjson *hd = get_typed(root, "heavyDelegation", CDL_CJSON_OBJECT);
  if (hd == NULL) return schema_error(err, "heavyDelegation", "missing object");
  g->delegations = cdl_arena_calloc(arena, hd->count, sizeof *g->delegations);
  if (g->delegations == NULL && hd->count) return out_of_memory(err, "heavyDelegation");
  for (size_t i = 0; i < hd->count; i++) {
    if (hd->items[i]->type != CDL_CJSON_OBJECT)
      return schema_error(err, "heavyDelegation", "entry is not an object");
    CDL_TRY(read_delegation(hd->items[i], hd->keys[i], g->protocol_magic, &g->delegations[i], err));
  }
  g->n_delegations = hd->count;
  return CDL_OK;
}

static int read_avvm(const cdl_cjson *root, cdl_arena *arena, cdl_byron_genesis *g,
                     cdl_error *err) {
  const cdl_cjson *av = get_typed(root, "avvmDistr", CDL_CJSON_OBJECT);
  if (av == NULL) return schema_error(err, "avvmDistr", "missing object");
  g->avvm = cdl_arena_calloc(arena, av->count, sizeof *g->avvm);
  if (g->avvm == NULL && av->count) return out_of_memory(err, "avvmDistr");
  for (size_t i = 0; i < av->count; i++) {
    CDL_TRY(read_b64(av->keys[i], "avvmDistr key", g->avvm[i].pk, 32, err));
    CDL_TRY(read_u64_max(av->items[i], "avvmDistr balance", CDL_BYRON_MAX_LOVELACE,
                         &g->avvm[i].lovelace, err));
  }
  g->n_avvm = av->count;
  return CDL_OK;
}

static int read_balances(const cdl_cjson *root, cdl_arena *arena,
                         cdl_byron_genesis *g, cdl_error *err) {
  const cdl_cjson *nb = get_typed(root, "nonAvvmBalances", CDL_CJSON_OBJECT);
  if (nb == NULL) return schema_error(err, "nonAvvmBalances", "missing object");
  g->balances = cdl_arena_calloc(arena, nb->count, sizeof *g->balances);
  if (g->balances == NULL && nb->count) return out_of_memory(err, "nonAvvmBalances");
  for (size_t i = 0; i < nb->count; i++) {
    cdl_byron_genesis_balance *b = &g->balances[i];
    uint8_t decoded[512], *bytes;
    size_t n = 0;
    char text[512];
    if (nb->keys[i].len >= sizeof text) return schema_error(err, "nonAvvmBalances", "address too long");
    memcpy(text, nb->keys[i].ptr, nb->keys[i].len);
    text[nb->keys[i].len] = '\0';
    CDL_TRY(cdl_base58_decode(text, nb->keys[i].len, decoded, sizeof decoded, &n, err));
    if ((bytes = cdl_arena_alloc(arena, n)) == NULL) return out_of_memory(err, "nonAvvmBalances");
    memcpy(bytes, decoded, n);
    cdl_byron_address addr;
    cdl_byron_ctx ctx = {arena, err, 0};
    CDL_TRY(cdl_byron_address_decode(bytes, n, &ctx, &addr));
    b->address = cdl_span_of(bytes, n);
    CDL_TRY(read_u64_max(nb->items[i], "nonAvvmBalances balance", CDL_BYRON_MAX_LOVELACE,
                         &b->lovelace, err));
  }
  g->n_balances = nb->count;
  return CDL_OK;
}

int cdl_byron_genesis_hash(const uint8_t *text, size_t len, uint8_t out[32],
                           cdl_error *err) {
  cdl_arena arena;
  cdl_buf rendered;
  cdl_cjson *root = NULL;
  cdl_arena_init(&arena, 0);
  cdl_buf_init(&rendered, 0);
  int rc = cdl_cjson_parse(text, len, &arena, &root, err);
  if (rc == CDL_OK) rc = cdl_cjson_render(root, &rendered);
  if (rc == CDL_OK) cdl_blake2b_256(out, rendered.data, rendered.len);
  cdl_buf_free(&rendered);
  cdl_arena_free(&arena);
  return rc;
}

int cdl_byron_genesis_load(const uint8_t *text, size_t len, cdl_arena *arena,
                           cdl_byron_genesis *g, cdl_error *err) {
  cdl_cjson *root = NULL;
  memset(g, 0, sizeof *g);
  CDL_TRY(cdl_byron_genesis_hash(text, len, g->hash, err));
  CDL_TRY(cdl_cjson_parse(text, len, arena, &root, err));
  if (root->type != CDL_CJSON_OBJECT) return schema_error(err, "(top level)", "not an object");
  CDL_TRY(read_protocol_consts(root, g, err));
  CDL_TRY(read_params(root, &g->params, err));
  CDL_TRY(read_boot_stakeholders(root, arena, g, err));
  CDL_TRY(read_delegations(root, arena, g, err));
  CDL_TRY(read_avvm(root, arena, g, err));
  return read_balances(root, arena, g, err);
}

/* ---- Genesis files ---- */

/* Byte |offset| of |text| as a 1-based line and column. */
static void line_of(const cdl_buf *text, size_t offset, size_t *line, size_t *column) {
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset && i < text->len; i++) {
    bool newline = text->data[i] == '\n';
    *line += newline;
    *column = newline ? 1 : *column + 1;
  }
}

/* |local|, from reading |path|'s |text|, with the file named: a syntax
 * error's offset is a byte of the file, so its line and column too. */
static int name_file(const char *path, const cdl_buf *text, const cdl_error *local,
                     cdl_error *err) {
  if (local->code != CDL_E_JSON)
    return cdl_error_set(err, local->code, local->offset, "%s: %s", path, local->message);
  size_t line, column;
  line_of(text, local->offset, &line, &column);
  return cdl_error_set(err, local->code, local->offset, "%s: line %zu, column %zu: %s", path, line,
                       column, local->message);
}

int cdl_byron_genesis_load_file(const char *path, size_t max_bytes, cdl_buf *text, cdl_arena *arena,
                                cdl_byron_genesis *g, cdl_error *err) {
  CDL_TRY(cdl_file_read_all(path, max_bytes, text, err)); /* its errors name the file */
  cdl_error local = {0};
  int rc = cdl_byron_genesis_load(text->data, text->len, arena, g, &local);
  return rc == CDL_OK ? CDL_OK : name_file(path, text, &local, err);
}

int cdl_byron_genesis_hash_file(const char *path, size_t max_bytes, uint8_t out[32],
                                cdl_error *err) {
  cdl_buf text;
  cdl_buf_init(&text, 0);
  cdl_error local = {0};
  int rc = cdl_file_read_all(path, max_bytes, &text, err);
  if (rc == CDL_OK && (rc = cdl_byron_genesis_hash(text.data, text.len, out, &local)) != CDL_OK)
    name_file(path, &text, &local, err);
  cdl_buf_free(&text);
  return rc;
}

bool cdl_byron_requires_magic(uint32_t protocol_magic) {
  return protocol_magic != CDL_BYRON_MAINNET_MAGIC && protocol_magic != 633343913u;
}

static int compare_utxo(const void *a, const void *b) {
  return memcmp(((const cdl_byron_utxo_entry *)a)->tx_id,
                ((const cdl_byron_utxo_entry *)b)->tx_id, 32);
}

int cdl_byron_genesis_utxo(const cdl_byron_genesis *g, bool requires_magic,
                           cdl_arena *arena, cdl_byron_utxo_entry **out,
                           size_t *n, cdl_error *err) {
  size_t total = g->n_avvm + g->n_balances;
  cdl_byron_utxo_entry *u = cdl_arena_calloc(arena, total, sizeof *u);
  if (u == NULL && total) return out_of_memory(err, "the genesis UTxO");
  for (size_t i = 0; i < g->n_avvm; i++) {
    cdl_buf addr;
    cdl_buf_init(&addr, 0);
    int rc = cdl_byron_address_make_redeem(g->avvm[i].pk, requires_magic,
                                           g->protocol_magic, &addr);
    uint8_t *copy = rc == CDL_OK ? cdl_arena_alloc(arena, addr.len) : NULL;
    if (copy != NULL) memcpy(copy, addr.data, addr.len);
    u[i].address = cdl_span_of(copy, addr.len);
    cdl_buf_free(&addr);
    if (copy == NULL) return out_of_memory(err, "the genesis UTxO");
    u[i].lovelace = g->avvm[i].lovelace;
  }
  for (size_t i = 0; i < g->n_balances; i++) {
    u[g->n_avvm + i].address = g->balances[i].address;
    u[g->n_avvm + i].lovelace = g->balances[i].lovelace;
  }
  for (size_t i = 0; i < total; i++) cdl_blake2b_256(u[i].tx_id, u[i].address.ptr, u[i].address.len);
  /* Sorted by tx id, which also exposes duplicate addresses. */
  if (total > 1) qsort(u, total, sizeof *u, compare_utxo);
  for (size_t i = 1; i < total; i++) {
    if (memcmp(u[i - 1].tx_id, u[i].tx_id, 32) == 0)
      return cdl_error_set(err, CDL_E_GENESIS, 0, "genesis UTxO: duplicate address");
  }
  *out = u;
  *n = total;
  return CDL_OK;
}
