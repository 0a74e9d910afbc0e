/*
 * test_corrupt.c: the storage corruption test, cases (a) to (g) and the
 * tests of every case; the fixture is corrupt_world.c, case (h)
 * corrupt_missing.c (docs/design.md section 8,
 * tier 6; include/cardinal/storage.h "Immutable DB", "Volatile DB",
 * "ChainDB"). Acceptance point: "random byte flips, truncations, deleted or
 * damaged index files and damaged snapshots in copies of a DB: always
 * detected, the DB reopens at the last good block, never a crash (ASan
 * clean)."
 *
 * A base DB is built once from a generated k = 10 chain of six epochs (six
 * chunks with their indexes, volatile files, two snapshots) and closed
 * cleanly. Each case damages a copy and opens it; the source index of the
 * damaged block is computed from the chain itself, not from the DB:
 *  (a) a flipped byte in an immutable block: the immutable DB keeps exactly
 *      the blocks before it (validate_all unless it is the tail block),
 *      reports a problem and cut bytes;
 *  (b) a chunk cut inside a block, junk after a chunk's last block:
 *      exactly the blocks before the damage are kept;
 *  (c) a deleted index, (d) an index with a flipped byte, cut inside an
 *      entry or with a garbage header: rebuilt, nothing else changes;
 *  (e) the newest snapshot (or both) flipped or cut: skipped, the ledger
 *      is the same as after an undamaged open;
 *  (f) a volatile file flipped or cut: the records from the damage on are
 *      dropped and the tip is the last block before the first one lost;
 *  (g) 240 seeded random cases, 200 under AddressSanitizer (any file but
 *      genesis.hash; a byte or bytes flipped, cut, deleted, a range zeroed,
 *      junk appended, the start overwritten): the immutable DB keeps
 *      exactly the blocks before the first damaged byte (a chunk file
 *      deleted: as (h));
 *  (h) missing files (corrupt_missing.c; docs/storage.md "Missing files"): a chunk file
 *      deleted (its index left), a chunk and its index deleted (one or
 *      two: a gap; the first: the genesis is not followed), the last
 *      chunks or every file of the immutable DB deleted (the newest
 *      snapshot lies more than k blocks past what is left): the owner's
 *      open and a reader's are refused with storage.missing naming the
 *      file and the truncation that keeps the blocks before it, and no
 *      byte of any file changes; and the owner's open that cuts damage
 *      (chunk 2 cut to one byte), killed before and after each change it
 *      makes, leaves a database the next open takes without a refusal;
 * and in every other case: the open succeeds, the tip and the ledger's tip are
 * one block of the source (exactly the block before the damage when the
 * volatile files do not hold the damaged block), every immutable block is
 * the source's byte for byte, cdl_immutable_check_all passes, the DB
 * closes, and a second open repairs nothing and has the same tip. The
 * first 3,000 blocks of the real mainnet epoch 0 (k = 2160, one chunk) get
 * a few cases of each kind; a damaged genesis.hash is refused; and after a
 * cut that leaves the snapshots unusable the DB keeps the new ones it
 * takes. Failures are collected and reported together with their seeds.
 * (A cut back to a chunk's start followed by a fork's block in the chunk
 * before it: test_immutable.c.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrupt_missing.h"

/* (a) One byte of immutable block |d| flipped; validate_all unless |d| is
 * the tail block, which every open checks. */
static void flip_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  size_t n = W->base.imm_count;
  size_t d = seed % 4 == 0 ? n - 1 : (size_t)cdl_gen_rng_below(&r, n);
  bool tail = d == W->base.imm_count - 1;
  uint64_t in_block = cdl_gen_rng_below(&r, W->blocks[d].len);
  kase k;
  kase_begin(&k, f, "(a) flipped chunk byte", seed);
  char path[256];
  chunk_path(k.dir, chunk_of(d), "chunk", path, sizeof path);
  flip_at(path, W->chunk_offset[d] + in_block, nonzero_byte(&r));
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, !tail, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.immutable.truncated_bytes > 0,
           "byte %llu of the %zu-byte block %zu (chunk %u%s) flipped: nothing cut, "
           "problem \"%s\"", (unsigned long long)in_block, W->blocks[d].len, d, chunk_of(d),
           tail ? ", tail block" : "", rep.immutable.problem);
    expect_cut_at(&k, db, &rep, d, tip_of(db));
    long tip = check_db(&k, db);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}


/* (b) A chunk cut inside one of its blocks: the last chunk, or (odd seeds)
 * any chunk, whose successors then go too. */
static void cut_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  uint32_t last = last_chunk();
  uint32_t c = seed % 2 ? (uint32_t)cdl_gen_rng_below(&r, last + 1) : last;
  size_t lo, hi;
  blocks_of_chunk(c, &lo, &hi);
  size_t d = lo + (size_t)cdl_gen_rng_below(&r, hi - lo);
  uint64_t keep = 1 + cdl_gen_rng_below(&r, W->blocks[d].len - 1); /* bytes of block d left */
  kase k;
  kase_begin(&k, f, "(b) chunk cut mid-block", seed);
  char path[256];
  chunk_path(k.dir, c, "chunk", path, sizeof path);
  cut_to(path, W->chunk_offset[d] + keep);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.immutable.truncated_bytes == keep,
           "chunk %u cut %llu bytes into block %zu: %llu bytes cut at open", c,
           (unsigned long long)keep, d, (unsigned long long)rep.immutable.truncated_bytes);
    EXPECT(&k, rep.immutable.removed_chunks == last - c, "%u chunks removed after chunk %u of %u",
           rep.immutable.removed_chunks, c, last);
    expect_cut_at(&k, db, &rep, d, tip_of(db));
    long tip = check_db(&k, db);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* Bytes after the last block of chunk |c| (a torn append, or junk): they
 * are cut and nothing else is lost, whichever chunk it is. */
static void junk_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)seed;
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, c);
  kase k;
  kase_begin(&k, f, "(b) junk after a chunk's last block", c);
  char path[256];
  chunk_path(k.dir, c, "chunk", path, sizeof path);
  cdl_buf b;
  read_file(path, &b);
  uint8_t junk[200];
  size_t n = 1 + (size_t)cdl_gen_rng_below(&r, sizeof junk);
  cdl_gen_rng_bytes(&r, junk, n);
  assert_int_equal(cdl_buf_append(&b, junk, n), CDL_OK);
  write_file(path, b.data, b.len);
  cdl_buf_free(&b);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.immutable.truncated_bytes == n, "%zu junk bytes after chunk %u: %llu cut", n,
           c, (unsigned long long)rep.immutable.truncated_bytes);
    EXPECT(&k, rep.immutable.blocks == W->base.imm_count && rep.immutable.removed_chunks == 0,
           "%zu junk bytes after chunk %u: %llu immutable blocks kept of %zu, %u chunks removed",
           n, c, (unsigned long long)rep.immutable.blocks, W->base.imm_count,
           rep.immutable.removed_chunks);
    long tip = check_db(&k, db);
    EXPECT(&k, tip == W->base.tip, "tip %ld, was %ld", tip, W->base.tip);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* ---- (c), (d): damaged indexes ------------------------------------------------ */

/* Whether chunk |c|'s index in the copy is the base's again. */
static bool index_as_base(const kase *k, uint32_t c) {
  char mine[256], base[256];
  chunk_path(k->dir, c, "cidx", mine, sizeof mine);
  chunk_path(W->base.dir, c, "cidx", base, sizeof base);
  cdl_buf now, was;
  read_file(mine, &now);
  read_file(base, &was);
  bool same = cdl_span_eq(cdl_span_of(now.data, now.len), cdl_span_of(was.data, was.len));
  cdl_buf_free(&now);
  cdl_buf_free(&was);
  return same;
}

/* Opens a copy whose index of chunk |c| was damaged: rebuilt, nothing else
 * changes. The open rebuilds it when it sees the damage (the last chunk's
 * index, or the ends of another's: its header, length, first and last
 * entries); damage between the ends of an earlier chunk's index is found,
 * and the index rebuilt, when the chunk is first read (check_db reads
 * every chunk). */
static void expect_index_rebuilt(kase *k, uint32_t c) {
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(k, false, &rep);
  if (db == NULL) return;
  EXPECT(k, rep.immutable.indexes_rebuilt <= 1, "index of chunk %u: %u indexes rebuilt", c,
         rep.immutable.indexes_rebuilt);
  EXPECT(k, c != last_chunk() || rep.immutable.indexes_rebuilt == 1,
         "the last chunk's index: %u indexes rebuilt", rep.immutable.indexes_rebuilt);
  EXPECT(k, rep.immutable.truncated_bytes == 0 && rep.immutable.blocks == W->base.imm_count,
         "index of chunk %u: %llu bytes cut, %llu blocks kept of %zu", c,
         (unsigned long long)rep.immutable.truncated_bytes,
         (unsigned long long)rep.immutable.blocks, W->base.imm_count);
  long tip = check_db(k, db);
  EXPECT(k, tip == W->base.tip, "index of chunk %u: tip %ld, was %ld", c, tip, W->base.tip);
  EXPECT(k, index_as_base(k, c), "index of chunk %u is not rebuilt after every chunk was read",
         c);
  close_case(k, db);
  second_open(k, tip);
}

static void index_deleted_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)seed;
  kase k;
  kase_begin(&k, f, "(c) index deleted", c);
  char path[256];
  chunk_path(k.dir, c, "cidx", path, sizeof path);
  assert_int_equal(unlink(path), 0);
  expect_index_rebuilt(&k, c);
  kase_end(&k);
}

#define INDEX_HEADER 16
#define INDEX_ENTRY 112

static void damage_index(const char *path, int kind, cdl_gen_rng *r) {
  uint64_t size = file_size(path), entries = (size - INDEX_HEADER) / INDEX_ENTRY;
  assert_true(entries > 0);
  if (kind == 0) {
    flip_at(path, INDEX_HEADER + cdl_gen_rng_below(r, entries * INDEX_ENTRY), nonzero_byte(r));
  } else if (kind == 1) {
    cut_to(path, INDEX_HEADER + cdl_gen_rng_below(r, entries) * INDEX_ENTRY + 1 +
                     cdl_gen_rng_below(r, INDEX_ENTRY - 1));
  } else {
    cdl_buf b;
    read_file(path, &b);
    for (size_t i = 0; i < INDEX_HEADER; i++) b.data[i] ^= nonzero_byte(r);
    write_file(path, b.data, b.len);
    cdl_buf_free(&b);
  }
}

/* Seeds cycle through: an entry flipped, the file cut inside an entry, a
 * garbage header. */
static void index_damaged_case(failures *f, uint64_t seed) {
  static const char *const names[] = {"(d) index entry flipped", "(d) index cut mid-entry",
                                      "(d) index header garbage"};
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  int kind = (int)(seed % 3);
  uint32_t c = (uint32_t)cdl_gen_rng_below(&r, last_chunk() + 1);
  kase k;
  kase_begin(&k, f, names[kind], seed);
  char path[256];
  chunk_path(k.dir, c, "cidx", path, sizeof path);
  damage_index(path, kind, &r);
  expect_index_rebuilt(&k, c);
  kase_end(&k);
}

/* ---- (e): damaged snapshots ---------------------------------------------------- */

static void damage_snapshot(const char *dir, const char *name, bool cut, cdl_gen_rng *r) {
  char path[320];
  snprintf(path, sizeof path, "%s/ledger/%s", dir, name);
  uint64_t size = file_size(path);
  if (cut) cut_to(path, cdl_gen_rng_below(r, size));
  else flip_at(path, cdl_gen_rng_below(r, size), nonzero_byte(r));
}

static bool same_totals(const cdl_ledger_totals *a, const cdl_ledger_totals *b) {
  return a->blocks == b->blocks && a->ebbs == b->ebbs && a->txs == b->txs &&
         a->fees_lovelace == b->fees_lovelace && a->utxo_entries == b->utxo_entries &&
         a->utxo_lovelace == b->utxo_lovelace;
}

/* A snapshot as a build of the previous format wrote it, as far as the
 * reader looks: format version 3 (src/ledger/snapshot.c writes 4) in the
 * u32 after the 8-byte magic. */
static void older_format(const char *dir, const char *name) {
  char path[320];
  snprintf(path, sizeof path, "%s/ledger/%s", dir, name);
  flip_at(path, 8, 0x04 ^ 0x03);
}

/* Seeds 1-8: the newest snapshot flipped (odd) or cut (even); 9-12: both;
 * 13: the newest of the previous format, 14: both (a database an older
 * build wrote): refused, deleted, replayed around like damage. */
static void snapshot_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  bool both = seed > 8 && seed != 13, old = seed > 12;
  kase k;
  kase_begin(&k, f,
             old    ? (both ? "(e) both snapshots of format 3" : "(e) newest snapshot of format 3")
             : both ? "(e) both snapshots damaged"
                    : "(e) newest snapshot damaged",
             seed);
  if (old) {
    older_format(k.dir, W->base.snaps[0]);
    if (both) older_format(k.dir, W->base.snaps[1]);
  } else {
    damage_snapshot(k.dir, W->base.snaps[0], seed % 2 == 0, &r);
    if (both) damage_snapshot(k.dir, W->base.snaps[1], seed % 2 == 1, &r);
  }
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.snapshots_skipped >= (both ? 2u : 1u), "%zu snapshots skipped",
           rep.snapshots_skipped);
    EXPECT(&k, strcmp(rep.snapshot, W->base.snaps[0]) != 0, "the damaged snapshot was loaded");
    EXPECT(&k, both ? rep.snapshot[0] == '\0' : strcmp(rep.snapshot, W->base.snaps[1]) == 0,
           "loaded \"%s\"", rep.snapshot);
    long tip = check_db(&k, db);
    EXPECT(&k, tip == W->base.tip, "tip %ld, was %ld", tip, W->base.tip);
    cdl_ledger_totals t;
    cdl_ledger_get_totals(cdl_chaindb_ledger(db), &t);
    EXPECT(&k, same_totals(&t, &W->base.totals), "the ledger differs from an undamaged open's");
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* ---- (f): damaged volatile files ------------------------------------------------ */

/* The tip expected when the volatile records from |first| on are lost. */
static long tip_without(const vrec *recs, size_t n, size_t first) {
  long lost = (long)W->n_blocks;
  for (size_t i = first; i < n; i++)
    if (recs[i].block >= (long)W->base.imm_count && recs[i].block < lost) lost = recs[i].block;
  return lost - 1;
}

/* Whether |rel| is the volatile file being appended to (the highest
 * number): the only one a crash can leave with a torn last record. */
static bool newest_volatile(const char *rel) {
  for (size_t i = 0; i < W->base.n_files; i++)
    if (strncmp(W->base.files[i], "volatile/", 9) == 0 && strcmp(W->base.files[i], rel) > 0)
      return false;
  return true;
}

/* A cut in the newest file is what a crash leaves there (torn_bytes, no
 * damage); a cut elsewhere and a flipped byte are damage, except a flip
 * in the length of the newest file's last record, which may make it look
 * cut short, and is then one or the other. */
static void expect_volatile_report(kase *k, const cdl_volatile_stats *st, const char *rel,
                                   uint64_t at, bool cut, bool in_last_length) {
  bool newest = newest_volatile(rel), torn = st->torn_bytes > 0;
  if (newest && cut)
    EXPECT(k, torn && st->damaged_files == 0, "%s cut at %llu: %llu torn bytes, %zu damaged files",
           rel, (unsigned long long)at, (unsigned long long)st->torn_bytes, st->damaged_files);
  else if (newest && in_last_length)
    EXPECT(k, st->damaged_files + (torn ? 1 : 0) == 1, "%s length flipped at %llu: %zu damaged",
           rel, (unsigned long long)at, st->damaged_files);
  else
    EXPECT(k, st->damaged_files == 1 && !torn, "%s damaged at %llu: %zu damaged files, %llu torn",
           rel, (unsigned long long)at, st->damaged_files, (unsigned long long)st->torn_bytes);
}

static void volatile_case(failures *f, uint64_t seed) {
  vrec *recs = calloc(MAX_RECORDS, sizeof *recs);
  assert_non_null(recs);
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed);
  size_t nv = 0, pick;
  for (size_t i = 0; i < W->base.n_files; i++) nv += strncmp(W->base.files[i], "volatile/", 9) == 0;
  assert_true(nv > 0);
  pick = (size_t)cdl_gen_rng_below(&r, nv);
  const char *rel = NULL;
  for (size_t i = 0; rel == NULL; i++)
    if (strncmp(W->base.files[i], "volatile/", 9) == 0 && pick-- == 0) rel = W->base.files[i];
  kase k;
  kase_begin(&k, f, seed % 2 ? "(f) volatile byte flipped" : "(f) volatile file cut", seed);
  char path[256];
  path_in(k.dir, rel, path, sizeof path);
  size_t n = parse_volatile(path, recs, MAX_RECORDS), hit = 0;
  uint64_t at = cdl_gen_rng_below(&r, file_size(path));
  while (recs[hit].end <= at) hit++;
  if (seed % 2) flip_at(path, at, nonzero_byte(&r));
  else cut_to(path, at == recs[hit].offset ? at + 1 : at); /* inside record |hit| */
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    expect_volatile_report(&k, &rep.volatile_db, rel, at, seed % 2 == 0,
                           hit + 1 == n && at >= recs[hit].offset + 4 && at < recs[hit].offset + 8);
    long tip = check_db(&k, db), want = tip_without(recs, n, hit);
    EXPECT(&k, tip == want, "%s damaged in record %zu: tip %ld, expected %ld", rel, hit, tip,
           want);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
  free(recs);
}


/* ---- (g): random damage ------------------------------------------------------------ */

enum { D_FLIP, D_FLIPS, D_CUT, D_DELETE, D_ZERO, D_APPEND, D_HEADER, D_KINDS };
static const char *const DAMAGE[D_KINDS] = {"one byte flipped", "bytes flipped", "cut",
                                            "deleted", "range zeroed", "garbage appended",
                                            "start overwritten"};

static uint64_t first_diff(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
  size_t n = na < nb ? na : nb;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return i;
  return na == nb ? UINT64_MAX : n;
}

/* Damages |path|. Returns the offset of the first byte that is not what
 * it was (0 when deleted, UINT64_MAX when nothing changed); *in_place says
 * whether bytes were changed in place, which in a chunk only a check of
 * every block can see. */
static uint64_t damage(const char *path, int kind, cdl_gen_rng *r, bool *in_place) {
  *in_place = false;
  if (kind == D_DELETE) return assert_int_equal(unlink(path), 0), 0;
  cdl_buf b, old;
  read_file(path, &b);
  read_file(path, &old);
  size_t n = b.len;
  if (n == 0) kind = D_APPEND;
  if (kind == D_FLIP || kind == D_FLIPS) {
    size_t times = kind == D_FLIP ? 1 : 2 + (size_t)cdl_gen_rng_below(r, 7);
    for (size_t i = 0; i < times; i++) b.data[cdl_gen_rng_below(r, n)] ^= nonzero_byte(r);
  } else if (kind == D_CUT) {
    b.len = (size_t)cdl_gen_rng_below(r, n);
  } else if (kind == D_ZERO) {
    size_t at = (size_t)cdl_gen_rng_below(r, n), len = 1 + (size_t)cdl_gen_rng_below(r, 512);
    memset(b.data + at, 0, len < n - at ? len : n - at);
  } else if (kind == D_APPEND) {
    uint8_t junk[300];
    size_t len = 1 + (size_t)cdl_gen_rng_below(r, sizeof junk);
    cdl_gen_rng_bytes(r, junk, len);
    assert_int_equal(cdl_buf_append(&b, junk, len), CDL_OK);
  } else {
    uint8_t junk[32];
    cdl_gen_rng_bytes(r, junk, sizeof junk);
    memcpy(b.data, junk, n < sizeof junk ? n : sizeof junk);
  }
  *in_place = kind != D_CUT && kind != D_APPEND;
  uint64_t first = first_diff(old.data, old.len, b.data, b.len);
  write_file(path, b.data, b.len);
  cdl_buf_free(&b);
  cdl_buf_free(&old);
  return first;
}

/* The immutable blocks that must survive damage to |rel| from byte |first|
 * on: in a chunk, the blocks that end before it (and, when they are all of
 * the chunk's, every later chunk too); elsewhere, all of them. */
static size_t must_keep(const char *rel, uint64_t first) {
  unsigned no;
  int used = 0;
  if (sscanf(rel, "immutable/%5u.chunk%n", &no, &used) != 1 || rel[used] != '\0')
    return W->base.imm_count;
  size_t lo, hi, keep;
  blocks_of_chunk(no, &lo, &hi);
  for (keep = lo; keep < hi && W->chunk_offset[keep] + W->blocks[keep].len <= first; keep++)
    continue;
  return keep == hi ? W->base.imm_count : keep;
}

static void random_case(failures *f, uint64_t seed) {
  cdl_gen_rng r;
  cdl_gen_rng_seed(&r, seed * 7919);
  const char *rel = W->base.files[cdl_gen_rng_below(&r, W->base.n_files)];
  int kind = (int)cdl_gen_rng_below(&r, D_KINDS);
  char name[160];
  snprintf(name, sizeof name, "(g) %s: %s", rel, DAMAGE[kind]);
  kase k;
  kase_begin(&k, f, name, seed);
  char path[256];
  path_in(k.dir, rel, path, sizeof path);
  bool in_place;
  uint64_t first = damage(path, kind, &r, &in_place);
  bool validate_all = (in_place && strstr(rel, ".chunk") != NULL) || cdl_gen_rng_below(&r, 4) == 0;
  unsigned no;
  int used = 0;
  if (kind == D_DELETE && sscanf(rel, "immutable/%5u.chunk%n", &no, &used) == 1 &&
      rel[used] == '\0') {
    char what[160], remedy[64];
    snprintf(what, sizeof what, "%s is missing", rel);
    remedy_for(no, remedy, sizeof remedy);
    expect_missing(&k, what, remedy);
    kase_end(&k);
    return;
  }
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, validate_all, &rep);
  if (db != NULL) {
    size_t keep = must_keep(rel, first);
    EXPECT(&k, rep.immutable.blocks == keep,
           "damage from byte %lld: the immutable DB kept %llu blocks, the last good one is %zu",
           first == UINT64_MAX ? -1ll : (long long)first,
           (unsigned long long)rep.immutable.blocks, keep);
    long tip = check_db(&k, db);
    close_case(&k, db);
    second_open(&k, tip);
  }
  kase_end(&k);
}

/* ---- The tests ----------------------------------------------------------------------- */

/* A test running |one| for seeds |first| to |last| (chunk numbers for some). */
#define CASES_TEST(name, one, first, last, what) \
  static void name(void **state) {               \
    (void)state;                                 \
    run_cases(one, first, last, what);           \
  }

CASES_TEST(test_chunk_flip, flip_case, 1, 40, "(a) flipped byte in a chunk")
CASES_TEST(test_chunk_cut, cut_case, 1, 24, "(b) chunk cut inside a block")
CASES_TEST(test_chunk_tail_junk, junk_case, 0, last_chunk(), "(b) junk after a chunk")
CASES_TEST(test_index_deleted, index_deleted_case, 0, last_chunk(), "(c) deleted index")
CASES_TEST(test_index_damaged, index_damaged_case, 1, 24, "(d) damaged index")
CASES_TEST(test_snapshot_damaged, snapshot_case, 1, 14, "(e) damaged or older snapshot")
CASES_TEST(test_volatile_damaged, volatile_case, 1, 24, "(f) damaged volatile file")
CASES_TEST(test_random_damage, random_case, 1, RANDOM_CASES, "(g) random damage")
CASES_TEST(test_chunk_file_missing, chunk_file_missing_case, 0, last_chunk(),
           "(h) chunk file deleted")
CASES_TEST(test_chunk_gap, chunk_gap_case, 0, 2 * last_chunk() - 1, "(h) chunks deleted")
CASES_TEST(test_last_chunks_missing, last_chunks_missing_case, 0, last_chunk(),
           "(h) last chunks deleted")

static void test_cut_killed(void **state) {
  (void)state;
  failures f = {0};
  killed_cuts(&f);
  report(&f, "(h) a cut killed at each change");
}

/* After damage cuts the immutable DB (chunk 3 cut to one byte, so it and
 * the chunks after it go; the volatile files lost), the snapshots past the
 * cut cannot be used; the DB
 * must still keep the snapshots it takes as it grows again, so that an
 * open after a crash does not replay from the genesis. The chain regrows
 * to slot 500 only: at the old snapshots' slots they would be usable
 * again. */
static void test_snapshots_after_cut(void **state) {
  (void)state;
  failures f = {0};
  kase k;
  kase_begin(&k, &f, "snapshots after a cut", 0);
  shell("cd %s && truncate -s 1 immutable/00003.chunk && rm volatile/*", k.dir);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  assert_non_null(db);
  long tip = check_db(&k, db);
  size_t lo, hi;
  blocks_of_chunk(2, &lo, &hi);
  EXPECT(&k, tip == (long)hi - 1, "tip %ld after the cut, expected %zu", tip, hi - 1);
  size_t added = 0;
  for (size_t i = (size_t)(tip + 1); i < W->n_blocks && W->info[i].slot <= 500; i++, added++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    cdl_error err = {0};
    assert_int_equal(cdl_chaindb_add_block(db, W->blocks[i].ptr, W->blocks[i].len, &res, &rej,
                                           &err), CDL_OK);
  }
  assert_true(added >= 3 * W->snapshot_interval);
  cdl_chaindb_abandon(db); /* a crash */
  db = open_case(&k, false, &rep);
  if (db != NULL) {
    EXPECT(&k, rep.snapshot[0] != '\0',
           "%zu blocks added after the cut, yet no snapshot is left to open from (%zu skipped, "
           "%llu blocks replayed from the genesis)", added, rep.snapshots_skipped,
           (unsigned long long)rep.replayed_blocks);
    check_db(&k, db);
    cdl_chaindb_abandon(db);
  }
  kase_end(&k);
  report(&f, "snapshots after a cut");
}

/* The real chain (one chunk, k = 2160, real transactions): a few cases of
 * each kind. */
static void test_mainnet(void **state) {
  (void)state;
  W = &MAIN;
  failures f = {0};
  for (uint64_t seed = 1; seed <= 4; seed++) flip_case(&f, seed);
  for (uint64_t seed = 1; seed <= 2; seed++) cut_case(&f, seed);
  index_deleted_case(&f, 0);
  for (uint64_t seed = 1; seed <= 3; seed++) index_damaged_case(&f, seed);
  for (uint64_t seed = 1; seed <= 2; seed++) snapshot_case(&f, seed);
  snapshot_case(&f, 9);
  for (uint64_t seed = 1; seed <= 2; seed++) volatile_case(&f, seed);
  for (uint64_t seed = 1; seed <= 8; seed++) random_case(&f, seed);
  mainnet_missing_cases(&f);
  W = &GEN;
  report(&f, "mainnet epoch 0, every kind of damage");
}

/* A damaged genesis.hash is refused, never a crash. */
static void test_genesis_hash_damaged(void **state) {
  (void)state;
  failures f = {0};
  kase k;
  kase_begin(&k, &f, "genesis.hash flipped", 1);
  char path[256];
  path_in(k.dir, "genesis.hash", path, sizeof path);
  flip_at(path, 3, 0x01);
  cdl_chaindb_config cfg = config_of(k.dir, false);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_open(&cfg, &db, NULL, &err), CDL_E_USAGE);
  assert_null(db);
  kase_end(&k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunk_flip),
      cmocka_unit_test(test_chunk_cut),
      cmocka_unit_test(test_chunk_tail_junk),
      cmocka_unit_test(test_index_deleted),
      cmocka_unit_test(test_index_damaged),
      cmocka_unit_test(test_snapshot_damaged),
      cmocka_unit_test(test_volatile_damaged),
      cmocka_unit_test(test_random_damage),
      cmocka_unit_test(test_chunk_file_missing),
      cmocka_unit_test(test_chunk_gap),
      cmocka_unit_test(test_last_chunks_missing),
      cmocka_unit_test(test_cut_killed),
      cmocka_unit_test(test_snapshots_after_cut),
      cmocka_unit_test(test_mainnet),
      cmocka_unit_test(test_genesis_hash_damaged),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
