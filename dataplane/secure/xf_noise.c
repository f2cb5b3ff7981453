/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Noise_IKpsk2_25519_AESGCM_SHA256 on OpenSSL 3.0 (xf_noise.h, docs/SECURITY.md).
 * Names follow the Noise specification: MixHash, MixKey, MixKeyAndHash, EncryptAndHash,
 * DecryptAndHash, HKDF, Split.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "xf_noise.h"

#define KL   XF_NOISE_KEY_LEN
#define TAGL 16u

static const char protocol_name[] = "Noise_IKpsk2_25519_AESGCM_SHA256";
static const char prologue_label[] = "xferd-noise"; /* 11 bytes, then version and caps */

/* Message 1 offsets. The payload (timestamp, then the caller's n bytes) is one AEAD
 * from M1_TS; mac1 and mac2 follow it, at M1_MAC1 + n and M1_MAC2 + n. */
enum {
	M1_SENDER = 4,
	M1_E = 8,
	M1_S = 40,
	M1_TS = 88,
	M1_MAC1 = 116,
	M1_MAC2 = 132,
};
/* Message 2 offsets. */
enum {
	M2_SENDER = 4,
	M2_RECEIVER = 8,
	M2_E = 12,
	M2_EMPTY = 44,
	M2_MAC1 = 60,
};
/* Cookie reply offsets. */
enum {
	C_RECEIVER = 4,
	C_NONCE = 8,
	C_COOKIE = 20,
};

enum { HS_NONE, HS_SENT1, HS_GOT1, HS_MADE1 };

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
sha256_2(const void *a, size_t al, const void *b, size_t bl, uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(c, a, al) == 1 && EVP_DigestUpdate(c, b, bl) == 1 &&
	         EVP_DigestFinal_ex(c, out, NULL) == 1;

	EVP_MD_CTX_free(c);
	return ok ? 0 : -EIO;
}

static int
hmac(const uint8_t *key, size_t kl, const uint8_t *d, size_t dl, uint8_t *out)
{
	unsigned int ol = 0;

	return HMAC(EVP_sha256(), key, (int)kl, d, dl, out, &ol) != NULL && ol == 32 ? 0 : -EIO;
}

/* Noise HKDF(chaining_key, ikm, n) for n = 2 or 3 (section 4.3). */
static int
hkdf(const uint8_t *ck, const uint8_t *ikm, size_t ikm_len, uint8_t *o1, uint8_t *o2, uint8_t *o3)
{
	uint8_t tk[KL], in[KL + 1];
	int rc;

	rc = hmac(ck, KL, ikm, ikm_len, tk);
	in[0] = 1;
	rc = rc ? rc : hmac(tk, KL, in, 1, o1);
	memcpy(in, o1, KL);
	in[KL] = 2;
	rc = rc ? rc : hmac(tk, KL, in, KL + 1, o2);
	if (o3 != NULL) {
		memcpy(in, o2, KL);
		in[KL] = 3;
		rc = rc ? rc : hmac(tk, KL, in, KL + 1, o3);
	}
	OPENSSL_cleanse(tk, sizeof(tk));
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

static int
mix_hash(struct xf_noise_hs *hs, const uint8_t *d, size_t dl)
{
	return sha256_2(hs->h, KL, d, dl, hs->h);
}

static int
mix_key(struct xf_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	int rc = hkdf(hs->ck, ikm, len, hs->ck, hs->k, NULL);

	hs->has_k = true;
	hs->n = 0;
	return rc;
}

static int
mix_key_and_hash(struct xf_noise_hs *hs, const uint8_t *ikm)
{
	uint8_t th[KL];
	int rc = hkdf(hs->ck, ikm, KL, hs->ck, th, hs->k);

	rc = rc ? rc : mix_hash(hs, th, KL);
	hs->has_k = true;
	hs->n = 0;
	OPENSSL_cleanse(th, sizeof(th));
	return rc;
}

/* AES-256-GCM with Noise's nonce: 32 zero bits, then n as 64-bit big-endian. */
static int
aead(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t adl,
     const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t tag[TAGL];
	int n = 0, ok;

	ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
	ok = ok && EVP_CipherUpdate(c, NULL, &n, ad, (int)adl) == 1;
	if (ok && len > 0) {
		ok = EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
	}
	if (ok && !enc) {
		memcpy(tag, in + len, TAGL);
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAGL, tag) == 1;
	}
	ok = ok && EVP_CipherFinal_ex(c, out + n, &n) == 1;
	if (ok && enc) {
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAGL, out + len) == 1;
	}
	EVP_CIPHER_CTX_free(c);
	if (!ok && !enc && len > 0) {
		OPENSSL_cleanse(out, len);
	}
	return ok ? 0 : enc ? -EIO : -EBADMSG;
}

static void
noise_nonce(uint64_t n, uint8_t *nonce)
{
	memset(nonce, 0, 4);
	put32(nonce + 4, (uint32_t)(n >> 32));
	put32(nonce + 8, (uint32_t)n);
}

/* EncryptAndHash: out gets len + 16 bytes (a key is always set where it is used). */
static int
encrypt_and_hash(struct xf_noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12];
	int rc;

	noise_nonce(hs->n, nonce);
	rc = aead(1, hs->k, nonce, hs->h, KL, pt, len, out);
	hs->n++;
	return rc ? rc : mix_hash(hs, out, len + TAGL);
}

/* DecryptAndHash: ct holds len + 16 bytes; h is updated only when the tag verifies. */
static int
decrypt_and_hash(struct xf_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[12];
	int rc;

	noise_nonce(hs->n, nonce);
	rc = aead(0, hs->k, nonce, hs->h, KL, ct, len, out);
	if (rc != 0) {
		return rc;
	}
	hs->n++;
	return mix_hash(hs, ct, len + TAGL);
}

/* X25519 operations (dh) done by the calling thread: xf_noise_dh_ops. */
static __thread uint64_t dh_ops;

uint64_t
xf_noise_dh_ops(void)
{
	return dh_ops;
}

/* X25519. OpenSSL refuses an all-zero shared secret (a low-order public key). */
static int
dh(const uint8_t *priv, const uint8_t *pub, uint8_t *out)
{
	EVP_PKEY *a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, KL);
	EVP_PKEY *b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, KL);
	EVP_PKEY_CTX *c = a != NULL ? EVP_PKEY_CTX_new(a, NULL) : NULL;
	size_t ol = KL;
	int ok = c != NULL && b != NULL && EVP_PKEY_derive_init(c) == 1 &&
	         EVP_PKEY_derive_set_peer(c, b) == 1 && EVP_PKEY_derive(c, out, &ol) == 1 &&
	         ol == KL;

	dh_ops++;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return ok ? 0 : -EIO;
}

static int
mix_dh(struct xf_noise_hs *hs, const uint8_t *priv, const uint8_t *pub)
{
	uint8_t s[KL];
	int rc = dh(priv, pub, s);

	rc = rc ? rc : mix_key(hs, s, KL);
	OPENSSL_cleanse(s, sizeof(s));
	return rc;
}

int
xf_noise_pubkey(const uint8_t *priv, uint8_t *pub)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, KL);
	size_t l = KL;
	int ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &l) == 1 && l == KL;

	EVP_PKEY_free(k);
	return ok ? 0 : -EIO;
}

int
xf_noise_keygen(uint8_t *priv, uint8_t *pub)
{
	if (RAND_priv_bytes(priv, (int)KL) != 1) {
		return -EIO;
	}
	return xf_noise_pubkey(priv, pub);
}

static int
label_key(const char *label, const uint8_t *pub, uint8_t *out)
{
	return sha256_2(label, 8, pub, KL, out);
}

int
xf_noise_static_init(struct xf_noise_static *s, const uint8_t *priv)
{
	int rc;

	memcpy(s->priv, priv, KL);
	rc = xf_noise_pubkey(priv, s->pub);
	rc = rc ? rc : label_key("mac1----", s->pub, s->mac1_key);
	rc = rc ? rc : label_key("cookie--", s->pub, s->cookie_key);
	if (rc != 0) {
		OPENSSL_cleanse(s, sizeof(*s));
	}
	return rc;
}

int
xf_noise_peer_init(struct xf_noise_peer *p, const uint8_t *pub, const uint8_t *psk)
{
	int rc;

	memset(p, 0, sizeof(*p));
	memcpy(p->pub, pub, KL);
	if (psk != NULL) {
		memcpy(p->psk, psk, KL);
	}
	rc = label_key("mac1----", pub, p->mac1_key);
	return rc ? rc : label_key("cookie--", pub, p->cookie_key);
}

void
xf_noise_tai64n(uint64_t unix_ns, uint8_t *out)
{
	uint64_t secs = (1ull << 62) + unix_ns / 1000000000u;

	put32(out, (uint32_t)(secs >> 32));
	put32(out + 4, (uint32_t)secs);
	put32(out + 8, (uint32_t)(unix_ns % 1000000000u));
}

void
xf_noise_hs_wipe(struct xf_noise_hs *hs)
{
	OPENSSL_cleanse(hs, sizeof(*hs));
}

/* Initialize(IKpsk2, prologue) and the pre-message "<- s": both sides do this. */
static int
hs_start(struct xf_noise_hs *hs, const struct xf_noise_prologue *pro, const uint8_t *rs)
{
	uint8_t p[sizeof(prologue_label) - 1 + 13];
	size_t plen = sizeof(prologue_label) - 1 + 5;
	int rc;

	/* The name is exactly HASHLEN bytes, so h is the name itself (section 5.2). */
	_Static_assert(sizeof(protocol_name) - 1 == KL, "protocol name is not 32 bytes");
	memcpy(hs->h, protocol_name, KL);
	memcpy(hs->ck, hs->h, KL);
	hs->has_k = false;
	hs->n = 0;
	memcpy(p, prologue_label, sizeof(prologue_label) - 1);
	p[sizeof(prologue_label) - 1] = pro->version;
	put32(p + sizeof(prologue_label), pro->capabilities);
	if (pro->has_options) {
		/* Only then: a prologue without options is what it always was. The options
		 * are present exactly when the capabilities say so (the engine:
		 * XF_HELLO_F_DELETE), so the bytes read one way. */
		put32(p + plen, pro->options);
		plen += 4;
	}
	if (pro->flags_hi != 0) {
		/* Likewise only then: whether they are there is what they say (nonzero), and
		 * the options before them are there exactly when the capabilities say. */
		put32(p + plen, pro->flags_hi);
		plen += 4;
	}
	rc = mix_hash(hs, p, plen);
	return rc ? rc : mix_hash(hs, rs, KL);
}

/* "e" in a PSK handshake: MixHash(e) and MixKey(e) (section 9.2). */
static int
token_e(struct xf_noise_hs *hs, const uint8_t *e_pub)
{
	int rc = mix_hash(hs, e_pub, KL);

	return rc ? rc : mix_key(hs, e_pub, KL);
}

static int
new_ephemeral(struct xf_noise_hs *hs, const uint8_t *e_priv)
{
	if (e_priv != NULL) {
		memcpy(hs->e_priv, e_priv, KL);
	} else if (RAND_priv_bytes(hs->e_priv, (int)KL) != 1) {
		return -EIO;
	}
	return xf_noise_pubkey(hs->e_priv, hs->e_pub);
}

static int
trunc_mac(const uint8_t *key, size_t kl, const uint8_t *d, size_t dl, uint8_t *out)
{
	uint8_t full[32];
	int rc = hmac(key, kl, d, dl, full);

	memcpy(out, full, XF_NOISE_MAC_LEN);
	return rc;
}

/* A MAC of the jar's thread: on its manager when it has one (no allocation), else
 * OpenSSL's one-shot. hk: key, prepared; NULL: prepare key (kl bytes) here (two SHA-256
 * blocks on the manager). */
static int
jar_mac(const struct xf_noise_cookie_jar *jar, const struct xf_crypto_hmac_key *hk,
        const uint8_t *key, size_t kl, const uint8_t *d, size_t dl, uint8_t *out)
{
	struct xf_crypto_hmac_key tmp;
	int rc;

	if (jar == NULL || jar->mgr == NULL) {
		return trunc_mac(key, kl, d, dl, out);
	}
	if (hk == NULL) {
		if (xf_crypto_hmac_key_init(jar->mgr, &tmp, key, kl) != 0) {
			return -EIO;
		}
		hk = &tmp;
	}
	rc = xf_crypto_hmac(jar->mgr, hk, d, dl, out, XF_NOISE_MAC_LEN);
	if (hk == &tmp) {
		xf_crypto_hmac_key_wipe(&tmp);
	}
	return rc;
}

static bool
equal16(const uint8_t *a, const uint8_t *b)
{
	return CRYPTO_memcmp(a, b, XF_NOISE_MAC_LEN) == 0;
}

/* Message 1 without its MACs (xf_noise_initiate_noise): the X25519, HKDF, hashing and
 * AEAD. */
static int
initiate_noise(struct xf_noise_hs *hs, const struct xf_noise_static *local,
               struct xf_noise_peer *peer, const struct xf_noise_prologue *pro,
               uint32_t local_index, const uint8_t *e_priv, uint64_t unix_ns,
               const uint8_t *payload, size_t payload_len, uint8_t *msg)
{
	/* The message's payload: the timestamp, then the caller's (one EncryptAndHash). */
	uint8_t pt[XF_NOISE_TAI64N_LEN + XF_NOISE_PAYLOAD_MAX];
	int rc;

	if (hs == NULL || local == NULL || peer == NULL || pro == NULL || msg == NULL ||
	    payload_len > XF_NOISE_PAYLOAD_MAX || (payload == NULL && payload_len > 0)) {
		return -EINVAL;
	}
	memset(hs, 0, sizeof(*hs));
	memset(msg, 0, XF_NOISE_MSG1_LEN + payload_len);
	hs->initiator = true;
	hs->local = local;
	hs->peer = peer;
	hs->local_index = local_index;
	msg[0] = XF_NOISE_MSG1;
	put32(msg + M1_SENDER, local_index);
	rc = hs_start(hs, pro, peer->pub);
	rc = rc ? rc : new_ephemeral(hs, e_priv);
	if (rc == 0) {
		memcpy(msg + M1_E, hs->e_pub, KL);
		rc = token_e(hs, hs->e_pub);
	}
	rc = rc ? rc : mix_dh(hs, hs->e_priv, peer->pub);                /* es */
	rc = rc ? rc : encrypt_and_hash(hs, local->pub, KL, msg + M1_S); /* s */
	rc = rc ? rc : mix_dh(hs, local->priv, peer->pub);               /* ss */
	xf_noise_tai64n(unix_ns, pt);
	if (payload_len > 0) {
		memcpy(pt + XF_NOISE_TAI64N_LEN, payload, payload_len);
	}
	rc = rc ? rc : encrypt_and_hash(hs, pt, XF_NOISE_TAI64N_LEN + payload_len, msg + M1_TS);
	OPENSSL_cleanse(pt, XF_NOISE_TAI64N_LEN + payload_len);
	if (rc != 0) {
		xf_noise_hs_wipe(hs);
		return rc;
	}
	hs->state = HS_MADE1;
	return 0;
}

/* Message 1's mac1 and mac2 (xf_noise_initiate_macs); on jar's manager when it has one. */
static int
initiate_macs(struct xf_noise_hs *hs, struct xf_noise_cookie_jar *jar, struct xf_noise_peer *peer,
              uint64_t mono_ns, uint8_t *msg, size_t len)
{
	size_t mac1 = len - 2 * XF_NOISE_MAC_LEN;
	int rc;

	if (hs == NULL || peer == NULL || msg == NULL || !hs->initiator || hs->state != HS_MADE1 ||
	    len < XF_NOISE_MSG1_LEN || len > XF_NOISE_MSG1_MAX) {
		return -EINVAL;
	}
	hs->peer = peer;
	hs->jar = jar != NULL && jar->mgr != NULL ? jar : NULL;
	/* The peer's mac1 key and the cookie are prepared here, per message 1 (one per push
	 * and per new handshake): not worth a prepared key per peer and RX core. */
	rc = jar_mac(hs->jar, NULL, peer->mac1_key, KL, msg, mac1, msg + mac1);
	if (rc == 0 && peer->has_cookie &&
	    mono_ns - peer->cookie_ns < XF_NOISE_COOKIE_SECS * 1000000000ull) {
		rc = jar_mac(hs->jar, NULL, peer->cookie, XF_NOISE_COOKIE_LEN, msg,
		             mac1 + XF_NOISE_MAC_LEN, msg + mac1 + XF_NOISE_MAC_LEN);
	}
	if (rc != 0) {
		xf_noise_hs_wipe(hs);
		return rc;
	}
	memcpy(peer->last_mac1, msg + mac1, XF_NOISE_MAC_LEN);
	peer->sent_mac1 = true;
	hs->state = HS_SENT1;
	return 0;
}

/* Message 1 (xf_noise_initiate_jar): the handshake, then its MACs. */
static int
initiate(struct xf_noise_hs *hs, struct xf_noise_cookie_jar *jar,
         const struct xf_noise_static *local, struct xf_noise_peer *peer,
         const struct xf_noise_prologue *pro, uint32_t local_index, const uint8_t *e_priv,
         uint64_t unix_ns, uint64_t mono_ns, const uint8_t *payload, size_t payload_len,
         uint8_t *msg)
{
	int rc = initiate_noise(hs, local, peer, pro, local_index, e_priv, unix_ns, payload,
	                        payload_len, msg);

	return rc ? rc
	          : initiate_macs(hs, jar, peer, mono_ns, msg, XF_NOISE_MSG1_LEN + payload_len);
}

int
xf_noise_initiate_noise(struct xf_noise_hs *hs, const struct xf_noise_static *local,
                        struct xf_noise_peer *peer, const struct xf_noise_prologue *pro,
                        uint32_t local_index, const uint8_t *e_priv, uint64_t unix_ns,
                        const uint8_t *payload, size_t payload_len, uint8_t *msg)
{
	return initiate_noise(hs, local, peer, pro, local_index, e_priv, unix_ns, payload,
	                      payload_len, msg);
}

int
xf_noise_initiate_macs(struct xf_noise_hs *hs, struct xf_noise_cookie_jar *jar,
                       struct xf_noise_peer *peer, uint64_t mono_ns, uint8_t *msg, size_t len)
{
	if (jar == NULL || jar->mgr == NULL) {
		return -EINVAL;
	}
	return initiate_macs(hs, jar, peer, mono_ns, msg, len);
}

int
xf_noise_initiate(struct xf_noise_hs *hs, const struct xf_noise_static *local,
                  struct xf_noise_peer *peer, const struct xf_noise_prologue *pro,
                  uint32_t local_index, const uint8_t *e_priv, uint64_t unix_ns, uint64_t mono_ns,
                  const uint8_t *payload, size_t payload_len, uint8_t *msg)
{
	return initiate(hs, NULL, local, peer, pro, local_index, e_priv, unix_ns, mono_ns, payload,
	                payload_len, msg);
}

int
xf_noise_initiate_jar(struct xf_noise_hs *hs, struct xf_noise_cookie_jar *jar,
                      const struct xf_noise_static *local, struct xf_noise_peer *peer,
                      const struct xf_noise_prologue *pro, uint32_t local_index,
                      const uint8_t *e_priv, uint64_t unix_ns, uint64_t mono_ns,
                      const uint8_t *payload, size_t payload_len, uint8_t *msg)
{
	if (jar == NULL || jar->mgr == NULL) {
		return -EINVAL;
	}
	return initiate(hs, jar, local, peer, pro, local_index, e_priv, unix_ns, mono_ns, payload,
	                payload_len, msg);
}

void
xf_noise_cookie_jar_set(struct xf_noise_cookie_jar *jar, const uint8_t *secret, uint64_t mono_ns)
{
	memcpy(jar->secret, secret, KL);
	jar->born_ns = mono_ns;
	jar->ready = true;
	if (jar->mgr != NULL) {
		(void)xf_crypto_hmac_key_init(jar->mgr, &jar->secret_hk, secret, KL);
	}
}

int
xf_noise_cookie_jar_init(struct xf_noise_cookie_jar *jar, const struct xf_noise_static *local)
{
	uint8_t seed[KL], base[XF_CRYPTO_IV_LEN];
	bool made = false;
	int rc = 0;

	if (jar == NULL || local == NULL) {
		return -EINVAL;
	}
	/* A manager of its own: SHA-NI for the HMACs (xf_crypto.h), whatever the core's
	 * frames run on. */
	if (jar->mgr == NULL) {
		jar->mgr = xf_crypto_mgr_create_hmac();
		if (jar->mgr == NULL) {
			return -errno;
		}
		made = true;
	}
	jar->local = NULL;
	/* Drawn here, not under load: the RX core then calls no RNG (xf_noise.h). */
	if (RAND_bytes(seed, (int)KL) != 1 || RAND_bytes(base, (int)sizeof(base)) != 1 ||
	    xf_crypto_hmac_key_init(jar->mgr, &jar->mac1, local->mac1_key, KL) != 0 ||
	    xf_crypto_hmac_key_init(jar->mgr, &jar->seed, seed, KL) != 0 ||
	    xf_crypto_key_init(jar->mgr, &jar->reply_key, local->cookie_key, base) != 0 ||
	    (jar->ready &&
	     xf_crypto_hmac_key_init(jar->mgr, &jar->secret_hk, jar->secret, KL) != 0)) {
		rc = -EIO;
	}
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(base, sizeof(base));
	if (rc != 0) {
		if (made) {
			xf_crypto_mgr_free(jar->mgr);
			jar->mgr = NULL;
		}
		return rc;
	}
	jar->secrets = 0;
	jar->replies = 0;
	jar->local = local;
	return 0;
}

void
xf_noise_cookie_jar_fini(struct xf_noise_cookie_jar *jar)
{
	if (jar != NULL) {
		xf_crypto_mgr_free(jar->mgr);
		OPENSSL_cleanse(jar, sizeof(*jar));
	}
}

static int
make_cookie(struct xf_noise_cookie_jar *jar, const uint8_t *src, size_t src_len, uint64_t mono_ns,
            uint8_t *cookie)
{
	if (!jar->ready || mono_ns - jar->born_ns >= XF_NOISE_COOKIE_SECS * 1000000000ull) {
		uint8_t s[KL], n[8];
		int rc = 0;

		if (jar->mgr != NULL && jar->seed.ready) {
			/* Bound (xf_noise.h): the next secret from the seed, on ipsec-mb. */
			jar->secrets++;
			put32(n, (uint32_t)(jar->secrets >> 32));
			put32(n + 4, (uint32_t)jar->secrets);
			rc = xf_crypto_hmac(jar->mgr, &jar->seed, n, sizeof(n), s, KL);
		} else if (RAND_bytes(s, (int)KL) != 1) {
			rc = -EIO;
		}
		if (rc != 0) {
			return -EIO;
		}
		xf_noise_cookie_jar_set(jar, s, mono_ns);
		OPENSSL_cleanse(s, sizeof(s));
	}
	return jar_mac(jar, &jar->secret_hk, jar->secret, KL, src, src_len, cookie);
}

int
xf_noise_check_macs(const struct xf_noise_static *local, struct xf_noise_cookie_jar *jar,
                    const uint8_t *msg, size_t len, const uint8_t *src, size_t src_len,
                    bool under_load, uint64_t mono_ns)
{
	uint8_t mac[XF_NOISE_MAC_LEN], cookie[XF_NOISE_COOKIE_LEN];
	const struct xf_noise_cookie_jar *mj;
	size_t mac1_off;

	if (msg == NULL || local == NULL) {
		return -EINVAL;
	}
	if (len >= XF_NOISE_MSG1_LEN && len <= XF_NOISE_MSG1_MAX && msg[0] == XF_NOISE_MSG1) {
		mac1_off = len - 2 * XF_NOISE_MAC_LEN;
	} else if (len == XF_NOISE_MSG2_LEN && msg[0] == XF_NOISE_MSG2) {
		mac1_off = M2_MAC1;
	} else {
		return -EBADMSG;
	}
	if (msg[1] != 0 || msg[2] != 0 || msg[3] != 0) {
		return -EBADMSG;
	}
	/* The jar's prepared mac1 key only if it is local's (else OpenSSL's one-shot). */
	mj = jar != NULL && jar->local == local ? jar : NULL;
	if (jar_mac(mj, mj != NULL ? &mj->mac1 : NULL, local->mac1_key, KL, msg, mac1_off, mac) !=
	            0 ||
	    !equal16(mac, msg + mac1_off)) {
		return -EBADMSG;
	}
	if (!under_load || msg[0] != XF_NOISE_MSG1) {
		return 0;
	}
	if (jar == NULL || src == NULL || make_cookie(jar, src, src_len, mono_ns, cookie) != 0 ||
	    jar_mac(jar, NULL, cookie, sizeof(cookie), msg, mac1_off + XF_NOISE_MAC_LEN, mac) !=
	            0 ||
	    !equal16(mac, msg + mac1_off + XF_NOISE_MAC_LEN)) {
		return -EAGAIN;
	}
	return 0;
}

int
xf_noise_cookie_reply(const struct xf_noise_static *local, struct xf_noise_cookie_jar *jar,
                      const uint8_t *msg1, size_t msg1_len, const uint8_t *src, size_t src_len,
                      const uint8_t *nonce, uint64_t mono_ns, uint8_t *out)
{
	uint8_t cookie[XF_NOISE_COOKIE_LEN];
	const uint8_t *mac1;
	bool bound;
	int rc;

	if (local == NULL || jar == NULL || msg1 == NULL || src == NULL || out == NULL ||
	    msg1_len < XF_NOISE_MSG1_LEN || msg1_len > XF_NOISE_MSG1_MAX) {
		return -EINVAL;
	}
	/* Bound to this static key, the reply's nonce its own: all on ipsec-mb, from keys
	 * prepared once, so a flood of HELLOs under load costs the RX core no allocation. */
	bound = jar->mgr != NULL && jar->local == local && jar->reply_key.ready && nonce == NULL;
	memset(out, 0, XF_NOISE_COOKIE_LEN_MSG);
	out[0] = XF_NOISE_COOKIE;
	memcpy(out + C_RECEIVER, msg1 + M1_SENDER, 4);
	if (bound) {
		xf_crypto_nonce(&jar->reply_key, jar->replies, out + C_NONCE);
	} else if (nonce != NULL) {
		memcpy(out + C_NONCE, nonce, 12);
	} else if (RAND_bytes(out + C_NONCE, 12) != 1) {
		return -EIO;
	}
	rc = make_cookie(jar, src, src_len, mono_ns, cookie);
	/* Bound to the message it answers: the AAD is that message's mac1. */
	mac1 = msg1 + msg1_len - 2 * XF_NOISE_MAC_LEN;
	if (rc == 0 && bound) {
		memcpy(out + C_COOKIE, cookie, sizeof(cookie));
		/* The number is taken even if sealing failed: no nonce is used twice. */
		rc = xf_crypto_seal(jar->mgr, &jar->reply_key, jar->replies++, mac1,
		                    XF_NOISE_MAC_LEN, out + C_COOKIE, sizeof(cookie),
		                    out + C_COOKIE + sizeof(cookie));
		rc = rc != 0 ? -EIO : 0;
	} else if (rc == 0) {
		rc = aead(1, local->cookie_key, out + C_NONCE, mac1, XF_NOISE_MAC_LEN, cookie,
		          sizeof(cookie), out + C_COOKIE);
	}
	OPENSSL_cleanse(cookie, sizeof(cookie));
	return rc;
}

/* A cookie reply's cookie, opened (AAD: our last message 1's mac1): on jar's manager
 * when there is one, the key expanded here (no allocation), else OpenSSL's EVP. */
static int
open_cookie(const struct xf_noise_cookie_jar *jar, const struct xf_noise_peer *p,
            const uint8_t *msg, uint8_t *cookie)
{
	struct xf_crypto_key k;
	int rc;

	if (jar == NULL) {
		return aead(0, p->cookie_key, msg + C_NONCE, p->last_mac1, XF_NOISE_MAC_LEN,
		            msg + C_COOKIE, XF_NOISE_COOKIE_LEN, cookie);
	}
	/* The nonce is the reply's: the key's iv, packet number 0 (xf_crypto_nonce). */
	memcpy(cookie, msg + C_COOKIE, XF_NOISE_COOKIE_LEN);
	rc = xf_crypto_key_init(jar->mgr, &k, p->cookie_key, msg + C_NONCE);
	rc = rc ? rc
	        : xf_crypto_open(jar->mgr, &k, 0, p->last_mac1, XF_NOISE_MAC_LEN, cookie,
	                         XF_NOISE_COOKIE_LEN, msg + C_COOKIE + XF_NOISE_COOKIE_LEN);
	xf_crypto_key_wipe(&k);
	if (rc != 0) {
		OPENSSL_cleanse(cookie, XF_NOISE_COOKIE_LEN);
	}
	return rc;
}

int
xf_noise_consume_cookie(struct xf_noise_hs *hs, const uint8_t *msg, size_t len, uint64_t mono_ns)
{
	struct xf_noise_peer *p;
	uint8_t cookie[XF_NOISE_COOKIE_LEN];

	if (hs == NULL || msg == NULL) {
		return -EINVAL;
	}
	if (len != XF_NOISE_COOKIE_LEN_MSG || msg[0] != XF_NOISE_COOKIE || msg[1] != 0 ||
	    msg[2] != 0 || msg[3] != 0) {
		return -EBADMSG;
	}
	p = hs->peer;
	if (!hs->initiator || hs->state != HS_SENT1 || p == NULL || !p->sent_mac1) {
		return -ENOENT;
	}
	if (get32(msg + C_RECEIVER) != hs->local_index) {
		return -EBADMSG;
	}
	if (open_cookie(hs->jar, p, msg, cookie) != 0) {
		return -EBADMSG;
	}
	memcpy(p->cookie, cookie, sizeof(cookie));
	p->cookie_ns = mono_ns;
	p->has_cookie = true;
	/* One cookie reply per message 1. */
	p->sent_mac1 = false;
	OPENSSL_cleanse(cookie, sizeof(cookie));
	return 0;
}

int
xf_noise_consume_initiation(struct xf_noise_hs *hs, const struct xf_noise_static *local,
                            struct xf_noise_peer *peers, size_t npeers,
                            const struct xf_noise_prologue *pro, const uint8_t *msg, size_t len,
                            uint8_t *payload)
{
	uint8_t rs[KL], pt[XF_NOISE_TAI64N_LEN + XF_NOISE_PAYLOAD_MAX];
	struct xf_noise_peer *peer = NULL;
	size_t n = len - XF_NOISE_MSG1_LEN; /* the caller's payload */
	int rc;

	if (hs == NULL || local == NULL || pro == NULL || msg == NULL ||
	    (peers == NULL && npeers > 0)) {
		return -EINVAL;
	}
	if (len < XF_NOISE_MSG1_LEN || len > XF_NOISE_MSG1_MAX || msg[0] != XF_NOISE_MSG1 ||
	    msg[1] != 0 || msg[2] != 0 || msg[3] != 0) {
		return -EBADMSG;
	}
	if (payload == NULL && n > 0) {
		return -EINVAL;
	}
	memset(hs, 0, sizeof(*hs));
	hs->local = local;
	hs->remote_index = get32(msg + M1_SENDER);
	memcpy(hs->re, msg + M1_E, KL);
	rc = hs_start(hs, pro, local->pub);
	rc = rc ? rc : token_e(hs, hs->re);
	/* A DH failure here means a low-order ephemeral: a malformed message. */
	rc = rc ? rc : mix_dh(hs, local->priv, hs->re) ? -EBADMSG : 0; /* es */
	rc = rc ? rc : decrypt_and_hash(hs, msg + M1_S, KL, rs);       /* s */
	for (size_t i = 0; rc == 0 && i < npeers; i++) {
		if (CRYPTO_memcmp(peers[i].pub, rs, KL) == 0) {
			peer = &peers[i];
		}
	}
	if (rc == 0 && peer == NULL) {
		rc = -ENOKEY;
	}
	rc = rc ? rc : mix_dh(hs, local->priv, rs) ? -EBADMSG : 0; /* ss */
	rc = rc ? rc : decrypt_and_hash(hs, msg + M1_TS, XF_NOISE_TAI64N_LEN + n, pt);
	/* Only a fully authenticated message 1 may move the peer's timestamp, and only
	 * forward: an equal or older one is a replay. memcmp orders TAI64N as time. */
	if (rc == 0 && memcmp(pt, peer->last_ts, XF_NOISE_TAI64N_LEN) <= 0) {
		rc = -EALREADY;
	}
	if (rc != 0) {
		OPENSSL_cleanse(pt, XF_NOISE_TAI64N_LEN + n);
		xf_noise_hs_wipe(hs);
		return rc;
	}
	memcpy(peer->last_ts, pt, XF_NOISE_TAI64N_LEN);
	if (n > 0) {
		memcpy(payload, pt + XF_NOISE_TAI64N_LEN, n);
	}
	OPENSSL_cleanse(pt, XF_NOISE_TAI64N_LEN + n);
	hs->peer = peer;
	hs->state = HS_GOT1;
	return 0;
}

/* Split(): the first key is the initiator's sending key. */
static int
finish(struct xf_noise_hs *hs, struct xf_noise_keys *keys)
{
	uint8_t k1[KL], k2[KL];
	int rc = hkdf(hs->ck, NULL, 0, k1, k2, NULL);

	if (rc == 0) {
		memcpy(keys->send, hs->initiator ? k1 : k2, KL);
		memcpy(keys->recv, hs->initiator ? k2 : k1, KL);
		memcpy(keys->hash, hs->h, KL);
		keys->local_index = hs->local_index;
		keys->remote_index = hs->remote_index;
		keys->initiator = hs->initiator;
	}
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	xf_noise_hs_wipe(hs);
	return rc;
}

int
xf_noise_respond(struct xf_noise_hs *hs, uint32_t local_index, const uint8_t *e_priv, uint8_t *msg,
                 struct xf_noise_keys *keys)
{
	int rc;

	if (hs == NULL || msg == NULL || keys == NULL || hs->initiator || hs->state != HS_GOT1) {
		return -EINVAL;
	}
	memset(msg, 0, XF_NOISE_MSG2_LEN);
	msg[0] = XF_NOISE_MSG2;
	hs->local_index = local_index;
	put32(msg + M2_SENDER, local_index);
	put32(msg + M2_RECEIVER, hs->remote_index);
	rc = new_ephemeral(hs, e_priv);
	if (rc == 0) {
		memcpy(msg + M2_E, hs->e_pub, KL);
		rc = token_e(hs, hs->e_pub);
	}
	rc = rc ? rc : mix_dh(hs, hs->e_priv, hs->re);        /* ee */
	rc = rc ? rc : mix_dh(hs, hs->e_priv, hs->peer->pub); /* se */
	rc = rc ? rc : mix_key_and_hash(hs, hs->peer->psk);   /* psk */
	rc = rc ? rc : encrypt_and_hash(hs, NULL, 0, msg + M2_EMPTY);
	rc = rc ? rc : trunc_mac(hs->peer->mac1_key, KL, msg, M2_MAC1, msg + M2_MAC1);
	if (rc != 0) {
		xf_noise_hs_wipe(hs);
		return rc;
	}
	return finish(hs, keys);
}

int
xf_noise_response_check(const struct xf_noise_hs *hs, const uint8_t *msg, size_t len)
{
	const struct xf_noise_cookie_jar *mj;
	uint8_t mac[XF_NOISE_MAC_LEN];

	if (hs == NULL || msg == NULL || !hs->initiator || hs->state != HS_SENT1) {
		return -EINVAL;
	}
	if (len != XF_NOISE_MSG2_LEN || msg[0] != XF_NOISE_MSG2 || msg[1] != 0 || msg[2] != 0 ||
	    msg[3] != 0 || get32(msg + M2_RECEIVER) != hs->local_index) {
		return -EBADMSG;
	}
	/* Our own mac1 key: the jar's, prepared, when the jar is bound to our static key. */
	mj = hs->jar;
	if (jar_mac(mj, mj != NULL && mj->local == hs->local ? &mj->mac1 : NULL,
	            hs->local->mac1_key, KL, msg, M2_MAC1, mac) != 0 ||
	    !equal16(mac, msg + M2_MAC1)) {
		return -EBADMSG;
	}
	return 0;
}

int
xf_noise_response_finish(struct xf_noise_hs *hs, const uint8_t *msg, size_t len,
                         struct xf_noise_keys *keys)
{
	struct xf_noise_hs t;
	uint8_t empty[1];
	int rc;

	if (hs == NULL || msg == NULL || keys == NULL || !hs->initiator || hs->state != HS_SENT1 ||
	    hs->peer == NULL || len != XF_NOISE_MSG2_LEN) {
		return -EINVAL;
	}
	/* Work on a copy: a forged response must not spoil the handshake in progress, the
	 * genuine one may still arrive. */
	t = *hs;
	t.remote_index = get32(msg + M2_SENDER);
	memcpy(t.re, msg + M2_E, KL);
	rc = token_e(&t, t.re);
	rc = rc ? rc : mix_dh(&t, t.e_priv, t.re) ? -EBADMSG : 0;      /* ee */
	rc = rc ? rc : mix_dh(&t, t.local->priv, t.re) ? -EBADMSG : 0; /* se */
	rc = rc ? rc : mix_key_and_hash(&t, t.peer->psk);              /* psk */
	rc = rc ? rc : decrypt_and_hash(&t, msg + M2_EMPTY, 0, empty);
	if (rc != 0) {
		xf_noise_hs_wipe(&t);
		return rc;
	}
	xf_noise_hs_wipe(hs);
	return finish(&t, keys);
}

int
xf_noise_consume_response(struct xf_noise_hs *hs, const uint8_t *msg, size_t len,
                          struct xf_noise_keys *keys)
{
	int rc;

	if (keys == NULL) {
		return -EINVAL;
	}
	rc = xf_noise_response_check(hs, msg, len);
	return rc ? rc : xf_noise_response_finish(hs, msg, len, keys);
}
