/*
 * conn.c: one accepted connection of the libuv server: bytes read go to
 * the connection's responder engine, the engine's SDUs are written one
 * per uv_write, and a timer follows the engine's next deadline
 * (include/cardinal/io.h; docs/network.md "Driver").
 *
 * One SDU per write keeps each SDU in one segment on loopback, which
 * some third-party clients rely on (docs/network.md "Third-party
 * clients"). At most IO_WRITE_BOUND bytes wait in libuv per connection;
 * a peer that does not read stalls only itself, and is closed when its
 * writes make no progress for the write timeout (docs/network.md "Bounded
 * connections"). A violation closes at once, whatever is queued.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

static void service(io_conn *c);

static void on_close(uv_handle_t *h) {
  io_conn *c = h->data;
  if (--c->handles_open > 0) return;
  cdl_io_server *s = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  if (c->admitted) io_limits_release(&s->lim, c->local);
  cdl_n2n_server_del(c->engine);
  cdl_buf_free(&c->sdu);
  free(c);
  s->st.open--;
  io_server_maybe_free(s);
}

void io_conn_close(io_conn *c, bool violation, const char *why) {
  if (c->closing) return;
  c->closing = true;
  cdl_io_server *s = c->srv;
  if (violation)
    s->st.closed_violation++;
  else
    s->st.closed_clean++;
  cdl_log(s->cfg.log, violation ? CDL_LOG_WARN : CDL_LOG_INFO, "serve", "conn.closed", "%s: %s",
          c->peer, why);
  uv_read_stop(&c->h.stream);
  if (violation)
    io_close_fault(&c->h.handle, !c->local, on_close);
  else
    uv_close(&c->h.handle, on_close);
  uv_close((uv_handle_t *)&c->timer, on_close);
}

static void close_on_error(io_conn *c, const cdl_error *err) {
  char why[sizeof err->message + 48];
  snprintf(why, sizeof why, "%s: %s", cdl_error_name(err->code), err->message);
  io_conn_close(c, true, why);
}

static void on_write(uv_write_t *req, int status) {
  io_write *w = (io_write *)req;
  io_conn *c = w->owner;
  io_write_done(&c->out, w);
  free(w);
  if (c->closing) return;
  if (status < 0) {
    io_conn_close(c, false, uv_strerror(status));
    return;
  }
  io_conn_wake(c);
}

/* Hands every SDU the engine has to libuv, up to the write bound. */
static void flush(io_conn *c) {
  uint64_t now = cdl_io_now_us();
  while (!c->closing && io_out_room(&c->out)) {
    cdl_buf_reset(&c->sdu);
    if (!cdl_n2n_server_next_sdu(c->engine, now, &c->sdu)) {
      if (c->sdu.failed)
        io_conn_close(c, false, "out of memory for an SDU");
      else if (cdl_n2n_server_finished(c->engine) && c->out.writing == 0)
        io_conn_close(c, false, "handshake finished");
      return;
    }
    int rc = io_write_copy(&c->out, &c->h.stream, &c->sdu, c, on_write);
    if (rc < 0) {
      io_conn_close(c, false, uv_strerror(rc));
      return;
    }
    c->srv->st.bytes_out += c->sdu.len;
  }
}

static uint64_t write_deadline(const io_conn *c) {
  return io_out_deadline(&c->out, c->srv->write_timeout_us);
}

static void on_timer(uv_timer_t *t) {
  io_conn *c = t->data;
  if (io_out_stalled(&c->out, &c->h.handle, cdl_io_now_us(), c->srv->write_timeout_us)) {
    c->srv->st.closed_write_timeout++;
    char why[96];
    snprintf(why, sizeof why, "mux.write_timeout: no write progress for %llu ms (%zu bytes waiting)",
             (unsigned long long)(c->srv->write_timeout_us / 1000), c->out.writing);
    io_conn_close(c, true, why);
    return;
  }
  cdl_error err = {0};
  if (cdl_n2n_server_poll(c->engine, cdl_io_now_us(), &err) != CDL_OK) {
    close_on_error(c, &err);
    return;
  }
  service(c);
}

static void arm_timer(io_conn *c) {
  uint64_t d = cdl_n2n_server_deadline(c->engine);
  if (write_deadline(c) < d) d = write_deadline(c);
  io_timer_arm(&c->timer, d, on_timer);
}

static void service(io_conn *c) {
  flush(c);
  if (!c->closing) arm_timer(c);
}

void io_conn_wake(io_conn *c) {
  if (c->closing) return;
  if (cdl_n2n_server_wants_poll(c->engine)) {
    cdl_error err = {0};
    if (cdl_n2n_server_poll(c->engine, cdl_io_now_us(), &err) != CDL_OK) {
      close_on_error(c, &err);
      return;
    }
  }
  service(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  io_conn *c = h->data;
  *b = uv_buf_init((char *)c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  io_conn *c = st->data;
  if (c->closing || n == 0) return;
  if (n < 0) {
    io_conn_close(c, false, n == UV_EOF ? "the peer closed" : uv_strerror((int)n));
    return;
  }
  cdl_io_server *s = c->srv;
  s->st.bytes_in += (uint64_t)n;
  uint64_t before = io_mempool_version(s);
  cdl_error err = {0};
  if (cdl_n2n_server_recv(c->engine, (const uint8_t *)b->base, (size_t)n, cdl_io_now_us(), &err) !=
      CDL_OK) {
    close_on_error(c, &err);
    return;
  }
  service(c);
  /* A tx came in: connections waiting on the mempool may go on. */
  if (io_mempool_version(s) != before) io_server_wake_all(s);
}

static void name_peer(io_conn *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  snprintf(c->peer, sizeof c->peer, "%s", c->local ? "local" : "?");
  if (c->local || uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) != 0) return;
  char ip[48] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  }
  snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
}

/* The handle is initialised and accepted; the rest of the connection. */
static int start_conn(cdl_io_server *s, io_conn *c) {
  name_peer(c);
  if (!io_limits_admit(&s->lim, c->local, c->peer, s->cfg.log, "serve")) return -1;
  c->admitted = true;
  cdl_error err = {0};
  const cdl_hs_config *hs = c->local ? &s->cfg.n2c : &s->cfg.n2n;
  if (cdl_n2n_server_new(s->cfg.db, hs, cdl_io_now_us(), &c->engine, &err) != CDL_OK) return -1;
  cdl_n2n_server_set_system_start(c->engine, s->cfg.system_start);
  cdl_n2n_server_set_mempool(c->engine, s->cfg.mempool);
  if (uv_read_start(&c->h.stream, on_alloc, on_read) != 0) return -1;
  s->st.accepted++;
  cdl_log(s->cfg.log, CDL_LOG_INFO, "serve", "conn.opened", "%s", c->peer);
  arm_timer(c);
  return 0;
}

void io_conn_accept(cdl_io_server *s, uv_stream_t *listener, bool local) {
  io_conn *c = calloc(1, sizeof *c);
  if (c == NULL) return; /* libuv offers the connection again on the next turn */
  c->srv = s;
  c->local = local;
  cdl_buf_init(&c->sdu, 0);
  int rc = local ? uv_pipe_init(s->loop, &c->h.pipe, 0) : uv_tcp_init(s->loop, &c->h.tcp);
  if (rc != 0) {
    free(c);
    return;
  }
  uv_timer_init(s->loop, &c->timer);
  c->h.handle.data = c->timer.data = c;
  c->handles_open = 2;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->st.open++;
  rc = uv_accept(listener, &c->h.stream);
  if (rc == 0 && !local) uv_tcp_nodelay(&c->h.tcp, 1);
  if (rc != 0 || start_conn(s, c) != 0) {
    c->closing = true;
    uv_close(&c->h.handle, on_close);
    uv_close((uv_handle_t *)&c->timer, on_close);
  }
}
