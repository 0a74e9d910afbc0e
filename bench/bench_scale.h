/*
 * bench_scale.h: what the parts of the scale benchmark share (`make
 * bench-scale`; docs/testing.md "Benchmarks", docs/performance.md): the
 * driver (bench_scale.c) generates the chain and runs each measurement in
 * a process of its own, so that every peak RSS is that one process's
 * (bench_scale_child.c); the report (bench_scale_report.c) turns their
 * figures into the table, the CSV and the plot.
 */
#ifndef CARDINAL_BENCH_SCALE_H
#define CARDINAL_BENCH_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCALE_K 2160
#define SCALE_EPOCH_SLOTS (10 * SCALE_K)
#define SCALE_BYRON_EPOCHS 208 /* mainnet's Byron era: epochs 0 to 207 */
#define SCALE_MARKS 4          /* 1/8, 1/4, 1/2 and all of the chain */
#define SCALE_MAX_EPOCHS 4096
#define SCALE_TARGET_ENTRIES 2000000 /* the RSS target is judged there */

/* ---- What the measuring processes report ---- */

/* One epoch of the validating process: totals when it ended. */
typedef struct scale_epoch {
  uint64_t blocks, entries;
  double wall_s, cpu_s; /* since the first block */
  long rss_kb;
} scale_epoch;

typedef struct scale_validation {
  long base_kb; /* RSS with the genesis ledger, before the first block */
  /* The best raw Ed25519 verify rate measured in the validating process
   * (before the first block and at each mark): the machine is shared, so
   * one measurement may fall in a busy moment. */
  double verify_rate;
  scale_epoch epochs[SCALE_MAX_EPOCHS];
  size_t n_epochs;
  bool crossed;        /* the UTxO reached SCALE_TARGET_ENTRIES */
  long crossed_hwm_kb; /* peak RSS then */
  uint64_t crossed_at; /* blocks applied then */
  struct {
    uint64_t blocks, entries;
    double wall_s, cpu_s;
    long hwm_kb;
  } marks[SCALE_MARKS];
} scale_validation;

typedef struct scale_import_mark {
  uint64_t blocks, entries;
  double add_s, cpu_s;  /* adding blocks only: closes and restarts excluded */
  long hwm_kb;          /* the importing process's peak RSS */
  double close_s;       /* the close: sync and the snapshot of the tip */
  uint64_t chunk_bytes; /* the blocks' own bytes */
  uint64_t db_bytes, immutable_bytes, volatile_bytes, ledger_bytes; /* on disk */
  uint64_t snapshot_bytes;                                          /* the newest */
  double restart_ms;                                                /* best of the restarts */
  long restart_hwm_kb;
  uint64_t restart_replayed;
  double read_ms; /* reading the snapshot's bytes and their CRC: the floor */
} scale_import_mark;

typedef struct scale_import {
  scale_import_mark marks[SCALE_MARKS];
} scale_import;

/* ---- Helpers (bench_scale_child.c) ---- */

/* A field of /proc/self/status in kB (VmHWM, VmRSS); 0 where unknown. */
long scale_status_kb(const char *field);
/* CPU seconds of the whole process (every thread). */
double scale_cpu_s(void);
/* Runs this program again with |args| (NULL-terminated, args[0] the verb)
 * and waits; 0 when it exited 0. */
int scale_spawn(const char *const *args);

/* The measuring processes: main() hands them their arguments. */
int scale_validate_main(int argc, char **argv);
int scale_import_main(int argc, char **argv);
int scale_restart_main(int argc, char **argv);

/* Result files, one line per figure, written by the processes above and
 * read by the driver; false when a file cannot be read whole. */
bool scale_read_validation(const char *path, scale_validation *v);
bool scale_read_import(const char *path, scale_import *im);

/* ---- The report (bench_scale_report.c) ---- */
typedef struct scale_run {
  uint64_t slots, blocks, ebbs, txs, certificates, votes, proposals, chain_bytes;
  uint64_t marks[SCALE_MARKS]; /* blocks (EBBs included) at each mark */
  double generate_s, verify_rate;
  unsigned threads;
  uint32_t keys, outputs;
  double tx_share;
  const char *size_note; /* why this size, when it is not the full era */
} scale_run;

void scale_report(const scale_run *run, const scale_validation *v, const scale_import *im,
                  const char *csv, const char *epochs_csv, const char *png);

#endif
