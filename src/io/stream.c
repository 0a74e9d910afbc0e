/*
 * stream.c: what every connection of the libuv driver does the same way
 * (io_internal.h): one SDU copied into one uv_write, the bytes waiting in
 * libuv counted against a bound and timed (the write timeout), and a
 * timer set to an engine's next deadline.
 */
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "io_internal.h"

int io_write_copy(io_out *o, uv_stream_t *st, const cdl_buf *bytes, void *owner, uv_write_cb cb) {
  io_write *w = malloc(sizeof *w + bytes->len);
  if (w == NULL) return UV_ENOMEM;
  w->owner = owner;
  w->len = bytes->len;
  memcpy(w->data, bytes->data, bytes->len);
  uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
  int rc = uv_write(&w->req, st, &b, 1, cb);
  if (rc < 0) {
    free(w);
    return rc;
  }
  if (o->writing == 0) o->stalled_us = cdl_io_now_us(); /* the clock starts with the first */
  o->writing += w->len;
  return 0;
}

void io_write_done(io_out *o, const io_write *w) {
  o->writing -= w->len;
  o->stalled_us = cdl_io_now_us(); /* progress: the next one has its full time */
}

bool io_out_room(const io_out *o) { return o->writing < IO_WRITE_BOUND; }

uint64_t io_out_deadline(const io_out *o, uint64_t timeout_us) {
  return o->writing == 0 ? UINT64_MAX : o->stalled_us + timeout_us;
}

/* The bytes the kernel still holds to send on |h|; -1 when unknown. */
static int kernel_outq(uv_handle_t *h) {
  uv_os_fd_t fd;
  int n = 0;
  if (uv_fileno(h, &fd) != 0 || ioctl(fd, SIOCOUTQ, &n) != 0) return -1;
  return n;
}

bool io_out_stalled(io_out *o, uv_handle_t *h, uint64_t now_us, uint64_t timeout_us) {
  if (now_us < io_out_deadline(o, timeout_us)) return false;
  int q = kernel_outq(h);
  if (q >= 0 && q != o->outq) { /* the peer read some: progress */
    o->outq = q;
    o->stalled_us = now_us;
    return false;
  }
  return true;
}

void io_close_fault(uv_handle_t *h, bool tcp, uv_close_cb cb) {
  if (!tcp || uv_tcp_close_reset((uv_tcp_t *)h, cb) != 0) uv_close(h, cb);
}
