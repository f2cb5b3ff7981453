/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_reorder.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rng(void)
{
	return xf_test_rand(&rng_state);
}

#define NFILES  10000u
#define WINDOW  64u
#define WORKERS 2u

/*
 * Two simulated workers each hold the files of their affinity (idx % 2) that were sent
 * (idx < credit) and complete them in random order; the committer pops in order and
 * releases with a random lag, like the commit worker does. Every step checks the
 * window bound, and the popped sequence must be exactly 0..N-1.
 */
static void
test_random_completion_order(void)
{
	struct xf_reorder ro;
	uint32_t *pending[WORKERS];
	uint32_t npend[WORKERS] = { 0 };
	uint32_t sent = 0, expect = 0, popped_unreleased = 0;
	uint32_t idx;
	uint64_t val;

	CU_ASSERT_FATAL(xf_reorder_init(&ro, WINDOW, 0) == 0);
	for (unsigned int w = 0; w < WORKERS; w++) {
		pending[w] = calloc(NFILES, sizeof(uint32_t));
		CU_ASSERT_FATAL(pending[w] != NULL);
	}
	while (expect < NFILES) {
		unsigned int w = (unsigned int)(rng() % WORKERS);

		/* The sender sends every file the credit allows. */
		while (sent < NFILES && sent < xf_reorder_limit(&ro)) {
			pending[sent % WORKERS][npend[sent % WORKERS]++] = sent;
			sent++;
		}
		if (npend[w] != 0 && rng() % 4 != 0) {
			uint32_t k = (uint32_t)(rng() % npend[w]);
			uint32_t f = pending[w][k];

			pending[w][k] = pending[w][--npend[w]];
			CU_ASSERT_EQUAL_FATAL(xf_reorder_insert(&ro, f, (uint64_t)f * 3u), 0);
			/* A duplicate completion changes nothing. */
			if (rng() % 8 == 0) {
				CU_ASSERT_EQUAL(xf_reorder_insert(&ro, f, 1), -EALREADY);
			}
		}
		while (xf_reorder_pop(&ro, &idx, &val)) {
			CU_ASSERT_EQUAL_FATAL(idx, expect);
			CU_ASSERT_EQUAL_FATAL(val, (uint64_t)idx * 3u);
			expect++;
			popped_unreleased++;
		}
		if (popped_unreleased != 0 && rng() % 3 == 0) {
			uint32_t n = 1 + (uint32_t)(rng() % popped_unreleased);

			CU_ASSERT_EQUAL_FATAL(xf_reorder_release(&ro, ro.base + n), 0);
			popped_unreleased -= n;
		}
		CU_ASSERT_FATAL(xf_reorder_used(&ro) <= WINDOW);
		CU_ASSERT_FATAL(ro.held <= WINDOW);
		CU_ASSERT_FATAL(ro.next - ro.base <= WINDOW);
	}
	CU_ASSERT_EQUAL(ro.held, 0);
	CU_ASSERT_EQUAL(xf_reorder_release(&ro, NFILES), 0);
	/* Popped and released indices are duplicates now. */
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 0, 0), -EALREADY);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, NFILES - 1, 0), -EALREADY);
	for (unsigned int w = 0; w < WORKERS; w++) {
		free(pending[w]);
	}
	xf_reorder_fini(&ro);
}

static void
test_beyond_window_refused(void)
{
	struct xf_reorder ro;
	uint32_t idx;
	uint64_t val;

	CU_ASSERT_FATAL(xf_reorder_init(&ro, 8, 0) == 0);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 8, 0), -ERANGE);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, UINT32_MAX, 0), -ERANGE);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 7, 70), 0);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 7, 71), -EALREADY);
	CU_ASSERT_FALSE(xf_reorder_pop(&ro, &idx, &val));
	for (uint32_t i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(xf_reorder_insert(&ro, i, i * 10u), 0);
	}
	for (uint32_t i = 0; i < 8; i++) {
		CU_ASSERT_TRUE(xf_reorder_pop(&ro, &idx, &val));
		CU_ASSERT_EQUAL(idx, i);
		CU_ASSERT_EQUAL(val, i * 10u);
	}
	/* Popped but not released: the window has not moved, 8 is still beyond it. */
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 8, 0), -ERANGE);
	CU_ASSERT_EQUAL(xf_reorder_used(&ro), 8u);
	CU_ASSERT_EQUAL(xf_reorder_release(&ro, 9), -EINVAL);
	CU_ASSERT_EQUAL(xf_reorder_release(&ro, 3), 0);
	CU_ASSERT_EQUAL(xf_reorder_release(&ro, 2), -EINVAL);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 10, 0), 0);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 11, 0), -ERANGE);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 2, 0), -EALREADY);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 5, 0), -EALREADY);
	/* take: only held (inserted, not popped) indices. */
	CU_ASSERT_TRUE(xf_reorder_take(&ro, 10, &val));
	CU_ASSERT_FALSE(xf_reorder_take(&ro, 10, &val));
	CU_ASSERT_FALSE(xf_reorder_take(&ro, 5, &val));
	CU_ASSERT_EQUAL(ro.held, 0u);
	CU_ASSERT_EQUAL(xf_reorder_init(&(struct xf_reorder){ 0 }, 0, 0), -EINVAL);
	xf_reorder_fini(&ro);
}

/* A window in a session slot's own slots (xf_reorder_attach()), left dirty by the slot's
 * previous session: empty again, in the caller's slots, and it orders as a new one. */
static void
test_attach_reuses_slots(void)
{
	uint64_t val[8];
	uint8_t full[8];
	struct xf_reorder ro;
	uint32_t idx;
	uint64_t v;

	memset(val, 0xab, sizeof(val));
	memset(full, 1, sizeof(full));
	xf_reorder_attach(&ro, val, full, 8, 0);
	CU_ASSERT_PTR_EQUAL(ro.val, val);
	CU_ASSERT_PTR_EQUAL(ro.full, full);
	CU_ASSERT_EQUAL(ro.held, 0u);
	CU_ASSERT_FALSE(xf_reorder_pop(&ro, &idx, &v));
	for (uint32_t i = 8; i-- > 0;) {
		CU_ASSERT_EQUAL(xf_reorder_insert(&ro, i, i + 100u), 0);
	}
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 8, 0), -ERANGE);
	for (uint32_t i = 0; i < 8; i++) {
		CU_ASSERT_TRUE(xf_reorder_pop(&ro, &idx, &v));
		CU_ASSERT_EQUAL(idx, i);
		CU_ASSERT_EQUAL(v, i + 100u);
	}
	/* Again, as the slot's next session: the popped state is gone. */
	xf_reorder_attach(&ro, val, full, 8, 0);
	CU_ASSERT_EQUAL(xf_reorder_insert(&ro, 3, 3), 0);
	CU_ASSERT_FALSE(xf_reorder_pop(&ro, &idx, &v));
}

static const struct xf_test tests[] = {
	{ "random completion order", test_random_completion_order },
	{ "beyond window refused", test_beyond_window_refused },
	{ "attach reuses the caller's slots", test_attach_reuses_slots },
};

int
main(void)
{
	return xf_test_main("reorder", NULL, NULL, XF_TESTS(tests));
}
