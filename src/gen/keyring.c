/*
 * keyring.c: the signing keys a generator may need for a block: the
 * genesis delegates of the genesis directory and the re-delegation keys
 * that certificates in the chain named (derived again from the issuing
 * genesis key by cdl_gen_redelegate_key, below). The ledger says who the
 * current delegate of a genesis key is (docs/byron.md 5.5); the keyring
 * finds its secret.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"

void cdl_gen_redelegate_key(const cdl_key *genesis_key, uint64_t epoch, cdl_key *out) {
  uint8_t in[16 + 64 + 8] = "cdl-redelegation", entropy[32];
  memcpy(in + 16, genesis_key->xprv, 64);
  for (int i = 0; i < 8; i++) in[80 + i] = (uint8_t)(epoch >> (8 * i));
  cdl_blake2b_256(entropy, in, sizeof in);
  cdl_key_derive(out, entropy);
}

int gen_keyring_add(gen_keyring *r, const cdl_key *k) {
  uint8_t h[28];
  cdl_key_hash(k, h);
  if (gen_keyring_find(r, h) != NULL) return CDL_OK;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    cdl_key *keys = realloc(r->keys, cap * sizeof *keys);
    if (keys == NULL) return CDL_E_NOMEM;
    r->keys = keys;
    uint8_t(*hashes)[28] = realloc(r->hashes, cap * sizeof *hashes);
    if (hashes == NULL) return CDL_E_NOMEM;
    r->hashes = hashes;
    r->cap = cap;
  }
  r->keys[r->n] = *k;
  memcpy(r->hashes[r->n], h, 28);
  r->n++;
  return CDL_OK;
}

const cdl_key *gen_keyring_find(const gen_keyring *r, const uint8_t hash[28]) {
  for (size_t i = 0; i < r->n; i++)
    if (memcmp(r->hashes[i], hash, 28) == 0) return &r->keys[i];
  return NULL;
}

int gen_keyring_init(gen_keyring *r, const cdl_gen_dir *d) {
  memset(r, 0, sizeof *r);
  for (size_t i = 0; i < d->secrets.n_genesis; i++)
    CDL_TRY(gen_keyring_add(r, &d->secrets.delegates[i]));
  return CDL_OK;
}

void gen_keyring_free(gen_keyring *r) {
  free(r->keys);
  free(r->hashes);
  memset(r, 0, sizeof *r);
}

int gen_keyring_scan(gen_keyring *r, const cdl_gen_dir *d, const cdl_byron_block *blk) {
  if (blk->is_ebb) return CDL_OK;
  for (size_t c = 0; c < blk->body.n_certs; c++) {
    const cdl_byron_dlg_cert *cert = &blk->body.certs[c];
    for (size_t g = 0; g < d->secrets.n_genesis; g++) {
      if (memcmp(d->secrets.genesis[g].xpub, cert->issuer_pk, 64) != 0) continue;
      cdl_key k;
      cdl_gen_redelegate_key(&d->secrets.genesis[g], cert->epoch, &k);
      if (memcmp(k.xpub, cert->delegate_pk, 64) == 0) CDL_TRY(gen_keyring_add(r, &k));
    }
  }
  return CDL_OK;
}

const cdl_key *gen_keyring_delegate(const gen_keyring *r, const cdl_gen_dir *d, const cdl_ledger *l,
                                    size_t g) {
  uint8_t delegate[28];
  if (!cdl_ledger_delegate_of(l, d->genesis.boot_stakeholders[g], delegate)) return NULL;
  return gen_keyring_find(r, delegate);
}
