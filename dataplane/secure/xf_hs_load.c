/* SPDX-License-Identifier: BSD-3-Clause */
/* The responder's load test for handshakes (xf_hs_load.h). */
#include "xf_hs_load.h"

void
xf_hs_load_init(struct xf_hs_load *l, uint32_t limit)
{
	*l = (struct xf_hs_load){ .limit = limit > 0 ? limit : 1 };
}

bool
xf_hs_load_busy(struct xf_hs_load *l, uint64_t now_ns)
{
	if (!l->started) {
		l->started = true;
		l->start_ns = now_ns;
	} else if (now_ns - l->start_ns >= XF_HS_LOAD_WINDOW_NS) {
		/* The window just over is "the one before" only if the new one follows it. */
		l->prev = now_ns - l->start_ns < 2 * XF_HS_LOAD_WINDOW_NS ? l->count : 0;
		l->count = 0;
		l->mac2 = 0;
		l->start_ns = now_ns;
	}
	return l->count >= l->limit || l->prev >= l->limit;
}

void
xf_hs_load_note(struct xf_hs_load *l)
{
	l->count += l->count < UINT32_MAX;
}

uint64_t
xf_hs_load_until(const struct xf_hs_load *l)
{
	if (l->count >= l->limit) {
		return l->start_ns + 2 * XF_HS_LOAD_WINDOW_NS;
	}
	return l->prev >= l->limit ? l->start_ns + XF_HS_LOAD_WINDOW_NS : 0;
}

bool
xf_hs_budget_take(struct xf_hs_budget *b, uint32_t limit, uint64_t now_ns)
{
	if (!b->started || now_ns - b->start_ns >= XF_HS_LOAD_WINDOW_NS) {
		b->started = true;
		b->start_ns = now_ns;
		b->used = 0;
	}
	if (b->used >= limit) {
		return false;
	}
	b->used++;
	return true;
}

bool
xf_hs_load_admit_mac2(struct xf_hs_load *l)
{
	if (l->mac2 >= l->limit) {
		return false;
	}
	l->mac2++;
	return true;
}
