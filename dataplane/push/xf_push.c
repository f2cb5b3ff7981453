/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of one session. See xf_push.h and docs/PROTOCOL.md. This file holds
 * the session's life, its frame records and send queues, transmission through the
 * reliability engine, and completion; the file list and whole-file data are in
 * xf_push_send.c, delta transfer in xf_push_delta.c (xf_push_priv.h says who owns what).
 *
 * Frames are encoded once, when their content is known, with packet number 0; the
 * number is written into the header at each (re)transmission, so a retransmission
 * is the same bytes under a new number. Every frame the session holds is in exactly
 * one place: the send queue, the reliability engine (in flight), or freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_push_priv.h"

struct push_frame *
xf_push_pf_get(struct xf_push *p)
{
	struct push_frame *f = p->free_list;

	if (f == NULL || p->pool_free <= p->read_ahead) {
		return NULL;
	}
	f->frame = p->io.frame_alloc(p->io.arg, &f->payload);
	if (f->frame == NULL) {
		return NULL;
	}
	p->free_list = f->next;
	p->pool_free--;
	f->next = NULL;
	f->retransmit = 0;
	f->ra = 0;
	f->file = 0;
	return f;
}

struct push_frame *
xf_push_pf_take(struct xf_push *p)
{
	struct push_frame *f = p->free_list;
	struct push_frame **nx;

	if (f != NULL) {
		p->free_list = f->next;
		p->pool_free--;
		return f;
	}
	nx = realloc(p->extra, (p->nextra + 1) * sizeof(*nx));
	if (nx == NULL) {
		return NULL;
	}
	p->extra = nx;
	f = calloc(1, sizeof(*f));
	if (f != NULL) {
		p->extra[p->nextra++] = f;
	}
	return f;
}

void
xf_push_pf_put(struct xf_push *p, struct push_frame *f)
{
	if (f->frame != NULL) {
		p->io.frame_free(p->io.arg, f->frame);
		f->frame = NULL;
	}
	f->next = p->free_list;
	p->free_list = f;
	p->pool_free++;
}

void
xf_push_enqueue_file(struct xf_push *p, uint32_t idx)
{
	if (p->files[idx].state == F_QUEUED || p->fq_tail - p->fq_head == p->count) {
		return; /* already queued: a file is in the queue once at a time */
	}
	p->files[idx].state = F_QUEUED;
	/* A ring: a file sent again whole (DECIDED_REDO) is queued a second time. */
	p->queued[p->fq_tail++ % p->count] = idx;
}

void
xf_push_settle(struct xf_push *p, uint32_t idx, uint8_t status)
{
	struct push_file *f = &p->files[idx];

	if (f->state == F_SETTLED) {
		return;
	}
	if (f->state == F_READING) {
		act_remove(p, idx);
	}
	xf_push_delta_free(p, f);
	f->state = F_SETTLED;
	f->status = status;
	if (status != XF_ST_OK) {
		p->st.files_failed++;
		if (p->st.fails_kept < XF_PUSH_FAILS_KEPT) {
			p->st.fail_file[p->st.fails_kept] = idx;
			p->st.fail_status[p->st.fails_kept++] = status;
		}
	}
}

/* The bytes a frame of len bytes takes on the wire: sealed (every frame but the HELLO,
 * under AEAD), the transmit callback adds the tag. */
static inline uint64_t
wire_len(const struct xf_push *p, uint8_t type, uint32_t len)
{
	return (uint64_t)len + (type != XF_MSG_HELLO ? p->cfg.seal_overhead : 0);
}

/* Reliability callbacks: they only move frames between lists and count. */
static void
on_acked(void *arg, const struct xf_reliab_sent *s)
{
	struct xf_push *p = arg;
	struct push_frame *f = s->handle;

	if ((f->type == XF_MSG_DATA || f->type == XF_MSG_COPY) && f->file < p->count &&
	    p->files[f->file].unacked > 0) {
		if (--p->files[f->file].unacked == 0) {
			end_ready(p, f->file);
		}
	}
	xf_push_pf_put(p, f);
}

static void
on_lost(void *arg, const struct xf_reliab_sent *s)
{
	struct xf_push *p = arg;
	struct push_frame *f = s->handle;

	/* Content no longer needed once the file is settled (e.g. failed at the receiver). */
	if ((f->type == XF_MSG_DATA || f->type == XF_MSG_COPY || f->type == XF_MSG_FILE_END) &&
	    f->file < p->count && p->files[f->file].state == F_SETTLED) {
		xf_push_pf_put(p, f);
		return;
	}
	/*
	 * A keep-alive PING carries nothing to deliver: the next one goes out when the
	 * keep-alive falls due again. Sending it again would only count as a retransmission:
	 * during a long stall of the receiver (e2e-push-stall) its neighbour entry fails
	 * (it answers no ARP while it leaves its NIC queue unread) and our PINGs of that
	 * time die in the ARP hold queue (arp_expired).
	 */
	if (f->type == XF_MSG_PING) {
		xf_push_pf_put(p, f);
		return;
	}
	/*
	 * A HELLO judged lost after the HELLO_ACK came (its ACK was slower than the loss
	 * timer) has nothing left to do: sent again, it could reach the receiver after the
	 * session ended there, and open it anew (docs/PROTOCOL.md 6.1).
	 */
	if (f->type == XF_MSG_HELLO && p->state != XF_PUSH_HELLO) {
		xf_push_pf_put(p, f);
		return;
	}
	f->retransmit = 1;
	enqueue(&p->rq_head, &p->rq_tail, f);
}

/* Frame records: every slot the table can grow to, the read-ahead, the control frames
 * queued; all made at create, none while the table grows. */
static uint32_t
pool_frames(const struct xf_reliab_cfg *rc)
{
	uint32_t slots = rc->tx_slots != 0 ? rc->tx_slots : XF_RELIAB_DEFAULT_SLOTS;

	return XF_MAX(rc->tx_slots_max, slots) + XF_PUSH_READ_AHEAD + CONTROL_FRAMES;
}

struct xf_push *
xf_push_create(const struct xf_push_cfg *cfg, const struct xf_push_io *io, uint32_t count,
               uint64_t now)
{
	struct xf_push *p;
	struct xf_reliab_cfg rc;
	uint32_t nframes;

	if (cfg->session_id == 0 || cfg->max_payload < XF_PAYLOAD_MIN ||
	    cfg->max_payload > XF_PAYLOAD_MAX || io->frame_alloc == NULL ||
	    io->frame_send == NULL || io->frame_free == NULL || io->read_request == NULL ||
	    io->entry == NULL) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->cfg = *cfg;
	p->io = *io;
	p->count = count;
	p->state = XF_PUSH_HELLO;
	p->peer_payload = cfg->max_payload;
	p->st.files_total = count;
	p->st.state = XF_PUSH_HELLO;
	p->st.zip_on = cfg->compress;
	for (uint32_t i = 0; i < count; i++) {
		struct xf_flist_entry e = xf_push_entry(p, i);

		if (e.kind == XF_FILE_REG) {
			p->st.bytes_total += e.size;
		}
	}
	p->files = calloc(count > 0 ? count : 1, sizeof(*p->files));
	p->queued = calloc(count > 0 ? count : 1, sizeof(*p->queued));
	p->due = calloc(count > 0 ? count : 1, sizeof(*p->due));
	rc = cfg->reliab;
	rc.on_acked = on_acked;
	rc.on_lost = on_lost;
	rc.on_spurious = NULL;
	rc.cb_arg = p;
	p->rel = xf_reliab_create(&rc, now);
	nframes = pool_frames(&rc);
	p->pool = calloc(nframes, sizeof(*p->pool));
	if (p->files == NULL || p->queued == NULL || p->due == NULL || p->rel == NULL ||
	    p->pool == NULL) {
		int err = p->rel == NULL ? errno : ENOMEM;

		xf_push_destroy(p);
		errno = err;
		return NULL;
	}
	for (uint32_t i = 0; i < nframes; i++) {
		p->pool[i].next = p->free_list;
		p->free_list = &p->pool[i];
	}
	p->pool_free = nframes;
	return p;
}

static void
drain_queue(struct xf_push *p, struct push_frame **head, struct push_frame **tail)
{
	struct push_frame *f;

	while ((f = dequeue(head, tail)) != NULL) {
		xf_push_pf_put(p, f);
	}
}

void
xf_push_destroy(struct xf_push *p)
{
	if (p == NULL) {
		return;
	}
	drain_queue(p, &p->q_head, &p->q_tail);
	drain_queue(p, &p->rq_head, &p->rq_tail);
	/* Frames still in flight: the engine gives them back through on_acked/on_lost only
	 * when driven, so free them from the pool directly. */
	if (p->pool != NULL) {
		uint32_t nframes = pool_frames(&p->cfg.reliab);

		for (uint32_t i = 0; i < nframes; i++) {
			if (p->pool[i].frame != NULL) {
				p->io.frame_free(p->io.arg, p->pool[i].frame);
				p->pool[i].frame = NULL;
			}
		}
	}
	for (uint32_t i = 0; i < p->nextra; i++) {
		if (p->extra[i]->frame != NULL) {
			p->io.frame_free(p->io.arg, p->extra[i]->frame);
		}
		free(p->extra[i]);
	}
	free(p->extra);
	xf_reliab_destroy(p->rel);
	for (uint32_t i = 0; p->files != NULL && i < p->count; i++) {
		xf_push_delta_free(p, &p->files[i]);
	}
	free(p->ops);
	free(p->lit);
	free(p->pool);
	free(p->files);
	free(p->queued);
	free(p->due);
	free(p);
}

int
xf_push_queue_msg(struct xf_push *p, const struct xf_msg *msg, uint32_t file)
{
	struct push_frame *f = xf_push_pf_get(p);
	int len;

	if (f == NULL) {
		return -ENOBUFS;
	}
	len = xf_proto_encode(f->payload, p->peer_payload, msg);
	if (len < 0) {
		xf_push_pf_put(p, f);
		return len;
	}
	f->len = (uint16_t)len;
	f->type = msg->hdr.type;
	f->file = file;
	enqueue(&p->q_head, &p->q_tail, f);
	return 0;
}

int
xf_push_queue_msg_built(struct xf_push *p, const struct xf_msg *msg)
{
	struct push_frame *f = xf_push_pf_get(p);
	struct xf_proto_builder b;
	int len;

	if (f == NULL) {
		return -ENOBUFS;
	}
	len = xf_proto_build_begin(&b, f->payload, p->peer_payload, msg);
	len = len == 0 ? xf_proto_build_finish(&b) : len;
	if (len < 0) {
		xf_push_pf_put(p, f);
		return len;
	}
	f->len = (uint16_t)len;
	f->type = msg->hdr.type;
	f->file = 0;
	enqueue(&p->q_head, &p->q_tail, f);
	return 0;
}

uint32_t
xf_push_hello_flags(const struct xf_push_cfg *cfg)
{
	return (cfg->checksum ? XF_HELLO_F_CHECKSUM : 0) |
	       (cfg->auth != NULL ? XF_HELLO_F_CLEAR_AEAD : 0) |
	       (cfg->delete_extra ? XF_HELLO_F_DELETE : 0) | (cfg->volume ? XF_HELLO_F_VOLUME : 0) |
	       (cfg->dry_run ? XF_HELLO_F_DRYRUN : 0) |
	       (cfg->hard_links ? XF_HELLO_F_HARDLINKS : 0) |
	       (cfg->compress ? XF_HELLO_F_COMPRESS : 0) | (cfg->owner ? XF_HELLO_F_OWNER : 0) |
	       (cfg->owner && cfg->owner_names ? XF_HELLO_F_OWNER_NAMES : 0) |
	       (cfg->redo ? XF_HELLO_F_REDO : 0) | (cfg->pull ? XF_HELLO_F_PULL : 0) |
	       (cfg->pull && !cfg->compress && !cfg->compress_if_asked ? XF_HELLO_F_NO_COMPRESS
	                                                               : 0) |
	       (cfg->xattrs ? XF_HELLO_F_XATTRS : 0) | (cfg->acls ? XF_HELLO_F_ACLS : 0) |
	       (cfg->delete_extra && cfg->rules_len != 0 ? XF_HELLO_F_FILTERS : 0) |
	       (cfg->itemize && cfg->items != NULL ? XF_HELLO_F_ITEMIZE : 0);
}

static void
queue_hello(struct xf_push *p)
{
	struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_HELLO) };

	m.hello.min_version = XF_PROTO_VERSION;
	m.hello.max_version = XF_PROTO_VERSION;
	m.hello.max_payload = p->cfg.max_payload;
	m.hello.flags = xf_push_hello_flags(&p->cfg);
	m.hello.window = p->cfg.delete_extra ? p->cfg.max_delete : 0;
	m.hello.nonce = p->cfg.nonce;
	if (p->cfg.auth != NULL) {
		/* The options and the destination field are in message 1 (XF_HELLO_F_SEALED_OPTS,
		 * XF_HELLO_F_SEALED_DEST, the caller's sealed block): none of them in clear. */
		m.hello.flags = XF_HELLO_F_CLEAR_AEAD;
		m.hello.window = 0;
		m.hello.auth = p->cfg.auth;
		m.hello.auth_len = p->cfg.auth_len;
	} else {
		m.hello.dest = p->cfg.dest;
		m.hello.dest_len =
		        p->cfg.dest_len != 0 ? p->cfg.dest_len : (uint16_t)strlen(p->cfg.dest);
		if ((m.hello.flags & XF_HELLO_F_FILTERS) != 0) {
			m.hello.rules = p->cfg.rules;
			m.hello.rules_len = p->cfg.rules_len;
		}
	}
	if (xf_push_queue_msg(p, &m, 0) == 0) {
		p->hello_queued = true;
	}
}

void
xf_push_queue_abort(struct xf_push *p, uint16_t code, const char *why)
{
	struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_ABORT) };

	m.abort.code = code;
	m.abort.msg = why;
	m.abort.msg_len = (uint16_t)strlen(why);
	xf_push_queue_msg(p, &m, 0);
}

void
xf_push_enter_aborted(struct xf_push *p, uint16_t code)
{
	p->state = XF_PUSH_ABORTED;
	p->abort_code = code;
	p->st.abort_code = code;
	p->st.state = XF_PUSH_ABORTED;
}

static bool
send_ack_if_due(struct xf_push *p, uint64_t now)
{
	struct xf_ack_range ranges[XF_ACK_RANGES];
	struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_ACK) };
	struct xf_proto_builder b;
	uint64_t largest;
	uint32_t delay;
	unsigned int n;
	uint8_t *payload;
	void *frame;
	int len;

	if (xf_reliab_ack_deadline(p->rel) > now) {
		return false;
	}
	n = xf_reliab_ack_build(p->rel, now, ranges, &largest, &delay);
	if (n == 0) {
		return false;
	}
	frame = p->io.frame_alloc(p->io.arg, &payload);
	if (frame == NULL) {
		return false;
	}
	m.hdr.pn = xf_reliab_next_pn(p->rel);
	m.ack.largest = largest;
	m.ack.ack_delay_us = delay;
	len = xf_proto_build_begin(&b, payload, p->peer_payload, &m);
	for (unsigned int i = 0; len == 0 && i < n; i++) {
		if (xf_proto_build_ack(&b, &ranges[i]) < 0) {
			break; /* fewer ranges fit: the most recent are first, keep those */
		}
	}
	len = len == 0 ? xf_proto_build_finish(&b) : len;
	if (len > 0 && p->io.frame_send(p->io.arg, frame, (uint16_t)len) == 0) {
		xf_reliab_on_sent(p->rel, now, (uint32_t)len, NULL, 0, 0, NULL);
		xf_reliab_ack_sent(p->rel);
		p->st.wire_bytes_sent += wire_len(p, XF_MSG_ACK, (uint32_t)len);
		p->st.frames_sent++;
	}
	p->io.frame_free(p->io.arg, frame);
	return true;
}

/*
 * The probes a probe timeout asked for: PINGs, answered at once (ACKNOW), that carry no
 * data and are not tracked, so a receiver that was only slow never gets a frame twice;
 * their ACK lets the thresholds settle what is in flight. Neither the table nor the
 * pacer holds them back (RFC 9002 6.2.4); a full TX queue does, until the next poll.
 */
static bool
send_probes(struct xf_push *p, uint64_t now)
{
	bool busy = false;

	while (xf_reliab_probes_due(p->rel) > 0) {
		struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_PING) };
		uint8_t *payload;
		void *frame = p->io.frame_alloc(p->io.arg, &payload);
		int len;

		if (frame == NULL) {
			break;
		}
		m.hdr.pn = xf_reliab_next_pn(p->rel);
		m.hdr.flags = XF_HDR_F_ACKNOW;
		len = xf_proto_encode(payload, p->peer_payload, &m);
		if (len < 0 || p->io.frame_send(p->io.arg, frame, (uint16_t)len) < 0) {
			p->io.frame_free(p->io.arg, frame);
			break;
		}
		xf_reliab_on_sent(p->rel, now, (uint32_t)len, NULL, 0, XF_RELIAB_F_PROBE, NULL);
		p->st.wire_bytes_sent += wire_len(p, XF_MSG_PING, (uint32_t)len);
		p->st.frames_sent++;
		p->io.frame_free(p->io.arg, frame);
		busy = true;
	}
	return busy;
}

/* Send from the queues while the engine, the pacer and the I/O layer allow. */
static bool
transmit(struct xf_push *p, uint64_t now)
{
	bool busy = false;

	for (;;) {
		struct push_frame **head = p->rq_head != NULL ? &p->rq_head : &p->q_head;
		struct push_frame **tail = p->rq_head != NULL ? &p->rq_tail : &p->q_tail;
		struct push_frame *f = *head;
		uint64_t pn;

		if (f == NULL && xf_reliab_can_send(p->rel)) {
			xf_reliab_app_limited(p->rel); /* the path could take more than we have */
		}
		if (f == NULL || !xf_reliab_can_send(p->rel) ||
		    xf_reliab_pace_next(p->rel, now, f->len) > now) {
			break;
		}
		pn = xf_reliab_next_pn(p->rel);
		xf_proto_set_pn(f->payload, pn);
		if (p->io.frame_send(p->io.arg, f->frame, f->len) < 0) {
			break;
		}
		dequeue(head, tail);
		xf_reliab_on_sent(p->rel, now, f->len, f, ((uint64_t)f->type << 32) | f->file,
		                  XF_RELIAB_F_ACK_ELICITING |
		                          (f->retransmit ? XF_RELIAB_F_RETRANSMIT : 0),
		                  NULL);
		p->st.wire_bytes_sent += wire_len(p, f->type, f->len);
		p->st.frames_sent++;
		if (f->retransmit) {
			p->st.retransmits++;
		} else if (f->ra == RA_DELTA) {
			p->delta_queued -= XF_MIN(p->delta_queued, 1u);
			f->ra = 0;
		} else if (f->ra == RA_READ && p->read_ahead > 0) {
			p->read_ahead--;
			f->ra = 0;
		}
		busy = true;
	}
	return busy;
}

static void
on_hello_ack(struct xf_push *p, const struct xf_msg_hello *h)
{
	if (p->state != XF_PUSH_HELLO) {
		return; /* a duplicate answer: already running */
	}
	if ((h->flags & XF_HELLO_F_AEAD) != (xf_push_hello_flags(&p->cfg) & XF_HELLO_F_AEAD)) {
		return; /* not an answer in our mode, not even a refusal: the timer resends */
	}
	if (h->status != 0) {
		XF_LOG(ERR, "push", "session %08x refused by the peer (code %u)", p->cfg.session_id,
		       h->status);
		xf_push_enter_aborted(p, h->status);
		return;
	}
	if (h->nonce != p->cfg.nonce) {
		return; /* not an answer to our HELLO: ignore, the timer resends */
	}
	p->peer_payload = XF_MIN(p->cfg.max_payload, h->max_payload);
	p->credit = h->window;
	/* Its volume asks for compressed DATA (docs/PROTOCOL.md 6.16): under AEAD the flag
	 * was authenticated with the rest of the HELLO_ACK before it got here. */
	p->st.zip_asked = (h->flags & XF_HELLO_F_COMPRESS) != 0;
	p->st.zip_on |= p->st.zip_asked && p->cfg.compress_if_asked;
	p->data_end = (h->flags & XF_HELLO_F_DATA_END) != 0;
	p->state = XF_PUSH_RUNNING;
	p->st.state = XF_PUSH_RUNNING;
}

static void
on_commit(struct xf_push *p, const struct xf_msg *msg)
{
	uint32_t upto = XF_MIN(msg->commit.committed, p->next_list);

	for (uint16_t i = 0; i < msg->commit.count; i++) {
		struct xf_commit_fail cf;

		xf_proto_commit_get(msg, i, &cf);
		if (cf.file < p->next_list) {
			xf_push_settle(p, cf.file, (uint8_t)cf.status);
		}
	}
	for (uint32_t i = p->committed; i < upto; i++) {
		struct push_file *f = &p->files[i];

		/* Directories and symlinks decided UPTODATE were counted there. */
		if (f->state != F_SETTLED) {
			xf_push_settle(p, i, XF_ST_OK);
			p->st.files_committed++;
		}
	}
	if (upto > p->committed) {
		p->committed = upto;
	}
	if (msg->commit.credit > p->credit) {
		p->credit = msg->commit.credit;
	}
}

static bool
all_settled(const struct xf_push *p)
{
	return p->committed >= p->count && p->next_list == p->count;
}

/* The receiver's list of deletions is wanted (and its DONE waits for it). */
static inline bool
wants_deleted(const struct xf_push *p)
{
	return p->cfg.itemize && p->cfg.delete_extra && p->cfg.deleted != NULL;
}

/*
 * An FLIST frame from the receiver: entries it deleted (docs/PROTOCOL.md 6.14), taken in
 * index order. A frame past the next index expected is not taken yet (so not
 * acknowledged: the receiver sends it again); entries already kept are skipped.
 * @return whether the frame is taken.
 */
static bool
on_deleted(struct xf_push *p, const struct xf_msg *msg)
{
	const struct xf_msg_flist *fl = &msg->flist;
	struct xf_flist_entry e;
	uint32_t cursor = 0, idx = fl->first_index;

	if (!wants_deleted(p) || p->del_last) {
		return true; /* not asked for, or complete: nothing to do */
	}
	if (fl->first_index > p->del_next) {
		return false;
	}
	while (xf_proto_flist_next(msg, &cursor, &e)) {
		size_t rlen = 3u + e.path_len;

		if (idx++ < p->del_next) {
			continue;
		}
		p->del_next++;
		if (p->st.deleted_bytes + rlen > p->cfg.deleted_cap) {
			p->st.deleted_dropped++;
			continue;
		}
		p->cfg.deleted[p->st.deleted_bytes] = e.kind == XF_FILE_DIR;
		p->cfg.deleted[p->st.deleted_bytes + 1] = (uint8_t)(e.path_len >> 8);
		p->cfg.deleted[p->st.deleted_bytes + 2] = (uint8_t)e.path_len;
		memcpy(p->cfg.deleted + p->st.deleted_bytes + 3, e.path, e.path_len);
		p->st.deleted_bytes += rlen;
		p->st.deleted_listed++;
	}
	if ((fl->flags & XF_FLIST_F_LAST) != 0 && idx == p->del_next) {
		p->del_last = true;
	}
	return true;
}

void
xf_push_on_frame(struct xf_push *p, const struct xf_msg *msg, uint32_t bytes, uint64_t now)
{
	bool eliciting = msg->hdr.type != XF_MSG_ACK && !(msg->hdr.flags & XF_HDR_F_NOACK);

	p->st.wire_bytes_received += bytes;
	if (xf_reliab_rx_filter(p->rel, now, msg->hdr.pn, eliciting) < 0) {
		return; /* a duplicate: counted by the engine, re-acked */
	}
	switch (msg->hdr.type) {
	case XF_MSG_HELLO_ACK:
		on_hello_ack(p, &msg->hello);
		break;
	case XF_MSG_ACK: {
		struct xf_ack_range ranges[XF_ACK_RANGES];

		for (uint16_t i = 0; i < msg->ack.count; i++) {
			xf_proto_ack_get(msg, i, &ranges[i]);
		}
		if (xf_reliab_on_ack(p->rel, now, msg->ack.largest, msg->ack.ack_delay_us, ranges,
		                     msg->ack.count) == -EPROTO) {
			xf_push_queue_abort(p, XF_ABORT_PROTOCOL, "ACK of a packet never sent");
			xf_push_enter_aborted(p, XF_ABORT_PROTOCOL);
		}
		break;
	}
	case XF_MSG_DECISION:
		xf_push_on_decisions(p, msg);
		break;
	case XF_MSG_COMMIT: {
		/*
		 * In the receiver's order: a COMMIT lists the failures of its range only, and
		 * a later one settles everything below its `committed` as committed, so one
		 * taken ahead of a lost or late COMMIT would report that one's failed files
		 * as committed. One ahead is left unacknowledged (the receiver sends it again
		 * after the missing one); one behind is a copy already applied.
		 */
		int16_t ahead = (int16_t)(uint16_t)(msg->commit.seq - p->commit_seq);

		if (ahead > 0) {
			p->st.commits_early++;
			return;
		}
		if (ahead == 0) {
			on_commit(p, msg);
			p->commit_seq++;
		}
		break;
	}
	case XF_MSG_SIG:
		if (!xf_push_on_sig(p, msg)) {
			return; /* not accepted: not acknowledged, the peer sends it again */
		}
		break;
	case XF_MSG_FLIST:
		if (!on_deleted(p, msg)) {
			return; /* not taken yet: not acknowledged, the peer sends it again */
		}
		break;
	case XF_MSG_DONE:
		/*
		 * Acknowledged only once every file is settled: the receiver closes on the
		 * DONE's ACK, and a COMMIT sent just ahead of its DONE may be the frame that
		 * was lost. Unacknowledged, the DONE is declared lost and goes out again after
		 * the COMMIT's retransmission (docs/PROTOCOL.md 6.10). Acknowledging it at
		 * once left the sender waiting for a COMMIT nobody sent again, until its
		 * timeout (e2e-net-lossy-goodput at 5% loss, about one push in ten).
		 */
		if (!all_settled(p)) {
			p->st.done_early++;
			return;
		}
		if (wants_deleted(p) && !p->del_last) {
			/* The list of deletions comes before the DONE: a DONE that overtook some of
			 * it is not taken (nor acknowledged) until the list is complete. */
			p->st.done_early++;
			return;
		}
		p->peer_done = true;
		if (p->cfg.delete_extra && msg->done.has_delete) {
			p->st.delete_reported = true;
			p->st.delete_status = msg->done.del_status;
			p->st.files_deleted = msg->done.deleted;
			p->st.delete_kept = msg->done.kept;
		}
		break;
	case XF_MSG_ABORT:
		XF_LOG(ERR, "push", "session %08x aborted by the peer (code %u: %.*s)",
		       p->cfg.session_id, msg->abort.code, (int)msg->abort.msg_len, msg->abort.msg);
		/* Printable ASCII and at most XF_ABORT_MSG_MAX bytes: the codec checked. */
		if (p->state != XF_PUSH_ABORTED) {
			memcpy(p->peer_abort_msg, msg->abort.msg, msg->abort.msg_len);
			p->peer_abort_msg[msg->abort.msg_len] = '\0';
		}
		xf_push_enter_aborted(p,
		                      msg->abort.code != 0 ? msg->abort.code : XF_ABORT_PROTOCOL);
		break;
	default:
		break; /* PING needs only the ACK; frames meant for a receiver are ignored */
	}
	xf_reliab_rx_accept(p->rel, now, msg->hdr.pn, eliciting);
	if (msg->hdr.flags & XF_HDR_F_ACKNOW) {
		xf_reliab_ack_now(p->rel);
	}
}

bool
xf_push_poll(struct xf_push *p, uint64_t now)
{
	bool busy = false;

	if (p->state == XF_PUSH_DONE) {
		return false;
	}
	if (p->state == XF_PUSH_ABORTED) {
		/* Send the ABORT if one is queued; nothing else. */
		return transmit(p, now);
	}
	if (xf_reliab_idle_expired(p->rel, now)) {
		XF_LOG(ERR, "push", "session %08x: peer silent past the timeout",
		       p->cfg.session_id);
		xf_push_queue_abort(p, XF_ABORT_TIMEOUT, "peer silent past the session timeout");
		xf_push_enter_aborted(p, XF_ABORT_TIMEOUT);
		return transmit(p, now);
	}
	if (p->state == XF_PUSH_HELLO && !p->hello_queued) {
		queue_hello(p);
		busy = true;
	}
	if (xf_reliab_on_timeout(p->rel, now) > 0) {
		busy = true;
	}
	if (p->state == XF_PUSH_RUNNING) {
		busy |= xf_push_send_flist(p);
		busy |= xf_push_drain_ops(p);
		busy |= xf_push_schedule_reads(p);
		busy |= xf_push_check_file_ends(p);
		if (p->peer_done && all_settled(p)) {
			p->state = XF_PUSH_CLOSING;
			p->st.state = XF_PUSH_CLOSING;
		}
	}
	/* The ACK first: a receiver takes our frames only once we acknowledged its
	 * HELLO_ACK (docs/PROTOCOL.md 6.1), which asks for it at once (ACKNOW). */
	busy |= send_ack_if_due(p, now);
	busy |= send_probes(p, now);
	busy |= transmit(p, now);
	/*
	 * Closing ends once the ACK of the receiver's DONE is out. Frames of ours still
	 * unacknowledged (a keep-alive PING, a retransmission) are not waited for: every file
	 * is settled, so they carry nothing the receiver needs, and it closes as soon as
	 * that ACK reaches it, after which no one would acknowledge them (docs/PROTOCOL.md,
	 * 6.10; unit-push "the receiver closes once its DONE is acknowledged").
	 */
	if (p->state == XF_PUSH_CLOSING && xf_reliab_ack_deadline(p->rel) == XF_RELIAB_NEVER) {
		p->state = XF_PUSH_DONE;
		p->st.state = XF_PUSH_DONE;
		busy = true;
	}
	if (p->state == XF_PUSH_RUNNING && xf_reliab_keepalive_due(p->rel, now)) {
		struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_PING) };

		xf_push_queue_msg(p, &m, 0);
		busy |= transmit(p, now);
	}
	return busy;
}

bool
xf_push_waits_peer(const struct xf_push *p)
{
	if (p->state != XF_PUSH_RUNNING && p->state != XF_PUSH_CLOSING) {
		return false;
	}
	if ((p->q_head != NULL || p->rq_head != NULL) && xf_reliab_can_send(p->rel)) {
		return false;
	}
	if (p->ops_head < p->ops_n || p->read_busy_since != 0 || p->due_head != p->due_tail ||
	    p->reqs_out != 0 || (p->active < ACTIVE_FILES && p->fq_head < p->fq_tail)) {
		return false;
	}
	for (uint32_t k = 0; k < p->active; k++) {
		const struct push_file *f = &p->files[p->act[k]];

		/* A read the next poll asks for: a frame sent since this poll's
		 * xf_push_schedule_reads may have made room in the read-ahead. */
		if (f->state == F_READING && !f->eof &&
		    p->read_ahead + p->delta_queued + READ_CHUNK <= XF_PUSH_READ_AHEAD) {
			return false;
		}
	}
	return true;
}

uint64_t
xf_push_next_deadline(const struct xf_push *p)
{
	if (p->state == XF_PUSH_DONE || p->state == XF_PUSH_ABORTED) {
		return XF_RELIAB_NEVER;
	}
	return xf_reliab_next_deadline(p->rel);
}

void
xf_push_abort(struct xf_push *p, uint16_t code, uint64_t now)
{
	if (p->state == XF_PUSH_DONE || p->state == XF_PUSH_ABORTED) {
		return;
	}
	drain_queue(p, &p->q_head, &p->q_tail);
	drain_queue(p, &p->rq_head, &p->rq_tail);
	xf_push_queue_abort(p, code,
	                    code == XF_ABORT_CANCEL ? "cancelled by the operator" : "aborted");
	xf_push_enter_aborted(p, code);
	transmit(p, now);
}

bool
xf_push_zip(const struct xf_push *p)
{
	return p->st.zip_on;
}

void
xf_push_stats(const struct xf_push *p, struct xf_push_stats *st)
{
	*st = p->st;
	st->state = (uint8_t)p->state;
}

void
xf_push_reliab_stats(const struct xf_push *p, struct xf_reliab_stats *st)
{
	xf_reliab_stats(p->rel, st);
}

const char *
xf_push_peer_abort_msg(const struct xf_push *p)
{
	return p->peer_abort_msg;
}
