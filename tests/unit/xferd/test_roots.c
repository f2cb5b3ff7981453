/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control.push_roots (control/xferd/xferd_roots.c): a push source must resolve beneath
 * a configured root; no root refuses every push; symlinks and ".." do not lead out, a
 * sibling sharing a root's prefix is not beneath it, and a root named through a symlink
 * still matches.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_config.h"
#include "xferd_roots.h"

static char top[256];
static struct xf_config *cfg;

static const char *
at(const char *rel)
{
	static char buf[4][PATH_MAX];
	static unsigned int k;
	char *b = buf[k++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", top, rel);
	return b;
}

static int
setup(void)
{
	char *t = realpath("/tmp", NULL);

	snprintf(top, sizeof(top), "%s/xf-roots.XXXXXX", t != NULL ? t : "/tmp");
	free(t);
	if (mkdtemp(top) == NULL) {
		return -1;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || mkdir(at("allowed"), 0700) < 0 || mkdir(at("allowed/sub"), 0700) < 0 ||
	    mkdir(at("allowedX"), 0700) < 0 || mkdir(at("other"), 0700) < 0 ||
	    symlink("/etc", at("allowed/etc")) < 0 || symlink("allowed", at("rootlink")) < 0) {
		return -1;
	}
	return 0;
}

static int
cleanup(void)
{
	char cmd[PATH_MAX + 16];

	free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
roots(unsigned int n, const char *a, const char *b)
{
	cfg->control.n_push_roots = n;
	snprintf(cfg->control.push_roots[0], XF_CONFIG_PATH_MAX, "%s", a != NULL ? a : "");
	snprintf(cfg->control.push_roots[1], XF_CONFIG_PATH_MAX, "%s", b != NULL ? b : "");
}

static int
check(const char *src, char *resolved, char *err)
{
	return xferd_push_root_check(cfg, src, resolved, err, 512);
}

static void
test_no_roots(void)
{
	char resolved[PATH_MAX], err[512];

	roots(0, NULL, NULL);
	CU_ASSERT_EQUAL(check(at("allowed"), resolved, err), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "control.push_roots is empty"));
}

static void
test_beneath(void)
{
	char resolved[PATH_MAX], err[512];

	roots(2, at("other"), at("allowed"));
	CU_ASSERT_EQUAL(check(at("allowed"), resolved, err), 0);
	CU_ASSERT_STRING_EQUAL(resolved, at("allowed"));
	CU_ASSERT_EQUAL(check(at("allowed/sub"), resolved, err), 0);
	CU_ASSERT_STRING_EQUAL(resolved, at("allowed/sub"));
	CU_ASSERT_EQUAL(check(at("allowed/sub/../sub"), resolved, err), 0);
	CU_ASSERT_STRING_EQUAL(resolved, at("allowed/sub")); /* the engine gets this one */
}

static void
test_outside(void)
{
	char resolved[PATH_MAX], err[512];

	roots(1, at("allowed"), NULL);
	/* a sibling sharing the prefix */
	CU_ASSERT_EQUAL(check(at("allowedX"), resolved, err), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not beneath any of control.push_roots"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, at("allowed")));
	/* '..' out of the root, a symlink out of it */
	CU_ASSERT_EQUAL(check(at("allowed/../other"), resolved, err), -EPERM);
	CU_ASSERT_EQUAL(check(at("allowed/etc"), resolved, err), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "(resolved: '/etc')"));
	CU_ASSERT_EQUAL(check("/etc", resolved, err), -EPERM);
	/* a source that does not exist says so */
	CU_ASSERT_EQUAL(check(at("allowed/none"), resolved, err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

static void
test_root_forms(void)
{
	char resolved[PATH_MAX], err[512];

	/* a root named through a symlink matches what it leads to */
	roots(1, at("rootlink"), NULL);
	CU_ASSERT_EQUAL(check(at("allowed/sub"), resolved, err), 0);
	/* a root that does not exist allows nothing */
	roots(1, at("gone"), NULL);
	CU_ASSERT_EQUAL(check(at("allowed"), resolved, err), -EPERM);
	/* "/" allows everything: the operator's explicit choice */
	roots(1, "/", NULL);
	CU_ASSERT_EQUAL(check("/etc", resolved, err), 0);
}

static const struct xf_test tests[] = {
	{ "no roots: every push refused", test_no_roots },
	{ "beneath a root", test_beneath },
	{ "outside every root", test_outside },
	{ "root through a symlink, missing root, /", test_root_forms },
};

int
main(void)
{
	return xf_test_main("xferd-roots", setup, cleanup, XF_TESTS(tests));
}
