/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Storage on io_uring (liburing). The only user of liburing, and the only place
 * that resolves paths beneath a volume root.
 *
 * One struct xf_storage per worker core: it owns one io_uring and is used by that
 * core only. Operations are queued with xf_storage_prep_*() (no syscall), sent in one
 * batch by xf_storage_submit(), and their completions collected without blocking by
 * xf_storage_reap(). Each completion carries the caller's tag, the operation and the
 * result (>= 0, or -errno), so an error always names the operation that failed.
 *
 * Paths are relative to the volume root and are resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): a path (or a symlink on it) that
 * would leave the root fails with -EXDEV, never touches anything outside.
 * Operations that io_uring can only do relative to a directory fd (statx, renameat,
 * mkdirat, symlinkat, unlinkat) take a directory fd the caller opened beneath the
 * root (xf_storage_prep_open_dir()) plus a single component name.
 *
 * The single-component names of the *at operations (statx, rename, link, mkdir, symlink,
 * unlink) are copied at prep, so the kernel runs exactly the names that were checked.
 * Buffers, open paths, symlink targets and struct statx passed to a prep call must stay
 * valid until the completion for that tag has been reaped.
 */
#ifndef XF_STORAGE_H
#define XF_STORAGE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct xf_storage;

/** Operations, as reported in completions. */
enum xf_storage_op {
	XF_SOP_OPEN = 1, /**< openat2 beneath the root (files and directories) */
	XF_SOP_READ,
	XF_SOP_WRITE,
	XF_SOP_FSYNC,
	XF_SOP_STATX,
	XF_SOP_RENAME,
	XF_SOP_MKDIR,
	XF_SOP_SYMLINK,
	XF_SOP_UNLINK,
	XF_SOP_CLOSE,
	XF_SOP_LINK,       /**< linkat of an open (O_TMPFILE) file, AT_EMPTY_PATH */
	XF_SOP_SYNC_RANGE, /**< sync_file_range of a duplicate of the fd, off the caller */
	XF_SOP_MAX,
};

/** Every operation, as a route (bit 1 << op). */
#define XF_STORAGE_OPS_ALL (((1u << XF_SOP_MAX) - 1u) & ~1u)

/** One completion. */
struct xf_storage_cqe {
	uint64_t tag; /**< the caller's tag from the prep call */
	int32_t res;  /**< >= 0 on success (fd, bytes), -errno on failure */
	uint8_t op;   /**< enum xf_storage_op */
};

/**
 * Fault hook for tests: called for every completion before it is returned; returns
 * the result to report instead (return res unchanged to pass it through). Lets a
 * test turn one write of one file into -ENOSPC or -EIO, or shorten it.
 */
typedef int32_t (*xf_storage_fault_fn)(void *arg, enum xf_storage_op op, uint64_t tag, int32_t res);

/** How operations run. */
enum xf_storage_io {
	XF_STORAGE_IO_AUTO = 0, /**< inline on tmpfs, ramfs and XFS; elsewhere io_uring,
	                         * with the operations of xf_storage_auto_route() inline */
	XF_STORAGE_IO_URING,    /**< through an io_uring */
	XF_STORAGE_IO_INLINE,   /**< as system calls at submit, one after the other */
};

/**
 * Create a storage context: an io_uring of the given depth over a volume root, or the
 * inline back end (see xf_storage.c for when and why) with the same queue limits.
 *
 * @param root_fd A directory fd of the volume root; it is duplicated, the caller keeps
 *                its own.
 * @param depth   Submission queue entries (power of two, 8..4096).
 * @param io      The back end; AUTO picks it from the root's file system.
 * @return the context, or NULL with errno set (EINVAL, ENOMEM, or the error of
 *         io_uring_queue_init, e.g. ENOSYS or EPERM where io_uring is disabled).
 */
struct xf_storage *xf_storage_create(int root_fd, unsigned int depth, enum xf_storage_io io);

/** The back end in use (AUTO resolved). */
enum xf_storage_io xf_storage_io(const struct xf_storage *st);

/**
 * The back end AUTO gives for the file system of fd (any fd on it): inline where
 * xf_storage_auto_route() runs every operation inline (tmpfs, ramfs, XFS), io_uring
 * elsewhere; URING and INLINE stay as they are.
 * @return 0, or -errno (-EINVAL for an unknown io, or fstatfs's error).
 */
int xf_storage_io_resolve(int fd, enum xf_storage_io io, enum xf_storage_io *out);

/**
 * The operations (bit 1 << op) that AUTO runs inline on a file system of type fs_type
 * (statfs f_type): every one on tmpfs, ramfs and XFS (the inline back end); elsewhere
 * all but fsync, which stays on io_uring. io_uring hands the others to an io-wq thread
 * (or gains nothing on them), and that costs more than the system call; fsyncs run side
 * by side there, which pays where they wait for a disk (docs/PIPELINE.md, "Which
 * operation runs where", has the figures per operation). XF_SOP_SYNC_RANGE is in it
 * only where there is no ring (xf_storage_prep_sync_range()).
 */
uint32_t xf_storage_auto_route(uint64_t fs_type);

/** The operations st runs inline (bit 1 << op): XF_STORAGE_OPS_ALL on the inline back end
 *  (but XF_SOP_SYNC_RANGE once it has a ring for it: xf_storage_sync_range_ring()). */
uint32_t xf_storage_route(const struct xf_storage *st);

/**
 * Choose the operations an io_uring context runs inline (bit 1 << op), the others on
 * its ring. AUTO sets xf_storage_auto_route() at creation and a forced io_uring none;
 * this is for tests and benchmarks that compare routes.
 * Inline and ring operations keep prep order only within their route: an operation
 * that must follow another is chained to it (xf_storage_chain() keeps it on the same
 * route). A submit sends the ring's operations before it runs the inline ones, so an
 * inline close may follow an unchained ring operation on the same fd in one batch.
 * @return 0; -EINVAL on an inline context or for a bit that is no operation; -EBUSY
 *         while operations are queued or in flight.
 */
int xf_storage_set_route(struct xf_storage *st, uint32_t inline_ops);

/** "auto", "io_uring" or "inline". Never NULL. */
const char *xf_storage_io_str(enum xf_storage_io io);

/** Wait for everything in flight, then tear down. NULL is a no-op. */
void xf_storage_destroy(struct xf_storage *st);

/** The duplicated root directory fd (owned by the context). */
int xf_storage_root_fd(const struct xf_storage *st);

/**
 * May reads leave the access time alone (O_NOATIME on any file: CAP_FOWNER)? A storage
 * context then opens every file it opens read-only inline (the inline back end, or an
 * open that its route runs inline) with O_NOATIME, and again without it if that fails
 * EPERM.
 */
bool xf_storage_noatime_ok(void);

/** Name of an operation ("write"). Never NULL. */
const char *xf_storage_op_str(enum xf_storage_op op);

/*
 * Prep calls: each queues one operation and returns 0, or -EBUSY when the submission
 * queue is full (call xf_storage_submit() and xf_storage_reap(), then retry).
 */

/**
 * Open a path beneath the root (or beneath dir_fd if it is >= 0, itself beneath the
 * root) with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). The result is the new fd.
 * @param flags O_* flags; O_CLOEXEC is always added.
 */
int xf_storage_prep_open(struct xf_storage *st, int dir_fd, const char *path, int flags,
                         mode_t mode, uint64_t tag);

/**
 * The same open as xf_storage_prep_open(), run now in the caller, when st runs its opens
 * inline (the inline back end, or a route with XF_SOP_OPEN): for a file that is to be
 * created only when its first data is there (docs/PIPELINE.md, "Created at the first
 * data"). The fault hook sees it as a completion with tag. Writing, creating opens only
 * (no O_NOATIME retry). @return the new fd, -errno, or -EAGAIN if st puts opens on its
 * ring (then nothing was done: prep it).
 */
int xf_storage_open_now(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode,
                        uint64_t tag);

/** Open a directory beneath the root as O_PATH | O_DIRECTORY, for the *at calls. */
int xf_storage_prep_open_dir(struct xf_storage *st, const char *path, uint64_t tag);

/**
 * The same, through no symlink at all (RESOLVE_NO_SYMLINKS too): a symlink on the way
 * fails with -ELOOP. For a lookup whose answer must be the directory at that very path,
 * not one a symlink names (the receiver's quick check: docs/PIPELINE.md, "Type changes").
 */
int xf_storage_prep_open_dir_nolinks(struct xf_storage *st, const char *path, uint64_t tag);

int xf_storage_prep_read(struct xf_storage *st, int fd, void *buf, uint32_t len, uint64_t off,
                         uint64_t tag);

/** Write len bytes from buf (for example straight from an mbuf's data) at off. */
int xf_storage_prep_write(struct xf_storage *st, int fd, const void *buf, uint32_t len,
                          uint64_t off, uint64_t tag);

/**
 * Vectored read and write (preadv/pwritev): n buffers (1..IOV_MAX) filled from, or
 * written to, off onwards in one operation; the result is the total byte count, which
 * may be short. The iovec array stays valid until the completion is reaped. One
 * operation for many frames: on a file system that cannot do buffered I/O without
 * blocking (tmpfs), io_uring hands each operation to a kernel thread, and that hand-off
 * costs more than the copy of a 9 KB frame.
 */
int xf_storage_prep_readv(struct xf_storage *st, int fd, const struct iovec *iov, unsigned int n,
                          uint64_t off, uint64_t tag);
int xf_storage_prep_writev(struct xf_storage *st, int fd, const struct iovec *iov, unsigned int n,
                           uint64_t off, uint64_t tag);

/**
 * Order the operation prepped last before the next one prepped (IOSQE_IO_HARDLINK):
 * the next starts only after it completes, whatever its result, and runs on the same
 * route (inline or on the ring) whatever its own route is. Both must be prepped
 * before the next xf_storage_submit() or xf_storage_wait(). For operations whose order
 * on disk matters (the renames of in-order commit), sent as one batch.
 * @return 0, or -EINVAL if nothing was prepped since the last submit.
 */
int xf_storage_chain(struct xf_storage *st);

int xf_storage_prep_fsync(struct xf_storage *st, int fd, bool datasync, uint64_t tag);

/**
 * sync_file_range(fd, off, len, flags) (len 0: to the end of the file), never in the
 * caller's thread: for a writeback to start that may block while the device's queue is
 * full (docs/DELTA.md, "What bounds the delta push"). It runs on the ring (an io-wq
 * thread): the io_uring back end's, or on the inline back end a ring for this operation
 * alone (xf_storage_sync_range_ring()). Without one (xf_storage_sync_range_ok() false)
 * it is not run and completes at once with -EOPNOTSUPP, never inline, since an inline
 * run would block the caller's thread. A context whose route was set to run it inline
 * (xf_storage_set_route(), tests) runs it inline.
 * fd is duplicated at prep and the duplicate closed when the completion is reaped, so
 * the caller may close fd at once (a failed dup completes with its -errno).
 */
int xf_storage_prep_sync_range(struct xf_storage *st, int fd, uint64_t off, uint32_t len,
                               unsigned int flags, uint64_t tag);

/**
 * Give an inline context an io_uring for XF_SOP_SYNC_RANGE alone (a no-op on the
 * io_uring back end). At setup, with nothing queued: for a context that will use it
 * (a worker of a cloning volume), so that one that never does holds no ring.
 * @return 0; -EBUSY with operations queued or in flight; io_uring_queue_init's -errno
 *         (the context then works as before, and skips that operation).
 */
int xf_storage_sync_range_ring(struct xf_storage *st);

/** Does st run XF_SOP_SYNC_RANGE off the caller's thread (it has a ring for it)? */
bool xf_storage_sync_range_ok(const struct xf_storage *st);

/** statx of name in dir_fd, never following a final symlink (AT_SYMLINK_NOFOLLOW). */
int xf_storage_prep_statx(struct xf_storage *st, int dir_fd, const char *name, struct statx *out,
                          uint64_t tag);

/**
 * renameat2(old_dir, old_name, new_dir, new_name, flags): with flags 0 an atomic replace
 * of new_name; with RENAME_NOREPLACE never a replace (EEXIST when new_name is taken).
 */
int xf_storage_prep_rename(struct xf_storage *st, int old_dir, const char *old_name, int new_dir,
                           const char *new_name, unsigned int flags, uint64_t tag);

/**
 * linkat(fd, "", new_dir, new_name, AT_EMPTY_PATH): give the open file fd (an O_TMPFILE
 * file) its name new_name, a single component in new_dir. Never replaces: EEXIST when
 * the name is taken. fd must stay open until the completion. AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH (xferd runs as root; without it the link fails with ENOENT).
 */
int xf_storage_prep_link(struct xf_storage *st, int fd, int new_dir, const char *new_name,
                         uint64_t tag);

int xf_storage_prep_mkdir(struct xf_storage *st, int dir_fd, const char *name, mode_t mode,
                          uint64_t tag);

int xf_storage_prep_symlink(struct xf_storage *st, const char *target, int dir_fd, const char *name,
                            uint64_t tag);

/** unlinkat; AT_REMOVEDIR in flags removes an empty directory. */
int xf_storage_prep_unlink(struct xf_storage *st, int dir_fd, const char *name, int flags,
                           uint64_t tag);

int xf_storage_prep_close(struct xf_storage *st, int fd, uint64_t tag);

/**
 * Send every queued operation in one io_uring_enter (nothing if none are queued).
 * @return the number submitted, or -errno.
 */
int xf_storage_submit(struct xf_storage *st);

/**
 * Collect up to max completions that are ready, without blocking.
 * @return the number written to out (0..max).
 */
unsigned int xf_storage_reap(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int max);

/**
 * Submit what is queued and block until at least min completions are ready, then
 * reap up to max of them. For the control thread, tests and teardown; never on an
 * RX core. @return the number reaped, or -errno.
 */
int xf_storage_wait(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int min,
                    unsigned int max);

/** Operations queued or in flight whose completion has not been reaped. */
unsigned int xf_storage_inflight(const struct xf_storage *st);

/** Install (or with fn NULL remove) the test fault hook. */
void xf_storage_set_fault(struct xf_storage *st, xf_storage_fault_fn fn, void *arg);

/**
 * Tests: the next completion of `op` is handed out ns late, as if the step had stalled
 * behind its disk (io_uring back end; a no-op inline, where steps run in the caller).
 * It counts as in flight meanwhile; reap hands it out once due, wait sleeps until then.
 * Called for several ops, the first completion of any of them is held (one in all),
 * for the last call's ns.
 */
void xf_storage_set_hold(struct xf_storage *st, enum xf_storage_op op, uint64_t ns);

/**
 * Tests: the completion held (xf_storage_set_hold()) is due now, and one not held yet
 * will not be. With a hold that never ends by itself, a test decides exactly when a
 * step completes, with no timing involved.
 */
void xf_storage_release_hold(struct xf_storage *st);

/** How COPY ops of a DELTA file reach the temp file (xf_storage_clone_probe()). */
enum xf_storage_clone {
	XF_STORAGE_CLONE_NONE = 0,   /**< read the basis, write the temp file */
	XF_STORAGE_CLONE_COPY_RANGE, /**< copy_file_range: in the kernel, no user copy */
	XF_STORAGE_CLONE_REFLINK,    /**< FICLONERANGE: shared extents, nothing copied */
};

/** "clone", "copy_file_range" or "read_write". */
const char *xf_storage_clone_str(enum xf_storage_clone mode);

/**
 * What the file system of dir_fd offers: two probe files made in dir_fd (dot names,
 * removed again), the first cloned into the second, or else copied by copy_file_range,
 * and the copy checked byte for byte. Blocking; call at start.
 * @param dir_fd A directory on the volume, writable.
 * @param mode Out: the best of the three that works.
 * @param blk Out: the file system's block size (statfs f_bsize; 4096 if implausible):
 *        FICLONERANGE takes ranges aligned to it.
 * @return 0 (mode set, XF_STORAGE_CLONE_NONE if neither works), or -errno if the probe
 *         files could not be made (mode is then XF_STORAGE_CLONE_NONE).
 */
int xf_storage_clone_probe(int dir_fd, enum xf_storage_clone *mode, uint32_t *blk);

/**
 * FICLONERANGE: dst's [dst_off, dst_off + len) shares src's blocks at src_off. Blocking.
 * @return 0, or -errno: -EINVAL unaligned offsets or length (the length may end at
 *         src's end), -EOPNOTSUPP or -EXDEV where the file system cannot, -EBADF.
 */
int xf_storage_clone(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off, uint64_t len);

/**
 * Pages of fd in the page cache not yet written to the device (dirty or under
 * writeback), by cachestat(2): a clone from such a file first waits for them to be
 * written. Not blocking.
 * @return 0 (pages set), or -errno: -ENOSYS before Linux 6.5.
 */
int xf_storage_unwritten_pages(int fd, uint64_t *pages);

/**
 * copy_file_range until len bytes are copied or src ends. Blocking.
 * @return Bytes copied (less than len only at src's end), or -errno if none were.
 */
int64_t xf_storage_copy_range(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off,
                              uint64_t len);

#endif /* XF_STORAGE_H */
