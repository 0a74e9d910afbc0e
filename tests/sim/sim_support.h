/*
 * sim_support.h: helpers of the tests on the simulator's disk
 * (src/sim/sim_disk.h; tests/sim/test_sim_disk.c and the allocation
 * sweep tests/alloc/test_alloc_sim_disk.c): whole files written, read
 * and checked, directories made and synced, listings, and a print of a
 * whole disk that two disks share when they hold the same files byte for
 * byte. Each call fails the test when what it needs does not happen.
 */
#ifndef CARDINAL_TEST_SIM_SUPPORT_H
#define CARDINAL_TEST_SIM_SUPPORT_H

#include "../unit/support.h"
#include "sim/sim_disk.h"

/* Creates or replaces |path| with |data|; synced when asked. */
void put_file(cdl_fs *fs, const char *path, const char *data, bool sync);
/* Appends |data| through an open handle. */
void append_file(cdl_fs *fs, int h, const char *data);
/* The whole of |path| as a string in |out| (at most cap - 1 bytes), or
 * the read's code. */
int get_file(cdl_fs *fs, const char *path, char *out, size_t cap);
/* |path| holds exactly |want|. */
void expect_file(cdl_fs *fs, const char *path, const char *want);
void mkdir_ok(cdl_fs *fs, const char *path);
void sync_dir_ok(cdl_fs *fs, const char *path);
/* A new disk of |seed| holding the directory "d"; its files in *fs. */
sim_disk *disk_with_dir(uint64_t seed, cdl_fs **fs);

/* A listing joined with commas, into a fixed buffer. */
typedef struct listing {
  char text[512];
} listing;
const char *list_of(cdl_fs *fs, const char *dir, listing *l);

/* Every file and directory of |d|, path, length and bytes, in order
 * (|out| initialised here). */
void tree_of(sim_disk *d, cdl_buf *out);
bool same_tree(sim_disk *a, sim_disk *b);

#endif
