/*
 * storage_support.c: helpers shared by the storage tests; see
 * storage_support.h.
 */
#define _GNU_SOURCE
#include "storage_support.h"

#include "cardinal/crypto.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Directories, files, processes ------------------------------------------ */

void make_dir(char *out, size_t cap, const char *what) {
  snprintf(out, cap, "/tmp/cdl-%s-XXXXXX", what);
  assert_non_null(mkdtemp(out));
}

void remove_dir(const char *dir) { shell("rm -rf '%s'", dir); }

void shell(const char *fmt, ...) {
  char cmd[600];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof cmd);
  if (system(cmd) != 0) fail_msg("command failed: %s", cmd);
}

void path_in(const char *dir, const char *rel, char *out, size_t cap) {
  if ((size_t)snprintf(out, cap, "%s/%s", dir, rel) >= cap) fail_msg("path too long: %s", rel);
}

static void copy_level(const char *from, const char *to, int depth) {
  DIR *d = opendir(from);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char src[256], dst[256];
    path_in(from, e->d_name, src, sizeof src);
    path_in(to, e->d_name, dst, sizeof dst);
    struct stat st;
    assert_int_equal(stat(src, &st), 0);
    if (S_ISDIR(st.st_mode)) {
      assert_true(depth < 2);
      assert_int_equal(mkdir(dst, 0755), 0);
      copy_level(src, dst, depth + 1);
    } else {
      cdl_buf b;
      read_file(src, &b);
      write_file(dst, b.data, b.len);
      cdl_buf_free(&b);
    }
  }
  closedir(d);
}

void copy_tree(const char *from, const char *to) { copy_level(from, to, 0); }

static void remove_level(const char *dir, int depth) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char path[256];
    path_in(dir, e->d_name, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    if (S_ISDIR(st.st_mode) && depth < 2) remove_level(path, depth + 1);
    else assert_int_equal(unlink(path), 0);
  }
  closedir(d);
  assert_int_equal(rmdir(dir), 0);
}

void remove_tree(const char *dir) { remove_level(dir, 0); }

/* scandir's order for tree_fingerprint. */
static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static void fingerprint_level(const char *dir, int depth, cdl_buf *out) {
  struct dirent **names;
  int n = scandir(dir, &names, NULL, by_name);
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    char path[512];
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      path_in(dir, name, path, sizeof path);
      struct stat st;
      assert_int_equal(stat(path, &st), 0);
      if (S_ISDIR(st.st_mode) && depth < 2) {
        fingerprint_level(path, depth + 1, out);
      } else {
        cdl_buf bytes;
        read_file(path, &bytes);
        char line[600];
        int len = snprintf(line, sizeof line, "%s %zu %08x\n", path, bytes.len,
                           (unsigned)cdl_crc32(bytes.data, bytes.len));
        cdl_buf_append(out, line, (size_t)len);
        cdl_buf_free(&bytes);
      }
    }
    free(names[i]);
  }
  free(names);
}

void tree_fingerprint(const char *dir, cdl_buf *out) {
  cdl_buf_init(out, 0);
  fingerprint_level(dir, 0, out);
}

long long disk_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

uint64_t file_size(const char *path) {
  long long size = disk_size(path);
  if (size < 0) fail_msg("no file %s", path);
  return (uint64_t)size;
}

void read_file(const char *path, cdl_buf *out) {
  cdl_error err = {0};
  cdl_buf_init(out, 0);
  if (cdl_file_read_all(path, (size_t)1 << 30, out, &err) != CDL_OK)
    fail_msg("read %s: %s", path, err.message);
}

void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

void flip_at(const char *path, uint64_t offset, uint8_t mask) {
  assert_true(mask != 0);
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  assert_int_equal(fseeko(f, (off_t)offset, SEEK_SET), 0);
  int c = fgetc(f);
  assert_true(c != EOF);
  assert_int_equal(fseeko(f, (off_t)offset, SEEK_SET), 0);
  assert_int_equal(fputc(c ^ mask, f), c ^ mask);
  assert_int_equal(fclose(f), 0);
}

/* The child's side of run_child: never returns. */
static _Noreturn void child_side(int (*fn)(void *arg), void *arg, const void *reply,
                                 size_t reply_len, int fd) {
  int rc = fn(arg);
  if (fd >= 0 && write(fd, reply, reply_len) != (ssize_t)reply_len) rc = 125;
  if (fd >= 0) close(fd);
  fflush(stderr);
  exit(rc);
}

int run_child(int (*fn)(void *arg), void *arg, void *reply, size_t reply_len, size_t *got) {
  int p[2] = {-1, -1};
  if (reply != NULL) assert_int_equal(pipe(p), 0);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (p[0] >= 0) close(p[0]);
    child_side(fn, arg, reply, reply_len, p[1]);
  }
  if (reply != NULL) {
    close(p[1]);
    ssize_t n = read(p[0], reply, reply_len);
    close(p[0]);
    if (got != NULL) *got = n > 0 ? (size_t)n : 0;
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

size_t open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;
}

uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void filter_tests_from_env(void) {
  const char *only = getenv("CDL_TEST_FILTER");
  if (only != NULL) cmocka_set_test_filter(only);
}

/* ---- Blocks ------------------------------------------------------------------ */

cdl_block_info info_of(const uint8_t *bytes, size_t len, uint64_t epoch_slots) {
  cdl_block_info info;
  cdl_error err = {0};
  if (cdl_block_info_read(bytes, len, epoch_slots, &info, &err) != CDL_OK)
    fail_msg("block info: %s", err.message);
  return info;
}

void assert_same_info(const cdl_block_info *a, const cdl_block_info *b) {
  assert_memory_equal(a->hash, b->hash, 32);
  assert_memory_equal(a->prev_hash, b->prev_hash, 32);
  assert_int_equal(a->slot, b->slot);
  assert_int_equal(a->block_no, b->block_no);
  assert_int_equal(a->is_ebb, b->is_ebb);
  assert_int_equal(a->size, b->size);
  assert_int_equal(a->header_offset, b->header_offset);
  assert_int_equal(a->header_size, b->header_size);
}

uint64_t chain_key(const cdl_block_info *b) { return 2 * b->block_no + (b->is_ebb ? 1 : 0); }

long find_key(const cdl_block_info *info, size_t n, uint64_t key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (chain_key(&info[mid]) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && chain_key(&info[lo]) == key ? (long)lo : -1;
}

long find_block(const cdl_block_info *info, size_t n, const cdl_block_info *b) {
  long i = find_key(info, n, chain_key(b));
  return i >= 0 && memcmp(info[i].hash, b->hash, 32) == 0 ? i : -1;
}

bool immutable_matches(cdl_immutable *im, const cdl_span *blocks, size_t n, char *why,
                       size_t cap) {
  cdl_immutable_pos pos = {0, 0};
  cdl_buf buf;
  cdl_buf_init(&buf, 0);
  bool same = true;
  size_t i = 0;
  for (bool more = cdl_immutable_count(im) > 0; more && same;
       more = cdl_immutable_next(im, &pos), i++) {
    cdl_error err = {0};
    cdl_buf_reset(&buf);
    if (cdl_immutable_read(im, pos, &buf, NULL, &err) != CDL_OK) {
      snprintf(why, cap, "immutable block %zu cannot be read: %s", i, err.message);
      same = false;
    } else if (i >= n || buf.len != blocks[i].len ||
               memcmp(buf.data, blocks[i].ptr, buf.len) != 0) {
      snprintf(why, cap, "immutable block %zu is not the block written", i);
      same = false;
    }
  }
  cdl_buf_free(&buf);
  return same;
}

void copy_bytes(cdl_buf *out, const uint8_t *data, size_t len) {
  cdl_buf_init(out, 0);
  assert_int_equal(cdl_buf_append(out, data, len), CDL_OK);
}

cdl_point point_of(const cdl_block_info *b) {
  cdl_point p = {.origin = false, .slot = b->slot};
  memcpy(p.hash, b->hash, 32);
  return p;
}

void flip_signature(cdl_buf *block) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_block blk;
  assert_int_equal(cdl_byron_block_decode(block->data, block->len, &t.ctx, &blk), CDL_OK);
  assert_false(blk.is_ebb);
  block->data[(size_t)(blk.header.signature - block->data) + 9] ^= 0x20;
  test_ctx_free(&t);
}

/* ---- Generated chains ---------------------------------------------------------- */

void gen_genesis(const char *dir, uint64_t k, uint32_t poor, uint64_t seed, cdl_gen_dir *out) {
  cdl_gen_genesis_spec s = {.protocol_magic = 42, .k = k, .start_time = 1700000000,
                            .genesis_keys = 7, .poor_addresses = poor,
                            .poor_balance = 1000000000000ull, .has_seed = true, .seed = seed};
  cdl_gen_default_params(&s.params);
  s.params.slot_duration_ms = 1000;
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&s, dir, &err) != CDL_OK) fail_msg("genesis: %s", err.message);
  if (cdl_gen_dir_load(dir, out, &err) != CDL_OK) fail_msg("genesis load: %s", err.message);
}

int gchain_try(const cdl_gen_dir *g, const cdl_gen_chain_opts *o, gchain *c, cdl_error *err) {
  *c = (gchain){0};
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_non_null(f);
  cdl_gen_chain_stats st;
  cdl_rejection rej;
  int rc = cdl_gen_chain(g, o, f, &st, &rej, err);
  fclose(f);
  copy_bytes(&c->data, (const uint8_t *)mem, len);
  free(mem);
  if (rc == CDL_OK) rc = cdl_gen_split_chunk(c->data.data, c->data.len, &c->blocks, &c->n, err);
  if (rc != CDL_OK) {
    cdl_buf_free(&c->data);
    return rc;
  }
  c->info = calloc(c->n, sizeof *c->info);
  assert_non_null(c->info);
  for (size_t i = 0; i < c->n; i++)
    c->info[i] = info_of(c->blocks[i].ptr, c->blocks[i].len, 10 * g->genesis.k);
  return CDL_OK;
}

void gchain_make(const cdl_gen_dir *g, const cdl_gen_chain_opts *o, gchain *c) {
  cdl_error err = {0};
  if (gchain_try(g, o, c, &err) != CDL_OK) fail_msg("generate: %s", err.message);
}

void gchain_free(gchain *c) {
  cdl_buf_free(&c->data);
  free(c->blocks);
  free(c->info);
  *c = (gchain){0};
}

void gen_forks_make(gen_forks *f) {
  make_dir(f->dir, sizeof f->dir, "chaindb-gen");
  gen_genesis(f->dir, FORKS_K, 3, 9, &f->gen);
  cdl_gen_chain_opts o = {.slots = 8 * FORKS_EPOCH, .fill = 0.8, .txs_per_block = 1, .seed = 1};
  gchain_make(&f->gen, &o, &f->x);
  o.fill = 0.6, o.seed = 2;
  gchain_make(&f->gen, &o, &f->y);
  assert_true(cdl_span_eq(f->x.blocks[0], f->y.blocks[0]));   /* the genesis EBB */
  assert_false(cdl_span_eq(f->x.blocks[1], f->y.blocks[1])); /* the fork */
}

void gen_forks_free(gen_forks *f) {
  gchain_free(&f->x);
  gchain_free(&f->y);
  cdl_gen_dir_free(&f->gen);
  remove_dir(f->dir);
}

gen_forks FORKS;
const gchain *const GX = &FORKS.x, *const GY = &FORKS.y;

int forks_setup(void **state) {
  test_group_setup(state);
  gen_forks_make(&FORKS);
  return 0;
}

int forks_teardown(void **state) {
  (void)state;
  gen_forks_free(&FORKS);
  return 0;
}

/* ---- ChainDB ---------------------------------------------------------------------- */

cdl_ledger_config ledger_of(const cdl_byron_genesis *g, unsigned flags) {
  return (cdl_ledger_config){g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic),
                             g->k, 0, flags, NULL};
}

cdl_chaindb_config chaindb_config(const char *dir, const cdl_byron_genesis *g, cdl_fs *fs) {
  return (cdl_chaindb_config){.dir = dir, .genesis = g, .ledger = ledger_of(g, 0), .fs = fs};
}

cdl_chaindb *db_open(const cdl_chaindb_config *cfg, cdl_chaindb_report *rep) {
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  if (cdl_chaindb_open(cfg, &db, rep, &err) != CDL_OK)
    fail_msg("chaindb open %s: %s", cfg->dir, err.message);
  return db;
}

void db_close(cdl_chaindb *db) {
  cdl_error err = {0};
  if (cdl_chaindb_close(db, &err) != CDL_OK) fail_msg("chaindb close: %s", err.message);
}

cdl_chaindb_add_result add_expect(cdl_chaindb *db, cdl_span b, cdl_chaindb_outcome want) {
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  if (cdl_chaindb_add_block(db, b.ptr, b.len, &res, &rej, &err) != CDL_OK)
    fail_msg("add: %s", err.message);
  if (res.outcome != want)
    fail_msg("add: outcome %d, expected %d (%s)", res.outcome, want, rej.rule ? rej.rule : "");
  return res;
}

/* ---- The re-forged real chain ----------------------------------------------------- */

reforge RF;

int rf_setup(void **state) {
  test_group_setup(state);
  reforge_init(&RF, RF_BLOCKS);
  return 0;
}

int rf_teardown(void **state) {
  (void)state;
  reforge_free(&RF);
  return 0;
}

void forge_alt(size_t j, const uint8_t prev[32], unsigned signer, cdl_buf *out) {
  reforge_block(&RF, j, prev, cdl_span_of(NULL, 0), &RF.del[signer % 7], out);
}

cdl_chaindb_config rf_config(const char *dir, uint64_t k, cdl_fs *fs) {
  const cdl_byron_genesis *g = &RF.fix.g;
  cdl_chaindb_config c = chaindb_config(dir, g, fs);
  c.ledger.k = k;
  c.ledger.pbft_threshold = k == g->k ? 0 : 1.0;
  return c;
}

void gen_payment(const cdl_gen_dir *g, size_t from, size_t to, uint64_t lovelace, cdl_buf *out,
                 uint8_t id[32]) {
  cdl_gen_genesis_payment(g, from, to, lovelace, out, id);
}
