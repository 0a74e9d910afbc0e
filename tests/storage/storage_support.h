/*
 * storage_support.h: helpers shared by the storage tests (tests/storage
 * and tests/unit/test_volatile.c; docs/testing.md): temporary directories
 * and files, a function run in a forked child, open descriptors, block
 * infos and chain keys, generated chains (a genesis directory, its blocks
 * and their infos), ChainDB configurations and calls that fail the test,
 * and the re-forged real chain the ChainDB scenarios and model use.
 */
#ifndef CARDINAL_TEST_STORAGE_SUPPORT_H
#define CARDINAL_TEST_STORAGE_SUPPORT_H

#include "cardinal/gen.h"
#include "cardinal/storage.h"
#include "../unit/chain_support.h"

/* 1 in AddressSanitizer builds (about ten times slower: fewer iterations). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* ---- Directories, files, processes ------------------------------------------ */

/* A new directory /tmp/cdl-<what>-XXXXXX, its path in |out|. */
void make_dir(char *out, size_t cap, const char *what);
/* rm -rf |dir|, failing the test if that fails. */
void remove_dir(const char *dir);
/* Runs a printf-formatted shell command; fails the test unless it exits 0. */
void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* |dir|/|rel| into |out|, failing the test when it does not fit. */
void path_in(const char *dir, const char *rel, char *out, size_t cap);
/* Copies the files of |from| and its subdirectories (two levels deep at
 * most, as a DB is) into |to|, which exists; in-process, cheaper than cp. */
void copy_tree(const char *from, const char *to);
/* Removes |dir| as copy_tree makes them: files, subdirectories, itself. */
void remove_tree(const char *dir);
/* Every file under |dir| (two levels, as a database is) with its size and
 * CRC, one line each in name order, into |out| (initialised here): what an
 * open that may change nothing must leave exactly as it was. */
void tree_fingerprint(const char *dir, cdl_buf *out);

/* The size of a file, -1 when it does not exist. */
long long disk_size(const char *path);
/* The size of a file that must exist. */
uint64_t file_size(const char *path);
/* A whole file into |out| (initialised here). */
void read_file(const char *path, cdl_buf *out);
/* Creates or replaces a file with exactly these bytes. */
void write_file(const char *path, const void *data, size_t len);
/* XORs the byte at |offset| (which must exist) with |mask| (not 0), in place. */
void flip_at(const char *path, uint64_t offset, uint8_t mask);

/* Runs fn(arg) in a forked child, which leaves with exit() (sanitizer
 * builds check it for leaks) with fn's result as its status. With |reply|,
 * the child sends the |reply_len| bytes there (as fn left them) back to
 * the parent's copy, and *got says how many arrived. Returns the child's
 * exit status, or 128 + the signal that ended it. */
int run_child(int (*fn)(void *arg), void *arg, void *reply, size_t reply_len, size_t *got);
/* Descriptors this process has open (entries of /proc/self/fd, without
 * the one listing them). */
size_t open_fds(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* With CDL_TEST_FILTER set, cmocka runs only the tests whose names match
 * it (a pattern: "test_model", "*follower*"). */
void filter_tests_from_env(void);

/* ---- Blocks ------------------------------------------------------------------ */

/* cdl_block_info_read of a block, failing the test if it cannot be read. */
cdl_block_info info_of(const uint8_t *bytes, size_t len, uint64_t epoch_slots);
/* Every field of two block infos is equal. */
void assert_same_info(const cdl_block_info *a, const cdl_block_info *b);
/* A block's place in chain order (2 * block number + EBB), unique along a
 * chain: an EBB repeats the number of the main block before it. */
uint64_t chain_key(const cdl_block_info *b);
/* The index in info[0..n) (a chain, in order) of the block with |key|, or -1. */
long find_key(const cdl_block_info *info, size_t n, uint64_t key);
/* The index in info[0..n) of block |b| (same key and hash), or -1. */
long find_block(const cdl_block_info *info, size_t n, const cdl_block_info *b);
/* Whether the immutable DB's blocks, from its first to its tip, are
 * blocks[0..n) byte for byte; if not, |why| names the first that is not. */
bool immutable_matches(cdl_immutable *im, const cdl_span *blocks, size_t n, char *why,
                       size_t cap);
/* A new buffer holding a copy of |len| bytes. */
void copy_bytes(cdl_buf *out, const uint8_t *data, size_t len);
/* The point of a block. */
cdl_point point_of(const cdl_block_info *b);
/* Flips one byte of a main block's signature: it decodes, the ledger
 * refuses it (CDL_RULE_PBFT_SIGNATURE). */
void flip_signature(cdl_buf *block);

/* ---- Generated chains ---------------------------------------------------------- */

/* Creates a genesis in |dir| and loads it: protocol magic 42, |k|, seven
 * genesis keys, |poor| addresses of 10^12 lovelace, 1-second slots, all
 * from |seed|. */
void gen_genesis(const char *dir, uint64_t k, uint32_t poor, uint64_t seed, cdl_gen_dir *out);

/* The Byron GenTx [0, txaux] that spends poor key |from|'s genesis output
 * (10^12 lovelace): |lovelace| to poor key |to|, the rest less a fee of
 * 1,000,000 back to |from|. |id| gets the tx id. */
void gen_payment(const cdl_gen_dir *g, size_t from, size_t to, uint64_t lovelace, cdl_buf *out,
                 uint8_t id[32]);

/* A generated chain: its bytes, the blocks in them and each block's info
 * (epochs of 10k slots). */
typedef struct gchain {
  cdl_buf data;
  cdl_span *blocks;
  cdl_block_info *info;
  size_t n;
} gchain;
/* Generates a chain of |g|; the generator's code (|c| then empty) when it
 * refuses the options. */
int gchain_try(const cdl_gen_dir *g, const cdl_gen_chain_opts *o, gchain *c, cdl_error *err);
/* The same, failing the test when the generator refuses. */
void gchain_make(const cdl_gen_dir *g, const cdl_gen_chain_opts *o, gchain *c);
void gchain_free(gchain *c);

/* Two chains of one k = 5 genesis (seed 9), eight epochs each: X (seed 1,
 * fill 0.8) and Y (seed 2, fill 0.6) share the genesis EBB and fork right
 * after it; every epoch starts with an EBB. */
#define FORKS_K 5
#define FORKS_EPOCH (10 * FORKS_K)
typedef struct gen_forks {
  char dir[64];
  cdl_gen_dir gen;
  gchain x, y;
} gen_forks;
void gen_forks_make(gen_forks *f);
void gen_forks_free(gen_forks *f);
/* One gen_forks for a whole test program, X and Y pointing into it: made
 * by forks_setup and freed by forks_teardown (cmocka group fixtures). */
extern gen_forks FORKS;
extern const gchain *const GX, *const GY;
int forks_setup(void **state);
int forks_teardown(void **state);

/* ---- ChainDB ---------------------------------------------------------------------- */

/* The ledger configuration of |g| itself: its magic and k, threshold 0. */
cdl_ledger_config ledger_of(const cdl_byron_genesis *g, unsigned flags);
/* A ChainDB configuration at |dir| for |g| (ledger_of, no flags) on |fs|. */
cdl_chaindb_config chaindb_config(const char *dir, const cdl_byron_genesis *g, cdl_fs *fs);
/* Opens |cfg| or fails the test. */
cdl_chaindb *db_open(const cdl_chaindb_config *cfg, cdl_chaindb_report *rep);
/* Closes |db| or fails the test. */
void db_close(cdl_chaindb *db);
/* Adds a block, failing the test unless the outcome is |want|. */
cdl_chaindb_add_result add_expect(cdl_chaindb *db, cdl_span b, cdl_chaindb_outcome want);

/* ---- The re-forged real chain (ChainDB scenarios and model) -------------------
 * The first RF_BLOCKS blocks of mainnet epoch 0 re-forged with test keys
 * (chain_support.h). A fork block re-forges real block j (its body, slot
 * and number) after any predecessor and has it signed by another genesis
 * delegate, so it is valid wherever block j - 1's number sits. */
#define RF_BLOCKS 400        /* slots 0..398 */
#define EPOCH0_SLOTS 21600   /* block infos of re-forged blocks: all in epoch 0 */
/* The re-forged chain for a whole test program: made by rf_setup (which
 * initialises crypto) and freed by rf_teardown (cmocka group fixtures). */
extern reforge RF;
int rf_setup(void **state);
int rf_teardown(void **state);
/* Real block |j| after |prev|, signed by genesis delegate |signer| (mod 7). */
void forge_alt(size_t j, const uint8_t prev[32], unsigned signer, cdl_buf *out);
/* A ChainDB of the re-forged genesis with |k|; with another k than the
 * genesis' any delegate may sign (PBFT threshold 1). */
cdl_chaindb_config rf_config(const char *dir, uint64_t k, cdl_fs *fs);

#endif /* CARDINAL_TEST_STORAGE_SUPPORT_H */
