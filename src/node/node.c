/*
 * node.c: the node kernel's clock, chain-change bookkeeping and dirty
 * queue (include/cardinal/node.h; docs/node.md "Kernel").
 *
 * Slots follow the genesis: slot s begins at start time + s x
 * slotDuration. Each tick that finds a new slot sets it on every server
 * engine (the mempool validates submissions for it), expires mempool
 * entries past their TTL and, on a core node, forges. Any change of the
 * selected chain re-validates the mempool against the new tip and wakes
 * every connection, so servers announce the new blocks, clients offer
 * what the mempool now holds, and submissions waiting for room (local
 * ones, peers' txs) try again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"

void node_log(const cdl_node *n, cdl_log_level level, const char *event, const char *fmt, ...) {
  if (n->cfg.log == NULL) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cdl_log(n->cfg.log, level, n->cfg.name ? n->cfg.name : "node", event, "%s", msg);
}

/* The forger's genesis key: the index of its certificate's issuer. */
static int find_forger_key(cdl_node *n, cdl_error *err) {
  const cdl_byron_genesis *g = n->cfg.genesis;
  for (size_t i = 0; i < g->n_boot_stakeholders; i++)
    if (memcmp(g->boot_stakeholders[i], n->forger.cert.issuer_id, 28) == 0) {
      n->forger_key = i;
      return CDL_OK;
    }
  return cdl_error_set(err, CDL_E_USAGE, 0,
                       "the delegation certificate's issuer is not a genesis key of this chain");
}

/* What the signing record says at the start: the slots up to its last
 * one will not be signed again. */
static void log_record(const cdl_node *n) {
  char key[57];
  cdl_hex_encode(n->key_hash, 28, key);
  const char *path = cdl_sign_record_path(n->forger.record);
  uint64_t last;
  if (cdl_sign_record_last(n->forger.record, n->key_hash, &last))
    node_log(n, CDL_LOG_INFO, "forge.record",
             "signing record %s: key %s last signed slot %llu; no slot up to it is signed again",
             path, key, (unsigned long long)last);
  else
    node_log(n, CDL_LOG_INFO, "forge.record", "signing record %s: key %s has signed no slot yet",
             path, key);
}

/* The versions the node's headers will carry: a protocol version set
 * here is endorsed by every block the node forges. */
static void log_versions(const cdl_node *n) {
  const cdl_forge_versions *v = &n->forger.versions;
  char pv[48] = "the adopted protocol version";
  if (v->has_block_version)
    snprintf(pv, sizeof pv, "protocol version %u.%u.%u", v->block_version.major,
             v->block_version.minor, v->block_version.alt);
  node_log(n, CDL_LOG_INFO, "forge.versions", "forging with %s and software version %s:%u", pv,
           v->has_software_version ? v->app_name : CDL_FORGE_APP_NAME,
           v->has_software_version ? v->app_version : CDL_FORGE_APP_VERSION);
}

static int setup_forger(cdl_node *n, const cdl_node_forger *f, cdl_error *err) {
  if (f->record == NULL)
    return cdl_error_set(err, CDL_E_USAGE, 0,
                         "node: a core node needs its signing record (cdl_node_forger.record)");
  n->forger = *f;
  n->has_forger = true;
  n->cfg.forger = &n->forger;
  cdl_key_hash(&f->delegate, n->key_hash);
  CDL_TRY(find_forger_key(n, err));
  const cdl_forge_versions *v = &f->versions;
  size_t name_len = strnlen(v->app_name, sizeof v->app_name);
  if (v->has_software_version && name_len == sizeof v->app_name)
    return cdl_error_set(err, CDL_E_USAGE, 0, "node: the application name is over 12 bytes");
  n->app_version = (cdl_byron_software_version){
      cdl_span_of((const uint8_t *)n->forger.versions.app_name, name_len), v->app_version};
  log_record(n);
  log_versions(n);
  return CDL_OK;
}

/* A genesis from cdl_byron_genesis_load keeps these; one built by hand is
 * told which field it lacks. */
static int check_config(const cdl_node_config *cfg, cdl_error *err) {
  const cdl_byron_genesis *g = cfg->genesis;
  if (cfg->db == NULL || g == NULL)
    return cdl_error_set(err, CDL_E_USAGE, 0, "node: a ChainDB and a genesis are needed");
  const char *bad = g->k == 0 || g->k > CDL_BYRON_MAX_K ? "protocolConsts.k"
                    : g->params.slot_duration_ms == 0 ||
                            g->params.slot_duration_ms > CDL_BYRON_MAX_SLOT_MS
                        ? "blockVersionData.slotDuration"
                    : g->start_time < 0            ? "startTime"
                    : g->n_boot_stakeholders == 0 ? "bootStakeholders"
                                                  : NULL;
  if (bad != NULL)
    return cdl_error_set(err, CDL_E_GENESIS, 0, "node: genesis field \"%s\" out of range", bad);
  return CDL_OK;
}

/* Blocks from peers are parsed and checked on cfg.threads threads. */
static int setup_parse_pool(cdl_node *n, cdl_error *err) {
  if (n->cfg.threads <= 1) return CDL_OK;
  const cdl_ledger *l = cdl_chaindb_ledger(n->db);
  cdl_parse_pool_config pc = {.threads = n->cfg.threads,
                              .protocol_magic = n->cfg.genesis->protocol_magic,
                              .signatures = !(cdl_ledger_flags(l) & CDL_LEDGER_NO_SIGNATURES),
                              .witnesses = cdl_chaindb_witness_cache(n->db)};
  if (cdl_parse_pool_new(&pc, &n->parse_pool) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "node: out of memory for the parse threads");
  return CDL_OK;
}

int cdl_node_new(const cdl_node_config *cfg, uint64_t now_us, cdl_node **out, cdl_error *err) {
  *out = NULL;
  CDL_TRY(check_config(cfg, err));
  cdl_node *n = calloc(1, sizeof *n);
  if (n == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "node: out of memory");
  n->cfg = *cfg;
  n->db = cfg->db;
  cdl_n2n_chain_of_chaindb(n->db, &n->chain);
  n->now_us = now_us;
  n->epoch_slots = cdl_byron_epoch_slots(cfg->genesis->k);
  n->slot_us = cfg->genesis->params.slot_duration_ms * 1000;
  n->start_us = (uint64_t)cfg->genesis->start_time * 1000000;
  if (n->cfg.pipeline == 0) n->cfg.pipeline = NODE_DEFAULT_PIPELINE;
  if (cfg->peers != NULL)
    n->peers = *cfg->peers;
  else
    cdl_peers_init(&n->peers);
  n->cfg.peers = NULL; /* the kernel's copy is n->peers */
  cdl_buf_init(&n->block, 0);
  n->conns = calloc(NODE_MAX_CONNS, sizeof *n->conns);
  int rc = n->conns ? CDL_OK : cdl_error_set(err, CDL_E_NOMEM, 0, "node: out of memory");
  if (rc == CDL_OK && cfg->forger != NULL) rc = setup_forger(n, cfg->forger, err);
  if (rc == CDL_OK) rc = setup_parse_pool(n, err);
  if (rc == CDL_OK &&
      cdl_mempool_new(&cfg->mempool, cdl_chaindb_ledger(n->db), 0, &n->mp) != CDL_OK)
    rc = cdl_error_set(err, CDL_E_NOMEM, 0, "node: out of memory for the mempool");
  if (rc != CDL_OK) {
    cdl_node_del(n);
    return rc;
  }
  *out = n;
  return CDL_OK;
}

void cdl_node_del(cdl_node *n) {
  if (n == NULL) return;
  for (size_t i = 0; i < n->n_conns; i++) node_conn_free(n->conns[i]);
  free(n->conns);
  cdl_parse_pool_del(n->parse_pool); /* after the clients: none has a job left */
  cdl_mempool_del(n->mp);
  cdl_buf_free(&n->block);
  free(n->payloads);
  free(n->claims);
  free(n);
}

bool cdl_node_slot_at(const cdl_node *n, uint64_t now_us, uint64_t *slot) {
  if (now_us < n->start_us) return false;
  *slot = (now_us - n->start_us) / n->slot_us;
  return true;
}

void node_wake_all(cdl_node *n) {
  for (size_t i = 0; i < n->n_conns; i++) n->conns[i]->dirty = n->conns[i]->wake = true;
}

void node_chain_changed(cdl_node *n) {
  n->st.chain_changes++;
  uint64_t slot = n->in_slots ? n->slot : 0;
  if (cdl_mempool_sync(n->mp, cdl_chaindb_ledger(n->db), slot) != CDL_OK)
    node_log(n, CDL_LOG_ERROR, "mempool.emptied", "out of memory re-validating the mempool");
  node_wake_all(n);
  node_progress_check(n);
}

/* The work of a slot just begun. */
static int new_slot(cdl_node *n, uint64_t slot, cdl_error *err) {
  n->slot = slot;
  n->in_slots = true;
  n->st.slot = slot;
  uint64_t before = cdl_mempool_changes(n->mp);
  if (n->cfg.mempool.ttl_slots > 0 &&
      cdl_mempool_sync(n->mp, cdl_chaindb_ledger(n->db), slot) != CDL_OK)
    node_log(n, CDL_LOG_ERROR, "mempool.emptied", "out of memory expiring the mempool");
  if (cdl_mempool_changes(n->mp) != before) node_wake_all(n);
  return n->has_forger ? node_forge(n, slot, err) : CDL_OK;
}

int node_fail(cdl_node *n, int rc, const cdl_error *err) {
  if (!n->failed) {
    n->failed = true;
    n->fatal = *err;
    n->fatal.code = rc;
    node_log(n, CDL_LOG_ERROR, "node.failed", "%s: %s", cdl_error_name(rc), err->message);
  }
  return rc;
}

bool cdl_node_failed(const cdl_node *n, cdl_error *err) {
  if (n->failed && err != NULL) *err = n->fatal;
  return n->failed;
}

int cdl_node_tick(cdl_node *n, uint64_t now_us, cdl_error *err) {
  n->now_us = now_us;
  if (n->failed) {
    *err = n->fatal;
    return n->fatal.code;
  }
  uint64_t slot;
  if (cdl_node_slot_at(n, now_us, &slot) && (!n->in_slots || slot > n->slot)) {
    int rc = new_slot(n, slot, err);
    if (rc != CDL_OK) return node_fail(n, rc, err);
  }
  node_conns_tick(n, now_us);
  node_peers_tick(n);
  node_progress_check(n);
  return CDL_OK;
}

uint64_t cdl_node_deadline(const cdl_node *n) {
  uint64_t next = n->start_us;
  if (n->in_slots) next = n->start_us + (n->slot + 1) * n->slot_us;
  uint64_t c = node_conns_deadline(n), p = cdl_peers_deadline(&n->peers);
  if (p < c) c = p;
  return c < next ? c : next;
}

bool cdl_node_next_dirty(cdl_node *n, cdl_node_conn_id *id) {
  for (size_t i = 0; i < n->n_conns; i++) {
    node_conn *c = n->conns[i];
    if (!c->dirty) continue;
    c->dirty = false;
    if (c->wake && !c->ended) node_conn_wake(n, c);
    *id = c->id;
    return true;
  }
  return false;
}

/* The kernel's judgement of a transaction, whoever hands it over: the
 * tip's ledger at the current slot (0 before the first: the slot after
 * the tip). */
int node_judge_tx(void *ctx, const uint8_t *gentx, size_t len, cdl_rejection *rej) {
  cdl_node *n = ctx;
  uint64_t slot = n->in_slots ? n->slot : 0;
  return cdl_mempool_add(n->mp, cdl_chaindb_ledger(n->db), gentx, len, slot, NULL, rej);
}

int cdl_node_submit(cdl_node *n, const uint8_t *gentx, size_t len, cdl_rejection *rej) {
  int rc = node_judge_tx(n, gentx, len, rej);
  if (rc == CDL_OK) node_wake_all(n);
  return rc;
}

cdl_mempool *cdl_node_mempool(cdl_node *n) { return n->mp; }

bool cdl_node_last_rejection(const cdl_node *n, cdl_rejection *rej) {
  if (n->has_rejection) *rej = n->rejection;
  return n->has_rejection;
}

void cdl_node_stats_get(const cdl_node *n, cdl_node_stats *st) {
  *st = n->st;
  st->conns_in = st->conns_out = st->conns_local = st->conns_duplex = 0;
  st->blocks_served = n->closed.blocks_served;
  st->headers_served = n->closed.headers_served;
  st->txs_received = n->closed.txs_received;
  st->txs_waited = n->closed.txs_waited;
  st->tx_waits_expired = n->closed.tx_waits_expired;
  st->tx_pulls_saved = n->closed.tx_pulls_saved;
  st->txs_waiting = 0;
  st->upstream = n->closed_upstream;
  st->upstream_synced = 0;
  for (size_t i = 0; i < n->n_conns; i++) {
    cdl_node_conn_kind k = n->conns[i]->kind;
    if (n->conns[i]->srv) {
      cdl_n2n_server_stats ss = cdl_n2n_server_stats_get(n->conns[i]->srv);
      st->blocks_served += ss.blocks_served;
      st->headers_served += ss.headers_served;
      st->txs_received += ss.txs_received;
      st->txs_waiting += ss.txs_waiting;
      st->txs_waited += ss.txs_waited;
      st->tx_waits_expired += ss.tx_waits_expired;
      st->tx_pulls_saved += ss.tx_pulls_saved;
    }
    st->conns_duplex += n->conns[i]->cli && n->conns[i]->srv;
    if (n->conns[i]->cli) {
      node_upstream_add(&st->upstream, cdl_n2n_client_stats_get(n->conns[i]->cli));
      st->upstream_synced += cdl_n2n_client_synced(n->conns[i]->cli);
    }
    if (k == CDL_NODE_OUTBOUND)
      st->conns_out++;
    else if (k == CDL_NODE_INBOUND)
      st->conns_in++;
    else
      st->conns_local++;
  }
  cdl_mempool_stats_get(n->mp, &st->mempool);
}
