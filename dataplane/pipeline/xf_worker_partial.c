/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, partial files (docs/PIPELINE.md, "Partial files"): a large file's temp file
 * tagged at its creation, kept as the partial of its path when the file fails or its
 * session ends before it is verified, found again as the basis of the next push of the
 * same path and version, and removed once a version of that path is verified. Short
 * blocking calls on the worker (fsetxattr, openat, fgetxattr, statx, renameat, unlinkat):
 * once per file of XF_PARTIAL_MIN or more, or on a failure path.
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_worker_priv.h"

/* The id of f (path, announced size and mtime) in the worker's scratch, or NULL (a
 * path too long to join, which the session never lets through). */
static const struct xf_partial_id *
id_of(struct xf_worker *w, const struct wfile *f)
{
	return xf_partial_id_of(&w->pid, f->name, f->dir_len, f->size, f->mtime_ns) == 0 ? &w->pid
	                                                                                 : NULL;
}

void
partial_tag(struct xf_worker *w, struct wfile *f)
{
	const struct xf_partial_id *id = id_of(w, f);

	/* Untagged (no user xattrs on this volume): it is not kept. */
	f->pkeep = id != NULL && xf_partial_tag(f->fd, id) == 0;
	if (!f->pkeep) {
		w->t.partial_untagged++;
	}
}

bool
partial_basis(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	const struct xf_partial_id *id;
	struct statx x;
	int fd;

	if (w->p->part_fd < 0 || f->kind != XF_FILE_REG || f->dry || f->size < XF_PARTIAL_MIN ||
	    f->aborted || (id = id_of(w, f)) == NULL) {
		return false;
	}
	fd = xf_partial_open(w->p->part_fd, id);
	if (fd == -ESTALE) {
		w->t.partial_stale++; /* for another version of the source: removed */
	}
	if (fd < 0) {
		return false;
	}
	/* An empty partial is of no use (nor one of more blocks than a sender takes, which
	 * the size bound already excludes for any file the quick check would sign). */
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x) != 0 || x.stx_size == 0 ||
	    xf_delta_block_count(x.stx_size, xf_delta_block_size(x.stx_size)) >
	            XF_DELTA_BLOCKS_MAX) {
		close(fd);
		return false;
	}
	/* The basis's identity for basis_unchanged() and the signature cache is the
	 * partial's, not the final path's. */
	f->stx = x;
	f->pbasis = 1;
	f->basis_size = f->stx.stx_size;
	w->t.partial_used++;
	on_basis(w, fi, fd);
	return true;
}

void
partial_fail(struct xf_worker *w, struct wfile *f, uint8_t status)
{
	const struct xf_partial_id *id;
	int rc;

	if (f->pbasis && status == XF_ST_CHECKSUM && !f->aborted && (id = id_of(w, f)) != NULL) {
		/* Its partial may be what went wrong: never the basis again. */
		xf_partial_remove(w->p->part_fd, id->path, id->path_len);
	}
	/*
	 * Kept: a file whose session ended (aborted: cancel, link loss, a stopped peer) or
	 * whose write failed. Not one whose CRC or size did not match (its bytes are not the
	 * source's), nor one refused for space (keeping it would take more).
	 */
	if (!f->pkeep || f->fd < 0 || w->p->part_fd < 0 || !(f->aborted || status == XF_ST_IO)) {
		return;
	}
	id = id_of(w, f);
	if (id == NULL) {
		return;
	}
	rc = xf_partial_keep(w->p->tmp_fd, f->tmpname, f->fd, w->p->part_fd, id);
	if (rc == 1) {
		int ev;

		atomic_fetch_add_explicit(&w->p->part_kept, 1, memory_order_relaxed);
		ev = xf_partial_evict(w->p->part_fd, w->p->conf.partial_max_files,
		                      w->p->conf.partial_max_bytes);
		if (ev > 0) {
			atomic_fetch_add_explicit(&w->p->part_evicted, (uint64_t)ev,
			                          memory_order_relaxed);
		}
	}
	f->pkeep = 0; /* kept or removed: nothing left at its temp name */
}

void
partial_verified(struct xf_worker *w, struct wfile *f)
{
	const struct xf_partial_id *id;

	if (!f->pkeep && !f->pbasis) {
		return;
	}
	/* The verified file goes to its final path untagged, and a partial of its path
	 * (its basis, or one of another version) has served. */
	xf_partial_untag(f->fd);
	id = id_of(w, f);
	if (id != NULL && w->p->part_fd >= 0) {
		xf_partial_remove(w->p->part_fd, id->path, id->path_len);
	}
	f->pkeep = 0;
}
