/*
 * node_link.c: one socket of the node driver (node_io.h; docs/node.md
 * "Running"): an upstream peer we dial, an inbound peer or a local
 * client, each with its connection in the node kernel.
 *
 * Bytes read go to the kernel; what the kernel has to send is written one
 * SDU per uv_write (one segment on loopback, docs/network.md "Third-party
 * clients"), at most IO_WRITE_BOUND bytes waiting per socket so a peer
 * that does not read stalls only itself; writes that make no progress for
 * the write timeout close the socket (docs/network.md "Bounded
 * connections"). A connection the kernel ended for a fault (a violation,
 * an invalid block) is closed at once, whatever is queued; one that ended
 * in order (a refused handshake) once its last bytes are written. How
 * the socket ended goes to the kernel, whose peer selection decides the
 * upstream peer's backoff or suspension.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node_io.h"

nd_link *nd_link_find(nd_run *r, cdl_node_conn_id id) {
  for (nd_link *l = r->links; l != NULL; l = l->next)
    if (l->has_id && l->id == id) return l;
  return NULL;
}

nd_link *nd_link_new(nd_run *r, cdl_node_conn_kind kind) {
  nd_link *l = calloc(1, sizeof *l);
  if (l == NULL) return NULL;
  l->run = r;
  l->kind = kind;
  l->peer = SIZE_MAX;
  l->next = r->links;
  if (r->links) r->links->prev = l;
  r->links = l;
  r->n_links++;
  return l;
}

static void unlink_free(nd_link *l) {
  nd_run *r = l->run;
  if (l->prev)
    l->prev->next = l->next;
  else
    r->links = l->next;
  if (l->next) l->next->prev = l->prev;
  r->n_links--;
  free(l);
}

/* The socket is gone: the kernel forgets the connection, the peer set
 * learns how an upstream one ended. */
static void release(nd_link *l) {
  nd_run *r = l->run;
  if (l->admitted) io_limits_release(&r->lim, l->kind == CDL_NODE_LOCAL);
  if (l->has_id)
    cdl_node_conn_close(r->cfg.node, l->id, l->end, nd_now());
  else if (l->peer != SIZE_MAX)
    cdl_node_dial_failed(r->cfg.node, l->peer, nd_now());
  if (l->peer != SIZE_MAX && r->cfg.upstream_ended)
    r->cfg.upstream_ended(r->cfg.ctx, l->peer, l->rc, l->why);
  unlink_free(l);
  nd_pump(r); /* a slot in the peer set may be free again */
}

static void on_close(uv_handle_t *h) { release(h->data); }

static const char *const END_NAMES[] = {"clean", "io", "violation", "invalid_block"};

static const char *link_direction(const nd_link *l) {
  return l->kind == CDL_NODE_OUTBOUND  ? "upstream"
         : l->kind == CDL_NODE_INBOUND ? "inbound"
                                       : "local";
}

void nd_link_close(nd_link *l, cdl_peer_end end, const char *why) {
  if (l->closing) return;
  l->closing = true;
  l->end = end;
  if (!l->ending) { /* the socket's end, not the kernel's verdict */
    l->rc = end == CDL_PEER_END_CLEAN ? CDL_OK : CDL_E_IO;
    snprintf(l->why, sizeof l->why, "%s", why);
  }
  bool bad = end == CDL_PEER_END_VIOLATION || end == CDL_PEER_END_INVALID_BLOCK;
  /* The remote, the reason, then the kind of end and the direction, so
   * that an operator can tell a dial that failed from a peer that left or
   * one we dropped (docs/node.md "Logs"). */
  cdl_log(l->run->cfg.log, bad ? CDL_LOG_WARN : CDL_LOG_INFO, "node", "conn.closed",
          "%s: %s (%s; end: %s)", l->name, why, link_direction(l), END_NAMES[end]);
  if (l->resolving) return;               /* on_resolved frees it */
  if (!l->handle_open) return release(l); /* a dial that never got a socket */
  if (bad)
    io_close_fault(&l->h.handle, l->kind != CDL_NODE_LOCAL, on_close);
  else
    uv_close(&l->h.handle, on_close);
}

static void on_write(uv_write_t *req, int status) {
  io_write *w = (io_write *)req;
  nd_link *l = w->owner;
  io_write_done(&l->out, w);
  free(w);
  if (l->closing) return;
  if (status < 0) return nd_link_close(l, CDL_PEER_END_IO, uv_strerror(status));
  nd_link_flush(l);
  nd_pump(l->run);
}

/* The kernel ended the connection: report how; a fault closes at once,
 * an end in order once the writes are done. */
static void end_when_written(nd_link *l) {
  nd_run *r = l->run;
  if (!l->ending) {
    int rc;
    cdl_error why = {0};
    if (!cdl_node_conn_result(r->cfg.node, l->id, &rc, &why)) return;
    l->ending = true;
    l->rc = rc;
    /* A failure of our own disk is not the peer's fault. */
    l->end = cdl_node_failed(r->cfg.node, NULL) ? CDL_PEER_END_CLEAN : cdl_peer_end_of(rc);
    snprintf(l->why, sizeof l->why, "%s: %s", rc == CDL_OK ? "finished" : cdl_error_name(rc),
             why.message);
  }
  if (l->out.writing == 0 || l->end != CDL_PEER_END_CLEAN) nd_link_close(l, l->end, l->why);
}

void nd_link_flush(nd_link *l) {
  nd_run *r = l->run;
  uint64_t now = nd_now();
  while (!l->closing && !l->ending && io_out_room(&l->out)) {
    /* The SDUs ready go back to back in one write, up to the bound on
     * bytes being written (as before, passed by less than one SDU): a
     * system call per write, not per SDU (loaded nodes spent 6% of their
     * time in tcp_sendmsg, writing small SDUs one by one). */
    cdl_buf_reset(&r->sdu);
    while (l->out.writing + r->sdu.len < IO_WRITE_BOUND &&
           cdl_node_conn_next_sdu(r->cfg.node, l->id, now, &r->sdu)) {
    }
    if (r->sdu.failed) return nd_link_close(l, CDL_PEER_END_IO, "out of memory for an SDU");
    if (r->sdu.len == 0) break;
    int rc = io_write_copy(&l->out, &l->h.stream, &r->sdu, l, on_write);
    if (rc < 0) return nd_link_close(l, CDL_PEER_END_IO, uv_strerror(rc));
  }
  if (!l->closing) end_when_written(l);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  nd_link *l = h->data;
  *b = uv_buf_init((char *)l->rbuf, sizeof l->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  nd_link *l = st->data;
  if (l->closing || n == 0) return;
  if (l->ending && n > 0) return; /* the connection is over: only its end is awaited */
  if (n < 0) {
    /* A peer that closes in order (a restart, its own stop) is no failure. */
    bool eof = n == UV_EOF;
    return nd_link_close(l, eof ? CDL_PEER_END_CLEAN : CDL_PEER_END_IO,
                         eof ? "the peer closed" : uv_strerror((int)n));
  }
  cdl_error err = {0};
  /* A failure is kept by the kernel and marks the connection: the pump
   * writes what is left and closes it. */
  (void)cdl_node_conn_recv(l->run->cfg.node, l->id, (const uint8_t *)b->base, (size_t)n, nd_now(),
                           &err);
  nd_pump(l->run);
}

/* The socket is connected: its connection in the kernel, then reading. */
static int open_conn(nd_link *l) {
  nd_run *r = l->run;
  cdl_error err = {0};
  int rc = l->peer != SIZE_MAX ? cdl_node_dialled(r->cfg.node, l->peer, nd_now(), &l->id, &err)
                                : cdl_node_conn_open(r->cfg.node, l->kind, nd_now(), &l->id, &err);
  if (rc != CDL_OK) {
    nd_link_close(l, CDL_PEER_END_IO, err.message);
    return -1;
  }
  l->has_id = true;
  /* The address it came from: an upstream peer's, when that peer dials
   * from its listening address, makes it that peer's connection too
   * (full duplex, docs/node.md "Full duplex"). */
  if (l->kind == CDL_NODE_INBOUND && l->remote_ip[0])
    (void)cdl_node_conn_set_remote(r->cfg.node, l->id, l->remote_ip, l->remote_port);
  rc = uv_read_start(&l->h.stream, on_alloc, on_read);
  if (rc != 0) {
    nd_link_close(l, CDL_PEER_END_IO, uv_strerror(rc));
    return -1;
  }
  cdl_log(r->cfg.log, CDL_LOG_INFO, "node", "conn.opened", "%s (%s)", l->name, link_direction(l));
  return 0;
}

static void name_accepted(nd_link *l) {
  snprintf(l->name, sizeof l->name, "%s", l->kind == CDL_NODE_LOCAL ? "local" : "?");
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (l->kind == CDL_NODE_LOCAL || uv_tcp_getpeername(&l->h.tcp, (struct sockaddr *)&ss, &len) != 0)
    return;
  char ip[48] = "?";
  if (ss.ss_family == AF_INET6)
    uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
  else
    uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
  int port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
  snprintf(l->name, sizeof l->name, "%s:%d", ip, port);
  snprintf(l->remote_ip, sizeof l->remote_ip, "%s", ip);
  l->remote_port = (uint16_t)port;
}

void nd_link_accept(nd_run *r, uv_stream_t *listener, bool local) {
  nd_link *l = nd_link_new(r, local ? CDL_NODE_LOCAL : CDL_NODE_INBOUND);
  if (l == NULL) return; /* libuv offers the connection again on the next turn */
  int rc = local ? uv_pipe_init(r->loop, &l->h.pipe, 0) : uv_tcp_init(r->loop, &l->h.tcp);
  if (rc != 0) return unlink_free(l);
  l->h.handle.data = l;
  l->handle_open = true;
  if (uv_accept(listener, &l->h.stream) != 0) return nd_link_close(l, CDL_PEER_END_IO, "accept");
  if (!local) uv_tcp_nodelay(&l->h.tcp, 1);
  name_accepted(l);
  if (!io_limits_admit(&r->lim, local, l->name, r->cfg.log, "node"))
    return nd_link_close(l, CDL_PEER_END_IO, "over the connection limit");
  l->admitted = true;
  open_conn(l);
}

/* A dial from our listening address whose pair of addresses is taken:
 * by the peer's own connection to us (it dialled at the same moment: the
 * kernel takes that one as the peer's), or by an earlier connection in
 * TIME_WAIT. After the second such failure in a row the peer is dialled
 * from any port. */
static void dial_address_taken(nd_link *l, int status) {
  nd_run *r = l->run;
  if (!l->bound) return;
  if (status != UV_EADDRNOTAVAIL && status != UV_EADDRINUSE) {
    r->dial_taken[l->peer] = 0;
    return;
  }
  if (++r->dial_taken[l->peer] < 2) return;
  r->dial_unbound[l->peer] = true;
  cdl_log(r->cfg.log, CDL_LOG_INFO, "node", "dial.unbound",
          "%s: %s from our listening address; dialling it from any port", l->name,
          uv_strerror(status));
}

static void on_connect(uv_connect_t *req, int status) {
  nd_link *l = req->data;
  if (l->closing) return;
  dial_address_taken(l, status);
  if (status < 0) return nd_link_close(l, CDL_PEER_END_IO, uv_strerror(status));
  uv_tcp_nodelay(&l->h.tcp, 1);
  if (open_conn(l) != 0) return;
  nd_pump(l->run);
}

/* A dial leaves from the listener's address when the families match,
 * so that the peer sees where we listen and takes the connection as ours
 * (full duplex, docs/node.md "Full duplex"); where that cannot be, from
 * any port. */
static void bind_dial(nd_link *l, const struct sockaddr *to) {
  nd_run *r = l->run;
  if (!r->dial_from_listener || r->dial_unbound[l->peer] ||
      to->sa_family != r->listen_addr.ss_family)
    return;
  int fd = io_tcp_socket(to->sa_family);
  if (fd < 0) return;
  socklen_t len = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  if (bind(fd, (const struct sockaddr *)&r->listen_addr, len) != 0 ||
      uv_tcp_open(&l->h.tcp, fd) != 0) {
    close(fd);
    return;
  }
  l->bound = true;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  nd_link *l = req->data;
  nd_run *r = l->run;
  l->resolving = false;
  if (status < 0 || l->closing) {
    if (res) uv_freeaddrinfo(res);
    if (l->closing) return release(l);
    return nd_link_close(l, CDL_PEER_END_IO, uv_strerror(status));
  }
  uv_tcp_init(r->loop, &l->h.tcp);
  l->h.handle.data = l;
  l->handle_open = true;
  l->connect.data = l;
  bind_dial(l, res->ai_addr);
  int rc = uv_tcp_connect(&l->connect, &l->h.tcp, res->ai_addr, on_connect);
  uv_freeaddrinfo(res);
  if (rc != 0) {
    dial_address_taken(l, rc);
    nd_link_close(l, CDL_PEER_END_IO, uv_strerror(rc));
  }
}

void nd_link_dial(nd_run *r, size_t i, const cdl_peer *p) {
  nd_link *l = nd_link_new(r, CDL_NODE_OUTBOUND);
  if (l == NULL) return cdl_node_dial_failed(r->cfg.node, i, nd_now());
  l->peer = i;
  snprintf(l->name, sizeof l->name, "%.40s:%u", p->host, p->port);
  char service[8];
  snprintf(service, sizeof service, "%u", p->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  l->resolve.data = l;
  int rc = uv_getaddrinfo(r->loop, &l->resolve, on_resolved, p->host, service, &hints);
  if (rc != 0) return nd_link_close(l, CDL_PEER_END_IO, uv_strerror(rc));
  l->resolving = true;
}

void nd_link_check_writes(nd_link *l, uint64_t now_us) {
  nd_run *r = l->run;
  if (l->closing || !io_out_stalled(&l->out, &l->h.handle, now_us, r->write_timeout_us)) return;
  r->lim.write_timeouts++;
  char why[96];
  snprintf(why, sizeof why, "mux.write_timeout: no write progress for %llu ms (%zu bytes waiting)",
           (unsigned long long)(r->write_timeout_us / 1000), l->out.writing);
  nd_link_close(l, CDL_PEER_END_VIOLATION, why);
}
