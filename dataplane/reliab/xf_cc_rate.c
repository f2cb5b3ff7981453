/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delivery-rate sampling (draft-ietf-ccwg-bbr 4.5.2, "Delivery Rate Samples"; the
 * structure of ngtcp2's rst). Each frame remembers how much had been delivered, and when,
 * at the time it was sent. When it is acknowledged, the bytes delivered since then over
 * the longer of the send interval and the ACK interval is a sample of the rate the path
 * delivered: taking the longer one keeps an ACK burst (ACK compression) or a send burst
 * from inflating it. A sample taken while the sender had nothing to send (app-limited)
 * only says the path carries at least that much.
 */
#include <string.h>

#include "xf_cc.h"

#define NS_PER_S 1000000000ull

void
xf_cc_rate_init(struct xf_cc_rate *rt)
{
	memset(rt, 0, sizeof(*rt));
}

void
xf_cc_rate_on_sent(struct xf_cc_rate *rt, struct xf_cc_pkt *pkt, uint64_t now, uint32_t bytes,
                   uint64_t inflight_pre)
{
	/* The first frame of a flight (nothing in flight) starts both clocks anew, so the
	 * idle time before it is in neither interval. */
	if (inflight_pre == 0) {
		rt->first_sent_time = now;
		rt->delivered_time = now;
	}
	pkt->delivered = rt->delivered;
	pkt->delivered_time = rt->delivered_time;
	pkt->first_sent_time = rt->first_sent_time;
	pkt->lost = rt->lost;
	pkt->tx_in_flight = inflight_pre + bytes;
	pkt->time_sent = now;
	pkt->bytes = bytes;
	pkt->app_limited = rt->app_limited != 0;
}

void
xf_cc_rate_on_acked(struct xf_cc_rate *rt, const struct xf_cc_pkt *pkt, uint64_t now)
{
	struct xf_cc_rs *rs = &rt->rs;

	rt->delivered += pkt->bytes;
	rt->delivered_time = now;
	rs->newly_acked += pkt->bytes;
	/* The sample is taken from the most recently sent frame acknowledged: the one that
	 * saw the most deliveries before it left. */
	if (!rs->has_sample || pkt->delivered > rs->prior_delivered ||
	    (pkt->delivered == rs->prior_delivered && pkt->time_sent >= rt->first_sent_time)) {
		rs->has_sample = true;
		rs->prior_delivered = pkt->delivered;
		rs->prior_time = pkt->delivered_time;
		rs->is_app_limited = pkt->app_limited;
		rs->send_elapsed = pkt->time_sent - pkt->first_sent_time;
		rs->ack_elapsed = now - pkt->delivered_time;
		rs->tx_in_flight = pkt->tx_in_flight;
		rs->lost = rt->lost - pkt->lost;
		rt->first_sent_time = pkt->time_sent;
	}
}

void
xf_cc_rate_on_ack_end(struct xf_cc_rate *rt, uint64_t min_rtt)
{
	struct xf_cc_rs *rs = &rt->rs;

	/* The app-limited phase ends once everything sent during it is delivered. */
	if (rt->app_limited != 0 && rt->delivered > rt->app_limited) {
		rt->app_limited = 0;
	}
	rs->delivery_rate = 0;
	if (!rs->has_sample) {
		return;
	}
	rs->delivered = rt->delivered - rs->prior_delivered;
	rs->interval_ns = rs->send_elapsed > rs->ack_elapsed ? rs->send_elapsed : rs->ack_elapsed;
	/* An interval shorter than the minimum RTT cannot be a full round: it would
	 * overestimate (draft-ietf-ccwg-bbr 4.5.2.3). */
	if (rs->interval_ns == 0 || (min_rtt != 0 && rs->interval_ns < min_rtt)) {
		return;
	}
	rs->delivery_rate = xf_cc_muldiv(rs->delivered, NS_PER_S, rs->interval_ns);
}

void
xf_cc_rate_app_limited(struct xf_cc_rate *rt, uint64_t inflight)
{
	uint64_t mark = rt->delivered + inflight;

	rt->app_limited = mark > 0 ? mark : 1;
}
