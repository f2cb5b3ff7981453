/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the tests of entries' attributes share (test_owner.c, test_xattrs.c): a case on
 * the real pipeline (xf_hostile.h) that ends as test_hostile.c's do, its workers'
 * counters, and a list run to its end with five bytes for each regular file decided
 * WHOLE. CUnit assertions, so only for CUnit programs.
 */
#ifndef XF_ATTR_CASE_H
#define XF_ATTR_CASE_H

#include "xf_csum.h"
#include "xf_hostile.h"
#include "xf_pipeline_priv.h"
#include "xf_pipeline_test.h"

struct xf_acase {
	struct xh h;
	int fds;
};

/* Open the case's volume at base/tag, its sessions' path sets for max_paths (0: the
 * default; its caller then sets the pipeline's conf). */
static inline void
xf_acase_begin_paths(struct xf_acase *c, const char *base, const char *tag, uint32_t max_paths)
{
	char dir[200];

	c->fds = xh_fds();
	snprintf(dir, sizeof(dir), "%s/%s", base, tag);
	CU_ASSERT_FATAL(xh_open_paths(&c->h, dir, 64, 0, xf_test_io(), 1, false, max_paths) == 0);
}

/* xf_acase_begin_paths() with the default bound. */
static inline void
xf_acase_begin(struct xf_acase *c, const char *base, const char *tag)
{
	xf_acase_begin_paths(c, base, tag, 0);
}

/* End pe's session (NULL: none), check nothing is left and a correct session still
 * works, close. */
static inline void
xf_acase_end(struct xf_acase *c, struct xh_peer *pe)
{
	CU_ASSERT(pe == NULL || xh_peer_end(pe, 20000));
	CU_ASSERT_EQUAL(xh_tmp_left(&c->h), 0);
	CU_ASSERT(xh_outside_intact(&c->h));
	CU_ASSERT(xh_good_session(&c->h, 0x0a000001, 4000, 0x600d0001, 20000));
	xh_close(&c->h);
	CU_ASSERT_EQUAL(c->h.frames_live, 0);
	CU_ASSERT_EQUAL(xh_fds(), c->fds);
}

static inline struct xf_pipeline_times
xf_acase_times(struct xf_acase *c)
{
	struct xf_pipeline_times t;

	xf_pipeline_times(c->h.p, &t);
	return t;
}

/* The list, then five bytes for each regular file in reg[] once it is decided WHOLE,
 * and the session run to its end. */
static inline void
xf_acase_run(struct xf_acase *c, struct xh_peer *pe, const struct xf_flist_entry *e, unsigned int n,
             const uint32_t *reg, unsigned int nreg)
{
	CU_ASSERT_EQUAL_FATAL(xh_flist(pe, 0, e, n, true), 0);
	for (unsigned int i = 0; i < nreg; i++) {
		CU_ASSERT(xh_wait_decided(pe, reg[i], 20000));
		if (pe->dec[reg[i]] == XF_DEC_WHOLE) {
			CU_ASSERT_EQUAL(xh_data(pe, reg[i], 0, "fives", 5), 0);
			CU_ASSERT_EQUAL(xh_file_end(pe, reg[i], 5, xf_csum_crc64(0, "fives", 5)),
			                0);
		}
	}
	CU_ASSERT(xh_until(&c->h, xh_done_or_aborted, pe, 20000));
	CU_ASSERT_TRUE(pe->done);
	CU_ASSERT_FALSE(pe->aborted);
}

#endif /* XF_ATTR_CASE_H */
