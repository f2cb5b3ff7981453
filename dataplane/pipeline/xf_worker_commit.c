/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, commit executor (worker XF_COMMIT_WORKER): batches of COMMIT items in
 * file-list order, the rename/link chain, parent directories, directories, symlinks,
 * fsyncs and directory mtimes (docs/PIPELINE.md, "Commit ordering without blocking the
 * RX core").
 *
 * Why this keeps file-list order without the RX core blocking: each RX core sends its
 * sessions' commit items, already in file-list order, on its own FIFO ring to this one
 * worker, which runs them strictly one after another. The renames that make files final
 * go out as one chain (xf_storage_chain(): each starts only once the one before it has
 * completed, whatever its result), so a run of them costs one submission, the kernel
 * runs them on one io-wq thread without a wake-up per file, and they still reach the
 * file system in list order. The worker does not wait for a chain: commit_run() pauses
 * the batch and returns, later polls collect the completions (T_CHAIN) and resume it.
 * Every other ordered step needs the pending chain complete: the batch pauses before
 * it. A directory's mkdir and a symlink (made under its temp name) then pause the batch
 * again, for their own operation (step_pause()); the rest (open or create a parent, a
 * directory's fsync or mtime, dropping a temp) is one operation or system call of its
 * own, waited for (RUN1).
 * While it waits, completions of its other files are dispatched as usual. Operations
 * whose order does not matter (the fsyncs of a batch's files) go out together in one
 * submission, waited for at the start of the batch.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xf_worker_priv.h"

/* Submit and wait until n T_SYNC operations (indices 0..n-1) have completed. */
void
sync_wait(struct xf_worker *w, uint32_t n)
{
	uint64_t t0 = now_ns();

	while (w->sync_got < n) {
		int k = worker_wait(w, w->scqe, 1);

		if (k < 0) {
			if (k == -EINTR || k == -EAGAIN) {
				continue;
			}
			XF_LOG(ERR, MODULE, "storage wait: %d", k);
			for (uint32_t i = w->sync_got; i < n; i++) {
				w->sync_res[i] = k;
			}
			w->sync_got = n;
			return;
		}
		for (int i = 0; i < k; i++) {
			keep_cqe(w, &w->scqe[i]);
		}
		run_deferred(w);
	}
	slow_check(w, t0, "waiting for a commit step");
}

void
mark_dirty(struct xf_worker *w, int pfd)
{
	if (pfd == w->root_fd) {
		w->root_dirty = true;
	} else {
		w->cdir_dirty = true;
	}
}

/* Chain position j's step (a rename, or the link of an unnamed temp), prepped with tag. */
static int
chain_prep(struct xf_worker *w, uint32_t j, const char *base, uint64_t tag)
{
	if (w->ch_fd[j] >= 0) {
		return xf_storage_prep_link(w->st, w->ch_fd[j], w->ch_pfd[j], base, tag);
	}
	return xf_storage_prep_rename(w->st, w->p->tmp_fd, w->ch_tmp[j], w->ch_pfd[j], base, 0,
	                              tag);
}

/*
 * An unnamed temp file whose final name was taken since its quick check (link: EEXIST):
 * replace what is there, as a named one would have. It gets its staging name, then is
 * renamed over the final path. Rare, so synchronous. @return 0 or -errno.
 */
static int32_t
link_taken(struct xf_worker *w, uint32_t j, const char *base)
{
	int32_t rc;

	w->t.link_taken++;
	RUN1(w, rc,
	     xf_storage_prep_link(w->st, w->ch_fd[j], w->p->tmp_fd, w->ch_tmp[j],
	                          tag_of(T_SYNC, 0)));
	if (rc < 0) {
		return rc;
	}
	RUN1(w, rc,
	     xf_storage_prep_rename(w->st, w->p->tmp_fd, w->ch_tmp[j], w->ch_pfd[j], base, 0,
	                            tag_of(T_SYNC, 0)));
	if (rc < 0) {
		unlinkat(w->p->tmp_fd, w->ch_tmp[j], 0);
	}
	return rc;
}

/*
 * Settle each item of a completed chain as its step run alone would be: a failure
 * removes a named temp and gives the item the status of its error (the final path
 * keeps what it had); a success marks the parent for its fsync. An unnamed temp's fd,
 * open until its link ran, is closed here.
 */
static void
chain_settle(struct xf_worker *w)
{
	uint32_t n = w->ch_n;

	w->ch_n = 0;
	w->ch_got = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = w->ch_item[j];
		const struct xf_work *it = cq_item(w, i);
		int32_t rc = w->ch_res[j];
		uint16_t sid = w->sync_sid;
		uint32_t file = w->sync_file;

		w->sync_sid = it->sid;
		w->sync_file = it->file;
		if (rc == -ECANCELED) {
			/* The kernel failed the chain at submission and never ran this one: run
			 * it now, alone; the ones after it follow, so the order holds. */
			RUN1(w, rc, chain_prep(w, j, base_of(it), tag_of(T_SYNC, 0)));
		}
		if (rc == -EEXIST && w->ch_fd[j] >= 0) {
			rc = link_taken(w, j, base_of(it));
		}
		w->sync_sid = sid;
		w->sync_file = file;
		if (w->ch_fd[j] >= 0) {
			close(w->ch_fd[j]);
			w->ch_fd[j] = -1;
		} else if (rc < 0) {
			unlinkat(w->p->tmp_fd, w->ch_tmp[j], 0);
		}
		if (rc < 0) {
			w->cstatus[i] = xf_status_of_errno(-rc);
			w->cchanged[i] = 0;
		} else {
			mark_dirty(w, w->ch_pfd[j]);
			w->cstatus[i] = XF_ST_OK;
			w->cchanged[i] = 1;
		}
	}
}

/*
 * Wait for every rename of the pending chain and settle it: the synchronous way, for
 * the steps that cannot be paused (the fallbacks of chain_add(), a directory's
 * release, teardown). commit_run() itself never waits for a chain.
 */
void
chain_flush(struct xf_worker *w)
{
	uint32_t n = w->ch_n;
	uint64_t t0;

	if (n == 0) {
		return;
	}
	t0 = now_ns();
	while (w->ch_got < n) {
		/* Wake once for the whole chain, not once per rename. */
		int k = worker_wait(w, w->scqe, n - w->ch_got);

		if (k < 0) {
			if (k == -EINTR || k == -EAGAIN) {
				continue;
			}
			XF_LOG(ERR, MODULE, "storage wait: %d", k);
			for (uint32_t j = 0; j < n; j++) {
				if (w->ch_res[j] > 0) {
					w->ch_res[j] = k;
				}
			}
			break;
		}
		for (int i = 0; i < k; i++) {
			keep_cqe(w, &w->scqe[i]);
		}
		run_deferred(w);
	}
	slow_check(w, t0, "waiting for the rename chain");
	chain_settle(w);
}

/* Fill chain position k before its step is prepped (the fault hook maps it back). */
static void
chain_slot(struct xf_worker *w, uint32_t k, uint32_t i, int pfd, const char *tmp, int fd)
{
	w->ch_item[k] = i;
	w->ch_pfd[k] = pfd;
	w->ch_fd[k] = fd;
	w->ch_res[k] = 1; /* pending: renames and links report 0 or -errno */
	memcpy(w->ch_tmp[k], tmp, XF_TMPNAME_SIZE);
}

/*
 * Queue the commit step of batch item i behind the pending ones: the rename of its temp
 * file tmp, or with fd >= 0 the link of its unnamed temp file fd (which the chain then
 * owns, and closes when settled). Room for the whole chain is made up front (an empty
 * submission queue, free slots), so the link to it is never left open at a submit and
 * one submission carries the chain.
 */
static void
chain_add(struct xf_worker *w, uint32_t i, int pfd, const char *tmp, const char *base, int fd)
{
	uint32_t k;
	int rc;

	if (w->ch_n == XF_MIN(w->depth, SYNC_MAX) || xf_storage_inflight(w->st) >= 2u * w->depth) {
		chain_flush(w);
	}
	if (w->ch_n == 0) {
		xf_storage_submit(w->st);
	} else {
		xf_storage_chain(w->st);
	}
	k = w->ch_n;
	chain_slot(w, k, i, pfd, tmp, fd);
	rc = chain_prep(w, k, base, tag_of(T_CHAIN, k));
	if (rc == -EBUSY) {
		/* Not expected given the room made above. Should it happen, the submit in the
		 * flush ends the open link and the flush waits for it: the order holds. */
		chain_flush(w);
		k = 0;
		chain_slot(w, k, i, pfd, tmp, fd);
		PREP(w, chain_prep(w, k, base, tag_of(T_CHAIN, k)));
	}
	w->ch_n = k + 1;
}

static void
cdir_release(struct xf_worker *w)
{
	int32_t ign;

	if (w->cdir_fd < 0) {
		return;
	}
	/* Renames into it still pending must land (and mark it dirty) before it goes. */
	chain_flush(w);
	if (w->cdir_dirty && w->p->conf.fsync != XF_FSYNC_NONE) {
		RUN1(w, ign, xf_storage_prep_fsync(w->st, w->cdir_fd, false, tag_of(T_SYNC, 0)));
		if (ign < 0) {
			XF_LOG(ERR, MODULE, "fsync of directory %s: %d", w->cdir, ign);
		}
	}
	close(w->cdir_fd);
	w->cdir_fd = -1;
	w->cdir_dirty = false;
}

/* mkdir -p of a parent that does not exist (directories missing from the list). */
static int
mkdir_parents(struct xf_worker *w, const char *dir)
{
	char buf[XF_PATH_MAX + 1];
	size_t len = strlen(dir);
	int pfd = w->root_fd;
	size_t start = 0;
	int rc = 0;

	memcpy(buf, dir, len + 1);
	for (size_t i = 0; i <= len; i++) {
		char save;
		int nfd;

		if (buf[i] != '/' && buf[i] != '\0') {
			continue;
		}
		save = buf[i];
		buf[i] = '\0';
		RUN1(w, rc,
		     xf_storage_prep_mkdir(w->st, pfd, buf + start, 0755, tag_of(T_SYNC, 0)));
		if (rc < 0 && rc != -EEXIST) {
			break;
		}
		RUN1(w, nfd, xf_storage_prep_open_dir(w->st, buf, tag_of(T_SYNC, 0)));
		if (pfd != w->root_fd) {
			close(pfd);
		}
		if (nfd < 0) {
			return nfd;
		}
		pfd = nfd;
		rc = 0;
		buf[i] = save;
		start = i + 1;
	}
	if (pfd != w->root_fd) {
		close(pfd);
	}
	return rc;
}

/* Directory fd (readable, so it can be fsynced) of the item's parent, cached. */
int
parent_fd(struct xf_worker *w, const struct xf_work *it, bool create)
{
	const char *dir = it->ptr;
	int fd;

	if (it->len == 0) {
		return w->root_fd;
	}
	if (w->cdir_fd >= 0 && strcmp(w->cdir, dir) == 0) {
		return w->cdir_fd;
	}
	cdir_release(w);
	RUN1(w, fd,
	     xf_storage_prep_open(w->st, -1, dir, O_RDONLY | O_DIRECTORY, 0, tag_of(T_SYNC, 0)));
	if (fd == -ENOENT && create) {
		fd = mkdir_parents(w, dir);
		if (fd == 0) {
			RUN1(w, fd,
			     xf_storage_prep_open(w->st, -1, dir, O_RDONLY | O_DIRECTORY, 0,
			                          tag_of(T_SYNC, 0)));
		}
	}
	if (fd < 0) {
		return fd;
	}
	w->cdir_fd = fd;
	memcpy(w->cdir, dir, it->len + 1);
	return fd;
}

/* A temp file that will not be committed: a named one is removed, an unnamed one's fd
 * (its only reference) closed. */
static void
drop_tmp(struct xf_worker *w, const char *tmp, int fd)
{
	if (fd >= 0) {
		close(fd);
	} else {
		unlinkat(w->p->tmp_fd, tmp, 0);
	}
}

/*
 * Give a staged temp file (or symlink) of batch item i its final name in its parent:
 * the one step that makes a file appear, atomically. A named temp tmp is renamed there;
 * an unnamed one (fd >= 0, owned by this call from here on) is linked there. The step
 * joins the pending chain and chain_settle() settles its status; on any failure the temp
 * is dropped and the final path keeps what it had.
 */
static uint8_t
place_tmp(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
          const char *tmp, int fd)
{
	int pfd = parent_fd(w, it, true);

	if (pfd < 0) {
		drop_tmp(w, tmp, fd);
		return xf_status_of_errno(-pfd);
	}
	chain_add(w, i, pfd, tmp, base, fd);
	return XF_ST_OK;
}

/* A verified regular file. An unnamed temp's fd is the commit's to close (a named one's
 * is closed by the caller: its rename works on names). */
static uint8_t
commit_reg(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
           const char *tmp, int32_t fsync_res)
{
	int fd = (it->flags & XF_WORK_F_UNNAMED) != 0 ? it->fd : -1;

	if (fsync_res < 0) {
		drop_tmp(w, tmp, fd);
		return xf_status_of_errno(-fsync_res);
	}
	return place_tmp(w, i, it, base, tmp, fd);
}

/*
 * Pause the batch at item i while the operation of its step (T_SYNC 0, queued after
 * sync_got was cleared) runs: commit_run() returns, and resumes the item through
 * step_resume() once a later poll has collected the completion.
 */
static void
step_pause(struct xf_worker *w, uint32_t i, uint8_t step)
{
	w->bstep = step;
	w->bpos = i;
	xf_storage_submit(w->st);
}

/* A directory: its parent (opened or made), then the mkdir, which the batch pauses for. */
static bool
commit_dir(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base)
{
	int pfd;

	pfd = parent_fd(w, it, true);
	if (pfd < 0) {
		w->cstatus[i] = xf_status_of_errno(-pfd);
		return false;
	}
	w->bpfd = pfd;
	w->sync_got = 0;
	PREP(w, xf_storage_prep_mkdir(w->st, pfd, base, 0700, tag_of(T_SYNC, 0)));
	step_pause(w, i, STEP_MKDIR);
	return true;
}

static uint8_t
commit_dir_made(struct xf_worker *w, const struct xf_work *it, const char *base, int32_t rc)
{
	int pfd = w->bpfd; /* the cached parent: nothing else of the executor ran since */
	struct stat sb;

	if (rc == -EEXIST) {
		/* Fine if it is a directory (not a symlink to one). */
		if (fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(sb.st_mode)) {
			return XF_ST_CONFLICT;
		}
	} else if (rc < 0) {
		return xf_status_of_errno(-rc);
	}
	/* The exact mode regardless of umask; its mtime is set at the end of the session. */
	if (fchmodat(pfd, base, it->mode & 07777, 0) != 0) {
		return XF_ST_IO;
	}
	mark_dirty(w, pfd);
	return XF_ST_OK;
}

/* A symlink, made under a temp name then renamed (the final path flips atomically). */
static void
symlink_prep(struct xf_worker *w, uint32_t i, const char *base, const char *tmp, uint8_t step)
{
	const char *target = base + strlen(base) + 1;

	w->sync_got = 0;
	PREP(w, xf_storage_prep_symlink(w->st, target, w->p->tmp_fd, tmp, tag_of(T_SYNC, 0)));
	step_pause(w, i, step);
}

/* The symlink's step completed: made (then renamed into place, in the chain), made
 * again over a leftover of the same temp name, or failed. Returns true if paused. */
static bool
symlink_made(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
             const char *tmp, uint8_t step, int32_t rc)
{
	struct timespec ts[2];

	if (rc == -EEXIST && step == STEP_SYMLINK) {
		unlinkat(w->p->tmp_fd, tmp, 0);
		symlink_prep(w, i, base, tmp, STEP_SYMLINK_AGAIN);
		return true;
	}
	if (rc < 0) {
		w->cstatus[i] = xf_status_of_errno(-rc);
		return false;
	}
	mtime_spec((int64_t)it->val, ts);
	if (utimensat(w->p->tmp_fd, tmp, ts, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = -errno;
		unlinkat(w->p->tmp_fd, tmp, 0);
		w->cstatus[i] = xf_status_of_errno(-rc);
		return false;
	}
	w->cstatus[i] = place_tmp(w, i, it, base, tmp, -1);
	return false;
}

/* Item i (bpos) resumes: the operation of its step completed. True if it paused again. */
static bool
step_resume(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base)
{
	uint8_t step = w->bstep;
	int32_t rc = w->sync_res[0];
	char tmp[XF_TMPNAME_SIZE];

	w->bstep = 0;
	if (step == STEP_MKDIR) {
		w->cstatus[i] = commit_dir_made(w, it, base, rc);
		return false;
	}
	xf_work_tmpname(tmp, it->sid, it->sess_id, it->file);
	return symlink_made(w, i, it, base, tmp, step, rc);
}

static void
dirtime(struct xf_worker *w, const struct xf_work *it)
{
	const char *base = (const char *)it->ptr + it->len + 1;
	struct timespec ts[2];
	int pfd;

	mtime_spec((int64_t)it->val, ts);
	/* A rename into the directory still pending would move its mtime again. */
	chain_flush(w);
	pfd = parent_fd(w, it, false);
	if (pfd >= 0) {
		uint64_t t0 = now_ns();

		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		slow_check(w, t0, "setting a directory's mtime");
	}
}

static uint32_t
batch_size(const struct xf_worker *w)
{
	switch (w->p->conf.fsync) {
	case XF_FSYNC_FILE:
		return 1;
	case XF_FSYNC_BATCH:
		return w->p->conf.fsync_batch != 0 ? w->p->conf.fsync_batch : 1;
	default:
		return SYNC_MAX;
	}
}

/*
 * Whether running batch item i (it) would have to wait for the pending chain: every
 * step outside the chain does (see above), and so does a rename that finds the chain
 * full. commit_run() pauses the batch there instead of waiting.
 */
static bool
needs_chain(const struct xf_worker *w, uint32_t i, const struct xf_work *it)
{
	if (w->stg_on && stg_places(w, it)) {
		return true; /* puts the staged directory in place first */
	}
	if (it->type == XF_WORK_COMMIT && (it->flags & XF_WORK_F_INPLACE) != 0) {
		return false; /* nothing to do on disk */
	}
	if (it->type == XF_WORK_DIRTIME) {
		return true;
	}
	if (it->type != XF_WORK_COMMIT || (it->flags & XF_WORK_F_DISCARD) != 0) {
		return it->type == XF_WORK_COMMIT;
	}
	if ((it->flags & XF_WORK_F_NOOP) != 0) {
		return false;
	}
	if (it->kind == XF_FILE_REG && w->cfres[i] < 0) {
		return false; /* fsync failed: the temp goes, nothing is renamed */
	}
	if (it->kind != XF_FILE_REG) {
		return true; /* mkdir, or the symlink made under its temp name */
	}
	if (it->len != 0 && (w->cdir_fd < 0 || strcmp(w->cdir, (const char *)it->ptr) != 0)) {
		return true; /* a new parent: opened (or created) and waited for */
	}
	return w->ch_n == XF_MIN(w->depth, SYNC_MAX) || xf_storage_inflight(w->st) >= 2u * w->depth;
}

/*
 * Start a batch of up to batch_size() queued items: fsync its verified temp files in
 * one submission and wait for them (only under fsync file or batch; no chain is in
 * flight between batches, so this keeps fsync-before-rename without ordering work).
 */
static void
batch_start(struct xf_worker *w)
{
	uint32_t n = XF_MIN(w->cq_tail - w->cq_head, batch_size(w));
	bool durable = w->p->conf.fsync != XF_FSYNC_NONE;
	uint32_t nsync = 0;

	w->sync_got = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xf_work *it = cq_item(w, i);

		w->sync_res[i] = 0;
		if (durable && it->type == XF_WORK_COMMIT && it->kind == XF_FILE_REG &&
		    it->fd >= 0 && (it->flags & XF_WORK_F_DISCARD) == 0) {
			PREP(w, xf_storage_prep_fsync(w->st, it->fd, false, tag_of(T_SYNC, i)));
			nsync++;
		}
	}
	if (nsync != 0) {
		w->sync_got = n - nsync; /* the others count as done */
		sync_wait(w, n);
	}
	memcpy(w->cfres, w->sync_res, n * sizeof(w->cfres[0]));
	memset(w->cdefer, 0, n * sizeof(w->cdefer[0])); /* stg_pop() looks at the whole batch */
	w->bn = n;
	w->bpos = 0;
}

/*
 * Run the batch's items from bpos on: each regular file (or symlink) joins the chain
 * of renames; any other step runs at once, after the chain. Returns true when the
 * batch is paused with a chain submitted (at an item that has to wait for it, or at
 * the end), false when every item is settled.
 */
static bool
batch_items(struct xf_worker *w)
{
	for (uint32_t i = w->bpos; i < w->bn; i++) {
		struct xf_work *it = cq_item(w, i);
		const char *base = base_of(it);
		char tmp[XF_TMPNAME_SIZE];

		if (w->ch_n != 0 && needs_chain(w, i, it)) {
			w->bpos = i;
			xf_storage_submit(w->st);
			return true;
		}
		if (w->bstep != 0) {
			if (step_resume(w, i, it, base)) {
				return true;
			}
			w->cchanged[i] = w->cstatus[i] == XF_ST_OK;
			w->t.commits++;
			continue;
		}
		w->sync_sid = it->sid;
		w->sync_file = it->file;
		w->cstatus[i] = it->status;
		w->cchanged[i] = 0;
		if (w->stg_on && stg_commit(w, i, it)) {
			continue;
		}
		if (it->type == XF_WORK_DIRTIME) {
			dirtime(w, it);
			continue;
		}
		if (it->type != XF_WORK_COMMIT) {
			continue;
		}
		xf_work_tmpname(tmp, it->sid, it->sess_id, it->file);
		if ((it->flags & XF_WORK_F_DISCARD) != 0) {
			/* Aborted session: a verified temp file is dropped, not committed.
			 * After the pending renames, like every step outside the chain. */
			chain_flush(w);
			if (it->kind == XF_FILE_REG && it->fd >= 0) {
				if ((it->flags & XF_WORK_F_UNNAMED) == 0) {
					unlinkat(w->p->tmp_fd, tmp, 0);
				}
				close(it->fd);
			}
			continue;
		}
		if ((it->flags & XF_WORK_F_NOOP) != 0) {
			continue;
		}
		switch (it->kind) {
		case XF_FILE_REG:
			w->cstatus[i] = commit_reg(w, i, it, base, tmp, w->cfres[i]);
			if ((it->flags & XF_WORK_F_UNNAMED) == 0) {
				/* Its rename works on names: the fd can go before it runs. */
				close(it->fd);
			}
			break;
		case XF_FILE_DIR:
			if (commit_dir(w, i, it, base)) {
				return true;
			}
			break;
		default:
			symlink_prep(w, i, base, tmp, STEP_SYMLINK);
			return true;
		}
		/* A queued rename is settled by chain_settle(), which overwrites both. */
		w->cchanged[i] = w->cstatus[i] == XF_ST_OK;
		w->t.commits++;
	}
	w->bpos = w->bn;
	if (w->ch_n != 0) {
		xf_storage_submit(w->st);
		return true;
	}
	return false;
}

/*
 * End of a batch, every rename settled: fsync the directories that changed (fsync
 * file or batch), then report the batch in order. A file is reported committed only
 * here, so "committed through N" follows its rename and is durable under the policy.
 */
static void
batch_end(struct xf_worker *w)
{
	int32_t ign = 0;

	if (w->p->conf.fsync != XF_FSYNC_NONE) {
		if (w->cdir_fd >= 0 && w->cdir_dirty) {
			RUN1(w, ign,
			     xf_storage_prep_fsync(w->st, w->cdir_fd, false, tag_of(T_SYNC, 0)));
			w->cdir_dirty = false;
		}
		if (w->root_dirty) {
			RUN1(w, ign,
			     xf_storage_prep_fsync(w->st, w->root_fd, false, tag_of(T_SYNC, 0)));
			w->root_dirty = false;
		}
		if (ign < 0) {
			/* The renames are done; the files stay committed, the error is logged. */
			XF_LOG(ERR, MODULE, "fsync of a directory: %d", ign);
		}
	}
	for (uint32_t i = 0; i < w->bn; i++) {
		const struct xf_work *it = cq_item(w, i);
		struct xf_done d = {
			.status = w->cstatus[i],
			.changed = w->cchanged[i],
			.sid = it->sid,
			.file = it->file,
			.fd = -1,
			.gen = it->gen,
		};

		if (it->type == XF_WORK_DIRTIME) {
			continue;
		}
		d.type = it->type == XF_WORK_MARK ? XF_DONE_MARK : XF_DONE_COMMIT;
		if (w->cdefer[i] != 0) {
			/* Held for the staged directory at the head (stg_commit()). */
			if (w->sq_tail - w->sq_head == w->sq_cap) {
				XF_LOG(ERR, MODULE, "held commit reports overflow");
			} else {
				w->sq[w->sq_tail++ & (w->sq_cap - 1)] = (struct stg_report){
					.d = d, .rx = it->rx, .mine = w->cmine[i]
				};
				continue;
			}
		}
		post_done(w, it->rx, &d);
	}
	w->cq_head += w->bn;
	w->bn = 0;
	w->bpos = 0;
}

/*
 * Drive the commit queue, one batch in flight at a time, without waiting for renames:
 * (1) batch_start(): fsync the batch's temp files (fsync file/batch), (2) batch_items():
 * make each file final in order, the renames as one chain, submitted; the batch pauses
 * while the chain runs and a later poll, once cqe_dispatch() has counted every rename's
 * completion, settles it and resumes, (3) batch_end(): fsync the directories that
 * changed, report the batch in order. Returns 1 if it did anything.
 */
int
commit_run(struct xf_worker *w)
{
	int busy = 0;

	for (;;) {
		uint64_t t0;
		bool paused;

		if (w->bn == 0 && w->cq_tail == w->cq_head) {
			return w->stg_on ? busy | stg_idle(w) : busy;
		}
		if (w->bn != 0 && w->ch_got < w->ch_n) {
			return busy; /* the chain is running */
		}
		if (w->bn != 0 && w->bstep != 0 && w->sync_got == 0) {
			return busy; /* the paused item's operation is running */
		}
		t0 = now_ns();
		if (w->bn == 0) {
			batch_start(w);
		} else if (w->ch_n != 0) {
			chain_settle(w);
		}
		paused = batch_items(w);
		if (!paused) {
			batch_end(w);
		}
		w->now = now_ns();
		stamp(t0, &w->t.commit_first, &w->t.commit_last);
		w->t.commit_last = w->now;
		w->t.busy_commit_s += (double)(w->now - t0) / 1e9;
		busy = 1;
		if (paused) {
			return busy;
		}
	}
}
