/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay window over 64-bit packet numbers (RFC 6479's ring of words, as WireGuard).
 * A packet number is new when it is above the highest accepted one, or within the last
 * XF_REPLAY_WINDOW numbers and not seen yet. xf_replay_check only looks; the caller
 * verifies the AEAD tag and then calls xf_replay_accept, so a forged frame can neither
 * mark a number as seen nor slide the window. Pure C, no allocation, O(1) per call
 * except a jump ahead, which clears at most XF_REPLAY_WORDS words.
 */
#ifndef XF_REPLAY_H
#define XF_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define XF_REPLAY_WORDS  64u                     /**< ring of 64-bit words */
#define XF_REPLAY_BITS   (XF_REPLAY_WORDS * 64u) /**< 4096 */
#define XF_REPLAY_WINDOW (XF_REPLAY_BITS - 64u)  /**< 4032 numbers behind the top */

/** One receive direction's window. Zero-initialised means empty. */
struct xf_replay {
	uint64_t bits[XF_REPLAY_WORDS];
	uint64_t top; /**< highest accepted packet number */
	bool any;     /**< something accepted yet */
};

/**
 * May pn be accepted? Changes nothing.
 * @return 0 (new), -EALREADY (seen: a duplicate), -ESTALE (older than the window).
 */
int xf_replay_check(const struct xf_replay *w, uint64_t pn);

/** Record pn as seen (after its tag verified); slides the window when pn is above top. */
void xf_replay_accept(struct xf_replay *w, uint64_t pn);

#endif /* XF_REPLAY_H */
