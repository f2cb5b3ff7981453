/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_crypto (AES-256-GCM on intel-ipsec-mb):
 * - known answers: test cases 13 to 16 of "The Galois/Counter Mode of Operation (GCM)"
 *   (McGrew and Viega, the AES-256 cases of the specification's appendix B);
 * - cross-check against OpenSSL 3.0 EVP aes-256-gcm on random keys, IVs, packet numbers,
 *   payload lengths 0..9000 and AAD lengths 0..64, in place;
 * - the nonce is IV xor big-endian packet number;
 * - every flipped bit position of AAD, ciphertext and tag fails the open and zeroes the
 *   buffer;
 * - HMAC-SHA256 (xf_crypto_hmac, ipsec-mb's job from keys prepared once): RFC 4231 test
 *   cases 1 to 5 (the keys of at most one block), a cross-check against OpenSSL's HMAC()
 *   on random keys of 0..64 bytes, messages of 1..300 bytes and truncations, one prepared
 *   key reused for many messages, and refused arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "xf_test.h"

#include "xf_crypto.h"

#define MAXLEN 9000u

static struct xf_crypto_mgr *mgr;
static uint64_t rng_state = 0xC0FFEE1234567ull;

static void
fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (uint8_t)xf_test_rand(&rng_state);
	}
}

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* OpenSSL reference: encrypt (enc=1) or decrypt-and-verify (enc=0) with a 12-byte nonce. */
static int
ossl_gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
         const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
	if (ok && aad_len > 0) {
		ok = EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1;
	}
	if (ok && len > 0) {
		ok = EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
	}
	if (ok && !enc) {
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	}
	ok = ok && EVP_CipherFinal_ex(c, out + n, &n) == 1;
	if (ok && enc) {
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	}
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

struct kat {
	const char *key, *iv, *pt, *aad, *ct, *tag;
};

/* GCM specification, appendix B, test cases 13-16 (AES-256). */
static const struct kat kats[] = {
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "00000000000000000000000000000000", "",
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  "",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void
test_known_answers(void)
{
	static struct xf_crypto_key k;
	uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16], buf[64], out_tag[16];

	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		size_t pl, al;

		unhex(kats[i].key, key);
		unhex(kats[i].iv, iv);
		pl = unhex(kats[i].pt, pt);
		al = unhex(kats[i].aad, aad);
		CU_ASSERT_EQUAL(unhex(kats[i].ct, ct), pl);
		unhex(kats[i].tag, tag);
		/* pn 0: the nonce is the IV itself. */
		CU_ASSERT_EQUAL(xf_crypto_key_init(mgr, &k, key, iv), 0);
		memcpy(buf, pt, pl);
		CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, 0, aad, al, buf, pl, out_tag), 0);
		CU_ASSERT_EQUAL(memcmp(buf, ct, pl), 0);
		CU_ASSERT_EQUAL(memcmp(out_tag, tag, 16), 0);
		CU_ASSERT_EQUAL(xf_crypto_open(mgr, &k, 0, aad, al, buf, pl, tag), 0);
		CU_ASSERT_EQUAL(memcmp(buf, pt, pl), 0);
		/* The same vector under pn 1 with IV xor 1: the same nonce, the same answer. */
		iv[11] ^= 1;
		CU_ASSERT_EQUAL(xf_crypto_key_init(mgr, &k, key, iv), 0);
		memcpy(buf, pt, pl);
		CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, 1, aad, al, buf, pl, out_tag), 0);
		CU_ASSERT_EQUAL(memcmp(buf, ct, pl), 0);
		CU_ASSERT_EQUAL(memcmp(out_tag, tag, 16), 0);
		/* Out of place: the same answer in buf, the plaintext left as it was. */
		memset(buf, 0xa5, sizeof(buf));
		memset(out_tag, 0, sizeof(out_tag));
		CU_ASSERT_EQUAL(xf_crypto_seal_to(mgr, &k, 1, aad, al, pt, buf, pl, out_tag), 0);
		CU_ASSERT_EQUAL(memcmp(buf, ct, pl), 0);
		CU_ASSERT_EQUAL(memcmp(out_tag, tag, 16), 0);
		CU_ASSERT_EQUAL(unhex(kats[i].pt, buf), pl);
		CU_ASSERT_EQUAL(memcmp(pt, buf, pl), 0);
	}
	xf_crypto_key_wipe(&k);
	CU_ASSERT_EQUAL(k.ready, 0);
}

static void
test_nonce(void)
{
	static struct xf_crypto_key k;
	uint8_t key[32] = { 0 }, iv[12], n[12];

	for (int i = 0; i < 12; i++) {
		iv[i] = (uint8_t)(0xA0 + i);
	}
	CU_ASSERT_EQUAL(xf_crypto_key_init(mgr, &k, key, iv), 0);
	xf_crypto_nonce(&k, 0x0102030405060708ull, n);
	CU_ASSERT_EQUAL(memcmp(n, iv, 4), 0);
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(n[4 + i], (uint8_t)(iv[4 + i] ^ (i + 1)));
	}
	xf_crypto_key_wipe(&k);
}

static void
test_cross_openssl(void)
{
	static struct xf_crypto_key k;
	static uint8_t pt[MAXLEN], buf[MAXLEN], ref[MAXLEN];
	uint8_t key[32], iv[12], nonce[12], aad[64], tag[16], rtag[16];

	for (int it = 0; it < 400; it++) {
		size_t len =
		        it < 40 ? (size_t)it : (size_t)(xf_test_rand(&rng_state) % (MAXLEN + 1));
		size_t al = (size_t)(xf_test_rand(&rng_state) % (sizeof(aad) + 1));
		uint64_t pn = xf_test_rand(&rng_state) >> (it % 64);

		fill(key, sizeof(key));
		fill(iv, sizeof(iv));
		fill(aad, al);
		fill(pt, len);
		CU_ASSERT_EQUAL_FATAL(xf_crypto_key_init(mgr, &k, key, iv), 0);
		xf_crypto_nonce(&k, pn, nonce);
		CU_ASSERT_EQUAL_FATAL(ossl_gcm(1, key, nonce, aad, al, pt, len, ref, rtag), 0);
		memcpy(buf, pt, len);
		CU_ASSERT_EQUAL_FATAL(xf_crypto_seal(mgr, &k, pn, aad, al, buf, len, tag), 0);
		CU_ASSERT_EQUAL_FATAL(memcmp(buf, ref, len), 0);
		CU_ASSERT_EQUAL_FATAL(memcmp(tag, rtag, 16), 0);
		/* OpenSSL opens what ipsec-mb sealed, and ipsec-mb opens it too. */
		CU_ASSERT_EQUAL_FATAL(ossl_gcm(0, key, nonce, aad, al, buf, len, ref, tag), 0);
		CU_ASSERT_EQUAL_FATAL(memcmp(ref, pt, len), 0);
		CU_ASSERT_EQUAL_FATAL(xf_crypto_open(mgr, &k, pn, aad, al, buf, len, tag), 0);
		CU_ASSERT_EQUAL_FATAL(memcmp(buf, pt, len), 0);
		/* A different packet number is a different nonce: the open fails. */
		memcpy(buf, ref, len);
		CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, pn, aad, al, buf, len, tag), 0);
		CU_ASSERT_EQUAL(xf_crypto_open(mgr, &k, pn ^ 1, aad, al, buf, len, tag), -EBADMSG);
	}
	xf_crypto_key_wipe(&k);
}

/* Every bit of AAD, ciphertext and tag, flipped alone, fails the open. */
static void
test_bit_flips(void)
{
	static struct xf_crypto_key k;
	enum { AL = 24, PL = 40 };
	uint8_t key[32], iv[12], aad[AL], pt[PL], ct[PL], buf[PL], tag[16], t2[16];
	uint8_t zero[PL] = { 0 };

	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(aad, AL);
	fill(pt, PL);
	CU_ASSERT_EQUAL_FATAL(xf_crypto_key_init(mgr, &k, key, iv), 0);
	memcpy(ct, pt, PL);
	CU_ASSERT_EQUAL_FATAL(xf_crypto_seal(mgr, &k, 7, aad, AL, ct, PL, tag), 0);
	for (unsigned int bit = 0; bit < 8 * (AL + PL + 16); bit++) {
		uint8_t a2[AL];
		unsigned int byte = bit / 8;

		memcpy(a2, aad, AL);
		memcpy(buf, ct, PL);
		memcpy(t2, tag, 16);
		if (byte < AL) {
			a2[byte] ^= (uint8_t)(1u << (bit % 8));
		} else if (byte < AL + PL) {
			buf[byte - AL] ^= (uint8_t)(1u << (bit % 8));
		} else {
			t2[byte - AL - PL] ^= (uint8_t)(1u << (bit % 8));
		}
		CU_ASSERT_EQUAL_FATAL(xf_crypto_open(mgr, &k, 7, a2, AL, buf, PL, t2), -EBADMSG);
		CU_ASSERT_EQUAL_FATAL(memcmp(buf, zero, PL), 0);
	}
	memcpy(buf, ct, PL);
	CU_ASSERT_EQUAL(xf_crypto_open(mgr, &k, 7, aad, AL, buf, PL, tag), 0);
	CU_ASSERT_EQUAL(memcmp(buf, pt, PL), 0);
	xf_crypto_key_wipe(&k);
}

static void
test_bad_args(void)
{
	static struct xf_crypto_key k;
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, buf[4] = { 0 }, tag[16];

	memset(&k, 0, sizeof(k));
	CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, 0, NULL, 0, buf, 4, tag), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_key_init(mgr, &k, NULL, iv), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_key_init(mgr, &k, key, iv), 0);
	CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, 0, NULL, 3, buf, 4, tag), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, 0, NULL, 0, NULL, 4, tag), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_open(mgr, &k, 0, NULL, 0, buf, 4, NULL), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_seal(mgr, &k, 0, NULL, 0, buf, 0, tag), 0);
	CU_ASSERT_EQUAL(xf_crypto_open(mgr, &k, 0, NULL, 0, buf, 0, tag), 0);
	xf_crypto_key_wipe(&k);
}

static int
suite_init(void)
{
	mgr = xf_crypto_mgr_create();
	if (mgr == NULL) {
		return 1;
	}
	printf("ipsec-mb code path: %s\n", xf_crypto_mgr_arch(mgr));
	return 0;
}

static int
suite_clean(void)
{
	xf_crypto_mgr_free(mgr);
	return 0;
}

/* RFC 4231 section 4: test cases 1 to 5 (keys of at most 64 bytes; case 5 truncated to
 * 128 bits). */
static void
test_hmac_known_answers(void)
{
	static const struct {
		const char *key, *data, *mac;
	} kat[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		  "dddddddddddddddddddddddd",
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819",
		  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
		  "cdcdcdcdcdcdcdcdcdcdcdcd",
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
		  "546573742057697468205472756e636174696f6e", "a3b6167473100ee06e0c796c2955552b" },
	};
	struct xf_crypto_hmac_key hk;
	uint8_t key[64], data[64], mac[32], out[32];

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		size_t kl = unhex(kat[i].key, key), dl = unhex(kat[i].data, data);
		size_t ml = unhex(kat[i].mac, mac);

		CU_ASSERT_EQUAL_FATAL(xf_crypto_hmac_key_init(mgr, &hk, key, kl), 0);
		memset(out, 0, sizeof(out));
		CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, data, dl, out, ml), 0);
		CU_ASSERT_EQUAL(memcmp(out, mac, ml), 0);
	}
	xf_crypto_hmac_key_wipe(&hk);
	CU_ASSERT_EQUAL(hk.ready, 0);
}

static void
test_hmac_cross_openssl(void)
{
	struct xf_crypto_hmac_key hk;
	uint8_t key[64], data[300], out[32], ref[32];
	unsigned int rl;

	for (int it = 0; it < 600; it++) {
		size_t kl = (size_t)(xf_test_rand(&rng_state) % (sizeof(key) + 1));
		size_t ol = it % 3 == 0 ? 32 : it % 3 == 1 ? 16 : 1 + it % 32;

		fill(key, kl);
		CU_ASSERT_EQUAL_FATAL(xf_crypto_hmac_key_init(mgr, &hk, key, kl), 0);
		/* one prepared key, several messages (as mac1's key serves every HELLO) */
		for (int m = 0; m < 4; m++) {
			size_t dl = 1 + (size_t)(xf_test_rand(&rng_state) % sizeof(data));

			fill(data, dl);
			CU_ASSERT_FATAL(HMAC(EVP_sha256(), key, (int)kl, data, dl, ref, &rl) !=
			                NULL);
			memset(out, 0xa5, sizeof(out));
			CU_ASSERT_EQUAL_FATAL(xf_crypto_hmac(mgr, &hk, data, dl, out, ol), 0);
			CU_ASSERT_EQUAL_FATAL(memcmp(out, ref, ol), 0);
			for (size_t b = ol; b < sizeof(out); b++) {
				CU_ASSERT_EQUAL_FATAL(out[b], 0xa5); /* nothing past out_len */
			}
		}
	}
	xf_crypto_hmac_key_wipe(&hk);
}

static void
test_hmac_bad_args(void)
{
	struct xf_crypto_hmac_key hk = { 0 };
	uint8_t key[65] = { 1 }, d[8] = { 2 }, out[32];

	CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, d, sizeof(d), out, 16), -EINVAL); /* unprepared */
	CU_ASSERT_EQUAL(xf_crypto_hmac_key_init(mgr, &hk, key, 65), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac_key_init(NULL, &hk, key, 32), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac_key_init(mgr, NULL, key, 32), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac_key_init(mgr, &hk, NULL, 32), -EINVAL);
	CU_ASSERT_EQUAL(hk.ready, 0);
	CU_ASSERT_EQUAL_FATAL(xf_crypto_hmac_key_init(mgr, &hk, key, 64), 0);
	CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, d, sizeof(d), out, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, d, sizeof(d), out, 33), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, NULL, 1, out, 16), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, d, sizeof(d), NULL, 16), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac(NULL, &hk, d, sizeof(d), out, 16), -EINVAL);
	CU_ASSERT_EQUAL(xf_crypto_hmac(mgr, &hk, d, 0, out, 16), -EINVAL); /* empty message */
	xf_crypto_hmac_key_wipe(&hk);
}

static const struct xf_test tests[] = {
	{ "known_answers", test_known_answers },
	{ "nonce", test_nonce },
	{ "cross_openssl", test_cross_openssl },
	{ "bit_flips", test_bit_flips },
	{ "bad_args", test_bad_args },
	{ "hmac_known_answers", test_hmac_known_answers },
	{ "hmac_cross_openssl", test_hmac_cross_openssl },
	{ "hmac_bad_args", test_hmac_bad_args },
};

int
main(void)
{
	return xf_test_main("crypto", suite_init, suite_clean, XF_TESTS(tests));
}
