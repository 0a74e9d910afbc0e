/*
 * serve.c: the listeners of the libuv server, TCP for node-to-node and a
 * Unix socket for node-to-client, and the server's life cycle
 * (include/cardinal/io.h; docs/network.md "Driver"). The connections are
 * in conn.c; the sockets are bound by listen.c (one owner per socket).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

uint64_t cdl_io_now_us(void) { return uv_hrtime() / 1000; }

void io_server_maybe_free(cdl_io_server *s) {
  if (!s->stopping || s->handles_open > 0 || s->conns != NULL) return;
  free(s);
}

static void on_connection(uv_stream_t *listener, int status) {
  cdl_io_server *s = listener->data;
  if (status < 0) return io_limits_accept_failed(&s->lim, status, s->cfg.log, "serve");
  io_conn_accept(s, listener, listener == (uv_stream_t *)&s->pipe);
}

static int listen_tcp(cdl_io_server *s, cdl_error *err) {
  uv_tcp_init(s->loop, &s->tcp);
  s->tcp.data = s;
  s->has_tcp = true;
  s->handles_open++;
  return io_tcp_listen(&s->tcp, s->cfg.host, s->cfg.port, on_connection, &s->port, err);
}

static int listen_pipe(cdl_io_server *s, cdl_error *err) {
  uv_pipe_init(s->loop, &s->pipe, 0);
  s->pipe.data = s;
  s->has_pipe = true;
  s->handles_open++;
  return io_unix_claim(&s->pipe, s->cfg.socket_path, on_connection, &s->unix_path, err);
}

int cdl_io_server_start(uv_loop_t *loop, const cdl_io_server_config *cfg, cdl_io_server **out,
                        cdl_error *err) {
  *out = NULL;
  if (cfg->db == NULL || (cfg->host == NULL && cfg->socket_path == NULL))
    return cdl_error_set(err, CDL_E_USAGE, 0, "serve: a database and a listener are needed");
  cdl_io_server *s = calloc(1, sizeof *s);
  if (s == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "serve: out of memory");
  signal(SIGPIPE, SIG_IGN); /* a peer gone mid-write costs its connection, not the process */
  s->loop = loop;
  s->cfg = *cfg;
  s->write_timeout_us = cfg->write_timeout_ms ? cfg->write_timeout_ms * 1000 : IO_WRITE_TIMEOUT_US;
  io_limits_plan(&s->lim, cfg->max_connections, cfg->max_local_connections, 0,
                 cfg->log, "serve");
  int rc = cfg->host ? listen_tcp(s, err) : CDL_OK;
  if (rc == CDL_OK && cfg->socket_path) rc = listen_pipe(s, err);
  if (rc != CDL_OK) {
    cdl_io_server_stop(s);
    return rc;
  }
  cdl_log(cfg->log, CDL_LOG_INFO, "serve", "listening", "tcp %s:%u, socket %s",
          cfg->host ? cfg->host : "-", s->port, cfg->socket_path ? cfg->socket_path : "-");
  *out = s;
  return CDL_OK;
}

uint16_t cdl_io_server_port(const cdl_io_server *s) { return s->port; }

cdl_io_server_stats cdl_io_server_stats_get(const cdl_io_server *s) {
  cdl_io_server_stats st = s->st;
  st.refused_over_limit = s->lim.refused_n2n;
  st.refused_local = s->lim.refused_local;
  st.accept_failed = s->lim.accept_failed;
  return st;
}

uint64_t io_mempool_version(const cdl_io_server *s) {
  return s->cfg.mempool ? cdl_mempool_changes(s->cfg.mempool) : 0;
}

void cdl_io_server_chain_changed(cdl_io_server *s) {
  if (s->cfg.mempool != NULL &&
      cdl_mempool_sync(s->cfg.mempool, cdl_chaindb_ledger(s->cfg.db), 0) != CDL_OK)
    cdl_log(s->cfg.log, CDL_LOG_WARN, "serve", "mempool.sync_failed",
            "out of memory: the mempool was emptied");
  io_server_wake_all(s);
}

void io_server_wake_all(cdl_io_server *s) {
  io_conn *next;
  for (io_conn *c = s->conns; c != NULL; c = next) {
    next = c->next; /* waking may close (not yet free) the connection */
    io_conn_wake(c);
  }
}

static void on_listener_close(uv_handle_t *h) {
  cdl_io_server *s = h->data;
  s->handles_open--;
  io_server_maybe_free(s);
}

void cdl_io_server_stop(cdl_io_server *s) {
  if (s->stopping) return;
  s->stopping = true;
  if (s->has_tcp) uv_close((uv_handle_t *)&s->tcp, on_listener_close);
  if (s->has_pipe) uv_close((uv_handle_t *)&s->pipe, on_listener_close);
  io_unix_release(&s->unix_path);
  for (io_conn *c = s->conns; c != NULL; c = c->next) io_conn_close(c, false, "server stopping");
  io_server_maybe_free(s);
}
