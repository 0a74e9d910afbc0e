/*
 * sim_disk.h: the simulator's disk (docs/simulation.md "Disk"): a cdl_fs
 * (include/cardinal/storage.h "File interface") held in memory, one per
 * simulated node, that keeps what a real disk keeps across a crash and
 * lets the simulator inject the faults a real disk has: writes not yet
 * synced lost or torn by a crash, bit flips and truncation while the
 * node is down, a full disk, a shortage of descriptors, a close that
 * loses unsynced writes. Everything that varies comes from the seed
 * given at creation, so a run is exact.
 *
 * Durability model (POSIX as ext4 in data=ordered mode gives it, at its
 * weakest): a file's bytes are durable once its handle is synced; a
 * directory entry made or changed by create, rename or remove is durable
 * once its directory is synced (sync_dir). A crash keeps, for each file,
 * its durable bytes plus a seeded prefix of the writes made since its
 * last sync (the last one kept possibly torn at a seeded byte), and for
 * each directory a seeded prefix of its entry changes since its last
 * sync_dir (changes are kept in order, as a journal keeps them).
 */
#ifndef CARDINAL_SIM_DISK_H
#define CARDINAL_SIM_DISK_H

#include "cardinal/storage.h"

typedef struct sim_disk sim_disk;

typedef enum sim_crash_mode {
  SIM_CRASH_PROCESS = 0, /* the process died, the OS did not: every write survives */
  SIM_CRASH_POWER        /* power lost: unsynced writes and entries lost or torn (seeded) */
} sim_crash_mode;

typedef enum sim_corruption {
  SIM_CORRUPT_BITFLIP = 0, /* one bit of one file, at a seeded offset */
  SIM_CORRUPT_TRUNCATE     /* one file cut at a seeded length below its size */
} sim_corruption;

typedef struct sim_disk_stats {
  uint64_t files, bytes;           /* now, in the live view */
  uint64_t writes, syncs, dir_syncs;
  uint64_t refused_full;           /* writes refused: capacity reached */
  uint64_t refused_descriptors;    /* opens refused: max_open reached */
  uint64_t refused_frozen;         /* operations refused while frozen */
  uint64_t crashes, corruptions;
} sim_disk_stats;

/* A new, empty disk; NULL when memory ran out. */
sim_disk *sim_disk_new(uint64_t seed);
/* Frees it and everything in it (a handle still open is a leak the
 * caller is told of by sim_disk_open_handles first). */
void sim_disk_free(sim_disk *d);
/* The file interface over it, for cdl_chaindb_config.fs, the signing
 * record and anything else the node writes. Valid until sim_disk_free. */
cdl_fs *sim_disk_fs(sim_disk *d);

/* Faults that last until changed. */
/* Bytes the files may hold in all (0: no bound): a write that would pass
 * it fails with CDL_E_IO, "No space left on device", changing nothing. */
void sim_disk_set_capacity(sim_disk *d, uint64_t bytes);
/* Handles that may be open at once (0: CDL_FS_DEFAULT_MAX_OPEN): an open
 * past it fails as cdl_fs_open does at its bound (CDL_E_LIMIT). */
void sim_disk_set_max_open(sim_disk *d, size_t n);
/* A close drops the writes its file has had since its last sync (as
 * close reporting EIO on a network file system means). */
void sim_disk_set_lossy_close(sim_disk *d, bool on);

/* A crash, in two steps so that the simulator can tear down the node's
 * objects in between: freeze (the instant of the crash: every operation
 * from now on fails with CDL_E_IO "disk frozen (crashed)" and changes
 * nothing; closes and unmaps still free), then crash (what survives is
 * decided by |mode|; handles are all gone, locks released; the disk is
 * live again). */
void sim_disk_freeze(sim_disk *d);
void sim_disk_crash(sim_disk *d, sim_crash_mode mode);

/* While the node is down: damages one regular file whose path starts
 * with |prefix| (seeded choice among them, non-empty files only), writing
 * its path to |path| (cap bytes). False when there is no such file. */
bool sim_disk_corrupt(sim_disk *d, const char *prefix, sim_corruption kind, char *path,
                      size_t cap);

size_t sim_disk_open_handles(const sim_disk *d);
void sim_disk_stats_get(const sim_disk *d, sim_disk_stats *st);

#endif
