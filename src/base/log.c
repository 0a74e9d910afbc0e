/*
 * log.c: structured log lines (include/cardinal/log.h; docs/design.md
 * section 4, "Logging"; docs/node.md "Logs"): the severities, the line
 * format and the log file reopened on SIGHUP for logrotate.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "cardinal/log.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 2048
#define MSG_BYTES 1024

static const char *const LEVELS[] = {"debug", "info", "warn", "error"};

const char *cdl_log_level_name(cdl_log_level level) {
  return (unsigned)level < 4 ? LEVELS[level] : "?";
}

bool cdl_log_level_parse(const char *text, cdl_log_level *out) {
  /* cardano-node's severities, mapped onto our four levels. */
  static const struct {
    const char *name;
    cdl_log_level level;
  } NAMES[] = {{"debug", CDL_LOG_DEBUG},   {"info", CDL_LOG_INFO},     {"notice", CDL_LOG_INFO},
               {"warning", CDL_LOG_WARN},  {"warn", CDL_LOG_WARN},     {"error", CDL_LOG_ERROR},
               {"critical", CDL_LOG_ERROR}, {"emergency", CDL_LOG_ERROR}};
  if (text == NULL) return false;
  for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
    if (strcasecmp(text, NAMES[i].name) == 0) {
      *out = NAMES[i].level;
      return true;
    }
  return false;
}

/* Set by the SIGHUP handler, taken by the next line written to a file. */
static atomic_int hangup_seen;

static void on_hangup(int signum) {
  (void)signum;
  atomic_store(&hangup_seen, 1);
}

void cdl_log_catch_hangup(void) {
  struct sigaction sa = {.sa_handler = on_hangup, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
}

int cdl_log_open_file(cdl_logger *lg, const char *path, cdl_error *err) {
  FILE *f = fopen(path, "a");
  if (f == NULL)
    return cdl_error_set(err, CDL_E_IO, 0, "log.file: cannot open %s for appending: %s", path,
                         strerror(errno));
  lg->out = f;
  lg->path = path;
  return CDL_OK;
}

/* After a SIGHUP, the file is opened again by its name: logrotate has
 * moved the old one away. When it cannot be, lines keep going to the old
 * file rather than nowhere. */
static void reopen_if_asked(const cdl_logger *lg) {
  if (lg->path == NULL || !atomic_exchange(&hangup_seen, 0)) return;
  FILE *f = fopen(lg->path, "a");
  if (f == NULL) return;
  /* |out| is shared by whoever holds the logger: the stream object stays,
   * its descriptor is replaced. */
  fflush(lg->out);
  if (dup2(fileno(f), fileno(lg->out)) < 0) {
    fclose(f);
    return;
  }
  fclose(f);
}

/* Appends |s| as the inside of a JSON string; stops before |end|. */
static char *put_escaped(char *p, char *end, const char *s) {
  static const char HEX[] = "0123456789abcdef";
  for (; *s && p + 7 < end; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      memcpy(p, "\\u00", 4);
      p[4] = HEX[c >> 4];
      p[5] = HEX[c & 15];
      p += 6;
    } else {
      *p++ = (char)c;
    }
  }
  return p;
}

static char *put_text(char *p, char *end, const char *s) {
  size_t n = strlen(s);
  if (n > (size_t)(end - p)) n = (size_t)(end - p);
  memcpy(p, s, n);
  return p + n;
}

void cdl_log(const cdl_logger *lg, cdl_log_level level, const char *component, const char *event,
             const char *fmt, ...) {
  if (lg == NULL || lg->out == NULL || level < lg->min) return;
  reopen_if_asked(lg);
  char msg[MSG_BYTES], line[LINE_BYTES], at[40];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(at + n, sizeof at - n, ".%03ldZ", ts.tv_nsec / 1000000);
  char *p = line, *end = line + sizeof line - 4;
  p = put_text(p, end, "{\"at\":\"");
  p = put_text(p, end, at);
  p = put_text(p, end, "\",\"level\":\"");
  p = put_text(p, end, cdl_log_level_name(level));
  p = put_text(p, end, "\",\"component\":\"");
  p = put_escaped(p, end, component);
  p = put_text(p, end, "\",\"event\":\"");
  p = put_escaped(p, end, event);
  p = put_text(p, end, "\",\"msg\":\"");
  p = put_escaped(p, end, msg);
  memcpy(p, "\"}\n", 3);
  fwrite(line, 1, (size_t)(p + 3 - line), lg->out);
  fflush(lg->out);
}
