/*
 * cli_support.c: running the cardinal-cli binary from a C test (see
 * cli_support.h).
 */
#include "cli_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

char stdout_buf[1 << 24], stderr_buf[8192];

int cli(const char *args) { return run_program(CDL_CLI, args); }

int run_program(const char *program, const char *args) {
  char cmd[65536], err_path[] = "/tmp/cdl-cli-err-XXXXXX";
  int fd = mkstemp(err_path);
  assert_true(fd >= 0);
  snprintf(cmd, sizeof cmd, "%s %s 2>%s", program, args, err_path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(stdout_buf, 1, sizeof stdout_buf - 1, p);
  stdout_buf[n] = '\0';
  int status = pclose(p);
  FILE *e = fdopen(fd, "r");
  n = fread(stderr_buf, 1, sizeof stderr_buf - 1, e);
  stderr_buf[n] = '\0';
  fclose(e);
  unlink(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

json_t *parse(const char *text) {
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL)
    fail_msg("not JSON (%s): %.200s", jerr.text, text);
  return j;
}

const char *str(json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  if (s == NULL)
    fail_msg("no string field %s", key);
  return s;
}

json_int_t num(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v))
    fail_msg("no integer field %s", key);
  return json_integer_value(v);
}

const char *error_rule(void) {
  static char rule[64];
  /* Progress lines may precede the error: it is the last line. */
  size_t len = strlen(stderr_buf);
  while (len > 0 && stderr_buf[len - 1] == '\n')
    stderr_buf[--len] = '\0';
  const char *last = strrchr(stderr_buf, '\n');
  json_t *j = parse(last ? last + 1 : stderr_buf);
  const char *r = str(json_object_get(j, "error"), "rule");
  snprintf(rule, sizeof rule, "%s", r ? r : "");
  json_decref(j);
  return rule;
}

void shell_ok(const char *fmt, ...) {
  char cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (system(cmd) != 0)
    fail_msg("failed: %s", cmd);
}

bool same_file(const char *a, const char *b) {
  cdl_buf x, y;
  cdl_buf_init(&x, 0);
  cdl_buf_init(&y, 0);
  bool same = cdl_file_read_all(a, 1 << 26, &x, NULL) == CDL_OK &&
              cdl_file_read_all(b, 1 << 26, &y, NULL) == CDL_OK && x.len == y.len &&
              memcmp(x.data, y.data, x.len) == 0;
  cdl_buf_free(&x);
  cdl_buf_free(&y);
  return same;
}

/* ---- Processes a test started ----------------------------------------- */

#define MAX_CHILDREN 16
static pid_t children[MAX_CHILDREN];

static void end_children(void) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] > 0) kill(children[i], SIGKILL);
    children[i] = 0;
  }
}

void cli_child_started(pid_t pid) {
  static bool registered;
  if (!registered) registered = atexit(end_children) == 0;
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] == 0) {
      children[i] = pid;
      return;
    }
  }
  kill(pid, SIGKILL); /* more than a test may leave: end it now */
  fail_msg("more than %d processes started by one test", MAX_CHILDREN);
}

void cli_child_ended(pid_t pid) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i] == pid) children[i] = 0;
}
