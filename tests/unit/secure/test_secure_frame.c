/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure/xf_secure_frame.c: whole protocol frames sealed and opened as the
 * engine does (docs/SECURITY.md 4). The codec accepts what opens; every flipped byte of
 * header, payload or tag is refused without advancing the replay window; a HELLO_ACK is
 * authenticated but readable; a packet number is never sealed twice.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_proto.h"
#include "xf_secure_frame.h"

#define SEC 1000000000ull

static struct xf_crypto_mgr *mgr;
static struct xf_secure ini, res; /* the two ends of one session */
static uint64_t rng_state = 0x5eed;

static int
suite_init(void)
{
	struct xf_noise_static is, rs;
	struct xf_noise_peer ip, rp;
	struct xf_noise_hs ih, rh;
	struct xf_noise_keys ik, rk;
	struct xf_noise_prologue pro = { .version = XF_PROTO_VERSION, .capabilities = 2 };
	struct xf_noise_cookie_jar jar = { 0 };
	uint8_t k[32], m1[XF_NOISE_MSG1_LEN], m2[XF_NOISE_MSG2_LEN];

	mgr = xf_crypto_mgr_create();
	for (unsigned int i = 0; i < 32; i++) {
		k[i] = (uint8_t)xf_test_rand(&rng_state);
	}
	if (mgr == NULL || xf_noise_static_init(&is, k) != 0) {
		return 1;
	}
	k[0] ^= 0x55;
	if (xf_noise_static_init(&rs, k) != 0 || xf_noise_peer_init(&ip, rs.pub, NULL) != 0 ||
	    xf_noise_peer_init(&rp, is.pub, NULL) != 0) {
		return 1;
	}
	if (xf_noise_initiate(&ih, &is, &ip, &pro, 1, NULL, 1000 * SEC, 0, NULL, 0, m1) != 0 ||
	    xf_noise_check_macs(&rs, &jar, m1, sizeof(m1), k, 6, false, 0) != 0 ||
	    xf_noise_consume_initiation(&rh, &rs, &rp, 1, &pro, m1, sizeof(m1), NULL) != 0 ||
	    xf_noise_respond(&rh, 2, NULL, m2, &rk) != 0 ||
	    xf_noise_consume_response(&ih, m2, sizeof(m2), &ik) != 0) {
		return 1;
	}
	return xf_secure_init(&ini, mgr, &ik, NULL, 0) != 0 ||
	       xf_secure_init(&res, mgr, &rk, NULL, 0) != 0;
}

static int
suite_clean(void)
{
	xf_secure_wipe(&ini);
	xf_secure_wipe(&res);
	xf_crypto_mgr_free(mgr);
	return 0;
}

/* A DATA frame of n bytes numbered pn, encoded by the codec. @return its length. */
static int
data_frame(uint8_t *buf, size_t cap, uint64_t pn, unsigned int n)
{
	uint8_t bytes[1024];
	struct xf_msg m = { .hdr = { .type = XF_MSG_DATA, .session = 7, .pn = pn } };

	for (unsigned int i = 0; i < n; i++) {
		bytes[i] = (uint8_t)(i * 7 + pn);
	}
	m.data.file = 3;
	m.data.offset = 4096;
	m.data.bytes = bytes;
	m.data.len = n;
	return xf_proto_encode(buf, cap, &m);
}

static void
test_round_trip(void)
{
	uint8_t plain[2048], buf[2048];
	struct xf_msg m;
	enum xf_proto_reason why;
	int len = data_frame(plain, 2000, 100, 1000);
	int sealed;

	CU_ASSERT_FATAL(len > 0);
	memcpy(buf, plain, (size_t)len);
	sealed = xf_secure_frame_seal(&ini, mgr, buf, (size_t)len, SEC);
	CU_ASSERT_EQUAL_FATAL(sealed, len + (int)XF_SECURE_FRAME_OVERHEAD);
	/* The header is in clear, with len counting the tag; the payload is not. */
	CU_ASSERT_EQUAL(memcmp(buf, plain, 6), 0);
	CU_ASSERT_EQUAL(buf[6] << 8 | buf[7], sealed - (int)XF_HDR_LEN);
	CU_ASSERT_NOT_EQUAL(memcmp(buf + XF_HDR_LEN, plain + XF_HDR_LEN, 64), 0);
	/* The codec refuses the sealed frame (its length, or its bytes), accepts the opened. */
	CU_ASSERT(xf_proto_decode(buf, (size_t)sealed, &m, &why) < 0);
	CU_ASSERT_EQUAL(xf_secure_frame_open(&res, mgr, buf, (size_t)sealed, SEC), len);
	CU_ASSERT_EQUAL(memcmp(buf, plain, (size_t)len), 0);
	CU_ASSERT_EQUAL(xf_proto_decode(buf, (size_t)len, &m, &why), 0);
	CU_ASSERT_EQUAL(m.data.len, 1000u);
}

/* A frame kept for retransmission is sealed into another buffer: it stays plaintext, and
 * what was sealed opens to it. */
static void
test_seal_to(void)
{
	uint8_t plain[2048], kept[2048], out[2048];
	int len = data_frame(plain, 2000, 150, 1000);
	int sealed;

	CU_ASSERT_FATAL(len > 0);
	memcpy(kept, plain, (size_t)len);
	memset(out, 0xa5, sizeof(out));
	sealed = xf_secure_frame_seal_to(&ini, mgr, kept, out, (size_t)len, SEC);
	CU_ASSERT_EQUAL_FATAL(sealed, len + (int)XF_SECURE_FRAME_OVERHEAD);
	CU_ASSERT_EQUAL(memcmp(kept, plain, (size_t)len), 0);
	CU_ASSERT_EQUAL(out[6] << 8 | out[7], sealed - (int)XF_HDR_LEN);
	CU_ASSERT_NOT_EQUAL(memcmp(out + XF_HDR_LEN, plain + XF_HDR_LEN, 64), 0);
	CU_ASSERT_EQUAL(xf_secure_frame_open(&res, mgr, out, (size_t)sealed, SEC), len);
	CU_ASSERT_EQUAL(memcmp(out, plain, (size_t)len), 0);
	/* The same packet number again is refused, out of place too. */
	CU_ASSERT_EQUAL(xf_secure_frame_seal_to(&ini, mgr, kept, out, (size_t)len, SEC), -EINVAL);
}

static void
test_every_byte_flipped(void)
{
	uint8_t orig[512], buf[512];
	int len = data_frame(orig, 400, 200, 300);
	int sealed = xf_secure_frame_seal(&ini, mgr, orig, (size_t)len, SEC);
	uint64_t failed = res.st.auth_failed;

	CU_ASSERT_FATAL(sealed > 0);
	for (int i = 0; i < sealed; i++) {
		memcpy(buf, orig, (size_t)sealed);
		buf[i] ^= (uint8_t)(1u << (i % 8));
		CU_ASSERT_TRUE(xf_secure_frame_open(&res, mgr, buf, (size_t)sealed, SEC) < 0);
		/* Opening failed: the plaintext is not given out. */
		CU_ASSERT_NOT_EQUAL(memcmp(buf + XF_HDR_LEN, orig + XF_HDR_LEN, 16), 0);
	}
	/* Flipping bytes 16..23 changes the packet number: those may fail as stale or as a
	 * duplicate before the tag is tried; every other flip is a tag failure. */
	CU_ASSERT(res.st.auth_failed - failed >= (uint64_t)sealed - 8);
	/* None of them moved the replay window: the genuine frame opens, once. */
	memcpy(buf, orig, (size_t)sealed);
	CU_ASSERT_EQUAL(xf_secure_frame_open(&res, mgr, buf, (size_t)sealed, SEC), len);
	memcpy(buf, orig, (size_t)sealed);
	CU_ASSERT_EQUAL(xf_secure_frame_open(&res, mgr, buf, (size_t)sealed, SEC), -EALREADY);
	/* Shorter than a header and a tag. */
	CU_ASSERT_EQUAL(xf_secure_frame_open(&res, mgr, buf, XF_HDR_LEN + 15, SEC), -EBADMSG);
}

static void
test_hello_ack_readable(void)
{
	uint8_t auth[XF_HELLO_ACK_AUTH_LEN], buf[512], copy[512];
	struct xf_msg m = { .hdr = { .type = XF_MSG_HELLO_ACK, .session = 7, .pn = 300 } };
	enum xf_proto_reason why;
	int len, sealed;

	memset(auth, 0xa5, sizeof(auth));
	m.hello.min_version = m.hello.max_version = XF_PROTO_VERSION;
	m.hello.max_payload = 1400;
	m.hello.window = 8;
	/* with its volume's ask for compressed DATA (docs/PROTOCOL.md 6.16) */
	m.hello.flags = XF_HELLO_F_AEAD | XF_HELLO_F_COMPRESS;
	m.hello.auth = auth;
	m.hello.auth_len = sizeof(auth);
	len = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(len == (int)(XF_HDR_LEN + 28 + XF_HELLO_ACK_AUTH_LEN));
	sealed = xf_secure_frame_seal(&res, mgr, buf, (size_t)len, SEC);
	CU_ASSERT_EQUAL_FATAL(sealed, len + (int)XF_SECURE_FRAME_OVERHEAD);
	/* Message 2 must be readable before the keys exist: nothing is encrypted. */
	CU_ASSERT_EQUAL(memcmp(buf + len - XF_HELLO_ACK_AUTH_LEN, auth, sizeof(auth)), 0);
	memcpy(copy, buf, (size_t)sealed);
	copy[XF_HDR_LEN + 10] ^= 1; /* the window */
	CU_ASSERT_EQUAL(xf_secure_frame_open(&ini, mgr, copy, (size_t)sealed, SEC), -EBADMSG);
	/* The ask cleared on the path (flags, big-endian at 12: bit 8 in byte 14), or added
	 * to one without it, fails the tag: nobody on the path turns compression off or on. */
	memcpy(copy, buf, (size_t)sealed);
	copy[XF_HDR_LEN + 14] ^= XF_HELLO_F_COMPRESS >> 8;
	CU_ASSERT_EQUAL(xf_secure_frame_open(&ini, mgr, copy, (size_t)sealed, SEC), -EBADMSG);
	CU_ASSERT_EQUAL(xf_secure_frame_open(&ini, mgr, buf, (size_t)sealed, SEC), len);
	CU_ASSERT_EQUAL(xf_proto_decode(buf, (size_t)len, &m, &why), 0);
	CU_ASSERT_EQUAL(m.hello.flags, XF_HELLO_F_AEAD | XF_HELLO_F_COMPRESS);
	CU_ASSERT_EQUAL(m.hello.window, 8u);
	CU_ASSERT_EQUAL(m.hello.auth_len, XF_HELLO_ACK_AUTH_LEN);
}

static void
test_pn_never_sealed_twice(void)
{
	uint8_t buf[512];
	int len = data_frame(buf, 400, 1000, 100);
	uint64_t refused = ini.st.nonce_refused;

	CU_ASSERT(xf_secure_frame_seal(&ini, mgr, buf, (size_t)len, SEC) > 0);
	len = data_frame(buf, 400, 1000, 100);
	CU_ASSERT_EQUAL(xf_secure_frame_seal(&ini, mgr, buf, (size_t)len, SEC), -EINVAL);
	len = data_frame(buf, 400, 999, 100);
	CU_ASSERT_EQUAL(xf_secure_frame_seal(&ini, mgr, buf, (size_t)len, SEC), -EINVAL);
	CU_ASSERT_EQUAL(ini.st.nonce_refused - refused, 2u);
}

static void
test_key_phase_bit(void)
{
	uint8_t buf[512];
	int len, sealed;

	CU_ASSERT_EQUAL(xf_secure_maintain(&ini, mgr), 0);
	CU_ASSERT_EQUAL(xf_secure_key_update(&ini), 0);
	len = data_frame(buf, 400, 2000, 64);
	sealed = xf_secure_frame_seal(&ini, mgr, buf, (size_t)len, SEC);
	CU_ASSERT_FATAL(sealed > 0);
	CU_ASSERT((buf[5] & XF_HDR_F_KEY_PHASE) != 0);
	/* The receiver opens it with its next key, and the codec sees the bit cleared. */
	CU_ASSERT_EQUAL(xf_secure_frame_open(&res, mgr, buf, (size_t)sealed, SEC), len);
	CU_ASSERT_EQUAL(buf[5] & XF_HDR_F_KEY_PHASE, 0);
	CU_ASSERT_EQUAL(res.st.key_updates_rx, 1u);
}

static const struct xf_test tests[] = {
	{ "round_trip", test_round_trip },
	{ "seal_to", test_seal_to },
	{ "every_byte_flipped", test_every_byte_flipped },
	{ "hello_ack_readable", test_hello_ack_readable },
	{ "pn_never_sealed_twice", test_pn_never_sealed_twice },
	{ "key_phase_bit", test_key_phase_bit },
};

int
main(void)
{
	return xf_test_main("secure-frame", suite_init, suite_clean, XF_TESTS(tests));
}
