/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Removing a test's scratch tree: every test program that makes one (CUnit or fuzzer).
 */
#ifndef XF_TEST_TREE_H
#define XF_TEST_TREE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int
xf_test_rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/** Remove dir and everything below it, never following a symlink. @return 0 or -1. */
static inline int
xf_test_rm_tree(const char *dir)
{
	return nftw(dir, xf_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* XF_TEST_TREE_H */
