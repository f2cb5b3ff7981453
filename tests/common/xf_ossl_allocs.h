/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL's allocations, counted per thread: what unit-secure-cookie-alloc requires to be
 * none on the responder's path under load, and what xf-bench-hs reports per HELLO and per
 * handshake step (perf/crypto). Counted through CRYPTO_set_mem_functions, which OpenSSL
 * takes only before its first allocation: call xf_ossl_allocs_count first thing in main().
 * Header only, for the one file of a program that counts (the counter is per file and per
 * thread).
 */
#ifndef XF_OSSL_ALLOCS_H
#define XF_OSSL_ALLOCS_H

#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>

/** OpenSSL's allocations (malloc and realloc) by this thread since it started. */
static _Thread_local uint64_t xf_ossl_allocs;

static inline void *
xf_ossl_count_malloc(size_t n, const char *f, int l)
{
	(void)f;
	(void)l;
	xf_ossl_allocs++;
	return malloc(n);
}

static inline void *
xf_ossl_count_realloc(void *p, size_t n, const char *f, int l)
{
	(void)f;
	(void)l;
	xf_ossl_allocs++;
	return realloc(p, n);
}

static inline void
xf_ossl_count_free(void *p, const char *f, int l)
{
	(void)f;
	(void)l;
	free(p);
}

/**
 * From now on count OpenSSL's allocations in xf_ossl_allocs.
 * @return 0, or -1 if OpenSSL refused (it has allocated already).
 */
static inline int
xf_ossl_allocs_count(void)
{
	return CRYPTO_set_mem_functions(xf_ossl_count_malloc, xf_ossl_count_realloc,
	                                xf_ossl_count_free) == 1
	               ? 0
	               : -1;
}

#endif /* XF_OSSL_ALLOCS_H */
