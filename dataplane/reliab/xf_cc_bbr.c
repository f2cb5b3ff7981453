/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BBRv3 (draft-ietf-ccwg-bbr; docs/RELIABILITY.md, "Congestion control"). Function names
 * follow the draft's pseudocode (BBRUpdateMaxBw is update_max_bw) so each can be checked
 * against it; the constants are the draft's, with its section beside each. Per ACK:
 * update the model (bandwidth, min RTT, bounds) and the state, then set the pacing rate
 * and the window from them.
 *
 * Over 1,000 lines: one state machine. Every function reads and writes the same model
 * (bandwidth, min RTT, inflight bounds, the ProbeBW cycle); split by state, each file
 * would need all of it, and the draft's pseudocode could no longer be read in one place.
 */
#include <string.h>

#include "xf_cc.h"

#define NS_PER_S 1000000000ull
#define MS       1000000ull

/* Gains, XF_CC_UNIT (draft 4.6.1 Startup, 4.6.2 Drain, 4.6.3 ProbeBW, 4.6.4 ProbeRTT). */
#define STARTUP_PACING_GAIN 2770u /* 4 ln 2: doubles the delivery rate each round */
#define STARTUP_CWND_GAIN   2000u
#define DRAIN_PACING_GAIN   350u /* drains Startup's queue within about one round */
#define DEFAULT_CWND_GAIN   2000u
#define PROBE_UP_PACING     1250u
#define PROBE_UP_CWND_GAIN  2250u
#define PROBE_DOWN_PACING   900u
#define PROBE_RTT_CWND_GAIN 500u
/* 4.6.1.2: full bandwidth reached after 3 rounds growing less than 25%. */
#define FULL_BW_THRESH 1250u
#define FULL_BW_COUNT  3u
/* 4.5.10: the loss rate a probe tolerates; Beta, the cut on loss; Headroom, left free
 * for other flows in Cruise. */
#define LOSS_THRESH_PM        20u
#define BETA                  700u
#define HEADROOM              150u
#define STARTUP_FULL_LOSS_CNT 6u /* 4.6.1.3 */
/* Rounds of the loss-rate average that gates the lower bounds (not in the draft). */
#define LOSS_EWMA_DIV 8u
/* 4.5.4: the max-bw filter spans 2 ProbeBW cycles; 4.5.5: min RTT over 10 s, ProbeRTT
 * every 5 s for 200 ms. */
#define MIN_RTT_FILTER_NS     (10000ull * MS)
#define PROBE_RTT_INTERVAL_NS (5000ull * MS)
#define PROBE_RTT_DURATION_NS (200ull * MS)
/* 4.6.3.5: wait 2-3 s between bandwidth probes, at most 63 rounds (Reno coexistence). */
#define PROBE_WAIT_BASE_NS (2000ull * MS)
#define PROBE_WAIT_RAND_NS (1000ull * MS)
#define RENO_ROUNDS_MAX    63u
/* 4.6.2: pace 1% below the estimate so the bottleneck queue drains. */
#define PACING_MARGIN_PCT 1u
/* 4.5.7 (extra_acked): 10 rounds, kept as two halves of 5. */
#define EXTRA_ACKED_ROUNDS 5u
/* Not in the draft: a round delivering less than SLOWED_NUM/SLOWED_DEN of max_bw with a
 * queue standing through it says the path slowed (update_congestion_signals()). */
#define SLOWED_NUM 7u
#define SLOWED_DEN 10u
/* Not in the draft: a loss is congestion only when an RTT of the last two loss rounds
 * was above min RTT by 1/8 of it, and by at least 0.5 ms (queue_evidence()). */
#define QUEUE_EVIDENCE_DIV    8u
#define QUEUE_EVIDENCE_MIN_NS (MS / 2)
/* Not in the draft: competing with another flow's standing queue (update_compete()).
 * Entered after COMPETE_CYCLES ProbeBW cycles in a row in which no RTT sample came
 * within min RTT x (1 + 1/COMPETE_ENTER_DIV), and COMPETE_ENTER_MIN_NS, of min RTT; left
 * on a sample within 1/COMPETE_EXIT_DIV of it (QUEUE_EVIDENCE_MIN_NS at least). While
 * competing, the window grows by 1/COMPETE_GROW_DIV of the BDP a round and is cut to
 * COMPETE_BETA on a loss, once per flight; pacing is COMPETE_PACING x window / srtt. */
#define COMPETE_CYCLES       2u
#define COMPETE_ENTER_DIV    1u
#define COMPETE_ENTER_MIN_NS (5 * MS)
#define COMPETE_EXIT_DIV     4u
#define COMPETE_GROW_DIV     4u
#define COMPETE_BETA         BETA
#define COMPETE_PACING       PROBE_UP_PACING
/* 4.2: InitialCwnd and MinPipeCwnd in frames. */
#define INITIAL_CWND_FRAMES 10u
#define MIN_PIPE_FRAMES     4u

enum ack_phase {
	ACKS_INIT = 0,
	ACKS_REFILLING,
	ACKS_PROBE_STARTING,
	ACKS_PROBE_FEEDBACK,
	ACKS_PROBE_STOPPING,
};

static uint64_t
min_pipe(const struct xf_cc *cc)
{
	return (uint64_t)MIN_PIPE_FRAMES * cc->smss;
}

static uint64_t
gain_of(uint64_t v, uint32_t gain)
{
	return v == XF_CC_INF ? XF_CC_INF : xf_cc_muldiv(v, gain, XF_CC_UNIT);
}

static uint64_t
rng_next(struct xf_cc_bbr *b)
{
	uint64_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->rng = x;
	return x;
}

static bool
in_probe_bw(const struct xf_cc_bbr *b)
{
	return b->state >= XF_CC_ST_PROBE_BW_DOWN && b->state <= XF_CC_ST_PROBE_BW_UP;
}

static bool
is_probing_bw(const struct xf_cc_bbr *b)
{
	return b->state == XF_CC_ST_STARTUP || b->state == XF_CC_ST_PROBE_BW_REFILL ||
	       b->state == XF_CC_ST_PROBE_BW_UP;
}

/*
 * Was the flight held by the window, in this round or the one just ended? cwnd_limited
 * restarts with each round (update_round()), on the ACK that starts it: asked on that
 * ACK alone it would always say no, and ProbeBW_UP would never see the window that
 * bounds it (4.6.3.4, BBRProbeInflightHiUpward: TCP's is_cwnd_limited spans a window).
 */
static bool
is_cwnd_limited(const struct xf_cc *cc)
{
	return cc->cwnd_limited || cc->bbr.prev_round_cwnd_limited;
}

/* --- BDP and inflight (4.6.4.2, 4.6.4.3) ------------------------------------------- */

static uint64_t
bdp_multiple(const struct xf_cc *cc, uint64_t bw, uint32_t gain)
{
	const struct xf_cc_bbr *b = &cc->bbr;

	if (b->min_rtt == UINT64_MAX) {
		return (uint64_t)INITIAL_CWND_FRAMES * cc->smss; /* no RTT sample yet */
	}
	return gain_of(xf_cc_muldiv(bw, b->min_rtt, NS_PER_S), gain);
}

static uint64_t
quantization_budget(const struct xf_cc *cc, uint64_t inflight)
{
	/* offload budget: the pacer's burst of 4 frames (xf_reliab's default) */
	inflight = inflight > 4ull * cc->smss ? inflight : 4ull * cc->smss;
	inflight = inflight > min_pipe(cc) ? inflight : min_pipe(cc);
	if (cc->bbr.state == XF_CC_ST_PROBE_BW_UP) {
		inflight += 2ull * cc->smss;
	}
	return inflight;
}

static uint64_t
bbr_inflight(const struct xf_cc *cc, uint64_t bw, uint32_t gain)
{
	return quantization_budget(cc, bdp_multiple(cc, bw, gain));
}

/*
 * Not in the draft: the window never holds the flight below what the bandwidth estimate
 * needs at the smoothed RTT (bw x srtt). The draft's 2 x bw x min RTT assumes the RTT a
 * flight sees is near min RTT. Two cases where it is not:
 * - a path of microseconds (the dev pair's memif, the e2e veth link): min RTT is the
 *   wire's, 8-20 us, but a loaded host answers after 3-14 ms (srtt seen in
 *   tests/e2e/net/lossy-goodput.sh); a window of 2 x bw x min RTT plus the ACK
 *   aggregation allowance (about 200 KB) held a 300 Mbit/s push to about 100 Mbit/s;
 * - a queue that another flow keeps full (S5, Reno in a buffer of 4 BDP: RTT 250 ms for
 *   a min RTT of 50): each round delivers cwnd / RTT, 0.4 x bw, the next estimate is
 *   lower and the window with it, down to 95 Mbit/s of 1 G; with the floor 146.
 * bw x srtt is what keeps delivering bw: it lets no flight grow beyond what is already
 * in flight at that rate, so it builds no queue of its own. Below 2 x min RTT (every
 * scenario where the queue stays under 1 BDP) it never binds.
 * It keeps a queue that is there, though, its own as well: srtt includes it. After a
 * congestion cut in Cruise (cruise_drain, update_probe_bw_cycle_phase()) it is off until
 * the flight is down to the BDP: in S3, at 500 Mbit/s after the cut, it held the window
 * at bw x srtt (8 MB, srtt 130 ms for a min RTT of 50) and the queue at 60-80 ms for 2 s,
 * draining only by the 1% pacing margin.
 */
static uint64_t
srtt_floor(const struct xf_cc *cc)
{
	const struct xf_cc_bbr *b = &cc->bbr;

	if (b->min_rtt == UINT64_MAX || cc->srtt <= b->min_rtt || b->cruise_drain) {
		return 0;
	}
	return xf_cc_muldiv(b->bw, cc->srtt, NS_PER_S);
}

static uint64_t
inflight_with_headroom(const struct xf_cc *cc)
{
	const struct xf_cc_bbr *b = &cc->bbr;
	uint64_t headroom, v;

	if (b->inflight_hi == XF_CC_INF) {
		return XF_CC_INF;
	}
	headroom = gain_of(b->inflight_hi, HEADROOM);
	headroom = headroom > cc->smss ? headroom : cc->smss;
	v = b->inflight_hi > headroom ? b->inflight_hi - headroom : 0;
	return v > min_pipe(cc) ? v : min_pipe(cc);
}

static uint64_t
target_inflight(const struct xf_cc *cc)
{
	uint64_t bdp = bdp_multiple(cc, cc->bbr.bw, XF_CC_UNIT);

	return bdp < cc->cwnd ? bdp : cc->cwnd;
}

/* min RTT / 8, at least 0.5 ms: above min RTT by this, an RTT sample saw a queue */
static uint64_t
queue_margin(const struct xf_cc_bbr *b)
{
	uint64_t margin = b->min_rtt / QUEUE_EVIDENCE_DIV;

	return margin > QUEUE_EVIDENCE_MIN_NS ? margin : QUEUE_EVIDENCE_MIN_NS;
}

/*
 * Not in the draft: is there a queue behind this loss? A drop-tail queue drops only when
 * full, so a loss from congestion comes with RTTs above min RTT around it; a random loss
 * (a lossy link, the e2e test's nftables drop) comes at any RTT. BBR cuts its bounds
 * (Startup's exit on loss, inflight_hi in a probe, bw_lo and inflight_lo in a lossy
 * round) only when an RTT sample of this loss round or the one before was above min RTT
 * by 1/8 of it and by 0.5 ms: at 50 ms, 6.25 ms of queue, half of what the shallowest
 * buffer of S5 (0.25 BDP) holds when full. The two rounds' largest sample, not the
 * latest: an unpaced flow's bursts fill a shallow queue for a moment, and the ACK that
 * declares the loss may come after it drained (with the latest sample, BBR took 80% of
 * S5's 0.25 BDP link from Reno instead of 59%).
 * Without the rule, 5% random loss each way on a 0.2 ms path cut the rate to 47% of the
 * lossless one (LAN scenario of unit-wansim-cc, now 94%), and bursty 1% loss (S2) to
 * 85-93% (now 93%). The cost: a policer that drops without queueing is not seen as
 * congestion; BBR then paces at the rate it measures through it, and its probes lose.
 */
static bool
queue_evidence(const struct xf_cc *cc)
{
	const struct xf_cc_bbr *b = &cc->bbr;
	uint64_t margin;

	if (b->min_rtt == UINT64_MAX) {
		return true; /* no RTT yet: the draft's rule */
	}
	margin = queue_margin(b);
	return (b->rtt_round_max > b->rtt_prev_round_max
	                ? b->rtt_round_max
	                : b->rtt_prev_round_max) >= b->min_rtt + margin;
}

/*
 * Not in the draft: did an RTT sample of this ProbeBW cycle (from its ProbeBW_DOWN)
 * come within the margin of queue_evidence() of min RTT? Then the queue was empty in
 * it, and a queue now is this flow's or came since: a path that slowed down (S3). A
 * flow that shares the link with another's standing queue sees none (S4 with 50 and
 * 100 ms RTTs: the 100 ms flow's cycle minimum is 140 ms), and draining would only
 * hand its share to the other flow (Jain 0.629-0.661 against 0.656-0.713 without this).
 */
static bool
queue_was_empty(const struct xf_cc_bbr *b)
{
	return b->min_rtt != UINT64_MAX && b->cycle_rtt_min != UINT64_MAX &&
	       b->cycle_rtt_min <= b->min_rtt + queue_margin(b);
}

/*
 * Not in the draft: did a queue stand through the last loss round and this one so far?
 * Every RTT sample of both above min RTT by the margin of queue_evidence(). Then a loss
 * is congestion whatever its rate, and the lower bounds are cut on any lossy round, as
 * the draft does (4.5.10.3); otherwise only above LossThresh (update_congestion_signals()).
 * Random loss on an idle path, and the queue of a probe that drains within a round,
 * have some sample near min RTT. Two flows with 50 and 100 ms RTTs (S4) keep such a
 * queue, and do not see the same loss rate in it: the 50 ms flow, with 4 times the
 * other's flight, averaged 0.5-1.4% where the 100 ms flow had 2-7%, so only the smaller
 * flow cut. S3 seed 2 cruised at the old rate with the queue at 95 ms after the rate
 * fell, losing under 2% (figures: docs/RELIABILITY.md, "Deviations from the draft").
 */
static bool
standing_queue(const struct xf_cc *cc)
{
	const struct xf_cc_bbr *b = &cc->bbr;
	uint64_t lo =
	        b->rtt_round_min < b->rtt_prev_round_min ? b->rtt_round_min : b->rtt_prev_round_min;

	if (b->min_rtt == UINT64_MAX || lo == 0 || lo == UINT64_MAX) {
		return false; /* no sample yet, or a round without one */
	}
	return lo >= b->min_rtt + queue_margin(b);
}

/* --- rounds and signals (4.5.1, 4.5.10) -------------------------------------------- */

static void
start_round(struct xf_cc *cc)
{
	cc->bbr.next_round_delivered = cc->rate.delivered;
}

static void
update_round(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	b->round_start = false;
	if (cc->rate.rs.has_sample && cc->rate.rs.prior_delivered >= b->next_round_delivered) {
		start_round(cc);
		b->round_count++;
		b->rounds_since_bw_probe++;
		b->round_start = true;
		b->prev_round_cwnd_limited = cc->cwnd_limited;
		cc->cwnd_limited = false;
	}
}

static void
reset_congestion_signals(struct xf_cc_bbr *b)
{
	b->loss_in_round = false;
	b->loss_events_in_round = 0;
	b->bw_latest = 0;
	b->inflight_latest = 0;
}

static void
reset_lower_bounds(struct xf_cc_bbr *b)
{
	b->bw_lo = XF_CC_INF;
	b->inflight_lo = XF_CC_INF;
}

static void
reset_full_bw(struct xf_cc_bbr *b)
{
	b->full_bw = 0;
	b->full_bw_count = 0;
	b->full_bw_now = false;
}

static void
update_latest_delivery_signals(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	const struct xf_cc_rs *rs = &cc->rate.rs;

	b->loss_round_start = false;
	if (rs->delivery_rate > b->bw_latest) {
		b->bw_latest = rs->delivery_rate;
	}
	if (rs->delivered > b->inflight_latest) {
		b->inflight_latest = rs->delivered;
	}
	if (rs->prior_delivered >= b->loss_round_delivered) {
		b->loss_round_delivered = cc->rate.delivered;
		b->loss_round_start = true;
		b->rtt_prev_round_max = b->rtt_round_max;
		b->rtt_round_max = 0;
		b->rtt_prev_round_min = b->rtt_round_min;
		b->rtt_round_min = UINT64_MAX;
	}
	if (rs->rtt_ns > b->rtt_round_max) {
		b->rtt_round_max = rs->rtt_ns;
	}
	if (rs->rtt_ns > b->up_rtt_max) {
		b->up_rtt_max = rs->rtt_ns;
	}
	if (rs->rtt_ns != 0 && rs->rtt_ns < b->rtt_round_min) {
		b->rtt_round_min = rs->rtt_ns;
	}
}

static void
advance_latest_delivery_signals(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	if (b->loss_round_start) {
		b->loss_events_in_round = 0;
		b->bw_latest = cc->rate.rs.delivery_rate;
		b->inflight_latest = cc->rate.rs.delivered;
	}
}

static void
update_max_bw(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	const struct xf_cc_rs *rs = &cc->rate.rs;

	update_round(cc);
	if (rs->delivery_rate != 0 && (rs->delivery_rate >= b->max_bw || !rs->is_app_limited)) {
		uint64_t *slot = &b->max_bw_filter[b->cycle_count & 1];

		if (rs->delivery_rate > *slot) {
			*slot = rs->delivery_rate;
		}
		b->max_bw = b->max_bw_filter[0] > b->max_bw_filter[1] ? b->max_bw_filter[0]
		                                                      : b->max_bw_filter[1];
	}
}

/*
 * Once per ProbeBW cycle, when a probe's ACKs end (4.5.4), and here also once in a cycle
 * whose lower bounds were cut by congestion while cruising (not in the draft): then the
 * path delivers less than the cycles behind max_bw saw. After S3's cut from 1 G to 500 M
 * max_bw kept 1 G for two cycles (about 6 s), and each probe in them refilled the queue
 * to 1 G's BDP: the queue took 4.9-7.8 s to settle below 25 ms, 4.2-4.9 s with this.
 * Forgetting at Refill instead, or draining in ProbeBW_DOWN after each such cut, settled
 * S3 in 2.3-4.9 s but put S4's same-RTT Jain index under 0.95 (0.923-0.925) on a seed;
 * that was before Cruise drained after a cut (cruise_drain). With it, Refill forgets
 * the older slot after such a cycle (start_probe_bw_refill()): figures in
 * docs/RELIABILITY.md, "Scenarios with congestion control".
 */
static void
advance_max_bw_filter(struct xf_cc_bbr *b)
{
	b->cycle_count++;
	b->max_bw_filter[b->cycle_count & 1] = 0;
}

static void
init_lower_bounds(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	if (b->bw_lo == XF_CC_INF) {
		b->bw_lo = b->max_bw;
	}
	if (b->inflight_lo == XF_CC_INF) {
		b->inflight_lo = cc->cwnd;
	}
}

static void
loss_lower_bounds(struct xf_cc_bbr *b)
{
	uint64_t bw = gain_of(b->bw_lo, BETA), inflight = gain_of(b->inflight_lo, BETA);

	b->bw_lo = b->bw_latest > bw ? b->bw_latest : bw;
	b->inflight_lo = b->inflight_latest > inflight ? b->inflight_latest : inflight;
}

static void
update_congestion_signals(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	update_max_bw(cc);
	if (cc->rate.rs.newly_lost > 0) {
		b->loss_in_round = true;
		b->loss_events_in_round++; /* one event per ACK that declared losses */
	}
	b->round_lost += cc->rate.rs.newly_lost;
	b->round_acked += cc->rate.rs.newly_acked;
	if (!b->loss_round_start) {
		return;
	}
	/*
	 * Adapt the lower bounds once per round, outside of probing (4.5.10.3). The draft
	 * cuts on any loss in the round; here the loss rate of the recent rounds (a moving
	 * average, weight 1/LOSS_EWMA_DIV per round) must also exceed LossThresh. Random
	 * loss below that is no sign of congestion, and cutting bw_lo to the last round's
	 * rate on every lossy round lets the 1% pacing margin ratchet the rate down: at 1%
	 * random loss (S2) goodput fell to 70-82% of the link with the draft's rule. An
	 * overflowing queue still cuts within a round: losing 1/2 of a round moves the
	 * average to 6% (docs/RELIABILITY.md, "Deviations from the draft"). Through a
	 * standing queue (standing_queue()) any lossy round cuts, as in the draft.
	 */
	if (b->round_lost + b->round_acked > 0) {
		uint64_t pm = b->round_lost * 1000u / (b->round_lost + b->round_acked);

		b->loss_pm_avg =
		        (b->loss_pm_avg * (LOSS_EWMA_DIV - 1) + pm * 1000u) / LOSS_EWMA_DIV;
	}
	if (!is_probing_bw(b) && b->loss_in_round && queue_evidence(cc) &&
	    (b->loss_pm_avg > (uint64_t)LOSS_THRESH_PM * 1000u || standing_queue(cc))) {
		init_lower_bounds(cc);
		loss_lower_bounds(b);
		b->lower_cut = true;
	}
	if (!cc->rate.rs.is_app_limited && b->bw_latest * SLOWED_DEN < b->max_bw * SLOWED_NUM) {
		/*
		 * Not in the draft: a round that delivered under 0.7 x max_bw. The path
		 * slowed, or another flow took a share: Cruise's bound from the last probe
		 * (cruise_bound, is_time_to_go_down()) was sized to a rate that is gone, and
		 * kept without a loss a queue that the window of the draft would have
		 * overflowed (S3, after the cut to 500 Mbit/s: 56 ms of queue for 10 s).
		 * With a queue standing through the round and no lower bound yet in this
		 * cycle, it cuts the lower bounds as a lossy round through a standing queue
		 * does: on S3 seed 2, after ProbeRTT, inflight_hi less the headroom held the
		 * queue at 73 ms without a loss until the next probe.
		 */
		b->cruise_bound = XF_CC_INF;
		if (in_probe_bw(b) && !is_probing_bw(b) && b->bw_lo == XF_CC_INF &&
		    standing_queue(cc)) {
			init_lower_bounds(cc);
			loss_lower_bounds(b);
			b->lower_cut = true;
		}
	}
	b->loss_in_round = false;
	b->round_lost = 0;
	b->round_acked = 0;
}

/* 4.5.7: how far the ACKs run ahead of the estimated bandwidth (ACK aggregation). */
static void
update_ack_aggregation(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t interval = now - b->extra_acked_start;
	uint64_t expected = xf_cc_muldiv(b->bw, interval, NS_PER_S);
	uint64_t extra;

	if (b->extra_acked_delivered <= expected) {
		b->extra_acked_delivered = 0;
		b->extra_acked_start = now;
		expected = 0;
	}
	b->extra_acked_delivered += cc->rate.rs.newly_acked;
	extra = b->extra_acked_delivered - expected;
	if (extra > cc->cwnd) {
		extra = cc->cwnd;
	}
	if (b->round_start && b->round_count - b->extra_acked_round >= EXTRA_ACKED_ROUNDS) {
		b->extra_acked_round = b->round_count;
		b->extra_acked_idx ^= 1u;
		b->extra_acked[b->extra_acked_idx] = 0;
	}
	if (extra > b->extra_acked[b->extra_acked_idx]) {
		b->extra_acked[b->extra_acked_idx] = extra;
	}
}

/* --- Startup and Drain (4.6.1, 4.6.2) --------------------------------------------- */

static void
enter_startup(struct xf_cc_bbr *b)
{
	b->state = XF_CC_ST_STARTUP;
	b->pacing_gain = STARTUP_PACING_GAIN;
	b->cwnd_gain = STARTUP_CWND_GAIN;
}

static void
check_full_bw_reached(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	const struct xf_cc_rs *rs = &cc->rate.rs;

	if (b->full_bw_now || rs->is_app_limited || !b->round_start) {
		return;
	}
	if (rs->delivery_rate >= gain_of(b->full_bw, FULL_BW_THRESH)) {
		reset_full_bw(b);
		b->full_bw = rs->delivery_rate;
		return;
	}
	b->full_bw_count++;
	b->full_bw_now = b->full_bw_count >= FULL_BW_COUNT;
	if (b->full_bw_now) {
		b->full_bw_reached = true;
	}
}

static bool
is_inflight_too_high(const struct xf_cc_rs *rs)
{
	return rs->lost * 1000u > rs->tx_in_flight * LOSS_THRESH_PM;
}

/* 4.6.1.3: leave Startup when a round lost more than the threshold in enough events. */
static void
check_startup_high_loss(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	const struct xf_cc_rs *rs = &cc->rate.rs;

	if (b->full_bw_reached || b->state != XF_CC_ST_STARTUP) {
		return;
	}
	if (b->loss_round_start && b->loss_events_in_round >= STARTUP_FULL_LOSS_CNT &&
	    is_inflight_too_high(rs) && queue_evidence(cc)) {
		uint64_t bdp = bdp_multiple(cc, b->max_bw, XF_CC_UNIT);

		b->full_bw_reached = true;
		b->inflight_hi = bdp > b->inflight_latest ? bdp : b->inflight_latest;
	}
}

static void
enter_drain(struct xf_cc_bbr *b)
{
	b->state = XF_CC_ST_DRAIN;
	b->pacing_gain = DRAIN_PACING_GAIN;
	b->cwnd_gain = STARTUP_CWND_GAIN;
}

/* --- ProbeBW (4.6.3) --------------------------------------------------------------- */

static void end_cycle_watch(struct xf_cc *cc);

static void
pick_probe_wait(struct xf_cc_bbr *b)
{
	b->rounds_since_bw_probe = rng_next(b) & 1u;
	b->bw_probe_wait_ns = PROBE_WAIT_BASE_NS + rng_next(b) % PROBE_WAIT_RAND_NS;
}

static void
start_probe_bw_down(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	end_cycle_watch(cc);
	reset_congestion_signals(b);
	b->probe_up_cnt = UINT64_MAX;
	pick_probe_wait(b);
	b->cycle_stamp = now;
	b->ack_phase = ACKS_PROBE_STOPPING;
	start_round(cc);
	b->state = XF_CC_ST_PROBE_BW_DOWN;
	b->pacing_gain = PROBE_DOWN_PACING;
	b->cwnd_gain = DEFAULT_CWND_GAIN;
}

static void
start_probe_bw_cruise(struct xf_cc_bbr *b)
{
	b->cruise_drain = false;
	b->state = XF_CC_ST_PROBE_BW_CRUISE;
	b->pacing_gain = XF_CC_UNIT;
	b->cwnd_gain = DEFAULT_CWND_GAIN;
}

static void
start_probe_bw_refill(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	/* Not in the draft: after a congestion cut in this cycle's Cruise the older slot
	 * of max_bw's filter predates that cut (advance_max_bw_filter()); the probe starts
	 * from what this cycle measured. */
	if (b->cut_drained && b->max_bw_filter[b->cycle_count & 1] != 0) {
		b->max_bw_filter[(b->cycle_count + 1) & 1] = 0;
		b->max_bw = b->max_bw_filter[b->cycle_count & 1];
	}
	reset_lower_bounds(b);
	b->cut_advanced = false;
	b->cut_drained = false;
	b->cruise_drain = false;
	b->bw_probe_up_rounds = 0;
	b->bw_probe_up_acks = 0;
	b->ack_phase = ACKS_REFILLING;
	start_round(cc);
	b->state = XF_CC_ST_PROBE_BW_REFILL;
	b->pacing_gain = XF_CC_UNIT;
	b->cwnd_gain = DEFAULT_CWND_GAIN;
}

static void
raise_inflight_hi_slope(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t growth = (uint64_t)cc->smss << b->bw_probe_up_rounds;
	uint64_t cnt;

	b->bw_probe_up_rounds = b->bw_probe_up_rounds + 1 < 30 ? b->bw_probe_up_rounds + 1 : 30;
	cnt = cc->cwnd / growth;
	b->probe_up_cnt = cnt > 1 ? cnt : 1;
}

static void
start_probe_bw_up(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	b->ack_phase = ACKS_PROBE_STARTING;
	start_round(cc);
	reset_full_bw(b);
	b->full_bw = cc->rate.rs.delivery_rate;
	b->state = XF_CC_ST_PROBE_BW_UP;
	b->up_rtt_max = 0;
	b->cruise_bound = XF_CC_INF; /* this probe decides it anew */
	b->cycle_stamp = now;
	b->pacing_gain = PROBE_UP_PACING;
	b->cwnd_gain = PROBE_UP_CWND_GAIN;
	raise_inflight_hi_slope(cc);
}

static bool
has_elapsed_in_phase(const struct xf_cc_bbr *b, uint64_t now, uint64_t interval)
{
	return now > b->cycle_stamp + interval;
}

static bool
is_reno_coexistence_probe_time(const struct xf_cc *cc)
{
	uint64_t rounds = target_inflight(cc) / cc->smss;

	if (rounds > RENO_ROUNDS_MAX) {
		rounds = RENO_ROUNDS_MAX;
	}
	return cc->bbr.rounds_since_bw_probe >= rounds;
}

static bool
is_time_to_probe_bw(struct xf_cc *cc, uint64_t now)
{
	if (has_elapsed_in_phase(&cc->bbr, now, cc->bbr.bw_probe_wait_ns) ||
	    is_reno_coexistence_probe_time(cc)) {
		start_probe_bw_refill(cc);
		return true;
	}
	return false;
}

static bool
is_time_to_cruise(const struct xf_cc *cc)
{
	if (cc->inflight > inflight_with_headroom(cc)) {
		return false;
	}
	/* The draft drains to the BDP of max_bw. Of bw (max_bw bounded by bw_lo) here:
	 * after the path slowed down, max_bw holds the old rate for up to two cycles, and
	 * Down would end at once, leaving the queue built before bw_lo fell (S3). */
	return cc->inflight <= bbr_inflight(cc, cc->bbr.bw, XF_CC_UNIT);
}

static bool
is_time_to_go_down(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	/*
	 * Not in draft-ietf-ccwg-bbr: a probe is done once it has run a min RTT and put
	 * 1.25 x the estimated BDP in flight (the ProbeBW rule of BBRv1,
	 * draft-cardwell-iccrg-bbr-congestion-control-00 4.3.4.3, and of Linux's BBRv2).
	 * Waiting for a plateau over 3 rounds instead lets the probe's queue grow to the
	 * whole buffer: on S1 (1 BDP buffer) the steady queue p99 was 42 ms, against 25.
	 * Only once the probe has built a queue (an RTT sample of it above min RTT by
	 * queue_margin()): 1.25 x the BDP in flight with no queue means the pipe took it,
	 * so the probe goes on as the draft's does (a flow held by inflight_hi after a
	 * path got faster, or a late flow held by the inflight_hi of its Startup).
	 *
	 * The probe then found the pipe full at that flight, and Cruise keeps the window
	 * under it less the headroom (cruise_bound, set_cwnd()). The draft's Cruise is
	 * bounded by inflight_hi less the headroom, inflight_hi being where the last
	 * probe's loss went above 2%; a probe that ends here sees no loss, and a flow
	 * that never loses keeps the inflight_hi of its Startup (2 BDP). Without the
	 * bound, the first of two flows (S4 with 50 and 100 ms, the second from 10 s)
	 * cruised at the rate it had alone and the queue it kept cost it nothing: the
	 * late flow's probes add 1.25 x its own small rate and the shares stayed where
	 * the second flow's Startup left them (Jain 0.713-0.745). Bounded, a flow whose
	 * queue grows is held by its window before the other flow is, the one with the
	 * shorter RTT first (its bound is fewer ms of queue), and the shares converge.
	 */
	if (b->min_rtt != UINT64_MAX && has_elapsed_in_phase(b, now, b->min_rtt) &&
	    b->up_rtt_max >= b->min_rtt + queue_margin(b) &&
	    cc->inflight >= bbr_inflight(cc, b->max_bw, PROBE_UP_PACING)) {
		if (!cc->rate.rs.is_app_limited) {
			b->cruise_bound = bbr_inflight(cc, b->max_bw, PROBE_UP_PACING);
		}
		return true;
	}
	/* held by inflight_hi: its growth on this ACK (probe_inflight_hi_upward()) runs
	 * ahead of the window, which set_cwnd() raises after */
	if (cc->cwnd_limited && b->inflight_hi != XF_CC_INF &&
	    (cc->cwnd >= b->inflight_hi || b->hi_raised)) {
		reset_full_bw(b); /* bounded by inflight_hi: a plateau says nothing */
		b->full_bw = cc->rate.rs.delivery_rate;
	} else if (b->full_bw_now) {
		return true;
	}
	return false;
}

static void
handle_inflight_too_high(struct xf_cc *cc, const struct xf_cc_rs *rs, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	if (!queue_evidence(cc)) {
		return;
	}

	b->bw_probe_samples = 0;
	if (!rs->is_app_limited) {
		uint64_t t = gain_of(target_inflight(cc), BETA);

		b->inflight_hi = rs->tx_in_flight > t ? rs->tx_in_flight : t;
	}
	if (b->state == XF_CC_ST_PROBE_BW_UP) {
		start_probe_bw_down(cc, now);
	}
}

static void
probe_inflight_hi_upward(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	if (!is_cwnd_limited(cc) || b->inflight_hi == XF_CC_INF || cc->cwnd < b->inflight_hi) {
		return;
	}
	b->bw_probe_up_acks += cc->rate.rs.newly_acked;
	if (b->bw_probe_up_acks >= b->probe_up_cnt) {
		uint64_t delta = b->bw_probe_up_acks / b->probe_up_cnt;

		b->bw_probe_up_acks -= delta * b->probe_up_cnt;
		b->inflight_hi += delta; /* growth bytes per round in all */
		b->hi_raised = true;
	}
	if (b->round_start) {
		raise_inflight_hi_slope(cc);
	}
}

static void
adapt_upper_bounds(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;
	const struct xf_cc_rs *rs = &cc->rate.rs;

	if (b->ack_phase == ACKS_PROBE_STARTING && b->round_start) {
		b->ack_phase = ACKS_PROBE_FEEDBACK; /* the probe's own ACKs start */
	}
	if (b->ack_phase == ACKS_PROBE_STOPPING && b->round_start) {
		/* the probe's samples have ended: the best time to forget the previous
		 * cycle's maximum, once per cycle */
		b->bw_probe_samples = 0;
		b->ack_phase = ACKS_INIT;
		if (in_probe_bw(b) && !rs->is_app_limited) {
			advance_max_bw_filter(b);
		}
	}
	if (is_inflight_too_high(rs)) {
		if (b->bw_probe_samples) {
			handle_inflight_too_high(cc, rs, now);
		}
		return;
	}
	if (b->inflight_hi == XF_CC_INF) {
		return;
	}
	if (rs->tx_in_flight > b->inflight_hi) {
		b->inflight_hi = rs->tx_in_flight;
	}
	if (b->state == XF_CC_ST_PROBE_BW_UP) {
		probe_inflight_hi_upward(cc);
	}
}

static void
update_probe_bw_cycle_phase(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;
	bool cut = b->lower_cut; /* the lower bounds were cut on this ACK */

	b->lower_cut = false;
	b->hi_raised = false;
	if (!b->full_bw_reached || b->compete) {
		return;
	}
	adapt_upper_bounds(cc, now);
	if (!in_probe_bw(b)) {
		return;
	}
	switch (b->state) {
	case XF_CC_ST_PROBE_BW_DOWN:
		if (is_time_to_probe_bw(cc, now)) {
			return;
		}
		if (is_time_to_cruise(cc)) {
			start_probe_bw_cruise(b);
		}
		break;
	case XF_CC_ST_PROBE_BW_CRUISE:
		if (is_time_to_probe_bw(cc, now)) {
			break;
		}
		/*
		 * Not in the draft: a congestion cut of the lower bounds in Cruise (loss with
		 * a queue behind it, update_congestion_signals()) in a cycle whose queue was
		 * empty drains that queue as ProbeBW_DOWN does, at 0.9 x bw without the srtt
		 * floor, until the flight is down to the BDP; the draft's Cruise paces at
		 * 1.0 x bw and keeps it.
		 */
		if (cut && queue_was_empty(b)) {
			b->cruise_drain = true;
			b->cut_drained = true;
			b->pacing_gain = PROBE_DOWN_PACING;
		} else if (b->cruise_drain &&
		           cc->inflight <= bbr_inflight(cc, cc->bbr.bw, XF_CC_UNIT)) {
			b->cruise_drain = false;
			b->pacing_gain = XF_CC_UNIT;
		}
		if (cut && !b->cut_advanced) {
			/* advance max_bw's filter at the next round (advance_max_bw_filter()) */
			b->ack_phase = ACKS_PROBE_STOPPING;
			b->cut_advanced = true;
		}
		break;
	case XF_CC_ST_PROBE_BW_REFILL:
		/* after one round of refilling, the probe's ACKs tell of the pipe */
		if (b->round_start) {
			b->bw_probe_samples = 1;
			start_probe_bw_up(cc, now);
		}
		break;
	case XF_CC_ST_PROBE_BW_UP:
		if (is_time_to_go_down(cc, now)) {
			start_probe_bw_down(cc, now);
		}
		break;
	default:
		break;
	}
}

static void
enter_probe_bw(struct xf_cc *cc, uint64_t now)
{
	cc->bbr.cwnd_gain = DEFAULT_CWND_GAIN;
	start_probe_bw_down(cc, now);
}

static void
check_startup_done(struct xf_cc *cc)
{
	check_startup_high_loss(cc);
	if (cc->bbr.state == XF_CC_ST_STARTUP && cc->bbr.full_bw_reached) {
		enter_drain(&cc->bbr);
	}
}

static void
check_drain(struct xf_cc *cc, uint64_t now)
{
	if (cc->bbr.state == XF_CC_ST_DRAIN &&
	    cc->inflight <= bbr_inflight(cc, cc->bbr.max_bw, XF_CC_UNIT)) {
		enter_probe_bw(cc, now);
	}
}

/* --- competing with a standing queue (not in the draft) ---------------------------- */

/*
 * A loss-based flow (Reno, CUBIC) keeps the buffer it shares with BBR full: it backs off
 * only on loss, so the queue never drains, and BBR, which sizes its flight to bw x min RTT
 * and cuts inflight_hi at each probe's loss, is held to what that leaves it. In S5's
 * 4 BDP buffer (RTT 180-250 ms for a min RTT of 50) that was 14.6% of the link. Copa
 * (Arun and Balakrishnan, NSDI 2018, 2.4) answers with a competitive mode, entered when
 * its queue never empties though Copa itself drains it every few RTTs; this is that
 * rule on BBR's own drains. ProbeBW_DOWN, and ProbeRTT every 5 s, bring BBR's flight to
 * the BDP or half of it: a queue that is BBR's, or that of other BBR flows whose Down and
 * ProbeRTT phases cross it, shows RTT samples near min RTT within the cycle. When
 * COMPETE_CYCLES cycles in a row (DOWN to DOWN) had none within 2 x min RTT, the queue
 * is another flow's and does not answer delay: BBR competes, with a window of its own
 * (first the larger of cwnd and bw x srtt) grown by a quarter of its BDP each round and
 * cut to 0.7 on a loss, once per flight (frames sent after the cut), paced at 1.25 x
 * window / srtt, with no inflight_hi, inflight_lo or probes. It leaves on the first RTT
 * sample within min RTT / 4 of min RTT: the other flow backed off or ended, or ProbeRTT
 * (still run) drained a queue that was BBR's own after all; Down then starts, with
 * inflight_hi at the window it held.
 * Figures (unit-wansim-cc, XF_WANSIM_FULL=1, seeds 1-5): S5 at 4 BDP 28.6%, 32.6-33.2% before
 * Cruise's bound (cruise_bound) (14.6% before; growth of 1/8 BDP a round gave 23.8%; one frame a
 * round as Reno, even entering a cycle earlier, 20.5%). With one cycle instead of two, two BBR
 * flows in a 4 BDP buffer entered it (the second's Startup left a queue that the first's srtt floor
 * kept for a cycle), and with 1.5 x min RTT so did S4's same-RTT flows. No other scenario enters
 * it; the scavenger has its own controller. Once min RTT's 10 s filter has expired in
 * the standing queue, min RTT is the queue's and the mode ends: BBR's BDP is then sized
 * to that RTT.
 */

static uint64_t
rtt_margin(const struct xf_cc_bbr *b, uint32_t div, uint64_t min_ns)
{
	uint64_t m = b->min_rtt / div;

	return m > min_ns ? m : min_ns;
}

static void
enter_compete(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t floor = srtt_floor(cc);

	b->compete = true;
	b->compete_entries++;
	b->compete_cwnd = cc->cwnd > floor ? cc->cwnd : floor;
	b->compete_recover = cc->rate.delivered;
}

/* A ProbeBW cycle ends (a ProbeBW_DOWN starts): had its RTT samples come near min RTT? */
static void
end_cycle_watch(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;

	if (b->cycle_armed && b->min_rtt != UINT64_MAX && b->cycle_rtt_min != UINT64_MAX &&
	    b->cycle_rtt_min >
	            b->min_rtt + rtt_margin(b, COMPETE_ENTER_DIV, COMPETE_ENTER_MIN_NS)) {
		b->standing_cycles++;
	} else {
		b->standing_cycles = 0;
	}
	if (!b->compete && b->standing_cycles >= COMPETE_CYCLES) {
		enter_compete(cc);
	}
	b->cycle_rtt_min = UINT64_MAX;
	b->cycle_armed = true;
}

static void
update_compete(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t rtt = cc->rate.rs.rtt_ns;

	if (rtt != 0 && rtt < b->cycle_rtt_min) {
		b->cycle_rtt_min = rtt;
	}
	if (!b->compete) {
		return;
	}
	if (rtt != 0 &&
	    rtt <= b->min_rtt + rtt_margin(b, COMPETE_EXIT_DIV, QUEUE_EVIDENCE_MIN_NS)) {
		b->compete = false;
		reset_lower_bounds(b);
		b->inflight_hi = b->compete_cwnd;
		if (in_probe_bw(b)) {
			start_probe_bw_down(cc, now);
		}
		return;
	}
	if (b->round_start) {
		uint64_t grow = bdp_multiple(cc, b->max_bw, XF_CC_UNIT) / COMPETE_GROW_DIV;
		uint64_t least = cc->smss;

		b->compete_cwnd += grow > least ? grow : least;
	}
}

/* --- min RTT and ProbeRTT (4.6.4) ------------------------------------------------- */

static void
update_min_rtt(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t rtt = cc->rate.rs.rtt_ns;

	b->probe_rtt_expired = now > b->probe_rtt_min_stamp + PROBE_RTT_INTERVAL_NS;
	if (rtt != 0 && (rtt < b->probe_rtt_min_delay || b->probe_rtt_expired)) {
		b->probe_rtt_min_delay = rtt;
		b->probe_rtt_min_stamp = now;
	}
	if (b->probe_rtt_min_delay < b->min_rtt || now > b->min_rtt_stamp + MIN_RTT_FILTER_NS) {
		b->min_rtt = b->probe_rtt_min_delay;
		b->min_rtt_stamp = b->probe_rtt_min_stamp;
	}
}

static uint64_t
probe_rtt_cwnd(const struct xf_cc *cc)
{
	uint64_t c = bdp_multiple(cc, cc->bbr.bw, PROBE_RTT_CWND_GAIN);

	return c > min_pipe(cc) ? c : min_pipe(cc);
}

static void
exit_probe_rtt(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	reset_lower_bounds(b);
	if (b->full_bw_reached) {
		start_probe_bw_down(cc, now);
		start_probe_bw_cruise(b);
	} else {
		enter_startup(b);
	}
}

static void
handle_probe_rtt(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	/* the low rate of ProbeRTT is not the path's: its samples are app-limited */
	xf_cc_rate_app_limited(&cc->rate, cc->inflight);
	if (b->probe_rtt_done_stamp == 0 && cc->inflight <= probe_rtt_cwnd(cc)) {
		b->probe_rtt_done_stamp = now + PROBE_RTT_DURATION_NS;
		b->probe_rtt_round_done = false;
		start_round(cc);
	} else if (b->probe_rtt_done_stamp != 0) {
		if (b->round_start) {
			b->probe_rtt_round_done = true;
		}
		if (b->probe_rtt_round_done && now > b->probe_rtt_done_stamp) {
			b->probe_rtt_min_stamp = now;
			if (cc->cwnd < b->prior_cwnd) {
				cc->cwnd = b->prior_cwnd; /* restore */
			}
			exit_probe_rtt(cc, now);
		}
	}
}

static void
check_probe_rtt(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	if (b->state != XF_CC_ST_PROBE_RTT && b->probe_rtt_expired && !b->idle_restart) {
		b->state = XF_CC_ST_PROBE_RTT;
		b->pacing_gain = XF_CC_UNIT;
		b->cwnd_gain = PROBE_RTT_CWND_GAIN;
		b->prior_cwnd = cc->cwnd; /* BBRSaveCwnd, outside of loss recovery */
		b->probe_rtt_done_stamp = 0;
		b->ack_phase = ACKS_PROBE_STOPPING;
		start_round(cc);
	}
	if (b->state == XF_CC_ST_PROBE_RTT) {
		handle_probe_rtt(cc, now);
	}
	if (cc->rate.rs.delivered > 0) {
		b->idle_restart = false;
	}
}

/* --- control parameters (4.6.4.4, 4.6.4.6) ---------------------------------------- */

static void
set_pacing_rate(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t rate =
	        xf_cc_muldiv(gain_of(b->bw, b->pacing_gain), 100u - PACING_MARGIN_PCT, 100u);

	if (b->bw == 0) {
		return;
	}
	if (b->compete && b->state != XF_CC_ST_PROBE_RTT && cc->srtt != 0) {
		rate = gain_of(xf_cc_muldiv(b->compete_cwnd, NS_PER_S, cc->srtt), COMPETE_PACING);
	}
	if (b->full_bw_reached || rate > cc->pacing_rate) {
		cc->pacing_rate = rate;
	}
}

static void
set_cwnd(struct xf_cc *cc)
{
	struct xf_cc_bbr *b = &cc->bbr;
	uint64_t newly = cc->rate.rs.newly_acked;
	uint64_t extra =
	        b->extra_acked[0] > b->extra_acked[1] ? b->extra_acked[0] : b->extra_acked[1];
	uint64_t max_inflight =
	        quantization_budget(cc, bdp_multiple(cc, b->bw, b->cwnd_gain) + extra);
	uint64_t floor = srtt_floor(cc);
	uint64_t cap = XF_CC_INF;

	if (max_inflight < floor) {
		max_inflight = floor;
	}

	if (b->full_bw_reached) {
		cc->cwnd = cc->cwnd + newly < max_inflight ? cc->cwnd + newly : max_inflight;
	} else if (cc->cwnd < max_inflight ||
	           cc->rate.delivered < (uint64_t)INITIAL_CWND_FRAMES * cc->smss) {
		cc->cwnd += newly;
	}
	if (cc->cwnd < min_pipe(cc)) {
		cc->cwnd = min_pipe(cc);
	}
	if (b->state == XF_CC_ST_PROBE_RTT && cc->cwnd > probe_rtt_cwnd(cc)) {
		cc->cwnd = probe_rtt_cwnd(cc);
	}
	/* BBRBoundCwndForModel */
	if (in_probe_bw(b) && b->state != XF_CC_ST_PROBE_BW_CRUISE) {
		cap = b->inflight_hi;
	} else if (b->state == XF_CC_ST_PROBE_RTT || b->state == XF_CC_ST_PROBE_BW_CRUISE) {
		cap = inflight_with_headroom(cc);
	}
	if (b->state == XF_CC_ST_PROBE_BW_CRUISE && b->cruise_bound != XF_CC_INF) {
		/* not in the draft: the last probe's early end (is_time_to_go_down()) */
		uint64_t bound = b->cruise_bound - gain_of(b->cruise_bound, HEADROOM);

		cap = bound < cap ? bound : cap;
	}
	if (b->inflight_lo < cap) {
		cap = b->inflight_lo;
	}
	if (cap < min_pipe(cc)) {
		cap = min_pipe(cc);
	}
	if (cc->cwnd > cap) {
		cc->cwnd = cap;
	}
	if (b->compete && b->state != XF_CC_ST_PROBE_RTT) {
		cc->cwnd = b->compete_cwnd > min_pipe(cc) ? b->compete_cwnd : min_pipe(cc);
	}
}

/* --- entry points ------------------------------------------------------------------ */

void
xf_cc_bbr_init(struct xf_cc *cc, uint64_t seed, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	memset(b, 0, sizeof(*b));
	b->rng = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (b->rng == 0) {
		b->rng = 1;
	}
	b->min_rtt = UINT64_MAX;
	b->min_rtt_stamp = now;
	b->probe_rtt_min_delay = UINT64_MAX;
	b->probe_rtt_min_stamp = now;
	b->inflight_hi = XF_CC_INF;
	b->cruise_bound = XF_CC_INF;
	reset_lower_bounds(b);
	b->cycle_rtt_min = UINT64_MAX;
	b->extra_acked_start = now;
	cc->cwnd = (uint64_t)INITIAL_CWND_FRAMES * cc->smss;
	/*
	 * 4.6.4.4 BBRInitPacingRate: Startup's gain over the initial window per RTT. The
	 * draft takes 1 ms before any sample; the RTT assumed here is xf_reliab's initial
	 * RTT (RFC 9002 kInitialRtt, 333 ms). From 1 ms the first flight leaves at 2 Gbit/s
	 * and Startup overshoots more: S1 lost 422 frames to the queue instead of 92, and
	 * S3 took up to 10.8 s instead of 7.4 to settle. It costs one RTT at 6 Mbit/s.
	 */
	cc->pacing_rate =
	        gain_of(xf_cc_muldiv(cc->cwnd, NS_PER_S, cc->initial_rtt), STARTUP_PACING_GAIN);
	enter_startup(b);
}

void
xf_cc_bbr_on_lost(struct xf_cc *cc, const struct xf_cc_pkt *pkt, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;
	struct xf_cc_rs rs = { 0 };

	if (b->compete && pkt->delivered >= b->compete_recover) {
		/* once per flight, as Reno's recovery: sent after the last cut */
		b->compete_cwnd = gain_of(b->compete_cwnd, COMPETE_BETA);
		if (b->compete_cwnd < min_pipe(cc)) {
			b->compete_cwnd = min_pipe(cc);
		}
		b->compete_recover = cc->rate.delivered;
	}
	if (b->bw_probe_samples == 0) {
		return;
	}
	/* 4.5.10.2: judge the loss against the flight the lost frame was part of */
	rs.tx_in_flight = pkt->tx_in_flight;
	rs.lost = cc->rate.lost - pkt->lost;
	rs.is_app_limited = pkt->app_limited;
	if (is_inflight_too_high(&rs)) {
		/* BBRInflightAtLoss: where in the flight the loss rate crossed the threshold */
		uint64_t prev = rs.tx_in_flight - pkt->bytes;
		uint64_t lost_prev = rs.lost - pkt->bytes;
		uint64_t thresh = prev * LOSS_THRESH_PM / 1000u;
		uint64_t prefix = thresh > lost_prev
		                          ? (thresh - lost_prev) * 1000u / (1000u - LOSS_THRESH_PM)
		                          : 0;

		rs.tx_in_flight = prev + prefix;
		handle_inflight_too_high(cc, &rs, now);
	}
}

void
xf_cc_bbr_on_ack(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_bbr *b = &cc->bbr;

	/* BBRUpdateModelAndState */
	update_latest_delivery_signals(cc);
	update_congestion_signals(cc);
	update_ack_aggregation(cc, now);
	check_full_bw_reached(cc);
	check_startup_done(cc);
	check_drain(cc, now);
	update_probe_bw_cycle_phase(cc, now);
	update_min_rtt(cc, now);
	check_probe_rtt(cc, now);
	update_compete(cc, now);
	advance_latest_delivery_signals(cc);
	b->bw = b->max_bw < b->bw_lo ? b->max_bw : b->bw_lo;
	/* BBRUpdateControlParameters */
	set_pacing_rate(cc);
	set_cwnd(cc);
}

void
xf_cc_bbr_info(const struct xf_cc *cc, struct xf_cc_info *info)
{
	const struct xf_cc_bbr *b = &cc->bbr;

	info->state = b->state;
	info->bw = b->bw;
	info->min_rtt_ns = b->min_rtt == UINT64_MAX ? 0 : b->min_rtt;
	info->inflight_hi = b->inflight_hi;
	info->inflight_lo = b->inflight_lo;
	info->compete = b->compete;
	info->competed = b->compete_entries;
}
