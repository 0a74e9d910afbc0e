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
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"
#include "cardinal/forge.h"
#include "cardinal/mempool.h"

/* Limits of cardano-ledger's checkApplicationName / checkSystemTag. */
#define APP_NAME_MAX 12
#define SYSTEM_TAG_MAX 10

/* Option keys: above the character range, so none is a short option. */
enum {
  OPT_KEY = 0x100,
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
  OPT_PROPOSAL,
  OPT_YES,
  OPT_NO,
  OPT_SCALAR = 0x200 /* + a CDL_BYRON_PP_* index */
};

/* The wire type of each scalar protocol parameter, in the update's field
 * order. */
typedef enum { WIRE_WORD16, WIRE_WORD64, WIRE_PORTION } wire_type;
static const wire_type SCALAR_WIRE[CDL_BYRON_PP_COUNT_SCALAR] = {
    [CDL_BYRON_PP_SCRIPT_VERSION] = WIRE_WORD16,    [CDL_BYRON_PP_SLOT_DURATION] = WIRE_WORD64,
    [CDL_BYRON_PP_MAX_BLOCK_SIZE] = WIRE_WORD64,    [CDL_BYRON_PP_MAX_HEADER_SIZE] = WIRE_WORD64,
    [CDL_BYRON_PP_MAX_TX_SIZE] = WIRE_WORD64,       [CDL_BYRON_PP_MAX_PROPOSAL_SIZE] = WIRE_WORD64,
    [CDL_BYRON_PP_MPC_THD] = WIRE_PORTION,          [CDL_BYRON_PP_HEAVY_DEL_THD] = WIRE_PORTION,
    [CDL_BYRON_PP_UPDATE_VOTE_THD] = WIRE_PORTION,  [CDL_BYRON_PP_UPDATE_PROPOSAL_THD] = WIRE_PORTION,
    [CDL_BYRON_PP_UPDATE_IMPLICIT] = WIRE_WORD64};

typedef struct proposal_opts {
  uint64_t magic, pv[3], sv;
  bool has_magic, has_pv[3], has_sv, has_sf[3], has_fee_a, has_fee_b;
  const char *key, *app, *tag, *installer, *out;
  cdl_byron_param_update params;
  uint64_t fee_a, fee_b_nano;
  uint8_t summand_big[16]; /* a × 10^9 when it needs a bignum */
  int code;                /* a value's rule broken, already reported */
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

/* The option's value as a DOUBLE in [0, 1]: a usage error (exit 2) naming
 * the option when not a number, the rule (exit 1) when out of range, as
 * cardano-cli's readDouble refuses it. */
static int parse_fraction01(struct argp_state *state, const char *text, double *out) {
  char *end = NULL;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || strpbrk(text, "xXnNiI ") != NULL || !isfinite(v))
    argp_error(state, "%s: '%s' is not a number", cli_arg_name(state), text);
  if (v < 0 || v > 1)
    return cli_report_rule("update.threshold_range", "%s %s is outside [0, 1]",
                           cli_arg_name(state), text);
  *out = v;
  return EXIT_OK;
}

/* The option's value as a decimal number within |max| (its field's wire
 * type): usage when not a number, the rule when too large. */
static int parse_bounded(struct argp_state *state, const char *text, uint64_t max, uint64_t *out) {
  if (!cli_parse_u64(text, 0, UINT64_MAX, out))
    argp_error(state, "%s: '%s' is not a decimal number", cli_arg_name(state), text);
  if (*out > max)
    return cli_report_rule("update.parameter_range",
                           "%s %s is above %llu, the largest its field holds",
                           cli_arg_name(state), text, (unsigned long long)max);
  return EXIT_OK;
}

static int parse_portion(struct argp_state *state, const char *text, uint64_t *out) {
  double v = 0.0;
  int code = parse_fraction01(state, text, &v);
  if (code == EXIT_OK)
    *out = scale_exact(v, CDL_BYRON_PORTION_DENOMINATOR, true);
  return code;
}

/* ---- create-update-proposal --------------------------------------------- */

static int set_scalar(struct argp_state *state, proposal_opts *o, unsigned i, const char *text) {
  cdl_byron_opt_u64 *f = &o->params.scalar[i];
  int code = SCALAR_WIRE[i] == WIRE_PORTION
                 ? parse_portion(state, text, &f->value)
                 : parse_bounded(state, text,
                                 SCALAR_WIRE[i] == WIRE_WORD16 ? UINT16_MAX : UINT64_MAX,
                                 &f->value);
  f->present = code == EXIT_OK;
  return code;
}

static int set_version_part(struct argp_state *state, proposal_opts *o, int c, const char *text) {
  static const uint64_t MAX[] = {UINT16_MAX, UINT16_MAX, UINT8_MAX, UINT32_MAX};
  int i = c == OPT_SV ? 3 : c - OPT_PV_MAJOR;
  uint64_t *slot = i == 3 ? &o->sv : &o->pv[i];
  int code = parse_bounded(state, text, MAX[i], slot);
  if (i == 3)
    o->has_sv = code == EXIT_OK;
  else
    o->has_pv[i] = code == EXIT_OK;
  return code;
}

static int set_other(struct argp_state *state, proposal_opts *o, int c, const char *text) {
  if (c >= OPT_SF_INIT && c <= OPT_SF_DEC) {
    uint64_t *slot[] = {&o->params.softfork_init, &o->params.softfork_min,
                        &o->params.softfork_decrement};
    int i = c - OPT_SF_INIT;
    int code = parse_portion(state, text, slot[i]);
    o->has_sf[i] = code == EXIT_OK;
    return code;
  }
  if (c == OPT_FEE_A) {
    o->has_fee_a = true;
    return parse_bounded(state, text, CDL_BYRON_MAX_LOVELACE, &o->fee_a);
  }
  if (c == OPT_FEE_B) {
    double b = 0.0;
    int code = parse_fraction01(state, text, &b);
    if (code == EXIT_OK)
      o->fee_b_nano = scale_exact(b, 1000000000u, false);
    o->has_fee_b = code == EXIT_OK;
    return code;
  }
  o->params.unlock_stake_epoch.present = true;
  return parse_bounded(state, text, UINT64_MAX, &o->params.unlock_stake_epoch.value);
}

/* Every option create-update-proposal requires, and that the softfork
 * thresholds and the fee policy come whole. */
static void check_proposal_options(struct argp_state *state, const proposal_opts *o) {
  const struct {
    bool given;
    const char *option;
  } REQUIRED[] = {{o->has_magic, "--testnet-magic N or --mainnet"},
                  {o->key != NULL, "--signing-key FILE"},
                  {o->has_pv[0], "--protocol-version-major N"},
                  {o->has_pv[1], "--protocol-version-minor N"},
                  {o->has_pv[2], "--protocol-version-alt N"},
                  {o->app != NULL, "--application-name NAME"},
                  {o->has_sv, "--software-version-num N"},
                  {o->tag != NULL, "--system-tag TAG"},
                  {o->installer != NULL, "--installer-hash TEXT"},
                  {o->out != NULL, "--filepath FILE"}};
  for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++)
    if (!REQUIRED[i].given)
      argp_error(state, "%s is required", REQUIRED[i].option);
  int n_sf = o->has_sf[0] + o->has_sf[1] + o->has_sf[2];
  if (n_sf != 0 && n_sf != 3)
    argp_error(state, "--softfork-init-thd, --softfork-min-thd and --softfork-thd-dec go "
                      "together");
  if (o->has_fee_a != o->has_fee_b)
    argp_error(state, "--tx-fee-a-constant and --tx-fee-b-constant go together");
}

/* One option's value into |o|: EXIT_OK, the exit code of a rule it broke
 * (reported), or -1 for a key that is not create-update-proposal's. */
static int apply_option(struct argp_state *state, proposal_opts *o, int c, char *arg) {
  switch (c) {
  case CLI_O_MAINNET:
  case CLI_O_MAGIC:
    cli_arg_network(state, arg, &o->has_magic, &o->magic);
    return EXIT_OK;
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
    return set_version_part(state, o, c, arg);
  default:
    if (c >= OPT_SCALAR && c < OPT_SCALAR + CDL_BYRON_PP_COUNT_SCALAR)
      return set_scalar(state, o, (unsigned)(c - OPT_SCALAR), arg);
    if (c >= OPT_SF_INIT && c <= OPT_UNLOCK)
      return set_other(state, o, c, arg);
    return -1;
  }
}

static error_t proposal_option(int key, char *arg, struct argp_state *state) {
  proposal_opts *o = state->input;
  if (key == ARGP_KEY_END) {
    check_proposal_options(state, o);
    return 0;
  }
  int code = apply_option(state, o, key, arg);
  if (code < 0)
    return ARGP_ERR_UNKNOWN;
  o->code = code;
  return code == EXIT_OK ? 0 : EINVAL; /* stops the parse: the rule is reported */
}

#define PARAMETER(name, key, arg, doc) {name, key, arg, 0, doc " (default: unchanged)", 0}
#define SCALAR(name, index, arg, doc) PARAMETER(name, OPT_SCALAR + CDL_BYRON_PP_##index, arg, doc)
static const struct argp_option PROPOSAL_OPTIONS[] = {
    CLI_NETWORK_OPTIONS("the proposal is signed for (required, or --mainnet)"),
    {"signing-key", OPT_KEY, "FILE", 0, "the proposer's signing key, a genesis delegate's "
     "for the ledger to take it (required)", 0},
    {"protocol-version-major", OPT_PV_MAJOR, "N", 0, "the proposed protocol version's major "
     "part, a Word16 (required)", 0},
    {"protocol-version-minor", OPT_PV_MINOR, "N", 0, "the proposed protocol version's minor "
     "part, a Word16 (required)", 0},
    {"protocol-version-alt", OPT_PV_ALT, "N", 0, "the proposed protocol version's alt part, a "
     "Word8 (required)", 0},
    {"application-name", OPT_APP, "NAME", 0, "the software's name, ASCII of at most 12 bytes "
     "(required)", 0},
    {"software-version-num", OPT_SV, "N", 0, "the software's version, a Word32 (required)", 0},
    {"system-tag", OPT_TAG, "TAG", 0, "the installer's system tag, ASCII of at most 10 bytes "
     "(required)", 0},
    {"installer-hash", OPT_INSTALLER, "TEXT", 0, "the text whose Blake2b-256 is the installer "
     "hash, as cardano-cli hashes it (required)", 0},
    {"filepath", OPT_OUT, "FILE", 0, "the proposal to write, raw CBOR; never over an existing "
     "file (required)", 0},
    SCALAR("script-version", SCRIPT_VERSION, "N", "the script version, a Word16"),
    SCALAR("slot-duration", SLOT_DURATION, "MS", "the slot length in ms"),
    SCALAR("max-block-size", MAX_BLOCK_SIZE, "BYTES", "the largest block"),
    SCALAR("max-header-size", MAX_HEADER_SIZE, "BYTES", "the largest block header"),
    SCALAR("max-tx-size", MAX_TX_SIZE, "BYTES", "the largest tx, below the largest block"),
    SCALAR("max-proposal-size", MAX_PROPOSAL_SIZE, "BYTES", "the largest update proposal"),
    SCALAR("max-mpc-thd", MPC_THD, "FRACTION", "mpcThd, in [0, 1]"),
    SCALAR("heavy-del-thd", HEAVY_DEL_THD, "FRACTION", "heavyDelThd, in [0, 1]"),
    SCALAR("update-vote-thd", UPDATE_VOTE_THD, "FRACTION", "updateVoteThd, in [0, 1]"),
    SCALAR("update-proposal-thd", UPDATE_PROPOSAL_THD, "FRACTION", "updateProposalThd, in [0, 1]"),
    SCALAR("time-to-live", UPDATE_IMPLICIT, "SLOTS", "a proposal's life, updateImplicit"),
    PARAMETER("softfork-init-thd", OPT_SF_INIT, "FRACTION",
              "the softfork rule's initThd, in [0, 1]; the three softfork options go together"),
    PARAMETER("softfork-min-thd", OPT_SF_MIN, "FRACTION", "the softfork rule's minThd, in [0, 1]"),
    PARAMETER("softfork-thd-dec", OPT_SF_DEC, "FRACTION",
              "the softfork rule's thdDecrement, in [0, 1]"),
    PARAMETER("tx-fee-a-constant", OPT_FEE_A, "LOVELACE",
              "the fee policy's constant; with --tx-fee-b-constant"),
    PARAMETER("tx-fee-b-constant", OPT_FEE_B, "LOVELACE",
              "the fee policy's lovelace per byte, in [0, 1]; with --tx-fee-a-constant"),
    PARAMETER("unlock-stake-epoch", OPT_UNLOCK, "EPOCH", "unlockStakeEpoch"),
    {0}};
static const struct argp PROPOSAL = {
    PROPOSAL_OPTIONS, proposal_option, NULL,
    "An update proposal for a protocol version, a software version and any protocol "
    "parameters, signed by a genesis delegate key and written as its raw CBOR, as cardano-cli "
    "writes it. A value out of its field's range is refused, exit 1, before anything is "
    "written.\v"
    "Example:\n"
    "  cardinal-cli governance create-update-proposal --testnet-magic 42 \\\n"
    "    --signing-key net/genesis/delegate-keys.000.skey \\\n"
    "    --protocol-version-major 1 --protocol-version-minor 0 \\\n"
    "    --protocol-version-alt 0 --application-name cardano-sl \\\n"
    "    --software-version-num 1 --system-tag linux --installer-hash 00 \\\n"
    "    --max-tx-size 16384 --filepath update.proposal",
    NULL, NULL, NULL};

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
  memset(&o, 0, sizeof o);
  int code = cli_args_parse(&PROPOSAL, argc, argv, &o);
  if (o.code != EXIT_OK)
    return o.code;
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

static error_t vote_option(int key, char *arg, struct argp_state *state) {
  vote_opts *o = state->input;
  switch (key) {
  case CLI_O_MAINNET:
  case CLI_O_MAGIC:
    cli_arg_network(state, arg, &o->has_magic, &o->magic);
    break;
  case OPT_YES:
  case OPT_NO:
    if (o->has_decision)
      argp_error(state, "%s: give --vote-yes or --vote-no, once", cli_arg_name(state));
    o->has_decision = true;
    o->decision = key == OPT_YES;
    break;
  case OPT_KEY:
    o->key = arg;
    break;
  case OPT_PROPOSAL:
    o->proposal = arg;
    break;
  case OPT_OUT:
    o->out = arg;
    break;
  case ARGP_KEY_END:
    if (!o->has_magic)
      argp_error(state, "--testnet-magic N or --mainnet is required");
    if (o->key == NULL)
      argp_error(state, "--signing-key FILE is required");
    if (o->proposal == NULL)
      argp_error(state, "--proposal-filepath FILE is required");
    if (!o->has_decision)
      argp_error(state, "--vote-yes or --vote-no is required");
    if (o->out == NULL)
      argp_error(state, "--output-filepath FILE is required");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option VOTE_OPTIONS[] = {
    CLI_NETWORK_OPTIONS("the vote is signed for (required, or --mainnet)"),
    {"signing-key", OPT_KEY, "FILE", 0,
     "the voter's signing key, a genesis delegate's for the ledger to take it (required)", 0},
    {"proposal-filepath", OPT_PROPOSAL, "FILE", 0,
     "the proposal voted for, as create-update-proposal writes it (required)", 0},
    {"vote-yes", OPT_YES, NULL, 0, "a vote for it (this or --vote-no required)", 0},
    {"vote-no", OPT_NO, NULL, 0,
     "cardano-cli's vote against, which every node refuses: Byron's ledger counts only yes "
     "(this or --vote-yes required)", 0},
    {"output-filepath", OPT_OUT, "FILE", 0,
     "the vote to write, raw CBOR; never over an existing file (required)", 0},
    {0}};
static const struct argp VOTE = {
    VOTE_OPTIONS, vote_option, NULL,
    "A vote for an update proposal (named by the hash of its file), signed by a genesis "
    "delegate key and written as its raw CBOR, as cardano-cli writes it.\v"
    "Example:\n"
    "  cardinal-cli governance create-proposal-vote --testnet-magic 42 \\\n"
    "    --signing-key net/genesis/delegate-keys.001.skey \\\n"
    "    --proposal-filepath update.proposal --vote-yes --output-filepath vote-1",
    NULL, NULL, NULL};

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
  memset(&o, 0, sizeof o);
  int code = cli_args_parse(&VOTE, argc, argv, &o);
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

static const struct argp_option SUBMIT_PROPOSAL_OPTIONS[] = {
    {"filepath", CLI_O_FILE, "FILE", 0,
     "the proposal, as create-update-proposal writes it (required)", 0},
    {0}};
static const struct argp SUBMIT_PROPOSAL = {
    SUBMIT_PROPOSAL_OPTIONS, cli_command_option, NULL,
    "Send an update proposal to a node (GenTx [2, proposal]) over local tx-submission: "
    "{\"accepted\": true, \"id\"}, or exit 1 with the ledger's rule.\v"
    "Example:\n"
    "  cardinal-cli governance submit-update-proposal \\\n"
    "    --socket-path net/node-3/node.socket --filepath update.proposal",
    CLI_NODE_CHILDREN, NULL, NULL};
static const struct argp_option SUBMIT_VOTE_OPTIONS[] = {
    {"filepath", CLI_O_FILE, "FILE", 0, "the vote, as create-proposal-vote writes it (required)",
     0},
    {0}};
static const struct argp SUBMIT_VOTE = {
    SUBMIT_VOTE_OPTIONS, cli_command_option, NULL,
    "Send a vote to a node (GenTx [3, vote]) over local tx-submission: {\"accepted\": true, "
    "\"id\", \"proposal_id\"}, or exit 1 with the ledger's rule.\v"
    "Example:\n"
    "  cardinal-cli governance submit-proposal-vote \\\n"
    "    --socket-path net/node-3/node.socket --filepath vote-1",
    CLI_NODE_CHILDREN, NULL, NULL};

static int submit_payload(int argc, char **argv, bool vote) {
  cli_command o;
  int code = cli_command_parse(vote ? &SUBMIT_VOTE : &SUBMIT_PROPOSAL, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  cdl_buf bytes, gentx;
  cdl_buf_init(&bytes, 0);
  cdl_buf_init(&gentx, 0);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_proposal p;
  cdl_byron_vote v;
  code = governance_read_payload(o.file, vote, &bytes, &arena, &p, &v);
  if (code == EXIT_OK) {
    cdl_cbor_enc_array(&gentx, 2); /* GenTx [2, proposal] or [3, vote] */
    cdl_cbor_enc_uint(&gentx, vote ? CDL_MP_VOTE : CDL_MP_PROPOSAL);
    cdl_buf_append(&gentx, bytes.data, bytes.len);
    code = cli_submit_gentx(o.node.socket, o.node.magic, o.node.has_magic,
                            cdl_span_of(gentx.data, gentx.len));
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

static int submit_proposal(int argc, char **argv) { return submit_payload(argc, argv, false); }
static int submit_vote(int argc, char **argv) { return submit_payload(argc, argv, true); }

static const cli_verb GOVERNANCE_VERBS[] = {
    {"create-update-proposal", NULL, "an update proposal, signed, as cardano-cli writes it",
     create_update_proposal},
    {"create-proposal-vote", NULL, "a vote for a proposal, signed", create_proposal_vote},
    {"submit-update-proposal", NULL, "send a proposal to a node", submit_proposal},
    {"submit-proposal-vote", NULL, "send a vote to a node", submit_vote},
    {"show-proposal", NULL, "a proposal file, readable, its signature checked",
     governance_show_proposal},
    {"show-vote", NULL, "a vote file, readable, its signature checked", governance_show_vote}};
const cli_noun CLI_GOVERNANCE = CLI_NOUN("governance", GOVERNANCE_VERBS);
