/*
 * sim_node.c: the simulated nodes (docs/simulation.md "Nodes", "Disk",
 * "Adversaries").
 *
 * One generated genesis (in a temporary directory, removed before the
 * run starts: everything after lives in memory) with the scenario's
 * genesis keys and a poor address per payment. Each node is the real
 * kernel over a ChainDB in DISK/db on its own simulated disk (sim_disk.h);
 * a core's signing record is DISK/signed, beside the database, as an
 * operator keeps it. Its clock is the simulated one plus its skew. Its
 * topology names its upstream peers ("sim", port = node index).
 *
 * A crash is an instant: the disk freezes (nothing more reaches it), the
 * node's connections end, its kernel and ChainDB are dropped without a
 * write, and the disk keeps what the damage allows; a restart opens all
 * again from the disk, as the process would. A kernel that fails on its
 * own (the disk full, no descriptors) stops, as the node stops, and is
 * restarted a slot later, as a supervisor would.
 *
 * Adversaries are the same kernel with one thing changed, and a hook on
 * every block a node signs (cdl_node_config.on_signed) records who signed
 * which slot for the checker: an over-threshold core's ledger allows
 * every slot; an invalid forger's ledger checks no signature and, in a
 * seeded share of its slots, its block signature is broken after signing.
 * An equivocator is one of two nodes holding the same key, each shown to
 * different peers (two honest nodes with one key are the "multiple
 * leaders" case).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"

uint64_t sim_node_now(const sim *s, size_t i) {
  int64_t skew = s->n[i].spec->clock_skew_ms * 1000;
  return (uint64_t)((int64_t)s->now + skew);
}

/* The kernel's deadline is asked of every node at every event: it is kept
 * until the node is touched again (sim_node_touch), its computation being
 * most of a large network's time otherwise. */
uint64_t sim_node_deadline(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  if (!n->up)
    return UINT64_MAX;
  if (n->deadline_stale) {
    uint64_t d = cdl_node_deadline(n->node);
    n->deadline = d == UINT64_MAX ? d : (uint64_t)((int64_t)d - n->spec->clock_skew_ms * 1000);
    n->deadline_stale = false;
  }
  return n->deadline == UINT64_MAX || n->deadline > s->now ? n->deadline : s->now;
}

void sim_node_touch(sim *s, size_t i) { s->n[i].deadline_stale = true; }

/* ---- Genesis ---- */

static uint32_t keys_needed(const cdl_sim_scenario *sc) {
  uint32_t keys = sc->genesis_keys, core = 0;
  for (size_t i = 0; i < sc->n_nodes; i++) {
    const cdl_sim_node_spec *p = &sc->node[i];
    if (p->role != CDL_SIM_CORE)
      continue;
    uint32_t k = p->key >= 0 ? (uint32_t)p->key : core;
    core++;
    if (sc->genesis_keys == 0 && k + 1 > keys)
      keys = k + 1;
  }
  return keys;
}

/* Poor addresses for the payments nodes give themselves (own_payment). */
static size_t own_payments(const sim *s) {
  return (size_t)(s->sc->slots / s->n_keys + 1) * s->n_paying;
}

static int make_genesis(sim *s) {
  s->n_keys = keys_needed(s->sc);
  double t = s->sc->threshold;
  if (t <= 0)
    t = 1.0 / s->n_keys + 1.0 / (double)s->sc->k;
  s->threshold = t > 1 ? 1 : t;
  snprintf(s->gen_dir, sizeof s->gen_dir, "/tmp/cdl-sim-XXXXXX");
  if (mkdtemp(s->gen_dir) == NULL)
    return cdl_error_set(&s->fatal, CDL_E_IO, 0, "mkdtemp failed");
  cdl_gen_genesis_spec g = {.protocol_magic = SIM_MAGIC,
                            .k = s->sc->k,
                            .start_time = (int64_t)SIM_START_S,
                            .genesis_keys = s->n_keys,
                            .poor_addresses = (uint32_t)(s->sc->txs + 2 + own_payments(s)),
                            .poor_balance = 1000000000000ull,
                            .has_seed = true,
                            .seed = s->sc->seed};
  cdl_gen_default_params(&g.params);
  g.params.slot_duration_ms = s->sc->slot_ms;
  int rc = cdl_gen_genesis_create(&g, s->gen_dir, &s->fatal);
  if (rc == CDL_OK)
    rc = cdl_gen_dir_load(s->gen_dir, &s->gen, &s->fatal);
  s->has_gen = rc == CDL_OK;
  char cmd[128]; /* the keys are in memory now: the directory goes */
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->gen_dir);
  if (system(cmd) != 0 && rc == CDL_OK)
    rc = cdl_error_set(&s->fatal, CDL_E_IO, 0, "%s", cmd);
  return rc;
}

/* ---- Topology ---- */

static void add_peer(sim *s, size_t i, size_t j) {
  cdl_peers *ps = &s->n[i].topology;
  for (size_t k = 0; k < ps->n; k++)
    if (ps->peer[k].port == j)
      return;
  size_t group;
  if (cdl_peers_add_group(ps, 1, &group) != CDL_OK ||
      cdl_peers_add(ps, group, "sim", (uint16_t)j) != CDL_OK)
    sim_fail(s, CDL_E_LIMIT, "%s: more than %d peers", s->n[i].name, CDL_PEERS_MAX);
}

/* An edge of the topology: each end lists the other (two nodes that list
 * each other share one connection, full duplex, so blocks flow both ways). */
static void add_edge(sim *s, size_t i, size_t j) {
  add_peer(s, i, j);
  add_peer(s, j, i);
}

static void random_peers(sim *s) {
  size_t n = s->n_nodes, d = s->sc->degree ? s->sc->degree : 2;
  for (size_t i = 0; i < n; i++)
    add_edge(s, i, (i + 1) % n); /* a ring keeps it connected */
  for (size_t i = 0; i < n; i++)
    for (size_t k = 2; k < d && n > 3; k++) {
      size_t j = (size_t)cdl_gen_rng_below(&s->rng, n - 1);
      add_edge(s, i, j >= i ? j + 1 : j);
    }
}

/* Whether the scenario's topology joins nodes |i| and |j| (i < j). */
static bool joined(const sim *s, size_t i, size_t j) {
  bool core_i = s->n[i].spec->role == CDL_SIM_CORE, core_j = s->n[j].spec->role == CDL_SIM_CORE;
  switch (s->sc->topology) {
  case CDL_SIM_MESH:
    return true;
  case CDL_SIM_RING:
    return j == i + 1 || (i == 0 && j == s->n_nodes - 1);
  case CDL_SIM_LINE:
    return j == i + 1;
  case CDL_SIM_STAR:
    return i == 0;
  case CDL_SIM_RELAYS: /* relays in front of the cores: no core meets another */
    return !(core_i && core_j);
  case CDL_SIM_RANDOM:
    break;
  }
  return false;
}

/* Explicit peers are taken as given (each node's upstream list); a
 * named topology is a graph whose every edge both ends list. */
static void make_topology(sim *s) {
  size_t n = s->n_nodes;
  for (size_t i = 0; i < n; i++)
    cdl_peers_init(&s->n[i].topology);
  bool explicit_peers = false;
  for (size_t i = 0; i < n; i++) {
    const cdl_sim_node_spec *p = s->n[i].spec;
    for (size_t k = 0; k < p->n_peers; k++)
      add_peer(s, i, p->peers[k]);
    explicit_peers |= p->n_peers > 0;
  }
  if (explicit_peers)
    return;
  if (s->sc->topology == CDL_SIM_RANDOM)
    return random_peers(s);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (joined(s, i, j))
        add_edge(s, i, j);
}

/* ---- The signing hook ---- */

static void remember_signed(sim *s, size_t node, const uint8_t *block, size_t len, uint64_t slot,
                            bool invalid) {
  cdl_block_info info;
  cdl_error err = {0};
  if (cdl_block_info_read(block, len, 10 * s->sc->k, &info, &err) != CDL_OK)
    return;
  sim_signed *grown = realloc(s->signed_, (s->n_signed + 1) * sizeof *grown);
  if (grown == NULL)
    return sim_fail(s, CDL_E_NOMEM, "out of memory");
  s->signed_ = grown;
  sim_signed *g = &s->signed_[s->n_signed++];
  *g = (sim_signed){.node = node, .key = s->n[node].key, .slot = slot, .invalid = invalid};
  memcpy(g->hash, info.hash, 32);
  if (invalid)
    s->rep->invalid_forged++;
}

/* Breaks a main block after signing, in place: one bit of its block
 * signature, or (|body|) the last byte of its first transaction's
 * witnesses, a byte inside a signature's byte string, so the block still
 * decodes but its body no longer matches the header's proof. */
static bool break_block(uint8_t *block, size_t len, bool body) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_error err = {0};
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_block blk;
  bool ok = cdl_byron_block_decode(block, len, &ctx, &blk) == CDL_OK && !blk.is_ebb;
  if (ok && body)
    ok = blk.body.n_txs > 0 && blk.body.txs[0].witnesses_raw.len > 0;
  if (ok && body) {
    cdl_span w = blk.body.txs[0].witnesses_raw;
    block[w.ptr + w.len - 1 - block] ^= 0x01;
  } else if (ok) {
    block[blk.header.signature - block] ^= 0x01;
  }
  cdl_arena_free(&arena);
  return ok;
}

static void on_signed(void *ctx, uint8_t *block, size_t len, uint64_t slot) {
  sim_node *n = ctx;
  sim *s = n->sim;
  bool invalid = false;
  cdl_sim_adversary adv = n->spec->adversary;
  if (adv == CDL_SIM_INVALID_FORGER || adv == CDL_SIM_MISMATCH) {
    double rate = n->spec->invalid_rate > 0 ? n->spec->invalid_rate : 1;
    if (cdl_gen_rng_below(&n->rng, 1000000) < (uint64_t)(rate * 1000000))
      invalid = break_block(block, len, adv == CDL_SIM_MISMATCH);
  }
  sim_trace(s, "%s signs slot %llu%s", n->name, (unsigned long long)slot,
            !invalid                  ? ""
            : adv == CDL_SIM_MISMATCH ? " (its body altered)"
                                      : " (a broken signature)");
  remember_signed(s, n->index, block, len, slot, invalid);
}

/* ---- Opening, crashing, restarting ---- */

static int open_kernel(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  bool core = n->spec->role == CDL_SIM_CORE;
  cdl_node_config nc = {.db = n->db,
                        .genesis = &s->gen.genesis,
                        .n2n = cdl_hs_node_to_node(SIM_MAGIC, false),
                        .n2c = cdl_hs_node_to_client(SIM_MAGIC),
                        .forger = core ? &n->forger : NULL,
                        .peers = &n->topology,
                        .log = s->opt->log,
                        .name = n->name,
                        .on_signed = on_signed,
                        .hook_ctx = n};
  return cdl_node_new(&nc, sim_node_now(s, i), &n->node, &s->fatal);
}

static unsigned ledger_flags(const sim_node *n) {
  if (n->spec->adversary == CDL_SIM_MISMATCH)
    return CDL_LEDGER_NO_SIGNATURES | CDL_LEDGER_NO_BODY_PROOFS;
  return n->spec->adversary == CDL_SIM_INVALID_FORGER ? CDL_LEDGER_NO_SIGNATURES : 0;
}

static double ledger_threshold(const sim *s, const sim_node *n) {
  if (n->spec->adversary == CDL_SIM_OVER_THRESHOLD)
    return 1.0;
  if (n->honest && s->sc->broken == CDL_SIM_BROKEN_PBFT_THRESHOLD)
    return 1.0;
  return s->threshold;
}

/* Whether the open refused an identity file (DIR/genesis.hash,
 * DIR/pbft-threshold) that the last damage changed into another value
 * of the right shape: the ChainDB cannot tell that from a database of
 * another network or threshold, and refuses rather than guess
 * (docs/storage.md "Identity files"). */
static bool identity_damaged(const sim_node *n, const cdl_error *err) {
  const char *base = strrchr(n->damaged, '/');
  base = base ? base + 1 : n->damaged;
  bool identity = strcmp(base, "genesis.hash") == 0 || strcmp(base, "pbft-threshold") == 0;
  return identity && (err->code == CDL_E_GENESIS || err->code == CDL_E_USAGE);
}

/* What node |i| could not open at a start: while the scenario limits its
 * disk, refusing to start is right (its supervisor tries again a slot
 * later); otherwise a crash left something that does not open, a
 * durability failure. */
static void open_failed(sim *s, size_t i, const char *what, const cdl_error *err) {
  sim_node *n = &s->n[i];
  if (identity_damaged(n, err)) {
    /* Its operator, told which file, removes it (the database writes it
     * again) and starts the node a slot later. */
    sim_trace(s,
              "%s refuses to start, as it must: %s (the damage to %s left another value of "
              "the right shape); its operator removes the file",
              n->name, err->message, n->damaged);
    cdl_fs *fs = sim_disk_fs(n->disk);
    cdl_error gone = {0};
    fs->ops->remove(fs, n->damaged, &gone);
    n->damaged[0] = '\0';
    sim_schedule(s, s->now + s->slot_us, SIM_ACT_RESTART, i, NULL);
    return;
  }
  if (n->disk_limited) {
    sim_trace(s, "%s cannot start (its disk is limited): %s", n->name, err->message);
    sim_schedule(s, s->now + s->slot_us, SIM_ACT_RESTART, i, NULL);
    return;
  }
  sim_violation(s, CDL_SIM_PROP_DURABILITY, sim_slot_of(s, s->now), "%s: its %s does not open: %s",
                n->name, what, err->message);
}

/* The ChainDB from the node's disk (open_failed when it does not open). */
static bool open_db(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  cdl_chaindb_config dc = {.dir = SIM_DB_DIR,
                           .genesis = &s->gen.genesis,
                           .ledger = {.protocol_magic = SIM_MAGIC,
                                      .requires_magic = s->gen.requires_magic,
                                      .k = s->sc->k,
                                      .pbft_threshold = ledger_threshold(s, n),
                                      .flags = ledger_flags(n)},
                           .witness_cache = SIM_WITNESS_CACHE,
                           .fs = sim_disk_fs(n->disk)};
  cdl_chaindb_report rep;
  cdl_error err = {0};
  if (cdl_chaindb_open(&dc, &n->db, &rep, &err) != CDL_OK) {
    n->db = NULL;
    open_failed(s, i, "database", &err);
    return false;
  }
  sim_check_reopen(s, i, &rep);
  return true;
}

static bool open_record(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  cdl_error err = {0};
  if (cdl_sign_record_open(sim_disk_fs(n->disk), SIM_RECORD_PATH, &n->forger.record, &err) ==
      CDL_OK)
    return true;
  n->forger.record = NULL;
  open_failed(s, i, "signing record", &err);
  return false;
}

/* A mempool dies with its process: the wallets of node |i| submit their
 * payments again when it is back, as a wallet does with a transaction it
 * has not seen on the chain (one the chain has is refused, harmlessly). */
static void resubmit(sim *s, size_t i) {
  if (s->n[i].restarts == 0)
    return;
  for (size_t k = 0; k < s->next_tx; k++) {
    const sim_tx *t = &s->txs[k];
    cdl_rejection rej = {0};
    if (t->submitted && t->taken_by == i)
      cdl_node_submit(s->n[i].node, t->gentx.data, t->gentx.len, &rej);
  }
}

/* Starts node |i| (first join or restart) from its disk. */
void sim_node_restart(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  n->up_at_us = UINT64_MAX;
  if (n->up || s->failed)
    return;
  cdl_fs *fs = sim_disk_fs(n->disk);
  cdl_error err = {0};
  if (!fs->ops->exists(fs, SIM_DB_DIR) && fs->ops->mkdir(fs, SIM_DB_DIR, &err) != CDL_OK)
    return sim_fail(s, CDL_E_IO, "%s: mkdir: %s", n->name, err.message);
  if (!open_db(s, i))
    return;
  if (n->spec->role == CDL_SIM_CORE && !open_record(s, i)) {
    cdl_chaindb_abandon(n->db);
    return;
  }
  if (open_kernel(s, i) != CDL_OK)
    return sim_fail(s, s->fatal.code, "%s", s->fatal.message);
  n->up = true;
  sim_node_touch(s, i);
  resubmit(s, i);
  cdl_block_info tip;
  bool has = cdl_chaindb_tip(n->db, &tip);
  sim_trace(s, "%s starts, its chain at block %llu", n->name,
            has ? (unsigned long long)tip.block_no : 0ull);
}

static void add_stats(cdl_node_stats *sum, const cdl_node_stats *st) {
  sum->forged += st->forged, sum->ebbs_forged += st->ebbs_forged;
  sum->forge_skipped += st->forge_skipped, sum->double_sign_refused += st->double_sign_refused;
  sum->record_failures += st->record_failures, sum->own_refused += st->own_refused;
  sum->blocks_adopted += st->blocks_adopted, sum->invalid_blocks += st->invalid_blocks;
  sum->rollbacks += st->rollbacks;
  if (st->rollback_max > sum->rollback_max)
    sum->rollback_max = st->rollback_max;
}

void sim_node_stats(const sim *s, size_t i, cdl_node_stats *st) {
  const sim_node *n = &s->n[i];
  *st = n->carried;
  if (!n->up)
    return;
  cdl_node_stats now;
  cdl_node_stats_get(n->node, &now);
  add_stats(st, &now);
}

/* Everything of the running node dropped, nothing written. */
static void drop_node(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  sim_net_end_links_of(s, i, CDL_PEER_END_IO);
  n->crash_had_tip = cdl_chaindb_tip(n->db, &n->crash_tip);
  cdl_node_stats st;
  cdl_node_stats_get(n->node, &st);
  add_stats(&n->carried, &st);
  sim_disk_freeze(n->disk);
  cdl_node_del(n->node);
  cdl_chaindb_abandon(n->db);
  if (n->forger.record != NULL)
    cdl_sign_record_close(n->forger.record);
  n->node = NULL, n->db = NULL, n->forger.record = NULL;
  n->up = false;
}

/* Removes every file under |dir| on |fs| (a database lost). */
static int wipe_entry(void *ctx, const char *name);
typedef struct wipe_ctx {
  cdl_fs *fs;
  const char *dir;
} wipe_ctx;

static void wipe(cdl_fs *fs, const char *dir) {
  wipe_ctx w = {fs, dir};
  cdl_error err = {0};
  fs->ops->list(fs, dir, wipe_entry, &w, &err);
}

static int wipe_entry(void *ctx, const char *name) {
  wipe_ctx *w = ctx;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", w->dir, name);
  cdl_error err = {0};
  wipe(w->fs, path); /* a directory's entries first; a file lists nothing */
  w->fs->ops->remove(w->fs, path, &err);
  return 0;
}

static void damage_disk(sim *s, sim_node *n, const cdl_sim_fault *f) {
  cdl_sim_disk_damage damage = f ? f->damage : CDL_SIM_DAMAGE_NONE;
  bool lose_record = f && (f->lose_record ||
                           (n->honest && s->sc->broken == CDL_SIM_BROKEN_SIGN_RECORD));
  char prefix[CDL_SIM_NAME_MAX + 8];
  snprintf(prefix, sizeof prefix, SIM_DB_DIR "/%s", f ? f->damage_file : "");
  char *path = n->damaged;
  path[0] = '\0';
  /* Damage to a file is done to what the crash left of a process's
   * writes; power loss and a lost directory come on top of lost writes. */
  bool power = damage == CDL_SIM_DAMAGE_POWER || damage == CDL_SIM_DAMAGE_WIPE;
  sim_disk_crash(n->disk, power ? SIM_CRASH_POWER : SIM_CRASH_PROCESS);
  if (damage == CDL_SIM_DAMAGE_BITFLIP || damage == CDL_SIM_DAMAGE_TRUNCATE) {
    sim_corruption kind =
        damage == CDL_SIM_DAMAGE_BITFLIP ? SIM_CORRUPT_BITFLIP : SIM_CORRUPT_TRUNCATE;
    if (sim_disk_corrupt(n->disk, prefix, kind, path, sizeof n->damaged))
      sim_trace(s, "%s: %s damaged while down", n->name, path);
  }
  cdl_fs *fs = sim_disk_fs(n->disk);
  if (damage == CDL_SIM_DAMAGE_WIPE)
    wipe(fs, SIM_DB_DIR);
  cdl_error err = {0};
  if (lose_record)
    fs->ops->remove(fs, SIM_RECORD_PATH, &err);
}

/* A crash (|f|: the scenario's; NULL: the node stopped on a failure of
 * its own and its supervisor restarts it a slot later). */
void sim_node_crash(sim *s, size_t i, const cdl_sim_fault *f) {
  sim_node *n = &s->n[i];
  if (!n->up)
    return;
  cdl_sim_disk_damage damage = f ? f->damage : CDL_SIM_DAMAGE_NONE;
  sim_trace(s, "%s crashes (%s)", n->name, f ? "scenario" : "its own failure");
  drop_node(s, i);
  n->restarts++;
  n->crash_damage = damage;
  /* After the node stopped on its own failure, the write that failed is
   * not on disk: only a crash the scenario made keeps the tip exactly. */
  n->crash_keeps_tip = f != NULL && damage == CDL_SIM_DAMAGE_NONE;
  damage_disk(s, n, f);
  uint64_t back = s->now + s->slot_us;
  if (f != NULL)
    back = f->b > f->a ? sim_slot_start(s, f->b) : s->now + 1000;
  sim_schedule(s, back, SIM_ACT_RESTART, i, NULL);
}

void sim_node_set_disk_limits(sim *s, size_t i, const cdl_sim_fault *f, bool on) {
  sim_node *n = &s->n[i];
  n->disk_limited = on;
  if (f->kind == CDL_SIM_DESCRIPTORS) {
    sim_disk_set_max_open(n->disk, on ? f->count : 0);
  } else {
    sim_disk_stats st;
    sim_disk_stats_get(n->disk, &st);
    sim_disk_set_capacity(n->disk, on ? st.bytes + f->bytes : 0);
  }
  sim_trace(s, "%s: disk %s %s", n->name, f->kind == CDL_SIM_DESCRIPTORS ? "descriptors" : "space",
            on ? "limited" : "back");
}

/* Two cores holding one key (an equivocator and its twin, or two honest
 * leaders) would sign the same block from the same tip and mempool: the
 * first of them gets a payment of its own before each of its slots, as
 * two leaders' mempools differ, so both blocks are seen. A mismatching
 * adversary gets one too: a body to alter. */
static void own_payment(sim *s, size_t i, uint64_t slot) {
  sim_node *n = &s->n[i];
  if (n->pay_rank == SIZE_MAX || slot % s->n_keys != n->key)
    return;
  size_t from = s->sc->txs + 2 + (size_t)(slot / s->n_keys) * s->n_paying + n->pay_rank;
  if (from >= s->gen.secrets.n_poor)
    return;
  cdl_buf tx;
  uint8_t id[32];
  cdl_gen_genesis_payment(&s->gen, from, 0, 3000000, &tx, id);
  cdl_rejection rej = {0};
  cdl_node_submit(n->node, tx.data, tx.len, &rej);
  cdl_buf_free(&tx);
}

void sim_node_tick(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  uint64_t now = sim_node_now(s, i), slot;
  if (cdl_node_slot_at(n->node, now, &slot))
    own_payment(s, i, slot);
  cdl_node_stats before, after;
  cdl_node_stats_get(n->node, &before);
  cdl_error err = {0};
  if (cdl_node_tick(n->node, now, &err) != CDL_OK || cdl_node_failed(n->node, &err)) {
    sim_trace(s, "%s stops: %s", n->name, err.message);
    sim_node_crash(s, i, NULL);
    return;
  }
  /* A leader slot the PBFT threshold (or a lost delegation) kept an honest
   * core from: the checker's chain growth allows those (sim_check.c). */
  cdl_node_stats_get(n->node, &after);
  uint64_t at = sim_slot_of(s, s->now);
  if (n->honest && after.forge_skipped > before.forge_skipped && at < s->sc->slots)
    s->forbidden[at] = 1;
  sim_net_drain(s, i);
}

/* ---- All of them ---- */

/* Whether core |i| gets a payment of its own before each of its slots
 * (own_payment): the first of two holding one key, or a mismatching
 * adversary. */
static bool pays_itself(const sim *s, size_t i) {
  const sim_node *n = &s->n[i];
  if (n->spec->role != CDL_SIM_CORE)
    return false;
  if (n->spec->adversary == CDL_SIM_MISMATCH)
    return true;
  for (size_t j = 0; j < s->n_nodes; j++)
    if (j != i && s->n[j].spec->role == CDL_SIM_CORE && s->n[j].key == n->key)
      return j > i;
  return false;
}

/* Names, roles and keys, from the scenario. */
static void describe_nodes(sim *s) {
  size_t cores = 0, relays = 0;
  for (size_t i = 0; i < s->n_nodes; i++) {
    sim_node *n = &s->n[i];
    const cdl_sim_node_spec *p = &s->sc->node[i];
    bool core = p->role == CDL_SIM_CORE;
    *n = (sim_node){.spec = p, .sim = s, .index = i, .up_at_us = UINT64_MAX};
    n->honest = p->adversary == CDL_SIM_HONEST;
    n->key = core ? (p->key >= 0 ? (uint32_t)p->key : (uint32_t)cores) : 0;
    if (p->name[0] != '\0')
      snprintf(n->name, sizeof n->name, "%s", p->name);
    else
      snprintf(n->name, sizeof n->name, "%s-%zu", core ? "core" : "relay", core ? cores : relays);
    cores += core, relays += !core;
  }
  for (size_t i = 0; i < s->n_nodes; i++)
    s->n[i].pay_rank = pays_itself(s, i) ? s->n_paying++ : SIZE_MAX;
}

int sim_nodes_create(sim *s) {
  s->n_nodes = s->sc->n_nodes;
  s->n = calloc(s->n_nodes, sizeof *s->n);
  if (s->n == NULL)
    return cdl_error_set(&s->fatal, CDL_E_NOMEM, 0, "out of memory");
  describe_nodes(s);
  s->forbidden = calloc(s->sc->slots, 1);
  if (s->forbidden == NULL)
    return cdl_error_set(&s->fatal, CDL_E_NOMEM, 0, "out of memory");
  CDL_TRY(make_genesis(s));
  for (size_t i = 0; i < s->n_nodes; i++) {
    sim_node *n = &s->n[i];
    if (n->spec->role == CDL_SIM_CORE && n->key < s->n_keys) {
      n->forger.delegate = s->gen.secrets.delegates[n->key];
      n->forger.cert = s->gen.secrets.certs[n->key];
    }
    cdl_gen_rng_seed(&n->rng, s->sc->seed * 1000003 + i);
    n->disk = sim_disk_new(s->sc->seed * 7919 + i);
    if (n->disk == NULL)
      return cdl_error_set(&s->fatal, CDL_E_NOMEM, 0, "out of memory");
  }
  make_topology(s);
  return s->failed ? s->fatal.code : CDL_OK;
}

/* The end of the run: every node that is up closes in order and opens
 * again, which must give the same tip (sim_check.c), then everything is
 * freed. */
void sim_node_close_all(sim *s) {
  for (size_t i = 0; s->n != NULL && i < s->n_nodes; i++) {
    sim_node *n = &s->n[i];
    if (n->up) {
      cdl_node_del(n->node);
      if (n->forger.record != NULL)
        cdl_sign_record_close(n->forger.record);
      cdl_error err = {0};
      cdl_chaindb_close(n->db, &err);
    }
    if (n->disk != NULL)
      sim_disk_free(n->disk);
  }
}
