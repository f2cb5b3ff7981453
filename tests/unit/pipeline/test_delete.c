/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --delete's walk, white box: it deletes what the set of the list's paths (xf_pathset,
 * tested in test_pathset.c) lacks (xf_delete), on a scratch tree with symlinks out of the "volume",
 * the staging directory's name, --max-delete, a dry run, cancellation and a destination
 * that is a symlink. The walk is driven one entry per step, so every test also checks
 * that it resumes where it stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"
#include "xf_test_tree.h"

#include "xf_delete.h"
#include "xf_filter.h"
#include "xf_pathset.h"
#include "xf_proto.h"

static char base[256];                      /* scratch: vol/ (the volume) and out/ (outside it) */
static const struct xf_filter *run_protect; /* the next run()'s protect rules */
static int vol_fd = -1;

static void
put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void
dir(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0755), 0);
}

static void
link_to(const char *target_rel, const char *rel)
{
	char p[512], t[512];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	snprintf(t, sizeof(t), "%s/%s", base, target_rel);
	CU_ASSERT_EQUAL_FATAL(symlink(t, p), 0);
}

static bool
exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return lstat(p, &st) == 0;
}

/*
 * vol/d/                 the destination
 *   keep, kdir/k         in the list
 *   kdir/x, xfile        extra files
 *   kdir/outlink         extra symlink to out/ (a directory outside)
 *   outfile              extra symlink to out/secret
 *   xdir/a, xdir/b/c     an extra tree (5 entries with its directories)
 *   .XFERD/s             the staging directory's name, in any case: never touched
 * out/secret, out/sub/f  outside the volume
 * Extraneous: kdir/x, kdir/outlink, xfile, outfile, xdir/a, xdir/b/c, xdir/b, xdir = 8.
 */
static void
make_tree(struct xf_pathset *keep)
{
	static const char *const listed[] = { "d", "d/keep", "d/kdir", "d/kdir/k" };
	char p[512];

	snprintf(base, sizeof(base), "%s/xf-delete.XXXXXX",
	         getenv("XF_TEST_TMPDIR") != NULL ? getenv("XF_TEST_TMPDIR") : "/tmp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(base));
	dir("vol");
	dir("out");
	dir("out/sub");
	put("out/secret", "s");
	put("out/sub/f", "f");
	dir("vol/d");
	put("vol/d/keep", "k");
	dir("vol/d/kdir");
	put("vol/d/kdir/k", "k");
	put("vol/d/kdir/x", "x");
	put("vol/d/xfile", "x");
	link_to("out", "vol/d/kdir/outlink");
	link_to("out/secret", "vol/d/outfile");
	dir("vol/d/xdir");
	put("vol/d/xdir/a", "a");
	dir("vol/d/xdir/b");
	put("vol/d/xdir/b/c", "c");
	dir("vol/d/.XFERD");
	put("vol/d/.XFERD/s", "s");
	snprintf(p, sizeof(p), "%s/vol", base);
	vol_fd = open(p, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(vol_fd >= 0);
	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(keep, 1024), 0);
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		CU_ASSERT_EQUAL(xf_pathset_add(keep, listed[i], strlen(listed[i])), 0);
	}
}

static void
drop_tree(struct xf_pathset *keep)
{
	xf_pathset_release(keep);
	close(vol_fd);
	vol_fd = -1;
	CU_ASSERT_EQUAL(xf_test_rm_tree(base), 0);
}

static void
outside_intact(void)
{
	CU_ASSERT(exists("out/secret"));
	CU_ASSERT(exists("out/sub/f"));
	CU_ASSERT(exists("vol/d/.XFERD/s"));
}

struct seen {
	unsigned int n, dirs;
	bool xdir_last; /* the extra tree's directory came after its contents */
};

static void
on_item(void *arg, const char *path, size_t len, bool is_dir)
{
	struct seen *s = arg;

	s->n++;
	s->dirs += is_dir;
	CU_ASSERT_PTR_NOT_NULL(path);
	CU_ASSERT_EQUAL(strlen(path), len);
	if (path != NULL && strcmp(path, "d/xdir") == 0) {
		s->xdir_last = s->n >= 4; /* after xdir/a, xdir/b/c, xdir/b */
	}
}

/* Run a walk one entry per step to its end. */
static void
run(const char *dest, const struct xf_pathset *keep, uint32_t max, bool dry,
    struct xf_delete_result *r, struct seen *seen)
{
	struct xf_delete_conf c = { .root_fd = vol_fd,
		                    .dest = dest,
		                    .dest_len = strlen(dest),
		                    .keep = keep,
		                    .protect = run_protect,
		                    .max_delete = max,
		                    .dry = dry,
		                    .item = on_item,
		                    .item_arg = seen };
	struct xf_delete *d = xf_delete_start(&c);
	unsigned int steps = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while (!xf_delete_step(d, 1)) {
		CU_ASSERT_FATAL(++steps < 1000);
	}
	xf_delete_result(d, r);
	xf_delete_free(d);
}

static void
test_walk(void)
{
	struct xf_pathset keep;
	struct xf_delete_result r;
	struct seen seen = { 0 };

	make_tree(&keep);
	run("d", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	CU_ASSERT_EQUAL(r.status, XF_DEL_OK);
	CU_ASSERT_EQUAL(r.deleted, 8);
	CU_ASSERT_EQUAL(r.kept, 0);
	CU_ASSERT_EQUAL(seen.n, 8);
	CU_ASSERT_EQUAL(seen.dirs, 2);
	CU_ASSERT(seen.xdir_last);
	CU_ASSERT(exists("vol/d/keep"));
	CU_ASSERT(exists("vol/d/kdir/k"));
	CU_ASSERT_FALSE(exists("vol/d/kdir/x"));
	CU_ASSERT_FALSE(exists("vol/d/kdir/outlink"));
	CU_ASSERT_FALSE(exists("vol/d/outfile"));
	CU_ASSERT_FALSE(exists("vol/d/xfile"));
	CU_ASSERT_FALSE(exists("vol/d/xdir"));
	outside_intact();
	drop_tree(&keep);
}

/*
 * Protect rules (the sender's filter, XF_HELLO_F_FILTERS): an excluded extraneous entry
 * stays, and so do the directories above it, unentered if it is one; rules match paths
 * relative to the destination; a rule for directories does not match a symlink.
 */
static void
test_protect(void)
{
	static const char *const rules[] = { "- x", "- c", "- outfile/", "- /xfile", "- /k" };
	struct xf_filter *f = xf_filter_new();
	struct xf_pathset keep;
	struct xf_delete_result r;
	struct seen seen = { 0 };
	char why[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(xf_filter_add(f, XF_FILTER_FORM_RULE, rules[i],
		                                    strlen(rules[i]), why, sizeof(why)),
		                      0);
	}
	make_tree(&keep);
	put("vol/d/xdir/b/k", "k"); /* /k is anchored at d: this one goes */
	run_protect = f;
	run("d", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	run_protect = NULL;
	CU_ASSERT_EQUAL(r.status, XF_DEL_OK);
	/* kdir/outlink, outfile (a symlink, not a directory), xdir/a, xdir/b/k */
	CU_ASSERT_EQUAL(r.deleted, 4);
	CU_ASSERT_EQUAL(seen.n, 4);
	CU_ASSERT_EQUAL(seen.dirs, 0);
	CU_ASSERT_EQUAL(r.kept, 0);
	/* kdir/x, xfile, xdir/b/c, and xdir/b and xdir above it */
	CU_ASSERT_EQUAL(r.protected_n, 5);
	CU_ASSERT(exists("vol/d/kdir/x"));
	CU_ASSERT(exists("vol/d/xfile"));
	CU_ASSERT(exists("vol/d/xdir/b/c"));
	CU_ASSERT_FALSE(exists("vol/d/xdir/a"));
	CU_ASSERT_FALSE(exists("vol/d/xdir/b/k"));
	CU_ASSERT_FALSE(exists("vol/d/outfile"));
	CU_ASSERT_FALSE(exists("vol/d/kdir/outlink"));
	CU_ASSERT(exists("vol/d/keep"));
	outside_intact();
	drop_tree(&keep);

	/* An excluded directory is not entered: its extraneous contents stay. */
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- xdir/", 7, why, sizeof(why)), 0);
	make_tree(&keep);
	run_protect = f;
	run("d", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	run_protect = NULL;
	CU_ASSERT_EQUAL(r.protected_n, 3); /* kdir/x, xfile, xdir */
	CU_ASSERT(exists("vol/d/xdir/a"));
	CU_ASSERT(exists("vol/d/xdir/b/c"));
	drop_tree(&keep);
	xf_filter_free(f);
}

static void
test_limit_and_dry(void)
{
	struct xf_pathset keep;
	struct xf_delete_result r;
	struct seen seen = { 0 };

	make_tree(&keep);
	run("d", &keep, 8, true, &r, &seen); /* dry: counts all, removes nothing */
	CU_ASSERT_EQUAL(r.status, XF_DEL_OK);
	CU_ASSERT_EQUAL(r.deleted, 8);
	CU_ASSERT(exists("vol/d/xdir/b/c"));
	CU_ASSERT(exists("vol/d/xfile"));
	CU_ASSERT(exists("vol/d/kdir/outlink"));
	memset(&seen, 0, sizeof(seen));
	run("d", &keep, 3, false, &r, &seen);
	CU_ASSERT_EQUAL(r.status, XF_DEL_LIMIT);
	CU_ASSERT_EQUAL(r.deleted, 3);
	CU_ASSERT_EQUAL(r.kept, 5);
	CU_ASSERT_EQUAL(seen.n, 3);
	memset(&seen, 0, sizeof(seen));
	run("d", &keep, 0, false, &r, &seen);
	CU_ASSERT_EQUAL(r.status, XF_DEL_LIMIT);
	CU_ASSERT_EQUAL(r.deleted, 0);
	CU_ASSERT_EQUAL(r.kept, 5);
	run("d", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	CU_ASSERT_EQUAL(r.deleted, 5);
	CU_ASSERT_FALSE(exists("vol/d/xdir"));
	outside_intact();
	drop_tree(&keep);
}

/* The destination, or the volume root, reached through a symlink: nothing is walked. */
static void
test_dest_symlink(void)
{
	struct xf_pathset keep;
	struct xf_delete_result r;
	struct seen seen = { 0 };

	make_tree(&keep);
	link_to("out", "vol/dl");
	run("dl", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	CU_ASSERT_EQUAL(r.status, XF_DEL_ERROR);
	CU_ASSERT_EQUAL(r.deleted, 0);
	run("missing", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	CU_ASSERT_EQUAL(r.status, XF_DEL_OK); /* nothing there: nothing to delete */
	CU_ASSERT_EQUAL(r.deleted, 0);
	CU_ASSERT_EQUAL(seen.n, 0);
	/* The volume root as the destination: only the list's top entry "d" is kept. */
	run("", &keep, XF_DELETE_UNLIMITED, false, &r, &seen);
	CU_ASSERT_EQUAL(r.status, XF_DEL_OK);
	CU_ASSERT_EQUAL(r.deleted, 9); /* the 8 below d, and the symlink dl */
	CU_ASSERT_FALSE(exists("vol/dl"));
	outside_intact();
	drop_tree(&keep);
}

/*
 * Directories swapped for symlinks out of the volume after the walk listed them (readdir
 * buffered their entries, DT_DIR included, at its first step): each is removed as the
 * symlink it now is, never entered, so nothing outside changes.
 */
static void
test_swapped_dir(void)
{
	struct xf_pathset keep, small;
	struct xf_delete_conf c = { .dest = "d", .dest_len = 1, .max_delete = XF_DELETE_UNLIMITED };
	struct xf_delete_result r;
	struct xf_delete *d;
	char p[512];

	make_tree(&keep);
	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(&small, 16), 0); /* kdir, xdir extraneous now */
	CU_ASSERT_EQUAL(xf_pathset_add(&small, "d/keep", 6), 0);
	c.root_fd = vol_fd;
	c.keep = &small;
	d = xf_delete_start(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_FALSE(xf_delete_step(d, 1));
	for (const char *const *n = (const char *const[]){ "kdir", "xdir", NULL }; *n != NULL;
	     n++) {
		char rel[64];

		snprintf(p, sizeof(p), "%s/vol/d/%s", base, *n);
		snprintf(rel, sizeof(rel), "vol/d/%s", *n);
		if (exists(rel)) {
			struct stat st;

			CU_ASSERT_EQUAL(lstat(p, &st), 0);
			if (S_ISDIR(st.st_mode)) {
				CU_ASSERT_EQUAL(xf_test_rm_tree(p), 0);
				link_to("out", rel);
			}
		}
	}
	while (!xf_delete_step(d, 1)) {
	}
	xf_delete_result(d, &r);
	xf_delete_free(d);
	/* The first step may have entered one of them before its swap (readdir's order is
	 * the file system's): that one's directory fd was walked, and its removal then
	 * finds a symlink (ENOTDIR: an error, kept). The other was swapped while listed. */
	CU_ASSERT(r.status == XF_DEL_OK || r.status == XF_DEL_ERROR);
	CU_ASSERT(!exists("vol/d/kdir") || !exists("vol/d/xdir"));
	CU_ASSERT(exists("vol/d/keep"));
	outside_intact();
	xf_pathset_release(&small);
	drop_tree(&keep);
}

static void
test_cancel(void)
{
	struct xf_pathset keep;
	struct xf_delete_conf c = { .dest = "d", .dest_len = 1, .max_delete = XF_DELETE_UNLIMITED };
	struct xf_delete_result r;
	struct xf_delete *d;

	make_tree(&keep);
	c.root_fd = vol_fd;
	c.keep = &keep;
	d = xf_delete_start(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	xf_delete_cancel(d);
	CU_ASSERT(xf_delete_step(d, 1));
	xf_delete_result(d, &r);
	xf_delete_free(d);
	CU_ASSERT_EQUAL(r.deleted, 0);
	CU_ASSERT(exists("vol/d/xdir/b/c"));
	drop_tree(&keep);
}

static const struct xf_test tests[] = {
	{ "walk: extra files, trees and symlinks out; staging name kept", test_walk },
	{ "protect rules keep what they exclude, and the directories above", test_protect },
	{ "dry run and --max-delete (0, partial, the rest)", test_limit_and_dry },
	{ "destination through a symlink, missing, the volume root", test_dest_symlink },
	{ "directories swapped for symlinks out after listing: not entered", test_swapped_dir },
	{ "cancelled walk deletes nothing more", test_cancel },
};

int
main(void)
{
	return xf_test_main("delete", NULL, NULL, XF_TESTS(tests));
}
