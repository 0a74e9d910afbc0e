/*
 * genesis.c: creating a new Byron network (`cardinal-cli genesis create`,
 * docs/genesis.md): genesis keys, their delegates and heavyweight
 * delegation certificates, AVVM and non-AVVM balances, written as a
 * genesis.json in the format cardano-node reads (docs/byron.md 4.1) plus
 * one key file per secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen_internal.h"

void cdl_gen_secrets_free(cdl_gen_secrets *s) {
  /* Secret keys do not outlive their use in freed memory. */
  if (s->genesis) sodium_memzero(s->genesis, s->n_genesis * sizeof *s->genesis);
  if (s->delegates) sodium_memzero(s->delegates, s->n_genesis * sizeof *s->delegates);
  if (s->poor) sodium_memzero(s->poor, s->n_poor * sizeof *s->poor);
  if (s->avvm) sodium_memzero(s->avvm, s->n_avvm * sizeof *s->avvm);
  free(s->genesis);
  free(s->delegates);
  free(s->poor);
  free(s->certs);
  free(s->avvm);
  free(s->genesis_file);
  memset(s, 0, sizeof *s);
}

/* Secrets come from the seeded PRNG with --seed (reproducible devnets and
 * tests), otherwise from the system CSPRNG. */
static void entropy(const cdl_gen_genesis_spec *spec, cdl_gen_rng *rng, uint8_t out[32]) {
  if (spec->has_seed)
    cdl_gen_rng_bytes(rng, out, 32);
  else
    randombytes_buf(out, 32);
}

static int make_secrets(const cdl_gen_genesis_spec *spec, cdl_gen_secrets *s) {
  memset(s, 0, sizeof *s);
  s->n_genesis = spec->genesis_keys;
  s->n_poor = spec->poor_addresses;
  s->n_avvm = spec->avvm_entries;
  s->genesis = calloc(s->n_genesis, sizeof *s->genesis);
  s->delegates = calloc(s->n_genesis, sizeof *s->delegates);
  s->certs = calloc(s->n_genesis, sizeof *s->certs);
  s->poor = calloc(s->n_poor + 1, sizeof *s->poor);
  s->avvm = calloc(s->n_avvm + 1, sizeof *s->avvm);
  if (!s->genesis || !s->delegates || !s->certs || !s->poor || !s->avvm) return CDL_E_NOMEM;
  cdl_gen_rng rng;
  cdl_gen_rng_seed(&rng, spec->seed);
  uint8_t e[32];
  for (size_t i = 0; i < s->n_genesis; i++) {
    entropy(spec, &rng, e);
    cdl_key_derive(&s->genesis[i], e);
    entropy(spec, &rng, e);
    cdl_key_derive(&s->delegates[i], e);
    cdl_payload_delegation_make(&s->genesis[i], s->delegates[i].xpub, 0, spec->protocol_magic,
                                &s->certs[i]);
  }
  for (size_t i = 0; i < s->n_poor; i++) {
    entropy(spec, &rng, e);
    cdl_key_derive(&s->poor[i], e);
  }
  for (size_t i = 0; i < s->n_avvm; i++) entropy(spec, &rng, s->avvm[i]);
  sodium_memzero(e, sizeof e);
  return CDL_OK;
}

static json_t *hex_json(const uint8_t *data, size_t len) {
  char text[2 * 64 + 1];
  CDL_ASSERT(len <= 64);
  cdl_hex_encode(data, len, text);
  return json_stringn(text, 2 * len);
}

static json_t *b64_json(const uint8_t *data, size_t len, int variant) {
  char text[128];
  sodium_bin2base64(text, sizeof text, data, len, variant);
  return json_string(text);
}

static json_t *lovelace_json(uint64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%" PRIu64, v);
  return json_string(text);
}

static json_t *delegation_json(const cdl_gen_secrets *s) {
  json_t *boot = json_object(), *heavy = json_object();
  for (size_t i = 0; i < s->n_genesis; i++) {
    char id[57];
    cdl_hex_encode(s->certs[i].issuer_id, 28, id);
    json_object_set_new(boot, id, json_integer(1));
    json_t *c = json_object();
    json_object_set_new(c, "omega", json_integer(0));
    json_object_set_new(c, "issuerPk",
                        b64_json(s->certs[i].issuer_pk, 64, sodium_base64_VARIANT_ORIGINAL));
    json_object_set_new(c, "delegatePk",
                        b64_json(s->certs[i].delegate_pk, 64, sodium_base64_VARIANT_ORIGINAL));
    json_object_set_new(c, "cert", hex_json(s->certs[i].signature, 64));
    json_object_set_new(heavy, id, c);
  }
  json_t *pair = json_object();
  json_object_set_new(pair, "bootStakeholders", boot);
  json_object_set_new(pair, "heavyDelegation", heavy);
  return pair;
}

static json_t *balances_json(const cdl_gen_genesis_spec *spec, const cdl_gen_secrets *s,
                             json_t **avvm_out) {
  json_t *poor = json_object(), *avvm = json_object();
  bool with_magic = cdl_byron_requires_magic(spec->protocol_magic);
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  for (size_t i = 0; i < s->n_poor; i++) {
    char text[256];
    cdl_key_address(&s->poor[i], with_magic, spec->protocol_magic, &addr);
    cdl_byron_address_to_base58(cdl_span_of(addr.data, addr.len), text, sizeof text);
    json_object_set_new(poor, text, lovelace_json(spec->poor_balance));
  }
  cdl_buf_free(&addr);
  for (size_t i = 0; i < s->n_avvm; i++) {
    uint8_t pk[32];
    cdl_ed25519_seed_public(s->avvm[i], pk);
    json_t *key = b64_json(pk, 32, sodium_base64_VARIANT_URLSAFE);
    json_object_set_new(avvm, json_string_value(key), lovelace_json(spec->avvm_balance));
    json_decref(key);
  }
  *avvm_out = avvm;
  return poor;
}

static json_t *genesis_json(const cdl_gen_genesis_spec *spec, const cdl_gen_secrets *s) {
  json_t *root = json_object(), *avvm = NULL;
  json_t *delegation = delegation_json(s);
  json_object_update(root, delegation);
  json_decref(delegation);
  json_object_set_new(root, "nonAvvmBalances", balances_json(spec, s, &avvm));
  json_object_set_new(root, "avvmDistr", avvm);
  json_object_set_new(root, "blockVersionData", gen_params_json(&spec->params));
  json_t *pc = json_object();
  json_object_set_new(pc, "k", json_integer((json_int_t)spec->k));
  json_object_set_new(pc, "protocolMagic", json_integer(spec->protocol_magic));
  json_object_set_new(root, "protocolConsts", pc);
  json_object_set_new(root, "startTime", json_integer(spec->start_time));
  return root;
}

static int check_spec(const cdl_gen_genesis_spec *spec, cdl_error *err) {
  if (spec->genesis_keys == 0 || spec->genesis_keys > CDL_LEDGER_MAX_GENESIS_KEYS)
    return cdl_error_set(err, CDL_E_USAGE, 0, "--genesis-keys must be 1..%d",
                         CDL_LEDGER_MAX_GENESIS_KEYS);
  /* The bounds every genesis is loaded with (docs/genesis.md "Bounds"):
   * checked before anything is written. */
  if (spec->k == 0 || spec->k > CDL_BYRON_MAX_K)
    return cdl_error_set(err, CDL_E_USAGE, 0, "--k must be 1..%u", CDL_BYRON_MAX_K);
  if (spec->params.slot_duration_ms == 0 || spec->params.slot_duration_ms > CDL_BYRON_MAX_SLOT_MS)
    return cdl_error_set(err, CDL_E_USAGE, 0, "slotDuration must be 1..%u ms",
                         CDL_BYRON_MAX_SLOT_MS);
  unsigned __int128 total = (unsigned __int128)spec->avvm_entries * spec->avvm_balance +
                            (unsigned __int128)spec->poor_addresses * spec->poor_balance;
  if (total > CDL_BYRON_MAX_LOVELACE)
    return cdl_error_set(err, CDL_E_USAGE, 0, "balances total more than 45e15 lovelace");
  if (spec->params.max_tx_size >= spec->params.max_block_size)
    return cdl_error_set(err, CDL_E_USAGE, 0, "maxTxSize must be below maxBlockSize");
  return CDL_OK;
}

static int write_json_exclusive(const char *path, json_t *value, cdl_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    return cdl_error_set(err, errno == EEXIST ? CDL_E_USAGE : CDL_E_IO, 0, "cannot create %s: %s",
                         path, strerror(errno));
  char *text = json_dumps(value, JSON_INDENT(4) | JSON_SORT_KEYS);
  size_t len = text ? strlen(text) : 0;
  bool ok = text != NULL && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
  ok = close(fd) == 0 && ok;
  free(text);
  return ok ? CDL_OK : cdl_error_set(err, CDL_E_IO, 0, "cannot write %s", path);
}

static void file_name(char *out, size_t cap, const char *dir, const char *stem, size_t i,
                      const char *ext) {
  snprintf(out, cap, "%s/%s.%03zu.%s", dir, stem, i, ext);
}

static int write_secrets(const cdl_gen_secrets *s, const char *dir, cdl_error *err) {
  char path[4096];
  for (size_t i = 0; i < s->n_genesis; i++) {
    file_name(path, sizeof path, dir, "genesis-keys", i, "skey");
    CDL_TRY(cdl_keyfile_write_signing(path, &s->genesis[i], CDL_KEYFILE_ENVELOPE,
                                      "Genesis Signing Key", err));
    file_name(path, sizeof path, dir, "delegate-keys", i, "skey");
    CDL_TRY(cdl_keyfile_write_signing(path, &s->delegates[i], CDL_KEYFILE_ENVELOPE,
                                      "Delegate Signing Key", err));
    file_name(path, sizeof path, dir, "delegation-cert", i, "json");
    CDL_TRY(cdl_keyfile_write_cert(path, &s->certs[i], err));
  }
  for (size_t i = 0; i < s->n_poor; i++) {
    file_name(path, sizeof path, dir, "poor-keys", i, "skey");
    CDL_TRY(cdl_keyfile_write_signing(path, &s->poor[i], CDL_KEYFILE_ENVELOPE,
                                      "Payment Signing Key", err));
  }
  for (size_t i = 0; i < s->n_avvm; i++) {
    file_name(path, sizeof path, dir, "avvm-secrets", i, "skey");
    CDL_TRY(cdl_keyfile_write_redeem(path, s->avvm[i], err));
  }
  return CDL_OK;
}

int cdl_gen_genesis_create(const cdl_gen_genesis_spec *spec, const char *dir, cdl_error *err) {
  CDL_TRY(check_spec(spec, err));
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot create %s: %s", dir, strerror(errno));
  cdl_gen_secrets s;
  int rc = make_secrets(spec, &s);
  if (rc != CDL_OK) {
    cdl_gen_secrets_free(&s);
    return cdl_error_set(err, rc, 0, "out of memory making %u keys", spec->genesis_keys);
  }
  json_t *root = genesis_json(spec, &s);
  char path[4096];
  snprintf(path, sizeof path, "%s/genesis.json", dir);
  rc = write_json_exclusive(path, root, err);
  json_decref(root);
  if (rc == CDL_OK) rc = write_secrets(&s, dir, err);
  cdl_gen_secrets_free(&s);
  return rc;
}
