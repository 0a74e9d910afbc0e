/*
 * params.c: Byron protocol parameters as the genesis file's
 * blockVersionData object (docs/byron.md 4.1): mainnet's defaults, reading
 * an operator's --protocol-params file, and rendering them into a new
 * genesis.json.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"

void cdl_gen_default_params(cdl_byron_protocol_params *pp) {
  *pp = (cdl_byron_protocol_params){
      .script_version = 0,
      .slot_duration_ms = 20000,
      .max_block_size = 2000000,
      .max_header_size = 2000000,
      .max_tx_size = 4096,
      .max_proposal_size = 700,
      .mpc_thd = 20000000000000ull,
      .heavy_del_thd = 300000000000ull,
      .update_vote_thd = 1000000000000ull,
      .update_proposal_thd = 100000000000000ull,
      .update_implicit = 10000,
      .softfork_init = 900000000000000ull,
      .softfork_min = 600000000000000ull,
      .softfork_decrement = 50000000000000ull,
      .fee_summand_nano = 155381000000000ull,
      .fee_multiplier_nano = 43946000000ull,
      .unlock_stake_epoch = UINT64_MAX,
  };
}

/* Where each field lives: NULL group = blockVersionData itself. */
typedef struct param_field {
  const char *group, *name;
  size_t offset;
} param_field;

#define PP(group, name, member) \
  { group, name, offsetof(cdl_byron_protocol_params, member) }
static const param_field FIELDS[] = {
    PP(NULL, "slotDuration", slot_duration_ms),
    PP(NULL, "maxBlockSize", max_block_size),
    PP(NULL, "maxHeaderSize", max_header_size),
    PP(NULL, "maxTxSize", max_tx_size),
    PP(NULL, "maxProposalSize", max_proposal_size),
    PP(NULL, "mpcThd", mpc_thd),
    PP(NULL, "heavyDelThd", heavy_del_thd),
    PP(NULL, "updateVoteThd", update_vote_thd),
    PP(NULL, "updateProposalThd", update_proposal_thd),
    PP(NULL, "updateImplicit", update_implicit),
    PP(NULL, "unlockStakeEpoch", unlock_stake_epoch),
    PP("softforkRule", "initThd", softfork_init),
    PP("softforkRule", "minThd", softfork_min),
    PP("softforkRule", "thdDecrement", softfork_decrement),
    PP("txFeePolicy", "summand", fee_summand_nano),
    PP("txFeePolicy", "multiplier", fee_multiplier_nano),
};
#undef PP

static uint64_t *field_ptr(cdl_byron_protocol_params *pp, const param_field *f) {
  return (uint64_t *)((char *)pp + f->offset);
}

/* A JSON integer, or a decimal string as genesis files write them. */
static bool json_u64(const json_t *v, uint64_t *out) {
  if (json_is_integer(v)) {
    if (json_integer_value(v) < 0) return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
  }
  if (!json_is_string(v)) return false;
  const char *s = json_string_value(v);
  if (*s < '0' || *s > '9' || strlen(s) > 20) return false;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = x;
  return true;
}

static int read_fields(const json_t *root, cdl_byron_protocol_params *pp, const char *path,
                       cdl_error *err) {
  for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
    const json_t *obj = FIELDS[i].group ? json_object_get(root, FIELDS[i].group) : root;
    const json_t *v = obj ? json_object_get(obj, FIELDS[i].name) : NULL;
    if (v == NULL) continue;
    if (!json_u64(v, field_ptr(pp, &FIELDS[i])))
      return cdl_error_set(err, CDL_E_JSON, 0, "%s: %s%s%s is not a non-negative integer", path,
                           FIELDS[i].group ? FIELDS[i].group : "", FIELDS[i].group ? "." : "",
                           FIELDS[i].name);
  }
  const json_t *sv = json_object_get(root, "scriptVersion");
  uint64_t script;
  if (sv != NULL) {
    if (!json_u64(sv, &script) || script > UINT16_MAX)
      return cdl_error_set(err, CDL_E_JSON, 0, "%s: scriptVersion is not a 16-bit integer", path);
    pp->script_version = (uint16_t)script;
  }
  return CDL_OK;
}

int cdl_gen_params_read(const char *path, cdl_byron_protocol_params *pp, cdl_error *err) {
  json_error_t jerr;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  /* Missing or unreadable: an I/O failure naming the path (exit 3). */
  if (root == NULL && json_error_code(&jerr) == json_error_cannot_open_file)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: %s", path, strerror(errno));
  if (root == NULL)
    return cdl_error_set(err, CDL_E_JSON, (size_t)jerr.position, "%s: %s", path, jerr.text);
  /* A whole genesis file works too: take its blockVersionData. */
  json_t *bvd = json_object_get(root, "blockVersionData");
  int rc = json_is_object(bvd) || json_is_object(root)
               ? read_fields(json_is_object(bvd) ? bvd : root, pp, path, err)
               : cdl_error_set(err, CDL_E_JSON, 0, "%s: not a JSON object", path);
  json_decref(root);
  if (rc == CDL_OK && pp->max_tx_size >= pp->max_block_size)
    rc = cdl_error_set(err, CDL_E_USAGE, 0, "%s: maxTxSize must be below maxBlockSize", path);
  return rc;
}

static json_t *u64_string(uint64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%" PRIu64, v);
  return json_string(text);
}

json_t *gen_params_json(const cdl_byron_protocol_params *pp) {
  json_t *root = json_object(), *sf = json_object(), *fee = json_object();
  cdl_byron_protocol_params copy = *pp;
  for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
    const param_field *f = &FIELDS[i];
    json_t *obj = f->group == NULL ? root : strcmp(f->group, "softforkRule") == 0 ? sf : fee;
    json_object_set_new(obj, f->name, u64_string(*field_ptr(&copy, f)));
  }
  json_object_set_new(root, "scriptVersion", json_integer(pp->script_version));
  json_object_set_new(root, "softforkRule", sf);
  json_object_set_new(root, "txFeePolicy", fee);
  return root;
}
