/*
 * cmd_live.c: `cardinal-cli live` (docs/cli.md "live"; docs/node.md
 * "Metrics"), the operator's live view of ONE node:
 *   live --metrics HOST:PORT [--socket-path S] [--once]
 * (options on argp, `live --help`).
 * Every second it reads the node's Prometheus page (live_metrics.c) and,
 * when a socket is given (or CARDANO_NODE_SOCKET_PATH is set), its tip
 * and the chain's constants over the local protocols, and draws them
 * (live_screen.c): on a terminal an ncurses screen that follows resizes
 * and quits on 'q' (endwin leaves the terminal sane); otherwise, or with
 * --once, plain-text snapshots, one per refresh.
 */
#include <argp.h>
#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "local.h"
#include "node_query.h"

#define LIVE_FETCH_TIMEOUT_MS 2000
/* The node's lines, then a row per peer and a line for those left out. */
#define LIVE_MAX_LINES (16 + LIVE_PEERS_MAX + 1)

typedef struct live_opts {
  const char *metrics, *socket;
  bool once;
} live_opts;

typedef struct live_state {
  live_opts o;
  live_snapshot snap;
  cdl_lsq_chain_constants constants;
  bool has_constants;
  cdl_error last; /* the last fetch's failure; code CDL_OK when it worked */
  bool has_cpu;   /* the previous snapshot's CPU seconds, and when */
  double cpu_s, cpu_at_s;
} live_state;

/* Option keys: above the character range, so none is a short option. */
enum { O_METRICS = 0x100, O_SOCKET, O_ONCE };

static const struct argp_option LIVE_OPTIONS[] = {
    {"metrics", O_METRICS, "HOST:PORT", 0,
     "the node's Prometheus endpoint, its --metrics-port or hasPrometheus (required)", 0},
    {"socket-path", O_SOCKET, "PATH", 0,
     "the node's local socket, for its tip and the chain's constants (default: "
     "$CARDANO_NODE_SOCKET_PATH; none: the socket line shows -)", 0},
    {"once", O_ONCE, NULL, 0,
     "print one plain-text snapshot and exit (default: refresh every second until q, SIGINT "
     "or SIGTERM)", 0},
    {0}};

static error_t live_option(int key, char *arg, struct argp_state *state) {
  live_opts *o = state->input;
  switch (key) {
  case O_METRICS:
    if (!live_target_ok(arg)) argp_error(state, "--metrics: '%s' is not HOST:PORT", arg);
    o->metrics = arg;
    return 0;
  case O_SOCKET: o->socket = arg; return 0;
  case O_ONCE: o->once = true; return 0;
  case ARGP_KEY_END:
    if (o->metrics == NULL) argp_error(state, "--metrics HOST:PORT is required");
    if (o->socket == NULL) o->socket = getenv("CARDANO_NODE_SOCKET_PATH");
    if (o->socket != NULL && o->socket[0] == '\0') o->socket = NULL;
    return 0;
  default: return ARGP_ERR_UNKNOWN;
  }
}

static const struct argp LIVE = {
    LIVE_OPTIONS, live_option, NULL,
    "The operator's live view of one node, refreshed every second: version, role, uptime; "
    "tip, epoch and sync progress; blocks adopted and forged, slots missed; the mempool; one "
    "row per peer (direction, state, round trip, blocks received); resources (memory, CPU, "
    "descriptors, disk). It reads the node's metrics page, and its local socket when given; a "
    "cardano-node shows what it exports of the same names. On a terminal an ncurses screen "
    "('q' quits); otherwise plain-text snapshots.\v"
    "Example (the relay of `make demo`; add --socket-path "
    "build/demo-devnet/node-3/node.socket for the socket line):\n"
    "  cardinal-cli live --metrics 127.0.0.1:30103",
    NULL, NULL, NULL};

/* The tip and, once, the chain's constants over the local socket; a node
 * that does not answer leaves them "-". */
static void read_socket(live_state *st) {
  if (st->o.socket == NULL)
    return;
  cdl_error err = {0};
  if (!st->has_constants) {
    cli_node_opts no = {.socket = st->o.socket};
    st->has_constants = cli_query_constants(&no, &st->constants, &err) == CDL_OK;
  }
  st->snap.has_constants = st->has_constants;
  st->snap.epoch_slots = st->constants.epoch_slots;
  st->snap.k = st->constants.k;
  st->snap.slot_ms = st->constants.slot_ms;
  cdl_io_local *c = NULL;
  cdl_tip tip;
  if (cdl_io_local_open(st->o.socket, 0, false, &c, &err) == CDL_OK &&
      local_tip(c, &tip, &err) == CDL_OK) {
    st->snap.has_tip = true;
    st->snap.tip_slot = tip.point.origin ? 0 : tip.point.slot;
    st->snap.tip_block = tip.block_no;
  }
  cdl_io_local_close(c);
}

/* CPU use: the CPU seconds the node counted since the previous snapshot
 * over the seconds between them (100% is one core busy); a counter that
 * went back (the node restarted) starts over. */
static void cpu_use(live_state *st) {
  double cpu, now = cli_now_seconds();
  if (!live_cpu_seconds(&st->snap, &cpu)) {
    st->has_cpu = false;
    return;
  }
  if (st->has_cpu && cpu >= st->cpu_s && now > st->cpu_at_s) {
    st->snap.has_cpu_percent = true;
    st->snap.cpu_percent = 100 * (cpu - st->cpu_s) / (now - st->cpu_at_s);
  }
  st->has_cpu = true;
  st->cpu_s = cpu;
  st->cpu_at_s = now;
}

static void refresh_snapshot(live_state *st) {
  cdl_buf page;
  cdl_buf_init(&page, 0);
  st->snap = (live_snapshot){0};
  st->last = (cdl_error){0};
  if (live_fetch(st->o.metrics, LIVE_FETCH_TIMEOUT_MS, &page, &st->last) == CDL_OK)
    live_parse((const char *)page.data, page.len, &st->snap);
  cdl_buf_free(&page);
  read_socket(st);
  cpu_use(st);
}

static size_t render(const live_state *st, char (*lines)[LIVE_LINE_MAX], size_t width) {
  const char *error = st->last.code != CDL_OK ? st->last.message : NULL;
  return live_render(&st->snap, st->o.metrics, error, (int64_t)time(NULL), lines, LIVE_MAX_LINES,
                     width);
}

/* The rule a failed fetch broke, for --once (exit 1 for a hostile page,
 * 3 for a node that does not answer). */
static int report_fetch(const cdl_error *err) {
  if (err->code == CDL_E_LIMIT)
    return cli_report_rule(LIVE_RULE_TOO_LARGE, "%s", err->message);
  if (err->code == CDL_E_PROTOCOL)
    return cli_report_rule(LIVE_RULE_NOT_HTTP, "%s", err->message);
  if (err->code == CDL_E_USAGE)
    return cli_usage("live: %s", err->message);
  return cli_fail("metrics.unreachable", EXIT_FAILURE_IO, "%s", err->message);
}

/* Plain text: a snapshot per second (or one with --once). */
static int run_plain(live_state *st) {
  static char lines[LIVE_MAX_LINES][LIVE_LINE_MAX];
  for (;;) {
    refresh_snapshot(st);
    if (st->o.once && st->last.code != CDL_OK)
      return report_fetch(&st->last);
    size_t n = render(st, lines, LIVE_LINE_MAX - 1);
    for (size_t i = 0; i < n; i++)
      printf("%s\n", lines[i]);
    printf("\n");
    if (fflush(stdout) != 0 || ferror(stdout))
      return EXIT_FAILURE_IO;
    if (st->o.once)
      return EXIT_OK;
    for (int i = 0; i < 10 && !cli_stop_requested(); i++)
      usleep(100 * 1000);
    if (cli_stop_requested())
      return EXIT_OK;
  }
}

/* The lines above the bottom row ("q quits"); when they do not fit, the
 * first ones, a line saying how many are left out, and the last one (when
 * the page was read, or why not). */
static void draw(const live_state *st) {
  static char lines[LIVE_MAX_LINES][LIVE_LINE_MAX];
  int rows, cols;
  getmaxyx(stdscr, rows, cols);
  size_t n = render(st, lines, cols > 1 ? (size_t)cols - 1 : 1);
  size_t room = rows > 1 ? (size_t)rows - 1 : 0;
  erase();
  if (n <= room || room < 3) {
    for (size_t i = 0; i < n && i < room; i++)
      mvaddstr((int)i, 0, lines[i]);
  } else {
    for (size_t i = 0; i + 2 < room; i++)
      mvaddstr((int)i, 0, lines[i]);
    char more[80];
    snprintf(more, sizeof more, "... %zu more lines (a taller terminal shows them)",
             n - (room - 1));
    mvaddnstr((int)room - 2, 0, more, cols > 1 ? cols - 1 : 1);
    mvaddstr((int)room - 1, 0, lines[n - 1]);
  }
  if (rows > 1)
    mvaddstr(rows - 1, 0, "q quits");
  refresh();
}

/* The ncurses screen: refreshed each second, redrawn on a resize, ended
 * by 'q' or SIGINT/SIGTERM with the terminal given back (endwin). */
static int run_screen(live_state *st) {
  if (initscr() == NULL)
    return run_plain(st);
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  timeout(100);
  double next = 0;
  for (bool quit = false; !quit && !cli_stop_requested();) {
    if (cli_now_seconds() >= next) {
      refresh_snapshot(st);
      draw(st);
      next = cli_now_seconds() + 1.0;
    }
    int key = getch();
    if (key == 'q' || key == 'Q')
      quit = true;
    if (key == KEY_RESIZE)
      draw(st);
  }
  endwin();
  return EXIT_OK;
}

static int run_live(int argc, char **argv) {
  static live_state st; /* its snapshot holds the peer rows: off the stack */
  int code = cli_args_parse(&LIVE, argc, argv, &st.o);
  if (code != EXIT_OK)
    return code;
  cli_catch_stop_signals("live");
  if (st.o.once || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
    return run_plain(&st);
  return run_screen(&st);
}

static const cli_verb LIVE_VERBS[] = {
    {"", NULL, "one node's live view: chain, sync, mempool, peers, resources", run_live}};
const cli_noun CLI_LIVE = CLI_NOUN("live", LIVE_VERBS);
