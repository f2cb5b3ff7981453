/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of a session, delta transfer: a DELTA file's basis signatures from
 * the receiver's SIG frames, the matcher run over the reader's data, and its COPY and
 * DATA ops turned into frames (docs/DELTA.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_push_priv.h"

static void delta_ready(struct xf_push *p, uint32_t idx);

void
xf_push_delta_free(struct xf_push *p, struct push_file *f)
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
 * The matcher's output: queued as ops, turned into frames by xf_push_drain_ops() as frame
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

bool
xf_push_drain_ops(struct xf_push *p)
{
	bool busy = false;

	while (p->ops_head < p->ops_n) {
		struct dop *d = &p->ops[p->ops_head];
		struct push_file *f = &p->files[d->file];
		struct xf_hdr h;
		struct push_frame *pf;
		int len;

		if (f->status != XF_ST_OK || f->state == F_SETTLED) {
			/* The file failed meanwhile: its ops are void (its FILE_END, a give-up,
			 * may wait for the last of them). */
			f->dops -= XF_MIN(f->dops, 1u);
			if (f->dops == 0) {
				end_ready(p, d->file);
			}
			if (d->kind == XF_DELTA_OP_DATA) {
				p->lit_head += d->len;
			}
			p->ops_head++;
			busy = true;
			continue;
		}
		pf = xf_push_pf_get(p);
		if (pf == NULL) {
			break;
		}
		if (d->kind == XF_DELTA_OP_DATA) {
			h = hdr_for(p, XF_MSG_DATA);
			if (f->eof && d->seq == f->last_seq) {
				h.flags |= XF_HDR_F_ACKNOW; /* FILE_END waits for it */
			}
			len = xf_proto_data_hdr_encode(pf->payload, &h, d->file, d->off, d->len, 0);
			if (len > 0) {
				memcpy(pf->payload + XF_DATA_OVERHEAD, p->lit + d->src, d->len);
			}
			p->lit_head += d->len;
			p->st.bytes_sent += d->len;
			p->st.bytes_literal += d->len;
			p->st.bytes_data_wire += d->len;
			mark_data(p, d->file);
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
			if (d->src != d->off) {
				mark_data(p, d->file); /* moved: the contents differ */
			}
			pf->type = XF_MSG_COPY;
		}
		p->ops_head++;
		f->dops--;
		if (len < 0) {
			xf_push_pf_put(p, pf);
			xf_push_give_up(p, d->file, XF_ST_IO);
			continue;
		}
		pf->len = (uint16_t)len;
		pf->file = d->file;
		pf->ra = RA_DELTA;
		p->delta_queued++;
		f->unacked++;
		enqueue(&p->q_head, &p->q_tail, pf);
		busy = true;
	}
	return busy;
}

void
xf_push_delta_begin(struct xf_push *p, uint32_t idx, const struct xf_decision_rec *d)
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
		.max_literal = xf_push_frame_data_len(p),
		.sigs = f->sigs,
	};

	xf_push_enqueue_file(p, idx);
	if (p->io.delta_request != NULL) {
		return; /* the reader builds it with the file's first request */
	}
	f->match = xf_delta_match_create(&prm, emit_op, p);
	if (f->match == NULL) {
		xf_push_give_up(p, idx, XF_ST_IO);
	}
}

void
xf_push_delta_op(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd)
{
	if (rd->frame != NULL) {
		struct xf_hdr h = hdr_for(p, XF_MSG_DATA);
		struct push_frame *pf = NULL;
		int len = -EINVAL;

		if (f->state == F_READING && (pf = xf_push_pf_take(p)) != NULL) {
			len = xf_proto_data_hdr_encode(rd->payload, &h, rd->file, rd->offset,
			                               rd->len, rd->raw_len);
		}
		if (len < 0) {
			if (pf != NULL) {
				pf->frame = NULL;
				xf_push_pf_put(p, pf);
			}
			p->io.frame_free(p->io.arg, rd->frame);
			if (f->state == F_READING) {
				xf_push_give_up(p, rd->file, XF_ST_IO);
			}
		} else {
			xf_push_queue_data(p, f, pf, rd, len, false);
		}
	} else if (rd->copy_len != 0 && f->state == F_READING) {
		struct dop *d;

		if (ops_reserve(p) < 0) {
			xf_push_give_up(p, rd->file, XF_ST_IO);
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

bool
xf_push_on_sig(struct xf_push *p, const struct xf_msg *msg)
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

void
xf_push_delta_feed(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd)
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
		xf_push_give_up(p, rd->file, XF_ST_IO);
	}
}
