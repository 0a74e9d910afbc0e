/*
 * crash_phases.c: the crash test's sweep (test_crash; docs/testing.md
 * "Crash tests"; docs/storage.md "Durability", "Crash residue"; docs/node.md
 * "The signing record"). Four kinds of work on a generated k = 10 chain:
 * `cardinal-cli db import` (blocks in batches of 32, as it adds what it
 * reads together), a node's ChainDB (block by block, an fsync every 25),
 * `cardinal-cli sync` (our client engine fed by our server engine over the
 * chain in memory) and a forging node (the kernel of the only core node,
 * with its signing record, ticked through 110 slots). Each runs in a child
 * whose file system (killer_fs.c) kills it at one change: every change the
 * work makes, in each phase (before it, after it, and for a write with
 * part of its bytes on disk). The work is counted first, in the parent,
 * without a kill.
 *
 * After each kill, from what the child left:
 *  1. a read-only open (what `db info`, `db export` and `chain validate
 *     --db` do) succeeds, reports no damage, passes cdl_immutable_check_all
 *     (what `db validate` runs) and changes no file, byte for byte;
 *  2. the owner's open succeeds and reports no damage (only crash residue:
 *     a torn block or record, an empty chunk), and the check passes;
 *  3. in both, the tip is at or past every block the child had been told
 *     was adopted: a block is in the OS's hands before add returns; the
 *     imports' immutable blocks are the source's, byte for byte;
 *  4. the forging node: no block on its disk lies past its signing record
 *     (the record is written before a block is signed), and started again
 *     on what it left it signs no slot the record holds.
 * A failure names the work, the change, its phase and the directory.
 * Under AddressSanitizer every fourth change is taken.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cardinal/crypto.h"
#include "cardinal/net.h"
#include "cardinal/node.h"
#include "crash_phases.h"
#include "killer_fs.h"
#include "storage_support.h"

#define PH_K 10
#define PH_SLOTS 160 /* 1.6 epochs: a second chunk, snapshots, fsyncs */
#define PH_STRIDE (UNDER_ASAN ? 4 : 1)
#define PH_FORGE_SLOTS 110 /* an epoch and a bit: 16 of the forger's slots, two EBBs */
#define PH_START_US (1700000000ull * 1000000)
#define PH_SLOT_US 1000000ull
#define MSG_KILLED UINT64_MAX
#define MSG_DONE (UINT64_MAX - 1)

/* ---- The chain and the work ------------------------------------------------ */

typedef struct phases {
  char root[64];   /* genesis, the sync source and the killed directory */
  char dir[128];   /* the directory the work is killed in */
  char source[128]; /* sync: the served database */
  char record[128]; /* forge: the signing record, outside the database */
  cdl_gen_dir gen;
  gchain chain;
  cdl_ledger_config ledger;
} phases;

typedef struct work work;
struct work {
  const char *name;
  uint64_t sync_interval; /* as the command or the node sets it */
  int (*run)(const phases *p, const work *w, cdl_fs *fs, int fd, cdl_error *err);
  bool forges;            /* its chain is its own: checked against its signing record */
};

static cdl_chaindb_config config_in(const phases *p, const char *dir, cdl_fs *fs,
                                    uint64_t sync_interval) {
  return (cdl_chaindb_config){.dir = dir, .genesis = &p->gen.genesis, .ledger = p->ledger,
                              .snapshot_interval = 40, .sync_interval = sync_interval,
                              .fs = fs};
}

static void tell(int fd, uint64_t v) {
  if (write(fd, &v, sizeof v) != (ssize_t)sizeof v) _exit(98);
}

/* Adds a block of the chain, as bytes or (|pb|, from the sync's client)
 * parsed already; its index once it is adopted. */
static int add_one(const phases *p, cdl_chaindb *db, const uint8_t *b, size_t len,
                   const cdl_parsed_block *pb, long *index, cdl_error *err) {
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  int rc = pb ? cdl_chaindb_add_parsed(db, pb, &res, &rej, err)
              : cdl_chaindb_add_block(db, b, len, &res, &rej, err);
  if (rc != CDL_OK) return rc;
  if (res.outcome != CDL_ADD_ADOPTED)
    return cdl_error_set(err, CDL_E_REJECTED, 0, "not adopted: %s", rej.rule ? rej.rule : "?");
  cdl_block_info info = info_of(b, len, 10 * PH_K);
  *index = find_block(p->chain.info, p->chain.n, &info);
  if (*index < 0) return cdl_error_set(err, CDL_E_USAGE, 0, "a block that is not the source's");
  return CDL_OK;
}

static int add_and_tell(const phases *p, cdl_chaindb *db, const cdl_parsed_block *pb, int fd,
                        cdl_error *err) {
  long i;
  int rc = add_one(p, db, pb->bytes, pb->len, pb, &i, err);
  if (rc == CDL_OK) tell(fd, (uint64_t)i + 1);
  return rc;
}

/* Blocks [from, to) in one batch, as `db import` adds what it read
 * together; told once the batch has ended. */
static int add_batch(const phases *p, cdl_chaindb *db, size_t from, size_t to, int fd,
                     cdl_error *err) {
  long last = -1;
  int rc = CDL_OK;
  cdl_chaindb_batch_begin(db);
  for (size_t i = from; rc == CDL_OK && i < to; i++)
    rc = add_one(p, db, p->chain.blocks[i].ptr, p->chain.blocks[i].len, NULL, &last, err);
  cdl_error end_err = {0};
  int ended = cdl_chaindb_batch_end(db, &end_err);
  if (rc == CDL_OK && ended != CDL_OK) rc = cdl_error_set(err, ended, 0, "%s", end_err.message);
  if (rc == CDL_OK) tell(fd, (uint64_t)last + 1);
  return rc;
}

/* `db import` (batches of 32 blocks, fsync only at the close) or a node's
 * ChainDB (block by block, an fsync every few blocks), then the close. */
static int import_work(const phases *p, const work *w, cdl_fs *fs, int fd, cdl_error *err) {
  cdl_chaindb_config cfg = config_in(p, p->dir, fs, w->sync_interval);
  cdl_chaindb *db;
  int rc = cdl_chaindb_open(&cfg, &db, NULL, err);
  if (rc != CDL_OK) return rc;
  size_t per = w->sync_interval == UINT64_MAX ? 32 : 1;
  for (size_t i = 0; rc == CDL_OK && i < p->chain.n; i += per)
    rc = add_batch(p, db, i, i + per < p->chain.n ? i + per : p->chain.n, fd, err);
  if (rc == CDL_OK) return cdl_chaindb_close(db, err);
  cdl_chaindb_abandon(db);
  return rc;
}

/* `cardinal-cli sync`: our client engine, fed by our server engine over
 * the source database in memory, storing each block it gets. */
typedef struct sync_sink {
  const phases *p;
  cdl_chaindb *db;
  int fd;
} sync_sink;

static int store_block(void *ctx, const cdl_parsed_block *block, cdl_error *err) {
  sync_sink *s = ctx;
  return add_and_tell(s->p, s->db, block, s->fd, err);
}

/* Moves bytes between the engines until the client has the whole chain. */
static int pump(cdl_n2n_client *c, cdl_n2n_server *srv, cdl_error *err) {
  cdl_buf wire;
  cdl_buf_init(&wire, 0);
  int rc = CDL_OK;
  for (int round = 0; round < 100000 && rc == CDL_OK && !cdl_n2n_client_synced(c); round++) {
    cdl_buf_reset(&wire);
    while (cdl_n2n_client_next_sdu(c, 1, &wire)) {
    }
    rc = cdl_n2n_server_recv(srv, wire.data, wire.len, 1, err);
    if (rc == CDL_OK) rc = cdl_n2n_server_poll(srv, 1, err);
    size_t sent = wire.len;
    cdl_buf_reset(&wire);
    while (rc == CDL_OK && cdl_n2n_server_next_sdu(srv, 1, &wire)) {
    }
    if (rc == CDL_OK && sent == 0 && wire.len == 0 && !cdl_n2n_server_wants_poll(srv)) break;
    if (rc == CDL_OK) rc = cdl_n2n_client_recv(c, wire.data, wire.len, 1, err);
  }
  cdl_buf_free(&wire);
  return rc;
}

static int sync_engines(const phases *p, cdl_chaindb *src, sync_sink *sink, cdl_error *err) {
  cdl_point known[32];
  size_t n_known = cdl_chaindb_known_points(sink->db, known, 32);
  uint32_t magic = p->gen.genesis.protocol_magic;
  cdl_n2n_client_config cc = {.hs = {false, 7, 14, {magic, true, 0, false}},
                              .epoch_slots = 10 * PH_K, .pipeline = 20, .fetch_batch = 50,
                              .known = known, .n_known = n_known, .on_block = store_block,
                              .ctx = sink};
  cdl_hs_config sh = {false, 7, 15, {magic, false, 0, false}};
  cdl_n2n_client *c = NULL;
  cdl_n2n_server *srv = NULL;
  cdl_n2n_chain chain;
  cdl_n2n_chain_of_chaindb(src, &chain);
  int rc = cdl_n2n_client_new(&cc, 0, &c, err);
  if (rc == CDL_OK) rc = cdl_n2n_server_new(&chain, &sh, 0, &srv, err);
  if (rc == CDL_OK) rc = pump(c, srv, err);
  if (rc == CDL_OK && !cdl_n2n_client_synced(c))
    rc = cdl_error_set(err, CDL_E_USAGE, 0, "the client did not get the whole chain");
  cdl_n2n_client_del(c);
  cdl_n2n_server_del(srv);
  return rc;
}

static int sync_work(const phases *p, const work *w, cdl_fs *fs, int fd, cdl_error *err) {
  cdl_chaindb_config scfg = config_in(p, p->source, NULL, 0);
  scfg.read_only = true;
  cdl_chaindb_config cfg = config_in(p, p->dir, fs, w->sync_interval);
  cdl_chaindb *src = NULL, *db = NULL;
  int rc = cdl_chaindb_open(&scfg, &src, NULL, err);
  if (rc == CDL_OK) rc = cdl_chaindb_open(&cfg, &db, NULL, err);
  sync_sink sink = {.p = p, .db = db, .fd = fd};
  if (rc == CDL_OK) rc = sync_engines(p, src, &sink, err);
  if (rc == CDL_OK) rc = cdl_chaindb_close(db, err);
  else cdl_chaindb_abandon(db);
  cdl_chaindb_abandon(src);
  return rc;
}

/* A forging node: the kernel of a core node (genesis key 0's delegate,
 * the only signer; its own signing record) ticked through the slots from
 * the first, as `cardinal-node run` drives it, its database and record on
 * |fs|. Tells |fd| each slot it signed, once the block is adopted. */
static int forge_slots(cdl_node *n, int fd, cdl_error *err) {
  uint64_t forged = 0;
  for (uint64_t slot = 0; slot < PH_FORGE_SLOTS; slot++) {
    int rc = cdl_node_tick(n, PH_START_US + slot * PH_SLOT_US + PH_SLOT_US / 2, err);
    if (rc != CDL_OK) return rc;
    cdl_node_stats st;
    cdl_node_stats_get(n, &st);
    if (st.forged > forged) tell(fd, slot + 1);
    forged = st.forged;
  }
  return CDL_OK;
}

static int forge_work(const phases *p, const work *w, cdl_fs *fs, int fd, cdl_error *err) {
  cdl_chaindb_config cfg = config_in(p, p->dir, fs, w->sync_interval);
  cdl_chaindb *db = NULL;
  cdl_node_forger f = {.delegate = p->gen.secrets.delegates[0], .cert = p->gen.secrets.certs[0]};
  int rc = cdl_sign_record_open(fs, p->record, &f.record, err);
  if (rc == CDL_OK) rc = cdl_chaindb_open(&cfg, &db, NULL, err);
  uint32_t magic = p->gen.genesis.protocol_magic;
  cdl_node_config nc = {.db = db, .genesis = &p->gen.genesis,
                        .n2n = cdl_hs_node_to_node(magic, false),
                        .n2c = cdl_hs_node_to_client(magic), .forger = &f};
  cdl_node *n = NULL;
  if (rc == CDL_OK) rc = cdl_node_new(&nc, PH_START_US, &n, err);
  if (rc == CDL_OK) rc = forge_slots(n, fd, err);
  cdl_node_del(n);
  if (rc == CDL_OK) rc = cdl_chaindb_close(db, err);
  else cdl_chaindb_abandon(db);
  cdl_sign_record_close(f.record);
  return rc;
}

static const work WORKS[] = {{"db import", UINT64_MAX, import_work, false},
                             {"a node's ChainDB (fsync every 25 blocks)", 25, import_work, false},
                             {"sync", UINT64_MAX, sync_work, false},
                             {"a forging node", 0, forge_work, true}};

/* ---- Running it -------------------------------------------------------------- */

static void phases_make(phases *p) {
  make_dir(p->root, sizeof p->root, "crash-phases");
  char gdir[128];
  path_in(p->root, "genesis", gdir, sizeof gdir);
  assert_int_equal(mkdir(gdir, 0755), 0);
  gen_genesis(gdir, PH_K, 4, 21, &p->gen);
  cdl_gen_chain_opts o = {.slots = PH_SLOTS, .fill = 0.9, .txs_per_block = 1,
                          .delegation = true, .updates = true, .seed = 5};
  gchain_make(&p->gen, &o, &p->chain);
  p->ledger = ledger_of(&p->gen.genesis, CDL_LEDGER_NO_SIGNATURES);
  p->ledger.pbft_threshold = 1.0; /* the forging node signs alone */
  path_in(p->root, "db", p->dir, sizeof p->dir);
  path_in(p->root, "source", p->source, sizeof p->source);
  path_in(p->root, "record.signed", p->record, sizeof p->record);
  cdl_chaindb_config cfg = config_in(p, p->source, NULL, 0);
  cdl_chaindb *db = db_open(&cfg, NULL);
  for (size_t i = 0; i < p->chain.n; i++)
    add_expect(db, p->chain.blocks[i], CDL_ADD_ADOPTED);
  db_close(db);
}

static void phases_free(phases *p) {
  gchain_free(&p->chain);
  cdl_gen_dir_free(&p->gen);
  remove_dir(p->root);
}

/* The whole work once, without a kill, counting its changes. */
static void clear_dir(const char *dir) {
  if (disk_size(dir) >= 0) remove_tree(dir);
}

/* Every run starts from nothing: no database, no signing record. */
static void clear_work(const phases *p) {
  clear_dir(p->dir);
  static const char *const SUFFIXES[] = {"", ".lock", ".tmp"};
  for (size_t i = 0; i < 3; i++) {
    char path[160];
    snprintf(path, sizeof path, "%s%s", p->record, SUFFIXES[i]);
    if (unlink(path) != 0 && errno != ENOENT) fail_msg("cannot remove %s", path);
  }
}

static uint64_t count_changes(const phases *p, const work *w, char *kinds) {
  clear_work(p);
  int sink = open("/dev/null", O_WRONLY);
  assert_true(sink >= 0);
  cdl_fs *fs = killer_fs(0, KILL_BEFORE, 1, sink, MSG_KILLED);
  cdl_error err = {0};
  if (w->run(p, w, fs, sink, &err) != CDL_OK) fail_msg("%s without a kill: %s", w->name, err.message);
  close(sink);
  uint64_t n = killer_changes();
  assert_true(n > 0 && n <= KILLER_MAX_CHANGES);
  memcpy(kinds, killer_kinds(), n);
  return n;
}

typedef struct outcome {
  bool killed, finished;
  /* The first and the last block (a forging node: slot) the child was told
   * was adopted; -1: none. */
  long first, handed;
} outcome;

static outcome run_work(const phases *p, const work *w, uint64_t at, kill_phase phase) {
  int pipe_fd[2];
  assert_int_equal(pipe(pipe_fd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(pipe_fd[0]);
    cdl_fs *fs = killer_fs(at, phase, at * 4 + phase, pipe_fd[1], MSG_KILLED);
    cdl_error err = {0};
    if (w->run(p, w, fs, pipe_fd[1], &err) != CDL_OK) {
      fprintf(stderr, "crash phases child (%s, change %llu): %s\n", w->name,
              (unsigned long long)at, err.message);
      _exit(10);
    }
    tell(pipe_fd[1], MSG_DONE);
    _exit(0);
  }
  close(pipe_fd[1]);
  outcome o = {.first = -1, .handed = -1};
  uint64_t v;
  while (read(pipe_fd[0], &v, sizeof v) == (ssize_t)sizeof v) {
    if (v == MSG_KILLED) o.killed = true;
    else if (v == MSG_DONE) o.finished = true;
    else o.handed = (long)v - 1;
    if (o.first < 0) o.first = o.handed;
  }
  close(pipe_fd[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  bool sigkill = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!(sigkill && o.killed) && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    fail_msg("%s, change %llu: the child failed (status %d)", w->name, (unsigned long long)at,
             status);
  return o;
}

/* ---- The checks -------------------------------------------------------------- */

static char where_[256];
#define FAILED(...) fail_msg("%s: %s", where_, (snprintf(msg_, sizeof msg_, __VA_ARGS__), msg_))
static char msg_[512];

static void expect_no_damage(const cdl_chaindb_report *rep, const char *how) {
  const cdl_immutable_report *im = &rep->immutable;
  if (im->problem[0] != '\0' || im->truncated_bytes || im->removed_chunks)
    FAILED("%s reported damage: \"%s\", %llu bytes cut, %u chunks removed", how, im->problem,
           (unsigned long long)im->truncated_bytes, im->removed_chunks);
  if (rep->volatile_db.damaged_files)
    FAILED("%s reported %zu damaged volatile files", how, rep->volatile_db.damaged_files);
  if (rep->immutable_truncated) FAILED("%s: the ledger refused stored blocks", how);
}

/* The source's blocks: every immutable block is the source's and the tip
 * is at or past the last block adopted. */
static void check_source_chain(const phases *p, cdl_chaindb *db, long handed, const char *how) {
  char why[300];
  if (!immutable_matches(cdl_chaindb_immutable(db), p->chain.blocks, p->chain.n, why, sizeof why))
    FAILED("%s: %s", how, why);
  cdl_block_info tip;
  long t = cdl_chaindb_tip(db, &tip) ? find_block(p->chain.info, p->chain.n, &tip) : -1;
  if (t < handed) FAILED("%s: tip %ld, but block %ld had been adopted: lost", how, t, handed);
}

/* The forger's own chain: its tip is at or past the last slot it signed
 * and was told adopted, and no block on it lies past its signing record
 * (the record is written before a block is signed). */
static void check_own_chain(cdl_chaindb *db, long handed, long recorded, const char *how) {
  cdl_follower *f;
  cdl_error err = {0};
  if (cdl_follower_new(db, &f, &err) != CDL_OK) FAILED("follower: %s", err.message);
  long tip = -1;
  for (;;) {
    cdl_follow_kind kind;
    cdl_block_info info;
    cdl_point to;
    if (cdl_follower_next(f, &kind, &info, &to, NULL, &err) != CDL_OK)
      FAILED("%s: reading the chain: %s", how, err.message);
    if (kind != CDL_FOLLOW_FORWARD) break;
    if (info.is_ebb) continue;
    tip = (long)info.slot;
    if (tip > recorded)
      FAILED("%s: a block for slot %ld on disk, the signing record says %ld", how, tip, recorded);
  }
  cdl_follower_del(f);
  if (tip < handed) FAILED("%s: tip slot %ld, but slot %ld had been adopted: lost", how, tip, handed);
}

/* Opens the directory the child left (read-only or as its owner) and
 * checks it; the report in |rep|. */
static void check_open(const phases *p, const work *w, bool read_only, const outcome *o,
                       long recorded, cdl_chaindb_report *rep) {
  const char *how = read_only ? "the read-only open" : "the owner's open";
  cdl_chaindb_config cfg = config_in(p, p->dir, NULL, 0);
  cfg.read_only = read_only;
  cdl_chaindb *db = NULL;
  cdl_error err = {0};
  if (cdl_chaindb_open(&cfg, &db, rep, &err) != CDL_OK) FAILED("%s failed: %s", how, err.message);
  expect_no_damage(rep, how);
  cdl_immutable_pos bad;
  if (cdl_immutable_check_all(cdl_chaindb_immutable(db), &bad, &err) != CDL_OK)
    FAILED("db validate after %s: %s", how, err.message);
  if (w->forges) check_own_chain(db, o->handed, recorded, how);
  else check_source_chain(p, db, o->handed, how);
  if (read_only) cdl_chaindb_abandon(db);
  else db_close(db);
}

/* The last slot the forger's record holds; -1: none (or no record yet). */
static long recorded_slot(const phases *p) {
  if (disk_size(p->record) < 0) return -1;
  cdl_fs fs;
  cdl_fs_posix_init(&fs, 0);
  cdl_sign_record *r = NULL;
  cdl_error err = {0};
  if (cdl_sign_record_open(&fs, p->record, &r, &err) != CDL_OK)
    FAILED("the signing record does not open: %s", err.message);
  uint8_t key[28];
  cdl_key_hash(&p->gen.secrets.delegates[0], key);
  uint64_t slot;
  long last = cdl_sign_record_last(r, key, &slot) ? (long)slot : -1;
  cdl_sign_record_close(r);
  return last;
}

typedef struct tally {
  unsigned runs, killed, finished, residue, restarts;
  uint64_t torn_bytes;
} tally;

/* A forging node started again after the kill, on what it left: it never
 * signs a slot its record holds (a second block for a slot already signed). */
static void check_restart(const phases *p, const work *w, long recorded, tally *t) {
  outcome again = run_work(p, w, 0, KILL_BEFORE);
  if (again.first >= 0 && again.first <= recorded)
    FAILED("restarted, it signed slot %ld again (its record: %ld)", again.first, recorded);
  t->restarts++;
}

static void verify(const phases *p, const work *w, const outcome *o, tally *t) {
  long recorded = w->forges ? recorded_slot(p) : -1;
  if (disk_size(p->dir) < 0) { /* killed before the directory was made */
    if (o->handed >= 0) FAILED("no database, but block %ld had been adopted", o->handed);
  } else {
    cdl_buf before, after;
    tree_fingerprint(p->dir, &before);
    cdl_chaindb_report rep;
    check_open(p, w, true, o, recorded, &rep);
    tree_fingerprint(p->dir, &after);
    if (before.len != after.len ||
        (before.len > 0 && memcmp(before.data, after.data, before.len) != 0))
      FAILED("the read-only open changed files:\n%.*s\nbecame\n%.*s", (int)before.len,
             (const char *)before.data, (int)after.len, (const char *)after.data);
    cdl_buf_free(&before);
    cdl_buf_free(&after);
    check_open(p, w, false, o, recorded, &rep);
    uint64_t torn = rep.immutable.torn_bytes + rep.volatile_db.torn_bytes;
    t->residue += torn > 0 || rep.immutable.empty_chunks > 0;
    t->torn_bytes += torn;
  }
  if (w->forges) check_restart(p, w, recorded, t);
}

static const char *const PHASE_NAMES[] = {"random", "before", "torn", "after"};

static void sweep(const phases *p, const work *w) {
  static char kinds[KILLER_MAX_CHANGES + 1];
  uint64_t n = count_changes(p, w, kinds), start = now_ns();
  tally t = {0};
  for (uint64_t at = 1; at <= n; at += PH_STRIDE) {
    for (kill_phase ph = KILL_BEFORE; ph <= KILL_AFTER; ph++) {
      if (ph == KILL_TORN && kinds[at - 1] != CHANGE_WRITE) continue;
      snprintf(where_, sizeof where_, "%s, killed %s change %llu of %llu (DB in %s)", w->name,
               PHASE_NAMES[ph], (unsigned long long)at, (unsigned long long)n, p->dir);
      clear_work(p);
      outcome o = run_work(p, w, at, ph);
      t.runs++;
      t.killed += o.killed;
      t.finished += o.finished;
      verify(p, w, &o, &t);
    }
  }
  printf("%s: %llu changes, %u kills at every phase of each (%u runs finished first); "
         "every open clean, no adopted block lost; %u left crash residue (%llu torn bytes)",
         w->name, (unsigned long long)n, t.killed, t.finished, t.residue,
         (unsigned long long)t.torn_bytes);
  if (w->forges) printf("; %u restarts, none signed a slot its record held", t.restarts);
  printf("; %.1f s\n", (now_ns() - start) / 1e9);
  assert_true(t.killed > 0 && t.residue > 0);
}

void test_crash_phases(void **state) {
  (void)state;
  phases *p = calloc(1, sizeof *p);
  assert_non_null(p);
  phases_make(p);
  for (size_t i = 0; i < sizeof WORKS / sizeof WORKS[0]; i++) sweep(p, &WORKS[i]);
  phases_free(p);
  free(p);
}
