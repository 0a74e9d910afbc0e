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
 *
 * Besides the kernel's metrics it renders the driver's (connections it
 * refused or closed) and the process's (start time, uptime, resident
 * memory under cardano-node's names; CPU time and descriptors under
 * Prometheus' standard process_* names). A port it cannot listen on is
 * reported with the system's reason.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node_io.h"

#define METRICS_MAX_CONNECTIONS (ND_METRICS_FDS - 1)
#define METRICS_TIMEOUT_S 5

struct nd_metrics {
  struct MHD_Daemon *daemon;
  pthread_mutex_t lock;
  cdl_buf text;                 /* under lock */
  uint64_t start_unix_s;        /* the wall clock when the endpoint started */
  struct timespec start_steady; /* the same moment, for the uptime */
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

/* Why libmicrohttpd could not listen: it says nothing, so bind the same
 * address once more (as it does, with SO_REUSEADDR) and take the kernel's
 * reason, "Address already in use", "Permission denied"... (issue 26: an
 * operator was told "cannot listen" with no reason). */
static const char *listen_failure(const struct sockaddr_in *addr, int mhd_errno) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return strerror(errno);
  int one = 1, why = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) != 0 || listen(fd, 1) != 0) why = errno;
  close(fd);
  if (why != 0) return strerror(why);
  return mhd_errno != 0 ? strerror(mhd_errno) : "the HTTP server did not start";
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
  m->start_unix_s = (uint64_t)time(NULL);
  clock_gettime(CLOCK_MONOTONIC, &m->start_steady);
  r->metrics = m;
  errno = 0;
  m->daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, r->cfg.metrics_port, NULL, NULL, on_request,
                       m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                       MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S, MHD_OPTION_END);
  if (m->daemon == NULL) {
    int mhd_errno = errno;
    return cdl_error_set(err, CDL_E_IO, 0, "metrics: cannot listen on %s port %u: %s", host,
                         r->cfg.metrics_port, listen_failure(&addr, mhd_errno));
  }
  return CDL_OK;
}

/* One sample with its HELP and TYPE lines; |type| "counter" or "gauge". */
static void sample(cdl_buf *out, const char *type, const char *name, const char *help,
                   uint64_t v) {
  char line[512];
  int n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
                   type, name, (unsigned long long)v);
  if (n > 0 && (size_t)n < sizeof line) cdl_buf_append(out, line, (size_t)n);
}

static void counter(cdl_buf *out, const char *name, const char *help, uint64_t v) {
  sample(out, "counter", name, help, v);
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

/* The resident set in bytes (/proc/self/statm's second field, in pages);
 * 0 where there is no /proc. */
static uint64_t resident_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long size = 0, pages = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%llu %llu", &size, &pages) != 2) pages = 0;
  fclose(f);
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

static void gauge(cdl_buf *out, const char *name, const char *help, uint64_t v) {
  sample(out, "gauge", name, help, v);
}

/* Descriptors open now: the entries of /proc/self/fd, less the one that
 * reads them; false where there is no /proc. */
static bool open_fds(uint64_t *n) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return false;
  uint64_t k = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) k += e->d_name[0] != '.';
  closedir(d);
  *n = k > 0 ? k - 1 : 0;
  return true;
}

/* CPU time (user and system, every thread), Prometheus' standard names as
 * its client libraries export them; the descriptor limit is the one the
 * driver planned its connection caps with (limits.c). */
static void resource_metrics(const nd_run *r, cdl_buf *out) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "# HELP process_cpu_seconds_total user and system CPU time (seconds)\n"
                     "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n",
                     cpu);
    if (n > 0 && (size_t)n < sizeof line) cdl_buf_append(out, line, (size_t)n);
  }
  uint64_t fds;
  if (open_fds(&fds)) gauge(out, "process_open_fds", "open file descriptors", fds);
  gauge(out, "process_max_fds", "the descriptor limit (soft, as raised at start)",
        r->lim.fd_limit);
}

/* A label value as written: only the characters a version or a commit
 * uses, so no quote or backslash can break the line. */
static void label_value(char *out, size_t size, const char *v) {
  size_t n = 0;
  for (; v != NULL && *v != '\0' && n + 1 < size; v++)
    if ((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
        *v == '.' || *v == '-' || *v == '+' || *v == '_')
      out[n++] = *v;
  out[n] = '\0';
}

/* What is running: cardinal_build_info{version, commit} 1, the usual
 * Prometheus form of a build's identity (the live view's "version"). */
static void build_info(const cdl_io_node_config *c, cdl_buf *out) {
  if (c->build_version == NULL) return;
  char version[32], commit[48], line[256];
  label_value(version, sizeof version, c->build_version);
  label_value(commit, sizeof commit, c->build_commit);
  int n = snprintf(line, sizeof line,
                   "# HELP cardinal_build_info the version and commit of the running node\n"
                   "# TYPE cardinal_build_info gauge\n"
                   "cardinal_build_info{version=\"%s\",commit=\"%s\"} 1\n",
                   version, commit);
  if (n > 0 && (size_t)n < sizeof line) cdl_buf_append(out, line, (size_t)n);
}

/* The process: when it started, for how long, how much memory it holds
 * (cardano-node's names, so its dashboards work). */
static void process_metrics(const nd_metrics *m, cdl_buf *out) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t up_ns = (int64_t)(now.tv_sec - m->start_steady.tv_sec) * 1000000000 +
                  (now.tv_nsec - m->start_steady.tv_nsec);
  gauge(out, "cardano_node_metrics_nodeStartTime_int", "when the node started (Unix seconds)",
        m->start_unix_s);
  counter(out, "cardano_node_metrics_upTime_ns", "time since the node started (nanoseconds)",
          up_ns > 0 ? (uint64_t)up_ns : 0);
  gauge(out, "cardano_node_metrics_Mem_resident_int", "resident set size (bytes)",
        resident_bytes());
}

void nd_metrics_refresh(nd_run *r) {
  nd_metrics *m = r->metrics;
  if (m == NULL || m->daemon == NULL) return;
  cdl_buf_reset(&r->metrics_text);
  cdl_node_metrics_text(r->cfg.node, &r->metrics_text);
  driver_metrics(r, &r->metrics_text);
  process_metrics(m, &r->metrics_text);
  resource_metrics(r, &r->metrics_text);
  build_info(&r->cfg, &r->metrics_text);
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
