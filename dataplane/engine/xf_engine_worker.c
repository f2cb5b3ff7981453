/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker core: the pipeline's worker (writes, checksums, commits of the sessions we
 * serve) and the file reader of the push jobs, each on an io_uring of its own.
 *
 * The reader takes read requests from the RX cores, reads a request's frames straight
 * into mbufs in one submission, and answers in offset order with the CRC-64 of the file
 * running across requests (a file's requests come one at a time, to this worker only).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "xf_base.h"
#include "xf_csum.h"
#include "xf_engine_priv.h"

#define TAG_OPEN 0xffu

static struct eng_fd *
fd_find(struct eng_worker *w, uint16_t job, uint32_t file)
{
	for (unsigned int i = 0; i < ENG_FDS_MAX; i++) {
		if (w->fds[i].fd >= 0 && w->fds[i].job == job && w->fds[i].file == file) {
			return &w->fds[i];
		}
	}
	return NULL;
}

static void fd_close(struct eng_fd *f);

/*
 * A table entry for a newly opened source file. When the table is full, an entry not
 * used for FD_STALE_NS is taken over: its job ended (cancelled, failed) mid-file, since a
 * running push asks for the next frames of a file within moments.
 */
#define FD_STALE_NS (10ull * 1000000000ull)

static struct eng_fd *
fd_alloc(struct eng_worker *w, uint16_t job, uint32_t file, uint64_t now)
{
	struct eng_fd *oldest = NULL;

	for (unsigned int i = 0; i < ENG_FDS_MAX; i++) {
		struct eng_fd *f = &w->fds[i];

		if (f->fd == -1) {
			*f = (struct eng_fd){ .job = job, .file = file, .fd = -2, .used_ns = now };
			return f;
		}
		if (f->fd >= 0 && (oldest == NULL || f->used_ns < oldest->used_ns)) {
			oldest = f;
		}
	}
	if (oldest != NULL && now - oldest->used_ns > FD_STALE_NS) {
		fd_close(oldest);
		*oldest = (struct eng_fd){ .job = job, .file = file, .fd = -2, .used_ns = now };
		return oldest;
	}
	return NULL;
}

static void
fd_close(struct eng_fd *f)
{
	if (f->fd >= 0) {
		close(f->fd); /* a regular file opened for reading: close does not block */
	}
	f->fd = -1;
}

static uint64_t
tag_of(unsigned int slot, unsigned int k)
{
	return ((uint64_t)slot << 8) | k;
}

static void
issue_reads(struct eng_worker *w, unsigned int slot)
{
	struct eng_read *r = &w->reads[slot];

	for (unsigned int k = 0; k < r->req.n; k++) {
		uint8_t *dst =
		        rte_pktmbuf_mtod(r->m[k], uint8_t *) + XF_NET_HDR_LEN + XF_DATA_OVERHEAD;

		/* The submission queue holds ENG_READS_MAX * ENG_BURST entries: never full. */
		xf_storage_prep_read(w->st, r->fd->fd, dst, r->req.dl,
		                     r->req.off + (uint64_t)k * r->req.dl, tag_of(slot, k));
	}
	r->phase = 1;
}

/* Answer one result to the RX core; false if its ring is full (try again later). */
static bool
answer(struct eng_worker *w, struct eng_read *r, struct eng_read_done *d)
{
	return xf_ring_enqueue_burst(w->e->rx[r->req.rx].read_from[w->idx], d, 1) == 1;
}

/* Deliver a finished request in offset order; false if the ring filled up midway. */
static bool
deliver(struct eng_worker *w, unsigned int slot)
{
	struct eng_read *r = &w->reads[slot];
	struct eng_fd *f = r->fd;

	while (r->done < r->req.n) {
		unsigned int k = r->done;
		int32_t res = r->res[k];
		struct eng_read_done d = { .job = r->req.job,
			                   .file = r->req.file,
			                   .off = f->next_off };

		if (res > 0) {
			d.m = r->m[k];
			d.payload = rte_pktmbuf_mtod(d.m, uint8_t *) + XF_NET_HDR_LEN;
			d.len = (uint32_t)res;
			d.crc64 = xf_csum_crc64(f->crc, d.payload + XF_DATA_OVERHEAD, d.len);
		} else {
			d.crc64 = f->crc;
		}
		/* A short read of a regular file is its end; an error ends the request too. */
		d.eof = res >= 0 && (uint32_t)res < r->req.dl;
		d.error = res < 0 ? res : 0;
		d.last = d.eof || res < 0 || k + 1 == r->req.n;
		d.size = f->next_off + (res > 0 ? (uint64_t)res : 0);
		if (!answer(w, r, &d)) {
			return false;
		}
		f->crc = d.crc64;
		f->next_off = d.size;
		if (res <= 0) {
			rte_pktmbuf_free(r->m[k]);
		}
		r->m[k] = NULL;
		r->done++;
		if (d.last) {
			break;
		}
	}
	/* Frames past the end were read for nothing. */
	for (unsigned int k = r->done; k < r->req.n; k++) {
		rte_pktmbuf_free(r->m[k]);
		r->m[k] = NULL;
	}
	if (r->done < r->req.n || r->res[r->done - 1] <= 0 ||
	    (uint32_t)r->res[r->done - 1] < r->req.dl) {
		fd_close(f);
	}
	r->used = false;
	return true;
}

static void
fail_request(struct eng_worker *w, unsigned int slot, int err)
{
	struct eng_read *r = &w->reads[slot];

	for (unsigned int k = 0; k < r->req.n; k++) {
		r->res[k] = err;
	}
	r->phase = 2;
}

static bool
take_requests(struct eng_worker *w, uint64_t now)
{
	bool busy = false;

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
			r->completed = 0;
			r->phase = 0;
			r->fd = fd_find(w, r->req.job, r->req.file);
			if (r->fd == NULL) {
				r->fd = fd_alloc(w, r->req.job, r->req.file, now);
			}
			if (r->fd == NULL ||
			    rte_pktmbuf_alloc_bulk(w->e->mp, r->m, r->req.n) != 0) {
				memset(r->m, 0, sizeof(r->m));
				fail_request(w, slot, r->fd == NULL ? -EMFILE : -ENOMEM);
				continue;
			}
			r->fd->used_ns = now;
			if (r->fd->fd >= 0) {
				issue_reads(w, slot);
				continue;
			}
			xf_storage_prep_open(w->st, r->req.dir_fd, r->req.path,
			                     O_RDONLY | O_NOFOLLOW, 0, tag_of(slot, TAG_OPEN));
		}
	}
	return busy;
}

static bool
reader_poll(struct eng_worker *w, uint64_t now)
{
	struct xf_storage_cqe cqe[64];
	bool busy = take_requests(w, now);
	unsigned int n;

	if (xf_storage_inflight(w->st) > 0) {
		xf_storage_submit(w->st);
	}
	n = xf_storage_reap(w->st, cqe, XF_ARRAY_SIZE(cqe));
	for (unsigned int i = 0; i < n; i++) {
		unsigned int slot = (unsigned int)(cqe[i].tag >> 8), k = cqe[i].tag & 0xff;
		struct eng_read *r = &w->reads[slot];

		if (k == TAG_OPEN) {
			if (cqe[i].res < 0) {
				r->fd->fd = -1; /* the table entry is free again */
				r->fd = NULL;
				fail_request(w, slot, cqe[i].res);
				continue;
			}
			r->fd->fd = cqe[i].res;
			issue_reads(w, slot);
			continue;
		}
		r->res[k] = cqe[i].res;
		if (++r->completed == r->req.n) {
			r->phase = 2;
		}
	}
	busy |= n != 0;
	for (unsigned int slot = 0; slot < ENG_READS_MAX; slot++) {
		struct eng_read *r = &w->reads[slot];

		if (!r->used || r->phase != 2) {
			continue;
		}
		if (r->fd == NULL || r->fd->fd < 0) {
			/* Nothing was read (no file): one answer with the error. */
			struct eng_read_done d = { .job = r->req.job,
				                   .file = r->req.file,
				                   .off = r->req.off,
				                   .last = 1,
				                   .error = r->res[0] };

			if (!answer(w, r, &d)) {
				continue;
			}
			for (unsigned int kk = 0; kk < r->req.n; kk++) {
				rte_pktmbuf_free(r->m[kk]);
			}
			if (r->fd != NULL) {
				r->fd->fd = -1;
			}
			r->used = false;
			busy = true;
			continue;
		}
		busy |= deliver(w, slot);
	}
	return busy;
}

int
xf_engine_worker_loop(void *arg)
{
	struct eng_worker *w = arg;
	struct xf_engine *e = w->e;
	unsigned int idle = 0;

	xf_core_set_self(w->lcore);
	while (!atomic_load_explicit(&e->workers_stop, memory_order_acquire)) {
		bool busy = xf_pipeline_worker_poll(e->pl, w->idx) != 0;

		busy |= reader_poll(w, xf_engine_now());
		if (busy) {
			idle = 0;
		} else {
			xf_engine_idle(e, &idle);
		}
	}
	return 0;
}
