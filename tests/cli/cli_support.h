/*
 * cli_support.h: what the CLI tests share (tests/cli): running the real
 * cardinal-cli binary (CDL_CLI) and reading its JSON output and error
 * JSON (docs/cli.md "Output").
 */
#ifndef CARDINAL_TEST_CLI_SUPPORT_H
#define CARDINAL_TEST_CLI_SUPPORT_H

#include <jansson.h>

#include "../unit/support.h"

/* The last command's stdout and stderr. */
extern char stdout_buf[1 << 24], stderr_buf[8192];

/* Runs `cardinal-cli ARGS`; returns the exit code, output in the buffers. */
int cli(const char *args);
/* JSON text, failing the test when it is not JSON. */
json_t *parse(const char *text);
/* A string / integer member, failing the test when missing. */
const char *str(json_t *obj, const char *key);
json_int_t num(json_t *obj, const char *key);
/* The rule named in the error JSON on stderr (its last line). */
const char *error_rule(void);
/* Runs a printf-formatted shell command, which must succeed. */
void shell_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
