/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-frame AES-256-GCM on intel-ipsec-mb. The only user of libIPSec_MB.
 *
 * Each lcore owns one manager (xf_crypto_mgr_create on that core): the manager holds the
 * CPU-dispatched function table and an error slot, so sharing it between cores would need
 * a lock. A key (struct xf_crypto_key) is the expanded AES key and GHASH tables plus the
 * 12-byte static IV; it is read-only after xf_crypto_key_init and may be used by any
 * manager.
 *
 * Nonce construction (RFC 8446 5.3, RFC 9001 5.3): the 64-bit packet number, big-endian
 * and left-padded to 12 bytes, XORed into the static IV. A (key, packet number) pair must
 * be sealed at most once; the caller (dataplane/secure) enforces that.
 *
 * Sealing and opening work in place: the payload is replaced by its ciphertext (or
 * plaintext), the header given as associated data is only read, and the 16-byte tag is
 * written to or read from a separate pointer (usually the bytes after the payload).
 */
#ifndef XF_CRYPTO_H
#define XF_CRYPTO_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#define XF_CRYPTO_KEY_LEN 32u /**< AES-256 key bytes */
#define XF_CRYPTO_IV_LEN  12u /**< static IV bytes, XORed with the packet number */
#define XF_CRYPTO_TAG_LEN 16u /**< GCM tag bytes */
/** Bytes reserved for ipsec-mb's struct gcm_key_data (checked at compile time). */
#define XF_CRYPTO_KEYDATA_LEN 1024u

/** One lcore's ipsec-mb manager (opaque). */
struct xf_crypto_mgr;

/** An expanded AES-256-GCM key and its static IV. Wipe with xf_crypto_key_wipe. */
struct xf_crypto_key {
	alignas(64) uint8_t keydata[XF_CRYPTO_KEYDATA_LEN]; /**< ipsec-mb gcm_key_data */
	uint8_t iv[XF_CRYPTO_IV_LEN];                       /**< static IV */
	uint8_t ready;                                      /**< 1 after xf_crypto_key_init */
};

/**
 * Allocate and initialise a manager for the calling core, with the fastest code path the
 * CPU has (init_mb_mgr_auto). Not for the RX fast path: call it at start-up.
 * @return the manager, or NULL with errno set (ENOMEM, or ENOTSUP without AES-NI).
 */
struct xf_crypto_mgr *xf_crypto_mgr_create(void);

/**
 * A manager for HMAC-SHA256 (the handshake's mac1 and mac2, docs/SECURITY.md 3), not for
 * frames: ipsec-mb 1.3's SSE code path when the CPU has the SHA extensions, else
 * xf_crypto_mgr_create's. Of 1.3's managers only SSE (types 2 and 3, SHA extensions
 * required) and AVX2 type 2 (which also needs VAES and GFNI) hash HMAC-SHA256 jobs with
 * SHA-NI, one buffer at a time when flushed; the AVX-512 one, which xf_crypto_mgr_create
 * picks on such a CPU for its AES-GCM, runs a 16-lane kernel: 3 times OpenSSL's HMAC()
 * and 6.7 times this manager per mac1 of a 1,404-byte message 1 (perf/RESULTS.md,
 * 2026-12-07, mac1-9). Its AES-GCM is the SSE one: right for a cookie reply, too slow
 * for frames.
 * @return the manager, or NULL with errno set (as xf_crypto_mgr_create).
 */
struct xf_crypto_mgr *xf_crypto_mgr_create_hmac(void);

/** Free a manager (NULL is a no-op); its memory is wiped first. */
void xf_crypto_mgr_free(struct xf_crypto_mgr *mgr);

/** Name of the code path chosen ("avx512", "avx2", "avx", "sse", "sse+shani"), for logs and
 * perf. */
const char *xf_crypto_mgr_arch(const struct xf_crypto_mgr *mgr);

/**
 * Expand a key. No allocation.
 * @param key 32 bytes, @param iv 12 bytes; both are copied, the caller wipes its copies.
 * @return 0, or -EINVAL on a NULL argument.
 */
int xf_crypto_key_init(struct xf_crypto_mgr *mgr, struct xf_crypto_key *k, const uint8_t *key,
                       const uint8_t *iv);

/** Overwrite a key so that no key material stays in memory. */
void xf_crypto_key_wipe(struct xf_crypto_key *k);

/** The 12-byte nonce of packet number pn under k (exposed for tests and documentation). */
void xf_crypto_nonce(const struct xf_crypto_key *k, uint64_t pn, uint8_t *nonce);

/**
 * Encrypt buf[0..len) in place and write the tag.
 * @param aad, aad_len Associated data (the frame header), may be NULL when aad_len is 0.
 * @return 0, or -EINVAL (NULL pointer, key not initialised).
 */
int xf_crypto_seal(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, uint64_t pn,
                   const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag);

/**
 * Encrypt src[0..len) into dst[0..len) and write the tag: xf_crypto_seal without a copy
 * first when the plaintext must stay (src == dst is the in-place seal).
 * @return 0, or -EINVAL (NULL pointer, key not initialised).
 */
int xf_crypto_seal_to(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, uint64_t pn,
                      const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst,
                      size_t len, uint8_t *tag);

/**
 * Decrypt buf[0..len) in place and verify the tag (constant-time compare).
 * On a tag mismatch the buffer is zeroed, so unauthenticated plaintext never leaves here.
 * @return 0, -EBADMSG on a tag mismatch, or -EINVAL.
 */
int xf_crypto_open(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, uint64_t pn,
                   const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                   const uint8_t *tag);

/** HMAC-SHA256 digest bytes; the key may be at most one SHA-256 block. */
#define XF_CRYPTO_HMAC_LEN     32u
#define XF_CRYPTO_HMAC_KEY_MAX 64u

/**
 * An HMAC-SHA256 key prepared once (RFC 2104 section 4): the SHA-256 states after the
 * block key XOR ipad and after key XOR opad, which ipsec-mb's HMAC job starts from. A MAC
 * under it then hashes only the message and one more block, and allocates nothing (the
 * handshake's mac1 and mac2 checks on an RX core: docs/SECURITY.md 3). Wipe with
 * xf_crypto_hmac_key_wipe.
 */
struct xf_crypto_hmac_key {
	alignas(16) uint8_t ipad[XF_CRYPTO_HMAC_LEN]; /**< SHA-256 state after key ^ ipad */
	alignas(16) uint8_t opad[XF_CRYPTO_HMAC_LEN]; /**< SHA-256 state after key ^ opad */
	uint8_t ready;                                /**< 1 after xf_crypto_hmac_key_init */
};

/**
 * Prepare key[0..key_len) (at most XF_CRYPTO_HMAC_KEY_MAX bytes) for xf_crypto_hmac.
 * @return 0, or -EINVAL (NULL pointer, key too long).
 */
int xf_crypto_hmac_key_init(struct xf_crypto_mgr *mgr, struct xf_crypto_hmac_key *hk,
                            const uint8_t *key, size_t key_len);

/** Overwrite a prepared HMAC key. */
void xf_crypto_hmac_key_wipe(struct xf_crypto_hmac_key *hk);

/**
 * HMAC-SHA256 of d[0..len) under hk, its first out_len bytes (1 to XF_CRYPTO_HMAC_LEN)
 * to out, on mgr's job queue (drained before returning; no allocation).
 * @return 0, -EINVAL (NULL pointer, key not prepared, len 0: ipsec-mb hashes no empty
 *         message, out_len out of range), or -EIO (ipsec-mb refused the job).
 */
int xf_crypto_hmac(struct xf_crypto_mgr *mgr, const struct xf_crypto_hmac_key *hk, const uint8_t *d,
                   size_t len, uint8_t *out, size_t out_len);

#endif /* XF_CRYPTO_H */
