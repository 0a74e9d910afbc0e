/*
 * mux.c: the Ouroboros multiplexer without I/O (include/cardinal/net.h
 * "Multiplexer"; network spec mux.tex "Wire Format", "Fairness";
 * ouroboros-network network-mux Codec.hs, Ingress.hs, Egress.hs).
 *
 * Receiving: the stream is cut into SDUs. Each SDU's payload goes to the
 * ingress buffer of the channel its protocol number and direction name
 * (the direction is flipped: what the peer's initiator sends is for our
 * responder). A zero-length SDU, an unknown protocol or direction, and a
 * payload that would take a channel past its ingress limit are violations
 * that end the connection, as in the Haskell mux. The SDU read timeout
 * runs from an SDU's first byte to its last, never between SDUs.
 *
 * Sending: each channel queues whole messages; cdl_mux_next_sdu takes at
 * most CDL_SDU_MAX_SEND bytes from one channel at a time, moving round
 * the channels that have something, so a long block stream does not hold
 * back a keep-alive reply. The engines produce only while the egress is
 * under the budget (cdl_mux_egress_room), so the queue holds at most the
 * budget plus one message.
 *
 * Memory: a buffer drops what was consumed or sent at its front once that
 * is most of it (a stream that never empties reuses the same bytes), and
 * one left empty after a burst (a big block, a flood) is given back, so
 * an idle connection holds no buffers at all.
 */
#include <string.h>

#include "cardinal/wire.h"

/* A buffer emptied with more than this allocated is freed. */
#define KEEP_BYTES ((size_t)64 << 10)
#define EGRESS_HARD (CDL_MUX_EGRESS_BUDGET + CDL_MUX_MESSAGE_MAX)

void cdl_sdu_header_encode(const cdl_sdu_header *h, uint8_t out[CDL_SDU_HEADER]) {
  uint16_t word = (uint16_t)((h->protocol & 0x7fff) | (h->from_responder ? 0x8000 : 0));
  out[0] = (uint8_t)(h->time_us >> 24);
  out[1] = (uint8_t)(h->time_us >> 16);
  out[2] = (uint8_t)(h->time_us >> 8);
  out[3] = (uint8_t)h->time_us;
  out[4] = (uint8_t)(word >> 8);
  out[5] = (uint8_t)word;
  out[6] = (uint8_t)(h->length >> 8);
  out[7] = (uint8_t)h->length;
}

void cdl_sdu_header_decode(const uint8_t in[CDL_SDU_HEADER], cdl_sdu_header *h) {
  h->time_us = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
  h->from_responder = (in[4] & 0x80) != 0;
  h->protocol = (uint16_t)((in[4] & 0x7f) << 8 | in[5]);
  h->length = (uint16_t)(in[6] << 8 | in[7]);
}

void cdl_mux_init(cdl_mux *m, uint64_t sdu_timeout_us) {
  memset(m, 0, sizeof *m);
  m->sdu_timeout_us = sdu_timeout_us;
  m->cur_ch = -1;
}

void cdl_mux_free(cdl_mux *m) {
  for (size_t i = 0; i < m->n_ch; i++) {
    cdl_buf_free(&m->ch[i].in);
    cdl_buf_free(&m->ch[i].out);
  }
  m->n_ch = 0;
}

int cdl_mux_find(const cdl_mux *m, uint16_t protocol, bool initiator) {
  for (size_t i = 0; i < m->n_ch; i++)
    if (m->ch[i].protocol == protocol && m->ch[i].initiator == initiator) return (int)i;
  return -1;
}

int cdl_mux_add_channel(cdl_mux *m, uint16_t protocol, bool initiator, size_t ingress_limit) {
  if (protocol > 0x7fff || ingress_limit == 0 || cdl_mux_find(m, protocol, initiator) >= 0)
    return CDL_E_USAGE;
  if (m->n_ch == CDL_MUX_MAX_CHANNELS) return CDL_E_LIMIT;
  cdl_mux_channel *c = &m->ch[m->n_ch];
  memset(c, 0, sizeof *c);
  c->protocol = protocol;
  c->initiator = initiator;
  c->ingress_limit = ingress_limit;
  /* Room for the bound plus one SDU, so a compaction never has to wait. */
  cdl_buf_init(&c->in, ingress_limit + 65536);
  cdl_buf_init(&c->out, EGRESS_HARD);
  return (int)m->n_ch++;
}

/* ---- Receiving --------------------------------------------------------------
 */

/* An empty buffer left large by a burst goes back to the allocator. */
static void release_if_idle(cdl_buf *b) {
  if (b->len == 0 && b->cap > KEEP_BYTES) cdl_buf_free(b);
}

static size_t queued_in(const cdl_mux_channel *c) { return c->in.len - c->in_head; }

/* The header is complete: find the SDU's channel and check its bounds. */
static int start_payload(cdl_mux *m, cdl_error *err) {
  cdl_sdu_header_decode(m->head, &m->cur);
  const cdl_sdu_header *h = &m->cur;
  if (h->length == 0)
    return cdl_error_set(err, CDL_E_PROTOCOL, 0, "mux: an SDU with no payload (protocol %u)",
                         (unsigned)h->protocol);
  /* M = 1: sent by the peer's responder, so for our initiator. */
  int c = cdl_mux_find(m, h->protocol, h->from_responder);
  if (c < 0) {
    bool other = cdl_mux_find(m, h->protocol, !h->from_responder) >= 0;
    return cdl_error_set(err, CDL_E_PROTOCOL, 0,
                         other ? "mux: protocol %u does not run in the %s direction here"
                               : "mux: unknown mini-protocol %u%s",
                         (unsigned)h->protocol,
                         other ? (h->from_responder ? "responder" : "initiator") : "");
  }
  cdl_mux_channel *ch = &m->ch[c];
  if (queued_in(ch) + h->length > ch->ingress_limit)
    return cdl_error_set(err, CDL_E_LIMIT, 0,
                         "mux: ingress overrun on protocol %u (%zu bytes "
                         "queued, %u more, limit %zu)",
                         (unsigned)h->protocol, queued_in(ch), (unsigned)h->length,
                         ch->ingress_limit);
  m->cur_ch = c;
  m->cur_left = h->length;
  m->sdus_in++;
  return CDL_OK;
}

/* Drops consumed bytes at the front once they are most of the buffer, or
 * when |need| more bytes would not fit behind them. */
static void compact_in(cdl_mux_channel *c, size_t need) {
  if (c->in_head == 0) return;
  if (c->in_head == c->in.len) {
    c->in.len = c->in_head = 0;
    release_if_idle(&c->in);
  } else if (c->in_head >= c->in.len / 2 || c->in.len + need > c->in.max_bytes) {
    memmove(c->in.data, c->in.data + c->in_head, c->in.len - c->in_head);
    c->in.len -= c->in_head;
    c->in_head = 0;
  }
}

int cdl_mux_recv(cdl_mux *m, const uint8_t *data, size_t len, uint64_t now_us, cdl_error *err) {
  while (len > 0) {
    if (m->head_len == 0 && m->cur_left == 0) m->sdu_started_us = now_us;
    if (m->cur_left == 0) { /* in a header */
      size_t take = CDL_SDU_HEADER - m->head_len;
      if (take > len) take = len;
      memcpy(m->head + m->head_len, data, take);
      m->head_len += take;
      data += take;
      len -= take;
      if (m->head_len < CDL_SDU_HEADER) break;
      int rc = start_payload(m, err);
      if (rc != CDL_OK) return rc;
      continue;
    }
    cdl_mux_channel *c = &m->ch[m->cur_ch];
    size_t take = m->cur_left < len ? m->cur_left : len;
    compact_in(c, take);
    if (cdl_buf_append(&c->in, data, take) != CDL_OK)
      return cdl_error_set(err, CDL_E_NOMEM, 0, "mux: out of memory");
    CDL_ASSERT(queued_in(c) <= c->ingress_limit); /* start_payload checked the whole SDU */
    c->bytes_in += take;
    m->cur_left -= take;
    data += take;
    len -= take;
    if (m->cur_left == 0) m->head_len = 0;
  }
  return CDL_OK;
}

size_t cdl_mux_sdu_rest(const cdl_mux *m, const uint8_t *data, size_t len) {
  if (m->cur_left > 0) return m->cur_left < len ? m->cur_left : len;
  uint8_t head[CDL_SDU_HEADER];
  size_t have = m->head_len, i = 0;
  memcpy(head, m->head, have);
  while (have < CDL_SDU_HEADER && i < len) head[have++] = data[i++];
  if (have < CDL_SDU_HEADER) return len;
  cdl_sdu_header h;
  cdl_sdu_header_decode(head, &h);
  return len - i > h.length ? i + h.length : len;
}

uint64_t cdl_mux_deadline(const cdl_mux *m) {
  bool inside = m->head_len > 0 || m->cur_left > 0;
  if (!inside || m->sdu_timeout_us == 0) return UINT64_MAX;
  return m->sdu_started_us + m->sdu_timeout_us;
}

int cdl_mux_check_time(const cdl_mux *m, uint64_t now_us, cdl_error *err) {
  if (now_us < cdl_mux_deadline(m)) return CDL_OK;
  return cdl_error_set(err, CDL_E_TIMEOUT, 0, "mux: an SDU took longer than %llu ms to arrive",
                       (unsigned long long)(m->sdu_timeout_us / 1000));
}

cdl_span cdl_mux_ingress(const cdl_mux *m, int c) {
  const cdl_mux_channel *ch = &m->ch[c];
  if (ch->in.data == NULL) return cdl_span_of(NULL, 0); /* nothing received yet */
  return cdl_span_of(ch->in.data + ch->in_head, queued_in(ch));
}

void cdl_mux_consume(cdl_mux *m, int c, size_t n) {
  cdl_mux_channel *ch = &m->ch[c];
  CDL_ASSERT(n <= queued_in(ch));
  ch->in_head += n;
  compact_in(ch, 0);
}

/* ---- Sending ----------------------------------------------------------------
 */

/* Drops the sent bytes at the front once they are most of the buffer:
 * each byte moves at most once per time it is sent. */
static void compact_out(cdl_mux_channel *c) {
  if (c->out_head == 0 || c->out_head < c->out.len - c->out_head) return;
  memmove(c->out.data, c->out.data + c->out_head, c->out.len - c->out_head);
  c->out.len -= c->out_head;
  c->out_head = 0;
}

int cdl_mux_queue(cdl_mux *m, int c, const uint8_t *msg, size_t len) {
  cdl_mux_channel *ch = &m->ch[c];
  if (len > EGRESS_HARD - cdl_mux_egress(m) || cdl_mux_egress(m) > EGRESS_HARD) return CDL_E_LIMIT;
  compact_out(ch);
  int rc = cdl_buf_append(&ch->out, msg, len);
  if (rc != CDL_OK) ch->out.failed = false; /* refused whole; what was queued stays intact */
  CDL_ASSERT(cdl_mux_egress(m) <= EGRESS_HARD); /* the bound an engine may never pass */
  return rc;
}

size_t cdl_mux_pending(const cdl_mux *m, int c) { return m->ch[c].out.len - m->ch[c].out_head; }

size_t cdl_mux_egress(const cdl_mux *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_ch; i++) n += cdl_mux_pending(m, (int)i);
  return n;
}

bool cdl_mux_egress_room(const cdl_mux *m) { return cdl_mux_egress(m) < CDL_MUX_EGRESS_BUDGET; }

size_t cdl_mux_footprint(const cdl_mux *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_ch; i++) n += m->ch[i].in.cap + m->ch[i].out.cap;
  return n;
}

bool cdl_mux_next_sdu(cdl_mux *m, uint64_t now_us, cdl_buf *out) {
  for (size_t k = 0; k < m->n_ch; k++) {
    size_t i = (m->next_out + k) % m->n_ch;
    cdl_mux_channel *c = &m->ch[i];
    size_t n = cdl_mux_pending(m, (int)i);
    if (n == 0) continue;
    if (n > CDL_SDU_MAX_SEND) n = CDL_SDU_MAX_SEND;
    CDL_ASSERT(c->out_head + n <= c->out.len && n <= UINT16_MAX);
    cdl_sdu_header h = {(uint32_t)now_us, c->protocol, !c->initiator, (uint16_t)n};
    uint8_t head[CDL_SDU_HEADER];
    cdl_sdu_header_encode(&h, head);
    if (cdl_buf_append(out, head, sizeof head) != CDL_OK ||
        cdl_buf_append(out, c->out.data + c->out_head, n) != CDL_OK)
      return false;
    c->out_head += n;
    c->bytes_out += n;
    if (c->out_head == c->out.len) {
      c->out.len = c->out_head = 0;
      release_if_idle(&c->out);
    }
    m->next_out = i + 1;
    m->sdus_out++;
    return true;
  }
  return false;
}
