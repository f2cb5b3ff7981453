/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of a session, file list and whole-file data: FLIST frames within the
 * receiver's credit, its DECISIONs, the reads asked of the reader, DATA and FILE_END
 * frames (docs/PROTOCOL.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_push_priv.h"

/* The names an FLIST frame carries (docs/PROTOCOL.md 6.21): each id's once. */
struct frame_names {
	struct xf_name_rec rec[XF_NAMES_MAX];
	unsigned int n;
	size_t bytes;
};

static bool
has_name(const struct frame_names *fn, const struct xf_name_rec *r)
{
	for (unsigned int i = 0; i < fn->n; i++) {
		if (fn->rec[i].kind == r->kind && fn->rec[i].id == r->id) {
			return true;
		}
	}
	return false;
}

/* The sender's names of e's ids that the frame does not carry yet (0, 1 or 2 in add[]). */
static unsigned int
names_new(const struct xf_push *p, const struct frame_names *fn, const struct xf_flist_entry *e,
          const struct xf_name_rec *add[2])
{
	unsigned int n = 0;
	const struct xf_name_rec *r;

	if (!p->cfg.owner_names || p->io.name == NULL) {
		return 0;
	}
	r = e->uid != XF_ID_NONE ? p->io.name(p->io.arg, XF_NAME_USER, e->uid) : NULL;
	if (r != NULL && !has_name(fn, r)) {
		add[n++] = r;
	}
	r = e->gid != XF_ID_NONE ? p->io.name(p->io.arg, XF_NAME_GROUP, e->gid) : NULL;
	if (r != NULL && !has_name(fn, r)) {
		add[n++] = r;
	}
	return n;
}

/* Add entry e to b, keeping room for the frame's names with its own (fn). */
static int
build_entry(struct xf_push *p, struct xf_proto_builder *b, struct frame_names *fn,
            const struct xf_flist_entry *e)
{
	const struct xf_name_rec *add[2];
	unsigned int k = names_new(p, fn, e, add);
	size_t bytes = fn->bytes;
	int rc;

	for (unsigned int i = 0; i < k; i++) {
		bytes += add[i]->len;
	}
	b->reserve = xf_proto_names_size(fn->n + k, bytes);
	rc = xf_proto_build_flist(b, e);
	if (rc == -ENOSPC && b->count == 0 && k != 0) {
		/* Alone in a frame, it fits but not with its names: it goes without them, and
		 * the receiver keeps its numbers (docs/PROTOCOL.md 6.21). */
		b->reserve = 0;
		return xf_proto_build_flist(b, e);
	}
	if (rc == 0) {
		for (unsigned int i = 0; i < k; i++) {
			fn->rec[fn->n++] = *add[i];
		}
		fn->bytes = bytes;
	}
	return rc;
}

static int
cmp_name(const void *a, const void *b)
{
	const struct xf_name_rec *x = a, *y = b;
	uint64_t kx = ((uint64_t)x->kind << 32) | x->id, ky = ((uint64_t)y->kind << 32) | y->id;

	return (kx > ky) - (kx < ky);
}

/* Close the frame's entries with its name table, in the (kind, id) order the wire wants. */
static int
build_names(struct xf_proto_builder *b, struct frame_names *fn)
{
	b->reserve = 0;
	qsort(fn->rec, fn->n, sizeof(fn->rec[0]), cmp_name);
	return xf_proto_build_names(b, fn->rec, fn->n);
}

/* An FLIST frame's header: its entries carry attribute sets in a session that asked for
 * them (docs/PROTOCOL.md 6.20). */
static struct xf_hdr
flist_hdr(const struct xf_push *p)
{
	struct xf_hdr h = hdr_for(p, XF_MSG_FLIST);

	if (p->cfg.xattrs || p->cfg.acls) {
		h.flags |= XF_HDR_F_XATTR;
	}
	return h;
}

/*
 * Entry idx can never be listed: too large for a frame with its path, target and
 * attribute set (or not encodable at all). It goes as a placeholder in a frame of its own
 * (XF_FLIST_F_GIVEUP, docs/PROTOCOL.md 6.23): a regular file of size 0, its path cut to what
 * fits, which the receiver refuses XF_ST_TOOBIG. The job reports that file failed and
 * every other entry is listed and sent as usual. @return the frame's length or -errno.
 */
static int
build_giveup(struct xf_push *p, struct push_frame *f, uint32_t idx)
{
	struct xf_msg m = { .hdr = flist_hdr(p) };
	struct xf_flist_entry e = xf_push_entry(p, idx);
	struct xf_flist_entry ph = {
		.kind = XF_FILE_REG, .path = e.path, .uid = XF_ID_NONE, .gid = XF_ID_NONE
	};
	size_t room = (size_t)p->peer_payload - XF_FLIST_OVERHEAD -
	              (p->cfg.owner ? XF_FLIST_OWNER_LEN : 0u) -
	              ((m.hdr.flags & XF_HDR_F_XATTR) != 0 ? 2u : 0u);
	struct xf_proto_builder b;
	int rc;

	m.flist.first_index = idx;
	m.flist.flags = XF_FLIST_F_GIVEUP | (p->cfg.owner ? XF_FLIST_F_OWNER : 0) |
	                (idx + 1 == p->count ? XF_FLIST_F_LAST : 0);
	ph.path_len = (uint16_t)XF_MIN((size_t)e.path_len, room);
	XF_LOG(WARNING, "push",
	       "entry %u ('%.*s...', path %u, target %u and attributes %u bytes) does not fit a "
	       "%u-byte frame: given up, the others go on",
	       idx, (int)XF_MIN(e.path_len, 64u), e.path, e.path_len, e.target_len, e.xattr_len,
	       p->peer_payload);
	rc = xf_proto_build_begin(&b, f->payload, p->peer_payload, &m);
	if (rc == 0) {
		rc = xf_proto_build_flist(&b, &ph);
	}
	return rc == 0 ? xf_proto_build_finish(&b) : rc;
}

bool
xf_push_send_flist(struct xf_push *p)
{
	bool busy = false;

	while (p->next_list < p->count && p->next_list < p->credit) {
		struct xf_msg m = { .hdr = flist_hdr(p) };
		struct xf_proto_builder b;
		struct push_frame *f = xf_push_pf_get(p);
		uint32_t first = p->next_list;
		struct frame_names fn;
		int rc;

		if (f == NULL) {
			break;
		}
		m.flist.first_index = first;
		m.flist.flags = p->cfg.owner ? XF_FLIST_F_OWNER : 0;
		fn.n = 0;
		fn.bytes = 0;
		rc = xf_proto_build_begin(&b, f->payload, p->peer_payload, &m);
		while (rc == 0 && p->next_list < p->count && p->next_list < p->credit) {
			struct xf_flist_entry e = xf_push_entry(p, p->next_list);

			rc = build_entry(p, &b, &fn, &e);
			if (rc == 0) {
				p->files[p->next_list].state = F_LISTED;
				p->next_list++;
			} else if (b.count == 0 && (rc == -EINVAL || rc == -ENOSPC)) {
				/* Alone in a frame and still not listed: never will be. The
				 * receiver must learn of every index: a placeholder in its place
				 * (6.23). Another entry's frame ends before it (rc below). */
				break;
			}
		}
		if (rc != 0 && b.count == 0) {
			uint32_t idx = p->next_list;

			rc = build_giveup(p, f, idx);
			if (rc < 0) {
				xf_push_pf_put(p, f);
				xf_push_queue_abort(p, XF_ABORT_PROTOCOL,
				                    "file list encoding failed");
				xf_push_enter_aborted(p, XF_ABORT_PROTOCOL);
				return true;
			}
			p->files[idx].state = F_LISTED;
			p->next_list++;
			f->len = (uint16_t)rc;
			f->type = XF_MSG_FLIST;
			enqueue(&p->q_head, &p->q_tail, f);
			busy = true;
			continue;
		}
		if (p->next_list == p->count) {
			/* The LAST flag lives in the flist flags field at build time. */
			m.flist.flags |= XF_FLIST_F_LAST;
		}
		if ((m.flist.flags & XF_FLIST_F_LAST) != 0) {
			/* Rebuild the fixed part with the flag: cheap, the frame is small. */
			uint32_t n = p->next_list - first;

			rc = xf_proto_build_begin(&b, f->payload, p->peer_payload, &m);
			for (uint32_t i = 0; rc == 0 && i < n; i++) {
				struct xf_flist_entry e = xf_push_entry(p, first + i);

				rc = xf_proto_build_flist(&b, &e);
			}
		}
		rc = build_names(&b, &fn);
		if (rc == 0) {
			rc = xf_proto_build_finish(&b);
		}
		if (rc < 0) {
			xf_push_pf_put(p, f);
			xf_push_queue_abort(p, XF_ABORT_PROTOCOL, "file list encoding failed");
			xf_push_enter_aborted(p, XF_ABORT_PROTOCOL);
			return true;
		}
		f->len = (uint16_t)rc;
		f->type = XF_MSG_FLIST;
		enqueue(&p->q_head, &p->q_tail, f);
		busy = true;
	}
	if (p->count == 0 && !p->done_sent) {
		/* An empty list is one empty FLIST frame with the LAST flag. */
		struct xf_msg m = { .hdr = flist_hdr(p) };

		m.flist.flags = XF_FLIST_F_LAST | (p->cfg.owner ? XF_FLIST_F_OWNER : 0);
		if (xf_push_queue_msg_built(p, &m) == 0) {
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
	struct xf_msg m = { .hdr = hdr_for_file(p, XF_MSG_FILE_END, f) };

	m.file_end.file = idx;
	m.file_end.status = f->status; /* nonzero: we give the file up (give_up) */
	m.file_end.size = f->size;
	m.file_end.crc64 = f->crc64;
	if (xf_push_queue_msg(p, &m, idx) == 0) {
		f->state = F_END_SENT;
	}
}

uint32_t
xf_push_frame_data_len(const struct xf_push *p)
{
	return p->peer_payload - XF_DATA_OVERHEAD;
}

void
xf_push_give_up(struct xf_push *p, uint32_t idx, uint8_t status)
{
	struct push_file *f = &p->files[idx];
	/* Already in p->due: it enters once (end_ready). */
	bool due = f->state == F_DATA_DONE && f->unacked == 0 && f->dops == 0;

	if (f->state != F_READING && f->state != F_QUEUED && f->state != F_DATA_DONE) {
		return;
	}
	if (f->state == F_QUEUED && p->active == ACTIVE_FILES) {
		/* No slot: it stays queued and is given up when it gets one. */
		f->give_up = status;
		return;
	}
	if (f->state == F_READING) {
		act_remove(p, idx); /* its FILE_END waits in no slot */
	}
	f->status = status;
	f->size = 0;
	f->crc64 = 0;
	f->eof = 1;
	f->state = F_DATA_DONE;
	xf_push_delta_free(p, f); /* its queued ops are dropped by drain_ops */
	f->unacked = 0;           /* do not wait for acks of void data */
	if (!due) {
		end_ready(p, idx);
	}
}

bool
xf_push_schedule_reads(struct xf_push *p)
{
	bool busy = false;

	/* Fill the reading slots from the queue, in decision order. */
	while (p->active < ACTIVE_FILES && p->fq_head < p->fq_tail) {
		uint32_t idx = p->queued[p->fq_head++ % p->count];
		struct push_file *q = &p->files[idx];

		if (q->state != F_QUEUED) {
			continue; /* settled meanwhile (refused, failed at the receiver) */
		}
		q->state = F_READING;
		act_add(p, idx);
		if (q->give_up != 0) {
			xf_push_give_up(p, idx, q->give_up);
		}
	}
	for (uint32_t k = 0; k < p->active; k++) {
		uint32_t i = p->act[k];
		struct push_file *f = &p->files[i];
		struct xf_flist_entry e;
		uint32_t n;
		int rc;

		if (f->state != F_READING || f->eof || f->reqs >= REQS_PER_FILE ||
		    (f->next_off == 0 && f->reqs != 0) ||
		    (f->got_off == 0 && f->reqs != 0 && !f->delta)) {
			/* (The next to last: a file sent again whole whose first attempt still has
			 * requests out; see DECIDED_REDO. The last: one request until the reader
			 * has started the file, so that a later one never finds the file without
			 * a table entry after its first was refused, where it would wait for ever
			 * for the bytes before it: xf_push_on_read asks again from the start. Not
			 * DELTA files, which are not asked again.) */
			continue;
		}
		if (f->delta && p->ops_n - p->ops_head >= OPS_HIGH) {
			continue; /* the matcher's output waits for frames: read later */
		}
		if (p->read_ahead + p->delta_queued + READ_CHUNK > XF_PUSH_READ_AHEAD) {
			break; /* enough read and not yet on the wire */
		}
		e = xf_push_entry(p, i);
		if (f->reqs == 0) {
			f->next_off = f->got_off; /* resynchronise (a file that grew, an error) */
		} else if (f->next_off > e.size) {
			continue; /* the outstanding requests reach past the end already */
		}
		/* What the scan saw, plus one frame to find the end. */
		n = 1;
		if (e.size > f->next_off) {
			uint64_t left = (e.size - f->next_off + xf_push_frame_data_len(p) - 1) /
			                xf_push_frame_data_len(p);

			n = (uint32_t)XF_MIN((uint64_t)READ_CHUNK, left + 1);
		}
		if (f->delta && p->io.delta_request != NULL) {
			struct xf_delta_params prm = {
				.block_size = f->block_size,
				.block_count = f->block_count,
				.max_literal = xf_push_frame_data_len(p),
				.sigs = f->sigs,
			};

			rc = p->io.delta_request(p->io.arg, i, e.path, e.path_len, f->next_off, n,
			                         xf_push_frame_data_len(p),
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
			rc = p->io.read_request(p->io.arg, i, e.path, e.path_len, f->next_off, n,
			                        xf_push_frame_data_len(p));
		}
		if (rc == -EAGAIN) {
			break;
		}
		if (rc < 0) {
			xf_push_give_up(p, i, XF_ST_IO);
			continue;
		}
		f->reqs++;
		p->reqs_out++;
		f->asked += n;
		p->read_ahead += n;
		f->next_off += (uint64_t)n * xf_push_frame_data_len(p);
		busy = true;
	}
	return busy;
}

bool
xf_push_check_file_ends(struct xf_push *p)
{
	bool busy = false;

	while (p->due_head != p->due_tail) {
		uint32_t i = p->due[p->due_head % p->count];

		if (p->files[i].state == F_DATA_DONE) {
			queue_file_end(p, i);
			if (p->files[i].state == F_DATA_DONE) {
				break; /* no frame for it now: the next poll tries again */
			}
		}
		p->due_head++; /* queued, or settled meanwhile */
		busy = true;
	}
	return busy;
}

void
xf_push_queue_data(struct xf_push *p, struct push_file *f, struct push_frame *pf,
                   const struct xf_push_read *rd, int len, bool read_ahead)
{
	pf->frame = rd->frame;
	pf->payload = rd->payload;
	pf->next = NULL;
	pf->retransmit = 0;
	pf->ra = read_ahead ? RA_READ : RA_DELTA;
	p->delta_queued += !read_ahead;
	pf->type = XF_MSG_DATA;
	pf->file = rd->file;
	pf->len = (uint16_t)len;
	f->unacked++;
	p->st.bytes_sent += XF_PUSH_READ_SPAN(rd);
	p->st.bytes_literal += XF_PUSH_READ_SPAN(rd);
	p->st.bytes_data_wire += rd->len;
	p->st.zip_tried += rd->ztried;
	p->st.zip_frames += rd->raw_len != 0;
	mark_data(p, rd->file);
	enqueue(&p->q_head, &p->q_tail, pf);
}

/*
 * An answer for the first attempt of a file sent again whole: let go, counted out as
 * xf_push_on_read() would have. (They come after that attempt's end of file, so they
 * carry no frame; one that did would be a DELTA read's: reserved by read_ahead only
 * where the session matched read_request data itself.)
 */
static void
old_answer(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd)
{
	if (rd->frame != NULL) {
		p->io.frame_free(p->io.arg, rd->frame);
		if (p->io.delta_request == NULL) {
			f->asked -= XF_MIN(f->asked, 1u);
			p->read_ahead -= XF_MIN(p->read_ahead, 1u);
		}
	}
	if (rd->last) {
		p->reqs_out -= f->reqs != 0;
		f->reqs -= XF_MIN(f->reqs, 1u);
		f->asked -= XF_MIN(f->asked, rd->undelivered);
		p->read_ahead -= XF_MIN(p->read_ahead, rd->undelivered);
	}
}

/*
 * The receiver asks for a DELTA file again whole (DECISION WHOLE, XF_ST_REDO): its
 * rebuilt contents failed the CRC-64, and the receiver made a new temp file. Once per
 * file, and only for one whose FILE_END went out (the receiver asks only after it): it
 * is read again from the start and sent as DATA, like a WHOLE file.
 */
static void
redo_file(struct xf_push *p, uint32_t idx)
{
	struct push_file *f = &p->files[idx];

	xf_push_delta_free(p, f);
	f->delta = 0;
	f->handed = 0;
	f->block_count = 0;
	f->eof = 0;
	f->give_up = 0;
	f->status = XF_ST_OK;
	f->got_off = 0;
	f->next_off = 0;
	f->size = 0;
	f->crc64 = 0;
	f->decided = DECIDED_REDO;
	f->state = F_LISTED;
	p->st.files_redone++;
	xf_push_enqueue_file(p, idx);
}

void
xf_push_on_decisions(struct xf_push *p, const struct xf_msg *msg)
{
	for (uint16_t i = 0; i < msg->decision.count; i++) {
		struct xf_decision_rec d;
		struct push_file *f;

		xf_proto_decision_get(msg, i, &d);
		if (d.file >= p->next_list) {
			continue; /* never listed: a broken peer; ignore */
		}
		f = &p->files[d.file];
		if (f->decided == DECIDED_ONCE && d.decision == XF_DEC_WHOLE &&
		    d.status == XF_ST_REDO && f->delta && f->state == F_END_SENT && p->cfg.redo) {
			redo_file(p, d.file);
			continue;
		}
		if (f->decided) {
			continue; /* a duplicate decision (or a redo we did not ask for) */
		}
		f->decided = DECIDED_ONCE;
		if (p->cfg.items != NULL && p->cfg.itemize) {
			p->cfg.items[d.file] = xf_push_item(d.decision, d.items);
		}
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
		if (p->cfg.dry_run && (d.decision == XF_DEC_WHOLE || d.decision == XF_DEC_DELTA)) {
			/* Nothing is sent in a dry run: the receiver settles it as it decides. */
			f->state = F_END_SENT;
			continue;
		}
		switch (d.decision) {
		case XF_DEC_UPTODATE:
			p->st.files_uptodate++;
			f->state = F_SETTLED;
			break;
		case XF_DEC_REFUSED:
			xf_push_settle(p, d.file, d.status != 0 ? d.status : XF_ST_BAD_PATH);
			break;
		case XF_DEC_DELTA:
			if (xf_push_entry(p, d.file).kind == XF_FILE_REG) {
				xf_push_delta_begin(p, d.file, &d);
				break;
			}
			f->state = F_END_SENT; /* not a regular file: made from FLIST */
			break;
		case XF_DEC_WHOLE:
			if (xf_push_entry(p, d.file).kind == XF_FILE_REG) {
				xf_push_enqueue_file(p, d.file);
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

/*
 * May this read's frame carry its file's end (XF_HDR_F_END, docs/PROTOCOL.md 6.9)? Only
 * when it holds the whole file (from offset 0 to the end of file, no DATA of the file sent
 * before it), there is room for the CRC after its bytes, and the receiver takes it. Then
 * no FILE_END waits for the frame's acknowledgement: a small file is one frame, not two
 * and a round trip.
 */
static bool
ends_in_frame(const struct xf_push *p, const struct push_file *f, const struct xf_push_read *rd)
{
	return p->data_end && rd->eof && rd->offset == 0 && rd->size == XF_PUSH_READ_SPAN(rd) &&
	       f->unacked == 0 && !f->delta &&
	       rd->len + XF_DATA_END_LEN <= xf_push_frame_data_len(p);
}

void
xf_push_on_read(struct xf_push *p, const struct xf_push_read *rd, uint64_t now)
{
	struct push_file *f;
	bool ended = false; /* the file's one frame carried its end */

	if (rd->file >= p->count) {
		if (rd->frame != NULL) {
			p->io.frame_free(p->io.arg, rd->frame);
		}
		return;
	}
	f = &p->files[rd->file];
	if (f->decided == DECIDED_REDO && f->next_off == 0) {
		old_answer(p, f, rd);
		return;
	}
	if (f->delta && p->io.delta_request != NULL) {
		xf_push_delta_op(p, f, rd);
	} else if (f->delta) {
		xf_push_delta_feed(p, f, rd);
	} else if (rd->hole) {
		/* Zeros in a hole of the source: read, in the CRC, never sent (the receiver's
		 * file keeps the hole; docs/PROTOCOL.md 6.8). */
		f->asked -= XF_MIN(f->asked, 1u);
		f->got_off = rd->offset + rd->len;
		p->read_busy_since = 0; /* the reader delivers: its refusals are passing */
		p->read_ahead -= XF_MIN(p->read_ahead, 1u);
		p->st.bytes_sparse += rd->len;
	} else if (rd->frame != NULL) {
		struct push_frame *pf = p->free_list; /* reserved by read_ahead: never NULL */
		struct xf_hdr h = hdr_for_file(p, XF_MSG_DATA, f);
		bool end = ends_in_frame(p, f, rd);
		int len = -EINVAL;

		/* FILE_END waits for the file's last frame to be acked: ask for it at once. */
		if (rd->eof && !end) {
			h.flags |= XF_HDR_F_ACKNOW;
		}
		f->asked -= XF_MIN(f->asked, 1u);
		f->got_off = rd->offset + XF_PUSH_READ_SPAN(rd);
		p->read_busy_since = 0;
		if (f->state == F_READING && pf != NULL) {
			/* The reader put the data after the DATA header: write the header (and
			 * the file's CRC after the data). */
			len = end ? xf_proto_data_end_encode(rd->payload, &h, rd->file, rd->len,
			                                     rd->raw_len, rd->crc64)
			          : xf_proto_data_hdr_encode(rd->payload, &h, rd->file, rd->offset,
			                                     rd->len, rd->raw_len);
		}
		if (len < 0) {
			/* Not wanted any more (the file failed meanwhile), or unencodable. */
			p->io.frame_free(p->io.arg, rd->frame);
			p->read_ahead -= XF_MIN(p->read_ahead, 1u);
			if (f->state == F_READING) {
				xf_push_give_up(p, rd->file, XF_ST_IO);
			}
		} else {
			p->free_list = pf->next;
			p->pool_free--;
			/* read_ahead keeps counting it until its first transmission. */
			xf_push_queue_data(p, f, pf, rd, len, true);
			ended = end;
		}
	}
	if (!rd->last) {
		return;
	}
	/* Frames of this request that are not coming (end of file, error). */
	p->reqs_out -= f->reqs != 0;
	f->reqs -= XF_MIN(f->reqs, 1u);
	f->asked -= XF_MIN(f->asked, rd->undelivered);
	p->read_ahead -= XF_MIN(p->read_ahead, rd->undelivered);
	if (f->state != F_READING) {
		return; /* later answers for a file already at its end or failed */
	}
	if ((rd->error == -EMFILE || rd->error == -ENOMEM) && f->got_off == 0 && !f->delta) {
		/*
		 * The reader could not start the file: every table entry held by a file still
		 * being read, or no buffers, with many jobs at once (e2e-push-concurrent-16
		 * failed a readable file so). Not a DELTA file: its first request handed the
		 * reader its signatures, which the refusal let go. Nothing of it was delivered,
		 * so it is asked for
		 * again from its start once its requests are all answered (xf_push_schedule_reads
		 * resynchronises next_off then; the reader opens it afresh), as other files end
		 * and free what it needs. Only while the reader still delivers something within
		 * XF_PUSH_READ_RETRY_NS: else it fails as unreadable, below.
		 */
		if (p->read_busy_since == 0) {
			p->read_busy_since = now != 0 ? now : 1;
		}
		if (now - p->read_busy_since < XF_PUSH_READ_RETRY_NS) {
			p->st.read_retries++;
			return;
		}
	}
	if (rd->error < 0) {
		struct xf_flist_entry e = xf_push_entry(p, rd->file);

		XF_LOG(WARNING, "push", "read of %.*s failed: %s", (int)e.path_len, e.path,
		       strerror(-rd->error));
		xf_push_give_up(p, rd->file, XF_ST_IO);
		return;
	}
	if (rd->eof) {
		f->eof = 1;
		f->size = rd->size;
		f->crc64 = rd->crc64;
		f->state = F_DATA_DONE;
		p->st.files_sent += f->decided != DECIDED_REDO; /* counted once */
		act_remove(p, rd->file); /* read: the slot is the next file's */
		if (f->delta) {
			xf_push_delta_free(p, f); /* finished: its ops are queued */
		}
		if (ended) {
			/* Its FILE_END went with its data: as queue_file_end() leaves it. */
			f->state = F_END_SENT;
			p->st.files_data_end++;
		} else {
			end_ready(p, rd->file);
		}
	}
}
