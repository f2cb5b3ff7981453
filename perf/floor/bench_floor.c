/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Over 1,000 lines: one benchmark program whose phases share the scanned tree, the arena
 * and the timing; split, its one measurement would be spread over files that nothing
 * else uses.
 *
 * xf-bench-floor: the least CPU that any atomic, verifying receiver and its sender must
 * spend to push a tree on this machine, measured by doing exactly that work and nothing
 * else, in one thread, with no protocol and no network:
 *   scan       walk SRC and list its files and directories,
 *   send_read  read every file once into memory,
 *   send_csum  the whole-file CRC-64 xferd sends (and with --delta, one CRC-32C per
 *              block of the new data: a sender's matching reads each block at least once),
 *   recv       the file-system work an atomic receiver cannot avoid: (with --delta) open
 *              the basis, create a temp file, write it, set mode and mtime, rename it
 *              over the final path. The basis is not read: its signatures are the
 *              receiver's signature cache's (volumes[].sig_cache_mb, on by default; made
 *              as the earlier push wrote the file, docs/DELTA.md), so reading it and
 *              checksumming its blocks are done (the changed blocks are found against
 *              its bytes, below) but not timed; --read-basis times both, for a
 *              receiver without the cache. With --delta on a file system that clones
 *              (XFS with reflink, btrfs: FICLONE works in DST), the temp file is a
 *              clone of the basis and only the file-system blocks that differ are
 *              written (finding them is the sender's matching, counted in send_csum,
 *              not here), as xferd applies COPY ops by clone (docs/DELTA.md, "Apply by clone").
 * Done the cheapest way xferd knows: a new directory is made under a staging name, its files
 * written in it at their names, and it is renamed into place once they are (xferd's staged
 * directories); another new file is written unnamed (O_TMPFILE) and linked to its name (a name
 * taken meanwhile is replaced through a temp name); the mode is given at creation (umask 0 here;
 * fchmod only for set-id and sticky bits), recv_csum  the receiver's CRC-64 of what it wrote (and
 * with --delta --read-basis, one CRC-32C per block of the basis: the signatures). Each phase is
 * timed on the thread's CPU clock and the monotonic clock. Their CPU sum divided by the online CPUs
 * is the wall time of a perfectly parallel implementation with zero protocol cost: a bound no
 * transfer on this machine can beat, to set beside rsync and xferd measured in the same run
 * (perf/transfer/run.sh --floor). Regular files, directories and symlinks (read at the scan, as a
 * sender lists them; made under a temp name and renamed into place, or at their name in a staged
 * directory, with their mtime set, as xferd does); special files are not listed. The source is read
 * with O_NOATIME (when allowed: the owner or CAP_FOWNER), as xferd reads it, so that a read logs no
 * access-time update.
 *
 * --warm: on a VM whose balloon does free page reporting (virtio-balloon F_REPORTING, as
 * on the development box), memory the guest frees is handed back to the host about 2 s
 * later, and the first write to it afterwards costs a host page fault that the guest
 * bills to the writing thread as CPU: about 4 s per GiB there, against 0.5 s for the
 * receiver's own work on 1 GiB. Which pages are cold depends on what ran and was deleted
 * before, so the same run gives 0.5 or 5 s. --warm writes and frees as much anonymous
 * memory as the receiver will allocate, untimed, just before recv, so that the file pages
 * come from memory the host has just backed: the floor then measures the receiver, not
 * the hypervisor. "setup" in the output (untimed: the arena's page faults) shows whether
 * memory was cold (seconds per GiB instead of tenths).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <isa-l.h>

#include "xf_perf.h"

#define NAME       "xf-bench-floor"
#define TMP_SUFFIX ".floor"
/* rsync's block-size rule (generator.c, sum_sizes_sqroot): sqrt of the basis size rounded
 * down to a multiple of 8, at least BLOCK_SIZE (700), at most MAX_BLOCK_SIZE (protocol 30+). */
#define BLOCK_MIN 700u
#define BLOCK_MAX 131072u

struct dir {
	char *path;            /**< relative to the tree's root; "." for the root itself */
	int parent;            /**< index in the directory list; -1 for the root */
	mode_t mode;           /**< permission bits of the source directory */
	struct timespec mtime; /**< its mtime, given to the copy once its entries are in */
	uint32_t nfiles;       /**< regular files and symlinks directly inside */
};

struct file {
	char *name;            /**< last path component */
	int dir;               /**< index of its directory */
	uint64_t size;         /**< bytes, from the scan */
	mode_t mode;           /**< permission bits */
	struct timespec mtime; /**< modification time to give the copy */
	uint64_t off;          /**< where its bytes sit in the arena */
	char *link;            /**< a symlink's target (size 0, no bytes); NULL: a regular file */
};

struct tree {
	struct dir *dirs;
	unsigned int ndirs, dirs_cap;
	struct file *files;
	unsigned int nfiles, files_cap; /**< regular files and symlinks */
	unsigned int nlinks;            /**< symlinks among the files */
	uint64_t bytes;                 /**< sum of the file sizes */
	uint64_t max_size;              /**< largest file */
};

/* A phase's CPU (this thread) and wall time, in ns. */
struct phase {
	uint64_t cpu;
	uint64_t wall;
};

/* The directory whose fd is held open. A receiver (or a sender) walks its list directory
 * by directory and keeps the current one open, so per file it pays a one-component
 * lookup, not a walk of the whole path: the floor must not charge more than that. */
struct dircache {
	int base;  /**< fd of the tree's root */
	int index; /**< directory held open, or -1 */
	int fd;
	/** The one held is new and made under this staging name in the root: its files go
	 *  in at their names, and it is renamed into place when the cache leaves it (as
	 *  xferd's staged directories, docs/PIPELINE.md). Empty: not staged. */
	char staged[32];
};

static const char *src_root, *dst_root;
static uint32_t fixed_block;   /* --block, or 0: rsync's rule per file */
static volatile uint64_t sink; /* checksums land here so that they cannot be optimised out */

/* Prints "what root/dir/name: strerror(errno)" (dir and name may be NULL, dir may be ".")
 * and exits 1. */
static void
die_errno(const char *what, const char *root, const char *dir, const char *name)
{
	bool has_dir = dir != NULL && strcmp(dir, ".") != 0;

	fprintf(stderr, NAME ": %s %s%s%s%s%s: %s\n", what, root, has_dir ? "/" : "",
	        has_dir ? dir : "", name != NULL ? "/" : "", name != NULL ? name : "",
	        strerror(errno));
	exit(1);
}

static void
die_msg(const char *msg)
{
	fprintf(stderr, NAME ": %s\n", msg);
	exit(1);
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0) {
		die_msg("clock_gettime failed");
	}
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
phase_begin(struct phase *p)
{
	p->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	p->wall = clock_ns(CLOCK_MONOTONIC);
}

static void
phase_end(struct phase *p)
{
	p->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - p->cpu;
	p->wall = clock_ns(CLOCK_MONOTONIC) - p->wall;
}

static double
sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		die_msg("out of memory");
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		die_msg("out of memory");
	}
	return p;
}

/* An anonymous mapping with every page already faulted in (MAP_POPULATE on a private
 * writable mapping breaks copy-on-write up front), so that no phase is charged for page
 * faults that belong to setting up the benchmark. */
static unsigned char *
prefaulted(uint64_t bytes)
{
	void *p;

	if (bytes == 0) {
		bytes = 1;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
	         -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, NAME ": cannot map %" PRIu64 " bytes: %s\n", bytes,
		        strerror(errno));
		exit(1);
	}
	return p;
}

/* Writes and frees `bytes` of anonymous memory (--warm, see the top of the file). */
static void
warm_up(uint64_t bytes)
{
	unsigned char *p;

	if (bytes == 0) {
		return;
	}
	p = prefaulted(bytes);
	if (munmap(p, bytes) != 0) {
		die_errno("munmap (warm-up)", dst_root, NULL, NULL);
	}
}

static uint32_t
block_size(uint64_t size)
{
	uint64_t lo = 0, hi = 1ull << 32, bs;

	if (fixed_block != 0) {
		return fixed_block;
	}
	while (hi - lo > 1) { /* floor(sqrt(size)) without floating point */
		uint64_t mid = lo + (hi - lo) / 2;

		if (mid * mid <= size) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	bs = lo & ~(uint64_t)7;
	return bs < BLOCK_MIN ? BLOCK_MIN : bs > BLOCK_MAX ? BLOCK_MAX : (uint32_t)bs;
}

/* One CRC-32C per block: the least a signature or a matching pass can do with the data. */
static void
block_crcs(const unsigned char *p, uint64_t size, uint32_t bs)
{
	uint32_t acc = 0;

	for (uint64_t off = 0; off < size; off += bs) {
		uint64_t len = size - off < bs ? size - off : bs;

		acc ^= crc32_iscsi((unsigned char *)p + off, (int)len, 0xffffffffu);
	}
	sink += acc;
}

/* ---- scan */

static int
add_dir(struct tree *t, const char *path, int parent, const struct stat *st)
{
	if (t->ndirs == t->dirs_cap) {
		t->dirs_cap = t->dirs_cap ? t->dirs_cap * 2 : 64;
		t->dirs = realloc(t->dirs, t->dirs_cap * sizeof(*t->dirs));
		if (t->dirs == NULL) {
			die_msg("out of memory");
		}
	}
	t->dirs[t->ndirs] = (struct dir){
		.path = xstrdup(path),
		.parent = parent,
		.mode = st->st_mode & 07777,
		.mtime = st->st_mtim,
	};
	return (int)t->ndirs++;
}

static void
add_file(struct tree *t, const char *name, int dir, const struct stat *st, char *link)
{
	if (t->nfiles == t->files_cap) {
		t->files_cap = t->files_cap ? t->files_cap * 2 : 1024;
		t->files = realloc(t->files, t->files_cap * sizeof(*t->files));
		if (t->files == NULL) {
			die_msg("out of memory");
		}
	}
	t->files[t->nfiles++] = (struct file){
		.name = xstrdup(name),
		.dir = dir,
		.size = (uint64_t)st->st_size,
		.mode = st->st_mode & 07777,
		.mtime = st->st_mtim,
		.off = t->bytes,
		.link = link,
	};
	t->dirs[dir].nfiles++;
	if (link != NULL) {
		t->nlinks++;
		return; /* a symlink's target is its content: no bytes to read, none to write */
	}
	t->bytes += (uint64_t)st->st_size;
	if ((uint64_t)st->st_size > t->max_size) {
		t->max_size = (uint64_t)st->st_size;
	}
}

/* O_NOATIME on the source's opens until one fails EPERM (not ours, no CAP_FOWNER). */
static int src_noatime = O_NOATIME;

static int
src_openat(int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, flags | src_noatime);

	if (fd < 0 && errno == EPERM && src_noatime != 0) {
		src_noatime = 0;
		fd = openat(dfd, name, flags);
	}
	return fd;
}

/* Lists the files of one directory, then descends into its subdirectories, so that each
 * directory's files are contiguous in the list (the order a receiver commits in) and
 * directories come before their children. */
static void
scan_dir(struct tree *t, int dfd, int self)
{
	DIR *d = fdopendir(dfd);
	char **subs = NULL;
	struct stat *sub_st = NULL;
	unsigned int nsubs = 0, cap = 0;
	struct dirent *de;

	if (d == NULL) {
		die_errno("fdopendir", src_root, t->dirs[self].path, NULL);
	}
	for (;;) {
		struct stat st;

		errno = 0;
		de = readdir(d); /* getdents64 underneath, a buffer of entries per call */
		if (de == NULL) {
			if (errno != 0) {
				die_errno("readdir", src_root, t->dirs[self].path, NULL);
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			die_errno("fstatat", src_root, t->dirs[self].path, de->d_name);
		}
		if (S_ISREG(st.st_mode)) {
			add_file(t, de->d_name, self, &st, NULL);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);

			if (n < 0) {
				die_errno("readlinkat", src_root, t->dirs[self].path, de->d_name);
			}
			target[n] = '\0';
			add_file(t, de->d_name, self, &st, xstrdup(target));
		} else if (S_ISDIR(st.st_mode)) {
			if (nsubs == cap) {
				cap = cap ? cap * 2 : 16;
				subs = realloc(subs, cap * sizeof(*subs));
				sub_st = realloc(sub_st, cap * sizeof(*sub_st));
				if (subs == NULL || sub_st == NULL) {
					die_msg("out of memory");
				}
			}
			sub_st[nsubs] = st;
			subs[nsubs++] = xstrdup(de->d_name);
		}
	}
	for (unsigned int i = 0; i < nsubs; i++) {
		const char *parent = t->dirs[self].path;
		size_t len = strlen(parent) + strlen(subs[i]) + 2;
		char *path = xmalloc(len);
		int child, cfd;

		if (self == 0) {
			snprintf(path, len, "%s", subs[i]);
		} else {
			snprintf(path, len, "%s/%s", parent, subs[i]);
		}
		cfd = src_openat(dirfd(d), subs[i],
		                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			die_errno("openat", src_root, path, NULL);
		}
		child = add_dir(t, path, self, &sub_st[i]);
		free(path);
		scan_dir(t, cfd, child);
		free(subs[i]);
	}
	free(subs);
	free(sub_st);
	if (closedir(d) != 0) {
		die_errno("closedir", src_root, t->dirs[self].path, NULL);
	}
}

static void
scan(struct tree *t, int src_fd)
{
	struct stat st;
	int fd;

	if (fstat(src_fd, &st) != 0) {
		die_errno("fstat", src_root, NULL, NULL);
	}
	add_dir(t, ".", -1, &st);
	fd = dup(src_fd); /* fdopendir takes the fd over; the caller keeps src_fd */
	if (fd < 0) {
		die_errno("dup", src_root, NULL, NULL);
	}
	scan_dir(t, fd, 0);
}

/* ---- directories held open */

/* Makes directory `index` below the cache's root, and its missing parents: the deepest
 * first, and a parent only when the one below it turned out to be missing, so that an
 * existing chain costs one call. */
static void
make_dir(struct dircache *c, const struct tree *t, int index, const char *root)
{
	const struct dir *d = &t->dirs[index];
	/* owner rwx while we fill it; a receiver would set the final bits at the end */
	mode_t mode = d->mode | S_IRWXU;

	if (mkdirat(c->base, d->path, mode) == 0 || errno == EEXIST) {
		return;
	}
	if (errno != ENOENT || d->parent < 0) {
		die_errno("mkdirat", root, d->path, NULL);
	}
	make_dir(c, t, d->parent, root);
	if (mkdirat(c->base, d->path, mode) != 0 && errno != EEXIST) {
		die_errno("mkdirat", root, d->path, NULL);
	}
}

/* Lets go of the directory held; a staged one goes into place (its parents made if
 * missing), never over anything. */
static void
dir_release(struct dircache *c, const struct tree *t, const char *root)
{
	const struct dir *d = c->index >= 0 ? &t->dirs[c->index] : NULL;

	if (c->fd >= 0 && close(c->fd) != 0) {
		die_errno("close", root, d->path, NULL);
	}
	if (c->staged[0] != '\0') {
		if (fchmodat(c->base, c->staged, d->mode & 07777, 0) != 0) {
			die_errno("fchmodat", root, c->staged, NULL);
		}
		int rc = renameat2(c->base, c->staged, c->base, d->path, RENAME_NOREPLACE);

		if (rc != 0 && errno == ENOENT && d->parent >= 0) {
			/* its parent holds no file: not made yet */
			make_dir(c, t, d->parent, root);
			rc = renameat2(c->base, c->staged, c->base, d->path, RENAME_NOREPLACE);
		}
		if (rc != 0) {
			die_errno("renameat2", root, d->path, NULL);
		}
		c->staged[0] = '\0';
	}
	c->fd = -1;
	c->index = -1;
}

/* The fd of directory `index` below the cache's root, opened unless it is the one held;
 * with `create`, a missing directory is made first: under a staging name when `stage`. */
static int
dir_fd(struct dircache *c, const struct tree *t, int index, bool create, bool stage,
       const char *root)
{
	if (c->index == index) {
		return c->fd;
	}
	dir_release(c, t, root);
	c->fd = openat(c->base, t->dirs[index].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->fd < 0 && errno == ENOENT && create && stage && index > 0) {
		snprintf(c->staged, sizeof(c->staged), ".floor-staged.%d", index);
		if (mkdirat(c->base, c->staged, 0700) != 0) {
			die_errno("mkdirat", root, c->staged, NULL);
		}
		c->fd = openat(c->base, c->staged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else if (c->fd < 0 && errno == ENOENT && create) {
		make_dir(c, t, index, root);
		c->fd = openat(c->base, t->dirs[index].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (c->fd < 0) {
		die_errno("openat", root, t->dirs[index].path, NULL);
	}
	c->index = index;
	return c->fd;
}

static void
dircache_close(struct dircache *c, const struct tree *t, const char *root)
{
	dir_release(c, t, root);
}

/* Reads exactly len bytes at offset 0, or dies: the file must not change under us. */
static void
read_whole(int fd, unsigned char *buf, uint64_t len, const char *root, const char *dir,
           const char *name)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)done);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			die_errno("pread", root, dir, name);
		}
		if (n == 0) {
			errno = EIO;
			die_errno("pread (shorter than its size)", root, dir, name);
		}
		done += (uint64_t)n;
	}
}

/* ---- send */

static void
send_read(const struct tree *t, int src_fd, unsigned char *arena)
{
	struct dircache c = { .base = src_fd, .index = -1, .fd = -1 };

	for (unsigned int i = 0; i < t->nfiles; i++) {
		const struct file *f = &t->files[i];
		const char *dpath = t->dirs[f->dir].path;

		if (f->link != NULL) {
			continue; /* read at the scan */
		}
		int dfd = dir_fd(&c, t, f->dir, false, false, src_root);
		int fd = src_openat(dfd, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;

		if (fd < 0) {
			die_errno("openat", src_root, dpath, f->name);
		}
		if (fstat(fd, &st) != 0) {
			die_errno("fstat", src_root, dpath, f->name);
		}
		if ((uint64_t)st.st_size != f->size) {
			errno = ESTALE; /* the source changed under us */
			die_errno("fstat (size differs from the scan)", src_root, dpath, f->name);
		}
		read_whole(fd, arena + f->off, f->size, src_root, dpath, f->name);
		if (close(fd) != 0) {
			die_errno("close", src_root, dpath, f->name);
		}
	}
	dircache_close(&c, t, src_root);
}

static void
send_csum(const struct tree *t, const unsigned char *arena, bool delta)
{
	for (unsigned int i = 0; i < t->nfiles; i++) {
		const struct file *f = &t->files[i];

		sink += crc64_ecma_refl(0, arena + f->off, f->size);
		if (delta) {
			block_crcs(arena + f->off, f->size, block_size(f->size));
		}
	}
}

/* ---- receive */

struct recv_state {
	unsigned char *scratch; /**< the basis of the current file (--delta) */
	uint64_t scratch_size;
	uint64_t basis_files, basis_bytes;
	struct phase basis_read; /**< accumulated: reading the bases (--read-basis times it) */
	struct phase basis_csum; /**< accumulated: time spent on the basis's block CRCs */
	int basis_fd;            /**< the current file's basis, open (--delta), or -1 */
	struct run {
		uint64_t off, len;
	} * runs; /**< changed runs of the current file: max_size / FS_BLOCK + 1, set up once */
	uint64_t basis_size;
	bool clone_ok; /**< FICLONE works in DST (cleared at the first refusal) */
	uint64_t cloned_files, written_bytes;
	struct phase diff; /**< accumulated: finding the changed blocks (the sender's work) */
};

/* File-system block: what a clone shares and a partial write rewrites. */
#define FS_BLOCK 4096u

/* The basis opened, read and its signatures made; the read and the signatures are timed
 * apart (main() counts them with --read-basis only; the signatures then belong to
 * recv_csum). ENOENT means no basis: the file is new. */
static void
read_basis(struct recv_state *r, int dfd, const char *dpath, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	struct phase p;

	r->basis_fd = -1;
	if (fd < 0) {
		if (errno == ENOENT) {
			return;
		}
		die_errno("openat", dst_root, dpath, name);
	}
	if (fstat(fd, &st) != 0) { /* the quick check's stat, and the size to read */
		die_errno("fstat", dst_root, dpath, name);
	}
	if ((uint64_t)st.st_size > r->scratch_size) { /* a basis larger than any new file */
		if (munmap(r->scratch, r->scratch_size) != 0) {
			die_errno("munmap", dst_root, dpath, name);
		}
		r->scratch_size = (uint64_t)st.st_size;
		r->scratch = prefaulted(r->scratch_size);
	}
	phase_begin(&p);
	read_whole(fd, r->scratch, (uint64_t)st.st_size, dst_root, dpath, name);
	phase_end(&p);
	r->basis_read.cpu += p.cpu;
	r->basis_read.wall += p.wall;
	if (r->clone_ok) {
		r->basis_fd = fd; /* cloned into the temp file (recv_clone) */
		r->basis_size = (uint64_t)st.st_size;
	} else if (close(fd) != 0) {
		die_errno("close", dst_root, dpath, name);
	}
	r->basis_files++;
	r->basis_bytes += (uint64_t)st.st_size;
	phase_begin(&p);
	block_crcs(r->scratch, (uint64_t)st.st_size, block_size((uint64_t)st.st_size));
	phase_end(&p);
	r->basis_csum.cpu += p.cpu;
	r->basis_csum.wall += p.wall;
}

static void
write_whole(int fd, const unsigned char *buf, uint64_t len, const char *dir, const char *name)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			die_errno("write", dst_root, dir, name);
		}
		if (n == 0) {
			errno = EIO;
			die_errno("write (no progress)", dst_root, dir, name);
		}
		done += (uint64_t)n;
	}
}

/* The file-system block of the new data at off equals the basis's. */
static bool
same_block(const struct recv_state *r, const unsigned char *data, uint64_t off, uint64_t size)
{
	uint64_t n = size - off < FS_BLOCK ? size - off : FS_BLOCK;

	return off + n <= r->basis_size && memcmp(data + off, r->scratch + off, n) == 0;
}

/*
 * The temp file fd as a clone of the basis with only the file-system blocks that differ
 * written. @return false (clone_ok cleared) if the file system cannot clone.
 */
static bool
recv_clone(struct recv_state *r, int fd, const unsigned char *data, uint64_t size,
           const char *dpath, const char *name)
{
	struct phase p;
	uint64_t off = 0, nruns = 0;

	if (ioctl(fd, FICLONE, r->basis_fd) != 0) {
		if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL && errno != ENOTTY) {
			die_errno("ioctl FICLONE", dst_root, dpath, name);
		}
		r->clone_ok = false;
		return false;
	}
	r->cloned_files++;
	/* Which blocks changed: the sender's matching tells a receiver (timed apart). */
	phase_begin(&p);
	while (off < size) {
		uint64_t run = 0;

		while (off + run < size && !same_block(r, data, off + run, size)) {
			run += size - (off + run) < FS_BLOCK ? size - (off + run) : FS_BLOCK;
		}
		if (run > 0) {
			r->runs[nruns++] = (struct run){ off, run };
			off += run;
		} else {
			off += size - off < FS_BLOCK ? size - off : FS_BLOCK;
		}
	}
	phase_end(&p);
	r->diff.cpu += p.cpu;
	r->diff.wall += p.wall;
	for (uint64_t i = 0; i < nruns; i++) {
		if (pwrite(fd, data + r->runs[i].off, r->runs[i].len, (off_t)r->runs[i].off) !=
		    (ssize_t)r->runs[i].len) {
			die_errno("pwrite", dst_root, dpath, name);
		}
		r->written_bytes += r->runs[i].len;
	}
	if (size < r->basis_size && ftruncate(fd, (off_t)size) != 0) {
		die_errno("ftruncate", dst_root, dpath, name);
	}
	return true;
}

/* A symlink made at `name` (its final name in a staged directory, else a temp name that
 * is renamed over the final one: atomic, like a file), then given the source's mtime. */
static void
recv_link(const struct file *f, int dfd, const char *dpath, const char *name,
          const struct timespec times[2])
{
	if (symlinkat(f->link, dfd, name) != 0) {
		die_errno("symlinkat", dst_root, dpath, name);
	}
	if (name != f->name && renameat(dfd, name, dfd, f->name) != 0) {
		die_errno("renameat", dst_root, dpath, f->name);
	}
	if (utimensat(dfd, f->name, times, AT_SYMLINK_NOFOLLOW) != 0) {
		die_errno("utimensat", dst_root, dpath, f->name);
	}
}

/* O_TMPFILE works in the destination (cleared at the first refusal: named temps then). */
static bool unnamed_ok = true;

static void
recv_tree(const struct tree *t, int dst_fd, const unsigned char *arena, bool delta,
          struct recv_state *r)
{
	struct dircache c = { .base = dst_fd, .index = -1, .fd = -1 };
	char tmp[NAME_MAX + 1];

	for (unsigned int i = 0; i < t->nfiles; i++) {
		const struct file *f = &t->files[i];
		const char *dpath = t->dirs[f->dir].path;
		/* the source's mtime; atime left as the kernel set it (UTIME_OMIT) */
		const struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, f->mtime };
		int dfd = dir_fd(&c, t, f->dir, true, true, dst_root);
		/* in a new directory, not visible yet: written at its name */
		bool in_place = c.staged[0] != '\0';
		int fd = -1;

		if ((size_t)snprintf(tmp, sizeof(tmp), ".%s" TMP_SUFFIX, f->name) >= sizeof(tmp)) {
			errno = ENAMETOOLONG;
			die_errno("temp name for", dst_root, dpath, f->name);
		}
		bool unnamed = false;

		if (f->link != NULL) {
			recv_link(f, dfd, dpath, in_place ? f->name : tmp, times);
			continue;
		}
		if (delta) {
			read_basis(r, dfd, dpath, f->name);
		} else if (in_place) {
			fd = openat(dfd, f->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
			            f->mode & 0777);
			if (fd < 0) {
				die_errno("openat", dst_root, c.staged, f->name);
			}
		} else if (unnamed_ok) {
			/* a new file: no name until it is complete */
			fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, f->mode & 0777);
			unnamed = fd >= 0;
			unnamed_ok = unnamed || (errno != EOPNOTSUPP && errno != EISDIR);
		}
		if (!unnamed && !in_place) {
			fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
			            f->mode & 0777);
			if (fd < 0) {
				die_errno("openat", dst_root, dpath, tmp);
			}
		}
		if (!(delta && r->basis_fd >= 0 &&
		      recv_clone(r, fd, arena + f->off, f->size, dpath, tmp))) {
			write_whole(fd, arena + f->off, f->size, dpath, tmp);
		}
		if (delta && r->basis_fd >= 0) {
			if (close(r->basis_fd) != 0) {
				die_errno("close", dst_root, dpath, f->name);
			}
			r->basis_fd = -1;
		}
		if ((f->mode & ~0777u) != 0 && fchmod(fd, f->mode) != 0) {
			die_errno("fchmod", dst_root, dpath, tmp);
		}
		if (futimens(fd, times) != 0) {
			die_errno("futimens", dst_root, dpath, tmp);
		}
		if (unnamed && linkat(fd, "", dfd, f->name, AT_EMPTY_PATH) != 0) {
			if (errno != EEXIST) {
				die_errno("linkat", dst_root, dpath, f->name);
			}
			/* the name is taken: replace it, atomically, through a temp name */
			if (linkat(fd, "", dfd, tmp, AT_EMPTY_PATH) != 0) {
				die_errno("linkat", dst_root, dpath, tmp);
			}
			unnamed = false;
		}
		if (close(fd) != 0) {
			die_errno("close", dst_root, dpath, tmp);
		}
		/* atomic replace: in the delta case this is where the old file is freed */
		if (!unnamed && !in_place && renameat(dfd, tmp, dfd, f->name) != 0) {
			die_errno("renameat", dst_root, dpath, f->name);
		}
	}
	dircache_close(&c, t, dst_root);
	/* directories that hold no files are part of the tree too */
	for (unsigned int i = 1; i < t->ndirs; i++) {
		if (t->dirs[i].nfiles == 0) {
			make_dir(&c, t, (int)i, dst_root);
		}
	}
	/* last, the directories' mtimes (making their entries moved them), children first */
	for (unsigned int i = t->ndirs; i-- > 0;) {
		const struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, t->dirs[i].mtime };

		if (utimensat(dst_fd, t->dirs[i].path, times, 0) != 0) {
			die_errno("utimensat", dst_root, t->dirs[i].path, NULL);
		}
	}
}

static void
recv_csum(const struct tree *t, const unsigned char *arena)
{
	for (unsigned int i = 0; i < t->nfiles; i++) {
		sink += crc64_ecma_refl(0, arena + t->files[i].off, t->files[i].size);
	}
}

/* ---- main */

static const char *
fs_name(int fd)
{
	struct statfs s;

	if (fstatfs(fd, &s) != 0) {
		return "?";
	}
	switch ((unsigned long)s.f_type) {
	case 0x01021994ul:
		return "tmpfs";
	case 0xef53ul:
		return "ext4";
	case 0x58465342ul:
		return "xfs";
	case 0x9123683eul:
		return "btrfs";
	case 0x794c7630ul:
		return "overlayfs";
	default:
		return "other";
	}
}

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: " NAME " [--delta [--read-basis]] [--block BYTES] [--warm] SRC DST\n"
	        "  the least CPU an atomic, verifying receiver and its sender must spend to\n"
	        "  copy the tree SRC into DST on this machine (no protocol, no network)\n"
	        "  --delta        DST holds an older copy: each basis's signatures are cached\n"
	        "                 (not read, as with xferd's signature cache), the new data's\n"
	        "                 blocks are checksummed (matching); where DST clones\n"
	        "                 (FICLONE), a file is a clone of its basis with only the\n"
	        "                 changed blocks written\n"
	        "  --read-basis   with --delta: no signature cache: read each basis once and\n"
	        "                 checksum its blocks (signatures), timed\n"
	        "  --block BYTES  block size for --delta (default: rsync's, sqrt of the size\n"
	        "                 rounded down to a multiple of 8, in [%u, %u])\n"
	        "  --warm         before recv, write and free as much memory as the receiver\n"
	        "                 allocates (untimed): on a VM with free page reporting, keeps\n"
	        "                 the host's faults on cold memory out of the figures\n"
	        "  prints one line 'FLOOR key=value ...' for scripts (perf/transfer/run.sh)\n",
	        BLOCK_MIN, BLOCK_MAX);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delta", no_argument, NULL, 'd' }, { "block", required_argument, NULL, 'b' },
		{ "warm", no_argument, NULL, 'w' },  { "read-basis", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },  { NULL, 0, NULL, 0 },
	};
	struct xf_perf_opts o = { .runs = 1 };
	struct tree t = { 0 };
	struct recv_state r = { .basis_fd = -1, .clone_ok = true };
	struct phase p_scan, p_read, p_scsum, p_recv, p_rcsum, p_setup, p_warm = { 0 };
	unsigned char *arena;
	bool delta = false, warm = false, read_basis_timed = false;
	int c, src_fd, dst_fd;
	unsigned int cpus;
	double fs_cpu, total_cpu;
	char libs[96];

	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(0); /* modes exact at creation: no fchmod (see recv) */
	while ((c = getopt_long(argc, argv, "db:wrh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			delta = true;
			break;
		case 'b': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || v < 1 || v > (1ul << 30)) {
				fprintf(stderr, NAME ": --block wants 1..%lu bytes\n", 1ul << 30);
				return 2;
			}
			fixed_block = (uint32_t)v;
			break;
		}
		case 'w':
			warm = true;
			break;
		case 'r':
			read_basis_timed = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2 || (read_basis_timed && !delta)) {
		usage(stderr);
		return 2;
	}
	src_root = argv[optind];
	dst_root = argv[optind + 1];

	src_fd = src_openat(AT_FDCWD, src_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src_fd < 0) {
		die_errno("open", src_root, NULL, NULL);
	}
	if (mkdir(dst_root, 0755) != 0 && errno != EEXIST) {
		die_errno("mkdir", dst_root, NULL, NULL);
	}
	dst_fd = open(dst_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst_fd < 0) {
		die_errno("open", dst_root, NULL, NULL);
	}

	snprintf(libs, sizeof(libs), "ISA-L %d.%d.%d; no EAL", ISAL_MAJOR_VERSION,
	         ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
	xf_perf_banner(NAME, libs, &o);
	printf("  %s (%s) -> %s (%s)%s\n", src_root, fs_name(src_fd), dst_root, fs_name(dst_fd),
	       delta ? "; --delta: onto an older copy" : "");

	phase_begin(&p_scan);
	scan(&t, src_fd);
	phase_end(&p_scan);

	/* outside every phase: the memory a real implementation would have set up once */
	phase_begin(&p_setup);
	arena = prefaulted(t.bytes);
	if (delta) {
		r.scratch_size = t.max_size;
		r.scratch = prefaulted(r.scratch_size);
		r.runs = (struct run *)(void *)prefaulted((t.max_size / FS_BLOCK + 1) *
		                                          sizeof(*r.runs));
	}
	phase_end(&p_setup);

	phase_begin(&p_read);
	send_read(&t, src_fd, arena);
	phase_end(&p_read);

	phase_begin(&p_scsum);
	send_csum(&t, arena, delta);
	phase_end(&p_scsum);

	if (warm) {
		phase_begin(&p_warm);
		warm_up(t.bytes);
		phase_end(&p_warm);
	}

	phase_begin(&p_recv);
	recv_tree(&t, dst_fd, arena, delta, &r);
	phase_end(&p_recv);
	p_recv.cpu -= r.basis_csum.cpu; /* the signatures belong to recv_csum */
	p_recv.wall -= r.basis_csum.wall;
	p_recv.cpu -= r.diff.cpu; /* the changed blocks: the sender's matching (send_csum) */
	p_recv.wall -= r.diff.wall;
	if (!read_basis_timed) { /* the signature cache's: no read of the basis */
		p_recv.cpu -= r.basis_read.cpu;
		p_recv.wall -= r.basis_read.wall;
	}

	phase_begin(&p_rcsum);
	recv_csum(&t, arena);
	phase_end(&p_rcsum);
	if (read_basis_timed) {
		p_rcsum.cpu += r.basis_csum.cpu;
		p_rcsum.wall += r.basis_csum.wall;
	}

	cpus = xf_perf_online_cpus();
	fs_cpu = sec(p_scan.cpu + p_read.cpu + p_recv.cpu);
	total_cpu = fs_cpu + sec(p_scsum.cpu + p_rcsum.cpu);

	printf("  %u files (%u of them symlinks), %u directories, %" PRIu64 " bytes", t.nfiles,
	       t.nlinks, t.ndirs, t.bytes);
	if (delta) {
		printf("; basis: %" PRIu64 " files, %" PRIu64 " bytes %s; block %s; %" PRIu64
		       " files cloned from their basis, %" PRIu64 " bytes written into them",
		       r.basis_files, r.basis_bytes,
		       read_basis_timed ? "read" : "with cached signatures (read untimed)",
		       fixed_block ? "fixed" : "sqrt rule", r.cloned_files, r.written_bytes);
	}
	printf("\n%-10s %9s %9s\n", "phase", "cpu s", "wall s");
	printf("%-10s %9.3f %9.3f   (untimed: arena page faults)\n", "setup", sec(p_setup.cpu),
	       sec(p_setup.wall));
	if (warm) {
		printf("%-10s %9.3f %9.3f   (untimed: --warm)\n", "warm", sec(p_warm.cpu),
		       sec(p_warm.wall));
	}
	printf("%-10s %9.3f %9.3f\n", "scan", sec(p_scan.cpu), sec(p_scan.wall));
	printf("%-10s %9.3f %9.3f\n", "send_read", sec(p_read.cpu), sec(p_read.wall));
	printf("%-10s %9.3f %9.3f\n", "send_csum", sec(p_scsum.cpu), sec(p_scsum.wall));
	printf("%-10s %9.3f %9.3f\n", "recv", sec(p_recv.cpu), sec(p_recv.wall));
	printf("%-10s %9.3f %9.3f\n", "recv_csum", sec(p_rcsum.cpu), sec(p_rcsum.wall));
	printf("file-system cpu %.3f s, total cpu %.3f s; on %u CPUs at best %.3f s\n", fs_cpu,
	       total_cpu, cpus, total_cpu / cpus);
	printf("FLOOR files=%u bytes=%" PRIu64 " scan_cpu=%.3f send_read_cpu=%.3f "
	       "send_csum_cpu=%.3f recv_cpu=%.3f recv_csum_cpu=%.3f recv_wall=%.3f fs_cpu=%.3f "
	       "total_cpu=%.3f cpus=%u bound=%.3f cloned=%" PRIu64 "\n",
	       t.nfiles, t.bytes, sec(p_scan.cpu), sec(p_read.cpu), sec(p_scsum.cpu),
	       sec(p_recv.cpu), sec(p_rcsum.cpu), sec(p_recv.wall), fs_cpu, total_cpu, cpus,
	       total_cpu / cpus, r.cloned_files);

	/* no teardown of the arena or the lists: the process exits; the fds are checked */
	if (close(src_fd) != 0) {
		die_errno("close", src_root, NULL, NULL);
	}
	if (close(dst_fd) != 0) {
		die_errno("close", dst_root, NULL, NULL);
	}
	return 0;
}
