/*
 * support.h: helpers shared by the unit and vector tests: paths into
 * tests/vectors, reading binary / hex / golden-dump files, the epoch-0
 * chunk, and cmocka glue.
 */
#ifndef CARDINAL_TEST_SUPPORT_H
#define CARDINAL_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cardinal/base.h"
#include "cardinal/byron.h"
#include "cardinal/crypto.h"

/* Absolute path of a file under tests/vectors (static storage). */
const char *vec_path(const char *relative);
/* A vector file as raw bytes. Fails the test if it cannot be read. */
void vec_read(const char *relative, cdl_buf *out);
/* A vector file holding hex text (whitespace ignored), as bytes. */
void vec_read_hex(const char *relative, cdl_buf *out);
/* A golden dump ("0000: 8507..." lines) as bytes. */
void vec_read_golden(const char *relative, cdl_buf *out);
/* The decompressed mainnet epoch-0 chunk (21,587 wrapped blocks). */
void vec_epoch0_chunk(cdl_buf *out);

/* Hex string -> bytes, failing the test on bad input. Returns length. */
size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap);
/* Asserts that 32 bytes equal the given hex. */
void assert_hash_hex(const uint8_t *hash, const char *hex);

/* A decode context with its own arena and error. */
typedef struct test_ctx {
  cdl_arena arena;
  cdl_error err;
  cdl_byron_ctx ctx;
} test_ctx;
void test_ctx_init(test_ctx *t, unsigned flags);
void test_ctx_free(test_ctx *t);

/* Runs crypto init once; use as the group setup. */
int test_group_setup(void **state);

#endif /* CARDINAL_TEST_SUPPORT_H */
