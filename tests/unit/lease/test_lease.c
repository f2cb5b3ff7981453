/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leases (dataplane/base/xf_lease.c): blocks taken in order, given back in any order,
 * reclaimed oldest first; fillers at the end of the ring; the heap when the ring has no
 * room; and two threads, one taking and one giving back, with every block's bytes
 * checked by the other side (a block handed out twice would show as corrupt bytes).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_lease.h"
#include "xf_test.h"

static void
in_use(const struct xf_lease_ring *r, size_t want)
{
	struct xf_lease_stats st;

	xf_lease_stats(r, &st);
	CU_ASSERT_EQUAL(st.in_use, want);
}

/* Taken in order, given back out of order: only the oldest run comes back. */
static void
test_order(void)
{
	struct xf_lease_ring *r = xf_lease_create(1024);
	uint8_t *a, *b, *c, *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	a = xf_lease_take(r, 100); /* 1 + 13 units */
	b = xf_lease_take(r, 8);   /* 1 + 1 */
	c = xf_lease_take(r, 1);   /* 1 + 1 */
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL((uintptr_t)a % 8, 0);
	CU_ASSERT(b >= a + 100 && c >= b + 8); /* no overlap */
	in_use(r, 18 * 8);
	xf_lease_free(b);
	d = xf_lease_take(r, 0); /* a header alone; reclaims nothing: a is the oldest */
	CU_ASSERT_PTR_NOT_NULL(d);
	in_use(r, 19 * 8);
	xf_lease_free(a);
	xf_lease_free(c);
	/* a, b and c are reclaimed now, up to d, which is still out. */
	CU_ASSERT_PTR_NOT_NULL(xf_lease_take(r, 8));
	in_use(r, (1 + 2) * 8);
	xf_lease_destroy(r);
}

/* Full: NULL from take, the heap from alloc (counted), and room again once given back. */
static void
test_full_and_heap(void)
{
	struct xf_lease_ring *r = xf_lease_create(256); /* 32 units */
	struct xf_lease_stats st;
	void *a, *b, *h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	a = xf_lease_take(r, 120); /* 16 units */
	b = xf_lease_take(r, 120); /* 16 units: full */
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NULL(xf_lease_take(r, 1));
	CU_ASSERT_PTR_NULL(xf_lease_take(r, 1000)); /* larger than the ring */
	h = xf_lease_alloc(r, 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	memset(h, 0x5a, 1000);
	xf_lease_stats(r, &st);
	CU_ASSERT_EQUAL(st.taken, 2);
	CU_ASSERT_EQUAL(st.heap, 1);
	xf_lease_free(h); /* back to the heap (ASan and valgrind see it freed) */
	xf_lease_free(a);
	CU_ASSERT_PTR_NOT_NULL(xf_lease_take(r, 120));
	CU_ASSERT_PTR_NULL(xf_lease_alloc(NULL, SIZE_MAX)); /* no overflow of the size */
	xf_lease_destroy(r);
}

/* A block that would cross the end starts at the beginning, after a filler. */
static void
test_wrap(void)
{
	struct xf_lease_ring *r = xf_lease_create(256); /* 32 units */
	uint8_t *a, *b, *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	a = xf_lease_take(r, 160); /* units 0..20 */
	b = xf_lease_take(r, 40);  /* units 21..26 */
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* 5 units left at the end, 8 needed: wraps, but a still holds the start. */
	CU_ASSERT_PTR_NULL(xf_lease_take(r, 56));
	xf_lease_free(a);
	c = xf_lease_take(r, 56);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c == a);          /* at unit 1, right after its header at unit 0 */
	CU_ASSERT(c + 56 <= b - 8); /* clear of b and its header */
	/* b (6 units), the filler (5) and c (8) are in use: 19 units. */
	in_use(r, 19 * 8);
	xf_lease_free(b);
	xf_lease_free(c);
	/* All of it reclaimed, the filler too; an empty ring starts over at its beginning. */
	CU_ASSERT(xf_lease_take(r, 240) == a);
	xf_lease_destroy(r);
}

/* ---- two threads: the owner takes and fills, the other checks and gives back ---- */

#define NBLOCKS 200000u
#define QSIZE   1024u

struct pair {
	struct xf_lease_ring *r;
	void *q[QSIZE];
	_Atomic uint32_t qhead, qtail; /* SPSC queue of blocks, owner -> other */
	unsigned int bad;
};

static void *
giver(void *arg)
{
	struct pair *p = arg;

	for (uint32_t n = 0; n < NBLOCKS; n++) {
		uint32_t t = atomic_load_explicit(&p->qtail, memory_order_relaxed);
		uint8_t *b;
		uint32_t len, seq;

		while (atomic_load_explicit(&p->qhead, memory_order_acquire) == t) {
		}
		b = p->q[t % QSIZE];
		atomic_store_explicit(&p->qtail, t + 1, memory_order_release);
		memcpy(&seq, b, 4);
		memcpy(&len, b + 4, 4);
		for (uint32_t k = 8; k < len; k++) {
			p->bad += b[k] != (uint8_t)(seq + k);
		}
		p->bad += seq != n;
		xf_lease_free(b);
	}
	return NULL;
}

static void
test_two_threads(void)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct xf_lease_stats st;
	pthread_t th;
	uint32_t rnd = 12345;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->r = xf_lease_create(1024 * 1024); /* about the queue's average, so some go to the heap */
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->r);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, giver, p), 0);
	for (uint32_t n = 0; n < NBLOCKS; n++) {
		uint32_t h = atomic_load_explicit(&p->qhead, memory_order_relaxed);
		uint32_t len;
		uint8_t *b;

		rnd = rnd * 1103515245u + 12345u;
		len = 8u + (rnd >> 16) % 3000u;
		b = xf_lease_alloc(p->r, len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		memcpy(b, &n, 4);
		memcpy(b + 4, &len, 4);
		for (uint32_t k = 8; k < len; k++) {
			b[k] = (uint8_t)(n + k);
		}
		while (h - atomic_load_explicit(&p->qtail, memory_order_acquire) == QSIZE) {
		}
		p->q[h % QSIZE] = b;
		atomic_store_explicit(&p->qhead, h + 1, memory_order_release);
	}
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(p->bad, 0);
	xf_lease_stats(p->r, &st);
	CU_ASSERT_EQUAL(st.taken + st.heap, NBLOCKS);
	CU_ASSERT(st.taken > 0);
	printf("\n  %llu blocks from the ring, %llu from the heap\n", (unsigned long long)st.taken,
	       (unsigned long long)st.heap);
	xf_lease_destroy(p->r);
	free(p);
}

static void
test_bad_size(void)
{
	CU_ASSERT_PTR_NULL(xf_lease_create(8));
	xf_lease_free(NULL);
}

static const struct xf_test tests[] = {
	{ "taken in order, given back in any order", test_order },
	{ "full ring: NULL, heap fallback, counted", test_full_and_heap },
	{ "wrap: a filler, never a split block", test_wrap },
	{ "two threads: every block intact", test_two_threads },
	{ "too small a ring", test_bad_size },
};

int
main(void)
{
	return xf_test_main("lease", NULL, NULL, XF_TESTS(tests));
}
