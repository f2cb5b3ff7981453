/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the link model (drivers/linksim) alone: serialisation spacing at the rate
 * without drift, one-way delay, the drop-tail limit, random loss within statistical bounds,
 * Gilbert-Elliott burst lengths, schedule changes at their times (mid-packet too), the
 * blackhole interval, duplication and reordering, queue-delay percentiles, configuration
 * checks, and determinism by seed.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_linksim.h"

#define US 1000ull
#define MS 1000000ull

/* Drain everything the link will deliver, stepping through its next times. */
static unsigned int
drain(struct xf_linksim *l, struct xf_linksim_pkt *out, unsigned int max)
{
	unsigned int n = 0;
	uint64_t t;

	while (n < max && (t = xf_linksim_next_time(l)) != XF_LINKSIM_NEVER) {
		n += xf_linksim_dequeue(l, t, out + n, max - n);
	}
	return n;
}

static uintptr_t
id_of(const struct xf_linksim_pkt *p)
{
	return (uintptr_t)p->opaque;
}

static void
test_rate_spacing(void)
{
	struct xf_linksim_cfg c = { .rate_bps = 1000000000ull, .delay_ns = 10 * MS };
	static struct xf_linksim_pkt out[200];
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 9000, (void *)i), XF_LINKSIM_ACCEPTED);
	}
	n = drain(l, out, 200);
	CU_ASSERT_EQUAL_FATAL(n, 100);
	for (unsigned int i = 0; i < n; i++) {
		/* 9000 B at 1 Gbit/s is 72 us each, then the delay */
		CU_ASSERT_EQUAL(out[i].arrive_ns, 10 * MS + (i + 1) * 72 * US);
		CU_ASSERT_EQUAL(id_of(&out[i]), i);
		CU_ASSERT_EQUAL(out[i].queue_delay_ns, i * 72 * US);
	}
	xf_linksim_destroy(l);

	/* 1000 B at 7 Mbit/s is 1142857.14 ns: the remainder is carried, no drift */
	c.rate_bps = 7000000;
	c.delay_ns = 0;
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 1000, (void *)i), XF_LINKSIM_ACCEPTED);
	}
	n = drain(l, out, 200);
	CU_ASSERT_EQUAL_FATAL(n, 200);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(out[i].arrive_ns,
		                (uint64_t)(i + 1) * 8000 * 1000000000ull / 7000000);
	}
	xf_linksim_destroy(l);
}

static void
test_delay(void)
{
	struct xf_linksim_cfg c = { .delay_ns = 25 * MS };
	struct xf_linksim_pkt out[4];
	struct xf_linksim *l = xf_linksim_create(&c, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(xf_linksim_next_time(l), XF_LINKSIM_NEVER);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 5 * MS, 1500, NULL), XF_LINKSIM_ACCEPTED);
	CU_ASSERT_EQUAL(xf_linksim_next_time(l), 30 * MS);
	CU_ASSERT_EQUAL(xf_linksim_dequeue(l, 30 * MS - 1, out, 4), 0);
	CU_ASSERT_EQUAL(xf_linksim_dequeue(l, 30 * MS, out, 4), 1);
	CU_ASSERT_EQUAL(out[0].arrive_ns, 30 * MS);
	CU_ASSERT_EQUAL(out[0].queue_delay_ns, 0);
	xf_linksim_destroy(l);

	/* with a rate: serialisation then propagation (1500 B at 12 Mbit/s = 1 ms) */
	c.rate_bps = 12000000;
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 5 * MS, 1500, NULL), XF_LINKSIM_ACCEPTED);
	CU_ASSERT_EQUAL(xf_linksim_next_time(l), 31 * MS);
	xf_linksim_destroy(l);
}

static void
test_queue_limit(void)
{
	/* 1000 B at 1 Mbit/s = 8 ms each; room for 10 packets */
	struct xf_linksim_cfg c = { .rate_bps = 1000000, .queue_bytes = 10000 };
	struct xf_linksim_stats st;
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int ok = 0, full = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (int i = 0; i < 20; i++) {
		int v = xf_linksim_enqueue(l, 0, 1000, NULL);

		ok += v == XF_LINKSIM_ACCEPTED;
		full += v == XF_LINKSIM_DROP_QUEUE;
	}
	CU_ASSERT_EQUAL(ok, 10);
	CU_ASSERT_EQUAL(full, 10);
	xf_linksim_stats(l, &st);
	CU_ASSERT_EQUAL(st.queued_bytes, 10000);
	CU_ASSERT_EQUAL(st.dropped[XF_LINKSIM_DROP_QUEUE], 10);
	/* one byte short of room until the first packet is serialised */
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 8 * MS - 1, 1000, NULL), XF_LINKSIM_DROP_QUEUE);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 8 * MS, 1000, NULL), XF_LINKSIM_ACCEPTED);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 8 * MS, 1, NULL), XF_LINKSIM_DROP_QUEUE);
	xf_linksim_stats(l, &st);
	CU_ASSERT_EQUAL(st.max_queued_bytes, 10000);
	CU_ASSERT_EQUAL(st.offered, 23);
	xf_linksim_destroy(l);

	/* out of slots is its own reason */
	c.queue_bytes = 0;
	c.slots = 4;
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 1000, NULL), XF_LINKSIM_ACCEPTED);
	}
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 1000, NULL), XF_LINKSIM_DROP_SLOTS);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, XF_LINKSIM_MAX_BYTES + 1, NULL), -EINVAL);
	xf_linksim_destroy(l);
}

static void
test_random_loss(void)
{
	const unsigned int n = 100000;
	struct xf_linksim_cfg c = { .loss = 0.1, .seed = 42, .slots = 1u << 17 };
	static struct xf_linksim_pkt out[100000];
	struct xf_linksim_stats st;
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int lost = 0, got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (unsigned int i = 0; i < n; i++) {
		lost += xf_linksim_enqueue(l, i * US, 1000, NULL) == XF_LINKSIM_DROP_LOSS;
	}
	/* binomial: mean 10000, sigma 95; 4 sigma either side */
	CU_ASSERT(lost >= 9620 && lost <= 10380);
	got = drain(l, out, n);
	CU_ASSERT_EQUAL(got, n - lost);
	xf_linksim_stats(l, &st);
	CU_ASSERT_EQUAL(st.dropped[XF_LINKSIM_DROP_LOSS], lost);
	CU_ASSERT_EQUAL(st.delivered, got);
	CU_ASSERT_EQUAL(st.held, 0);
	printf("\n    random loss 10%%, seed 42: %u of %u\n", lost, n);
	xf_linksim_destroy(l);
}

static void
test_gilbert_elliott(void)
{
	const unsigned int n = 200000;
	/* bad state lasts 1 / 0.25 = 4 packets on average and loses everything; the chain
	 * spends 0.01 / (0.01 + 0.25) = 3.85% of packets in it */
	struct xf_linksim_cfg c = {
		.seed = 7,
		.slots = 1u << 18,
		.ge = { .p_good_bad = 0.01, .p_bad_good = 0.25, .loss_good = 0.0, .loss_bad = 1.0 },
	};
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int lost = 0, bursts = 0, run = 0;
	double mean, rate;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (unsigned int i = 0; i < n; i++) {
		if (xf_linksim_enqueue(l, i * US, 1000, NULL) == XF_LINKSIM_DROP_BURST) {
			lost++;
			if (run++ == 0) {
				bursts++;
			}
		} else {
			run = 0;
		}
	}
	mean = (double)lost / bursts;
	rate = (double)lost / n;
	printf("\n    Gilbert-Elliott: loss %.4f, %u bursts, mean length %.3f\n", rate, bursts,
	       mean);
	CU_ASSERT(mean > 3.7 && mean < 4.3);
	CU_ASSERT(rate > 0.0345 && rate < 0.0425);
	xf_linksim_destroy(l);

	/* independent loss at the same rate gives bursts of about 1 / (1 - p) */
	c = (struct xf_linksim_cfg){ .seed = 7, .slots = 1u << 18, .loss = 0.0385 };
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	lost = bursts = run = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (xf_linksim_enqueue(l, i * US, 1000, NULL) == XF_LINKSIM_DROP_LOSS) {
			lost++;
			bursts += run++ == 0;
		} else {
			run = 0;
		}
	}
	CU_ASSERT((double)lost / bursts < 1.1);
	xf_linksim_destroy(l);
}

static void
test_schedule_rate(void)
{
	/* 1250 B: 10 us at 1 Gbit/s, 20 us at 500 Mbit/s; the change comes halfway through
	 * packet 101 (1.005 ms): its remaining 5 us of bits take 10 us */
	const struct xf_linksim_event ev[] = {
		{ .at_ns = 1005 * US, .kind = XF_LINKSIM_EV_RATE, .value = 500000000 },
		{ .at_ns = 3 * MS, .kind = XF_LINKSIM_EV_RATE, .value = 1000000000 },
	};
	struct xf_linksim_cfg c = { .rate_bps = 1000000000, .events = ev, .nb_events = 2 };
	static struct xf_linksim_pkt out[300];
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 250; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 1250, (void *)i), XF_LINKSIM_ACCEPTED);
	}
	n = drain(l, out, 300);
	CU_ASSERT_EQUAL_FATAL(n, 250);
	/* checked point by point: before, across and after each change */
	CU_ASSERT_EQUAL(out[99].arrive_ns, 1000 * US);
	CU_ASSERT_EQUAL(out[100].arrive_ns, 1015 * US);
	CU_ASSERT_EQUAL(out[101].arrive_ns, 1035 * US);
	CU_ASSERT_EQUAL(out[198].arrive_ns, 1015 * US + 98 * 20 * US); /* 2.975 ms */
	/* packet 200 starts at 2.975 ms and ends at 2.995 ms, before the change back */
	CU_ASSERT_EQUAL(out[199].arrive_ns, 2995 * US);
	/* packet 201 starts at 2.995: a quarter of its bits by 3 ms, the other 15 us of the
	 * slow rate take 7.5 us at 1 G */
	CU_ASSERT_EQUAL(out[200].arrive_ns, 3007500);
	CU_ASSERT_EQUAL(out[201].arrive_ns, 3017500);
	CU_ASSERT_EQUAL(out[249].arrive_ns, 3007500 + 49 * 10 * US);
	xf_linksim_destroy(l);
}

static void
test_schedule_delay(void)
{
	const struct xf_linksim_event ev[] = {
		{ .at_ns = 50 * MS, .kind = XF_LINKSIM_EV_DELAY, .value = 20 * MS },
		{ .at_ns = 100 * MS, .kind = XF_LINKSIM_EV_DELAY, .value = 5 * MS },
	};
	struct xf_linksim_cfg c = { .delay_ns = 10 * MS, .events = ev, .nb_events = 2 };
	struct xf_linksim_pkt out[8];
	static struct xf_linksim_pkt big[80];
	struct xf_linksim *l = xf_linksim_create(&c, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 49 * MS, 100, (void *)1), XF_LINKSIM_ACCEPTED);
	/* the schedule entry is the next thing to look at, before the arrival */
	CU_ASSERT_EQUAL(xf_linksim_next_time(l), 50 * MS);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 50 * MS, 100, (void *)2), XF_LINKSIM_ACCEPTED);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 99 * MS, 100, (void *)3), XF_LINKSIM_ACCEPTED);
	CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 100 * MS, 100, (void *)4), XF_LINKSIM_ACCEPTED);
	CU_ASSERT_EQUAL_FATAL(drain(l, out, 8), 4);
	CU_ASSERT_EQUAL(out[0].arrive_ns, 59 * MS);
	CU_ASSERT_EQUAL(out[1].arrive_ns, 70 * MS);
	/* the shorter delay overtakes: delivered in order of arrival */
	CU_ASSERT_EQUAL(id_of(&out[2]), 4);
	CU_ASSERT_EQUAL(out[2].arrive_ns, 105 * MS);
	CU_ASSERT_EQUAL(id_of(&out[3]), 3);
	CU_ASSERT_EQUAL(out[3].arrive_ns, 119 * MS);
	xf_linksim_destroy(l);

	/* a delay change leaves the departures alone: 1000 B at 7 Mbit/s (1142857.14 ns
	 * each, remainder carried), the delay going from 10 to 20 ms at 50 ms */
	c.rate_bps = 7000000;
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 80; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 1000, (void *)i), XF_LINKSIM_ACCEPTED);
	}
	CU_ASSERT_EQUAL_FATAL(drain(l, big, 80), 80);
	for (unsigned int i = 0; i < 80; i++) {
		uint64_t depart = (uint64_t)(i + 1) * 8000 * 1000000000ull / 7000000;

		CU_ASSERT_EQUAL(big[i].arrive_ns, depart + (depart < 50 * MS ? 10 : 20) * MS);
	}
	xf_linksim_destroy(l);
}

static void
test_blackhole(void)
{
	const struct xf_linksim_event ev[] = {
		{ .at_ns = 100 * MS, .kind = XF_LINKSIM_EV_BLACKHOLE, .value = 50 * MS },
	};
	struct xf_linksim_cfg c = { .delay_ns = 10 * MS, .events = ev, .nb_events = 1 };
	static struct xf_linksim_pkt out[400];
	struct xf_linksim_stats st;
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t t = 0; t < 300; t++) {
		int v = xf_linksim_enqueue(l, t * MS, 100, (void *)t);

		CU_ASSERT_EQUAL(v, t >= 100 && t < 150 ? XF_LINKSIM_DROP_BLACKHOLE
		                                       : XF_LINKSIM_ACCEPTED);
	}
	n = drain(l, out, 400);
	CU_ASSERT_EQUAL(n, 250);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT(id_of(&out[i]) < 100 || id_of(&out[i]) >= 150);
		CU_ASSERT(!out[i].lost);
	}
	xf_linksim_destroy(l);

	/* what is still in the queue and leaves the bottleneck during it is lost too: 1000 B
	 * at 1 Mbit/s leave at 103, 111, ... 175 ms; 103..143 fall in [100, 150) */
	c.rate_bps = 1000000;
	c.delay_ns = 0;
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 95 * MS, 1000, (void *)i),
		                XF_LINKSIM_ACCEPTED);
	}
	n = drain(l, out, 400);
	/* every packet comes back once: the swallowed ones marked lost */
	CU_ASSERT_EQUAL_FATAL(n, 10);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(id_of(&out[i]), i);
		CU_ASSERT_EQUAL(out[i].lost, i < 6);
	}
	CU_ASSERT_EQUAL(out[5].arrive_ns, 143 * MS);
	CU_ASSERT_EQUAL(out[6].arrive_ns, 151 * MS);
	xf_linksim_stats(l, &st);
	CU_ASSERT_EQUAL(st.delivered, 4);
	CU_ASSERT_EQUAL(st.dropped[XF_LINKSIM_DROP_BLACKHOLE], 6);
	CU_ASSERT_EQUAL(st.held, 0);
	xf_linksim_destroy(l);
}

static void
test_dup_reorder(void)
{
	struct xf_linksim_cfg c = { .delay_ns = MS, .dup = 1.0, .seed = 3 };
	static struct xf_linksim_pkt out[400];
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	unsigned int n, late = 0;
	unsigned int seen[100] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, i * MS, 100, (void *)i),
		                XF_LINKSIM_DUPLICATED);
	}
	n = drain(l, out, 400);
	CU_ASSERT_EQUAL_FATAL(n, 200);
	for (unsigned int i = 0; i < n; i += 2) {
		CU_ASSERT_EQUAL(id_of(&out[i]), id_of(&out[i + 1]));
		CU_ASSERT(!out[i].dup && out[i + 1].dup);
	}
	xf_linksim_destroy(l);

	c = (struct xf_linksim_cfg){
		.delay_ns = MS, .reorder = 0.3, .reorder_ns = 5 * MS, .seed = 3
	};
	l = xf_linksim_create(&c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, i * MS, 100, (void *)i), XF_LINKSIM_ACCEPTED);
	}
	n = drain(l, out, 400);
	CU_ASSERT_EQUAL_FATAL(n, 100);
	for (unsigned int i = 0; i < n; i++) {
		seen[id_of(&out[i])]++;
		late += i > 0 && id_of(&out[i]) < id_of(&out[i - 1]);
		CU_ASSERT(i == 0 || out[i].arrive_ns >= out[i - 1].arrive_ns);
	}
	for (unsigned int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(seen[i], 1);
	}
	CU_ASSERT(late > 10); /* about 30 held back, each overtaken */
	xf_linksim_destroy(l);
}

static void
test_queue_delay_pct(void)
{
	/* 1000 B at 1 Mbit/s: the ten packets wait 0, 8, ..., 72 ms */
	struct xf_linksim_cfg c = { .rate_bps = 1000000 };
	static struct xf_linksim_pkt out[16];
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	uint64_t p50, p100;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(xf_linksim_queue_delay_pct(l, 50), 0);
	for (int i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(xf_linksim_enqueue(l, 0, 1000, NULL), XF_LINKSIM_ACCEPTED);
	}
	CU_ASSERT_EQUAL(drain(l, out, 16), 10);
	p50 = xf_linksim_queue_delay_pct(l, 50);
	p100 = xf_linksim_queue_delay_pct(l, 100);
	CU_ASSERT(p50 >= 32 * MS && p50 <= 32 * MS + 32 * MS / 16);
	CU_ASSERT(p100 >= 72 * MS && p100 <= 72 * MS + 72 * MS / 16);
	CU_ASSERT_EQUAL(xf_linksim_queue_delay_pct(l, 0), 0);
	xf_linksim_destroy(l);
}

static void
test_config_checks(void)
{
	const struct xf_linksim_event bad_order[] = {
		{ .at_ns = 2, .kind = XF_LINKSIM_EV_DELAY },
		{ .at_ns = 1, .kind = XF_LINKSIM_EV_DELAY },
	};
	const struct xf_linksim_event empty_hole[] = { { .at_ns = 1,
		                                         .kind = XF_LINKSIM_EV_BLACKHOLE } };
	struct xf_linksim_cfg c;

	c = (struct xf_linksim_cfg){ .loss = 1.5 };
	CU_ASSERT_PTR_NULL(xf_linksim_create(&c, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	c = (struct xf_linksim_cfg){ .dup = NAN };
	CU_ASSERT_PTR_NULL(xf_linksim_create(&c, 0));
	c = (struct xf_linksim_cfg){ .reorder = 0.1 };
	CU_ASSERT_PTR_NULL(xf_linksim_create(&c, 0));
	c = (struct xf_linksim_cfg){ .events = bad_order, .nb_events = 2 };
	CU_ASSERT_PTR_NULL(xf_linksim_create(&c, 0));
	c = (struct xf_linksim_cfg){ .events = empty_hole, .nb_events = 1 };
	CU_ASSERT_PTR_NULL(xf_linksim_create(&c, 0));
	c = (struct xf_linksim_cfg){ .nb_events = XF_LINKSIM_MAX_EVENTS + 1, .events = bad_order };
	CU_ASSERT_PTR_NULL(xf_linksim_create(&c, 0));
}

/* Everything at once, offered at seeded times; a digest of every delivery. */
static uint64_t
digest_run(uint64_t seed, struct xf_linksim_stats *st)
{
	const struct xf_linksim_event ev[] = {
		{ .at_ns = 20 * MS, .kind = XF_LINKSIM_EV_RATE, .value = 50000000 },
		{ .at_ns = 40 * MS, .kind = XF_LINKSIM_EV_DELAY, .value = 3 * MS },
		{ .at_ns = 60 * MS, .kind = XF_LINKSIM_EV_BLACKHOLE, .value = 5 * MS },
	};
	struct xf_linksim_cfg c = {
		.rate_bps = 100000000,
		.delay_ns = 10 * MS,
		.queue_bytes = 60000,
		.seed = seed,
		.loss = 0.02,
		.ge = { .p_good_bad = 0.01, .p_bad_good = 0.3, .loss_bad = 0.8 },
		.dup = 0.01,
		.reorder = 0.05,
		.reorder_ns = 2 * MS,
		.events = ev,
		.nb_events = 3,
	};
	struct xf_linksim_pkt out[64];
	struct xf_linksim *l = xf_linksim_create(&c, 0);
	uint64_t h = 1469598103934665603ull, rng = seed ^ 0x5555, t = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uintptr_t i = 0; i < 20000; i++) {
		unsigned int n;

		t += xf_linksim_rand(&rng) % (100 * US);
		n = xf_linksim_dequeue(l, t, out, 64);
		for (unsigned int k = 0; k < n; k++) {
			h = (h ^ id_of(&out[k])) * 1099511628211ull;
			h = (h ^ out[k].arrive_ns) * 1099511628211ull;
			h = (h ^ out[k].lost) * 1099511628211ull;
		}
		(void)xf_linksim_enqueue(l, t, 500 + (uint32_t)(xf_linksim_rand(&rng) % 1000),
		                         (void *)i);
	}
	while ((t = xf_linksim_next_time(l)) != XF_LINKSIM_NEVER) {
		unsigned int n = xf_linksim_dequeue(l, t, out, 64);

		for (unsigned int k = 0; k < n; k++) {
			h = (h ^ id_of(&out[k])) * 1099511628211ull;
			h = (h ^ out[k].arrive_ns) * 1099511628211ull;
		}
	}
	xf_linksim_stats(l, st);
	xf_linksim_destroy(l);
	return h;
}

static void
test_determinism(void)
{
	struct xf_linksim_stats a, b, c;
	uint64_t ha = digest_run(11, &a), hb = digest_run(11, &b), hc = digest_run(12, &c);

	CU_ASSERT_EQUAL(ha, hb);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_NOT_EQUAL(ha, hc);
	/* every kind of fault happened, and every packet is accounted for */
	CU_ASSERT(a.dropped[XF_LINKSIM_DROP_LOSS] > 0 && a.dropped[XF_LINKSIM_DROP_QUEUE] > 0 &&
	          a.dropped[XF_LINKSIM_DROP_BLACKHOLE] > 0 && a.duplicated > 0 && a.reordered > 0);
	CU_ASSERT_EQUAL(a.offered + a.duplicated, a.delivered + a.dropped[XF_LINKSIM_DROP_LOSS] +
	                                                  a.dropped[XF_LINKSIM_DROP_QUEUE] +
	                                                  a.dropped[XF_LINKSIM_DROP_BLACKHOLE] +
	                                                  a.dropped[XF_LINKSIM_DROP_SLOTS] +
	                                                  a.dropped[XF_LINKSIM_DROP_BURST]);
	CU_ASSERT_EQUAL(a.held, 0);
	CU_ASSERT_EQUAL(a.queued_bytes, 0);
}

int
main(void)
{
	static const struct xf_test tests[] = {
		{ "rate spacing, no drift", test_rate_spacing },
		{ "one-way delay", test_delay },
		{ "drop-tail queue limit", test_queue_limit },
		{ "random loss rate", test_random_loss },
		{ "Gilbert-Elliott bursts", test_gilbert_elliott },
		{ "schedule: rate changes", test_schedule_rate },
		{ "schedule: delay changes", test_schedule_delay },
		{ "blackhole interval", test_blackhole },
		{ "duplication and reordering", test_dup_reorder },
		{ "queue delay percentiles", test_queue_delay_pct },
		{ "configuration checks", test_config_checks },
		{ "determinism by seed", test_determinism },
	};

	return xf_test_main("linksim", NULL, NULL, XF_TESTS(tests));
}
