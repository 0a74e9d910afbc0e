/*
 * cmd_genesis_create.c: `cardinal-cli genesis create` and `genesis
 * print-secrets` (docs/cli.md, docs/genesis.md): a new network's
 * genesis.json and keys, and a readable view of a genesis directory.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/gen.h"
#include "cli.h"

typedef struct {
  cdl_gen_genesis_spec spec;
  const char *dir, *params;
  uint64_t slot_ms; /* 0: the parameters' (file or default) */
  bool have_magic, have_k, have_keys;
} create_opts;

/* Option keys: above the character range, so none is a short option. */
enum {
  O_OUT_DIR = 0x100,
  O_MAGIC,
  O_K,
  O_SLOT_MS,
  O_START,
  O_KEYS,
  O_AVVM_N,
  O_AVVM_L,
  O_POOR_N,
  O_POOR_L,
  O_PARAMS,
  O_SEED,
  O_DIR
};

/* The options that give the genesis's numbers; 1 when |key| was one. */
static int create_number(int key, const char *arg, struct argp_state *state, create_opts *o) {
  cdl_gen_genesis_spec *s = &o->spec;
  switch (key) {
  case O_MAGIC:
    s->protocol_magic = (uint32_t)cli_arg_u64(state, arg, 0, UINT32_MAX), o->have_magic = true;
    break;
  case O_K: s->k = cli_arg_u64(state, arg, 1, CDL_BYRON_MAX_K), o->have_k = true; break;
  case O_SLOT_MS: o->slot_ms = cli_arg_u64(state, arg, 1, 3600000); break;
  case O_START: s->start_time = (int64_t)cli_arg_u64(state, arg, 0, INT64_MAX); break;
  case O_KEYS:
    s->genesis_keys = (uint32_t)cli_arg_u64(state, arg, 1, CDL_LEDGER_MAX_GENESIS_KEYS);
    o->have_keys = true;
    break;
  case O_AVVM_N: s->avvm_entries = (uint32_t)cli_arg_u64(state, arg, 0, 1000000); break;
  case O_AVVM_L: s->avvm_balance = cli_arg_u64(state, arg, 0, CDL_BYRON_MAX_LOVELACE); break;
  case O_POOR_N: s->poor_addresses = (uint32_t)cli_arg_u64(state, arg, 0, 1000000); break;
  case O_POOR_L: s->poor_balance = cli_arg_u64(state, arg, 0, CDL_BYRON_MAX_LOVELACE); break;
  case O_SEED: s->seed = cli_arg_u64(state, arg, 0, UINT64_MAX), s->has_seed = true; break;
  default: return 0;
  }
  return 1;
}

static error_t create_option(int key, char *arg, struct argp_state *state) {
  create_opts *o = state->input;
  if (create_number(key, arg, state, o)) return 0;
  switch (key) {
  case O_OUT_DIR: o->dir = arg; break;
  case O_PARAMS: o->params = arg; break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (!o->dir) argp_error(state, "--out-dir DIR is required");
    if (!o->have_magic) argp_error(state, "--protocol-magic N is required");
    if (!o->have_k) argp_error(state, "--k K is required");
    if (!o->have_keys) argp_error(state, "--genesis-keys N is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option CREATE_OPTIONS[] = {
    {"out-dir", O_OUT_DIR, "DIR", 0,
     "the directory to write (required; created if missing, refused if it holds a "
     "genesis.json)", 0},
    {"protocol-magic", O_MAGIC, "N", 0, "the network's protocol magic, 0 to 2^32-1 (required)", 0},
    {"k", O_K, "K", 0, "the security parameter, 1 to 1000000; epochs are 10 K slots (required)", 0},
    {"genesis-keys", O_KEYS, "N", 0, "genesis (core node) keys, 1 to 255 (required)", 0},
    {"slot-duration-ms", O_SLOT_MS, "MS", 0,
     "slot length, 1 to 3600000 ms (default: the protocol parameters', 20000)", 0},
    {"start-time", O_START, "UNIX", 0, "the system start, in Unix seconds (default: now)", 0},
    {"avvm-entries", O_AVVM_N, "N", 0, "AVVM (redeem) entries, 0 to 1000000 (default: 0)", 0},
    {"avvm-balance", O_AVVM_L, "L", 0, "lovelace of each AVVM entry (default: 0)", 0},
    {"poor-addresses", O_POOR_N, "N", 0,
     "funded addresses with keys (poor keys), 0 to 1000000 (default: 0)", 0},
    {"poor-balance", O_POOR_L, "L", 0, "lovelace of each poor address (default: 0)", 0},
    {"protocol-params", O_PARAMS, "FILE", 0,
     "protocol parameters as a genesis's blockVersionData (default: mainnet's)", 0},
    {"seed", O_SEED, "S", 0,
     "derive every key from S: reproducible and predictable, for tests and devnets only "
     "(default: the system CSPRNG)", 0},
    {0}};
static const struct argp CREATE = {
    CREATE_OPTIONS, create_option, NULL,
    "Make a new network (docs/genesis.md): DIR/genesis.json in cardano-node's Byron format and "
    "a key file per secret (genesis keys, delegate keys and certificates, poor keys, AVVM "
    "secrets), then read it back and print its summary.\v"
    "Example:\n  cardinal-cli genesis create --out-dir net --protocol-magic 42 --k 10 \\\n"
    "    --genesis-keys 7 --poor-addresses 2 --poor-balance 1000000000000",
    NULL, NULL, NULL};

/* Parses `genesis create`'s options; the parameters file is read after, so
 * a missing one is an I/O error (exit 3) naming it. */
static int parse_create(int argc, char **argv, create_opts *o) {
  memset(o, 0, sizeof *o);
  cdl_gen_default_params(&o->spec.params);
  o->spec.start_time = (int64_t)time(NULL);
  int rc = cli_args_parse(&CREATE, argc, argv, o);
  if (rc != EXIT_OK) return rc;
  if (o->params) {
    cdl_error err = {0};
    if (cdl_gen_params_read(o->params, &o->spec.params, &err) != CDL_OK) return cli_report(&err);
  }
  if (o->slot_ms) o->spec.params.slot_duration_ms = o->slot_ms; /* the flag wins over the file */
  return EXIT_OK;
}

static json_t *summary(const char *dir, const cdl_gen_dir *d) {
  const cdl_byron_genesis *g = &d->genesis;
  uint64_t lovelace = 0;
  for (size_t i = 0; i < g->n_avvm; i++) lovelace += g->avvm[i].lovelace;
  for (size_t i = 0; i < g->n_balances; i++) lovelace += g->balances[i].lovelace;
  return json_pack("{s:s, s:o, s:I, s:I, s:I, s:b, s:I, s:I, s:{s:I, s:o}}", "dir", dir,
                   "genesis_hash", cdl_json_hex(g->hash, 32), "protocol_magic",
                   (json_int_t)g->protocol_magic, "k", (json_int_t)g->k, "genesis_keys",
                   (json_int_t)g->n_boot_stakeholders, "requires_magic", d->requires_magic,
                   "slot_duration_ms", (json_int_t)g->params.slot_duration_ms, "start_time",
                   (json_int_t)g->start_time, "utxo", "entries",
                   (json_int_t)(g->n_avvm + g->n_balances), "lovelace", cdl_json_u64(lovelace));
}

int genesis_create(int argc, char **argv) {
  create_opts o;
  int rc = parse_create(argc, argv, &o);
  if (rc != EXIT_OK) return rc;
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&o.spec, o.dir, &err) != CDL_OK) return cli_report(&err);
  /* Read everything back: what we print is what a node would load. */
  cdl_gen_dir d;
  if (cdl_gen_dir_load(o.dir, &d, &err) != CDL_OK) return cli_report(&err);
  rc = cli_print(summary(o.dir, &d), false);
  cdl_gen_dir_free(&d);
  return rc;
}

static json_t *key_json(const cdl_key *k) {
  uint8_t hash[28];
  cdl_key_hash(k, hash);
  return json_pack("{s:o, s:o}", "key_hash", cdl_json_hex(hash, 28), "public_key",
                   cdl_json_hex(k->xpub, 64));
}

/* Numbered by file, as the operator sees them (genesis-keys.NNN.skey,
 * delegate-keys.NNN.skey, delegation-cert.NNN.json): "index" is NNN and
 * "genesis_index" the key's place in the genesis's bootStakeholders (key
 * hash order), which is how the loader orders them. */
static json_t *genesis_keys_json(const cdl_gen_dir *d) {
  json_t *list = json_array();
  for (size_t file = 0; file < d->secrets.n_genesis; file++) {
    size_t at = 0;
    while (at < d->secrets.n_genesis && d->secrets.genesis_file[at] != file) at++;
    if (at == d->secrets.n_genesis) continue; /* the loader matched every file */
    json_t *g = key_json(&d->secrets.genesis[at]);
    json_object_set_new(g, "index", json_integer((json_int_t)file));
    json_object_set_new(g, "genesis_index", json_integer((json_int_t)at));
    json_object_set_new(g, "delegate", key_json(&d->secrets.delegates[at]));
    json_object_set_new(g, "certificate_epoch",
                        json_integer((json_int_t)d->secrets.certs[at].omega));
    json_array_append_new(list, g);
  }
  return list;
}

static uint64_t balance_of(const cdl_byron_genesis *g, cdl_span address) {
  for (size_t j = 0; j < g->n_balances; j++)
    if (cdl_span_eq(g->balances[j].address, address)) return g->balances[j].lovelace;
  return 0;
}

static json_t *poor_json(const cdl_gen_dir *d) {
  json_t *list = json_array();
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  for (size_t i = 0; i < d->secrets.n_poor; i++) {
    cdl_key_address(&d->secrets.poor[i], d->requires_magic, d->genesis.protocol_magic, &addr);
    cdl_span a = cdl_span_of(addr.data, addr.len);
    json_t *p = key_json(&d->secrets.poor[i]);
    json_object_set_new(p, "index", json_integer((json_int_t)i));
    json_object_set_new(p, "address", cdl_byron_address_base58_json(a));
    json_object_set_new(p, "lovelace", cdl_json_u64(balance_of(&d->genesis, a)));
    json_array_append_new(list, p);
  }
  cdl_buf_free(&addr);
  return list;
}

static json_t *avvm_json(const cdl_gen_dir *d) {
  json_t *list = json_array();
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  for (size_t i = 0; i < d->secrets.n_avvm; i++) {
    uint8_t pk[32];
    cdl_ed25519_seed_public(d->secrets.avvm[i], pk);
    uint64_t lovelace = 0;
    for (size_t j = 0; j < d->genesis.n_avvm; j++)
      if (memcmp(d->genesis.avvm[j].pk, pk, 32) == 0) lovelace = d->genesis.avvm[j].lovelace;
    cdl_buf_reset(&addr);
    cdl_byron_address_make_redeem(pk, d->requires_magic, d->genesis.protocol_magic, &addr);
    json_array_append_new(
        list, json_pack("{s:I, s:o, s:o, s:o}", "index", (json_int_t)i, "public_key",
                        cdl_json_hex(pk, 32), "address",
                        cdl_byron_address_base58_json(cdl_span_of(addr.data, addr.len)), "lovelace",
                        cdl_json_u64(lovelace)));
  }
  cdl_buf_free(&addr);
  return list;
}

static error_t secrets_option(int key, char *arg, struct argp_state *state) {
  const char **dir = state->input;
  switch (key) {
  case O_DIR: *dir = arg; break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (*dir == NULL) argp_error(state, "--dir DIR is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option SECRETS_OPTIONS[] = {
    {"dir", O_DIR, "DIR", 0, "a directory `genesis create` wrote (required)", 0}, {0}};
static const struct argp SECRETS = {
    SECRETS_OPTIONS, secrets_option, NULL,
    "A genesis directory's summary and every key in it: genesis keys numbered by their files "
    "(with their delegates and certificates), poor keys with their addresses and balances, "
    "AVVM secrets; every key file must match the genesis.\v"
    "Example:\n  cardinal-cli genesis print-secrets --dir net",
    NULL, NULL, NULL};

int genesis_print_secrets(int argc, char **argv) {
  const char *dir = NULL;
  int rc = cli_args_parse(&SECRETS, argc, argv, &dir);
  if (rc != EXIT_OK) return rc;
  cdl_error err = {0};
  cdl_gen_dir d;
  if (cdl_gen_dir_load(dir, &d, &err) != CDL_OK) return cli_report(&err);
  json_t *out = summary(dir, &d);
  json_object_set_new(out, "genesis_keys", genesis_keys_json(&d));
  json_object_set_new(out, "poor", poor_json(&d));
  json_object_set_new(out, "avvm", avvm_json(&d));
  rc = cli_print(out, false);
  cdl_gen_dir_free(&d);
  return rc;
}
