/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport keys of one session after the handshake: AEAD per frame, packet-number
 * discipline, replay window, key update and key lifetime (docs/SECURITY.md).
 *
 * - One traffic secret per direction (xf_noise_keys). From a secret S, with HKDF-Expand
 *   (RFC 5869) over SHA-256: key = Expand(S, "xferd key", 32), iv = Expand(S, "xferd iv",
 *   12), and the next secret of a key update S' = Expand(S, "xferd ku", 32) (as QUIC's
 *   "quic key", "quic iv", "quic ku", RFC 9001 5.1 and 6).
 * - Sending: packet numbers strictly increase per direction (retransmissions take new
 *   ones), so no (key, nonce) pair is ever sealed twice; a packet number at or below the
 *   last one sealed is refused and counted (nonce_refused).
 * - Receiving: the replay window is checked before and advanced only after the tag
 *   verifies. A frame whose key phase differs from the current one is opened with the
 *   next key (a key update by the peer; the keys rotate only when it verifies) or, while
 *   it is kept, with the previous key when its packet number is below the first one
 *   received under the current key (a reordered frame).
 * - Limits, with the time injected by the caller: at most XF_SECURE_MAX_FRAMES_PER_KEY
 *   frames sealed per key (RFC 9001 6.6 for AES-GCM), no frame sealed or opened once
 *   the session keys are XF_SECURE_REJECT_SECS old, and a new handshake is due at
 *   XF_SECURE_REKEY_SECS (WireGuard's Reject-After-Time and Rekey-After-Time).
 *
 * Seal and open never derive a key, lock or allocate: the next keys are precomputed, and
 * xf_secure_maintain (off the fast path) prepares the ones after an update. The receive
 * half (xf_secure_open) may run on one core and the send half (xf_secure_seal,
 * xf_secure_key_update) on another, and xf_secure_maintain on a third. They share only
 * the count of receive rotations (through which the send side answers a peer's update)
 * and the two "next key ready" flags, all read and written atomically; each key is
 * written only while its flag says nobody else reads it.
 */
#ifndef XF_SECURE_H
#define XF_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_crypto.h"
#include "xf_noise.h"
#include "xf_replay.h"

#define XF_SECURE_MAX_FRAMES_PER_KEY (1ull << 23)           /**< RFC 9001 6.6, AES-GCM */
#define XF_SECURE_REKEY_SECS         120u                   /**< WireGuard Rekey-After-Time */
#define XF_SECURE_REJECT_SECS        180u                   /**< WireGuard Reject-After-Time */
#define XF_SECURE_PREV_KEY_NS        (3ull * 1000000000ull) /**< old receive key kept */

/** Tunables (tests shrink them); xf_secure_limits_default gives the values above. */
struct xf_secure_limits {
	uint64_t key_update_frames; /**< should_key_update from this many frames per key */
	uint64_t max_frames;        /**< seal refused from this many frames per key */
	uint64_t rekey_ns;          /**< should_rekey from this session age */
	uint64_t reject_ns;         /**< key_expired from this session age */
	uint64_t prev_key_ns;       /**< how long the previous receive key is kept */
};

/** Counters of one session (read by the session layer for stats). sealed and
 * nonce_refused and key_updates_tx belong to the sending core, the rest to the
 * receiving one. */
struct xf_secure_stats {
	uint64_t sealed, opened;
	uint64_t auth_failed;   /**< tag did not verify */
	uint64_t replayed;      /**< duplicate packet number */
	uint64_t too_old;       /**< behind the replay window */
	uint64_t expired;       /**< frames received after the keys expired */
	uint64_t nonce_refused; /**< seal asked with a packet number not above the last */
	uint64_t key_updates_tx, key_updates_rx;
};

struct xf_secure_tx {
	struct xf_crypto_key key;
	struct xf_crypto_key next;        /**< key of the next update, precomputed */
	bool next_ready;                  /**< next is installed */
	uint64_t updates;                 /**< key updates of this direction */
	uint8_t secret[XF_NOISE_KEY_LEN]; /**< secret of the key after next */
	uint64_t last_pn;                 /**< last packet number sealed */
	bool any;                         /**< something sealed yet */
	uint64_t frames;                  /**< frames sealed under the current key */
	uint8_t phase;                    /**< key phase bit of the current key */
};

struct xf_secure_rx {
	struct xf_crypto_key cur, next, prev;
	uint8_t next_secret[XF_NOISE_KEY_LEN]; /**< secret of the key after next */
	bool next_ready;                       /**< next is installed */
	uint64_t updates; /**< rotations so far (read by the sending core: atomic) */
	uint8_t phase;    /**< key phase bit of cur */
	bool has_prev;
	uint64_t prev_until_ns;
	uint64_t cur_first_pn; /**< lowest packet number accepted under cur */
	bool cur_any;
	struct xf_replay win;
};

/** One session's transport state. Caller-allocated; wipe with xf_secure_wipe. */
struct xf_secure {
	struct xf_secure_tx tx;
	struct xf_secure_rx rx;
	struct xf_secure_limits lim;
	struct xf_secure_stats st;
	uint64_t born_ns; /**< when the handshake finished (monotonic) */
};

/** The default limits (the XF_SECURE_* values). */
void xf_secure_limits_default(struct xf_secure_limits *lim);

/**
 * Derive the frame key and IV of a traffic secret, and the secret that follows it.
 * Exposed for the cross-implementation test. @return 0 or -EIO.
 */
int xf_secure_derive(const uint8_t *secret, uint8_t *key, uint8_t *iv, uint8_t *next);

/**
 * Install the keys of a finished handshake. @param lim NULL for the defaults.
 * @return 0, -EINVAL or -EIO.
 */
int xf_secure_init(struct xf_secure *s, struct xf_crypto_mgr *mgr, const struct xf_noise_keys *k,
                   const struct xf_secure_limits *lim, uint64_t now_ns);

/** Wipe every key and secret. */
void xf_secure_wipe(struct xf_secure *s);

/**
 * Seal one frame in place under the current send key.
 * @param pn Packet number; must be above every one sealed before in this session.
 * The header (aad) already holds the key phase bit from xf_secure_phase, so the bit is
 * authenticated.
 * @return 0; -EINVAL (pn not above the last: would reuse a nonce), -EKEYEXPIRED (keys
 *         XF_SECURE_REJECT_SECS old), -ENOSPC (frame limit of this key: update first).
 */
int xf_secure_seal(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint64_t pn, uint64_t now_ns,
                   const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag);

/**
 * xf_secure_seal from src[0..len) into dst[0..len), src left as it was (src == dst: in
 * place). Same parameters otherwise, same returns.
 */
int xf_secure_seal_to(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint64_t pn, uint64_t now_ns,
                      const uint8_t *aad, size_t aad_len, const uint8_t *src, uint8_t *dst,
                      size_t len, uint8_t *tag);

/**
 * Key phase bit to write into the header of the next frame, before sealing it. When the
 * peer has updated its keys since, this first switches the send side to the next key
 * (the answer of RFC 9001 6.2), so call it once per frame, on the sending core.
 */
uint8_t xf_secure_phase(struct xf_secure *s);

/**
 * Open one frame in place. Replay window and key rotation change only when the tag
 * verifies.
 * @return 0; -EALREADY (duplicate), -ESTALE (behind the window), -EBADMSG (tag, or no
 *         key for that phase), -EKEYEXPIRED.
 */
int xf_secure_open(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint64_t pn, uint8_t phase,
                   uint64_t now_ns, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                   const uint8_t *tag);

/**
 * Start a key update of the send direction: the phase bit flips and the precomputed next
 * key takes over. No derivation, no allocation.
 * @return 0, or -EAGAIN while the peer has not yet sent under our current phase (as RFC
 *         9001 6.1: one update at a time) or xf_secure_maintain has not prepared the next
 *         key yet.
 */
int xf_secure_key_update(struct xf_secure *s);

/**
 * Derive the keys that follow the ones in use after an update (HKDF through OpenSSL,
 * which allocates): call it off the fast path, e.g. from the session's timer, whenever
 * an update happened. Until it has run, a further update is refused (-EAGAIN) and a
 * frame of a second new phase fails to open. @return 0 or -EIO.
 */
int xf_secure_maintain(struct xf_secure *s, struct xf_crypto_mgr *mgr);

/** Has the current send key sealed enough frames that a key update is due? */
bool xf_secure_should_key_update(const struct xf_secure *s);

/** Is a new handshake due (session keys XF_SECURE_REKEY_SECS old)? */
bool xf_secure_should_rekey(const struct xf_secure *s, uint64_t now_ns);

/** Are the session keys too old to use (XF_SECURE_REJECT_SECS)? */
bool xf_secure_key_expired(const struct xf_secure *s, uint64_t now_ns);

#endif /* XF_SECURE_H */
