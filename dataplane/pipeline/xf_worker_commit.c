/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, commit executor (worker XF_COMMIT_WORKER): batches of COMMIT items in
 * file-list order, the rename/link chain, directories, symlinks, fsyncs and directory
 * mtimes (docs/PIPELINE.md, "Commit ordering without blocking the RX core"); the parent
 * directories are xf_worker_parent.c's, hard links xf_worker_link.c's.
 *
 * Why this keeps file-list order without the RX core blocking: each RX core sends its
 * sessions' commit items, already in file-list order, on its own FIFO ring to this one
 * worker, which runs them strictly one after another. The renames that make files final
 * go out as one chain (xf_storage_chain(): each starts only once the one before it has
 * completed, whatever its result), so a run of them costs one submission, the kernel
 * runs them on one io-wq thread without a wake-up per file, and they still reach the
 * file system in list order.
 *
 * The executor never waits for a completion: the worker's core polls, and in the
 * engine's combined mode the same loop polls an RX core's port. Every operation whose
 * result the next step needs is queued, the executor pauses and returns, and a later
 * poll that has collected the completion (cqe_dispatch() -> keep_cqe()) resumes it,
 * as SPDK's pollers do: the chain (T_CHAIN), and one step at a time outside it (T_SYNC,
 * STEP_OP(): bstep says which step, bctx whose). Every step outside the chain needs the
 * pending chain settled first: the batch pauses before it. The steps: the batch's file
 * fsyncs, a new parent directory (xf_worker_parent.c), a directory's mkdir, a symlink
 * made under its temp name, the head staged directory's placement (xf_worker_stage.c:
 * under fsync file or batch its fsync, its rename and its parent's fsync), a
 * chain step to run again alone or a link over a name taken, the directory fsyncs at
 * the end of a batch. A step starts only with room in the storage (COMMIT_ROOM free
 * slots), else the executor returns busy and the next poll tries again.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xf_worker_priv.h"

void
mark_dirty(struct xf_worker *w, int pfd)
{
	if (pfd == w->root_fd) {
		w->root_dirty = true;
	} else if (pfd == w->cdir_fd) {
		w->cdir_dirty = true;
	} /* else the head staged directory: fsynced before its rename (stg_place()) */
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

/* The fault hook names the item of a T_SYNC operation through sync_sid and sync_file. */
static void
sync_item(struct xf_worker *w, const struct xf_work *it)
{
	w->sync_sid = it->sid;
	w->sync_file = it->file;
}

/*
 * Type changes (docs/PIPELINE.md, "Type changes"): a rename cannot put a file or symlink
 * over a directory, nor a directory over anything, so the new entry, ready under its
 * temp name in the staging directory, is exchanged with the old one (renameat2
 * RENAME_EXCHANGE: the path never shows nothing, nor anything half built), and the old
 * one, now under the temp name, is removed from there without following a symlink.
 */

/*
 * May the directory at base in pfd, in the way of file or symlink item it, go? With
 * XF_WORK_F_DELETE (--delete, no limit) always, otherwise only while it is empty (the
 * STAT stage refused it if it had entries then). 0, or -ENOTEMPTY, or -errno.
 */
static int
dir_may_go(const struct xf_work *it, int pfd, const char *base)
{
	int e;

	if ((it->flags & XF_WORK_F_DELETE) != 0) {
		return 0;
	}
	e = xf_pipeline_dir_empty(pfd, base);
	return e == 1 ? 0 : e == 0 ? -ENOTEMPTY : e;
}

/* The cached parent is the directory item it replaced, or beneath it: its fd names the
 * old one, now in the staging directory. Forgotten (what was renamed into it goes with
 * it: no fsync needed). */
static void
cdir_forget(struct xf_worker *w, const struct xf_work *it)
{
	const char *base = base_of(it);
	const char *c = w->cdir;
	size_t bl = strlen(base);

	if (w->cdir_fd < 0) {
		return;
	}
	if (it->len != 0) {
		if (strncmp(c, (const char *)it->ptr, it->len) != 0 || c[it->len] != '/') {
			return;
		}
		c += it->len + 1;
	}
	if (strncmp(c, base, bl) != 0 || (c[bl] != '\0' && c[bl] != '/')) {
		return;
	}
	close(w->cdir_fd);
	w->cdir_fd = -1;
	w->cdir_dirty = false;
}

/*
 * Item it (a file or symlink) was exchanged with the directory in its way, in parent
 * pfd, which is now at temp name tmp: an empty one goes at once; one with entries goes
 * step by step behind this batch when it may (trash_start()); one that gained entries
 * since the check and may not go is put back, and the item fails. 0 or -errno.
 */
static int32_t
dir_replaced(struct xf_worker *w, const struct xf_work *it, int pfd, const char *tmp)
{
	int err;

	cdir_forget(w, it);
	if (unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR) == 0) {
		goto done;
	}
	err = errno;
	if (err != ENOTEMPTY && err != EEXIST) {
		/* Left in the staging directory, which the next start empties. */
		XF_LOG(WARNING, MODULE, "a replaced directory, %s: %s", tmp, strerror(err));
		goto done;
	}
	if ((it->flags & XF_WORK_F_DELETE) != 0 && trash_start(w, it, tmp) == 0) {
		goto done;
	}
	if (renameat2(w->p->tmp_fd, tmp, pfd, base_of(it), RENAME_EXCHANGE) != 0) {
		XF_LOG(ERR, MODULE, "a directory that gained entries, back from %s: %s", tmp,
		       strerror(errno));
		goto done;
	}
	return -ENOTEMPTY; /* the caller removes the temp, back under its name */
done:
	w->t.type_changes++;
	return 0;
}

/*
 * The result of chain position j once every step it needs has run, or 1 while it is
 * paused for one (CTX_SETTLE). A step the kernel failed at submission and never ran
 * (-ECANCELED) runs again, alone; the ones after it follow, so the order holds. An
 * unnamed temp whose final name was taken since its quick check (link: EEXIST) replaces
 * what is there, as a named one would have: it gets its staging name, then is renamed
 * over the final path (rare).
 */
static int32_t
settle_rc(struct xf_worker *w, uint32_t j)
{
	const struct xf_work *it = cq_item(w, w->ch_item[j]);
	int32_t rc = w->ch_res[j];
	uint8_t step = 0;

	if (w->bctx == CTX_SETTLE) {
		step = w->bstep;
		rc = step_take(w);
	}
	sync_item(w, it);
	if (step == 0 && rc == -ECANCELED) {
		STEP_OP(w, CTX_SETTLE, STEP_RERUN,
		        chain_prep(w, j, base_of(it), tag_of(T_SYNC, 0)));
		return 1;
	}
	if ((step == 0 || step == STEP_RERUN) && rc == -EEXIST && w->ch_fd[j] >= 0) {
		w->t.link_taken++;
		STEP_OP(w, CTX_SETTLE, STEP_LINK_TMP,
		        xf_storage_prep_link(w->st, w->ch_fd[j], w->p->tmp_fd, w->ch_tmp[j],
		                             tag_of(T_SYNC, 0)));
		return 1;
	}
	if (step == STEP_LINK_TMP && rc >= 0) {
		STEP_OP(w, CTX_SETTLE, STEP_LINK_OVER,
		        xf_storage_prep_rename(w->st, w->p->tmp_fd, w->ch_tmp[j], w->ch_pfd[j],
		                               base_of(it), 0, tag_of(T_SYNC, 0)));
		return 1;
	}
	if (rc == -EISDIR && (step == STEP_LINK_OVER || (step != STEP_XCHG && w->ch_fd[j] < 0))) {
		/* A directory in the way: exchanged with it if it may go. */
		int e = dir_may_go(it, w->ch_pfd[j], base_of(it));

		if (e == 0) {
			STEP_OP(w, CTX_SETTLE, STEP_XCHG,
			        xf_storage_prep_rename(w->st, w->p->tmp_fd, w->ch_tmp[j],
			                               w->ch_pfd[j], base_of(it), RENAME_EXCHANGE,
			                               tag_of(T_SYNC, 0)));
			return 1;
		}
		rc = e == -ENOTDIR || e == -ENOENT ? rc : e;
	}
	if (step == STEP_XCHG && rc >= 0) {
		rc = dir_replaced(w, it, w->ch_pfd[j], w->ch_tmp[j]);
	}
	if ((step == STEP_LINK_OVER || step == STEP_XCHG) && rc < 0) {
		unlinkat(w->p->tmp_fd, w->ch_tmp[j], 0);
	}
	return rc;
}

/*
 * Settle each item of a completed chain, from position ch_sj on, as its step run alone
 * would be: a failure removes a named temp and gives the item the status of its error
 * (the final path keeps what it had); a success marks the parent for its fsync. An
 * unnamed temp's fd, open until its link ran, is closed here. Returns true while paused
 * for a step of one of them (settle_rc()).
 */
static bool
chain_settle(struct xf_worker *w)
{
	for (uint32_t j = w->ch_sj; j < w->ch_n; j++) {
		uint32_t i = w->ch_item[j];
		int32_t rc = settle_rc(w, j);

		if (rc == 1) {
			w->ch_sj = j;
			return true;
		}
		if (rc >= 0 && w->ch_signed[j]) {
			/* Final: the key of its signature cache entry, taken now. */
			sc_note_commit(w, cq_item(w, i),
			               w->ch_fd[j] >= 0 ? w->ch_fd[j] : w->ch_kfd[j]);
		}
		if (w->ch_kfd[j] >= 0) {
			close(w->ch_kfd[j]);
			w->ch_kfd[j] = -1;
		}
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
	w->ch_n = 0;
	w->ch_got = 0;
	w->ch_sj = 0;
	return false;
}

/* Fill chain position k before its step is prepped (the fault hook maps it back). */
static void
chain_slot(struct xf_worker *w, uint32_t k, uint32_t i, int pfd, const char *tmp, int fd)
{
	w->ch_item[k] = i;
	w->ch_pfd[k] = pfd;
	w->ch_fd[k] = fd;
	w->ch_kfd[k] = -1;
	w->ch_signed[k] = 0;
	w->ch_res[k] = 1; /* pending: renames and links report 0 or -errno */
	memcpy(w->ch_tmp[k], tmp, XF_TMPNAME_SIZE);
}

/*
 * Queue the commit step of batch item i behind the pending ones: the rename of its temp
 * file tmp, or with fd >= 0 the link of its unnamed temp file fd (which the chain then
 * owns, and closes when settled). The chain never finds the storage full: it starts with
 * an empty submission queue (submitted here), holds at most the queue's depth, and
 * needs_chain() pauses the batch before an item when the chain is full or fewer than
 * COMMIT_ROOM slots are free; so the link to it is never left open at a submit and one
 * submission carries the chain.
 */
static void
chain_add(struct xf_worker *w, uint32_t i, int pfd, const char *tmp, const char *base, int fd)
{
	uint32_t k = w->ch_n;

	if (k == 0) {
		xf_storage_submit(w->st);
	} else {
		xf_storage_chain(w->st);
	}
	chain_slot(w, k, i, pfd, tmp, fd);
	if (chain_prep(w, k, base, tag_of(T_CHAIN, k)) == -EBUSY) {
		/* Cannot happen (see above). Should it, the step goes out after a submit that
		 * ends the link: it may then overtake the renames before it. */
		XF_LOG(ERR, MODULE, "rename chain: no room for position %u", k);
		PREP(w, chain_prep(w, k, base, tag_of(T_CHAIN, k)));
	}
	w->ch_n = k + 1;
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
	if (owner_set(w, pfd, base, it->uid, it->gid) != XF_ST_OK) {
		return XF_ST_ATTR;
	}
	if (xattr_apply_at(w, pfd, base, it->ptr, it->flags, true) != XF_ST_OK) {
		return XF_ST_XATTR;
	}
	/* The exact mode regardless of umask; its mtime is set at the end of the session. */
	if (fchmodat(pfd, base, it->mode & 07777, 0) != 0) {
		return XF_ST_IO;
	}
	mark_dirty(w, pfd);
	return XF_ST_OK;
}

/* The new directory of item it, made under its temp name tmp with its owner and mode,
 * to take the place of the file or symlink at its path. 0, -errno, XF_ST_ATTR: it
 * cannot have its owner (removed again). */
static int
dir_tmp(struct xf_worker *w, const struct xf_work *it, const char *tmp)
{
	if (mkdirat(w->p->tmp_fd, tmp, 0700) != 0) {
		/* A leftover of an earlier attempt (a crash), as a temp file's. */
		if (errno != EEXIST || xf_pipeline_remove_tree(w->p->tmp_fd, tmp) != 0 ||
		    mkdirat(w->p->tmp_fd, tmp, 0700) != 0) {
			return -errno;
		}
		w->t.tmp_leftovers++;
	}
	if (owner_set(w, w->p->tmp_fd, tmp, it->uid, it->gid) != XF_ST_OK) {
		unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR);
		return XF_ST_ATTR;
	}
	if (xattr_apply_at(w, w->p->tmp_fd, tmp, it->ptr, it->flags, true) != XF_ST_OK) {
		unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR);
		return XF_ST_XATTR;
	}
	if (fchmodat(w->p->tmp_fd, tmp, it->mode & 07777, 0) != 0) {
		int e = -errno;

		unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR);
		return e;
	}
	return 0;
}

/* The exchange of a new directory (dir_tmp()) with the file or symlink in its way, in
 * parent bpfd, completed with rc: what it replaced, now under temp name tmp, goes. */
static uint8_t
dir_exchanged(struct xf_worker *w, const char *tmp, int32_t rc)
{
	if (rc < 0) {
		unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR);
		return xf_status_of_errno(-rc);
	}
	if (unlinkat(w->p->tmp_fd, tmp, 0) != 0) {
		/* Made a directory since the check: left in the staging directory, which
		 * the next start empties. */
		XF_LOG(WARNING, MODULE, "what a directory replaced, %s: %s", tmp, strerror(errno));
	}
	w->t.type_changes++;
	mark_dirty(w, w->bpfd);
	return XF_ST_OK;
}

/* A symlink, made under a temp name then renamed (the final path flips atomically). */
static void
symlink_prep(struct xf_worker *w, const char *base, const char *tmp, uint8_t step)
{
	const char *target = base + strlen(base) + 1;

	STEP_OP(w, CTX_ITEM, step,
	        xf_storage_prep_symlink(w->st, target, w->p->tmp_fd, tmp, tag_of(T_SYNC, 0)));
}

/* The symlink's step completed: made (then renamed into place, in the chain, in its
 * parent bpfd), made again over a leftover of the same temp name, or failed. Returns
 * true if paused again. */
static bool
symlink_made(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
             const char *tmp, uint8_t step, int32_t rc)
{
	struct timespec ts[2];

	if (rc == -EEXIST && step == STEP_SYMLINK) {
		unlinkat(w->p->tmp_fd, tmp, 0);
		symlink_prep(w, base, tmp, STEP_SYMLINK_AGAIN);
		return true;
	}
	if (rc < 0) {
		w->cstatus[i] = xf_status_of_errno(-rc);
		return false;
	}
	if (owner_set(w, w->p->tmp_fd, tmp, it->uid, it->gid) != XF_ST_OK) {
		unlinkat(w->p->tmp_fd, tmp, 0);
		w->cstatus[i] = XF_ST_ATTR;
		return false;
	}
	mtime_spec((int64_t)it->val, ts);
	if (utimensat(w->p->tmp_fd, tmp, ts, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = -errno;
		unlinkat(w->p->tmp_fd, tmp, 0);
		w->cstatus[i] = xf_status_of_errno(-rc);
		return false;
	}
	chain_add(w, i, w->bpfd, tmp, base, -1);
	w->cstatus[i] = XF_ST_OK;
	return false;
}

/* A directory's mtime (end of its session), once its parent is open. True if paused. */
static bool
dirtime(struct xf_worker *w, const struct xf_work *it)
{
	const char *base = base_of(it);
	struct timespec ts[2];
	int pfd;

	if (parent_step(w, it, false, CTX_ITEM, &pfd)) {
		return true;
	}
	if (pfd >= 0) {
		uint64_t t0 = now_ns();

		mtime_spec((int64_t)it->val, ts);
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		slow_check(w, t0, "setting a directory's mtime");
	}
	return false;
}

/*
 * Run batch item i (it) from where it is: each regular file (or symlink, once made)
 * joins the chain of renames, in its parent (parent_step()); a directory is made. Sets
 * its status; returns true while it is paused for a step of its own (CTX_ITEM).
 */
static bool
item_run(struct xf_worker *w, uint32_t i, const struct xf_work *it)
{
	const char *base = base_of(it);
	bool unnamed = (it->flags & XF_WORK_F_UNNAMED) != 0;
	char tmp[XF_TMPNAME_SIZE];
	uint8_t step = w->bctx == CTX_ITEM ? w->bstep : 0;
	bool made;
	int pfd;

	if (it->type == XF_WORK_DIRTIME) {
		return dirtime(w, it);
	}
	if (it->type != XF_WORK_COMMIT) {
		return false;
	}
	xf_work_tmpname(tmp, it->sid, it->sess_id, it->file);
	if ((it->flags & XF_WORK_F_DISCARD) != 0) {
		/* Aborted session: a verified temp file is dropped, not committed (after the
		 * pending renames, like every step outside the chain: needs_chain()). */
		if (it->kind == XF_FILE_REG && it->fd >= 0) {
			if (!unnamed) {
				unlinkat(w->p->tmp_fd, tmp, 0);
			}
			close(it->fd);
		}
		return false;
	}
	if ((it->flags & XF_WORK_F_NOOP) != 0) {
		return false;
	}
	if (step == STEP_MKDIR) {
		int32_t rc = step_take(w);
		int xchg = rc == -EEXIST && !is_dir_at(w->bpfd, base) ? dir_tmp(w, it, tmp) : -1;

		if (xchg == 0) {
			/* A file or symlink in its way: a new one, exchanged with it. */
			STEP_OP(w, CTX_ITEM, STEP_DIR_XCHG,
			        xf_storage_prep_rename(w->st, w->p->tmp_fd, tmp, w->bpfd, base,
			                               RENAME_EXCHANGE, tag_of(T_SYNC, 0)));
			return true;
		}
		if (xchg == XF_ST_ATTR || xchg == XF_ST_XATTR) {
			w->cstatus[i] = (uint8_t)xchg;
			goto done;
		}
		w->cstatus[i] = commit_dir_made(w, it, base, rc);
		goto done;
	}
	if (step == STEP_DIR_XCHG) {
		int32_t rc = step_take(w);

		w->cstatus[i] = dir_exchanged(w, tmp, rc);
		goto done;
	}
	if (step == STEP_SYMLINK || step == STEP_SYMLINK_AGAIN) {
		if (symlink_made(w, i, it, base, tmp, step, step_take(w))) {
			return true;
		}
		goto done;
	}
	if (it->kind == XF_FILE_REG && step == 0 && w->cfres[i] < 0) {
		/* Its fsync failed: the temp goes, nothing is renamed. */
		drop_tmp(w, tmp, unnamed ? it->fd : -1);
		w->cstatus[i] = xf_status_of_errno(-w->cfres[i]);
		goto closed;
	}
	pfd = w->stg_on ? stg_into(w, it) : -1;
	if (pfd < 0 && parent_step(w, it, true, CTX_ITEM, &pfd)) {
		return true;
	}
	if (pfd < 0) {
		w->cstatus[i] = xf_status_of_errno(-pfd);
		if (it->kind == XF_FILE_REG) {
			drop_tmp(w, tmp, unnamed ? it->fd : -1);
			goto closed;
		}
		goto done;
	}
	w->bpfd = pfd;
	switch (it->kind) {
	case XF_FILE_REG:
		/* The chain owns an unnamed temp's fd from here on, and a signed file's
		 * (XF_WORK_F_SIGNED): its key is taken once it is final (chain_settle()). */
		chain_add(w, i, pfd, tmp, base, unnamed ? it->fd : -1);
		w->cstatus[i] = XF_ST_OK;
		if ((it->flags & XF_WORK_F_SIGNED) != 0 && it->fd >= 0) {
			w->ch_signed[w->ch_n - 1] = 1;
			if (!unnamed) {
				w->ch_kfd[w->ch_n - 1] = it->fd;
				goto done;
			}
		}
		goto closed;
	case XF_FILE_DIR:
		STEP_OP(w, CTX_ITEM, STEP_MKDIR,
		        xf_storage_prep_mkdir(w->st, pfd, base, 0700, tag_of(T_SYNC, 0)));
		return true;
	case XF_FILE_HARDLINK:
		/* Linked under its temp name (xf_worker_link.c), renamed in the chain. */
		w->cstatus[i] = link_make(w, pfd, it, tmp, &made);
		if (made) {
			chain_add(w, i, pfd, tmp, base, -1);
			goto done;
		}
		w->cchanged[i] = false; /* already that link, or failed */
		w->t.commits++;
		return false;
	default:
		symlink_prep(w, base, tmp, STEP_SYMLINK);
		return true;
	}
closed:
	if (!unnamed) {
		/* Its rename works on names: the fd can go before it runs. */
		close(it->fd);
	}
done:
	/* A queued rename is settled by chain_settle(), which overwrites both. */
	w->cchanged[i] = w->cstatus[i] == XF_ST_OK;
	w->t.commits++;
	return false;
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
 * Whether running batch item i (it) needs the pending chain settled first: every step
 * outside the chain does (see above), and so does a rename that finds the chain full,
 * or too little room in the storage. batch_items() pauses the batch there.
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
	if (it->len != 0 && !(w->stg_on && stg_into(w, it) >= 0) &&
	    (w->cdir_fd < 0 || strcmp(w->cdir, (const char *)it->ptr) != 0)) {
		return true; /* a new parent: opened (or created) first */
	}
	return w->ch_n == XF_MIN(w->depth, SYNC_MAX) || st_free(w) < COMMIT_ROOM;
}

/* Start a batch of up to batch_size() queued items. */
static void
batch_start(struct xf_worker *w)
{
	uint32_t n = XF_MIN(w->cq_tail - w->cq_head, batch_size(w));

	memset(w->sync_res, 0, n * sizeof(w->sync_res[0]));
	memset(w->cdefer, 0, n * sizeof(w->cdefer[0])); /* stg_pop() looks at the whole batch */
	w->sync_got = 0;
	w->sync_need = 0;
	w->bn = n;
	w->bpos = 0;
	w->bfs_next = 0;
	w->bphase = PH_FSYNC;
}

/*
 * Under fsync file or batch, the batch's verified temp files are fsynced (T_SYNC i for
 * item i, queued together as room allows: their order does not matter) before any of
 * them is renamed; no chain is in flight between batches, so this keeps fsync before
 * rename without ordering work. Returns true while paused for them.
 */
static bool
fsync_files(struct xf_worker *w)
{
	bool durable = w->p->conf.fsync != XF_FSYNC_NONE;

	if (w->bctx == CTX_BATCH) {
		step_take(w);
	}
	for (; durable && w->bfs_next < w->bn; w->bfs_next++) {
		const struct xf_work *it = cq_item(w, w->bfs_next);

		if (it->type != XF_WORK_COMMIT || it->kind != XF_FILE_REG || it->fd < 0 ||
		    (it->flags & XF_WORK_F_DISCARD) != 0) {
			continue;
		}
		if (st_free(w) < COMMIT_ROOM) {
			break; /* the rest once completions have made room */
		}
		PREP(w, xf_storage_prep_fsync(w->st, it->fd, false, tag_of(T_SYNC, w->bfs_next)));
		w->sync_need++;
	}
	if (w->sync_got < w->sync_need || (durable && w->bfs_next < w->bn)) {
		w->bstep = STEP_FILE_FSYNC;
		w->bctx = CTX_BATCH;
		xf_storage_submit(w->st);
		return true;
	}
	memcpy(w->cfres, w->sync_res, w->bn * sizeof(w->cfres[0]));
	return false;
}

/*
 * Run the batch's items from bpos on: each regular file (or symlink) joins the chain
 * of renames; any other step runs after the chain. Returns true when the batch is
 * paused: with a chain submitted (at an item that needs it settled, or at the end),
 * for a step's operation, or for room; false when every item is settled.
 */
static bool
batch_items(struct xf_worker *w)
{
	for (uint32_t i = w->bpos; i < w->bn; i++) {
		struct xf_work *it = cq_item(w, i);
		bool resumed = w->bstep != 0; /* item i's own step, or a placement before it */

		if (!resumed) {
			if (w->ch_n != 0 && needs_chain(w, i, it)) {
				w->bpos = i;
				xf_storage_submit(w->st);
				return true;
			}
			w->bpos = i;
			if (st_free(w) < COMMIT_ROOM) {
				return true; /* the next poll tries again */
			}
			w->cstatus[i] = it->status;
			w->cchanged[i] = 0;
		}
		if (w->stg_on && (w->bctx == CTX_STG || (!resumed && stg_places(w, it)))) {
			if (stg_place(w)) {
				return true;
			}
			resumed = false;
		}
		sync_item(w, it);
		if (!resumed && w->stg_on && stg_commit(w, i, it)) {
			continue;
		}
		if (item_run(w, i, it)) {
			return true;
		}
	}
	w->bpos = w->bn;
	if (w->ch_n != 0) {
		xf_storage_submit(w->st);
		return true;
	}
	return false;
}

/*
 * End of a batch, every rename settled: fsync the directories that changed (fsync file
 * or batch; both at once, their order does not matter). Returns true while paused.
 */
static bool
fsync_dirs(struct xf_worker *w)
{
	uint32_t n = 0;

	if (w->bctx == CTX_BATCH) {
		step_take(w);
		for (uint32_t k = 0; k < w->sync_need; k++) {
			if (w->sync_res[k] < 0) {
				/* The renames are done; the files stay committed, the error is
				 * logged. */
				XF_LOG(ERR, MODULE, "fsync of a directory: %d", w->sync_res[k]);
			}
		}
		return false;
	}
	if (w->p->conf.fsync == XF_FSYNC_NONE) {
		return false;
	}
	w->sync_got = 0;
	if (w->cdir_fd >= 0 && w->cdir_dirty) {
		PREP(w, xf_storage_prep_fsync(w->st, w->cdir_fd, false, tag_of(T_SYNC, n++)));
		w->cdir_dirty = false;
	}
	if (w->root_dirty) {
		PREP(w, xf_storage_prep_fsync(w->st, w->root_fd, false, tag_of(T_SYNC, n++)));
		w->root_dirty = false;
	}
	if (n == 0) {
		return false;
	}
	w->sync_need = n;
	w->bstep = STEP_DIR_FSYNC;
	w->bctx = CTX_BATCH;
	xf_storage_submit(w->st);
	return true;
}

/*
 * Report the batch in order. A file is reported committed only here, so "committed
 * through N" follows its rename and is durable under the policy.
 */
static void
batch_report(struct xf_worker *w)
{
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
 * The batch in flight, from where it paused: (1) fsync its temp files (fsync file or
 * batch), (2) settle a completed chain, then run its items in order, the renames as one
 * chain, (3) fsync the directories that changed, and report it in order. Returns true
 * while paused, false once reported.
 */
static bool
batch_run(struct xf_worker *w)
{
	if (w->bn == 0) {
		batch_start(w);
	}
	if (w->bphase == PH_FSYNC) {
		if (fsync_files(w)) {
			return true;
		}
		w->bphase = PH_ITEMS;
	}
	if (w->bphase == PH_ITEMS) {
		if (w->ch_n != 0 && chain_settle(w)) {
			return true;
		}
		if (batch_items(w)) {
			return true;
		}
		w->bphase = PH_END;
	}
	if (fsync_dirs(w)) {
		return true;
	}
	batch_report(w);
	return false;
}

/*
 * Drive the commit queue, one batch in flight at a time, without waiting for any
 * completion: a batch paused for its chain or for a step's operations resumes in the
 * poll that has collected them. Returns 1 if it did anything.
 */
int
commit_run(struct xf_worker *w)
{
	int busy = 0;

	for (;;) {
		uint64_t t0;
		bool paused;

		if (w->ch_got < w->ch_n) {
			return busy; /* the chain is running */
		}
		if (w->bstep != 0 && w->sync_got < w->sync_need) {
			return busy; /* a step's operation is running */
		}
		if (st_free(w) < COMMIT_ROOM) {
			return busy; /* again once completions have made room */
		}
		if (w->stg_on) {
			stg_drop_pending(w);
		}
		if (w->bn == 0 && (w->bctx == CTX_STG || w->cq_tail == w->cq_head)) {
			/* Nothing queued, or a placement of that time not done yet. */
			return w->stg_on ? busy | stg_idle(w) : busy;
		}
		t0 = now_ns();
		paused = batch_run(w);
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

/*
 * Teardown (xf_worker_destroy()): the loops have returned, so no RX core is polled by
 * this thread any more and waiting here holds nothing up. The chain and the step in
 * flight complete; a chain is settled (its steps run to the end, so renames that went
 * out stay in order), a symlink made under its temp name goes, what a parent step
 * opened is closed.
 */
void
commit_drain(struct xf_worker *w)
{
	for (;;) {
		while (w->ch_got < w->ch_n || (w->bstep != 0 && w->sync_got < w->sync_need)) {
			int k = xf_storage_wait(w->st, w->scqe, 1, CQE_MAX);

			if (k < 0 && k != -EINTR && k != -EAGAIN) {
				/* What is still in flight is abandoned with the storage. */
				XF_LOG(ERR, MODULE, "storage wait at teardown: %d", k);
				w->bstep = 0;
				w->bctx = 0;
				return;
			}
			for (int i = 0; i < k; i++) {
				keep_cqe(w, &w->scqe[i]);
			}
			run_deferred(w);
		}
		if (w->ch_n != 0 && (w->bctx == 0 || w->bctx == CTX_SETTLE) && chain_settle(w)) {
			continue;
		}
		break;
	}
	if (w->bctx == CTX_ITEM && (w->bstep == STEP_SYMLINK || w->bstep == STEP_SYMLINK_AGAIN) &&
	    w->sync_res[0] >= 0) {
		const struct xf_work *it = cq_item(w, w->bpos);
		char tmp[XF_TMPNAME_SIZE];

		xf_work_tmpname(tmp, it->sid, it->sess_id, it->file);
		unlinkat(w->p->tmp_fd, tmp, 0);
	}
	parent_abandon(w);
	w->bstep = 0;
	w->bctx = 0;
}
