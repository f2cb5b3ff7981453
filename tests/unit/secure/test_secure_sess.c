/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure/xf_secure_sess.c: a session's keys across handshakes (docs/SECURITY.md
 * 6), driven as the engine drives them: whole frames sealed with their epoch bit, a new
 * handshake's keys taken by the initiator when the answer verifies and by the responder
 * at the initiator's first frame under them, the old keys kept for reordered frames for
 * their window and no longer, keys refused at their age limit, and key updates (the
 * phase bit) inside each handshake's keys.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/crypto.h>

#include "xf_test.h"

#include "xf_proto.h"
#include "xf_secure_frame.h"
#include "xf_secure_sess.h"

#define SEC 1000000000ull

static struct xf_crypto_mgr *mgr;
static struct xf_noise_static is, rs;
static struct xf_noise_peer ip, rp; /* the responder as the initiator knows it, and back */
static struct xf_secure_limits lim;

static int
suite_init(void)
{
	uint8_t ipriv[32], rpriv[32], pub[32];

	mgr = xf_crypto_mgr_create();
	if (mgr == NULL || xf_noise_keygen(ipriv, pub) != 0 || xf_noise_keygen(rpriv, pub) != 0 ||
	    xf_noise_static_init(&is, ipriv) != 0) {
		return 1;
	}
	xf_secure_limits_default(&lim);
	lim.rekey_ns = 2 * SEC;
	lim.reject_ns = 6 * SEC;
	lim.prev_key_ns = 1 * SEC;
	lim.key_update_frames = 4;
	return xf_noise_static_init(&rs, rpriv) != 0 ||
	       xf_noise_peer_init(&ip, rs.pub, NULL) != 0 ||
	       xf_noise_peer_init(&rp, is.pub, NULL) != 0;
}

static int
suite_clean(void)
{
	xf_crypto_mgr_free(mgr);
	return 0;
}

/* One handshake at wall time unix_s (each later than the last: the timestamp rule). */
static void
handshake(uint64_t unix_s, struct xf_noise_keys *ik, struct xf_noise_keys *rk)
{
	struct xf_noise_prologue pro = { .version = XF_PROTO_VERSION, .capabilities = 2 };
	struct xf_noise_hs ih, rh;
	uint8_t m1[XF_NOISE_MSG1_LEN], m2[XF_NOISE_MSG2_LEN];

	CU_ASSERT_EQUAL_FATAL(
	        xf_noise_initiate(&ih, &is, &ip, &pro, 7, NULL, unix_s * SEC, 0, NULL, 0, m1), 0);
	CU_ASSERT_EQUAL_FATAL(
	        xf_noise_consume_initiation(&rh, &rs, &rp, 1, &pro, m1, sizeof(m1), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_respond(&rh, 7, NULL, m2, rk), 0);
	CU_ASSERT_EQUAL_FATAL(xf_noise_consume_response(&ih, m2, sizeof(m2), ik), 0);
}

/* A PING numbered pn, sealed under s with the given epoch bit. @return its length. */
static int
seal_with(struct xf_secure *s, uint8_t epoch, uint8_t *buf, uint64_t pn, uint64_t now)
{
	struct xf_msg m = { .hdr = { .type = XF_MSG_PING, .session = 7, .pn = pn } };
	int len = xf_proto_encode(buf, 256, &m);

	CU_ASSERT_FATAL(len > 0);
	if (epoch) {
		buf[5] |= XF_HDR_F_KEY_EPOCH;
	}
	return xf_secure_frame_seal(s, mgr, buf, (size_t)len, now);
}

/* The same under ss's current keys and epoch. */
static int
seal(struct xf_secure_sess *ss, uint8_t *buf, uint64_t pn, uint64_t now)
{
	return seal_with(&ss->cur, ss->epoch, buf, pn, now);
}

/* Open as the engine does: keys by the epoch bit, then the switch a first frame under
 * next makes. @return the plaintext length or a negative errno (-ENOKEY: no keys). */
static int
open_frame(struct xf_secure_sess *ss, uint8_t *buf, int len, uint64_t now, bool *switched)
{
	struct xf_secure *k = xf_secure_sess_rx_keys(ss, (buf[5] & XF_HDR_F_KEY_EPOCH) != 0, now);
	int rc;

	if (k == NULL) {
		return -ENOKEY;
	}
	rc = xf_secure_frame_open(k, mgr, buf, (size_t)len, now);
	if (rc >= 0) {
		bool sw = xf_secure_sess_opened(ss, k, now);

		if (switched != NULL) {
			*switched = sw;
		}
	}
	return rc;
}

static void
pair(struct xf_secure_sess *ini, struct xf_secure_sess *res, uint64_t unix_s, uint64_t now)
{
	struct xf_noise_keys ik, rk;

	handshake(unix_s, &ik, &rk);
	CU_ASSERT_EQUAL_FATAL(xf_secure_sess_init(ini, mgr, &ik, &lim, now), 0);
	CU_ASSERT_EQUAL_FATAL(xf_secure_sess_init(res, mgr, &rk, &lim, now), 0);
}

/*
 * A new handshake mid-session: the responder holds the new keys unused (still seals
 * under the old), the initiator switches when the answer verifies under them, the
 * responder when the initiator's first frame does; frames sealed under the old keys and
 * received after the switch (reordered) open for prev_key_ns and then no longer.
 */
static void
test_rekey_switch(void)
{
	static struct xf_secure_sess ini, res;
	struct xf_noise_keys ik, rk;
	uint8_t a[256], late[256];
	int n, late_n;
	bool sw = false;
	uint64_t t = 2 * SEC;

	pair(&ini, &res, 1000, 0);
	CU_ASSERT_FALSE(xf_secure_sess_should_rekey(&ini, t - 1));
	CU_ASSERT_TRUE(xf_secure_sess_should_rekey(&ini, t));
	handshake(1001, &ik, &rk);
	/* Responder: next held, still seals under cur (epoch 0). */
	CU_ASSERT_EQUAL(xf_secure_sess_offer(&res, mgr, &rk, &lim, t), 0);
	late_n = seal(&res, late, 50, t);
	CU_ASSERT_FATAL(late_n > 0);
	CU_ASSERT_EQUAL(late[5] & XF_HDR_F_KEY_EPOCH, 0);
	/* Its answer, sealed under next (epoch 1), switches the initiator. */
	n = seal_with(&res.next, xf_secure_sess_next_epoch(&res), a, 51, t);
	CU_ASSERT_EQUAL(xf_secure_sess_offer(&ini, mgr, &ik, &lim, t), 0);
	CU_ASSERT_EQUAL(xf_secure_frame_open(&ini.next, mgr, a, (size_t)n, t), n - 16);
	xf_secure_sess_switch(&ini, t);
	CU_ASSERT_EQUAL(ini.epoch, 1);
	CU_ASSERT_EQUAL(ini.rekeys, 1u);
	CU_ASSERT_FALSE(xf_secure_sess_should_rekey(&ini, t + 1));
	/* The initiator's first frame under the new keys switches the responder. */
	n = seal(&ini, a, 10, t);
	CU_ASSERT((a[5] & XF_HDR_F_KEY_EPOCH) != 0);
	CU_ASSERT_EQUAL(open_frame(&res, a, n, t, &sw), n - 16);
	CU_ASSERT_TRUE(sw);
	CU_ASSERT_EQUAL(res.epoch, 1);
	CU_ASSERT_FALSE(res.has_next);
	/* Both now seal and open under the new keys. */
	n = seal(&res, a, 52, t);
	CU_ASSERT((a[5] & XF_HDR_F_KEY_EPOCH) != 0);
	CU_ASSERT_EQUAL(open_frame(&ini, a, n, t, &sw), n - 16);
	CU_ASSERT_FALSE(sw);
	/* The frame sealed under the old keys before the switch, reordered: it opens under
	 * prev while prev is kept; a copy of it after the window has no keys. */
	memcpy(a, late, (size_t)late_n);
	CU_ASSERT_EQUAL(open_frame(&ini, late, late_n, t + lim.prev_key_ns - 1, NULL), late_n - 16);
	CU_ASSERT_EQUAL(open_frame(&ini, a, late_n, t + lim.prev_key_ns, NULL), -ENOKEY);
	CU_ASSERT_FALSE(ini.has_prev);
	xf_secure_sess_wipe(&ini);
	xf_secure_sess_wipe(&res);
}

/* The epoch bit is authenticated, and a frame of an epoch without keys opens nothing. */
static void
test_epoch_forged(void)
{
	static struct xf_secure_sess ini, res;
	uint8_t a[256];
	int n;

	pair(&ini, &res, 2000, 0);
	n = seal(&ini, a, 1, SEC);
	a[5] ^= XF_HDR_F_KEY_EPOCH; /* no next, no prev: nothing to try */
	CU_ASSERT_EQUAL(open_frame(&res, a, n, SEC, NULL), -ENOKEY);
	a[5] ^= XF_HDR_F_KEY_EPOCH;
	CU_ASSERT_EQUAL(open_frame(&res, a, n, SEC, NULL), n - 16);
	/* With next held, a frame whose bit was flipped to next's is tried there and fails:
	 * the switch does not happen. */
	{
		struct xf_noise_keys ik, rk;

		handshake(2001, &ik, &rk);
		CU_ASSERT_EQUAL(xf_secure_sess_offer(&res, mgr, &rk, &lim, SEC), 0);
		n = seal(&ini, a, 2, SEC);
		a[5] ^= XF_HDR_F_KEY_EPOCH;
		CU_ASSERT_EQUAL(open_frame(&res, a, n, SEC, NULL), -EBADMSG);
		CU_ASSERT_TRUE(res.has_next);
		CU_ASSERT_EQUAL(res.epoch, 0);
		OPENSSL_cleanse(&ik, sizeof(ik));
		OPENSSL_cleanse(&rk, sizeof(rk));
	}
	xf_secure_sess_wipe(&ini);
	xf_secure_sess_wipe(&res);
}

/*
 * Keys are refused at reject_ns (both ways), and a new handshake's keys start their own
 * clock: a session that renews them in time never reaches the limit.
 */
static void
test_expiry(void)
{
	static struct xf_secure_sess ini, res;
	struct xf_noise_keys ik, rk;
	uint8_t a[256];
	int n;

	pair(&ini, &res, 3000, 0);
	n = seal(&ini, a, 1, lim.reject_ns - 1);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(open_frame(&res, a, n, lim.reject_ns, NULL), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(seal(&ini, a, 2, lim.reject_ns), -EKEYEXPIRED);
	/* Renewed at 5 s: the new keys work until 5 s + reject_ns. */
	handshake(3001, &ik, &rk);
	CU_ASSERT_EQUAL(xf_secure_sess_offer(&ini, mgr, &ik, &lim, 5 * SEC), 0);
	xf_secure_sess_switch(&ini, 5 * SEC);
	CU_ASSERT_EQUAL(xf_secure_sess_offer(&res, mgr, &rk, &lim, 5 * SEC), 0);
	n = seal(&ini, a, 3, 5 * SEC + lim.reject_ns - 1);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(open_frame(&res, a, n, 5 * SEC + lim.reject_ns - 1, NULL), n - 16);
	CU_ASSERT_EQUAL(res.epoch, 1);
	CU_ASSERT_EQUAL(seal(&ini, a, 4, 5 * SEC + lim.reject_ns), -EKEYEXPIRED);
	xf_secure_sess_wipe(&ini);
	xf_secure_sess_wipe(&res);
}

/*
 * Key updates (the phase bit, every key_update_frames frames) inside each handshake's
 * keys, across a new handshake: the counts add up, and packet numbers simply go on.
 */
static void
test_key_updates_across_rekey(void)
{
	static struct xf_secure_sess ini, res;
	struct xf_noise_keys ik, rk;
	uint8_t a[256];
	uint64_t pn = 1;
	int n;

	pair(&ini, &res, 4000, 0);
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < 3 * lim.key_update_frames; i++) {
			if (xf_secure_should_key_update(&ini.cur)) {
				CU_ASSERT_EQUAL(xf_secure_key_update(&ini.cur), 0);
			}
			n = seal(&ini, a, pn++, SEC);
			CU_ASSERT_EQUAL_FATAL(open_frame(&res, a, n, SEC, NULL), n - 16);
			/* the responder answers each update; both derive the keys after it */
			n = seal(&res, a, pn++, SEC);
			CU_ASSERT_EQUAL_FATAL(open_frame(&ini, a, n, SEC, NULL), n - 16);
			CU_ASSERT_EQUAL(xf_secure_maintain(&ini.cur, mgr), 0);
			CU_ASSERT_EQUAL(xf_secure_maintain(&res.cur, mgr), 0);
		}
		if (round == 0) {
			handshake(4001, &ik, &rk);
			CU_ASSERT_EQUAL(xf_secure_sess_offer(&res, mgr, &rk, &lim, SEC), 0);
			CU_ASSERT_EQUAL(xf_secure_sess_offer(&ini, mgr, &ik, &lim, SEC), 0);
			xf_secure_sess_switch(&ini, SEC);
		}
	}
	CU_ASSERT_EQUAL(ini.rekeys, 1u);
	CU_ASSERT_EQUAL(res.rekeys, 1u);
	/* two updates sent per round (at 4 and 8 frames of 12), each answered */
	CU_ASSERT_EQUAL(xf_secure_sess_key_updates(&ini), 8u);
	CU_ASSERT_EQUAL(xf_secure_sess_key_updates(&res), 8u);
	CU_ASSERT_EQUAL(ini.cur.st.nonce_refused + res.cur.st.nonce_refused, 0u);
	xf_secure_sess_wipe(&ini);
	xf_secure_sess_wipe(&res);
}

static const struct xf_test tests[] = {
	{ "rekey_switch", test_rekey_switch },
	{ "epoch_forged", test_epoch_forged },
	{ "expiry", test_expiry },
	{ "key_updates_across_rekey", test_key_updates_across_rekey },
};

int
main(void)
{
	return xf_test_main("secure-sess", suite_init, suite_clean, XF_TESTS(tests));
}
