/*
 * bench_scale.c: the scale benchmark, `make bench-scale` (issue 27 item 4;
 * docs/testing.md "Benchmarks", docs/performance.md): how time, memory,
 * disk and restart grow from the first epoch to the length of the whole
 * Byron era.
 *
 * A generated network (k = 2160, mainnet's epochs of 21,600 slots, 7
 * genesis keys, SCALE_KEYS funded keys) and a chain of SCALE_BLOCKS slots,
 * a block in every slot (default 4,492,800: epochs 0 to 207, mainnet's
 * Byron era, or fewer when the disk cannot hold that), a share of the
 * blocks (SCALE_TX_SHARE, default 0.25) carrying a transaction of one
 * input and SCALE_OUTPUTS outputs (default 3), so that the UTxO grows by
 * two entries a transaction, past two million over the era. Then, each in
 * a process of its own (bench_scale_child.c, bench_scale_import.c):
 *
 *   validation  the chain replayed through the ledger with every rule and
 *               signature on SCALE_THREADS threads (default 1), timed per
 *               epoch (wall clock and CPU), with its RSS;
 *   import      the chain added to a fresh ChainDB, with at 1/8, 1/4, 1/2
 *               and all of the chain: the database and snapshot sizes on
 *               disk, and restarts (opening the ChainDB as a node starts).
 *
 * The figures at each mark are printed against baselines of the same run
 * (the raw Ed25519 verify rate, the first epoch's rate, the RSS before the
 * first block, the chain's own bytes, reading the snapshot once), written
 * to a CSV, and plotted to a PNG when gnuplot is installed. Nothing is
 * asserted on time: the targets (peak RSS under 200 MB at two million
 * UTxO entries, restart under 200 ms at the largest size, the last epoch's
 * validation rate within 20% of the first's) are reported met or not.
 *
 * Settings (environment): SCALE_BLOCKS, SCALE_DIR (default bench-scale),
 * SCALE_THREADS, SCALE_KEYS, SCALE_TX_SHARE, SCALE_OUTPUTS, SCALE_KEEP=1
 * (keep the chain and the database), SCALE_CSV, SCALE_PNG. `bench_scale
 * report` prints the figures of the last run in SCALE_DIR again.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "bench_common.h"
#include "bench_scale.h"
#include "cardinal/crypto.h"
#include "cardinal/gen.h"

#define MAINNET_MAGIC 1097911063
#define MAX_LOVELACE_TOTAL 40000000000000000ull /* under the 45e15 of all ada */
#define DISK_SPARE ((uint64_t)2 << 30)          /* left free for everyone else */

typedef struct scale_cfg {
  uint64_t slots;
  unsigned threads;
  uint32_t keys, outputs;
  double tx_share;
  bool keep;
  char dir[400], net[450], chunk[450], db[450], validation[450], import[450];
  char csv[450], epochs_csv[450], png[450], note[700];
} scale_cfg;

static uint64_t env_u64(const char *name, uint64_t dflt, uint64_t lo, uint64_t hi) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    return dflt;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (*end != '\0' || n < lo || n > hi) {
    fprintf(stderr, "bench_scale: %s=%s: a whole number from %llu to %llu\n", name, v,
            (unsigned long long)lo, (unsigned long long)hi);
    exit(2);
  }
  return n;
}

static double env_share(const char *name, double dflt) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    return dflt;
  char *end;
  double x = strtod(v, &end);
  if (*end != '\0' || !(x > 0 && x <= 1)) {
    fprintf(stderr, "bench_scale: %s=%s: a share above 0 and at most 1\n", name, v);
    exit(2);
  }
  return x;
}

static void env_path(char *out, size_t cap, const char *name, const char *dir, const char *file) {
  const char *v = getenv(name);
  if (v != NULL && *v != '\0')
    snprintf(out, cap, "%s", v);
  else
    snprintf(out, cap, "%s/%s", dir, file);
}

static void read_config(scale_cfg *c) {
  memset(c, 0, sizeof *c);
  c->slots = env_u64("SCALE_BLOCKS", (uint64_t)SCALE_BYRON_EPOCHS * SCALE_EPOCH_SLOTS,
                     2 * SCALE_EPOCH_SLOTS, (uint64_t)SCALE_MAX_EPOCHS * SCALE_EPOCH_SLOTS);
  c->threads = (unsigned)env_u64("SCALE_THREADS", 1, 1, 64);
  c->keys = (uint32_t)env_u64("SCALE_KEYS", 1000, 1, 1000000);
  c->outputs = (uint32_t)env_u64("SCALE_OUTPUTS", 3, 2, 64);
  c->tx_share = env_share("SCALE_TX_SHARE", 0.25);
  c->keep = env_u64("SCALE_KEEP", 0, 0, 1) == 1;
  const char *dir = getenv("SCALE_DIR");
  snprintf(c->dir, sizeof c->dir, "%s", dir && *dir ? dir : "bench-scale");
  snprintf(c->net, sizeof c->net, "%s/net", c->dir);
  snprintf(c->chunk, sizeof c->chunk, "%s/chain.chunk", c->dir);
  snprintf(c->db, sizeof c->db, "%s/db", c->dir);
  snprintf(c->validation, sizeof c->validation, "%s/validation.out", c->dir);
  snprintf(c->import, sizeof c->import, "%s/import.out", c->dir);
  env_path(c->csv, sizeof c->csv, "SCALE_CSV", c->dir, "bench-scale.csv");
  snprintf(c->epochs_csv, sizeof c->epochs_csv, "%s/bench-scale-epochs.csv", c->dir);
  env_path(c->png, sizeof c->png, "SCALE_PNG", c->dir, "bench-scale.png");
}

/* Bytes a slot costs on disk, all copies counted: its block in the chunk
 * file and again in the immutable DB (with its index entry), plus the
 * snapshots the UTxO it grows takes (two kept, a third being written). */
static double disk_per_slot(const scale_cfg *c) {
  double block = 700 + c->tx_share * (150 + 45.0 * c->outputs);
  double entries = c->tx_share * (c->outputs - 1);
  return 2 * block + 60 + 3 * 50 * entries;
}

/* The chain shrinks to whole epochs that fit the free disk, saying why. */
static void fit_disk(scale_cfg *c) {
  struct statvfs fs;
  if (statvfs(c->dir, &fs) != 0)
    return;
  uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
  uint64_t usable = free_bytes > DISK_SPARE ? free_bytes - DISK_SPARE : 0;
  double need = disk_per_slot(c) * (double)c->slots;
  if (need <= (double)usable)
    return;
  uint64_t epochs = (uint64_t)((double)usable / disk_per_slot(c)) / SCALE_EPOCH_SLOTS;
  if (epochs < 2) {
    fprintf(stderr, "bench_scale: %.1f GB free in %s cannot hold even two epochs\n",
            free_bytes / 1e9, c->dir);
    exit(3);
  }
  snprintf(c->note, sizeof c->note,
           "%llu epochs: %.1f GB free in %s, where %llu slots would need about %.1f GB",
           (unsigned long long)epochs, free_bytes / 1e9, c->dir, (unsigned long long)c->slots,
           need / 1e9);
  c->slots = epochs * SCALE_EPOCH_SLOTS;
}

/* Removes what a run leaves behind but its figures. */
static void clean(const scale_cfg *c) {
  char cmd[1600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", c->net, c->db, c->chunk);
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_scale: failed: %s\n", cmd);
    exit(3);
  }
}

static void make_network(const scale_cfg *c, cdl_gen_dir *d) {
  uint64_t balance = MAX_LOVELACE_TOTAL / c->keys;
  cdl_gen_genesis_spec spec = {.protocol_magic = MAINNET_MAGIC,
                               .k = SCALE_K,
                               .start_time = 1700000000,
                               .genesis_keys = 7,
                               .poor_addresses = c->keys,
                               .poor_balance =
                                   balance < 40000000000000ull ? balance : 40000000000000ull,
                               .has_seed = true,
                               .seed = 1};
  cdl_gen_default_params(&spec.params);
  cdl_error err = {0};
  if (cdl_gen_genesis_create(&spec, c->net, &err) != CDL_OK ||
      cdl_gen_dir_load(c->net, d, &err) != CDL_OK) {
    fprintf(stderr, "bench_scale: network in %s: %s\n", c->net, err.message);
    exit(1);
  }
}

static void generate(const scale_cfg *c, const cdl_gen_dir *d, scale_run *run) {
  cdl_gen_chain_opts o = {.slots = c->slots,
                          .fill = 1.0,
                          .txs_per_block = 1,
                          .tx_share = c->tx_share,
                          .outputs_per_tx = c->outputs,
                          .delegation = true,
                          .updates = true,
                          .seed = 1};
  FILE *f = fopen(c->chunk, "wb");
  if (f == NULL) {
    perror(c->chunk);
    exit(3);
  }
  setvbuf(f, NULL, _IOFBF, (size_t)1 << 20);
  cdl_gen_chain_stats st;
  cdl_rejection rej;
  cdl_error err = {0};
  fprintf(stderr, "bench_scale: generating %llu slots into %s\n", (unsigned long long)c->slots,
          c->chunk);
  double t = bench_now_s();
  int rc = cdl_gen_chain(d, &o, f, &st, &rej, &err);
  if (fclose(f) != 0 || rc != CDL_OK) {
    fprintf(stderr, "bench_scale: generate: %s\n", rc != CDL_OK ? err.message : "write failed");
    exit(1);
  }
  double seconds = bench_now_s() - t;
  *run = (scale_run){.slots = c->slots,
                     .blocks = st.blocks,
                     .ebbs = st.ebbs,
                     .txs = st.txs,
                     .certificates = st.certificates,
                     .votes = st.votes,
                     .proposals = st.proposals,
                     .chain_bytes = st.bytes,
                     .generate_s = seconds,
                     .threads = c->threads,
                     .keys = c->keys,
                     .outputs = c->outputs,
                     .tx_share = c->tx_share};
}

/* Blocks (EBBs included) at 1/8, 1/4, 1/2 and all of the chain. */
static void place_marks(scale_run *run) {
  uint64_t total = run->blocks + run->ebbs;
  static const unsigned parts[SCALE_MARKS] = {8, 4, 2, 1};
  for (size_t i = 0; i < SCALE_MARKS; i++) {
    run->marks[i] = (total + parts[i] / 2) / parts[i];
    if (i > 0 && run->marks[i] <= run->marks[i - 1])
      run->marks[i] = run->marks[i - 1] + 1;
  }
}

static void spawn_or_die(const char *const *args, const char *what) {
  fprintf(stderr, "bench_scale: %s\n", what);
  if (scale_spawn(args) != 0) {
    fprintf(stderr, "bench_scale: %s failed\n", what);
    exit(1);
  }
}

static void measure(const scale_cfg *c, const scale_run *run, scale_validation *v,
                    scale_import *im) {
  char threads[16], marks[SCALE_MARKS][24], genesis[500];
  snprintf(threads, sizeof threads, "%u", c->threads);
  snprintf(genesis, sizeof genesis, "%s/genesis.json", c->net);
  for (size_t i = 0; i < SCALE_MARKS; i++)
    snprintf(marks[i], sizeof marks[i], "%llu", (unsigned long long)run->marks[i]);
  const char *validate[] = {"validate", genesis,  c->chunk, threads,  c->validation,
                            marks[0],   marks[1], marks[2], marks[3], NULL};
  spawn_or_die(validate, "validating (every signature)");
  const char *import[] = {"import", genesis,  c->chunk, c->db,    c->import,
                          marks[0], marks[1], marks[2], marks[3], NULL};
  spawn_or_die(import, "importing into a ChainDB");
  if (!scale_read_validation(c->validation, v) || !scale_read_import(c->import, im)) {
    fprintf(stderr, "bench_scale: the measurements' results cannot be read\n");
    exit(1);
  }
}

/* The run's own figures, so that `bench_scale report` can print the
 * table again from the result files alone. */
static void save_run(const scale_cfg *c, const scale_run *r) {
  char path[500];
  snprintf(path, sizeof path, "%s/run.out", c->dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return;
  fprintf(f, "%llu %llu %llu %llu %llu %llu %llu %llu %.6f %.3f %u %u %u %.6f\n%s\n",
          (unsigned long long)r->slots, (unsigned long long)r->blocks, (unsigned long long)r->ebbs,
          (unsigned long long)r->txs, (unsigned long long)r->certificates,
          (unsigned long long)r->votes, (unsigned long long)r->proposals,
          (unsigned long long)r->chain_bytes, r->generate_s, r->verify_rate, r->threads, r->keys,
          r->outputs, r->tx_share, r->size_note ? r->size_note : "");
  for (size_t i = 0; i < SCALE_MARKS; i++)
    fprintf(f, "%llu\n", (unsigned long long)r->marks[i]);
  fclose(f);
}

static bool load_run(const scale_cfg *c, scale_run *r, char *note, size_t cap) {
  char path[500];
  snprintf(path, sizeof path, "%s/run.out", c->dir);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  unsigned long long x[8];
  int got = fscanf(f, "%llu %llu %llu %llu %llu %llu %llu %llu %lf %lf %u %u %u %lf ", &x[0], &x[1],
                   &x[2], &x[3], &x[4], &x[5], &x[6], &x[7], &r->generate_s, &r->verify_rate,
                   &r->threads, &r->keys, &r->outputs, &r->tx_share);
  *r = (scale_run){.slots = x[0],
                   .blocks = x[1],
                   .ebbs = x[2],
                   .txs = x[3],
                   .certificates = x[4],
                   .votes = x[5],
                   .proposals = x[6],
                   .chain_bytes = x[7],
                   .generate_s = r->generate_s,
                   .verify_rate = r->verify_rate,
                   .threads = r->threads,
                   .keys = r->keys,
                   .outputs = r->outputs,
                   .tx_share = r->tx_share};
  if (fgets(note, (int)cap, f) != NULL)
    note[strcspn(note, "\n")] = '\0';
  r->size_note = note[0] ? note : NULL;
  fclose(f);
  return got == 14;
}

/* `bench_scale report`: the table, CSVs and plot again from SCALE_DIR. */
static int report_again(void) {
  scale_cfg c;
  read_config(&c);
  scale_run run;
  char note[700] = "";
  static scale_validation v;
  static scale_import im;
  if (!load_run(&c, &run, note, sizeof note) || !scale_read_validation(c.validation, &v) ||
      !scale_read_import(c.import, &im)) {
    fprintf(stderr, "bench_scale: no complete run in %s\n", c.dir);
    return 1;
  }
  scale_report(&run, &v, &im, c.csv, c.epochs_csv, c.png);
  return 0;
}

static int driver(void) {
  scale_cfg c;
  read_config(&c);
  struct stat st;
  if (mkdir(c.dir, 0755) != 0 && stat(c.dir, &st) != 0) {
    perror(c.dir);
    return 3;
  }
  clean(&c); /* a fresh start */
  fit_disk(&c);
  cdl_gen_dir d;
  make_network(&c, &d);
  scale_run run;
  generate(&c, &d, &run);
  cdl_gen_dir_free(&d);
  run.size_note = c.note[0] ? c.note : NULL;
  place_marks(&run);
  run.verify_rate = bench_verify_rate();
  static scale_validation v;
  static scale_import im;
  save_run(&c, &run);
  measure(&c, &run, &v, &im);
  scale_report(&run, &v, &im, c.csv, c.epochs_csv, c.png);
  if (!c.keep)
    clean(&c);
  return 0;
}

int main(int argc, char **argv) {
  if (cdl_crypto_init() != CDL_OK)
    return 1;
  if (argc > 1 && strcmp(argv[1], "validate") == 0)
    return scale_validate_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "import") == 0)
    return scale_import_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "restart") == 0)
    return scale_restart_main(argc - 1, argv + 1);
  if (argc == 2 && strcmp(argv[1], "report") == 0)
    return report_again();
  if (argc > 1) {
    fprintf(stderr, "usage: bench_scale (settings in the environment: see docs/testing.md)\n");
    return 2;
  }
  return driver();
}
