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
#include <stdlib.h>

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
	uint16_t sid, rx;
	uint32_t gen;
};

static void
report(struct xf_worker *w, const struct del_job *j, const struct xf_delete_result *r)
{
	post_done(w, j->rx,
	          &(struct xf_done){ .type = XF_DONE_DELETE,
	                             .status = (uint8_t)r->status,
	                             .sid = j->sid,
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
	if (w->del_tail != NULL) {
		w->del_tail->next = j;
	} else {
		w->del_head = j;
	}
	w->del_tail = j;
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
		if (j->sid == sid && j->gen == gen) {
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
