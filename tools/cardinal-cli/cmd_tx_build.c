/*
 * cmd_tx_build.c: `cardinal-cli tx build` and `tx sign` (docs/cli.md
 * "tx"), a wallet's two steps (docs/byron.md 1.5):
 *   tx build --tx-in TXID#IX... --tx-out ADDR+LOVELACE... --out-file F
 *       the unsigned Tx [inputs, outputs, {}] (binary CBOR); prints its id;
 *   tx sign --tx-file F --signing-key K... --testnet-magic N --out-file F
 *       the TxAux [tx, witnesses], one witness per key in input order (the
 *       signed message carries the network magic); prints its id.
 * The ledger judges the fee and the balance when the tx is submitted.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/forge.h"
#include "cli.h"

#define TX_MAX_ITEMS 64

typedef struct build_opts {
  cdl_payload_tx_input in[TX_MAX_ITEMS];
  size_t n_in;
  cdl_buf addr[TX_MAX_ITEMS];
  cdl_payload_tx_output out[TX_MAX_ITEMS];
  size_t n_out;
  const char *out_file;
} build_opts;

static bool parse_txin(const char *text, cdl_payload_tx_input *in) {
  const char *hash = strchr(text, '#');
  uint64_t ix;
  size_t got = 0;
  return hash && hash - text == 64 &&
         cdl_hex_decode(text, 64, in->tx_id, 32, &got, NULL) == CDL_OK && got == 32 &&
         cli_parse_u64(hash + 1, 0, UINT32_MAX, &ix) && ((in->index = (uint32_t)ix), true);
}

static bool parse_txout(const char *text, cdl_buf *addr, cdl_payload_tx_output *out) {
  const char *plus = strrchr(text, '+');
  if (plus == NULL || plus == text || plus - text > 200) return false;
  char b58[201];
  memcpy(b58, text, (size_t)(plus - text));
  b58[plus - text] = '\0';
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_address a;
  cdl_buf_init(addr, 0);
  bool ok = cdl_byron_address_from_base58(b58, addr, &ctx, &a) == CDL_OK &&
            cli_parse_u64(plus + 1, 1, CDL_BYRON_MAX_LOVELACE, &out->lovelace);
  cdl_arena_free(&arena);
  out->address = cdl_span_of(addr->data, addr->len);
  return ok;
}

static int write_out(const char *path, const cdl_buf *b, const uint8_t id[32]) {
  cdl_error err = {0};
  if (b->failed) return cdl_error_set(&err, CDL_E_NOMEM, 0, "out of memory"), cli_report(&err);
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(b->data, 1, b->len, f) == b->len;
  if (f && fclose(f) != 0) ok = false;
  if (!ok) return cdl_error_set(&err, CDL_E_IO, 0, "cannot write %s", path), cli_report(&err);
  char hex[65];
  cdl_hex_encode(id, 32, hex);
  return cli_print(
      json_pack("{s:s, s:s, s:I}", "txid", hex, "file", path, "bytes", (json_int_t)b->len), false);
}

int tx_build(int argc, char **argv) {
  static const struct option LONG[] = {{"tx-in", required_argument, 0, 'i'},
                                       {"tx-out", required_argument, 0, 'o'},
                                       {"out-file", required_argument, 0, 'f'},
                                       {0, 0, 0, 0}};
  build_opts *o = calloc(1, sizeof *o);
  if (o == NULL) return EXIT_FAILURE_IO;
  optind = 1;
  opterr = 0;
  int c, code = EXIT_OK;
  while (code == EXIT_OK && (c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'i' && o->n_in < TX_MAX_ITEMS && parse_txin(optarg, &o->in[o->n_in]))
      o->n_in++;
    else if (c == 'o' && o->n_out < TX_MAX_ITEMS &&
             parse_txout(optarg, &o->addr[o->n_out], &o->out[o->n_out]))
      o->n_out++;
    else if (c == 'f')
      o->out_file = optarg;
    else
      code = cli_usage("tx build: bad option '%s' (TXID#IX, ADDR+LOVELACE)", argv[optind - 1]);
  }
  if (code == EXIT_OK && (o->n_in == 0 || o->n_out == 0 || !o->out_file || optind < argc))
    code = cli_usage("tx build: --tx-in, --tx-out and --out-file are required");
  if (code == EXIT_OK) {
    cdl_buf tx;
    uint8_t id[32];
    cdl_buf_init(&tx, 0);
    cdl_payload_tx_body(o->in, o->n_in, o->out, o->n_out, &tx, id);
    code = write_out(o->out_file, &tx, id);
    cdl_buf_free(&tx);
  }
  for (size_t i = 0; i <= o->n_out && i < TX_MAX_ITEMS; i++) cdl_buf_free(&o->addr[i]);
  free(o);
  return code;
}

typedef struct sign_opts {
  const char *tx_file, *out_file, *key_file[TX_MAX_ITEMS];
  size_t n_keys;
  uint64_t magic;
  bool has_magic;
} sign_opts;

static int parse_sign(int argc, char **argv, sign_opts *o) {
  static const struct option LONG[] = {{"tx-file", required_argument, 0, 't'},
                                       {"signing-key", required_argument, 0, 'k'},
                                       {"testnet-magic", required_argument, 0, 'm'},
                                       {"out-file", required_argument, 0, 'f'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 't')
      o->tx_file = optarg;
    else if (c == 'f')
      o->out_file = optarg;
    else if (c == 'k' && o->n_keys < TX_MAX_ITEMS)
      o->key_file[o->n_keys++] = optarg;
    else if (c == 'm' && cli_parse_u64(optarg, 0, UINT32_MAX, &o->magic))
      o->has_magic = true;
    else
      return cli_usage("tx sign: bad or unknown option '%s'", argv[optind - 1]);
  }
  if (optind < argc || !o->tx_file || !o->out_file || o->n_keys == 0 || !o->has_magic)
    return cli_usage("tx sign: --tx-file, --signing-key, --testnet-magic, --out-file");
  return EXIT_OK;
}

int tx_sign(int argc, char **argv) {
  sign_opts o;
  int code = parse_sign(argc, argv, &o);
  if (code != EXIT_OK) return code;
  cdl_key keys[TX_MAX_ITEMS];
  const cdl_key *kp[TX_MAX_ITEMS];
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
    code = write_out(o.out_file, &aux, parsed.id);
  } else {
    code = cli_report(&err);
  }
  sodium_memzero(keys, sizeof keys); /* secrets do not outlive the command */
  cdl_arena_free(&arena);
  cdl_buf_free(&tx);
  cdl_buf_free(&aux);
  return code;
}
