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
 *   delegation submit --certificate FILE [node options]
 *     the certificate as the mempool's delegation payload, GenTx
 *     [1, certificate], over local tx-submission;
 *   delegation check-certificate  (cmd_delegation_check.c).
 * The ledger schedules a certificate in a block of slot s for s + 2k and
 * takes it only for the current epoch or the next, once per genesis key
 * and epoch (src/ledger/delegation.c).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/forge.h"
#include "cardinal/mempool.h"

typedef struct issue_opts {
  const char *secret, *delegate, *certificate;
  uint64_t magic, epoch;
  bool has_magic, has_epoch;
} issue_opts;

enum { O_EPOCH = 0x100, O_SECRET, O_DELEGATE, O_CERTIFICATE };

static error_t issue_option(int key, char *arg, struct argp_state *state) {
  issue_opts *o = state->input;
  switch (key) {
  case CLI_O_MAGIC:
  case CLI_O_MAINNET: cli_arg_network(state, arg, &o->has_magic, &o->magic); break;
  case O_EPOCH: o->epoch = cli_arg_u64(state, arg, 0, UINT32_MAX), o->has_epoch = true; break;
  case O_SECRET: o->secret = arg; break;
  case O_DELEGATE: o->delegate = arg; break;
  case O_CERTIFICATE: o->certificate = arg; break;
  case ARGP_KEY_END:
    if (!o->has_magic) argp_error(state, "--testnet-magic N or --mainnet is required");
    if (!o->has_epoch) argp_error(state, "--epoch E is required");
    if (o->secret == NULL) argp_error(state, "--secret FILE is required");
    if (o->delegate == NULL) argp_error(state, "--delegate-key FILE is required");
    if (o->certificate == NULL) argp_error(state, "--certificate FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option ISSUE_OPTIONS[] = {
    CLI_NETWORK_OPTIONS("the certificate is signed for (required, or --mainnet)"),
    {"epoch", O_EPOCH, "E", 0,
     "the epoch from which the delegation holds: the current one or the next (required)", 0},
    {"secret", O_SECRET, "FILE", 0, "the genesis key's signing key file (required)", 0},
    {"delegate-key", O_DELEGATE, "FILE", 0,
     "the delegate's signing key file; only its public half is used (required)", 0},
    {"certificate", O_CERTIFICATE, "FILE", 0,
     "the certificate to write, in the envelope cardinal-node run reads (required)", 0},
    {0}};
static const struct argp ISSUE = {
    ISSUE_OPTIONS, issue_option, NULL,
    "A heavyweight delegation certificate: the genesis key's signature naming the delegate "
    "key that signs blocks for it from epoch E (cardano-cli's "
    "issue-delegation-certificate).\v"
    "Example:\n"
    "  cardinal-cli delegation issue-certificate --testnet-magic 42 --epoch 1 \\\n"
    "    --secret net/genesis/genesis-keys.000.skey --delegate-key new.skey \\\n"
    "    --certificate new-cert.json",
    NULL, NULL, NULL};

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
  memset(&o, 0, sizeof o);
  int code = cli_args_parse(&ISSUE, argc, argv, &o);
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

static const struct argp_option SUBMIT_OPTIONS[] = {
    {"certificate", CLI_O_FILE, "FILE", 0, "the certificate, as issue-certificate writes it "
     "(required)", 0},
    {0}};
static const struct argp SUBMIT = {
    SUBMIT_OPTIONS, cli_command_option, NULL,
    "Send a delegation certificate to a node as the mempool's delegation payload (GenTx [1, "
    "certificate]) over local tx-submission: {\"accepted\": true, \"id\", \"epoch\"}, or exit "
    "1 with the node's reason.\v"
    "Example:\n"
    "  cardinal-cli delegation submit --socket-path net/node-3/node.socket \\\n"
    "    --certificate new-cert.json",
    CLI_NODE_CHILDREN, NULL, NULL};

static int submit_certificate(int argc, char **argv) {
  cli_command o;
  int code = cli_command_parse(&SUBMIT, argc, argv, &o);
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
  code = cli_submit_gentx(o.node.socket, o.node.magic, o.node.has_magic,
                          cdl_span_of(gentx.data, gentx.len));
  cdl_buf_free(&gentx);
  if (code != EXIT_OK) return code;
  return cli_print(json_pack("{s:b, s:o, s:I}", "accepted", true, "id", cdl_json_hex(id, 32),
                             "epoch", (json_int_t)d.omega),
                   false);
}

static const cli_verb DELEGATION_VERBS[] = {
    {"issue-certificate", "issue-delegation-certificate",
     "a genesis key's certificate for a delegate key", issue_certificate},
    {"submit", NULL, "send a certificate to a node", submit_certificate},
    {"check-certificate", "check-delegation", "check a certificate without a node",
     delegation_check}};
const cli_noun CLI_DELEGATION = CLI_NOUN("delegation", DELEGATION_VERBS);
