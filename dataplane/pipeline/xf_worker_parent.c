/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, commit executor: the parent directory of the item it runs (docs/PIPELINE.md,
 * "Commit ordering without blocking the RX core"). One parent is cached (cdir_fd, opened
 * readable so that it can be fsynced); an item in another one releases it (its fsync
 * under fsync file or batch, once renames went into it), opens the new one and, for a
 * commit, makes what is missing of it (mkdir -p: directories missing from the list).
 * Every one of these is an operation of its own that the executor pauses for
 * (STEP_OP()): the poll that queues it returns, and a later one resumes parent_step()
 * with its result. Only one step is ever paused, so the state of the walk lives in the
 * worker (pbuf, ppos, pstart, psave, ppfd).
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "xf_worker_priv.h"

static bool
is_parent_step(uint8_t step)
{
	return step >= STEP_CDIR_FSYNC && step <= STEP_PREOPEN;
}

static void
ppfd_close(struct xf_worker *w)
{
	if (w->ppfd != w->root_fd && w->ppfd >= 0) {
		close(w->ppfd);
	}
	w->ppfd = -1;
}

/* The next missing component of pbuf from ppos on is made in ppfd; past the last one,
 * the parent is opened again. Always pauses. */
static bool
mkdir_next(struct xf_worker *w, const char *dir, uint8_t ctx)
{
	for (uint32_t i = w->ppos; i <= w->plen; i++) {
		if (w->pbuf[i] != '/' && w->pbuf[i] != '\0') {
			continue;
		}
		w->ppos = i;
		w->psave = w->pbuf[i];
		w->pbuf[i] = '\0';
		STEP_OP(w, ctx, STEP_PMKDIR,
		        xf_storage_prep_mkdir(w->st, w->ppfd, w->pbuf + w->pstart, 0755,
		                              tag_of(T_SYNC, 0)));
		return true;
	}
	ppfd_close(w);
	STEP_OP(w, ctx, STEP_PREOPEN,
	        xf_storage_prep_open(w->st, -1, dir, O_RDONLY | O_DIRECTORY, 0, tag_of(T_SYNC, 0)));
	return true;
}

/*
 * Make the parent directory of item it the cached one, one paused operation at a time
 * (for context ctx). Returns true while paused; false when done, with the parent's fd
 * in *out (the root's, or the cached one's), or -errno.
 */
bool
parent_step(struct xf_worker *w, const struct xf_work *it, bool create, uint8_t ctx, int *out)
{
	const char *dir = it->ptr;
	uint8_t step;
	int32_t res = 0;

	if (is_parent_step(w->bstep)) {
		step = w->bstep;
		res = step_take(w);
	} else {
		if (it->len == 0) {
			*out = w->root_fd;
			return false;
		}
		if (w->cdir_fd >= 0 && strcmp(w->cdir, dir) == 0) {
			*out = w->cdir_fd;
			return false;
		}
		/* Renames into the one cached landed before (its chain is settled); under
		 * fsync file or batch they are made durable before it goes. */
		if (w->cdir_fd >= 0 && w->cdir_dirty && w->p->conf.fsync != XF_FSYNC_NONE) {
			STEP_OP(w, ctx, STEP_CDIR_FSYNC,
			        xf_storage_prep_fsync(w->st, w->cdir_fd, false, tag_of(T_SYNC, 0)));
			return true;
		}
		step = STEP_CDIR_FSYNC;
	}
	switch (step) {
	case STEP_CDIR_FSYNC:
		if (res < 0) {
			XF_LOG(ERR, MODULE, "fsync of directory %s: %d", w->cdir, res);
		}
		if (w->cdir_fd >= 0) {
			close(w->cdir_fd);
		}
		w->cdir_fd = -1;
		w->cdir_dirty = false;
		STEP_OP(w, ctx, STEP_POPEN,
		        xf_storage_prep_open(w->st, -1, dir, O_RDONLY | O_DIRECTORY, 0,
		                             tag_of(T_SYNC, 0)));
		return true;
	case STEP_POPEN:
		if (res != -ENOENT || !create) {
			break;
		}
		memcpy(w->pbuf, dir, it->len + 1);
		w->plen = it->len;
		w->ppos = 0;
		w->pstart = 0;
		w->ppfd = w->root_fd;
		return mkdir_next(w, dir, ctx);
	case STEP_PMKDIR:
		if (res < 0 && res != -EEXIST) {
			ppfd_close(w);
			break;
		}
		STEP_OP(w, ctx, STEP_POPENDIR,
		        xf_storage_prep_open_dir(w->st, w->pbuf, tag_of(T_SYNC, 0)));
		return true;
	case STEP_POPENDIR:
		ppfd_close(w);
		if (res < 0) {
			break;
		}
		w->ppfd = res;
		w->pbuf[w->ppos] = w->psave;
		w->ppos++;
		w->pstart = w->ppos;
		return mkdir_next(w, dir, ctx);
	default: /* STEP_PREOPEN */
		break;
	}
	if (res >= 0) {
		w->cdir_fd = res;
		memcpy(w->cdir, dir, it->len + 1);
	}
	*out = res;
	return false;
}

/*
 * Teardown, the parent step's operation completed: what it opened goes (nothing of
 * the walk is cached). The directories it made stay, as a finished walk leaves them.
 */
void
parent_abandon(struct xf_worker *w)
{
	uint8_t step = w->bstep;
	int32_t res = step_take(w);

	if ((step == STEP_POPEN || step == STEP_POPENDIR || step == STEP_PREOPEN) && res >= 0) {
		close(res);
	}
	if (step == STEP_PMKDIR || step == STEP_POPENDIR) {
		ppfd_close(w);
	}
	if (step == STEP_CDIR_FSYNC && w->cdir_fd >= 0) {
		close(w->cdir_fd);
		w->cdir_fd = -1;
	}
}
