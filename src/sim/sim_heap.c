/*
 * sim_heap.c: the binary heap the simulator keeps its timed events in
 * (sim_internal.h): the scenario's actions and the messages in flight,
 * each ordered by (time, sequence number), so the earliest comes first
 * and ties go to the one made first.
 */
#include <string.h>

#include "sim_internal.h"

static void swap(uint8_t *a, uint8_t *b, size_t size) {
  uint8_t t[128];
  CDL_ASSERT(size <= sizeof t);
  memcpy(t, a, size);
  memcpy(a, b, size);
  memcpy(b, t, size);
}

void sim_heap_up(void *base, size_t n, size_t size, bool (*before)(const void *, const void *)) {
  uint8_t *b = base;
  for (size_t i = n - 1; i > 0 && before(b + i * size, b + (i - 1) / 2 * size); i = (i - 1) / 2)
    swap(b + i * size, b + (i - 1) / 2 * size, size);
}

void sim_heap_down(void *base, size_t n, size_t size, bool (*before)(const void *, const void *)) {
  uint8_t *b = base;
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && before(b + l * size, b + m * size))
      m = l;
    if (r < n && before(b + r * size, b + m * size))
      m = r;
    if (m == i)
      return;
    swap(b + i * size, b + m * size, size);
    i = m;
  }
}
