/*
 * corrupt_world.h: the fixture the storage corruption tests share
 * (test_corrupt.c, corrupt_missing.c; what they check: test_corrupt.c's
 * opening comment): the source chains (a generated k = 10 chain of six
 * epochs and the first 3,000 blocks of mainnet epoch 0), the undamaged
 * base DB built from each, the cases and their collected failures, and
 * the helpers that damage a copy, open it and judge what it kept.
 */
#ifndef CDL_TESTS_CORRUPT_WORLD_H
#define CDL_TESTS_CORRUPT_WORLD_H

#include "storage_support.h"

#define GEN_K 10
#define GEN_SLOTS 600 /* six epochs of 100 slots, six chunks */
#define MAINNET_BLOCKS 3000 /* 840 immutable (k = 2160), one chunk */
#if UNDER_ASAN
#define RANDOM_CASES 200 /* each case is about ten times slower */
#else
#define RANDOM_CASES 240
#endif
#define MAX_FILES 256
#define MAX_RECORDS 2048

/* A source chain and the undamaged base DB built from it. */
typedef struct world {
  const char *name;
  const cdl_byron_genesis *genesis;
  cdl_ledger_config ledger;
  uint64_t epoch_slots, snapshot_interval;
  const cdl_span *blocks;
  size_t n_blocks;
  cdl_block_info *info;
  uint64_t *chunk_offset; /* each block's offset in its chunk file */
  bool *in_volatile;      /* the block is in a volatile file of the base */
  struct base {
    char dir[64];
    size_t imm_count; /* blocks in the immutable DB */
    long tip;         /* source index of the tip */
    cdl_ledger_totals totals;
    char snaps[2][160];         /* newest first */
    char files[MAX_FILES][128]; /* relative paths of every file but genesis.hash */
    size_t n_files;
  } base;
} world;

typedef struct failures {
  unsigned n, cases;
  char first[10][320];
} failures;

typedef struct kase {
  const char *name;
  uint64_t seed;
  failures *f;
  char dir[64];
  bool bad;
} kase;

#define EXPECT(k, cond, ...)               \
  do {                                     \
    if (!(cond)) kase_fail(k, __VA_ARGS__); \
  } while (0)

typedef struct vrec {
  uint64_t offset, end;
  long block; /* source index */
} vrec;

extern world GEN, MAIN;
extern world *W; /* the one the running test damages */

void kase_fail(kase *k, const char *fmt, ...);

void report(const failures *f, const char *what);

/* Runs |one| for seeds first..last (chunk numbers for some) and reports
 * the failures together as |what|. */
void run_cases(void (*one)(failures *f, uint64_t seed), uint64_t first, uint64_t last,
                      const char *what);

/* The source index of |b| when it is that block of the source, else -1. */
long index_of(const cdl_block_info *b);

uint32_t chunk_of(size_t i);

/* The last chunk of the base DB. */
uint32_t last_chunk(void);

void cut_to(const char *path, uint64_t size);

uint8_t nonzero_byte(cdl_gen_rng *r);

void kase_begin(kase *k, failures *f, const char *name, uint64_t seed);

void kase_end(kase *k);

cdl_chaindb_config config_of(const char *dir, bool validate_all);

/* The records of a volatile file ("CDLV" | u32 length | u32 CRC | block). */
size_t parse_volatile(const char *path, vrec *out, size_t max);

cdl_chaindb *open_case(kase *k, bool validate_all, cdl_chaindb_report *rep);

/* The tip's source index (-1: empty); checks that it and the ledger's tip
 * are one block of the source, that the immutable blocks are intact and
 * that db validate (cdl_immutable_check_all) passes. */
long check_db(kase *k, cdl_chaindb *db);

void close_case(kase *k, cdl_chaindb *db);

/* A second open repairs nothing and has tip |tip| (every block was checked
 * against its index by cdl_immutable_check_all after the first). */
void second_open(kase *k, long tip);

/* After damage at source block |d|: the immutable DB kept exactly the
 * blocks before it, and the chain ends before it unless the volatile
 * files still hold it (then chain selection takes it up again: a volatile
 * GC forgets blocks but removes only files holding nothing newer). */
void expect_cut_at(kase *k, cdl_chaindb *db, const cdl_chaindb_report *rep, size_t d,
                          long tip);

int group_setup(void **state);

int group_teardown(void **state);

void chunk_path(const char *dir, uint32_t no, const char *ext, char *out, size_t cap);

long tip_of(cdl_chaindb *db);

/* The immutable blocks of chunk |c|: [*lo, *hi). */
void blocks_of_chunk(uint32_t c, size_t *lo, size_t *hi);

#endif /* CDL_TESTS_CORRUPT_WORLD_H */
