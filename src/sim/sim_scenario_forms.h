/*
 * sim_scenario_forms.h: the words of a scenario file (docs/simulation.md
 * "Scenarios"), shared by its reader (sim_scenario.c) and its writer
 * (sim_scenario_json.c) so that the two cannot drift apart: each enum's
 * names, indexed by its value, and the fields each kind of fault takes.
 * Not public API.
 */
#ifndef CARDINAL_SIM_SCENARIO_FORMS_H
#define CARDINAL_SIM_SCENARIO_FORMS_H

#include "cardinal/sim.h"

/* cdl_sim_scenario_default's degree of a random topology: a file need
 * not name it unless it differs. */
#define SIM_DEFAULT_DEGREE 2

extern const char *const sim_role_names[2];        /* cdl_sim_role */
extern const char *const sim_adversary_names[5];   /* cdl_sim_adversary */
extern const char *const sim_fault_kind_names[7];  /* cdl_sim_fault_kind */
extern const char *const sim_damage_names[5];      /* cdl_sim_disk_damage */
extern const char *const sim_topology_names[6];    /* cdl_sim_topology */
extern const char *const sim_broken_names[3];      /* cdl_sim_broken */

/* The fields of a kind of fault, in the order a file shows them ("kind"
 * first, NULL-ended); the node it acts on ("node" or "from"), which it
 * needs; whether it lasts a window (to_slot: by default the end of the
 * run). */
typedef struct sim_fault_form {
  const char *fields[9];
  const char *node_key;
  bool window;
} sim_fault_form;

extern const sim_fault_form sim_fault_forms[7]; /* by cdl_sim_fault_kind */

#endif /* CARDINAL_SIM_SCENARIO_FORMS_H */
