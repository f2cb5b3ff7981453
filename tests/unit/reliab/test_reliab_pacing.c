/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: the pacer and the session timers, including recovery after
 * a long outage.
 */
#include "xf_reliab_test.h"

/* --- pacer ------------------------------------------------------------------------ */

/* Send full frames as early as the pacer allows until end; returns bytes sent. */
static uint64_t
pace_run(struct xf_reliab *r, uint64_t *now, uint64_t end, uint32_t frame)
{
	uint64_t bytes = 0;

	for (;;) {
		uint64_t t = xf_reliab_pace_next(r, *now, frame);

		CU_ASSERT(t >= *now);
		if (t >= end) {
			*now = end;
			return bytes;
		}
		*now = t;
		CU_ASSERT_EQUAL(
		        xf_reliab_on_sent(r, t, frame, NULL, 0, XF_RELIAB_F_ACK_ELICITING, NULL),
		        0);
		bytes += frame;
	}
}

void
test_pacer(void)
{
	const uint64_t rate = 12500000; /* 100 Mbit/s */
	const uint32_t frame = 1472, burst = 4;
	/* a table that holds every frame of the test: none is acknowledged */
	struct xf_reliab_cfg cfg = {
		.tx_slots = 32768, .pace_rate = rate, .pace_burst = burst, .pace_frame_bytes = frame
	};
	struct xf_reliab *r = mk(&cfg, NULL);
	uint64_t now = 0, bytes, want, next;

	/* one simulated second from a full bucket: rate x 1 s + the burst */
	bytes = pace_run(r, &now, 1000 * MS, frame);
	want = rate + (uint64_t)burst * frame;
	CU_ASSERT(absdiff(bytes, want) <= frame);

	/* double the rate at run time: the next half second carries rate bytes */
	CU_ASSERT_EQUAL(xf_reliab_pace_set(r, now, 2 * rate, burst, frame), 0);
	bytes = pace_run(r, &now, 1500 * MS, frame);
	CU_ASSERT(absdiff(bytes, rate) <= frame);

	/* ACK-only frames and probes neither wait for the pacer nor pay it (RFC 9002 7, 7.5):
	 * 640 KB of them (26 ms at the rate; they take numbers, not slots) leave the next
	 * tracked frame's time where it was */
	next = xf_reliab_pace_next(r, now, frame);
	CU_ASSERT(next > now);
	for (unsigned int i = 0; i < 10000; i++) {
		CU_ASSERT_EQUAL(
		        xf_reliab_on_sent(r, now, 64, NULL, 0, i % 2 ? XF_RELIAB_F_PROBE : 0, NULL),
		        0);
	}
	CU_ASSERT_EQUAL(xf_reliab_pace_next(r, now, frame), next);

	/* idle for a while: the bucket refills to the burst, no more */
	now += 5000 * MS;
	bytes = 0;
	while (xf_reliab_pace_next(r, now, frame) == now) {
		xf_reliab_on_sent(r, now, frame, NULL, 0, XF_RELIAB_F_ACK_ELICITING, NULL);
		bytes += frame;
	}
	CU_ASSERT_EQUAL(bytes, (uint64_t)burst * frame);

	/* unpaced: always now */
	CU_ASSERT_EQUAL(xf_reliab_pace_set(r, now, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(xf_reliab_pace_next(r, now, frame), now);
	xf_reliab_on_sent(r, now, frame, NULL, 0, 0, NULL);
	CU_ASSERT_EQUAL(xf_reliab_pace_next(r, now, frame), now);
	CU_ASSERT_EQUAL(xf_reliab_pace_set(r, now, 1, UINT32_MAX, UINT32_MAX), -EINVAL);
	xf_reliab_destroy(r);
}

/* --- session timers --------------------------------------------------------------- */

/*
 * An outage longer than several probe timeouts with the default windows: every tracked
 * frame the table allows and every probe is lost. When the link is back, the next probe
 * and the retransmissions must be accepted, not refused as too far ahead (which left the
 * session stuck for good).
 */
void
test_outage_recovers(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct xf_reliab *a = xf_reliab_create(&cfg, 0), *b = xf_reliab_create(&cfg, 0);
	struct xf_ack_range rg[2];
	struct xf_reliab_stats sb;
	uint64_t now = 0, pn, probe = 0, lost_data = 0;
	unsigned int ptos = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* one frame delivered and acknowledged: RTT 1 ms */
	CU_ASSERT_EQUAL(xf_reliab_on_sent(a, now, 1000, NULL, 0, XF_RELIAB_F_ACK_ELICITING, &pn),
	                0);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(b, now, pn, true), 0);
	xf_reliab_rx_accept(b, now, pn, true);
	now += MS;
	rg[0] = (struct xf_ack_range){ .first = pn, .last = pn };
	CU_ASSERT_EQUAL(xf_reliab_on_ack(a, now, pn, 0, rg, 1), 0);
	/* the outage: everything the sender may send is lost */
	while (xf_reliab_can_send(a)) {
		CU_ASSERT_EQUAL(
		        xf_reliab_on_sent(a, now, 1000, NULL, 0, XF_RELIAB_F_ACK_ELICITING, NULL),
		        0);
		lost_data++;
	}
	CU_ASSERT(lost_data >= XF_RELIAB_DEFAULT_SLOTS - 1);
	for (ptos = 0; ptos < 10; ptos++) {
		now = xf_reliab_loss_deadline(a);
		CU_ASSERT_EQUAL(xf_reliab_on_timeout(a, now), 0);
		while (xf_reliab_probes_due(a) > 0) {
			xf_reliab_on_sent(a, now, 64, NULL, 0, XF_RELIAB_F_PROBE, &probe);
		}
	}
	CU_ASSERT(now > 2000 * MS); /* an outage of seconds */
	/* the link is back: the next probe arrives */
	now = xf_reliab_loss_deadline(a);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(a, now), 0);
	CU_ASSERT(xf_reliab_probes_due(a) > 0);
	xf_reliab_on_sent(a, now, 64, NULL, 0, XF_RELIAB_F_PROBE, &probe);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(b, now, probe, true), 0);
	xf_reliab_rx_accept(b, now, probe, true);
	/* its ACK declares the data lost; the retransmissions are accepted */
	rg[0] = (struct xf_ack_range){ .first = probe, .last = probe };
	rg[1] = (struct xf_ack_range){ .first = 0, .last = 0 };
	now += MS;
	CU_ASSERT_EQUAL(xf_reliab_on_ack(a, now, probe, 0, rg, 2), 0);
	CU_ASSERT_TRUE_FATAL(xf_reliab_can_send(a));
	for (unsigned int i = 0; i < 64 && xf_reliab_can_send(a); i++) {
		CU_ASSERT_EQUAL(
		        xf_reliab_on_sent(a, now, 1000, NULL, 0,
		                          XF_RELIAB_F_ACK_ELICITING | XF_RELIAB_F_RETRANSMIT, &pn),
		        0);
		CU_ASSERT_EQUAL(xf_reliab_rx_filter(b, now, pn, true), 0);
		xf_reliab_rx_accept(b, now, pn, true);
	}
	xf_reliab_stats(b, &sb);
	CU_ASSERT_EQUAL(sb.pn_ahead, 0);
	/* the wider default window still refuses what no sender could number */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(b, now, pn + XF_RELIAB_DEFAULT_WINDOW + 1, true),
	                -ERANGE);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(b, now, UINT64_MAX, true), -ERANGE);
	xf_reliab_stats(b, &sb);
	CU_ASSERT_EQUAL(sb.pn_ahead, 2);
	xf_reliab_destroy(a);
	xf_reliab_destroy(b);
}

void
test_timers(void)
{
	struct xf_reliab_cfg cfg = { .keepalive_ns = 100 * MS, .idle_timeout_ns = 1000 * MS };
	struct xf_reliab *r = xf_reliab_create(&cfg, 10 * MS);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FALSE(xf_reliab_keepalive_due(r, 109 * MS));
	CU_ASSERT_TRUE(xf_reliab_keepalive_due(r, 110 * MS));
	CU_ASSERT_EQUAL(xf_reliab_next_deadline(r), 110 * MS);
	/* the PING (or anything) sent restarts the keep-alive interval */
	xf_reliab_on_sent(r, 110 * MS, 24, NULL, 0, 0, NULL);
	CU_ASSERT_FALSE(xf_reliab_keepalive_due(r, 209 * MS));
	CU_ASSERT_TRUE(xf_reliab_keepalive_due(r, 210 * MS));

	/* but only receiving keeps the session alive */
	CU_ASSERT_FALSE(xf_reliab_idle_expired(r, 1009 * MS));
	CU_ASSERT_TRUE(xf_reliab_idle_expired(r, 1010 * MS));
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 500 * MS, 0, false), 0);
	CU_ASSERT_TRUE(xf_reliab_idle_expired(r, 1010 * MS)); /* filtered, not accepted yet */
	xf_reliab_rx_accept(r, 500 * MS, 0, false);
	CU_ASSERT_FALSE(xf_reliab_idle_expired(r, 1010 * MS));
	CU_ASSERT_TRUE(xf_reliab_idle_expired(r, 1500 * MS));
	/* duplicates and numbers too far ahead (replayed or spoofed) keep nothing alive */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 1400 * MS, 0, false), -EALREADY);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 1400 * MS, UINT64_MAX, false), -ERANGE);
	CU_ASSERT_TRUE(xf_reliab_idle_expired(r, 1500 * MS));
	/* a receiver that left the peer's frames unread until 800 ms counts it heard then */
	CU_ASSERT_FALSE(xf_reliab_idle_expired_since(r, 1799 * MS, 800 * MS));
	CU_ASSERT_TRUE(xf_reliab_idle_expired_since(r, 1800 * MS, 800 * MS));
	CU_ASSERT_TRUE(xf_reliab_idle_expired_since(r, 1500 * MS, 100 * MS)); /* older: moot */
	/* What was received (at 500 ms) does not restart the keep-alive interval: the peer's
	 * idle timer hears only what we send. From the later of the two, a peer whose
	 * keep-alive ACK arrived every interval just ahead of our PING put it off, and its
	 * idle timer expired (docs/RELIABILITY.md, "Session timers"). */
	CU_ASSERT_TRUE(xf_reliab_keepalive_due(r, 210 * MS));
	CU_ASSERT_EQUAL(xf_reliab_next_deadline(r), 210 * MS);
	xf_reliab_destroy(r);

	/* disabled timers never fire */
	cfg.keepalive_ns = 0;
	cfg.idle_timeout_ns = 0;
	r = xf_reliab_create(&cfg, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FALSE(xf_reliab_keepalive_due(r, UINT64_MAX / 2));
	CU_ASSERT_FALSE(xf_reliab_idle_expired(r, UINT64_MAX / 2));
	CU_ASSERT_EQUAL(xf_reliab_next_deadline(r), XF_RELIAB_NEVER);
	xf_reliab_destroy(r);
}
