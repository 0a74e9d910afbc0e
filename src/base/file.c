/*
 * file.c: whole-file reads for the command line and tests, bounded in size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cardinal/base.h"

#define READ_STEP ((size_t)64 << 10)

int cdl_file_read_all(const char *path, size_t max_bytes, cdl_buf *out,
                      cdl_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return cdl_error_set(err, CDL_E_IO, 0, "cannot open %s: %s", path, strerror(errno));
  int rc = CDL_OK;
  for (;;) {
    int grown = cdl_buf_reserve(out, READ_STEP);
    if (grown != CDL_OK) {
      rc = cdl_error_set(err, grown, out->len, "reading %s: %s", path,
                         grown == CDL_E_LIMIT ? "over the buffer bound" : "out of memory");
      break;
    }
    size_t n = fread(out->data + out->len, 1, READ_STEP, f);
    if (n > max_bytes - out->len) {
      rc = cdl_error_set(err, CDL_E_LIMIT, out->len, "%s is larger than %zu bytes", path, max_bytes);
      break;
    }
    out->len += n;
    if (n < READ_STEP) {
      if (ferror(f))
        rc = cdl_error_set(err, CDL_E_IO, out->len, "cannot read %s: %s", path, strerror(errno));
      break;
    }
  }
  fclose(f);
  return rc;
}
