/*
 * cardinal/byron_json.h: JSON views of decoded Byron objects, for the
 * command line and for logs (docs/cli.md lists every field). Built on
 * jansson; each function returns a new reference or NULL on OOM.
 */
#ifndef CARDINAL_BYRON_JSON_H
#define CARDINAL_BYRON_JSON_H

#include <jansson.h>

#include "cardinal/byron.h"

/* An unsigned integer; values beyond int64 become decimal strings. */
json_t *cdl_json_u64(uint64_t v);
json_t *cdl_json_hex(const uint8_t *data, size_t len);

/* {"type", "root", "attributes", "bytes"} */
json_t *cdl_byron_address_json(const cdl_byron_address *addr);
/* Base58 text of an address's bytes. */
json_t *cdl_byron_address_base58_json(cdl_span raw);
/* {"id", "block_version", "software_version", "parameters" (the fields
 * the proposal changes), "system_tags", "issuer"}: a block's update
 * proposal in `block show`, a proposal file in `governance show-proposal`. */
json_t *cdl_byron_proposal_json(const cdl_byron_proposal *p);
/* {"id", "size", "aux_size", "inputs", "outputs", "witnesses"} */
json_t *cdl_byron_txaux_json(const cdl_byron_txaux *aux);

typedef struct cdl_byron_block_checks {
  bool body_proof;
  bool signature;
} cdl_byron_block_checks;

/* The `block show` object; checks may be NULL to leave them out. */
json_t *cdl_byron_block_json(const cdl_byron_block *blk, uint64_t epoch_slots,
                             const cdl_byron_block_checks *checks);
/* The `block list` line for a block at |offset| taking |size| bytes. */
json_t *cdl_byron_block_summary_json(const cdl_byron_block *blk,
                                     uint64_t epoch_slots, size_t offset,
                                     size_t size);

#endif /* CARDINAL_BYRON_JSON_H */
