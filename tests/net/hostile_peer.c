/*
 * hostile_peer.c: many peers at once against a running node, each with a
 * behaviour, for the system tests of docs/testing.md "Hostile peers"
 * (docs/network.md "Bounded connections"). Peers speak through our own
 * mux and codecs (include/cardinal/net.h); sockets are non-blocking and
 * served by one poll loop.
 *
 *   pipeline   chain-sync with --depth requests always in flight, reading
 *              everything, until MsgAwaitReply says it reached the tip;
 *              with --burst 1, --depth requests once, then only reading
 *              until each has its reply
 *   slow       node-to-node: block-fetch of --range; local: pipelined
 *              chain-sync of whole blocks; read at --rate bytes/s
 *   nonreader  the handshake, a block-fetch of --range (local: chain-sync
 *              requests), then never a byte read
 *   pinger     keep-alive pings as fast as the socket takes them, never
 *              reading (local: state-query acquires)
 *   garbage    random bytes
 *   zombie     node-to-node: the handshake, 60 block-fetches of --range
 *              never read, then, a second later, a message of two bad
 *              bytes (a violation while the node's writes are stuck)
 *
 * Usage: hostile_peer (--tcp HOST:PORT | --unix PATH) --magic N
 *          [--pipeline N] [--slow N] [--nonreader N] [--pinger N]
 *          [--garbage N] [--zombie N] [--depth D] [--burst 1] [--rate BYTES]
 *          [--seconds S]
 *          [--range FROMSLOT:FROMHASH:TOSLOT:TOHASH]
 * Runs until every pipeline peer is at the tip and every other peer was
 * closed by the node, or --seconds pass; then prints one JSON line per
 * behaviour: peers, how many the node closed, how many finished (pipeline:
 * reached the tip), roll-forwards and bytes read. Exit 0 unless the usage
 * is wrong or a socket cannot be opened.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cardinal/net.h"

enum { B_PIPELINE, B_SLOW, B_NONREADER, B_PINGER, B_GARBAGE, B_ZOMBIE, B_KINDS };
static const char *const NAMES[B_KINDS] = {"pipeline", "slow",    "nonreader",
                                           "pinger",   "garbage", "zombie"};
enum { CH_HS, CH_CS, CH_BF, CH_KA, CH_LSQ }; /* our initiator channels */

typedef struct opts {
  const char *tcp, *unix_path;
  uint32_t magic;
  size_t count[B_KINDS];
  size_t depth;
  uint64_t rate, seconds;
  bool burst;
  cdl_point from, to;
  bool has_range;
} opts;

typedef struct peer {
  int fd, kind;
  cdl_mux mux;
  cdl_buf out; /* SDUs not yet taken by the socket */
  size_t out_off;
  bool started;       /* the node accepted the handshake: the behaviour began */
  uint64_t bad_at_ms; /* a zombie's bad message is due then (0: sent or none) */
  bool closed, finished;
  size_t forwards, replies;
  uint64_t bytes_in, allowance;
} peer;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool is_local(const opts *o) { return o->unix_path != NULL; }

static int dial(const opts *o) {
  int fd;
  if (is_local(o)) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", o->unix_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  } else {
    char host[64];
    snprintf(host, sizeof host, "%s", o->tcp);
    char *colon = strrchr(host, ':');
    if (colon == NULL) return -1;
    *colon = '\0';
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void queue(peer *p, int ch, cdl_buf *msg) {
  cdl_mux_queue(&p->mux, ch, msg->data, msg->len);
  cdl_buf_reset(msg);
}

static void send_request_next(peer *p, cdl_buf *msg) {
  cdl_cs_encode(msg, &(cdl_cs_msg){.kind = CDL_CS_REQUEST_NEXT});
  queue(p, CH_CS, msg);
}

/* The behaviour's first requests, once the node accepted the handshake
 * (before that it knows no other protocol). */
static void start_peer(peer *p, const opts *o, cdl_buf *msg) {
  p->started = true;
  bool fetch = !is_local(o) && o->has_range &&
               (p->kind == B_SLOW || p->kind == B_NONREADER || p->kind == B_ZOMBIE);
  for (int i = 0; fetch && i < (p->kind == B_ZOMBIE ? 60 : 1); i++) {
    cdl_bf_encode(msg, &(cdl_bf_msg){.kind = CDL_BF_REQUEST_RANGE, .from = o->from, .to = o->to});
    queue(p, CH_BF, msg);
  }
  if (p->kind == B_ZOMBIE) p->bad_at_ms = now_ms() + 1000; /* once the node's writes are stuck */
  size_t requests = p->kind == B_PIPELINE ? o->depth : p->kind == B_PINGER ? 0 : fetch ? 0 : 10;
  for (size_t i = 0; i < requests; i++) send_request_next(p, msg);
}

/* The proposal; the behaviour starts with the node's reply. */
static void open_peer(peer *p, const opts *o, cdl_buf *msg) {
  bool local = is_local(o);
  cdl_mux_init(&p->mux, 0);
  cdl_mux_add_channel(&p->mux, CDL_PROTO_HANDSHAKE, true, 1 << 20);
  cdl_mux_add_channel(&p->mux, local ? CDL_PROTO_LOCAL_CHAIN_SYNC : CDL_PROTO_CHAIN_SYNC, true,
                      8 << 20);
  cdl_mux_add_channel(&p->mux, CDL_PROTO_BLOCK_FETCH, true, 8 << 20);
  cdl_mux_add_channel(&p->mux, CDL_PROTO_KEEP_ALIVE, true, 1 << 20);
  cdl_mux_add_channel(&p->mux, CDL_PROTO_LOCAL_STATE_QUERY, true, 1 << 20);
  cdl_buf_init(&p->out, 0);
  if (p->kind == B_GARBAGE) return;
  cdl_hs_config hs = local ? (cdl_hs_config){true, 9, 16, {o->magic, false, 0, false}}
                           : (cdl_hs_config){false, 7, 14, {o->magic, true, 0, false}};
  cdl_hs_encode_propose(msg, &hs);
  queue(p, CH_HS, msg);
}

/* A pinger's next burst: pings, or acquires over the local socket. */
static void ping(peer *p, const opts *o, cdl_buf *msg) {
  for (int i = 0; i < 64; i++) {
    if (is_local(o)) {
      cdl_lsq_encode(msg, &(cdl_lsq_msg){.kind = CDL_LSQ_ACQUIRE_VOLATILE_TIP});
      queue(p, CH_LSQ, msg);
      cdl_lsq_encode(msg, &(cdl_lsq_msg){.kind = CDL_LSQ_RELEASE});
      queue(p, CH_LSQ, msg);
    } else {
      cdl_ka_encode(msg, &(cdl_ka_msg){.kind = CDL_KA_KEEP_ALIVE, .cookie = (uint16_t)i});
      queue(p, CH_KA, msg);
    }
  }
}

/* A keep-alive message that is not CBOR: a violation. */
static void bad_message(peer *p, cdl_buf *msg) {
  static const uint8_t BAD[] = {0xff, 0xff};
  cdl_buf_append(msg, BAD, sizeof BAD);
  queue(p, CH_KA, msg);
  p->bad_at_ms = 0;
}

static void garbage(peer *p) {
  uint8_t junk[4096];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rand();
  cdl_buf_append(&p->out, junk, sizeof junk);
}

/* Moves queued SDUs to the socket until it would block. */
static void pump_out(peer *p) {
  for (;;) {
    if (p->out_off == p->out.len) {
      cdl_buf_reset(&p->out);
      p->out_off = 0;
      if (!cdl_mux_next_sdu(&p->mux, 0, &p->out)) return;
    }
    ssize_t n = send(p->fd, p->out.data + p->out_off, p->out.len - p->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) p->closed = true;
      return;
    }
    p->out_off += (size_t)n;
  }
}

/* Chain-sync replies: a pipeline peer asks again for each, and stops at
 * the tip; a local slow reader keeps ten in flight. */
static void take_chain_sync(peer *p, const opts *o, cdl_buf *msg) {
  for (;;) {
    cdl_span in = cdl_mux_ingress(&p->mux, CH_CS);
    cdl_cs_msg m;
    size_t used;
    cdl_error err = {0};
    if (in.len == 0 || cdl_cs_decode(in.ptr, in.len, &m, &used, &err) != CDL_OK) return;
    uint8_t kind = m.kind;
    cdl_mux_consume(&p->mux, CH_CS, used);
    p->replies++;
    if (o->burst && p->kind == B_PIPELINE) {
      p->forwards += kind == CDL_CS_ROLL_FORWARD;
      p->finished |= p->replies == o->depth;
      continue;
    }
    if (kind == CDL_CS_AWAIT_REPLY) {
      if (p->kind == B_PIPELINE) p->finished = true;
      continue;
    }
    p->forwards += kind == CDL_CS_ROLL_FORWARD;
    if (!p->finished) send_request_next(p, msg);
  }
}

/* Whatever else arrives is read and dropped. */
static void drop_ingress(peer *p) {
  for (int ch = 0; ch < (int)p->mux.n_ch; ch++)
    if (ch != CH_CS) cdl_mux_consume(&p->mux, ch, cdl_mux_ingress(&p->mux, ch).len);
}

/* The handshake reply: accepted, the behaviour starts; refused, the
 * peer counts as closed by the node. */
static void take_handshake(peer *p, const opts *o, cdl_buf *msg) {
  cdl_span in = cdl_mux_ingress(&p->mux, CH_HS);
  cdl_hs_msg m;
  size_t used;
  cdl_error err = {0};
  if (p->started || in.len == 0 || cdl_hs_decode(in.ptr, in.len, &m, &used, &err) != CDL_OK) return;
  cdl_mux_consume(&p->mux, CH_HS, used);
  if (m.kind != CDL_HS_ACCEPT) {
    fprintf(stderr, "hostile_peer: the node refused the handshake\n");
    p->closed = true;
    return;
  }
  start_peer(p, o, msg);
}

static void read_in(peer *p, const opts *o, cdl_buf *msg) {
  uint8_t buf[65536];
  size_t want = sizeof buf;
  if (p->kind == B_SLOW && p->started && p->allowance < want) want = p->allowance;
  if (want == 0) return;
  ssize_t n = recv(p->fd, buf, want, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    p->closed = true;
    return;
  }
  if (n < 0) return;
  p->bytes_in += (uint64_t)n;
  if (p->kind == B_SLOW) p->allowance -= p->allowance < (uint64_t)n ? p->allowance : (uint64_t)n;
  cdl_error err = {0};
  if (cdl_mux_recv(&p->mux, buf, (size_t)n, 0, &err) != CDL_OK) {
    fprintf(stderr, "hostile_peer: undecodable reply: %s\n", err.message);
    p->closed = true;
    return;
  }
  take_handshake(p, o, msg);
  take_chain_sync(p, o, msg);
  drop_ingress(p);
}

static bool reads(const peer *p) {
  return !p->started || p->kind == B_PIPELINE || p->kind == B_SLOW;
}

static bool settled(const peer *p) { return p->closed || (p->kind == B_PIPELINE && p->finished); }

/* One turn of the loop for every peer. */
static void turn(peer *ps, size_t n, const opts *o, cdl_buf *msg, uint64_t tick_ms) {
  struct pollfd *pf = calloc(n, sizeof *pf);
  for (size_t i = 0; i < n; i++) {
    peer *p = &ps[i];
    if (p->kind == B_PINGER && p->started && cdl_mux_egress(&p->mux) < 4096) ping(p, o, msg);
    if (p->kind == B_GARBAGE && p->out_off == p->out.len) garbage(p);
    if (p->bad_at_ms && now_ms() >= p->bad_at_ms) bad_message(p, msg);
    if (p->kind == B_SLOW) { /* a bucket of at most a fifth of a second */
      p->allowance += o->rate * tick_ms / 1000;
      if (p->allowance > o->rate / 5) p->allowance = o->rate / 5;
    }
    if (!p->closed) pump_out(p);
    short ev = POLLRDHUP;
    if (reads(p) && !(p->kind == B_SLOW && p->started && p->allowance == 0)) ev |= POLLIN;
    pf[i] = (struct pollfd){.fd = settled(p) ? -1 : p->fd, .events = ev};
  }
  poll(pf, n, 20);
  for (size_t i = 0; i < n; i++) {
    peer *p = &ps[i];
    if (pf[i].fd < 0) continue;
    if (pf[i].revents & (POLLERR | POLLHUP)) p->closed = true;
    if (!p->closed && reads(p) && (pf[i].revents & (POLLIN | POLLRDHUP))) read_in(p, o, msg);
    /* A non-reader learns of the close from the FIN alone. */
    if (!reads(p) && (pf[i].revents & POLLRDHUP)) p->closed = true;
  }
  free(pf);
}

static void report(const peer *ps, size_t n) {
  for (int k = 0; k < B_KINDS; k++) {
    size_t peers = 0, closed = 0, finished = 0, forwards = 0, replies = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
      if (ps[i].kind != k) continue;
      peers++;
      closed += ps[i].closed;
      finished += ps[i].finished;
      forwards += ps[i].forwards;
      replies += ps[i].replies;
      bytes += ps[i].bytes_in;
    }
    if (peers == 0) continue;
    printf("{\"behaviour\":\"%s\",\"peers\":%zu,\"closed_by_node\":%zu,\"finished\":%zu,"
           "\"forwards\":%zu,\"replies\":%zu,\"bytes_in\":%llu}\n",
           NAMES[k], peers, closed, finished, forwards, replies, (unsigned long long)bytes);
  }
}

static bool parse_point(char **s, cdl_point *p) {
  char *colon = strchr(*s, ':');
  if (colon == NULL) return false;
  p->origin = false;
  p->slot = strtoull(*s, NULL, 10);
  char *hex = colon + 1;
  size_t got = 0;
  cdl_error err = {0};
  if (strlen(hex) < 64 || cdl_hex_decode(hex, 64, p->hash, 32, &got, &err) != CDL_OK) return false;
  *s = hex + 64 + (hex[64] == ':');
  return true;
}

static int usage(void) {
  fprintf(stderr, "usage: hostile_peer (--tcp HOST:PORT | --unix PATH) --magic N [--pipeline N]"
                  " [--slow N] [--nonreader N] [--pinger N] [--garbage N] [--zombie N] [--depth D] [--burst 1]"
                  " [--rate BYTES] [--seconds S] [--range FROMSLOT:HASH:TOSLOT:HASH]\n");
  return 2;
}

static int parse(int argc, char **argv, opts *o) {
  *o = (opts){.depth = 1000, .rate = 65536, .seconds = 60};
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    int kind = -1;
    for (int b = 0; b < B_KINDS; b++)
      if (strncmp(k, "--", 2) == 0 && strcmp(k + 2, NAMES[b]) == 0) kind = b;
    if (kind >= 0)
      o->count[kind] = strtoul(v, NULL, 10);
    else if (strcmp(k, "--tcp") == 0)
      o->tcp = v;
    else if (strcmp(k, "--unix") == 0)
      o->unix_path = v;
    else if (strcmp(k, "--magic") == 0)
      o->magic = (uint32_t)strtoul(v, NULL, 10);
    else if (strcmp(k, "--depth") == 0)
      o->depth = strtoul(v, NULL, 10);
    else if (strcmp(k, "--rate") == 0)
      o->rate = strtoull(v, NULL, 10);
    else if (strcmp(k, "--burst") == 0)
      o->burst = strcmp(v, "1") == 0;
    else if (strcmp(k, "--seconds") == 0)
      o->seconds = strtoull(v, NULL, 10);
    else if (strcmp(k, "--range") == 0) {
      char *s = argv[i + 1];
      if (!parse_point(&s, &o->from) || !parse_point(&s, &o->to)) return usage();
      o->has_range = true;
    } else
      return usage();
  }
  if ((o->tcp == NULL) == (o->unix_path == NULL) || o->magic == 0) return usage();
  return 0;
}

int main(int argc, char **argv) {
  opts o;
  if (argc % 2 == 0 || parse(argc, argv, &o) != 0) return usage();
  size_t n = 0;
  for (int k = 0; k < B_KINDS; k++) n += o.count[k];
  peer *ps = calloc(n ? n : 1, sizeof *ps);
  cdl_buf msg;
  cdl_buf_init(&msg, 0);
  srand(42);
  for (size_t i = 0, k = 0; k < B_KINDS; k++)
    for (size_t j = 0; j < o.count[k]; j++, i++) {
      ps[i].kind = (int)k;
      if ((ps[i].fd = dial(&o)) < 0) {
        fprintf(stderr, "hostile_peer: cannot connect (%s)\n", strerror(errno));
        return 1;
      }
      open_peer(&ps[i], &o, &msg);
    }
  uint64_t end = now_ms() + o.seconds * 1000, last = now_ms();
  for (;;) {
    size_t open = 0;
    for (size_t i = 0; i < n; i++) open += !settled(&ps[i]);
    if (open == 0 || now_ms() >= end) break;
    uint64_t t = now_ms();
    turn(ps, n, &o, &msg, t - last);
    last = t;
  }
  report(ps, n);
  for (size_t i = 0; i < n; i++) {
    close(ps[i].fd);
    cdl_mux_free(&ps[i].mux);
    cdl_buf_free(&ps[i].out);
  }
  cdl_buf_free(&msg);
  free(ps);
  return 0;
}
