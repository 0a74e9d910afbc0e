/*
 * io_internal.h: what the parts of the libuv driver (include/cardinal/io.h)
 * share: connection admission (limits.c), bounded writes (stream.c) and
 * the listening sockets (listen.c).
 */
#ifndef CARDINAL_IO_INTERNAL_H
#define CARDINAL_IO_INTERNAL_H

#include <sys/types.h>

#include "cardinal/io.h"

#define IO_READ_BYTES 65536
/* Bytes handed to libuv and not yet written, per connection: past this
 * the engine's egress fills its budget and it stops producing, so a peer
 * that reads slowly costs at most this plus the mux's budget
 * (docs/network.md "Bounded connections"). */
#define IO_WRITE_BOUND ((size_t)32 << 10)
/* A connection whose pending writes make no progress for this long is
 * closed: the peer stopped reading (the Haskell mux's SDU write timeout,
 * 30 s for node-to-node and node-to-client sockets alike). */
#define IO_WRITE_TIMEOUT_US (30 * 1000000ull)
#define IO_DEFAULT_MAX_CONNECTIONS 256
#define IO_DEFAULT_MAX_LOCAL 64
/* Descriptors kept back from connections for the storage (chunk files,
 * volatile files, snapshots, the lock), the log, the listeners, the
 * metrics endpoint and a socket accepted only to be refused. */
#define IO_FD_RESERVE 32

/* ---- Connection admission (limits.c; docs/network.md "Connection
 * limits") ---- */

/* The caps in force: the configured ones, cut to what the descriptor
 * limit allows once IO_FD_RESERVE and the driver's own needs (dials, the
 * metrics endpoint) are kept back. */
typedef struct io_limits {
  size_t n2n_max, local_max;
  size_t n2n_open, local_open;
  uint64_t refused_n2n, refused_local; /* over a cap: accepted, closed, logged */
  uint64_t accept_failed;              /* the kernel refused accept (descriptors) */
  uint64_t write_timeouts;
  uint64_t fd_limit;
} io_limits;

/* Raises the soft descriptor limit toward the hard one and sets the caps
 * from |n2n_cfg| and |local_cfg| (0: the defaults), keeping |kept_extra|
 * descriptors beyond IO_FD_RESERVE for the driver's own use (outbound
 * dials, the metrics endpoint); logs the plan as |component|. */
void io_limits_plan(io_limits *lim, size_t n2n_cfg, size_t local_cfg, size_t kept_extra,
                    const cdl_logger *log, const char *component);
/* Whether one more accepted connection of this kind is admitted; counts
 * and logs a refusal naming |peer|. */
bool io_limits_admit(io_limits *lim, bool local, const char *peer, const cdl_logger *log,
                     const char *component);
/* An admitted connection closed. */
void io_limits_release(io_limits *lim, bool local);
/* A failed accept: counted and logged (EMFILE: libuv dropped it). */
void io_limits_accept_failed(io_limits *lim, int status, const cdl_logger *log,
                             const char *component);

/* ---- Writing (stream.c) ---- */

/* What a connection has handed to libuv and not yet seen written. */
typedef struct io_out {
  size_t writing;      /* bytes in writes not yet completed */
  uint64_t stalled_us; /* when the writes waiting last made progress */
  int outq;            /* the kernel's unsent bytes when last looked at */
} io_out;

/* Whether another SDU may be handed over: under IO_WRITE_BOUND. */
bool io_out_room(const io_out *o);
/* When the writes waiting may have timed out (|timeout_us| after their
 * last progress); UINT64_MAX when none waits. cdl_io_now_us time. */
uint64_t io_out_deadline(const io_out *o, uint64_t timeout_us);
/* At or past the deadline: whether the writes really stalled. A peer
 * that reads slowly drains the kernel's send queue of socket |h| without
 * completing a write for a while (the kernel takes more only once a good
 * part of its buffer is free): a queue that shrank is progress, and the
 * clock starts again. */
bool io_out_stalled(io_out *o, uv_handle_t *h, uint64_t now_us, uint64_t timeout_us);
/* Closes socket |h| of a connection that broke a rule: TCP with a reset,
 * so neither the kernel nor the peer keeps what was queued. */
void io_close_fault(uv_handle_t *h, bool tcp, uv_close_cb cb);

/* ---- Listening sockets (listen.c; docs/node.md "One owner per socket") ---- */

/* A Unix socket path this process bound: removed at stop only while the
 * path still names that socket. */
typedef struct io_unix_path {
  char path[108]; /* sizeof sun_path */
  dev_t dev;
  ino_t ino;
  bool owned;
} io_unix_path;

/* Binds |tcp| (initialised by the caller) to |host|:|port| and listens;
 * |bound| is the address bound (|port| 0 picks a port). A port another
 * process listens on is refused (CDL_E_IO). */
int io_tcp_listen(uv_tcp_t *tcp, const char *host, uint16_t port, uv_connection_cb cb,
                  struct sockaddr_storage *bound, cdl_error *err);
/* A non-blocking TCP socket with SO_REUSEADDR and SO_REUSEPORT, for the
 * listener and for dials that leave from its address; -1 on failure. */
int io_tcp_socket(int family);
uint16_t io_port_of(const struct sockaddr_storage *a);
/* Binds |pipe| (initialised by the caller) to the socket path |path| and
 * listens. A socket file nobody answers on is a stale one and is replaced;
 * one a live process answers on, or a file of another kind, is refused
 * (CDL_E_IO, naming the path). */
int io_unix_claim(uv_pipe_t *pipe, const char *path, uv_connection_cb cb, io_unix_path *claim,
                  cdl_error *err);
/* Removes the socket file if the path still names the one claimed. */
void io_unix_release(io_unix_path *claim);

/* A connection's socket: TCP or a Unix socket, seen as a stream. */
typedef union io_socket {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} io_socket;

/* One write of a copy of an SDU (stream.c); the callback frees it. */
typedef struct io_write {
  uv_write_t req;
  void *owner;
  size_t len;
  uint8_t data[];
} io_write;

/* Writes a copy of |bytes|, counted in |o|: 0, or a libuv error
 * (UV_ENOMEM when the copy cannot be made). */
int io_write_copy(io_out *o, uv_stream_t *st, const cdl_buf *bytes, void *owner, uv_write_cb cb);
/* The write |w| completed (its callback calls this before freeing it). */
void io_write_done(io_out *o, const io_write *w);
#endif
