/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of one session. See xf_push.h and docs/PROTOCOL.md.
 *
 * Frames are encoded once, when their content is known, with packet number 0; the
 * number is written into the header at each (re)transmission, so a retransmission
 * is the same bytes under a new number. Every frame the session holds is in exactly
 * one place: the send queue, the reliability engine (in flight), or freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_delta.h"
#include "xf_push.h"

/* Files whose data may be read at once: enough to keep small files pipelined. */
#define ACTIVE_FILES 64u
/* Frames asked of the reader in one request, and requests outstanding per file: a large
 * file keeps the reader READ_CHUNK * REQS_PER_FILE frames ahead. */
#define READ_CHUNK    32u
#define REQS_PER_FILE 4u
/* Frame records beyond the tracked slots and the read-ahead, for control frames. */
#define CONTROL_FRAMES 64u
/* DELTA: matcher ops waiting for a frame above which no more of a DELTA file is read. */
#define OPS_HIGH 512u
/* DELTA: signature blocks held at once over all files (8 bytes + 1 each); a file whose
 * signatures would exceed it is sent as literals only (a matcher with no blocks). */
#define SIG_BLOCKS_MAX (1u << 24)

enum file_state {
	F_UNLISTED = 0, /**< not yet in a FLIST frame (waiting for credit) */
	F_LISTED,       /**< listed, no decision yet */
	F_SIGWAIT,      /**< DELTA: collecting the basis signatures */
	F_QUEUED,       /**< WHOLE: waiting for a reading slot */
	F_READING,      /**< data being read and sent */
	F_DATA_DONE,    /**< every DATA frame sent; FILE_END once all are acknowledged */
	F_END_SENT,     /**< FILE_END sent; waiting for COMMIT */
	F_SETTLED,      /**< committed, up to date or failed */
};

struct push_file {
	uint8_t state;     /**< enum file_state */
	uint8_t status;    /**< enum xf_file_status once failed */
	uint8_t eof;       /**< the reader delivered the last frame */
	uint8_t give_up;   /**< F_QUEUED: give it up (this status) once it gets a slot */
	uint8_t decided;   /**< its DECISION arrived */
	uint32_t unacked;  /**< DATA frames sent, not yet acknowledged */
	uint8_t reqs;      /**< read requests outstanding */
	uint32_t asked;    /**< frames asked for and not yet delivered or given up */
	uint64_t got_off;  /**< end of the data delivered so far */
	uint64_t next_off; /**< offset of the next frame to ask for */
	uint64_t size;     /**< at eof: bytes read */
	uint64_t crc64;    /**< at eof */
	/* DELTA */
	uint8_t delta;                /**< decided DELTA: the reader's data feeds the matcher */
	uint32_t block_size;          /**< from the DECISION */
	uint32_t block_count;         /**< records expected (0: no usable basis) */
	uint32_t sigs_got;            /**< distinct records received */
	struct xf_sig_rec *sigs;      /**< block_count records */
	uint8_t *have;                /**< per block: record received */
	struct xf_delta_match *match; /**< while reading */
	uint32_t dops;                /**< ops of this file waiting for a frame */
	uint64_t last_seq;            /**< sequence number of its last op so far */
	uint8_t handed;               /**< delta_request: the reader owns the signatures */
};

/* A matcher op waiting for a frame: DATA bytes are in the push's literal buffer. */
struct dop {
	uint8_t kind; /**< XF_DELTA_OP_* */
	uint32_t file;
	uint32_t len;
	uint64_t off;
	uint64_t src; /**< COPY: basis offset; DATA: offset in lit */
	uint64_t seq; /**< op sequence number */
};

/* A frame the session holds: queued to send, or in flight in the reliability engine. */
struct push_frame {
	void *frame;
	uint8_t *payload;
	uint16_t len;
	uint8_t type;            /**< enum xf_msg_type */
	uint8_t retransmit;      /**< queued again after a loss */
	uint8_t ra;              /**< counted in read_ahead until its first transmission */
	uint32_t file;           /**< file index for DATA and FILE_END */
	struct push_frame *next; /**< send queue or free list */
};

struct xf_push {
	struct xf_push_cfg cfg;
	struct xf_push_io io;
	struct xf_reliab *rel;
	const struct xf_flist_entry *ent;
	uint32_t count;
	struct push_file *files;
	enum xf_push_state state;

	uint16_t peer_payload; /**< min(ours, the peer's max_payload) once known */
	uint32_t credit;       /**< files with index < credit may be listed */
	uint32_t next_list;    /**< next index to put in a FLIST frame */
	uint32_t committed;    /**< receiver: every index below it is settled */
	/* Files the reader works on (F_READING, F_DATA_DONE), and files waiting for one of
	 * those slots (F_QUEUED, in decision order): polls look at these, never at the whole
	 * credit window (a scan of it per poll was a third of the sender's time on small
	 * files). */
	uint32_t act[ACTIVE_FILES];
	uint32_t active;
	uint32_t *queued; /**< FIFO of file indices, room for every file */
	uint32_t fq_head, fq_tail;
	uint32_t read_ahead; /**< DATA frames asked of the reader and not yet sent once */
	uint32_t pool_free;  /**< frame records free */
	bool done_sent;      /**< the empty LAST FLIST of an empty list is queued */
	bool peer_done;      /**< the receiver's DONE arrived */
	bool hello_queued;

	struct push_frame *pool; /**< every frame record, allocated once */
	struct push_frame *free_list;
	struct push_frame *q_head, *q_tail;   /**< send queue, FIFO */
	struct push_frame *rq_head, *rq_tail; /**< retransmissions, sent first */

	struct xf_push_stats st;
	uint16_t abort_code;

	/* DELTA: ops waiting for frames (FIFO) and their literal bytes. */
	struct dop *ops;
	size_t ops_head, ops_n, ops_cap;
	uint8_t *lit;
	size_t lit_head, lit_n, lit_cap;
	uint64_t op_seq;
	uint32_t emit_file; /**< file whose matcher is running (emit callback) */
	int emit_err;
	uint64_t sig_blocks; /**< signature records allocated over all files */
	/* Frame records beyond the pool: DATA ops of the reader's matcher that found the
	 * pool empty (its output per request is not bounded by the frames asked for). */
	struct push_frame **extra;
	uint32_t nextra;
};

/*
 * A record and a buffer for a control frame. Records for the DATA frames the reader
 * was asked for are reserved: control frames never take them, so a delivered frame
 * always finds a record.
 */
static struct push_frame *
pf_get(struct xf_push *p)
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

/* A record for a DATA frame of the reader's matcher: reserved ones first, else a new
 * one (it joins the free list when done, so the pool only grows to the peak). */
static struct push_frame *
pf_take(struct xf_push *p)
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

static void
pf_put(struct xf_push *p, struct push_frame *f)
{
	if (f->frame != NULL) {
		p->io.frame_free(p->io.arg, f->frame);
		f->frame = NULL;
	}
	f->next = p->free_list;
	p->free_list = f;
	p->pool_free++;
}

static void
enqueue(struct push_frame **head, struct push_frame **tail, struct push_frame *f)
{
	f->next = NULL;
	if (*tail != NULL) {
		(*tail)->next = f;
	} else {
		*head = f;
	}
	*tail = f;
}

static struct push_frame *
dequeue(struct push_frame **head, struct push_frame **tail)
{
	struct push_frame *f = *head;

	if (f != NULL) {
		*head = f->next;
		if (*head == NULL) {
			*tail = NULL;
		}
		f->next = NULL;
	}
	return f;
}

static struct xf_hdr
hdr_for(const struct xf_push *p, uint8_t type)
{
	struct xf_hdr h = { .type = type, .session = p->cfg.session_id };

	return h;
}

static void
delta_free(struct xf_push *p, struct push_file *f)
{
	xf_delta_match_free(f->match);
	f->match = NULL;
	if (f->sigs != NULL) {
		p->sig_blocks -= f->block_count;
	}
	xf_lease_free(f->sigs);
	xf_lease_free(f->have);
	f->sigs = NULL;
	f->have = NULL;
}

static void
act_add(struct xf_push *p, uint32_t idx)
{
	p->act[p->active++] = idx;
}

static void
act_remove(struct xf_push *p, uint32_t idx)
{
	for (uint32_t k = 0; k < p->active; k++) {
		if (p->act[k] == idx) {
			p->act[k] = p->act[--p->active];
			return;
		}
	}
}

/* A file decided WHOLE or DELTA waits for a reading slot. */
static void
enqueue_file(struct xf_push *p, uint32_t idx)
{
	if (p->files[idx].state == F_QUEUED || p->fq_tail == p->count) {
		return; /* already queued: a file has one decision */
	}
	p->files[idx].state = F_QUEUED;
	p->queued[p->fq_tail++] = idx;
}

static void
settle(struct xf_push *p, uint32_t idx, uint8_t status)
{
	struct push_file *f = &p->files[idx];

	if (f->state == F_SETTLED) {
		return;
	}
	if (f->state == F_READING || f->state == F_DATA_DONE) {
		act_remove(p, idx);
	}
	delta_free(p, f);
	f->state = F_SETTLED;
	f->status = status;
	if (status != XF_ST_OK) {
		p->st.files_failed++;
	}
}

/* Reliability callbacks: they only move frames between lists and count. */
static void
on_acked(void *arg, const struct xf_reliab_sent *s)
{
	struct xf_push *p = arg;
	struct push_frame *f = s->handle;

	if ((f->type == XF_MSG_DATA || f->type == XF_MSG_COPY) && f->file < p->count &&
	    p->files[f->file].unacked > 0) {
		p->files[f->file].unacked--;
	}
	pf_put(p, f);
}

static void
on_lost(void *arg, const struct xf_reliab_sent *s)
{
	struct xf_push *p = arg;
	struct push_frame *f = s->handle;

	/* Content no longer needed once the file is settled (e.g. failed at the receiver). */
	if ((f->type == XF_MSG_DATA || f->type == XF_MSG_COPY || f->type == XF_MSG_FILE_END) &&
	    f->file < p->count && p->files[f->file].state == F_SETTLED) {
		pf_put(p, f);
		return;
	}
	f->retransmit = 1;
	enqueue(&p->rq_head, &p->rq_tail, f);
}

struct xf_push *
xf_push_create(const struct xf_push_cfg *cfg, const struct xf_push_io *io,
               const struct xf_flist_entry *entries, uint32_t count, uint64_t now)
{
	struct xf_push *p;
	struct xf_reliab_cfg rc;
	uint32_t nframes;

	if (cfg->session_id == 0 || cfg->max_payload < XF_PAYLOAD_MIN ||
	    cfg->max_payload > XF_PAYLOAD_MAX || io->frame_alloc == NULL ||
	    io->frame_send == NULL || io->frame_free == NULL || io->read_request == NULL ||
	    (count > 0 && entries == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->cfg = *cfg;
	p->io = *io;
	p->ent = entries;
	p->count = count;
	p->state = XF_PUSH_HELLO;
	p->peer_payload = cfg->max_payload;
	p->st.files_total = count;
	p->st.state = XF_PUSH_HELLO;
	for (uint32_t i = 0; i < count; i++) {
		if (entries[i].kind == XF_FILE_REG) {
			p->st.bytes_total += entries[i].size;
		}
	}
	p->files = calloc(count > 0 ? count : 1, sizeof(*p->files));
	p->queued = calloc(count > 0 ? count : 1, sizeof(*p->queued));
	rc = cfg->reliab;
	rc.on_acked = on_acked;
	rc.on_lost = on_lost;
	rc.on_spurious = NULL;
	rc.cb_arg = p;
	p->rel = xf_reliab_create(&rc, now);
	/* Frame records: every tracked slot, the read-ahead, and the control frames queued. */
	nframes = (rc.tx_slots != 0 ? rc.tx_slots : XF_RELIAB_DEFAULT_SLOTS) + XF_PUSH_READ_AHEAD +
	          CONTROL_FRAMES;
	p->pool = calloc(nframes, sizeof(*p->pool));
	if (p->files == NULL || p->queued == NULL || p->rel == NULL || p->pool == NULL) {
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
		pf_put(p, f);
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
		uint32_t nframes = (p->cfg.reliab.tx_slots != 0 ? p->cfg.reliab.tx_slots
		                                                : XF_RELIAB_DEFAULT_SLOTS) +
		                   XF_PUSH_READ_AHEAD + CONTROL_FRAMES;

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
		delta_free(p, &p->files[i]);
	}
	free(p->ops);
	free(p->lit);
	free(p->pool);
	free(p->files);
	free(p->queued);
	free(p);
}

/* Encode a fixed message into a new frame and queue it. */
static int
queue_msg(struct xf_push *p, const struct xf_msg *msg, uint32_t file)
{
	struct push_frame *f = pf_get(p);
	int len;

	if (f == NULL) {
		return -ENOBUFS;
	}
	len = xf_proto_encode(f->payload, p->peer_payload, msg);
	if (len < 0) {
		pf_put(p, f);
		return len;
	}
	f->len = (uint16_t)len;
	f->type = msg->hdr.type;
	f->file = file;
	enqueue(&p->q_head, &p->q_tail, f);
	return 0;
}

/* Queue a frame of an array type with no records (an empty LAST FLIST). */
static int
queue_msg_built(struct xf_push *p, const struct xf_msg *msg)
{
	struct push_frame *f = pf_get(p);
	struct xf_proto_builder b;
	int len;

	if (f == NULL) {
		return -ENOBUFS;
	}
	len = xf_proto_build_begin(&b, f->payload, p->peer_payload, msg);
	len = len == 0 ? xf_proto_build_finish(&b) : len;
	if (len < 0) {
		pf_put(p, f);
		return len;
	}
	f->len = (uint16_t)len;
	f->type = msg->hdr.type;
	f->file = 0;
	enqueue(&p->q_head, &p->q_tail, f);
	return 0;
}

static void
queue_hello(struct xf_push *p)
{
	struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_HELLO) };

	m.hello.min_version = XF_PROTO_VERSION;
	m.hello.max_version = XF_PROTO_VERSION;
	m.hello.max_payload = p->cfg.max_payload;
	m.hello.flags = p->cfg.checksum ? XF_HELLO_F_CHECKSUM : 0;
	m.hello.nonce = p->cfg.nonce;
	m.hello.dest = p->cfg.dest;
	m.hello.dest_len = (uint16_t)strlen(p->cfg.dest);
	if (queue_msg(p, &m, 0) == 0) {
		p->hello_queued = true;
	}
}

static void
queue_abort(struct xf_push *p, uint16_t code, const char *why)
{
	struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_ABORT) };

	m.abort.code = code;
	m.abort.msg = why;
	m.abort.msg_len = (uint16_t)strlen(why);
	queue_msg(p, &m, 0);
}

static void
enter_aborted(struct xf_push *p, uint16_t code)
{
	p->state = XF_PUSH_ABORTED;
	p->abort_code = code;
	p->st.abort_code = code;
	p->st.state = XF_PUSH_ABORTED;
}

/* List as many entries as credit and the frame pool allow. */
static bool
send_flist(struct xf_push *p)
{
	bool busy = false;

	while (p->next_list < p->count && p->next_list < p->credit) {
		struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_FLIST) };
		struct xf_proto_builder b;
		struct push_frame *f = pf_get(p);
		uint32_t first = p->next_list;
		int rc;

		if (f == NULL) {
			break;
		}
		m.flist.first_index = first;
		rc = xf_proto_build_begin(&b, f->payload, p->peer_payload, &m);
		while (rc == 0 && p->next_list < p->count && p->next_list < p->credit) {
			rc = xf_proto_build_flist(&b, &p->ent[p->next_list]);
			if (rc == 0) {
				p->files[p->next_list].state = F_LISTED;
				p->next_list++;
			} else if (rc == -EINVAL || (rc == -ENOSPC && b.count == 0)) {
				/* The entry can never be listed (too long for the frame): fail it,
				 * and list a placeholder? No: the receiver must learn of every
				 * index, so abort cleanly with a reason the operator can act on. */
				XF_LOG(ERR, "push", "entry %u cannot be encoded in a %u-byte frame",
				       p->next_list, p->peer_payload);
				pf_put(p, f);
				queue_abort(p, XF_ABORT_PROTOCOL, "entry too large for a frame");
				enter_aborted(p, XF_ABORT_PROTOCOL);
				return true;
			}
		}
		if (p->next_list == p->count) {
			/* The LAST flag lives in the flist flags field at build time. */
			m.flist.flags = XF_FLIST_F_LAST;
		}
		if (m.flist.flags != 0) {
			/* Rebuild the fixed part with the flag: cheap, the frame is small. */
			uint32_t n = p->next_list - first;

			rc = xf_proto_build_begin(&b, f->payload, p->peer_payload, &m);
			for (uint32_t i = 0; rc == 0 && i < n; i++) {
				rc = xf_proto_build_flist(&b, &p->ent[first + i]);
			}
		}
		rc = xf_proto_build_finish(&b);
		if (rc < 0) {
			pf_put(p, f);
			queue_abort(p, XF_ABORT_PROTOCOL, "file list encoding failed");
			enter_aborted(p, XF_ABORT_PROTOCOL);
			return true;
		}
		f->len = (uint16_t)rc;
		f->type = XF_MSG_FLIST;
		enqueue(&p->q_head, &p->q_tail, f);
		busy = true;
	}
	if (p->count == 0 && !p->done_sent) {
		/* An empty list is one empty FLIST frame with the LAST flag. */
		struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_FLIST) };

		m.flist.flags = XF_FLIST_F_LAST;
		if (queue_msg_built(p, &m) == 0) {
			p->done_sent = true;
			busy = true;
		}
	}
	return busy;
}

static void
queue_file_end(struct xf_push *p, uint32_t idx)
{
	struct push_file *f = &p->files[idx];
	struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_FILE_END) };

	m.file_end.file = idx;
	m.file_end.status = f->status; /* nonzero: we give the file up (give_up) */
	m.file_end.size = f->size;
	m.file_end.crc64 = f->crc64;
	if (queue_msg(p, &m, idx) == 0) {
		f->state = F_END_SENT;
		act_remove(p, idx);
	}
}

static uint32_t
frame_data_len(const struct xf_push *p)
{
	return p->peer_payload - XF_DATA_OVERHEAD;
}

/*
 * We cannot send a file the receiver is waiting for (its read failed): tell it with a
 * FILE_END carrying the status, at once (its data is void, so nothing needs waiting
 * for). The file settles, as failed, with the receiver's COMMIT.
 */
static void
give_up(struct xf_push *p, uint32_t idx, uint8_t status)
{
	struct push_file *f = &p->files[idx];

	if (f->state != F_READING && f->state != F_QUEUED && f->state != F_DATA_DONE) {
		return;
	}
	if (f->state == F_QUEUED && p->active == ACTIVE_FILES) {
		/* No slot: it stays queued and is given up when it gets one. */
		f->give_up = status;
		return;
	}
	if (f->state == F_QUEUED) {
		act_add(p, idx); /* queue_file_end counts it out */
	}
	f->status = status;
	f->size = 0;
	f->crc64 = 0;
	f->eof = 1;
	f->state = F_DATA_DONE;
	delta_free(p, f); /* its queued ops are dropped by drain_ops */
	f->unacked = 0;   /* do not wait for acks of void data */
}

/* Start reading queued files, and ask the reader for more frames of active ones. */
static bool
schedule_reads(struct xf_push *p)
{
	bool busy = false;

	/* Fill the reading slots from the queue, in decision order. */
	while (p->active < ACTIVE_FILES && p->fq_head < p->fq_tail) {
		uint32_t idx = p->queued[p->fq_head++];
		struct push_file *q = &p->files[idx];

		if (q->state != F_QUEUED) {
			continue; /* settled meanwhile (refused, failed at the receiver) */
		}
		q->state = F_READING;
		act_add(p, idx);
		if (q->give_up != 0) {
			give_up(p, idx, q->give_up);
		}
	}
	for (uint32_t k = 0; k < p->active; k++) {
		uint32_t i = p->act[k];
		struct push_file *f = &p->files[i];
		uint32_t n;
		int rc;

		if (f->state != F_READING || f->eof || f->reqs >= REQS_PER_FILE) {
			continue;
		}
		if (f->delta && p->ops_n - p->ops_head >= OPS_HIGH) {
			continue; /* the matcher's output waits for frames: read later */
		}
		if (p->read_ahead + READ_CHUNK > XF_PUSH_READ_AHEAD) {
			break;
		}
		if (f->reqs == 0) {
			f->next_off = f->got_off; /* resynchronise (a file that grew, an error) */
		} else if (f->next_off > p->ent[i].size) {
			continue; /* the outstanding requests reach past the end already */
		}
		/* What the scan saw, plus one frame to find the end. */
		n = 1;
		if (p->ent[i].size > f->next_off) {
			uint64_t left = (p->ent[i].size - f->next_off + frame_data_len(p) - 1) /
			                frame_data_len(p);

			n = (uint32_t)XF_MIN((uint64_t)READ_CHUNK, left + 1);
		}
		if (f->delta && p->io.delta_request != NULL) {
			struct xf_delta_params prm = {
				.block_size = f->block_size,
				.block_count = f->block_count,
				.max_literal = frame_data_len(p),
				.sigs = f->sigs,
			};

			rc = p->io.delta_request(p->io.arg, i, p->ent[i].path, p->ent[i].path_len,
			                         f->next_off, n, frame_data_len(p),
			                         f->handed ? NULL : &prm);
			if (rc == 0 && !f->handed) {
				/* The reader owns the signatures now. */
				f->handed = 1;
				p->sig_blocks -= f->sigs != NULL ? f->block_count : 0;
				f->sigs = NULL;
				xf_lease_free(f->have);
				f->have = NULL;
			}
		} else {
			rc = p->io.read_request(p->io.arg, i, p->ent[i].path, p->ent[i].path_len,
			                        f->next_off, n, frame_data_len(p));
		}
		if (rc == -EAGAIN) {
			break;
		}
		if (rc < 0) {
			give_up(p, i, XF_ST_IO);
			continue;
		}
		f->reqs++;
		f->asked += n;
		p->read_ahead += n;
		f->next_off += (uint64_t)n * frame_data_len(p);
		busy = true;
	}
	return busy;
}

/* FILE_END for files whose data is all acknowledged. Regular files only. */
static bool
check_file_ends(struct xf_push *p)
{
	bool busy = false;

	/* Backwards: queue_file_end takes the file out of the list. */
	for (uint32_t k = p->active; k-- > 0;) {
		uint32_t i = p->act[k];
		struct push_file *f = &p->files[i];

		if (f->state == F_DATA_DONE && f->unacked == 0 && f->dops == 0) {
			queue_file_end(p, i);
			busy = true;
		}
	}
	return busy;
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
		p->st.wire_bytes_sent += (uint64_t)len;
		p->st.frames_sent++;
	}
	p->io.frame_free(p->io.arg, frame);
	return true;
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
		p->st.wire_bytes_sent += f->len;
		p->st.frames_sent++;
		if (f->retransmit) {
			p->st.retransmits++;
		} else if (f->ra && p->read_ahead > 0) {
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
	if (h->status != 0) {
		XF_LOG(ERR, "push", "session %08x refused by the peer (code %u)", p->cfg.session_id,
		       h->status);
		enter_aborted(p, h->status);
		return;
	}
	if (h->nonce != p->cfg.nonce) {
		return; /* not an answer to our HELLO: ignore, the timer resends */
	}
	p->peer_payload = XF_MIN(p->cfg.max_payload, h->max_payload);
	p->credit = h->window;
	p->state = XF_PUSH_RUNNING;
	p->st.state = XF_PUSH_RUNNING;
}

/* ---- DELTA ---- */

static int
ops_reserve(struct xf_push *p)
{
	if (p->ops_head > 0 && p->ops_head == p->ops_n) {
		p->ops_head = p->ops_n = 0;
	}
	if (p->ops_n == p->ops_cap) {
		size_t ncap;
		struct dop *no;

		if (p->ops_head * 2 >= p->ops_n && p->ops_head > 0) {
			memmove(p->ops, p->ops + p->ops_head,
			        (p->ops_n - p->ops_head) * sizeof(*p->ops));
			p->ops_n -= p->ops_head;
			p->ops_head = 0;
			return 0;
		}
		ncap = p->ops_cap != 0 ? p->ops_cap * 2 : 256;
		no = realloc(p->ops, ncap * sizeof(*no));
		if (no == NULL) {
			return -ENOMEM;
		}
		p->ops = no;
		p->ops_cap = ncap;
	}
	return 0;
}

static int
lit_append(struct xf_push *p, const uint8_t *bytes, uint32_t len, uint64_t *at)
{
	if (p->lit_head == p->lit_n) {
		p->lit_head = p->lit_n = 0;
	}
	if (p->lit_n + len > p->lit_cap) {
		size_t ncap = p->lit_cap != 0 ? p->lit_cap : 64u * 1024u;
		uint8_t *nl;

		if (p->lit_head > 0) {
			memmove(p->lit, p->lit + p->lit_head, p->lit_n - p->lit_head);
			p->lit_n -= p->lit_head;
			p->lit_head = 0;
		}
		while (ncap < p->lit_n + len) {
			ncap *= 2;
		}
		if (ncap > p->lit_cap) {
			nl = realloc(p->lit, ncap);
			if (nl == NULL) {
				return -ENOMEM;
			}
			p->lit = nl;
			p->lit_cap = ncap;
		}
	}
	memcpy(p->lit + p->lit_n, bytes, len);
	*at = p->lit_n;
	p->lit_n += len;
	return 0;
}

/*
 * The matcher's output: queued as ops, turned into frames by drain_ops() as frame
 * records allow. Reads of DELTA files stop while OPS_HIGH ops wait, which bounds the
 * queue (and the literal buffer) to what one read request can add on top.
 */
static int
emit_op(void *arg, const struct xf_delta_op *op)
{
	struct xf_push *p = arg;
	struct push_file *f = &p->files[p->emit_file];
	struct dop *d;
	uint64_t at = 0;

	if (ops_reserve(p) < 0 ||
	    (op->kind == XF_DELTA_OP_DATA && lit_append(p, op->bytes, op->len, &at) < 0)) {
		p->emit_err = -ENOMEM;
		return -ENOMEM;
	}
	d = &p->ops[p->ops_n++];
	d->kind = op->kind;
	d->file = p->emit_file;
	d->len = op->len;
	d->off = op->offset;
	d->src = op->kind == XF_DELTA_OP_COPY ? op->src_offset : at;
	d->seq = ++p->op_seq;
	f->last_seq = d->seq;
	f->dops++;
	return 0;
}

/* Frames for queued ops, in order. */
static bool
drain_ops(struct xf_push *p)
{
	bool busy = false;

	while (p->ops_head < p->ops_n) {
		struct dop *d = &p->ops[p->ops_head];
		struct push_file *f = &p->files[d->file];
		struct xf_hdr h;
		struct push_frame *pf;
		int len;

		if (f->status != XF_ST_OK || f->state == F_SETTLED) {
			/* The file failed meanwhile: its ops are void. */
			f->dops -= XF_MIN(f->dops, 1u);
			if (d->kind == XF_DELTA_OP_DATA) {
				p->lit_head += d->len;
			}
			p->ops_head++;
			busy = true;
			continue;
		}
		pf = pf_get(p);
		if (pf == NULL) {
			break;
		}
		if (d->kind == XF_DELTA_OP_DATA) {
			h = hdr_for(p, XF_MSG_DATA);
			if (f->eof && d->seq == f->last_seq) {
				h.flags |= XF_HDR_F_ACKNOW; /* FILE_END waits for it */
			}
			len = xf_proto_data_hdr_encode(pf->payload, &h, d->file, d->off, d->len);
			if (len > 0) {
				memcpy(pf->payload + XF_DATA_OVERHEAD, p->lit + d->src, d->len);
			}
			p->lit_head += d->len;
			p->st.bytes_sent += d->len;
			p->st.bytes_literal += d->len;
			pf->type = XF_MSG_DATA;
		} else {
			struct xf_msg m = { .hdr = hdr_for(p, XF_MSG_COPY) };

			if (f->eof && d->seq == f->last_seq) {
				m.hdr.flags |= XF_HDR_F_ACKNOW;
			}
			m.copy.file = d->file;
			m.copy.len = d->len;
			m.copy.offset = d->off;
			m.copy.src_offset = d->src;
			len = xf_proto_encode(pf->payload, p->peer_payload, &m);
			p->st.bytes_matched += d->len;
			pf->type = XF_MSG_COPY;
		}
		p->ops_head++;
		f->dops--;
		if (len < 0) {
			pf_put(p, pf);
			give_up(p, d->file, XF_ST_IO);
			continue;
		}
		pf->len = (uint16_t)len;
		pf->file = d->file;
		f->unacked++;
		enqueue(&p->q_head, &p->q_tail, pf);
		busy = true;
	}
	return busy;
}

static void delta_ready(struct xf_push *p, uint32_t idx);

/* A DELTA decision: collect the signatures (SIG frames, any order), then read. */
static void
delta_begin(struct xf_push *p, uint32_t idx, const struct xf_decision_rec *d)
{
	struct push_file *f = &p->files[idx];

	f->delta = 1;
	f->block_size = d->block_size;
	f->block_count = d->block_count;
	/* The counts come from the peer: an absurd one (or more signatures than we hold at
	 * once) gets no memory; the file then goes as literals against an empty basis. */
	if (d->block_count == 0 || d->block_count > XF_DELTA_BLOCKS_MAX || d->block_size == 0 ||
	    d->block_size > XF_BLOCK_MAX || p->sig_blocks + d->block_count > SIG_BLOCKS_MAX) {
		f->block_count = 0;
	} else {
		/* From the RX core's ring: no malloc per file (the heap only when it is full). */
		f->sigs =
		        xf_lease_alloc(p->cfg.sig_ring, (size_t)d->block_count * sizeof(*f->sigs));
		f->have = xf_lease_alloc(p->cfg.sig_ring, d->block_count);
		if (f->have != NULL) {
			memset(f->have, 0, d->block_count);
		}
		if (f->sigs == NULL || f->have == NULL) {
			xf_lease_free(f->sigs);
			xf_lease_free(f->have);
			f->sigs = NULL;
			f->have = NULL;
			f->block_count = 0;
		} else {
			p->sig_blocks += d->block_count;
		}
	}
	f->state = F_SIGWAIT;
	if (f->block_count == 0) {
		delta_ready(p, idx);
	}
}

/* Every signature is in: build the matcher and queue the file for reading. */
static void
delta_ready(struct xf_push *p, uint32_t idx)
{
	struct push_file *f = &p->files[idx];
	struct xf_delta_params prm = {
		.block_size = f->block_size,
		.block_count = f->block_count,
		.max_literal = frame_data_len(p),
		.sigs = f->sigs,
	};

	enqueue_file(p, idx);
	if (p->io.delta_request != NULL) {
		return; /* the reader builds it with the file's first request */
	}
	f->match = xf_delta_match_create(&prm, emit_op, p);
	if (f->match == NULL) {
		give_up(p, idx, XF_ST_IO);
	}
}

/* Queue a DATA frame the reader filled (its header of len bytes written) for sending. */
static void
queue_data(struct xf_push *p, struct push_file *f, struct push_frame *pf,
           const struct xf_push_read *rd, int len, bool read_ahead)
{
	pf->frame = rd->frame;
	pf->payload = rd->payload;
	pf->next = NULL;
	pf->retransmit = 0;
	pf->ra = read_ahead;
	pf->type = XF_MSG_DATA;
	pf->file = rd->file;
	pf->len = (uint16_t)len;
	f->unacked++;
	p->st.bytes_sent += rd->len;
	p->st.bytes_literal += rd->len;
	enqueue(&p->q_head, &p->q_tail, pf);
}

/* An op from the reader's matcher (delta_request). */
static void
delta_op(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd)
{
	if (rd->frame != NULL) {
		struct xf_hdr h = hdr_for(p, XF_MSG_DATA);
		struct push_frame *pf = NULL;
		int len = -EINVAL;

		if (f->state == F_READING && (pf = pf_take(p)) != NULL) {
			len = xf_proto_data_hdr_encode(rd->payload, &h, rd->file, rd->offset,
			                               rd->len);
		}
		if (len < 0) {
			if (pf != NULL) {
				pf->frame = NULL;
				pf_put(p, pf);
			}
			p->io.frame_free(p->io.arg, rd->frame);
			if (f->state == F_READING) {
				give_up(p, rd->file, XF_ST_IO);
			}
		} else {
			queue_data(p, f, pf, rd, len, false);
		}
	} else if (rd->copy_len != 0 && f->state == F_READING) {
		struct dop *d;

		if (ops_reserve(p) < 0) {
			give_up(p, rd->file, XF_ST_IO);
			return;
		}
		d = &p->ops[p->ops_n++];
		d->kind = XF_DELTA_OP_COPY;
		d->file = rd->file;
		d->len = rd->copy_len;
		d->off = rd->offset;
		d->src = rd->src_offset;
		d->seq = ++p->op_seq;
		f->last_seq = d->seq;
		f->dops++;
	}
	if (rd->last) {
		f->got_off = rd->offset;
	}
}

/*
 * SIG records of a file. False if the frame cannot be taken yet (its DECISION has not
 * arrived: then it is not acknowledged and comes again).
 */
static bool
on_sig(struct xf_push *p, const struct xf_msg *msg)
{
	const struct xf_msg_sig *sg = &msg->sig;
	struct push_file *f;

	if (sg->file >= p->next_list) {
		return true; /* never listed: a broken peer; ignore */
	}
	f = &p->files[sg->file];
	if (f->state == F_LISTED && !f->decided) {
		return false;
	}
	if (f->state != F_SIGWAIT || f->sigs == NULL || sg->block_size != f->block_size ||
	    sg->first_block >= f->block_count || sg->count > f->block_count - sg->first_block) {
		return true; /* late, duplicate, or not matching the decision: ignore */
	}
	for (uint16_t i = 0; i < sg->count; i++) {
		uint32_t b = sg->first_block + i;

		if (!f->have[b]) {
			f->have[b] = 1;
			xf_proto_sig_get(msg, i, &f->sigs[b]);
			f->sigs_got++;
		}
	}
	if (f->sigs_got == f->block_count) {
		delta_ready(p, sg->file);
	}
	return true;
}

/* Data of a DELTA file from the reader: through the matcher, the frame is not sent. */
static void
delta_feed(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd)
{
	int rc = 0;

	p->emit_file = rd->file;
	if (rd->frame != NULL) {
		f->asked -= XF_MIN(f->asked, 1u);
		f->got_off = rd->offset + rd->len;
		p->read_ahead -= XF_MIN(p->read_ahead, 1u);
		if (f->state == F_READING && f->match != NULL && rd->len > 0) {
			rc = xf_delta_match_feed(f->match, rd->payload + XF_DATA_OVERHEAD, rd->len);
		}
		p->io.frame_free(p->io.arg, rd->frame);
	}
	if (rc == 0 && rd->last && rd->eof && rd->error == 0 && f->state == F_READING &&
	    f->match != NULL) {
		rc = xf_delta_match_finish(f->match);
	}
	if (rc != 0 && f->state == F_READING) {
		give_up(p, rd->file, XF_ST_IO);
	}
}

static void
on_decisions(struct xf_push *p, const struct xf_msg *msg)
{
	for (uint16_t i = 0; i < msg->decision.count; i++) {
		struct xf_decision_rec d;
		struct push_file *f;

		xf_proto_decision_get(msg, i, &d);
		if (d.file >= p->next_list) {
			continue; /* never listed: a broken peer; ignore */
		}
		f = &p->files[d.file];
		if (f->decided) {
			continue; /* a duplicate decision */
		}
		f->decided = 1;
		if (f->state == F_SETTLED) {
			/* Its COMMIT overtook the DECISION (frames may be reordered): it was
			 * counted committed; an up-to-date file was not sent, so say so. */
			if (d.decision == XF_DEC_UPTODATE && f->status == XF_ST_OK) {
				p->st.files_committed--;
				p->st.files_uptodate++;
			}
			continue;
		}
		if (f->state != F_LISTED) {
			continue;
		}
		switch (d.decision) {
		case XF_DEC_UPTODATE:
			p->st.files_uptodate++;
			f->state = F_SETTLED;
			break;
		case XF_DEC_REFUSED:
			settle(p, d.file, d.status != 0 ? d.status : XF_ST_BAD_PATH);
			break;
		case XF_DEC_DELTA:
			if (p->ent[d.file].kind == XF_FILE_REG) {
				delta_begin(p, d.file, &d);
				break;
			}
			f->state = F_END_SENT; /* not a regular file: made from FLIST */
			break;
		case XF_DEC_WHOLE:
			if (p->ent[d.file].kind == XF_FILE_REG) {
				enqueue_file(p, d.file);
			} else {
				/* Directories and symlinks are made by the receiver from FLIST. */
				f->state = F_END_SENT;
			}
			break;
		default:
			break;
		}
	}
}

static void
on_commit(struct xf_push *p, const struct xf_msg *msg)
{
	uint32_t upto = XF_MIN(msg->commit.committed, p->next_list);

	for (uint16_t i = 0; i < msg->commit.count; i++) {
		struct xf_commit_fail cf;

		xf_proto_commit_get(msg, i, &cf);
		if (cf.file < p->next_list) {
			settle(p, cf.file, (uint8_t)cf.status);
		}
	}
	for (uint32_t i = p->committed; i < upto; i++) {
		struct push_file *f = &p->files[i];

		if (f->state != F_SETTLED) {
			settle(p, i, XF_ST_OK);
			p->st.files_committed++;
		} else if (f->status == XF_ST_OK && p->ent[i].kind != XF_FILE_REG) {
			/* directories and symlinks decided UPTODATE were counted there */
		}
	}
	if (upto > p->committed) {
		p->committed = upto;
	}
	if (msg->commit.credit > p->credit) {
		p->credit = msg->commit.credit;
	}
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
			queue_abort(p, XF_ABORT_PROTOCOL, "ACK of a packet never sent");
			enter_aborted(p, XF_ABORT_PROTOCOL);
		}
		break;
	}
	case XF_MSG_DECISION:
		on_decisions(p, msg);
		break;
	case XF_MSG_COMMIT:
		on_commit(p, msg);
		break;
	case XF_MSG_SIG:
		if (!on_sig(p, msg)) {
			return; /* not accepted: not acknowledged, the peer sends it again */
		}
		break;
	case XF_MSG_DONE:
		p->peer_done = true;
		break;
	case XF_MSG_ABORT:
		XF_LOG(ERR, "push", "session %08x aborted by the peer (code %u: %.*s)",
		       p->cfg.session_id, msg->abort.code, (int)msg->abort.msg_len, msg->abort.msg);
		enter_aborted(p, msg->abort.code != 0 ? msg->abort.code : XF_ABORT_PROTOCOL);
		break;
	default:
		break; /* PING needs only the ACK; frames meant for a receiver are ignored */
	}
	xf_reliab_rx_accept(p->rel, now, msg->hdr.pn, eliciting);
	if (msg->hdr.flags & XF_HDR_F_ACKNOW) {
		xf_reliab_ack_now(p->rel);
	}
}

void
xf_push_on_read(struct xf_push *p, const struct xf_push_read *rd, uint64_t now)
{
	struct push_file *f;

	(void)now;
	if (rd->file >= p->count) {
		if (rd->frame != NULL) {
			p->io.frame_free(p->io.arg, rd->frame);
		}
		return;
	}
	f = &p->files[rd->file];
	if (f->delta && p->io.delta_request != NULL) {
		delta_op(p, f, rd);
	} else if (f->delta) {
		delta_feed(p, f, rd);
	} else if (rd->frame != NULL) {
		struct push_frame *pf = p->free_list; /* reserved by read_ahead: never NULL */
		struct xf_hdr h = hdr_for(p, XF_MSG_DATA);
		int len = -EINVAL;

		/* FILE_END waits for the file's last frame to be acked: ask for it at once. */
		if (rd->eof) {
			h.flags |= XF_HDR_F_ACKNOW;
		}
		f->asked -= XF_MIN(f->asked, 1u);
		f->got_off = rd->offset + rd->len;
		if (f->state == F_READING && pf != NULL) {
			/* The reader put the data after the DATA header: write the header. */
			len = xf_proto_data_hdr_encode(rd->payload, &h, rd->file, rd->offset,
			                               rd->len);
		}
		if (len < 0) {
			/* Not wanted any more (the file failed meanwhile), or unencodable. */
			p->io.frame_free(p->io.arg, rd->frame);
			p->read_ahead -= XF_MIN(p->read_ahead, 1u);
			if (f->state == F_READING) {
				give_up(p, rd->file, XF_ST_IO);
			}
		} else {
			p->free_list = pf->next;
			p->pool_free--;
			/* read_ahead keeps counting it until its first transmission. */
			queue_data(p, f, pf, rd, len, true);
		}
	}
	if (!rd->last) {
		return;
	}
	/* Frames of this request that are not coming (end of file, error). */
	f->reqs -= XF_MIN(f->reqs, 1u);
	f->asked -= XF_MIN(f->asked, rd->undelivered);
	p->read_ahead -= XF_MIN(p->read_ahead, rd->undelivered);
	if (f->state != F_READING) {
		return; /* later answers for a file already at its end or failed */
	}
	if (rd->error < 0) {
		XF_LOG(WARNING, "push", "read of %.*s failed: %s", (int)p->ent[rd->file].path_len,
		       p->ent[rd->file].path, strerror(-rd->error));
		give_up(p, rd->file, XF_ST_IO);
		return;
	}
	if (rd->eof) {
		f->eof = 1;
		f->size = rd->size;
		f->crc64 = rd->crc64;
		f->state = F_DATA_DONE;
		p->st.files_sent++;
		if (f->delta) {
			delta_free(p, f); /* finished: its ops are queued */
		}
	}
}

static bool
all_settled(const struct xf_push *p)
{
	return p->committed >= p->count && p->next_list == p->count;
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
		queue_abort(p, XF_ABORT_TIMEOUT, "peer silent past the session timeout");
		enter_aborted(p, XF_ABORT_TIMEOUT);
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
		busy |= send_flist(p);
		busy |= drain_ops(p);
		busy |= schedule_reads(p);
		busy |= check_file_ends(p);
		if (p->peer_done && all_settled(p)) {
			p->state = XF_PUSH_CLOSING;
			p->st.state = XF_PUSH_CLOSING;
		}
	}
	/* The ACK first: a receiver takes our frames only once we acknowledged its
	 * HELLO_ACK (docs/PROTOCOL.md 6.1), which asks for it at once (ACKNOW). */
	busy |= send_ack_if_due(p, now);
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

		queue_msg(p, &m, 0);
		busy |= transmit(p, now);
	}
	return busy;
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
	queue_abort(p, code, code == XF_ABORT_CANCEL ? "cancelled by the operator" : "aborted");
	enter_aborted(p, code);
	transmit(p, now);
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
