/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_storage cases for one back end only (test_storage.c runs them in their own
 * suites), and the choice of back end by file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_storage.h"
#include "xf_storage_priv.h" /* white box: which queue an operation went to */
#include "test_storage.h"

/*
 * A chained operation waits for the one before: a read of an empty pipe, then a rename.
 * While the pipe is empty, eight unchained renames submitted after it, each waited for
 * in turn, all complete and the chained one does not happen (unchained, io-wq would have
 * run it before them, in submission order); once the pipe has a byte, both complete,
 * read first.
 */
void
test_chain_waits(void)
{
	struct xf_storage *st = new_storage(8);
	struct xf_storage_cqe c[2];
	struct stat sb;
	char byte = 0;
	int pfd[2], got = 0;
	int fd = openat(vol_fd, "w1", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_FATAL(pipe(pfd) == 0);
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, pfd[0], &byte, 1, (uint64_t)-1, 1), 0);
	CU_ASSERT_EQUAL(xf_storage_chain(st), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, -1, "w1", -1, "w2", 0, 2), 0);
	CU_ASSERT_EQUAL(xf_storage_submit(st), 2);
	fd = openat(vol_fd, "p0", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	for (unsigned int i = 0; i < 8; i++) {
		char from[8], to[8];

		snprintf(from, sizeof(from), "p%u", i);
		snprintf(to, sizeof(to), "p%u", i + 1);
		CU_ASSERT_EQUAL(xf_storage_prep_rename(st, -1, from, -1, to, 0, 10 + i), 0);
		CU_ASSERT_EQUAL_FATAL(xf_storage_wait(st, c, 1, 1), 1);
		CU_ASSERT_EQUAL_FATAL(c[0].tag, 10u + i); /* not the chained rename */
		CU_ASSERT_EQUAL(c[0].res, 0);
		CU_ASSERT_NOT_EQUAL_FATAL(fstatat(vol_fd, "w2", &sb, 0), 0);
	}
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "p8", 0), 0);
	CU_ASSERT_EQUAL(write(pfd[1], "x", 1), 1);
	while (got < 2) {
		int k = xf_storage_wait(st, c + got, 1, (unsigned int)(2 - got));

		CU_ASSERT_FATAL(k > 0);
		got += k;
	}
	CU_ASSERT_EQUAL(c[0].tag, 1u);
	CU_ASSERT_EQUAL(c[0].res, 1);
	CU_ASSERT_EQUAL(byte, 'x');
	CU_ASSERT_EQUAL(c[1].tag, 2u);
	CU_ASSERT_EQUAL(c[1].res, 0);
	CU_ASSERT_EQUAL(fstatat(vol_fd, "w2", &sb, 0), 0);
	unlinkat(vol_fd, "w2", 0);
	close(pfd[0]);
	close(pfd[1]);
	xf_storage_destroy(st);
}

/* AUTO: inline exactly on tmpfs, ramfs and XFS, by the file system of the fd. */
void
test_auto(void)
{
	const char *dirs[] = { "/dev/shm", "/proc", "/" };
	struct xf_storage *st;
	enum xf_storage_io io;

	for (unsigned int i = 0; i < 3; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct statfs sf;
		bool mem;

		if (fd < 0) {
			continue; /* no /dev/shm in this container: the others still count */
		}
		CU_ASSERT_FATAL(fstatfs(fd, &sf) == 0);
		mem = sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC ||
		      sf.f_type == XFS_SUPER_MAGIC; /* memory file systems, and XFS */
		CU_ASSERT_EQUAL(xf_storage_io_resolve(fd, XF_STORAGE_IO_AUTO, &io), 0);
		CU_ASSERT_EQUAL(io, mem ? XF_STORAGE_IO_INLINE : XF_STORAGE_IO_URING);
		if (io == XF_STORAGE_IO_INLINE || g_uring) {
			st = xf_storage_create(fd, 8, XF_STORAGE_IO_AUTO);
			CU_ASSERT_FATAL(st != NULL);
			CU_ASSERT_EQUAL(xf_storage_io(st), io);
			xf_storage_destroy(st);
		}
		/* A forced back end stays as it is. */
		CU_ASSERT_EQUAL(xf_storage_io_resolve(fd, XF_STORAGE_IO_URING, &io), 0);
		CU_ASSERT_EQUAL(io, XF_STORAGE_IO_URING);
		CU_ASSERT_EQUAL(xf_storage_io_resolve(fd, XF_STORAGE_IO_INLINE, &io), 0);
		CU_ASSERT_EQUAL(io, XF_STORAGE_IO_INLINE);
		close(fd);
	}
	CU_ASSERT_EQUAL(xf_storage_io_resolve(-1, XF_STORAGE_IO_AUTO, &io), -EBADF);
	CU_ASSERT_EQUAL(xf_storage_io_resolve(0, (enum xf_storage_io)9, &io), -EINVAL);
	CU_ASSERT_STRING_EQUAL(xf_storage_io_str(XF_STORAGE_IO_AUTO), "auto");
	CU_ASSERT_STRING_EQUAL(xf_storage_io_str(XF_STORAGE_IO_URING), "io_uring");
	CU_ASSERT_STRING_EQUAL(xf_storage_io_str(XF_STORAGE_IO_INLINE), "inline");
	CU_ASSERT_STRING_EQUAL(xf_storage_io_str((enum xf_storage_io)9), "unknown");
}

/*
 * Inline: a submit runs a bounded amount (so an RX core gets back to its port soon),
 * the rest runs in later reaps without another submit, in prep order; a wait runs all.
 */
void
test_inline_budget(void)
{
	enum { N = 16, LEN = 128 * 1024 };
	static uint8_t buf[N][LEN];
	struct xf_storage *st = new_storage(16);
	struct xf_storage_cqe c[N];
	unsigned int got = 0, reaps = 0;
	int fd = openat(vol_fd, "budget", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct stat sb;

	CU_ASSERT_FATAL(st != NULL && fd >= 0);
	for (unsigned int i = 0; i < N; i++) {
		memset(buf[i], 'a' + (int)i, LEN);
		CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, buf[i], LEN, (uint64_t)i * LEN, i),
		                0);
	}
	CU_ASSERT_EQUAL(xf_storage_submit(st), N); /* all submitted... */
	CU_ASSERT_EQUAL(xf_storage_submit(st), 0);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), (unsigned int)N);
	CU_ASSERT_FATAL(fstat(fd, &sb) == 0);
	/* ...some in order, the rest not yet */
	CU_ASSERT(sb.st_size >= LEN && sb.st_size < (off_t)N * LEN && sb.st_size % LEN == 0);
	while (got < N && reaps++ < 2 * N) {
		unsigned int k = xf_storage_reap(st, c + got, N - got);

		CU_ASSERT(k >= 1); /* every reap makes progress */
		got += k;
	}
	CU_ASSERT_EQUAL_FATAL(got, (unsigned int)N);
	for (unsigned int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(c[i].tag, i);
		CU_ASSERT_EQUAL(c[i].res, LEN);
	}
	for (unsigned int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, buf[i], LEN, (uint64_t)i * LEN, i), 0);
	}
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(xf_storage_wait(st, c, N, N), N);
	for (unsigned int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(c[i].tag, i);
		CU_ASSERT_EQUAL(c[i].res, LEN);
		CU_ASSERT_EQUAL(buf[i][0], 'a' + i);
		CU_ASSERT_EQUAL(buf[i][LEN - 1], 'a' + i);
	}
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);
	close(fd);
	unlinkat(vol_fd, "budget", 0);
	xf_storage_destroy(st);
}

/*
 * Test hook (io_uring): the first completion of an operation kind is handed out late and
 * counts as in flight meanwhile; later ones are not held.
 */
void
test_hold(void)
{
	static const char data[BLK] = { 1 };
	struct xf_storage *st = new_storage(8);
	struct xf_storage_cqe c[4];
	int fd;

	CU_ASSERT_FATAL(st != NULL);
	fd = sopen(st, -1, "held", O_CREAT | O_RDWR, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	xf_storage_set_hold(st, XF_SOP_WRITE, 500000000ull);
	CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, data, BLK, 0, 1), 0);
	/* The kernel's completion is in (the wait returns once it is) but held back. */
	CU_ASSERT_EQUAL(xf_storage_wait(st, c, 1, 4), 0);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 1);
	/* Waiting again hands it out once due. */
	CU_ASSERT_EQUAL(xf_storage_wait(st, c, 1, 4), 1);
	CU_ASSERT_EQUAL(c[0].tag, 1);
	CU_ASSERT_EQUAL(c[0].res, (int32_t)BLK);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0);
	/* Held once only. */
	CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, data, BLK, BLK, 2), 0);
	CU_ASSERT_EQUAL(one(st).tag, 2);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	xf_storage_destroy(st);
	unlinkat(vol_fd, "held", 0);
}

/*
 * AUTO's route: every operation inline on memory file systems and XFS, all but fsync
 * elsewhere; a context gets it only when AUTO was asked for.
 */
void
test_auto_route(void)
{
	const uint32_t sfr = 1u << XF_SOP_SYNC_RANGE;
	const uint32_t ring_ops = (1u << XF_SOP_FSYNC) | sfr;
	const char *dirs[] = { "/dev/shm", "/" };
	struct xf_storage *st;

	CU_ASSERT_EQUAL(xf_storage_auto_route(TMPFS_MAGIC), XF_STORAGE_OPS_ALL);
	CU_ASSERT_EQUAL(xf_storage_auto_route(RAMFS_MAGIC), XF_STORAGE_OPS_ALL);
	CU_ASSERT_EQUAL(xf_storage_auto_route(XFS_SUPER_MAGIC), XF_STORAGE_OPS_ALL);
	CU_ASSERT_EQUAL(xf_storage_auto_route(EXT4_SUPER_MAGIC), XF_STORAGE_OPS_ALL & ~ring_ops);
	CU_ASSERT_EQUAL(xf_storage_auto_route(BTRFS_SUPER_MAGIC), XF_STORAGE_OPS_ALL & ~ring_ops);
	for (unsigned int op = XF_SOP_OPEN; op < XF_SOP_MAX; op++) {
		CU_ASSERT((XF_STORAGE_OPS_ALL >> op) & 1u);
	}
	CU_ASSERT_EQUAL(XF_STORAGE_OPS_ALL & 1u, 0u);
	for (unsigned int i = 0; i < 2; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct statfs sf;

		if (fd < 0) {
			continue; /* no /dev/shm in this container: "/" still counts */
		}
		CU_ASSERT_FATAL(fstatfs(fd, &sf) == 0);
		st = xf_storage_create(fd, 8, XF_STORAGE_IO_AUTO);
		if (st != NULL) {
			CU_ASSERT_EQUAL(xf_storage_route(st),
			                xf_storage_auto_route((uint64_t)sf.f_type));
			xf_storage_destroy(st);
		} else {
			CU_ASSERT(!g_uring); /* only io_uring can be missing */
		}
		close(fd);
	}
	st = xf_storage_create(vol_fd, 8, XF_STORAGE_IO_INLINE);
	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(xf_storage_route(st), XF_STORAGE_OPS_ALL);
	CU_ASSERT_EQUAL(xf_storage_set_route(st, 0), -EINVAL); /* inline is all inline */
	/* but sync_file_range, given a ring of its own where io_uring works */
	CU_ASSERT_EQUAL(xf_storage_sync_range_ring(st) == 0, g_uring);
	CU_ASSERT_EQUAL(xf_storage_route(st), XF_STORAGE_OPS_ALL & ~(g_uring ? sfr : 0u));
	xf_storage_destroy(st);
	if (!g_uring) {
		return;
	}
	st = xf_storage_create(vol_fd, 8, XF_STORAGE_IO_URING);
	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(xf_storage_route(st), 0u); /* forced io_uring: all on the ring */
	CU_ASSERT_EQUAL(xf_storage_set_route(st, XF_STORAGE_OPS_ALL | 1u), -EINVAL);
	CU_ASSERT_EQUAL(xf_storage_set_route(st, 1u << XF_SOP_MAX), -EINVAL);
	CU_ASSERT_EQUAL(xf_storage_set_route(st, XF_STORAGE_OPS_ALL), 0);
	CU_ASSERT_EQUAL(xf_storage_route(st), XF_STORAGE_OPS_ALL);
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, -1, "busy", 0755, 1), 0);
	CU_ASSERT_EQUAL(xf_storage_set_route(st, 0), -EBUSY); /* not with one queued */
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_set_route(st, 0), 0);
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "busy", AT_REMOVEDIR), 0);
	xf_storage_destroy(st);
}

/* Where the operation prepped last went: 1 inline, 0 the ring (white box). */
static int
went_inline(struct xf_storage *st, unsigned int *fifo, unsigned int *sq)
{
	unsigned int f = st->tail - st->sub;
	unsigned int q = io_uring_sq_ready(&st->ring);
	int where = f == *fifo + 1 && q == *sq ? 1 : f == *fifo && q == *sq + 1 ? 0 : -1;

	*fifo = f;
	*sq = q;
	return where;
}

/*
 * With a route that puts reads and fsyncs on the ring and the rest inline, each kind of
 * operation is queued on its route, and one batch of both completes with every result
 * right.
 */
void
test_route_split(void)
{
	static char wbuf[BLK] = { 'w' }, rbuf[BLK];
	struct xf_storage *st = new_storage(32);
	struct xf_storage_cqe c[16];
	struct statx sx;
	struct stat sb;
	unsigned int fifo = 0, sq = 0, n = 0, got = 0;
	int fd = openat(vol_fd, "f", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rfd = openat(vol_fd, "r", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int cfd = dup(fd);

	CU_ASSERT_FATAL(st != NULL && fd >= 0 && rfd >= 0 && cfd >= 0);
	CU_ASSERT_EQUAL(xf_storage_route(st), g_route);
	CU_ASSERT_EQUAL_FATAL(pwrite(rfd, "abcd", 4, 0), 4);
	close(openat(vol_fd, "r1", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	close(openat(vol_fd, "u", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
#define ROUTED(prep, op)                                                                           \
	do {                                                                                       \
		CU_ASSERT_EQUAL(prep, 0);                                                          \
		CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), (int)((g_route >> (op)) & 1u));       \
		n++;                                                                               \
	} while (0)
	ROUTED(xf_storage_prep_open(st, -1, "a", O_WRONLY | O_CREAT | O_EXCL, 0600, 1),
	       XF_SOP_OPEN);
	ROUTED(xf_storage_prep_write(st, fd, wbuf, BLK, 0, 2), XF_SOP_WRITE);
	ROUTED(xf_storage_prep_read(st, rfd, rbuf, BLK, 0, 3), XF_SOP_READ);
	ROUTED(xf_storage_prep_fsync(st, rfd, false, 4), XF_SOP_FSYNC);
	ROUTED(xf_storage_prep_statx(st, -1, "r", &sx, 5), XF_SOP_STATX);
	ROUTED(xf_storage_prep_rename(st, -1, "r1", -1, "r2", 0, 6), XF_SOP_RENAME);
	ROUTED(xf_storage_prep_mkdir(st, -1, "d", 0755, 7), XF_SOP_MKDIR);
	ROUTED(xf_storage_prep_symlink(st, "r", -1, "l", 8), XF_SOP_SYMLINK);
	ROUTED(xf_storage_prep_unlink(st, -1, "u", 0, 9), XF_SOP_UNLINK);
	ROUTED(xf_storage_prep_close(st, cfd, 10), XF_SOP_CLOSE);
#undef ROUTED
	/* The auto route puts both kinds in this batch. */
	CU_ASSERT(fifo > 0 && sq > 0);
	CU_ASSERT_EQUAL(xf_storage_submit(st), (int)n);
	while (got < n) {
		int k = xf_storage_wait(st, c + got, 1, n - got);

		CU_ASSERT_FATAL(k > 0);
		got += (unsigned int)k;
	}
	for (unsigned int i = 0; i < n; i++) {
		switch (c[i].tag) {
		case 1:
			CU_ASSERT(c[i].res >= 0);
			close(c[i].res);
			break;
		case 2:
		case 3:
			CU_ASSERT_EQUAL(c[i].res, c[i].tag == 2 ? (int32_t)BLK : 4);
			break;
		default:
			CU_ASSERT_EQUAL(c[i].res, 0);
		}
	}
	CU_ASSERT_EQUAL(memcmp(rbuf, "abcd", 4), 0);
	CU_ASSERT_EQUAL(sx.stx_size, 4u);
	CU_ASSERT_EQUAL(fstat(fd, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_size, (off_t)BLK);
	CU_ASSERT_EQUAL(fcntl(cfd, F_GETFD), -1); /* closed */
	CU_ASSERT_EQUAL(fstatat(vol_fd, "r2", &sb, 0), 0);
	CU_ASSERT_EQUAL(fstatat(vol_fd, "u", &sb, 0), -1);
	CU_ASSERT_EQUAL(fstatat(vol_fd, "l", &sb, AT_SYMLINK_NOFOLLOW), 0);
	CU_ASSERT(S_ISLNK(sb.st_mode));
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);
	close(fd);
	close(rfd);
	for (unsigned int i = 0; i < 5; i++) {
		unlinkat(vol_fd, (const char *[]){ "a", "f", "r", "r2", "l" }[i], 0);
	}
	unlinkat(vol_fd, "d", AT_REMOVEDIR);
	xf_storage_destroy(st);
}

/*
 * A chain keeps the route of its first operation (the same route): a rename (inline)
 * chained to a read (the ring) goes on the ring behind it, an fsync (the ring) chained
 * to a rename (inline) runs inline after it; the next unchained operation takes its own
 * route. (test_chain_waits, run on this route too, shows the ring's chain holds the
 * rename.)
 */
void
test_route_chain(void)
{
	struct xf_storage *st = new_storage(32);
	struct xf_storage_cqe c[8];
	struct stat sb;
	unsigned int fifo = 0, sq = 0;
	char byte;
	int fd = openat(vol_fd, "c1", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CU_ASSERT_FATAL(st != NULL && fd >= 0);
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, "z", 1, 0), 1);
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, &byte, 1, 0, 1), 0);
	CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), 0);
	CU_ASSERT_EQUAL(xf_storage_chain(st), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, -1, "c1", -1, "c2", 0, 2), 0);
	CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), 0); /* behind the read, on the ring */
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, -1, "missing", -1, "m", 0, 3), 0);
	CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), 1); /* unchained: its own route */
	CU_ASSERT_EQUAL(xf_storage_chain(st), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_fsync(st, fd, false, 4), 0);
	CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), 1); /* behind the rename, inline */
	CU_ASSERT_EQUAL(xf_storage_prep_fsync(st, fd, false, 5), 0);
	CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), 0);
	CU_ASSERT_EQUAL(xf_storage_wait(st, c, 5, 8), 5);
	for (unsigned int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(c[i].res, c[i].tag == 1 ? 1 : c[i].tag == 3 ? -ENOENT : 0);
	}
	CU_ASSERT_EQUAL(fstatat(vol_fd, "c2", &sb, 0), 0);
	/* A submit ends any chain. */
	CU_ASSERT_EQUAL(xf_storage_chain(st), -EINVAL);
	close(fd);
	unlinkat(vol_fd, "c2", 0);
	xf_storage_destroy(st);
}

/*
 * Copies without user memory (xf_storage_clone.c), on whatever file system the test
 * directory is: the probe leaves nothing behind and names a mode that works; the count
 * of pages not written back answers (or says the kernel lacks cachestat);
 * copy_file_range copies unaligned ranges byte for byte and stops at the source's end;
 * a clone of an unaligned range is refused, never half done; where the probe found
 * cloning, an aligned clone holds the source's bytes. (XFS, where it clones, is the
 * e2e test's: tests/e2e/delta.)
 */
void
test_clone_and_copy_range(void)
{
	enum xf_storage_clone mode;
	uint32_t blk = 0;
	size_t len = 256u * 1024u;
	uint8_t *a = malloc(len), *b = malloc(len);
	int src, dst;

	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_EQUAL_FATAL(xf_storage_clone_probe(vol_fd, &mode, &blk), 0);
	CU_ASSERT(blk >= 512 && (blk & (blk - 1)) == 0);
	CU_ASSERT(faccessat(vol_fd, ".clone-probe-src", F_OK, 0) != 0);
	CU_ASSERT(faccessat(vol_fd, ".clone-probe-dst", F_OK, 0) != 0);
	printf("clone probe: %s, block %u\n", xf_storage_clone_str(mode), blk);
	for (size_t i = 0; i < len; i++) {
		a[i] = (uint8_t)(i * 2654435761u >> 13);
	}
	src = openat(vol_fd, "clone-src", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dst = openat(vol_fd, "clone-dst", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(src >= 0 && dst >= 0);
	CU_ASSERT_EQUAL_FATAL(pwrite(src, a, len, 0), (ssize_t)len);
	if (mode != XF_STORAGE_CLONE_NONE) {
		CU_ASSERT_EQUAL(xf_storage_copy_range(src, 1001, dst, 77, 5000), 5000);
		CU_ASSERT_EQUAL(pread(dst, b, 5000, 77), 5000);
		CU_ASSERT(memcmp(b, a + 1001, 5000) == 0);
		/* Past the source's end: what there is. */
		CU_ASSERT_EQUAL(xf_storage_copy_range(src, len - 10, dst, 0, 100), 10);
	}
	CU_ASSERT(xf_storage_clone(src, 1, dst, 1, blk) < 0);
	if (mode == XF_STORAGE_CLONE_REFLINK) {
		CU_ASSERT_EQUAL(xf_storage_clone(src, 2 * blk, dst, 4 * blk, 8 * blk), 0);
		CU_ASSERT_EQUAL(pread(dst, b, 8 * blk, 4 * blk), 8 * blk);
		CU_ASSERT(memcmp(b, a + 2 * blk, 8 * blk) == 0);
	}
	CU_ASSERT(xf_storage_copy_range(-1, 0, dst, 0, 10) < 0);
	{
		/* cachestat(2): from Linux 6.5; a bad fd is refused as such. */
		uint64_t pages = 0;
		int rc = xf_storage_unwritten_pages(src, &pages);

		CU_ASSERT(rc == 0 || rc == -ENOSYS);
		if (rc == 0) {
			CU_ASSERT(pages <= len / 4096 + 1);
			CU_ASSERT_EQUAL(xf_storage_unwritten_pages(-1, &pages), -EBADF);
		}
	}
	close(src);
	close(dst);
	unlinkat(vol_fd, "clone-src", 0);
	unlinkat(vol_fd, "clone-dst", 0);
	free(a);
	free(b);
}

/* Open fds of this process. */
static int
open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		n += fcntl(fd, F_GETFD) >= 0;
	}
	return n;
}

/*
 * sync_file_range (XF_SOP_SYNC_RANGE) never runs in the caller's thread unless a route
 * puts it there: an inline context with no ring does not run it (-EOPNOTSUPP); on the
 * io_uring back end, and on the inline one once given a ring for it alone, it is queued
 * on the ring and completes 0 for a file with dirty pages, whose fd the caller closed
 * right after prep. The duplicate of the fd is closed by the reap, and a failed
 * duplicate (fd -1) completes with -EBADF and closes nothing.
 */
void
test_sync_range(void)
{
	static char buf[64 * 1024];
	struct xf_storage *st = new_storage(8);
	bool routed_inline = g_io == XF_STORAGE_IO_URING && ((g_route >> XF_SOP_SYNC_RANGE) & 1u);
	unsigned int fifo = 0, sq = 0;
	struct xf_storage_cqe c;
	int fds0;
	int fd;

	CU_ASSERT_FATAL(st != NULL);
	if (g_io == XF_STORAGE_IO_INLINE) {
		/* No ring yet: not run, not inline either. */
		CU_ASSERT(!xf_storage_sync_range_ok(st));
		fds0 = open_fds();
		CU_ASSERT_EQUAL(
		        xf_storage_prep_sync_range(st, vol_fd, 0, 0, SYNC_FILE_RANGE_WRITE, 8), 0);
		c = one(st);
		CU_ASSERT_EQUAL(c.op, XF_SOP_SYNC_RANGE);
		CU_ASSERT_EQUAL(c.res, -EOPNOTSUPP);
		CU_ASSERT_EQUAL(open_fds(), fds0);
	}
	if (!g_uring) {
		CU_ASSERT(xf_storage_sync_range_ring(st) < 0); /* and it stays skipped */
		CU_ASSERT(!xf_storage_sync_range_ok(st));
		xf_storage_destroy(st);
		return;
	}
	CU_ASSERT_EQUAL(xf_storage_sync_range_ring(st), 0);
	CU_ASSERT_EQUAL(xf_storage_sync_range_ok(st), !routed_inline);
	CU_ASSERT_EQUAL((xf_storage_route(st) >> XF_SOP_SYNC_RANGE) & 1u,
	                xf_storage_sync_range_ok(st) ? 0u : 1u);
	memset(buf, 'd', sizeof(buf));
	fd = openat(vol_fd, "sfr", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	fds0 = open_fds();
	CU_ASSERT_EQUAL(xf_storage_prep_sync_range(st, fd, 0, 0, SYNC_FILE_RANGE_WRITE, 9), 0);
	if (xf_storage_sync_range_ok(st)) {
		CU_ASSERT_EQUAL(went_inline(st, &fifo, &sq), 0); /* on the ring, not the fifo */
		CU_ASSERT_EQUAL(open_fds(), fds0 + 1);           /* its own duplicate */
	}
	close(fd); /* the caller's: the operation keeps its duplicate */
	c = one(st);
	CU_ASSERT_EQUAL(c.tag, 9u);
	CU_ASSERT_EQUAL(c.op, XF_SOP_SYNC_RANGE);
	CU_ASSERT_EQUAL(c.res, 0);
	CU_ASSERT_EQUAL(open_fds(), fds0 - 1); /* the duplicate closed at reap */
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);

	fds0 = open_fds();
	CU_ASSERT_EQUAL(xf_storage_prep_sync_range(st, -1, 0, 0, SYNC_FILE_RANGE_WRITE, 10), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_SYNC_RANGE);
	CU_ASSERT_EQUAL(c.res, -EBADF);
	CU_ASSERT_EQUAL(open_fds(), fds0);
	xf_storage_destroy(st);
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "sfr", 0), 0);
}
