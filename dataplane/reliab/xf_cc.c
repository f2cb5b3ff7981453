/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control entry points; see xf_cc.h. The sampler runs for every algorithm;
 * the model (BBR or the scavenger) runs once per ACK on the finished sample.
 */
#include <string.h>

#include "xf_cc.h"

void
xf_cc_init(struct xf_cc *cc, enum xf_cc_algo algo, uint32_t smss, uint64_t ceiling,
           uint64_t initial_rtt, uint64_t seed, uint64_t now)
{
	memset(cc, 0, sizeof(*cc));
	cc->algo = algo;
	cc->smss = smss;
	cc->ceiling = ceiling;
	cc->initial_rtt = initial_rtt;
	cc->cwnd = UINT64_MAX;
	xf_cc_rate_init(&cc->rate);
	switch (algo) {
	case XF_CC_BBR:
		xf_cc_bbr_init(cc, seed, now);
		break;
	case XF_CC_SCAVENGER:
		xf_cc_scav_init(cc, now);
		break;
	case XF_CC_FIXED:
		break;
	}
}

void
xf_cc_on_sent(struct xf_cc *cc, struct xf_cc_pkt *pkt, uint64_t now, uint32_t bytes,
              uint64_t inflight_pre)
{
	/* Held at the ceiling, the sender sends less than the model allows: what it then
	 * measures is the ceiling, not the path, so such samples are app-limited
	 * (docs/RELIABILITY.md). */
	if (cc->ceiling != 0 && cc->algo != XF_CC_FIXED && cc->pacing_rate > cc->ceiling) {
		xf_cc_rate_app_limited(&cc->rate, inflight_pre + bytes);
	}
	xf_cc_rate_on_sent(&cc->rate, pkt, now, bytes, inflight_pre);
	cc->inflight = inflight_pre + bytes;
	if (cc->inflight + cc->smss > cc->cwnd) {
		cc->cwnd_limited = true;
	}
}

void
xf_cc_on_acked(struct xf_cc *cc, const struct xf_cc_pkt *pkt, uint64_t now)
{
	cc->acked_frames++;
	xf_cc_rate_on_acked(&cc->rate, pkt, now);
}

void
xf_cc_on_lost(struct xf_cc *cc, const struct xf_cc_pkt *pkt, uint64_t now, uint64_t inflight)
{
	cc->lost_frames++;
	cc->rate.lost += pkt->bytes;
	cc->rate.rs.newly_lost += pkt->bytes;
	cc->inflight = inflight;
	switch (cc->algo) {
	case XF_CC_BBR:
		xf_cc_bbr_on_lost(cc, pkt, now);
		break;
	case XF_CC_SCAVENGER:
		xf_cc_scav_on_lost(cc, now);
		break;
	case XF_CC_FIXED:
		break;
	}
}

void
xf_cc_on_ack_end(struct xf_cc *cc, uint64_t now, uint64_t rtt_ns, uint64_t srtt_ns,
                 uint64_t inflight)
{
	struct xf_cc_rs *rs = &cc->rate.rs;

	cc->inflight = inflight;
	cc->srtt = srtt_ns;
	if (rtt_ns != 0) {
		cc->latest_rtt = rtt_ns;
	}
	rs->rtt_ns = rtt_ns;
	xf_cc_rate_on_ack_end(&cc->rate, cc->algo == XF_CC_BBR ? cc->bbr.min_rtt : 0);
	switch (cc->algo) {
	case XF_CC_BBR:
		xf_cc_bbr_on_ack(cc, now);
		break;
	case XF_CC_SCAVENGER:
		xf_cc_scav_on_ack(cc, now);
		break;
	case XF_CC_FIXED:
		break;
	}
	/* the next ACK builds a new sample */
	rs->has_sample = false;
	rs->newly_acked = 0;
	rs->newly_lost = 0;
	rs->prior_delivered = 0;
}

void
xf_cc_app_limited(struct xf_cc *cc, uint64_t inflight)
{
	xf_cc_rate_app_limited(&cc->rate, inflight);
}

uint64_t
xf_cc_pacing_rate(const struct xf_cc *cc)
{
	if (cc->algo == XF_CC_FIXED || cc->pacing_rate == 0) {
		return cc->ceiling;
	}
	if (cc->ceiling != 0 && cc->pacing_rate > cc->ceiling) {
		return cc->ceiling;
	}
	return cc->pacing_rate;
}

uint64_t
xf_cc_cwnd(const struct xf_cc *cc)
{
	return cc->cwnd;
}

const char *
xf_cc_algo_str(enum xf_cc_algo algo)
{
	switch (algo) {
	case XF_CC_BBR:
		return "bbr";
	case XF_CC_SCAVENGER:
		return "scavenger";
	case XF_CC_FIXED:
		break;
	}
	return "none";
}

const char *
xf_cc_state_str(enum xf_cc_state state)
{
	static const char *const names[] = {
		[XF_CC_ST_NONE] = "-",
		[XF_CC_ST_STARTUP] = "Startup",
		[XF_CC_ST_DRAIN] = "Drain",
		[XF_CC_ST_PROBE_BW_DOWN] = "ProbeBW_DOWN",
		[XF_CC_ST_PROBE_BW_CRUISE] = "ProbeBW_CRUISE",
		[XF_CC_ST_PROBE_BW_REFILL] = "ProbeBW_REFILL",
		[XF_CC_ST_PROBE_BW_UP] = "ProbeBW_UP",
		[XF_CC_ST_PROBE_RTT] = "ProbeRTT",
	};

	return (unsigned int)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

void
xf_cc_info(const struct xf_cc *cc, struct xf_cc_info *info)
{
	uint64_t settled = cc->acked_frames + cc->lost_frames;

	memset(info, 0, sizeof(*info));
	info->algo = cc->algo;
	info->pacing_rate = xf_cc_pacing_rate(cc);
	info->cwnd = cc->cwnd;
	info->inflight = cc->inflight;
	info->inflight_hi = XF_CC_INF;
	info->inflight_lo = XF_CC_INF;
	info->loss_pm = settled ? (uint32_t)(cc->lost_frames * 1000u / settled) : 0;
	if (cc->algo == XF_CC_BBR) {
		xf_cc_bbr_info(cc, info);
	} else if (cc->srtt != 0 && cc->cwnd != UINT64_MAX) {
		info->bw = xf_cc_muldiv(cc->cwnd, 1000000000ull, cc->srtt);
	}
}
