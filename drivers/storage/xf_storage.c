/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Storage on io_uring (liburing 2.3), or inline on memory file systems.
 *
 * Every queued operation owns a slot in a per-context table until its completion is
 * reaped. The slot keeps the caller's tag, the operation and its arguments (for opens,
 * the struct open_how the kernel reads); with io_uring the SQE's user_data is the slot
 * index. The table has as many slots as the completion queue has entries, so
 * operations in flight never exceed the CQ and completions are never dropped or parked
 * in the kernel's overflow list; when the table is full a prep call returns -EBUSY just
 * as for a full SQ.
 *
 * Two back ends run the same operations (enum xf_storage_io):
 * - io_uring: prep fills an SQE from the slot, submit is one io_uring_enter.
 * - inline: submit runs the queued operations one after the other as plain system calls
 *   and queues their results for reap. Chosen on tmpfs and ramfs, where no operation
 *   ever waits for a device, and where io_uring cannot complete a read or write without
 *   blocking (the file system refuses IOCB_NOWAIT: RWF_NOWAIT fails with EOPNOTSUPP on
 *   Linux 6.18), so it hands every operation to an io-wq kernel thread: a wake-up and
 *   two context switches for what is a memory copy here. docs/PIPELINE.md has the
 *   measurements.
 * AUTO also picks inline on XFS, and on other file systems an io_uring context that runs
 * every operation but fsync inline (its route, a bit per op: xf_storage_auto_route()).
 * io_uring hands openat with O_CREAT, statx, renameat, mkdirat, symlinkat, unlinkat and
 * linkat to an io-wq thread on every file system, and on XFS and ext4 an appending
 * buffered write too; measured per operation (perf/storage, docs/PIPELINE.md), each
 * costs 1.5-12x its system call on XFS, ext4 and tmpfs. Page-cache reads came out
 * even at best. fsync is the one operation io_uring wins on a disk: run side by side
 * on io-wq threads, 2,048 of them took a quarter of the time of one after the other on
 * ext4; on XFS over RAM, where fsync waits for no device, it lost.
 * sync_file_range is never inline by default, on either back end: it starts writeback,
 * which blocks while the device's queue is full, and the caller is an lcore. The inline
 * back end can be given a ring for it alone (xf_storage_sync_range_ring(): the same code
 * as a routed io_uring context, whose route runs every other operation inline); with
 * none, it is not run.
 * Routed operations share the slot table and the fifo with the inline back end; submit
 * sends the ring's first, then runs the inline ones, so every io_uring operation of the
 * batch has taken its file before an inline close of the same fd runs.
 *
 * The *at operations (statx, rename, mkdir, symlink, unlink) resolve their name
 * without RESOLVE_BENEATH (io_uring has no openat2-style flags for them), so the name
 * must be a single component: one that is absolute or has a ".." component would
 * resolve outside the directory and completes with -EXDEV; any other name with a
 * "/" (or empty, ".") completes with -EINVAL. Such a rejected operation still takes
 * its slot and is queued (as a NOP on io_uring), so the caller sees the error in a
 * completion naming the operation, like any other failure, and prep keeps returning
 * only 0 or -EBUSY. A negative directory fd means the root for these, as for open.
 *
 * Both back ends share the slot table (xf_storage_priv.h), the name checks and every
 * prep call, here; they differ only in how a slot runs (prep_sqe, or run_inline in
 * xf_storage_inline.c) and in submit and reap.
 *
 * Over 1,000 lines: one concern, the driver's contract for both back ends (the slot
 * table, the name rules, every prep call, the route per operation, submit and reap);
 * the inline runner is already its own file, and what is left here reads and writes the
 * same slot table and fifo in every function.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "xf_base.h"
#include "xf_storage.h"
#include "xf_storage_priv.h"

#define XF_STORAGE_MIN_DEPTH 8u
#define XF_STORAGE_MAX_DEPTH 4096u

/* XF_SOP_SYNC_RANGE as a route bit: never inline by default, on either back end. */
#define SYNC_RANGE_BIT (1u << XF_SOP_SYNC_RANGE)

/* Completions pulled per io_uring_enter while draining at teardown. */
#define DRAIN_BATCH 32u

static const char *const op_names[XF_SOP_MAX] = {
	[XF_SOP_OPEN] = "open",   [XF_SOP_READ] = "read",       [XF_SOP_WRITE] = "write",
	[XF_SOP_FSYNC] = "fsync", [XF_SOP_STATX] = "statx",     [XF_SOP_RENAME] = "rename",
	[XF_SOP_MKDIR] = "mkdir", [XF_SOP_SYMLINK] = "symlink", [XF_SOP_UNLINK] = "unlink",
	[XF_SOP_CLOSE] = "close", [XF_SOP_LINK] = "link",       [XF_SOP_SYNC_RANGE] = "sync_range",
};

const char *
xf_storage_op_str(enum xf_storage_op op)
{
	if ((unsigned int)op >= XF_SOP_MAX || op_names[op] == NULL) {
		return "unknown";
	}
	return op_names[op];
}

const char *
xf_storage_io_str(enum xf_storage_io io)
{
	switch (io) {
	case XF_STORAGE_IO_AUTO:
		return "auto";
	case XF_STORAGE_IO_URING:
		return "io_uring";
	case XF_STORAGE_IO_INLINE:
		return "inline";
	}
	return "unknown";
}

int
xf_storage_io_resolve(int fd, enum xf_storage_io io, enum xf_storage_io *out)
{
	struct statfs sf;

	if (io == XF_STORAGE_IO_URING || io == XF_STORAGE_IO_INLINE) {
		*out = io;
		return 0;
	}
	if (io != XF_STORAGE_IO_AUTO) {
		return -EINVAL;
	}
	if (fstatfs(fd, &sf) < 0) {
		return -errno;
	}
	*out = xf_storage_auto_route((uint64_t)sf.f_type) == XF_STORAGE_OPS_ALL
	               ? XF_STORAGE_IO_INLINE
	               : XF_STORAGE_IO_URING;
	return 0;
}

uint32_t
xf_storage_auto_route(uint64_t fs_type)
{
	if (fs_type == TMPFS_MAGIC || fs_type == RAMFS_MAGIC || fs_type == XFS_SUPER_MAGIC) {
		return XF_STORAGE_OPS_ALL;
	}
	return XF_STORAGE_OPS_ALL & ~(1u << XF_SOP_FSYNC) & ~SYNC_RANGE_BIT;
}

uint32_t
xf_storage_route(const struct xf_storage *st)
{
	return st->route;
}

int
xf_storage_set_route(struct xf_storage *st, uint32_t inline_ops)
{
	if (st->io == XF_STORAGE_IO_INLINE || (inline_ops & ~XF_STORAGE_OPS_ALL) != 0) {
		return -EINVAL;
	}
	if (xf_storage_inflight(st) > 0) {
		return -EBUSY;
	}
	st->route = inline_ops;
	return 0;
}

/* The route of a new context: everything inline, nothing, or AUTO's for the root's fs. */
static int
initial_route(struct xf_storage *st, int root_fd, enum xf_storage_io asked)
{
	struct statfs sf;

	if (st->io == XF_STORAGE_IO_INLINE) {
		st->route = XF_STORAGE_OPS_ALL;
	} else if (asked == XF_STORAGE_IO_AUTO) {
		if (fstatfs(root_fd, &sf) < 0) {
			return -errno;
		}
		st->route = xf_storage_auto_route((uint64_t)sf.f_type);
	} else {
		st->route = 0; /* io_uring as asked: every operation on the ring */
	}
	return 0;
}

static int
ring_init(struct xf_storage *st)
{
	int ret;

	/*
	 * Completions of operations that io-wq ran come back as task work. By default the
	 * kernel interrupts our (polling) thread with an IPI for each; cooperative mode
	 * only raises IORING_SQ_TASKRUN, and xf_storage_reap() runs the work when it sees
	 * it, in its own time. Kernels before 5.19 refuse the flags: plain mode then.
	 */
	ret = io_uring_queue_init(st->depth, &st->ring,
	                          IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
	if (ret == -EINVAL) {
		ret = io_uring_queue_init(st->depth, &st->ring, 0);
	}
	if (ret < 0) {
		return ret;
	}
	st->nslots = st->ring.cq.ring_entries;
	return 0;
}

/*
 * Reads run inline leave the access time alone (O_NOATIME) when the process may ask that
 * of any file, i.e. holds CAP_FOWNER (xferd runs as root); without it only its own files
 * would allow it and every other open would fail EPERM first. Why: on XFS (relatime) the first
 * read of a file after a change, or a day after its last read, logs a transaction for
 * the new atime. A push of a copy of /usr/include made 8,582 of them on the sender, one
 * per file read (perf/RESULTS.md, 2026-12-07); rsync offers the same (--open-noatime).
 */
bool
xf_storage_noatime_ok(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d) != 0) {
		return false;
	}
	return (d[CAP_FOWNER / 32].effective & (1u << (CAP_FOWNER % 32))) != 0;
}

int32_t
xf_storage_open_again(struct slot *s, int32_t res)
{
	long ret;

	if ((s->how.flags & O_NOATIME) == 0) {
		return res;
	}
	s->how.flags &= ~(uint64_t)O_NOATIME;
	do {
		ret = syscall(SYS_openat2, s->a.fd, s->a.p, &s->how, sizeof(s->how));
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : (int32_t)ret;
}

struct xf_storage *
xf_storage_create(int root_fd, unsigned int depth, enum xf_storage_io io)
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
	st->hold_ops = 0;
	st->last_inl = -1;
	st->noatime = xf_storage_noatime_ok();
	ret = xf_storage_io_resolve(root_fd, io, &st->io);
	if (ret == 0) {
		ret = initial_route(st, root_fd, io);
	}
	if (ret < 0) {
		errno = -ret;
		goto err_free_st;
	}
	st->depth = depth;
	st->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (st->root_fd < 0) {
		goto err_free_st;
	}
	if (st->io == XF_STORAGE_IO_URING) {
		ret = ring_init(st);
		if (ret < 0) {
			errno = -ret;
			goto err_close_root;
		}
		st->has_ring = true;
	} else {
		st->nslots = 2 * depth; /* as io_uring sizes its CQ */
	}
	st->fifo = calloc(st->nslots, sizeof(*st->fifo));
	st->slots = calloc(st->nslots, sizeof(*st->slots));
	st->free_stack = calloc(st->nslots, sizeof(*st->free_stack));
	if (st->slots == NULL || st->free_stack == NULL || st->fifo == NULL) {
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
	free(st->fifo);
	free(st->free_stack);
	free(st->slots);
	if (st->has_ring) {
		io_uring_queue_exit(&st->ring);
	}
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

enum xf_storage_io
xf_storage_io(const struct xf_storage *st)
{
	return st->io;
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

void
xf_storage_set_hold(struct xf_storage *st, enum xf_storage_op op, uint64_t ns)
{
	if (st->io != XF_STORAGE_IO_INLINE) {
		st->hold_ops |= 1u << op;
		st->hold_ns = ns;
	}
}

void
xf_storage_release_hold(struct xf_storage *st)
{
	st->hold_ops = 0;
	st->held_due = 0;
}

unsigned int
xf_storage_inflight(const struct xf_storage *st)
{
	return st->nslots - st->nfree; /* slots in use: queued, in flight, not yet reaped */
}

/*
 * Take a slot, and on the ring an SQE, together, or neither; the caller fills the
 * slot's arguments and then calls queue(). Inline, at most depth operations wait for
 * a submit, as the SQ would hold. The route is the op's, or after xf_storage_chain()
 * the route of the operation it follows, so that a chain never spans both.
 */
static struct slot *
get_slot(struct xf_storage *st, enum xf_storage_op op, uint64_t tag)
{
	bool inl = st->chain_next ? st->chain_inl : ((st->route >> op) & 1u) != 0;
	struct slot *s;

	if (unlikely(st->nfree == 0)) {
		return NULL;
	}
	if (!inl) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&st->ring);

		if (unlikely(sqe == NULL)) {
			return NULL;
		}
		st->last = sqe;
	} else if (unlikely(st->tail - st->sub >= st->depth)) {
		return NULL;
	}
	st->chain_next = false;
	st->last_inl = inl ? 1 : 0;
	s = &st->slots[st->free_stack[--st->nfree]];
	memset(&s->a, 0, sizeof(s->a));
	s->tag = tag;
	s->op = (uint8_t)op;
	s->forced = 0;
	s->inl = inl;
	return s;
}

/* Fill the SQE that get_slot() took from the slot's arguments. */
static void
prep_sqe(struct io_uring_sqe *sqe, struct slot *s)
{
	const struct sop_args *a = &s->a;

	if (s->forced) {
		io_uring_prep_nop(sqe);
		return;
	}
	switch ((enum xf_storage_op)s->op) {
	case XF_SOP_OPEN:
		io_uring_prep_openat2(sqe, a->fd, a->p, &s->how);
		break;
	case XF_SOP_READ:
		if (a->vec) {
			io_uring_prep_readv(sqe, a->fd, a->p, a->len, a->off);
		} else {
			io_uring_prep_read(sqe, a->fd, (void *)(uintptr_t)a->p, a->len, a->off);
		}
		break;
	case XF_SOP_WRITE:
		if (a->vec) {
			io_uring_prep_writev(sqe, a->fd, a->p, a->len, a->off);
		} else {
			io_uring_prep_write(sqe, a->fd, a->p, a->len, a->off);
		}
		break;
	case XF_SOP_FSYNC:
		io_uring_prep_fsync(sqe, a->fd, a->flags != 0 ? IORING_FSYNC_DATASYNC : 0);
		break;
	case XF_SOP_STATX:
		io_uring_prep_statx(sqe, a->fd, a->p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
		                    (struct statx *)(uintptr_t)a->p2);
		break;
	case XF_SOP_RENAME:
		io_uring_prep_renameat(sqe, a->fd, a->p, a->fd2, a->p2, (unsigned int)a->flags);
		break;
	case XF_SOP_MKDIR:
		io_uring_prep_mkdirat(sqe, a->fd, a->p, (mode_t)a->flags);
		break;
	case XF_SOP_SYMLINK:
		io_uring_prep_symlinkat(sqe, a->p, a->fd, a->p2);
		break;
	case XF_SOP_UNLINK:
		io_uring_prep_unlinkat(sqe, a->fd, a->p, a->flags);
		break;
	case XF_SOP_CLOSE:
		io_uring_prep_close(sqe, a->fd);
		break;
	case XF_SOP_LINK:
		io_uring_prep_linkat(sqe, a->fd, "", a->fd2, a->p2, AT_EMPTY_PATH);
		break;
	case XF_SOP_SYNC_RANGE:
		io_uring_prep_sync_file_range(sqe, a->fd, a->len, a->off, a->flags);
		break;
	case XF_SOP_MAX:
		io_uring_prep_nop(sqe);
		break;
	}
}

/* The slot is filled: put it in line for submission. */
static int
queue(struct xf_storage *st, struct slot *s)
{
	uint32_t idx = (uint32_t)(s - st->slots);

	if (!s->inl) {
		prep_sqe(st->last, s);
		io_uring_sqe_set_data64(st->last, idx);
	} else {
		st->fifo[st->tail++ & (st->nslots - 1)] = idx;
	}
	return 0;
}

/*
 * 0 if name is one component that stays in its directory; otherwise -errno, the result
 * its operation completes with.
 */
static int
check_name(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0) {
		return -EINVAL;
	}
	if (name[0] == '/') {
		return -EXDEV;
	}
	/* Any ".." component climbs out of the directory. */
	while (p != NULL) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
			return -EXDEV;
		}
		p = strchr(p, '/');
		if (p != NULL) {
			p++;
		}
	}
	if (strchr(name, '/') != NULL) {
		return -EINVAL;
	}
	return strnlen(name, NAME_MAX + 1) > NAME_MAX ? -ENAMETOOLONG : 0;
}

/* The slot's own copy of a name check_name() passed (see struct slot). */
static const char *
keep_name(struct slot *s, unsigned int k, const char *name)
{
	size_t n = strlen(name); /* at most NAME_MAX: checked */

	memcpy(s->name[k], name, n + 1);
	return s->name[k];
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

/* Queue a rejected operation that completes with res (-errno) under its own op. */
static int
prep_rejected(struct xf_storage *st, enum xf_storage_op op, uint64_t tag, int res)
{
	struct slot *s = get_slot(st, op, tag);

	if (s == NULL) {
		return -EBUSY;
	}
	s->forced = 1;
	s->res = res;
	return queue(st, s);
}

static int
prep_openat2(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode,
             uint64_t resolve, uint64_t tag)
{
	struct slot *s = get_slot(st, XF_SOP_OPEN, tag);

	if (s == NULL) {
		return -EBUSY;
	}
	memset(&s->how, 0, sizeof(s->how));
	s->how.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC);
	/* openat2 rejects a mode without O_CREAT or O_TMPFILE (open(2) ignores it). */
	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		s->how.mode = mode;
	}
	/* A read: the access time stays (xf_storage_noatime_ok()). Inline only: an EPERM is
	 * retried in the system call's place, while the caller's path is still there (on
	 * the ring the completion may come after the caller has let go of it). */
	if (st->noatime && s->inl &&
	    (flags & (O_ACCMODE | O_PATH | O_CREAT | O_TMPFILE)) == O_RDONLY) {
		s->how.flags |= O_NOATIME;
	}
	s->how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve;
	s->a.fd = at_dir(st, dir_fd);
	s->a.p = path;
	return queue(st, s);
}

int
xf_storage_prep_open(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode,
                     uint64_t tag)
{
	return prep_openat2(st, dir_fd, path, flags, mode, 0, tag);
}

int
xf_storage_open_now(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode,
                    uint64_t tag)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int32_t res, out;
	long ret;

	if ((xf_storage_route(st) & (1u << XF_SOP_OPEN)) == 0) {
		return -EAGAIN;
	}
	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		how.mode = mode;
	}
	do {
		ret = syscall(SYS_openat2, at_dir(st, dir_fd), path, &how, sizeof(how));
	} while (ret < 0 && errno == EINTR);
	res = ret < 0 ? -errno : (int32_t)ret;
	out = st->fault != NULL ? st->fault(st->fault_arg, XF_SOP_OPEN, tag, res) : res;
	if (out < 0 && res >= 0) {
		close(res); /* a failure the test hook made: the caller never sees the fd */
	}
	return out;
}

int
xf_storage_prep_open_dir(struct xf_storage *st, const char *path, uint64_t tag)
{
	return prep_openat2(st, -1, path, O_PATH | O_DIRECTORY, 0, 0, tag);
}

int
xf_storage_prep_open_dir_nolinks(struct xf_storage *st, const char *path, uint64_t tag)
{
	return prep_openat2(st, -1, path, O_PATH | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS, tag);
}

/* Reads and writes, plain (vec 0: p is the buffer) or vectored (p is the iovec array). */
static int
prep_rw(struct xf_storage *st, enum xf_storage_op op, int fd, const void *p, uint32_t len, bool vec,
        uint64_t off, uint64_t tag)
{
	struct slot *s;

	if (vec && (len == 0 || len > IOV_MAX)) {
		return prep_rejected(st, op, tag, -EINVAL);
	}
	s = get_slot(st, op, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = fd;
	s->a.p = p;
	s->a.len = len;
	s->a.vec = vec;
	s->a.off = off;
	return queue(st, s);
}

int
xf_storage_prep_read(struct xf_storage *st, int fd, void *buf, uint32_t len, uint64_t off,
                     uint64_t tag)
{
	return prep_rw(st, XF_SOP_READ, fd, buf, len, false, off, tag);
}

int
xf_storage_prep_write(struct xf_storage *st, int fd, const void *buf, uint32_t len, uint64_t off,
                      uint64_t tag)
{
	return prep_rw(st, XF_SOP_WRITE, fd, buf, len, false, off, tag);
}

int
xf_storage_prep_readv(struct xf_storage *st, int fd, const struct iovec *iov, unsigned int n,
                      uint64_t off, uint64_t tag)
{
	return prep_rw(st, XF_SOP_READ, fd, iov, n, true, off, tag);
}

int
xf_storage_prep_writev(struct xf_storage *st, int fd, const struct iovec *iov, unsigned int n,
                       uint64_t off, uint64_t tag)
{
	return prep_rw(st, XF_SOP_WRITE, fd, iov, n, true, off, tag);
}

int
xf_storage_chain(struct xf_storage *st)
{
	if (st->last_inl < 0) {
		return -EINVAL;
	}
	/*
	 * Inline, every operation runs after the one prepped before it: the next one only
	 * has to run inline too. On the ring, a hard link: the next operation starts only
	 * once this one has completed, and an error here does not cancel it. The kernel runs
	 * such a chain on one io-wq worker, one after the other, without a wake-up per
	 * operation.
	 */
	if (st->last_inl == 0) {
		st->last->flags |= IOSQE_IO_HARDLINK;
	}
	st->chain_next = true;
	st->chain_inl = st->last_inl == 1;
	return 0;
}

int
xf_storage_prep_fsync(struct xf_storage *st, int fd, bool datasync, uint64_t tag)
{
	struct slot *s = get_slot(st, XF_SOP_FSYNC, tag);

	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = fd;
	s->a.flags = datasync ? 1 : 0;
	return queue(st, s);
}

int
xf_storage_prep_sync_range(struct xf_storage *st, int fd, uint64_t off, uint32_t len,
                           unsigned int flags, uint64_t tag)
{
	struct slot *s;
	int dup_fd;

	if (((st->route >> XF_SOP_SYNC_RANGE) & 1u) != 0 && st->io == XF_STORAGE_IO_INLINE) {
		/* No ring: not run (an inline run would block the caller), not an error. */
		return prep_rejected(st, XF_SOP_SYNC_RANGE, tag, -EOPNOTSUPP);
	}
	s = get_slot(st, XF_SOP_SYNC_RANGE, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	/* Ours until the completion is reaped (complete() closes it): the caller's fd may be
	 * closed, and its number reused, before an io-wq thread looks it up. */
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		s->forced = 1;
		s->res = -errno;
		return queue(st, s);
	}
	s->a.fd = dup_fd;
	s->a.off = off;
	s->a.len = len;
	s->a.flags = (int)flags;
	return queue(st, s);
}

int
xf_storage_sync_range_ring(struct xf_storage *st)
{
	unsigned int nslots = st->nslots;
	int ret;

	if (st->has_ring) {
		return 0;
	}
	if (xf_storage_inflight(st) > 0) {
		return -EBUSY;
	}
	/*
	 * A ring for XF_SOP_SYNC_RANGE alone, the one operation the inline back end must not
	 * run in its caller: every other operation stays inline (the route), through the
	 * same code as a routed io_uring context. Its CQ (2 x depth) holds a completion for
	 * every slot, as on the io_uring back end.
	 */
	ret = ring_init(st);
	st->nslots = nslots;
	if (ret < 0) {
		return ret;
	}
	st->has_ring = true;
	st->route &= ~SYNC_RANGE_BIT;
	return 0;
}

bool
xf_storage_sync_range_ok(const struct xf_storage *st)
{
	return st->has_ring && ((st->route >> XF_SOP_SYNC_RANGE) & 1u) == 0;
}

int
xf_storage_prep_statx(struct xf_storage *st, int dir_fd, const char *name, struct statx *out,
                      uint64_t tag)
{
	struct slot *s;
	int err = check_name(name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_STATX, tag, err);
	}
	s = get_slot(st, XF_SOP_STATX, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = at_dir(st, dir_fd);
	s->a.p = keep_name(s, 0, name);
	s->a.p2 = out;
	return queue(st, s);
}

int
xf_storage_prep_rename(struct xf_storage *st, int old_dir, const char *old_name, int new_dir,
                       const char *new_name, unsigned int flags, uint64_t tag)
{
	struct slot *s;
	int err = check_name(old_name);

	if (err == 0) {
		err = check_name(new_name);
	}
	if (err != 0) {
		return prep_rejected(st, XF_SOP_RENAME, tag, err);
	}
	s = get_slot(st, XF_SOP_RENAME, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = at_dir(st, old_dir);
	s->a.p = keep_name(s, 0, old_name);
	s->a.fd2 = at_dir(st, new_dir);
	s->a.p2 = keep_name(s, 1, new_name);
	s->a.flags = (int)flags;
	return queue(st, s);
}

int
xf_storage_prep_link(struct xf_storage *st, int fd, int new_dir, const char *new_name, uint64_t tag)
{
	struct slot *s;
	int err = check_name(new_name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_LINK, tag, err);
	}
	s = get_slot(st, XF_SOP_LINK, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = fd;
	s->a.fd2 = at_dir(st, new_dir);
	s->a.p2 = keep_name(s, 1, new_name);
	return queue(st, s);
}

int
xf_storage_prep_mkdir(struct xf_storage *st, int dir_fd, const char *name, mode_t mode,
                      uint64_t tag)
{
	struct slot *s;
	int err = check_name(name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_MKDIR, tag, err);
	}
	s = get_slot(st, XF_SOP_MKDIR, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = at_dir(st, dir_fd);
	s->a.p = keep_name(s, 0, name);
	s->a.flags = (int)mode;
	return queue(st, s);
}

int
xf_storage_prep_symlink(struct xf_storage *st, const char *target, int dir_fd, const char *name,
                        uint64_t tag)
{
	struct slot *s;
	int err = check_name(name);

	/* The target is only stored, never resolved here; opens through the link are
	 * still confined by RESOLVE_BENEATH. */
	if (err == 0 && (target == NULL || target[0] == '\0')) {
		err = -EINVAL;
	}
	if (err != 0) {
		return prep_rejected(st, XF_SOP_SYMLINK, tag, err);
	}
	s = get_slot(st, XF_SOP_SYMLINK, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.p = target;
	s->a.fd = at_dir(st, dir_fd);
	s->a.p2 = keep_name(s, 1, name);
	return queue(st, s);
}

int
xf_storage_prep_unlink(struct xf_storage *st, int dir_fd, const char *name, int flags, uint64_t tag)
{
	struct slot *s;
	int err = check_name(name);

	if (err != 0) {
		return prep_rejected(st, XF_SOP_UNLINK, tag, err);
	}
	s = get_slot(st, XF_SOP_UNLINK, tag);
	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = at_dir(st, dir_fd);
	s->a.p = keep_name(s, 0, name);
	s->a.flags = flags;
	return queue(st, s);
}

int
xf_storage_prep_close(struct xf_storage *st, int fd, uint64_t tag)
{
	struct slot *s = get_slot(st, XF_SOP_CLOSE, tag);

	if (s == NULL) {
		return -EBUSY;
	}
	s->a.fd = fd;
	return queue(st, s);
}

int
xf_storage_submit(struct xf_storage *st)
{
	int ret;

	if (!st->has_ring) {
		st->last_inl = -1;
		st->chain_next = false;
		return xf_storage_inline_submit(st);
	}
	/*
	 * No wait is requested, so EINTR can only come from a signal during submission
	 * itself: retry. EAGAIN (kernel short of memory for requests) and EBUSY are
	 * returned; the SQEs stay queued and the next submit sends them, and the routed
	 * operations wait with them, so that none overtakes an earlier one on the ring.
	 */
	do {
		ret = io_uring_submit(&st->ring);
	} while (ret == -EINTR);
	if (ret < 0) {
		return ret;
	}
	st->last = NULL;
	st->last_inl = -1;
	st->chain_next = false;
	return ret + xf_storage_inline_submit(st);
}

unsigned int
xf_storage_reap(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int max)
{
	struct io_uring_cqe *cqe;
	unsigned int head;
	unsigned int seen = 0;
	unsigned int n = 0;

	if (!st->has_ring) {
		return xf_storage_inline_reap(st, out, max);
	}
	if (unlikely(st->held) && n < max && mono_ns() >= st->held_due) {
		st->held = false;
		complete(st, st->held_idx, st->held_res, &out[n++]);
	}
	if (st->head != st->tail && n < max) {
		n += xf_storage_inline_reap(st, out + n, max - n); /* the routed operations */
	}
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
		res = s->forced ? s->res : cqe->res;
		if (unlikely(st->hold_ops != 0) && hold_take(st, (uint32_t)idx, res)) {
			continue;
		}
		complete(st, (uint32_t)idx, res, &out[n++]);
	}
	io_uring_cq_advance(&st->ring, seen);
	return n;
}

int
xf_storage_wait(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int min,
                unsigned int max)
{
	unsigned int ready_inline;
	int ret;

	if (!st->has_ring) {
		/* Everything queued has completed once it has run. */
		st->last_inl = -1;
		st->chain_next = false;
		st->sub = st->tail;
		xf_storage_inline_run(st, SIZE_MAX);
		return (int)xf_storage_inline_reap(st, out, max);
	}
	if (unlikely(st->held)) {
		/* The held completion is not in the ring any more: hand it out when due. */
		uint64_t now = mono_ns();

		if (now < st->held_due) {
			uint64_t d = st->held_due - now;

			nanosleep(&(struct timespec){ .tv_sec = (time_t)(d / 1000000000ull),
			                              .tv_nsec = (long)(d % 1000000000ull) },
			          NULL);
		}
		xf_storage_submit(st);
		return (int)xf_storage_reap(st, out, max);
	}
	/* Waiting for more completions than operations exist would never return. */
	if (min > xf_storage_inflight(st)) {
		min = xf_storage_inflight(st);
	}
	/* The ring's operations go first (xf_storage_submit()), then every routed one runs;
	 * what they complete counts towards min. */
	if (st->tail != st->head) {
		ret = xf_storage_submit(st);
		if (ret < 0) {
			return ret;
		}
		xf_storage_inline_run(st, SIZE_MAX);
		ready_inline = st->done - st->head;
		min = min > ready_inline ? min - ready_inline : 0;
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
			st->last_inl = -1;
			st->chain_next = false;
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
	while (xf_storage_inflight(st) > 0) {
		struct xf_storage_cqe cqes[DRAIN_BATCH];
		int n = xf_storage_wait(st, cqes, 1, DRAIN_BATCH);

		if (n < 0) {
			XF_LOG(ERR, "storage", "teardown wait failed: %s; %u operations abandoned",
			       strerror(-n), xf_storage_inflight(st));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (cqes[i].op == XF_SOP_OPEN && cqes[i].res >= 0) {
				close(cqes[i].res);
			}
		}
	}
	if (st->has_ring) {
		io_uring_queue_exit(&st->ring);
	}
	close(st->root_fd);
	free(st->fifo);
	free(st->free_stack);
	free(st->slots);
	free(st);
}
