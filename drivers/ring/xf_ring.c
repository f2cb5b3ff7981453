/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SP/SC rings on rte_ring, without the memzone/tailq registry of rte_ring_create():
 * the memory is ours (C heap, or rte_malloc on a socket) and rte_ring_init() only
 * fills the header, so rings work before or without rte_eal_init().
 *
 * Layout: one allocation, struct xf_ring padded to a cache line, then the rte_ring
 * header and its element slots. Both cores read the xf_ring fields on every call, and
 * they never change after creation, so sharing that line costs nothing.
 *
 * Capacity: the header promises count rounded up to a power of two. A plain rte_ring
 * of size 2^k holds only 2^k - 1, so the ring is created RING_F_EXACT_SZ with the
 * rounded count: rte_ring then allocates 2^(k+1) slots and caps use at exactly 2^k.
 * The price is twice the slot memory; the gain is that a ring sized for a burst of
 * 2^k really takes 2^k, which the callers' credit arithmetic relies on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "xf_ring.h"

/* Largest capacity: rte_ring's size (2 * capacity with EXACT_SZ) is at most 2^31. */
#define XF_RING_MAX_COUNT (1u << 30)

static size_t
ring_offset(void)
{
	return RTE_ALIGN_CEIL(sizeof(struct xf_ring), RTE_CACHE_LINE_SIZE);
}

struct xf_ring *
xf_ring_create(const char *name, unsigned int count, unsigned int esize, unsigned int producer,
               unsigned int consumer, int socket)
{
	const unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;
	struct xf_ring *ring;
	unsigned int cap;
	ssize_t ring_size;
	size_t total;
	int ret;

	if (name == NULL || strnlen(name, RTE_RING_NAMESIZE) >= RTE_RING_NAMESIZE || count == 0 ||
	    count > XF_RING_MAX_COUNT || esize == 0 || esize % 4 != 0) {
		errno = EINVAL;
		return NULL;
	}
	cap = rte_align32pow2(count);
	/* Slots rte_ring_init() will use for an exact capacity of cap: the next power of two
	 * above cap (same rounding as rte_ring_create_elem()). */
	ring_size = rte_ring_get_memsize_elem(esize, rte_align32pow2(cap + 1));
	if (ring_size < 0) {
		errno = (int)-ring_size;
		return NULL;
	}
	total = ring_offset() + (size_t)ring_size;

	if (socket < 0) {
		ring = aligned_alloc(RTE_CACHE_LINE_SIZE,
		                     RTE_ALIGN_CEIL(total, RTE_CACHE_LINE_SIZE));
		if (ring == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		memset(ring, 0, total);
		ring->on_heap = 1;
	} else {
		ring = rte_zmalloc_socket(name, total, RTE_CACHE_LINE_SIZE, socket);
		if (ring == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		ring->on_heap = 0;
	}
	ring->r = (struct rte_ring *)((char *)ring + ring_offset());
	ring->esize = esize;
	ring->producer = producer;
	ring->consumer = consumer;

	ret = rte_ring_init(ring->r, name, cap, flags);
	if (ret < 0) {
		/* Arguments were checked above; kept for a future rte_ring that disagrees. */
		xf_ring_free(ring);
		errno = -ret;
		return NULL;
	}
	return ring;
}

void
xf_ring_free(struct xf_ring *ring)
{
	if (ring == NULL) {
		return;
	}
	if (ring->on_heap) {
		free(ring);
	} else {
		rte_free(ring);
	}
}
