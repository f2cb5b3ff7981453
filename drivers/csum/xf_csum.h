/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checksums on ISA-L (drivers/zip is its other user: igzip).
 *
 * Both functions chain: f(f(0, a), b) == f(0, a || b), so a file is checksummed
 * piece by piece in offset order. f(0, "123456789") is the standard check value:
 * 0xE3069283 for CRC-32C (iSCSI), 0x995DC9BBDF1939FA for CRC-64/XZ (ECMA-182 reflected).
 */
#ifndef XF_CSUM_H
#define XF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * CRC-32C (Castagnoli, reflected), ISA-L crc32_iscsi.
 * @param crc Result of the previous piece, or 0 to start.
 */
uint32_t xf_csum_crc32c(uint32_t crc, const void *buf, size_t len);

/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected), ISA-L crc64_ecma_refl.
 * @param crc Result of the previous piece, or 0 to start.
 */
uint64_t xf_csum_crc64(uint64_t crc, const void *buf, size_t len);

/**
 * xf_csum_crc64(crc, zeros, len) computed without the zeros: the CRC over a hole of a
 * sparse file costs no read, whatever its length.
 * @param crc Result of the previous piece, or 0 to start.
 */
uint64_t xf_csum_crc64_zeros(uint64_t crc, uint64_t len);

/**
 * CRC-64/XZ of a concatenation from its parts: xf_csum_crc64(0, a || b) given
 * crc1 = xf_csum_crc64(0, a), crc2 = xf_csum_crc64(0, b) and len2 = length of b, without
 * the data (zlib's crc32_combine for CRC-64/XZ). Costs up to 65 products; for many
 * pieces of one length, take xf_csum_crc64_shift() once and xf_csum_crc64_mulmod() per
 * piece.
 * @param crc1 CRC-64/XZ of the first part (0 for an empty one).
 * @param crc2 CRC-64/XZ of the second part (0 for an empty one).
 * @param len2 Length of the second part in bytes.
 * @return CRC-64/XZ of the two parts, one after the other.
 */
uint64_t xf_csum_crc64_combine(uint64_t crc1, uint64_t crc2, uint64_t len2);

/**
 * The operator of xf_csum_crc64_combine() for a second part of len bytes:
 * x^(8 len) mod P in the reflected representation, so that
 * combine(crc1, crc2, len) == xf_csum_crc64_mulmod(xf_csum_crc64_shift(len), crc1) ^ crc2.
 * @param len Length in bytes.
 * @return The operator.
 */
uint64_t xf_csum_crc64_shift(uint64_t len);

/**
 * Product of two polynomials modulo the CRC-64/XZ polynomial, both in the reflected
 * representation (bit 63 is x^0). A carry-less multiply and eight table loads where the
 * CPU has PCLMULQDQ (chosen before main()), else xf_csum_crc64_mulmod_ref().
 * @param a One factor (an operator of xf_csum_crc64_shift()).
 * @param b The other (a CRC-64/XZ value).
 * @return a * b mod P.
 */
uint64_t xf_csum_crc64_mulmod(uint64_t a, uint64_t b);

/**
 * xf_csum_crc64_mulmod() bit by bit (at most 64 dependent steps): the reference the
 * tests hold the fast product to, and the fallback without PCLMULQDQ.
 */
uint64_t xf_csum_crc64_mulmod_ref(uint64_t a, uint64_t b);

#endif /* XF_CSUM_H */
