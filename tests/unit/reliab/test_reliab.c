/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: RTT estimator (hand-worked RFC 9002 numbers),
 * loss by packet and time threshold, PTO and backoff, sent-table capacity, duplicate
 * detection, ACK range generation against a naive reference, ACK scheduling, pacing,
 * session timers, and a seeded two-endpoint simulation over a lossy channel.
 *
 * Over 1,000 lines: one program for the one engine; its cases share the callback log
 * and the sender helpers (mk, send_tracked), and the two-endpoint simulation ends it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_base.h"
#include "xf_proto.h"
#include "xf_reliab.h"

#define MS 1000000ull
#define US 1000ull

/* --- callback log ----------------------------------------------------------------- */

#define LOG_MAX 4096

struct cb_log {
	uint64_t acked[LOG_MAX];
	unsigned int n_acked;
	uint64_t lost[LOG_MAX];
	unsigned int n_lost;
	uint64_t spurious[LOG_MAX];
	unsigned int n_spurious;
};

static void
log_acked(void *arg, const struct xf_reliab_sent *f)
{
	struct cb_log *l = arg;

	if (l->n_acked < LOG_MAX) {
		l->acked[l->n_acked++] = f->pn;
	}
}

static void
log_lost(void *arg, const struct xf_reliab_sent *f)
{
	struct cb_log *l = arg;

	if (l->n_lost < LOG_MAX) {
		l->lost[l->n_lost++] = f->pn;
	}
}

static void
log_spurious(void *arg, const struct xf_reliab_sent *f)
{
	struct cb_log *l = arg;

	if (l->n_spurious < LOG_MAX) {
		l->spurious[l->n_spurious++] = f->pn;
	}
}

static struct xf_reliab *
mk(struct xf_reliab_cfg *cfg, struct cb_log *log)
{
	struct xf_reliab *r;

	if (log != NULL) {
		memset(log, 0, sizeof(*log));
		cfg->on_acked = log_acked;
		cfg->on_lost = log_lost;
		cfg->on_spurious = log_spurious;
		cfg->cb_arg = log;
	}
	r = xf_reliab_create(cfg, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

static uint64_t
send_tracked(struct xf_reliab *r, uint64_t now, uint64_t tag)
{
	uint64_t pn = UINT64_MAX;

	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, now, 1000, NULL, tag, XF_RELIAB_F_ACK_ELICITING, &pn),
	                0);
	return pn;
}

static int
ack1(struct xf_reliab *r, uint64_t now, uint64_t first, uint64_t last, uint32_t delay_us)
{
	struct xf_ack_range a = { .first = first, .last = last };

	return xf_reliab_on_ack(r, now, last, delay_us, &a, 1);
}

static uint64_t
absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* --- RTT -------------------------------------------------------------------------- */

/*
 * RFC 9002 section 5.3, worked by hand with max_ack_delay 25 ms:
 *  1: latest 100, first sample: srtt 100, rttvar 50, min 100 (ack_delay ignored).
 *  2: latest 160, ack_delay 10: 160 >= 100+10 so adjusted 150;
 *     rttvar = 3/4*50 + 1/4*|100-150| = 50; srtt = 7/8*100 + 1/8*150 = 106.25.
 *  3: latest 80, ack_delay 20: min 80; 80 < 80+20 so adjusted 80;
 *     rttvar = 3/4*50 + 1/4*26.25 = 44.0625; srtt = 7/8*106.25 + 10 = 102.96875.
 *  4: latest 120, ack_delay 40 capped to 25: adjusted 95;
 *     rttvar = 3/4*44.0625 + 1/4*7.96875 = 35.0390625; srtt = 101.97265625.
 */
static void
test_rtt_rfc_examples(void)
{
	struct xf_reliab_cfg cfg = { .max_ack_delay_ns = 25 * MS };
	struct xf_reliab_stats st;
	struct xf_reliab *r = mk(&cfg, NULL);
	uint64_t t0;

	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.smoothed_rtt_ns, XF_RELIAB_INITIAL_RTT_NS);
	CU_ASSERT_EQUAL(st.rttvar_ns, XF_RELIAB_INITIAL_RTT_NS / 2);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 0);

	t0 = 1000 * MS;
	send_tracked(r, t0, 0);
	CU_ASSERT_EQUAL(ack1(r, t0 + 100 * MS, 0, 0, 7000), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.latest_rtt_ns, 100 * MS);
	CU_ASSERT_EQUAL(st.smoothed_rtt_ns, 100 * MS);
	CU_ASSERT_EQUAL(st.rttvar_ns, 50 * MS);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 100 * MS);

	t0 = 2000 * MS;
	send_tracked(r, t0, 1);
	CU_ASSERT_EQUAL(ack1(r, t0 + 160 * MS, 0, 1, 10000), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.latest_rtt_ns, 160 * MS);
	CU_ASSERT_EQUAL(st.smoothed_rtt_ns, 106250000ull);
	CU_ASSERT_EQUAL(st.rttvar_ns, 50000000ull);

	/* A repeated ACK (largest not newly acknowledged) gives no sample. */
	CU_ASSERT_EQUAL(ack1(r, t0 + 900 * MS, 0, 1, 0), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.latest_rtt_ns, 160 * MS);
	CU_ASSERT_EQUAL(st.smoothed_rtt_ns, 106250000ull);

	t0 = 3000 * MS;
	send_tracked(r, t0, 2);
	CU_ASSERT_EQUAL(ack1(r, t0 + 80 * MS, 0, 2, 20000), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 80 * MS);
	CU_ASSERT_EQUAL(st.smoothed_rtt_ns, 102968750ull);
	CU_ASSERT_EQUAL(st.rttvar_ns, 44062500ull);

	t0 = 4000 * MS;
	send_tracked(r, t0, 3);
	CU_ASSERT_EQUAL(ack1(r, t0 + 120 * MS, 0, 3, 40000), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT(absdiff(st.smoothed_rtt_ns, 101972656ull) <= 1);
	CU_ASSERT(absdiff(st.rttvar_ns, 35039062ull) <= 1);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 80 * MS);
	CU_ASSERT_EQUAL(st.acked, 4);
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.bytes_in_flight, 0);
	xf_reliab_destroy(r);
}

/* --- ACK validation and table capacity ------------------------------------------- */

static void
test_ack_validation(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_ack_range bad_order[2] = { { 1, 2 }, { 3, 4 } };
	struct xf_ack_range adjacent[2] = { { 5, 6 }, { 2, 4 } };
	struct xf_ack_range inverted = { 4, 3 };
	struct xf_ack_range ok[2] = { { 5, 6 }, { 0, 3 } };
	struct xf_reliab_stats st;
	int i;

	for (i = 0; i < 7; i++) {
		send_tracked(r, 0, (uint64_t)i);
	}
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, MS, 4, 0, bad_order, 2), -EINVAL);
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, MS, 6, 0, adjacent, 2), -EINVAL);
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, MS, 4, 0, &inverted, 1), -EINVAL);
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, MS, 5, 0, ok, 2), -EINVAL); /* largest != last */
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, MS, 6, 0, ok, 0), -EINVAL);
	CU_ASSERT_EQUAL(ack1(r, MS, 0, 7, 0), -EPROTO); /* 7 never sent */
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.acked, 0);
	CU_ASSERT_EQUAL(st.acks_received, 0);
	CU_ASSERT_EQUAL(xf_reliab_on_ack(r, MS, 6, 0, ok, 2), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.acked, 6);
	CU_ASSERT_EQUAL(st.in_flight, 1);
	CU_ASSERT_EQUAL(st.lost, 0); /* 4 is within the packet threshold of 6 */
	xf_reliab_destroy(r);
}

static void
test_table_capacity(void)
{
	struct xf_reliab_cfg cfg = { .tx_slots = 8 };
	struct xf_reliab *r = mk(&cfg, NULL);
	uint64_t pn;
	int i;

	CU_ASSERT_PTR_NULL(xf_reliab_create(&(struct xf_reliab_cfg){ .tx_slots = 12 }, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(xf_reliab_create(&(struct xf_reliab_cfg){ .rx_window = 32 }, 0));
	for (i = 0; i < 8; i++) {
		CU_ASSERT_TRUE(xf_reliab_can_send(r));
		CU_ASSERT_EQUAL(send_tracked(r, 0, 0), (uint64_t)i);
	}
	CU_ASSERT_FALSE(xf_reliab_can_send(r));
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, 0, 100, NULL, 0, XF_RELIAB_F_ACK_ELICITING, &pn),
	                -ENOBUFS);
	CU_ASSERT_EQUAL(xf_reliab_next_pn(r), 8);
	CU_ASSERT_EQUAL(xf_reliab_bytes_in_flight(r), 8000);
	/* An untracked frame (ACK) still goes out and takes a number. */
	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, 0, 60, NULL, 0, 0, &pn), 0);
	CU_ASSERT_EQUAL(pn, 8);
	CU_ASSERT_EQUAL(ack1(r, MS, 0, 0, 0), 0);
	/* slot of 9 would be 1's, still in flight */
	CU_ASSERT_FALSE(xf_reliab_can_send(r));
	CU_ASSERT_EQUAL(ack1(r, MS, 0, 1, 0), 0);
	CU_ASSERT_TRUE(xf_reliab_can_send(r));
	CU_ASSERT_EQUAL(send_tracked(r, MS, 0), 9);
	CU_ASSERT_FALSE(xf_reliab_can_send(r));
	CU_ASSERT_EQUAL(xf_reliab_bytes_in_flight(r), 7000);
	xf_reliab_destroy(r);
}

/* --- loss detection --------------------------------------------------------------- */

static void
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
static void
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
static void
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

static void
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
	CU_ASSERT_EQUAL(st.in_flight, 0);
	CU_ASSERT_EQUAL(st.lost, 0);
	CU_ASSERT_EQUAL(st.spurious, 0);
	CU_ASSERT_EQUAL(xf_reliab_loss_deadline(r), XF_RELIAB_NEVER);
	CU_ASSERT_EQUAL(xf_reliab_on_timeout(r, t + 100 * period), 0);
	xf_reliab_destroy(r);
}

/* A real tail loss: the probe's ACK lets the thresholds declare what never arrived. */
static void
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

/* Before the first acknowledgement nothing can answer a probe: the oldest frames (the
 * handshake) are declared lost, to be sent again. */
static void
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

/* --- receiver: duplicates, ranges, scheduling --------------------------------------- */

/* Receive and accept the ack-eliciting numbers [from, to), each new. */
static void
accept_range(struct xf_reliab *r, uint64_t from, uint64_t to)
{
	for (uint64_t pn = from; pn < to; pn++) {
		CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, pn, true), 0);
		xf_reliab_rx_accept(r, 0, pn, true);
	}
}

static void
test_rx_duplicates(void)
{
	struct xf_reliab_cfg cfg = { .rx_window = 64 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_reliab_stats st;

	accept_range(r, 0, 10);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 3, true), -EALREADY);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 9, true), -EALREADY);
	/* Filtered but not accepted (no room): not remembered, the retransmission is new. */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 10, true), 0);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 10, true), 0);
	/* 100 slides the window of 64 to base 37: 20 is below it, a duplicate by rule */
	xf_reliab_rx_accept(r, 0, 100, true);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 20, true), -EALREADY);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 36, true), -EALREADY);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 37, true), 0);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 99, true), 0);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 100, true), -EALREADY);
	/* up to a window (64) above the largest accepted (100) is new, beyond is refused */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 164, true), 0);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 165, true), -ERANGE);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 1000, true), -ERANGE);
	/* accepting twice counts once */
	xf_reliab_rx_accept(r, 0, 50, true);
	xf_reliab_rx_accept(r, 0, 50, true);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.duplicates, 5);
	CU_ASSERT_EQUAL(st.pn_ahead, 2);
	CU_ASSERT_EQUAL(st.received, 12);
	xf_reliab_destroy(r);
}

/*
 * One spoofed frame numbered 2^64-1 must not turn the peer's next frames into
 * duplicates: it is refused (and counted), nothing slides, and the session goes on. The
 * farthest number still accepted slides the window no higher than the largest + 1, so
 * every number the peer has not sent yet stays new.
 */
static void
test_rx_pn_ahead(void)
{
	struct xf_reliab_cfg cfg = { .rx_window = 64 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_reliab_stats st;
	uint64_t pn;

	accept_range(r, 0, 10);
	/* processed as the engine does: a new number is accepted */
	for (int k = 0; k < 2; k++) {
		if (xf_reliab_rx_filter(r, 0, UINT64_MAX, k == 1) == 0) {
			xf_reliab_rx_accept(r, 0, UINT64_MAX, k == 1);
			CU_FAIL("a number 2^64-1 was accepted after 9");
		}
	}
	accept_range(r, 10, 20);
	/* the farthest accepted number: 19 + 64 */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 83, true), 0);
	xf_reliab_rx_accept(r, 0, 83, true);
	for (pn = 20; pn < 83; pn++) {
		CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, pn, true), 0);
	}
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.pn_ahead, 2);
	CU_ASSERT_EQUAL(st.duplicates, 0);
	CU_ASSERT_EQUAL(st.received, 21);
	xf_reliab_destroy(r);

	/* the first number is free (the responder starts at a random one) */
	r = mk(&cfg, NULL);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, XF_RELIAB_PN_LIMIT - 1, true), 0);
	xf_reliab_rx_accept(r, 0, XF_RELIAB_PN_LIMIT - 1, true);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, XF_RELIAB_PN_LIMIT, true), 0);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 5, true), -EALREADY);
	xf_reliab_destroy(r);
}

/* A responder's numbers start at initial_pn; ACKs of them work as from 0. */
static void
test_initial_pn(void)
{
	struct xf_reliab_cfg cfg = { .initial_pn = (1ull << 40) + 3 };
	struct cb_log log;
	struct xf_reliab *r = mk(&cfg, &log);

	CU_ASSERT_EQUAL(xf_reliab_next_pn(r), (1ull << 40) + 3);
	CU_ASSERT_EQUAL(send_tracked(r, 1 * MS, 0), (1ull << 40) + 3);
	CU_ASSERT_EQUAL(send_tracked(r, 1 * MS, 0), (1ull << 40) + 4);
	/* a number below the first was never sent */
	CU_ASSERT_EQUAL(ack1(r, 2 * MS, 0, (1ull << 40) + 4, 0), 0);
	CU_ASSERT_EQUAL(log.n_acked, 2);
	CU_ASSERT_EQUAL(ack1(r, 2 * MS, 0, (1ull << 40) + 5, 0), -EPROTO);
	CU_ASSERT_EQUAL(xf_reliab_bytes_in_flight(r), 0);
	xf_reliab_destroy(r);

	cfg.initial_pn = XF_RELIAB_PN_LIMIT;
	CU_ASSERT_PTR_NULL(xf_reliab_create(&cfg, 0));
}

/* Naive reference: ranges of a set of numbers, descending, from largest down to base. */
static unsigned int
ref_ranges(const uint8_t *set, uint64_t base, uint64_t largest, struct xf_ack_range *out)
{
	unsigned int n = 0;
	uint64_t pn = largest + 1;

	while (pn > base && n < XF_ACK_RANGES) {
		uint64_t hi, lo;

		pn--;
		if (!set[pn]) {
			continue;
		}
		hi = pn;
		while (pn > base && set[pn - 1]) {
			pn--;
		}
		lo = pn;
		out[n].first = lo;
		out[n].last = hi;
		n++;
	}
	return n;
}

static void
check_ranges_valid(const struct xf_ack_range *rr, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		CU_ASSERT(rr[i].first <= rr[i].last);
		if (i > 0) {
			CU_ASSERT(rr[i].last + 1 < rr[i - 1].first);
		}
	}
}

static void
test_ack_ranges_patterns(void)
{
	struct xf_reliab_cfg cfg = { .rx_window = 1024 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_ack_range rr[XF_ACK_RANGES];
	static const uint64_t pat[] = { 5, 0, 9, 2, 1, 6, 2, 9 }; /* reordered, duplicates */
	uint64_t largest = 0, pn;
	uint32_t delay = 0;
	unsigned int n, i;

	CU_ASSERT_EQUAL(xf_reliab_ack_build(r, 0, rr, &largest, &delay), 0);
	for (i = 0; i < XF_ARRAY_SIZE(pat); i++) {
		if (xf_reliab_rx_filter(r, 0, pat[i], true) == 0) {
			xf_reliab_rx_accept(r, 0, pat[i], true);
		}
	}
	n = xf_reliab_ack_build(r, 0, rr, &largest, &delay);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(largest, 9);
	CU_ASSERT(rr[0].first == 9 && rr[0].last == 9);
	CU_ASSERT(rr[1].first == 5 && rr[1].last == 6);
	CU_ASSERT(rr[2].first == 0 && rr[2].last == 2);
	/* filling the gaps merges everything */
	for (pn = 3; pn < 9; pn++) {
		xf_reliab_rx_accept(r, 0, pn, pn != 4);
	}
	n = xf_reliab_ack_build(r, 0, rr, &largest, &delay);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT(rr[0].first == 0 && rr[0].last == 9);

	/* more than 64 ranges: every even number up to 300 keeps the 64 most recent */
	for (pn = 10; pn <= 300; pn++) {
		if (pn % 2 == 0) {
			xf_reliab_rx_accept(r, 0, pn, true);
		}
	}
	n = xf_reliab_ack_build(r, 0, rr, &largest, &delay);
	CU_ASSERT_EQUAL_FATAL(n, XF_ACK_RANGES);
	CU_ASSERT_EQUAL(largest, 300);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(rr[i].first, 300 - 2 * i);
		CU_ASSERT_EQUAL(rr[i].last, 300 - 2 * i);
	}
	check_ranges_valid(rr, n);
	xf_reliab_destroy(r);
}

/* Random patterns across window slides and word boundaries, against the reference. */
static void
test_ack_ranges_random(void)
{
	static uint8_t set[20000];
	uint64_t seed;

	for (seed = 1; seed <= 8; seed++) {
		struct xf_reliab_cfg cfg = { .rx_window = seed % 2 ? 256 : 64 };
		struct xf_reliab *r = mk(&cfg, NULL);
		uint64_t x = seed * 0x9e3779b97f4a7c15ull, largest = 0, base = 0, pn;
		unsigned int step;
		bool any = false;

		memset(set, 0, sizeof(set));
		for (step = 0; step < 3000; step++) {
			struct xf_ack_range got[XF_ACK_RANGES], want[XF_ACK_RANGES];
			uint64_t lg = 0;
			uint32_t d;
			unsigned int n, m, i;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly forward with holes, sometimes far back */
			pn = (x % 8 == 0 && largest > 40) ? largest - x % 40 : largest + x % 5;
			if (x % 97 == 0) {
				/* jump: slides past the window, or is refused beyond it */
				pn = largest + 100 + x % 300;
			}
			if (pn >= sizeof(set)) {
				break;
			}
			if (xf_reliab_rx_filter(r, 0, pn, true) == 0) {
				CU_ASSERT(pn >= base && !set[pn]);
				xf_reliab_rx_accept(r, 0, pn, true);
				set[pn] = 1;
				if (pn > largest || !any) {
					largest = pn;
				}
				any = true;
				if (largest + 1 > cfg.rx_window &&
				    largest + 1 - cfg.rx_window > base) {
					base = largest + 1 - cfg.rx_window;
				}
			} else {
				CU_ASSERT(pn < base || set[pn] ||
				          (any && pn > largest + cfg.rx_window));
			}
			n = xf_reliab_ack_build(r, 0, got, &lg, &d);
			m = ref_ranges(set, base, largest, want);
			CU_ASSERT_EQUAL_FATAL(n, m);
			CU_ASSERT_EQUAL(lg, largest);
			for (i = 0; i < n; i++) {
				CU_ASSERT_EQUAL(got[i].first, want[i].first);
				CU_ASSERT_EQUAL(got[i].last, want[i].last);
			}
			check_ranges_valid(got, n);
		}
		xf_reliab_destroy(r);
	}
}

static void
test_ack_schedule(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_ack_range rr[XF_ACK_RANGES];
	uint64_t largest;
	uint32_t delay;

	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	/* non-eliciting frames are remembered but never make an ACK due */
	xf_reliab_rx_accept(r, 5 * MS, 0, false);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	/* one eliciting frame: due within max_ack_delay */
	xf_reliab_rx_accept(r, 10 * MS, 1, true);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 10 * MS + XF_RELIAB_MAX_ACK_DELAY_NS);
	CU_ASSERT_EQUAL(xf_reliab_ack_build(r, 10 * MS + 500 * US, rr, &largest, &delay), 1);
	CU_ASSERT_EQUAL(largest, 1);
	CU_ASSERT_EQUAL(delay, 500);
	/* the second: due at once */
	xf_reliab_rx_accept(r, 10 * MS + 200 * US, 2, true);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 0);
	xf_reliab_ack_sent(r);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	/* out of order: a gap opened, due at once */
	xf_reliab_rx_accept(r, 20 * MS, 4, true);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 0);
	xf_reliab_ack_sent(r);
	/* in order after that: a timer again */
	xf_reliab_rx_accept(r, 21 * MS, 5, true);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 21 * MS + XF_RELIAB_MAX_ACK_DELAY_NS);
	xf_reliab_ack_sent(r);
	/* duplicate of an eliciting frame: ACK again at once; of an ACK frame: no */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 22 * MS, 0, false), -EALREADY);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 22 * MS, 5, true), -EALREADY);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 0);
	/* ack_delay is measured from the largest number's arrival, saturated */
	CU_ASSERT_EQUAL(xf_reliab_ack_build(r, 23 * MS, rr, &largest, &delay), 2);
	CU_ASSERT_EQUAL(largest, 5);
	CU_ASSERT_EQUAL(delay, 2000);
	CU_ASSERT_EQUAL(xf_reliab_ack_build(r, 21 * MS + 10000000000000ull, rr, &largest, &delay),
	                2);
	CU_ASSERT_EQUAL(delay, UINT32_MAX);
	/* the peer asks for an ACK at once (XF_HDR_F_ACKNOW) */
	xf_reliab_ack_sent(r);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), XF_RELIAB_NEVER);
	xf_reliab_ack_now(r);
	CU_ASSERT_EQUAL(xf_reliab_ack_deadline(r), 0);
	xf_reliab_destroy(r);
}

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
		CU_ASSERT_EQUAL(xf_reliab_on_sent(r, t, frame, NULL, 0, 0, NULL), 0);
		bytes += frame;
	}
}

static void
test_pacer(void)
{
	const uint64_t rate = 12500000; /* 100 Mbit/s */
	const uint32_t frame = 1472, burst = 4;
	struct xf_reliab_cfg cfg = { .pace_rate = rate,
		                     .pace_burst = burst,
		                     .pace_frame_bytes = frame };
	struct xf_reliab *r = mk(&cfg, NULL);
	uint64_t now = 0, bytes, want;

	/* one simulated second from a full bucket: rate x 1 s + the burst */
	bytes = pace_run(r, &now, 1000 * MS, frame);
	want = rate + (uint64_t)burst * frame;
	CU_ASSERT(absdiff(bytes, want) <= frame);

	/* double the rate at run time: the next half second carries rate bytes */
	CU_ASSERT_EQUAL(xf_reliab_pace_set(r, now, 2 * rate, burst, frame), 0);
	bytes = pace_run(r, &now, 1500 * MS, frame);
	CU_ASSERT(absdiff(bytes, rate) <= frame);

	/* idle for a while: the bucket refills to the burst, no more */
	now += 5000 * MS;
	bytes = 0;
	while (xf_reliab_pace_next(r, now, frame) == now) {
		xf_reliab_on_sent(r, now, frame, NULL, 0, 0, NULL);
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
static void
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

static void
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
	CU_ASSERT_EQUAL(xf_reliab_next_deadline(r), 600 * MS);
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
	/* splitmix64 */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
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

static void
test_simulation(void)
{
	static const uint64_t seeds[] = { 20240501, 7, 424242 };
	unsigned int i;

	for (i = 0; i < XF_ARRAY_SIZE(seeds); i++) {
		sim_run(seeds[i], false);
	}
	sim_run(seeds[0], true);
}

static const struct xf_test tests[] = {
	{ "rtt_rfc_examples", test_rtt_rfc_examples },
	{ "ack_validation", test_ack_validation },
	{ "table_capacity", test_table_capacity },
	{ "loss_thresholds", test_loss_thresholds },
	{ "loss_packet_threshold_burst", test_loss_packet_threshold_burst },
	{ "spurious_after_reuse", test_spurious_after_reuse },
	{ "pto_backoff", test_pto_backoff },
	{ "pto_tail_loss", test_pto_tail_loss },
	{ "pto_handshake", test_pto_handshake },
	{ "rx_duplicates", test_rx_duplicates },
	{ "rx_pn_ahead", test_rx_pn_ahead },
	{ "initial_pn", test_initial_pn },
	{ "ack_ranges_patterns", test_ack_ranges_patterns },
	{ "ack_ranges_random", test_ack_ranges_random },
	{ "ack_schedule", test_ack_schedule },
	{ "pacer", test_pacer },
	{ "timers", test_timers },
	{ "outage_recovers", test_outage_recovers },
	{ "simulation", test_simulation },
};

int
main(void)
{
	return xf_test_main("reliab", NULL, NULL, XF_TESTS(tests));
}
