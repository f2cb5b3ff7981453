/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: loss detection by packet and time threshold, and the probe
 * timeout with its backoff.
 */
#include "xf_reliab_test.h"

/* --- loss detection --------------------------------------------------------------- */

void
test_loss_thresholds(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	struct xf_reliab_stats st;
	uint64_t delay, i;

	/* pn 0..4 sent at 0, 1, 2, 3, 4 ms */
	for (i = 0; i < 5; i++) {
		send_tracked(r, i * MS, 100 + i);
	}
	/* ACK of 3 alone, rtt 50 ms: 0 is 3 below, lost by packet threshold */
	CU_ASSERT_EQUAL(ack1(r, 53 * MS, 3, 3, 0), 0);
	CU_ASSERT_EQUAL(log.n_acked, 1);
	CU_ASSERT_EQUAL(log.acked[0], 3);
	CU_ASSERT_EQUAL(log.n_lost, 1);
	CU_ASSERT_EQUAL(log.lost[0], 0);
	/* loss delay 9/8 x 50 ms; 1 and 2 wait for the time threshold */
	delay = 50 * MS + 50 * MS / 8;
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), 1 * MS + delay);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, 1 * MS + delay - 1), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, 1 * MS + delay), 1);
	CU_ASSERT_EQUAL(log.lost[1], 1);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), 2 * MS + delay);
	/* ACK of 4 (latest_rtt 52 > srtt): 2 is 2 below 4, still only time can lose it */
	CU_ASSERT_EQUAL(ack1(r, 56 * MS, 3, 4, 0), 0);
	CU_ASSERT_EQUAL(log.n_lost, 2);
	xf_reliab_stats(r, &st);
	delay = XF_MAX(st.smoothed_rtt_ns, st.latest_rtt_ns);
	delay += delay / 8;
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), 2 * MS + delay);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, 2 * MS + delay), 1);
	CU_ASSERT_EQUAL(log.lost[2], 2);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), XF_RELIAB_NEVER);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.lost, 3);
	CU_ASSERT_EQUAL(st.acked, 2);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.bytes_in_flight, 0);
	CU_ASSERT_EQUAL(st.spurious, 0);

	/* The lost frames turn up after all: spurious, reported once, not "acked". */
	{
		struct xf_ack_range rr[2] = { { 3, 4 }, { 0, 1 } };

		CU_ASSERT_EQUAL(xf_reliab_on_ack(r, 80 * MS, 4, 0, rr, 2), 0);
		CU_ASSERT_EQUAL(xf_reliab_on_ack(r, 81 * MS, 4, 0, rr, 2), 0);
	}
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.spurious, 2);
	CU_ASSERT_EQUAL(log.n_spurious, 2);
	CU_ASSERT_EQUAL(log.spurious[0], 0);
	CU_ASSERT_EQUAL(log.spurious[1], 1);
	CU_ASSERT_EQUAL(st.acked, 2);
	xf_reliab_destroy(r);
}

/* Many frames below the largest acknowledged all go at once by packet threshold. */
void
test_loss_packet_threshold_burst(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	struct xf_ack_range rr[3] = { { 40, 40 }, { 20, 30 }, { 0, 9 } };
	unsigned int i;

	for (i = 0; i < 41; i++) {
		send_tracked(r, i * US, i);
	}
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, 10 * MS, 40, 0, rr, 3), 0);
	CU_ASSERT_EQUAL(log.n_acked, 22);
	/* 10..19 and 31..37 are >= 3 below 40; 38 and 39 wait */
	CU_ASSERT_EQUAL(log.n_lost, 17);
	for (i = 0; i < log.n_lost; i++) {
		uint64_t pn = log.lost[i];

		CU_ASSERT((pn >= 10 && pn <= 19) || (pn >= 31 && pn <= 37));
		if (i > 0) {
			CU_ASSERT(log.lost[i - 1] < pn); /* in packet-number order */
		}
	}
	CU_ASSERT_NOT_EQUAL(xf_reliab_loss_deadline(r), XF_RELIAB_NEVER);
	xf_reliab_destroy(r);
}

/* A late ACK for a lost frame whose slot was reused since is not mistaken for it. */
void
test_spurious_after_reuse(void)
{
	struct xf_reliab_cfg cfg = { .tx_slots = 8 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	struct xf_ack_range late[2] = { { 2, 11 }, { 0, 0 } };
	struct xf_reliab_stats st;
	uint64_t pn;

	for (pn = 0; pn < 4; pn++) {
		send_tracked(r, 0, pn);
	}
	CU_ASSERT_EQUAL(ack1(r, MS, 3, 3, 0), 0);
	CU_ASSERT_EQUAL(log.n_lost, 1); /* 0 */
	CU_ASSERT_EQUAL(ack1(r, MS, 1, 3, 0), 0);
	for (pn = 4; pn < 12; pn++) {
		CU_ASSERT_EQUAL(send_tracked(r, 2 * MS, pn), pn); /* 8 takes 0's slot */
	}
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, 3 * MS, 11, 0, late, 2), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.spurious, 0);
	CU_ASSERT_EQUAL(st.acked, 11);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	xf_reliab_destroy(r);
}

/* --- PTO -------------------------------------------------------------------------- */

void
test_pto_backoff(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	struct xf_reliab_stats st;
	uint64_t period, dl, t;

	/* RTT sample of 10 ms: srtt 10, rttvar 5 */
	send_tracked(r, 0, 0);
	CU_ASSERT_EQUAL(ack1(r, 10 * MS, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), XF_RELIAB_NEVER);
	period = 10 * MS + 4 * 5 * MS + XF_RELIAB_MAX_ACK_DELAY_NS;

	t = 20 * MS;
	send_tracked(r, t, 1);
	send_tracked(r, t, 2);
	send_tracked(r, t + MS, 3);
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(dl, t + MS + period); /* from the last ack-eliciting frame sent */
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl - 1), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), 0);
	/* The timeout declares nothing lost: it asks for probes. */
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), 0);
	CU_ASSERT_EQUAL(log.n_lost, 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), XF_RELIAB_PTO_FRAMES);
	CU_ASSERT_EQUAL(xf_reliab_next_deadline(r), 0); /* due now, until sent */
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pto, 1);
	CU_ASSERT_EQUAL(st.pto_backoff, 1);
	CU_ASSERT_EQUAL(st.in_flight, 3);
	CU_ASSERT_EQUAL(st.lost, 0);

	/* The caller sends the probes (pn 4, 5; untracked): the next PTO is twice as long,
	 * from the last probe. */
	t = dl;
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, t, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), 1);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, t, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), 0);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), t + 2 * period);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, t + 2 * period - 1), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, t + 2 * period), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), XF_RELIAB_PTO_FRAMES);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pto_backoff, 2);
	CU_ASSERT_EQUAL(st.pto_backoff_max, 2);
	CU_ASSERT_EQUAL(st.probes, 2);
	CU_ASSERT_EQUAL(st.in_flight, 3);

	/* The receiver was only slow: its ACK covers everything, nothing was lost, and the
	 * probe not sent yet is no longer due; the backoff resets. */
	t += 2 * period;
	CU_ASSERT_EQUAL(ack1(r, t + MS, 1, 5, 0), 0);
	CU_ASSERT_EQUAL(log.n_lost, 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pto_backoff, 0);
	CU_ASSERT_EQUAL(st.pto_backoff_max, 2); /* the deepest backoff stays on record */
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.lost, 0);
	CU_ASSERT_EQUAL(st.spurious, 0);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), XF_RELIAB_NEVER);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, t + 100 * period), 0);
	xf_reliab_destroy(r);
}

/* A real tail loss: the probe's ACK lets the thresholds declare what never arrived. */
void
test_pto_tail_loss(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	struct xf_reliab_stats st;
	uint64_t dl;

	send_tracked(r, 0, 0);
	CU_ASSERT_EQUAL(ack1(r, 10 * MS, 0, 0, 0), 0);
	send_tracked(r, 20 * MS, 1); /* pn 1..3: the tail, all lost on the way */
	send_tracked(r, 20 * MS, 2);
	send_tracked(r, 20 * MS, 3);
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), XF_RELIAB_PTO_FRAMES);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	/* The probes (pn 4, 5) arrive, the tail did not: all of it is lost at once (pn 1, 2
	 * by the packet threshold, pn 3 by time: it went out a PTO ago). */
	CU_ASSERT_EQUAL(ack1(r, dl + 10 * MS, 4, 5, 0), 0);
	CU_ASSERT_EQUAL(log.n_lost, 3);
	CU_ASSERT_EQUAL(log.lost[0], 1);
	CU_ASSERT_EQUAL(log.lost[1], 2);
	CU_ASSERT_EQUAL(log.lost[2], 3);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.lost, 3);
	CU_ASSERT_EQUAL(st.probes, 2);
	CU_ASSERT_EQUAL(st.acked, 1); /* the probes are not tracked */
	xf_reliab_destroy(r);
}

/*
 * The peer answers every probe but takes none of the frames in flight (a receiver that has
 * not confirmed the session refuses them until our ACK of its HELLO_ACK arrives). The ACK
 * of a probe resets the backoff, as the ACK of a (tracked) probe does in RFC 9002: without
 * it the timeout doubled at every round while the peer was answering.
 */
void
test_pto_probe_ack_resets_backoff(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	struct xf_reliab_stats st;
	uint64_t dl, period;

	send_tracked(r, 0, 0);
	CU_ASSERT_EQUAL(ack1(r, 10 * MS, 0, 0, 0), 0);
	period = 10 * MS + 4 * 5 * MS + XF_RELIAB_MAX_ACK_DELAY_NS;
	send_tracked(r, 20 * MS, 1); /* pn 1..3: refused by the peer */
	send_tracked(r, 20 * MS, 2);
	send_tracked(r, 20 * MS, 3);
	/* Two rounds of probes unanswered: pn 4, 5 then 6, 7; the backoff is at 2. */
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(dl, 20 * MS + period);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pto_backoff, 2);
	/* An ACK of the first probes only (late, the last probe not in it): still backed off. */
	CU_ASSERT_EQUAL(ack1(r, dl + MS, 4, 5, 0), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pto_backoff, 2);
	CU_ASSERT_EQUAL(log.n_lost, 3); /* 1..3 by the packet threshold */
	/* The last probe's ACK: the peer answers, the backoff resets. */
	CU_ASSERT_EQUAL(ack1(r, dl + 2 * MS, 4, 7, 0), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pto_backoff, 0);
	CU_ASSERT_EQUAL(st.pto_backoff_max, 2);
	CU_ASSERT_EQUAL(st.acked, 1); /* the probes are still not tracked */
	/* The next timeout is one base period after the last tracked frame sent. */
	send_tracked(r, dl + 3 * MS, 8);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), dl + 3 * MS + period);
	xf_reliab_destroy(r);
}

/*
 * A probe timeout makes our ACK due as well, so that the probes carry it: when the peer's
 * frames are in flight because our ACK of them was lost, it settles them in this round
 * trip. Nothing received, nothing to acknowledge: no ACK falls due (and the deadline does
 * not stay at "now" once the probes are out).
 */
void
test_pto_acks_too(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct xf_reliab *r = mk(&cfg, NULL);
	uint64_t dl;

	/* Never received anything. */
	send_tracked(r, 0, 0);
	CU_ASSERT_EQUAL(ack1(r, 10 * MS, 0, 0, 0), 0);
	send_tracked(r, 20 * MS, 1);
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), XF_RELIAB_PTO_FRAMES);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, dl, 20, NULL, 0, XF_RELIAB_F_PROBE, NULL), 0);
	CU_ASSERT(xf_reliab_next_deadline(r) > dl);

	/* A frame of the peer's, acknowledged already (that ACK was lost on the way). */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, dl, 1000, true), 0);
	xf_reliab_rx_accept(r, dl, 1000, true);
	xf_reliab_ack_sent(r);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), 0);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), XF_RELIAB_PTO_FRAMES);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 0); /* due with the probes */
	xf_reliab_ack_sent(r);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	xf_reliab_destroy(r);
}

/* Before the first acknowledgement nothing can answer a probe: the oldest frames (the
 * handshake) are declared lost, to be sent again. */
void
test_pto_handshake(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);
	uint64_t dl;

	send_tracked(r, 0, 0);
	send_tracked(r, 0, 1);
	send_tracked(r, 0, 2);
	dl = xf_reliab_loss_deadline(r);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, dl), XF_RELIAB_PTO_FRAMES);
	CU_ASSERT_EQUAL(xf_reliab_probes_due(r), 0);
	CU_ASSERT_EQUAL(log.n_lost, 2);
	CU_ASSERT_EQUAL(log.lost[0], 0); /* the oldest first */
	CU_ASSERT_EQUAL(log.lost[1], 1);
	xf_reliab_destroy(r);
}
