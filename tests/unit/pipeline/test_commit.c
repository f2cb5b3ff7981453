/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * White-box tests of the commit worker's asynchronous batches: worker 0 of a real
 * pipeline driven by hand on the test's thread, which plays the RX core. The test
 * stages verified temp files itself, puts COMMIT items on the worker's ring and checks
 * every COMMIT report the moment it comes off the ring back: the file is at its final
 * path, every earlier file is too (one rename is reported failed by the hook: its
 * status must say so), the
 * reports come in file-list order, and the storage fault hook has already seen the
 * file's rename complete. The hook sees a rename when its completion is collected,
 * which is also how the test knows that the poll submitting a chain returns before it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_pipeline_test.h"
#include "xf_test.h"

#include "xf_base.h"
#include "xf_pipeline_priv.h"

#define SESS  0x5eedc0u
#define NITEM 101u /* 100 entries, then a MARK */
#define FAIL  45u  /* its rename reports -ENOSPC */
#define MTIME 1700000000123456789ll

static char base_dir[96];

struct entry {
	uint8_t kind;
	uint8_t type;  /* XF_WORK_COMMIT, or MARK */
	uint8_t flags; /* XF_WORK_F_NOOP */
	char name[48]; /* dir NUL base NUL target NUL */
	uint32_t dir_len;
	char path[40]; /* relative to the root */
	uint8_t data[64];
	uint32_t size;
	int fd;
};

struct ccase {
	struct xf_pipeline *p;
	int root;
	char dir[160];
	struct entry e[NITEM];
	uint8_t renamed[NITEM]; /* the fault hook saw its rename complete */
	uint32_t order[NITEM];  /* renames in completion order */
	unsigned int nrenamed;
	unsigned int reports;
	unsigned int served; /* calls of the wait poll (serve()) */
	unsigned int steps;  /* mkdir and symlink completions the hook saw */
	bool slow;           /* serve() makes its first call last 1.1 s */
	unsigned int bad_order, early, missing, not_final;
};

static int32_t
on_fault(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct ccase *cc = arg;

	(void)sid;
	if (op == XF_SOP_MKDIR || op == XF_SOP_SYMLINK) {
		cc->steps++;
	}
	if (op != XF_SOP_RENAME || file >= NITEM) {
		return res;
	}
	cc->renamed[file] = 1;
	if (cc->nrenamed < NITEM) {
		cc->order[cc->nrenamed] = file;
	}
	cc->nrenamed++;
	return file == FAIL ? -ENOSPC : res;
}

static void
set_name(struct entry *e, const char *dir, const char *base, const char *target)
{
	size_t dl = strlen(dir), bl = strlen(base);

	memset(e->name, 0, sizeof(e->name));
	memcpy(e->name, dir, dl);
	memcpy(e->name + dl + 1, base, bl);
	if (target != NULL) {
		memcpy(e->name + dl + 1 + bl + 1, target, strlen(target));
	}
	e->dir_len = (uint32_t)dl;
	snprintf(e->path, sizeof(e->path), "%s%s%s", dir, dl != 0 ? "/" : "", base);
}

/*
 * The list: a run of files in a directory missing from the list (created on the way),
 * a listed directory, files in it (a new parent), an up-to-date file (no-op), files at
 * the root, a symlink, files in a nested missing directory, then a MARK. Every kind of
 * step that pauses a batch sits between runs of renames.
 */
static void
build(struct ccase *cc)
{
	char base[16], tgt[16];

	for (uint32_t i = 0; i < NITEM; i++) {
		struct entry *e = &cc->e[i];

		e->type = XF_WORK_COMMIT;
		e->kind = XF_FILE_REG;
		e->fd = -1;
		snprintf(base, sizeof(base), "f%03u", i);
		if (i < 30) {
			set_name(e, "a", base, NULL);
		} else if (i == 30) {
			e->kind = XF_FILE_DIR;
			set_name(e, "a", "sub", NULL);
		} else if (i < 60) {
			set_name(e, "a/sub", base, NULL);
		} else if (i == 60) {
			e->flags = XF_WORK_F_NOOP;
			set_name(e, "", base, NULL);
		} else if (i < 80) {
			set_name(e, "", base, NULL);
		} else if (i == 80) {
			e->kind = XF_FILE_SYMLINK;
			snprintf(tgt, sizeof(tgt), "f%03u", 1u);
			set_name(e, "a", "link", tgt);
		} else if (i < 100) {
			set_name(e, "b/c", base, NULL);
		} else {
			e->type = XF_WORK_MARK;
			e->kind = 0;
			set_name(e, "", "", NULL);
		}
	}
}

static void
cc_open(struct ccase *cc, const char *tag, enum xf_fsync_policy fsync, unsigned int batch)
{
	struct xf_pipeline_conf pc = { .window = 128, .fsync = fsync, .fsync_batch = batch };

	memset(cc, 0, sizeof(*cc));
	cc->p = xf_pt_open(&pc, base_dir, tag, cc->dir, sizeof(cc->dir), &cc->root);
	xf_pipeline_set_fault(cc->p, on_fault, cc);
	build(cc);
}

/* Stage every regular file's verified temp (what a worker leaves for the commit). */
static void
stage(struct ccase *cc)
{
	for (uint32_t i = 0; i < NITEM; i++) {
		struct entry *e = &cc->e[i];
		char tmp[XF_TMPNAME_SIZE];

		if (e->type != XF_WORK_COMMIT || e->kind != XF_FILE_REG || e->flags != 0) {
			continue;
		}
		e->size = 1 + (i * 7u) % (uint32_t)sizeof(e->data);
		for (uint32_t k = 0; k < e->size; k++) {
			e->data[k] = (uint8_t)(i * 31u + k);
		}
		xf_work_tmpname(tmp, 0, SESS, i);
		e->fd = openat(cc->p->tmp_fd, tmp, O_RDWR | O_CREAT | O_EXCL, 0644);
		CU_ASSERT_FATAL(e->fd >= 0);
		CU_ASSERT_FATAL(pwrite(e->fd, e->data, e->size, 0) == (ssize_t)e->size);
	}
}

static void
put_one(struct ccase *cc, uint32_t i)
{
	const struct entry *e = &cc->e[i];
	struct xf_work it = {
		.type = e->type,
		.kind = e->kind,
		.flags = e->flags,
		.sid = 0,
		.rx = 0,
		.file = i,
		.len = e->dir_len,
		.mode = e->kind == XF_FILE_DIR ? 0750 : 0644,
		.fd = e->fd,
		.sess_id = SESS,
		.val = (uint64_t)MTIME,
		.ptr = e->name,
	};

	CU_ASSERT_EQUAL_FATAL(xf_ring_enqueue_burst(cc->p->to_w[0][0], &it, 1), 1);
}

static void
put_all(struct ccase *cc)
{
	for (uint32_t i = 0; i < NITEM; i++) {
		put_one(cc, i);
	}
}

static uint8_t
want_status(uint32_t i)
{
	return i == FAIL ? XF_ST_NOSPACE : XF_ST_OK;
}

/* Entry i as committed: at its final path with its bytes (or nothing, if failed). */
static bool
is_final(const struct ccase *cc, uint32_t i)
{
	const struct entry *e = &cc->e[i];
	struct stat sb;
	char buf[64];
	int fd;
	ssize_t n;

	if (e->type != XF_WORK_COMMIT || e->flags != 0) {
		return true;
	}
	if (want_status(i) != XF_ST_OK) {
		/* The hook fails the rename's report, not the rename: the file may be there;
		 * what counts is the status reported and that its temp is gone. */
		return true;
	}
	if (fstatat(cc->root, e->path, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		return false;
	}
	switch (e->kind) {
	case XF_FILE_DIR:
		return S_ISDIR(sb.st_mode);
	case XF_FILE_SYMLINK:
		n = readlinkat(cc->root, e->path, buf, sizeof(buf));
		return S_ISLNK(sb.st_mode) && n == 4 && memcmp(buf, "f001", 4) == 0;
	default:
		fd = openat(cc->root, e->path, O_RDONLY);
		if (fd < 0) {
			return false;
		}
		n = pread(fd, buf, sizeof(buf), 0);
		close(fd);
		return n == (ssize_t)e->size && memcmp(buf, e->data, e->size) == 0;
	}
}

/* A COMMIT (or MARK) report as the RX core receives it: checked on the spot. */
static void
on_report(struct ccase *cc, const struct xf_done *d)
{
	uint32_t i = d->file;
	const struct entry *e;

	CU_ASSERT_FATAL(i < NITEM);
	e = &cc->e[i];
	cc->bad_order += i != cc->reports;
	cc->reports++;
	CU_ASSERT_EQUAL(d->type, e->type == XF_WORK_MARK ? XF_DONE_MARK : XF_DONE_COMMIT);
	if (e->type == XF_WORK_COMMIT && e->flags == 0) {
		CU_ASSERT_EQUAL(d->status, want_status(i));
		CU_ASSERT_EQUAL(d->changed, want_status(i) == XF_ST_OK);
		/* Renamed entries: reported only after the hook saw the rename complete. */
		cc->early += e->kind != XF_FILE_DIR && !cc->renamed[i];
	}
	for (uint32_t k = 0; k <= i; k++) {
		cc->not_final += !is_final(cc, k);
	}
}

/* Poll the worker, taking its reports, until n have come (or time runs out). */
static void
pump(struct ccase *cc, unsigned int n)
{
	struct timespec t0;
	struct xf_done d;

	xf_pt_start(&t0);
	while (cc->reports < n) {
		xf_worker_poll(cc->p->w[0]);
		while (xf_ring_dequeue_burst(cc->p->to_rx[0][0], &d, 1) == 1) {
			on_report(cc, &d);
		}
		if (xf_pt_expired(&t0)) {
			CU_FAIL_FATAL("no report from the commit worker");
		}
	}
}

/*
 * Two polls: the first takes the items off the ring, the second runs the batch up to
 * its first pause (the listed directory after the first run of files) and submits
 * that chain. Neither may wait for a rename: no rename completion has been collected
 * and nothing has been reported when the second returns.
 */
static void
start_batch(struct ccase *cc)
{
	struct xf_done d;

	xf_worker_poll(cc->p->w[0]);
	xf_worker_poll(cc->p->w[0]);
	CU_ASSERT_EQUAL(cc->nrenamed, 0);
	CU_ASSERT_EQUAL(xf_ring_dequeue_burst(cc->p->to_rx[0][0], &d, 1), 0);
	CU_ASSERT_FALSE(xf_worker_idle(cc->p->w[0]));
}

static unsigned int
count_entries(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	unsigned int n = 0;

	if (d == NULL) {
		return 9999;
	}
	while ((de = readdir(d)) != NULL) {
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

/*
 * The wait poll, playing the RX core that shares the worker's lcore: it takes the
 * reports the worker has posted while the worker waits in the middle of a batch, and
 * checks them exactly as pump() does.
 */
static void
serve(void *arg)
{
	struct ccase *cc = arg;
	struct xf_done d;

	if (cc->served++ == 0 && cc->slow) {
		/* Not a synchronisation: a wait that lasts over a second, to be counted. */
		nanosleep(&(struct timespec){ .tv_sec = 1, .tv_nsec = 100000000 }, NULL);
	}
	while (xf_ring_dequeue_burst(cc->p->to_rx[0][0], &d, 1) == 1) {
		on_report(cc, &d);
	}
}

static void
commit_case(const char *tag, enum xf_fsync_policy fsync, unsigned int batch, bool served, bool slow)
{
	struct ccase *cc = calloc(1, sizeof(*cc));
	struct xf_pipeline_times t;
	enum xf_storage_io io;
	struct stat sb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	cc_open(cc, tag, fsync, batch);
	if (served) {
		xf_pipeline_set_wait_poll(cc->p, 0, serve, cc);
	}
	cc->slow = slow;
	stage(cc);
	put_all(cc);
	start_batch(cc);
	pump(cc, NITEM);
	CU_ASSERT_EQUAL(cc->reports, NITEM);
	CU_ASSERT_EQUAL(cc->bad_order, 0);
	CU_ASSERT_EQUAL(cc->early, 0);
	CU_ASSERT_EQUAL(cc->not_final, 0);
	/* One rename per regular file and symlink, completed in list order. */
	CU_ASSERT_EQUAL(cc->nrenamed, 30u + 29u + 19u + 1u + 19u);
	for (unsigned int k = 1; k < cc->nrenamed && k < NITEM; k++) {
		CU_ASSERT(cc->order[k - 1] < cc->order[k]);
	}
	CU_ASSERT_EQUAL(count_entries(cc->p->tmp_fd), 0);
	CU_ASSERT_TRUE(xf_worker_idle(cc->p->w[0]));
	/* A directory's mtime, set through the same queue after everything before it. */
	{
		struct xf_work it = {
			.type = XF_WORK_DIRTIME,
			.kind = XF_FILE_DIR,
			.file = 30,
			.len = cc->e[30].dir_len,
			.fd = -1,
			.sess_id = SESS,
			.val = (uint64_t)MTIME,
			.ptr = cc->e[30].name,
		};
		struct timespec t0;

		CU_ASSERT_EQUAL_FATAL(xf_ring_enqueue_burst(cc->p->to_w[0][0], &it, 1), 1);
		xf_pt_start(&t0);
		do {
			xf_worker_poll(cc->p->w[0]);
		} while (!xf_worker_idle(cc->p->w[0]) && !xf_pt_expired(&t0));
		CU_ASSERT_EQUAL(fstatat(cc->root, "a/sub", &sb, 0), 0);
		CU_ASSERT_EQUAL((int64_t)sb.st_mtim.tv_sec * 1000000000ll + sb.st_mtim.tv_nsec,
		                MTIME);
	}
	/* Every wait of the commit steps went through the wait poll (once at least each);
	 * inline steps run where they are submitted, with no wait to serve. */
	xf_pipeline_times(cc->p, &t);
	CU_ASSERT_EQUAL(t.wait_polls, cc->served);
	CU_ASSERT_EQUAL(xf_storage_io_resolve(cc->root, (enum xf_storage_io)xf_test_io(), &io), 0);
	if (served && io != XF_STORAGE_IO_INLINE) {
		CU_ASSERT(cc->served > 0);
		/* The wait made slow is counted (and logged). Nothing is asserted of the other
		 * runs: on a loaded machine any wait may take a second. */
		if (slow) {
			CU_ASSERT(t.slow_steps >= 1);
		}
	} else {
		CU_ASSERT_EQUAL(cc->served, 0);
	}
	xf_pipeline_destroy(cc->p);
	close(cc->root);
	free(cc);
}

/* fsync none: one batch of every item, paused at each step outside the chain. */
static void
test_order_none(void)
{
	commit_case("none", XF_FSYNC_NONE, 0, false, false);
}

/* fsync batch: batches of 8, fsyncs before the chain, directory fsyncs after it. */
static void
test_order_batch(void)
{
	commit_case("batch", XF_FSYNC_BATCH, 8, false, false);
}

/* fsync file: a batch per item. */
static void
test_order_file(void)
{
	commit_case("file", XF_FSYNC_FILE, 0, false, false);
}

/*
 * With a wait poll (the engine's combined mode): the batch's waits for directory steps,
 * renames and fsyncs serve the RX core, which takes reports while the worker is in the
 * middle of the batch; every report still comes in order, at its final path.
 */
static void
test_order_served(void)
{
	commit_case("served", XF_FSYNC_NONE, 0, true, false);
	commit_case("served-batch", XF_FSYNC_BATCH, 8, true, false);
	commit_case("served-slow", XF_FSYNC_NONE, 0, true, true);
}

/*
 * The pipeline torn down while a batch waits for its chain: the teardown waits for
 * the renames (the first run of files is final, nothing leaks) and reports nothing.
 */
static void
teardown_case(const char *tag, bool served)
{
	struct ccase *cc = calloc(1, sizeof(*cc));
	unsigned int before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	cc_open(cc, tag, XF_FSYNC_NONE, 0);
	if (served) {
		xf_pipeline_set_wait_poll(cc->p, 0, serve, cc);
	}
	stage(cc);
	put_all(cc);
	start_batch(cc);
	/* The teardown waits for the chain without serving an RX core: in the engine that
	 * core's state is already gone (xferd crashed at stop when it did). */
	before = cc->served;
	xf_pipeline_destroy(cc->p);
	CU_ASSERT_EQUAL(cc->served, before);
	CU_ASSERT_EQUAL(cc->nrenamed, 30);
	for (uint32_t i = 0; i < 30; i++) {
		CU_ASSERT_TRUE(is_final(cc, i));
	}
	for (uint32_t i = 30; i < NITEM; i++) {
		if (cc->e[i].fd >= 0) {
			close(cc->e[i].fd); /* never reached: still the caller's */
		}
	}
	close(cc->root);
	free(cc);
}

static void
test_teardown_in_flight(void)
{
	teardown_case("teardown", false);
	teardown_case("teardown-served", true);
}

/* Poll until the hook has seen more than n mkdir/symlink completions; return the count. */
static unsigned int
poll_steps(struct ccase *cc, unsigned int n)
{
	struct timespec t0;

	xf_pt_start(&t0);
	while (cc->steps <= n) {
		xf_worker_poll(cc->p->w[0]);
		if (xf_pt_expired(&t0)) {
			CU_FAIL_FATAL("the step never completed");
		}
	}
	return cc->steps;
}

/*
 * A directory's mkdir and a symlink pause the batch instead of waiting for their
 * operation: the poll that submits one returns before its completion is collected (the
 * hook sees it in a later poll), so no poll sees both. Then they are reported in order
 * at their final paths; with teardown, the pipeline is destroyed while the symlink is
 * in flight and leaves nothing in the staging directory.
 */
static void
steps_case(const char *tag, bool teardown)
{
	struct ccase *cc = calloc(1, sizeof(*cc));
	struct xf_done d;
	char tmp[300];
	int tfd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	cc_open(cc, tag, XF_FSYNC_NONE, 0);
	memset(cc->e, 0, sizeof(cc->e));
	cc->e[0] = (struct entry){ .type = XF_WORK_COMMIT, .kind = XF_FILE_DIR, .fd = -1 };
	set_name(&cc->e[0], "", "d", NULL);
	cc->e[1] = (struct entry){ .type = XF_WORK_COMMIT, .kind = XF_FILE_SYMLINK, .fd = -1 };
	set_name(&cc->e[1], "", "l", "f001");
	put_one(cc, 0);
	put_one(cc, 1);
	xf_worker_poll(cc->p->w[0]); /* takes the items */
	xf_worker_poll(cc->p->w[0]); /* runs the batch up to the mkdir, submitted */
	CU_ASSERT_EQUAL(cc->steps, 0);
	CU_ASSERT_EQUAL(xf_ring_dequeue_burst(cc->p->to_rx[0][0], &d, 1), 0);
	CU_ASSERT_EQUAL(poll_steps(cc, 0), 1); /* the mkdir; the symlink submitted */
	if (teardown) {
		snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", cc->dir);
		tfd = open(tmp, O_RDONLY | O_DIRECTORY);
		CU_ASSERT_FATAL(tfd >= 0);
		xf_pipeline_destroy(cc->p);
		CU_ASSERT_EQUAL(count_entries(tfd), 0);
		CU_ASSERT_EQUAL(cc->reports, 0);
		close(tfd);
	} else {
		CU_ASSERT_EQUAL(poll_steps(cc, 1), 2);
		pump(cc, 2);
		CU_ASSERT_EQUAL(cc->bad_order, 0);
		CU_ASSERT_EQUAL(cc->early, 0);
		CU_ASSERT_EQUAL(cc->not_final, 0);
		CU_ASSERT_EQUAL(count_entries(cc->p->tmp_fd), 0);
		CU_ASSERT_TRUE(xf_worker_idle(cc->p->w[0]));
		xf_pipeline_destroy(cc->p);
	}
	close(cc->root);
	free(cc);
}

static void
test_steps_pause(void)
{
	steps_case("steps", false);
	steps_case("steps-teardown", true);
}

static const struct xf_test tests[] = {
	{ "async batches, fsync none: reports after renames, in order", test_order_none },
	{ "async batches, fsync batch", test_order_batch },
	{ "async batches, fsync file", test_order_file },
	{ "async batches, RX core served while the worker waits", test_order_served },
	{ "teardown with a chain in flight", test_teardown_in_flight },
	{ "mkdir and symlink pause the batch, never wait", test_steps_pause },
};

int
main(void)
{
	xf_core_set_self(0); /* the RX core and the worker: both rings' ends */
	return xf_pt_main("pipeline-commit", base_dir, sizeof(base_dir), XF_TESTS(tests));
}
