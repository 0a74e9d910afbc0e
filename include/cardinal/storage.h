/*
 * cardinal/storage.h: on-disk block storage (docs/design.md section 2).
 * So far: a streaming reader of chunk files, the immutable-DB format of
 * cardano-node (wrapped blocks back to back), plain or zstd-compressed.
 */
#ifndef CARDINAL_STORAGE_H
#define CARDINAL_STORAGE_H

#include <stdio.h>

#include "cardinal/base.h"

/* No single block in a chunk may exceed this (Byron blocks are at most
 * 2,000,000 bytes; the bound keeps a hostile file from claiming memory). */
#define CDL_CHUNK_MAX_BLOCK ((size_t)4 << 20)

typedef struct cdl_chunk_reader cdl_chunk_reader;

/* Opens a chunk file; zstd frames (magic 28 b5 2f fd) are decompressed as
 * they are read. */
int cdl_chunk_reader_open(const char *path, cdl_chunk_reader **out, cdl_error *err);
void cdl_chunk_reader_close(cdl_chunk_reader *r);

/* Up to |max| next blocks (complete CBOR items) into spans; the spans stay
 * valid until the next call. *n == 0 means the end of the file. Bytes at
 * the end that do not form a complete item are returned as a last span
 * (its decoder reports the truncation). offsets[i] (may be NULL) receives
 * each block's offset in the (decompressed) file. */
int cdl_chunk_reader_next(cdl_chunk_reader *r, cdl_span *spans, uint64_t *offsets,
                          size_t max, size_t *n, cdl_error *err);

/* Bytes consumed so far and the file's size on disk (for progress). */
uint64_t cdl_chunk_reader_position(const cdl_chunk_reader *r);
uint64_t cdl_chunk_reader_file_size(const cdl_chunk_reader *r);
uint64_t cdl_chunk_reader_file_position(const cdl_chunk_reader *r);

#endif /* CARDINAL_STORAGE_H */
