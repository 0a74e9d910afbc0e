/*
 * sync.c: one outbound connection driving a node-to-node client until it
 * is synced with its peer (include/cardinal/io.h "Syncing from one
 * peer"; docs/network.md "Syncing"). The same shape as a server
 * connection (conn.c): bytes read go to the engine, its SDUs are written
 * one per uv_write under a bound, a timer follows its deadline. The first
 * stop signal, when the process catches them (cdl_io_stop_catch), ends
 * it as if it were synced.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

typedef struct sync_run {
  uv_loop_t loop;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect;
  cdl_io_stop_watch stop;
  const cdl_io_sync_config *cfg;
  cdl_n2n_client *engine;
  cdl_buf sdu;
  io_out out;
  bool closing;
  int rc;
  cdl_error *err;
  uint8_t rbuf[IO_READ_BYTES];
} sync_run;

static void finish(sync_run *r, int rc) {
  if (r->closing) return;
  r->closing = true;
  r->rc = rc;
  uv_close((uv_handle_t *)&r->tcp, NULL);
  uv_close((uv_handle_t *)&r->timer, NULL);
  cdl_io_stop_watch_close(&r->stop);
}

/* A stop signal ends the sync as a clean end: what was stored is kept. */
static void on_stop_signal(void *ctx, int signum) {
  sync_run *r = ctx;
  cdl_log(r->cfg->log, CDL_LOG_WARN, "sync", "stopping", "signal %d: the sync stops here", signum);
  finish(r, CDL_OK);
}

/* A write into a connection the peer has closed fails with EPIPE (the
 * process ignores SIGPIPE, which would otherwise kill it silently) or
 * ECONNRESET: said as what it is, like a read of the end. */
static void fail_io(sync_run *r, int uv_rc, const char *what) {
  bool closed = uv_rc == UV_EPIPE || uv_rc == UV_ECONNRESET;
  cdl_error_set(r->err, CDL_E_IO, 0, "%s%s: %s%s", closed ? "the peer closed the connection (" : "",
                what, uv_strerror(uv_rc), closed ? ")" : "");
  finish(r, CDL_E_IO);
}

static void service(sync_run *r);

static void on_write(uv_write_t *req, int status) {
  io_write *w = (io_write *)req;
  sync_run *r = w->owner;
  io_write_done(&r->out, w);
  free(w);
  if (r->closing) return;
  if (status < 0) return fail_io(r, status, "write");
  service(r);
}

static void flush(sync_run *r) {
  uint64_t now = cdl_io_now_us();
  while (!r->closing && io_out_room(&r->out)) {
    cdl_buf_reset(&r->sdu);
    if (!cdl_n2n_client_next_sdu(r->engine, now, &r->sdu)) return;
    int rc = io_write_copy(&r->out, (uv_stream_t *)&r->tcp, &r->sdu, r, on_write);
    if (rc < 0) return fail_io(r, rc, "write");
  }
}

static void on_timer(uv_timer_t *t) {
  sync_run *r = t->data;
  int rc = cdl_n2n_client_poll(r->engine, cdl_io_now_us(), r->err);
  if (rc != CDL_OK) return finish(r, rc);
  service(r);
}

static void service(sync_run *r) {
  if (!r->cfg->follow && cdl_n2n_client_synced(r->engine)) return finish(r, CDL_OK);
  flush(r);
  if (r->closing) return;
  io_timer_arm(&r->timer, cdl_n2n_client_deadline(r->engine), on_timer);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  sync_run *r = h->data;
  *b = uv_buf_init((char *)r->rbuf, sizeof r->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  sync_run *r = st->data;
  if (r->closing || n == 0) return;
  if (n < 0) {
    cdl_error_set(r->err, CDL_E_IO, 0, "the peer closed the connection%s%s",
                  n == UV_EOF ? "" : ": ", n == UV_EOF ? "" : uv_strerror((int)n));
    return finish(r, CDL_E_IO);
  }
  int rc =
      cdl_n2n_client_recv(r->engine, (const uint8_t *)b->base, (size_t)n, cdl_io_now_us(), r->err);
  if (rc != CDL_OK) return finish(r, rc);
  service(r);
}

static void on_connect(uv_connect_t *req, int status) {
  sync_run *r = req->data;
  if (r->closing) return;
  if (status < 0) return fail_io(r, status, "connect");
  uv_tcp_nodelay(&r->tcp, 1);
  cdl_log(r->cfg->log, CDL_LOG_INFO, "sync", "connected", "%s:%u", r->cfg->host, r->cfg->port);
  int rc = uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read);
  if (rc < 0) return fail_io(r, rc, "read");
  service(r);
}

static int start(sync_run *r) {
  char service_name[8];
  snprintf(service_name, sizeof service_name, "%u", r->cfg->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  uv_getaddrinfo_t gai;
  int rc = uv_getaddrinfo(&r->loop, &gai, NULL, r->cfg->host, service_name, &hints);
  if (rc != 0)
    return cdl_error_set(r->err, CDL_E_IO, 0, "cannot resolve %s: %s", r->cfg->host,
                         uv_strerror(rc));
  uv_tcp_init(&r->loop, &r->tcp);
  uv_timer_init(&r->loop, &r->timer);
  r->tcp.data = r->timer.data = r->connect.data = r;
  int watched = cdl_io_stop_watch_start(&r->loop, &r->stop, on_stop_signal, r, r->err);
  if (watched == CDL_OK)
    rc = uv_tcp_connect(&r->connect, &r->tcp, gai.addrinfo->ai_addr, on_connect);
  uv_freeaddrinfo(gai.addrinfo);
  if (watched != CDL_OK) {
    finish(r, watched);
    return watched;
  }
  if (rc != 0) {
    fail_io(r, rc, "connect");
    return CDL_E_IO;
  }
  return CDL_OK;
}

int cdl_io_sync(const cdl_io_sync_config *cfg, cdl_n2n_client_stats *stats, cdl_error *err) {
  sync_run *r = calloc(1, sizeof *r);
  if (r == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "sync: out of memory");
  r->cfg = cfg;
  r->err = err;
  cdl_buf_init(&r->sdu, 0);
  uv_loop_init(&r->loop);
  int rc = cdl_n2n_client_new(&cfg->client, cdl_io_now_us(), &r->engine, err);
  if (rc == CDL_OK) rc = start(r);
  if (rc == CDL_OK || r->closing) {
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (rc == CDL_OK) rc = r->rc;
  }
  uv_loop_close(&r->loop);
  if (stats && r->engine) *stats = cdl_n2n_client_stats_get(r->engine);
  cdl_n2n_client_del(r->engine);
  cdl_buf_free(&r->sdu);
  free(r);
  return rc;
}
