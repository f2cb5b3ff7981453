/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link model; see xf_linksim.h and docs/RELIABILITY.md (Link model).
 *
 * Every packet in the link takes an entry of a pool of cfg.slots. Two structures index it:
 *  - the bottleneck FIFO, in order of offer: each entry's serialisation start and end
 *    (depart) follow from the previous one's end and the rate. An entry leaves the FIFO
 *    once depart <= now; the bytes still in it are the drop-tail queue. A rate change
 *    walks it and re-times what is not serialised yet, so a change takes effect at its
 *    exact time for the packets already waiting too;
 *  - a binary min-heap keyed by (arrival, sequence) of the packets that will come out,
 *    since reordering and delay changes make arrivals differ from the order of offer.
 * A packet lost at random takes the bottleneck (it is lost beyond it, as on a real path)
 * but is only in the FIFO: its entry is freed when it leaves the FIFO. Any other entry is
 * freed when it leaves the heap, which is never before it left the FIFO (arrival >=
 * departure and every call pops the FIFO first).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_linksim.h"

#define NS_PER_S       1000000000ull
#define MAX_RATE_BPS   1000000000000000ull /* 1 Pbit/s: bytes x 8e9 + carry fits 64 bits */
#define HIST_BUCKETS   (XF_LINKSIM_HIST_POW * XF_LINKSIM_HIST_SUB)
#define HIST_SUB_SHIFT 4u /* log2(XF_LINKSIM_HIST_SUB) */

enum {
	PKT_LOST = 0x1,   /* lost beyond the bottleneck: not in the heap */
	PKT_DUP = 0x2,    /* the second copy: takes no bottleneck time */
	PKT_DOOMED = 0x4, /* left the bottleneck during a blackhole: dropped on arrival */
};

struct pkt {
	void *opaque;
	uint64_t t_enq;
	uint64_t start;  /* serialisation starts */
	uint64_t depart; /* serialisation ends */
	uint64_t arrive;
	uint64_t extra; /* reordering delay */
	uint64_t seq;
	uint32_t bytes;
	uint8_t flags;
};

struct xf_linksim {
	struct xf_linksim_cfg cfg;
	struct xf_linksim_event ev[XF_LINKSIM_MAX_EVENTS];
	unsigned int ev_next;

	uint64_t rate;    /* bits/s in force; 0 = unlimited */
	uint64_t delay;   /* ns in force */
	uint64_t bh_from; /* blackhole [bh_from, bh_until) */
	uint64_t bh_until;
	uint64_t rng;
	bool ge_bad;

	struct pkt *pool;
	uint32_t *free_idx;
	uint32_t nb_free;
	uint32_t *fifo; /* ring of cfg.slots pool indices */
	uint32_t fifo_head;
	uint32_t fifo_n;
	uint32_t *heap;
	uint32_t heap_n;

	uint64_t link_free; /* end of the last serialisation */
	uint64_t carry;     /* remainder of bytes x 8e9 / rate: no drift over many packets */
	uint64_t seq;
	uint64_t last_now;

	uint64_t hist[HIST_BUCKETS];
	struct xf_linksim_stats st;
};

uint64_t
xf_linksim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
static double
uniform(struct xf_linksim *l)
{
	return (double)(xf_linksim_rand(&l->rng) >> 11) * 0x1.0p-53;
}

static bool
prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN */
}

static int
cfg_check(const struct xf_linksim_cfg *c)
{
	uint64_t prev = 0;

	if (!prob_ok(c->loss) || !prob_ok(c->dup) || !prob_ok(c->reorder) ||
	    !prob_ok(c->ge.p_good_bad) || !prob_ok(c->ge.p_bad_good) || !prob_ok(c->ge.loss_good) ||
	    !prob_ok(c->ge.loss_bad)) {
		return -EINVAL;
	}
	if ((c->reorder > 0.0 && c->reorder_ns == 0) || c->rate_bps > MAX_RATE_BPS ||
	    c->nb_events > XF_LINKSIM_MAX_EVENTS || (c->nb_events > 0 && c->events == NULL)) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < c->nb_events; i++) {
		const struct xf_linksim_event *e = &c->events[i];

		if (e->at_ns < prev) {
			return -EINVAL;
		}
		prev = e->at_ns;
		switch (e->kind) {
		case XF_LINKSIM_EV_RATE:
			if (e->value > MAX_RATE_BPS) {
				return -EINVAL;
			}
			break;
		case XF_LINKSIM_EV_DELAY:
			break;
		case XF_LINKSIM_EV_BLACKHOLE:
			if (e->value == 0 || e->value > UINT64_MAX - e->at_ns) {
				return -EINVAL;
			}
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

struct xf_linksim *
xf_linksim_create(const struct xf_linksim_cfg *cfg, uint64_t now)
{
	struct xf_linksim *l;
	uint32_t slots = cfg->slots ? cfg->slots : XF_LINKSIM_DEFAULT_SLOTS;

	if (cfg_check(cfg) != 0) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		goto err;
	}
	l->pool = calloc(slots, sizeof(*l->pool));
	l->free_idx = calloc(slots, sizeof(*l->free_idx));
	l->fifo = calloc(slots, sizeof(*l->fifo));
	l->heap = calloc(slots, sizeof(*l->heap));
	if (l->pool == NULL || l->free_idx == NULL || l->fifo == NULL || l->heap == NULL) {
		goto err_free;
	}
	l->cfg = *cfg;
	l->cfg.slots = slots;
	if (cfg->nb_events > 0) {
		memcpy(l->ev, cfg->events, cfg->nb_events * sizeof(*l->ev));
	}
	l->cfg.events = l->ev;
	l->rate = cfg->rate_bps;
	l->delay = cfg->delay_ns;
	l->rng = cfg->seed;
	for (uint32_t i = 0; i < slots; i++) {
		l->free_idx[i] = slots - 1 - i;
	}
	l->nb_free = slots;
	l->link_free = now;
	l->last_now = now;
	return l;

err_free:
	xf_linksim_destroy(l);
err:
	errno = ENOMEM;
	return NULL;
}

void
xf_linksim_destroy(struct xf_linksim *l)
{
	if (l == NULL) {
		return;
	}
	free(l->heap);
	free(l->fifo);
	free(l->free_idx);
	free(l->pool);
	free(l);
}

/* --- queue-delay histogram ------------------------------------------------------------ */

static unsigned int
hist_bucket(uint64_t v)
{
	unsigned int p;

	if (v < XF_LINKSIM_HIST_SUB) {
		return (unsigned int)v;
	}
	p = 63u - (unsigned int)__builtin_clzll(v);
	if (p >= XF_LINKSIM_HIST_POW + HIST_SUB_SHIFT - 1) {
		return HIST_BUCKETS - 1;
	}
	return (p - HIST_SUB_SHIFT + 1) * XF_LINKSIM_HIST_SUB +
	       (unsigned int)((v >> (p - HIST_SUB_SHIFT)) & (XF_LINKSIM_HIST_SUB - 1));
}

/* The largest value of a bucket. */
static uint64_t
hist_upper(unsigned int b)
{
	unsigned int row = b / XF_LINKSIM_HIST_SUB, sub = b % XF_LINKSIM_HIST_SUB;
	unsigned int p;

	if (row == 0) {
		return b;
	}
	p = row + HIST_SUB_SHIFT - 1;
	return (((uint64_t)XF_LINKSIM_HIST_SUB + sub + 1) << (p - HIST_SUB_SHIFT)) - 1;
}

uint64_t
xf_linksim_queue_delay_pct(const struct xf_linksim *l, double pct)
{
	uint64_t total = 0, target, sum = 0;

	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		total += l->hist[b];
	}
	if (total == 0) {
		return 0;
	}
	if (!(pct > 0.0)) {
		pct = 0.0;
	}
	if (pct > 100.0) {
		pct = 100.0;
	}
	{
		double want = pct / 100.0 * (double)total;

		target = (uint64_t)want;
		if ((double)target < want) {
			target++; /* the smallest count reaching the percentile */
		}
	}
	if (target == 0) {
		target = 1;
	}
	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		sum += l->hist[b];
		if (sum >= target) {
			return hist_upper(b);
		}
	}
	return hist_upper(HIST_BUCKETS - 1);
}

/* --- heap of arrivals ------------------------------------------------------------------ */

static bool
before(const struct xf_linksim *l, uint32_t a, uint32_t b)
{
	const struct pkt *x = &l->pool[a], *y = &l->pool[b];

	return x->arrive < y->arrive || (x->arrive == y->arrive && x->seq < y->seq);
}

static void
heap_swap(struct xf_linksim *l, uint32_t a, uint32_t b)
{
	uint32_t t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
}

static void
sift_down(struct xf_linksim *l, uint32_t i)
{
	for (;;) {
		uint32_t c = 2 * i + 1, m = i;

		if (c < l->heap_n && before(l, l->heap[c], l->heap[m])) {
			m = c;
		}
		if (c + 1 < l->heap_n && before(l, l->heap[c + 1], l->heap[m])) {
			m = c + 1;
		}
		if (m == i) {
			return;
		}
		heap_swap(l, i, m);
		i = m;
	}
}

static void
heap_push(struct xf_linksim *l, uint32_t idx)
{
	uint32_t i = l->heap_n++;

	l->heap[i] = idx;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!before(l, l->heap[i], l->heap[p])) {
			break;
		}
		heap_swap(l, i, p);
		i = p;
	}
}

static uint32_t
heap_pop(struct xf_linksim *l)
{
	uint32_t top = l->heap[0];

	l->heap[0] = l->heap[--l->heap_n];
	sift_down(l, 0);
	return top;
}

static void
heap_rebuild(struct xf_linksim *l)
{
	for (uint32_t i = l->heap_n / 2; i-- > 0;) {
		sift_down(l, i);
	}
}

/* --- bottleneck --------------------------------------------------------------------------- */

static inline uint32_t
fifo_at(const struct xf_linksim *l, uint32_t i)
{
	return l->fifo[(l->fifo_head + i) % l->cfg.slots];
}

/* Serialisation time of bytes at the rate in force, carrying the remainder. */
static uint64_t
ser_ns(struct xf_linksim *l, uint32_t bytes)
{
	uint64_t num;

	if (l->rate == 0 || bytes == 0) {
		return 0;
	}
	num = (uint64_t)bytes * 8u * NS_PER_S + l->carry;
	l->carry = num % l->rate;
	return num / l->rate;
}

static void
free_entry(struct xf_linksim *l, uint32_t idx)
{
	l->free_idx[l->nb_free++] = idx;
}

/* Entries whose serialisation ended by now leave the queue. */
static void
fifo_pop(struct xf_linksim *l, uint64_t now)
{
	while (l->fifo_n > 0) {
		uint32_t idx = fifo_at(l, 0);
		struct pkt *p = &l->pool[idx];

		if (p->depart > now) {
			return;
		}
		l->fifo_head = (l->fifo_head + 1) % l->cfg.slots;
		l->fifo_n--;
		if (!(p->flags & PKT_DUP)) {
			l->st.queued_bytes -= p->bytes;
			l->hist[hist_bucket(p->start - p->t_enq)]++;
		}
		if (p->flags & PKT_LOST) {
			free_entry(l, idx);
		}
	}
}

/*
 * Re-time, from time t, what the bottleneck has not finished: after a rate change the
 * packet in service finishes its remaining bits at the new rate and the rest follow; every
 * packet leaving from t on takes the delay in force. With the rate unchanged (a delay
 * change) the departures, and the remainder carried between them, stay as they are.
 */
static void
retime(struct xf_linksim *l, uint64_t t, uint64_t old_rate)
{
	bool rate_changed = l->rate != old_rate;
	uint64_t prev = t;

	if (rate_changed) {
		l->carry = 0;
	}
	for (uint32_t i = 0; i < l->fifo_n; i++) {
		struct pkt *p = &l->pool[fifo_at(l, i)];

		if (p->depart <= t) {
			prev = p->depart;
			continue;
		}
		if (!rate_changed) {
			/* departure kept */
		} else if (p->start < t) {
			/* in service: the remaining time scales with the rate */
			if (l->rate == 0) {
				p->depart = t;
			} else {
				/* rare (a schedule entry): double is exact enough */
				double rem = (double)(p->depart - t) * (double)old_rate /
				             (double)l->rate;

				p->depart = t + (uint64_t)rem;
			}
		} else {
			p->start = p->t_enq > prev ? p->t_enq : prev;
			p->depart = p->start + ser_ns(l, (p->flags & PKT_DUP) ? 0 : p->bytes);
		}
		p->arrive = p->depart + l->delay + p->extra;
		prev = p->depart;
	}
	if (l->fifo_n > 0) {
		l->link_free = l->pool[fifo_at(l, l->fifo_n - 1)].depart;
	}
	heap_rebuild(l);
}

/* Packets leaving the bottleneck during the blackhole are lost with it. */
static void
doom(struct xf_linksim *l, uint64_t from, uint64_t until)
{
	for (uint32_t i = 0; i < l->fifo_n; i++) {
		struct pkt *p = &l->pool[fifo_at(l, i)];

		if (p->depart > from && p->depart < until && !(p->flags & PKT_LOST)) {
			p->flags |= PKT_DOOMED;
		}
	}
}

/* Apply the schedule entries due by now, each at its own time, in order. */
static void
advance(struct xf_linksim *l, uint64_t now)
{
	while (l->ev_next < l->cfg.nb_events && l->ev[l->ev_next].at_ns <= now) {
		const struct xf_linksim_event *e = &l->ev[l->ev_next++];
		uint64_t old_rate = l->rate;

		switch (e->kind) {
		case XF_LINKSIM_EV_RATE:
			l->rate = e->value;
			retime(l, e->at_ns, old_rate);
			break;
		case XF_LINKSIM_EV_DELAY:
			l->delay = e->value;
			retime(l, e->at_ns, old_rate);
			break;
		case XF_LINKSIM_EV_BLACKHOLE:
			l->bh_from = e->at_ns;
			l->bh_until = e->at_ns + e->value;
			doom(l, l->bh_from, l->bh_until);
			break;
		}
	}
	fifo_pop(l, now);
}

static uint64_t
clamp_now(struct xf_linksim *l, uint64_t now)
{
	if (now < l->last_now) {
		return l->last_now;
	}
	l->last_now = now;
	return now;
}

/*
 * Whether the packet is lost: XF_LINKSIM_DROP_LOSS (random; counted so when the chain
 * would have lost it too), XF_LINKSIM_DROP_BURST, or XF_LINKSIM_ACCEPTED. Both draws are
 * made whatever the first gave, so the stream depends only on the packets accepted.
 */
static int
draw_loss(struct xf_linksim *l)
{
	const struct xf_linksim_ge *ge = &l->cfg.ge;
	int lost = XF_LINKSIM_ACCEPTED;

	if (l->cfg.loss > 0.0 && uniform(l) < l->cfg.loss) {
		lost = XF_LINKSIM_DROP_LOSS;
	}
	if (ge->p_good_bad > 0.0 || ge->loss_good > 0.0) {
		double u = uniform(l);

		if (l->ge_bad) {
			l->ge_bad = !(u < ge->p_bad_good);
		} else {
			l->ge_bad = u < ge->p_good_bad;
		}
		if (uniform(l) < (l->ge_bad ? ge->loss_bad : ge->loss_good) &&
		    lost == XF_LINKSIM_ACCEPTED) {
			lost = XF_LINKSIM_DROP_BURST;
		}
	}
	return lost;
}

static uint32_t
take_entry(struct xf_linksim *l, uint64_t now, uint32_t bytes, void *opaque, uint8_t flags)
{
	uint32_t idx = l->free_idx[--l->nb_free];
	struct pkt *p = &l->pool[idx];

	if (now >= l->link_free) {
		l->carry = 0; /* idle link: nothing to carry over */
	}
	p->opaque = opaque;
	p->t_enq = now;
	p->start = now > l->link_free ? now : l->link_free;
	p->depart = p->start + ser_ns(l, (flags & PKT_DUP) ? 0 : bytes);
	p->extra = 0;
	p->seq = l->seq++;
	p->bytes = bytes;
	p->flags = flags;
	l->link_free = p->depart;
	l->fifo[(l->fifo_head + l->fifo_n) % l->cfg.slots] = idx;
	l->fifo_n++;
	return idx;
}

int
xf_linksim_enqueue(struct xf_linksim *l, uint64_t now, uint32_t bytes, void *opaque)
{
	struct pkt *p;
	uint32_t idx;
	int verdict = XF_LINKSIM_ACCEPTED;

	if (bytes == 0 || bytes > XF_LINKSIM_MAX_BYTES) {
		return -EINVAL;
	}
	now = clamp_now(l, now);
	advance(l, now);
	l->st.offered++;
	l->st.offered_bytes += bytes;
	if (now >= l->bh_from && now < l->bh_until) {
		verdict = XF_LINKSIM_DROP_BLACKHOLE;
	} else if (l->nb_free == 0) {
		verdict = XF_LINKSIM_DROP_SLOTS;
	} else if (l->cfg.queue_bytes != 0 && l->st.queued_bytes + bytes > l->cfg.queue_bytes) {
		verdict = XF_LINKSIM_DROP_QUEUE;
	}
	if (verdict != XF_LINKSIM_ACCEPTED) {
		l->st.dropped[verdict]++;
		return verdict;
	}
	idx = take_entry(l, now, bytes, opaque, 0);
	p = &l->pool[idx];
	l->st.queued_bytes += bytes;
	if (l->st.queued_bytes > l->st.max_queued_bytes) {
		l->st.max_queued_bytes = l->st.queued_bytes;
	}
	verdict = draw_loss(l);
	if (verdict != XF_LINKSIM_ACCEPTED) {
		p->flags |= PKT_LOST;
		l->st.dropped[verdict]++;
		fifo_pop(l, now);
		return verdict;
	}
	if (l->cfg.reorder > 0.0 && uniform(l) < l->cfg.reorder) {
		p->extra = l->cfg.reorder_ns;
		l->st.reordered++;
	}
	p->arrive = p->depart + l->delay + p->extra;
	heap_push(l, idx);
	if (l->cfg.dup > 0.0 && uniform(l) < l->cfg.dup && l->nb_free > 0) {
		uint32_t d = take_entry(l, now, bytes, opaque, PKT_DUP);

		l->pool[d].extra = p->extra;
		l->pool[d].arrive = l->pool[d].depart + l->delay + p->extra;
		heap_push(l, d);
		l->st.duplicated++;
		verdict = XF_LINKSIM_DUPLICATED;
	}
	fifo_pop(l, now);
	return verdict;
}

uint64_t
xf_linksim_next_time(struct xf_linksim *l)
{
	uint64_t t = XF_LINKSIM_NEVER;

	if (l->heap_n > 0) {
		t = l->pool[l->heap[0]].arrive;
	}
	if (l->ev_next < l->cfg.nb_events && l->ev[l->ev_next].at_ns < t) {
		t = l->ev[l->ev_next].at_ns;
	}
	return t;
}

unsigned int
xf_linksim_dequeue(struct xf_linksim *l, uint64_t now, struct xf_linksim_pkt *out, unsigned int max)
{
	unsigned int n = 0;

	now = clamp_now(l, now);
	advance(l, now);
	while (n < max && l->heap_n > 0 && l->pool[l->heap[0]].arrive <= now) {
		uint32_t idx = heap_pop(l);
		struct pkt *p = &l->pool[idx];

		out[n].opaque = p->opaque;
		out[n].lost = (p->flags & PKT_DOOMED) != 0;
		out[n].arrive_ns = p->arrive;
		out[n].queue_delay_ns = p->start - p->t_enq;
		out[n].bytes = p->bytes;
		out[n].dup = (p->flags & PKT_DUP) != 0;
		if (out[n].lost) {
			l->st.dropped[XF_LINKSIM_DROP_BLACKHOLE]++;
		} else {
			l->st.delivered++;
			l->st.delivered_bytes += p->bytes;
		}
		n++;
		free_entry(l, idx);
	}
	return n;
}

void
xf_linksim_stats(const struct xf_linksim *l, struct xf_linksim_stats *stats)
{
	*stats = l->st;
	stats->held = l->cfg.slots - l->nb_free;
}
