/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, writes: DATA frames coalesced into one pwritev per run of contiguous frames
 * (docs/PIPELINE.md, "DATA writes: one operation per run of frames"), and COPY ops of a
 * DELTA file (a basis range into the temp file, in CBUF steps).
 */

#include <string.h>

#include "xf_worker_priv.h"

static void
release(struct xf_worker *w, void *owner)
{
	const uint8_t *b = owner;

	if (b >= w->z_mem && b < w->z_mem + (size_t)ZSLOTS * ZBUF) {
		/* An inflation buffer, not a frame: back to the pool. */
		w->z_free[w->z_nfree++] = (uint32_t)((size_t)(b - w->z_mem) / ZBUF);
		return;
	}
	if (w->p->conf.release != NULL) {
		w->p->conf.release(w->p->conf.release_arg, owner);
	}
}

/* Write what is left of operation oi: from iov[first], at off. */
static void
wr_prep(struct xf_worker *w, uint32_t oi)
{
	struct wop *o = &w->wo[oi];
	int fd = w->files[o->fslot].fd;

	if (o->n - o->first == 1) {
		/* A lone frame (small files, out of order): a plain write. */
		PREP(w, xf_storage_prep_write(w->st, fd, o->iov[o->first].iov_base,
		                              (uint32_t)o->iov[o->first].iov_len, o->off,
		                              tag_of(T_WRITE, oi)));
		return;
	}
	PREP(w,
	     xf_storage_prep_writev(w->st, fd, o->iov + o->first, (unsigned int)(o->n - o->first),
	                            o->off, tag_of(T_WRITE, oi)));
}

/* Send the operation being filled (if any): one pwritev for all its frames. */
void
wr_flush(struct xf_worker *w)
{
	uint32_t oi;

	if (w->wo_open == 0) {
		return;
	}
	oi = w->wo_open - 1;
	w->wo_open = 0;
	w->t.data_writes++;
	wr_prep(w, oi);
}

/*
 * A compressed DATA item into a buffer of the pool: the frame is released at once and
 * the item made plain, its owner the buffer. A stream that is not exactly one raw
 * DEFLATE stream of raw_len bytes fails the file (XF_ST_CHECKSUM): its bytes cannot be
 * known, and the frame was acknowledged, so it is not sent again; the next push sends
 * the file. Nothing of it is written. @return false if the item is done with.
 */
static bool
inflate_item(struct xf_worker *w, struct wfile *f, struct xf_work *it)
{
	uint32_t slot = w->z_free[--w->z_nfree]; /* the poll loop took no more than there are */
	uint8_t *buf = w->z_mem + (size_t)slot * ZBUF;
	int rc = it->val <= ZBUF ? xf_zip_inflate(w->zip, it->ptr, it->len, buf, (uint32_t)it->val)
	                         : -XF_ZIP_LONG; /* the codec bounds raw_len: never */

	release(w, it->owner);
	if (rc != 0) {
		w->z_free[w->z_nfree++] = slot;
		w->t.zip_bad += rc == -XF_ZIP_BAD;
		w->t.zip_long += rc == -XF_ZIP_LONG;
		w->t.zip_short += rc == -XF_ZIP_SHORT;
		f->status = XF_ST_CHECKSUM;
		return false;
	}
	w->t.zip_frames++;
	w->t.zip_bytes_in += it->len;
	w->t.zip_bytes_out += it->val;
	it->ptr = buf;
	it->len = (uint32_t)it->val;
	it->owner = buf;
	it->flags &= (uint16_t)~XF_WORK_F_COMPRESSED;
	return true;
}

/*
 * A DATA item. Its bytes join the operation being filled when they continue it (same
 * file, next offset, room left); otherwise that one is sent and a new one begins.
 * Nothing waits for a later burst: the poll loop sends the last one after the burst.
 */
void
do_data(struct xf_worker *w, const struct xf_work *item)
{
	uint32_t fi = fslot_of(w, item->sid, item->file);
	struct wfile *f = &w->files[fi];
	struct xf_work plain = *item;
	const struct xf_work *it = &plain;
	uint64_t end;
	struct wop *o = w->wo_open != 0 ? &w->wo[w->wo_open - 1] : NULL;

	if (f->state != W_OPEN || f->file != it->file || f->sid != it->sid || f->gen != it->gen ||
	    f->fe_pending || f->status != XF_ST_OK || f->aborted) {
		release(w, it->owner);
		return;
	}
	if (it->status != XF_ST_OK) {
		/* Data past the announced size: never written (a hostile peer could make a
		 * huge sparse temp); the file fails with this status at its FILE_END. */
		f->status = it->status;
		release(w, it->owner);
		return;
	}
	if (f->lazy && !lazy_open(w, f, fi)) {
		release(w, it->owner); /* it fails at its FILE_END, with f->status */
		return;
	}
	if ((it->flags & XF_WORK_F_COMPRESSED) != 0 && !inflate_item(w, f, &plain)) {
		return;
	}
	end = it->off + it->len;
	/* Running CRC while data arrives in offset order (the buffer is ours until the
	 * release after the write), including the new part of an overlapping frame. */
	if (it->off <= f->crc_off && end > f->crc_off) {
		const uint8_t *p = (const uint8_t *)it->ptr + (f->crc_off - it->off);

		crc_feed(w, f, p, (size_t)(end - f->crc_off));
		f->crc_off = end;
		if (f->npieces > 0) {
			crc_absorb(f);
		}
	}
	if (end > f->max_end) {
		f->max_end = end;
	}
	if (o == NULL || o->fslot != fi || o->end != it->off || o->n == WIOV) {
		uint32_t oi;

		wr_flush(w);
		oi = w->wo_free[--w->wo_nfree];
		o = &w->wo[oi];
		o->fslot = fi;
		o->n = 0;
		o->first = 0;
		o->off = it->off;
		o->end = it->off;
		w->wo_open = oi + 1;
		f->inflight++;
	}
	o->iov[o->n] = (struct iovec){ .iov_base = (void *)(uintptr_t)it->ptr, .iov_len = it->len };
	o->owner[o->n++] = it->owner;
	o->end = end;
	w->ws_nfree--;
}

void
on_write(struct xf_worker *w, uint32_t oi, int32_t res)
{
	struct wop *o = &w->wo[oi];
	struct wfile *f = &w->files[o->fslot];

	if (res > 0) {
		w->t.data_bytes += (uint64_t)res;
		if (o->off + (uint64_t)res < o->end) {
			/* Short write: send the rest, from inside whichever frame it stopped. */
			size_t left = (size_t)res;

			o->off += (uint64_t)res;
			while (o->first < o->n && left >= o->iov[o->first].iov_len) {
				left -= o->iov[o->first++].iov_len;
			}
			o->iov[o->first].iov_base = (uint8_t *)o->iov[o->first].iov_base + left;
			o->iov[o->first].iov_len -= left;
			wr_prep(w, oi);
			return;
		}
		w->t.data_items += o->n;
		stamp(w->now, &w->t.data_first, &w->t.data_last);
	} else if (f->status == XF_ST_OK) {
		f->status = res == 0 ? XF_ST_IO : xf_status_of_errno(-res);
	}
	for (uint32_t i = 0; i < o->n; i++) {
		release(w, o->owner[i]);
	}
	w->ws_nfree += o->n;
	w->wo_free[w->wo_nfree++] = oi;
	if (--f->inflight == 0 && (f->fe_pending || f->aborted)) {
		file_finish(w, o->fslot);
	}
}

/* ---- COPY: a basis range into the temp file, through io_uring in CBUF steps ---- */

static void
copy_step(struct xf_worker *w, uint32_t si)
{
	struct cslot *c = &w->cs[si];
	struct wfile *f = &w->files[c->fslot];

	c->piece = c->left < CBUF ? c->left : CBUF;
	c->wdone = 0;
	if (f->nkeep > 0) {
		/* The basis as its signatures saw it: no read. Past its end is what a read of
		 * a basis shorter than the range gives (0: the file fails). */
		uint64_t end = c->src < f->basis_size ? f->basis_size - c->src : 0;
		uint32_t piece = CBUF - (uint32_t)(c->src % CBUF);

		piece = c->piece < piece ? c->piece : piece;
		piece = end < piece ? (uint32_t)end : piece;
		c->data = piece > 0 ? keep_chunk(w, f, c->src) : NULL;
		w->t.copy_kept += piece;
		on_cread(w, si, (int32_t)piece);
		return;
	}
	c->data = c->buf;
	PREP(w, xf_storage_prep_read(w->st, f->basis_fd, c->buf, c->piece, c->src,
	                             tag_of(T_CREAD, si)));
}

static bool
copy_valid(const struct wfile *f, const struct xf_work *it)
{
	return f->state == W_OPEN && f->file == it->file && f->sid == it->sid &&
	       f->gen == it->gen && f->delta && f->basis_fd >= 0 && !f->fe_pending && !f->aborted;
}

/* Start a queued COPY in slot si (its file's inflight already counts it). */
static void
copy_begin(struct xf_worker *w, uint32_t si, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct cslot *c = &w->cs[si];

	c->fslot = fi;
	c->left = it->len;
	c->off = it->off;
	c->src = it->val;
	copy_step(w, si);
}

static void
copy_end(struct xf_worker *w, uint32_t si)
{
	uint32_t fi = w->cs[si].fslot;
	struct wfile *f = &w->files[fi];

	w->cs_free[w->cs_nfree++] = si;
	while (w->cp_head != w->cp_tail && w->cs_nfree > 0) {
		const struct xf_work *it = &w->cpend[w->cp_head++ % CPEND];
		struct wfile *g = &w->files[fslot_of(w, it->sid, it->file)];

		if (g->status != XF_ST_OK || g->aborted) {
			/* Its file failed meanwhile: nothing to copy, but it was counted. */
			if (--g->inflight == 0 && (g->fe_pending || g->aborted)) {
				file_finish(w, fslot_of(w, it->sid, it->file));
			}
			continue;
		}
		copy_begin(w, w->cs_free[--w->cs_nfree], it);
	}
	if (--f->inflight == 0 && (f->fe_pending || f->aborted)) {
		file_finish(w, fi);
	}
}

/* The running CRC takes every waiting piece it has reached. */
void
crc_absorb(struct wfile *f)
{
	uint32_t k = 0;

	while (k < f->npieces && f->pieces[k].off <= f->crc_off) {
		const struct crc_piece *c = &f->pieces[k++];

		if (c->off == f->crc_off) {
			f->crc = xf_csum_crc64_combine(f->crc, c->crc, c->len);
			if (c->ns) {
				ns_skip(f, c->off, c->len);
			}
			f->crc_off += c->len;
		}
		/* One that overlaps what the CRC already covers (a peer's odd COPYs) is
		 * dropped: the read-back never skips it, so its bytes are read instead. */
	}
	if (k > 0) {
		memmove(f->pieces, f->pieces + k, (f->npieces - k) * sizeof(f->pieces[0]));
		f->npieces = (uint8_t)(f->npieces - k);
	}
}

/* Where the bytes from crc_off on stop being unknown: the next waiting piece, or end. */
uint64_t
crc_gap_end(const struct wfile *f, uint64_t end)
{
	return f->npieces > 0 && f->pieces[0].off < end ? f->pieces[0].off : end;
}

/*
 * The CRC-64 of a COPY from the basis's block CRCs, when it names whole blocks (the
 * matcher's COPYs always do; a range a peer made up is read back instead): one 64-step
 * product per block, no data. It continues the running CRC, or waits as a piece.
 */
static void
copy_crc_combine(struct xf_worker *w, struct wfile *f, uint64_t off, uint64_t src, uint64_t len)
{
	uint64_t first = src / f->bs, n = len / f->bs, tail = len % f->bs;
	uint64_t crc = 0;
	uint32_t k = 0;
	bool placed;

	/* src and len come from the peer: bounded without overflow before any index. */
	if (f->bcrc == NULL || off < f->crc_off || src % f->bs != 0 || src > f->basis_size ||
	    len > f->basis_size - src || (tail != 0 && src + len != f->basis_size)) {
		return;
	}
	if (off > f->crc_off) {
		while (k < f->npieces && f->pieces[k].off < off) {
			k++;
		}
		if (f->npieces == CRC_PIECES ||
		    (k > 0 && f->pieces[k - 1].off + f->pieces[k - 1].len > off) ||
		    (k < f->npieces && off + len > f->pieces[k].off)) {
			return; /* no room, or overlapping: read back */
		}
	}
	for (uint64_t i = first; i < first + n; i++) {
		crc = xf_csum_crc64_mulmod(f->bs_op, crc) ^ f->bcrc[i];
	}
	if (tail != 0) {
		crc = xf_csum_crc64_combine(crc, f->bcrc[first + n], tail);
	}
	f->crc_combined = 1;
	w->t.crc_combined += len;
	placed = ns_copy(w, f, off, src, len);
	if (off == f->crc_off) {
		f->crc = xf_csum_crc64_combine(f->crc, crc, len);
		if (placed) {
			ns_skip(f, off, len);
		}
		f->crc_off = off + len;
		crc_absorb(f);
		return;
	}
	memmove(f->pieces + k + 1, f->pieces + k, (f->npieces - k) * sizeof(f->pieces[0]));
	f->pieces[k] = (struct crc_piece){ .off = off, .len = len, .crc = crc, .ns = placed };
	f->npieces++;
}

/* copy_file_range of a piece; false (the file's status set) if it failed or came short. */
static bool
copy_piece(struct xf_worker *w, struct wfile *f, uint64_t off, uint64_t src, uint64_t len)
{
	int64_t n;

	if (len == 0) {
		return true;
	}
	n = xf_storage_copy_range(f->basis_fd, src, f->fd, off, len);
	if (n > 0) {
		w->t.copy_ranged += (uint64_t)n;
		w->t.data_bytes += (uint64_t)n;
	}
	if (n == (int64_t)len) {
		return true;
	}
	/* A basis shorter than its signatures said changed under us (as on_cread). */
	f->status = n >= 0 ? XF_ST_CHECKSUM : xf_status_of_errno((int)-n);
	return false;
}

/*
 * A COPY without user memory (docs/DELTA.md, "Apply by clone"): the volume's blocks
 * wholly inside the range cloned from the basis, the unaligned ends (or all of it where
 * the offsets differ modulo the block size, or the volume only has copy_file_range)
 * copied in the kernel. Synchronous calls on the worker (no io_uring opcode for either).
 * @return false if the COPY must go the read-and-write way: the volume can do neither,
 *         the basis is kept in memory and the volume cannot clone (copy_file_range
 *         would copy what a write from memory copies), or the basis changed
 *         since its signatures (the kept bytes, or a read, then rebuild what the sender
 *         has).
 */
static bool
copy_direct(struct xf_worker *w, struct wfile *f, uint64_t off, uint64_t src, uint64_t len)
{
	uint64_t blk = w->p->clone_blk, head = 0, mid = 0;

	if (w->p->clone == XF_STORAGE_CLONE_NONE ||
	    (w->p->clone == XF_STORAGE_CLONE_COPY_RANGE && f->nkeep > 0) ||
	    !basis_unchanged(w, f)) {
		return false;
	}
	if (w->p->clone == XF_STORAGE_CLONE_REFLINK && off % blk == src % blk) {
		head = (blk - off % blk) % blk;
		head = head < len ? head : len;
		/* Not the kernel's "up to the source's end" clone of a short last block: it
		 * maps a whole block, and the bytes after the range in it would become zeros. */
		mid = (len - head) / blk * blk;
	}
	if (!copy_piece(w, f, off, src, head)) {
		return true;
	}
	if (mid > 0) {
		uint64_t t0 = now_ns();
		int rc = xf_storage_clone(f->basis_fd, src + head, f->fd, off + head, mid);

		/* What the RX core sharing this lcore lost to it (docs/DELTA.md). */
		w->t.clone_slow += now_ns() - t0 >= 1000000u;
		if (rc == 0) {
			w->t.copy_cloned += mid;
		} else if (!copy_piece(w, f, off + head, src + head, mid)) {
			return true;
		}
	}
	if (!copy_piece(w, f, off + head + mid, src + head + mid, len - head - mid)) {
		return true;
	}
	copy_crc_combine(w, f, off, src, len);
	w->t.data_items++;
	return true;
}

void
do_copy(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];
	uint64_t end = it->off + it->len;

	if (!copy_valid(f, it) || f->status != XF_ST_OK) {
		return;
	}
	if (it->status != XF_ST_OK) {
		f->status = it->status; /* past the announced size: never written (see do_data) */
		return;
	}
	if (end > f->max_end) {
		f->max_end = end;
	}
	if (f->pbasis) {
		w->t.partial_saved += it->len; /* not sent again: taken from its partial */
	}
	if (copy_direct(w, f, it->off, it->val, it->len)) {
		return;
	}
	f->inflight++;
	if (w->cs_nfree > 0) {
		copy_begin(w, w->cs_free[--w->cs_nfree], it);
	} else {
		/* Room was checked before the item was taken off the ring. */
		w->cpend[w->cp_tail++ % CPEND] = *it;
	}
}

void
on_cread(struct xf_worker *w, uint32_t si, int32_t res)
{
	struct cslot *c = &w->cs[si];
	struct wfile *f = &w->files[c->fslot];

	if (res <= 0 || f->status != XF_ST_OK || f->aborted) {
		if (f->status == XF_ST_OK) {
			/* A basis shorter than its signatures said: it changed under us. */
			f->status = res == 0 ? XF_ST_CHECKSUM : xf_status_of_errno(-res);
		}
		copy_end(w, si);
		return;
	}
	c->piece = (uint32_t)res; /* a short read: the rest in the next step */
	if (c->off <= f->crc_off && c->off + c->piece > f->crc_off) {
		const uint8_t *p = c->data + (f->crc_off - c->off);

		crc_feed(w, f, p, (size_t)(c->off + c->piece - f->crc_off));
		f->crc_off = c->off + c->piece;
		if (f->npieces > 0) {
			crc_absorb(f);
		}
	}
	PREP(w,
	     xf_storage_prep_write(w->st, f->fd, c->data, c->piece, c->off, tag_of(T_CWRITE, si)));
}

void
on_cwrite(struct xf_worker *w, uint32_t si, int32_t res)
{
	struct cslot *c = &w->cs[si];
	struct wfile *f = &w->files[c->fslot];

	if (res <= 0) {
		if (f->status == XF_ST_OK) {
			f->status = res == 0 ? XF_ST_IO : xf_status_of_errno(-res);
		}
		copy_end(w, si);
		return;
	}
	c->wdone += (uint32_t)res;
	w->t.data_bytes += (uint64_t)res;
	if (c->wdone < c->piece) {
		PREP(w, xf_storage_prep_write(w->st, f->fd, c->data + c->wdone, c->piece - c->wdone,
		                              c->off + c->wdone, tag_of(T_CWRITE, si)));
		return;
	}
	c->off += c->piece;
	c->src += c->piece;
	c->left -= c->piece;
	if (c->left > 0 && f->status == XF_ST_OK && !f->aborted) {
		copy_step(w, si);
		return;
	}
	w->t.data_items++;
	copy_end(w, si);
}
