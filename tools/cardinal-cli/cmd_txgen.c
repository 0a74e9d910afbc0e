/*
 * cmd_txgen.c: `cardinal-cli txgen` (docs/cli.md "txgen"; docs/node.md "A
 * local network"), a first transaction generator:
 *   txgen --socket-path S --genesis-dir DIR [--tps N] [--duration-s T]
 *         [--first-key I] [--keys N] [--wait-s W] [--connections C]
 *         [--testnet-magic N | --mainnet]
 * (options and --help on argp: options.c; the socket and magic options
 * are every node command's, CLI_NODE_ARGP).
 * For T seconds it submits N payments a second (fewer if the node answers
 * more slowly: it never submits after T) through local tx-submission,
 * over C connections, each with one payment out at a time (the protocol's
 * rule), so that up to C wait on the node at once. Each poor key of the
 * genesis directory (keys I..I+N-1) pays 1 ADA to the next one and its
 * change back to itself; its next payment spends that change, so payments
 * chain through the mempool (a key's payments all go on one connection,
 * one after the other). A
 * second connection follows the node's chain (local chain-sync) and
 * notes when each accepted payment lands in a block, undoing it when the
 * block is rolled back. After T it waits up to W seconds for the rest,
 * then prints {"submitted", "accepted", "rejected", "unanswered",
 * "included", "tps", "duration_s", "latency_ms": {"mean", "p50", "p95",
 * "max"} (from sending the submission to its block), "answer_ms": {"mean",
 * "max"} (from sending it to the node's answer), "avg_tx_bytes",
 * "accepted_per_s" (first to last submission),
 * "block_delay_ms" (the part of the latency after the including block's
 * slot began: its forging and diffusion),
 * "included_per_s" (first submission to last inclusion), "connections",
 * "stopped" (why: "duration", "signal" or "node closed the connection")}.
 *
 * A node whose mempool is full holds its answer until there is room (up
 * to CDL_LOCAL_TX_WAIT_MS; docs/network.md "Local tx-submission"): txgen
 * waits for it (up to CDL_LOCAL_SUBMIT_TIMEOUT_MS), following the chain
 * meanwhile; that wait is in the latency and in answer_ms. Submissions
 * still unanswered when it stops are counted in "unanswered": submitted =
 * accepted + rejected + unanswered.
 *
 * SIGINT or SIGTERM stops it early, and so does the node closing its
 * socket (it stopped): the report then covers what was submitted so far
 * and the exit code is 0. A repeated signal is ignored, so the report is
 * always printed.
 *
 * A genesis output is spent once: a second run over the same keys has its
 * payments refused (missing input) and should take other keys.
 */
#include <argp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardinal/crypto.h"
#include "cardinal/gen.h"
#include "cli.h"
#include "local.h"

#define TXGEN_PAYMENT 1000000ull
#define TXGEN_SIZE_BOUND 400 /* bytes: a 1-input, 2-output payment is about 300 */

typedef struct txgen_opts {
  cli_node_opts node; /* --socket-path, and the magic when given */
  const char *gen_dir;
  uint64_t tps, duration_s, first_key, keys, wait_s, connections;
} txgen_opts;

typedef struct sent_tx {
  uint8_t id[32];
  double submitted, included; /* seconds; included 0: not (yet) */
  uint64_t slot;              /* of the block that included it */
} sent_tx;

typedef struct coin {
  uint8_t tx_id[32];
  uint32_t index;
  uint64_t lovelace;
} coin;

/* One submission connection: local tx-submission has one tx out at a
 * time, so --connections N keep N out at once. Lane j spends keys j,
 * j + N, ...: a key's payments chain, so each goes on its lane only once
 * the one before it was answered. */
typedef struct lane {
  cdl_io_local *sub;
  size_t first_key, cursor; /* its keys: first_key + m * N */
  bool busy;                /* a payment is out, unanswered */
  size_t key;               /* whose */
  uint8_t id[32];
  size_t bytes; /* its TxAux */
  double sent_at;
} lane;

typedef struct txgen {
  txgen_opts o;
  cdl_gen_dir g;
  coin *coins; /* each key's spendable output */
  sent_tx *sent;
  size_t n_sent, cap_sent, n_submitted, n_rejected, n_unanswered, n_included, next_key;
  double answer_sum, answer_max; /* seconds from sending a submission to its answer */
  size_t *by_id, id_mask; /* open addressing over sent ids: index + 1, 0 empty */
  uint64_t sent_bytes;    /* of the accepted txs, for their mean size */
  double first_submit, last_submit, last_included;
  double wall_minus_mono; /* the wall clock less cli_now_seconds's, for slot starts */
  uint64_t fee;
  lane *lanes;
  size_t n_lanes, next_lane, busy;
  cdl_io_local *follow;
  bool cs_pending;     /* a RequestNext is out */
  const char *stopped; /* why it stopped: the report says */
} txgen;

/* Option keys: above the character range, so none is a short option. */
enum { O_GENESIS_DIR = 0x100, O_TPS, O_DURATION, O_FIRST_KEY, O_KEYS, O_WAIT, O_CONNECTIONS };

static const struct argp_option TXGEN_OPTIONS[] = {
    {"genesis-dir", O_GENESIS_DIR, "DIR", 0, "the devnet's genesis/ folder, with its poor keys "
     "(required)", 0},
    {"tps", O_TPS, "N", 0, "payments a second, 1 to 10000 (default: 1)", 0},
    {"duration-s", O_DURATION, "T", 0, "seconds of submitting, 1 to 86400 (default: 10)", 0},
    {"first-key", O_FIRST_KEY, "I", 0, "the first poor key used, 0 to 1000000 (default: 0)", 0},
    {"keys", O_KEYS, "N", 0, "poor keys used, I to I+N-1, at least 2 (default: all from I)", 0},
    {"wait-s", O_WAIT, "W", 0, "seconds to wait after T for the payments still out of a block, "
     "0 to 3600 (default: 30)", 0},
    {"connections", O_CONNECTIONS, "N", 0, "local tx-submission connections, each with one "
     "payment out at a time, 1 to 64 (default: 4)", 0},
    {0}};

static error_t txgen_option(int key, char *arg, struct argp_state *state) {
  txgen_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT: state->child_inputs[0] = &o->node; break;
  case O_GENESIS_DIR: o->gen_dir = arg; break;
  case O_TPS: o->tps = cli_arg_u64(state, arg, 1, 10000); break;
  case O_DURATION: o->duration_s = cli_arg_u64(state, arg, 1, 86400); break;
  case O_FIRST_KEY: o->first_key = cli_arg_u64(state, arg, 0, 1000000); break;
  case O_KEYS: o->keys = cli_arg_u64(state, arg, 1, 1000000); break;
  case O_WAIT: o->wait_s = cli_arg_u64(state, arg, 0, 3600); break;
  case O_CONNECTIONS: o->connections = cli_arg_u64(state, arg, 1, 64); break;
  case ARGP_KEY_ARG: argp_error(state, "unexpected argument '%s'", arg); break;
  case ARGP_KEY_END:
    if (o->gen_dir == NULL) argp_error(state, "--genesis-dir DIR is required");
    break;
  default: return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static const struct argp_child TXGEN_CHILDREN[] = {{&CLI_NODE_ARGP, 0, NULL, 0}, {0}};
static const struct argp TXGEN = {
    TXGEN_OPTIONS, txgen_option, NULL,
    "Submit payments to a devnet's node at a steady rate over local tx-submission (each poor "
    "key pays 1 ADA to the next and its change to itself), follow its chain to see each land "
    "in a block, and print the counts and latencies as JSON.\v"
    "Example:\n  cardinal-cli txgen --socket-path ./devnet/node-3/node.socket \\\n"
    "    --genesis-dir ./devnet/genesis --tps 20 --duration-s 30",
    TXGEN_CHILDREN, NULL, NULL};

static int parse_opts(int argc, char **argv, txgen_opts *o) {
  *o = (txgen_opts){.tps = 1, .duration_s = 10, .keys = 0, .wait_s = 30, .connections = 4};
  return cli_args_parse(&TXGEN, argc, argv, o);
}

static int setup_coins(txgen *t, cdl_error *err) {
  const cdl_gen_secrets *s = &t->g.secrets;
  if (t->o.keys == 0) t->o.keys = s->n_poor > t->o.first_key ? s->n_poor - t->o.first_key : 0;
  if (t->o.keys < 2 || t->o.first_key + t->o.keys > s->n_poor)
    return cdl_error_set(err, CDL_E_USAGE, 0, "txgen: the genesis has %zu poor keys", s->n_poor);
  t->coins = calloc(t->o.keys, sizeof *t->coins);
  if (!t->coins) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  for (size_t i = 0; i < t->o.keys; i++) {
    const cdl_key *k = &s->poor[t->o.first_key + i];
    cdl_buf a;
    cdl_buf_init(&a, 0);
    cdl_key_address(k, t->g.requires_magic, t->g.genesis.protocol_magic, &a);
    cdl_blake2b_256(t->coins[i].tx_id, a.data, a.len); /* a genesis output's id */
    cdl_buf_free(&a);
    t->coins[i].lovelace = 0;
  }
  /* Each balance's output id hashed once (not once per key: thousands of
   * keys times thousands of balances), then matched. */
  const cdl_byron_genesis *g = &t->g.genesis;
  uint8_t(*ids)[32] = calloc(g->n_balances + 1, sizeof *ids);
  if (!ids) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  for (size_t i = 0; i < g->n_balances; i++)
    cdl_blake2b_256(ids[i], g->balances[i].address.ptr, g->balances[i].address.len);
  for (size_t j = 0; j < t->o.keys; j++)
    for (size_t i = 0; i < g->n_balances; i++)
      if (memcmp(ids[i], t->coins[j].tx_id, 32) == 0) t->coins[j].lovelace = g->balances[i].lovelace;
  free(ids);
  t->fee = cdl_ledger_min_fee(&t->g.genesis.params, TXGEN_SIZE_BOUND);
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  t->wall_minus_mono = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9 - cli_now_seconds();
  return CDL_OK;
}

/* The next payment: key i pays the next key and keeps the change. */
static void make_payment(txgen *t, size_t i, cdl_buf *gentx, uint8_t id[32]) {
  const cdl_key *keys = t->g.secrets.poor + t->o.first_key;
  uint32_t magic = t->g.genesis.protocol_magic;
  cdl_buf from, to;
  cdl_buf_init(&from, 0);
  cdl_buf_init(&to, 0);
  cdl_key_address(&keys[i], t->g.requires_magic, magic, &from);
  cdl_key_address(&keys[(i + 1) % t->o.keys], t->g.requires_magic, magic, &to);
  cdl_payload_tx_input in = {.index = t->coins[i].index, .owner = &keys[i]};
  memcpy(in.tx_id, t->coins[i].tx_id, 32);
  cdl_payload_tx_output out[2] = {
      {cdl_span_of(to.data, to.len), TXGEN_PAYMENT},
      {cdl_span_of(from.data, from.len), t->coins[i].lovelace - TXGEN_PAYMENT - t->fee}};
  cdl_cbor_enc_array(gentx, 2);
  cdl_cbor_enc_uint(gentx, 0);
  cdl_payload_tx_make(&in, 1, out, 2, magic, gentx, id);
  cdl_buf_free(&from);
  cdl_buf_free(&to);
}

/* Tx ids are hashes: their first 8 bytes spread them evenly. */
static size_t id_slot(const txgen *t, const uint8_t id[32]) {
  uint64_t h;
  memcpy(&h, id, sizeof h);
  return (size_t)h & t->id_mask;
}

static void index_sent(txgen *t, size_t j) {
  size_t i = id_slot(t, t->sent[j].id);
  while (t->by_id[i] != 0) i = (i + 1) & t->id_mask;
  t->by_id[i] = j + 1;
}

/* The sent tx with this id, or NULL: blocks of thousands of txs are
 * matched against tens of thousands sent. */
static sent_tx *find_sent(const txgen *t, const uint8_t id[32]) {
  for (size_t i = id_slot(t, id); t->by_id != NULL && t->by_id[i] != 0; i = (i + 1) & t->id_mask)
    if (memcmp(t->sent[t->by_id[i] - 1].id, id, 32) == 0) return &t->sent[t->by_id[i] - 1];
  return NULL;
}

/* Room for one more accepted payment (a day at 10,000 tx/s is not
 * allocated up front); the id index stays at most half full. */
static int reserve_sent(txgen *t, cdl_error *err) {
  if (t->n_sent < t->cap_sent) return CDL_OK;
  size_t cap = t->cap_sent ? 2 * t->cap_sent : 1024;
  sent_tx *s = realloc(t->sent, cap * sizeof *s);
  size_t *by_id = calloc(2 * cap, sizeof *by_id);
  if (s != NULL) t->sent = s;
  if (s == NULL || by_id == NULL) {
    free(by_id);
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  }
  free(t->by_id);
  t->by_id = by_id;
  t->id_mask = 2 * cap - 1;
  t->cap_sent = cap;
  for (size_t j = 0; j < t->n_sent; j++) index_sent(t, j);
  return CDL_OK;
}

/* The lane's next key with coins left to pay; false when all are spent out. */
static bool lane_key(txgen *t, lane *l, size_t *key) {
  for (size_t tries = 0; tries < t->o.keys; tries++) {
    size_t i = l->cursor;
    l->cursor = l->cursor + t->n_lanes < t->o.keys ? l->cursor + t->n_lanes : l->first_key;
    if (t->coins[i].lovelace >= TXGEN_PAYMENT + t->fee + 1000000) return *key = i, true;
  }
  return false;
}

/* Sends lane |l|'s next payment (none when its keys are spent out). */
static int submit_start(txgen *t, lane *l, cdl_error *err) {
  if (!lane_key(t, l, &l->key)) return CDL_OK;
  cdl_buf gentx;
  cdl_buf_init(&gentx, 0);
  make_payment(t, l->key, &gentx, l->id);
  int rc = local_submit_send(l->sub, cdl_span_of(gentx.data, gentx.len), err);
  l->bytes = gentx.len - 2; /* the TxAux, without the GenTx [0, ...] head */
  l->sent_at = cli_now_seconds();
  cdl_buf_free(&gentx);
  t->n_submitted++;
  l->busy = rc == CDL_OK;
  t->busy += l->busy;
  return rc;
}

/* Reads lane |l|'s answer: an accepted payment's change is its key's next input. */
static int submit_finish(txgen *t, lane *l, cdl_error *err) {
  if (reserve_sent(t, err) != CDL_OK) return err->code;
  cdl_buf reason;
  cdl_buf_init(&reason, 0);
  bool ok = false;
  int rc = local_submit_read(l->sub, &ok, &reason, err);
  cdl_buf_free(&reason);
  l->busy = false;
  t->busy--;
  if (rc != CDL_OK) return rc;
  double waited = cli_now_seconds() - l->sent_at; /* a full mempool holds the answer */
  t->answer_sum += waited;
  if (waited > t->answer_max) t->answer_max = waited;
  if (!ok) {
    t->n_rejected++;
    return CDL_OK;
  }
  sent_tx *s = &t->sent[t->n_sent];
  *s = (sent_tx){.submitted = l->sent_at};
  memcpy(s->id, l->id, 32);
  index_sent(t, t->n_sent++);
  if (t->n_sent == 1 || l->sent_at < t->first_submit) t->first_submit = l->sent_at;
  if (l->sent_at > t->last_submit) t->last_submit = l->sent_at;
  t->sent_bytes += l->bytes;
  coin *c = &t->coins[l->key];
  memcpy(c->tx_id, l->id, 32);
  c->index = 1;
  c->lovelace -= TXGEN_PAYMENT + t->fee;
  return CDL_OK;
}

/* An idle lane, taken in turn; NULL when every lane has a payment out. */
static lane *idle_lane(txgen *t) {
  for (size_t k = 0; k < t->n_lanes; k++) {
    lane *l = &t->lanes[(t->next_lane + k) % t->n_lanes];
    if (!l->busy) {
      t->next_lane = (t->next_lane + k + 1) % t->n_lanes;
      return l;
    }
  }
  return NULL;
}

static void note_block(txgen *t, const cdl_buf *block) {
  cdl_error err = {0};
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_ctx ctx = {&arena, &err, 0};
  cdl_byron_block b;
  if (cdl_byron_block_decode(block->data, block->len, &ctx, &b) == CDL_OK && !b.is_ebb) {
    double now = cli_now_seconds();
    for (size_t k = 0; k < b.body.n_txs; k++) {
      sent_tx *s = find_sent(t, b.body.txs[k].tx.id);
      if (s == NULL || s->included != 0) continue;
      s->included = t->last_included = now;
      s->slot = b.header.epoch * cdl_byron_epoch_slots(t->g.genesis.k) + b.header.slot_in_epoch;
      t->n_included++;
    }
  }
  cdl_arena_free(&arena);
}

/* One chain-sync message: blocks note inclusions, roll-backs undo them. */
static int follow_step(txgen *t, cdl_error *err) {
  uint8_t kind;
  cdl_buf block;
  cdl_point to;
  cdl_buf_init(&block, 0);
  int rc = local_follow_read(t->follow, &kind, &block, &to, err);
  if (rc == CDL_OK && kind == CDL_CS_ROLL_FORWARD) note_block(t, &block);
  if (rc == CDL_OK && kind == CDL_CS_ROLL_BACKWARD)
    for (size_t j = 0; j < t->n_sent; j++)
      if (t->sent[j].included != 0 && (to.origin || t->sent[j].slot > to.slot)) {
        t->sent[j].included = 0;
        t->n_included--;
      }
  cdl_buf_free(&block);
  t->cs_pending = rc == CDL_OK && kind == CDL_CS_AWAIT_REPLY;
  if (rc == CDL_OK && !t->cs_pending) {
    rc = local_follow_request(t->follow, err);
    t->cs_pending = rc == CDL_OK;
  }
  return rc;
}

static int connect_node(txgen *t, cdl_error *err) {
  const cli_node_opts *n = &t->o.node;
  t->n_lanes = t->o.connections < t->o.keys ? t->o.connections : t->o.keys;
  t->lanes = calloc(t->n_lanes, sizeof *t->lanes);
  if (t->lanes == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  int rc = cdl_io_local_open(n->socket, (uint32_t)n->magic, n->has_magic, &t->follow, err);
  for (size_t j = 0; rc == CDL_OK && j < t->n_lanes; j++) {
    t->lanes[j].first_key = t->lanes[j].cursor = j;
    rc = cdl_io_local_open(n->socket, cdl_io_local_magic(t->follow), true, &t->lanes[j].sub, err);
  }
  cdl_tip tip;
  if (rc == CDL_OK) rc = local_tip(t->follow, &tip, err);
  if (rc == CDL_OK) rc = local_follow(t->follow, &tip.point, err);
  if (rc == CDL_OK) rc = local_follow_request(t->follow, err);
  t->cs_pending = true;
  return rc;
}

/* Waits up to |ms| for answers and chain-sync messages, and reads them. */
static int read_ready(txgen *t, int ms, cdl_error *err) {
  struct pollfd pf[65];
  lane *of[65];
  size_t n = 0;
  pf[n] = (struct pollfd){.fd = cdl_io_local_fd(t->follow), .events = POLLIN};
  of[n++] = NULL;
  for (size_t j = 0; j < t->n_lanes; j++)
    if (t->lanes[j].busy) {
      pf[n] = (struct pollfd){.fd = cdl_io_local_fd(t->lanes[j].sub), .events = POLLIN};
      of[n++] = &t->lanes[j];
    }
  if (poll(pf, n, ms) <= 0) return CDL_OK;
  int rc = CDL_OK;
  for (size_t k = 0; k < n && rc == CDL_OK; k++) {
    if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    rc = of[k] == NULL ? follow_step(t, err) : submit_finish(t, of[k], err);
  }
  return rc;
}

/* A node holds an answer while its mempool is full, but not for ever. */
static int check_answers_due(const txgen *t, double now, cdl_error *err) {
  for (size_t j = 0; j < t->n_lanes; j++)
    if (t->lanes[j].busy && now - t->lanes[j].sent_at > CDL_LOCAL_SUBMIT_TIMEOUT_MS / 1000.0)
      return cdl_error_set(err, CDL_E_TIMEOUT, 0,
                           "the node did not answer a submission within %d ms",
                           CDL_LOCAL_SUBMIT_TIMEOUT_MS);
  return CDL_OK;
}

/* Submits on schedule and follows the chain until the duration and the
 * wait are over, a stop signal, or an error. Behind schedule it submits
 * back to back, as many at once as it has connections; the chain it
 * follows and the answers are read between submissions. */
static int submit_loop(txgen *t, cdl_error *err) {
  int rc = CDL_OK;
  double start = cli_now_seconds(), end = start + (double)t->o.duration_s;
  uint64_t total = t->o.tps * t->o.duration_s, next = 0;
  while (rc == CDL_OK && !cli_stop_requested()) {
    double now = cli_now_seconds();
    bool settled = t->busy == 0 && t->n_included == t->n_sent;
    if (now >= end && (settled || now >= end + (double)t->o.wait_s)) break;
    bool submitting = next < total && now < end; /* behind schedule at T: the rest is dropped */
    double due = submitting ? start + (double)next / (double)t->o.tps : end + t->o.wait_s;
    CDL_TRY(check_answers_due(t, now, err));
    lane *l = submitting && now >= due ? idle_lane(t) : NULL;
    if (l != NULL) {
      rc = read_ready(t, 0, err);
      if (rc == CDL_OK) rc = submit_start(t, l, err);
      next++;
      continue;
    }
    int ms = now >= due ? 200 : (int)((due - now) * 1000) + 1;
    rc = read_ready(t, ms < 200 ? ms : 200, err);
  }
  return rc;
}

static int run(txgen *t, cdl_error *err) {
  int rc = connect_node(t, err);
  if (rc != CDL_OK) return rc;
  rc = submit_loop(t, err);
  t->n_unanswered = t->busy; /* cut short by a stop signal or the wait's end */
  t->stopped = cli_stop_requested() ? "signal" : "duration";
  /* A node that stops closes its socket: the run ends there and is
   * reported like any other (docs/cli.md "txgen"). */
  bool closed = cdl_io_local_closed(t->follow);
  for (size_t j = 0; j < t->n_lanes; j++) closed |= cdl_io_local_closed(t->lanes[j].sub);
  if (rc == CDL_E_IO && closed) {
    t->stopped = "node closed the connection";
    rc = CDL_OK;
  }
  return rc;
}

/* When |slot| began, on cli_now_seconds's clock. */
static double slot_start(const txgen *t, uint64_t slot) {
  const cdl_byron_genesis *g = &t->g.genesis;
  return (double)g->start_time + (double)slot * (double)g->params.slot_duration_ms / 1000.0 -
         t->wall_minus_mono;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* {"mean", "p50", "p95", "max"} of the included payments' |what| in ms
 * (null when none is included). */
static json_t *spread(const txgen *t, double (*what)(const txgen *, const sent_tx *)) {
  size_t n = 0;
  double *v = calloc(t->n_sent + 1, sizeof *v), sum = 0;
  for (size_t j = 0; v && j < t->n_sent; j++)
    if (t->sent[j].included != 0) sum += v[n++] = what(t, &t->sent[j]) * 1000;
  if (v) qsort(v, n, sizeof *v, cmp_double);
  json_t *r = n == 0 || !v ? json_null()
                           : json_pack("{s:f, s:f, s:f, s:f}", "mean", sum / (double)n, "p50",
                                       v[n / 2], "p95", v[n * 95 / 100], "max", v[n - 1]);
  free(v);
  return r;
}

static double latency(const txgen *t, const sent_tx *s) {
  (void)t;
  return s->included - s->submitted;
}

/* From the start of the slot of the block that holds it to that block
 * here: what forging and diffusion add to the wait for the next slot. */
static double block_delay(const txgen *t, const sent_tx *s) {
  return s->included - slot_start(t, s->slot);
}

static json_t *report(const txgen *t) {
  size_t n = t->n_included;
  json_t *l = spread(t, latency);
  json_t *r = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "submitted", (json_int_t)t->n_submitted,
      "accepted", (json_int_t)t->n_sent, "rejected", (json_int_t)t->n_rejected, "unanswered",
      (json_int_t)t->n_unanswered, "included", (json_int_t)n, "tps", (json_int_t)t->o.tps,
      "duration_s", (json_int_t)t->o.duration_s, "latency_ms", l);
  size_t answers = t->n_sent + t->n_rejected;
  json_object_set_new(r, "answer_ms",
                      answers == 0 ? json_null()
                                   : json_pack("{s:f, s:f}", "mean",
                                               t->answer_sum * 1000 / (double)answers, "max",
                                               t->answer_max * 1000));
  /* Rates over what happened: accepted from the first to the last
   * submission, included from the first submission to the last inclusion. */
  double submit_s = t->last_submit - t->first_submit, span_s = t->last_included - t->first_submit;
  json_object_set_new(r, "avg_tx_bytes",
                      json_real(t->n_sent ? (double)t->sent_bytes / (double)t->n_sent : 0));
  json_object_set_new(r, "accepted_per_s",
                      json_real(submit_s > 0 ? (double)(t->n_sent - 1) / submit_s : 0));
  json_object_set_new(r, "included_per_s", json_real(n && span_s > 0 ? (double)n / span_s : 0));
  json_object_set_new(r, "block_delay_ms", spread(t, block_delay));
  json_object_set_new(r, "connections", json_integer((json_int_t)t->n_lanes));
  json_object_set_new(r, "stopped", json_string(t->stopped));
  return r;
}

static int run_txgen(int argc, char **argv) {
  txgen t = {0};
  int code = parse_opts(argc, argv, &t.o);
  if (code != EXIT_OK) return code;
  /* Caught before anything else: a signal that comes while the keys load
   * still ends in a report. */
  cli_catch_stop_signals("txgen");
  cdl_error err = {0};
  int rc = cdl_gen_dir_load(t.o.gen_dir, &t.g, &err);
  bool loaded = rc == CDL_OK;
  if (rc == CDL_OK) rc = setup_coins(&t, &err);
  if (rc == CDL_OK) rc = run(&t, &err);
  code = rc == CDL_OK ? cli_print(report(&t), false) : cli_report(&err);
  for (size_t j = 0; j < t.n_lanes; j++) cdl_io_local_close(t.lanes[j].sub);
  free(t.lanes);
  cdl_io_local_close(t.follow);
  free(t.coins);
  free(t.sent);
  free(t.by_id);
  if (loaded) cdl_gen_dir_free(&t.g);
  return code;
}

static const cli_verb TXGEN_VERBS[] = {
    {"", NULL, "submit payments at a steady rate, report latencies", run_txgen}};
const cli_noun CLI_TXGEN = CLI_NOUN("txgen", TXGEN_VERBS);
