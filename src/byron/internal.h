/*
 * internal.h: helpers shared by the Byron codec files (not public API).
 */
#ifndef CARDINAL_BYRON_INTERNAL_H
#define CARDINAL_BYRON_INTERNAL_H

#include "cardinal/byron.h"
#include "cardinal/crypto.h"

/* Allocates count items of type T from the context's arena or fails the
 * decode with CDL_E_NOMEM. */
#define BYRON_ALLOC(ctx, cur, ptr, count)                                   \
  do {                                                                      \
    (ptr) = cdl_arena_calloc((ctx)->arena, (count), sizeof *(ptr));         \
    if ((ptr) == NULL && (count) > 0)                                       \
      return cdl_cbor_fail((cur), CDL_E_NOMEM, "decoder memory bound reached"); \
  } while (0)

/* Attribute maps (section 1.7), in the three forms the reference reads:
 * ORDERED (Attributes: u8 keys strictly ascending, byte-string values) for
 * txs and addresses; EMPTY (dropEmptyAttributes) for header, block-extra
 * and proposal attributes; UNORDERED (dropAttributes: no order check) for
 * EBBs. */
typedef enum { ATTRS_ORDERED, ATTRS_EMPTY, ATTRS_UNORDERED } attrs_form;
int byron_attrs_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, attrs_form form,
                     cdl_byron_attrs *attrs, const char *what);

/* Reads one list item into |item| (an element of the array being filled). */
typedef int (*byron_item_reader)(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item);

/* A Haskell list as Byron encodes it: indefinite (9f ... ff), items read by
 * |read| into a new arena array of |item_size| elements. |raw| (may be
 * NULL) receives the list's bytes; |nonempty| rejects an empty list. */
int byron_read_list(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, byron_item_reader read,
                    size_t item_size, bool nonempty, void **items, size_t *count,
                    cdl_span *raw, const char *what);

/* A byron_item_reader for byte strings (item: a cdl_span). */
int byron_read_bytes_item(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx, void *item);

/* An indefinite list of byte strings (SSC shares and proofs). */
int byron_bytes_list_read(cdl_cbor_cursor *cur, cdl_byron_ctx *ctx,
                          cdl_byron_bytes_list *list, const char *what);
void byron_bytes_list_encode(cdl_buf *b, const cdl_byron_bytes_list *list);

/* An arena array that grows as items are decoded, so memory follows the
 * items actually present, never a length an input merely claims. */
typedef struct byron_vec {
  uint8_t *items;
  size_t count, cap, item_size;
} byron_vec;

/* A zeroed new last element, or NULL when the arena bound is reached. */
void *byron_vec_push(cdl_arena *arena, byron_vec *v);

/* [major, minor, alt] and [appName, number]. */
int byron_version_read(cdl_cbor_cursor *cur, cdl_byron_version *v);
int byron_software_version_read(cdl_cbor_cursor *cur,
                                cdl_byron_software_version *sv);
void byron_software_version_encode(cdl_buf *b,
                                   const cdl_byron_software_version *sv);

/* A 64-byte verification key (XPub). The reference reads keys with
 * decodeBytesCanonical, because key hashes are taken over their encoding. */
int byron_read_xpub(cdl_cbor_cursor *cur, const uint8_t **key, const char *what);

/* A uint that must fit the given width, as Haskell's decodeWordN does. */
int byron_read_u32(cdl_cbor_cursor *cur, uint32_t *out, const char *what);
int byron_read_u16(cdl_cbor_cursor *cur, uint16_t *out, const char *what);
int byron_read_u8(cdl_cbor_cursor *cur, uint8_t *out, const char *what);

/* Blake2b-256, answering the few constant encodings every block carries
 * (empty payloads and proofs) from a table instead of hashing them. */
void byron_hash(const uint8_t *data, size_t len, uint8_t out[32]);

/* CBOR Integers (integer.c). */
int byron_integer_read(cdl_cbor_cursor *cur, cdl_byron_integer *n, const char *what);
void byron_integer_encode(cdl_buf *b, const cdl_byron_integer *n);
/* The reference's decode-time rule for the fee policy's summand. */
bool byron_fee_summand_ok(const cdl_byron_integer *n);

/* Hash of a main header or EBB header: H(82 tag || header bytes). */
void byron_header_hash(uint8_t tag, cdl_span header_raw, uint8_t out[32]);

#endif /* CARDINAL_BYRON_INTERNAL_H */
