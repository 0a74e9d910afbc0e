/*
 * bench_decode.c: decoding and hashing speed on the real mainnet epoch-0
 * chunk (21,587 blocks), with and without signature checks, against the
 * raw Ed25519 verify rate measured in the same run (issue: foundation).
 *
 * Passes:
 *   decode+hash  every block decoded (tx ids and block hashes included)
 *                and every body proof checked (tx Merkle root, witnesses,
 *                SSC, delegation, update, EBB body)
 *   +signatures  the same plus block signature and delegation certificate
 *   verify rate  libsodium Ed25519 verifications per second, one core
 * Each figure is the best of several runs. Usage: bench_decode CHUNK.zstd
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zstd.h>

#include "cardinal/byron.h"
#include "cardinal/crypto.h"
#include "bench_common.h"

static int load_chunk(const char *path, cdl_buf *out) {
  cdl_buf z;
  cdl_error err = {0};
  cdl_buf_init(&z, 0);
  if (cdl_file_read_all(path, (size_t)64 << 20, &z, &err) != CDL_OK) {
    fprintf(stderr, "bench: %s\n", err.message);
    return 1;
  }
  unsigned long long size = ZSTD_getFrameContentSize(z.data, z.len);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      cdl_buf_reserve(out, (size_t)size) != CDL_OK) {
    fprintf(stderr, "bench: %s is not a zstd frame with a known size\n", path);
    return 1;
  }
  size_t n = ZSTD_decompress(out->data, (size_t)size, z.data, z.len);
  cdl_buf_free(&z);
  if (ZSTD_isError(n)) return 1;
  out->len = n;
  return 0;
}

/* One pass over the chunk; returns the number of blocks or 0 on error. */
static size_t pass(const cdl_buf *chunk, bool signatures) {
  cdl_arena arena;
  cdl_error err = {0};
  cdl_byron_cert_cache cache = {0};
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, chunk->data, chunk->len, &err);
  size_t blocks = 0;
  while (cdl_cbor_remaining(&cur) > 0) {
    cdl_byron_block blk;
    cdl_arena_reset(&arena);
    if (cdl_byron_block_read(&cur, &ctx, &blk) != CDL_OK ||
        cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_ALL, &arena, &err) != CDL_OK ||
        (signatures && cdl_byron_block_check_signature(&blk, CDL_BYRON_MAINNET_MAGIC,
                                                       &cache, &err) != CDL_OK)) {
      fprintf(stderr, "bench: block %zu: %s\n", blocks, err.message);
      blocks = 0;
      break;
    }
    blocks++;
  }
  cdl_arena_free(&arena);
  return blocks;
}

static double best_pass(const cdl_buf *chunk, bool signatures, size_t *blocks) {
  double best = 1e30;
  for (int i = 0; i < BENCH_RUNS; i++) {
    double t = bench_now_s();
    *blocks = pass(chunk, signatures);
    t = bench_now_s() - t;
    if (*blocks == 0) return -1;
    if (t < best) best = t;
  }
  return best;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench_decode CHUNK.zstd\n");
    return 2;
  }
  if (cdl_crypto_init() != CDL_OK) return 3;
  cdl_buf chunk;
  cdl_buf_init(&chunk, 0);
  if (load_chunk(argv[1], &chunk)) return 3;
  size_t blocks = 0;
  double mb = (double)chunk.len / 1e6;
  double t_plain = best_pass(&chunk, false, &blocks);
  double t_sig = best_pass(&chunk, true, &blocks);
  if (t_plain < 0 || t_sig < 0) return 1;
  double rate = bench_verify_rate();
  double sig_bps = (double)blocks / t_sig;
  printf("chunk: %zu blocks, %.2f MB (mainnet epoch 0)\n", blocks, mb);
  printf("decode+hash:       %8.1f MB/s %10.0f blocks/s\n", mb / t_plain, blocks / t_plain);
  printf("decode+hash+sigs:  %8.1f MB/s %10.0f blocks/s\n", mb / t_sig, sig_bps);
  printf("ed25519 verify:    %8.0f verifications/s (one core, same run)\n", rate);
  printf("ratio signed blocks/s to verify rate: %.2f (target >= 0.80)\n", sig_bps / rate);
  printf("decode+hash target >= 200 MB/s: %s\n", mb / t_plain >= 200 ? "met" : "NOT met");
  cdl_buf_free(&chunk);
  return 0;
}
