/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: RTT estimator (hand-worked RFC 9002 numbers),
 * loss by packet and time threshold, PTO and backoff, sent-table capacity, duplicate
 * detection, ACK range generation against a naive reference, ACK scheduling, pacing,
 * session timers, and a seeded two-endpoint simulation over a lossy channel. This file
 * holds the RTT, ACK validation and table capacity cases and the list of all of them.
 */
#include "xf_reliab_test.h"

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

/*
 * The sample is the time given with the ACK less the time given with the frame, to the
 * nanosecond, and min RTT follows it down: xf_reliab has no clock, so a caller that
 * stamps an ACK before it holds it (the engine's round clock read before its burst,
 * docs/RELIABILITY.md "Timestamps") makes the min RTT short. A time not after the
 * send time gives no sample rather than a wrapped one.
 */
static void
test_rtt_sample_times(void)
{
	struct xf_reliab_cfg cfg = { 0 };
	struct xf_reliab_stats st;
	struct xf_reliab *r = mk(&cfg, NULL);
	uint64_t t0 = 5000 * MS;

	send_tracked(r, t0, 0);
	CU_ASSERT_EQUAL(ack1(r, t0 + 40 * MS + 123, 0, 0, 0), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.latest_rtt_ns, 40 * MS + 123);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 40 * MS + 123);

	send_tracked(r, t0 + 100 * MS, 1);
	CU_ASSERT_EQUAL(ack1(r, t0 + 128 * MS, 0, 1, 0), 0); /* stamped 12 ms early */
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.latest_rtt_ns, 28 * MS);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 28 * MS);

	send_tracked(r, t0 + 200 * MS, 2);
	CU_ASSERT_EQUAL(ack1(r, t0 + 200 * MS - 1, 0, 2, 0), 0);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.latest_rtt_ns, 28 * MS);
	CU_ASSERT_EQUAL(st.min_rtt_ns, 28 * MS);
	CU_ASSERT_EQUAL(st.acked, 3);
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

/*
 * A table that may grow: the records for tx_slots_max are allocated, but only tx_slots
 * may be in flight until ACKs measure a larger BDP (the growth itself: unit-wansim-cc,
 * "windows sized to the path"); the receive window defaults to twice tx_slots_max.
 */
static void
test_table_max(void)
{
	struct xf_reliab_cfg cfg = { .tx_slots = 8, .tx_slots_max = 64 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_reliab_stats st;

	for (int i = 0; i < 8; i++) {
		CU_ASSERT_TRUE(xf_reliab_can_send(r));
		send_tracked(r, 0, 0);
	}
	CU_ASSERT_FALSE(xf_reliab_can_send(r));
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.tx_window, 8);
	CU_ASSERT_EQUAL(st.in_flight, 8);
	xf_reliab_destroy(r);

	cfg = (struct xf_reliab_cfg){ .tx_slots_max = 16384 };
	r = mk(&cfg, NULL);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 0, true), 0);
	xf_reliab_rx_accept(r, 0, 0, true);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 2 * 16384, true), 0);
	xf_reliab_rx_accept(r, 0, 2 * 16384, true);
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 4 * 16384 + 1, true), -ERANGE);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.tx_window, XF_RELIAB_DEFAULT_SLOTS);
	CU_ASSERT_EQUAL(st.pn_ahead, 1);
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
	/* the table's maximum: a power of two, not below the starting size */
	CU_ASSERT_PTR_NULL(
	        xf_reliab_create(&(struct xf_reliab_cfg){ .tx_slots = 64, .tx_slots_max = 96 }, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(
	        xf_reliab_create(&(struct xf_reliab_cfg){ .tx_slots = 64, .tx_slots_max = 32 }, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
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

static const struct xf_test tests[] = {
	{ "rtt_rfc_examples", test_rtt_rfc_examples },
	{ "rtt_sample_times", test_rtt_sample_times },
	{ "ack_validation", test_ack_validation },
	{ "table_capacity", test_table_capacity },
	{ "table_max", test_table_max },
	{ "loss_thresholds", test_loss_thresholds },
	{ "loss_packet_threshold_burst", test_loss_packet_threshold_burst },
	{ "spurious_after_reuse", test_spurious_after_reuse },
	{ "pto_backoff", test_pto_backoff },
	{ "pto_tail_loss", test_pto_tail_loss },
	{ "pto_probe_ack_resets_backoff", test_pto_probe_ack_resets_backoff },
	{ "pto_acks_too", test_pto_acks_too },
	{ "pto_handshake", test_pto_handshake },
	{ "rx_duplicates", test_rx_duplicates },
	{ "rx_missing", test_rx_missing },
	{ "rx_pn_ahead", test_rx_pn_ahead },
	{ "initial_pn", test_initial_pn },
	{ "ack_ranges_patterns", test_ack_ranges_patterns },
	{ "ack_ranges_random", test_ack_ranges_random },
	{ "ack_schedule", test_ack_schedule },
	{ "pacer", test_pacer },
	{ "timers", test_timers },
	{ "outage_recovers", test_outage_recovers },
	{ "return_path", test_return_path },
	{ "keepalive_both_idle", test_keepalive_both_idle },
	{ "simulation", test_simulation },
};

int
main(void)
{
	return xf_test_main("reliab", NULL, NULL, XF_TESTS(tests));
}
