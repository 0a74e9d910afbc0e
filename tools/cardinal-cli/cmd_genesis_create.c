/*
 * cmd_genesis_create.c: `cardinal-cli genesis create` and `genesis
 * print-secrets` (docs/cli.md, docs/genesis.md): a new network's
 * genesis.json and keys, and a readable view of a genesis directory.
 */
#include <getopt.h>
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
  bool have_magic, have_k, have_keys;
} create_opts;

static int parse_u64_opt(const char *name, const char *text, uint64_t min, uint64_t max,
                         uint64_t *out) {
  if (!cli_parse_u64(text, min, max, out))
    return cli_usage("genesis create: --%s must be an integer in [%llu, %llu]", name,
                     (unsigned long long)min, (unsigned long long)max);
  return EXIT_OK;
}

static int create_option(int c, const char *arg, create_opts *o) {
  cdl_gen_genesis_spec *s = &o->spec;
  uint64_t v = 0;
  int rc = EXIT_OK;
  switch (c) {
    case 'o':
      o->dir = arg;
      break;
    case 'p':
      o->params = arg;
      break;
    case 'm':
      rc = parse_u64_opt("protocol-magic", arg, 0, UINT32_MAX, &v), s->protocol_magic = (uint32_t)v,
      o->have_magic = true;
      break;
    case 'k':
      rc = parse_u64_opt("k", arg, 1, CDL_BYRON_MAX_K, &s->k), o->have_k = true;
      break;
    case 't':
      rc = parse_u64_opt("start-time", arg, 0, INT64_MAX, &v), s->start_time = (int64_t)v;
      break;
    case 'g':
      rc = parse_u64_opt("genesis-keys", arg, 1, CDL_LEDGER_MAX_GENESIS_KEYS, &v),
      s->genesis_keys = (uint32_t)v, o->have_keys = true;
      break;
    case 'a':
      rc = parse_u64_opt("avvm-entries", arg, 0, 1000000, &v), s->avvm_entries = (uint32_t)v;
      break;
    case 'A':
      rc = parse_u64_opt("avvm-balance", arg, 0, CDL_BYRON_MAX_LOVELACE, &s->avvm_balance);
      break;
    case 'n':
      rc = parse_u64_opt("poor-addresses", arg, 0, 1000000, &v), s->poor_addresses = (uint32_t)v;
      break;
    case 'N':
      rc = parse_u64_opt("poor-balance", arg, 0, CDL_BYRON_MAX_LOVELACE, &s->poor_balance);
      break;
    case 's':
      rc = parse_u64_opt("seed", arg, 0, UINT64_MAX, &s->seed), s->has_seed = true;
      break;
    default:
      rc = cli_usage("genesis create: unknown option");
  }
  return rc;
}

static int parse_create(int argc, char **argv, create_opts *o) {
  static const struct option LONG[] = {{"out-dir", required_argument, 0, 'o'},
                                       {"protocol-magic", required_argument, 0, 'm'},
                                       {"k", required_argument, 0, 'k'},
                                       {"slot-duration-ms", required_argument, 0, 'd'},
                                       {"start-time", required_argument, 0, 't'},
                                       {"genesis-keys", required_argument, 0, 'g'},
                                       {"avvm-entries", required_argument, 0, 'a'},
                                       {"avvm-balance", required_argument, 0, 'A'},
                                       {"poor-addresses", required_argument, 0, 'n'},
                                       {"poor-balance", required_argument, 0, 'N'},
                                       {"protocol-params", required_argument, 0, 'p'},
                                       {"seed", required_argument, 0, 's'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  cdl_gen_default_params(&o->spec.params);
  o->spec.start_time = (int64_t)time(NULL);
  uint64_t slot_ms = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'd') {
      int rc = parse_u64_opt("slot-duration-ms", optarg, 1, 3600000, &slot_ms);
      if (rc != EXIT_OK) return rc;
      continue;
    }
    int rc = create_option(c, optarg, o);
    if (rc != EXIT_OK) return rc;
  }
  if (optind != argc || !o->dir || !o->have_magic || !o->have_k || !o->have_keys)
    return cli_usage(
        "genesis create: --out-dir, --protocol-magic, --k and --genesis-keys are "
        "required");
  if (o->params) {
    cdl_error err = {0};
    if (cdl_gen_params_read(o->params, &o->spec.params, &err) != CDL_OK) return cli_report(&err);
  }
  if (slot_ms) o->spec.params.slot_duration_ms = slot_ms; /* the flag wins over the file */
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

int genesis_print_secrets(int argc, char **argv) {
  if (argc != 3 || strcmp(argv[1], "--dir") != 0)
    return cli_usage("expected: genesis print-secrets --dir DIR");
  cdl_error err = {0};
  cdl_gen_dir d;
  if (cdl_gen_dir_load(argv[2], &d, &err) != CDL_OK) return cli_report(&err);
  json_t *out = summary(argv[2], &d);
  json_object_set_new(out, "genesis_keys", genesis_keys_json(&d));
  json_object_set_new(out, "poor", poor_json(&d));
  json_object_set_new(out, "avvm", avvm_json(&d));
  int rc = cli_print(out, false);
  cdl_gen_dir_free(&d);
  return rc;
}
