/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure: the RX core's mac1 and mac2 (a jar bound with xf_noise_cookie_jar_init,
 * on its own ipsec-mb manager) against OpenSSL's HMAC() on random messages: message 1s of
 * every length class that matters (the shortest, 156 and 404 bytes, the one size a push
 * sends, 1,404 bytes, the longest the codec takes, 4,243, lengths whose MAC input ends at
 * each edge of SHA-256's padding, random ones) and message 2s. For each: the genuine MACs
 * (computed here with OpenSSL, mac1's key too) pass, with and without load; one bit
 * flipped anywhere in what mac1 covers, or in mac1, fails; one flipped in mac2 fails
 * under load only. The jar that runs the checks allocates nothing: every heap allocation
 * of this thread is counted (malloc and its kin interposed here; under AddressSanitizer,
 * which owns malloc, OpenSSL's only), and the same checks through a zeroed jar (OpenSSL)
 * give the same answers and do allocate, so the count is not vacuous. And on a CPU with
 * the SHA extensions the jar's manager is the code path that uses them. The push's side
 * too (xf_noise_initiate_jar): message 1s made through its jar equal OpenSSL's byte for
 * byte, their mac1 and mac2 OpenSSL's HMAC(), and their MACs, message 2's mac1 check and
 * the cookie reply it opens cost no allocation.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "xf_ossl_allocs.h"
#include "xf_test.h"

#include "xf_hs_block.h"
#include "xf_noise.h"

#if !XF_TEST_ASAN
/* Every allocation of this thread, whoever makes it (ipsec-mb, OpenSSL, libc). */
static _Thread_local uint64_t heap_allocs;

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);

void *
malloc(size_t n)
{
	heap_allocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	heap_allocs++;
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	heap_allocs++;
	return __libc_realloc(p, n);
}

void *
aligned_alloc(size_t a, size_t n)
{
	heap_allocs++;
	return __libc_memalign(a, n);
}

int
posix_memalign(void **p, size_t a, size_t n)
{
	heap_allocs++;
	*p = __libc_memalign(a, n);
	return *p != NULL ? 0 : ENOMEM;
}

void
free(void *p)
{
	__libc_free(p);
}
#define ALLOCS() (heap_allocs + xf_ossl_allocs)
#else
#define ALLOCS() xf_ossl_allocs
#endif

#define MAC      XF_NOISE_MAC_LEN
#define ONE_SIZE (XF_NOISE_MSG1_LEN + XF_HS_BLOCK_LEN) /* every HELLO a push sends */
#define PER_LEN  8u                                    /* random messages per length */
#define NLEN     20u

struct msg {
	uint8_t b[XF_NOISE_MSG1_MAX];
	size_t len;
	size_t bit;  /* a bit of mac1's input or of mac1 */
	size_t bit2; /* a bit of mac2 (message 1) */
};

static struct xf_noise_static rstat;
static uint8_t mac1_key[32], secret[32];
static const uint8_t src[6] = { 10, 0, 0, 9, 0x43, 0x21 };
static struct msg msgs[NLEN * PER_LEN];
static unsigned int nmsgs;
static uint64_t rng;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* OpenSSL's HMAC-SHA256 of d, its first 16 bytes to out. */
static void
ref_mac(const uint8_t *key, size_t kl, const uint8_t *d, size_t dl, uint8_t *out)
{
	uint8_t full[32];
	unsigned int ol = 0;

	if (HMAC(EVP_sha256(), key, (int)kl, d, dl, full, &ol) == NULL || ol != 32) {
		abort(); /* the suite's set-up: no assertion can report it */
	}
	memcpy(out, full, MAC);
}

/* A random message of len bytes (a message 1 unless len is XF_NOISE_MSG2_LEN) with its
 * MACs as OpenSSL computes them, and the bits to flip. */
static void
make(struct msg *m, size_t len)
{
	uint8_t cookie[MAC];
	size_t mac1 = len == XF_NOISE_MSG2_LEN ? 60 : len - 2 * MAC;

	for (size_t i = 0; i < len; i++) {
		m->b[i] = (uint8_t)next();
	}
	m->len = len;
	m->b[0] = len == XF_NOISE_MSG2_LEN ? XF_NOISE_MSG2 : XF_NOISE_MSG1;
	m->b[1] = m->b[2] = m->b[3] = 0;
	ref_mac(mac1_key, sizeof(mac1_key), m->b, mac1, m->b + mac1);
	if (len != XF_NOISE_MSG2_LEN) {
		ref_mac(secret, sizeof(secret), src, sizeof(src), cookie);
		ref_mac(cookie, sizeof(cookie), m->b, mac1 + MAC, m->b + mac1 + MAC);
	}
	m->bit = next() % ((mac1 + MAC) * 8);
	m->bit2 = (mac1 + MAC) * 8 + next() % (MAC * 8);
}

static int
suite_init(void)
{
	static const uint8_t label[8] = { 'm', 'a', 'c', '1', '-', '-', '-', '-' };
	const size_t lens[NLEN] = {
		XF_NOISE_MSG1_LEN,
		156,
		404,
		ONE_SIZE,
		XF_NOISE_MSG1_MAX,
		XF_NOISE_MSG2_LEN,
		/* mac1's input (len - 32 bytes) ending at 55, 56, 63, 64 bytes past a block:
		 * one or two padding blocks */
		64 + 55 + 32,
		64 + 56 + 32,
		64 + 63 + 32,
		128 + 32,
		1344 + 55 + 32,
		1344 + 56 + 32,
	};
	uint8_t k[32], in[40];
	unsigned int ol = 0, nl = 12;
	size_t all[NLEN];
	int ok;

	for (int i = 0; i < 32; i++) {
		k[i] = (uint8_t)(i * 5 + 3);
	}
	if (RAND_bytes((uint8_t *)&rng, sizeof(rng)) != 1 || RAND_bytes(secret, 32) != 1 ||
	    xf_noise_static_init(&rstat, k) != 0) {
		return 1;
	}
	rng |= 1;
	printf("\nxorshift seed %#llx\n", (unsigned long long)rng);
	/* mac1's key from the public key, as docs/SECURITY.md gives it, not from xf_noise. */
	memcpy(in, label, 8);
	memcpy(in + 8, rstat.pub, 32);
	ok = EVP_Digest(in, sizeof(in), mac1_key, &ol, EVP_sha256(), NULL) == 1 && ol == 32;
	memcpy(all, lens, sizeof(all));
	while (nl < NLEN) {
		all[nl++] =
		        XF_NOISE_MSG1_LEN + next() % (XF_NOISE_MSG1_MAX - XF_NOISE_MSG1_LEN + 1);
	}
	for (unsigned int i = 0; i < NLEN; i++) {
		for (unsigned int j = 0; j < PER_LEN; j++) {
			make(&msgs[nmsgs++], all[i]);
		}
	}
	return ok ? 0 : 1;
}

static void
flip(struct msg *m, size_t bit)
{
	m->b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Per message, the answers to: genuine, genuine under load, mac1's input or mac1 flipped,
 * mac2 flipped under load, mac2 flipped without load. */
#define NRC 5

static void
run(struct xf_noise_cookie_jar *jar, int (*rc)[NRC])
{
	for (unsigned int i = 0; i < nmsgs; i++) {
		struct msg *m = &msgs[i];
		bool m1 = m->len != XF_NOISE_MSG2_LEN;

		rc[i][0] = xf_noise_check_macs(&rstat, jar, m->b, m->len, src, 6, false, 1);
		rc[i][1] = xf_noise_check_macs(&rstat, jar, m->b, m->len, src, 6, true, 1);
		flip(m, m->bit);
		rc[i][2] = xf_noise_check_macs(&rstat, jar, m->b, m->len, src, 6, false, 1);
		flip(m, m->bit);
		if (m1) {
			flip(m, m->bit2);
			rc[i][3] = xf_noise_check_macs(&rstat, jar, m->b, m->len, src, 6, true, 1);
			rc[i][4] = xf_noise_check_macs(&rstat, jar, m->b, m->len, src, 6, false, 1);
			flip(m, m->bit2);
		} else {
			rc[i][3] = -EAGAIN; /* a message 2 has no mac2 */
			rc[i][4] = 0;
		}
	}
}

static void
test_known_answers(void)
{
	static int got[NLEN * PER_LEN][NRC], ref[NLEN * PER_LEN][NRC];
	static struct xf_noise_cookie_jar jar, plain;
	static const int want[NRC] = { 0, 0, -EBADMSG, -EAGAIN, 0 };
	uint64_t before, n;

	memset(&jar, 0, sizeof(jar));
	memset(&plain, 0, sizeof(plain));
	CU_ASSERT_FATAL(xf_noise_cookie_jar_init(&jar, &rstat) == 0);
	xf_noise_cookie_jar_set(&jar, secret, 0);
	xf_noise_cookie_jar_set(&plain, secret, 0);
	CU_ASSERT_FATAL(memcmp(rstat.mac1_key, mac1_key, 32) == 0);
	CU_ASSERT(msgs[3 * PER_LEN].len == 1404 && ONE_SIZE == 1404);

	before = ALLOCS();
	run(&jar, got);
	n = ALLOCS() - before;
	CU_ASSERT_EQUAL(n, 0);
	for (unsigned int i = 0; i < nmsgs; i++) {
		for (unsigned int k = 0; k < NRC; k++) {
			if (got[i][k] != want[k]) {
				printf("message %u (%zu bytes), case %u: %d\n", i, msgs[i].len, k,
				       got[i][k]);
			}
			CU_ASSERT_EQUAL(got[i][k], want[k]);
		}
	}
	/* OpenSSL's path (a zeroed jar) agrees, and allocates: the count sees allocations. */
	before = ALLOCS();
	run(&plain, ref);
	n = ALLOCS() - before;
	CU_ASSERT(n >= nmsgs);
	CU_ASSERT(memcmp(got, ref, sizeof(got)) == 0);
	xf_noise_cookie_jar_fini(&jar);
}

/* With the SHA extensions the jar's manager is ipsec-mb's SSE path, the one of 1.3 whose
 * HMAC-SHA256 runs on them in every CPU type that has them (xf_crypto.h): not the
 * AVX-512 manager, whose 16-lane HMAC costs several times OpenSSL's per mac1. */
static void
test_sha_ni(void)
{
	static struct xf_noise_cookie_jar jar;
	unsigned int a = 0, b = 0, c = 0, d = 0;
	bool sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) != 0;

	memset(&jar, 0, sizeof(jar));
	CU_ASSERT_FATAL(xf_noise_cookie_jar_init(&jar, &rstat) == 0);
	printf("\nthe jar's manager: %s (CPU with SHA extensions: %s)\n",
	       xf_crypto_mgr_arch(jar.mgr), sha ? "yes" : "no");
	if (sha) {
		CU_ASSERT_STRING_EQUAL(xf_crypto_mgr_arch(jar.mgr), "sse+shani");
	}
	/* Bound again: the same manager, no second one. */
	{
		struct xf_crypto_mgr *m = jar.mgr;

		CU_ASSERT(xf_noise_cookie_jar_init(&jar, &rstat) == 0 && jar.mgr == m);
	}
	xf_noise_cookie_jar_fini(&jar);
	CU_ASSERT(jar.mgr == NULL && jar.local == NULL && !jar.mac1.ready);
}

/* The push's side, on its RX core (xf_noise_initiate_jar): message 1 made through the
 * jar is byte for byte OpenSSL's, its mac1 and mac2 OpenSSL's HMAC() of what they cover,
 * and the MACs cost it no allocation: with the jar a message 1 with mac2 allocates what
 * one without does (OpenSSL's X25519, HKDF, AEAD), and exactly one HMAC()'s allocations
 * fewer than OpenSSL's path without mac2 (mac1 gone). Reading the answer, a message 2
 * whose mac1 fails and a cookie reply, genuine or not, allocate nothing through the jar
 * (and do through OpenSSL). */
static void
test_initiator(void)
{
	static struct xf_noise_cookie_jar ijar, rjar, unbound;
	static struct xf_noise_static istat;
	static struct xf_noise_peer ipeer, rpeer;
	static uint8_t a[XF_NOISE_MSG1_MAX], b[XF_NOISE_MSG1_MAX], pay[XF_NOISE_PAYLOAD_MAX];
	static const struct xf_noise_prologue pro = { .version = 2, .capabilities = 0x5 };
	const size_t plens[] = { 0, 8, ONE_SIZE - XF_NOISE_MSG1_LEN, XF_NOISE_PAYLOAD_MAX,
		                 next() % (XF_NOISE_PAYLOAD_MAX + 1) };
	uint8_t k[32], e[32], ck[MAC], mac[MAC], zero[MAC] = { 0 };
	uint8_t m2[XF_NOISE_MSG2_LEN], bad[XF_NOISE_MSG2_LEN], cr[XF_NOISE_COOKIE_LEN_MSG];
	uint8_t cr_bad[XF_NOISE_COOKIE_LEN_MSG];
	struct xf_noise_hs h1, h2, rh, t;
	struct xf_noise_keys ik, rk;
	uint64_t x, ossl[2] = { 0 }, jar[2] = { 0 }, ts = 1000;
	size_t len = 0;

	for (int i = 0; i < 32; i++) {
		k[i] = (uint8_t)(i * 7 + 1);
		e[i] = (uint8_t)next();
	}
	for (size_t i = 0; i < sizeof(pay); i++) {
		pay[i] = (uint8_t)next();
	}
	for (size_t i = 0; i < MAC; i++) {
		ck[i] = (uint8_t)next();
	}
	memset(&ijar, 0, sizeof(ijar));
	memset(&rjar, 0, sizeof(rjar));
	CU_ASSERT_FATAL(xf_noise_static_init(&istat, k) == 0 &&
	                xf_noise_peer_init(&ipeer, rstat.pub, NULL) == 0 &&
	                xf_noise_peer_init(&rpeer, istat.pub, NULL) == 0 &&
	                xf_noise_cookie_jar_init(&ijar, &istat) == 0 &&
	                xf_noise_cookie_jar_init(&rjar, &rstat) == 0);
	xf_noise_cookie_jar_set(&rjar, secret, 0);
	/* Not bound: refused, not OpenSSL's path in disguise. */
	CU_ASSERT(xf_noise_initiate_jar(&h2, &unbound, &istat, &ipeer, &pro, 7, e, ts, 2, NULL, 0,
	                                b) == -EINVAL);
	/* Once each way first: OpenSSL's first calls set up what later ones reuse. */
	CU_ASSERT_FATAL(xf_noise_initiate(&h1, &istat, &ipeer, &pro, 7, e, ts, 2, pay, 8, a) == 0);
	CU_ASSERT_FATAL(xf_noise_initiate_jar(&h2, &ijar, &istat, &ipeer, &pro, 7, e, ts, 2, pay, 8,
	                                      b) == 0);
	for (unsigned int c = 0; c < 2; c++) {
		/* c: with a cookie, so with mac2 */
		ipeer.has_cookie = c == 1;
		memcpy(ipeer.cookie, ck, MAC);
		ipeer.cookie_ns = 1;
		for (unsigned int i = 0; i < sizeof(plens) / sizeof(plens[0]); i++) {
			len = XF_NOISE_MSG1_LEN + plens[i];
			ts++;
			x = ALLOCS();
			CU_ASSERT_FATAL(xf_noise_initiate(&h1, &istat, &ipeer, &pro, 7, e, ts, 2,
			                                  pay, plens[i], a) == 0);
			ossl[c] = ALLOCS() - x;
			x = ALLOCS();
			CU_ASSERT_FATAL(xf_noise_initiate_jar(&h2, &ijar, &istat, &ipeer, &pro, 7,
			                                      e, ts, 2, pay, plens[i], b) == 0);
			jar[c] = ALLOCS() - x;
			CU_ASSERT(memcmp(a, b, len) == 0);
			ref_mac(mac1_key, sizeof(mac1_key), b, len - 2 * MAC, mac);
			CU_ASSERT(memcmp(mac, b + len - 2 * MAC, MAC) == 0);
			if (c == 1) {
				ref_mac(ck, MAC, b, len - MAC, mac);
				CU_ASSERT(memcmp(mac, b + len - MAC, MAC) == 0);
			} else {
				CU_ASSERT(memcmp(zero, b + len - MAC, MAC) == 0);
			}
		}
	}
	/* Under ASan OpenSSL's allocations alone, else every one (OpenSSL's twice). */
	printf("\nallocations per message 1 without mac2, with: OpenSSL %llu, %llu; jar %llu, "
	       "%llu\n",
	       (unsigned long long)ossl[0], (unsigned long long)ossl[1], (unsigned long long)jar[0],
	       (unsigned long long)jar[1]);
	CU_ASSERT(ossl[1] > ossl[0]);    /* HMAC() allocates: the counts see it */
	CU_ASSERT_EQUAL(jar[1], jar[0]); /* mac2 through the jar: none */
	CU_ASSERT_EQUAL(ossl[0] - jar[0], ossl[1] - ossl[0]); /* mac1 too */

	/* The responder takes the last one (a push's, with mac2, under load), answers. */
	CU_ASSERT(xf_noise_check_macs(&rstat, &rjar, b, len, src, 6, true, 2) == -EAGAIN);
	ipeer.has_cookie = false;
	memcpy(ipeer.cookie, zero, MAC);
	CU_ASSERT(xf_noise_consume_initiation(&rh, &rstat, &rpeer, 1, &pro, b, len, a) == 0 &&
	          memcmp(a, pay, len - XF_NOISE_MSG1_LEN) == 0);
	CU_ASSERT_FATAL(xf_noise_respond(&rh, 9, NULL, m2, &rk) == 0);
	/* A message 2 whose mac1 fails: refused before any DH, with no allocation. */
	memcpy(bad, m2, sizeof(bad));
	bad[12 + next() % 48] ^= 1;
	t = h2;
	x = ALLOCS();
	CU_ASSERT(xf_noise_consume_response(&t, bad, sizeof(bad), &ik) == -EBADMSG);
	CU_ASSERT_EQUAL(ALLOCS() - x, 0);
	t = h1;
	x = ALLOCS();
	CU_ASSERT(xf_noise_consume_response(&t, bad, sizeof(bad), &ik) == -EBADMSG);
	CU_ASSERT(ALLOCS() - x > 0);
	/* The genuine one passes the jar's mac1 check (OpenSSL made its mac1). */
	t = h2;
	CU_ASSERT(xf_noise_consume_response(&t, m2, sizeof(m2), &ik) == 0 &&
	          memcmp(ik.send, rk.recv, 32) == 0 && memcmp(ik.recv, rk.send, 32) == 0);

	/* Under load: the cookie reply (the responder's jar) opens at the initiator's jar,
	 * a forged one is refused, neither allocates; the next message 1 passes with mac2. */
	CU_ASSERT_FATAL(xf_noise_cookie_reply(&rstat, &rjar, b, len, src, 6, NULL, 2, cr) == 0);
	memcpy(cr_bad, cr, sizeof(cr_bad));
	cr_bad[8 + next() % (sizeof(cr_bad) - 8)] ^= 0x10;
	t = h1;
	x = ALLOCS();
	CU_ASSERT(xf_noise_consume_cookie(&t, cr_bad, sizeof(cr_bad), 3) == -EBADMSG);
	CU_ASSERT(ALLOCS() - x > 0);
	x = ALLOCS();
	CU_ASSERT(xf_noise_consume_cookie(&h2, cr_bad, sizeof(cr_bad), 3) == -EBADMSG);
	CU_ASSERT(xf_noise_consume_cookie(&h2, cr, sizeof(cr), 3) == 0);
	CU_ASSERT_EQUAL(ALLOCS() - x, 0);
	ref_mac(secret, sizeof(secret), src, sizeof(src), mac);
	CU_ASSERT(ipeer.has_cookie && memcmp(ipeer.cookie, mac, MAC) == 0);
	CU_ASSERT_FATAL(xf_noise_initiate_jar(&h2, &ijar, &istat, &ipeer, &pro, 8, NULL, ++ts, 4,
	                                      pay, len - XF_NOISE_MSG1_LEN, b) == 0);
	CU_ASSERT(xf_noise_check_macs(&rstat, &rjar, b, len, src, 6, true, 4) == 0);
	xf_noise_hs_wipe(&h1);
	xf_noise_hs_wipe(&h2);
	xf_noise_cookie_jar_fini(&ijar);
	xf_noise_cookie_jar_fini(&rjar);
}

static const struct xf_test tests[] = {
	{ "known_answers", test_known_answers },
	{ "sha_ni", test_sha_ni },
	{ "initiator", test_initiator },
};

int
main(void)
{
	/* Before OpenSSL allocates anything: every allocation it makes is then counted. */
	if (xf_ossl_allocs_count() != 0) {
		return 1;
	}
	return xf_test_main("mac1", suite_init, NULL, XF_TESTS(tests));
}
