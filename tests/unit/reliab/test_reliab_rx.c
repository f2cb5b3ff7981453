/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the reliability engine: on the receiving side, duplicate detection, numbers ahead
 * of the window, ACK range generation against a naive reference, and ACK scheduling.
 */
#include "xf_reliab_test.h"

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

void
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
 * rx_missing: the peer's numbers skipped (its frames lost on the way, ACKs included), less
 * those that arrived late. Over a link that only delays, it ends at 0; this is what told
 * a drop that nftables retried inside the sender's kernel from a loss.
 */
void
test_rx_missing(void)
{
	struct xf_reliab_cfg cfg = { .rx_window = 64 };
	struct xf_reliab *r = mk(&cfg, NULL);
	struct xf_reliab_stats st;

	accept_range(r, 100, 105); /* the first number is free: nothing missing */
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.rx_missing, 0);
	xf_reliab_rx_accept(r, 0, 108, true);  /* 105..107 skipped */
	xf_reliab_rx_accept(r, 0, 110, false); /* 109; an ACK counts as any frame */
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.rx_missing, 4);
	xf_reliab_rx_accept(r, 0, 106, true); /* late: fills its gap */
	xf_reliab_rx_accept(r, 0, 106, true); /* accepted once only */
	CU_ASSERT_EQUAL(xf_reliab_rx_filter(r, 0, 106, true), -EALREADY);
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.rx_missing, 3);
	xf_reliab_rx_accept(r, 0, 111, true); /* in order */
	xf_reliab_stats(r, &st);
	CU_ASSERT_EQUAL(st.rx_missing, 3);
	CU_ASSERT_EQUAL(st.received, 9);
	xf_reliab_destroy(r);
}

/*
 * One spoofed frame numbered 2^64-1 must not turn the peer's next frames into
 * duplicates: it is refused (and counted), nothing slides, and the session goes on. The
 * farthest number still accepted slides the window no higher than the largest + 1, so
 * every number the peer has not sent yet stays new.
 */
void
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
void
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

void
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
void
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

void
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
