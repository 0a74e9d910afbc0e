/*
 * cmd_live.c: `cardinal-cli live` (docs/cli.md "live"; docs/node.md
 * "Metrics"), the operator's live view of ONE node:
 *   live --metrics HOST:PORT [--socket-path S] [--once]
 * Every second it reads the node's Prometheus page (live_metrics.c) and,
 * when a socket is given (or CARDANO_NODE_SOCKET_PATH is set), its tip
 * and the chain's constants over the local protocols, and draws them
 * (live_screen.c): on a terminal an ncurses screen that follows resizes
 * and quits on 'q' (endwin leaves the terminal sane); otherwise, or with
 * --once, plain-text snapshots, one per refresh.
 */
#include <curses.h>
#include <getopt.h>
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
#define LIVE_MAX_LINES 24

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
} live_state;

static int parse_opts(int argc, char **argv, live_opts *o) {
  static const struct option LONG[] = {{"metrics", required_argument, 0, 'm'},
                                       {"socket-path", required_argument, 0, 's'},
                                       {"once", no_argument, 0, 'o'},
                                       {0, 0, 0, 0}};
  *o = (live_opts){0};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
    if (c == 'm')
      o->metrics = optarg;
    else if (c == 's')
      o->socket = optarg;
    else if (c == 'o')
      o->once = true;
    else
      return cli_usage("live: bad or unknown option '%s'", argv[optind - 1]);
  }
  if (optind < argc)
    return cli_usage("live: unexpected argument '%s'", argv[optind]);
  if (o->metrics == NULL)
    return cli_usage("live: --metrics HOST:PORT is required");
  if (o->socket == NULL)
    o->socket = getenv("CARDANO_NODE_SOCKET_PATH");
  if (o->socket != NULL && o->socket[0] == '\0')
    o->socket = NULL;
  return EXIT_OK;
}

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

static void refresh_snapshot(live_state *st) {
  cdl_buf page;
  cdl_buf_init(&page, 0);
  st->snap = (live_snapshot){0};
  st->last = (cdl_error){0};
  if (live_fetch(st->o.metrics, LIVE_FETCH_TIMEOUT_MS, &page, &st->last) == CDL_OK)
    live_parse((const char *)page.data, page.len, &st->snap);
  cdl_buf_free(&page);
  read_socket(st);
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

static void draw(const live_state *st) {
  static char lines[LIVE_MAX_LINES][LIVE_LINE_MAX];
  int rows, cols;
  getmaxyx(stdscr, rows, cols);
  size_t n = render(st, lines, cols > 1 ? (size_t)cols - 1 : 1);
  erase();
  for (size_t i = 0; i < n && (int)i < rows - 1; i++)
    mvaddstr((int)i, 0, lines[i]);
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

int cmd_live(int argc, char **argv) {
  live_state st = {0};
  int code = parse_opts(argc, argv, &st.o);
  if (code != EXIT_OK)
    return code;
  cli_catch_stop_signals("live");
  if (st.o.once || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
    return run_plain(&st);
  return run_screen(&st);
}
