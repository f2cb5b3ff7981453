/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the pipeline test programs share: a scratch directory for the run, and a
 * one-worker pipeline over a fresh volume in it (the white-box tests drive that worker
 * by hand on their own thread, in the engine's combined mode).
 */
#ifndef XF_PIPELINE_TEST_H
#define XF_PIPELINE_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_pipeline.h"
#include "xf_test.h"
#include "xf_test_tree.h"

/**
 * Run the tests as one suite with a fresh scratch directory, whose path is in dir
 * (size n) while they run, and which is removed afterwards. It is made in
 * XF_TEST_TMPDIR if set, else on tmpfs when /dev/shm is writable (ext4 inode
 * allocation after many deletions made file creation, not the pipeline, dominate the
 * run time), else in /tmp. @return xf_test_main()'s code, 1 if there is no directory.
 */
static inline int
xf_pt_main(const char *suite, char *dir, size_t n, const struct xf_test *tests, size_t nt)
{
	const char *env = getenv("XF_TEST_TMPDIR");
	int rc;

	snprintf(dir, n, "%s/xf-test-%s-XXXXXX",
	         env != NULL                     ? env
	         : access("/dev/shm", W_OK) == 0 ? "/dev/shm"
	                                         : "/tmp",
	         suite);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = xf_test_main(suite, NULL, NULL, tests, nt);
	if (xf_test_rm_tree(dir) != 0) {
		fprintf(stderr, "cleanup of %s failed\n", dir);
	}
	return rc;
}

/**
 * A pipeline of one RX core and one worker on core 0 (both ends of every ring on the
 * test's thread), on storage back end io, over a new volume base/tag (its path in dir,
 * size dn; its fd in *root, the caller closes it). The caller's pc sets the rest
 * (window, fsync, release); this sets the cores, io, max_sessions 1 and root_fd. Fails
 * the test fatally if anything cannot be made.
 */
static inline struct xf_pipeline *
xf_pt_open_io(struct xf_pipeline_conf *pc, const char *base, const char *tag, char *dir, size_t dn,
              int *root, int io)
{
	struct xf_pipeline *p;

	pc->n_rx = 1;
	pc->n_workers = 1;
	pc->rx_core[0] = 0;
	pc->worker_core[0] = 0;
	pc->io = io;
	pc->max_sessions = 1;
	snprintf(dir, dn, "%s/%s", base, tag);
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	*root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(*root >= 0);
	pc->root_fd = *root;
	p = xf_pipeline_create(pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

/** xf_pt_open_io() on the storage back end XF_TEST_IO asks for. */
static inline struct xf_pipeline *
xf_pt_open(struct xf_pipeline_conf *pc, const char *base, const char *tag, char *dir, size_t dn,
           int *root)
{
	return xf_pt_open_io(pc, base, tag, dir, dn, root, xf_test_io());
}

/** Set *t0 to now: the start of a bounded wait. */
static inline void
xf_pt_start(struct timespec *t0)
{
	clock_gettime(CLOCK_MONOTONIC, t0);
}

/** True once 20 s have passed since t0: a wait for the worker fails, never hangs. */
static inline bool
xf_pt_expired(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec > 20;
}

#endif /* XF_PIPELINE_TEST_H */
