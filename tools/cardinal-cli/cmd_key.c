/*
 * cmd_key.c: `cardinal-cli key` (docs/cli.md "key"):
 *   key keygen --secret FILE  a new Byron signing key (a delegate's, for a
 *     re-delegation, or a wallet's), as `cardano-cli byron key keygen`;
 *   key migrate  converts a Byron signing key between cardano-cli's text
 *     envelope, the legacy cardano-sl UserSecret and the bare CBOR XPrv
 *     (formats in src/forge/keyfile.c), as `cardano-cli byron key
 *     migrate-delegate-key-from` does for one direction;
 *   key to-verification, signing-key-public, signing-key-address: the
 *     key's public half and address (cmd_key_address.c).
 */
#include <argp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cardinal/byron_json.h"
#include "cardinal/forge.h"
#include "cli.h"

typedef struct {
  const char *in, *out;
  bool has_to;
  cdl_keyfile_format to;
} key_opts;

static const char *const FORMAT_NAMES[] = {[CDL_KEYFILE_ENVELOPE] = "envelope",
                                           [CDL_KEYFILE_LEGACY] = "legacy",
                                           [CDL_KEYFILE_RAW] = "raw"};

static bool parse_format(const char *text, cdl_keyfile_format *out) {
  for (size_t i = 0; i < sizeof FORMAT_NAMES / sizeof FORMAT_NAMES[0]; i++) {
    if (strcmp(text, FORMAT_NAMES[i]) == 0) {
      *out = (cdl_keyfile_format)i;
      return true;
    }
  }
  return false;
}

/* Option keys: above the character range, so none is a short option. */
enum { O_IN = 0x100, O_OUT, O_TO, O_SECRET };

static error_t migrate_option(int key, char *arg, struct argp_state *state) {
  key_opts *o = state->input;
  switch (key) {
  case O_IN: o->in = arg; break;
  case O_OUT: o->out = arg; break;
  case O_TO:
    if (!parse_format(arg, &o->to))
      argp_error(state, "--to: takes envelope, legacy or raw, not '%s'", arg);
    o->has_to = true;
    break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (o->in == NULL) argp_error(state, "--in FILE is required");
    if (o->out == NULL) argp_error(state, "--out FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option MIGRATE_OPTIONS[] = {
    {"in", O_IN, "FILE", 0, "the signing key, in any of the three forms (required)", 0},
    {"out", O_OUT, "FILE", 0, "the file to write; an existing one is refused (required)", 0},
    {"to", O_TO, "FORMAT", 0,
     "envelope (cardano-cli's text envelope), raw (the CBOR key cardano-node's Byron "
     "--signing-key reads) or legacy (cardano-sl's UserSecret) (default: raw from an envelope, "
     "else envelope)", 0},
    {0}};
static const struct argp MIGRATE = {
    MIGRATE_OPTIONS, migrate_option, NULL,
    "Convert a Byron signing key between a cardano-cli text envelope, the bare CBOR key and "
    "cardano-sl's legacy UserSecret.\v"
    "Example:\n  cardinal-cli key migrate --in net/delegate-keys.000.skey --out node.key",
    NULL, NULL, NULL};

static int parse_opts(int argc, char **argv, key_opts *o) {
  memset(o, 0, sizeof *o);
  return cli_args_parse(&MIGRATE, argc, argv, o);
}

static int migrate(const key_opts *o) {
  struct stat st;
  /* lstat: a dangling symlink at --out would otherwise be followed and
   * its target created. */
  if (lstat(o->out, &st) == 0)
    return cli_usage("key migrate: %s already exists; not overwriting it", o->out);
  cdl_error err = {0};
  cdl_key k;
  cdl_keyfile_format from;
  if (cdl_keyfile_read_signing(o->in, &k, &from, &err) != CDL_OK) return cli_report(&err);
  /* Without --to, go to the other family (docs/cli.md): envelopes become
   * the raw CBOR key cardano-node's Byron --signing-key reads, binary
   * files become envelopes. */
  cdl_keyfile_format to = o->has_to                      ? o->to
                          : from == CDL_KEYFILE_ENVELOPE ? CDL_KEYFILE_RAW
                                                         : CDL_KEYFILE_ENVELOPE;
  int rc = cdl_keyfile_write_signing(o->out, &k, to, NULL, &err);
  uint8_t hash[28];
  cdl_key_hash(&k, hash);
  json_t *j = rc != CDL_OK ? NULL
                           : json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "in", o->in, "in_format",
                                       FORMAT_NAMES[from], "out", o->out, "out_format",
                                       FORMAT_NAMES[to], "key_hash", cdl_json_hex(hash, 28),
                                       "public_key", cdl_json_hex(k.xpub, 64));
  memset(&k, 0, sizeof k);
  return rc != CDL_OK ? cli_report(&err) : cli_print(j, false);
}

/* `key keygen --secret FILE`: a new key from the system's CSPRNG, in the
 * envelope genesis create writes delegate keys in. */
static error_t keygen_option(int key, char *arg, struct argp_state *state) {
  const char **out = state->input;
  switch (key) {
  case O_SECRET: *out = arg; break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (*out == NULL) argp_error(state, "--secret FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option KEYGEN_OPTIONS[] = {
    {"secret", O_SECRET, "FILE", 0, "the key file to write; an existing one is refused (required)",
     0},
    {0}};
static const struct argp KEYGEN = {
    KEYGEN_OPTIONS, keygen_option, NULL,
    "A new Byron signing key from the system's CSPRNG, in the text envelope `genesis create` "
    "writes delegate keys in (mode 0600), as cardano-cli's `byron key keygen`.\v"
    "Example:\n  cardinal-cli key keygen --secret new.skey",
    NULL, NULL, NULL};

static int keygen(int argc, char **argv) {
  const char *out = NULL;
  int code = cli_args_parse(&KEYGEN, argc, argv, &out);
  if (code != EXIT_OK) return code;
  struct stat st;
  if (lstat(out, &st) == 0)
    return cli_usage("key keygen: %s already exists; not overwriting it", out);
  uint8_t entropy[32];
  randombytes_buf(entropy, sizeof entropy);
  cdl_key k;
  cdl_key_derive(&k, entropy);
  sodium_memzero(entropy, sizeof entropy);
  cdl_error err = {0};
  int rc = cdl_keyfile_write_signing(out, &k, CDL_KEYFILE_ENVELOPE, "Delegate Signing Key", &err);
  uint8_t hash[28];
  cdl_key_hash(&k, hash);
  json_t *j = rc != CDL_OK ? NULL
                           : json_pack("{s:s,s:o,s:o}", "secret", out, "key_hash",
                                       cdl_json_hex(hash, 28), "public_key",
                                       cdl_json_hex(k.xpub, 64));
  sodium_memzero(&k, sizeof k);
  return rc != CDL_OK ? cli_report(&err) : cli_print(j, false);
}

static int run_migrate(int argc, char **argv) {
  key_opts o;
  int rc = parse_opts(argc, argv, &o);
  return rc != EXIT_OK ? rc : migrate(&o);
}

static const cli_verb KEY_VERBS[] = {
    {"keygen", NULL, "a new Byron signing key", keygen},
    {"migrate", NULL, "a signing key to another file format", run_migrate},
    {"to-verification", NULL, "a signing key's verification key file", key_to_verification},
    {"signing-key-public", NULL, "a signing key's key hash and public key",
     key_signing_key_public},
    {"signing-key-address", NULL, "a signing key's bootstrap address", key_signing_key_address}};
const cli_noun CLI_KEY = CLI_NOUN("key", KEY_VERBS);
