/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of a port's fault stage without EAL: the reordering (permutation,
 * determinism, rate, bound) and the link on a clock the test drives (same seed, same
 * drops; the rate shapes throughput; the delay holds a frame exactly as configured; a
 * full queue drops the tail; random and bursty loss counted apart; the slot bound).
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_fault.h"

#define N 20000u

static uint32_t out_seq[N];

/* Feed frames 1..N in bursts of 1..32 (sizes from a fixed LCG), then flush. */
static uint32_t
run(const struct xf_fault_conf *conf, uint32_t *seq, uint64_t *reordered)
{
	static void *in[32], *out[XF_FAULT_OUT_MAX], *drop[XF_FAULT_DROP_MAX];
	struct xf_fault f;
	uint32_t next = 1, nseq = 0, lcg = 12345;
	uint16_t nd;

	CU_ASSERT_FATAL(xf_fault_init(&f, conf, 0) == 0);
	while (next <= N) {
		uint16_t burst, n;

		lcg = lcg * 1103515245u + 12345u;
		burst = (uint16_t)(1 + (lcg >> 16) % 32);
		if (burst > N - next + 1) {
			burst = (uint16_t)(N - next + 1);
		}
		for (uint16_t i = 0; i < burst; i++) {
			in[i] = (void *)(uintptr_t)next++;
		}
		n = xf_fault_apply(&f, 0, in, NULL, burst, out, drop, &nd);
		CU_ASSERT_FATAL(n <= burst + XF_FAULT_MAX_HELD);
		CU_ASSERT_EQUAL_FATAL(nd, 0);
		for (uint16_t i = 0; i < n; i++) {
			CU_ASSERT_FATAL(nseq < N);
			seq[nseq++] = (uint32_t)(uintptr_t)out[i];
		}
	}
	{
		uint16_t n = xf_fault_flush(&f, out);

		for (uint16_t i = 0; i < n; i++) {
			CU_ASSERT_FATAL(nseq < N);
			seq[nseq++] = (uint32_t)(uintptr_t)out[i];
		}
		CU_ASSERT_EQUAL(xf_fault_flush(&f, out), 0);
	}
	CU_ASSERT_EQUAL(f.st.frames, N);
	CU_ASSERT_EQUAL(f.st.delivered, N);
	if (reordered != NULL) {
		*reordered = f.st.reordered;
	}
	xf_fault_fini(&f);
	return nseq;
}

static void
check_permutation(const uint32_t *seq, uint32_t n)
{
	static uint8_t seen[N + 1];

	CU_ASSERT_EQUAL_FATAL(n, N);
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_FATAL(seq[i] >= 1 && seq[i] <= N);
		CU_ASSERT_EQUAL(seen[seq[i]], 0);
		seen[seq[i]] = 1;
	}
}

/* Frames that come out after a later frame: the ones that were held back. */
static uint32_t
count_late(const uint32_t *seq, uint32_t n)
{
	uint32_t max = 0, late = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (seq[i] < max) {
			late++;
		} else {
			max = seq[i];
		}
	}
	return late;
}

static void
test_init(void)
{
	struct xf_fault f;
	struct xf_fault_conf c = { .seed = 1, .reorder_p = 0.5, .reorder_k = 3 };

	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), 0);
	CU_ASSERT(xf_fault_enabled(&f));
	c.reorder_k = 0;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -EINVAL);
	c.reorder_k = XF_FAULT_MAX_DEPTH + 1;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -EINVAL);
	c.reorder_k = 3;
	c.reorder_p = 1.5;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -EINVAL);
	c.reorder_p = -0.1;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -EINVAL);
	c.reorder_p = NAN;
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -EINVAL);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), 0);
	CU_ASSERT(!xf_fault_enabled(&f));
}

static void
test_off_is_identity(void)
{
	struct xf_fault_conf c = { .seed = 7 };
	uint64_t reordered;

	CU_ASSERT_EQUAL(run(&c, out_seq, &reordered), N);
	for (uint32_t i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(out_seq[i], i + 1);
	}
	CU_ASSERT_EQUAL(reordered, 0);
}

static void
test_permutation(void)
{
	static const double ps[] = { 0.01, 0.1, 0.5, 0.9, 1.0 };
	static const uint16_t ks[] = { 1, 3, 17, 200 };

	for (size_t a = 0; a < sizeof(ps) / sizeof(ps[0]); a++) {
		for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
			struct xf_fault_conf c = { .seed = 42 + a * 10 + b,
				                   .reorder_p = ps[a],
				                   .reorder_k = ks[b] };

			check_permutation(out_seq, run(&c, out_seq, NULL));
		}
	}
}

static void
test_deterministic(void)
{
	static uint32_t again[N];
	struct xf_fault_conf c = { .seed = 0xfeed, .reorder_p = 0.2, .reorder_k = 4 };

	run(&c, out_seq, NULL);
	run(&c, again, NULL);
	CU_ASSERT(memcmp(out_seq, again, sizeof(again)) == 0);
	c.seed++;
	run(&c, again, NULL);
	CU_ASSERT(memcmp(out_seq, again, sizeof(again)) != 0);
}

static void
test_rate(void)
{
	static const double ps[] = { 0.02, 0.1, 0.3 };

	for (size_t a = 0; a < sizeof(ps) / sizeof(ps[0]); a++) {
		struct xf_fault_conf c = { .seed = 99 + a, .reorder_p = ps[a], .reorder_k = 2 };
		uint64_t reordered;
		double rate, late;

		run(&c, out_seq, &reordered);
		rate = (double)reordered / N;
		late = (double)count_late(out_seq, N) / N;
		/* Binomial sd is at most 0.0035 here: 0.02 is over five of them. */
		CU_ASSERT(fabs(rate - ps[a]) < 0.02);
		/*
		 * Seen from outside, a held frame is late unless the k frames after it were
		 * all held too (then it leaves first): expect p * (1 - p^k).
		 */
		CU_ASSERT(fabs(late - ps[a] * (1.0 - pow(ps[a], c.reorder_k))) < 0.02);
	}
}

/* A frame is never released after a frame that arrived more than k arrivals after it. */
static void
test_bound(void)
{
	static uint32_t pos[N + 1], minpos_after[N + 2];
	static const uint16_t ks[] = { 1, 5, 40 };

	for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
		struct xf_fault_conf c = { .seed = 5 + b, .reorder_p = 0.3, .reorder_k = ks[b] };
		uint32_t k = ks[b];

		run(&c, out_seq, NULL);
		for (uint32_t i = 0; i < N; i++) {
			pos[out_seq[i]] = i;
		}
		minpos_after[N + 1] = UINT32_MAX;
		for (uint32_t v = N; v >= 1; v--) {
			minpos_after[v] =
			        pos[v] < minpos_after[v + 1] ? pos[v] : minpos_after[v + 1];
		}
		/* Frames still held at the final flush are exempt: they had no k successors. */
		for (uint32_t v = 1; v + k + 1 <= N; v++) {
			CU_ASSERT(pos[v] < minpos_after[v + k + 1]);
		}
	}
}

/* ---- the link ------------------------------------------------------------------------ */

#define US 1000ull
#define MS 1000000ull

/* Frames are ids 1..; what became of each, and when it came out. */
struct trace {
	uint64_t out_ns[N + 1]; /* 0: not out */
	uint8_t fate[N + 1];    /* 0 in the stage, 1 out, 2 dropped */
	uint32_t order[N];      /* ids in the order they came out */
	uint32_t nb_out, nb_drop;
	uint64_t out_bytes;
};

static void
record(struct trace *t, uint64_t now, void **out, uint16_t n, void **drop, uint16_t nd,
       uint32_t bytes)
{
	for (uint16_t i = 0; i < n; i++) {
		uint32_t id = (uint32_t)(uintptr_t)out[i];

		CU_ASSERT_FATAL(id >= 1 && id <= N && t->fate[id] == 0);
		t->fate[id] = 1;
		t->out_ns[id] = now;
		t->order[t->nb_out++] = id;
		t->out_bytes += bytes;
	}
	for (uint16_t i = 0; i < nd; i++) {
		uint32_t id = (uint32_t)(uintptr_t)drop[i];

		CU_ASSERT_FATAL(id >= 1 && id <= N && t->fate[id] == 0);
		t->fate[id] = 2;
		t->nb_drop++;
	}
}

/*
 * Offer `frames` frames of `bytes` each, one every `gap_ns` from time 0, stepping the
 * clock by `step_ns` and taking whatever is due at each step (as a port's core does on
 * each round), until the link is empty.
 */
static void
drive(struct xf_fault *f, struct trace *t, uint32_t frames, uint32_t bytes, uint64_t gap_ns,
      uint64_t step_ns)
{
	static void *out[XF_FAULT_OUT_MAX], *drop[XF_FAULT_DROP_MAX];
	uint32_t next = 1;
	uint16_t n, nd;

	memset(t, 0, sizeof(*t));
	for (uint64_t now = 0; next <= frames || xf_fault_next_time(f) != XF_LINKSIM_NEVER;
	     now += step_ns) {
		void *in[XF_FAULT_BURST];
		uint32_t sz[XF_FAULT_BURST];
		uint16_t k = 0;

		while (next <= frames && (uint64_t)(next - 1) * gap_ns <= now &&
		       k < XF_FAULT_BURST) {
			sz[k] = bytes;
			in[k++] = (void *)(uintptr_t)next++;
		}
		n = xf_fault_apply(f, now, in, sz, k, out, drop, &nd);
		record(t, now, out, n, drop, nd, bytes);
		while (xf_fault_due(f, now)) {
			n = xf_fault_apply(f, now, NULL, NULL, 0, out, drop, &nd);
			record(t, now, out, n, drop, nd, bytes);
		}
		CU_ASSERT_FATAL(now < 100ull * 1000 * MS);
	}
	n = xf_fault_flush(f, out);
	record(t, UINT64_MAX, out, n, NULL, 0, bytes);
}

static void
test_link_check(void)
{
	struct xf_fault_conf c = { .rate_bps = 1000000000ull,
		                   .delay_ns = 10 * MS,
		                   .queue_bytes = 100000,
		                   .max_frame = 9014 };
	struct xf_fault f;

	/* 1.25 MB in flight + 100,000 queued + one frame, in 60 B frames, + 2 bursts */
	CU_ASSERT_EQUAL(xf_fault_link_slots(&c), (1250000 + 100000 + 9014 + 59) / 60 + 64);
	CU_ASSERT_EQUAL(xf_fault_check(&c), 0);
	c.queue_bytes = 0; /* one BDP of rate x 2 x delay */
	CU_ASSERT_EQUAL(xf_fault_queue_bytes(&c), 2500000);
	c.rate_bps = 10000000;
	c.delay_ns = 1 * MS;
	CU_ASSERT_EQUAL(xf_fault_queue_bytes(&c), XF_FAULT_MIN_QUEUE);
	/* a delay or a queue without a rate: nothing would bound what the link holds */
	c.rate_bps = 0;
	CU_ASSERT_EQUAL(xf_fault_check(&c), -EINVAL);
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -EINVAL);
	c.delay_ns = 0;
	c.queue_bytes = 1000;
	CU_ASSERT_EQUAL(xf_fault_check(&c), -EINVAL);
	c.queue_bytes = 0;
	c.loss = 0.01; /* loss alone needs no rate */
	CU_ASSERT_EQUAL(xf_fault_check(&c), 0);
	c.loss = 1.01;
	CU_ASSERT_EQUAL(xf_fault_check(&c), -EINVAL);
	c.loss = NAN;
	CU_ASSERT_EQUAL(xf_fault_check(&c), -EINVAL);
	c.loss = 0;
	c.ge.loss_bad = 2.0;
	CU_ASSERT_EQUAL(xf_fault_check(&c), -EINVAL);
	c.ge.loss_bad = 1.0;
	/* 10 Gbit/s x 100 ms is 125 MB: more than 2^18 slots of 60 B */
	c.rate_bps = 10000000000ull;
	c.delay_ns = 100 * MS;
	CU_ASSERT(xf_fault_link_slots(&c) > XF_FAULT_MAX_SLOTS);
	CU_ASSERT_EQUAL(xf_fault_check(&c), -E2BIG);
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), -E2BIG);
	c.max_frame = XF_LINKSIM_MAX_BYTES + 1;
	CU_ASSERT_EQUAL(xf_fault_check(&c), -EINVAL);
	/* on and off */
	memset(&c, 0, sizeof(c));
	CU_ASSERT(!xf_fault_conf_on(&c));
	c.loss = 0.5;
	CU_ASSERT(xf_fault_conf_on(&c));
	CU_ASSERT_EQUAL(xf_fault_init(&f, &c, 0), 0);
	CU_ASSERT(xf_fault_enabled(&f));
	CU_ASSERT_PTR_NOT_NULL(f.link);
	xf_fault_fini(&f);
	xf_fault_fini(&f); /* twice is harmless */
}

/* Frames far apart: each comes out exactly its serialisation plus the delay later. */
static void
test_link_delay(void)
{
	static struct trace t;
	struct xf_fault_conf c = { .seed = 1, .rate_bps = 1000000000ull, .delay_ns = 20 * MS };
	struct xf_fault f;

	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	/* 1250 B is 10 us at 1 Gbit/s; one frame every 1 ms, the clock in 1 us steps */
	drive(&f, &t, 200, 1250, 1 * MS, 1 * US);
	CU_ASSERT_EQUAL(t.nb_out, 200);
	for (uint32_t id = 1; id <= 200; id++) {
		CU_ASSERT_EQUAL(t.out_ns[id], (id - 1) * MS + 10 * US + 20 * MS);
	}
	/* and never before: one step short of the time, nothing is due */
	xf_fault_fini(&f);
	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	{
		void *in[1] = { (void *)(uintptr_t)1 }, *out[XF_FAULT_OUT_MAX],
		     *drop[XF_FAULT_DROP_MAX];
		uint32_t sz[1] = { 1250 };
		uint16_t nd;

		CU_ASSERT_EQUAL(xf_fault_apply(&f, 0, in, sz, 1, out, drop, &nd), 0);
		CU_ASSERT_EQUAL(xf_fault_next_time(&f), 20 * MS + 10 * US);
		CU_ASSERT(!xf_fault_due(&f, 20 * MS + 10 * US - 1));
		CU_ASSERT_EQUAL(
		        xf_fault_apply(&f, 20 * MS + 10 * US - 1, NULL, NULL, 0, out, drop, &nd),
		        0);
		CU_ASSERT(xf_fault_due(&f, 20 * MS + 10 * US));
		CU_ASSERT_EQUAL(
		        xf_fault_apply(&f, 20 * MS + 10 * US, NULL, NULL, 0, out, drop, &nd), 1);
	}
	xf_fault_fini(&f);
}

/* Offered at 4x the rate: what comes out comes at the rate, the rest is dropped at the
 * queue's tail. */
static void
test_link_rate(void)
{
	static const uint64_t rates[] = { 10000000ull, 100000000ull, 1000000000ull };

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		static struct trace t;
		struct xf_fault_conf c = {
			.seed = 3, .rate_bps = rates[r], .delay_ns = 5 * MS, .queue_bytes = 100000
		};
		uint64_t gap = 1514ull * 8 * 1000000000ull / rates[r] / 4;
		uint64_t first = UINT64_MAX, last = 0, bits;
		double mbit;
		struct xf_fault f;

		CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
		drive(&f, &t, N, 1514, gap, gap / 4);
		for (uint32_t id = 1; id <= N; id++) {
			if (t.fate[id] == 1) {
				first = t.out_ns[id] < first ? t.out_ns[id] : first;
				last = t.out_ns[id] > last ? t.out_ns[id] : last;
			}
		}
		/* from the first frame out to the last, every other one took 1514 B of rate */
		bits = (uint64_t)(t.nb_out - 1) * 1514 * 8;
		mbit = (double)bits * 1e3 / (double)(last - first);
		printf("\n    rate %llu Mbit/s, offered 4x: %.2f Mbit/s out, %u of %u dropped",
		       (unsigned long long)(rates[r] / 1000000), mbit, t.nb_drop, N);
		CU_ASSERT(fabs(mbit * 1e6 - (double)rates[r]) < 0.01 * (double)rates[r]);
		/* about 3 in 4 dropped, all at the queue, none lost otherwise */
		CU_ASSERT_EQUAL(t.nb_out + t.nb_drop, N);
		CU_ASSERT_EQUAL(f.st.drop_queue, t.nb_drop);
		CU_ASSERT(t.nb_drop > N * 7 / 10 && t.nb_drop < N * 8 / 10);
		CU_ASSERT_EQUAL(f.st.drop_random + f.st.drop_burst + f.st.drop_slots, 0);
		CU_ASSERT_EQUAL(f.st.delivered, t.nb_out);
		/* a FIFO: out in the order offered */
		for (uint32_t i = 1; i < t.nb_out; i++) {
			CU_ASSERT(t.order[i] > t.order[i - 1]);
		}
		xf_fault_fini(&f);
	}
}

/* A burst at one instant: the queue takes what fits, the tail is dropped. */
static void
test_link_drop_tail(void)
{
	struct xf_fault_conf c = { .rate_bps = 100000000ull,
		                   .delay_ns = 1 * MS,
		                   .queue_bytes = 10 * 1514 };
	void *in[XF_FAULT_BURST], *out[XF_FAULT_OUT_MAX], *drop[XF_FAULT_DROP_MAX];
	uint32_t sz[XF_FAULT_BURST];
	struct xf_fault f;
	uint16_t nd, n = 0;

	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	for (uint32_t i = 0; i < XF_FAULT_BURST; i++) {
		in[i] = (void *)(uintptr_t)(i + 1);
		sz[i] = 1514;
	}
	CU_ASSERT_EQUAL(xf_fault_apply(&f, 0, in, sz, XF_FAULT_BURST, out, drop, &nd), 0);
	CU_ASSERT_EQUAL(nd, XF_FAULT_BURST - 10);
	for (uint16_t i = 0; i < nd; i++) {
		CU_ASSERT_EQUAL((uintptr_t)drop[i], 11 + i); /* the tail, in order */
	}
	CU_ASSERT_EQUAL(f.st.drop_queue, XF_FAULT_BURST - 10);
	/* 10 frames of 121.12 us each, then 1 ms */
	while (xf_fault_next_time(&f) != XF_LINKSIM_NEVER) {
		uint64_t t = xf_fault_next_time(&f);
		uint16_t m = xf_fault_apply(&f, t, NULL, NULL, 0, out + n, drop, &nd);

		CU_ASSERT_EQUAL(m, 1);
		CU_ASSERT_EQUAL(t, 1 * MS + (n + 1) * 1514ull * 8 * 10);
		n = (uint16_t)(n + m);
	}
	CU_ASSERT_EQUAL(n, 10);
	for (uint16_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL((uintptr_t)out[i], i + 1);
	}
	xf_fault_fini(&f);
}

/* Random and bursty loss: counted apart, near their rates, the same for the same seed. */
static void
test_link_loss_seeded(void)
{
	static struct trace a, b;
	/* 1% random; bursts start at 0.25% per frame, last 4 frames, lose all: 0.99% */
	struct xf_fault_conf c = {
		.seed = 11,
		.rate_bps = 1000000000ull,
		.delay_ns = 2 * MS,
		.loss = 0.01,
		.ge = { .p_good_bad = 0.0025, .p_bad_good = 0.25, .loss_bad = 1.0 },
	};
	struct xf_fault f;
	struct xf_fault_stats sa;

	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	drive(&f, &a, N, 1514, 20 * US, 20 * US); /* 600 Mbit/s: no queue drops */
	sa = f.st;
	xf_fault_fini(&f);
	printf("\n    1%% random + 1%% bursty, seed 11: random %llu, burst %llu of %u",
	       (unsigned long long)sa.drop_random, (unsigned long long)sa.drop_burst, N);
	CU_ASSERT_EQUAL(sa.drop_queue + sa.drop_slots, 0);
	CU_ASSERT_EQUAL(sa.drop_random + sa.drop_burst, a.nb_drop);
	CU_ASSERT_EQUAL(a.nb_out + a.nb_drop, N);
	/* binomial sd about 14 for 200 of 20,000: 4 sd either side */
	CU_ASSERT(sa.drop_random >= 144 && sa.drop_random <= 256);
	/* bursts: the count varies more (about 50 bursts of about 4) */
	CU_ASSERT(sa.drop_burst >= 80 && sa.drop_burst <= 340);
	/* the same seed gives the same drops, another seed others */
	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	drive(&f, &b, N, 1514, 20 * US, 20 * US);
	CU_ASSERT(memcmp(a.fate, b.fate, sizeof(a.fate)) == 0);
	CU_ASSERT(memcmp(a.out_ns, b.out_ns, sizeof(a.out_ns)) == 0);
	CU_ASSERT(memcmp(&sa, &f.st, sizeof(sa)) == 0);
	xf_fault_fini(&f);
	c.seed = 12;
	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	drive(&f, &b, N, 1514, 20 * US, 20 * US);
	CU_ASSERT(memcmp(a.fate, b.fate, sizeof(a.fate)) != 0);
	xf_fault_fini(&f);
	/* turning reordering on leaves the link's drops as they were */
	c.seed = 11;
	c.reorder_p = 0.1;
	c.reorder_k = 3;
	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	drive(&f, &b, N, 1514, 20 * US, 20 * US);
	CU_ASSERT(memcmp(a.fate, b.fate, sizeof(a.fate)) == 0);
	CU_ASSERT(f.st.reordered > 0);
	CU_ASSERT(count_late(b.order, b.nb_out) > 0);
	xf_fault_fini(&f);
}

/* The slots hold the worst case: minimum-size frames at 10x the rate fill the queue and
 * the path, and the link never runs out of slots. Every frame leaves exactly once. */
static void
test_link_slots_bound(void)
{
	static struct trace t;
	struct xf_fault_conf c = { .seed = 5,
		                   .rate_bps = 10000000ull,
		                   .delay_ns = 50 * MS,
		                   .max_frame = 1514,
		                   .reorder_p = 0.05,
		                   .reorder_k = 2 };
	struct xf_fault f;

	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	/* 60 B at 10 Mbit/s is 48 us: offer one every 4.8 us */
	drive(&f, &t, N, 60, 4800, 4800);
	CU_ASSERT_EQUAL(f.st.drop_slots, 0);
	CU_ASSERT(f.st.drop_queue > 0);
	CU_ASSERT_EQUAL(t.nb_out + t.nb_drop, N);
	CU_ASSERT_EQUAL(f.st.frames, N);
	CU_ASSERT_EQUAL(f.st.delivered, t.nb_out);
	xf_fault_fini(&f);
}

/* What the stage still holds at stop comes back from xf_fault_drain(), exactly once. */
static void
test_link_drain(void)
{
	struct xf_fault_conf c = { .rate_bps = 1000000000ull,
		                   .delay_ns = 10 * MS,
		                   .reorder_p = 0.5,
		                   .reorder_k = 5,
		                   .seed = 9 };
	void *in[XF_FAULT_BURST], *out[XF_FAULT_OUT_MAX], *drop[XF_FAULT_DROP_MAX], *all[8];
	uint32_t sz[XF_FAULT_BURST];
	static uint8_t seen[4 * XF_FAULT_BURST + 1];
	unsigned int total = 0, k;
	struct xf_fault f;
	uint16_t nd, m;

	CU_ASSERT_FATAL(xf_fault_init(&f, &c, 0) == 0);
	for (uint32_t r = 0; r < 4; r++) {
		for (uint32_t i = 0; i < XF_FAULT_BURST; i++) {
			in[i] = (void *)(uintptr_t)(r * XF_FAULT_BURST + i + 1);
			sz[i] = 1000;
		}
		/* the second and third bursts go out 11 ms later: some are held back */
		m = xf_fault_apply(&f, r * 11 * MS, in, sz, XF_FAULT_BURST, out, drop, &nd);
		CU_ASSERT_EQUAL(nd, 0);
		for (uint16_t i = 0; i < m; i++) {
			seen[(uintptr_t)out[i]]++;
			total++;
		}
	}
	CU_ASSERT(f.nb_held > 0);
	while ((k = xf_fault_drain(&f, all, 8)) > 0) {
		for (unsigned int i = 0; i < k; i++) {
			seen[(uintptr_t)all[i]]++;
			total++;
		}
	}
	CU_ASSERT_EQUAL(total, 4 * XF_FAULT_BURST);
	for (uint32_t id = 1; id <= 4 * XF_FAULT_BURST; id++) {
		CU_ASSERT_EQUAL(seen[id], 1);
	}
	xf_fault_fini(&f);
}

static const struct xf_test tests[] = {
	{ "init", test_init },
	{ "off is identity", test_off_is_identity },
	{ "every frame released exactly once", test_permutation },
	{ "seeded determinism", test_deterministic },
	{ "reorder rate near p", test_rate },
	{ "held at most k arrivals", test_bound },
	{ "link: configuration and slot bound", test_link_check },
	{ "link: delay held exactly", test_link_delay },
	{ "link: rate shapes throughput", test_link_rate },
	{ "link: a full queue drops the tail", test_link_drop_tail },
	{ "link: seeded random and bursty loss", test_link_loss_seeded },
	{ "link: slots hold the worst case", test_link_slots_bound },
	{ "link: drain returns every frame once", test_link_drain },
};

int
main(void)
{
	return xf_test_main("fault", NULL, NULL, XF_TESTS(tests));
}
