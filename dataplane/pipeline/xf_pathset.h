/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The paths of a session's file list, kept for --delete (docs/PIPELINE.md, "Deletion"):
 * the file table lets paths go as the window moves, but deciding what the source lacks
 * needs every one of them once the list is complete.
 *
 * A set of 64-bit hashes of whole relative paths, open addressing with linear probing,
 * grown by doubling at half load: 16 bytes per path at most, whatever its length. Two
 * paths with the same hash make the set answer "kept" for both, so a collision can only
 * spare an entry that should have been deleted, never delete one that should have been
 * kept (about 1 in 10^7 for a list of a million paths). Filled by the session's RX core;
 * read by the commit worker only after the list is complete and every file committed
 * (the ring hand-off publishes it), never written again. It grows on the RX core as the
 * file table's entry array does (xf_ftable.h): amortised O(1) per path, but a doubling
 * rehashes every hash so far (at a million paths, 512 Ki of them, 8 MiB: milliseconds).
 * Presizing it from the list's total is not possible: the total comes with the last
 * FLIST frame.
 */
#ifndef XF_PATHSET_H
#define XF_PATHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xf_pathset {
	uint64_t *slot; /**< 0 = empty (a hash of 0 is stored as 1) */
	size_t cap;     /**< slots, a power of two (0 before the first add) */
	size_t n;       /**< paths stored */
};

/** 64-bit hash of a path (FNV-1a with a final avalanche), never 0. */
uint64_t xf_pathset_hash(const char *path, size_t len);

/** Initialise an empty set (no allocation yet). */
void xf_pathset_init(struct xf_pathset *ps);

/** Free the set. */
void xf_pathset_fini(struct xf_pathset *ps);

/** Add a path. @return 0, or -ENOMEM (the set is unchanged). */
int xf_pathset_add(struct xf_pathset *ps, const char *path, size_t len);

/** Whether the path (or another with the same hash) was added. */
bool xf_pathset_has(const struct xf_pathset *ps, const char *path, size_t len);

#endif /* XF_PATHSET_H */
