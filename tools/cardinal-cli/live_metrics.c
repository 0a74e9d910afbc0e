/*
 * live_metrics.c: the reading side of `cardinal-cli live` (docs/cli.md
 * "live"): a small bounded HTTP/1.0 client for a node's GET /metrics
 * (libmicrohttpd serves, libuv has no HTTP client: plain sockets, see
 * docs/design.md) and a defensive parse of the Prometheus text format
 * (docs/node.md "Metrics" for the names), per-peer series joined into
 * rows by their `peer` label. The page is hostile: its size is bounded,
 * its lines are bounded and each is checked to be "name[{labels}]
 * number" with well-formed labels; anything else is counted and skipped;
 * the peer rows are bounded too.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "live.h"

static const char *const METRIC_NAMES[LM_COUNT] = {
    [LM_BLOCK] = "cardano_node_metrics_blockNum_int",
    [LM_SLOT] = "cardano_node_metrics_slotNum_int",
    [LM_EPOCH] = "cardano_node_metrics_epoch_int",
    [LM_SLOT_IN_EPOCH] = "cardano_node_metrics_slotInEpoch_int",
    [LM_DENSITY] = "cardano_node_metrics_density_real",
    [LM_WALL_SLOT] = "cardinal_current_slot",
    [LM_MEMPOOL_TXS] = "cardano_node_metrics_txsInMempool_int",
    [LM_MEMPOOL_BYTES] = "cardano_node_metrics_mempoolBytes_int",
    [LM_MEMPOOL_CAPACITY] = "cardinal_mempool_capacity_bytes",
    [LM_FORGED] = "cardano_node_metrics_Forge_forged_int",
    [LM_SKIPPED] = "cardinal_forge_skipped_total",
    [LM_LAST_SIGNED] = "cardinal_forge_last_signed_slot",
    [LM_PEERS] = "cardano_node_metrics_connectedPeers_int",
    [LM_UPSTREAM] = "cardinal_upstream_peers",
    [LM_DUPLEX] = "cardinal_duplex_connections",
    [LM_LOCAL_CLIENTS] = "cardinal_local_clients",
    [LM_SERVED] = "cardano_node_metrics_served_block_count_int",
    [LM_RECEIVED] = "cardinal_blocks_received_total",
    [LM_ADOPTED] = "cardinal_blocks_adopted_total",
    [LM_INVALID] = "cardinal_invalid_blocks_total",
    [LM_RSS] = "process_resident_memory_bytes",
    [LM_RSS_CARDANO] = "cardano_node_metrics_Mem_resident_int",
    [LM_CPU_SECONDS] = "process_cpu_seconds_total",
    [LM_CPU_TICKS_CARDANO] = "cardano_node_metrics_Stat_cputicks_int",
    [LM_OPEN_FDS] = "process_open_fds",
    [LM_MAX_FDS] = "process_max_fds",
    [LM_IMMUTABLE_BYTES] = "cardinal_chaindb_immutable_bytes",
    [LM_VOLATILE_BYTES] = "cardinal_chaindb_volatile_bytes",
    [LM_START_TIME] = "process_start_time_seconds",
    [LM_START_TIME_CARDANO] = "cardano_node_metrics_nodeStartTime_int",
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* HOST:PORT, the host perhaps in brackets (an IPv6 address). */
static bool split_target(const char *target, char *host, size_t host_len, char *port,
                         size_t port_len) {
  const char *colon = strrchr(target, ':');
  if (colon == NULL || colon == target || colon[1] == '\0')
    return false;
  const char *h = target;
  size_t n = (size_t)(colon - target);
  if (h[0] == '[' && n >= 2 && h[n - 1] == ']')
    h++, n -= 2;
  if (n == 0 || n >= host_len || strlen(colon + 1) >= port_len)
    return false;
  memcpy(host, h, n);
  host[n] = '\0';
  snprintf(port, port_len, "%s", colon + 1);
  return true;
}

/* A non-blocking connect to the first address that answers by |deadline|. */
static int connect_by(const char *host, const char *port, int64_t deadline, cdl_error *err) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0)
    return cdl_error_set(err, CDL_E_IO, 0, "metrics %s:%s: %s", host, port, gai_strerror(gai));
  int fd = -1;
  for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS)
      goto next;
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    int left = (int)(deadline - now_ms());
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (left > 0 && poll(&pf, 1, left) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
      continue; /* connected: the loop ends with fd >= 0 */
  next:
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    return cdl_error_set(err, CDL_E_IO, 0, "metrics %s:%s: cannot connect", host, port);
  return fd;
}

/* Reads until the peer closes, the bound or the deadline. */
static int read_all(int fd, int64_t deadline, cdl_buf *raw, size_t max, cdl_error *err) {
  char chunk[4096];
  for (;;) {
    int left = (int)(deadline - now_ms());
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&pf, 1, left) != 1)
      return cdl_error_set(err, CDL_E_IO, 0, "metrics: no complete answer in time");
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0)
      return CDL_OK;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0)
      return cdl_error_set(err, CDL_E_IO, 0, "metrics: read: %s", strerror(errno));
    if (raw->len + (size_t)n > max)
      return cdl_error_set(err, CDL_E_LIMIT, 0, "metrics: the page is over %zu bytes", max);
    if (cdl_buf_append(raw, chunk, (size_t)n) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "metrics: out of memory");
  }
}

bool live_target_ok(const char *target) {
  char host[256], port[16];
  return split_target(target, host, sizeof host, port, sizeof port);
}

int live_fetch(const char *target, int timeout_ms, cdl_buf *body, cdl_error *err) {
  char host[256], port[16];
  if (!split_target(target, host, sizeof host, port, sizeof port))
    return cdl_error_set(err, CDL_E_USAGE, 0, "metrics: '%s' is not HOST:PORT", target);
  int64_t deadline = now_ms() + timeout_ms;
  int fd = connect_by(host, port, deadline, err);
  if (fd < 0)
    return fd;
  char req[512];
  int len = snprintf(req, sizeof req, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", host);
  cdl_buf raw;
  cdl_buf_init(&raw, 0);
  int rc = CDL_OK;
  if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
    rc = cdl_error_set(err, CDL_E_IO, 0, "metrics: cannot send the request");
  /* The headers are allowed a little room above the page's bound. */
  if (rc == CDL_OK)
    rc = read_all(fd, deadline, &raw, LIVE_PAGE_MAX + 4096, err);
  close(fd);
  const char *text = (const char *)raw.data;
  const char *end = NULL;
  for (size_t i = 0; rc == CDL_OK && end == NULL && i + 3 < raw.len; i++)
    if (memcmp(text + i, "\r\n\r\n", 4) == 0)
      end = text + i + 4;
  if (rc == CDL_OK && (raw.len < 12 || memcmp(text, "HTTP/1.", 7) != 0 ||
                       memcmp(text + 8, " 200", 4) != 0 || end == NULL))
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0, "metrics: the answer is not HTTP 200 with a body");
  size_t body_len = rc == CDL_OK ? raw.len - (size_t)(end - text) : 0;
  if (rc == CDL_OK && body_len > LIVE_PAGE_MAX)
    rc = cdl_error_set(err, CDL_E_LIMIT, 0, "metrics: the page is over %zu bytes", LIVE_PAGE_MAX);
  if (rc == CDL_OK)
    rc = cdl_buf_append(body, end, body_len);
  cdl_buf_free(&raw);
  return rc;
}

/* ---- The text format ----------------------------------------------------- */

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:"
#define LINE_LABELS_MAX 8 /* kept per line; more are checked, not kept */

typedef struct label {
  char key[32];
  char value[LIVE_LABEL_MAX];
} label;
typedef struct labels {
  label l[LINE_LABELS_MAX];
  size_t n;
} labels;

/* From just after '{': key="value" pairs with ',' between (one trailing
 * ',' allowed), values with the format's escapes \\ \" \n. A value keeps
 * its printable ASCII only (no escape byte reaches the screen), cut at
 * LIVE_LABEL_MAX - 1. The position after '}', or NULL when malformed. */
static const char *parse_labels(const char *p, labels *out) {
  out->n = 0;
  while (*p != '}') {
    size_t key_len = strspn(p, NAME_CHARS);
    if (key_len == 0 || p[key_len] != '=' || p[key_len + 1] != '"') return NULL;
    label *l = out->n < LINE_LABELS_MAX ? &out->l[out->n++] : NULL;
    if (l != NULL) snprintf(l->key, sizeof l->key, "%.*s", (int)key_len, p);
    size_t j = 0;
    for (p += key_len + 2; *p != '"'; p++) {
      char c = *p;
      if (c == '\0') return NULL;
      if (c == '\\') {
        c = p[1] == 'n' ? '\n' : p[1];
        if (c != '\n' && c != '\\' && c != '"') return NULL;
        p++;
      }
      if (l != NULL && c >= 0x20 && c <= 0x7e && j + 1 < sizeof l->value) l->value[j++] = c;
    }
    if (l != NULL) l->value[j] = '\0';
    p++;
    if (*p == ',') p++;
    else if (*p != '}') return NULL;
  }
  return p + 1;
}

static const char *label_of(const labels *ls, const char *key) {
  for (size_t i = 0; i < ls->n; i++)
    if (strcmp(ls->l[i].key, key) == 0) return ls->l[i].value;
  return NULL;
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool named(const char *line, size_t name_len, const char *name) {
  return strlen(name) == name_len && memcmp(line, name, name_len) == 0;
}

/* The row of the peer a series names (its `peer` label), made when new;
 * NULL past LIVE_PEERS_MAX rows (the series is counted as left out). */
static live_peer *peer_row(live_snapshot *s, const labels *ls) {
  const char *name = label_of(ls, "peer");
  if (name == NULL) return NULL;
  for (size_t i = 0; i < s->n_peers; i++)
    if (strcmp(s->peer[i].name, name) == 0) return &s->peer[i];
  if (s->n_peers == LIVE_PEERS_MAX) {
    s->peer_series_dropped++;
    return NULL;
  }
  live_peer *p = &s->peer[s->n_peers++];
  *p = (live_peer){0};
  snprintf(p->name, sizeof p->name, "%s", name);
  return p;
}

/* A per-peer series (docs/node.md "Metrics"): into its peer's row. */
static void take_peer_series(live_snapshot *s, const char *line, size_t name_len,
                             const labels *ls, double v) {
  bool state = named(line, name_len, "cardinal_peer_state");
  bool blocks = named(line, name_len, "cardinal_peer_blocks_received_total");
  bool rtt = named(line, name_len, "cardinal_peer_rtt_seconds");
  live_peer *p = state || blocks || rtt ? peer_row(s, ls) : NULL;
  if (p == NULL) return;
  if (state) {
    const char *d = label_of(ls, "direction"), *st = label_of(ls, "state");
    snprintf(p->direction, sizeof p->direction, "%s", d ? d : "");
    snprintf(p->state, sizeof p->state, "%s", st ? st : "");
  } else if (blocks && v >= 0) {
    p->blocks = v, p->has_blocks = true;
  } else if (rtt && v >= 0) {
    p->rtt_s = v, p->has_rtt = true;
  }
}

/* One line, NUL-terminated, not a comment: "name[{labels}] value [ts]". */
static bool parse_line(const char *line, live_snapshot *s) {
  size_t name_len = strspn(line, NAME_CHARS);
  if (name_len == 0) return false;
  const char *p = line + name_len;
  labels ls = {.n = 0};
  if (*p == '{' && (p = parse_labels(p + 1, &ls)) == NULL) return false;
  if (*p != ' ' && *p != '\t') return false;
  char *end;
  double v = strtod(p, &end);
  if (end == p || !isfinite(v)) return false;
  /* An optional timestamp (milliseconds) may follow; nothing else. */
  end += strspn(end, " \t");
  if (*end == '-') end++;
  end += strspn(end, "0123456789");
  if (*end != '\0' && strcmp(end, "\r") != 0) return false;
  const char *version = label_of(&ls, "version"), *commit = label_of(&ls, "commit");
  if (version != NULL && ends_with(line, name_len, "build_info"))
    snprintf(s->version, sizeof s->version, commit != NULL ? "%.24s (%.16s)" : "%.24s", version,
             commit);
  if (ls.n > 0) take_peer_series(s, line, name_len, &ls, v);
  for (int m = 0; m < LM_COUNT; m++)
    if (named(line, name_len, METRIC_NAMES[m])) {
      s->value[m] = v;
      s->has[m] = true;
    }
  return true;
}

bool live_cpu_seconds(const live_snapshot *s, double *seconds) {
  if (s->has[LM_CPU_SECONDS]) return *seconds = s->value[LM_CPU_SECONDS], true;
  if (s->has[LM_CPU_TICKS_CARDANO]) return *seconds = s->value[LM_CPU_TICKS_CARDANO] / 100, true;
  return false;
}

void live_parse(const char *page, size_t len, live_snapshot *s) {
  char line[LIVE_LINE_MAX];
  size_t i = 0;
  while (i < len) {
    const char *nl = memchr(page + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - (page + i)) : len - i;
    bool fits = n < sizeof line && memchr(page + i, '\0', n) == NULL;
    if (fits) {
      memcpy(line, page + i, n);
      line[n] = '\0';
    }
    bool blank = fits && strspn(line, " \t\r") == n;
    if (!fits || (!blank && line[0] != '#' && !parse_line(line, s)))
      s->ignored_lines++;
    i += n + 1;
  }
}
