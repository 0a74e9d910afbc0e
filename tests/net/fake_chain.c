/*
 * fake_chain.c: see fake_chain.h.
 */
#include "fake_chain.h"

#include <stdlib.h>
#include <string.h>

#include "../storage/storage_support.h"

typedef struct fake_follower {
  bool reader;
  size_t *path; /* indices into known, from the first block to the position */
  size_t n, cap;
} fake_follower;

void fake_chain_init(fake_chain *fc) {
  memset(fc, 0, sizeof *fc);
  cdl_buf_init(&fc->update_state, 0);
}

void fake_chain_free(fake_chain *fc) {
  free(fc->known);
  free(fc->sel);
  cdl_buf_free(&fc->update_state);
  memset(fc, 0, sizeof *fc);
}

size_t fake_chain_add(fake_chain *fc, const uint8_t *bytes, size_t len,
                      const cdl_block_info *info) {
  if (fc->n_known == fc->cap) {
    fc->cap = fc->cap ? 2 * fc->cap : 64;
    fc->known = realloc(fc->known, fc->cap * sizeof *fc->known);
    assert_non_null(fc->known);
  }
  fake_block *b = &fc->known[fc->n_known];
  b->bytes = bytes;
  b->len = len;
  b->info = info ? *info : info_of(bytes, len, 21600);
  return fc->n_known++;
}

void fake_chain_select(fake_chain *fc, const size_t *idx, size_t n) {
  free(fc->sel);
  fc->sel = malloc((n ? n : 1) * sizeof *fc->sel);
  assert_non_null(fc->sel);
  for (size_t i = 0; i < n; i++) assert_true(idx[i] < fc->n_known);
  memcpy(fc->sel, idx, n * sizeof *idx);
  fc->n_sel = n;
  if (fc->immutable > n) fc->immutable = n;
}

static bool same_point(const cdl_block_info *b, const cdl_point *p) {
  return !p->origin && b->slot == p->slot && memcmp(b->hash, p->hash, 32) == 0;
}

static cdl_point point_at(const fake_chain *fc, size_t known_idx) {
  return point_of(&fc->known[known_idx].info);
}

static bool fc_tip(void *ctx, cdl_block_info *tip) {
  fake_chain *fc = ctx;
  if (fc->n_sel == 0) return false;
  *tip = fc->known[fc->sel[fc->n_sel - 1]].info;
  return true;
}

static bool fc_immutable_tip(void *ctx, cdl_block_info *tip) {
  fake_chain *fc = ctx;
  if (fc->immutable == 0) return false;
  *tip = fc->known[fc->sel[fc->immutable - 1]].info;
  return true;
}

static int fc_read_block(void *ctx, const cdl_point *p, cdl_buf *out, cdl_block_info *info,
                         cdl_error *err) {
  fake_chain *fc = ctx;
  fc->reads++;
  for (size_t i = 0; i < fc->n_known; i++) {
    if (!same_point(&fc->known[i].info, p)) continue;
    if (out) cdl_buf_append(out, fc->known[i].bytes, fc->known[i].len);
    if (info) *info = fc->known[i].info;
    return CDL_OK;
  }
  return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "fake chain: no such block");
}

static int fc_find_block_no(void *ctx, uint64_t block_no, cdl_block_info *info,
                            cdl_error *err) {
  fake_chain *fc = ctx;
  for (size_t i = 0; i < fc->n_sel; i++) {
    const cdl_block_info *b = &fc->known[fc->sel[i]].info;
    if (b->block_no == block_no) return *info = *b, CDL_OK;
  }
  return cdl_error_set(err, CDL_E_NOT_FOUND, 0, "fake chain: no block %llu",
                       (unsigned long long)block_no);
}

static int fc_follower_new(void *ctx, bool reader, void **out, cdl_error *err) {
  fake_chain *fc = ctx;
  (void)err;
  fake_follower *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->reader = reader;
  *(reader ? &fc->readers_live : &fc->followers_live) += 1;
  *out = f;
  return CDL_OK;
}

static void fc_follower_del(void *ctx, void *fp) {
  fake_chain *fc = ctx;
  fake_follower *f = fp;
  if (f == NULL) return;
  *(f->reader ? &fc->readers_live : &fc->followers_live) -= 1;
  free(f->path);
  free(f);
}

/* The path becomes the selected chain's first |n| blocks. */
static void take_prefix(fake_chain *fc, fake_follower *f, size_t n) {
  if (n > f->cap) {
    f->cap = n;
    f->path = realloc(f->path, n * sizeof *f->path);
    assert_non_null(f->path);
  }
  memcpy(f->path, fc->sel, n * sizeof *f->path);
  f->n = n;
}

static int fc_follower_intersect(void *ctx, void *fp, const cdl_point *points, size_t n,
                                 cdl_point *found, bool *found_any, cdl_error *err) {
  fake_chain *fc = ctx;
  (void)err;
  *found_any = false;
  for (size_t k = 0; k < n; k++) {
    if (points[k].origin) {
      take_prefix(fc, fp, 0);
      *found = points[k];
      return *found_any = true, CDL_OK;
    }
    for (size_t i = 0; i < fc->n_sel; i++) {
      if (!same_point(&fc->known[fc->sel[i]].info, &points[k])) continue;
      take_prefix(fc, fp, i + 1);
      *found = points[k];
      return *found_any = true, CDL_OK;
    }
  }
  return CDL_OK;
}

static int fc_follower_next(void *ctx, void *fp, cdl_follow_kind *kind, cdl_block_info *info,
                            cdl_point *to, cdl_buf *block, cdl_error *err) {
  fake_chain *fc = ctx;
  fake_follower *f = fp;
  (void)err;
  size_t common = 0;
  while (common < f->n && common < fc->n_sel && f->path[common] == fc->sel[common]) common++;
  if (common < f->n) { /* the selected chain left the path: back to where they part */
    f->n = common;
    *kind = CDL_FOLLOW_BACKWARD;
    *to = common ? point_at(fc, f->path[common - 1]) : (cdl_point){.origin = true};
    return CDL_OK;
  }
  if (f->n == fc->n_sel) return *kind = CDL_FOLLOW_AWAIT, CDL_OK;
  take_prefix(fc, f, f->n + 1);
  const fake_block *b = &fc->known[f->path[f->n - 1]];
  *kind = CDL_FOLLOW_FORWARD;
  *info = b->info;
  if (block) cdl_buf_append(block, b->bytes, b->len);
  return CDL_OK;
}

static int fc_encode_update_state(void *ctx, cdl_buf *out, cdl_error *err) {
  fake_chain *fc = ctx;
  (void)err;
  cdl_buf_append(out, fc->update_state.data, fc->update_state.len);
  return CDL_OK;
}

static const cdl_ledger *fc_ledger(void *ctx) { return ((fake_chain *)ctx)->ledger; }

void fake_chain_iface(fake_chain *fc, cdl_n2n_chain *out) {
  *out = (cdl_n2n_chain){.ctx = fc,
                         .tip = fc_tip,
                         .immutable_tip = fc_immutable_tip,
                         .read_block = fc_read_block,
                         .find_block_no = fc_find_block_no,
                         .follower_new = fc_follower_new,
                         .follower_del = fc_follower_del,
                         .follower_intersect = fc_follower_intersect,
                         .follower_next = fc_follower_next,
                         .encode_update_state = fc_encode_update_state,
                         .ledger = fc_ledger};
}
