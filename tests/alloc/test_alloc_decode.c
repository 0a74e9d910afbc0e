/*
 * test_alloc_decode.c: allocation-failure sweeps over the decoders
 * (docs/testing.md "Allocation failures"; the countdown allocator is
 * tests/support/fail_alloc.h). Each operation runs once per allocation it
 * makes, with that allocation failing (once, then from then on): it must
 * return CDL_E_NOMEM, leak nothing, and the complete run must give what
 * an unarmed run gives.
 *  - the countdown allocator itself;
 *  - Byron blocks (real mainnet, testnet and preprod blocks, EBBs and SSC
 *    payloads included): decode, every body proof, the block signature,
 *    re-encoding;
 *  - transactions, addresses (CBOR and Base58), genesis files (canonical
 *    JSON, schema, genesis UTxO, hash);
 *  - the network codecs: every gouroboros message example decoded and
 *    re-encoded, the preprod capture's headers wrapped, the handshake
 *    server's replies.
 * Decoders take their memory from an arena whose 64 KB blocks come from
 * malloc, so a block decodes with one or two allocations; each decoder's
 * own NULL checks are swept apart by the arena's byte bound instead
 * (arena_sweep): a bound that stops the decoder at each arena allocation
 * in turn, which must be refused as CDL_E_NOMEM too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/fail_alloc.h"
#include "../unit/chain_support.h"
#include "cardinal/net.h"

/* ---- The countdown allocator itself ---- */

static void test_countdown(void **state) {
  (void)state;
  size_t live = fail_alloc_live();
  fail_alloc_arm(1, FAIL_ONCE);
  void *a = malloc(10), *b = malloc(10), *c = malloc(10);
  assert_non_null(a);
  assert_null(b); /* allocation 1 */
  assert_non_null(c);
  assert_true(fail_alloc_fired());
  assert_int_equal(fail_alloc_attempts(), 3);
  fail_alloc_arm(0, FAIL_FROM);
  assert_null(calloc(1, 1));
  /* Called through a pointer: the compiler would see |c| used after a
   * realloc, which here fails and leaves it as it was. */
  void *(*volatile re)(void *, size_t) = realloc;
  assert_null(re(c, 100));
  void *p = NULL;
  assert_int_equal(posix_memalign(&p, 64, 64), ENOMEM);
  assert_null(strdup("x"));
  fail_alloc_disarm();
  assert_int_equal(fail_alloc_live(), live + 2);
  c = re(c, 100000); /* moves: still one live block */
  assert_non_null(c);
  assert_int_equal(fail_alloc_live(), live + 2);
  free(a);
  free(c);
  assert_int_equal(fail_alloc_live(), live);
  /* Memory libc allocates itself (getline's buffer) is outside the set;
   * freeing it here changes nothing. */
  FILE *f = fopen(vec_path("txs/byron1.tx.hex"), "r");
  assert_non_null(f);
  char *line = NULL;
  size_t cap = 0;
  assert_true(getline(&line, &cap, f) > 0);
  fclose(f);
  assert_int_equal(fail_alloc_live(), live);
  free(line);
  assert_int_equal(fail_alloc_live(), live);
}

/* ---- A decode operation over one input ---- */

typedef struct decode_op decode_op;
struct decode_op {
  const char *name;
  cdl_span in;
  /* Decodes |in| with |arena|, appending what identifies the result (a
   * hash, a re-encoding) to |out|. */
  int (*fn)(decode_op *op, cdl_arena *arena, cdl_buf *out);
  size_t arena_max; /* the arena's bound for this run; 0: the default */
  uint64_t stride;  /* the malloc sweep's (fail_sweep.stride) */
  cdl_arena arena;
  cdl_buf out, want;
};

static void op_setup(void *ctx) {
  decode_op *op = ctx;
  cdl_arena_init(&op->arena, op->arena_max);
  cdl_buf_init(&op->out, 0);
}

static int op_run(void *ctx) {
  decode_op *op = ctx;
  int rc = op->fn(op, &op->arena, &op->out);
  if (rc == CDL_OK && op->out.failed) rc = CDL_E_NOMEM;
  return rc;
}

static void op_check(void *ctx, int rc, bool failed) {
  decode_op *op = ctx;
  if (failed || rc != CDL_OK) return;
  assert_int_equal(op->out.len, op->want.len);
  assert_memory_equal(op->out.data, op->want.data, op->want.len);
}

static void op_teardown(void *ctx) {
  decode_op *op = ctx;
  cdl_arena_free(&op->arena);
  cdl_buf_free(&op->out);
}

/* The arena's byte bound, lowered to stop the decoder at each of its
 * arena allocations in turn: CDL_E_NOMEM every time, the same result once
 * the bound is the run's whole use. Steps of 16 bytes (the arena's
 * rounding) reach every allocation; past 8 KB of use the step grows so
 * that about 500 bounds are tried (the epoch-0 EBB's list of 21,600
 * slot leaders takes 1 MB). Returns the bounds tried. */
static size_t arena_sweep(decode_op *op, size_t used, size_t *step_out) {
  size_t runs = 0, step = used / 512 / 16 * 16;
  if (step < 16) step = 16;
  *step_out = step;
  for (size_t bound = 16; bound < used; bound += step, runs++) {
    op->arena_max = bound;
    op_setup(op);
    int rc = op_run(op);
    if (rc != CDL_E_NOMEM)
      fail_msg("%s: an arena bound of %zu bytes (of %zu) gave %d (%s), not CDL_E_NOMEM", op->name,
               bound, used, rc, cdl_error_name(rc));
    op_teardown(op);
  }
  op->arena_max = used;
  op_setup(op);
  assert_int_equal(op_run(op), CDL_OK);
  op_check(op, CDL_OK, false);
  op_teardown(op);
  op->arena_max = 0;
  return runs;
}

/* An unarmed run for the reference result, the malloc sweep, then the
 * arena sweep (when |arena_too|). */
static void sweep_decode(decode_op *op, bool arena_too) {
  cdl_buf_init(&op->want, 0);
  op_setup(op);
  assert_int_equal(op_run(op), CDL_OK);
  size_t used = op->arena.used_bytes;
  cdl_buf_append(&op->want, op->out.data, op->out.len);
  op_teardown(op);
  fail_sweep s = {.name = op->name, .ctx = op, .setup = op_setup, .run = op_run,
                  .check = op_check, .teardown = op_teardown, .fail_code = CDL_E_NOMEM,
                  .stride = op->stride, .once_only = op->stride > 1};
  fail_sweep_run(&s);
  if (arena_too) {
    size_t step;
    size_t runs = arena_sweep(op, used, &step);
    printf("%s: %zu arena bounds (%zu-byte steps over %zu bytes)\n", op->name, runs, step, used);
  }
  cdl_buf_free(&op->want);
}

/* ---- Blocks ---- */

static int decode_block(decode_op *op, cdl_arena *arena, cdl_buf *out) {
  cdl_error err = {0};
  cdl_byron_ctx ctx = {arena, &err, 0};
  cdl_byron_block blk;
  CDL_TRY(cdl_byron_block_decode(op->in.ptr, op->in.len, &ctx, &blk));
  CDL_TRY(cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_ALL, arena, &err));
  uint32_t magic = blk.is_ebb ? (uint32_t)blk.ebb.protocol_magic : blk.header.protocol_magic;
  CDL_TRY(cdl_byron_block_check_signature(&blk, magic, NULL, &err));
  cdl_buf_append(out, cdl_byron_block_hash(&blk), 32);
  cdl_byron_block_encode(out, &blk, false);
  return CDL_OK;
}

static void sweep_block(const char *name, cdl_span bytes) {
  decode_op op = {.name = name, .in = bytes, .fn = decode_block};
  sweep_decode(&op, true);
}

static void test_blocks(void **state) {
  (void)state;
  static const char *const HEX[] = {
      "blocks/pallas/byron1.block.hex",         "blocks/pallas/byron2.block.hex",
      "blocks/pallas/byron4.block.hex",         "blocks/pallas/byron7.block.hex",
      "blocks/pallas/byron8.block.hex",         "blocks/gouroboros/mainnet-Epoch1Slot21601.hex",
      "blocks/gouroboros/mainnet-Epoch1Slot30240.hex",
      "blocks/gouroboros/mainnet-Epoch6Slot129601.hex",
      "blocks/cml/byron_network_block_parse.block.hex"};
  static const char *const BIN[] = {"blocks/daedalus-turbo/mainnet-block-0.cbor",
                                    "blocks/daedalus-turbo/mainnet-block-1.cbor",
                                    "blocks/daedalus-turbo/mainnet-block-slot-1.bin"};
  for (size_t i = 0; i < sizeof HEX / sizeof *HEX; i++) {
    cdl_buf b;
    vec_read_hex(HEX[i], &b);
    sweep_block(HEX[i], cdl_span_of(b.data, b.len));
    cdl_buf_free(&b);
  }
  for (size_t i = 0; i < sizeof BIN / sizeof *BIN; i++) {
    cdl_buf b;
    vec_read(BIN[i], &b);
    sweep_block(BIN[i], cdl_span_of(b.data, b.len));
    cdl_buf_free(&b);
  }
  /* The first two mainnet blocks holding transactions (AVVM redemptions). */
  epoch0 e;
  epoch0_load(&e);
  size_t first = epoch0_next_tx_block(&e, 0), second = epoch0_next_tx_block(&e, first + 1);
  size_t which[2] = {first, second};
  for (int i = 0; i < 2; i++) {
    char name[64];
    snprintf(name, sizeof name, "mainnet epoch-0 block %zu", which[i]);
    sweep_block(name, e.blocks[which[i]]);
  }
  epoch0_free(&e);
}

/* ---- Transactions and addresses ---- */

static int decode_tx(decode_op *op, cdl_arena *arena, cdl_buf *out) {
  cdl_error err = {0};
  cdl_byron_ctx ctx = {arena, &err, 0};
  cdl_byron_txaux aux;
  CDL_TRY(cdl_byron_txaux_decode(op->in.ptr, op->in.len, &ctx, &aux));
  cdl_buf_append(out, aux.tx.id, 32);
  cdl_byron_txaux_encode(out, &aux);
  return CDL_OK;
}

static void test_txs(void **state) {
  (void)state;
  static const char *const TXS[] = {"txs/byron1.tx.hex", "txs/byron2.tx.hex"};
  for (size_t i = 0; i < 2; i++) {
    cdl_buf b;
    vec_read_hex(TXS[i], &b);
    decode_op op = {.name = TXS[i], .in = cdl_span_of(b.data, b.len), .fn = decode_tx};
    sweep_decode(&op, true);
    cdl_buf_free(&b);
  }
}

/* The CBOR address (legacy grammar: the goldens include a script and an
 * unknown type), its Base58 text, and that text decoded again. */
static int decode_address(decode_op *op, cdl_arena *arena, cdl_buf *out) {
  cdl_error err = {0};
  cdl_byron_ctx ctx = {arena, &err, CDL_BYRON_LEGACY};
  cdl_byron_address a;
  CDL_TRY(cdl_byron_address_decode(op->in.ptr, op->in.len, &ctx, &a));
  char text[1024];
  size_t n = cdl_byron_address_to_base58(a.raw, text, sizeof text);
  assert_true(n > 0 && n < sizeof text);
  cdl_buf raw;
  cdl_buf_init(&raw, 0);
  cdl_byron_address again;
  int rc = cdl_byron_address_from_base58(text, &raw, &ctx, &again);
  if (rc == CDL_OK) {
    cdl_buf_append(out, raw.data, raw.len);
    cdl_byron_address_encode(out, &a);
    cdl_byron_address_encode(out, &again);
  }
  cdl_buf_free(&raw);
  return rc;
}

static void test_addresses(void **state) {
  (void)state;
  for (int i = 0; i < 5; i++) {
    char rel[96];
    snprintf(rel, sizeof rel, "crypto/cardano-sl-address-golden/bi/Address%d", i);
    cdl_buf b;
    vec_read_golden(rel, &b);
    decode_op op = {.name = rel, .in = cdl_span_of(b.data, b.len), .fn = decode_address};
    sweep_decode(&op, true);
    cdl_buf_free(&b);
  }
}

/* ---- Genesis files ---- */

static int load_genesis(decode_op *op, cdl_arena *arena, cdl_buf *out) {
  cdl_error err = {0};
  cdl_byron_genesis g;
  CDL_TRY(cdl_byron_genesis_load(op->in.ptr, op->in.len, arena, &g, &err));
  cdl_byron_utxo_entry *utxo = NULL;
  size_t n = 0;
  CDL_TRY(cdl_byron_genesis_utxo(&g, cdl_byron_requires_magic(g.protocol_magic), arena, &utxo, &n,
                                 &err));
  uint8_t hash[32];
  CDL_TRY(cdl_byron_genesis_hash(op->in.ptr, op->in.len, hash, &err));
  cdl_buf_append(out, g.hash, 32);
  cdl_buf_append(out, hash, 32);
  for (size_t i = 0; i < n; i++) {
    cdl_buf_append(out, utxo[i].tx_id, 32);
    cdl_buf_append(out, utxo[i].address.ptr, utxo[i].address.len);
  }
  return CDL_OK;
}

static void test_genesis(void **state) {
  (void)state;
  /* Mainnet's (14,505 AVVM entries, an allocation each) is swept at every
   * 2,003rd allocation, failing once, without the arena bounds; the small
   * files, through the same code, get everything. */
  static const struct {
    const char *path;
    bool small;
  } FILES[] = {{"genesis/ouroboros-consensus-tools-test/byron-genesis.json", true},
               {"genesis/preview/byron-genesis.json", true},
               {"genesis/mainnet/mainnet-byron-genesis.json", false}};
  for (size_t i = 0; i < sizeof FILES / sizeof *FILES; i++) {
    cdl_buf b;
    vec_read(FILES[i].path, &b);
    decode_op op = {.name = FILES[i].path, .in = cdl_span_of(b.data, b.len), .fn = load_genesis,
                    .stride = FILES[i].small ? 1 : 2003};
    sweep_decode(&op, FILES[i].small);
    cdl_buf_free(&b);
  }
}

/* ---- Network codecs ---- */

/* Every message of |in| (one gouroboros example), decoded by its
 * protocol's codec and encoded again. */
static int net_roundtrip(decode_op *op, cdl_arena *arena, cdl_buf *out) {
  (void)arena;
  const uint8_t *p = op->in.ptr;
  size_t n = op->in.len, used = 0;
  cdl_error err = {0};
  const char *f = strrchr(op->name, '/') + 1;
  if (strncmp(f, "chainsync", 9) == 0) {
    cdl_cs_msg m;
    CDL_TRY(cdl_cs_decode(p, n, &m, &used, &err));
    cdl_cs_encode(out, &m);
  } else if (strncmp(f, "blockfetch", 10) == 0) {
    cdl_bf_msg m;
    CDL_TRY(cdl_bf_decode(p, n, &m, &used, &err));
    cdl_bf_encode(out, &m);
  } else if (strncmp(f, "keepalive", 9) == 0) {
    cdl_ka_msg m;
    CDL_TRY(cdl_ka_decode(p, n, &m, &used, &err));
    cdl_ka_encode(out, &m);
  } else if (strncmp(f, "txsubmission", 12) == 0) {
    cdl_tx2_msg m;
    CDL_TRY(cdl_tx2_decode(p, n, &m, &used, &err));
    cdl_tx2_encode(out, &m);
  } else {
    cdl_hs_msg m;
    CDL_TRY(cdl_hs_decode(p, n, &m, &used, &err));
    cdl_hs_encode(out, &m);
    if (m.kind == CDL_HS_PROPOSE) { /* and the server's reply to it */
      cdl_hs_config srv = {false, 7, 15, {1, false, 0, false}};
      cdl_hs_result res;
      cdl_buf reply;
      cdl_buf_init(&reply, 0);
      cdl_hs_respond(&srv, &m, &reply, &res);
      bool failed = reply.failed;
      cdl_buf_append(out, reply.data, reply.len);
      cdl_buf_free(&reply);
      if (failed) return CDL_E_NOMEM;
    }
  }
  return used == n ? CDL_OK : CDL_E_TRAILING;
}

static void test_net_codecs(void **state) {
  (void)state;
  DIR *d = opendir(vec_path("network/gouroboros-messages"));
  assert_non_null(d);
  struct dirent *e;
  size_t swept = 0;
  while ((e = readdir(d)) != NULL) {
    if (strstr(e->d_name, ".hex") == NULL || strstr(e->d_name, "RequestRange") != NULL) continue;
    char rel[300];
    snprintf(rel, sizeof rel, "network/gouroboros-messages/%s", e->d_name);
    cdl_buf b;
    vec_read_hex(rel, &b);
    decode_op op = {.name = rel, .in = cdl_span_of(b.data, b.len), .fn = net_roundtrip};
    sweep_decode(&op, false);
    cdl_buf_free(&b);
    swept++;
  }
  closedir(d);
  assert_int_equal(swept, 25);
}

/* A stored block wrapped as a node-to-node header and as MsgBlock, and
 * the header read back. */
static int wrap_block(decode_op *op, cdl_arena *arena, cdl_buf *out) {
  (void)arena;
  cdl_error err = {0};
  cdl_buf hdr;
  cdl_buf_init(&hdr, 0);
  int rc = cdl_net_enc_byron_header(&hdr, op->in.ptr, op->in.len, &err);
  if (rc == CDL_OK && hdr.failed) rc = CDL_E_NOMEM;
  cdl_net_header h;
  if (rc == CDL_OK) rc = cdl_net_read_byron_header(cdl_span_of(hdr.data, hdr.len), &h, &err);
  if (rc == CDL_OK) {
    cdl_cs_msg m = {.kind = CDL_CS_ROLL_FORWARD, .content = cdl_span_of(hdr.data, hdr.len)};
    cdl_cs_encode(out, &m);
    cdl_bf_msg b = {.kind = CDL_BF_BLOCK, .block = op->in};
    cdl_bf_encode(out, &b);
  }
  cdl_buf_free(&hdr);
  return rc;
}

static void test_net_block_wrapping(void **state) {
  (void)state;
  cdl_buf b;
  vec_read("blocks/daedalus-turbo/mainnet-block-1.cbor", &b);
  decode_op op = {.name = "wrapped mainnet block 1", .in = cdl_span_of(b.data, b.len),
                  .fn = wrap_block};
  sweep_decode(&op, false);
  cdl_buf_free(&b);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_countdown),   cmocka_unit_test(test_blocks),
      cmocka_unit_test(test_txs),         cmocka_unit_test(test_addresses),
      cmocka_unit_test(test_genesis),     cmocka_unit_test(test_net_codecs),
      cmocka_unit_test(test_net_block_wrapping),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
