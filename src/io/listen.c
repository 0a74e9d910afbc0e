/*
 * listen.c: the listening sockets of the node driver (node_run.c), for
 * `cardinal-node run` and `serve` alike, in one place that keeps the
 * rule (docs/node.md "One owner per socket"; docs/network.md "Driver"):
 * one process per TCP port and per socket path.
 *
 * - TCP: the listener has SO_REUSEADDR (so a restart is not refused for
 *   connections in TIME_WAIT) and SO_REUSEPORT, so that the node's dials
 *   can leave from its listening address and the peer recognises it
 *   (full duplex, docs/node.md "Full duplex"). SO_REUSEPORT would also
 *   let a second node of the same user listen on the port, so the port is
 *   first asked: if something accepts a connection there, the start is
 *   refused (EADDRINUSE). A process without SO_REUSEPORT on the port
 *   makes the bind itself fail.
 * - A Unix socket path: a socket file is only taken over when nothing
 *   accepts a connection on it (ECONNREFUSED: its node stopped without
 *   removing it, e.g. after SIGKILL). At stop a node removes the file only
 *   while the path still names the socket it bound (same device and
 *   inode), so a node never removes another node's socket. The socket is
 *   bound here and given to libuv with uv_pipe_open: a handle bound by
 *   uv_pipe_bind unlinks its path when closed, whoever owns it by then.
 */
#define _DEFAULT_SOURCE /* SO_REUSEPORT */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io_internal.h"

#define LISTEN_BACKLOG 128

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

/* Whether something accepts a TCP connection at |addr| within half a
 * second: another node listening there (a non-blocking connect and a
 * poll, so an address that drops packets does not hold the start). */
static bool tcp_answers(const struct sockaddr_storage *addr) {
  struct sockaddr_storage probe = *addr;
  if (probe.ss_family == AF_INET) { /* the wildcard is answered on loopback */
    struct sockaddr_in *in = (struct sockaddr_in *)&probe;
    if (in->sin_addr.s_addr == htonl(INADDR_ANY)) in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (probe.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&probe;
    if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) in6->sin6_addr = in6addr_loopback;
  }
  int fd = socket(probe.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  socklen_t len = probe.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
  bool answers = connect(fd, (struct sockaddr *)&probe, len) == 0;
  if (!answers && errno == EINPROGRESS) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    answers = poll(&p, 1, 500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
              soerr == 0;
  }
  close(fd);
  return answers;
}

int io_tcp_socket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    int e = errno; /* the caller reports it; close must not change it */
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int listen_failed(const char *host, uint16_t port, int rc, cdl_error *err) {
  return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s port %u: %s%s", host, port,
                       uv_strerror(rc),
                       rc == UV_EADDRINUSE ? " (another process listens on that port)" : "");
}

int io_tcp_listen(uv_tcp_t *tcp, const char *host, uint16_t port, uv_connection_cb cb,
                  struct sockaddr_storage *bound, cdl_error *err) {
  struct sockaddr_storage addr;
  int rc = resolve(tcp->loop, host, port, &addr, err);
  if (rc != CDL_OK) return rc;
  /* SO_REUSEPORT lets our dials leave from this address (full duplex);
   * it would also let a second node listen here, so ask first. */
  if (port != 0 && tcp_answers(&addr)) return listen_failed(host, port, UV_EADDRINUSE, err);
  int fd = io_tcp_socket(addr.ss_family);
  if (fd < 0) return listen_failed(host, port, uv_translate_sys_error(errno), err);
  if ((rc = uv_tcp_open(tcp, fd)) != 0) {
    close(fd);
    return listen_failed(host, port, rc, err);
  }
  /* libuv may report a bind failure only at listen (its delayed error). */
  if ((rc = uv_tcp_bind(tcp, (struct sockaddr *)&addr, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)tcp, LISTEN_BACKLOG, cb)) != 0)
    return listen_failed(host, port, rc, err);
  int len = sizeof *bound;
  uv_tcp_getsockname(tcp, (struct sockaddr *)bound, &len);
  return CDL_OK;
}

uint16_t io_port_of(const struct sockaddr_storage *a) {
  return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                        : ((const struct sockaddr_in *)a)->sin_port);
}

/* Whether a process accepts connections on the socket file |path|. A
 * non-blocking connect: a listener whose backlog is full (EAGAIN) is
 * alive too; only ECONNREFUSED says nobody listens. */
static int socket_answers(const char *path, bool *live, cdl_error *err) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return cdl_error_set(err, CDL_E_IO, 0, "socket: %s", strerror(errno));
  int rc = connect(fd, (struct sockaddr *)&a, sizeof a), e = errno;
  close(fd);
  *live = rc == 0 || e == EAGAIN || e == EINPROGRESS;
  if (*live || e == ECONNREFUSED) return CDL_OK;
  return cdl_error_set(err, CDL_E_IO, 0, "cannot check the socket %s: %s", path, strerror(e));
}

/* Removes a socket file nobody listens on; refuses anything else. */
static int clear_path(const char *path, cdl_error *err) {
  struct stat st;
  if (lstat(path, &st) != 0) return CDL_OK;
  if (!S_ISSOCK(st.st_mode))
    return cdl_error_set(err, CDL_E_IO, 0, "%s exists and is not a socket", path);
  bool live = false;
  int rc = socket_answers(path, &live, err);
  if (rc != CDL_OK) return rc;
  if (live)
    return cdl_error_set(err, CDL_E_IO, 0,
                         "another process answers on the socket %s (a node already runs "
                         "there): stop it or choose another --socket-path",
                         path);
  unlink(path); /* stale: its node stopped without removing it */
  return CDL_OK;
}

/* A listening socket bound to |path| (which must not exist), given to
 * |pipe|; |claim| records the file so that only it is removed. */
static int bind_unix(uv_pipe_t *pipe, const char *path, io_unix_path *claim, cdl_error *err) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return cdl_error_set(err, CDL_E_IO, 0, "socket: %s", strerror(errno));
  struct stat st;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || stat(path, &st) != 0) {
    int e = errno;
    close(fd);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s: %s", path, strerror(e));
  }
  snprintf(claim->path, sizeof claim->path, "%s", path);
  claim->dev = st.st_dev;
  claim->ino = st.st_ino;
  claim->owned = true;
  int rc = uv_pipe_open(pipe, fd);
  if (rc != 0) close(fd);
  return rc == 0
             ? CDL_OK
             : cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s: %s", path, uv_strerror(rc));
}

int io_unix_claim(uv_pipe_t *pipe, const char *path, uv_connection_cb cb, io_unix_path *claim,
                  cdl_error *err) {
  *claim = (io_unix_path){0};
  if (strlen(path) >= sizeof claim->path)
    return cdl_error_set(err, CDL_E_USAGE, 0, "socket path longer than %zu bytes",
                         sizeof claim->path - 1);
  int rc = clear_path(path, err);
  if (rc == CDL_OK) rc = bind_unix(pipe, path, claim, err);
  if (rc != CDL_OK) {
    io_unix_release(claim);
    return rc;
  }
  if ((rc = uv_listen((uv_stream_t *)pipe, LISTEN_BACKLOG, cb)) != 0) {
    io_unix_release(claim);
    return cdl_error_set(err, CDL_E_IO, 0, "cannot listen on %s: %s", path, uv_strerror(rc));
  }
  return CDL_OK;
}

void io_unix_release(io_unix_path *claim) {
  if (!claim->owned) return;
  claim->owned = false;
  struct stat st;
  if (lstat(claim->path, &st) == 0 && st.st_dev == claim->dev && st.st_ino == claim->ino)
    unlink(claim->path);
}
