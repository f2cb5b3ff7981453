/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring is an array of 8-byte units. Every block starts with a one-unit header
 * (its state and its length in units, header included); head and tail count units
 * taken and reclaimed since the start, so head - tail is the part in use. A block that
 * would cross the end of the array is preceded by a filler from the current position
 * to the end, born given back, so that blocks are always contiguous.
 *
 * Ordering: the owner writes a header before the block's address can reach another
 * thread (through a ring with release semantics, in xferd); the thread that gives it
 * back stores GIVEN with release semantics as its last access to the block, and the
 * owner reads the state with acquire semantics before it reuses the units.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xf_lease.h"

enum {
	L_IN_USE = 1,
	L_GIVEN = 2, /* given back (or a filler): the owner may reclaim it */
	L_HEAP = 3,  /* from malloc: freed when given back */
};

struct lease_hdr {
	_Atomic uint32_t state;
	uint32_t units; /* header included; unused for L_HEAP */
};

_Static_assert(sizeof(struct lease_hdr) == 8, "a header is one unit");

struct xf_lease_ring {
	struct lease_hdr *u; /* cap units */
	uint64_t cap;
	uint64_t head, tail; /* free-running */
	uint64_t taken, heap;
};

struct xf_lease_ring *
xf_lease_create(size_t bytes)
{
	struct xf_lease_ring *r;
	uint64_t cap = (bytes + 7u) / 8u;

	if (cap < 2 || cap > UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->u = aligned_alloc(64, cap * 8u);
	if (r->u == NULL) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	memset(r->u, 0, cap * 8u); /* touched now: no page fault when a core takes it */
	r->cap = cap;
	return r;
}

void
xf_lease_destroy(struct xf_lease_ring *r)
{
	if (r != NULL) {
		free(r->u);
		free(r);
	}
}

static void
reclaim(struct xf_lease_ring *r)
{
	while (r->tail != r->head) {
		struct lease_hdr *h = &r->u[r->tail % r->cap];

		if (atomic_load_explicit(&h->state, memory_order_acquire) != L_GIVEN) {
			return;
		}
		r->tail += h->units;
	}
}

static struct lease_hdr *
place(struct xf_lease_ring *r, uint64_t units)
{
	uint64_t pos = r->head % r->cap;
	struct lease_hdr *h;

	if (units > r->cap) {
		return NULL;
	}
	if (pos + units > r->cap) {
		uint64_t fill = r->cap - pos;

		if (r->head - r->tail + fill + units > r->cap) {
			return NULL;
		}
		h = &r->u[pos];
		h->units = (uint32_t)fill;
		atomic_store_explicit(&h->state, L_GIVEN, memory_order_relaxed);
		r->head += fill;
		pos = 0;
	} else if (r->head - r->tail + units > r->cap) {
		return NULL;
	}
	h = &r->u[pos];
	h->units = (uint32_t)units;
	atomic_store_explicit(&h->state, L_IN_USE, memory_order_relaxed);
	r->head += units;
	return h;
}

void *
xf_lease_take(struct xf_lease_ring *r, size_t bytes)
{
	uint64_t units = 1u + (bytes + 7u) / 8u;
	struct lease_hdr *h;

	if (units > UINT32_MAX) {
		return NULL;
	}
	reclaim(r);
	if (r->head == r->tail) {
		r->head = r->tail = 0; /* empty: start at the beginning, room for the largest */
	}
	h = place(r, units);
	if (h == NULL) {
		return NULL;
	}
	r->taken++;
	return h + 1;
}

void *
xf_lease_alloc(struct xf_lease_ring *r, size_t bytes)
{
	struct lease_hdr *h;
	void *p = r != NULL ? xf_lease_take(r, bytes) : NULL;

	if (p != NULL) {
		return p;
	}
	if (bytes > SIZE_MAX - sizeof(*h)) {
		return NULL;
	}
	h = malloc(sizeof(*h) + bytes);
	if (h == NULL) {
		return NULL;
	}
	h->units = 0;
	atomic_store_explicit(&h->state, L_HEAP, memory_order_relaxed);
	if (r != NULL) {
		r->heap++;
	}
	return h + 1;
}

void
xf_lease_free(void *p)
{
	struct lease_hdr *h;

	if (p == NULL) {
		return;
	}
	h = (struct lease_hdr *)p - 1;
	if (atomic_load_explicit(&h->state, memory_order_relaxed) == L_HEAP) {
		free(h);
		return;
	}
	/* The last access: from here on the owner may hand these units out again. */
	atomic_store_explicit(&h->state, L_GIVEN, memory_order_release);
}

void
xf_lease_stats(const struct xf_lease_ring *r, struct xf_lease_stats *out)
{
	out->taken = r->taken;
	out->heap = r->heap;
	out->in_use = (size_t)(r->head - r->tail) * 8u;
	out->size = (size_t)r->cap * 8u;
}
