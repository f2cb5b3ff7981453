/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A set of paths as 64-bit hashes, filled on a session's RX core without allocating:
 * --delete's keep set (every path of the file list, docs/PIPELINE.md "Deletion": the
 * file table lets paths go as the window moves, but deciding what the source lacks needs
 * every one once the list is complete) and -H's linkable set (the regular files the
 * session committed, the only leaders a hard link may name).
 *
 * Memory: one mmap(MAP_NORESERVE) reservation per set, made by xf_pathset_reserve() on
 * the control thread (the pipeline reserves two per session slot when it is built, for
 * XF_PIPELINE_MAX_PATHS paths or xf_pipeline_conf.max_paths, halved while they do not
 * fit the address space the process may have). Nothing is allocated after it, and
 * pages are touched only as they fill: directory, then 4 KiB leaves in order.
 * Reserved: about 21.6 bytes of address space per path of the bound (4 KiB per 192
 * paths, the directory and 3 bytes per leaf): 345.6 MiB per set, 691 MiB per session
 * slot for 2^24 paths, none of it resident until used. Resident: 4 KiB per leaf in use,
 * 16.8 bytes per path at 10^6 paths (16.0 MiB, perf/pathset). The pages a session
 * touched stay with its slot for the next session, which clears only what it takes.
 *
 * Structure: extendible hashing. A directory of 2^g leaf numbers, indexed by a hash's top
 * g bits, points at leaves of 512 slots (one page), open addressing with linear probing
 * inside the leaf by the low bits. A leaf that holds 384 hashes is split in two by the
 * next top bit into the next unused leaf: at most 384 hashes move, never the whole set.
 * When the split leaf is as deep as the directory, the directory doubles in place first:
 * 2^g 4-byte entries copied, the one pause that grows with the set (about 1/64 of a
 * rehash of the same set: 2^g is about the number of leaves, 1/128 of the paths).
 *
 * Measured (XF_PERF_CLOCK=thread xf-bench-pathset, release build, medians of 5, table in
 * docs/PIPELINE.md "Bounds"): at 10^6 paths the worst single add, 140 us, is the floor
 * of one timed operation on the shared development machine (133 us), where the doubling
 * hash table this replaced paused 9.0 ms; all 10^6 adds take 111 ms of CPU.
 *
 * Bounds: a set takes at most the number of paths it was reserved for. At the bound, or
 * if its hashes are so alike that no leaf or directory bit is left to split them (only
 * paths made to collide do that), xf_pathset_add() returns -ENOSPC and leaves the set as
 * it was; the session aborts with a reason and counts it (xf_pipeline_rx_stats
 * .paths_over). A session never deletes, or links, from a set that missed a path.
 *
 * Collisions: two paths with the same hash make the set answer "present" for both, so a
 * collision can only spare an entry that should have been deleted (or let a link name a
 * leader with another path's hash, which the commit worker's lookup still checks), never
 * delete one that should have been kept: about 1 in 10^7 for a list of 10^6 paths.
 *
 * Threads: filled by the session's RX core; the keep set is read by the commit worker
 * only after the list is complete and every file committed (the ring hand-off publishes
 * it), never written again in that session.
 */
#ifndef XF_PATHSET_H
#define XF_PATHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Slots of a leaf (one 4 KiB page of hashes). */
#define XF_PATHSET_LEAF 512u
/** Hashes a leaf holds before it is split (3/4 of its slots: short probes). */
#define XF_PATHSET_LEAF_FILL 384u

struct xf_pathset {
	void *base;       /**< the reservation (NULL: none, the set holds nothing) */
	size_t bytes;     /**< its length */
	uint32_t *dir;    /**< 2^gmax entries; the first 2^g are in use */
	uint16_t *cnt;    /**< hashes held, per leaf */
	uint8_t *depth;   /**< top bits the hashes of a leaf share, per leaf */
	uint64_t *leaf;   /**< max_leaves x XF_PATHSET_LEAF slots; 0 = empty */
	uint32_t nleaves; /**< leaves in use */
	uint32_t max_leaves;
	uint8_t g;    /**< directory depth in use */
	uint8_t gmax; /**< the deepest the directory may grow */
	size_t n;     /**< paths held */
	size_t max;   /**< paths it takes at most */
};

/** 64-bit hash of a path (FNV-1a with a final avalanche), never 0. */
uint64_t xf_pathset_hash(const char *path, size_t len);

/**
 * Reserve the address space of a set for max_paths paths and make it empty. Not on an
 * RX core (it maps memory).
 * @param ps        The set (any content: it is overwritten).
 * @param max_paths 1..2^32.
 * @return 0; -EINVAL max_paths out of range; -ENOMEM the mapping failed.
 */
int xf_pathset_reserve(struct xf_pathset *ps, size_t max_paths);

/** Unmap the reservation (a set never reserved, or released, is left as is). */
void xf_pathset_release(struct xf_pathset *ps);

/** Empty the set for a new session: no allocation, no system call, one page cleared. */
void xf_pathset_reset(struct xf_pathset *ps);

/**
 * Add a path.
 * @return 0 (added, or already present); -ENOSPC the set is at its bound, or could not
 *         split the leaf the path falls in (the set is unchanged).
 */
int xf_pathset_add(struct xf_pathset *ps, const char *path, size_t len);

/** xf_pathset_add() of a hash (0 is taken as 1, as xf_pathset_hash() never gives 0). */
int xf_pathset_add_hash(struct xf_pathset *ps, uint64_t h);

/** Whether the path (or another with the same hash) was added. */
bool xf_pathset_has(const struct xf_pathset *ps, const char *path, size_t len);

/** Whether the hash was added. */
bool xf_pathset_has_hash(const struct xf_pathset *ps, uint64_t h);

/** Paths held. */
static inline size_t
xf_pathset_count(const struct xf_pathset *ps)
{
	return ps->n;
}

/** Bytes of the reservation in use (leaves, their counts and depths, the directory). */
size_t xf_pathset_mem(const struct xf_pathset *ps);

#endif /* XF_PATHSET_H */
