/*
 * genesis_dir.c: reading a genesis directory back (docs/genesis.md):
 * genesis.json through the strict loader (docs/byron.md 4), then every key
 * file beside it, each matched against the genesis so that a stray or
 * foreign key is an error, not a silently wrong chain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen_internal.h"

#define GENESIS_MAX_BYTES ((size_t)64 << 20)

void cdl_gen_dir_free(cdl_gen_dir *d) {
  cdl_gen_secrets_free(&d->secrets);
  cdl_buf_free(&d->genesis_text);
  cdl_arena_free(&d->arena);
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* Reads stem.000.ext, stem.001.ext, ... until one is missing. */
static int read_keys(const char *dir, const char *stem, cdl_key **out, size_t *n, cdl_error *err) {
  char path[4096];
  *n = 0;
  for (;;) {
    snprintf(path, sizeof path, "%s/%s.%03zu.skey", dir, stem, *n);
    if (!exists(path)) return CDL_OK;
    cdl_key *grown = realloc(*out, (*n + 1) * sizeof **out);
    if (grown == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory reading keys");
    *out = grown;
    CDL_TRY(cdl_keyfile_read_signing(path, &(*out)[*n], NULL, err));
    (*n)++;
  }
}

static int read_avvm(const char *dir, cdl_gen_secrets *s, cdl_error *err) {
  char path[4096];
  for (;;) {
    snprintf(path, sizeof path, "%s/avvm-secrets.%03zu.skey", dir, s->n_avvm);
    if (!exists(path)) return CDL_OK;
    uint8_t(*grown)[32] = realloc(s->avvm, (s->n_avvm + 1) * sizeof *s->avvm);
    if (grown == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory reading keys");
    s->avvm = grown;
    CDL_TRY(cdl_keyfile_read_redeem(path, s->avvm[s->n_avvm], err));
    s->n_avvm++;
  }
}

static int genesis_index(const cdl_byron_genesis *g, const cdl_key *k) {
  uint8_t h[28];
  cdl_key_hash(k, h);
  for (size_t i = 0; i < g->n_boot_stakeholders; i++)
    if (memcmp(g->boot_stakeholders[i], h, 28) == 0) return (int)i;
  return -1;
}

/* Orders genesis keys as the genesis lists them and pairs each with its
 * delegate key and certificate. */
static int match_delegation(cdl_gen_dir *d, cdl_key *delegates, size_t n_delegates,
                            cdl_error *err) {
  cdl_gen_secrets *s = &d->secrets;
  const cdl_byron_genesis *g = &d->genesis;
  if (g->n_boot_stakeholders == 0)
    return cdl_error_set(err, CDL_E_GENESIS, 0, "the genesis has no genesis keys: nobody can sign");
  if (s->n_genesis != g->n_boot_stakeholders)
    return cdl_error_set(err, CDL_E_GENESIS, 0, "%zu genesis key files for %zu genesis keys",
                         s->n_genesis, g->n_boot_stakeholders);
  cdl_key *ordered = calloc(s->n_genesis, sizeof *ordered);
  s->delegates = calloc(s->n_genesis, sizeof *s->delegates);
  s->certs = calloc(s->n_genesis, sizeof *s->certs);
  s->genesis_file = calloc(s->n_genesis, sizeof *s->genesis_file);
  if (!ordered || !s->delegates || !s->certs || !s->genesis_file) {
    free(ordered);
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  }
  int rc = CDL_OK;
  for (size_t i = 0; i < s->n_genesis && rc == CDL_OK; i++) {
    int at = genesis_index(g, &s->genesis[i]);
    if (at < 0)
      rc = cdl_error_set(err, CDL_E_GENESIS, 0, "genesis-keys.%03zu is not a genesis key", i);
    else
      ordered[at] = s->genesis[i], s->genesis_file[at] = i;
  }
  for (size_t i = 0; i < g->n_delegations && rc == CDL_OK; i++) {
    const cdl_byron_genesis_delegation *c = &g->delegations[i];
    int at = -1;
    for (size_t j = 0; j < g->n_boot_stakeholders; j++)
      if (memcmp(g->boot_stakeholders[j], c->issuer_id, 28) == 0) at = (int)j;
    size_t k = 0;
    while (k < n_delegates && memcmp(delegates[k].xpub, c->delegate_pk, 64) != 0) k++;
    if (at < 0 || k == n_delegates)
      rc = cdl_error_set(err, CDL_E_GENESIS, 0, "no delegate key file for heavyDelegation %zu", i);
    else {
      s->delegates[at] = delegates[k];
      s->certs[at] = *c;
    }
  }
  if (rc == CDL_OK && g->n_delegations != s->n_genesis)
    rc = cdl_error_set(err, CDL_E_GENESIS, 0, "every genesis key needs a genesis delegation");
  free(s->genesis);
  s->genesis = ordered;
  return rc;
}

/* Every poor key must own a nonAvvmBalances entry, every AVVM secret an
 * avvmDistr entry. */
static int match_balances(const cdl_gen_dir *d, cdl_error *err) {
  const cdl_gen_secrets *s = &d->secrets;
  const cdl_byron_genesis *g = &d->genesis;
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  int rc = CDL_OK;
  for (size_t i = 0; i < s->n_poor && rc == CDL_OK; i++) {
    cdl_key_address(&s->poor[i], d->requires_magic, g->protocol_magic, &addr);
    size_t j = 0;
    while (j < g->n_balances &&
           !cdl_span_eq(g->balances[j].address, cdl_span_of(addr.data, addr.len)))
      j++;
    if (j == g->n_balances)
      rc = cdl_error_set(err, CDL_E_GENESIS, 0, "poor-keys.%03zu owns no genesis balance", i);
  }
  cdl_buf_free(&addr);
  for (size_t i = 0; i < s->n_avvm && rc == CDL_OK; i++) {
    uint8_t pk[32];
    cdl_ed25519_seed_public(s->avvm[i], pk);
    size_t j = 0;
    while (j < g->n_avvm && memcmp(g->avvm[j].pk, pk, 32) != 0) j++;
    if (j == g->n_avvm)
      rc = cdl_error_set(err, CDL_E_GENESIS, 0, "avvm-secrets.%03zu is in no avvmDistr entry", i);
  }
  return rc;
}

static int load_keys(const char *dir, cdl_gen_dir *d, cdl_error *err) {
  cdl_gen_secrets *s = &d->secrets;
  cdl_key *delegates = NULL;
  size_t n_delegates = 0;
  int rc = read_keys(dir, "genesis-keys", &s->genesis, &s->n_genesis, err);
  if (rc == CDL_OK) rc = read_keys(dir, "delegate-keys", &delegates, &n_delegates, err);
  if (rc == CDL_OK) rc = match_delegation(d, delegates, n_delegates, err);
  free(delegates);
  if (rc == CDL_OK) rc = read_keys(dir, "poor-keys", &s->poor, &s->n_poor, err);
  if (rc == CDL_OK) rc = read_avvm(dir, s, err);
  if (rc == CDL_OK) rc = match_balances(d, err);
  return rc;
}

int cdl_gen_dir_load(const char *dir, cdl_gen_dir *d, cdl_error *err) {
  memset(d, 0, sizeof *d);
  cdl_arena_init(&d->arena, 0);
  cdl_buf_init(&d->genesis_text, GENESIS_MAX_BYTES);
  char path[4096];
  snprintf(path, sizeof path, "%s/genesis.json", dir);
  int rc = cdl_byron_genesis_load_file(path, GENESIS_MAX_BYTES, &d->genesis_text, &d->arena,
                                       &d->genesis, err);
  if (rc == CDL_OK) {
    d->requires_magic = cdl_byron_requires_magic(d->genesis.protocol_magic);
    rc = load_keys(dir, d, err);
  }
  if (rc != CDL_OK) cdl_gen_dir_free(d);
  return rc;
}
