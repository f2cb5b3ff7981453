/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_reliab over the link model (tests/common/xf_wansim.h), issue-20 scenarios on virtual
 * time, as the baseline before congestion control: the sender paces at a fixed rate. The
 * figures are printed (docs/RELIABILITY.md, Link model, keeps them); what is asserted is
 * what must hold now: every transfer completes, the same seed gives the same figures, a
 * frame is sent once plus once per retransmission, goodput never exceeds the bottleneck,
 * no queue delay exceeds what the buffer holds, and a sender paced below the bottleneck
 * builds no queue.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_linksim.h"
#include "xf_reliab.h"
#include "xf_wansim.h"

#define MS    1000000ull
#define S     1000000000ull
#define GBIT  1000000000ull
#define SEEDS 5u

/* 1 Gbit/s, 50 ms RTT, a buffer of one BDP (6.25 MB); ACKs come back on a 1 G link. */
static struct xf_wansim_cfg
s1(uint64_t seed)
{
	struct xf_wansim_cfg c = {
		.fwd = { .rate_bps = GBIT,
		         .delay_ns = 25 * MS,
		         .queue_bytes = 6250000,
		         .seed = seed },
		.back = { .rate_bps = GBIT, .delay_ns = 25 * MS, .seed = seed + 1000 },
		.bytes = 1250000000ull, /* 10 s at the bottleneck */
		.frame_bytes = 9000,
		.pace_bps = GBIT,
	};
	return c;
}

/* Run a scenario twice (identical figures) and check the invariants; print it. */
static void
run_scenario(const char *label, const struct xf_wansim_cfg *c, struct xf_wansim_result *r)
{
	struct xf_wansim_result again;
	double t0 = xf_wansim_cpu_now(), cpu;
	uint64_t buffer_ns;

	CU_ASSERT_EQUAL_FATAL(xf_wansim_run(c, r), 0);
	cpu = xf_wansim_cpu_now() - t0;
	CU_ASSERT_EQUAL_FATAL(xf_wansim_run(c, &again), 0);
	CU_ASSERT_EQUAL(memcmp(r, &again, sizeof(*r)), 0);
	xf_wansim_print(label, r);
	printf("%-28s   cpu %.3f s for %" PRIu64 " events, %" PRIu64 " frames sent\n", "", cpu,
	       r->events, r->sent);
	if (c->fwd.queue_bytes != 0) {
		uint64_t slowest = c->fwd.rate_bps;

		for (unsigned int i = 0; i < c->fwd.nb_events; i++) {
			if (c->fwd.events[i].kind == XF_LINKSIM_EV_RATE &&
			    c->fwd.events[i].value < slowest) {
				slowest = c->fwd.events[i].value;
			}
		}
		/* no packet waits longer than the buffer takes to drain at the slowest rate */
		buffer_ns = c->fwd.queue_bytes * 8 * S / slowest;
		CU_ASSERT(r->queue_p99_ns <= buffer_ns + buffer_ns / 16);
		CU_ASSERT(r->max_queue_bytes <= c->fwd.queue_bytes);
	}
	CU_ASSERT(r->goodput_pm <= 1000);
	CU_ASSERT(r->completed);
	CU_ASSERT_EQUAL(r->sent - r->retransmitted, r->frames);
	/* a delivered frame is new to the receiver, a duplicate it counted, or a probe */
	CU_ASSERT_EQUAL(r->fwd.delivered, r->frames + r->rx_duplicates + r->probes_delivered);
	CU_ASSERT_EQUAL(r->probes, r->probes_delivered + r->probes_lost);
}

static void
test_s1_paced(void)
{
	struct xf_wansim_cfg c = s1(1);
	struct xf_wansim_result r;

	run_scenario("S1 paced 1G", &c, &r);
	/* paced at the bottleneck rate with a burst of 4 frames: nothing queues or drops */
	CU_ASSERT_EQUAL(r.fwd.dropped[XF_LINKSIM_DROP_QUEUE], 0);
	CU_ASSERT_EQUAL(r.retransmitted, 0);
	CU_ASSERT(r.queue_p99_ns < MS);
}

static void
test_s1_nic_rate(void)
{
	struct xf_wansim_cfg c = s1(1);
	struct xf_wansim_result r;

	c.pace_bps = 10 * GBIT; /* rate_mbit 0: as fast as a 10 G NIC */
	c.bytes = 250000000ull;
	run_scenario("S1 NIC 10G, 250 MB", &c, &r);
}

static void
test_s2_random_loss(void)
{
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct xf_wansim_cfg c = s1(seed);
		struct xf_wansim_result r;
		char label[64];

		c.fwd.loss = 0.01;
		snprintf(label, sizeof(label), "S2 1%% loss, seed %" PRIu64, seed);
		run_scenario(label, &c, &r);
		CU_ASSERT(r.fwd.dropped[XF_LINKSIM_DROP_LOSS] > 0);
		/* a lost frame is sent again at least once */
		CU_ASSERT(r.retransmitted + r.probes_lost >= r.fwd.dropped[XF_LINKSIM_DROP_LOSS]);
	}
}

static void
test_s2_bursty_loss(void)
{
	struct xf_wansim_cfg c = s1(3);
	struct xf_wansim_result r;

	/* 1% of packets lost in bursts of 4 on average */
	c.fwd.ge =
	        (struct xf_linksim_ge){ .p_good_bad = 0.0025, .p_bad_good = 0.25, .loss_bad = 1.0 };
	run_scenario("S2 bursty 1%, bursts of 4", &c, &r);
	CU_ASSERT(r.fwd.dropped[XF_LINKSIM_DROP_BURST] > 0);
	CU_ASSERT_EQUAL(r.fwd.dropped[XF_LINKSIM_DROP_LOSS], 0);
	CU_ASSERT(r.retransmitted + r.probes_lost >= r.fwd.dropped[XF_LINKSIM_DROP_BURST]);
}

/* Random loss on both links (data and ACKs), as the nftables sweep of issue 20. */
static void
test_loss_sweep(void)
{
	static const unsigned int pct[] = { 0, 1, 2, 5, 10, 20 };

	for (unsigned int i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		struct xf_wansim_cfg c = s1(1);
		struct xf_wansim_result r;
		char label[64];

		c.fwd.loss = c.back.loss = pct[i] / 100.0;
		c.bytes = 250000000ull;
		snprintf(label, sizeof(label), "sweep %u%% loss each way", pct[i]);
		run_scenario(label, &c, &r);
		CU_ASSERT(r.retransmitted + r.probes_lost >= r.fwd.dropped[XF_LINKSIM_DROP_LOSS]);
	}
}

static void
test_s3_rate_changes(void)
{
	const struct xf_linksim_event ev[] = {
		{ .at_ns = 20 * S, .kind = XF_LINKSIM_EV_RATE, .value = GBIT / 2 },
		{ .at_ns = 40 * S, .kind = XF_LINKSIM_EV_RATE, .value = GBIT },
	};
	struct xf_wansim_cfg c = s1(1);
	struct xf_wansim_result r;

	c.fwd.events = ev;
	c.fwd.nb_events = 2;
	c.bytes = 6250000000ull; /* about 60 s of it */
	run_scenario("S3 1G, 500M at 20s, 1G at 40s", &c, &r);
}

static void
test_s6_rate_ceiling(void)
{
	struct xf_wansim_cfg c = s1(1);
	struct xf_wansim_result r;

	c.pace_bps = 300000000;
	c.bytes = 375000000ull; /* 10 s at 300 Mbit/s */
	run_scenario("S6 rate 300M on 1G", &c, &r);
	/* below the bottleneck: no queue beyond a burst, the rate held to 2% */
	CU_ASSERT(r.queue_p99_ns < MS);
	CU_ASSERT(r.goodput_bps >= 294000000 && r.goodput_bps <= 306000000);
}

static void
test_s7_blackhole(void)
{
	const struct xf_linksim_event ev[] = {
		{ .at_ns = 3 * S, .kind = XF_LINKSIM_EV_BLACKHOLE, .value = 2 * S },
	};
	struct xf_wansim_cfg c = s1(1);
	struct xf_wansim_result r;

	c.fwd.events = ev;
	c.fwd.nb_events = 1;
	c.time_limit_ns = 120 * S;
	/*
	 * The default windows recover: the whole table and the probes are lost, the sender's
	 * next numbers are at most tx_slots plus those probes above the receiver's largest,
	 * and the receive window is twice the table, so the probe after the outage and the
	 * retransmissions are accepted, none refused (docs/RELIABILITY.md).
	 */
	run_scenario("S7 2 s blackhole at 3 s", &c, &r);
	CU_ASSERT(r.fwd.dropped[XF_LINKSIM_DROP_BLACKHOLE] > 0);
	CU_ASSERT(r.pto > 0);
	CU_ASSERT(r.retransmitted > 0);
	CU_ASSERT_EQUAL(r.rx_pn_ahead, 0);
}

static void
test_seed_changes_figures(void)
{
	struct xf_wansim_cfg a = s1(1), b = s1(2);
	struct xf_wansim_result ra, rb;

	a.fwd.loss = b.fwd.loss = 0.01;
	a.bytes = b.bytes = 100000000ull;
	CU_ASSERT_EQUAL_FATAL(xf_wansim_run(&a, &ra), 0);
	CU_ASSERT_EQUAL_FATAL(xf_wansim_run(&b, &rb), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(&ra, &rb, sizeof(ra)), 0);
}

int
main(void)
{
	static const struct xf_test tests[] = {
		{ "S1 paced at the bottleneck", test_s1_paced },
		{ "S1 at the NIC rate", test_s1_nic_rate },
		{ "S2 random loss, 5 seeds", test_s2_random_loss },
		{ "S2 bursty loss", test_s2_bursty_loss },
		{ "loss sweep, both ways", test_loss_sweep },
		{ "S3 rate changes", test_s3_rate_changes },
		{ "S6 rate ceiling", test_s6_rate_ceiling },
		{ "S7 blackhole", test_s7_blackhole },
		{ "another seed, other figures", test_seed_changes_figures },
	};

	return xf_test_main("wansim", NULL, NULL, XF_TESTS(tests));
}
