/*
 * test_ledger_update_state.c: the update interface state as the Byron local
 * state query answers it (src/ledger/query.c; docs/network.md "Local
 * state query"; cardano-ledger Update.Validation.Interface.State ToCBOR),
 * and its place in snapshots (src/ledger/snapshot.c, format version 3).
 *
 * A ledger over the reforge fixture's genesis (mainnet's with seven test
 * genesis keys; k = 2160, so votes confirm with 4 of 7, endorsements
 * count from 2k slots after the confirmation, adoption needs a candidate
 * stable for 4k slots, and unconfirmed proposals live 10,000 slots) goes
 * through proposals with protocol and software parts and metadata, votes,
 * confirmations, endorsements, two candidates, an expiry and an adoption.
 * At each step the encoded state must equal the bytes this test builds
 * from its own account of what the state holds (ids, slots, keys: the
 * test's, never the ledger's), the CLI's decoder must read it, and a
 * snapshot must give back the same state and the same image. The metadata's wire form is checked against
 * cardano-ledger's InstallerHash golden.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "update_support.h"

static const cdl_byron_version V000 = {0, 0, 0}, V010 = {0, 1, 0}, V100 = {1, 0, 0};
/* The installer hash of cardano-ledger's golden update/InstallerHash. */
#define GOLDEN_INSTALLER "cec02b41a5c236069cb3fd3fa658a013e230873c2013f783c0504037dc859587"
/* Blake2b-256 of the byte 00: the reference's other three hashes. */
#define EMPTY_HASH "03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314"

/* ---- What the test expects the state to hold ---- */

typedef struct want_prop {
  const uint8_t *id;
  const cdl_byron_version *pv; /* NULL: no protocol part */
  const cdl_byron_protocol_params *pp;
  const char *app; /* NULL: no software part */
  uint32_t app_version;
  const metadata_spec *meta;
  size_t n_meta;
  bool confirmed;
  uint64_t confirm_slot;
  unsigned voters; /* a bit per genesis key (rf.gen) */
  uint64_t reg_slot;
} want_prop;

typedef struct want_app {
  const char *name;
  uint32_t version;
  uint64_t slot;
  const metadata_spec *meta;
  size_t n_meta;
} want_app;

typedef struct want_cand {
  uint64_t slot;
  cdl_byron_version pv;
} want_cand;

typedef struct want_end {
  cdl_byron_version pv;
  int g;
} want_end;

typedef struct want_state {
  uint64_t epoch;
  cdl_byron_version pv;
  const cdl_byron_protocol_params *pp, *cand_pp; /* the candidates' parameters */
  const want_cand *cands;                        /* newest first, as the reference lists them */
  size_t n_cands;
  const want_app *apps; /* in name order */
  size_t n_apps;
  const want_prop *props; /* any order: sorted by id here */
  size_t n_props;
  const want_end *ends; /* any order: sorted here */
  size_t n_ends;
} want_state;

/* ---- The expected bytes, built from the above ---- */

static void put_version(cdl_buf *b, cdl_byron_version v) {
  cdl_cbor_enc_array(b, 3);
  cdl_cbor_enc_uint(b, v.major), cdl_cbor_enc_uint(b, v.minor), cdl_cbor_enc_uint(b, v.alt);
}

static void put_text(cdl_buf *b, const char *s) {
  cdl_cbor_enc_text(b, (const uint8_t *)s, strlen(s));
}

static void put_metadata(cdl_buf *b, const metadata_spec *m, size_t n) {
  uint8_t empty[32];
  hex_to_bytes(EMPTY_HASH, empty, 32);
  cdl_cbor_enc_map(b, n);
  for (size_t i = 0; i < n; i++) {
    put_text(b, m[i].tag);
    cdl_cbor_enc_array(b, 4);
    cdl_cbor_enc_bytes(b, empty, 32), cdl_cbor_enc_bytes(b, m[i].installer, 32);
    cdl_cbor_enc_bytes(b, empty, 32), cdl_cbor_enc_bytes(b, empty, 32);
  }
}

static void key_hash(int g, uint8_t out[28]) { cdl_byron_key_hash(rf.gen[g].xpub, out); }

/* The genesis keys of |mask| as a set of key hashes (tag 258, ascending). */
static void put_key_set(cdl_buf *b, unsigned mask) {
  uint8_t keys[7][28];
  size_t n = 0;
  for (int g = 0; g < 7; g++)
    if (mask & (1u << g))
      key_hash(g, keys[n++]);
  for (size_t i = 1; i < n; i++) /* insertion sort: a handful */
    for (size_t j = i; j > 0 && memcmp(keys[j - 1], keys[j], 28) > 0; j--) {
      uint8_t t[28];
      memcpy(t, keys[j], 28), memcpy(keys[j], keys[j - 1], 28), memcpy(keys[j - 1], t, 28);
    }
  cdl_cbor_enc_tag(b, 258);
  cdl_cbor_enc_array(b, n);
  for (size_t i = 0; i < n; i++)
    cdl_cbor_enc_bytes(b, keys[i], 28);
}

static int cmp_end(const want_end *a, const want_end *b) {
  if (a->pv.major != b->pv.major)
    return a->pv.major < b->pv.major ? -1 : 1;
  if (a->pv.minor != b->pv.minor)
    return a->pv.minor < b->pv.minor ? -1 : 1;
  if (a->pv.alt != b->pv.alt)
    return a->pv.alt < b->pv.alt ? -1 : 1;
  uint8_t x[28], y[28];
  key_hash(a->g, x), key_hash(b->g, y);
  return memcmp(x, y, 28);
}

static void put_endorsements(cdl_buf *b, const want_state *w) {
  want_end e[16];
  assert_true(w->n_ends <= 16);
  if (w->n_ends > 0) memcpy(e, w->ends, w->n_ends * sizeof *e);
  for (size_t i = 1; i < w->n_ends; i++)
    for (size_t j = i; j > 0 && cmp_end(&e[j - 1], &e[j]) > 0; j--) {
      want_end t = e[j];
      e[j] = e[j - 1], e[j - 1] = t;
    }
  cdl_cbor_enc_tag(b, 258);
  cdl_cbor_enc_array(b, w->n_ends);
  for (size_t i = 0; i < w->n_ends; i++) {
    uint8_t k[28];
    key_hash(e[i].g, k);
    cdl_cbor_enc_array(b, 2);
    put_version(b, e[i].pv);
    cdl_cbor_enc_bytes(b, k, 28);
  }
}

/* The proposals in id order. */
static void sort_props(const want_state *w, const want_prop **p) {
  for (size_t i = 0; i < w->n_props; i++)
    p[i] = &w->props[i];
  for (size_t i = 1; i < w->n_props; i++)
    for (size_t j = i; j > 0 && memcmp(p[j - 1]->id, p[j]->id, 32) > 0; j--) {
      const want_prop *t = p[j];
      p[j] = p[j - 1], p[j - 1] = t;
    }
}

/* Which of the five proposal maps: protocol parts, software parts,
 * confirmations, votes, registration slots. */
enum { MAP_PROTOCOL, MAP_SOFTWARE, MAP_CONFIRMED, MAP_VOTES, MAP_REGISTERED };

static bool in_map(const want_prop *p, int map) {
  switch (map) {
  case MAP_PROTOCOL:
    return p->pv != NULL;
  case MAP_SOFTWARE:
    return p->app != NULL;
  case MAP_CONFIRMED:
    return p->confirmed;
  case MAP_VOTES:
    return p->voters != 0;
  default:
    return true;
  }
}

static void put_value(cdl_buf *b, const want_prop *p, int map) {
  switch (map) {
  case MAP_PROTOCOL:
    cdl_cbor_enc_array(b, 2);
    put_version(b, *p->pv);
    cdl_byron_params_encode(b, p->pp);
    break;
  case MAP_SOFTWARE:
    cdl_cbor_enc_array(b, 2);
    cdl_cbor_enc_array(b, 2);
    put_text(b, p->app);
    cdl_cbor_enc_uint(b, p->app_version);
    put_metadata(b, p->meta, p->n_meta);
    break;
  case MAP_CONFIRMED:
    cdl_cbor_enc_uint(b, p->confirm_slot);
    break;
  case MAP_VOTES:
    put_key_set(b, p->voters);
    break;
  default:
    cdl_cbor_enc_uint(b, p->reg_slot);
  }
}

static void put_proposal_map(cdl_buf *b, const want_prop *const *p, size_t n, int map) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += in_map(p[i], map);
  cdl_cbor_enc_map(b, count);
  for (size_t i = 0; i < n; i++) {
    if (!in_map(p[i], map))
      continue;
    cdl_cbor_enc_bytes(b, p[i]->id, 32);
    put_value(b, p[i], map);
  }
}

static void expected_state(const want_state *w, cdl_buf *b) {
  cdl_cbor_enc_array(b, 11);
  cdl_cbor_enc_uint(b, w->epoch);
  put_version(b, w->pv);
  cdl_byron_params_encode(b, w->pp);
  cdl_cbor_enc_indef_array(b);
  for (size_t i = 0; i < w->n_cands; i++) {
    cdl_cbor_enc_array(b, 3);
    cdl_cbor_enc_uint(b, w->cands[i].slot);
    put_version(b, w->cands[i].pv);
    cdl_byron_params_encode(b, w->cand_pp);
  }
  cdl_cbor_enc_break(b);
  cdl_cbor_enc_map(b, w->n_apps);
  for (size_t i = 0; i < w->n_apps; i++) {
    put_text(b, w->apps[i].name);
    cdl_cbor_enc_array(b, 3);
    cdl_cbor_enc_uint(b, w->apps[i].version), cdl_cbor_enc_uint(b, w->apps[i].slot);
    put_metadata(b, w->apps[i].meta, w->apps[i].n_meta);
  }
  const want_prop *sorted[8];
  assert_true(w->n_props <= 8);
  sort_props(w, sorted);
  for (int map = MAP_PROTOCOL; map <= MAP_VOTES; map++)
    put_proposal_map(b, sorted, w->n_props, map);
  put_endorsements(b, w);
  put_proposal_map(b, sorted, w->n_props, MAP_REGISTERED);
  assert_int_equal(cdl_cbor_enc_status(b), CDL_OK);
}

/* ---- Checks ---- */

static void encode_state(const cdl_ledger *l, cdl_buf *out) {
  cdl_error err = {0};
  cdl_buf_init(out, 0);
  if (cdl_ledger_encode_update_state(l, out, &err) != CDL_OK)
    fail_msg("encode: %s", err.message);
}

static cdl_ledger *reload(const cdl_buf *image) {
  const cdl_byron_genesis *g = &rf.fix.g;
  cdl_ledger_config cfg = {g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic), g->k, 0,
                           0, NULL};
  cdl_ledger *r = NULL;
  cdl_error err = {0};
  if (cdl_ledger_snapshot_read(image->data, image->len, &cfg, g->hash, &r, &err) != CDL_OK)
    fail_msg("snapshot read: %s", err.message);
  return r;
}

/* The CLI's decoder (src/byron/update_state.c) reads the encoding back:
 * the collections |w| names, each as large. */
static void expect_decoded(const cdl_buf *enc, const want_state *w) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_byron_update_state st;
  if (cdl_byron_update_state_decode(enc->data, enc->len, &t.ctx, &st) != CDL_OK)
    fail_msg("decode: %s", t.err.message);
  size_t in[5] = {0};
  for (size_t i = 0; i < w->n_props; i++)
    for (int map = MAP_PROTOCOL; map <= MAP_REGISTERED; map++) in[map] += in_map(&w->props[i], map);
  assert_int_equal(st.epoch, w->epoch);
  assert_int_equal(st.n_candidates, w->n_cands);
  assert_int_equal(st.n_apps, w->n_apps);
  assert_int_equal(st.n_protocol, in[MAP_PROTOCOL]);
  assert_int_equal(st.n_software, in[MAP_SOFTWARE]);
  assert_int_equal(st.n_confirmed, in[MAP_CONFIRMED]);
  assert_int_equal(st.n_votes, in[MAP_VOTES]);
  assert_int_equal(st.n_endorsements, w->n_ends);
  assert_int_equal(st.n_registered, in[MAP_REGISTERED]);
  test_ctx_free(&t);
}

/* The state encodes as |w| says (and decodes), and so does the ledger
 * read back from its snapshot, whose own image is the same bytes. |image|
 * (may be NULL) gets the snapshot. */
static void expect_state(const cdl_ledger *l, const want_state *w, cdl_buf *image) {
  cdl_buf want, got, snap, again, reread;
  cdl_buf_init(&want, 0);
  expected_state(w, &want);
  encode_state(l, &got);
  assert_int_equal(got.len, want.len);
  assert_memory_equal(got.data, want.data, want.len);
  expect_decoded(&got, w);
  cdl_buf_init(&snap, 0), cdl_buf_init(&again, 0);
  assert_int_equal(cdl_ledger_snapshot_write(l, &snap), CDL_OK);
  cdl_ledger *r = reload(&snap);
  encode_state(r, &reread);
  assert_int_equal(reread.len, want.len);
  assert_memory_equal(reread.data, want.data, want.len);
  assert_int_equal(cdl_ledger_snapshot_write(r, &again), CDL_OK);
  assert_int_equal(again.len, snap.len);
  assert_memory_equal(again.data, snap.data, snap.len);
  cdl_ledger_del(r);
  if (image != NULL)
    *image = snap;
  else
    cdl_buf_free(&snap);
  cdl_buf_free(&want), cdl_buf_free(&got), cdl_buf_free(&again), cdl_buf_free(&reread);
}

/* ---- Driving the ledger ---- */

static void propose(cdl_ledger *l, const proposal_spec *s, uint64_t slot, uint8_t id[32]) {
  test_ctx t;
  test_ctx_init(&t, 0);
  cdl_buf bytes;
  cdl_byron_proposal p;
  make_proposal(s, &bytes, &t, &p);
  memcpy(id, p.id, 32);
  cdl_rejection rej;
  if (cdl_ledger_apply_update(l, &p, NULL, 0, V000, rf.del[0].xpub, slot, &rej) != CDL_OK)
    fail_msg("proposal at slot %llu: %s: %s", (unsigned long long)slot, rej.rule, rej.detail);
  cdl_buf_free(&bytes);
  test_ctx_free(&t);
}

/* One block's votes for |id|, by the delegates of the genesis keys in |mask|. */
static void vote(cdl_ledger *l, const uint8_t id[32], unsigned mask, uint64_t slot) {
  owned_vote *v = calloc(7, sizeof *v);
  cdl_byron_vote votes[7];
  size_t n = 0;
  for (int g = 0; g < 7; g++) {
    if (!(mask & (1u << g)))
      continue;
    make_vote(&v[n], &rf.del[g], id);
    votes[n] = v[n].v;
    n++;
  }
  cdl_rejection rej;
  if (cdl_ledger_apply_update(l, NULL, votes, n, V000, rf.del[0].xpub, slot, &rej) != CDL_OK)
    fail_msg("votes at slot %llu: %s: %s", (unsigned long long)slot, rej.rule, rej.detail);
  free(v);
}

/* Blocks of version |pv| signed by genesis keys |first|..|last|, one a slot. */
static void endorse(cdl_ledger *l, cdl_byron_version pv, int first, int last, uint64_t slot) {
  for (int g = first; g <= last; g++) {
    cdl_rejection rej;
    int rc = cdl_ledger_apply_update(l, NULL, NULL, 0, pv, rf.del[g].xpub, slot++, &rej);
    if (rc != CDL_OK)
      fail_msg("endorsement by %d: %s: %s", g, rej.rule, rej.detail);
  }
}

/* Where |needle| sits in |hay| (it must, once). */
static size_t find(const cdl_buf *hay, const uint8_t *needle, size_t n) {
  const uint8_t *at = memmem(hay->data, hay->len, needle, n);
  assert_non_null(at);
  assert_null(memmem(at + 1, hay->len - (size_t)(at + 1 - hay->data), needle, n));
  return (size_t)(at - hay->data);
}

/* A copy of |image| with |n| bytes at |off| set to |v| (little-endian),
 * or to the |n| bytes at |src| when src is not NULL, its CRC made right
 * again: the reader must refuse it as out of range. */
static void expect_refused(const cdl_buf *image, size_t off, uint64_t v, const uint8_t *src,
                           size_t n, const char *what) {
  cdl_buf copy;
  cdl_buf_init(&copy, 0);
  assert_int_equal(cdl_buf_append(&copy, image->data, image->len), CDL_OK);
  for (size_t i = 0; i < n; i++)
    copy.data[off + i] = src ? src[i] : (uint8_t)(v >> (8 * i));
  uint32_t crc = cdl_crc32(copy.data, copy.len - 4);
  for (size_t i = 0; i < 4; i++)
    copy.data[copy.len - 4 + i] = (uint8_t)(crc >> (8 * i));
  const cdl_byron_genesis *g = &rf.fix.g;
  cdl_ledger_config cfg = {g->protocol_magic, cdl_byron_requires_magic(g->protocol_magic), g->k, 0,
                           0, NULL};
  cdl_ledger *r = NULL;
  cdl_error err = {0};
  int rc = cdl_ledger_snapshot_read(copy.data, copy.len, &cfg, g->hash, &r, &err);
  if (rc != CDL_E_RANGE)
    fail_msg("%s: rc %d (%s), not CDL_E_RANGE", what, rc, err.message);
  assert_null(r);
  cdl_buf_free(&copy);
}

/* In a snapshot: a proposal's record starts with its id; its name (length
 * and 12 bytes) is at +168, its metadata count at +233. An application's
 * record starts with its name; its metadata count is at +25 and its
 * entries (tag length, tag [10], hash [32]) follow at +29. */
static void hostile_images(const cdl_buf *image, const uint8_t p2_id[32], const uint8_t p4_id[32]) {
  size_t p4 = find(image, p4_id, 32);
  expect_refused(image, p4 + 168, 13, NULL, 1, "a 13-byte application name");
  expect_refused(image, p4 + 168 + 1 + 11, 'x', NULL, 1, "a name with bytes past its length");
  expect_refused(image, p4 + 169, 0x80, NULL, 1, "a name that is not ASCII");
  expect_refused(image, p4 + 233, UINT32_MAX, NULL, 4, "metadata of 2^32-1 entries");
  expect_refused(image, p4, 0, find(image, p2_id, 32) + image->data, 32, "two proposals, one id");
  /* cardano-sl, version 1 since slot 30 (P1's record names it too, with
   * its registration slot, 10). */
  static const uint8_t APP[25] = {10, 'c', 'a', 'r', 'd', 'a', 'n', 'o', '-', 's', 'l', 0, 0,
                                  1,  0,   0,   0,   30,  0,   0,   0,   0,   0,   0,   0};
  size_t app = find(image, APP, sizeof APP);
  assert_int_equal(image->data[app + 25], 2); /* linux, macos64 */
  expect_refused(image, app + 29, 11, NULL, 1, "an 11-byte system tag");
  expect_refused(image, app + 29 + 43, 0, image->data + app + 29, 11, "a repeated tag");
  expect_refused(image, app + 30, 'z', NULL, 1, "tags out of order"); /* zinux, macos64 */
  expect_refused(image, app + 1, 'z', NULL, 1, "applications out of name order");
}

/* P1: 0.1.0 with maxTxSize 8192 and a fee policy whose summand, 1.6
 * lovelace, a proposal rounds to 2; software cardano-sl 1 with two
 * installers. P2: software only, daedalus 1. P4: software only, zz-tool 0,
 * voted by one key: it expires. P3: 1.0.0 with P1's parameters. */
static void test_update_state_life(void **state) {
  (void)state;
  cdl_ledger *l = ledger_for(&rf.fix.g, 0, 0);
  const cdl_byron_protocol_params *genesis_pp = &rf.fix.g.params;
  cdl_byron_protocol_params pp1 = *genesis_pp;
  pp1.max_tx_size = 8192;
  pp1.fee_summand_nano = 2000000000;
  pp1.fee_multiplier_nano = 43946000000;
  uint8_t golden_installer[32], h2[32], h3[32];
  hex_to_bytes(GOLDEN_INSTALLER, golden_installer, 32);
  memset(h2, 0x22, 32), memset(h3, 0x33, 32);
  const metadata_spec meta1[] = {{"linux", golden_installer}, {"macos64", h2}};
  const metadata_spec meta2[] = {{"win64", h3}};
  proposal_spec s1 = {.pv = V010,
                      .param = CDL_BYRON_PP_MAX_TX_SIZE,
                      .value = 8192,
                      .app = "cardano-sl",
                      .app_version = 1,
                      .issuer = &rf.del[0],
                      .metadata = meta1,
                      .n_metadata = 2,
                      .fee_policy = true,
                      .fee_summand_nano = 1600000000,
                      .fee_multiplier_nano = 43946000000};
  proposal_spec s2 = {.pv = V000,
                      .param = -1,
                      .app = "daedalus",
                      .app_version = 1,
                      .issuer = &rf.del[1],
                      .metadata = meta2,
                      .n_metadata = 1};
  proposal_spec s4 = {.pv = V000, .param = -1, .app = "zz-tool", .issuer = &rf.del[3]};
  proposal_spec s3 = s1;
  s3.pv = V100, s3.metadata = NULL, s3.n_metadata = 0, s3.issuer = &rf.del[2];
  uint8_t p1[32], p2[32], p3[32], p4[32];

  want_state w = {.pv = V000, .pp = genesis_pp, .cand_pp = &pp1};
  expect_state(l, &w, NULL); /* genesis: every collection empty */

  propose(l, &s1, 10, p1), propose(l, &s2, 12, p2), propose(l, &s4, 14, p4);
  want_prop a[] = {
      {.id = p1,
       .pv = &V010,
       .pp = &pp1,
       .app = "cardano-sl",
       .app_version = 1,
       .meta = meta1,
       .n_meta = 2,
       .reg_slot = 10},
      {.id = p2, .app = "daedalus", .app_version = 1, .meta = meta2, .n_meta = 1, .reg_slot = 12},
      {.id = p4, .app = "zz-tool", .reg_slot = 14}};
  w.props = a, w.n_props = 3;
  cdl_buf got, golden;
  expect_state(l, &w, NULL);
  encode_state(l, &got);
  vec_read_golden("golden/cardano-ledger-byron/ledger/impl/cbor/update/InstallerHash", &golden);
  find(&got, golden.data, golden.len); /* P1's linux installer, as the reference writes it */
  cdl_buf_free(&got), cdl_buf_free(&golden);

  /* Four votes confirm: the software parts become applications' versions. */
  vote(l, p1, 0x0f, 30), vote(l, p2, 0x0f, 31), vote(l, p4, 0x10, 32);
  propose(l, &s3, 40, p3), vote(l, p3, 0x0f, 50);
  want_app apps[] = {{"cardano-sl", 1, 30, meta1, 2}, {"daedalus", 1, 31, meta2, 1}};
  want_prop b[] = {
      {.id = p1,
       .pv = &V010,
       .pp = &pp1,
       .confirmed = true,
       .confirm_slot = 30,
       .voters = 0x0f,
       .reg_slot = 10},
      {.id = p2, .confirmed = true, .confirm_slot = 31, .voters = 0x0f, .reg_slot = 12},
      {.id = p4, .app = "zz-tool", .voters = 0x10, .reg_slot = 14},
      {.id = p3,
       .pv = &V100,
       .pp = &pp1,
       .confirmed = true,
       .confirm_slot = 50,
       .voters = 0x0f,
       .reg_slot = 40}};
  w.apps = apps, w.n_apps = 2, w.props = b, w.n_props = 4;
  cdl_buf image;
  expect_state(l, &w, &image);
  hostile_images(&image, p2, p4);
  cdl_buf_free(&image);

  /* Endorsements from 2k slots after the confirmations: two candidates. */
  endorse(l, V010, 0, 3, 4400), endorse(l, V100, 0, 3, 4410);
  want_cand c[] = {{4413, V100}, {4403, V010}};
  want_end e[9];
  for (int g = 0; g < 4; g++)
    e[g] = (want_end){V010, g}, e[4 + g] = (want_end){V100, g};
  w.cands = c, w.n_cands = 2, w.ends = e, w.n_ends = 8;
  expect_state(l, &w, NULL);

  /* P4, unconfirmed, is gone 10,000 slots after its registration. */
  e[8] = (want_end){V010, 4};
  endorse(l, V010, 4, 4, 10015);
  want_prop d[] = {b[0], b[1], b[3]};
  w.props = d, w.n_props = 3, w.n_ends = 9;
  expect_state(l, &w, NULL);

  /* The next epoch adopts the newest stable candidate and clears the rest. */
  assert_int_equal(cdl_ledger_tick(l, 21600), CDL_OK);
  want_state adopted = {.epoch = 1, .pv = V100, .pp = &pp1, .apps = apps, .n_apps = 2};
  expect_state(l, &adopted, NULL);
  /* 2 lovelace (1.6 rounded) + ceil(43.946 * 100) */
  assert_int_equal(cdl_ledger_min_fee(cdl_ledger_params(l), 100), 2 + 4395);
  cdl_ledger_del(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_update_state_life),
  };
  return cmocka_run_group_tests(tests, rf_group_setup, rf_group_teardown);
}
