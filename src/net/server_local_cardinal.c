/*
 * server_local_cardinal.c: the node's answers to Cardinal's own
 * local-state queries (server_internal.h; the forms in
 * include/cardinal/wire.h "Cardinal's own local-state queries";
 * docs/network.md "Cardinal's own queries"): the UTxO at addresses or of
 * inputs, and the chain's constants, read from the tip's ledger.
 *
 * A malformed query, one over the bounds, or one this server cannot
 * answer (no ledger behind the chain, no slot length given) ends the
 * connection with the reason, as a query the Haskell node cannot decode
 * does: a client cannot tell a refused query from an unknown one, and
 * does not need to.
 */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

typedef struct utxo_answer {
  cdl_buf entries;
  size_t n;
  bool complete;
} utxo_answer;

static bool add_output(void *ctx, const cdl_ledger_output *o) {
  utxo_answer *a = ctx;
  cdl_lsq_txin in = {.index = o->index};
  memcpy(in.tx_id, o->tx_id, 32);
  if (!cdl_lsq_utxo_entry_add(&a->entries, &in, o->address, o->lovelace))
    return a->complete = false;
  a->n++;
  return true;
}

static int answer_utxo(const cdl_ledger *l, const cdl_lsq_cardinal_query *q, cdl_buf *r,
                       cdl_error *err) {
  utxo_answer a = {.complete = true};
  cdl_buf_init(&a.entries, 0); /* cdl_lsq_utxo_entry_add keeps it under the bound */
  if (q->tag == CDL_LSQ_Q_UTXO_BY_ADDRESS) {
    cdl_ledger_utxo_by_address(l, q->addresses, q->n, add_output, &a);
  } else {
    cdl_ledger_output o;
    for (size_t i = 0; i < q->n && a.complete; i++)
      if (cdl_ledger_utxo_lookup(l, q->inputs[i].tx_id, q->inputs[i].index, &o))
        add_output(&a, &o);
  }
  int rc = a.entries.failed ? cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory") : CDL_OK;
  if (rc == CDL_OK)
    cdl_lsq_enc_utxo_answer(r, a.complete, a.n, cdl_span_of(a.entries.data, a.entries.len));
  cdl_buf_free(&a.entries);
  return rc;
}

static int answer_constants(const cdl_n2n_server *s, const cdl_ledger *l, cdl_buf *r,
                            cdl_error *err) {
  if (s->slot_ms == 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "local-state-query: this server was given no slot length");
  cdl_ledger_constants c;
  cdl_ledger_get_constants(l, &c);
  cdl_lsq_chain_constants out = {.epoch_slots = c.epoch_slots,
                                 .k = c.k,
                                 .slot_ms = s->slot_ms,
                                 .protocol_magic = c.protocol_magic,
                                 .requires_magic = c.requires_magic,
                                 .genesis_keys = (uint32_t)c.genesis_keys};
  cdl_lsq_enc_chain_constants(r, &out);
  return CDL_OK;
}

int srv_lsq_cardinal(cdl_n2n_server *s, cdl_span q, cdl_buf *r, cdl_error *err) {
  const cdl_ledger *l = s->chain.ledger ? s->chain.ledger(s->chain.ctx) : NULL;
  if (l == NULL)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "local-state-query: a query this node does not know (no ledger)");
  cdl_lsq_cardinal_query *parsed = malloc(sizeof *parsed);
  if (parsed == NULL)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  cdl_error e = {0};
  int rc = cdl_lsq_cardinal_query_read(q, parsed, &e);
  if (rc != CDL_OK)
    rc = cdl_error_set(err, rc, 0, "local-state-query: Cardinal's query: %s", e.message);
  else if (parsed->tag == CDL_LSQ_Q_CHAIN_CONSTANTS)
    rc = answer_constants(s, l, r, err);            /* the same at every point */
  else if ((rc = srv_lsq_at_tip(s, err)) == CDL_OK) /* the UTxO is the tip's only */
    rc = answer_utxo(l, parsed, r, err);
  free(parsed);
  return rc;
}
