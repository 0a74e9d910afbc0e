/*
 * killer_fs.h: a file system that kills its process in the middle of its
 * work (docs/testing.md "Crash tests"): it passes every operation to the
 * real one and counts the changes (a create, write, sync, truncate,
 * rename, remove, mkdir, directory sync); at the armed change it SIGKILLs
 * the process before the change, after it, or (a write) after a prefix of
 * it reached the file, which is what a crash can leave. Used by the crash
 * tests' children (test_crash.c, crash_phases.c); one per process.
 */
#ifndef CARDINAL_TEST_KILLER_FS_H
#define CARDINAL_TEST_KILLER_FS_H

#include "cardinal/storage.h"

typedef enum kill_phase {
  KILL_RANDOM = 0, /* before or after at random; a write torn at a random byte (0..all) */
  KILL_BEFORE,     /* nothing of the change happens */
  KILL_TORN,       /* a write: 1..len-1 of its bytes reach the file (others: as BEFORE) */
  KILL_AFTER       /* the change is made, then the process dies */
} kill_phase;

/* What a change is, as the counting run records it. */
typedef enum change_kind { CHANGE_WRITE = 'w', CHANGE_OTHER = 'o' } change_kind;

#define KILLER_MAX_CHANGES 8192

/* Arms the killer: change number |at| (from 1; 0: never) kills in |phase|;
 * just before the kill the 8 bytes of |kill_msg| go to |fd|. |seed| picks
 * torn lengths and random phases. The file system is the process's only
 * one and lives until it exits. */
cdl_fs *killer_fs(uint64_t at, kill_phase phase, uint64_t seed, int fd, uint64_t kill_msg);
/* Changes made so far, and what each was (kinds[i] for change i + 1). */
uint64_t killer_changes(void);
const char *killer_kinds(void);

#endif
