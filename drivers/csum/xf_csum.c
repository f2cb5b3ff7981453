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
#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
xf_csum_crc64_mulmod_ref(uint64_t a, uint64_t b)
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

/*
 * The same product in a few instructions rather than 64 dependent steps: the carry-less
 * product of two reflected 64-bit values is the reflected 127-bit product one bit down,
 * so shifted up by one its high half is the product's terms x^0..x^63 and its low half
 * those from x^64 on (H). H x^64 mod P is linear in H: the sum of one table entry per
 * byte of H (crc_x64[j][b]: byte b at byte j of H, times x^64 mod P), eight loads that
 * do not wait on each other. About 9 ns on the development machine, against 117 ns for
 * the 64 steps and 22 ns for ISA-L's CRC-64 of 1 KiB. Its users: a signed file's block
 * CRCs (one product a block, xf_worker_delta.c) and a cloned COPY's CRC folded from the
 * basis's block CRCs (one a block, xf_worker_write.c): at 117 ns that fold was 2.7% of
 * the receiver's CPU in the `delta` case on XFS (perf/RESULTS.md, 2026-12-07 delta-1).
 */
static uint64_t crc_x64[8][256];
/* x^(8 * 2^i) mod P: the operators of 2^i bytes (xf_csum_crc64_shift()). */
static uint64_t crc_pow[64];

static void
crc_tab_init(void)
{
	uint64_t x8[256];

	/* x8[b]: byte b at x^56..x^63 times x^8: one step of a reflected CRC's table. */
	for (unsigned int b = 0; b < 256; b++) {
		uint64_t c = b;

		for (int k = 0; k < 8; k++) {
			c = (c & 1u) != 0 ? (c >> 1) ^ CRC64_XZ_POLY : c >> 1;
		}
		x8[b] = c;
	}
	for (unsigned int j = 0; j < 8; j++) {
		for (unsigned int b = 0; b < 256; b++) {
			uint64_t h = (uint64_t)b << (8 * j);

			for (int k = 0; k < 8; k++) {
				h = x8[h & 0xffu] ^ (h >> 8);
			}
			crc_x64[j][b] = h;
		}
	}
}

#if defined(__x86_64__)
/* The body of both encodings below: the VEX one where the CPU has AVX, so that a product
 * right after an AVX-512 CRC never pays the AVX-to-SSE transition (above). */
#define MULMOD_CLMUL_BODY(a, b)                                                                    \
	__m128i p = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)(a)),                        \
	                                 _mm_cvtsi64_si128((long long)(b)), 0x00);                 \
	uint64_t lo = (uint64_t)_mm_cvtsi128_si64(p);                                              \
	uint64_t hi = (uint64_t)_mm_extract_epi64(p, 1);                                           \
	uint64_t u = (hi << 1) | (lo >> 63);                                                       \
	uint64_t h = lo << 1;                                                                      \
                                                                                                   \
	return u ^ crc_x64[0][h & 0xffu] ^ crc_x64[1][(h >> 8) & 0xffu] ^                          \
	       crc_x64[2][(h >> 16) & 0xffu] ^ crc_x64[3][(h >> 24) & 0xffu] ^                     \
	       crc_x64[4][(h >> 32) & 0xffu] ^ crc_x64[5][(h >> 40) & 0xffu] ^                     \
	       crc_x64[6][(h >> 48) & 0xffu] ^ crc_x64[7][h >> 56]

__attribute__((target("pclmul,sse4.1"))) static uint64_t
mulmod_clmul(uint64_t a, uint64_t b)
{
	MULMOD_CLMUL_BODY(a, b);
}

__attribute__((target("pclmul,avx"))) static uint64_t
mulmod_clmul_vex(uint64_t a, uint64_t b)
{
	MULMOD_CLMUL_BODY(a, b);
}
#endif

static uint64_t (*mulmod_fn)(uint64_t, uint64_t);

/* Every user shares the table and the choice: made once, before main(), so that nothing
 * on a worker's path checks whether it was. */
__attribute__((constructor)) static void
mulmod_init(void)
{
	crc_tab_init();
	mulmod_fn = xf_csum_crc64_mulmod_ref;
#if defined(__x86_64__)
	__builtin_cpu_init(); /* needed before __builtin_cpu_supports in a constructor */
	if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx")) {
		mulmod_fn = mulmod_clmul_vex;
	} else if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
		mulmod_fn = mulmod_clmul;
	}
#endif
	crc_pow[0] = 1ull << 55; /* x^8 */
	for (unsigned int i = 1; i < 64; i++) {
		crc_pow[i] = mulmod_fn(crc_pow[i - 1], crc_pow[i - 1]);
	}
}

uint64_t
xf_csum_crc64_mulmod(uint64_t a, uint64_t b)
{
	return mulmod_fn(a, b);
}

uint64_t
xf_csum_crc64_shift(uint64_t len)
{
	uint64_t p = 1ull << 63; /* x^0 */

	/* One product a set bit of len, from the powers of two made at start. */
	for (unsigned int i = 0; len != 0; i++, len >>= 1) {
		if ((len & 1u) != 0) {
			p = mulmod_fn(crc_pow[i], p);
		}
	}
	return p;
}

uint64_t
xf_csum_crc64_combine(uint64_t crc1, uint64_t crc2, uint64_t len2)
{
	return mulmod_fn(xf_csum_crc64_shift(len2), crc1) ^ crc2;
}
