/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
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

void
xf_ftable_fini(struct xf_ftable *ft)
{
	for (uint32_t i = 0; i < ft->nchunks; i++) {
		free(ft->chunks[i]);
	}
	free(ft->chunks);
	free(ft->ent);
	memset(ft, 0, sizeof(*ft));
}

static char *
arena_alloc(struct xf_ftable *ft, size_t n)
{
	char *p;

	if (ft->nchunks == 0 || ft->chunk_size - ft->chunk_used < n) {
		size_t sz = n > CHUNK_SIZE ? n : CHUNK_SIZE;

		if (ft->nchunks == ft->chunks_cap) {
			uint32_t ncap = ft->chunks_cap != 0 ? ft->chunks_cap * 2 : 16;
			char **nc = realloc(ft->chunks, ncap * sizeof(*nc));

			if (nc == NULL) {
				return NULL;
			}
			ft->mem += (ncap - ft->chunks_cap) * sizeof(*nc);
			ft->chunks = nc;
			ft->chunks_cap = ncap;
		}
		p = malloc(sz);
		if (p == NULL) {
			return NULL;
		}
		ft->chunks[ft->nchunks++] = p;
		ft->chunk_size = sz;
		ft->chunk_used = 0;
		ft->mem += sz;
	}
	p = ft->chunks[ft->nchunks - 1] + ft->chunk_used;
	ft->chunk_used += n;
	return p;
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

	if (fe->kind != e->kind || fe->mode != e->mode || fe->size != e->size ||
	    fe->mtime_ns != e->mtime_ns || fe->path_len != e->path_len || fe->dir_len != dl ||
	    fe->target_len != e->target_len) {
		return false;
	}
	if (memcmp(xf_fentry_dir(fe), e->path, dl) != 0 ||
	    memcmp(xf_fentry_base(fe), base, xf_fentry_base_len(fe)) != 0) {
		return false;
	}
	return e->target_len == 0 || memcmp(xf_fentry_target(fe), e->target, e->target_len) == 0;
}

int
xf_ftable_add(struct xf_ftable *ft, uint32_t idx, const struct xf_flist_entry *e, uint32_t limit)
{
	struct xf_fentry *fe;
	uint16_t dl, bl;
	char *p;
	int rc;

	if (idx >= limit) {
		return -ERANGE;
	}
	if (e->kind < XF_FILE_REG || e->kind > XF_FILE_SYMLINK || e->path_len == 0 ||
	    e->path_len > XF_PATH_MAX || e->target_len > XF_PATH_MAX) {
		return -EINVAL;
	}
	if (idx < ft->cap && ft->ent[idx].kind != 0) {
		return same_entry(&ft->ent[idx], e) ? -EALREADY : -EEXIST;
	}
	if (idx >= ft->cap) {
		rc = grow(ft, idx);
		if (rc < 0) {
			return rc;
		}
	}
	dl = dir_len_of(e->path, e->path_len);
	bl = (uint16_t)(e->path_len - dl - (dl != 0 ? 1 : 0));
	p = arena_alloc(ft, (size_t)dl + bl + e->target_len + 3u);
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
	fe->name = p;
	fe->size = e->size;
	fe->mtime_ns = e->mtime_ns;
	fe->mode = e->mode;
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
