/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, deletions (--delete): the walks of xf_delete.c, run on the commit worker once a
 * session's every file is committed (docs/PIPELINE.md, "Deletion"). A walk runs
 * DEL_BUDGET directory entries per poll, so the worker goes on polling its rings (and,
 * in the engine's combined mode, its port) between steps; its system calls (getdents,
 * fstatat, openat, unlinkat) run inline, as the inline back end's do. Walks of several
 * sessions run one after another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_delete.h"
#include "xf_worker_priv.h"

/*
 * Directory entries per poll. An unlinkat on XFS costs about 16 us here (docs/PIPELINE.md,
 * "Which operation runs where"), so 64 keep a step near 1 ms: in the engine's combined
 * mode this worker's thread also polls an RX core's port, and the inline back end's
 * budget keeps a submit to about as long for the same reason.
 */
#define DEL_BUDGET 64u

struct del_job {
	struct del_job *next;
	struct xf_delete *walk;
	/* The session's conf: a walk adds the counts of the trees replaced before it; a
	 * tree's removal adds to them and to its list (NULL once the session aborted). */
	struct xf_delete_conf *sconf;
	uint16_t sid, rx;
	uint32_t gen;
	bool tree;     /* a replaced directory's removal (trash_start()), reported to nobody */
	uint16_t plen; /* 0: the path did not fit */
	char tmp[XF_TMPNAME_SIZE];  /* its name in the staging directory */
	char path[XF_PATH_MAX + 1]; /* the path it had, for the list */
	char item[XF_PATH_MAX + 1]; /* the path of an entry of it, for the list */
};

static void
job_push(struct xf_worker *w, struct del_job *j)
{
	if (w->del_tail != NULL) {
		w->del_tail->next = j;
	} else {
		w->del_head = j;
	}
	w->del_tail = j;
}

static void
report(struct xf_worker *w, const struct del_job *j, const struct xf_delete_result *r)
{
	struct xf_delete_result sum = *r;

	if (j->tree) {
		/* The removal of a replaced directory: the tree's entries count as the
		 * session's deletions, its own name goes last. */
		if (r->kept == 0 && unlinkat(w->p->tmp_fd, j->tmp, AT_REMOVEDIR) != 0) {
			XF_LOG(ERR, MODULE, "a replaced directory's last step: %s",
			       strerror(errno));
		}
		if (j->sconf != NULL) {
			j->sconf->replaced_deleted += r->deleted;
			j->sconf->replaced_kept += r->kept;
		}
		return;
	}
	if (j->sconf != NULL) {
		/* Behind this walk in the queue, so finished: the trees replaced before. */
		sum.deleted += j->sconf->replaced_deleted;
		sum.kept += j->sconf->replaced_kept;
		if (j->sconf->replaced_kept != 0 && sum.status == XF_DEL_OK) {
			sum.status = XF_DEL_ERROR;
		}
		r = &sum;
	}
	post_done(w, j->rx,
	          &(struct xf_done){ .type = XF_DONE_DELETE,
	                             .status = (uint8_t)r->status,
	                             .sid = j->sid,
	                             .file = r->protected_n, /* unused otherwise */
	                             .fd = -1,
	                             .block_size = r->deleted,
	                             .block_count = r->kept,
	                             .gen = j->gen });
}

void
del_start(struct xf_worker *w, const struct xf_work *it)
{
	struct xf_delete_conf c = *(const struct xf_delete_conf *)it->ptr;
	struct del_job *j = calloc(1, sizeof(*j));

	c.root_fd = w->p->root_fd;
	if (j != NULL) {
		j->walk = xf_delete_start(&c);
	}
	if (j == NULL || j->walk == NULL) {
		struct del_job fake = { .sid = it->sid, .rx = it->rx, .gen = it->gen };

		XF_LOG(ERR, MODULE, "session %08x: no memory for its deletion", it->sess_id);
		report(w, &fake, &(struct xf_delete_result){ .status = XF_DEL_ERROR });
		free(j);
		return;
	}
	j->sid = it->sid;
	j->rx = it->rx;
	j->gen = it->gen;
	j->sconf = it->owner; /* the same conf, writable: the counts of the trees replaced */
	job_push(w, j);
}

/* An entry of a replaced tree was removed: listed under the path the tree had. */
static void
tree_item(void *arg, const char *path, size_t len, bool dir)
{
	struct del_job *j = arg;
	size_t tl = strlen(j->tmp);
	size_t n;

	if (j->sconf == NULL || j->sconf->item == NULL) {
		return;
	}
	if (path == NULL || j->plen == 0 || len <= tl || (size_t)j->plen + len - tl > XF_PATH_MAX) {
		j->sconf->item(j->sconf->item_arg, NULL, 0, dir);
		return;
	}
	n = len - tl; /* "/rest" */
	memcpy(j->item, j->path, j->plen);
	memcpy(j->item + j->plen, path + tl, n);
	j->item[j->plen + n] = '\0';
	j->sconf->item(j->sconf->item_arg, j->item, j->plen + n, dir);
}

int
trash_start(struct xf_worker *w, const struct xf_work *it, const char *tmp)
{
	struct del_job *j = calloc(1, sizeof(*j));
	const char *base = base_of(it);
	size_t bl = strlen(base);
	struct xf_delete_conf c = {
		.root_fd = w->p->tmp_fd,
		.max_delete = XF_DELETE_UNLIMITED,
		.all = true,
		.item = tree_item,
	};

	if (j == NULL) {
		return -ENOMEM;
	}
	j->tree = true;
	j->sid = it->sid;
	j->rx = it->rx;
	j->gen = it->gen;
	j->sconf = it->owner;
	memcpy(j->tmp, tmp, XF_TMPNAME_SIZE);
	if (it->len + 1 + bl <= XF_PATH_MAX) {
		size_t at = 0;

		if (it->len != 0) {
			memcpy(j->path, it->ptr, it->len);
			j->path[it->len] = '/';
			at = it->len + 1;
		}
		memcpy(j->path + at, base, bl + 1);
		j->plen = (uint16_t)(at + bl);
	}
	c.dest = j->tmp;
	c.dest_len = strlen(j->tmp);
	c.item_arg = j;
	j->walk = xf_delete_start(&c);
	if (j->walk == NULL) {
		free(j);
		return -ENOMEM;
	}
	w->t.trees_replaced++;
	job_push(w, j);
	return 0;
}

int
del_run(struct xf_worker *w)
{
	struct del_job *j = w->del_head;
	struct xf_delete_result r;
	uint64_t t0;

	if (j == NULL) {
		return 0;
	}
	t0 = now_ns();
	if (xf_delete_step(j->walk, DEL_BUDGET)) {
		xf_delete_result(j->walk, &r);
		report(w, j, &r);
		w->del_head = j->next;
		if (w->del_head == NULL) {
			w->del_tail = NULL;
		}
		xf_delete_free(j->walk);
		free(j);
	}
	slow_check(w, t0, "a step of a deletion");
	return 1;
}

void
del_abort(struct xf_worker *w, uint16_t sid, uint32_t gen)
{
	for (struct del_job *j = w->del_head; j != NULL; j = j->next) {
		if (j->sid != sid || j->gen != gen) {
			continue;
		}
		if (j->tree) {
			/* Removed all the same (it is in the staging directory now), but
			 * neither listed nor counted: the session goes. */
			j->sconf = NULL;
		} else {
			xf_delete_cancel(j->walk);
		}
	}
}

void
del_free_all(struct xf_worker *w)
{
	while (w->del_head != NULL) {
		struct del_job *j = w->del_head;

		w->del_head = j->next;
		xf_delete_free(j->walk);
		free(j);
	}
	w->del_tail = NULL;
}
