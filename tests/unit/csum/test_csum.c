/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Known-answer tests for xf_csum: check values, every tail length 0..64 and random
 * lengths/alignments against plain bitwise reference implementations, chaining at
 * random split points, the CRC-64 combine (random splits, zero-length pieces) against a
 * full recompute, the fast product against the bitwise one, a buffer longer than
 * ISA-L's int length for CRC-32C, and the upper halves of the vector registers clean
 * after each CRC (XINUSE, where the CPU reports it).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <CUnit/Basic.h>

#include "xf_test.h"
#include "xf_test_xinuse.h"

#include "xf_csum.h"

#define BIG                    (1u << 20) /* random lengths go up to 1 MiB */
#define ALIGN_SLACK            64u        /* random start offsets 0..63 */
#define XF_CSUM_TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

static uint8_t *pool; /* BIG + ALIGN_SLACK random bytes */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rnd(void)
{
	return xf_test_rand(&rng_state);
}

/* CRC-32C: poly 0x82F63B78 reflected, init and xorout all ones, one bit at a time. */
static uint32_t
ref_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
		}
	}
	return ~crc;
}

/* CRC-64/XZ: poly 0xC96C5795D7870F42 reflected, init and xorout all ones. */
static uint64_t
ref_crc64(uint64_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc >> 1) ^ (0xC96C5795D7870F42ull & (0ull - (crc & 1ull)));
		}
	}
	return ~crc;
}

static int
suite_init(void)
{
	pool = malloc(BIG + ALIGN_SLACK);
	if (pool == NULL) {
		return -1;
	}
	for (size_t i = 0; i < BIG + ALIGN_SLACK; i++) {
		pool[i] = (uint8_t)rnd();
	}
	return 0;
}

static int
suite_clean(void)
{
	free(pool);
	return 0;
}

static void
test_check_values(void)
{
	static const char check[] = "123456789";

	/* The reference must produce the catalogued check values, or it proves nothing. */
	CU_ASSERT_EQUAL(ref_crc32c(0, (const uint8_t *)check, 9), 0xE3069283u);
	CU_ASSERT_EQUAL(ref_crc64(0, (const uint8_t *)check, 9), 0x995DC9BBDF1939FAull);
	CU_ASSERT_EQUAL(xf_csum_crc32c(0, check, 9), 0xE3069283u);
	CU_ASSERT_EQUAL(xf_csum_crc64(0, check, 9), 0x995DC9BBDF1939FAull);
	/* Empty input leaves the value unchanged, whether starting or chaining. */
	CU_ASSERT_EQUAL(xf_csum_crc32c(0, check, 0), 0u);
	CU_ASSERT_EQUAL(xf_csum_crc64(0, check, 0), 0u);
	CU_ASSERT_EQUAL(xf_csum_crc32c(0xE3069283u, check, 0), 0xE3069283u);
	CU_ASSERT_EQUAL(xf_csum_crc64(0x995DC9BBDF1939FAull, check, 0), 0x995DC9BBDF1939FAull);
}

static void
test_tails(void)
{
	/* Every length 0..64 at every start offset 0..63: covers the SIMD tail paths. */
	for (size_t off = 0; off < ALIGN_SLACK; off++) {
		for (size_t len = 0; len <= 64; len++) {
			const uint8_t *p = pool + off;

			CU_ASSERT_EQUAL(xf_csum_crc32c(0, p, len), ref_crc32c(0, p, len));
			CU_ASSERT_EQUAL(xf_csum_crc64(0, p, len), ref_crc64(0, p, len));
		}
	}
}

static void
test_random_lengths(void)
{
	for (int i = 0; i < 24; i++) {
		size_t off = rnd() % ALIGN_SLACK;
		/* Half of them short (SIMD block boundaries), half anywhere up to 1 MiB. */
		size_t len = (i & 1) ? rnd() % (BIG + 1) : rnd() % 4096;
		const uint8_t *p = pool + off;

		CU_ASSERT_EQUAL(xf_csum_crc32c(0, p, len), ref_crc32c(0, p, len));
		CU_ASSERT_EQUAL(xf_csum_crc64(0, p, len), ref_crc64(0, p, len));
	}
	/* The whole 1 MiB, and a nonzero starting value. */
	CU_ASSERT_EQUAL(xf_csum_crc32c(0, pool, BIG), ref_crc32c(0, pool, BIG));
	CU_ASSERT_EQUAL(xf_csum_crc64(0, pool, BIG), ref_crc64(0, pool, BIG));
	CU_ASSERT_EQUAL(xf_csum_crc32c(0x12345678u, pool + 3, 1000),
	                ref_crc32c(0x12345678u, pool + 3, 1000));
	CU_ASSERT_EQUAL(xf_csum_crc64(0x123456789ABCDEFull, pool + 3, 1000),
	                ref_crc64(0x123456789ABCDEFull, pool + 3, 1000));
}

static void
test_chaining(void)
{
	for (int i = 0; i < 200; i++) {
		size_t off = rnd() % ALIGN_SLACK;
		size_t len = (i < 100) ? rnd() % 300 : rnd() % (BIG + 1);
		size_t split = len ? rnd() % (len + 1) : 0;
		const uint8_t *p = pool + off;

		uint32_t c32 = xf_csum_crc32c(xf_csum_crc32c(0, p, split), p + split, len - split);
		uint64_t c64 = xf_csum_crc64(xf_csum_crc64(0, p, split), p + split, len - split);

		CU_ASSERT_EQUAL(c32, xf_csum_crc32c(0, p, len));
		CU_ASSERT_EQUAL(c64, xf_csum_crc64(0, p, len));
	}
	/* Many small pieces in offset order, as a file arrives block by block. */
	{
		uint32_t c32 = 0;
		uint64_t c64 = 0;
		size_t at = 0;

		while (at < BIG) {
			size_t n = XF_CSUM_TEST_MIN(1 + rnd() % 9000, BIG - at);

			c32 = xf_csum_crc32c(c32, pool + at, n);
			c64 = xf_csum_crc64(c64, pool + at, n);
			at += n;
		}
		CU_ASSERT_EQUAL(c32, ref_crc32c(0, pool, BIG));
		CU_ASSERT_EQUAL(c64, ref_crc64(0, pool, BIG));
	}
}

/*
 * crc32_iscsi takes an int length, so xf_csum_crc32c cuts longer buffers into pieces.
 * A read-only anonymous mapping of 1.5 GiB costs no memory (every page is the zero
 * page); its one-call checksum must equal a chain of calls below INT_MAX each.
 */
static void
test_longer_than_int(void)
{
	const size_t len = ((size_t)3 << 29) + 13;
	const size_t piece = ((size_t)100 << 20) + 7;
	uint8_t *z = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint32_t c32 = 0;
	uint64_t c64 = 0;

	if (z == MAP_FAILED) {
		CU_FAIL("mmap 1.5 GiB of zero pages");
		return;
	}
	for (size_t at = 0; at < len; at += piece) {
		size_t n = XF_CSUM_TEST_MIN(piece, len - at);

		c32 = xf_csum_crc32c(c32, z + at, n);
		c64 = xf_csum_crc64(c64, z + at, n);
	}
	CU_ASSERT_EQUAL(xf_csum_crc32c(0, z, len), c32);
	CU_ASSERT_EQUAL(xf_csum_crc64(0, z, len), c64);
	/* Zeros are not a fixed point: a wrong length would change the value. */
	CU_ASSERT_NOT_EQUAL(xf_csum_crc32c(0, z, len - 1), c32);
	munmap(z, len);
}

/*
 * The CRC64 of a run of zeros computed without them equals the CRC64 of real zeros, at
 * every length 0..4096 and at random lengths up to 1.5 GiB (zero pages), chained after
 * random data; a length one off gives another value.
 */
static void
test_zeros(void)
{
	const size_t big = ((size_t)3 << 29) + 13;
	uint8_t *z = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (z == MAP_FAILED) {
		CU_FAIL("mmap 1.5 GiB of zero pages");
		return;
	}
	for (size_t n = 0; n <= 4096; n++) {
		uint64_t c = xf_csum_crc64(0, pool, n % 97);

		CU_ASSERT_EQUAL_FATAL(xf_csum_crc64_zeros(c, n), xf_csum_crc64(c, z, n));
	}
	for (int i = 0; i < 8; i++) {
		size_t n = (size_t)(rnd() % big);
		uint64_t c = xf_csum_crc64(0, pool, (size_t)(rnd() % BIG));

		CU_ASSERT_EQUAL(xf_csum_crc64_zeros(c, n), xf_csum_crc64(c, z, n));
		CU_ASSERT_NOT_EQUAL(xf_csum_crc64_zeros(c, n + 1), xf_csum_crc64(c, z, n));
	}
	munmap(z, big);
}

/*
 * xf_csum_crc64_combine against a full recompute by the bitwise reference: a random
 * buffer cut at random points into up to 40 pieces (zero-length ones included, and
 * pieces of zeros, where a CRC without the inversions would be 0 and the inversions
 * matter), folded left to right from the pieces' own CRCs (ISA-L); the whole by the
 * bitwise reference.
 */
static void
test_combine_random_splits(void)
{
	static uint8_t z[4096];

	for (int round = 0; round < 150; round++) {
		size_t len = (size_t)(rnd() % (round < 100 ? 300 : BIG));
		const uint8_t *buf = round % 7 == 3 ? z : pool + rnd() % ALIGN_SLACK;
		size_t cut[41];
		unsigned int n = 1 + (unsigned int)(rnd() % 40);
		uint64_t crc = 0;

		if (buf == z && len > sizeof(z)) {
			len = sizeof(z);
		}
		for (unsigned int i = 0; i < n; i++) {
			/* One cut in four repeats the previous one: a zero-length piece. */
			cut[i] = (i > 0 && rnd() % 4 == 0) ? cut[i - 1]
			                                   : (size_t)(rnd() % (len + 1));
		}
		cut[n] = len;
		for (unsigned int i = 1; i <= n; i++) {
			for (unsigned int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
				size_t t = cut[j];

				cut[j] = cut[j - 1];
				cut[j - 1] = t;
			}
		}
		crc = ref_crc64(0, buf, cut[0]);
		for (unsigned int i = 0; i < n; i++) {
			size_t plen = cut[i + 1] - cut[i];

			crc = xf_csum_crc64_combine(crc, xf_csum_crc64(0, buf + cut[i], plen),
			                            plen);
		}
		CU_ASSERT_EQUAL_FATAL(crc, ref_crc64(0, buf, len));
	}
}

/*
 * The check value "123456789" rebuilt from its two parts at every split; empty parts are
 * neutral on either side; a wrong length gives another value.
 */
static void
test_combine_check_value(void)
{
	const uint8_t *s = (const uint8_t *)"123456789";

	for (size_t k = 0; k <= 9; k++) {
		uint64_t a = xf_csum_crc64(0, s, k);
		uint64_t b = xf_csum_crc64(0, s + k, 9 - k);

		CU_ASSERT_EQUAL(xf_csum_crc64_combine(a, b, 9 - k), 0x995DC9BBDF1939FAull);
		if (k > 0 && k < 9) {
			CU_ASSERT_NOT_EQUAL(xf_csum_crc64_combine(a, b, 10 - k),
			                    0x995DC9BBDF1939FAull);
		}
	}
	CU_ASSERT_EQUAL(xf_csum_crc64_combine(0, 0x995DC9BBDF1939FAull, 9), 0x995DC9BBDF1939FAull);
	CU_ASSERT_EQUAL(xf_csum_crc64_combine(0x995DC9BBDF1939FAull, 0, 0), 0x995DC9BBDF1939FAull);
	/* A combine of one byte equals feeding that byte; shift(0) is x^0, the identity. */
	CU_ASSERT_EQUAL(
	        xf_csum_crc64_combine(xf_csum_crc64(0, s, 8), xf_csum_crc64(0, s + 8, 1), 1),
	        0x995DC9BBDF1939FAull);
	CU_ASSERT_EQUAL(xf_csum_crc64_shift(0), 1ull << 63);
}

/*
 * Many pieces of one length through one operator (how a file is folded from its blocks'
 * CRCs): shift() once, mulmod() per piece, against the recompute; shift(a + b) is
 * shift(a) * shift(b); shift(n) agrees with the zeros function on a zero CRC register.
 */
static void
test_combine_operator(void)
{
	for (int round = 0; round < 50; round++) {
		size_t bs = 1 + (size_t)(rnd() % 9000);
		size_t count = 1 + (size_t)(rnd() % (BIG / bs));
		uint64_t op = xf_csum_crc64_shift(bs);
		uint64_t crc = 0;
		uint64_t a = rnd() % (1ull << 40), b = rnd() % (1ull << 40);

		for (size_t i = 0; i < count; i++) {
			crc = xf_csum_crc64_mulmod(op, crc) ^ xf_csum_crc64(0, pool + i * bs, bs);
		}
		CU_ASSERT_EQUAL_FATAL(crc, xf_csum_crc64(0, pool, count * bs));
		CU_ASSERT_EQUAL(
		        xf_csum_crc64_shift(a + b),
		        xf_csum_crc64_mulmod(xf_csum_crc64_shift(a), xf_csum_crc64_shift(b)));
		/* crc(A || zeros) = combine(crc(A), crc(zeros)), crc(zeros) from the zeros path. */
		CU_ASSERT_EQUAL(xf_csum_crc64_combine(crc, xf_csum_crc64_zeros(0, a), a),
		                xf_csum_crc64_zeros(crc, a));
	}
}

/*
 * The product every combine and fold goes through (a carry-less multiply where the CPU
 * has one) against the bitwise reference, on random factors and on the edges (zero,
 * x^0, all ones, single terms); the shift from the powers made at start against square
 * and multiply by the reference product.
 */
static uint64_t
shift_ref(uint64_t len)
{
	uint64_t sq = 1ull << 55, p = 1ull << 63; /* x^8, x^0 */

	for (; len != 0; len >>= 1) {
		if ((len & 1u) != 0) {
			p = xf_csum_crc64_mulmod_ref(sq, p);
		}
		sq = xf_csum_crc64_mulmod_ref(sq, sq);
	}
	return p;
}

static void
test_mulmod_fast(void)
{
	static const uint64_t edges[] = {
		0, 1, 1ull << 63, ~0ull, 0x8000000000000001ull, 0xc96c5795d7870f42ull
	};

	for (int i = 0; i < 50000; i++) {
		uint64_t a = rnd(), b = rnd();

		CU_ASSERT_EQUAL_FATAL(xf_csum_crc64_mulmod(a, b), xf_csum_crc64_mulmod_ref(a, b));
	}
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		for (size_t j = 0; j < sizeof(edges) / sizeof(edges[0]); j++) {
			CU_ASSERT_EQUAL(xf_csum_crc64_mulmod(edges[i], edges[j]),
			                xf_csum_crc64_mulmod_ref(edges[i], edges[j]));
		}
		for (unsigned int k = 0; k < 64; k++) {
			CU_ASSERT_EQUAL(xf_csum_crc64_mulmod(1ull << k, edges[i]),
			                xf_csum_crc64_mulmod_ref(1ull << k, edges[i]));
		}
	}
	CU_ASSERT_EQUAL(xf_csum_crc64_mulmod(1ull << 63, 0x1234), 0x1234); /* x^0 */
	for (uint64_t len = 0; len < 200000; len += 1 + len / 3) {
		CU_ASSERT_EQUAL_FATAL(xf_csum_crc64_shift(len), shift_ref(len));
	}
	CU_ASSERT_EQUAL(xf_csum_crc64_shift(~0ull), shift_ref(~0ull));
}

/*
 * ISA-L's AVX-512 CRCs return with the upper vector state dirty, which made the next
 * SSE instruction cost about 165 ns (drivers/csum/xf_csum.c): after each of ours it is
 * clean again. A CPU without XINUSE has nothing to check (noted, not failed).
 */
static void
test_vector_state_clean(void)
{
	static const size_t lens[] = { 64, 1024, 8932, BIG };
	uint64_t v;

	if (!xf_test_xinuse(&v)) {
		printf("\n  (XINUSE not reported by this CPU: nothing to check) ");
		return;
	}
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t crc64 = xf_csum_crc64(0, pool, lens[i]);
		uint32_t crc32;

		CU_ASSERT_TRUE(xf_test_xinuse(&v));
		CU_ASSERT_EQUAL(v & XF_TEST_XINUSE_UPPER, 0);
		CU_ASSERT_NOT_EQUAL(crc64, 0);
		crc32 = xf_csum_crc32c(0, pool, lens[i]);
		CU_ASSERT_TRUE(xf_test_xinuse(&v));
		CU_ASSERT_EQUAL(v & XF_TEST_XINUSE_UPPER, 0);
		CU_ASSERT_NOT_EQUAL(crc32, 0);
	}
}

static const struct xf_test tests[] = {
	{ "CRC64 product: fast against the bitwise reference", test_mulmod_fast },
	{ "CRC64 combine: random splits against a recompute", test_combine_random_splits },
	{ "CRC64 combine: check value at every split", test_combine_check_value },
	{ "CRC64 combine: one operator for many pieces", test_combine_operator },
	{ "CRC64 of zeros without the zeros", test_zeros },
	{ "check values", test_check_values },
	{ "tail lengths 0..64 at every alignment", test_tails },
	{ "random lengths and alignments", test_random_lengths },
	{ "chaining at random splits", test_chaining },
	{ "longer than INT_MAX", test_longer_than_int },
	{ "vector registers' upper halves clean after each CRC", test_vector_state_clean },
};

int
main(void)
{
	return xf_test_main("csum", suite_init, suite_clean, XF_TESTS(tests));
}
