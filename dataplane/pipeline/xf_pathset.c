/* SPDX-License-Identifier: BSD-3-Clause */
/* The paths of a file list as a set of hashes in a reservation (xf_pathset.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "xf_pathset.h"

/* Paths per leaf counted on when reserving: half a full leaf. A split leaves two leaves
 * holding XF_PATHSET_LEAF_FILL between them, so leaves average more than this (about
 * ln 2 x 384 = 266 for uniform hashes), and a list of the bound fits. */
#define LEAF_AVG (XF_PATHSET_LEAF_FILL / 2u)
/* Directory bits beyond those that number every leaf: leaves are not all equally deep. */
#define DIR_SLACK 3u
#define MAX_PATHS (1ull << 28)

uint64_t
xf_pathset_hash(const char *path, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)path[i];
		h *= 0x100000001b3ull;
	}
	/* FNV-1a's low bits mix poorly for short keys; the slot index uses them, the
	 * directory the top ones. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h != 0 ? h : 1;
}

static size_t
align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

int
xf_pathset_reserve(struct xf_pathset *ps, size_t max_paths)
{
	size_t leaves_b, dir_b, cnt_b, bytes;
	uint32_t max_leaves;
	uint8_t bits = 0;
	void *base;

	memset(ps, 0, sizeof(*ps));
	if (max_paths == 0 || max_paths > MAX_PATHS) {
		return -EINVAL;
	}
	max_leaves = (uint32_t)(max_paths / LEAF_AVG + 2u);
	while ((1ull << bits) < max_leaves) {
		bits++;
	}
	leaves_b = (size_t)max_leaves * XF_PATHSET_LEAF * sizeof(uint64_t);
	dir_b = (sizeof(uint32_t) << (bits + DIR_SLACK));
	cnt_b = align_up((size_t)max_leaves * sizeof(uint16_t), sizeof(uint64_t));
	bytes = leaves_b + dir_b + cnt_b + max_leaves;
	/* Address space only: a page is backed when it is first written. */
	base = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		return -ENOMEM;
	}
	ps->base = base;
	ps->bytes = bytes;
	ps->leaf = base;
	ps->dir = (uint32_t *)((char *)base + leaves_b);
	ps->cnt = (uint16_t *)((char *)base + leaves_b + dir_b);
	ps->depth = (uint8_t *)base + leaves_b + dir_b + cnt_b;
	ps->max_leaves = max_leaves;
	ps->gmax = (uint8_t)(bits + DIR_SLACK);
	ps->max = max_paths;
	xf_pathset_reset(ps);
	return 0;
}

void
xf_pathset_release(struct xf_pathset *ps)
{
	if (ps->base != NULL) {
		munmap(ps->base, ps->bytes);
	}
	memset(ps, 0, sizeof(*ps));
}

void
xf_pathset_reset(struct xf_pathset *ps)
{
	if (ps->base == NULL) {
		return;
	}
	/* One leaf at depth 0 takes every hash; the other leaves are cleared when taken. */
	memset(ps->leaf, 0, XF_PATHSET_LEAF * sizeof(uint64_t));
	ps->dir[0] = 0;
	ps->cnt[0] = 0;
	ps->depth[0] = 0;
	ps->nleaves = 1;
	ps->g = 0;
	ps->n = 0;
}

static inline uint32_t
dir_index(const struct xf_pathset *ps, uint64_t h)
{
	return ps->g != 0 ? (uint32_t)(h >> (64u - ps->g)) : 0u;
}

/* The slot of h in leaf l: where it is, or the empty one where it would go. A leaf is
 * never full (XF_PATHSET_LEAF_FILL < XF_PATHSET_LEAF), so the probe ends. */
static inline uint64_t *
probe(const struct xf_pathset *ps, uint32_t l, uint64_t h)
{
	uint64_t *s = ps->leaf + (size_t)l * XF_PATHSET_LEAF;
	uint32_t i = (uint32_t)h & (XF_PATHSET_LEAF - 1u);

	while (s[i] != 0 && s[i] != h) {
		i = (i + 1u) & (XF_PATHSET_LEAF - 1u);
	}
	return &s[i];
}

/* Double the directory in place: entry i becomes entries 2i and 2i + 1 (from the top, so
 * nothing is overwritten before it is read). */
static void
dir_double(struct xf_pathset *ps)
{
	for (uint32_t i = 1u << ps->g; i-- > 0;) {
		ps->dir[2u * i + 1u] = ps->dir[i];
		ps->dir[2u * i] = ps->dir[i];
	}
	ps->g++;
}

/* Split leaf l (the one h falls in) by the next top bit into a new leaf. */
static int
split(struct xf_pathset *ps, uint32_t l, uint64_t h)
{
	uint64_t old[XF_PATHSET_LEAF];
	uint64_t *s = ps->leaf + (size_t)l * XF_PATHSET_LEAF;
	uint8_t d = ps->depth[l];
	uint32_t nl, span, first;

	if (ps->nleaves == ps->max_leaves || (d == ps->g && ps->g == ps->gmax)) {
		return -ENOSPC;
	}
	if (d == ps->g) {
		dir_double(ps);
	}
	nl = ps->nleaves++;
	memset(ps->leaf + (size_t)nl * XF_PATHSET_LEAF, 0, XF_PATHSET_LEAF * sizeof(uint64_t));
	memcpy(old, s, sizeof(old));
	memset(s, 0, sizeof(old));
	ps->cnt[l] = 0;
	ps->cnt[nl] = 0;
	ps->depth[l] = (uint8_t)(d + 1u);
	ps->depth[nl] = (uint8_t)(d + 1u);
	for (uint32_t i = 0; i < XF_PATHSET_LEAF; i++) {
		uint32_t to;

		if (old[i] == 0) {
			continue;
		}
		to = ((old[i] >> (63u - d)) & 1u) != 0 ? nl : l;
		*probe(ps, to, old[i]) = old[i];
		ps->cnt[to]++;
	}
	/* The leaf had the 2^(g-d) directory entries that share h's top d bits; those whose
	 * next bit is 1 (the upper half) now point at the new leaf. */
	span = 1u << (ps->g - d);
	first = (dir_index(ps, h) & ~(span - 1u)) + span / 2u;
	for (uint32_t i = first; i < first + span / 2u; i++) {
		ps->dir[i] = nl;
	}
	return 0;
}

int
xf_pathset_add_hash(struct xf_pathset *ps, uint64_t h)
{
	if (ps->base == NULL) {
		return -ENOSPC;
	}
	h = h != 0 ? h : 1;
	for (;;) {
		uint32_t l = ps->dir[dir_index(ps, h)];
		uint64_t *slot = probe(ps, l, h);
		int rc;

		if (*slot == h) {
			return 0;
		}
		if (ps->n == ps->max) {
			return -ENOSPC;
		}
		if (ps->cnt[l] < XF_PATHSET_LEAF_FILL) {
			*slot = h;
			ps->cnt[l]++;
			ps->n++;
			return 0;
		}
		/* Full: split it and look again (its hashes may all go one way: then the
		 * deeper split comes on the next turn, at most gmax of them). */
		rc = split(ps, l, h);
		if (rc < 0) {
			return rc;
		}
	}
}

int
xf_pathset_add(struct xf_pathset *ps, const char *path, size_t len)
{
	return xf_pathset_add_hash(ps, xf_pathset_hash(path, len));
}

bool
xf_pathset_has_hash(const struct xf_pathset *ps, uint64_t h)
{
	if (ps->base == NULL) {
		return false;
	}
	h = h != 0 ? h : 1;
	return *probe(ps, ps->dir[dir_index(ps, h)], h) == h;
}

bool
xf_pathset_has(const struct xf_pathset *ps, const char *path, size_t len)
{
	return xf_pathset_has_hash(ps, xf_pathset_hash(path, len));
}

size_t
xf_pathset_mem(const struct xf_pathset *ps)
{
	return (size_t)ps->nleaves * (XF_PATHSET_LEAF * sizeof(uint64_t) + sizeof(uint16_t) + 1u) +
	       (sizeof(uint32_t) << ps->g);
}
