/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mbufs that a kept frame's sealed copy is written into (eng_secure_tx), reused while
 * they are still in the cache.
 *
 * Every data frame a push sends is kept for retransmission, so it is sealed from the kept
 * plaintext into a second mbuf. One from the mempool is often cold: the per-lcore cache
 * hands back first what was freed last, and an ACK frees a run of kept frames written
 * long before. The cipher's stores into a cold buffer read every line first, and
 * AES-GCM from a cold kept frame ran at 5.8 GB per CPU-second into a warm buffer against
 * 4.1 into a cold one (perf/RESULTS.md, 2026-12-07, aead-10). This ring holds a
 * reference to the last XF_SEALBUF_SLOTS copies: once the TX path has let one go (the
 * NIC's or memif's copy made, its reference dropped), the next seal writes into it
 * again, while its lines are warm. A copy still in flight is left to the TX path and
 * its slot takes a new mbuf.
 *
 * The ring's own reference keeps XF_SEALBUF_SLOTS mbufs of the pool per RX core, out of
 * at least 16,383 (xf_engine.c). Nothing else changes for the TX path: it takes the
 * copy with one reference, as from the pool, and sends frames of more than one
 * reference anyway (every kept frame in plaintext mode). Single-threaded: the RX core's
 * own.
 */
#ifndef XF_ENGINE_SEALBUF_H
#define XF_ENGINE_SEALBUF_H

#include <stdint.h>

#include <rte_mbuf.h>

#define XF_SEALBUF_SLOTS 32u /**< about one TX burst of jumbo frames: 288 KiB, in L2 */

struct xf_sealbuf {
	struct rte_mbuf *slot[XF_SEALBUF_SLOTS]; /**< last copies handed out (our reference) */
	unsigned int next;                       /**< slot of the next copy */
	uint64_t reused;                         /**< copies written into a slot's mbuf again */
	uint64_t fresh;                          /**< copies that took an mbuf of the pool */
};

/**
 * An mbuf for a sealed copy, reset as rte_pktmbuf_alloc leaves one, with one reference
 * for the caller (who hands it to the TX path or frees it); the ring keeps another.
 * @return the mbuf, or NULL when the pool is empty.
 */
struct rte_mbuf *xf_sealbuf_get(struct xf_sealbuf *sb, struct rte_mempool *mp);

/** Drop the ring's references (the mbufs go back to the pool once the TX path is done). */
void xf_sealbuf_fini(struct xf_sealbuf *sb);

#endif /* XF_ENGINE_SEALBUF_H */
