/*
 * live.h: the parts of `cardinal-cli live` (docs/cli.md "live"; docs/node.md
 * "Metrics"): a bounded HTTP GET of a node's Prometheus metrics page, its
 * defensive parse into the values and peer rows the screen shows, and the
 * screen's lines, shared by the ncurses view and the plain-text mode.
 */
#ifndef CARDINAL_CLI_LIVE_H
#define CARDINAL_CLI_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardinal/base.h"

/* The page is hostile input: a bigger one is refused (rule
 * metrics.page_too_large), a longer line is skipped. */
#define LIVE_PAGE_MAX ((size_t)256 << 10)
#define LIVE_LINE_MAX 1024
#define LIVE_RULE_TOO_LARGE "metrics.page_too_large"
#define LIVE_RULE_NOT_HTTP "metrics.not_http_200"

/* The metrics the screen reads, by cardano-node's names where it has one. */
typedef enum live_metric {
  LM_BLOCK,
  LM_SLOT,
  LM_EPOCH,
  LM_SLOT_IN_EPOCH,
  LM_DENSITY,
  LM_WALL_SLOT,
  LM_MEMPOOL_TXS,
  LM_MEMPOOL_BYTES,
  LM_MEMPOOL_CAPACITY,
  LM_FORGED,
  LM_SKIPPED,
  LM_LAST_SIGNED,
  LM_PEERS,
  LM_UPSTREAM,
  LM_DUPLEX,
  LM_LOCAL_CLIENTS,
  LM_SERVED,
  LM_RECEIVED,
  LM_ADOPTED,
  LM_INVALID,
  LM_RSS,
  LM_RSS_CARDANO,
  LM_CPU_SECONDS,
  LM_CPU_TICKS_CARDANO, /* centiseconds */
  LM_OPEN_FDS,
  LM_MAX_FDS,
  LM_IMMUTABLE_BYTES,
  LM_VOLATILE_BYTES,
  LM_START_TIME,
  LM_START_TIME_CARDANO,
  LM_COUNT
} live_metric;

/* One row per peer from the node's per-peer series (cardinal_peer_state,
 * _blocks_received_total, _rtt_seconds; docs/node.md "Metrics"), joined
 * on their `peer` label. The node exports at most 64 (its topology's
 * bound); a page naming more has the rest counted, not kept. */
#define LIVE_PEERS_MAX 64
#define LIVE_LABEL_MAX 64 /* a label value's printable ASCII kept, cut there */
typedef struct live_peer {
  char name[LIVE_LABEL_MAX];
  char direction[16], state[16]; /* "" when not exported */
  bool has_blocks, has_rtt;
  double blocks, rtt_s;
} live_peer;

typedef struct live_snapshot {
  double value[LM_COUNT];
  bool has[LM_COUNT];
  char version[48];     /* *_build_info{version="...",commit="..."}: "V (C)"; "" when absent */
  size_t ignored_lines; /* lines that are not "name[{labels}] number" */
  live_peer peer[LIVE_PEERS_MAX];
  size_t n_peers, peer_series_dropped; /* series past the bound */
  /* The process's CPU use since the previous snapshot (cmd_live.c). */
  bool has_cpu_percent;
  double cpu_percent;
  /* From the local socket, when one answered. */
  bool has_tip, has_constants;
  uint64_t tip_slot, tip_block, epoch_slots, k, slot_ms;
} live_snapshot;

/* Whether |target| has the form HOST:PORT ("[v6]:port" too). */
bool live_target_ok(const char *target);
/* GET /metrics from HOST:PORT ("[v6]:port" too) over HTTP/1.0 within
 * |timeout_ms|; the body (at most LIVE_PAGE_MAX bytes) into |body|.
 * Errors: CDL_E_IO (unreachable, slow), CDL_E_LIMIT (too large),
 * CDL_E_PROTOCOL (not an HTTP 200 answer). */
int live_fetch(const char *host_port, int timeout_ms, cdl_buf *body, cdl_error *err);
/* Parses a Prometheus text page into |s| (unknown names are ignored,
 * malformed lines counted). */
void live_parse(const char *page, size_t len, live_snapshot *s);
/* The process's CPU seconds: Prometheus' process_cpu_seconds_total, else
 * cardano-node's Stat_cputicks_int (centiseconds); false when neither. */
bool live_cpu_seconds(const live_snapshot *s, double *seconds);
/* The screen as lines of at most |width| characters: at most |max_lines|
 * written into lines[i] (each LIVE_LINE_MAX bytes); returns their number.
 * |error| (or NULL) is the last fetch's failure. |now| is Unix time. */
size_t live_render(const live_snapshot *s, const char *target, const char *error, int64_t now,
                   char (*lines)[LIVE_LINE_MAX], size_t max_lines, size_t width);

#endif
