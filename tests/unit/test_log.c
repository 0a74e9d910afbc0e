/*
 * test_log.c: the structured log (include/cardinal/log.h, src/base/log.c;
 * docs/node.md "Logs"): cardano-node's severity names, case-insensitive,
 * mapped onto the four levels the JSON names; lines below the minimum
 * dropped; the log file appended to and, after a SIGHUP, reopened by its
 * name so that logrotate's moved file is followed by a fresh one.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardinal/log.h"
#include "support.h"

static char dir[64];

static int setup(void **state) {
  test_group_setup(state);
  snprintf(dir, sizeof dir, "/tmp/cdl-log-XXXXXX");
  return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_severity_names(void **state) {
  (void)state;
  static const struct {
    const char *text;
    cdl_log_level level;
  } GOOD[] = {{"Debug", CDL_LOG_DEBUG},  {"debug", CDL_LOG_DEBUG},    {"DEBUG", CDL_LOG_DEBUG},
              {"Info", CDL_LOG_INFO},    {"info", CDL_LOG_INFO},      {"Notice", CDL_LOG_INFO},
              {"Warning", CDL_LOG_WARN}, {"warn", CDL_LOG_WARN},      {"Error", CDL_LOG_ERROR},
              {"eRRoR", CDL_LOG_ERROR},  {"Critical", CDL_LOG_ERROR}, {"Emergency", CDL_LOG_ERROR}};
  for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
    cdl_log_level got = (cdl_log_level)99;
    assert_true(cdl_log_level_parse(GOOD[i].text, &got));
    assert_int_equal(got, GOOD[i].level);
  }
  static const char *const BAD[] = {"", "Loud", "Infos", "Inf", "Warn ", " debug", "0", "trace"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    cdl_log_level got = CDL_LOG_DEBUG;
    assert_false(cdl_log_level_parse(BAD[i], &got));
    assert_int_equal(got, CDL_LOG_DEBUG); /* untouched */
  }
  cdl_log_level got;
  assert_false(cdl_log_level_parse(NULL, &got));
  /* The JSON keeps its four names. */
  assert_string_equal(cdl_log_level_name(CDL_LOG_DEBUG), "debug");
  assert_string_equal(cdl_log_level_name(CDL_LOG_INFO), "info");
  assert_string_equal(cdl_log_level_name(CDL_LOG_WARN), "warn");
  assert_string_equal(cdl_log_level_name(CDL_LOG_ERROR), "error");
}

/* The whole of |path|, or "" when it does not exist. */
static char *slurp(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return buf;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void test_file_append_and_reopen(void **state) {
  (void)state;
  char path[128], moved[128], text[4096];
  snprintf(path, sizeof path, "%s/node.log", dir);
  snprintf(moved, sizeof moved, "%s/node.log.1", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("kept\n", f); /* appended to, never truncated */
  fclose(f);
  cdl_logger lg = {.min = CDL_LOG_INFO};
  cdl_error err = {0};
  assert_int_equal(cdl_log_open_file(&lg, path, &err), CDL_OK);
  cdl_log(&lg, CDL_LOG_DEBUG, "t", "below.minimum", "dropped");
  cdl_log(&lg, CDL_LOG_INFO, "t", "first", "one");
  assert_int_equal(rename(path, moved), 0);
  cdl_log(&lg, CDL_LOG_INFO, "t", "second", "still the moved file: no SIGHUP yet");
  cdl_log_catch_hangup();
  assert_int_equal(raise(SIGHUP), 0); /* handled: the test goes on */
  cdl_log(&lg, CDL_LOG_WARN, "t", "third", "the fresh file");
  slurp(moved, text, sizeof text);
  assert_int_equal(strncmp(text, "kept\n", 5), 0);
  assert_null(strstr(text, "below.minimum"));
  assert_non_null(strstr(text, "\"level\":\"info\",\"component\":\"t\",\"event\":\"first\""));
  assert_non_null(strstr(text, "\"event\":\"second\""));
  assert_null(strstr(text, "\"event\":\"third\""));
  slurp(path, text, sizeof text);
  assert_non_null(strstr(text, "\"level\":\"warn\",\"component\":\"t\",\"event\":\"third\""));
  assert_null(strstr(text, "\"event\":\"second\""));
  /* A SIGHUP with nothing logged after it is not lost, nor taken twice. */
  assert_int_equal(raise(SIGHUP), 0);
  cdl_log(&lg, CDL_LOG_INFO, "t", "fourth", "same file");
  slurp(path, text, sizeof text);
  assert_non_null(strstr(text, "\"event\":\"fourth\""));
  fclose(lg.out);
}

static void test_file_refused(void **state) {
  (void)state;
  cdl_logger lg = {.min = CDL_LOG_INFO};
  cdl_error err = {0};
  char path[128];
  snprintf(path, sizeof path, "%s/no/such/dir/node.log", dir);
  assert_int_equal(cdl_log_open_file(&lg, path, &err), CDL_E_IO);
  assert_non_null(strstr(err.message, "log.file"));
  assert_null(lg.out);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_severity_names),
                                     cmocka_unit_test(test_file_append_and_reopen),
                                     cmocka_unit_test(test_file_refused)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
