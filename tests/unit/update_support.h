/*
 * update_support.h: signed update proposals and votes built from their
 * fields (docs/byron.md 1.10; signed messages 3.2) for the ledger tests
 * on mainnet's magic, the reforge fixture's network (chain_support.h).
 */
#ifndef CARDINAL_TEST_UPDATE_SUPPORT_H
#define CARDINAL_TEST_UPDATE_SUPPORT_H

#include "chain_support.h"

/* The reforge fixture (chain_support.h) of the update tests: built by the
 * group setup, freed by the teardown. */
extern reforge rf;
int rf_group_setup(void **state);
int rf_group_teardown(void **state);

/* One metadata entry: a system tag and its installer hash (the proposal
 * carries three more hashes, which the ledger drops: empty here). */
typedef struct metadata_spec {
  const char *tag;
  const uint8_t *installer; /* 32 bytes */
} metadata_spec;

typedef struct proposal_spec {
  cdl_byron_version pv;
  int param; /* CDL_BYRON_PP_* to change, or -1 */
  uint64_t value;
  const char *app;
  uint32_t app_version;
  size_t metadata_bytes; /* a "linux" entry with a first hash this long, to test limits */
  const test_key *issuer;
  /* More metadata, tags in ascending order (after "linux", if any). */
  const metadata_spec *metadata;
  size_t n_metadata;
  /* A fee policy [summand, multiplier], both in nano-lovelace, when set. */
  bool fee_policy;
  uint64_t fee_summand_nano, fee_multiplier_nano;
} proposal_spec;

/* Builds, signs and decodes a proposal; |bytes| keeps it alive. */
void make_proposal(const proposal_spec *s, cdl_buf *bytes, test_ctx *t, cdl_byron_proposal *p);

typedef struct owned_vote {
  uint8_t id[32], id_raw[34], sig[64];
  cdl_byron_vote v;
} owned_vote;

/* A "yes" vote by |voter| for proposal |id|. */
void make_vote(owned_vote *o, const test_key *voter, const uint8_t id[32]);

#endif /* CARDINAL_TEST_UPDATE_SUPPORT_H */
