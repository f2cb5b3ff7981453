/* SPDX-License-Identifier: BSD-3-Clause */
/* Locked, undumped, wiped key memory inside larger structures (xf_keylock.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "xf_keylock.h"

/* The pages holding [p, p + len): *start and the returned length. */
static size_t
pages(const void *p, size_t len, uintptr_t *start)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(pg - 1);
	uintptr_t b = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);

	*start = a;
	return b - a;
}

size_t
xf_keylock_span(const void *p, size_t len)
{
	uintptr_t a;

	return p == NULL || len == 0 ? 0 : pages(p, len, &a);
}

int
xf_keylock(void *p, size_t len)
{
	uintptr_t a;
	size_t n;

	if (p == NULL || len == 0) {
		return -EINVAL;
	}
	n = pages(p, len, &a);
	/* Best effort: a kernel without MADV_DONTDUMP still gets locked, wiped memory. */
	(void)madvise((void *)a, n, MADV_DONTDUMP);
	if (mlock((void *)a, n) < 0) {
		return -errno;
	}
	return 0;
}

void
xf_keyunlock(void *p, size_t len)
{
	uintptr_t a;
	size_t n;

	if (p == NULL || len == 0) {
		return;
	}
	n = pages(p, len, &a);
	(void)munlock((void *)a, n);
	(void)madvise((void *)a, n, MADV_DODUMP);
}

void
xf_keylock_release(void *p, size_t len, bool locked)
{
	if (p == NULL || len == 0) {
		return;
	}
	OPENSSL_cleanse(p, len);
	if (locked) {
		xf_keyunlock(p, len);
	}
}
