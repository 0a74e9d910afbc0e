/*
 * local_client.c: a blocking node-to-client connection for the CLI
 * (include/cardinal/io.h "Local client"; docs/network.md "Local client";
 * docs/ouroboros-network.md 2 and 3): the Unix socket, SDU
 * framing and the handshake; the commands speak the mini-protocols with
 * the codecs of src/net.
 *
 * Without a network magic it first asks the node which one it runs with:
 * a handshake with the query flag (node-to-client 15 and later) gets the
 * node's version table back, and the real connection proposes that
 * magic. Every read waits at most CDL_LOCAL_TIMEOUT_MS (or what the
 * caller set: a submission's answer may wait for mempool room), and a reply is
 * bounded to CDL_LOCAL_MAX_REPLY bytes: a node that stalls or floods
 * makes the command fail, not hang.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cardinal/io.h"

struct cdl_io_local {
  int fd;
  uint32_t version;
  uint32_t magic;
  bool closed;    /* the node closed the connection (it stopped) */
  int timeout_ms; /* per read; 0: CDL_LOCAL_TIMEOUT_MS */
};

/* The node is gone rather than failing: an end of file, a reset or a
 * broken pipe. */
static bool node_gone(ssize_t got, int e) { return got == 0 || e == ECONNRESET || e == EPIPE; }

static int connect_unix(const char *path, int *fd, cdl_error *err) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path)
    return cdl_error_set(err, CDL_E_USAGE, 0, "socket path longer than %zu bytes",
                         sizeof a.sun_path - 1);
  memcpy(a.sun_path, path, strlen(path) + 1);
  *fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (*fd < 0) return cdl_error_set(err, CDL_E_IO, 0, "socket: %s", strerror(errno));
  if (connect(*fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    return cdl_error_set(err, CDL_E_IO, 0, "cannot connect to %s: %s", path, strerror(e));
  }
  return CDL_OK;
}

static int read_exact(cdl_io_local *c, uint8_t *p, size_t n, cdl_error *err) {
  int timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : CDL_LOCAL_TIMEOUT_MS;
  while (n > 0) {
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    int r = poll(&pf, 1, timeout_ms);
    if (r == 0)
      return cdl_error_set(err, CDL_E_TIMEOUT, 0, "the node did not answer within %d ms",
                           timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    ssize_t got = r < 0 ? -1 : read(c->fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) c->closed = node_gone(got, errno);
    if (got <= 0)
      return cdl_error_set(err, CDL_E_IO, 0, "the node closed the connection%s%s",
                           got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
    p += got;
    n -= (size_t)got;
  }
  return CDL_OK;
}

int cdl_io_local_send(cdl_io_local *c, uint16_t protocol, const cdl_buf *msg, cdl_error *err) {
  size_t off = 0;
  do {
    size_t n = msg->len - off < CDL_SDU_MAX_SEND ? msg->len - off : CDL_SDU_MAX_SEND;
    uint8_t sdu[CDL_SDU_HEADER + CDL_SDU_MAX_SEND];
    cdl_sdu_header h = {.protocol = protocol, .length = (uint16_t)n};
    cdl_sdu_header_encode(&h, sdu);
    memcpy(sdu + CDL_SDU_HEADER, msg->data + off, n);
    size_t total = CDL_SDU_HEADER + n, done = 0;
    while (done < total) {
      ssize_t w = send(c->fd, sdu + done, total - done, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        c->closed = node_gone(w, errno);
        return cdl_error_set(err, CDL_E_IO, 0, "write to the node: %s", strerror(errno));
      }
      done += (size_t)w;
    }
    off += n;
  } while (off < msg->len);
  return CDL_OK;
}

int cdl_io_local_recv(cdl_io_local *c, uint16_t protocol, cdl_buf *in, cdl_error *err) {
  uint8_t head[CDL_SDU_HEADER];
  int rc = read_exact(c, head, sizeof head, err);
  if (rc != CDL_OK) return rc;
  cdl_sdu_header h;
  cdl_sdu_header_decode(head, &h);
  if (!h.from_responder || h.protocol != protocol || h.length == 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         "the node sent an SDU of protocol %u (%s), expected %u from the responder",
                         h.protocol, h.from_responder ? "responder" : "initiator", protocol);
  if (in->len + h.length > CDL_LOCAL_MAX_REPLY)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "a reply over %u bytes", CDL_LOCAL_MAX_REPLY);
  if (cdl_buf_reserve(in, h.length) != CDL_OK)
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  rc = read_exact(c, in->data + in->len, h.length, err);
  if (rc == CDL_OK) in->len += h.length;
  return rc;
}

/* Reads until |in| holds one whole handshake message, then decodes it. */
static int recv_hs(cdl_io_local *c, cdl_buf *in, cdl_hs_msg *m, cdl_error *err) {
  for (;;) {
    int rc = cdl_io_local_recv(c, CDL_PROTO_HANDSHAKE, in, err);
    if (rc != CDL_OK) return rc;
    size_t used;
    cdl_error e = {0};
    rc = cdl_hs_decode(in->data, in->len, m, &used, &e);
    if (rc != CDL_E_TRUNCATED) {
      if (rc != CDL_OK) *err = e;
      return rc;
    }
  }
}

static cdl_hs_config hs_config(uint32_t magic, bool query) {
  uint32_t min = query ? CDL_LOCAL_QUERY_MIN_VERSION : CDL_LOCAL_MIN_VERSION;
  return (cdl_hs_config){true, min, CDL_LOCAL_MAX_VERSION, {magic, false, 0, query}};
}

/* The magic of the node at |path|, from its answer to a handshake query. */
static int ask_magic(const char *path, uint32_t *magic, cdl_error *err) {
  cdl_io_local c = {.fd = -1};
  int rc = connect_unix(path, &c.fd, err);
  if (rc != CDL_OK) return rc;
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_hs_config cfg = hs_config(0, true);
  cdl_hs_encode_propose(&b, &cfg);
  rc = cdl_io_local_send(&c, CDL_PROTO_HANDSHAKE, &b, err);
  cdl_hs_msg m;
  cdl_buf_reset(&b);
  if (rc == CDL_OK) rc = recv_hs(&c, &b, &m, err);
  if (rc == CDL_OK && (m.kind != CDL_HS_QUERY_REPLY || m.n_versions == 0))
    rc = cdl_error_set(err, CDL_E_PROTOCOL, 0,
                       "the node did not answer the handshake query (node-to-client 15+)");
  cdl_hs_data d;
  if (rc == CDL_OK) rc = cdl_hs_decode_data(m.versions[0].number, m.versions[0].data, &d, err);
  if (rc == CDL_OK) *magic = d.magic;
  cdl_buf_free(&b);
  close(c.fd);
  return rc;
}

static int handshake(cdl_io_local *c, cdl_error *err) {
  cdl_buf b;
  cdl_buf_init(&b, 0);
  cdl_hs_config cfg = hs_config(c->magic, false);
  cdl_hs_encode_propose(&b, &cfg);
  int rc = cdl_io_local_send(c, CDL_PROTO_HANDSHAKE, &b, err);
  cdl_hs_msg m;
  cdl_buf_reset(&b);
  if (rc == CDL_OK) rc = recv_hs(c, &b, &m, err);
  cdl_hs_result res;
  if (rc == CDL_OK) rc = cdl_hs_check_reply(&cfg, &m, &res, err);
  if (rc == CDL_OK) c->version = res.version;
  cdl_buf_free(&b);
  return rc;
}

int cdl_io_local_open(const char *path, uint32_t magic, bool has_magic, cdl_io_local **out,
                      cdl_error *err) {
  *out = NULL;
  int rc = has_magic ? CDL_OK : ask_magic(path, &magic, err);
  if (rc != CDL_OK) return rc;
  cdl_io_local *c = calloc(1, sizeof *c);
  if (c == NULL) return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory");
  c->magic = magic;
  rc = connect_unix(path, &c->fd, err);
  if (rc == CDL_OK) rc = handshake(c, err);
  if (rc != CDL_OK) {
    cdl_io_local_close(c);
    return rc;
  }
  *out = c;
  return CDL_OK;
}

uint32_t cdl_io_local_magic(const cdl_io_local *c) { return c->magic; }

int cdl_io_local_fd(const cdl_io_local *c) { return c->fd; }

void cdl_io_local_set_timeout(cdl_io_local *c, int timeout_ms) { c->timeout_ms = timeout_ms; }

bool cdl_io_local_closed(const cdl_io_local *c) { return c != NULL && c->closed; }

void cdl_io_local_close(cdl_io_local *c) {
  if (c == NULL) return;
  if (c->fd >= 0) close(c->fd);
  free(c);
}
