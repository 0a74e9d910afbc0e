/*
 * net_support.c: see net_support.h.
 */
#include "net_support.h"

#include <stdlib.h>

void served_chain_open(served_chain *c, const char *what, size_t n) {
  epoch0_load(&c->e);
  mainnet_genesis(&c->g);
  make_dir(c->dir, sizeof c->dir, what);
  cdl_chaindb_config cfg = chaindb_config(c->dir, &c->g.g, NULL);
  cfg.ledger.flags |= CDL_LEDGER_NO_SIGNATURES;
  c->db = db_open(&cfg, NULL);
  c->n = n;
  c->info = calloc(n, sizeof *c->info);
  assert_non_null(c->info);
  for (size_t i = 0; i < n; i++) {
    c->info[i] = info_of(c->e.blocks[i].ptr, c->e.blocks[i].len, 21600);
    add_expect(c->db, c->e.blocks[i], CDL_ADD_ADOPTED);
  }
}

void served_chain_close(served_chain *c) {
  db_close(c->db);
  remove_dir(c->dir);
  epoch0_free(&c->e);
  cdl_arena_free(&c->g.arena);
  free(c->info);
}
