/*
 * closing_peer.c: a node-to-node peer that closes mid-transfer, for
 * sync_peer_closes.sh (docs/testing.md "Network").
 *
 *   closing_peer MAGIC -- COMMAND ARGS...
 *
 * Listens on 127.0.0.1 at a port below 32768, runs COMMAND with every
 * "{port}" in its arguments replaced by that port, and takes its one
 * connection: reads the handshake proposal, stops the command (SIGSTOP,
 * waited for), answers with an accept of version 14 for network MAGIC,
 * closes the connection, and lets the command go on (SIGCONT). The command
 * thus finds the accept and the end of the connection together, and writes
 * its first requests (chain-sync and keep-alive, one write each) into a
 * closed connection: the second write fails with EPIPE, which kills a
 * process that does not ignore SIGPIPE. Stopping it makes that order
 * certain instead of a race with its reads.
 *
 * Exits with the command's exit code, 128 + the signal that killed it, or
 * 2 when something here failed (every limit 30 s; the command is killed by
 * its pid then).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_MS 30000
#define PORT_LOW 20000
#define PORT_HIGH 32767

static pid_t child = -1;

static int give_up(const char *what) {
  fprintf(stderr, "closing_peer: %s: %s\n", what, errno ? strerror(errno) : "timed out");
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  return 2;
}

/* A listening socket on 127.0.0.1 at the first free port from a start
 * that depends on our pid (tests may run side by side). */
static int listen_below_32768(unsigned *port) {
  unsigned span = PORT_HIGH - PORT_LOW + 1, start = (unsigned)getpid() % span;
  for (unsigned i = 0; i < 500; i++) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *port = PORT_LOW + (start + i) % span;
    a.sin_port = htons((uint16_t)*port);
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 1) == 0) return s;
    close(s);
  }
  return -1;
}

/* Runs argv with "{port}" replaced; the child gets SIGPIPE's default
 * disposition whatever we inherited, so that only its own choice counts. */
static int spawn(char **argv, unsigned port) {
  char text[16];
  snprintf(text, sizeof text, "%u", port);
  for (char **a = argv; *a != NULL; a++) {
    char *at = strstr(*a, "{port}");
    if (at == NULL) continue;
    char *out;
    if (asprintf(&out, "%.*s%s%s", (int)(at - *a), *a, text, at + 6) < 0) return -1;
    *a = out;
  }
  child = fork();
  if (child != 0) return child < 0 ? -1 : 0;
  signal(SIGPIPE, SIG_DFL);
  execvp(argv[0], argv);
  _exit(127);
}

/* Reads exactly n bytes within the limit. */
static int read_all(int fd, unsigned char *p, size_t n) {
  while (n > 0) {
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, LIMIT_MS) != 1) return -1;
    ssize_t got = read(fd, p, n);
    if (got <= 0) return -1;
    p += got, n -= (size_t)got;
  }
  return 0;
}

/* The handshake accept: version 14, [magic, initiator only, no peer
 * sharing, no query], in one responder SDU of protocol 0. */
static int send_accept(int fd, uint32_t magic) {
  unsigned char m[] = {0, 0, 0, 0, 0x80, 0x00, 0, 12,   0x83, 0x01, 0x0e, 0x84, 0x1a,
                       (unsigned char)(magic >> 24), (unsigned char)(magic >> 16),
                       (unsigned char)(magic >> 8), (unsigned char)magic, 0xf5, 0x00, 0xf4};
  return write(fd, m, sizeof m) == (ssize_t)sizeof m ? 0 : -1;
}

/* The command's status within the limit, as an exit code. */
static int command_status(void) {
  for (int waited = 0; waited < LIMIT_MS; waited += 10) {
    int st;
    pid_t done = waitpid(child, &st, WNOHANG);
    if (done < 0) return give_up("waitpid");
    if (done == child && WIFEXITED(st)) return WEXITSTATUS(st);
    if (done == child && WIFSIGNALED(st)) {
      fprintf(stderr, "closing_peer: the command was killed by signal %d\n", WTERMSIG(st));
      return 128 + WTERMSIG(st);
    }
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  errno = 0;
  return give_up("the command did not end");
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN); /* we write to a socket too */
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: closing_peer MAGIC -- COMMAND ARGS...\n");
    return 2;
  }
  uint32_t magic = (uint32_t)strtoul(argv[1], NULL, 10);
  unsigned port;
  int ls = listen_below_32768(&port);
  if (ls < 0) return give_up("listen");
  if (spawn(argv + 3, port) < 0) return give_up("spawn");
  struct pollfd pf = {ls, POLLIN, 0};
  errno = 0;
  if (poll(&pf, 1, LIMIT_MS) != 1) return give_up("no connection");
  int c = accept(ls, NULL, NULL);
  close(ls);
  unsigned char head[8], proposal[65535];
  errno = 0;
  if (c < 0 || read_all(c, head, 8) != 0 || read_all(c, proposal, ((size_t)head[6] << 8) | head[7]))
    return give_up("reading the proposal");
  int st;
  if (kill(child, SIGSTOP) != 0 || waitpid(child, &st, WUNTRACED) != child || !WIFSTOPPED(st))
    return give_up("stopping the command");
  if (send_accept(c, magic) != 0) return give_up("sending the accept");
  close(c);
  kill(child, SIGCONT);
  return command_status();
}
