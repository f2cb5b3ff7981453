/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_zip: text compresses and inflates back byte for byte at every frame size; random
 * bytes do not shrink; hostile streams (every truncation, a stream longer or shorter
 * than raw_len, bytes after the end, garbage, a zip bomb) are refused with their reason
 * and never write past raw_len. The upper vector state is clean after each call.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"
#include "xf_test_xinuse.h"

#include "xf_base.h"
#include "xf_zip.h"

#define FRAME 8932u /* XF_DATA_RAW_MAX */
#define GUARD 64u

static struct xf_zip *z;
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint8_t text[FRAME], noise[FRAME];

/* C-like lines from a small vocabulary: compresses the way source code does. */
static void
make_text(uint8_t *b, size_t n)
{
	static const char *words[] = { "static ",
		                       "int ",
		                       "struct xf_work ",
		                       "return ",
		                       "if (",
		                       "len",
		                       " == NULL) {\n",
		                       "\t",
		                       "uint32_t ",
		                       "offset",
		                       " + ",
		                       ";\n",
		                       "}\n",
		                       "/* the frame */\n",
		                       "#define " };
	size_t i = 0;

	while (i < n) {
		const char *w = words[xf_test_rand(&rng_state) % XF_ARRAY_SIZE(words)];

		for (size_t k = 0; w[k] != '\0' && i < n; k++) {
			b[i++] = (uint8_t)w[k];
		}
	}
}

static int
suite_init(void)
{
	z = xf_zip_create();
	make_text(text, sizeof(text));
	for (size_t i = 0; i < sizeof(noise); i++) {
		noise[i] = (uint8_t)xf_test_rand(&rng_state);
	}
	return z == NULL;
}

static int
suite_clean(void)
{
	xf_zip_free(z);
	return 0;
}

/* Compress len bytes of src (must succeed) into out; returns the compressed length. */
static int
squeeze(const uint8_t *src, uint32_t len, uint8_t *out)
{
	int n = xf_zip_deflate(z, src, len, out, len);

	CU_ASSERT_FATAL(n > 0);
	return n;
}

static void
test_round_trip(void)
{
	static const uint32_t sizes[] = { 1, 2, 15, 100, 1432, 4096, 8192, FRAME };
	uint8_t c[FRAME], back[FRAME + GUARD];

	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		uint32_t len = sizes[i];
		int n = xf_zip_deflate(z, text, len, c, FRAME);

		CU_ASSERT_FATAL(n > 0);
		memset(back, 0xa5, sizeof(back));
		CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, len), 0);
		CU_ASSERT_EQUAL(memcmp(back, text, len), 0);
		CU_ASSERT_EQUAL(back[len], 0xa5); /* nothing past raw_len */
		if (len >= 1432) {
			/* Text shrinks well past the 1/16 the sender asks for. */
			CU_ASSERT(n < (int)(len / 2));
		}
	}
}

static void
test_random_does_not_shrink(void)
{
	uint8_t c[FRAME];

	CU_ASSERT_EQUAL(xf_zip_deflate(z, noise, FRAME, c, FRAME - FRAME / 16), -ENOSPC);
	CU_ASSERT_EQUAL(xf_zip_deflate(z, noise, 1432, c, 1432 - 1432 / 16), -ENOSPC);
	/* Too small a cap for text, too. */
	CU_ASSERT_EQUAL(xf_zip_deflate(z, text, FRAME, c, 16), -ENOSPC);
	CU_ASSERT_EQUAL(xf_zip_deflate(z, text, 0, c, 16), -EINVAL);
	CU_ASSERT_EQUAL(xf_zip_deflate(z, text, 16, c, 0), -EINVAL);
}

static void
test_wrong_raw_len(void)
{
	uint8_t c[FRAME], back[FRAME + GUARD];
	int n = squeeze(text, 4096, c);

	memset(back, 0xa5, sizeof(back));
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, 4095), -XF_ZIP_LONG);
	CU_ASSERT_EQUAL(back[4095], 0xa5);
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, 4097), -XF_ZIP_SHORT);
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, 1), -XF_ZIP_LONG);
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, 0, back, 4096), -XF_ZIP_BAD);
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, 0), -XF_ZIP_BAD);
	/* And the right one still works after failures. */
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(back, text, 4096), 0);
}

static void
test_truncated(void)
{
	uint8_t c[FRAME], back[FRAME + GUARD];
	int n = squeeze(text, FRAME, c);

	for (int cut = 1; cut < n; cut++) {
		int rc = xf_zip_inflate(z, c, (uint32_t)cut, back, FRAME);

		CU_ASSERT(rc == -XF_ZIP_SHORT || rc == -XF_ZIP_BAD);
		if (rc == 0) {
			printf("truncated to %d of %d bytes: accepted\n", cut, n);
		}
	}
}

static void
test_trailing(void)
{
	uint8_t c[FRAME + 16], back[FRAME];
	int n = squeeze(text, 4096, c);

	for (uint32_t extra = 1; extra <= 16; extra++) {
		memset(c + n, 0, extra);
		CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n + extra, back, 4096), -XF_ZIP_BAD);
	}
}

static void
test_garbage(void)
{
	uint8_t back[FRAME + GUARD];
	uint8_t c[FRAME];
	int n = squeeze(text, FRAME, c);

	for (int round = 0; round < 2000; round++) {
		uint8_t in[256];
		uint32_t len = 1 + (uint32_t)(xf_test_rand(&rng_state) % sizeof(in));
		int rc;

		for (uint32_t i = 0; i < len; i++) {
			in[i] = (uint8_t)xf_test_rand(&rng_state);
		}
		memset(back + 4096, 0xa5, GUARD);
		rc = xf_zip_inflate(z, in, len, back, 4096);
		CU_ASSERT(rc == 0 || rc == -XF_ZIP_BAD || rc == -XF_ZIP_LONG ||
		          rc == -XF_ZIP_SHORT);
		CU_ASSERT_EQUAL(back[4096], 0xa5);
	}
	/* A valid stream with one bit flipped, at every byte: never past raw_len. */
	for (int i = 0; i < n; i++) {
		c[i] ^= 0x10;
		memset(back + FRAME, 0xa5, GUARD);
		(void)xf_zip_inflate(z, c, (uint32_t)n, back, FRAME);
		CU_ASSERT_EQUAL(back[FRAME], 0xa5);
		c[i] ^= 0x10;
	}
}

static void
test_zip_bomb(void)
{
	/* 4 MiB of zeros deflate to a few KiB: the stream stops at raw_len. */
	size_t big = 4u << 20;
	uint8_t *zeros = calloc(1, big);
	uint8_t *c = malloc(big);
	uint8_t back[FRAME + GUARD];
	int n;

	CU_ASSERT_FATAL(zeros != NULL && c != NULL);
	n = xf_zip_deflate(z, zeros, (uint32_t)big, c, (uint32_t)big);
	CU_ASSERT_FATAL(n > 0 && n < (int)FRAME);
	memset(back, 0xa5, sizeof(back));
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, FRAME), -XF_ZIP_LONG);
	CU_ASSERT_EQUAL(back[FRAME], 0xa5);
	free(zeros);
	free(c);
}

static void
test_fail_str(void)
{
	CU_ASSERT_STRING_EQUAL(xf_zip_fail_str(XF_ZIP_BAD), "bad");
	CU_ASSERT_STRING_EQUAL(xf_zip_fail_str(XF_ZIP_LONG), "long");
	CU_ASSERT_STRING_EQUAL(xf_zip_fail_str(XF_ZIP_SHORT), "short");
	CU_ASSERT_STRING_EQUAL(xf_zip_fail_str(0), "?");
}

/*
 * igzip's AVX-512 code returns with the upper vector state dirty, which costs the next
 * SSE instruction about 165 ns (xf_vector_upper_clean, xf_base.h): after each of our
 * calls, whatever its outcome, it is clean again.
 */
static void
test_vector_state_clean(void)
{
	uint8_t c[FRAME + GUARD], spill[FRAME], back[FRAME];
	uint64_t v;
	int n;

	if (!xf_test_xinuse(&v)) {
		printf("\n  (XINUSE not reported by this CPU: nothing to check) ");
		return;
	}
	n = xf_zip_deflate(z, text, FRAME, c, sizeof(c));
	CU_ASSERT_TRUE(xf_test_xinuse(&v));
	CU_ASSERT_EQUAL(v & XF_TEST_XINUSE_UPPER, 0);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, FRAME), 0);
	CU_ASSERT_TRUE(xf_test_xinuse(&v));
	CU_ASSERT_EQUAL(v & XF_TEST_XINUSE_UPPER, 0);
	CU_ASSERT_EQUAL(xf_zip_deflate(z, noise, FRAME, spill, FRAME / 2), -ENOSPC);
	CU_ASSERT_TRUE(xf_test_xinuse(&v));
	CU_ASSERT_EQUAL(v & XF_TEST_XINUSE_UPPER, 0);
	CU_ASSERT_EQUAL(xf_zip_inflate(z, c, (uint32_t)n, back, FRAME - 1), -XF_ZIP_LONG);
	CU_ASSERT_TRUE(xf_test_xinuse(&v));
	CU_ASSERT_EQUAL(v & XF_TEST_XINUSE_UPPER, 0);
}

static const struct xf_test tests[] = {
	{ "round trip at every frame size", test_round_trip },
	{ "random bytes do not shrink", test_random_does_not_shrink },
	{ "raw_len other than the stream's", test_wrong_raw_len },
	{ "every truncation refused", test_truncated },
	{ "bytes after the stream refused", test_trailing },
	{ "garbage and flipped bits stay in bounds", test_garbage },
	{ "zip bomb stops at raw_len", test_zip_bomb },
	{ "reason names", test_fail_str },
	{ "vector registers' upper halves clean after each call", test_vector_state_clean },
};

int
main(void)
{
	return xf_test_main("zip", suite_init, suite_clean, XF_TESTS(tests));
}
