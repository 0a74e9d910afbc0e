/*
 * cmd_delegation.c: `cardinal-cli delegation` (docs/cli.md "delegation";
 * docs/node.md "Re-delegating a core node"): a heavyweight delegation
 * certificate made and submitted, what moving a core node to a new key
 * takes (the rules: src/ledger/delegation.c):
 *   delegation issue-certificate (--testnet-magic N | --mainnet) --epoch E
 *       --secret GENESIS.skey --delegate-key KEY.skey --certificate FILE
 *     the genesis key's certificate for the delegate key from epoch E,
 *     written in the envelope `cardinal-node run --delegation-certificate`
 *     reads (cardano-cli's `byron delegation issue-delegation-certificate`,
 *     which that name is also taken for; --delegate-key here is a signing
 *     key, of which only the public half is used);
 *   delegation submit --socket-path S --certificate FILE [--testnet-magic N]
 *     the certificate as the mempool's delegation payload, GenTx
 *     [1, certificate], over local tx-submission;
 *   delegation check-certificate  (cmd_delegation_check.c).
 * The ledger schedules a certificate in a block of slot s for s + 2k and
 * takes it only for the current epoch or the next, once per genesis key
 * and epoch (src/ledger/delegation.c).
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/forge.h"
#include "cardinal/mempool.h"
#include "cli.h"

typedef struct issue_opts {
  const char *secret, *delegate, *certificate;
  uint64_t magic, epoch;
  bool has_magic, has_epoch;
} issue_opts;

static int parse_issue(int argc, char **argv, issue_opts *o) {
  static const struct option LONG[] = {{"testnet-magic", required_argument, 0, 'm'},
                                       {"mainnet", no_argument, 0, 'M'},
                                       {"epoch", required_argument, 0, 'e'},
                                       {"secret", required_argument, 0, 's'},
                                       {"delegate-key", required_argument, 0, 'd'},
                                       {"certificate", required_argument, 0, 'c'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'm' && !o->has_magic && cli_parse_u64(optarg, 0, UINT32_MAX, &o->magic))
      o->has_magic = true;
    else if (c == 'M' && !o->has_magic)
      o->magic = CDL_BYRON_MAINNET_MAGIC, o->has_magic = true;
    else if (c == 'e' && cli_parse_u64(optarg, 0, UINT32_MAX, &o->epoch))
      o->has_epoch = true;
    else if (c == 's')
      o->secret = optarg;
    else if (c == 'd')
      o->delegate = optarg;
    else if (c == 'c')
      o->certificate = optarg;
    else
      return cli_usage("delegation issue-certificate: bad, repeated or unknown option '%s'",
                       argv[optind - 1]);
  }
  if (optind < argc || !o->has_magic || !o->has_epoch || !o->secret || !o->delegate ||
      !o->certificate)
    return cli_usage("delegation issue-certificate: --testnet-magic N or --mainnet, --epoch, "
                     "--secret, --delegate-key and --certificate are required");
  return EXIT_OK;
}

/* The certificate's id in the mempool: Blake2b-256 of its CBOR. */
static void certificate_id(const cdl_byron_genesis_delegation *d, uint8_t id[32]) {
  cdl_buf cbor;
  cdl_buf_init(&cbor, 0);
  cdl_payload_delegation_encode(d, &cbor);
  cdl_blake2b_256(id, cbor.data, cbor.len);
  cdl_buf_free(&cbor);
}

static json_t *certificate_json(const issue_opts *o, const cdl_byron_genesis_delegation *d) {
  uint8_t delegate_hash[28], id[32];
  cdl_byron_key_hash(d->delegate_pk, delegate_hash);
  certificate_id(d, id);
  return json_pack("{s:s, s:o, s:o, s:o, s:I, s:I}", "certificate", o->certificate, "id",
                   cdl_json_hex(id, 32), "issuer", cdl_json_hex(d->issuer_id, 28), "delegate",
                   cdl_json_hex(delegate_hash, 28), "epoch", (json_int_t)d->omega,
                   "protocol_magic", (json_int_t)o->magic);
}

static int issue_certificate(int argc, char **argv) {
  issue_opts o;
  int code = parse_issue(argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_key genesis_key, delegate;
  cdl_error err = {0};
  int rc = cdl_keyfile_read_signing(o.secret, &genesis_key, NULL, &err);
  if (rc == CDL_OK) rc = cdl_keyfile_read_signing(o.delegate, &delegate, NULL, &err);
  cdl_byron_genesis_delegation d;
  if (rc == CDL_OK) {
    cdl_payload_delegation_make(&genesis_key, delegate.xpub, o.epoch, (uint32_t)o.magic, &d);
    rc = cdl_keyfile_write_cert(o.certificate, &d, &err);
  }
  sodium_memzero(&genesis_key, sizeof genesis_key); /* secrets do not outlive the command */
  sodium_memzero(&delegate, sizeof delegate);
  return rc != CDL_OK ? cli_report(&err) : cli_print(certificate_json(&o, &d), false);
}

static int submit_certificate(int argc, char **argv) {
  cli_node_opts o;
  int code = cli_node_opts_parse("delegation submit", argc, argv, &o, CLI_NODE_CERTIFICATE);
  if (code != EXIT_OK) return code;
  cdl_byron_genesis_delegation d;
  cdl_error err = {0};
  if (cdl_keyfile_read_cert(o.file, &d, &err) != CDL_OK) return cli_report(&err);
  cdl_buf gentx;
  cdl_buf_init(&gentx, 0);
  cdl_cbor_enc_array(&gentx, 2); /* GenTx [1, certificate]: a delegation */
  cdl_cbor_enc_uint(&gentx, CDL_MP_DLG);
  cdl_payload_delegation_encode(&d, &gentx);
  uint8_t id[32];
  certificate_id(&d, id);
  code = cli_submit_gentx(o.socket, o.magic, o.has_magic, cdl_span_of(gentx.data, gentx.len));
  cdl_buf_free(&gentx);
  if (code != EXIT_OK) return code;
  return cli_print(json_pack("{s:b, s:o, s:I}", "accepted", true, "id", cdl_json_hex(id, 32),
                             "epoch", (json_int_t)d.omega),
                   false);
}

int cmd_delegation(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "issue-certificate") == 0 ||
                    strcmp(argv[1], "issue-delegation-certificate") == 0))
    return issue_certificate(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "submit") == 0) return submit_certificate(argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "check-certificate") == 0 ||
                    strcmp(argv[1], "check-delegation") == 0))
    return delegation_check(argc - 1, argv + 1); /* cmd_delegation_check.c */
  return cli_usage("expected: delegation issue-certificate | submit | check-certificate");
}
