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
 * And no poll waits for a completion: with one withheld until the test lets it go, the
 * polls return and the worker answers other work meanwhile.
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
#include "xf_worker_priv.h"

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
	unsigned int steps; /* mkdir and symlink completions the hook saw */
	unsigned int bad_order, early, missing, not_final;
	/* The first rename's completion was withheld (held_case): the hook sees it when it
	 * is released, after those the kernel completed behind it, so it is left out of the
	 * completion-order check; the others must still be in order. */
	bool rename_held;
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
cc_open_io(struct ccase *cc, const char *tag, enum xf_fsync_policy fsync, unsigned int batch,
           int io)
{
	struct xf_pipeline_conf pc = { .window = 128, .fsync = fsync, .fsync_batch = batch };

	memset(cc, 0, sizeof(*cc));
	cc->p = xf_pt_open_io(&pc, base_dir, tag, cc->dir, sizeof(cc->dir), &cc->root, io);
	xf_pipeline_set_fault(cc->p, on_fault, cc);
	build(cc);
}

static void
cc_open(struct ccase *cc, const char *tag, enum xf_fsync_policy fsync, unsigned int batch)
{
	cc_open_io(cc, tag, fsync, batch, xf_test_io());
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
 * Two polls: the first takes the items off the ring, the second starts the batch: it
 * queues the first step (the parent of the first run of files, missing: its open) and
 * returns without waiting for it; nothing has been reported.
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

/*
 * Then polls, each returning after one step of making that parent, until one runs the
 * batch up to its next pause (the listed directory after the first run of files) and
 * submits that chain. None may wait for a rename: no rename completion has been
 * collected and nothing has been reported when the one that submits the chain returns.
 */
static void
start_chain(struct ccase *cc)
{
	struct timespec t0;
	struct xf_done d;

	start_batch(cc);
	xf_pt_start(&t0);
	while (cc->p->w[0]->ch_n == 0) {
		xf_worker_poll(cc->p->w[0]);
		if (xf_pt_expired(&t0)) {
			CU_FAIL_FATAL("the chain was never submitted");
		}
	}
	CU_ASSERT_EQUAL(cc->nrenamed, 0);
	CU_ASSERT_EQUAL(xf_ring_dequeue_burst(cc->p->to_rx[0][0], &d, 1), 0);
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

/* After every report: in order, final, after the rename; every temp gone. */
static void
check_done(struct ccase *cc)
{
	struct xf_pipeline_times t;

	CU_ASSERT_EQUAL(cc->reports, NITEM);
	CU_ASSERT_EQUAL(cc->bad_order, 0);
	CU_ASSERT_EQUAL(cc->early, 0);
	CU_ASSERT_EQUAL(cc->not_final, 0);
	/* One rename per regular file and symlink, completed in list order. */
	CU_ASSERT_EQUAL(cc->nrenamed, 30u + 29u + 19u + 1u + 19u);
	{
		uint32_t skip = UINT32_MAX, prev = 0;
		bool first = true;

		for (unsigned int k = 0; cc->rename_held && k < cc->nrenamed && k < NITEM; k++) {
			skip = cc->order[k] < skip ? cc->order[k] : skip; /* the first submitted */
		}
		for (unsigned int k = 0; k < cc->nrenamed && k < NITEM; k++) {
			if (cc->order[k] == skip) {
				continue;
			}
			CU_ASSERT(first || prev < cc->order[k]);
			prev = cc->order[k];
			first = false;
		}
	}
	CU_ASSERT_EQUAL(count_entries(cc->p->tmp_fd), 0);
	CU_ASSERT_TRUE(xf_worker_idle(cc->p->w[0]));
	/* No prep ever found the storage full: every step checked for room first. */
	xf_pipeline_times(cc->p, &t);
	CU_ASSERT_EQUAL(t.full_storage, 0);
}

static void
commit_case(const char *tag, enum xf_fsync_policy fsync, unsigned int batch)
{
	struct ccase *cc = calloc(1, sizeof(*cc));
	struct stat sb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	cc_open(cc, tag, fsync, batch);
	stage(cc);
	put_all(cc);
	start_chain(cc);
	pump(cc, NITEM);
	check_done(cc);
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
	xf_pipeline_destroy(cc->p);
	close(cc->root);
	free(cc);
}

/* fsync none: one batch of every item, paused at each step outside the chain. */
static void
test_order_none(void)
{
	commit_case("none", XF_FSYNC_NONE, 0);
}

/* fsync batch: batches of 8, fsyncs before the chain, directory fsyncs after it. */
static void
test_order_batch(void)
{
	commit_case("batch", XF_FSYNC_BATCH, 8);
}

/* fsync file: a batch per item. */
static void
test_order_file(void)
{
	commit_case("file", XF_FSYNC_FILE, 0);
}

/*
 * The pipeline torn down while a batch waits for its chain: the teardown waits for
 * the renames (the first run of files is final, nothing leaks) and reports nothing.
 */
static void
test_teardown_in_flight(void)
{
	struct ccase *cc = calloc(1, sizeof(*cc));

	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	cc_open(cc, "teardown", XF_FSYNC_NONE, 0);
	stage(cc);
	put_all(cc);
	start_chain(cc);
	xf_pipeline_destroy(cc->p);
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

/* A regular file at the root that a STAT finds up to date: statx alone, no other step. */
#define UPTODATE_FILE 200u

static void
put_uptodate_stat(struct ccase *cc, const char *name)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = 1600000000 } };
	struct xf_work it = {
		.type = XF_WORK_STAT,
		.kind = XF_FILE_REG,
		.file = UPTODATE_FILE,
		.len = 0,
		.mode = 0644,
		.sess_id = SESS,
		.off = 3,
		.val = 1600000000ull * 1000000000ull,
		.ptr = name,
	};
	int fd = openat(cc->root, name + 1, O_WRONLY | O_CREAT | O_EXCL, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, "abc", 3) == 3);
	CU_ASSERT_FATAL(fchmod(fd, 0644) == 0);
	CU_ASSERT_FATAL(futimens(fd, ts) == 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(xf_ring_enqueue_burst(cc->p->to_w[0][0], &it, 1), 1);
}

/*
 * No worker step waits for a completion. Worker 0's storage (io_uring, whatever
 * XF_TEST_IO says: the inline back end runs a step where it is submitted) withholds the
 * first completion of op, a step of the commit executor, until the test lets it go
 * (xf_storage_set_hold() for an hour, ended by xf_storage_release_hold(): no timing).
 * Meanwhile every poll returns (a worker that waited would sleep the hour out, and the
 * test time out), nothing is reported, and a STAT put on the ring afterwards is
 * answered: the worker goes on with other work. Once released, the list commits as
 * without the hold.
 */
static void
held_case(const char *tag, enum xf_storage_op op, enum xf_fsync_policy fsync, unsigned int batch)
{
	static const char name[] = "\0same\0";
	struct ccase *cc = calloc(1, sizeof(*cc));
	struct xf_worker *w;
	struct timespec t0;
	struct xf_done d;
	bool answered = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	cc_open_io(cc, tag, fsync, batch, XF_STORAGE_IO_URING);
	w = cc->p->w[0];
	xf_storage_set_hold(w->st, op, 3600ull * 1000000000ull);
	cc->rename_held = op == XF_SOP_RENAME;
	stage(cc);
	put_all(cc);
	start_batch(cc);
	put_uptodate_stat(cc, name);
	xf_pt_start(&t0);
	while (!answered) {
		xf_worker_poll(w);
		while (xf_ring_dequeue_burst(cc->p->to_rx[0][0], &d, 1) == 1) {
			CU_ASSERT_EQUAL(d.type, XF_DONE_STAT);
			CU_ASSERT_EQUAL(d.file, UPTODATE_FILE);
			CU_ASSERT_EQUAL(d.decision, XF_DEC_UPTODATE);
			answered = d.type == XF_DONE_STAT;
		}
		if (xf_pt_expired(&t0)) {
			CU_FAIL_FATAL("the STAT was never answered");
		}
	}
	/* The held step has not completed: the batch is still paused before its reports. */
	CU_ASSERT_EQUAL(cc->reports, 0);
	CU_ASSERT_EQUAL(cc->renamed[0], 0);
	CU_ASSERT_FALSE(xf_worker_idle(w));
	xf_storage_release_hold(w->st);
	pump(cc, NITEM);
	check_done(cc);
	xf_pipeline_destroy(cc->p);
	close(cc->root);
	free(cc);
}

static void
test_held_steps(void)
{
	/* Opening a new parent, making a missing one, the batch's file fsyncs, the chain. */
	held_case("held-open", XF_SOP_OPEN, XF_FSYNC_NONE, 0);
	held_case("held-mkdir", XF_SOP_MKDIR, XF_FSYNC_NONE, 0);
	held_case("held-fsync", XF_SOP_FSYNC, XF_FSYNC_BATCH, 8);
	held_case("held-rename", XF_SOP_RENAME, XF_FSYNC_NONE, 0);
}

static const struct xf_test tests[] = {
	{ "async batches, fsync none: reports after renames, in order", test_order_none },
	{ "async batches, fsync batch", test_order_batch },
	{ "async batches, fsync file", test_order_file },
	{ "a withheld completion: polls return, other work goes on", test_held_steps },
	{ "teardown with a chain in flight", test_teardown_in_flight },
	{ "mkdir and symlink pause the batch, never wait", test_steps_pause },
};

int
main(void)
{
	xf_core_set_self(0); /* the RX core and the worker: both rings' ends */
	return xf_pt_main("pipeline-commit", base_dir, sizeof(base_dir), XF_TESTS(tests));
}
