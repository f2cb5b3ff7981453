/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leases: variable-size blocks handed out in order by one thread (the owner) from a
 * ring it allocated up front, and given back by any one thread, in any order. The
 * owner reclaims the ring's oldest blocks once they are given back, when it next takes
 * one; giving back is one release store into the block's header, with no lock and no
 * call into the allocator. For arrays that live from one core to another and back,
 * such as a DELTA file's signatures (taken by the worker that computes them, given
 * back by the RX core once they are sent), so that neither core calls malloc or free
 * per file.
 *
 * A block that does not fit (larger than the ring, or the ring full of blocks not yet
 * given back) comes from the heap instead, with xf_lease_alloc(): counted, and given
 * back the same way. The ring must outlive every block taken from it.
 */
#ifndef XF_LEASE_H
#define XF_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct xf_lease_ring;

/**
 * A ring of `bytes` (rounded up to 8), allocated and touched now.
 * @return the ring, or NULL (ENOMEM; EINVAL for fewer than 16 bytes or 32 GiB or more).
 */
struct xf_lease_ring *xf_lease_create(size_t bytes);

/** Free the ring. Every block taken from it must have been given back. */
void xf_lease_destroy(struct xf_lease_ring *r);

/**
 * A block of `bytes` (8-byte aligned) from the ring: owner thread only.
 * @return the block, or NULL if the ring has no room for it now.
 */
void *xf_lease_take(struct xf_lease_ring *r, size_t bytes);

/**
 * A block from the ring, else from the heap (r may be NULL: heap only). Owner thread.
 * @return the block, or NULL if the heap has none either.
 */
void *xf_lease_alloc(struct xf_lease_ring *r, size_t bytes);

/** Give a block back (NULL is a no-op). Any one thread per block, once. */
void xf_lease_free(void *p);

/** Counters of a ring (owner thread, or racy reads for stats). */
struct xf_lease_stats {
	uint64_t taken; /**< blocks taken from the ring */
	uint64_t heap;  /**< blocks xf_lease_alloc() took from the heap instead */
	size_t in_use;  /**< bytes of the ring not reclaimed yet, headers included */
	size_t size;    /**< bytes of the ring */
};

void xf_lease_stats(const struct xf_lease_ring *r, struct xf_lease_stats *out);

#endif /* XF_LEASE_H */
