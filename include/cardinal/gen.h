/*
 * cardinal/gen.h: making Byron networks and chains on demand
 * (docs/genesis.md for operators, docs/byron.md sections 1-6 for formats):
 *
 *   genesis   a new network's genesis.json and every secret behind it,
 *             written to and read back from a directory (genesis.c,
 *             genesis_dir.c, params.c);
 *   chains    valid chains forged by the genesis delegates (chain_gen.c)
 *             and invalid ones with one known defect (invalid.c).
 *
 * Keys, key files, signed payloads and block forging are the forge's
 * (cardinal/forge.h), which the node links too; this module is linked
 * only by cardinal-cli, the tests and the benches, never by the node.
 * Everything generated is judged by the ledger (cardinal/ledger.h) as it
 * is made: a generator bug is an error here, never a bad chain on disk.
 */
#ifndef CARDINAL_GEN_H
#define CARDINAL_GEN_H

#include <stdio.h>

#include "cardinal/byron.h"
#include "cardinal/forge.h"
#include "cardinal/ledger.h"

/* ---- Seeded randomness for generators ---- */
typedef struct cdl_gen_rng {
  uint64_t s[4];
} cdl_gen_rng;
void cdl_gen_rng_seed(cdl_gen_rng *r, uint64_t seed);
/* Seeds from the system's entropy (libsodium). */
void cdl_gen_rng_seed_random(cdl_gen_rng *r);
uint64_t cdl_gen_rng_next(cdl_gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t cdl_gen_rng_below(cdl_gen_rng *r, uint64_t n);
void cdl_gen_rng_bytes(cdl_gen_rng *r, uint8_t *out, size_t len);

/* ---- Genesis creation (genesis.c) ---- */
typedef struct cdl_gen_genesis_spec {
  uint32_t protocol_magic;
  uint64_t k;
  int64_t start_time;
  uint32_t genesis_keys;  /* 1..CDL_LEDGER_MAX_GENESIS_KEYS */
  uint32_t avvm_entries, poor_addresses;
  uint64_t avvm_balance, poor_balance; /* lovelace each */
  cdl_byron_protocol_params params;    /* slot_duration_ms included */
  bool has_seed;
  uint64_t seed;
} cdl_gen_genesis_spec;

/* Mainnet's initial protocol parameters (docs/byron.md 4.1). */
void cdl_gen_default_params(cdl_byron_protocol_params *pp);
/* Overrides |pp| with the members present in a blockVersionData-shaped
 * JSON file (numbers or decimal strings, as in genesis files). */
int cdl_gen_params_read(const char *path, cdl_byron_protocol_params *pp, cdl_error *err);

/* A genesis directory's secrets. Index i of delegates signs for genesis
 * key i; certs[i] is that delegation. */
typedef struct cdl_gen_secrets {
  cdl_key *genesis, *delegates, *poor;
  cdl_byron_genesis_delegation *certs;
  uint8_t (*avvm)[32];
  /* genesis_file[i]: the NNN of genesis-keys.NNN.skey holding genesis[i]
   * (genesis[] is in the genesis's bootStakeholders order); set when read
   * back from a directory, NULL otherwise. */
  size_t *genesis_file;
  size_t n_genesis, n_poor, n_avvm;
} cdl_gen_secrets;
void cdl_gen_secrets_free(cdl_gen_secrets *s);

/* Makes the secrets and writes DIR/genesis.json and the key files (file
 * names in docs/genesis.md). DIR is created if missing and must not
 * already hold a genesis.json. */
int cdl_gen_genesis_create(const cdl_gen_genesis_spec *spec, const char *dir, cdl_error *err);

/* A genesis directory read back: genesis.json (loaded, hash checked by
 * the loader) and every key file beside it, matched against it. */
typedef struct cdl_gen_dir {
  cdl_arena arena;
  cdl_buf genesis_text;
  cdl_byron_genesis genesis;
  bool requires_magic;
  cdl_gen_secrets secrets;
} cdl_gen_dir;
int cdl_gen_dir_load(const char *dir, cdl_gen_dir *d, cdl_error *err);
/* A payment (a GenTx [0, tx]) spending poor address |from|'s genesis
 * output: |lovelace| to poor address |to|, the rest less 1 ada of fee
 * back (payment.c); its id in |id|. |out| is initialised here. */
void cdl_gen_genesis_payment(const cdl_gen_dir *g, size_t from, size_t to, uint64_t lovelace,
                             cdl_buf *out, uint8_t id[32]);
void cdl_gen_dir_free(cdl_gen_dir *d);

/* ---- Valid chains (chain_gen.c) ---- */
typedef struct cdl_gen_chain_opts {
  uint64_t slots;        /* slots to cover, from slot 0 */
  double fill;           /* share of slots with a block, (0, 1] */
  uint32_t txs_per_block;
  /* The share of main blocks that carry txs_per_block transactions, drawn
   * per block from the seed, in (0, 1]; 0 means 1 (every block). */
  double tx_share;
  /* Outputs of each transaction: outputs_per_tx - 1 payments to random
   * keys and the change, 2 to 64; 0 means 2 (one payment). Each spends
   * one input, so the UTxO grows by outputs_per_tx - 1 per transaction. */
  uint32_t outputs_per_tx;
  bool delegation;       /* a re-delegation certificate each epoch */
  bool updates;          /* a proposal, votes, endorsements, adoption */
  uint64_t seed;
  double pbft_threshold; /* 0 = 0.22 */
} cdl_gen_chain_opts;

typedef struct cdl_gen_chain_stats {
  uint64_t blocks, ebbs, txs, certificates, proposals, votes;
  uint64_t skipped_slots; /* empty by --fill or by the PBFT threshold */
  uint64_t bytes;
  cdl_ledger_tip tip;
  bool update_adopted;
  cdl_byron_version protocol_version;
  uint64_t max_tx_size;  /* after the run, to show an adopted change */
} cdl_gen_chain_stats;

/* Forges the chain and writes wrapped blocks back to back (a chunk file)
 * to |out|. Fails with CDL_E_REJECTED and |rej| if the ledger refuses a
 * generated block (a bug, or options the network cannot carry: too few
 * genesis keys for the PBFT threshold). */
int cdl_gen_chain(const cdl_gen_dir *d, const cdl_gen_chain_opts *o, FILE *out,
                  cdl_gen_chain_stats *stats, cdl_rejection *rej, cdl_error *err);

/* Re-delegation keys: derived from the issuing genesis key and the
 * certificate's epoch, so any holder of the genesis directory can sign
 * for them again (chain generate-invalid does). */
void cdl_gen_redelegate_key(const cdl_key *genesis_key, uint64_t epoch, cdl_key *out);

/* ---- Invalid chains (invalid.c) ---- */
typedef struct cdl_gen_invalid_case {
  const char *name;
  const char *expected_rule;
  const char *description;
} cdl_gen_invalid_case;
/* The cases, in a stable order; *n gets their number. */
const cdl_gen_invalid_case *cdl_gen_invalid_cases(size_t *n);

typedef struct cdl_gen_invalid_result {
  const char *case_name, *expected_rule;
  uint64_t block_no, slot;
  size_t block_index;    /* position of the bad block in the output */
  uint8_t hash[32];
} cdl_gen_invalid_result;

/* Reads the valid chain |blocks| (wrapped blocks), picks with |seed| a
 * place where |case_name| applies, and writes the valid prefix followed by
 * the defective block(s) to |out|. Before writing, the result is checked
 * with the ledger: the bad block must be refused with the case's rule.
 * Fails with CDL_E_NOT_FOUND if the chain has no place for this case. */
int cdl_gen_invalid(const cdl_gen_dir *d, const cdl_span *blocks, size_t n_blocks,
                    const char *case_name, uint64_t seed, double pbft_threshold, FILE *out,
                    cdl_gen_invalid_result *res, cdl_error *err);

/* Splits a chunk file's bytes into its wrapped blocks; *blocks (free it)
 * points into |data|. A trailing partial item is an error. */
int cdl_gen_split_chunk(const uint8_t *data, size_t len, cdl_span **blocks, size_t *n,
                        cdl_error *err);

#endif /* CARDINAL_GEN_H */
