/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: the return path of a push (docs/RELIABILITY.md, "Loss
 * on the return path"). A sends a bulk stream to B; B acknowledges it and, as xferd's receiver
 * does, sends its own small tracked frames (COMMITs) now and then, both engines under BBR, over
 * a 40 ms path that loses frames at random both ways (seeded); and the keep-alives of
 * the two once both are idle.
 */
#include "xf_reliab_test.h"

#define RP_DELAY    (20 * MS) /* one way */
#define RP_TICK     (50 * US)
#define RP_DATA_B   1400u        /* A's frames */
#define RP_RATE     25000000ull  /* A's pace: 200 Mbit/s */
#define RP_DATA_END (3000 * MS)  /* A stops sending then */
#define RP_COMMIT_B 40u          /* B's frames */
#define RP_EVERY    (10 * MS)    /* B has a COMMIT to send this often... */
#define RP_LAST     (3500 * MS)  /* ...until then */
#define RP_END      (20000 * MS) /* the simulation gives up then */
#define RP_COMMITS  (RP_LAST / RP_EVERY)
#define RP_RANGES   16u /* of an ACK, the most recent (up to 64 on the wire; fewer suffice here) */
#define RP_Q        4096u
#define RP_B_PN0    1000000ull /* B numbers from elsewhere, as a responder does */

enum rp_kind { RP_DATA, RP_ACK, RP_COMMIT, RP_PING };

struct rp_pkt {
	uint64_t t; /* arrival */
	uint64_t pn;
	uint8_t kind;
	uint32_t cid; /* RP_COMMIT: which one */
	uint64_t largest;
	uint32_t delay_us;
	uint16_t nr;
	struct xf_ack_range r[RP_RANGES];
};

/* One direction: a fixed delay keeps the order, so a FIFO is the wire. */
struct rp_wire {
	struct rp_pkt q[RP_Q];
	unsigned int head, n;
};

struct rp {
	uint64_t rng;
	unsigned int loss_pm;
	struct rp_wire to_b, to_a;
	struct xf_reliab *a, *b;
	/* B's COMMITs: new ones, and lost ones to send again first, each FIFO */
	uint32_t cq[RP_COMMITS], rq[RP_COMMITS];
	unsigned int cq_head, cq_n, rq_head, rq_n;
	uint32_t handle[RP_COMMITS]; /* the tracked frame's handle points here: its cid */
	uint64_t queued_at[RP_COMMITS];
	uint64_t delivered_at[RP_COMMITS]; /* 0: not yet */
	uint32_t n_queued, n_delivered;
	uint64_t max_wait;    /* longest a COMMIT waited in B's queue for its first send */
	uint64_t max_latency; /* longest from queued to delivered to A */
	uint64_t lost_wire;
};

static uint64_t
rp_rand(struct rp *s)
{
	return splitmix64(&s->rng);
}

static void
rp_put(struct rp *s, struct rp_wire *w, const struct rp_pkt *p, uint64_t now)
{
	if (rp_rand(s) % 1000u < s->loss_pm) {
		s->lost_wire++;
		return;
	}
	CU_ASSERT_FATAL(w->n < RP_Q);
	w->q[(w->head + w->n) % RP_Q] = *p;
	w->q[(w->head + w->n) % RP_Q].t = now + RP_DELAY;
	w->n++;
}

static void
rp_on_lost(void *arg, const struct xf_reliab_sent *f)
{
	struct rp *s = arg;
	uint32_t cid = *(const uint32_t *)f->handle;

	/* As the engine's receiver: again, ahead of new ones, in the order they were sent
	 * (losses are declared in that order). */
	s->rq[(s->rq_head + s->rq_n) % RP_COMMITS] = cid;
	s->rq_n++;
}

/* An ACK of everything r received, as the engines build it. */
static void
rp_ack(struct xf_reliab *r, uint64_t now, struct rp *s, struct rp_wire *w)
{
	struct xf_ack_range ranges[XF_ACK_RANGES];
	struct rp_pkt p = { .kind = RP_ACK };
	unsigned int n = xf_reliab_ack_build(r, now, ranges, &p.largest, &p.delay_us);

	if (n == 0) {
		return;
	}
	p.nr = (uint16_t)XF_MIN(n, RP_RANGES);
	memcpy(p.r, ranges, p.nr * sizeof(p.r[0]));
	p.pn = xf_reliab_next_pn(r);
	xf_reliab_on_sent(r, now, XF_HDR_LEN + 16u + 16u * p.nr, NULL, 0, 0, NULL);
	xf_reliab_ack_sent(r);
	rp_put(s, w, &p, now);
}

static void
rp_probes(struct xf_reliab *r, uint64_t now, struct rp *s, struct rp_wire *w)
{
	while (xf_reliab_probes_due(r) > 0) {
		struct rp_pkt p = { .kind = RP_PING, .pn = xf_reliab_next_pn(r) };

		xf_reliab_on_sent(r, now, XF_HDR_LEN, NULL, 0, XF_RELIAB_F_PROBE, NULL);
		rp_put(s, w, &p, now);
	}
}

/* Frames due at one end by now. */
static void
rp_arrive(struct rp *s, struct rp_wire *w, struct xf_reliab *r, uint64_t now)
{
	while (w->n > 0 && w->q[w->head].t <= now) {
		const struct rp_pkt *p = &w->q[w->head];
		bool eliciting = p->kind != RP_ACK;

		w->head = (w->head + 1) % RP_Q;
		w->n--;
		if (xf_reliab_rx_filter(r, now, p->pn, eliciting) < 0) {
			continue;
		}
		if (p->kind == RP_ACK) {
			CU_ASSERT_EQUAL(
			        xf_reliab_on_ack(r, now, p->largest, p->delay_us, p->r, p->nr), 0);
		} else if (p->kind == RP_COMMIT && s->delivered_at[p->cid] == 0) {
			s->delivered_at[p->cid] = now;
			s->n_delivered++;
			s->max_latency = XF_MAX(s->max_latency, now - s->queued_at[p->cid]);
		}
		xf_reliab_rx_accept(r, now, p->pn, eliciting);
		if (p->kind == RP_PING) {
			xf_reliab_ack_now(r);
		}
	}
}

/* B sends what it has queued while the window and the pacer let it, as rs_flush does. */
static void
rp_b_flush(struct rp *s, uint64_t now)
{
	while (s->rq_n + s->cq_n > 0 && xf_reliab_can_send(s->b) &&
	       xf_reliab_pace_next(s->b, now, RP_COMMIT_B) <= now) {
		bool again = s->rq_n > 0;
		uint32_t cid = again ? s->rq[s->rq_head] : s->cq[s->cq_head];
		struct rp_pkt p = { .kind = RP_COMMIT, .cid = cid, .pn = xf_reliab_next_pn(s->b) };

		if (again) {
			s->rq_head = (s->rq_head + 1) % RP_COMMITS;
			s->rq_n--;
		} else {
			s->cq_head = (s->cq_head + 1) % RP_COMMITS;
			s->cq_n--;
			s->max_wait = XF_MAX(s->max_wait, now - s->queued_at[cid]);
		}
		s->handle[cid] = cid;
		CU_ASSERT_EQUAL(xf_reliab_on_sent(s->b, now, RP_COMMIT_B, &s->handle[cid], 0,
		                                  XF_RELIAB_F_ACK_ELICITING |
		                                          (again ? XF_RELIAB_F_RETRANSMIT : 0),
		                                  NULL),
		                0);
		rp_put(s, &s->to_a, &p, now);
	}
	if (s->rq_n + s->cq_n == 0 && xf_reliab_can_send(s->b)) {
		xf_reliab_app_limited(s->b);
	}
}

static void
rp_run(struct rp *s, uint64_t seed)
{
	struct xf_reliab_cfg ca = { .congestion = XF_CC_FIXED,
		                    .pace_rate = RP_RATE,
		                    .pace_frame_bytes = RP_DATA_B,
		                    .cc_seed = seed };
	struct xf_reliab_cfg cb = { .congestion = XF_CC_BBR,
		                    .initial_pn = RP_B_PN0,
		                    .cc_seed = seed,
		                    .on_lost = rp_on_lost,
		                    .cb_arg = s };
	uint64_t now = 0, next_commit = RP_EVERY;

	s->rng = seed;
	s->a = xf_reliab_create(&ca, 0);
	s->b = xf_reliab_create(&cb, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->b);
	for (now = 0; now < RP_END && (now < RP_LAST || s->n_delivered < s->n_queued);
	     now += RP_TICK) {
		rp_arrive(s, &s->to_a, s->a, now);
		rp_arrive(s, &s->to_b, s->b, now);
		/* A: the bulk stream, acknowledgements of B's frames, probes */
		xf_reliab_on_timeout(s->a, now);
		rp_probes(s->a, now, s, &s->to_b);
		if (xf_reliab_ack_deadline(s->a) <= now) {
			rp_ack(s->a, now, s, &s->to_b);
		}
		while (now < RP_DATA_END && xf_reliab_can_send(s->a) &&
		       xf_reliab_pace_next(s->a, now, RP_DATA_B) <= now) {
			struct rp_pkt p = { .kind = RP_DATA, .pn = xf_reliab_next_pn(s->a) };

			xf_reliab_on_sent(s->a, now, RP_DATA_B, NULL, 0, XF_RELIAB_F_ACK_ELICITING,
			                  NULL);
			rp_put(s, &s->to_b, &p, now);
		}
		/* B: its COMMITs, its ACKs of the stream, probes */
		if (now >= next_commit && now <= RP_LAST && s->n_queued < RP_COMMITS) {
			uint32_t cid = s->n_queued++;

			s->queued_at[cid] = now;
			s->cq[(s->cq_head + s->cq_n) % RP_COMMITS] = cid;
			s->cq_n++;
			next_commit += RP_EVERY;
		}
		xf_reliab_on_timeout(s->b, now);
		rp_probes(s->b, now, s, &s->to_a);
		rp_b_flush(s, now);
		if (xf_reliab_ack_deadline(s->b) <= now) {
			rp_ack(s->b, now, s, &s->to_a);
		}
	}
}

/*
 * B's COMMITs leave as soon as they are queued and each reaches A within a few round trips,
 * however many ACKs B sends meanwhile. Before, the ACKs were charged to B's pacer at the rate
 * its BBR measured from the COMMITs alone (a few KB/s): the debt grew by the hundreds of KB/s
 * of ACKs, and the COMMITs waited minutes (the e2e push over 1% loss both ways stalled with
 * every file committed and none reported).
 */
void
test_return_path(void)
{
	static struct rp s;

	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct xf_reliab_stats sb;

		memset(&s, 0, sizeof(s));
		s.loss_pm = 10; /* 1% each way */
		rp_run(&s, seed);
		xf_reliab_stats(s.b, &sb);
		if (s.n_delivered != s.n_queued || s.max_wait > 5 * MS ||
		    s.max_latency > 500 * MS) {
			printf("\nseed %llu: %u of %u COMMITs delivered, longest wait %.3f s, longest "
			       "latency %.3f s, B's pacing %llu B/s, %llu ACKs, %llu lost\n",
			       (unsigned long long)seed, s.n_delivered, s.n_queued,
			       s.max_wait / 1e9, s.max_latency / 1e9,
			       (unsigned long long)sb.cc.pacing_rate,
			       (unsigned long long)sb.acks_sent, (unsigned long long)sb.lost);
		}
		CU_ASSERT(s.lost_wire > 0);
		CU_ASSERT(sb.acks_sent > 10000); /* the stream was acknowledged... */
		CU_ASSERT_EQUAL(s.n_queued, RP_COMMITS);
		CU_ASSERT_EQUAL(s.n_delivered, s.n_queued); /* ...and B had its say */
		CU_ASSERT(s.max_wait <= 5 * MS);
		CU_ASSERT(s.max_latency <= 500 * MS);
		xf_reliab_destroy(s.a);
		xf_reliab_destroy(s.b);
	}
}

/*
 * Both ends idle, as at the end of a push whose receiver has nothing left to say: A (the
 * sender) sends a keep-alive PING when its keep-alive is due, B (the receiver) its ACK
 * again (eng_rs_poll), over 20 ms each way. Neither idle timer may expire. Counted from
 * the later of sent and received, B's ACK reached A every interval just as A's PING fell
 * due and put it off: A never sent another, and B's idle timer expired with both alive.
 */
void
test_keepalive_both_idle(void)
{
	static struct rp s;
	struct xf_reliab_cfg cfg = { .keepalive_ns = 1000 * MS, .idle_timeout_ns = 10000 * MS };
	struct rp_pkt ping = { .kind = RP_PING };
	uint64_t now;
	unsigned int pings = 0;
	bool expired = false;

	memset(&s, 0, sizeof(s));
	s.a = xf_reliab_create(&cfg, 0);
	cfg.initial_pn = RP_B_PN0;
	s.b = xf_reliab_create(&cfg, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.b);
	for (now = 0; now < 30000 * MS && !expired; now += 100 * US) {
		rp_arrive(&s, &s.to_a, s.a, now);
		rp_arrive(&s, &s.to_b, s.b, now);
		xf_reliab_on_timeout(s.a, now);
		rp_probes(s.a, now, &s, &s.to_b);
		if (now == 0 || xf_reliab_keepalive_due(s.a, now)) {
			ping.pn = xf_reliab_next_pn(s.a);
			xf_reliab_on_sent(s.a, now, XF_HDR_LEN, NULL, 0, XF_RELIAB_F_ACK_ELICITING,
			                  NULL);
			rp_put(&s, &s.to_b, &ping, now);
			pings++;
		}
		if (xf_reliab_ack_deadline(s.b) <= now || xf_reliab_keepalive_due(s.b, now)) {
			rp_ack(s.b, now, &s, &s.to_a);
		}
		expired = xf_reliab_idle_expired(s.a, now) || xf_reliab_idle_expired(s.b, now);
	}
	CU_ASSERT_FALSE(expired);
	CU_ASSERT(pings >= 29); /* one a second */
	if (expired) {
		printf("\n  an idle timer expired at %.3f s after %u PINGs\n", now / 1e9, pings);
	}
	xf_reliab_destroy(s.a);
	xf_reliab_destroy(s.b);
}
