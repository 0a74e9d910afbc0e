/*
 * chunk_reader.c: streams the blocks of a chunk file (cardano-node's
 * immutable DB: CBOR-wrapped blocks back to back), plain or zstd-compressed,
 * in batches, with bounded memory: the buffer holds the current batch plus
 * at most one partial block (CDL_CHUNK_MAX_BLOCK).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "cardinal/cbor.h"
#include "cardinal/storage.h"

#define READ_STEP ((size_t)1 << 20)
#define BUFFER_CAP (2 * CDL_CHUNK_MAX_BLOCK + READ_STEP)

struct cdl_chunk_reader {
  FILE *file;
  ZSTD_DStream *zstd;       /* NULL for a plain file */
  uint8_t *in;              /* compressed input */
  ZSTD_inBuffer zin;
  uint8_t *buf;             /* decompressed bytes not yet handed out */
  size_t len, pos;          /* valid bytes, start of the unread part */
  uint64_t base;            /* file offset of buf[0] */
  bool eof;
  uint64_t file_size;
};

static int fail_io(cdl_error *err, const char *what) {
  return cdl_error_set(err, CDL_E_IO, 0, "chunk file: %s", what);
}

int cdl_chunk_reader_open(const char *path, cdl_chunk_reader **out, cdl_error *err) {
  cdl_chunk_reader *r = calloc(1, sizeof *r);
  if (r == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  r->file = fopen(path, "rb");
  r->buf = malloc(BUFFER_CAP);
  if (r->file == NULL || r->buf == NULL) {
    cdl_chunk_reader_close(r);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot open chunk file %s", path);
  }
  struct stat st;
  if (fstat(fileno(r->file), &st) == 0) r->file_size = (uint64_t)st.st_size;
  uint8_t magic[4];
  size_t got = fread(magic, 1, 4, r->file);
  rewind(r->file);
  if (got == 4 && memcmp(magic, "\x28\xb5\x2f\xfd", 4) == 0) {
    r->zstd = ZSTD_createDStream();
    r->in = malloc(ZSTD_DStreamInSize());
    if (r->zstd == NULL || r->in == NULL) {
      cdl_chunk_reader_close(r);
      return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory for zstd");
    }
    ZSTD_initDStream(r->zstd);
    r->zin = (ZSTD_inBuffer){r->in, 0, 0};
  }
  *out = r;
  return CDL_OK;
}

void cdl_chunk_reader_close(cdl_chunk_reader *r) {
  if (r == NULL) return;
  if (r->file) fclose(r->file);
  ZSTD_freeDStream(r->zstd);
  free(r->in);
  free(r->buf);
  free(r);
}

/* Appends up to |want| decompressed bytes to the buffer. */
static int fill_zstd(cdl_chunk_reader *r, size_t want, cdl_error *err) {
  ZSTD_outBuffer zout = {r->buf + r->len, want, 0};
  while (zout.pos < zout.size) {
    if (r->zin.pos == r->zin.size) {
      r->zin.size = fread(r->in, 1, ZSTD_DStreamInSize(), r->file);
      r->zin.pos = 0;
      if (r->zin.size == 0) {
        if (ferror(r->file)) return fail_io(err, "read error");
        r->eof = true;
        break;
      }
    }
    size_t rc = ZSTD_decompressStream(r->zstd, &zout, &r->zin);
    if (ZSTD_isError(rc))
      return cdl_error_set(err, CDL_E_IO, 0, "chunk file: zstd: %s", ZSTD_getErrorName(rc));
  }
  r->len += zout.pos;
  return CDL_OK;
}

/* Moves the unread bytes to the front and reads more behind them. */
static int refill(cdl_chunk_reader *r, cdl_error *err) {
  memmove(r->buf, r->buf + r->pos, r->len - r->pos);
  r->base += r->pos;
  r->len -= r->pos;
  r->pos = 0;
  size_t want = BUFFER_CAP - r->len;
  if (want > READ_STEP) want = READ_STEP;
  if (want == 0 || r->eof) return CDL_OK;
  if (r->zstd != NULL) return fill_zstd(r, want, err);
  size_t got = fread(r->buf + r->len, 1, want, r->file);
  if (got < want) {
    if (ferror(r->file)) return fail_io(err, "read error");
    r->eof = true;
  }
  r->len += got;
  return CDL_OK;
}

/* The length of the complete item at buf[at..]; 0 with *more set when
 * the bytes so far end inside it, 0 alone when they are not CBOR. */
static size_t item_length(const cdl_chunk_reader *r, size_t at, bool *more) {
  cdl_error ignored = {0};
  cdl_cbor_cursor cur;
  cdl_cbor_cursor_init(&cur, r->buf + at, r->len - at, &ignored);
  cdl_span item;
  int rc = cdl_cbor_skip(&cur, &item);
  *more = rc == CDL_E_TRUNCATED;
  return rc == CDL_OK ? item.len : 0;
}

int cdl_chunk_reader_next(cdl_chunk_reader *r, cdl_span *spans, uint64_t *offsets,
                          size_t max, size_t *n, cdl_error *err) {
  *n = 0;
  int rc = refill(r, err); /* the previous batch's bytes are released */
  size_t at = 0;
  while (rc == CDL_OK && *n < max && at < r->len) {
    bool more;
    size_t len = item_length(r, at, &more);
    if (len == 0 && more && !r->eof && r->len - at <= CDL_CHUNK_MAX_BLOCK) {
      if (*n > 0) break; /* hand out what is complete; read more next time */
      rc = refill(r, err);
      continue;
    }
    if (len == 0) len = r->len - at; /* truncated or malformed: let the decoder say */
    if (len > CDL_CHUNK_MAX_BLOCK)
      return cdl_error_set(err, CDL_E_LIMIT, (size_t)(r->base + at),
                           "a block in the chunk exceeds %zu bytes", CDL_CHUNK_MAX_BLOCK);
    spans[*n] = cdl_span_of(r->buf + at, len);
    if (offsets) offsets[*n] = r->base + at;
    (*n)++;
    at += len;
  }
  r->pos = at;
  return rc;
}

uint64_t cdl_chunk_reader_position(const cdl_chunk_reader *r) { return r->base + r->pos; }
uint64_t cdl_chunk_reader_file_size(const cdl_chunk_reader *r) { return r->file_size; }
uint64_t cdl_chunk_reader_file_position(const cdl_chunk_reader *r) {
  long p = ftell(r->file);
  return p < 0 ? 0 : (uint64_t)p;
}
