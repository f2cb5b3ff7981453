/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inline back end (xf_storage.c says when and why it is chosen), and the operations
 * an io_uring context routes inline: submit runs the queued operations one after the
 * other as plain system calls, within a budget, and reap hands out their results in
 * prep order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h> /* renameat2 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xf_storage_priv.h"

/*
 * Inline: bytes of reads and writes one submit or reap runs before it returns with the
 * rest still queued, and what any other operation counts as. On an RX core the poll
 * loop must come round well within the peer's probe timeout (>= 2 ms) and before the
 * port's RX ring fills: 256 KiB is some 30 us of copying.
 */
#define XF_STORAGE_INLINE_BUDGET (256u * 1024u)
#define XF_STORAGE_INLINE_OP_MIN 4096u

/* The slot's operation as a system call: its result, >= 0 or -errno. */
static int32_t
run_inline(struct slot *s)
{
	const struct sop_args *a = &s->a;
	struct iovec one = { .iov_base = (void *)(uintptr_t)a->p, .iov_len = a->len };
	const struct iovec *iov = a->vec ? a->p : &one;
	int iovcnt = a->vec ? (int)a->len : 1;
	long ret;

	if (s->forced) {
		return s->res;
	}
	/* EINTR comes only from a signal before anything was done: run it again. */
	do {
		switch ((enum xf_storage_op)s->op) {
		case XF_SOP_OPEN:
			ret = syscall(SYS_openat2, a->fd, a->p, &s->how, sizeof(s->how));
			if (ret < 0 && errno == EPERM) {
				return xf_storage_open_again(s, -EPERM);
			}
			break;
		case XF_SOP_READ:
			ret = preadv2(a->fd, iov, iovcnt, (off_t)a->off, 0);
			break;
		case XF_SOP_WRITE:
			ret = pwritev2(a->fd, iov, iovcnt, (off_t)a->off, 0);
			break;
		case XF_SOP_FSYNC:
			ret = a->flags != 0 ? fdatasync(a->fd) : fsync(a->fd);
			break;
		case XF_SOP_STATX:
			ret = statx(a->fd, a->p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
			            (struct statx *)(uintptr_t)a->p2);
			break;
		case XF_SOP_RENAME:
			ret = renameat2(a->fd, a->p, a->fd2, a->p2, (unsigned int)a->flags);
			break;
		case XF_SOP_MKDIR:
			ret = mkdirat(a->fd, a->p, (mode_t)a->flags);
			break;
		case XF_SOP_SYMLINK:
			ret = symlinkat(a->p, a->fd, a->p2);
			break;
		case XF_SOP_UNLINK:
			ret = unlinkat(a->fd, a->p, a->flags);
			break;
		case XF_SOP_CLOSE:
			/* Never retried: on Linux the fd is gone even when close says EINTR. */
			return close(a->fd) < 0 && errno != EINTR ? -errno : 0;
		case XF_SOP_LINK:
			ret = linkat(a->fd, "", a->fd2, a->p2, AT_EMPTY_PATH);
			break;
		case XF_SOP_SYNC_RANGE:
			/* Only where a test's route (xf_storage_set_route()) puts it inline:
			 * by default it never runs here (xf_storage_prep_sync_range()). */
			ret = sync_file_range(a->fd, (off_t)a->off, a->len, (unsigned int)a->flags);
			break;
		default:
			return -EINVAL;
		}
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : (int32_t)(ret > INT32_MAX ? INT32_MAX : ret);
}

/* What an operation costs against the inline budget: its bytes, at least a page. */
static size_t
op_cost(const struct slot *s)
{
	size_t bytes = 0;

	if (s->op == XF_SOP_READ || s->op == XF_SOP_WRITE) {
		if (s->a.vec && !s->forced) {
			const struct iovec *iov = s->a.p;

			for (uint32_t i = 0; i < s->a.len; i++) {
				bytes += iov[i].iov_len;
			}
		} else {
			bytes = s->a.len;
		}
	}
	return XF_MAX(bytes, (size_t)XF_STORAGE_INLINE_OP_MIN);
}

/*
 * Inline: run submitted operations in prep order, at least one if there is one, until
 * budget bytes are spent (SIZE_MAX: all).
 */
void
xf_storage_inline_run(struct xf_storage *st, size_t budget)
{
	size_t spent = 0;

	while (st->done != st->sub && spent < budget) {
		struct slot *s = &st->slots[st->fifo[st->done & (st->nslots - 1)]];

		spent += op_cost(s);
		s->res = run_inline(s);
		st->done++;
	}
}

/* Inline submit: what is queued becomes submitted, and a budget of it runs now. */
int
xf_storage_inline_submit(struct xf_storage *st)
{
	unsigned int n = st->tail - st->sub;

	st->sub = st->tail;
	xf_storage_inline_run(st, XF_STORAGE_INLINE_BUDGET);
	return (int)n;
}

unsigned int
xf_storage_inline_reap(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int max)
{
	unsigned int n = 0;

	/* What a budgeted submit left runs here: pollers reap, so it makes progress. */
	if (st->head == st->done) {
		xf_storage_inline_run(st, XF_STORAGE_INLINE_BUDGET);
	}
	while (n < max && st->head != st->done) {
		uint32_t idx = st->fifo[st->head++ & (st->nslots - 1)];

		if (unlikely(st->hold_ops != 0) && hold_take(st, idx, st->slots[idx].res)) {
			continue; /* routed on an io_uring context, held for a test */
		}
		complete(st, idx, st->slots[idx].res, &out[n++]);
	}
	return n;
}
