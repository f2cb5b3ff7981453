/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_delta checksums and signatures: the weak sum against its definition, every
 * kernel against the byte loop, the rolling checksum against fresh computation at
 * every offset, signatures against per-block computation and in random chunks.
 */
#include "xf_delta_test.h"

/* The definition, in 64-bit arithmetic: a = sum y, b = sum (n - i) y, mod 2^16. */
static uint32_t
ref_weak(const uint8_t *p, size_t n)
{
	uint64_t a = 0, b = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t y = p[i] + XF_DELTA_CHAR_OFFSET;

		a += y;
		b += (n - i) * y;
	}
	return (uint32_t)((a & 0xffffu) | ((b & 0xffffu) << 16));
}

void
test_weak_fresh(void)
{
	static const size_t lens[] = { 0, 1, 2, 3, 700, 1000, 4096, 65537 };
	uint8_t *p = random_buf(65537);

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		CU_ASSERT_EQUAL(xf_delta_weak_sum(p, lens[i]), ref_weak(p, lens[i]));
	}
	memset(p, 0, 65537);
	CU_ASSERT_EQUAL(xf_delta_weak_sum(p, 65537), ref_weak(p, 65537));
	memset(p, 0xff, 65537);
	CU_ASSERT_EQUAL(xf_delta_weak_sum(p, 65537), ref_weak(p, 65537));
	free(p);
}

/* The byte loop the kernels replace, on raw bytes: A = sum p, B = sum of prefix sums. */
static void
ref_raw(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B)
{
	uint32_t a = 0, b = 0;

	for (size_t i = 0; i < n; i++) {
		a += p[i];
		b += a;
	}
	*A = a;
	*B = b;
}

/* The running sums of the byte-serial weak checksum, with the char offset. */
static void
ref_running(const uint8_t *p, size_t n, uint32_t *a, uint32_t *b)
{
	for (size_t i = 0; i < n; i++) {
		*a += p[i] + XF_DELTA_CHAR_OFFSET;
		*b += *a;
	}
}

struct kernel {
	const char *name;
	xf_delta_raw_fn fn;
};

/* Every kernel this build has and this CPU runs; the scalar one always. */
static size_t
kernels(struct kernel *k)
{
	size_t n = 0;

	k[n++] = (struct kernel){ "scalar", xf_delta_raw_scalar };
#if defined(__x86_64__)
	k[n++] = (struct kernel){ "sse2", xf_delta_raw_sse2 };
	if (xf_delta_avx2_usable()) {
		k[n++] = (struct kernel){ "avx2", xf_delta_raw_avx2 };
	} else {
		fprintf(stderr, "note: no AVX2 on this CPU, its kernel is not tested\n");
	}
#endif
	return n;
}

/* One kernel on p[0..n) against the byte loop, raw and folded with the char offset. */
static unsigned int
check_kernel(const struct kernel *k, const uint8_t *p, size_t n)
{
	uint32_t A, B, rA, rB, a = 0x12345678u, b = 0x9abcdef0u, ra = a, rb = b;
	unsigned int bad = 0;

	k->fn(p, n, &A, &B);
	ref_raw(p, n, &rA, &rB);
	bad += A != rA || B != rB;
	/* Folding continues arbitrary running sums exactly, full 32 bits. */
	xf_delta_weak_fold(&a, &b, A, B, n);
	ref_running(p, n, &ra, &rb);
	bad += a != ra || b != rb;
	if (bad != 0) {
		fprintf(stderr, "kernel %s wrong at length %zu, address %p\n", k->name, n,
		        (const void *)p);
	}
	return bad;
}

void
test_weak_kernels(void)
{
	const size_t max = 128 * 1024;
	struct kernel k[3];
	size_t nk = kernels(k);
	uint8_t *p;

	seed(11);
	p = random_buf(max + 64);
	for (size_t i = 0; i < nk; i++) {
		unsigned int bad = 0;

		/* Every length up to three AVX2 vectors and one, at every misalignment. */
		for (size_t n = 0; n <= 3 * 64 + 1; n++) {
			bad += check_kernel(&k[i], p + n % 64, n);
		}
		for (int r = 0; r < 200; r++) {
			size_t n = (size_t)rnd_below(max + 1), off = (size_t)rnd_below(64);

			bad += check_kernel(&k[i], p + off, n);
		}
		/* Extremes: all 0xff maximises every lane, all zero leaves only the offset. */
		memset(p, 0xff, max + 64);
		bad += check_kernel(&k[i], p + 1, max);
		memset(p, 0, max + 64);
		bad += check_kernel(&k[i], p + 3, max + 61);
		fill_random(p, max + 64);
		CU_ASSERT_EQUAL(bad, 0);
	}
	free(p);
}

/* The public entry points use the dispatched kernel; compare them with the loop too. */
void
test_weak_dispatch(void)
{
	xf_delta_raw_fn want = xf_delta_raw_scalar;
	uint8_t *p;

#if defined(__x86_64__)
	want = xf_delta_avx2_usable() ? xf_delta_raw_avx2 : xf_delta_raw_sse2;
#else
	CU_ASSERT(!xf_delta_avx2_usable());
#endif
	CU_ASSERT(xf_delta_raw_kernel() == want);
	seed(12);
	p = random_buf(70000);
	for (size_t n = 0; n < 300; n++) {
		struct xf_delta_weak w;
		uint32_t a = 0, b = 0;

		ref_running(p + n % 32, n, &a, &b);
		xf_delta_weak_init(&w, p + n % 32, (uint32_t)n);
		CU_ASSERT(w.a == a && w.b == b && w.len == n);
		CU_ASSERT_EQUAL(xf_delta_weak_sum(p + n % 32, n), ref_weak(p + n % 32, n));
	}
	for (int r = 0; r < 50; r++) {
		size_t n = (size_t)rnd_below(70000 - 63), off = (size_t)rnd_below(64);

		CU_ASSERT_EQUAL(xf_delta_weak_sum(p + off, n), ref_weak(p + off, n));
	}
	free(p);
}

static void
check_roll(const uint8_t *p, size_t len, uint32_t bs)
{
	struct xf_delta_weak w;
	size_t bad = 0;

	xf_delta_weak_init(&w, p, bs);
	for (size_t off = 0;; off++) {
		if (xf_delta_weak_digest(&w) != xf_delta_weak_sum(p + off, bs)) {
			bad++;
		}
		if (off + bs >= len) {
			break;
		}
		xf_delta_weak_roll(&w, p[off], p[off + bs]);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

void
test_weak_roll(void)
{
	static const uint32_t sizes[] = { 1, 2, 7, 8, 700, 1000, 1021, 4096 };
	const size_t len = 20000;
	uint8_t *p;

	seed(1);
	p = random_buf(len);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_roll(p, len, sizes[i]);
	}
	/* Long runs of one value, where the char offset matters. */
	memset(p + 5000, 0, 5000);
	memset(p + 12000, 0xff, 5000);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_roll(p, len, sizes[i]);
	}
	/* The largest window: b's weights go up to 2^17, wrapping the 16-bit sums. */
	free(p);
	p = random_buf(XF_BLOCK_MAX + 1000);
	check_roll(p, XF_BLOCK_MAX + 1000, XF_BLOCK_MAX);
	free(p);
}

void
test_block_size(void)
{
	static const uint64_t sizes[] = { 0,         1,          489999,     490000,
		                          490063,    490064,     1000000,    4 * MIB,
		                          100000001, 1ull << 34, 1ull << 40, UINT64_MAX };
	uint32_t prev = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t s = sizes[i];
		uint32_t bs = xf_delta_block_size(s);

		CU_ASSERT(bs >= XF_DELTA_BLOCK_MIN && bs <= XF_BLOCK_MAX);
		CU_ASSERT(bs % 4 == 0);
		CU_ASSERT(bs >= prev); /* monotonic in the size */
		prev = bs;
		if (bs > XF_DELTA_BLOCK_MIN && bs < XF_BLOCK_MAX) {
			/* The largest multiple of 8 whose square does not exceed the size. */
			CU_ASSERT(bs % 8 == 0);
			CU_ASSERT((uint64_t)bs * bs <= s);
			CU_ASSERT((uint64_t)(bs + 8) * (bs + 8) > s);
		}
		CU_ASSERT_EQUAL(xf_delta_block_count(s, bs), s / bs + (s % bs != 0));
	}
	CU_ASSERT_EQUAL(xf_delta_block_size(4 * MIB), 2048);
	CU_ASSERT_EQUAL(xf_delta_block_size(1ull << 40), XF_BLOCK_MAX);
	CU_ASSERT_EQUAL(xf_delta_block_count(0, 700), 0);
	CU_ASSERT_EQUAL(xf_delta_block_count(700, 700), 1);
	CU_ASSERT_EQUAL(xf_delta_block_count(701, 700), 2);
}

/*
 * The aligned rule (volumes that clone): the nearest multiple of the file system block
 * (at least XF_DELTA_BLOCK_MIN) where sqrt is a block or more, the plain rule below that
 * or for an implausible block;
 * never outside [XF_DELTA_BLOCK_MIN, XF_BLOCK_MAX], monotonic in the size.
 */
void
test_block_size_aligned(void)
{
	static const uint32_t aligns[] = { 512, 4096, 65536 };
	uint32_t prev;

	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(4 * MIB, 4096), 2048);  /* below 4096 */
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(17 * MIB, 4096), 4096); /* sqrt 4224 */
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(36 * MIB, 4096), 8192); /* sqrt 6144 */
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(25 * MIB, 4096), 4096); /* sqrt 5120 */
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(1ull << 40, 4096), XF_BLOCK_MAX);
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(4 * MIB, 3000), 2048);     /* not 2^k */
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(4 * MIB, 1u << 20), 2048); /* too big */
	CU_ASSERT_EQUAL(xf_delta_block_size_aligned(4 * MIB, 0), 2048);
	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
		prev = 0;
		for (uint64_t s = 0; s < (1ull << 42); s = s * 5 / 4 + 1000) {
			uint32_t bs = xf_delta_block_size_aligned(s, aligns[a]);
			uint32_t plain = xf_delta_block_size(s);

			CU_ASSERT_FATAL(bs >= XF_DELTA_BLOCK_MIN && bs <= XF_BLOCK_MAX);
			CU_ASSERT_FATAL(bs >= prev);
			prev = bs;
			if (plain >= aligns[a]) {
				CU_ASSERT_FATAL(bs % aligns[a] == 0);
				/* The nearest, or the first multiple from XF_DELTA_BLOCK_MIN on. */
				CU_ASSERT_FATAL((bs + aligns[a] / 2 >= plain &&
				                 bs <= plain + aligns[a] / 2) ||
				                bs - aligns[a] < XF_DELTA_BLOCK_MIN);
			} else {
				CU_ASSERT_FATAL(bs == plain);
			}
		}
	}
}

struct xf_sig_rec *
xf_dt_make_sigs(const uint8_t *p, size_t len, uint32_t bs, size_t max_chunk, uint32_t *count)
{
	size_t n = (size_t)xf_delta_block_count(len, bs);
	struct xf_sig_rec *sigs = calloc(n + 1, sizeof(*sigs));
	struct xf_delta_sig g;
	size_t got = 0, off = 0;
	int rc;

	CU_ASSERT_FATAL(sigs != NULL);
	CU_ASSERT_FATAL(xf_delta_sig_begin(&g, bs) == 0);
	while (off < len) {
		size_t want = 1 + rnd_below(max_chunk), c = TEST_MIN(len - off, want);

		rc = xf_delta_sig_update(&g, p + off, c, sigs + got, n + 1 - got);
		CU_ASSERT_FATAL(rc >= 0);
		got += (size_t)rc;
		off += c;
	}
	got += (size_t)xf_delta_sig_finish(&g, sigs + got);
	CU_ASSERT_EQUAL(got, n);
	*count = (uint32_t)got;
	return sigs;
}

void
test_signatures(void)
{
	static const uint32_t sizes[] = { 1, 7, 700, 1000, 4096 };
	const size_t lens[] = { 0, 1, 699, 700, 7000, 7001, 70000, 70123 };

	seed(2);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			uint32_t bs = sizes[i], count;
			size_t len = lens[j];
			uint8_t *p;
			struct xf_sig_rec *sigs;

			if (bs == 1 && len > 7001) {
				continue; /* one record per byte: the short lengths say it all */
			}
			p = random_buf(len);
			sigs = xf_dt_make_sigs(p, len, bs, 3 * bs, &count);
			for (uint32_t k = 0; k < count; k++) {
				size_t off = (size_t)k * bs, n = TEST_MIN((size_t)bs, len - off);

				CU_ASSERT_EQUAL(sigs[k].weak, ref_weak(p + off, n));
				CU_ASSERT_EQUAL(sigs[k].strong, xf_csum_crc32c(0, p + off, n));
			}
			free(sigs);
			free(p);
		}
	}
}

/* Chunks of 1 byte to 3 blocks, blocks spanning calls: the records of one big call. */
void
test_signature_chunks(void)
{
	static const uint32_t sizes[] = { 1, 31, 32, 33, 700, 8192, 131072 };
	const size_t len = 600000;
	uint8_t *p;

	seed(13);
	p = random_buf(len + 64);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t bs = sizes[i];
		size_t n = (size_t)xf_delta_block_count(len, bs);
		struct xf_sig_rec *one = calloc(n + 1, sizeof(*one)),
		                  *many = calloc(n + 1, sizeof(*one));
		struct xf_delta_sig g1, g2;
		const uint8_t *q = p + 1 + i; /* unaligned */
		size_t got = 0, off = 0;
		int k1;

		CU_ASSERT_FATAL(one != NULL && many != NULL);
		CU_ASSERT_FATAL(xf_delta_sig_begin(&g1, bs) == 0);
		CU_ASSERT_FATAL(xf_delta_sig_begin(&g2, bs) == 0);
		k1 = xf_delta_sig_update(&g1, q, len, one, n + 1);
		CU_ASSERT_FATAL(k1 >= 0);
		while (off < len) {
			/* Mostly short pieces, sometimes long ones. */
			size_t want = 1 + (rnd_below(4) == 0 ? rnd_below(3 * (uint64_t)bs)
			                                     : rnd_below(TEST_MIN(bs, 100u)));
			size_t c = TEST_MIN(len - off, want);
			int k = xf_delta_sig_update(&g2, q + off, c, many + got, n + 1 - got);

			CU_ASSERT_FATAL(k >= 0);
			got += (size_t)k;
			off += c;
		}
		CU_ASSERT_EQUAL(got, (size_t)k1);
		/* The open block's running state too, not only the finished records. */
		CU_ASSERT(g1.a == g2.a && g1.b == g2.b && g1.crc == g2.crc && g1.part == g2.part);
		k1 += xf_delta_sig_finish(&g1, one + k1);
		got += (size_t)xf_delta_sig_finish(&g2, many + got);
		CU_ASSERT_EQUAL(got, n);
		CU_ASSERT_EQUAL((size_t)k1, n);
		CU_ASSERT(memcmp(one, many, n * sizeof(*one)) == 0);
		for (size_t b = 0; b < n; b++) {
			size_t boff = b * bs, blen = TEST_MIN((size_t)bs, len - boff);

			CU_ASSERT_EQUAL(one[b].weak, ref_weak(q + boff, blen));
		}
		free(one);
		free(many);
	}
	free(p);
}

void
test_signature_errors(void)
{
	struct xf_delta_sig g;
	struct xf_sig_rec rec[2];
	uint8_t buf[2100] = { 0 };

	CU_ASSERT_EQUAL(xf_delta_sig_begin(&g, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_delta_sig_begin(&g, XF_BLOCK_MAX + 1), -EINVAL);
	CU_ASSERT_EQUAL(xf_delta_sig_begin(&g, 700), 0);
	CU_ASSERT_EQUAL(xf_delta_sig_update(&g, buf, 2100, rec, 2), -ENOSPC);
	CU_ASSERT_EQUAL(xf_delta_sig_update(&g, buf, 1400, rec, 2), 2);
	CU_ASSERT_EQUAL(xf_delta_sig_finish(&g, rec), 0);
}
