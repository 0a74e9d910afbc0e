/*
 * test_golden.c: the reference implementations' golden encodings of Byron
 * types (cardano-ledger eras/byron golden/, ouroboros-consensus golden/):
 * each decodes and re-encodes to the same bytes; hashes agree with the
 * golden hash files.
 */
#include <stdio.h>
#include <string.h>

#include "support.h"

#define LEDGER "golden/cardano-ledger-byron/ledger/impl/cbor/"

typedef int (*reader)(cdl_cbor_cursor *, test_ctx *, void *);
typedef void (*encoder)(cdl_buf *, const void *);

/* Decodes a golden with |read| into |obj|, checks no bytes remain and that
 * |enc| reproduces the golden byte for byte. */
static void round_trip(const cdl_buf *data, reader read, encoder enc, void *obj,
                       test_ctx *t, const char *name) {
  cdl_cbor_cursor cur;
  cdl_buf out;
  cdl_cbor_cursor_init(&cur, data->data, data->len, &t->err);
  if (read(&cur, t, obj) != CDL_OK) fail_msg("%s: %s", name, t->err.message);
  assert_int_equal(cdl_cbor_expect_end(&cur, name), CDL_OK);
  cdl_buf_init(&out, 0);
  enc(&out, obj);
  if (out.len != data->len || memcmp(out.data, data->data, out.len) != 0)
    fail_msg("%s does not re-encode byte for byte", name);
  cdl_buf_free(&out);
}

static int rd_header(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_header_read(c, &t->ctx, o); }
static void en_header(cdl_buf *b, const void *o) { cdl_byron_header_encode(b, o); }
static int rd_ebb_header(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_ebb_header_read(c, &t->ctx, o); }
static void en_ebb_header(cdl_buf *b, const void *o) { cdl_byron_ebb_header_encode(b, o); }
static int rd_body(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_body_read(c, &t->ctx, o); }
static void en_body(cdl_buf *b, const void *o) { cdl_byron_body_encode(b, o); }
static int rd_tx(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_tx_read(c, &t->ctx, o); }
static void en_tx(cdl_buf *b, const void *o) { cdl_byron_tx_encode(b, o); }
static int rd_cert(cdl_cbor_cursor *c, test_ctx *t, void *o) { (void)t; return cdl_byron_dlg_cert_read(c, o); }
static void en_cert(cdl_buf *b, const void *o) { cdl_byron_dlg_cert_encode(b, o); }
static int rd_proposal(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_proposal_read(c, &t->ctx, o); }
static void en_proposal(cdl_buf *b, const void *o) { cdl_byron_proposal_encode(b, o); }
static int rd_vote(cdl_cbor_cursor *c, test_ctx *t, void *o) { (void)t; return cdl_byron_vote_read(c, o); }
static void en_vote(cdl_buf *b, const void *o) { cdl_byron_vote_encode(b, o); }
static int rd_ssc(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_ssc_read(c, &t->ctx, o); }
static void en_ssc(cdl_buf *b, const void *o) { cdl_byron_ssc_encode(b, o); }
static int rd_address(cdl_cbor_cursor *c, test_ctx *t, void *o) { return cdl_byron_address_read(c, &t->ctx, o); }
static void en_address(cdl_buf *b, const void *o) { cdl_byron_address_encode(b, o); }

static void golden(const char *name, reader read, encoder enc, void *obj) {
  char rel[160];
  cdl_buf data;
  test_ctx t;
  snprintf(rel, sizeof rel, LEDGER "%s", name);
  vec_read_golden(rel, &data);
  test_ctx_init(&t, 0);
  round_trip(&data, read, enc, obj, &t, name);
  cdl_buf_free(&data), test_ctx_free(&t);
}

static void test_ledger_goldens(void **state) {
  (void)state;
  cdl_byron_header h;
  cdl_byron_ebb_header eh;
  cdl_byron_body body;
  cdl_byron_tx tx;
  cdl_byron_dlg_cert cert;
  cdl_byron_proposal p;
  cdl_byron_vote v;
  cdl_byron_ssc ssc;
  cdl_byron_address addr;
  golden("block/Header", rd_header, en_header, &h);
  golden("block/BoundaryBlockHeader", rd_ebb_header, en_ebb_header, &eh);
  golden("block/Body", rd_body, en_body, &body);
  golden("utxo/Tx", rd_tx, en_tx, &tx);
  golden("delegation/Certificate", rd_cert, en_cert, &cert);
  golden("update/Proposal", rd_proposal, en_proposal, &p);
  golden("update/Vote", rd_vote, en_vote, &v);
  golden("ssc/SscPayload_CommitmentsPayload", rd_ssc, en_ssc, &ssc);
  assert_int_equal(ssc.n_commitments, 1);
  golden("ssc/SscPayload_CertificatesPayload", rd_ssc, en_ssc, &ssc);
  assert_int_equal(ssc.n_certs, 4);
  golden("ssc/SscPayload_OpeningsPayload", rd_ssc, en_ssc, &ssc);
  golden("ssc/SscPayload_SharesPayload", rd_ssc, en_ssc, &ssc);
  golden("common/Address", rd_address, en_address, &addr);
}

/* ouroboros-consensus on-disk Byron blocks ([0|1, block]) and header hash. */
static void test_consensus_disk_goldens(void **state) {
  (void)state;
  static const char *dirs[] = {"golden/ouroboros-consensus/byron/disk/",
                               "golden/ouroboros-consensus/cardano/disk/"};
  static const char *ebb[] = {"Block_EBB", "Block_Byron_EBB"};
  static const char *reg[] = {"Block_regular", "Block_Byron_regular"};
  static const char *hh[] = {"HeaderHash", "HeaderHash_Byron"};
  for (int i = 0; i < 2; i++) {
    char rel[160];
    cdl_buf e, r, hash, enc;
    test_ctx t;
    cdl_byron_block be, br;
    snprintf(rel, sizeof rel, "%s%s", dirs[i], ebb[i]);
    vec_read(rel, &e);
    snprintf(rel, sizeof rel, "%s%s", dirs[i], reg[i]);
    vec_read(rel, &r);
    snprintf(rel, sizeof rel, "%s%s", dirs[i], hh[i]);
    vec_read(rel, &hash);
    test_ctx_init(&t, 0);
    assert_int_equal(cdl_byron_block_decode(e.data, e.len, &t.ctx, &be), CDL_OK);
    assert_int_equal(cdl_byron_block_decode(r.data, r.len, &t.ctx, &br), CDL_OK);
    assert_true(be.is_ebb && !br.is_ebb);
    assert_memory_equal(cdl_byron_block_prev_hash(&br), cdl_byron_block_hash(&be), 32);
    assert_memory_equal(cdl_byron_block_hash(&br), hash.data + 2, 32);
    assert_int_equal(br.body.n_txs, 1);
    assert_int_equal(cdl_byron_block_check_body_proof(&br, CDL_BYRON_PROOFS_LEDGER, &t.arena, &t.err), CDL_OK);
    cdl_buf_init(&enc, 0);
    cdl_byron_block_encode(&enc, &br, true);
    assert_int_equal(enc.len, r.len);
    assert_memory_equal(enc.data, r.data, r.len);
    cdl_buf_free(&enc), cdl_buf_free(&e), cdl_buf_free(&r), cdl_buf_free(&hash), test_ctx_free(&t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ledger_goldens),
      cmocka_unit_test(test_consensus_disk_goldens),
  };
  return cmocka_run_group_tests(tests, test_group_setup, NULL);
}
