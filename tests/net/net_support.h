/*
 * net_support.h: what the network engine tests share: a ChainDB holding
 * the first blocks of real mainnet epoch 0, for the engines to serve.
 */
#ifndef CARDINAL_TEST_NET_SUPPORT_H
#define CARDINAL_TEST_NET_SUPPORT_H

#include "../storage/storage_support.h"
#include "cardinal/net.h"

#define NET_MAINNET_MAGIC 764824073u

typedef struct served_chain {
  epoch0 e;
  genesis_fixture g;
  char dir[256];
  cdl_chaindb *db;
  cdl_n2n_chain chain;  /* |db| through the engines' chain interface */
  cdl_block_info *info; /* of each block served */
  size_t n;
} served_chain;

/* The first |n| blocks, each adopted (signatures unchecked: the ledger is
 * not under test there), in a fresh directory named after |what|. */
void served_chain_open(served_chain *c, const char *what, size_t n);
void served_chain_close(served_chain *c);

/* ---- A scripted client ----------------------------------------------------
 * Our codecs and a client mux driving a server engine in memory: queue
 * messages on a channel, pump, read the replies from the mux ingress. */
typedef struct scripted_client {
  cdl_mux mux;
  cdl_n2n_server *srv;
  uint64_t now;
  size_t split;  /* bytes per recv call into the server; 0: all at once */
  cdl_error err; /* the server's error, once it failed */
  int rc;
  cdl_buf wire, msg;
  cdl_buf last; /* the last reply, copied out of the ingress */
} scripted_client;

/* Initiator channels for |protos| (their indices in that order) and a
 * fresh server over |db| (through cdl_n2n_chain_of_chaindb) with |hs|;
 * sc_start_chain: over any |chain| (a fake one). */
void sc_start(scripted_client *c, cdl_chaindb *db, const cdl_hs_config *hs, const uint16_t *protos,
              size_t n);
void sc_start_chain(scripted_client *c, const cdl_n2n_chain *chain, const cdl_hs_config *hs,
                    const uint16_t *protos, size_t n);
void sc_free(scripted_client *c);
/* Raw bytes to the server, in pieces of c->split. */
int sc_to_server(scripted_client *c, const uint8_t *p, size_t n);
/* Everything queued both ways moves, the server polled in between. */
int sc_pump(scripted_client *c);
/* Like the libuv drivers: the client's bytes go in, then at most
 * |write_bound| bytes of SDUs come out per round (what libuv accepts
 * before it waits for a write to complete), and the server is polled
 * only when it asks (cdl_n2n_server_wants_poll), never otherwise; the
 * client's mux takes every reply. Without |client_reads| the client's
 * bytes go in and nothing comes out (a peer whose socket is full). Ends
 * when nothing moves. */
int sc_drive(scripted_client *c, size_t write_bound, bool client_reads);
/* c->msg queued on channel |ch|. */
void sc_send(scripted_client *c, int ch);
/* One SDU from the client's initiator side, raw. */
int sc_raw_sdu(scripted_client *c, uint16_t proto, const uint8_t *payload, size_t n);
/* Proposes |mine| on channel 0 and checks the server accepted; the
 * agreed version and data in the result. */
cdl_hs_result sc_handshake(scripted_client *c, const cdl_hs_config *mine);
/* The first whole message waiting on channel |ch|, moved into c->last
 * (fails the test when none is complete). */
cdl_span sc_take(scripted_client *c, int ch);
/* |rc| is |code| and the server's message holds |words|; frees |c|. */
void sc_expect_violation(scripted_client *c, int rc, int code, const char *words);

#endif
