/*
 * buf.c: spans, bounded growable byte buffers and the bump arena used for
 * decoded object graphs (docs/design.md section 4: everything is bounded).
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/base.h"

bool cdl_span_eq(cdl_span a, cdl_span b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void cdl_buf_init(cdl_buf *b, size_t max_bytes) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max_bytes = max_bytes ? max_bytes : CDL_BUF_DEFAULT_MAX;
  b->failed = false;
  b->fixed = false;
}

void cdl_buf_init_fixed(cdl_buf *b, uint8_t *storage, size_t size) {
  b->data = storage;
  b->len = 0;
  b->cap = size;
  b->max_bytes = size;
  b->failed = false;
  b->fixed = true;
}

void cdl_buf_free(cdl_buf *b) {
  if (!b->fixed) free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = false;
}

void cdl_buf_reset(cdl_buf *b) {
  b->len = 0;
  b->failed = false;
}

/* A refusal here leaves the buffer as it was, not failed: the caller
 * handles it (a long-lived buffer, a write-behind queue say, must not stay
 * refused once memory is back). Appends make their failures sticky. */
int cdl_buf_reserve(cdl_buf *b, size_t extra) {
  if (b->failed) return CDL_E_NOMEM;
  if (extra > b->max_bytes - b->len) return CDL_E_LIMIT;
  size_t need = b->len + extra;
  if (need <= b->cap) return CDL_OK;
  CDL_ASSERT(!b->fixed); /* max_bytes == cap for fixed buffers */
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > b->max_bytes / 2 ? b->max_bytes : cap * 2;
  uint8_t *p = realloc(b->data, cap);
  if (p == NULL) return CDL_E_NOMEM;
  b->data = p;
  b->cap = cap;
  return CDL_OK;
}

int cdl_buf_append(cdl_buf *b, const void *data, size_t len) {
  int rc = cdl_buf_reserve(b, len);
  if (rc != CDL_OK) {
    b->failed = true;
    return rc;
  }
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  return CDL_OK;
}

int cdl_buf_append_byte(cdl_buf *b, uint8_t byte) {
  return cdl_buf_append(b, &byte, 1);
}

/* ---- Arena ---- */

struct cdl_arena_block {
  cdl_arena_block *next;
  size_t cap;
  size_t used;
  _Alignas(16) uint8_t data[];
};

#define ARENA_BLOCK_MIN ((size_t)64 << 10)
#define ARENA_KEEP_MAX ((size_t)4 << 20) /* reset keeps at most this much */
#define ARENA_ALIGN 16

void cdl_arena_init(cdl_arena *a, size_t max_bytes) {
  a->head = NULL;
  a->used_bytes = 0;
  a->max_bytes = max_bytes ? max_bytes : CDL_ARENA_DEFAULT_MAX;
}

static cdl_arena_block *arena_new_block(size_t min_cap) {
  size_t cap = min_cap > ARENA_BLOCK_MIN ? min_cap : ARENA_BLOCK_MIN;
  cdl_arena_block *blk = malloc(sizeof *blk + cap);
  if (blk == NULL) return NULL;
  blk->next = NULL;
  blk->cap = cap;
  blk->used = 0;
  return blk;
}

/* What a request for no bytes gets: a decoder asking room for an empty
 * list must not need (nor fail for lack of) a fresh block. */
static _Alignas(ARENA_ALIGN) uint8_t arena_nothing[ARENA_ALIGN];

void *cdl_arena_alloc(cdl_arena *a, size_t size) {
  if (size == 0) return arena_nothing;
  size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (rounded < size || rounded > a->max_bytes - a->used_bytes) return NULL;
  cdl_arena_block *blk = a->head;
  if (blk == NULL || blk->cap - blk->used < rounded) {
    cdl_arena_block *fresh = arena_new_block(rounded);
    if (fresh == NULL) return NULL;
    fresh->next = blk;
    a->head = blk = fresh;
  }
  void *p = blk->data + blk->used;
  blk->used += rounded;
  a->used_bytes += rounded;
  memset(p, 0, size);
  return p;
}

void *cdl_arena_calloc(cdl_arena *a, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return cdl_arena_alloc(a, count * size);
}

void cdl_arena_reset(cdl_arena *a) {
  cdl_arena_block *blk = a->head;
  if (blk == NULL) return;
  /* Keep the newest block for reuse unless it is large (one hostile input
   * must not pin its memory for the rest of the run); free the rest. */
  if (blk->cap > ARENA_KEEP_MAX) {
    cdl_arena_free(a);
    return;
  }
  cdl_arena_block *rest = blk->next;
  while (rest != NULL) {
    cdl_arena_block *next = rest->next;
    free(rest);
    rest = next;
  }
  blk->next = NULL;
  blk->used = 0;
  a->used_bytes = 0;
}

void cdl_arena_free(cdl_arena *a) {
  cdl_arena_block *blk = a->head;
  while (blk != NULL) {
    cdl_arena_block *next = blk->next;
    free(blk);
    blk = next;
  }
  a->head = NULL;
  a->used_bytes = 0;
}
