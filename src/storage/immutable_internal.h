/*
 * immutable_internal.h: the immutable DB's in-memory state and its index
 * entry format (docs/storage.md, "Immutable DB"), shared by immutable.c
 * and immutable_scan.c. Not public API.
 */
#ifndef CARDINAL_STORAGE_IMMUTABLE_INTERNAL_H
#define CARDINAL_STORAGE_IMMUTABLE_INTERNAL_H

#include "cardinal/storage.h"

#define IMM_PATH_MAX 4096
#define IMM_DIR_MAX 4000  /* leaves room for the file names */
#define IMM_INDEX_MAGIC "CDLIDX01"
#define IMM_INDEX_HEADER 16  /* magic, u32 chunk number, u32 CRC of the 12 bytes */
#define IMM_ENTRY_SIZE 112
#define IMM_MAX_CHUNK_NO 99999999u

/* One block of a chunk, as the index records it. */
typedef struct imm_entry {
  uint64_t slot, block_no, offset;
  uint32_t size, header_size, crc;
  uint32_t header_crc;  /* of the header item alone, for header-only reads */
  uint16_t header_offset;
  bool is_ebb;
  bool is_root;         /* not a block: the genesis, which the first block follows */
  uint8_t hash[32], prev_hash[32];
} imm_entry;

typedef struct imm_chunk {
  uint32_t no;
  uint32_t count;
  uint64_t size;        /* bytes of the chunk file covered by entries */
  imm_entry first, last;
  imm_entry *entries;   /* loaded on demand; NULL when not in memory */
  uint64_t used_tick;
} imm_chunk;

struct cdl_immutable {
  cdl_fs *fs;
  char dir[IMM_DIR_MAX];
  cdl_immutable_config cfg;
  imm_chunk *chunks;    /* ascending chunk numbers, none empty */
  size_t n_chunks, cap_chunks;
  size_t cap_tip;       /* capacity of the tip chunk's entries */
  uint64_t blocks, bytes, tick;
  int chunk_handle, index_handle; /* the tip chunk's, open for appends; -1 */
  uint32_t handle_chunk;          /* which chunk they belong to */
  int read_handle;                /* the last chunk read from; -1 */
  uint32_t read_chunk;
  /* Write-behind: appends to the tip chunk not yet written, its bytes and
   * index entries after the first flushed_count entries (flushed_size
   * bytes). Written when they pass IMM_WRITE_BEHIND bytes and before a
   * sync, a truncation, a check or a chunk switch; reads are served from
   * here. A failed write keeps them, to be tried again. */
  cdl_buf pend_chunk, pend_index;
  uint32_t flushed_count;
  uint64_t flushed_size;
  bool unsynced; /* the tip chunk's files or the directory changed since the last sync */
};

#define IMM_WRITE_BEHIND ((size_t)1 << 20)

void imm_chunk_path(const cdl_immutable *im, uint32_t no, const char *ext, char *out);
void imm_entry_encode(const imm_entry *e, uint8_t out[IMM_ENTRY_SIZE]);
/* false when the entry's own CRC does not match. */
bool imm_entry_decode(const uint8_t in[IMM_ENTRY_SIZE], imm_entry *e);
bool imm_entry_equal(const imm_entry *a, const imm_entry *b);
void imm_entry_to_info(const imm_entry *e, cdl_block_info *info);
void imm_index_header(uint32_t no, uint8_t out[IMM_INDEX_HEADER]);

/* The outcome of parsing a chunk file from its start. */
typedef struct imm_scan {
  imm_entry *entries;
  size_t count;
  uint64_t valid_bytes;  /* length of the prefix of whole, good blocks */
  uint64_t file_bytes;
  char problem[200];     /* why the scan stopped early; empty if it did not */
  bool torn;             /* it stopped at a block the file ends inside: a
                            write cut short, not damage, at the chunk's end */
} imm_scan;

/* Parses chunk |no| block by block from byte |from| (where |prev| ends,
 * or 0): each block must decode, belong to this chunk, and follow |prev|
 * (NULL for the first block of the DB). */
int imm_scan_chunk(cdl_immutable *im, uint32_t no, uint64_t from, const imm_entry *prev,
                   imm_scan *scan, cdl_error *err);
/* Reads chunk |no|'s index; *count entries that are well-formed and
 * consistent with each other and |prev|; *clean false when the file held
 * anything else (then it needs rebuilding). A missing file gives 0. */
int imm_index_load(cdl_immutable *im, uint32_t no, const imm_entry *prev, imm_entry **entries,
                   size_t *count, bool *clean, cdl_error *err);
int imm_index_write(cdl_immutable *im, uint32_t no, const imm_entry *entries, size_t count,
                    cdl_error *err);
/* The entries of chunk |ci| (index into im->chunks), through the cache. */
int imm_chunk_entries(cdl_immutable *im, size_t ci, const imm_entry **out, cdl_error *err);
/* Frees the least recently used entries of a chunk other than the tip's
 * when cfg.cached_chunks of them are in memory: room for one more. */
void imm_evict_one(cdl_immutable *im);
/* Nothing pending (see IMM_WRITE_BEHIND and cdl_immutable_flush): the
 * tip chunk is on disk as it is in memory. */
void imm_mark_flushed(cdl_immutable *im);
/* Whether |e| may follow |prev| (NULL: anything may start the DB). */
bool imm_entry_follows(const imm_entry *prev, const imm_entry *e, const char **why);

/* Missing files (immutable_missing.c; docs/storage.md "Missing files"),
 * each CDL_E_MISSING naming the file and what the operator can do:
 * an index file among |indexes| (ascending) whose chunk is not among
 * |chunks| (ascending) and is still gone when looked at again; */
int imm_check_indexes_alone(cdl_immutable *im, const uint32_t *chunks, size_t n_chunks,
                            const uint32_t *indexes, size_t n_indexes, cdl_error *err);
/* chunk |no| found where chunk |expected| was due, whose first block does
 * not follow |prev| (the last block before it, or the genesis; NULL: not
 * checked) across the gap. */
int imm_check_gap(cdl_immutable *im, uint32_t no, uint32_t expected, const imm_entry *prev,
                  cdl_error *err);
/* Before the owner cuts the files back to |keep| (the last block kept;
 * NULL or the genesis root: none): cfg.before_cut, which removes the
 * snapshots that would then prove blocks missing. */
int imm_before_cut(cdl_immutable *im, const imm_entry *keep, cdl_error *err);

#endif /* CARDINAL_STORAGE_IMMUTABLE_INTERNAL_H */
