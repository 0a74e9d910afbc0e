/*
 * node_run.c: the libuv driver of the node kernel (include/cardinal/io.h
 * "Running a node"; docs/node.md "Running"): the loop, the listeners, the
 * kernel's timer, the signals and the dialling of upstream peers. Each
 * socket is a link (node_link.c).
 *
 * After every event the driver pumps: it takes each connection the kernel
 * marked (cdl_node_next_dirty), writes what it has and closes it if it
 * ended, stops the run if the node failed, dials the peers the kernel
 * names (its peer selection: cdl_node_next_dial), and sets the one timer
 * to the kernel's deadline. The kernel's time is the wall clock, since slots are wall
 * time from the genesis start.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node_io.h"

uint64_t cdl_io_wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

unsigned cdl_io_default_threads(void) {
  unsigned n = uv_available_parallelism();
  return n < 1 ? 1 : n > 64 ? 64 : n;
}

uint64_t nd_now(void) { return cdl_io_wall_us(); }

uint64_t cdl_io_now_us(void) { return uv_hrtime() / 1000; }

static void on_timer(uv_timer_t *t);

static void arm_timer(nd_run *r) {
  uint64_t d = cdl_node_deadline(r->cfg.node); /* the peers' too */
  if (d == UINT64_MAX) return (void)uv_timer_stop(&r->timer);
  uint64_t now = nd_now();
  /* Rounded up: a timer that fires early would only tick for nothing. */
  uint64_t ms = d > now ? (d - now + 999) / 1000 : 0;
  uv_timer_start(&r->timer, on_timer, ms, 0);
}

/* The kernel names the peers to dial (its peer selection). */
static void dial_due(nd_run *r) {
  size_t i;
  const cdl_peer *p;
  while (!r->stopping && cdl_node_next_dial(r->cfg.node, nd_now(), &i, &p)) nd_link_dial(r, i, p);
}

void nd_pump(nd_run *r) {
  if (r->stopping) return;
  cdl_node_conn_id id;
  while (cdl_node_next_dirty(r->cfg.node, &id)) {
    nd_link *l = nd_link_find(r, id);
    if (l != NULL) nd_link_flush(l);
  }
  cdl_error why = {0};
  if (cdl_node_failed(r->cfg.node, &why)) return nd_stop(r, why.code, &why);
  int rc = CDL_OK;
  if (r->cfg.done && r->cfg.done(r->cfg.ctx, r->cfg.node, &rc, &why)) return nd_stop(r, rc, &why);
  dial_due(r);
  arm_timer(r);
}

static void on_timer(uv_timer_t *t) {
  nd_run *r = t->data;
  cdl_error err = {0};
  (void)cdl_node_tick(r->cfg.node, nd_now(), &err); /* a failure is latched: the pump stops */
  nd_pump(r);
}

static void on_connection(uv_stream_t *listener, int status) {
  nd_run *r = listener->data;
  if (status < 0) return io_limits_accept_failed(&r->lim, status, r->cfg.log, "node");
  nd_link_accept(r, listener, listener == (uv_stream_t *)&r->pipe);
  nd_pump(r);
}

static int listen_tcp(nd_run *r, cdl_error *err) {
  uv_tcp_init(r->loop, &r->tcp);
  r->tcp.data = r;
  r->has_tcp = true;
  CDL_TRY(io_tcp_listen(&r->tcp, r->cfg.host, r->cfg.port, on_connection, &r->listen_addr, err));
  r->port = io_port_of(&r->listen_addr);
  r->dial_from_listener = true; /* full duplex: peers recognise our dials */
  return CDL_OK;
}

static int listen_pipe(nd_run *r, cdl_error *err) {
  uv_pipe_init(r->loop, &r->pipe, 0);
  r->pipe.data = r;
  r->has_pipe = true;
  return io_unix_claim(&r->pipe, r->cfg.socket_path, on_connection, &r->unix_path, err);
}

static void on_stop_signal(void *ctx, int signum) {
  nd_run *r = ctx;
  cdl_log(r->cfg.log, CDL_LOG_INFO, "node", "stopping",
          "signal %d: closing connections, then the ChainDB and its ledger snapshot; a repeated "
          "signal is ignored, SIGKILL forces a stop",
          signum);
  nd_stop(r, CDL_OK, NULL);
}

static void on_metrics_timer(uv_timer_t *t) { nd_metrics_refresh(t->data); }

/* Writes that stopped: a peer that does not read loses its connection
 * (a second is fine-grained enough for a 30 s limit). */
static void on_sweep_timer(uv_timer_t *t) {
  nd_run *r = t->data;
  uint64_t now = cdl_io_now_us();
  nd_link *next;
  for (nd_link *l = r->links; l != NULL; l = next) {
    next = l->next; /* a close frees the link only in its callback, but be safe */
    nd_link_check_writes(l, now);
  }
}

void nd_stop(nd_run *r, int rc, const cdl_error *why) {
  if (r->stopping) return;
  r->stopping = true;
  r->rc = rc;
  if (why != NULL) r->err = *why;
  if (r->has_tcp) uv_close((uv_handle_t *)&r->tcp, NULL);
  io_unix_release(&r->unix_path);
  if (r->has_pipe) uv_close((uv_handle_t *)&r->pipe, NULL);
  uv_close((uv_handle_t *)&r->timer, NULL);
  uv_close((uv_handle_t *)&r->metrics_timer, NULL);
  uv_close((uv_handle_t *)&r->sweep_timer, NULL);
  cdl_io_stop_watch_close(&r->stop);
  nd_link *next;
  for (nd_link *l = r->links; l != NULL; l = next) {
    next = l->next; /* closing may free a link that has no socket */
    nd_link_close(l, CDL_PEER_END_CLEAN, "stopping");
  }
}

static int start(nd_run *r, cdl_error *err) {
  /* A peer that closes while we write must cost its connection (EPIPE),
   * not the process. */
  signal(SIGPIPE, SIG_IGN);
  uv_timer_init(r->loop, &r->timer);
  uv_timer_init(r->loop, &r->metrics_timer);
  uv_timer_init(r->loop, &r->sweep_timer);
  r->timer.data = r->metrics_timer.data = r->sweep_timer.data = r;
  uv_timer_start(&r->sweep_timer, on_sweep_timer, 1000, 1000);
  cdl_io_stop_catch("node");
  int rc = cdl_io_stop_watch_start(r->loop, &r->stop, on_stop_signal, r, err);
  if (rc == CDL_OK && r->cfg.host) rc = listen_tcp(r, err);
  if (rc == CDL_OK && r->cfg.socket_path) rc = listen_pipe(r, err);
  if (rc == CDL_OK && r->cfg.metrics_port) rc = nd_metrics_start(r, err);
  if (rc != CDL_OK) return rc;
  nd_metrics_refresh(r);
  if (r->cfg.metrics_port) uv_timer_start(&r->metrics_timer, on_metrics_timer, 1000, 1000);
  cdl_log(r->cfg.log, CDL_LOG_INFO, "node", "listening", "tcp %s:%u, socket %s, metrics %u",
          r->cfg.host ? r->cfg.host : "-", r->port, r->cfg.socket_path ? r->cfg.socket_path : "-",
          r->cfg.metrics_port);
  if (r->cfg.on_ready) r->cfg.on_ready(r->cfg.ctx, r->port);
  return CDL_OK;
}

int cdl_io_node_start(uv_loop_t *loop, const cdl_io_node_config *cfg, cdl_io_node **out,
                      cdl_error *err) {
  *out = NULL;
  if (cfg->node == NULL || cfg->db == NULL)
    return cdl_error_set(err, CDL_E_USAGE, 0, "node run: a node and its ChainDB are needed");
  nd_run *r = calloc(1, sizeof *r);
  if (r == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "node run: out of memory");
  r->loop = loop;
  r->cfg = *cfg;
  r->write_timeout_us = cfg->write_timeout_ms ? cfg->write_timeout_ms * 1000 : IO_WRITE_TIMEOUT_US;
  size_t kept = cdl_node_peers(cfg->node)->n + (cfg->metrics_port ? ND_METRICS_FDS : 0);
  io_limits_plan(&r->lim, cfg->max_connections, cfg->max_local_connections, kept, cfg->log,
                 "node");
  cdl_buf_init(&r->sdu, 0);
  cdl_buf_init(&r->metrics_text, 0);
  *out = r;
  int rc = start(r, err);
  if (rc != CDL_OK)
    nd_stop(r, rc, err);
  else
    nd_pump(r);
  return rc;
}

uint16_t cdl_io_node_port(const cdl_io_node *r) { return r->port; }

void cdl_io_node_stop(cdl_io_node *r) { nd_stop(r, CDL_OK, NULL); }

int cdl_io_node_finish(cdl_io_node *r, cdl_error *err) {
  if (r == NULL) return CDL_OK;
  nd_metrics_stop(r);
  int rc = r->rc;
  if (rc != CDL_OK && err->code == CDL_OK) *err = r->err;
  cdl_buf_free(&r->sdu);
  cdl_buf_free(&r->metrics_text);
  free(r);
  return rc;
}

int cdl_io_node_run(const cdl_io_node_config *cfg, cdl_error *err) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  cdl_io_node *r = NULL;
  int rc = cdl_io_node_start(&loop, cfg, &r, err);
  if (r != NULL) uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  int result = cdl_io_node_finish(r, err);
  return r != NULL ? result : rc;
}
