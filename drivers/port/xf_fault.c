/* SPDX-License-Identifier: BSD-3-Clause */
/* Seeded reordering stage (see xf_fault.h). */
#include "xf_fault.h"

#include <errno.h>
#include <string.h>

/* splitmix64: tiny, seedable with any value, good enough statistics for test faults. */
static uint64_t
next_u64(struct xf_fault *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int
xf_fault_init(struct xf_fault *f, const struct xf_fault_conf *conf)
{
	/* Written so that NaN fails too. */
	if (!(conf->reorder_p >= 0.0 && conf->reorder_p <= 1.0)) {
		return -EINVAL;
	}
	if (conf->reorder_p > 0.0 &&
	    (conf->reorder_k == 0 || conf->reorder_k > XF_FAULT_MAX_DEPTH)) {
		return -EINVAL;
	}
	memset(f, 0, sizeof(*f));
	f->rng = conf->seed;
	f->k = conf->reorder_k;
	f->threshold = (uint64_t)(conf->reorder_p * 4294967296.0);
	return 0;
}

bool
xf_fault_enabled(const struct xf_fault *f)
{
	return f->threshold > 0;
}

uint16_t
xf_fault_apply(struct xf_fault *f, void *const *in, uint16_t n, void **out)
{
	uint16_t nb_out = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint16_t kept = 0;
		uint16_t before = f->nb_held;

		f->frames++;
		/* Always draw, so the fault pattern depends only on the seed and the count. */
		if ((next_u64(f) >> 32) < f->threshold && f->nb_held < XF_FAULT_MAX_HELD) {
			f->held[f->nb_held].item = in[i];
			f->held[f->nb_held].left = f->k;
			f->nb_held++;
			f->reordered++;
		} else {
			out[nb_out++] = in[i];
		}
		/* This arrival counts for the frames held before it, not for itself. */
		for (uint16_t h = 0; h < before; h++) {
			if (--f->held[h].left == 0) {
				out[nb_out++] = f->held[h].item;
			} else {
				f->held[kept++] = f->held[h];
			}
		}
		for (uint16_t h = before; h < f->nb_held; h++) {
			f->held[kept++] = f->held[h];
		}
		f->nb_held = kept;
	}
	return nb_out;
}

uint16_t
xf_fault_flush(struct xf_fault *f, void **out)
{
	uint16_t n = f->nb_held;

	for (uint16_t h = 0; h < n; h++) {
		out[h] = f->held[h].item;
	}
	f->nb_held = 0;
	return n;
}
