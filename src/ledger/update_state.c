/*
 * update_state.c: what the update mechanism keeps of software updates
 * (docs/byron.md 5.6; cardano-ledger Cardano.Chain.Update.Validation.
 * Registration ApplicationVersion, SoftwareUpdateProposal, Metadata):
 * application names, the metadata maps (system tag -> installer hash) of
 * registered software proposals and adopted application versions, and
 * the applications' versions kept in name order. The local state query
 * (query.c) and snapshots (snapshot.c) carry all of it.
 */
#include <stdlib.h>

#include "internal.h"

int upd_name_cmp(const upd_name *a, const upd_name *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->bytes, b->bytes, n);
  if (c != 0)
    return c;
  return a->len < b->len ? -1 : a->len > b->len;
}

bool upd_name_is(const upd_name *n, cdl_span s) {
  return n->len == s.len && (s.len == 0 || memcmp(n->bytes, s.ptr, s.len) == 0);
}

void upd_meta_free(upd_metadata *m) {
  free(m->items);
  m->items = NULL;
  m->count = 0;
}

int upd_meta_copy(upd_metadata *dst, const upd_metadata *src) {
  *dst = (upd_metadata){0};
  if (src->count == 0)
    return CDL_OK;
  dst->items = ledger_dup(src->items, src->count, sizeof *src->items);
  if (dst->items == NULL)
    return CDL_E_NOMEM;
  dst->count = src->count;
  return CDL_OK;
}

int upd_meta_of(upd_metadata *dst, const cdl_byron_proposal *p) {
  *dst = (upd_metadata){0};
  if (p->n_metadata == 0)
    return CDL_OK;
  dst->items = calloc(p->n_metadata, sizeof *dst->items);
  if (dst->items == NULL)
    return CDL_E_NOMEM;
  for (size_t i = 0; i < p->n_metadata; i++) {
    const cdl_byron_update_data *d = &p->metadata[i];
    upd_installer *e = &dst->items[i];
    /* check_software_part has bounded the tag to 10 ASCII bytes, and the
     * decoder the installer hash to 32 bytes and the tags' order. */
    CDL_ASSERT(d->system_tag.len <= UPD_SYSTEM_TAG_MAX && d->hashes[1].len == 32);
    e->tag_len = (uint8_t)d->system_tag.len;
    memcpy(e->tag, d->system_tag.ptr, d->system_tag.len);
    memcpy(e->hash, d->hashes[1].ptr, 32);
  }
  dst->count = p->n_metadata;
  return CDL_OK;
}

const upd_app *upd_find_app(const upd_state *u, cdl_span name) {
  for (size_t i = 0; i < u->n_apps; i++)
    if (upd_name_is(&u->apps[i].name, name))
      return &u->apps[i];
  return NULL;
}

/* Where |name| is, or would go, in the name-ordered array. */
static size_t app_position(const upd_state *u, const upd_name *name, bool *found) {
  size_t i = 0;
  while (i < u->n_apps && upd_name_cmp(&u->apps[i].name, name) < 0)
    i++;
  *found = i < u->n_apps && upd_name_cmp(&u->apps[i].name, name) == 0;
  return i;
}

int upd_set_app(upd_state *u, const upd_name *name, uint32_t version, uint64_t slot,
                upd_metadata *meta) {
  bool found;
  size_t at = app_position(u, name, &found);
  if (!found) {
    if (ledger_push((void **)&u->apps, &u->n_apps, &u->cap_apps, sizeof *u->apps) == NULL)
      return CDL_E_NOMEM;
    memmove(&u->apps[at + 1], &u->apps[at], (u->n_apps - 1 - at) * sizeof *u->apps);
    u->apps[at] = (upd_app){.name = *name};
  }
  upd_app *app = &u->apps[at];
  upd_meta_free(&app->meta);
  app->meta = *meta;
  *meta = (upd_metadata){0};
  app->version = version;
  app->slot = slot;
  return CDL_OK;
}
