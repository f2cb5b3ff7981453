/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker core: one io_uring (xf_storage), the files whose index maps to it (file
 * affinity), and for worker 0 also the commit executor.
 *
 * Per file: STAT (open parent beneath the root, statx, quick check), temp file created
 * in XF_STAGING_TMP, DATA written straight from the frame buffer, CRC64 kept running
 * while data arrives in offset order, read back from the temp file for the rest, then
 * FILE_END verified (size, CRC64), mode and mtime set, and the verified fd reported.
 * Everything a poll prepares goes to the kernel in one xf_storage_submit().
 *
 * No allocation after creation: file states, write slots, the read-back buffer, the
 * overflow queues and the commit queue are sized from the configuration up front.
 *
 * This file: the poll loop, dispatch of work items and completions, completions back
 * to the RX cores, room in the storage, abort, creation and teardown. Each stage lives
 * in its own file (xf_worker_priv.h lists which owns what).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_worker_priv.h"

void
post_done(struct xf_worker *w, uint16_t rx, const struct xf_done *d)
{
	struct outq *o = &w->out[rx];

	if (o->head == o->tail && xf_ring_enqueue_burst(w->p->to_rx[w->idx][rx], d, 1) == 1) {
		return;
	}
	/* The ring back is full: keep it in order behind what is already waiting. The
	 * queue holds every completion the window allows, so it cannot overflow. */
	o->q[o->tail++ & (w->out_cap - 1)] = *d;
	w->out_pending++;
}

static int
flush_out(struct xf_worker *w)
{
	int busy = 0;

	if (w->out_pending == 0) {
		return 0;
	}
	for (unsigned int r = 0; r < w->p->conf.n_rx; r++) {
		struct outq *o = &w->out[r];

		while (o->head != o->tail) {
			if (xf_ring_enqueue_burst(w->p->to_rx[w->idx][r],
			                          &o->q[o->head & (w->out_cap - 1)], 1) != 1) {
				break;
			}
			o->head++;
			w->out_pending--;
			busy = 1;
		}
	}
	return busy;
}

void
post_simple(struct xf_worker *w, const struct wfile *f, uint8_t type, uint8_t decision,
            uint8_t status, int fd)
{
	struct xf_done d;

	if (f->aborted) {
		return;
	}
	d = (struct xf_done){
		.type = type,
		.decision = decision,
		.status = status,
		.sid = f->sid,
		.flags = (uint16_t)((f->unnamed ? XF_DONE_F_UNNAMED : 0) |
		                    (type == XF_DONE_FILE && f->ns_pending ? XF_DONE_F_SIGNED : 0)),
		.file = f->file,
		.fd = fd,
		.gen = f->gen,
		.items = decision == XF_DEC_REFUSED ? 0 : f->items,
		.uid = f->uid,
		.gid = f->gid,
	};
	if (f->inplace) {
		d.flags |= f->kind == XF_FILE_DIR ? XF_DONE_F_STAGED : XF_DONE_F_INPLACE;
		d.block_count = f->stg;
	}
	post_done(w, f->rx, &d);
}

void
keep_cqe(struct xf_worker *w, const struct xf_storage_cqe *c)
{
	if ((c->tag >> 56) == T_SYNC) {
		w->sync_res[(uint32_t)c->tag] = c->res;
		w->sync_got++;
		return;
	}
	if ((c->tag >> 56) == T_CHAIN) {
		/* Recorded wherever it is reaped (here, or the poll's cqe_dispatch()): the batch
		 * in flight settles once ch_got reaches ch_n. */
		w->ch_res[(uint32_t)c->tag] = c->res;
		w->ch_got++;
		return;
	}
	if (w->def_tail - w->def_head == w->def_cap) {
		/* Cannot happen: at most every slot's completion is ever kept. */
		XF_LOG(ERR, MODULE, "deferred completions overflow");
		return;
	}
	w->deferred[w->def_tail++ & (w->def_cap - 1)] = *c;
}

/*
 * A synchronous step (a mode or mtime call) that kept the worker (and, in combined
 * mode, its RX core) for more than a second: counted, and logged with what it was,
 * since a peer times a session out after session.timeout_ms of silence. Rare by
 * definition: a disk stalled behind its journal, say.
 */
#define SLOW_STEP_NS 1000000000ull

void
slow_check(struct xf_worker *w, uint64_t t0, const char *what)
{
	uint64_t d = now_ns() - t0;

	if (d >= SLOW_STEP_NS) {
		w->t.slow_steps++;
		XF_LOG(WARNING, MODULE, "worker %u: %s took %.1f s", w->idx, what, (double)d / 1e9);
	}
}

/*
 * A prep found the storage full. A full submission queue is sent to the kernel, which
 * empties it. Every slot in flight is not expected: each step checks for room before it
 * preps (HANDLER_ROOM for a completion's handler or an item off a ring, COMMIT_ROOM for
 * the commit executor, WSLOTS and the window bound the rest). Should it happen, the
 * completions that are there are collected without waiting and kept for the poll to
 * dispatch, so a prep never recurses into handlers, and the prep tries again.
 */
void
make_room(struct xf_worker *w)
{
	struct xf_storage_cqe c[CQE_MAX];
	unsigned int n;

	if (xf_storage_submit(w->st) >= 0 && st_free(w) != 0) {
		return; /* the submission queue had filled up: it is empty now */
	}
	w->t.full_storage++;
	n = xf_storage_reap(w->st, c, CQE_MAX);
	for (unsigned int i = 0; i < n; i++) {
		keep_cqe(w, &c[i]);
	}
}

/*
 * Storage slots completion c's handler may take: HANDLER_ROOM, and for the lead lookup of
 * a parent one more per file that waits for it (lookup_parent(), whose followers are
 * capped so that this never exceeds the storage).
 */
static uint32_t
handler_room(const struct xf_worker *w, const struct xf_storage_cqe *c)
{
	if ((c->tag >> 56) == T_STAT && w->lead == (uint32_t)c->tag + 1) {
		return XF_MIN(HANDLER_ROOM + w->nfollow, 2u * w->depth);
	}
	return HANDLER_ROOM;
}

/* Dispatch the completions kept, in order, while their handlers have room. */
int
run_deferred(struct xf_worker *w)
{
	int busy = 0;

	while (w->def_head != w->def_tail &&
	       st_free(w) >= handler_room(w, &w->deferred[w->def_head & (w->def_cap - 1)])) {
		struct xf_storage_cqe c = w->deferred[w->def_head++ & (w->def_cap - 1)];

		cqe_dispatch(w, &c);
		busy = 1;
	}
	return busy;
}
static bool
abort_check(struct xf_worker *w, uint16_t sid)
{
	for (uint32_t i = 0; i < w->window; i++) {
		if (w->files[(uint32_t)sid * w->window + i].state != W_FREE) {
			return false;
		}
	}
	post_done(w, w->abort_rx[sid],
	          &(struct xf_done){
	                  .type = XF_DONE_ABORT, .sid = sid, .fd = -1, .gen = w->abort_gen[sid] });
	w->aborting[sid] = false;
	w->naborting--;
	return true;
}

static void
do_abort(struct xf_worker *w, const struct xf_work *it)
{
	for (uint32_t i = 0; i < w->window; i++) {
		struct wfile *f = &w->files[(uint32_t)it->sid * w->window + i];

		if (f->state == W_FREE) {
			continue;
		}
		f->aborted = 1;
		if (f->state == W_OPEN && f->inflight == 0) {
			fail_file(w, f, XF_ST_IO);
		}
	}
	if (w->stg_on) {
		stg_drop(w, it->sid);
	}
	del_abort(w, it->sid, it->gen);
	if (!w->aborting[it->sid]) {
		w->aborting[it->sid] = true;
		w->abort_rx[it->sid] = it->rx;
		w->abort_gen[it->sid] = it->gen;
		w->naborting++;
	}
	abort_check(w, it->sid);
}

/* ---- poll ---- */

void
cqe_dispatch(struct xf_worker *w, const struct xf_storage_cqe *c)
{
	uint32_t idx = (uint32_t)c->tag;

	switch (c->tag >> 56) {
	case T_STAT:
		on_stat(w, idx, c->res);
		break;
	case T_TMP:
		on_tmp(w, idx, c->res);
		break;
	case T_WRITE:
		on_write(w, idx, c->res);
		break;
	case T_READ:
		on_read(w, idx, c->res);
		break;
	case T_BASIS:
		on_basis(w, idx, c->res);
		break;
	case T_SIG:
		on_sig(w, idx, c->res);
		break;
	case T_CREAD:
		on_cread(w, idx, c->res);
		break;
	case T_CWRITE:
		on_cwrite(w, idx, c->res);
		break;
	case T_SYNC: /* a paused commit step's operation (STEP_OP()) */
	case T_CHAIN:
		keep_cqe(w, c);
		break;
	case T_IGN:
		if (c->op == XF_SOP_SYNC_RANGE && c->res == 0) {
			w->t.basis_sync_done++;
		}
		break;
	default:
		break;
	}
}

/* The names of a STAT item with XF_WORK_F_NAMES: after the parent's, the last
 * component's and the target's NULs of ptr (a symlink's or hard link's target is off
 * bytes, and may hold no NUL the count could trip on), then the attribute set's length
 * and bytes (xf_ftable.c, add()). */
static const char *
item_names(const struct xf_work *it)
{
	const char *p = it->ptr;
	uint16_t xl;

	p += strlen(p) + 1;
	p += strlen(p) + 1;
	p += (it->kind == XF_FILE_SYMLINK || it->kind == XF_FILE_HARDLINK ? it->off : 0u) + 1u;
	memcpy(&xl, p, sizeof(xl));
	return p + sizeof(xl) + xl;
}

/* A STAT item of a session that sends names: the sender's ids become the local ids of
 * the names, on this worker (the lookup can block), before anything compares or sets
 * them (docs/PROTOCOL.md 6.21). */
static void
stat_named(struct xf_worker *w, const struct xf_work *in)
{
	struct xf_work it = *in;
	const char *user = item_names(in);
	const char *group = user + strlen(user) + 1;
	bool u_miss, g_miss;

	it.uid = xf_idmap_map(&w->idmap, XF_NAME_USER, user, in->uid, w->now, &u_miss);
	it.gid = xf_idmap_map(&w->idmap, XF_NAME_GROUP, group, in->gid, w->now, &g_miss);
	w->t.owners_unmapped += (uint64_t)u_miss + (uint64_t)g_miss;
	do_stat(w, &it);
}

static void
handle(struct xf_worker *w, const struct xf_work *it)
{
	switch (it->type) {
	case XF_WORK_STAT:
		if ((it->flags & XF_WORK_F_NAMES) != 0) {
			stat_named(w, it);
			break;
		}
		do_stat(w, it);
		break;
	case XF_WORK_DATA:
		do_data(w, it);
		break;
	case XF_WORK_FILE_END:
		do_file_end(w, it);
		break;
	case XF_WORK_COMMIT:
	case XF_WORK_DIRTIME:
	case XF_WORK_MARK:
		/* Bounded: at most a window of items per session is ever outstanding. */
		w->cq[w->cq_tail++ & (w->cq_cap - 1)] = *it;
		break;
	case XF_WORK_ABORT:
		do_abort(w, it);
		break;
	case XF_WORK_COPY:
		do_copy(w, it);
		break;
	case XF_WORK_DELETE:
		del_start(w, it);
		break;
	default:
		break;
	}
}

int
xf_worker_poll(struct xf_worker *w)
{
	struct xf_work items[W_BURST];
	unsigned int n;
	int busy;

	w->now = now_ns();
	busy = flush_out(w);
	busy |= run_deferred(w);
	n = xf_storage_reap(w->st, w->cqe, CQE_MAX);
	for (unsigned int i = 0; i < n; i++) {
		/* Behind those kept, or kept itself when its handler would find no room. */
		if (w->def_head != w->def_tail || st_free(w) < handler_room(w, &w->cqe[i])) {
			keep_cqe(w, &w->cqe[i]);
		} else {
			cqe_dispatch(w, &w->cqe[i]);
		}
	}
	busy |= n != 0;
	busy |= run_deferred(w);
	if (w->cq != NULL) {
		busy |= commit_run(w);
	}
	busy |= del_run(w);
	sc_notes(w);
	/* Back-pressure: take new work only when its completions and writes have room. */
	if (w->out_pending == 0) {
		for (unsigned int r = 0; r < w->p->conf.n_rx; r++) {
			unsigned int room = XF_MIN(w->ws_nfree, W_BURST);

			if (w->cq != NULL) {
				room = XF_MIN(room, w->cq_cap - (w->cq_tail - w->cq_head));
			}
			/* Any item may be compressed DATA that takes an inflation buffer. */
			room = XF_MIN(room, w->z_nfree);
			/* Any item may be a COPY that has to wait for a slot. */
			room = XF_MIN(room, CPEND - (w->cp_tail - w->cp_head));
			/* And may take a storage slot (one at most), with HANDLER_ROOM left for a
			 * completion's handler: nothing waits for room (make_room()). */
			room = XF_MIN(room,
			              st_free(w) > HANDLER_ROOM ? st_free(w) - HANDLER_ROOM : 0u);

			if (room == 0) {
				break;
			}
			n = xf_ring_dequeue_burst(w->p->to_w[r][w->idx], items, room);
			for (unsigned int i = 0; i < n; i++) {
				if (items[i].type == XF_WORK_DATA) {
					do_data(w, &items[i]);
					continue;
				}
				/* Anything else (FILE_END above all) sees the writes before
				 * it in flight, as if each had gone out on its own. */
				wr_flush(w);
				handle(w, &items[i]);
			}
			wr_flush(w);
			busy |= n != 0;
		}
	}
	for (unsigned int sid = 0; w->naborting != 0 && sid < XF_ARRAY_SIZE(w->aborting); sid++) {
		if (w->aborting[sid]) {
			abort_check(w, (uint16_t)sid);
		}
	}
	if (xf_storage_submit(w->st) > 0) {
		busy = 1;
	}
	return busy;
}

bool
xf_worker_idle(const struct xf_worker *w)
{
	return xf_storage_inflight(w->st) == 0 && w->out_pending == 0 && w->cq_tail == w->cq_head &&
	       w->bstep == 0 && w->def_head == w->def_tail && w->del_head == NULL;
}

static int32_t
fault_hook(void *arg, enum xf_storage_op op, uint64_t tag, int32_t res)
{
	struct xf_worker *w = arg;
	uint32_t idx = (uint32_t)tag;
	const struct wfile *f = NULL;

	switch (tag >> 56) {
	case T_STAT:
	case T_TMP:
	case T_READ:
	case T_BASIS:
	case T_SIG:
		f = &w->files[idx];
		break;
	case T_CREAD:
	case T_CWRITE:
		f = &w->files[w->cs[idx].fslot];
		break;
	case T_WRITE:
		f = &w->files[w->wo[idx].fslot];
		break;
	case T_SYNC:
		if (w->bctx == CTX_BATCH && w->bstep == STEP_FILE_FSYNC && idx < w->bn) {
			/* The batch's file fsyncs: T_SYNC i is item i's. */
			const struct xf_work *it = cq_item(w, idx);

			return w->p->fault(w->p->fault_arg, it->sid, it->file, op, res);
		}
		return w->p->fault(w->p->fault_arg, w->sync_sid, w->sync_file, op, res);
	case T_CHAIN: {
		const struct xf_work *it = cq_item(w, w->ch_item[idx]);

		return w->p->fault(w->p->fault_arg, it->sid, it->file, op, res);
	}
	default:
		return res;
	}
	return w->p->fault(w->p->fault_arg, f->sid, f->file, op, res);
}

void
xf_worker_set_fault(struct xf_worker *w)
{
	xf_storage_set_fault(w->st, w->p->fault != NULL ? fault_hook : NULL, w);
}

void
xf_worker_add_times(const struct xf_worker *w, struct xf_pipeline_times *t)
{
	t->stat_items += w->t.stat_items;
	t->data_items += w->t.data_items;
	t->data_bytes += w->t.data_bytes;
	t->data_writes += w->t.data_writes;
	t->stat_nodir += w->t.stat_nodir;
	t->stat_lookups += w->t.stat_lookups;
	t->copy_kept += w->t.copy_kept;
	t->partial_used += w->t.partial_used;
	t->partial_saved += w->t.partial_saved;
	t->partial_untagged += w->t.partial_untagged;
	t->partial_stale += w->t.partial_stale;
	t->zip_frames += w->t.zip_frames;
	t->zip_bytes_in += w->t.zip_bytes_in;
	t->zip_bytes_out += w->t.zip_bytes_out;
	t->zip_bad += w->t.zip_bad;
	t->zip_long += w->t.zip_long;
	t->zip_short += w->t.zip_short;
	t->copy_cloned += w->t.copy_cloned;
	t->copy_ranged += w->t.copy_ranged;
	t->crc_combined += w->t.crc_combined;
	t->basis_changed += w->t.basis_changed;
	t->sc_notes_lost += w->t.sc_notes_lost;
	t->basis_dirty += w->t.basis_dirty;
	t->basis_sync_done += w->t.basis_sync_done;
	t->temp_presized += w->t.temp_presized;
	t->clone_slow += w->t.clone_slow;
	t->redone += w->t.redone;
	if (w->sc != NULL) {
		struct xf_sigcache_stats s;

		xf_sigcache_stats(w->sc, &s);
		t->sc_hits += s.hits;
		t->sc_misses += s.misses;
		t->sc_stale += s.stale;
		t->sc_stored += s.stored;
		t->sc_committed += s.committed;
		t->sc_evicted += s.evicted;
		t->sc_too_big += s.too_big;
		t->sc_loaded += s.loaded;
		t->sc_corrupt += s.corrupt;
		t->sc_saved += s.saved;
		t->sc_bytes += s.bytes;
		t->sc_capacity += s.capacity;
	}
	t->full_storage += w->t.full_storage;
	t->slow_steps += w->t.slow_steps;
	t->modes_at_create += w->t.modes_at_create;
	t->owners_set += w->t.owners_set;
	t->owners_failed += w->t.owners_failed;
	t->owners_unmapped += w->t.owners_unmapped;
	t->xattrs_set += w->t.xattrs_set;
	t->xattrs_failed += w->t.xattrs_failed;
	t->xattrs_skipped += w->t.xattrs_skipped;
	t->tmp_leftovers += w->t.tmp_leftovers;
	t->type_changes += w->t.type_changes;
	t->trees_replaced += w->t.trees_replaced;
	t->unnamed_temps += w->t.unnamed_temps;
	t->lazy_creates += w->t.lazy_creates;
	t->link_taken += w->t.link_taken;
	t->staged_dirs += w->t.staged_dirs;
	t->staged_files += w->t.staged_files;
	t->staged_linked += w->t.staged_linked;
	t->staged_failed += w->t.staged_failed;
	t->readback_bytes += w->t.readback_bytes;
	{
		struct xf_lease_stats ls;

		xf_lease_stats(w->p->sig_ring[w->idx], &ls);
		t->sig_leased += ls.taken;
		t->sig_heap += ls.heap;
	}
	t->files_done += w->t.files_done;
	t->commits += w->t.commits;
	t->busy_commit_s += w->t.busy_commit_s;
	if (w->t.stat_first != 0 && (t->stat_first == 0 || w->t.stat_first < t->stat_first)) {
		t->stat_first = w->t.stat_first;
	}
	if (w->t.data_first != 0 && (t->data_first == 0 || w->t.data_first < t->data_first)) {
		t->data_first = w->t.data_first;
	}
	if (w->t.commit_first != 0 &&
	    (t->commit_first == 0 || w->t.commit_first < t->commit_first)) {
		t->commit_first = w->t.commit_first;
	}
	t->stat_last = XF_MAX(t->stat_last, w->t.stat_last);
	t->data_last = XF_MAX(t->data_last, w->t.data_last);
	t->commit_last = XF_MAX(t->commit_last, w->t.commit_last);
}

/*
 * The signature cache (docs/DELTA.md, "Signature cache"): this worker's share of the
 * volume's budget, allocated and touched now, and loaded from its file in the staging
 * directory. A file that cannot be read or is damaged is counted and ignored: the cache
 * starts empty.
 */
static int
sc_open(struct xf_worker *w)
{
	size_t bytes = (size_t)w->p->conf.sig_cache_mb * 1024u * 1024u / w->p->conf.n_workers;
	int rc;

	w->sc = xf_sigcache_create(bytes);
	if (w->sc == NULL) {
		return -ENOMEM;
	}
	snprintf(w->sc_name, sizeof(w->sc_name), "sigcache.%u", w->idx);
	w->sc_dirfd = openat(w->p->root_fd, XF_STAGING_DIR,
	                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (w->sc_dirfd < 0) {
		return -errno;
	}
	rc = xf_sigcache_load(w->sc, w->sc_dirfd, w->sc_name);
	if (rc < 0) {
		XF_LOG(WARNING, MODULE, "signature cache %s/%s: %s: starting empty", XF_STAGING_DIR,
		       w->sc_name, rc == -EBADMSG ? "damaged" : strerror(-rc));
	} else if (rc > 0) {
		XF_LOG(INFO, MODULE, "signature cache %s/%s: %d files", XF_STAGING_DIR, w->sc_name,
		       rc);
	}
	return 0;
}

/*
 * At teardown (the loops have returned): the keys the commit executor sent last taken
 * (it is torn down first, its chain settled), the cache saved for the next start, and
 * freed.
 */
static void
sc_close(struct xf_worker *w)
{
	sc_notes(w);
	if (w->sc != NULL && w->sc_dirfd >= 0) {
		int rc = xf_sigcache_save(w->sc, w->sc_dirfd, w->sc_name);

		if (rc < 0) {
			XF_LOG(WARNING, MODULE, "signature cache %s/%s not saved: %s",
			       XF_STAGING_DIR, w->sc_name, strerror(-rc));
		}
	}
	if (w->sc_dirfd >= 0) {
		close(w->sc_dirfd);
		w->sc_dirfd = -1;
	}
	xf_sigcache_destroy(w->sc);
	w->sc = NULL;
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t v = 1;

	while (v < n) {
		v <<= 1;
	}
	return v;
}

struct xf_worker *
xf_worker_create(struct xf_pipeline *p, unsigned int idx)
{
	struct xf_worker *w = calloc(1, sizeof(*w));
	unsigned int depth = p->conf.uring_depth != 0 ? p->conf.uring_depth : 512;
	uint32_t outstanding = 3u * p->conf.max_sessions * p->conf.window + 64u;

	if (w == NULL) {
		return NULL;
	}
	w->p = p;
	w->idx = idx;
	w->window = p->conf.window;
	w->cdir_fd = -1;
	w->sc_dirfd = -1;
	xf_idmap_init(&w->idmap, p->conf.idmap_byname, p->conf.idmap_arg);
	w->depth = depth;
	w->st = xf_storage_create(p->root_fd, depth, (enum xf_storage_io)p->conf.io);
	if (w->st == NULL) {
		goto err_free;
	}
	w->root_fd = xf_storage_root_fd(w->st);
	/* The signature pass starts a dirty basis's writeback (sig_begin()) on a ring, never
	 * on the lcore: an inline context gets one for that alone, where it clones. Without
	 * it (io_uring refused) that writeback is not started and the clone waits for it. */
	if (p->clone == XF_STORAGE_CLONE_REFLINK && xf_storage_sync_range_ring(w->st) < 0) {
		XF_LOG(WARNING, MODULE,
		       "no io_uring for basis writeback: clones of dirty bases "
		       "will wait for it");
	}
	if (idx == XF_COMMIT_WORKER && p->conf.test_rename_hold_ms != 0) {
		/* The commit step: a rename, or the link of an unnamed temp file. */
		xf_storage_set_hold(w->st, XF_SOP_RENAME,
		                    (uint64_t)p->conf.test_rename_hold_ms * 1000000ull);
		xf_storage_set_hold(w->st, XF_SOP_LINK,
		                    (uint64_t)p->conf.test_rename_hold_ms * 1000000ull);
	}
	w->nfiles = p->conf.max_sessions * p->conf.window;
	w->files = calloc(w->nfiles, sizeof(*w->files));
	w->rb_buf = aligned_alloc(4096, RB_SIZE);
	w->sg_buf = aligned_alloc(4096, RB_SIZE);
	for (uint32_t i = 0; i < CSLOTS; i++) {
		w->cs[i].buf = aligned_alloc(4096, CBUF);
		if (w->cs[i].buf == NULL) {
			goto err_destroy;
		}
		w->cs_free[i] = CSLOTS - 1 - i;
	}
	w->cs_nfree = CSLOTS;
	if (p->conf.delta_cache_mb >= 0) {
		w->keep_n = p->conf.delta_cache_mb != 0 ? (uint32_t)p->conf.delta_cache_mb
		                                        : XF_PIPELINE_DELTA_CACHE_MB;
		w->keep_n = XF_MIN(w->keep_n * (1024u * 1024u / CBUF), XF_ARRAY_SIZE(w->keep_free));
		/* Touched now, so that no page fault lands in a transfer. */
		w->keep_mem = aligned_alloc(4096, (size_t)w->keep_n * CBUF);
		if (w->keep_mem == NULL) {
			goto err_destroy;
		}
		memset(w->keep_mem, 0, (size_t)w->keep_n * CBUF);
		for (uint32_t i = 0; i < w->keep_n; i++) {
			w->keep_free[i] = (uint8_t)(w->keep_n - 1 - i);
		}
		w->keep_nfree = w->keep_n;
	}
	if (p->conf.sig_cache_mb != 0 && sc_open(w) != 0) {
		goto err_destroy;
	}
	w->out_cap = pow2_at_least(outstanding);
	for (unsigned int r = 0; r < p->conf.n_rx; r++) {
		w->out[r].q = calloc(w->out_cap, sizeof(struct xf_done));
		if (w->out[r].q == NULL) {
			goto err_destroy;
		}
	}
	w->def_cap = pow2_at_least(4u * depth + 4u * CQE_MAX);
	w->deferred = calloc(w->def_cap, sizeof(*w->deferred));
	if (w->deferred == NULL) {
		goto err_destroy;
	}
	if (idx == XF_COMMIT_WORKER) {
		/* Any size works: the worker takes items off its rings only while the
		 * commit queue has room for them. */
		w->cq_cap = 1024;
		w->cq = calloc(w->cq_cap, sizeof(*w->cq));
		if (w->cq == NULL) {
			goto err_destroy;
		}
	}
	/* Staged directories are made, take files and are put in place on the commit
	 * worker, which gets every directory's STAT (xf_pipeline_stat_worker()); the files
	 * in them of other workers are linked into them at commit (docs/PIPELINE.md,
	 * "Staged directories"). */
	w->stg_on = idx == XF_COMMIT_WORKER && !p->conf.no_staged_dirs;
	if (w->stg_on) {
		/* Reports held for one directory stay below the window: the sender can always
		 * send the files it waits for. */
		w->stg_cap = p->conf.window / 2;
		w->sq_cap = pow2_at_least(p->conf.window);
		w->sq = calloc(w->sq_cap, sizeof(*w->sq));
		if (w->sq == NULL) {
			goto err_destroy;
		}
	}
	w->wo = calloc(WSLOTS, sizeof(*w->wo));
	w->zip = xf_zip_create();
	w->z_mem = aligned_alloc(64, (size_t)ZSLOTS * ZBUF);
	if (w->files == NULL || w->rb_buf == NULL || w->sg_buf == NULL || w->wo == NULL ||
	    w->zip == NULL || w->z_mem == NULL) {
		goto err_destroy;
	}
	for (uint32_t i = 0; i < ZSLOTS; i++) {
		w->z_free[i] = ZSLOTS - 1 - i;
	}
	w->z_nfree = ZSLOTS;
	for (uint32_t i = 0; i < WSLOTS; i++) {
		w->wo_free[i] = WSLOTS - 1 - i;
	}
	w->wo_nfree = WSLOTS;
	w->ws_nfree = WSLOTS;
	return w;
err_destroy:
	xf_worker_destroy(w);
	errno = ENOMEM;
	return NULL;
err_free:
	free(w);
	return NULL;
}

void
xf_worker_destroy(struct xf_worker *w)
{
	unsigned int self = xf_core_self();

	if (w == NULL) {
		return;
	}
	/* The loops have returned: this thread stands for the worker's core, whose ends
	 * of the signature cache's key rings the drain below and sc_close() use. */
	xf_core_set_self(w->p->conf.worker_core[w->idx]);
	if (w->st != NULL && w->cq != NULL) {
		/* The loops have returned: the commit executor's chain and step complete. */
		commit_drain(w);
	}
	if (w->cdir_fd >= 0) {
		close(w->cdir_fd);
	}
	/* Staged directories left at a stop are removed; their held reports go nowhere. */
	w->sq_head = w->sq_tail;
	w->bn = 0;
	while (stg_first(w) != NULL) {
		stg_drop_now(w, stg_first(w)->sid);
	}
	for (uint32_t i = 0; w->files != NULL && i < w->nfiles; i++) {
		if (w->files[i].state != W_FREE && w->files[i].fd >= 0) {
			close(w->files[i].fd);
		}
		if (w->files[i].state != W_FREE) {
			close_basis(w, &w->files[i]);
		}
	}
	del_free_all(w);
	sc_close(w);
	xf_storage_destroy(w->st);
	for (unsigned int r = 0; r < XF_PIPELINE_MAX_RX; r++) {
		free(w->out[r].q);
	}
	free(w->cq);
	free(w->sq);
	free(w->deferred);
	free(w->rb_buf);
	free(w->sg_buf);
	free(w->keep_mem);
	for (uint32_t i = 0; i < CSLOTS; i++) {
		free(w->cs[i].buf);
	}
	free(w->wo);
	free(w->files);
	xf_zip_free(w->zip);
	free(w->z_mem);
	free(w);
	xf_core_set_self(self);
}
