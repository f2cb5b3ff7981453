/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Simulated-time WAN scenarios; see xf_wansim.h. Frames on the links are records of two
 * pools (data, ACK) handed to the links as opaque pointers; a record carries a reference
 * count because a duplicating link hands the same pointer out twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xf_base.h"
#include "xf_reliab.h"
#include "xf_wansim.h"

#define NS_PER_S      UINT64_C(1000000000)
#define BATCH         64u
#define BACK_SLOTS    4096u /* ACK records carry 64 ranges: keep that pool small */
#define DEFAULT_LIMIT (600ull * NS_PER_S)
#define RENO_INIT     10u /* frames: RFC 6928 initial window */

struct data_rec {
	uint64_t pn;
	uint64_t chunk;
	uint32_t refs;
	uint32_t flow;
};

struct ack_rec {
	uint64_t largest;
	uint32_t delay_us;
	uint32_t nranges;
	uint32_t refs;
	struct xf_ack_range ranges[XF_ACK_RANGES];
};

/* A free list of record indices (next[] beside the records, NONE-terminated). */
struct freelist {
	uint32_t head;
	uint32_t *next;
};

struct sim;

/* One sender and its receiver: two engines, the ACK link, the books of the transfer. */
struct flow {
	struct sim *sim;
	struct xf_wansim_flow_result *res;
	struct xf_reliab *tx, *rx;
	struct xf_linksim *back;
	struct ack_rec *acks;
	struct freelist acks_free;
	uint64_t start_ns;
	uint64_t frames;
	bool reno;

	/* sender */
	uint64_t next_chunk;
	uint64_t *retx; /* ring of chunks to send again, capacity frames */
	uint64_t retx_head, retx_n;
	uint8_t *tx_acked;
	uint64_t acked_count;

	/* Reno (RFC 5681), in bytes; recovery ends once a frame sent after the cut is acked */
	uint64_t reno_cwnd, reno_ssthresh, reno_recover_until;

	/* receiver */
	uint8_t *rx_have;
	uint64_t rx_count;
	uint64_t rx_last_new;
};

struct sim {
	struct xf_wansim_cfg cfg;
	struct xf_wansim_result *res;
	struct xf_linksim *fwd;
	struct data_rec *data;
	struct freelist data_free;
	unsigned int nflows;
	struct flow flows[XF_WANSIM_MAX_FLOWS];
};

#define NONE UINT32_MAX

static uint32_t
fl_get(struct freelist *f)
{
	uint32_t i = f->head;

	if (i != NONE) {
		f->head = f->next[i];
	}
	return i;
}

static void
fl_put(struct freelist *f, uint32_t i)
{
	f->next[i] = f->head;
	f->head = i;
}

static void
data_put(struct sim *s, struct data_rec *d)
{
	if (--d->refs == 0) {
		fl_put(&s->data_free, (uint32_t)(d - s->data));
	}
}

static void
ack_put(struct flow *fl, struct ack_rec *a)
{
	if (--a->refs == 0) {
		fl_put(&fl->acks_free, (uint32_t)(a - fl->acks));
	}
}

static void
mark_acked(struct flow *fl, uint64_t chunk)
{
	if (!fl->tx_acked[chunk]) {
		fl->tx_acked[chunk] = 1;
		fl->acked_count++;
	}
}

static void
on_acked(void *arg, const struct xf_reliab_sent *f)
{
	struct flow *fl = arg;

	mark_acked(fl, f->tag);
	if (fl->reno) {
		uint32_t mss = fl->sim->cfg.frame_bytes;

		/* slow start below ssthresh, then one frame per window (RFC 5681 3.1) */
		if (fl->reno_cwnd < fl->reno_ssthresh) {
			fl->reno_cwnd += f->bytes;
		} else {
			fl->reno_cwnd += (uint64_t)mss * mss / fl->reno_cwnd;
		}
	}
}

/* Acknowledged after it was declared lost: the receiver has it after all. */
static void
on_spurious(void *arg, const struct xf_reliab_sent *f)
{
	mark_acked(arg, f->tag);
}

static void
on_lost(void *arg, const struct xf_reliab_sent *f)
{
	struct flow *fl = arg;

	if (!fl->tx_acked[f->tag] && fl->retx_n < fl->frames) {
		fl->retx[(fl->retx_head + fl->retx_n) % fl->frames] = f->tag;
		fl->retx_n++;
	}
	/* Reno halves once per loss event: not again for frames sent before the cut */
	if (fl->reno && f->pn >= fl->reno_recover_until) {
		uint64_t floor = 2ull * fl->sim->cfg.frame_bytes;

		fl->reno_ssthresh = XF_MAX(xf_reliab_bytes_in_flight(fl->tx) / 2, floor);
		fl->reno_cwnd = fl->reno_ssthresh;
		fl->reno_recover_until = xf_reliab_next_pn(fl->tx);
	}
}

/* The link holds the record once, twice (duplicated) or not at all (dropped). */
static uint32_t
refs_of(int verdict)
{
	return verdict == XF_LINKSIM_ACCEPTED ? 1 : verdict == XF_LINKSIM_DUPLICATED ? 2 : 0;
}

static bool
sender_has_data(struct flow *fl)
{
	/* retransmissions of frames acknowledged meanwhile are skipped */
	while (fl->retx_n > 0 && fl->tx_acked[fl->retx[fl->retx_head]]) {
		fl->retx_head = (fl->retx_head + 1) % fl->frames;
		fl->retx_n--;
	}
	return fl->retx_n > 0 || fl->next_chunk < fl->frames;
}

static bool
window_open(struct flow *fl)
{
	if (!xf_reliab_can_send(fl->tx)) {
		return false;
	}
	return !fl->reno ||
	       xf_reliab_bytes_in_flight(fl->tx) + fl->sim->cfg.frame_bytes <= fl->reno_cwnd;
}

/* A probe's record: no chunk, answered by an immediate ACK (a PING with ACKNOW). */
#define PROBE_CHUNK UINT64_MAX

static void
link_send(struct sim *s, struct data_rec *d, uint64_t now, uint32_t bytes)
{
	int v = xf_linksim_enqueue(s->fwd, now, bytes, d);

	if (d->chunk == PROBE_CHUNK && d->flow == 0) {
		s->res->probes_lost += v >= XF_LINKSIM_DROP_QUEUE; /* dropped on the way in */
	}
	d->refs = refs_of(v);
	if (d->refs == 0) {
		d->refs = 1;
		data_put(s, d);
	}
}

/* The probes a probe timeout asks for (RFC 9002 6.2.4), sent as the push sends them:
 * small, untracked, not paced, acknowledged at once by the receiver. */
static void
sender_probe(struct flow *fl, uint64_t now)
{
	struct sim *s = fl->sim;

	while (xf_reliab_probes_due(fl->tx) > 0) {
		uint32_t i = fl_get(&s->data_free);

		if (i == NONE) {
			return;
		}
		s->data[i].chunk = PROBE_CHUNK;
		s->data[i].flow = (uint32_t)(fl - s->flows);
		s->data[i].pn = xf_reliab_next_pn(fl->tx);
		(void)xf_reliab_on_sent(fl->tx, now, s->cfg.ack_bytes, NULL, 0, XF_RELIAB_F_PROBE,
		                        NULL);
		if (fl == s->flows) {
			s->res->probes++;
		}
		link_send(s, &s->data[i], now, s->cfg.ack_bytes);
	}
}

static void
sender_send(struct flow *fl, uint64_t now)
{
	struct sim *s = fl->sim;

	if (now < fl->start_ns) {
		return;
	}
	sender_probe(fl, now);
	if (!sender_has_data(fl)) {
		xf_reliab_app_limited(fl->tx);
	}
	while (sender_has_data(fl) && window_open(fl) &&
	       xf_reliab_pace_next(fl->tx, now, s->cfg.frame_bytes) <= now) {
		unsigned int flags = XF_RELIAB_F_ACK_ELICITING;
		uint32_t i = fl_get(&s->data_free);
		uint64_t chunk;

		if (i == NONE) {
			return; /* every record is on the link: wait for deliveries */
		}
		if (fl->retx_n > 0) {
			chunk = fl->retx[fl->retx_head];
			fl->retx_head = (fl->retx_head + 1) % fl->frames;
			fl->retx_n--;
			flags |= XF_RELIAB_F_RETRANSMIT;
		} else {
			chunk = fl->next_chunk++;
		}
		s->data[i].chunk = chunk;
		s->data[i].flow = (uint32_t)(fl - s->flows);
		(void)xf_reliab_on_sent(fl->tx, now, s->cfg.frame_bytes, NULL, chunk, flags,
		                        &s->data[i].pn);
		link_send(s, &s->data[i], now, s->cfg.frame_bytes);
	}
}

static void
receiver_ack(struct flow *fl, uint64_t now)
{
	struct ack_rec *a;
	uint32_t i;
	int v;

	if (xf_reliab_ack_deadline(fl->rx) > now) {
		return;
	}
	i = fl_get(&fl->acks_free);
	if (i == NONE) {
		return; /* the back link holds every record; it drains by itself */
	}
	a = &fl->acks[i];
	a->nranges = xf_reliab_ack_build(fl->rx, now, a->ranges, &a->largest, &a->delay_us);
	if (a->nranges == 0) {
		a->refs = 1;
		ack_put(fl, a);
		return;
	}
	xf_reliab_ack_sent(fl->rx);
	v = xf_linksim_enqueue(fl->back, now, fl->sim->cfg.ack_bytes + 16u * (a->nranges - 1), a);
	a->refs = refs_of(v);
	if (a->refs == 0) {
		a->refs = 1;
		ack_put(fl, a);
	}
}

static void
deliver_acks(struct flow *fl, uint64_t now)
{
	struct xf_linksim_pkt out[BATCH];
	unsigned int n;

	do {
		n = xf_linksim_dequeue(fl->back, now, out, BATCH);
		for (unsigned int k = 0; k < n; k++) {
			struct ack_rec *a = out[k].opaque;

			if (!out[k].lost) {
				(void)xf_reliab_on_ack(fl->tx, now, a->largest, a->delay_us,
				                       a->ranges, a->nranges);
			}
			ack_put(fl, a);
		}
	} while (n == BATCH);
}

static void
record_queue_delay(struct sim *s, uint64_t now, uint64_t delay)
{
	uint64_t b = now / XF_WANSIM_BUCKET_NS;

	if (now >= s->cfg.qwin_from_ns && (s->cfg.qwin_to_ns == 0 || now < s->cfg.qwin_to_ns)) {
		uint64_t bin = delay / XF_WANSIM_QHIST_NS;

		s->res->qwin_hist[bin < XF_WANSIM_QHIST_BINS ? bin : XF_WANSIM_QHIST_BINS - 1]++;
	}
	if (b < XF_WANSIM_BUCKETS && delay > s->res->queue_max_ns[b]) {
		s->res->queue_max_ns[b] = delay;
	}
}

static void
receive_data(struct flow *fl, struct data_rec *d, uint64_t now)
{
	struct sim *s = fl->sim;
	uint64_t b = now / XF_WANSIM_BUCKET_NS;

	if (d->chunk == PROBE_CHUNK) {
		if (fl == s->flows) {
			s->res->probes_delivered++;
		}
		if (xf_reliab_rx_filter(fl->rx, now, d->pn, true) == 0) {
			xf_reliab_rx_accept(fl->rx, now, d->pn, true);
		}
		xf_reliab_ack_now(fl->rx);
		return;
	}
	if (xf_reliab_rx_filter(fl->rx, now, d->pn, true) != 0) {
		return;
	}
	if (!fl->rx_have[d->chunk]) {
		fl->rx_have[d->chunk] = 1;
		if (fl->rx_count++ == 0) {
			fl->res->first_ns = now;
		}
		fl->rx_last_new = now;
		if (b < XF_WANSIM_BUCKETS) {
			s->res->delivered_bytes[b] += s->cfg.frame_bytes;
			fl->res->delivered_bytes[b] += s->cfg.frame_bytes;
		}
	}
	xf_reliab_rx_accept(fl->rx, now, d->pn, true);
}

static void
deliver(struct sim *s, uint64_t now)
{
	struct xf_linksim_pkt out[BATCH];
	unsigned int n;

	for (unsigned int f = 0; f < s->nflows; f++) {
		deliver_acks(&s->flows[f], now);
	}
	do {
		n = xf_linksim_dequeue(s->fwd, now, out, BATCH);
		for (unsigned int k = 0; k < n; k++) {
			struct data_rec *d = out[k].opaque;
			struct flow *fl = &s->flows[d->flow];

			if (out[k].lost) {
				if (fl == s->flows) {
					s->res->probes_lost += d->chunk == PROBE_CHUNK;
				}
				data_put(s, d);
				continue;
			}
			record_queue_delay(s, now, out[k].queue_delay_ns);
			receive_data(fl, d, now);
			data_put(s, d);
			/* an ACK due at once goes before the next frame is looked at */
			receiver_ack(fl, now);
		}
	} while (n == BATCH);
}

static uint64_t
min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

static uint64_t
flow_next_time(struct flow *fl, uint64_t now)
{
	uint64_t t = min3(xf_linksim_next_time(fl->back), xf_reliab_ack_deadline(fl->rx),
	                  xf_reliab_loss_deadline(fl->tx));

	if (now < fl->start_ns) {
		return XF_MIN(t, fl->start_ns);
	}
	if (sender_has_data(fl) && window_open(fl) && fl->sim->data_free.head != NONE) {
		t = XF_MIN(t, xf_reliab_pace_next(fl->tx, now, fl->sim->cfg.frame_bytes));
	}
	return t;
}

static uint64_t
next_time(struct sim *s, uint64_t now)
{
	uint64_t t = xf_linksim_next_time(s->fwd);

	for (unsigned int f = 0; f < s->nflows; f++) {
		t = XF_MIN(t, flow_next_time(&s->flows[f], now));
	}
	return t < now ? now : t;
}

static uint64_t
cwnd_of(const struct flow *fl)
{
	struct xf_cc_info info;

	if (fl->reno) {
		return fl->reno_cwnd;
	}
	xf_reliab_cc_info(fl->tx, &info);
	return info.cwnd;
}

static void
run(struct sim *s)
{
	uint64_t now = 0;
	uint64_t limit = s->cfg.time_limit_ns ? s->cfg.time_limit_ns : DEFAULT_LIMIT;

	for (;;) {
		bool all_done = true;

		s->res->events++;
		deliver(s, now);
		for (unsigned int f = 0; f < s->nflows; f++) {
			struct flow *fl = &s->flows[f];

			receiver_ack(fl, now);
			if (xf_reliab_loss_deadline(fl->tx) <= now) {
				(void)xf_reliab_on_timeout(fl->tx, now);
			}
			fl->res->completed = fl->acked_count == fl->frames;
			all_done = all_done && fl->res->completed;
		}
		if (all_done) {
			s->res->completed = true;
			return;
		}
		for (unsigned int f = 0; f < s->nflows; f++) {
			sender_send(&s->flows[f], now);
		}
		if (cwnd_of(s->flows) > s->res->max_cwnd && cwnd_of(s->flows) != UINT64_MAX) {
			s->res->max_cwnd = cwnd_of(s->flows);
		}
		now = next_time(s, now);
		if (now == XF_RELIAB_NEVER || now > limit) {
			return;
		}
	}
}

/* The upper edge of the bin holding the pct-th percentile frame. */
static uint64_t
hist_pct(const uint32_t *hist, double pct)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned int i = 0; i < XF_WANSIM_QHIST_BINS; i++) {
		total += hist[i];
	}
	if (total == 0) {
		return 0;
	}
	want = (uint64_t)((double)total * pct / 100.0);
	for (unsigned int i = 0; i < XF_WANSIM_QHIST_BINS; i++) {
		seen += hist[i];
		if (seen > want) {
			return i == 0 ? 0 : (uint64_t)(i + 1) * XF_WANSIM_QHIST_NS;
		}
	}
	return (uint64_t)XF_WANSIM_QHIST_BINS * XF_WANSIM_QHIST_NS;
}

static void
collect(struct sim *s)
{
	struct xf_wansim_result *r = s->res;
	struct flow *fl = s->flows;
	struct xf_reliab_stats st;

	for (unsigned int f = 0; f < s->nflows; f++) {
		xf_reliab_stats(s->flows[f].tx, &st);
		s->flows[f].res->frames = s->flows[f].frames;
		s->flows[f].res->retransmitted = st.retransmitted;
		s->flows[f].res->elapsed_ns = s->flows[f].rx_last_new;
		xf_reliab_cc_info(s->flows[f].tx, &s->flows[f].res->cc);
	}
	r->nb_flows = s->nflows;
	r->frames = fl->frames;
	xf_reliab_stats(fl->tx, &st);
	r->sent = st.sent_tracked;
	r->retransmitted = st.retransmitted;
	r->spurious = st.spurious;
	r->pto = st.pto;
	r->tx_window = st.tx_window;
	r->retransmit_pm = (uint32_t)(r->retransmitted * 1000u / r->frames);
	xf_reliab_stats(fl->rx, &st);
	r->rx_duplicates = st.duplicates;
	r->rx_pn_ahead = st.pn_ahead;
	r->acks = st.acks_sent;
	r->elapsed_ns = fl->rx_last_new;
	if (r->elapsed_ns > 0) {
		r->goodput_bps = (uint64_t)((double)fl->rx_count * s->cfg.frame_bytes * 8.0 *
		                            (double)NS_PER_S / (double)r->elapsed_ns);
	}
	if (s->cfg.fwd.rate_bps > 0) {
		r->goodput_pm = (uint32_t)(r->goodput_bps * 1000u / s->cfg.fwd.rate_bps);
	}
	r->queue_p50_ns = xf_linksim_queue_delay_pct(s->fwd, 50.0);
	r->queue_p99_ns = xf_linksim_queue_delay_pct(s->fwd, 99.0);
	xf_linksim_stats(s->fwd, &r->fwd);
	xf_linksim_stats(fl->back, &r->back);
	r->max_queue_bytes = r->fwd.max_queued_bytes;
	r->acked_bytes = fl->acked_count * s->cfg.frame_bytes;
	xf_reliab_cc_info(fl->tx, &r->cc);
	r->qwin_p50_ns = hist_pct(r->qwin_hist, 50.0);
	r->qwin_p99_ns = hist_pct(r->qwin_hist, 99.0);
	r->nb_buckets =
	        (uint32_t)XF_MIN(r->elapsed_ns / XF_WANSIM_BUCKET_NS + 1, XF_WANSIM_BUCKETS);
}

static uint64_t
series_bps(const uint64_t *bytes_per_bucket, uint64_t from_ns, uint64_t to_ns)
{
	uint64_t a = from_ns / XF_WANSIM_BUCKET_NS, b = to_ns / XF_WANSIM_BUCKET_NS, bytes = 0;

	b = XF_MIN(b, XF_WANSIM_BUCKETS);
	if (b <= a) {
		return 0;
	}
	for (uint64_t i = a; i < b; i++) {
		bytes += bytes_per_bucket[i];
	}
	return (uint64_t)((double)bytes * 8.0 * (double)NS_PER_S /
	                  (double)((b - a) * XF_WANSIM_BUCKET_NS));
}

uint64_t
xf_wansim_goodput_between(const struct xf_wansim_result *res, uint64_t from_ns, uint64_t to_ns)
{
	return series_bps(res->delivered_bytes, from_ns, to_ns);
}

uint64_t
xf_wansim_flow_goodput_between(const struct xf_wansim_result *res, unsigned int flow,
                               uint64_t from_ns, uint64_t to_ns)
{
	return flow < res->nb_flows ? series_bps(res->flow[flow].delivered_bytes, from_ns, to_ns)
	                            : 0;
}

double
xf_wansim_jain(const struct xf_wansim_result *res, uint64_t from_ns, uint64_t to_ns)
{
	double sum = 0, sq = 0;

	for (unsigned int f = 0; f < res->nb_flows; f++) {
		double x = (double)xf_wansim_flow_goodput_between(res, f, from_ns, to_ns);

		sum += x;
		sq += x * x;
	}
	return sq > 0 ? sum * sum / ((double)res->nb_flows * sq) : 0;
}

static void
flow_free(struct flow *fl)
{
	xf_reliab_destroy(fl->tx);
	xf_reliab_destroy(fl->rx);
	xf_linksim_destroy(fl->back);
	free(fl->acks);
	free(fl->acks_free.next);
	free(fl->retx);
	free(fl->tx_acked);
	free(fl->rx_have);
}

static void
sim_free(struct sim *s)
{
	for (unsigned int f = 0; f < s->nflows; f++) {
		flow_free(&s->flows[f]);
	}
	xf_linksim_destroy(s->fwd);
	free(s->data);
	free(s->data_free.next);
}

/* Engines, ACK link and books of one flow; congestion and seed as the flow says. */
static int
flow_init(struct sim *s, unsigned int idx, const struct xf_wansim_flow_cfg *fc)
{
	struct flow *fl = &s->flows[idx];
	struct xf_linksim_cfg back = s->cfg.back;
	struct xf_reliab_cfg rc = { 0 };

	fl->sim = s;
	fl->res = &s->res->flow[idx];
	fl->start_ns = fc->start_ns;
	fl->frames = ((fc->bytes ? fc->bytes : s->cfg.bytes) + s->cfg.frame_bytes - 1) /
	             s->cfg.frame_bytes;
	fl->reno = fc->congestion == XF_WANSIM_RENO;
	fl->reno_cwnd = (uint64_t)RENO_INIT * s->cfg.frame_bytes;
	fl->reno_ssthresh = UINT64_MAX;
	if (fc->back_delay_ns != 0) {
		back.delay_ns = fc->back_delay_ns;
	}
	back.seed += idx * 7919u; /* each ACK link draws its own loss */
	fl->back = xf_linksim_create(&back, 0);
	if (fl->back == NULL) {
		return -errno;
	}
	rc.tx_slots = s->cfg.tx_slots;
	rc.tx_slots_max = s->cfg.tx_slots_max;
	rc.rx_window = s->cfg.rx_window; /* 0: the engine's default */
	rc.pace_rate = s->cfg.pace_bps / 8u;
	rc.pace_frame_bytes = s->cfg.frame_bytes;
	rc.congestion = fl->reno ? XF_CC_FIXED : fc->congestion;
	rc.cc_seed = fc->cc_seed;
	rc.on_acked = on_acked;
	rc.on_lost = on_lost;
	rc.on_spurious = on_spurious;
	rc.cb_arg = fl;
	fl->tx = xf_reliab_create(&rc, 0);
	rc.pace_rate = 0;
	rc.congestion = XF_CC_FIXED;
	fl->rx = xf_reliab_create(&rc, 0);
	if (fl->tx == NULL || fl->rx == NULL) {
		return -errno;
	}
	fl->acks = calloc(back.slots, sizeof(*fl->acks));
	fl->acks_free.next = calloc(back.slots, sizeof(uint32_t));
	fl->retx = calloc(fl->frames, sizeof(*fl->retx));
	fl->tx_acked = calloc(fl->frames, 1);
	fl->rx_have = calloc(fl->frames, 1);
	if (fl->acks == NULL || fl->acks_free.next == NULL || fl->retx == NULL ||
	    fl->tx_acked == NULL || fl->rx_have == NULL) {
		return -ENOMEM;
	}
	/* every record the link can hold at once: a record is never short while it has room */
	fl->acks_free.head = NONE;
	for (uint32_t i = back.slots; i-- > 0;) {
		fl_put(&fl->acks_free, i);
	}
	return 0;
}

int
xf_wansim_run(const struct xf_wansim_cfg *cfg, struct xf_wansim_result *res)
{
	struct sim s = { 0 };
	struct xf_wansim_flow_cfg first = { 0 };
	int rc = 0;

	memset(res, 0, sizeof(*res));
	s.cfg = *cfg;
	s.res = res;
	if (s.cfg.frame_bytes == 0) {
		s.cfg.frame_bytes = 9000;
	}
	if (s.cfg.ack_bytes == 0) {
		s.cfg.ack_bytes = 64;
	}
	if (s.cfg.tx_slots == 0) {
		s.cfg.tx_slots = XF_RELIAB_DEFAULT_SLOTS;
	}
	if (s.cfg.back.slots == 0) {
		s.cfg.back.slots = BACK_SLOTS;
	}
	if (s.cfg.fwd.slots == 0) {
		s.cfg.fwd.slots = XF_LINKSIM_DEFAULT_SLOTS;
	}
	if (s.cfg.bytes == 0 || s.cfg.pace_bps == 0 || s.cfg.nb_flows >= XF_WANSIM_MAX_FLOWS) {
		return -EINVAL;
	}
	s.fwd = xf_linksim_create(&s.cfg.fwd, 0);
	if (s.fwd == NULL) {
		return -errno;
	}
	first.congestion = s.cfg.congestion;
	first.cc_seed = s.cfg.cc_seed;
	s.nflows = 1 + s.cfg.nb_flows;
	for (unsigned int f = 0; f < s.nflows && rc == 0; f++) {
		rc = flow_init(&s, f, f == 0 ? &first : &s.cfg.flows[f - 1]);
	}
	s.data = calloc(s.cfg.fwd.slots, sizeof(*s.data));
	s.data_free.next = calloc(s.cfg.fwd.slots, sizeof(uint32_t));
	if (rc == 0 && (s.data == NULL || s.data_free.next == NULL)) {
		rc = -ENOMEM;
	}
	if (rc == 0) {
		/* every record the link can hold at once */
		s.data_free.head = NONE;
		for (uint32_t i = s.cfg.fwd.slots; i-- > 0;) {
			fl_put(&s.data_free, i);
		}
		run(&s);
		collect(&s);
	}
	sim_free(&s);
	return rc;
}

double
xf_wansim_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
xf_wansim_print(const char *label, const struct xf_wansim_result *r)
{
	printf("%-28s %s goodput %3u.%u%% (%" PRIu64 " Mbit/s) in %" PRIu64 ".%03" PRIu64
	       " s, queue p50 %" PRIu64 ".%03" PRIu64 " ms p99 %" PRIu64 ".%03" PRIu64
	       " ms, drops queue %" PRIu64 " loss %" PRIu64 " burst %" PRIu64 " blackhole %" PRIu64
	       ", retransmit %u.%u%% (spurious %" PRIu64 ", pto %" PRIu64 ", refused %" PRIu64
	       ")\n",
	       label, r->completed ? "done" : "UNFINISHED", r->goodput_pm / 10, r->goodput_pm % 10,
	       r->goodput_bps / 1000000u, r->elapsed_ns / NS_PER_S,
	       r->elapsed_ns % NS_PER_S / 1000000u, r->queue_p50_ns / 1000000u,
	       r->queue_p50_ns % 1000000u / 1000u, r->queue_p99_ns / 1000000u,
	       r->queue_p99_ns % 1000000u / 1000u, r->fwd.dropped[XF_LINKSIM_DROP_QUEUE],
	       r->fwd.dropped[XF_LINKSIM_DROP_LOSS], r->fwd.dropped[XF_LINKSIM_DROP_BURST],
	       r->fwd.dropped[XF_LINKSIM_DROP_BLACKHOLE], r->retransmit_pm / 10,
	       r->retransmit_pm % 10, r->spurious, r->pto, r->rx_pn_ahead);
}
