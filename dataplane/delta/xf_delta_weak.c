/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block kernels of the weak checksum (xf_delta_weak.h). The byte loop a += y; b += a
 * is a chain of dependent adds, about one byte per two cycles; over a block it is a
 * plain sum and a weighted sum, which vector units do 16 or 32 bytes at a time:
 * psadbw adds bytes, pmaddwd / pmaddubsw multiply them by their weights. Per vector
 * of w bytes, in the streaming form that lets blocks follow each other,
 *   B += w * A + sum (w - j) v[j],  A += sum v[j],
 * and the w * A terms are gathered in P (the A before each vector) and multiplied
 * once at the end. All lanes are 32-bit and wrap: every step is ring arithmetic
 * mod 2^32, so the result is that of the byte loop exactly, for any n.
 * Debian builds for generic x86-64: SSE2 is the baseline, AVX2 is chosen at load
 * time with __builtin_cpu_supports (which also checks that the OS saves the ymm state).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "xf_delta.h"
#include "xf_delta_weak.h"

void
xf_delta_raw_scalar(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B)
{
	uint32_t a = 0, b = 0;
	size_t i = 0;

	/* Four bytes per step shortens the dependency chain four times. */
	for (; i + 4 <= n; i += 4) {
		uint32_t p0 = p[i], p1 = p[i + 1], p2 = p[i + 2], p3 = p[i + 3];

		b += 4 * a + 4 * p0 + 3 * p1 + 2 * p2 + p3;
		a += p0 + p1 + p2 + p3;
	}
	for (; i < n; i++) {
		a += p[i];
		b += a;
	}
	*A = a;
	*B = b;
}

#if defined(__x86_64__)

static inline uint32_t
hsum_epi32(__m128i v)
{
	v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
	v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
	return (uint32_t)_mm_cvtsi128_si32(v);
}

/* The bytes after the last whole vector, continuing the streaming sums. */
static inline void
raw_tail(const uint8_t *p, size_t i, size_t n, uint32_t a, uint32_t b, uint32_t *A, uint32_t *B)
{
	for (; i < n; i++) {
		a += p[i];
		b += a;
	}
	*A = a;
	*B = b;
}

void
xf_delta_raw_sse2(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B)
{
	const __m128i zero = _mm_setzero_si128();
	const __m128i w_lo = _mm_setr_epi16(16, 15, 14, 13, 12, 11, 10, 9);
	const __m128i w_hi = _mm_setr_epi16(8, 7, 6, 5, 4, 3, 2, 1);
	__m128i va = zero, vp = zero, vb = zero;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

		vp = _mm_add_epi32(vp, va);
		va = _mm_add_epi32(va, _mm_sad_epu8(v, zero));
		vb = _mm_add_epi32(vb, _mm_madd_epi16(_mm_unpacklo_epi8(v, zero), w_lo));
		vb = _mm_add_epi32(vb, _mm_madd_epi16(_mm_unpackhi_epi8(v, zero), w_hi));
	}
	raw_tail(p, i, n, hsum_epi32(va), (hsum_epi32(vp) << 4) + hsum_epi32(vb), A, B);
}

__attribute__((target("avx2"))) void
xf_delta_raw_avx2(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B)
{
	const __m256i zero = _mm256_setzero_si256();
	const __m256i ones = _mm256_set1_epi16(1);
	const __m256i w =
	        _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
	                         15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
	__m256i va = zero, vp = zero, vb = zero;
	__m128i a128, p128, b128;
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));

		vp = _mm256_add_epi32(vp, va);
		va = _mm256_add_epi32(va, _mm256_sad_epu8(v, zero));
		/* Byte pairs times weights <= 32: at most 16065, no int16 saturation. */
		vb = _mm256_add_epi32(vb, _mm256_madd_epi16(_mm256_maddubs_epi16(v, w), ones));
	}
	a128 = _mm_add_epi32(_mm256_castsi256_si128(va), _mm256_extracti128_si256(va, 1));
	p128 = _mm_add_epi32(_mm256_castsi256_si128(vp), _mm256_extracti128_si256(vp, 1));
	b128 = _mm_add_epi32(_mm256_castsi256_si128(vb), _mm256_extracti128_si256(vb, 1));
	raw_tail(p, i, n, hsum_epi32(a128), (hsum_epi32(p128) << 5) + hsum_epi32(b128), A, B);
}

static xf_delta_raw_fn raw_kernel = xf_delta_raw_sse2;
static bool avx2_usable;

/* Chosen once, before main(), so the pointer is never written while workers run. */
__attribute__((constructor)) static void
pick_kernel(void)
{
	__builtin_cpu_init();
	avx2_usable = __builtin_cpu_supports("avx2");
	if (avx2_usable) {
		raw_kernel = xf_delta_raw_avx2;
	}
}

#else /* !__x86_64__ */

static const xf_delta_raw_fn raw_kernel = xf_delta_raw_scalar;
static const bool avx2_usable = false;

#endif

bool
xf_delta_avx2_usable(void)
{
	return avx2_usable;
}

xf_delta_raw_fn
xf_delta_raw_kernel(void)
{
	return raw_kernel;
}

uint32_t
xf_delta_weak_sum(const void *buf, size_t len)
{
	uint32_t a = 0, b = 0, A, B;

	raw_kernel(buf, len, &A, &B);
	xf_delta_weak_fold(&a, &b, A, B, len);
	return (a & 0xffffu) | (b << 16);
}

void
xf_delta_weak_init(struct xf_delta_weak *w, const uint8_t *buf, uint32_t len)
{
	uint32_t A, B;

	w->a = 0;
	w->b = 0;
	raw_kernel(buf, len, &A, &B);
	xf_delta_weak_fold(&w->a, &w->b, A, B, len);
	w->len = len;
}
