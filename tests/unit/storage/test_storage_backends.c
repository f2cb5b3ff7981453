/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_storage cases for one back end only (test_storage.c runs them in their own
 * suites), and the choice of back end by file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_storage.h"
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

/* AUTO: inline exactly on tmpfs and ramfs, by the file system of the fd. */
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
		mem = sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
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
