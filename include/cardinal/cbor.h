/*
 * cardinal/cbor.h: a CBOR cursor that keeps exact byte spans, and an
 * encoder, both over libcbor (RFC 8949; Byron's use of it in docs/byron.md
 * section 1.11).
 *
 * The cursor reads one item head at a time with libcbor's streaming
 * decoder, so every item's original bytes are known: decoders hash and
 * verify those bytes, never a re-encoding. Skipping a whole item is
 * iterative with a bounded depth; nothing here recurses on input.
 */
#ifndef CARDINAL_CBOR_H
#define CARDINAL_CBOR_H

#include "cardinal/base.h"

/* Major types, as on the wire, plus a pseudo-type for the break byte. */
typedef enum cdl_cbor_major {
  CDL_CBOR_UINT = 0,
  CDL_CBOR_NEGINT = 1,
  CDL_CBOR_BYTES = 2,
  CDL_CBOR_TEXT = 3,
  CDL_CBOR_ARRAY = 4,
  CDL_CBOR_MAP = 5,
  CDL_CBOR_TAG = 6,
  CDL_CBOR_SIMPLE = 7, /* false, true, null, undefined, floats */
  CDL_CBOR_BREAK = 8
} cdl_cbor_major;

/* Simple values reported in cdl_cbor_head.value for CDL_CBOR_SIMPLE. */
enum {
  CDL_CBOR_FALSE = 20,
  CDL_CBOR_TRUE = 21,
  CDL_CBOR_NULL = 22,
  CDL_CBOR_UNDEFINED = 23,
  CDL_CBOR_FLOAT = 25 /* any float width; Byron never uses floats */
};

typedef struct cdl_cbor_head {
  cdl_cbor_major major;
  bool indefinite;      /* arrays, maps and strings of unknown length */
  uint64_t value;       /* int argument, length, tag number or simple value */
  const uint8_t *data;  /* payload of a definite byte/text string */
  size_t size;          /* bytes of the head (strings: head + payload) */
} cdl_cbor_head;

#define CDL_CBOR_DEFAULT_MAX_DEPTH 64

typedef struct cdl_cbor_cursor {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  size_t base_offset;  /* offset of buf inside the outermost input */
  unsigned max_depth;  /* bound for skip(); nested typed readers are bounded
                          by the code that calls them */
  cdl_error *err;
} cdl_cbor_cursor;

void cdl_cbor_cursor_init(cdl_cbor_cursor *cur, const uint8_t *buf,
                          size_t len, cdl_error *err);
/* A cursor over the payload of a tag-24 byte string found inside |outer|,
 * whose error offsets stay relative to the outermost input. */
void cdl_cbor_cursor_sub(cdl_cbor_cursor *inner, const cdl_cbor_cursor *outer,
                         cdl_span payload);

static inline size_t cdl_cbor_remaining(const cdl_cbor_cursor *cur) {
  return cur->len - cur->pos;
}
static inline size_t cdl_cbor_offset(const cdl_cbor_cursor *cur) {
  return cur->base_offset + cur->pos;
}
/* The bytes from |start| (a previous cur->pos) up to the current position. */
static inline cdl_span cdl_cbor_span_since(const cdl_cbor_cursor *cur,
                                           size_t start) {
  return cdl_span_of(cur->buf + start, cur->pos - start);
}

/* Records a decoding error at the cursor position and returns |code|. */
int cdl_cbor_fail(cdl_cbor_cursor *cur, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads the head at the cursor without moving it / and moves past it. */
int cdl_cbor_peek(cdl_cbor_cursor *cur, cdl_cbor_head *head);
int cdl_cbor_next(cdl_cbor_cursor *cur, cdl_cbor_head *head);
/* Moves past one complete item (any nesting up to max_depth, definite or
 * indefinite) and reports its exact bytes in |span| (may be NULL). */
int cdl_cbor_skip(cdl_cbor_cursor *cur, cdl_span *span);
/* Fails with CDL_E_TRAILING unless the cursor is at the end. */
int cdl_cbor_expect_end(cdl_cbor_cursor *cur, const char *what);

/* ---- Typed readers. |what| names the field in error messages. ---- */
int cdl_cbor_read_uint(cdl_cbor_cursor *cur, uint64_t *out, const char *what);
/* A uint no larger than |max|, else CDL_E_RANGE. */
int cdl_cbor_read_uint_max(cdl_cbor_cursor *cur, uint64_t max, uint64_t *out,
                           const char *what);
/* Any integer that fits int64_t. */
int cdl_cbor_read_int64(cdl_cbor_cursor *cur, int64_t *out, const char *what);
/* A definite byte string; an indefinite one is a CDL_E_TYPE error, as in
 * the reference decoder. */
int cdl_cbor_read_bytes(cdl_cbor_cursor *cur, cdl_span *out, const char *what);
/* The same, requiring the shortest head (cborg's decodeBytesCanonical):
 * CDL_E_NONCANONICAL otherwise. */
int cdl_cbor_read_bytes_canonical(cdl_cbor_cursor *cur, cdl_span *out,
                                  const char *what);
/* A uint no larger than |max| in its shortest head (decodeWordNCanonical). */
int cdl_cbor_read_uint_canonical(cdl_cbor_cursor *cur, uint64_t max,
                                 uint64_t *out, const char *what);
/* True when |head| uses the fewest bytes its value allows. */
bool cdl_cbor_head_is_shortest(const cdl_cbor_head *head);
/* A definite byte string of exactly |len| bytes. */
int cdl_cbor_read_bytes_fixed(cdl_cbor_cursor *cur, size_t len,
                              const uint8_t **out, const char *what);
/* A definite text string holding valid UTF-8 (cborg's decodeString checks
 * it); CDL_E_UTF8 otherwise. */
int cdl_cbor_read_text(cdl_cbor_cursor *cur, cdl_span *out, const char *what);
int cdl_cbor_read_bool(cdl_cbor_cursor *cur, bool *out, const char *what);
/* Tag with exactly this number. */
int cdl_cbor_read_tag(cdl_cbor_cursor *cur, uint64_t tag, const char *what);
/* Tag 24 wrapping a definite byte string: returns the payload span. */
int cdl_cbor_read_tag24(cdl_cbor_cursor *cur, cdl_span *payload,
                        const char *what);

/* Definite array; its length in *n. Indefinite: CDL_E_LIST_FORM. */
int cdl_cbor_read_array(cdl_cbor_cursor *cur, size_t *n, const char *what);
/* Definite array of exactly n items. */
int cdl_cbor_expect_array(cdl_cbor_cursor *cur, size_t n, const char *what);
/* Indefinite array start (9f). Definite: CDL_E_LIST_FORM. */
int cdl_cbor_read_indef_array(cdl_cbor_cursor *cur, const char *what);
/* Definite or indefinite array: *indefinite says which; *n is the length
 * of a definite one. */
int cdl_cbor_read_array_any(cdl_cbor_cursor *cur, size_t *n, bool *indefinite,
                            const char *what);
/* Definite map; *n pairs. */
int cdl_cbor_read_map(cdl_cbor_cursor *cur, size_t *n, const char *what);
/* True when the next byte is a break (ff). Never fails. */
bool cdl_cbor_at_break(const cdl_cbor_cursor *cur);
int cdl_cbor_read_break(cdl_cbor_cursor *cur, const char *what);

/* ---- Encoder ------------------------------------------------------------
 * Appends items to a cdl_buf. Errors are sticky in the buffer
 * (buf->failed); check once at the end with cdl_cbor_enc_status. */
void cdl_cbor_enc_uint(cdl_buf *b, uint64_t v);
void cdl_cbor_enc_int(cdl_buf *b, int64_t v);
/* The negative integer -1 - arg (covers down to -2^64). */
void cdl_cbor_enc_negint(cdl_buf *b, uint64_t arg);
void cdl_cbor_enc_bytes(cdl_buf *b, const uint8_t *data, size_t len);
void cdl_cbor_enc_text(cdl_buf *b, const uint8_t *data, size_t len);
void cdl_cbor_enc_array(cdl_buf *b, size_t n);
void cdl_cbor_enc_indef_array(cdl_buf *b);
void cdl_cbor_enc_map(cdl_buf *b, size_t n);
void cdl_cbor_enc_break(cdl_buf *b);
void cdl_cbor_enc_tag(cdl_buf *b, uint64_t tag);
void cdl_cbor_enc_bool(cdl_buf *b, bool v);
/* Appends already-encoded CBOR bytes unchanged. */
void cdl_cbor_enc_raw(cdl_buf *b, cdl_span raw);
/* Makes the bytes appended since offset |start| a CBOR byte string, in
 * place (its head goes before them): how an item is wrapped in
 * #6.24(bstr) without a buffer of its own. Returns the offset where those
 * bytes now start. */
size_t cdl_cbor_enc_wrap_bytes(cdl_buf *b, size_t start);
int cdl_cbor_enc_status(const cdl_buf *b);

#endif /* CARDINAL_CBOR_H */
