/*
 * bench_scale_report.c: the scale benchmark's figures (bench_scale.h;
 * docs/performance.md): the measuring processes' result files read back,
 * then a table with a column per mark (1/8, 1/4, 1/2 and all of the chain),
 * each figure beside the baseline of the same run it is judged against,
 * the verdict on the three targets, a CSV of the marks and one of
 * the epochs, and a PNG of the growth curves when gnuplot is installed
 * (optional: docs/design.md "Dependencies").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_scale.h"

#define TARGET_RSS_MB 200.0
#define TARGET_RESTART_MS 200.0
#define TARGET_FLAT 0.8 /* the last epochs' rate at least 80% of the first epochs' */
#define FLAT_WINDOW 8   /* epochs at each end whose median rate is compared */

bool scale_read_validation(const char *path, scale_validation *v) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  memset(v, 0, sizeof *v);
  char line[512];
  size_t marks = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long b, e;
    unsigned n;
    double w, c;
    long kb;
    size_t i;
    if (sscanf(line, "base %ld", &kb) == 1)
      v->base_kb = kb;
    else if (sscanf(line, "verify %lf", &w) == 1)
      v->verify_rate = w > v->verify_rate ? w : v->verify_rate;
    else if (sscanf(line, "epoch %u %llu %llu %lf %lf %ld", &n, &b, &e, &w, &c, &kb) == 6 &&
             v->n_epochs < SCALE_MAX_EPOCHS)
      v->epochs[v->n_epochs++] = (scale_epoch){b, e, w, c, kb};
    else if (sscanf(line, "crossed %ld %llu", &kb, &b) == 2)
      v->crossed = true, v->crossed_hwm_kb = kb, v->crossed_at = b;
    else if (sscanf(line, "mark %zu %llu %llu %lf %lf %ld", &i, &b, &e, &w, &c, &kb) == 6 &&
             i < SCALE_MARKS) {
      v->marks[i].blocks = b, v->marks[i].entries = e, v->marks[i].wall_s = w;
      v->marks[i].cpu_s = c, v->marks[i].hwm_kb = kb;
      marks++;
    }
  }
  fclose(f);
  return marks == SCALE_MARKS && v->n_epochs > 0;
}

bool scale_read_import(const char *path, scale_import *im) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  memset(im, 0, sizeof *im);
  size_t i, marks = 0;
  scale_import_mark m;
  unsigned long long b, e, cb, db, ib, vb, lb, sb, rp;
  while (fscanf(f,
                "mark %zu %llu %llu %lf %lf %ld %lf %llu %llu %llu %llu %llu %llu %lf %ld "
                "%llu %lf\n",
                &i, &b, &e, &m.add_s, &m.cpu_s, &m.hwm_kb, &m.close_s, &cb, &db, &ib, &vb, &lb, &sb,
                &m.restart_ms, &m.restart_hwm_kb, &rp, &m.read_ms) == 17 &&
         i < SCALE_MARKS) {
    m.blocks = b, m.entries = e, m.chunk_bytes = cb, m.db_bytes = db, m.immutable_bytes = ib;
    m.volatile_bytes = vb, m.ledger_bytes = lb, m.snapshot_bytes = sb, m.restart_replayed = rp;
    im->marks[i] = m;
    marks++;
  }
  fclose(f);
  return marks == SCALE_MARKS;
}

/* ---- Derived figures ---- */

typedef struct mark_figures {
  double validate_rate, validate_cpu_rate, first_rate, first_cpu_rate, last_rate, last_cpu_rate;
  double rss_mb, rss_per_entry, bound_ratio;
  double import_rate, import_ratio, import_rss_mb, chunk_mb, db_mb, db_ratio;
  double snapshot_mb, snapshot_per_entry, restart_ms, read_ms, restart_ratio, restart_rss_mb;
} mark_figures;

/* Blocks a second in epoch e, by wall clock or by CPU time. */
static double epoch_rate(const scale_validation *v, size_t e, bool cpu) {
  const scale_epoch *a = e > 0 ? &v->epochs[e - 1] : NULL, *b = &v->epochs[e];
  double t = (cpu ? b->cpu_s : b->wall_s) - (a ? (cpu ? a->cpu_s : a->wall_s) : 0);
  return t > 0 ? (double)(b->blocks - (a ? a->blocks : 0)) / t : 0;
}

/* The last epoch that ended by |blocks|. */
static size_t epoch_at(const scale_validation *v, uint64_t blocks) {
  size_t e = 0;
  while (e + 1 < v->n_epochs && v->epochs[e + 1].blocks <= blocks)
    e++;
  return e;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median CPU-time rate of |n| epochs from |first|. */
static double median_rate(const scale_validation *v, size_t first, size_t n) {
  double rates[FLAT_WINDOW];
  for (size_t i = 0; i < n; i++)
    rates[i] = epoch_rate(v, first + i, true);
  qsort(rates, n, sizeof *rates, by_value);
  return n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
}

/* The epochs validated whole: the last one noted may be part of one (a
 * chain that ends inside an epoch), unless it is the only one. */
static size_t whole_epochs(const scale_validation *v) {
  uint64_t last = v->epochs[v->n_epochs - 1].blocks;
  if (v->n_epochs == 1 || last % (SCALE_EPOCH_SLOTS + 1) == 0)
    return v->n_epochs;
  return v->n_epochs - 1;
}

/* How many epochs each end of the flatness comparison takes: an eighth of
 * the whole ones, at most FLAT_WINDOW, at least one. */
static size_t flat_window(size_t whole) {
  size_t w = whole / 8;
  return w < 1 ? 1 : w > FLAT_WINDOW ? FLAT_WINDOW : w;
}

static double signatures_per_block(const scale_run *r) {
  double sigs = (double)(r->blocks + r->txs + r->certificates + r->votes + r->proposals);
  return sigs / (double)(r->blocks + r->ebbs);
}

static mark_figures figures(const scale_run *r, const scale_validation *v, const scale_import *im,
                            size_t i) {
  mark_figures f;
  const scale_import_mark *m = &im->marks[i];
  uint64_t blocks = v->marks[i].blocks, entries = v->marks[i].entries;
  size_t last = epoch_at(v, blocks);
  f.validate_rate = blocks / v->marks[i].wall_s;
  f.validate_cpu_rate = blocks / v->marks[i].cpu_s;
  f.first_rate = epoch_rate(v, 0, false), f.first_cpu_rate = epoch_rate(v, 0, true);
  f.last_rate = epoch_rate(v, last, false), f.last_cpu_rate = epoch_rate(v, last, true);
  f.rss_mb = v->marks[i].hwm_kb / 1024.0;
  f.rss_per_entry = (v->marks[i].hwm_kb - v->base_kb) * 1024.0 / (double)entries;
  f.bound_ratio = f.validate_cpu_rate / (r->verify_rate / signatures_per_block(r) * r->threads);
  f.import_rate = m->blocks / m->add_s;
  f.import_ratio = f.import_rate / f.validate_rate;
  f.import_rss_mb = m->hwm_kb / 1024.0;
  f.chunk_mb = m->chunk_bytes / 1e6, f.db_mb = m->db_bytes / 1e6;
  f.db_ratio = f.db_mb / f.chunk_mb;
  f.snapshot_mb = m->snapshot_bytes / 1e6;
  f.snapshot_per_entry = (double)m->snapshot_bytes / (double)m->entries;
  f.restart_ms = m->restart_ms, f.read_ms = m->read_ms;
  f.restart_ratio = m->restart_ms / m->read_ms;
  f.restart_rss_mb = m->restart_hwm_kb / 1024.0;
  return f;
}

/* ---- The table ---- */

static void row(const char *label, const char *fmt, const double *x) {
  printf("%-40s", label);
  for (size_t i = 0; i < SCALE_MARKS; i++)
    printf(fmt, x[i]);
  printf("\n");
}

#define ROW(label, fmt, field)                                                                     \
  do {                                                                                             \
    double x_[SCALE_MARKS];                                                                        \
    for (size_t i_ = 0; i_ < SCALE_MARKS; i_++)                                                    \
      x_[i_] = f[i_].field;                                                                        \
    row(label, fmt, x_);                                                                           \
  } while (0)

static void print_header(const scale_run *r) {
  printf("scale: %llu slots (%llu epochs of k=%d), %llu blocks + %llu EBBs, %.2f GB\n",
         (unsigned long long)r->slots, (unsigned long long)(r->slots / SCALE_EPOCH_SLOTS), SCALE_K,
         (unsigned long long)r->blocks, (unsigned long long)r->ebbs, r->chain_bytes / 1e9);
  if (r->size_note)
    printf("  size chosen: %s\n", r->size_note);
  printf("  %llu txs (1 input, %u outputs) in %.0f%% of the blocks, between %u keys; "
         "%llu certificates, %llu votes\n",
         (unsigned long long)r->txs, r->outputs, r->tx_share * 100, r->keys,
         (unsigned long long)r->certificates, (unsigned long long)r->votes);
  printf("  generated in %.1f s (%.0f blocks/s)\n", r->generate_s,
         (r->blocks + r->ebbs) / r->generate_s);
  printf("  baseline: Ed25519 verify %.0f/s on one core (the best of the run's measurements); "
         "%.3f signatures a block: a bound of %.0f blocks/s on %u thread(s)\n\n",
         r->verify_rate, signatures_per_block(r),
         r->verify_rate / signatures_per_block(r) * r->threads, r->threads);
}

static void print_table(const mark_figures *f, const scale_validation *v) {
  double blocks[SCALE_MARKS], entries[SCALE_MARKS];
  for (size_t i = 0; i < SCALE_MARKS; i++)
    blocks[i] = (double)v->marks[i].blocks, entries[i] = (double)v->marks[i].entries;
  printf("%-40s%14s%14s%14s%14s\n", "", "1/8", "1/4", "1/2", "all");
  row("blocks", "%14.0f", blocks);
  row("UTxO entries", "%14.0f", entries);
  ROW("validation blocks/s (wall, cumulative)", "%14.0f", validate_rate);
  ROW("  by CPU time", "%14.0f", validate_cpu_rate);
  ROW("  of the verify bound (CPU)", "%14.2f", bound_ratio);
  ROW("  first epoch blocks/s (CPU)", "%14.0f", first_cpu_rate);
  ROW("  last epoch blocks/s (CPU)", "%14.0f", last_cpu_rate);
  ROW("  first epoch blocks/s (wall)", "%14.0f", first_rate);
  ROW("  last epoch blocks/s (wall)", "%14.0f", last_rate);
  ROW("peak RSS MB (validating process)", "%14.1f", rss_mb);
  ROW("  bytes of RSS per UTxO entry", "%14.1f", rss_per_entry);
  ROW("import blocks/s (ChainDB)", "%14.0f", import_rate);
  ROW("  import / validation", "%14.2f", import_ratio);
  ROW("  peak RSS MB (importing process)", "%14.1f", import_rss_mb);
  ROW("chain's own bytes MB", "%14.1f", chunk_mb);
  ROW("database on disk MB", "%14.1f", db_mb);
  ROW("  database / chain bytes", "%14.3f", db_ratio);
  ROW("ledger snapshot MB", "%14.1f", snapshot_mb);
  ROW("  bytes per UTxO entry", "%14.1f", snapshot_per_entry);
  ROW("restart ms (ChainDB open, fresh process)", "%14.1f", restart_ms);
  ROW("  reading the snapshot + CRC ms", "%14.1f", read_ms);
  ROW("  restart / reading the snapshot", "%14.2f", restart_ratio);
  ROW("  peak RSS MB (restarted process)", "%14.1f", restart_rss_mb);
}

static const char *verdict(bool met) { return met ? "met" : "NOT met"; }

static void print_targets(const mark_figures *f, const scale_validation *v) {
  const mark_figures *all = &f[SCALE_MARKS - 1];
  printf("\ntargets:\n");
  if (v->crossed)
    printf("  peak RSS of the validating process at %d UTxO entries (block %llu): %.1f MB "
           "(target < %.0f): %s\n",
           SCALE_TARGET_ENTRIES, (unsigned long long)v->crossed_at, v->crossed_hwm_kb / 1024.0,
           TARGET_RSS_MB, verdict(v->crossed_hwm_kb / 1024.0 < TARGET_RSS_MB));
  else
    printf("  peak RSS at %d UTxO entries: not reached at this size (%.1f MB at %llu entries)\n",
           SCALE_TARGET_ENTRIES, all->rss_mb,
           (unsigned long long)v->marks[SCALE_MARKS - 1].entries);
  printf("  restart at the largest size: %.1f ms (target < %.0f): %s\n", all->restart_ms,
         TARGET_RESTART_MS, verdict(all->restart_ms < TARGET_RESTART_MS));
  size_t whole = whole_epochs(v), w = flat_window(whole);
  double first = median_rate(v, 0, w), last = median_rate(v, whole - w, w);
  printf("  validation rate flat: median of the last %zu epoch(s) / the first %zu: %.3f by CPU "
         "time (%.0f against %.0f blocks/s; target >= %.1f): %s\n",
         w, w, last / first, last, first, TARGET_FLAT, verdict(last / first >= TARGET_FLAT));
  printf("    the last epoch alone / the first alone: %.3f by CPU time, %.3f by wall clock "
         "(single epochs move by 10-20%% on this shared machine)\n",
         all->last_cpu_rate / all->first_cpu_rate, all->last_rate / all->first_rate);
}

/* ---- Files ---- */

static void write_csv(const char *path, const mark_figures *f, const scale_validation *v,
                      const scale_import *im) {
  FILE *o = fopen(path, "w");
  if (o == NULL)
    return;
  fprintf(o, "mark,blocks,utxo_entries,validate_blocks_per_s,validate_cpu_blocks_per_s,"
             "first_epoch_cpu_blocks_per_s,last_epoch_cpu_blocks_per_s,"
             "first_epoch_blocks_per_s,last_epoch_blocks_per_s,validate_peak_rss_mb,"
             "rss_bytes_per_entry,import_blocks_per_s,import_peak_rss_mb,chunk_mb,db_mb,"
             "immutable_mb,volatile_mb,ledger_mb,snapshot_mb,snapshot_bytes_per_entry,"
             "restart_ms,snapshot_read_ms,restart_peak_rss_mb,close_s\n");
  static const char *names[SCALE_MARKS] = {"1/8", "1/4", "1/2", "all"};
  for (size_t i = 0; i < SCALE_MARKS; i++) {
    const mark_figures *x = &f[i];
    const scale_import_mark *m = &im->marks[i];
    fprintf(o,
            "%s,%llu,%llu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.1f,%.2f,%.3f,%.3f,%.3f,"
            "%.3f,%.3f,%.3f,%.2f,%.3f,%.3f,%.2f,%.3f\n",
            names[i], (unsigned long long)v->marks[i].blocks,
            (unsigned long long)v->marks[i].entries, x->validate_rate, x->validate_cpu_rate,
            x->first_cpu_rate, x->last_cpu_rate, x->first_rate, x->last_rate, x->rss_mb,
            x->rss_per_entry, x->import_rate, x->import_rss_mb, x->chunk_mb, x->db_mb,
            m->immutable_bytes / 1e6, m->volatile_bytes / 1e6, m->ledger_bytes / 1e6,
            x->snapshot_mb, x->snapshot_per_entry, x->restart_ms, x->read_ms, x->restart_rss_mb,
            m->close_s);
  }
  fclose(o);
}

static void write_epochs(const char *path, const scale_validation *v) {
  FILE *o = fopen(path, "w");
  if (o == NULL)
    return;
  fprintf(o, "epoch,blocks,utxo_entries,blocks_per_s,cpu_blocks_per_s,rss_mb\n");
  for (size_t e = 0; e < v->n_epochs; e++)
    fprintf(o, "%zu,%llu,%llu,%.1f,%.1f,%.2f\n", e, (unsigned long long)v->epochs[e].blocks,
            (unsigned long long)v->epochs[e].entries, epoch_rate(v, e, false),
            epoch_rate(v, e, true), v->epochs[e].rss_kb / 1024.0);
  fclose(o);
}

/* The growth curves, when gnuplot is there to draw them. */
static void plot(const char *png, const char *csv, const char *epochs) {
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    printf("\nplot: gnuplot not installed, no PNG (the CSVs hold every figure)\n");
    return;
  }
  char script[1200], cmd[1400];
  snprintf(script, sizeof script, "%s.gp", png);
  FILE *g = fopen(script, "w");
  if (g == NULL)
    return;
  fprintf(g,
          "set terminal png size 1400,1000\nset output '%s'\nset datafile separator ','\n"
          "set key autotitle columnhead left bottom\nset grid\nset multiplot layout 2,2 "
          "title 'Cardinal at Byron scale (make bench-scale)'\n",
          png);
  fprintf(g,
          "set title 'Validation blocks/s per epoch (every signature)'\nset xlabel 'epoch'\n"
          "set yrange [0:*]\nplot '%s' using 1:5 with lines title 'by CPU time', "
          "'' using 1:4 with lines title 'by wall clock'\n",
          epochs);
  fprintf(g,
          "set title 'UTxO entries (millions) and validating RSS (MB)'\nset y2tics\n"
          "set ytics nomirror\nplot '%s' using 1:($3/1e6) with lines title 'UTxO entries (M)', "
          "'' using 1:6 axes x1y2 with lines title 'RSS MB'\nunset y2tics\nset ytics mirror\n",
          epochs);
  fprintf(g,
          "set title 'Restart and reading the snapshot (ms)'\nset xlabel 'blocks (M)'\n"
          "plot '%s' using ($2/1e6):21 with linespoints title 'restart', "
          "'' using ($2/1e6):22 with linespoints title 'read + CRC'\n",
          csv);
  fprintf(g,
          "set title 'On disk (MB)'\nplot '%s' using ($2/1e6):15 with linespoints title "
          "'database', '' using ($2/1e6):14 with linespoints title 'chain bytes', "
          "'' using ($2/1e6):19 with linespoints title 'snapshot'\nunset multiplot\n",
          csv);
  fclose(g);
  snprintf(cmd, sizeof cmd, "gnuplot '%s'", script);
  printf("\nplot: %s%s\n", png, system(cmd) == 0 ? "" : " (gnuplot failed)");
}

void scale_report(const scale_run *given, const scale_validation *v, const scale_import *im,
                  const char *csv, const char *epochs_csv, const char *png) {
  scale_run best = *given; /* the best verify rate of the run, wherever measured */
  if (v->verify_rate > best.verify_rate)
    best.verify_rate = v->verify_rate;
  const scale_run *run = &best;
  mark_figures f[SCALE_MARKS];
  for (size_t i = 0; i < SCALE_MARKS; i++)
    f[i] = figures(run, v, im, i);
  print_header(run);
  print_table(f, v);
  print_targets(f, v);
  write_csv(csv, f, v, im);
  write_epochs(epochs_csv, v);
  printf("\ncsv: %s (marks), %s (epochs)\n", csv, epochs_csv);
  plot(png, csv, epochs_csv);
}
