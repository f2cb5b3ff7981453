/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker core: the pipeline's worker (writes, checksums, commits of the sessions we
 * serve) and the file reader of the push jobs, each on an io_uring of its own.
 *
 * The reader takes read requests from the RX cores, reads a request's frames straight
 * into mbufs with one readv, and answers in offset order with the CRC-64 of the file
 * running across requests (a file's requests come one at a time, to this worker only).
 * A DELTA request is read into one contiguous buffer of its slot instead (dbuf), which
 * the CRC-64 and the matcher then take in one piece (deliver_delta()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "xf_base.h"
#include "xf_csum.h"
#include "xf_engine_priv.h"

#define TAG_OPEN 0xffu

/* eng_fd.fd values besides an open descriptor. */
#define FD_FREE    (-1) /* slot unused */
#define FD_OPENING (-2) /* openat2 in flight */
#define FD_ENDED   (-3) /* end of file reached (or an error): size, crc and err are final */

/* Read slot phases. */
enum { R_WAIT_OPEN = 0, R_READING, R_COMPLETE, R_WAIT_FD };

static struct eng_fd *
fd_find(struct eng_worker *w, uint16_t job, uint32_t job_id, uint32_t file)
{
	for (unsigned int i = 0; i < ENG_FDS_MAX; i++) {
		struct eng_fd *f = &w->fds[i];

		if (f->fd != FD_FREE && f->job == job && f->job_id == job_id && f->file == file) {
			return f;
		}
	}
	return NULL;
}

/*
 * Matchers are kept for the next DELTA files (xf_delta_match_reset), so that a worker
 * allocates one only until its spares have grown to the largest file's needs: in
 * combined mode the worker is on the RX core's lcore.
 */
static void
match_put(struct eng_worker *w, struct xf_delta_match *m)
{
	if (m == NULL) {
		return;
	}
	if (w->nspare < ENG_SPARE_MATCHERS) {
		w->spare[w->nspare++] = m;
		return;
	}
	xf_delta_match_free(m);
}

static int emit_op(void *arg, const struct xf_delta_op *op);

static struct xf_delta_match *
match_get(struct eng_worker *w, const struct xf_delta_params *prm)
{
	if (w->nspare > 0) {
		struct xf_delta_match *m = w->spare[--w->nspare];
		int rc = xf_delta_match_reset(m, prm, emit_op, w);

		if (rc == 0) {
			return m;
		}
		if (rc == -EINVAL) {
			w->spare[w->nspare++] = m; /* unchanged: the parameters were bad */
			return NULL;
		}
		xf_delta_match_free(m); /* out of memory while growing */
	}
	return xf_delta_match_create(prm, emit_op, w);
}

static void
fd_close(struct eng_worker *w, struct eng_fd *f)
{
	if (f->fd >= 0) {
		close(f->fd); /* a regular file opened for reading: close does not block */
	}
	f->fd = FD_ENDED;
	match_put(w, f->match);
	xf_lease_free(f->sigs);
	f->match = NULL;
	f->sigs = NULL;
}

/*
 * A table entry for a source file: a free one, else one whose file has ended (answers
 * still to come for it are ignored by the push, which took the first end of file),
 * else one not used for FD_STALE_NS (its job ended mid-file: a running push asks for a
 * file's next frames within moments).
 */
#define FD_STALE_NS (10ull * 1000000000ull)

static struct eng_fd *
fd_alloc(struct eng_worker *w, uint16_t job, uint32_t job_id, uint32_t file, uint64_t now)
{
	struct eng_fd *pick = NULL;

	for (unsigned int i = 0; i < ENG_FDS_MAX && (pick == NULL || pick->fd != FD_FREE); i++) {
		struct eng_fd *f = &w->fds[i];

		if (f->fd == FD_FREE || (f->fd == FD_ENDED && (pick == NULL || pick->fd >= 0)) ||
		    (f->fd >= 0 && pick == NULL && now - f->used_ns > FD_STALE_NS)) {
			pick = f;
		}
	}
	if (pick == NULL) {
		return NULL;
	}
	if (pick->fd >= 0) {
		close(pick->fd);
	}
	match_put(w, pick->match); /* a job that ended mid-file */
	xf_lease_free(pick->sigs);
	*pick = (struct eng_fd){
		.job = job, .job_id = job_id, .file = file, .fd = FD_OPENING, .used_ns = now
	};
	return pick;
}

/*
 * --compress (docs/PROTOCOL.md 6.16): a frame's literal bytes are replaced by their raw
 * DEFLATE stream when that saves at least 1/ZIP_GAIN of them (else the frame goes as it
 * is, and the attempt cost only time). Data that does not compress is not tried on and
 * on: after ZIP_MISSES frames of the job in a row that did not shrink, the next
 * ZIP_SKIP_MIN frames go as they are, then one is tried; each further miss doubles the
 * skip up to ZIP_SKIP_MAX, and a frame that shrinks ends it. The guess is per job, on
 * each worker (the files of a job spread over the workers), so no core shares it.
 */
#define ZIP_GAIN     16u
#define ZIP_MISSES   4u
#define ZIP_SKIP_MIN 16u
#define ZIP_SKIP_MAX 1024u

static void
zip_frame(struct eng_worker *w, const struct eng_read_req *req, uint8_t *data,
          struct eng_read_done *d)
{
	struct eng_zguess *g = &w->zguess[req->job % XF_ENGINE_MAX_JOBS];
	uint32_t len = d->len;
	int n;

	if (!req->compress || len < ZIP_GAIN) {
		return;
	}
	if (g->job_id != req->job_id) {
		*g = (struct eng_zguess){ .job_id = req->job_id };
	}
	if (g->skip > 0) {
		g->skip--;
		return;
	}
	d->ztried = 1;
	n = xf_zip_deflate(w->zip, data, len, w->zbuf, len - len / ZIP_GAIN);
	if (n <= 0) {
		if (++g->misses >= ZIP_MISSES) {
			uint32_t shift = XF_MIN(g->misses - ZIP_MISSES, 6u);

			g->skip = (uint16_t)XF_MIN(ZIP_SKIP_MIN << shift, ZIP_SKIP_MAX);
		}
		return;
	}
	g->misses = 0;
	memcpy(data, w->zbuf, (size_t)n);
	d->raw_len = len;
	d->len = (uint32_t)n;
}

static uint64_t
tag_of(unsigned int slot, unsigned int k)
{
	return ((uint64_t)slot << 8) | k;
}

/*
 * One readv for the request's frames, each mbuf's payload area an iovec: one storage
 * operation (one system call inline, one io-wq hand-off where io_uring cannot read
 * without blocking) instead of one per frame. The completion is split back into frames in
 * reader_poll().
 */
static void
issue_reads(struct eng_read *r, unsigned int slot)
{
	if (r->req.delta) {
		r->iov[0].iov_base = r->dbuf;
		r->iov[0].iov_len = (size_t)r->req.n * r->req.dl;
		xf_storage_prep_readv(r->fd->st, r->fd->fd, r->iov, 1, r->req.off, tag_of(slot, 0));
		r->phase = R_READING;
		return;
	}
	for (unsigned int k = 0; k < r->req.n; k++) {
		r->iov[k].iov_base =
		        rte_pktmbuf_mtod(r->m[k], uint8_t *) + XF_NET_HDR_LEN + XF_DATA_OVERHEAD;
		r->iov[k].iov_len = r->req.dl;
	}
	/* The submission queue holds ENG_READS_MAX entries and more: never full. */
	xf_storage_prep_readv(r->fd->st, r->fd->fd, r->iov, r->req.n, r->req.off, tag_of(slot, 0));
	r->phase = R_READING;
}

/*
 * Split a readv's result over the request's frames: full frames, then the short one
 * where the file ended, then empty ones (a short read of a regular file is its end).
 * An error goes to every frame; deliver() stops at the first.
 */
static void
split_read(struct eng_read *r, int32_t res)
{
	uint64_t left = res > 0 ? (uint64_t)res : 0;

	for (unsigned int k = 0; k < r->req.n; k++) {
		uint32_t got = left < r->req.dl ? (uint32_t)left : r->req.dl;

		r->res[k] = res < 0 ? res : (int32_t)got;
		left -= got;
	}
	r->completed = r->req.n;
	r->phase = R_COMPLETE;
}

/*
 * Answer one result to the RX core; false if there is no room (try again later). While
 * matcher answers wait in the queue, every answer goes behind them: a file's answers
 * must reach the session in order (an "already ended" answer must not overtake the ops
 * before its end).
 */
static bool
answer(struct eng_worker *w, const struct eng_read *r, const struct eng_read_done *d)
{
	if (w->oq_head != w->oq_tail) {
		struct eng_read_done q = *d;

		if (ENG_OQ_SIZE - (w->oq_tail - w->oq_head) <= ENG_OQ_NEED) {
			return false;
		}
		q.rx = r->req.rx;
		w->oq[w->oq_tail++ % ENG_OQ_SIZE] = q;
		return true;
	}
	return xf_ring_enqueue_burst(w->e->rx[r->req.rx].read_from[w->idx], d, 1) == 1;
}

static void
release(struct eng_read *r)
{
	for (unsigned int k = 0; k < r->req.n; k++) {
		rte_pktmbuf_free(r->m[k]);
		r->m[k] = NULL;
	}
	r->used = false;
}

/* The file already ended: one answer saying so, with its final size and CRC. */
static bool
answer_ended(struct eng_worker *w, struct eng_read *r)
{
	const struct eng_fd *f = r->fd;
	struct eng_read_done d = {
		.job = r->req.job,
		.job_id = r->req.job_id,
		.file = r->req.file,
		.off = f != NULL ? f->next_off : r->req.off,
		.last = 1,
		.eof = f != NULL && f->err == 0,
		.error = f != NULL ? f->err : r->err,
		.undelivered = r->req.n,
		.size = f != NULL ? f->next_off : 0,
		.crc64 = f != NULL ? f->crc : 0,
	};

	if (!answer(w, r, &d)) {
		return false;
	}
	release(r);
	return true;
}

/* ---- DELTA: the matcher runs here, over what the reader read ---- */

static bool
oq_put(struct eng_worker *w, const struct eng_read_done *d)
{
	if (w->oq_tail - w->oq_head == ENG_OQ_SIZE) {
		return false; /* cannot happen: a request starts only with ENG_OQ_NEED free */
	}
	w->oq[w->oq_tail++ % ENG_OQ_SIZE] = *d;
	return true;
}

/* Queued answers to their RX cores, in order; false if a ring is full. */
static bool
oq_flush(struct eng_worker *w)
{
	bool busy = false;

	while (w->oq_head != w->oq_tail) {
		struct eng_read_done *d = &w->oq[w->oq_head % ENG_OQ_SIZE];

		if (xf_ring_enqueue_burst(w->e->rx[d->rx].read_from[w->idx], d, 1) != 1) {
			break;
		}
		w->oq_head++;
		busy = true;
	}
	return busy;
}

/* A matcher op: DATA into a frame of its own (the literal after the DATA header), COPY
 * as a bare answer. */
static int
emit_op(void *arg, const struct xf_delta_op *op)
{
	struct eng_worker *w = arg;
	const struct eng_read *r = w->emit_r;
	struct eng_read_done d = { .job = r->req.job,
		                   .job_id = r->req.job_id,
		                   .file = r->req.file,
		                   .rx = r->req.rx,
		                   .off = op->offset };

	if (op->kind == XF_DELTA_OP_COPY) {
		d.copy_len = op->len;
		d.src_offset = op->src_offset;
	} else {
		d.m = rte_pktmbuf_alloc(w->e->mp);
		if (d.m == NULL) {
			w->emit_err = -ENOMEM;
			return -ENOMEM;
		}
		d.payload = rte_pktmbuf_mtod(d.m, uint8_t *) + XF_NET_HDR_LEN;
		d.len = op->len;
		memcpy(d.payload + XF_DATA_OVERHEAD, op->bytes, op->len);
		zip_frame(w, &r->req, d.payload + XF_DATA_OVERHEAD, &d);
	}
	if (!oq_put(w, &d)) {
		rte_pktmbuf_free(d.m);
		w->emit_err = -ENOBUFS;
		return -ENOBUFS;
	}
	return 0;
}

/*
 * A completed DELTA request, next in its file: feed its frames to the file's matcher
 * (built with the first request), CRC64 running over the file, then answer the ops
 * and a closing answer (last, the input offset, eof/size/crc64 or the error). False if
 * the answer queue has no room for it yet.
 */
static bool
deliver_delta(struct eng_worker *w, struct eng_read *r)
{
	struct eng_fd *f = r->fd;
	struct eng_read_done d = { .job = r->req.job,
		                   .job_id = r->req.job_id,
		                   .file = r->req.file,
		                   .rx = r->req.rx,
		                   .last = 1,
		                   .undelivered = r->req.n };
	int32_t err = 0;
	bool eof = false;

	if (ENG_OQ_SIZE - (w->oq_tail - w->oq_head) < ENG_OQ_NEED) {
		return false;
	}
	if (f->match == NULL) {
		struct xf_delta_params prm = {
			.block_size = f->sigs != NULL ? r->req.block_size : 0,
			.block_count = f->sigs != NULL ? r->req.block_count : 0,
			.max_literal = r->req.dl,
			.sigs = f->sigs,
		};

		f->match = match_get(w, &prm);
		if (f->match == NULL) {
			err = -ENOMEM;
		}
	}
	w->emit_r = r;
	w->emit_err = 0;
	/* What the readv gave, in one piece: split_read() gave every frame the error, or
	 * full frames up to the one where the file ended (a short read of a regular file is
	 * its end). One CRC-64 call and one matcher feed for all of it. Why one buffer:
	 * the kernel's copy into 32 frame-sized iovecs cost the reader 3-5% more CPU at
	 * MTU 9000 and 22-25% at MTU 1500 (xf-bench-delta, "reader" rows). */
	if (err == 0 && r->req.n > 0 && r->res[0] < 0) {
		err = r->res[0];
	}
	if (err == 0) {
		size_t got = 0;

		for (unsigned int k = 0; k < r->req.n; k++) {
			got += (size_t)r->res[k];
			if ((uint32_t)r->res[k] < r->req.dl) {
				eof = true;
				break;
			}
		}
		if (got > 0) {
			f->crc = xf_csum_crc64(f->crc, r->dbuf, got);
			f->next_off += got;
			if (xf_delta_match_feed(f->match, r->dbuf, got) != 0) {
				err = w->emit_err != 0 ? w->emit_err : -EIO;
			}
		}
	}
	if (err == 0 && eof && xf_delta_match_finish(f->match) != 0) {
		err = w->emit_err != 0 ? w->emit_err : -EIO;
	}
	d.off = f->next_off;
	d.eof = err == 0 && eof;
	d.error = err;
	d.size = f->next_off;
	d.crc64 = f->crc;
	oq_put(w, &d);
	if (err != 0 || eof) {
		w->delta_files += err == 0;
		f->err = err;
		fd_close(w, f);
	}
	release(r); /* every byte was consumed by the matcher */
	return true;
}

/*
 * Deliver a completed request, frame by frame, in file order. Requests of one file
 * complete in any order; each is delivered only when it is next in the file, so the CRC
 * runs over the file in order. False if the ring filled up midway (resumed later).
 */
static bool
deliver(struct eng_worker *w, struct eng_read *r)
{
	struct eng_fd *f = r->fd;

	if (f->fd == FD_ENDED && r->done == 0) {
		return answer_ended(w, r);
	}
	if (r->done == 0 && r->req.off != f->next_off) {
		return false; /* an earlier request of this file is not delivered yet */
	}
	if (r->req.delta) {
		return deliver_delta(w, r);
	}
	while (r->done < r->req.n) {
		unsigned int k = r->done;
		int32_t res = r->res[k];
		struct eng_read_done d = { .job = r->req.job,
			                   .job_id = r->req.job_id,
			                   .file = r->req.file,
			                   .off = f->next_off };

		if (r->zk == k + 1) {
			d = r->zsave; /* compressed in place before its answer found no room */
		} else if (res > 0) {
			uint8_t *payload = rte_pktmbuf_mtod(r->m[k], uint8_t *) + XF_NET_HDR_LEN;

			d.len = (uint32_t)res;
			d.crc64 = xf_csum_crc64(f->crc, payload + XF_DATA_OVERHEAD, d.len);
			/* A frame in a hole is not sent: the receiver's file keeps a hole there,
			 * and its whole-file CRC reads it as the zeros counted here. */
			d.hole = xf_sparse_in_hole(f->fd, &f->hole, f->next_off,
			                           payload + XF_DATA_OVERHEAD, d.len);
			if (!d.hole) {
				d.m = r->m[k];
				d.payload = payload;
				/* After the CRC and the hole check, which read the raw bytes. */
				zip_frame(w, &r->req, payload + XF_DATA_OVERHEAD, &d);
			}
		} else {
			d.crc64 = f->crc;
		}
		/* A short read of a regular file is its end; an error ends it too. */
		d.eof = res >= 0 && (uint32_t)res < r->req.dl;
		d.error = res < 0 ? res : 0;
		d.last = d.eof || res < 0 || k + 1 == r->req.n;
		d.undelivered = d.last ? r->req.n - k - (res > 0 ? 1 : 0) : 0;
		d.size = f->next_off + (res > 0 ? (uint64_t)res : 0);
		if (!answer(w, r, &d)) {
			if (d.ztried) {
				r->zsave = d; /* tried once: not again, nor counted twice */
				r->zk = k + 1;
			}
			return false;
		}
		r->zk = 0;
		f->crc = d.crc64;
		f->next_off = d.size;
		r->m[k] = d.m != NULL ? NULL : r->m[k]; /* a hole's frame is freed by release */
		r->done++;
		if (res < 0 || d.eof) {
			w->whole_files += res >= 0;
			f->err = res < 0 ? res : 0;
			fd_close(w, f);
		}
		if (d.last) {
			break;
		}
	}
	release(r); /* frames past the end were read for nothing */
	return true;
}

/*
 * A request's buffers: an mbuf per frame, or for a DELTA request its slot's contiguous
 * buffer (allocated at the slot's first DELTA request and kept: at most ENG_READS_MAX
 * allocations in a worker's life, and one more per slot that meets a larger frame).
 * 0, or -ENOMEM.
 */
static int
read_room(struct eng_worker *w, struct eng_read *r)
{
	size_t need = (size_t)r->req.n * r->req.dl;

	if (!r->req.delta) {
		return rte_pktmbuf_alloc_bulk(w->e->mp, r->m, r->req.n) != 0 ? -ENOMEM : 0;
	}
	memset(r->m, 0, sizeof(r->m)); /* release() frees none */
	if (need > r->dbuf_cap) {
		uint8_t *b = realloc(r->dbuf, need);

		if (b == NULL) {
			return -ENOMEM;
		}
		r->dbuf = b;
		r->dbuf_cap = need;
	}
	return 0;
}

/*
 * Set up a request taken from a ring: its source file's table entry (found, or made and
 * its open sent), its buffers, and its reads if the file is open. A new file finds no
 * free entry while every one holds a file still being read (many jobs at once): the
 * request waits in its slot (R_WAIT_FD) and is set up again at the next poll, when a
 * file has ended, rather than failing its file. At most ENG_FD_WAITERS wait, so that
 * the other slots stay free for the next requests of the files that hold the entries
 * (they end them); one more fails as before (-EMFILE). @return false if it waits.
 */
static bool
start_request(struct eng_worker *w, struct eng_read *r, unsigned int slot, uint64_t now)
{
	memset(r->m, 0, sizeof(r->m));
	r->fd = fd_find(w, r->req.job, r->req.job_id, r->req.file);
	if (r->fd != NULL && r->fd->fd == FD_ENDED && r->req.off == 0) {
		/* A file's first request again: the receiver asked for it whole once more
		 * (docs/PROTOCOL.md 6.19; the push asks only once the first attempt's requests
		 * are all answered). Opened and read afresh, its CRC-64 from zero. */
		match_put(w, r->fd->match);
		xf_lease_free(r->fd->sigs);
		r->fd->match = NULL;
		r->fd->sigs = NULL;
		r->fd->fd = FD_FREE;
		r->fd = NULL;
	}
	if (r->fd == NULL) {
		r->fd = fd_alloc(w, r->req.job, r->req.job_id, r->req.file, now);
		if (r->fd == NULL && (r->phase == R_WAIT_FD || w->fd_waiters < ENG_FD_WAITERS)) {
			if (r->phase != R_WAIT_FD) {
				r->phase = R_WAIT_FD;
				w->fd_waiters++;
				w->fd_waits++;
			}
			return false;
		}
		if (r->fd != NULL) {
			r->fd->st = r->req.io_inline ? w->st_inline : w->st;
			/* Tagged with the table entry: the request may be gone (failed) by the
			 * time the open completes. */
			xf_storage_prep_open(r->fd->st, r->req.dir_fd, r->req.path,
			                     O_RDONLY | O_NOFOLLOW, 0,
			                     tag_of((unsigned int)(r->fd - w->fds), TAG_OPEN));
		}
	}
	if (r->phase == R_WAIT_FD) {
		w->fd_waiters--;
	}
	if (r->req.sigs != NULL) {
		/* The file's first DELTA request: its signatures are ours now, given back
		 * with its table entry. */
		if (r->fd != NULL && r->fd->sigs == NULL && r->fd->match == NULL) {
			r->fd->sigs = r->req.sigs;
		} else {
			xf_lease_free(r->req.sigs);
		}
		r->req.sigs = NULL;
	}
	if (r->fd == NULL || (r->fd->fd != FD_ENDED && read_room(w, r) != 0)) {
		/* No table entry or no buffers: this request fails, the file too. */
		memset(r->m, 0, sizeof(r->m));
		r->err = r->fd == NULL ? -EMFILE : -ENOMEM;
		if (r->fd != NULL && r->fd->fd != FD_OPENING) {
			r->fd->err = r->err;
			fd_close(w, r->fd);
		}
		r->fd = NULL;
		r->phase = R_COMPLETE;
		return true;
	}
	r->fd->used_ns = now;
	r->phase = R_WAIT_OPEN;
	if (r->fd->fd >= 0) {
		issue_reads(r, slot);
	} else if (r->fd->fd == FD_ENDED) {
		r->phase = R_COMPLETE;
	}
	return true;
}

static bool
take_requests(struct eng_worker *w, uint64_t now)
{
	bool busy = false;

	for (unsigned int slot = 0; w->fd_waiters > 0 && slot < ENG_READS_MAX; slot++) {
		struct eng_read *r = &w->reads[slot];

		if (r->used && r->phase == R_WAIT_FD) {
			busy |= start_request(w, r, slot, now);
		}
	}
	for (unsigned int rxi = 0; rxi < w->e->conf.n_rx; rxi++) {
		for (unsigned int slot = 0; slot < ENG_READS_MAX; slot++) {
			struct eng_read *r = &w->reads[slot];

			if (r->used) {
				continue;
			}
			if (xf_ring_dequeue_burst(w->e->rx[rxi].read_to[w->idx], &r->req, 1) == 0) {
				break;
			}
			busy = true;
			r->used = true;
			r->done = 0;
			r->zk = 0;
			r->completed = 0;
			r->err = 0;
			r->phase = R_WAIT_OPEN;
			start_request(w, r, slot, now);
		}
	}
	return busy;
}

/* An open (tagged with its table entry) or a read (tagged with its request slot). */
static void
on_completion(struct eng_worker *w, const struct xf_storage_cqe *c)
{
	unsigned int slot = (unsigned int)(c->tag >> 8);

	if ((c->tag & 0xff) == TAG_OPEN) {
		struct eng_fd *f = &w->fds[slot];

		if (c->res < 0) {
			f->err = c->res;
			f->fd = FD_ENDED;
		} else {
			f->fd = c->res;
			f->hole = XF_SPARSE_HOLE_INIT;
		}
		return;
	}
	split_read(&w->reads[slot], c->res);
}

static bool
reader_poll(struct eng_worker *w, uint64_t now)
{
	struct xf_storage *const sts[] = { w->st, w->st_inline };
	struct xf_storage_cqe cqe[64];
	bool busy = take_requests(w, now);

	busy |= oq_flush(w);

	for (unsigned int k = 0; k < XF_ARRAY_SIZE(sts); k++) {
		unsigned int n;

		if (sts[k] == NULL) {
			continue; /* no io_uring: transfer.io is inline */
		}
		xf_storage_submit(sts[k]);
		n = xf_storage_reap(sts[k], cqe, XF_ARRAY_SIZE(cqe));
		for (unsigned int i = 0; i < n; i++) {
			on_completion(w, &cqe[i]);
		}
		busy |= n != 0;
	}
	for (unsigned int slot = 0; slot < ENG_READS_MAX; slot++) {
		struct eng_read *r = &w->reads[slot];

		if (!r->used) {
			continue;
		}
		if (r->phase == R_WAIT_OPEN && r->fd->fd >= 0) {
			issue_reads(r, slot);
			busy = true;
		} else if (r->phase == R_WAIT_OPEN && r->fd->fd == FD_ENDED) {
			r->phase = R_COMPLETE; /* the open failed: answered with its error */
		}
		if (r->phase == R_COMPLETE) {
			if (r->fd == NULL) {
				busy |= answer_ended(w, r);
			} else {
				busy |= deliver(w, r);
			}
		}
	}
	return busy;
}

bool
xf_engine_worker_poll(struct eng_worker *w)
{
	bool busy = false;

	for (unsigned int v = 0; v < w->nvol; v++) {
		busy |= xf_pipeline_worker_poll(w->vol[v].pl, w->vol[v].idx) != 0;
	}
	return reader_poll(w, xf_engine_now()) || busy;
}

/*
 * A parking worker (eng_worker.parks) with nothing in hand: no request in a slot (so no
 * open or read in flight for one) and no answer queued. Its next work can come only
 * from a read request, and the RX core that gives it one rings its bell.
 */
bool
xf_engine_reader_idle(const struct eng_worker *w)
{
	if (w->oq_head != w->oq_tail) {
		return false;
	}
	for (unsigned int slot = 0; slot < ENG_READS_MAX; slot++) {
		if (w->reads[slot].used) {
			return false;
		}
	}
	return true;
}

/*
 * A worker of its own lcore. Idle, it backs off as an RX core does (spins, then sleeps
 * of 20 to 200 us); a parking one, once at the longest sleep with nothing in hand,
 * sleeps on its bell until rung instead. Why: a reader that only DELTA files keep busy
 * (a second worker of the dev pair's A) would wake 5,000 times a second through every
 * other push, on the CPUs its RX core needs (perf/RESULTS.md, 2026-12-07 delta-11). The
 * token is taken before the poll looks at the rings, so a ring after the look is not
 * lost.
 */
int
xf_engine_worker_loop(void *arg)
{
	struct eng_worker *w = arg;
	struct xf_engine *e = w->e;
	unsigned int idle = 0;

	xf_core_set_self(w->lcore);
	prctl(PR_SET_TIMERSLACK, 1000UL); /* see xf_engine_rx_loop */
	while (!atomic_load_explicit(&e->workers_stop, memory_order_acquire)) {
		uint32_t token = xf_hs_bell_token(&w->bell);

		if (xf_engine_worker_poll(w)) {
			idle = 0;
		} else if (w->parks && idle + 1 >= XF_IDLE_SPIN + XF_IDLE_DOUBLINGS &&
		           !xf_engine_idle_poll(e) && xf_engine_reader_idle(w)) {
			xf_hs_bell_wait(&w->bell, token);
			idle = 0;
		} else {
			xf_engine_idle(e, &idle, false);
		}
	}
	return 0;
}
