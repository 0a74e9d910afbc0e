/*
 * io_internal.h: the listeners (serve.c) and the connections (conn.c) of
 * the libuv server (include/cardinal/io.h), and the listening sockets
 * both servers share (listen.c).
 */
#ifndef CARDINAL_IO_INTERNAL_H
#define CARDINAL_IO_INTERNAL_H

#include <sys/types.h>

#include "cardinal/io.h"

#define IO_READ_BYTES 65536
/* Bytes handed to the kernel and not yet written, per connection: past
 * this the engine's own egress queue fills and it stops producing. */
#define IO_WRITE_BOUND (1u << 20)
#define IO_DEFAULT_MAX_CONNECTIONS 256

typedef struct io_conn io_conn;

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
 * |bound_port| is the port bound (|port| 0 picks one). A port another
 * process listens on is refused (CDL_E_IO). */
int io_tcp_listen(uv_tcp_t *tcp, const char *host, uint16_t port, uv_connection_cb cb,
                  uint16_t *bound_port, cdl_error *err);
/* Binds |pipe| (initialised by the caller) to the socket path |path| and
 * listens. A socket file nobody answers on is a stale one and is replaced;
 * one a live process answers on, or a file of another kind, is refused
 * (CDL_E_IO, naming the path). */
int io_unix_claim(uv_pipe_t *pipe, const char *path, uv_connection_cb cb, io_unix_path *claim,
                  cdl_error *err);
/* Removes the socket file if the path still names the one claimed. */
void io_unix_release(io_unix_path *claim);

struct cdl_io_server {
  uv_loop_t *loop;
  cdl_io_server_config cfg;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
  bool has_tcp, has_pipe, stopping;
  int handles_open; /* listeners not yet closed */
  uint16_t port;
  io_unix_path unix_path;
  io_conn *conns;
  cdl_io_server_stats st;
};

/* A connection's socket: TCP or a Unix socket, seen as a stream. */
typedef union io_socket {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} io_socket;

struct io_conn {
  io_socket h;
  uv_timer_t timer;
  cdl_io_server *srv;
  cdl_n2n_server *engine;
  io_conn *prev, *next;
  char peer[64];
  bool local, closing;
  int handles_open;
  size_t writing; /* bytes in writes not yet completed */
  cdl_buf sdu;
  uint8_t rbuf[IO_READ_BYTES];
};

/* Wakes every connection (after the chain or the mempool changed). */
void io_server_wake_all(cdl_io_server *s);
/* Counts additions and removals: a change means waiting readers may go on. */
uint64_t io_mempool_version(const cdl_io_server *s);

/* One write of a copy of an SDU (stream.c); the callback frees it. */
typedef struct io_write {
  uv_write_t req;
  void *owner;
  size_t len;
  uint8_t data[];
} io_write;

/* 0, or a libuv error (UV_ENOMEM when the copy cannot be made). */
int io_write_copy(uv_stream_t *st, const cdl_buf *bytes, void *owner, uv_write_cb cb);
/* Sets |t| to fire at |deadline_us| (cdl_io_now_us time); UINT64_MAX
 * stops it. */
void io_timer_arm(uv_timer_t *t, uint64_t deadline_us, uv_timer_cb cb);

/* Takes the next connection waiting on |listener|. */
void io_conn_accept(cdl_io_server *s, uv_stream_t *listener, bool local);
/* Polls an engine that waits on the chain, then writes what it has. */
void io_conn_wake(io_conn *c);
/* Closes the connection; |violation|: it broke a rule (counted, logged
 * as a warning). */
void io_conn_close(io_conn *c, bool violation, const char *why);
/* Frees the server once its last handle is closed. */
void io_server_maybe_free(cdl_io_server *s);

#endif
