/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A session's transport keys across handshakes (docs/SECURITY.md 5): a new handshake
 * every rekey interval replaces the keys of the last one, so no key outlives the reject
 * limit however long the session lasts.
 *
 * Each handshake's keys are one struct xf_secure (with its own key updates). Frames carry
 * the parity of the handshake that sealed them (XF_HDR_F_KEY_EPOCH), so the receiver picks
 * the keys by a header bit, never by trying several:
 *   cur   keys that seal, and open frames of the current epoch;
 *   next  keys of a new handshake not yet in use: the responder's until the initiator's
 *         first frame under them verifies, the initiator's while it checks the answer;
 *   prev  the keys cur replaced, kept for XF_SECURE_PREV_KEY_NS (lim.prev_key_ns) to open
 *         frames sealed before the switch and received after it (reordered), never to
 *         seal.
 * The initiator switches (next -> cur) when the responder's answer verifies under next;
 * the responder switches when the initiator's first frame of the new epoch verifies, so
 * the responder never seals under keys the initiator may not hold yet (as WireGuard).
 * Everything here runs on the session's RX core; nothing allocates but the handshake's
 * key installation (xf_secure_init), which runs off the per-frame path.
 */
#ifndef XF_SECURE_SESS_H
#define XF_SECURE_SESS_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_secure.h"

/** One session's keys over its handshakes. Caller-allocated; wipe with xf_secure_sess_wipe. */
struct xf_secure_sess {
	struct xf_secure cur, next, prev;
	uint8_t epoch; /**< parity of cur's handshake (XF_HDR_F_KEY_EPOCH) */
	bool has_next, has_prev;
	uint64_t prev_until_ns;    /**< prev is dropped from then on */
	uint64_t rekeys;           /**< switches to a new handshake's keys */
	uint64_t last_key_updates; /**< key updates of the keys cur replaced, summed */
};

/** Install the keys of a session's first handshake (epoch 0). @return as xf_secure_init. */
int xf_secure_sess_init(struct xf_secure_sess *ss, struct xf_crypto_mgr *mgr,
                        const struct xf_noise_keys *k, const struct xf_secure_limits *lim,
                        uint64_t now_ns);

/**
 * Hold the keys of a new handshake as next (replacing a next not yet used): the
 * responder's after answering, the initiator's before checking the answer.
 * @return as xf_secure_init; on failure next is gone and cur is unchanged.
 */
int xf_secure_sess_offer(struct xf_secure_sess *ss, struct xf_crypto_mgr *mgr,
                         const struct xf_noise_keys *k, const struct xf_secure_limits *lim,
                         uint64_t now_ns);

/** Forget next (its handshake's answer did not verify). */
void xf_secure_sess_drop_next(struct xf_secure_sess *ss);

/** next becomes cur; the old cur opens reordered frames until now_ns + lim.prev_key_ns. */
void xf_secure_sess_switch(struct xf_secure_sess *ss, uint64_t now_ns);

/** Parity of the keys next would seal under (the current one flipped). */
static inline uint8_t
xf_secure_sess_next_epoch(const struct xf_secure_sess *ss)
{
	return ss->epoch ^ 1u;
}

/**
 * The keys that open a frame of the given epoch bit: cur for the current epoch; for the
 * other, next while one is held, else prev while it is kept; NULL when none (drop:
 * nothing can verify it). Drops prev once its time is up.
 */
struct xf_secure *xf_secure_sess_rx_keys(struct xf_secure_sess *ss, uint8_t epoch, uint64_t now_ns);

/** A frame verified under keys (from xf_secure_sess_rx_keys): the first under next
 *  switches to it (the responder's confirmation). @return true if it switched. */
bool xf_secure_sess_opened(struct xf_secure_sess *ss, const struct xf_secure *keys,
                           uint64_t now_ns);

/** Is a new handshake due (cur as old as lim.rekey_ns)? */
bool xf_secure_sess_should_rekey(const struct xf_secure_sess *ss, uint64_t now_ns);

/** Key updates of every handshake's keys so far (both directions). */
uint64_t xf_secure_sess_key_updates(const struct xf_secure_sess *ss);

/** Wipe every key. */
void xf_secure_sess_wipe(struct xf_secure_sess *ss);

#endif /* XF_SECURE_SESS_H */
