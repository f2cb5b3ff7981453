/* SPDX-License-Identifier: BSD-3-Clause */
/* Transport keys, key update and limits of one session (xf_secure.h). */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "xf_secure.h"

#define KL XF_NOISE_KEY_LEN

/* HKDF-Expand (RFC 5869 2.3) over SHA-256 with an ASCII label as info. */
static int
expand(const uint8_t *secret, const char *label, uint8_t *out, size_t len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, KL),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
		                                  strlen(label)),
		OSSL_PARAM_construct_end(),
	};
	int ok = c != NULL && EVP_KDF_derive(c, out, len, p) == 1;

	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ok ? 0 : -EIO;
}

int
xf_secure_derive(const uint8_t *secret, uint8_t *key, uint8_t *iv, uint8_t *next)
{
	int rc = expand(secret, "xferd key", key, XF_CRYPTO_KEY_LEN);

	rc = rc ? rc : expand(secret, "xferd iv", iv, XF_CRYPTO_IV_LEN);
	return rc ? rc : expand(secret, "xferd ku", next, KL);
}

/* Install the key of secret into k; secret becomes the next secret. */
static int
install(struct xf_crypto_mgr *mgr, struct xf_crypto_key *k, uint8_t *secret)
{
	uint8_t key[XF_CRYPTO_KEY_LEN], iv[XF_CRYPTO_IV_LEN], next[KL];
	int rc = xf_secure_derive(secret, key, iv, next);

	rc = rc ? rc : xf_crypto_key_init(mgr, k, key, iv);
	if (rc == 0) {
		memcpy(secret, next, KL);
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	OPENSSL_cleanse(next, sizeof(next));
	return rc;
}

void
xf_secure_limits_default(struct xf_secure_limits *lim)
{
	/* Update at half the limit, so that an update in flight never hits it. */
	lim->key_update_frames = XF_SECURE_MAX_FRAMES_PER_KEY / 2;
	lim->max_frames = XF_SECURE_MAX_FRAMES_PER_KEY;
	lim->rekey_ns = XF_SECURE_REKEY_SECS * 1000000000ull;
	lim->reject_ns = XF_SECURE_REJECT_SECS * 1000000000ull;
	lim->prev_key_ns = XF_SECURE_PREV_KEY_NS;
}

void
xf_secure_wipe(struct xf_secure *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int
xf_secure_init(struct xf_secure *s, struct xf_crypto_mgr *mgr, const struct xf_noise_keys *k,
               const struct xf_secure_limits *lim, uint64_t now_ns)
{
	int rc;

	if (s == NULL || mgr == NULL || k == NULL) {
		return -EINVAL;
	}
	memset(s, 0, sizeof(*s));
	if (lim != NULL) {
		s->lim = *lim;
	} else {
		xf_secure_limits_default(&s->lim);
	}
	s->born_ns = now_ns;
	memcpy(s->tx.secret, k->send, KL);
	memcpy(s->rx.next_secret, k->recv, KL);
	rc = install(mgr, &s->tx.key, s->tx.secret);
	/* The next keys are ready before they are needed: the fast paths only swap keys,
	 * never derive one (OpenSSL allocates), and deriving the receive key on the first
	 * frame of a new phase would show in timing whether a forged phase bit was tried. */
	rc = rc ? rc : install(mgr, &s->tx.next, s->tx.secret);
	rc = rc ? rc : install(mgr, &s->rx.cur, s->rx.next_secret);
	rc = rc ? rc : install(mgr, &s->rx.next, s->rx.next_secret);
	if (rc != 0) {
		xf_secure_wipe(s);
		return rc;
	}
	s->tx.next_ready = true;
	s->rx.next_ready = true;
	return rc;
}

bool
xf_secure_should_key_update(const struct xf_secure *s)
{
	return s->tx.frames >= s->lim.key_update_frames;
}

bool
xf_secure_should_rekey(const struct xf_secure *s, uint64_t now_ns)
{
	return now_ns - s->born_ns >= s->lim.rekey_ns;
}

bool
xf_secure_key_expired(const struct xf_secure *s, uint64_t now_ns)
{
	return now_ns - s->born_ns >= s->lim.reject_ns;
}

/* Swap in the precomputed next send key; xf_secure_maintain derives the one after. */
static void
tx_update(struct xf_secure *s)
{
	s->tx.key = s->tx.next;
	__atomic_store_n(&s->tx.next_ready, false, __ATOMIC_RELEASE);
	s->tx.phase ^= 1;
	s->tx.frames = 0;
	s->tx.updates++;
	s->st.key_updates_tx++;
}

/* The next keys are handed over between xf_secure_maintain and the fast paths, which may
 * run on different cores: the flag is published after the key is written. */
static bool
tx_next_ready(const struct xf_secure *s)
{
	return __atomic_load_n(&s->tx.next_ready, __ATOMIC_ACQUIRE);
}

/* Updates the receive side has seen; written by the receiving core, read by the sender. */
static uint64_t
rx_updates(const struct xf_secure *s)
{
	return __atomic_load_n(&s->rx.updates, __ATOMIC_ACQUIRE);
}

int
xf_secure_seal(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint64_t pn, uint64_t now_ns,
               const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag)
{
	return xf_secure_seal_to(s, mgr, pn, now_ns, aad, aad_len, buf, buf, len, tag);
}

int
xf_secure_seal_to(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint64_t pn, uint64_t now_ns,
                  const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
                  uint8_t *tag)
{
	int rc;

	if (s->tx.any && pn <= s->tx.last_pn) {
		s->st.nonce_refused++;
		return -EINVAL;
	}
	/* Not counted here: the receive side owns st.expired, and a refused seal is the
	 * caller's own decision to act on. */
	if (xf_secure_key_expired(s, now_ns)) {
		return -EKEYEXPIRED;
	}
	if (s->tx.frames >= s->lim.max_frames) {
		return -ENOSPC;
	}
	rc = xf_crypto_seal_to(mgr, &s->tx.key, pn, aad, aad_len, src, dst, len, tag);
	if (rc == 0) {
		s->tx.last_pn = pn;
		s->tx.any = true;
		s->tx.frames++;
		s->st.sealed++;
	}
	return rc;
}

uint8_t
xf_secure_phase(struct xf_secure *s)
{
	/* The peer updated its keys: answer with ours (RFC 9001 6.2) from this frame on.
	 * Without the next key prepared the frame goes under the current one, which the
	 * peer still holds as its previous key. */
	if (rx_updates(s) > s->tx.updates && tx_next_ready(s)) {
		tx_update(s);
	}
	return s->tx.phase;
}

int
xf_secure_key_update(struct xf_secure *s)
{
	/* The peer must have answered the last update (sent under our phase) first, and
	 * the key after the current one must be ready. */
	if (s->tx.updates != rx_updates(s) || !tx_next_ready(s)) {
		return -EAGAIN;
	}
	tx_update(s);
	return 0;
}

int
xf_secure_maintain(struct xf_secure *s, struct xf_crypto_mgr *mgr)
{
	int rc = 0;

	if (!tx_next_ready(s)) {
		rc = install(mgr, &s->tx.next, s->tx.secret);
		__atomic_store_n(&s->tx.next_ready, rc == 0, __ATOMIC_RELEASE);
	}
	if (rc == 0 && !__atomic_load_n(&s->rx.next_ready, __ATOMIC_ACQUIRE)) {
		rc = install(mgr, &s->rx.next, s->rx.next_secret);
		__atomic_store_n(&s->rx.next_ready, rc == 0, __ATOMIC_RELEASE);
	}
	return rc;
}

/* After the next key verified a frame: prev <- cur <- next; the next one comes from
 * xf_secure_maintain. The send side answers on its next seal (xf_secure_seal). */
static void
rx_rotate(struct xf_secure *s, uint64_t pn, uint64_t now_ns)
{
	s->rx.prev = s->rx.cur;
	s->rx.has_prev = true;
	s->rx.prev_until_ns = now_ns + s->lim.prev_key_ns;
	s->rx.cur = s->rx.next;
	__atomic_store_n(&s->rx.next_ready, false, __ATOMIC_RELEASE);
	s->rx.phase ^= 1;
	s->rx.cur_first_pn = pn;
	s->rx.cur_any = true;
	s->st.key_updates_rx++;
	__atomic_store_n(&s->rx.updates, s->rx.updates + 1, __ATOMIC_RELEASE);
}

int
xf_secure_open(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint64_t pn, uint8_t phase,
               uint64_t now_ns, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
               const uint8_t *tag)
{
	const struct xf_crypto_key *k;
	bool use_next = false;
	int rc;

	if (xf_secure_key_expired(s, now_ns)) {
		s->st.expired++;
		return -EKEYEXPIRED;
	}
	rc = xf_replay_check(&s->rx.win, pn);
	if (rc != 0) {
		if (rc == -EALREADY) {
			s->st.replayed++;
		} else {
			s->st.too_old++;
		}
		return rc;
	}
	if (s->rx.has_prev && now_ns >= s->rx.prev_until_ns) {
		xf_crypto_key_wipe(&s->rx.prev);
		s->rx.has_prev = false;
	}
	if ((phase & 1) == s->rx.phase) {
		k = &s->rx.cur;
	} else if (s->rx.has_prev && pn < s->rx.cur_first_pn) {
		k = &s->rx.prev; /* reordered from before the last update */
	} else if (__atomic_load_n(&s->rx.next_ready, __ATOMIC_ACQUIRE)) {
		k = &s->rx.next;
		use_next = true;
	} else {
		/* A second update before xf_secure_maintain ran: cannot be genuine yet. */
		s->st.auth_failed++;
		return -EBADMSG;
	}
	rc = xf_crypto_open(mgr, k, pn, aad, aad_len, buf, len, tag);
	if (rc != 0) {
		s->st.auth_failed++;
		return rc;
	}
	xf_replay_accept(&s->rx.win, pn);
	s->st.opened++;
	if (use_next) {
		rx_rotate(s, pn, now_ns);
		return 0;
	}
	if (k == &s->rx.cur && (!s->rx.cur_any || pn < s->rx.cur_first_pn)) {
		s->rx.cur_first_pn = pn;
		s->rx.cur_any = true;
	}
	return 0;
}
