/* SPDX-License-Identifier: BSD-3-Clause */
/* AES-256-GCM per frame on intel-ipsec-mb 1.3 (docs/DEPENDENCIES.md, docs/SECURITY.md). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "xf_crypto.h"

_Static_assert(sizeof(struct gcm_key_data) <= XF_CRYPTO_KEYDATA_LEN,
               "XF_CRYPTO_KEYDATA_LEN too small for ipsec-mb's gcm_key_data");
_Static_assert(_Alignof(struct gcm_key_data) <= 64, "gcm_key_data alignment above 64");

/* The manager is ipsec-mb's own IMB_MGR; the wrapper type only hides the header. */
struct xf_crypto_mgr;

static IMB_MGR *
imb(struct xf_crypto_mgr *m)
{
	return (IMB_MGR *)m;
}

/* hmac: the SSE code path when the CPU has the SHA extensions (xf_crypto_mgr_create_hmac). */
static struct xf_crypto_mgr *
mgr_create(bool hmac)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (m == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/* Without AES-NI ipsec-mb falls back to a slow emulation: refuse it, a frame path
	 * on it would be an order of magnitude slower than the link. */
	if ((m->features & IMB_FEATURE_AESNI) == 0 || (m->features & IMB_FEATURE_PCLMULQDQ) == 0) {
		free_mb_mgr(m);
		errno = ENOTSUP;
		return NULL;
	}
	if (hmac && (m->features & IMB_FEATURE_SHANI) != 0) {
		init_mb_mgr_sse(m);
	} else {
		init_mb_mgr_auto(m, NULL);
	}
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		errno = ENOTSUP;
		return NULL;
	}
	return (struct xf_crypto_mgr *)m;
}

struct xf_crypto_mgr *
xf_crypto_mgr_create(void)
{
	return mgr_create(false);
}

struct xf_crypto_mgr *
xf_crypto_mgr_create_hmac(void)
{
	return mgr_create(true);
}

void
xf_crypto_mgr_free(struct xf_crypto_mgr *mgr)
{
	if (mgr != NULL) {
		/* An HMAC job leaves its last digests in the manager's lanes (a cookie
		 * secret, xf_noise.h): wiped, as keys are. alloc_mb_mgr allocated this size. */
		explicit_bzero(mgr, imb_get_mb_mgr_size());
		free_mb_mgr(imb(mgr));
	}
}

const char *
xf_crypto_mgr_arch(const struct xf_crypto_mgr *mgr)
{
	switch (((const IMB_MGR *)mgr)->used_arch) {
	case IMB_ARCH_AVX512:
		return "avx512";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_SSE:
		return (((const IMB_MGR *)mgr)->features & IMB_FEATURE_SHANI) != 0 ? "sse+shani"
		                                                                   : "sse";
	default:
		return "other";
	}
}

int
xf_crypto_key_init(struct xf_crypto_mgr *mgr, struct xf_crypto_key *k, const uint8_t *key,
                   const uint8_t *iv)
{
	if (mgr == NULL || k == NULL || key == NULL || iv == NULL) {
		return -EINVAL;
	}
	IMB_AES256_GCM_PRE(imb(mgr), key, (struct gcm_key_data *)k->keydata);
	memcpy(k->iv, iv, XF_CRYPTO_IV_LEN);
	k->ready = 1;
	return 0;
}

void
xf_crypto_key_wipe(struct xf_crypto_key *k)
{
	if (k != NULL) {
		/* explicit_bzero: a plain memset before free may be optimised away. */
		explicit_bzero(k, sizeof(*k));
	}
}

void
xf_crypto_nonce(const struct xf_crypto_key *k, uint64_t pn, uint8_t *nonce)
{
	memcpy(nonce, k->iv, XF_CRYPTO_IV_LEN);
	for (unsigned int i = 0; i < 8; i++) {
		nonce[XF_CRYPTO_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	}
}

static bool
args_ok(const struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, const uint8_t *aad,
        size_t aad_len, const uint8_t *buf, size_t len, const uint8_t *tag)
{
	return mgr != NULL && k != NULL && k->ready && tag != NULL && (buf != NULL || len == 0) &&
	       (aad != NULL || aad_len == 0);
}

int
xf_crypto_seal(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, uint64_t pn,
               const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag)
{
	return xf_crypto_seal_to(mgr, k, pn, aad, aad_len, buf, buf, len, tag);
}

int
xf_crypto_seal_to(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, uint64_t pn,
                  const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst, size_t len,
                  uint8_t *tag)
{
	struct gcm_context_data ctx;
	uint8_t nonce[XF_CRYPTO_IV_LEN];

	if (!args_ok(mgr, k, aad, aad_len, src, len, tag) || (dst == NULL && len != 0)) {
		return -EINVAL;
	}
	xf_crypto_nonce(k, pn, nonce);
	IMB_AES256_GCM_ENC(imb(mgr), (const struct gcm_key_data *)k->keydata, &ctx, dst, src, len,
	                   nonce, aad, aad_len, tag, XF_CRYPTO_TAG_LEN);
	return 0;
}

int
xf_crypto_open(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, uint64_t pn,
               const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, const uint8_t *tag)
{
	struct gcm_context_data ctx;
	uint8_t nonce[XF_CRYPTO_IV_LEN];
	uint8_t calc[XF_CRYPTO_TAG_LEN];
	uint8_t diff = 0;

	if (!args_ok(mgr, k, aad, aad_len, buf, len, tag)) {
		return -EINVAL;
	}
	xf_crypto_nonce(k, pn, nonce);
	IMB_AES256_GCM_DEC(imb(mgr), (const struct gcm_key_data *)k->keydata, &ctx, buf, buf, len,
	                   nonce, aad, aad_len, calc, XF_CRYPTO_TAG_LEN);
	/* ipsec-mb returns the computed tag; the comparison is ours and must not leak how
	 * many bytes matched. */
	for (unsigned int i = 0; i < XF_CRYPTO_TAG_LEN; i++) {
		diff |= (uint8_t)(calc[i] ^ tag[i]);
	}
	explicit_bzero(&ctx, sizeof(ctx));
	if (diff != 0) {
		if (len > 0) {
			memset(buf, 0, len);
		}
		return -EBADMSG;
	}
	return 0;
}

#define HMAC_BLOCK 64u

int
xf_crypto_hmac_key_init(struct xf_crypto_mgr *mgr, struct xf_crypto_hmac_key *hk,
                        const uint8_t *key, size_t key_len)
{
	uint8_t ib[HMAC_BLOCK], ob[HMAC_BLOCK];

	if (mgr == NULL || hk == NULL || (key == NULL && key_len != 0) ||
	    key_len > XF_CRYPTO_HMAC_KEY_MAX) {
		return -EINVAL;
	}
	memset(ib, 0x36, sizeof(ib));
	memset(ob, 0x5c, sizeof(ob));
	for (size_t i = 0; i < key_len; i++) {
		ib[i] ^= key[i];
		ob[i] ^= key[i];
	}
	IMB_SHA256_ONE_BLOCK(imb(mgr), ib, hk->ipad);
	IMB_SHA256_ONE_BLOCK(imb(mgr), ob, hk->opad);
	explicit_bzero(ib, sizeof(ib));
	explicit_bzero(ob, sizeof(ob));
	hk->ready = 1;
	return 0;
}

void
xf_crypto_hmac_key_wipe(struct xf_crypto_hmac_key *hk)
{
	if (hk != NULL) {
		explicit_bzero(hk, sizeof(*hk));
	}
}

int
xf_crypto_hmac(struct xf_crypto_mgr *mgr, const struct xf_crypto_hmac_key *hk, const uint8_t *d,
               size_t len, uint8_t *out, size_t out_len)
{
	IMB_MGR *m = imb(mgr);
	IMB_JOB *job, *done;
	uint8_t tag[XF_CRYPTO_HMAC_LEN];
	int rc = -EIO;

	/* ipsec-mb 1.3 refuses a job that hashes nothing (its status is not completed). */
	if (mgr == NULL || hk == NULL || !hk->ready || d == NULL || len == 0 || out == NULL ||
	    out_len == 0 || out_len > XF_CRYPTO_HMAC_LEN) {
		return -EINVAL;
	}
	/* The whole tag, always a valid length for the job; truncated below. */
	job = IMB_GET_NEXT_JOB(m);
	job->cipher_mode = IMB_CIPHER_NULL;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->hash_alg = IMB_AUTH_HMAC_SHA_256;
	job->src = d;
	job->dst = NULL;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = 0;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->u.HMAC._hashed_auth_key_xor_ipad = hk->ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = hk->opad;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = sizeof(tag);
	job->user_data = tag;
	/* Multi-buffer: the manager may hold the job for other lanes; nothing else of ours
	 * is queued (AES-GCM uses the direct API), so draining returns ours. */
	done = IMB_SUBMIT_JOB(m);
	do {
		if (done != NULL && done->user_data == tag) {
			rc = done->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
		}
	} while ((done = IMB_FLUSH_JOB(m)) != NULL);
	if (rc == 0) {
		memcpy(out, tag, out_len);
	}
	explicit_bzero(tag, sizeof(tag));
	return rc;
}
