/*
 * cmd_tx_build.c: `cardinal-cli tx build`, `tx sign` and `tx id`
 * (docs/cli.md "tx"), a wallet's steps (docs/byron.md 1.5):
 *   tx build --tx-in TXID#IX... --tx-out ADDR+LOVELACE... --out-file F
 *            [--change-address A] [--fee L] [--allow-high-fee] [node options]
 *       the unsigned Tx [inputs, outputs, {}] (binary CBOR). The inputs'
 *       values, the network and the fee policy come from the node
 *       (node_query.h); the fee is the minimum for the signed size unless
 *       --fee gives it, the rest goes to the change address (tx_fee.h);
 *   tx sign --tx-file F --signing-key K... --testnet-magic N --out-file F
 *       the TxAux [tx, witnesses], one witness per key in input order (the
 *       signed message carries the network magic); prints its id;
 *   tx id --tx-file F
 *       the id of a tx or a signed tx.
 * Up to 1024 inputs (a UTxO query's bound) and 1000 outputs: enough for a
 * tx past any maxTxSize a network is likely to adopt.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "cardinal/forge.h"
#include "node_query.h"
#include "tx_fee.h"

#define TX_MAX_INPUTS CDL_LSQ_UTXO_MAX_INPUTS
#define TX_MAX_OUTPUTS 1000

/* An address as given: its bytes and its network attribute. */
typedef struct given_address {
  cdl_buf bytes;
  bool has_magic;
  uint32_t magic;
} given_address;

typedef struct build_opts {
  cli_node_opts node;
  cdl_lsq_txin in[TX_MAX_INPUTS];
  size_t n_in;
  given_address addr[TX_MAX_OUTPUTS + 1]; /* the outputs', then the change address */
  cdl_payload_tx_output out[TX_MAX_OUTPUTS + 1];
  const char *out_text[TX_MAX_OUTPUTS], *change; /* the addresses as given */
  size_t n_out, n_addr;
  const char *out_file;
  bool has_change, has_fee, allow_high_fee;
  uint64_t fee;
} build_opts;

/* A Base58 address into the next slot of o->addr; a bad one (its
 * checksum, its form) is reported here, exit 1. */
static int take_address(build_opts *o, const char *text) {
  given_address *g = &o->addr[o->n_addr];
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_address a = {0};
  cdl_buf_init(&g->bytes, 0);
  int rc = cdl_byron_address_from_base58(text, &g->bytes, &ctx, &a);
  g->has_magic = a.has_network_magic;
  g->magic = a.network_magic;
  cdl_arena_free(&arena);
  o->n_addr++; /* freed with the rest, even when bad */
  return rc == CDL_OK ? EXIT_OK : cli_report(&err);
}

/* The outputs' addresses, then the change address, decoded (exit 1 for a
 * bad one), after the options are all read. */
static int take_addresses(build_opts *o) {
  for (size_t i = 0; i < o->n_out; i++) {
    char b58[201]; /* the part before '+', checked at most 200 bytes */
    size_t n = (size_t)(strrchr(o->out_text[i], '+') - o->out_text[i]);
    memcpy(b58, o->out_text[i], n);
    b58[n] = '\0';
    int code = take_address(o, b58);
    const given_address *g = &o->addr[o->n_addr - 1];
    o->out[i].address = cdl_span_of(g->bytes.data, g->bytes.len);
    if (code != EXIT_OK) return code;
  }
  return o->change ? take_address(o, o->change) : EXIT_OK; /* the last slot */
}

static void take_txout(struct argp_state *state, build_opts *o, const char *text) {
  const char *plus = strrchr(text, '+');
  if (o->n_out == TX_MAX_OUTPUTS) argp_error(state, "--tx-out: at most %d outputs", TX_MAX_OUTPUTS);
  if (plus == NULL || plus == text || plus - text > 200)
    argp_error(state, "--tx-out: '%s' is not ADDR+LOVELACE", text);
  o->out[o->n_out].lovelace = cli_arg_u64(state, plus + 1, 1, CDL_BYRON_MAX_LOVELACE);
  o->out_text[o->n_out++] = text;
}

static void take_txin(struct argp_state *state, build_opts *o, const char *text) {
  cdl_lsq_txin *in = &o->in[o->n_in];
  if (o->n_in == TX_MAX_INPUTS) argp_error(state, "--tx-in: at most %d inputs", TX_MAX_INPUTS);
  cli_arg_txin(state, text, in->tx_id, &in->index);
  for (size_t i = 0; i < o->n_in; i++)
    if (o->in[i].index == in->index && memcmp(o->in[i].tx_id, in->tx_id, 32) == 0)
      argp_error(state, "--tx-in: %s given twice", text);
  o->n_in++;
}

/* Option keys: above the character range, so none is a short option. */
enum { O_TX_IN = 0x100, O_TX_OUT, O_OUT_FILE, O_CHANGE, O_FEE, O_HIGH_FEE, O_TX_FILE, O_KEY };

static error_t build_option(int key, char *arg, struct argp_state *state) {
  build_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT: state->child_inputs[0] = &o->node; break;
  case O_TX_IN: take_txin(state, o, arg); break;
  case O_TX_OUT: take_txout(state, o, arg); break;
  case O_OUT_FILE: o->out_file = arg; break;
  case O_CHANGE:
    if (o->has_change) argp_error(state, "--change-address: give it once");
    o->change = arg, o->has_change = true;
    break;
  case O_FEE: o->fee = cli_arg_u64(state, arg, 0, CDL_BYRON_MAX_LOVELACE), o->has_fee = true; break;
  case O_HIGH_FEE: o->allow_high_fee = true; break;
  case ARGP_KEY_END:
    if (o->n_in == 0) argp_error(state, "--tx-in TXID#IX is required");
    if (o->n_out == 0) argp_error(state, "--tx-out ADDR+LOVELACE is required");
    if (o->out_file == NULL) argp_error(state, "--out-file FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option BUILD_OPTIONS[] = {
    {"tx-in", O_TX_IN, "TXID#IX", 0,
     "an output to spend, its value asked of the node; repeat for more, at most 1024 (required)",
     0},
    {"tx-out", O_TX_OUT, "ADDR+LOVELACE", 0,
     "a Base58 address of the node's network and the lovelace it gets; repeat for more, at "
     "most 1000 (required)", 0},
    {"change-address", O_CHANGE, "ADDR", 0,
     "where inputs - outputs - fee go, as one more output (default: none: the rest is the fee)",
     0},
    {"fee", O_FEE, "LOVELACE", 0,
     "the fee (default: the node's minimum for the signed size)", 0},
    {"allow-high-fee", O_HIGH_FEE, NULL, 0,
     "take a fee above max(2 x the minimum, the minimum + 1 ADA) (default: refused)", 0},
    {"out-file", O_OUT_FILE, "FILE", 0, "the unsigned tx to write, binary CBOR (required)", 0},
    {0}};
static const struct argp BUILD = {
    BUILD_OPTIONS, build_option, NULL,
    "An unsigned Byron tx [inputs, outputs, {}]: the inputs' values, the network and the fee "
    "policy come from the node; the fee is the minimum for the size the tx will have once "
    "signed, unless --fee gives it.\v"
    "Example:\n"
    "  cardinal-cli tx build --socket-path net/node-3/node.socket \\\n"
    "    --tx-in \"$txid#0\" --tx-out \"$alice+2000000\" \\\n"
    "    --change-address \"$payer\" --out-file pay.tx\n"
    "($txid#0 an output of $payer's that `query utxo --address \"$payer\"` lists; the "
    "addresses as `key signing-key-address` prints them.)",
    CLI_NODE_CHILDREN, NULL, NULL};

static int write_file(const char *path, const cdl_buf *b) {
  cdl_error err = {0};
  if (b->failed) return cdl_error_set(&err, CDL_E_NOMEM, 0, "out of memory"), cli_report(&err);
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(b->data, 1, b->len, f) == b->len;
  if (f && fclose(f) != 0) ok = false;
  if (!ok) return cdl_error_set(&err, CDL_E_IO, 0, "cannot write %s", path), cli_report(&err);
  return EXIT_OK;
}

static json_t *written_json(const char *path, const cdl_buf *b, const uint8_t id[32]) {
  char hex[65];
  cdl_hex_encode(id, 32, hex);
  return json_pack("{s:s, s:s, s:I}", "txid", hex, "file", path, "bytes", (json_int_t)b->len);
}

/* ---- What the node says: the inputs' values, the network, the fee policy ---- */

typedef struct node_view {
  uint64_t inputs; /* lovelace */
  cdl_byron_protocol_params pp;
  cdl_lsq_chain_constants c;
} node_view;

static int by_input(const void *x, const void *y) {
  const cdl_lsq_txin *a = x;
  const cdl_lsq_utxo_entry *b = y;
  int c = memcmp(a->tx_id, b->in.tx_id, 32);
  return c != 0 ? c : (a->index > b->in.index) - (a->index < b->in.index);
}

/* Every input is in the answer (sorted by input): their sum. */
static int sum_inputs(const build_opts *o, const cdl_lsq_utxo_answer *a, uint64_t *total) {
  if (!a->complete)
    return cli_fail("node.answer_cut", EXIT_REJECTED,
                    "the node cut its answer about the inputs: use fewer --tx-in");
  *total = 0;
  for (size_t i = 0; i < o->n_in; i++) {
    const cdl_lsq_utxo_entry *e =
        bsearch(&o->in[i], a->entries, a->n, sizeof *a->entries, by_input);
    char id[65];
    cdl_hex_encode(o->in[i].tx_id, 32, id);
    if (e == NULL)
      return cli_fail("tx.missing_input", EXIT_REJECTED,
                      "%s#%u is not in the node's UTxO (spent, or never created)", id,
                      o->in[i].index);
    *total += e->lovelace; /* each at most 45e15: checked before the next could wrap */
    if (*total > CDL_BYRON_MAX_LOVELACE)
      return cli_fail("node.bad_answer", EXIT_REJECTED, "the node's inputs sum above 45e15");
  }
  return EXIT_OK;
}

static int ask_node(const build_opts *o, node_view *v) {
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 64u << 20);
  cdl_buf raw[3];
  for (size_t i = 0; i < 3; i++) cdl_buf_init(&raw[i], 0);
  cdl_lsq_utxo_answer a = {0};
  cdl_byron_update_state st;
  cli_session s;
  int rc = cli_session_open(&o->node, &s, &err);
  if (rc == CDL_OK) rc = cli_session_utxo(&s, NULL, 0, o->in, o->n_in, raw, &a, &err);
  if (rc == CDL_OK) rc = cli_session_constants(&s, &v->c, &err);
  if (rc == CDL_OK) rc = cli_session_update_state(&s, &arena, &raw[2], &st, &err);
  cli_session_close(&s);
  int code = rc == CDL_OK ? sum_inputs(o, &a, &v->inputs) : cli_report_node(&err);
  if (code == EXIT_OK) v->pp = st.adopted_pp;
  cdl_lsq_utxo_answer_free(&a);
  for (size_t i = 0; i < 3; i++) cdl_buf_free(&raw[i]);
  cdl_arena_free(&arena);
  return code;
}

/* Each address is for the node's network, as the ledger will demand. */
static int check_networks(const build_opts *o, const cdl_lsq_chain_constants *c) {
  for (size_t i = 0; i < o->n_addr; i++) {
    const given_address *g = &o->addr[i];
    bool ok = c->requires_magic ? g->has_magic && g->magic == c->protocol_magic : !g->has_magic;
    if (ok) continue;
    char b58[2048] = "";
    cdl_byron_address_to_base58(cdl_span_of(g->bytes.data, g->bytes.len), b58, sizeof b58);
    return cli_fail("tx.output_network", EXIT_REJECTED,
                    "%s is not an address of this network (protocol magic %u, addresses %s)",
                    b58, c->protocol_magic,
                    c->requires_magic ? "carry the magic" : "carry no magic");
  }
  return EXIT_OK;
}

static int sum_outputs(const build_opts *o, uint64_t inputs, uint64_t *total) {
  *total = 0;
  for (size_t i = 0; i < o->n_out; i++) {
    *total += o->out[i].lovelace; /* each at most 45e15 */
    if (*total > CDL_BYRON_MAX_LOVELACE)
      return cli_fail("tx.lovelace_overflow", EXIT_REJECTED, "the outputs sum above 45e15");
  }
  if (*total > inputs)
    return cli_fail("tx.value_not_preserved", EXIT_REJECTED,
                    "the outputs, %llu lovelace, exceed the inputs, %llu",
                    (unsigned long long)*total, (unsigned long long)inputs);
  return EXIT_OK;
}

/* The unsigned tx with |n| outputs; its length. */
static size_t encode_body(const build_opts *o, const cdl_payload_tx_input *ins, size_t n,
                          cdl_buf *tx, uint8_t id[32]) {
  cdl_buf_reset(tx);
  cdl_payload_tx_body(ins, o->n_in, o->out, n, tx, id);
  return tx->len;
}

static int build_and_write(build_opts *o, const node_view *v, uint64_t outputs) {
  cdl_payload_tx_input *ins = calloc(o->n_in, sizeof *ins);
  if (ins == NULL) return EXIT_FAILURE_IO;
  for (size_t i = 0; i < o->n_in; i++) {
    memcpy(ins[i].tx_id, o->in[i].tx_id, 32);
    ins[i].index = o->in[i].index;
  }
  cdl_buf tx;
  cdl_buf_init(&tx, 0);
  uint8_t id[32];
  tx_plan p = {.pp = &v->pp,
               .inputs = v->inputs,
               .outputs = outputs,
               .has_change = o->has_change,
               .has_fee = o->has_fee,
               .allow_high_fee = o->allow_high_fee,
               .fee_given = o->fee,
               .witnesses = tx_witness_bytes(o->n_in)};
  p.body_plain = encode_body(o, ins, o->n_out, &tx, id);
  if (o->has_change) { /* the change address is the last one taken */
    const given_address *g = &o->addr[o->n_addr - 1];
    o->out[o->n_out] = (cdl_payload_tx_output){cdl_span_of(g->bytes.data, g->bytes.len), 0};
    p.body_change0 = encode_body(o, ins, o->n_out + 1, &tx, id);
  }
  int code = tx_plan_solve(&p);
  if (code == EXIT_OK) {
    o->out[o->n_out].lovelace = p.change;
    encode_body(o, ins, o->n_out + (p.change ? 1 : 0), &tx, id);
    code = write_file(o->out_file, &tx);
  }
  if (code == EXIT_OK) {
    json_t *j = written_json(o->out_file, &tx, id);
    json_object_set_new(j, "fee", cdl_json_u64(p.fee));
    json_object_set_new(j, "change", cdl_json_u64(p.change));
    json_object_set_new(j, "min_fee", cdl_json_u64(p.min_fee));
    json_object_set_new(j, "signed_size", json_integer((json_int_t)p.signed_size));
    json_object_set_new(j, "max_tx_size", cdl_json_u64(v->pp.max_tx_size));
    code = cli_print(j, false);
  }
  cdl_buf_free(&tx);
  free(ins);
  return code;
}

int tx_build(int argc, char **argv) {
  build_opts *o = calloc(1, sizeof *o);
  if (o == NULL) return EXIT_FAILURE_IO;
  int code = cli_args_parse(&BUILD, argc, argv, o);
  if (code == EXIT_OK) code = take_addresses(o);
  node_view v;
  uint64_t outputs = 0;
  if (code == EXIT_OK) code = ask_node(o, &v);
  if (code == EXIT_OK) code = check_networks(o, &v.c);
  if (code == EXIT_OK) code = sum_outputs(o, v.inputs, &outputs);
  if (code == EXIT_OK) code = build_and_write(o, &v, outputs);
  for (size_t i = 0; i < o->n_addr; i++) cdl_buf_free(&o->addr[i].bytes);
  free(o);
  return code;
}

typedef struct sign_opts {
  const char *tx_file, *out_file, *key_file[TX_MAX_INPUTS];
  size_t n_keys;
  uint64_t magic;
  bool has_magic;
} sign_opts;

static error_t sign_option(int key, char *arg, struct argp_state *state) {
  sign_opts *o = state->input;
  switch (key) {
  case O_TX_FILE: o->tx_file = arg; break;
  case O_OUT_FILE: o->out_file = arg; break;
  case O_KEY:
    if (o->n_keys == TX_MAX_INPUTS)
      argp_error(state, "--signing-key: at most %d keys", TX_MAX_INPUTS);
    o->key_file[o->n_keys++] = arg;
    break;
  case CLI_O_MAGIC: cli_arg_network(state, arg, &o->has_magic, &o->magic); break;
  case ARGP_KEY_END:
    if (o->tx_file == NULL) argp_error(state, "--tx-file FILE is required");
    if (o->n_keys == 0) argp_error(state, "--signing-key FILE is required");
    if (!o->has_magic) argp_error(state, "--testnet-magic N is required");
    if (o->out_file == NULL) argp_error(state, "--out-file FILE is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_option SIGN_OPTIONS[] = {
    {"tx-file", O_TX_FILE, "FILE", 0, "the unsigned tx, as tx build writes it (required)", 0},
    {"signing-key", O_KEY, "FILE", 0,
     "the key of the next input, in input order; one per input (required)", 0},
    {"testnet-magic", CLI_O_MAGIC, "N", 0,
     "the network's protocol magic, which the signatures cover (required; mainnet's is "
     "764824073)", 0},
    {"out-file", O_OUT_FILE, "FILE", 0, "the signed tx to write, binary CBOR (required)", 0},
    {0}};
static const struct argp SIGN = {
    SIGN_OPTIONS, sign_option, NULL,
    "Sign a tx: the TxAux [tx, witnesses], one public-key witness per --signing-key in input "
    "order, each over the tx id and the network's magic.\v"
    "Example:\n"
    "  cardinal-cli tx sign --tx-file pay.tx \\\n"
    "    --signing-key net/genesis/poor-keys.000.skey --testnet-magic 42 \\\n"
    "    --out-file pay.signed",
    NULL, NULL, NULL};

int tx_sign(int argc, char **argv) {
  sign_opts o;
  memset(&o, 0, sizeof o);
  int code = cli_args_parse(&SIGN, argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_key *keys = calloc(TX_MAX_INPUTS, sizeof *keys);
  const cdl_key **kp = calloc(TX_MAX_INPUTS, sizeof *kp);
  if (keys == NULL || kp == NULL) {
    free(keys), free(kp);
    return EXIT_FAILURE_IO;
  }
  cdl_error err = {0};
  cdl_buf tx, aux;
  cdl_buf_init(&tx, 0);
  cdl_buf_init(&aux, 0);
  int rc = cli_read_input(o.tx_file, &tx, &err);
  for (size_t i = 0; rc == CDL_OK && i < o.n_keys; i++) {
    rc = cdl_keyfile_read_signing(o.key_file[i], &keys[i], NULL, &err);
    kp[i] = &keys[i];
  }
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_cbor_cursor cur;
  cdl_byron_tx parsed;
  if (rc == CDL_OK) {
    cdl_cbor_cursor_init(&cur, tx.data, tx.len, &err);
    rc = cdl_byron_tx_read(&cur, &ctx, &parsed);
    if (rc == CDL_OK) rc = cdl_cbor_expect_end(&cur, "tx");
  }
  if (rc == CDL_OK && parsed.n_inputs != o.n_keys)
    rc = cdl_error_set(&err, CDL_E_USAGE, 0, "the tx has %zu inputs: give one key for each",
                       parsed.n_inputs);
  if (rc == CDL_OK) {
    cdl_payload_tx_sign(parsed.raw, kp, o.n_keys, (uint32_t)o.magic, &aux);
    code = write_file(o.out_file, &aux);
    if (code == EXIT_OK) code = cli_print(written_json(o.out_file, &aux, parsed.id), false);
  } else {
    code = cli_report(&err);
  }
  sodium_memzero(keys, TX_MAX_INPUTS * sizeof *keys); /* secrets do not outlive the command */
  free(keys), free(kp);
  cdl_arena_free(&arena);
  cdl_buf_free(&tx);
  cdl_buf_free(&aux);
  return code;
}

static const struct argp_option ID_OPTIONS[] = {
    {"tx-file", CLI_O_FILE, "FILE", 0, "a tx or a signed tx, binary or hex (required)", 0},
    {0}};
static const struct argp ID = {
    ID_OPTIONS, cli_command_option, NULL,
    "The id of a tx or a signed tx (the hash of the unsigned tx, the same before and after "
    "signing), and whether it is signed.\v"
    "Example:\n  cardinal-cli tx id --tx-file pay.signed",
    NULL, NULL, NULL};

int tx_id(int argc, char **argv) {
  cli_command o;
  int code = cli_command_parse(&ID, argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_error err = {0};
  cdl_buf data;
  cdl_buf_init(&data, 0);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_txaux aux;
  int rc = cli_read_input(o.file, &data, &err);
  if (rc == CDL_OK) rc = cdl_byron_txaux_decode(data.data, data.len, &ctx, &aux);
  code = rc != CDL_OK ? cli_report(&err)
                          : cli_print(json_pack("{s:o, s:b}", "txid", cdl_json_hex(aux.tx.id, 32),
                                                "signed", aux.raw.len != aux.tx.raw.len),
                                      false);
  cdl_arena_free(&arena);
  cdl_buf_free(&data);
  return code;
}
