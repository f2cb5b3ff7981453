/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-storage-ops: the cost of each file operation the receive pipeline and the
 * sender's reader use, through the real xf_storage API, on each back end (inline,
 * io_uring, and what auto gives), on each file system named by --dir.
 *
 * Every phase runs one operation on every file of a fresh tree, in batches of --batch
 * (default 32, the pipeline's W_BURST): prep a batch, submit it once, then poll
 * xf_storage_reap() until the whole batch is back, as a worker core does (it polls; it
 * never blocks). The phases follow a file's life in the receiver: mkdir, open of the
 * directory, create (openat2 O_CREAT), write 4 KiB, 64 KiB and 1 MiB (the 1 MiB one on
 * every 16th file), fsync, fchmod + futimens (plain system calls in the pipeline: no
 * io_uring opcode exists for them; timed here as the same calls on both back ends, a
 * noise reference), close, statx, rename, symlink, open for reading, reads of the same
 * sizes, close, unlink. Each figure is the phase's wall time divided by its operations;
 * "cpu" is the process's CPU time (the io-wq threads included: they are its threads)
 * per operation. Back ends alternate within each run, in turn order rotated per run.
 * Medians of --runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "xf_perf.h"
#include "xf_storage.h"

#define NAME      "xf-bench-storage-ops"
#define MAX_DIRS  4
#define MAX_RUNS  64
#define DEPTH     512u /* the pipeline worker's default uring_depth */
#define FILES_DIR 64u  /* files per directory */
#define BIG_EVERY 16u  /* every 16th file gets the 1 MiB write and read */
#define NBACKENDS 3

enum phase {
	PH_MKDIR,
	PH_OPEN_DIR,
	PH_CREATE,
	PH_WRITE_4K,
	PH_WRITE_64K,
	PH_WRITE_1M,
	PH_FSYNC,
	PH_MODE_TIME,
	PH_CLOSE_W,
	PH_STATX,
	PH_RENAME,
	PH_SYMLINK,
	PH_OPEN_R,
	PH_READ_4K,
	PH_READ_64K,
	PH_READ_1M,
	PH_CLOSE_R,
	PH_UNLINK,
	PH_MAX,
};

static const char *const phase_names[PH_MAX] = {
	[PH_MKDIR] = "mkdirat",
	[PH_OPEN_DIR] = "open dir (O_PATH)",
	[PH_CREATE] = "openat create",
	[PH_WRITE_4K] = "write 4 KiB",
	[PH_WRITE_64K] = "write 64 KiB",
	[PH_WRITE_1M] = "write 1 MiB",
	[PH_FSYNC] = "fsync",
	[PH_MODE_TIME] = "fchmod+futimens *",
	[PH_CLOSE_W] = "close (written)",
	[PH_STATX] = "statx",
	[PH_RENAME] = "renameat",
	[PH_SYMLINK] = "symlinkat",
	[PH_OPEN_R] = "openat read",
	[PH_READ_4K] = "read 4 KiB",
	[PH_READ_64K] = "read 64 KiB",
	[PH_READ_1M] = "read 1 MiB",
	[PH_CLOSE_R] = "close (read)",
	[PH_UNLINK] = "unlinkat",
};

static const enum xf_storage_io backends[NBACKENDS] = {
	XF_STORAGE_IO_INLINE,
	XF_STORAGE_IO_URING,
	XF_STORAGE_IO_AUTO,
};

struct conf {
	const char *dirs[MAX_DIRS];
	unsigned int ndirs;
	unsigned int files;
	unsigned int batch;
	unsigned int runs;
	bool fsync;
	int pin; /* CPU to pin to, or -1 */
	const char *csv;
	bool quick;
};

/* One back end's run over one tree. */
struct tree {
	struct xf_storage *st;
	struct conf *c;
	unsigned int nfiles;
	unsigned int ndirs;
	int *dfd; /* directory fds (O_PATH) */
	int *fd;  /* file fds */
	char (*name)[16];
	char (*name2)[16];
	char (*dname)[16];
	struct statx *sx;
	uint8_t *buf; /* 1 MiB, the source of writes and target of reads */
	uint64_t ops[PH_MAX];
	double ns[PH_MAX];
	double cpu_ns[PH_MAX];
	const char *err;
};

static uint64_t
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* Submit what is queued and poll reap until every operation is back. */
static int
drain(struct tree *t, enum phase ph, unsigned int first)
{
	struct xf_storage_cqe cqe[64];
	int ret = xf_storage_submit(t->st);

	if (ret < 0) {
		return ret;
	}
	while (xf_storage_inflight(t->st) > 0) {
		unsigned int n = xf_storage_reap(t->st, cqe, 64);

		for (unsigned int i = 0; i < n; i++) {
			uint64_t idx = cqe[i].tag;

			if (cqe[i].res < 0) {
				fprintf(stderr, "%s: %s of item %" PRIu64 ": %s\n", NAME,
				        phase_names[ph], idx + first, strerror(-cqe[i].res));
				return cqe[i].res;
			}
			if ((ph == PH_CREATE || ph == PH_OPEN_R) && idx < t->nfiles) {
				t->fd[idx] = cqe[i].res;
			} else if (ph == PH_OPEN_DIR && idx < t->ndirs) {
				t->dfd[idx] = cqe[i].res;
			}
		}
	}
	return 0;
}

static bool
phase_item(enum phase ph, unsigned int i)
{
	return (ph != PH_WRITE_1M && ph != PH_READ_1M) || i % BIG_EVERY == 0;
}

/* Prep one operation of phase ph on item i (a directory, a file, or for unlink one of
 * 2 names per file). */
static int
prep(struct tree *t, enum phase ph, unsigned int i)
{
	unsigned int item = i;
	unsigned int d = i / FILES_DIR;

	switch (ph) {
	case PH_MKDIR:
		return xf_storage_prep_mkdir(t->st, -1, t->dname[i], 0755, i);
	case PH_OPEN_DIR:
		return xf_storage_prep_open_dir(t->st, t->dname[i], i);
	case PH_CREATE:
		return xf_storage_prep_open(t->st, t->dfd[d], t->name[i],
		                            O_WRONLY | O_CREAT | O_EXCL, 0644, i);
	case PH_WRITE_4K:
		return xf_storage_prep_write(t->st, t->fd[i], t->buf, 4096, 0, i);
	case PH_WRITE_64K:
		return xf_storage_prep_write(t->st, t->fd[i], t->buf, 65536, 4096, i);
	case PH_WRITE_1M:
		return xf_storage_prep_write(t->st, t->fd[i], t->buf, 1u << 20, 69632, i);
	case PH_FSYNC:
		return xf_storage_prep_fsync(t->st, t->fd[i], false, i);
	case PH_CLOSE_W:
	case PH_CLOSE_R:
		return xf_storage_prep_close(t->st, t->fd[i], i);
	case PH_STATX:
		return xf_storage_prep_statx(t->st, t->dfd[d], t->name[i], &t->sx[i], i);
	case PH_RENAME:
		return xf_storage_prep_rename(t->st, t->dfd[d], t->name[i], t->dfd[d], t->name2[i],
		                              0, i);
	case PH_SYMLINK:
		return xf_storage_prep_symlink(t->st, t->name2[i], t->dfd[d], t->name[i], i);
	case PH_OPEN_R:
		return xf_storage_prep_open(t->st, t->dfd[d], t->name2[i], O_RDONLY, 0, i);
	case PH_READ_4K:
		return xf_storage_prep_read(t->st, t->fd[i], t->buf, 4096, 0, i);
	case PH_READ_64K:
		return xf_storage_prep_read(t->st, t->fd[i], t->buf, 65536, 4096, i);
	case PH_READ_1M:
		return xf_storage_prep_read(t->st, t->fd[i], t->buf, 1u << 20, 69632, i);
	case PH_UNLINK:
		i %= t->nfiles;
		return xf_storage_prep_unlink(t->st, t->dfd[i / FILES_DIR],
		                              i == item ? t->name[i] : t->name2[i], 0, item);
	case PH_MODE_TIME:
	case PH_MAX:
		break;
	}
	return -EINVAL;
}

/* fchmod and futimens are plain system calls in the pipeline too. */
static int
mode_time(struct tree *t)
{
	struct timespec ts[2] = { { .tv_sec = 1700000000 }, { .tv_sec = 1700000000 } };

	for (unsigned int i = 0; i < t->nfiles; i++) {
		if (fchmod(t->fd[i], 0640) != 0 || futimens(t->fd[i], ts) != 0) {
			return -errno;
		}
	}
	return 0;
}

static int
run_phase(struct tree *t, enum phase ph)
{
	/* unlink: the files (renamed) and the symlinks at their first names */
	unsigned int n = ph == PH_MKDIR || ph == PH_OPEN_DIR ? t->ndirs
	                 : ph == PH_UNLINK                   ? 2 * t->nfiles
	                                                     : t->nfiles;
	uint64_t ops = 0;
	uint64_t t0 = xf_perf_now_ns();
	uint64_t c0 = cpu_ns();
	int ret = 0;

	if (ph == PH_MODE_TIME) {
		ret = mode_time(t);
		ops = t->nfiles;
	} else {
		unsigned int q = 0;

		for (unsigned int i = 0; i < n && ret == 0; i++) {
			if (!phase_item(ph, i)) {
				continue;
			}
			ret = prep(t, ph, i);
			ops++;
			if (ret == 0 && ++q == t->c->batch) {
				ret = drain(t, ph, 0);
				q = 0;
			}
		}
		if (ret == 0) {
			ret = drain(t, ph, 0);
		}
	}
	t->ns[ph] = (double)(xf_perf_now_ns() - t0);
	t->cpu_ns[ph] = (double)(cpu_ns() - c0);
	t->ops[ph] = ops;
	if (ret < 0) {
		t->err = phase_names[ph];
	}
	return ret;
}

static void
tree_free(struct tree *t)
{
	free(t->dfd);
	free(t->fd);
	free(t->name);
	free(t->name2);
	free(t->dname);
	free(t->sx);
	free(t->buf);
}

/* One run of every phase on back end io in a fresh directory under base. */
static int
run_tree(struct conf *c, const char *base, enum xf_storage_io io, unsigned int run, struct tree *t,
         enum xf_storage_io *used)
{
	char path[PATH_MAX];
	int root;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->nfiles = c->files;
	t->ndirs = (c->files + FILES_DIR - 1) / FILES_DIR;
	t->dfd = calloc(t->ndirs, sizeof(*t->dfd));
	t->fd = calloc(t->nfiles, sizeof(*t->fd));
	t->name = calloc(t->nfiles, sizeof(*t->name));
	t->name2 = calloc(t->nfiles, sizeof(*t->name2));
	t->dname = calloc(t->ndirs, sizeof(*t->dname));
	t->sx = calloc(t->nfiles, sizeof(*t->sx));
	t->buf = aligned_alloc(4096, 1u << 20);
	if (t->dfd == NULL || t->fd == NULL || t->name == NULL || t->name2 == NULL ||
	    t->dname == NULL || t->sx == NULL || t->buf == NULL) {
		tree_free(t);
		return -ENOMEM;
	}
	memset(t->buf, 0x5a, 1u << 20);
	for (unsigned int i = 0; i < t->nfiles; i++) {
		snprintf(t->name[i], sizeof(t->name[i]), "f%u", i);
		snprintf(t->name2[i], sizeof(t->name2[i]), "g%u", i);
	}
	for (unsigned int d = 0; d < t->ndirs; d++) {
		snprintf(t->dname[d], sizeof(t->dname[d]), "d%u", d);
	}
	snprintf(path, sizeof(path), "%s/ops-%u-%s", base, run, xf_storage_io_str(io));
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		ret = -errno;
		fprintf(stderr, "%s: mkdir %s: %s\n", NAME, path, strerror(errno));
		tree_free(t);
		return ret;
	}
	root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->st = root < 0 ? NULL : xf_storage_create(root, DEPTH, io);
	if (t->st == NULL) {
		ret = -errno;
		fprintf(stderr, "%s: storage (%s) on %s: %s\n", NAME, xf_storage_io_str(io), path,
		        strerror(errno));
		goto out;
	}
	*used = xf_storage_io(t->st);
	for (enum phase ph = 0; ph < PH_MAX && ret == 0; ph++) {
		if (ph == PH_FSYNC && !c->fsync) {
			continue;
		}
		ret = run_phase(t, ph);
	}
	if (ret == 0) {
		/* The directories: close them, remove them (untimed). */
		for (unsigned int d = 0; d < t->ndirs; d++) {
			close(t->dfd[d]);
			if (unlinkat(root, t->dname[d], AT_REMOVEDIR) != 0) {
				ret = -errno;
			}
		}
	} else {
		fprintf(stderr, "%s: %s failed in %s (%s)\n", NAME, t->err, path,
		        xf_storage_io_str(io));
	}
	xf_storage_destroy(t->st);
out:
	if (root >= 0) {
		close(root);
	}
	rmdir(path);
	tree_free(t);
	return ret;
}

static const char *
fs_name(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0) {
		return "?";
	}
	switch ((unsigned long)sf.f_type) {
	case TMPFS_MAGIC:
		return "tmpfs";
	case RAMFS_MAGIC:
		return "ramfs";
	case XFS_SUPER_MAGIC:
		return "xfs";
	case EXT4_SUPER_MAGIC:
		return "ext4";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	default:
		return "other";
	}
}

static int
bench_dir(struct conf *c, const char *dir, FILE *csv)
{
	static double ns[NBACKENDS][PH_MAX][MAX_RUNS];
	static double cpu[NBACKENDS][PH_MAX][MAX_RUNS];
	uint64_t ops[PH_MAX] = { 0 };
	enum xf_storage_io auto_io = XF_STORAGE_IO_AUTO;
	const char *fs = fs_name(dir);

	for (unsigned int r = 0; r < c->runs; r++) {
		for (unsigned int k = 0; k < NBACKENDS; k++) {
			unsigned int b = (k + r) % NBACKENDS; /* rotate who goes first */
			struct tree t;
			enum xf_storage_io used = XF_STORAGE_IO_AUTO;
			int ret = run_tree(c, dir, backends[b], r, &t, &used);

			if (ret < 0) {
				return ret;
			}
			if (backends[b] == XF_STORAGE_IO_AUTO) {
				auto_io = used;
			}
			for (unsigned int p = 0; p < PH_MAX; p++) {
				ns[b][p][r] = t.ops[p] ? t.ns[p] / (double)t.ops[p] : 0;
				cpu[b][p][r] = t.ops[p] ? t.cpu_ns[p] / (double)t.ops[p] : 0;
				ops[p] = t.ops[p];
			}
		}
	}
	printf("\n%s (%s): %u files in %u directories, batch %u, depth %u, %u runs; auto -> %s\n",
	       dir, fs, c->files, (c->files + FILES_DIR - 1) / FILES_DIR, c->batch, DEPTH, c->runs,
	       xf_storage_io_str(auto_io));
	printf("%-20s %7s %11s %11s %11s %8s %10s %10s %8s\n", "operation", "ops", "inline ns",
	       "io_uring ns", "auto ns", "uring/in", "inline cpu", "uring cpu", "auto/best");
	for (unsigned int p = 0; p < PH_MAX; p++) {
		double m[NBACKENDS], mc[NBACKENDS];

		if (ops[p] == 0) {
			continue;
		}
		for (unsigned int b = 0; b < NBACKENDS; b++) {
			m[b] = xf_perf_median(ns[b][p], c->runs);
			mc[b] = xf_perf_median(cpu[b][p], c->runs);
		}
		double best = m[0] < m[1] ? m[0] : m[1];

		printf("%-20s %7" PRIu64 " %11.0f %11.0f %11.0f %8.2f %10.0f %10.0f %8.2f\n",
		       phase_names[p], ops[p], m[0], m[1], m[2], m[0] > 0 ? m[1] / m[0] : 0, mc[0],
		       mc[1], best > 0 ? m[2] / best : 0);
		for (unsigned int b = 0; b < NBACKENDS; b++) {
			char kase[64];

			snprintf(kase, sizeof(kase), "%s/%s", fs, phase_names[p]);
			xf_perf_csv_row(csv, NAME, kase, xf_storage_io_str(backends[b]), ops[p], 0,
			                1, c->runs, m[b], "ns/op", m[0] > 0 ? m[b] / m[0] : 0);
		}
	}
	printf("uring/in: io_uring's time over inline's (> 1: io_uring is slower); auto/best: auto's "
	       "time over the faster of the two. * plain system calls on both (no io_uring "
	       "opcode): a noise reference.\n");
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: " NAME " [--dir DIR]... [--files N] [--batch B] [--runs N] [--no-fsync]\n"
	        "          [--pin CPU] [--quick] [--csv FILE]\n"
	        "  --dir DIR    where to make the trees (repeatable, up to %d; default /dev/shm)\n"
	        "  --files N    files per tree (default 2048; --quick 256)\n"
	        "  --batch B    operations per submit (default 32, the pipeline's burst)\n"
	        "  --runs N     runs, medians reported (default 5; --quick 1)\n"
	        "  --no-fsync   leave out the fsync phase\n"
	        "  --pin CPU    pin the thread, as an lcore is pinned\n",
	        MAX_DIRS);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "files", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "runs", required_argument, NULL, 'r' },
		{ "no-fsync", no_argument, NULL, 'F' },
		{ "pin", required_argument, NULL, 'p' },
		{ "quick", no_argument, NULL, 'q' },
		{ "csv", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf c = { .batch = 32, .fsync = true, .pin = -1 };
	struct xf_perf_opts po = { 0 };
	FILE *csv;
	char libs[64];
	int o;

	while ((o = getopt_long(argc, argv, "d:n:b:r:Fp:qc:h", lo, NULL)) != -1) {
		switch (o) {
		case 'd':
			if (c.ndirs == MAX_DIRS) {
				usage(stderr);
				return 2;
			}
			c.dirs[c.ndirs++] = optarg;
			break;
		case 'n':
			c.files = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			c.batch = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			c.runs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'F':
			c.fsync = false;
			break;
		case 'p':
			c.pin = atoi(optarg);
			break;
		case 'q':
			c.quick = true;
			break;
		case 'c':
			c.csv = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (c.ndirs == 0) {
		c.dirs[c.ndirs++] = "/dev/shm";
	}
	if (c.files == 0) {
		c.files = c.quick ? 256 : 2048;
	}
	if (c.runs == 0) {
		c.runs = c.quick ? 1 : 5;
	}
	if (c.batch == 0 || c.batch > DEPTH || c.runs > MAX_RUNS || c.files > 1000000) {
		usage(stderr);
		return 2;
	}
	if (c.pin >= 0) {
		xf_perf_pin((unsigned int)c.pin);
	}
	po.quick = c.quick;
	po.runs = c.runs;
	po.csv = c.csv;
	snprintf(libs, sizeof(libs), "liburing %s", XF_URING_VERSION);
	xf_perf_banner(NAME, libs, &po);
	{
		double la[3] = { 0 };

		if (getloadavg(la, 3) == 3) {
			printf("load average: %.2f %.2f %.2f\n", la[0], la[1], la[2]);
		}
	}
	csv = xf_perf_csv_open(&po);
	for (unsigned int i = 0; i < c.ndirs; i++) {
		if (bench_dir(&c, c.dirs[i], csv) < 0) {
			if (csv != NULL) {
				fclose(csv);
			}
			return 1;
		}
	}
	if (csv != NULL) {
		fclose(csv);
	}
	return 0;
}
