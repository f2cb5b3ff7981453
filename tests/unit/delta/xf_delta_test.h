/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the delta test files share: the seeded random buffers, the signatures of a
 * buffer fed in random chunks, and the checksum and signature cases the test table
 * in test_delta.c lists.
 */
#ifndef XF_DELTA_TEST_H
#define XF_DELTA_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_csum.h"
#include "xf_delta.h"
#include "xf_delta_weak.h"

#define MIB            (1024u * 1024u)
#define FRAME_LIT      (XF_PAYLOAD_MAX - XF_DATA_OVERHEAD)
#define TEST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PROPERTY_CASES 200u

/* One generator for the whole program, so a case's draws follow the case before it. */
extern uint64_t xf_dt_rng_state;

static inline uint64_t
rnd(void)
{
	return xf_test_rand(&xf_dt_rng_state);
}

static inline void
seed(uint64_t s)
{
	xf_dt_rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

static inline uint64_t
rnd_below(uint64_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

static inline void
fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		p[i] = (uint8_t)rnd();
	}
}

static inline uint8_t *
random_buf(size_t len)
{
	uint8_t *p = malloc(len + 1);

	CU_ASSERT_FATAL(p != NULL);
	fill_random(p, len);
	return p;
}

/* Signatures of p[0..len) fed in random chunks of up to max_chunk bytes. */
struct xf_sig_rec *xf_dt_make_sigs(const uint8_t *p, size_t len, uint32_t bs, size_t max_chunk,
                                   uint32_t *count);

void test_weak_fresh(void);
void test_sigcache_hit_and_key_fields(void);
void test_sigcache_bound(void);
void test_sigcache_file(void);
void test_sigcache_pending(void);
void test_weak_kernels(void);
void test_weak_dispatch(void);
void test_weak_roll(void);
void test_block_size(void);
void test_block_size_aligned(void);
void test_signatures(void);
void test_signature_chunks(void);
void test_signature_errors(void);

#endif /* XF_DELTA_TEST_H */
