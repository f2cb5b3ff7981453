/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-session reliability engine; see xf_reliab.h and docs/RELIABILITY.md. This file is the
 * sending side: the sent-frame table, loss detection, the probe timer and the pacer; the
 * receiving side (packet-number window, ACK ranges) is in xf_reliab_rx.c and congestion
 * control in xf_cc*.c; struct xf_reliab is in xf_reliab_priv.h.
 *
 * Sender: a ring of tx_slots records indexed by pn & (tx_slots - 1). tx_base is the
 * oldest tracked frame still in flight; a new tracked frame needs pn - tx_base < slots,
 * so the slot it takes always holds a settled record. Settled records stay in their slot
 * until it is reused, which is how a late ACK for a frame declared lost is recognised
 * (spurious). Lost numbers are also kept in an ascending ring so an ACK range below
 * tx_base is checked by binary search instead of a walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_reliab.h"
#include "xf_reliab_priv.h"

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static inline struct xf_reliab_sent *
slot_of(const struct xf_reliab *r, uint64_t pn)
{
	return &r->slots[pn & r->tx_mask];
}

static inline bool
in_flight(const struct xf_reliab *r, uint64_t pn)
{
	const struct xf_reliab_sent *s = slot_of(r, pn);

	return s->pn == pn && s->state == SLOT_INFLIGHT;
}

/* --- pacer ------------------------------------------------------------------------ */

static int64_t
pace_cost(uint64_t rate, uint32_t bytes)
{
	return (int64_t)((uint64_t)bytes * NS_PER_S / rate);
}

static int64_t
pace_credit_at(const struct xf_reliab *r, uint64_t now)
{
	int64_t c = r->pace_credit;

	if (now > r->pace_last) {
		uint64_t dt = now - r->pace_last;

		if (dt >= (uint64_t)(r->pace_cap - c)) {
			return r->pace_cap;
		}
		c += (int64_t)dt;
	}
	return c;
}

static bool
pace_valid(uint32_t burst, uint32_t frame_bytes)
{
	uint64_t bytes = (uint64_t)(burst ? burst : XF_RELIAB_DEFAULT_BURST) *
	                 (frame_bytes ? frame_bytes : XF_PAYLOAD_MAX);

	/* the cap in ns, burst bytes x 1e9 / rate, must fit for any rate >= 1 */
	return bytes <= (uint64_t)INT64_MAX / NS_PER_S;
}

static int
pace_configure(struct xf_reliab *r, uint64_t now, uint64_t rate, uint32_t burst,
               uint32_t frame_bytes)
{
	double bytes_credit = 0.0;
	uint64_t burst_bytes;
	int64_t cap;

	if (burst == 0) {
		burst = XF_RELIAB_DEFAULT_BURST;
	}
	if (frame_bytes == 0) {
		frame_bytes = XF_PAYLOAD_MAX;
	}
	if (!pace_valid(burst, frame_bytes)) {
		return -EINVAL;
	}
	burst_bytes = (uint64_t)burst * frame_bytes;
	r->pace_burst = burst;
	r->pace_frame_bytes = frame_bytes;
	if (r->pace_rate != 0) {
		/* Keep earned credit (or debt) across the change, as bytes. Control path. */
		bytes_credit = (double)pace_credit_at(r, now) * (double)r->pace_rate / 1e9;
	} else {
		bytes_credit = (double)burst_bytes; /* from unpaced: start with a full bucket */
	}
	r->pace_rate = rate;
	r->pace_burst_bytes = burst_bytes;
	r->pace_last = now;
	if (rate == 0) {
		r->pace_cap = 0;
		r->pace_credit = 0;
		return 0;
	}
	cap = (int64_t)(burst_bytes * NS_PER_S / rate);
	r->pace_cap = cap;
	if (bytes_credit > (double)burst_bytes) {
		bytes_credit = (double)burst_bytes;
	}
	if (bytes_credit < -(double)burst_bytes) {
		bytes_credit = -(double)burst_bytes;
	}
	r->pace_credit = (int64_t)(bytes_credit * 1e9 / (double)rate);
	if (r->pace_credit > cap) {
		r->pace_credit = cap;
	}
	if (r->pace_credit < -cap) {
		r->pace_credit = -cap;
	}
	return 0;
}

static void
pace_consume(struct xf_reliab *r, uint64_t now, uint32_t bytes)
{
	int64_t c;

	if (r->pace_rate == 0) {
		return;
	}
	c = pace_credit_at(r, now) - pace_cost(r->pace_rate, bytes);
	/* A caller that sends without asking xf_reliab_pace_next() runs a debt: keep it finite. */
	if (c < INT64_MIN / 4) {
		c = INT64_MIN / 4;
	}
	r->pace_credit = c;
	if (now > r->pace_last) {
		r->pace_last = now;
	}
}

uint64_t
xf_reliab_pace_next(const struct xf_reliab *r, uint64_t now, uint32_t bytes)
{
	int64_t c, need;

	if (r->pace_rate == 0) {
		return now;
	}
	c = pace_credit_at(r, now);
	need = XF_MIN(pace_cost(r->pace_rate, bytes), r->pace_cap);
	if (c >= need) {
		return now;
	}
	return now + (uint64_t)(need - c);
}

/* Follow the controller's rate (after every ACK and loss); cheap when it is unchanged. */
static void
pace_follow_cc(struct xf_reliab *r, uint64_t now)
{
	uint64_t rate = xf_cc_pacing_rate(&r->cc);

	if (r->cc.algo != XF_CC_FIXED && rate != r->pace_rate) {
		(void)pace_configure(r, now, rate, r->pace_burst, r->pace_frame_bytes);
	}
}

int
xf_reliab_pace_set(struct xf_reliab *r, uint64_t now, uint64_t rate, uint32_t burst,
                   uint32_t frame_bytes)
{
	if (r->cc.algo == XF_CC_FIXED) {
		r->cc.ceiling = rate;
		return pace_configure(r, now, rate, burst, frame_bytes);
	}
	if (!pace_valid(burst, frame_bytes)) {
		return -EINVAL;
	}
	r->cc.ceiling = rate;
	return pace_configure(r, now, xf_cc_pacing_rate(&r->cc), burst, frame_bytes);
}

/* --- lifecycle -------------------------------------------------------------------- */

struct xf_reliab *
xf_reliab_create(const struct xf_reliab_cfg *cfg, uint64_t now)
{
	struct xf_reliab_cfg c = *cfg;
	struct xf_reliab *r;

	if (c.tx_slots == 0) {
		c.tx_slots = XF_RELIAB_DEFAULT_SLOTS;
	}
	if (c.tx_slots_max == 0) {
		c.tx_slots_max = c.tx_slots;
	}
	if (c.rx_window == 0 && c.tx_slots_max <= UINT32_MAX / 4) {
		c.rx_window = XF_MAX(2 * c.tx_slots_max, XF_RELIAB_DEFAULT_WINDOW);
	}
	if (c.max_ack_delay_ns == 0) {
		c.max_ack_delay_ns = XF_RELIAB_MAX_ACK_DELAY_NS;
	}
	if (c.initial_rtt_ns == 0) {
		c.initial_rtt_ns = XF_RELIAB_INITIAL_RTT_NS;
	}
	if (!is_pow2(c.tx_slots) || !is_pow2(c.tx_slots_max) || c.tx_slots_max < c.tx_slots ||
	    !is_pow2(c.rx_window) || c.rx_window < 64 ||
	    !pace_valid(c.pace_burst, c.pace_frame_bytes) || c.initial_pn >= XF_RELIAB_PN_LIMIT ||
	    c.congestion > XF_CC_SCAVENGER) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		goto err;
	}
	r->slots = calloc(c.tx_slots_max, sizeof(*r->slots));
	if (r->slots == NULL) {
		goto err_free_r;
	}
	r->lost_pn = calloc(c.tx_slots_max, sizeof(*r->lost_pn));
	if (r->lost_pn == NULL) {
		goto err_free_slots;
	}
	r->rx_map = calloc(c.rx_window / 64, sizeof(*r->rx_map));
	if (r->rx_map == NULL) {
		goto err_free_lost;
	}
	r->cc_pkt = calloc(c.tx_slots_max, sizeof(*r->cc_pkt));
	if (r->cc_pkt == NULL) {
		goto err_free_rx;
	}
	r->cfg = c;
	r->tx_mask = c.tx_slots_max - 1;
	r->tx_limit = c.tx_slots;
	r->rx_bits = c.rx_window;
	r->next_pn = r->tx_base = c.initial_pn;
	r->srtt = c.initial_rtt_ns;
	r->rttvar = c.initial_rtt_ns / 2;
	r->last_sent = now;
	r->last_recv = now;
	xf_cc_init(&r->cc, (enum xf_cc_algo)c.congestion,
	           c.pace_frame_bytes ? c.pace_frame_bytes : XF_PAYLOAD_MAX, c.pace_rate,
	           c.initial_rtt_ns, c.cc_seed, now);
	(void)pace_configure(r, now, xf_cc_pacing_rate(&r->cc), c.pace_burst, c.pace_frame_bytes);
	return r;

err_free_rx:
	free(r->rx_map);
err_free_lost:
	free(r->lost_pn);
err_free_slots:
	free(r->slots);
err_free_r:
	free(r);
err:
	errno = ENOMEM;
	return NULL;
}

void
xf_reliab_drain(struct xf_reliab *r, xf_reliab_frame_fn fn, void *arg)
{
	for (uint64_t pn = r->tx_base; pn < r->next_pn; pn++) {
		struct xf_reliab_sent *s = &r->slots[pn & r->tx_mask];

		if (s->pn == pn && s->state == SLOT_INFLIGHT) {
			s->state = SLOT_LOST; /* given back: never reported again */
			fn(arg, s);
		}
	}
}

void
xf_reliab_destroy(struct xf_reliab *r)
{
	if (r == NULL) {
		return;
	}
	free(r->cc_pkt);
	free(r->rx_map);
	free(r->lost_pn);
	free(r->slots);
	free(r);
}

/* --- sender ----------------------------------------------------------------------- */

uint64_t
xf_reliab_next_pn(const struct xf_reliab *r)
{
	return r->next_pn;
}

bool
xf_reliab_can_send(const struct xf_reliab *r)
{
	return r->next_pn - r->tx_base < r->tx_limit && r->st.bytes_in_flight < xf_cc_cwnd(&r->cc);
}

uint64_t
xf_reliab_bytes_in_flight(const struct xf_reliab *r)
{
	return r->st.bytes_in_flight;
}

/* Move tx_base past settled and untracked numbers; each number is passed once. */
static void
advance_base(struct xf_reliab *r)
{
	while (r->tx_base < r->next_pn && !in_flight(r, r->tx_base)) {
		r->tx_base++;
	}
}

int
xf_reliab_on_sent(struct xf_reliab *r, uint64_t now, uint32_t bytes, void *handle, uint64_t tag,
                  unsigned int flags, uint64_t *pn)
{
	uint64_t n = r->next_pn;

	if (flags & XF_RELIAB_F_ACK_ELICITING) {
		struct xf_reliab_sent *s;

		if (!xf_reliab_can_send(r)) {
			return -ENOBUFS;
		}
		s = slot_of(r, n);
		s->pn = n;
		s->time_sent = now;
		s->handle = handle;
		s->tag = tag;
		s->bytes = bytes;
		s->state = SLOT_INFLIGHT;
		s->flags = (uint8_t)flags;
		xf_cc_on_sent(&r->cc, &r->cc_pkt[n & r->tx_mask], now, bytes,
		              r->st.bytes_in_flight);
		r->st.sent_tracked++;
		r->st.in_flight++;
		r->st.bytes_in_flight += bytes;
		r->last_eliciting_sent = now;
		/*
		 * Only tracked frames are paced and pay for it. ACK-only frames and probes are
		 * not congestion controlled (RFC 9002 7 and 7.5), and the controller's rate is
		 * measured from tracked frames alone: charged to it, a receiver's ACK stream
		 * (hundreds of KB/s against its few KB/s of COMMITs) ran a debt that held its
		 * control frames back for minutes (docs/RELIABILITY.md, "Loss on the return
		 * path").
		 */
		pace_consume(r, now, bytes);
	}
	if (flags & XF_RELIAB_F_RETRANSMIT) {
		r->st.retransmitted++;
	}
	if (flags & XF_RELIAB_F_PROBE) {
		r->st.probes++;
		r->probes_due -= r->probes_due > 0;
		r->probe_pn = n;
		r->probe_unacked = true;
		/* RFC 9002 6.2.1: the timer restarts when a probe is sent. */
		r->last_eliciting_sent = now;
	}
	r->next_pn = n + 1;
	if (r->tx_base == n && !(flags & XF_RELIAB_F_ACK_ELICITING)) {
		r->tx_base = n + 1; /* nothing older in flight and this one is not tracked */
	}
	r->st.sent++;
	r->last_sent = XF_MAX(r->last_sent, now);
	if (pn != NULL) {
		*pn = n;
	}
	return 0;
}

static void
rtt_update(struct xf_reliab *r, uint64_t latest, uint64_t ack_delay)
{
	uint64_t adjusted = latest;

	r->latest_rtt = latest;
	if (!r->rtt_sampled) {
		r->rtt_sampled = true;
		r->min_rtt = latest;
		r->srtt = latest;
		r->rttvar = latest / 2;
		return;
	}
	r->min_rtt = XF_MIN(r->min_rtt, latest);
	ack_delay = XF_MIN(ack_delay, r->cfg.max_ack_delay_ns);
	/* Only subtract the peer's delay if that cannot take the sample below min_rtt. */
	if (latest >= r->min_rtt + ack_delay) {
		adjusted = latest - ack_delay;
	}
	{
		uint64_t diff = r->srtt > adjusted ? r->srtt - adjusted : adjusted - r->srtt;

		r->rttvar = (3 * r->rttvar + diff) / 4;
		r->srtt = (7 * r->srtt + adjusted) / 8;
	}
}

static void
lost_push(struct xf_reliab *r, uint64_t pn)
{
	uint64_t cap = r->tx_mask + 1;

	if (r->lost_n > 0 && r->lost_pn[(r->lost_head + r->lost_n - 1) & r->tx_mask] >= pn) {
		return; /* keep the ring ascending; only costs spurious detection for pn */
	}
	if (r->lost_n == cap) {
		r->lost_head = (r->lost_head + 1) & r->tx_mask;
		r->lost_n--;
	}
	r->lost_pn[(r->lost_head + r->lost_n) & r->tx_mask] = pn;
	r->lost_n++;
}

static void
declare_lost(struct xf_reliab *r, struct xf_reliab_sent *s, uint64_t now)
{
	s->state = SLOT_LOST;
	r->st.in_flight--;
	r->st.bytes_in_flight -= s->bytes;
	r->st.lost++;
	lost_push(r, s->pn);
	xf_cc_on_lost(&r->cc, &r->cc_pkt[s->pn & r->tx_mask], now, r->st.bytes_in_flight);
	if (r->cfg.on_lost != NULL) {
		r->cfg.on_lost(r->cfg.cb_arg, s);
	}
}

static uint64_t
loss_delay(const struct xf_reliab *r)
{
	uint64_t rtt = XF_MAX(r->srtt, r->latest_rtt);

	return XF_MAX(rtt + rtt / 8, XF_RELIAB_GRANULARITY_NS);
}

/* RFC 9002 section 6.1: both thresholds, for numbers up to the largest acknowledged. */
static unsigned int
detect_lost(struct xf_reliab *r, uint64_t now)
{
	uint64_t delay = loss_delay(r);
	uint64_t end, pn;
	unsigned int n = 0;

	r->loss_time = 0;
	if (!r->any_acked) {
		return 0;
	}
	end = XF_MIN(r->largest_acked, r->next_pn - 1);
	for (pn = r->tx_base; pn <= end && pn < r->next_pn; pn++) {
		struct xf_reliab_sent *s = slot_of(r, pn);

		if (s->pn != pn || s->state != SLOT_INFLIGHT) {
			continue;
		}
		if (now >= s->time_sent + delay ||
		    r->largest_acked - pn >= XF_RELIAB_PKT_THRESHOLD) {
			declare_lost(r, s, now);
			n++;
		} else if (r->loss_time == 0 || s->time_sent + delay < r->loss_time) {
			r->loss_time = s->time_sent + delay;
		}
	}
	advance_base(r);
	return n;
}

static void
mark_spurious(struct xf_reliab *r, struct xf_reliab_sent *s)
{
	s->state = SLOT_SPURIOUS;
	r->st.spurious++;
	if (r->cfg.on_spurious != NULL) {
		r->cfg.on_spurious(r->cfg.cb_arg, s);
	}
}

/* A range below tx_base can only concern frames declared lost: look them up. */
static void
check_spurious(struct xf_reliab *r, uint64_t first, uint64_t last)
{
	uint64_t lo = 0, hi = r->lost_n;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (r->lost_pn[(r->lost_head + mid) & r->tx_mask] < first) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	for (; lo < r->lost_n; lo++) {
		uint64_t pn = r->lost_pn[(r->lost_head + lo) & r->tx_mask];
		struct xf_reliab_sent *s;

		if (pn > last) {
			break;
		}
		s = slot_of(r, pn);
		if (s->pn == pn && s->state == SLOT_LOST) {
			mark_spurious(r, s);
		}
	}
}

static int
ack_validate(const struct xf_reliab *r, uint64_t largest, const struct xf_ack_range *ranges,
             unsigned int count)
{
	unsigned int i;

	if (count == 0 || count > XF_ACK_RANGES || ranges[0].last != largest) {
		return -EINVAL;
	}
	for (i = 0; i < count; i++) {
		if (ranges[i].first > ranges[i].last) {
			return -EINVAL;
		}
		/* descending with a gap of at least one number */
		if (i > 0 && ranges[i].last + 1 >= ranges[i - 1].first) {
			return -EINVAL;
		}
	}
	if (largest >= r->next_pn) {
		return -EPROTO;
	}
	return 0;
}

/*
 * Windows sized to the path: the table in use grows (never shrinks) to hold twice the
 * measured BDP, the delivery rate of this ACK's sample x min RTT, in full frames, and
 * never less than the controller's window, up to the records allocated (tx_slots_max).
 * While the table is what limits the flight, the rate it delivers is table / RTT, so
 * 2 x BDP doubles it once per round until the path, not the table, is the limit
 * (docs/RELIABILITY.md, "Windows sized to the path"). No allocation: a bigger limit
 * only lets more of the ring be used.
 */
static void
grow_window(struct xf_reliab *r)
{
	uint64_t rate = r->cc.rate.rs.delivery_rate, want, frames;
	uint32_t frame = r->cc.smss;

	if (r->tx_limit > r->tx_mask || rate == 0 || !r->rtt_sampled) {
		return;
	}
	want = 2 * xf_cc_muldiv(rate, r->min_rtt, NS_PER_S);
	if (xf_cc_cwnd(&r->cc) != UINT64_MAX && xf_cc_cwnd(&r->cc) > want) {
		want = xf_cc_cwnd(&r->cc);
	}
	frames = want / frame + 1;
	while (r->tx_limit < frames && r->tx_limit <= (r->tx_mask + 1) / 2) {
		r->tx_limit *= 2;
	}
}

int
xf_reliab_on_ack(struct xf_reliab *r, uint64_t now, uint64_t largest, uint32_t ack_delay_us,
                 const struct xf_ack_range *ranges, unsigned int count)
{
	bool newly_acked = false;
	bool probe_acked = false;
	uint64_t largest_sent_time = 0, rtt_sample = 0;
	bool largest_newly = false;
	unsigned int i;
	int rc;

	rc = ack_validate(r, largest, ranges, count);
	if (rc != 0) {
		return rc;
	}
	r->st.acks_received++;
	for (i = 0; i < count; i++) {
		uint64_t a = ranges[i].first;
		uint64_t b = ranges[i].last;
		uint64_t pn;

		if (r->probe_unacked && a <= r->probe_pn && r->probe_pn <= b) {
			probe_acked = true;
		}
		if (a < r->tx_base) {
			/* slots are checked by number, so a reused slot is never mistaken */
			check_spurious(r, a, XF_MIN(b, r->tx_base - 1));
			a = r->tx_base;
		}
		/*
		 * From tx_base up every number is walked; this stays short because after loss
		 * detection nothing unsettled is left more than the packet threshold below the
		 * largest acknowledged, so only new numbers and a few older ones are visited.
		 */
		for (pn = a; pn <= b; pn++) {
			struct xf_reliab_sent *s = slot_of(r, pn);

			if (s->pn != pn) {
				continue;
			}
			if (s->state == SLOT_INFLIGHT) {
				s->state = SLOT_ACKED;
				r->st.in_flight--;
				r->st.bytes_in_flight -= s->bytes;
				r->st.acked++;
				newly_acked = true;
				xf_cc_on_acked(&r->cc, &r->cc_pkt[pn & r->tx_mask], now);
				if (pn == largest) {
					largest_newly = true;
					largest_sent_time = s->time_sent;
				}
				if (r->cfg.on_acked != NULL) {
					r->cfg.on_acked(r->cfg.cb_arg, s);
				}
			} else if (s->state == SLOT_LOST) {
				mark_spurious(r, s);
			}
		}
	}
	if (!r->any_acked || largest > r->largest_acked) {
		r->largest_acked = largest;
		r->any_acked = true;
	}
	if (largest_newly && now >= largest_sent_time) {
		rtt_sample = now - largest_sent_time;
		rtt_update(r, rtt_sample, (uint64_t)ack_delay_us * 1000u);
	}
	/*
	 * The peer answered: the backoff resets (RFC 9002 A.7, on an ACK that newly
	 * acknowledges an ack-eliciting packet). Our probes are ack-eliciting but untracked,
	 * so the ACK of the last one counts too, as the ACK of a probe does in RFC 9002:
	 * otherwise a peer that answers every probe but does not take the frames in flight
	 * (its acknowledgement of them lost, or a session it has not confirmed yet) would
	 * double the timeout at each round, 2^7 times the base after 7 of them.
	 */
	if (newly_acked || probe_acked) {
		r->pto_backoff = 0;
		r->probes_due = 0; /* the peer answered: a probe not sent yet is not needed */
		r->probe_unacked = false;
	}
	detect_lost(r, now);
	xf_cc_on_ack_end(&r->cc, now, rtt_sample, r->srtt, r->st.bytes_in_flight);
	grow_window(r);
	pace_follow_cc(r, now);
	return 0;
}

static uint64_t
pto_deadline(const struct xf_reliab *r)
{
	uint64_t period =
	        r->srtt + XF_MAX(4 * r->rttvar, XF_RELIAB_GRANULARITY_NS) + r->cfg.max_ack_delay_ns;
	unsigned int shift = XF_MIN(r->pto_backoff, 16u);

	return r->last_eliciting_sent + (period << shift);
}

uint64_t
xf_reliab_loss_deadline(const struct xf_reliab *r)
{
	if (r->loss_time != 0) {
		return r->loss_time;
	}
	if (r->st.in_flight > 0) {
		return pto_deadline(r);
	}
	return XF_RELIAB_NEVER;
}

unsigned int
xf_reliab_on_timeout(struct xf_reliab *r, uint64_t now)
{
	unsigned int n = 0;
	uint64_t pn;

	if (r->loss_time != 0) {
		if (now < r->loss_time) {
			return 0;
		}
		n = detect_lost(r, now);
		pace_follow_cc(r, now);
		return n;
	}
	if (r->st.in_flight == 0 || now < pto_deadline(r)) {
		return 0;
	}
	r->st.pto++;
	r->pto_backoff++;
	r->st.pto_backoff_max = XF_MAX(r->st.pto_backoff_max, r->pto_backoff);
	if (r->any_acked) {
		/*
		 * RFC 9002 6.2.4: probe, declare nothing. The peer answers a probe as soon as
		 * it reads it; then thresholds settle every frame below it. Were the frames in
		 * flight declared lost here, a receiver that is only slow (its ring full
		 * behind a stalled pipeline, its process descheduled) would get them twice: on
		 * a lossless link every retransmission was one of those (docs/RELIABILITY.md,
		 * "Lossless links").
		 */
		r->probes_due = XF_RELIAB_PTO_FRAMES;
		/*
		 * And our ACK goes with them, as a QUIC probe packet carries the ACK frame: if
		 * the peer's frames are in flight because our ACK of them was lost, this one
		 * settles them in the same round trip instead of at the peer's own timeout (a
		 * receiver refuses data until our ACK of its HELLO_ACK arrives; its first
		 * timeout, from the initial RTT, is a second away).
		 */
		if (r->rx_any) {
			r->ack_now = true;
		}
		return 0;
	}
	/* The handshake: nothing answers a PING before the session exists on both sides,
	 * so the oldest frames (the HELLO, the HELLO_ACK) are sent again instead. */
	for (pn = r->tx_base; pn < r->next_pn && n < XF_RELIAB_PTO_FRAMES; pn++) {
		struct xf_reliab_sent *s = slot_of(r, pn);

		if (s->pn == pn && s->state == SLOT_INFLIGHT) {
			declare_lost(r, s, now);
			n++;
		}
	}
	advance_base(r);
	pace_follow_cc(r, now);
	return n;
}

/* --- congestion control ---------------------------------------------------------- */

void
xf_reliab_app_limited(struct xf_reliab *r)
{
	xf_cc_app_limited(&r->cc, r->st.bytes_in_flight);
}

void
xf_reliab_cc_info(const struct xf_reliab *r, struct xf_cc_info *info)
{
	xf_cc_info(&r->cc, info);
	if (info->min_rtt_ns == 0 && r->rtt_sampled) {
		info->min_rtt_ns = r->min_rtt;
	}
}

/* --- session timers --------------------------------------------------------------- */

bool
xf_reliab_keepalive_due(const struct xf_reliab *r, uint64_t now)
{
	/*
	 * From what we sent only: the keep-alive is for the peer's idle timer, and hearing
	 * from the peer tells the peer nothing. From the later of sent and received, a peer
	 * whose own keep-alive (an ACK, which we do not answer) arrived every interval just
	 * ahead of ours put ours off, and its idle timer expired with both sides alive.
	 */
	return r->cfg.keepalive_ns != 0 && now >= r->last_sent + r->cfg.keepalive_ns;
}

bool
xf_reliab_idle_expired(const struct xf_reliab *r, uint64_t now)
{
	return xf_reliab_idle_expired_since(r, now, 0);
}

bool
xf_reliab_idle_expired_since(const struct xf_reliab *r, uint64_t now, uint64_t since)
{
	return r->cfg.idle_timeout_ns != 0 &&
	       now >= XF_MAX(r->last_recv, since) + r->cfg.idle_timeout_ns;
}

unsigned int
xf_reliab_probes_due(const struct xf_reliab *r)
{
	return r->probes_due;
}

uint64_t
xf_reliab_next_deadline(const struct xf_reliab *r)
{
	uint64_t d = XF_MIN(xf_reliab_loss_deadline(r), xf_reliab_ack_deadline(r));

	if (r->probes_due > 0) {
		return 0;
	}

	if (r->cfg.keepalive_ns != 0) {
		d = XF_MIN(d, r->last_sent + r->cfg.keepalive_ns);
	}
	if (r->cfg.idle_timeout_ns != 0) {
		d = XF_MIN(d, r->last_recv + r->cfg.idle_timeout_ns);
	}
	return d;
}

void
xf_reliab_stats(const struct xf_reliab *r, struct xf_reliab_stats *stats)
{
	*stats = r->st;
	stats->pto_backoff = r->pto_backoff;
	stats->latest_rtt_ns = r->latest_rtt;
	stats->min_rtt_ns = r->rtt_sampled ? r->min_rtt : 0;
	stats->smoothed_rtt_ns = r->srtt;
	stats->rttvar_ns = r->rttvar;
	stats->tx_window = (uint32_t)r->tx_limit;
	xf_cc_info(&r->cc, &stats->cc);
}
