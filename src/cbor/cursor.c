/*
 * cursor.c: the CBOR cursor (RFC 8949 section 3) over libcbor's streaming
 * decoder. libcbor decodes one head per call and tells how many bytes it
 * used; the cursor turns that into typed reads that keep exact spans.
 */
#include <stdio.h>

#include <cbor.h>

#include "cardinal/cbor.h"

/* ---- libcbor callbacks: each fills the head being decoded ---- */

static void set_uint(void *ctx, uint64_t v) {
  cdl_cbor_head *h = ctx;
  h->major = CDL_CBOR_UINT;
  h->value = v;
}
static void on_uint8(void *ctx, uint8_t v) { set_uint(ctx, v); }
static void on_uint16(void *ctx, uint16_t v) { set_uint(ctx, v); }
static void on_uint32(void *ctx, uint32_t v) { set_uint(ctx, v); }
static void on_uint64(void *ctx, uint64_t v) { set_uint(ctx, v); }

static void set_negint(void *ctx, uint64_t v) {
  cdl_cbor_head *h = ctx;
  h->major = CDL_CBOR_NEGINT;
  h->value = v;
}
static void on_negint8(void *ctx, uint8_t v) { set_negint(ctx, v); }
static void on_negint16(void *ctx, uint16_t v) { set_negint(ctx, v); }
static void on_negint32(void *ctx, uint32_t v) { set_negint(ctx, v); }
static void on_negint64(void *ctx, uint64_t v) { set_negint(ctx, v); }

static void set_string(void *ctx, cdl_cbor_major major, cbor_data data,
                       size_t len) {
  cdl_cbor_head *h = ctx;
  h->major = major;
  h->data = data;
  h->value = len;
}
static void on_bytes(void *ctx, cbor_data d, size_t n) { set_string(ctx, CDL_CBOR_BYTES, d, n); }
static void on_text(void *ctx, cbor_data d, size_t n) { set_string(ctx, CDL_CBOR_TEXT, d, n); }

static void set_indef(void *ctx, cdl_cbor_major major) {
  cdl_cbor_head *h = ctx;
  h->major = major;
  h->indefinite = true;
}
static void on_bytes_indef(void *ctx) { set_indef(ctx, CDL_CBOR_BYTES); }
static void on_text_indef(void *ctx) { set_indef(ctx, CDL_CBOR_TEXT); }
static void on_array_indef(void *ctx) { set_indef(ctx, CDL_CBOR_ARRAY); }
static void on_map_indef(void *ctx) { set_indef(ctx, CDL_CBOR_MAP); }

static void set_count(void *ctx, cdl_cbor_major major, uint64_t n) {
  cdl_cbor_head *h = ctx;
  h->major = major;
  h->value = n;
}
static void on_array(void *ctx, size_t n) { set_count(ctx, CDL_CBOR_ARRAY, n); }
static void on_map(void *ctx, size_t n) { set_count(ctx, CDL_CBOR_MAP, n); }
static void on_tag(void *ctx, uint64_t t) { set_count(ctx, CDL_CBOR_TAG, t); }

static void set_simple(void *ctx, uint64_t v) {
  cdl_cbor_head *h = ctx;
  h->major = CDL_CBOR_SIMPLE;
  h->value = v;
}
static void on_float(void *ctx, float f) {
  (void)f;
  set_simple(ctx, CDL_CBOR_FLOAT);
}
static void on_double(void *ctx, double f) {
  (void)f;
  set_simple(ctx, CDL_CBOR_FLOAT);
}
static void on_undefined(void *ctx) { set_simple(ctx, CDL_CBOR_UNDEFINED); }
static void on_null(void *ctx) { set_simple(ctx, CDL_CBOR_NULL); }
static void on_bool(void *ctx, bool b) { set_simple(ctx, b ? CDL_CBOR_TRUE : CDL_CBOR_FALSE); }
static void on_break(void *ctx) { ((cdl_cbor_head *)ctx)->major = CDL_CBOR_BREAK; }

static const struct cbor_callbacks HEAD_CALLBACKS = {
    .uint8 = on_uint8, .uint16 = on_uint16, .uint32 = on_uint32,
    .uint64 = on_uint64, .negint8 = on_negint8, .negint16 = on_negint16,
    .negint32 = on_negint32, .negint64 = on_negint64,
    .byte_string_start = on_bytes_indef, .byte_string = on_bytes,
    .string = on_text, .string_start = on_text_indef,
    .indef_array_start = on_array_indef, .array_start = on_array,
    .indef_map_start = on_map_indef, .map_start = on_map, .tag = on_tag,
    .float2 = on_float, .float4 = on_float, .float8 = on_double,
    .undefined = on_undefined, .null = on_null, .boolean = on_bool,
    .indef_break = on_break,
};

/* ---- Cursor ---- */

void cdl_cbor_cursor_init(cdl_cbor_cursor *cur, const uint8_t *buf,
                          size_t len, cdl_error *err) {
  cur->buf = buf;
  cur->len = len;
  cur->pos = 0;
  cur->base_offset = 0;
  cur->max_depth = CDL_CBOR_DEFAULT_MAX_DEPTH;
  cur->err = err;
}

void cdl_cbor_cursor_sub(cdl_cbor_cursor *inner, const cdl_cbor_cursor *outer,
                         cdl_span payload) {
  cdl_cbor_cursor_init(inner, payload.ptr, payload.len, outer->err);
  inner->base_offset = outer->base_offset + (size_t)(payload.ptr - outer->buf);
  inner->max_depth = outer->max_depth;
}

int cdl_cbor_fail(cdl_cbor_cursor *cur, int code, const char *fmt, ...) {
  char msg[CDL_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return cdl_error_set(cur->err, code, cdl_cbor_offset(cur), "%s", msg);
}

/* libcbor 0.8 refuses some heads that RFC 8949 calls well-formed: tags 6-20
 * in their one-byte form (0xc6-0xd4) and simple values 0-19 or given in a
 * following byte (0xe0-0xf3, 0xf8 xx with xx >= 32). The reference decoder
 * (cborg) reads them, and Byron sets accept any tag, so we decode them
 * here. Returns true when |head| was filled. */
static bool peek_libcbor_gap(const cdl_cbor_cursor *cur, cdl_cbor_head *head) {
  uint8_t b = cur->buf[cur->pos];
  if (b >= 0xc6 && b <= 0xd4) {
    head->major = CDL_CBOR_TAG;
    head->value = b - 0xc0u;
    head->size = 1;
    return true;
  }
  if (b >= 0xe0 && b <= 0xf3) {
    head->major = CDL_CBOR_SIMPLE;
    head->value = b - 0xe0u;
    head->size = 1;
    return true;
  }
  if (b == 0xf8 && cur->len - cur->pos >= 2 && cur->buf[cur->pos + 1] >= 32) {
    head->major = CDL_CBOR_SIMPLE;
    head->value = cur->buf[cur->pos + 1];
    head->size = 2;
    return true;
  }
  return false;
}

int cdl_cbor_peek(cdl_cbor_cursor *cur, cdl_cbor_head *head) {
  if (cur->pos >= cur->len)
    return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "input ends where an item should start");
  head->indefinite = false;
  head->data = NULL;
  head->value = 0;
  struct cbor_decoder_result r = cbor_stream_decode(
      cur->buf + cur->pos, cur->len - cur->pos, &HEAD_CALLBACKS, head);
  if (r.status == CBOR_DECODER_NEDATA)
    return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "input ends inside an item (%zu more bytes needed)",
                         r.required);
  if (r.status != CBOR_DECODER_FINISHED) {
    if (peek_libcbor_gap(cur, head)) return CDL_OK;
    if (cur->buf[cur->pos] == 0xf8 && cur->len - cur->pos < 2)
      return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "input ends inside an item (1 more byte needed)");
    return cdl_cbor_fail(cur, CDL_E_CBOR, "malformed CBOR head 0x%02x",
                         cur->buf[cur->pos]);
  }
  head->size = r.read;
  return CDL_OK;
}

int cdl_cbor_next(cdl_cbor_cursor *cur, cdl_cbor_head *head) {
  int rc = cdl_cbor_peek(cur, head);
  if (rc == CDL_OK) cur->pos += head->size;
  return rc;
}

int cdl_cbor_expect_end(cdl_cbor_cursor *cur, const char *what) {
  if (cur->pos == cur->len) return CDL_OK;
  return cdl_cbor_fail(cur, CDL_E_TRAILING, "%zu bytes after the end of %s",
                       cur->len - cur->pos, what);
}

/* ---- Skipping a whole item without recursion ---- */

enum { LEVEL_COUNT, LEVEL_INDEF_ARRAY, LEVEL_INDEF_MAP, LEVEL_STRING };

typedef struct {
  uint64_t remaining;  /* COUNT: items left; INDEF_MAP: items seen */
  uint8_t kind;
  uint8_t string_major;
} skip_level;

/* Opens the container that |h| starts, if any. */
static int skip_push(cdl_cbor_cursor *cur, skip_level *stack, unsigned *depth,
                     unsigned limit, const cdl_cbor_head *h) {
  skip_level lv = {0, LEVEL_COUNT, 0};
  switch (h->major) {
    case CDL_CBOR_ARRAY:
    case CDL_CBOR_MAP:
      if (h->indefinite) {
        lv.kind = h->major == CDL_CBOR_MAP ? LEVEL_INDEF_MAP : LEVEL_INDEF_ARRAY;
      } else {
        if (h->major == CDL_CBOR_MAP && h->value > UINT64_MAX / 2)
          return cdl_cbor_fail(cur, CDL_E_RANGE, "map length overflows");
        lv.remaining = h->major == CDL_CBOR_MAP ? 2 * h->value : h->value;
        if (lv.remaining == 0) return CDL_OK;
      }
      break;
    case CDL_CBOR_TAG: lv.remaining = 1; break;
    case CDL_CBOR_BYTES:
    case CDL_CBOR_TEXT:
      if (!h->indefinite) return CDL_OK;
      lv.kind = LEVEL_STRING;
      lv.string_major = (uint8_t)h->major;
      break;
    default: return CDL_OK;
  }
  if (*depth >= limit)
    return cdl_cbor_fail(cur, CDL_E_DEPTH, "nesting deeper than %u", limit - 1);
  stack[(*depth)++] = lv;
  return CDL_OK;
}

/* Handles a break byte: it must close an indefinite level. */
static int skip_break(cdl_cbor_cursor *cur, skip_level *top) {
  if (top->kind == LEVEL_COUNT)
    return cdl_cbor_fail(cur, CDL_E_CBOR, "break outside an indefinite item");
  if (top->kind == LEVEL_INDEF_MAP && top->remaining % 2 != 0)
    return cdl_cbor_fail(cur, CDL_E_CBOR, "indefinite map ends after a key");
  return CDL_OK;
}

int cdl_cbor_skip(cdl_cbor_cursor *cur, cdl_span *span) {
  skip_level stack[CDL_CBOR_DEFAULT_MAX_DEPTH + 1];
  unsigned max = cur->max_depth < CDL_CBOR_DEFAULT_MAX_DEPTH ? cur->max_depth
                                                             : CDL_CBOR_DEFAULT_MAX_DEPTH;
  unsigned limit = max + 1; /* stack[0] is the virtual root, not nesting */
  size_t start = cur->pos;
  unsigned depth = 1;
  stack[0] = (skip_level){1, LEVEL_COUNT, 0};
  int rc = CDL_OK;
  while (depth > 0 && rc == CDL_OK) {
    skip_level *top = &stack[depth - 1];
    if (top->kind == LEVEL_COUNT && top->remaining == 0) {
      depth--;
      continue;
    }
    cdl_cbor_head h;
    if ((rc = cdl_cbor_next(cur, &h)) != CDL_OK) break;
    if (h.major == CDL_CBOR_BREAK) {
      if ((rc = skip_break(cur, top)) == CDL_OK) depth--;
      continue;
    }
    if (top->kind == LEVEL_STRING) {
      if (h.major != top->string_major || h.indefinite)
        rc = cdl_cbor_fail(cur, CDL_E_CBOR, "bad chunk in an indefinite string");
      continue;
    }
    if (top->kind == LEVEL_COUNT) top->remaining--;
    else top->remaining++;
    rc = skip_push(cur, stack, &depth, limit, &h);
  }
  if (rc != CDL_OK) return rc;
  if (span) *span = cdl_cbor_span_since(cur, start);
  return CDL_OK;
}

/* ---- Typed readers ---- */

static const char *major_name(cdl_cbor_major m) {
  static const char *names[] = {"uint", "negative int", "byte string",
                                "text string", "array", "map", "tag",
                                "simple value", "break"};
  return names[m];
}

static int read_major(cdl_cbor_cursor *cur, cdl_cbor_head *h,
                      cdl_cbor_major want, const char *what) {
  size_t at = cur->pos;
  int rc = cdl_cbor_next(cur, h);
  if (rc != CDL_OK) return rc;
  if (h->major != want) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected %s, found %s", what,
                         major_name(want), major_name(h->major));
  }
  return CDL_OK;
}

int cdl_cbor_read_uint(cdl_cbor_cursor *cur, uint64_t *out, const char *what) {
  cdl_cbor_head h;
  int rc = read_major(cur, &h, CDL_CBOR_UINT, what);
  if (rc == CDL_OK) *out = h.value;
  return rc;
}

int cdl_cbor_read_uint_max(cdl_cbor_cursor *cur, uint64_t max, uint64_t *out,
                           const char *what) {
  size_t at = cur->pos;
  int rc = cdl_cbor_read_uint(cur, out, what);
  if (rc != CDL_OK) return rc;
  if (*out > max) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_RANGE, "%s: %llu is larger than %llu", what,
                         (unsigned long long)*out, (unsigned long long)max);
  }
  return CDL_OK;
}

int cdl_cbor_read_int64(cdl_cbor_cursor *cur, int64_t *out, const char *what) {
  size_t at = cur->pos;
  cdl_cbor_head h;
  int rc = cdl_cbor_next(cur, &h);
  if (rc != CDL_OK) return rc;
  if ((h.major != CDL_CBOR_UINT && h.major != CDL_CBOR_NEGINT) ||
      h.value > (uint64_t)INT64_MAX) {
    cur->pos = at;
    return cdl_cbor_fail(cur, h.major <= CDL_CBOR_NEGINT ? CDL_E_RANGE : CDL_E_TYPE,
                         "%s: expected a 64-bit signed integer", what);
  }
  *out = h.major == CDL_CBOR_UINT ? (int64_t)h.value : -1 - (int64_t)h.value;
  return CDL_OK;
}

static int read_string(cdl_cbor_cursor *cur, cdl_cbor_major major,
                       cdl_span *out, const char *what) {
  cdl_cbor_head h;
  int rc = read_major(cur, &h, major, what);
  if (rc != CDL_OK) return rc;
  if (h.indefinite) {
    cur->pos -= h.size;
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: indefinite-length %s not allowed",
                         what, major_name(major));
  }
  *out = cdl_span_of(h.data, (size_t)h.value);
  return CDL_OK;
}

int cdl_cbor_read_bytes(cdl_cbor_cursor *cur, cdl_span *out, const char *what) {
  return read_string(cur, CDL_CBOR_BYTES, out, what);
}

bool cdl_cbor_head_is_shortest(const cdl_cbor_head *h) {
  uint64_t v = h->value;
  size_t head = h->size;
  if (!h->indefinite && (h->major == CDL_CBOR_BYTES || h->major == CDL_CBOR_TEXT))
    head = h->size - (size_t)h->value;
  if (h->indefinite || h->major == CDL_CBOR_SIMPLE || h->major == CDL_CBOR_BREAK)
    return true;
  size_t shortest = v < 24 ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 : v <= UINT32_MAX ? 5 : 9;
  return head == shortest;
}

static int reject_noncanonical(cdl_cbor_cursor *cur, size_t at, const char *what) {
  cur->pos = at;
  return cdl_cbor_fail(cur, CDL_E_NONCANONICAL, "%s: not in its shortest encoding", what);
}

int cdl_cbor_read_bytes_canonical(cdl_cbor_cursor *cur, cdl_span *out,
                                  const char *what) {
  size_t at = cur->pos;
  cdl_cbor_head h;
  int rc = cdl_cbor_peek(cur, &h);
  if (rc == CDL_OK) rc = cdl_cbor_read_bytes(cur, out, what);
  if (rc == CDL_OK && !cdl_cbor_head_is_shortest(&h)) return reject_noncanonical(cur, at, what);
  return rc;
}

int cdl_cbor_read_uint_canonical(cdl_cbor_cursor *cur, uint64_t max,
                                 uint64_t *out, const char *what) {
  size_t at = cur->pos;
  cdl_cbor_head h;
  int rc = cdl_cbor_peek(cur, &h);
  if (rc == CDL_OK) rc = cdl_cbor_read_uint_max(cur, max, out, what);
  if (rc == CDL_OK && !cdl_cbor_head_is_shortest(&h)) return reject_noncanonical(cur, at, what);
  return rc;
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, at most U+10FFFF. */
static bool valid_utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (extra == 9 || extra > n - i - 1) return false;
    uint32_t cp = extra == 0 ? c : c & (0x3fu >> extra);
    for (size_t k = 1; k <= extra; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

int cdl_cbor_read_text(cdl_cbor_cursor *cur, cdl_span *out, const char *what) {
  size_t at = cur->pos;
  int rc = read_string(cur, CDL_CBOR_TEXT, out, what);
  if (rc == CDL_OK && !valid_utf8(out->ptr, out->len)) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_UTF8, "%s: not valid UTF-8", what);
  }
  return rc;
}

int cdl_cbor_read_bytes_fixed(cdl_cbor_cursor *cur, size_t len,
                              const uint8_t **out, const char *what) {
  size_t at = cur->pos;
  cdl_span s = {NULL, 0};
  int rc = cdl_cbor_read_bytes(cur, &s, what);
  if (rc != CDL_OK) return rc;
  if (s.len != len) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_RANGE, "%s: expected %zu bytes, found %zu",
                         what, len, s.len);
  }
  *out = s.ptr;
  return CDL_OK;
}

int cdl_cbor_read_bool(cdl_cbor_cursor *cur, bool *out, const char *what) {
  cdl_cbor_head h;
  int rc = read_major(cur, &h, CDL_CBOR_SIMPLE, what);
  if (rc != CDL_OK) return rc;
  if (h.value != CDL_CBOR_TRUE && h.value != CDL_CBOR_FALSE) {
    cur->pos -= h.size;
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected a bool", what);
  }
  *out = h.value == CDL_CBOR_TRUE;
  return CDL_OK;
}

int cdl_cbor_read_tag(cdl_cbor_cursor *cur, uint64_t tag, const char *what) {
  cdl_cbor_head h;
  int rc = read_major(cur, &h, CDL_CBOR_TAG, what);
  if (rc != CDL_OK) return rc;
  if (h.value != tag) {
    cur->pos -= h.size;
    return cdl_cbor_fail(cur, CDL_E_TAG, "%s: expected tag %llu, found %llu",
                         what, (unsigned long long)tag, (unsigned long long)h.value);
  }
  return CDL_OK;
}

int cdl_cbor_read_tag24(cdl_cbor_cursor *cur, cdl_span *payload,
                        const char *what) {
  int rc = cdl_cbor_read_tag(cur, 24, what);
  if (rc != CDL_OK) return rc;
  return cdl_cbor_read_bytes(cur, payload, what);
}

/* A container length as size_t (it cannot exceed the input on any
 * platform, but a claimed 2^64-1 must not wrap on 32-bit ones). */
static int container_length(cdl_cbor_cursor *cur, const cdl_cbor_head *h,
                            size_t *n, const char *what) {
  if (h->value > SIZE_MAX) {
    cur->pos -= h->size;
    return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "%s: length longer than any input", what);
  }
  *n = (size_t)h->value;
  return CDL_OK;
}

int cdl_cbor_read_array_any(cdl_cbor_cursor *cur, size_t *n, bool *indefinite,
                            const char *what) {
  cdl_cbor_head h;
  int rc = read_major(cur, &h, CDL_CBOR_ARRAY, what);
  if (rc != CDL_OK) return rc;
  *indefinite = h.indefinite;
  *n = 0;
  return h.indefinite ? CDL_OK : container_length(cur, &h, n, what);
}

int cdl_cbor_read_array(cdl_cbor_cursor *cur, size_t *n, const char *what) {
  bool indefinite = false;
  int rc = cdl_cbor_read_array_any(cur, n, &indefinite, what);
  if (rc != CDL_OK) return rc;
  if (indefinite) {
    cur->pos -= 1;
    return cdl_cbor_fail(cur, CDL_E_LIST_FORM,
                         "%s: indefinite array where a definite one is required", what);
  }
  return CDL_OK;
}

int cdl_cbor_expect_array(cdl_cbor_cursor *cur, size_t n, const char *what) {
  size_t at = cur->pos, got;
  int rc = cdl_cbor_read_array(cur, &got, what);
  if (rc != CDL_OK) return rc;
  if (got != n) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected an array of %zu, found %zu",
                         what, n, got);
  }
  return CDL_OK;
}

int cdl_cbor_read_indef_array(cdl_cbor_cursor *cur, const char *what) {
  size_t at = cur->pos, n;
  bool indefinite = false;
  int rc = cdl_cbor_read_array_any(cur, &n, &indefinite, what);
  if (rc != CDL_OK) return rc;
  if (!indefinite) {
    cur->pos = at;
    return cdl_cbor_fail(cur, CDL_E_LIST_FORM,
                         "%s: definite array where an indefinite one is required", what);
  }
  return CDL_OK;
}

int cdl_cbor_read_map(cdl_cbor_cursor *cur, size_t *n, const char *what) {
  cdl_cbor_head h;
  int rc = read_major(cur, &h, CDL_CBOR_MAP, what);
  if (rc != CDL_OK) return rc;
  if (h.indefinite) {
    cur->pos -= h.size;
    return cdl_cbor_fail(cur, CDL_E_LIST_FORM,
                         "%s: indefinite map where a definite one is required", what);
  }
  return container_length(cur, &h, n, what);
}

bool cdl_cbor_at_break(const cdl_cbor_cursor *cur) {
  return cur->pos < cur->len && cur->buf[cur->pos] == 0xff;
}

int cdl_cbor_read_break(cdl_cbor_cursor *cur, const char *what) {
  if (cdl_cbor_at_break(cur)) {
    cur->pos++;
    return CDL_OK;
  }
  if (cur->pos >= cur->len)
    return cdl_cbor_fail(cur, CDL_E_TRUNCATED, "%s: input ends before the break", what);
  return cdl_cbor_fail(cur, CDL_E_TYPE, "%s: expected the end of the list", what);
}
