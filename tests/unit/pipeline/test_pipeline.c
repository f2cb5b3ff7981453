/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive pipeline end to end in one process: frames encoded by an in-memory
 * sender, decoded by the RX loop, written by io_uring workers into a temp volume and
 * committed in order. Checked against the source tree with stat, memcmp and rsync.
 *
 * Over 1,000 lines, one file: each case drives the same in-memory sender, RX loop and
 * workers (xf_pipeline_test.h) through one whole session; the commit, write and hostile
 * cases that need less of that harness are programs of their own beside it.
 */
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

static uint64_t rng_state = 0x5DEECE66Dull;

static uint64_t
rnd(void)
{
	return xf_test_rand(&rng_state);
}

static char base_dir[96];
static char tag_dir[128], src_dir[256], dst_dir[256], canary_dir[256];

struct list {
	struct xf_memsend_file *f;
	uint32_t n, cap;
};

static struct xf_memsend_file *
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

static void
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

static uint8_t *
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
static struct xf_memsend_file *
add_file(struct list *l, const char *path, uint64_t size)
{
	struct xf_memsend_file *f = add(l, path, XF_FILE_REG);

	f->size = size;
	f->data = random_bytes(size);
	return f;
}

static void
set_time(int dirfd, const char *path, int64_t ns)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
		                  { .tv_sec = ns / 1000000000ll, .tv_nsec = ns % 1000000000ll } };

	utimensat(dirfd, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* A non-empty directory at dir/path, where a file is to go: its commit is a conflict. */
static void
block_with_dir(const char *dir, const char *path)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, path);
	CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/%s/keep", dir, path);
	CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
}

/* Write the list as a tree under dir (the source of truth for rsync). */
static void
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

static void
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
	uint32_t flags;                            /* XF_HELLO_F_* of the session */
	void (*on_sigs)(void *arg, uint32_t file); /* memsend hook (DELTA) */
	void *on_sigs_arg;
	int delta_cache_mb;  /* xf_pipeline_conf.delta_cache_mb (0: default, kept) */
	bool named_temps;    /* xf_pipeline_conf.named_temps: no unnamed (O_TMPFILE) temps */
	struct reuse *reuse; /* non-NULL: one pipeline for every run given it (the caller
	                        destroys reuse->p), its sessions one after another */
};

/* A pipeline kept from run to run: its source reads the current run's sender. */
struct reuse {
	struct xf_pipeline *p;
	struct xf_memsend *ms;
	struct xf_session *s;
};

static unsigned int
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
};

static void
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
	};
	struct xf_pipeline_conf pc = {
		.n_rx = 1,
		.n_workers = o->workers != 0 ? o->workers : 2,
		.rx_core = { 1 },
		.worker_core = { 2, 3, 4, 5 },
		.io = xf_test_io(),
		.delta_cache_mb = o->delta_cache_mb,
		.named_temps = o->named_temps,
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

static void
result_free(struct run_result *r)
{
	free(r->dec);
	free(r->status);
}

static int64_t
ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

/* Every entry of the list is at dst with its kind, mode, mtime and bytes. */
static unsigned int
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
static int
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

static void
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

static void
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

/*
 * 10,000 small files in nested directories with awkward names, 3 x 8 MiB files,
 * symlinks; frames shuffled and duplicated. Then the same list again: all UPTODATE,
 * nothing written.
 */
static void
test_tree_end_to_end(void)
{
	struct list l = { 0 };
	struct run_opts o = { .shuffle = true, .dup_permille = 30, .window = 512 };
	struct run_result r1, r2;
	char diff[4096];
	int64_t *ct1, *ct2;
	unsigned int whole = 0;
	int rc;

	mkpaths("tree");
	make_tree(&l, 10000, 3, 8u << 20);
	materialise(src_dir, &l);
	run(dst_dir, &l, &o, &r1);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r1.status[i], 0);
		CU_ASSERT_EQUAL(r1.dec[i], XF_DEC_WHOLE);
		whole += r1.dec[i] == XF_DEC_WHOLE;
	}
	printf("\n  run 1: %u entries, %u WHOLE, %llu frames (%llu duplicates), %llu stalls, "
	       "%llu late/dup DATA dropped\n",
	       l.n, whole, (unsigned long long)r1.ms.frames, (unsigned long long)r1.ms.dups,
	       (unsigned long long)r1.rx.stalls, (unsigned long long)r1.rx.data_dropped);
	CU_ASSERT(r1.ms.dups > 0);
	CU_ASSERT_EQUAL(r1.ms.done_files, l.n);
	/* Into an empty tree: every regular file new, written unnamed and linked. */
	CU_ASSERT_EQUAL(r1.times.unnamed_temps, 10003u);
	CU_ASSERT_EQUAL(r1.times.link_taken, 0u);
	CU_ASSERT_EQUAL(r1.rx.bad_frames, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(xh_count_entries(canary_dir), 0);
	CU_ASSERT_EQUAL(xh_count_entries(tag_dir), 3); /* src, dst, canary: nothing else */
	{
		char tmp[300];

		snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
		CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	}
	rc = rsync_diff(src_dir, dst_dir, diff, sizeof(diff));
	if (rc != 0) {
		printf("  rsync differences:\n%s\n", diff);
	}
	CU_ASSERT_EQUAL(rc, 0);
	/* Second run: the quick check finds everything up to date and nothing changes. */
	ct1 = calloc(l.n, sizeof(*ct1));
	ct2 = calloc(l.n, sizeof(*ct2));
	snapshot_ctimes(dst_dir, &l, ct1);
	run(dst_dir, &l, &o, &r2);
	snapshot_ctimes(dst_dir, &l, ct2);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r2.dec[i], XF_DEC_UPTODATE);
		CU_ASSERT_EQUAL(ct1[i], ct2[i]);
	}
	CU_ASSERT_EQUAL(r2.ms.done_files, l.n);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	free(ct1);
	free(ct2);
	result_free(&r1);
	result_free(&r2);
	list_free(&l);
}

/*
 * Hostile entries: "..", "a/../../b", "/abs", a 300-byte component, a path into the
 * staging directory, a path through a symlink in the volume that points outside, a
 * symlink entry then a file beneath it, and a frame whose path is 4096 bytes (over the
 * wire limit). All refused or failed; the good files land; the canary stays empty.
 */
static void
test_hostile_paths(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 64, .fsync = XF_FSYNC_FILE };
	struct run_result r;
	char longname[301], target[300], path[8];
	static uint8_t raw[XF_PAYLOAD_MAX];
	const void *rawp[1] = { raw };
	uint32_t rawlen[1];
	enum { GOOD1, DOTDOT, UPUP, ABS, LONGC, STAGING, EVIL, LNK, UNDERLNK, GOOD2, N };
	struct xf_memsend_file *f;

	mkpaths("hostile");
	/* A symlink already in the volume, pointing at the canary outside it. */
	CU_ASSERT_FATAL(symlinkat(canary_dir, open(dst_dir, O_RDONLY | O_DIRECTORY), "evil") == 0);
	memset(longname, 'n', 300);
	longname[300] = '\0';
	add(&l, "good one", XF_FILE_REG);
	add(&l, "..", XF_FILE_REG);
	add(&l, "a/../../b", XF_FILE_REG);
	add(&l, "/abs", XF_FILE_REG);
	add(&l, longname, XF_FILE_REG);
	add(&l, ".xferd/tmp/0.5eed0001.0", XF_FILE_REG);
	add(&l, "evil/x", XF_FILE_REG);
	f = add(&l, "lnk", XF_FILE_SYMLINK);
	f->target = strdup(canary_dir);
	add(&l, "lnk/y", XF_FILE_REG);
	add(&l, "good two", XF_FILE_REG);
	for (uint32_t i = 0; i < l.n; i++) {
		if (l.f[i].kind == XF_FILE_REG) {
			l.f[i].size = 1000 + i;
			l.f[i].data = random_bytes(l.f[i].size);
		}
	}
	/* The 4096-byte path: encode 4095 bytes, then make it one longer by hand. */
	{
		struct xf_proto_builder b;
		struct xf_msg m = { .hdr = { .version = XF_PROTO_VERSION,
			                     .type = XF_MSG_FLIST,
			                     .session = 0x5eed0001,
			                     .pn = 1u << 20 } };
		static char p4095[4096];
		struct xf_flist_entry e = { .kind = XF_FILE_REG,
			                    .mode = 0644,
			                    .size = 1,
			                    .path = p4095,
			                    .path_len = 4095 };
		int n;

		for (int i = 0; i < 4095; i++) {
			p4095[i] = i % 200 == 199 ? '/' : 'p';
		}
		m.flist.first_index = N;
		CU_ASSERT_FATAL(xf_proto_build_begin(&b, raw, sizeof(raw), &m) == 0);
		CU_ASSERT_FATAL(xf_proto_build_flist(&b, &e) == 0);
		n = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(n > 0);
		raw[XF_HDR_LEN + 8 + 2] = 0x10; /* path_len 4096 */
		raw[XF_HDR_LEN + 8 + 3] = 0x00;
		raw[n] = 'p';
		raw[6] = (uint8_t)((n + 1 - XF_HDR_LEN) >> 8);
		raw[7] = (uint8_t)(n + 1 - XF_HDR_LEN);
		rawlen[0] = (uint32_t)n + 1;
	}
	o.raw = rawp;
	o.raw_len = rawlen;
	o.nraw = 1;
	(void)target;
	(void)path;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.status[GOOD1], 0);
	CU_ASSERT_EQUAL(r.status[GOOD2], 0);
	CU_ASSERT_EQUAL(r.status[LNK], 0);
	CU_ASSERT_EQUAL(r.status[DOTDOT], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[UPUP], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[ABS], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[LONGC], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[STAGING], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[EVIL], XF_ST_ESCAPE);
	/* Stat may run before or after "lnk" exists: refused at stat, or failed at commit. */
	CU_ASSERT_EQUAL(r.status[UNDERLNK], XF_ST_ESCAPE);
	CU_ASSERT_EQUAL(r.dec[DOTDOT], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(r.rx.bad_frames, 1); /* the 4096-byte path */
	CU_ASSERT_EQUAL(r.ms.done_files, (uint32_t)N);
	CU_ASSERT_EQUAL(xh_count_entries(canary_dir), 0);
	CU_ASSERT_EQUAL(xh_count_entries(tag_dir), 3);
	{
		uint8_t skip[N] = { 0 };

		for (int i = DOTDOT; i <= UNDERLNK; i++) {
			skip[i] = i != LNK;
		}
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	}
	/* good one, good two, evil, lnk and the staging dir: nothing else in the volume. */
	CU_ASSERT_EQUAL(xh_count_entries(dst_dir), 5);
	result_free(&r);
	list_free(&l);
}

/* Write bytes as file path under dir with mtime ns (a basis at the receiver). */
static void
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

static unsigned int
tmp_left(const char *dst)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst);
	return (unsigned int)xh_count_entries(tmp);
}

/*
 * Older versions of the files at the receiver: DELTA for each, its signatures computed
 * from the basis, COPY applied through io_uring next to DATA, and the whole-file CRC64
 * verified. Bytes changed, a block inserted, a longer basis, an unrelated basis, the
 * same content under an older mtime, and a file with no basis (WHOLE). Frames are
 * shuffled and duplicated, at MTU 1500 so that files span many frames.
 */
static void
delta_run(const char *tag, int delta_cache_mb)
{
	struct list l = { 0 };
	struct run_opts o = { .shuffle = true,
		              .dup_permille = 20,
		              .window = 8,
		              .max_payload = 1472,
		              .delta_cache_mb = delta_cache_mb };
	struct run_result r;
	static const uint64_t sizes[] = { 300000, 1u << 20, 5000, 2u << 20, 777777, 100000 };
	enum { CHANGED, INSERTED, LONGER, UNRELATED, SAMEBYTES, NOBASIS, N };
	uint64_t delta_bytes = 0;

	mkpaths(tag);
	for (int i = 0; i < N; i++) {
		char path[32];
		struct xf_memsend_file *f;
		uint8_t *b;
		uint64_t bn;

		snprintf(path, sizeof(path), "f%d", i);
		f = add_file(&l, path, sizes[i]);
		b = malloc(f->size + 10000);
		memcpy(b, f->data, f->size);
		bn = f->size;
		switch (i) {
		case CHANGED:
			for (int k = 0; k < 5; k++) {
				b[rnd() % bn] ^= 0xff;
			}
			break;
		case INSERTED: /* the new file has 3000 bytes the basis lacks */
			memmove(b + 1000, b + 4000, bn - 4000);
			bn -= 3000;
			break;
		case LONGER:
			memcpy(b + bn, f->data, 10000 < bn ? 10000 : bn);
			bn += 10000 < bn ? 10000 : bn;
			break;
		case UNRELATED:
			free(b);
			b = random_bytes(bn);
			break;
		default:
			break;
		}
		if (i != NOBASIS) {
			put_file(dst_dir, path, b, bn, f->mtime_ns - 1000000000ll);
		}
		if (i != NOBASIS && i != UNRELATED) {
			delta_bytes += f->size;
		}
		free(b);
	}
	run(dst_dir, &l, &o, &r);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
		CU_ASSERT_EQUAL(r.dec[i], i == NOBASIS ? XF_DEC_WHOLE : XF_DEC_DELTA);
	}
	CU_ASSERT_EQUAL(r.ms.sig_files, N - 1);
	/* Each DELTA file's signature array came from its worker's ring, none from malloc. */
	CU_ASSERT_EQUAL(r.times.sig_leased, N - 1);
	CU_ASSERT_EQUAL(r.times.sig_heap, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	/* Nearly everything of the related files came from their basis. */
	CU_ASSERT(r.ms.matched_bytes > delta_bytes * 9 / 10);
	CU_ASSERT(r.ms.literal_bytes >= sizes[UNRELATED]);
	CU_ASSERT_EQUAL(r.rx.bad_frames, 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	printf("\n  matched %llu, literal %llu bytes\n", (unsigned long long)r.ms.matched_bytes,
	       (unsigned long long)r.ms.literal_bytes);
	/* Kept: every COPY byte came from memory (duplicated frames may add more); not
	 * kept: every one was read from the basis again. */
	if (delta_cache_mb < 0) {
		CU_ASSERT_EQUAL(r.times.copy_kept, 0);
	} else {
		CU_ASSERT(r.times.copy_kept >= r.ms.matched_bytes);
	}
	result_free(&r);
	list_free(&l);
}

static void
test_delta(void)
{
	delta_run("delta", 0);
}

/* The same with no basis kept in memory: each COPY reads the basis again. */
static void
test_delta_reread(void)
{
	delta_run("delta-reread", -1);
}

/* The basis is rewritten in place after its signatures went out, before any COPY. */
struct change_ctx {
	const struct list *l;
	uint32_t file;
	unsigned int hits;
};

static void
change_basis(void *arg, uint32_t file)
{
	struct change_ctx *c = arg;
	char path[512];
	uint8_t junk[4096];
	int fd;

	if (file != c->file) {
		return;
	}
	c->hits++;
	memset(junk, 0xa5, sizeof(junk));
	snprintf(path, sizeof(path), "%s/%s", dst_dir, c->l->f[file].path);
	fd = open(path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	for (off_t off = 0; off < 65536; off += (off_t)sizeof(junk)) {
		CU_ASSERT_FATAL(pwrite(fd, junk, sizeof(junk), off) == (ssize_t)sizeof(junk));
	}
	close(fd);
}

/*
 * A basis that changes on disk while in use never produces a corrupt commit. Read again
 * for its COPY ops (not kept in memory): the whole-file CRC64 catches it, the file fails
 * with XF_ST_CHECKSUM and the final path keeps the (changed) basis; the next push of it
 * goes WHOLE and lands intact. test_delta_basis_changed_kept has the other case.
 */
/*
 * A hostile sender's COPY far past the announced size (2^40): nothing is written there
 * (no terabyte sparse temp), the file fails with XF_ST_SIZE, its old version stays.
 */
static void
test_delta_copy_past_size(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472 };
	struct run_result r;
	struct xf_memsend_file *f;
	uint8_t *b;
	struct stat sb;
	char path[600];

	mkpaths("copy-past");
	f = add_file(&l, "victim", 200000);
	f->copy_shift = 1ull << 40;
	b = malloc(f->size);
	memcpy(b, f->data, f->size);
	b[1000] ^= 0xff; /* a basis that differs a little: DELTA, mostly COPY */
	put_file(dst_dir, "victim", b, f->size, f->mtime_ns - 1000000000ll);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.status[0], XF_ST_SIZE);
	/* Only the literal around the changed byte was written, no COPY (at 2^40 or at all). */
	CU_ASSERT(r.times.data_bytes < f->size / 4);
	snprintf(path, sizeof(path), "%s/victim", dst_dir);
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_size, (off_t)f->size); /* the old version, intact */
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	free(b);
	result_free(&r);
	list_free(&l);
}

static void
test_delta_basis_changed(void)
{
	struct list l = { 0 };
	struct change_ctx cc = { .l = &l, .file = 0 };
	struct reuse ru = { 0 };
	struct run_opts o = { .window = 8,
		              .max_payload = 1472,
		              .on_sigs = change_basis,
		              .on_sigs_arg = &cc,
		              .delta_cache_mb = -1,
		              .reuse = &ru };
	struct run_result r1, r2;
	uint8_t *after;
	char g0[300];
	int fd;

	mkpaths("basis-changed");
	for (int i = 0; i < 2; i++) {
		char path[32];
		struct xf_memsend_file *f;
		uint8_t *d;

		snprintf(path, sizeof(path), "g%d", i);
		f = add(&l, path, XF_FILE_REG);
		f->size = 400000;
		f->data = d = random_bytes(f->size);
		d[1000] ^= 1; /* the basis below differs in one byte */
		put_file(dst_dir, path, d, f->size, f->mtime_ns - 5);
		d[1000] ^= 1;
	}
	run(dst_dir, &l, &o, &r1);
	CU_ASSERT_EQUAL(cc.hits, 1);
	CU_ASSERT_EQUAL(r1.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r1.status[0], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(r1.status[1], 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	/* What is at g0 is the basis as the test changed it: not a mix, not the new file. */
	after = malloc(l.f[0].size);
	snprintf(g0, sizeof(g0), "%s/g0", dst_dir);
	fd = open(g0, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, after, l.f[0].size, 0), (ssize_t)l.f[0].size);
	close(fd);
	CU_ASSERT_EQUAL(after[0], 0xa5);
	CU_ASSERT_EQUAL(after[65535], 0xa5);
	CU_ASSERT_EQUAL(memcmp(after + 65536, l.f[0].data + 65536, l.f[0].size - 65536), 0);
	free(after);
	{
		uint8_t skip[2] = { 1, 0 };

		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	}
	/* Again, through the same pipeline (the set of failed DELTA files is its own): g0
	 * goes whole this time, g1 is up to date. */
	run(dst_dir, &l, &o, &r2);
	CU_ASSERT_EQUAL(r2.dec[0], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(r2.status[0], 0);
	CU_ASSERT_EQUAL(r2.dec[1], XF_DEC_UPTODATE);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	xf_pipeline_destroy(ru.p);
	result_free(&r1);
	result_free(&r2);
	list_free(&l);
}

/*
 * A basis kept in memory since its signatures, then rewritten on disk before any COPY:
 * the COPY ops take the bytes the signatures described, so the file is rebuilt as the
 * sender has it, verified and committed (the change on disk is replaced, as it would
 * be a moment later by any push). Never a mix of the two.
 */
static void
test_delta_basis_changed_kept(void)
{
	struct list l = { 0 };
	struct change_ctx cc = { .l = &l, .file = 0 };
	struct run_opts o = {
		.window = 8, .max_payload = 1472, .on_sigs = change_basis, .on_sigs_arg = &cc
	};
	struct run_result r;
	struct xf_memsend_file *f;
	uint8_t *d;

	mkpaths("basis-changed-kept");
	f = add(&l, "g0", XF_FILE_REG);
	f->size = 400000;
	f->data = d = random_bytes(f->size);
	d[1000] ^= 1; /* the basis differs in one byte */
	put_file(dst_dir, "g0", d, f->size, f->mtime_ns - 5);
	d[1000] ^= 1;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(cc.hits, 1);
	CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.status[0], 0);
	CU_ASSERT(r.times.copy_kept >= f->size - 4096);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);
	list_free(&l);
}

/*
 * A hostile sender's COPY from past the end of the basis: the file fails with
 * XF_ST_CHECKSUM (what a read of a shorter basis gives), its old version stays, and no
 * byte comes from beyond the kept basis. Kept in memory and read again alike.
 */
static void
test_delta_copy_beyond_basis(void)
{
	for (int keep = 0; keep < 2; keep++) {
		struct list l = { 0 };
		struct run_opts o = { .window = 8,
			              .max_payload = 1472,
			              .delta_cache_mb = keep ? 0 : -1 };
		struct run_result r;
		struct xf_memsend_file *f;
		uint8_t *b;
		struct stat sb;
		char path[600];

		mkpaths(keep ? "copy-beyond-kept" : "copy-beyond");
		f = add_file(&l, "victim", 200000);
		f->copy_src_shift = f->size; /* every COPY starts at or past the basis end */
		b = malloc(f->size);
		memcpy(b, f->data, f->size);
		b[1000] ^= 0xff;
		put_file(dst_dir, "victim", b, f->size, f->mtime_ns - 1000000000ll);
		run(dst_dir, &l, &o, &r);
		CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[0], XF_ST_CHECKSUM);
		CU_ASSERT_EQUAL(r.times.copy_kept, 0);
		snprintf(path, sizeof(path), "%s/victim", dst_dir);
		CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_size, (off_t)f->size);
		CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
		free(b);
		result_free(&r);
		list_free(&l);
	}
}

/*
 * Checksum mode: a file with the same size and mtime but other bytes is found and
 * fixed (the quick check by size and mtime would call it up to date); an identical
 * one is rebuilt from its basis alone (all COPY); two empty files are up to date.
 */
static void
test_checksum_mode(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472, .flags = XF_HELLO_F_CHECKSUM };
	struct run_result r;
	struct xf_memsend_file *f;
	uint8_t *b;

	mkpaths("checksum");
	f = add_file(&l, "sneaky", 200000);
	b = malloc(f->size);
	memcpy(b, f->data, f->size);
	b[123456] ^= 0x10;
	put_file(dst_dir, "sneaky", b, f->size, f->mtime_ns);
	free(b);
	f = add_file(&l, "same", 150000);
	put_file(dst_dir, "same", f->data, f->size, f->mtime_ns);
	f = add(&l, "empty", XF_FILE_REG);
	put_file(dst_dir, "empty", (const uint8_t *)"", 0, f->mtime_ns);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.dec[1], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.dec[2], XF_DEC_UPTODATE);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	CU_ASSERT(r.ms.literal_bytes < 5000); /* one block of sneaky */
	CU_ASSERT_EQUAL(r.ms.literal_bytes + r.ms.matched_bytes, 350000);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	result_free(&r);
	list_free(&l);
}

struct fault_ctx {
	uint32_t file;
	unsigned int hits;
};

static int32_t
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

/* Puts a file in the way of file `file`: where its named temp file is about to be
 * created (named), or at its final path just after its quick check found none there. */
struct leftover_ctx {
	const char *tmp_dir;
	const char *dst_dir;
	bool named;
	uint32_t file;
	uint32_t session;
	unsigned int hits;
};

static int32_t
leftover_on_stat(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct leftover_ctx *lc = arg;

	if (op == XF_SOP_STATX && file == lc->file && lc->hits++ == 0) {
		char name[XF_TMPNAME_SIZE], path[600];
		int fd;

		xf_work_tmpname(name, sid, lc->session, file);
		if (lc->named) {
			snprintf(path, sizeof(path), "%s/%s", lc->tmp_dir, name);
		} else {
			snprintf(path, sizeof(path), "%s/m%02u", lc->dst_dir, file);
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CU_ASSERT(fd >= 0 && write(fd, "stale bytes", 11) == 11);
		close(fd);
	}
	return res;
}

/*
 * Modes: a file whose mode survives creation under the umask is created with it and gets
 * no fchmod; any other (bits the umask takes away, set-id, sticky) is set by fchmod.
 * Every mode must land exactly, under three umasks, with named and unnamed temp files.
 * Named: a leftover file where a temp file goes is removed first, so the new file has
 * its own mode and bytes, not the leftover's. Unnamed: a file that appears at the final
 * path after the quick check is replaced (the link finds the name taken), as a rename
 * would have.
 */
static void
test_modes(void)
{
	static const uint32_t modes[] = { 0644, 0600,  0755,  0664,  0666, 0777, 0700, 0000,
		                          0444, 04755, 02750, 01777, 0640, 0511, 0007 };
	static const mode_t umasks[] = { 022, 077, 0 };
	mode_t saved = umask(022);

	for (unsigned int u = 0; u < 2 * XF_ARRAY_SIZE(umasks); u++) {
		bool named = u < XF_ARRAY_SIZE(umasks);
		mode_t um = umasks[u % XF_ARRAY_SIZE(umasks)];
		struct list l = { 0 };
		struct run_opts o = { .window = 64, .named_temps = named };
		struct leftover_ctx lc = { .file = 2, .session = 0x5eed0001, .named = named };
		struct run_result r;
		uint64_t expect_set = 0;
		char tag[32], tmp_dir[600];

		snprintf(tag, sizeof(tag), "modes-%s-%03o", named ? "named" : "unnamed",
		         (unsigned int)um);
		mkpaths(tag);
		snprintf(tmp_dir, sizeof(tmp_dir), "%s/.xferd/tmp", dst_dir);
		lc.tmp_dir = tmp_dir;
		lc.dst_dir = dst_dir;
		o.fault = leftover_on_stat;
		o.fault_arg = &lc;
		for (uint32_t i = 0; i < 3 * XF_ARRAY_SIZE(modes); i++) {
			struct xf_memsend_file *f;
			char path[32];

			snprintf(path, sizeof(path), "m%02u", i);
			f = add_file(&l, path, 1 + rnd() % 3000);
			f->mode = modes[i % XF_ARRAY_SIZE(modes)];
			expect_set += f->mode <= 0777 && (f->mode & ~um) == f->mode;
		}
		umask(um);
		run(dst_dir, &l, &o, &r);
		umask(022);
		for (uint32_t i = 0; i < l.n; i++) {
			CU_ASSERT_EQUAL(r.status[i], 0);
		}
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
		CU_ASSERT_EQUAL(r.times.files_done, l.n);
		CU_ASSERT_EQUAL(r.times.modes_at_create, expect_set);
		CU_ASSERT_EQUAL(lc.hits, 1);
		CU_ASSERT_EQUAL(r.times.tmp_leftovers, named ? 1 : 0);
		CU_ASSERT_EQUAL(r.times.unnamed_temps, named ? 0 : l.n);
		CU_ASSERT_EQUAL(r.times.link_taken, named ? 0 : 1);
		CU_ASSERT_EQUAL(xh_count_entries(tmp_dir), 0);
		printf("\n  %s temps, umask %03o: %llu of %u modes set at creation",
		       named ? "named" : "unnamed", (unsigned int)um,
		       (unsigned long long)r.times.modes_at_create, l.n);
		result_free(&r);
		list_free(&l);
	}
	umask(saved);
}

/*
 * One file with a wrong CRC in FILE_END, one whose writes fail with ENOSPC. Both had a
 * previous version at the final path: it stays. A third meets a directory at its final
 * path (conflict; the directory stays). Everything else is committed, and no temp file
 * is left. Batched fsync, and small frames so the big files span many.
 */
static void
test_failures(void)
{
	struct list l = { 0 };
	struct fault_ctx fc;
	struct run_opts o = { .shuffle = true,
		              .window = 32,
		              .fsync = XF_FSYNC_BATCH,
		              .batch = 8,
		              .max_payload = XF_PAYLOAD_MTU1500,
		              .fault = enospc_on_write,
		              .fault_arg = &fc };
	struct run_result r;
	const uint32_t bad_crc = 17, no_space = 42, conflict = 99;
	uint8_t skip[300] = { 0 };
	struct list old = { 0 };
	char tmp[300];

	mkpaths("fail");
	for (uint32_t i = 0; i < 200; i++) {
		char path[64];

		snprintf(path, sizeof(path), "dir %u/file-%u", i % 5, i);
		add_file(&l, path, i == bad_crc || i == no_space ? 100000 : rnd() % 20000);
		if (i == bad_crc || i == no_space) {
			/* The previous version, a different size and time. */
			struct xf_memsend_file *of = add(&old, path, XF_FILE_REG);

			of->size = 777;
			of->data = random_bytes(of->size);
		}
	}
	l.f[bad_crc].crc_xor = 1;
	fc.file = no_space;
	fc.hits = 0;
	for (uint32_t d = 0; d < 5; d++) {
		snprintf(tmp, sizeof(tmp), "%s/dir %u", dst_dir, d);
		mkdir(tmp, 0755);
	}
	materialise(dst_dir, &old);
	/* A non-empty directory where file 99 should go: its commit is a conflict. */
	block_with_dir(dst_dir, l.f[conflict].path);
	run(dst_dir, &l, &o, &r);
	for (uint32_t i = 0; i < l.n; i++) {
		if (i == bad_crc) {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_CHECKSUM);
		} else if (i == no_space) {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_NOSPACE);
		} else if (i == conflict) {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_CONFLICT);
		} else {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_OK);
		}
	}
	CU_ASSERT(fc.hits > 0);
	CU_ASSERT_EQUAL(r.ms.done_files, l.n);
	skip[bad_crc] = skip[no_space] = skip[conflict] = 1;
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	snprintf(tmp, sizeof(tmp), "%s/%s/keep", dst_dir, l.f[conflict].path);
	CU_ASSERT_EQUAL(access(tmp, F_OK), 0);
	/* The old versions are intact at the final paths. */
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &old, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);
	list_free(&l);
	list_free(&old);
}

/* Rename completions as the commit worker sees them, and one rename to fail. */
struct chain_ctx {
	uint32_t fail;      /* file whose commit step reports -ENOSPC */
	uint32_t seen[256]; /* files whose commit step completed, in completion order */
	unsigned int nseen;
	unsigned int links; /* of those steps, links of unnamed temps */
};

/* The commit steps: renames of named temp files, links of unnamed ones. */
static int32_t
record_commits(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct chain_ctx *cc = arg;

	(void)sid;
	if (op != XF_SOP_RENAME && op != XF_SOP_LINK) {
		return res;
	}
	cc->links += op == XF_SOP_LINK;
	if (cc->nseen < XF_ARRAY_SIZE(cc->seen)) {
		cc->seen[cc->nseen] = file;
	}
	cc->nseen++;
	return file == cc->fail ? -ENOSPC : res;
}

/*
 * The commit steps of a batch (renames, or links of new files' unnamed temps) go out as
 * one linked chain. They must complete in file-list order (each starts after the one
 * before it), and each result must reach its own file: in one directory, one step fails
 * for real (a directory is in the way: CONFLICT, the directory stays) and one is
 * reported failed by the fault hook (NOSPACE); the files before, between and after them
 * are committed. Runs of files already up to date (no step) sit among them, so a batch's
 * k-th step is not its k-th item. Under no fsync (batches of up to 512) and batched
 * fsync (batches of 16), with unnamed temp files and with named ones only.
 */
static void
chain_case(const char *tag, enum xf_fsync_policy fsync, unsigned int batch, bool named)
{
	struct list l = { 0 };
	struct list pre = { 0 };
	struct chain_ctx cc = { .fail = 77 };
	struct run_opts o = { .window = 64,
		              .fsync = fsync,
		              .batch = batch,
		              .fault = record_commits,
		              .fault_arg = &cc,
		              .named_temps = named };
	struct run_result r;
	const uint32_t conflict = 40;
	uint8_t skip[128] = { 0 };
	uint32_t renamed = 0;
	char tmp[300];

	mkpaths(tag);
	add(&l, "batch", XF_FILE_DIR);
	for (uint32_t i = 1; i < 121; i++) {
		struct xf_memsend_file *f;
		char path[64];

		snprintf(path, sizeof(path), "batch/f%03u", i);
		f = add_file(&l, path, rnd() % 3000);
		if ((i >= 20 && i < 30) || (i >= 60 && i < 66) || i == 90) {
			struct xf_memsend_file *u = add(&pre, path, XF_FILE_REG);

			u->size = f->size;
			u->data = malloc(f->size + 1);
			memcpy((void *)u->data, f->data, f->size);
			u->mode = f->mode;
			u->mtime_ns = f->mtime_ns;
		} else {
			renamed++;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s/batch", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0755) == 0);
	materialise(dst_dir, &pre);
	block_with_dir(dst_dir, l.f[conflict].path);
	run(dst_dir, &l, &o, &r);
	for (uint32_t i = 0; i < l.n; i++) {
		uint8_t want = i == conflict  ? XF_ST_CONFLICT
		               : i == cc.fail ? XF_ST_NOSPACE
		                              : XF_ST_OK;

		CU_ASSERT_EQUAL(r.status[i], want);
	}
	CU_ASSERT_EQUAL(r.ms.done_files, l.n);
	CU_ASSERT_EQUAL(r.dec[25], XF_DEC_UPTODATE);
	/* One step per file not up to date, completed in list order: links for the new
	 * files unless the temps are named (file 40's quick check found the directory). */
	CU_ASSERT_EQUAL_FATAL(cc.nseen, renamed);
	CU_ASSERT_EQUAL(cc.links, named ? 0 : renamed - 1);
	CU_ASSERT_EQUAL(r.times.unnamed_temps, named ? 0 : renamed - 1); /* verified ones */
	for (unsigned int k = 1; k < cc.nseen; k++) {
		CU_ASSERT(cc.seen[k - 1] < cc.seen[k]);
	}
	skip[conflict] = skip[cc.fail] = 1;
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	snprintf(tmp, sizeof(tmp), "%s/%s/keep", dst_dir, l.f[conflict].path);
	CU_ASSERT_EQUAL(access(tmp, F_OK), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);
	list_free(&l);
	list_free(&pre);
}

static void
test_rename_chain(void)
{
	chain_case("chain-none", XF_FSYNC_NONE, 0, false);
	chain_case("chain-batch", XF_FSYNC_BATCH, 16, false);
	chain_case("chain-named", XF_FSYNC_NONE, 0, true);
	chain_case("chain-named-batch", XF_FSYNC_BATCH, 16, true);
}

struct abort_src {
	struct xf_memsend *ms;
	struct xf_session *s;
	uint64_t frames, limit;
};

/* Forward the sender's frames until the limit, then abort the session (on the RX
 * core, like the session layer on an ABORT frame) and go quiet. */
static unsigned int
abort_source(void *arg, struct xf_frame *out, unsigned int max)
{
	struct abort_src *as = arg;
	unsigned int n;

	if (as->frames >= as->limit) {
		xf_session_abort(as->s);
		return 0;
	}
	n = xf_memsend_source(as->ms, out, max);
	as->frames += n;
	return n;
}

static void make_scan_tree(struct list *l, const char *top, uint32_t ndirs, uint32_t per_dir,
                           uint32_t big_dir);

static void
abort_case(const char *tag, struct list *l, unsigned int workers, uint64_t limit)
{
	struct xf_memsend_conf mc = { .session = 0xab047,
		                      .max_payload = XF_PAYLOAD_MTU1500,
		                      .window = 64,
		                      .seed = 3,
		                      .shuffle = true };
	struct xf_pipeline_conf pc = { .n_rx = 1,
		                       .n_workers = workers,
		                       .rx_core = { 1 },
		                       .worker_core = { 2, 3 },
		                       .io = xf_test_io(),
		                       .window = 64,
		                       .max_sessions = 1,
		                       .source = { abort_source },
		                       .release = xf_memsend_release,
		                       .stop_when_done = true };
	struct abort_src as = { .limit = limit };
	struct xf_pipeline *p;
	struct run_opts o = { .window = 64, .workers = workers };
	struct run_result r;
	uint32_t complete = 0, absent = 0;
	char tmp[300];
	int root, fds;

	mkpaths(tag);
	fds = xh_fds();
	root = open(dst_dir, O_RDONLY | O_DIRECTORY);
	mc.files = l->f;
	mc.nfiles = l->n;
	as.ms = xf_memsend_create(&mc);
	pc.root_fd = root;
	pc.source_arg[0] = &as;
	p = xf_pipeline_create(&pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	as.s = xf_pipeline_session_open(p, 0, 0, 0, mc.session, mc.max_payload, 0, xf_memsend_tx,
	                                as.ms);
	CU_ASSERT_PTR_NOT_NULL_FATAL(as.s);
	CU_ASSERT_EQUAL_FATAL(xf_pipeline_run_threads(p), 0);
	CU_ASSERT_TRUE(xf_session_is_done(as.s));
	CU_ASSERT_FALSE(xf_memsend_done(as.ms)); /* no DONE after an abort */
	CU_ASSERT(xf_session_committed(as.s) < l->n);
	CU_ASSERT_EQUAL(xf_pipeline_session_close(p, as.s), 0);
	/* Cleaned up by the abort itself, not only when the pipeline goes. */
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	xf_pipeline_destroy(p);
	xf_memsend_destroy(as.ms);
	close(root);
	CU_ASSERT_EQUAL(xh_fds(), fds);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	for (uint32_t i = 0; i < l->n; i++) {
		struct list one = { .f = &l->f[i], .n = 1 };

		if (l->f[i].kind != XF_FILE_REG) {
			continue; /* a directory's time is set at the end */
		}
		snprintf(tmp, sizeof(tmp), "%s/%s", dst_dir, l->f[i].path);
		if (access(tmp, F_OK) != 0) {
			absent++;
		} else {
			CU_ASSERT_EQUAL(verify_tree(dst_dir, &one, NULL), 0);
			complete++;
		}
	}
	printf("\n  abort after %llu frames: %u files complete, %u absent\n",
	       (unsigned long long)as.frames, complete, absent);
	CU_ASSERT(absent > 0);
	/* Resume: the rest arrives, what was committed is up to date. */
	run(dst_dir, l, &o, &r);
	for (uint32_t i = 0; i < l->n; i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	CU_ASSERT_EQUAL(verify_tree(dst_dir, l, NULL), 0);
	result_free(&r);
}

/*
 * Abort in the middle of a transfer: the session finishes without DONE, every temp
 * file (and staged directory) is removed, no fd is left open, and each final path holds
 * the complete file or nothing. A second push then completes the tree (committed files
 * are UPTODATE). With two workers, then with one (new directories staged).
 */
static void
test_abort(void)
{
	struct list l = { 0 };

	for (uint32_t i = 0; i < 400; i++) {
		char path[64];

		snprintf(path, sizeof(path), "a%u/f%u", i % 7, i);
		add_file(&l, path, rnd() % 30000);
	}
	abort_case("abort", &l, 2, 1500);
	list_free(&l);
	make_scan_tree(&l, "top", 12, 20, 5);
	abort_case("abort-staged", &l, 1, 300);
	list_free(&l);
}

/*
 * Two RX cores, one session each, sharing the workers and the commit worker: both
 * trees complete, each in its own order, through rings from both RX cores. With two
 * workers (fsync batch); then with one (fsync none: the first session's new directories
 * are staged, one session's at a time, while the other's go the usual way).
 */
static void
two_rx_case(const char *tag, unsigned int workers, enum xf_fsync_policy fsync)
{
	struct list l[2] = { { 0 }, { 0 } };
	struct xf_memsend *ms[2];
	struct xf_pipeline_conf pc = { .n_rx = 2,
		                       .n_workers = workers,
		                       .rx_core = { 1, 6 },
		                       .worker_core = { 2, 3 },
		                       .io = xf_test_io(),
		                       .window = 48,
		                       .max_sessions = 4,
		                       .fsync = fsync,
		                       .fsync_batch = 5,
		                       .source = { xf_memsend_source, xf_memsend_source },
		                       .release = xf_memsend_release,
		                       .stop_when_done = true };
	struct xf_pipeline_times t;
	struct xf_pipeline *p;
	char tmp[300];
	int root;

	mkpaths(tag);
	for (int k = 0; k < 2; k++) {
		struct xf_memsend_conf mc = { .session = 0x7000u + (uint32_t)k,
			                      .max_payload = XF_PAYLOAD_MTU1500,
			                      .window = 48,
			                      .seed = 11u + (uint64_t)k,
			                      .shuffle = workers > 1,
			                      .dup_permille = 20 };

		if (workers > 1) {
			for (uint32_t i = 0; i < 600; i++) {
				char path[64];

				snprintf(path, sizeof(path), "s%d/d%u/f%u", k, i % 9, i);
				add_file(&l[k], path, rnd() % 6000);
			}
		} else {
			make_scan_tree(&l[k], k == 0 ? "s0" : "s1", 10, 20, 99);
		}
		mc.files = l[k].f;
		mc.nfiles = l[k].n;
		ms[k] = xf_memsend_create(&mc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ms[k]);
		pc.source_arg[k] = ms[k];
	}
	root = open(dst_dir, O_RDONLY | O_DIRECTORY);
	pc.root_fd = root;
	p = xf_pipeline_create(&pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (int k = 0; k < 2; k++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(
		        xf_pipeline_session_open(p, (unsigned int)k, 0, 0, 0x7000u + (uint32_t)k,
		                                 XF_PAYLOAD_MTU1500, 0, xf_memsend_tx, ms[k]));
	}
	CU_ASSERT_EQUAL_FATAL(xf_pipeline_run_threads(p), 0);
	for (int k = 0; k < 2; k++) {
		CU_ASSERT_TRUE(xf_memsend_done(ms[k]));
		CU_ASSERT_EQUAL(xf_memsend_stats(ms[k])->done_files, l[k].n);
		for (uint32_t i = 0; i < l[k].n; i++) {
			CU_ASSERT_EQUAL(xf_memsend_status(ms[k], i), 0);
		}
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l[k], NULL), 0);
		CU_ASSERT_EQUAL(xf_pipeline_rx_stats(p, (unsigned int)k)->frames,
		                xf_memsend_stats(ms[k])->frames);
		xf_memsend_destroy(ms[k]);
		list_free(&l[k]);
	}
	xf_pipeline_times(p, &t);
	CU_ASSERT_EQUAL(t.staged_failed, 0);
	if (workers == 1) {
		printf("\n  one worker: %llu staged directories, %llu files in them\n",
		       (unsigned long long)t.staged_dirs, (unsigned long long)t.staged_files);
		CU_ASSERT(t.staged_dirs > 0);
	} else {
		CU_ASSERT_EQUAL(t.staged_dirs, 0);
	}
	xf_pipeline_destroy(p);
	close(root);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
}

static void
test_two_rx_cores(void)
{
	two_rx_case("two-rx", 2, XF_FSYNC_BATCH);
	two_rx_case("two-rx-one-worker", 1, XF_FSYNC_NONE);
}

/* The hand-made temp name is what "%u.%08x.%u" prints, at the edges of each field. */
static void
test_tmpname(void)
{
	static const uint32_t v[] = { 0,           1,           9,           10,
		                      99,          100,         65535,       999999999u,
		                      1000000000u, 0x0000abcdu, 0x80000000u, UINT32_MAX };

	for (size_t i = 0; i < XF_ARRAY_SIZE(v); i++) {
		for (size_t j = 0; j < XF_ARRAY_SIZE(v); j++) {
			char want[XF_TMPNAME_SIZE], got[XF_TMPNAME_SIZE];
			unsigned int sid = (unsigned int)(v[(i + j) % XF_ARRAY_SIZE(v)]);

			snprintf(want, sizeof(want), "%u.%08x.%u", sid, v[i], v[j]);
			memset(got, 0x55, sizeof(got));
			xf_work_tmpname(got, sid, v[i], v[j]);
			CU_ASSERT_STRING_EQUAL(got, want);
		}
	}
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
static void
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

static uint32_t
index_of(const struct list *l, const char *path)
{
	for (uint32_t i = 0; i < l->n; i++) {
		if (strcmp(l->f[i].path, path) == 0) {
			return i;
		}
	}
	CU_FAIL_FATAL("no such entry");
	return 0;
}

/* Every write of a file lands while its final path shows nothing: a file written in a
 * staged directory is never visible before it is verified. */
struct unseen_ctx {
	const struct list *l;
	int dst_fd;
	unsigned int writes, seen;
};

static int32_t
unseen_on_write(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct unseen_ctx *uc = arg;
	struct stat sb;

	(void)sid;
	if (op == XF_SOP_WRITE && file < uc->l->n) {
		uc->writes++;
		uc->seen += fstatat(uc->dst_fd, uc->l->f[file].path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	}
	return res;
}

/* One push of the scan tree into dst; what every staged push must show. */
static void
staged_case(const char *dst, const struct list *l, struct run_opts *o, struct run_result *r)
{
	struct unseen_ctx uc = { .l = l };
	char tmp[300];
	uint32_t nreg = 0;

	o->workers = 1;
	o->fault = unseen_on_write;
	o->fault_arg = &uc;
	uc.dst_fd = open(dst, O_RDONLY | O_DIRECTORY);
	run(dst, l, o, r);
	close(uc.dst_fd);
	CU_ASSERT(uc.writes > 0);
	CU_ASSERT_EQUAL(uc.seen, 0);
	for (uint32_t i = 0; i < l->n; i++) {
		CU_ASSERT_EQUAL(r->status[i], 0);
		CU_ASSERT_EQUAL(r->dec[i], XF_DEC_WHOLE);
		nreg += l->f[i].kind == XF_FILE_REG;
	}
	printf("\n  %u entries, window %u%s: %llu staged directories, %llu files in them, "
	       "%llu unnamed\n",
	       l->n, o->window, o->shuffle ? ", frames shuffled" : "",
	       (unsigned long long)r->times.staged_dirs, (unsigned long long)r->times.staged_files,
	       (unsigned long long)r->times.unnamed_temps);
	/*
	 * Each file is written one way or the other: in place (at most 20 a directory, the
	 * big one's 60 beyond window / 2, one in each "m sub") or unnamed. How many in place
	 * depends on timing: a directory whose files are all verified when nothing is left
	 * to commit goes in place then, and takes no more; and on the order the STATs come.
	 */
	CU_ASSERT(r->times.staged_dirs > 0);
	CU_ASSERT(r->times.staged_files > 0);
	CU_ASSERT(r->times.staged_files <= 11 * 20 + XF_MIN(60u, o->window / 2) + 4);
	CU_ASSERT_EQUAL(r->times.staged_failed, 0);
	CU_ASSERT_EQUAL(r->times.unnamed_temps, nreg - r->times.staged_files);
	CU_ASSERT_EQUAL(r->ms.done_files, l->n);
	CU_ASSERT_EQUAL(verify_tree(dst, l, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
}

static void
test_staged_dirs(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 64 };
	struct run_result r1, r2, r3;
	char diff[4096], tmp[300], dst2[300];
	int rc;

	mkpaths("staged");
	make_scan_tree(&l, "top", 12, 20, 5);
	materialise(src_dir, &l);
	/* A staged directory left by a crash, with a file in it: removed at start. */
	snprintf(tmp, sizeof(tmp), "%s/.xferd", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp/0.5eed0001.7", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	put_file(tmp, "f000", (const uint8_t *)"partial", 7, 0);
	/* In order, every directory staged (top, its 12, the 4 "m sub"); the big one takes
	 * no more than window / 2 files. */
	staged_case(dst_dir, &l, &o, &r1);
	CU_ASSERT_EQUAL(r1.times.staged_dirs, 1 + 12 + 4);
	rc = rsync_diff(src_dir, dst_dir, diff, sizeof(diff));
	if (rc != 0) {
		printf("  rsync differences:\n%s\n", diff);
	}
	CU_ASSERT_EQUAL(rc, 0);
	/* Small FLIST frames, shuffled and duplicated with everything else: STATs come out of
	 * order, and a directory listed before what an earlier one took is not staged. */
	snprintf(dst2, sizeof(dst2), "%s/dst2", tag_dir);
	CU_ASSERT_FATAL(mkdir(dst2, 0700) == 0);
	o = (struct run_opts){ .window = 512,
		               .shuffle = true,
		               .dup_permille = 30,
		               .max_payload = XF_PAYLOAD_MTU1500 };
	staged_case(dst2, &l, &o, &r2);
	/* Again: everything up to date, nothing staged. */
	o.fault = NULL;
	run(dst2, &l, &o, &r3);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r3.dec[i], XF_DEC_UPTODATE);
	}
	CU_ASSERT_EQUAL(r3.times.staged_dirs, 0);
	result_free(&r1);
	result_free(&r2);
	result_free(&r3);
	list_free(&l);

	/* Files over 1 MiB are not taken (they would all appear only at the end): the
	 * directory is staged, its files are linked as usual. */
	add(&l, "big", XF_FILE_DIR);
	for (uint32_t i = 0; i < 3; i++) {
		char path[32];

		snprintf(path, sizeof(path), "big/b%u", i);
		add_file(&l, path, (2u << 20) + i);
	}
	snprintf(dst2, sizeof(dst2), "%s/dst3", tag_dir);
	CU_ASSERT_FATAL(mkdir(dst2, 0700) == 0);
	o = (struct run_opts){ .window = 64, .workers = 1 };
	run(dst2, &l, &o, &r1);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r1.status[i], 0);
	}
	CU_ASSERT_EQUAL(r1.times.staged_dirs, 1);
	CU_ASSERT_EQUAL(r1.times.staged_files, 0);
	CU_ASSERT_EQUAL(r1.times.unnamed_temps, 3);
	CU_ASSERT_EQUAL(verify_tree(dst2, &l, NULL), 0);
	result_free(&r1);
	list_free(&l);
}

/* Once a file of the staged directory `taken` has been written (so the directory was
 * staged, and is not in place: it goes in place after its files commit), something else
 * takes its name. Keyed to a write of its own file, not to another directory's rename,
 * so it does not depend on when the directory's STAT ran. */
struct taken_ctx {
	uint32_t first, last; /* the indices of the files in `taken` */
	const char *taken;    /* its path */
	unsigned int hits;
};

static int32_t
take_name_on_write(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct taken_ctx *tc = arg;

	(void)sid;
	if (op == XF_SOP_WRITE && file >= tc->first && file <= tc->last && res >= 0 &&
	    tc->hits == 0) {
		tc->hits++;
		CU_ASSERT(mkdir(tc->taken, 0755) == 0);
	}
	return res;
}

/*
 * A staged directory whose name is taken before it is put in place (RENAME_NOREPLACE):
 * it and the files written in it fail (CONFLICT) and are removed, what took the name
 * stays as it was, the rest of the tree lands. A file that fails in a staged directory
 * (ENOSPC on its write) is not there when its directory is put in place.
 */
static void
test_staged_failures(void)
{
	struct list l = { 0 };
	struct taken_ctx tc = { 0 };
	struct run_opts o = {
		.workers = 1, .window = 64, .fault = take_name_on_write, .fault_arg = &tc
	};
	struct fault_ctx fc = { 0 };
	struct run_result r;
	char taken[400], tmp[300];
	uint8_t *skip;
	uint32_t d03;

	mkpaths("staged-fail");
	make_scan_tree(&l, "top", 6, 20, 99);
	d03 = index_of(&l, "top/d03");
	tc.first = d03 + 1;
	tc.last = d03;
	while (tc.last + 1 < l.n && strncmp(l.f[tc.last + 1].path, "top/d03/", 8) == 0) {
		tc.last++;
	}
	CU_ASSERT_FATAL(tc.last > d03);
	snprintf(taken, sizeof(taken), "%s/top/d03", dst_dir);
	tc.taken = taken;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(tc.hits, 1);
	skip = calloc(l.n, 1);
	for (uint32_t i = 0; i < l.n; i++) {
		bool in = strncmp(l.f[i].path, "top/d03", 7) == 0;

		CU_ASSERT_EQUAL(r.status[i], in ? XF_ST_CONFLICT : XF_ST_OK);
		skip[i] = in;
	}
	CU_ASSERT_EQUAL(r.status[d03], XF_ST_CONFLICT);
	CU_ASSERT_EQUAL(xh_count_entries(taken), 0); /* as it was made */
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	CU_ASSERT_EQUAL(r.times.staged_failed, 1);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);

	/* Again into a fresh destination: one file of top/d01 fails its write. */
	snprintf(tmp, sizeof(tmp), "%s/again", tag_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	fc.file = index_of(&l, "top/d01/f005");
	o = (struct run_opts){
		.workers = 1, .window = 64, .fault = enospc_on_write, .fault_arg = &fc
	};
	run(tmp, &l, &o, &r);
	CU_ASSERT(fc.hits > 0);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r.status[i], i == fc.file ? XF_ST_NOSPACE : XF_ST_OK);
		skip[i] = i == fc.file;
	}
	CU_ASSERT_EQUAL(verify_tree(tmp, &l, skip), 0);
	snprintf(taken, sizeof(taken), "%s/top/d01/f005", tmp);
	CU_ASSERT_EQUAL(access(taken, F_OK), -1);
	CU_ASSERT_EQUAL(r.times.staged_failed, 0);
	CU_ASSERT(r.times.staged_files > 0);
	free(skip);
	result_free(&r);
	list_free(&l);
}

static const struct xf_test tests[] = {
	{ "temp names", test_tmpname },
	{ "hostile paths", test_hostile_paths },
	{ "failures", test_failures },
	{ "rename chain: order and one result per file", test_rename_chain },
	{ "abort", test_abort },
	{ "two RX cores", test_two_rx_cores },
	{ "tree end to end", test_tree_end_to_end },
	{ "staged directories", test_staged_dirs },
	{ "staged directories: a name taken, a file failed", test_staged_failures },
	{ "delta", test_delta },
	{ "delta, basis read again for COPY", test_delta_reread },
	{ "delta, basis changed in use", test_delta_basis_changed },
	{ "delta, basis changed in use, kept in memory", test_delta_basis_changed_kept },
	{ "delta, COPY beyond the basis", test_delta_copy_beyond_basis },
	{ "delta, COPY past the announced size", test_delta_copy_past_size },
	{ "checksum mode", test_checksum_mode },
	{ "modes set at creation or by fchmod, under three umasks", test_modes },
};

int
main(void)
{
	return xf_pt_main("pipeline", base_dir, sizeof(base_dir), XF_TESTS(tests));
}
