/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running CRC and a signed file's block CRC-64s from one pass over its bytes
 * (crc_feed(), xf_worker_delta.c): its product agrees with xf_csum's reference one, and
 * bytes fed in pieces of every shape give the whole file's CRC-64 and each block's own
 * CRC-64 (the short last one too), as two passes would.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"
#include "xf_worker_priv.h"

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_mulmod(void)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 20000; i++) {
		uint64_t a = rnd(&s), b = rnd(&s);

		CU_ASSERT_EQUAL_FATAL(crc_mulmod(a, b), xf_csum_crc64_mulmod_ref(a, b));
	}
	CU_ASSERT_EQUAL(crc_mulmod(0, 0x1234), 0);
	CU_ASSERT_EQUAL(crc_mulmod(1ull << 63, 0x1234), 0x1234); /* x^0 */
}

/* Feed size bytes in pieces of at most piece (random lengths when rand_pieces). */
static void
feed_one(uint64_t size, uint32_t bs, size_t piece, bool rand_pieces, uint64_t *seed)
{
	uint8_t *d = malloc(size);
	uint32_t count = (uint32_t)((size + bs - 1) / bs);
	struct xf_sig_rec *sigs = calloc(count, sizeof(*sigs));
	uint64_t *bcrc = calloc(count, sizeof(*bcrc));
	struct wfile f;
	uint64_t off = 0;

	CU_ASSERT_FATAL(d != NULL && sigs != NULL && bcrc != NULL);
	for (uint64_t i = 0; i < size; i++) {
		d[i] = (uint8_t)rnd(seed);
	}
	memset(&f, 0, sizeof(f));
	f.size = size;
	f.ns_state = NS_ON;
	f.ns_bs = bs;
	f.ns_count = count;
	f.ns_sigs = sigs;
	f.ns_bcrc = bcrc;
	f.ns_op = crc_shift(bs);
	CU_ASSERT_FATAL(xf_delta_sig_begin(&f.ns_sg, bs) == 0);
	while (off < size) {
		size_t n = rand_pieces ? 1 + (size_t)(rnd(seed) % piece) : piece;

		n = n < size - off ? n : (size_t)(size - off);
		crc_feed(NULL, &f, d + off, n);
		f.crc_off += n;
		off += n;
	}
	CU_ASSERT_EQUAL(f.ns_state, NS_ON);
	CU_ASSERT_EQUAL(f.ns_off, size);
	CU_ASSERT_EQUAL(f.crc, xf_csum_crc64(0, d, size));
	CU_ASSERT_EQUAL(f.ns_bn, count);
	CU_ASSERT_EQUAL(f.ns_fill, 0);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t len = size - (uint64_t)i * bs < bs ? size - (uint64_t)i * bs : bs;

		CU_ASSERT_EQUAL_FATAL(bcrc[i], xf_csum_crc64(0, d + (uint64_t)i * bs, len));
	}
	free(d);
	free(sigs);
	free(bcrc);
}

static void
test_feed(void)
{
	static const uint64_t sizes[] = { 65536, 65537, 300001, 1u << 20, 777777 };
	static const uint32_t bss[] = { 704, 1024, 4096 };
	uint64_t seed = 42;

	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		for (size_t j = 0; j < XF_ARRAY_SIZE(bss); j++) {
			feed_one(sizes[i], bss[j], 1472, false, &seed); /* MTU-size DATA */
			feed_one(sizes[i], bss[j], 8932, false, &seed); /* jumbo DATA */
			feed_one(sizes[i], bss[j], 3 * bss[j] + 5, true, &seed);
			feed_one(sizes[i], bss[j], 1u << 20, false, &seed); /* read-back */
		}
	}
}

static const struct xf_test tests[] = {
	{ "the product agrees with the reference", test_mulmod },
	{ "one pass: whole-file CRC and every block's CRC", test_feed },
};

int
main(void)
{
	return xf_test_main("crcfeed", NULL, NULL, XF_TESTS(tests));
}
