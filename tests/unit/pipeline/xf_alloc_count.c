/* SPDX-License-Identifier: BSD-3-Clause */
/* The allocation counter of the tests that link with -Wl,--wrap (xf_alloc_count.h). */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xf_alloc_count.h"

uint64_t xf_allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t n);
void *__real_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__real_mmap64(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t sz);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__wrap_mmap64(void *a, size_t n, int prot, int flags, int fd, off_t off);

void *
__wrap_malloc(size_t n)
{
	xf_allocs++;
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t sz)
{
	xf_allocs++;
	return __real_calloc(n, sz);
}

void *
__wrap_realloc(void *p, size_t n)
{
	xf_allocs++;
	return __real_realloc(p, n);
}

void *
__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	xf_allocs++;
	return __real_mmap(a, n, prot, flags, fd, off);
}

void *
__wrap_mmap64(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	xf_allocs++;
	return __real_mmap64(a, n, prot, flags, fd, off);
}
