/*
 * bench_sim.c: how fast the simulator runs (docs/simulation.md "Speed";
 * include/cardinal/sim.h), the road past one machine:
 *  - 10 core nodes in a mesh for 10,000 one-second slots, and
 *  - 100 nodes (10 cores, 90 relays, a random graph of degree 4) for
 *    1,000 slots,
 * each run in a child process of its own, so that its time and peak
 * memory (the child's maximum resident set) are its alone. Printed:
 * node-slots simulated per second, how many times faster than the real
 * network would run, and, as the baseline measured in the same run, the
 * Ed25519 verifications one core makes in the time of one node-slot
 * (every node-slot checks at least one signed block).
 */
#define _DEFAULT_SOURCE /* wait4: the child's own peak memory */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "cardinal/crypto.h"
#include "cardinal/sim.h"

typedef struct bench_case {
  const char *what;
  size_t cores, relays;
  uint64_t slots;
  cdl_sim_topology topology;
} bench_case;

/* The child's side: one run; exit 0 when it ran and every property held. */
static int run_case(const bench_case *c) {
  static cdl_sim_scenario sc;
  static cdl_sim_report rep;
  cdl_sim_scenario_default(&sc);
  snprintf(sc.name, sizeof sc.name, "bench");
  cdl_sim_scenario_nodes(&sc, c->cores, c->relays);
  sc.slots = c->slots;
  sc.k = 20;
  sc.threshold = 0.3;
  sc.topology = c->topology;
  sc.degree = 4;
  sc.txs = 100;
  sc.latency_us = 20000;
  sc.jitter_us = 100000;
  cdl_error err = {0};
  if (cdl_sim_run(&sc, NULL, &rep, &err) != CDL_OK) {
    fprintf(stderr, "bench_sim: %s\n", err.message);
    return 3;
  }
  printf("  %llu main blocks, %llu events, %llu messages, %.1f MB sent, %zu/%zu payments, %s\n",
         (unsigned long long)rep.main_blocks, (unsigned long long)rep.events,
         (unsigned long long)rep.deliveries, (double)rep.bytes / 1e6, rep.txs_included,
         rep.txs_submitted, rep.ok ? "every property held" : "A PROPERTY FAILED");
  fflush(stdout);
  return rep.ok ? 0 : 1;
}

static void measure(const bench_case *c, double verify_rate) {
  printf("%s\n", c->what);
  fflush(stdout);
  double t0 = bench_now_s();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(3);
  }
  if (pid == 0) _exit(run_case(c));
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid) {
    perror("wait4");
    exit(3);
  }
  double secs = bench_now_s() - t0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_sim: the run failed (status %d)\n", status);
    exit(3);
  }
  double node_slots = (double)(c->cores + c->relays) * (double)c->slots;
  double per_node_slot = secs / node_slots;
  printf("  %.2f s, peak memory %.1f MB: %.0f node-slots/s, %.0fx real time, "
         "%.1f Ed25519 verifications' time per node-slot (%.0f verifications/s)\n",
         secs, (double)ru.ru_maxrss / 1024, node_slots / secs, (double)c->slots / secs,
         per_node_slot * verify_rate, verify_rate);
}

int main(void) {
  if (cdl_crypto_init() != CDL_OK) return 3;
  double verify_rate = bench_verify_rate();
  static const bench_case cases[] = {
      {"10 cores, mesh, 10,000 slots", 10, 0, 10000, CDL_SIM_MESH},
      {"100 nodes (10 cores, 90 relays), random graph of degree 4, 1,000 slots", 10, 90, 1000,
       CDL_SIM_RANDOM},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) measure(&cases[i], verify_rate);
  return 0;
}
