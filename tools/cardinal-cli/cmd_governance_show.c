/*
 * cmd_governance_show.c: `cardinal-cli governance show-proposal` and
 * `show-vote` (docs/cli.md "governance"; docs/byron.md 1.10): a proposal
 * or vote file as cardano-cli writes them (raw CBOR), readable, with the
 * signer's key hash (what the ledger compares with the delegates) and,
 * given the network, whether the signature holds there, checked as the
 * ledger checks it.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cardinal/byron_json.h"
#include "cardinal/crypto.h"

static json_t *key_json(const uint8_t xpub[64]) {
  uint8_t hash[28];
  cdl_byron_key_hash(xpub, hash);
  return json_pack("{s:o,s:o}", "public_key", cdl_json_hex(xpub, 64), "key_hash",
                   cdl_json_hex(hash, 28));
}

/* Each system tag with its installer hash (the second of the four). */
static json_t *installers_json(const cdl_byron_proposal *p) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < p->n_metadata; i++) {
    const cdl_byron_update_data *d = &p->metadata[i];
    char tag[64];
    size_t n = d->system_tag.len < sizeof tag - 1 ? d->system_tag.len : sizeof tag - 1;
    for (size_t c = 0; c < n; c++) {
      uint8_t ch = d->system_tag.ptr[c];
      tag[c] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    tag[n] = '\0';
    json_array_append_new(a, json_pack("{s:s,s:o}", "system_tag", tag, "installer_hash",
                                       cdl_json_hex(d->hashes[1].ptr, d->hashes[1].len)));
  }
  return a;
}

static json_t *proposal_view(const cdl_byron_proposal *p, bool has_magic, uint64_t magic) {
  json_t *j = cdl_byron_proposal_json(p);
  if (j == NULL)
    return NULL;
  json_object_set_new(j, "bytes", json_integer((json_int_t)p->raw.len));
  json_object_set_new(j, "installers", installers_json(p));
  json_object_set_new(j, "issuer", key_json(p->issuer));
  json_t *sig = json_null();
  if (has_magic) {
    int rc = cdl_byron_proposal_check(p, (uint32_t)magic);
    sig = json_pack("{s:I,s:o}", "protocol_magic", (json_int_t)magic, "valid",
                    rc == CDL_E_NOMEM ? json_null() : json_boolean(rc == CDL_OK));
  }
  json_object_set_new(j, "signature", sig);
  return j;
}

/* The ledger verifies every vote as (proposal id, True); a vote signed as
 * a no (cardano-cli's --vote-no) verifies only as false. */
static json_t *vote_signature(const cdl_byron_vote *v, uint64_t magic) {
  bool yes = cdl_byron_vote_verify_as(v, (uint32_t)magic, true);
  bool no = !yes && cdl_byron_vote_verify_as(v, (uint32_t)magic, false);
  return json_pack("{s:I,s:b,s:s?}", "protocol_magic", (json_int_t)magic, "valid", yes,
                   "signed_decision",
                   yes  ? "yes"
                   : no ? "no"
                        : NULL);
}

static json_t *vote_view(const cdl_byron_vote *v, bool has_magic, uint64_t magic) {
  uint8_t id[32];
  cdl_blake2b_256(id, v->raw.ptr, v->raw.len);
  return json_pack("{s:o,s:o,s:s,s:o,s:o}", "id", cdl_json_hex(id, 32), "proposal_id",
                   cdl_json_hex(v->proposal_id, 32), "decision", v->decision ? "yes" : "no",
                   "voter", key_json(v->voter), "signature",
                   has_magic ? vote_signature(v, magic) : json_null());
}

static const struct argp_option SHOW_OPTIONS[] = {
    CLI_NETWORK_OPTIONS("to check the signature for (default: none, not checked)"), {0}};
static const struct argp SHOW_PROPOSAL = {
    SHOW_OPTIONS, cli_command_option, "FILE",
    "An update proposal file (raw CBOR as cardano-cli writes it, or hex), readable: its id, "
    "versions, parameters, installers and issuer, and given the network whether its signature "
    "holds there.\v"
    "Example:\n  cardinal-cli governance show-proposal update.proposal --testnet-magic 42",
    NULL, NULL, NULL};
static const struct argp SHOW_VOTE = {
    SHOW_OPTIONS, cli_command_option, "FILE",
    "A vote file (raw CBOR as cardano-cli writes it, or hex), readable: its id, the proposal "
    "it names, the voter, and given the network whether its signature holds there as the "
    "ledger checks it, and which decision it covers.\v"
    "Example:\n  cardinal-cli governance show-vote vote-1 --testnet-magic 42",
    NULL, NULL, NULL};

static int governance_show(int argc, char **argv, bool vote) {
  cli_command o;
  int code = cli_command_parse(vote ? &SHOW_VOTE : &SHOW_PROPOSAL, argc, argv, &o);
  if (code != EXIT_OK)
    return code;
  bool has_magic = o.node.has_magic;
  uint64_t magic = o.node.magic;
  cdl_buf bytes;
  cdl_buf_init(&bytes, 0);
  cdl_arena arena;
  cdl_arena_init(&arena, 0);
  cdl_byron_proposal p;
  cdl_byron_vote v;
  code = governance_read_payload(o.file, vote, &bytes, &arena, &p, &v);
  if (code == EXIT_OK)
    code = cli_print(vote ? vote_view(&v, has_magic, magic) : proposal_view(&p, has_magic, magic),
                     false);
  cdl_arena_free(&arena);
  cdl_buf_free(&bytes);
  return code;
}

int governance_show_proposal(int argc, char **argv) { return governance_show(argc, argv, false); }
int governance_show_vote(int argc, char **argv) { return governance_show(argc, argv, true); }
