/*
 * volatile_recent.c: the volatile DB's ring of recently written blocks
 * (volatile_recent.h). Blocks sit whole in a byte ring: one that does not
 * fit before the end starts again at 0, and the oldest blocks are
 * forgotten until the new one has room. Look-ups scan a few blocks on
 * from the last one found (see vrecent_get).
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/base.h"
#include "volatile_recent.h"

void vrecent_init(vrecent *r, size_t cap) {
  memset(r, 0, sizeof *r);
  r->cap = cap;
}

void vrecent_free(vrecent *r) {
  free(r->ring);
  free(r->items);
  memset(r, 0, sizeof *r);
}

static vrecent_item *item_at(const vrecent *r, size_t i) {
  return &r->items[(r->first + i) % r->cap_items];
}

/* Whether the oldest block must go for a block at [off, off + len): it
 * overlaps, or the new block wraps to 0 and it lies past the head (what
 * lies there is older than everything from 0 on). */
static bool oldest_in_the_way(const vrecent *r, size_t off, size_t len, bool wrap) {
  const vrecent_item *o = item_at(r, 0);
  return (wrap && o->off >= r->head) || (o->off < off + len && off < o->off + o->len);
}

static bool room_for_item(vrecent *r) {
  if (r->count < r->cap_items) return true;
  size_t cap = r->cap_items ? 2 * r->cap_items : 256;
  vrecent_item *grown = malloc(cap * sizeof *grown);
  if (grown == NULL) return false;
  for (size_t i = 0; i < r->count; i++) grown[i] = *item_at(r, i);
  free(r->items);
  r->items = grown;
  r->cap_items = cap;
  r->first = 0;
  return true;
}

void vrecent_put(vrecent *r, const uint8_t hash[32], const uint8_t *bytes, size_t len) {
  if (len == 0 || len > r->cap) return;
  /* Huge pages when large: first touches of fresh 4 KiB pages are dear. */
  if (r->ring == NULL && (r->ring = cdl_alloc_large(r->cap)) == NULL) return;
  if (!room_for_item(r)) return;
  bool wrap = r->head + len > r->cap;
  size_t off = wrap ? 0 : r->head;
  while (r->count > 0 && oldest_in_the_way(r, off, len, wrap)) {
    r->first = (r->first + 1) % r->cap_items;
    r->count--;
    r->first_seq++;
  }
  memcpy(r->ring + off, bytes, len);
  vrecent_item *it = item_at(r, r->count++);
  memcpy(it->hash, hash, 32);
  it->off = off;
  it->len = (uint32_t)len;
  r->head = off + len;
}

const uint8_t *vrecent_get(vrecent *r, const uint8_t hash[32], size_t *len) {
  if (r->count == 0) return NULL;
  size_t start = r->next_seq > r->first_seq ? (size_t)(r->next_seq - r->first_seq) : 0;
  for (size_t k = 0; k < VRECENT_PROBES && k < r->count; k++) {
    size_t i = (start + k) % r->count;
    const vrecent_item *it = item_at(r, i);
    if (memcmp(it->hash, hash, 32) != 0) continue;
    r->next_seq = r->first_seq + i + 1;
    *len = it->len;
    return r->ring + it->off;
  }
  return NULL;
}
