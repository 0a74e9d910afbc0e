/*
 * cardinal/io.h: the libuv driver, the only code that touches sockets,
 * clocks and signals (docs/design.md section 3; docs/network.md
 * "Driver").
 *
 * cdl_io_server listens on TCP (node-to-node) and on a Unix socket
 * (node-to-client) and runs one sans-IO responder engine per connection:
 * bytes read go to the engine, what the engine has to send is written one
 * SDU per write, and a timer follows the engine's next deadline. Any error
 * from an engine (a violation, a limit, a timeout) closes that connection
 * and only that one.
 */
#ifndef CARDINAL_IO_H
#define CARDINAL_IO_H

#include <uv.h>

#include "cardinal/log.h"
#include "cardinal/net.h"

/* The monotonic clock in microseconds, the time every engine is given. */
uint64_t cdl_io_now_us(void);

typedef struct cdl_io_server_config {
  cdl_chaindb *db;
  cdl_hs_config n2n;       /* TCP */
  cdl_hs_config n2c;       /* the Unix socket */
  const char *host;        /* NULL: no TCP listener */
  uint16_t port;           /* 0: any free port (cdl_io_server_port says which) */
  const char *socket_path; /* NULL: no Unix socket */
  size_t max_connections;  /* 0: 256; more are accepted and closed at once */
  uint64_t system_start;   /* the genesis start time (Unix seconds) */
  cdl_mempool *mempool;    /* NULL: no transaction protocols */
  const cdl_logger *log;
} cdl_io_server_config;

typedef struct cdl_io_server_stats {
  uint64_t accepted, refused_over_limit, open;
  uint64_t closed_clean;     /* the peer closed, or the handshake ended it */
  uint64_t closed_violation; /* a protocol violation, limit or timeout */
  uint64_t bytes_in, bytes_out;
} cdl_io_server_stats;

typedef struct cdl_io_server cdl_io_server;

int cdl_io_server_start(uv_loop_t *loop, const cdl_io_server_config *cfg, cdl_io_server **out,
                        cdl_error *err);
/* The TCP port listened on (after start; 0 without TCP). */
uint16_t cdl_io_server_port(const cdl_io_server *s);
/* The chain may have changed: re-validates the mempool against the new tip
 * and wakes every connection waiting on either. */
void cdl_io_server_chain_changed(cdl_io_server *s);
cdl_io_server_stats cdl_io_server_stats_get(const cdl_io_server *s);
/* Closes the listeners and every connection; the server is freed once
 * libuv has closed its handles (run the loop until it returns). */
void cdl_io_server_stop(cdl_io_server *s);

/* ---- Syncing from one peer (sync.c) ---------------------------------------
 * Connects to host:port over TCP and runs a node-to-node client
 * (cdl_n2n_client) on its own loop until the client is synced with the
 * peer (or, with |follow|, until the connection ends). */

typedef struct cdl_io_sync_config {
  const char *host;
  uint16_t port;
  cdl_n2n_client_config client;
  bool follow;
  const cdl_logger *log;
} cdl_io_sync_config;

int cdl_io_sync(const cdl_io_sync_config *cfg, cdl_n2n_client_stats *stats, cdl_error *err);

#endif /* CARDINAL_IO_H */
