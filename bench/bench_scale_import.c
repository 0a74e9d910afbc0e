/*
 * bench_scale_import.c: the importing process of the scale benchmark
 * (bench_scale.h; docs/performance.md): the chain added to a fresh ChainDB
 * as `cardinal-cli db import` does (batches of 256, every signature
 * checked, an fsync only at a close), and at each mark the database
 * closed (sync, a snapshot of the tip), its files measured, the snapshot's
 * bytes read once with their CRC (the floor of any open that looks at the
 * whole image), three restarts in fresh processes (bench_scale_child.c),
 * and the database opened again to go on.
 *
 *   import GENESIS CHUNK DB OUT MARK1..MARK4
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_scale.h"
#include "cardinal/crypto.h"
#include "cardinal/storage.h"

#define IMPORT_BATCH 256
#define RESTARTS 3
#define READS 3

typedef struct import_pass {
  const char *genesis, *dir, *out_path;
  FILE *out;
  cdl_db_genesis dg;
  cdl_chaindb *db;
  uint64_t marks[SCALE_MARKS], applied, chunk_bytes;
  size_t next_mark;
  double add_s, cpu_s;
} import_pass;

static void die(const char *what, const cdl_error *err) {
  fprintf(stderr, "bench_scale: import: %s: %s\n", what, err->message);
  exit(1);
}

static void open_db(import_pass *p, bool create) {
  cdl_db_dir_options o = {.dir = p->dir,
                          .genesis = create ? p->genesis : NULL,
                          .create = create,
                          .sync_interval = UINT64_MAX};
  cdl_error err = {0};
  if (cdl_db_dir_open(&o, &p->dg, &p->db, NULL, &err) != CDL_OK)
    die("open", &err);
}

static void add_batch(import_pass *p, const cdl_span *spans, size_t n) {
  double t = bench_now_s(), c = scale_cpu_s();
  cdl_error err = {0};
  cdl_chaindb_batch_begin(p->db);
  for (size_t i = 0; i < n; i++) {
    cdl_chaindb_add_result res;
    cdl_rejection rej = {0};
    if (cdl_chaindb_add_block(p->db, spans[i].ptr, spans[i].len, &res, &rej, &err) != CDL_OK)
      die("add", &err);
    if (res.outcome != CDL_ADD_ADOPTED) {
      fprintf(stderr, "bench_scale: import: block %llu not adopted (%d): %s\n",
              (unsigned long long)(p->applied + i), res.outcome, rej.rule ? rej.rule : "");
      exit(1);
    }
    p->chunk_bytes += spans[i].len;
  }
  if (cdl_chaindb_batch_end(p->db, &err) != CDL_OK)
    die("batch", &err);
  p->applied += n;
  p->add_s += bench_now_s() - t;
  p->cpu_s += scale_cpu_s() - c;
}

/* ---- Files on disk ---- */

static uint64_t disk_total, disk_part[3]; /* nftw has no context */
static size_t dir_len;

static int count_file(const char *path, const struct stat *st, int flag, struct FTW *f) {
  (void)f;
  if (flag != FTW_F)
    return 0;
  uint64_t bytes = (uint64_t)st->st_blocks * 512;
  disk_total += bytes;
  static const char *parts[3] = {"/immutable/", "/volatile/", "/ledger/"};
  for (int i = 0; i < 3; i++)
    if (strncmp(path + dir_len, parts[i], strlen(parts[i])) == 0)
      disk_part[i] += bytes;
  return 0;
}

static void measure_disk(const char *dir, scale_import_mark *m) {
  disk_total = disk_part[0] = disk_part[1] = disk_part[2] = 0;
  dir_len = strlen(dir);
  nftw(dir, count_file, 16, FTW_PHYS);
  m->db_bytes = disk_total;
  m->immutable_bytes = disk_part[0];
  m->volatile_bytes = disk_part[1];
  m->ledger_bytes = disk_part[2];
}

/* The newest snapshot (names order by zero-padded slot) into |path|. */
static void newest_snapshot(const char *dir, char *path, size_t cap) {
  char ledger[512], best[256] = "";
  snprintf(ledger, sizeof ledger, "%s/ledger", dir);
  DIR *d = opendir(ledger);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "snapshot-", 9) == 0 && strstr(e->d_name, ".lsnap.") == NULL &&
        strcmp(e->d_name, best) > 0)
      snprintf(best, sizeof best, "%s", e->d_name);
  if (d != NULL)
    closedir(d);
  snprintf(path, cap, "%s/%s", ledger, best);
}

/* Best of READS: the file's bytes read into memory and their CRC32. */
static double read_floor_ms(const char *path, uint64_t *size) {
  double best = 1e30;
  for (int i = 0; i < READS; i++) {
    double t = bench_now_s();
    cdl_buf b;
    cdl_buf_init(&b, 0);
    cdl_error err = {0};
    if (cdl_file_read_all(path, (size_t)8 << 30, &b, &err) != CDL_OK)
      die(path, &err);
    volatile uint32_t crc = cdl_crc32(b.data, b.len);
    (void)crc;
    t = bench_now_s() - t;
    *size = b.len;
    cdl_buf_free(&b);
    if (t < best)
      best = t;
  }
  return best * 1e3;
}

/* RESTARTS opens in fresh processes; the best time, its RSS, replayed blocks. */
static void restarts(import_pass *p, scale_import_mark *m) {
  char file[600];
  snprintf(file, sizeof file, "%s.restarts", p->out_path);
  remove(file);
  for (int i = 0; i < RESTARTS; i++) {
    const char *args[] = {"restart", p->dir, file, NULL};
    if (scale_spawn(args) != 0) {
      fprintf(stderr, "bench_scale: a restart failed\n");
      exit(1);
    }
  }
  FILE *f = fopen(file, "r");
  m->restart_ms = 1e30;
  double ms;
  long hwm;
  unsigned long long replayed;
  while (f != NULL && fscanf(f, "restart %lf %ld %llu %*s\n", &ms, &hwm, &replayed) == 3) {
    if (ms >= m->restart_ms)
      continue;
    m->restart_ms = ms;
    m->restart_hwm_kb = hwm;
    m->restart_replayed = replayed;
  }
  if (f != NULL)
    fclose(f);
  remove(file);
}

static void at_mark(import_pass *p) {
  scale_import_mark m = {.blocks = p->applied,
                         .add_s = p->add_s,
                         .cpu_s = p->cpu_s,
                         .hwm_kb = scale_status_kb("VmHWM"),
                         .chunk_bytes = p->chunk_bytes};
  cdl_ledger_totals t;
  cdl_ledger_get_totals(cdl_chaindb_ledger(p->db), &t);
  m.entries = t.utxo_entries;
  cdl_error err = {0};
  double c = bench_now_s();
  if (cdl_chaindb_close(p->db, &err) != CDL_OK)
    die("close", &err);
  m.close_s = bench_now_s() - c;
  cdl_db_genesis_free(&p->dg);
  measure_disk(p->dir, &m);
  char snap[1024];
  newest_snapshot(p->dir, snap, sizeof snap);
  m.read_ms = read_floor_ms(snap, &m.snapshot_bytes);
  restarts(p, &m);
  fprintf(p->out,
          "mark %zu %llu %llu %.6f %.6f %ld %.6f %llu %llu %llu %llu %llu %llu %.3f %ld "
          "%llu %.3f\n",
          p->next_mark++, (unsigned long long)m.blocks, (unsigned long long)m.entries, m.add_s,
          m.cpu_s, m.hwm_kb, m.close_s, (unsigned long long)m.chunk_bytes,
          (unsigned long long)m.db_bytes, (unsigned long long)m.immutable_bytes,
          (unsigned long long)m.volatile_bytes, (unsigned long long)m.ledger_bytes,
          (unsigned long long)m.snapshot_bytes, m.restart_ms, m.restart_hwm_kb,
          (unsigned long long)m.restart_replayed, m.read_ms);
  fprintf(stderr, "bench_scale: imported %llu blocks; restart %.1f ms\n",
          (unsigned long long)m.blocks, m.restart_ms);
  if (p->next_mark < SCALE_MARKS)
    open_db(p, false);
}

/* One read batch, cut at the marks. */
static void import_batch(import_pass *p, const cdl_span *spans, size_t n) {
  size_t from = 0;
  while (from < n && p->next_mark < SCALE_MARKS) {
    uint64_t room = p->marks[p->next_mark] - p->applied;
    size_t take = n - from < room ? n - from : (size_t)room;
    add_batch(p, spans + from, take);
    from += take;
    if (p->applied == p->marks[p->next_mark])
      at_mark(p);
  }
}

int scale_import_main(int argc, char **argv) {
  if (argc != 5 + SCALE_MARKS)
    return 2;
  import_pass p = {.genesis = argv[1], .dir = argv[3], .out_path = argv[4]};
  p.out = fopen(argv[4], "w");
  if (p.out == NULL)
    return 3;
  setvbuf(p.out, NULL, _IOLBF, 0);
  for (size_t i = 0; i < SCALE_MARKS; i++)
    p.marks[i] = strtoull(argv[5 + i], NULL, 10);
  open_db(&p, true);
  cdl_chunk_reader *r;
  cdl_error err = {0};
  if (cdl_chunk_reader_open(argv[2], &r, &err) != CDL_OK)
    die(argv[2], &err);
  cdl_span spans[IMPORT_BATCH];
  size_t n;
  while (p.next_mark < SCALE_MARKS &&
         cdl_chunk_reader_next(r, spans, NULL, IMPORT_BATCH, &n, &err) == CDL_OK && n > 0)
    import_batch(&p, spans, n);
  if (err.code != CDL_OK)
    die(argv[2], &err);
  cdl_chunk_reader_close(r);
  fclose(p.out);
  return p.next_mark == SCALE_MARKS ? 0 : 1;
}
