/*
 * log.c: structured log lines (include/cardinal/log.h; docs/design.md
 * section 4, "Logging").
 */
#include "cardinal/log.h"

#include <string.h>
#include <time.h>

#define LINE_BYTES 2048
#define MSG_BYTES 1024

static const char *const LEVELS[] = {"debug", "info", "warn", "error"};

const char *cdl_log_level_name(cdl_log_level level) {
  return (unsigned)level < 4 ? LEVELS[level] : "?";
}

bool cdl_log_level_parse(const char *text, cdl_log_level *out) {
  for (unsigned i = 0; i < 4; i++)
    if (strcmp(text, LEVELS[i]) == 0) {
      *out = (cdl_log_level)i;
      return true;
    }
  return false;
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
