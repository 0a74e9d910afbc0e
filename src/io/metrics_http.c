/*
 * metrics_http.c: the node's Prometheus endpoint (node_io.h; docs/node.md
 * "Metrics"), GET /metrics over HTTP with libmicrohttpd (docs/design.md
 * section 5).
 *
 * libmicrohttpd answers on its own thread, and the kernel belongs to the
 * loop's thread: the loop renders the metrics text once a second
 * (cdl_node_metrics_text) and hands a copy over under a mutex; the HTTP
 * thread only ever copies that text out. Requests are bounded: a few
 * connections at once, each with a short timeout, GET only.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "node_io.h"

#define METRICS_MAX_CONNECTIONS (ND_METRICS_FDS - 1)
#define METRICS_TIMEOUT_S 5

struct nd_metrics {
  struct MHD_Daemon *daemon;
  pthread_mutex_t lock;
  cdl_buf text; /* under lock */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             void *body, size_t len) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", type);
  enum MHD_Result rc = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state) {
  (void)version, (void)upload, (void)state;
  nd_metrics *m = cls;
  if (*upload_len != 0) return MHD_NO; /* no bodies are taken */
  if (strcmp(method, "GET") != 0 || (strcmp(url, "/metrics") != 0 && strcmp(url, "/") != 0)) {
    char *msg = strdup("only GET /metrics\n");
    return msg ? reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", msg, strlen(msg)) : MHD_NO;
  }
  pthread_mutex_lock(&m->lock);
  size_t len = m->text.len;
  char *body = malloc(len ? len : 1);
  if (body) memcpy(body, m->text.data, len);
  pthread_mutex_unlock(&m->lock);
  if (body == NULL) return MHD_NO;
  return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", body, len);
}

int nd_metrics_start(nd_run *r, cdl_error *err) {
  const char *host = r->cfg.metrics_host ? r->cfg.metrics_host : "127.0.0.1";
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(r->cfg.metrics_port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
    return cdl_error_set(err, CDL_E_USAGE, 0, "metrics: %s is not an IPv4 address", host);
  nd_metrics *m = calloc(1, sizeof *m);
  if (m == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "metrics: out of memory");
  pthread_mutex_init(&m->lock, NULL);
  cdl_buf_init(&m->text, 0);
  r->metrics = m;
  m->daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, r->cfg.metrics_port, NULL, NULL, on_request,
                       m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                       MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S, MHD_OPTION_END);
  if (m->daemon == NULL)
    return cdl_error_set(err, CDL_E_IO, 0, "metrics: cannot listen on %s port %u", host,
                         r->cfg.metrics_port);
  return CDL_OK;
}

static void counter(cdl_buf *out, const char *name, const char *help, uint64_t v) {
  char line[512];
  int n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
                   name, name, (unsigned long long)v);
  if (n > 0 && (size_t)n < sizeof line) cdl_buf_append(out, line, (size_t)n);
}

/* The driver's own counts: connections it refused or closed itself
 * (docs/network.md "Connection limits", "Bounded connections"). */
static void driver_metrics(const nd_run *r, cdl_buf *out) {
  counter(out, "cardinal_connections_refused_total",
          "node-to-node connections over their cap, accepted and closed at once",
          r->lim.refused_n2n);
  counter(out, "cardinal_local_connections_refused_total",
          "local connections over their cap, accepted and closed at once", r->lim.refused_local);
  counter(out, "cardinal_accept_failures_total",
          "connections the kernel would not accept (out of descriptors: dropped)",
          r->lim.accept_failed);
  counter(out, "cardinal_write_timeouts_total",
          "connections closed because their writes made no progress (the peer did not read)",
          r->lim.write_timeouts);
}

void nd_metrics_refresh(nd_run *r) {
  nd_metrics *m = r->metrics;
  if (m == NULL || m->daemon == NULL) return;
  cdl_buf_reset(&r->metrics_text);
  cdl_node_metrics_text(r->cfg.node, &r->metrics_text);
  driver_metrics(r, &r->metrics_text);
  if (r->metrics_text.failed) return; /* the last good text stays */
  pthread_mutex_lock(&m->lock);
  cdl_buf swap = m->text;
  m->text = r->metrics_text;
  r->metrics_text = swap;
  pthread_mutex_unlock(&m->lock);
}

void nd_metrics_stop(nd_run *r) {
  nd_metrics *m = r->metrics;
  if (m == NULL) return;
  if (m->daemon) MHD_stop_daemon(m->daemon);
  pthread_mutex_destroy(&m->lock);
  cdl_buf_free(&m->text);
  free(m);
  r->metrics = NULL;
}
