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
#include <argp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/forge.h"
#include "cli.h"

typedef struct key_opts {
  const struct argp *verb; /* the verb's parser: TO_VERIFICATION, PUBLIC, ADDRESS or BUILD */
  const char *secret, *to, *vkey;
  uint64_t magic;
  bool has_magic, mainnet, envelope;
} key_opts;

/* Option keys: above the character range, so none is a short option. */
enum { O_SECRET = 0x100, O_TO, O_VKEY, O_ENVELOPE, O_MAINNET, O_MAGIC, O_BYRON_FORMATS };

static const struct argp TO_VERIFICATION, PUBLIC, ADDRESS, BUILD;

/* What each verb cannot do without. */
static void require_options(struct argp_state *state, const key_opts *o) {
  const struct argp *verb = o->verb;
  if (verb == &BUILD && o->vkey == NULL)
    argp_error(state, "--verification-key-file FILE is required");
  if (verb != &BUILD && o->secret == NULL) argp_error(state, "--secret FILE is required");
  if (verb == &TO_VERIFICATION && o->to == NULL) argp_error(state, "--to FILE is required");
  if ((verb == &ADDRESS || verb == &BUILD) && !o->has_magic)
    argp_error(state, "--testnet-magic N or --mainnet is required");
}

static error_t key_option(int key, char *arg, struct argp_state *state) {
  key_opts *o = state->input;
  switch (key) {
  case O_SECRET: o->secret = arg; break;
  case O_TO: o->to = arg; break;
  case O_VKEY: o->vkey = arg; break;
  case O_ENVELOPE: o->envelope = true; break;
  case O_MAINNET:
  case O_MAGIC:
    cli_arg_network(state, arg, &o->has_magic, &o->magic);
    o->mainnet = key == O_MAINNET; /* not --testnet-magic 764824073: that one has the attribute */
    break;
  case O_BYRON_FORMATS: break; /* every key file form is recognised by its content */
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END: require_options(state, o); break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

#define OPT_SECRET                                                                              \
  {"secret", O_SECRET, "FILE", 0,                                                               \
   "the signing key: an envelope, raw CBOR or legacy UserSecret (required)", 0}
#define OPT_BYRON_FORMATS                                                                       \
  {"byron-formats", O_BYRON_FORMATS, NULL, 0,                                                   \
   "cardano-cli's; accepted and ignored (the form is read from the file)", 0},                  \
      {"byron-legacy-formats", O_BYRON_FORMATS, NULL, 0, "the same", 0}
#define OPT_NETWORK                                                                             \
  {"testnet-magic", O_MAGIC, "N", 0,                                                            \
   "a testnet: the address carries the network-magic attribute N (this or --mainnet is "       \
   "required)", 0},                                                                             \
      {"mainnet", O_MAINNET, NULL, 0, "mainnet: no network-magic attribute", 0}

static const struct argp_option TO_VERIFICATION_OPTIONS[] = {
    OPT_SECRET,
    {"to", O_TO, "FILE", 0, "the verification key file to write; an existing one is refused "
     "(required)", 0},
    {"text-envelope", O_ENVELOPE, NULL, 0,
     "write a text envelope (default: the Base64 text, as cardano-cli's byron commands)", 0},
    OPT_BYRON_FORMATS, {0}};
static const struct argp TO_VERIFICATION = {
    TO_VERIFICATION_OPTIONS, key_option, NULL,
    "Write a signing key's verification key (public key and chain code, 64 bytes) as "
    "cardano-cli's `byron key to-verification` does.\v"
    "Example:\n  cardinal-cli key to-verification --secret alice.skey --to alice.vkey",
    NULL, NULL, NULL};
static const struct argp_option PUBLIC_OPTIONS[] = {OPT_SECRET, OPT_BYRON_FORMATS, {0}};
static const struct argp PUBLIC = {
    PUBLIC_OPTIONS, key_option, NULL,
    "A signing key's key hash (the stakeholder id), public key in Base64 and in hex, as "
    "cardano-cli's `signing-key-public` shows them.\v"
    "Example:\n  cardinal-cli key signing-key-public --secret alice.skey",
    NULL, NULL, NULL};
static const struct argp_option ADDRESS_OPTIONS[] = {OPT_SECRET, OPT_NETWORK, OPT_BYRON_FORMATS,
                                                     {0}};
static const struct argp ADDRESS = {
    ADDRESS_OPTIONS, key_option, NULL,
    "A signing key's bootstrap address in Base58, as cardano-cli's `signing-key-address` makes "
    "it: with --testnet-magic it always carries the magic attribute.\v"
    "Example:\n  cardinal-cli key signing-key-address --testnet-magic 42 --secret alice.skey",
    NULL, NULL, NULL};
static const struct argp_option BUILD_OPTIONS[] = {
    {"verification-key-file", O_VKEY, "FILE", 0,
     "the verification key: Base64 text, an envelope, or a signing key file (required)", 0},
    OPT_NETWORK, OPT_BYRON_FORMATS, {0}};
static const struct argp BUILD = {
    BUILD_OPTIONS, key_option, NULL,
    "A verification key's Byron bootstrap address, as `key signing-key-address` prints it.\v"
    "Example:\n  cardinal-cli address build --verification-key-file alice.vkey \\\n"
    "    --testnet-magic 42",
    NULL, NULL, NULL};

static int parse_key_opts(const struct argp *ap, int argc, char **argv, key_opts *o) {
  *o = (key_opts){.verb = ap};
  return cli_args_parse(ap, argc, argv, o);
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

/* Parses a key verb's options and reads its --secret's public half. */
static int read_key(const struct argp *ap, int argc, char **argv, key_opts *o,
                    uint8_t xpub[64]) {
  int code = parse_key_opts(ap, argc, argv, o);
  return code != EXIT_OK ? code : read_public_half(o->secret, xpub);
}

int key_to_verification(int argc, char **argv) {
  key_opts o;
  uint8_t xpub[64];
  int code = read_key(&TO_VERIFICATION, argc, argv, &o, xpub);
  return code != EXIT_OK ? code : to_verification(&o, xpub);
}

int key_signing_key_public(int argc, char **argv) {
  key_opts o;
  uint8_t xpub[64];
  int code = read_key(&PUBLIC, argc, argv, &o, xpub);
  return code != EXIT_OK ? code : cli_print(public_json(xpub), false);
}

int key_signing_key_address(int argc, char **argv) {
  key_opts o;
  uint8_t xpub[64];
  int code = read_key(&ADDRESS, argc, argv, &o, xpub);
  return code != EXIT_OK ? code : cli_print(address_json(xpub, !o.mainnet, o.magic), false);
}

int address_build(int argc, char **argv) {
  key_opts o;
  int code = parse_key_opts(&BUILD, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  uint8_t xpub[64];
  cdl_error err = {0};
  if (cdl_keyfile_read_verification(o.vkey, xpub, &err) != CDL_OK)
    return cli_report(&err);
  return cli_print(address_json(xpub, !o.mainnet, o.magic), false);
}
