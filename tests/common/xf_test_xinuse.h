/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whether the upper halves of the vector registers are in use (XINUSE, XGETBV with
 * ECX = 1): after a call into ISA-L through our wrappers they must be clean again
 * (xf_vector_upper_clean, xf_base.h).
 */
#ifndef XF_TEST_XINUSE_H
#define XF_TEST_XINUSE_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* XINUSE state components that must be clear: the upper halves of ymm0-15 (2) and of
 * zmm0-15 (6). */
#define XF_TEST_XINUSE_UPPER ((1ull << 2) | (1ull << 6))

/**
 * The XINUSE bitmap into *v.
 * @return false where the CPU or the OS does not report it (nothing to check).
 */
static inline bool
xf_test_xinuse(uint64_t *v)
{
#if defined(__x86_64__)
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_OSXSAVE) == 0 ||
	    !__get_cpuid_count(0xd, 1, &a, &b, &c, &d) || (a & (1u << 2)) == 0) {
		return false;
	}
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
	*v = ((uint64_t)hi << 32) | lo;
	return true;
#else
	(void)v;
	return false;
#endif
}

#endif /* XF_TEST_XINUSE_H */
