/* SPDX-License-Identifier: BSD-3-Clause */
/* The paths of a file list as a set of hashes (xf_pathset.h). */
#include <errno.h>
#include <stdlib.h>

#include "xf_pathset.h"

uint64_t
xf_pathset_hash(const char *path, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)path[i];
		h *= 0x100000001b3ull;
	}
	/* FNV-1a's low bits mix poorly for short keys; the slot index uses them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h != 0 ? h : 1;
}

void
xf_pathset_init(struct xf_pathset *ps)
{
	ps->slot = NULL;
	ps->cap = 0;
	ps->n = 0;
}

void
xf_pathset_fini(struct xf_pathset *ps)
{
	free(ps->slot);
	xf_pathset_init(ps);
}

static bool
put(uint64_t *slot, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slot[i] != 0) {
		if (slot[i] == h) {
			return false;
		}
		i = (i + 1) & (cap - 1);
	}
	slot[i] = h;
	return true;
}

int
xf_pathset_add(struct xf_pathset *ps, const char *path, size_t len)
{
	uint64_t h = xf_pathset_hash(path, len);

	if ((ps->n + 1) * 2 > ps->cap) {
		size_t cap = ps->cap != 0 ? ps->cap * 2 : 1024;
		uint64_t *slot;

		if (cap > SIZE_MAX / sizeof(*slot)) {
			return -ENOMEM;
		}
		slot = calloc(cap, sizeof(*slot));
		if (slot == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < ps->cap; i++) {
			if (ps->slot[i] != 0) {
				put(slot, cap, ps->slot[i]);
			}
		}
		free(ps->slot);
		ps->slot = slot;
		ps->cap = cap;
	}
	ps->n += put(ps->slot, ps->cap, h) ? 1 : 0;
	return 0;
}

bool
xf_pathset_has(const struct xf_pathset *ps, const char *path, size_t len)
{
	uint64_t h;
	size_t i;

	if (ps->cap == 0) {
		return false;
	}
	h = xf_pathset_hash(path, len);
	for (i = (size_t)h & (ps->cap - 1); ps->slot[i] != 0; i = (i + 1) & (ps->cap - 1)) {
		if (ps->slot[i] == h) {
			return true;
		}
	}
	return false;
}
