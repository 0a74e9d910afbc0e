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
#include <getopt.h>
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

static int parse_opts(int argc, char **argv, key_opts *o) {
  static const struct option LONG[] = {{"in", required_argument, 0, 'i'},
                                       {"out", required_argument, 0, 'o'},
                                       {"to", required_argument, 0, 't'},
                                       {0, 0, 0, 0}};
  int c;
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'i')
      o->in = optarg;
    else if (c == 'o')
      o->out = optarg;
    else if (c == 't' && parse_format(optarg, &o->to))
      o->has_to = true;
    else if (c == 't')
      return cli_usage("key: --to takes envelope, legacy or raw, not %s", optarg);
    else
      return cli_usage("key: unknown or incomplete option '%s'", argv[optind - 1]);
  }
  if (o->in == NULL || o->out == NULL)
    return cli_usage("key migrate: --in FILE and --out FILE are required");
  if (optind != argc) return cli_usage("key migrate: unexpected argument '%s'", argv[optind]);
  return EXIT_OK;
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
static int keygen(int argc, char **argv) {
  static const struct option LONG[] = {{"secret", required_argument, 0, 's'}, {0, 0, 0, 0}};
  const char *out = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c != 's') return cli_usage("key keygen: unknown option '%s'", argv[optind - 1]);
    out = optarg;
  }
  if (out == NULL || optind != argc) return cli_usage("key keygen: --secret FILE is required");
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

int cmd_key(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "keygen") == 0) return keygen(argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "to-verification") == 0 ||
                    strcmp(argv[1], "signing-key-public") == 0 ||
                    strcmp(argv[1], "signing-key-address") == 0))
    return key_public(argc - 1, argv + 1); /* cmd_key_address.c */
  if (argc < 2 || strcmp(argv[1], "migrate") != 0)
    return cli_usage("key: expected keygen, migrate, to-verification, signing-key-public or "
                     "signing-key-address");
  key_opts o;
  int rc = parse_opts(argc - 1, argv + 1, &o);
  return rc != EXIT_OK ? rc : migrate(&o);
}
