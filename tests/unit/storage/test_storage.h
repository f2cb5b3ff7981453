/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What test_storage.c and test_storage_backends.c share: the volume the suites set up,
 * the back end under test and the driver calls most cases start from.
 */
#ifndef TEST_STORAGE_H
#define TEST_STORAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <CUnit/Basic.h>

#include "xf_storage.h"

#define BLK 4096u

extern char vol_dir[PATH_MAX];
extern int vol_fd;
extern enum xf_storage_io g_io;
extern uint32_t g_route; /* io_uring: the operations run inline (xf_storage_set_route) */
extern bool g_uring;     /* false: this kernel refuses io_uring */

static inline struct xf_storage *
new_storage(unsigned int depth)
{
	struct xf_storage *st = xf_storage_create(vol_fd, depth, g_io);

	CU_ASSERT_PTR_NOT_NULL(st);
	CU_ASSERT(st == NULL || xf_storage_io(st) == g_io);
	if (st != NULL && g_io == XF_STORAGE_IO_URING) {
		CU_ASSERT_EQUAL(xf_storage_set_route(st, g_route), 0);
	}
	return st;
}

/* Submit what is queued and return the one completion expected. */
static inline struct xf_storage_cqe
one(struct xf_storage *st)
{
	struct xf_storage_cqe c = { .tag = UINT64_MAX, .res = INT32_MIN, .op = 0 };

	CU_ASSERT_EQUAL(xf_storage_wait(st, &c, 1, 1), 1);
	return c;
}

/* Open through the driver; the fd, or -errno. */
static inline int
sopen(struct xf_storage *st, int dir_fd, const char *path, int flags, mode_t mode)
{
	struct xf_storage_cqe c;

	CU_ASSERT_EQUAL(xf_storage_prep_open(st, dir_fd, path, flags, mode, 42), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_OPEN);
	CU_ASSERT_EQUAL(c.tag, 42u);
	return c.res;
}

static inline int
sclose(struct xf_storage *st, int fd)
{
	struct xf_storage_cqe c;

	CU_ASSERT_EQUAL(xf_storage_prep_close(st, fd, 7), 0);
	c = one(st);
	CU_ASSERT_EQUAL(c.op, XF_SOP_CLOSE);
	return c.res;
}

/* test_storage_backends.c */
void test_chain_waits(void);
void test_auto(void);
void test_inline_budget(void);
void test_clone_and_copy_range(void);
void test_hold(void);
void test_auto_route(void);
void test_route_split(void);
void test_route_chain(void);
void test_sync_range(void);

#endif /* TEST_STORAGE_H */
