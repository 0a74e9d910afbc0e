/*
 * node_sim.c: the deterministic network simulator (node_sim.h; docs/
 * testing.md "Simulation").
 *
 * A generated genesis with one genesis key per node; each node a kernel
 * over its own ChainDB with its genesis key's delegate and certificate,
 * and a topology naming the others ("sim", port = node index). The
 * kernels' own peer selection decides whom to dial and when
 * (cdl_node_next_dial): a dial connects at once when its node is up, and
 * fails at once otherwise; every core dials every other, so each pair
 * has two connections. Time
 * moves from event to event: the earliest of a delivery, a node's
 * deadline and a scheduled tx submission. A message leaves when the
 * sending kernel has it and arrives after the link's latency (a seeded
 * draw), never before an earlier message in the same direction (TCP
 * keeps order). Nothing reads a real clock or depends on addresses, so a
 * seed fixes the run.
 *
 * With initiator_only_relay a relay joins that dials every core,
 * initiator only (its connections carry no requests to it), and takes
 * its share of the payments, which it relays upstream.
 * With relay_and_evil_peer two more kernels join: a relay dialling every
 * core node, and a hostile peer that only the relay dials. The hostile
 * peer's ChainDB takes blocks without signature checks and holds the
 * epoch-0 EBB and three main blocks, the second with one bit of its block
 * signature flipped. The relay must refuse that block and end the
 * connection (the one connection allowed to end); the simulated sockets
 * of both ends are then closed, what is still in flight is dropped, and
 * the relay's kernel suspends the hostile peer.
 *
 * Each core node's signing record lives in the genesis's temporary
 * directory, outside its ChainDB's. A restart (restart_slot) closes one
 * core node's kernel, ChainDB and record (its peers see their
 * connections close and dial it again after their backoff), replaces its
 * ChainDB directory by an empty one and reopens the record from its file;
 * the new kernel dials its topology.
 */
#include "node_sim.h"

#include <stdlib.h>
#include <string.h>

#include "../storage/storage_support.h"

#define SLOT_MS 1000
#define START_S 1700000000ull
#define SIM_MAX_EVENTS 50000000ull /* a runaway loop fails the test */

typedef struct sim_link {
  size_t from, to; /* |from| dialled |to| */
  cdl_node_conn_id out_id, in_id;
  uint64_t last_at[2]; /* the last arrival each way: 0 from -> to, 1 back */
  bool closed;
} sim_link;

typedef struct sim_msg {
  uint64_t at, seq;
  size_t link;
  int dir;
  cdl_buf bytes;
} sim_msg;

typedef struct sim_node {
  char dir[256];
  cdl_peers topology;
  cdl_chaindb *db;
  cdl_node *node;
  cdl_node_forger forger;
  cdl_fs record_fs; /* the signing record's, outside the ChainDB's directory */
  char name[32];    /* its logs' component: the kernel keeps the pointer */
} sim_node;

typedef struct sim_tx {
  uint64_t at;
  size_t node;
  cdl_buf gentx;
  uint8_t id[32];
} sim_tx;

typedef struct sim {
  const sim_config *cfg;
  char gen_dir[64];
  cdl_gen_dir gen;
  sim_node n[SIM_MAX_NODES];
  sim_link *links;
  size_t n_links, cap_links;
  sim_msg *q;
  size_t nq, capq;
  sim_tx *txs;
  size_t next_tx;
  uint64_t restart_at; /* UINT64_MAX: none (left) */
  cdl_gen_rng rng;
  uint64_t now, seq;
  cdl_blake2b digest;
  sim_result *res;
} sim;

/* Cores, then the relay and the hostile peer when asked for. */
static bool has_relay(const sim *s) {
  return s->cfg->relay_and_evil_peer || s->cfg->initiator_only_relay;
}
static size_t all_nodes(const sim *s) {
  return s->cfg->nodes + has_relay(s) + s->cfg->relay_and_evil_peer;
}
/* Cores and the relay: the chains that must agree. */
static size_t honest_nodes(const sim *s) { return s->cfg->nodes + has_relay(s); }
static size_t evil_node(const sim *s) { return s->cfg->nodes + 1; }

static void make_genesis(sim *s) {
  snprintf(s->gen_dir, sizeof s->gen_dir, "/tmp/cdl-sim-gen-XXXXXX");
  assert_non_null(mkdtemp(s->gen_dir));
  cdl_gen_genesis_spec g = {.protocol_magic = 42,
                            .k = s->cfg->k,
                            .start_time = (int64_t)START_S,
                            .genesis_keys = (uint32_t)s->cfg->nodes,
                            .poor_addresses = (uint32_t)(s->cfg->txs + 1),
                            .poor_balance = 1000000000000ull,
                            .has_seed = true,
                            .seed = 3};
  cdl_gen_default_params(&g.params);
  g.params.slot_duration_ms = SLOT_MS;
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&g, s->gen_dir, &err) != CDL_OK) fail_msg("%s", err.message);
  if (cdl_gen_dir_load(s->gen_dir, &s->gen, &err) != CDL_OK) fail_msg("%s", err.message);
}

static void add_evil_block(sim *s, sim_node *n, const cdl_buf *b, uint8_t hash[32]) {
  cdl_chaindb_add_result r;
  cdl_rejection rej = {0};
  cdl_error err = {0};
  if (cdl_chaindb_add_block(n->db, b->data, b->len, &r, &rej, &err) != CDL_OK)
    fail_msg("hostile chain: %s %s", rej.rule ? rej.rule : "", err.message);
  cdl_block_info info = info_of(b->data, b->len, 10 * s->cfg->k);
  memcpy(hash, info.hash, 32);
}

/* Flips one bit of a main block's block signature, in place. */
static void break_signature(cdl_buf *b) {
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_error err = {0};
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_block blk;
  assert_int_equal(cdl_byron_block_decode(b->data, b->len, &ctx, &blk), CDL_OK);
  b->data[blk.header.signature - b->data] ^= 0x01;
  cdl_arena_free(&arena);
}

/* The hostile peer's chain: EBB 0, then main blocks 1-3 in slots 0-2 by
 * their scheduled keys; block 2 is the bad one. */
static void fill_evil_chain(sim *s, sim_node *n) {
  uint8_t prev[32];
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_forge_ebb(42, s->gen.genesis.hash, 0, 0, &b);
  add_evil_block(s, n, &b, prev);
  for (uint64_t no = 1; no <= 3; no++) {
    size_t key = (size_t)((no - 1) % s->cfg->nodes);
    cdl_forge_spec f = {.magic = 42,
                        .prev_hash = prev,
                        .block_no = no,
                        .slot_in_epoch = no - 1,
                        .cert = &s->gen.secrets.certs[key],
                        .delegate = &s->gen.secrets.delegates[key],
                        .block_version = cdl_ledger_protocol_version(cdl_chaindb_ledger(n->db))};
    cdl_buf_reset(&b);
    cdl_error err = {0};
    if (cdl_forge_block(&f, NULL, 0, &b, &err) != CDL_OK) fail_msg("forge: %s", err.message);
    if (no == 2) break_signature(&b);
    add_evil_block(s, n, &b, prev);
    if (no == 2) memcpy(s->res->evil_hash, prev, 32), s->res->evil_block_no = no;
  }
  cdl_buf_free(&b);
}

/* Core node |i|'s keys and its signing record (in the genesis's
 * temporary directory: a node's record lives outside its database). */
static void open_forger(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  n->forger.delegate = s->gen.secrets.delegates[i];
  n->forger.cert = s->gen.secrets.certs[i];
  char path[128];
  snprintf(path, sizeof path, "%s/signed-%zu", s->gen_dir, i);
  cdl_fs_posix_init(&n->record_fs, 0);
  cdl_error err = {0};
  if (cdl_sign_record_open(&n->record_fs, path, &n->forger.record, &err) != CDL_OK)
    fail_msg("signing record: %s", err.message);
}

static void add_peer(cdl_peers *ps, size_t port) {
  size_t group;
  assert_int_equal(cdl_peers_add_group(ps, 1, &group), CDL_OK);
  assert_int_equal(cdl_peers_add(ps, group, "sim", (uint16_t)port), CDL_OK);
}

/* Node |i|'s topology: every other core, each a group of one; the relay
 * lists the hostile peer first (it is dialled before the honest chain
 * exists); core 0 may also list the dead address. */
static void make_topology(sim *s, size_t i) {
  cdl_peers *ps = &s->n[i].topology;
  cdl_peers_init(ps);
  if (s->cfg->relay_and_evil_peer && i == evil_node(s)) return;
  if (s->cfg->relay_and_evil_peer && i == s->cfg->nodes) add_peer(ps, evil_node(s));
  for (size_t j = 0; j < s->cfg->nodes; j++)
    if (j != i) add_peer(ps, j);
  if (i == 0 && s->cfg->dead_peer) add_peer(ps, SIM_DEAD_PORT);
}

static void open_node(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  bool core = i < s->cfg->nodes, evil = s->cfg->relay_and_evil_peer && i == evil_node(s);
  make_dir(n->dir, sizeof n->dir, "sim-node");
  cdl_chaindb_config dc = chaindb_config(n->dir, &s->gen.genesis, NULL);
  dc.ledger.requires_magic = s->gen.requires_magic;
  dc.ledger.pbft_threshold = s->cfg->threshold;
  if (evil) dc.ledger.flags = CDL_LEDGER_NO_SIGNATURES;
  dc.witness_cache = 4096;
  n->db = db_open(&dc, NULL);
  if (evil) fill_evil_chain(s, n);
  if (core) open_forger(s, i);
  make_topology(s, i);
  snprintf(n->name, sizeof n->name, "sim-%zu", i);
  bool initiator_only = s->cfg->initiator_only_relay && i == s->cfg->nodes;
  cdl_hs_config n2n = cdl_hs_node_to_node(42, initiator_only);
  cdl_hs_config n2c = cdl_hs_node_to_client(42);
  cdl_node_config nc = {.db = n->db,
                        .genesis = &s->gen.genesis,
                        .n2n = n2n,
                        .n2c = n2c,
                        .forger = core ? &n->forger : NULL,
                        .peers = &n->topology,
                        .threads = s->cfg->threads,
                        .log = s->cfg->log,
                        .name = n->name};
  cdl_error err = {0};
  if (cdl_node_new(&nc, s->now, &n->node, &err) != CDL_OK) fail_msg("node: %s", err.message);
}

static sim_link *new_link(sim *s) {
  if (s->n_links == s->cap_links) {
    s->cap_links = s->cap_links ? 2 * s->cap_links : 64;
    s->links = realloc(s->links, s->cap_links * sizeof *s->links);
    assert_non_null(s->links);
  }
  sim_link *l = &s->links[s->n_links++];
  memset(l, 0, sizeof *l);
  return l;
}

static void record_dial(sim *s, size_t node, uint16_t to, bool connected) {
  if (s->res->n_dials == SIM_MAX_DIALS) return;
  s->res->dials[s->res->n_dials++] = (sim_dial){s->now, node, to, connected};
}

/* Node |a| dials whom its kernel's peer selection names: a node answers
 * at once (both ends open), the dead address never does. */
static void dial_due(sim *s, size_t a) {
  size_t peer;
  const cdl_peer *p;
  while (cdl_node_next_dial(s->n[a].node, s->now, &peer, &p)) {
    size_t b = p->port;
    bool up = b < all_nodes(s);
    record_dial(s, a, p->port, up);
    if (!up) {
      cdl_node_dial_failed(s->n[a].node, peer, s->now);
      continue;
    }
    cdl_error err = {0};
    sim_link *l = new_link(s);
    l->from = a, l->to = b;
    assert_int_equal(cdl_node_dialled(s->n[a].node, peer, s->now, &l->out_id, &err), CDL_OK);
    assert_int_equal(cdl_node_conn_open(s->n[b].node, CDL_NODE_INBOUND, s->now, &l->in_id, &err),
                     CDL_OK);
    /* It comes from |a|'s listening address (as a node dials from it). */
    assert_int_equal(cdl_node_conn_set_remote(s->n[b].node, l->in_id, "sim", (uint16_t)a), CDL_OK);
  }
}

static void schedule_txs(sim *s) {
  s->txs = calloc(s->cfg->txs + 1, sizeof *s->txs);
  assert_non_null(s->txs);
  uint64_t slot_us = SLOT_MS * 1000ull, span = s->cfg->slots * 8 / 10;
  for (size_t i = 0; i < s->cfg->txs; i++) {
    sim_tx *t = &s->txs[i];
    uint64_t slot = 2 + i * span / s->cfg->txs;
    t->at = START_S * 1000000 + slot * slot_us + cdl_gen_rng_below(&s->rng, slot_us);
    t->node = (size_t)cdl_gen_rng_below(&s->rng, s->cfg->nodes + has_relay(s));
    gen_payment(&s->gen, i, i + 1, 5000000 + i, &t->gentx, t->id);
  }
  s->txs[s->cfg->txs].at = UINT64_MAX;
}

/* ---- Messages ---- */

static void send_bytes(sim *s, size_t link, int dir, const cdl_buf *b) {
  if (s->nq == s->capq) {
    s->capq = s->capq ? 2 * s->capq : 64;
    s->q = realloc(s->q, s->capq * sizeof *s->q);
    assert_non_null(s->q);
  }
  sim_link *l = &s->links[link];
  uint64_t at = s->now + s->cfg->latency_us + cdl_gen_rng_below(&s->rng, s->cfg->jitter_us + 1);
  if (at < l->last_at[dir]) at = l->last_at[dir];
  /* A limited link: each message waits for the bytes before it to pass. */
  if (s->cfg->bytes_per_s > 0) at += (uint64_t)b->len * 1000000 / s->cfg->bytes_per_s;
  l->last_at[dir] = at;
  sim_msg *m = &s->q[s->nq++];
  *m = (sim_msg){.at = at, .seq = s->seq++, .link = link, .dir = dir};
  copy_bytes(&m->bytes, b->data, b->len);
}

/* The link and direction of node |node|'s connection |id| (a restarted
 * kernel numbers its connections anew: closed links are not its). */
static void link_of(const sim *s, size_t node, cdl_node_conn_id id, size_t *link, int *dir) {
  for (size_t i = 0; i < s->n_links; i++) {
    const sim_link *l = &s->links[i];
    if (l->closed) continue;
    if (l->from == node && l->out_id == id) return (void)(*link = i, *dir = 0);
    if (l->to == node && l->in_id == id) return (void)(*link = i, *dir = 1);
  }
  fail_msg("node %zu has no connection %u", node, (unsigned)id);
}

/* A connection node |i| ended: allowed only on the relay's link to the
 * hostile peer, whose two ends are then closed. */
static void conn_ended(sim *s, size_t i, cdl_node_conn_id id, int rc, const cdl_error *err) {
  size_t link = 0;
  int dir = 0;
  link_of(s, i, id, &link, &dir);
  sim_link *l = &s->links[link];
  if (!s->cfg->relay_and_evil_peer || l->to != evil_node(s) || s->res->evil_link_ended)
    fail_msg("node %zu: connection %u ended (%d): %s", i, (unsigned)id, rc, err->message);
  s->res->evil_link_ended = true;
  s->res->evil_link_rc = rc;
  s->res->evil_link_ended_us = s->now;
  snprintf(s->res->evil_link_why, sizeof s->res->evil_link_why, "%.150s", err->message);
  /* Each side's kernel judges its own end; the other sees a reset. */
  cdl_node_conn_close(s->n[l->from].node, l->out_id, CDL_PEER_END_IO, s->now);
  cdl_node_conn_close(s->n[l->to].node, l->in_id, CDL_PEER_END_IO, s->now);
  l->closed = true;
}

/* The dials node |i| is due, then everything it has to say, onto the
 * network. */
static void drain(sim *s, size_t i) {
  dial_due(s, i);
  cdl_node *nd = s->n[i].node;
  cdl_node_conn_id id;
  cdl_buf out;
  cdl_buf_init(&out, 0);
  while (cdl_node_next_dirty(nd, &id)) {
    int rc;
    cdl_error err = {0};
    if (cdl_node_conn_result(nd, id, &rc, &err)) {
      conn_ended(s, i, id, rc, &err);
      continue;
    }
    size_t link = 0;
    int dir = 0;
    link_of(s, i, id, &link, &dir);
    cdl_buf_reset(&out);
    while (cdl_node_conn_next_sdu(nd, id, s->now, &out)) {
    }
    if (out.len > 0) send_bytes(s, link, dir, &out);
  }
  cdl_buf_free(&out);
}

static size_t earliest_msg(const sim *s) {
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < s->nq; i++) {
    const sim_msg *m = &s->q[i];
    if (best == SIZE_MAX || m->at < s->q[best].at ||
        (m->at == s->q[best].at && m->seq < s->q[best].seq))
      best = i;
  }
  return best;
}

static void deliver(sim *s, size_t qi) {
  sim_msg m = s->q[qi];
  s->q[qi] = s->q[--s->nq];
  const sim_link *l = &s->links[m.link];
  if (l->closed) { /* the socket is gone: what was in flight is lost */
    cdl_buf_free(&m.bytes);
    return;
  }
  size_t to = m.dir == 0 ? l->to : l->from;
  cdl_node_conn_id id = m.dir == 0 ? l->in_id : l->out_id;
  uint64_t head[3] = {m.at, m.link, (uint64_t)m.dir};
  cdl_blake2b_update(&s->digest, (const uint8_t *)head, sizeof head);
  cdl_blake2b_update(&s->digest, m.bytes.data, m.bytes.len);
  s->res->deliveries++;
  s->res->bytes += m.bytes.len;
  cdl_error err = {0};
  int rc = cdl_node_conn_recv(s->n[to].node, id, m.bytes.data, m.bytes.len, s->now, &err);
  if (rc != CDL_OK) conn_ended(s, to, id, rc, &err);
  cdl_buf_free(&m.bytes);
  drain(s, to);
}

static void submit_tx(sim *s) {
  sim_tx *t = &s->txs[s->next_tx++];
  cdl_rejection rej = {0};
  if (cdl_node_submit(s->n[t->node].node, t->gentx.data, t->gentx.len, &rej) != CDL_OK)
    fail_msg("tx %zu refused: %s", s->next_tx - 1, rej.rule ? rej.rule : "?");
  s->res->txs_submitted++;
  drain(s, t->node);
}

/* ---- A restart ---- */

/* Node |i|'s connections end: each peer sees its side closed in order
 * (its peer selection dials again after the backoff), and what was in
 * flight is lost with the sockets. */
static void end_links_of(sim *s, size_t i) {
  for (size_t k = 0; k < s->n_links; k++) {
    sim_link *l = &s->links[k];
    if (l->closed || (l->from != i && l->to != i)) continue;
    if (l->from == i) cdl_node_conn_close(s->n[l->to].node, l->in_id, CDL_PEER_END_CLEAN, s->now);
    if (l->to == i)
      cdl_node_conn_close(s->n[l->from].node, l->out_id, CDL_PEER_END_CLEAN, s->now);
    l->closed = true;
  }
}

static void restart(sim *s) {
  size_t i = s->cfg->restart_node;
  sim_node *n = &s->n[i];
  s->restart_at = UINT64_MAX;
  uint8_t key[28];
  cdl_key_hash(&n->forger.delegate, key);
  s->res->restarted = cdl_sign_record_last(n->forger.record, key, &s->res->restart_record_slot);
  end_links_of(s, i);
  cdl_node_del(n->node);
  cdl_sign_record_close(n->forger.record);
  db_close(n->db);
  remove_dir(n->dir);
  open_node(s, i); /* a new, empty ChainDB directory; the record read back from its file */
  for (size_t j = 0; j < all_nodes(s); j++) drain(s, j);
}

/* One event: the earliest delivery, deadline, submission or restart
 * before |end|; false when none is left before it. */
static bool step(sim *s, uint64_t end) {
  size_t qi = earliest_msg(s), node = SIZE_MAX;
  uint64_t at = qi == SIZE_MAX ? UINT64_MAX : s->q[qi].at;
  for (size_t i = 0; i < all_nodes(s); i++) {
    uint64_t d = cdl_node_deadline(s->n[i].node);
    if (d < at) at = d, node = i, qi = SIZE_MAX;
  }
  bool tx = s->txs[s->next_tx].at < at;
  if (tx) at = s->txs[s->next_tx].at;
  bool again = s->restart_at < at;
  if (again) at = s->restart_at, tx = false;
  if (at >= end) return false;
  if (at > s->now) s->now = at;
  if (again) {
    restart(s);
  } else if (tx) {
    submit_tx(s);
  } else if (qi != SIZE_MAX) {
    deliver(s, qi);
  } else {
    cdl_error err = {0};
    if (cdl_node_tick(s->n[node].node, s->now, &err) != CDL_OK)
      fail_msg("node %zu tick: %s", node, err.message);
    drain(s, node);
  }
  return true;
}

/* ---- Results ---- */

static void common_prefix(sim *s) {
  uint64_t low = UINT64_MAX;
  for (size_t i = 0; i < honest_nodes(s); i++)
    if (s->res->tip[i].block_no < low) low = s->res->tip[i].block_no;
  for (uint64_t b = low + 1; b-- > 0;) {
    bool same = true;
    cdl_block_info first, other;
    cdl_error err = {0};
    assert_int_equal(cdl_chaindb_find_block_no(s->n[0].db, b, &first, &err), CDL_OK);
    for (size_t i = 1; i < honest_nodes(s) && same; i++)
      same = cdl_chaindb_find_block_no(s->n[i].db, b, &other, &err) == CDL_OK &&
             memcmp(first.hash, other.hash, 32) == 0;
    if (same) {
      s->res->common_block_no = b;
      return;
    }
  }
}

static void collect(sim *s) {
  for (size_t i = 0; i < all_nodes(s); i++) {
    assert_true(cdl_chaindb_tip(s->n[i].db, &s->res->tip[i]));
    cdl_node_stats_get(s->n[i].node, &s->res->stats[i]);
    cdl_witness_cache_stats_get(cdl_chaindb_witness_cache(s->n[i].db), &s->res->witnesses[i]);
    const cdl_peers *ps = cdl_node_peers(s->n[i].node);
    assert_true(ps->n <= SIM_MAX_PEERS);
    s->res->n_peers[i] = ps->n;
    memcpy(s->res->peers[i], ps->peer, ps->n * sizeof *ps->peer);
  }
  cdl_ledger_totals t;
  cdl_ledger_get_totals(cdl_chaindb_ledger(s->n[0].db), &t);
  s->res->main_blocks = t.blocks - t.ebbs;
  s->res->links = s->n_links;
  common_prefix(s);
  for (size_t k = 0; k < s->cfg->txs; k++) {
    bool everywhere = true;
    uint64_t lovelace;
    for (size_t i = 0; i < honest_nodes(s); i++)
      everywhere &= cdl_ledger_utxo_get(cdl_chaindb_ledger(s->n[i].db), s->txs[k].id, 0, &lovelace);
    s->res->txs_included += everywhere;
  }
  cdl_blake2b_256_final(&s->digest, s->res->digest);
}

static void teardown(sim *s) {
  for (size_t i = 0; i < all_nodes(s); i++) {
    cdl_node_del(s->n[i].node);
    cdl_sign_record_close(s->n[i].forger.record);
    db_close(s->n[i].db);
    remove_dir(s->n[i].dir);
  }
  for (size_t i = 0; i < s->nq; i++) cdl_buf_free(&s->q[i].bytes);
  for (size_t i = 0; i < s->cfg->txs; i++) cdl_buf_free(&s->txs[i].gentx);
  free(s->q), free(s->links), free(s->txs);
  cdl_gen_dir_free(&s->gen);
  remove_dir(s->gen_dir);
}

void sim_run(const sim_config *cfg, sim_result *res) {
  assert_true(cfg->nodes >= 2 && cfg->nodes + 2 <= SIM_MAX_NODES);
  assert_true(!(cfg->relay_and_evil_peer && cfg->initiator_only_relay));
  assert_true(cfg->restart_slot == 0 || cfg->restart_node < cfg->nodes);
  static sim s;
  memset(&s, 0, sizeof s);
  memset(res, 0, sizeof *res);
  s.cfg = cfg;
  s.res = res;
  s.now = START_S * 1000000 - 1000000; /* a second before slot 0 */
  cdl_gen_rng_seed(&s.rng, cfg->seed);
  cdl_blake2b_256_init(&s.digest);
  make_genesis(&s);
  for (size_t i = 0; i < all_nodes(&s); i++) open_node(&s, i);
  schedule_txs(&s);
  s.restart_at = UINT64_MAX;
  if (cfg->restart_slot > 0)
    s.restart_at = START_S * 1000000 + cfg->restart_slot * SLOT_MS * 1000ull + SLOT_MS * 750ull;
  for (size_t i = 0; i < all_nodes(&s); i++) drain(&s, i);
  uint64_t end = START_S * 1000000 + cfg->slots * SLOT_MS * 1000ull;
  uint64_t events = 0;
  while (step(&s, end))
    if (++events > SIM_MAX_EVENTS) fail_msg("the simulation does not settle");
  collect(&s);
  teardown(&s);
}
