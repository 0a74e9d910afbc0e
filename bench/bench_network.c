/*
 * bench_network.c: see bench_common.h (the generated network the
 * generator and storage benchmarks share).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

void bench_make_network(const char *dir, uint64_t k, cdl_gen_dir *d) {
  cdl_gen_genesis_spec spec = {.protocol_magic = 1097911063,
                               .k = k,
                               .start_time = 1700000000,
                               .genesis_keys = 7,
                               .poor_addresses = 20,
                               .poor_balance = 100000000000000ull,
                               .has_seed = true,
                               .seed = 1};
  cdl_gen_default_params(&spec.params);
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&spec, dir, &err) != CDL_OK ||
      cdl_gen_dir_load(dir, d, &err) != CDL_OK) {
    fprintf(stderr, "bench: generated network in %s: %s\n", dir, err.message);
    exit(1);
  }
}
