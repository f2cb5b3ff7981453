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
 */
#include <limits.h>

#include <isa-l/crc.h>
#include <isa-l/crc64.h>

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
	return ~reg;
}

uint64_t
xf_csum_crc64(uint64_t crc, const void *buf, size_t len)
{
	return crc64_ecma_refl(crc, buf, len);
}
