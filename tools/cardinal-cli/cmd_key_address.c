/*
 * cmd_key_address.c: a Byron key's public half and its address
 * (docs/cli.md "key", "address"; docs/byron.md 1.6 addresses, 3.1 keys),
 * as cardano-cli's `byron key` commands make them (Cardano.CLI.Byron.Run,
 * Key; cardano-api's makeByronAddress):
 *   key to-verification --secret F --to F [--text-envelope]
 *       the Base64 text of the 64-byte verification key (no newline), what
 *       `cardano-cli byron key to-verification` writes; or its envelope;
 *   key signing-key-public --secret F
 *       the key hash, Base64 and hex of the verification key;
 *   key signing-key-address (--testnet-magic N | --mainnet) --secret F
 *   address build --verification-key-file F (--testnet-magic N | --mainnet)
 *       the key's bootstrap address in Base58: with --testnet-magic it
 *       always carries the network-magic attribute, as cardano-cli's does
 *       (toByronNetworkMagic), whatever the network's RequiresNetworkMagic.
 * cardano-cli's --byron-formats / --byron-legacy-formats are accepted and
 * ignored: every key file form is recognised by its content.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/forge.h"
#include "cli.h"

typedef struct key_opts {
  const char *secret, *to, *vkey;
  uint64_t magic;
  bool has_magic, mainnet, envelope;
} key_opts;

static int parse_key_opts(const char *what, int argc, char **argv, key_opts *o) {
  static const struct option LONG[] = {{"secret", required_argument, 0, 's'},
                                       {"to", required_argument, 0, 't'},
                                       {"verification-key-file", required_argument, 0, 'v'},
                                       {"text-envelope", no_argument, 0, 'e'},
                                       {"mainnet", no_argument, 0, 'M'},
                                       {"testnet-magic", required_argument, 0, 'm'},
                                       {"byron-formats", no_argument, 0, 'f'},
                                       {"byron-legacy-formats", no_argument, 0, 'f'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 's')
      o->secret = optarg;
    else if (c == 't')
      o->to = optarg;
    else if (c == 'v')
      o->vkey = optarg;
    else if (c == 'e')
      o->envelope = true;
    else if ((c == 'M' || c == 'm') &&
             cli_network_option(c == 'm' ? optarg : NULL, &o->has_magic, &o->magic))
      o->mainnet = c == 'M'; /* not --testnet-magic 764824073: that one has the attribute */
    else if (c != 'f')
      return cli_usage("%s: bad, repeated or unknown option '%s'", what, argv[optind - 1]);
  }
  if (optind < argc)
    return cli_usage("%s: unexpected argument '%s'", what, argv[optind]);
  return EXIT_OK;
}

/* {"address", "network_magic", "key_hash"} of the key |xpub|. */
static json_t *address_json(const uint8_t xpub[64], bool with_magic, uint64_t magic) {
  cdl_key k = {{0}, {0}}; /* the address uses the public half only */
  memcpy(k.xpub, xpub, 64);
  cdl_buf addr;
  cdl_buf_init(&addr, 0);
  cdl_key_address(&k, with_magic, (uint32_t)magic, &addr);
  uint8_t hash[28];
  cdl_key_hash(&k, hash);
  json_t *j =
      addr.failed
          ? NULL
          : json_pack("{s:o,s:o,s:o}", "address",
                      cdl_byron_address_base58_json(cdl_span_of(addr.data, addr.len)),
                      "network_magic", with_magic ? json_integer((json_int_t)magic) : json_null(),
                      "key_hash", cdl_json_hex(hash, 28));
  cdl_buf_free(&addr);
  return j;
}

static int read_public_half(const char *secret, uint8_t xpub[64]) {
  cdl_key k;
  cdl_error err = {0};
  if (cdl_keyfile_read_signing(secret, &k, NULL, &err) != CDL_OK)
    return cli_report(&err);
  memcpy(xpub, k.xpub, 64);
  sodium_memzero(&k, sizeof k);
  return EXIT_OK;
}

static int to_verification(const key_opts *o, const uint8_t xpub[64]) {
  if (o->to == NULL)
    return cli_usage("key to-verification: --secret F and --to F are required");
  int code = cli_refuse_existing("key to-verification", o->to);
  if (code != EXIT_OK)
    return code;
  cdl_error err = {0};
  if (cdl_keyfile_write_verification(
          o->to, xpub, o->envelope ? CDL_KEYFILE_VKEY_ENVELOPE : CDL_KEYFILE_VKEY_BASE64, &err) !=
      CDL_OK)
    return cli_report(&err);
  uint8_t hash[28];
  cdl_byron_key_hash(xpub, hash);
  return cli_print(json_pack("{s:s,s:s,s:o,s:o}", "to", o->to, "format",
                             o->envelope ? "envelope" : "base64", "key_hash",
                             cdl_json_hex(hash, 28), "public_key", cdl_json_hex(xpub, 64)),
                   false);
}

static json_t *public_json(const uint8_t xpub[64]) {
  uint8_t hash[28];
  char b64[100];
  cdl_byron_key_hash(xpub, hash);
  cdl_base64_encode(xpub, 64, b64, sizeof b64);
  return json_pack("{s:o,s:s,s:o}", "key_hash", cdl_json_hex(hash, 28), "public_key_base64", b64,
                   "public_key", cdl_json_hex(xpub, 64));
}

int key_public(int argc, char **argv) {
  char what[64];
  snprintf(what, sizeof what, "key %s", argv[0]);
  key_opts o;
  int code = parse_key_opts(what, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  if (o.secret == NULL || o.vkey != NULL)
    return cli_usage("%s: --secret FILE is required", what);
  bool address = strcmp(argv[0], "signing-key-address") == 0;
  if (address && !o.has_magic)
    return cli_usage("%s: --testnet-magic N or --mainnet is required", what);
  uint8_t xpub[64];
  if ((code = read_public_half(o.secret, xpub)) != EXIT_OK)
    return code;
  if (strcmp(argv[0], "to-verification") == 0)
    return to_verification(&o, xpub);
  if (address)
    return cli_print(address_json(xpub, !o.mainnet, o.magic), false);
  return cli_print(public_json(xpub), false);
}

int address_build(int argc, char **argv) {
  key_opts o;
  int code = parse_key_opts("address build", argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  if (o.vkey == NULL || !o.has_magic || o.secret || o.to)
    return cli_usage("address build: --verification-key-file F and (--testnet-magic N | "
                     "--mainnet) are required");
  uint8_t xpub[64];
  cdl_error err = {0};
  if (cdl_keyfile_read_verification(o.vkey, xpub, &err) != CDL_OK)
    return cli_report(&err);
  return cli_print(address_json(xpub, !o.mainnet, o.magic), false);
}
