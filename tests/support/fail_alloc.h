/*
 * fail_alloc.h: the countdown allocator of the allocation-failure tests
 * (docs/design.md section 8, docs/testing.md "Allocation failures"), as
 * SQLite's and nghttp2's test suites have one.
 *
 * A test executable linked with fail_alloc (the CMake function
 * cdl_fail_alloc_test in tests/CMakeLists.txt) has every malloc, calloc,
 * realloc, posix_memalign, strdup and free of its own objects and of our
 * static libraries redirected by the linker (-Wl,--wrap=...) to the
 * wrappers in fail_alloc.c, which call the real functions (under ASan,
 * ASan's allocator: leak detection still sees everything). No API takes
 * an allocator: the code under test is the code that ships.
 *
 * What the wrappers add:
 *  - a countdown: once armed with n, the n-th allocation from then on
 *    (0: the next one) returns NULL; in FAIL_ONCE mode only that one
 *    (SQLite's "benign" sweep: later allocations succeed, so the error
 *    paths run with memory to spare), in FAIL_FROM mode that one and every
 *    later one (the error paths themselves run out of memory);
 *  - a set of the blocks the wrappers handed out and not yet freed, so a
 *    leak shows in the plain build too (fail_alloc_live). Memory the
 *    shared libraries (libc's own strdup callers, jansson, libcbor,
 *    OpenSSL) allocate is not in it, and freeing such memory through the
 *    wrapper does not count: the set, not a counter, decides.
 * The wrappers take a mutex, so threads may allocate; a sweep runs the
 * operation on one thread so that the n-th allocation is always the same.
 */
#ifndef CARDINAL_TEST_FAIL_ALLOC_H
#define CARDINAL_TEST_FAIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fail_alloc_mode { FAIL_ONCE = 0, FAIL_FROM } fail_alloc_mode;

/* Arms the countdown: allocation |n| from now (0: the next) fails. Resets
 * the attempt count and the fired flag. */
void fail_alloc_arm(uint64_t n, fail_alloc_mode mode);
/* Allocations succeed again (the attempt count keeps counting). */
void fail_alloc_disarm(void);
/* Whether an armed failure happened since the last arm. */
bool fail_alloc_fired(void);
/* Allocation attempts (malloc, calloc, realloc to a non-zero size,
 * posix_memalign, strdup) since the last arm. */
uint64_t fail_alloc_attempts(void);
/* Blocks handed out by the wrappers and not freed yet. */
size_t fail_alloc_live(void);

/* ---- Sweeps ---------------------------------------------------------------
 * One operation swept over its allocation points: for n = 0, 1, 2, ...
 * setup (unarmed), arm(n), run, disarm, check, teardown (unarmed); the
 * live blocks after teardown must be those before setup. A run in which
 * the allocation failed must return |fail_code| (any error when 0), or,
 * with |recover_ok|, may succeed (the code survives that failure by
 * design: a cache or a best-effort record not kept), and is then checked
 * like a complete run; the sweep ends with the first run in which no
 * allocation failed, which must return CDL_OK. check() gets |failed| true
 * for a run that returned an error, and then checks the state is as
 * before; otherwise it compares the result with an unarmed run's.
 * Both modes are swept unless |once_only|. More than |max_points| points
 * fails the test. With FAIL_ALLOC_TRACE set in the environment, each
 * failing allocation prints its backtrace to stderr (the last one before
 * a test's failure is the culprit). */
typedef struct fail_sweep {
  const char *name;
  void *ctx;
  void (*setup)(void *ctx);                      /* may be NULL */
  int (*run)(void *ctx);                         /* the operation, armed */
  void (*check)(void *ctx, int rc, bool failed); /* may be NULL */
  void (*teardown)(void *ctx);                   /* may be NULL */
  int fail_code;
  bool recover_ok;
  uint64_t max_points; /* 0: 100,000 */
  bool once_only;
  /* Every stride-th point only (0 or 1: every one), for an operation of
   * thousands of points whose code paths smaller inputs sweep whole. */
  uint64_t stride;
} fail_sweep;

/* Sweeps |s|; returns the number of allocation points (the attempts of a
 * complete run), and prints it with the name. */
uint64_t fail_sweep_run(const fail_sweep *s);

#endif /* CARDINAL_TEST_FAIL_ALLOC_H */
