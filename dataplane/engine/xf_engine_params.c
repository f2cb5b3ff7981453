/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reloadable session parameters. The control thread publishes a new set on reload; RX
 * cores read one when a session or job starts, workers and RX cores read the idle
 * policy on every idle round. A sequence counter (odd while writing) lets a reader
 * retry instead of mixing two sets, e.g. a new keepalive with an old timeout. Every
 * field is atomic so the concurrent accesses are not data races; no locks.
 */
#include <errno.h>
#include <stdatomic.h>

#include "xf_engine_priv.h"

_Static_assert(XF_ENGINE_MAX_VOLUMES <= 32, "zip_volumes has a bit per volume");

int
xf_engine_set_params(struct xf_engine *e, const struct xf_engine_params *p)
{
	struct eng_params *s = &e->params;
	unsigned int seq;

	if (p->timeout_ms == 0 || p->keepalive_ms >= p->timeout_ms) {
		return -EINVAL;
	}
	/* One writer: no CAS needed, only the ordering of the counter around the stores. */
	seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->rate_bps, p->rate_bps, memory_order_relaxed);
	atomic_store_explicit(&s->congestion, p->congestion, memory_order_relaxed);
	atomic_store_explicit(&s->timeout_ms, p->timeout_ms, memory_order_relaxed);
	atomic_store_explicit(&s->keepalive_ms, p->keepalive_ms, memory_order_relaxed);
	atomic_store_explicit(&s->idle_poll, p->idle_poll, memory_order_relaxed);
	atomic_store_explicit(&s->zip_volumes, p->zip_volumes, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
	return 0;
}

void
xf_engine_get_params(const struct xf_engine *e, struct xf_engine_params *out)
{
	struct eng_params *s = (struct eng_params *)(uintptr_t)&e->params;
	unsigned int s1, s2;

	for (;;) {
		s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (s1 == 0) {
			/* Never published: the configuration the engine was created with. */
			out->rate_bps = e->conf.rate_bps;
			out->congestion = e->conf.congestion;
			out->timeout_ms = e->conf.timeout_ms;
			out->keepalive_ms = e->conf.keepalive_ms;
			out->idle_poll = e->conf.idle_poll;
			out->zip_volumes = 0;
			for (unsigned int v = 0; v < e->conf.n_volumes; v++) {
				out->zip_volumes |= e->conf.volumes[v].compress ? 1u << v : 0;
			}
			return;
		}
		if (s1 & 1) {
			continue;
		}
		out->rate_bps = atomic_load_explicit(&s->rate_bps, memory_order_relaxed);
		out->congestion = atomic_load_explicit(&s->congestion, memory_order_relaxed);
		out->timeout_ms = atomic_load_explicit(&s->timeout_ms, memory_order_relaxed);
		out->keepalive_ms = atomic_load_explicit(&s->keepalive_ms, memory_order_relaxed);
		out->idle_poll = atomic_load_explicit(&s->idle_poll, memory_order_relaxed);
		out->zip_volumes = atomic_load_explicit(&s->zip_volumes, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
		if (s1 == s2) {
			return;
		}
	}
}

bool
xf_engine_idle_poll(const struct xf_engine *e)
{
	/* A single flag: no need for the sequence, only for "published yet". */
	if (atomic_load_explicit(&e->params.seq, memory_order_acquire) == 0) {
		return e->conf.idle_poll;
	}
	return atomic_load_explicit(&e->params.idle_poll, memory_order_relaxed);
}
