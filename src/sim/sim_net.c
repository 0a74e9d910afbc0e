/*
 * sim_net.c: the simulated network (docs/simulation.md "Network").
 *
 * A link is one TCP connection: node |from| dialled node |to|, whose
 * kernel took it as inbound from |from|'s listening address (so two
 * nodes that list each other share it, full duplex). A dial connects at
 * once when the node dialled is up and no partition separates the two;
 * otherwise it fails at once and the dialler's peer selection backs off.
 * A message leaves when the sending kernel has it and arrives after the
 * scenario's latency plus a seeded jitter, never before an earlier
 * message the same way (TCP keeps order). A one-way link fault holds
 * what is sent that way until it ends (a stalled path: TCP retransmits
 * until it is back); the kernels' time limits may end the connection
 * first. A partition ends every connection across it when it begins and
 * refuses dials across it until it heals; a connection drop ends
 * connections at random. An ended connection's bytes in flight are lost.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static bool msg_before(const void *x, const void *y) {
  const sim_msg *a = x, *b = y;
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(sim *s, const sim_msg *m) {
  if (s->n_heap == s->cap_heap) {
    size_t cap = s->cap_heap ? 2 * s->cap_heap : 256;
    sim_msg *grown = realloc(s->heap, cap * sizeof *grown);
    if (grown == NULL) {
      cdl_buf bytes = m->bytes;
      cdl_buf_free(&bytes);
      return sim_fail(s, CDL_E_NOMEM, "out of memory sending");
    }
    s->heap = grown, s->cap_heap = cap;
  }
  s->heap[s->n_heap++] = *m;
  sim_heap_up(s->heap, s->n_heap, sizeof *s->heap, msg_before);
}

static sim_msg heap_pop(sim *s) {
  sim_msg top = s->heap[0];
  s->heap[0] = s->heap[--s->n_heap];
  sim_heap_down(s->heap, s->n_heap, sizeof *s->heap, msg_before);
  return top;
}

bool sim_net_next_msg(const sim *s, uint64_t *at) {
  if (s->n_heap == 0)
    return false;
  *at = s->heap[0].at;
  return true;
}

bool sim_net_cut(const sim *s, size_t a, size_t b) {
  return s->partition != NULL && s->partition->group[a] != s->partition->group[b];
}

/* The end of a one-way fault holding what |from| sends |to| now; 0: none. */
static uint64_t held_until(const sim *s, size_t from, size_t to) {
  uint64_t slot = sim_slot_of(s, s->now), until = 0;
  for (size_t i = 0; i < s->sc->n_faults; i++) {
    const cdl_sim_fault *f = &s->sc->fault[i];
    if (f->kind == CDL_SIM_LINK_DOWN && f->node == from && f->other == to && slot >= f->a &&
        slot < f->b && sim_slot_start(s, f->b) > until)
      until = sim_slot_start(s, f->b);
  }
  return until;
}

static void send_bytes(sim *s, size_t link, int dir, const cdl_buf *b) {
  sim_link *l = &s->links[link];
  size_t from = dir == 0 ? l->from : l->to, to = dir == 0 ? l->to : l->from;
  uint64_t at = s->now + s->sc->latency_us + cdl_gen_rng_below(&s->rng, s->sc->jitter_us + 1);
  uint64_t held = held_until(s, from, to);
  if (held > at)
    at = held;
  if (at < l->last_at[dir])
    at = l->last_at[dir];
  l->last_at[dir] = at;
  sim_msg m = {.at = at, .seq = s->seq++, .link = link, .dir = dir};
  cdl_buf_init(&m.bytes, b->len);
  cdl_buf_append(&m.bytes, b->data, b->len);
  if (m.bytes.failed)
    return sim_fail(s, CDL_E_NOMEM, "out of memory sending");
  heap_push(s, &m);
}

static sim_link *new_link(sim *s) {
  if (s->n_links == s->cap_links) {
    size_t cap = s->cap_links ? 2 * s->cap_links : 64;
    sim_link *grown = realloc(s->links, cap * sizeof *grown);
    if (grown == NULL)
      return sim_fail(s, CDL_E_NOMEM, "out of memory dialling"), NULL;
    s->links = grown, s->cap_links = cap;
  }
  sim_link *l = &s->links[s->n_links++];
  memset(l, 0, sizeof *l);
  return l;
}

/* The link and direction of node |node|'s connection |id|. */
static bool link_of(const sim *s, size_t node, cdl_node_conn_id id, size_t *link, int *dir) {
  for (size_t i = s->n_links; i-- > 0;) {
    const sim_link *l = &s->links[i];
    if (l->closed)
      continue;
    if (l->from == node && l->out_id == id)
      return *link = i, *dir = 0, true;
    if (l->to == node && l->in_id == id)
      return *link = i, *dir = 1, true;
  }
  return false;
}

/* Closes both ends of a link: each kernel hears how its socket ended
 * (one that ended it judges by its own verdict). */
static void close_link(sim *s, sim_link *l, cdl_peer_end why) {
  if (l->closed)
    return;
  l->closed = true;
  sim_node_touch(s, l->from);
  sim_node_touch(s, l->to);
  if (s->n[l->from].up)
    cdl_node_conn_close(s->n[l->from].node, l->out_id, why, sim_node_now(s, l->from));
  if (s->n[l->to].up)
    cdl_node_conn_close(s->n[l->to].node, l->in_id, why, sim_node_now(s, l->to));
}

/* A connection node |i|'s kernel ended (a violation, an invalid block, a
 * time limit, a refused handshake). */
static void conn_ended(sim *s, size_t i, cdl_node_conn_id id, int rc, const cdl_error *err) {
  size_t link;
  int dir;
  if (!link_of(s, i, id, &link, &dir))
    return;
  sim_link *l = &s->links[link];
  size_t other = dir == 0 ? l->to : l->from;
  sim_trace(s, "%s ends its connection with %s (%d): %s", s->n[i].name, s->n[other].name, rc,
            err->message);
  close_link(s, l, CDL_PEER_END_IO);
}

static void dial(sim *s, size_t a, size_t peer, const cdl_peer *p) {
  size_t b = p->port;
  sim_node *na = &s->n[a];
  na->dials++;
  uint64_t now = sim_node_now(s, a);
  if (b >= s->n_nodes || !s->n[b].up || sim_net_cut(s, a, b) || b == a) {
    cdl_node_dial_failed(na->node, peer, now);
    return;
  }
  sim_link *l = new_link(s);
  if (l == NULL)
    return;
  l->from = a, l->to = b;
  cdl_error err = {0};
  if (cdl_node_dialled(na->node, peer, now, &l->out_id, &err) != CDL_OK ||
      cdl_node_conn_open(s->n[b].node, CDL_NODE_INBOUND, sim_node_now(s, b), &l->in_id, &err) !=
          CDL_OK)
    return sim_fail(s, CDL_E_NOMEM, "dial %s -> %s: %s", na->name, s->n[b].name, err.message);
  cdl_node_conn_set_remote(s->n[b].node, l->in_id, "sim", (uint16_t)a);
  sim_node_touch(s, b);
  na->connections++;
  sim_trace(s, "%s connects to %s", na->name, s->n[b].name);
}

/* The dials node |i| is due, then everything it has to say. */
void sim_net_drain(sim *s, size_t i) {
  sim_node *n = &s->n[i];
  sim_node_touch(s, i);
  if (!n->up || s->failed)
    return;
  size_t peer;
  const cdl_peer *p;
  while (n->up && cdl_node_next_dial(n->node, sim_node_now(s, i), &peer, &p))
    dial(s, i, peer, p);
  cdl_node_conn_id id;
  cdl_buf out;
  cdl_buf_init(&out, 0);
  while (n->up && cdl_node_next_dirty(n->node, &id)) {
    int rc;
    cdl_error err = {0};
    if (cdl_node_conn_result(n->node, id, &rc, &err)) {
      conn_ended(s, i, id, rc, &err);
      continue;
    }
    size_t link;
    int dir;
    if (!link_of(s, i, id, &link, &dir))
      continue;
    cdl_buf_reset(&out);
    while (cdl_node_conn_next_sdu(n->node, id, sim_node_now(s, i), &out)) {
    }
    if (out.len > 0)
      send_bytes(s, link, dir, &out);
  }
  cdl_buf_free(&out);
}

void sim_net_deliver_next(sim *s) {
  sim_msg m = heap_pop(s);
  sim_link *l = &s->links[m.link];
  if (!l->closed) {
    size_t to = m.dir == 0 ? l->to : l->from;
    cdl_node_conn_id id = m.dir == 0 ? l->in_id : l->out_id;
    uint64_t head[3] = {m.at, m.link, (uint64_t)m.dir};
    cdl_blake2b_update(&s->digest, (const uint8_t *)head, sizeof head);
    cdl_blake2b_update(&s->digest, m.bytes.data, m.bytes.len);
    s->rep->deliveries++;
    s->rep->bytes += m.bytes.len;
    cdl_error err = {0};
    int rc =
        cdl_node_conn_recv(s->n[to].node, id, m.bytes.data, m.bytes.len, sim_node_now(s, to), &err);
    if (rc != CDL_OK)
      conn_ended(s, to, id, rc, &err);
    sim_net_drain(s, to);
  }
  cdl_buf_free(&m.bytes);
}

void sim_net_end_links_of(sim *s, size_t i, cdl_peer_end why) {
  for (size_t k = 0; k < s->n_links; k++)
    if (s->links[k].from == i || s->links[k].to == i)
      close_link(s, &s->links[k], why);
}

void sim_net_partition(sim *s, const cdl_sim_fault *f) {
  s->partition = f;
  sim_trace(s, "a partition begins");
  for (size_t k = 0; k < s->n_links; k++)
    if (sim_net_cut(s, s->links[k].from, s->links[k].to))
      close_link(s, &s->links[k], CDL_PEER_END_IO);
}

void sim_net_drop_tick(sim *s, const cdl_sim_fault *f) {
  for (size_t k = 0; k < s->n_links; k++) {
    sim_link *l = &s->links[k];
    if (l->closed)
      continue;
    if (cdl_gen_rng_below(&s->rng, 1000000) >= (uint64_t)(f->rate * 1000000))
      continue;
    sim_trace(s, "the connection %s -> %s drops", s->n[l->from].name, s->n[l->to].name);
    close_link(s, l, CDL_PEER_END_IO);
  }
}

void sim_net_free(sim *s) {
  for (size_t i = 0; i < s->n_heap; i++)
    cdl_buf_free(&s->heap[i].bytes);
  free(s->heap);
  free(s->links);
}
