/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copies between files of one volume that need no read into user memory: FICLONERANGE
 * (the new file's range points at the source's blocks: XFS with reflink, btrfs) and
 * copy_file_range (shares extents where it can, else copies in the kernel). Synchronous
 * system calls: io_uring has no opcode for either. Used by the worker that applies
 * a DELTA file's COPY ops (docs/DELTA.md, "Apply by clone").
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "xf_storage.h"

/* Block sizes we believe; a file system that reports another is probed at 4 KiB. */
#define CLONE_BLK_MIN 512u
#define CLONE_BLK_MAX (64u * 1024u)

const char *
xf_storage_clone_str(enum xf_storage_clone mode)
{
	switch (mode) {
	case XF_STORAGE_CLONE_REFLINK:
		return "clone";
	case XF_STORAGE_CLONE_COPY_RANGE:
		return "copy_file_range";
	case XF_STORAGE_CLONE_NONE:
		break;
	}
	return "read_write";
}

int
xf_storage_clone(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off, uint64_t len)
{
	struct file_clone_range r = {
		.src_fd = src_fd,
		.src_offset = src_off,
		.src_length = len,
		.dest_offset = dst_off,
	};

	return ioctl(dst_fd, FICLONERANGE, &r) == 0 ? 0 : -errno;
}

int64_t
xf_storage_copy_range(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		loff_t in = (loff_t)(src_off + done), out = (loff_t)(dst_off + done);
		ssize_t n = copy_file_range(src_fd, &in, dst_fd, &out, (size_t)(len - done), 0);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return done > 0 ? (int64_t)done : -errno;
		}
		if (n == 0) {
			break; /* the source ends here */
		}
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

/* cachestat(2), Linux 6.5: not in Debian 12's headers. */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct xf_cachestat_range {
	uint64_t off, len;
};

struct xf_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

int
xf_storage_unwritten_pages(int fd, uint64_t *pages)
{
	struct xf_cachestat_range r = { 0, 0 }; /* len 0: to the end of the file */
	struct xf_cachestat cs;

	if (syscall(__NR_cachestat, fd, &r, &cs, 0) != 0) {
		return -errno;
	}
	*pages = cs.nr_dirty + cs.nr_writeback;
	return 0;
}

/* The probe's two files hold the same bytes where they should. */
static bool
same_bytes(int fd, const uint8_t *want, uint32_t len, uint8_t *buf)
{
	return pread(fd, buf, len, 0) == (ssize_t)len && memcmp(buf, want, len) == 0;
}

int
xf_storage_clone_probe(int dir_fd, enum xf_storage_clone *mode, uint32_t *blk)
{
	/* Temp names never start with a dot, so these collide with no file of a push. */
	static const char src_name[] = ".clone-probe-src", dst_name[] = ".clone-probe-dst";
	struct statfs sf;
	uint8_t *want, *got;
	uint32_t bs = 4096, len;
	int src, dst, rc = 0;

	*mode = XF_STORAGE_CLONE_NONE;
	if (fstatfs(dir_fd, &sf) == 0 && sf.f_bsize >= CLONE_BLK_MIN &&
	    sf.f_bsize <= CLONE_BLK_MAX && (sf.f_bsize & (sf.f_bsize - 1)) == 0) {
		bs = (uint32_t)sf.f_bsize;
	}
	*blk = bs;
	len = 2 * bs;
	want = malloc(2 * (size_t)len);
	if (want == NULL) {
		return -ENOMEM;
	}
	got = want + len;
	for (uint32_t i = 0; i < len; i++) {
		want[i] = (uint8_t)(i * 131u + 7u);
	}
	unlinkat(dir_fd, src_name, 0);
	unlinkat(dir_fd, dst_name, 0);
	src = openat(dir_fd, src_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (src < 0) {
		rc = -errno;
		goto err_free;
	}
	dst = openat(dir_fd, dst_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (dst < 0) {
		rc = -errno;
		goto err_close_src;
	}
	if (pwrite(src, want, len, 0) != (ssize_t)len) {
		rc = -EIO;
		goto err_close_dst;
	}
	if (xf_storage_clone(src, 0, dst, 0, len) == 0 && same_bytes(dst, want, len, got)) {
		*mode = XF_STORAGE_CLONE_REFLINK;
	} else if (ftruncate(dst, 0) == 0 && xf_storage_copy_range(src, 0, dst, 0, len) == len &&
	           same_bytes(dst, want, len, got)) {
		*mode = XF_STORAGE_CLONE_COPY_RANGE;
	}
err_close_dst:
	close(dst);
	unlinkat(dir_fd, dst_name, 0);
err_close_src:
	close(src);
	unlinkat(dir_fd, src_name, 0);
err_free:
	free(want);
	return rc;
}
