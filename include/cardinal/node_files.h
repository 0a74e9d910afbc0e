/*
 * cardinal/node_files.h: the node's configuration files, in cardano-node's
 * formats (docs/node.md "Configuration"): config.json (the Byron genesis
 * file and its hash, the address-magic policy, the PBFT threshold, the
 * mempool, the diffusion mode, the versions a core node's headers announce,
 * the metrics endpoint)
 * and topology.json (the legacy `Producers` list, or
 * `localRoots`/`publicRoots`). Both are untrusted input: every field is
 * checked for its type and range, and an error names the file and field.
 */
#ifndef CARDINAL_NODE_FILES_H
#define CARDINAL_NODE_FILES_H

#include "cardinal/node.h"

#define CDL_NODE_PATH_MAX 1024
#define CDL_NODE_FILE_MAX (1u << 20) /* bytes of a config or topology file */

typedef struct cdl_node_file_config {
  char genesis_file[CDL_NODE_PATH_MAX]; /* ByronGenesisFile, relative to config.json's folder */
  bool has_genesis_hash;
  uint8_t genesis_hash[32];   /* ByronGenesisHash */
  int requires_magic;         /* RequiresNetworkMagic: 1, 0, or -1 (by the magic) */
  double pbft_threshold;      /* PBftSignatureThreshold; 0: the ledger's 0.22 */
  uint64_t mempool_capacity;  /* MempoolCapacityBytesOverride; 0: twice a block */
  uint64_t mempool_ttl;       /* MempoolTTLSlots (Cardinal's); 0: none */
  cdl_log_level min_severity; /* MinSeverity; Info when absent */
  bool initiator_only;        /* DiffusionMode InitiatorOnly: no listener, one-way connections */
  /* LastKnownBlockVersion-Major/-Minor/-Alt (when Major and Minor are
   * given; Alt defaults to 0) and ApplicationName/ApplicationVersion
   * (defaults "cardano-sl" and 1, as cardano-node's): what a core node's
   * headers announce. */
  cdl_forge_versions versions;
  /* hasPrometheus ["host", port]: the metrics endpoint (port 0: none);
   * --metrics-host/--metrics-port override each part. */
  char prometheus_host[16]; /* an IPv4 address, dotted */
  uint16_t prometheus_port;
} cdl_node_file_config;

int cdl_node_config_read(const char *path, cdl_node_file_config *out, cdl_error *err);
/* The database settings |c| gives, into |o|: its genesis file and hash,
 * PBFT threshold and magic policy (what cardinal-node run and
 * cardinal-cli sync --config open a database with). */
void cdl_node_config_db_options(const cdl_node_file_config *c, cdl_db_dir_options *o);
/* The upstream peers of a topology file, into |ps| (initialised here). */
int cdl_node_topology_read(const char *path, cdl_peers *ps, cdl_error *err);

#endif
