/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_storage over real files in a temporary directory, on each back end (io_uring and
 * inline): batched writes and reads, fsync, statx, rename, mkdir, symlink, unlink, close,
 * confinement beneath the volume root, error reporting, the fault hook, queue-full
 * back-pressure and in-flight accounting. Where io_uring is unavailable only the inline
 * cases run, and the program exits 77 after they pass.
 *
 * Over 1,000 lines: one program for the one driver, so that each case runs on both back
 * ends from the same table (tests[]); the cases for one back end only, and for the choice
 * between them, are in test_storage_backends.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"
#include "xf_test_tree.h"

#include "xf_storage.h"
#include "test_storage.h"

#define NBLK 256u

static char base_dir[PATH_MAX / 2]; /* holds vol/ and outside/ side by side */
char vol_dir[PATH_MAX];
static char out_dir[PATH_MAX];
int vol_fd = -1;
/* The back end every test of the current suite runs on (main() runs the suite on each). */
enum xf_storage_io g_io = XF_STORAGE_IO_URING;
uint32_t g_route = 0;
bool g_uring = true; /* false: this kernel refuses io_uring */

static int
suite_init(void)
{
	snprintf(base_dir, sizeof(base_dir), "%s/xf-storage-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(base_dir) == NULL) {
		return -1;
	}
	snprintf(vol_dir, sizeof(vol_dir), "%s/vol", base_dir);
	snprintf(out_dir, sizeof(out_dir), "%s/outside", base_dir);
	if (mkdir(vol_dir, 0755) < 0 || mkdir(out_dir, 0755) < 0) {
		return -1;
	}
	vol_fd = open(vol_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return vol_fd < 0 ? -1 : 0;
}

static int
suite_clean(void)
{
	close(vol_fd);
	return xf_test_rm_tree(base_dir);
}

static unsigned int
dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL) {
		return UINT_MAX;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static unsigned int
open_fd_count(void)
{
	return dir_entries("/proc/self/fd");
}

/* The end of a test that leaves nothing behind: its root closed, the context destroyed
 * and the volume empty again. */
static void
end_empty(struct xf_storage *st, int root)
{
	CU_ASSERT_EQUAL(sclose(st, root), 0);
	xf_storage_destroy(st);
	CU_ASSERT_EQUAL(dir_entries(vol_dir), 0u);
}

static void
test_create_args(void)
{
	struct xf_storage *st;
	int file_fd, flags;
	unsigned int fds = open_fd_count();

	errno = 0;
	CU_ASSERT_PTR_NULL(xf_storage_create(vol_fd, 7, XF_STORAGE_IO_AUTO));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(xf_storage_create(vol_fd, 12, XF_STORAGE_IO_AUTO));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(xf_storage_create(vol_fd, 8192, XF_STORAGE_IO_AUTO));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(xf_storage_create(-1, 8, XF_STORAGE_IO_AUTO));
	CU_ASSERT_EQUAL(errno, EBADF);
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_storage_create(vol_fd, 8, (enum xf_storage_io)3));
	CU_ASSERT_EQUAL(errno, EINVAL);
	file_fd = openat(vol_fd, "plain", O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(file_fd >= 0);
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_storage_create(file_fd, 8, XF_STORAGE_IO_AUTO)); /* not a directory */
	CU_ASSERT_EQUAL(errno, EINVAL);
	close(file_fd);
	unlinkat(vol_fd, "plain", 0);
	CU_ASSERT_EQUAL(open_fd_count(), fds); /* failures leak nothing */

	st = new_storage(8);
	CU_ASSERT_FATAL(st != NULL);
	/* The root is a duplicate, close-on-exec, of the same directory. */
	CU_ASSERT_NOT_EQUAL(xf_storage_root_fd(st), vol_fd);
	flags = fcntl(xf_storage_root_fd(st), F_GETFD);
	CU_ASSERT(flags >= 0 && (flags & FD_CLOEXEC) != 0);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);
	xf_storage_destroy(st);
	xf_storage_destroy(NULL);
	CU_ASSERT_EQUAL(open_fd_count(), fds);
}

static void
test_op_names(void)
{
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_OPEN), "open");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_READ), "read");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_WRITE), "write");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_FSYNC), "fsync");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_STATX), "statx");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_RENAME), "rename");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_MKDIR), "mkdir");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_SYMLINK), "symlink");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_UNLINK), "unlink");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_CLOSE), "close");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_LINK), "link");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str(XF_SOP_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str((enum xf_storage_op)0), "unknown");
}

static void
fill_block(uint8_t *b, unsigned int i)
{
	for (unsigned int k = 0; k < BLK; k++) {
		b[k] = (uint8_t)(i * 31 + k * 7 + (k >> 8));
	}
}

/* Reap exactly n completions (waiting as needed) into out. */
static void
collect(struct xf_storage *st, struct xf_storage_cqe *out, unsigned int n)
{
	unsigned int got = 0;

	while (got < n) {
		int r = xf_storage_wait(st, out + got, 1, n - got);

		CU_ASSERT_FATAL(r > 0);
		got += (unsigned int)r;
	}
}

static void
test_batch_write_read(void)
{
	static uint8_t wbuf[NBLK][BLK], rbuf[NBLK][BLK];
	static struct xf_storage_cqe cq[NBLK];
	uint8_t seen[NBLK];
	struct xf_storage *st = new_storage(NBLK);
	struct xf_storage_cqe c;
	struct stat sb;
	int fd;

	CU_ASSERT_FATAL(st != NULL);
	fd = sopen(st, -1, "blocks", O_CREAT | O_EXCL | O_RDWR, 0640);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0); /* O_CLOEXEC always added */

	/* 256 writes, out of offset order, in one submit. */
	for (unsigned int i = 0; i < NBLK; i++) {
		unsigned int b = (i * 97) % NBLK;

		fill_block(wbuf[b], b);
		CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, wbuf[b], BLK, (uint64_t)b * BLK, b),
		                0);
	}
	CU_ASSERT_EQUAL(xf_storage_inflight(st), NBLK);
	CU_ASSERT_EQUAL(xf_storage_submit(st), (int)NBLK);
	CU_ASSERT_EQUAL(xf_storage_submit(st), 0); /* nothing left queued */
	collect(st, cq, NBLK);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < NBLK; i++) {
		CU_ASSERT_EQUAL(cq[i].op, XF_SOP_WRITE);
		CU_ASSERT_EQUAL(cq[i].res, (int32_t)BLK);
		CU_ASSERT_FATAL(cq[i].tag < NBLK);
		seen[cq[i].tag]++;
	}
	for (unsigned int i = 0; i < NBLK; i++) {
		CU_ASSERT_EQUAL(seen[i], 1);
	}
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);

	CU_ASSERT_EQUAL(xf_storage_prep_fsync(st, fd, true, 1000), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_FSYNC);
	CU_ASSERT_EQUAL(c.tag, 1000u);
	CU_ASSERT_EQUAL(c.res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_fsync(st, fd, false, 1001), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(fstat(fd, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_size, (off_t)NBLK * BLK);

	/* Read everything back in one batch. */
	memset(rbuf, 0, sizeof(rbuf));
	for (unsigned int b = 0; b < NBLK; b++) {
		CU_ASSERT_EQUAL(
		        xf_storage_prep_read(st, fd, rbuf[b], BLK, (uint64_t)b * BLK, 5000 + b), 0);
	}
	CU_ASSERT_EQUAL(xf_storage_submit(st), (int)NBLK);
	collect(st, cq, NBLK);
	for (unsigned int i = 0; i < NBLK; i++) {
		CU_ASSERT_EQUAL(cq[i].op, XF_SOP_READ);
		CU_ASSERT_EQUAL(cq[i].res, (int32_t)BLK);
		CU_ASSERT(cq[i].tag >= 5000 && cq[i].tag < 5000 + NBLK);
	}
	CU_ASSERT_EQUAL(memcmp(rbuf, wbuf, sizeof(wbuf)), 0);
	/* A read past the end returns 0 bytes, not an error. */
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, rbuf[0], BLK, (uint64_t)NBLK * BLK, 9), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);

	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	CU_ASSERT_EQUAL(sclose(st, fd), -EBADF); /* really closed */
	xf_storage_destroy(st);
	unlinkat(vol_fd, "blocks", 0);
}

static void
test_statx_rename(void)
{
	static const char a_new[] = "new contents";
	static const char a_old[] = "old";
	struct xf_storage *st = new_storage(16);
	struct statx sx_tmp, sx;
	struct xf_storage_cqe c;
	char buf[64];
	struct stat sb;
	int root, fd;

	CU_ASSERT_FATAL(st != NULL);
	root = sopen(st, -1, ".", O_PATH | O_DIRECTORY, 0);
	CU_ASSERT_FATAL(root >= 0);
	CU_ASSERT_EQUAL(sclose(st, root), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, ".", 1), 0);
	root = one(st).res;
	CU_ASSERT_FATAL(root >= 0);
	CU_ASSERT_EQUAL(fcntl(root, F_GETFL) & O_PATH, O_PATH);

	/* a = "old", a.tmp = "new contents", then rename a.tmp over a. */
	fd = sopen(st, -1, "a", O_CREAT | O_TRUNC | O_WRONLY, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, a_old, 3, 0, 1), 0);
	CU_ASSERT_EQUAL(one(st).res, 3);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	fd = sopen(st, -1, "a.tmp", O_CREAT | O_TRUNC | O_WRONLY, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, a_new, sizeof(a_new), 0, 2), 0);
	CU_ASSERT_EQUAL(one(st).res, (int)sizeof(a_new));

	memset(&sx_tmp, 0, sizeof(sx_tmp));
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "a.tmp", &sx_tmp, 3), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_STATX);
	CU_ASSERT_EQUAL(c.tag, 3u);
	CU_ASSERT_EQUAL(c.res, 0);
	CU_ASSERT_EQUAL(fstat(fd, &sb), 0);
	CU_ASSERT((sx_tmp.stx_mask & (STATX_SIZE | STATX_INO | STATX_MODE)) ==
	          (STATX_SIZE | STATX_INO | STATX_MODE));
	CU_ASSERT_EQUAL(sx_tmp.stx_size, sizeof(a_new));
	CU_ASSERT_EQUAL(sx_tmp.stx_ino, sb.st_ino);
	CU_ASSERT(S_ISREG(sx_tmp.stx_mode));
	CU_ASSERT_EQUAL(sx_tmp.stx_mode & 07777, 0600);
	CU_ASSERT_EQUAL(sx_tmp.stx_nlink, 1u);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);

	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, root, "a.tmp", root, "a", 0, 4), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_RENAME);
	CU_ASSERT_EQUAL(c.tag, 4u);
	CU_ASSERT_EQUAL(c.res, 0);
	/* "a" is now the former a.tmp (same inode, new contents); a.tmp is gone. */
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "a", &sx, 5), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(sx.stx_ino, sx_tmp.stx_ino);
	CU_ASSERT_EQUAL(sx.stx_size, sizeof(a_new));
	fd = sopen(st, -1, "a", O_RDONLY, 0);
	CU_ASSERT_FATAL(fd >= 0);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, buf, sizeof(buf), 0, 6), 0);
	CU_ASSERT_EQUAL(one(st).res, (int)sizeof(a_new));
	CU_ASSERT_STRING_EQUAL(buf, a_new);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "a.tmp", &sx, 7), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.res, -ENOENT);
	CU_ASSERT_EQUAL(c.op, XF_SOP_STATX);

	/* RENAME_NOREPLACE (a staged directory put in place): a taken name stays. */
	fd = sopen(st, -1, "b", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, root, "b", root, "a", RENAME_NOREPLACE, 9), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_RENAME);
	CU_ASSERT_EQUAL(c.res, -EEXIST);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "a", &sx, 10), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(sx.stx_ino, sx_tmp.stx_ino);
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, root, "b", root, "c", RENAME_NOREPLACE, 11), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "c", 0, 12), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);

	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "a", 0, 8), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	end_empty(st, root);
}

/*
 * An unnamed file (O_TMPFILE) gets its name by link: it appears whole under the name,
 * a taken name is never replaced (EEXIST), a name with a "/" is refused (EINVAL), and
 * closing an unnamed file that was never linked leaves nothing behind.
 */
static void
test_link_unnamed(void)
{
	static const char data[] = "all of it, at once";
	struct xf_storage *st = new_storage(16);
	struct xf_storage_cqe c;
	char buf[64] = { 0 };
	int root, fd, fd2, rfd;

	CU_ASSERT_FATAL(st != NULL);
	root = sopen(st, -1, ".", O_RDONLY | O_DIRECTORY, 0);
	CU_ASSERT_FATAL(root >= 0);
	fd = sopen(st, -1, ".", O_RDWR | O_TMPFILE, 0640);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, data, sizeof(data), 0, 1), 0);
	CU_ASSERT_EQUAL(one(st).res, (int)sizeof(data));
	CU_ASSERT_EQUAL(dir_entries(vol_dir), 0u);
	CU_ASSERT_EQUAL(xf_storage_prep_link(st, fd, root, "named", 2), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_LINK);
	CU_ASSERT_EQUAL(c.tag, 2u);
	CU_ASSERT_EQUAL(c.res, 0);
	rfd = openat(root, "named", O_RDONLY);
	CU_ASSERT_FATAL(rfd >= 0);
	CU_ASSERT_EQUAL(read(rfd, buf, sizeof(buf)), (ssize_t)sizeof(data));
	CU_ASSERT_STRING_EQUAL(buf, data);
	close(rfd);
	/* A second unnamed file: the taken name stays as it is, a bad name is refused. */
	fd2 = sopen(st, -1, ".", O_RDWR | O_TMPFILE, 0600);
	CU_ASSERT_FATAL(fd2 >= 0);
	CU_ASSERT_EQUAL(xf_storage_prep_link(st, fd2, root, "named", 3), 0);
	CU_ASSERT_EQUAL(one(st).res, -EEXIST);
	CU_ASSERT_EQUAL(xf_storage_prep_link(st, fd2, root, "a/b", 4), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_LINK);
	CU_ASSERT_EQUAL(c.res, -EINVAL);
	CU_ASSERT_EQUAL(sclose(st, fd2), 0);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	CU_ASSERT_EQUAL(dir_entries(vol_dir), 1u);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "named", 0, 5), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	end_empty(st, root);
}

static void
test_dirs_links(void)
{
	static const char payload[] = "inside";
	struct xf_storage *st = new_storage(16);
	struct xf_storage_cqe c;
	struct statx sx;
	char buf[32];
	int root, sub, fd;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, ".", 1), 0);
	root = one(st).res;
	CU_ASSERT_FATAL(root >= 0);

	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, root, "sub", 0750, 2), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_MKDIR);
	CU_ASSERT_EQUAL(c.res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, root, "sub", 0750, 3), 0);
	CU_ASSERT_EQUAL(one(st).res, -EEXIST);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "sub", &sx, 4), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT(S_ISDIR(sx.stx_mode));

	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, "sub", 5), 0);
	sub = one(st).res;
	CU_ASSERT_FATAL(sub >= 0);
	/* Open relative to a directory fd. */
	fd = sopen(st, sub, "f", O_CREAT | O_WRONLY, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, payload, sizeof(payload), 0, 6), 0);
	CU_ASSERT_EQUAL(one(st).res, (int)sizeof(payload));
	CU_ASSERT_EQUAL(sclose(st, fd), 0);

	/* A symlink inside the volume pointing inside it can be opened through. */
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, "sub/f", root, "link", 7), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_SYMLINK);
	CU_ASSERT_EQUAL(c.res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "link", &sx, 8), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT(S_ISLNK(sx.stx_mode)); /* statx does not follow the final link */
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, "../sub", sub, "up", 9), 0);
	CU_ASSERT_EQUAL(one(st).res, 0); /* sub/up -> ../sub: stays inside */
	fd = sopen(st, -1, "link", O_RDONLY, 0);
	CU_ASSERT_FATAL(fd >= 0);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, buf, sizeof(buf), 0, 10), 0);
	CU_ASSERT_EQUAL(one(st).res, (int)sizeof(payload));
	CU_ASSERT_STRING_EQUAL(buf, payload);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	fd = sopen(st, -1, "sub/up/f", O_RDONLY, 0);
	CU_ASSERT(fd >= 0);
	if (fd >= 0) {
		CU_ASSERT_EQUAL(sclose(st, fd), 0);
	}

	/* unlink: a non-empty directory refuses, files and links go, then the directory. */
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "sub", AT_REMOVEDIR, 11), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_UNLINK);
	CU_ASSERT_EQUAL(c.res, -ENOTEMPTY);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "link", 0, 12), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, sub, "f", 0, 13), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, sub, "up", 0, 14), 0);
	CU_ASSERT_EQUAL(xf_storage_submit(st), 3);
	for (int i = 0; i < 3; i++) {
		c = one(st);
		CU_ASSERT_EQUAL(c.res, 0);
		CU_ASSERT_EQUAL(c.op, XF_SOP_UNLINK);
	}
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "sub", AT_REMOVEDIR, 15), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "sub", AT_REMOVEDIR, 16), 0);
	CU_ASSERT_EQUAL(one(st).res, -ENOENT);
	CU_ASSERT_EQUAL(sclose(st, sub), 0);
	end_empty(st, root);
}

/*
 * The names of the *at operations are the slot's own, copied at prep: a caller's buffer
 * that holds another name by the submit (a stack frame reused) changes nothing, and in
 * particular cannot name a path outside the root after check_name() passed it.
 */
static void
test_names_copied(void)
{
	struct xf_storage *st = new_storage(16);
	struct statx sx;
	char a[NAME_MAX + 2], b[NAME_MAX + 2];
	int root;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, ".", 1), 0);
	root = one(st).res;
	CU_ASSERT_FATAL(root >= 0);

	strcpy(a, "made");
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, root, a, 0700, 2), 0);
	strcpy(a, "../outside/made");
	strcpy(b, "link");
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, "made", root, b, 3), 0);
	strcpy(b, "../outside/link");
	CU_ASSERT_EQUAL(xf_storage_submit(st), 2);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(dir_entries(out_dir), 0u);
	CU_ASSERT_EQUAL(dir_entries(vol_dir), 2u);

	strcpy(a, "link");
	strcpy(b, "link2");
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, root, a, root, b, 0, 4), 0);
	strcpy(a, "made");
	strcpy(b, "../outside/x");
	CU_ASSERT_EQUAL(one(st).res, 0);
	strcpy(a, "link2");
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, a, &sx, 5), 0);
	strcpy(a, "made");
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT(S_ISLNK(sx.stx_mode));
	strcpy(a, "link2");
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, a, 0, 6), 0);
	strcpy(a, "made");
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(dir_entries(out_dir), 0u);

	/* A name longer than NAME_MAX fails at prep, as the kernel would fail it. */
	memset(a, 'n', NAME_MAX + 1);
	a[NAME_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, root, a, 0700, 7), 0);
	CU_ASSERT_EQUAL(one(st).res, -ENAMETOOLONG);
	a[NAME_MAX] = '\0'; /* NAME_MAX itself is a name */
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, root, a, 0700, 8), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, a, AT_REMOVEDIR, 9), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "made", AT_REMOVEDIR, 10), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	end_empty(st, root);
}

static void
test_confinement(void)
{
	struct xf_storage *st = new_storage(16);
	char target[PATH_MAX + 8];
	struct xf_storage_cqe c;
	struct statx sx;
	int root;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, ".", 1), 0);
	root = one(st).res;
	CU_ASSERT_FATAL(root >= 0);

	CU_ASSERT_EQUAL(sopen(st, -1, "../outside/x", O_CREAT | O_WRONLY, 0644), -EXDEV);
	CU_ASSERT_EQUAL(sopen(st, -1, "../x", O_CREAT | O_WRONLY, 0644), -EXDEV);
	CU_ASSERT_EQUAL(sopen(st, -1, "/etc/passwd", O_RDONLY, 0), -EXDEV);
	CU_ASSERT_EQUAL(sopen(st, -1, "/proc/self/root/etc/passwd", O_RDONLY, 0), -EXDEV);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, "..", 2), 0);
	CU_ASSERT_EQUAL(one(st).res, -EXDEV);

	/* evil -> <abs>/outside, evil2 -> ../outside, dangle -> <abs>/outside/new. */
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, out_dir, root, "evil", 3), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, "../outside", root, "evil2", 4), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	snprintf(target, sizeof(target), "%s/new", out_dir);
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, target, root, "dangle", 5), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(sopen(st, -1, "evil/file", O_CREAT | O_WRONLY, 0644), -EXDEV);
	CU_ASSERT_EQUAL(sopen(st, -1, "evil2/file", O_CREAT | O_WRONLY, 0644), -EXDEV);
	CU_ASSERT_EQUAL(sopen(st, -1, "dangle", O_CREAT | O_WRONLY, 0644), -EXDEV);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, "evil", 6), 0);
	CU_ASSERT_EQUAL(one(st).res, -EXDEV);

	/* The *at operations take one component: climbing out is refused the same way. */
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, root, "../outside/d", 0755, 7), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_MKDIR);
	CU_ASSERT_EQUAL(c.tag, 7u);
	CU_ASSERT_EQUAL(c.res, -EXDEV);
	CU_ASSERT_EQUAL(xf_storage_prep_symlink(st, "x", root, "/tmp/xf-evil-link", 8), 0);
	CU_ASSERT_EQUAL(one(st).res, -EXDEV);
	CU_ASSERT_EQUAL(xf_storage_prep_rename(st, root, "evil", root, "../evil", 0, 9), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_RENAME);
	CU_ASSERT_EQUAL(c.res, -EXDEV);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "evil/file", &sx, 10), 0);
	CU_ASSERT_EQUAL(one(st).res, -EINVAL); /* through a link: not one component */
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, root, "..", &sx, 11), 0);
	CU_ASSERT_EQUAL(one(st).res, -EXDEV);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "", 0, 12), 0);
	CU_ASSERT_EQUAL(one(st).res, -EINVAL);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "evil/..", AT_REMOVEDIR, 13), 0);
	CU_ASSERT_EQUAL(one(st).res, -EXDEV);

	/* A negative (AT_FDCWD) directory means the root, never the working directory. */
	CU_ASSERT_EQUAL(xf_storage_prep_mkdir(st, AT_FDCWD, "cwd-is-root", 0755, 14), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, -1, "cwd-is-root", &sx, 15), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	CU_ASSERT(S_ISDIR(sx.stx_mode));
	/* A symlink to a directory inside: followed by open_dir, never by open_dir_nolinks
	 * (the quick check's lookup: what the link names is not that path). */
	CU_ASSERT_EQUAL(symlinkat("cwd-is-root", vol_fd, "inner"), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir(st, "inner", 16), 0);
	c = one(st);
	CU_ASSERT(c.res >= 0);
	if (c.res >= 0) {
		CU_ASSERT_EQUAL(sclose(st, c.res), 0);
	}
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir_nolinks(st, "inner", 17), 0);
	CU_ASSERT_EQUAL(one(st).res, -ELOOP);
	CU_ASSERT_EQUAL(xf_storage_prep_open_dir_nolinks(st, "cwd-is-root", 18), 0);
	c = one(st);
	CU_ASSERT(c.res >= 0);
	if (c.res >= 0) {
		CU_ASSERT_EQUAL(sclose(st, c.res), 0);
	}
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "inner", 0), 0);
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "cwd-is-root", AT_REMOVEDIR), 0);

	/* Nothing was created (or removed) outside the volume. */
	CU_ASSERT_EQUAL(dir_entries(out_dir), 0u);
	CU_ASSERT_EQUAL(dir_entries(base_dir), 2u); /* vol and outside only */
	CU_ASSERT_EQUAL(access("/tmp/xf-evil-link", F_OK), -1);

	for (unsigned int i = 0; i < 3; i++) {
		static const char *const names[] = { "evil", "evil2", "dangle" };

		CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, names[i], 0, 20 + i), 0);
		CU_ASSERT_EQUAL(one(st).res, 0);
	}
	CU_ASSERT_EQUAL(sclose(st, root), 0);
	xf_storage_destroy(st);
}

static void
test_errors(void)
{
	struct xf_storage *st = new_storage(8);
	struct xf_storage_cqe c;
	char buf[8];

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(xf_storage_prep_open(st, -1, "missing", O_RDONLY, 0, 0xABCDEF0123ull), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.res, -ENOENT);
	CU_ASSERT_EQUAL(c.op, XF_SOP_OPEN);
	CU_ASSERT_EQUAL(c.tag, 0xABCDEF0123ull);
	CU_ASSERT_STRING_EQUAL(xf_storage_op_str((enum xf_storage_op)c.op), "open");

	CU_ASSERT_EQUAL(xf_storage_prep_read(st, 9999, buf, sizeof(buf), 0, 77), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.res, -EBADF);
	CU_ASSERT_EQUAL(c.op, XF_SOP_READ);
	CU_ASSERT_EQUAL(c.tag, 77u);
	/* O_EXCL on an existing file. */
	CU_ASSERT_EQUAL(sopen(st, -1, ".", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	xf_storage_destroy(st);
}

struct fault_state {
	unsigned int writes; /* write completions seen by the hook */
	unsigned int calls;
};

static int32_t
fault_hook(void *arg, enum xf_storage_op op, uint64_t tag, int32_t res)
{
	struct fault_state *f = arg;

	(void)tag;
	f->calls++;
	if (op == XF_SOP_WRITE && ++f->writes == 3) {
		return -ENOSPC;
	}
	if (op == XF_SOP_READ) {
		return -EIO;
	}
	return res;
}

static void
test_fault_hook(void)
{
	static const char data[BLK] = { 1 };
	struct xf_storage *st = new_storage(8);
	struct fault_state f = { 0 };
	struct xf_storage_cqe c;
	char buf[BLK];
	int fd;

	CU_ASSERT_FATAL(st != NULL);
	fd = sopen(st, -1, "faulty", O_CREAT | O_RDWR, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	xf_storage_set_fault(st, fault_hook, &f);
	for (unsigned int i = 1; i <= 5; i++) {
		CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, data, BLK, (uint64_t)i * BLK, i), 0);
		c = one(st);
		CU_ASSERT_EQUAL(c.op, XF_SOP_WRITE);
		CU_ASSERT_EQUAL(c.tag, i);
		CU_ASSERT_EQUAL(c.res, i == 3 ? -ENOSPC : (int32_t)BLK);
	}
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, buf, BLK, BLK, 6), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_READ);
	CU_ASSERT_EQUAL(c.res, -EIO);
	CU_ASSERT_EQUAL(f.calls, 6u);
	/* Removed: results pass through again. */
	xf_storage_set_fault(st, NULL, NULL);
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, buf, BLK, BLK, 7), 0);
	CU_ASSERT_EQUAL(one(st).res, (int32_t)BLK);
	CU_ASSERT_EQUAL(f.calls, 6u);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	xf_storage_destroy(st);
	unlinkat(vol_fd, "faulty", 0);
}

/* An open run now: where the context opens inline it creates beneath the root or a
 * directory, the fault hook sees it (a failure it makes closes the fd), nothing is left
 * queued; where opens go to the ring, -EAGAIN and nothing done. */
struct open_now_state {
	unsigned int opens;
	uint64_t tag;
	bool fail;
};

static int32_t
open_now_hook(void *arg, enum xf_storage_op op, uint64_t tag, int32_t res)
{
	struct open_now_state *o = arg;

	o->opens += op == XF_SOP_OPEN;
	o->tag = tag;
	return o->fail ? -EDQUOT : res;
}

static void
test_open_now(void)
{
	struct xf_storage *st = new_storage(8);
	struct open_now_state o = { 0 };
	mode_t mask = umask(0);
	bool inl;
	struct stat sb;
	int fd, before;

	umask(mask);
	CU_ASSERT_FATAL(st != NULL);
	inl = (xf_storage_route(st) & (1u << XF_SOP_OPEN)) != 0;
	xf_storage_set_fault(st, open_now_hook, &o);
	fd = xf_storage_open_now(st, -1, "now", O_RDWR | O_CREAT | O_EXCL, 0640, 42);
	if (!inl) {
		CU_ASSERT_EQUAL(fd, -EAGAIN);
		CU_ASSERT_EQUAL(o.opens, 0u);
		CU_ASSERT_EQUAL(fstatat(vol_fd, "now", &sb, 0), -1);
		xf_storage_destroy(st);
		return;
	}
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(o.opens, 1u);
	CU_ASSERT_EQUAL(o.tag, 42u);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CU_ASSERT_EQUAL(fstatat(vol_fd, "now", &sb, 0), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0640 & ~mask);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);
	close(fd);
	/* Beneath the root only, as a prepped open. */
	CU_ASSERT_EQUAL(xf_storage_open_now(st, -1, "../escape", O_RDWR | O_CREAT, 0600, 1),
	                -EXDEV);
	/* Taken: O_EXCL says so. */
	CU_ASSERT_EQUAL(xf_storage_open_now(st, -1, "now", O_RDWR | O_CREAT | O_EXCL, 0600, 2),
	                -EEXIST);
	/* A failure the hook makes: no fd is left open behind it. */
	o.fail = true;
	before = dup(0);
	close(before);
	CU_ASSERT_EQUAL(xf_storage_open_now(st, -1, "now2", O_RDWR | O_CREAT | O_EXCL, 0600, 3),
	                -EDQUOT);
	fd = dup(0);
	CU_ASSERT_EQUAL(fd, before); /* the lowest free fd is the one it was before */
	close(fd);
	xf_storage_destroy(st);
	unlinkat(vol_fd, "now", 0);
	unlinkat(vol_fd, "now2", 0);
}

static void
test_busy_and_inflight(void)
{
	static char bufs[32][16];
	struct xf_storage_cqe cq[32];
	struct xf_storage *st = new_storage(8);
	unsigned int got;
	int fd;

	CU_ASSERT_FATAL(st != NULL);
	fd = sopen(st, -1, "busy", O_CREAT | O_RDWR, 0644);
	CU_ASSERT_FATAL(fd >= 0);

	/* The SQ holds 8: the 9th prep is refused until a submit frees the SQ. */
	for (unsigned int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, bufs[i], 16, 0, i), 0);
		CU_ASSERT_EQUAL(xf_storage_inflight(st), i + 1);
	}
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, bufs[8], 16, 0, 8), -EBUSY);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 8u);
	CU_ASSERT_EQUAL(xf_storage_submit(st), 8);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 8u); /* submitted is still in flight */
	/* Another SQ-full of operations fits in the CQ (2 x depth) ... */
	for (unsigned int i = 8; i < 16; i++) {
		CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, bufs[i], 16, 0, i), 0);
	}
	CU_ASSERT_EQUAL(xf_storage_submit(st), 8);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 16u);
	/* ... but no more: with the SQ empty, the unreaped completions refuse the next. */
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, bufs[16], 16, 0, 16), -EBUSY);
	CU_ASSERT_EQUAL(xf_storage_prep_close(st, fd, 16), -EBUSY);
	CU_ASSERT_EQUAL(xf_storage_prep_statx(st, -1, "..", NULL, 16), -EBUSY);

	/* Reaping frees room; reap never blocks and returns at most max. */
	got = 0;
	while (got < 16) {
		int r = xf_storage_wait(st, cq, 1, 3);

		CU_ASSERT_FATAL(r >= 1 && r <= 3);
		for (int i = 0; i < r; i++) {
			CU_ASSERT_EQUAL(cq[i].res, 0); /* empty file */
		}
		got += (unsigned int)r;
		CU_ASSERT_EQUAL(xf_storage_inflight(st), 16u - got);
	}
	CU_ASSERT_EQUAL(xf_storage_reap(st, cq, 32), 0u);
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, bufs[16], 16, 0, 16), 0);
	CU_ASSERT_EQUAL(one(st).tag, 16u);
	/* wait with min above what is in flight returns what there is instead of hanging. */
	CU_ASSERT_EQUAL(xf_storage_prep_close(st, fd, 17), 0);
	CU_ASSERT_EQUAL(xf_storage_wait(st, cq, 5, 32), 1);
	CU_ASSERT_EQUAL(cq[0].res, 0);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 0u);
	CU_ASSERT_EQUAL(xf_storage_wait(st, cq, 1, 32), 0);
	xf_storage_destroy(st);
	unlinkat(vol_fd, "busy", 0);
}

/* Destroy with operations queued and in flight: waits, and closes opened files. */
static void
test_destroy_inflight(void)
{
	static char data[8][BLK];
	unsigned int fds = open_fd_count();
	struct xf_storage *st = new_storage(16);
	struct stat sb;
	int fd;

	CU_ASSERT_FATAL(st != NULL);
	fd = sopen(st, -1, "late", O_CREAT | O_RDWR, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned int i = 0; i < 4; i++) {
		memset(data[i], 'a' + (int)i, BLK);
		CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, data[i], BLK, (uint64_t)i * BLK, i),
		                0);
	}
	CU_ASSERT_EQUAL(xf_storage_submit(st), 4);
	for (unsigned int i = 4; i < 8; i++) { /* queued, never submitted by us */
		memset(data[i], 'a' + (int)i, BLK);
		CU_ASSERT_EQUAL(xf_storage_prep_write(st, fd, data[i], BLK, (uint64_t)i * BLK, i),
		                0);
	}
	CU_ASSERT_EQUAL(xf_storage_prep_open(st, -1, "orphan", O_CREAT | O_RDWR, 0644, 99), 0);
	CU_ASSERT_EQUAL(xf_storage_inflight(st), 9u);
	xf_storage_destroy(st);
	CU_ASSERT_EQUAL(fstat(fd, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_size, 8 * (off_t)BLK); /* all eight writes happened */
	close(fd);
	CU_ASSERT_EQUAL(open_fd_count(), fds); /* root dup, ring and "orphan" fd closed */
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "orphan", 0), 0);
	unlinkat(vol_fd, "late", 0);
}

/* readv and writev: many buffers in one operation each, in file order. */
static void
test_vectored(void)
{
	struct xf_storage *st = new_storage(16);
	uint8_t src[5][1000], dst[5][1000], whole[5000];
	struct iovec wv[5], rv[5];
	struct xf_storage_cqe c;
	int fd = sopen(st, -1, "vec", O_RDWR | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned int i = 0; i < 5; i++) {
		memset(src[i], 'a' + (int)i, sizeof(src[i]));
		memset(dst[i], 0, sizeof(dst[i]));
		wv[i] = (struct iovec){ .iov_base = src[i], .iov_len = sizeof(src[i]) };
		rv[i] = (struct iovec){ .iov_base = dst[i], .iov_len = sizeof(dst[i]) };
	}
	CU_ASSERT_EQUAL(xf_storage_prep_writev(st, fd, wv, 5, 100, 1), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_WRITE);
	CU_ASSERT_EQUAL(c.res, 5000);
	CU_ASSERT_EQUAL(pread(fd, whole, sizeof(whole), 100), 5000);
	for (unsigned int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(memcmp(whole + i * 1000, src[i], 1000), 0);
	}
	/* From 1100: four full buffers, then end of file: a short total. */
	CU_ASSERT_EQUAL(xf_storage_prep_readv(st, fd, rv, 5, 1100, 2), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_READ);
	CU_ASSERT_EQUAL(c.tag, 2u);
	CU_ASSERT_EQUAL(c.res, 4000);
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(memcmp(dst[i], src[i + 1], 1000), 0);
	}
	CU_ASSERT_EQUAL(dst[4][0], 0);
	/* No buffers, or more than IOV_MAX: refused with EINVAL under its own op. */
	CU_ASSERT_EQUAL(xf_storage_prep_readv(st, fd, rv, 0, 0, 3), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_READ);
	CU_ASSERT_EQUAL(c.res, -EINVAL);
	CU_ASSERT_EQUAL(xf_storage_prep_writev(st, fd, wv, IOV_MAX + 1u, 0, 4), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_WRITE);
	CU_ASSERT_EQUAL(c.res, -EINVAL);
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	CU_ASSERT_EQUAL(unlinkat(vol_fd, "vec", 0), 0);
	xf_storage_destroy(st);
}

/*
 * A chain runs in order and survives a failure: c0 -> c1 -> ... -> c60, each rename
 * needing the one before, with a rename of a missing name (fails) in the middle, all
 * in one submission, 10 times over. Unchained, io-wq runs them on several kernel
 * threads at once and some find their source not there yet.
 */
#define CHAIN_LEN 60u

static void
test_chain(void)
{
	struct xf_storage *st = new_storage(128);
	struct xf_storage_cqe c[CHAIN_LEN + 1];
	char names[CHAIN_LEN + 1][8];
	struct stat sb;

	CU_ASSERT_EQUAL(xf_storage_chain(st), -EINVAL); /* nothing prepped */
	for (unsigned int i = 0; i <= CHAIN_LEN; i++) {
		snprintf(names[i], sizeof(names[i]), "c%u", i);
	}
	for (unsigned int round = 0; round < 10; round++) {
		int fd = openat(vol_fd, "c0", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		unsigned int got = 0;

		CU_ASSERT_FATAL(fd >= 0);
		close(fd);
		for (unsigned int i = 0; i < CHAIN_LEN; i++) {
			if (i == CHAIN_LEN / 2) {
				CU_ASSERT_EQUAL(xf_storage_prep_rename(st, -1, "missing", -1, "x",
				                                       0, CHAIN_LEN),
				                0);
				CU_ASSERT_EQUAL(xf_storage_chain(st), 0);
			}
			CU_ASSERT_EQUAL(
			        xf_storage_prep_rename(st, -1, names[i], -1, names[i + 1], 0, i),
			        0);
			if (i + 1 < CHAIN_LEN) {
				CU_ASSERT_EQUAL(xf_storage_chain(st), 0);
			}
		}
		while (got < CHAIN_LEN + 1) {
			int k = xf_storage_wait(st, c + got, 1, CHAIN_LEN + 1 - got);

			CU_ASSERT_FATAL(k > 0);
			got += (unsigned int)k;
		}
		for (unsigned int i = 0; i <= CHAIN_LEN; i++) {
			CU_ASSERT_EQUAL(c[i].op, XF_SOP_RENAME);
			CU_ASSERT_EQUAL(c[i].res, c[i].tag == CHAIN_LEN ? -ENOENT : 0);
		}
		CU_ASSERT_EQUAL(fstatat(vol_fd, names[CHAIN_LEN], &sb, 0), 0);
		unlinkat(vol_fd, names[CHAIN_LEN], 0);
	}
	/* A submit ends the chain: nothing to link to afterwards. */
	CU_ASSERT_EQUAL(xf_storage_chain(st), -EINVAL);
	xf_storage_destroy(st);
}

/* CAP_FOWNER in the effective set on or off (it stays permitted). */
static bool
set_fowner(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0) {
		return false;
	}
	if (on) {
		d[CAP_FOWNER / 32].effective |= 1u << (CAP_FOWNER % 32);
	} else {
		d[CAP_FOWNER / 32].effective &= ~(1u << (CAP_FOWNER % 32));
	}
	return syscall(SYS_capset, &h, d) == 0;
}

/*
 * A file opened inline to be read keeps its access time (O_NOATIME) when the process
 * holds CAP_FOWNER; opened to be written, or a directory as a path, or on the ring, it
 * does not ask. A file whose open with O_NOATIME fails EPERM (not ours, and no CAP_FOWNER
 * by then) is opened without it.
 */
static void
test_noatime(void)
{
	static const char data[] = "read me";
	struct xf_storage *st = new_storage(16);
	struct timespec ts[2] = { { .tv_sec = 1000 }, { .tv_nsec = UTIME_OMIT } };
	char buf[16];
	struct stat sb;
	int root, fd, wfd;

	CU_ASSERT_FATAL(st != NULL);
	root = sopen(st, -1, ".", O_PATH | O_DIRECTORY, 0);
	CU_ASSERT_FATAL(root >= 0);
	CU_ASSERT_EQUAL(fcntl(root, F_GETFL) & O_NOATIME, 0);
	wfd = sopen(st, root, "f", O_CREAT | O_EXCL | O_RDWR, 0644);
	CU_ASSERT_FATAL(wfd >= 0);
	CU_ASSERT_EQUAL(fcntl(wfd, F_GETFL) & O_NOATIME, 0);
	CU_ASSERT_EQUAL(write(wfd, data, sizeof(data)), (ssize_t)sizeof(data));
	/* An access time before the modification: relatime would update it on a read. */
	CU_ASSERT_EQUAL(futimens(wfd, ts), 0);
	fd = sopen(st, root, "f", O_RDONLY | O_NOFOLLOW, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_storage_prep_read(st, fd, buf, sizeof(buf), 0, 1), 0);
	CU_ASSERT_EQUAL(one(st).res, (int)sizeof(data));
	if (g_io == XF_STORAGE_IO_URING && ((g_route >> XF_SOP_OPEN) & 1u) == 0) {
		CU_ASSERT_EQUAL(fcntl(fd, F_GETFL) & O_NOATIME, 0); /* on the ring */
	} else if (xf_storage_noatime_ok()) {
		CU_ASSERT_NOT_EQUAL(fcntl(fd, F_GETFL) & O_NOATIME, 0);
		CU_ASSERT_EQUAL(fstat(fd, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_atim.tv_sec, 1000);
		CU_ASSERT_EQUAL(sclose(st, fd), 0);
		/* Someone else's file, and CAP_FOWNER gone since the context was made. */
		CU_ASSERT_EQUAL(fchown(wfd, 54321, 54321), 0);
		CU_ASSERT_FATAL(set_fowner(false));
		fd = sopen(st, root, "f", O_RDONLY | O_NOFOLLOW, 0);
		CU_ASSERT_FATAL(set_fowner(true));
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(fcntl(fd, F_GETFL) & O_NOATIME, 0);
	}
	CU_ASSERT_EQUAL(sclose(st, fd), 0);
	CU_ASSERT_EQUAL(sclose(st, wfd), 0);
	CU_ASSERT_EQUAL(xf_storage_prep_unlink(st, root, "f", 0, 2), 0);
	CU_ASSERT_EQUAL(one(st).res, 0);
	end_empty(st, root);
}

/* Tests for both back ends. */
static const struct xf_test tests[] = {
	{ "create arguments", test_create_args },
	{ "op names", test_op_names },
	{ "256 writes and reads in one batch", test_batch_write_read },
	{ "statx and rename", test_statx_rename },
	{ "an unnamed file linked to its name", test_link_unnamed },
	{ "a read leaves the access time alone", test_noatime },
	{ "readv and writev", test_vectored },
	{ "ordered chain survives a failure", test_chain },
	{ "mkdir, symlink, unlink", test_dirs_links },
	{ "names are copied at prep", test_names_copied },
	{ "confinement beneath the root", test_confinement },
	{ "errors name the operation", test_errors },
	{ "fault hook", test_fault_hook },
	{ "an open run now, where opens are inline", test_open_now },
	{ "EBUSY and in-flight counts", test_busy_and_inflight },
	{ "destroy with operations in flight", test_destroy_inflight },
	{ "auto picks inline on memory file systems", test_auto },
	{ "auto's route by file system", test_auto_route },
	{ "sync_file_range off the caller's thread", test_sync_range },
};

/* io_uring only: a pipe read blocks until written, which inline would do on this thread. */
static const struct xf_test uring_tests[] = {
	{ "a chained operation waits for the one before", test_chain_waits },
	{ "a held completion comes late, in flight meanwhile", test_hold },
};

/* io_uring with a route: the ring and the inline queue in one context. */
static const struct xf_test routed_tests[] = {
	{ "each operation goes where its route says", test_route_split },
	{ "a chain stays on the route it started on", test_route_chain },
};

static const struct xf_test inline_tests[] = {
	{ "a submit runs a bounded amount, reaps the rest", test_inline_budget },
	{ "clone and copy_file_range between files", test_clone_and_copy_range },
};

int
main(void)
{
	struct xf_storage *probe;
	int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	/* A kernel without io_uring, or with it disabled by sysctl (kernel.io_uring_disabled)
	 * or seccomp, skips the io_uring cases only: the inline back end runs anyway. */
	probe = xf_storage_create(root, 8, XF_STORAGE_IO_URING);
	if (probe == NULL && (errno == ENOSYS || errno == EPERM)) {
		printf("io_uring is unavailable here (io_uring_queue_init: %s): its cases are "
		       "not run\n",
		       strerror(errno));
		g_uring = false;
	}
	xf_storage_destroy(probe);
	close(root);

	/* Every test on each back end, forced, whatever file system TMPDIR is on. */
	if (g_uring) {
		err |= xf_test_main("storage io_uring", suite_init, suite_clean, XF_TESTS(tests));
		err |= xf_test_main("storage io_uring only", suite_init, suite_clean,
		                    XF_TESTS(uring_tests));
		/* Every case again on io_uring with reads and fsyncs on the ring and the other
		 * operations inline: both queues in one context (auto's route on ext4 keeps
		 * only fsync on the ring; this one mixes more). */
		g_route = XF_STORAGE_OPS_ALL & ~((1u << XF_SOP_READ) | (1u << XF_SOP_FSYNC));
		err |= xf_test_main("storage io_uring routed", suite_init, suite_clean,
		                    XF_TESTS(tests));
		err |= xf_test_main("storage io_uring routed, io_uring only", suite_init,
		                    suite_clean, XF_TESTS(uring_tests));
		err |= xf_test_main("storage io_uring routed only", suite_init, suite_clean,
		                    XF_TESTS(routed_tests));
		g_route = 0;
	}
	g_io = XF_STORAGE_IO_INLINE;
	err |= xf_test_main("storage inline", suite_init, suite_clean, XF_TESTS(tests));
	err |= xf_test_main("storage inline only", suite_init, suite_clean, XF_TESTS(inline_tests));
	/* The inline cases passed, the io_uring ones did not run: say skipped, not passed. */
	return err != 0 ? 1 : g_uring ? 0 : 77;
}
