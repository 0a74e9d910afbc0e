/*
 * test_node_kernel.c: the node kernel's own failures (include/cardinal/
 * node.h "State"; docs/node.md "Kernel"). A core node whose disk starts
 * failing while it stores the block it forged latches the failure: the
 * tick reports CDL_E_IO, cdl_node_failed says so from then on, nothing
 * more is forged, and the ChainDB reopened on a healthy disk still holds
 * every block forged before.
 * And the block-fetch decisions across upstream connections
 * (node_fetch.c, white box): one peer per block, only better chains,
 * the per-peer and total byte budgets, what frees a claim, and blocks
 * already on our chain skipped.
 */
#include <stdio.h>
#include <string.h>

#include "../../src/node/node_internal.h"
#include "../storage/storage_support.h"
#include "cardinal/node.h"
#include "node_metric.h"

#define START_US (1700000000ull * 1000000)
#define SLOT_US 1000000ull

/* A POSIX file system whose writes all fail once armed. */
static const cdl_fs_ops *posix_ops;
static cdl_fs_ops failing_ops;
static bool writes_fail;

static int failing_write_at(cdl_fs *fs, int handle, const void *buf, size_t len, uint64_t offset,
                            cdl_error *err) {
  if (writes_fail) return cdl_error_set(err, CDL_E_IO, 0, "injected write failure");
  return posix_ops->write_at(fs, handle, buf, len, offset, err);
}

static void failing_fs_init(cdl_fs *fs) {
  cdl_fs_posix_init(fs, 0);
  posix_ops = fs->ops;
  failing_ops = *posix_ops;
  failing_ops.write_at = failing_write_at;
  fs->ops = &failing_ops;
  writes_fail = false;
}

/* A signing record in |dir| (its own, outside any ChainDB's), on |fs|
 * (NULL: the real file system). */
static cdl_sign_record *open_record_on(cdl_fs *fs, const char *dir, const char *name) {
  static cdl_fs posix_fs; /* one for every record: it counts their handles */
  if (posix_fs.ops == NULL) cdl_fs_posix_init(&posix_fs, 0);
  if (fs == NULL) fs = &posix_fs;
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cdl_sign_record *r = NULL;
  cdl_error err = {0};
  if (cdl_sign_record_open(fs, path, &r, &err) != CDL_OK) fail_msg("%s", err.message);
  return r;
}

static cdl_sign_record *open_record(const char *dir, const char *name) {
  return open_record_on(NULL, dir, name);
}

/* A kernel on |db| forging with |f| (its record included), logging to |log|. */
static cdl_node *kernel(cdl_chaindb *db, const cdl_gen_dir *g, const cdl_node_forger *f,
                        const cdl_logger *log, uint64_t now_us) {
  cdl_node_config nc = {.db = db,
                        .genesis = &g->genesis,
                        .n2n = cdl_hs_node_to_node(42, false),
                        .n2c = cdl_hs_node_to_client(42),
                        .forger = f,
                        .log = log};
  cdl_node *n = NULL;
  cdl_error err = {0};
  if (cdl_node_new(&nc, now_us, &n, &err) != CDL_OK) fail_msg("node: %s", err.message);
  return n;
}

/* Core node 0 of |g| on |db|, signing with the record |f->record|. */
static cdl_node *core_node(cdl_chaindb *db, const cdl_gen_dir *g, cdl_node_forger *f) {
  f->delegate = g->secrets.delegates[0];
  f->cert = g->secrets.certs[0];
  return kernel(db, g, f, NULL, START_US);
}

/* A genesis of 7 keys (k = 5, 2 funded keys) in |gen_dir| and a ChainDB
 * config for it in |db_dir|, both made here. Genesis key 0's slots are
 * 0, 7, 14, ... */
static cdl_chaindb_config fresh_net(char gen_dir[64], char db_dir[64], cdl_gen_dir *g, cdl_fs *fs) {
  make_dir(gen_dir, 64, "kernel-gen");
  make_dir(db_dir, 64, "kernel-db");
  gen_genesis(gen_dir, 5, 2, 1, g);
  cdl_chaindb_config dc = chaindb_config(db_dir, &g->genesis, fs);
  dc.ledger.requires_magic = g->requires_magic;
  return dc;
}

static void test_storage_failure_is_fatal(void **state) {
  (void)state;
  char gen_dir[64], db_dir[64];
  cdl_gen_dir g;
  cdl_fs fs;
  failing_fs_init(&fs);
  cdl_chaindb_config dc = fresh_net(gen_dir, db_dir, &g, &fs);
  dc.ledger.pbft_threshold = 1.0; /* the one signer may sign every block */
  cdl_chaindb *db = db_open(&dc, NULL);
  cdl_node_forger f = {.record = open_record(gen_dir, "signed")};
  cdl_node *n = core_node(db, &g, &f);
  cdl_error err = {0};

  /* Slot 0 is genesis key 0's: the epoch boundary block, then block 0. */
  assert_int_equal(cdl_node_tick(n, START_US + SLOT_US / 2, &err), CDL_OK);
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, 1);
  assert_int_equal(st.ebbs_forged, 1);
  assert_false(cdl_node_failed(n, NULL));

  /* The disk now fails. Blocks are written through (docs/storage.md
   * "Durability"), so the failure shows with the very next block forged. */
  writes_fail = true;
  uint64_t slot = 0;
  int rc = CDL_OK;
  while (rc == CDL_OK && slot < 7 * 40) {
    slot += 7; /* genesis key 0's slots */
    rc = cdl_node_tick(n, START_US + slot * SLOT_US, &err);
  }
  assert_int_equal(rc, CDL_E_IO);
  assert_int_equal(slot, 7);
  cdl_error why = {0};
  assert_true(cdl_node_failed(n, &why));
  assert_int_equal(why.code, CDL_E_IO);
  assert_non_null(strstr(why.message, "injected write failure"));
  cdl_node_stats_get(n, &st);
  uint64_t forged = st.forged;
  printf("the failure showed in slot %llu, after %llu blocks forged\n", (unsigned long long)slot,
         (unsigned long long)forged);
  /* Latched: a later tick in key 0's slot reports it and forges nothing. */
  writes_fail = false;
  cdl_error again = {0};
  assert_int_equal(cdl_node_tick(n, START_US + (slot + 7) * SLOT_US, &again), CDL_E_IO);
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, forged);
  cdl_node_del(n);
  cdl_error close_err = {0};
  cdl_chaindb_close(db, &close_err); /* may report the failed write again */

  /* What was stored before the failure is there after a reopen. */
  cdl_chaindb_config healthy = chaindb_config(db_dir, &g.genesis, NULL);
  healthy.ledger.requires_magic = g.requires_magic;
  healthy.ledger.pbft_threshold = 1.0;
  db = db_open(&healthy, NULL);
  cdl_block_info tip;
  bool has_tip = cdl_chaindb_tip(db, &tip);
  printf("reopened: tip block %llu\n", has_tip ? (unsigned long long)tip.block_no : 0ull);
  /* Nothing forged before the failure is lost: the EBB is block 0, the
   * forged blocks 1..forged. */
  assert_true(has_tip);
  assert_true(tip.block_no >= forged);
  db_close(db);
  cdl_sign_record_close(f.record);
  cdl_gen_dir_free(&g);
  remove_dir(db_dir);
  remove_dir(gen_dir);
}

/* A block point whose hash is |tag| repeated. */
static cdl_point pt(uint8_t tag) {
  cdl_point p = {.slot = tag};
  memset(p.hash, tag, 32);
  return p;
}

static cdl_fetch_verdict ask(node_conn *c, uint8_t tag, uint32_t size, uint64_t peer_block_no) {
  cdl_point p = pt(tag);
  cdl_tip peer = {.point = pt(200), .block_no = peer_block_no};
  return node_fetch_ops.decide(c, &p, tag, size, &peer);
}

static void test_fetch_decisions(void **state) {
  (void)state;
  char gen_dir[64], db_dir[64];
  cdl_gen_dir g;
  cdl_chaindb_config dc = fresh_net(gen_dir, db_dir, &g, NULL);
  cdl_chaindb *db = db_open(&dc, NULL);
  cdl_node_forger f = {.record = open_record(gen_dir, "signed")};
  cdl_node *n = core_node(db, &g, &f);
  node_conn *c[6];
  cdl_error err = {0};
  for (size_t i = 0; i < 6; i++) {
    cdl_node_conn_id id;
    assert_int_equal(cdl_node_conn_open(n, CDL_NODE_OUTBOUND, START_US, &id, &err), CDL_OK);
    c[i] = node_conn_find(n, id);
  }
  const uint32_t MB = 1u << 20;
  /* One peer per block: the second asker waits. */
  assert_int_equal(ask(c[0], 1, MB, 9), CDL_FETCH_NOW);
  assert_int_equal(ask(c[1], 1, MB, 9), CDL_FETCH_LATER);
  /* A peer whose chain is not longer than ours (empty: no chain at all). */
  cdl_point p = pt(2);
  cdl_tip origin = {.point = {.origin = true}};
  assert_int_equal(node_fetch_ops.decide(c[1], &p, 2, MB, &origin), CDL_FETCH_LATER);
  /* Per peer: 4 MiB in flight, one block always allowed. */
  assert_int_equal(ask(c[0], 2, MB, 9), CDL_FETCH_NOW);
  assert_int_equal(ask(c[0], 3, MB, 9), CDL_FETCH_NOW);
  assert_int_equal(ask(c[0], 4, MB + MB / 2, 9), CDL_FETCH_LATER);
  assert_int_equal(ask(c[0], 4, MB, 9), CDL_FETCH_NOW);     /* exactly 4 MiB */
  assert_int_equal(ask(c[2], 5, 8 * MB, 9), CDL_FETCH_NOW); /* alone it may exceed */
  /* In all: 16 MiB. 4 + 8 in flight; 4 more fit, then nothing. */
  assert_int_equal(ask(c[3], 6, 4 * MB, 9), CDL_FETCH_NOW);
  assert_int_equal(ask(c[4], 7, 2048, 9), CDL_FETCH_LATER);
  assert_int_equal(n->fetch_bytes, 16ull * MB);
  /* The peer had no blocks after all: the claim ends, another may ask. */
  node_fetch_ops.dropped(c[3], pt(6).hash);
  assert_int_equal(ask(c[4], 6, 4 * MB, 9), CDL_FETCH_NOW);
  /* A connection gone takes its claims with it. */
  cdl_node_conn_close(n, c[0]->id, CDL_PEER_END_CLEAN, START_US);
  assert_int_equal(n->fetch_bytes, 12ull * MB);
  assert_int_equal(ask(c[1], 1, MB, 9), CDL_FETCH_NOW);
  cdl_node_conn_close(n, c[2]->id, CDL_PEER_END_CLEAN, START_US);
  assert_int_equal(n->fetch_bytes, 5ull * MB);
  /* A tiny size hint is counted as 2,048 bytes: 2,048 of them fill a
   * peer's 4 MiB. */
  size_t took = 0;
  for (unsigned t = 0; t < 3000; t++) {
    cdl_point q = {.slot = 1000 + t};
    memset(q.hash, 0xee, 32);
    memcpy(q.hash, &t, sizeof t);
    cdl_tip peer = {.point = pt(200), .block_no = 9};
    if (node_fetch_ops.decide(c[5], &q, 10, 0, &peer) == CDL_FETCH_NOW) took++;
  }
  assert_int_equal(took, 2048);
  /* Blocks on our chain are skipped: the EBB and block 1 forged here. */
  assert_int_equal(cdl_node_tick(n, START_US + SLOT_US / 2, &err), CDL_OK);
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  cdl_point ours = {.slot = tip.slot};
  memcpy(ours.hash, tip.hash, 32);
  cdl_tip peer = {.point = ours, .block_no = tip.block_no};
  assert_int_equal(node_fetch_ops.decide(c[1], &ours, tip.block_no, 700, &peer), CDL_FETCH_HAVE);
  cdl_node_del(n);
  db_close(db);
  cdl_sign_record_close(f.record);
  cdl_gen_dir_free(&g);
  remove_dir(db_dir);
  remove_dir(gen_dir);
}

/* ---- The signing record and the ticked ledger ---- */

/* A core node of its own network: threshold 1, so key 0 alone may sign. */
typedef struct solo {
  char gen_dir[64], db_dir[64];
  cdl_gen_dir g;
  cdl_chaindb *db;
  FILE *log_file;
  cdl_logger log;
} solo;

static void solo_open(solo *t) {
  cdl_chaindb_config dc = fresh_net(t->gen_dir, t->db_dir, &t->g, NULL);
  dc.ledger.pbft_threshold = 1.0;
  t->db = db_open(&dc, NULL);
  t->log_file = tmpfile();
  assert_non_null(t->log_file);
  t->log = (cdl_logger){.out = t->log_file, .min = CDL_LOG_INFO};
}

static void solo_close(solo *t) {
  fclose(t->log_file);
  db_close(t->db);
  cdl_gen_dir_free(&t->g);
  remove_dir(t->db_dir);
  remove_dir(t->gen_dir);
}

/* How many log lines so far have |needle|. */
static size_t log_count(solo *t, const char *needle) {
  fflush(t->log_file);
  rewind(t->log_file);
  char line[2048];
  size_t n = 0;
  while (fgets(line, sizeof line, t->log_file) != NULL) n += strstr(line, needle) != NULL;
  fseek(t->log_file, 0, SEEK_END);
  return n;
}

static void tick_slot(cdl_node *n, uint64_t slot) {
  cdl_error err = {0};
  if (cdl_node_tick(n, START_US + slot * SLOT_US + SLOT_US / 2, &err) != CDL_OK)
    fail_msg("tick %llu: %s", (unsigned long long)slot, err.message);
}

static uint64_t tip_slot(cdl_chaindb *db) {
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  return tip.slot;
}

/* The record says key 0 signed slot 7 (before a crash, say) while the
 * ChainDB is empty: slots 0 and 7 are refused, logged and counted, 14 is
 * forged and recorded. The EBB, unsigned, is forged regardless. */
static void test_record_refuses_signed_slots(void **state) {
  (void)state;
  solo t;
  solo_open(&t);
  cdl_node_forger f = {.record = open_record(t.gen_dir, "signed"),
                       .delegate = t.g.secrets.delegates[0],
                       .cert = t.g.secrets.certs[0]};
  uint8_t key[28];
  cdl_key_hash(&f.delegate, key);
  cdl_error err = {0};
  assert_int_equal(cdl_sign_record_advance(f.record, key, 7, &err), CDL_OK);
  cdl_node *n = kernel(t.db, &t.g, &f, &t.log, START_US);
  assert_int_equal(log_count(&t, "last signed slot 7"), 1); /* what it found, at the start */
  tick_slot(n, 0);
  tick_slot(n, 7);
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.double_sign_refused, 2);
  assert_int_equal(st.forged, 0);
  assert_int_equal(st.ebbs_forged, 1);
  assert_int_equal(log_count(&t, "\"event\":\"forge.already_signed\""), 2);
  assert_true(node_metric_is(n, "cardinal_forge_double_sign_refused_total", 2));
  tick_slot(n, 14);
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, 1);
  assert_int_equal(tip_slot(t.db), 14);
  uint64_t last = 0;
  assert_true(cdl_sign_record_last(f.record, key, &last) && last == 14);
  assert_true(node_metric_is(n, "cardinal_forge_last_signed_slot", 14));
  assert_int_equal(log_count(&t, "\"event\":\"forge.block\""), 1);
  assert_int_equal(log_count(&t, "slot 14 block 1 hash "), 1); /* the hash, to compare signers */
  cdl_node_del(n);
  cdl_sign_record_close(f.record);
  solo_close(&t);
}

/* A record that cannot be written costs the slot, not the node: nothing
 * is signed, the failure is logged and counted, and the next slot, the
 * disk healed, is forged. */
static void test_record_write_failure_skips_slot(void **state) {
  (void)state;
  solo t;
  solo_open(&t);
  cdl_fs record_fs;
  failing_fs_init(&record_fs);
  cdl_node_forger f = {.record = open_record_on(&record_fs, t.gen_dir, "signed"),
                       .delegate = t.g.secrets.delegates[0],
                       .cert = t.g.secrets.certs[0]};
  cdl_node *n = kernel(t.db, &t.g, &f, &t.log, START_US);
  writes_fail = true;
  tick_slot(n, 0);
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.record_failures, 1);
  assert_int_equal(st.forged, 0);
  assert_false(cdl_node_failed(n, NULL));
  assert_int_equal(log_count(&t, "\"event\":\"forge.record_failed\""), 1);
  assert_int_equal(tip_slot(t.db), 0); /* the EBB only */
  writes_fail = false;
  tick_slot(n, 7);
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, 1);
  assert_int_equal(tip_slot(t.db), 7);
  cdl_node_del(n);
  cdl_sign_record_close(f.record);
  solo_close(&t);
}

/* A re-delegation taking effect at a leader slot: genesis key 0 delegates
 * to a new key with a certificate forged into the block of slot 7, which
 * activates it at slot 17 (2k later). Key 0's next slot is 21, its tip
 * still at 14: judged on the tip ledger ticked to 21, the old delegate
 * does not sign (the ChainDB would refuse the block), and a node of the
 * new delegate signs slot 21 itself. */
static void test_redelegation_at_activation(void **state) {
  (void)state;
  solo t;
  solo_open(&t);
  cdl_node_forger old = {.record = open_record(t.gen_dir, "old.signed")};
  cdl_node *n = core_node(t.db, &t.g, &old);
  n->cfg.log = &t.log;
  tick_slot(n, 0);
  /* Epoch 0 has its delegation from the genesis: the certificate is for epoch 1. */
  const cdl_key *genesis_key = &t.g.secrets.genesis[0];
  uint8_t entropy[32] = {7};
  cdl_key fresh;
  cdl_key_derive(&fresh, entropy);
  cdl_buf gentx;
  cdl_buf_init(&gentx, 0);
  cdl_cbor_enc_array(&gentx, 2);
  cdl_cbor_enc_uint(&gentx, CDL_MP_DLG);
  cdl_payload_cert_make(genesis_key, fresh.xpub, 1, t.g.genesis.protocol_magic, &gentx);
  cdl_rejection rej = {0};
  if (cdl_node_submit(n, gentx.data, gentx.len, &rej) != CDL_OK) fail_msg("%s", rej.detail);
  cdl_buf_free(&gentx);
  tick_slot(n, 7); /* the certificate's block */
  tick_slot(n, 14);
  tick_slot(n, 21);
  cdl_node_stats st;
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, 3);
  assert_int_equal(st.forge_skipped, 1);
  assert_int_equal(st.own_refused, 0);
  assert_int_equal(log_count(&t, "\"event\":\"forge.refused\""), 0);
  assert_int_equal(log_count(&t, "\"event\":\"forge.not_delegate\""), 1);
  assert_int_equal(tip_slot(t.db), 14);
  cdl_node_del(n);
  /* The new delegate's node, started in slot 21. */
  cdl_node_forger next = {.delegate = fresh, .record = open_record(t.gen_dir, "new.signed")};
  cdl_payload_delegation_make(genesis_key, fresh.xpub, 1, t.g.genesis.protocol_magic, &next.cert);
  n = kernel(t.db, &t.g, &next, &t.log, START_US + 21 * SLOT_US + SLOT_US / 2);
  tick_slot(n, 21);
  cdl_node_stats_get(n, &st);
  assert_int_equal(st.forged, 1);
  assert_int_equal(tip_slot(t.db), 21);
  uint8_t delegate[28], want[28];
  cdl_key_hash(&fresh, want);
  assert_true(cdl_ledger_delegate_of(cdl_chaindb_ledger(t.db), t.g.genesis.boot_stakeholders[0],
                                     delegate));
  assert_memory_equal(delegate, want, 28);
  assert_int_equal(log_count(&t, "\"event\":\"forge.refused\""), 0);
  cdl_node_del(n);
  cdl_sign_record_close(old.record);
  cdl_sign_record_close(next.record);
  solo_close(&t);
}

/* The header of the tip block: its protocol and software versions. */
static void tip_versions(cdl_chaindb *db, cdl_byron_version *pv, char app[13], uint32_t *number) {
  cdl_block_info tip;
  assert_true(cdl_chaindb_tip(db, &tip));
  cdl_point p = {.slot = tip.slot};
  memcpy(p.hash, tip.hash, 32);
  cdl_buf bytes;
  cdl_buf_init(&bytes, 0);
  cdl_error err = {0};
  assert_int_equal(cdl_chaindb_read_block(db, &p, &bytes, NULL, &err), CDL_OK);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_block blk;
  assert_int_equal(cdl_byron_block_decode(bytes.data, bytes.len, &ctx, &blk), CDL_OK);
  assert_false(blk.is_ebb);
  *pv = blk.header.block_version;
  cdl_span name = blk.header.software_version.app_name;
  assert_true(name.len <= 12);
  memcpy(app, name.ptr, name.len);
  app[name.len] = '\0';
  *number = blk.header.software_version.number;
  cdl_arena_free(&arena);
  cdl_buf_free(&bytes);
}

static void submit(cdl_node *n, uint8_t kind, const cdl_buf *payload) {
  cdl_buf gentx;
  cdl_buf_init(&gentx, 0);
  cdl_cbor_enc_array(&gentx, 2);
  cdl_cbor_enc_uint(&gentx, kind);
  cdl_buf_append(&gentx, payload->data, payload->len);
  cdl_rejection rej = {0};
  if (cdl_node_submit(n, gentx.data, gentx.len, &rej) != CDL_OK)
    fail_msg("submit: %s %s", rej.rule, rej.detail);
  cdl_buf_free(&gentx);
}

/* A core node endorses the protocol version its configuration announces
 * (docs/node.md "Forging"): a proposal for 0.1.0 is confirmed by 4 of the
 * 7 genesis keys in slot 7 (k = 5: endorsable from slot 17). The node
 * forging with the adopted version (the default) endorses nothing, even
 * after slot 17; restarted with LastKnownBlockVersion 0.1.0, its next
 * block registers genesis key 0's endorsement. */
static void test_configured_version_endorses(void **state) {
  (void)state;
  solo t;
  solo_open(&t);
  const cdl_gen_secrets *sec = &t.g.secrets;
  uint32_t magic = t.g.genesis.protocol_magic;
  cdl_node_forger f = {.record = open_record(t.gen_dir, "signed")};
  cdl_node *n = core_node(t.db, &t.g, &f);
  n->cfg.log = &t.log;
  tick_slot(n, 0);
  const cdl_byron_version v010 = {0, 1, 0};
  cdl_buf payload;
  cdl_buf_init(&payload, 0);
  uint8_t id[32];
  cdl_payload_proposal_make(&sec->delegates[0], v010, 8192, "cardano-sl", 1, magic, &payload, id);
  submit(n, CDL_MP_PROPOSAL, &payload);
  for (size_t g = 0; g < 4; g++) {
    cdl_buf_reset(&payload);
    cdl_payload_vote_make(&sec->delegates[g], id, magic, &payload);
    submit(n, CDL_MP_VOTE, &payload);
  }
  cdl_buf_free(&payload);
  tick_slot(n, 7), tick_slot(n, 14), tick_slot(n, 21);
  cdl_ledger_update_view v;
  cdl_ledger_update_view_get(cdl_chaindb_ledger(t.db), &v);
  assert_int_equal(v.confirmed, 1);
  assert_int_equal(v.endorsements, 0);
  cdl_byron_version pv;
  char app[13];
  uint32_t number;
  tip_versions(t.db, &pv, app, &number);
  assert_true(pv.major == 0 && pv.minor == 0 && pv.alt == 0); /* the adopted version */
  assert_string_equal(app, CDL_FORGE_APP_NAME);
  assert_int_equal(number, CDL_FORGE_APP_VERSION);
  cdl_node_del(n);
  /* Restarted as operators do, with the proposal's version configured. */
  f.versions = (cdl_forge_versions){.has_block_version = true, .block_version = v010,
                                    .has_software_version = true, .app_name = "cardano-sl",
                                    .app_version = 1};
  n = kernel(t.db, &t.g, &f, &t.log, START_US + 28 * SLOT_US);
  assert_int_equal(log_count(&t, "forging with protocol version 0.1.0 and software version "
                                 "cardano-sl:1"),
                   1);
  tick_slot(n, 28);
  cdl_ledger_update_view_get(cdl_chaindb_ledger(t.db), &v);
  assert_int_equal(v.endorsements, 1);
  assert_int_equal(tip_slot(t.db), 28);
  tip_versions(t.db, &pv, app, &number);
  assert_true(pv.major == 0 && pv.minor == 1 && pv.alt == 0);
  assert_string_equal(app, "cardano-sl");
  assert_int_equal(number, 1);
  cdl_node_del(n);
  cdl_sign_record_close(f.record);
  solo_close(&t);
}

int main(void) {
  filter_tests_from_env();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_storage_failure_is_fatal),
                                     cmocka_unit_test(test_fetch_decisions),
                                     cmocka_unit_test(test_record_refuses_signed_slots),
                                     cmocka_unit_test(test_record_write_failure_skips_slot),
                                     cmocka_unit_test(test_redelegation_at_activation),
                                     cmocka_unit_test(test_configured_version_endorses)};
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
