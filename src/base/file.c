/*
 * file.c: whole-file reads for the command line and tests, bounded in size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/base.h"

int cdl_file_read_all(const char *path, size_t max_bytes, cdl_buf *out,
                      cdl_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: %s", path,
                         strerror(errno));
  int rc = CDL_OK;
  uint8_t chunk[1 << 16];
  for (;;) {
    size_t n = fread(chunk, 1, sizeof chunk, f);
    if (n > 0) {
      if (n > max_bytes - out->len) {
        rc = cdl_error_set(err, CDL_E_LIMIT, out->len,
                           "%s is larger than %zu bytes", path, max_bytes);
        break;
      }
      rc = cdl_buf_append(out, chunk, n);
      if (rc != CDL_OK) {
        cdl_error_set(err, rc, out->len, "reading %s: out of memory", path);
        break;
      }
    }
    if (n < sizeof chunk) {
      if (ferror(f))
        rc = cdl_error_set(err, CDL_E_IO, out->len, "cannot read %s: %s", path,
                           strerror(errno));
      break;
    }
  }
  fclose(f);
  return rc;
}
