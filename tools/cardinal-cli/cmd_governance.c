/*
 * cmd_governance.c: `cardinal-cli governance` (docs/cli.md "governance";
 * docs/byron.md 1.10 update payloads, 5.6 the update rules), with
 * cardano-cli's `byron governance` names, flags and files
 * (Cardano.CLI.Byron.Parsers, UpdateProposal, Vote; cardano-api's
 * SpecialByron):
 *   create-update-proposal  a proposal signed by a genesis delegate key,
 *       written as its raw CBOR, as cardano-cli writes it;
 *   create-proposal-vote    a vote for a proposal file's id, raw CBOR;
 *   submit-update-proposal / submit-proposal-vote  over local
 *       tx-submission, GenTx [2, proposal] / [3, vote];
 *   show-proposal / show-vote  (cmd_governance_show.c).
 * What can be judged without a node is judged here (names, thresholds,
 * the wire types); whether the signer is a delegate, and the rest of the
 * ledger's rules, only the node can say: its refusal comes back readable
 * (reject.c).
 */
#include <getopt.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/forge.h"
#include "cardinal/mempool.h"
#include "cli.h"

/* Limits of cardano-ledger's checkApplicationName / checkSystemTag. */
#define APP_NAME_MAX 12
#define SYSTEM_TAG_MAX 10

enum {
  OPT_MAINNET = 256,
  OPT_MAGIC,
  OPT_KEY,
  OPT_PV_MAJOR,
  OPT_PV_MINOR,
  OPT_PV_ALT,
  OPT_APP,
  OPT_SV,
  OPT_TAG,
  OPT_INSTALLER,
  OPT_OUT,
  OPT_SF_INIT,
  OPT_SF_MIN,
  OPT_SF_DEC,
  OPT_FEE_A,
  OPT_FEE_B,
  OPT_UNLOCK,
  OPT_SCALAR = 512 /* + a SCALARS index */
};

/* The scalar protocol parameters, in the update's field order. */
typedef enum { WIRE_WORD16, WIRE_WORD64, WIRE_PORTION } wire_type;
static const struct {
  const char *flag;
  wire_type wire;
} SCALARS[CDL_BYRON_PP_COUNT_SCALAR] = {
    [CDL_BYRON_PP_SCRIPT_VERSION] = {"script-version", WIRE_WORD16},
    [CDL_BYRON_PP_SLOT_DURATION] = {"slot-duration", WIRE_WORD64},
    [CDL_BYRON_PP_MAX_BLOCK_SIZE] = {"max-block-size", WIRE_WORD64},
    [CDL_BYRON_PP_MAX_HEADER_SIZE] = {"max-header-size", WIRE_WORD64},
    [CDL_BYRON_PP_MAX_TX_SIZE] = {"max-tx-size", WIRE_WORD64},
    [CDL_BYRON_PP_MAX_PROPOSAL_SIZE] = {"max-proposal-size", WIRE_WORD64},
    [CDL_BYRON_PP_MPC_THD] = {"max-mpc-thd", WIRE_PORTION},
    [CDL_BYRON_PP_HEAVY_DEL_THD] = {"heavy-del-thd", WIRE_PORTION},
    [CDL_BYRON_PP_UPDATE_VOTE_THD] = {"update-vote-thd", WIRE_PORTION},
    [CDL_BYRON_PP_UPDATE_PROPOSAL_THD] = {"update-proposal-thd", WIRE_PORTION},
    [CDL_BYRON_PP_UPDATE_IMPLICIT] = {"time-to-live", WIRE_WORD64}};

typedef struct proposal_opts {
  uint64_t magic, pv[3], sv;
  bool has_magic, has_pv[3], has_sv, has_sf[3], has_fee_a, has_fee_b;
  const char *key, *app, *tag, *installer, *out;
  cdl_byron_param_update params;
  uint64_t fee_a, fee_b_nano;
  uint8_t summand_big[16]; /* a × 10^9 when it needs a bignum */
} proposal_opts;

/* ---- Numbers as cardano-cli reads them ---------------------------------- */

/* ceiling or floor of d × scale for a double d in [0, 1], exactly: d is
 * m × 2^-shift, and m × scale fits 128 bits. cardano-cli turns a DOUBLE
 * into a Rational exactly (toRational), then a LovelacePortion takes the
 * ceiling of r × 10^15 and a Nano the floor of r × 10^9. */
static uint64_t scale_exact(double d, uint64_t scale, bool round_up) {
  if (d == 0)
    return 0;
  int e;
  uint64_t m = (uint64_t)ldexp(frexp(d, &e), 53);
  int shift = 53 - e;
  unsigned __int128 p = (unsigned __int128)m * scale;
  unsigned __int128 q = shift >= 128 ? 0 : p >> shift;
  bool exact = shift < 128 && (q << shift) == p;
  return (uint64_t)(q + (round_up && !exact));
}

/* A DOUBLE in [0, 1]: usage (2) when not a number, the rule when out of
 * range, as cardano-cli's readDouble refuses it. */
static int parse_fraction01(const char *flag, const char *text, double *out) {
  char *end = NULL;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || strpbrk(text, "xXnNiI ") != NULL || !isfinite(v))
    return cli_usage("governance create-update-proposal: --%s takes a number, not '%s'", flag,
                     text);
  if (v < 0 || v > 1)
    return cli_report_rule("update.threshold_range", "--%s %s is outside [0, 1]", flag, text);
  *out = v;
  return EXIT_OK;
}

/* A decimal number within |max| (the field's wire type). */
static int parse_bounded(const char *flag, const char *text, uint64_t max, uint64_t *out) {
  if (!cli_parse_u64(text, 0, UINT64_MAX, out))
    return cli_usage("governance create-update-proposal: --%s takes a decimal number, not '%s'",
                     flag, text);
  if (*out > max)
    return cli_report_rule("update.parameter_range",
                           "--%s %s is above %llu, the largest its field holds", flag, text,
                           (unsigned long long)max);
  return EXIT_OK;
}

static int parse_portion(const char *flag, const char *text, uint64_t *out) {
  double v;
  int code = parse_fraction01(flag, text, &v);
  if (code == EXIT_OK)
    *out = scale_exact(v, CDL_BYRON_PORTION_DENOMINATOR, true);
  return code;
}

/* ---- create-update-proposal --------------------------------------------- */

static int set_scalar(proposal_opts *o, unsigned i, const char *text) {
  cdl_byron_opt_u64 *f = &o->params.scalar[i];
  int code =
      SCALARS[i].wire == WIRE_PORTION
          ? parse_portion(SCALARS[i].flag, text, &f->value)
          : parse_bounded(SCALARS[i].flag, text,
                          SCALARS[i].wire == WIRE_WORD16 ? UINT16_MAX : UINT64_MAX, &f->value);
  f->present = code == EXIT_OK;
  return code;
}

static int set_version_part(proposal_opts *o, int c, const char *text) {
  static const char *const FLAGS[] = {"protocol-version-major", "protocol-version-minor",
                                      "protocol-version-alt", "software-version-num"};
  static const uint64_t MAX[] = {UINT16_MAX, UINT16_MAX, UINT8_MAX, UINT32_MAX};
  int i = c == OPT_SV ? 3 : c - OPT_PV_MAJOR;
  uint64_t *slot = i == 3 ? &o->sv : &o->pv[i];
  int code = parse_bounded(FLAGS[i], text, MAX[i], slot);
  if (i == 3)
    o->has_sv = code == EXIT_OK;
  else
    o->has_pv[i] = code == EXIT_OK;
  return code;
}

static int set_other(proposal_opts *o, int c, const char *text) {
  if (c >= OPT_SF_INIT && c <= OPT_SF_DEC) {
    static const char *const FLAGS[] = {"softfork-init-thd", "softfork-min-thd",
                                        "softfork-thd-dec"};
    uint64_t *slot[] = {&o->params.softfork_init, &o->params.softfork_min,
                        &o->params.softfork_decrement};
    int i = c - OPT_SF_INIT;
    int code = parse_portion(FLAGS[i], text, slot[i]);
    o->has_sf[i] = code == EXIT_OK;
    return code;
  }
  if (c == OPT_FEE_A) {
    o->has_fee_a = true;
    return parse_bounded("tx-fee-a-constant", text, CDL_BYRON_MAX_LOVELACE, &o->fee_a);
  }
  if (c == OPT_FEE_B) {
    double b;
    int code = parse_fraction01("tx-fee-b-constant", text, &b);
    o->fee_b_nano = scale_exact(b, 1000000000u, false);
    o->has_fee_b = code == EXIT_OK;
    return code;
  }
  o->params.unlock_stake_epoch.present = true;
  return parse_bounded("unlock-stake-epoch", text, UINT64_MAX, &o->params.unlock_stake_epoch.value);
}

static int apply_option(proposal_opts *o, int c, const char *arg) {
  switch (c) {
  case OPT_MAINNET:
  case OPT_MAGIC:
    return cli_network_option(c == OPT_MAGIC ? arg : NULL, &o->has_magic, &o->magic)
               ? EXIT_OK
               : cli_usage("governance: give one of --testnet-magic N (32 bits) or --mainnet");
  case OPT_KEY:
    o->key = arg;
    return EXIT_OK;
  case OPT_APP:
    o->app = arg;
    return EXIT_OK;
  case OPT_TAG:
    o->tag = arg;
    return EXIT_OK;
  case OPT_INSTALLER:
    o->installer = arg;
    return EXIT_OK;
  case OPT_OUT:
    o->out = arg;
    return EXIT_OK;
  case OPT_PV_MAJOR:
  case OPT_PV_MINOR:
  case OPT_PV_ALT:
  case OPT_SV:
    return set_version_part(o, c, arg);
  default:
    if (c >= OPT_SCALAR && c < OPT_SCALAR + CDL_BYRON_PP_COUNT_SCALAR)
      return set_scalar(o, (unsigned)(c - OPT_SCALAR), arg);
    if (c >= OPT_SF_INIT && c <= OPT_UNLOCK)
      return set_other(o, c, arg);
    return cli_usage("governance create-update-proposal: unknown or incomplete option");
  }
}

static const struct option PROPOSAL_OPTIONS[] = {
    {"mainnet", no_argument, 0, OPT_MAINNET},
    {"testnet-magic", required_argument, 0, OPT_MAGIC},
    {"signing-key", required_argument, 0, OPT_KEY},
    {"protocol-version-major", required_argument, 0, OPT_PV_MAJOR},
    {"protocol-version-minor", required_argument, 0, OPT_PV_MINOR},
    {"protocol-version-alt", required_argument, 0, OPT_PV_ALT},
    {"application-name", required_argument, 0, OPT_APP},
    {"software-version-num", required_argument, 0, OPT_SV},
    {"system-tag", required_argument, 0, OPT_TAG},
    {"installer-hash", required_argument, 0, OPT_INSTALLER},
    {"filepath", required_argument, 0, OPT_OUT},
    {"script-version", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_SCRIPT_VERSION},
    {"slot-duration", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_SLOT_DURATION},
    {"max-block-size", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_MAX_BLOCK_SIZE},
    {"max-header-size", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_MAX_HEADER_SIZE},
    {"max-tx-size", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_MAX_TX_SIZE},
    {"max-proposal-size", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_MAX_PROPOSAL_SIZE},
    {"max-mpc-thd", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_MPC_THD},
    {"heavy-del-thd", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_HEAVY_DEL_THD},
    {"update-vote-thd", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_UPDATE_VOTE_THD},
    {"update-proposal-thd", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_UPDATE_PROPOSAL_THD},
    {"time-to-live", required_argument, 0, OPT_SCALAR + CDL_BYRON_PP_UPDATE_IMPLICIT},
    {"softfork-init-thd", required_argument, 0, OPT_SF_INIT},
    {"softfork-min-thd", required_argument, 0, OPT_SF_MIN},
    {"softfork-thd-dec", required_argument, 0, OPT_SF_DEC},
    {"tx-fee-a-constant", required_argument, 0, OPT_FEE_A},
    {"tx-fee-b-constant", required_argument, 0, OPT_FEE_B},
    {"unlock-stake-epoch", required_argument, 0, OPT_UNLOCK},
    {0, 0, 0, 0}};

static int parse_proposal_opts(int argc, char **argv, proposal_opts *o) {
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c, code;
  while ((c = getopt_long(argc, argv, "", PROPOSAL_OPTIONS, NULL)) != -1) {
    if (c == '?' || c == ':')
      return cli_usage("governance create-update-proposal: unknown or incomplete option '%s'",
                       argv[optind - 1]);
    if ((code = apply_option(o, c, optarg)) != EXIT_OK)
      return code;
  }
  if (optind < argc)
    return cli_usage("governance create-update-proposal: unexpected argument '%s'", argv[optind]);
  if (!o->has_magic || !o->key || !o->has_pv[0] || !o->has_pv[1] || !o->has_pv[2] || !o->app ||
      !o->has_sv || !o->tag || !o->installer || !o->out)
    return cli_usage("governance create-update-proposal: (--testnet-magic N | --mainnet), "
                     "--signing-key, --protocol-version-major/-minor/-alt, --application-name, "
                     "--software-version-num, --system-tag, --installer-hash and --filepath "
                     "are required");
  int n_sf = o->has_sf[0] + o->has_sf[1] + o->has_sf[2];
  if (n_sf != 0 && n_sf != 3)
    return cli_usage("governance create-update-proposal: --softfork-init-thd, "
                     "--softfork-min-thd and --softfork-thd-dec go together");
  if (o->has_fee_a != o->has_fee_b)
    return cli_usage("governance create-update-proposal: --tx-fee-a-constant and "
                     "--tx-fee-b-constant go together");
  return EXIT_OK;
}

static bool ascii_within(const char *text, size_t max) {
  size_t n = strlen(text);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)text[i] >= 0x80)
      return false;
  return n <= max;
}

/* The ledger's rules that need no node (src/ledger/update.c). */
static int check_locally(const proposal_opts *o) {
  if (!ascii_within(o->app, APP_NAME_MAX))
    return cli_report_rule(CDL_RULE_UPD_APP_NAME,
                           "application name '%s' is not ASCII of at most %d bytes", o->app,
                           APP_NAME_MAX);
  if (!ascii_within(o->tag, SYSTEM_TAG_MAX))
    return cli_report_rule(CDL_RULE_UPD_SYSTEM_TAG,
                           "system tag '%s' is not ASCII of at most %d bytes", o->tag,
                           SYSTEM_TAG_MAX);
  const cdl_byron_opt_u64 *tx = &o->params.scalar[CDL_BYRON_PP_MAX_TX_SIZE];
  const cdl_byron_opt_u64 *block = &o->params.scalar[CDL_BYRON_PP_MAX_BLOCK_SIZE];
  if (tx->present && block->present && tx->value >= block->value)
    return cli_report_rule(CDL_RULE_UPD_TX_SIZE, "maxTxSize %llu is not below maxBlockSize %llu",
                           (unsigned long long)tx->value, (unsigned long long)block->value);
  return EXIT_OK;
}

/* TxSizeLinear as a Nano pair: a × 10^9 (a bignum past 64 bits, as
 * cborg's encodeInteger writes it) and floor(b × 10^9). */
static void set_fee_policy(proposal_opts *o) {
  cdl_byron_param_update *u = &o->params;
  unsigned __int128 summand = (unsigned __int128)o->fee_a * 1000000000u;
  u->has_fee_policy = true;
  u->fee_multiplier_nano = (cdl_byron_integer){.small = o->fee_b_nano};
  if (summand <= UINT64_MAX) {
    u->fee_summand_nano = (cdl_byron_integer){.small = (uint64_t)summand};
    return;
  }
  size_t n = 0;
  for (unsigned __int128 v = summand; v > 0; v >>= 8)
    n++;
  for (size_t i = 0; i < n; i++)
    o->summand_big[n - 1 - i] = (uint8_t)(summand >> (8 * i));
  u->fee_summand_nano =
      (cdl_byron_integer){.is_bignum = true, .big = cdl_span_of(o->summand_big, n)};
}

static json_t *proposal_summary(const proposal_opts *o, const cdl_key *k, const uint8_t id[32],
                                size_t size) {
  uint8_t issuer[28];
  cdl_key_hash(k, issuer);
  char version[32];
  snprintf(version, sizeof version, "%u.%u.%u", (unsigned)o->pv[0], (unsigned)o->pv[1],
           (unsigned)o->pv[2]);
  return json_pack("{s:s,s:o,s:s,s:{s:s,s:I},s:o,s:I,s:I}", "filepath", o->out, "id",
                   cdl_json_hex(id, 32), "block_version", version, "software_version", "name",
                   o->app, "number", (json_int_t)o->sv, "issuer", cdl_json_hex(issuer, 28),
                   "protocol_magic", (json_int_t)o->magic, "bytes", (json_int_t)size);
}

static int create_update_proposal(int argc, char **argv) {
  proposal_opts o;
  int code = parse_proposal_opts(argc, argv, &o);
  if (code == EXIT_OK)
    code = check_locally(&o);
  if (code == EXIT_OK)
    code = cli_refuse_existing("governance create-update-proposal", o.out);
  if (code != EXIT_OK)
    return code;
  cdl_key k;
  cdl_error err = {0};
  if (cdl_keyfile_read_signing(o.key, &k, NULL, &err) != CDL_OK)
    return cli_report(&err);
  if (o.has_fee_a)
    set_fee_policy(&o);
  uint8_t installer[32], empty_hash[32], id[32];
  /* cardano-cli hashes the text given (hashRaw of its bytes). */
  cdl_blake2b_256(installer, (const uint8_t *)o.installer, strlen(o.installer));
  cdl_byron_update_data data;
  cdl_payload_update_data(&data, cdl_span_of((const uint8_t *)o.tag, strlen(o.tag)), installer,
                          empty_hash);
  cdl_byron_proposal p;
  memset(&p, 0, sizeof p);
  p.block_version = (cdl_byron_version){(uint16_t)o.pv[0], (uint16_t)o.pv[1], (uint8_t)o.pv[2]};
  p.params = o.params;
  p.params.has_softfork_rule = o.has_sf[0];
  p.software_version = (cdl_byron_software_version){
      cdl_span_of((const uint8_t *)o.app, strlen(o.app)), (uint32_t)o.sv};
  p.metadata = &data;
  p.n_metadata = 1;
  cdl_buf out;
  cdl_buf_init(&out, 0);
  cdl_payload_proposal_sign(&k, &p, (uint32_t)o.magic, &out, id);
  code = out.failed
             ? (cdl_error_set(&err, CDL_E_NOMEM, 0, "out of memory"), cli_report(&err))
             : cli_write_new_file("governance create-update-proposal", o.out, out.data, out.len);
  json_t *summary = code == EXIT_OK ? proposal_summary(&o, &k, id, out.len) : NULL;
  sodium_memzero(&k, sizeof k);
  cdl_buf_free(&out);
  return code == EXIT_OK ? cli_print(summary, false) : code;
}

/* ---- Reading proposal and vote files ------------------------------------ */

int governance_read_payload(const char *path, bool vote, cdl_buf *bytes, cdl_arena *arena,
                            cdl_byron_proposal *p, cdl_byron_vote *v) {
  cdl_error err = {0}, inner = {0};
  /* At most the hex text (with whitespace) of the largest payload a node takes. */
  if (cli_read_input_max(path, 4 * (size_t)CDL_MEMPOOL_MAX_PAYLOAD, bytes, &err) != CDL_OK)
    return cli_report(&err);
  if (bytes->len > CDL_MEMPOOL_MAX_PAYLOAD) {
    cdl_error_set(&err, CDL_E_LIMIT, 0, "%s: %zu bytes, more than a node takes (%u)", path,
                  bytes->len, CDL_MEMPOOL_MAX_PAYLOAD);
    return cli_report(&err);
  }
  cdl_byron_ctx ctx = {arena, &inner, 0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, bytes->data, bytes->len, &inner);
  int rc = vote ? cdl_byron_vote_read(&cur, v) : cdl_byron_proposal_read(&cur, &ctx, p);
  if (rc == CDL_OK)
    rc = cdl_cbor_expect_end(&cur, vote ? "the vote" : "the proposal");
  if (rc == CDL_OK)
    return EXIT_OK;
  cdl_error_set(&err, inner.code, inner.offset, "%s: not a Byron update %s: %s", path,
                vote ? "vote" : "proposal", inner.message);
  return cli_report(&err);
}

/* ---- create-proposal-vote ----------------------------------------------- */

typedef struct vote_opts {
  uint64_t magic;
  bool has_magic, has_decision, decision;
  const char *key, *proposal, *out;
} vote_opts;

static int parse_vote_opts(int argc, char **argv, vote_opts *o) {
  static const struct option LONG[] = {{"mainnet", no_argument, 0, 'M'},
                                       {"testnet-magic", required_argument, 0, 'm'},
                                       {"signing-key", required_argument, 0, 'k'},
                                       {"proposal-filepath", required_argument, 0, 'p'},
                                       {"vote-yes", no_argument, 0, 'y'},
                                       {"vote-no", no_argument, 0, 'n'},
                                       {"output-filepath", required_argument, 0, 'o'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if ((c == 'M' || c == 'm') &&
        cli_network_option(c == 'm' ? optarg : NULL, &o->has_magic, &o->magic))
      continue;
    if ((c == 'y' || c == 'n') && !o->has_decision) {
      o->has_decision = true;
      o->decision = c == 'y';
    } else if (c == 'k') {
      o->key = optarg;
    } else if (c == 'p') {
      o->proposal = optarg;
    } else if (c == 'o') {
      o->out = optarg;
    } else {
      return cli_usage("governance create-proposal-vote: bad, repeated or unknown option '%s'",
                       argv[optind - 1]);
    }
  }
  if (optind < argc || !o->has_magic || !o->has_decision || !o->key || !o->proposal || !o->out)
    return cli_usage("governance create-proposal-vote: (--testnet-magic N | --mainnet), "
                     "--signing-key, --proposal-filepath, (--vote-yes | --vote-no) and "
                     "--output-filepath are required");
  return EXIT_OK;
}

static json_t *vote_summary(const vote_opts *o, const cdl_key *k, const uint8_t proposal_id[32],
                            const cdl_buf *vote) {
  uint8_t voter[28], id[32];
  cdl_key_hash(k, voter);
  cdl_blake2b_256(id, vote->data, vote->len);
  json_t *j = json_pack("{s:s,s:o,s:o,s:s,s:o,s:I}", "output_filepath", o->out, "id",
                        cdl_json_hex(id, 32), "proposal_id", cdl_json_hex(proposal_id, 32),
                        "decision", o->decision ? "yes" : "no", "voter", cdl_json_hex(voter, 28),
                        "protocol_magic", (json_int_t)o->magic);
  if (j != NULL && !o->decision)
    json_object_set_new(
        j, "note",
        json_string("Byron's ledger counts no negative vote: it verifies every vote as a yes "
                    "(cardano-ledger dropped the decision bit), so a node refuses this one "
                    "(update.vote_signature). Not voting is how to oppose a proposal."));
  return j;
}

static int create_proposal_vote(int argc, char **argv) {
  vote_opts o;
  int code = parse_vote_opts(argc, argv, &o);
  if (code == EXIT_OK)
    code = cli_refuse_existing("governance create-proposal-vote", o.out);
  if (code != EXIT_OK)
    return code;
  cdl_buf bytes, vote;
  cdl_buf_init(&bytes, 0);
  cdl_buf_init(&vote, 0);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_proposal p;
  code = governance_read_payload(o.proposal, false, &bytes, &arena, &p, NULL);
  cdl_key k;
  cdl_error err = {0};
  if (code == EXIT_OK && cdl_keyfile_read_signing(o.key, &k, NULL, &err) != CDL_OK)
    code = cli_report(&err);
  if (code == EXIT_OK) {
    cdl_payload_vote_sign(&k, p.id, o.decision, (uint32_t)o.magic, &vote);
    code = cli_write_new_file("governance create-proposal-vote", o.out, vote.data, vote.len);
    if (code == EXIT_OK)
      code = cli_print(vote_summary(&o, &k, p.id, &vote), false);
    sodium_memzero(&k, sizeof k);
  }
  cdl_arena_free(&arena);
  cdl_buf_free(&bytes);
  cdl_buf_free(&vote);
  return code;
}

/* ---- submit-update-proposal / submit-proposal-vote ---------------------- */

/* `--filepath F` and `--mainnet` are taken out here; the rest (socket,
 * magic) is the shared node options' (cli_node_opts_parse). */
static int submit_payload(int argc, char **argv, bool vote) {
  const char *what = vote ? "governance submit-proposal-vote" : "governance submit-update-proposal";
  const char *path = cli_take_option(&argc, argv, "filepath");
  bool mainnet = cli_take_flag(&argc, argv, "mainnet");
  cli_node_opts o;
  int code = cli_node_opts_parse(what, argc, argv, &o, CLI_NODE_NO_FILE);
  if (code != EXIT_OK)
    return code;
  if (path == NULL)
    return cli_usage("%s: --filepath F is required", what);
  if (mainnet && !cli_network_option(NULL, &o.has_magic, &o.magic))
    return cli_usage("%s: give one of --testnet-magic N or --mainnet", what);
  cdl_buf bytes, gentx;
  cdl_buf_init(&bytes, 0);
  cdl_buf_init(&gentx, 0);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_proposal p;
  cdl_byron_vote v;
  code = governance_read_payload(path, vote, &bytes, &arena, &p, &v);
  if (code == EXIT_OK) {
    cdl_cbor_enc_array(&gentx, 2); /* GenTx [2, proposal] or [3, vote] */
    cdl_cbor_enc_uint(&gentx, vote ? CDL_MP_VOTE : CDL_MP_PROPOSAL);
    cdl_buf_append(&gentx, bytes.data, bytes.len);
    code = cli_submit_gentx(o.socket, o.magic, o.has_magic, cdl_span_of(gentx.data, gentx.len));
  }
  if (code == EXIT_OK) {
    uint8_t id[32]; /* the mempool's id: the hash of the payload's bytes */
    cdl_blake2b_256(id, bytes.data, bytes.len);
    json_t *j = json_pack("{s:b,s:o}", "accepted", true, "id", cdl_json_hex(id, 32));
    if (j && vote)
      json_object_set_new(j, "proposal_id", cdl_json_hex(v.proposal_id, 32));
    code = cli_print(j, false);
  }
  cdl_arena_free(&arena);
  cdl_buf_free(&bytes);
  cdl_buf_free(&gentx);
  return code;
}

int cmd_governance(int argc, char **argv) {
  const char *verb = argc >= 2 ? argv[1] : "";
  if (strcmp(verb, "create-update-proposal") == 0)
    return create_update_proposal(argc - 1, argv + 1);
  if (strcmp(verb, "create-proposal-vote") == 0)
    return create_proposal_vote(argc - 1, argv + 1);
  if (strcmp(verb, "submit-update-proposal") == 0)
    return submit_payload(argc - 1, argv + 1, false);
  if (strcmp(verb, "submit-proposal-vote") == 0)
    return submit_payload(argc - 1, argv + 1, true);
  if (strcmp(verb, "show-proposal") == 0 || strcmp(verb, "show-vote") == 0)
    return governance_show(argc - 1, argv + 1);
  return cli_usage("expected: governance create-update-proposal | create-proposal-vote | "
                   "submit-update-proposal | submit-proposal-vote | show-proposal | show-vote");
}
