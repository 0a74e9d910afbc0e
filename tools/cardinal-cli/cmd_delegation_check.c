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
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/forge.h"
#include "cli.h"

typedef struct check_opts {
  const char *certificate, *issuer, *delegate, *genesis;
  uint64_t magic;
  bool has_magic;
} check_opts;

static int parse_check(int argc, char **argv, check_opts *o) {
  static const struct option LONG[] = {{"mainnet", no_argument, 0, 'M'},
                                       {"testnet-magic", required_argument, 0, 'm'},
                                       {"certificate", required_argument, 0, 'c'},
                                       {"issuer-key", required_argument, 0, 'i'},
                                       {"delegate-key", required_argument, 0, 'd'},
                                       {"genesis", required_argument, 0, 'g'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if ((c == 'M' || c == 'm') &&
        cli_network_option(c == 'm' ? optarg : NULL, &o->has_magic, &o->magic))
      continue;
    if (c == 'c')
      o->certificate = optarg;
    else if (c == 'i')
      o->issuer = optarg;
    else if (c == 'd')
      o->delegate = optarg;
    else if (c == 'g')
      o->genesis = optarg;
    else
      return cli_usage("delegation check-certificate: bad, repeated or unknown option '%s'",
                       argv[optind - 1]);
  }
  if (optind < argc || o->certificate == NULL || (!o->has_magic && o->genesis == NULL))
    return cli_usage("delegation check-certificate: --certificate F and (--testnet-magic N | "
                     "--mainnet | --genesis G) are required");
  return EXIT_OK;
}

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
  int code = parse_check(argc, argv, &o);
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
