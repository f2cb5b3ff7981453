/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * When a responder is "under load" (docs/SECURITY.md 3): the HELLOs whose mac1 verified
 * (each would cost Diffie-Hellman work) are counted in windows of one second, on each RX
 * core. The core is under load while the current window or the one before it counted
 * limit or more; then an initiation without a valid mac2 gets a cookie reply and no DH,
 * and those with a valid mac2 get DH work for at most limit of them per window.
 * The window before counts so that a steady flood keeps the core under load from the
 * first HELLO of each new window: only its onset (at most limit HELLOs) costs DH.
 * Pure C, no allocation, no clock read: time is passed in. One owner (the RX core).
 */
#ifndef XF_HS_LOAD_H
#define XF_HS_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#define XF_HS_LOAD_WINDOW_NS 1000000000ull /**< one second */

/** Zero-initialised plus xf_hs_load_init. */
struct xf_hs_load {
	uint64_t start_ns; /**< start of the current window */
	uint32_t limit;    /**< HELLOs with a valid mac1 per window that mean "under load" */
	uint32_t count;    /**< HELLOs with a valid mac1 in the current window */
	uint32_t prev;     /**< in the window before (0 if that was not the one just before) */
	uint32_t mac2;     /**< HELLOs admitted on their mac2 in the current window */
	bool started;
};

/** Set the limit (at least 1) and empty the windows. */
void xf_hs_load_init(struct xf_hs_load *l, uint32_t limit);

/**
 * Is the core under load at now_ns (before the HELLO being judged is counted)?
 * Moves to a new window when the current one is over.
 */
bool xf_hs_load_busy(struct xf_hs_load *l, uint64_t now_ns);

/** Count a HELLO whose mac1 verified (call xf_hs_load_busy first, at the same now_ns). */
void xf_hs_load_note(struct xf_hs_load *l);

/**
 * Until when the core is under load if no other HELLO comes: the end of the window after
 * the current one if the current one reached the limit, else the end of the current one
 * if the one before did. @return that time in ns, or 0 (not under load).
 */
uint64_t xf_hs_load_until(const struct xf_hs_load *l);

/**
 * Under load, may a HELLO whose mac2 verified have its DH work? Takes one of the window's
 * limit such admissions. @return true (go on), false (drop it: the budget is spent).
 */
bool xf_hs_load_admit_mac2(struct xf_hs_load *l);

/**
 * A budget of work per window of one second: the initiator's reads of message 2 (two
 * Diffie-Hellman operations each, on the handshake thread: docs/SECURITY.md 8.2), which
 * a forged HELLO_ACK with a valid mac1 (keyed by our public key, no secret) would
 * otherwise cost without bound. Zero-initialised; one owner.
 */
struct xf_hs_budget {
	uint64_t start_ns; /**< start of the current window */
	uint32_t used;     /**< taken in it */
	bool started;
};

/**
 * Take one of limit per window at now_ns (a window starts at the first take after the
 * previous one ended). @return true (go on), false (spent: drop the work, count it).
 */
bool xf_hs_budget_take(struct xf_hs_budget *b, uint32_t limit, uint64_t now_ns);

#endif /* XF_HS_LOAD_H */
