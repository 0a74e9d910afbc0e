/*
 * alloc.c: allocation of large tables on transparent huge pages (see
 * cdl_alloc_large in base.h). Linux only offers the advice; elsewhere, or
 * where the kernel refuses it, the memory is ordinary.
 */
#define _GNU_SOURCE /* madvise and MADV_HUGEPAGE */
#include <stdlib.h>
#include <sys/mman.h>

#include "cardinal/base.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *cdl_alloc_large(size_t size) {
  if (size < 2 * HUGE_PAGE) return malloc(size ? size : 1);
  void *p = NULL;
  if (posix_memalign(&p, HUGE_PAGE, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, size / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE); /* advice only */
#endif
  return p;
}
