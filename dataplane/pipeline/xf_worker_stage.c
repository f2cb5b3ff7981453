/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, staged directories (docs/PIPELINE.md, "Staged directories"): a new directory
 * made under a staging name takes the files listed right after it (the STAT side), and
 * is put in place by one rename once they are committed (the commit side, on the commit
 * executor). Both sides run on the commit worker, which gets every directory's STAT; with
 * several workers, the other workers' files of the run are linked into it at commit
 * (stg_into()).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xf_worker_priv.h"

/* ---- the STAT side: a new directory made, and the files it takes ---- */

/* The full number of a staged directory from its low 16 bits (as the RX core passes it
 * on): one of the last placed, or one not yet placed. */
static inline uint32_t
stg_num(const struct xf_worker *w, uint64_t low)
{
	uint32_t ref = w->stg_head - 1;

	return ref + (uint16_t)((uint16_t)low - (uint16_t)ref);
}

/* A file written in its staged directory is verified (ok) or failed: one less to wait
 * for; a verified one waits for its commit (its fsync) instead. */
void
stg_release(struct xf_worker *w, struct wfile *f, bool ok)
{
	if (f->stg_busy) {
		f->stg_busy = 0;
		if (stg_alive(w, f->stg)) {
			stg_at(w, f->stg)->busy--;
			stg_at(w, f->stg)->unsynced += ok;
		}
	}
}

/* Durable policies (fsync file or batch): a staged directory is fsynced before its rename
 * and its new parent after it, and goes in place only once every file in it is fsynced. */
static inline bool
stg_durable(const struct xf_worker *w)
{
	return w->p->conf.fsync != XF_FSYNC_NONE;
}

/*
 * Staged directory d waits for nothing of its files: each is verified or failed, and
 * each verified one committed (its COMMIT item run: under a durable policy, its fsync).
 * So a crash after its rename never shows a file whose data is not on disk; with several
 * workers, the files between the ones it took (other workers', committed in list order)
 * are all in it by then, so what appears is a prefix of the list; and no report of a file
 * in it comes after it went in place, when another session's directory may have gone in
 * place since, which would make that report look like one of a directory dropped (a file
 * that landed, reported XF_ST_IO).
 */
static inline bool
stg_ready(const struct stg_dir *d)
{
	return d->busy == 0 && d->unsynced == 0;
}

/*
 * Is there nothing at the final path of directory entry f, or nothing but a file or a
 * symlink (a type change)? Asked at once, not through
 * the storage queue, so that the files listed right after it (in the same burst) can be
 * written in its staged directory: a short lookup per new directory, on the worker.
 */
static bool
stg_fresh(struct xf_worker *w, const struct wfile *f)
{
	const char *base = f->name + f->dir_len + 1;
	struct stat sb;
	int pfd = w->root_fd;
	int rc, err;

	if (path_within(f, w->nodir_sid, w->nodir_sess, w->nodir, w->nodir_len)) {
		return true; /* its parent is missing */
	}
	if (f->dir_len != 0) {
		struct open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};

		pfd = (int)syscall(SYS_openat2, w->root_fd, f->name, &how, sizeof(how));
		if (pfd < 0) {
			return errno == ENOENT;
		}
	}
	rc = fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW);
	err = errno;
	if (pfd != w->root_fd) {
		close(pfd);
	}
	/* A file or symlink there is replaced by an exchange at its placement (stg_place()). */
	return rc != 0 ? err == ENOENT : !S_ISDIR(sb.st_mode);
}

/* Directory entry f is new: make it under a staging name and let it take the files that
 * follow. False if it cannot be staged (it then goes the usual way). */
static bool
stg_new(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	const char *base = f->name + f->dir_len + 1;
	size_t blen = strlen(base);
	char tmp[XF_TMPNAME_SIZE];
	struct stg_dir *d;
	int fd;

	if (w->stg_tail - w->stg_head == STG_DIRS || f->dir_len + 1 + blen > XF_PATH_MAX) {
		return false;
	}
	d = stg_first(w);
	if (d != NULL && (d->sid != f->sid || d->sess != f->sess_id)) {
		return false; /* one session at a time */
	}
	if (w->stg_sid == f->sid && w->stg_sess == f->sess_id && f->file <= w->stg_end &&
	    w->stg_tail != 0) {
		/* Listed before what an earlier one took (STATs out of order: FLIST frames
		 * reordered): its commit would come in the middle of theirs. */
		return false;
	}
	if (!stg_fresh(w, f)) {
		return false;
	}
	xf_work_tmpname(tmp, f->sid, f->sess_id, f->file);
	if (mkdirat(w->p->tmp_fd, tmp, 0700) != 0) {
		/* A leftover of an earlier attempt (a crash): removed, as a temp file's. */
		if (errno != EEXIST || xf_pipeline_remove_tree(w->p->tmp_fd, tmp) != 0 ||
		    mkdirat(w->p->tmp_fd, tmp, 0700) != 0) {
			return false;
		}
		w->t.tmp_leftovers++;
	}
	fd = openat(w->p->tmp_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR);
		return false;
	}
	d = stg_at(w, w->stg_tail);
	*d = (struct stg_dir){
		.num = w->stg_tail,
		.sid = f->sid,
		.sess = f->sess_id,
		.file = f->file,
		.last = f->file,
		.fd = fd,
		.open = true,
	};
	memcpy(d->tmp, tmp, sizeof(tmp));
	w->stg_tail++;
	w->stg_sid = f->sid;
	w->stg_sess = f->sess_id;
	w->stg_end = f->file;
	if (f->dir_len == 0) {
		memcpy(w->stg_path, base, blen);
		w->stg_plen = (uint32_t)blen;
	} else {
		memcpy(w->stg_path, f->name, f->dir_len);
		w->stg_path[f->dir_len] = '/';
		memcpy(w->stg_path + f->dir_len + 1, base, blen);
		w->stg_plen = f->dir_len + 1 + (uint32_t)blen;
	}
	f->inplace = 1;
	f->stg = d->num;
	stat_decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
	return true;
}

/*
 * The STAT of f, before any quick check: a regular file in the open staged directory,
 * listed right after its entry (or its last file), or further on in the same run
 * (XF_WORK_F_RUN: the files between are other workers', all in it too), is taken (within
 * the bounds above, and at most window / 2 entries after the directory's own): nothing
 * can be at its final path, it is written there at its name. Anything else of the
 * session closes the directory; a new directory may start the next. Returns true if f is
 * decided.
 */
bool
stg_take(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	struct stg_dir *d = w->stg_tail != w->stg_head ? stg_at(w, w->stg_tail - 1) : NULL;

	if (d != NULL && d->open && f->sid == d->sid && f->sess_id == d->sess) {
		if (f->kind == XF_FILE_REG &&
		    (f->file == d->last + 1 || (f->run && f->file > d->last)) &&
		    f->file - d->file <= w->stg_cap && f->size <= STG_FILE_MAX &&
		    d->bytes + f->size <= STG_BYTES && f->dir_len == w->stg_plen &&
		    memcmp(f->name, w->stg_path, w->stg_plen) == 0) {
			d->last = f->file;
			w->stg_end = f->file;
			d->n++;
			d->bytes += f->size;
			d->busy++;
			f->inplace = 1;
			f->stg_busy = 1;
			f->stg = d->num;
			f->fresh = 1;
			stat_decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
			return true;
		}
		d->open = false;
	}
	return f->kind == XF_FILE_DIR && stg_new(w, f, fi);
}

/* ---- the commit side: reports held, the directory put in place ---- */

/*
 * The head staged directory is done with (st: put in place, or why not): release the
 * reports held for it, in order, the held ones first (earlier batches), then the batch's.
 * Those of its own entry and its files carry st when it failed.
 */
void
stg_pop(struct xf_worker *w, uint8_t st)
{
	uint32_t num = w->stg_head++;

	w->stg_last_status = st;
	while (w->sq_head != w->sq_tail) {
		struct stg_report *r = &w->sq[w->sq_head++ & (w->sq_cap - 1)];

		if (r->mine != 0 && st != XF_ST_OK) {
			r->d.status = st;
			r->d.changed = 0;
		}
		w->t.staged_files += r->mine == STG_FILE && r->d.status == XF_ST_OK;
		w->t.staged_linked += r->mine == STG_LINK && r->d.status == XF_ST_OK;
		post_done(w, r->rx, &r->d);
	}
	for (uint32_t i = 0; i < w->bn; i++) {
		if (w->cdefer[i] != num + 1) {
			continue;
		}
		w->cdefer[i] = 0;
		if (w->cmine[i] != 0 && st != XF_ST_OK) {
			w->cstatus[i] = st;
			w->cchanged[i] = 0;
		}
		w->t.staged_files += w->cmine[i] == STG_FILE && w->cstatus[i] == XF_ST_OK;
		w->t.staged_linked += w->cmine[i] == STG_LINK && w->cstatus[i] == XF_ST_OK;
	}
}

/*
 * Put the head staged directory in place: its mode, its parent (parent_step()), then one
 * rename that never replaces anything, each operation paused for (CTX_STG). On any
 * failure it is removed, with the files in it. Returns true while paused.
 */
bool
stg_place(struct xf_worker *w)
{
	struct stg_dir *d = stg_at(w, w->stg_head);
	const struct xf_work *it = &d->item;
	uint8_t st = XF_ST_OK;
	int pfd;

	w->sync_sid = it->sid; /* the steps are the directory's own (fault hook) */
	w->sync_file = it->file;
	if (w->bstep == STEP_STG_PSYNC) {
		int32_t rc = step_take(w);

		if (rc < 0) {
			/* Renamed: it and its files stay committed, the error is logged (as
			 * for the directory fsyncs at the end of a batch). */
			XF_LOG(ERR, MODULE, "fsync of the parent of %s: %d", d->tmp, rc);
		}
		goto done;
	}
	if (w->bstep == STEP_STG_RENAME || w->bstep == STEP_STG_XCHG) {
		uint8_t was = w->bstep;
		int32_t rc = step_take(w);

		if (was == STEP_STG_RENAME && rc == -EEXIST && !is_dir_at(w->bpfd, base_of(it))) {
			/* A file or symlink at its path: exchanged with it (docs/PIPELINE.md,
			 * "Type changes"), so the path never shows nothing. */
			STEP_OP(w, CTX_STG, STEP_STG_XCHG,
			        xf_storage_prep_rename(w->st, w->p->tmp_fd, d->tmp, w->bpfd,
			                               base_of(it), RENAME_EXCHANGE,
			                               tag_of(T_SYNC, 0)));
			return true;
		}
		if (was == STEP_STG_XCHG && rc >= 0) {
			/* What it replaced, now under its temp name. */
			if (unlinkat(w->p->tmp_fd, d->tmp, 0) != 0) {
				XF_LOG(WARNING, MODULE, "what a directory replaced, %s: %s", d->tmp,
				       strerror(errno));
			}
			w->t.type_changes++;
		}
		if (rc < 0) {
			st = xf_status_of_errno(-rc);
		} else if (stg_durable(w)) {
			/* Its reports go out only once the rename is durable. */
			STEP_OP(w, CTX_STG, STEP_STG_PSYNC,
			        xf_storage_prep_fsync(w->st, w->bpfd, false, tag_of(T_SYNC, 0)));
			return true;
		} else {
			mark_dirty(w, w->bpfd);
		}
		goto done;
	}
	if (w->bstep == STEP_STG_DSYNC) {
		int32_t rc = step_take(w);

		if (rc < 0) {
			st = xf_status_of_errno(-rc);
			goto done;
		}
	} else if (w->bstep == 0) {
		d->open = false;
		if (!stg_ready(d)) {
			/* Cannot happen (its files are listed, so committed, before whatever
			 * places it); if it did, a file still being written (or, under a durable
			 * policy, not fsynced) must not appear. */
			XF_LOG(ERR, MODULE, "staged directory %s: %u files busy, %u not synced",
			       d->tmp, d->busy, d->unsynced);
			st = XF_ST_IO;
			goto done;
		}
		st = owner_set(w, w->p->tmp_fd, d->tmp, it->uid, it->gid);
		if (st != XF_ST_OK) {
			goto done;
		}
		st = xattr_apply_at(w, w->p->tmp_fd, d->tmp, it->ptr, it->flags, true);
		if (st != XF_ST_OK) {
			goto done;
		}
		if (fchmodat(w->p->tmp_fd, d->tmp, it->mode & 07777, 0) != 0) {
			st = XF_ST_IO;
			goto done;
		}
		if (stg_durable(w)) {
			/* The names of its files, before it can appear. */
			STEP_OP(w, CTX_STG, STEP_STG_DSYNC,
			        xf_storage_prep_fsync(w->st, d->fd, false, tag_of(T_SYNC, 0)));
			return true;
		}
	}
	if (parent_step(w, it, true, CTX_STG, &pfd)) {
		return true;
	}
	if (pfd < 0) {
		st = xf_status_of_errno(-pfd);
		goto done;
	}
	w->bpfd = pfd;
	STEP_OP(w, CTX_STG, STEP_STG_RENAME,
	        xf_storage_prep_rename(w->st, w->p->tmp_fd, d->tmp, pfd, base_of(it),
	                               RENAME_NOREPLACE, tag_of(T_SYNC, 0)));
	return true;
done:
	close(d->fd);
	if (st == XF_ST_OK) {
		w->t.staged_dirs++;
	} else {
		xf_pipeline_remove_tree(w->p->tmp_fd, d->tmp);
		w->t.staged_failed++;
	}
	stg_pop(w, st);
	stg_drop_pending(w);
	return false;
}

/* Every staged directory of session slot sid is dropped now (teardown, or an abort once
 * nothing in flight uses them): removed with its files; what was held for them is
 * released. */
void
stg_drop_now(struct xf_worker *w, uint16_t sid)
{
	struct stg_dir *d;

	while ((d = stg_first(w)) != NULL && d->sid == sid) {
		close(d->fd);
		xf_pipeline_remove_tree(w->p->tmp_fd, d->tmp);
		w->t.staged_failed++;
		stg_pop(w, XF_ST_IO);
	}
}

/* The drops an abort asked for while a placement or a chain was in flight, once neither
 * is (the commit executor calls this whenever it may run a step). */
void
stg_drop_pending(struct xf_worker *w)
{
	if (w->stg_drop_mask == 0 || w->bctx == CTX_STG || w->ch_n != 0) {
		return;
	}
	for (uint16_t sid = 0; sid < 64; sid++) {
		if ((w->stg_drop_mask & (1ull << sid)) != 0) {
			w->stg_drop_mask &= ~(1ull << sid);
			stg_drop_now(w, sid);
		}
	}
}

/* Every staged directory of session slot sid is dropped (abort). The head one, while its
 * placement is in flight (its rename may be running), or while a chain in flight may
 * link into it (by its fd), is done with once that is over (stg_drop_pending()). */
void
stg_drop(struct xf_worker *w, uint16_t sid)
{
	const struct stg_dir *d = stg_first(w);

	if (d == NULL || d->sid != sid) {
		return;
	}
	if (w->bctx == CTX_STG || w->ch_n != 0) {
		w->stg_drop_mask |= 1ull << sid;
		return;
	}
	stg_drop_now(w, sid);
}

/*
 * The fd of the head staged directory if item it goes into it rather than into its final
 * parent, else -1: a regular file of its session in a run (XF_WORK_F_RUN) whose parent is
 * that directory's final path, once the directory's own entry was committed, within
 * window / 2 entries of it (so its held reports stay below the window). Such a file
 * (another worker's, or one the directory did not take) is linked, or renamed, into it
 * at its name in the chain, with no parent of its own to open, and appears with it.
 */
int
stg_into(const struct xf_worker *w, const struct xf_work *it)
{
	const struct stg_dir *d = &w->stg[w->stg_head & (STG_DIRS - 1)];
	const char *dp = d->item.ptr, *ip = it->ptr;
	uint32_t dl = d->item.len;

	if (w->stg_head == w->stg_tail || !d->seen || it->type != XF_WORK_COMMIT ||
	    it->kind != XF_FILE_REG || (it->flags & XF_WORK_F_RUN) == 0 ||
	    (it->flags & (XF_WORK_F_NOOP | XF_WORK_F_DISCARD | XF_WORK_F_INPLACE)) != 0 ||
	    it->sid != d->sid || it->sess_id != d->sess || it->file - d->file > w->stg_cap ||
	    it->len != d->plen) {
		return -1;
	}
	/* Its parent is the directory's parent, "/" (not at the top), its name. */
	if (memcmp(ip, dp, dl) != 0 || (dl != 0 && ip[dl] != '/') ||
	    memcmp(ip + dl + (dl != 0), base_of(&d->item), d->plen - dl - (dl != 0)) != 0) {
		return -1;
	}
	return d->fd;
}

static inline void
stg_hold(struct xf_worker *w, uint32_t i, uint32_t num, uint8_t mine)
{
	w->cdefer[i] = num + 1;
	w->cmine[i] = mine;
}

/*
 * Must the head staged directory go in place before item it runs? Yes for an item of its
 * session that does something on disk (not one of its files, a no-op or a discard),
 * once its own entry was committed; and for another session's item once it waits for
 * nothing (another session can keep the commit queue from running dry for long).
 */
bool
stg_places(const struct xf_worker *w, const struct xf_work *it)
{
	const struct stg_dir *d = &w->stg[w->stg_head & (STG_DIRS - 1)];
	bool passive = it->type == XF_WORK_COMMIT &&
	               (it->flags & (XF_WORK_F_NOOP | XF_WORK_F_INPLACE | XF_WORK_F_DISCARD)) != 0;

	if (w->stg_head == w->stg_tail || !d->seen) {
		return false;
	}
	if (it->sid == d->sid && it->sess_id == d->sess) {
		return !passive && stg_into(w, it) < 0;
	}
	return stg_ready(d);
}

/*
 * Batch item i (it) meets the staged directories. While the head one's entry has been
 * committed and it is not in place yet, the reports of its session wait for it (file-list
 * order): its files commit as they are (they are at their names in it), a no-op is held;
 * stg_places() says what puts it in place first (batch_items() does, before this). A
 * staged directory's own entry becomes the head. Returns true if the item is done with,
 * false if it runs as usual.
 */
bool
stg_commit(struct xf_worker *w, uint32_t i, const struct xf_work *it)
{
	struct stg_dir *d;
	bool held;

	d = stg_first(w);
	held = d != NULL && d->seen && it->sid == d->sid && it->sess_id == d->sess;
	if (it->type != XF_WORK_COMMIT || (it->flags & XF_WORK_F_DISCARD) != 0) {
		return false;
	}
	if ((it->flags & XF_WORK_F_INPLACE) != 0) {
		uint32_t num = stg_num(w, it->off);

		if (it->fd >= 0) {
			close(it->fd); /* verified, at its name (and fsynced: fsync_files()) */
		}
		if (held && num == d->num) {
			d->unsynced--;
			if (w->cfres[i] < 0) {
				/* Its fsync failed: it must not appear with its directory. */
				unlinkat(d->fd, base_of(it), 0);
				w->cstatus[i] = xf_status_of_errno(-w->cfres[i]);
			}
			stg_hold(w, i, num, STG_FILE);
		} else if (num == w->stg_head - 1 && w->stg_last_status == XF_ST_OK) {
			w->t.staged_files++; /* already in place with its directory */
		} else {
			/* Its directory was dropped or failed, and took it along. */
			w->cstatus[i] = num == w->stg_head - 1 ? w->stg_last_status : XF_ST_IO;
		}
		w->cchanged[i] = w->cstatus[i] == XF_ST_OK;
		w->t.commits++;
		return true;
	}
	if ((it->flags & XF_WORK_F_NOOP) != 0) {
		if (held) {
			stg_hold(w, i, d->num, 0);
		}
		return true;
	}
	if ((it->flags & XF_WORK_F_STAGED) == 0) {
		if (stg_into(w, it) >= 0) {
			/* Linked into it by item_run(); its report waits for it. */
			stg_hold(w, i, d->num, STG_LINK);
		}
		return false;
	}
	if (d == NULL || d->num != stg_num(w, it->off) || d->file != it->file ||
	    d->sid != it->sid || d->sess != it->sess_id) {
		w->cstatus[i] = XF_ST_IO; /* dropped (its session was aborted) */
		return true;
	}
	d->seen = true;
	d->item = *it;
	d->plen = it->len + (it->len != 0) + (uint32_t)strlen(base_of(it));
	stg_hold(w, i, d->num, STG_OWN);
	w->cchanged[i] = 1;
	w->t.commits++;
	return true;
}

/* Nothing left to commit: the head staged directory goes in place once the files it
 * took are all verified or failed (it takes no more then), so that the session's end
 * never waits for it. A placement so started and paused resumes here. */
int
stg_idle(struct xf_worker *w)
{
	const struct stg_dir *d = stg_first(w);

	if (w->bctx != CTX_STG && (d == NULL || !d->seen || !stg_ready(d))) {
		return 0;
	}
	stg_place(w);
	return 1;
}
