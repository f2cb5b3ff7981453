/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure: the IKpsk2 handshake's failure paths (wrong static key, wrong PSK,
 * replayed or older message 1, a flipped bit in every byte of every message, mac1,
 * cookie and mac2, low-order keys, prologue mismatch), message 1's payload (the HELLO's
 * destination field: hidden, read back whole, every byte of it changed refused), the replay
 * window's edges, and
 * the transport keys: seal/open, replay after verification only, key update with
 * reordering, nonce discipline and the time and frame limits; the responder's load test
 * (windows, the mac2 budget) and a flood judged as the engine judges it. The mac1, mac2
 * and cookie checks run both ways: OpenSSL's one-shot HMAC (a zeroed jar) and ipsec-mb from
 * keys prepared once (a jar bound with xf_noise_cookie_jar_init, as an RX core's), with
 * the same answers for every flipped byte of message 1.
 * The agreement with an independent implementation is noise_ref.py's job.
 *
 * Over 1,000 lines: one module's contract, whose cases share the handshake fixtures
 * (keys, peers, a completed handshake) set up once here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "xf_test.h"

#include "xf_hs_load.h"
#include "xf_noise.h"
#include "xf_replay.h"
#include "xf_secure.h"

#define SEC 1000000000ull
#define T0  (1700000000ull * SEC) /* wall clock of the first message 1 */

static struct xf_crypto_mgr *mgr;
static struct xf_noise_static istat, rstat, other;
static struct xf_noise_prologue pro = { .version = 2, .capabilities = 0x5 };
static const uint8_t src[6] = { 10, 0, 0, 1, 0x12, 0x34 };
static uint64_t rng_state = 0x1234567890ull;

static void
fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (uint8_t)xf_test_rand(&rng_state);
	}
}

/* A pair of peers: ip is the initiator's view of the responder, rp the reverse. */
struct pair {
	struct xf_noise_peer ip, rp;
	struct xf_noise_hs ih, rh;
	struct xf_noise_cookie_jar jar;
	uint8_t m1[XF_NOISE_MSG1_LEN], m2[XF_NOISE_MSG2_LEN];
	struct xf_noise_keys ik, rk;
};

static void
pair_init(struct pair *p, const uint8_t *ipsk, const uint8_t *rpsk)
{
	memset(p, 0, sizeof(*p));
	CU_ASSERT_EQUAL_FATAL(xf_noise_peer_init(&p->ip, rstat.pub, ipsk), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_peer_init(&p->rp, istat.pub, rpsk), 0);
}

static int
run_handshake(struct pair *p, uint64_t unix_ns)
{
	int rc;

	rc = xf_noise_initiate(&p->ih, &istat, &p->ip, &pro, 11, NULL, unix_ns, 0, NULL, 0, p->m1);
	rc = rc ? rc
	        : xf_noise_check_macs(&rstat, &p->jar, p->m1, sizeof(p->m1), src, sizeof(src),
	                              false, 0);
	rc = rc ? rc
	        : xf_noise_consume_initiation(&p->rh, &rstat, &p->rp, 1, &pro, p->m1, sizeof(p->m1),
	                                      NULL);
	rc = rc ? rc : xf_noise_respond(&p->rh, 22, NULL, p->m2, &p->rk);
	return rc ? rc : xf_noise_consume_response(&p->ih, p->m2, sizeof(p->m2), &p->ik);
}

static void
test_handshake(void)
{
	static struct pair p;
	uint8_t psk[32];

	for (int with_psk = 0; with_psk < 2; with_psk++) {
		fill(psk, sizeof(psk));
		pair_init(&p, with_psk ? psk : NULL, with_psk ? psk : NULL);
		CU_ASSERT_EQUAL_FATAL(run_handshake(&p, T0), 0);
		CU_ASSERT_EQUAL(memcmp(p.ik.send, p.rk.recv, 32), 0);
		CU_ASSERT_EQUAL(memcmp(p.ik.recv, p.rk.send, 32), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(p.ik.send, p.ik.recv, 32), 0);
		CU_ASSERT_EQUAL(memcmp(p.ik.hash, p.rk.hash, 32), 0);
		CU_ASSERT_EQUAL(p.ik.local_index, 11);
		CU_ASSERT_EQUAL(p.ik.remote_index, 22);
		CU_ASSERT_EQUAL(p.rk.remote_index, 11);
		CU_ASSERT(p.ik.initiator && !p.rk.initiator);
		/* The handshake state is wiped once it ends. */
		CU_ASSERT_EQUAL(p.ih.state, 0);
		CU_ASSERT_EQUAL(p.rh.state, 0);
	}
}

static void
test_wrong_static(void)
{
	static struct pair p;
	static struct xf_noise_peer stranger;

	/* The responder does not know the initiator's key. */
	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(xf_noise_peer_init(&stranger, other.pub, NULL), 0);
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &stranger, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -ENOKEY);
	CU_ASSERT_EQUAL(
	        xf_noise_consume_initiation(&p.rh, &rstat, NULL, 0, &pro, p.m1, sizeof(p.m1), NULL),
	        -ENOKEY);
	/* The initiator addresses a responder key that is not the responder's: mac1 fails,
	 * and without the mac1 check the first decryption fails. */
	CU_ASSERT_EQUAL(xf_noise_peer_init(&p.ip, other.pub, NULL), 0);
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1), src, sizeof(src), false, 0),
	        -EBADMSG);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EBADMSG);
	CU_ASSERT_EQUAL(p.rp.last_ts[0], 0); /* nothing recorded */
}

static void
test_wrong_psk(void)
{
	static struct pair p;
	uint8_t a[32], b[32];

	fill(a, 32);
	memcpy(b, a, 32);
	b[31] ^= 1;
	pair_init(&p, a, b);
	CU_ASSERT_EQUAL(run_handshake(&p, T0), -EBADMSG);
	/* PSK on one side only (the other uses the all-zero PSK) fails too. */
	pair_init(&p, a, NULL);
	CU_ASSERT_EQUAL(run_handshake(&p, T0), -EBADMSG);
}

static void
test_prologue_mismatch(void)
{
	static struct pair p;
	struct xf_noise_prologue down = pro;

	pair_init(&p, NULL, NULL);
	down.capabilities ^= 1;
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &down, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EBADMSG);
	down = pro;
	down.version = 1;
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &down, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EBADMSG);
}

/* The options (a deleting HELLO's limit) are bound: raised, or dropped, the handshake
 * fails; the same on both sides, it succeeds. */
static void
test_prologue_options(void)
{
	static struct pair p;
	struct xf_noise_prologue del = pro, alt;

	del.has_options = true;
	del.options = 5;
	alt = del;
	alt.options = 6;
	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &alt, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &del, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EBADMSG);
	alt = del;
	alt.has_options = false;
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &alt, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &del, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EBADMSG);
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &del, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &del, p.m1,
	                                            sizeof(p.m1), NULL),
	                0);
}

/* A HELLO's destination field: a volume, a path and, after a NUL, filter rules. */
static const char field[] = "archive/confidential-dest\0- *.secret-rule\n";
#define FIELD_LEN (sizeof(field) - 1)

static bool
contains(const uint8_t *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* mac1 made again over a changed message 1, as anyone who knows the responder's public key
 * can: what is left to refuse the change is the AEAD of the payload. */
static void
remac1(uint8_t *m, size_t len)
{
	uint8_t full[32];
	unsigned int ol = 0;

	HMAC(EVP_sha256(), rstat.mac1_key, 32, m, len - 32, full, &ol);
	memcpy(m + len - 32, full, 16);
}

/* Message 1 carries the destination field in its payload: encrypted (neither the path nor
 * the rule is in its bytes), authenticated, and read back whole by the responder, whose
 * keys then agree with the initiator's; under load mac2 covers it too. */
static void
test_payload(void)
{
	static struct pair p;
	uint8_t m1[XF_NOISE_MSG1_LEN + FIELD_LEN], got[FIELD_LEN], cr[XF_NOISE_COOKIE_LEN_MSG];
	static struct xf_noise_cookie_jar jar;
	uint8_t secret[32];

	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 3, NULL, T0, 0,
	                                        (const uint8_t *)field, FIELD_LEN, m1),
	                      0);
	CU_ASSERT(!contains(m1, sizeof(m1), "confidential-dest"));
	CU_ASSERT(!contains(m1, sizeof(m1), "secret-rule"));
	CU_ASSERT(!contains(m1, sizeof(m1), "archive"));
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, NULL, m1, sizeof(m1), src, sizeof(src), false, 0), 0);
	/* Under load: a cookie reply bound to this message's mac1 (its last 32 bytes but 16),
	 * then the next message 1 with the same payload carries mac2 and passes. */
	fill(secret, sizeof(secret));
	memset(&jar, 0, sizeof(jar));
	xf_noise_cookie_jar_set(&jar, secret, 0);
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, &jar, m1, sizeof(m1), src, sizeof(src), true, 0),
	        -EAGAIN);
	CU_ASSERT_EQUAL(
	        xf_noise_cookie_reply(&rstat, &jar, m1, sizeof(m1), src, sizeof(src), NULL, 0, cr),
	        0);
	CU_ASSERT_EQUAL(xf_noise_consume_cookie(&p.ih, cr, sizeof(cr), 0), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 3, NULL, T0 + 1, 0,
	                                        (const uint8_t *)field, FIELD_LEN, m1),
	                      0);
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, &jar, m1, sizeof(m1), src, sizeof(src), true, 0), 0);
	memset(got, 0, sizeof(got));
	CU_ASSERT_EQUAL_FATAL(
	        xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, m1, sizeof(m1), got), 0);
	CU_ASSERT_EQUAL(memcmp(got, field, FIELD_LEN), 0);
	CU_ASSERT_EQUAL(xf_noise_respond(&p.rh, 4, NULL, p.m2, &p.rk), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_response(&p.ih, p.m2, sizeof(p.m2), &p.ik), 0);
	CU_ASSERT_EQUAL(memcmp(p.ik.send, p.rk.recv, 32), 0);
	CU_ASSERT_EQUAL(memcmp(p.ik.hash, p.rk.hash, 32), 0);
	/* Bounds: a payload over XF_NOISE_PAYLOAD_MAX is not sent, a message over the longest
	 * is not taken. */
	CU_ASSERT_EQUAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 3, NULL, T0, 0,
	                                  (const uint8_t *)field, XF_NOISE_PAYLOAD_MAX + 1, m1),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 3, NULL, T0, 0, NULL, 1, m1),
	                -EINVAL);
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, NULL, m1, XF_NOISE_MSG1_MAX + 1, src, 6, false, 0),
	        -EBADMSG);
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, NULL, m1, XF_NOISE_MSG1_LEN - 1, src, 6, false, 0),
	        -EBADMSG);
	CU_ASSERT_EQUAL(
	        xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, m1, sizeof(m1), NULL),
	        -EINVAL);
}

/* Every byte of the encrypted timestamp and payload (and its tag) changed, mac1 made again:
 * refused (-EBADMSG), nothing written to the caller's payload, and the peer's timestamp not
 * moved: the genuine message is taken afterwards. A message cut short or made longer (mac1
 * again over it) is refused too. */
static void
test_payload_tampered(void)
{
	static struct pair p;
	uint8_t m1[XF_NOISE_MSG1_LEN + FIELD_LEN], bad[sizeof(m1) + 1], got[FIELD_LEN + 1];
	size_t ct = 88, ct_len = XF_NOISE_TAI64N_LEN + FIELD_LEN + 16;
	unsigned int refused = 0, wrote = 0;

	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 3, NULL, T0, 0,
	                                        (const uint8_t *)field, FIELD_LEN, m1),
	                      0);
	for (size_t i = ct; i < ct + ct_len; i++) {
		memcpy(bad, m1, sizeof(m1));
		bad[i] ^= 0x20;
		remac1(bad, sizeof(m1));
		CU_ASSERT_EQUAL(
		        xf_noise_check_macs(&rstat, NULL, bad, sizeof(m1), src, 6, false, 0), 0);
		memset(got, 0x5a, sizeof(got));
		refused += xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, bad,
		                                       sizeof(m1), got) == -EBADMSG;
		wrote += memcmp(got, field, FIELD_LEN) == 0;
	}
	CU_ASSERT_EQUAL(refused, ct_len);
	CU_ASSERT_EQUAL(wrote, 0);
	/* One byte less, or one more, in the payload (mac1 again): its tag fails. */
	memcpy(bad, m1, sizeof(m1) - 32);
	memset(bad + sizeof(m1) - 33, 0, 32);
	remac1(bad, sizeof(m1) - 1);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, bad,
	                                            sizeof(m1) - 1, got),
	                -EBADMSG);
	memcpy(bad, m1, sizeof(m1) - 32);
	bad[sizeof(m1) - 32] = 0;
	memset(bad + sizeof(m1) - 31, 0, 32);
	remac1(bad, sizeof(bad));
	CU_ASSERT_EQUAL(
	        xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, bad, sizeof(bad), got),
	        -EBADMSG);
	/* The genuine one still passes: no refusal moved the timestamp. */
	CU_ASSERT_EQUAL(
	        xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, m1, sizeof(m1), got), 0);
	CU_ASSERT_EQUAL(memcmp(got, field, FIELD_LEN), 0);
	xf_noise_hs_wipe(&p.rh);
}

static void
test_replayed_initiation(void)
{
	static struct pair p;
	uint8_t old[XF_NOISE_MSG1_LEN];

	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(run_handshake(&p, T0), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EALREADY);
	memcpy(old, p.m1, sizeof(old));
	/* An older timestamp in a fresh message is a replay too. */
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 1, NULL, T0 - 1, 0, NULL, 0, p.m1),
	        0);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EALREADY);
	/* A newer one passes, after which the old message still fails. */
	CU_ASSERT_EQUAL(run_handshake(&p, T0 + 1), 0);
	CU_ASSERT_EQUAL(
	        xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, old, sizeof(old), NULL),
	        -EALREADY);
}

/* Responder pipeline as the session layer will run it. */
static int
responder_takes(struct pair *p, const uint8_t *m, bool load)
{
	int rc = xf_noise_check_macs(&rstat, &p->jar, m, XF_NOISE_MSG1_LEN, src, sizeof(src), load,
	                             0);

	return rc ? rc
	          : xf_noise_consume_initiation(&p->rh, &rstat, &p->rp, 1, &pro, m,
	                                        XF_NOISE_MSG1_LEN, NULL);
}

static void
test_bit_flips(void)
{
	static struct pair p;
	uint8_t m[XF_NOISE_MSG1_LEN], m2[XF_NOISE_MSG2_LEN], c[XF_NOISE_COOKIE_LEN_MSG];
	uint8_t cr[XF_NOISE_COOKIE_LEN_MSG];

	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	/* Message 1: any flip before mac2 fails mac1; a flip in mac2 fails under load (and
	 * mac2 is not looked at otherwise: it only proves a cookie). Without the mac1
	 * check, a flip in the Noise part still fails the decryption. */
	for (unsigned int i = 0; i < 8 * XF_NOISE_MSG1_LEN; i++) {
		int rc;

		memcpy(m, p.m1, sizeof(m));
		m[i / 8] ^= (uint8_t)(1u << (i % 8));
		rc = responder_takes(&p, m, true);
		CU_ASSERT_FATAL(rc == (i / 8 < 132 ? -EBADMSG : -EAGAIN));
		if (i / 8 >= 8 && i / 8 < 116) {
			CU_ASSERT_FATAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro,
			                                            m, sizeof(m),
			                                            NULL) == -EBADMSG);
		}
	}
	CU_ASSERT_EQUAL(p.rp.last_ts[0], 0);
	/* Cookie reply: every flip fails; the genuine one then passes. */
	CU_ASSERT_EQUAL_FATAL(xf_noise_cookie_reply(&rstat, &p.jar, p.m1, XF_NOISE_MSG1_LEN, src,
	                                            sizeof(src), NULL, 0, cr),
	                      0);
	for (unsigned int i = 0; i < 8 * sizeof(cr); i++) {
		memcpy(c, cr, sizeof(c));
		c[i / 8] ^= (uint8_t)(1u << (i % 8));
		CU_ASSERT_FATAL(xf_noise_consume_cookie(&p.ih, c, sizeof(c), 0) == -EBADMSG);
	}
	CU_ASSERT_FALSE(p.ip.has_cookie);
	/* Message 2: every flip fails, and the handshake in progress survives them all. */
	CU_ASSERT_EQUAL_FATAL(responder_takes(&p, p.m1, false), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_respond(&p.rh, 2, NULL, p.m2, &p.rk), 0);
	for (unsigned int i = 0; i < 8 * XF_NOISE_MSG2_LEN; i++) {
		memcpy(m2, p.m2, sizeof(m2));
		m2[i / 8] ^= (uint8_t)(1u << (i % 8));
		CU_ASSERT_FATAL(xf_noise_consume_response(&p.ih, m2, sizeof(m2), &p.ik) ==
		                -EBADMSG);
	}
	/* mac1 is public (keyed by a public key): an attacker can make it right. The Noise
	 * part must then fail on its own, and still not spoil the handshake. */
	for (unsigned int i = 8 * 12; i < 8 * 60; i++) {
		unsigned int ml = 0;
		uint8_t full[32];

		memcpy(m2, p.m2, sizeof(m2));
		m2[i / 8] ^= (uint8_t)(1u << (i % 8));
		HMAC(EVP_sha256(), istat.mac1_key, 32, m2, 60, full, &ml);
		memcpy(m2 + 60, full, 16);
		CU_ASSERT_FATAL(xf_noise_consume_response(&p.ih, m2, sizeof(m2), &p.ik) ==
		                -EBADMSG);
	}
	CU_ASSERT_EQUAL(xf_noise_consume_response(&p.ih, p.m2, sizeof(p.m2), &p.ik), 0);
	CU_ASSERT_EQUAL(memcmp(p.ik.send, p.rk.recv, 32), 0);
	/* Wrong lengths. */
	CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1) - 1, src,
	                                    sizeof(src), false, 0),
	                -EBADMSG);
	/* A byte more (p.m2 follows p.m1) is a payload whose tag does not verify. */
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1) + 1, cr),
	                -EBADMSG);
}

static void
test_low_order_keys(void)
{
	static struct pair p;
	uint8_t bad[32] = { 0 };

	/* u = 0 and u = 1 are points of small order: X25519 with them gives the all-zero
	 * secret, which is refused, so no handshake is made with such a key. */
	for (int u = 0; u < 2; u++) {
		bad[0] = (uint8_t)u;
		pair_init(&p, NULL, NULL);
		CU_ASSERT_EQUAL(xf_noise_peer_init(&p.ip, bad, NULL), 0);
		CU_ASSERT_EQUAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 1, NULL, T0, 0, NULL,
		                                  0, p.m1),
		                -EIO);
		CU_ASSERT_FALSE(p.ip.sent_mac1);
	}
	/* A message 1 whose ephemeral is such a point is refused (after a valid mac1). */
	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 1, NULL, T0, 0, NULL, 0, p.m1), 0);
	memset(p.m1 + 8, 0, 32);
	CU_ASSERT_EQUAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                            sizeof(p.m1), NULL),
	                -EBADMSG);
}

/* bound: the jar on ipsec-mb (an RX core's), else OpenSSL's one-shot HMAC. */
static void
cookie_case(bool bound)
{
	static struct pair p;
	uint8_t cr[XF_NOISE_COOKIE_LEN_MSG];
	const uint8_t src2[6] = { 10, 0, 0, 2, 0x12, 0x34 };

	pair_init(&p, NULL, NULL);
	if (bound) {
		CU_ASSERT_EQUAL_FATAL(xf_noise_cookie_jar_init(&p.jar, &rstat), 0);
	}
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 7, NULL, T0, 0, NULL, 0, p.m1), 0);
	/* Not under load: mac2 is not needed. Under load: a cookie reply is due. */
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1), src, sizeof(src), false, 0),
	        0);
	CU_ASSERT_EQUAL(
	        xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1), src, sizeof(src), true, 0),
	        -EAGAIN);
	CU_ASSERT_EQUAL(xf_noise_cookie_reply(&rstat, &p.jar, p.m1, XF_NOISE_MSG1_LEN, src,
	                                      sizeof(src), NULL, 0, cr),
	                0);
	/* A cookie reply for another index, or with no message 1 outstanding, is refused. */
	cr[7] ^= 1;
	CU_ASSERT_EQUAL(xf_noise_consume_cookie(&p.ih, cr, sizeof(cr), 0), -EBADMSG);
	cr[7] ^= 1;
	CU_ASSERT_EQUAL(xf_noise_consume_cookie(&p.ih, cr, sizeof(cr), SEC), 0);
	CU_ASSERT_EQUAL(xf_noise_consume_cookie(&p.ih, cr, sizeof(cr), SEC), -ENOENT);
	/* The next message 1 carries mac2 and passes under load, from the same address only. */
	CU_ASSERT_EQUAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 7, NULL, T0 + 1, 2 * SEC,
	                                  NULL, 0, p.m1),
	                0);
	CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1), src, sizeof(src),
	                                    true, 3 * SEC),
	                0);
	CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1), src2, sizeof(src2),
	                                    true, 3 * SEC),
	                -EAGAIN);
	CU_ASSERT_EQUAL(responder_takes(&p, p.m1, true), 0);
	/* The responder's secret changes every 120 s: the old cookie no longer counts. */
	CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &p.jar, p.m1, sizeof(p.m1), src, sizeof(src),
	                                    true, 121 * SEC),
	                -EAGAIN);
	/* And the initiator stops using a cookie older than 120 s. */
	CU_ASSERT_EQUAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 7, NULL, T0 + 2, 122 * SEC,
	                                  NULL, 0, p.m1),
	                0);
	for (unsigned int i = 132; i < 148; i++) {
		CU_ASSERT_EQUAL(p.m1[i], 0);
	}
	xf_noise_cookie_jar_fini(&p.jar);
}

static void
test_cookie(void)
{
	cookie_case(false);
	cookie_case(true);
}

/*
 * The jar bound to ipsec-mb answers as OpenSSL does: a message 1 with and without mac2,
 * each byte of it flipped in turn, under load and not; a jar bound to another static key
 * (whose prepared mac1 key is not ours) is not used for mac1; refused arguments.
 */
static void
test_macs_bound(void)
{
	static struct pair p;
	static struct xf_noise_cookie_jar plain, bound, wrong;
	uint8_t secret[32], cr[XF_NOISE_COOKIE_LEN_MSG], m[XF_NOISE_MSG1_LEN];

	fill(secret, sizeof(secret));
	memset(&plain, 0, sizeof(plain));
	memset(&bound, 0, sizeof(bound));
	memset(&wrong, 0, sizeof(wrong));
	xf_noise_cookie_jar_set(&plain, secret, 0);
	xf_noise_cookie_jar_set(&bound, secret, 0); /* before init: init prepares it */
	CU_ASSERT_EQUAL_FATAL(xf_noise_cookie_jar_init(&bound, &rstat), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_cookie_jar_init(&wrong, &other), 0);
	xf_noise_cookie_jar_set(&wrong, secret, 0); /* after init: set prepares it */
	CU_ASSERT_EQUAL(xf_noise_cookie_jar_init(NULL, &rstat), -EINVAL);
	CU_ASSERT_EQUAL(xf_noise_cookie_jar_init(&p.jar, NULL), -EINVAL);
	pair_init(&p, NULL, NULL);
	for (int with_mac2 = 0; with_mac2 < 2; with_mac2++) {
		CU_ASSERT_EQUAL_FATAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 5, NULL,
		                                        T0 + (uint64_t)with_mac2, SEC, NULL, 0, m),
		                      0);
		for (int load = 0; load < 2; load++) {
			int want = with_mac2 || !load ? 0 : -EAGAIN;

			CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &plain, m, sizeof(m), src, 6,
			                                    load, SEC),
			                want);
			CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &bound, m, sizeof(m), src, 6,
			                                    load, SEC),
			                want);
			CU_ASSERT_EQUAL(xf_noise_check_macs(&rstat, &wrong, m, sizeof(m), src, 6,
			                                    load, SEC),
			                want);
		}
		for (size_t i = 0; i < sizeof(m); i++) {
			for (int load = 0; load < 2; load++) {
				int a, b;

				m[i] ^= 0x40;
				a = xf_noise_check_macs(&rstat, &plain, m, sizeof(m), src, 6, load,
				                        SEC);
				b = xf_noise_check_macs(&rstat, &bound, m, sizeof(m), src, 6, load,
				                        SEC);
				m[i] ^= 0x40;
				CU_ASSERT_EQUAL(a, b);
				/* the bytes mac1 covers, and mac1 itself, fail; mac2 fails under
				 * load only */
				CU_ASSERT(a != 0 || (i >= 132 && !load));
			}
		}
		if (!with_mac2) {
			/* the cookie of the bound jar is the plain jar's: same secret, same src */
			CU_ASSERT_EQUAL(xf_noise_cookie_reply(&rstat, &bound, m, XF_NOISE_MSG1_LEN,
			                                      src, 6, NULL, SEC, cr),
			                0);
			CU_ASSERT_EQUAL(xf_noise_consume_cookie(&p.ih, cr, sizeof(cr), SEC), 0);
		}
	}
	xf_noise_hs_wipe(&p.ih);
	xf_noise_cookie_jar_fini(&bound);
	xf_noise_cookie_jar_fini(&wrong);
	CU_ASSERT(bound.mgr == NULL && !bound.mac1.ready); /* wiped */
}

static void
test_replay_window(void)
{
	static struct xf_replay w;

	memset(&w, 0, sizeof(w));
	CU_ASSERT_EQUAL(xf_replay_check(&w, 0), 0);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 1000000), 0);
	xf_replay_accept(&w, 5000);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000), -EALREADY);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 4999), 0);
	/* Window edges: top - (WINDOW - 1) is in, top - WINDOW is too old. */
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000 - (XF_REPLAY_WINDOW - 1)), 0);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000 - XF_REPLAY_WINDOW), -ESTALE);
	CU_ASSERT(XF_REPLAY_WINDOW >= 2048);
	/* Out of order inside the window, each once. */
	for (uint64_t pn = 5000 - 2047; pn < 5000; pn += 3) {
		CU_ASSERT_EQUAL_FATAL(xf_replay_check(&w, pn), 0);
		xf_replay_accept(&w, pn);
		CU_ASSERT_EQUAL_FATAL(xf_replay_check(&w, pn), -EALREADY);
	}
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000 - 2046), 0);
	/* A step of one word past the ring boundary keeps the recent bits. */
	xf_replay_accept(&w, 5000 + 64);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000), -EALREADY);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5001), 0);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000 - 2047), -EALREADY);
	/* Far ahead: the window jumps, everything new in it is unseen, the past is stale. */
	xf_replay_accept(&w, 1000000);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 5000), -ESTALE);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 1000000), -EALREADY);
	for (uint64_t pn = 1000000 - XF_REPLAY_WINDOW + 1; pn < 1000000; pn++) {
		CU_ASSERT_EQUAL_FATAL(xf_replay_check(&w, pn), 0);
	}
	/* Accepting a stale number changes nothing: its word now holds newer numbers. */
	CU_ASSERT_EQUAL(1000000 % 64, 0);
	xf_replay_accept(&w, 1000000 - XF_REPLAY_BITS + 1);
	xf_replay_accept(&w, 1000002);
	CU_ASSERT_EQUAL(xf_replay_check(&w, 1000001), 0);
	/* Near the top of the 64-bit space. */
	xf_replay_accept(&w, UINT64_MAX);
	CU_ASSERT_EQUAL(xf_replay_check(&w, UINT64_MAX), -EALREADY);
	CU_ASSERT_EQUAL(xf_replay_check(&w, UINT64_MAX - 1), 0);
}

/* Two ends of one session, from a handshake. */
struct ends {
	struct xf_secure a, b; /* a: initiator, b: responder */
};

static void
ends_init(struct ends *e, const struct xf_secure_limits *lim, uint64_t now)
{
	static struct pair p;

	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(run_handshake(&p, T0 + now), 0);
	CU_ASSERT_EQUAL_FATAL(xf_secure_init(&e->a, mgr, &p.ik, lim, now), 0);
	CU_ASSERT_EQUAL_FATAL(xf_secure_init(&e->b, mgr, &p.rk, lim, now), 0);
}

struct frame {
	uint8_t hdr[16];
	uint8_t body[64];
	uint8_t tag[16];
	uint64_t pn;
	uint8_t phase;
};

static int
send(struct xf_secure *s, uint64_t pn, uint64_t now, struct frame *f)
{
	f->pn = pn;
	f->phase = xf_secure_phase(s);
	memset(f->hdr, 0, sizeof(f->hdr));
	memcpy(f->hdr, &pn, sizeof(pn));
	f->hdr[8] = f->phase;
	for (unsigned int i = 0; i < sizeof(f->body); i++) {
		f->body[i] = (uint8_t)(pn + i);
	}
	return xf_secure_seal(s, mgr, pn, now, f->hdr, sizeof(f->hdr), f->body, sizeof(f->body),
	                      f->tag);
}

static int
recv(struct xf_secure *s, const struct frame *f, uint64_t now)
{
	struct frame c = *f;
	int rc = xf_secure_open(s, mgr, c.pn, c.phase, now, c.hdr, sizeof(c.hdr), c.body,
	                        sizeof(c.body), c.tag);

	if (rc == 0) {
		for (unsigned int i = 0; i < sizeof(c.body); i++) {
			if (c.body[i] != (uint8_t)(f->pn + i)) {
				return -EPROTO;
			}
		}
	}
	return rc;
}

static void
test_transport(void)
{
	static struct ends e;
	static struct frame f, g;

	ends_init(&e, NULL, 0);
	CU_ASSERT_EQUAL(send(&e.a, 1, 0, &f), 0);
	CU_ASSERT_NOT_EQUAL(f.body[1], 2); /* encrypted */
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), -EALREADY);
	CU_ASSERT_EQUAL(e.b.st.replayed, 1);
	/* The reverse direction has its own key: a's frame does not open at a. */
	CU_ASSERT_EQUAL(send(&e.a, 2, 0, &f), 0);
	CU_ASSERT_EQUAL(recv(&e.a, &f, 0), -EBADMSG);
	CU_ASSERT_EQUAL(send(&e.b, 1, 0, &g), 0);
	CU_ASSERT_EQUAL(recv(&e.a, &g, 0), 0);
	/* A forged frame does not advance the window: the genuine one still opens. */
	g = f;
	g.tag[0] ^= 1;
	CU_ASSERT_EQUAL(recv(&e.b, &g, 0), -EBADMSG);
	g = f;
	g.hdr[9] ^= 0x80;
	CU_ASSERT_EQUAL(recv(&e.b, &g, 0), -EBADMSG);
	g = f;
	g.pn = 1u << 20; /* a forged far-ahead number must not slide the window */
	CU_ASSERT_EQUAL(recv(&e.b, &g, 0), -EBADMSG);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), 0);
	CU_ASSERT_EQUAL(e.b.st.auth_failed, 3);
	CU_ASSERT_EQUAL(e.b.st.opened, 2);
	xf_secure_wipe(&e.a);
	xf_secure_wipe(&e.b);
}

static void
test_nonce_discipline(void)
{
	static struct ends e;
	static struct frame f;
	static uint64_t sealed[4096];
	struct xf_secure_limits lim;
	size_t n = 0;
	uint64_t pn = 0;

	xf_secure_limits_default(&lim);
	lim.key_update_frames = 100;
	ends_init(&e, &lim, 0);
	CU_ASSERT_EQUAL(send(&e.a, 10, 0, &f), 0);
	CU_ASSERT_EQUAL(send(&e.a, 10, 0, &f), -EINVAL);
	CU_ASSERT_EQUAL(send(&e.a, 9, 0, &f), -EINVAL);
	CU_ASSERT_EQUAL(e.a.st.nonce_refused, 2);
	pn = 10;
	/* A run with random gaps and key updates every 100 frames: every (phase epoch, pn)
	 * sealed is distinct, and the refusals are exactly the repeated numbers. */
	for (int i = 0; i < 2000; i++) {
		uint64_t step = xf_test_rand(&rng_state) % 4; /* 0 asks for a reused number */
		int rc;

		if (xf_secure_should_key_update(&e.a)) {
			/* The peer answers each update by sending (here: b replies). */
			CU_ASSERT_EQUAL_FATAL(xf_secure_key_update(&e.a), 0);
			CU_ASSERT_EQUAL_FATAL(send(&e.a, ++pn, 0, &f), 0);
			CU_ASSERT_EQUAL_FATAL(recv(&e.b, &f, 0), 0);
			CU_ASSERT_EQUAL_FATAL(send(&e.b, (uint64_t)i + 1, 0, &f), 0);
			CU_ASSERT_EQUAL_FATAL(recv(&e.a, &f, 0), 0);
			CU_ASSERT_EQUAL_FATAL(xf_secure_maintain(&e.a, mgr), 0);
			CU_ASSERT_EQUAL_FATAL(xf_secure_maintain(&e.b, mgr), 0);
		}
		rc = send(&e.a, pn + step, 0, &f);
		CU_ASSERT_EQUAL_FATAL(rc, step == 0 ? -EINVAL : 0);
		if (rc == 0) {
			pn += step;
			CU_ASSERT_EQUAL_FATAL(recv(&e.b, &f, 0), 0);
			if (n < sizeof(sealed) / sizeof(sealed[0])) {
				sealed[n++] = pn;
			}
		}
	}
	for (size_t i = 1; i < n; i++) {
		CU_ASSERT_FATAL(sealed[i] > sealed[i - 1]);
	}
	CU_ASSERT(e.a.st.key_updates_tx >= 10);
	CU_ASSERT_EQUAL(e.a.st.key_updates_tx, e.b.st.key_updates_rx);
	CU_ASSERT(e.a.st.nonce_refused > 2);
}

static void
test_key_update(void)
{
	static struct ends e;
	static struct frame old1, old2, f, g;

	ends_init(&e, NULL, 0);
	CU_ASSERT_EQUAL(send(&e.a, 1, 0, &f), 0);
	CU_ASSERT_EQUAL(send(&e.a, 2, 0, &old1), 0);
	CU_ASSERT_EQUAL(send(&e.a, 3, 0, &old2), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), 0);
	CU_ASSERT_EQUAL(xf_secure_phase(&e.a), 1);
	/* One at a time: no second update before the peer answers. */
	CU_ASSERT_EQUAL(xf_secure_maintain(&e.a, mgr), 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), -EAGAIN);
	CU_ASSERT_EQUAL(send(&e.a, 4, 0, &f), 0);
	CU_ASSERT_EQUAL(f.phase, 1);
	/* A forged phase-1 frame does not rotate b's keys. */
	g = f;
	g.tag[3] ^= 4;
	CU_ASSERT_EQUAL(recv(&e.b, &g, SEC), -EBADMSG);
	CU_ASSERT_EQUAL(e.b.rx.phase, 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, SEC), 0);
	CU_ASSERT_EQUAL(e.b.rx.phase, 1);
	/* b answers with its own update when it next builds a frame, not before. */
	CU_ASSERT_EQUAL(e.b.tx.phase, 0);
	/* Reordered frames of the old phase still open with the kept key... */
	CU_ASSERT_EQUAL(recv(&e.b, &old1, 2 * SEC), 0);
	/* ...and a replay stays a replay across the update. */
	CU_ASSERT_EQUAL(recv(&e.b, &old1, 2 * SEC), -EALREADY);
	f.phase = 0;
	CU_ASSERT_EQUAL(recv(&e.b, &f, 2 * SEC), -EALREADY);
	/* Once the old key is dropped (3 s after the update), old frames fail. */
	CU_ASSERT_EQUAL(recv(&e.b, &old2, SEC + XF_SECURE_PREV_KEY_NS), -EBADMSG);
	/* b's answer reaches a, and a may update again. */
	CU_ASSERT_EQUAL(send(&e.b, 1, 5 * SEC, &g), 0);
	CU_ASSERT_EQUAL(g.phase, 1);
	CU_ASSERT_EQUAL(recv(&e.a, &g, 5 * SEC), 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), 0);
	CU_ASSERT_EQUAL(send(&e.a, 5, 5 * SEC, &f), 0);
	CU_ASSERT_EQUAL(f.phase, 0);
	/* b has not prepared the key after its update yet: the frame cannot open (and does
	 * not use up its packet number); once b's maintenance ran, it opens. */
	CU_ASSERT_EQUAL(recv(&e.b, &f, 5 * SEC), -EBADMSG);
	CU_ASSERT_EQUAL(xf_secure_maintain(&e.b, mgr), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 5 * SEC), 0);
	CU_ASSERT_EQUAL(e.b.st.key_updates_rx, 2);
	/* b answers on its next frame; a opens it once its own maintenance has prepared
	 * the key after its last rotation, and only then may update again. */
	CU_ASSERT_EQUAL(send(&e.b, 2, 5 * SEC, &g), 0);
	CU_ASSERT_EQUAL(g.phase, 0);
	CU_ASSERT_EQUAL(recv(&e.a, &g, 5 * SEC), -EBADMSG);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), -EAGAIN);
	CU_ASSERT_EQUAL(xf_secure_maintain(&e.a, mgr), 0);
	CU_ASSERT_EQUAL(recv(&e.a, &g, 5 * SEC), 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), 0);
	CU_ASSERT_EQUAL(e.a.st.key_updates_tx, 3);
	CU_ASSERT_EQUAL(e.b.st.key_updates_tx, 2);
}

/* The fast paths never derive keys: an update needs the key xf_secure_maintain made. */
static void
test_maintain(void)
{
	static struct ends e;
	static struct frame f;

	ends_init(&e, NULL, 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), 0);
	CU_ASSERT_EQUAL(send(&e.a, 1, 0, &f), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), 0);
	CU_ASSERT_EQUAL(send(&e.b, 1, 0, &f), 0);
	CU_ASSERT_EQUAL(f.phase, 1);
	CU_ASSERT_EQUAL(recv(&e.a, &f, 0), 0);
	/* The peer has answered, but the key after the current one is not made yet. */
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), -EAGAIN);
	CU_ASSERT_EQUAL(xf_secure_maintain(&e.a, mgr), 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), 0);
	/* b has not made the key after its rotation yet: a's second update opens at b only
	 * once b's maintenance has run (and the failed try used up nothing). */
	CU_ASSERT_EQUAL(send(&e.a, 2, 0, &f), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), -EBADMSG);
	CU_ASSERT_EQUAL(xf_secure_maintain(&e.b, mgr), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 0), 0);
}

static void
test_limits(void)
{
	static struct ends e;
	static struct frame f;
	struct xf_secure_limits lim;

	xf_secure_limits_default(&lim);
	CU_ASSERT_EQUAL(lim.max_frames, 1u << 23);
	CU_ASSERT_EQUAL(lim.rekey_ns, 120 * SEC);
	CU_ASSERT_EQUAL(lim.reject_ns, 180 * SEC);
	lim.key_update_frames = 3;
	lim.max_frames = 5;
	ends_init(&e, &lim, 100 * SEC);
	for (uint64_t pn = 1; pn <= 5; pn++) {
		CU_ASSERT_EQUAL(xf_secure_should_key_update(&e.a), pn > 3);
		CU_ASSERT_EQUAL(send(&e.a, pn, 100 * SEC, &f), 0);
	}
	CU_ASSERT_EQUAL(send(&e.a, 6, 100 * SEC, &f), -ENOSPC);
	CU_ASSERT_EQUAL(xf_secure_key_update(&e.a), 0);
	CU_ASSERT_FALSE(xf_secure_should_key_update(&e.a));
	CU_ASSERT_EQUAL(send(&e.a, 6, 100 * SEC, &f), 0);
	CU_ASSERT_FALSE(xf_secure_should_rekey(&e.a, 219 * SEC));
	CU_ASSERT_TRUE(xf_secure_should_rekey(&e.a, 220 * SEC));
	CU_ASSERT_FALSE(xf_secure_key_expired(&e.a, 279 * SEC));
	CU_ASSERT_TRUE(xf_secure_key_expired(&e.a, 280 * SEC));
	CU_ASSERT_EQUAL(recv(&e.b, &f, 279 * SEC), 0);
	CU_ASSERT_EQUAL(send(&e.a, 7, 280 * SEC, &f), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(send(&e.a, 8, 279 * SEC, &f), 0);
	CU_ASSERT_EQUAL(recv(&e.b, &f, 280 * SEC), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(e.b.st.expired, 1);
}

static void
test_keys_and_wipe(void)
{
	uint8_t priv[32], pub[32], pub2[32];
	static struct xf_noise_hs hs;
	static const uint8_t zero[sizeof(hs)];

	CU_ASSERT_EQUAL(xf_noise_keygen(priv, pub), 0);
	CU_ASSERT_EQUAL(xf_noise_pubkey(priv, pub2), 0);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, 32), 0);
	memset(&hs, 0xA5, sizeof(hs));
	xf_noise_hs_wipe(&hs);
	CU_ASSERT_EQUAL(memcmp(&hs, zero, sizeof(hs)), 0);
	/* TAI64N orders as time, with the nanoseconds last. */
	{
		uint8_t a[12], b[12];

		xf_noise_tai64n(T0 + 999999999, a);
		xf_noise_tai64n(T0 + SEC, b);
		CU_ASSERT(memcmp(a, b, 12) < 0);
		CU_ASSERT_EQUAL(a[0], 0x40);
	}
}

static int
suite_init(void)
{
	uint8_t k[32];

	mgr = xf_crypto_mgr_create();
	fill(k, 32);
	if (mgr == NULL || xf_noise_static_init(&istat, k) != 0) {
		return 1;
	}
	fill(k, 32);
	if (xf_noise_static_init(&rstat, k) != 0) {
		return 1;
	}
	fill(k, 32);
	return xf_noise_static_init(&other, k) != 0;
}

static void
test_hs_load(void)
{
	struct xf_hs_load l;

	xf_hs_load_init(&l, 0);
	CU_ASSERT_EQUAL(l.limit, 1); /* a limit of 0 would mean always under load */
	xf_hs_load_init(&l, 4);
	/* Busy once the current window has counted the limit, and not before. */
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_FALSE(xf_hs_load_busy(&l, 10 + i));
		CU_ASSERT_EQUAL(xf_hs_load_until(&l), 0);
		xf_hs_load_note(&l);
	}
	CU_ASSERT_TRUE(xf_hs_load_busy(&l, SEC - 1));
	CU_ASSERT_EQUAL(xf_hs_load_until(&l), 10 + 2 * SEC);
	/* The budget of admissions on mac2: the limit per window. */
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_TRUE(xf_hs_load_admit_mac2(&l));
	}
	CU_ASSERT_FALSE(xf_hs_load_admit_mac2(&l));
	/* The next window starts busy (the one before reached the limit), with a new budget. */
	CU_ASSERT_TRUE(xf_hs_load_busy(&l, 10 + SEC));
	CU_ASSERT_EQUAL(xf_hs_load_until(&l), 10 + 2 * SEC);
	CU_ASSERT_TRUE(xf_hs_load_admit_mac2(&l));
	xf_hs_load_note(&l);
	/* One quiet window (1 < 4) and the load is over. */
	CU_ASSERT_FALSE(xf_hs_load_busy(&l, 10 + 2 * SEC));
	for (unsigned int i = 0; i < 4; i++) {
		xf_hs_load_note(&l);
	}
	/* A window that reached the limit, then silence longer than a window: not busy. */
	CU_ASSERT_TRUE(xf_hs_load_busy(&l, 10 + 3 * SEC - 1));
	CU_ASSERT_FALSE(xf_hs_load_busy(&l, 10 + 4 * SEC));
	CU_ASSERT_EQUAL(l.prev, 0);
}

/*
 * The initiator's side of a forged HELLO_ACK (docs/SECURITY.md 8.2): message 2 with the
 * genuine indexes, another ephemeral key and mac1 made again (keyed by the initiator's
 * public key: no secret) costs the initiator two X25519 before its tag fails, and leaves
 * the handshake able to take the genuine answer. What bounds it on the push's RX core is
 * xf_hs_budget: limit reads a window of one second, a new window after it.
 */
static void
test_answer_budget(void)
{
	static struct pair p;
	struct xf_hs_budget b = { 0 };
	uint8_t forged[XF_NOISE_MSG2_LEN], mac[32];
	unsigned int ml = 0;
	uint64_t dh;

	pair_init(&p, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 11, NULL, T0, 0, NULL, 0, p.m1), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_consume_initiation(&p.rh, &rstat, &p.rp, 1, &pro, p.m1,
	                                                  sizeof(p.m1), NULL),
	                      0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_respond(&p.rh, 22, NULL, p.m2, &p.rk), 0);
	memcpy(forged, p.m2, sizeof(forged));
	forged[12] ^= 1; /* the ephemeral key */
	CU_ASSERT_PTR_NOT_NULL_FATAL(HMAC(EVP_sha256(), istat.mac1_key, 32, forged, 60, mac, &ml));
	memcpy(forged + 60, mac, 16);
	dh = xf_noise_dh_ops();
	CU_ASSERT(xf_noise_consume_response(&p.ih, forged, sizeof(forged), &p.ik) < 0);
	CU_ASSERT_EQUAL(xf_noise_dh_ops() - dh, 2); /* ee, se: then the tag fails */
	/* A forgery without the right mac1 costs no DH. */
	forged[61] ^= 1;
	dh = xf_noise_dh_ops();
	CU_ASSERT(xf_noise_consume_response(&p.ih, forged, sizeof(forged), &p.ik) < 0);
	CU_ASSERT_EQUAL(xf_noise_dh_ops(), dh);
	CU_ASSERT_EQUAL(xf_noise_consume_response(&p.ih, p.m2, sizeof(p.m2), &p.ik), 0);
	CU_ASSERT_EQUAL(memcmp(p.ik.send, p.rk.recv, 32), 0);
	/* The budget: 3 a window, the window from the first take. */
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_TRUE(xf_hs_budget_take(&b, 3, 5 * SEC + i));
	}
	CU_ASSERT_FALSE(xf_hs_budget_take(&b, 3, 5 * SEC + 10));
	CU_ASSERT_FALSE(xf_hs_budget_take(&b, 3, 6 * SEC - 1));
	CU_ASSERT_TRUE(xf_hs_budget_take(&b, 3, 6 * SEC)); /* a new window */
	CU_ASSERT_EQUAL(b.start_ns, 6 * SEC);
	CU_ASSERT_EQUAL(b.used, 1);
	CU_ASSERT_FALSE(xf_hs_budget_take(&b, 0, 9 * SEC)); /* none at all */
}

/*
 * A flood judged as eng_secure_hello_gate judges it: mac1 first, then under load mac2
 * or a cookie reply, and the mac2 budget. @return 0 (DH work), -EBADMSG, -EAGAIN (a
 * cookie reply written to cr), -EBUSY.
 */
static int
gate(struct xf_hs_load *l, struct xf_noise_cookie_jar *jar, const uint8_t *m1, const uint8_t *from,
     uint64_t now, uint8_t *cr)
{
	bool busy = xf_hs_load_busy(l, now);
	int rc = xf_noise_check_macs(&rstat, jar, m1, XF_NOISE_MSG1_LEN, from, 6, busy, now);

	if (rc < 0 && rc != -EAGAIN) {
		return rc;
	}
	xf_hs_load_note(l);
	if (rc == -EAGAIN) {
		CU_ASSERT_EQUAL(xf_noise_cookie_reply(&rstat, jar, m1, XF_NOISE_MSG1_LEN, from, 6,
		                                      NULL, now, cr),
		                0);
		return rc;
	}
	return busy && !xf_hs_load_admit_mac2(l) ? -EBUSY : 0;
}

static void
test_flood(void)
{
	static struct pair p, flood;
	const uint8_t fsrc[6] = { 10, 0, 0, 4, 0x12, 0x34 };
	uint8_t cr[XF_NOISE_COOKIE_LEN_MSG], bad[XF_NOISE_MSG1_LEN];
	struct xf_hs_load l;
	unsigned int dh = 0, cookies = 0, bad_mac = 0, rate = 0;
	int rc;

	xf_hs_load_init(&l, 8);
	pair_init(&p, NULL, NULL);
	pair_init(&flood, NULL, NULL);
	/* A flood: 2,000 HELLOs in 2 s, each with a valid mac1 (our public key is public),
	 * every tenth one with a wrong mac1. Only the onset costs DH work. */
	CU_ASSERT_EQUAL(xf_noise_initiate(&flood.ih, &other, &flood.ip, &pro, 9, NULL, T0, 0, NULL,
	                                  0, flood.m1),
	                0);
	memcpy(bad, flood.m1, sizeof(bad));
	bad[120] ^= 1;
	for (unsigned int i = 0; i < 2000; i++) {
		rc = gate(&l, &flood.jar, i % 10 == 9 ? bad : flood.m1, fsrc, i * SEC / 1000, cr);
		dh += rc == 0;
		cookies += rc == -EAGAIN;
		bad_mac += rc == -EBADMSG;
	}
	CU_ASSERT_EQUAL(dh, 8);
	CU_ASSERT_EQUAL(bad_mac, 200);
	CU_ASSERT_EQUAL(cookies, 2000 - 200 - 8);
	/* The flooder's cookie, bound to its address, does not help a HELLO from another
	 * source; the legitimate initiator gets its own cookie and gets through. */
	CU_ASSERT_EQUAL(
	        xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 7, NULL, T0, 2 * SEC, NULL, 0, p.m1),
	        0);
	CU_ASSERT_EQUAL(gate(&l, &flood.jar, p.m1, src, 2 * SEC, cr), -EAGAIN);
	CU_ASSERT_EQUAL(xf_noise_consume_cookie(&p.ih, cr, sizeof(cr), 2 * SEC), 0);
	CU_ASSERT_EQUAL(xf_noise_initiate(&p.ih, &istat, &p.ip, &pro, 7, NULL, T0 + 1, 2 * SEC + 1,
	                                  NULL, 0, p.m1),
	                0);
	CU_ASSERT_EQUAL(gate(&l, &flood.jar, p.m1, fsrc, 2 * SEC + 2, cr), -EAGAIN);
	CU_ASSERT_EQUAL(gate(&l, &flood.jar, p.m1, src, 2 * SEC + 3, cr), 0);
	CU_ASSERT_EQUAL(responder_takes(&p, p.m1, false), 0);
	/* Admissions on mac2 are bounded too: a sender replaying that HELLO (valid mac2)
	 * gets DH work for at most the limit per second (then the timestamp refuses it). */
	for (unsigned int i = 0; i < 20; i++) {
		rc = gate(&l, &flood.jar, p.m1, src, 2 * SEC + 4 + i, cr);
		dh += rc == 0;
		rate += rc == -EBUSY;
	}
	CU_ASSERT_EQUAL(dh, 8 + 7);
	CU_ASSERT_EQUAL(rate, 20 - 7);
	/* The flood over, a window later the core is no longer under load. */
	CU_ASSERT_TRUE(xf_hs_load_busy(&l, 3 * SEC + 5));
	CU_ASSERT_FALSE(xf_hs_load_busy(&l, 4 * SEC + 6));
}

static int
suite_clean(void)
{
	xf_crypto_mgr_free(mgr);
	return 0;
}

static const struct xf_test tests[] = {
	{ "handshake", test_handshake },
	{ "wrong_static", test_wrong_static },
	{ "wrong_psk", test_wrong_psk },
	{ "prologue_mismatch", test_prologue_mismatch },
	{ "prologue options (the deletion limit) bound", test_prologue_options },
	{ "payload: the destination field in message 1", test_payload },
	{ "payload changed on the way: refused", test_payload_tampered },
	{ "replayed_initiation", test_replayed_initiation },
	{ "bit_flips", test_bit_flips },
	{ "low_order_keys", test_low_order_keys },
	{ "cookie", test_cookie },
	{ "macs_bound", test_macs_bound },
	{ "hs_load", test_hs_load },
	{ "answer_budget: a forged message 2 costs two DH, bounded", test_answer_budget },
	{ "flood", test_flood },
	{ "replay_window", test_replay_window },
	{ "transport", test_transport },
	{ "nonce_discipline", test_nonce_discipline },
	{ "key_update", test_key_update },
	{ "maintain", test_maintain },
	{ "limits", test_limits },
	{ "keys_and_wipe", test_keys_and_wipe },
};

int
main(void)
{
	return xf_test_main("secure", suite_init, suite_clean, XF_TESTS(tests));
}
