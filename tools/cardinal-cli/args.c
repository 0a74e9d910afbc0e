/*
 * args.c: option helpers of cardinal-cli's governance, key, address and
 * certificate-check commands (docs/cli.md): the network as cardano-cli
 * names it (`--testnet-magic N` or `--mainnet`, Cardano.CLI's
 * pNetworkId), options taken out before a shared parser sees the rest,
 * and cardano-cli's refusal to write over an existing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

bool cli_network_option(const char *arg, bool *has_magic, uint64_t *magic) {
  if (*has_magic)
    return false; /* both, or one twice: ambiguous */
  if (arg == NULL) {
    *magic = CLI_MAINNET_MAGIC;
  } else if (!cli_parse_u64(arg, 0, UINT32_MAX, magic)) {
    return false;
  }
  *has_magic = true;
  return true;
}

/* Removes |n| entries of argv from |at|, keeping the NULL at argv[argc]. */
static void drop(int *argc, char **argv, int at, int n) {
  memmove(argv + at, argv + at + n, (size_t)(*argc - at - n + 1) * sizeof *argv);
  *argc -= n;
}

const char *cli_take_option(int *argc, char **argv, const char *name) {
  size_t len = strlen(name);
  for (int i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, len) != 0)
      continue;
    if (a[2 + len] == '=') {
      drop(argc, argv, i, 1);
      return a + 3 + len;
    }
    if (a[2 + len] == '\0' && i + 1 < *argc) {
      const char *value = argv[i + 1];
      drop(argc, argv, i, 2);
      return value;
    }
  }
  return NULL;
}

bool cli_take_flag(int *argc, char **argv, const char *name) {
  for (int i = 1; i < *argc; i++) {
    if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0) {
      drop(argc, argv, i, 1);
      return true;
    }
  }
  return false;
}

int cli_refuse_existing(const char *what, const char *path) {
  struct stat st;
  if (lstat(path, &st) == 0)
    return cli_usage("%s: %s already exists; not overwriting it", what, path);
  return EXIT_OK;
}

int cli_write_new_file(const char *what, const char *path, const uint8_t *data, size_t len) {
  /* O_EXCL: refused if anything is there, a symlink included, with no
   * window between the check and the write. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return cli_usage("%s: %s already exists; not overwriting it", what, path);
  cdl_error err = {0};
  if (fd < 0) {
    cdl_error_set(&err, CDL_E_IO, 0, "cannot create %s: %s", path, strerror(errno));
    return cli_report(&err);
  }
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    data += n;
    len -= (size_t)n;
  }
  bool ok = len == 0;
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok)
    return EXIT_OK;
  unlink(path); /* no half-written file left for a later command to trust */
  cdl_error_set(&err, CDL_E_IO, 0, "cannot write %s: %s", path, strerror(saved));
  return cli_report(&err);
}
