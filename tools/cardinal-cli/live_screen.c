/*
 * live_screen.c: the lines of `cardinal-cli live` (docs/cli.md "live"):
 * one node's version, role and uptime; its chain (tip, epoch with a
 * progress bar, sync progress); blocks adopted and forged, slots missed;
 * the mempool against its capacity; resources; peers, one row each. A
 * value the node does not export is "-", so a cardano-node exporting the
 * same names (docs/node.md "Metrics") shows what it can. The same lines feed the
 * ncurses screen and the plain-text mode.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "live.h"

typedef struct screen {
  char (*lines)[LIVE_LINE_MAX];
  size_t n, max, width;
} screen;

static void put(screen *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(screen *sc, const char *fmt, ...) {
  if (sc->n >= sc->max)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sc->lines[sc->n], LIVE_LINE_MAX, fmt, ap);
  va_end(ap);
  if (sc->width < LIVE_LINE_MAX)
    sc->lines[sc->n][sc->width] = '\0';
  sc->n++;
}

/* A metric as an integer, or "-" when the node does not export it. */
static const char *num(const live_snapshot *s, live_metric m, char *out, size_t len) {
  if (!s->has[m] || s->value[m] < 0 || s->value[m] > 1e18)
    snprintf(out, len, "-");
  else
    snprintf(out, len, "%" PRIu64, (uint64_t)s->value[m]);
  return out;
}

/* "[#####.....] 50%" for a fraction in [0, 1]; "-" when unknown. */
static const char *bar(double part, double whole, char *out, size_t len) {
  if (!(whole > 0) || !(part >= 0))
    return snprintf(out, len, "-"), out;
  double f = part / whole > 1 ? 1 : part / whole;
  char cells[21];
  int filled = (int)(f * 20 + 0.5);
  for (int i = 0; i < 20; i++)
    cells[i] = i < filled ? '#' : '.';
  cells[20] = '\0';
  snprintf(out, len, "[%s] %5.1f%%", cells, f * 100);
  return out;
}

/* A byte count as B, KiB or MiB; "-" when unknown (negative). */
static const char *bytes_value(double v, char *out, size_t len) {
  if (!(v >= 0))
    snprintf(out, len, "-");
  else if (v >= 1 << 30)
    snprintf(out, len, "%.1f GiB", v / (1 << 30));
  else if (v >= 1 << 20)
    snprintf(out, len, "%.1f MiB", v / (1 << 20));
  else if (v >= 1 << 10)
    snprintf(out, len, "%.1f KiB", v / (1 << 10));
  else
    snprintf(out, len, "%.0f B", v);
  return out;
}

static const char *bytes_text(const live_snapshot *s, live_metric m, char *out, size_t len) {
  return bytes_value(s->has[m] ? s->value[m] : -1, out, len);
}

/* The epoch's length: the chain's constants over the socket, else what
 * the metrics imply (slot - slot in epoch = epoch x length); 0 unknown. */
static double epoch_slots(const live_snapshot *s) {
  if (s->has_constants)
    return (double)s->epoch_slots;
  if (s->has[LM_SLOT] && s->has[LM_SLOT_IN_EPOCH] && s->has[LM_EPOCH] && s->value[LM_EPOCH] >= 1)
    return (s->value[LM_SLOT] - s->value[LM_SLOT_IN_EPOCH]) / s->value[LM_EPOCH];
  return 0;
}

static void header_lines(screen *sc, const live_snapshot *s, const char *target, int64_t now) {
  const char *role = "-";
  if (s->has[LM_LAST_SIGNED] || (s->has[LM_FORGED] && s->value[LM_FORGED] > 0))
    role = "core";
  else if (s->has[LM_FORGED])
    role = "relay";
  double start = s->has[LM_START_TIME]
                     ? s->value[LM_START_TIME]
                     : (s->has[LM_START_TIME_CARDANO] ? s->value[LM_START_TIME_CARDANO] : -1);
  char uptime[32] = "-";
  if (start > 0 && now >= start) {
    int64_t up = now - (int64_t)start;
    snprintf(uptime, sizeof uptime, "%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64,
             up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
  }
  put(sc, "cardinal-cli live  %s  version %s  role %s  uptime %s", target,
      s->version[0] ? s->version : "-", role, uptime);
}

static void chain_lines(screen *sc, const live_snapshot *s) {
  char a[32], b[32], c[32], d[32], e[64];
  double len = epoch_slots(s);
  put(sc, "chain     tip block %s  slot %s  epoch %s", num(s, LM_BLOCK, a, sizeof a),
      num(s, LM_SLOT, b, sizeof b), num(s, LM_EPOCH, c, sizeof c));
  char of[32] = "-";
  if (len > 0) snprintf(of, sizeof of, "%.0f", len);
  put(sc, "epoch     slot %s of %s %s", num(s, LM_SLOT_IN_EPOCH, d, sizeof d), of,
      bar(s->has[LM_SLOT_IN_EPOCH] ? s->value[LM_SLOT_IN_EPOCH] : -1, len, e, sizeof e));
  double wall = s->has[LM_WALL_SLOT] ? s->value[LM_WALL_SLOT] : -1;
  char dens[16] = "-";
  if (s->has[LM_DENSITY])
    snprintf(dens, sizeof dens, "%.3f", s->value[LM_DENSITY]);
  put(sc, "sync      %s  wall slot %s  density %s",
      bar(s->has[LM_SLOT] ? s->value[LM_SLOT] : -1, wall, e, sizeof e),
      num(s, LM_WALL_SLOT, a, sizeof a), dens);
  if (s->has_tip)
    put(sc, "socket    tip slot %" PRIu64 " block %" PRIu64 "  k %" PRIu64 "  slot %" PRIu64 " ms",
        s->tip_slot, s->tip_block, s->k, s->slot_ms);
  else
    put(sc, "socket    -");
}

static void work_lines(screen *sc, const live_snapshot *s) {
  char a[32], b[32], c[32], d[32], e[64];
  put(sc, "blocks    adopted %s  forged %s  received %s  invalid %s  slots missed %s",
      num(s, LM_ADOPTED, a, sizeof a), num(s, LM_FORGED, b, sizeof b),
      num(s, LM_RECEIVED, c, sizeof c), num(s, LM_INVALID, d, sizeof d),
      num(s, LM_SKIPPED, e, sizeof e));
  char used[32], cap[32], txs[32], fill[64];
  put(sc, "mempool   %s txs  %s of %s %s", num(s, LM_MEMPOOL_TXS, txs, sizeof txs),
      bytes_text(s, LM_MEMPOOL_BYTES, used, sizeof used),
      bytes_text(s, LM_MEMPOOL_CAPACITY, cap, sizeof cap),
      bar(s->has[LM_MEMPOOL_BYTES] ? s->value[LM_MEMPOOL_BYTES] : -1,
          s->has[LM_MEMPOOL_CAPACITY] ? s->value[LM_MEMPOOL_CAPACITY] : -1, fill, sizeof fill));
  put(sc, "peers     connected %s  upstream up %s  duplex %s  local clients %s  blocks served %s",
      num(s, LM_PEERS, a, sizeof a), num(s, LM_UPSTREAM, b, sizeof b),
      num(s, LM_DUPLEX, c, sizeof c), num(s, LM_LOCAL_CLIENTS, d, sizeof d),
      num(s, LM_SERVED, e, sizeof e));
}

/* RSS, CPU (its use since the last snapshot, and its total), descriptors
 * against the limit, the ChainDB's bytes on disk. */
static void resource_line(screen *sc, const live_snapshot *s) {
  char rss[32], cpu[64] = "-", fds[72], disk[32] = "-";
  double cpu_s;
  bool has_cpu = live_cpu_seconds(s, &cpu_s);
  if (has_cpu && s->has_cpu_percent)
    snprintf(cpu, sizeof cpu, "%.1f%% (%.1f s)", s->cpu_percent, cpu_s);
  else if (has_cpu)
    snprintf(cpu, sizeof cpu, "- (%.1f s)", cpu_s);
  char open[32], max[32];
  num(s, LM_OPEN_FDS, open, sizeof open);
  if (s->has[LM_MAX_FDS])
    snprintf(fds, sizeof fds, "%s of %s", open, num(s, LM_MAX_FDS, max, sizeof max));
  else
    snprintf(fds, sizeof fds, "%s", open);
  if (s->has[LM_IMMUTABLE_BYTES] || s->has[LM_VOLATILE_BYTES])
    bytes_value((s->has[LM_IMMUTABLE_BYTES] ? s->value[LM_IMMUTABLE_BYTES] : 0) +
                    (s->has[LM_VOLATILE_BYTES] ? s->value[LM_VOLATILE_BYTES] : 0),
                disk, sizeof disk);
  put(sc, "resources rss %s  cpu %s  descriptors %s  disk %s",
      bytes_text(s, s->has[LM_RSS] ? LM_RSS : LM_RSS_CARDANO, rss, sizeof rss), cpu, fds, disk);
}

/* One row per peer, as the node's per-peer series give them. */
static void peer_lines(screen *sc, const live_snapshot *s) {
  if (s->n_peers == 0) {
    put(sc, "peer      - (the node exports no per-peer series)");
    return;
  }
  put(sc, "%-30s %-10s %-9s %10s %8s", "peer", "direction", "state", "round trip", "blocks");
  for (size_t i = 0; i < s->n_peers; i++) {
    const live_peer *p = &s->peer[i];
    char rtt[32] = "-", blocks[32] = "-";
    if (p->has_rtt && p->rtt_s < 1)
      snprintf(rtt, sizeof rtt, "%.1f ms", p->rtt_s * 1000);
    else if (p->has_rtt && p->rtt_s < 1e9)
      snprintf(rtt, sizeof rtt, "%.2f s", p->rtt_s);
    if (p->has_blocks && p->blocks < 1e18)
      snprintf(blocks, sizeof blocks, "%" PRIu64, (uint64_t)p->blocks);
    put(sc, "%-30s %-10s %-9s %10s %8s", p->name, p->direction[0] ? p->direction : "-",
        p->state[0] ? p->state : "-", rtt, blocks);
  }
  if (s->peer_series_dropped > 0)
    put(sc, "          %zu more per-peer series not shown (over %d peers)", s->peer_series_dropped,
        LIVE_PEERS_MAX);
}

size_t live_render(const live_snapshot *s, const char *target, const char *error, int64_t now,
                   char (*lines)[LIVE_LINE_MAX], size_t max_lines, size_t width) {
  screen sc = {lines, 0, max_lines, width};
  header_lines(&sc, s, target, now);
  chain_lines(&sc, s);
  work_lines(&sc, s);
  resource_line(&sc, s);
  peer_lines(&sc, s);
  char when[32];
  time_t t = (time_t)now;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%H:%M:%S UTC", &tm);
  if (error != NULL)
    put(&sc, "metrics   %s (at %s)", error, when);
  else
    put(&sc, "updated   %s  ignored lines %zu", when, s->ignored_lines);
  return sc.n;
}
