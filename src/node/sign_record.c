/*
 * sign_record.c: the signing record of a core node (include/cardinal/
 * node.h "Signing record"; docs/node.md "Forging", "The signing
 * record"): per delegate key, the last slot it signed, kept durably so
 * that a node never signs a slot twice, whatever its ChainDB says after a
 * crash, a restore from a backup or a truncation.
 *
 * The file is two fixed copies, A at 0 and B at 4,096, each:
 *   magic "CDLSIGNR" | u32 version 1 | u32 entries in use (at most 16) |
 *   u64 sequence | 16 entries of (28-byte key hash, u64 slot) |
 *   zeros | u32 CRC32 of the copy's first 4,092 bytes
 * (integers little-endian). An advance writes the copy not holding the
 * newest sequence, with the sequence plus one, and fsyncs it; an open
 * takes the valid copy with the higher sequence. A write torn by a crash
 * therefore damages only the copy being replaced, and the other still
 * holds the record as it was before that advance. Each copy fills its
 * own 4,096 bytes so that no device sector (512 or 4,096 bytes) holds
 * parts of both. A new file is written whole under a temporary name and
 * renamed into place, so a file at |path| always had two valid copies
 * once: one without any valid copy is damage, and is refused, never
 * taken as empty (that would allow every slot again).
 *
 * While open, the record's process holds PATH.lock (where the file
 * system has locks): a second node signing from the same record, so with
 * the same key, is refused.
 *
 * Every file operation goes through cdl_fs, so tests can kill the
 * process at any of them and tear its writes.
 */
#include <stdlib.h>
#include <string.h>

#include "cardinal/crypto.h"
#include "node_internal.h"

#define COPY_BYTES 4096
#define FILE_BYTES (2 * COPY_BYTES)
#define FORMAT_VERSION 1
#define ENTRY_BYTES (28 + 8)
#define ENTRIES_AT 24
#define CRC_AT (COPY_BYTES - 4)
static const uint8_t MAGIC[8] = {'C', 'D', 'L', 'S', 'I', 'G', 'N', 'R'};

typedef struct record_entry {
  uint8_t key_hash[28];
  uint64_t slot;
} record_entry;

/* One copy's content. */
typedef struct record_image {
  uint64_t sequence;
  size_t n;
  record_entry entry[CDL_SIGN_RECORD_MAX_KEYS];
} record_image;

struct cdl_sign_record {
  cdl_fs *fs;
  int handle;
  int lock_token; /* PATH.lock, held while open; -1: none */
  char *path;
  record_image now; /* the newest valid copy */
  size_t copy;      /* which copy holds it: 0 (A) or 1 (B) */
};

static void store_le(uint8_t *at, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) at[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *at, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = v << 8 | at[i];
  return v;
}

static void encode_copy(const record_image *img, uint8_t out[COPY_BYTES]) {
  memset(out, 0, COPY_BYTES);
  memcpy(out, MAGIC, sizeof MAGIC);
  store_le(out + 8, FORMAT_VERSION, 4);
  store_le(out + 12, img->n, 4);
  store_le(out + 16, img->sequence, 8);
  for (size_t i = 0; i < img->n; i++) {
    uint8_t *e = out + ENTRIES_AT + i * ENTRY_BYTES;
    memcpy(e, img->entry[i].key_hash, 28);
    store_le(e + 28, img->entry[i].slot, 8);
  }
  store_le(out + CRC_AT, cdl_crc32(out, CRC_AT), 4);
}

static bool has_duplicate_key(const record_image *img) {
  for (size_t i = 0; i < img->n; i++)
    for (size_t j = i + 1; j < img->n; j++)
      if (memcmp(img->entry[i].key_hash, img->entry[j].key_hash, 28) == 0) return true;
  return false;
}

/* A copy read from disk (hostile: every field is checked); false when it
 * is not a valid copy. */
static bool decode_copy(const uint8_t in[COPY_BYTES], record_image *img) {
  if (memcmp(in, MAGIC, sizeof MAGIC) != 0 || load_le(in + 8, 4) != FORMAT_VERSION) return false;
  if (load_le(in + CRC_AT, 4) != cdl_crc32(in, CRC_AT)) return false;
  uint64_t n = load_le(in + 12, 4);
  if (n > CDL_SIGN_RECORD_MAX_KEYS) return false;
  img->n = (size_t)n;
  img->sequence = load_le(in + 16, 8);
  for (size_t i = 0; i < img->n; i++) {
    const uint8_t *e = in + ENTRIES_AT + i * ENTRY_BYTES;
    memcpy(img->entry[i].key_hash, e, 28);
    img->entry[i].slot = load_le(e + 28, 8);
  }
  return !has_duplicate_key(img);
}

/* A failed file operation, named with the record's path. */
static int io_failed(const char *path, int rc, const cdl_error *inner, cdl_error *err) {
  return cdl_error_set(err, rc, 0, "signing_record.unwritable: %s: %s", path, inner->message);
}

static int damaged(const char *path, const char *why, cdl_error *err) {
  /* Messages are bounded (CDL_ERROR_MESSAGE_MAX): what to do about it is
   * in docs/node.md "The signing record". */
  return cdl_error_set(err, CDL_E_CHECKSUM, 0,
                       "signing_record.damaged: %s %s; not taken as empty, which would allow "
                       "every slot again",
                       path, why);
}

/* The directory of |path|, for the fsync that makes a new file's name durable. */
static int dir_of(const char *path, char *out, size_t cap, cdl_error *err) {
  const char *slash = strrchr(path, '/');
  size_t len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
  if (len >= cap) return cdl_error_set(err, CDL_E_USAGE, 0, "path too long: %s", path);
  memcpy(out, slash == NULL ? "." : path, len);
  out[len] = '\0';
  return CDL_OK;
}

/* A new, empty record: copy A with sequence 1, B with 0, written whole. */
static int create_file(cdl_fs *fs, const char *path, cdl_error *err) {
  uint8_t bytes[FILE_BYTES];
  record_image img = {.sequence = 1};
  encode_copy(&img, bytes);
  img.sequence = 0;
  encode_copy(&img, bytes + COPY_BYTES);
  char dir[4096];
  CDL_TRY(dir_of(path, dir, sizeof dir, err));
  return cdl_fs_write_file_atomic(fs, dir, path, bytes, sizeof bytes, err);
}

/* Reads both copies and keeps the newest valid one. */
static int load(cdl_sign_record *r, cdl_error *err) {
  uint64_t size = 0;
  cdl_error inner = {0};
  int rc = r->fs->ops->size(r->fs, r->handle, &size, &inner);
  if (rc != CDL_OK) return io_failed(r->path, rc, &inner, err);
  if (size != FILE_BYTES) {
    char why[96];
    snprintf(why, sizeof why, "is %llu bytes where a signing record has %d",
             (unsigned long long)size, FILE_BYTES);
    return damaged(r->path, why, err);
  }
  uint8_t bytes[FILE_BYTES];
  rc = cdl_fs_read_exact(r->fs, r->handle, bytes, FILE_BYTES, 0, &inner);
  if (rc != CDL_OK) return io_failed(r->path, rc, &inner, err);
  record_image img[2];
  bool ok[2] = {decode_copy(bytes, &img[0]), decode_copy(bytes + COPY_BYTES, &img[1])};
  if (!ok[0] && !ok[1]) return damaged(r->path, "has no valid copy (both fail their checks)", err);
  r->copy = !ok[0] || (ok[1] && img[1].sequence > img[0].sequence) ? 1 : 0;
  r->now = img[r->copy];
  return CDL_OK;
}

/* One process at a time signs from a record (where |fs| has locks):
 * two nodes with one key would sign the same slots. The lock is PATH.lock
 * (the record itself holds only copies), dropped by the kernel when the
 * process dies. */
static int lock_record(cdl_sign_record *r, cdl_error *err) {
  if (r->fs->ops->lock == NULL) return CDL_OK;
  char lock_path[4096];
  if ((size_t)snprintf(lock_path, sizeof lock_path, "%s.lock", r->path) >= sizeof lock_path)
    return cdl_error_set(err, CDL_E_USAGE, 0, "path too long: %s", r->path);
  cdl_error inner = {0};
  int rc = r->fs->ops->lock(r->fs, lock_path, &r->lock_token, &inner);
  if (rc == CDL_E_LOCKED)
    return cdl_error_set(err, rc, 0,
                         "signing_record.in_use: %s is in use by another process (%s); two nodes "
                         "signing with one key would sign the same slots",
                         r->path, inner.message);
  return rc == CDL_OK ? CDL_OK : io_failed(r->path, rc, &inner, err);
}

int cdl_sign_record_open(cdl_fs *fs, const char *path, cdl_sign_record **out, cdl_error *err) {
  *out = NULL;
  cdl_sign_record *r = calloc(1, sizeof *r);
  char *p = strdup(path);
  if (r == NULL || p == NULL) {
    free(r), free(p);
    return cdl_error_set(err, CDL_E_NOMEM, 0, "out of memory for the signing record");
  }
  *r = (cdl_sign_record){.fs = fs, .handle = -1, .lock_token = -1, .path = p};
  int rc = lock_record(r, err);
  if (rc != CDL_OK) {
    cdl_sign_record_close(r);
    return rc;
  }
  cdl_error inner = {0};
  rc = fs->ops->exists(fs, path) ? CDL_OK : create_file(fs, path, &inner);
  if (rc == CDL_OK) rc = cdl_fs_open(fs, path, CDL_FS_WRITE, &r->handle, &inner);
  if (rc != CDL_OK) rc = io_failed(path, rc, &inner, err);
  if (rc == CDL_OK) rc = load(r, err);
  if (rc != CDL_OK) {
    cdl_sign_record_close(r);
    return rc;
  }
  *out = r;
  return CDL_OK;
}

void cdl_sign_record_close(cdl_sign_record *r) {
  if (r == NULL) return;
  if (r->handle >= 0) cdl_fs_close(r->fs, r->handle);
  if (r->lock_token >= 0 && r->fs->ops->unlock != NULL) r->fs->ops->unlock(r->fs, r->lock_token);
  free(r->path);
  free(r);
}

const char *cdl_sign_record_path(const cdl_sign_record *r) { return r->path; }

static const record_entry *find(const record_image *img, const uint8_t key_hash[28]) {
  for (size_t i = 0; i < img->n; i++)
    if (memcmp(img->entry[i].key_hash, key_hash, 28) == 0) return &img->entry[i];
  return NULL;
}

bool cdl_sign_record_last(const cdl_sign_record *r, const uint8_t key_hash[28], uint64_t *slot) {
  const record_entry *e = find(&r->now, key_hash);
  if (e != NULL) *slot = e->slot;
  return e != NULL;
}

/* |r|'s content with |key_hash| at |slot|, as the next copy. */
static int next_image(const cdl_sign_record *r, const uint8_t key_hash[28], uint64_t slot,
                      record_image *next, cdl_error *err) {
  *next = r->now;
  next->sequence++;
  record_entry *e = (record_entry *)find(next, key_hash);
  if (e != NULL && slot <= e->slot)
    return cdl_error_set(err, CDL_E_USAGE, 0,
                         "signing_record.not_above: slot %llu is not above %llu, the last this key "
                         "signed (%s)",
                         (unsigned long long)slot, (unsigned long long)e->slot, r->path);
  if (e == NULL && next->n == CDL_SIGN_RECORD_MAX_KEYS)
    return cdl_error_set(err, CDL_E_LIMIT, 0, "signing_record.full: %s already holds %d keys",
                         r->path, CDL_SIGN_RECORD_MAX_KEYS);
  if (e == NULL) {
    e = &next->entry[next->n++];
    memcpy(e->key_hash, key_hash, 28);
  }
  e->slot = slot;
  return CDL_OK;
}

int cdl_sign_record_advance(cdl_sign_record *r, const uint8_t key_hash[28], uint64_t slot,
                            cdl_error *err) {
  record_image next;
  CDL_TRY(next_image(r, key_hash, slot, &next, err));
  uint8_t bytes[COPY_BYTES];
  encode_copy(&next, bytes);
  size_t target = r->copy ^ 1; /* the older copy: the newest stays whole if this write tears */
  cdl_error inner = {0};
  int rc = r->fs->ops->write_at(r->fs, r->handle, bytes, COPY_BYTES, target * COPY_BYTES, &inner);
  if (rc == CDL_OK) rc = r->fs->ops->sync(r->fs, r->handle, &inner);
  if (rc != CDL_OK) return io_failed(r->path, rc, &inner, err);
  /* Only a copy known to be on disk becomes the record: after a failure
   * the next advance writes the same older copy again, whole. */
  r->now = next;
  r->copy = target;
  return CDL_OK;
}
