/*
 * payment.c: a payment spending a poor genesis address's whole genesis
 * output (docs/byron.md 4.2 "genesis UTxO": a non-AVVM output's id is the
 * Blake2b-256 of its address, its index 0), for the simulator's wallets
 * and the tests: |lovelace| to another poor address, the rest less a fee
 * of 1 ada back to the owner.
 */
#include <string.h>

#include "gen_internal.h"

void cdl_gen_genesis_payment(const cdl_gen_dir *g, size_t from, size_t to, uint64_t lovelace,
                             cdl_buf *out, uint8_t id[32]) {
  const cdl_key *owner = &g->secrets.poor[from];
  uint32_t magic = g->genesis.protocol_magic;
  uint64_t balance = 0;
  cdl_buf a_from, a_to;
  cdl_buf_init(&a_from, 0);
  cdl_buf_init(&a_to, 0);
  cdl_key_address(owner, g->requires_magic, magic, &a_from);
  cdl_key_address(&g->secrets.poor[to], g->requires_magic, magic, &a_to);
  for (size_t i = 0; i < g->genesis.n_balances; i++)
    if (g->genesis.balances[i].address.len == a_from.len &&
        memcmp(g->genesis.balances[i].address.ptr, a_from.data, a_from.len) == 0)
      balance = g->genesis.balances[i].lovelace;
  cdl_payload_tx_input in = {.index = 0, .owner = owner};
  cdl_blake2b_256(in.tx_id, a_from.data, a_from.len);
  uint64_t change = balance > lovelace + 1000000 ? balance - lovelace - 1000000 : 0;
  cdl_payload_tx_output outs[2] = {{cdl_span_of(a_to.data, a_to.len), lovelace},
                                   {cdl_span_of(a_from.data, a_from.len), change}};
  cdl_buf_init(out, 0);
  cdl_cbor_enc_array(out, 2);
  cdl_cbor_enc_uint(out, 0);
  cdl_payload_tx_make(&in, 1, outs, 2 - (change == 0), magic, out, id);
  cdl_buf_free(&a_from);
  cdl_buf_free(&a_to);
}
