/* SPDX-License-Identifier: BSD-3-Clause */
/* A port's fault stage: the link model of drivers/linksim, then seeded reordering (see
 * xf_fault.h). */
#include "xf_fault.h"

#include <errno.h>
#include <string.h>

/* The link draws from a stream of its own, so turning reordering on or off leaves its
 * losses as they were for the same seed. */
#define LINK_SEED_SALT 0x6c696e6b5f736565ull

/* Above this, bytes x 8e9 / rate in the link model could overflow (xf_linksim.c). */
#define MAX_RATE_BPS 1000000000000000ull

/* splitmix64: tiny, seedable with any value, good enough statistics for test faults. */
static uint64_t
next_u64(struct xf_fault *f)
{
	return xf_linksim_rand(&f->rng);
}

static bool
prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN */
}

static bool
link_on(const struct xf_fault_conf *c)
{
	return c->rate_bps != 0 || c->delay_ns != 0 || c->queue_bytes != 0 || c->loss > 0.0 ||
	       c->ge.p_good_bad > 0.0 || c->ge.loss_good > 0.0;
}

bool
xf_fault_conf_on(const struct xf_fault_conf *c)
{
	return link_on(c) || c->reorder_p > 0.0;
}

int
xf_fault_check(const struct xf_fault_conf *c)
{
	if (!prob_ok(c->reorder_p) || !prob_ok(c->loss) || !prob_ok(c->ge.p_good_bad) ||
	    !prob_ok(c->ge.p_bad_good) || !prob_ok(c->ge.loss_good) || !prob_ok(c->ge.loss_bad)) {
		return -EINVAL;
	}
	if (c->reorder_p > 0.0 && (c->reorder_k == 0 || c->reorder_k > XF_FAULT_MAX_DEPTH)) {
		return -EINVAL;
	}
	if (c->rate_bps == 0 && (c->delay_ns != 0 || c->queue_bytes != 0)) {
		return -EINVAL;
	}
	if (c->rate_bps > MAX_RATE_BPS || c->max_frame > XF_LINKSIM_MAX_BYTES) {
		return -EINVAL;
	}
	if (link_on(c) && xf_fault_link_slots(c) > XF_FAULT_MAX_SLOTS) {
		return -E2BIG;
	}
	return 0;
}

int
xf_fault_init(struct xf_fault *f, const struct xf_fault_conf *conf, uint64_t now)
{
	int rc = xf_fault_check(conf);

	memset(f, 0, sizeof(*f));
	if (rc != 0) {
		return rc;
	}
	f->rng = conf->seed;
	f->k = conf->reorder_k;
	f->threshold = (uint64_t)(conf->reorder_p * 4294967296.0);
	if (link_on(conf)) {
		struct xf_linksim_cfg lc = {
			.rate_bps = conf->rate_bps,
			.delay_ns = conf->delay_ns,
			.queue_bytes = xf_fault_queue_bytes(conf),
			.slots = (uint32_t)xf_fault_link_slots(conf),
			.seed = conf->seed ^ LINK_SEED_SALT,
			.loss = conf->loss,
			.ge = conf->ge,
		};

		f->link = xf_linksim_create(&lc, now);
		if (f->link == NULL) {
			return -ENOMEM; /* the configuration was checked above */
		}
	}
	return 0;
}

void
xf_fault_fini(struct xf_fault *f)
{
	xf_linksim_destroy(f->link);
	f->link = NULL;
	f->nb_held = 0;
}

bool
xf_fault_enabled(const struct xf_fault *f)
{
	return f->threshold > 0 || f->link != NULL;
}

/* One frame out of the link into the reordering: held back, or out with those it frees. */
static void
reorder_one(struct xf_fault *f, void *item, void **out, uint16_t *nb_out)
{
	uint16_t kept = 0;
	uint16_t before = f->nb_held;

	/* Always draw, so the reordering depends only on the seed and the count. */
	if ((next_u64(f) >> 32) < f->threshold && f->nb_held < XF_FAULT_MAX_HELD) {
		f->held[f->nb_held].item = item;
		f->held[f->nb_held].left = f->k;
		f->nb_held++;
		f->st.reordered++;
	} else {
		out[(*nb_out)++] = item;
	}
	/* This arrival counts for the frames held before it, not for itself. */
	for (uint16_t h = 0; h < before; h++) {
		if (--f->held[h].left == 0) {
			out[(*nb_out)++] = f->held[h].item;
		} else {
			f->held[kept++] = f->held[h];
		}
	}
	for (uint16_t h = before; h < f->nb_held; h++) {
		f->held[kept++] = f->held[h];
	}
	f->nb_held = kept;
}

/* Offer one frame to the link; a refused one goes to drop, counted by reason. */
static void
offer(struct xf_fault *f, uint64_t now, void *item, uint32_t bytes, void **drop, uint16_t *nb_drop)
{
	uint32_t wire = bytes < XF_FAULT_MIN_FRAME     ? XF_FAULT_MIN_FRAME
	                : bytes > XF_LINKSIM_MAX_BYTES ? XF_LINKSIM_MAX_BYTES
	                                               : bytes;

	switch (xf_linksim_enqueue(f->link, now, wire, item)) {
	case XF_LINKSIM_ACCEPTED:
		return;
	case XF_LINKSIM_DROP_QUEUE:
		f->st.drop_queue++;
		break;
	case XF_LINKSIM_DROP_LOSS:
		f->st.drop_random++;
		break;
	case XF_LINKSIM_DROP_BURST:
		f->st.drop_burst++;
		break;
	default: /* DROP_SLOTS; no blackhole or duplication is configured here */
		f->st.drop_slots++;
		break;
	}
	drop[(*nb_drop)++] = item;
}

uint16_t
xf_fault_apply(struct xf_fault *f, uint64_t now, void *const *in, const uint32_t *bytes, uint16_t n,
               void **out, void **drop, uint16_t *nb_drop)
{
	struct xf_linksim_pkt pk[XF_FAULT_BURST];
	uint16_t nb_out = 0;
	unsigned int k;

	*nb_drop = 0;
	if (n > XF_FAULT_BURST) {
		n = XF_FAULT_BURST; /* documented bound; the caller chunks */
	}
	f->st.frames += n;
	if (f->link == NULL) {
		for (uint16_t i = 0; i < n; i++) {
			reorder_one(f, in[i], out, &nb_out);
		}
		f->st.delivered += nb_out;
		return nb_out;
	}
	for (uint16_t i = 0; i < n; i++) {
		offer(f, now, in[i], bytes[i], drop, nb_drop);
	}
	k = xf_linksim_dequeue(f->link, now, pk, XF_FAULT_BURST);
	for (unsigned int i = 0; i < k; i++) {
		if (pk[i].lost) {
			f->st.drop_slots++; /* a blackhole: never configured here */
			drop[(*nb_drop)++] = pk[i].opaque;
		} else {
			reorder_one(f, pk[i].opaque, out, &nb_out);
		}
	}
	f->st.delivered += nb_out;
	return nb_out;
}

uint64_t
xf_fault_next_time(struct xf_fault *f)
{
	return f->link == NULL ? XF_LINKSIM_NEVER : xf_linksim_next_time(f->link);
}

bool
xf_fault_due(struct xf_fault *f, uint64_t now)
{
	return xf_fault_next_time(f) <= now;
}

uint16_t
xf_fault_flush(struct xf_fault *f, void **out)
{
	uint16_t n = f->nb_held;

	for (uint16_t h = 0; h < n; h++) {
		out[h] = f->held[h].item;
	}
	f->nb_held = 0;
	f->st.delivered += n;
	return n;
}

unsigned int
xf_fault_drain(struct xf_fault *f, void **out, unsigned int max)
{
	struct xf_linksim_pkt pk[XF_FAULT_BURST];
	unsigned int n = 0;

	while (f->link != NULL && n < max) {
		unsigned int want = max - n < XF_FAULT_BURST ? max - n : XF_FAULT_BURST;
		unsigned int k = xf_linksim_dequeue(f->link, XF_LINKSIM_NEVER - 1, pk, want);

		for (unsigned int i = 0; i < k; i++) {
			out[n++] = pk[i].opaque;
		}
		if (k < want) {
			break;
		}
	}
	while (n < max && f->nb_held > 0) {
		out[n++] = f->held[0].item;
		memmove(f->held, f->held + 1, --f->nb_held * sizeof(f->held[0]));
	}
	return n;
}
