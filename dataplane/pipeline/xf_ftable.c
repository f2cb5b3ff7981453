/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "xf_ftable.h"

#define PAGE 4096u

static size_t
page_up(size_t n)
{
	return (n + PAGE - 1u) & ~(size_t)(PAGE - 1u);
}

int
xf_ftable_reserve(struct xf_ftable *ft, uint32_t max_entries, uint32_t window)
{
	uint32_t nchunks = XF_FTABLE_CHUNKS(window);
	size_t ent = page_up((size_t)max_entries * sizeof(struct xf_fentry));
	size_t nos = page_up((size_t)nchunks * sizeof(uint32_t));
	size_t ring = page_up((size_t)nchunks * sizeof(struct xf_fchunk));
	size_t chunks = (size_t)nchunks * XF_FTABLE_CHUNK;
	size_t bytes = ent + nos + ring + chunks + XF_FTABLE_KEEP_MAX;
	char *b;

	memset(ft, 0, sizeof(*ft));
	if (max_entries == 0 || max_entries > (1u << 31) || window == 0 || window > (1u << 24)) {
		return -EINVAL;
	}
	b = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	         -1, 0);
	if (b == MAP_FAILED) {
		return -ENOMEM;
	}
	ft->base = b;
	ft->bytes = bytes;
	ft->ent = (struct xf_fentry *)b;
	ft->max = max_entries;
	ft->free_no = (uint32_t *)(b + ent);
	ft->live = (struct xf_fchunk *)(b + ent + nos);
	ft->chunks = b + ent + nos + ring;
	ft->nchunks = nchunks;
	ft->keep = ft->chunks + chunks;
	return 0;
}

void
xf_ftable_release(struct xf_ftable *ft)
{
	if (ft->base != NULL) {
		munmap(ft->base, ft->bytes);
	}
	memset(ft, 0, sizeof(*ft));
}

/* The live chunk at ring position i (0: the oldest). */
static struct xf_fchunk *
live_at(struct xf_ftable *ft, uint32_t i)
{
	return &ft->live[(ft->first + i) % ft->nchunks];
}

/* The oldest live chunk back to the free list (on top: the next one taken). */
static void
chunk_free(struct xf_ftable *ft)
{
	ft->free_no[ft->nfree++] = live_at(ft, 0)->no;
	ft->first = (ft->first + 1u) % ft->nchunks;
	ft->nlive--;
	ft->mem -= XF_FTABLE_CHUNK;
}

void
xf_ftable_reset(struct xf_ftable *ft)
{
	while (ft->nlive != 0) {
		chunk_free(ft);
	}
	if (ft->cap > ft->dirty) {
		ft->dirty = ft->cap;
	}
	ft->cap = 0;
	ft->count = 0;
	ft->first = 0;
	ft->used = 0;
	ft->kept = 0;
	ft->mem = 0;
}

/* n (<= XF_FTABLE_CHUNK) bytes for a path of entry idx; NULL: every chunk is live. */
static char *
chunk_alloc(struct xf_ftable *ft, size_t n, uint32_t idx)
{
	struct xf_fchunk *last = ft->nlive != 0 ? live_at(ft, ft->nlive - 1u) : NULL;

	if (last == NULL || XF_FTABLE_CHUNK - ft->used < n) {
		uint32_t no;

		if (ft->nfree != 0) {
			no = ft->free_no[--ft->nfree];
		} else if (ft->fresh < ft->nchunks) {
			no = ft->fresh++;
		} else {
			return NULL;
		}
		last = &ft->live[(ft->first + ft->nlive) % ft->nchunks];
		ft->nlive++;
		*last = (struct xf_fchunk){ .no = no, .max_idx = idx };
		ft->used = 0;
		ft->mem += XF_FTABLE_CHUNK;
	}
	if (idx > last->max_idx) {
		last->max_idx = idx;
	}
	ft->used += n;
	return ft->chunks + (size_t)last->no * XF_FTABLE_CHUNK + ft->used - n;
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
	struct xf_fentry *fe = xf_ftable_get(ft, idx);

	if (fe != NULL && fe->name != NULL) {
		uint16_t xl;
		size_t n;
		char *k;

		/* The name and the attribute set: an FLIST entry sent again after its
		 * directory settled compares equal to it (same_entry()). */
		xf_fentry_xattr(fe, &xl);
		n = name_size(fe) + XATTR_LEN + xl;
		k = keep && ft->kept + n <= XF_FTABLE_KEEP_MAX ? ft->keep + ft->kept : NULL;
		if (k != NULL) {
			memcpy(k, fe->name, n);
			ft->kept += n;
			ft->mem += n;
		}
		fe->name = k;
	}
	/* Entries are settled in index order: a chunk whose highest index is settled holds
	 * nothing anyone reads. */
	while (ft->nlive != 0 && live_at(ft, 0)->max_idx <= idx) {
		chunk_free(ft);
	}
}

/* Entries up to idx become this session's: those an earlier session of the slot wrote
 * are cleared (at most the distance from the highest index reached, a window). */
static void
reach(struct xf_ftable *ft, uint32_t idx)
{
	uint32_t end = idx + 1u < ft->dirty ? idx + 1u : ft->dirty;

	if (end > ft->cap) {
		memset(ft->ent + ft->cap, 0, (size_t)(end - ft->cap) * sizeof(*ft->ent));
	}
	ft->mem += (size_t)(idx + 1u - ft->cap) * sizeof(*ft->ent);
	ft->cap = idx + 1u;
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
	size_t n;
	char *p;

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
	dl = dir_len_of(e->path, e->path_len);
	bl = (uint16_t)(e->path_len - dl - (dl != 0 ? 1 : 0));
	n = (size_t)dl + bl + e->target_len + 3u + XATTR_LEN + e->xattr_len + names;
	if (n > XF_FTABLE_CHUNK) {
		return -EINVAL; /* not from a frame: XF_FTABLE_ENTRY_MAX */
	}
	if (idx >= ft->max) {
		return -ENOSPC;
	}
	p = chunk_alloc(ft, n, idx);
	if (p == NULL) {
		return -ENOSPC;
	}
	if (idx >= ft->cap) {
		reach(ft, idx);
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
