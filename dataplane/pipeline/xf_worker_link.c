/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, commit executor: a hard link's commit (XF_FILE_HARDLINK, docs/PIPELINE.md,
 * "Hard links"). The RX core hands it over only once every entry before it is settled
 * and its leader (the entry's target) is a regular file the session committed, so the
 * leader is at its final path. Here: the leader's parent opened beneath the root (no
 * symlink anywhere on the way), the leader checked to be a regular file, and linked
 * under the member's temp name in the staging directory (never following a symlink);
 * the caller then renames it over the final path in the chain, as a symlink's, so a
 * different file there is replaced atomically. A name that already is the leader's inode
 * is left as it is. Short blocking calls on the commit worker (openat2, fstatat, linkat),
 * as a directory's mtime is set: hard links are rare, and the RX core has already waited
 * for everything before this one to settle.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xf_worker_priv.h"

int
link_leader_dir(int root_fd, const char *target, const char **lbase)
{
	const char *slash = strrchr(target, '/');
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char dir[XF_PATH_MAX + 1];
	int fd;

	if (slash == NULL) {
		*lbase = target;
		return root_fd;
	}
	/* The session checked the path (xf_path_validate): no empty component, < XF_PATH_MAX. */
	memcpy(dir, target, (size_t)(slash - target));
	dir[slash - target] = '\0';
	*lbase = slash + 1;
	fd = (int)syscall(SYS_openat2, root_fd, dir, &how, sizeof(how));
	return fd >= 0 ? fd : -errno;
}

uint8_t
link_make(struct xf_worker *w, int pfd, const struct xf_work *it, const char *tmp, bool *made)
{
	const char *base = base_of(it);
	const char *target = base + strlen(base) + 1;
	const char *lbase;
	struct stat lsb, sb;
	uint8_t st = XF_ST_OK;
	int lfd = link_leader_dir(w->root_fd, target, &lbase);
	uint64_t t0 = now_ns();

	*made = false;
	if (lfd < 0) {
		/* A leader beneath a symlink, or gone since it committed. */
		return lfd == -ENOENT || lfd == -ELOOP || lfd == -EXDEV ? XF_ST_LINK
		                                                        : xf_status_of_errno(-lfd);
	}
	if (fstatat(lfd, lbase, &lsb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(lsb.st_mode)) {
		st = XF_ST_LINK;
		goto out;
	}
	if (fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(sb.st_mode) && sb.st_dev == lsb.st_dev && sb.st_ino == lsb.st_ino) {
			goto out; /* already this link: nothing to do */
		}
		if (S_ISDIR(sb.st_mode)) {
			st = XF_ST_CONFLICT;
			goto out;
		}
	}
	/* flags 0: a symlink swapped in for the leader since the fstatat is linked as the
	 * symlink it is, never followed, and refused below. */
	if (linkat(lfd, lbase, w->p->tmp_fd, tmp, 0) != 0) {
		if (errno != EEXIST || unlinkat(w->p->tmp_fd, tmp, 0) != 0 ||
		    linkat(lfd, lbase, w->p->tmp_fd, tmp, 0) != 0) {
			st = xf_status_of_errno(errno);
			goto out;
		}
	}
	if (fstatat(w->p->tmp_fd, tmp, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_dev != lsb.st_dev || sb.st_ino != lsb.st_ino) {
		unlinkat(w->p->tmp_fd, tmp, 0);
		st = XF_ST_LINK;
		goto out;
	}
	*made = true;
out:
	if (lfd != w->root_fd) {
		close(lfd);
	}
	slow_check(w, t0, "making a hard link");
	return st;
}
