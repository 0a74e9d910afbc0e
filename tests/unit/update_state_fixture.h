/*
 * update_state_fixture.h: an update interface state with every
 * collection filled, built exactly as cardano-ledger encodes it
 * (Cardano.Chain.Update.Validation.Interface State ToCBOR and its parts;
 * include/cardinal/byron.h "The update interface state"), and hostile
 * variants of it: what the decoder's tests and the CLI's query tests
 * (served by a fake node) read.
 *
 * The state: epoch 3; adopted 0.0.0 with UPD_FIXTURE_PP; a candidate
 * 1.0.0 (maxTxSize 16384) since slot 120; application cardano-sl 1 at
 * slot 50 with one installer hash; protocol proposal UPD_ID1 for 1.0.0,
 * software proposal UPD_ID2 (cardinal 2); UPD_ID1 confirmed at slot 77
 * with the votes of UPD_KH1..3; endorsements of 1.0.0 by UPD_KH1 and
 * UPD_KH2; registered at slots 60 (UPD_ID1) and 61 (UPD_ID2).
 */
#ifndef CARDINAL_TEST_UPDATE_STATE_FIXTURE_H
#define CARDINAL_TEST_UPDATE_STATE_FIXTURE_H

#include "cardinal/byron.h"

typedef enum {
  UPD_GOOD,
  UPD_TWELVE_FIELDS,  /* a 12th field */
  UPD_VOTES_UNTAGGED, /* a set without its tag 258 */
  UPD_SHORT_ID,       /* a proposal id of 31 bytes */
  UPD_FEE_KIND_1,     /* a fee policy of an unknown kind */
  UPD_HUGE_MAP,       /* a map claiming 2000 entries */
  UPD_TRAILING,       /* a byte after the state */
  UPD_LONG_NAME       /* an application name of 65 bytes */
} upd_mutation;

extern const cdl_byron_protocol_params UPD_FIXTURE_PP;
extern const uint8_t UPD_ID1[32], UPD_ID2[32], UPD_KH1[28], UPD_KH2[28], UPD_KH3[28],
    UPD_INSTALLER[32];

/* Appends the state (or its variant |m|) to |b|. */
void update_state_fixture(cdl_buf *b, upd_mutation m);

#endif
