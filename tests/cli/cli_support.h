/*
 * cli_support.h: running the cardinal-cli binary from a C test
 * (tests/cli/test_cli.c, test_cli_governance.c; docs/testing.md): its
 * stdout and stderr captured, its JSON output and error JSON read.
 * CDL_CLI names the binary (tests/CMakeLists.txt).
 */
#ifndef CARDINAL_TEST_CLI_SUPPORT_H
#define CARDINAL_TEST_CLI_SUPPORT_H

#include <jansson.h>
#include <sys/types.h>

#include "../unit/support.h"

extern char stdout_buf[1 << 24], stderr_buf[8192];

/* Runs `cardinal-cli ARGS` through the shell; returns the exit code, the
 * output in stdout_buf and stderr_buf. */
int cli(const char *args);
/* The same for any program (e.g. CDL_NODE): `PROGRAM ARGS` through the shell. */
int run_program(const char *program, const char *args);
/* |text| as JSON; fails the test when it is not. */
json_t *parse(const char *text);
/* A string or integer member; fails the test when it is missing. */
const char *str(json_t *obj, const char *key);
json_int_t num(json_t *obj, const char *key);
/* The rule named in the error JSON on the last line of stderr. */
const char *error_rule(void);
/* Whether two files hold the same bytes (both readable, at most 64 MB). */
bool same_file(const char *a, const char *b);
/* Runs a printf-formatted shell command, which must succeed. */
void shell_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A process the test started (a `cardinal-node serve`): ended by its pid
 * when the test program exits, even after a failed assertion (cmocka goes
 * on to the next test, and the program exits normally at the end), unless
 * cli_child_ended said it was stopped. */
void cli_child_started(pid_t pid);
void cli_child_ended(pid_t pid);

#endif
