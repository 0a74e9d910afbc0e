/*
 * corrupt_missing.c: case (h) of the storage corruption test
 * (test_corrupt.c's opening comment; docs/storage.md "Missing files"):
 * chunk files and indexes deleted, gaps, the last chunks or the whole
 * immutable DB gone, and the owner's cutting open killed at each change.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrupt_missing.h"
#include "killer_fs.h"

/* ---- (h): missing files ------------------------------------------------------------ */

/* What a refusal must offer for a chunk missing from chunk |c| on: the
 * truncation that keeps the blocks before it, or nothing when none is. */
void remedy_for(uint32_t c, char *out, size_t cap) {
  size_t lo, hi;
  blocks_of_chunk(c, &lo, &hi);
  if (lo == 0) snprintf(out, cap, "no block comes before it");
  else snprintf(out, cap, "db truncate --to-slot %llu", (unsigned long long)W->info[lo - 1].slot);
}

/* Copy |k| opened by its owner and by a reader: both refused with
 * storage.missing, the message saying |what| and |remedy|, and not a byte
 * of any file changed (nothing cut, removed or rewritten). */
void expect_missing(kase *k, const char *what, const char *remedy) {
  cdl_buf before, after;
  tree_fingerprint(k->dir, &before);
  for (int reader = 0; reader < 2; reader++) {
    cdl_chaindb_config cfg = config_of(k->dir, false);
    cfg.read_only = reader;
    cdl_chaindb *db = NULL;
    cdl_error err = {0};
    int rc = cdl_chaindb_open(&cfg, &db, NULL, &err);
    cdl_chaindb_abandon(db);
    EXPECT(k, rc == CDL_E_MISSING, "%s open: %s \"%s\", not storage.missing",
           reader ? "a reader's" : "the owner's", cdl_error_name(rc), err.message);
    EXPECT(k, strstr(err.message, what) != NULL && strstr(err.message, remedy) != NULL,
           "\"%s\" does not say \"%s\" and \"%s\"", err.message, what, remedy);
  }
  tree_fingerprint(k->dir, &after);
  EXPECT(k, before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
         "the refused opens changed files:\n%.*s\nbecame\n%.*s", (int)before.len,
         (const char *)before.data, (int)after.len, (const char *)after.data);
  cdl_buf_free(&before);
  cdl_buf_free(&after);
}

static void remove_files(kase *k, const char *pattern) { shell("cd %s && rm %s", k->dir, pattern); }

/* Chunk |c|'s file deleted, its index left: the index proves it. */
void chunk_file_missing_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)seed;
  kase k;
  kase_begin(&k, f, "(h) chunk file deleted", c);
  char pattern[64], what[64], remedy[64];
  snprintf(pattern, sizeof pattern, "immutable/%05u.chunk", c);
  remove_files(&k, pattern);
  snprintf(what, sizeof what, "immutable/%05u.chunk is missing", c);
  remedy_for(c, remedy, sizeof remedy);
  expect_missing(&k, what, remedy);
  kase_end(&k);
}

/* Chunk |c| and its index deleted, and (odd seeds, when there is one
 * before the last) chunk c + 1 too: the chunk after the gap does not
 * follow the one before it, or the genesis. */
void chunk_gap_case(failures *f, uint64_t seed) {
  uint32_t c = (uint32_t)(seed / 2), upto = c + (seed % 2 && c + 2 <= last_chunk() ? 1 : 0);
  kase k;
  kase_begin(&k, f, "(h) chunk and index deleted", seed);
  char pattern[64], what[96], remedy[64];
  snprintf(pattern, sizeof pattern, "immutable/%05u.*", c);
  remove_files(&k, pattern);
  if (upto > c) {
    snprintf(pattern, sizeof pattern, "immutable/%05u.*", upto);
    remove_files(&k, pattern);
    snprintf(what, sizeof what, "chunks %05u-%05u are missing: chunk %05u does not follow", c, upto,
             upto + 1);
  } else {
    snprintf(what, sizeof what, "chunk %05u is missing: chunk %05u does not follow the %s", c,
             c + 1, c ? "chunk before" : "genesis");
  }
  remedy_for(c, remedy, sizeof remedy);
  expect_missing(&k, what, remedy);
  kase_end(&k);
}

/* The last chunks with their indexes, or every file of the immutable DB:
 * the directory shows nothing, the newest snapshot, more than k blocks
 * past what is left, proves them missing. */
void last_chunks_missing_case(failures *f, uint64_t seed) {
  uint32_t last = last_chunk(), from = last - (uint32_t)seed;
  kase k;
  kase_begin(&k, f, "(h) last chunks and indexes deleted", seed);
  for (uint32_t c = from; c <= last; c++) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "immutable/%05u.*", c);
    remove_files(&k, pattern);
  }
  char what[96], remedy[64];
  snprintf(what, sizeof what, "the snapshot at slot %llu",
           (unsigned long long)strtoull(W->base.snaps[0] + 9, NULL, 10));
  remedy_for(from, remedy, sizeof remedy);
  if (from == 0) snprintf(remedy, sizeof remedy, "which is empty");
  expect_missing(&k, what, remedy);
  kase_end(&k);
}

/* The epoch-0 chunk of the real chain deleted (`rm DIR/immutable/00000.chunk`
 * after `db import`), and then its index too. */
void mainnet_missing_cases(failures *f) {
  chunk_file_missing_case(f, 0);
  last_chunks_missing_case(f, 0);
}

/* A crash while the owner cuts damage away (chunk 2 cut to one byte:
 * chunks 2 to the last go) never leaves what reads as missing files:
 * chunks are removed the last first, each index before its chunk, and the
 * snapshots past the cut before anything is cut. Killed before and after
 * each change the open makes; the next open takes the database and keeps
 * chunks 0-1 (and what the killed open had taken up again from the
 * volatile DB, which holds every block of this base). */
typedef struct killed_open {
  const char *dir;
  uint64_t at;
  kill_phase phase;
  uint64_t changes; /* sent back by the counting run (at 0) */
} killed_open;

static int open_killed(void *arg) {
  killed_open *a = arg;
  cdl_chaindb_config cfg = config_of(a->dir, false);
  int sink = open("/dev/null", O_WRONLY);
  cfg.fs = killer_fs(a->at, a->phase, a->at, sink, 0);
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  int rc = cdl_chaindb_open(&cfg, &db, NULL, &err);
  cdl_chaindb_abandon(db);
  a->changes = killer_changes();
  return rc == CDL_OK ? 0 : 1;
}

static void damage_chunk2(kase *k) {
  char path[256];
  chunk_path(k->dir, 2, "chunk", path, sizeof path);
  cut_to(path, 1);
}

static void killed_cut_case(failures *f, uint64_t at, kill_phase phase) {
  kase k;
  kase_begin(&k, f, phase == KILL_BEFORE ? "(h) killed before change" : "(h) killed after change",
             at);
  damage_chunk2(&k);
  killed_open a = {.dir = k.dir, .at = at, .phase = phase};
  int status = run_child(open_killed, &a, NULL, 0, NULL);
  EXPECT(&k, status == 128 + SIGKILL, "the child was not killed at change %llu (status %d)",
         (unsigned long long)at, status);
  cdl_chaindb_report rep;
  cdl_chaindb *db = open_case(&k, false, &rep);
  if (db != NULL) {
    size_t lo, hi;
    blocks_of_chunk(2, &lo, &hi);
    EXPECT(&k, rep.immutable.blocks >= lo, "the immutable DB kept %llu blocks, chunk 2 starts at %zu",
           (unsigned long long)rep.immutable.blocks, lo);
    check_db(&k, db);
    close_case(&k, db);
  }
  kase_end(&k);
}

void killed_cuts(failures *f) {
  kase k;
  kase_begin(&k, f, "(h) counting the changes of a cut", 0);
  damage_chunk2(&k);
  killed_open a = {.dir = k.dir};
  size_t got = 0;
  EXPECT(&k, run_child(open_killed, &a, &a, sizeof a, &got) == 0 && got == sizeof a,
         "the open that cuts chunk 2 failed");
  kase_end(&k);
  for (uint64_t at = 1; at <= a.changes; at++) {
    killed_cut_case(f, at, KILL_BEFORE);
    killed_cut_case(f, at, KILL_AFTER);
  }
}

