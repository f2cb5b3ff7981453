/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scavenger congestion control (session.congestion: scavenger): LEDBAT (RFC 6817) with
 * the slow start and the multiplicative decrease of LEDBAT++
 * (draft-irtf-iccrg-ledbat-plus-plus). It keeps the queueing delay it adds near TARGET and
 * backs off as soon as anything else queues more, so a background transfer yields the
 * bottleneck to every other flow. The queueing delay is the RTT above the lowest RTT of
 * the last BASE_MINUTES minutes (RFC 6817 uses one-way delay; this protocol carries no
 * timestamps, and the RTT is one-way delay plus a constant where the reverse path is
 * uncongested).
 */
#include <string.h>

#include "xf_cc.h"

#define NS_PER_S 1000000000ull
#define MS       1000000ull
/* RFC 6817 2.4.2 allows up to 100 ms; 5 ms sits below the queue of any loss-based flow
 * on a buffer of a quarter BDP at 20 ms RTT, the smallest of the WAN scenarios. */
#define TARGET_NS    (5ull * MS)
#define BASE_MINUTES 10u /* RFC 6817 BASE_HISTORY */
#define MIN_CWND     2u  /* frames, RFC 6817 MIN_CWND */
#define SCALE_DIV    8u  /* growth per RTT at zero queueing delay: 1/8 of the window */
#define INIT_CWND    10u /* frames, as BBR's InitialCwnd */
/* Pacing: 2x the window per RTT in slow start, 1.25x after (Linux's pacing of
 * window-based flows: sch_fq with tcp_pacing_ss_ratio 200, ca_ratio 120). */
#define PACE_SS    2000u
#define PACE_CA    1250u
#define NS_PER_MIN (60ull * NS_PER_S)

static uint64_t
base_delay(const struct xf_cc_scav *s)
{
	uint64_t m = UINT64_MAX;

	for (unsigned int i = 0; i < BASE_MINUTES; i++) {
		if (s->base_delay[i] != 0 && s->base_delay[i] < m) {
			m = s->base_delay[i];
		}
	}
	return m;
}

static void
update_base(struct xf_cc_scav *s, uint64_t now, uint64_t rtt)
{
	uint64_t minute = now / NS_PER_MIN;

	if (minute != s->base_minute) {
		/* a new minute: forget the oldest */
		memmove(&s->base_delay[1], &s->base_delay[0],
		        (BASE_MINUTES - 1) * sizeof(s->base_delay[0]));
		s->base_delay[0] = 0;
		s->base_minute = minute;
	}
	if (s->base_delay[0] == 0 || rtt < s->base_delay[0]) {
		s->base_delay[0] = rtt;
	}
}

static void
set_pacing(struct xf_cc *cc, bool slow_start)
{
	uint64_t rtt = cc->srtt ? cc->srtt : cc->initial_rtt;

	cc->pacing_rate = xf_cc_muldiv(xf_cc_muldiv(cc->cwnd, NS_PER_S, rtt),
	                               slow_start ? PACE_SS : PACE_CA, XF_CC_UNIT);
}

void
xf_cc_scav_init(struct xf_cc *cc, uint64_t now)
{
	memset(&cc->scav, 0, sizeof(cc->scav));
	cc->scav.base_minute = now / NS_PER_MIN;
	cc->cwnd = (uint64_t)INIT_CWND * cc->smss;
	cc->scav.slow_start = true;
	set_pacing(cc, true);
}

void
xf_cc_scav_on_ack(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_scav *s = &cc->scav;
	uint64_t newly = cc->rate.rs.newly_acked;
	uint64_t rtt = cc->rate.rs.rtt_ns;
	uint64_t qdelay, base, min_cwnd = (uint64_t)MIN_CWND * cc->smss;

	if (rtt != 0) {
		update_base(s, now, rtt);
	}
	base = base_delay(s);
	if (base == UINT64_MAX || cc->latest_rtt == 0) {
		set_pacing(cc, s->slow_start);
		return;
	}
	qdelay = cc->latest_rtt > base ? cc->latest_rtt - base : 0;
	if (s->slow_start) {
		/* LEDBAT++ 4.1: slow start until the delay reaches 3/4 of the target */
		if (qdelay < TARGET_NS * 3 / 4) {
			cc->cwnd += newly;
			set_pacing(cc, true);
			return;
		}
		s->slow_start = false;
	}
	if (qdelay <= TARGET_NS) {
		/*
		 * RFC 6817 2.4.2: cwnd += GAIN x off_target x bytes x MSS / cwnd, GAIN 1: one
		 * frame per RTT at most. Here at least off_target x bytes / SCALE_DIV as well,
		 * up to 1/8 of the window per RTT: at 1 Gbit/s and 50 ms (700 frames) one
		 * frame per RTT took the scavenger alone to 650 Mbit/s in 16 s after its first
		 * cut, and back to the link's rate takes minutes.
		 */
		uint64_t off = (TARGET_NS - qdelay) * XF_CC_UNIT / TARGET_NS;
		uint64_t rfc = xf_cc_muldiv(off * newly, cc->smss, cc->cwnd);
		uint64_t scaled = off * newly / SCALE_DIV;

		s->cwnd_frac += rfc > scaled ? rfc : scaled;
		cc->cwnd += s->cwnd_frac / XF_CC_UNIT;
		s->cwnd_frac %= XF_CC_UNIT;
	} else if (now >= s->last_cut + (cc->srtt ? cc->srtt : cc->initial_rtt)) {
		/* LEDBAT++ 4.2: above the target, cut once per RTT in proportion to the
		 * excess, at most by half */
		uint64_t excess = (qdelay - TARGET_NS) * XF_CC_UNIT / TARGET_NS;
		uint64_t cut = excess > XF_CC_UNIT / 2 ? XF_CC_UNIT / 2 : excess;

		cc->cwnd -= xf_cc_muldiv(cc->cwnd, cut, XF_CC_UNIT);
		s->last_cut = now;
	}
	if (cc->cwnd < min_cwnd) {
		cc->cwnd = min_cwnd;
	}
	set_pacing(cc, false);
}

void
xf_cc_scav_on_lost(struct xf_cc *cc, uint64_t now)
{
	struct xf_cc_scav *s = &cc->scav;
	uint64_t min_cwnd = (uint64_t)MIN_CWND * cc->smss;
	uint64_t rtt = cc->srtt ? cc->srtt : cc->initial_rtt;

	s->slow_start = false;
	/* RFC 6817 2.4.2: halve on loss, at most once per RTT */
	if (now < s->last_cut + rtt) {
		return;
	}
	s->last_cut = now;
	cc->cwnd = cc->cwnd / 2 > min_cwnd ? cc->cwnd / 2 : min_cwnd;
	set_pacing(cc, false);
}
