/* SPDX-License-Identifier: BSD-3-Clause */
/* Sliding replay window (xf_replay.h). */
#include <errno.h>

#include "xf_replay.h"

int
xf_replay_check(const struct xf_replay *w, uint64_t pn)
{
	if (!w->any || pn > w->top) {
		return 0;
	}
	if (w->top - pn >= XF_REPLAY_WINDOW) {
		return -ESTALE;
	}
	if (w->bits[(pn >> 6) % XF_REPLAY_WORDS] & (1ull << (pn & 63))) {
		return -EALREADY;
	}
	return 0;
}

void
xf_replay_accept(struct xf_replay *w, uint64_t pn)
{
	if (!w->any) {
		for (unsigned int i = 0; i < XF_REPLAY_WORDS; i++) {
			w->bits[i] = 0;
		}
		w->any = true;
		w->top = pn;
	} else if (pn <= w->top && w->top - pn >= XF_REPLAY_WINDOW) {
		return; /* outside the window: its word now belongs to newer numbers */
	} else if (pn > w->top) {
		uint64_t cur = pn >> 6, old = w->top >> 6;
		uint64_t n = cur - old < XF_REPLAY_WORDS ? cur - old : XF_REPLAY_WORDS;

		/* The words between the old top and the new one hold numbers now in the
		 * window for the first time: none of them has been seen. */
		for (uint64_t i = 1; i <= n; i++) {
			w->bits[(old + i) % XF_REPLAY_WORDS] = 0;
		}
		w->top = pn;
	}
	w->bits[(pn >> 6) % XF_REPLAY_WORDS] |= 1ull << (pn & 63);
}
