/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checksums on ISA-L. The only user of libisal.
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

#endif /* XF_CSUM_H */
