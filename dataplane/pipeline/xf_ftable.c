/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xf_ftable.h"

/* Large enough that the slack at the end of a chunk is a small share of it, small
 * enough that a session with a handful of files stays cheap. */
#define CHUNK_SIZE (64u * 1024u)

void
xf_ftable_init(struct xf_ftable *ft)
{
	memset(ft, 0, sizeof(*ft));
}

static void
arena_fini(struct xf_farena *a)
{
	for (uint32_t i = a->first; i < a->n; i++) {
		free(a->c[i].mem);
	}
	free(a->c);
}

void
xf_ftable_fini(struct xf_ftable *ft)
{
	arena_fini(&ft->live);
	arena_fini(&ft->keep);
	free(ft->ent);
	memset(ft, 0, sizeof(*ft));
}

/* n bytes for a path of entry idx. */
static char *
arena_alloc(struct xf_ftable *ft, struct xf_farena *a, size_t n, uint32_t idx)
{
	struct xf_fchunk *last = a->first < a->n ? &a->c[a->n - 1] : NULL;
	char *p;

	if (last == NULL || last->size - a->used < n) {
		size_t sz = n > CHUNK_SIZE ? n : CHUNK_SIZE;

		if (a->n == a->cap && a->first > 0) {
			/* Freed chunks at the front: slide the live ones down. */
			memmove(a->c, a->c + a->first, (size_t)(a->n - a->first) * sizeof(*a->c));
			a->n -= a->first;
			a->first = 0;
		}
		if (a->n == a->cap) {
			uint32_t ncap = a->cap != 0 ? a->cap * 2 : 16;
			struct xf_fchunk *nc = realloc(a->c, ncap * sizeof(*nc));

			if (nc == NULL) {
				return NULL;
			}
			ft->mem += (ncap - a->cap) * sizeof(*nc);
			a->c = nc;
			a->cap = ncap;
		}
		p = malloc(sz);
		if (p == NULL) {
			return NULL;
		}
		last = &a->c[a->n++];
		*last = (struct xf_fchunk){ .mem = p, .size = sz, .max_idx = idx };
		a->used = 0;
		ft->mem += sz;
	}
	p = last->mem + a->used;
	a->used += n;
	if (idx > last->max_idx) {
		last->max_idx = idx;
	}
	return p;
}

/* Bytes of an entry's name: parent NUL, last component NUL, target NUL (the attribute
 * set's length and bytes follow: XATTR_LEN + xf_fentry_xattr()). */
static size_t
name_size(const struct xf_fentry *fe)
{
	return (size_t)fe->path_len + (fe->dir_len == 0 ? 1u : 0u) + fe->target_len + 2u;
}

#define XATTR_LEN sizeof(uint16_t)

void
xf_ftable_settled(struct xf_ftable *ft, uint32_t idx, bool keep)
{
	struct xf_farena *a = &ft->live;
	struct xf_fentry *fe = xf_ftable_get(ft, idx);

	if (fe != NULL && fe->name != NULL) {
		uint16_t xl;
		size_t n;
		char *k;

		/* The name and the attribute set: an FLIST entry sent again after its
		 * directory settled compares equal to it (same_entry()). */
		xf_fentry_xattr(fe, &xl);
		n = name_size(fe) + XATTR_LEN + xl;
		k = keep && ft->kept + n <= XF_FTABLE_KEEP_MAX ? arena_alloc(ft, &ft->keep, n, idx)
		                                               : NULL;

		if (k != NULL) {
			memcpy(k, fe->name, n);
			ft->kept += n;
		}
		fe->name = k;
	}
	/* Entries are settled in index order: a chunk whose highest index is settled holds
	 * nothing anyone reads. */
	while (a->first < a->n && a->c[a->first].max_idx <= idx) {
		ft->mem -= a->c[a->first].size;
		free(a->c[a->first].mem);
		a->first++;
	}
}

static int
grow(struct xf_ftable *ft, uint32_t idx)
{
	uint32_t ncap = ft->cap != 0 ? ft->cap : 64;
	struct xf_fentry *ne;

	while (ncap <= idx) {
		if (ncap > UINT32_MAX / 2) {
			return -ENOMEM;
		}
		ncap *= 2;
	}
	ne = realloc(ft->ent, (size_t)ncap * sizeof(*ne));
	if (ne == NULL) {
		return -ENOMEM;
	}
	memset(ne + ft->cap, 0, (size_t)(ncap - ft->cap) * sizeof(*ne));
	ft->mem += (size_t)(ncap - ft->cap) * sizeof(*ne);
	ft->ent = ne;
	ft->cap = ncap;
	return 0;
}

/* Length of the parent part: up to the last '/', 0 at the top level. */
static uint16_t
dir_len_of(const char *path, uint16_t len)
{
	for (uint16_t i = len; i > 0; i--) {
		if (path[i - 1] == '/') {
			return (uint16_t)(i - 1);
		}
	}
	return 0;
}

static bool
same_entry(const struct xf_fentry *fe, const struct xf_flist_entry *e)
{
	uint16_t dl = dir_len_of(e->path, e->path_len);
	const char *base = e->path + dl + (dl != 0 ? 1 : 0);

	if (fe->kind != e->kind || fe->mode != e->mode || fe->uid != e->uid || fe->gid != e->gid ||
	    fe->size != e->size || fe->mtime_ns != e->mtime_ns || fe->path_len != e->path_len ||
	    fe->dir_len != dl || fe->target_len != e->target_len) {
		return false;
	}
	if (memcmp(xf_fentry_dir(fe), e->path, dl) != 0 ||
	    memcmp(xf_fentry_base(fe), base, xf_fentry_base_len(fe)) != 0) {
		return false;
	}
	if (e->target_len != 0 && memcmp(xf_fentry_target(fe), e->target, e->target_len) != 0) {
		return false;
	}
	{
		uint16_t xl;
		const uint8_t *x = xf_fentry_xattr(fe, &xl);

		return xl == e->xattr_len && (xl == 0 || memcmp(x, e->xattr, xl) == 0);
	}
}

/* Append rec's name and a NUL at p ("" without one); the bytes written. */
static size_t
put_name(char *p, const struct xf_name_rec *rec)
{
	size_t n = rec != NULL ? rec->len : 0u;

	if (n != 0) {
		memcpy(p, rec->name, n);
	}
	p[n] = '\0';
	return n + 1;
}

/* Add entry idx; named: store its names after the target (xf_ftable_add_named()). */
static int
add(struct xf_ftable *ft, uint32_t idx, const struct xf_flist_entry *e, uint32_t limit, bool named,
    const struct xf_name_rec *user, const struct xf_name_rec *group)
{
	size_t names =
	        named ? (user != NULL ? user->len : 0u) + (group != NULL ? group->len : 0u) + 2u
	              : 0u;
	struct xf_fentry *fe;
	uint16_t dl, bl;
	char *p;
	int rc;

	if (idx >= limit) {
		return -ERANGE;
	}
	if (e->kind < XF_FILE_REG || e->kind > XF_FILE_HARDLINK || e->path_len == 0 ||
	    e->path_len > XF_PATH_MAX || e->target_len > XF_PATH_MAX) {
		return -EINVAL;
	}
	if (idx < ft->cap && ft->ent[idx].kind != 0) {
		/* A settled entry's path is gone: whatever comes again for it is late. */
		return ft->ent[idx].name == NULL || same_entry(&ft->ent[idx], e) ? -EALREADY
		                                                                 : -EEXIST;
	}
	if (idx >= ft->cap) {
		rc = grow(ft, idx);
		if (rc < 0) {
			return rc;
		}
	}
	dl = dir_len_of(e->path, e->path_len);
	bl = (uint16_t)(e->path_len - dl - (dl != 0 ? 1 : 0));
	p = arena_alloc(ft, &ft->live,
	                (size_t)dl + bl + e->target_len + 3u + XATTR_LEN + e->xattr_len + names,
	                idx);
	if (p == NULL) {
		return -ENOMEM;
	}
	fe = &ft->ent[idx];
	memcpy(p, e->path, dl);
	p[dl] = '\0';
	memcpy(p + dl + 1, e->path + dl + (dl != 0 ? 1 : 0), bl);
	p[dl + 1 + bl] = '\0';
	if (e->target_len != 0) {
		memcpy(p + dl + bl + 2, e->target, e->target_len);
	}
	p[dl + bl + 2 + e->target_len] = '\0';
	memcpy(p + dl + bl + 3 + e->target_len, &e->xattr_len, XATTR_LEN);
	if (e->xattr_len != 0) {
		memcpy(p + dl + bl + 3 + e->target_len + XATTR_LEN, e->xattr, e->xattr_len);
	}
	if (named) {
		/* After the attribute set (item_names() in xf_worker.c). */
		char *q = p + dl + bl + 3 + e->target_len + XATTR_LEN + e->xattr_len;

		q += put_name(q, user);
		put_name(q, group);
	}
	fe->name = p;
	fe->size = e->size;
	fe->mtime_ns = e->mtime_ns;
	fe->mode = e->mode;
	fe->uid = e->uid;
	fe->gid = e->gid;
	fe->path_len = e->path_len;
	fe->dir_len = dl;
	fe->target_len = e->target_len;
	fe->kind = e->kind;
	fe->state = 0;
	fe->decision = 0;
	fe->status = 0;
	ft->count++;
	return 0;
}

int
xf_ftable_add(struct xf_ftable *ft, uint32_t idx, const struct xf_flist_entry *e, uint32_t limit)
{
	return add(ft, idx, e, limit, false, NULL, NULL);
}

int
xf_ftable_add_named(struct xf_ftable *ft, uint32_t idx, const struct xf_flist_entry *e,
                    uint32_t limit, const struct xf_name_rec *user, const struct xf_name_rec *group)
{
	return add(ft, idx, e, limit, true, user, group);
}
