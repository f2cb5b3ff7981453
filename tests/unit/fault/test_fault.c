/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the seeded reordering stage: permutation, determinism, rate, bound. */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_fault.h"

#define N 20000u

static uint32_t out_seq[N];

/* Feed frames 1..N in bursts of 1..32 (sizes from a fixed LCG), then flush. */
static uint32_t
run(const struct xf_fault_conf *conf, uint32_t *seq, uint64_t *reordered)
{
	static void *in[32], *out[32 + XF_FAULT_MAX_HELD];
	struct xf_fault f;
	uint32_t next = 1, nseq = 0, lcg = 12345;

	CU_ASSERT_FATAL(xf_fault_init(&f, conf) == 0);
	while (next <= N) {
		uint16_t burst, n;

		lcg = lcg * 1103515245u + 12345u;
		burst = (uint16_t)(1 + (lcg >> 16) % 32);
		if (burst > N - next + 1) {
			burst = (uint16_t)(N - next + 1);
		}
		for (uint16_t i = 0; i < burst; i++) {
			in[i] = (void *)(uintptr_t)next++;
		}
		n = xf_fault_apply(&f, in, burst, out);
		CU_ASSERT_FATAL(n <= burst + XF_FAULT_MAX_HELD);
		for (uint16_t i = 0; i < n; i++) {
			CU_ASSERT_FATAL(nseq < N);
			seq[nseq++] = (uint32_t)(uintptr_t)out[i];
		}
	}
	{
		uint16_t n = xf_fault_flush(&f, out);

		for (uint16_t i = 0; i < n; i++) {
			CU_ASSERT_FATAL(nseq < N);
			seq[nseq++] = (uint32_t)(uintptr_t)out[i];
		}
		CU_ASSERT_EQUAL(xf_fault_flush(&f, out), 0);
	}
	CU_ASSERT_EQUAL(f.frames, N);
	if (reordered != NULL) {
		*reordered = f.reordered;
	}
	return nseq;
}

static void
check_permutation(const uint32_t *seq, uint32_t n)
{
	static uint8_t seen[N + 1];

	CU_ASSERT_EQUAL_FATAL(n, N);
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_FATAL(seq[i] >= 1 && seq[i] <= N);
		CU_ASSERT_EQUAL(seen[seq[i]], 0);
		seen[seq[i]] = 1;
	}
}

/* Frames that come out after a later frame: the ones that were held back. */
static uint32_t
count_late(const uint32_t *seq, uint32_t n)
{
	uint32_t max = 0, late = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (seq[i] < max) {
			late++;
		} else {
			max = seq[i];
		}
	}
	return late;
}

static void
test_init(void)
{
	struct xf_fault f;
	struct xf_fault_conf c = { .seed = 1, .reorder_p = 0.5, .reorder_k = 3 };

	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), 0);
	CU_ASSERT(xf_fault_enabled(&f));
	c.reorder_k = 0;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), -EINVAL);
	c.reorder_k = XF_FAULT_MAX_DEPTH + 1;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), -EINVAL);
	c.reorder_k = 3;
	c.reorder_p = 1.5;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), -EINVAL);
	c.reorder_p = -0.1;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), -EINVAL);
	c.reorder_p = NAN;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), -EINVAL);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c), 0);
	CU_ASSERT(!xf_fault_enabled(&f));
}

static void
test_off_is_identity(void)
{
	struct xf_fault_conf c = { .seed = 7 };
	uint64_t reordered;

	CU_ASSERT_EQUAL(run(&c, out_seq, &reordered), N);
	for (uint32_t i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(out_seq[i], i + 1);
	}
	CU_ASSERT_EQUAL(reordered, 0);
}

static void
test_permutation(void)
{
	static const double ps[] = { 0.01, 0.1, 0.5, 0.9, 1.0 };
	static const uint16_t ks[] = { 1, 3, 17, 200 };

	for (size_t a = 0; a < sizeof(ps) / sizeof(ps[0]); a++) {
		for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
			struct xf_fault_conf c = { .seed = 42 + a * 10 + b,
				                   .reorder_p = ps[a],
				                   .reorder_k = ks[b] };

			check_permutation(out_seq, run(&c, out_seq, NULL));
		}
	}
}

static void
test_deterministic(void)
{
	static uint32_t again[N];
	struct xf_fault_conf c = { .seed = 0xfeed, .reorder_p = 0.2, .reorder_k = 4 };

	run(&c, out_seq, NULL);
	run(&c, again, NULL);
	CU_ASSERT(memcmp(out_seq, again, sizeof(again)) == 0);
	c.seed++;
	run(&c, again, NULL);
	CU_ASSERT(memcmp(out_seq, again, sizeof(again)) != 0);
}

static void
test_rate(void)
{
	static const double ps[] = { 0.02, 0.1, 0.3 };

	for (size_t a = 0; a < sizeof(ps) / sizeof(ps[0]); a++) {
		struct xf_fault_conf c = { .seed = 99 + a, .reorder_p = ps[a], .reorder_k = 2 };
		uint64_t reordered;
		double rate, late;

		run(&c, out_seq, &reordered);
		rate = (double)reordered / N;
		late = (double)count_late(out_seq, N) / N;
		/* Binomial sd is at most 0.0035 here: 0.02 is over five of them. */
		CU_ASSERT(fabs(rate - ps[a]) < 0.02);
		/*
		 * Seen from outside, a held frame is late unless the k frames after it were
		 * all held too (then it leaves first): expect p * (1 - p^k).
		 */
		CU_ASSERT(fabs(late - ps[a] * (1.0 - pow(ps[a], c.reorder_k))) < 0.02);
	}
}

/* A frame is never released after a frame that arrived more than k arrivals after it. */
static void
test_bound(void)
{
	static uint32_t pos[N + 1], minpos_after[N + 2];
	static const uint16_t ks[] = { 1, 5, 40 };

	for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
		struct xf_fault_conf c = { .seed = 5 + b, .reorder_p = 0.3, .reorder_k = ks[b] };
		uint32_t k = ks[b];

		run(&c, out_seq, NULL);
		for (uint32_t i = 0; i < N; i++) {
			pos[out_seq[i]] = i;
		}
		minpos_after[N + 1] = UINT32_MAX;
		for (uint32_t v = N; v >= 1; v--) {
			minpos_after[v] =
			        pos[v] < minpos_after[v + 1] ? pos[v] : minpos_after[v + 1];
		}
		/* Frames still held at the final flush are exempt: they had no k successors. */
		for (uint32_t v = 1; v + k + 1 <= N; v++) {
			CU_ASSERT(pos[v] < minpos_after[v + k + 1]);
		}
	}
}

static const struct xf_test tests[] = {
	{ "init", test_init },
	{ "off is identity", test_off_is_identity },
	{ "every frame released exactly once", test_permutation },
	{ "seeded determinism", test_deterministic },
	{ "reorder rate near p", test_rate },
	{ "held at most k arrivals", test_bound },
};

int
main(void)
{
	return xf_test_main("fault", NULL, NULL, XF_TESTS(tests));
}
