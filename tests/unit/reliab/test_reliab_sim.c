/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: a seeded two-endpoint simulation over a lossy, duplicating
 * and reordering channel.
 */
#include <stdio.h>

#include "xf_reliab_test.h"

/* --- simulation ------------------------------------------------------------------- */

/*
 * Endpoint A sends SIM_FRAMES content frames (ack-eliciting, paced) to B over a channel
 * with a fixed delay and seeded loss, duplication and reordering in both directions; B
 * acknowledges with real ACK ranges; A retransmits, under a new number, every frame
 * declared lost whose content is not yet known to be delivered.
 */
#define SIM_FRAMES        20000u
#define SIM_FRAME_B       1000u
#define SIM_DELAY         (5 * MS)
#define SIM_POOL          8192u
#define SIM_MAX_PN        (4u * SIM_FRAMES)
#define SIM_LOSS_PM       20u /* per mille */
#define SIM_DUP_PM        10u
#define SIM_REORD_PM      100u
#define SIM_BLACKOUT_FROM (400 * MS)
#define SIM_BLACKOUT_TO   (700 * MS)

struct sim_pkt {
	uint64_t t;
	uint64_t seq;  /* tie-break: FIFO among equal times */
	uint8_t to_a;  /* 0: data to B, 1: ACK to A */
	uint8_t probe; /* data to B: a probe (untracked PING), no content */
	uint64_t pn;
	uint32_t cid;
	uint16_t len; /* ACK: the encoded frame */
	uint8_t frame[XF_HDR_LEN + 16u + 16u * XF_ACK_RANGES];
};

struct sim {
	uint64_t rng;
	struct sim_pkt pool[SIM_POOL];
	uint32_t free_list[SIM_POOL];
	uint32_t n_free;
	uint32_t heap[SIM_POOL];
	uint32_t n_heap;
	uint64_t seq;

	uint32_t content[SIM_FRAMES]; /* A's frames: handle points here, value = cid */
	uint8_t content_acked[SIM_FRAMES];
	uint32_t acked_count;
	uint32_t retx_q[SIM_FRAMES]; /* ring of cids to retransmit */
	uint32_t retx_head, retx_n;
	uint32_t next_cid;
	uint8_t pn_used_a[SIM_MAX_PN]; /* A's numbers ever sent */
	uint8_t pn_seen_b[SIM_MAX_PN]; /* numbers B delivered to its application */
	uint32_t copies_b[SIM_FRAMES]; /* content copies B's application got */
	uint64_t data_arrivals_b, data_accepted_b;
	uint64_t probes_accepted_b, probe_dups_b;
	uint64_t dropped, duplicated, reordered;
	bool bad_handle;
	bool blackout; /* the channel drops everything for a while: PTO must recover */
};

static uint64_t
sim_rand(struct sim *s)
{
	return splitmix64(&s->rng);
}

static bool
pkt_before(const struct sim *s, uint32_t a, uint32_t b)
{
	const struct sim_pkt *x = &s->pool[a], *y = &s->pool[b];

	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void
heap_push(struct sim *s, uint32_t idx)
{
	uint32_t i = s->n_heap++;

	s->heap[i] = idx;
	while (i > 0 && pkt_before(s, s->heap[i], s->heap[(i - 1) / 2])) {
		uint32_t p = (i - 1) / 2, tmp = s->heap[p];

		s->heap[p] = s->heap[i];
		s->heap[i] = tmp;
		i = p;
	}
}

static uint32_t
heap_pop(struct sim *s)
{
	uint32_t top = s->heap[0], i = 0;

	s->heap[0] = s->heap[--s->n_heap];
	for (;;) {
		uint32_t l = 2 * i + 1, rgt = l + 1, m = i, tmp;

		if (l < s->n_heap && pkt_before(s, s->heap[l], s->heap[m])) {
			m = l;
		}
		if (rgt < s->n_heap && pkt_before(s, s->heap[rgt], s->heap[m])) {
			m = rgt;
		}
		if (m == i) {
			break;
		}
		tmp = s->heap[m];
		s->heap[m] = s->heap[i];
		s->heap[i] = tmp;
		i = m;
	}
	return top;
}

/* Put a copy of p on the channel, with loss, duplication and reordering. */
static void
sim_transmit(struct sim *s, uint64_t now, const struct sim_pkt *p)
{
	unsigned int copies = 1, c;

	if (s->blackout && now >= SIM_BLACKOUT_FROM && now < SIM_BLACKOUT_TO) {
		s->dropped++;
		return;
	}
	if (sim_rand(s) % 1000 < SIM_LOSS_PM) {
		s->dropped++;
		return;
	}
	if (sim_rand(s) % 1000 < SIM_DUP_PM) {
		s->duplicated++;
		copies = 2;
	}
	for (c = 0; c < copies; c++) {
		uint64_t t = now + SIM_DELAY;
		uint32_t idx;

		if (sim_rand(s) % 1000 < SIM_REORD_PM) {
			s->reordered++;
			t += sim_rand(s) % (2 * MS); /* up to 2 ms late: ~40 frames */
		}
		CU_ASSERT_FATAL(s->n_free > 0);
		idx = s->free_list[--s->n_free];
		s->pool[idx] = *p;
		s->pool[idx].t = t;
		s->pool[idx].seq = s->seq++;
		heap_push(s, idx);
	}
}

static void
sim_acked(void *arg, const struct xf_reliab_sent *f)
{
	struct sim *s = arg;

	if (f->handle != &s->content[f->tag]) {
		s->bad_handle = true;
	}
	if (!s->content_acked[f->tag]) {
		s->content_acked[f->tag] = 1;
		s->acked_count++;
	}
}

static void
sim_lost(void *arg, const struct xf_reliab_sent *f)
{
	struct sim *s = arg;

	if (f->handle != &s->content[f->tag]) {
		s->bad_handle = true;
	}
	if (!s->content_acked[f->tag]) {
		s->retx_q[(s->retx_head + s->retx_n) % SIM_FRAMES] = (uint32_t)f->tag;
		s->retx_n++;
	}
}

/* The original arrived after all: the content is delivered, a queued resend is moot. */
static void
sim_spurious(void *arg, const struct xf_reliab_sent *f)
{
	sim_acked(arg, f);
}

/* B's ACK as a real frame: ranges from the engine through the codec's builder. */
static uint16_t
sim_ack_encode(struct xf_reliab *b, uint64_t now, struct sim_pkt *p)
{
	struct xf_ack_range rr[XF_ACK_RANGES];
	struct xf_proto_builder bld;
	struct xf_msg m = { .hdr = { .type = XF_MSG_ACK, .flags = XF_HDR_F_NOACK, .session = 1 } };
	unsigned int n, i;
	int len;

	n = xf_reliab_ack_build(b, now, rr, &m.ack.largest, &m.ack.ack_delay_us);
	if (n == 0) {
		return 0;
	}
	m.hdr.pn = xf_reliab_next_pn(b);
	if (xf_proto_build_begin(&bld, p->frame, sizeof(p->frame), &m) != 0) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (xf_proto_build_ack(&bld, &rr[i]) != 0) {
			return 0;
		}
	}
	len = xf_proto_build_finish(&bld);
	if (len <= 0 || xf_reliab_on_sent(b, now, (uint32_t)len, NULL, 0, 0, &p->pn) != 0) {
		return 0;
	}
	CU_ASSERT_EQUAL(p->pn, m.hdr.pn);
	return (uint16_t)len;
}

/* A decodes the ACK frame and hands its ranges to the engine. */
static void
sim_ack_receive(struct xf_reliab *a, uint64_t now, const struct sim_pkt *p)
{
	struct xf_ack_range rr[XF_ACK_RANGES];
	struct xf_msg m;
	uint16_t i;

	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(p->frame, p->len, &m, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(m.hdr.type, XF_MSG_ACK);
	if (xf_reliab_rx_filter(a, now, m.hdr.pn, false) != 0) {
		return;
	}
	xf_reliab_rx_accept(a, now, m.hdr.pn, false);
	for (i = 0; i < m.ack.count; i++) {
		xf_proto_ack_get(&m, i, &rr[i]);
	}
	CU_ASSERT_EQUAL(
	        xf_reliab_on_ack(a, now, m.ack.largest, m.ack.ack_delay_us, rr, m.ack.count), 0);
}

static bool
sim_has_work(struct sim *s)
{
	while (s->retx_n > 0 && s->content_acked[s->retx_q[s->retx_head]]) {
		s->retx_head = (s->retx_head + 1) % SIM_FRAMES;
		s->retx_n--;
	}
	return s->retx_n > 0 || s->next_cid < SIM_FRAMES;
}

static void
sim_run(uint64_t seed, bool blackout)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct xf_reliab_cfg ca = {
		.tx_slots = 1024,
		.pace_rate = 20000000, /* 20k frames/s: about 200 in flight */
		.pace_burst = 4,
		.pace_frame_bytes = SIM_FRAME_B,
		.keepalive_ns = 50 * MS,
		.idle_timeout_ns = 5000 * MS,
		.on_acked = sim_acked,
		.on_lost = sim_lost,
		.on_spurious = sim_spurious,
	};
	struct xf_reliab_cfg cb = { .rx_window = 1024, .idle_timeout_ns = 5000 * MS };
	struct xf_reliab *a, *b;
	struct xf_reliab_stats sa, sb;
	uint64_t now = 0, extra = 0, i;
	uint32_t cid;
	bool deadlock = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s->rng = seed;
	s->blackout = blackout;
	for (i = 0; i < SIM_POOL; i++) {
		s->free_list[i] = (uint32_t)i;
	}
	s->n_free = SIM_POOL;
	for (cid = 0; cid < SIM_FRAMES; cid++) {
		s->content[cid] = cid;
	}
	ca.cb_arg = s;
	a = xf_reliab_create(&ca, 0);
	b = xf_reliab_create(&cb, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);

	while (s->acked_count < SIM_FRAMES) {
		uint64_t next = XF_RELIAB_NEVER, t;

		if (s->n_heap > 0) {
			next = s->pool[s->heap[0]].t;
		}
		if (sim_has_work(s) && xf_reliab_can_send(a)) {
			next = XF_MIN(next, xf_reliab_pace_next(a, now, SIM_FRAME_B));
		}
		next = XF_MIN(next, xf_reliab_loss_deadline(a));
		next = XF_MIN(next, xf_reliab_ack_deadline(b));
		if (next == XF_RELIAB_NEVER || now > 600000 * MS) {
			deadlock = true;
			break;
		}
		now = XF_MAX(now, next);
		CU_ASSERT_FALSE(xf_reliab_idle_expired(a, now));

		/* 1. deliveries */
		while (s->n_heap > 0 && s->pool[s->heap[0]].t <= now) {
			uint32_t idx = heap_pop(s);
			struct sim_pkt *p = &s->pool[idx];

			if (!p->to_a && p->probe) {
				if (xf_reliab_rx_filter(b, now, p->pn, true) == 0) {
					xf_reliab_rx_accept(b, now, p->pn, true);
					xf_reliab_ack_now(b); /* ACKNOW */
					s->probes_accepted_b++;
				} else {
					s->probe_dups_b++;
				}
			} else if (!p->to_a) {
				s->data_arrivals_b++;
				if (xf_reliab_rx_filter(b, now, p->pn, true) == 0) {
					xf_reliab_rx_accept(b, now, p->pn, true);
					s->data_accepted_b++;
					CU_ASSERT_FALSE(s->pn_seen_b[p->pn]);
					s->pn_seen_b[p->pn] = 1;
					s->copies_b[p->cid]++;
				}
			} else {
				sim_ack_receive(a, now, p);
			}
			s->free_list[s->n_free++] = idx;
		}
		/* 2. B acknowledges when due */
		t = xf_reliab_ack_deadline(b);
		if (t <= now) {
			struct sim_pkt p = { .to_a = 1 };

			p.len = sim_ack_encode(b, now, &p);
			CU_ASSERT_FATAL(p.len > 0);
			xf_reliab_ack_sent(b);
			sim_transmit(s, now, &p);
		}
		/* 3. A's loss timer and PTO */
		if (xf_reliab_loss_deadline(a) <= now) {
			xf_reliab_on_timeout(a, now);
		}
		while (xf_reliab_probes_due(a) > 0) {
			struct sim_pkt p = { .to_a = 0, .probe = 1 };

			CU_ASSERT_EQUAL(
			        xf_reliab_on_sent(a, now, 20, NULL, 0, XF_RELIAB_F_PROBE, &p.pn),
			        0);
			CU_ASSERT_FALSE(s->pn_used_a[p.pn]);
			s->pn_used_a[p.pn] = 1;
			sim_transmit(s, now, &p);
		}
		/* 4. A sends what the pacer and the table allow */
		while (sim_has_work(s) && xf_reliab_can_send(a) &&
		       xf_reliab_pace_next(a, now, SIM_FRAME_B) <= now) {
			struct sim_pkt p = { .to_a = 0 };
			unsigned int flags = XF_RELIAB_F_ACK_ELICITING;

			if (s->retx_n > 0) {
				cid = s->retx_q[s->retx_head];
				s->retx_head = (s->retx_head + 1) % SIM_FRAMES;
				s->retx_n--;
				flags |= XF_RELIAB_F_RETRANSMIT;
			} else {
				cid = s->next_cid++;
			}
			CU_ASSERT_EQUAL(xf_reliab_on_sent(a, now, SIM_FRAME_B, &s->content[cid],
			                                  cid, flags, &p.pn),
			                0);
			CU_ASSERT_FATAL(p.pn < SIM_MAX_PN);
			CU_ASSERT_FALSE(s->pn_used_a[p.pn]); /* a number is never reused */
			s->pn_used_a[p.pn] = 1;
			p.cid = cid;
			sim_transmit(s, now, &p);
		}
	}

	CU_ASSERT_FALSE(deadlock);
	CU_ASSERT_FALSE(s->bad_handle);
	xf_reliab_stats(a, &sa);
	xf_reliab_stats(b, &sb);
	/* every frame's content reached B's application; extra copies only from resends */
	for (cid = 0; cid < SIM_FRAMES; cid++) {
		CU_ASSERT(s->copies_b[cid] >= 1);
		extra += s->copies_b[cid] - 1;
	}
	CU_ASSERT(extra <= sa.retransmitted);
	/* each number was delivered at most once; every other arrival was a duplicate */
	CU_ASSERT_EQUAL(sb.received, s->data_accepted_b + s->probes_accepted_b);
	CU_ASSERT_EQUAL(sb.duplicates, s->data_arrivals_b - s->data_accepted_b + s->probe_dups_b);
	CU_ASSERT(sb.duplicates > 0);
	/* losses were detected and repaired, the books balance */
	CU_ASSERT(sa.lost > 0);
	CU_ASSERT(sa.retransmitted > 0);
	CU_ASSERT(sa.retransmitted <= sa.lost);
	CU_ASSERT(sa.spurious <= sa.lost);
	CU_ASSERT_EQUAL(sa.sent_tracked, sa.acked + sa.lost + sa.in_flight);
	CU_ASSERT_EQUAL(sa.sent_tracked, SIM_FRAMES + sa.retransmitted);
	CU_ASSERT(sa.smoothed_rtt_ns >= 2 * SIM_DELAY);
	CU_ASSERT(sa.min_rtt_ns >= 2 * SIM_DELAY);
	if (blackout) {
		CU_ASSERT(sa.pto > 0);
		/* every timeout probed (the first ACK came long before), none declared a loss */
		CU_ASSERT_EQUAL(sa.probes, XF_RELIAB_PTO_FRAMES * sa.pto);
		CU_ASSERT(now > SIM_BLACKOUT_TO);
	}
	printf("\n    sim seed %llu: %.3f s simulated; A sent %llu (retransmitted %llu), lost %llu, "
	       "spurious %llu, pto %llu, srtt %.3f ms; B accepted %llu, duplicates %llu, "
	       "acks %llu; extra content copies %llu; channel dropped %llu dup %llu "
	       "reordered %llu\n",
	       (unsigned long long)seed, (double)now / 1e9, (unsigned long long)sa.sent_tracked,
	       (unsigned long long)sa.retransmitted, (unsigned long long)sa.lost,
	       (unsigned long long)sa.spurious, (unsigned long long)sa.pto,
	       (double)sa.smoothed_rtt_ns / 1e6, (unsigned long long)sb.received,
	       (unsigned long long)sb.duplicates, (unsigned long long)sb.acks_sent,
	       (unsigned long long)extra, (unsigned long long)s->dropped,
	       (unsigned long long)s->duplicated, (unsigned long long)s->reordered);
	xf_reliab_destroy(a);
	xf_reliab_destroy(b);
	free(s);
}

void
test_simulation(void)
{
	static const uint64_t seeds[] = { 20240501, 7, 424242 };
	unsigned int i;

	for (i = 0; i < XF_ARRAY_SIZE(seeds); i++) {
		sim_run(seeds[i], false);
	}
	sim_run(seeds[0], true);
}
