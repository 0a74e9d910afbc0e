/*
 * cardinal/log.h: structured logs (docs/design.md section 4, "Logging").
 * One JSON object per line: {"at", "level", "component", "event", "msg"},
 * written whole with one fwrite so lines from several sources never mix.
 * Severities are cardano-node's (docs/node.md "Logs"): Debug, Info,
 * Notice, Warning, Error, Critical; the JSON's level field keeps four
 * names (Notice logs as "info", Critical and Emergency as "error").
 */
#ifndef CARDINAL_LOG_H
#define CARDINAL_LOG_H

#include <stdio.h>

#include "cardinal/base.h"

typedef enum cdl_log_level {
  CDL_LOG_DEBUG = 0,
  CDL_LOG_INFO = 1,
  CDL_LOG_WARN = 2,
  CDL_LOG_ERROR = 3
} cdl_log_level;

typedef struct cdl_logger {
  FILE *out;         /* NULL: logging off */
  cdl_log_level min; /* lines below this level are dropped */
  /* The file |out| was opened from (cdl_log_open_file); NULL: a stream
   * such as stderr, never reopened. */
  const char *path;
} cdl_logger;

const char *cdl_log_level_name(cdl_log_level level);
/* Parses a severity, case-insensitively: cardano-node's names (Debug,
 * Info, Notice, Warning, Error, Critical, Emergency) and ours (warn). */
bool cdl_log_level_parse(const char *text, cdl_log_level *out);
/* Opens PATH for appending as |lg|'s output; the path is kept (it must
 * outlive |lg|) so that a SIGHUP reopens it. CDL_E_IO when it cannot. */
int cdl_log_open_file(cdl_logger *lg, const char *path, cdl_error *err);
/* Installs the SIGHUP handler (once per process): a SIGHUP no longer
 * stops the process; the next line logged to a file first reopens it,
 * so that logrotate's moved file is followed by a fresh one. The request
 * is one per process: it serves one file logger (a node has one). */
void cdl_log_catch_hangup(void);
/* |event| is a stable dotted name ("conn.closed"); the message is
 * free text, escaped here. */
void cdl_log(const cdl_logger *lg, cdl_log_level level, const char *component, const char *event,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* CARDINAL_LOG_H */
