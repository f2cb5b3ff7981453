/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slot table and context shared by xf_storage.c (create, prep, the io_uring back
 * end, reap and teardown) and xf_storage_inline.c (the inline back end's submit and
 * reap). Not a public header: nothing outside drivers/storage includes it.
 */
#ifndef XF_STORAGE_PRIV_H
#define XF_STORAGE_PRIV_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "xf_base.h"
#include "xf_storage.h"

/* An operation's arguments, as the prep call gave them (directory fds resolved). */
struct sop_args {
	const void *p;  /**< buffer, iovec array, path or first name */
	const void *p2; /**< second name (rename, symlink) or struct statx */
	uint64_t off;   /**< file offset (read, write) */
	uint32_t len;   /**< byte count, or iovec count if vec */
	int fd;         /**< file fd, or directory fd for the *at calls */
	int fd2;        /**< new directory (rename) */
	int flags;      /**< unlink: flags; fsync: 1 for datasync; mkdir: the mode; rename: flags */
	uint8_t vec;    /**< p is an iovec array */
};

struct slot {
	uint64_t tag;        /**< the caller's tag */
	struct sop_args a;   /**< the arguments */
	struct open_how how; /**< XF_SOP_OPEN: read by the kernel at submission */
	int32_t res;         /**< inline: the result; either: the result if forced */
	uint8_t op;          /**< enum xf_storage_op */
	uint8_t forced;      /**< rejected at prep: res applies, nothing runs */
	uint8_t inl;         /**< runs inline (queued on fifo), not through the ring */
	/** The names of a *at operation (a.p / a.p2 point here), copied at prep: the kernel
	 *  (io_uring, at submission) or the inline back end reads them later, and they must be
	 *  the very names check_name() passed, whatever the caller's buffer holds by then. */
	char name[2][NAME_MAX + 1];
};

struct xf_storage {
	struct io_uring ring;      /**< when has_ring */
	bool has_ring;             /**< io_uring back end; the inline back end if it got one
	                            * for XF_SOP_SYNC_RANGE (the route keeps all else inline) */
	enum xf_storage_io io;     /**< the back end in use (never AUTO) */
	int root_fd;               /**< our duplicate of the volume root */
	unsigned int depth;        /**< submission queue entries */
	unsigned int nslots;       /**< CQ entries (a power of two) */
	unsigned int nfree;        /**< free slot indices on free_stack */
	xf_storage_fault_fn fault; /**< test hook, or NULL */
	void *fault_arg;
	uint32_t *free_stack;      /**< nslots entries */
	struct slot *slots;        /**< nslots entries */
	struct io_uring_sqe *last; /**< io_uring: SQE prepped last since the last submit */
	uint32_t route;            /**< ops (1 << op) run inline; XF_STORAGE_OPS_ALL inline */
	bool noatime;              /**< read-only opens get O_NOATIME (xf_storage_noatime_ok()) */
	int8_t last_inl;           /**< the op prepped last since the last submit: -1 none,
	                            * 0 on the ring, 1 inline */
	bool chain_next;           /**< xf_storage_chain() was called: the next op goes... */
	bool chain_inl;            /**< ...inline (1) or on the ring (0), as the one before */
	/*
	 * Operations run inline (every one on the inline back end, the routed ones on an
	 * io_uring context): slot indices in prep order, nslots entries, free-running cursors:
	 * [head, done) have run and wait for reap, [done, sub) are submitted and run in
	 * budgeted steps by submit and reap, [sub, tail) wait for the next submit.
	 */
	/* Tests (xf_storage_set_hold): one completion held back until due_ns. */
	uint32_t hold_ops; /**< ops (1 << op) whose next completion is held; 0: none */
	uint64_t hold_ns;  /**< for how long */
	bool held;         /**< a completion is held now */
	uint32_t held_idx; /**< its slot */
	int32_t held_res;  /**< its result */
	uint64_t held_due; /**< CLOCK_MONOTONIC ns when it is handed out */
	uint32_t *fifo;
	unsigned int head;
	unsigned int done;
	unsigned int sub;
	unsigned int tail;
};

/*
 * A read-only open run inline with O_NOATIME failed EPERM (the file's owner is not mapped
 * for our CAP_FOWNER, as on an idmapped mount): opened again without it, at once.
 * @return the fd or -errno; res if it had no O_NOATIME.
 */
int32_t xf_storage_open_again(struct slot *s, int32_t res);

static inline void
put_slot(struct xf_storage *st, uint32_t idx)
{
	st->free_stack[st->nfree++] = idx;
}

/* One completion out: the fault hook sees it, the slot goes back. */
static inline void
complete(struct xf_storage *st, uint32_t idx, int32_t res, struct xf_storage_cqe *out)
{
	struct slot *s = &st->slots[idx];

	if (st->fault != NULL) {
		res = st->fault(st->fault_arg, (enum xf_storage_op)s->op, s->tag, res);
	}
	out->tag = s->tag;
	out->res = res;
	out->op = s->op;
	if (s->op == XF_SOP_SYNC_RANGE && !s->forced) {
		/* The duplicate made at prep: the kernel is done with it now. A file only read
		 * through it, and another fd open on it (the caller's, usually): not blocking. */
		close(s->a.fd);
	}
	put_slot(st, idx);
}

static inline uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Tests (xf_storage_set_hold): hold this completion back if it is the first of a held
 * op. @return true if it was held (the caller hands it out later, not now).
 */
static inline bool
hold_take(struct xf_storage *st, uint32_t idx, int32_t res)
{
	if (likely((st->hold_ops & (1u << st->slots[idx].op)) == 0) || st->held) {
		return false;
	}
	st->hold_ops = 0;
	st->held = true;
	st->held_idx = idx;
	st->held_res = res;
	st->held_due = mono_ns() + st->hold_ns;
	return true;
}

/* Inline back end and routed operations (xf_storage_inline.c). */
void xf_storage_inline_run(struct xf_storage *st, size_t budget);
int xf_storage_inline_submit(struct xf_storage *st);
unsigned int xf_storage_inline_reap(struct xf_storage *st, struct xf_storage_cqe *out,
                                    unsigned int max);

#endif /* XF_STORAGE_PRIV_H */
