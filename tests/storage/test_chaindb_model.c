/*
 * test_chaindb_model.c: the ChainDB and its followers (include/cardinal/
 * storage.h "ChainDB", "Followers"; src/storage/chaindb*.c) against a
 * simple in-memory model of chain selection. Acceptance point
 * (docs/testing.md, storage tier): "Model-based test: random sequences of
 * adding blocks (with forks and rollbacks), closing, reopening and
 * querying, compared with a simple in-memory model of the chain."
 *
 * Blocks: the real mainnet epoch 0 re-forged with test keys
 * (storage_support.h). A fork block re-forges real block j (its body,
 * slot and number) after any predecessor and has it signed by another
 * genesis delegate, so it is valid wherever block j - 1's number sits, and
 * differs from every other block at j. The ChainDB runs these with k = 3,
 * 5, 8 (the ledger's epoch is then 10k slots, PBFT threshold 1.0 so any
 * delegate may sign) and with the genesis' own k = 2160.
 *
 * The model (section "The model") keeps every block added and computes the
 * chain the ChainDB must select: the best (key = 2 * block number + EBB)
 * chain of valid stored blocks reachable from the immutable tip, switched
 * to only when strictly better than the current one (so the current chain
 * wins ties), never rolling back past the immutable tip (so at most k
 * blocks), blocks at or below the immutable tip refused as too old. Which
 * of several equally good new chains the ChainDB takes is its choice; the
 * model follows it. After a crash (cdl_chaindb_abandon) any of the best
 * chains may come back; after a clean close the same tip must.
 *
 * Each seed picks k (3, 5, 8 or 2160) and a snapshot interval, then runs
 * 300 random operations: add the next block of one of three branches
 * (forks start anywhere up to k + 2 deep, or after any block made so far),
 * add a block before its parent (the parent comes later), add a block
 * again, add a block with a corrupted signature (CDL_ADD_INVALID when it
 * is tried), close and reopen, crash (cdl_chaindb_abandon) and reopen,
 * advance a follower (roll-backs must go to the newest point its chain
 * shares with the selected one), replay a new follower from the origin,
 * look blocks up by number and by point, and intersect a follower with a
 * list of points. After each: tip, immutable tip, volatile length and the
 * ledger's tip against the model. CDL_MODEL_SEEDS sets the number of
 * seeds (default 52, 6 under ASan), CDL_MODEL_SEED runs one seed,
 * CDL_MODEL_TRACE=1 prints every add; a failing seed is printed with the
 * operations that led to it. The fixed scenarios are in test_chaindb.c.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_support.h"

#define MODEL_STEPS 300
#define MODEL_SEEDS (UNDER_ASAN ? 6 : 52)
#define MAX_BLOCKS (3 * MODEL_STEPS + 64)

/* ---- The model -------------------------------------------------------------------
 * Every block the run has made, with its parent, whether the ledger refuses
 * it (a corrupted signature) and whether the ChainDB holds it; the selected
 * chain as the model sees it; how much of it is immutable. */

typedef struct mblock {
  cdl_buf bytes;
  cdl_block_info info;
  int parent;      /* model index; -1: the genesis */
  int j;           /* the real block it re-forges */
  bool bad;        /* the ledger refuses it */
  bool stored;     /* added and not refused as too old */
  bool refused;    /* refused at its add (the ChainDB remembers that) */
  bool pending;    /* made, to be added later (out of order) */
} mblock;

typedef struct branch {
  int head;        /* its last block; -1: not started */
  int shift;       /* signer offset; -1: the real chain */
} branch;

typedef struct run {
  jmp_buf fail;
  uint64_t seed;
  size_t step;
  char op[96];
  char history[12][200];
  size_t noted;          /* 1 + the step the history last noted */
  cdl_gen_rng rng;
  char dir[64];
  cdl_fs fs;
  cdl_chaindb_config cfg;
  cdl_chaindb *db;
  mblock b[MAX_BLOCKS];
  size_t n;
  int chain[MAX_BLOCKS], view[MAX_BLOCKS];
  size_t len, imm, n_view;
  uint64_t k;
  branch br[3];
  cdl_follower *fol;  /* follows along; |view| is what it has been told */
  size_t adds, switches, reopens, backwards, outcomes[5];
  bool soft_failed, resync;
} run;

static run *R;     /* the run in progress (large: on the heap) */
static bool TRACE; /* CDL_MODEL_TRACE: print every add */

/* Prints a failure (fmt and ap) with the operations that led to it. */
static void print_failure(const run *r, int line, const char *after, const char *fmt,
                          va_list ap) {
  char msg[300];
  vsnprintf(msg, sizeof msg, fmt, ap);
  fprintf(stderr, "model: seed %llu (k %llu) step %zu, %s (line %d): %s\n",
          (unsigned long long)r->seed, (unsigned long long)r->k, r->step, r->op, line, msg);
  for (size_t i = r->step > 11 ? r->step - 11 : 0; i < r->step; i++)
    fprintf(stderr, "    step %zu: %s\n", i, r->history[i % 12]);
  fprintf(stderr, "    (rerun: CDL_MODEL_SEED=%llu, CDL_MODEL_TRACE=1 prints every add%s)\n",
          (unsigned long long)r->seed, after);
}

static void model_fail(run *r, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  print_failure(r, line, "", fmt, ap);
  va_end(ap);
  longjmp(r->fail, 1);
}

#define MCHECK(cond, ...)                                        \
  do {                                                           \
    if (!(cond)) model_fail(R, __LINE__, "" __VA_ARGS__);        \
  } while (0)

/* A follower that rolled back to a wrong point fails the seed, but the run
 * goes on with a new follower: the rest of the sequence still counts. */
static void model_soft_fail(int line, const char *fmt, ...) {
  if (!R->soft_failed) {
    va_list ap;
    va_start(ap, fmt);
    print_failure(R, line, "; this seed goes on", fmt, ap);
    va_end(ap);
  }
  R->soft_failed = true;
  R->resync = true;
}

static uint64_t below(uint64_t n) { return cdl_gen_rng_below(&R->rng, n); }

/* Chains compare by their tip's key; 0 is the empty chain. */
static uint64_t score(int i) { return i < 0 ? 0 : chain_key(&R->b[i].info) + 1; }

static int tip_index(void) { return R->len ? R->chain[R->len - 1] : -1; }
static int root_index(void) { return R->imm ? R->chain[R->imm - 1] : -1; }

static int find_hash(const uint8_t hash[32]) {
  for (size_t i = 0; i < R->n; i++)
    if (memcmp(R->b[i].info.hash, hash, 32) == 0) return (int)i;
  return -1;
}

static long chain_pos(int i) {
  for (size_t p = 0; p < R->len; p++)
    if (R->chain[p] == i) return (long)p;
  return -1;
}

/* Takes |bytes| over as block |parent| + 1; an already known block is
 * returned as it is. */
static int model_block(cdl_buf *bytes, int parent, int j, bool bad) {
  cdl_block_info info = info_of(bytes->data, bytes->len, EPOCH0_SLOTS);
  int known = find_hash(info.hash);
  if (known >= 0) {
    cdl_buf_free(bytes);
    return known;
  }
  MCHECK(R->n < MAX_BLOCKS, "out of model blocks");
  mblock *x = &R->b[R->n];
  *x = (mblock){.bytes = *bytes, .info = info, .parent = parent, .j = j, .bad = bad};
  return (int)R->n++;
}

/* Which blocks a chain from the immutable tip may use: held, valid, and
 * linked to it through such blocks. The best of them is what must be
 * selected. Parents are always made before their children. */
static uint64_t model_best(bool *reach) {
  int root = root_index();
  uint64_t best = score(tip_index());
  bool buried[MAX_BLOCKS] = {false};
  for (size_t p = 0; p < R->imm; p++) buried[R->chain[p]] = true;
  for (size_t i = 0; i < R->n; i++) {
    const mblock *x = &R->b[i];
    reach[i] = x->stored && !x->bad && !buried[i] &&
               (x->parent == root || (x->parent >= 0 && reach[x->parent]));
    if (!reach[i]) continue;
    if (score((int)i) > best) best = score((int)i);
  }
  return best;
}

/* The model's chain becomes the one ending at |t|; returns the rollback. */
static size_t model_adopt(int t) {
  int path[MAX_BLOCKS];
  size_t n = 0;
  for (int i = t; i >= 0; i = R->b[i].parent) path[n++] = i;
  size_t common = 0;
  while (common < n && common < R->len && R->chain[common] == path[n - 1 - common]) common++;
  MCHECK(common >= R->imm, "the new chain leaves the immutable prefix");
  size_t rollback = R->len - common;
  for (size_t p = 0; p < n; p++) R->chain[p] = path[n - 1 - p];
  R->len = n;
  if (R->len > R->imm + R->k) R->imm = R->len - R->k;
  return rollback;
}

/* The first 12 hex digits of a hash, in one of two static buffers. */
static const char *hash_text(const uint8_t *hash) {
  static char hex[2][65];
  static int which;
  which ^= 1;
  cdl_hex_encode(hash, 32, hex[which]);
  hex[which][12] = '\0';
  return hex[which];
}

/* The ChainDB's tip, immutable tip, volatile length and ledger agree with
 * the model. */
static void check_state(void) {
  cdl_block_info tip, imm;
  bool has = cdl_chaindb_tip(R->db, &tip);
  MCHECK(has == (R->len > 0), "the ChainDB has %s tip", has ? "a" : "no");
  if (has) {
    const cdl_block_info *want = &R->b[tip_index()].info;
    MCHECK(memcmp(tip.hash, want->hash, 32) == 0, "tip %s (block %llu), model %s (block %llu)",
           hash_text(tip.hash), (unsigned long long)tip.block_no, hash_text(want->hash),
           (unsigned long long)want->block_no);
    cdl_ledger_tip lt;
    cdl_ledger_get_tip(cdl_chaindb_ledger(R->db), &lt);
    MCHECK(!lt.at_genesis && memcmp(lt.hash, want->hash, 32) == 0, "the ledger is elsewhere");
  }
  has = cdl_chaindb_immutable_tip(R->db, &imm);
  MCHECK(has == (R->imm > 0), "immutable tip present: %d, model %zu blocks", has, R->imm);
  if (has)
    MCHECK(memcmp(imm.hash, R->b[root_index()].info.hash, 32) == 0,
           "immutable tip block %llu, model block %llu", (unsigned long long)imm.block_no,
           (unsigned long long)R->b[root_index()].info.block_no);
  MCHECK(cdl_chaindb_volatile_length(R->db) == R->len - R->imm, "volatile length %zu, model %zu",
         cdl_chaindb_volatile_length(R->db), R->len - R->imm);
}

/* The outcome of an add that leaves the chain as it was (check_state
 * then compares the tips). */
static void expect_outcome(const cdl_chaindb_add_result *res, cdl_chaindb_outcome want,
                           bool or_duplicate) {
  MCHECK(res->outcome == want || (or_duplicate && res->outcome == CDL_ADD_DUPLICATE),
         "outcome %d, expected %d", res->outcome, want);
}

/* Adds model block |i| and checks the outcome against the model. */
static void model_add(int i) {
  mblock *x = &R->b[i];
  int old_tip = tip_index(), root = root_index();
  bool too_old = R->imm > 0 && chain_key(&x->info) <= chain_key(&R->b[root].info);
  bool was_stored = x->stored;
  cdl_chaindb_add_result res;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  int rc = cdl_chaindb_add_block(R->db, x->bytes.data, x->bytes.len, &res, &rej, &err);
  MCHECK(rc == CDL_OK, "add: %s", err.message);
  x->pending = false;
  R->adds++;
  if (res.outcome <= CDL_ADD_TOO_OLD) R->outcomes[res.outcome]++;
  if (TRACE)
    printf("    %zu: %s -> outcome %d, rollback %llu, tip key %llu, chain %zu (%zu immutable)\n",
           R->step, R->op, res.outcome, (unsigned long long)res.rollback,
           (unsigned long long)score(tip_index()), R->len, R->imm);
  if (too_old || was_stored) {
    if (too_old) expect_outcome(&res, CDL_ADD_TOO_OLD, false);
    else if (x->bad) expect_outcome(&res, CDL_ADD_INVALID, !x->refused);
    else expect_outcome(&res, CDL_ADD_DUPLICATE, false);
    return;
  }
  x->stored = true;
  bool reach[MAX_BLOCKS];
  uint64_t best = model_best(reach);
  if (best == score(old_tip)) {
    bool linked = x->parent == root || (x->parent >= 0 && reach[x->parent]);
    bool tried = x->bad && linked && score(i) > score(old_tip);
    expect_outcome(&res, tried ? CDL_ADD_INVALID : CDL_ADD_STORED, false);
    if (tried)
      MCHECK(rej.rule && strcmp(rej.rule, CDL_RULE_PBFT_SIGNATURE) == 0, "rule %s",
             rej.rule ? rej.rule : "(none)");
    x->refused = tried;
    return;
  }
  MCHECK(res.outcome == CDL_ADD_ADOPTED, "outcome %d: a better chain (key %llu) is not adopted",
         res.outcome, (unsigned long long)best - 1);
  cdl_block_info tip;
  MCHECK(cdl_chaindb_tip(R->db, &tip), "no tip");
  int t = find_hash(tip.hash);
  MCHECK(t >= 0 && reach[t] && score(t) == best, "the new tip (block %llu) is not a best one",
         (unsigned long long)tip.block_no);
  size_t rollback = model_adopt(t);
  MCHECK(res.rollback == rollback && rollback <= R->k, "rollback %llu, model %zu",
         (unsigned long long)res.rollback, rollback);
  R->switches += rollback > 0;
}

/* ---- The model: making blocks ----------------------------------------------------- */

/* The next block of branch |x|, made (not added); -1 when it has none. */
static int branch_next(branch *x) {
  int parent = x->head;
  int j = parent < 0 ? 0 : R->b[parent].j + 1;
  if (j >= RF_BLOCKS || (parent < 0 && x->shift >= 0)) return -1;
  cdl_buf bytes;
  if (x->shift < 0) copy_bytes(&bytes, RF.blocks[j].data, RF.blocks[j].len);
  else forge_alt((size_t)j, R->b[parent].info.hash, (unsigned)(j + x->shift), &bytes);
  x->head = model_block(&bytes, parent, j, false);
  return x->head;
}

/* Starts |x| afresh: a new block after a block of the selected chain at
 * most k + 2 deep (deeper than k is refused), or now and then after any
 * block made so far. Returns the new block, -1 when none was made. */
static int new_fork(branch *x) {
  if (R->len == 0) return -1;
  int parent;
  if (below(4) > 0) {
    size_t deepest = (R->k < 12 ? R->k : 12) + 2;
    if (deepest > R->len - 1) deepest = R->len - 1;
    parent = R->chain[R->len - 1 - below(deepest + 1)];
  } else {
    parent = (int)below(R->n);
  }
  int j = R->b[parent].j + 1;
  if (R->b[parent].bad || j >= RF_BLOCKS) return -1;
  unsigned start = (unsigned)below(7);
  for (unsigned t = 0; t < 7; t++) {
    unsigned signer = (start + t) % 7;
    cdl_buf bytes;
    forge_alt((size_t)j, R->b[parent].info.hash, signer, &bytes);
    size_t before = R->n;
    int i = model_block(&bytes, parent, j, false);
    if (R->n == before) continue; /* that block exists: another signer */
    x->head = i;
    x->shift = (int)((signer + 7 - (unsigned)j % 7) % 7);
    return i;
  }
  return -1;
}

/* A branch to grow; more often one that is not selected, so that forks
 * catch up and overtake. */
static branch *some_branch(void) {
  branch *x = &R->br[below(3)];
  for (int tries = 0; tries < 2 && x->head >= 0 && x->head == tip_index(); tries++)
    x = &R->br[below(3)];
  return x;
}

/* Names the operation under way; the history keeps the last ones. */
static void note_op(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(R->op, sizeof R->op, fmt, ap);
  va_end(ap);
  char *h = R->history[R->step % 12];
  if (R->noted != R->step + 1) h[0] = '\0';
  R->noted = R->step + 1;
  size_t used = strlen(h);
  snprintf(h + used, sizeof R->history[0] - used, "%s%s", used ? "; then " : "", R->op);
}

static void note_block(const char *what, int i) {
  const mblock *x = &R->b[i];
  note_op("%s block %d (real %d, number %llu, after %d%s)", what, i, x->j,
          (unsigned long long)x->info.block_no, x->parent, x->bad ? ", bad" : "");
}

/* ---- The model: operations ------------------------------------------------------------ */

/* Adds block |i|, just made (noted as |what|); -1: none was (|none|). */
static void add_made(int i, const char *what, const char *none) {
  if (i < 0) {
    note_op("%s", none);
    return;
  }
  note_block(what, i);
  model_add(i);
}

static void op_add_next(void) {
  branch *x = some_branch();
  /* A branch well ahead of the selected chain is one it can no longer
   * reach (forked below the immutable tip): start it again now and then. */
  bool restart = x->head >= 0 && score(x->head) > score(tip_index()) + 8 && below(2);
  int i = restart ? -1 : branch_next(x);
  if (i < 0) i = new_fork(x);
  add_made(i, "add next", "add: nothing to add");
}

static void op_new_fork(void) {
  add_made(new_fork(&R->br[1 + below(2)]), "add fork", "fork: none made");
}

/* The next two blocks of a branch: the second now, the first later. */
static void op_out_of_order(void) {
  branch *x = some_branch();
  int first = branch_next(x);
  if (first < 0) {
    note_op("out of order: nothing to add");
    return;
  }
  int second = branch_next(x);
  if (second < 0 || R->b[first].stored) {
    note_block("add next", first);
    model_add(first);
    return;
  }
  R->b[first].pending = true;
  note_block("add before its parent", second);
  model_add(second);
}

static void op_flush(void) {
  size_t n = 0;
  for (size_t i = 0; i < R->n; i++) n += R->b[i].pending;
  if (n == 0) return;
  size_t pick = below(n);
  for (size_t i = 0; i < R->n; i++) {
    if (!R->b[i].pending || pick-- > 0) continue;
    note_block("add late", (int)i);
    model_add((int)i);
    return;
  }
}

static void op_duplicate(void) {
  if (R->n == 0) return;
  int i = (int)below(R->n);
  note_block("add again", i);
  model_add(i);
}

/* The next block of a branch with a flipped signature byte. */
static void op_corrupt(void) {
  branch *x = some_branch();
  int parent = x->head >= 0 ? x->head : tip_index();
  if (parent < 0 || R->b[parent].j + 1 >= RF_BLOCKS) {
    note_op("corrupt: no block");
    return;
  }
  int j = R->b[parent].j + 1;
  cdl_buf bytes;
  if (x->shift < 0 && x->head >= 0) copy_bytes(&bytes, RF.blocks[j].data, RF.blocks[j].len);
  else forge_alt((size_t)j, R->b[parent].info.hash, (unsigned)j + 5, &bytes);
  flip_signature(&bytes);
  int i = model_block(&bytes, parent, j, true);
  note_block("add corrupted", i);
  model_add(i);
}

static void open_db(cdl_chaindb_report *rep) {
  cdl_error err = {0};
  int rc = cdl_chaindb_open(&R->cfg, &R->db, rep, &err);
  MCHECK(rc == CDL_OK, "open: %s", err.message);
  rc = cdl_follower_new(R->db, &R->fol, &err);
  MCHECK(rc == CDL_OK, "follower: %s", err.message);
  R->n_view = 0;
}

static void shut_db(bool clean) {
  cdl_follower_del(R->fol);
  R->fol = NULL;
  if (clean) {
    cdl_error err = {0};
    int rc = cdl_chaindb_close(R->db, &err);
    R->db = NULL;
    MCHECK(rc == CDL_OK, "close: %s", err.message);
  } else {
    cdl_chaindb_abandon(R->db);
    R->db = NULL;
  }
  MCHECK(R->fs.open_files == 0, "%zu files open after closing", R->fs.open_files);
}

/* Close (or crash) and open again. After a clean close the same tip comes
 * back; after a crash one of the best chains (chain selection starts over
 * from the newest snapshot, and ties may go either way). */
static void op_reopen(bool clean) {
  note_op(clean ? "close and reopen" : "crash and reopen");
  int old_tip = tip_index();
  shut_db(clean);
  cdl_chaindb_report rep;
  open_db(&rep);
  R->reopens++;
  MCHECK(!clean || old_tip < 0 || rep.snapshot[0] != '\0', "no snapshot after a clean close");
  for (size_t i = 0; i < R->n; i++) R->b[i].refused = false; /* forgotten */
  bool reach[MAX_BLOCKS];
  uint64_t best = model_best(reach);
  cdl_block_info tip;
  if (!cdl_chaindb_tip(R->db, &tip)) {
    MCHECK(R->len == 0, "no tip after the reopen");
    return;
  }
  int t = find_hash(tip.hash);
  MCHECK(t >= 0, "unknown tip after the reopen");
  MCHECK(!clean || t == old_tip, "after a clean close the tip is block %llu, was %llu",
         (unsigned long long)tip.block_no,
         (unsigned long long)(old_tip >= 0 ? R->b[old_tip].info.block_no : 0));
  MCHECK(score(t) == best && (reach[t] || t == root_index()),
         "after a crash the tip (block %llu) is not a best chain (key %llu)",
         (unsigned long long)tip.block_no, (unsigned long long)best - 1);
  model_adopt(t);
}

/* One next() of |f|, whose caller has been told |view|, checked against the
 * model: back to the newest shared point when the view left the chain,
 * else the next block of the chain, else wait. */
static cdl_follow_kind follow_one(cdl_follower *f, int *view, size_t *n_view, bool read) {
  size_t common = 0;
  while (common < *n_view && common < R->len && view[common] == R->chain[common]) common++;
  cdl_follow_kind kind;
  cdl_block_info info;
  cdl_point to;
  cdl_buf block;
  cdl_buf_init(&block, 0);
  cdl_error err = {0};
  int rc = cdl_follower_next(f, &kind, &info, &to, read ? &block : NULL, &err);
  MCHECK(rc == CDL_OK, "follower next: %s", err.message);
  if (common < *n_view) {
    const uint8_t *want = common ? R->b[view[common - 1]].info.hash : NULL;
    MCHECK(kind == CDL_FOLLOW_BACKWARD, "follower: %d, expected a roll-back", kind);
    if (want ? to.origin || memcmp(to.hash, want, 32) != 0 : !to.origin) {
      /* Where the point is: on the follower's chain, older than the
       * newest shared point (valid for a client, but not what the header
       * promises), or not on it at all (a client cannot roll back there). */
      size_t at = 0;
      while (!to.origin && at < *n_view && memcmp(R->b[view[at]].info.hash, to.hash, 32) != 0)
        at++;
      bool at_imm = R->imm && !to.origin && memcmp(to.hash, R->b[root_index()].info.hash, 32) == 0;
      model_soft_fail(__LINE__,
                      "rolled back to %s (slot %llu%s; %s), the newest shared point is %s (%s)",
                      to.origin ? "the origin" : hash_text(to.hash), (unsigned long long)to.slot,
                      at_imm ? ", the immutable tip" : "",
                      to.origin || at < *n_view ? "an older point of the follower's chain"
                                                : "NOT on the follower's chain",
                      want ? hash_text(want) : "the origin",
                      common <= R->imm ? "immutable" : "volatile");
    }
    *n_view = common;
    R->backwards++;
  } else if (*n_view < R->len) {
    const mblock *want = &R->b[R->chain[*n_view]];
    MCHECK(kind == CDL_FOLLOW_FORWARD && memcmp(info.hash, want->info.hash, 32) == 0,
           "follower: %d, expected block %llu forward", kind,
           (unsigned long long)want->info.block_no);
    MCHECK(!read || (block.len == want->bytes.len &&
                     memcmp(block.data, want->bytes.data, block.len) == 0),
           "follower: the block's bytes differ");
    view[*n_view] = R->chain[*n_view];
    (*n_view)++;
  } else {
    MCHECK(kind == CDL_FOLLOW_AWAIT, "follower: %d at the tip", kind);
  }
  cdl_buf_free(&block);
  return kind;
}

static void op_follow(void) {
  note_op("follow");
  size_t steps = 1 + below(2 * (R->k < 20 ? R->k : 20) + 4);
  for (size_t s = 0; s < steps && !R->resync; s++)
    if (follow_one(R->fol, R->view, &R->n_view, below(4) == 0) == CDL_FOLLOW_AWAIT) break;
  if (R->resync) { /* after a wrong roll-back: a new follower */
    cdl_follower_del(R->fol);
    cdl_error err = {0};
    MCHECK(cdl_follower_new(R->db, &R->fol, &err) == CDL_OK, "follower: %s", err.message);
    R->n_view = 0;
    R->resync = false;
  }
}

/* A new follower from the origin replays exactly the model's chain. */
static void op_replay(void) {
  note_op("replay from the origin");
  cdl_follower *f;
  cdl_error err = {0};
  MCHECK(cdl_follower_new(R->db, &f, &err) == CDL_OK, "follower: %s", err.message);
  int view[MAX_BLOCKS];
  size_t n_view = 0;
  while (follow_one(f, view, &n_view, true) != CDL_FOLLOW_AWAIT) {}
  MCHECK(n_view == R->len, "replayed %zu blocks of %zu", n_view, R->len);
  cdl_follower_del(f);
}

/* Look-ups by block number and by point. */
static void op_queries(void) {
  note_op("queries");
  uint64_t top = R->len ? R->b[tip_index()].info.block_no : 0;
  for (int q = 0; q < 3; q++) {
    uint64_t no = below(top + 3);
    long want = 0;
    while ((size_t)want < R->len && R->b[R->chain[want]].info.block_no != no) want++;
    cdl_block_info info;
    cdl_error err = {0};
    int rc = cdl_chaindb_find_block_no(R->db, no, &info, &err);
    if ((size_t)want == R->len) {
      MCHECK(rc == CDL_E_NOT_FOUND, "block number %llu: rc %d", (unsigned long long)no, rc);
      continue;
    }
    MCHECK(rc == CDL_OK && memcmp(info.hash, R->b[R->chain[want]].info.hash, 32) == 0,
           "block number %llu: rc %d, %s", (unsigned long long)no, rc, err.message);
  }
  uint64_t imm_slot = R->imm ? R->b[root_index()].info.slot : 0;
  for (int q = 0; q < 3 && R->n > 0; q++) {
    const mblock *x = &R->b[below(R->n)];
    cdl_point p = point_of(&x->info);
    cdl_buf out;
    cdl_buf_init(&out, 0);
    cdl_block_info info;
    cdl_error err = {0};
    int rc = cdl_chaindb_read_block(R->db, &p, &out, &info, &err);
    bool held = chain_pos((int)(x - R->b)) >= 0 || (x->stored && x->info.slot >= imm_slot);
    bool maybe = x->stored && !held; /* may have been collected */
    MCHECK(rc == CDL_OK || (rc == CDL_E_NOT_FOUND && !held),
           "read block %llu: rc %d %s", (unsigned long long)x->info.block_no, rc, err.message);
    MCHECK(rc != CDL_OK || held || maybe, "read block %llu: found, never stored",
           (unsigned long long)x->info.block_no);
    MCHECK(rc != CDL_OK || (out.len == x->bytes.len &&
                            memcmp(out.data, x->bytes.data, out.len) == 0 &&
                            memcmp(info.hash, x->info.hash, 32) == 0),
           "read block %llu: other bytes", (unsigned long long)x->info.block_no);
    cdl_buf_free(&out);
  }
}

/* A list of points (the origin, unknown points, blocks on and off the
 * chain): the follower moves to the first one on the selected chain and
 * goes on from there. */
static void op_intersect(void) {
  note_op("intersect");
  cdl_point pts[6];
  int idx[6];
  size_t n = 1 + below(6);
  long want = -3; /* index into pts of the expected point; -3 none */
  for (size_t p = 0; p < n; p++) {
    uint64_t r = below(10);
    idx[p] = r == 0 || R->n == 0 ? -1 : r == 1 ? -2 : (int)below(R->n);
    if (idx[p] == -1) pts[p] = (cdl_point){.origin = true};
    else if (idx[p] == -2) {
      pts[p] = (cdl_point){.origin = false, .slot = below(RF_BLOCKS)};
      cdl_gen_rng_bytes(&R->rng, pts[p].hash, 32);
    } else pts[p] = point_of(&R->b[idx[p]].info);
    if (want == -3 && (idx[p] == -1 || (idx[p] >= 0 && chain_pos(idx[p]) >= 0))) want = (long)p;
  }
  cdl_follower *f;
  cdl_point found;
  bool any;
  cdl_error err = {0};
  MCHECK(cdl_follower_new(R->db, &f, &err) == CDL_OK, "follower: %s", err.message);
  MCHECK(cdl_follower_intersect(f, pts, n, &found, &any, &err) == CDL_OK, "intersect: %s",
         err.message);
  MCHECK(any == (want != -3), "intersect found %d, expected %d", any, want != -3);
  if (any) {
    MCHECK(found.origin == pts[want].origin &&
               (found.origin || memcmp(found.hash, pts[want].hash, 32) == 0),
           "intersect found another point than #%ld", want);
    int view[MAX_BLOCKS];
    size_t n_view = idx[want] < 0 ? 0 : (size_t)chain_pos(idx[want]) + 1;
    memcpy(view, R->chain, n_view * sizeof *view);
    follow_one(f, view, &n_view, true);
  }
  cdl_follower_del(f);
}

/* ---- The model: runs ------------------------------------------------------------------ */

/* One random operation (weights per mille), then the state is checked. */
static void model_step(void) {
  uint64_t r = below(1000);
  if (r < 470) op_add_next();
  else if (r < 520) op_new_fork();
  else if (r < 600) op_out_of_order();
  else if (r < 640) op_duplicate();
  else if (r < 690) op_corrupt();
  else if (r < 695) op_reopen(true);
  else if (r < 700) op_reopen(false);
  else if (r < 850) op_follow();
  else if (r < 910) op_queries();
  else if (r < 970) op_intersect();
  else op_replay();
  check_state();
  if (below(4) == 0) {
    op_flush();
    check_state();
  }
}

static void model_cleanup(void) {
  if (R->fol) cdl_follower_del(R->fol);
  if (R->db) cdl_chaindb_abandon(R->db);
  R->fol = NULL;
  R->db = NULL;
  for (size_t i = 0; i < R->n; i++) cdl_buf_free(&R->b[i].bytes);
  remove_dir(R->dir);
}

typedef struct model_totals {
  size_t seeds, failed, adds, switches, reopens, backwards, max_len, max_imm, outcomes[5];
  uint64_t first_failed;
} model_totals;

/* One seed: k, the snapshot interval and every operation follow from it. */
static void model_seed(uint64_t seed, model_totals *t) {
  static const uint64_t ks[] = {3, 5, 8, 2160};
  memset(R, 0, sizeof *R);
  R->seed = seed;
  cdl_gen_rng_seed(&R->rng, seed);
  R->k = ks[seed % 4];
  make_dir(R->dir, sizeof R->dir, "chaindb-model");
  cdl_fs_posix_init(&R->fs, 0);
  R->cfg = rf_config(R->dir, R->k, &R->fs);
  R->cfg.snapshot_interval = seed % 3 ? 2 + seed % 5 : 0;
  R->br[0] = (branch){-1, -1};
  R->br[1] = R->br[2] = (branch){-1, 0};
  t->seeds++;
  if (setjmp(R->fail) != 0) {
    model_cleanup();
    if (t->failed++ == 0) t->first_failed = seed;
    return;
  }
  open_db(NULL);
  for (R->step = 0; R->step < MODEL_STEPS; R->step++) model_step();
  for (size_t i = 0; i < R->n; i++)
    if (R->b[i].pending) model_add((int)i);
  check_state();
  op_replay();
  op_reopen(true);
  op_replay();
  shut_db(true);
  if (R->soft_failed && t->failed++ == 0) t->first_failed = seed;
  t->adds += R->adds, t->switches += R->switches, t->reopens += R->reopens;
  t->backwards += R->backwards;
  for (int o = 0; o < 5; o++) t->outcomes[o] += R->outcomes[o];
  if (R->len > t->max_len) t->max_len = R->len;
  if (R->imm > t->max_imm) t->max_imm = R->imm;
  model_cleanup();
}

static void test_model(void **state) {
  (void)state;
  R = calloc(1, sizeof *R);
  assert_non_null(R);
  const char *one = getenv("CDL_MODEL_SEED"), *many = getenv("CDL_MODEL_SEEDS");
  TRACE = getenv("CDL_MODEL_TRACE") != NULL;
  uint64_t first = one ? strtoull(one, NULL, 10) : 1;
  uint64_t n = one ? 1 : many ? strtoull(many, NULL, 10) : MODEL_SEEDS;
  model_totals t = {0};
  for (uint64_t s = first; s < first + n; s++) model_seed(s, &t);
  printf("  model: %zu seeds x %d steps, %zu adds (adopted %zu, stored %zu, duplicate %zu, "
         "invalid %zu, too old %zu), %zu fork switches, %zu reopens, %zu roll-backs seen by "
         "followers, final chains up to %zu blocks (%zu immutable)\n",
         t.seeds, MODEL_STEPS, t.adds, t.outcomes[0], t.outcomes[1], t.outcomes[2],
         t.outcomes[3], t.outcomes[4], t.switches, t.reopens, t.backwards, t.max_len, t.max_imm);
  free(R);
  R = NULL;
  if (t.failed)
    fail_msg("%zu of %zu seeds disagree with the model (first: seed %llu)", t.failed, t.seeds,
             (unsigned long long)t.first_failed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_model),
  };
  return cmocka_run_group_tests(tests, rf_setup, rf_teardown); /* RF */
}
