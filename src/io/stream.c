/*
 * stream.c: what every connection of the libuv driver does the same way
 * (io_internal.h): one SDU copied into one uv_write, and a timer set to
 * an engine's next deadline.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

int io_write_copy(uv_stream_t *st, const cdl_buf *bytes, void *owner, uv_write_cb cb) {
  io_write *w = malloc(sizeof *w + bytes->len);
  if (w == NULL) return UV_ENOMEM;
  w->owner = owner;
  w->len = bytes->len;
  memcpy(w->data, bytes->data, bytes->len);
  uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
  int rc = uv_write(&w->req, st, &b, 1, cb);
  if (rc < 0) free(w);
  return rc;
}

void io_timer_arm(uv_timer_t *t, uint64_t deadline_us, uv_timer_cb cb) {
  if (deadline_us == UINT64_MAX) {
    uv_timer_stop(t);
    return;
  }
  uint64_t now = cdl_io_now_us();
  /* Rounded up: a timer that fires early would only poll for nothing. */
  uint64_t ms = deadline_us > now ? (deadline_us - now + 999) / 1000 : 0;
  uv_timer_start(t, cb, ms, 0);
}
