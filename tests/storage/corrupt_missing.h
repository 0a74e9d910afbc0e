/*
 * corrupt_missing.h: case (h) of the storage corruption test, missing
 * files (corrupt_missing.c; docs/storage.md "Missing files"), and the
 * check the random cases of (g) share with it.
 */
#ifndef CDL_TESTS_CORRUPT_MISSING_H
#define CDL_TESTS_CORRUPT_MISSING_H

#include "corrupt_world.h"

/* What a refusal must offer for a chunk missing from chunk |c| on: the
 * truncation that keeps the blocks before it, or nothing when none is. */
void remedy_for(uint32_t c, char *out, size_t cap);
/* Copy |k| opened by its owner and by a reader: both refused with
 * storage.missing, the message saying |what| and |remedy|, and not a byte
 * of any file changed. */
void expect_missing(kase *k, const char *what, const char *remedy);

/* The cases, by seed (chunk numbers for some). */
void chunk_file_missing_case(failures *f, uint64_t seed);
void chunk_gap_case(failures *f, uint64_t seed);
void last_chunks_missing_case(failures *f, uint64_t seed);
/* A few of them on the mainnet world. */
void mainnet_missing_cases(failures *f);
/* The owner's open that cuts damage, killed before and after each change. */
void killed_cuts(failures *f);

#endif /* CDL_TESTS_CORRUPT_MISSING_H */
