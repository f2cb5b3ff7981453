/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data-path rings on rte_ring, always single-producer/single-consumer
 * (RING_F_SP_ENQ | RING_F_SC_DEQ, fixed at creation). Elements are fixed-size
 * records copied by value (rte_ring_elem), so passing work needs no allocation.
 *
 * Each ring knows the one core that may enqueue and the one that may dequeue
 * (xf_core_self()); debug builds assert it on every call (XF_RING_ASSERT_OWNER).
 * Rings work with or without EAL: without it the memory comes from the C heap, which
 * is what the unit tests use.
 */
#ifndef XF_RING_H
#define XF_RING_H

#include <assert.h>
#include <stdint.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "xf_base.h"

struct xf_ring {
	struct rte_ring *r;    /**< created SP/SC */
	unsigned int esize;    /**< element size in bytes, multiple of 4 */
	unsigned int producer; /**< the only core allowed to enqueue */
	unsigned int consumer; /**< the only core allowed to dequeue */
	int on_heap;           /**< memory from the C heap (1) or rte_malloc (0) */
};

/*
 * The producer-ownership assertion named in docs/audits/ring-producer-audit.md.
 * Compiled in unless NDEBUG (release builds).
 */
#define XF_RING_ASSERT_OWNER(ring, role) assert((ring)->role == xf_core_self())

/**
 * Create an SP/SC ring.
 *
 * @param name     Name, for stats and errors (at most RTE_RING_NAMESIZE - 1 bytes).
 * @param count    Capacity in elements; rounded up to a power of two.
 * @param esize    Element size in bytes, a multiple of 4.
 * @param producer Core id of the single producer.
 * @param consumer Core id of the single consumer.
 * @param socket   NUMA socket for rte_malloc, or -1 (SOCKET_ID_ANY) for the C heap
 *                 (the only choice without EAL).
 * @return the ring, or NULL (errno: EINVAL bad size or name, ENOMEM).
 */
struct xf_ring *xf_ring_create(const char *name, unsigned int count, unsigned int esize,
                               unsigned int producer, unsigned int consumer, int socket);

/** Free a ring; NULL is a no-op. Elements still in it are dropped. */
void xf_ring_free(struct xf_ring *ring);

/**
 * Enqueue up to n elements from objs (n * esize bytes). Producer core only.
 * @return the number enqueued (0..n): burst semantics.
 */
static inline unsigned int
xf_ring_enqueue_burst(struct xf_ring *ring, const void *objs, unsigned int n)
{
	XF_RING_ASSERT_OWNER(ring, producer);
	return rte_ring_sp_enqueue_burst_elem(ring->r, objs, ring->esize, n, NULL);
}

/**
 * Enqueue all n elements from objs, or none (a pair of items that must arrive together).
 * Producer core only. @return n, or 0 if the ring has less room.
 */
static inline unsigned int
xf_ring_enqueue_bulk(struct xf_ring *ring, const void *objs, unsigned int n)
{
	XF_RING_ASSERT_OWNER(ring, producer);
	return rte_ring_sp_enqueue_bulk_elem(ring->r, objs, ring->esize, n, NULL);
}

/**
 * Dequeue up to n elements into objs. Consumer core only.
 * @return the number dequeued (0..n).
 */
static inline unsigned int
xf_ring_dequeue_burst(struct xf_ring *ring, void *objs, unsigned int n)
{
	XF_RING_ASSERT_OWNER(ring, consumer);
	return rte_ring_sc_dequeue_burst_elem(ring->r, objs, ring->esize, n, NULL);
}

/** Free room, in elements (either side may read it; it is a snapshot). */
static inline unsigned int
xf_ring_free_count(const struct xf_ring *ring)
{
	return rte_ring_free_count(ring->r);
}

/** Elements waiting (a snapshot). */
static inline unsigned int
xf_ring_count(const struct xf_ring *ring)
{
	return rte_ring_count(ring->r);
}

#endif /* XF_RING_H */
