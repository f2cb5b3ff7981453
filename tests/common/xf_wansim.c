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

#include "xf_reliab.h"
#include "xf_wansim.h"

#define NS_PER_S      UINT64_C(1000000000)
#define BATCH         64u
#define BACK_SLOTS    4096u /* ACK records carry 64 ranges: keep that pool small */
#define DEFAULT_LIMIT (600ull * NS_PER_S)

struct data_rec {
	uint64_t pn;
	uint64_t chunk;
	uint32_t refs;
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

struct sim {
	struct xf_wansim_cfg cfg;
	struct xf_wansim_result *res;
	struct xf_linksim *fwd, *back;
	struct xf_reliab *tx, *rx;

	struct data_rec *data;
	struct freelist data_free;
	struct ack_rec *acks;
	struct freelist acks_free;

	/* sender */
	uint64_t next_chunk;
	uint64_t *retx; /* ring of chunks to send again, capacity frames */
	uint64_t retx_head, retx_n;
	uint8_t *tx_acked;
	uint64_t acked_count;

	/* receiver */
	uint8_t *rx_have;
	uint64_t rx_count;
	uint64_t rx_last_new;
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
ack_put(struct sim *s, struct ack_rec *a)
{
	if (--a->refs == 0) {
		fl_put(&s->acks_free, (uint32_t)(a - s->acks));
	}
}

static void
mark_acked(struct sim *s, uint64_t chunk)
{
	if (!s->tx_acked[chunk]) {
		s->tx_acked[chunk] = 1;
		s->acked_count++;
	}
}

static void
on_acked(void *arg, const struct xf_reliab_sent *f)
{
	mark_acked(arg, f->tag);
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
	struct sim *s = arg;

	if (!s->tx_acked[f->tag] && s->retx_n < s->res->frames) {
		s->retx[(s->retx_head + s->retx_n) % s->res->frames] = f->tag;
		s->retx_n++;
	}
}

/* The link holds the record once, twice (duplicated) or not at all (dropped). */
static uint32_t
refs_of(int verdict)
{
	return verdict == XF_LINKSIM_ACCEPTED ? 1 : verdict == XF_LINKSIM_DUPLICATED ? 2 : 0;
}

static bool
sender_has_data(struct sim *s)
{
	/* retransmissions of frames acknowledged meanwhile are skipped */
	while (s->retx_n > 0 && s->tx_acked[s->retx[s->retx_head]]) {
		s->retx_head = (s->retx_head + 1) % s->res->frames;
		s->retx_n--;
	}
	return s->retx_n > 0 || s->next_chunk < s->res->frames;
}

/* A probe's record: no chunk, answered by an immediate ACK (a PING with ACKNOW). */
#define PROBE_CHUNK UINT64_MAX

/* The probes a probe timeout asks for (RFC 9002 6.2.4), sent as the push sends them:
 * small, untracked, not paced, acknowledged at once by the receiver. */
static void
sender_probe(struct sim *s, uint64_t now)
{
	while (xf_reliab_probes_due(s->tx) > 0) {
		uint32_t i = fl_get(&s->data_free);
		int v;

		if (i == NONE) {
			return;
		}
		s->data[i].chunk = PROBE_CHUNK;
		s->data[i].pn = xf_reliab_next_pn(s->tx);
		(void)xf_reliab_on_sent(s->tx, now, s->cfg.ack_bytes, NULL, 0, XF_RELIAB_F_PROBE,
		                        NULL);
		s->res->probes++;
		v = xf_linksim_enqueue(s->fwd, now, s->cfg.ack_bytes, &s->data[i]);
		s->res->probes_lost += v >= XF_LINKSIM_DROP_QUEUE; /* dropped on the way in */
		s->data[i].refs = refs_of(v);
		if (s->data[i].refs == 0) {
			s->data[i].refs = 1;
			data_put(s, &s->data[i]);
		}
	}
}

static void
sender_send(struct sim *s, uint64_t now)
{
	sender_probe(s, now);
	while (sender_has_data(s) && xf_reliab_can_send(s->tx) &&
	       xf_reliab_pace_next(s->tx, now, s->cfg.frame_bytes) <= now) {
		unsigned int flags = XF_RELIAB_F_ACK_ELICITING;
		uint32_t i = fl_get(&s->data_free);
		uint64_t chunk;
		int v;

		if (i == NONE) {
			return; /* every record is on the link: wait for deliveries */
		}
		if (s->retx_n > 0) {
			chunk = s->retx[s->retx_head];
			s->retx_head = (s->retx_head + 1) % s->res->frames;
			s->retx_n--;
			flags |= XF_RELIAB_F_RETRANSMIT;
		} else {
			chunk = s->next_chunk++;
		}
		s->data[i].chunk = chunk;
		(void)xf_reliab_on_sent(s->tx, now, s->cfg.frame_bytes, NULL, chunk, flags,
		                        &s->data[i].pn);
		v = xf_linksim_enqueue(s->fwd, now, s->cfg.frame_bytes, &s->data[i]);
		s->data[i].refs = refs_of(v);
		if (s->data[i].refs == 0) {
			s->data[i].refs = 1;
			data_put(s, &s->data[i]);
		}
	}
}

static void
receiver_ack(struct sim *s, uint64_t now)
{
	struct ack_rec *a;
	uint32_t i;
	int v;

	if (xf_reliab_ack_deadline(s->rx) > now) {
		return;
	}
	i = fl_get(&s->acks_free);
	if (i == NONE) {
		return; /* the back link holds every record; it drains by itself */
	}
	a = &s->acks[i];
	a->nranges = xf_reliab_ack_build(s->rx, now, a->ranges, &a->largest, &a->delay_us);
	if (a->nranges == 0) {
		a->refs = 1;
		ack_put(s, a);
		return;
	}
	xf_reliab_ack_sent(s->rx);
	v = xf_linksim_enqueue(s->back, now, s->cfg.ack_bytes + 16u * (a->nranges - 1), a);
	a->refs = refs_of(v);
	if (a->refs == 0) {
		a->refs = 1;
		ack_put(s, a);
	}
}

static void
deliver(struct sim *s, uint64_t now)
{
	struct xf_linksim_pkt out[BATCH];
	unsigned int n;

	do {
		n = xf_linksim_dequeue(s->back, now, out, BATCH);
		for (unsigned int k = 0; k < n; k++) {
			struct ack_rec *a = out[k].opaque;

			if (out[k].lost) {
				ack_put(s, a);
				continue;
			}
			(void)xf_reliab_on_ack(s->tx, now, a->largest, a->delay_us, a->ranges,
			                       a->nranges);
			ack_put(s, a);
		}
	} while (n == BATCH);
	do {
		n = xf_linksim_dequeue(s->fwd, now, out, BATCH);
		for (unsigned int k = 0; k < n; k++) {
			struct data_rec *d = out[k].opaque;

			if (out[k].lost) {
				s->res->probes_lost += d->chunk == PROBE_CHUNK;
				data_put(s, d);
				continue;
			}
			if (d->chunk == PROBE_CHUNK) {
				s->res->probes_delivered++;
				if (xf_reliab_rx_filter(s->rx, now, d->pn, true) == 0) {
					xf_reliab_rx_accept(s->rx, now, d->pn, true);
				}
				xf_reliab_ack_now(s->rx);
			} else if (xf_reliab_rx_filter(s->rx, now, d->pn, true) == 0) {
				if (!s->rx_have[d->chunk]) {
					s->rx_have[d->chunk] = 1;
					s->rx_count++;
					s->rx_last_new = now;
				}
				xf_reliab_rx_accept(s->rx, now, d->pn, true);
			}
			data_put(s, d);
			/* an ACK due at once goes before the next frame is looked at */
			receiver_ack(s, now);
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
next_time(struct sim *s, uint64_t now)
{
	uint64_t t = min3(xf_linksim_next_time(s->fwd), xf_linksim_next_time(s->back),
	                  xf_reliab_ack_deadline(s->rx));

	t = min3(t, xf_reliab_loss_deadline(s->tx), XF_RELIAB_NEVER);
	if (sender_has_data(s) && xf_reliab_can_send(s->tx) && s->data_free.head != NONE) {
		t = min3(t, xf_reliab_pace_next(s->tx, now, s->cfg.frame_bytes), XF_RELIAB_NEVER);
	}
	return t < now ? now : t;
}

static void
run(struct sim *s)
{
	uint64_t now = 0;
	uint64_t limit = s->cfg.time_limit_ns ? s->cfg.time_limit_ns : DEFAULT_LIMIT;

	for (;;) {
		s->res->events++;
		deliver(s, now);
		receiver_ack(s, now);
		if (xf_reliab_loss_deadline(s->tx) <= now) {
			(void)xf_reliab_on_timeout(s->tx, now);
		}
		if (s->acked_count == s->res->frames) {
			s->res->completed = true;
			return;
		}
		sender_send(s, now);
		now = next_time(s, now);
		if (now == XF_RELIAB_NEVER || now > limit) {
			return;
		}
	}
}

static void
collect(struct sim *s)
{
	struct xf_wansim_result *r = s->res;
	struct xf_reliab_stats st;

	xf_reliab_stats(s->tx, &st);
	r->sent = st.sent_tracked;
	r->retransmitted = st.retransmitted;
	r->spurious = st.spurious;
	r->pto = st.pto;
	r->retransmit_pm = (uint32_t)(r->retransmitted * 1000u / r->frames);
	xf_reliab_stats(s->rx, &st);
	r->rx_duplicates = st.duplicates;
	r->rx_pn_ahead = st.pn_ahead;
	r->acks = st.acks_sent;
	r->elapsed_ns = s->rx_last_new;
	if (r->elapsed_ns > 0) {
		r->goodput_bps = (uint64_t)((double)s->rx_count * s->cfg.frame_bytes * 8.0 *
		                            (double)NS_PER_S / (double)r->elapsed_ns);
	}
	if (s->cfg.fwd.rate_bps > 0) {
		r->goodput_pm = (uint32_t)(r->goodput_bps * 1000u / s->cfg.fwd.rate_bps);
	}
	r->queue_p50_ns = xf_linksim_queue_delay_pct(s->fwd, 50.0);
	r->queue_p99_ns = xf_linksim_queue_delay_pct(s->fwd, 99.0);
	xf_linksim_stats(s->fwd, &r->fwd);
	xf_linksim_stats(s->back, &r->back);
	r->max_queue_bytes = r->fwd.max_queued_bytes;
}

static void
sim_free(struct sim *s)
{
	xf_reliab_destroy(s->tx);
	xf_reliab_destroy(s->rx);
	xf_linksim_destroy(s->fwd);
	xf_linksim_destroy(s->back);
	free(s->data);
	free(s->data_free.next);
	free(s->acks);
	free(s->acks_free.next);
	free(s->retx);
	free(s->tx_acked);
	free(s->rx_have);
}

int
xf_wansim_run(const struct xf_wansim_cfg *cfg, struct xf_wansim_result *res)
{
	struct xf_reliab_cfg rc = { 0 };
	struct sim s = { 0 };
	int rc_err = -ENOMEM;

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
	res->frames = (s.cfg.bytes + s.cfg.frame_bytes - 1) / s.cfg.frame_bytes;
	if (res->frames == 0 || s.cfg.pace_bps == 0) {
		return -EINVAL;
	}
	s.fwd = xf_linksim_create(&s.cfg.fwd, 0);
	s.back = xf_linksim_create(&s.cfg.back, 0);
	if (s.fwd == NULL || s.back == NULL) {
		rc_err = -errno;
		goto out;
	}
	rc.tx_slots = s.cfg.tx_slots;
	rc.rx_window = s.cfg.rx_window; /* 0: the engine's default */
	rc.pace_rate = s.cfg.pace_bps / 8u;
	rc.pace_frame_bytes = s.cfg.frame_bytes;
	rc.on_acked = on_acked;
	rc.on_lost = on_lost;
	rc.on_spurious = on_spurious;
	rc.cb_arg = &s;
	s.tx = xf_reliab_create(&rc, 0);
	rc.pace_rate = 0;
	s.rx = xf_reliab_create(&rc, 0);
	if (s.tx == NULL || s.rx == NULL) {
		rc_err = -errno;
		goto out;
	}
	s.data = calloc(s.cfg.fwd.slots, sizeof(*s.data));
	s.data_free.next = calloc(s.cfg.fwd.slots, sizeof(uint32_t));
	s.acks = calloc(s.cfg.back.slots, sizeof(*s.acks));
	s.acks_free.next = calloc(s.cfg.back.slots, sizeof(uint32_t));
	s.retx = calloc(res->frames, sizeof(*s.retx));
	s.tx_acked = calloc(res->frames, 1);
	s.rx_have = calloc(res->frames, 1);
	if (s.data == NULL || s.data_free.next == NULL || s.acks == NULL ||
	    s.acks_free.next == NULL || s.retx == NULL || s.tx_acked == NULL || s.rx_have == NULL) {
		goto out;
	}
	/* every record the links can hold at once: a record is never short while they have room */
	s.data_free.head = s.acks_free.head = NONE;
	for (uint32_t i = s.cfg.fwd.slots; i-- > 0;) {
		fl_put(&s.data_free, i);
	}
	for (uint32_t i = s.cfg.back.slots; i-- > 0;) {
		fl_put(&s.acks_free, i);
	}
	run(&s);
	collect(&s);
	rc_err = 0;
out:
	sim_free(&s);
	return rc_err;
}

void
xf_wansim_print(const char *label, const struct xf_wansim_result *r)
{
	printf("%-28s %s goodput %3u.%u%% (%" PRIu64 " Mbit/s) in %" PRIu64 ".%03" PRIu64
	       " s, queue p50 %" PRIu64 ".%03" PRIu64 " ms p99 %" PRIu64 ".%03" PRIu64
	       " ms, drops queue %" PRIu64 " loss %" PRIu64 " blackhole %" PRIu64
	       ", retransmit %u.%u%% (spurious %" PRIu64 ", pto %" PRIu64 ", refused %" PRIu64
	       ")\n",
	       label, r->completed ? "done" : "UNFINISHED", r->goodput_pm / 10, r->goodput_pm % 10,
	       r->goodput_bps / 1000000u, r->elapsed_ns / NS_PER_S,
	       r->elapsed_ns % NS_PER_S / 1000000u, r->queue_p50_ns / 1000000u,
	       r->queue_p50_ns % 1000000u / 1000u, r->queue_p99_ns / 1000000u,
	       r->queue_p99_ns % 1000000u / 1000u, r->fwd.dropped[XF_LINKSIM_DROP_QUEUE],
	       r->fwd.dropped[XF_LINKSIM_DROP_LOSS], r->fwd.dropped[XF_LINKSIM_DROP_BLACKHOLE],
	       r->retransmit_pm / 10, r->retransmit_pm % 10, r->spurious, r->pto, r->rx_pn_ahead);
}
