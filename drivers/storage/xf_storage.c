/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Storage on io_uring (liburing 2.3).
 *
 * Every queued operation owns a slot in a per-context table until its completion is
 * reaped; the SQE's user_data is the slot index, and the slot keeps the caller's tag,
 * the operation and, for opens, the struct open_how the kernel reads. The table has as
 * many slots as the completion queue has entries, so operations in flight never exceed
 * the CQ and completions are never dropped or parked in the kernel's overflow list;
 * when the table is full a prep call returns -EBUSY just as for a full SQ.
 *
 * The *at operations (statx, rename, mkdir, symlink, unlink) resolve their name
 * without RESOLVE_BENEATH (io_uring has no openat2-style flags for them), so the name
 * must be a single component: one that is absolute or has a ".." component would
 * resolve outside the directory and completes with -EXDEV; any other name with a
 * "/" (or empty, ".") completes with -EINVAL. Such a rejected operation still takes
 * its slot and is queued as a NOP, so the caller sees the error in a completion
 * naming the operation, like any other failure, and prep keeps returning only
 * 0 or -EBUSY. A negative directory fd means the root for these, as for open.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "xf_base.h"
#include "xf_storage.h"

#define XF_STORAGE_MIN_DEPTH 8u
#define XF_STORAGE_MAX_DEPTH 4096u

/* Completions pulled per io_uring_enter while draining at teardown. */
#define DRAIN_BATCH 32u

struct slot {
	uint64_t tag;        /**< the caller's tag */
	struct open_how how; /**< XF_SOP_OPEN: read by the kernel at submission */
	int32_t forced_res;  /**< result for an operation rejected at prep (queued as a NOP) */
	uint8_t op;          /**< enum xf_storage_op */
	uint8_t forced;      /**< forced_res applies */
};

struct xf_storage {
	struct io_uring ring;
	int root_fd;               /**< our duplicate of the volume root */
	unsigned int nslots;       /**< CQ entries */
	unsigned int nfree;        /**< free slot indices on free_stack */
	unsigned int inflight;     /**< slots in use: queued, in flight, or not yet reaped */
	xf_storage_fault_fn fault; /**< test hook, or NULL */
	void *fault_arg;
	uint32_t *free_stack;      /**< nslots entries */
	struct slot *slots;        /**< nslots entries */
	struct io_uring_sqe *last; /**< SQE prepped last since the last submit, or NULL */
};

static const char *const op_names[XF_SOP_MAX] = {
	[XF_SOP_OPEN] = "open",   [XF_SOP_READ] = "read",       [XF_SOP_WRITE] = "write",
	[XF_SOP_FSYNC] = "fsync", [XF_SOP_STATX] = "statx",     [XF_SOP_RENAME] = "rename",
	[XF_SOP_MKDIR] = "mkdir", [XF_SOP_SYMLINK] = "symlink", [XF_SOP_UNLINK] = "unlink",
	[XF_SOP_CLOSE] = "close",
};

const char *
xf_storage_op_str(enum xf_storage_op op)
{
	if ((unsigned int)op >= XF_SOP_MAX || op_names[op] == NULL) {
		return "unknown";
	}
	return op_names[op];
}

struct xf_storage *
xf_storage_create(int root_fd, unsigned int depth)
{
	struct xf_storage *st;
	struct stat sb;
	int ret;

	if (depth < XF_STORAGE_MIN_DEPTH || depth > XF_STORAGE_MAX_DEPTH ||
	    (depth & (depth - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if (fstat(root_fd, &sb) < 0) {
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	st->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (st->root_fd < 0) {
		goto err_free_st;
	}
	/*
	 * Completions of operations that io-wq ran come back as task work. By default the
	 * kernel interrupts our (polling) thread with an IPI for each; cooperative mode
	 * only raises IORING_SQ_TASKRUN, and xf_storage_reap() runs the work when it sees
	 * it, in its own time. Kernels before 5.19 refuse the flags: plain mode then.
	 */
	ret = io_uring_queue_init(depth, &st->ring,
	                          IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
	if (ret == -EINVAL) {
		ret = io_uring_queue_init(depth, &st->ring, 0);
	}
	if (ret < 0) {
		errno = -ret;
		goto err_close_root;
	}
	st->nslots = st->ring.cq.ring_entries;
	st->slots = calloc(st->nslots, sizeof(*st->slots));
	st->free_stack = calloc(st->nslots, sizeof(*st->free_stack));
	if (st->slots == NULL || st->free_stack == NULL) {
		errno = ENOMEM;
		goto err_free_tables;
	}
	/* Hand out low indices first: purely cosmetic, eases reading traces. */
	for (unsigned int i = 0; i < st->nslots; i++) {
		st->free_stack[i] = st->nslots - 1 - i;
	}
	st->nfree = st->nslots;
	return st;

err_free_tables:
	free(st->free_stack);
	free(st->slots);
	io_uring_queue_exit(&st->ring);
err_close_root:
	ret = errno;
	close(st->root_fd);
	errno = ret;
err_free_st:
	ret = errno;
	free(st);
	errno = ret;
	return NULL;
}

int
xf_storage_root_fd(const struct xf_storage *st)
{
	return st->root_fd;
}

void
xf_storage_set_fault(struct xf_storage *st, xf_storage_fault_fn fn, void *arg)
{
	st->fault = fn;
	st->fault_arg = arg;
}

unsigned int
xf_storage_inflight(const struct xf_storage *st)
{
	return st->inflight;
}

/*
 * Take a slot and an SQE together, or neither. The caller preps the SQE, then sets its
 * user_data to the slot index (after the prep helper, which may clear it).
 */
static struct io_uring_sqe *
get_slot(struct xf_storage *st, enum xf_storage_op op, uint64_t tag, uint32_t *out_idx)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;
	struct slot *s;

	if (unlikely(st->nfree == 0)) {
		return NULL;
	}
	sqe = io_uring_get_sqe(&st->ring);
	if (unlikely(sqe == NULL)) {
		return NULL;
	}
	idx = st->free_stack[--st->nfree];
	s = &st->slots[idx];
	s->tag = tag;
	s->op = (uint8_t)op;
	s->forced = 0;
	st->inflight++;
	st->last = sqe;
	*out_idx = idx;
	return sqe;
}

static void
put_slot(struct xf_storage *st, uint32_t idx)
{
	st->free_stack[st->nfree++] = idx;
	st->inflight--;
}

/*
 * 0 if name is one component that stays in its directory; otherwise the errno its
 * operation completes with.
 */
static int
check_name(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0) {
		return EINVAL;
	}
	if (name[0] == '/') {
		return EXDEV;
	}
	/* Any ".." component climbs out of the directory. */
	while (p != NULL) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
			return EXDEV;
		}
		p = strchr(p, '/');
		if (p != NULL) {
			p++;
		}
	}
	return strchr(name, '/') != NULL ? EINVAL : 0;
}

/*
 * Directory for the *at operations. A negative fd (AT_FDCWD included) would resolve
 * against the process's working directory, outside any volume: use the root instead,
 * as xf_storage_prep_open() does.
 */
static int
at_dir(const struct xf_storage *st, int dir_fd)
{
	return dir_fd >= 0 ? dir_fd : st->root_fd;
}

/* Queue a rejected operation as a NOP that completes with -err under its own op. */
static int
prep_rejected(struct xf_storage *st, enum xf_storage_op op, uint64_t tag, int err)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	sqe = get_slot(st, op, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, idx);
	st->slots[idx].forced = 1;
	st->slots[idx].forced_res = -err;
	return 0;
}

static int
prep_openat2(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode,
             uint64_t tag)
{
	struct io_uring_sqe *sqe;
	struct slot *s;
	uint32_t idx;

	sqe = get_slot(st, XF_SOP_OPEN, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	s = &st->slots[idx];
	memset(&s->how, 0, sizeof(s->how));
	s->how.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC);
	/* openat2 rejects a mode without O_CREAT or O_TMPFILE (open(2) ignores it). */
	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		s->how.mode = mode;
	}
	s->how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	io_uring_prep_openat2(sqe, dir_fd >= 0 ? dir_fd : st->root_fd, path, &s->how);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_open(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode,
                     uint64_t tag)
{
	return prep_openat2(st, dir_fd, path, flags, mode, tag);
}

int
xf_storage_prep_open_dir(struct xf_storage *st, const char *path, uint64_t tag)
{
	return prep_openat2(st, -1, path, O_PATH | O_DIRECTORY, 0, tag);
}

int
xf_storage_prep_read(struct xf_storage *st, int fd, void *buf, uint32_t len, uint64_t off,
                     uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	sqe = get_slot(st, XF_SOP_READ, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_read(sqe, fd, buf, len, off);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_write(struct xf_storage *st, int fd, const void *buf, uint32_t len, uint64_t off,
                      uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	sqe = get_slot(st, XF_SOP_WRITE, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_write(sqe, fd, buf, len, off);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_readv(struct xf_storage *st, int fd, const struct iovec *iov, unsigned int n,
                      uint64_t off, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	if (n == 0 || n > IOV_MAX) {
		return prep_rejected(st, XF_SOP_READ, tag, EINVAL);
	}
	sqe = get_slot(st, XF_SOP_READ, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_readv(sqe, fd, iov, n, off);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_writev(struct xf_storage *st, int fd, const struct iovec *iov, unsigned int n,
                       uint64_t off, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	if (n == 0 || n > IOV_MAX) {
		return prep_rejected(st, XF_SOP_WRITE, tag, EINVAL);
	}
	sqe = get_slot(st, XF_SOP_WRITE, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_writev(sqe, fd, iov, n, off);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_chain(struct xf_storage *st)
{
	if (st->last == NULL) {
		return -EINVAL;
	}
	/*
	 * A hard link: the next operation starts only once this one has completed, and an
	 * error here does not cancel it. The kernel runs such a chain on one io-wq worker,
	 * one after the other, without a wake-up per operation.
	 */
	st->last->flags |= IOSQE_IO_HARDLINK;
	return 0;
}

int
xf_storage_prep_fsync(struct xf_storage *st, int fd, bool datasync, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	sqe = get_slot(st, XF_SOP_FSYNC, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_statx(struct xf_storage *st, int dir_fd, const char *name, struct statx *out,
                      uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;
	int err = check_name(name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_STATX, tag, err);
	}
	sqe = get_slot(st, XF_SOP_STATX, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_statx(sqe, at_dir(st, dir_fd), name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
	                    out);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_rename(struct xf_storage *st, int old_dir, const char *old_name, int new_dir,
                       const char *new_name, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;
	int err = check_name(old_name);

	if (err == 0) {
		err = check_name(new_name);
	}
	if (err != 0) {
		return prep_rejected(st, XF_SOP_RENAME, tag, err);
	}
	sqe = get_slot(st, XF_SOP_RENAME, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_renameat(sqe, at_dir(st, old_dir), old_name, at_dir(st, new_dir), new_name,
	                       0);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_mkdir(struct xf_storage *st, int dir_fd, const char *name, mode_t mode,
                      uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;
	int err = check_name(name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_MKDIR, tag, err);
	}
	sqe = get_slot(st, XF_SOP_MKDIR, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_mkdirat(sqe, at_dir(st, dir_fd), name, mode);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_symlink(struct xf_storage *st, const char *target, int dir_fd, const char *name,
                        uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;
	int err = check_name(name);

	/* The target is only stored, never resolved here; opens through the link are
	 * still confined by RESOLVE_BENEATH. */
	if (err == 0 && (target == NULL || target[0] == '\0')) {
		err = EINVAL;
	}
	if (err != 0) {
		return prep_rejected(st, XF_SOP_SYMLINK, tag, err);
	}
	sqe = get_slot(st, XF_SOP_SYMLINK, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_symlinkat(sqe, target, at_dir(st, dir_fd), name);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_unlink(struct xf_storage *st, int dir_fd, const char *name, int flags, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;
	int err = check_name(name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_UNLINK, tag, err);
	}
	sqe = get_slot(st, XF_SOP_UNLINK, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_unlinkat(sqe, at_dir(st, dir_fd), name, flags);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_prep_close(struct xf_storage *st, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe;
	uint32_t idx;

	sqe = get_slot(st, XF_SOP_CLOSE, tag, &idx);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_close(sqe, fd);
	io_uring_sqe_set_data64(sqe, idx);
	return 0;
}

int
xf_storage_submit(struct xf_storage *st)
{
	int ret;

	/*
	 * No wait is requested, so EINTR can only come from a signal during submission
	 * itself: retry. EAGAIN (kernel short of memory for requests) and EBUSY are
	 * returned; the SQEs stay queued and the next submit sends them.
	 */
	do {
		ret = io_uring_submit(&st->ring);
	} while (ret == -EINTR);
	if (ret >= 0) {
		st->last = NULL;
	}
	return ret;
}

unsigned int
xf_storage_reap(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int max)
{
	struct io_uring_cqe *cqe;
	unsigned int head;
	unsigned int seen = 0;
	unsigned int n = 0;

	if (IO_URING_READ_ONCE(*st->ring.sq.kflags) & IORING_SQ_TASKRUN) {
		io_uring_get_events(&st->ring); /* completions waiting as task work */
	}
	io_uring_for_each_cqe(&st->ring, head, cqe)
	{
		uint64_t idx = cqe->user_data;
		struct slot *s;
		int32_t res;

		if (n == max) {
			break;
		}
		seen++;
		if (unlikely(idx >= st->nslots)) {
			/* Not ours (nothing else submits on this ring): drop it. */
			continue;
		}
		s = &st->slots[idx];
		res = s->forced ? s->forced_res : cqe->res;
		if (st->fault != NULL) {
			res = st->fault(st->fault_arg, (enum xf_storage_op)s->op, s->tag, res);
		}
		out[n].tag = s->tag;
		out[n].res = res;
		out[n].op = s->op;
		n++;
		put_slot(st, (uint32_t)idx);
	}
	io_uring_cq_advance(&st->ring, seen);
	return n;
}

int
xf_storage_wait(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int min,
                unsigned int max)
{
	int ret;

	/* Waiting for more completions than operations exist would never return. */
	if (min > st->inflight) {
		min = st->inflight;
	}
	/*
	 * Submit and wait in one io_uring_enter. The kernel counts completions already in
	 * the CQ towards wait_nr. A signal ends the wait early with EINTR (queued SQEs are
	 * either consumed or still queued, nothing is lost), so wait again until min are
	 * there: storage operations always complete, so this terminates.
	 */
	for (;;) {
		unsigned int ready = io_uring_cq_ready(&st->ring);

		ret = io_uring_submit_and_wait(&st->ring, min > ready ? min : 0);
		if (ret < 0 && ret != -EINTR) {
			return ret;
		}
		if (ret >= 0) {
			st->last = NULL;
		}
		if (io_uring_cq_ready(&st->ring) >= min) {
			break;
		}
	}
	return (int)xf_storage_reap(st, out, max);
}

void
xf_storage_destroy(struct xf_storage *st)
{
	if (st == NULL) {
		return;
	}
	/*
	 * The kernel may still read buffers and open_how in our slots, so everything
	 * queued or in flight must complete before the ring and the table go. Files that
	 * such an open created have no owner any more, so close them.
	 */
	xf_storage_set_fault(st, NULL, NULL);
	while (st->inflight > 0) {
		struct xf_storage_cqe cqes[DRAIN_BATCH];
		int n = xf_storage_wait(st, cqes, 1, DRAIN_BATCH);

		if (n < 0) {
			XF_LOG(ERR, "storage", "teardown wait failed: %s; %u operations abandoned",
			       strerror(-n), st->inflight);
			break;
		}
		for (int i = 0; i < n; i++) {
			if (cqes[i].op == XF_SOP_OPEN && cqes[i].res >= 0) {
				close(cqes[i].res);
			}
		}
	}
	io_uring_queue_exit(&st->ring);
	close(st->root_fd);
	free(st->free_stack);
	free(st->slots);
	free(st);
}
