/*
 * node_io.h: the libuv driver of the node kernel (include/cardinal/io.h
 * "Running a node"; docs/node.md "Running"): node_run.c holds the loop,
 * the listeners, the kernel's timer, the signals and the dialling of
 * the upstream peers the kernel names; node_link.c one socket each; metrics_http.c the
 * Prometheus endpoint.
 */
#ifndef CARDINAL_NODE_IO_H
#define CARDINAL_NODE_IO_H

#include <pthread.h>

#include "cardinal/node.h"
#include "io_internal.h"

typedef struct cdl_io_node nd_run; /* the driver of one node (io.h) */
typedef struct nd_link nd_link;

/* One socket: an upstream peer we dialled, an inbound peer or a local
 * client, and its connection in the kernel once it has one. */
struct nd_link {
  io_socket h;
  uv_connect_t connect;
  uv_getaddrinfo_t resolve;
  nd_run *run;
  nd_link *prev, *next;
  cdl_node_conn_kind kind;
  size_t peer; /* outbound: its index in the kernel's peer set */
  cdl_node_conn_id id;
  bool has_id, handle_open, closing;
  bool admitted;  /* counted in the run's limits until closed */
  bool resolving; /* a dial's name look-up is under way: it frees the link */
  bool ending;    /* the kernel ended it: closed once its writes are done */
  bool bound;     /* a dial that left from the listener's address */
  cdl_peer_end end;
  int rc; /* how it ended, for the upstream_ended hook */
  char why[CDL_ERROR_MESSAGE_MAX + 48]; /* how the kernel ended it */
  io_out out;
  char name[64];
  char remote_ip[48]; /* inbound TCP: the peer's address */
  uint16_t remote_port;
  uint8_t rbuf[IO_READ_BYTES];
};

typedef struct nd_metrics nd_metrics; /* metrics_http.c */

struct cdl_io_node {
  uv_loop_t *loop; /* the caller's */
  cdl_io_node_config cfg;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
  uv_timer_t timer, metrics_timer;
  uv_timer_t sweep_timer; /* once a second: stalled writes */
  io_limits lim;
  uint64_t write_timeout_us;
  cdl_io_stop_watch stop; /* the first SIGINT/SIGTERM (stop.c) */
  io_unix_path unix_path; /* the socket file we bound, removed at stop */
  bool has_tcp, has_pipe, stopping;
  uint16_t port;
  struct sockaddr_storage listen_addr; /* the TCP listener's */
  bool dial_from_listener;             /* dials leave from listen_addr */
  bool dial_unbound[CDL_PEERS_MAX];    /* peers whose bound dial failed: dialled unbound */
  uint8_t dial_taken[CDL_PEERS_MAX];   /* bound dials in a row whose addresses were taken */
  nd_link *links;
  size_t n_links;
  cdl_buf sdu;
  cdl_buf metrics_text; /* rendered on the loop, served by the HTTP thread */
  nd_metrics *metrics;
  int rc;
  cdl_error err;
};

/* The wall clock: the node kernel's time. */
uint64_t nd_now(void);
/* Gives every connection the kernel marked to its socket, handles the
 * ends, dials the peers that are due and re-arms the kernel's timer. */
void nd_pump(nd_run *r);
/* Stops the node: listeners, timers, signals and every link closed; the
 * loop then returns. |rc| and |why| are the run's result. */
void nd_stop(nd_run *r, int rc, const cdl_error *why);

/* ---- Links (node_link.c) ---- */
/* A link for an accepted socket (its handle initialised by the caller). */
nd_link *nd_link_new(nd_run *r, cdl_node_conn_kind kind);
/* Accepts from |listener| into a new link and opens its connection. */
void nd_link_accept(nd_run *r, uv_stream_t *listener, bool local);
/* Dials peer |i| of the kernel's peer set, at |p|'s address. */
void nd_link_dial(nd_run *r, size_t i, const cdl_peer *p);
/* Writes what the kernel has for the link; closes it once its connection
 * has ended and the last bytes are written. */
void nd_link_flush(nd_link *l);
/* Closes the socket; the link is freed once libuv is done with it. */
void nd_link_close(nd_link *l, cdl_peer_end end, const char *why);
nd_link *nd_link_find(nd_run *r, cdl_node_conn_id id);
/* Closes the link if its writes made no progress for the write timeout. */
void nd_link_check_writes(nd_link *l, uint64_t now_us);

/* ---- Metrics (metrics_http.c) ---- */
/* Descriptors the endpoint may hold: its listener and its connections. */
#define ND_METRICS_FDS 17
int nd_metrics_start(nd_run *r, cdl_error *err);
/* Renders the node's metrics for the HTTP thread. */
void nd_metrics_refresh(nd_run *r);
void nd_metrics_stop(nd_run *r);

#endif
