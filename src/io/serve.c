/*
 * serve.c: the listeners of the libuv server, TCP for node-to-node and a
 * Unix socket for node-to-client, and the server's life cycle
 * (include/cardinal/io.h; docs/network.md "Driver"). The connections are
 * in conn.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

#define LISTEN_BACKLOG 128

uint64_t cdl_io_now_us(void) { return uv_hrtime() / 1000; }

void io_server_maybe_free(cdl_io_server *s) {
  if (!s->stopping || s->handles_open > 0 || s->conns != NULL) return;
  free(s);
}

static void on_connection(uv_stream_t *listener, int status) {
  cdl_io_server *s = listener->data;
  if (status < 0) {
    cdl_log(s->cfg.log, CDL_LOG_WARN, "serve", "accept.failed", "%s", uv_strerror(status));
    return;
  }
  io_conn_accept(s, listener, listener == (uv_stream_t *)&s->pipe);
}

/* The first address |host| resolves to, with |port|. */
static int resolve(uv_loop_t *loop, const char *host, uint16_t port, struct sockaddr_storage *out,
                   cdl_error *err) {
  char service[8];
  snprintf(service, sizeof service, "%u", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  uv_getaddrinfo_t req;
  int rc = uv_getaddrinfo(loop, &req, NULL, host, service, &hints); /* no callback: synchronous */
  if (rc != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot resolve %s: %s", host, uv_strerror(rc));
  memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  return CDL_OK;
}

static int listen_tcp(cdl_io_server *s, cdl_error *err) {
  struct sockaddr_storage addr;
  int rc = resolve(s->loop, s->cfg.host, s->cfg.port, &addr, err);
  if (rc != CDL_OK) return rc;
  uv_tcp_init(s->loop, &s->tcp);
  s->tcp.data = s;
  s->has_tcp = true;
  s->handles_open++;
  if ((rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&addr, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&s->tcp, LISTEN_BACKLOG, on_connection)) != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s port %u: %s", s->cfg.host,
                         s->cfg.port, uv_strerror(rc));
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &len);
  s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
  return CDL_OK;
}

/* A socket file left by a node that stopped is removed; anything else at
 * that path is left alone and refused. */
static int clear_stale_socket(const char *path, cdl_error *err) {
  struct stat st;
  if (lstat(path, &st) != 0) return CDL_OK;
  if (!S_ISSOCK(st.st_mode))
    return cdl_error_set(err, CDL_E_IO, 0, "%s exists and is not a socket", path);
  unlink(path);
  return CDL_OK;
}

static int listen_pipe(cdl_io_server *s, cdl_error *err) {
  if (strlen(s->cfg.socket_path) >= sizeof s->socket_path)
    return cdl_error_set(err, CDL_E_USAGE, 0, "socket path longer than %zu bytes",
                         sizeof s->socket_path - 1);
  int rc = clear_stale_socket(s->cfg.socket_path, err);
  if (rc != CDL_OK) return rc;
  snprintf(s->socket_path, sizeof s->socket_path, "%s", s->cfg.socket_path);
  uv_pipe_init(s->loop, &s->pipe, 0);
  s->pipe.data = s;
  s->has_pipe = true;
  s->handles_open++;
  if ((rc = uv_pipe_bind(&s->pipe, s->socket_path)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&s->pipe, LISTEN_BACKLOG, on_connection)) != 0) {
    s->socket_path[0] = '\0';
    return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s: %s", s->cfg.socket_path,
                         uv_strerror(rc));
  }
  return CDL_OK;
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
  if (s->cfg.max_connections == 0) s->cfg.max_connections = IO_DEFAULT_MAX_CONNECTIONS;
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

cdl_io_server_stats cdl_io_server_stats_get(const cdl_io_server *s) { return s->st; }

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
  if (s->socket_path[0]) unlink(s->socket_path);
  for (io_conn *c = s->conns; c != NULL; c = c->next) io_conn_close(c, false, "server stopping");
  io_server_maybe_free(s);
}
