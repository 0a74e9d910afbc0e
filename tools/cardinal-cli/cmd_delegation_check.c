/*
 * cmd_delegation_check.c: `cardinal-cli delegation check-certificate`
 * (also `check-delegation`, cardano-cli's old name for it; docs/cli.md
 * "delegation"; docs/byron.md 1.9 certificates, 3.2 what they sign):
 *   delegation check-certificate (--testnet-magic N | --mainnet)
 *       --certificate F [--issuer-key K] [--delegate-key K] [--genesis G]
 * checks what a certificate can be checked for without a node, each
 * failure its own rule (exit 1): the issuer's signature under the
 * network's magic (delegation.signature), the issuer being the given key
 * (delegation.issuer_mismatch) and a genesis key of the given genesis
 * (delegation.non_genesis_delegator, the ledger's rule), the delegate
 * being the given key (delegation.delegate_mismatch). Keys may be
 * verification key files (cardano-cli's Base64 or an envelope) or
 * signing key files. With --genesis and no network, the genesis's magic.
 * Whether the epoch is right for the chain only the node can say.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "cardinal/forge.h"

typedef struct check_opts {
  const char *certificate, *issuer, *delegate, *genesis;
  uint64_t magic;
  bool has_magic;
} check_opts;

enum { O_CERTIFICATE = 0x100, O_ISSUER, O_DELEGATE };

static error_t check_option(int key, char *arg, struct argp_state *state) {
  check_opts *o = state->input;
  switch (key) {
  case CLI_O_MAGIC:
  case CLI_O_MAINNET:
    cli_arg_network(state, arg, &o->has_magic, &o->magic);
    break;
  case O_CERTIFICATE:
    o->certificate = arg;
    break;
  case O_ISSUER:
    o->issuer = arg;
    break;
  case O_DELEGATE:
    o->delegate = arg;
    break;
  case CLI_O_GENESIS:
    o->genesis = arg;
    break;
  case ARGP_KEY_END:
    if (o->certificate == NULL)
      argp_error(state, "--certificate FILE is required");
    if (!o->has_magic && o->genesis == NULL)
      argp_error(state, "--testnet-magic N, --mainnet or --genesis FILE is required");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option CHECK_OPTIONS[] = {
    CLI_NETWORK_OPTIONS("the signature is checked for (default: the --genesis's; one of the "
                        "three required)"),
    {"certificate", O_CERTIFICATE, "FILE", 0, "the certificate to check (required)", 0},
    {"issuer-key", O_ISSUER, "FILE", 0,
     "the key the issuer must be: a verification or signing key file (default: any)", 0},
    {"delegate-key", O_DELEGATE, "FILE", 0,
     "the key the delegate must be: a verification or signing key file (default: any)", 0},
    {"genesis", CLI_O_GENESIS, "FILE", 0,
     "a genesis whose bootStakeholders the issuer must be among (default: not checked)", 0},
    {0}};
static const struct argp CHECK = {
    CHECK_OPTIONS, check_option, NULL,
    "Check a delegation certificate without a node: the issuer's signature under the "
    "network's magic, and who the issuer and delegate are; each failure its own rule, exit 1 "
    "(cardano-cli's check-delegation).\v"
    "Example:\n"
    "  cardinal-cli delegation check-certificate --testnet-magic 42 \\\n"
    "    --certificate new-cert.json --genesis net/genesis/genesis.json \\\n"
    "    --delegate-key new.skey",
    NULL, NULL, NULL};

/* The index of |issuer| among the genesis keys (bootStakeholders, the
 * keys the ledger lets delegate), or -1; the magic if none was given. */
static int genesis_index(check_opts *o, const uint8_t issuer[28], int *index) {
  cdl_buf text;
  cdl_arena arena;
  cdl_byron_genesis g;
  cdl_error err = {0};
  cdl_buf_init(&text, 0);
  cdl_arena_init(&arena, 0);
  int rc = cdl_byron_genesis_load_file(o->genesis, CLI_MAX_INPUT, &text, &arena, &g, &err);
  *index = -1;
  for (size_t i = 0; rc == CDL_OK && i < g.n_boot_stakeholders; i++)
    if (memcmp(g.boot_stakeholders[i], issuer, 28) == 0)
      *index = (int)i;
  if (rc == CDL_OK && !o->has_magic) {
    o->magic = g.protocol_magic;
    o->has_magic = true;
  }
  cdl_arena_free(&arena);
  cdl_buf_free(&text);
  return rc == CDL_OK ? EXIT_OK : cli_report(&err);
}

/* Whether the key in |path| is |xpub|; the exit code of a bad file. */
static int key_matches(const char *path, const uint8_t xpub[64], bool *same) {
  uint8_t key[64];
  cdl_error err = {0};
  if (cdl_keyfile_read_verification(path, key, &err) != CDL_OK)
    return cli_report(&err);
  *same = memcmp(key, xpub, 64) == 0;
  return EXIT_OK;
}

static json_t *check_json(const check_opts *o, const cdl_byron_genesis_delegation *d, int index) {
  uint8_t delegate[28];
  cdl_byron_key_hash(d->delegate_pk, delegate);
  return json_pack("{s:s,s:b,s:o,s:o,s:I,s:I,s:o,s:b,s:b}", "certificate", o->certificate, "valid",
                   true, "issuer", cdl_json_hex(d->issuer_id, 28), "delegate",
                   cdl_json_hex(delegate, 28), "epoch", (json_int_t)d->omega, "protocol_magic",
                   (json_int_t)o->magic, "genesis_key_index",
                   index >= 0 ? json_integer(index) : json_null(), "issuer_key_checked",
                   o->issuer != NULL, "delegate_key_checked", o->delegate != NULL);
}

int delegation_check(int argc, char **argv) {
  check_opts o;
  memset(&o, 0, sizeof o);
  int code = cli_args_parse(&CHECK, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  cdl_byron_genesis_delegation d;
  cdl_error err = {0};
  if (cdl_keyfile_read_cert(o.certificate, &d, &err) != CDL_OK)
    return cli_report(&err);
  int index = -1;
  if (o.genesis && (code = genesis_index(&o, d.issuer_id, &index)) != EXIT_OK)
    return code;
  cdl_byron_dlg_cert cert = {.epoch = d.omega,
                             .issuer_pk = d.issuer_pk,
                             .delegate_pk = d.delegate_pk,
                             .signature = d.signature};
  if (!cdl_byron_dlg_cert_verify(&cert, (uint32_t)o.magic))
    return cli_report_rule(CDL_RULE_DLG_SIGNATURE,
                           "the issuer's signature does not verify for network %llu: signed for "
                           "another network, or altered",
                           (unsigned long long)o.magic);
  bool same = true;
  if (o.issuer && (code = key_matches(o.issuer, d.issuer_pk, &same)) != EXIT_OK)
    return code;
  if (!same)
    return cli_report_rule("delegation.issuer_mismatch",
                           "the certificate's issuer is not the key in %s", o.issuer);
  if (o.genesis && index < 0)
    return cli_report_rule(CDL_RULE_DLG_NON_GENESIS,
                           "the certificate's issuer is not a genesis key of %s", o.genesis);
  if (o.delegate && (code = key_matches(o.delegate, d.delegate_pk, &same)) != EXIT_OK)
    return code;
  if (!same)
    return cli_report_rule("delegation.delegate_mismatch",
                           "the certificate delegates to another key than the one in %s",
                           o.delegate);
  return cli_print(check_json(&o, &d, index), false);
}
