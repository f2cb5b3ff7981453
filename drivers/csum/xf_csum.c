/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checksums on ISA-L.
 *
 * ISA-L's two functions use different conventions (checked against its base C
 * implementations and the check values):
 *  - crc32_iscsi(buf, len, init) neither inverts the seed nor the result, so the
 *    standard CRC-32C is ~crc32_iscsi(buf, len, ~0). Chaining therefore inverts on the
 *    way in and out: the standard value of the previous piece becomes the raw register.
 *  - crc64_ecma_refl(seed, buf, len) inverts both itself, so the standard CRC-64/XZ
 *    value of the previous piece is already the seed to pass.
 * crc32_iscsi takes an int length, so longer buffers go in pieces.
 *
 * Both return with the upper halves of the vector registers dirty: on a CPU with
 * AVX-512, ISA-L 2.30 dispatches them to its by16_10 code, which works in zmm registers
 * and ends without vzeroupper. The next legacy-SSE instruction (the SSE2 of this x86-64
 * build: a struct zeroed, a memset) then pays for the AVX-to-SSE transition: about
 * 165 ns on the development machine, against 24 ns for the CRC-32C of 1 KiB itself.
 * The receiver signs what it writes with a CRC-32C per block (1-8 KiB) and zeroes the
 * block's sums right after, so that cost came once per block: 228 ns per 1 KiB block
 * against 65 ns with a vzeroupper after each call (perf/RESULTS.md, 2026-12-07). Each
 * call is therefore followed by one (xf_vector_upper_clean, xf_base.h).
 */
#include <limits.h>

#include <isa-l/crc.h>
#include <isa-l/crc64.h>

#include "xf_base.h"
#include "xf_csum.h"

/* Largest piece handed to crc32_iscsi: fits its int length with room to spare. */
#define CRC32C_PIECE ((size_t)1 << 30)

uint32_t
xf_csum_crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* ISA-L's prototype lacks const; it only reads the buffer. */
	unsigned char *p = (unsigned char *)(uintptr_t)buf;
	uint32_t reg = ~crc;

	while (len > CRC32C_PIECE) {
		reg = crc32_iscsi(p, (int)CRC32C_PIECE, reg);
		p += CRC32C_PIECE;
		len -= CRC32C_PIECE;
	}
	reg = crc32_iscsi(p, (int)len, reg);
	xf_vector_upper_clean();
	return ~reg;
}

uint64_t
xf_csum_crc64(uint64_t crc, const void *buf, size_t len)
{
	uint64_t r = crc64_ecma_refl(crc, buf, len);

	xf_vector_upper_clean();
	return r;
}

/*
 * Zeros through CRC-64/XZ without reading them: over zero bytes the (inverted) register
 * evolves linearly, reg' = M^n reg over GF(2), so the operator for n bytes is built by
 * squaring the one-bit operator (as zlib's crc32_combine does) and applied bit by bit
 * of n. About 64 x 64 x log2(n) word operations: a 2^63-byte hole costs microseconds.
 */
#define CRC64_XZ_POLY 0xc96c5795d7870f42ull /* ECMA-182, reflected */

static uint64_t
gf2_times(const uint64_t *mat, uint64_t vec)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; vec != 0; i++, vec >>= 1) {
		if ((vec & 1u) != 0) {
			sum ^= mat[i];
		}
	}
	return sum;
}

static void
gf2_square(uint64_t *sq, const uint64_t *mat)
{
	for (unsigned int i = 0; i < 64; i++) {
		sq[i] = gf2_times(mat, mat[i]);
	}
}

uint64_t
xf_csum_crc64_zeros(uint64_t crc, uint64_t len)
{
	uint64_t even[64], odd[64];
	uint64_t reg = ~crc;

	if (len == 0) {
		return crc;
	}
	/* The operator for one zero bit, then two, four: odd holds one byte's afterwards. */
	odd[0] = CRC64_XZ_POLY;
	for (unsigned int i = 1; i < 64; i++) {
		odd[i] = 1ull << (i - 1);
	}
	gf2_square(even, odd);
	gf2_square(odd, even);
	gf2_square(even, odd); /* even: 8 bits */
	for (;;) {
		if ((len & 1u) != 0) {
			reg = gf2_times(even, reg);
		}
		len >>= 1;
		if (len == 0) {
			break;
		}
		gf2_square(odd, even);
		if ((len & 1u) != 0) {
			reg = gf2_times(odd, reg);
		}
		len >>= 1;
		if (len == 0) {
			break;
		}
		gf2_square(even, odd);
	}
	return ~reg;
}

/*
 * Combine by polynomial arithmetic modulo P (zlib's crc32_combine since 1.2.12, for
 * 64 bits). In the reflected representation bit 63 is x^0 and bit 0 is x^63. For the
 * standard values (register inverted on the way in and out) the inversions cancel:
 * crc(A || B) = (x^(8 len(B)) * crc(A) mod P) ^ crc(B). Proof: the register after B
 * started from r is M^n r ^ R(B), with M^n the multiplication by x^(8n) mod P; write
 * crc(B) = ~(M^n ~0 ^ R(B)) and crc(A || B) = ~(M^n ~crc(A) ^ R(B)) and xor them.
 */
uint64_t
xf_csum_crc64_mulmod(uint64_t a, uint64_t b)
{
	uint64_t m = 1ull << 63;
	uint64_t prod = 0;

	/* a's bits from x^0 up; b steps through b * x^i mod P alongside. */
	while (a != 0) {
		if ((a & m) != 0) {
			prod ^= b;
			a ^= m;
		}
		m >>= 1;
		b = (b & 1u) != 0 ? (b >> 1) ^ CRC64_XZ_POLY : b >> 1;
	}
	return prod;
}

uint64_t
xf_csum_crc64_shift(uint64_t len)
{
	uint64_t sq = 1ull << 55; /* x^8: one byte */
	uint64_t p = 1ull << 63;  /* x^0 */

	/* Square and multiply over the bits of len: at most 64 of each. */
	while (len != 0) {
		if ((len & 1u) != 0) {
			p = xf_csum_crc64_mulmod(sq, p);
		}
		len >>= 1;
		if (len != 0) {
			sq = xf_csum_crc64_mulmod(sq, sq);
		}
	}
	return p;
}

uint64_t
xf_csum_crc64_combine(uint64_t crc1, uint64_t crc2, uint64_t len2)
{
	return xf_csum_crc64_mulmod(xf_csum_crc64_shift(len2), crc1) ^ crc2;
}
