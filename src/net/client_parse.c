/*
 * client_parse.c: the blocks block-fetch receives, parsed and checked
 * before they are handed over (docs/node.md "Signature checks on every
 * core"; the client's on_block, include/cardinal/net.h).
 *
 * Without a pool each block is decoded, hashed and handed over as it is
 * read. With one (cdl_n2n_client_config.parse_pool), every block read in
 * one pass over the channel goes to the pool's workers, which decode it
 * and verify its signatures while this thread goes on reading and hands
 * earlier blocks over; the blocks reach on_block in the order they came,
 * each once it is parsed, and all of them before the pass returns, so no
 * job outlives the call that made it. A block that is not the one asked
 * for, or that on_block refuses, ends the connection there: the jobs after
 * it are waited for and dropped.
 *
 * Memory is bounded: at most CL_AHEAD_JOBS blocks and CL_AHEAD_BYTES bytes
 * are parsed ahead (the oldest is handed over first when either is
 * reached), and a job that held a block over CL_AHEAD_KEEP bytes gives its
 * buffers back once the block is handed over.
 */
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* The hash of a stored block's header read without decoding the rest:
 * only for a block that does not decode, to tell one other than the block
 * asked for (a violation) from an invalid one (the caller's to refuse). */
static int shallow_hash(cdl_span block, uint8_t hash[32], cdl_error *err) {
  uint8_t subtag;
  cdl_span header;
  CDL_TRY(cdl_net_byron_block_parts(block.ptr, block.len, &subtag, &header, err));
  cdl_byron_header_hash(subtag, header, hash);
  return CDL_OK;
}

/* Hands over parsed block |pb| (of bytes |block|), asked for as |want|. */
static int hand_over(cdl_n2n_client *c, const cdl_parsed_block *pb, cdl_span block,
                     const uint8_t want[32], uint64_t want_no, cdl_error *err) {
  /* Our memory, not the peer's block: not to be judged as undecodable. */
  if (pb->rc == CDL_E_NOMEM)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "block-fetch: out of memory decoding");
  uint8_t undecoded[32];
  const uint8_t *hash = pb->info.hash;
  if (pb->rc != CDL_OK) {
    CDL_TRY(shallow_hash(block, undecoded, err));
    hash = undecoded;
  }
  if (memcmp(hash, want, 32) != 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "block-fetch: block %llu is not the one asked for",
                         (unsigned long long)want_no);
  return c->cfg.on_block(c->cfg.ctx, pb, err);
}

/* ---- Parsing ahead on the pool ---- */

static cl_ahead *ahead_at(cdl_n2n_client *c, size_t i) {
  return &c->ahead.jobs[(c->ahead.first + i) % CL_AHEAD_JOBS];
}

/* The oldest job, once done, leaves the queue; its buffers are kept for
 * the next block unless they grew large. */
static void pop_oldest(cdl_n2n_client *c) {
  cl_ahead *a = ahead_at(c, 0);
  c->ahead.bytes -= a->job.bytes.len;
  if (a->job.bytes.len > CL_AHEAD_KEEP) {
    cdl_parse_job_free(&a->job);
    cdl_parse_job_init(&a->job);
  }
  c->ahead.first = (c->ahead.first + 1) % CL_AHEAD_JOBS;
  c->ahead.n--;
}

/* Hands over the oldest block, waiting for (or doing) its parse. */
static int hand_over_oldest(cdl_n2n_client *c, cdl_error *err) {
  cl_ahead *a = ahead_at(c, 0);
  cdl_parse_pool_wait(c->cfg.parse_pool, &a->job);
  cdl_span bytes = cdl_span_of(a->job.bytes.data, a->job.bytes.len);
  int rc = hand_over(c, &a->job.pb, bytes, a->want, a->want_no, err);
  pop_oldest(c);
  return rc;
}

void cl_parse_drop(cdl_n2n_client *c) {
  while (c->ahead.n > 0) {
    cdl_parse_pool_wait(c->cfg.parse_pool, &ahead_at(c, 0)->job);
    pop_oldest(c);
  }
}

int cl_parse_flush(cdl_n2n_client *c, cdl_error *err) {
  int rc = CDL_OK;
  while (rc == CDL_OK && c->ahead.n > 0)
    rc = hand_over_oldest(c, err);
  if (rc != CDL_OK)
    cl_parse_drop(c);
  return rc;
}

static int parse_ahead(cdl_n2n_client *c, cdl_span block, const hdr_entry *want, cdl_error *err) {
  if (c->ahead.jobs == NULL) {
    c->ahead.jobs = calloc(CL_AHEAD_JOBS, sizeof *c->ahead.jobs);
    if (c->ahead.jobs == NULL)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "block-fetch: out of memory");
    for (size_t i = 0; i < CL_AHEAD_JOBS; i++)
      cdl_parse_job_init(&c->ahead.jobs[i].job);
  }
  int rc = CDL_OK;
  while (rc == CDL_OK && c->ahead.n > 0 &&
         (c->ahead.n == CL_AHEAD_JOBS || c->ahead.bytes + block.len > CL_AHEAD_BYTES))
    rc = hand_over_oldest(c, err);
  /* Blocks done meanwhile go now: the chain moves while we read. */
  while (rc == CDL_OK && c->ahead.n > 0 && cdl_parse_job_done(&ahead_at(c, 0)->job))
    rc = hand_over_oldest(c, err);
  if (rc != CDL_OK)
    return rc;
  cl_ahead *a = ahead_at(c, c->ahead.n);
  memcpy(a->want, want->hash, 32);
  a->want_no = want->block_no;
  if (cdl_parse_pool_submit(c->cfg.parse_pool, &a->job, block.ptr, block.len, c->cfg.epoch_slots) !=
      CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "block-fetch: out of memory");
  c->ahead.n++;
  c->ahead.bytes += block.len;
  return CDL_OK;
}

int cl_block_received(cdl_n2n_client *c, cdl_span block, const hdr_entry *want, cdl_error *err) {
  if (c->cfg.parse_pool != NULL)
    return parse_ahead(c, block, want, err);
  cdl_parsed_block pb;
  cdl_arena_reset(&c->arena);
  cdl_parsed_block_decode(block.ptr, block.len, c->cfg.epoch_slots, &c->arena, &pb);
  return hand_over(c, &pb, block, want->hash, want->block_no, err);
}

void cl_parse_free(cdl_n2n_client *c) {
  if (c->ahead.jobs == NULL)
    return;
  cl_parse_drop(c);
  for (size_t i = 0; i < CL_AHEAD_JOBS; i++)
    cdl_parse_job_free(&c->ahead.jobs[i].job);
  free(c->ahead.jobs);
  c->ahead.jobs = NULL;
}
