/*
 * canonical_json.c: the canonical JSON of the Haskell canonical-json
 * package (Text.JSON.Canonical), which the Byron genesis hash is taken
 * over (docs/byron.md section 2.4: hash = Blake2b-256 of the rendering).
 *
 * Parser rules, as the reference's:
 *   - strings are bytes: no UTF-8 check; the only escapes are \" and \\;
 *   - numbers are integers of at most 15 digits, no leading zeros, no -0,
 *     no fraction or exponent;
 *   - whitespace is space, \t, \n, \v, \f, \r and the byte 0xA0;
 *   - duplicate keys are kept (a stable sort keeps their order; look-ups
 *     take the first);
 *   - bytes after the top-level value are ignored, as the reference does,
 *     so that we hash every file cardano-node hashes.
 * Rendering: no whitespace, object keys sorted by their bytes, strings
 * escaping only " and \.
 * Parsing and rendering are iterative with a bounded depth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CJSON_MAX_DEPTH 64
#define CJSON_MAX_DIGITS 15

typedef struct member {
  cdl_span key;
  cdl_cjson *value;
  struct member *next;
} member;

typedef struct {
  cdl_cjson *node;
  member *head, *tail;
  size_t count;
  cdl_span pending_key;
} frame;

typedef struct {
  const uint8_t *text;
  size_t len, pos;
  cdl_arena *arena;
  cdl_error *err;
} parser;

static int fail(parser *p, const char *what) {
  return cdl_error_set(p->err, CDL_E_JSON, p->pos, "canonical JSON: %s at byte %zu",
                       what, p->pos);
}

static void skip_ws(parser *p) {
  while (p->pos < p->len) {
    uint8_t c = p->text[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' &&
        c != 0xa0)
      return;
    p->pos++;
  }
}

static cdl_cjson *new_node(parser *p, uint8_t type) {
  cdl_cjson *n = cdl_arena_alloc(p->arena, sizeof *n);
  if (n != NULL) n->type = type;
  return n;
}

/* A string at p->pos (the opening quote); decoded bytes in *out. */
static int parse_string(parser *p, cdl_span *out) {
  size_t start = ++p->pos, escapes = 0;
  while (p->pos < p->len && p->text[p->pos] != '"') {
    if (p->text[p->pos] == '\\') {
      if (p->pos + 1 >= p->len) break;
      uint8_t e = p->text[p->pos + 1];
      if (e != '"' && e != '\\') return fail(p, "escape other than \\\" or \\\\");
      escapes++;
      p->pos++;
    }
    p->pos++;
  }
  if (p->pos >= p->len) return fail(p, "unterminated string");
  size_t raw_len = p->pos - start;
  p->pos++;
  if (escapes == 0) {
    *out = cdl_span_of(p->text + start, raw_len);
    return CDL_OK;
  }
  uint8_t *dst = cdl_arena_alloc(p->arena, raw_len - escapes + 1);
  if (dst == NULL) return cdl_error_set(p->err, CDL_E_NOMEM, p->pos, "JSON too large");
  size_t n = 0;
  for (size_t i = start; i < start + raw_len; i++) {
    if (p->text[i] == '\\') i++;
    dst[n++] = p->text[i];
  }
  *out = cdl_span_of(dst, n);
  return CDL_OK;
}

static int parse_number(parser *p, int64_t *out) {
  bool negative = p->text[p->pos] == '-';
  if (negative) p->pos++;
  size_t start = p->pos;
  while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9') p->pos++;
  size_t digits = p->pos - start;
  if (digits == 0) return fail(p, "expected a digit");
  if (p->text[start] == '0' && (digits > 1 || negative))
    return fail(p, "number with a leading zero, or -0");
  if (digits > CJSON_MAX_DIGITS) return fail(p, "integer with more than 15 digits");
  int64_t v = 0;
  for (size_t i = start; i < p->pos; i++) v = v * 10 + (p->text[i] - '0');
  *out = negative ? -v : v;
  return CDL_OK;
}

static bool take_literal(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) return false;
  p->pos += n;
  return true;
}

static int parse_scalar(parser *p, cdl_cjson **out) {
  if (p->pos >= p->len) return fail(p, "input ends where a value should start");
  uint8_t c = p->text[p->pos];
  cdl_cjson *n = new_node(p, CDL_CJSON_NULL);
  if (n == NULL) return cdl_error_set(p->err, CDL_E_NOMEM, p->pos, "JSON too large");
  *out = n;
  if (c == '"') {
    n->type = CDL_CJSON_STRING;
    return parse_string(p, &n->string);
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    n->type = CDL_CJSON_INT;
    return parse_number(p, &n->integer);
  }
  if (take_literal(p, "true")) n->type = CDL_CJSON_TRUE;
  else if (take_literal(p, "false")) n->type = CDL_CJSON_FALSE;
  else if (!take_literal(p, "null")) return fail(p, "unexpected character");
  return CDL_OK;
}

static int compare_keys(cdl_span a, cdl_span b) {
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
  if (c != 0) return c;
  return a.len < b.len ? -1 : a.len > b.len;
}

typedef struct {
  cdl_span key;
  cdl_cjson *value;
  size_t index;
} sort_item;

static int compare_items(const void *a, const void *b) {
  const sort_item *x = a, *y = b;
  int c = compare_keys(x->key, y->key);
  if (c != 0) return c;
  return x->index < y->index ? -1 : x->index > y->index; /* stable */
}

/* Turns a frame's member list into the node's arrays (objects sorted). */
static int close_frame(parser *p, frame *f) {
  cdl_cjson *n = f->node;
  n->count = f->count;
  n->items = cdl_arena_calloc(p->arena, f->count, sizeof *n->items);
  n->keys = cdl_arena_calloc(p->arena, f->count, sizeof *n->keys);
  sort_item *tmp = malloc((f->count ? f->count : 1) * sizeof *tmp);
  if ((f->count && (n->items == NULL || n->keys == NULL)) || tmp == NULL) {
    free(tmp);
    return cdl_error_set(p->err, CDL_E_NOMEM, p->pos, "JSON too large");
  }
  size_t i = 0;
  for (member *m = f->head; m != NULL; m = m->next, i++) tmp[i] = (sort_item){m->key, m->value, i};
  if (n->type == CDL_CJSON_OBJECT) qsort(tmp, f->count, sizeof *tmp, compare_items);
  for (i = 0; i < f->count; i++) {
    n->keys[i] = tmp[i].key;
    n->items[i] = tmp[i].value;
  }
  free(tmp);
  return CDL_OK;
}

static int read_key(parser *p, frame *f) {
  skip_ws(p);
  if (p->pos >= p->len || p->text[p->pos] != '"') return fail(p, "expected an object key");
  CDL_TRY(parse_string(p, &f->pending_key));
  skip_ws(p);
  if (p->pos >= p->len || p->text[p->pos] != ':') return fail(p, "expected ':'");
  p->pos++;
  return CDL_OK;
}

static int append(parser *p, frame *f, cdl_cjson *value) {
  member *m = cdl_arena_alloc(p->arena, sizeof *m);
  if (m == NULL) return cdl_error_set(p->err, CDL_E_NOMEM, p->pos, "JSON too large");
  m->key = f->pending_key;
  m->value = value;
  if (f->tail) f->tail->next = m;
  else f->head = m;
  f->tail = m;
  f->count++;
  return CDL_OK;
}

/* Opens an object or array; returns 1 if it was empty and already closed. */
static int open_container(parser *p, frame *stack, size_t *depth, cdl_cjson **value) {
  uint8_t c = p->text[p->pos];
  if (*depth >= CJSON_MAX_DEPTH) return fail(p, "nesting deeper than 64");
  cdl_cjson *n = new_node(p, c == '{' ? CDL_CJSON_OBJECT : CDL_CJSON_ARRAY);
  if (n == NULL) return cdl_error_set(p->err, CDL_E_NOMEM, p->pos, "JSON too large");
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->text[p->pos] == (c == '{' ? '}' : ']')) {
    p->pos++;
    *value = n;
    return 1;
  }
  frame *f = &stack[(*depth)++];
  *f = (frame){n, NULL, NULL, 0, {NULL, 0}};
  if (n->type == CDL_CJSON_OBJECT) CDL_TRY(read_key(p, f));
  return CDL_OK;
}

int cdl_cjson_parse(const uint8_t *text, size_t len, cdl_arena *arena,
                    cdl_cjson **out, cdl_error *err) {
  parser p = {text, len, 0, arena, err};
  frame stack[CJSON_MAX_DEPTH];
  size_t depth = 0;
  cdl_cjson *value = NULL;
  for (;;) {
    skip_ws(&p);
    if (value == NULL) { /* expecting a value */
      if (p.pos < p.len && (text[p.pos] == '{' || text[p.pos] == '[')) {
        int rc = open_container(&p, stack, &depth, &value);
        if (rc < 0) return rc;
        continue;
      }
      CDL_TRY(parse_scalar(&p, &value));
      continue;
    }
    if (depth == 0) break; /* trailing bytes are ignored, as by the reference */
    frame *f = &stack[depth - 1];
    CDL_TRY(append(&p, f, value));
    value = NULL;
    skip_ws(&p);
    uint8_t close = f->node->type == CDL_CJSON_OBJECT ? '}' : ']';
    if (p.pos < p.len && text[p.pos] == ',') {
      p.pos++;
      if (f->node->type == CDL_CJSON_OBJECT) CDL_TRY(read_key(&p, f));
    } else if (p.pos < p.len && text[p.pos] == close) {
      p.pos++;
      CDL_TRY(close_frame(&p, f));
      value = f->node;
      depth--;
    } else {
      return fail(&p, "expected ',' or the end of the container");
    }
  }
  *out = value;
  return CDL_OK;
}

/* ---- Rendering ---- */

static void render_string(cdl_buf *b, cdl_span s) {
  cdl_buf_append_byte(b, '"');
  size_t run = 0;
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] != '"' && s.ptr[i] != '\\') continue;
    cdl_buf_append(b, s.ptr + run, i - run);
    cdl_buf_append_byte(b, '\\');
    run = i;
  }
  cdl_buf_append(b, s.ptr + run, s.len - run);
  cdl_buf_append_byte(b, '"');
}

static void render_scalar(cdl_buf *b, const cdl_cjson *v) {
  char num[24];
  switch (v->type) {
    case CDL_CJSON_NULL: cdl_buf_append(b, "null", 4); break;
    case CDL_CJSON_TRUE: cdl_buf_append(b, "true", 4); break;
    case CDL_CJSON_FALSE: cdl_buf_append(b, "false", 5); break;
    case CDL_CJSON_STRING: render_string(b, v->string); break;
    default: {
      int n = snprintf(num, sizeof num, "%lld", (long long)v->integer);
      cdl_buf_append(b, num, (size_t)n);
    }
  }
}

int cdl_cjson_render(const cdl_cjson *root, cdl_buf *b) {
  struct { const cdl_cjson *node; size_t next; } stack[CJSON_MAX_DEPTH + 1];
  size_t depth = 0;
  const cdl_cjson *v = root;
  for (;;) {
    if (v != NULL) {
      bool container = v->type == CDL_CJSON_OBJECT || v->type == CDL_CJSON_ARRAY;
      if (!container) {
        render_scalar(b, v);
      } else {
        CDL_ASSERT(depth <= CJSON_MAX_DEPTH); /* the parser bounds depth */
        cdl_buf_append_byte(b, v->type == CDL_CJSON_OBJECT ? '{' : '[');
        stack[depth].node = v;
        stack[depth++].next = 0;
      }
      v = NULL;
    }
    if (depth == 0) break;
    const cdl_cjson *top = stack[depth - 1].node;
    size_t i = stack[depth - 1].next++;
    if (i == top->count) {
      cdl_buf_append_byte(b, top->type == CDL_CJSON_OBJECT ? '}' : ']');
      depth--;
      continue;
    }
    if (i > 0) cdl_buf_append_byte(b, ',');
    if (top->type == CDL_CJSON_OBJECT) {
      render_string(b, top->keys[i]);
      cdl_buf_append_byte(b, ':');
    }
    v = top->items[i];
  }
  return b->failed ? CDL_E_NOMEM : CDL_OK;
}

const cdl_cjson *cdl_cjson_get(const cdl_cjson *obj, const char *key) {
  if (obj == NULL || obj->type != CDL_CJSON_OBJECT) return NULL;
  cdl_span k = cdl_span_of((const uint8_t *)key, strlen(key));
  for (size_t i = 0; i < obj->count; i++) {
    if (compare_keys(obj->keys[i], k) == 0) return obj->items[i];
  }
  return NULL;
}
