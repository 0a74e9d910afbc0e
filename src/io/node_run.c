/*
 * node_run.c: the libuv driver of the node kernel (include/cardinal/io.h
 * "Running a node"; docs/node.md "Running"): the loop, the listeners, the
 * kernel's timer, the signals and the dialling of upstream peers. Each
 * socket is a link (node_link.c).
 *
 * After every event the driver pumps: it takes each connection the kernel
 * marked (cdl_node_next_dirty), writes what it has and closes it if it
 * ended, stops the run if the node failed, dials the peers that are due,
 * and sets the one timer to the earlier of the kernel's deadline and the
 * peer set's. The kernel's time is the wall clock, since slots are wall
 * time from the genesis start.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node_io.h"

#define LISTEN_BACKLOG 128

uint64_t cdl_io_wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t nd_now(void) { return cdl_io_wall_us(); }

static void on_timer(uv_timer_t *t);

static void arm_timer(nd_run *r) {
  uint64_t d = cdl_node_deadline(r->cfg.node);
  uint64_t p = r->cfg.peers ? cdl_peers_deadline(r->cfg.peers) : UINT64_MAX;
  if (p < d) d = p;
  if (d == UINT64_MAX) return (void)uv_timer_stop(&r->timer);
  uint64_t now = nd_now();
  /* Rounded up: a timer that fires early would only tick for nothing. */
  uint64_t ms = d > now ? (d - now + 999) / 1000 : 0;
  uv_timer_start(&r->timer, on_timer, ms, 0);
}

static void dial_due(nd_run *r) {
  size_t i;
  while (r->cfg.peers && cdl_peers_next_dial(r->cfg.peers, nd_now(), &i)) nd_link_dial(r, i);
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
  dial_due(r);
  arm_timer(r);
}

static void on_timer(uv_timer_t *t) {
  nd_run *r = t->data;
  cdl_error err = {0};
  (void)cdl_node_tick(r->cfg.node, nd_now(), &err); /* a failure is latched: the pump stops */
  for (nd_link *l = r->links; l != NULL; l = l->next) nd_link_rtt(l);
  nd_pump(r);
}

static void on_connection(uv_stream_t *listener, int status) {
  nd_run *r = listener->data;
  if (status < 0) {
    cdl_log(r->cfg.log, CDL_LOG_WARN, "node", "accept.failed", "%s", uv_strerror(status));
    return;
  }
  nd_link_accept(r, listener, listener == (uv_stream_t *)&r->pipe);
  nd_pump(r);
}

static int listen_tcp(nd_run *r, cdl_error *err) {
  char service[8];
  snprintf(service, sizeof service, "%u", r->cfg.port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  uv_getaddrinfo_t req;
  int rc = uv_getaddrinfo(&r->loop, &req, NULL, r->cfg.host, service, &hints);
  if (rc != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot resolve %s: %s", r->cfg.host, uv_strerror(rc));
  uv_tcp_init(&r->loop, &r->tcp);
  r->tcp.data = r;
  r->has_tcp = true;
  rc = uv_tcp_bind(&r->tcp, req.addrinfo->ai_addr, 0);
  uv_freeaddrinfo(req.addrinfo);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&r->tcp, LISTEN_BACKLOG, on_connection);
  if (rc != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s port %u: %s", r->cfg.host,
                         r->cfg.port, uv_strerror(rc));
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&r->tcp, (struct sockaddr *)&bound, &len);
  r->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
  return CDL_OK;
}

/* A socket file left by a node that stopped is removed; anything else at
 * that path is left alone and refused. */
static int listen_pipe(nd_run *r, cdl_error *err) {
  const char *path = r->cfg.socket_path;
  if (strlen(path) >= 108)
    return cdl_error_set(err, CDL_E_USAGE, 0, "socket path longer than 107 bytes");
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return cdl_error_set(err, CDL_E_IO, 0, "%s exists and is not a socket", path);
    unlink(path);
  }
  uv_pipe_init(&r->loop, &r->pipe, 0);
  r->pipe.data = r;
  r->has_pipe = true;
  int rc = uv_pipe_bind(&r->pipe, path);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&r->pipe, LISTEN_BACKLOG, on_connection);
  if (rc != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s: %s", path, uv_strerror(rc));
  return CDL_OK;
}

static void on_signal(uv_signal_t *h, int signum) {
  nd_run *r = h->data;
  cdl_log(r->cfg.log, CDL_LOG_INFO, "node", "stopping", "signal %d", signum);
  nd_stop(r, CDL_OK, NULL);
}

static void on_metrics_timer(uv_timer_t *t) { nd_metrics_refresh(t->data); }

void nd_stop(nd_run *r, int rc, const cdl_error *why) {
  if (r->stopping) return;
  r->stopping = true;
  r->rc = rc;
  if (why != NULL) r->err = *why;
  if (r->has_tcp) uv_close((uv_handle_t *)&r->tcp, NULL);
  if (r->has_pipe) {
    uv_close((uv_handle_t *)&r->pipe, NULL);
    unlink(r->cfg.socket_path);
  }
  uv_close((uv_handle_t *)&r->timer, NULL);
  uv_close((uv_handle_t *)&r->metrics_timer, NULL);
  uv_close((uv_handle_t *)&r->sigint, NULL);
  uv_close((uv_handle_t *)&r->sigterm, NULL);
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
  uv_timer_init(&r->loop, &r->timer);
  uv_timer_init(&r->loop, &r->metrics_timer);
  uv_signal_init(&r->loop, &r->sigint);
  uv_signal_init(&r->loop, &r->sigterm);
  r->timer.data = r->metrics_timer.data = r->sigint.data = r->sigterm.data = r;
  uv_signal_start(&r->sigint, on_signal, SIGINT);
  uv_signal_start(&r->sigterm, on_signal, SIGTERM);
  int rc = r->cfg.host ? listen_tcp(r, err) : CDL_OK;
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

int cdl_io_node_run(const cdl_io_node_config *cfg, cdl_error *err) {
  if (cfg->node == NULL || cfg->db == NULL)
    return cdl_error_set(err, CDL_E_USAGE, 0, "node run: a node and its ChainDB are needed");
  nd_run *r = calloc(1, sizeof *r);
  if (r == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "node run: out of memory");
  r->cfg = *cfg;
  if (r->cfg.max_connections == 0) r->cfg.max_connections = IO_DEFAULT_MAX_CONNECTIONS;
  cdl_buf_init(&r->sdu, 0);
  cdl_buf_init(&r->metrics_text, 0);
  uv_loop_init(&r->loop);
  int rc = start(r, err);
  if (rc != CDL_OK)
    nd_stop(r, rc, err);
  else
    nd_pump(r);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  nd_metrics_stop(r);
  uv_loop_close(&r->loop);
  rc = r->rc;
  if (rc != CDL_OK && err->code == CDL_OK) *err = r->err;
  cdl_buf_free(&r->sdu);
  cdl_buf_free(&r->metrics_text);
  free(r);
  return rc;
}
