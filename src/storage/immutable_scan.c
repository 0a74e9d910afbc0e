/*
 * immutable_scan.c: the immutable DB's files (docs/storage.md): the index
 * entry codec, reading and writing `NNNNN.cidx`, and parsing a chunk file
 * block by block, which is how an index is rebuilt and how damage is found.
 * Everything read here is treated as hostile: entries are checked against
 * their own CRC, against each other and against the chunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/byron.h"
#include "cardinal/cbor.h"
#include "cardinal/crypto.h"
#include "immutable_internal.h"

#define SCAN_WINDOW ((size_t)8 << 20)

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint32_t crc(const uint8_t *p, size_t n) { return cdl_crc32(p, n); }

void imm_chunk_path(const cdl_immutable *im, uint32_t no, const char *ext, char *out) {
  snprintf(out, IMM_PATH_MAX, "%s/%05u.%s", im->dir, no, ext);
}

/* slot, block_no, offset, size, header_size, crc, header_offset, flags,
 * reserved, hash, prev_hash, header CRC, entry CRC (docs/storage.md). */
void imm_entry_encode(const imm_entry *e, uint8_t out[IMM_ENTRY_SIZE]) {
  memset(out, 0, IMM_ENTRY_SIZE);
  put64(out, e->slot);
  put64(out + 8, e->block_no);
  put64(out + 16, e->offset);
  put32(out + 24, e->size);
  put32(out + 28, e->header_size);
  put32(out + 32, e->crc);
  out[36] = (uint8_t)e->header_offset;
  out[37] = (uint8_t)(e->header_offset >> 8);
  out[38] = e->is_ebb ? 1 : 0;
  memcpy(out + 40, e->hash, 32);
  memcpy(out + 72, e->prev_hash, 32);
  put32(out + 104, e->header_crc);
  put32(out + 108, crc(out, 108));
}

bool imm_entry_decode(const uint8_t in[IMM_ENTRY_SIZE], imm_entry *e) {
  if (get32(in + 108) != crc(in, 108) || in[38] > 1 || in[39] != 0) return false;
  e->slot = get64(in);
  e->block_no = get64(in + 8);
  e->offset = get64(in + 16);
  e->size = get32(in + 24);
  e->header_size = get32(in + 28);
  e->crc = get32(in + 32);
  e->header_offset = (uint16_t)(in[36] | (in[37] << 8));
  e->is_ebb = in[38] == 1;
  e->is_root = false;
  memcpy(e->hash, in + 40, 32);
  memcpy(e->prev_hash, in + 72, 32);
  e->header_crc = get32(in + 104);
  return e->size > 0 && e->size <= CDL_CHUNK_MAX_BLOCK &&
         (uint64_t)e->header_offset + e->header_size <= e->size;
}

/* By their encodings: the structs have padding. */
bool imm_entry_equal(const imm_entry *a, const imm_entry *b) {
  uint8_t x[IMM_ENTRY_SIZE], y[IMM_ENTRY_SIZE];
  imm_entry_encode(a, x);
  imm_entry_encode(b, y);
  return memcmp(x, y, IMM_ENTRY_SIZE) == 0;
}

void imm_entry_to_info(const imm_entry *e, cdl_block_info *info) {
  memcpy(info->hash, e->hash, 32);
  memcpy(info->prev_hash, e->prev_hash, 32);
  info->slot = e->slot;
  info->block_no = e->block_no;
  info->is_ebb = e->is_ebb;
  info->size = e->size;
  info->header_offset = e->header_offset;
  info->header_size = e->header_size;
}

void imm_index_header(uint32_t no, uint8_t out[IMM_INDEX_HEADER]) {
  memcpy(out, IMM_INDEX_MAGIC, 8);
  put32(out + 8, no);
  put32(out + 12, crc(out, 12));
}

/* Byron's order: the previous hash links, slots never go back, block
 * numbers go up by one except that an EBB repeats the number before it. */
bool imm_entry_follows(const imm_entry *prev, const imm_entry *e, const char **why) {
  if (prev == NULL) return true;
  if (memcmp(e->prev_hash, prev->hash, 32) != 0) return *why = "previous hash does not link", false;
  if (prev->is_root) return true; /* the genesis: only the link counts */
  if (e->slot < prev->slot) return *why = "slot goes back", false;
  /* An EBB repeats the number of the main block before it; after an EBB
   * (an epoch without main blocks) the number goes up again. */
  uint64_t want = e->is_ebb && !prev->is_ebb ? prev->block_no : prev->block_no + 1;
  if (e->block_no != want) return *why = "block number out of sequence", false;
  if (e->slot == prev->slot && !(prev->is_ebb && !e->is_ebb))
    return *why = "slot repeated", false;
  return true;
}

static bool entry_in_chunk(const cdl_immutable *im, uint32_t no, const imm_entry *e,
                           uint64_t expect_offset) {
  return e->offset == expect_offset && e->slot / im->cfg.epoch_slots == no;
}

int imm_index_load(cdl_immutable *im, uint32_t no, const imm_entry *prev, imm_entry **entries,
                   size_t *count, bool *clean, cdl_error *err) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "cidx", path);
  *entries = NULL;
  *count = 0;
  *clean = false;
  if (!im->fs->ops->exists(im->fs, path)) return CDL_OK;
  cdl_fs_view raw; /* mapped: an index is read once, so not copied */
  int rc = cdl_fs_view_file(im->fs, path, (size_t)1 << 30, &raw, err);
  if (rc != CDL_OK) {
    cdl_fs_view_free(&raw);
    return rc;
  }
  uint8_t want[IMM_INDEX_HEADER];
  imm_index_header(no, want);
  size_t n = raw.len >= IMM_INDEX_HEADER ? (raw.len - IMM_INDEX_HEADER) / IMM_ENTRY_SIZE : 0;
  bool header_ok = raw.len >= IMM_INDEX_HEADER && memcmp(raw.data, want, IMM_INDEX_HEADER) == 0;
  imm_entry *out = n && header_ok ? malloc(n * sizeof *out) : NULL;
  if (n && header_ok && out == NULL) {
    cdl_fs_view_free(&raw);
    return cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for index %s", path);
  }
  size_t good = 0;
  uint64_t offset = 0;
  const char *why;
  for (size_t i = 0; header_ok && i < n; i++) {
    imm_entry *e = &out[good];
    if (!imm_entry_decode(raw.data + IMM_INDEX_HEADER + i * IMM_ENTRY_SIZE, e)) break;
    if (!entry_in_chunk(im, no, e, offset) || !imm_entry_follows(good ? &out[good - 1] : prev, e, &why))
      break;
    offset += e->size;
    good++;
  }
  *clean = header_ok && good == n && raw.len == IMM_INDEX_HEADER + n * IMM_ENTRY_SIZE;
  *entries = out;
  *count = good;
  cdl_fs_view_free(&raw);
  return CDL_OK;
}

int imm_index_write(cdl_immutable *im, uint32_t no, const imm_entry *entries, size_t count,
                    cdl_error *err) {
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "cidx", path);
  size_t len = IMM_INDEX_HEADER + count * IMM_ENTRY_SIZE;
  uint8_t *buf = malloc(len);
  if (buf == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "no memory for index %s", path);
  imm_index_header(no, buf);
  for (size_t i = 0; i < count; i++)
    imm_entry_encode(&entries[i], buf + IMM_INDEX_HEADER + i * IMM_ENTRY_SIZE);
  int rc = cdl_fs_write_file_atomic(im->fs, im->dir, path, buf, len, err);
  free(buf);
  return rc;
}

/* ---- Parsing a chunk ---------------------------------------------------- */

typedef struct scanner {
  cdl_immutable *im;
  int handle;
  uint8_t *buf;
  size_t len, pos;     /* bytes in buf, start of the unparsed part */
  uint64_t base;       /* file offset of buf[0] */
  uint64_t file_bytes;
  size_t cap;          /* of buf */
  cdl_arena arena;     /* the block being judged */
} scanner;

static int scanner_fill(scanner *s, cdl_error *err) {
  memmove(s->buf, s->buf + s->pos, s->len - s->pos);
  s->base += s->pos;
  s->len -= s->pos;
  s->pos = 0;
  uint64_t at = s->base + s->len;
  size_t want = s->cap - s->len;
  if (at + want > s->file_bytes) want = (size_t)(s->file_bytes - at);
  if (want == 0) return CDL_OK;
  int rc = cdl_fs_read_exact(s->im->fs, s->handle, s->buf + s->len, want, at, err);
  if (rc == CDL_OK) s->len += want;
  return rc;
}

static int push_entry(imm_scan *scan, size_t *cap, const imm_entry *e) {
  if (scan->count == *cap) {
    size_t ncap = *cap ? 2 * *cap : 1024;
    imm_entry *grown = realloc(scan->entries, ncap * sizeof *grown);
    if (grown == NULL) return CDL_E_NOMEM;
    scan->entries = grown;
    *cap = ncap;
  }
  scan->entries[scan->count++] = *e;
  return CDL_OK;
}

/* Decodes a block and checks its body against the header's proofs, so
 * that damage to a body (which leaves the hash unchanged) is found too. */
static bool decode_checked(scanner *s, cdl_span item, cdl_block_info *info, cdl_error *err) {
  cdl_arena_reset(&s->arena);
  cdl_byron_ctx ctx = {.arena = &s->arena, .err = err, .flags = 0};
  cdl_byron_block blk;
  return cdl_byron_block_decode(item.ptr, item.len, &ctx, &blk) == CDL_OK &&
         cdl_block_info_of(&blk, item.ptr, item.len, s->im->cfg.epoch_slots, info, err) ==
             CDL_OK &&
         cdl_byron_block_check_body_proof(&blk, CDL_BYRON_PROOFS_LEDGER, &s->arena, err) ==
             CDL_OK;
}

/* Judges the item at the scanner's position; false with |problem| set
 * when it is not a good next block. */
static bool judge_item(scanner *s, uint32_t no, const imm_entry *prev, imm_entry *e,
                       char *problem, bool *torn) {
  cdl_error ignored = {0}, derr = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, s->buf + s->pos, s->len - s->pos, &ignored);
  cdl_span item;
  uint64_t at = s->base + s->pos;
  int skipped = cdl_cbor_skip(&cur, &item);
  if (skipped != CDL_OK) {
    /* The window holds the rest of the file whenever a block could reach
     * its end, so an item cut short here is cut short in the file. */
    *torn = skipped == CDL_E_TRUNCATED && s->base + s->len == s->file_bytes;
    snprintf(problem, 200, "chunk %05u: %s block at offset %llu", no,
             *torn ? "torn" : "malformed", (unsigned long long)at);
    return false;
  }
  cdl_block_info info;
  if (!decode_checked(s, item, &info, &derr)) {
    snprintf(problem, 200, "chunk %05u: block at offset %llu: %.120s", no,
             (unsigned long long)at, derr.message);
    return false;
  }
  *e = (imm_entry){.slot = info.slot, .block_no = info.block_no, .offset = at,
                   .size = info.size, .header_size = info.header_size,
                   .crc = crc(item.ptr, item.len),
                   .header_crc = crc(item.ptr + info.header_offset, info.header_size),
                   .header_offset = (uint16_t)info.header_offset, .is_ebb = info.is_ebb};
  memcpy(e->hash, info.hash, 32);
  memcpy(e->prev_hash, info.prev_hash, 32);
  const char *why = "";
  if (e->slot / s->im->cfg.epoch_slots != no) why = "block belongs to another chunk";
  if (info.header_offset > UINT16_MAX) why = "header offset out of range";
  if (*why == '\0' && imm_entry_follows(prev, e, &why)) return true;
  snprintf(problem, 200, "chunk %05u: block at offset %llu: %s", no, (unsigned long long)at, why);
  return false;
}

static int scan_items(scanner *s, uint32_t no, const imm_entry *prev, imm_scan *scan,
                      cdl_error *err) {
  size_t cap = 0;
  for (;;) {
    if (s->len - s->pos < CDL_CHUNK_MAX_BLOCK && s->base + s->len < s->file_bytes) {
      int rc = scanner_fill(s, err);
      if (rc != CDL_OK) return rc;
    }
    if (s->pos == s->len) return CDL_OK;
    imm_entry e;
    if (!judge_item(s, no, scan->count ? &scan->entries[scan->count - 1] : prev, &e,
                    scan->problem, &scan->torn))
      return CDL_OK;
    if (push_entry(scan, &cap, &e) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "no memory scanning chunk %05u", no);
    s->pos += e.size;
    scan->valid_bytes = s->base + s->pos;
  }
}

int imm_scan_chunk(cdl_immutable *im, uint32_t no, uint64_t from, const imm_entry *prev,
                   imm_scan *scan, cdl_error *err) {
  memset(scan, 0, sizeof *scan);
  char path[IMM_PATH_MAX];
  imm_chunk_path(im, no, "chunk", path);
  scanner s = {.im = im, .base = from};
  cdl_arena_init(&s.arena, 0);
  int rc = cdl_fs_open(im->fs, path, CDL_FS_READ, &s.handle, err);
  if (rc != CDL_OK) return rc;
  rc = im->fs->ops->size(im->fs, s.handle, &s.file_bytes, err);
  if (rc == CDL_OK && from > s.file_bytes) from = s.base = s.file_bytes;
  scan->valid_bytes = from;
  /* A small chunk needs no more than its own size. */
  uint64_t rest = rc == CDL_OK && s.file_bytes > from ? s.file_bytes - from : 0;
  s.cap = rest < SCAN_WINDOW + CDL_CHUNK_MAX_BLOCK ? (size_t)rest + 1
                                                 : SCAN_WINDOW + CDL_CHUNK_MAX_BLOCK;
  s.buf = malloc(s.cap);
  if (rc == CDL_OK && s.buf == NULL)
    rc = cdl_error_set(err, CDL_E_NOMEM, 0, "no memory scanning chunk %05u", no);
  if (rc == CDL_OK) rc = scan_items(&s, no, prev, scan, err);
  scan->file_bytes = s.file_bytes;
  cdl_arena_free(&s.arena);
  free(s.buf);
  cdl_fs_close(im->fs, s.handle);
  if (rc != CDL_OK) {
    free(scan->entries);
    scan->entries = NULL;
    scan->count = 0;
  }
  return rc;
}
