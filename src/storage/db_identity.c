/*
 * db_identity.c: the identity files of a database directory (docs/storage.md
 * "Identity files"; include/cardinal/storage.h "Identity files"): the
 * genesis, the PBFT signature threshold and the address-magic policy it
 * was built with, read, written and checked against the settings of an
 * open. cdl_chaindb_open runs the check, so every entry point (cardinal-cli
 * db and sync, cardinal-node run and serve) refuses a database built with
 * other settings alike, in the words its caller gives (cdl_db_advice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardinal/storage.h"

#define ID_PATH_MAX 4200
#define ID_TEXT_MAX 80  /* the longest text written: 64 hex digits */
#define ID_FILE_MAX 256 /* bytes read of an identity file; more is damage */
#define SHORT_HASH 8    /* hex digits of a hash shown in a refusal */

typedef enum id_kind { ID_GENESIS, ID_THRESHOLD, ID_MAGIC, ID_KINDS } id_kind;

static const char *const FILE_NAMES[ID_KINDS] = {"genesis.hash", "pbft-threshold",
                                                 "requires-network-magic"};
/* What a refusal calls each setting, before its value. */
static const char *const LABELS[ID_KINDS] = {"genesis ", "PBFT threshold ", ""};
/* cardano-node's words (RequiresNetworkMagic), indexed by requires_magic. */
static const char *const MAGIC_WORDS[2] = {"RequiresNoMagic", "RequiresMagic"};

/* The text the file of |kind| holds for |id|. */
static void to_text(id_kind kind, const cdl_db_identity *id, char out[ID_TEXT_MAX]) {
  if (kind == ID_GENESIS)
    cdl_hex_encode(id->genesis_hash, 32, out);
  else if (kind == ID_THRESHOLD)
    snprintf(out, ID_TEXT_MAX, "%.6f", id->pbft_threshold);
  else
    snprintf(out, ID_TEXT_MAX, "%s", MAGIC_WORDS[id->requires_magic]);
}

static bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* A threshold as written: d.dddddd, a fraction in (0, 1]. */
static bool threshold_from_text(const char *t, size_t len, double *out) {
  if (len != 8 || t[1] != '.')
    return false;
  for (size_t i = 0; i < len; i++)
    if (i != 1 && (t[i] < '0' || t[i] > '9'))
      return false;
  char copy[9];
  memcpy(copy, t, 8);
  copy[8] = '\0';
  *out = strtod(copy, NULL);
  return *out > 0 && *out <= 1;
}

/* Parses the |len| bytes of a file of |kind| into |id|: false when they
 * are not of the shape written. A file is written whole, to a temporary
 * name first, so one of another shape was damaged on disk (truncated, a
 * bit flipped), not written by another configuration. */
static bool from_text(id_kind kind, const char *t, size_t len, cdl_db_identity *id) {
  if (kind == ID_THRESHOLD)
    return threshold_from_text(t, len, &id->pbft_threshold);
  if (kind == ID_MAGIC) {
    for (int m = 0; m < 2; m++)
      if (len == strlen(MAGIC_WORDS[m]) && memcmp(t, MAGIC_WORDS[m], len) == 0)
        return id->requires_magic = m, true;
    return false;
  }
  if (len != 64)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!is_lower_hex(t[i]))
      return false;
  size_t got = 0;
  return cdl_hex_decode(t, 64, id->genesis_hash, 32, &got, NULL) == CDL_OK && got == 32;
}

static int path_of(const char *dir, const char *name, char out[ID_PATH_MAX], cdl_error *err) {
  if ((size_t)snprintf(out, ID_PATH_MAX, "%s/%s", dir, name) >= ID_PATH_MAX)
    return cdl_error_set(err, CDL_E_USAGE, 0, "database path too long");
  return CDL_OK;
}

/* One identity file: whether it is there, and whether it holds a value of
 * the right shape (into |id|). One too large to be ours is damage too. */
static int read_one(cdl_fs *fs, const char *dir, id_kind kind, bool *exists, bool *shaped,
                    cdl_db_identity *id, cdl_error *err) {
  char path[ID_PATH_MAX];
  CDL_TRY(path_of(dir, FILE_NAMES[kind], path, err));
  *exists = fs->ops->exists(fs, path);
  *shaped = false;
  if (!*exists)
    return CDL_OK;
  cdl_buf text;
  cdl_buf_init(&text, 0);
  cdl_error inner = {0};
  int rc = cdl_fs_read_file(fs, path, ID_FILE_MAX, &text, &inner);
  if (rc == CDL_OK)
    *shaped = from_text(kind, (const char *)text.data, text.len, id);
  cdl_buf_free(&text);
  if (rc == CDL_E_LIMIT)
    return CDL_OK;
  if (rc != CDL_OK && err != NULL && err->code == CDL_OK)
    *err = inner;
  return rc;
}

/* The genesis of the copy DIR/genesis.json, when there is one that hashes:
 * what a directory whose genesis.hash is gone or damaged was built for. */
static bool genesis_of_copy(cdl_fs *fs, const char *dir, uint8_t hash[32]) {
  char path[ID_PATH_MAX];
  cdl_error ignored = {0};
  if (path_of(dir, "genesis.json", path, &ignored) != CDL_OK || !fs->ops->exists(fs, path))
    return false;
  cdl_buf text;
  cdl_buf_init(&text, 0);
  bool ok = cdl_fs_read_file(fs, path, CDL_DB_GENESIS_MAX, &text, &ignored) == CDL_OK &&
            cdl_byron_genesis_hash(text.data, text.len, hash, &ignored) == CDL_OK;
  cdl_buf_free(&text);
  return ok;
}

/* Whether DIR records the setting |kind| (*known, the value into |id|);
 * *exists and *shaped say what its own file is (the genesis may be known
 * from the copy alone). */
static int recorded(cdl_fs *fs, const char *dir, id_kind kind, cdl_db_identity *id, bool *known,
                    bool *exists, bool *shaped, cdl_error *err) {
  CDL_TRY(read_one(fs, dir, kind, exists, shaped, id, err));
  *known = *shaped || (kind == ID_GENESIS && genesis_of_copy(fs, dir, id->genesis_hash));
  return CDL_OK;
}

/* A threshold file edited by hand ("0.7\n") is not of the shape written,
 * and the check writes it again; but as the setting the database opens
 * with when none is given, its value is taken rather than the default
 * (under which the ledger could refuse stored blocks). */
static bool loose_threshold(cdl_fs *fs, const char *dir, double *out) {
  char path[ID_PATH_MAX], copy[ID_FILE_MAX + 1];
  cdl_error ignored = {0};
  if (path_of(dir, FILE_NAMES[ID_THRESHOLD], path, &ignored) != CDL_OK)
    return false;
  cdl_buf text;
  cdl_buf_init(&text, 0);
  size_t n = 0;
  if (cdl_fs_read_file(fs, path, ID_FILE_MAX, &text, &ignored) == CDL_OK) {
    n = text.len;
    memcpy(copy, text.data, n);
  }
  cdl_buf_free(&text);
  while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == ' '))
    n--;
  copy[n] = '\0';
  char *end = NULL;
  *out = strtod(copy, &end);
  return n > 0 && end == copy + n && *out > 0 && *out <= 1;
}

int cdl_db_identity_read(cdl_fs *fs, const char *dir, cdl_db_identity *out, cdl_error *err) {
  memset(out, 0, sizeof *out);
  bool *has[ID_KINDS] = {&out->has_genesis, &out->has_threshold, &out->has_magic};
  bool exists[ID_KINDS], shaped;
  for (int k = 0; k < ID_KINDS; k++)
    CDL_TRY(recorded(fs, dir, (id_kind)k, out, has[k], &exists[k], &shaped, err));
  if (!out->has_threshold && exists[ID_THRESHOLD])
    out->has_threshold = loose_threshold(fs, dir, &out->pbft_threshold);
  return CDL_OK;
}

/* A value as a refusal shows it: a hash by its first digits, a threshold
 * without trailing zeros, a policy by its name. */
static void shown(id_kind kind, const char *text, char out[ID_TEXT_MAX]) {
  if (kind == ID_GENESIS)
    snprintf(out, ID_TEXT_MAX, "%.*s", SHORT_HASH, text);
  else if (kind == ID_THRESHOLD)
    snprintf(out, ID_TEXT_MAX, "%g", strtod(text, NULL));
  else
    snprintf(out, ID_TEXT_MAX, "%s", text);
}

static const cdl_db_setting_words *words_of(const cdl_db_advice *a, id_kind kind) {
  static const cdl_db_setting_words NONE = {NULL, NULL};
  if (a == NULL)
    return &NONE;
  return kind == ID_GENESIS ? &a->genesis : kind == ID_THRESHOLD ? &a->threshold : &a->magic;
}

/* DIR was built with |had| but the open asks for |want|: refused, naming
 * both and the ways out (ask for the recorded value, use another
 * directory, or delete this one). The message is bounded
 * (CDL_ERROR_MESSAGE_MAX), so the values come first and the hash is short. */
static int refuse(cdl_fs *fs, const char *dir, id_kind kind, const char *had, const char *want,
                  const cdl_db_advice *advice, cdl_error *err) {
  const cdl_db_setting_words *w = words_of(advice, kind);
  char had_shown[ID_TEXT_MAX], want_shown[ID_TEXT_MAX], copy[ID_PATH_MAX];
  shown(kind, had, had_shown);
  shown(kind, want, want_shown);
  cdl_error ignored = {0};
  /* The way back to the recorded genesis is the copy kept beside it. */
  bool has_copy = kind == ID_GENESIS && path_of(dir, "genesis.json", copy, &ignored) == CDL_OK &&
                  fs->ops->exists(fs, copy);
  const char *db_option = advice ? advice->db_option : NULL;
  return cdl_error_set(err, CDL_E_USAGE, 0,
                       "%s was built with %s%s, but %s says %s: %s %s%s, or start a fresh "
                       "database %s%s%s, or delete it",
                       dir, LABELS[kind], had_shown, w->from ? w->from : "the caller", want_shown,
                       w->fix ? w->fix : "open it with", w->fix || has_copy ? "" : LABELS[kind],
                       has_copy ? copy : had_shown, db_option ? "with " : "elsewhere",
                       db_option ? db_option : "", db_option ? " NEWDIR" : "");
}

int cdl_db_identity_check(cdl_fs *fs, const char *dir, const cdl_db_identity *want,
                          const cdl_db_advice *advice, bool read_only, uint32_t *rewritten,
                          cdl_error *err) {
  for (int k = 0; k < ID_KINDS; k++) {
    id_kind kind = (id_kind)k;
    cdl_db_identity had = {0};
    bool known, exists, shaped;
    char had_text[ID_TEXT_MAX], want_text[ID_TEXT_MAX], path[ID_PATH_MAX];
    CDL_TRY(recorded(fs, dir, kind, &had, &known, &exists, &shaped, err));
    to_text(kind, want, want_text);
    to_text(kind, &had, had_text);
    if (known && strcmp(had_text, want_text) != 0)
      return refuse(fs, dir, kind, had_text, want_text, advice, err);
    if (shaped || read_only)
      continue;
    if (rewritten != NULL)
      *rewritten += exists; /* damaged: written again */
    CDL_TRY(path_of(dir, FILE_NAMES[kind], path, err));
    CDL_TRY(cdl_fs_write_file_atomic(fs, dir, path, want_text, strlen(want_text), err));
  }
  return CDL_OK;
}
