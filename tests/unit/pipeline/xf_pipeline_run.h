/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the test_pipeline program share: an in-memory sender's file list,
 * run() that pushes it through one whole session (RX loop, workers, commit), and the
 * checks of the tree it leaves (stat, memcmp, rsync). The scratch paths and the random
 * stream are one per program, defined in test_pipeline.c.
 */
#ifndef XF_PIPELINE_RUN_H
#define XF_PIPELINE_RUN_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_hostile.h"
#include "xf_pipeline_test.h"
#include "xf_test.h"

#include "xf_base.h"
#include "xf_memsend.h"
#include "xf_pipeline.h"
#include "xf_proto.h"
#include "xf_work.h"

extern uint64_t rng_state;

static inline uint64_t
rnd(void)
{
	return xf_test_rand(&rng_state);
}

extern char base_dir[96];
extern char tag_dir[128], src_dir[256], dst_dir[256], canary_dir[256];

struct list {
	struct xf_memsend_file *f;
	uint32_t n, cap;
};

static inline struct xf_memsend_file *
add(struct list *l, const char *path, uint8_t kind)
{
	struct xf_memsend_file *f;

	if (l->n == l->cap) {
		l->cap = l->cap != 0 ? l->cap * 2 : 1024;
		l->f = realloc(l->f, l->cap * sizeof(*l->f));
	}
	f = &l->f[l->n++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->kind = kind;
	f->mode = kind == XF_FILE_DIR ? 0755 : 0644;
	/* Any time after 2020 with a random nanosecond part. */
	f->mtime_ns = 1600000000000000000ll + (int64_t)(rnd() % 100000000000000000ull);
	return f;
}

static inline void
list_free(struct list *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		free((void *)l->f[i].path);
		free((void *)l->f[i].data);
		free((void *)l->f[i].target);
	}
	free(l->f);
	memset(l, 0, sizeof(*l));
}

static inline uint8_t *
random_bytes(uint64_t n)
{
	uint8_t *b = malloc(n != 0 ? n : 1);

	for (uint64_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();

		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
	return b;
}

/* A regular file of size random bytes. */
static inline struct xf_memsend_file *
add_file(struct list *l, const char *path, uint64_t size)
{
	struct xf_memsend_file *f = add(l, path, XF_FILE_REG);

	f->size = size;
	f->data = random_bytes(size);
	return f;
}

static inline void
set_time(int dirfd, const char *path, int64_t ns)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
		                  { .tv_sec = ns / 1000000000ll, .tv_nsec = ns % 1000000000ll } };

	utimensat(dirfd, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* A non-empty directory at dir/path, where a file is to go: its commit is a conflict. */
static inline void
block_with_dir(const char *dir, const char *path)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, path);
	CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/%s/keep", dir, path);
	CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
}

/* Write the list as a tree under dir (the source of truth for rsync). */
static inline void
materialise(const char *dir, const struct list *l)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	CU_ASSERT_FATAL(dfd >= 0);
	for (uint32_t i = 0; i < l->n; i++) {
		const struct xf_memsend_file *f = &l->f[i];
		int fd;

		switch (f->kind) {
		case XF_FILE_DIR:
			CU_ASSERT_FATAL(mkdirat(dfd, f->path, 0700) == 0);
			break;
		case XF_FILE_REG:
			fd = openat(dfd, f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			CU_ASSERT_FATAL(fd >= 0);
			CU_ASSERT_FATAL(write(fd, f->data, f->size) == (ssize_t)f->size);
			close(fd);
			break;
		default:
			CU_ASSERT_FATAL(symlinkat(f->target, dfd, f->path) == 0);
			break;
		}
		if (f->kind != XF_FILE_SYMLINK) {
			fchmodat(dfd, f->path, f->mode, 0);
		}
		if (f->kind != XF_FILE_DIR) {
			set_time(dfd, f->path, f->mtime_ns);
		}
	}
	for (uint32_t i = l->n; i-- > 0;) {
		if (l->f[i].kind == XF_FILE_DIR) {
			set_time(dfd, l->f[i].path, l->f[i].mtime_ns);
		}
	}
	close(dfd);
}

/* Name prefix and suffix around a number: spaces, UTF-8, leading dashes. */
static const char *const names[][2] = {
	{ "f", ".txt" },   { "-dash ", "" },
	{ "sp ace ", "" }, { "\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab", "" },
	{ "--", "--" },    { "caf\xc3\xa9 ", ".bin" },
};

static inline void
make_tree(struct list *l, uint32_t nsmall, uint32_t nbig, uint64_t big_size)
{
	char path[512];
	uint32_t ndirs = 0;
	static const uint32_t modes[] = { 0644, 0600, 0755, 0640, 0444 };
	char dirs[64][64];

	for (uint32_t d = 0; d < 12; d++) {
		snprintf(dirs[ndirs], sizeof(dirs[0]), "d%02u", d);
		add(l, dirs[ndirs++], XF_FILE_DIR)->mode = d % 3 == 0 ? 0750 : 0755;
		snprintf(dirs[ndirs], sizeof(dirs[0]), "d%02u/sub %u", d, d);
		add(l, dirs[ndirs++], XF_FILE_DIR);
		snprintf(dirs[ndirs], sizeof(dirs[0]), "d%02u/sub %u/\xc3\xbcn\xc3\xaf-%u", d, d,
		         d);
		add(l, dirs[ndirs++], XF_FILE_DIR);
	}
	for (uint32_t i = 0; i < nsmall; i++) {
		struct xf_memsend_file *f;
		int k = snprintf(path, sizeof(path), "%.63s/", dirs[i % ndirs]);

		snprintf(path + k, sizeof(path) - (size_t)k, "%s%05u%s",
		         names[i % XF_ARRAY_SIZE(names)][0], i, names[i % XF_ARRAY_SIZE(names)][1]);
		f = add_file(l, path, rnd() % (8192 + 1));
		f->mode = modes[rnd() % XF_ARRAY_SIZE(modes)];
	}
	for (uint32_t i = 0; i < nbig; i++) {
		snprintf(path, sizeof(path), "big %u.bin", i);
		add_file(l, path, big_size);
	}
	for (uint32_t i = 0; i < 10; i++) {
		struct xf_memsend_file *f;

		snprintf(path, sizeof(path), "%.63s/link %u", dirs[i], i);
		f = add(l, path, XF_FILE_SYMLINK);
		f->target = strdup(i % 3 == 0   ? "../../nowhere/at all"
		                   : i % 3 == 1 ? "f00000.txt"
		                                : "/etc/hostname");
	}
}

struct run_opts {
	bool shuffle;
	unsigned int dup_permille;
	enum xf_fsync_policy fsync;
	unsigned int batch;
	unsigned int workers;
	uint32_t window;
	uint16_t max_payload;
	xf_pipeline_fault_fn fault;
	void *fault_arg;
	const void *const *raw;
	const uint32_t *raw_len;
	unsigned int nraw;
	uint32_t flags;  /* XF_HELLO_F_* of the session */
	bool redo_stale; /* with XF_HELLO_F_REDO: the sender sends first-attempt frames late */
	void (*on_sigs)(void *arg, uint32_t file); /* memsend hook (DELTA) */
	void *on_sigs_arg;
	int delta_cache_mb;    /* xf_pipeline_conf.delta_cache_mb (0: default, kept) */
	bool named_temps;      /* xf_pipeline_conf.named_temps: no unnamed (O_TMPFILE) temps */
	bool no_clone;         /* xf_pipeline_conf.no_clone: COPY ops read and write */
	bool verify_full;      /* xf_pipeline_conf.verify_full: every file read back */
	uint32_t sig_cache_mb; /* xf_pipeline_conf.sig_cache_mb (0: no signature cache) */
	struct reuse *reuse;   /* non-NULL: one pipeline for every run given it (the caller
	                          destroys reuse->p), its sessions one after another */

	/* xf_pipeline_conf.partial_max_files (0: no partial file kept) and _bytes */
	uint32_t partial_max_files;
	uint64_t partial_max_bytes;
};

/* A pipeline kept from run to run: its source reads the current run's sender. */
struct reuse {
	struct xf_pipeline *p;
	struct xf_memsend *ms;
	struct xf_session *s;
};

static inline unsigned int
reuse_source(void *arg, struct xf_frame *out, unsigned int max)
{
	return xf_memsend_source(((struct reuse *)arg)->ms, out, max);
}

struct run_result {
	uint8_t *dec;
	uint8_t *status;
	struct xf_pipeline_rx_stats rx;
	struct xf_memsend_stats ms;
	struct xf_pipeline_times times;
	int clone_mode; /* xf_pipeline_clone_mode() */
};

static inline void
run(const char *dst, const struct list *l, const struct run_opts *o, struct run_result *res)
{
	struct xf_memsend_conf mc = {
		.files = l->f,
		.nfiles = l->n,
		.session = 0x5eed0001,
		.max_payload = o->max_payload != 0 ? o->max_payload : XF_PAYLOAD_MAX,
		.window = o->window,
		.seed = 42,
		.shuffle = o->shuffle,
		.dup_permille = o->dup_permille,
		.raw = o->raw,
		.raw_len = o->raw_len,
		.nraw = o->nraw,
		.on_sigs = o->on_sigs,
		.on_sigs_arg = o->on_sigs_arg,
		.redo = (o->flags & XF_HELLO_F_REDO) != 0,
		.redo_stale = o->redo_stale,
	};
	struct xf_pipeline_conf pc = {
		.n_rx = 1,
		.n_workers = o->workers != 0 ? o->workers : 2,
		.rx_core = { 1 },
		.worker_core = { 2, 3, 4, 5 },
		.io = xf_test_io(),
		.delta_cache_mb = o->delta_cache_mb,
		.named_temps = o->named_temps,
		.no_clone = o->no_clone,
		.verify_full = o->verify_full,
		.sig_cache_mb = o->sig_cache_mb,
		.partial_max_files = o->partial_max_files,
		.partial_max_bytes = o->partial_max_bytes,
		.window = o->window,
		.max_sessions = 2,
		.fsync = o->fsync,
		.fsync_batch = o->batch,
		.source = { xf_memsend_source },
		.release = xf_memsend_release,
		.stop_when_done = true,
	};
	struct xf_memsend *ms;
	struct xf_pipeline *p;
	int root = open(dst, O_RDONLY | O_DIRECTORY);

	CU_ASSERT_FATAL(root >= 0);
	ms = xf_memsend_create(&mc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
	pc.root_fd = root;
	pc.source_arg[0] = ms;
	if (o->reuse != NULL) {
		pc.source[0] = reuse_source;
		pc.source_arg[0] = o->reuse;
		o->reuse->ms = ms;
		if (o->reuse->s != NULL) {
			CU_ASSERT_EQUAL(xf_pipeline_session_close(o->reuse->p, o->reuse->s), 0);
		} else {
			o->reuse->p = xf_pipeline_create(&pc);
		}
		p = o->reuse->p;
	} else {
		p = xf_pipeline_create(&pc);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	{
		struct xf_session *s = xf_pipeline_session_open(
		        p, 0, 0, 0, mc.session, mc.max_payload, o->flags, xf_memsend_tx, ms);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (o->reuse != NULL) {
			o->reuse->s = s;
		}
	}
	if (o->fault != NULL) {
		xf_pipeline_set_fault(p, o->fault, o->fault_arg);
	}
	res->clone_mode = xf_pipeline_clone_mode(p);
	CU_ASSERT_EQUAL_FATAL(xf_pipeline_run_threads(p), 0);
	CU_ASSERT_TRUE(xf_memsend_done(ms));
	res->dec = calloc(l->n + 1, 1);
	res->status = calloc(l->n + 1, 1);
	for (uint32_t i = 0; i < l->n; i++) {
		res->dec[i] = xf_memsend_decision(ms, i);
		res->status[i] = xf_memsend_status(ms, i);
	}
	res->rx = *xf_pipeline_rx_stats(p, 0);
	xf_pipeline_times(p, &res->times);
	res->ms = *xf_memsend_stats(ms);
	if (o->reuse == NULL) {
		xf_pipeline_destroy(p);
	}
	xf_memsend_destroy(ms);
	close(root);
}

static inline void
result_free(struct run_result *r)
{
	free(r->dec);
	free(r->status);
}

static inline int64_t
ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

/* Every entry of the list is at dst with its kind, mode, mtime and bytes. */
static inline unsigned int
verify_tree(const char *dst, const struct list *l, const uint8_t *skip)
{
	int dfd = open(dst, O_RDONLY | O_DIRECTORY);
	unsigned int bad = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		const struct xf_memsend_file *f = &l->f[i];
		struct stat sb;
		char buf[4096];

		if (skip != NULL && skip[i]) {
			continue;
		}
		if (fstatat(dfd, f->path, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			bad++;
			continue;
		}
		if (f->kind != XF_FILE_SYMLINK && (sb.st_mode & 07777) != f->mode) {
			bad++;
		}
		if (ns_of(&sb.st_mtim) != f->mtime_ns) {
			bad++;
		}
		if (f->kind == XF_FILE_DIR) {
			bad += !S_ISDIR(sb.st_mode);
		} else if (f->kind == XF_FILE_SYMLINK) {
			ssize_t n = readlinkat(dfd, f->path, buf, sizeof(buf));

			bad += !S_ISLNK(sb.st_mode) || n != (ssize_t)strlen(f->target) ||
			       memcmp(buf, f->target, (size_t)n) != 0;
		} else {
			uint8_t *got = malloc(f->size + 1);
			int fd = openat(dfd, f->path, O_RDONLY);
			ssize_t n = fd >= 0 ? pread(fd, got, f->size + 1, 0) : -1;

			bad += !S_ISREG(sb.st_mode) || n != (ssize_t)f->size ||
			       (f->size > 0 && memcmp(got, f->data, f->size) != 0);
			if (fd >= 0) {
				close(fd);
			}
			free(got);
		}
	}
	close(dfd);
	return bad;
}

/* rsync as an independent judge: nothing to itemize means the trees are equal
 * (content by checksum, perms, times, links). scripts/install-deps.sh installs rsync:
 * without it the check fails. */
static inline int
rsync_diff(const char *src, const char *dst, char *out, size_t cap)
{
	char cmd[1024];
	FILE *fp;
	size_t n;
	int st;

	if (system("command -v rsync >/dev/null 2>&1") != 0) {
		snprintf(out, cap, "rsync is not installed (scripts/install-deps.sh)");
		return 1;
	}
	snprintf(
	        cmd, sizeof(cmd),
	        "rsync -a -n -i --checksum --exclude=/.xferd '%s/' '%s/' 2>&1 | grep -v '^\\.d\\.\\.t\\.* \\./$'",
	        src, dst);
	fp = popen(cmd, "r");
	if (fp == NULL) {
		return -1;
	}
	n = fread(out, 1, cap - 1, fp);
	out[n] = '\0';
	st = pclose(fp);
	(void)st;
	return n == 0 ? 0 : 1;
}

static inline void
snapshot_ctimes(const char *dst, const struct list *l, int64_t *ct)
{
	int dfd = open(dst, O_RDONLY | O_DIRECTORY);

	for (uint32_t i = 0; i < l->n; i++) {
		struct stat sb;

		ct[i] = fstatat(dfd, l->f[i].path, &sb, AT_SYMLINK_NOFOLLOW) == 0
		                ? ns_of(&sb.st_ctim)
		                : -1;
	}
	close(dfd);
}

static inline void
mkpaths(const char *tag)
{
	snprintf(tag_dir, sizeof(tag_dir), "%s/%s", base_dir, tag);
	snprintf(src_dir, sizeof(src_dir), "%s/src", tag_dir);
	snprintf(dst_dir, sizeof(dst_dir), "%s/dst", tag_dir);
	snprintf(canary_dir, sizeof(canary_dir), "%s/canary", tag_dir);
	CU_ASSERT_FATAL(mkdir(tag_dir, 0700) == 0);
	CU_ASSERT_FATAL(mkdir(src_dir, 0700) == 0);
	CU_ASSERT_FATAL(mkdir(dst_dir, 0700) == 0);
	CU_ASSERT_FATAL(mkdir(canary_dir, 0700) == 0);
}

/* Write bytes as file path under dir with mtime ns (a basis at the receiver). */
static inline void
put_file(const char *dir, const char *path, const uint8_t *bytes, uint64_t n, int64_t ns)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, bytes, n) == (ssize_t)n);
	close(fd);
	set_time(dfd, path, ns);
	close(dfd);
}

struct fault_ctx {
	uint32_t file;
	unsigned int hits;
};

static inline int32_t
enospc_on_write(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct fault_ctx *fc = arg;

	(void)sid;
	if (op == XF_SOP_WRITE && file == fc->file) {
		fc->hits++;
		return -ENOSPC;
	}
	return res;
}

/*
 * A tree listed as the scan lists it (each directory, then what is in it), into an empty
 * destination with one worker: new directories are staged, their files written in them
 * at their names, and each put in place with one rename. The list has what makes a staged
 * directory stop taking files: a subdirectory between its files, a file after that
 * subdirectory, a symlink, a directory of more files than it may take (window / 2). Every
 * entry lands as sent, nothing is left in the staging directory, and a second push finds
 * everything up to date.
 */
static inline void
make_scan_tree(struct list *l, const char *top, uint32_t ndirs, uint32_t per_dir, uint32_t big_dir)
{
	char path[256];

	add(l, top, XF_FILE_DIR)->mode = 0750;
	for (uint32_t d = 0; d < ndirs; d++) {
		uint32_t n = d == big_dir ? 3 * per_dir : per_dir;

		snprintf(path, sizeof(path), "%s/d%02u", top, d);
		add(l, path, XF_FILE_DIR)->mode = d % 2 == 0 ? 0755 : 0700;
		for (uint32_t i = 0; i < n; i++) {
			struct xf_memsend_file *f;

			snprintf(path, sizeof(path), "%s/d%02u/f%03u", top, d, i);
			f = add_file(l, path, rnd() % 9000);
			f->mode = i % 3 == 0 ? 0600 : 0644;
		}
		if (d % 3 == 1) {
			snprintf(path, sizeof(path), "%s/d%02u/m sub", top, d);
			add(l, path, XF_FILE_DIR);
			snprintf(path, sizeof(path), "%s/d%02u/m sub/x", top, d);
			add_file(l, path, 100);
			snprintf(path, sizeof(path), "%s/d%02u/z after", top, d);
			add_file(l, path, 10);
		}
		if (d % 3 == 2) {
			snprintf(path, sizeof(path), "%s/d%02u/z link", top, d);
			add(l, path, XF_FILE_SYMLINK)->target = strdup("f000");
		}
	}
}

/* The cases in test_pipeline_delta.c. */
void test_delta(void);
void test_delta_reread(void);
void test_delta_direct(void);
void test_delta_verify_full(void);
void test_delta_basis_changed(void);
void test_delta_basis_changed_kept(void);
void test_delta_redo(void);
void test_delta_redo_fails_again(void);
void test_delta_copy_beyond_basis(void);
void test_delta_copy_past_size(void);
void test_delta_presized(void);
void test_checksum_mode(void);
void test_sig_cache(void);
void test_sig_cache_commit(void);

/* The cases in test_pipeline_staged.c. */
void test_staged_dirs(void);
void test_staged_failures(void);
void test_staged_fsync(void);

#endif /* XF_PIPELINE_RUN_H */
