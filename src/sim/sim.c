/*
 * sim.c: the simulator's event loop (include/cardinal/sim.h;
 * docs/simulation.md "How a run works").
 *
 * Time moves from event to event: the earliest of a message's arrival
 * (sim_net.c), a node's deadline (its kernel's, through its clock), a
 * payment to submit and a scenario action (a fault beginning or ending, a
 * node joining, the checker's look at each slot). Ties go to the event
 * made first (a sequence number), so nothing depends on the order of a
 * scan or an address: a scenario and a seed fix the run. Every delivery
 * goes into a digest the report carries.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

uint64_t sim_slot_start(const sim *s, uint64_t slot) {
  return SIM_START_S * 1000000 + slot * s->slot_us;
}

uint64_t sim_slot_of(const sim *s, uint64_t at_us) {
  uint64_t start = SIM_START_S * 1000000;
  return at_us < start ? 0 : (at_us - start) / s->slot_us;
}

void sim_trace(sim *s, const char *fmt, ...) {
  if (s->opt == NULL || s->opt->trace == NULL)
    return;
  /* Seconds from the genesis start (the run begins a second before it). */
  int64_t t = (int64_t)s->now - (int64_t)(SIM_START_S * 1000000);
  uint64_t a = (uint64_t)(t < 0 ? -t : t);
  fprintf(s->opt->trace, "%s%5llu.%06llu slot %-6llu ", t < 0 ? "-" : " ",
          (unsigned long long)(a / 1000000), (unsigned long long)(a % 1000000),
          (unsigned long long)sim_slot_of(s, s->now));
  va_list ap;
  va_start(ap, fmt);
  vfprintf(s->opt->trace, fmt, ap);
  va_end(ap);
  fputc('\n', s->opt->trace);
}

void sim_fail(sim *s, int rc, const char *fmt, ...) {
  if (s->failed)
    return;
  s->failed = true;
  va_list ap;
  va_start(ap, fmt);
  char msg[sizeof s->fatal.message];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cdl_error_set(&s->fatal, rc, 0, "%s", msg);
}

void sim_violation(sim *s, cdl_sim_property p, uint64_t slot, const char *fmt, ...) {
  cdl_sim_verdict *v = &s->rep->property[p];
  if (!v->held)
    return; /* the first violation is the one reported */
  v->held = false;
  v->slot = slot;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->why, sizeof v->why, fmt, ap);
  va_end(ap);
  sim_trace(s, "VIOLATION %s: %s", cdl_sim_property_name(p), v->why);
}

/* ---- Actions: a binary heap by (at, seq) ---- */

static bool act_before(const void *x, const void *y) {
  const sim_action *a = x, *b = y;
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void sim_schedule(sim *s, uint64_t at, sim_action_kind kind, size_t node, const cdl_sim_fault *f) {
  if (s->n_acts == s->cap_acts) {
    size_t cap = s->cap_acts ? 2 * s->cap_acts : 256;
    sim_action *grown = realloc(s->acts, cap * sizeof *grown);
    if (grown == NULL)
      return sim_fail(s, CDL_E_NOMEM, "out of memory scheduling");
    s->acts = grown, s->cap_acts = cap;
  }
  s->acts[s->n_acts++] =
      (sim_action){.at = at, .seq = s->seq++, .kind = kind, .node = node, .fault = f};
  sim_heap_up(s->acts, s->n_acts, sizeof *s->acts, act_before);
}

static sim_action pop_action(sim *s) {
  sim_action top = s->acts[0];
  s->acts[0] = s->acts[--s->n_acts];
  sim_heap_down(s->acts, s->n_acts, sizeof *s->acts, act_before);
  return top;
}

static void run_action(sim *s, const sim_action *a) {
  switch (a->kind) {
  case SIM_ACT_JOIN:
  case SIM_ACT_RESTART:
    sim_node_restart(s, a->node);
    break;
  case SIM_ACT_CRASH:
    sim_node_crash(s, a->node, a->fault);
    break;
  case SIM_ACT_DISCONNECT:
    sim_trace(s, "%s: every connection ends", s->n[a->node].name);
    sim_net_end_links_of(s, a->node, CDL_PEER_END_IO);
    break;
  case SIM_ACT_PARTITION:
    sim_net_partition(s, a->fault);
    break;
  case SIM_ACT_HEAL:
    s->partition = NULL;
    sim_trace(s, "the partition heals");
    break;
  case SIM_ACT_DISK_LIMITS:
    sim_node_set_disk_limits(s, a->node, a->fault, sim_slot_of(s, s->now) < a->fault->b);
    break;
  case SIM_ACT_DROP_TICK:
    sim_net_drop_tick(s, a->fault);
    break;
  case SIM_ACT_SLOT_CHECK:
    sim_check_slot(s, sim_slot_of(s, s->now));
    if (sim_slot_of(s, s->now) + 1 < s->sc->slots)
      sim_schedule(s, sim_slot_start(s, sim_slot_of(s, s->now) + 1), SIM_ACT_SLOT_CHECK, 0, NULL);
    break;
  }
  for (size_t i = 0; i < s->n_nodes; i++)
    sim_net_drain(s, i);
}

/* ---- Payments ---- */

static void submit_tx(sim *s) {
  sim_tx *t = &s->txs[s->next_tx++];
  sim_node *n = &s->n[t->node];
  if (!n->up) { /* its wallet waits for it: the next honest node that is up
                   takes it */
    for (size_t k = 1; k < s->n_nodes && !n->up; k++) {
      sim_node *o = &s->n[(t->node + k) % s->n_nodes];
      if (o->honest && o->up)
        n = o;
    }
    if (!n->up)
      return;
  }
  cdl_rejection rej = {0};
  sim_node_touch(s, n->index);
  if (cdl_node_submit(n->node, t->gentx.data, t->gentx.len, &rej) != CDL_OK) {
    sim_trace(s, "%s refused payment %zu: %s", n->name, s->next_tx - 1, rej.rule ? rej.rule : "?");
    return;
  }
  t->submitted = true;
  t->taken_by = n->index;
  n->txs_submitted++;
  s->rep->txs_submitted++;
  sim_trace(s, "%s takes payment %zu", n->name, s->next_tx - 1);
  sim_net_drain(s, n->index);
}

static int schedule_txs(sim *s) {
  s->n_txs = s->sc->txs;
  s->txs = calloc(s->n_txs + 1, sizeof *s->txs);
  if (s->txs == NULL)
    return cdl_error_set(&s->fatal, CDL_E_NOMEM, 0, "out of memory");
  size_t honest = 0;
  for (size_t i = 0; i < s->n_nodes; i++)
    honest += s->n[i].honest;
  uint64_t span = s->sc->slots * 8 / 10;
  for (size_t i = 0; i < s->n_txs; i++) {
    sim_tx *t = &s->txs[i];
    uint64_t slot = 2 + i * span / s->n_txs;
    t->at = sim_slot_start(s, slot) + cdl_gen_rng_below(&s->rng, s->slot_us);
    size_t pick = (size_t)cdl_gen_rng_below(&s->rng, honest);
    for (size_t j = 0; j < s->n_nodes; j++)
      if (s->n[j].honest && pick-- == 0)
        t->node = j;
    cdl_gen_genesis_payment(&s->gen, i, i + 1, 5000000 + i, &t->gentx, t->id);
  }
  s->txs[s->n_txs].at = UINT64_MAX;
  return CDL_OK;
}

/* ---- The loop ---- */

typedef enum { EV_NONE, EV_MSG, EV_TICK, EV_TX, EV_ACT } ev_kind;

/* One event: the earliest before the end; false when none is left. */
static bool step(sim *s) {
  ev_kind kind = EV_NONE;
  uint64_t at = UINT64_MAX, t;
  size_t node = 0;
  if (s->n_acts > 0)
    at = s->acts[0].at, kind = EV_ACT;
  if (sim_net_next_msg(s, &t) && t < at)
    at = t, kind = EV_MSG;
  if (s->txs[s->next_tx].at < at)
    at = s->txs[s->next_tx].at, kind = EV_TX;
  for (size_t i = 0; i < s->n_nodes; i++) {
    uint64_t d = sim_node_deadline(s, i);
    if (d < at)
      at = d, node = i, kind = EV_TICK;
  }
  if (kind == EV_NONE || at >= s->end)
    return false;
  if (at > s->now)
    s->now = at;
  s->rep->events++;
  if (kind == EV_ACT) {
    sim_action a = pop_action(s);
    run_action(s, &a);
  } else if (kind == EV_MSG) {
    sim_net_deliver_next(s);
  } else if (kind == EV_TX) {
    submit_tx(s);
  } else {
    sim_node_tick(s, node);
  }
  return true;
}

static void schedule_faults(sim *s) {
  for (size_t i = 0; i < s->sc->n_faults; i++) {
    const cdl_sim_fault *f = &s->sc->fault[i];
    uint64_t a = sim_slot_start(s, f->a) + (uint64_t)f->at_ms * 1000, b = sim_slot_start(s, f->b);
    uint64_t end = f->kind == CDL_SIM_CRASH || f->kind == CDL_SIM_DISCONNECT ? a : b;
    if (f->kind == CDL_SIM_CRASH && f->b > f->a)
      end = b;
    if (end > s->last_fault_end_us)
      s->last_fault_end_us = end;
    switch (f->kind) {
    case CDL_SIM_PARTITION:
      sim_schedule(s, a, SIM_ACT_PARTITION, 0, f);
      sim_schedule(s, b, SIM_ACT_HEAL, 0, f);
      break;
    case CDL_SIM_CRASH:
      sim_schedule(s, a, SIM_ACT_CRASH, f->node, f);
      break;
    case CDL_SIM_DISCONNECT:
      sim_schedule(s, a, SIM_ACT_DISCONNECT, f->node, f);
      break;
    case CDL_SIM_DISK_FULL:
    case CDL_SIM_DESCRIPTORS:
      sim_schedule(s, a, SIM_ACT_DISK_LIMITS, f->node, f);
      sim_schedule(s, b, SIM_ACT_DISK_LIMITS, f->node, f);
      break;
    case CDL_SIM_DROP:
      for (uint64_t slot = f->a; slot < f->b; slot++)
        sim_schedule(s, sim_slot_start(s, slot) + s->slot_us / 2, SIM_ACT_DROP_TICK, 0, f);
      break;
    case CDL_SIM_LINK_DOWN: /* judged at each send (sim_net.c) */
      break;
    }
  }
}

static void free_sim(sim *s) {
  sim_node_close_all(s);
  sim_net_free(s);
  for (size_t i = 0; i < s->n_txs; i++)
    cdl_buf_free(&s->txs[i].gentx);
  free(s->txs);
  free(s->acts);
  free(s->signed_);
  free(s->forbidden);
  free(s->n);
  if (s->has_gen)
    cdl_gen_dir_free(&s->gen);
}

static void start(sim *s) {
  for (size_t i = 0; i < s->n_nodes; i++) {
    uint64_t join = s->n[i].spec->join_slot;
    if (join == 0) {
      sim_node_restart(s, i);
    } else {
      sim_schedule(s, sim_slot_start(s, join), SIM_ACT_JOIN, i, NULL);
      if (sim_slot_start(s, join) > s->last_fault_end_us)
        s->last_fault_end_us = sim_slot_start(s, join);
    }
  }
  schedule_faults(s);
  sim_schedule(s, sim_slot_start(s, 0), SIM_ACT_SLOT_CHECK, 0, NULL);
  for (size_t i = 0; i < s->n_nodes; i++)
    sim_net_drain(s, i);
}

int cdl_sim_run(const cdl_sim_scenario *sc, const cdl_sim_options *o, cdl_sim_report *rep,
                cdl_error *err) {
  CDL_TRY(cdl_sim_scenario_check(sc, err));
  static const cdl_sim_options none = {0};
  sim *s = calloc(1, sizeof *s);
  if (s == NULL)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  memset(rep, 0, sizeof *rep);
  for (int p = 0; p < CDL_SIM_PROP_COUNT; p++)
    rep->property[p].held = true;
  snprintf(rep->scenario, sizeof rep->scenario, "%s", sc->name);
  rep->seed = sc->seed, rep->slots = sc->slots;
  *s = (sim){.sc = sc, .opt = o ? o : &none, .rep = rep, .slot_us = sc->slot_ms * 1000ull};
  s->now = SIM_START_S * 1000000 - 1000000; /* a second before slot 0 */
  s->end = sim_slot_start(s, sc->slots);
  cdl_gen_rng_seed(&s->rng, sc->seed);
  cdl_blake2b_256_init(&s->digest);
  int rc = sim_nodes_create(s);
  if (rc == CDL_OK)
    rc = schedule_txs(s);
  if (rc == CDL_OK) {
    start(s);
    while (!s->failed && step(s))
      if (rep->events > SIM_MAX_EVENTS)
        sim_fail(s, CDL_E_LIMIT, "the simulation does not settle");
    if (!s->failed)
      sim_check_final(s);
    cdl_blake2b_256_final(&s->digest, rep->digest);
  }
  if (s->failed && rc == CDL_OK)
    rc = s->fatal.code ? s->fatal.code : CDL_E_IO;
  if (rc != CDL_OK)
    *err = s->fatal;
  free_sim(s);
  rep->ok = true;
  for (int p = 0; p < CDL_SIM_PROP_COUNT; p++)
    rep->ok &= rep->property[p].held;
  free(s);
  return rc;
}
