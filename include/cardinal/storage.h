/*
 * cardinal/storage.h: on-disk block storage (docs/design.md section 2 and
 * docs/storage.md): a streaming reader of chunk files (cardano-node's
 * immutable-DB format: wrapped blocks back to back, plain or zstd), the
 * file interface every storage file goes through, the immutable DB, the
 * volatile DB, ledger snapshot files and the ChainDB that joins them.
 */
#ifndef CARDINAL_STORAGE_H
#define CARDINAL_STORAGE_H

#include <stdatomic.h>
#include <stdio.h>

#include "cardinal/base.h"
#include "cardinal/ledger.h"

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

/* ---- File interface (docs/design.md section 3) --------------------------
 * Every storage file operation goes through a cdl_fs so that tests and the
 * simulator can inject faults and so that open handles are counted and
 * bounded: past |max_open| an open fails with CDL_E_LIMIT, and EMFILE or
 * ENFILE from the OS is CDL_E_IO naming the cause; neither leaks anything.
 * Files are small integer handles. Paths are plain POSIX paths. */
enum {
  CDL_FS_READ = 0,          /* read only */
  CDL_FS_WRITE = 1u << 0,   /* read and write */
  CDL_FS_CREATE = 1u << 1,  /* create when missing (mode 0644) */
  CDL_FS_TRUNC = 1u << 2    /* empty it on open */
};

typedef struct cdl_fs cdl_fs;
typedef struct cdl_fs_ops {
  int (*open)(cdl_fs *fs, const char *path, unsigned flags, int *handle, cdl_error *err);
  void (*close)(cdl_fs *fs, int handle);
  /* Reads up to |len| bytes at |offset|; *got < len only at the end. */
  int (*read_at)(cdl_fs *fs, int handle, void *buf, size_t len, uint64_t offset,
                 size_t *got, cdl_error *err);
  /* Writes all |len| bytes at |offset|. */
  int (*write_at)(cdl_fs *fs, int handle, const void *buf, size_t len, uint64_t offset,
                  cdl_error *err);
  int (*size)(cdl_fs *fs, int handle, uint64_t *size, cdl_error *err);
  int (*sync)(cdl_fs *fs, int handle, cdl_error *err);
  int (*truncate)(cdl_fs *fs, int handle, uint64_t size, cdl_error *err);
  int (*rename)(cdl_fs *fs, const char *from, const char *to, cdl_error *err);
  /* Removing a missing file is not an error. */
  int (*remove)(cdl_fs *fs, const char *path, cdl_error *err);
  int (*mkdir)(cdl_fs *fs, const char *path, cdl_error *err); /* existing is fine */
  int (*sync_dir)(cdl_fs *fs, const char *path, cdl_error *err);
  /* Calls |fn| with each entry name of |dir| (not . or ..); a non-zero
   * return from |fn| stops the walk and is returned. */
  int (*list)(cdl_fs *fs, const char *dir, int (*fn)(void *ctx, const char *name),
              void *ctx, cdl_error *err);
  bool (*exists)(cdl_fs *fs, const char *path);
  /* Optional (NULL: whole files are read instead): maps |len| bytes of an
   * open file read-only; the mapping outlives the handle. A file must not
   * shrink while mapped, which holds for the files mapped here: they are
   * written once to a temporary name and renamed into place. */
  int (*map)(cdl_fs *fs, int handle, size_t len, const void **addr, cdl_error *err);
  void (*unmap)(cdl_fs *fs, const void *addr, size_t len);
  /* Optional (NULL: a file system without owners, nothing is locked):
   * takes the exclusive lock file |path| for the life of the process or
   * until unlock, writing the process's id in it. A lock another live
   * process holds is CDL_E_LOCKED naming that process; the lock dies with
   * its process, so a crash leaves none behind. A process that takes a lock
   * it already holds shares it (counted). */
  int (*lock)(cdl_fs *fs, const char *path, int *token, cdl_error *err);
  void (*unlock)(cdl_fs *fs, int token);
} cdl_fs_ops;

struct cdl_fs {
  const cdl_fs_ops *ops;
  void *impl;
  size_t open_files;   /* handles open now */
  size_t max_open;     /* bound on open_files; 0 = CDL_FS_DEFAULT_MAX_OPEN */
};

#define CDL_FS_DEFAULT_MAX_OPEN 64

/* The real file system. */
void cdl_fs_posix_init(cdl_fs *fs, size_t max_open);

/* Wrappers that keep the handle count (use these, not ops directly). */
int cdl_fs_open(cdl_fs *fs, const char *path, unsigned flags, int *handle, cdl_error *err);
void cdl_fs_close(cdl_fs *fs, int handle);
/* Reads exactly |len| bytes at |offset|; a short file is CDL_E_TRUNCATED. */
int cdl_fs_read_exact(cdl_fs *fs, int handle, void *buf, size_t len, uint64_t offset,
                      cdl_error *err);
/* Reads a whole file of at most |max_bytes| into |out|. */
int cdl_fs_read_file(cdl_fs *fs, const char *path, size_t max_bytes, cdl_buf *out,
                     cdl_error *err);
/* A whole file's bytes, mapped where the file system can (no copy, no
 * fresh memory: a large snapshot opens in a few milliseconds), read into a
 * buffer where it cannot, or a buffer taken over. */
typedef struct cdl_fs_view {
  const uint8_t *data;
  size_t len;
  cdl_fs *mapped_by; /* non-NULL: data is a mapping of this file system */
  cdl_buf buf;       /* otherwise the bytes live here */
} cdl_fs_view;

/* Views a whole file of at most |max_bytes|. */
int cdl_fs_view_file(cdl_fs *fs, const char *path, size_t max_bytes, cdl_fs_view *out,
                     cdl_error *err);
/* Takes over |bytes| (left empty) as a view. */
void cdl_fs_view_of_buf(cdl_fs_view *out, cdl_buf *bytes);
void cdl_fs_view_free(cdl_fs_view *v);

/* The owner's lock of a database directory: DIR/lock (docs/storage.md "One
 * owner"). *token is -1 when |fs| has no locks. */
int cdl_db_lock(cdl_fs *fs, const char *dir, int *token, cdl_error *err);
void cdl_db_unlock(cdl_fs *fs, int token);

/* Writes |len| bytes to |path| atomically and durably: a temporary file,
 * fsync, rename, fsync of the directory |dir|. */
int cdl_fs_write_file_atomic(cdl_fs *fs, const char *dir, const char *path,
                             const void *data, size_t len, cdl_error *err);
/* The same for bytes made as they are written (a ledger snapshot, streamed
 * rather than built whole in memory): |produce| appends them with
 * cdl_fs_append, in order, and returns 0 or its failure, which leaves no
 * file behind. */
typedef struct cdl_fs_appender {
  cdl_fs *fs;
  int handle;
  uint64_t offset;
  cdl_error *err;
} cdl_fs_appender;
int cdl_fs_append(cdl_fs_appender *a, const void *data, size_t len);
int cdl_fs_write_file_atomic_by(cdl_fs *fs, const char *dir, const char *path,
                                int (*produce)(void *ctx, cdl_fs_appender *a), void *ctx,
                                cdl_error *err);

/* ---- Blocks as storage sees them ---------------------------------------- */
typedef struct cdl_block_info {
  uint8_t hash[32];
  uint8_t prev_hash[32];
  uint64_t slot, block_no;
  bool is_ebb;
  uint32_t size;                      /* bytes of the stored (wrapped) block */
  uint32_t header_offset, header_size; /* the header item within those bytes */
} cdl_block_info;

/* Decodes a stored block (wrapped [0|1, block], as in chunk files) far
 * enough to fill |info|; |epoch_slots| is 10k. Fails on anything that is
 * not exactly one Byron block. */
int cdl_block_info_read(const uint8_t *bytes, size_t len, uint64_t epoch_slots,
                        cdl_block_info *info, cdl_error *err);
/* The same from a block already decoded from |bytes|. */
int cdl_block_info_of(const cdl_byron_block *blk, const uint8_t *bytes, size_t len,
                      uint64_t epoch_slots, cdl_block_info *info, cdl_error *err);

/* ---- A block parsed once (docs/storage.md "One parse per block") --------
 * A stored-form block decoded where it enters the node (the node-to-node
 * client, cdl_chaindb_add_block) and passed along as it is: the bytes, the
 * decoded block the ledger validates, and what storage needs to know of it
 * (hash, previous hash, slot, block number), so that nothing after the
 * entry decodes or hashes the same bytes again. A block that does not
 * decode is carried too, with the decoder's verdict, for the ChainDB to
 * refuse under the decoder's rule. The bytes are the caller's and |blk|
 * lives in the arena it was decoded into: both borrowed, valid for the
 * call the parsed block is passed to. */
typedef struct cdl_parsed_block {
  const uint8_t *bytes;
  size_t len;
  uint64_t epoch_slots;       /* 10k: info.slot was counted with it */
  int rc;                     /* CDL_OK, or why the bytes are no block: |why| */
  cdl_error why;
  const cdl_byron_block *blk; /* NULL unless rc is CDL_OK */
  cdl_block_info info;        /* zero unless rc is CDL_OK */
} cdl_parsed_block;

/* Decodes |bytes| once into |arena| (reset by the caller) and fills |pb|:
 * the decoded block and its cdl_block_info (the header hashed once, by the
 * decoder). Returns pb->rc: 0, or the decoder's failure (CDL_E_NOMEM among
 * them), described in pb->why. */
int cdl_parsed_block_decode(const uint8_t *bytes, size_t len, uint64_t epoch_slots,
                            cdl_arena *arena, cdl_parsed_block *pb);

/* ---- Parsing blocks on several threads (parse_pool.c) --------------------
 * What a syncing node does to each block before the ledger applies it,
 * decoding, hashing and verifying every signature (the verdicts go in the
 * block's memo fields, cdl_ledger_precheck_signatures), run on worker
 * threads while the caller applies earlier blocks in order. A pool of
 * |threads| starts threads - 1 workers: the caller's thread runs a job
 * nobody has started when it waits for it. Jobs are the caller's memory;
 * each must be waited for before it is reused or freed. */
typedef struct cdl_parse_pool cdl_parse_pool;
typedef struct cdl_parse_pool_config {
  unsigned threads;             /* 1 to 64, the caller's included */
  uint32_t protocol_magic;      /* what the signatures are checked under */
  bool signatures;              /* false: decode and hash only */
  cdl_witness_cache *witnesses; /* NULL, or witnesses verified already */
} cdl_parse_pool_config;
typedef struct cdl_parse_job {
  cdl_buf bytes;        /* the block, the job's own copy */
  cdl_arena arena;      /* what pb.blk lies in */
  cdl_parsed_block pb;  /* once done: the block parsed, its memos set */
  uint64_t epoch_slots; /* the pool's */
  _Atomic int state;
  struct cdl_parse_job *next;
} cdl_parse_job;
/* 0 or CDL_E_NOMEM. */
int cdl_parse_pool_new(const cdl_parse_pool_config *cfg, cdl_parse_pool **out);
void cdl_parse_pool_del(cdl_parse_pool *p); /* every job waited for */
unsigned cdl_parse_pool_threads(const cdl_parse_pool *p);
void cdl_parse_job_init(cdl_parse_job *j);
void cdl_parse_job_free(cdl_parse_job *j);
/* Queues |j| for a copy of |bytes|. 0 or CDL_E_NOMEM (nothing queued). */
int cdl_parse_pool_submit(cdl_parse_pool *p, cdl_parse_job *j, const uint8_t *bytes, size_t len,
                          uint64_t epoch_slots);
bool cdl_parse_job_done(const cdl_parse_job *j);
/* Returns once |j| is done: runs it on this thread when no worker has
 * started it, else waits for the worker. */
void cdl_parse_pool_wait(cdl_parse_pool *p, cdl_parse_job *j);

/* ---- Volatile DB (volatile.c) -------------------------------------------
 * The blocks that may still be rolled back: less than k deep, possibly on
 * several forks at once. Files `blocks-NNNNNNNNNN.dat` in one directory,
 * each holding up to |blocks_per_file| records appended back to back:
 *   "CDLV" | u32 LE length | u32 LE CRC32 of the bytes | the block bytes.
 * Kept in memory: for each block its cdl_block_info and where it lies,
 * indexed by hash and by predecessor. A put is written through: the
 * record is handed to the OS (one write) before put returns, so a process
 * crash loses no block put; cdl_volatile_sync makes it survive power loss.
 * On open every file is parsed; a record that is torn, fails its CRC or
 * does not decode ends that file: the file is cut back to its valid prefix
 * (removed if nothing is left). A torn last record of the newest file is
 * what a crash during a put leaves (torn_bytes); anything else is damage
 * (damaged_files), counted, never fatal. */
typedef struct cdl_volatile cdl_volatile;

typedef struct cdl_volatile_config {
  uint64_t epoch_slots;       /* 10k */
  uint32_t blocks_per_file;   /* 0 = 1000 */
  size_t max_blocks;          /* bound on blocks held; 0 = 100,000 */
  bool cache_read_handle;     /* keep one read handle open between reads */
  /* Bytes of the blocks written last kept in memory, so that reading a
   * block back (to move it to the immutable DB) needs no file read;
   * 0 = none. A ChainDB keeps CDL_VOLATILE_RECENT_BYTES. */
  size_t recent_bytes;
  /* Look, never touch (a reader of a live database): nothing is cut,
   * removed or made, and put, gc and drop_after are refused. */
  bool read_only;
} cdl_volatile_config;

#define CDL_VOLATILE_RECENT_BYTES ((size_t)8 << 20)

typedef struct cdl_volatile_stats {
  size_t blocks, files;
  uint64_t bytes;             /* of records on disk */
  size_t damaged_files;       /* cut back or removed at open */
  uint64_t dropped_bytes;     /* bytes dropped from them */
  /* Crash residue, cut silently (docs/storage.md "Crash residue"): the
   * newest file's last record written in part, or that file still empty. */
  uint64_t torn_bytes;
} cdl_volatile_stats;

/* Creates |dir| when missing. */
int cdl_volatile_open(cdl_fs *fs, const char *dir, const cdl_volatile_config *cfg,
                      cdl_volatile **out, cdl_error *err);
void cdl_volatile_close(cdl_volatile *v);
/* Stores a block; |info| must be cdl_block_info_read of the bytes. A block
 * already held is a no-op. CDL_E_LIMIT past max_blocks. */
int cdl_volatile_put(cdl_volatile *v, const uint8_t *bytes, size_t len,
                     const cdl_block_info *info, cdl_error *err);
bool cdl_volatile_info(const cdl_volatile *v, const uint8_t hash[32], cdl_block_info *info);
/* The block's bytes into |out| (appended); the CRC is checked again, a
 * mismatch is CDL_E_CHECKSUM. */
int cdl_volatile_read(cdl_volatile *v, const uint8_t hash[32], cdl_buf *out, cdl_error *err);
/* Hashes of the blocks whose predecessor is |prev_hash|, at most |max|;
 * returns how many there are in all. */
size_t cdl_volatile_successors(const cdl_volatile *v, const uint8_t prev_hash[32],
                               uint8_t (*out)[32], size_t max);
/* Forgets every block with slot < |slot| and removes the files that hold
 * only such blocks. */
int cdl_volatile_gc(cdl_volatile *v, uint64_t slot, cdl_error *err);
/* fsync of the file being appended to (and of the directory when a file
 * was made); nothing when nothing was put since the last sync. */
int cdl_volatile_sync(cdl_volatile *v, cdl_error *err);
/* A batch: the blocks put until its end are written in one write when it
 * ends (reads see them meanwhile), for blocks that arrived together. The
 * caller says nothing of them to anyone before the end. A failed end is
 * a storage failure: the records are not on disk. Batches nest. */
void cdl_volatile_batch_begin(cdl_volatile *v);
int cdl_volatile_batch_end(cdl_volatile *v, cdl_error *err);
/* Removes every block with slot > |slot| from disk: each file holding one
 * is rewritten (its other blocks stored again, synced, then the old file
 * removed), so a crash part way loses nothing. */
int cdl_volatile_drop_after(cdl_volatile *v, uint64_t slot, cdl_error *err);
void cdl_volatile_stats_get(const cdl_volatile *v, cdl_volatile_stats *s);

/* ---- Immutable DB (immutable.c, immutable_scan.c) -----------------------
 * Blocks at least k deep, which can never be rolled back. One chunk file
 * per epoch, `NNNNN.chunk`, holding the stored blocks back to back: the
 * format of cardano-node's chunk files, so a real chunk can be copied in.
 * Next to each, `NNNNN.cidx`, Cardinal's index (docs/storage.md): per block
 * its slot, block number, offset, size, header offset and size, hash, EBB
 * flag and CRC32, each entry with its own CRC. The index can always be
 * rebuilt from the chunk. On open the tail is checked (every block with
 * validate_all): a torn or corrupt block and everything after it is cut
 * off, a missing or corrupt index is rebuilt, and the report says what was
 * done. Appends write the chunk first, then the index; cdl_immutable_sync
 * makes them durable. */
typedef struct cdl_immutable cdl_immutable;

typedef struct cdl_immutable_config {
  uint64_t epoch_slots;   /* 10k */
  bool validate_all;      /* check every block on open, not only the tail */
  bool read_only;         /* report damage but change nothing: loading stops
                             at the first damage (db validate) */
  bool check_genesis;     /* the first block must follow genesis_hash */
  uint8_t genesis_hash[32];
  size_t cached_chunks;   /* chunk indexes kept in memory; 0 = 8 */
  /* Optional: called before each cut of the files (damage cut at open,
   * truncation), with the block the immutable DB will end at (NULL: it
   * will be empty). A ledger snapshot more than k blocks past that would
   * prove blocks missing at the next open (cdl_immutable_check_snapshot),
   * so the owner removes them first: cdl_snapshots_drop_past. A failure
   * stops the cut. */
  int (*before_cut)(void *ctx, const cdl_block_info *keep, cdl_error *err);
  void *before_cut_ctx;
} cdl_immutable_config;

typedef struct cdl_immutable_report {
  uint32_t chunks;
  uint64_t blocks;
  uint32_t indexes_rebuilt;
  uint64_t truncated_bytes;  /* cut from the chunk where damage was found */
  uint32_t removed_chunks;   /* chunks after the damage */
  char problem[200];         /* the first damage found, empty when none */
  /* Crash residue, the ordinary end of an interrupted append to the last
   * chunk (docs/storage.md "Crash residue"): cut back (read-only: left out
   * of the view) silently, never damage. */
  uint64_t torn_bytes;       /* a block written in part */
  uint32_t empty_chunks;     /* a chunk made and not yet written to */
} cdl_immutable_report;

/* Where a block is: the chunk (its place among the chunk files present,
 * not the epoch: an epoch without blocks has no chunk) and its index
 * within that chunk. */
typedef struct cdl_immutable_pos {
  uint32_t chunk, index;
} cdl_immutable_pos;

/* Creates |dir| when missing. A chunk file that the layout shows missing
 * (its index without it, or a gap in the chunk numbers that the next chunk
 * does not bridge) is CDL_E_MISSING, and nothing is changed
 * (docs/storage.md "Missing files"). */
int cdl_immutable_open(cdl_fs *fs, const char *dir, const cdl_immutable_config *cfg,
                       cdl_immutable **out, cdl_immutable_report *rep, cdl_error *err);
void cdl_immutable_close(cdl_immutable *im);
/* A ledger snapshot at |slot|, block |block_no|, was written once the
 * immutable DB held all but the newest k blocks of its chain, synced: one
 * more than k blocks past the immutable tip (the genesis when it is empty)
 * proves immutable blocks lost, CDL_E_MISSING. A reader (read_only) judges
 * again on a fresh view of the directory first: the owner of a live
 * database may have moved on since the reader opened it. */
int cdl_immutable_check_snapshot(cdl_immutable *im, uint64_t slot, uint64_t block_no, uint64_t k,
                                 cdl_error *err);
/* Whether a snapshot at block |block_no| lies more than k blocks past
 * |tip| (NULL: the genesis), the rule of cdl_immutable_check_snapshot. */
bool cdl_snapshot_past(uint64_t block_no, const cdl_block_info *tip, uint64_t k);
/* false when empty. */
bool cdl_immutable_tip(const cdl_immutable *im, cdl_block_info *tip, cdl_immutable_pos *pos);
uint64_t cdl_immutable_count(const cdl_immutable *im);
uint64_t cdl_immutable_bytes(const cdl_immutable *im);
/* Of those, the bytes written to its files: less the appends still held
 * in memory (written behind, at most IMM_WRITE_BEHIND). */
uint64_t cdl_immutable_bytes_written(const cdl_immutable *im);
/* Appends a block after the tip; it must follow it (previous hash, slot
 * not decreasing, block number): otherwise CDL_E_PREV_HASH / CDL_E_RANGE. */
int cdl_immutable_append(cdl_immutable *im, const uint8_t *bytes, size_t len,
                         const cdl_block_info *info, cdl_error *err);
/* Appends are written behind, in batches of about a megabyte: reads see
 * them at once, the files after a flush. A failed write keeps them, to be
 * tried again; an append that would need a flush that fails changes
 * nothing. Sync, truncation, the full check, a new chunk and close flush. */
int cdl_immutable_flush(cdl_immutable *im, cdl_error *err);
/* Flushes, then fsyncs the tip chunk, its index and the directory (no
 * system call when nothing changed since the last sync). */
int cdl_immutable_sync(cdl_immutable *im, cdl_error *err);
/* Look-ups; CDL_E_NOT_FOUND when absent. By block number: the first block
 * with that number (a main block before the EBB that repeats it). */
int cdl_immutable_find(cdl_immutable *im, uint64_t slot, const uint8_t hash[32],
                       cdl_immutable_pos *pos, cdl_block_info *info, cdl_error *err);
int cdl_immutable_find_block_no(cdl_immutable *im, uint64_t block_no, cdl_immutable_pos *pos,
                                cdl_block_info *info, cdl_error *err);
/* The first block with slot >= |slot|. */
int cdl_immutable_find_slot(cdl_immutable *im, uint64_t slot, cdl_immutable_pos *pos,
                            cdl_block_info *info, cdl_error *err);
/* The block (or only its header item) at |pos|, appended to |out|; its
 * CRC is checked (CDL_E_CHECKSUM names the chunk and offset). |info| may be
 * NULL. */
int cdl_immutable_read(cdl_immutable *im, cdl_immutable_pos pos, cdl_buf *out,
                       cdl_block_info *info, cdl_error *err);
int cdl_immutable_read_header(cdl_immutable *im, cdl_immutable_pos pos, cdl_buf *out,
                              cdl_block_info *info, cdl_error *err);
int cdl_immutable_info(cdl_immutable *im, cdl_immutable_pos pos, cdl_block_info *info,
                       cdl_error *err);
/* Moves |pos| to the next block; false past the tip. */
bool cdl_immutable_next(cdl_immutable *im, cdl_immutable_pos *pos);
/* Keeps the blocks with slot <= |slot| and removes the rest. */
int cdl_immutable_truncate_slot(cdl_immutable *im, uint64_t slot, cdl_error *err);
/* Without opening the immutable DB in |dir|: removes the chunks of the
 * epochs after |slot|'s (each index before its chunk, the last chunk
 * first), which hold only blocks after it. The first step of an explicit
 * cut (db truncate), so that it also works when a later chunk file is
 * missing (docs/storage.md "Missing files"). */
int cdl_immutable_drop_epochs_after(cdl_fs *fs, const char *dir, uint64_t epoch_slots,
                                    uint64_t slot, cdl_error *err);
/* Keeps the blocks before |pos| and removes it and the rest. */
int cdl_immutable_truncate_before(cdl_immutable *im, cdl_immutable_pos pos, cdl_error *err);
/* Checks every block: CRC, decode, index entry, links. On the first bad
 * block CDL_E_CHECKSUM / a decode error, with |bad| set to its position. */
int cdl_immutable_check_all(cdl_immutable *im, cdl_immutable_pos *bad, cdl_error *err);

/* ---- Identity files (db_identity.c; docs/storage.md "Identity files") ----
 * The settings a database directory was built with, one small file each:
 *   DIR/genesis.hash            the genesis (64 hex digits)
 *   DIR/pbft-threshold          the PBFT signature threshold (d.dddddd)
 *   DIR/requires-network-magic  the address-magic policy (RequiresMagic or
 *                               RequiresNoMagic, cardano-node's words)
 * Opening a database under other settings would make the ledger refuse
 * stored blocks (and the open cut them), so it is refused instead. */
typedef struct cdl_db_identity {
  uint8_t genesis_hash[32];
  double pbft_threshold; /* in (0, 1] */
  bool requires_magic;
  /* Which of them the directory records (cdl_db_identity_read): a file
   * missing or damaged records nothing. */
  bool has_genesis, has_threshold, has_magic;
} cdl_db_identity;

/* How an entry point names one setting in a refusal: where the value it
 * asked for came from ("--pbft-threshold", "the config"), and the words
 * that, followed by the recorded value, ask for that instead ("sync with
 * --pbft-threshold"). NULL: generic words. */
typedef struct cdl_db_setting_words {
  const char *from, *fix;
} cdl_db_setting_words;

typedef struct cdl_db_advice {
  cdl_db_setting_words genesis, threshold, magic;
  const char *db_option; /* the option naming the directory ("--db"); NULL: generic words */
} cdl_db_advice;

/* What DIR records. A genesis.hash that is missing is taken from the copy
 * DIR/genesis.json when that hashes (a directory whose genesis.hash was
 * removed still knows its genesis); a threshold edited by hand ("0.7\n")
 * is read as the number it is. Only I/O failures are errors. */
int cdl_db_identity_read(cdl_fs *fs, const char *dir, cdl_db_identity *out, cdl_error *err);
/* The one check of a database's settings, run by every open: each
 * identity file of DIR against |want| (every setting given). One naming
 * another value is refused, CDL_E_USAGE, with a message that names both
 * values and the ways out in |advice|'s words; one missing is written, one
 * damaged (not of the shape written) written again and counted in
 * |rewritten| (neither when |read_only|). */
int cdl_db_identity_check(cdl_fs *fs, const char *dir, const cdl_db_identity *want,
                          const cdl_db_advice *advice, bool read_only, uint32_t *rewritten,
                          cdl_error *err);

/* ---- ChainDB (chaindb.c, chaindb_select.c, chaindb_follow.c, snapshots.c)
 * The immutable DB, the volatile DB and ledger snapshots under one
 * directory (docs/storage.md):
 *   DIR/genesis.hash, pbft-threshold, requires-network-magic: its settings
 *   DIR/immutable/     chunk files and indexes
 *   DIR/volatile/      recent blocks, every fork
 *   DIR/ledger/        snapshot-<slot>-<hash>.lsnap
 * Adding a block runs chain selection: the longest valid chain (block
 * number, then a chain ending in an EBB over one that does not), switching
 * forks only within k blocks of the tip; blocks more than k deep move to
 * the immutable DB. The ledger at the tip of the selected chain is kept;
 * the ledger at a fork point is rebuilt from the newest snapshot before it
 * (kept in memory, on disk, or the genesis) by replaying blocks. */
typedef struct cdl_chaindb cdl_chaindb;

typedef struct cdl_chaindb_config {
  const char *dir;
  const cdl_byron_genesis *genesis;  /* read during open only */
  cdl_ledger_config ledger;          /* k, magic, threshold, flags */
  uint64_t snapshot_interval;        /* blocks between snapshots; 0 = 10k (an epoch) */
  size_t snapshots_kept;             /* on disk; 0 = 2 */
  /* Blocks added between fsyncs of both stores (what survives power
   * loss, docs/storage.md "Durability"); 0 = 1000, UINT64_MAX: only at
   * close. Every block is handed to the OS as it is added whatever this. */
  uint64_t sync_interval;
  bool validate_all;                 /* re-parse every chunk on open */
  /* Look, never touch: nothing is written, repaired, moved or removed, no
   * lock is taken, and blocks cannot be added. What a live node's database
   * holds is reported as found (a torn tail the owner is writing is crash
   * residue). Without it the open takes the owner's lock, DIR/lock, for the
   * life of the ChainDB: CDL_E_LOCKED while another process holds it. */
  bool read_only;
  size_t max_open_files;             /* 0 = CDL_FS_DEFAULT_MAX_OPEN */
  /* Entries of a verified-witness cache the ChainDB owns and gives its
   * ledgers (cdl_ledger_config.witness_cache), unless |ledger| names one
   * already: what a mempool forked from the ledger verifies, blocks need
   * not verify again. 0: none. */
  size_t witness_cache;
  cdl_fs *fs;                        /* NULL: the real file system */
  /* The words of a refusal of another genesis, threshold or magic policy
   * (cdl_db_identity_check); NULL: generic ones. */
  const cdl_db_advice *advice;
} cdl_chaindb_config;

typedef struct cdl_chaindb_report {
  cdl_immutable_report immutable;
  cdl_volatile_stats volatile_db;
  char snapshot[160];                /* the snapshot loaded; empty: genesis */
  size_t snapshots_skipped;          /* corrupt or off the chain */
  uint64_t replayed_blocks;          /* from the snapshot to the immutable tip */
  uint64_t immutable_truncated;      /* blocks the ledger refused at open */
  uint64_t volatile_adopted;         /* blocks selected from the volatile DB */
  /* Identity files (genesis.hash, pbft-threshold, requires-network-magic)
   * found damaged (not of the shape written: truncated, a bit flipped) and
   * written again; one of the right shape naming another value is refused. */
  uint32_t identity_rewritten;
} cdl_chaindb_report;

int cdl_chaindb_open(const cdl_chaindb_config *cfg, cdl_chaindb **out, cdl_chaindb_report *rep,
                     cdl_error *err);
/* Syncs, writes a ledger snapshot of the tip, releases every handle. */
int cdl_chaindb_close(cdl_chaindb *db, cdl_error *err);
/* Releases everything without writing (what a crash leaves, for tests). */
void cdl_chaindb_abandon(cdl_chaindb *db);

typedef enum cdl_chaindb_outcome {
  CDL_ADD_ADOPTED = 0,   /* the selected chain changed */
  CDL_ADD_STORED,        /* kept in the volatile DB, not (yet) selected */
  CDL_ADD_DUPLICATE,     /* already known */
  CDL_ADD_INVALID,       /* refused: |rej| says why */
  CDL_ADD_TOO_OLD        /* not newer than the immutable tip: ignored */
} cdl_chaindb_outcome;

typedef struct cdl_chaindb_add_result {
  cdl_chaindb_outcome outcome;
  uint64_t rollback;     /* blocks rolled back by a fork switch */
} cdl_chaindb_add_result;

/* Adds one stored-form block ([0|1, block]) and runs chain selection.
 * Returns 0 with the outcome, or a failure (I/O, memory). For callers
 * that have only the bytes (import, tests): the block is parsed once
 * (cdl_parsed_block_decode) and added as cdl_chaindb_add_parsed does. */
int cdl_chaindb_add_block(cdl_chaindb *db, const uint8_t *bytes, size_t len,
                          cdl_chaindb_add_result *res, cdl_rejection *rej, cdl_error *err);
/* The same for a block parsed already: nothing is decoded or hashed again;
 * the ledger applies pb->blk (a fork's other blocks are read back from the
 * volatile DB). One that did not decode (pb->rc) is refused with the
 * decoder's rule, or is the failure when that was CDL_E_NOMEM. A block
 * parsed under another epoch length gets its slot counted again from
 * pb->blk. */
int cdl_chaindb_add_parsed(cdl_chaindb *db, const cdl_parsed_block *pb,
                           cdl_chaindb_add_result *res, cdl_rejection *rej, cdl_error *err);
/* Blocks that arrived together (a batch read from a file or a socket):
 * added one by one between begin and end, their records reach the OS in
 * one write at the end (docs/storage.md "Durability"). Nothing about them
 * may leave the process before the end returns 0; a failed end is a
 * storage failure, to stop on. */
void cdl_chaindb_batch_begin(cdl_chaindb *db);
int cdl_chaindb_batch_end(cdl_chaindb *db, cdl_error *err);
/* fsync of both stores, the immutable DB's pending appends written first
 * (also done every sync_interval blocks added, and at close). */
int cdl_chaindb_sync(cdl_chaindb *db, cdl_error *err);
int cdl_chaindb_snapshot_now(cdl_chaindb *db, cdl_error *err);

/* false at genesis (empty chain). */
bool cdl_chaindb_tip(const cdl_chaindb *db, cdl_block_info *tip);
bool cdl_chaindb_immutable_tip(const cdl_chaindb *db, cdl_block_info *tip);
const cdl_ledger *cdl_chaindb_ledger(const cdl_chaindb *db);
/* The verified-witness cache its ledgers use; NULL: none. */
cdl_witness_cache *cdl_chaindb_witness_cache(const cdl_chaindb *db);
cdl_immutable *cdl_chaindb_immutable(cdl_chaindb *db);
cdl_volatile *cdl_chaindb_volatile(cdl_chaindb *db);
/* Blocks on the selected chain after the immutable tip. */
size_t cdl_chaindb_volatile_length(const cdl_chaindb *db);

/* Points (cdl_point) are defined in byron.h, with the chain they name. */

/* Any stored block by point (immutable or volatile, any fork). */
int cdl_chaindb_read_block(cdl_chaindb *db, const cdl_point *p, cdl_buf *out,
                           cdl_block_info *info, cdl_error *err);
/* The block on the selected chain with this number. */
int cdl_chaindb_find_block_no(cdl_chaindb *db, uint64_t block_no, cdl_block_info *info,
                              cdl_error *err);

/* Up to |max| points of the selected chain for a chain-sync client to
 * offer as intersections, newest first: the tip, then 1, 2, 4, ... blocks
 * back, ending at the first block. 0 at genesis (offer the origin). */
size_t cdl_chaindb_known_points(cdl_chaindb *db, cdl_point *out, size_t max);

/* The ledger snapshots of the database in |dir| and what judges them: a
 * cut of its immutable DB (cdl_immutable_config.before_cut) passes one of
 * these as the context of cdl_snapshots_drop_past. */
typedef struct cdl_snapshot_guard {
  cdl_fs *fs;
  const char *dir;          /* the database directory (DIR/ledger holds them) */
  uint8_t genesis_hash[32];
  uint64_t k;
} cdl_snapshot_guard;
/* Removes the snapshots (a cdl_snapshot_guard *|guard|) whose tip lies
 * more than k blocks past |keep| (NULL: the genesis), and syncs the
 * directory; one whose header cannot be read proves nothing and stays. */
int cdl_snapshots_drop_past(void *guard, const cdl_block_info *keep, cdl_error *err);

/* ---- Followers: what a chain-sync server walks (chaindb_follow.c) ----
 * A follower has a position on some chain. next() gives the following
 * block of the selected chain, or, when the selected chain no longer holds
 * the position (a fork switch), a roll-backward to the newest point both
 * share. A follower must not outlive its ChainDB. */
typedef struct cdl_follower cdl_follower;
typedef enum { CDL_FOLLOW_AWAIT = 0, CDL_FOLLOW_FORWARD, CDL_FOLLOW_BACKWARD } cdl_follow_kind;

int cdl_follower_new(cdl_chaindb *db, cdl_follower **out, cdl_error *err);
/* A follower for reading ranges (block-fetch): it keeps no record of the
 * blocks it handed out, so after a fork switch it rolls back by walking
 * the stored blocks alone. */
int cdl_follower_new_reader(cdl_chaindb *db, cdl_follower **out, cdl_error *err);
void cdl_follower_del(cdl_follower *f);
/* Moves to the first of |points| on the selected chain; *found is false
 * (and the position unchanged) when none is. */
int cdl_follower_intersect(cdl_follower *f, const cdl_point *points, size_t n,
                           cdl_point *found, bool *found_any, cdl_error *err);
/* FORWARD: |info| and, when |block| is not NULL, the block's bytes
 * appended to it. BACKWARD: |to| is the point rolled back to. AWAIT: at
 * the tip. */
int cdl_follower_next(cdl_follower *f, cdl_follow_kind *kind, cdl_block_info *info,
                      cdl_point *to, cdl_buf *block, cdl_error *err);

/* ---- A database directory (docs/storage.md "Layout") ---------------------
 * What `cardinal-cli db`, `cardinal-cli sync` and `cardinal-node` share:
 * DIR holds the ChainDB, its identity files (the settings it was built
 * with, above) and genesis.json (a copy of the genesis it was created
 * with). A setting not given is the recorded one. */

#define CDL_DB_GENESIS_MAX (64u << 20) /* bytes of a genesis file */

typedef struct cdl_db_genesis {
  cdl_buf text;
  cdl_arena arena;
  cdl_byron_genesis g;
} cdl_db_genesis;

typedef struct cdl_db_dir_options {
  const char *dir;
  const char *genesis;    /* NULL: DIR/genesis.json */
  /* NULL, or the hash the genesis must have (a config's ByronGenesisHash):
   * another is CDL_E_GENESIS, genesis.hash_mismatch. */
  const uint8_t *genesis_hash;
  double pbft_threshold;  /* 0: DIR/pbft-threshold, else the default */
  /* 1 or -1: addresses do or do not carry the magic; 0: DIR's
   * requires-network-magic, else by the magic */
  int requires_magic;
  const cdl_db_advice *advice; /* a refusal's words (cdl_chaindb_config.advice) */
  bool no_signatures;     /* CDL_LEDGER_NO_SIGNATURES */
  bool validate_all;      /* re-parse every chunk on open */
  bool create;            /* make DIR and keep a copy of the genesis in it */
  bool read_only;         /* look, never touch: cdl_chaindb_config.read_only */
  uint64_t sync_interval; /* 0: the ChainDB's default */
  size_t witness_cache;   /* cdl_chaindb_config.witness_cache */
} cdl_db_dir_options;

void cdl_db_genesis_init(cdl_db_genesis *dg);
void cdl_db_genesis_free(cdl_db_genesis *dg);
/* Loads o->genesis, or DIR/genesis.json (after cdl_db_genesis_init), and
 * checks it against o->genesis_hash. */
int cdl_db_genesis_load(const cdl_db_dir_options *o, cdl_db_genesis *dg, cdl_error *err);
/* |given| when set, else DIR/pbft-threshold when it holds a fraction in
 * (0, 1], else 0 (the ledger's default). */
double cdl_db_threshold(const char *dir, double given);
/* The ledger's settings: those given, else those DIR records, else the
 * defaults (threshold 0.22, magic policy by the protocol magic). */
cdl_ledger_config cdl_db_ledger_config(const cdl_db_dir_options *o, const cdl_byron_genesis *g);
/* Opens the ChainDB of DIR. |dg| is initialised here, must outlive the
 * ChainDB, and is freed by the caller whatever the result. */
int cdl_db_dir_open(const cdl_db_dir_options *o, cdl_db_genesis *dg, cdl_chaindb **db,
                    cdl_chaindb_report *rep, cdl_error *err);

#endif /* CARDINAL_STORAGE_H */
