/*
 * cardinal/io.h: the libuv driver, the only code that touches sockets,
 * clocks and signals (docs/design.md section 3; docs/network.md
 * "Driver"). There is one driver, over the node kernel
 * (include/cardinal/node.h): `cardinal-node run` is a kernel with peers
 * and maybe a forger, `cardinal-node serve` one with neither, and
 * `cardinal-cli sync` one with a single upstream peer that stops once it
 * is synced. Besides it, a blocking local client for the CLI.
 */
#ifndef CARDINAL_IO_H
#define CARDINAL_IO_H

#include <uv.h>

#include "cardinal/log.h"
#include "cardinal/net.h"
#include "cardinal/node.h"

/* The monotonic clock in microseconds, the time every engine is given. */
uint64_t cdl_io_now_us(void);

/* ---- Running a node (node_run.c, node_link.c, metrics_http.c) -------------
 * Drives a node kernel (include/cardinal/node.h) on a loop until SIGINT or
 * SIGTERM (caught with cdl_io_stop_catch: a repeat is ignored), until
 * cdl_io_node_stop, or until the |done| hook says so: listens for peers on
 * TCP and for clients on a Unix socket (a port or socket path another live
 * process listens on is refused: docs/node.md "One owner per socket"),
 * dials the upstream peers the kernel's peer selection names and tells
 * it how each dial and socket ended, calls the kernel's tick on the wall
 * clock, and serves
 * Prometheus metrics over HTTP. A connection the kernel ends for a
 * violation is closed at once; one that ended in order (a refused
 * handshake) once what it had to send is written, or when its writes
 * time out. A failure of the node's own (cdl_node_failed: its disk) stops
 * the run with that error. The caller then closes the ChainDB, which
 * writes the ledger snapshot. */

typedef struct cdl_io_node_config {
  cdl_node *node;
  cdl_chaindb *db;         /* the node's, for the metrics */
  const char *host;        /* node-to-node listener; NULL: none */
  uint16_t port;           /* 0: any free port */
  const char *socket_path; /* node-to-client listener; NULL: none */
  const char *metrics_host;
  uint16_t metrics_port;  /* 0: no metrics endpoint */
  /* The labels of cardinal_build_info (the version and commit of the
   * program that runs the node); NULL: not exported. */
  const char *build_version, *build_commit;
  size_t max_connections;       /* inbound node-to-node; 0: 256 */
  size_t max_local_connections; /* node-to-client; 0: 64 */
  uint64_t write_timeout_ms;    /* writes stalled this long close; 0: 30 s */
  const cdl_logger *log;
  /* Each hook is optional and gets |ctx|. on_ready: once listening, with
   * the TCP port bound (scripts use port 0). done: after every turn of
   * the driver; true stops the run with |*rc| (and |*err| when not 0) as
   * its result (a sync that has caught up). upstream_ended: a connection
   * to upstream peer |peer| (cdl_node_peers), or its dial, ended: |rc| is the
   * kernel's verdict (CDL_E_REJECTED: an invalid block) or CDL_E_IO, 0
   * when the peer closed in order. */
  void (*on_ready)(void *ctx, uint16_t port);
  bool (*done)(void *ctx, cdl_node *node, int *rc, cdl_error *err);
  void (*upstream_ended)(void *ctx, size_t peer, int rc, const char *why);
  void *ctx;
} cdl_io_node_config;

/* The node on its own loop: 0 after a signal, or the error that stopped it. */
int cdl_io_node_run(const cdl_io_node_config *cfg, cdl_error *err);

/* The same on the caller's |loop| (a benchmark's thread): start, run the
 * loop until it returns (after a stop, a signal, |done| or a failure,
 * including one of the start itself when |*out| is set), then finish,
 * which gives the run's result and frees it. */
typedef struct cdl_io_node cdl_io_node;
int cdl_io_node_start(uv_loop_t *loop, const cdl_io_node_config *cfg, cdl_io_node **out,
                      cdl_error *err);
/* The TCP port listened on (0 without TCP). */
uint16_t cdl_io_node_port(const cdl_io_node *r);
/* Closes the listeners and every connection, on the loop's thread. */
void cdl_io_node_stop(cdl_io_node *r);
int cdl_io_node_finish(cdl_io_node *r, cdl_error *err);

/* ---- Syncing from one peer (sync.c) ---------------------------------------
 * A node kernel with one upstream peer (host:port over TCP, initiator
 * only), no listener and no forger, on the driver above: it stores what
 * the peer's chain adds through the ChainDB until it is synced with the
 * peer (with |follow|: until the connection ends), or until the first
 * stop signal when the process catches them (cdl_io_stop_catch). The end
 * of the connection before that is the sync's error: CDL_E_REJECTED with
 * |rej| for an invalid block (else rej->rule is NULL), CDL_E_IO for a
 * dial or a socket that failed. |stats|: the kernel's counts at the end. */

typedef struct cdl_io_sync_config {
  cdl_chaindb *db;
  const cdl_byron_genesis *genesis;
  const char *host;
  uint16_t port;
  size_t pipeline;    /* chain-sync requests in flight; 0: the kernel's */
  size_t fetch_batch; /* blocks per block-fetch range; 0: the client's */
  unsigned threads;   /* that parse and check blocks (cdl_node_config.threads) */
  bool follow;
  const cdl_logger *log;
} cdl_io_sync_config;

int cdl_io_sync(const cdl_io_sync_config *cfg, cdl_node_stats *stats, cdl_rejection *rej,
                cdl_error *err);

/* ---- Local client (local_client.c) ---------------------------------------
 * A blocking node-to-client connection for the CLI: the Unix socket, SDU
 * framing and the handshake; the caller speaks the mini-protocol with the
 * codecs of cardinal/net.h. Without |has_magic| the node's network magic
 * is asked first (a handshake query, node-to-client 15+). */

#define CDL_LOCAL_TIMEOUT_MS 10000
/* A submission's answer may come after the node waited for mempool room
 * (CDL_LOCAL_TX_WAIT_MS): it is waited for that long and the usual more. */
#define CDL_LOCAL_SUBMIT_TIMEOUT_MS (CDL_LOCAL_TX_WAIT_MS + CDL_LOCAL_TIMEOUT_MS)
#define CDL_LOCAL_MAX_REPLY (4u << 20)
#define CDL_LOCAL_MIN_VERSION 9
#define CDL_LOCAL_QUERY_MIN_VERSION 15
#define CDL_LOCAL_MAX_VERSION 16

typedef struct cdl_io_local cdl_io_local;

int cdl_io_local_open(const char *socket_path, uint32_t magic, bool has_magic,
                      cdl_io_local **out, cdl_error *err);
uint32_t cdl_io_local_magic(const cdl_io_local *c);
/* The socket, to wait for readability with poll(2). */
int cdl_io_local_fd(const cdl_io_local *c);
/* One message on |protocol|, cut into SDUs. */
int cdl_io_local_send(cdl_io_local *c, uint16_t protocol, const cdl_buf *msg, cdl_error *err);
/* One SDU of |protocol| from the node's responder, appended to |in|. */
int cdl_io_local_recv(cdl_io_local *c, uint16_t protocol, cdl_buf *in, cdl_error *err);
/* How long each read waits from now on (0: CDL_LOCAL_TIMEOUT_MS). */
void cdl_io_local_set_timeout(cdl_io_local *c, int timeout_ms);
/* After a CDL_E_IO of send or recv: whether the node closed the
 * connection (end of file, reset, broken pipe), as a node does when it
 * stops, rather than failing otherwise. */
bool cdl_io_local_closed(const cdl_io_local *c);
void cdl_io_local_close(cdl_io_local *c);

/* ---- Stop signals (stop.c; docs/node.md "Stopping a node") ---------------
 * The first SIGINT or SIGTERM asks for a clean stop. Every later one, for
 * the rest of the process's life (after the loop too, while the ChainDB
 * is closed), is ignored and logged on stderr as the event
 * "stop.repeated" of |component|: a stop under way is never cut short.
 * SIGKILL forces a stop. */

/* Installs the handler (the first call; later ones do nothing). */
void cdl_io_stop_catch(const char *component);
/* The first stop signal caught, or 0. */
int cdl_io_stop_signal(void);

/* Calls |on_stop| once, on |loop|, when the first stop signal is caught
 * (at the loop's next turn if it already was). Without
 * cdl_io_stop_catch it never fires. The watch holds a handle of the loop:
 * it closes itself when it fires, or by cdl_io_stop_watch_close. */
typedef struct cdl_io_stop_watch {
  uv_poll_t poll;
  int fd;
  bool active;
  void (*on_stop)(void *ctx, int signum);
  void *ctx;
} cdl_io_stop_watch;

int cdl_io_stop_watch_start(uv_loop_t *loop, cdl_io_stop_watch *w,
                            void (*on_stop)(void *ctx, int signum), void *ctx, cdl_error *err);
/* Closes the watch; nothing if it is closed already. */
void cdl_io_stop_watch_close(cdl_io_stop_watch *w);

/* The wall clock in microseconds since the Unix epoch (the kernel's time). */
uint64_t cdl_io_wall_us(void);
/* The threads a node parses and checks blocks on by default: the
 * processors this process may run on (libuv's count), at most 64. */
unsigned cdl_io_default_threads(void);
/* How long the blocks of one read from an upstream peer may wait for the
 * next read, parsed meanwhile by the pool's workers, when the wall clock
 * drives the node (cdl_node_config.carry_us; docs/node.md "Signature
 * checks on every core"): 1 ms. */
#define CDL_IO_CARRY_US 1000

#endif /* CARDINAL_IO_H */
