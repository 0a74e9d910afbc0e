/*
 * fs_internal.h: the parts of the POSIX file system (fs.c) that live in
 * their own files: owner locks (fs_lock.c). Not public API.
 */
#ifndef CARDINAL_STORAGE_FS_INTERNAL_H
#define CARDINAL_STORAGE_FS_INTERNAL_H

#include "cardinal/storage.h"

int cdl_fs_posix_lock(cdl_fs *fs, const char *path, int *token, cdl_error *err);
void cdl_fs_posix_unlock(cdl_fs *fs, int token);

#endif
