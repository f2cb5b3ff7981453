/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture: per RX core a pool of copies and an SP/SC ring to the writer thread, which
 * writes pcapng with rte_pcapng (xf_capture.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>

#include "xf_base.h"
#include "xf_capture.h"
#include "xf_ring.h"

/* Copies made or written per step. */
#define CAP_CHUNK 32u

struct cap_queue {
	struct xf_ring *ring;        /**< copies, core q -> writer (SP/SC) */
	struct rte_mempool *pool;    /**< copies come from here: never the data pool */
	atomic_uint_fast64_t missed; /**< written by core q only */
};

struct xf_capture {
	uint16_t port_id;
	unsigned int nq;
	uint32_t snaplen;
	atomic_bool on;               /**< the cores copy while set */
	rte_pcapng_t *out;            /**< writer: the open file, NULL when none */
	uint64_t count;               /**< writer: frames wanted */
	atomic_uint_fast64_t written; /**< writer: frames written; read by anyone */
	uint64_t missed_base;         /**< writer: the cores' missed at begin */
	atomic_uint_fast64_t missed;  /**< writer: missed of the last capture, at its end */
	bool ended;                   /**< writer: missed holds the final figure */
	struct cap_queue q[XF_CAPTURE_MAX_QUEUES];
};

struct xf_capture *
xf_capture_create(uint16_t port_id, unsigned int nq, const unsigned int *cores, unsigned int writer,
                  uint32_t snaplen)
{
	struct xf_capture *c;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t room = rte_pcapng_mbuf_size(snaplen);

	if (nq == 0 || nq > XF_CAPTURE_MAX_QUEUES || snaplen == 0 || room > UINT16_MAX) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->port_id = port_id;
	c->nq = nq;
	c->snaplen = snaplen;
	for (unsigned int q = 0; q < nq; q++) {
		snprintf(name, sizeof(name), "xf_cap_%u", q);
		/* Cache 0: the writer that frees copies is not an EAL thread. */
		c->q[q].pool = rte_pktmbuf_pool_create(name, XF_CAPTURE_DEPTH, 0, 0, (uint16_t)room,
		                                       SOCKET_ID_ANY);
		c->q[q].ring = xf_ring_create(name, XF_CAPTURE_DEPTH, sizeof(struct rte_mbuf *),
		                              cores[q], writer, -1);
		if (c->q[q].pool == NULL || c->q[q].ring == NULL) {
			int err = c->q[q].pool == NULL ? rte_errno : errno;

			xf_capture_free(c);
			errno = err != 0 ? err : ENOMEM;
			return NULL;
		}
	}
	return c;
}

/* Free every copy waiting in the rings (the writer, or teardown). */
static void
drop_queued(struct xf_capture *c)
{
	struct rte_mbuf *m[CAP_CHUNK];
	unsigned int n;

	for (unsigned int q = 0; q < c->nq; q++) {
		while (c->q[q].ring != NULL &&
		       (n = xf_ring_dequeue_burst(c->q[q].ring, m, CAP_CHUNK)) > 0) {
			rte_pktmbuf_free_bulk(m, n);
		}
	}
}

void
xf_capture_free(struct xf_capture *c)
{
	if (c == NULL) {
		return;
	}
	if (c->out != NULL) {
		xf_capture_end(c);
	}
	drop_queued(c);
	for (unsigned int q = 0; q < c->nq; q++) {
		xf_ring_free(c->q[q].ring);
		rte_mempool_free(c->q[q].pool);
	}
	free(c);
}

void
xf_capture_tap(struct xf_capture *c, unsigned int q, struct rte_mbuf *const *pkts, unsigned int n,
               bool out)
{
	struct cap_queue *cq;
	struct rte_mbuf *copy[CAP_CHUNK];
	uint64_t now, missed = 0;
	unsigned int room;

	if (likely(!atomic_load_explicit(&c->on, memory_order_relaxed)) || n == 0) {
		return;
	}
	cq = &c->q[q];
	now = rte_get_tsc_cycles();
	/* This core is the ring's only producer: the room it sees can only grow, so a copy
	 * made within it is always enqueued, and none is made that would be freed here. */
	room = xf_ring_free_count(cq->ring);
	for (unsigned int i = 0; i < n;) {
		unsigned int k = 0;

		for (; i < n && k < CAP_CHUNK; i++) {
			struct rte_mbuf *mc = NULL;

			if (room > 0) {
				mc = rte_pcapng_copy(
				        c->port_id, q, pkts[i], cq->pool, c->snaplen, now,
				        out ? RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN);
			}
			if (mc == NULL) {
				missed++;
				continue;
			}
			room--;
			copy[k++] = mc;
		}
		if (k > 0) {
			unsigned int sent = xf_ring_enqueue_burst(cq->ring, copy, k);

			if (unlikely(sent < k)) {
				missed += k - sent;
				rte_pktmbuf_free_bulk(copy + sent, k - sent);
			}
		}
	}
	if (missed > 0) {
		atomic_fetch_add_explicit(&cq->missed, missed, memory_order_relaxed);
	}
}

static uint64_t
cores_missed(const struct xf_capture *c)
{
	uint64_t sum = 0;

	for (unsigned int q = 0; q < c->nq; q++) {
		sum += atomic_load_explicit(&c->q[q].missed, memory_order_relaxed);
	}
	return sum;
}

int
xf_capture_begin(struct xf_capture *c, int fd, uint64_t count)
{
	struct utsname u;
	char os[sizeof(u.sysname) + sizeof(u.release) + 2] = "Linux";

	if (c->out != NULL) {
		return -EBUSY;
	}
	if (count == 0) {
		return -EINVAL;
	}
	if (uname(&u) == 0) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	}
	drop_queued(c);
	c->out = rte_pcapng_fdopen(fd, os, NULL, "xferd", NULL);
	if (c->out == NULL) {
		return -EIO;
	}
	c->count = count;
	atomic_store_explicit(&c->written, 0, memory_order_relaxed);
	c->missed_base = cores_missed(c);
	c->ended = false;
	atomic_store_explicit(&c->on, true, memory_order_release);
	return 0;
}

int
xf_capture_drain(struct xf_capture *c)
{
	struct rte_mbuf *m[CAP_CHUNK];
	uint64_t written = atomic_load_explicit(&c->written, memory_order_relaxed);
	int total = 0;

	if (c->out == NULL) {
		return 0;
	}
	for (unsigned int q = 0; q < c->nq; q++) {
		unsigned int n;

		while ((n = xf_ring_dequeue_burst(c->q[q].ring, m, CAP_CHUNK)) > 0) {
			uint16_t keep = (uint16_t)XF_MIN((uint64_t)n, c->count - written);
			ssize_t rc = keep > 0 ? rte_pcapng_write_packets(c->out, m, keep) : 0;

			rte_pktmbuf_free_bulk(m, n);
			if (rc < 0) {
				atomic_store_explicit(&c->on, false, memory_order_relaxed);
				return -EIO;
			}
			written += keep;
			total += keep;
			atomic_store_explicit(&c->written, written, memory_order_relaxed);
			if (written >= c->count) {
				atomic_store_explicit(&c->on, false, memory_order_relaxed);
				return total;
			}
		}
	}
	return total;
}

bool
xf_capture_full(const struct xf_capture *c)
{
	return atomic_load_explicit(&c->written, memory_order_relaxed) >= c->count;
}

void
xf_capture_end(struct xf_capture *c)
{
	uint64_t written, missed;

	atomic_store_explicit(&c->on, false, memory_order_relaxed);
	if (c->out == NULL) {
		return;
	}
	/* What a core copied before it saw the end goes too (and what it copies after it,
	 * at the next begin). */
	drop_queued(c);
	written = atomic_load_explicit(&c->written, memory_order_relaxed);
	missed = cores_missed(c) - c->missed_base;
	atomic_store_explicit(&c->missed, missed, memory_order_relaxed);
	c->ended = true;
	/* The interface statistics block: frames seen by the tap and those not captured. */
	rte_pcapng_write_stats(c->out, c->port_id, NULL, 0, 0, written + missed, missed);
	rte_pcapng_close(c->out);
	c->out = NULL;
}

void
xf_capture_stats(const struct xf_capture *c, struct xf_capture_stats *st)
{
	st->on = atomic_load_explicit(&c->on, memory_order_relaxed);
	st->written = atomic_load_explicit(&c->written, memory_order_relaxed);
	st->missed = c->ended ? atomic_load_explicit(&c->missed, memory_order_relaxed)
	                      : cores_missed(c) - c->missed_base;
}
