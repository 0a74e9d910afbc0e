/*
 * cardinal/base.h: errors, always-on assertions, byte spans, growable byte
 * buffers, a bump arena, hex and whole-file reading. The layer every other
 * library stands on (docs/design.md sections 2 and 4).
 */
#ifndef CARDINAL_BASE_H
#define CARDINAL_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Errors ------------------------------------------------------------
 * Functions return 0 or a negative CDL_E* code and may fill a cdl_error.
 * Every code has a stable rule name (cdl_error_name) that tests, logs and
 * the JSON error output use. */
enum {
  CDL_OK = 0,
  CDL_E_NOMEM = -1,       /* allocation failed or a memory bound was hit */
  CDL_E_IO = -2,          /* file or OS failure */
  CDL_E_USAGE = -3,       /* bad argument from a caller or the command line */
  CDL_E_LIMIT = -4,       /* input over a configured size bound */
  CDL_E_NOT_FOUND = -5,   /* what was asked for is not there */
  CDL_E_CBOR = -10,       /* malformed CBOR (reserved values, bad break...) */
  CDL_E_TRUNCATED = -11,  /* input ends inside an item */
  CDL_E_TRAILING = -12,   /* bytes left after the item */
  CDL_E_DEPTH = -13,      /* nesting deeper than the bound */
  CDL_E_TYPE = -14,       /* item of the wrong CBOR type or length */
  CDL_E_LIST_FORM = -15,  /* definite list where indefinite is required, or back */
  CDL_E_MAP_ORDER = -16,  /* map keys not strictly ascending */
  CDL_E_RANGE = -17,      /* integer or length outside the allowed range */
  CDL_E_TAG = -18,        /* unknown or unsupported variant tag */
  CDL_E_NONCANONICAL = -19, /* a head not in its shortest form where the
                               reference requires it (keys, address parts) */
  CDL_E_UTF8 = -26,       /* a text string that is not valid UTF-8 */
  CDL_E_CHECKSUM = -27,   /* stored data fails its checksum or its own
                             structure (damaged on disk) */
  CDL_E_LOCKED = -28,     /* a database another live process owns */
  CDL_E_MISSING = -29,    /* a database file that the rest of the database
                             shows existed is gone (refused, never emptied) */
  CDL_E_HEX = -20,        /* bad hex text */
  CDL_E_BASE58 = -21,     /* bad Base58 text */
  CDL_E_BASE64 = -22,     /* bad Base64 text */
  CDL_E_CRC = -23,        /* address CRC32 mismatch (storage uses CDL_E_CHECKSUM) */
  CDL_E_JSON = -24,       /* bad or non-canonical JSON */
  CDL_E_GENESIS = -25,    /* genesis file content breaks a rule */
  CDL_E_BODY_PROOF = -30, /* header body proof does not match the body */
  CDL_E_SIGNATURE = -31,  /* a signature does not verify */
  CDL_E_CERTIFICATE = -32, /* delegation certificate invalid or mismatched */
  CDL_E_PREV_HASH = -33,   /* block does not follow the previous one */
  CDL_E_PROTOCOL = -50,    /* a peer broke the network protocol */
  CDL_E_TIMEOUT = -51,     /* a peer did not answer within its time limit */
  CDL_E_REFUSED = -52      /* the handshake found no version both sides accept */
};

#define CDL_ERROR_MESSAGE_MAX 200

typedef struct cdl_error {
  int code;       /* CDL_E_*, 0 when unset */
  size_t offset;  /* byte offset in the input where the rule broke */
  char message[CDL_ERROR_MESSAGE_MAX];
} cdl_error;

/* Records code, offset and a printf-style message in |err| (may be NULL)
 * and returns |code|, so callers can write `return cdl_error_set(...)`.
 * A second call does not overwrite the first: the innermost cause wins. */
int cdl_error_set(cdl_error *err, int code, size_t offset, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
void cdl_error_clear(cdl_error *err);
/* Stable dotted rule name for a code, e.g. "cbor.truncated". */
const char *cdl_error_name(int code);

/* Returns |expr|'s code from the enclosing function unless it is CDL_OK:
 * the one way errors travel up (the error itself is already set). */
#define CDL_TRY(expr)              \
  do {                             \
    int rc_ = (expr);              \
    if (rc_ != CDL_OK) return rc_; \
  } while (0)

/* ---- Assertions: for broken invariants only, never for input bytes ---- */
void cdl_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));
#define CDL_ASSERT(e) \
  ((e) ? (void)0 : cdl_assert_fail(#e, __FILE__, __LINE__))

/* ---- Spans and buffers ------------------------------------------------- */

/* A borrowed byte range; never owns memory. */
typedef struct cdl_span {
  const uint8_t *ptr;
  size_t len;
} cdl_span;

static inline cdl_span cdl_span_of(const uint8_t *ptr, size_t len) {
  cdl_span s = {ptr, len};
  return s;
}
bool cdl_span_eq(cdl_span a, cdl_span b);

/* A growable byte buffer with a hard capacity bound. Errors are sticky:
 * after a failed append `failed` is set and later appends do nothing, so
 * an encoder can check once at the end. */
typedef struct cdl_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  size_t max_bytes; /* 0 means the default bound CDL_BUF_DEFAULT_MAX */
  bool failed;
  bool fixed;       /* caller storage: never reallocated or freed */
} cdl_buf;

#define CDL_BUF_DEFAULT_MAX ((size_t)1 << 30)

void cdl_buf_init(cdl_buf *b, size_t max_bytes);
/* A buffer over caller storage of |size| bytes; appends past it fail. */
void cdl_buf_init_fixed(cdl_buf *b, uint8_t *storage, size_t size);
void cdl_buf_free(cdl_buf *b);
void cdl_buf_reset(cdl_buf *b);
/* Room for |extra| more bytes: CDL_E_LIMIT past max_bytes, CDL_E_NOMEM
 * out of memory (or the buffer failed before). A refusal leaves the
 * buffer as it was and usable; a failed append sets |failed|. */
int cdl_buf_reserve(cdl_buf *b, size_t extra);
int cdl_buf_append(cdl_buf *b, const void *data, size_t len);
int cdl_buf_append_byte(cdl_buf *b, uint8_t byte);

/* ---- Large tables ------------------------------------------------------ */

/* For a table of megabytes filled at once (a ledger's UTxO): memory that
 * free() releases, backed by transparent huge pages where the kernel
 * offers them, so that filling it takes a page fault per 2 MiB instead of
 * per 4 KiB (on a virtual machine, the difference between milliseconds and
 * a tenth of a second for a 50 MB table). NULL when out of memory; the
 * bytes are not zeroed. */
void *cdl_alloc_large(size_t size);

/* ---- Arena: bump allocation for one decoded object graph --------------- */

typedef struct cdl_arena_block cdl_arena_block;
typedef struct cdl_arena {
  cdl_arena_block *head;
  size_t used_bytes;  /* total handed out, for the bound */
  size_t max_bytes;   /* allocations fail past this; 0 = CDL_ARENA_DEFAULT_MAX */
} cdl_arena;

#define CDL_ARENA_DEFAULT_MAX ((size_t)256 << 20)

void cdl_arena_init(cdl_arena *a, size_t max_bytes);
/* Zeroed, 16-byte aligned memory valid until cdl_arena_reset/free; NULL on
 * failure or when the bound is reached. A size of 0 gives a pointer to no
 * bytes that is never NULL and costs no memory. */
void *cdl_arena_alloc(cdl_arena *a, size_t size);
/* Allocates count * size bytes with an overflow check. */
void *cdl_arena_calloc(cdl_arena *a, size_t count, size_t size);
void cdl_arena_reset(cdl_arena *a); /* keeps the first block for reuse */
void cdl_arena_free(cdl_arena *a);

/* ---- Hex ----------------------------------------------------------------- */

/* Writes 2*len lower-case hex chars and a NUL into out (size >= 2*len+1). */
void cdl_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes hex text (either case, no separators) into out. */
int cdl_hex_decode(const char *text, size_t text_len, uint8_t *out,
                   size_t out_cap, size_t *out_len, cdl_error *err);
/* True when text (ignoring ASCII whitespace) is non-empty, even-length hex. */
bool cdl_hex_is_text(const uint8_t *data, size_t len);
/* Decodes hex text skipping ASCII whitespace into a new buffer. */
int cdl_hex_decode_loose(const uint8_t *text, size_t len, cdl_buf *out,
                         cdl_error *err);

/* ---- Files ------------------------------------------------------------- */

/* Reads a whole file (at most max_bytes) into out. */
int cdl_file_read_all(const char *path, size_t max_bytes, cdl_buf *out,
                      cdl_error *err);

#endif /* CARDINAL_BASE_H */
