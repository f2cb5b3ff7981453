/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshake thread's doorbell: it sleeps until an RX core passes it a HELLO, instead
 * of polling its queues on a timer. Polling every 20 us cost each xferd about 0.3 CPU
 * seconds per second for a second after every handshake (30,000 wake-ups in a 1.1 s push
 * of /usr/include, 8.7 us of CPU each on this VM), and took the CPU from the RX cores on a
 * 2-CPU machine: docs/ENGINE.md, "Handshake thread".
 *
 * A futex word counts the rings. The waiter takes a token (the count) before it looks at
 * its queues and sleeps only while the count is still the token, so a ring between its
 * look and its sleep is never lost. A ringer makes the wake-up system call only when the
 * waiter says it is asleep (or about to be): an RX core that submits while the thread is
 * busy pays two atomic operations, no system call. One waiter; any number of ringers.
 * Pure C, no EAL, no allocation.
 */
#ifndef XF_HS_BELL_H
#define XF_HS_BELL_H

#include <stdint.h>

/** A doorbell. Zero it before use. */
struct xf_hs_bell {
	uint32_t seq;     /**< futex word: rings so far (wraps) */
	uint32_t waiting; /**< 1 while the waiter is in or entering xf_hs_bell_wait */
	uint64_t wakes;   /**< ringers: wake-up system calls made */
	uint64_t sleeps;  /**< waiter: waits that went to sleep (not rung since the token) */
};

/** Waiter: the token to pass to xf_hs_bell_wait; take it before looking for work. */
uint32_t xf_hs_bell_token(const struct xf_hs_bell *b);

/** Any thread: after publishing work (a ring enqueue), wake the waiter if it sleeps. */
void xf_hs_bell_ring(struct xf_hs_bell *b);

/**
 * Waiter: sleep until the bell rings, unless it has rung since token was taken.
 * @return 1 if it slept (or entered the sleep), 0 if it was rung since the token.
 */
int xf_hs_bell_wait(struct xf_hs_bell *b, uint32_t token);

#endif /* XF_HS_BELL_H */
