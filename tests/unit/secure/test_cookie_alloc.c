/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure: the responder's path under load allocates nothing. A jar bound to its
 * ipsec-mb manager (xf_noise_cookie_jar_init, as each RX core's is) checks mac1 and mac2
 * and writes cookie replies to a flood of HELLOs, across several 120-s cookie secrets,
 * with no OpenSSL allocation (counted through CRYPTO_set_mem_functions, set before
 * anything of OpenSSL runs) and no nonce used twice; the replies open at the initiator
 * (OpenSSL's AES-GCM: the cross-check of ipsec-mb's), whose next message 1 then passes
 * under load with mac2. A zeroed jar (OpenSSL's one-shot HMAC and EVP AES-GCM) does
 * allocate on the same path: the count is not vacuous.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_ossl_allocs.h"
#include "xf_test.h"

#include "xf_hs_block.h"
#include "xf_noise.h"
#include "xf_proto.h"

#define SEC      1000000000ull
#define T0       (1700000000ull * SEC)
#define NHELLO   4096u                                 /* HELLOs of the flood */
#define NDIFF    16u                                   /* distinct message 1s among them */
#define M1_LEN   (XF_NOISE_MSG1_LEN + XF_HS_BLOCK_LEN) /* as every HELLO's (xf_hs_block.h) */
#define NONCE_AT 8u                                    /* a cookie reply's nonce, 12 bytes */

static struct xf_noise_static istat, rstat;
static struct xf_noise_peer ipeer; /* the initiator's state of the responder */
static const struct xf_noise_prologue pro = { .version = 2, .capabilities = 0x5 };

static int
suite_init(void)
{
	uint8_t k1[32], k2[32];

	for (int i = 0; i < 32; i++) {
		k1[i] = (uint8_t)(i + 7);
		k2[i] = (uint8_t)(i + 77);
	}
	return xf_noise_static_init(&istat, k1) || xf_noise_static_init(&rstat, k2) ||
	       xf_noise_peer_init(&ipeer, rstat.pub, NULL);
}

static int
cmp_nonce(const void *a, const void *b)
{
	return memcmp(a, b, 12);
}

/*
 * The flood through jar, as eng_secure_hello_gate and cookie_out judge and answer it
 * under load: mac1, mac2 missing (-EAGAIN), a cookie reply; NHELLO of them, 1/8 s apart
 * (four new secrets). Made before counting: NDIFF message 1s from NDIFF sources (the
 * initiator's, which allocates, is not the path measured). @return the allocations; the
 * nonces to nonces (NHELLO x 12 bytes); the last reply, to the last message 1, to cr.
 */
static uint64_t
flood(struct xf_noise_cookie_jar *jar, uint8_t (*nonces)[12], struct xf_noise_hs *hs, uint8_t *cr)
{
	static uint8_t m1[NDIFF][M1_LEN];
	uint8_t blk[XF_HS_BLOCK_LEN], src[NDIFF][6];
	uint64_t before;

	CU_ASSERT_FATAL(xf_proto_hello_seal(blk, sizeof(blk), 0x24002, 0, "d", 1) ==
	                XF_HS_BLOCK_LEN);
	for (unsigned int k = 0; k < NDIFF; k++) {
		CU_ASSERT_FATAL(xf_noise_initiate(hs, &istat, &ipeer, &pro, 100 + k, NULL, T0 + k,
		                                  0, blk, sizeof(blk), m1[k]) == 0);
		memcpy(src[k], (const uint8_t[]){ 10, 0, 0, (uint8_t)k, 0x12, 0x34 }, 6);
	}
	before = xf_ossl_allocs;
	for (unsigned int i = 0; i < NHELLO; i++) {
		unsigned int k = i % NDIFF; /* the last one answers m1[NDIFF - 1] */
		uint64_t now = (uint64_t)i * (SEC / 8);
		uint8_t reply[XF_NOISE_COOKIE_LEN_MSG];

		CU_ASSERT(xf_noise_check_macs(&rstat, jar, m1[k], M1_LEN, src[k], 6, true, now) ==
		          -EAGAIN);
		CU_ASSERT(xf_noise_cookie_reply(&rstat, jar, m1[k], M1_LEN, src[k], 6, NULL, now,
		                                reply) == 0);
		memcpy(nonces[i], reply + NONCE_AT, 12);
		memcpy(cr, reply, sizeof(reply));
	}
	return xf_ossl_allocs - before;
}

static void
test_flood_no_alloc(void)
{
	static uint8_t nonces[NHELLO][12], nonces2[NHELLO][12];
	static struct xf_noise_cookie_jar jar, jar2, plain;
	uint8_t cr[XF_NOISE_COOKIE_LEN_MSG], m1[M1_LEN], blk[XF_HS_BLOCK_LEN];
	const uint8_t last_src[6] = { 10, 0, 0, NDIFF - 1, 0x12, 0x34 };
	const uint64_t last = (uint64_t)(NHELLO - 1) * (SEC / 8);
	struct xf_noise_hs hs;
	uint64_t n;

	memset(&jar, 0, sizeof(jar));
	memset(&jar2, 0, sizeof(jar2));
	memset(&plain, 0, sizeof(plain));
	CU_ASSERT_FATAL(xf_noise_cookie_jar_init(&jar, &rstat) == 0);
	CU_ASSERT_FATAL(xf_noise_cookie_jar_init(&jar2, &rstat) == 0);
	n = flood(&jar, nonces, &hs, cr);
	CU_ASSERT_EQUAL(n, 0);
	/* No nonce twice: on one core, nor (a random base each) across two. */
	qsort(nonces, NHELLO, 12, cmp_nonce);
	for (unsigned int i = 1; i < NHELLO; i++) {
		CU_ASSERT(memcmp(nonces[i - 1], nonces[i], 12) != 0);
	}
	/* The last reply opens at the initiator (OpenSSL) and its cookie gives a mac2 that
	 * passes under load, from the same source, in the same secret's time. */
	CU_ASSERT(xf_noise_consume_cookie(&hs, cr, sizeof(cr), last) == 0);
	CU_ASSERT_FATAL(xf_proto_hello_seal(blk, sizeof(blk), 0x24002, 0, "d", 1) ==
	                XF_HS_BLOCK_LEN);
	CU_ASSERT_FATAL(xf_noise_initiate(&hs, &istat, &ipeer, &pro, 200, NULL, T0 + 100, last, blk,
	                                  sizeof(blk), m1) == 0);
	CU_ASSERT(xf_noise_check_macs(&rstat, &jar, m1, sizeof(m1), last_src, 6, true, last) == 0);
	CU_ASSERT(xf_noise_check_macs(&rstat, &jar, m1, sizeof(m1), last_src, 6, true,
	                              last + 120 * SEC) == -EAGAIN); /* the next secret's */
	xf_noise_hs_wipe(&hs);

	n = flood(&jar2, nonces2, &hs, cr);
	CU_ASSERT_EQUAL(n, 0);
	xf_noise_hs_wipe(&hs);
	CU_ASSERT(memcmp(nonces2[0], nonces[0], 12) != 0);
	/* The same flood through a zeroed jar (OpenSSL) allocates: the count sees it. */
	n = flood(&plain, nonces2, &hs, cr);
	CU_ASSERT(n >= NHELLO);
	xf_noise_hs_wipe(&hs);
	xf_noise_cookie_jar_fini(&jar);
	xf_noise_cookie_jar_fini(&jar2);
}

static const struct xf_test tests[] = {
	{ "flood_no_alloc", test_flood_no_alloc },
};

int
main(void)
{
	/* Before OpenSSL allocates anything: every allocation it makes is then counted. */
	if (xf_ossl_allocs_count() != 0) {
		return 1;
	}
	return xf_test_main("cookie_alloc", suite_init, NULL, XF_TESTS(tests));
}
