/*
 * limits.c: which accepted connections the libuv drivers keep
 * (io_internal.h "Connection admission"; docs/network.md "Connection
 * limits").
 *
 * Node-to-node peers and local clients have caps of their own, so a crowd
 * of TCP peers never locks an operator's `query tip` out of the Unix
 * socket (cardano-node keeps the two apart too). Both caps fit in the
 * process's descriptor limit with IO_FD_RESERVE and the driver's own
 * needs (dials, the metrics endpoint) kept back, so no peer load can
 * leave the database unable to open a chunk or a volatile file: a
 * connection over a cap is accepted, logged, counted and closed at once,
 * which needs one descriptor for a moment, and the reserve holds it. As
 * Redis does for its clients, the soft limit is first raised toward the
 * hard one.
 */
#include <sys/resource.h>

#include "io_internal.h"

/* Raising further buys nothing: the caps are far below. */
#define FD_WANTED 65536

static uint64_t raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_WANTED ? FD_WANTED : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    struct rlimit up = {want, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl.rlim_cur = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? FD_WANTED : (uint64_t)rl.rlim_cur;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

void io_limits_plan(io_limits *lim, size_t n2n_cfg, size_t local_cfg, size_t kept_extra,
                    const cdl_logger *log, const char *component) {
  size_t n2n = n2n_cfg ? n2n_cfg : IO_DEFAULT_MAX_CONNECTIONS;
  size_t local = local_cfg ? local_cfg : IO_DEFAULT_MAX_LOCAL;
  lim->fd_limit = raise_fd_limit();
  uint64_t kept = IO_FD_RESERVE + (uint64_t)kept_extra;
  size_t spare = lim->fd_limit > kept ? (size_t)(lim->fd_limit - kept) : 0;
  /* Short of descriptors, local clients keep a quarter (at least one):
   * the operator's tools must still reach a node that peers crowd. */
  if (n2n + local > spare) {
    size_t quarter = spare / 4 ? spare / 4 : min_size(spare, 1);
    local = min_size(local, quarter);
    n2n = min_size(n2n, spare - local);
  }
  lim->n2n_max = n2n;
  lim->local_max = local;
  cdl_log(log, n2n < (n2n_cfg ? n2n_cfg : IO_DEFAULT_MAX_CONNECTIONS) ? CDL_LOG_WARN : CDL_LOG_INFO,
          component, "conn.limits",
          "descriptors %llu (%llu kept for storage, listeners, dials and metrics): at most %zu "
          "node-to-node and %zu local connections",
          (unsigned long long)lim->fd_limit, (unsigned long long)kept, n2n, local);
}

bool io_limits_admit(io_limits *lim, bool local, const char *peer, const cdl_logger *log,
                     const char *component) {
  size_t *open = local ? &lim->local_open : &lim->n2n_open;
  size_t max = local ? lim->local_max : lim->n2n_max;
  if (*open < max) {
    ++*open;
    return true;
  }
  if (local)
    lim->refused_local++;
  else
    lim->refused_n2n++;
  cdl_log(log, CDL_LOG_WARN, component, "conn.refused", "%s: over %zu %s connections", peer, max,
          local ? "local" : "node-to-node");
  return false;
}

void io_limits_release(io_limits *lim, bool local) {
  size_t *open = local ? &lim->local_open : &lim->n2n_open;
  if (*open > 0) --*open;
}

void io_limits_accept_failed(io_limits *lim, int status, const cdl_logger *log,
                             const char *component) {
  lim->accept_failed++;
  bool fds = status == UV_EMFILE || status == UV_ENFILE;
  cdl_log(log, CDL_LOG_WARN, component, "accept.failed", "%s%s", uv_strerror(status),
          fds ? ": out of descriptors, the waiting connection was dropped" : "");
}
