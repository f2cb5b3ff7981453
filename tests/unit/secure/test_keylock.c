/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure/xf_keylock: key memory inside larger structures is locked and kept out
 * of core dumps page by page (checked in /proc/self/smaps: the VmFlags "lo" and "dd" of
 * the pages, VmLck of the process), wiped and unlocked on release, and a refused mlock
 * (RLIMIT_MEMLOCK; faked with -Wl,--wrap=mlock, since root ignores the limit) is
 * reported as -errno with the memory left as it was, unlocked.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_keylock.h"

int __real_mlock(const void *addr, size_t len);
int __wrap_mlock(const void *addr, size_t len);

static int mlock_errno; /* nonzero: the next mlock fails with it */

int
__wrap_mlock(const void *addr, size_t len)
{
	if (mlock_errno != 0) {
		errno = mlock_errno;
		return -1;
	}
	return __real_mlock(addr, len);
}

static size_t pg;
static uint8_t *map; /* 4 pages of our own */

/* The VmFlags of the mapping that holds p contain flag ("lo", "dd")? */
static bool
vmflag(const void *p, const char *flag)
{
	char line[512];
	bool in = false, found = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= a && (uintptr_t)p < b;
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			char pat[8];

			snprintf(pat, sizeof(pat), " %s", flag);
			found = strstr(line + 8, pat) != NULL;
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return found;
}

static void
test_span(void)
{
	CU_ASSERT_EQUAL(xf_keylock_span(map, 1), pg);
	CU_ASSERT_EQUAL(xf_keylock_span(map + 100, pg), 2 * pg); /* straddles a page boundary */
	CU_ASSERT_EQUAL(xf_keylock_span(map + pg, pg), pg);
	CU_ASSERT_EQUAL(xf_keylock_span(map, 0), 0);
	CU_ASSERT_EQUAL(xf_keylock_span(NULL, 10), 0);
	CU_ASSERT_EQUAL(xf_keylock(NULL, 10), -EINVAL);
	CU_ASSERT_EQUAL(xf_keylock(map, 0), -EINVAL);
}

static void
test_lock_release(void)
{
	unsigned long before = xf_test_vmlck_kb();
	uint8_t *key = map + pg + 100; /* a key inside a larger structure, across two pages */
	size_t len = pg;

	memset(key, 0xA5, len);
	CU_ASSERT_EQUAL_FATAL(xf_keylock(key, len), 0);
	/* Its two pages, and only those, are locked and out of core dumps. AddressSanitizer
	 * replaces mlock with a no-op, so the lock shows only without it. */
	CU_ASSERT(XF_TEST_ASAN || xf_test_vmlck_kb() == before + 2 * pg / 1024);
	CU_ASSERT(XF_TEST_ASAN || vmflag(key, "lo"));
	CU_ASSERT(XF_TEST_ASAN || vmflag(key + len - 1, "lo"));
	CU_ASSERT(vmflag(key, "dd"));
	CU_ASSERT_FALSE(vmflag(map, "lo"));
	CU_ASSERT_FALSE(vmflag(map, "dd"));
	CU_ASSERT_FALSE(vmflag(map + 3 * pg, "dd"));
	CU_ASSERT_EQUAL(key[0], 0xA5); /* locking changes nothing in it */
	/* Released: wiped, every byte, and nothing else; unlocked and dumpable again. */
	map[pg + 99] = 0x5A;
	map[pg + 100 + len] = 0x5A;
	xf_keylock_release(key, len, true);
	for (size_t i = 0; i < len; i++) {
		CU_ASSERT_FATAL(key[i] == 0);
	}
	CU_ASSERT_EQUAL(map[pg + 99], 0x5A);
	CU_ASSERT_EQUAL(map[pg + 100 + len], 0x5A);
	CU_ASSERT_EQUAL(xf_test_vmlck_kb(), before);
	CU_ASSERT_FALSE(vmflag(key, "lo"));
	CU_ASSERT_FALSE(vmflag(key, "dd"));
	/* Not locked: wiped all the same. */
	memset(key, 0xA5, len);
	xf_keylock_release(key, len, false);
	CU_ASSERT_EQUAL(key[0], 0);
	CU_ASSERT_EQUAL(key[len - 1], 0);
}

static void
test_refused(void)
{
	unsigned long before = xf_test_vmlck_kb();
	uint8_t *key = map + 2 * pg;

	memset(key, 0xA5, 64);
	mlock_errno = EPERM;
	CU_ASSERT_EQUAL(xf_keylock(key, 64), -EPERM);
	mlock_errno = ENOMEM;
	CU_ASSERT_EQUAL(xf_keylock(key, 64), -ENOMEM);
	mlock_errno = 0;
	/* Soft: the memory is as it was, not locked; the caller undoes the dump flag. */
	CU_ASSERT_EQUAL(key[63], 0xA5);
	CU_ASSERT_EQUAL(xf_test_vmlck_kb(), before);
	xf_keyunlock(key, 64);
	CU_ASSERT_FALSE(vmflag(key, "dd"));
	CU_ASSERT_EQUAL(key[63], 0xA5); /* unlocking does not wipe */
}

static int
suite_init(void)
{
	pg = (size_t)sysconf(_SC_PAGESIZE);
	map = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return map == MAP_FAILED;
}

static int
suite_clean(void)
{
	return munmap(map, 4 * pg);
}

static const struct xf_test tests[] = {
	{ "span", test_span },
	{ "lock_release", test_lock_release },
	{ "refused", test_refused },
};

int
main(void)
{
	return xf_test_main("keylock", suite_init, suite_clean, XF_TESTS(tests));
}
