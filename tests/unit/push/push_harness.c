/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The channel, the test reader and the scripted receiver of unit-push.
 *
 * Over 1,000 lines: one harness, a scripted peer for xf_push that answers each frame as
 * a receiver would (decisions, signatures, commits, the second attempt of a file, name
 * tables), over a lossy channel; its parts share the channel's and the receiver's state.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_csum.h"
#include "xf_sparse.h"
#include "xf_zip.h"

#include "push_harness.h"

struct push_harness T;

uint32_t
push_rnd(void)
{
	T.seed ^= T.seed << 13;
	T.seed ^= T.seed >> 7;
	T.seed ^= T.seed << 17;
	return (uint32_t)(T.seed >> 11);
}

static void *
t_alloc(void *arg, uint8_t **payload)
{
	struct tframe *f = malloc(sizeof(*f));

	(void)arg;
	if (f == NULL) {
		return NULL;
	}
	T.frames_alive++;
	*payload = f->buf;
	return f;
}

static void
t_free(void *arg, void *frame)
{
	(void)arg;
	T.frames_alive--;
	free(frame);
}

static void
chan_put(struct chan *c, const uint8_t *bytes, uint16_t len, uint64_t due)
{
	CU_ASSERT_FATAL(c->n < MAX_Q);
	c->q[c->n].bytes = malloc(len);
	memcpy(c->q[c->n].bytes, bytes, len);
	c->q[c->n].len = len;
	c->q[c->n].due = due;
	c->q[c->n].seq = T.seq++;
	c->n++;
}

static int
t_send(void *arg, void *frame, uint16_t len)
{
	struct tframe *f = frame;
	uint64_t due = T.now + T.one_way_ns;

	(void)arg;
	T.sent_frames++;
	T.sent_hellos += f->buf[3] == XF_MSG_HELLO;
	T.sent_bytes += len;
	if (push_rnd() % 100 < T.loss_pct || (T.lose_pings && f->buf[3] == XF_MSG_PING)) {
		return 0; /* lost on the wire */
	}
	if (T.lose_acks > 0 && f->buf[3] == XF_MSG_ACK) {
		T.lose_acks--;
		return 0;
	}
	if (push_rnd() % 100 < T.reorder_pct) {
		due += 100000 + push_rnd() % 400000;
	}
	chan_put(&T.to_rx, f->buf, len, due);
	if (push_rnd() % 100 < T.dup_pct) {
		chan_put(&T.to_rx, f->buf, len, due + 50000);
	}
	return 0;
}

static int
t_read_request(void *arg, uint32_t file, const char *path, uint16_t path_len, uint64_t offset,
               uint32_t nframes, uint32_t data_len)
{
	(void)arg;
	CU_ASSERT_EQUAL(path_len, strlen(T.paths[file]));
	CU_ASSERT_EQUAL(memcmp(path, T.paths[file], path_len), 0);
	CU_ASSERT_FATAL(T.nreads < 1024);
	T.reads[T.nreads].file = file;
	T.reads[T.nreads].off = offset;
	T.reads[T.nreads].n = nframes;
	T.reads[T.nreads].dl = data_len;
	T.reads[T.nreads].delta = false;
	T.nreads++;
	return 0;
}

/* The test reader's matcher output, straight to the session. */
static int
t_emit(void *arg, const struct xf_delta_op *op)
{
	struct xf_push_read rd = { .file = T.cur_file, .offset = op->offset };

	(void)arg;
	if (op->kind == XF_DELTA_OP_COPY) {
		rd.copy_len = op->len;
		rd.src_offset = op->src_offset;
	} else {
		rd.frame = t_alloc(NULL, &rd.payload);
		memcpy(rd.payload + XF_DATA_OVERHEAD, op->bytes, op->len);
		rd.len = op->len;
	}
	xf_push_on_read(T.cur_push, &rd, T.now);
	return 0;
}

static int
t_delta_request(void *arg, uint32_t file, const char *path, uint16_t path_len, uint64_t offset,
                uint32_t nframes, uint32_t data_len, const struct xf_delta_params *sig)
{
	int rc = t_read_request(arg, file, path, path_len, offset, nframes, data_len);

	T.reads[T.nreads - 1].delta = true;
	T.delta_requests++;
	if (sig != NULL) {
		/* The first request: the signatures are the reader's now. */
		CU_ASSERT_EQUAL(offset, 0);
		CU_ASSERT_PTR_NULL(T.tm[file]);
		CU_ASSERT_EQUAL(sig->max_literal, data_len);
		T.tsigs[file] = (struct xf_sig_rec *)sig->sigs;
		T.tm[file] = xf_delta_match_create(sig, t_emit, &T.tm[file]);
		CU_ASSERT_PTR_NOT_NULL(T.tm[file]);
	}
	return rc;
}

/* A request of a DELTA file: its bytes through the file's matcher, then the closing
 * answer (as the engine's worker does). */
static void
serve_delta(struct xf_push *p, unsigned int r)
{
	uint32_t file = T.reads[r].file;
	uint64_t off = T.reads[r].off, size = T.ent[file].size;
	uint64_t want = (uint64_t)T.reads[r].n * T.reads[r].dl;
	uint64_t end = off < size ? XF_MIN(size, off + want) : off;
	struct xf_push_read rd = { .file = file, .last = true, .undelivered = T.reads[r].n };

	T.cur_push = p;
	T.cur_file = file;
	if (T.tm[file] == NULL) {
		/* Already at its end (a request issued before the end was known). */
		rd.offset = size;
		rd.eof = true;
		rd.size = size;
		rd.crc64 = T.crc[file];
		xf_push_on_read(p, &rd, T.now);
		return;
	}
	CU_ASSERT_EQUAL(off, T.fed[file]);
	if (end > off) {
		T.crc[file] = xf_csum_crc64(T.crc[file], T.src[file] + off, end - off);
		CU_ASSERT_EQUAL(xf_delta_match_feed(T.tm[file], T.src[file] + off, end - off), 0);
		T.fed[file] = end;
	}
	rd.eof = end - off < want;
	if (rd.eof) {
		CU_ASSERT_EQUAL(xf_delta_match_finish(T.tm[file]), 0);
		xf_delta_match_free(T.tm[file]);
		xf_lease_free(T.tsigs[file]);
		T.tm[file] = NULL;
		T.tsigs[file] = NULL;
	}
	rd.offset = end;
	rd.size = end;
	rd.crc64 = T.crc[file];
	xf_push_on_read(p, &rd, T.now);
}

/* The reader: serve requests in order, the CRC running per file. */
static void
serve_reads(struct xf_push *p)
{
	for (unsigned int r = 0; r < T.nreads; r++) {
		uint32_t file = T.reads[r].file;
		uint64_t off = T.reads[r].off, size = T.ent[file].size;

		if (off == 0) {
			T.crc[file] = 0;
		}
		if (T.reads[r].delta) {
			serve_delta(p, r);
			continue;
		}
		if (file == T.busy_index && T.busy_left > 0) {
			/* No table entry or no buffers: nothing read (as the engine's reader). */
			struct xf_push_read rd = { .file = file,
				                   .offset = off,
				                   .last = true,
				                   .error =
				                           T.busy_left % 2 != 0 ? -EMFILE : -ENOMEM,
				                   .undelivered = T.reads[r].n };

			T.busy_left--;
			xf_push_on_read(p, &rd, T.now);
			continue;
		}
		if (file == T.unreadable_index) {
			struct xf_push_read rd = { .file = file,
				                   .offset = off,
				                   .last = true,
				                   .error = -EIO,
				                   .undelivered = T.reads[r].n };

			xf_push_on_read(p, &rd, T.now);
			continue;
		}
		for (uint32_t k = 0; k < T.reads[r].n; k++) {
			struct xf_push_read rd = { .file = file, .offset = XF_MIN(off, size) };
			uint64_t len = off < size ? XF_MIN((uint64_t)T.reads[r].dl, size - off) : 0;
			int n;

			if (len > 0 && T.sparse && xf_sparse_all_zero(T.src[file] + off, len)) {
				/* A hole: counted, in the CRC, no frame. */
				T.crc[file] = xf_csum_crc64(T.crc[file], T.src[file] + off, len);
				rd.len = (uint32_t)len;
				rd.hole = true;
			} else if (len > 0) {
				rd.frame = t_alloc(NULL, &rd.payload);
				T.crc[file] = xf_csum_crc64(T.crc[file], T.src[file] + off, len);
				rd.len = (uint32_t)len;
				/* What the session's read requests say (the engine's reader
				 * compresses by them): --compress, or the HELLO_ACK asked. */
				rd.ztried = xf_push_zip(p);
				n = rd.ztried ? xf_zip_deflate(T.zip, T.src[file] + off, rd.len,
				                               rd.payload + XF_DATA_OVERHEAD,
				                               rd.len - rd.len / 16)
				              : -1;
				if (n > 0) {
					rd.raw_len = rd.len;
					rd.len = (uint32_t)n;
				} else {
					memcpy(rd.payload + XF_DATA_OVERHEAD, T.src[file] + off,
					       len);
				}
			}
			off += len;
			/* A short (or empty) read is the end, as it is for the real reader. */
			rd.eof = len < T.reads[r].dl;
			rd.last = rd.eof || k + 1 == T.reads[r].n;
			rd.undelivered = rd.last ? T.reads[r].n - k - (len > 0 ? 1 : 0) : 0;
			rd.size = XF_MIN(off, size);
			rd.crc64 = T.crc[file];
			xf_push_on_read(p, &rd, T.now);
			if (rd.last) {
				break;
			}
		}
	}
	T.nreads = 0;
}

/* The receiver's frames: encoded and put on the lossless direction. */
static void
rx_send(struct xf_msg *m)
{
	uint8_t buf[XF_PAYLOAD_MAX];
	int len;

	m->hdr.session = T.session;
	m->hdr.pn = T.rx_pn++;
	len = xf_proto_encode(buf, sizeof(buf), m);
	CU_ASSERT_FATAL(len > 0);
	chan_put(&T.to_tx, buf, (uint16_t)len, T.now + T.one_way_ns);
}

static void
rx_send_built(struct xf_proto_builder *b)
{
	int len = xf_proto_build_finish(b);

	CU_ASSERT_FATAL(len > 0);
	chan_put(&T.to_tx, b->buf, (uint16_t)len, T.now + T.one_way_ns);
}

/* A COMMIT or DONE of the receiver's: kept until acknowledged (rx_resend_held), put on
 * the wire delay_ns late, or not at all when lost. */
static void
rx_send_held(const uint8_t *buf, uint16_t len, uint64_t pn, uint64_t delay_ns, bool lost)
{
	CU_ASSERT_FATAL(T.nheld < MAX_HELD);
	memcpy(T.held[T.nheld].buf, buf, len);
	T.held[T.nheld].len = len;
	T.held[T.nheld].pn = pn;
	T.held[T.nheld].sent_at = T.now;
	T.held[T.nheld].live = true;
	T.nheld++;
	if (!lost) {
		chan_put(&T.to_tx, buf, len, T.now + T.one_way_ns + delay_ns);
	}
}

static void
rx_held_acked(const struct xf_ack_range *r)
{
	for (unsigned int i = 0; i < T.nheld; i++) {
		T.held[i].live &= !(r->first <= T.held[i].pn && T.held[i].pn <= r->last);
	}
}

static void
rx_resend_held(void)
{
	for (unsigned int i = 0; i < T.nheld; i++) {
		if (!T.held[i].live || T.now - T.held[i].sent_at < RESEND_NS) {
			continue;
		}
		T.held[i].pn = T.rx_pn++;
		T.held[i].sent_at = T.now;
		xf_proto_set_pn(T.held[i].buf, T.held[i].pn);
		if (T.held[i].buf[3] == XF_MSG_DONE) {
			T.done_pn = T.held[i].pn;
		}
		chan_put(&T.to_tx, T.held[i].buf, T.held[i].len, T.now + T.one_way_ns);
		T.resends++;
	}
}

static void
rx_ack(uint64_t pn)
{
	/* Acknowledge exactly the one frame: the sender must cope with single ranges. */
	struct xf_msg m = { .hdr = { .type = XF_MSG_ACK, .session = T.session, .pn = T.rx_pn++ } };
	struct xf_ack_range r = { pn, pn };
	struct xf_proto_builder b;
	uint8_t buf[256];

	m.ack.largest = pn;
	CU_ASSERT_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m) == 0);
	CU_ASSERT_FATAL(xf_proto_build_ack(&b, &r) == 0);
	rx_send_built(&b);
}

static bool
rx_settle_ready(uint32_t i)
{
	return T.rf[i].settled;
}

static void
rx_commit_progress(void)
{
	struct xf_msg m = { .hdr = { .type = XF_MSG_COMMIT, .session = T.session } };
	struct xf_proto_builder b;
	uint8_t buf[XF_PAYLOAD_MAX];
	uint32_t before = T.committed;
	uint64_t late = 0;
	int len;

	while (T.committed < T.total && T.committed < MAX_FILES && rx_settle_ready(T.committed)) {
		T.committed++;
	}
	if (T.committed == before) {
		goto done;
	}
	m.hdr.pn = T.rx_pn++;
	m.commit.committed = T.committed;
	m.commit.credit = T.committed + T.window;
	m.commit.seq = T.commit_seq++;
	CU_ASSERT_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m) == 0);
	for (uint32_t i = before; i < T.committed; i++) {
		if (T.rf[i].failed) {
			struct xf_commit_fail cf = { i, XF_ST_BAD_PATH };

			CU_ASSERT_FATAL(xf_proto_build_commit(&b, &cf) == 0);
			late = i == T.fail_index ? T.late_commit_ns : late;
		}
	}
	len = xf_proto_build_finish(&b);
	CU_ASSERT_FATAL(len > 0);
	rx_send_held(buf, (uint16_t)len, m.hdr.pn, late,
	             T.lose_final_commit && T.committed == T.total);
done:
	if (T.committed == T.total && !T.done_sent) {
		struct xf_msg d = { .hdr = { .type = XF_MSG_DONE } };

		if (T.close_on_done_ack) {
			if (T.done_at == 0) {
				T.done_at = T.now + T.done_delay_ns;
			}
			if (T.now < T.done_at) {
				return; /* rx_tick() comes back */
			}
		}
		d.hdr.session = T.session;
		d.hdr.pn = T.done_pn = T.done_pn_first = T.rx_pn++;
		d.done.files = T.committed;
		len = xf_proto_encode(buf, sizeof(buf), &d);
		CU_ASSERT_FATAL(len > 0);
		rx_send_held(buf, (uint16_t)len, d.hdr.pn, 0, false);
		T.done_sent = true;
	}
}

/* The receiver's list of deletions in FLIST frames of at most 40 entries, the last
 * (empty, LAST) first, then its DONE again. */
static void
rx_send_deleted(void)
{
	uint32_t nframes = (T.ndeleted + 39) / 40;

	for (uint32_t k = nframes + 1; k-- > 0;) {
		uint8_t buf[XF_PAYLOAD_MAX];
		struct xf_msg m = { .hdr = { .type = XF_MSG_FLIST, .session = T.session } };
		struct xf_proto_builder b;
		char path[32];

		m.hdr.pn = T.rx_pn++;
		m.flist.first_index = k == nframes ? T.ndeleted : k * 40;
		m.flist.flags = k == nframes ? XF_FLIST_F_LAST : 0;
		CU_ASSERT_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m) == 0);
		for (uint32_t i = k * 40; k < nframes && i < XF_MIN(T.ndeleted, k * 40 + 40); i++) {
			struct xf_flist_entry e = { .kind = i % 7 == 0 ? XF_FILE_DIR
				                                       : XF_FILE_REG };

			snprintf(path, sizeof(path), "gone/%u", i);
			e.path = path;
			e.path_len = (uint16_t)strlen(path);
			CU_ASSERT_FATAL(xf_proto_build_flist(&b, &e) == 0);
		}
		rx_send_built(&b);
	}
	T.list_rounds++;
	T.list_next_ns = T.now + 1000000;
}

/* The receiver's own clock: a delayed DONE goes out when due; the list of deletions and
 * the DONE again until the DONE is acknowledged. */
static void
rx_tick(void)
{
	if (T.done_at != 0 && !T.done_sent && !T.rx_closed) {
		rx_commit_progress();
	}
	if (T.resend_held && !T.rx_closed) {
		rx_resend_held();
	}
	if (T.ndeleted != 0 && T.done_sent && !T.rx_closed && T.now >= T.list_next_ns) {
		struct xf_msg d = { .hdr = { .type = XF_MSG_DONE } };

		rx_send_deleted();
		d.done = (struct xf_msg_done){ .files = T.committed,
			                       .has_delete = true,
			                       .deleted = T.ndeleted };
		T.done_pn = T.rx_pn;
		rx_send(&d);
	}
}

/* SIG frames of a file's basis, after its DECISION, last block first (any order goes). */
static void
rx_send_sigs(uint32_t file)
{
	uint32_t bs = xf_delta_block_size(T.basis_size[file]);
	uint32_t count = (uint32_t)xf_delta_block_count(T.basis_size[file], bs);
	struct xf_sig_rec *rec = calloc(count + 1, sizeof(*rec));
	struct xf_delta_sig g;
	int n;

	CU_ASSERT_FATAL(xf_delta_sig_begin(&g, bs) == 0);
	n = xf_delta_sig_update(&g, T.basis[file], T.basis_size[file], rec, count);
	CU_ASSERT_FATAL(n >= 0);
	n += xf_delta_sig_finish(&g, rec + n);
	CU_ASSERT_EQUAL_FATAL((uint32_t)n, count);
	for (uint32_t end = count; end > 0;) {
		uint32_t first = end > 50 ? end - 50 : 0; /* 50 records a frame */
		struct xf_msg m = { .hdr = { .type = XF_MSG_SIG, .session = T.session } };
		struct xf_proto_builder b;
		uint8_t buf[XF_PAYLOAD_MAX];

		m.hdr.pn = T.rx_pn++;
		m.sig.file = file;
		m.sig.block_size = bs;
		m.sig.first_block = first;
		CU_ASSERT_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m) == 0);
		for (uint32_t i = first; i < end; i++) {
			CU_ASSERT_FATAL(xf_proto_build_sig(&b, &rec[i]) == 0);
		}
		rx_send_built(&b);
		end = first;
	}
	free(rec);
}

/* The receiver handles one datagram from the sender. */
/*
 * DATA, COPY and FILE_END of the file asked again whole: after the ask only marked
 * frames count (unmarked ones are the first attempt's, late), before it none is marked,
 * nor is any frame of another file. @return true: the frame is dropped.
 */
static bool
redo_filter(const struct xf_msg *m)
{
	uint32_t file;
	bool marked = (m->hdr.flags & XF_HDR_F_REDO) != 0;

	switch (m->hdr.type) {
	case XF_MSG_DATA:
		file = m->data.file;
		break;
	case XF_MSG_COPY:
		file = m->copy.file;
		break;
	case XF_MSG_FILE_END:
		file = m->file_end.file;
		break;
	default:
		CU_ASSERT_FALSE(marked);
		return false;
	}
	if (file != T.redo_index || !T.redo_asked) {
		CU_ASSERT_FALSE(marked);
		return false;
	}
	CU_ASSERT(m->hdr.type != XF_MSG_COPY || !marked); /* sent again whole: no COPY */
	if (!marked) {
		T.redo_stale++;
		return true;
	}
	T.redo_frames++;
	return false;
}

/* The first FILE_END of redo_index: all its data is here and right, yet the receiver
 * asks for it again whole, as xferd's does when the rebuilt file fails its CRC-64. */
static void
rx_ask_redo(uint32_t file)
{
	struct xf_msg d = { .hdr = { .type = XF_MSG_DECISION, .session = T.session } };
	struct xf_decision_rec rec = { .file = file,
		                       .decision = XF_DEC_WHOLE,
		                       .status = XF_ST_REDO };
	struct xf_proto_builder b;
	uint8_t buf[XF_PAYLOAD_MAX];

	T.redo_asked = true;
	memset(T.rf[file].data, 0, T.ent[file].size);
	T.rf[file].size = 0;
	d.hdr.pn = T.rx_pn++;
	CU_ASSERT_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &d) == 0);
	CU_ASSERT_FATAL(xf_proto_build_decision(&b, &rec) == 0);
	rx_send_built(&b);
}

/* FILE_END, or the end a file's one DATA frame carried (XF_HDR_F_END). */
static void
rx_file_end(uint32_t file, uint16_t status, uint64_t size, uint64_t crc64)
{
	struct rfile *f = &T.rf[file];

	if (f->settled) {
		return; /* a retransmitted FILE_END */
	}
	if (status != 0) {
		/* The sender gave the file up: fail it, as the pipeline does. */
		CU_ASSERT_EQUAL(file, T.unreadable_index);
		f->settled = f->failed = 1;
		rx_commit_progress();
		return;
	}
	/* FILE_END comes only after all the file's data: it is all here. */
	CU_ASSERT_EQUAL(size, T.ent[file].size);
	if (T.sparse && f->size < size) {
		f->size = size; /* it ends in a hole: zeros (calloc) */
	}
	CU_ASSERT_EQUAL(f->size, size);
	CU_ASSERT_EQUAL(xf_csum_crc64(0, f->data, f->size), crc64);
	CU_ASSERT_EQUAL(memcmp(f->data, T.src[file], f->size), 0);
	if (file == T.redo_index && !T.redo_asked) {
		rx_ask_redo(file);
		return;
	}
	f->settled = 1;
	f->failed = file == T.fail_index; /* its commit step failed */
	rx_commit_progress();
}

static void check_names(const struct xf_msg *m);

static void
rx_handle(const uint8_t *bytes, uint16_t len)
{
	struct xf_msg m;
	enum xf_proto_reason why;
	bool dup;

	CU_ASSERT_FATAL(xf_proto_decode(bytes, len, &m, &why) == 0);
	CU_ASSERT_EQUAL(m.hdr.session, T.session);
	CU_ASSERT_FATAL(m.hdr.pn < 1u << 20);
	if (T.rx_closed) {
		T.dropped_after_close++; /* no session any more: dropped, unanswered */
		return;
	}
	if (T.close_on_done_ack && T.done_sent && m.hdr.type == XF_MSG_ACK) {
		for (uint16_t i = 0; i < m.ack.count; i++) {
			struct xf_ack_range r;

			xf_proto_ack_get(&m, i, &r);
			T.rx_closed |= (r.first <= T.done_pn && T.done_pn <= r.last) ||
			               (r.first <= T.done_pn_first && T.done_pn_first <= r.last);
		}
	}
	if (m.hdr.type == XF_MSG_ACK) {
		for (uint16_t i = 0; i < m.ack.count; i++) {
			struct xf_ack_range r;

			xf_proto_ack_get(&m, i, &r);
			rx_held_acked(&r);
		}
	}
	if (T.confirm_hello && m.hdr.type == XF_MSG_ACK) {
		for (uint16_t i = 0; i < m.ack.count; i++) {
			struct xf_ack_range r;

			xf_proto_ack_get(&m, i, &r);
			T.confirmed |= r.first <= T.hello_ack_pn && T.hello_ack_pn <= r.last;
		}
	}
	if (T.confirm_hello && !T.confirmed &&
	    (m.hdr.type == XF_MSG_FLIST || m.hdr.type == XF_MSG_DATA || m.hdr.type == XF_MSG_COPY ||
	     m.hdr.type == XF_MSG_FILE_END)) {
		T.unconfirmed++; /* not accepted, not acknowledged */
		return;
	}
	dup = T.seen[m.hdr.pn];
	T.seen[m.hdr.pn] = 1;
	if (m.hdr.type == XF_MSG_PING) {
		T.pings++;
	}
	if (m.hdr.type != XF_MSG_ACK && !(T.close_on_done_ack && m.hdr.type == XF_MSG_PING) &&
	    !(T.unacked_hello && m.hdr.type == XF_MSG_HELLO)) {
		rx_ack(m.hdr.pn);
	}
	if (dup) {
		return;
	}
	if (redo_filter(&m)) {
		return;
	}
	switch (m.hdr.type) {
	case XF_MSG_HELLO: {
		struct xf_msg a = { .hdr = { .type = XF_MSG_HELLO_ACK } };

		static const uint8_t msg2[XF_HELLO_ACK_AUTH_LEN];

		CU_ASSERT_EQUAL(m.hello.min_version, XF_PROTO_VERSION);
		T.hellos++;
		if (T.auth != NULL) {
			/* The destination ("dest") and the options are message 1's payload: not
			 * in clear, where only XF_HELLO_F_CLEAR_AEAD and window 0 show. */
			CU_ASSERT_EQUAL(m.hello.flags, XF_HELLO_F_CLEAR_AEAD);
			CU_ASSERT_EQUAL(m.hello.window, 0);
			CU_ASSERT_EQUAL(m.hello.dest_len, 0);
			CU_ASSERT(memmem(bytes, len, "dest", 4) == NULL);
			CU_ASSERT_EQUAL_FATAL(m.hello.auth_len, T.auth_len);
			CU_ASSERT_EQUAL(memcmp(m.hello.auth, T.auth, T.auth_len), 0);
			/* First a refusal in clear, which must change nothing. */
			for (; T.plain_answers > 0; T.plain_answers--) {
				struct xf_msg r = a;

				r.hello.min_version = r.hello.max_version = XF_PROTO_VERSION;
				r.hello.max_payload = 1472;
				r.hello.status = XF_ABORT_REFUSED;
				r.hello.nonce = m.hello.nonce;
				rx_send(&r);
			}
			a.hello.flags = XF_HELLO_F_AEAD;
			a.hello.auth = msg2;
			/* Under AEAD the whole HELLO_ACK is authenticated: the frame's tag covers
			 * its flags (docs/PROTOCOL.md 2.1). */
			a.hello.auth_len = XF_HELLO_ACK_AUTH_LEN;
		} else {
			CU_ASSERT_EQUAL(m.hello.flags & (XF_HELLO_F_AEAD | XF_HELLO_F_SEALED_DEST),
			                0);
			CU_ASSERT_EQUAL(m.hello.auth_len, 0);
			CU_ASSERT(m.hello.dest_len == 4 && memcmp(m.hello.dest, "dest", 4) == 0);
			CU_ASSERT_EQUAL((m.hello.flags & XF_HELLO_F_COMPRESS) != 0, T.compress);
			CU_ASSERT_EQUAL((m.hello.flags & XF_HELLO_F_OWNER_NAMES) != 0,
			                T.owner_names);
			CU_ASSERT_EQUAL((m.hello.flags & XF_HELLO_F_REDO) != 0, T.redo);
		}
		a.hello.min_version = a.hello.max_version = XF_PROTO_VERSION;
		a.hello.max_payload = 1472;
		a.hello.window = T.window;
		a.hello.flags |= T.vol_asks ? XF_HELLO_F_COMPRESS : 0; /* volumes[].compress */
		a.hello.flags |= T.data_end ? XF_HELLO_F_DATA_END : 0;
		a.hello.nonce = m.hello.nonce;
		T.nonce = m.hello.nonce;
		if (T.confirm_hello) {
			a.hdr.flags = XF_HDR_F_ACKNOW; /* as xferd's */
			T.hello_ack_pn = T.rx_pn;
		}
		rx_send(&a);
		break;
	}
	case XF_MSG_FLIST: {
		struct xf_msg d = { .hdr = { .type = XF_MSG_DECISION, .session = T.session } };
		struct xf_proto_builder b;
		struct xf_flist_entry e;
		uint32_t cur = 0, idx = m.flist.first_index;
		uint8_t buf[XF_PAYLOAD_MAX];

		/* Entries never arrive beyond the credit the receiver gave. */
		CU_ASSERT(m.flist.first_index + m.flist.count <= T.committed + T.window);
		if (T.owner_names) {
			check_names(&m);
		}
		d.hdr.pn = T.rx_pn++;
		CU_ASSERT_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &d) == 0);
		while (xf_proto_flist_next(&m, &cur, &e)) {
			struct xf_decision_rec rec = { .file = idx };

			if ((m.flist.flags & XF_FLIST_F_GIVEUP) != 0) {
				/* A placeholder (6.23): one entry, a prefix of the path, refused.
				 */
				CU_ASSERT_EQUAL(m.flist.count, 1);
				CU_ASSERT(e.kind == XF_FILE_REG && e.size == 0 && e.path_len >= 1 &&
				          e.path_len <= T.ent[idx].path_len &&
				          memcmp(e.path, T.ent[idx].path, e.path_len) == 0);
				rec.decision = XF_DEC_REFUSED;
				rec.status = XF_ST_TOOBIG;
				T.rf[idx].settled = T.rf[idx].failed = 1;
				T.rf[idx].decided = 1;
				T.rf[idx].decision = rec.decision;
				T.giveups++;
				CU_ASSERT_FATAL(xf_proto_build_decision(&b, &rec) == 0);
				idx++;
				continue;
			}
			CU_ASSERT_EQUAL(e.path_len, strlen(T.paths[idx]));
			CU_ASSERT_EQUAL(e.size, T.ent[idx].size);
			if (T.rf[idx].decided) {
				/* The same entry again (a retransmission): same answer, nothing
				 * reset. */
				rec.decision = T.rf[idx].decision;
				rec.status = rec.decision == XF_DEC_REFUSED ? XF_ST_BAD_PATH : 0;
			} else if (idx == T.refuse_index) {
				rec.decision = XF_DEC_REFUSED;
				rec.status = XF_ST_BAD_PATH;
				T.rf[idx].settled = T.rf[idx].failed = 1;
			} else if (idx == T.uptodate_index || e.kind != XF_FILE_REG) {
				rec.decision = XF_DEC_UPTODATE;
				T.rf[idx].settled = 1;
			} else if (T.basis[idx] != NULL || idx == T.absurd_index) {
				rec.decision = XF_DEC_DELTA;
				rec.block_size = xf_delta_block_size(T.basis_size[idx]);
				rec.block_count = (uint32_t)xf_delta_block_count(T.basis_size[idx],
				                                                 rec.block_size);
				if (idx == T.absurd_index) {
					rec.block_size = 700;
					rec.block_count = 0xfffffff0u; /* and no SIG ever comes */
				}
				T.rf[idx].data = calloc(1, e.size + 1);
			} else {
				rec.decision = XF_DEC_WHOLE;
				T.rf[idx].data = calloc(1, e.size + 1);
			}
			T.rf[idx].decided = 1;
			T.rf[idx].decision = rec.decision;
			CU_ASSERT_FATAL(xf_proto_build_decision(&b, &rec) == 0);
			idx++;
		}
		if (m.flist.flags & XF_FLIST_F_LAST) {
			CU_ASSERT_EQUAL(idx, T.count);
			T.total = idx;
		}
		if (m.flist.count > 0) {
			rx_send_built(&b);
			for (uint32_t i = m.flist.first_index; i < idx; i++) {
				if (T.basis[i] != NULL && i != T.absurd_index) {
					rx_send_sigs(i);
				}
			}
		}
		rx_commit_progress();
		break;
	}
	case XF_MSG_COPY: {
		struct xf_delta_op op = { .kind = XF_DELTA_OP_COPY,
			                  .len = m.copy.len,
			                  .offset = m.copy.offset,
			                  .src_offset = m.copy.src_offset };

		CU_ASSERT_FATAL(m.copy.file < T.count);
		CU_ASSERT_FATAL(T.basis[m.copy.file] != NULL);
		CU_ASSERT_FATAL(T.rf[m.copy.file].data != NULL);
		CU_ASSERT_FALSE(T.rf[m.copy.file].settled);
		CU_ASSERT_EQUAL_FATAL(
		        xf_delta_apply(&op, T.basis[m.copy.file], T.basis_size[m.copy.file],
		                       T.rf[m.copy.file].data, T.ent[m.copy.file].size),
		        0);
		T.rf[m.copy.file].size = XF_MAX(T.rf[m.copy.file].size, m.copy.offset + m.copy.len);
		T.copied += m.copy.len;
		break;
	}
	case XF_MSG_DATA: {
		uint32_t span = xf_proto_data_span(&m.data);

		T.literal += span;
		T.wire_literal += m.data.len;
		CU_ASSERT_FATAL(m.data.file < T.count);
		CU_ASSERT_FATAL(T.rf[m.data.file].data != NULL);
		CU_ASSERT_FATAL(m.data.offset + span <= T.ent[m.data.file].size);
		if (xf_proto_data_ends(&m) && T.rf[m.data.file].settled) {
			T.late_ends++; /* a copy of a file's one frame, sent again */
			break;
		}
		CU_ASSERT_FALSE(T.rf[m.data.file].settled);
		if (!T.rf[m.data.file].opened && !xf_proto_data_ends(&m)) {
			T.rf[m.data.file].opened = 1;
			T.open_now++;
			T.max_open = XF_MAX(T.max_open, T.open_now);
		}
		if (m.data.raw_len != 0) {
			/* Only in a session that announced it or whose HELLO_ACK asked for it,
			 * and exactly raw_len bytes. */
			CU_ASSERT_FATAL(T.compress || T.vol_asks);
			CU_ASSERT_EQUAL_FATAL(xf_zip_inflate(T.zip, m.data.bytes, m.data.len,
			                                     T.rf[m.data.file].data + m.data.offset,
			                                     span),
			                      0);
			T.inflated++;
		} else {
			memcpy(T.rf[m.data.file].data + m.data.offset, m.data.bytes, m.data.len);
		}
		T.rf[m.data.file].size = XF_MAX(T.rf[m.data.file].size, m.data.offset + span);
		if (xf_proto_data_ends(&m)) {
			/* Only to a receiver that said it takes them, and of a whole file. */
			CU_ASSERT(T.data_end);
			CU_ASSERT_EQUAL(m.data.offset, 0);
			T.data_ends++;
			rx_file_end(m.data.file, 0, span, m.data.crc64);
		}
		break;
	}
	case XF_MSG_FILE_END:
		T.file_ends++;
		if (T.rf[m.file_end.file].opened && !T.rf[m.file_end.file].settled) {
			T.rf[m.file_end.file].opened = 0;
			T.open_now--;
		}
		rx_file_end(m.file_end.file, m.file_end.status, m.file_end.size, m.file_end.crc64);
		break;
	case XF_MSG_DONE:
		CU_FAIL("the sender ends its list with the LAST flag, never with DONE");
		break;
	default:
		break;
	}
}

/* Deliver what is due in a channel, in due order (which reorders). */
unsigned int
push_deliver(struct chan *c, struct xf_push *p)
{
	unsigned int n = 0;

	for (;;) {
		unsigned int best = c->n;

		for (unsigned int i = 0; i < c->n; i++) {
			if (c->q[i].due <= T.now &&
			    (best == c->n || c->q[i].due < c->q[best].due ||
			     (c->q[i].due == c->q[best].due && c->q[i].seq < c->q[best].seq))) {
				best = i;
			}
		}
		if (best == c->n) {
			return n;
		}
		{
			struct dgram d = c->q[best];

			c->q[best] = c->q[--c->n];
			if (p == NULL) {
				rx_handle(d.bytes, d.len);
			} else {
				struct xf_msg m;

				CU_ASSERT_FATAL(xf_proto_decode(d.bytes, d.len, &m, NULL) == 0);
				xf_push_on_frame(p, &m, d.len, T.now);
			}
			free(d.bytes);
			n++;
		}
	}
}

void
push_setup(uint32_t count, uint64_t max_size, unsigned int loss, unsigned int dup,
           unsigned int reorder, uint32_t window)
{
	memset(&T, 0, sizeof(T));
	T.seed = 0x9e3779b97f4a7c15ull ^ (count * 31 + loss);
	T.count = count;
	T.loss_pct = loss;
	T.dup_pct = dup;
	T.reorder_pct = reorder;
	T.window = window;
	T.total = UINT32_MAX;
	T.refuse_index = UINT32_MAX;
	T.fail_index = UINT32_MAX;
	T.unreadable_index = UINT32_MAX;
	T.busy_index = UINT32_MAX;
	T.busy_left = 0;
	T.uptodate_index = UINT32_MAX;
	T.absurd_index = UINT32_MAX;
	T.redo_index = UINT32_MAX;
	T.session = 0x1234abcd;
	T.data_end = true;
	T.one_way_ns = 200000; /* 200 us one way */
	T.seen = calloc(1u << 20, 1);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t size = max_size == 0 ? 0 : push_rnd() % (max_size + 1);

		if (i % 7 == 3) {
			size = 1448 * (1 + i % 3); /* exact multiples of a frame's data */
		}
		snprintf(T.paths[i], sizeof(T.paths[i]), "d%u/f%u", i % 5, i);
		T.src[i] = malloc(size + 1);
		for (uint64_t k = 0; k < size; k++) {
			T.src[i][k] = (uint8_t)push_rnd();
		}
		T.ent[i] = (struct xf_flist_entry){
			.kind = XF_FILE_REG,
			.mode = 0644,
			.size = size,
			.mtime_ns = 1700000000000000000ll + i,
			.path = T.paths[i],
			.path_len = (uint16_t)strlen(T.paths[i]),
		};
	}
}

void
push_teardown(void)
{
	for (uint32_t i = 0; i < T.count; i++) {
		free(T.src[i]);
		free(T.rf[i].data);
		free(T.basis[i]);
		xf_delta_match_free(T.tm[i]);
		xf_lease_free(T.tsigs[i]);
	}
	for (unsigned int i = 0; i < T.to_rx.n; i++) {
		free(T.to_rx.q[i].bytes);
	}
	for (unsigned int i = 0; i < T.to_tx.n; i++) {
		free(T.to_tx.q[i].bytes);
	}
	free(T.seen);
}

/* The file list, as its owner hands it to the session. */
static void
t_entry(void *arg, uint32_t i, struct xf_flist_entry *e)
{
	(void)arg;
	CU_ASSERT_FATAL(i < T.count);
	*e = T.ent[i];
	e->uid = T.owner_names ? 1000u + i % 7u : XF_ID_NONE;
	e->gid = T.owner_names ? 100u + i % 3u : XF_ID_NONE;
}

/* The sender's names (T.owner_names): uid u "u<u>", gid g "g<g>", none for u % 7 == 6. */
static const struct xf_name_rec *
t_name(void *arg, enum xf_name_kind kind, uint32_t id)
{
	static char text[2][1100][8];
	static struct xf_name_rec rec[2][1100];
	unsigned int k = kind == XF_NAME_USER ? 0u : 1u;

	(void)arg;
	CU_ASSERT_FATAL(id < 1100);
	if (k == 0 && id % 7u == 6u) {
		return NULL;
	}
	snprintf(text[k][id], sizeof(text[k][id]), "%c%u", k == 0 ? 'u' : 'g', id);
	rec[k][id] = (struct xf_name_rec){ .kind = (uint8_t)kind,
		                           .len = (uint8_t)strlen(text[k][id]),
		                           .id = id,
		                           .name = text[k][id] };
	return &rec[k][id];
}

/* An FLIST of a push with names: each id of its entries the sender names has its
 * record, with that name (the decoder has checked order, use and uniqueness). */
static void
check_names(const struct xf_msg *m)
{
	struct xf_flist_entry e;
	struct xf_name_rec r;
	uint32_t cur = 0;
	unsigned int want = 0, have = 0;
	bool seen[2][1100] = { { false } };

	while (xf_proto_flist_next(m, &cur, &e)) {
		CU_ASSERT_FATAL(e.uid < 1100 && e.gid < 1100);
		want += !seen[0][e.uid] && e.uid % 7u != 6u;
		want += !seen[1][e.gid];
		seen[0][e.uid] = seen[1][e.gid] = true;
	}
	cur = 0;
	while (xf_proto_flist_name_next(m, &cur, &r)) {
		const struct xf_name_rec *s = t_name(NULL, r.kind, r.id);

		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT(r.len == s->len && memcmp(r.name, s->name, r.len) == 0);
		have++;
	}
	CU_ASSERT_EQUAL(have, want);
	T.names_seen += have;
}

/* Files settled at the receiver beyond its first unsettled one (T.max_ahead). */
static uint32_t
settled_ahead(void)
{
	uint32_t i = 0, n = 0;

	while (i < T.count && T.rf[i].settled) {
		i++;
	}
	for (; i < T.count; i++) {
		n += T.rf[i].settled;
	}
	return n;
}

/* Run a push to the end; returns its final stats. */
void
push_run(struct xf_push_stats *st, struct xf_reliab_stats *rs)
{
	struct xf_push_cfg cfg = {
		.session_id = T.session,
		.nonce = 42,
		.dest = "dest",
		.max_payload = 1472,
		.auth = T.auth,
		.auth_len = T.auth_len,
		.seal_overhead = T.seal_overhead,
		.sig_ring = T.sig_ring,
		.delete_extra = T.ndeleted != 0,
		.max_delete = XF_DELETE_UNLIMITED,
		.itemize = T.ndeleted != 0,
		.compress = T.compress,
		.compress_if_asked = !T.no_compress,
		.owner = T.owner_names,
		.owner_names = T.owner_names,
		.redo = T.redo,
		.items = T.items,
		.deleted = T.deleted,
		.deleted_cap = sizeof(T.deleted),
		.reliab = { .tx_slots = 1024,
		            .rx_window = 1024,
		            .initial_rtt_ns = 1000000,
		            .idle_timeout_ns = 5000000000ull,
		            .keepalive_ns = 100000000ull,
		            .pace_rate = T.pace_rate },
	};
	struct xf_push_io io = { .entry = t_entry,
		                 .name = t_name,
		                 .frame_alloc = t_alloc,
		                 .frame_send = t_send,
		                 .frame_free = t_free,
		                 .read_request = t_read_request,
		                 .delta_request = T.reader_matches ? t_delta_request : NULL };
	struct xf_push *p;
	unsigned long turns = 0;

	T.now = START_NS;
	if (T.compress || T.vol_asks) {
		T.zip = xf_zip_create();
		CU_ASSERT_FATAL(T.zip != NULL);
	}
	p = xf_push_create(&cfg, &io, T.count, T.now);
	CU_ASSERT_FATAL(p != NULL);
	for (;;) {
		xf_push_stats(p, st);
		if (st->state == XF_PUSH_DONE || st->state == XF_PUSH_ABORTED) {
			break;
		}
		xf_push_poll(p, T.now);
		if (T.nreads > 0 && xf_push_waits_peer(p)) {
			T.peer_waits_wrong++; /* its reads are work of its own */
		}
		serve_reads(p);
		xf_push_poll(p, T.now);
		if (xf_push_waits_peer(p)) {
			/* Nothing to do until a frame of the receiver's: no read asked, and a
			 * poll at the same time, with nothing delivered, finds nothing. */
			T.peer_waits++;
			T.peer_waits_wrong += T.nreads > 0 || xf_push_poll(p, T.now);
		}
		if (T.stall_period_ns == 0 ||
		    (T.now - START_NS) % T.stall_period_ns < T.stall_period_ns - T.stall_ns) {
			push_deliver(&T.to_rx, NULL);
		}
		rx_tick();
		push_deliver(&T.to_tx, p);
		T.max_ahead = XF_MAX(T.max_ahead, settled_ahead());
		if (st->bytes_literal + st->bytes_matched > T.literal + T.copied) {
			T.max_unsent = XF_MAX(T.max_unsent, st->bytes_literal + st->bytes_matched -
			                                            T.literal - T.copied);
		}
		T.now += TICK_NS;
		CU_ASSERT_FATAL(++turns < 2000000); /* 100 s of simulated time */
	}
	T.done_ns = T.now;
	xf_push_reliab_stats(p, rs);
	xf_push_destroy(p);
	xf_zip_free(T.zip);
	T.zip = NULL;
	CU_ASSERT_EQUAL(T.frames_alive, 0); /* every frame buffer came back */
	CU_ASSERT_EQUAL(T.peer_waits_wrong, 0);
}
