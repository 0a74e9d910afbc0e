/*
 * fuzz_update_state.c: libFuzzer target for the decoder of the Byron
 * update-interface state (src/byron/update_state.c), what `cardinal-cli
 * query update-state` reads from a node: hostile bytes. Properties: no
 * crash; a state that decodes has counts within the decoder's bounds
 * (include/cardinal/byron.h "The update interface state").
 */
#include <stdlib.h>

#include "cardinal/byron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cdl_arena arena;
  cdl_error err = {0};
  cdl_byron_update_state st;
  cdl_arena_init(&arena, (size_t)16 << 20);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  if (cdl_byron_update_state_decode(data, size, &ctx, &st) == CDL_OK) {
    size_t counts[] = {st.n_candidates, st.n_apps,  st.n_protocol,     st.n_software,
                       st.n_confirmed,  st.n_votes, st.n_endorsements, st.n_registered};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
      if (counts[i] > CDL_BYRON_UPD_MAX_ITEMS) abort();
    for (size_t i = 0; i < st.n_apps; i++)
      if (st.apps[i].n_metadata > CDL_BYRON_UPD_MAX_METADATA) abort();
    for (size_t i = 0; i < st.n_software; i++)
      if (st.software[i].n_metadata > CDL_BYRON_UPD_MAX_METADATA) abort();
  }
  cdl_arena_free(&arena);
  return 0;
}
