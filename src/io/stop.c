/*
 * stop.c: SIGINT and SIGTERM for every command that stops cleanly
 * (include/cardinal/io.h "Stop signals"; docs/node.md "Stopping a node"):
 * cardinal-node run and serve, cardinal-cli sync, txgen and devnet watch.
 *
 * The first signal asks for a clean stop; a stop takes time (a node
 * closes its connections, syncs its ChainDB and writes a ledger snapshot)
 * and a second Ctrl-C, or a script's SIGTERM right after the terminal's
 * SIGINT, must not cut it short. So one raw handler stays installed for
 * the rest of the process's life (libuv's uv_signal handles restore the
 * default action when they are closed, which killed nodes in the middle
 * of their ChainDB close): the first signal is latched and written to a
 * pipe that loops watch; every later one is ignored and logged. SIGKILL
 * still forces a stop: the database is crash safe.
 *
 * The handler only uses async-signal-safe calls: an atomic exchange,
 * write(2), clock_gettime(2) and arithmetic.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io_internal.h"

static atomic_int first_signal;
static int wake[2] = {-1, -1}; /* readable once the first signal came; never closed */
static char component[32] = "cardinal";

/* ---- The log line of a repeat, made without stdio or locks ---- */

static char *put_str(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

static char *put_num(char *p, unsigned long v, int width) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0 || n < width);
  while (n > 0) *p++ = digits[--n];
  return p;
}

/* UTC as cdl_log writes it, 2024-01-31T12:00:00.000Z (the civil date
 * from days since 1970, after H. Hinnant's days_from_civil inverse). */
static char *put_utc(char *p) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long days = (long)(ts.tv_sec / 86400) + 719468, secs = (long)(ts.tv_sec % 86400);
  long era = days / 146097, doe = days - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  long day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  long year = yoe + era * 400 + (month <= 2);
  p = put_num(p, (unsigned long)year, 4);
  *p++ = '-';
  p = put_num(p, (unsigned long)month, 2);
  *p++ = '-';
  p = put_num(p, (unsigned long)day, 2);
  *p++ = 'T';
  p = put_num(p, (unsigned long)(secs / 3600), 2);
  *p++ = ':';
  p = put_num(p, (unsigned long)(secs / 60 % 60), 2);
  *p++ = ':';
  p = put_num(p, (unsigned long)(secs % 60), 2);
  *p++ = '.';
  p = put_num(p, (unsigned long)(ts.tv_nsec / 1000000), 3);
  return put_str(p, "Z");
}

static void log_repeat(int signum) {
  char line[256], *p = line;
  p = put_str(p, "{\"at\":\"");
  p = put_utc(p);
  p = put_str(p, "\",\"level\":\"warn\",\"component\":\"");
  p = put_str(p, component);
  p = put_str(p, "\",\"event\":\"stop.repeated\",\"msg\":\"signal ");
  p = put_num(p, (unsigned long)signum, 1);
  p = put_str(p, " ignored: a clean stop is under way; SIGKILL forces one\"}\n");
  ssize_t w = write(STDERR_FILENO, line, (size_t)(p - line));
  (void)w; /* nothing to do if stderr is gone */
}

static void on_signal(int signum) {
  int saved = errno;
  int none = 0;
  if (atomic_compare_exchange_strong(&first_signal, &none, signum)) {
    ssize_t w = write(wake[1], "!", 1);
    (void)w; /* the pipe is empty: one byte always fits */
  } else {
    log_repeat(signum);
  }
  errno = saved;
}

/* ---- Installing it, once per process ---- */

static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;
static pthread_once_t catch_once = PTHREAD_ONCE_INIT;

static void make_pipe(void) {
  if (pipe(wake) != 0) {
    wake[0] = wake[1] = -1;
    return;
  }
  for (int i = 0; i < 2; i++) {
    fcntl(wake[i], F_SETFD, FD_CLOEXEC);
    fcntl(wake[i], F_SETFL, O_NONBLOCK); /* the handler's write never blocks */
  }
}

static void install(void) {
  pthread_once(&pipe_once, make_pipe);
  /* SA_RESTART: a call a repeat interrupts is restarted, so code that
   * does not expect EINTR (the ChainDB's close) is not disturbed; poll and
   * epoll_wait still return EINTR, so waiting loops see the flag. */
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void cdl_io_stop_catch(const char *name) {
  static atomic_flag named = ATOMIC_FLAG_INIT;
  if (!atomic_flag_test_and_set(&named))
    snprintf(component, sizeof component, "%s", name ? name : "cardinal");
  pthread_once(&catch_once, install);
}

int cdl_io_stop_signal(void) { return atomic_load(&first_signal); }

/* ---- Watching for it on a loop ---- */

static void on_watch_close(uv_handle_t *h) {
  cdl_io_stop_watch *w = h->data;
  close(w->fd);
  w->fd = -1;
}

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  cdl_io_stop_watch *w = p->data;
  cdl_io_stop_watch_close(w); /* the byte stays: the pipe is a latch */
  w->on_stop(w->ctx, cdl_io_stop_signal());
}

int cdl_io_stop_watch_start(uv_loop_t *loop, cdl_io_stop_watch *w,
                            void (*on_stop)(void *ctx, int signum), void *ctx, cdl_error *err) {
  *w = (cdl_io_stop_watch){.fd = -1, .on_stop = on_stop, .ctx = ctx};
  pthread_once(&pipe_once, make_pipe);
  /* A copy of the read end per watch: libuv wants one poll handle per
   * descriptor and loop, and this one can be closed with the watch. */
  w->fd = wake[0] < 0 ? -1 : fcntl(wake[0], F_DUPFD_CLOEXEC, 0);
  if (w->fd < 0)
    return cdl_error_set(err, CDL_E_IO, 0, "stop signals: no pipe: %s", strerror(errno));
  int rc = uv_poll_init(loop, &w->poll, w->fd);
  if (rc != 0) {
    close(w->fd);
    w->fd = -1;
    return cdl_error_set(err, CDL_E_IO, 0, "stop signals: %s", uv_strerror(rc));
  }
  w->poll.data = w;
  w->active = true;
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  return CDL_OK;
}

void cdl_io_stop_watch_close(cdl_io_stop_watch *w) {
  if (!w->active) return;
  w->active = false;
  uv_close((uv_handle_t *)&w->poll, on_watch_close);
}
