/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main() of every CUnit test program: one suite, a table of tests, verbose output,
 * and an exit code meson understands (0 pass, 1 fail; a test program that must skip
 * returns 77 itself before calling this).
 */
#ifndef XF_TEST_H
#define XF_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

struct xf_test {
	const char *name;
	CU_TestFunc fn;
};

#define XF_TESTS(table) (table), (sizeof(table) / sizeof((table)[0]))

/**
 * Run the tests as one suite.
 * @param init, clean Suite set-up and tear-down, or NULL.
 * @return 0 if every test passed and the suite set up, else 1.
 */
static inline int
xf_test_main(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
             const struct xf_test *tests, size_t n)
{
	/* XF_TEST_ONLY=text: only the tests whose name contains it (while working on one). */
	const char *only = getenv("XF_TEST_ONLY");
	unsigned int failures;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		return 1;
	}
	s = CU_add_suite(suite, init, clean);
	for (size_t i = 0; s != NULL && i < n; i++) {
		if (only != NULL && strstr(tests[i].name, only) == NULL) {
			continue;
		}
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) {
			s = NULL;
		}
	}
	if (s == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 1;
	}
	failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}

/** Deterministic xorshift64*, so that a failure reproduces from its seed (*state != 0). */
static inline uint64_t
xf_test_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1Dull;
}

/**
 * Reference Internet checksum sum (RFC 1071), byte by byte in network order: the folded
 * one's complement sum of p[0..n) added to sum, not complemented. The test oracle for
 * the IPv4, ICMP and UDP checksums that DPDK's helpers compute in the code under test.
 */
static inline uint16_t
xf_test_inet_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	}
	if (n & 1) {
		sum += (uint32_t)p[n - 1] << 8;
	}
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/**
 * The storage back end a test program is asked to run on: XF_TEST_IO=io_uring or
 * inline (meson runs the pipeline tests once with each), else 0, auto. The values
 * are enum xf_storage_io's.
 */
static inline int
xf_test_io(void)
{
	const char *v = getenv("XF_TEST_IO");

	if (v != NULL && strcmp(v, "io_uring") == 0) {
		return 1;
	}
	if (v != NULL && strcmp(v, "inline") == 0) {
		return 2;
	}
	return 0;
}

/* Built with AddressSanitizer, which replaces mlock with a no-op: a lock does not show. */
#if defined(__SANITIZE_ADDRESS__)
#define XF_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XF_TEST_ASAN 1
#endif
#endif
#ifndef XF_TEST_ASAN
#define XF_TEST_ASAN 0
#endif

/** The process's locked memory (VmLck in /proc/self/status), in KiB; 0 if unreadable. */
static inline unsigned long
xf_test_vmlck_kb(void)
{
	char line[256];
	unsigned long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmLck: %lu kB", &kb) == 1) {
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return kb;
}

#endif /* XF_TEST_H */
