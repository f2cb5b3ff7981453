/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to dataplane/delta (and its white-box tests): the block kernels of the weak
 * checksum. A kernel computes, over raw bytes p[0..n) without the char offset,
 *   A = sum p[i],  B = sum (n - i) p[i],  both mod 2^32,
 * and xf_delta_weak_extend() folds them and the offset into running sums (a, b) that
 * are bit for bit those of the byte-serial loop a += p[i] + OFF; b += a.
 */
#ifndef XF_DELTA_WEAK_H
#define XF_DELTA_WEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_delta.h"

/** A block kernel: raw sums of p[0..n) into *A and *B (see the file comment). */
typedef void (*xf_delta_raw_fn)(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B);

/** Portable kernel (four bytes per step). */
void xf_delta_raw_scalar(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B);

#if defined(__x86_64__)
/** SSE2 kernel (x86-64 baseline): psadbw for A, pmaddwd for B, 16 bytes per step. */
void xf_delta_raw_sse2(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B);
/** AVX2 kernel: psadbw for A, pmaddubsw + pmaddwd for B, 32 bytes per step. */
void xf_delta_raw_avx2(const uint8_t *p, size_t n, uint32_t *A, uint32_t *B);
#endif

/** Whether the CPU (and OS) run xf_delta_raw_avx2. */
bool xf_delta_avx2_usable(void);

/** Tests: make matcher m roll one byte at a time even where AVX2 would be used. */
void xf_delta_match_no_simd(struct xf_delta_match *m);

/** The kernel chosen for this CPU at load time. */
xf_delta_raw_fn xf_delta_raw_kernel(void);

/*
 * Running sums over bytes x[0..k) extended by p[0..n): the byte loop adds y = p + OFF
 * to a and the running a to b, so b gains n * a (old a, n times) plus
 * sum (n - i) y[i] = B + OFF * n (n + 1) / 2, and a gains A + n * OFF. Everything is
 * mod 2^32 like the loop's uint32 wraparound; n (n + 1) / 2 halves its even factor
 * first, so the product is exact mod 2^64 and hence mod 2^32, for any n.
 */
static inline void
xf_delta_weak_fold(uint32_t *a, uint32_t *b, uint32_t A, uint32_t B, size_t n)
{
	uint64_t n64 = (uint64_t)n;
	uint32_t tri = (uint32_t)(n64 % 2 == 0 ? (n64 / 2) * (n64 + 1) : n64 * ((n64 + 1) / 2));

	*b += (uint32_t)n64 * *a + B + XF_DELTA_CHAR_OFFSET * tri;
	*a += A + (uint32_t)n64 * XF_DELTA_CHAR_OFFSET;
}

#endif /* XF_DELTA_WEAK_H */
