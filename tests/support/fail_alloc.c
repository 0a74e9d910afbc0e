/*
 * fail_alloc.c: the countdown allocator and the sweep driver (see
 * fail_alloc.h). The __wrap_* functions replace the allocation functions
 * for the objects linked with -Wl,--wrap=...; __real_* are the originals.
 * Nothing here may call malloc and friends by name: that would come back
 * through the wrappers.
 */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardinal/base.h"
#include "fail_alloc.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
int __real_posix_memalign(void **out, size_t align, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
char *__wrap_strdup(const char *s);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool armed, fired, trace;
static fail_alloc_mode mode;
static uint64_t countdown, n_attempts;

/* ---- The set of live blocks: open addressing, linear probing,
 * backward-shift deletion; its own memory comes from __real_*. ---- */
static uintptr_t *set;
static size_t set_cap, set_n; /* set_cap a power of two (0 before the first) */

static size_t home(uintptr_t p) {
  return (size_t)(((uint64_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 20) & (set_cap - 1);
}

static void set_link(uintptr_t p) {
  size_t i = home(p);
  while (set[i] != 0) i = (i + 1) & (set_cap - 1);
  set[i] = p;
}

static void set_add(uintptr_t p) {
  if (2 * (set_n + 1) > set_cap) {
    uintptr_t *old = set;
    size_t old_cap = set_cap;
    set_cap = set_cap ? set_cap * 2 : 4096;
    set = __real_calloc(set_cap, sizeof *set);
    if (set == NULL) {
      fprintf(stderr, "fail_alloc: no memory for the set of live blocks\n");
      abort();
    }
    for (size_t i = 0; i < old_cap; i++)
      if (old[i] != 0) set_link(old[i]);
    __real_free(old);
  }
  set_link(p);
  set_n++;
}

/* Removes |p| if the set holds it; whether it did. */
static bool set_remove(uintptr_t p) {
  if (set_cap == 0) return false;
  size_t i = home(p);
  while (set[i] != p) {
    if (set[i] == 0) return false;
    i = (i + 1) & (set_cap - 1);
  }
  size_t hole = i;
  for (size_t j = (i + 1) & (set_cap - 1); set[j] != 0; j = (j + 1) & (set_cap - 1)) {
    size_t h = home(set[j]);
    bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (stays) continue;
    set[hole] = set[j];
    hole = j;
  }
  set[hole] = 0;
  set_n--;
  return true;
}

/* One allocation attempt: whether it must fail. */
static bool attempt_fails(void) {
  pthread_mutex_lock(&lock);
  n_attempts++;
  bool fail = false;
  if (armed) {
    if (countdown == 0) {
      fail = fired = true;
      if (mode == FAIL_ONCE) armed = false;
    } else {
      countdown--;
    }
  }
  pthread_mutex_unlock(&lock);
  if (fail && trace) { /* where it failed, for the one debugging a sweep */
    void *frames[32];
    int n = backtrace(frames, 32);
    fprintf(stderr, "fail_alloc: allocation failed here:\n");
    backtrace_symbols_fd(frames, n, 2);
  }
  return fail;
}

static void *track(void *p) {
  if (p == NULL) return NULL;
  pthread_mutex_lock(&lock);
  set_add((uintptr_t)p);
  pthread_mutex_unlock(&lock);
  return p;
}

static bool untrack(void *p) {
  pthread_mutex_lock(&lock);
  bool was = set_remove((uintptr_t)p);
  pthread_mutex_unlock(&lock);
  return was;
}

void *__wrap_malloc(size_t size) {
  return attempt_fails() ? NULL : track(__real_malloc(size));
}

void *__wrap_calloc(size_t count, size_t size) {
  return attempt_fails() ? NULL : track(__real_calloc(count, size));
}

void *__wrap_realloc(void *p, size_t size) {
  if (p != NULL && size == 0) { /* a free, in effect (glibc and ASan free it) */
    untrack(p);
    return __real_realloc(p, 0);
  }
  if (attempt_fails()) return NULL; /* |p| stays as it was */
  bool ours = p == NULL || untrack(p);
  void *q = __real_realloc(p, size);
  if (q == NULL) { /* the real allocator failed: |p| is still live */
    if (ours && p != NULL) track(p);
    return NULL;
  }
  /* A block another library allocated stays outside the set when moved. */
  return ours ? track(q) : q;
}

void __wrap_free(void *p) {
  if (p == NULL) return;
  untrack(p);
  __real_free(p);
}

int __wrap_posix_memalign(void **out, size_t align, size_t size) {
  if (attempt_fails()) return ENOMEM;
  int rc = __real_posix_memalign(out, align, size);
  if (rc == 0) track(*out);
  return rc;
}

char *__wrap_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = __wrap_malloc(n);
  if (p != NULL) memcpy(p, s, n);
  return p;
}

/* ---- Control ---- */

void fail_alloc_arm(uint64_t n, fail_alloc_mode m) {
  static bool env_read;
  if (!env_read) { /* before the lock: getenv does not allocate */
    trace = getenv("FAIL_ALLOC_TRACE") != NULL;
    env_read = true;
  }
  pthread_mutex_lock(&lock);
  armed = true;
  fired = false;
  mode = m;
  countdown = n;
  n_attempts = 0;
  pthread_mutex_unlock(&lock);
}

void fail_alloc_disarm(void) {
  pthread_mutex_lock(&lock);
  armed = false;
  pthread_mutex_unlock(&lock);
}

bool fail_alloc_fired(void) {
  pthread_mutex_lock(&lock);
  bool f = fired;
  pthread_mutex_unlock(&lock);
  return f;
}

uint64_t fail_alloc_attempts(void) {
  pthread_mutex_lock(&lock);
  uint64_t a = n_attempts;
  pthread_mutex_unlock(&lock);
  return a;
}

size_t fail_alloc_live(void) {
  pthread_mutex_lock(&lock);
  size_t n = set_n;
  pthread_mutex_unlock(&lock);
  return n;
}

/* ---- Sweeps ---- */

/* One run with allocation |n| failing; whether it failed (false: the run
 * completed without reaching allocation n). */
static bool sweep_once(const fail_sweep *s, uint64_t n, fail_alloc_mode m, uint64_t *attempts_out,
                       uint64_t *recovered) {
  const char *how = m == FAIL_ONCE ? "once" : "from then on";
  size_t live_before = fail_alloc_live();
  if (s->setup) s->setup(s->ctx);
  fail_alloc_arm(n, m);
  int rc = s->run(s->ctx);
  bool hit = fail_alloc_fired();
  fail_alloc_disarm();
  *attempts_out = fail_alloc_attempts();
  if (hit && rc == CDL_OK) {
    if (!s->recover_ok)
      fail_msg("%s: allocation %llu failed (%s) and the run reported success", s->name,
               (unsigned long long)n, how);
    ++*recovered; /* check() below compares the result with an unarmed run's */
    if (trace) fprintf(stderr, "fail_alloc: %s: recovered from allocation %llu failing (%s)\n", s->name, (unsigned long long)n, how);
  } else if (hit && s->fail_code != 0 && rc != s->fail_code) {
    fail_msg("%s: allocation %llu failed (%s) and the run returned %d (%s), not %d (%s)", s->name,
             (unsigned long long)n, how, rc, cdl_error_name(rc), s->fail_code,
             cdl_error_name(s->fail_code));
  } else if (!hit && rc != CDL_OK) {
    fail_msg("%s: the run with no allocation failing returned %d (%s)", s->name, rc,
             cdl_error_name(rc));
  }
  if (s->check) s->check(s->ctx, rc, hit && rc != CDL_OK);
  if (s->teardown) s->teardown(s->ctx);
  size_t live_after = fail_alloc_live();
  if (live_after != live_before)
    fail_msg("%s: allocation %llu failing (%s): %zu blocks live before, %zu after: a leak",
             s->name, (unsigned long long)n, m == FAIL_ONCE ? "once" : "from then on",
             live_before, live_after);
  return hit;
}

uint64_t fail_sweep_run(const fail_sweep *s) {
  uint64_t max = s->max_points ? s->max_points : 100000;
  uint64_t stride = s->stride > 1 ? s->stride : 1;
  uint64_t points = 0, recovered = 0;
  for (int m = FAIL_ONCE; m <= FAIL_FROM; m++) {
    if (m == FAIL_FROM && s->once_only) break;
    uint64_t n = 0, attempts = 0;
    while (sweep_once(s, n, (fail_alloc_mode)m, &attempts, &recovered)) {
      n += stride;
      if (n > max)
        fail_msg("%s: more than %llu allocation points", s->name, (unsigned long long)max);
    }
    /* The complete run made the allocations the failed runs counted. */
    if (attempts > n || attempts + stride <= n)
      fail_msg("%s: %llu allocations in the complete run, but allocation %llu was reached before",
               s->name, (unsigned long long)attempts, (unsigned long long)(n - stride));
    if (m == FAIL_ONCE) points = attempts;
  }
  printf("%s: %llu allocation points, ", s->name, (unsigned long long)points);
  if (stride > 1) printf("every %llu-th ", (unsigned long long)stride);
  printf("swept failing once%s", s->once_only ? "" : " and from then on");
  if (recovered > 0) printf("; %llu runs recovered (success, same result)", (unsigned long long)recovered);
  printf("\n");
  return points;
}
